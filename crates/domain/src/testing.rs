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
        customer: CustomerDraft {
            identification_document_id: 3,
            identification: "1".to_owned(),
            names: Some("Juan".to_owned()),
            legal_organization_id: 2,
            tribute_id: 21,
            ..CustomerDraft::default()
        },
        items: vec![item_draft(Decimal::new(1005, 1), Decimal::new(19, 0))],
        ..InvoiceDraft::default()
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
