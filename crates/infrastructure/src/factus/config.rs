//! What the Factus gateway needs to know: where Factus is, our OAuth client, the optional server
//! session, timeouts, and the retry and circuit-breaker policies.

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;

use super::budget::{BudgetPolicy, BudgetStore};

use super::version::ApiVersionSetting;

/// The Factus gateway's configuration. `Debug` shows no secret (they are [`SecretString`]s).
#[derive(Debug, Clone)]
pub struct FactusGatewayConfig {
    /// `FACTUS_BASE_URL`, e.g. `https://api-sandbox.factus.com.co`; a trailing `/` is ignored.
    pub base_url: String,
    /// `FACTUS_CLIENT_ID`, sent with both OAuth grants.
    pub client_id: String,
    /// `FACTUS_CLIENT_SECRET`.
    pub client_secret: SecretString,
    /// `FACTUS_USERNAME`/`FACTUS_PASSWORD`: when set, the gateway keeps its own Factus session and
    /// clients may leave `X-Factus-Token` out.
    pub server_credentials: Option<FactusCredentials>,
    /// How long establishing a TCP/TLS connection may take.
    pub connect_timeout: Duration,
    /// `FACTUS_TIMEOUT_SECS` (default 30 s): the deadline of one gateway call, retries included.
    pub request_timeout: Duration,
    /// Sent on every request: Factus sits behind Cloudflare, which blocks requests without a real
    /// `User-Agent` (`docs/factus.md` §1.5).
    pub user_agent: String,
    pub retry: RetryPolicy,
    pub breaker: BreakerPolicy,
    /// How long before its expiry the server session's token is renewed (Factus advises ~60 s).
    /// For very short-lived tokens the renewal happens at half their lifetime instead.
    pub token_refresh_margin: Duration,
    /// `FACTUS_API_VERSION` (default `auto`): which Factus API version calls go to.
    pub api_version: ApiVersionSetting,
    /// `FACTUS_RATE_LIMIT`, `FACTUS_RATE_WINDOW_SECS` and how long calls wait for a slot.
    pub rate: RatePolicy,
    /// Where the budget is shared with the other instances (the database); `None` counts this
    /// process alone.
    pub budget_store: Option<Arc<dyn BudgetStore>>,
}

/// The budget of Factus calls and how long a call waits for a slot of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RatePolicy {
    pub budget: BudgetPolicy,
    /// How long a create waits for a slot before the gateway gives up on it (`Busy`; the ledger
    /// then queues it): `FACTUS_QUEUE_WAIT_SECS`, default 10 s.
    pub create_wait: Duration,
    /// How long a read waits: a window, by default, within which its reserved share frees a slot.
    pub read_wait: Duration,
}

impl RatePolicy {
    /// `limit` calls per `window`; reads wait up to a window, creates `create_wait`.
    #[must_use]
    pub fn new(limit: u32, window: Duration, create_wait: Duration) -> Self {
        Self { budget: BudgetPolicy::new(limit, window), create_wait, read_wait: window }
    }
}

impl Default for RatePolicy {
    fn default() -> Self {
        Self::new(80, Duration::from_secs(60), Duration::from_secs(10))
    }
}

impl FactusGatewayConfig {
    /// The default `FACTUS_TIMEOUT_SECS`.
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
    /// The connect timeout unless the request timeout is shorter.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

    /// A configuration with the defaults: no server session, 30 s request timeout, 10 s connect
    /// timeout, `factus-api/<version>` as user agent, the default retry and breaker policies.
    pub fn new(base_url: impl Into<String>, client_id: impl Into<String>, client_secret: SecretString) -> Self {
        Self {
            base_url: base_url.into(),
            client_id: client_id.into(),
            client_secret,
            server_credentials: None,
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
            user_agent: default_user_agent(),
            retry: RetryPolicy::default(),
            breaker: BreakerPolicy::default(),
            token_refresh_margin: Duration::from_secs(60),
            api_version: ApiVersionSetting::Auto,
            rate: RatePolicy::default(),
            budget_store: None,
        }
    }

    /// Sets `FACTUS_API_VERSION`.
    #[must_use]
    pub fn with_api_version(mut self, version: ApiVersionSetting) -> Self {
        self.api_version = version;
        self
    }

    /// Gives the gateway a Factus account of its own (see [`FactusCredentials`]).
    #[must_use]
    pub fn with_server_credentials(mut self, username: impl Into<String>, password: SecretString) -> Self {
        self.server_credentials = Some(FactusCredentials { username: username.into(), password });
        self
    }

    /// Sets the request timeout, and lowers the connect timeout to it when it is shorter.
    #[must_use]
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self.connect_timeout = self.connect_timeout.min(timeout);
        self
    }
}

/// The `User-Agent` Factus sees: `factus-api/<crate version>`.
#[must_use]
pub fn default_user_agent() -> String {
    format!("factus-api/{}", env!("CARGO_PKG_VERSION"))
}

/// The server's own Factus account, used for the server-managed session.
#[derive(Debug, Clone)]
pub struct FactusCredentials {
    /// The Factus user's e-mail (the password grant's `username`).
    pub username: String,
    pub password: SecretString,
}

/// Retries of idempotent calls (GETs and both OAuth grants) after connection errors, 429 and 5xx.
/// `POST /v1/bills/validate`, send-email and delete are never retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included (1 disables retries).
    pub max_attempts: u32,
    /// The first backoff; each later one doubles, up to `max_delay`. Each wait is drawn at
    /// random between half the backoff and the whole, so instances do not retry in lockstep.
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_attempts: 3, base_delay: Duration::from_millis(200), max_delay: Duration::from_secs(2) }
    }
}

/// When the circuit breaker in front of Factus opens and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerPolicy {
    /// Opens after this many failures in a row.
    pub consecutive_failures: u32,
    /// …or when at least this share (percent) of the last `window` calls failed (evaluated once
    /// `window` calls have been seen).
    pub failure_rate_percent: u32,
    pub window: usize,
    /// How long it stays open before letting one probe through (half-open).
    pub open_for: Duration,
}

impl Default for BreakerPolicy {
    fn default() -> Self {
        Self { consecutive_failures: 5, failure_rate_percent: 50, window: 20, open_for: Duration::from_secs(30) }
    }
}
