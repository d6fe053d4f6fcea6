use std::time::Duration;

use factus_sandbox::{
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_PASSWORD, DEFAULT_PASSWORD_GRANT, DEFAULT_USERNAME, SandboxConfig,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{client, login, refresh_grant, spawn, spawn_with};

async fn token_call(base: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let response = client().post(format!("{base}/oauth/token")).form(form).send().await.unwrap();
    (response.status(), response.json().await.unwrap())
}

/// The default password grant with `field` set to `value`, or left out when `value` is `None`.
fn password_grant_with<'a>(field: &str, value: Option<&'a str>) -> Vec<(&'a str, &'a str)> {
    DEFAULT_PASSWORD_GRANT
        .into_iter()
        .filter_map(
            |(name, default)| if name == field { value.map(|value| (name, value)) } else { Some((name, default)) },
        )
        .collect()
}

#[tokio::test]
async fn password_grant_with_form_fields_returns_bearer_and_refresh_tokens() {
    let t = spawn().await;
    let (status, body) = token_call(&t.base, &DEFAULT_PASSWORD_GRANT).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    let access = body["access_token"].as_str().unwrap();
    assert_eq!(access.split('.').count(), 3, "a JWT-shaped token");
    assert!(body["refresh_token"].as_str().unwrap().starts_with("def50200"));
}

#[tokio::test]
async fn password_grant_also_accepts_a_json_body() {
    let t = spawn().await;
    let response = t
        .client
        .post(t.url("/oauth/token"))
        .json(&json!({
            "grant_type": "password", "client_id": DEFAULT_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET, "username": DEFAULT_USERNAME,
            "password": DEFAULT_PASSWORD,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn wrong_password_answers_400_invalid_grant_in_passport_shape() {
    let t = spawn().await;
    let (status, body) = token_call(&t.base, &password_grant_with("password", Some("wrong"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(body["error_description"], "The user credentials were incorrect.");
    assert_eq!(body["message"], "The user credentials were incorrect.");
}

#[tokio::test]
async fn wrong_client_secret_answers_401_invalid_client() {
    let t = spawn().await;
    let (status, body) = token_call(&t.base, &password_grant_with("client_secret", Some("nope"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_client");
    assert_eq!(body["message"], "Client authentication failed");
}

#[tokio::test]
async fn unsupported_grant_and_missing_parameters_answer_400() {
    let t = spawn().await;
    let (status, body) = token_call(&t.base, &[("grant_type", "client_credentials")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "unsupported_grant_type");

    let (status, body) = token_call(&t.base, &password_grant_with("username", None)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_request");
    assert_eq!(body["hint"], "Check the `username` parameter");
}

#[tokio::test]
async fn resource_calls_without_or_with_an_unknown_token_answer_401_unauthenticated() {
    let t = spawn().await;
    let response = t.client.get(t.url("/v1/numbering-ranges")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({"message": "Unauthenticated."}));

    let response = t.client.get(t.url("/v1/numbering-ranges")).bearer_auth("not-a-token").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_expired_token_answers_401_and_the_refreshed_one_works() {
    let config = SandboxConfig { token_ttl: Duration::from_secs(1), ..SandboxConfig::default() };
    let t = spawn_with(config).await;
    let (access, refresh) = login(&t.client, &t.base).await;
    let call = |token: String| {
        let request = t.client.get(t.url("/v1/numbering-ranges")).bearer_auth(token);
        async move { request.send().await.unwrap().status() }
    };
    assert_eq!(call(access.clone()).await, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(call(access).await, StatusCode::UNAUTHORIZED);

    let (status, body) = token_call(&t.base, &refresh_grant(&refresh)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["expires_in"], 1);
    let renewed = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(call(renewed).await, StatusCode::OK);
}

#[tokio::test]
async fn refreshing_revokes_the_previous_access_and_refresh_tokens() {
    let t = spawn().await;
    let (access, refresh) = login(&t.client, &t.base).await;
    let form = refresh_grant(&refresh);
    let (status, _) = token_call(&t.base, &form).await;
    assert_eq!(status, StatusCode::OK);
    let old = t.client.get(t.url("/v1/company")).bearer_auth(&access).send().await.unwrap();
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    let (status, body) = token_call(&t.base, &form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(body["message"], "The refresh token is invalid.");
}

#[tokio::test]
async fn credentials_are_configurable() {
    let config = SandboxConfig {
        client_id: "other-client".into(),
        client_secret: "other-secret".into(),
        username: "me@example.com".into(),
        password: "pw".into(),
        ..SandboxConfig::default()
    };
    let sandbox = factus_sandbox::Sandbox::start(config).await.unwrap();
    let base = sandbox.base_url();
    let (status, _) = token_call(&base, &DEFAULT_PASSWORD_GRANT).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = token_call(
        &base,
        &[
            ("grant_type", "password"),
            ("client_id", "other-client"),
            ("client_secret", "other-secret"),
            ("username", "me@example.com"),
            ("password", "pw"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    sandbox.shutdown().await;
}
