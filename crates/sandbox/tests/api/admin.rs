use factus_sandbox::SandboxConfig;
use reqwest::StatusCode;
use serde_json::json;

use crate::common::{bill, spawn, spawn_with};

#[tokio::test]
async fn admin_bills_lists_every_stored_bill_in_order() {
    let t = spawn().await;
    let first = t.create_bill("ADM-1").await;
    t.create_bill("ADM-2").await;
    let stored = t.admin_get("/__sandbox/bills").await;
    assert_eq!(stored.as_array().unwrap().len(), 2);
    assert_eq!(stored[0]["number"], "SETP990000001");
    assert_eq!(stored[0]["reference_code"], "ADM-1");
    assert_eq!(stored[0]["cufe"], first["data"]["bill"]["cufe"]);
    assert_eq!(stored[0]["status"], 1);
    assert_eq!(stored[1]["number"], "SETP990000002");
}

#[tokio::test]
async fn request_counters_count_calls_per_route_including_faulted_and_rejected_ones() {
    let t = spawn().await;
    assert_eq!(t.admin_get("/__sandbox/requests").await["POST /oauth/token"], 1);
    t.add_fault(json!({"kind": "status", "status": 503, "times": 1, "path": "/v1/bills/validate"})).await;
    t.post("/v1/bills/validate", &bill("CNT-1")).await;
    t.post("/v1/bills/validate", &bill("CNT-1")).await;
    t.post("/v1/bills/validate", &bill("CNT-1")).await;
    t.get("/v1/bills/show/SETP990000001").await;
    t.get("/v1/bills/show/SETP990000009").await;
    t.client.get(t.url("/v1/company")).send().await.unwrap();
    let counts = t.admin_get("/__sandbox/requests").await;
    assert_eq!(counts["POST /v1/bills/validate"], 3);
    assert_eq!(counts["GET /v1/bills/show/{number}"], 2);
    assert_eq!(counts["GET /v1/company"], 1, "unauthenticated calls count too");
    assert!(counts.get("GET /__sandbox/requests").is_none());

    let response = t.client.delete(t.url("/__sandbox/requests")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(t.admin_get("/__sandbox/requests").await, json!({}));
}

#[tokio::test]
async fn admin_endpoints_can_be_disabled() {
    let t = spawn_with(SandboxConfig { admin_endpoints: false, ..SandboxConfig::default() }).await;
    let response = t.client.get(t.url("/__sandbox/bills")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = t.client.post(t.url("/__sandbox/faults")).json(&json!({"kind": "hang"})).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn reset_forgets_documents_faults_and_counters_and_restarts_numbering() {
    let t = spawn().await;
    t.create_bill("RST-1").await;
    t.add_fault(json!({"kind": "latency", "latency_ms": 1})).await;
    let response = t.client.post(t.url("/__sandbox/reset")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(t.admin_get("/__sandbox/bills").await, json!([]));
    assert_eq!(t.admin_get("/__sandbox/faults").await, json!([]));
    let body = t.create_bill("RST-1").await;
    assert_eq!(body["data"]["bill"]["number"], "SETP990000001");
}
