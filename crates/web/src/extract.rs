//! Extractors whose rejections are FastAPI-shaped [`ApiError`]s.

use std::net::{IpAddr, SocketAddr};

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequest, Request};
use axum::http::{HeaderMap, header, request::Parts};
use factus_application::company::LogoImage;
use factus_domain::user::User;
use serde_json::Value;

use crate::error::ApiError;
use crate::state::AppState;
use crate::validation::{FieldError, Loc};

/// Implements [`axum::extract::FromRequestParts`] for an extractor that reads the request's head
/// (`parts`) with the [`AppState`] (`state`), whichever state the router keeps it in: the `where`
/// clause and the state's lookup every such extractor needs, written once.
macro_rules! from_request_parts {
    ($extractor:ty, $rejection:ty, |$parts:ident, $state:ident| $body:expr) => {
        impl<S> axum::extract::FromRequestParts<S> for $extractor
        where
            $crate::state::AppState: axum::extract::FromRef<S>,
            S: Send + Sync,
        {
            type Rejection = $rejection;

            async fn from_request_parts(
                $parts: &mut axum::http::request::Parts,
                state: &S,
            ) -> Result<Self, Self::Rejection> {
                let $state = <$crate::state::AppState as axum::extract::FromRef<S>>::from_ref(state);
                $body
            }
        }
    };
}
pub(crate) use from_request_parts;

/// The largest request body accepted; larger ones answer 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The largest upload accepted (a company logo): the logo limit with room to spare, so that a
/// file somewhat over [`LogoImage::MAX_BYTES`] gets the use case's precise 413 naming the limit;
/// larger bodies answer the generic 413.
pub const MAX_UPLOAD_BYTES: usize = 2 * LogoImage::MAX_BYTES;

async fn read_body(body: Body, limit: usize) -> Result<bytes::Bytes, ApiError> {
    axum::body::to_bytes(body, limit).await.map_err(|error| {
        if is_length_limit(&error) {
            ApiError::detail(axum::http::StatusCode::PAYLOAD_TOO_LARGE, "Request body too large")
        } else if is_timeout(&error) {
            // The server's body timeout (`HTTP_BODY_READ_TIMEOUT_SECS`): the client stalled.
            ApiError::detail(axum::http::StatusCode::REQUEST_TIMEOUT, "Tiempo de espera agotado leyendo la solicitud")
                .with_header(axum::http::header::CONNECTION, axum::http::HeaderValue::from_static("close"))
        } else {
            ApiError::detail(axum::http::StatusCode::BAD_REQUEST, "Could not read the request body")
        }
    })
}

fn is_timeout(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if current.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        source = current.source();
    }
    false
}

fn is_length_limit(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if current.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = current.source();
    }
    false
}

fn content_type(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok())
}

/// A JSON body as a `serde_json::Value`, to be read field by field with
/// [`crate::validation::Fields`] so that every error is reported at once.
///
/// Only what FastAPI refuses while *reading* the body is refused here, before authentication:
/// malformed JSON answers 422 `value_error.jsondecode` with the offset in `loc`, and a body over
/// [`MAX_BODY_BYTES`] answers 413. A missing body becomes `null` and a body of another content
/// type a JSON string, so that field validation (after authentication, as in the reference)
/// reports them as `value_error.missing` / `type_error.dict` at `["body"]`.
#[derive(Debug)]
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let is_json = content_type(request.headers()).is_none_or(|value| {
            let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
            essence == "application/json" || essence.ends_with("+json")
        });
        let bytes = read_body(request.into_body(), MAX_BODY_BYTES).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(Value::Null));
        }
        if !is_json {
            return Ok(Self(Value::String(String::from_utf8_lossy(&bytes).into_owned())));
        }
        let value: Value = serde_json::from_slice(&bytes).map_err(|error| {
            let offset = byte_offset(&bytes, error.line(), error.column());
            ApiError::invalid(FieldError::new(
                Loc::body().index(offset),
                format!("JSON decode error: {error}"),
                "value_error.jsondecode",
            ))
        })?;
        // serde_json keeps the last of two equal keys; a body that says two things is refused
        // rather than read as whichever came last.
        if let Some(loc) = duplicate_key(&bytes) {
            return Err(ApiError::invalid(FieldError::new(
                loc,
                "duplicate key in a JSON object",
                "value_error.duplicate_key",
            )));
        }
        Ok(Self(value))
    }
}

/// Where the first repeated key of an object in `bytes` (valid JSON) is, as a `loc` under
/// `body`, or `None` when every object's keys are distinct.
fn duplicate_key(bytes: &[u8]) -> Option<Loc> {
    use serde::de::{DeserializeSeed, Deserializer as _, Error as _, MapAccess, SeqAccess, Visitor};

    /// Walks a JSON document without building it, keeping the path to the current value.
    struct Walk<'a> {
        path: &'a mut Loc,
        found: &'a mut Option<Loc>,
    }

    impl<'de> DeserializeSeed<'de> for Walk<'_> {
        type Value = ();
        fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
            deserializer.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for Walk<'_> {
        type Value = ();

        fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            formatter.write_str("any JSON value")
        }
        fn visit_bool<E>(self, _: bool) -> Result<(), E> {
            Ok(())
        }
        fn visit_i64<E>(self, _: i64) -> Result<(), E> {
            Ok(())
        }
        fn visit_u64<E>(self, _: u64) -> Result<(), E> {
            Ok(())
        }
        fn visit_f64<E>(self, _: f64) -> Result<(), E> {
            Ok(())
        }
        fn visit_str<E>(self, _: &str) -> Result<(), E> {
            Ok(())
        }
        fn visit_unit<E>(self) -> Result<(), E> {
            Ok(())
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            let mut index = 0;
            loop {
                let parent = std::mem::replace(self.path, self.path.index(index));
                let next = seq.next_element_seed(Walk { path: &mut *self.path, found: &mut *self.found })?;
                *self.path = parent;
                if next.is_none() {
                    return Ok(());
                }
                index += 1;
            }
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            let mut seen = std::collections::HashSet::new();
            while let Some(key) = map.next_key::<String>()? {
                let here = self.path.key(key.clone());
                if !seen.insert(key) {
                    *self.found = Some(here);
                    return Err(A::Error::custom("duplicate key"));
                }
                let parent = std::mem::replace(self.path, here);
                map.next_value_seed(Walk { path: &mut *self.path, found: &mut *self.found })?;
                *self.path = parent;
            }
            Ok(())
        }
    }

    let mut path = Loc::body();
    let mut found = None;
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let _ = (&mut deserializer).deserialize_any(Walk { path: &mut path, found: &mut found });
    found
}

/// serde_json reports line and column; FastAPI reports the character offset.
fn byte_offset(bytes: &[u8], line: usize, column: usize) -> usize {
    let mut current_line = 1;
    let mut line_start = 0;
    for (position, byte) in bytes.iter().enumerate() {
        if current_line == line {
            break;
        }
        if *byte == b'\n' {
            current_line += 1;
            line_start = position + 1;
        }
    }
    (line_start + column).saturating_sub(1)
}

/// An `application/x-www-form-urlencoded` or `multipart/form-data` body as ordered pairs (the text
/// fields of a multipart body; file parts are skipped). Any other content type reads as an empty
/// form, so that required fields are reported missing (as FastAPI does for a JSON body
/// sent to a form endpoint).
#[derive(Debug)]
pub struct FormBody(pub Vec<(String, String)>);

impl FormBody {
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(name, _)| name == key).map(|(_, value)| value.as_str())
    }
}

impl<S: Send + Sync> FromRequest<S> for FormBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let invalid = || ApiError::invalid(FieldError::new(Loc::body(), "invalid form body", "value_error"));
        let content_type = content_type(request.headers()).map(str::to_owned);
        let is_urlencoded = content_type
            .as_deref()
            .is_some_and(|value| value.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
        // FastAPI's form reads both encodings; Postman's "form-data" sends multipart.
        let multipart = content_type.as_deref().and_then(crate::multipart::boundary);
        let bytes = read_body(request.into_body(), MAX_BODY_BYTES).await?;
        if let Some(boundary) = multipart {
            let parts = crate::multipart::parse(&bytes, &boundary).map_err(|_| invalid())?;
            // Form fields are text; file parts are not fields of this form and are skipped.
            return parts
                .into_iter()
                .filter(|part| part.filename.is_none())
                .map(|part| {
                    String::from_utf8(part.data.to_vec()).map(|value| (part.name, value)).map_err(|_| invalid())
                })
                .collect::<Result<_, _>>()
                .map(Self);
        }
        if !is_urlencoded {
            return Ok(Self(Vec::new()));
        }
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes).map(Self).map_err(|_| invalid())
    }
}

/// A `multipart/form-data` body of up to [`MAX_UPLOAD_BYTES`], kept whole to be split into its
/// parts with [`MultipartBody::parts`]. A body of another content type has no parts, so the
/// fields a handler needs are reported missing (as FastAPI does).
#[derive(Debug)]
pub struct MultipartBody {
    bytes: bytes::Bytes,
    boundary: Option<String>,
}

impl MultipartBody {
    /// The parts of the body.
    ///
    /// # Errors
    /// 422 `invalid form body` at `["body"]` for a malformed multipart body.
    pub fn parts(&self) -> Result<Vec<crate::multipart::Part<'_>>, ApiError> {
        match &self.boundary {
            None => Ok(Vec::new()),
            Some(boundary) => crate::multipart::parse(&self.bytes, boundary)
                .map_err(|_| ApiError::invalid(FieldError::new(Loc::body(), "invalid form body", "value_error"))),
        }
    }
}

impl<S: Send + Sync> FromRequest<S> for MultipartBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let boundary = content_type(request.headers()).and_then(crate::multipart::boundary);
        let bytes = read_body(request.into_body(), MAX_UPLOAD_BYTES).await?;
        Ok(Self { bytes, boundary })
    }
}

/// The user behind the request's bearer token, or behind its `X-API-Key` (see [`crate::caller`]).
///
/// No `Authorization: Bearer` header answers 401 `Not authenticated`; a refused token, or one of
/// an unknown or disabled user, answers 401 `Could not validate credentials`.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub User);

from_request_parts!(CurrentUser, ApiError, |parts, state| current_user(parts, &state).await.map(Self));

/// The user of [`CurrentUser`], for the extractors that build on it.
pub(crate) async fn current_user(parts: &mut Parts, state: &AppState) -> Result<User, ApiError> {
    // A machine caller's X-API-Key stands in for the bearer token (crate::caller).
    if let Some(user) = crate::caller::api_key_user(parts, state).await? {
        return Ok(user);
    }
    let token = bearer_token(&parts.headers).ok_or_else(ApiError::not_authenticated)?;
    Ok(state.auth.authenticate(token).await?)
}

/// A [`CurrentUser`] who is an admin; others get 403 `Not enough permissions`.
#[derive(Debug, Clone)]
pub struct AdminUser(pub User);

from_request_parts!(AdminUser, ApiError, |parts, state| {
    let user = current_user(parts, &state).await?;
    if user.is_admin() { Ok(Self(user)) } else { Err(ApiError::forbidden()) }
});

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive, as in
/// FastAPI's `OAuth2PasswordBearer`).
#[must_use]
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The client's address: the TCP peer, or — when the peer is one of the configured trusted
/// proxies (`TRUSTED_PROXIES`) — the right-most address of `X-Forwarded-For` that is not itself a
/// trusted proxy. A forwarded header from anybody else is ignored, because any client can forge
/// it; without trusted proxies every client behind a load balancer shares its address, which
/// only makes per-address throttling stricter, never weaker.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub Option<IpAddr>);

from_request_parts!(ClientAddress, std::convert::Infallible, |parts, state| {
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip());
    Ok(Self(peer.map(|peer| client_behind(peer, &parts.headers, &state.trusted_proxies))))
});

/// Walks `X-Forwarded-For` from the right (the hop closest to us) while the hops are trusted.
fn client_behind(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    let mut client = peer;
    for hop in forwarded.iter().rev() {
        let Ok(address) = hop.parse::<IpAddr>() else { break };
        client = address;
        if !trusted.contains(&address) {
            break;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", value.parse().unwrap());
        headers
    }

    #[test]
    fn a_forwarded_header_from_an_untrusted_peer_is_ignored() {
        let peer: IpAddr = "203.0.113.9".parse().unwrap();
        assert_eq!(client_behind(peer, &forwarded("198.51.100.1"), &[]), peer);
    }

    #[test]
    fn behind_a_trusted_proxy_the_client_is_the_last_untrusted_hop() {
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let inner: IpAddr = "10.0.0.3".parse().unwrap();
        let headers = forwarded("1.2.3.4, 198.51.100.7, 10.0.0.3");
        assert_eq!(client_behind(proxy, &headers, &[proxy, inner]), "198.51.100.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn a_trusted_proxy_without_a_forwarded_header_is_the_client() {
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        assert_eq!(client_behind(proxy, &HeaderMap::new(), &[proxy]), proxy);
    }

    #[test]
    fn a_repeated_key_is_found_with_its_path_at_any_depth() {
        let loc = |bytes: &[u8]| duplicate_key(bytes).map(|loc| serde_json::to_value(loc).unwrap());
        assert_eq!(loc(br#"{"a": 1, "b": 2}"#), None);
        assert_eq!(loc(br#"{"a": 1, "a": 2}"#), Some(serde_json::json!(["body", "a"])));
        assert_eq!(
            loc(br#"{"items": [{"x": 1}, {"x": 1, "y": {"z": 1, "z": 1}}]}"#),
            Some(serde_json::json!(["body", "items", 1, "y", "z"]))
        );
        // Equal keys in different objects are fine.
        assert_eq!(loc(br#"[{"a": 1}, {"a": 2}]"#), None);
    }

    #[test]
    fn offsets_count_from_the_start_of_the_body() {
        assert_eq!(byte_offset(b"{\"a\": }", 1, 7), 6);
        assert_eq!(byte_offset(b"{\n  x", 2, 3), 4);
    }

    #[test]
    fn bearer_scheme_is_case_insensitive_and_needs_a_token() {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, "bearer abc".parse().unwrap());
        assert_eq!(bearer_token(&headers), Some("abc"));
        headers.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer_token(&headers), None);
        headers.insert(header::AUTHORIZATION, "Bearer ".parse().unwrap());
        assert_eq!(bearer_token(&headers), None);
    }
}
