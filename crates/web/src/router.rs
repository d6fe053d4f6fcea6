//! The router: routes, FastAPI-compatible fallbacks, and the middleware stack.

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{delete, get, patch, post};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa_swagger_ui::{Config as SwaggerConfig, SwaggerUi};

use crate::error::{ApiError, internal_server_error};
use crate::routes::{
    api_keys, auth, company, documents, factus_auth, health, invoices, ledger, lookups, numbering_ranges, users,
    webhooks,
};
use crate::state::AppState;

/// What the router needs to know about its deployment.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Where the versioned API lives (`API_V1_STR`, default `/api/v1`).
    pub api_prefix: String,
    /// `PROJECT_NAME`, the OpenAPI title.
    pub project_name: String,
    pub version: String,
    /// Origins allowed by CORS; empty means no CORS headers at all.
    pub cors_origins: Vec<String>,
    /// Mark the console's cookies `Secure` whatever the request says (`CONSOLE_SECURE_COOKIES`).
    pub console_secure_cookies: bool,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            api_prefix: "/api/v1".to_owned(),
            project_name: "Factus API".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            cors_origins: Vec::new(),
            console_secure_cookies: false,
        }
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Builds the whole application.
pub fn router(state: AppState, config: &WebConfig) -> Router {
    let prefix = config.api_prefix.trim_end_matches('/').to_owned();
    let api = Router::new()
        .route("/auth/login", post(auth::login))
        .route("/auth/me", get(auth::me))
        .route("/auth/password", post(auth::change_password))
        .route("/auth/factus/login", post(factus_auth::factus_login))
        .route("/auth/factus/refresh", post(factus_auth::factus_refresh))
        // The reference registered `/invoices/` and redirected the slash-less form; both work here.
        .route("/invoices", post(invoices::create_invoice).get(ledger::list_invoices))
        .route("/invoices/", post(invoices::create_invoice))
        .route("/invoices/{number}", get(invoices::get_invoice))
        .route("/ledger/{id}", get(ledger::get_entry))
        .route("/invoices/{number}/pdf", get(invoices::download_pdf))
        .route("/invoices/{number}/xml", get(invoices::download_xml))
        .route("/invoices/{number}/events", get(invoices::invoice_events))
        .route("/invoices/{number}/send-email", post(invoices::send_email))
        .route("/invoices/reference/{reference_code}", delete(invoices::delete_invoice))
        .route("/credit-notes", post(documents::create_credit_note))
        .route("/credit-notes/{number}", get(documents::get_credit_note))
        .route("/credit-notes/{number}/pdf", get(documents::credit_note_pdf))
        .route("/credit-notes/{number}/xml", get(documents::credit_note_xml))
        .route("/credit-notes/{number}/send-email", post(documents::send_credit_note_email))
        .route("/credit-notes/reference/{reference_code}", delete(documents::delete_credit_note))
        .route("/debit-notes", post(documents::create_debit_note))
        .route("/debit-notes/{number}", get(documents::get_debit_note))
        .route("/debit-notes/{number}/pdf", get(documents::debit_note_pdf))
        .route("/debit-notes/{number}/xml", get(documents::debit_note_xml))
        .route("/debit-notes/{number}/send-email", post(documents::send_debit_note_email))
        .route("/debit-notes/reference/{reference_code}", delete(documents::delete_debit_note))
        .route("/support-documents", post(documents::create_support_document))
        .route("/support-documents/{number}", get(documents::get_support_document))
        .route("/support-documents/{number}/pdf", get(documents::support_document_pdf))
        .route("/support-documents/{number}/xml", get(documents::support_document_xml))
        .route("/support-documents/reference/{reference_code}", delete(documents::delete_support_document))
        .route("/lookups/municipalities", get(lookups::municipalities))
        .route("/lookups/taxes", get(lookups::taxes))
        .route("/lookups/units", get(lookups::units))
        .route("/lookups/numbering-ranges", get(lookups::numbering_ranges))
        .route("/lookups/countries", get(lookups::countries))
        .route("/lookups/acquirer", get(lookups::acquirer))
        .route("/lookups/reference-tables", get(lookups::reference_tables))
        .route("/company", get(company::get_company).put(company::update_company))
        .route("/company/logo", post(company::upload_logo))
        .route("/numbering-ranges", get(numbering_ranges::list_ranges).post(numbering_ranges::create_range))
        // A fixed segment wins over `{id}` in axum's router, whatever the order.
        .route("/numbering-ranges/software", get(numbering_ranges::software_ranges))
        .route(
            "/numbering-ranges/{id}",
            get(numbering_ranges::get_range).put(numbering_ranges::update_range).delete(numbering_ranges::delete_range),
        )
        .route("/users", get(users::list_users).post(users::create_user))
        .route("/users/{username}", patch(users::update_user).delete(users::delete_user))
        .route("/api-keys", get(api_keys::list_api_keys).post(api_keys::create_api_key))
        .route("/api-keys/{id}", delete(api_keys::revoke_api_key))
        .route("/webhooks/deliveries", get(webhooks::list_deliveries))
        .route("/webhooks/deliveries/{event_id}/redeliver", post(webhooks::redeliver))
        .route("/health", get(health::health))
        .route("/health/ready", get(health::ready));

    let openapi = crate::openapi::document(&prefix, &config.project_name, &config.version);
    let openapi_url = format!("{prefix}/openapi.json");
    let docs_path = format!("{prefix}/docs");
    let swagger_config = || SwaggerConfig::from(openapi_url.clone()).validator_url("none");

    let console = crate::console::router(state.clone(), config.console_secure_cookies);
    let mut routes = Router::new().nest(&prefix, api);
    // Both generations of the original side by side (docs/ARCHITECTURE.md, "Two generations,
    // one core"), unless API_V1_STR itself is `/api`: then the seed's contract has the prefix.
    if prefix != crate::later::PREFIX {
        routes = routes.merge(crate::later::router());
    }
    let routes = routes
        .route("/metrics", get(health::metrics))
        .nest(crate::console::session::BASE, console)
        .route_layer(middleware::from_fn(track_metrics))
        .merge(SwaggerUi::new("/docs").url(openapi_url.clone(), openapi).config(swagger_config()))
        .merge(SwaggerUi::new(docs_path.clone()).config(swagger_config()))
        .route("/", get(move || async move { Redirect::temporary(&docs_path) }))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state);

    routes
        .layer(cors(&config.cors_origins))
        .layer(CatchPanicLayer::custom(on_panic))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request| {
                    // Safe to print as is: `safe_request_id` (outermost) let only
                    // [A-Za-z0-9._-]{1,128} through, so it cannot forge log fields.
                    let request_id =
                        request.headers().get(&REQUEST_ID).and_then(|value| value.to_str().ok()).unwrap_or_default();
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        path = %request.uri().path(),
                        request_id = %request_id,
                    )
                })
                .on_request(())
                .on_response(|response: &Response, latency: Duration, _span: &tracing::Span| {
                    tracing::info!(
                        status = response.status().as_u16(),
                        latency_ms = latency.as_secs_f64() * 1000.0,
                        "request finished"
                    );
                })
                // 5xx are logged once where they happen (ApiError, the panic handler).
                .on_failure(()),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(middleware::map_request(safe_request_id))
}

/// The longest client `X-Request-Id` kept.
const MAX_REQUEST_ID_LEN: usize = 128;

/// Whether a client's `X-Request-Id` may be kept: 1 to 128 of `A-Z a-z 0-9 . _ -`. Anything
/// else (spaces and `=` forge fields in the pretty log format, quotes, non-ASCII, very long
/// values) is dropped, and the next layer generates a UUID instead.
fn is_safe_request_id(value: &[u8]) -> bool {
    (1..=MAX_REQUEST_ID_LEN).contains(&value.len())
        && value.iter().all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-'))
}

/// Drops an unsafe `X-Request-Id` (or all of them when several were sent) before the id is
/// set, logged or echoed.
async fn safe_request_id(mut request: Request) -> Request {
    let headers = request.headers_mut();
    let values = headers.get_all(&REQUEST_ID).iter().collect::<Vec<_>>();
    let keep = values.len() == 1 && is_safe_request_id(values[0].as_bytes());
    if !keep && !values.is_empty() {
        headers.remove(&REQUEST_ID);
    }
    request
}

fn cors(origins: &[String]) -> CorsLayer {
    let allowed: Vec<HeaderValue> = origins.iter().filter_map(|origin| origin.parse().ok()).collect();
    if allowed.is_empty() {
        return CorsLayer::new();
    }
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(allowed))
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE, Method::OPTIONS])
        .allow_headers([
            axum::http::header::AUTHORIZATION,
            axum::http::header::CONTENT_TYPE,
            crate::caller::API_KEY_HEADER,
            HeaderName::from_static("x-factus-token"),
            HeaderName::from_static("idempotency-key"),
            REQUEST_ID,
        ])
        .expose_headers([REQUEST_ID, axum::http::header::RETRY_AFTER])
        .allow_credentials(true)
        .max_age(Duration::from_secs(600))
}

async fn not_found(request: Request) -> ApiError {
    record(request.method(), "unmatched", StatusCode::NOT_FOUND, Duration::ZERO);
    ApiError::not_found()
}

async fn method_not_allowed() -> ApiError {
    ApiError::detail(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
}

fn on_panic(payload: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("non-string panic payload");
    tracing::error!(panic = message, "request handler panicked");
    internal_server_error()
}

/// Counts requests by route and status and observes their latency.
async fn track_metrics(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let response = next.run(request).await;
    record(&method, &route, response.status(), started.elapsed());
    response.into_response()
}

fn record(method: &Method, route: &str, status: StatusCode, elapsed: Duration) {
    let labels = [("method", method.to_string()), ("route", route.to_owned()), ("status", status.as_u16().to_string())];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!(
        "http_request_duration_seconds",
        "method" => method.to_string(),
        "route" => route.to_owned()
    )
    .record(elapsed.as_secs_f64());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_of_the_safe_charset_and_length_are_kept() {
        assert!(is_safe_request_id(b"panic-42"));
        assert!(is_safe_request_id(b"client-42.retry_3"));
        assert!(is_safe_request_id("a".repeat(128).as_bytes()));
    }

    #[test]
    fn other_request_ids_are_dropped() {
        assert!(!is_safe_request_id(b""));
        assert!(!is_safe_request_id("a".repeat(129).as_bytes()));
        assert!(!is_safe_request_id(b"abc status=200"));
        assert!(!is_safe_request_id(b"a\"b"));
        assert!(!is_safe_request_id("\u{f1}and\u{fa}".as_bytes()));
    }
}
