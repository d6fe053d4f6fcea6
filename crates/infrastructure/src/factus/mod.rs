//! The Factus gateway: one reqwest adapter behind every Factus port of the application
//! ([`FactusAuthGateway`], [`FactusBillGateway`], [`FactusLookupGateway`],
//! [`FactusAccountGateway`], [`FactusStatus`], [`FactusBudget`]).
//!
//! Build one [`FactusGateway`] per process and share it (`Arc`): it owns the single pooled HTTP
//! client, the circuit breaker and the server session, all of which only work when shared.
//!
//! Layout:
//! - [`config`]: [`FactusGatewayConfig`] and the retry and breaker policies.
//! - `transport`: one resilient exchange — deadline, retries of idempotent calls, breaker, metrics.
//! - `breaker`, `retry`: the circuit breaker and the backoff.
//! - [`budget`]: the account's budget of Factus calls (`FACTUS_RATE_LIMIT` per
//!   `FACTUS_RATE_WINDOW_SECS`), shared by every instance through the database.
//! - `oauth`, `session`: the two OAuth grants and the server-managed session.
//! - `messages`: Factus error bodies → the reference's messages.
//! - `responses`: Factus 2xx bodies → the application's types.
//! - [`version`]: `FACTUS_API_VERSION` (v1, v2, auto) and the switch after Factus' 403.
//! - [`payload`]: the `POST /v1/bills/validate` body; [`payload_v2`]: the `POST /v2/bills/validate`
//!   body translated from the same invoice; `payload_parts`: the parts both write alike.
//! - [`cache`]: [`CachedLookups`], the lookups kept for a time to live per kind, with concurrent
//!   misses collapsed into one call.
//!
//! Every call is built for the version in use (`/v1/...` or `/v2/...`, v1 ids or v2 codes) and
//! read back into the same application types, so the ledger, the reconciler, the breaker, the
//! retries and the session work alike on both. Catalogues v2 has no endpoint for
//! (municipalities, countries, units, product tributes) are served from the bundled ones in the
//! domain, in the v1 shapes.
//!
//! Every request carries `Accept: application/json` and `User-Agent: factus-api/<version>`;
//! bill and lookup calls carry `Authorization: Bearer <token>`. On a failed call the upstream
//! status, its body and our JSON payload are logged at debug; tokens, the client secret and
//! passwords never are (they travel in headers and form bodies, which are not logged).
//!
//! Metrics: `factus_upstream_requests_total{endpoint,outcome}` per attempt,
//! `factus_upstream_retries_total{endpoint}`, and the gauge `factus_circuit_state`.

mod breaker;
pub mod budget;
pub mod cache;
pub mod config;
mod messages;
mod oauth;
pub mod payload;
mod payload_parts;
pub mod payload_v2;
mod responses;
mod retry;
mod session;
mod transport;
pub mod version;

use async_trait::async_trait;
use factus_application::StoreError;
use factus_application::company::{Company, CompanyUpdate, LogoImage};
use factus_application::document::Document;
use factus_application::factus::FactusAccountGateway;
use factus_application::factus::{
    Acquirer, BillEvents, BudgetUsage, CircuitState, Country, DocumentFormat, DownloadedFile, FactusAccess,
    FactusApiVersion, FactusAuthGateway, FactusBillGateway, FactusBudget, FactusError, FactusLookupGateway,
    FactusOperation, FactusStatus, FactusToken, IssuedBill, MeasurementUnit, Municipality, NumberingRange,
    ProductTribute, StatusMessage, UpstreamJson,
};
use factus_application::issuance::DEBIT_NOTES_NEED_V2;
use factus_application::ledger::DocumentKind;
use factus_application::numbering_ranges::{DianNumberingRange, NewNumberingRange, NumberingRangeFilter};
use factus_domain::catalog::{self, Catalog};
use reqwest::{Method, StatusCode, Url};
use secrecy::SecretString;
use serde_json::{Map, Value};
use thiserror::Error;

pub use budget::{BudgetPolicy, BudgetStore, arrived_at};
pub use cache::{CachedLookups, LookupCacheTtl};
pub use config::{BreakerPolicy, FactusCredentials, FactusGatewayConfig, RatePolicy, RetryPolicy, default_user_agent};
pub use version::ApiVersionSetting;

use messages::{bill_error_message, body_excerpt, dian_rules, payload_excerpt};
use oauth::OAuthClient;
use session::{ServerSession, SessionToken};
use transport::{Body, Endpoint, Request, Transport};
use version::{VersionSwitch, is_version_refusal};

/// Why the gateway could not be built (at start-up).
#[derive(Debug, Error)]
pub enum FactusConfigError {
    #[error("FACTUS_BASE_URL must be an http(s) URL, got {0:?}")]
    BaseUrl(String),
    #[error("the HTTP client for Factus could not be built")]
    Client(#[source] reqwest::Error),
}

const VALIDATE: Endpoint = Endpoint { name: "bills_validate", idempotent: false };
const SHOW: Endpoint = Endpoint { name: "bills_show", idempotent: true };
const LIST: Endpoint = Endpoint { name: "bills_list", idempotent: true };
const DOWNLOAD_PDF: Endpoint = Endpoint { name: "bills_download_pdf", idempotent: true };
const DOWNLOAD_XML: Endpoint = Endpoint { name: "bills_download_xml", idempotent: true };
const EVENTS: Endpoint = Endpoint { name: "bills_events", idempotent: true };
/// A retry would send the e-mail twice.
const SEND_EMAIL: Endpoint = Endpoint { name: "bills_send_email", idempotent: false };
/// A retry after a lost answer would report 404 for a delete that worked.
const DESTROY: Endpoint = Endpoint { name: "bills_destroy", idempotent: false };
const MUNICIPALITIES: Endpoint = Endpoint { name: "municipalities", idempotent: true };
const TRIBUTES: Endpoint = Endpoint { name: "tributes_products", idempotent: true };
const UNITS: Endpoint = Endpoint { name: "measurement_units", idempotent: true };
const RANGES: Endpoint = Endpoint { name: "numbering_ranges", idempotent: true };
const COUNTRIES: Endpoint = Endpoint { name: "countries", idempotent: true };
/// Bills per page when looking a reference up (Factus' maximum).
const LOOKUP_PAGE_SIZE: &str = "100";
/// Pages a reference look-up reads at most.
const MAX_LOOKUP_PAGES: u64 = 100;
const ACQUIRER: Endpoint = Endpoint { name: "dian_acquirer", idempotent: true };
/// Pages of numbering ranges read at most (Factus lists ten a page; an account has a handful).
const MAX_RANGE_PAGES: u64 = 50;
const COMPANY: Endpoint = Endpoint { name: "company", idempotent: true };
/// Sending the same profile twice leaves the same profile.
const COMPANY_UPDATE: Endpoint = Endpoint { name: "company_update", idempotent: true };
const COMPANY_LOGO: Endpoint = Endpoint { name: "company_logo", idempotent: false };
const RANGE_SHOW: Endpoint = Endpoint { name: "numbering_range_show", idempotent: true };
/// A retry after a lost answer would create a second range.
const RANGE_CREATE: Endpoint = Endpoint { name: "numbering_range_create", idempotent: false };
/// Setting the same next number twice leaves the same range.
const RANGE_CURRENT: Endpoint = Endpoint { name: "numbering_range_current", idempotent: true };
/// A retry after a lost answer would report 404 for a delete that worked.
const RANGE_DELETE: Endpoint = Endpoint { name: "numbering_range_delete", idempotent: false };
const DIAN_RANGES: Endpoint = Endpoint { name: "numbering_ranges_dian", idempotent: true };

/// The reqwest adapter for Factus. Implements all Factus ports; share one per process.
#[derive(Debug)]
pub struct FactusGateway {
    transport: Transport,
    oauth: OAuthClient,
    /// Present when the server has Factus credentials of its own.
    session: Option<ServerSession>,
    version: VersionSwitch,
}

/// One call to a bill or lookup endpoint.
struct Call {
    endpoint: Endpoint,
    operation: FactusOperation,
    method: Method,
    url: Url,
    body: Body,
}

/// How a version serves an operation: a call to Factus, or the bundled catalogues (v2 has no
/// endpoint for them).
enum Route {
    Remote(Call),
    Bundled,
}

/// What an operation got: Factus' 2xx body and the version that answered, or "use the bundle".
enum Answer {
    Remote(FactusApiVersion, Vec<u8>),
    Bundled,
}

impl Answer {
    /// The body of an operation that always calls Factus.
    fn remote(self) -> Result<(FactusApiVersion, Vec<u8>), FactusError> {
        match self {
            Self::Remote(version, body) => Ok((version, body)),
            Self::Bundled => {
                Err(FactusError::Unexpected(anyhow::anyhow!("a Factus call was routed to the catalogues")))
            }
        }
    }
}

/// The token a call runs with.
enum Bearer<'a> {
    Client(&'a SecretString),
    Session(SessionToken),
}

impl Bearer<'_> {
    fn secret(&self) -> &SecretString {
        match self {
            Self::Client(token) => token,
            Self::Session(token) => &token.access,
        }
    }
}

/// The path segments of a bill operation on each version.
fn bill_path(version: FactusApiVersion, v1: &[&'static str], v2: &[&'static str], tail: &[&str]) -> Vec<String> {
    let (prefix, segments) = match version {
        FactusApiVersion::V1 => ("v1", v1),
        FactusApiVersion::V2 => ("v2", v2),
    };
    std::iter::once(prefix)
        .chain(segments.iter().copied())
        .map(str::to_owned)
        .chain(tail.iter().map(|segment| (*segment).to_owned()))
        .collect()
}

/// What is done to a document, for its path.
#[derive(Debug, Clone, Copy)]
enum DocumentOp<'a> {
    Validate,
    Show(&'a str),
    Download(&'a str, DocumentFormat),
    SendEmail(&'a str),
    Destroy(&'a str),
    List,
}

/// The family of a kind in Factus' paths.
fn family(kind: DocumentKind) -> &'static str {
    match kind {
        DocumentKind::Invoice => "bills",
        DocumentKind::CreditNote => "credit-notes",
        DocumentKind::DebitNote => "debit-notes",
        DocumentKind::SupportDocument => "support-documents",
    }
}

/// The path of an operation on a document of `kind` on `version` (`docs/factus.md`, "Endpoints
/// per document kind"): v1 puts the operation before the number (`/v1/bills/download-pdf/{n}`)
/// and shows bills and support documents under `show/`, v2 puts it after
/// (`/v2/credit-notes/{n}/download-pdf`); only bills delete under `destroy/`. Factus has no debit
/// notes on v1 and e-mails no support documents: those answer 400 without a call.
fn document_path(
    version: FactusApiVersion,
    kind: DocumentKind,
    op: DocumentOp<'_>,
) -> Result<Vec<String>, FactusError> {
    let family = family(kind);
    let segments: Vec<&str> = match (version, op) {
        (FactusApiVersion::V1, _) if kind == DocumentKind::DebitNote => {
            return Err(FactusError::Rejected { status: 400, message: DEBIT_NOTES_NEED_V2.to_owned() });
        }
        (_, DocumentOp::SendEmail(_)) if kind == DocumentKind::SupportDocument => {
            return Err(FactusError::Rejected {
                status: 400,
                message: "Factus no envía documentos soporte por correo".to_owned(),
            });
        }
        (_, DocumentOp::Validate) => vec![family, "validate"],
        (_, DocumentOp::List) => vec![family],
        (_, DocumentOp::Destroy(reference)) if kind == DocumentKind::Invoice => {
            vec![family, "destroy", "reference", reference]
        }
        (_, DocumentOp::Destroy(reference)) => vec![family, "reference", reference],
        (FactusApiVersion::V1, DocumentOp::Show(number)) if kind == DocumentKind::CreditNote => vec![family, number],
        (FactusApiVersion::V1, DocumentOp::Show(number)) => vec![family, "show", number],
        (FactusApiVersion::V2, DocumentOp::Show(number)) => vec![family, number],
        (FactusApiVersion::V1, DocumentOp::Download(number, format)) => vec![family, download_segment(format), number],
        (FactusApiVersion::V2, DocumentOp::Download(number, format)) => vec![family, number, download_segment(format)],
        (FactusApiVersion::V1, DocumentOp::SendEmail(number)) => vec![family, "send-email", number],
        (FactusApiVersion::V2, DocumentOp::SendEmail(number)) => vec![family, number, "send-email"],
    };
    Ok(std::iter::once(version.as_str()).chain(segments).map(str::to_owned).collect())
}

fn download_segment(format: DocumentFormat) -> &'static str {
    match format {
        DocumentFormat::Pdf => "download-pdf",
        DocumentFormat::Xml => "download-xml",
    }
}

impl FactusGateway {
    /// Builds the HTTP client (once; it pools connections) and, with server credentials, the
    /// session, which logs in on first use.
    ///
    /// # Errors
    /// [`FactusConfigError`] for a base URL that is not http(s), or a client that cannot be built.
    pub fn new(config: FactusGatewayConfig) -> Result<Self, FactusConfigError> {
        let transport = Transport::new(&config)?;
        let session =
            config.server_credentials.map(|credentials| ServerSession::new(credentials, config.token_refresh_margin));
        Ok(Self {
            transport,
            oauth: OAuthClient::new(config.client_id, config.client_secret),
            session,
            version: VersionSwitch::new(config.api_version),
        })
    }

    /// The Factus API version calls go to now.
    #[must_use]
    pub fn api_version(&self) -> FactusApiVersion {
        self.version.current()
    }

    /// The number of the bill whose reference is exactly `reference_code`, searching every page
    /// of `GET /v{1,2}/bills?filter[reference_code]=…`.
    ///
    /// Factus' filter matches *parts* of references and lists newest first, so `FAC-1` also
    /// matches `FAC-10` … `FAC-19`; stopping at the first page would miss an existing bill and
    /// let the ledger resend it. Pages are asked for 100 at a time, and the search stops at
    /// [`MAX_LOOKUP_PAGES`] (10,000 bills sharing the text) rather than walk a whole account.
    async fn listed_bill_number(
        &self,
        access: &FactusAccess,
        kind: DocumentKind,
        reference_code: &str,
    ) -> Result<Option<String>, FactusError> {
        let mut page = 1_u64;
        loop {
            let page_text = page.to_string();
            let (_, body) = self
                .call(access, |version| {
                    let path = document_path(version, kind, DocumentOp::List)?;
                    self.get(
                        LIST,
                        FactusOperation::Find(kind),
                        &path,
                        &[
                            ("filter[reference_code]", reference_code),
                            ("filter[per_page]", LOOKUP_PAGE_SIZE),
                            ("per_page", LOOKUP_PAGE_SIZE),
                            ("page", &page_text),
                        ],
                    )
                })
                .await?
                .remote()?;
            let items = responses::list(&body)?;
            if let Some(number) = responses::listed_bill_number(&items, reference_code) {
                return Ok(Some(number));
            }
            let last_page = responses::last_page(&body).unwrap_or(page);
            if items.is_empty() || page >= last_page {
                return Ok(None);
            }
            if page >= MAX_LOOKUP_PAGES {
                return Err(FactusError::InvalidResponse {
                    message: format!(
                        "Factus lista más de {MAX_LOOKUP_PAGES} páginas de documentos para la referencia {reference_code}"
                    ),
                });
            }
            page += 1;
        }
    }

    /// The circuit breaker's state (also published as the gauge `factus_circuit_state`).
    #[must_use]
    pub fn breaker_state(&self) -> CircuitState {
        self.transport.breaker().state()
    }

    async fn bearer<'a>(&self, access: &'a FactusAccess) -> Result<Bearer<'a>, FactusError> {
        match access {
            FactusAccess::ClientToken(token) => Ok(Bearer::Client(token)),
            FactusAccess::ServerSession => {
                let session = self.session.as_ref().ok_or(FactusError::MissingCredentials)?;
                Ok(Bearer::Session(session.token(&self.transport, &self.oauth).await?))
            }
        }
    }

    /// Makes the call the version in use routes to, and returns the body of its 2xx answer with
    /// the version that gave it.
    ///
    /// With `FACTUS_API_VERSION=auto`, Factus' 403 "Version de API no disponible para esta
    /// empresa" switches the gateway to the other version and the call is built again for it and
    /// made once more: Factus refuses the version before acting on the request, so even a create
    /// is safe to repeat.
    async fn call(
        &self,
        access: &FactusAccess,
        route: impl Fn(FactusApiVersion) -> Result<Route, FactusError>,
    ) -> Result<Answer, FactusError> {
        let version = self.version.current();
        let Route::Remote(call) = route(version)? else { return Ok(Answer::Bundled) };
        let reply = self.exchange(access, &call).await?;
        if is_version_refusal(reply.status.as_u16(), &reply.body)
            && let Some(other) = self.version.after_refusal(version)
        {
            let Route::Remote(call) = route(other)? else { return Ok(Answer::Bundled) };
            let reply = self.exchange(access, &call).await?;
            return self.finish(&call, reply).map(|body| Answer::Remote(other, body));
        }
        self.finish(&call, reply).map(|body| Answer::Remote(version, body))
    }

    /// One exchange. With the server session, a 401 makes the session renew the token and the
    /// call is made once more: Factus refused the request before acting on it, so even a create is
    /// safe to repeat.
    async fn exchange(&self, access: &FactusAccess, call: &Call) -> Result<transport::Reply, FactusError> {
        let bearer = self.bearer(access).await?;
        let mut reply = self.send(call, &bearer).await?;
        if reply.status == StatusCode::UNAUTHORIZED
            && let (Bearer::Session(stale), Some(session)) = (&bearer, &self.session)
        {
            tracing::debug!(endpoint = call.endpoint.name, "factus refused the session token; renewing it once");
            session.invalidate(stale.generation).await;
            let fresh = Bearer::Session(session.token(&self.transport, &self.oauth).await?);
            reply = self.send(call, &fresh).await?;
        }
        Ok(reply)
    }

    /// The body of a 2xx answer, or the failure it reports.
    fn finish(&self, call: &Call, reply: transport::Reply) -> Result<Vec<u8>, FactusError> {
        if reply.status.is_success() {
            return Ok(reply.body);
        }
        tracing::debug!(
            endpoint = call.endpoint.name,
            method = %call.method,
            path = call.url.path(),
            status = reply.status.as_u16(),
            upstream_body = %body_excerpt(&reply.body),
            payload = %match &call.body {
                Body::Json(bytes) => payload_excerpt(bytes),
                Body::Empty | Body::Form(_) | Body::Multipart { .. } => String::new(),
            },
            "factus call failed"
        );
        if reply.status == StatusCode::UNPROCESSABLE_ENTITY {
            let rules = dian_rules(&reply.body);
            if !rules.is_empty() {
                return Err(FactusError::DianRejected { rules });
            }
        }
        let message = bill_error_message(reply.status.as_u16(), &reply.body, &call.operation.default_message());
        Err(failure(reply.status, message))
    }

    async fn send(&self, call: &Call, bearer: &Bearer<'_>) -> Result<transport::Reply, FactusError> {
        let request = Request {
            endpoint: call.endpoint,
            method: call.method.clone(),
            url: call.url.clone(),
            bearer: Some(bearer.secret()),
            body: &call.body,
        };
        self.transport.send(&request).await
    }

    fn get<S: AsRef<str>>(
        &self,
        endpoint: Endpoint,
        operation: FactusOperation,
        path: &[S],
        query: &[(&str, &str)],
    ) -> Result<Route, FactusError> {
        self.request(endpoint, operation, Method::GET, path, query, Body::Empty)
    }

    fn request<S: AsRef<str>>(
        &self,
        endpoint: Endpoint,
        operation: FactusOperation,
        method: Method,
        path: &[S],
        query: &[(&str, &str)],
        body: Body,
    ) -> Result<Route, FactusError> {
        let segments: Vec<&str> = path.iter().map(AsRef::as_ref).collect();
        Ok(Route::Remote(Call { endpoint, operation, method, url: self.transport.url(&segments, query)?, body }))
    }

    /// A catalogue: from Factus on v1, from the bundle on v2 (which has no endpoint for it).
    async fn lookup<T>(
        &self,
        access: &FactusAccess,
        endpoint: Endpoint,
        path: &[&str],
        name: Option<&str>,
        item: fn(usize, &Value) -> Result<T, FactusError>,
        bundled: impl Fn(Option<&str>) -> Vec<T>,
    ) -> Result<Vec<T>, FactusError> {
        let query: Vec<(&str, &str)> = name.map(|name| ("name", name)).into_iter().collect();
        let answer = self
            .call(access, |version| match version {
                FactusApiVersion::V1 => {
                    let mut segments = vec!["v1"];
                    segments.extend_from_slice(path);
                    self.get(endpoint, FactusOperation::Lookup, &segments, &query)
                }
                FactusApiVersion::V2 => Ok(Route::Bundled),
            })
            .await?;
        match answer {
            Answer::Remote(_, body) => {
                responses::list(&body)?.iter().enumerate().map(|(index, value)| item(index, value)).collect()
            }
            Answer::Bundled => Ok(bundled(name)),
        }
    }
}

/// Entries of a bundled catalogue whose name contains `name` (case and accents ignored), as
/// Factus v1 filters its lists.
fn bundled_entries(catalog: &'static Catalog, name: Option<&str>) -> impl Iterator<Item = &'static catalog::Entry> {
    let wanted = name.map(fold).filter(|wanted| !wanted.is_empty());
    catalog
        .entries()
        .iter()
        .filter(move |entry| wanted.as_ref().is_none_or(|wanted| fold(entry.name()).contains(wanted)))
}

/// Lower case without Spanish accents, for name filters.
fn fold(text: &str) -> String {
    text.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'á' | 'à' | 'ä' | 'â' => 'a',
            'é' | 'è' | 'ë' | 'ê' => 'e',
            'í' | 'ì' | 'ï' | 'î' => 'i',
            'ó' | 'ò' | 'ö' | 'ô' => 'o',
            'ú' | 'ù' | 'ü' | 'û' => 'u',
            'ñ' => 'n',
            other => other,
        })
        .collect()
}

/// A non-2xx answer as the application sees it: 4xx → `Rejected`, 5xx → `Unavailable` (the
/// request did reach Factus), anything else (1xx, 3xx) → `InvalidResponse`.
fn failure(status: StatusCode, message: String) -> FactusError {
    if status.is_client_error() {
        FactusError::Rejected { status: status.as_u16(), message }
    } else if status.is_server_error() {
        FactusError::Unavailable { message, request_sent: true }
    } else {
        FactusError::InvalidResponse { message: format!("HTTP {}", status.as_u16()) }
    }
}

fn json_body(value: &Value) -> Result<Body, FactusError> {
    serde_json::to_vec(value)
        .map(Body::Json)
        .map_err(|error| FactusError::Unexpected(anyhow::Error::new(error).context("encoding a Factus payload")))
}

#[async_trait]
impl FactusAuthGateway for FactusGateway {
    async fn login(&self, email: &str, password: &SecretString) -> Result<FactusToken, FactusError> {
        self.oauth.password_grant(&self.transport, email, password).await
    }

    async fn refresh(&self, refresh_token: &SecretString) -> Result<FactusToken, FactusError> {
        self.oauth.refresh_grant(&self.transport, refresh_token).await
    }
}

#[async_trait]
impl FactusBillGateway for FactusGateway {
    async fn validate_bill(&self, access: &FactusAccess, document: &Document) -> Result<IssuedBill, FactusError> {
        let kind = document.kind();
        // v1 credit notes name their invoice by Factus' internal id, which only a look-up of the
        // invoice tells; v2 takes the number itself.
        let bill_id = match document {
            Document::Note(note) if self.version.current() == FactusApiVersion::V1 => match note.bill_number() {
                Some(number) => self.v1_bill_id(access, number).await?,
                None => None,
            },
            _ => None,
        };
        let (version, body) = self
            .call(access, |version| {
                let payload = match (version, document) {
                    (FactusApiVersion::V1, Document::Invoice(invoice)) => payload::bill_payload(invoice),
                    (FactusApiVersion::V2, Document::Invoice(invoice)) => payload_v2::bill_payload(invoice),
                    (FactusApiVersion::V1, Document::Note(note)) => {
                        let bill_id = match (note.bill_number(), bill_id) {
                            (Some(_), None) => {
                                return Err(FactusError::Unexpected(anyhow::anyhow!(
                                    "the v1 bill id of a credit note was not resolved"
                                )));
                            }
                            (_, bill_id) => bill_id,
                        };
                        payload::note_payload(note, bill_id)
                    }
                    (FactusApiVersion::V2, Document::Note(note)) => payload_v2::note_payload(note),
                    (FactusApiVersion::V1, Document::SupportDocument(support)) => payload::support_payload(support),
                    (FactusApiVersion::V2, Document::SupportDocument(support)) => payload_v2::support_payload(support),
                };
                let path = document_path(version, kind, DocumentOp::Validate)?;
                self.request(VALIDATE, FactusOperation::Create(kind), Method::POST, &path, &[], json_body(&payload)?)
            })
            .await?
            .remote()?;
        responses::issued_bill(&body, version, kind)
    }

    async fn show_bill(
        &self,
        access: &FactusAccess,
        kind: DocumentKind,
        number: &str,
    ) -> Result<UpstreamJson, FactusError> {
        let (_, body) = self
            .call(access, |version| {
                let path = document_path(version, kind, DocumentOp::Show(number))?;
                self.get(SHOW, FactusOperation::Get(kind), &path, &[])
            })
            .await?
            .remote()?;
        responses::shown_bill(&body)
    }

    async fn download_document(
        &self,
        access: &FactusAccess,
        kind: DocumentKind,
        number: &str,
        format: DocumentFormat,
    ) -> Result<DownloadedFile, FactusError> {
        let endpoint = match format {
            DocumentFormat::Pdf => DOWNLOAD_PDF,
            DocumentFormat::Xml => DOWNLOAD_XML,
        };
        let (_, body) = self
            .call(access, |version| {
                let path = document_path(version, kind, DocumentOp::Download(number, format))?;
                self.get(endpoint, format.operation(), &path, &[])
            })
            .await?
            .remote()?;
        responses::downloaded(&body, number, format)
    }

    async fn events(&self, access: &FactusAccess, number: &str) -> Result<BillEvents, FactusError> {
        let (_, body) = self
            .call(access, |version| {
                let path = bill_path(version, &["bills"], &["bills"], &[number, "radian", "events"]);
                self.get(EVENTS, FactusOperation::InvoiceEvents, &path, &[])
            })
            .await?
            .remote()?;
        responses::events(&body)
    }

    async fn send_email(
        &self,
        access: &FactusAccess,
        kind: DocumentKind,
        number: &str,
        email: &str,
        pdf_base64: Option<String>,
    ) -> Result<StatusMessage, FactusError> {
        let mut payload = Map::new();
        payload.insert("email".to_owned(), Value::String(email.to_owned()));
        if let Some(pdf) = pdf_base64.filter(|pdf| !pdf.is_empty()) {
            payload.insert("pdf_base_64_encoded".to_owned(), Value::String(pdf));
        }
        let payload = Value::Object(payload);
        let (_, body) = self
            .call(access, |version| {
                let path = document_path(version, kind, DocumentOp::SendEmail(number))?;
                self.request(SEND_EMAIL, FactusOperation::SendEmail, Method::POST, &path, &[], json_body(&payload)?)
            })
            .await?
            .remote()?;
        responses::status_message(&body)
    }

    async fn delete_by_reference(
        &self,
        access: &FactusAccess,
        kind: DocumentKind,
        reference_code: &str,
    ) -> Result<StatusMessage, FactusError> {
        let (_, body) = self
            .call(access, |version| {
                let path = document_path(version, kind, DocumentOp::Destroy(reference_code))?;
                self.request(DESTROY, FactusOperation::Delete(kind), Method::DELETE, &path, &[], Body::Empty)
            })
            .await?
            .remote()?;
        responses::status_message(&body)
    }

    async fn pending_reference(
        &self,
        access: &FactusAccess,
        kind: DocumentKind,
    ) -> Result<Option<String>, FactusError> {
        let (_, body) = self
            .call(access, |version| {
                let path = document_path(version, kind, DocumentOp::List)?;
                self.get(LIST, FactusOperation::Find(kind), &path, &[("filter[status]", "0")])
            })
            .await?
            .remote()?;
        // Checked here too: v1 lists `status` 0/1, v2 `is_validated`; a filter Factus ignores
        // must not name a validated document.
        let pending = |item: &&Value| {
            let status_zero = item.get("status").is_some_and(|status| status == 0 || status == "0");
            let not_validated = item.get("is_validated").is_some_and(|validated| validated == false);
            status_zero || not_validated
        };
        Ok(responses::list(&body)?
            .iter()
            .filter(pending)
            .find_map(|item| item.get("reference_code").and_then(Value::as_str).map(str::to_owned)))
    }

    async fn find_bill_by_reference(
        &self,
        access: &FactusAccess,
        kind: DocumentKind,
        reference_code: &str,
    ) -> Result<Option<IssuedBill>, FactusError> {
        let Some(number) = self.listed_bill_number(access, kind, reference_code).await? else {
            return Ok(None);
        };
        if number.is_empty() {
            return Err(FactusError::InvalidResponse {
                message: format!("Factus lista la referencia {reference_code} sin número de documento"),
            });
        }
        match self.shown_document(access, kind, &number).await {
            Ok((version, document)) => responses::bill_of(&document, version, kind).map(Some),
            // Deleted between the two calls.
            Err(FactusError::Rejected { status: 404, .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }
}

impl FactusGateway {
    /// The document of `number` as Factus shows it, as a JSON object, with the version that
    /// answered.
    async fn shown_document(
        &self,
        access: &FactusAccess,
        kind: DocumentKind,
        number: &str,
    ) -> Result<(FactusApiVersion, Map<String, Value>), FactusError> {
        let (version, body) = self
            .call(access, |version| {
                let path = document_path(version, kind, DocumentOp::Show(number))?;
                self.get(SHOW, FactusOperation::Find(kind), &path, &[])
            })
            .await?
            .remote()?;
        let document =
            serde_json::from_slice::<Value>(&body).ok().and_then(|value| value.as_object().cloned()).ok_or_else(
                || FactusError::InvalidResponse { message: "Respuesta de Factus no es un objeto JSON".to_owned() },
            )?;
        Ok((version, document))
    }

    /// Factus' internal id of the invoice `number` (`data.bill.id` of its v1 show), which a v1
    /// credit note references as `bill_id`; `None` when the account answered on v2, which takes
    /// the number. An unknown number is Factus' 404, refused like any other 4xx.
    async fn v1_bill_id(&self, access: &FactusAccess, number: &str) -> Result<Option<i64>, FactusError> {
        let (version, document) = self.shown_document(access, DocumentKind::Invoice, number).await?;
        if version == FactusApiVersion::V2 {
            return Ok(None);
        }
        responses::v1_bill_id(&document).map(Some)
    }
}

#[async_trait]
impl FactusLookupGateway for FactusGateway {
    async fn municipalities(
        &self,
        access: &FactusAccess,
        name: Option<String>,
    ) -> Result<Vec<Municipality>, FactusError> {
        self.lookup(access, MUNICIPALITIES, &["municipalities"], name.as_deref(), responses::municipality, |name| {
            bundled_entries(catalog::municipalities(), name)
                .map(|entry| Municipality {
                    id: entry.id(),
                    name: entry.name().to_owned(),
                    code: entry.code().to_owned(),
                    department: entry.department().map(|(_, name)| name.to_owned()).unwrap_or_default(),
                })
                .collect()
        })
        .await
    }

    async fn product_tributes(
        &self,
        access: &FactusAccess,
        name: Option<String>,
    ) -> Result<Vec<ProductTribute>, FactusError> {
        self.lookup(access, TRIBUTES, &["tributes", "products"], name.as_deref(), responses::product_tribute, |name| {
            bundled_entries(catalog::product_tributes(), name)
                .map(|entry| ProductTribute {
                    id: entry.id(),
                    name: entry.name().to_owned(),
                    code: entry.code().to_owned(),
                    description: entry.description().map(str::to_owned),
                })
                .collect()
        })
        .await
    }

    async fn measurement_units(
        &self,
        access: &FactusAccess,
        name: Option<String>,
    ) -> Result<Vec<MeasurementUnit>, FactusError> {
        self.lookup(access, UNITS, &["measurement-units"], name.as_deref(), responses::measurement_unit, |name| {
            bundled_entries(catalog::unit_measures(), name)
                .map(|entry| MeasurementUnit {
                    id: entry.id(),
                    name: entry.name().to_owned(),
                    code: entry.code().to_owned(),
                })
                .collect()
        })
        .await
    }

    async fn numbering_ranges(
        &self,
        access: &FactusAccess,
        filter: &NumberingRangeFilter,
    ) -> Result<Vec<NumberingRange>, FactusError> {
        let id = filter.id.map(|id| id.to_string());
        let filters = [
            ("filter[id]", id.as_deref()),
            ("filter[document]", filter.document.as_deref()),
            ("filter[resolution_number]", filter.resolution_number.as_deref()),
            ("filter[technical_key]", filter.technical_key.as_deref()),
            ("filter[is_active]", filter.is_active.map(|active| if active { "1" } else { "0" })),
        ];
        let mut ranges = Vec::new();
        let mut page = 1_u64;
        loop {
            let page_text = page.to_string();
            let mut query: Vec<(&str, &str)> =
                filters.iter().filter_map(|(key, value)| value.map(|value| (*key, value))).collect();
            if page > 1 {
                query.push(("page", &page_text));
            }
            let (_, body) = self
                .call(access, |version| {
                    let path = bill_path(version, &["numbering-ranges"], &["numbering-ranges"], &[]);
                    self.get(RANGES, FactusOperation::Lookup, &path, &query)
                })
                .await?
                .remote()?;
            let items = responses::list(&body)?;
            for (index, item) in items.iter().enumerate() {
                ranges.push(responses::numbering_range(index, item)?);
            }
            if items.is_empty() || page >= responses::last_page(&body).unwrap_or(page) || page >= MAX_RANGE_PAGES {
                return Ok(ranges);
            }
            page += 1;
        }
    }

    async fn countries(&self, access: &FactusAccess, name: Option<String>) -> Result<Vec<Country>, FactusError> {
        self.lookup(access, COUNTRIES, &["countries"], name.as_deref(), responses::country, |name| {
            bundled_entries(catalog::countries(), name)
                .map(|entry| Country { id: entry.id(), code: entry.code().to_owned(), name: entry.name().to_owned() })
                .collect()
        })
        .await
    }

    async fn acquirer(
        &self,
        access: &FactusAccess,
        identification_document_id: i64,
        identification_number: &str,
    ) -> Result<Acquirer, FactusError> {
        let document_id = identification_document_id.to_string();
        // v2 takes the DIAN code of the document type; an id outside the table is passed as it is
        // and Factus answers for it.
        let document_code = catalog::identification_documents()
            .by_id(identification_document_id)
            .map_or(document_id.as_str(), |entry| entry.code());
        let (_, body) = self
            .call(access, |version| {
                let (key, value) = match version {
                    FactusApiVersion::V1 => ("identification_document_id", document_id.as_str()),
                    FactusApiVersion::V2 => ("identification_document_code", document_code),
                };
                let path = bill_path(version, &["dian", "acquirer"], &["dian", "acquirer"], &[]);
                self.get(
                    ACQUIRER,
                    FactusOperation::Lookup,
                    &path,
                    &[(key, value), ("identification_number", identification_number)],
                )
            })
            .await?
            .remote()?;
        responses::acquirer(&body)
    }
}

/// The company's path on each version: `/v1/company…`, `/v2/companies…`.
fn company_path(version: FactusApiVersion, tail: &[&str]) -> Vec<String> {
    bill_path(version, &["company"], &["companies"], tail)
}

/// A numbering range's path (the same on both versions).
fn range_path(version: FactusApiVersion, tail: &[&str]) -> Vec<String> {
    bill_path(version, &["numbering-ranges"], &["numbering-ranges"], tail)
}

/// The JSON Factus receives to replace the company profile: the fields given, as given.
fn company_payload(update: &CompanyUpdate) -> Value {
    let mut payload = Map::new();
    let mut put = |key: &str, value: Option<&String>| {
        if let Some(value) = value {
            payload.insert(key.to_owned(), Value::String(value.clone()));
        }
    };
    put("legal_organization_code", Some(&update.legal_organization_code));
    put("company", update.company.as_ref());
    put("trade_name", update.trade_name.as_ref());
    put("names", update.names.as_ref());
    put("surnames", update.surnames.as_ref());
    put("registration_code", update.registration_code.as_ref());
    put("economic_activity", Some(&update.economic_activity));
    put("phone", Some(&update.phone));
    put("email", Some(&update.email));
    put("address", Some(&update.address));
    put("tribute_code", Some(&update.tribute_code));
    put("municipality_code", Some(&update.municipality_code));
    payload.insert(
        "responsibilities".to_owned(),
        Value::Array(update.responsibilities.iter().cloned().map(Value::String).collect()),
    );
    Value::Object(payload)
}

/// The logo as Factus takes it: `multipart/form-data` with the file in the field `image`.
fn logo_body(logo: &LogoImage) -> Body {
    let boundary = format!("factus-api-{}", uuid::Uuid::now_v7().simple());
    let mut bytes = Vec::with_capacity(logo.bytes().len() + 256);
    bytes.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
            logo.file_name(),
            logo.format().media_type()
        )
        .as_bytes(),
    );
    bytes.extend_from_slice(logo.bytes());
    bytes.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    Body::Multipart { boundary, bytes }
}

impl FactusGateway {
    /// One call to an account endpoint whose path depends only on the version; the body of its
    /// 2xx answer. `body` is built again if `auto` repeats the call on the other version.
    async fn account_call(
        &self,
        access: &FactusAccess,
        (endpoint, operation, method): (Endpoint, FactusOperation, Method),
        path: impl Fn(FactusApiVersion) -> Vec<String>,
        body: impl Fn() -> Result<Body, FactusError>,
    ) -> Result<Vec<u8>, FactusError> {
        let (_, answer) = self
            .call(access, |version| self.request(endpoint, operation, method.clone(), &path(version), &[], body()?))
            .await?
            .remote()?;
        Ok(answer)
    }
}

#[async_trait]
impl FactusAccountGateway for FactusGateway {
    async fn company(&self, access: &FactusAccess) -> Result<Company, FactusError> {
        let call = (COMPANY, FactusOperation::GetCompany, Method::GET);
        let body = self.account_call(access, call, |version| company_path(version, &[]), || Ok(Body::Empty)).await?;
        responses::company(&body)
    }

    async fn update_company(&self, access: &FactusAccess, update: &CompanyUpdate) -> Result<Company, FactusError> {
        let payload = company_payload(update);
        let call = (COMPANY_UPDATE, FactusOperation::UpdateCompany, Method::PUT);
        let body =
            self.account_call(access, call, |version| company_path(version, &[]), || json_body(&payload)).await?;
        responses::company(&body)
    }

    async fn upload_company_logo(&self, access: &FactusAccess, logo: &LogoImage) -> Result<String, FactusError> {
        let call = (COMPANY_LOGO, FactusOperation::UpdateCompanyLogo, Method::POST);
        let body =
            self.account_call(access, call, |version| company_path(version, &["logo"]), || Ok(logo_body(logo))).await?;
        responses::logo_url(&body)
    }

    async fn numbering_range(&self, access: &FactusAccess, id: i64) -> Result<NumberingRange, FactusError> {
        let id = id.to_string();
        let call = (RANGE_SHOW, FactusOperation::GetNumberingRange, Method::GET);
        let body = self.account_call(access, call, |version| range_path(version, &[&id]), || Ok(Body::Empty)).await?;
        responses::single_range(&body)
    }

    async fn create_numbering_range(
        &self,
        access: &FactusAccess,
        range: &NewNumberingRange,
    ) -> Result<NumberingRange, FactusError> {
        let mut payload = Map::new();
        payload.insert("document".to_owned(), Value::String(range.document.clone()));
        payload.insert("prefix".to_owned(), Value::String(range.prefix.clone()));
        payload.insert("current".to_owned(), Value::from(range.current));
        if let Some(resolution) = &range.resolution_number {
            payload.insert("resolution_number".to_owned(), Value::String(resolution.clone()));
        }
        let payload = Value::Object(payload);
        let call = (RANGE_CREATE, FactusOperation::CreateNumberingRange, Method::POST);
        let body = self.account_call(access, call, |version| range_path(version, &[]), || json_body(&payload)).await?;
        responses::single_range(&body)
    }

    async fn update_numbering_range_current(
        &self,
        access: &FactusAccess,
        id: i64,
        current: i64,
    ) -> Result<NumberingRange, FactusError> {
        let id = id.to_string();
        let payload = serde_json::json!({ "current": current });
        let call = (RANGE_CURRENT, FactusOperation::UpdateNumberingRange, Method::PATCH);
        let body = self
            .account_call(access, call, |version| range_path(version, &[&id, "current"]), || json_body(&payload))
            .await?;
        responses::single_range(&body)
    }

    async fn delete_numbering_range(&self, access: &FactusAccess, id: i64) -> Result<StatusMessage, FactusError> {
        let id = id.to_string();
        let call = (RANGE_DELETE, FactusOperation::DeleteNumberingRange, Method::DELETE);
        let body = self.account_call(access, call, |version| range_path(version, &[&id]), || Ok(Body::Empty)).await?;
        responses::status_message(&body)
    }

    async fn software_numbering_ranges(&self, access: &FactusAccess) -> Result<Vec<DianNumberingRange>, FactusError> {
        let call = (DIAN_RANGES, FactusOperation::SoftwareNumberingRanges, Method::GET);
        let body =
            self.account_call(access, call, |version| range_path(version, &["dian"]), || Ok(Body::Empty)).await?;
        responses::list(&body)?.iter().enumerate().map(|(index, item)| responses::dian_range(index, item)).collect()
    }
}

impl FactusStatus for FactusGateway {
    fn has_server_session(&self) -> bool {
        self.session.is_some()
    }

    fn circuit_state(&self) -> CircuitState {
        self.breaker_state()
    }

    fn api_version(&self) -> FactusApiVersion {
        self.version.current()
    }
}

#[async_trait]
impl FactusBudget for FactusGateway {
    async fn budget_usage(&self) -> Result<BudgetUsage, StoreError> {
        self.transport.budget().usage().await.map_err(StoreError::from)
    }
}
