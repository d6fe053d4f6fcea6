//! The operator console at `/console`: server-rendered HTML (maud templates, checked when the
//! crate compiles) for the people who answer for a team's invoicing and do not read JSON.
//!
//! Every page reads and acts through the same use cases as the API (`AppState`'s services), so
//! the console sees exactly what the API would let the same user see: a user their own
//! documents, an admin everything and the admin pages. Basic flows are plain links and forms and
//! work without JavaScript; the one small script (`assets/console.js`, served from the binary)
//! only adds conveniences.
//!
//! Layout:
//! - [`session`]: login (the API's login use case and throttling), the session cookie, CSRF,
//!   logout.
//! - [`pages`]: the overview, documents, one document and its actions (among them annulling an
//!   invoice with a credit note), users, API keys and webhook deliveries.
//! - [`page`]: the page shell and error pages; [`i18n`]: Spanish and English; [`format`]:
//!   Colombian time and pesos.

pub mod format;
pub mod i18n;
pub mod page;
pub mod pages;
pub mod session;

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, Path, Request};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::state::AppState;

/// What the console's handlers share.
#[derive(Clone)]
pub struct ConsoleState {
    pub app: AppState,
    pub logged_out: Arc<session::LoggedOut>,
    /// Always mark cookies `Secure` (`CONSOLE_SECURE_COOKIES`); they are also marked so when a
    /// proxy says the request came over HTTPS (`X-Forwarded-Proto: https`).
    pub secure_cookies: bool,
}

impl FromRef<ConsoleState> for AppState {
    fn from_ref(state: &ConsoleState) -> Self {
        state.app.clone()
    }
}

const STYLESHEET: &str = include_str!("../../assets/console/console.css");
const SCRIPT: &str = include_str!("../../assets/console/console.js");

/// The console's routes, to be nested at [`session::BASE`].
pub fn router(app: AppState, secure_cookies: bool) -> Router<AppState> {
    let state = ConsoleState { app, logged_out: Arc::default(), secure_cookies };
    Router::new()
        .route("/", get(pages::overview::overview))
        .route("/login", get(session::login_page).post(session::login))
        .route("/logout", post(session::logout))
        .route("/lang/{lang}", get(switch_language))
        .route("/assets/console.css", get(|| async { asset("text/css; charset=utf-8", STYLESHEET) }))
        .route("/assets/console.js", get(|| async { asset("text/javascript; charset=utf-8", SCRIPT) }))
        .route("/documents", get(pages::documents::list))
        .route("/documents/{reference}/{id}", get(pages::document::show))
        .route("/documents/{reference}/{id}/pdf", get(pages::document::pdf))
        .route("/documents/{reference}/{id}/xml", get(pages::document::xml))
        .route("/documents/{reference}/{id}/email", post(pages::document::send_email))
        .route("/documents/{reference}/{id}/lookup", post(pages::document::look_up))
        .route("/documents/{reference}/{id}/delete", post(pages::document::delete_stuck))
        .route("/documents/{reference}/{id}/annul", get(pages::annulment::confirm).post(pages::annulment::annul))
        .route("/users", get(pages::users::list).post(pages::users::create))
        .route("/users/{username}/enabled", post(pages::users::set_enabled))
        .route("/users/{username}/password", post(pages::users::reset_password))
        .route("/keys", get(pages::keys::list).post(pages::keys::create))
        .route("/keys/{id}/revoke", post(pages::keys::revoke))
        .route("/webhooks", get(pages::webhooks::list))
        .route("/webhooks/{id}/redeliver", post(pages::webhooks::redeliver))
        .fallback(not_found)
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

async fn not_found(headers: HeaderMap) -> Response {
    page::error_page(i18n::Lang::of_request(&headers), crate::error::ApiError::not_found())
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")),
        ],
        body,
    )
        .into_response()
}

/// `GET /console/lang/{es|en}`: remembers the language and goes back to the page it came from.
async fn switch_language(
    Path(code): Path<String>,
    headers: HeaderMap,
    axum::extract::State(state): axum::extract::State<ConsoleState>,
) -> Response {
    let Some(lang) = i18n::Lang::parse(&code) else { return Redirect::to(session::BASE).into_response() };
    // Back to the console page the switch was clicked on (same origin only), else the overview.
    let back = headers
        .get(header::REFERER)
        .and_then(|value| value.to_str().ok())
        .and_then(|referer| referer.find("/console").map(|at| &referer[at..]))
        .filter(|path| {
            !path.contains("//") && !path.starts_with("/console/lang/") && !path.starts_with("/console/login")
        })
        .unwrap_or(session::BASE)
        .to_owned();
    let secure = session::wants_secure(&state, &headers);
    let mut response = Redirect::to(&back).into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, session::set_cookie(i18n::LANG_COOKIE, lang.code(), Some(365 * 24 * 3600), secure));
    response
}

/// Console pages are private and must not be framed by other sites; the PDF is framed by our own
/// document page only. Nothing is loaded from elsewhere.
async fn security_headers(request: Request, next: Next) -> Response {
    // The path inside the console (the nested router strips `/console`).
    let is_pdf = request.uri().path().ends_with("/pdf");
    let is_asset = request.uri().path().starts_with("/assets/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let ancestors = if is_pdf { "'self'" } else { "'none'" };
    let policy = format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-src 'self'; \
         object-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}"
    );
    if let Ok(policy) = HeaderValue::from_str(&policy) {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static(if is_pdf { "SAMEORIGIN" } else { "DENY" }));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if !is_asset {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
