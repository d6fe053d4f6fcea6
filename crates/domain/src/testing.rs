//! Fixtures for tests (feature `test-support`; enable it from dev-dependencies only): the
//! reference's minimal invoice (`docs/contract.md` §3.6), which the domain's, the payloads', the
//! gateway's and the issuance use case's tests all start from.

use rust_decimal::Decimal;

use crate::invoice::{CustomerDraft, InvoiceDraft, ItemDraft};

/// The reference's minimal invoice: reference `R2`, a natural person `Juan` (document 3,
/// identification `1`), one item at 100.5 with 19 % VAT.
#[must_use]
pub fn minimal_draft() -> InvoiceDraft {
    InvoiceDraft {
        reference_code: "R2".to_owned(),
        customer: person("1", "Juan"),
        items: vec![item_draft(Decimal::new(1005, 1), Decimal::new(19, 0))],
        ..InvoiceDraft::default()
    }
}

/// A natural person with a citizenship card (document 3, legal organization 2, tribute 21).
#[must_use]
pub fn person(identification: &str, names: &str) -> CustomerDraft {
    CustomerDraft {
        identification_document_id: 3,
        identification: identification.to_owned(),
        names: Some(names.to_owned()),
        legal_organization_id: 2,
        tribute_id: 21,
        ..CustomerDraft::default()
    }
}

/// One unit of product `P` named `N` at `price` with `tax_rate` (unit 70, standard code 1,
/// tribute 1, not excluded).
#[must_use]
pub fn item_draft(price: Decimal, tax_rate: Decimal) -> ItemDraft {
    ItemDraft {
        code_reference: "P".to_owned(),
        name: "N".to_owned(),
        quantity: 1,
        price,
        tax_rate,
        unit_measure_id: 70,
        standard_code_id: 1,
        is_excluded: 0,
        tribute_id: 1,
        ..ItemDraft::default()
    }
}
