//! The later generation's provider-neutral invoice (`docs/contract.md` §12.6): the same reader
//! and domain checks as the seed's invoice ([`parse_with`]), in the later [`Dialect`]. Its codes
//! (`CC`, `person`, `IVA`, `94`, `05001`, …) become catalogue entries through
//! [`crate::later::codes`] and the domain catalogues, so the invoice that reaches the use case is
//! the same domain `Invoice` a `/api/v1` client would have sent.
//!
//! The numbering range is named by its prefix; it is resolved at Factus after the body is
//! checked (a malformed body never costs a Factus call), then set on the invoice.

use factus_domain::catalog::{self, Catalog};
use factus_domain::invoice::Invoice;
use serde_json::Value;

use crate::error::ApiError;
use crate::invoices::request::{
    Dialect, Header, PLACEHOLDER_CUSTOMER_TRIBUTE_ID, PLACEHOLDER_DOCUMENT_ID, PLACEHOLDER_LEGAL_ORGANIZATION_ID,
    PLACEHOLDER_PRODUCT_TRIBUTE_ID, PLACEHOLDER_STANDARD_CODE_ID, PLACEHOLDER_UNIT_MEASURE_ID, parse_with,
    resolve_code,
};
use crate::later::codes::{self, Alias};
use crate::validation::{Errors, FieldError, FieldKind, Fields, reads};

/// A checked invoice of the later generation, not yet numbered.
#[derive(Debug)]
pub struct LaterInvoice {
    /// `numbering_range_prefix`: the prefix of the active range to number it from.
    pub numbering_range_prefix: String,
    /// The invoice, without a numbering range until the prefix is resolved.
    pub invoice: Invoice,
}

/// Reads and checks the later generation's create-invoice body.
///
/// # Errors
/// [`ApiError::Validation`] (422) with every problem: the later original answers its model's
/// rules (credit needs a due date, a NIT needs a DV, …) with 422 as well, in its own words.
pub fn read_invoice(body: &Value) -> Result<LaterInvoice, ApiError> {
    let mut dialect = Later { numbering_range_prefix: None };
    let invoice = parse_with(body, &mut dialect).map_err(|error| match error {
        ApiError::BusinessRules(rules) => ApiError::Validation(rules.into_iter().map(in_later_words).collect()),
        other => other,
    })?;
    let numbering_range_prefix = dialect
        .numbering_range_prefix
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("a checked later invoice lacks its prefix")))?;
    Ok(LaterInvoice { numbering_range_prefix, invoice })
}

/// A rule as the later original words it: credit is `'credit'` there, not `2`.
fn in_later_words(mut rule: FieldError) -> FieldError {
    rule.msg = rule.msg.replace("payment_form es 2 (crédito)", "payment_form es 'credit'");
    rule
}

/// The later generation's dialect; remembers the prefix it read.
struct Later {
    numbering_range_prefix: Option<String>,
}

/// The value of an enum field when it is one of `values`; `None` when absent (recorded when
/// `required`) or another value (recorded with the permitted ones).
fn choice(
    fields: &Fields<'_>,
    key: &'static str,
    values: &[&'static str],
    required: bool,
    errors: &mut Errors,
) -> Option<&'static str> {
    let loc = fields.loc().key(key);
    reads::note(&loc, FieldKind::Str, required);
    let Some(raw) = fields.raw(key) else {
        if required {
            errors.push(FieldError::missing(loc));
        }
        return None;
    };
    let found = raw.as_str().and_then(|text| values.iter().find(|value| **value == text).copied());
    if found.is_none() {
        errors.push(FieldError::new(
            loc,
            format!("value is not a valid enumeration member; permitted: {}", codes::quoted(values.iter().copied())),
            "type_error.enum",
        ));
    }
    found
}

/// The v1 id of the entry an enum field names through `table`, or `placeholder`.
fn catalogue_choice(
    fields: &Fields<'_>,
    key: &'static str,
    (table, catalog): (&[Alias], &'static Catalog),
    values: &[&'static str],
    placeholder: i64,
    errors: &mut Errors,
) -> i64 {
    choice(fields, key, values, true, errors)
        .and_then(|value| codes::entry(table, catalog, value))
        .map_or(placeholder, |entry| entry.id())
}

/// [`catalogue_choice`] among every alias of `table`.
fn aliased_choice(
    fields: &Fields<'_>,
    key: &'static str,
    (table, catalog): (&[Alias], &'static Catalog),
    placeholder: i64,
    errors: &mut Errors,
) -> i64 {
    let values: Vec<&'static str> = table.iter().map(|(alias, _)| *alias).collect();
    catalogue_choice(fields, key, (table, catalog), &values, placeholder, errors)
}

/// The v1 id of the catalogue entry a code field names (a DIAN code, or one of the later
/// original's `aliases` of one), or `placeholder`.
fn code_field(
    fields: &Fields<'_>,
    key: &'static str,
    aliases: &[Alias],
    catalog: &'static Catalog,
    placeholder: i64,
    errors: &mut Errors,
) -> i64 {
    let Some(code) = fields.required_str(key, errors) else { return placeholder };
    let dian = codes::dian_code(aliases, &code).unwrap_or(&code);
    resolve_code(fields, key, dian, catalog, errors).map_or(placeholder, |entry| entry.id())
}

fn keys(table: &[(&'static str, &'static str, &'static str)]) -> Vec<&'static str> {
    table.iter().map(|(key, _, _)| *key).collect()
}

impl Dialect for Later {
    fn header(&mut self, fields: &Fields<'_>, errors: &mut Errors) -> Header {
        self.numbering_range_prefix = fields.required_str("numbering_range_prefix", errors);
        let document_types: Vec<&'static str> = codes::DOCUMENT_TYPES.iter().map(|(key, _)| *key).collect();
        let document = choice(fields, "document_type", &document_types, false, errors)
            .and_then(|kind| codes::dian_code(codes::DOCUMENT_TYPES, kind));
        let reference_code = fields.required_str("reference_code", errors);
        let observation = fields.optional_str("observation", errors);
        let payment_method_code = fields.optional_str("payment_method_code", errors).map(|code| {
            let code = code.trim();
            codes::PAYMENT_METHODS
                .iter()
                .find(|(alias, _, _)| *alias == code)
                .map_or_else(|| code.to_owned(), |(_, dian, _)| (*dian).to_owned())
        });
        let payment_form = choice(fields, "payment_form", &keys(codes::PAYMENT_FORMS), false, errors)
            .and_then(|form| codes::PAYMENT_FORMS.iter().find(|(key, _, _)| *key == form))
            .map(|(_, seed, _)| (*seed).to_owned());
        Header {
            numbering_range_id: None,
            document: document.map(str::to_owned),
            reference_code,
            observation,
            payment_method_code,
            payment_form,
        }
    }

    fn identification_document_id(&self, fields: &Fields<'_>, errors: &mut Errors) -> i64 {
        catalogue_choice(
            fields,
            "document_type",
            (codes::IDENTIFICATION_DOCUMENTS, catalog::identification_documents()),
            codes::INVOICE_DOCUMENT_TYPES,
            PLACEHOLDER_DOCUMENT_ID,
            errors,
        )
    }

    /// A DANE code through the catalogue; an empty one counts as absent, as in the later original.
    fn customer_municipality_id(&self, fields: &Fields<'_>, errors: &mut Errors) -> Option<i64> {
        let code = fields.optional_str("municipality_code", errors).filter(|code| !code.is_empty())?;
        resolve_code(fields, "municipality_code", &code, catalog::municipalities(), errors).map(|entry| entry.id())
    }

    fn legal_organization_id(&self, fields: &Fields<'_>, errors: &mut Errors) -> i64 {
        aliased_choice(
            fields,
            "organization_type",
            (codes::LEGAL_ORGANIZATIONS, catalog::legal_organizations()),
            PLACEHOLDER_LEGAL_ORGANIZATION_ID,
            errors,
        )
    }

    fn customer_tribute_id(&self, fields: &Fields<'_>, errors: &mut Errors) -> i64 {
        aliased_choice(
            fields,
            "tribute",
            (codes::CUSTOMER_TRIBUTES, catalog::customer_tributes()),
            PLACEHOLDER_CUSTOMER_TRIBUTE_ID,
            errors,
        )
    }

    fn unit_measure_id(&self, fields: &Fields<'_>, errors: &mut Errors) -> i64 {
        code_field(
            fields,
            "unit_measure_code",
            codes::UNIT_ALIASES,
            catalog::unit_measures(),
            PLACEHOLDER_UNIT_MEASURE_ID,
            errors,
        )
    }

    fn standard_code_id(&self, fields: &Fields<'_>, errors: &mut Errors) -> i64 {
        code_field(
            fields,
            "standard_code",
            codes::STANDARD_CODES,
            catalog::standard_codes(),
            PLACEHOLDER_STANDARD_CODE_ID,
            errors,
        )
    }

    fn is_excluded(&self, fields: &Fields<'_>, errors: &mut Errors) -> i64 {
        i64::from(fields.optional_bool("is_excluded", errors).unwrap_or(false))
    }

    /// `ZZ` passes the later original's enum but names no product tribute: refused here with the
    /// catalogue's words rather than sent to Factus as an id it does not have.
    fn product_tribute_id(&self, fields: &Fields<'_>, errors: &mut Errors) -> i64 {
        let Some(tribute) = choice(fields, "tribute", codes::ITEM_TRIBUTE_CODES, true, errors) else {
            return PLACEHOLDER_PRODUCT_TRIBUTE_ID;
        };
        let dian = codes::dian_code(codes::ITEM_TRIBUTES, tribute).unwrap_or(tribute);
        resolve_code(fields, "tribute", dian, catalog::product_tributes(), errors)
            .map_or(PLACEHOLDER_PRODUCT_TRIBUTE_ID, |entry| entry.id())
    }
}

#[cfg(test)]
mod tests {
    use factus_domain::invoice::PaymentForm;
    use serde_json::json;

    use super::*;
    use crate::schemas::later_invoice_example;

    fn errors(body: &Value) -> Value {
        match read_invoice(body) {
            Err(ApiError::Validation(errors)) => serde_json::to_value(errors).expect("errors serialise"),
            other => panic!("not a 422: {other:?}"),
        }
    }

    #[test]
    fn the_postman_invoice_becomes_the_domain_invoice_of_the_same_sale() {
        let read = read_invoice(&later_invoice_example()).expect("a valid invoice");
        assert_eq!(read.numbering_range_prefix, "SETP");
        let invoice = read.invoice;
        assert_eq!((invoice.document(), invoice.payment_form()), ("01", PaymentForm::Cash));
        assert_eq!(invoice.payment_method_code(), "10");
        assert_eq!(invoice.numbering_range_id(), None);
        let customer = invoice.customer();
        assert_eq!(customer.identification_document().id(), 3);
        assert_eq!(customer.legal_organization_id(), 2);
        assert_eq!(customer.tribute_id(), 21);
        assert_eq!(customer.municipality_id(), Some(80));
        let line = &invoice.items()[0];
        assert_eq!((line.unit_measure_id(), line.standard_code_id(), line.tribute_id()), (70, 1, 1));
        assert_eq!((line.is_excluded(), line.price().to_string()), (false, "10000.00".to_owned()));
    }

    #[test]
    fn aliases_become_the_codes_they_stand_for() {
        let mut body = later_invoice_example();
        body["document_type"] = json!("export");
        body["payment_method_code"] = json!(" transfer ");
        body["payment_form"] = json!("credit");
        body["payment_due_date"] = json!("2026-12-31");
        body["customer"]["document_type"] = json!("NIT");
        body["customer"]["dv"] = json!("7");
        body["customer"]["organization_type"] = json!("company");
        body["customer"]["company"] = json!("Tienda SAS");
        body["customer"]["tribute"] = json!("IVA");
        body["items"][0]["unit_measure_code"] = json!("KGM");
        body["items"][0]["standard_code"] = json!("999");
        body["items"][0]["tribute"] = json!("INC");
        body["items"][0]["is_excluded"] = json!(true);
        let invoice = read_invoice(&body).expect("a valid invoice").invoice;
        assert_eq!((invoice.document(), invoice.payment_form()), ("02", PaymentForm::Credit));
        assert_eq!(invoice.payment_method_code(), "47");
        assert_eq!(invoice.customer().identification_document().id(), 6);
        assert_eq!((invoice.customer().legal_organization_id(), invoice.customer().tribute_id()), (1, 18));
        let line = &invoice.items()[0];
        assert_eq!((line.unit_measure_id(), line.standard_code_id(), line.tribute_id()), (414, 1, 4));
        assert!(line.is_excluded());
    }

    #[test]
    fn every_code_outside_its_table_is_named_in_one_answer() {
        let mut body = later_invoice_example();
        body["document_type"] = json!("01");
        body["payment_form"] = json!("1");
        body["customer"]["document_type"] = json!("DIE");
        body["customer"]["municipality_code"] = json!("99999");
        body["customer"]["organization_type"] = json!(2);
        body["items"][0]["unit_measure_code"] = json!("XX");
        body["items"][0]["tribute"] = json!("ZZ");
        let enumeration = |loc: Value, permitted: &str| json!({ "loc": loc, "msg": format!("value is not a valid enumeration member; permitted: {permitted}"), "type": "type_error.enum" });
        assert_eq!(
            errors(&body),
            json!([
                enumeration(json!(["body", "document_type"]), "'invoice', 'export'"),
                enumeration(json!(["body", "payment_form"]), "'cash', 'credit'"),
                enumeration(
                    json!(["body", "customer", "document_type"]),
                    "'CC', 'NIT', 'CE', 'TI', 'PASAPORTE', 'RC', 'TE', 'NIT_EXTRANJERO', 'NUIP'"
                ),
                { "loc": ["body", "customer", "municipality_code"], "msg": "municipality_code '99999' no existe en el catálogo de municipios", "type": "type_error.enum" },
                enumeration(json!(["body", "customer", "organization_type"]), "'company', 'person'"),
                { "loc": ["body", "items", 0, "unit_measure_code"], "msg": "unit_measure_code 'XX' no existe en el catálogo de unidades de medida", "type": "type_error.enum" },
                { "loc": ["body", "items", 0, "tribute"], "msg": "tribute 'ZZ' no existe en el catálogo de tributos de productos", "type": "type_error.enum" },
            ])
        );
    }

    #[test]
    fn the_model_rules_answer_422_in_the_later_words() {
        let mut body = later_invoice_example();
        body["payment_form"] = json!("credit");
        body["items"] = json!([]);
        assert_eq!(
            errors(&body),
            json!([
                { "loc": ["body"], "msg": "Invoice must contain at least one item", "type": "value_error" },
                { "loc": ["body"], "msg": "payment_due_date es obligatorio cuando payment_form es 'credit'", "type": "value_error" },
            ])
        );
    }

    #[test]
    fn a_missing_prefix_and_missing_codes_are_required_fields() {
        let mut body = later_invoice_example();
        body.as_object_mut().unwrap().remove("numbering_range_prefix");
        body["customer"].as_object_mut().unwrap().remove("tribute");
        body["items"][0].as_object_mut().unwrap().remove("standard_code");
        let missing = |loc: Value| json!({ "loc": loc, "msg": "field required", "type": "value_error.missing" });
        assert_eq!(
            errors(&body),
            json!([
                missing(json!(["body", "numbering_range_prefix"])),
                missing(json!(["body", "customer", "tribute"])),
                missing(json!(["body", "items", 0, "standard_code"])),
            ])
        );
    }
}
