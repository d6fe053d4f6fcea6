//! The services every handler can reach, built once by the composition root.

use std::sync::Arc;

use factus_application::api_keys::ApiKeyService;
use factus_application::auth::AuthService;
use factus_application::company::CompanyService;
use factus_application::factus::{FactusBudget, FactusStatus};
use factus_application::factus_auth::FactusAuthService;
use factus_application::health::HealthService;
use factus_application::invoices::InvoiceService;
use factus_application::issuance::InvoiceIssuance;
use factus_application::lookups::LookupService;
use factus_application::numbering_ranges::NumberingRangeService;
use factus_application::users::UserAdmin;
use factus_application::webhooks::WebhookService;
use metrics_exporter_prometheus::PrometheusHandle;

/// Shared application state: one `Arc`, because every extractor of every request clones it
/// (several times per request), and one atomic increment is cheaper than one per service.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl AppState {
    #[must_use]
    pub fn new(services: Services) -> Self {
        Self(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// The services behind [`AppState`] (cloned only to build a variant, e.g. in tests).
#[derive(Clone)]
pub struct Services {
    pub auth: Arc<AuthService>,
    pub users: Arc<UserAdmin>,
    /// API keys of machine callers.
    pub api_keys: Arc<ApiKeyService>,
    pub health: Arc<HealthService>,
    pub factus_auth: Arc<FactusAuthService>,
    pub invoices: Arc<InvoiceService>,
    /// Exactly-once creation and the ledger.
    pub issuance: Arc<InvoiceIssuance>,
    pub lookups: Arc<LookupService>,
    /// The company profile and logo at Factus.
    pub company: Arc<CompanyService>,
    /// The DIAN numbering ranges at Factus, and the watch `/health/ready` reports.
    pub numbering_ranges: Arc<NumberingRangeService>,
    /// Whether the server has its own Factus session, and the circuit breaker's state.
    pub factus_status: Arc<dyn FactusStatus>,
    /// How much of the account's budget of Factus calls the current window has used (the
    /// console's overview).
    pub factus_budget: Arc<dyn FactusBudget>,
    /// Signed webhooks: the dispatcher (a background task) and the admins' delivery list.
    pub webhooks: Arc<WebhookService>,
    /// Proxies (`TRUSTED_PROXIES`) whose `X-Forwarded-For` names the real client; empty means
    /// the TCP peer is the client.
    pub trusted_proxies: Arc<[std::net::IpAddr]>,
    /// Where a queued create's entry is followed (the 202's `Location`).
    pub ledger_location: crate::queue::LedgerLocation,
    /// Renders `/metrics`; `None` when the process has no Prometheus recorder (some tests).
    pub metrics: Option<PrometheusHandle>,
}
