//! API keys for machine callers: created by an admin for a user, shown once, stored as a digest.
//!
//! A key is `fapi_` followed by 64 hexadecimal digits (256 random bits). Only its SHA-256 is
//! stored, with a visible prefix (`fapi_` and the first 8 digits) so that people can tell keys
//! apart in listings and logs of the CLI. A digest of a 256-bit secret cannot be brute-forced,
//! so a slow password hash (argon2) would only add tens of milliseconds to every request.
//!
//! A key acts as its user: what the key may do is what the user may do, and a disabled user's
//! keys are refused. Authentication reads the key through a small cache, bounded by the same TTL
//! as the user cache (`AUTH_USER_CACHE_SECS`), so a revocation made on another instance applies
//! everywhere within that time; a revocation made here applies at once.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use factus_domain::user::{User, Username};
use rand::RngCore as _;
use secrecy::SecretString;
use sha2::{Digest as _, Sha256};
use thiserror::Error;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::StoreError;
use crate::auth::AuthService;
use crate::clock;
use crate::ports::UserStore;
use crate::ttl_cache::TtlCache;

/// What every key starts with, so that a leaked key is recognisable (secret scanners, people).
pub const KEY_PREFIX: &str = "fapi_";
/// Hex digits of the secret shown in the visible prefix.
const VISIBLE_DIGITS: usize = 8;
/// Hex digits of the secret: 32 random bytes.
const SECRET_DIGITS: usize = 64;
/// `last_used_at` is written at most this often per key and instance: it says "in use lately",
/// and a write per request would turn every read-only call into a database write.
const LAST_USED_GRANULARITY: time::Duration = time::Duration::minutes(1);

/// The name an admin gives a key: 1 to [`ApiKeyName::MAX_LEN`] characters, trimmed, no control
/// characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ApiKeyName(String);

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ApiKeyNameError {
    #[error("el nombre no puede estar vacío")]
    Empty,
    #[error("el nombre debe tener como máximo {max} caracteres")]
    TooLong { max: usize },
    #[error("el nombre no puede contener caracteres de control")]
    Control,
}

impl ApiKeyName {
    pub const MAX_LEN: usize = 100;

    /// # Errors
    /// [`ApiKeyNameError`] when blank, too long, or holding control characters.
    pub fn parse(raw: &str) -> Result<Self, ApiKeyNameError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(ApiKeyNameError::Empty);
        }
        if trimmed.chars().count() > Self::MAX_LEN {
            return Err(ApiKeyNameError::TooLong { max: Self::MAX_LEN });
        }
        if trimmed.chars().any(char::is_control) {
            return Err(ApiKeyNameError::Control);
        }
        Ok(Self(trimmed.to_owned()))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The lower-case hex SHA-256 of a whole key: what is stored and looked up.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ApiKeyDigest(String);

impl ApiKeyDigest {
    /// The digest of a key as presented by a caller.
    #[must_use]
    pub fn of(key: &str) -> Self {
        Self(hex::encode(Sha256::digest(key.as_bytes())))
    }

    /// A digest read back from a store.
    #[must_use]
    pub fn from_hex(hex: String) -> Self {
        Self(hex)
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKeyDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not a secret, but there is no reason to print it either.
        f.write_str("ApiKeyDigest(..)")
    }
}

/// A freshly minted key: the secret (shown once) and what is stored about it.
pub struct MintedKey {
    pub secret: SecretString,
    pub prefix: String,
    pub digest: ApiKeyDigest,
}

impl fmt::Debug for MintedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MintedKey").field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

impl MintedKey {
    /// 32 bytes from the operating system's generator, as 64 hex digits after [`KEY_PREFIX`].
    #[must_use]
    pub fn generate() -> Self {
        let mut bytes = [0_u8; SECRET_DIGITS / 2];
        rand::rng().fill_bytes(&mut bytes);
        let key = format!("{KEY_PREFIX}{}", hex::encode(bytes));
        let prefix = key[..KEY_PREFIX.len() + VISIBLE_DIGITS].to_owned();
        let digest = ApiKeyDigest::of(&key);
        Self { secret: SecretString::from(key), prefix, digest }
    }
}

/// Whether `presented` has the shape of a key; anything else is refused without a lookup.
#[must_use]
pub fn looks_like_key(presented: &str) -> bool {
    presented.strip_prefix(KEY_PREFIX).is_some_and(|rest| {
        rest.len() == SECRET_DIGITS && rest.bytes().all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
    })
}

/// A key as stored (never the secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: Uuid,
    pub name: ApiKeyName,
    /// `fapi_` and the first 8 hex digits of the secret.
    pub prefix: String,
    pub user_id: Uuid,
    /// The user's name, read with the key.
    pub username: Username,
    pub created_at: OffsetDateTime,
    pub expires_at: Option<OffsetDateTime>,
    pub last_used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

impl ApiKey {
    /// Usable at `now`: neither revoked nor expired.
    #[must_use]
    pub fn is_active_at(&self, now: OffsetDateTime) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|expires_at| now < expires_at)
    }
}

/// What [`ApiKeyStore::insert`] stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    pub id: Uuid,
    pub name: ApiKeyName,
    pub prefix: String,
    pub digest: ApiKeyDigest,
    pub user_id: Uuid,
    pub created_at: OffsetDateTime,
    pub expires_at: Option<OffsetDateTime>,
}

/// Where API keys live. Implemented for Postgres and SQLite; both pass one contract suite.
/// A key belongs to a user and is deleted with them.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    /// Stores a new key and returns it as stored (with its user's name).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails, also when the user does not exist.
    async fn insert(&self, key: &NewApiKey) -> Result<ApiKey, StoreError>;

    /// The key with this digest, in any state.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be read.
    async fn find_by_digest(&self, digest: &ApiKeyDigest) -> Result<Option<ApiKey>, StoreError>;

    /// The key with this id, in any state.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be read.
    async fn find(&self, id: Uuid) -> Result<Option<ApiKey>, StoreError>;

    /// Every key, or those of one user, oldest first.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be read.
    async fn list(&self, user_id: Option<Uuid>) -> Result<Vec<ApiKey>, StoreError>;

    /// Marks the key revoked at `at` unless it already is; returns whether this call revoked it.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be written.
    async fn revoke(&self, id: Uuid, at: OffsetDateTime) -> Result<bool, StoreError>;

    /// Records that the key was used at `at` (never moves `last_used_at` backwards).
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be written.
    async fn touch(&self, id: Uuid, at: OffsetDateTime) -> Result<(), StoreError>;
}

#[derive(Debug, Error)]
pub enum CreateApiKeyError {
    #[error("user not found")]
    UserNotFound,
    #[error("la fecha de expiración debe estar en el futuro")]
    ExpiryInPast,
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

#[derive(Debug, Error)]
pub enum RevokeApiKeyError {
    #[error("API key not found")]
    NotFound,
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

#[derive(Debug, Error)]
pub enum ApiKeyAuthError {
    /// Malformed, unknown, revoked, expired, or of a user that is gone or disabled.
    #[error("API key refused")]
    Refused,
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

/// A key just created, with its secret: the only time the secret exists outside the caller.
#[derive(Debug)]
pub struct CreatedApiKey {
    pub key: ApiKey,
    pub secret: SecretString,
}

/// API-key use cases: administration (admins) and authenticating a presented key.
pub struct ApiKeyService {
    keys: Arc<dyn ApiKeyStore>,
    users: Arc<dyn UserStore>,
    auth: Arc<AuthService>,
    /// Keys by digest, each trusted for the TTL.
    cache: TtlCache<ApiKeyDigest, ApiKey>,
}

impl ApiKeyService {
    /// `cache_ttl` is the user cache's TTL: how long a key read from the store is trusted before it
    /// is read again (`Duration::ZERO` reads it on every request).
    pub fn new(
        keys: Arc<dyn ApiKeyStore>,
        users: Arc<dyn UserStore>,
        auth: Arc<AuthService>,
        cache_ttl: Duration,
    ) -> Self {
        Self { keys, users, auth, cache: TtlCache::new(cache_ttl) }
    }

    /// Creates a key for `username`; the answer carries the secret, which is not stored.
    ///
    /// # Errors
    /// [`CreateApiKeyError::UserNotFound`]; [`CreateApiKeyError::ExpiryInPast`]; `Unexpected`.
    pub async fn create(
        &self,
        username: &Username,
        name: ApiKeyName,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<CreatedApiKey, CreateApiKeyError> {
        let now = clock::now();
        if expires_at.is_some_and(|expires_at| expires_at <= now) {
            return Err(CreateApiKeyError::ExpiryInPast);
        }
        let user = self.users.find_by_username(username).await?.ok_or(CreateApiKeyError::UserNotFound)?;
        let minted = MintedKey::generate();
        let new = NewApiKey {
            id: Uuid::now_v7(),
            name,
            prefix: minted.prefix,
            digest: minted.digest,
            user_id: user.id,
            created_at: now,
            expires_at,
        };
        let key = self.keys.insert(&new).await?;
        tracing::info!(key_id = %key.id, prefix = %key.prefix, username = %key.username, "API key created");
        Ok(CreatedApiKey { key, secret: minted.secret })
    }

    /// Every key, or the keys of one user (unknown user: none), oldest first.
    ///
    /// # Errors
    /// `Unexpected` when a store fails.
    pub async fn list(&self, username: Option<&Username>) -> Result<Vec<ApiKey>, StoreError> {
        match username {
            None => self.keys.list(None).await,
            Some(username) => match self.users.find_by_username(username).await? {
                Some(user) => self.keys.list(Some(user.id)).await,
                None => Ok(Vec::new()),
            },
        }
    }

    /// Revokes a key. Revoking a revoked key is not an error; its first revocation time stays.
    ///
    /// # Errors
    /// [`RevokeApiKeyError::NotFound`]; `Unexpected`.
    pub async fn revoke(&self, id: Uuid) -> Result<ApiKey, RevokeApiKeyError> {
        let revoked_now = self.keys.revoke(id, clock::now()).await?;
        self.cache.evict_where(|key| key.id == id);
        let key = self.keys.find(id).await?.ok_or(RevokeApiKeyError::NotFound)?;
        if revoked_now {
            tracing::info!(key_id = %key.id, prefix = %key.prefix, "API key revoked");
        }
        Ok(key)
    }

    /// The user and key behind a presented `X-API-Key`.
    ///
    /// # Errors
    /// [`ApiKeyAuthError::Refused`] for a malformed, unknown, revoked or expired key, or one whose
    /// user is gone or disabled; `Unexpected` when a store fails.
    pub async fn authenticate(&self, presented: &str) -> Result<(User, ApiKey), ApiKeyAuthError> {
        if !looks_like_key(presented) {
            return Err(ApiKeyAuthError::Refused);
        }
        let digest = ApiKeyDigest::of(presented);
        let key = match self.cache.get(&digest) {
            Some(key) => key,
            None => {
                let key = self.keys.find_by_digest(&digest).await?.ok_or(ApiKeyAuthError::Refused)?;
                self.record_use(&key).await?;
                self.cache.put(digest, key.clone());
                key
            }
        };
        if !key.is_active_at(clock::now()) {
            return Err(ApiKeyAuthError::Refused);
        }
        // Through the user cache, so that disabling the user here takes effect at once.
        match self.auth.active_user(&key.username).await? {
            Some(user) if user.id == key.user_id => Ok((user, key)),
            _ => Err(ApiKeyAuthError::Refused),
        }
    }

    async fn record_use(&self, key: &ApiKey) -> Result<(), StoreError> {
        let now = clock::now();
        if key.is_active_at(now) && key.last_used_at.is_none_or(|used| now - used >= LAST_USED_GRANULARITY) {
            self.keys.touch(key.id, now).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use mockall::predicate::eq;
    use secrecy::ExposeSecret as _;

    use super::*;
    use crate::account::test_users::user;
    use crate::auth::ThrottlePolicy;
    use crate::ports::security::{MockPasswordHasher, MockTokenService};
    use crate::ports::users::{MockLoginAttemptStore, MockUserStore};

    fn ana(disabled: bool) -> User {
        User { id: Uuid::from_u128(7), disabled, ..user() }
    }

    fn stored(key_id: u128) -> ApiKey {
        ApiKey {
            id: Uuid::from_u128(key_id),
            name: ApiKeyName::parse("erp").unwrap(),
            prefix: "fapi_0123abcd".to_owned(),
            user_id: Uuid::from_u128(7),
            username: Username::parse("ana").unwrap(),
            created_at: clock::now(),
            expires_at: None,
            last_used_at: Some(clock::now()),
            revoked_at: None,
        }
    }

    fn service(keys: MockApiKeyStore, users: MockUserStore, ttl: Duration) -> ApiKeyService {
        let users: Arc<dyn UserStore> = Arc::new(users);
        let auth = Arc::new(AuthService::new(
            users.clone(),
            Arc::new(MockLoginAttemptStore::new()),
            Arc::new(MockPasswordHasher::new()),
            Arc::new(MockTokenService::new()),
            ThrottlePolicy::default(),
            ttl,
        ));
        ApiKeyService::new(Arc::new(keys), users, auth, ttl)
    }

    fn a_key() -> String {
        MintedKey::generate().secret.expose_secret().to_owned()
    }

    #[test]
    fn a_minted_key_is_the_prefix_and_64_hex_digits_and_its_digest_is_its_sha256() {
        let minted = MintedKey::generate();
        let key = minted.secret.expose_secret();
        assert!(looks_like_key(key), "{key}");
        assert!(key.starts_with(&minted.prefix) && minted.prefix.len() == KEY_PREFIX.len() + VISIBLE_DIGITS);
        assert_eq!(minted.digest, ApiKeyDigest::of(key));
        assert_eq!(minted.digest.as_str().len(), 64);
        assert_ne!(MintedKey::generate().digest, minted.digest, "two keys differ");
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(ApiKeyName::parse("  erp  ").unwrap().as_str(), "erp");
        assert_eq!(ApiKeyName::parse(" "), Err(ApiKeyNameError::Empty));
        assert!(matches!(ApiKeyName::parse(&"x".repeat(101)), Err(ApiKeyNameError::TooLong { .. })));
        assert_eq!(ApiKeyName::parse("a\nb"), Err(ApiKeyNameError::Control));
    }

    #[tokio::test]
    async fn a_malformed_key_is_refused_without_reading_the_store() {
        let mut keys = MockApiKeyStore::new();
        keys.expect_find_by_digest().never();
        let error = service(keys, MockUserStore::new(), Duration::ZERO).authenticate("fapi_short").await.unwrap_err();
        assert!(matches!(error, ApiKeyAuthError::Refused), "{error:?}");
    }

    #[tokio::test]
    async fn an_unknown_key_is_refused() {
        let mut keys = MockApiKeyStore::new();
        keys.expect_find_by_digest().times(1).returning(|_| Ok(None));
        let error = service(keys, MockUserStore::new(), Duration::ZERO).authenticate(&a_key()).await.unwrap_err();
        assert!(matches!(error, ApiKeyAuthError::Refused), "{error:?}");
    }

    #[tokio::test]
    async fn a_revoked_or_expired_key_is_refused_and_not_touched() {
        for key in [
            ApiKey { revoked_at: Some(clock::now()), ..stored(1) },
            ApiKey { expires_at: Some(clock::now() - time::Duration::seconds(1)), ..stored(1) },
        ] {
            let mut keys = MockApiKeyStore::new();
            keys.expect_find_by_digest().returning(move |_| Ok(Some(key.clone())));
            keys.expect_touch().never();
            let error = service(keys, MockUserStore::new(), Duration::ZERO).authenticate(&a_key()).await.unwrap_err();
            assert!(matches!(error, ApiKeyAuthError::Refused), "{error:?}");
        }
    }

    #[tokio::test]
    async fn the_key_of_a_disabled_user_is_refused() {
        let mut keys = MockApiKeyStore::new();
        keys.expect_find_by_digest().returning(|_| Ok(Some(stored(1))));
        let mut users = MockUserStore::new();
        users.expect_find_by_username().returning(|_| Ok(Some(ana(true))));
        let error = service(keys, users, Duration::ZERO).authenticate(&a_key()).await.unwrap_err();
        assert!(matches!(error, ApiKeyAuthError::Refused), "{error:?}");
    }

    #[tokio::test]
    async fn the_key_of_a_deleted_user_whose_name_was_reused_is_refused() {
        let mut keys = MockApiKeyStore::new();
        keys.expect_find_by_digest().returning(|_| Ok(Some(stored(1))));
        let mut users = MockUserStore::new();
        users.expect_find_by_username().returning(|_| Ok(Some(User { id: Uuid::from_u128(99), ..ana(false) })));
        let error = service(keys, users, Duration::ZERO).authenticate(&a_key()).await.unwrap_err();
        assert!(matches!(error, ApiKeyAuthError::Refused), "{error:?}");
    }

    #[tokio::test]
    async fn a_valid_key_is_its_user_and_is_read_once_per_ttl_and_touched_at_most_once_a_minute() {
        let mut keys = MockApiKeyStore::new();
        // Last used two minutes ago: this use is recorded; the cached copy serves the next call.
        keys.expect_find_by_digest().times(1).returning(|_| {
            Ok(Some(ApiKey { last_used_at: Some(clock::now() - time::Duration::minutes(2)), ..stored(1) }))
        });
        keys.expect_touch()
            .with(eq(Uuid::from_u128(1)), mockall::predicate::always())
            .times(1)
            .returning(|_, _| Ok(()));
        let mut users = MockUserStore::new();
        users.expect_find_by_username().times(1).returning(|_| Ok(Some(ana(false))));
        let service = service(keys, users, Duration::from_secs(60));
        let key = a_key();

        let (user, api_key) = service.authenticate(&key).await.unwrap();
        assert_eq!((user.username.as_str(), api_key.id), ("ana", Uuid::from_u128(1)));
        service.authenticate(&key).await.unwrap();
    }

    #[tokio::test]
    async fn revoking_here_refuses_the_cached_key_at_once() {
        let mut keys = MockApiKeyStore::new();
        let revoked = Arc::new(Mutex::new(false));
        let flag = revoked.clone();
        keys.expect_find_by_digest().returning(move |_| {
            let revoked_at = (*flag.lock().unwrap()).then(clock::now);
            Ok(Some(ApiKey { revoked_at, ..stored(1) }))
        });
        let flag = revoked.clone();
        keys.expect_revoke().returning(move |_, _| {
            *flag.lock().unwrap() = true;
            Ok(true)
        });
        keys.expect_find().returning(|_| Ok(Some(ApiKey { revoked_at: Some(clock::now()), ..stored(1) })));
        let mut users = MockUserStore::new();
        users.expect_find_by_username().returning(|_| Ok(Some(ana(false))));
        let service = service(keys, users, Duration::from_secs(60));
        let key = a_key();

        service.authenticate(&key).await.unwrap();
        service.revoke(Uuid::from_u128(1)).await.unwrap();
        assert!(matches!(service.authenticate(&key).await, Err(ApiKeyAuthError::Refused)));
    }

    #[tokio::test]
    async fn a_key_cannot_be_created_already_expired_or_for_an_unknown_user() {
        let mut keys = MockApiKeyStore::new();
        keys.expect_insert().never();
        let mut users = MockUserStore::new();
        users.expect_find_by_username().returning(|_| Ok(None));
        let service = service(keys, users, Duration::ZERO);
        let name = || ApiKeyName::parse("erp").unwrap();
        let ana = Username::parse("ana").unwrap();

        let past = Some(clock::now() - time::Duration::minutes(1));
        assert!(matches!(service.create(&ana, name(), past).await, Err(CreateApiKeyError::ExpiryInPast)));
        assert!(matches!(service.create(&ana, name(), None).await, Err(CreateApiKeyError::UserNotFound)));
    }
}
