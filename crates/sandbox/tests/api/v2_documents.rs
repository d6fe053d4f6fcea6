//! v2 notes and account endpoints: credit notes, numbering ranges, acquirer, company.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{assert_file_name, bill_v2, spawn, xml_of};

fn credit_note_v2(reference: &str, bill_number: &str) -> serde_json::Value {
    let bill = bill_v2("unused");
    json!({
        "numbering_range_id": 9,
        "correction_concept_code": "2",
        "customization_id": "20",
        "bill_number": bill_number,
        "reference_code": reference,
        "payment_details": [{"payment_form": "1", "payment_method_code": "10", "amount": "47600.00"}],
        "customer": bill["customer"],
        "items": bill["items"],
    })
}

#[tokio::test]
async fn a_v2_credit_note_references_its_bill_by_number() {
    let t = spawn().await;
    let bill = t.create_bill_v2("CN-BILL").await;
    let body = t.post_created("/v2/credit-notes/validate", &credit_note_v2("CN-1", "SETP990000001")).await;
    let data = &body["data"];
    assert_eq!(data["number"], "NC1");
    assert_eq!(data["cude"].as_str().unwrap().len(), 96);
    assert_eq!(data["correction_concept"]["code"], "2");
    assert_eq!(data["customization_id"]["code"], "20");
    assert_eq!(data["bill"]["number"], "SETP990000001");
    assert_eq!(data["bill"]["cufe"], bill["data"]["cufe"]);
    assert_eq!(data["totals"]["total"], "47600.00");

    let (_, shown) = t.get("/v2/bills/SETP990000001").await;
    assert_eq!(shown["data"]["related_notes"]["credit_notes"][0]["number"], "NC1");
    let note = t.get_ok("/v2/credit-notes/NC1").await;
    assert_eq!(note["data"]["reference_code"], "CN-1");
    let (_, list) = t.get("/v2/credit-notes").await;
    assert_eq!(list["data"]["data"][0]["number"], "NC1");
    assert_file_name(&t.get_ok("/v2/credit-notes/NC1/download-pdf").await, "nc");
}

#[tokio::test]
async fn a_v2_credit_note_without_customer_takes_the_bills() {
    let t = spawn().await;
    t.create_bill_v2("CN-BILL").await;
    let mut body = credit_note_v2("CN-2", "SETP990000001");
    body.as_object_mut().unwrap().remove("customer");
    let response = t.post_created("/v2/credit-notes/validate", &body).await;
    assert_eq!(response["data"]["customer"]["names"], "Alan Turing");
    assert_eq!(response["data"]["customer"]["identification_document"]["code"], "13");
}

#[tokio::test]
async fn a_v2_credit_note_for_an_unknown_bill_is_rejected() {
    let t = spawn().await;
    let (status, body) = t.post("/v2/credit-notes/validate", &credit_note_v2("CN-X", "SETP990009999")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["data"]["errors"]["bill_number"][0], "El campo bill_number es inválido.");
}

#[tokio::test]
async fn v2_numbering_ranges_company_and_acquirer_answer_like_v1() {
    let t = spawn().await;
    let ranges = t.get_ok("/v2/numbering-ranges?filter[document]=21").await;
    assert_eq!(ranges["data"]["data"][0]["prefix"], "SETP");
    let range = t.get_ok("/v2/numbering-ranges/8").await;
    assert_eq!(range["data"]["document"], "21");
    let company = t.get_ok("/v2/companies").await;
    assert_eq!(company["data"]["nit"], "900825759");

    let (status, fixture) =
        t.get("/v2/dian/acquirer?identification_document_code=13&identification_number=1399995").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fixture["data"]["name"], "Nombre Cédula de ciudadanía 5");
    t.create_bill_v2("ACQ-1").await;
    let (status, known) =
        t.get("/v2/dian/acquirer?identification_document_code=13&identification_number=123456789").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(known["data"], json!({"name": "Enigma SAS", "email": "alanturing@enigmasas.com"}));
    assert_eq!(
        t.get("/v2/dian/acquirer?identification_document_code=13&identification_number=55").await.0,
        StatusCode::NOT_FOUND
    );
    let (status, invalid) = t.get("/v2/dian/acquirer?identification_document_code=3&identification_number=1").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "v2 takes the DIAN code, not the v1 id");
    assert!(invalid["data"]["errors"]["identification_document_code"].is_array());
}

#[tokio::test]
async fn v2_manages_numbering_ranges_and_the_company_like_v1() {
    let t = spawn().await;
    let dian = t.get_ok("/v2/numbering-ranges/dian").await;
    assert_eq!(dian["data"][0]["prefix"], "SETP");
    let created = t
        .post_created(
            "/v2/numbering-ranges",
            &json!({"document": "21", "prefix": "FE", "current": 100, "resolution_number": "18764000001"}),
        )
        .await;
    let id = created["data"]["id"].as_u64().unwrap();
    let (status, _) = t.patch(&format!("/v2/numbering-ranges/{id}/current"), &json!({"current": 150})).await;
    assert_eq!(status, StatusCode::OK);
    let mut body = crate::common::bill_v2("RANGE-FE");
    body["numbering_range_id"] = json!(id);
    let bill = t.post_created("/v2/bills/validate", &body).await;
    assert_eq!(bill["data"]["number"], "FE150");
    assert_eq!(t.delete(&format!("/v2/numbering-ranges/{id}")).await.0, StatusCode::OK);

    let (status, _) = t.put("/v2/companies", &json!({"phone": "6015551234"})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, company) = t.get("/v2/companies").await;
    assert_eq!(company["data"]["phone"], "6015551234");
}

fn debit_note_v2(reference: &str, bill_number: &str) -> serde_json::Value {
    let mut body = credit_note_v2(reference, bill_number);
    body["correction_concept_code"] = json!("1");
    body["customization_id"] = json!("30");
    body.as_object_mut().unwrap().remove("numbering_range_id");
    body
}

#[tokio::test]
async fn a_v2_debit_note_needs_a_debit_range_then_references_its_bill() {
    let t = spawn().await;
    t.create_bill_v2("DN-BILL").await;
    let (status, body) = t.post("/v2/debit-notes/validate", &debit_note_v2("DN-1", "SETP990000001")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "the account has no debit-note range yet");
    assert!(body["data"]["errors"]["numbering_range_id"].is_array());

    let (status, range) =
        t.post("/v2/numbering-ranges", &json!({"document": "23", "prefix": "ND", "current": 1})).await;
    assert_eq!(status, StatusCode::CREATED, "{range}");
    let body = t.post_created("/v2/debit-notes/validate", &debit_note_v2("DN-1", "SETP990000001")).await;
    let data = &body["data"];
    assert_eq!(data["number"], "ND1");
    assert_eq!(data["cude"].as_str().unwrap().len(), 96);
    assert_eq!(data["correction_concept"], json!({"code": "1", "name": "Intereses"}));
    assert_eq!(data["customization_id"]["code"], "30");
    assert_eq!(data["bill"]["number"], "SETP990000001");

    let (_, bill) = t.get("/v2/bills/SETP990000001").await;
    assert_eq!(bill["data"]["related_notes"]["debit_notes"][0]["number"], "ND1");
    assert_eq!(bill["data"]["related_notes"]["credit_notes"], json!([]));
    let list = t.get_ok("/v2/debit-notes").await;
    assert_eq!(list["data"]["data"][0]["reference_code"], "DN-1");
    let xml = t.get_ok("/v2/debit-notes/ND1/download-xml").await;
    let text = xml_of(&xml);
    assert!(text.contains("<DebitNote "), "{text}");
    assert_file_name(&xml, "nd");
    let (_, content) = t.get("/v2/debit-notes/ND1/email-content").await;
    assert!(content["data"]["subject"].as_str().unwrap().contains(";ND1;92;"));
    assert_eq!(
        t.delete("/v2/debit-notes/reference/DN-1").await.0,
        StatusCode::CONFLICT,
        "a validated note is not deleted"
    );
    let stored = t.admin_get("/__sandbox/debit-notes").await;
    assert_eq!(stored[0]["number"], "ND1");
}

#[tokio::test]
async fn a_v2_debit_note_without_reference_needs_a_billing_period() {
    let t = spawn().await;
    t.post("/v2/numbering-ranges", &json!({"document": "23", "prefix": "ND", "current": 1})).await;
    let mut body = debit_note_v2("DN-32", "unused");
    body["customization_id"] = json!("32");
    body.as_object_mut().unwrap().remove("bill_number");
    let (status, response) = t.post("/v2/debit-notes/validate", &body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response["data"]["errors"]["billing_period"].is_array(), "{response}");
    body["billing_period"] = json!({"start_date": "2026-01-01", "end_date": "2026-01-31"});
    let response = t.post_created("/v2/debit-notes/validate", &body).await;
    assert_eq!(response["data"]["billing_period"]["start_date"], "01-01-2026");
}

/// The v2 docs' support-document example: 2 × 50 000 with 20 % off = 80 000, paid half cash half
/// credit; the provider charges no tax, so the declared IVA is not added.
fn support_document_v2(reference: &str) -> serde_json::Value {
    json!({
        "reference_code": reference, "created_time": "15:30:00", "observation": "",
        "payment_details": [
            {"payment_form": "1", "payment_method_code": "42", "reference_code": "pago-002", "amount": "40000"},
            {"payment_form": "2", "payment_method_code": "10", "reference_code": "pago-003", "amount": "40000",
             "due_date": "2026-05-25"}
        ],
        "cash_rounding_amount": "0.00",
        "establishment": {"name": "nombre establecimiento", "address": "direccion del establecimiento",
                          "phone_number": "1234567890", "email": "establecieminto@tuempresa.com",
                          "municipality_code": "91263"},
        "provider": {"identification_document_code": "31", "identification": "2343543", "dv": "7",
                     "names": "Pepito Perez", "address": "calle 4", "country_code": "CO",
                     "municipality_code": "68679", "legal_organization_code": "1"},
        "items": [{"code_reference": "12345", "name": "producto de prueba", "quantity": "2.00",
                   "discount_rate": "20.00", "price": "50000.00", "unit_measure_code": "94", "standard_code": "999",
                   "withholding_taxes": [{"code": "06", "rate": "3.50"}],
                   "taxes": [{"code": "01", "rate": "19.00"}]}]
    })
}

#[tokio::test]
async fn a_v2_support_document_names_its_provider_and_charges_no_tax() {
    let t = spawn().await;
    let body = t.post_created("/v2/support-documents/validate", &support_document_v2("DS-1")).await;
    let data = &body["data"];
    assert_eq!(data["number"], "SEDS984000001");
    assert_eq!(data["cuds"].as_str().unwrap().len(), 96);
    assert_eq!(data["provider"]["names"], "Pepito Perez");
    assert_eq!(data["provider"]["identification_document"]["code"], "31");
    assert!(data.get("customer").is_none());
    assert_eq!(data["totals"]["tax_amount"], "0.00");
    assert_eq!(data["totals"]["total"], "80000.00");
    assert_eq!(data["items"][0]["withholding_taxes"][0]["value"], "2800.00", "3.5 % of 80 000");
    let shown = t.get_ok("/v2/support-documents/SEDS984000001").await;
    assert_eq!(shown["data"], body["data"]);
    let (_, v1) = t.get("/v1/support-documents/show/SEDS984000001").await;
    assert_eq!(v1["data"]["support_document"]["total"], "80000.00");
    let list = t.get_ok("/v2/support-documents").await;
    assert_eq!(list["data"]["data"][0]["reference_code"], "DS-1");
    assert_file_name(&t.get_ok("/v2/support-documents/SEDS984000001/download-pdf").await, "ds");
}

#[tokio::test]
async fn a_v2_support_document_provider_needs_its_own_fields() {
    let t = spawn().await;
    let mut body = support_document_v2("DS-BAD");
    body["provider"]["identification_document_code"] = json!("13");
    body["provider"]["names"] = json!(null);
    body["provider"]["country_code"] = json!(null);
    let (status, response) = t.post("/v2/support-documents/validate", &body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let errors = &response["data"]["errors"];
    assert_eq!(
        errors["provider.identification_document_code"][0],
        "El campo provider.identification_document_code es inválido."
    );
    assert!(errors["provider.names"].is_array() && errors["provider.country_code"].is_array(), "{errors}");
    let mut wrong_dv = support_document_v2("DS-DV");
    wrong_dv["provider"]["dv"] = json!("1");
    let (status, response) = t.post("/v2/support-documents/validate", &wrong_dv).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(response["data"]["errors"]["DSAJ24b"], "Regla: DSAJ24b, Rechazo: El DV del NIT no es correcto");
}

#[tokio::test]
async fn a_range_toggled_off_numbers_nothing_until_toggled_on() {
    let t = spawn().await;
    let toggle = || async {
        let response =
            t.client.patch(t.url("/v2/numbering-ranges/8/toggle-status")).bearer_auth(&t.token).send().await.unwrap();
        (response.status(), response.json::<serde_json::Value>().await.unwrap())
    };
    let (status, body) = toggle().await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["is_active"], 0);
    let (status, response) = t.post("/v2/bills/validate", &bill_v2("OFF-1")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(response["data"]["errors"]["numbering_range_id"][0], "El campo id rango de numeración es inválido.");
    let (_, body) = toggle().await;
    assert_eq!(body["data"]["is_active"], 1);
    t.create_bill_v2("ON-1").await;
    let response =
        t.client.patch(t.url("/v2/numbering-ranges/999/toggle-status")).bearer_auth(&t.token).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}
