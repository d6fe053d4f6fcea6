use std::time::{Duration, Instant};

use factus_sandbox::{FaultKind, FaultSpec, SandboxConfig};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{TestSandbox, bill, client, spawn, spawn_with};

/// Posts `bill(reference)` with a client `timeout`, expecting no answer; returns the client's error.
async fn unanswered_bill(t: &TestSandbox, reference: &str, timeout: Duration) -> reqwest::Error {
    let request = t.request(Method::POST, "/v1/bills/validate").json(&bill(reference)).timeout(timeout);
    request.send().await.expect_err("no answer")
}

#[tokio::test]
async fn a_status_fault_answers_its_status_without_storing_anything() {
    let t = spawn().await;
    let created = t
        .add_fault(json!({"kind": "status", "method": "POST", "path": "/v1/bills/validate",
                          "probability": 1.0, "times": null, "status": 503, "latency_ms": 0}))
        .await;
    assert!(created["id"].is_u64());
    let (status, body) = t.post("/v1/bills/validate", &bill("F-1")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["message"], "Service Unavailable");
    assert!(t.admin_get("/__sandbox/bills").await.as_array().unwrap().is_empty());
    assert_eq!(t.get("/v1/numbering-ranges").await.0, StatusCode::OK, "other routes are not affected");
}

#[tokio::test]
async fn a_fault_with_times_fires_only_for_the_next_n_matching_calls() {
    let t = spawn().await;
    t.add_fault(json!({"kind": "status", "status": 500, "path": "/v1/bills/validate", "times": 2,
                       "body": {"message": "Server Error"}}))
        .await;
    let mut statuses = Vec::new();
    for i in 0..3 {
        let (status, _) = t.post("/v1/bills/validate", &bill(&format!("F-2-{i}"))).await;
        statuses.push(status.as_u16());
    }
    assert_eq!(statuses, [500, 500, 201]);
    let faults = t.admin_get("/__sandbox/faults").await;
    assert_eq!(faults[0]["remaining"], 0);
    assert_eq!(faults[0]["fired"], 2);
}

#[tokio::test]
async fn a_latency_fault_delays_the_answer() {
    let t = spawn().await;
    t.add_fault(json!({"kind": "latency", "latency_ms": 300, "path": "/v1/numbering-ranges"})).await;
    let started = Instant::now();
    t.get_ok("/v1/numbering-ranges").await;
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn a_hang_fault_never_answers_within_the_client_timeout() {
    let t = spawn().await;
    t.add_fault(json!({"kind": "hang", "path": "/v1/bills/validate"})).await;
    let error = unanswered_bill(&t, "F-3", Duration::from_millis(300)).await;
    assert!(error.is_timeout(), "{error:?}");
    assert!(t.admin_get("/__sandbox/bills").await.as_array().unwrap().is_empty());
}

#[tokio::test]
async fn shutdown_ends_a_hanging_request() {
    let t = spawn().await;
    t.add_fault(json!({"kind": "hang"})).await;
    let request = t.client.get(t.url("/v1/company")).bearer_auth(&t.token).timeout(Duration::from_secs(20)).send();
    let pending = tokio::spawn(request);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    tokio::time::timeout(Duration::from_secs(5), t.sandbox.shutdown())
        .await
        .expect("shutdown does not wait for hanging requests");
    let outcome = pending.await.unwrap();
    let error = outcome.expect_err("the hanging request gets no answer");
    assert!(!error.is_timeout(), "the connection was closed, not timed out: {error:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn drop_after_commit_stores_the_bill_but_closes_the_connection_without_answering() {
    let t = spawn().await;
    t.add_fault(json!({"kind": "drop_after_commit", "method": "POST", "path": "/v1/bills/validate", "times": 1})).await;
    let error = unanswered_bill(&t, "F-4", Duration::from_secs(10)).await;
    assert!(!error.is_timeout(), "closed, not hung: {error:?}");
    let stored = t.admin_get("/__sandbox/bills").await;
    assert_eq!(stored.as_array().unwrap().len(), 1);
    assert_eq!(stored[0]["reference_code"], "F-4");
    assert_eq!(stored[0]["status"], 1);
    // The ambiguous case resolved the way a client would: look the reference up.
    let (_, found) = t.get("/v1/bills?filter[reference_code]=F-4").await;
    assert_eq!(found["data"]["data"][0]["number"], stored[0]["number"]);
    assert_eq!(t.post("/v1/bills/validate", &bill("F-4")).await.0, StatusCode::CONFLICT);
}

#[tokio::test]
async fn an_unauthorized_fault_answers_401_to_a_valid_token() {
    let t = spawn().await;
    t.add_fault(json!({"kind": "unauthorized", "path": "/v1/company", "times": 1})).await;
    let (status, body) = t.get("/v1/company").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, json!({"message": "Unauthenticated."}));
    t.get_ok("/v1/company").await;
}

#[tokio::test]
async fn a_rate_limit_fault_answers_429_with_retry_after() {
    let t = spawn().await;
    t.add_fault(json!({"kind": "rate_limit", "retry_after_s": 7})).await;
    let response = t.client.get(t.url("/v1/company")).bearer_auth(&t.token).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "7");
    assert_eq!(response.headers()["x-ratelimit-remaining"], "0");
    assert!(response.headers().contains_key("x-ratelimit-limit"));
    assert!(response.headers().contains_key("x-ratelimit-reset"));
}

#[tokio::test]
async fn a_pending_fault_stores_status_0_which_can_be_deleted_by_reference() {
    let t = spawn().await;
    t.add_fault(json!({"kind": "pending", "path": "/v1/bills/validate", "times": 1})).await;
    let body = t.post_created("/v1/bills/validate", &bill("F-5")).await;
    assert_eq!(body["data"]["bill"]["status"], 0);
    assert_eq!(body["data"]["bill"]["validated"], Value::Null);
    let (_, list) = t.get("/v1/bills?filter[status]=0").await;
    assert_eq!(list["data"]["data"][0]["reference_code"], "F-5");
    let (status, body) = t.delete("/v1/bills/destroy/reference/F-5").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["message"], "Documento con código de referencia F-5 eliminado con éxito");
    assert!(t.admin_get("/__sandbox/bills").await.as_array().unwrap().is_empty());
    // The reference is free again; the number was consumed.
    let body = t.create_bill("F-5").await;
    assert_eq!(body["data"]["bill"]["number"], "SETP990000002");
}

#[tokio::test]
async fn resending_a_pending_bill_with_the_same_data_validates_it_under_the_same_number() {
    let t = spawn().await;
    t.add_fault(json!({"kind": "pending", "times": 1})).await;
    let (_, first) = t.post("/v1/bills/validate", &bill("F-6")).await;
    assert_eq!(first["data"]["bill"]["status"], 0);
    let again = t.post_created("/v1/bills/validate", &bill("F-6")).await;
    assert_eq!(again["data"]["bill"]["status"], 1);
    assert_eq!(again["data"]["bill"]["number"], first["data"]["bill"]["number"]);
    assert_eq!(again["data"]["bill"]["cufe"], first["data"]["bill"]["cufe"]);
    let stored = t.admin_get("/__sandbox/bills").await;
    assert_eq!(stored.as_array().unwrap().len(), 1);
    assert_eq!(stored[0]["status"], 1);

    let mut different = bill("F-7");
    t.add_fault(json!({"kind": "pending", "times": 1})).await;
    t.post("/v1/bills/validate", &different).await;
    different["items"][0]["quantity"] = json!(5);
    let (status, body) = t.post("/v1/bills/validate", &different).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["message"], "Se encontró una factura pendiente por enviar a la DIAN");
}

#[tokio::test]
async fn a_pending_bill_blocks_new_ones_when_configured() {
    let t = spawn_with(SandboxConfig { pending_blocks_new: true, ..SandboxConfig::default() }).await;
    t.add_fault(json!({"kind": "pending", "times": 1})).await;
    t.post("/v1/bills/validate", &bill("F-8")).await;
    let (status, body) = t.post("/v1/bills/validate", &bill("F-9")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["message"], "Se encontró una factura pendiente por enviar a la DIAN");
    t.delete("/v1/bills/destroy/reference/F-8").await;
    t.create_bill("F-9").await;
}

#[tokio::test]
async fn faults_can_be_listed_removed_and_cleared() {
    let t = spawn().await;
    let first = t.add_fault(json!({"kind": "latency", "latency_ms": 1})).await;
    t.add_fault(json!({"kind": "status", "status": 502, "path": "/v1/company"})).await;
    let listed = t.admin_get("/__sandbox/faults").await;
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert_eq!(listed[1]["kind"], "status");
    assert_eq!(listed[1]["probability"], 1.0);

    let response = client().delete(t.url(&format!("/__sandbox/faults/{}", first["id"]))).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(t.admin_get("/__sandbox/faults").await.as_array().unwrap().len(), 1);

    let response = client().delete(t.url("/__sandbox/faults")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(t.admin_get("/__sandbox/faults").await, json!([]));
    t.get_ok("/v1/company").await;
}

#[tokio::test]
async fn invalid_fault_specs_are_rejected_with_422() {
    let t = spawn().await;
    for spec in [
        json!({"kind": "explode"}),
        json!({"kind": "status", "probability": 1.5}),
        json!({"kind": "status", "path": "no-slash"}),
        json!({"kind": "latency", "latency": 5}),
    ] {
        let response = t.client.post(t.url("/__sandbox/faults")).json(&spec).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{spec}");
    }
}

#[tokio::test]
async fn a_probability_of_one_half_fires_on_about_half_the_calls() {
    let t = spawn().await;
    t.add_fault(json!({"kind": "status", "status": 503, "probability": 0.5, "path": "/v1/company"})).await;
    let mut failures = 0;
    for _ in 0..200 {
        let (status, _) = t.get("/v1/company").await;
        if status == StatusCode::SERVICE_UNAVAILABLE {
            failures += 1;
        }
    }
    // Binomial(200, 0.5): outside 60..=140 has probability below 1e-8.
    assert!((60..=140).contains(&failures), "{failures} of 200");
}

#[tokio::test]
async fn faults_given_at_start_are_in_force_and_match_by_method_and_path_prefix() {
    let t = spawn_with(SandboxConfig {
        faults: vec![FaultSpec { status: Some(500), ..FaultSpec::new(FaultKind::Status).on("GET", "/v1/bills") }],
        ..SandboxConfig::default()
    })
    .await;
    assert_eq!(t.get("/v1/bills").await.0, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(t.get("/v1/bills/show/SETP1").await.0, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(t.post("/v1/bills/validate", &bill("F-10")).await.0, StatusCode::CREATED, "POST is not matched");
    t.get_ok("/v1/company").await;
}

#[tokio::test]
async fn faults_also_apply_to_the_token_endpoint() {
    let t = spawn().await;
    t.add_fault(json!({"kind": "status", "status": 503, "path": "/oauth/token", "times": 1})).await;
    let response = t.client.post(t.url("/oauth/token")).form(&[("grant_type", "password")]).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
}
