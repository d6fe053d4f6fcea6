//! Password hashing with argon2id, off the async workers.
//!
//! One hash costs about 15–20 ms of CPU and 19 MiB of memory with the OWASP parameters. Run on
//! an async worker, a burst of logins would stall every other request; run unbounded on the
//! blocking pool, it would use memory without limit. So each hash runs in
//! [`tokio::task::spawn_blocking`] while holding a permit of a semaphore sized to the CPUs.

use std::num::NonZeroUsize;
use std::sync::Arc;

use anyhow::Context as _;
use argon2::password_hash::phc;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use factus_application::StoreError;
use factus_application::ports::PasswordHasher;
use factus_domain::user::{NewPassword, PasswordHash};
use rand::distr::{Alphanumeric, SampleString as _};
use thiserror::Error;
use tokio::sync::Semaphore;

/// The argon2id cost parameters. Stored hashes carry their own parameters, so changing these
/// affects new hashes only; existing ones still verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Settings {
    /// Memory per hash, in KiB.
    pub memory_kib: u32,
    /// Passes over the memory.
    pub iterations: u32,
    /// Lanes computed in parallel (this crate computes them on one thread).
    pub parallelism: u32,
}

impl Argon2Settings {
    /// OWASP's recommended argon2id configuration (Password Storage Cheat Sheet): m=19456 KiB,
    /// t=2, p=1.
    pub const OWASP: Self = Self { memory_kib: 19 * 1024, iterations: 2, parallelism: 1 };
}

impl Default for Argon2Settings {
    fn default() -> Self {
        Self::OWASP
    }
}

impl std::fmt::Display for Argon2Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Self { memory_kib, iterations, parallelism } = self;
        write!(f, "argon2id m={memory_kib} t={iterations} p={parallelism}")
    }
}

/// The hasher could not be built.
#[derive(Debug, Error)]
pub enum Argon2HasherError {
    #[error("invalid {settings}: {reason}")]
    InvalidSettings { settings: Argon2Settings, reason: argon2::Error },
    #[error("could not compute the dummy hash: {0}")]
    DummyHash(argon2::password_hash::Error),
}

/// [`PasswordHasher`] with argon2id.
pub struct Argon2Hasher {
    settings: Argon2Settings,
    params: Params,
    /// Bounds how many hashes run at once, so memory and CPU stay bounded under a login flood.
    /// Requests beyond it wait their turn.
    permits: Arc<Semaphore>,
    /// Verified against when a username is unknown, so it costs what a wrong password costs.
    dummy: PasswordHash,
}

impl std::fmt::Debug for Argon2Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Argon2Hasher")
            .field("settings", &self.settings)
            .field("available_permits", &self.permits.available_permits())
            .finish_non_exhaustive()
    }
}

impl Argon2Hasher {
    /// The OWASP parameters, with as many hashes at once as the machine has CPUs.
    ///
    /// Computes one hash (the dummy), so it takes a few tens of milliseconds: call it at
    /// start-up, not per request.
    ///
    /// # Errors
    /// Only if argon2 itself fails.
    pub fn new() -> Result<Self, Argon2HasherError> {
        Self::with_settings(Argon2Settings::OWASP, default_concurrency())
    }

    /// Other parameters (cheaper ones for tests, costlier for stronger hardware) and another
    /// bound on concurrent hashes.
    ///
    /// # Errors
    /// [`Argon2HasherError::InvalidSettings`] when argon2 refuses the parameters (for example
    /// less than 8 KiB per lane, or zero iterations).
    pub fn with_settings(settings: Argon2Settings, max_concurrent: NonZeroUsize) -> Result<Self, Argon2HasherError> {
        let params = Params::new(settings.memory_kib, settings.iterations, settings.parallelism, None)
            .map_err(|reason| Argon2HasherError::InvalidSettings { settings, reason })?;
        let random_password = Alphanumeric.sample_string(&mut rand::rng(), 32);
        let dummy = hash_with(&params, random_password.as_bytes())
            .map(|hash| PasswordHash::from_phc(hash.to_string()))
            .map_err(Argon2HasherError::DummyHash)?;
        Ok(Self { settings, params, permits: Arc::new(Semaphore::new(max_concurrent.get())), dummy })
    }

    /// The parameters new hashes are made with (for logs and benchmarks).
    #[must_use]
    pub fn settings(&self) -> Argon2Settings {
        self.settings
    }

    /// Runs `work` on the blocking pool once a permit is free, inside the caller's span. The
    /// permit moves into the blocking task: if the caller gives up waiting, the hash still
    /// holds its permit until it really finishes.
    async fn run_bounded<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let permit = Arc::clone(&self.permits).acquire_owned().await.context("the password hashing pool is closed")?;
        let span = tracing::Span::current();
        let output = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            span.in_scope(work)
        })
        .await
        .context("a password hashing task failed")?;
        Ok(output)
    }
}

fn default_concurrency() -> NonZeroUsize {
    std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN)
}

fn hash_with(params: &Params, password: &[u8]) -> argon2::password_hash::Result<phc::PasswordHash> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone()).hash_password(password)
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &NewPassword) -> Result<PasswordHash, StoreError> {
        let params = self.params.clone();
        let password = password.clone();
        let hashed = self.run_bounded(move || hash_with(&params, password.expose().as_bytes())).await?;
        let hashed = hashed.map_err(|error| anyhow::anyhow!("argon2 could not hash a password: {error}"))?;
        Ok(PasswordHash::from_phc(hashed.to_string()))
    }

    async fn verify(&self, password: &str, hash: &PasswordHash) -> Result<bool, StoreError> {
        let password = password.to_owned();
        let phc = hash.as_phc().to_owned();
        self.run_bounded(move || {
            let parsed = match phc::PasswordHash::new(&phc) {
                Ok(parsed) => parsed,
                Err(error) => {
                    tracing::warn!(
                        error = format!("{error:#}"),
                        "stored password hash is malformed; treating as no match"
                    );
                    return false;
                }
            };
            // The parameters come from the stored hash, so older hashes keep verifying after
            // the settings change.
            match Argon2::default().verify_password(password.as_bytes(), &parsed) {
                Ok(()) => true,
                Err(argon2::password_hash::Error::PasswordInvalid) => false,
                Err(error) => {
                    tracing::warn!(
                        error = format!("{error:#}"),
                        "stored password hash cannot be verified; treating as no match"
                    );
                    false
                }
            }
        })
        .await
    }

    fn dummy_hash(&self) -> PasswordHash {
        self.dummy.clone()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// Cheap parameters: these tests are about behaviour, not cost.
    fn cheap_hasher(max_concurrent: usize) -> Argon2Hasher {
        let settings = Argon2Settings { memory_kib: 64, iterations: 1, parallelism: 1 };
        Argon2Hasher::with_settings(settings, NonZeroUsize::new(max_concurrent).unwrap()).unwrap()
    }

    fn password(raw: &str) -> NewPassword {
        NewPassword::parse(raw).unwrap()
    }

    #[test]
    fn the_default_settings_are_owasps_argon2id() {
        assert_eq!(Argon2Settings::default().to_string(), "argon2id m=19456 t=2 p=1");
    }

    #[tokio::test]
    async fn the_owasp_hasher_writes_its_parameters_into_the_hash() {
        let hasher = Argon2Hasher::new().unwrap();
        let hash = hasher.hash(&password("correct horse")).await.unwrap();
        assert!(hash.as_phc().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{}", hash.as_phc());
        assert!(hasher.verify("correct horse", &hash).await.unwrap());
    }

    #[tokio::test]
    async fn the_right_password_verifies_and_a_wrong_one_does_not() {
        let hasher = cheap_hasher(2);
        let hash = hasher.hash(&password("correct horse")).await.unwrap();
        assert!(hasher.verify("correct horse", &hash).await.unwrap());
        assert!(!hasher.verify("correct horsf", &hash).await.unwrap());
    }

    #[tokio::test]
    async fn hashing_the_same_password_twice_uses_different_salts() {
        let hasher = cheap_hasher(2);
        let first = hasher.hash(&password("correct horse")).await.unwrap();
        let second = hasher.hash(&password("correct horse")).await.unwrap();
        assert_ne!(first, second);
    }

    #[tokio::test]
    async fn a_malformed_hash_counts_as_no_match() {
        let hasher = cheap_hasher(1);
        let garbage = PasswordHash::from_phc("not a phc string".into());
        assert!(!hasher.verify("anything", &garbage).await.unwrap());
    }

    #[tokio::test]
    async fn hashes_made_with_other_parameters_still_verify() {
        let old = cheap_hasher(1);
        let hash = old.hash(&password("correct horse")).await.unwrap();
        let new = Argon2Hasher::with_settings(
            Argon2Settings { memory_kib: 128, iterations: 2, parallelism: 1 },
            NonZeroUsize::MIN,
        )
        .unwrap();
        assert!(new.verify("correct horse", &hash).await.unwrap());
    }

    #[tokio::test]
    async fn the_dummy_hash_is_valid_fixed_and_matches_no_typed_password() {
        let hasher = cheap_hasher(1);
        let dummy = hasher.dummy_hash();
        assert_eq!(dummy, hasher.dummy_hash());
        assert!(dummy.as_phc().starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert!(!hasher.verify("admin123", &dummy).await.unwrap());
    }

    #[test]
    fn parameters_argon2_refuses_are_reported() {
        let settings = Argon2Settings { memory_kib: 1, iterations: 0, parallelism: 1 };
        let error = Argon2Hasher::with_settings(settings, NonZeroUsize::MIN).unwrap_err();
        assert!(error.to_string().starts_with("invalid argon2id m=1 t=0 p=1"), "{error}");
    }

    #[tokio::test]
    async fn no_more_hashes_run_at_once_than_there_are_permits() {
        let hasher = Arc::new(cheap_hasher(1));
        // Hold the only permit: a hash must wait for it instead of running.
        let held = Arc::clone(&hasher.permits).acquire_owned().await.unwrap();
        let waiting = tokio::spawn({
            let hasher = Arc::clone(&hasher);
            async move { hasher.hash(&password("correct horse")).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished(), "a hash ran without a permit");
        drop(held);
        let hash = tokio::time::timeout(Duration::from_secs(5), waiting).await.unwrap().unwrap();
        assert!(hash.is_ok());
    }

    /// Records, for each event, the names of the spans it happened in.
    struct EventScopes(Arc<std::sync::Mutex<Vec<Vec<String>>>>);

    impl<S> tracing_subscriber::Layer<S> for EventScopes
    where
        S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        fn on_event(&self, event: &tracing::Event<'_>, ctx: tracing_subscriber::layer::Context<'_, S>) {
            let scope = ctx
                .event_scope(event)
                .map(|scope| scope.map(|span| span.name().to_owned()).collect())
                .unwrap_or_default();
            self.0.lock().unwrap().push(scope);
        }
    }

    #[tokio::test]
    async fn work_on_the_blocking_pool_stays_inside_the_callers_span() {
        use tracing::Instrument as _;
        use tracing_subscriber::layer::SubscriberExt as _;

        // The blocking pool runs on other threads, so the subscriber must be global; this is the
        // only test of this binary that installs one.
        let scopes = Arc::new(std::sync::Mutex::new(Vec::new()));
        let subscriber = tracing_subscriber::registry().with(EventScopes(Arc::clone(&scopes)));
        tracing::subscriber::set_global_default(subscriber).unwrap();

        let hasher = cheap_hasher(1);
        let garbage = PasswordHash::from_phc("not a phc string".into());
        let matched =
            hasher.verify("anything", &garbage).instrument(tracing::info_span!("login_request")).await.unwrap();

        assert!(!matched);
        let scopes = scopes.lock().unwrap();
        assert!(
            scopes.iter().any(|scope| scope.iter().any(|name| name == "login_request")),
            "the warning was logged outside the caller's span: {scopes:?}"
        );
    }
}
