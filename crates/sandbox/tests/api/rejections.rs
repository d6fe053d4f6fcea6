//! DIAN rejections: the document is stored pending (status 0) with its rules, answered 422 with
//! them, and blocks new documents of its family with 409 until it is deleted by reference.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{TestSandbox, bill, spawn, spawn_with, with_state_file};

const FAK24: &str = "Regla: FAK24, Rechazo: No está informado el DV del NIT";

/// A bill to Bancolombia (NIT 890903938, check digit 8) with the given `dv`.
fn bill_to_nit(reference: &str, dv: &str) -> Value {
    let mut body = bill(reference);
    body["customer"] = json!({
        "identification_document_id": 6, "identification": "890903938", "dv": dv,
        "legal_organization_id": 1, "tribute_id": 18, "company": "Bancolombia S.A.",
        "email": "facturas@example.com"
    });
    body
}

fn credit_note(reference: &str, bill_id: &Value) -> Value {
    json!({
        "numbering_range_id": 9, "correction_concept_code": 2, "customization_id": 20,
        "bill_id": bill_id, "reference_code": reference, "payment_method_code": "10",
        "items": [{
            "code_reference": "P-1", "name": "Producto uno", "quantity": 1, "discount_rate": 0,
            "price": "100.50", "tax_rate": "19.00", "unit_measure_id": 70, "standard_code_id": 1,
            "is_excluded": 0, "tribute_id": 1
        }]
    })
}

fn rejection_body(rule: &str, text: &str) -> Value {
    json!({
        "status": "Validation error",
        "message": "El documento contiene errores de validación",
        "data": {"message": "El documento contiene errores de validación", "errors": {rule: text}},
    })
}

async fn stuck(t: &TestSandbox, list: &str) -> Vec<Value> {
    let body = t.get_ok(&format!("{list}?filter[status]=0")).await;
    body["data"]["data"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_wrong_nit_check_digit_is_stored_pending_with_fak24_and_blocks_bills_until_deleted() {
    let t = spawn().await;
    let (status, body) = t.post("/v1/bills/validate", &bill_to_nit("R-1", "1")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body, rejection_body("FAK24", FAK24));

    // Stored as Factus does: pending, numbered, with the rule in `errors`.
    let pending = stuck(&t, "/v1/bills").await;
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0]["reference_code"], "R-1");
    assert_eq!(pending[0]["status"], 0);
    assert_eq!(pending[0]["errors"], json!([FAK24]));
    let shown = t.get_ok("/v1/bills/show/SETP990000001").await;
    assert_eq!(shown["data"]["bill"]["status"], 0);
    assert_eq!(shown["data"]["bill"]["validated"], Value::Null);
    assert_eq!(shown["data"]["bill"]["errors"], json!([FAK24]));

    // Every new bill is refused while it is there, whoever the customer is.
    for reference in ["R-2", "R-3"] {
        let (status, body) = t.post("/v1/bills/validate", &bill(reference)).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(
            body,
            json!({"status": "Conflict", "message": "Se encontró una factura pendiente por enviar a la DIAN"})
        );
    }
    assert_eq!(t.admin_get("/__sandbox/blockers").await["bills"]["reference_code"], "R-1");

    let (status, body) = t.delete("/v1/bills/destroy/reference/R-1").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(t.admin_get("/__sandbox/blockers").await["bills"], Value::Null);
    let created = t.create_bill("R-2").await;
    assert_eq!(created["data"]["bill"]["status"], 1);
    assert_eq!(created["data"]["bill"]["number"], "SETP990000002", "the rejected number is not reused");
}

#[tokio::test]
async fn a_rejected_bill_sent_again_is_rejected_again_and_corrected_data_under_its_reference_is_a_conflict() {
    let t = spawn().await;
    let wrong = bill_to_nit("R-4", "1");
    t.post("/v1/bills/validate", &wrong).await;
    let (status, body) = t.post("/v1/bills/validate", &wrong).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body, rejection_body("FAK24", FAK24));

    let (status, body) = t.post("/v1/bills/validate", &bill_to_nit("R-4", "8")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["message"], "Se encontró una factura pendiente por enviar a la DIAN");
    assert_eq!(t.admin_get("/__sandbox/bills").await.as_array().unwrap().len(), 1, "still one stored bill");

    t.delete("/v1/bills/destroy/reference/R-4").await;
    let created = t.create_bill_body(&bill_to_nit("R-4", "8")).await;
    assert_eq!(created["data"]["bill"]["status"], 1);
    assert_eq!(created["data"]["customer"]["dv"], "8");
}

#[tokio::test]
async fn a_rejected_credit_note_blocks_credit_notes_only() {
    let t = spawn().await;
    let id = t.create_bill("R-5").await["data"]["bill"]["id"].clone();
    let mut note = credit_note("NC-R-1", &id);
    note["customer"] = bill_to_nit("x", "3")["customer"].clone();
    let (status, body) = t.post("/v1/credit-notes/validate", &note).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body, rejection_body("CAK24", "Regla: CAK24, Rechazo: No está informado el DV del NIT"));
    assert_eq!(stuck(&t, "/v1/credit-notes").await[0]["reference_code"], "NC-R-1");

    let (status, body) = t.post("/v1/credit-notes/validate", &credit_note("NC-R-2", &id)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        body,
        json!({"status": "Conflict", "message": "Se encontró una nota crédito pendiente por enviar a la DIAN"})
    );
    // Bills are another family: they still go through.
    assert_eq!(t.create_bill("R-6").await["data"]["bill"]["status"], 1);

    assert_eq!(t.delete("/v1/credit-notes/reference/NC-R-1").await.0, StatusCode::OK);
    t.post_created("/v1/credit-notes/validate", &credit_note("NC-R-2", &id)).await;
}

#[tokio::test]
async fn the_reject_fault_rejects_any_document_with_the_rule_given_or_fad06() {
    let t = spawn().await;
    t.add_fault(json!({"kind": "reject", "path": "/v1/bills/validate", "times": 1})).await;
    let (status, body) = t.post("/v1/bills/validate", &bill("R-7")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body, rejection_body("FAD06", "Regla: FAD06, Rechazo: Valor del CUFE no está calculado correctamente"));
    t.delete("/v1/bills/destroy/reference/R-7").await;

    t.add_fault(json!({"kind": "reject", "times": 1, "rule": "FAJ43b", "reason": "Nombre informado no corresponde"}))
        .await;
    let (status, body) = t.post("/v1/bills/validate", &bill("R-8")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["data"]["errors"], json!({"FAJ43b": "Regla: FAJ43b, Rechazo: Nombre informado no corresponde"}));
    assert_eq!(t.post("/v1/bills/validate", &bill("R-9")).await.0, StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_pending_document_dian_has_not_answered_does_not_block_by_default() {
    let t = spawn().await;
    t.add_fault(json!({"kind": "pending", "times": 1})).await;
    let body = t.post_created("/v1/bills/validate", &bill("R-10")).await;
    assert_eq!(body["data"]["bill"]["status"], 0);
    assert_eq!(body["data"]["bill"]["errors"], json!([]));
    assert_eq!(t.create_bill("R-11").await["data"]["bill"]["status"], 1);
}

#[tokio::test]
async fn a_rejected_bill_still_blocks_after_a_restart_with_the_state_file() {
    let dir = tempfile::tempdir().unwrap();
    let t = spawn_with(with_state_file(dir.path())).await;
    assert_eq!(t.post("/v1/bills/validate", &bill_to_nit("R-12", "1")).await.0, StatusCode::UNPROCESSABLE_ENTITY);

    let t = t.restart(with_state_file(dir.path())).await;
    assert_eq!(t.post("/v1/bills/validate", &bill("R-13")).await.0, StatusCode::CONFLICT);
    t.sandbox.shutdown().await;
}
