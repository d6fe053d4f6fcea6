//! The later generation's canonical codes (docs/contract.md §12.7) and the catalogue entries they
//! stand for. Every code that names a catalogue entry is translated through the domain's
//! catalogues (`factus_domain::catalog`), the same tables the Factus v2 translation uses, so the
//! ids sent to Factus v1 and the DIAN codes sent to v2 come from one place.

use factus_domain::catalog::{self, Catalog, Entry};

/// A later code and the DIAN code of the catalogue entry it names.
pub type Alias = (&'static str, &'static str);

/// Identity document types, in the order of the reference tables (the catalogue's order).
pub const IDENTIFICATION_DOCUMENTS: &[Alias] = &[
    ("RC", "11"),
    ("TI", "12"),
    ("CC", "13"),
    ("TE", "21"),
    ("CE", "22"),
    ("NIT", "31"),
    ("PASAPORTE", "41"),
    ("DIE", "42"),
    ("PEP", "47"),
    ("NIT_EXTRANJERO", "50"),
    ("NUIP", "91"),
];

/// The document types an invoice's customer or mandate may have: the later original's enum
/// leaves out `DIE` and `PEP`, which its reference tables list.
pub const INVOICE_DOCUMENT_TYPES: &[&str] =
    &["CC", "NIT", "CE", "TI", "PASAPORTE", "RC", "TE", "NIT_EXTRANJERO", "NUIP"];

/// `organization_type`.
pub const LEGAL_ORGANIZATIONS: &[Alias] = &[("company", "1"), ("person", "2")];

/// A customer's `tribute`. The later original sends `INC` and `IVA_INC` as "no aplica" (its
/// fallback, docs/contract.md §12.7): Factus' customer tributes are only IVA and no aplica.
pub const CUSTOMER_TRIBUTES: &[Alias] = &[("IVA", "01"), ("ZZ", "ZZ"), ("INC", "ZZ"), ("IVA_INC", "ZZ")];

/// The customer tributes the reference tables list.
pub const LISTED_CUSTOMER_TRIBUTES: &[&str] = &["IVA", "ZZ"];

/// An item's `tribute`. `IVA_INC` is IVA, as in the later original; `ZZ` is accepted by its
/// enum but names no product tribute of Factus, so it is refused (see [`ITEM_TRIBUTE_CODES`]).
pub const ITEM_TRIBUTES: &[Alias] = &[("IVA", "01"), ("INC", "04"), ("IVA_INC", "01")];

/// Every value of the item's `tribute` enum, for the message of a refused one.
pub const ITEM_TRIBUTE_CODES: &[&str] = &["IVA", "ZZ", "INC", "IVA_INC"];

/// `standard_code`: the later original's `1`…`4`, the catalogue's ids.
pub const STANDARD_CODES: &[Alias] = &[("1", "999"), ("2", "001"), ("3", "020"), ("4", "010")];

/// `unit_measure_code` values that are not DIAN codes: the later original takes `70` (Factus v1's
/// id of unidad) for unidad as well.
pub const UNIT_ALIASES: &[Alias] = &[("70", "94")];

/// `payment_method_code` aliases and the DIAN payment means they stand for, with the names of
/// the reference tables. Any other value is sent unchanged.
pub const PAYMENT_METHODS: &[(&str, &str, &str)] = &[
    ("cash_payment", "10", "Efectivo"),
    ("transfer", "47", "Consignación / Transferencia"),
    ("check", "20", "Cheque"),
    ("debit_card", "49", "Tarjeta Débito"),
    ("credit_card", "48", "Tarjeta Crédito"),
    ("cash_savings", "42", "Ahorro"),
    ("other", "ZZZ", "Otro"),
];

/// `payment_form`: the later code, the seed's code, the reference tables' name.
pub const PAYMENT_FORMS: &[(&str, &str, &str)] = &[("cash", "1", "Pago de contado"), ("credit", "2", "Pago a crédito")];

/// `document_type` of an invoice and the Factus `document` code it is sent as.
pub const DOCUMENT_TYPES: &[Alias] = &[("invoice", "01"), ("export", "02")];

/// The reference tables' `document_types` (which do not match the request's enum: the later
/// original lists `03` and no `02`).
pub const LISTED_DOCUMENT_TYPES: &[(&str, &str)] =
    &[("01", "Factura electrónica de venta"), ("03", "Instrumento electrónico de transmisión - tipo 03")];

/// The DIAN code a later code stands for in `table`.
#[must_use]
pub fn dian_code(table: &[Alias], code: &str) -> Option<&'static str> {
    table.iter().find(|(alias, _)| *alias == code).map(|(_, dian)| *dian)
}

/// The catalogue entry a later code stands for.
#[must_use]
pub fn entry(table: &[Alias], catalog: &'static Catalog, code: &str) -> Option<&'static Entry> {
    dian_code(table, code).and_then(|dian| catalog.by_code(dian))
}

/// The Factus v1 id of a document type code (`CC` → 3), for the acquirer lookup.
#[must_use]
pub fn identification_document_id(code: &str) -> Option<i64> {
    entry(IDENTIFICATION_DOCUMENTS, catalog::identification_documents(), code).map(Entry::id)
}

/// `'a', 'b'`: the values of an enum, as a message lists them.
#[must_use]
pub fn quoted(values: impl IntoIterator<Item = &'static str>) -> String {
    values.into_iter().map(|value| format!("'{value}'")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_alias_names_an_entry_of_its_catalogue() {
        let tables: [(&[Alias], &Catalog); 6] = [
            (IDENTIFICATION_DOCUMENTS, catalog::identification_documents()),
            (LEGAL_ORGANIZATIONS, catalog::legal_organizations()),
            (CUSTOMER_TRIBUTES, catalog::customer_tributes()),
            (ITEM_TRIBUTES, catalog::product_tributes()),
            (STANDARD_CODES, catalog::standard_codes()),
            (UNIT_ALIASES, catalog::unit_measures()),
        ];
        for (table, catalog) in tables {
            for (alias, _) in table {
                assert!(entry(table, catalog, alias).is_some(), "{alias} in {}", catalog.label());
            }
        }
    }

    #[test]
    fn the_later_codes_name_the_factus_v1_ids_of_the_later_original() {
        let ids: Vec<i64> =
            IDENTIFICATION_DOCUMENTS.iter().map(|(code, _)| identification_document_id(code).expect("an id")).collect();
        assert_eq!(ids, (1..=11).collect::<Vec<_>>());
        let id = |table, catalog, code| entry(table, catalog, code).map(Entry::id);
        assert_eq!(id(LEGAL_ORGANIZATIONS, catalog::legal_organizations(), "company"), Some(1));
        assert_eq!(id(CUSTOMER_TRIBUTES, catalog::customer_tributes(), "IVA"), Some(18));
        assert_eq!(id(CUSTOMER_TRIBUTES, catalog::customer_tributes(), "INC"), Some(21));
        assert_eq!(id(ITEM_TRIBUTES, catalog::product_tributes(), "INC"), Some(4));
        assert_eq!(id(STANDARD_CODES, catalog::standard_codes(), "3"), Some(3));
        assert_eq!(id(UNIT_ALIASES, catalog::unit_measures(), "70"), Some(70));
        assert_eq!(identification_document_id("cc"), None);
    }
}
