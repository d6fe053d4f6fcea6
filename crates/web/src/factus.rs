//! How Factus failures become HTTP, and where a request's Factus token comes from.
//!
//! The reference answers every Factus failure with `{"detail": "<prefix>: <message>"}`. We keep
//! its texts and prefixes, and give the statuses a client can act on: 400 when Factus refused the
//! request, 503 when Factus is unreachable, answers 5xx or the circuit is open, 504 when it did not
//! answer in time.

use axum::extract::FromRef;
use axum::http::StatusCode;
use axum::http::request::Parts;
use factus_application::factus::{FactusAccess, FactusError, FactusOperation};
use secrecy::SecretString;

use crate::error::ApiError;
use crate::state::AppState;
use crate::validation::{FieldError, Loc};

/// 400 with the operation's prefix: Factus refused the request.
#[must_use]
pub fn refused(operation: FactusOperation, message: &str) -> ApiError {
    ApiError::detail(StatusCode::BAD_REQUEST, operation.detail(message))
}

/// Factus refused the request with `status`: 400 with the operation's prefix, except Factus'
/// own rate limit (429, 80 requests a minute per account), which is not the client's mistake:
/// 503, so that clients retry later instead of giving up on a valid request.
#[must_use]
pub fn rejected(operation: FactusOperation, status: u16, message: &str) -> ApiError {
    if status == 429 {
        ApiError::detail(StatusCode::SERVICE_UNAVAILABLE, operation.detail(message))
    } else {
        refused(operation, message)
    }
}

/// Maps a failure that kept Factus from answering properly.
#[must_use]
pub fn upstream(operation: FactusOperation, error: FactusError) -> ApiError {
    match error {
        FactusError::Rejected { status, message } => rejected(operation, status, &message),
        FactusError::InvalidResponse { message } => refused(operation, &message),
        FactusError::Timeout => {
            ApiError::detail(StatusCode::GATEWAY_TIMEOUT, operation.detail(&FactusError::Timeout.to_string()))
        }
        FactusError::Unavailable { message, .. } => {
            ApiError::detail(StatusCode::SERVICE_UNAVAILABLE, operation.detail(&message))
        }
        FactusError::CircuitOpen => {
            ApiError::detail(StatusCode::SERVICE_UNAVAILABLE, operation.detail(&FactusError::CircuitOpen.to_string()))
        }
        FactusError::MissingCredentials => ApiError::invalid(missing_factus_token()),
        FactusError::Unexpected(error) => ApiError::internal(error),
    }
}

/// The reference's 422 for a request without `X-Factus-Token`.
#[must_use]
pub fn missing_factus_token() -> FieldError {
    FieldError::missing(Loc::header("x-factus-token"))
}

/// The Factus access of a request: the client's `X-Factus-Token`, else the server's own session
/// when it has Factus credentials, else the 422 the reference answers for the missing header
/// (returned as a field error so a handler can report it together with body errors).
///
/// # Errors
/// The missing-header field error.
pub fn access(parts: &Parts, state: &AppState) -> Result<FactusAccess, FieldError> {
    let token = parts.headers.get("x-factus-token").and_then(|value| value.to_str().ok()).map(str::trim);
    match token {
        Some(token) if !token.is_empty() => Ok(FactusAccess::ClientToken(SecretString::from(token.to_owned()))),
        _ if state.factus_status.has_server_session() => Ok(FactusAccess::ServerSession),
        _ => Err(missing_factus_token()),
    }
}

/// Extractor form of [`access`] for handlers without a body.
#[derive(Debug, Clone)]
pub struct Access(pub FactusAccess);

impl<S> axum::extract::FromRequestParts<S> for Access
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        access(parts, &state).map(Self).map_err(ApiError::invalid)
    }
}

/// [`Access`] for handlers that also read a body: the missing header is reported together with
/// the body's errors instead of on its own.
#[derive(Debug, Clone)]
pub struct MaybeAccess(pub Result<FactusAccess, FieldError>);

impl<S> axum::extract::FromRequestParts<S> for MaybeAccess
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        Ok(Self(access(parts, &state)))
    }
}
