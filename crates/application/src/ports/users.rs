//! Persistence of local users and of failed login attempts.

use std::net::IpAddr;

use async_trait::async_trait;
use factus_domain::user::{User, Username};
use thiserror::Error;
use time::OffsetDateTime;

use crate::StoreError;

/// Why a user could not be inserted.
#[derive(Debug, Error)]
pub enum InsertUserError {
    /// Another user already has this username (compared case-insensitively).
    #[error("username {0} is already taken")]
    UsernameTaken(Username),
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

/// Where local users live. Implemented for Postgres and SQLite; both pass one contract suite.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Stores a new user.
    ///
    /// # Errors
    /// [`InsertUserError::UsernameTaken`] when the username exists; `Unexpected` otherwise.
    async fn insert(&self, user: &User) -> Result<(), InsertUserError>;

    /// The user with this username, or `None`.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be read.
    async fn find_by_username(&self, username: &Username) -> Result<Option<User>, StoreError>;

    /// Every user, ordered by username.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be read.
    async fn list(&self) -> Result<Vec<User>, StoreError>;

    /// Overwrites the mutable fields (password hash, role, disabled, `updated_at`) of the user with
    /// `user.id`. Returns `false` when no such user exists.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be written.
    async fn update(&self, user: &User) -> Result<bool, StoreError>;

    /// Deletes the user; returns `false` when no such user exists.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be written.
    async fn delete(&self, username: &Username) -> Result<bool, StoreError>;

    /// How many users exist (used to bootstrap the first admin).
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be read.
    async fn count(&self) -> Result<u64, StoreError>;

    /// How many enabled admins exist (so the last one cannot be removed).
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be read.
    async fn count_enabled_admins(&self) -> Result<u64, StoreError>;

    /// Checks the store answers (readiness probe).
    ///
    /// # Errors
    /// [`StoreError`] when it does not.
    async fn ping(&self) -> Result<(), StoreError>;
}

/// Failed logins inside the throttling window: by username (from anywhere), by username from
/// this client address (the pair), and by client address (any username).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FailureWindow {
    pub username_failures: u32,
    /// When the oldest failure for the username inside the window happened.
    pub username_oldest: Option<OffsetDateTime>,
    /// Failures of the username from this address; without an address, the username's failures
    /// that had no address either.
    pub pair_failures: u32,
    pub pair_oldest: Option<OffsetDateTime>,
    pub address_failures: u32,
    pub address_oldest: Option<OffsetDateTime>,
}

/// Failed login attempts, kept in the database so several instances throttle together.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait LoginAttemptStore: Send + Sync {
    /// Records one failed attempt (the username as typed, folded to lower case by the caller).
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be written.
    async fn record_failure(
        &self,
        username: &str,
        address: Option<IpAddr>,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Counts failures since `since` for the username, for the username from the address (a
    /// `None` address pairs with failures recorded without one), and for the address.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be read.
    async fn failures_since(
        &self,
        username: &str,
        address: Option<IpAddr>,
        since: OffsetDateTime,
    ) -> Result<FailureWindow, StoreError>;

    /// Forgets the failures of a username from one address (`None`: those recorded without an
    /// address) after it logged in from there. Failures from other addresses are kept: the
    /// real user logging in must not forgive an attacker elsewhere.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be written.
    async fn clear_failures(&self, username: &str, address: Option<IpAddr>) -> Result<(), StoreError>;

    /// Deletes failures older than `before` (housekeeping).
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be written.
    async fn prune(&self, before: OffsetDateTime) -> Result<u64, StoreError>;
}
