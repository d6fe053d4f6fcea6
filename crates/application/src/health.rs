//! Liveness and readiness.

use std::sync::Arc;

use crate::factus::{CircuitState, FactusApiVersion, FactusStatus};
use crate::numbering_ranges::{NumberingRangeWatch, RangeWarning};
use crate::ports::UserStore;

/// How the database answered the readiness probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseHealth {
    /// It answers and accepts writes.
    Ok,
    /// It does not answer within the acquire timeout, or its storage fails (file gone, disk
    /// full, directory unwritable).
    Unreachable,
    /// It answers but refuses writes (a standby after a fail-over, read-only transactions).
    ReadOnly,
}

/// What the readiness probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    /// Whether the database answers and accepts writes.
    pub database_ok: bool,
    pub database: DatabaseHealth,
    /// The circuit breaker in front of Factus. Reported, but it does not make the instance
    /// unready: every instance shares the same Factus, so taking them out of the load balancer
    /// would only turn "invoices fail fast with 503" into "nothing answers at all" (users, the
    /// ledger and the docs keep working while Factus is down).
    pub factus_circuit: CircuitState,
    /// The Factus API version in use (informative).
    pub factus_api_version: FactusApiVersion,
    /// Numbering ranges that have expired or run out, or soon will. Reported, but they do not
    /// make the instance unready: everything else (other ranges, users, the ledger) still works,
    /// and the point is to warn *before* invoicing stops.
    pub warnings: Vec<RangeWarning>,
}

impl Readiness {
    #[must_use]
    pub fn is_ready(&self) -> bool {
        self.database_ok
    }
}

/// Checks the parts the service cannot work without.
pub struct HealthService {
    users: Arc<dyn UserStore>,
    factus: Arc<dyn FactusStatus>,
    ranges: Arc<NumberingRangeWatch>,
}

impl HealthService {
    pub fn new(users: Arc<dyn UserStore>, factus: Arc<dyn FactusStatus>, ranges: Arc<NumberingRangeWatch>) -> Self {
        Self { users, factus, ranges }
    }

    /// Probes the database (it must answer *and* accept writes: every create writes the ledger
    /// first); a failure is logged here and reported as not ready.
    pub async fn readiness(&self) -> Readiness {
        let database = match self.users.ping().await {
            Ok(()) => DatabaseHealth::Ok,
            Err(error) => {
                let read_only = error.unavailability().is_some_and(|unavailable| unavailable.read_only);
                tracing::warn!(error = format!("{error:#}"), read_only, "readiness: database not usable");
                if read_only { DatabaseHealth::ReadOnly } else { DatabaseHealth::Unreachable }
            }
        };
        Readiness {
            database_ok: database == DatabaseHealth::Ok,
            database,
            factus_circuit: self.factus.circuit_state(),
            factus_api_version: self.factus.api_version(),
            warnings: self.ranges.warnings(),
        }
    }
}
