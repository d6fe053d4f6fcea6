//! The account's API version: the other tree answers 403, as real Factus does for a company that
//! has only one version enabled.

use factus_sandbox::{ApiVersion, SandboxConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{bill, bill_v2, spawn, spawn_with};

const MESSAGE: &str = "Version de API no disponible para esta empresa";

fn only(api_version: ApiVersion) -> SandboxConfig {
    SandboxConfig { api_version, ..SandboxConfig::default() }
}

#[tokio::test]
async fn a_v1_account_refuses_every_v2_call_with_403_and_serves_v1() {
    let t = spawn_with(only(ApiVersion::V1)).await;
    for (status, body) in [
        t.post("/v2/bills/validate", &bill_v2("V1-ONLY")).await,
        t.get("/v2/bills").await,
        t.get("/v2/bills/SETP990000001").await,
        t.get("/v2/companies").await,
        t.get("/v2/municipalities").await,
    ] {
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(body, json!({"message": MESSAGE}));
    }
    t.create_bill("V1-ONLY").await;
    assert_eq!(t.listed_total("/v1/bills").await, 1, "the refused v2 create stored nothing");
}

#[tokio::test]
async fn a_v2_account_refuses_every_v1_call_with_403_even_on_routes_v1_lacks() {
    let t = spawn_with(only(ApiVersion::V2)).await;
    for (status, body) in [
        t.post("/v1/bills/validate", &bill("V2-ONLY")).await,
        t.get("/v1/municipalities").await,
        t.get("/v1/no-such-route").await,
        t.delete("/v1/bills/destroy/reference/X").await,
    ] {
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(body["message"], MESSAGE);
    }
    let body = t.post_created("/v2/bills/validate", &bill_v2("V2-ONLY")).await;
    assert_eq!(body["data"]["number"], "SETP990000001", "the refused v1 create took no number");
}

#[tokio::test]
async fn without_a_valid_token_the_refused_tree_still_answers_401() {
    // The version belongs to the company behind the token, so authentication comes first.
    let t = spawn_with(only(ApiVersion::V2)).await;
    let response = t.client.get(t.url("/v1/bills")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn both_mode_serves_both_trees_over_the_same_documents() {
    let t = spawn().await;
    let created = t.create_bill("BOTH-1").await;
    let number = created["data"]["bill"]["number"].as_str().unwrap().to_owned();
    let shown = t.get_ok(&format!("/v2/bills/{number}")).await;
    assert_eq!(shown["data"]["reference_code"], "BOTH-1");
    assert_eq!(shown["data"]["cufe"], created["data"]["bill"]["cufe"]);
    assert_eq!(shown["data"]["totals"]["total"], "201.00");
    let next = t.create_bill_v2("BOTH-2").await;
    assert_eq!(next["data"]["number"], "SETP990000002", "one numbering range for both versions");
}

#[tokio::test]
async fn the_admin_api_switches_the_version_while_running() {
    let t = spawn().await;
    assert_eq!(t.admin_get("/__sandbox/api-version").await, json!({"api_version": "both"}));
    t.set_api_version("v2").await;
    assert_eq!(t.admin_get("/__sandbox/api-version").await, json!({"api_version": "v2"}));
    assert_eq!(t.get("/v1/bills").await.0, StatusCode::FORBIDDEN);
    assert_eq!(t.get("/v2/bills").await.0, StatusCode::OK);
    t.set_api_version("v1").await;
    assert_eq!(t.get("/v1/bills").await.0, StatusCode::OK);
    assert_eq!(t.get("/v2/bills").await.0, StatusCode::FORBIDDEN);

    let response =
        t.client.put(t.url("/__sandbox/api-version")).json(&json!({"api_version": "v3"})).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(t.admin_get("/__sandbox/api-version").await["api_version"], "v1", "a bad value changes nothing");
}

#[tokio::test]
async fn the_request_log_shows_every_answer_with_its_status_so_the_403s_can_be_counted() {
    let t = spawn_with(only(ApiVersion::V2)).await;
    t.post("/v1/bills/validate", &bill("LOG-1")).await;
    t.get("/v1/unknown").await;
    t.post("/v2/bills/validate", &bill_v2("LOG-1")).await;
    t.get("/v2/bills/SETP990000001").await;
    let log = t.admin_get("/__sandbox/requests/log").await;
    let entries: Vec<(String, String, u64)> = log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["method"].as_str().unwrap().to_owned(),
                e["path"].as_str().unwrap().to_owned(),
                e["status"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        entries,
        vec![
            ("POST".into(), "/oauth/token".into(), 200),
            ("POST".into(), "/v1/bills/validate".into(), 403),
            ("GET".into(), "/v1/unknown".into(), 403),
            ("POST".into(), "/v2/bills/validate".into(), 201),
            ("GET".into(), "/v2/bills/SETP990000001".into(), 200),
        ]
    );
    assert_eq!(log["requests"][4]["route"], "GET /v2/bills/{number}");
    assert_eq!(log["requests"][2]["route"], Value::Null, "unknown routes have no template");
    assert_eq!(log["dropped"], 0);

    let response = t.client.delete(t.url("/__sandbox/requests")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(t.admin_get("/__sandbox/requests/log").await["requests"], json!([]));
}
