//! The FastAPI-compatible error responses, and the one place use-case errors become HTTP.
//!
//! Every error body is `{"detail": "<text>"}` or `{"detail": [{"loc", "msg", "type"}, …]}`.
//! Unexpected errors answer a generic 500 and are logged once, here, with the request's span
//! (which carries the request id); nothing internal reaches the client.

use std::time::Duration;

use axum::Json;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::validation::FieldError;

/// An error response.
#[derive(Debug)]
pub enum ApiError {
    /// 422: the request is malformed (shape, types, presence, field bounds).
    Validation(Vec<FieldError>),
    /// 400: the request is well formed but breaks a business rule of the invoice.
    BusinessRules(Vec<FieldError>),
    /// `{"detail": text}` with any status, and optional extra headers.
    Detail { status: StatusCode, detail: String, headers: HeaderMap },
    /// 500 `Internal Server Error`; the cause is logged, never sent.
    Internal(anyhow::Error),
}

impl ApiError {
    pub fn detail(status: StatusCode, detail: impl Into<String>) -> Self {
        Self::Detail { status, detail: detail.into(), headers: HeaderMap::new() }
    }

    #[must_use]
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        if let Self::Detail { headers, .. } = &mut self {
            headers.insert(name, value);
        }
        self
    }

    fn unauthorized(detail: &str) -> Self {
        Self::detail(StatusCode::UNAUTHORIZED, detail)
            .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
    }

    /// 401 `Not authenticated`: no bearer token was sent.
    #[must_use]
    pub fn not_authenticated() -> Self {
        Self::unauthorized("Not authenticated")
    }

    /// 401 `Could not validate credentials`: the token was refused.
    #[must_use]
    pub fn invalid_token() -> Self {
        Self::unauthorized("Could not validate credentials")
    }

    /// 401 `Incorrect username or password`.
    #[must_use]
    pub fn incorrect_credentials() -> Self {
        Self::unauthorized("Incorrect username or password")
    }

    /// 403 `Not enough permissions`.
    #[must_use]
    pub fn forbidden() -> Self {
        Self::detail(StatusCode::FORBIDDEN, "Not enough permissions")
    }

    /// 404 `Not Found`.
    #[must_use]
    pub fn not_found() -> Self {
        Self::detail(StatusCode::NOT_FOUND, "Not Found")
    }

    /// 429 with `Retry-After` in whole seconds (at least one).
    #[must_use]
    pub fn too_many_requests(detail: &str, retry_after: Duration) -> Self {
        let seconds = retry_after.as_secs().max(1);
        Self::detail(StatusCode::TOO_MANY_REQUESTS, detail).with_header(header::RETRY_AFTER, HeaderValue::from(seconds))
    }

    /// A single 422 entry.
    #[must_use]
    pub fn invalid(error: FieldError) -> Self {
        Self::Validation(vec![error])
    }

    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        Self::Internal(error.into())
    }
}

impl From<Vec<FieldError>> for ApiError {
    fn from(errors: Vec<FieldError>) -> Self {
        Self::Validation(errors)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            Self::Validation(errors) => {
                (StatusCode::UNPROCESSABLE_ENTITY, Json(json!({ "detail": errors }))).into_response()
            }
            Self::BusinessRules(errors) => (StatusCode::BAD_REQUEST, Json(json!({ "detail": errors }))).into_response(),
            Self::Detail { status, detail, headers } => {
                (status, headers, Json(json!({ "detail": detail }))).into_response()
            }
            Self::Internal(error) => {
                // The one place an unexpected error is logged; the span carries the request id.
                tracing::error!(error = format!("{error:#}"), "unexpected error");
                internal_server_error()
            }
        }
    }
}

/// The generic 500 body, also used for panics.
#[must_use]
pub fn internal_server_error() -> Response {
    (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({ "detail": "Internal Server Error" }))).into_response()
}
