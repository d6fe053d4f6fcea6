use std::time::{Duration, Instant};

use factus_sandbox::SandboxConfig;
use reqwest::StatusCode;
use serde_json::json;

use crate::common::{bill, json_of, login, refresh_grant, spawn, spawn_with};

#[tokio::test]
async fn the_rate_limit_answers_429_past_the_configured_requests_per_account_with_factus_headers() {
    let t = spawn_with(SandboxConfig { rate_limit: Some(3), ..SandboxConfig::default() }).await;
    for remaining in ["2", "1", "0"] {
        let response = t.client.get(t.url("/v1/company")).bearer_auth(&t.token).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["x-ratelimit-limit"], "3");
        assert_eq!(response.headers()["x-ratelimit-remaining"], remaining);
        assert!(response.headers().contains_key("x-ratelimit-reset"));
        assert!(!response.headers().contains_key("retry-after"));
    }
    let response = t.client.get(t.url("/v1/company")).bearer_auth(&t.token).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(response.headers()["x-ratelimit-limit"], "3");
    assert_eq!(response.headers()["x-ratelimit-remaining"], "0");
    assert!(response.headers().contains_key("x-ratelimit-reset"));
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body, json!({"message": "Too Many Attempts."}));
}

#[tokio::test]
async fn every_token_of_one_account_shares_its_window() {
    // Factus counts per user: a second login (as a second gateway instance would do) gets no
    // budget of its own.
    let t = spawn_with(SandboxConfig { rate_limit: Some(4), ..SandboxConfig::default() }).await;
    let (second, _) = login(&t.client, &t.base).await;
    let (third, refresh) = login(&t.client, &t.base).await;
    for token in [&t.token, &second, &t.token, &third] {
        let response = t.client.get(t.url("/v1/company")).bearer_auth(token).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    for token in [&t.token, &second, &third] {
        let response = t.client.get(t.url("/v1/company")).bearer_auth(token).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    }
    // A refreshed token belongs to the same account.
    let refreshed = json_of(t.client.post(t.url("/oauth/token")).form(&refresh_grant(&refresh))).await;
    let token = refreshed["access_token"].as_str().unwrap();
    let response =
        t.client.post(t.url("/v1/bills/validate")).bearer_auth(token).json(&bill("RL-1")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_short_window_restarts_the_count_when_it_ends() {
    let t = spawn_with(SandboxConfig {
        rate_limit: Some(2),
        rate_window: Duration::from_secs(1),
        ..SandboxConfig::default()
    })
    .await;
    let started = Instant::now();
    for _ in 0..2 {
        t.get_ok("/v1/company").await;
    }
    let response = t.client.get(t.url("/v1/company")).bearer_auth(&t.token).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "1", "whole seconds to the end of a 1 s window");
    tokio::time::sleep(Duration::from_millis(1500).saturating_sub(started.elapsed())).await;
    let response = t.client.get(t.url("/v1/company")).bearer_auth(&t.token).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-ratelimit-remaining"], "1");
}

#[tokio::test]
async fn without_a_rate_limit_nothing_is_throttled() {
    let t = spawn().await;
    for _ in 0..200 {
        let response = t.client.get(t.url("/v1/company")).bearer_auth(&t.token).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(!response.headers().contains_key("x-ratelimit-limit"));
    }
}
