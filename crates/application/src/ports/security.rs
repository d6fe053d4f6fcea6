//! Password hashing and access tokens.

use async_trait::async_trait;
use factus_domain::user::{NewPassword, PasswordHash};
use thiserror::Error;
use time::OffsetDateTime;

/// Hashes and verifies passwords. Implementations run the (deliberately slow) hash off the async
/// workers, with a bound on how many run at once, so a login flood cannot stall other requests.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    /// Hashes a new password.
    ///
    /// # Errors
    /// `anyhow`-wrapped failure when the hashing pool is gone or the hasher fails.
    async fn hash(&self, password: &NewPassword) -> Result<PasswordHash, crate::StoreError>;

    /// Whether `password` matches `hash`. A malformed hash counts as "no match".
    ///
    /// # Errors
    /// When the hashing pool is gone.
    async fn verify(&self, password: &str, hash: &PasswordHash) -> Result<bool, crate::StoreError>;

    /// A valid hash of a random password with the same parameters, verified against when the user
    /// does not exist, so that an unknown username costs the same time as a wrong password.
    fn dummy_hash(&self) -> PasswordHash;
}

/// A freshly issued access token.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedToken {
    pub access_token: String,
    pub expires_in_seconds: i64,
}

impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedToken")
            .field("access_token", &"<redacted>")
            .field("expires_in_seconds", &self.expires_in_seconds)
            .finish()
    }
}

/// What a valid token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// The username the token was issued to.
    pub subject: String,
    pub issued_at: Option<OffsetDateTime>,
    pub expires_at: OffsetDateTime,
    /// The user's [`factus_domain::user::User::token_version`] when the token was issued;
    /// tokens from before versions existed carry none and count as version 0.
    pub token_version: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TokenError {
    /// Expired, forged, of another algorithm, malformed, or without a subject.
    #[error("token is not valid")]
    Invalid,
    #[error("token could not be issued: {0}")]
    Issue(String),
}

/// Issues and verifies local access tokens (HS256 JWTs in production).
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait TokenService: Send + Sync {
    /// Issues a token for `subject` at the user's current `token_version`.
    ///
    /// # Errors
    /// [`TokenError::Issue`] when signing fails.
    fn issue(&self, subject: &str, token_version: i64) -> Result<IssuedToken, TokenError>;

    /// Verifies signature, algorithm and expiry.
    ///
    /// # Errors
    /// [`TokenError::Invalid`] for any token that must be refused.
    fn verify(&self, token: &str) -> Result<Claims, TokenError>;
}
