//! The documents the service creates at Factus, as one type: the issuance, the ledger and the
//! Factus port take a [`Document`] whatever its kind, so the exactly-once machinery is written
//! once (`docs/ARCHITECTURE.md`, "One path for every document kind").

use factus_domain::invoice::{Customer, Invoice, Money, Note, NoteKind, ReferenceCode, SupportDocument};

use crate::ledger::DocumentKind;

/// Who a document is for, as the ledger records it for searching: the identification number and
/// the name (a company's, else the person's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counterparty {
    pub identification: String,
    pub name: String,
}

fn customer_of(customer: &Customer) -> (&str, String) {
    let name = customer.company().or(customer.names()).unwrap_or_default();
    (customer.identification(), name.to_owned())
}

/// A document to create at Factus.
// One per request, built once and moved: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Document {
    Invoice(Invoice),
    /// A credit or debit note ([`Note::kind`]).
    Note(Note),
    SupportDocument(SupportDocument),
}

impl Document {
    #[must_use]
    pub fn kind(&self) -> DocumentKind {
        match self {
            Self::Invoice(_) => DocumentKind::Invoice,
            Self::Note(note) => match note.kind() {
                NoteKind::Credit => DocumentKind::CreditNote,
                NoteKind::Debit => DocumentKind::DebitNote,
            },
            Self::SupportDocument(_) => DocumentKind::SupportDocument,
        }
    }

    /// The integrator's key: unique among active documents of every kind.
    #[must_use]
    pub fn reference_code(&self) -> &ReferenceCode {
        match self {
            Self::Invoice(invoice) => invoice.reference_code(),
            Self::Note(note) => note.reference_code(),
            Self::SupportDocument(document) => document.reference_code(),
        }
    }

    /// What the document is worth, as Factus v1 computes it: recorded in the ledger, where the
    /// credit notes of an invoice are held to its total.
    #[must_use]
    pub fn total(&self) -> Money {
        match self {
            Self::Invoice(invoice) => invoice.totals().total(),
            Self::Note(note) => note.total(),
            Self::SupportDocument(document) => document.totals().total(),
        }
    }

    /// Who the document is for: an invoice's or a note's customer, a support document's provider
    /// (its seller). `None` for a note that leaves the customer to its invoice.
    #[must_use]
    pub fn counterparty(&self) -> Option<Counterparty> {
        let (identification, name) = match self {
            Self::Invoice(invoice) => customer_of(invoice.customer()),
            Self::Note(note) => customer_of(note.customer()?),
            Self::SupportDocument(document) => {
                (document.provider().identification(), document.provider().names().to_owned())
            }
        };
        Some(Counterparty { identification: identification.to_owned(), name })
    }

    /// The number of the invoice a note corrects.
    #[must_use]
    pub fn referenced_number(&self) -> Option<&str> {
        match self {
            Self::Note(note) => note.bill_number(),
            Self::Invoice(_) | Self::SupportDocument(_) => None,
        }
    }
}

impl From<Invoice> for Document {
    fn from(invoice: Invoice) -> Self {
        Self::Invoice(invoice)
    }
}

impl From<Note> for Document {
    fn from(note: Note) -> Self {
        Self::Note(note)
    }
}

impl From<SupportDocument> for Document {
    fn from(document: SupportDocument) -> Self {
        Self::SupportDocument(document)
    }
}
