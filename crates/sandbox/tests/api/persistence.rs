use factus_sandbox::{Sandbox, SandboxConfig};
use reqwest::StatusCode;

use crate::common::{bill, spawn_with, with_state_file};

#[tokio::test]
async fn the_state_file_keeps_bills_numbering_and_tokens_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let t = spawn_with(with_state_file(dir.path())).await;
    for reference in ["P-1", "P-2"] {
        t.create_bill(reference).await;
    }
    let t = t.restart(with_state_file(dir.path())).await;
    assert!(dir.path().join("state.json").exists());

    let (status, body) = t.get("/v1/bills/show/SETP990000002").await;
    assert_eq!(status, StatusCode::OK, "the old token still works");
    assert_eq!(body["data"]["bill"]["reference_code"], "P-2");
    assert_eq!(t.create_bill("P-3").await["data"]["bill"]["number"], "SETP990000003");
    assert_eq!(t.post("/v1/bills/validate", &bill("P-1")).await.0, StatusCode::CONFLICT);
    t.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_corrupt_state_file_stops_the_start_with_invalid_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    std::fs::write(&path, b"{not json").unwrap();
    let error = Sandbox::start(SandboxConfig { state_file: Some(path), ..SandboxConfig::default() }).await.unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
}
