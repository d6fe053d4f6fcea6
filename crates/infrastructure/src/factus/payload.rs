//! The JSON bodies of Factus v1's creates: `POST /v1/bills/validate` from a domain [`Invoice`],
//! `POST /v1/credit-notes/validate` from a [`Note`], `POST /v1/support-documents/validate` from
//! a [`SupportDocument`] (`docs/factus.md` §13).
//!
//! It reproduces the reference wrapper byte for byte (`docs/contract.md` §3.6), because the
//! payload is what Factus validates and what we log when Factus refuses it:
//!
//! - keys in the reference's order (serde_json keeps insertion order in this workspace);
//! - optional fields only when the reference sends them: most when present and non-empty,
//!   `numbering_range_id`, `send_email` and `scheme_id` whenever present, `municipality_id` 0
//!   dropped, empty `related_documents`/`allowance_charges` left out but an empty
//!   `withholding_taxes` sent as `[]`;
//! - decimals as strings with the scale the client wrote (`"100.5"`, `"19"`, `"0.00"`), quantities
//!   and ids as JSON integers, dates as `YYYY-MM-DD`.

use factus_domain::invoice::{Customer, Invoice, Item, Note, SupportDocument};
use serde_json::{Map, Value, json};

use super::payload_parts::{
    StartTime, allowance_charges, billing_period, establishment, insert_present, iso_date, mandate, order_reference,
    provider, related_documents, withholding_taxes,
};

/// The Factus v1 create-invoice body for `invoice`.
#[must_use]
pub fn bill_payload(invoice: &Invoice) -> Value {
    let mut payload = Map::new();
    payload.insert("document".into(), json!(invoice.document()));
    payload.insert("reference_code".into(), json!(invoice.reference_code().as_str()));
    payload.insert("payment_form".into(), json!(invoice.payment_form().code()));
    payload.insert("payment_method_code".into(), json!(invoice.payment_method_code()));
    insert_present(
        &mut payload,
        [
            ("numbering_range_id", invoice.numbering_range_id().map(Value::from)),
            ("observation", invoice.observation().map(|observation| json!(observation.as_str()))),
            ("operation_type", invoice.operation_type().map(Value::from)),
            ("send_email", invoice.send_email().map(Value::from)),
            ("payment_due_date", invoice.payment_due_date().map(|due| json!(iso_date(due)))),
            ("order_reference", invoice.order_reference().map(order_reference)),
            ("related_documents", related_documents(invoice)),
            ("billing_period", invoice.billing_period().map(|period| billing_period(period, StartTime::Last))),
            (
                "establishment",
                invoice
                    .establishment()
                    .map(|place| establishment(place, ("municipality_id", json!(place.municipality_id())))),
            ),
            ("allowance_charges", allowance_charges(invoice)),
        ],
    );
    payload.insert("customer".into(), customer(invoice.customer()));
    payload.insert("items".into(), Value::Array(invoice.items().iter().map(item).collect()));
    Value::Object(payload)
}

/// The Factus v1 create-credit-note body for `note`. `bill_id` is Factus' internal id of the
/// referenced invoice (v1 takes no number); `None` for a note without a referenced invoice
/// (customization `22`, with its `billing_period`). A note without `customer` gets the invoice's
/// at Factus.
#[must_use]
pub fn note_payload(note: &Note, bill_id: Option<i64>) -> Value {
    let mut payload = Map::new();
    insert_present(&mut payload, [("numbering_range_id", note.numbering_range_id().map(Value::from))]);
    payload.insert("correction_concept_code".into(), json!(note.correction_concept_code()));
    payload.insert("customization_id".into(), json!(note.customization_id()));
    insert_present(&mut payload, [("bill_id", bill_id.map(Value::from))]);
    payload.insert("reference_code".into(), json!(note.reference_code().as_str()));
    payload.insert("payment_method_code".into(), json!(note.payment_method_code()));
    insert_present(
        &mut payload,
        [
            ("send_email", note.send_email().map(Value::from)),
            ("observation", note.observation().map(|observation| json!(observation.as_str()))),
            ("billing_period", note.billing_period().map(|period| billing_period(period, StartTime::Last))),
            ("customer", note.customer().map(customer)),
        ],
    );
    payload.insert("items".into(), Value::Array(note.items().iter().map(item).collect()));
    Value::Object(payload)
}

/// The Factus v1 create-support-document body: a `provider` and items without tax fields (the
/// provider charges none).
#[must_use]
pub fn support_payload(document: &SupportDocument) -> Value {
    let mut payload = Map::new();
    payload.insert("reference_code".into(), json!(document.reference_code().as_str()));
    insert_present(&mut payload, [("numbering_range_id", document.numbering_range_id().map(Value::from))]);
    payload.insert("payment_method_code".into(), json!(document.payment_method_code()));
    insert_present(
        &mut payload,
        [("observation", document.observation().map(|observation| json!(observation.as_str())))],
    );
    let seller = document.provider();
    payload.insert(
        "provider".into(),
        provider(
            seller,
            ("identification_document_id", json!(seller.identification_document().id())),
            json!(i64::from(seller.is_resident())),
            ("municipality_id", seller.municipality().map(|municipality| Value::from(municipality.id()))),
        ),
    );
    let items: Vec<Value> = document
        .items()
        .iter()
        .map(|line| {
            let mut object = item_fields(line);
            for taxed in ["tax_rate", "is_excluded", "tribute_id"] {
                object.remove(taxed);
            }
            Value::Object(object)
        })
        .collect();
    payload.insert("items".into(), Value::Array(items));
    Value::Object(payload)
}

fn customer(customer: &Customer) -> Value {
    let mut object = Map::new();
    object.insert("identification_document_id".into(), json!(customer.identification_document().id()));
    object.insert("identification".into(), json!(customer.identification()));
    object.insert("legal_organization_id".into(), json!(customer.legal_organization_id()));
    object.insert("tribute_id".into(), json!(customer.tribute_id()));
    // The domain holds empty optional texts and municipality 0 as absent, which is exactly what
    // the reference leaves out.
    insert_present(
        &mut object,
        [
            ("names", customer.names().map(Value::from)),
            ("address", customer.address().map(Value::from)),
            ("email", customer.email().map(|email| Value::from(email.as_str()))),
            ("phone", customer.phone().map(Value::from)),
            ("municipality_id", customer.municipality_id().map(Value::from)),
            ("dv", customer.dv().map(Value::from)),
            ("company", customer.company().map(Value::from)),
            ("trade_name", customer.trade_name().map(Value::from)),
        ],
    );
    Value::Object(object)
}

fn item(item: &Item) -> Value {
    Value::Object(item_fields(item))
}

fn item_fields(item: &Item) -> Map<String, Value> {
    let mut object = Map::new();
    object.insert("code_reference".into(), json!(item.code_reference()));
    object.insert("name".into(), json!(item.name()));
    object.insert("quantity".into(), json!(item.quantity().get()));
    object.insert("discount_rate".into(), json!(item.discount_rate().to_string()));
    object.insert("price".into(), json!(item.price().to_string()));
    object.insert("tax_rate".into(), json!(item.tax_rate().to_string()));
    object.insert("unit_measure_id".into(), json!(item.unit_measure_id()));
    object.insert("standard_code_id".into(), json!(item.standard_code_id()));
    object.insert("is_excluded".into(), json!(i64::from(item.is_excluded())));
    object.insert("tribute_id".into(), json!(item.tribute_id()));
    insert_present(
        &mut object,
        [
            ("scheme_id", item.scheme_id().map(Value::from)),
            ("note", item.note().map(Value::from)),
            ("withholding_taxes", withholding_taxes(item, "withholding_tax_rate")),
            (
                "mandate",
                mandate(item, |mandate| ("identification_document_id", json!(mandate.identification_document().id()))),
            ),
        ],
    );
    object
}

#[cfg(test)]
mod tests {
    use super::*;
    use factus_domain::invoice::{
        AllowanceChargeDraft, BillingPeriodDraft, CustomerDraft, EstablishmentDraft, InvoiceDraft, MandateDraft,
        OrderReferenceDraft, RelatedDocumentDraft, WithholdingTaxDraft,
    };
    use rust_decimal_macros::dec;
    use time::macros::date;

    fn minimal() -> InvoiceDraft {
        factus_domain::testing::minimal_draft()
    }

    fn payload_text(draft: InvoiceDraft) -> String {
        let invoice = Invoice::parse(draft).expect("a valid invoice");
        serde_json::to_string(&bill_payload(&invoice)).unwrap()
    }

    #[test]
    fn the_minimal_invoice_serialises_exactly_as_the_reference_sends_it() {
        assert_eq!(
            payload_text(minimal()),
            r#"{"document":"01","reference_code":"R2","payment_form":"1","payment_method_code":"10","customer":{"identification_document_id":3,"identification":"1","legal_organization_id":2,"tribute_id":21,"names":"Juan"},"items":[{"code_reference":"P","name":"N","quantity":1,"discount_rate":"0.00","price":"100.5","tax_rate":"19","unit_measure_id":70,"standard_code_id":1,"is_excluded":0,"tribute_id":1}]}"#
        );
    }

    #[test]
    fn an_invoice_with_every_optional_block_serialises_in_the_reference_order() {
        let mut draft = minimal();
        draft.numbering_range_id = Some(8);
        draft.observation = Some("Entrega en portería".to_owned());
        draft.payment_method_code = "42".to_owned();
        draft.payment_form = "2".to_owned();
        draft.payment_due_date = Some(date!(2026 - 04 - 30));
        draft.operation_type = Some("11".to_owned());
        draft.send_email = Some(false);
        draft.order_reference =
            Some(OrderReferenceDraft { reference_code: "OC-1".to_owned(), issue_date: Some(date!(2026 - 03 - 01)) });
        draft.related_documents = Some(vec![RelatedDocumentDraft {
            code: "01".to_owned(),
            issue_date: date!(2026 - 03 - 02),
            number: "SETP990000001".to_owned(),
        }]);
        draft.billing_period = Some(BillingPeriodDraft {
            start_date: date!(2026 - 03 - 01),
            start_time: Some("00:00:00".to_owned()),
            end_date: date!(2026 - 03 - 31),
            end_time: "23:59:59".to_owned(),
        });
        draft.establishment = Some(EstablishmentDraft {
            name: "Tienda Centro".to_owned(),
            address: "Cra 1 # 2-3".to_owned(),
            phone_number: "3001234567".to_owned(),
            email: "tienda@example.co".to_owned(),
            municipality_id: 980,
        });
        draft.allowance_charges = Some(vec![AllowanceChargeDraft {
            concept_type: "03".to_owned(),
            is_surcharge: true,
            reason: "Propina".to_owned(),
            base_amount: dec!(90000),
            amount: dec!(9000.00),
        }]);
        draft.customer = CustomerDraft {
            identification_document_id: 6,
            identification: "900123456".to_owned(),
            dv: Some("7".to_owned()),
            company: Some("ACME SAS".to_owned()),
            trade_name: Some("ACME".to_owned()),
            names: Some("Ana Pérez".to_owned()),
            address: Some("Calle 10".to_owned()),
            email: Some("compras@acme.co".to_owned()),
            phone: Some("6011234567".to_owned()),
            municipality_id: Some(169),
            legal_organization_id: 1,
            tribute_id: 18,
        };
        let item = &mut draft.items[0];
        item.quantity = 3;
        item.price = dec!(50000);
        item.discount_rate = dec!(20.0);
        item.tax_rate = dec!(19.00);
        item.is_excluded = 1;
        item.scheme_id = Some("1".to_owned());
        item.note = Some("Nota".to_owned());
        item.withholding_taxes = Some(vec![
            WithholdingTaxDraft { code: "06".to_owned(), withholding_tax_rate: dec!(7.00) },
            WithholdingTaxDraft { code: "05".to_owned(), withholding_tax_rate: dec!(15) },
        ]);
        item.mandate = Some(MandateDraft { identification_document_id: 6, identification: "800".to_owned() });

        let expected = concat!(
            r#"{"document":"01","reference_code":"R2","payment_form":"2","payment_method_code":"42","#,
            r#""numbering_range_id":8,"observation":"Entrega en portería","operation_type":"11","send_email":false,"#,
            r#""payment_due_date":"2026-04-30","#,
            r#""order_reference":{"reference_code":"OC-1","issue_date":"2026-03-01"},"#,
            r#""related_documents":[{"code":"01","issue_date":"2026-03-02","number":"SETP990000001"}],"#,
            r#""billing_period":{"start_date":"2026-03-01","end_date":"2026-03-31","end_time":"23:59:59","start_time":"00:00:00"},"#,
            r#""establishment":{"name":"Tienda Centro","address":"Cra 1 # 2-3","phone_number":"3001234567","email":"tienda@example.co","municipality_id":980},"#,
            r#""allowance_charges":[{"concept_type":"03","is_surcharge":true,"reason":"Propina","base_amount":"90000","amount":"9000.00"}],"#,
            r#""customer":{"identification_document_id":6,"identification":"900123456","legal_organization_id":1,"tribute_id":18,"#,
            r#""names":"Ana Pérez","address":"Calle 10","email":"compras@acme.co","phone":"6011234567","municipality_id":169,"#,
            r#""dv":"7","company":"ACME SAS","trade_name":"ACME"},"#,
            r#""items":[{"code_reference":"P","name":"N","quantity":3,"discount_rate":"20.0","price":"50000","tax_rate":"19.00","#,
            r#""unit_measure_id":70,"standard_code_id":1,"is_excluded":1,"tribute_id":1,"scheme_id":"1","note":"Nota","#,
            r#""withholding_taxes":[{"code":"06","withholding_tax_rate":"7.00"},{"code":"05","withholding_tax_rate":"15"}],"#,
            r#""mandate":{"identification_document_id":6,"identification":"800"}}]}"#,
        );
        assert_eq!(payload_text(draft), expected);
    }

    #[test]
    fn empty_optionals_and_municipality_zero_are_left_out() {
        let mut draft = minimal();
        draft.observation = Some(String::new());
        draft.operation_type = Some(String::new());
        draft.related_documents = Some(Vec::new());
        draft.allowance_charges = Some(Vec::new());
        draft.customer.address = Some(String::new());
        draft.customer.phone = Some(String::new());
        draft.customer.municipality_id = Some(0);
        draft.customer.dv = Some(String::new());
        draft.customer.trade_name = Some(String::new());
        draft.items[0].note = Some(String::new());
        draft.billing_period = Some(BillingPeriodDraft {
            start_date: date!(2026 - 03 - 01),
            start_time: Some(String::new()),
            end_date: date!(2026 - 03 - 31),
            end_time: "23:59:59".to_owned(),
        });
        let payload = bill_payload(&Invoice::parse(draft).unwrap());
        let keys = |value: &Value| value.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(
            keys(&payload),
            [
                "document",
                "reference_code",
                "payment_form",
                "payment_method_code",
                "billing_period",
                "customer",
                "items"
            ]
        );
        assert_eq!(keys(&payload["billing_period"]), ["start_date", "end_date", "end_time"]);
        assert_eq!(
            keys(&payload["customer"]),
            ["identification_document_id", "identification", "legal_organization_id", "tribute_id", "names"]
        );
        assert!(payload["items"][0].get("note").is_none());
    }

    #[test]
    fn an_empty_withholding_list_and_an_empty_scheme_id_are_still_sent() {
        let mut draft = minimal();
        draft.items[0].withholding_taxes = Some(Vec::new());
        draft.items[0].scheme_id = Some(String::new());
        let payload = bill_payload(&Invoice::parse(draft).unwrap());
        assert_eq!(payload["items"][0]["withholding_taxes"], json!([]));
        assert_eq!(payload["items"][0]["scheme_id"], json!(""));
    }
}
