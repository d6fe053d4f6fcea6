//! Document arithmetic for Factus v1, where item prices include tax (`docs/factus.md` §4.5).
//!
//! Per line: `total = price × qty × (1 − discount%)`, `base = round2(total / (1 + rate%))`,
//! `tax = total − base`, shown discount `= round2(price × qty / (1 + rate%) × discount%)`.
//! ReteIVA (`05`) applies to the tax, ReteRenta (`06`) and ReteICA (`07`) to the base; withholdings
//! never change the total. Document total = Σ line totals + surcharges − allowance discounts.
//! Rounding is half away from zero, as PHP's `round()`.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::catalog::{PRODUCT_TRIBUTES, WITHHOLDINGS, name_of};
use crate::model::{AllowanceCharge, Item, WithholdingInput};

/// Rounds to cents, half away from zero.
pub(crate) fn round2(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// A withholding on a line or, summed, on the document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Withholding {
    pub code: String,
    pub name: String,
    pub rate: Decimal,
    pub value: Decimal,
}

impl Withholding {
    /// What `withholding` takes from `amount` (the line's base, or its IVA for ReteIVA `05`).
    pub fn on(withholding: &WithholdingInput, amount: Decimal) -> Self {
        Self {
            code: withholding.code.clone(),
            name: name_of(&WITHHOLDINGS, &withholding.code).unwrap_or("Retención").to_owned(),
            rate: withholding.rate,
            value: round2(amount * withholding.rate / Decimal::ONE_HUNDRED),
        }
    }
}

/// Figures of one item line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct LineTotals {
    /// Value before tax (`gross_value`, also the `taxable_amount` unless excluded).
    pub base: Decimal,
    pub taxable_amount: Decimal,
    pub discount: Decimal,
    pub tax_amount: Decimal,
    /// Tax-inclusive line value.
    pub total: Decimal,
    /// Tax rate actually applied (0 when excluded).
    pub tax_rate: Decimal,
    /// DIAN code of the item's tribute (`01` IVA, `04` INC, …).
    pub tax_code: String,
    pub withholdings: Vec<Withholding>,
    /// Each tax of the line (v1 lines have one; v2 items may send several).
    #[serde(default)]
    pub taxes: Vec<LineTax>,
}

/// One tax of a line: its base, rate and amount.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct LineTax {
    /// DIAN tribute code (`01` IVA, `04` INC, `35` ultraprocesados).
    pub code: String,
    pub is_excluded: bool,
    pub rate: Decimal,
    pub taxable_amount: Decimal,
    pub tax_amount: Decimal,
}

/// Figures of a whole document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Totals {
    pub lines: Vec<LineTotals>,
    /// Σ line bases (`gross_value`, UBL `LineExtensionAmount`).
    pub gross_value: Decimal,
    /// Σ bases of taxed lines (UBL `TaxExclusiveAmount`).
    pub taxable_amount: Decimal,
    pub tax_amount: Decimal,
    /// Σ line discounts.
    pub discount_amount: Decimal,
    /// Σ surcharges (`allowance_charges` with `is_surcharge`).
    pub surcharge_amount: Decimal,
    /// Σ document-level discounts (`allowance_charges` without `is_surcharge`).
    pub allowance_amount: Decimal,
    /// v2's `cash_rounding_amount`, already part of `total` (zero in v1).
    #[serde(default)]
    pub cash_rounding_amount: Decimal,
    /// Amount payable.
    pub total: Decimal,
    /// Tax per DIAN tribute code, in first-seen order.
    pub taxes: Vec<(String, Decimal)>,
    /// Withholdings summed per code, in first-seen order.
    pub withholdings: Vec<Withholding>,
}

impl Totals {
    /// A document with no line yet, every amount zero but the cash rounding (v2), which
    /// [`Totals::close`] adds to the total last.
    pub fn start(lines: usize, cash_rounding: Decimal) -> Self {
        Self {
            lines: Vec::with_capacity(lines),
            gross_value: Decimal::ZERO,
            taxable_amount: Decimal::ZERO,
            tax_amount: Decimal::ZERO,
            discount_amount: Decimal::ZERO,
            surcharge_amount: Decimal::ZERO,
            allowance_amount: Decimal::ZERO,
            cash_rounding_amount: cash_rounding,
            total: Decimal::ZERO,
            taxes: Vec::new(),
            withholdings: Vec::new(),
        }
    }

    /// Adds a line: its amounts to the document's, its taxes and withholdings to the sums per code.
    pub fn add_line(&mut self, line: LineTotals) {
        self.gross_value += line.base;
        self.taxable_amount += line.taxable_amount;
        self.tax_amount += line.tax_amount;
        self.discount_amount += line.discount;
        self.total += line.total;
        for t in &line.taxes {
            match self.taxes.iter_mut().find(|(c, _)| *c == t.code) {
                Some((_, sum)) => *sum += t.tax_amount,
                None => self.taxes.push((t.code.clone(), t.tax_amount)),
            }
        }
        for w in &line.withholdings {
            match self.withholdings.iter_mut().find(|s| s.code == w.code) {
                Some(sum) => sum.value += w.value,
                None => self.withholdings.push(w.clone()),
            }
        }
        self.lines.push(line);
    }

    /// The total once every line is in: surcharges added, allowance discounts taken off, and the
    /// cash rounding added.
    pub fn close(mut self, charges: &[AllowanceCharge]) -> Self {
        for charge in charges {
            if charge.is_surcharge {
                self.surcharge_amount += charge.amount;
            } else {
                self.allowance_amount += charge.amount;
            }
        }
        self.total = self.total + self.surcharge_amount - self.allowance_amount + self.cash_rounding_amount;
        self
    }

    /// Tax of one DIAN tribute code (zero when absent), as the CUFE chain needs.
    pub fn tax_of(&self, code: &str) -> Decimal {
        self.taxes.iter().find(|(c, _)| c == code).map_or(Decimal::ZERO, |(_, v)| *v)
    }
}

/// Computes lines and document totals.
pub(crate) fn compute(items: &[Item], charges: &[AllowanceCharge]) -> Totals {
    let hundred = Decimal::ONE_HUNDRED;
    let mut totals = Totals::start(items.len(), Decimal::ZERO);
    for item in items {
        let rate = if item.is_excluded { Decimal::ZERO } else { item.tax_rate };
        let tax_code = PRODUCT_TRIBUTES.iter().find(|t| t.id == item.tribute_id).map_or("01", |t| t.code).to_owned();
        let gross = item.price * item.quantity;
        let divisor = Decimal::ONE + rate / hundred;
        let total = round2(gross * (Decimal::ONE - item.discount_rate / hundred));
        let base = round2(total / divisor);
        let tax = total - base;
        let discount = round2(gross / divisor * item.discount_rate / hundred);
        let taxable_amount = if item.is_excluded { Decimal::ZERO } else { base };
        let withholdings = item
            .withholding_taxes
            .iter()
            .map(|w| Withholding::on(w, if w.code == "05" { tax } else { base }))
            .collect::<Vec<_>>();
        let taxes = vec![LineTax {
            code: tax_code.clone(),
            is_excluded: item.is_excluded,
            rate,
            taxable_amount,
            tax_amount: tax,
        }];
        totals.add_line(LineTotals {
            base,
            taxable_amount,
            discount,
            tax_amount: tax,
            total,
            tax_rate: rate,
            tax_code,
            withholdings,
            taxes,
        });
    }
    totals.close(charges)
}

/// Percentage an allowance/charge represents of its base, as Factus reports it.
pub(crate) fn charge_percentage(charge: &AllowanceCharge) -> Decimal {
    if charge.base_amount.is_zero() {
        Decimal::ZERO
    } else {
        round2(charge.amount / charge.base_amount * Decimal::ONE_HUNDRED)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::model::WithholdingInput;

    /// One unit of a plain line (IVA, unit 70, standard code 1) at `price`, with its discount,
    /// tax rate and withholdings; the v2 tests' lines too.
    pub(crate) fn item(price: Decimal, discount: Decimal, rate: Decimal, withholdings: &[(&str, Decimal)]) -> Item {
        Item {
            code_reference: "P".into(),
            name: "P".into(),
            quantity: Decimal::ONE,
            discount_rate: discount,
            price,
            tax_rate: rate,
            unit_measure_id: 70,
            standard_code_id: 1,
            is_excluded: false,
            tribute_id: 1,
            scheme_id: None,
            note: None,
            withholding_taxes: withholdings
                .iter()
                .map(|(c, r)| WithholdingInput { code: (*c).into(), rate: *r })
                .collect(),
            mandate: None,
        }
    }

    #[test]
    fn withholdings_use_the_rates_as_sent() {
        // The doc example sends 15.12 / 7.38 but shows figures for 15 / 7 (§4.5); the sandbox
        // applies what it is sent.
        let items = [item(dec!(50000), dec!(20), dec!(19), &[("06", dec!(7.38)), ("05", dec!(15.12))])];
        let totals = compute(&items, &[]);
        let line = &totals.lines[0];
        assert_eq!(line.withholdings[0].value, dec!(2480.67));
        assert_eq!(line.withholdings[1].value, dec!(965.65));
        assert_eq!(totals.total, dec!(40000.00));
    }

    #[test]
    fn excluded_items_carry_no_tax_and_are_not_taxable() {
        let mut excluded = item(dec!(1000.50), dec!(0), dec!(19), &[]);
        excluded.is_excluded = true;
        excluded.quantity = Decimal::from(3);
        let totals = compute(&[excluded], &[]);
        assert_eq!(totals.tax_amount, dec!(0));
        assert_eq!(totals.gross_value, dec!(3001.50));
        assert_eq!(totals.taxable_amount, dec!(0));
        assert_eq!(totals.total, dec!(3001.50));
    }

    #[test]
    fn allowance_discounts_lower_the_total_and_surcharges_raise_it() {
        let charge = |is_surcharge, amount| AllowanceCharge {
            concept_type: "03".into(),
            is_surcharge,
            reason: "r".into(),
            base_amount: dec!(1000),
            amount,
        };
        let totals =
            compute(&[item(dec!(1190), dec!(0), dec!(19), &[])], &[charge(true, dec!(100)), charge(false, dec!(40))]);
        assert_eq!(totals.total, dec!(1250));
        assert_eq!(charge_percentage(&charge(true, dec!(100))), dec!(10.00));
    }
}
