//! What the gateway keeps so as not to spend Factus' 80 calls a minute, black-box: the service
//! in-process in front of the real sandbox, whose request counters say how many calls reached
//! Factus.
//!
//! - 10,000 numbering-range lookups within the cache's time to live, over two instances: at most
//!   one Factus call per instance;
//! - 1,000 downloads of one validated PDF: one Factus call in total, on SQLite and on Postgres
//!   (where a second instance then serves it from the shared database too);
//! - the caches' hits and misses are on `/metrics`.

mod support_exactly_once;

use std::collections::BTreeMap;
use std::sync::Arc;

use factus_infrastructure::testing::TestDatabase;
use futures::StreamExt as _;
use reqwest::StatusCode;
use support_exactly_once::{Api, InProcess, Upstream, invoice};

const NUMBERING_RANGES: &str = "GET /v1/numbering-ranges";
const DOWNLOAD_PDF: &str = "GET /v1/bills/download-pdf/{number}";
const CONCURRENCY: usize = 32;

fn env(upstream: &Upstream, database: &TestDatabase) -> BTreeMap<&'static str, String> {
    let mut env = upstream.service_env(database.url());
    // Well above how long the test takes, so every lookup is within the time to live.
    env.insert("FACTUS_NUMBERING_RANGE_CACHE_SECS", "600".to_owned());
    env
}

/// GETs `path` `times` times, `CONCURRENCY` at once; every answer must be 200.
async fn get_many(api: &Api, path: &str, times: usize) {
    let api = Arc::new(api.clone());
    futures::stream::iter(0..times)
        .map(|_| {
            let api = Arc::clone(&api);
            let path = path.to_owned();
            async move {
                let reply = api.get(&path).await;
                assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text);
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<()>>()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_thousand_numbering_range_lookups_make_at_most_one_factus_call_per_instance() {
    let database = TestDatabase::sqlite();
    let upstream = Upstream::start().await;
    let env = env(&upstream, &database);
    let first = InProcess::start(&env).await;
    let second = InProcess::start(&env).await;
    upstream.reset_requests().await;

    tokio::join!(
        get_many(&first.api, "/lookups/numbering-ranges", 5_000),
        get_many(&second.api, "/lookups/numbering-ranges", 5_000)
    );

    let calls = upstream.count(NUMBERING_RANGES).await;
    assert!((1..=2).contains(&calls), "{calls} Factus calls for 10,000 lookups on two instances");
    let metrics = first.api.http.get(format!("{}/metrics", first.api.base)).send().await.unwrap().text().await.unwrap();
    assert!(
        metrics.lines().any(|line| line.starts_with("cache_requests_total")
            && line.contains(r#"cache="numbering_ranges""#)
            && line.contains(r#"outcome="hit""#)),
        "the hits are counted: {metrics}"
    );

    first.stop().await;
    second.stop().await;
    upstream.shutdown().await;
}

async fn a_thousand_downloads_of_a_validated_pdf_make_one_factus_call(database: TestDatabase, second_instance: bool) {
    let upstream = Upstream::start().await;
    let env = env(&upstream, &database);
    let service = InProcess::start(&env).await;
    let (number, _) = service.api.create(&invoice("CACHE-PDF-1"), None).await.issued();
    upstream.reset_requests().await;

    get_many(&service.api, &format!("/invoices/{number}/pdf"), 1_000).await;
    assert_eq!(upstream.count(DOWNLOAD_PDF).await, 1, "one Factus call for 1,000 downloads");
    let pdf = service.api.get(&format!("/invoices/{number}/pdf")).await.json();
    assert_eq!(pdf["data"]["extension"], "pdf");
    assert!(!pdf["data"]["file_name"].as_str().unwrap_or_default().is_empty(), "{pdf}");
    assert!(!pdf["data"]["file_content"].as_str().unwrap_or_default().is_empty());

    if second_instance {
        // Another instance on the same database has never downloaded it: it reads the stored one.
        let other = InProcess::start(&env).await;
        get_many(&other.api, &format!("/invoices/{number}/pdf"), 100).await;
        assert_eq!(upstream.count(DOWNLOAD_PDF).await, 1, "still one Factus call");
        other.stop().await;
    }

    service.stop().await;
    upstream.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_downloads_of_a_validated_pdf_make_one_factus_call_on_sqlite() {
    a_thousand_downloads_of_a_validated_pdf_make_one_factus_call(TestDatabase::sqlite(), false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_downloads_of_a_validated_pdf_make_one_factus_call_on_postgres() {
    let Some(database) = TestDatabase::postgres_or_skip("caches::downloads_on_postgres").await else { return };
    a_thousand_downloads_of_a_validated_pdf_make_one_factus_call(database, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_document_dian_has_not_validated_is_downloaded_from_factus_every_time() {
    let database = TestDatabase::sqlite();
    let upstream = Upstream::start().await;
    let service = InProcess::start(&env(&upstream, &database)).await;
    // Stored by Factus but still waiting for DIAN (status 0): it may change or be deleted.
    upstream
        .fault(serde_json::json!({"kind": "pending", "method": "POST", "path": "/v1/bills/validate", "times": 1}))
        .await;
    let created = service.api.create(&invoice("CACHE-PENDING-1"), None).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    let number = created.json()["data"]["number"].as_str().expect("a number").to_owned();
    upstream.reset_requests().await;

    get_many(&service.api, &format!("/invoices/{number}/pdf"), 3).await;
    assert_eq!(upstream.count(DOWNLOAD_PDF).await, 3);

    service.stop().await;
    upstream.shutdown().await;
}
