//! Factus' `POST /oauth/token`: the password and refresh-token grants, form-encoded exactly as the
//! reference sends them (`docs/contract.md` §2.2, §2.3).

use factus_application::factus::{FactusError, FactusOperation, FactusToken};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};

use super::messages::{body_excerpt, oauth_error_message};
use super::responses;
use super::transport::{Body, Endpoint, Reply, Request, TOKEN_ENDPOINT, Transport, form_encode};

/// Both grants change nothing a retry could duplicate, so they are retried like reads.
const TOKEN: Endpoint = Endpoint { name: TOKEN_ENDPOINT, idempotent: true };

/// Our OAuth client at Factus.
#[derive(Debug)]
pub(crate) struct OAuthClient {
    client_id: String,
    client_secret: SecretString,
}

impl OAuthClient {
    pub(crate) fn new(client_id: String, client_secret: SecretString) -> Self {
        Self { client_id, client_secret }
    }

    /// `grant_type=password&client_id=…&client_secret=…&username=…&password=…`.
    pub(crate) async fn password_grant(
        &self,
        transport: &Transport,
        username: &str,
        password: &SecretString,
    ) -> Result<FactusToken, FactusError> {
        let grant = [("username", username), ("password", password.expose_secret())];
        self.token(transport, "password", &grant, FactusOperation::Login).await
    }

    /// `grant_type=refresh_token&client_id=…&client_secret=…&refresh_token=…`.
    pub(crate) async fn refresh_grant(
        &self,
        transport: &Transport,
        refresh_token: &SecretString,
    ) -> Result<FactusToken, FactusError> {
        let grant = [("refresh_token", refresh_token.expose_secret())];
        self.token(transport, "refresh_token", &grant, FactusOperation::Refresh).await
    }

    /// Posts the form `grant_type=<grant_type>&client_id=…&client_secret=…` followed by the
    /// grant's own fields, and reads the token Factus answers.
    async fn token(
        &self,
        transport: &Transport,
        grant_type: &str,
        grant: &[(&str, &str)],
        operation: FactusOperation,
    ) -> Result<FactusToken, FactusError> {
        let mut form = vec![
            ("grant_type", grant_type),
            ("client_id", &self.client_id),
            ("client_secret", self.client_secret.expose_secret()),
        ];
        form.extend_from_slice(grant);
        let body = Body::Form(SecretString::from(form_encode(&form)));
        let url = transport.url(&["oauth", "token"], &[])?;
        let request = Request { endpoint: TOKEN, method: Method::POST, url, bearer: None, body: &body };
        let Reply { status, body: answer } = transport.send(&request).await?;
        if status.is_success() {
            return responses::token(&answer);
        }
        // The form holds the client secret and the password: only the grant is logged.
        tracing::debug!(
            endpoint = TOKEN.name,
            grant = ?operation,
            status = status.as_u16(),
            upstream_body = %body_excerpt(&answer),
            "factus refused a token request"
        );
        let message = oauth_error_message(status.as_u16(), &answer, &operation.default_message());
        Err(super::failure(status, message))
    }
}
