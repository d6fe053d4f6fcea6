use factus_sandbox::SandboxConfig;
use reqwest::StatusCode;

use crate::common::{login, spawn, spawn_with};

#[tokio::test]
async fn the_rate_limit_answers_429_past_the_configured_requests_per_token() {
    let t = spawn_with(SandboxConfig { rate_limit: Some(3), ..SandboxConfig::default() }).await;
    for remaining in ["2", "1", "0"] {
        let response = t.client.get(t.url("/v1/company")).bearer_auth(&t.token).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["x-ratelimit-limit"], "3");
        assert_eq!(response.headers()["x-ratelimit-remaining"], remaining);
    }
    let response = t.client.get(t.url("/v1/company")).bearer_auth(&t.token).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after));
    assert_eq!(response.headers()["x-ratelimit-remaining"], "0");
    assert!(response.headers().contains_key("x-ratelimit-reset"));

    // Another token has its own window.
    let (other, _) = login(&t.client, &t.base).await;
    let response = t.client.get(t.url("/v1/company")).bearer_auth(other).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
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
