//! Where a request's Factus token comes from. (How Factus failures become HTTP is in
//! [`crate::error`], with every other use-case error.)

use axum::http::request::Parts;
use factus_application::factus::FactusAccess;
use secrecy::SecretString;

use crate::error::ApiError;
use crate::extract::from_request_parts;
use crate::state::AppState;
use crate::validation::{FieldError, Loc};

/// The contract's 422 for a request without `X-Factus-Token`.
#[must_use]
pub fn missing_factus_token() -> FieldError {
    FieldError::missing(Loc::header("x-factus-token"))
}

/// The Factus access of a request: the client's `X-Factus-Token`, else the server's own session
/// when it has Factus credentials, else the contract's 422 for the missing header
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

from_request_parts!(Access, ApiError, |parts, state| access(parts, &state).map(Self).map_err(ApiError::invalid));

/// [`Access`] for handlers that also read a body: the missing header is reported together with
/// the body's errors instead of on its own.
#[derive(Debug, Clone)]
pub struct MaybeAccess(pub Result<FactusAccess, FieldError>);

from_request_parts!(MaybeAccess, std::convert::Infallible, |parts, state| Ok(Self(access(parts, &state))));

/// A body handler's Factus access and parsed body, or one 422 listing the missing
/// `X-Factus-Token` together with the body's errors.
///
/// # Errors
/// [`ApiError::Validation`] with every error of both.
pub fn with_body<T>(
    access: Result<FactusAccess, FieldError>,
    body: Result<T, Vec<FieldError>>,
) -> Result<(FactusAccess, T), ApiError> {
    match (access, body) {
        (Ok(access), Ok(body)) => Ok((access, body)),
        (access, body) => {
            let mut errors: Vec<FieldError> = access.err().into_iter().collect();
            errors.extend(body.err().unwrap_or_default());
            Err(ApiError::Validation(errors))
        }
    }
}
