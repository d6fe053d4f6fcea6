//! A line of an invoice (`items[]`), its self-withholdings and its mandate.

use rust_decimal::Decimal;
use thiserror::Error;

use super::accessors::identity_accessors;
use super::codes::IdentificationDocumentType;
use super::money::{Money, Rate, WithholdingRate};
use super::violation::{FieldProblem, Path, Violation, ViolationKind, collect};
use crate::catalog::{self, Entry};

/// A line as the client sent it, every field already of the right JSON type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemDraft {
    pub code_reference: String,
    pub name: String,
    pub quantity: i64,
    /// Unit price **including taxes**, as Factus v1 takes it.
    pub price: Decimal,
    /// Percent; the reference's default is `0.00`.
    pub discount_rate: Decimal,
    /// Percent (`19.00`).
    pub tax_rate: Decimal,
    pub unit_measure_id: i64,
    pub standard_code_id: i64,
    /// 0 or 1.
    pub is_excluded: i64,
    pub tribute_id: i64,
    pub scheme_id: Option<String>,
    pub note: Option<String>,
    pub withholding_taxes: Option<Vec<WithholdingTaxDraft>>,
    pub mandate: Option<MandateDraft>,
}

impl Default for ItemDraft {
    /// An empty line with the reference's defaults (`discount_rate` `0.00`); not valid by itself.
    fn default() -> Self {
        Self {
            code_reference: String::new(),
            name: String::new(),
            quantity: 0,
            price: Decimal::ZERO,
            discount_rate: Rate::ZERO.percent(),
            tax_rate: Decimal::ZERO,
            unit_measure_id: 0,
            standard_code_id: 0,
            is_excluded: 0,
            tribute_id: 0,
            scheme_id: None,
            note: None,
            withholding_taxes: None,
            mandate: None,
        }
    }
}

/// A self-withholding as the client sent it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WithholdingTaxDraft {
    /// `05` ReteIVA, `06` ReteRenta, …
    pub code: String,
    pub withholding_tax_rate: Decimal,
}

/// A mandate as the client sent it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MandateDraft {
    pub identification_document_id: i64,
    pub identification: String,
}

/// How many units a line sells: a whole number greater than zero (Factus v1 takes integers only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Quantity(i64);

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("ensure this value is greater than 0")]
pub struct QuantityError;

impl FieldProblem for QuantityError {
    fn kind(&self) -> ViolationKind {
        ViolationKind::NotGreaterThan
    }
}

impl Quantity {
    /// # Errors
    /// [`QuantityError`] for zero or less.
    pub fn new(units: i64) -> Result<Self, QuantityError> {
        if units > 0 { Ok(Self(units)) } else { Err(QuantityError) }
    }

    #[must_use]
    pub fn get(self) -> i64 {
        self.0
    }
}

/// Why `is_excluded` is not 0 or 1.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ExclusionFlagError {
    #[error("ensure this value is greater than or equal to 0")]
    BelowZero,
    #[error("ensure this value is less than or equal to 1")]
    AboveOne,
}

impl FieldProblem for ExclusionFlagError {
    fn kind(&self) -> ViolationKind {
        match self {
            Self::BelowZero => ViolationKind::NotGreaterOrEqual,
            Self::AboveOne => ViolationKind::NotLessOrEqual,
        }
    }
}

/// Reads Factus' 0/1 `is_excluded` flag.
///
/// # Errors
/// [`ExclusionFlagError`] outside 0..=1, with the bound that was crossed.
pub fn exclusion_flag(flag: i64) -> Result<bool, ExclusionFlagError> {
    match flag {
        0 => Ok(false),
        1 => Ok(true),
        below if below < 0 => Err(ExclusionFlagError::BelowZero),
        _ => Err(ExclusionFlagError::AboveOne),
    }
}

/// A discount above 100 % would make the line negative.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("ensure this value is less than or equal to 100")]
pub struct DiscountAboveHundred;

impl FieldProblem for DiscountAboveHundred {
    fn kind(&self) -> ViolationKind {
        ViolationKind::NotLessOrEqual
    }
}

/// A self-withholding of a line: ReteIVA (`05`) is withheld from the line's tax, every other code
/// (ReteRenta `06`, ReteICA `07`) from its taxable base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithholdingTax {
    code: String,
    rate: WithholdingRate,
}

impl WithholdingTax {
    /// The code of ReteIVA, the withholding computed on the tax rather than on the base.
    pub const RETE_IVA: &'static str = "05";
    /// The code of ReteRenta.
    pub const RETE_RENTA: &'static str = "06";

    #[must_use]
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The percentage as the client wrote it.
    #[must_use]
    pub fn rate(&self) -> WithholdingRate {
        self.rate
    }

    /// Whether the amount is withheld from the tax (ReteIVA) rather than from the base.
    #[must_use]
    pub fn applies_to_tax(&self) -> bool {
        self.code == Self::RETE_IVA
    }
}

/// The principal on whose behalf a line is sold (`operation_type` 11, mandates).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mandate {
    identification_document: IdentificationDocumentType,
    identification: String,
}

impl Mandate {
    identity_accessors!();
}

/// A valid line: quantity > 0, price > 0 with at most two decimal places, discount between 0 and
/// 100 %, tax rate ≥ 0, both with at most two places, `is_excluded` 0 or 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    code_reference: String,
    name: String,
    quantity: Quantity,
    price: Money,
    discount_rate: Rate,
    tax_rate: Rate,
    unit_measure: Entry,
    standard_code: Entry,
    is_excluded: bool,
    tribute: Entry,
    scheme_id: Option<String>,
    note: Option<String>,
    withholding_taxes: Option<Vec<WithholdingTax>>,
    mandate: Option<Mandate>,
}

impl Item {
    /// Builds the line at `path`, recording every violation in `out`.
    pub(crate) fn collect(draft: ItemDraft, path: &Path, out: &mut Vec<Violation>) -> Option<Self> {
        let quantity = collect(Quantity::new(draft.quantity), path.key("quantity"), out);
        let price = collect(Money::positive(draft.price), path.key("price"), out);
        let discount_rate = if draft.discount_rate > Decimal::ONE_HUNDRED {
            collect(Err::<Rate, _>(DiscountAboveHundred), path.key("discount_rate"), out)
        } else {
            collect(Rate::new(draft.discount_rate), path.key("discount_rate"), out)
        };
        let tax_rate = collect(Rate::new(draft.tax_rate), path.key("tax_rate"), out);
        let is_excluded = collect(exclusion_flag(draft.is_excluded), path.key("is_excluded"), out);
        let unit_measure =
            collect(catalog::unit_measures().resolve_id(draft.unit_measure_id), path.key("unit_measure_id"), out);
        let standard_code =
            collect(catalog::standard_codes().resolve_id(draft.standard_code_id), path.key("standard_code_id"), out);
        let tribute = collect(catalog::product_tributes().resolve_id(draft.tribute_id), path.key("tribute_id"), out);

        let withholding_taxes = match draft.withholding_taxes {
            None => Some(None),
            Some(drafts) => {
                let list_path = path.key("withholding_taxes");
                let parsed: Vec<Option<WithholdingTax>> = drafts
                    .into_iter()
                    .enumerate()
                    .map(|(index, draft)| {
                        let rate = collect(
                            WithholdingRate::new(draft.withholding_tax_rate),
                            list_path.index(index).key("withholding_tax_rate"),
                            out,
                        )?;
                        Some(WithholdingTax { code: draft.code, rate })
                    })
                    .collect();
                parsed.into_iter().collect::<Option<Vec<_>>>().map(Some)
            }
        };
        let mandate = match draft.mandate {
            None => Some(None),
            Some(mandate) => collect(
                IdentificationDocumentType::from_id(mandate.identification_document_id),
                path.key("mandate").key("identification_document_id"),
                out,
            )
            .map(|document| {
                Some(Mandate { identification_document: document, identification: mandate.identification })
            }),
        };

        Some(Self {
            code_reference: draft.code_reference,
            name: draft.name,
            quantity: quantity?,
            price: price?,
            discount_rate: discount_rate?,
            tax_rate: tax_rate?,
            unit_measure: unit_measure?,
            standard_code: standard_code?,
            is_excluded: is_excluded?,
            tribute: tribute?,
            scheme_id: draft.scheme_id,
            note: draft.note.filter(|note| !note.is_empty()),
            withholding_taxes: withholding_taxes?,
            mandate: mandate?,
        })
    }

    /// The seller's product code.
    #[must_use]
    pub fn code_reference(&self) -> &str {
        &self.code_reference
    }

    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    #[must_use]
    pub fn quantity(&self) -> Quantity {
        self.quantity
    }

    /// Unit price including taxes, with the scale the client wrote.
    #[must_use]
    pub fn price(&self) -> Money {
        self.price
    }

    /// Discount percentage (0 to 100), with the scale the client wrote (`0.00` by default).
    #[must_use]
    pub fn discount_rate(&self) -> Rate {
        self.discount_rate
    }

    /// Tax percentage, with the scale the client wrote.
    #[must_use]
    pub fn tax_rate(&self) -> Rate {
        self.tax_rate
    }

    #[must_use]
    pub fn unit_measure_id(&self) -> i64 {
        self.unit_measure.id()
    }

    /// The unit of measure, with its DIAN code (`94` unidad).
    #[must_use]
    pub fn unit_measure(&self) -> Entry {
        self.unit_measure
    }

    #[must_use]
    pub fn standard_code_id(&self) -> i64 {
        self.standard_code.id()
    }

    /// The product identification standard, with its code (`999`).
    #[must_use]
    pub fn standard_code(&self) -> Entry {
        self.standard_code
    }

    /// Whether the line is excluded from IVA (Factus' `is_excluded` 1).
    #[must_use]
    pub fn is_excluded(&self) -> bool {
        self.is_excluded
    }

    /// The product tribute id (1 = IVA).
    #[must_use]
    pub fn tribute_id(&self) -> i64 {
        self.tribute.id()
    }

    /// The product tribute, with its DIAN tax code (`01` IVA, `04` INC).
    #[must_use]
    pub fn tribute(&self) -> Entry {
        self.tribute
    }

    /// Kept even when empty: the reference forwards it whenever it is not null.
    #[must_use]
    pub fn scheme_id(&self) -> Option<&str> {
        self.scheme_id.as_deref()
    }

    /// Never empty when present.
    #[must_use]
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }

    /// `None` when the client sent none; `Some(&[])` when it sent an empty list, which the
    /// reference forwards as `[]`.
    #[must_use]
    pub fn withholding_taxes(&self) -> Option<&[WithholdingTax]> {
        self.withholding_taxes.as_deref()
    }

    #[must_use]
    pub fn mandate(&self) -> Option<&Mandate> {
        self.mandate.as_ref()
    }
}
