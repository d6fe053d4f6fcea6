use factus_sandbox::SandboxConfig;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{TestSandbox, assert_envelope, bill, spawn, spawn_with};

/// Posts a bill and expects a field-validation 422; returns `data.errors`.
async fn errors_of(t: &TestSandbox, body: &Value) -> Value {
    let (status, response) = t.post("/v1/bills/validate", body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{response}");
    assert_envelope(&response, "Validation error", "Error de validación");
    assert_eq!(response["data"]["message"], "Error de validación");
    response["data"]["errors"].clone()
}

#[tokio::test]
async fn missing_required_fields_are_all_reported_with_laravel_paths() {
    let t = spawn().await;
    let errors = errors_of(&t, &json!({})).await;
    assert_eq!(errors["reference_code"], json!(["El campo código de referencia es obligatorio."]));
    assert_eq!(errors["customer"], json!(["El campo cliente es obligatorio."]));
    assert_eq!(errors["items"], json!(["El campo items es obligatorio."]));

    let mut body = bill("V-1");
    body["customer"].as_object_mut().unwrap().remove("names");
    body["items"][0].as_object_mut().unwrap().remove("price");
    body["items"][0]["quantity"] = json!(1.5);
    let errors = errors_of(&t, &body).await;
    assert_eq!(errors["customer.names"], json!(["El campo nombres es obligatorio."]));
    assert_eq!(errors["items.0.price"], json!(["El campo items.0.price es obligatorio."]));
    assert_eq!(errors["items.0.quantity"], json!(["El campo items.0.quantity debe ser un número entero."]));
    assert!(t.admin_get("/__sandbox/bills").await.as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_body_that_is_not_json_reports_the_required_fields() {
    let t = spawn().await;
    let response =
        t.client.post(t.url("/v1/bills/validate")).bearer_auth(&t.token).body("not json").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert!(body["data"]["errors"]["reference_code"].is_array());
}

#[tokio::test]
async fn a_customer_tribute_id_on_an_item_answers_422_on_items_0_tribute_id() {
    let t = spawn().await;
    let mut body = bill("V-2");
    body["items"][0]["tribute_id"] = json!(21);
    let errors = errors_of(&t, &body).await;
    assert_eq!(errors["items.0.tribute_id"], json!(["El campo items.0.tribute_id es inválido."]));
    assert_eq!(errors.as_object().unwrap().len(), 1);

    let mut body = bill("V-3");
    body["customer"]["tribute_id"] = json!(1);
    let errors = errors_of(&t, &body).await;
    assert_eq!(errors["customer.tribute_id"], json!(["El campo customer.tribute_id es inválido."]));
}

#[tokio::test]
async fn amounts_with_more_than_two_decimals_are_rejected() {
    let t = spawn().await;
    let mut body = bill("V-4");
    body["items"][0]["price"] = json!("100.505");
    body["items"][0]["discount_rate"] = json!(1.005);
    let errors = errors_of(&t, &body).await;
    assert_eq!(errors["items.0.price"], json!(["El campo items.0.price debe tener como máximo 2 cifras decimales."]));
    assert!(errors["items.0.discount_rate"].is_array());
}

#[tokio::test]
async fn a_nit_identification_must_be_digits_only() {
    let t = spawn().await;
    let mut body = bill("V-5");
    body["customer"] = json!({
        "identification_document_id": 6, "identification": "900825759-7", "dv": "7",
        "legal_organization_id": 1, "tribute_id": 18, "company": "ACME S.A.S."
    });
    let errors = errors_of(&t, &body).await;
    assert!(errors["customer.identification"][0].as_str().unwrap().contains("solo debe contener números"));
}

#[tokio::test]
async fn a_nit_with_a_wrong_check_digit_is_rejected_with_dian_rule_fak24_and_a_missing_dv_is_computed() {
    let t = spawn().await;
    let mut body = bill("V-6");
    body["customer"] = json!({
        "identification_document_id": 6, "identification": "890903938", "dv": "1",
        "legal_organization_id": 1, "tribute_id": 18, "company": "Bancolombia S.A."
    });
    let (status, response) = t.post("/v1/bills/validate", &body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(response["message"], "El documento contiene errores de validación");
    assert_eq!(response["data"]["errors"]["FAK24"], "Regla: FAK24, Rechazo: No está informado el DV del NIT");
    // The rejected bill stays pending and blocks the family (tests/api/rejections.rs); delete it.
    assert_eq!(t.delete("/v1/bills/destroy/reference/V-6").await.0, StatusCode::OK);

    body["customer"]["dv"] = json!("8");
    t.create_bill_body(&body).await;
    body["reference_code"] = json!("V-6b");
    body["customer"].as_object_mut().unwrap().remove("dv");
    let response = t.post_created("/v1/bills/validate", &body).await;
    assert_eq!(response["data"]["customer"]["dv"], "8", "computed when absent");
}

#[tokio::test]
async fn the_dv_check_can_be_switched_off() {
    let t = spawn_with(SandboxConfig { verify_nit_dv: false, ..SandboxConfig::default() }).await;
    let mut body = bill("V-7");
    body["customer"] = json!({
        "identification_document_id": 6, "identification": "890903938", "dv": "1",
        "legal_organization_id": 1, "tribute_id": 18, "company": "Bancolombia S.A."
    });
    t.create_bill_body(&body).await;
}

#[tokio::test]
async fn a_numbering_range_of_another_document_type_is_invalid() {
    let t = spawn().await;
    let mut body = bill("V-8");
    body["numbering_range_id"] = json!(9);
    let errors = errors_of(&t, &body).await;
    assert_eq!(errors["numbering_range_id"], json!(["El campo id rango de numeración es inválido."]));
    body["numbering_range_id"] = json!(8);
    t.create_bill_body(&body).await;
}

#[tokio::test]
async fn excluded_tax_applies_only_to_iva() {
    let t = spawn().await;
    let mut body = bill("V-9");
    body["items"][0]["is_excluded"] = json!(1);
    body["items"][0]["tribute_id"] = json!(4);
    let errors = errors_of(&t, &body).await;
    assert_eq!(errors["items.0.is_excluded"], json!(["El impuesto excluido solo puede ser aplicado al IVA"]));
}

#[tokio::test]
async fn the_billing_period_must_end_after_it_starts() {
    let t = spawn().await;
    let mut body = bill("V-10");
    body["billing_period"] = json!({"start_date": "2025-01-10", "end_date": "2025-01-10", "end_time": "23:59:59"});
    let errors = errors_of(&t, &body).await;
    assert_eq!(
        errors["billing_period.end_date"],
        json!(["El campo fecha de fin debe ser una fecha posterior a fecha de inicio."])
    );
}

#[tokio::test]
async fn credit_payment_needs_a_due_date_and_codes_must_exist() {
    let t = spawn().await;
    let mut body = bill("V-11");
    body["payment_form"] = json!("2");
    body["payment_method_code"] = json!("99");
    body["items"][0]["unit_measure_id"] = json!(5000);
    body["customer"]["email"] = json!("not-an-email");
    let errors = errors_of(&t, &body).await;
    assert_eq!(errors["payment_due_date"], json!(["El campo fecha de vencimiento es obligatorio."]));
    assert_eq!(errors["payment_method_code"], json!(["El campo payment_method_code es inválido."]));
    assert_eq!(errors["items.0.unit_measure_id"], json!(["El campo items.0.unit_measure_id es inválido."]));
    assert!(errors["customer.email"].is_array());
}

#[tokio::test]
async fn numeric_strings_are_accepted_for_integer_and_decimal_fields() {
    let t = spawn().await;
    let mut body = bill("V-12");
    body["customer"]["identification_document_id"] = json!("3");
    body["customer"]["municipality_id"] = json!("980");
    body["items"][0]["quantity"] = json!("3");
    body["items"][0]["price"] = json!(1000);
    body["items"][0]["tax_rate"] = json!(19.0);
    let response = t.post_created("/v1/bills/validate", &body).await;
    assert_eq!(response["data"]["items"][0]["quantity"], 3);
    assert_eq!(response["data"]["bill"]["total"], "3000.00");
    assert_eq!(response["data"]["customer"]["municipality"]["code"], "68679");
}
