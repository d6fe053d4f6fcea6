//! Liveness and readiness.

use std::sync::Arc;

use crate::ports::UserStore;

/// What the readiness probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    pub database_ok: bool,
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
}

impl HealthService {
    pub fn new(users: Arc<dyn UserStore>) -> Self {
        Self { users }
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
        Readiness { database_ok }
    }
}
