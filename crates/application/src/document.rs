//! The documents the service creates at Factus, as one type: the issuance, the ledger and the
//! Factus port take a [`Document`] whatever its kind, so the exactly-once machinery is written
//! once (`docs/ARCHITECTURE.md`, "One path for every document kind").

use factus_domain::invoice::{Invoice, Money, Note, NoteKind, ReferenceCode, SupportDocument};

use crate::ledger::DocumentKind;

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
