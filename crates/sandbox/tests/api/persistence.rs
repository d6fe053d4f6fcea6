use factus_sandbox::{Sandbox, SandboxConfig};
use reqwest::StatusCode;
use serde_json::Value;

use crate::common::{bill, client, json_of, login};

#[tokio::test]
async fn the_state_file_keeps_bills_numbering_and_tokens_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let config = SandboxConfig { state_file: Some(dir.path().join("state.json")), ..SandboxConfig::default() };
    let http = client();
    let sandbox = Sandbox::start(config.clone()).await.unwrap();
    let base = sandbox.base_url();
    let (token, _) = login(&http, &base).await;
    for reference in ["P-1", "P-2"] {
        let response = http
            .post(format!("{base}/v1/bills/validate"))
            .bearer_auth(&token)
            .json(&bill(reference))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    sandbox.shutdown().await;
    assert!(dir.path().join("state.json").exists());

    let sandbox = Sandbox::start(config).await.unwrap();
    let base = sandbox.base_url();
    let shown = http.get(format!("{base}/v1/bills/show/SETP990000002")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(shown.status(), StatusCode::OK, "the old token still works");
    let body: Value = shown.json().await.unwrap();
    assert_eq!(body["data"]["bill"]["reference_code"], "P-2");

    let created = json_of(http.post(format!("{base}/v1/bills/validate")).bearer_auth(&token).json(&bill("P-3"))).await;
    assert_eq!(created["data"]["bill"]["number"], "SETP990000003");
    let duplicate =
        http.post(format!("{base}/v1/bills/validate")).bearer_auth(&token).json(&bill("P-1")).send().await.unwrap();
    assert_eq!(duplicate.status(), StatusCode::CONFLICT);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_corrupt_state_file_stops_the_start_with_invalid_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    std::fs::write(&path, b"{not json").unwrap();
    let error = Sandbox::start(SandboxConfig { state_file: Some(path), ..SandboxConfig::default() }).await.unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
}
