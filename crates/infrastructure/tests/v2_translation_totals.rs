//! The same sale costs the same on Factus v1 and v2, to the cent.
//!
//! Thousands of generated invoices (several items, discounts, several tax rates, INC and IVA,
//! excluded items, self-withholdings, surcharges and allowance discounts) are each
//!
//! 1. totalled the way Factus v1 does from the client's tax-inclusive prices (computed here
//!    independently, and compared with the domain's totals), and
//! 2. translated into the `POST /v2/bills/validate` body, which is then totalled the way Factus v2
//!    does — from the body's JSON text alone: net price × quantity, discount, per-item taxes,
//!    charges, `cash_rounding_amount` — and whose `payment_details` must add up to that payable.
//!
//! Both must agree to the cent. The figures (cases, how many needed rounding, the largest
//! rounding, the largest gap before rounding) are printed with `--nocapture`.

use std::cell::RefCell;

use factus_domain::invoice::{AllowanceChargeDraft, Invoice, InvoiceDraft, ItemDraft, WithholdingTaxDraft};
use factus_domain::testing::person;
use factus_infrastructure::factus::payload_v2::bill_payload;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::Value;

const CASES: u32 = 2_000;

fn round2(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

fn money(max_cents: i64) -> impl Strategy<Value = Decimal> {
    // Prices as clients write them: whole pesos, one or two decimal places.
    (1..=max_cents, 0_u32..=2).prop_map(|(cents, scale)| match scale {
        0 => Decimal::from(cents / 100 + 1),
        1 => Decimal::new(cents / 10 + 1, 1),
        _ => Decimal::new(cents, 2),
    })
}

fn tax_rate() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        Just(Decimal::new(1900, 2)),
        Just(Decimal::from(19)),
        Just(Decimal::new(500, 2)),
        Just(Decimal::new(800, 2)),
        Just(Decimal::ZERO),
        (0_i64..=5_000).prop_map(|basis| Decimal::new(basis, 2)),
    ]
}

fn discount_rate() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        3 => Just(Decimal::new(0, 2)),
        1 => Just(Decimal::from(20)),
        2 => (0_i64..=10_000).prop_map(|basis| Decimal::new(basis, 2)),
    ]
}

fn withholdings() -> impl Strategy<Value = Option<Vec<WithholdingTaxDraft>>> {
    let one = (prop_oneof![Just("05"), Just("06"), Just("07")], 0_i64..=2_000).prop_map(|(code, basis)| {
        WithholdingTaxDraft { code: code.to_owned(), withholding_tax_rate: Decimal::new(basis, 2) }
    });
    proptest::option::of(proptest::collection::vec(one, 0..=2))
}

fn item() -> impl Strategy<Value = ItemDraft> {
    (
        money(50_000_000),
        prop_oneof![8 => 1_i64..=12, 2 => 13_i64..=2_000],
        discount_rate(),
        tax_rate(),
        // 0: IVA, 1: IVA excluded, 2: INC.
        prop_oneof![6 => Just(0_u8), 2 => Just(1_u8), 2 => Just(2_u8)],
        withholdings(),
    )
        .prop_map(|(price, quantity, discount_rate, tax_rate, kind, withholding_taxes)| ItemDraft {
            code_reference: "P".to_owned(),
            name: "Producto".to_owned(),
            quantity,
            price,
            discount_rate,
            tax_rate,
            unit_measure_id: 70,
            standard_code_id: 1,
            is_excluded: i64::from(kind == 1),
            tribute_id: if kind == 2 { 4 } else { 1 },
            withholding_taxes,
            ..ItemDraft::default()
        })
}

fn charge() -> impl Strategy<Value = AllowanceChargeDraft> {
    (any::<bool>(), money(5_000_000)).prop_map(|(is_surcharge, amount)| AllowanceChargeDraft {
        concept_type: "03".to_owned(),
        is_surcharge,
        reason: "Ajuste".to_owned(),
        base_amount: amount,
        amount,
    })
}

fn invoice() -> impl Strategy<Value = InvoiceDraft> {
    (proptest::collection::vec(item(), 1..=6), proptest::collection::vec(charge(), 0..=2), any::<bool>()).prop_map(
        |(items, charges, credit)| InvoiceDraft {
            reference_code: "PROP-1".to_owned(),
            payment_form: if credit { "2" } else { "1" }.to_owned(),
            payment_due_date: credit.then_some(time::macros::date!(2026 - 12 - 31)),
            customer: person("1020304050", "Cliente"),
            allowance_charges: (!charges.is_empty()).then_some(charges),
            items,
            ..InvoiceDraft::default()
        },
    )
}

/// Factus v1's total from the client's tax-inclusive prices.
fn v1_total(draft: &InvoiceDraft) -> Decimal {
    let hundred = Decimal::ONE_HUNDRED;
    let lines: Decimal = draft
        .items
        .iter()
        .map(|item| round2(item.price * Decimal::from(item.quantity) * (hundred - item.discount_rate) / hundred))
        .sum();
    let charges: Decimal = draft
        .allowance_charges
        .iter()
        .flatten()
        .map(|charge| if charge.is_surcharge { charge.amount } else { -charge.amount })
        .sum();
    lines + charges
}

fn decimal(value: &Value) -> Decimal {
    let text = value.as_str().unwrap_or_else(|| panic!("v2 amounts are strings, got {value}"));
    let amount: Decimal = text.parse().unwrap_or_else(|_| panic!("not a decimal: {text}"));
    assert!(amount.scale() <= 2, "v2 takes at most two decimal places, got {text}");
    amount
}

/// Factus v2's figures read from the body alone: (total before rounding, cash rounding, payments).
fn v2_figures(body: &Value) -> (Decimal, Decimal, Decimal) {
    let hundred = Decimal::ONE_HUNDRED;
    let mut total = Decimal::ZERO;
    for item in body["items"].as_array().unwrap() {
        let gross = decimal(&item["price"]) * decimal(&item["quantity"]);
        let discount = round2(gross * decimal(&item["discount_rate"]) / hundred);
        let base = gross - discount;
        let mut tax = Decimal::ZERO;
        for entry in item["taxes"].as_array().unwrap() {
            if entry["is_excluded"] != Value::Bool(true) {
                tax += round2(base * decimal(&entry["rate"]) / hundred);
            }
        }
        total += base + tax;
    }
    for charge in body["allowance_charges"].as_array().into_iter().flatten() {
        let amount = decimal(&charge["amount"]);
        total += if charge["is_surcharge"] == Value::Bool(true) { amount } else { -amount };
    }
    let rounding = decimal(&body["cash_rounding_amount"]);
    let paid = body["payment_details"].as_array().unwrap().iter().map(|payment| decimal(&payment["amount"])).sum();
    (total, rounding, paid)
}

#[derive(Debug, Default)]
struct Figures {
    cases: u32,
    rounded: u32,
    max_rounding: Decimal,
    lines: u64,
}

#[test]
fn every_generated_invoice_costs_the_same_on_v2_as_on_v1_to_the_cent() {
    let figures = RefCell::new(Figures::default());
    let mut runner = TestRunner::new(Config { cases: CASES, ..Config::default() });
    runner
        .run(&invoice(), |draft| {
            let expected = v1_total(&draft);
            let invoice = Invoice::parse(draft.clone()).expect("generated invoices are valid");
            prop_assert_eq!(invoice.totals().total().amount(), expected, "the domain's v1 total");

            let body = bill_payload(&invoice);
            let (total, rounding, paid) = v2_figures(&body);
            prop_assert_eq!(total + rounding, expected, "v2 payable = v1 total");
            prop_assert_eq!(paid, expected, "the payments add up to the payable");
            prop_assert!(rounding.abs() <= Decimal::from(500), "Factus v2 caps cash rounding at ±500.00");

            let mut figures = figures.borrow_mut();
            figures.cases += 1;
            figures.lines += draft.items.len() as u64;
            if !rounding.is_zero() {
                figures.rounded += 1;
            }
            figures.max_rounding = figures.max_rounding.max(rounding.abs());
            Ok(())
        })
        .unwrap_or_else(|failure| panic!("{failure}"));

    let figures = figures.into_inner();
    assert!(figures.cases >= 1_000, "{figures:?}");
    println!(
        "v1/v2 totals: {} invoices ({} lines) agree to the cent; {} needed cash rounding, the largest {}",
        figures.cases, figures.lines, figures.rounded, figures.max_rounding
    );
}

#[test]
fn the_worked_example_of_factus_costs_99000_on_both_versions() {
    // Factus' own v1 example: two items of 50,000 (one 20 % off, 19 % IVA; one 5 % IVA) and a
    // 9,000 surcharge make 99,000.00.
    let mut draft = InvoiceDraft {
        reference_code: "DOC-1".to_owned(),
        customer: person("1", "Cliente"),
        ..InvoiceDraft::default()
    };
    let line = |discount: Decimal, rate: Decimal| ItemDraft {
        code_reference: "P".to_owned(),
        name: "P".to_owned(),
        quantity: 1,
        price: Decimal::from(50_000),
        discount_rate: discount,
        tax_rate: rate,
        unit_measure_id: 70,
        standard_code_id: 1,
        tribute_id: 1,
        ..ItemDraft::default()
    };
    draft.items = vec![line(Decimal::from(20), Decimal::from(19)), line(Decimal::ZERO, Decimal::from(5))];
    draft.allowance_charges = Some(vec![AllowanceChargeDraft {
        concept_type: "03".to_owned(),
        is_surcharge: true,
        reason: "Propina".to_owned(),
        base_amount: Decimal::from(90_000),
        amount: Decimal::from(9_000),
    }]);
    let body = bill_payload(&Invoice::parse(draft).unwrap());
    let (total, rounding, paid) = v2_figures(&body);
    assert_eq!(total + rounding, Decimal::new(9_900_000, 2));
    assert_eq!(paid, Decimal::new(9_900_000, 2));
    assert_eq!(body["items"][0]["price"], "42016.81");
    assert_eq!(body["items"][1]["price"], "47619.05");
}
