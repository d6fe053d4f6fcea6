//! Machine callers: `X-API-Key` accepted wherever a bearer token is.
//!
//! [`crate::extract::CurrentUser`] asks [`api_key_user`] first: when the request carries a
//! non-empty `X-API-Key`, that key alone decides (a bearer token sent beside it is ignored), and
//! the caller is the key's user, with everything that user may do. The key's id is left in the
//! request's extensions, where [`Caller`] finds it for the ledger.

use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName};
use factus_domain::user::User;
use uuid::Uuid;

use crate::error::{ApiError, Later};
use crate::extract::{current_user, from_request_parts};
use crate::state::AppState;

/// The header machine callers send their key in (case-insensitive, as every header name).
pub const API_KEY_HEADER: HeaderName = HeaderName::from_static("x-api-key");

/// The id of the API key that authenticated this request, left in its extensions.
#[derive(Debug, Clone, Copy)]
struct AuthenticatedKey(Uuid);

/// The key of the `X-API-Key` header; an empty header counts as absent (as in FastAPI).
#[must_use]
pub fn presented_api_key(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(&API_KEY_HEADER)?.to_str().ok()?.trim();
    (!value.is_empty()).then_some(value)
}

/// The user behind the request's `X-API-Key`, or `None` when none was sent.
///
/// # Errors
/// 401 `Could not validate credentials` (`WWW-Authenticate: APIKey`) for a key that is malformed,
/// unknown, revoked, expired, or of a user that is gone or disabled; 500 when a store fails.
pub(crate) async fn api_key_user(parts: &mut Parts, state: &AppState) -> Result<Option<User>, ApiError> {
    let Some(presented) = presented_api_key(&parts.headers) else { return Ok(None) };
    let (user, key) = state.api_keys.authenticate(presented).await?;
    parts.extensions.insert(AuthenticatedKey(key.id));
    Ok(Some(user))
}

/// A [`crate::extract::CurrentUser`] together with the API key it came with, if any (what the ledger records).
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    pub api_key_id: Option<Uuid>,
}

from_request_parts!(Caller, ApiError, |parts, state| {
    let user = current_user(parts, &state).await?;
    let api_key_id = parts.extensions.get::<AuthenticatedKey>().map(|key| key.0);
    Ok(Self { user, api_key_id })
});

/// The caller of a route of the later generation under `/api` (docs/contract.md §12.2): only
/// an `X-API-Key` authenticates there. Without one the answer is 401 `Not authenticated`
/// (`WWW-Authenticate: APIKey`); a key that is unknown, revoked, expired or of a disabled user
/// answers 403 `API Key inválida o ausente.`, the later original's texts.
#[derive(Debug, Clone)]
pub struct KeyCaller(pub Caller);

from_request_parts!(KeyCaller, ApiError, |parts, state| {
    let Some(presented) = presented_api_key(&parts.headers) else {
        return Err(crate::error::later_missing_api_key());
    };
    let (user, key) = state.api_keys.authenticate(presented).await.map_err(Later)?;
    Ok(Self(Caller { user, api_key_id: Some(key.id) }))
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_or_blank_key_header_counts_as_absent() {
        let mut headers = HeaderMap::new();
        assert_eq!(presented_api_key(&headers), None);
        headers.insert(API_KEY_HEADER, "".parse().unwrap());
        assert_eq!(presented_api_key(&headers), None);
        headers.insert(API_KEY_HEADER, "  ".parse().unwrap());
        assert_eq!(presented_api_key(&headers), None);
        headers.insert("X-Api-KEY", "fapi_1".parse().unwrap());
        assert_eq!(presented_api_key(&headers), Some("fapi_1"));
    }
}
