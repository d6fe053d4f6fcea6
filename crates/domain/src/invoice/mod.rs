//! The DIAN invoice as Factus v1 takes it (`docs/contract.md` §3), its rules and its totals.
//!
//! The edge reads a request body into an [`InvoiceDraft`] (plain, typed fields, defaults applied)
//! and calls [`Invoice::parse`], which either builds an [`Invoice`] that cannot be invalid or
//! returns **every** [`Violation`] of the draft, each with its path in the body and a kind that
//! says whether it is a field bound (422) or a business rule (400).
//!
//! Layout:
//! - [`violation`]: [`Violation`], [`Path`], [`ViolationKind`], the [`FieldProblem`] trait.
//! - [`money`]: [`Money`], [`Rate`], [`WithholdingRate`] on `rust_decimal`, keeping the client's scale.
//! - [`text`]: [`ReferenceCode`], [`EmailAddress`], [`Observation`].
//! - [`codes`]: [`PaymentForm`], [`IdentificationDocumentType`].
//! - [`customer`], [`item`], [`invoice`]: the aggregate, its parts and their drafts.
//! - [`totals`]: the amounts, the way Factus v1 computes them.
//! - [`net`]: the same invoice priced for Factus v2 (net prices, cash rounding).
//! - [`note`]: credit and debit notes, corrections of an invoice with the invoice's items.
//! - [`support`]: support documents, purchases from a provider who cannot invoice.

mod accessors;
pub mod codes;
pub mod customer;
#[allow(clippy::module_inception)]
pub mod invoice;
pub mod item;
pub mod money;
pub mod net;
pub mod note;
pub mod support;
pub mod text;
pub mod totals;
pub mod violation;

pub use codes::{IdentificationDocumentType, IdentificationDocumentTypeError, PaymentForm, PaymentFormError};
pub use customer::{Customer, CustomerDraft};
pub use invoice::{
    AllowanceCharge, AllowanceChargeDraft, BillingPeriod, BillingPeriodDraft, Establishment, EstablishmentDraft,
    Invoice, InvoiceDraft, OrderReference, OrderReferenceDraft, RelatedDocument, RelatedDocumentDraft,
};
pub use item::{
    ExclusionFlagError, Item, ItemDraft, Mandate, MandateDraft, Quantity, QuantityError, WithholdingTax,
    WithholdingTaxDraft,
};
pub use money::{Money, MoneyError, Rate, RateError, WithholdingRate};
pub use net::{MAX_CASH_ROUNDING, NetLine, NetPricing};
pub use note::{ANNULMENT_CONCEPT, Note, NoteDraft, NoteKind, NoteTarget};
pub use support::{
    COLOMBIA, PROVIDER_DOCUMENT_IDS, Provider, ProviderDraft, SupportDocument, SupportDocumentDraft, SupportItemDraft,
};
pub use text::{EmailAddress, EmailAddressError, Observation, ObservationError, ReferenceCode, ReferenceCodeError};
pub use totals::{LineTotals, Totals, WithholdingAmount, WithholdingTotal};
pub use violation::{FieldProblem, Path, PathSegment, Violation, ViolationKind};

#[cfg(test)]
mod tests;
