//! The server-managed Factus session (docs/ARCHITECTURE.md, "Server-managed Factus session"): with `FACTUS_USERNAME`/`FACTUS_PASSWORD`
//! the gateway logs in itself, so clients need no `X-Factus-Token`.
//!
//! - Lazy: the first call that needs the session logs in.
//! - Renewed ahead of expiry (a margin before `expires_in` runs out; half the lifetime for very
//!   short tokens) with the refresh-token grant, falling back to a password login when Factus
//!   refuses the refresh token.
//! - After a Factus 401 the caller [`invalidate`](ServerSession::invalidate)s the token it used and
//!   asks again; the caller retries its request once.
//! - Single-flight: the token sits behind an async mutex held across the renewal, so a hundred
//!   callers that find it stale cause one token request; the others wait and take the result.
//!   Invalidation names the token's generation, so a 401 that arrives after somebody else already
//!   renewed does not throw the fresh token away. A failed renewal is shared the same way: those
//!   who waited for it get its error rather than trying again one after the other.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use factus_application::factus::{FactusError, FactusToken};
use secrecy::SecretString;
use tokio::sync::Mutex;

use super::config::FactusCredentials;
use super::oauth::OAuthClient;
use super::transport::Transport;

/// A token of the session, as handed to a caller.
#[derive(Debug, Clone)]
pub(crate) struct SessionToken {
    pub(crate) access: SecretString,
    /// Which login or renewal produced it; passed back to [`ServerSession::invalidate`].
    pub(crate) generation: u64,
}

#[derive(Debug)]
struct Held {
    access: SecretString,
    refresh: Option<SecretString>,
    generation: u64,
    /// From then on callers renew it first.
    renew_at: Instant,
    /// After then it is not used even when renewal fails.
    expires_at: Instant,
}

impl Held {
    fn handed_out(&self) -> SessionToken {
        SessionToken { access: self.access.clone(), generation: self.generation }
    }
}

#[derive(Debug)]
pub(crate) struct ServerSession {
    credentials: FactusCredentials,
    margin: Duration,
    state: Mutex<State>,
    /// Counts failed renewals. Read before waiting for the lock: when it has moved by the time
    /// the lock is held, the renewal this caller waited for failed, and the caller shares that
    /// outcome instead of trying again — otherwise a hundred waiters on a hanging Factus would
    /// each wait out their own timeout, one after the other.
    failed_renewals: AtomicU64,
}

#[derive(Debug, Default)]
struct State {
    held: Option<Held>,
    generations: u64,
    /// How the last renewal failed, shared with the callers that were waiting for it.
    last_failure: Option<SharedFailure>,
}

/// A renewal failure as the callers that waited for it receive it ([`FactusError`] is not
/// `Clone`).
#[derive(Debug, Clone)]
enum SharedFailure {
    CircuitOpen,
    Busy(u64),
    Unavailable(String),
}

impl SharedFailure {
    fn of(error: &FactusError) -> Self {
        match error {
            FactusError::CircuitOpen => Self::CircuitOpen,
            FactusError::Busy { retry_after_secs } => Self::Busy(*retry_after_secs),
            FactusError::Unavailable { message, .. } => Self::Unavailable(message.clone()),
            _ => Self::Unavailable("La sesión de Factus del servidor no está disponible".to_owned()),
        }
    }

    fn error(&self) -> FactusError {
        match self {
            Self::CircuitOpen => FactusError::CircuitOpen,
            Self::Busy(retry_after_secs) => FactusError::Busy { retry_after_secs: *retry_after_secs },
            Self::Unavailable(message) => FactusError::Unavailable { message: message.clone(), request_sent: false },
        }
    }
}

impl ServerSession {
    pub(crate) fn new(credentials: FactusCredentials, margin: Duration) -> Self {
        Self { credentials, margin, state: Mutex::new(State::default()), failed_renewals: AtomicU64::new(0) }
    }

    /// A token that is not due for renewal, logging in or renewing first when needed.
    ///
    /// # Errors
    /// `Unavailable` (request not sent) when Factus refuses the server's credentials or cannot be
    /// reached for them: either way the caller's request could not go out, and it is no fault of
    /// the caller's. `CircuitOpen` and `Unexpected` as they come.
    pub(crate) async fn token(&self, transport: &Transport, oauth: &OAuthClient) -> Result<SessionToken, FactusError> {
        let failures_seen = self.failed_renewals.load(Ordering::Acquire);
        let mut state = self.state.lock().await;
        let started = Instant::now();
        if let Some(held) = state.held.as_ref().filter(|held| started < held.renew_at) {
            return Ok(held.handed_out());
        }
        if self.failed_renewals.load(Ordering::Acquire) != failures_seen
            && let Some(failure) = &state.last_failure
        {
            return Err(failure.error());
        }

        let refresh = state.held.as_ref().and_then(|held| held.refresh.clone());
        let renewed = match refresh {
            Some(refresh) => match oauth.refresh_grant(transport, &refresh).await {
                Err(FactusError::Rejected { status, .. }) => {
                    tracing::debug!(status, "factus refused the session's refresh token; logging in again");
                    self.login(transport, oauth).await
                }
                other => other,
            },
            None => self.login(transport, oauth).await,
        };

        match renewed {
            Ok(token) => {
                state.generations += 1;
                let held = self.hold(token, state.generations, started);
                let handed_out = held.handed_out();
                tracing::info!(generation = held.generation, "factus server session renewed");
                state.held = Some(held);
                state.last_failure = None;
                Ok(handed_out)
            }
            Err(error) => {
                if let Some(held) = state.held.as_ref().filter(|held| Instant::now() < held.expires_at) {
                    tracing::warn!(
                        error = format!("{error:#}"),
                        "factus session renewal failed; using the current token until it expires"
                    );
                    return Ok(held.handed_out());
                }
                let error = session_failure(error);
                state.last_failure = Some(SharedFailure::of(&error));
                self.failed_renewals.fetch_add(1, Ordering::AcqRel);
                Err(error)
            }
        }
    }

    /// Marks the token of `generation` as refused by Factus, so the next [`token`](Self::token)
    /// renews it. A token of another generation (already renewed by someone else) is kept.
    pub(crate) async fn invalidate(&self, generation: u64) {
        let mut state = self.state.lock().await;
        if let Some(held) = state.held.as_mut().filter(|held| held.generation == generation) {
            let now = Instant::now();
            held.renew_at = now;
            held.expires_at = now;
        }
    }

    async fn login(&self, transport: &Transport, oauth: &OAuthClient) -> Result<FactusToken, FactusError> {
        oauth.password_grant(transport, &self.credentials.username, &self.credentials.password).await
    }

    fn hold(&self, token: FactusToken, generation: u64, issued: Instant) -> Held {
        let lifetime = Duration::from_secs(u64::try_from(token.expires_in).unwrap_or(0));
        let early = lifetime.saturating_sub(self.margin).max(lifetime / 2);
        Held {
            access: token.access_token,
            refresh: token.refresh_token,
            generation,
            renew_at: issued + early,
            expires_at: issued + lifetime,
        }
    }
}

fn session_failure(error: FactusError) -> FactusError {
    match error {
        FactusError::DianRejected { rules } => FactusError::Unavailable {
            message: format!("Factus rechazó la sesión del servidor: {}", rules.join("; ")),
            request_sent: false,
        },
        FactusError::Rejected { status, message } => {
            tracing::warn!(status, %message, "factus refused the server's credentials (FACTUS_USERNAME/FACTUS_PASSWORD)");
            FactusError::Unavailable {
                message: format!("Factus rechazó la sesión del servidor: {message}"),
                request_sent: false,
            }
        }
        FactusError::Unavailable { message, .. } => FactusError::Unavailable { message, request_sent: false },
        FactusError::Timeout => {
            FactusError::Unavailable { message: FactusError::Timeout.to_string(), request_sent: false }
        }
        FactusError::InvalidResponse { message } => FactusError::Unavailable {
            message: format!("Factus respondió de forma inesperada al iniciar la sesión del servidor: {message}"),
            request_sent: false,
        },
        other @ (FactusError::CircuitOpen
        | FactusError::Busy { .. }
        | FactusError::MissingCredentials
        | FactusError::Unexpected(_)) => other,
    }
}
