//! What a v2 body carries beyond the input shared with v1 ([`DocumentInput`](crate::model::DocumentInput)).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One entry of `payment_details[]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct PaymentDetail {
    /// `1` contado, `2` crédito.
    pub payment_form: String,
    pub payment_method_code: String,
    pub reference_code: Option<String>,
    pub amount: Decimal,
    /// `YYYY-MM-DD`, required for credit.
    pub due_date: Option<String>,
}

/// One entry of `prepayment_details[]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Prepayment {
    pub reference_code: String,
    pub received_date: String,
    pub amount: Decimal,
    pub note: Option<String>,
    pub concept_code: Option<String>,
}

/// `currency`: totals shown in a foreign currency on the graphic representation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Currency {
    #[serde(rename = "type")]
    pub kind: String,
    pub exchange_rate: Decimal,
}

/// The DIAN codes of the customer (or provider) as sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct PartyCodes {
    pub identification_document_code: String,
    pub legal_organization_code: String,
    pub tribute_code: String,
    pub municipality_code: Option<String>,
    pub country_code: Option<String>,
    pub responsibilities: Vec<String>,
}

/// The v2-only part of a stored document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct V2Extras {
    pub payment_details: Vec<PaymentDetail>,
    pub prepayment_details: Vec<Prepayment>,
    pub currency: Option<Currency>,
    /// `created_time` (`HH:MM:SS`) when sent.
    pub created_time: Option<String>,
    pub customer: PartyCodes,
    /// Invoice a note corrects, by number (v2 names bills by number, v1 by id).
    pub bill_number: Option<String>,
}
