//! Console sessions: log in with a local user through the same use case as `POST /auth/login`
//! (same throttling), an HttpOnly SameSite=Strict cookie, a CSRF token on every form, logout.
//!
//! The session cookie holds the local access token that login issues: it expires with the token
//! (`ACCESS_TOKEN_EXPIRE_MINUTES`), and dies at once when the user is disabled or their password
//! or role changes (the token's `ver`). Logging out clears the cookie and refuses the token on
//! this instance until it expires (see [`LoggedOut`]).
//!
//! CSRF: every form carries a token that is a digest of the session's secret token, so only a
//! page that could read the session (ours) can produce it; a form without it, or with another, is
//! refused with 403. The login form, before any session exists, uses a random token that must
//! match a short-lived cookie (double submit). SameSite=Strict already keeps other sites' forms
//! from carrying the cookie; the token is the second lock.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use factus_domain::user::User;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::ConsoleState;
use super::i18n::{Lang, T};
use super::page::{Page, message_page};
use crate::extract::{ClientAddress, FormBody};

/// The session cookie (the local access token).
pub const SESSION_COOKIE: &str = "console_session";
/// The login form's double-submit cookie.
const LOGIN_CSRF_COOKIE: &str = "console_login_csrf";
/// The form field every console form carries its CSRF token in.
pub const CSRF_FIELD: &str = "csrf";
/// Where the console lives; its cookies are scoped to it.
pub const BASE: &str = "/console";

/// The value of cookie `name` in the request.
#[must_use]
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
}

/// A `Set-Cookie` value for the console's path; `max_age` `None` deletes the cookie.
#[must_use]
pub fn set_cookie(name: &str, value: &str, max_age: Option<i64>, secure: bool) -> HeaderValue {
    let age = max_age.unwrap_or(0);
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{name}={value}; Path={BASE}; Max-Age={age}; HttpOnly; SameSite=Strict{secure}"))
        .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Whether cookies must be `Secure`: configured so, or the request came through HTTPS at a proxy.
#[must_use]
pub fn wants_secure(state: &ConsoleState, headers: &HeaderMap) -> bool {
    state.secure_cookies
        || headers
            .get("x-forwarded-proto")
            .and_then(|value| value.to_str().ok())
            .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
}

fn digest_hex(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hex::encode(hasher.finalize())
}

/// The CSRF token of a session: a digest of its secret token.
fn csrf_of(token: &str) -> String {
    digest_hex(&[b"factus-console-csrf\0", token.as_bytes()])
}

/// Compares without stopping at the first difference.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0_u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Tokens logged out on this instance, by digest, until they expire. Another instance accepts a
/// logged-out token until then; the cookie is gone from the browser either way.
#[derive(Debug, Default)]
pub struct LoggedOut(Mutex<HashMap<String, OffsetDateTime>>);

impl LoggedOut {
    fn key(token: &str) -> String {
        digest_hex(&[token.as_bytes()])
    }

    fn insert(&self, token: &str, until: OffsetDateTime) {
        let now = OffsetDateTime::now_utc();
        let mut map = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.retain(|_, expires| *expires > now);
        map.insert(Self::key(token), until);
    }

    fn contains(&self, token: &str) -> bool {
        let map = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(&Self::key(token)).is_some_and(|until| *until > OffsetDateTime::now_utc())
    }
}

/// A logged-in console user.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub csrf: String,
    pub lang: Lang,
    token: String,
}

impl Session {
    /// The 403 page for a form without this session's CSRF token; `None` when the token is right.
    #[must_use]
    pub fn refuse_without_token(&self, form: &FormBody) -> Option<Response> {
        match form.get(CSRF_FIELD) {
            Some(sent) if same(sent, &self.csrf) => None,
            _ => Some(forbidden_form(self.lang)),
        }
    }
}

fn forbidden_form(lang: Lang) -> Response {
    message_page(StatusCode::FORBIDDEN, lang, lang.t(T::ErrorTitle), lang.t(T::FormExpired))
}

/// Where an anonymous visitor goes: the login page, remembering the page they wanted.
fn to_login(parts: &Parts) -> Response {
    // Inside the nested router the URI lacks `/console`; the original one has it.
    let uri = parts.extensions.get::<axum::extract::OriginalUri>().map_or(&parts.uri, |original| &original.0);
    let wanted = uri.path_and_query().map_or(BASE, |path| path.as_str());
    let next = if parts.method == axum::http::Method::GET { wanted } else { BASE };
    let query = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
    Redirect::to(&format!("{BASE}/login?{query}")).into_response()
}

impl FromRequestParts<ConsoleState> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &ConsoleState) -> Result<Self, Self::Rejection> {
        let lang = Lang::of_request(&parts.headers);
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE).filter(|token| !token.is_empty()) else {
            return Err(to_login(parts));
        };
        if state.logged_out.contains(token) {
            return Err(to_login(parts));
        }
        match state.app.auth.authenticate(token).await {
            Ok(user) => Ok(Self { user, csrf: csrf_of(token), lang, token: token.to_owned() }),
            Err(factus_application::auth::AuthenticateError::InvalidToken) => Err(to_login(parts)),
            Err(error) => Err(super::page::error_page(lang, crate::error::ApiError::from(error))),
        }
    }
}

/// A [`Session`] of an admin; anybody else gets the 403 page.
#[derive(Debug, Clone)]
pub struct AdminSession(pub Session);

impl FromRequestParts<ConsoleState> for AdminSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &ConsoleState) -> Result<Self, Self::Rejection> {
        let session = Session::from_request_parts(parts, state).await?;
        if session.user.is_admin() {
            Ok(Self(session))
        } else {
            let lang = session.lang;
            Err(message_page(StatusCode::FORBIDDEN, lang, lang.t(T::ForbiddenTitle), lang.t(T::ForbiddenText)))
        }
    }
}

/// An admin's form post, checked as every one is before its handler runs: an [`AdminSession`],
/// then `T` from the request head (the `Path`, or `()` for none), then the form, whose CSRF token
/// must be the session's. A refusal (the login, the 403 page, the form's 422, the expired form)
/// is the answer.
pub struct AdminForm<T = ()> {
    pub session: Session,
    pub path: T,
    pub form: FormBody,
}

impl<T> FromRequest<ConsoleState> for AdminForm<T>
where
    T: FromRequestParts<ConsoleState> + Send,
    T::Rejection: IntoResponse,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &ConsoleState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let AdminSession(session) = AdminSession::from_request_parts(&mut parts, state).await?;
        let path = T::from_request_parts(&mut parts, state).await.map_err(IntoResponse::into_response)?;
        let form = FormBody::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        if let Some(refused) = session.refuse_without_token(&form) {
            return Err(refused);
        }
        Ok(Self { session, path, form })
    }
}

/// A page to go to after login: only a path inside the console (no open redirect).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(next)
            if (next == BASE || next.starts_with("/console/") || next.starts_with("/console?"))
                && !next.contains("//")
                && !next.contains('\\') =>
        {
            next.to_owned()
        }
        _ => BASE.to_owned(),
    }
}

#[derive(Debug, serde::Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    #[serde(default)]
    out: bool,
}

/// `GET /console/login`.
pub async fn login_page(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<LoginQuery>,
) -> Response {
    let lang = Lang::of_request(&headers);
    let notice = if query.out {
        Some(lang.t(T::LoggedOut))
    } else if cookie(&headers, SESSION_COOKIE).is_some_and(|token| !token.is_empty()) {
        Some(lang.t(T::SessionExpired))
    } else {
        None
    };
    login_form(&state, &headers, lang, &safe_next(query.next.as_deref()), notice, None, StatusCode::OK)
}

fn login_form(
    state: &ConsoleState,
    headers: &HeaderMap,
    lang: Lang,
    next: &str,
    notice: Option<&str>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let token = uuid::Uuid::new_v4().simple().to_string();
    let secure = wants_secure(state, headers);
    let page =
        Page::anonymous(lang, lang.t(T::LoginTitle), super::pages::login_body(lang, &token, next, notice, error));
    let mut response = (status, page).into_response();
    response.headers_mut().append(header::SET_COOKIE, set_cookie(LOGIN_CSRF_COOKIE, &token, Some(600), secure));
    // A stale session cookie is dropped, so that the page after login is not mistaken for it.
    response.headers_mut().append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", None, secure));
    response
}

/// `POST /console/login`: the local login use case, with its throttling.
pub async fn login(
    State(state): State<ConsoleState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    form: FormBody,
) -> Response {
    let lang = Lang::of_request(&headers);
    let next = safe_next(form.get("next"));
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    match form.get(CSRF_FIELD) {
        Some(sent) if !expected.is_empty() && same(sent, expected) => {}
        _ => return forbidden_form(lang),
    }
    let username = form.get("username").unwrap_or_default();
    let password = form.get("password").unwrap_or_default();
    match state.app.auth.login(username, password, address).await {
        Ok(issued) => {
            let secure = wants_secure(&state, &headers);
            let mut response = Redirect::to(&next).into_response();
            let cookies = response.headers_mut();
            cookies.append(
                header::SET_COOKIE,
                set_cookie(SESSION_COOKIE, &issued.access_token, Some(issued.expires_in_seconds), secure),
            );
            cookies.append(header::SET_COOKIE, set_cookie(LOGIN_CSRF_COOKIE, "", None, secure));
            response
        }
        Err(factus_application::auth::LoginError::InvalidCredentials) => login_form(
            &state,
            &headers,
            lang,
            &next,
            None,
            Some(lang.t(T::LoginFailed).to_owned()),
            StatusCode::UNAUTHORIZED,
        ),
        Err(factus_application::auth::LoginError::Throttled { retry_after }) => {
            let message =
                format!("{} {} {}.", lang.t(T::LoginThrottled), retry_after.as_secs().max(1), lang.t(T::Seconds));
            let mut response =
                login_form(&state, &headers, lang, &next, None, Some(message), StatusCode::TOO_MANY_REQUESTS);
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after.as_secs().max(1)));
            response
        }
        Err(error) => super::page::error_page(lang, crate::error::ApiError::from(error)),
    }
}

/// `POST /console/logout`.
pub async fn logout(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    session: Session,
    form: FormBody,
) -> Response {
    if let Some(refused) = session.refuse_without_token(&form) {
        return refused;
    }
    // Longer than any token lives (ACCESS_TOKEN_EXPIRE_MINUTES); only memory is at stake.
    let until = OffsetDateTime::now_utc() + time::Duration::days(31);
    state.logged_out.insert(&session.token, until);
    let mut response = Redirect::to(&format!("{BASE}/login?out=true")).into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", None, wants_secure(&state, &headers)));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_console_paths_are_followed_after_login() {
        assert_eq!(safe_next(Some("/console/documents?state=unknown")), "/console/documents?state=unknown");
        assert_eq!(safe_next(Some("/console")), "/console");
        assert_eq!(safe_next(Some("https://evil.example/console/")), "/console");
        assert_eq!(safe_next(Some("//evil.example/console/")), "/console");
        assert_eq!(safe_next(Some("/console/..//evil.example")), "/console");
        assert_eq!(safe_next(Some("/consolex")), "/console");
        assert_eq!(safe_next(None), "/console");
    }

    #[test]
    fn cookies_are_http_only_strict_and_scoped_to_the_console() {
        let value = set_cookie(SESSION_COOKIE, "abc", Some(60), true);
        assert_eq!(value, "console_session=abc; Path=/console; Max-Age=60; HttpOnly; SameSite=Strict; Secure");
        let value = set_cookie(SESSION_COOKIE, "", None, false);
        assert_eq!(value, "console_session=; Path=/console; Max-Age=0; HttpOnly; SameSite=Strict");
    }

    #[test]
    fn a_csrf_token_belongs_to_one_session() {
        assert_eq!(csrf_of("token-a"), csrf_of("token-a"));
        assert_ne!(csrf_of("token-a"), csrf_of("token-b"));
        assert!(same(&csrf_of("token-a"), &csrf_of("token-a")));
        assert!(!same(&csrf_of("token-a"), &csrf_of("token-b")));
        assert!(!same("abc", "abcd"));
    }

    #[test]
    fn a_logged_out_token_is_refused_until_it_expires() {
        let logged_out = LoggedOut::default();
        logged_out.insert("t1", OffsetDateTime::now_utc() + time::Duration::minutes(5));
        logged_out.insert("t2", OffsetDateTime::now_utc() - time::Duration::minutes(5));
        assert!(logged_out.contains("t1"));
        assert!(!logged_out.contains("t2"));
        assert!(!logged_out.contains("t3"));
    }

    #[test]
    fn cookies_are_read_by_exact_name() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, "a=1; console_session=tok; console_session_x=2".parse().unwrap());
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("tok"));
        assert_eq!(cookie(&headers, "missing"), None);
    }
}
