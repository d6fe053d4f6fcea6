//! Liveness, readiness and metrics.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use factus_application::clock;
use factus_application::factus::CircuitState;
use factus_application::health::DatabaseHealth;
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

use crate::state::AppState;

/// `{"status": "ok"}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthResponse {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// What the readiness probe checked.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadinessResponse {
    /// `ok` or `unavailable`.
    pub status: &'static str,
    /// `ok`, `unreachable` (no answer within the acquire timeout, or its storage fails: file
    /// gone, disk full) or `read_only` (it answers but refuses writes).
    pub database: &'static str,
    /// The circuit breaker in front of Factus: `closed`, `open` or `half_open`. An open circuit
    /// does not make the instance unready (see `Readiness`).
    pub factus_circuit: &'static str,
    /// The Factus API version calls go to: `v1` or `v2` (with `FACTUS_API_VERSION=auto`, the one
    /// the Factus account accepted).
    #[schema(example = "v2")]
    pub factus_api_version: &'static str,
    /// Numbering ranges that have expired or run out, or will soon (`NUMBERING_RANGE_WARN_DAYS`,
    /// `NUMBERING_RANGE_WARN_REMAINING`). They do not make the instance unready.
    pub warnings: Vec<ReadinessWarning>,
    /// Creates waiting for the Factus budget (`null` when the database is unreachable). A long
    /// queue does not make the instance unready: it is how a rush is absorbed.
    pub queue: Option<QueueReadiness>,
}

/// The queue of creates waiting for the Factus budget.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueReadiness {
    /// How many creates wait.
    #[schema(example = 12)]
    pub depth: u64,
    /// When the oldest waiting create arrived (RFC 3339); `null` when none waits.
    pub oldest_queued_at: Option<String>,
    /// How long it has waited, in whole seconds; `null` when none waits.
    #[schema(example = 41)]
    pub oldest_age_secs: Option<u64>,
}

/// Something an operator should act on before it stops invoicing.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadinessWarning {
    /// `numbering_range_expired`, `numbering_range_used_up`, `numbering_range_expires_soon` or
    /// `numbering_range_running_out`.
    #[schema(example = "numbering_range_expires_soon")]
    pub code: &'static str,
    /// What is wrong, naming the range.
    #[schema(example = "El rango de numeración SETP (id 8) vence el 2026-12-20 (en 19 días)")]
    pub message: String,
    #[schema(example = 8)]
    pub numbering_range_id: i64,
    #[schema(example = "SETP")]
    pub prefix: String,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/health", tag = "health",
    responses((status = 200, description = "Alive", body = HealthResponse, example = json!({"status": "ok"}))))]
pub async fn health() -> Json<HealthResponse> {
    Json(HealthResponse { status: "ok" })
}

/// Readiness: the database answers (503 when it does not).
#[utoipa::path(get, path = "/health/ready", tag = "health",
    responses(
        (status = 200, description = "Ready", body = ReadinessResponse),
        (status = 503, description = "A dependency is down", body = ReadinessResponse),
    ))]
pub async fn ready(State(state): State<AppState>) -> Response {
    let readiness = state.health.readiness().await;
    let ready = readiness.is_ready();
    // The queue is read only from a database that just answered: one that does not would hold
    // the probe for a second acquire timeout (storage_faults.rs caught it).
    let queue_stats = match readiness.database {
        DatabaseHealth::Ok | DatabaseHealth::ReadOnly => state.issuance.queue_stats().await.ok(),
        DatabaseHealth::Unreachable => None,
    };
    let queue = queue_stats.map(|stats| QueueReadiness {
        depth: stats.depth,
        oldest_queued_at: stats.oldest_created_at.and_then(|at| at.format(&Rfc3339).ok()),
        oldest_age_secs: stats
            .oldest_created_at
            .map(|at| u64::try_from((clock::now() - at).whole_seconds()).unwrap_or(0)),
    });
    let body = ReadinessResponse {
        status: if ready { "ok" } else { "unavailable" },
        database: match readiness.database {
            DatabaseHealth::Ok => "ok",
            DatabaseHealth::Unreachable => "unreachable",
            DatabaseHealth::ReadOnly => "read_only",
        },
        factus_circuit: match readiness.factus_circuit {
            CircuitState::Closed => "closed",
            CircuitState::Open => "open",
            CircuitState::HalfOpen => "half_open",
        },
        factus_api_version: readiness.factus_api_version.as_str(),
        warnings: readiness
            .warnings
            .into_iter()
            .map(|warning| ReadinessWarning {
                code: warning.problem.as_str(),
                message: warning.message,
                numbering_range_id: warning.range_id,
                prefix: warning.prefix,
            })
            .collect(),
        queue,
    };
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(body)).into_response()
}

/// Prometheus text exposition.
pub async fn metrics(State(state): State<AppState>) -> Response {
    match &state.metrics {
        Some(handle) => {
            ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], handle.render()).into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
