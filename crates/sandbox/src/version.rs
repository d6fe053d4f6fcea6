//! The API-version switch of the simulated account and the request log that shows its effect.
//!
//! Factus enables one API version per company; a call to the other tree with a valid token
//! answers 403 `{"message": "Version de API no disponible para esta empresa"}`. The switch starts
//! at [`SandboxConfig::api_version`](crate::SandboxConfig) and `PUT /__sandbox/api-version`
//! changes it while running. The gate sits behind the bearer check, so a call without a valid
//! token still gets 401 first; unknown paths of the refused tree get the 403 too (the fallback
//! asks [`refused`]).

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::StatusCode;
use serde::Serialize;
use serde_json::{Value, json};

use crate::app::App;
use crate::auth::bearer;
use crate::config::ApiVersion;
use crate::http::json_response;

/// The version the account answers with now.
#[derive(Debug)]
pub(crate) struct VersionSwitch(AtomicU8);

impl VersionSwitch {
    pub fn new(version: ApiVersion) -> Self {
        Self(AtomicU8::new(Self::encode(version)))
    }

    fn encode(version: ApiVersion) -> u8 {
        match version {
            ApiVersion::V1 => 1,
            ApiVersion::V2 => 2,
            ApiVersion::Both => 0,
        }
    }

    pub fn get(&self) -> ApiVersion {
        match self.0.load(Ordering::Relaxed) {
            1 => ApiVersion::V1,
            2 => ApiVersion::V2,
            _ => ApiVersion::Both,
        }
    }

    pub fn set(&self, version: ApiVersion) {
        self.0.store(Self::encode(version), Ordering::Relaxed);
    }
}

/// Factus' answer to a call of a version the company does not have.
pub(crate) fn version_unavailable() -> Response {
    json_response(StatusCode::FORBIDDEN, &json!({"message": "Version de API no disponible para esta empresa"}))
}

/// Whether this request, sent with a live token, is one the current version refuses.
pub(crate) fn refused(app: &App, request: &Request) -> bool {
    app.version.get().refuses(request.uri().path())
        && bearer(request.headers()).is_some_and(|token| app.store.token_account(token).is_some())
}

/// Middleware of the versioned routes, behind the bearer check: 403 for the refused tree.
pub(crate) async fn gate(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    if app.version.get().refuses(request.uri().path()) {
        return crate::app::drain(request, version_unavailable()).await;
    }
    next.run(request).await
}

/// One answered request, as `GET /__sandbox/requests/log` lists it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct LoggedRequest {
    pub method: String,
    pub path: String,
    /// `METHOD /route/{template}` as counted by `GET /__sandbox/requests`; `None` for unknown
    /// routes.
    pub route: Option<String>,
    pub status: u16,
    /// When the request arrived, in milliseconds since the Unix epoch: lets a test check how many
    /// calls fell in any window.
    pub at_ms: i64,
}

impl LoggedRequest {
    /// Milliseconds since the Unix epoch, now.
    pub fn now_ms() -> i64 {
        i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
    }
}

/// The last [`RequestLog::CAPACITY`] answered requests, oldest first.
#[derive(Debug, Default)]
pub(crate) struct RequestLog {
    entries: VecDeque<LoggedRequest>,
    /// Requests dropped from the front since the last clear.
    dropped: u64,
}

impl RequestLog {
    /// Enough for any test; bounded so that a long benchmark does not grow it without end.
    pub const CAPACITY: usize = 10_000;

    pub fn push(&mut self, entry: LoggedRequest) {
        if self.entries.len() == Self::CAPACITY {
            self.entries.pop_front();
            self.dropped += 1;
        }
        self.entries.push_back(entry);
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.dropped = 0;
    }

    pub fn to_json(&self) -> Value {
        json!({"dropped": self.dropped, "requests": self.entries})
    }
}

/// `GET /__sandbox/api-version` → `{"api_version": "both"}`.
pub(crate) async fn show(State(app): State<Arc<App>>) -> Response {
    json_response(StatusCode::OK, &json!({"api_version": app.version.get().as_str()}))
}

/// `PUT /__sandbox/api-version` with `{"api_version": "v1" | "v2" | "both"}`.
pub(crate) async fn change(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let wanted = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("api_version").cloned())
        .and_then(|v| serde_json::from_value::<ApiVersion>(v).ok());
    match wanted {
        Some(version) => {
            app.version.set(version);
            tracing::info!(api_version = version.as_str(), "API version changed");
            json_response(StatusCode::OK, &json!({"api_version": version.as_str()}))
        }
        None => json_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            &json!({"message": "api_version must be one of v1, v2, both"}),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_mode_refuses_only_the_other_tree() {
        assert!(ApiVersion::V1.refuses("/v2/bills"));
        assert!(!ApiVersion::V1.refuses("/v1/bills"));
        assert!(ApiVersion::V2.refuses("/v1/bills/validate"));
        assert!(!ApiVersion::V2.refuses("/v2/bills/validate"));
        assert!(!ApiVersion::V2.refuses("/oauth/token"));
        assert!(!ApiVersion::Both.refuses("/v1/bills") && !ApiVersion::Both.refuses("/v2/bills"));
    }

    #[test]
    fn the_switch_reads_back_what_was_set() {
        let switch = VersionSwitch::new(ApiVersion::Both);
        for version in [ApiVersion::V1, ApiVersion::V2, ApiVersion::Both] {
            switch.set(version);
            assert_eq!(switch.get(), version);
        }
    }

    #[test]
    fn the_log_keeps_the_newest_entries_and_counts_the_dropped_ones() {
        let mut log = RequestLog::default();
        for i in 0..RequestLog::CAPACITY + 2 {
            log.push(LoggedRequest { method: "GET".into(), path: format!("/{i}"), route: None, status: 200, at_ms: 0 });
        }
        let json = log.to_json();
        assert_eq!(json["dropped"], 2);
        assert_eq!(json["requests"][0]["path"], "/2");
    }
}
