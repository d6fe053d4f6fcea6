//! The application: shared state, the router and the two middlewares every Factus route goes
//! through (request counting, then fault injection).
//!
//! Layering, outermost first: count and log → faults → (for `/v1/*` and `/v2/*`) bearer token +
//! rate limit → API-version gate → handler. `/__sandbox/*` routes sit outside all of them.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, patch, post};
use http::StatusCode;
use serde_json::json;
use tokio::sync::Notify;

use crate::catalog::{self, Catalog};
use crate::config::SandboxConfig;
use crate::documents::{Format, Shape, creating, deleting, downloading, emailing, listing, showing};
use crate::faults::Action;
use crate::http::{json_response, too_many, unauthenticated};
use crate::model::DocKind;
use crate::ranges::{RangeMeta, default_ranges};
use crate::store::{Store, lock};
use crate::version::{self, LoggedRequest, VersionSwitch};
use crate::{account, admin, auth, documents, reference, v2};

/// Full responses of the unfiltered catalogue endpoints, serialised once.
#[derive(Debug)]
pub(crate) struct Cached {
    pub municipalities: Bytes,
    pub countries: Bytes,
    pub units: Bytes,
    pub tributes: Bytes,
}

/// Everything a handler can reach.
#[derive(Debug)]
pub(crate) struct App {
    pub config: SandboxConfig,
    pub store: Store,
    pub catalog: Catalog,
    pub cached: Cached,
    /// The API versions the account answers now (starts at `config.api_version`).
    pub version: VersionSwitch,
}

impl App {
    pub fn new(config: SandboxConfig) -> Self {
        let catalog = Catalog::load();
        let envelope = |data| {
            Bytes::from(
                serde_json::to_vec(&json!({"status": "OK", "message": "Solicitud exitosa", "data": data}))
                    .unwrap_or_default(),
            )
        };
        let cached = Cached {
            municipalities: envelope(catalog.municipalities_json(None)),
            countries: envelope(catalog.countries_json(None)),
            units: envelope(catalog.units_json(None)),
            tributes: envelope(catalog::tributes_json(None)),
        };
        let store = Store::new(default_ranges());
        {
            let mut faults = lock(&store.faults);
            for spec in &config.faults {
                faults.add(spec.clone());
            }
            store.faults_present.store(!faults.is_empty(), Ordering::Relaxed);
        }
        let version = VersionSwitch::new(config.api_version);
        Self { config, store, catalog, cached, version }
    }

    /// A range by id, deleted ones included (ids come from validation or stored documents).
    pub fn range(&self, id: u64) -> Option<RangeMeta> {
        self.store.range(id)
    }

    /// The ranges that are not deleted (what validation may choose from).
    pub fn ranges(&self) -> Vec<RangeMeta> {
        self.store.ranges().into_iter().map(|(range, _)| range).collect()
    }
}

/// Lets a handler close the TCP connection it is served on without answering.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConnHandle(pub Arc<Notify>);

/// Marks a create request the `pending` fault hit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PendingFault;

/// Marks a create request the `reject` fault hit: `(rule, "Regla: …, Rechazo: …")`.
#[derive(Debug, Clone)]
pub(crate) struct RejectFault(pub (String, String));

/// Builds the router.
pub(crate) fn router(app: Arc<App>) -> Router {
    let v1 = Router::new()
        .route("/v1/bills/validate", creating(DocKind::Bill, documents::create))
        .route("/v1/bills", listing(DocKind::Bill, documents::list))
        .route("/v1/bills/show/{number}", showing(DocKind::Bill, Shape::V1))
        .route("/v1/bills/download-pdf/{number}", downloading(DocKind::Bill, Format::Pdf))
        .route("/v1/bills/download-xml/{number}", downloading(DocKind::Bill, Format::Xml))
        .route("/v1/bills/{number}/radian/events", get(documents::bill_events))
        .route("/v1/bills/send-email/{number}", emailing(DocKind::Bill))
        .route("/v1/bills/destroy/reference/{reference_code}", deleting(DocKind::Bill))
        .route("/v1/credit-notes/validate", creating(DocKind::CreditNote, documents::create))
        .route("/v1/credit-notes", listing(DocKind::CreditNote, documents::list))
        .route("/v1/credit-notes/{number}", showing(DocKind::CreditNote, Shape::V1))
        .route("/v1/credit-notes/download-pdf/{number}", downloading(DocKind::CreditNote, Format::Pdf))
        .route("/v1/credit-notes/download-xml/{number}", downloading(DocKind::CreditNote, Format::Xml))
        .route("/v1/credit-notes/send-email/{number}", emailing(DocKind::CreditNote))
        .route("/v1/credit-notes/reference/{reference_code}", deleting(DocKind::CreditNote))
        .route("/v1/support-documents/validate", creating(DocKind::SupportDocument, documents::create))
        .route("/v1/support-documents", listing(DocKind::SupportDocument, documents::list))
        .route("/v1/support-documents/show/{number}", showing(DocKind::SupportDocument, Shape::V1))
        .route("/v1/support-documents/download-pdf/{number}", downloading(DocKind::SupportDocument, Format::Pdf))
        .route("/v1/support-documents/download-xml/{number}", downloading(DocKind::SupportDocument, Format::Xml))
        .route("/v1/support-documents/reference/{reference_code}", deleting(DocKind::SupportDocument))
        .route("/v1/numbering-ranges", get(reference::numbering_ranges).post(account::create_range))
        .route("/v1/numbering-ranges/dian", get(account::dian_ranges))
        .route("/v1/dian/numbering-ranges", get(account::dian_ranges))
        .route(
            "/v1/numbering-ranges/{id}",
            get(reference::numbering_range).put(account::update_range_current).delete(account::delete_range),
        )
        .route("/v1/numbering-ranges/{id}/current", patch(account::update_range_current))
        .route("/v1/municipalities", get(reference::municipalities))
        .route("/v1/countries", get(reference::countries))
        .route("/v1/tributes/products", get(reference::tributes))
        .route("/v1/measurement-units", get(reference::units))
        .route("/v1/dian/acquirer", get(reference::acquirer))
        .route("/v1/company", get(reference::company).put(account::update_company))
        // The whole upload is read (up to the drain limit) so that a logo over the 2048 KB allowed
        // gets its 422 rather than a 413 and a broken pipe.
        .route("/v1/company/logo", post(account::upload_logo).layer(DefaultBodyLimit::max(DRAIN_LIMIT)))
        .merge(v2::router())
        .route_layer(middleware::from_fn_with_state(Arc::clone(&app), version::gate))
        .route_layer(middleware::from_fn_with_state(Arc::clone(&app), auth::require_token))
        .route("/oauth/token", post(auth::token))
        .route_layer(middleware::from_fn_with_state(Arc::clone(&app), inject_faults))
        .route_layer(middleware::from_fn_with_state(Arc::clone(&app), count_request));
    // A logo's `url_logo` is public, as a storage URL is.
    let mut router = v1.route("/storage/logos/{file}", get(account::served_logo));
    if app.config.admin_endpoints {
        router = router.merge(admin::router());
    }
    router.fallback(not_found).method_not_allowed_fallback(method_not_allowed).with_state(app)
}

/// Largest request body read before an early answer; past it the connection is closed.
const DRAIN_LIMIT: usize = 64 * 1024 * 1024;

/// Reads and discards a request body before answering without it. An HTTP/1.1 server that answers
/// while the client is still sending (a multipart upload to a wrong path, say) closes the
/// connection, and the client gets a broken pipe instead of the answer; read first, then answer.
/// Past `DRAIN_LIMIT` the answer says `Connection: close`.
pub(crate) async fn drain(request: Request, response: Response) -> Response {
    let whole = axum::body::to_bytes(request.into_body(), DRAIN_LIMIT).await.is_ok();
    let mut response = response;
    if !whole {
        response.headers_mut().insert(http::header::CONNECTION, http::HeaderValue::from_static("close"));
    }
    response
}

async fn not_found(State(app): State<Arc<App>>, request: Request) -> Response {
    if version::refused(&app, &request) {
        // Factus refuses the whole tree of a version the company does not have, known routes or not.
        let response = version::version_unavailable();
        log(&app, &request, None, &response);
        return drain(request, response).await;
    }
    let response = json_response(
        StatusCode::NOT_FOUND,
        &json!({"message": format!("The route {} could not be found.", request.uri().path().trim_start_matches('/'))}),
    );
    drain(request, response).await
}

async fn method_not_allowed(request: Request) -> Response {
    let response = json_response(
        StatusCode::METHOD_NOT_ALLOWED,
        &json!({"message": format!(
            "The {} method is not supported for route {}.",
            request.method(),
            request.uri().path().trim_start_matches('/')
        )}),
    );
    drain(request, response).await
}

/// Counts each call under `METHOD /route/{template}` for `GET /__sandbox/requests`, and logs it
/// with its status for `GET /__sandbox/requests/log` once answered.
async fn count_request(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| request.uri().path().to_owned(), |p| p.as_str().to_owned());
    let route = format!("{} {}", request.method(), route);
    app.store.count_request(route.clone());
    let (method, path) = (request.method().to_string(), request.uri().path().to_owned());
    let at_ms = LoggedRequest::now_ms();
    let response = next.run(request).await;
    lock(&app.store.request_log).push(LoggedRequest {
        method,
        path,
        route: Some(route),
        status: response.status().as_u16(),
        at_ms,
    });
    response
}

fn log(app: &App, request: &Request, route: Option<String>, response: &Response) {
    lock(&app.store.request_log).push(LoggedRequest {
        method: request.method().to_string(),
        path: request.uri().path().to_owned(),
        route,
        status: response.status().as_u16(),
        at_ms: LoggedRequest::now_ms(),
    });
}

/// Applies the fault rules that fire for this request.
async fn inject_faults(State(app): State<Arc<App>>, mut request: Request, next: Next) -> Response {
    if !app.store.faults_present.load(Ordering::Relaxed) {
        return next.run(request).await;
    }
    let decision = lock(&app.store.faults).decide(request.method(), request.uri().path());
    if !decision.latency.is_zero() {
        tokio::time::sleep(decision.latency).await;
    }
    match decision.action {
        None => next.run(request).await,
        Some(Action::Status { status, body }) => {
            let code = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let body = body.unwrap_or_else(|| json!({"message": code.canonical_reason().unwrap_or("Error")}));
            drain(request, json_response(code, &body)).await
        }
        Some(Action::Hang) => std::future::pending().await,
        Some(Action::Unauthorized) => drain(request, unauthenticated()).await,
        Some(Action::RateLimit { retry_after_s }) => {
            drain(request, too_many(app.config.rate_limit.unwrap_or(80), retry_after_s)).await
        }
        Some(Action::Pending) => {
            request.extensions_mut().insert(PendingFault);
            next.run(request).await
        }
        Some(Action::Reject { rule, reason }) => {
            request.extensions_mut().insert(RejectFault(crate::validate::rejection(&rule, &reason)));
            next.run(request).await
        }
        Some(Action::DropAfterCommit) => {
            let conn = request.extensions().get::<ConnHandle>().cloned();
            let response = next.run(request).await;
            match conn {
                Some(ConnHandle(signal)) => {
                    // The handler has committed; close the socket without writing the answer.
                    signal.notify_one();
                    std::future::pending().await
                }
                None => response,
            }
        }
    }
}
