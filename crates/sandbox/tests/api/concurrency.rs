use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::Value;

use crate::common::{bill, spawn};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_creates_get_a_thousand_consecutive_numbers() {
    let t = spawn().await;
    let tasks: Vec<_> = (0..1000)
        .map(|i| {
            let request =
                t.client.post(t.url("/v1/bills/validate")).bearer_auth(&t.token).json(&bill(&format!("CONC-{i:04}")));
            tokio::spawn(async move {
                let response = request.send().await.expect("response");
                assert_eq!(response.status(), StatusCode::CREATED);
                let body: Value = response.json().await.expect("JSON");
                body["data"]["bill"]["number"].as_str().expect("number").to_owned()
            })
        })
        .collect();
    let mut numbers = Vec::with_capacity(1000);
    for task in tasks {
        numbers.push(task.await.expect("task"));
    }
    let distinct: BTreeSet<&String> = numbers.iter().collect();
    assert_eq!(distinct.len(), 1000, "no duplicates");
    let expected: BTreeSet<String> = (990_000_001..=990_001_000u64).map(|n| format!("SETP{n}")).collect();
    assert_eq!(distinct.into_iter().cloned().collect::<BTreeSet<_>>(), expected, "no gaps");

    let stored = t.admin_get("/__sandbox/bills").await;
    let references: BTreeSet<&str> =
        stored.as_array().unwrap().iter().map(|b| b["reference_code"].as_str().unwrap()).collect();
    assert_eq!(references.len(), 1000, "exactly one bill per reference");
}
