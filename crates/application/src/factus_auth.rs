//! Getting and refreshing a Factus token for a client (`/auth/factus/login`, `/auth/factus/refresh`).
//!
//! The client then sends the token back in `X-Factus-Token`. The server's own session (when it has
//! Factus credentials) is kept by the gateway adapter and never goes through here.

use std::sync::Arc;

use crate::factus::{FactusAuthGateway, FactusFailure, FactusOperation, FactusToken};
use secrecy::SecretString;

/// Factus token use cases for clients that hold their own Factus account.
pub struct FactusAuthService {
    gateway: Arc<dyn FactusAuthGateway>,
}

impl FactusAuthService {
    pub fn new(gateway: Arc<dyn FactusAuthGateway>) -> Self {
        Self { gateway }
    }

    /// Exchanges a Factus user's e-mail and password for a token.
    ///
    /// # Errors
    /// [`FactusFailure`] of [`FactusOperation::Login`]: `Rejected` when Factus refuses the
    /// credentials (its reason as the message), else why Factus could not answer.
    pub async fn login(&self, email: &str, password: &SecretString) -> Result<FactusToken, FactusFailure> {
        let token = self.gateway.login(email, password).await.map_err(FactusFailure::of(FactusOperation::Login))?;
        tracing::info!(expires_in = token.expires_in, "factus token issued to a client");
        Ok(token)
    }

    /// Exchanges a refresh token for a new token.
    ///
    /// # Errors
    /// [`FactusFailure`] of [`FactusOperation::Refresh`]: `Rejected` when Factus refuses the
    /// refresh token (expired, revoked, unknown), else why Factus could not answer.
    pub async fn refresh(&self, refresh_token: &SecretString) -> Result<FactusToken, FactusFailure> {
        let token = self.gateway.refresh(refresh_token).await.map_err(FactusFailure::of(FactusOperation::Refresh))?;
        tracing::info!(expires_in = token.expires_in, "factus token refreshed for a client");
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;
    use crate::factus::{FactusError, MockFactusAuthGateway};

    fn token() -> FactusToken {
        FactusToken {
            access_token: SecretString::from("AT"),
            token_type: "Bearer".into(),
            expires_in: 3600,
            refresh_token: None,
        }
    }

    fn service(gateway: MockFactusAuthGateway) -> FactusAuthService {
        FactusAuthService::new(Arc::new(gateway))
    }

    /// The failure of a login Factus answers with `error`.
    async fn failed_login(error: FactusError) -> FactusFailure {
        let mut gateway = MockFactusAuthGateway::new();
        gateway.expect_login().return_once(move |_, _| Err(error));
        service(gateway).login("a@b.co", &SecretString::from("x")).await.unwrap_err()
    }

    /// The failure of a refresh Factus answers with `error`.
    async fn failed_refresh(error: FactusError) -> FactusFailure {
        let mut gateway = MockFactusAuthGateway::new();
        gateway.expect_refresh().return_once(move |_| Err(error));
        service(gateway).refresh(&SecretString::from("RT")).await.unwrap_err()
    }

    #[tokio::test]
    async fn login_passes_the_credentials_to_factus_and_returns_its_token() {
        let mut gateway = MockFactusAuthGateway::new();
        gateway
            .expect_login()
            .withf(|email, password| email == "sandbox@factus.com.co" && password.expose_secret() == "sandbox2024%")
            .times(1)
            .returning(|_, _| Ok(token()));

        let issued = service(gateway)
            .login("sandbox@factus.com.co", &SecretString::from("sandbox2024%"))
            .await
            .expect("login succeeds");

        assert_eq!(issued.access_token.expose_secret(), "AT");
        assert_eq!(issued.expires_in, 3600);
        assert!(issued.refresh_token.is_none());
    }

    #[tokio::test]
    async fn login_refused_by_factus_is_refused_with_its_message() {
        let error = failed_login(FactusError::Rejected { status: 401, message: "Invalid credentials".into() }).await;

        assert!(
            error.operation == FactusOperation::Login
                && matches!(&error.error, FactusError::Rejected { status: 401, message } if message == "Invalid credentials"),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn login_while_factus_is_down_is_an_upstream_failure() {
        let error = failed_login(FactusError::Timeout).await;

        assert!(matches!(error.error, FactusError::Timeout), "{error:?}");
    }

    #[tokio::test]
    async fn login_failing_for_an_unknown_reason_is_unexpected() {
        let error = failed_login(FactusError::Unexpected(anyhow::anyhow!("boom"))).await;

        assert!(matches!(error.error, FactusError::Unexpected(_)), "{error:?}");
    }

    #[tokio::test]
    async fn refresh_passes_the_refresh_token_and_returns_the_new_token() {
        let mut gateway = MockFactusAuthGateway::new();
        gateway
            .expect_refresh()
            .withf(|refresh| refresh.expose_secret() == "RT")
            .times(1)
            .returning(|_| Ok(FactusToken { refresh_token: Some(SecretString::from("RT2")), ..token() }));

        let issued = service(gateway).refresh(&SecretString::from("RT")).await.expect("refresh succeeds");

        assert_eq!(issued.refresh_token.as_ref().map(ExposeSecret::expose_secret), Some("RT2"));
    }

    #[tokio::test]
    async fn refresh_with_a_refused_token_is_refused_with_factus_message() {
        let error =
            failed_refresh(FactusError::Rejected { status: 400, message: "The refresh token is invalid.".into() })
                .await;

        assert!(
            error.operation == FactusOperation::Refresh
                && matches!(&error.error, FactusError::Rejected { status: 400, message } if message == "The refresh token is invalid."),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn refresh_behind_an_open_circuit_is_an_upstream_failure() {
        let error = failed_refresh(FactusError::CircuitOpen).await;

        assert!(matches!(error.error, FactusError::CircuitOpen), "{error:?}");
    }

    #[tokio::test]
    async fn refresh_failing_for_an_unknown_reason_is_unexpected() {
        let error = failed_refresh(FactusError::Unexpected(anyhow::anyhow!("boom"))).await;

        assert!(matches!(error.error, FactusError::Unexpected(_)), "{error:?}");
    }
}
