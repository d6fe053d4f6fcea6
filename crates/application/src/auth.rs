//! Logging in, authenticating a bearer token, and changing one's own password.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use factus_domain::user::{NewPassword, User, Username};
use thiserror::Error;
use time::OffsetDateTime;

use crate::StoreError;
use crate::ports::{IssuedToken, LoginAttemptStore, PasswordHasher, TokenService, UserStore};
use crate::ttl_cache::TtlCache;

/// How failed logins (and failed current-password checks) are throttled.
///
/// A lockout per username alone would let anybody lock the real user out by typing wrong
/// passwords (OWASP: lockout must not become a denial of service). So the lock is per
/// (username, client address) and per address; the username alone only earns a growing
/// delay, which slows distributed guessing but lets the right password from another address in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures for one username from one address inside the window before further attempts
    /// from there are refused.
    pub max_failures_per_username_and_address: u32,
    /// Failures from one client address inside the window before further attempts are refused.
    pub max_failures_per_address: u32,
    /// Failures for one username (from anywhere) after which every attempt waits…
    pub username_delay_after: u32,
    /// …this long, doubling with every further failure…
    pub username_delay_base: Duration,
    /// …up to this.
    pub username_delay_max: Duration,
    pub window: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            max_failures_per_username_and_address: 5,
            max_failures_per_address: 20,
            username_delay_after: 5,
            username_delay_base: Duration::from_millis(250),
            username_delay_max: Duration::from_secs(10),
            window: Duration::from_secs(15 * 60),
        }
    }
}

impl ThrottlePolicy {
    /// The wait before the password check once a username has `failures` failures in the
    /// window (this attempt included).
    #[must_use]
    pub fn username_delay(&self, failures: u32) -> Duration {
        let Some(over) = failures.checked_sub(self.username_delay_after).filter(|over| *over > 0) else {
            return Duration::ZERO;
        };
        let factor = 1_u32 << (over - 1).min(16);
        self.username_delay_base.saturating_mul(factor).min(self.username_delay_max)
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
    /// Too many wrong current passwords (a stolen token guessing it), counted like logins.
    #[error("too many failed password checks")]
    Throttled { retry_after: Duration },
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
    /// Users by name, so that authenticating a token does not cost a database round trip on
    /// every request; it only holds active users.
    cache: TtlCache<Username, User>,
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
        Self { users, attempts, hasher, tokens, throttle, cache: TtlCache::new(user_cache_ttl) }
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
        if let Err(retry_after) = self.count_attempt(&attempted, address).await? {
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
                self.attempts.clear_failures(&attempted, address).await?;
                self.tokens
                    .issue(user.username.as_str(), user.token_version)
                    .map_err(|error| LoginError::Unexpected(StoreError(anyhow::anyhow!(error))))
            }
            _ => {
                tracing::info!(username = %attempted, ?address, "login failed");
                Err(LoginError::InvalidCredentials)
            }
        }
    }

    /// Forgets the failed logins that fell out of the throttling window before `now`: they can no
    /// longer throttle anybody, and without this the table grows with every failed login.
    ///
    /// # Errors
    /// `StoreError` when the store cannot be written.
    pub async fn prune_login_failures(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let window = time::Duration::try_from(self.throttle.window).unwrap_or(time::Duration::HOUR);
        self.attempts.prune(now - window).await
    }

    /// Records an attempt as a failure *before* the (slow) password check; it is forgotten
    /// only on success. Counting first and recording after would let every guess that arrives
    /// at once through the check; recorded first, the database orders them, and the sixth
    /// concurrent guess already sees five others. Then either refuses the attempt (`Err` with
    /// the wait) or lets it through after the username's growing delay.
    async fn count_attempt(&self, username: &str, address: Option<IpAddr>) -> Result<Result<(), Duration>, StoreError> {
        let now = OffsetDateTime::now_utc();
        let window = time::Duration::try_from(self.throttle.window).unwrap_or(time::Duration::HOUR);
        self.attempts.record_failure(username, address, now).await?;
        let failures = self.attempts.failures_since(username, address, now - window).await?;
        if let Some(retry_after) = self.retry_after(&failures, now, window) {
            return Ok(Err(retry_after));
        }
        let delay = self.throttle.username_delay(failures.username_failures);
        if !delay.is_zero() {
            tracing::info!(username = %username, delay_ms = delay.as_millis(), "password check delayed");
            tokio::time::sleep(delay).await;
        }
        Ok(Ok(()))
    }

    fn retry_after(
        &self,
        failures: &crate::ports::FailureWindow,
        now: OffsetDateTime,
        window: time::Duration,
    ) -> Option<Duration> {
        // The counts include the attempt being made, so the limit itself is still allowed.
        let over_pair = failures.pair_failures > self.throttle.max_failures_per_username_and_address;
        let over_address = failures.address_failures > self.throttle.max_failures_per_address;
        let oldest = match (over_pair, over_address) {
            (false, false) => return None,
            (true, false) => failures.pair_oldest,
            (false, true) => failures.address_oldest,
            (true, true) => failures.pair_oldest.max(failures.address_oldest),
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
        let user = self.cached_user(&username).await?;
        // A token names its user only by username; one issued before the user was created
        // belonged to a deleted namesake and must not open the new account.
        let issued_before_user = |user: &User| {
            claims.issued_at.is_some_and(|issued_at| issued_at.unix_timestamp() < user.created_at.unix_timestamp())
        };
        // A password change or reset, a disable or a role change moved the user's version on:
        // every token issued before it is refused (on other instances once their cached copy
        // of the user expires, `AUTH_USER_CACHE_SECS`).
        let current_version = |user: &User| claims.token_version.unwrap_or(0) == user.token_version;
        match user {
            Some(user) if !user.disabled && !issued_before_user(&user) && current_version(&user) => Ok(user),
            _ => Err(AuthenticateError::InvalidToken),
        }
    }

    /// The enabled user with this name, read through the user cache (API keys use this too, so
    /// that disabling a user here refuses their keys at once, and elsewhere within the TTL).
    ///
    /// # Errors
    /// When the store fails.
    pub async fn active_user(&self, username: &Username) -> Result<Option<User>, StoreError> {
        Ok(self.cached_user(username).await?.filter(|user| !user.disabled))
    }

    async fn cached_user(&self, username: &Username) -> Result<Option<User>, StoreError> {
        if let Some(user) = self.cache.get(username) {
            return Ok(Some(user));
        }
        let found = self.users.find_by_username(username).await?;
        if let Some(user) = &found {
            self.cache.put(user.username.clone(), user.clone());
        }
        Ok(found)
    }

    /// Changes the password of `user` after checking the current one. Wrong current passwords
    /// are throttled like logins (same counters), so a stolen token cannot guess it.
    ///
    /// # Errors
    /// [`ChangePasswordError::Throttled`]; [`ChangePasswordError::WrongCurrentPassword`];
    /// `Unexpected` when a store fails.
    pub async fn change_password(
        &self,
        user: &User,
        current: &str,
        new_password: &NewPassword,
        address: Option<IpAddr>,
    ) -> Result<(), ChangePasswordError> {
        if let Err(retry_after) = self.count_attempt(user.username.as_str(), address).await? {
            tracing::warn!(username = %user.username, ?address, "password change throttled");
            return Err(ChangePasswordError::Throttled { retry_after });
        }
        // The stored user, not the cached one: its token version must be the latest, or the
        // increment below would not invalidate tokens issued since the cache was filled.
        let stored = self.users.find_by_username(&user.username).await?.unwrap_or_else(|| user.clone());
        if !self.hasher.verify(current, &stored.password_hash).await? {
            tracing::info!(username = %user.username, ?address, "password change with a wrong current password");
            return Err(ChangePasswordError::WrongCurrentPassword);
        }
        self.attempts.clear_failures(user.username.as_str(), address).await?;
        let mut updated = stored;
        updated.password_hash = self.hasher.hash(new_password).await?;
        // Every earlier token of the user, this one included, stops working.
        updated.token_version += 1;
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use factus_domain::user::{PasswordHash, User};
    use mockall::predicate::eq;

    use super::*;
    use crate::ports::security::{MockPasswordHasher, MockTokenService};
    use crate::ports::users::{MockLoginAttemptStore, MockUserStore};
    use crate::ports::{Claims, FailureWindow};

    const DUMMY: &str = "$argon2id$dummy";
    const REAL: &str = "$argon2id$real";

    fn user(disabled: bool) -> User {
        User { password_hash: PasswordHash::from_phc(REAL.to_owned()), disabled, ..crate::account::test_users::user() }
    }

    /// What a token of ana's says.
    fn ana_claims(
        issued_at: Option<time::OffsetDateTime>,
        expires_at: time::OffsetDateTime,
        token_version: Option<i64>,
    ) -> Claims {
        Claims { subject: "ana".to_owned(), issued_at, expires_at, token_version }
    }

    struct Ports {
        users: MockUserStore,
        attempts: MockLoginAttemptStore,
        hasher: MockPasswordHasher,
        tokens: MockTokenService,
    }

    impl Ports {
        fn new() -> Self {
            let mut hasher = MockPasswordHasher::new();
            hasher.expect_dummy_hash().returning(|| PasswordHash::from_phc(DUMMY.to_owned()));
            Self {
                users: MockUserStore::new(),
                attempts: MockLoginAttemptStore::new(),
                hasher,
                tokens: MockTokenService::new(),
            }
        }

        /// Every attempt is recorded first; `failures` is what the window then holds.
        fn window(&mut self, failures: u32) {
            self.attempts.expect_record_failure().times(1).returning(|_, _, _| Ok(()));
            self.attempts.expect_failures_since().times(1).returning(move |_, _, since| {
                Ok(FailureWindow {
                    username_failures: failures,
                    username_oldest: Some(since + time::Duration::minutes(1)),
                    pair_failures: failures,
                    pair_oldest: Some(since + time::Duration::minutes(1)),
                    address_failures: failures,
                    address_oldest: Some(since + time::Duration::minutes(1)),
                })
            });
        }

        /// Ana is found (`disabled` or not) and the password check answers `matches`, once.
        fn finds_ana_and_checks_her_password(&mut self, disabled: bool, matches: bool) {
            self.users.expect_find_by_username().returning(move |_| Ok(Some(user(disabled))));
            self.hasher.expect_verify().times(1).returning(move |_, _| Ok(matches));
        }

        /// Authenticating `token` is refused as an invalid token.
        async fn refuse_the_token(self, token: &str) {
            let error = self.service().authenticate(token).await.unwrap_err();
            assert!(matches!(error, AuthenticateError::InvalidToken), "{error:?}");
        }

        fn service(self) -> AuthService {
            AuthService::new(
                Arc::new(self.users),
                Arc::new(self.attempts),
                Arc::new(self.hasher),
                Arc::new(self.tokens),
                ThrottlePolicy::default(),
                Duration::ZERO,
            )
        }
    }

    #[tokio::test]
    async fn an_unknown_username_is_checked_against_the_dummy_hash_like_a_wrong_password() {
        let mut ports = Ports::new();
        ports.window(1);
        ports.users.expect_find_by_username().times(1).returning(|_| Ok(None));
        ports
            .hasher
            .expect_verify()
            .withf(|password, hash| password == "guess" && hash.as_phc() == DUMMY)
            .times(1)
            .returning(|_, _| Ok(false));

        let error = ports.service().login("nobody", "guess", None).await.unwrap_err();

        assert!(matches!(error, LoginError::InvalidCredentials), "{error:?}");
    }

    #[tokio::test]
    async fn pruning_forgets_only_the_failures_older_than_the_throttling_window() {
        let now = crate::clock::now();
        let mut ports = Ports::new();
        let window = time::Duration::try_from(ThrottlePolicy::default().window).expect("a window");
        ports.attempts.expect_prune().withf(move |before| *before == now - window).times(1).returning(|_| Ok(3));

        let pruned = ports.service().prune_login_failures(now).await.expect("pruned");

        assert_eq!(pruned, 3);
    }

    #[tokio::test]
    async fn a_throttled_attempt_never_reaches_the_password_check() {
        let mut ports = Ports::new();
        ports.window(6);
        ports.hasher.expect_verify().never();
        ports.users.expect_find_by_username().never();

        let error = ports.service().login("ana", "right-password", None).await.unwrap_err();

        let LoginError::Throttled { retry_after } = error else { panic!("{error:?}") };
        assert!(retry_after <= Duration::from_secs(15 * 60) && retry_after >= Duration::from_secs(60));
    }

    #[tokio::test]
    async fn the_fifth_failure_in_the_window_is_still_checked() {
        let mut ports = Ports::new();
        ports.window(5);
        ports.finds_ana_and_checks_her_password(/* disabled */ false, /* password matches */ false);

        let error = ports.service().login("ana", "wrong", None).await.unwrap_err();

        assert!(matches!(error, LoginError::InvalidCredentials), "{error:?}");
    }

    #[tokio::test]
    async fn a_disabled_user_is_refused_even_with_the_right_password() {
        let mut ports = Ports::new();
        ports.window(1);
        ports.finds_ana_and_checks_her_password(/* disabled */ true, /* password matches */ true);
        ports.tokens.expect_issue().never();

        let error = ports.service().login("ana", "right-password", None).await.unwrap_err();

        assert!(matches!(error, LoginError::InvalidCredentials), "{error:?}");
    }

    #[tokio::test]
    async fn a_successful_login_forgets_the_usernames_failures_and_issues_a_token() {
        let mut ports = Ports::new();
        ports.window(3);
        ports.finds_ana_and_checks_her_password(/* disabled */ false, /* password matches */ true);
        ports.attempts.expect_clear_failures().with(eq("ana"), eq(None)).times(1).returning(|_, _| Ok(()));
        ports
            .tokens
            .expect_issue()
            .with(eq("ana"), eq(0))
            .times(1)
            .returning(|_, _| Ok(IssuedToken { access_token: "token".to_owned(), expires_in_seconds: 3600 }));

        let token = ports.service().login(" Ana ", "right-password", None).await.unwrap();

        assert_eq!(token.access_token, "token");
    }

    #[tokio::test]
    async fn a_valid_token_of_a_user_disabled_since_is_refused() {
        let mut ports = Ports::new();
        ports.tokens.expect_verify().returning(|_| Ok(ana_claims(None, crate::clock::now(), None)));
        ports.users.expect_find_by_username().returning(|_| Ok(Some(user(true))));

        ports.refuse_the_token("token").await;
    }

    #[tokio::test]
    async fn a_token_issued_before_the_user_was_created_belongs_to_a_deleted_namesake_and_is_refused() {
        let mut ports = Ports::new();
        ports.tokens.expect_verify().returning(|_| {
            let issued_at = crate::clock::now() - time::Duration::hours(1);
            Ok(ana_claims(Some(issued_at), crate::clock::now(), Some(0)))
        });
        ports.users.expect_find_by_username().returning(|_| Ok(Some(user(false))));

        ports.refuse_the_token("token").await;
    }

    #[tokio::test]
    async fn a_token_issued_after_the_user_was_created_is_accepted() {
        let mut ports = Ports::new();
        ports.tokens.expect_verify().returning(|_| {
            Ok(ana_claims(
                Some(crate::clock::now() + time::Duration::seconds(1)),
                crate::clock::now() + time::Duration::hours(1),
                Some(0),
            ))
        });
        ports.users.expect_find_by_username().returning(|_| Ok(Some(user(false))));

        assert!(ports.service().authenticate("token").await.is_ok());
    }

    #[tokio::test]
    async fn a_token_of_an_earlier_token_version_is_refused() {
        let mut ports = Ports::new();
        ports.tokens.expect_verify().returning(|_| {
            Ok(ana_claims(
                Some(crate::clock::now() + time::Duration::seconds(1)),
                crate::clock::now() + time::Duration::hours(1),
                None,
            ))
        });
        ports.users.expect_find_by_username().returning(|_| Ok(Some(User { token_version: 1, ..user(false) })));

        ports.refuse_the_token("token").await;
    }

    #[tokio::test]
    async fn a_forged_token_never_reaches_the_user_store() {
        let mut ports = Ports::new();
        ports.tokens.expect_verify().returning(|_| Err(crate::ports::TokenError::Invalid));
        ports.users.expect_find_by_username().never();

        ports.refuse_the_token("forged").await;
    }

    #[test]
    fn the_username_delay_starts_after_five_failures_doubles_and_is_capped() {
        let policy = ThrottlePolicy::default();
        assert_eq!(policy.username_delay(5), Duration::ZERO);
        assert_eq!(policy.username_delay(6), Duration::from_millis(250));
        assert_eq!(policy.username_delay(7), Duration::from_millis(500));
        assert_eq!(policy.username_delay(9), Duration::from_secs(2));
        assert_eq!(policy.username_delay(40), Duration::from_secs(10));
        assert_eq!(policy.username_delay(u32::MAX), Duration::from_secs(10));
    }

    #[tokio::test]
    async fn many_failures_of_the_username_elsewhere_delay_but_do_not_refuse_the_right_password() {
        let mut ports = Ports::new();
        ports.attempts.expect_record_failure().times(1).returning(|_, _, _| Ok(()));
        ports.attempts.expect_failures_since().times(1).returning(|_, _, since| {
            Ok(FailureWindow {
                username_failures: 6,
                username_oldest: Some(since + time::Duration::minutes(1)),
                pair_failures: 1,
                pair_oldest: Some(since + time::Duration::minutes(14)),
                address_failures: 1,
                address_oldest: Some(since + time::Duration::minutes(14)),
            })
        });
        ports.finds_ana_and_checks_her_password(/* disabled */ false, /* password matches */ true);
        ports.attempts.expect_clear_failures().times(1).returning(|_, _| Ok(()));
        ports
            .tokens
            .expect_issue()
            .returning(|_, _| Ok(IssuedToken { access_token: "token".to_owned(), expires_in_seconds: 3600 }));

        let started = std::time::Instant::now();
        let token = ports.service().login("ana", "right-password", None).await.unwrap();

        assert_eq!(token.access_token, "token");
        assert!(started.elapsed() >= Duration::from_millis(250), "no delay after six failures");
    }

    #[tokio::test]
    async fn a_throttled_password_change_never_reaches_the_password_check() {
        let mut ports = Ports::new();
        ports.window(6);
        ports.hasher.expect_verify().never();
        ports.users.expect_update().never();

        let error = ports
            .service()
            .change_password(&user(false), "right-password", &NewPassword::parse("new-password").unwrap(), None)
            .await
            .unwrap_err();

        assert!(matches!(error, ChangePasswordError::Throttled { .. }), "{error:?}");
    }

    #[tokio::test]
    async fn changing_a_password_needs_the_current_one() {
        let mut ports = Ports::new();
        ports.window(1);
        ports.finds_ana_and_checks_her_password(/* disabled */ false, /* password matches */ false);
        ports.users.expect_update().never();

        let error = ports
            .service()
            .change_password(&user(false), "wrong", &NewPassword::parse("new-password").unwrap(), None)
            .await
            .unwrap_err();

        assert!(matches!(error, ChangePasswordError::WrongCurrentPassword), "{error:?}");
    }
}
