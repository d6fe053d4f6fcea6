//! Invoice totals computed the way Factus v1 computes them, exact to the cent.
//!
//! Factus v1 prices **include** tax. For each line (`docs/factus.md` §4.5):
//!
//! - `gross` = price × quantity (tax included, before the discount);
//! - `total` = round₂(gross × (1 − discount / 100));
//! - `taxable_amount` (the base) = round₂(total / (1 + tax_rate / 100)), and `tax_amount` =
//!   total − base, so base + tax is always exactly the line total;
//! - `discount` as Factus shows it, without tax: round₂(gross / (1 + tax_rate / 100) × discount / 100);
//! - an item excluded from IVA (`is_excluded` 1) carries no tax whatever its `tax_rate`: its base
//!   is its total;
//! - self-withholdings: ReteIVA (`05`) = round₂(tax × rate / 100), every other code (ReteRenta `06`,
//!   ReteICA `07`) = round₂(base × rate / 100). They are informative: the customer withholds them
//!   from the payment, they do **not** change the invoice total.
//!
//! For the bill: `gross_value` = Σ bases, `tax_amount` = Σ taxes, and `total` = Σ line totals +
//! surcharges − allowance discounts (the allowance charges of the invoice).
//!
//! Rounding is half away from zero to two places; every amount has scale exactly 2. All
//! arithmetic is checked: amounts too large for a 96-bit decimal make the computation fail instead
//! of panicking, and the invoice is refused.

use rust_decimal::Decimal;

use super::invoice::AllowanceCharge;
use super::item::Item;
use super::money::{Money, WithholdingRate, round_to_cents};

/// One self-withholding of one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithholdingAmount {
    code: String,
    rate: WithholdingRate,
    amount: Money,
}

impl WithholdingAmount {
    #[must_use]
    pub fn code(&self) -> &str {
        &self.code
    }

    #[must_use]
    pub fn rate(&self) -> WithholdingRate {
        self.rate
    }

    /// The amount withheld, rounded to cents.
    #[must_use]
    pub fn amount(&self) -> Money {
        self.amount
    }
}

/// The amounts of one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineTotals {
    gross: Money,
    discount: Money,
    taxable_amount: Money,
    tax_amount: Money,
    total: Money,
    withholdings: Vec<WithholdingAmount>,
}

impl LineTotals {
    /// Price × quantity, tax included, before the discount.
    #[must_use]
    pub fn gross(&self) -> Money {
        self.gross
    }

    /// The discount without tax, as Factus reports it (`discount`).
    #[must_use]
    pub fn discount(&self) -> Money {
        self.discount
    }

    /// The taxable base (Factus' line `gross_value` / `taxable_amount`).
    #[must_use]
    pub fn taxable_amount(&self) -> Money {
        self.taxable_amount
    }

    #[must_use]
    pub fn tax_amount(&self) -> Money {
        self.tax_amount
    }

    /// The line total, tax included; always `taxable_amount + tax_amount`.
    #[must_use]
    pub fn total(&self) -> Money {
        self.total
    }

    /// The self-withholdings of the line, in the order the client listed them.
    #[must_use]
    pub fn withholdings(&self) -> &[WithholdingAmount] {
        &self.withholdings
    }
}

/// What is withheld in total under one withholding code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithholdingTotal {
    code: String,
    amount: Money,
}

impl WithholdingTotal {
    #[must_use]
    pub fn code(&self) -> &str {
        &self.code
    }

    #[must_use]
    pub fn amount(&self) -> Money {
        self.amount
    }
}

/// The amounts of the whole invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Totals {
    lines: Vec<LineTotals>,
    gross_value: Money,
    discount: Money,
    tax_amount: Money,
    surcharge_amount: Money,
    allowance_amount: Money,
    withholdings: Vec<WithholdingTotal>,
    total: Money,
}

impl Totals {
    /// One entry per item, in the order of the items.
    #[must_use]
    pub fn lines(&self) -> &[LineTotals] {
        &self.lines
    }

    /// Σ taxable bases (Factus' bill `gross_value`).
    #[must_use]
    pub fn gross_value(&self) -> Money {
        self.gross_value
    }

    /// Σ line discounts without tax.
    #[must_use]
    pub fn discount(&self) -> Money {
        self.discount
    }

    /// Σ line taxes.
    #[must_use]
    pub fn tax_amount(&self) -> Money {
        self.tax_amount
    }

    /// Σ allowance charges that are surcharges (they add to the total).
    #[must_use]
    pub fn surcharge_amount(&self) -> Money {
        self.surcharge_amount
    }

    /// Σ allowance charges that are discounts (they subtract from the total).
    #[must_use]
    pub fn allowance_amount(&self) -> Money {
        self.allowance_amount
    }

    /// Σ withheld amounts per code, codes in the order they first appear.
    #[must_use]
    pub fn withholdings(&self) -> &[WithholdingTotal] {
        &self.withholdings
    }

    /// Σ line totals + surcharges − allowance discounts. Withholdings do not change it.
    #[must_use]
    pub fn total(&self) -> Money {
        self.total
    }

    /// Computes the totals, or `None` when an amount overflows a decimal.
    pub(crate) fn compute(items: &[Item], charges: &[AllowanceCharge]) -> Option<Self> {
        let lines = items.iter().map(line_totals).collect::<Option<Vec<_>>>()?;

        let lines_total = sum(lines.iter().map(LineTotals::total))?;
        let gross_value = sum(lines.iter().map(LineTotals::taxable_amount))?;
        let discount = sum(lines.iter().map(LineTotals::discount))?;
        let tax_amount = sum(lines.iter().map(LineTotals::tax_amount))?;
        let surcharge_amount = sum(charges.iter().filter(|c| c.is_surcharge()).map(AllowanceCharge::amount))?;
        let allowance_amount = sum(charges.iter().filter(|c| !c.is_surcharge()).map(AllowanceCharge::amount))?;
        let total = lines_total.checked_add(surcharge_amount)?.checked_sub(allowance_amount)?;

        let mut withholdings: Vec<WithholdingTotal> = Vec::new();
        for withheld in lines.iter().flat_map(LineTotals::withholdings) {
            match withholdings.iter_mut().find(|total| total.code == withheld.code) {
                Some(total) => {
                    total.amount = Money::from_rounded(total.amount.amount().checked_add(withheld.amount.amount())?);
                }
                None => withholdings.push(WithholdingTotal { code: withheld.code.clone(), amount: withheld.amount }),
            }
        }

        Some(Self {
            lines,
            gross_value: Money::from_rounded(gross_value),
            discount: Money::from_rounded(discount),
            tax_amount: Money::from_rounded(tax_amount),
            surcharge_amount: Money::from_rounded(surcharge_amount),
            allowance_amount: Money::from_rounded(allowance_amount),
            withholdings,
            total: Money::from_rounded(total),
        })
    }
}

/// Σ amounts, or `None` on overflow.
fn sum(mut amounts: impl Iterator<Item = Money>) -> Option<Decimal> {
    amounts.try_fold(Decimal::ZERO, |acc, money| acc.checked_add(money.amount()))
}

fn line_totals(item: &Item) -> Option<LineTotals> {
    let hundred = Decimal::ONE_HUNDRED;
    // An excluded item carries no tax, whatever rate the client wrote (as Factus computes it).
    let tax_rate = if item.is_excluded() { Decimal::ZERO } else { item.tax_rate().percent() };
    let discount_rate = item.discount_rate().percent();
    // 100 + tax rate: dividing by it turns a tax-included amount into its base.
    let tax_divisor = hundred.checked_add(tax_rate)?;

    let gross = item.price().amount().checked_mul(Decimal::from(item.quantity().get()))?;
    let total = round_to_cents(gross.checked_mul(hundred.checked_sub(discount_rate)?)?.checked_div(hundred)?);
    let taxable_amount = round_to_cents(total.checked_mul(hundred)?.checked_div(tax_divisor)?);
    let tax_amount = total.checked_sub(taxable_amount)?;
    let discount = round_to_cents(gross.checked_mul(discount_rate)?.checked_div(tax_divisor)?);

    let withholdings = item
        .withholding_taxes()
        .unwrap_or_default()
        .iter()
        .map(|withholding| {
            let base = if withholding.applies_to_tax() { tax_amount } else { taxable_amount };
            let amount = round_to_cents(base.checked_mul(withholding.rate().percent())?.checked_div(hundred)?);
            Some(WithholdingAmount {
                code: withholding.code().to_owned(),
                rate: withholding.rate(),
                amount: Money::from_rounded(amount),
            })
        })
        .collect::<Option<Vec<_>>>()?;

    Some(LineTotals {
        gross: Money::from_rounded(gross),
        discount: Money::from_rounded(discount),
        taxable_amount: Money::from_rounded(taxable_amount),
        tax_amount: Money::from_rounded(tax_amount),
        total: Money::from_rounded(total),
        withholdings,
    })
}
