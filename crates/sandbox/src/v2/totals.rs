//! Document arithmetic for Factus v2, where item prices are net of tax (docs/sandbox.md, "v2").
//!
//! Per line: `gross = round2(price × quantity)`; `discount = discount_amount`, or
//! `round2(gross × discount_rate%)`; `base = gross − discount`; each tax
//! `round2(base × rate%)` (an excluded tax is 0 and the line is not taxable); `total = base + Σ
//! taxes`. ReteIVA (`05`) applies to the line's IVA, other withholdings to the base; withholdings
//! never change the total. Document total = Σ line totals + surcharges − allowance discounts +
//! `cash_rounding_amount`, and `payment_details` must add up to exactly that. Rounding is half away
//! from zero, as v1 (PHP's `round()`).

use rust_decimal::Decimal;

use crate::model::{AllowanceCharge, Item};
use crate::totals::{LineTax, LineTotals, Totals, Withholding, round2};

/// One entry of an item's `taxes[]`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TaxInput {
    /// `01` IVA, `04` INC, `35` ultraprocesados; an excluded tax without code is IVA.
    pub code: String,
    pub rate: Decimal,
    pub is_excluded: bool,
}

/// A v2 item: the shared item plus what only v2 sends.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ItemV2 {
    pub item: Item,
    pub taxes: Vec<TaxInput>,
    pub discount_amount: Option<Decimal>,
}

/// The net value of a line before taxes: `(gross, discount)`.
pub(crate) fn line_base(item: &ItemV2) -> (Decimal, Decimal) {
    let gross = round2(item.item.price * item.item.quantity);
    let discount =
        item.discount_amount.unwrap_or_else(|| round2(gross * item.item.discount_rate / Decimal::ONE_HUNDRED));
    (gross, discount)
}

/// Computes lines and document totals.
pub(crate) fn compute(items: &[ItemV2], charges: &[AllowanceCharge], cash_rounding: Decimal) -> Totals {
    let hundred = Decimal::ONE_HUNDRED;
    let mut totals = Totals::start(items.len(), cash_rounding);
    for item in items {
        let (gross, discount) = line_base(item);
        let base = gross - discount;
        let taxes: Vec<LineTax> = item
            .taxes
            .iter()
            .map(|t| {
                let (taxable, amount) = if t.is_excluded {
                    (Decimal::ZERO, Decimal::ZERO)
                } else {
                    (base, round2(base * t.rate / hundred))
                };
                LineTax {
                    code: t.code.clone(),
                    is_excluded: t.is_excluded,
                    rate: if t.is_excluded { Decimal::ZERO } else { t.rate },
                    taxable_amount: taxable,
                    tax_amount: amount,
                }
            })
            .collect();
        let tax: Decimal = taxes.iter().map(|t| t.tax_amount).sum();
        let taxed = taxes.iter().any(|t| !t.is_excluded);
        let taxable_amount = if taxed { base } else { Decimal::ZERO };
        let iva: Decimal = taxes.iter().filter(|t| t.code == "01").map(|t| t.tax_amount).sum();
        let withholdings: Vec<Withholding> = item
            .item
            .withholding_taxes
            .iter()
            .map(|w| Withholding::on(w, if w.code == "05" { iva } else { base }))
            .collect();
        let first = taxes.iter().find(|t| !t.is_excluded).or(taxes.first());
        let line = LineTotals {
            base,
            taxable_amount,
            discount,
            tax_amount: tax,
            total: base + tax,
            tax_rate: first.map_or(Decimal::ZERO, |t| t.rate),
            tax_code: first.map_or_else(|| "01".to_owned(), |t| t.code.clone()),
            withholdings,
            taxes,
        };
        totals.add_line(line);
    }
    totals.close(charges)
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::model::WithholdingInput;

    fn item(price: Decimal, quantity: Decimal, taxes: &[(&str, Decimal)]) -> ItemV2 {
        ItemV2 {
            item: Item { quantity, ..crate::totals::tests::item(price, Decimal::ZERO, Decimal::ZERO, &[]) },
            taxes: taxes
                .iter()
                .map(|(code, rate)| TaxInput { code: (*code).into(), rate: *rate, is_excluded: false })
                .collect(),
            discount_amount: None,
        }
    }

    #[test]
    fn the_rounding_example_of_the_v2_docs_needs_its_cash_rounding_to_match_the_payments() {
        // 175925.93 + 8 % INC = 175925.93 + 14074.07 = 190000.00
        // 2 × 14814.81 = 29629.62 + 8 % INC (2370.3696 → 2370.37) = 31999.99
        // 32407.41 + 19 % IVA (6157.4079 → 6157.41) = 38564.82
        // Σ = 260564.81; the payments (100000 + 160550) need cash_rounding_amount −14.81.
        let items = [
            item(dec!(175925.93), dec!(1), &[("04", dec!(8))]),
            item(dec!(14814.81), dec!(2), &[("04", dec!(8))]),
            item(dec!(32407.41), dec!(1), &[("01", dec!(19))]),
        ];
        let totals = compute(&items, &[], dec!(-14.81));
        assert_eq!(totals.gross_value, dec!(237962.96));
        assert_eq!(totals.tax_amount, dec!(22601.85));
        assert_eq!(totals.tax_of("04"), dec!(16444.44));
        assert_eq!(totals.tax_of("01"), dec!(6157.41));
        assert_eq!(totals.total, dec!(260550.00));
    }

    #[test]
    fn discounts_apply_before_tax_and_withholdings_leave_the_total_alone() {
        // 2.5 × 1000.10 = 2500.25; 10 % off = 250.03 (250.025 rounds away from zero); base 2250.22;
        // IVA 19 % = 427.5418 → 427.54; total 2677.76; ReteIVA 15 % of the IVA = 64.13,
        // ReteRenta 4 % of the base = 90.01.
        let mut line = item(dec!(1000.10), dec!(2.5), &[("01", dec!(19))]);
        line.item.discount_rate = dec!(10);
        line.item.withholding_taxes = vec![
            WithholdingInput { code: "05".into(), rate: dec!(15) },
            WithholdingInput { code: "06".into(), rate: dec!(4) },
        ];
        let totals = compute(&[line], &[], Decimal::ZERO);
        let l = &totals.lines[0];
        assert_eq!(
            (l.discount, l.base, l.tax_amount, l.total),
            (dec!(250.03), dec!(2250.22), dec!(427.54), dec!(2677.76))
        );
        assert_eq!(l.withholdings[0].value, dec!(64.13));
        assert_eq!(l.withholdings[1].value, dec!(90.01));
        assert_eq!(totals.total, dec!(2677.76));
    }

    #[test]
    fn an_excluded_item_pays_no_tax_and_is_not_taxable() {
        let mut line = item(dec!(83300), dec!(1), &[]);
        line.taxes = vec![TaxInput { code: "01".into(), rate: Decimal::ZERO, is_excluded: true }];
        let totals = compute(&[line], &[], Decimal::ZERO);
        assert_eq!((totals.taxable_amount, totals.tax_amount, totals.total), (dec!(0), dec!(0), dec!(83300)));
    }

    fn cents(value: i64) -> Decimal {
        Decimal::new(value, 2)
    }

    proptest::proptest! {
        /// Whatever the lines, the document adds up: each line is its base plus its taxes, the
        /// total is the lines plus surcharges minus allowances plus rounding, and every figure
        /// is whole cents (the payments can match it exactly).
        #[test]
        fn v2_totals_add_up_to_the_cent(
            lines in proptest::collection::vec(
                (1i64..10_000_000, 1i64..100_000, 0i64..10_000, proptest::option::of(0i64..10_000),
                 proptest::sample::select(vec![0i64, 500, 800, 1900]), proptest::bool::ANY),
                1..8,
            ),
            surcharge in 0i64..100_000,
            rounding in -50_000i64..50_000,
        ) {
            let items: Vec<ItemV2> = lines
                .iter()
                .map(|&(price, quantity, discount_rate, second_tax, rate, excluded)| {
                    let mut line = item(cents(price), cents(quantity), &[("01", cents(rate))]);
                    line.item.discount_rate = cents(discount_rate);
                    if excluded {
                        line.taxes = vec![TaxInput { code: "01".into(), rate: Decimal::ZERO, is_excluded: true }];
                    } else if let Some(second) = second_tax {
                        line.taxes.push(TaxInput { code: "35".into(), rate: cents(second), is_excluded: false });
                    }
                    line
                })
                .collect();
            let charges = [AllowanceCharge {
                concept_type: "03".into(),
                is_surcharge: true,
                reason: "r".into(),
                base_amount: cents(surcharge),
                amount: cents(surcharge),
            }];
            let totals = compute(&items, &charges, cents(rounding));
            for line in &totals.lines {
                let taxes: Decimal = line.taxes.iter().map(|t| t.tax_amount).sum();
                proptest::prop_assert_eq!(line.total, line.base + taxes);
                proptest::prop_assert!(line.base.scale() <= 2 && line.tax_amount.scale() <= 2);
            }
            let lines_total: Decimal = totals.lines.iter().map(|l| l.total).sum();
            proptest::prop_assert_eq!(totals.total, lines_total + cents(surcharge) + cents(rounding));
            proptest::prop_assert_eq!(totals.total, totals.gross_value + totals.tax_amount + cents(surcharge) + cents(rounding));
            proptest::prop_assert_eq!(totals.total.round_dp(2), totals.total);
        }
    }

    #[test]
    fn a_line_with_two_taxes_pays_both_on_the_same_base() {
        let totals = compute(&[item(dec!(100), dec!(1), &[("01", dec!(19)), ("35", dec!(20))])], &[], Decimal::ZERO);
        assert_eq!(totals.lines[0].tax_amount, dec!(39));
        assert_eq!(totals.total, dec!(139));
        assert_eq!(totals.taxes, vec![("01".to_owned(), dec!(19)), ("35".to_owned(), dec!(20))]);
    }
}
