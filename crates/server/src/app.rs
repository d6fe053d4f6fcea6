//! The composition root: builds adapters and use cases from the configuration, and serves.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use factus_application::auth::{AuthService, ThrottlePolicy};
use factus_application::health::HealthService;
use factus_application::users::UserAdmin;
use factus_domain::user::NewPassword;
use factus_infrastructure::db::Database;
use factus_infrastructure::jwt::JwtTokenService;
use factus_infrastructure::password::Argon2Hasher;
use factus_web::{AppState, WebConfig};
use secrecy::ExposeSecret;
use tokio::net::TcpListener;

use crate::config::Config;

/// The password of the development admin when `ADMIN_PASSWORD` is not set (as in the reference).
pub const DEVELOPMENT_ADMIN_PASSWORD: &str = "admin123";

/// Everything a running service holds.
pub struct Application {
    pub database: Database,
    pub state: AppState,
    pub web: WebConfig,
}

/// Connects the database, runs migrations, and builds the use cases.
///
/// # Errors
/// When the database cannot be reached or migrated, or a component cannot be built.
pub async fn build(config: &Config) -> anyhow::Result<Application> {
    let database = Database::connect(&config.database_url, config.database_max_connections)
        .await
        .context("could not connect to the database (DATABASE_URL)")?;
    database.migrate().await.context("could not run database migrations")?;

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
    let state = AppState {
        auth,
        users: user_admin,
        health: Arc::new(HealthService::new(users)),
        metrics: Some(crate::telemetry::init_metrics()),
    };
    let web = WebConfig {
        api_prefix: config.api_prefix.clone(),
        project_name: config.project_name.clone(),
        version: config.version.clone(),
        cors_origins: config.cors_origins.clone(),
    };
    Ok(Application { database, state, web })
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

/// Serves `router` on `listener` until `shutdown` resolves, then lets in-flight requests finish
/// for at most `grace`.
///
/// # Errors
/// When the server fails; a grace period running out is logged, not an error.
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: std::time::Duration,
) -> std::io::Result<()> {
    let (signalled_tx, signalled_rx) = tokio::sync::watch::channel(false);
    let server = axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("shutting down: no new connections, finishing in-flight requests");
            let _ = signalled_tx.send(true);
        });
    let mut server = std::pin::pin!(server.into_future());
    let mut signalled = signalled_rx;
    tokio::select! {
        result = &mut server => return result,
        _ = signalled.wait_for(|signalled| *signalled) => {}
    }
    match tokio::time::timeout(grace, server).await {
        Ok(result) => result,
        Err(_) => {
            tracing::warn!(grace_secs = grace.as_secs(), "grace period over, dropping remaining connections");
            Ok(())
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "could not listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "could not listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
