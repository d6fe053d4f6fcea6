//! Credit and debit notes: corrections of an invoice (`docs/factus.md`, "Notes and support
//! documents").
//!
//! An invoice cannot be edited or cancelled: a return, a later discount or a mistake is corrected
//! with a credit note that references it, a charge added later with a debit note. Both have the
//! invoice's items and customer, a correction concept and a customization that says whether they
//! reference an invoice (`20`/`30`, by its number) or not (`22`/`32`, with a billing period
//! instead). The customer may be left out when an invoice is referenced: Factus then uses the
//! invoice's.

use super::accessors::document_accessors;
use super::customer::{Customer, CustomerDraft};
use super::invoice::{BillingPeriod, BillingPeriodDraft, collect_list, priced, reference_and_observation};
use super::item::{Item, ItemDraft};
use super::money::Money;
use super::net::NetPricing;
use super::text::{Observation, ReferenceCode};
use super::totals::Totals;
use super::violation::{Path, Violation, ViolationKind};

/// Which correction a note makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoteKind {
    /// Lowers what the invoice charged (return, discount, annulment).
    Credit,
    /// Adds to what the invoice charged (interest, expenses, a price change).
    Debit,
}

impl NoteKind {
    /// The correction concepts of the kind: credit `1` devolución parcial, `2` anulación, `3`
    /// rebaja, `4` ajuste de precio, `5` descuento pronto pago, `6` descuento por volumen; debit
    /// `1` intereses, `2` gastos por cobrar, `3` cambio del valor, `4` otros.
    #[must_use]
    pub fn concepts(self) -> std::ops::RangeInclusive<i64> {
        match self {
            Self::Credit => 1..=6,
            Self::Debit => 1..=4,
        }
    }

    /// The `customization_id` of a note that references an invoice (Factus' default).
    #[must_use]
    pub fn referencing(self) -> &'static str {
        match self {
            Self::Credit => "20",
            Self::Debit => "30",
        }
    }

    /// The `customization_id` of a note without a referenced invoice.
    #[must_use]
    pub fn standalone(self) -> &'static str {
        match self {
            Self::Credit => "22",
            Self::Debit => "32",
        }
    }

    /// The note's name in the API's Spanish messages.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Credit => "nota crédito",
            Self::Debit => "nota débito",
        }
    }
}

/// The credit concept of a full annulment: it must credit exactly what is left of the invoice.
pub const ANNULMENT_CONCEPT: i64 = 2;

/// A note as the client sent it: every field of the right JSON type, nothing checked yet.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NoteDraft {
    /// The number of the invoice being corrected (`SETP990000123`).
    pub bill_number: Option<String>,
    pub correction_concept_code: i64,
    /// The kind's referencing customization when absent.
    pub customization_id: Option<String>,
    pub reference_code: String,
    /// `"10"` (efectivo) by default, as invoices.
    pub payment_method_code: String,
    pub numbering_range_id: Option<i64>,
    pub observation: Option<String>,
    pub send_email: Option<bool>,
    pub billing_period: Option<BillingPeriodDraft>,
    pub customer: Option<CustomerDraft>,
    pub items: Vec<ItemDraft>,
}

/// Whom and what a note refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoteTarget {
    /// Corrects the invoice of this number.
    Invoice { bill_number: String },
    /// Refers to no invoice: the billing period it corrects.
    Period(BillingPeriod),
}

/// A credit or debit note that satisfies its rules, with its totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    kind: NoteKind,
    target: NoteTarget,
    correction_concept_code: i64,
    reference_code: ReferenceCode,
    payment_method_code: String,
    numbering_range_id: Option<i64>,
    observation: Option<Observation>,
    send_email: Option<bool>,
    customer: Option<Customer>,
    items: Vec<Item>,
    totals: Totals,
    net_pricing: NetPricing,
}

impl Note {
    /// Checks a draft of `kind` and builds the note, or returns **every** violation, field
    /// problems (422 at the edge) before the rules about the whole note (400), as
    /// [`super::Invoice::parse`] does. Rules that tie fields together (`bill_number` with the
    /// referencing customization) are rules of the whole body, like the invoice's due date.
    ///
    /// # Errors
    /// Every [`Violation`] found, never an empty list.
    pub fn parse(kind: NoteKind, draft: NoteDraft) -> Result<Self, Vec<Violation>> {
        let mut out = Vec::new();
        let root = Path::root();
        let (reference_code, observation) =
            reference_and_observation(&draft.reference_code, draft.observation.as_deref(), &mut out);
        let concepts = kind.concepts();
        if !concepts.contains(&draft.correction_concept_code) {
            out.push(Violation::new(
                root.key("correction_concept_code"),
                ViolationKind::NotPermitted,
                format!(
                    "correction_concept_code de una {} debe estar entre {} y {}",
                    kind.name(),
                    concepts.start(),
                    concepts.end()
                ),
            ));
        }
        let customization = draft.customization_id.clone().unwrap_or_else(|| kind.referencing().to_owned());
        let referencing = customization == kind.referencing();
        if !referencing && customization != kind.standalone() {
            out.push(Violation::new(
                root.key("customization_id"),
                ViolationKind::NotPermitted,
                format!(
                    "customization_id de una {} debe ser {} (con factura referenciada) o {} (sin factura)",
                    kind.name(),
                    kind.referencing(),
                    kind.standalone()
                ),
            ));
        }
        let customer = match draft.customer {
            None => Some(None),
            Some(customer) => Customer::collect(customer, &root.key("customer"), &mut out).map(Some),
        };
        let has_items = !draft.items.is_empty();
        let items = collect_list(Some(draft.items), &root.key("items"), &mut out, Item::collect);

        let bill_number = draft.bill_number.filter(|number| !number.trim().is_empty());
        if !has_items {
            out.push(Violation::rule(root.clone(), format!("La {} debe contener al menos un ítem", kind.name())));
        }
        let target = match (referencing, bill_number, draft.billing_period) {
            (true, Some(bill_number), _) => Some(NoteTarget::Invoice { bill_number }),
            (true, None, _) => {
                out.push(Violation::rule(
                    root.clone(),
                    format!("bill_number es obligatorio cuando customization_id es {}", kind.referencing()),
                ));
                None
            }
            (false, Some(_), _) => {
                out.push(Violation::rule(
                    root.clone(),
                    format!("bill_number no aplica cuando customization_id es {}", kind.standalone()),
                ));
                None
            }
            (false, None, Some(period)) => Some(NoteTarget::Period(BillingPeriod::from_draft(period))),
            (false, None, None) => {
                out.push(Violation::rule(
                    root.clone(),
                    format!("billing_period es obligatorio cuando customization_id es {}", kind.standalone()),
                ));
                None
            }
        };
        if let (Some(NoteTarget::Period(_)), Some(None)) = (&target, &customer) {
            out.push(Violation::rule(
                root.clone(),
                format!("customer es obligatorio en una {} sin factura referenciada", kind.name()),
            ));
        }

        let (Some(reference_code), Some(observation), Some(customer), Some(items), Some(target)) =
            (reference_code, observation, customer, items, target)
        else {
            return Err(out);
        };
        let (totals, net_pricing) =
            priced(&items, &[], out, "Los valores de la nota son demasiado grandes para calcular el total")?;
        Ok(Self {
            kind,
            target,
            correction_concept_code: draft.correction_concept_code,
            reference_code,
            payment_method_code: draft.payment_method_code,
            numbering_range_id: draft.numbering_range_id,
            observation,
            send_email: draft.send_email,
            customer,
            items,
            totals,
            net_pricing,
        })
    }

    #[must_use]
    pub fn kind(&self) -> NoteKind {
        self.kind
    }

    #[must_use]
    pub fn target(&self) -> &NoteTarget {
        &self.target
    }

    /// The number of the corrected invoice, when the note references one.
    #[must_use]
    pub fn bill_number(&self) -> Option<&str> {
        match &self.target {
            NoteTarget::Invoice { bill_number } => Some(bill_number),
            NoteTarget::Period(_) => None,
        }
    }

    /// The billing period of a note without a referenced invoice.
    #[must_use]
    pub fn billing_period(&self) -> Option<&BillingPeriod> {
        match &self.target {
            NoteTarget::Invoice { .. } => None,
            NoteTarget::Period(period) => Some(period),
        }
    }

    /// `20`/`30` with a referenced invoice, `22`/`32` without.
    #[must_use]
    pub fn customization_id(&self) -> &'static str {
        match self.target {
            NoteTarget::Invoice { .. } => self.kind.referencing(),
            NoteTarget::Period(_) => self.kind.standalone(),
        }
    }

    #[must_use]
    pub fn correction_concept_code(&self) -> i64 {
        self.correction_concept_code
    }

    /// Whether this credit note annuls the whole invoice (concept 2).
    #[must_use]
    pub fn is_annulment(&self) -> bool {
        self.kind == NoteKind::Credit && self.correction_concept_code == ANNULMENT_CONCEPT
    }

    document_accessors!();

    #[must_use]
    pub fn send_email(&self) -> Option<bool> {
        self.send_email
    }

    /// `None`: Factus uses the referenced invoice's customer.
    #[must_use]
    pub fn customer(&self) -> Option<&Customer> {
        self.customer.as_ref()
    }

    /// What the note is worth: its total as Factus v1 computes it (tax-inclusive prices), the
    /// amount compared with the invoice's total.
    #[must_use]
    pub fn total(&self) -> Money {
        self.totals.total()
    }
}
