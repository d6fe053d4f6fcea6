//! The invoice aggregate and its nested parts, and how a draft becomes one.

use rust_decimal::Decimal;
use time::Date;

use super::accessors::document_accessors;
use super::codes::PaymentForm;
use super::customer::{Customer, CustomerDraft};
use super::item::{Item, ItemDraft};
use super::money::Money;
use super::net::NetPricing;
use super::text::{Observation, ReferenceCode};
use super::totals::Totals;
use super::violation::{Path, Violation, collect};
use crate::catalog::{self, Entry};

/// An invoice as the client sent it: every field already of the right JSON type, defaults of
/// `docs/contract.md` §3.1 already applied, nothing checked yet.
///
/// The web layer reads the body into this (reporting shape and type errors itself) and hands it
/// to [`Invoice::parse`], which checks everything else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceDraft {
    pub numbering_range_id: Option<i64>,
    /// `"01"` by default (factura electrónica de venta).
    pub document: String,
    pub reference_code: String,
    pub observation: Option<String>,
    /// `"10"` by default (efectivo).
    pub payment_method_code: String,
    /// `"1"` by default (contado).
    pub payment_form: String,
    pub payment_due_date: Option<Date>,
    pub operation_type: Option<String>,
    pub send_email: Option<bool>,
    pub order_reference: Option<OrderReferenceDraft>,
    pub related_documents: Option<Vec<RelatedDocumentDraft>>,
    pub billing_period: Option<BillingPeriodDraft>,
    pub establishment: Option<EstablishmentDraft>,
    pub allowance_charges: Option<Vec<AllowanceChargeDraft>>,
    pub customer: CustomerDraft,
    pub items: Vec<ItemDraft>,
}

impl InvoiceDraft {
    /// The reference's default `document`.
    pub const DEFAULT_DOCUMENT: &'static str = "01";
    /// The reference's default `payment_method_code`.
    pub const DEFAULT_PAYMENT_METHOD_CODE: &'static str = "10";
    /// The reference's default `payment_form`.
    pub const DEFAULT_PAYMENT_FORM: &'static str = "1";
}

impl Default for InvoiceDraft {
    /// An empty draft with the reference's defaults; not valid by itself (no reference code, no
    /// customer, no items).
    fn default() -> Self {
        Self {
            numbering_range_id: None,
            document: Self::DEFAULT_DOCUMENT.to_owned(),
            reference_code: String::new(),
            observation: None,
            payment_method_code: Self::DEFAULT_PAYMENT_METHOD_CODE.to_owned(),
            payment_form: Self::DEFAULT_PAYMENT_FORM.to_owned(),
            payment_due_date: None,
            operation_type: None,
            send_email: None,
            order_reference: None,
            related_documents: None,
            billing_period: None,
            establishment: None,
            allowance_charges: None,
            customer: CustomerDraft::default(),
            items: Vec::new(),
        }
    }
}

/// `order_reference` as the client sent it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OrderReferenceDraft {
    pub reference_code: String,
    pub issue_date: Option<Date>,
}

/// One of `related_documents` as the client sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelatedDocumentDraft {
    pub code: String,
    pub issue_date: Date,
    pub number: String,
}

/// `billing_period` as the client sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillingPeriodDraft {
    pub start_date: Date,
    pub start_time: Option<String>,
    pub end_date: Date,
    pub end_time: String,
}

/// `establishment` as the client sent it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EstablishmentDraft {
    pub name: String,
    pub address: String,
    pub phone_number: String,
    /// Plain text: the reference does not check it as an address.
    pub email: String,
    pub municipality_id: i64,
}

/// One of `allowance_charges` as the client sent it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AllowanceChargeDraft {
    pub concept_type: String,
    pub is_surcharge: bool,
    pub reason: String,
    pub base_amount: Decimal,
    pub amount: Decimal,
}

/// The buyer's purchase order this invoice answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderReference {
    reference_code: String,
    issue_date: Option<Date>,
}

impl OrderReference {
    #[must_use]
    pub fn reference_code(&self) -> &str {
        &self.reference_code
    }

    #[must_use]
    pub fn issue_date(&self) -> Option<Date> {
        self.issue_date
    }
}

/// A document this invoice refers to (required by Factus for document type `03`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelatedDocument {
    code: String,
    issue_date: Date,
    number: String,
}

impl RelatedDocument {
    #[must_use]
    pub fn code(&self) -> &str {
        &self.code
    }

    #[must_use]
    pub fn issue_date(&self) -> Date {
        self.issue_date
    }

    #[must_use]
    pub fn number(&self) -> &str {
        &self.number
    }
}

/// The period a recurring service is billed for. Times are `HH:mm:ss` texts passed through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillingPeriod {
    start_date: Date,
    start_time: Option<String>,
    end_date: Date,
    end_time: String,
}

impl BillingPeriod {
    /// An empty start time is held as none (the reference drops it).
    pub(super) fn from_draft(period: BillingPeriodDraft) -> Self {
        Self {
            start_date: period.start_date,
            start_time: period.start_time.filter(|time| !time.is_empty()),
            end_date: period.end_date,
            end_time: period.end_time,
        }
    }

    #[must_use]
    pub fn start_date(&self) -> Date {
        self.start_date
    }

    /// Never empty when present (the reference drops an empty one).
    #[must_use]
    pub fn start_time(&self) -> Option<&str> {
        self.start_time.as_deref()
    }

    #[must_use]
    pub fn end_date(&self) -> Date {
        self.end_date
    }

    #[must_use]
    pub fn end_time(&self) -> &str {
        &self.end_time
    }
}

/// The seller's establishment the sale was made at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Establishment {
    name: String,
    address: String,
    phone_number: String,
    email: String,
    municipality: Entry,
}

impl Establishment {
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    #[must_use]
    pub fn address(&self) -> &str {
        &self.address
    }

    #[must_use]
    pub fn phone_number(&self) -> &str {
        &self.phone_number
    }

    /// Passed through unchecked, as the reference does.
    #[must_use]
    pub fn email(&self) -> &str {
        &self.email
    }

    #[must_use]
    pub fn municipality_id(&self) -> i64 {
        self.municipality.id()
    }

    /// The municipality, with its DIAN code.
    #[must_use]
    pub fn municipality(&self) -> Entry {
        self.municipality
    }
}

/// A charge (surcharge, e.g. a tip) or an allowance (discount) on the whole invoice.
///
/// Amounts are non-negative with at most two decimal places: the direction is given by
/// `is_surcharge`, and Factus documents both amounts with two places at most. The reference does
/// not check either; this port does, so that the totals stay exact to the cent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowanceCharge {
    concept_type: String,
    is_surcharge: bool,
    reason: String,
    base_amount: Money,
    amount: Money,
}

impl AllowanceCharge {
    /// `03` recargo condicionado (the only one Factus enables today).
    #[must_use]
    pub fn concept_type(&self) -> &str {
        &self.concept_type
    }

    /// `true` adds [`AllowanceCharge::amount`] to the total, `false` subtracts it.
    #[must_use]
    pub fn is_surcharge(&self) -> bool {
        self.is_surcharge
    }

    #[must_use]
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The amount the charge was computed from; informative.
    #[must_use]
    pub fn base_amount(&self) -> Money {
        self.base_amount
    }

    #[must_use]
    pub fn amount(&self) -> Money {
        self.amount
    }
}

/// A DIAN invoice that satisfies every rule of `docs/contract.md` §3, with its totals.
///
/// It can only be built by [`Invoice::parse`], so holding one means: a usable reference code,
/// at least one valid item, a valid customer, a due date when sold on credit, amounts exact to the
/// cent. Optional texts that are empty are held as absent (the reference drops them from the Factus
/// payload anyway).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoice {
    numbering_range_id: Option<i64>,
    document: String,
    reference_code: ReferenceCode,
    observation: Option<Observation>,
    payment_method_code: String,
    payment_form: PaymentForm,
    payment_due_date: Option<Date>,
    operation_type: Option<String>,
    send_email: Option<bool>,
    order_reference: Option<OrderReference>,
    related_documents: Vec<RelatedDocument>,
    billing_period: Option<BillingPeriod>,
    establishment: Option<Establishment>,
    allowance_charges: Vec<AllowanceCharge>,
    customer: Customer,
    items: Vec<Item>,
    totals: Totals,
    net_pricing: NetPricing,
}

/// The `reference_code` and `observation` of a document body (an empty observation is none),
/// recording their violations; every kind has both.
pub(super) fn reference_and_observation(
    reference: &str,
    observation: Option<&str>,
    out: &mut Vec<Violation>,
) -> (Option<ReferenceCode>, Option<Option<Observation>>) {
    let root = Path::root();
    let reference_code = collect(ReferenceCode::parse(reference), root.key("reference_code"), out);
    let observation = match observation {
        Some(text) if !text.is_empty() => collect(Observation::parse(text), root.key("observation"), out).map(Some),
        _ => Some(None),
    };
    (reference_code, observation)
}

/// The totals as Factus v1 computes them and the v2 pricing of the same lines, for a body whose
/// checks recorded no violation in `out`: else `out`, or only the rule `too_large` (at the root)
/// when an amount overflows a decimal.
pub(super) fn priced(
    items: &[Item],
    charges: &[AllowanceCharge],
    out: Vec<Violation>,
    too_large: &str,
) -> Result<(Totals, NetPricing), Vec<Violation>> {
    if !out.is_empty() {
        return Err(out);
    }
    let priced = Totals::compute(items, charges)
        .and_then(|totals| NetPricing::compute(items, charges, &totals).map(|net| (totals, net)));
    priced.ok_or_else(|| vec![Violation::rule(Path::root(), too_large)])
}

pub(super) fn collect_list<D, T>(
    drafts: Option<Vec<D>>,
    path: &Path,
    out: &mut Vec<Violation>,
    mut one: impl FnMut(D, &Path, &mut Vec<Violation>) -> Option<T>,
) -> Option<Vec<T>> {
    let parsed: Vec<Option<T>> = drafts
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(index, draft)| one(draft, &path.index(index), out))
        .collect();
    parsed.into_iter().collect()
}

impl Invoice {
    /// Checks a draft and builds the invoice, or returns **every** violation of the draft.
    ///
    /// Violations come in the order of the body's fields (top-level fields, customer, items, …),
    /// followed by the rules about the whole invoice (`Invoice must contain at least one item`,
    /// the credit due date). Field bounds and formats are kinds the edge answers with 422; a client
    /// sees the business rules (400) only once its invoice is well formed, so the edge may filter
    /// by [`Violation::is_business_rule`].
    ///
    /// # Errors
    /// Every [`Violation`] found, never an empty list.
    pub fn parse(draft: InvoiceDraft) -> Result<Self, Vec<Violation>> {
        let mut out = Vec::new();
        let root = Path::root();

        let (reference_code, observation) =
            reference_and_observation(&draft.reference_code, draft.observation.as_deref(), &mut out);
        let payment_form = collect(PaymentForm::parse(&draft.payment_form), root.key("payment_form"), &mut out);

        let order_reference = draft
            .order_reference
            .map(|order| OrderReference { reference_code: order.reference_code, issue_date: order.issue_date });
        let related_documents = draft
            .related_documents
            .unwrap_or_default()
            .into_iter()
            .map(|doc| RelatedDocument { code: doc.code, issue_date: doc.issue_date, number: doc.number })
            .collect();
        let billing_period = draft.billing_period.map(BillingPeriod::from_draft);
        let establishment = match draft.establishment {
            None => Some(None),
            Some(place) => collect(
                catalog::municipalities().resolve_id(place.municipality_id),
                root.key("establishment").key("municipality_id"),
                &mut out,
            )
            .map(|municipality| {
                Some(Establishment {
                    name: place.name,
                    address: place.address,
                    phone_number: place.phone_number,
                    email: place.email,
                    municipality,
                })
            }),
        };
        let allowance_charges =
            collect_list(draft.allowance_charges, &root.key("allowance_charges"), &mut out, |charge, path, out| {
                let base_amount = collect(Money::non_negative(charge.base_amount), path.key("base_amount"), out);
                let amount = collect(Money::non_negative(charge.amount), path.key("amount"), out);
                Some(AllowanceCharge {
                    concept_type: charge.concept_type,
                    is_surcharge: charge.is_surcharge,
                    reason: charge.reason,
                    base_amount: base_amount?,
                    amount: amount?,
                })
            });

        let customer = Customer::collect(draft.customer, &root.key("customer"), &mut out);
        let has_items = !draft.items.is_empty();
        let items = collect_list(Some(draft.items), &root.key("items"), &mut out, Item::collect);

        // The reference's invoice validator: rules about the whole body, after its fields.
        if !has_items {
            out.push(Violation::rule(root.clone(), "Invoice must contain at least one item"));
        }
        if payment_form == Some(PaymentForm::Credit) && draft.payment_due_date.is_none() {
            out.push(Violation::rule(
                root.clone(),
                "payment_due_date es obligatorio cuando payment_form es 2 (crédito)",
            ));
        }

        let (
            Some(reference_code),
            Some(observation),
            Some(payment_form),
            Some(allowance_charges),
            Some(customer),
            Some(items),
            Some(establishment),
        ) = (reference_code, observation, payment_form, allowance_charges, customer, items, establishment)
        else {
            return Err(out);
        };
        let (totals, net_pricing) =
            priced(&items, &allowance_charges, out, "Invoice amounts are too large to compute totals")?;

        Ok(Self {
            numbering_range_id: draft.numbering_range_id,
            document: draft.document,
            reference_code,
            observation,
            payment_method_code: draft.payment_method_code,
            payment_form,
            payment_due_date: draft.payment_due_date,
            operation_type: draft.operation_type.filter(|kind| !kind.is_empty()),
            send_email: draft.send_email,
            order_reference,
            related_documents,
            billing_period,
            establishment,
            allowance_charges,
            customer,
            items,
            totals,
            net_pricing,
        })
    }

    document_accessors!();

    /// The same invoice numbered from `id`: how a client that names its range by prefix gets
    /// the range resolved after its body was checked.
    #[must_use]
    pub fn with_numbering_range_id(mut self, id: i64) -> Self {
        self.numbering_range_id = Some(id);
        self
    }

    /// The document type code (`01` factura electrónica de venta).
    #[must_use]
    pub fn document(&self) -> &str {
        &self.document
    }

    #[must_use]
    pub fn payment_form(&self) -> PaymentForm {
        self.payment_form
    }

    /// Always present for [`PaymentForm::Credit`]; may be present for cash too (it is forwarded).
    #[must_use]
    pub fn payment_due_date(&self) -> Option<Date> {
        self.payment_due_date
    }

    /// Never empty when present.
    #[must_use]
    pub fn operation_type(&self) -> Option<&str> {
        self.operation_type.as_deref()
    }

    /// Whether Factus should e-mail the customer; `None` leaves Factus' default.
    #[must_use]
    pub fn send_email(&self) -> Option<bool> {
        self.send_email
    }

    #[must_use]
    pub fn order_reference(&self) -> Option<&OrderReference> {
        self.order_reference.as_ref()
    }

    /// Empty when none were sent (the reference drops an empty list).
    #[must_use]
    pub fn related_documents(&self) -> &[RelatedDocument] {
        &self.related_documents
    }

    #[must_use]
    pub fn billing_period(&self) -> Option<&BillingPeriod> {
        self.billing_period.as_ref()
    }

    #[must_use]
    pub fn establishment(&self) -> Option<&Establishment> {
        self.establishment.as_ref()
    }

    /// Empty when none were sent (the reference drops an empty list).
    #[must_use]
    pub fn allowance_charges(&self) -> &[AllowanceCharge] {
        &self.allowance_charges
    }

    #[must_use]
    pub fn customer(&self) -> &Customer {
        &self.customer
    }
}
