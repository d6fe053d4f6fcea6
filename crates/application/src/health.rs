//! Liveness and readiness.

use std::sync::Arc;

use crate::factus::{CircuitState, FactusApiVersion, FactusStatus};
use crate::ports::UserStore;

/// What the readiness probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    pub database_ok: bool,
    /// The circuit breaker in front of Factus. Reported, but it does not make the instance
    /// unready: every instance shares the same Factus, so taking them out of the load balancer
    /// would only turn "invoices fail fast with 503" into "nothing answers at all" (users, the
    /// ledger and the docs keep working while Factus is down).
    pub factus_circuit: CircuitState,
    /// The Factus API version in use (informative).
    pub factus_api_version: FactusApiVersion,
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
}

impl HealthService {
    pub fn new(users: Arc<dyn UserStore>, factus: Arc<dyn FactusStatus>) -> Self {
        Self { users, factus }
    }

    /// Pings the database; a failure is logged here and reported as not ready.
    pub async fn readiness(&self) -> Readiness {
        let database_ok = match self.users.ping().await {
            Ok(()) => true,
            Err(error) => {
                tracing::warn!(error = format!("{error:#}"), "readiness: database unreachable");
                false
            }
        };
        Readiness {
            database_ok,
            factus_circuit: self.factus.circuit_state(),
            factus_api_version: self.factus.api_version(),
        }
    }
}
