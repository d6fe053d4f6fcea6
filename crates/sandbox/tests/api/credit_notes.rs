use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{TestSandbox, assert_file_name, decoded, spawn, xml_of};

fn credit_note(reference: &str, bill_id: &Value) -> Value {
    json!({
        "numbering_range_id": 9,
        "correction_concept_code": 2,
        "customization_id": 20,
        "bill_id": bill_id,
        "reference_code": reference,
        "payment_method_code": "10",
        "items": [{
            "code_reference": "P-1", "name": "Producto uno", "quantity": 1, "discount_rate": 0,
            "price": "100.50", "tax_rate": "19.00", "unit_measure_id": 70, "standard_code_id": 1,
            "is_excluded": 0, "tribute_id": 1
        }]
    })
}

async fn bill_id(t: &TestSandbox, reference: &str) -> Value {
    t.create_bill(reference).await["data"]["bill"]["id"].clone()
}

#[tokio::test]
async fn a_credit_note_referencing_a_bill_gets_a_cude_and_carries_the_bill_cufe() {
    let t = spawn().await;
    let bill = t.create_bill("B-1").await;
    let id = bill["data"]["bill"]["id"].clone();
    let body = t.post_created("/v1/credit-notes/validate", &credit_note("NC-1", &id)).await;
    assert_eq!(body["status"], "Created");
    let note = &body["data"]["credit_note"];
    assert_eq!(note["number"], "NC1");
    assert_eq!(note["status"], 1);
    assert_eq!(note["cude"].as_str().unwrap().len(), 96);
    assert_ne!(note["cude"], bill["data"]["bill"]["cufe"]);
    assert_eq!(note["cufe"], bill["data"]["bill"]["cufe"]);
    assert_eq!(note["number_bill"], "SETP990000001");
    assert_eq!(note["bill_id"], id);
    assert_eq!(note["total"], "100.50");
    assert_eq!(note["correction_concept"]["code"], "2");
    assert_eq!(body["data"]["customer"]["names"], "Juana Pérez", "customer defaults to the bill's");

    let (_, shown) = t.get("/v1/bills/show/SETP990000001").await;
    assert_eq!(shown["data"]["credit_notes"], json!([{"id": note["id"], "number": "NC1"}]));
}

#[tokio::test]
async fn a_credit_note_on_the_invoice_range_or_an_unknown_bill_answers_422() {
    let t = spawn().await;
    let id = bill_id(&t, "B-2").await;
    let mut body = credit_note("NC-2", &id);
    body["numbering_range_id"] = json!(8);
    let (status, response) = t.post("/v1/credit-notes/validate", &body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        response["data"]["errors"]["numbering_range_id"],
        json!(["El campo id rango de numeración es inválido."])
    );

    let (status, response) = t.post("/v1/credit-notes/validate", &credit_note("NC-3", &json!(999))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(response["data"]["errors"]["bill_id"], json!(["El campo bill id es inválido."]));
    assert_eq!(response["data"]["errors"]["customer"], json!(["El campo cliente es obligatorio."]));
}

#[tokio::test]
async fn credit_notes_can_be_listed_shown_downloaded_and_not_reused() {
    let t = spawn().await;
    let id = bill_id(&t, "B-3").await;
    t.post("/v1/credit-notes/validate", &credit_note("NC-4", &id)).await;
    assert_eq!(t.post("/v1/credit-notes/validate", &credit_note("NC-4", &id)).await.0, StatusCode::CONFLICT);

    let list = t.get_ok("/v1/credit-notes?filter[reference_code]=NC-4").await;
    assert_eq!(list["data"]["data"][0]["number"], "NC1");
    assert_eq!(list["data"]["pagination"]["total"], 1);

    let shown = t.get_ok("/v1/credit-notes/NC1").await;
    assert_eq!(shown["data"]["credit_note"]["reference_code"], "NC-4");
    assert_eq!(t.get("/v1/credit-notes/NC99").await.0, StatusCode::NOT_FOUND);

    let (_, pdf) = t.get("/v1/credit-notes/download-pdf/NC1").await;
    assert_file_name(&pdf, "nc0900825759");
    let bytes = decoded(&pdf, "pdf_base_64_encoded");
    assert!(bytes.starts_with(b"%PDF"));
    let (_, xml) = t.get("/v1/credit-notes/download-xml/NC1").await;
    let text = xml_of(&xml);
    let doc = roxmltree::Document::parse(&text).unwrap();
    assert_eq!(doc.root_element().tag_name().name(), "CreditNote");
    assert!(text.contains("SETP990000001"), "billing reference to the invoice");

    let (status, body) = t.post("/v1/credit-notes/send-email/NC1", &json!({"email": "a@example.com"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["message"], "Nota crédito enviada al cliente con éxito");

    assert_eq!(
        t.delete("/v1/credit-notes/reference/NC-4").await.0,
        StatusCode::CONFLICT,
        "validated notes cannot be deleted"
    );
    assert_eq!(t.delete("/v1/credit-notes/reference/NC-404").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_pending_credit_note_can_be_deleted_by_reference() {
    let t = spawn().await;
    let id = bill_id(&t, "B-4").await;
    t.add_fault(json!({"kind": "pending", "method": "POST", "path": "/v1/credit-notes/validate", "times": 1})).await;
    let body = t.post_created("/v1/credit-notes/validate", &credit_note("NC-5", &id)).await;
    assert_eq!(body["data"]["credit_note"]["status"], 0);
    let (status, body) = t.delete("/v1/credit-notes/reference/NC-5").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["message"], "Documento con código de referencia NC-5 eliminado con éxito");
    let (_, shown) = t.get("/v1/bills/show/SETP990000001").await;
    assert_eq!(shown["data"]["credit_notes"], json!([]));
}
