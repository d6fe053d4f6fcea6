//! Logging in, authenticating a bearer token, and changing one's own password.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use factus_domain::user::{NewPassword, User, Username};
use thiserror::Error;
use time::OffsetDateTime;

use crate::StoreError;
use crate::ports::{IssuedToken, LoginAttemptStore, PasswordHasher, TokenService, UserStore};

/// How failed logins are throttled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures for one username inside the window before further attempts are refused.
    pub max_failures_per_username: u32,
    /// Failures from one client address inside the window before further attempts are refused.
    pub max_failures_per_address: u32,
    pub window: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self { max_failures_per_username: 5, max_failures_per_address: 20, window: Duration::from_secs(15 * 60) }
    }
}

#[derive(Debug, Error)]
pub enum LoginError {
    #[error("incorrect username or password")]
    InvalidCredentials,
    #[error("too many failed login attempts")]
    Throttled { retry_after: Duration },
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

#[derive(Debug, Error)]
pub enum AuthenticateError {
    /// Forged, expired, or for a user that no longer exists or is disabled.
    #[error("could not validate credentials")]
    InvalidToken,
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

#[derive(Debug, Error)]
pub enum ChangePasswordError {
    #[error("current password is incorrect")]
    WrongCurrentPassword,
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

/// Authentication use cases.
pub struct AuthService {
    users: Arc<dyn UserStore>,
    attempts: Arc<dyn LoginAttemptStore>,
    hasher: Arc<dyn PasswordHasher>,
    tokens: Arc<dyn TokenService>,
    throttle: ThrottlePolicy,
    cache: UserCache,
}

impl AuthService {
    /// `user_cache_ttl` bounds how long a looked-up user is reused when authenticating tokens;
    /// `Duration::ZERO` reads the store on every request. Changes made through this process
    /// evict the entry at once; other instances see them after at most the TTL.
    pub fn new(
        users: Arc<dyn UserStore>,
        attempts: Arc<dyn LoginAttemptStore>,
        hasher: Arc<dyn PasswordHasher>,
        tokens: Arc<dyn TokenService>,
        throttle: ThrottlePolicy,
        user_cache_ttl: Duration,
    ) -> Self {
        Self { users, attempts, hasher, tokens, throttle, cache: UserCache::new(user_cache_ttl) }
    }

    /// Checks a username and password and issues an access token.
    ///
    /// An unknown username is verified against a dummy hash so that it costs the same time as a
    /// wrong password, and both answer the same [`LoginError::InvalidCredentials`].
    ///
    /// # Errors
    /// [`LoginError::Throttled`] after too many failures for the username or the address inside
    /// the window; [`LoginError::InvalidCredentials`]; `Unexpected` when a store fails.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        address: Option<IpAddr>,
    ) -> Result<IssuedToken, LoginError> {
        let attempted = username.trim().to_lowercase();
        let now = OffsetDateTime::now_utc();
        let window = time::Duration::try_from(self.throttle.window).unwrap_or(time::Duration::HOUR);
        // The attempt counts as a failure *before* the (slow) password check and is forgotten
        // only on success. Counting first and recording after would let every guess that
        // arrives at once through the check; recorded first, the database orders them, and the
        // sixth concurrent guess already sees five others.
        self.attempts.record_failure(&attempted, address, now).await?;
        let failures = self.attempts.failures_since(&attempted, address, now - window).await?;
        if let Some(retry_after) = self.retry_after(&failures, now, window) {
            tracing::warn!(username = %attempted, ?address, "login throttled");
            return Err(LoginError::Throttled { retry_after });
        }

        let user = match Username::parse(&attempted) {
            Ok(name) => self.users.find_by_username(&name).await?,
            Err(_) => None,
        };
        let hash = user.as_ref().map_or_else(|| self.hasher.dummy_hash(), |u| u.password_hash.clone());
        let matches = self.hasher.verify(password, &hash).await?;

        match user {
            Some(user) if matches && !user.disabled => {
                self.attempts.clear_username(&attempted).await?;
                self.tokens
                    .issue(user.username.as_str())
                    .map_err(|error| LoginError::Unexpected(StoreError(anyhow::anyhow!(error))))
            }
            _ => {
                tracing::info!(username = %attempted, ?address, "login failed");
                Err(LoginError::InvalidCredentials)
            }
        }
    }

    fn retry_after(
        &self,
        failures: &crate::ports::FailureWindow,
        now: OffsetDateTime,
        window: time::Duration,
    ) -> Option<Duration> {
        // The counts include the attempt being made, so the limit itself is still allowed.
        let over_username = failures.username_failures > self.throttle.max_failures_per_username;
        let over_address = failures.address_failures > self.throttle.max_failures_per_address;
        let oldest = match (over_username, over_address) {
            (false, false) => return None,
            (true, false) => failures.username_oldest,
            (false, true) => failures.address_oldest,
            (true, true) => failures.username_oldest.max(failures.address_oldest),
        };
        let wait = oldest.map_or(window, |oldest| oldest + window - now);
        let seconds = u64::try_from(wait.whole_seconds()).unwrap_or(0).max(1);
        Some(Duration::from_secs(seconds))
    }

    /// The user a bearer token belongs to.
    ///
    /// # Errors
    /// [`AuthenticateError::InvalidToken`] when the token is refused or its user is unknown or
    /// disabled; `Unexpected` when the store fails.
    pub async fn authenticate(&self, token: &str) -> Result<User, AuthenticateError> {
        let claims = self.tokens.verify(token).map_err(|_| AuthenticateError::InvalidToken)?;
        let username = Username::parse(&claims.subject).map_err(|_| AuthenticateError::InvalidToken)?;
        let user = match self.cache.get(&username) {
            Some(user) => Some(user),
            None => {
                let found = self.users.find_by_username(&username).await?;
                if let Some(user) = &found {
                    self.cache.put(user.clone());
                }
                found
            }
        };
        match user {
            Some(user) if !user.disabled => Ok(user),
            _ => Err(AuthenticateError::InvalidToken),
        }
    }

    /// Changes the password of `user` after checking the current one.
    ///
    /// # Errors
    /// [`ChangePasswordError::WrongCurrentPassword`]; `Unexpected` when a store fails.
    pub async fn change_password(
        &self,
        user: &User,
        current: &str,
        new_password: &NewPassword,
    ) -> Result<(), ChangePasswordError> {
        if !self.hasher.verify(current, &user.password_hash).await? {
            return Err(ChangePasswordError::WrongCurrentPassword);
        }
        let mut updated = user.clone();
        updated.password_hash = self.hasher.hash(new_password).await?;
        updated.updated_at = crate::clock::now();
        self.users.update(&updated).await?;
        self.cache.evict(&user.username);
        Ok(())
    }

    /// Forgets a cached user after it changed (called by user administration).
    pub fn evict_cached(&self, username: &Username) {
        self.cache.evict(username);
    }
}

/// A small time-bounded cache of users by name, so that authenticating a token does not cost a
/// database round trip on every request.
struct UserCache {
    ttl: Duration,
    entries: Mutex<HashMap<Username, (User, Instant)>>,
}

impl UserCache {
    /// Beyond this many entries the cache is emptied; it only holds active users.
    const CAPACITY: usize = 10_000;

    fn new(ttl: Duration) -> Self {
        Self { ttl, entries: Mutex::new(HashMap::new()) }
    }

    fn get(&self, username: &Username) -> Option<User> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.get(username).filter(|(_, stored_at)| stored_at.elapsed() < self.ttl).map(|(user, _)| user.clone())
    }

    fn put(&self, user: User) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= Self::CAPACITY {
            entries.clear();
        }
        entries.insert(user.username.clone(), (user, Instant::now()));
    }

    fn evict(&self, username: &Username) {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.remove(username);
    }
}
