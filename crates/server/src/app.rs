//! The composition root: builds adapters and use cases from the configuration, and serves.
//!
//! There is one start-up path, used by `main`, the black-box tests and the benchmarks alike:
//! [`start`] (build, migrate, bootstrap the first admin) and then [`Application::serve`]
//! (background tasks, router, serve until shutdown, close); [`run`] is both in one call.

use std::future::Future;
use std::sync::Arc;

use anyhow::Context;
use factus_application::api_keys::ApiKeyService;
use factus_application::auth::{AuthService, ThrottlePolicy};
use factus_application::company::CompanyService;
use factus_application::documents::DocumentAccess;
use factus_application::factus_auth::FactusAuthService;
use factus_application::health::HealthService;
use factus_application::invoices::InvoiceService;
use factus_application::issuance::{InvoiceIssuance, IssuancePolicy};
use factus_application::lookups::LookupService;
use factus_application::numbering_ranges::{NumberingRangeService, NumberingRangeWatch, RangeAlertPolicy};
use factus_application::users::UserAdmin;
use factus_application::webhooks::{WebhookPolicy, WebhookService};
use factus_domain::user::NewPassword;
use factus_infrastructure::db::{Database, SqlBudgetStore};
use factus_infrastructure::factus::{
    BreakerPolicy, CachedLookups, FactusGateway, FactusGatewayConfig, LookupCacheTtl, RatePolicy, RetryPolicy,
};
use factus_infrastructure::jwt::JwtTokenService;
use factus_infrastructure::password::Argon2Hasher;
use factus_infrastructure::webhooks::HttpWebhookTransport;
use factus_web::state::Services;
use factus_web::{AppState, WebConfig};
use secrecy::ExposeSecret;
use tokio::net::TcpListener;

use crate::background::{self, BackgroundSettings};
use crate::config::Config;
use crate::simulator::Simulator;

/// The password of the development admin when `ADMIN_PASSWORD` is not set (as in the reference).
pub const DEVELOPMENT_ADMIN_PASSWORD: &str = "admin123";

/// Everything a running service holds.
pub struct Application {
    pub database: Database,
    pub state: AppState,
    pub web: WebConfig,
    pub gateway: Arc<FactusGateway>,
    /// The in-process Factus simulator of `--simulate-factus`.
    pub simulator: Option<Simulator>,
    /// What the background tasks run with.
    pub background: BackgroundSettings,
    /// `SHUTDOWN_GRACE_SECS`: how long in-flight requests may take once shutdown began.
    pub shutdown_grace: std::time::Duration,
    /// Timeouts and the connection cap of the HTTP server.
    pub http: crate::http::HttpSettings,
}

/// Choices made on the command line (or by a test) rather than in the environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct BuildOptions {
    /// Start the Factus simulator in-process and point the gateway at it (an error in a build
    /// without the `simulator` feature).
    pub simulate_factus: bool,
    /// Leave the ledger reconciler out of the background tasks: only for tests of what the
    /// clients' own retries settle. Every other background task always runs.
    pub without_reconciler: bool,
}

/// Connects the database, runs migrations, and builds the use cases.
///
/// # Errors
/// When the database cannot be reached or migrated, or a component cannot be built.
pub async fn build(config: &Config, options: BuildOptions) -> anyhow::Result<Application> {
    let simulator = if options.simulate_factus { Some(Simulator::start().await?) } else { None };
    let database = Database::connect_with(
        config.database_url.as_str(),
        config.database_max_connections,
        config.database_acquire_timeout,
    )
    .await
    .context("could not connect to the database (DATABASE_URL)")?;
    database.migrate().await.context("could not run database migrations")?;
    let mut gateway_config = gateway_config(config, simulator.as_ref());
    gateway_config.budget_store = Some(Arc::new(SqlBudgetStore::new(database.clone())));
    let gateway = Arc::new(FactusGateway::new(gateway_config).context("could not set up the Factus gateway")?);

    let users = database.user_store();
    let hasher = Arc::new(Argon2Hasher::new().context("could not set up password hashing")?);
    let tokens = Arc::new(
        JwtTokenService::new(&config.secret_key, &config.algorithm, config.access_token_expire_minutes)
            .context("could not set up token signing")?,
    );
    let auth = Arc::new(AuthService::new(
        users.clone(),
        database.login_attempts(),
        hasher.clone(),
        tokens,
        ThrottlePolicy::default(),
        config.user_cache_ttl,
    ));
    let user_admin = Arc::new(UserAdmin::new(users.clone(), hasher, auth.clone()));
    let api_keys =
        Arc::new(ApiKeyService::new(database.api_key_store(), users.clone(), auth.clone(), config.user_cache_ttl));
    let issuance = Arc::new(InvoiceIssuance::new(
        database.ledger_store(),
        gateway.clone(),
        gateway.clone(),
        IssuancePolicy {
            stale_after: config.ledger.stale_after,
            delete_rejected: config.ledger.delete_rejected,
            queue_wait: config.factus.queue_wait,
            ..IssuancePolicy::default()
        },
    ));
    let webhooks = Arc::new(WebhookService::new(
        database.webhook_store(),
        Arc::new(HttpWebhookTransport::new().context("could not set up the webhook client")?),
        WebhookPolicy {
            url: config.webhooks.url.clone(),
            secret: config.webhooks.secret.clone(),
            max_attempts: config.webhooks.max_attempts,
            backoff_base: config.webhooks.retry_base,
            ..WebhookPolicy::default()
        },
    ));
    let range_watch = Arc::new(NumberingRangeWatch::new(RangeAlertPolicy {
        min_remaining: i64::try_from(config.numbering_ranges.warn_remaining).unwrap_or(i64::MAX),
        expiry_warning_days: i64::try_from(config.numbering_ranges.warn_days).unwrap_or(i64::MAX),
    }));
    let cached_lookups: Arc<CachedLookups> = Arc::new(CachedLookups::new(
        gateway.clone(),
        LookupCacheTtl { catalogues: config.caches.lookups, numbering_ranges: config.caches.numbering_ranges },
    ));
    let state = AppState::new(Services {
        auth,
        users: user_admin,
        api_keys,
        health: Arc::new(HealthService::new(users, gateway.clone(), range_watch.clone())),
        factus_auth: Arc::new(FactusAuthService::new(gateway.clone())),
        invoices: Arc::new(
            InvoiceService::new(gateway.clone(), Arc::new(DocumentAccess::new(database.ledger_store())))
                .with_file_store(database.document_file_store()),
        ),
        issuance,
        lookups: Arc::new(LookupService::new(cached_lookups.clone())),
        company: Arc::new(CompanyService::new(gateway.clone())),
        numbering_ranges: Arc::new(
            NumberingRangeService::new(gateway.clone(), gateway.clone(), range_watch).forgetting_in(cached_lookups),
        ),
        factus_status: gateway.clone(),
        factus_budget: gateway.clone(),
        webhooks,
        trusted_proxies: config.trusted_proxies.clone().into(),
        ledger_location: factus_web::queue::LedgerLocation { api_prefix: config.api_prefix.clone() },
        metrics: Some(crate::telemetry::init_metrics()),
    });
    let web = WebConfig {
        api_prefix: config.api_prefix.clone(),
        project_name: config.project_name.clone(),
        version: config.version.clone(),
        cors_origins: config.cors_origins.clone(),
        console_secure_cookies: config.console_secure_cookies,
    };
    let background = BackgroundSettings {
        reconcile: !options.without_reconciler,
        reconcile_interval: config.ledger.reconcile_interval,
        webhook_interval: config.webhooks.dispatch_interval,
        numbering_range_check_interval: config.numbering_ranges.check_interval,
    };
    Ok(Application {
        database,
        state,
        web,
        gateway,
        simulator,
        background,
        shutdown_grace: config.shutdown_grace,
        http: config.http,
    })
}

/// [`build`], then the first admin ([`bootstrap_admin`]): an application ready to serve.
///
/// # Errors
/// As [`build`] and [`bootstrap_admin`].
pub async fn start(config: &Config, options: BuildOptions) -> anyhow::Result<Application> {
    let application = build(config, options).await?;
    bootstrap_admin(config, &application.state.users).await?;
    Ok(application)
}

/// The whole service: [`start`], then [`Application::serve`] on `listener` until `shutdown`.
///
/// # Errors
/// As [`start`] and [`Application::serve`].
pub async fn run(
    config: Config,
    options: BuildOptions,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    start(&config, options).await?.serve(listener, shutdown).await
}

impl Application {
    /// The HTTP router over this application's use cases.
    pub fn router(&self) -> axum::Router {
        factus_web::router(self.state.clone(), &self.web)
    }

    /// Starts the background tasks and serves on `listener` until `shutdown` resolves; then lets
    /// in-flight requests finish (at most `SHUTDOWN_GRACE_SECS`), waits for the background tasks,
    /// and closes the database and the simulator.
    ///
    /// # Errors
    /// When the server fails (the background tasks are stopped and everything closed first).
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let router = self.router();
        let Self { database, state, simulator, background, shutdown_grace, http, .. } = self;
        let (stop, stopping) = Shutdown::new();
        let stop = Arc::new(stop);
        let tasks = background::spawn_all(&state, background, &stopping);
        drop(state);
        let address = listener.local_addr().context("the listener has no local address")?;
        tracing::info!(%address, database = database.backend_name(), "factus-api listening");
        let signalled = {
            let stop = Arc::clone(&stop);
            async move {
                shutdown.await;
                stop.trigger();
            }
        };
        let served = crate::http::serve(listener, router, http, signalled, shutdown_grace).await;
        stop.trigger();
        tasks.join().await;
        database.close().await;
        if let Some(simulator) = simulator {
            simulator.shutdown().await;
        }
        tracing::info!("factus-api stopped");
        served.context("the HTTP server failed")
    }
}

/// The gateway's configuration; with a simulator, its address and default credentials (and a
/// server session, so `X-Factus-Token` is optional offline) replace the configured ones.
fn gateway_config(config: &Config, simulator: Option<&Simulator>) -> FactusGatewayConfig {
    let factus = &config.factus;
    let mut gateway = match simulator {
        Some(simulator) => simulator.gateway_config(),
        None => {
            let gateway = FactusGatewayConfig::new(
                factus.base_url.clone(),
                factus.client_id.clone(),
                factus.client_secret.clone(),
            );
            match (&factus.username, &factus.password) {
                (Some(username), Some(password)) => {
                    gateway.with_server_credentials(username.expose_secret(), password.clone())
                }
                _ => gateway,
            }
        }
    };
    gateway = gateway.with_request_timeout(factus.timeout).with_api_version(factus.api_version);
    gateway.connect_timeout = factus.connect_timeout.min(factus.timeout);
    gateway.retry = RetryPolicy { max_attempts: factus.retry_max_attempts, ..RetryPolicy::default() };
    gateway.rate = RatePolicy::new(factus.rate_limit, factus.rate_window, factus.queue_wait);
    gateway.breaker = BreakerPolicy {
        consecutive_failures: factus.breaker_consecutive_failures,
        failure_rate_percent: factus.breaker_failure_rate_percent,
        window: factus.breaker_window,
        open_for: factus.breaker_open_for,
    };
    gateway
}

/// Creates `admin` on first start. In production the password must come from `ADMIN_PASSWORD`;
/// in development it falls back to `admin123`, with a loud warning.
///
/// # Errors
/// In production with no users and no `ADMIN_PASSWORD`; when the store fails.
pub async fn bootstrap_admin(config: &Config, users: &UserAdmin) -> anyhow::Result<()> {
    let password = match &config.admin_password {
        Some(password) => NewPassword::parse(password.expose_secret()).context("ADMIN_PASSWORD")?,
        None => {
            if users.list().await?.is_empty() && config.is_production() {
                anyhow::bail!(
                    "configuration error: ADMIN_PASSWORD is required in production to create the first admin \
                     (or create one with `factus-api user create`)"
                );
            }
            NewPassword::parse(DEVELOPMENT_ADMIN_PASSWORD).context("development admin password")?
        }
    };
    if users.bootstrap_admin(&password).await? {
        if config.admin_password.is_none() {
            tracing::warn!(
                "created the development admin 'admin' with the default password 'admin123': \
                 set ADMIN_PASSWORD or change it with `factus-api user set-password admin`"
            );
        } else {
            tracing::info!("created the first admin 'admin' from ADMIN_PASSWORD");
        }
    }
    Ok(())
}

/// A shutdown that several tasks (the HTTP server, the reconciler) wait for together.
#[derive(Debug, Clone)]
pub struct Shutdown(tokio::sync::watch::Receiver<bool>);

/// The trigger of a [`Shutdown`].
#[derive(Debug)]
pub struct ShutdownTrigger(tokio::sync::watch::Sender<bool>);

impl ShutdownTrigger {
    pub fn trigger(&self) {
        let _ = self.0.send(true);
    }
}

impl Shutdown {
    #[must_use]
    pub fn new() -> (ShutdownTrigger, Self) {
        let (sender, receiver) = tokio::sync::watch::channel(false);
        (ShutdownTrigger(sender), Self(receiver))
    }

    /// Resolves once the trigger fired (or was dropped).
    pub async fn wait(mut self) {
        let _ = self.0.wait_for(|stopped| *stopped).await;
    }
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM. The handlers are installed when this is *called*, not
/// when the future is first polled, so a signal that arrives right after start-up (an
/// orchestrator stopping a fresh instance) already shuts down gracefully.
///
/// # Errors
/// When the signal handlers cannot be installed.
#[cfg(unix)]
pub fn shutdown_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

/// Resolves on Ctrl-C.
///
/// # Errors
/// Never on this platform; the signature matches the Unix one.
#[cfg(not(unix))]
pub fn shutdown_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
