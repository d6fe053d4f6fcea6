//! The invoice priced the way Factus v2 takes it: a **net** unit price per item, its tax as a
//! separate entry, and the amount the customer pays (`docs/ARCHITECTURE.md`, "Factus v1 and v2").
//!
//! Clients send tax-inclusive prices (Factus v1's contract, and ours). Factus v2 wants the price
//! without tax, with at most two decimal places, and computes per line (half away from zero):
//!
//! - `gross` = price × quantity; `discount` = round₂(gross × discount% / 100);
//! - `base` = gross − discount; `tax` = round₂(base × rate / 100) (zero when excluded);
//! - line total = base + tax; invoice total = Σ line totals + surcharges − allowance discounts.
//!
//! A net price with two places cannot always reproduce a tax-inclusive price: 10,000 with 19 %
//! IVA is 8,403.3613… net. So:
//!
//! 1. the net unit price is the tax-inclusive price ÷ (1 + rate), rounded to cents, or the cent
//!    just above or below it when that makes the v2 line total equal to the v1 one (or closer);
//! 2. whatever difference remains between the v2 total and the v1 total (a few cents, growing
//!    with quantities) is settled with Factus v2's `cash_rounding_amount`, the adjustment it
//!    documents for exactly this (at most ±500.00), and the payment (`payment_details[].amount`)
//!    is the v1 total.
//!
//! The customer therefore pays, and Factus stores as payable, exactly what the same sale costs on
//! v1, to the cent.

use rust_decimal::Decimal;

use super::invoice::AllowanceCharge;
use super::item::Item;
use super::money::{Money, round_to_cents};
use super::totals::Totals;

/// The largest `cash_rounding_amount` Factus v2 accepts, either sign.
pub const MAX_CASH_ROUNDING: Decimal = Decimal::from_parts(50_000, 0, 0, false, 2);

/// One item's amounts as Factus v2 computes them from a net price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetLine {
    price: Money,
    discount: Money,
    base: Money,
    tax: Money,
    total: Money,
}

impl NetLine {
    /// Factus v2's arithmetic for one line: `price` is the net unit price, `tax_rate` the percent
    /// applied (zero for an excluded item). `None` when an amount overflows.
    #[must_use]
    pub fn compute(price: Decimal, quantity: Decimal, discount_rate: Decimal, tax_rate: Decimal) -> Option<Self> {
        let hundred = Decimal::ONE_HUNDRED;
        let gross = round_to_cents(price.checked_mul(quantity)?);
        let discount = round_to_cents(gross.checked_mul(discount_rate)?.checked_div(hundred)?);
        let base = gross.checked_sub(discount)?;
        let tax = round_to_cents(base.checked_mul(tax_rate)?.checked_div(hundred)?);
        Some(Self {
            price: Money::from_rounded(price),
            discount: Money::from_rounded(discount),
            base: Money::from_rounded(base),
            tax: Money::from_rounded(tax),
            total: Money::from_rounded(base.checked_add(tax)?),
        })
    }

    /// The net unit price (two places).
    #[must_use]
    pub fn price(&self) -> Money {
        self.price
    }

    #[must_use]
    pub fn discount(&self) -> Money {
        self.discount
    }

    /// The taxable base of the line.
    #[must_use]
    pub fn base(&self) -> Money {
        self.base
    }

    #[must_use]
    pub fn tax(&self) -> Money {
        self.tax
    }

    /// `base + tax`.
    #[must_use]
    pub fn total(&self) -> Money {
        self.total
    }
}

/// The whole invoice priced for Factus v2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetPricing {
    lines: Vec<NetLine>,
    total: Money,
    cash_rounding: Money,
    payable: Money,
}

impl NetPricing {
    /// Prices every item net so that the v2 total is as close as cents allow to the v1 total in
    /// `totals`, and settles the rest as cash rounding. `None` when an amount overflows.
    pub(crate) fn compute(items: &[Item], charges: &[AllowanceCharge], totals: &Totals) -> Option<Self> {
        let lines = items
            .iter()
            .zip(totals.lines())
            .map(|(item, v1)| net_line(item, v1.total().amount()))
            .collect::<Option<Vec<_>>>()?;
        let mut total = Decimal::ZERO;
        for line in &lines {
            total = total.checked_add(line.total.amount())?;
        }
        for charge in charges {
            total = if charge.is_surcharge() {
                total.checked_add(charge.amount().amount())?
            } else {
                total.checked_sub(charge.amount().amount())?
            };
        }
        let payable = totals.total();
        let cash_rounding = payable.amount().checked_sub(total)?;
        Some(Self {
            lines,
            total: Money::from_rounded(total),
            cash_rounding: Money::from_rounded(cash_rounding),
            payable,
        })
    }

    /// One entry per item, in the order of the items.
    #[must_use]
    pub fn lines(&self) -> &[NetLine] {
        &self.lines
    }

    /// What Factus v2 computes as the invoice total from the net prices, before cash rounding.
    #[must_use]
    pub fn total(&self) -> Money {
        self.total
    }

    /// `cash_rounding_amount`: payable − total; zero when the net prices reproduce the v1 total.
    #[must_use]
    pub fn cash_rounding(&self) -> Money {
        self.cash_rounding
    }

    /// What the customer pays: the v1 total, sent as the payment's `amount`.
    #[must_use]
    pub fn payable(&self) -> Money {
        self.payable
    }

    /// Whether Factus v2 accepts the cash rounding (at most ±500.00). Only quantities in the tens
    /// of thousands of units can exceed it.
    #[must_use]
    pub fn rounding_within_limit(&self) -> bool {
        self.cash_rounding.amount().abs() <= MAX_CASH_ROUNDING
    }
}

/// The net line whose v2 total is closest to `v1_total`: the tax-inclusive price ÷ (1 + rate)
/// rounded to cents, else the cent below or above it.
fn net_line(item: &Item, v1_total: Decimal) -> Option<NetLine> {
    let hundred = Decimal::ONE_HUNDRED;
    let rate = if item.is_excluded() { Decimal::ZERO } else { item.tax_rate().percent() };
    let quantity = Decimal::from(item.quantity().get());
    let discount = item.discount_rate().percent();
    let exact = item.price().amount().checked_mul(hundred)?.checked_div(hundred.checked_add(rate)?)?;
    let rounded = round_to_cents(exact);
    let cent = Decimal::new(1, 2);

    let mut best: Option<(Decimal, NetLine)> = None;
    // The rounded price first: on a tie it stays, as the most faithful net price.
    for candidate in [rounded, rounded.checked_sub(cent)?, rounded.checked_add(cent)?] {
        if candidate <= Decimal::ZERO {
            continue;
        }
        let line = NetLine::compute(candidate, quantity, discount, rate)?;
        let gap = line.total.amount().checked_sub(v1_total)?.abs();
        if best.as_ref().is_none_or(|(best_gap, _)| gap < *best_gap) {
            best = Some((gap, line));
        }
    }
    best.map(|(_, line)| line)
}
