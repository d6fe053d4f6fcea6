//! The sandbox's stored data: validated request bodies, computed totals and documents.
//!
//! These types are serialised only to the state file; the wire shapes are built in `render`.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::totals::Totals;
use crate::v2::model::V2Extras;

/// The document families the sandbox issues. Each has its own ledger, numbering and pending
/// block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum DocKind {
    Bill,
    CreditNote,
    /// Documento soporte: a purchase from a provider who cannot invoice.
    SupportDocument,
    /// Nota débito: raises what a bill charges (v2 only; v1 has no debit-note routes).
    DebitNote,
}

impl DocKind {
    /// Numbering-range document code (§6.10).
    pub fn range_code(self) -> &'static str {
        match self {
            Self::Bill => "21",
            Self::CreditNote => "22",
            Self::SupportDocument => "24",
            Self::DebitNote => "23",
        }
    }

    /// The noun with its indefinite article (`una factura`, `un documento soporte`).
    pub fn a_noun(self) -> &'static str {
        match self {
            Self::Bill => "una factura",
            Self::CreditNote => "una nota crédito",
            Self::SupportDocument => "un documento soporte",
            Self::DebitNote => "una nota débito",
        }
    }

    /// The noun with its definite article (`la factura`, `el documento soporte`).
    pub fn the_noun(self) -> &'static str {
        match self {
            Self::Bill => "la factura",
            Self::CreditNote => "la nota crédito",
            Self::SupportDocument => "el documento soporte",
            Self::DebitNote => "la nota débito",
        }
    }

    /// The 409 message Factus answers while a document of this family blocks new ones
    /// (docs/sandbox.md, "Rejections").
    pub fn pending_message(self) -> &'static str {
        match self {
            Self::Bill => "Se encontró una factura pendiente por enviar a la DIAN",
            Self::CreditNote => "Se encontró una nota crédito pendiente por enviar a la DIAN",
            Self::SupportDocument => "Se encontró un documento soporte pendiente por enviar a la DIAN",
            Self::DebitNote => "Se encontró una nota débito pendiente por enviar a la DIAN",
        }
    }

    /// Download file-name prefix (DIAN pattern).
    pub fn file_prefix(self) -> &'static str {
        match self {
            Self::Bill => "fv",
            Self::CreditNote => "nc",
            Self::SupportDocument => "ds",
            Self::DebitNote => "nd",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Customer {
    pub identification_document_id: u64,
    pub identification: String,
    pub dv: Option<String>,
    pub company: Option<String>,
    #[serde(flatten)]
    pub contact: Contact,
    pub legal_organization_id: u64,
    pub tribute_id: u64,
    pub municipality_id: Option<u64>,
}

/// A party's names and ways to reach it: a customer's, a provider's. Stored flattened into the
/// party, as the sandbox kept them before they were grouped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Contact {
    pub trade_name: Option<String>,
    pub names: Option<String>,
    pub address: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

impl Customer {
    /// The name printed on the document: the company for legal entities, else the names.
    pub fn display_name(&self) -> &str {
        self.company.as_deref().or(self.contact.names.as_deref()).unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct WithholdingInput {
    pub code: String,
    pub rate: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Mandate {
    pub identification_document_id: u64,
    pub identification: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Item {
    pub code_reference: String,
    pub name: String,
    /// A whole number in v1; up to two decimals in v2.
    pub quantity: Decimal,
    pub discount_rate: Decimal,
    /// Unit price as sent: including taxes in v1, net of taxes in v2.
    pub price: Decimal,
    /// The (first) tax rate; v2's per-item `taxes[]` are in the line totals.
    pub tax_rate: Decimal,
    pub unit_measure_id: u64,
    pub standard_code_id: u64,
    pub is_excluded: bool,
    pub tribute_id: u64,
    pub scheme_id: Option<String>,
    pub note: Option<String>,
    pub withholding_taxes: Vec<WithholdingInput>,
    pub mandate: Option<Mandate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct AllowanceCharge {
    pub concept_type: String,
    pub is_surcharge: bool,
    pub reason: String,
    pub base_amount: Decimal,
    pub amount: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct OrderReference {
    pub reference_code: String,
    pub issue_date: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RelatedDocument {
    pub code: String,
    pub issue_date: String,
    pub number: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct BillingPeriod {
    pub start_date: String,
    pub start_time: Option<String>,
    pub end_date: String,
    pub end_time: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Establishment {
    pub name: String,
    pub address: String,
    pub phone_number: String,
    pub email: String,
    pub municipality_id: u64,
}

/// Fields only credit notes carry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct CreditNoteFields {
    pub correction_concept_code: String,
    pub customization_id: String,
    pub bill_id: Option<u64>,
}

/// Fields only support documents carry (their provider is stored as `customer`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SupportFields {
    /// The provider lives in Colombia (DIAN customization `10`; `11` otherwise).
    pub is_resident: bool,
    /// ISO code of the provider's country (`CO`).
    pub country_code: String,
}

/// A validated `…/validate` body (bill, credit note or support document).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct DocumentInput {
    pub document: String,
    pub numbering_range_id: u64,
    pub reference_code: String,
    pub observation: Option<String>,
    pub payment_form: String,
    pub payment_due_date: Option<String>,
    pub payment_method_code: String,
    pub operation_type: String,
    pub send_email: bool,
    pub order_reference: Option<OrderReference>,
    pub related_documents: Vec<RelatedDocument>,
    pub billing_period: Option<BillingPeriod>,
    pub establishment: Option<Establishment>,
    pub customer: Customer,
    pub items: Vec<Item>,
    pub allowance_charges: Vec<AllowanceCharge>,
    pub credit_note: Option<CreditNoteFields>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_document: Option<SupportFields>,
}

/// The invoice a credit note corrects, frozen when the note is created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct BillRef {
    pub id: u64,
    pub number: String,
    pub cufe: String,
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
}

/// A RADIAN event registered on a bill.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RadianEvent {
    pub number: String,
    pub cude: String,
    pub event_code: String,
    pub event_name: String,
    pub effective_date: String,
    pub effective_time: String,
}

/// A stored document. Immutable once shared; a status change stores a new copy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Document {
    pub id: u64,
    pub kind: DocKind,
    pub number: String,
    /// The numeric part of `number`.
    pub sequence: u64,
    pub reference_code: String,
    /// 1 validated by DIAN, 0 pending.
    pub status: u8,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub validated_at: Option<OffsetDateTime>,
    /// CUFE of a bill, CUDE of a credit note.
    pub key: String,
    /// SHA-256 of the validated request, to recognise a resend of the same data.
    pub fingerprint: String,
    pub input: DocumentInput,
    pub totals: Totals,
    pub bill: Option<BillRef>,
    pub events: Vec<RadianEvent>,
    /// DIAN rules that rejected the document, `(rule, "Regla: …, Rechazo: …")`; a rejected
    /// document stays pending (status 0) and blocks new documents of its family until deleted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejection: Vec<(String, String)>,
    /// What a v2 body carries beyond the shared input (payment details, DIAN codes as sent);
    /// `None` for documents created through v1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v2: Option<Box<V2Extras>>,
}

impl Document {
    /// Pending because DIAN rejected it (not merely unanswered).
    pub fn is_rejected(&self) -> bool {
        self.status == 0 && !self.rejection.is_empty()
    }
}
