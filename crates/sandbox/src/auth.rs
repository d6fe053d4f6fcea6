//! `POST /oauth/token` (Laravel Passport's password and refresh grants) and the bearer check of
//! every `/v1` route, with the optional rate limit per account (the OAuth user a token belongs to,
//! as Factus counts it: every token of one user shares the window).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, StatusCode};
use rand::RngCore;
use serde_json::{Value, json};

use crate::app::App;
use crate::http::{json_response, too_many, unauthenticated};
use crate::store::{RateCheck, now_ms};

/// Passport's error body.
fn oauth_error(status: StatusCode, error: &str, description: &str, hint: Option<&str>) -> Response {
    let mut body = json!({"error": error, "error_description": description});
    if let Some(hint) = hint {
        body["hint"] = Value::String(hint.to_owned());
    }
    body["message"] = Value::String(description.to_owned());
    json_response(status, &body)
}

fn missing(parameter: &str) -> Response {
    oauth_error(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed.",
        Some(&format!("Check the `{parameter}` parameter")),
    )
}

/// Reads a form-encoded or JSON body into string fields.
fn fields(headers: &HeaderMap, body: &[u8]) -> Option<HashMap<String, String>> {
    let is_json = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("json"));
    if is_json {
        let value: serde_json::Map<String, Value> = serde_json::from_slice(body).ok()?;
        Some(
            value
                .into_iter()
                .filter_map(|(k, v)| match v {
                    Value::String(s) => Some((k, s)),
                    Value::Number(n) => Some((k, n.to_string())),
                    _ => None,
                })
                .collect(),
        )
    } else {
        serde_urlencoded::from_bytes(body).ok()
    }
}

fn random_bytes(n: usize) -> Vec<u8> {
    let mut bytes = vec![0; n];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

/// A JWT-shaped access token (RS256 header, Passport-like claims, random signature).
fn access_token(client_id: &str, ttl_s: u64) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"RS256"}"#);
    let claims = json!({
        "aud": client_id,
        "jti": hex::encode(random_bytes(40)),
        "iat": now,
        "nbf": now,
        "exp": now + i64::try_from(ttl_s).unwrap_or(i64::MAX / 2),
        "sub": "1",
        "scopes": [],
    });
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signature = URL_SAFE_NO_PAD.encode(random_bytes(256));
    format!("{header}.{payload}.{signature}")
}

/// An opaque refresh token in league/oauth2-server's `def50200…` style.
fn refresh_token() -> String {
    format!("def50200{}", hex::encode(random_bytes(96)))
}

/// `POST /oauth/token`.
pub(crate) async fn token(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(form) = fields(&headers, &body) else {
        return missing("grant_type");
    };
    let get = |key: &str| form.get(key).map(String::as_str).filter(|v| !v.is_empty());
    let config = &app.config;
    let grant = match get("grant_type") {
        None => return missing("grant_type"),
        Some(grant @ ("password" | "refresh_token")) => grant,
        Some(_) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "The authorization grant type is not supported by the authorization server.",
                Some("Check that all required parameters have been provided"),
            );
        }
    };
    let Some(client_id) = get("client_id") else {
        return missing("client_id");
    };
    if client_id != config.client_id || get("client_secret") != Some(config.client_secret.as_str()) {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "Client authentication failed", None);
    }
    let user = if grant == "password" {
        let Some(username) = get("username") else {
            return missing("username");
        };
        let Some(password) = get("password") else {
            return missing("password");
        };
        if username != config.username || password != config.password {
            return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "The user credentials were incorrect.", None);
        }
        username.to_owned()
    } else {
        let Some(refresh) = get("refresh_token") else {
            return missing("refresh_token");
        };
        match app.store.take_refresh(refresh) {
            // State files written before accounts were recorded hold no user: the only one.
            Some(taken) if taken.user.is_empty() => config.username.clone(),
            Some(taken) => taken.user,
            None => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "The refresh token is invalid.",
                    Some("Token has been revoked"),
                );
            }
        }
    };
    let ttl_s = config.token_ttl.as_secs().max(1);
    let access = access_token(&config.client_id, ttl_s);
    let refresh = refresh_token();
    let expires_at_ms = now_ms() + i128::from(ttl_s) * 1000;
    app.store.issue_tokens(access.clone(), refresh.clone(), expires_at_ms, &user);
    json_response(
        StatusCode::OK,
        &json!({
            "token_type": "Bearer",
            "expires_in": ttl_s,
            "access_token": access,
            "refresh_token": refresh,
        }),
    )
}

/// The bearer token of a request, if it has one.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// Seconds, rounded up, at least 1.
fn whole_seconds(duration: Duration) -> u64 {
    (duration.as_secs() + u64::from(duration.subsec_nanos() > 0)).max(1)
}

/// Middleware of the `/v1` routes: 401 without a live token, 429 past the account's rate limit.
pub(crate) async fn require_token(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let Some(account) = bearer(request.headers()).and_then(|token| app.store.token_account(token)) else {
        // Read the body first, so that a client still uploading sees the 401 (see `drain`).
        return crate::app::drain(request, unauthenticated()).await;
    };
    let Some(limit) = app.config.rate_limit else {
        return next.run(request).await;
    };
    match app.store.rate_check(&account, limit, app.config.rate_window.max(Duration::from_secs(1))) {
        RateCheck::Limited { reset_in } => crate::app::drain(request, too_many(limit, whole_seconds(reset_in))).await,
        RateCheck::Allowed { remaining, reset_in } => {
            let mut response = next.run(request).await;
            let reset = time::OffsetDateTime::now_utc().unix_timestamp()
                + i64::try_from(whole_seconds(reset_in)).unwrap_or(i64::MAX / 2);
            let headers = response.headers_mut();
            headers.insert("x-ratelimit-limit", HeaderValue::from(limit));
            headers.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
            headers.insert("x-ratelimit-reset", HeaderValue::from(reset));
            response
        }
    }
}
