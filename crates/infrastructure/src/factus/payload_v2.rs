//! The JSON body of Factus `POST /v2/bills/validate`, translated from the same domain [`Invoice`]
//! a v1 body is built from (`docs/ARCHITECTURE.md`, "Factus v1 and v2"):
//!
//! - v1 ids become DIAN codes through the bundled catalogues (`identification_document_code`,
//!   `legal_organization_code`, `tribute_code`, `municipality_code`, `unit_measure_code`,
//!   `standard_code`; the product tribute becomes `taxes[].code`);
//! - the tax-inclusive `price` becomes the net price of [`NetPricing`], the tax an entry of the
//!   item's `taxes[]` (`[{"code": "01", "is_excluded": true}]` for an item excluded from IVA),
//!   `tax_rate` its `rate`;
//! - `payment_form`, `payment_method_code` and `payment_due_date` become one `payment_details[]`
//!   entry whose `amount` is the v1 total, and `cash_rounding_amount` settles the cents the net
//!   prices cannot reproduce, so the payments add up to the invoice as Factus v2 requires;
//! - every amount, rate and quantity is a string with at most two decimal places, as v2 wants.
//!
//! [`NetPricing`]: factus_domain::invoice::NetPricing

use factus_domain::invoice::{Customer, Invoice, Item, NetLine, NetPricing, Note, PaymentForm, SupportDocument};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use time::Date;

use super::payload_parts::{
    StartTime, allowance_charges, billing_period, establishment, insert_present, iso_date, mandate, order_reference,
    provider, related_documents, withholding_taxes,
};

/// The Factus v2 create-invoice body for `invoice`.
#[must_use]
pub fn bill_payload(invoice: &Invoice) -> Value {
    let pricing = invoice.net_pricing();
    let mut payload = Map::new();
    payload.insert("reference_code".into(), json!(invoice.reference_code().as_str()));
    payload.insert("document".into(), json!(invoice.document()));
    insert_present(
        &mut payload,
        [
            ("numbering_range_id", invoice.numbering_range_id().map(Value::from)),
            ("operation_type", invoice.operation_type().map(Value::from)),
            ("send_email", invoice.send_email().map(Value::from)),
            ("observation", invoice.observation().map(|observation| json!(observation.as_str()))),
        ],
    );

    insert_payment(
        &mut payload,
        pricing,
        invoice.payment_form(),
        invoice.payment_method_code(),
        invoice.payment_due_date(),
    );

    insert_present(
        &mut payload,
        [
            ("order_reference", invoice.order_reference().map(order_reference)),
            ("related_documents", related_documents(invoice)),
            (
                "billing_period",
                invoice.billing_period().map(|period| billing_period(period, StartTime::AfterStartDate)),
            ),
            (
                "establishment",
                invoice
                    .establishment()
                    .map(|place| establishment(place, ("municipality_code", json!(place.municipality().code())))),
            ),
        ],
    );
    payload.insert("customer".into(), customer(invoice.customer()));
    payload.insert("items".into(), items(invoice.items(), pricing));
    insert_present(&mut payload, [("allowance_charges", allowance_charges(invoice))]);
    Value::Object(payload)
}

/// The Factus v2 create body of a credit or debit note (`POST /v2/{credit,debit}-notes/validate`):
/// the referenced invoice by its `bill_number` (or a `billing_period` without one), the invoice's
/// item and customer blocks, and one cash payment of the note's total as `payment_details`.
#[must_use]
pub fn note_payload(note: &Note) -> Value {
    let pricing = note.net_pricing();
    let mut payload = Map::new();
    payload.insert("reference_code".into(), json!(note.reference_code().as_str()));
    insert_present(&mut payload, [("numbering_range_id", note.numbering_range_id().map(Value::from))]);
    payload.insert("correction_concept_code".into(), json!(note.correction_concept_code().to_string()));
    payload.insert("customization_id".into(), json!(note.customization_id()));
    insert_present(
        &mut payload,
        [
            ("bill_number", note.bill_number().map(Value::from)),
            ("billing_period", note.billing_period().map(|period| billing_period(period, StartTime::AfterStartDate))),
            ("send_email", note.send_email().map(Value::from)),
            ("observation", note.observation().map(|observation| json!(observation.as_str()))),
        ],
    );
    insert_payment(&mut payload, pricing, PaymentForm::Cash, note.payment_method_code(), None);
    insert_present(&mut payload, [("customer", note.customer().map(customer))]);
    payload.insert("items".into(), items(note.items(), pricing));
    Value::Object(payload)
}

/// The Factus v2 create body of a support document (`POST /v2/support-documents/validate`): the
/// provider with DIAN codes and items without taxes.
#[must_use]
pub fn support_payload(document: &SupportDocument) -> Value {
    let pricing = document.net_pricing();
    let mut payload = Map::new();
    payload.insert("reference_code".into(), json!(document.reference_code().as_str()));
    insert_present(
        &mut payload,
        [
            ("numbering_range_id", document.numbering_range_id().map(Value::from)),
            ("observation", document.observation().map(|observation| json!(observation.as_str()))),
        ],
    );
    insert_payment(&mut payload, pricing, PaymentForm::Cash, document.payment_method_code(), None);
    let seller = document.provider();
    payload.insert(
        "provider".into(),
        provider(
            seller,
            ("identification_document_code", json!(seller.identification_document().dian_code())),
            Value::from(seller.is_resident()),
            ("municipality_code", seller.municipality().map(|municipality| Value::from(municipality.code()))),
        ),
    );
    let lines: Vec<Value> = document
        .items()
        .iter()
        .zip(pricing.lines())
        .map(|(item, net)| {
            let mut object = item_fields(item, net);
            object.remove("taxes");
            Value::Object(object)
        })
        .collect();
    payload.insert("items".into(), Value::Array(lines));
    Value::Object(payload)
}

/// `payment_details` with the one payment of the payable amount (v1 total) and the
/// `cash_rounding_amount` that reconciles it with the net lines (`docs/ARCHITECTURE.md`).
fn insert_payment(
    payload: &mut Map<String, Value>,
    pricing: &NetPricing,
    form: PaymentForm,
    method: &str,
    due: Option<Date>,
) {
    let mut payment = Map::new();
    payment.insert("payment_form".into(), json!(form.code()));
    payment.insert("payment_method_code".into(), json!(method));
    payment.insert("amount".into(), json!(pricing.payable().to_string()));
    insert_present(&mut payment, [("due_date", due.map(|due| json!(iso_date(due))))]);
    payload.insert("payment_details".into(), json!([Value::Object(payment)]));
    payload.insert("cash_rounding_amount".into(), json!(pricing.cash_rounding().to_string()));
}

fn items(items: &[Item], pricing: &NetPricing) -> Value {
    Value::Array(items.iter().zip(pricing.lines()).map(|(item, net)| Value::Object(item_fields(item, net))).collect())
}

fn customer(customer: &Customer) -> Value {
    let mut object = Map::new();
    object.insert("identification_document_code".into(), json!(customer.identification_document().dian_code()));
    object.insert("identification".into(), json!(customer.identification()));
    insert_present(
        &mut object,
        [
            ("dv", customer.dv().map(Value::from)),
            ("company", customer.company().map(Value::from)),
            ("trade_name", customer.trade_name().map(Value::from)),
            ("names", customer.names().map(Value::from)),
            ("address", customer.address().map(Value::from)),
            ("email", customer.email().map(|email| Value::from(email.as_str()))),
            ("phone", customer.phone().map(Value::from)),
        ],
    );
    object.insert("legal_organization_code".into(), json!(customer.legal_organization().code()));
    object.insert("tribute_code".into(), json!(customer.tribute().code()));
    insert_present(&mut object, [("municipality_code", customer.municipality().map(|place| json!(place.code())))]);
    Value::Object(object)
}

fn item_fields(item: &Item, net: &NetLine) -> Map<String, Value> {
    let mut object = Map::new();
    object.insert("code_reference".into(), json!(item.code_reference()));
    object.insert("name".into(), json!(item.name()));
    let mut quantity = Decimal::from(item.quantity().get());
    quantity.rescale(2);
    object.insert("quantity".into(), json!(quantity.to_string()));
    object.insert("discount_rate".into(), json!(item.discount_rate().to_string()));
    object.insert("price".into(), json!(net.price().to_string()));
    object.insert("unit_measure_code".into(), json!(item.unit_measure().code()));
    object.insert("standard_code".into(), json!(item.standard_code().code()));
    // The tribute's code goes with an exclusion too, so Factus can hold it to its rule that only
    // IVA may be excluded (v1 checks the same on `tribute_id`).
    let tax = if item.is_excluded() {
        json!({"code": item.tribute().code(), "is_excluded": true})
    } else {
        json!({"code": item.tribute().code(), "rate": item.tax_rate().to_string()})
    };
    object.insert("taxes".into(), json!([tax]));
    insert_present(
        &mut object,
        [
            ("note", item.note().map(Value::from)),
            ("scheme_id", item.scheme_id().map(Value::from)),
            ("withholding_taxes", withholding_taxes(item, "rate")),
            (
                "mandate",
                mandate(item, |mandate| {
                    ("identification_document_code", json!(mandate.identification_document().dian_code()))
                }),
            ),
        ],
    );
    object
}

#[cfg(test)]
mod tests {
    use super::*;
    use factus_domain::invoice::{CustomerDraft, InvoiceDraft, ItemDraft, WithholdingTaxDraft};
    use rust_decimal_macros::dec;
    use time::macros::date;

    fn item(price: Decimal, quantity: i64, tax_rate: Decimal) -> ItemDraft {
        ItemDraft { quantity, ..factus_domain::testing::item_draft(price, tax_rate) }
    }

    fn draft(items: Vec<ItemDraft>) -> InvoiceDraft {
        InvoiceDraft {
            reference_code: "R2".to_owned(),
            customer: CustomerDraft {
                identification_document_id: 6,
                identification: "900123456".to_owned(),
                dv: Some("7".to_owned()),
                company: Some("ACME SAS".to_owned()),
                municipality_id: Some(980),
                legal_organization_id: 1,
                tribute_id: 18,
                ..CustomerDraft::default()
            },
            items,
            ..InvoiceDraft::default()
        }
    }

    fn payload_of(draft: InvoiceDraft) -> Value {
        bill_payload(&Invoice::parse(draft).expect("a valid invoice"))
    }

    #[test]
    fn a_one_item_invoice_is_sent_with_codes_a_net_price_and_one_payment() {
        let mut draft = draft(vec![item(dec!(10000), 2, dec!(19.00))]);
        draft.payment_form = "2".to_owned();
        draft.payment_method_code = "47".to_owned();
        draft.payment_due_date = Some(date!(2026 - 05 - 31));
        // 10,000 with 19 % is 8,403.3613… net: 8,403.36 × 2 = 16,806.72 + 3,193.28 IVA = 20,000.00,
        // the v1 total exactly, so nothing is left to round.
        let expected = concat!(
            r#"{"reference_code":"R2","document":"01","#,
            r#""payment_details":[{"payment_form":"2","payment_method_code":"47","amount":"20000.00","due_date":"2026-05-31"}],"#,
            r#""cash_rounding_amount":"0.00","#,
            r#""customer":{"identification_document_code":"31","identification":"900123456","dv":"7","company":"ACME SAS","#,
            r#""legal_organization_code":"1","tribute_code":"01","municipality_code":"68679"},"#,
            r#""items":[{"code_reference":"P","name":"N","quantity":"2.00","discount_rate":"0.00","price":"8403.36","#,
            r#""unit_measure_code":"94","standard_code":"999","taxes":[{"code":"01","rate":"19.00"}]}]}"#,
        );
        assert_eq!(serde_json::to_string(&payload_of(draft)).unwrap(), expected);
    }

    #[test]
    fn an_excluded_item_is_sent_at_its_full_price_with_the_exclusion_as_its_tax() {
        let mut excluded = item(dec!(83300), 1, dec!(19));
        excluded.is_excluded = 1;
        let payload = payload_of(draft(vec![excluded]));
        assert_eq!(payload["items"][0]["price"], json!("83300.00"));
        assert_eq!(payload["items"][0]["taxes"], json!([{"code": "01", "is_excluded": true}]));
        assert_eq!(payload["payment_details"][0]["amount"], json!("83300.00"));
    }

    #[test]
    fn a_cent_no_net_price_reproduces_is_settled_as_cash_rounding() {
        // Three units at 0.05 with 19 %: the v1 line is 0.15 (base 0.13, tax 0.02). Net 0.04 gives
        // 0.12 + 0.02 = 0.14 and net 0.05 gives 0.15 + 0.03 = 0.18: no net price lands on 0.15, so
        // the closest (0.14) is sent and the missing cent is rounding.
        let payload = payload_of(draft(vec![item(dec!(0.05), 3, dec!(19))]));
        assert_eq!(payload["items"][0]["price"], json!("0.04"));
        assert_eq!(payload["cash_rounding_amount"], json!("0.01"));
        assert_eq!(payload["payment_details"][0]["amount"], json!("0.15"));
    }

    #[test]
    fn withholdings_take_v2_keys_and_mandates_take_codes() {
        let mut line = item(dec!(50000), 1, dec!(19));
        line.withholding_taxes =
            Some(vec![WithholdingTaxDraft { code: "06".to_owned(), withholding_tax_rate: dec!(7.00) }]);
        let payload = payload_of(draft(vec![line]));
        assert_eq!(payload["items"][0]["withholding_taxes"], json!([{"code": "06", "rate": "7.00"}]));
    }
}
