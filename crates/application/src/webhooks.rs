//! Signed webhooks: telling a client's system when a document reached an outcome.
//!
//! Factus has no webhooks, so the gateway sends its own. Every time a ledger entry reaches an
//! outcome — `issued`, `rejected` or `unknown` — the store records one [`WebhookEvent`] in the
//! same transaction as the transition (an outbox: whatever path made the transition, the
//! client's create, its retry, the reconciler or a queue worker, the event exists exactly when
//! the outcome does). [`WebhookService::dispatch_due`], run by a background task on every
//! instance, sends due events to `WEBHOOK_URL`, signed with `WEBHOOK_SECRET`
//! ([`WebhookTransport`]), and records each attempt in the delivery ([`Delivery`]): a 2xx
//! delivers it; anything else is tried again after an exponential backoff ([`backoff`]) until
//! [`WebhookPolicy::max_attempts`], then the delivery is `failed` and waits for an admin's
//! [`WebhookService::redeliver`].
//!
//! Delivery is at least once: an attempt whose answer was lost is sent again, with the same event
//! id and body. Receivers de-duplicate on the event id (docs/reliability.md).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::SecretString;
use thiserror::Error;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::StoreError;
use crate::ledger::{DocumentKind, PageSize};

/// What happened to a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// Factus issued it (the entry is `issued`; number, CUFE and QR are set).
    Issued,
    /// Factus or DIAN refused it, it was not issued after all, or it was deleted at Factus.
    Rejected,
    /// Its outcome is unknown (Factus timed out or failed after receiving it); a later
    /// `document.issued` or `document.rejected` settles it.
    Unknown,
}

impl EventType {
    pub const ALL: [Self; 3] = [Self::Issued, Self::Rejected, Self::Unknown];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Issued => "document.issued",
            Self::Rejected => "document.rejected",
            Self::Unknown => "document.unknown",
        }
    }

    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    /// Due at `next_attempt_at` (first attempt, or a retry after a failure).
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Every attempt failed; an admin may redeliver it.
    Failed,
}

impl DeliveryStatus {
    pub const ALL: [Self; 3] = [Self::Pending, Self::Delivered, Self::Failed];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }
}

/// The bill of an issued document, as the ledger recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventBill {
    pub number: String,
    pub prefix: String,
    pub cufe: String,
    pub qr_url: String,
    /// Factus' status (`1`: validated by DIAN).
    pub status: String,
}

/// Why a document was refused, as the ledger recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRejection {
    /// Factus' HTTP status; `None` when the document was not issued at Factus (reconciliation) or
    /// was deleted there.
    pub status: Option<u16>,
    pub message: String,
    /// DIAN's rule texts (e.g. `Regla: FAK24, Rechazo: …`) when DIAN rejected it; empty otherwise.
    pub dian_rules: Vec<String>,
}

/// The ledger entry at the moment of the outcome: what the event says about the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventEntry {
    pub entry_id: Uuid,
    pub kind: DocumentKind,
    pub reference_code: String,
    pub user_id: Uuid,
    pub username: String,
    /// Sends under the entry so far.
    pub attempts: u32,
    /// When the ledger recorded the outcome.
    pub occurred_at: OffsetDateTime,
    pub bill: Option<EventBill>,
    pub rejection: Option<EventRejection>,
}

/// One outcome of one document: what receivers get. The id and the body are the same on every
/// attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEvent {
    pub id: Uuid,
    pub event_type: EventType,
    pub created_at: OffsetDateTime,
    pub entry: EventEntry,
}

/// An event and where its delivery stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub event: WebhookEvent,
    pub status: DeliveryStatus,
    /// Attempts made so far (a claimed attempt counts at once, even if its sender dies).
    pub attempts: u32,
    /// When it is due (pending only).
    pub next_attempt_at: Option<OffsetDateTime>,
    pub last_attempt_at: Option<OffsetDateTime>,
    /// The receiver's status on the last attempt that got an answer.
    pub last_http_status: Option<u16>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    pub delivered_at: Option<OffsetDateTime>,
}

/// What one attempt came to, for [`WebhookStore::record_attempt`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptResult {
    /// 2xx: done.
    Delivered,
    /// Failed; try again at this instant.
    RetryAt { at: OffsetDateTime, error: String },
    /// Failed and the attempts are used up.
    GaveUp { error: String },
}

/// What to list; newest first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryFilter {
    pub status: Option<DeliveryStatus>,
    pub limit: PageSize,
}

/// Where events and their deliveries live. Implemented once for Postgres and SQLite; recording an
/// event is the database's own business (it happens with the ledger transition), so the port
/// only reads and updates deliveries.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Takes up to `limit` pending deliveries due at `now` (oldest due first), counts one attempt
    /// on each and makes them due again at `lease_until`, so that a dispatcher that dies while
    /// sending leaves them for a later pass. Several instances may claim at once; each delivery
    /// goes to one of them (Postgres: `FOR UPDATE SKIP LOCKED`; SQLite has one writer).
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be written.
    async fn claim_due(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError>;

    /// Records the attempt `claimed` made at `at` (with the receiver's status, if it answered),
    /// unless the delivery changed since it was claimed (an admin's redelivery, another claim
    /// after the lease). Returns whether it applied.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be written.
    async fn record_attempt(
        &self,
        claimed: &Delivery,
        at: OffsetDateTime,
        http_status: Option<u16>,
        result: &AttemptResult,
    ) -> Result<bool, StoreError>;

    /// Deliveries matching `filter`, newest event first.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be read.
    async fn list(&self, filter: &DeliveryFilter) -> Result<Vec<Delivery>, StoreError>;

    /// Makes the delivery of `event_id` pending and due at `now`, with its attempts counted
    /// afresh; `None` when there is no such event.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be written.
    async fn redeliver(&self, event_id: Uuid, now: OffsetDateTime) -> Result<Option<Delivery>, StoreError>;
}

/// An attempt that got no HTTP answer (connection refused, timeout, TLS).
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("{0}")]
pub struct TransportError(pub String);

/// Sends one signed event.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait WebhookTransport: Send + Sync {
    /// POSTs the event to `url`, signed with `secret`; the receiver's HTTP status, whatever it is.
    ///
    /// # Errors
    /// [`TransportError`] when no answer came.
    async fn send(&self, url: &str, secret: &SecretString, event: &WebhookEvent) -> Result<u16, TransportError>;
}

/// Where and how events are delivered.
#[derive(Debug, Clone)]
pub struct WebhookPolicy {
    /// `WEBHOOK_URL`; without it nothing is sent (events are still recorded, and are sent once a
    /// URL is configured).
    pub url: Option<String>,
    /// `WEBHOOK_SECRET`, the HMAC key.
    pub secret: SecretString,
    /// `WEBHOOK_MAX_ATTEMPTS`: attempts before a delivery is `failed`.
    pub max_attempts: u32,
    /// `WEBHOOK_RETRY_BASE_MS`: the wait after the first failure; it doubles per attempt…
    pub backoff_base: Duration,
    /// …up to this (one hour).
    pub backoff_max: Duration,
    /// How long a claimed delivery is held before another pass may take it. A pass sends its
    /// batch one after another, so this must exceed `batch` × the transport's timeout (10 × 10 s),
    /// or a pass held up by a slow receiver would see its later deliveries claimed again.
    pub lease: Duration,
    /// How many deliveries one pass takes (ten a second per instance is far more than Factus'
    /// 80 documents a minute can produce).
    pub batch: u32,
}

impl Default for WebhookPolicy {
    fn default() -> Self {
        Self {
            url: None,
            secret: SecretString::from(String::new()),
            max_attempts: 12,
            backoff_base: Duration::from_secs(5),
            backoff_max: Duration::from_secs(60 * 60),
            lease: Duration::from_secs(120),
            batch: 10,
        }
    }
}

/// The wait before attempt `attempts + 1` after `attempts` failed ones: `base · 2^(attempts−1)`,
/// at most `max`, with "equal jitter" (half of it fixed, the other half scaled by `jitter`, a
/// number in `[0, 1)`), so that receivers coming back from an outage are not hit by every
/// instance's retries in the same instant.
#[must_use]
pub fn backoff(base: Duration, max: Duration, attempts: u32, jitter: f64) -> Duration {
    let doublings = attempts.saturating_sub(1).min(30);
    let full = base.saturating_mul(1_u32 << doublings).min(max);
    let half = full / 2;
    half + half.mul_f64(jitter.clamp(0.0, 1.0))
}

/// What one dispatch pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DispatchReport {
    pub delivered: u32,
    /// Failed attempts that will be tried again.
    pub retried: u32,
    /// Failed attempts that used up the attempts (`failed`).
    pub gave_up: u32,
    /// Attempts whose result could not be recorded (the lease makes them due again).
    pub unrecorded: u32,
}

/// Why a redelivery was refused.
#[derive(Debug, Error)]
pub enum RedeliverError {
    /// No event with that id. 404.
    #[error("webhook delivery not found")]
    NotFound,
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

/// The webhook use cases: dispatching due deliveries, listing them, redelivering one.
pub struct WebhookService {
    store: Arc<dyn WebhookStore>,
    transport: Arc<dyn WebhookTransport>,
    policy: WebhookPolicy,
}

impl WebhookService {
    pub fn new(store: Arc<dyn WebhookStore>, transport: Arc<dyn WebhookTransport>, policy: WebhookPolicy) -> Self {
        Self { store, transport, policy }
    }

    /// Whether a receiver is configured (`WEBHOOK_URL`).
    #[must_use]
    pub fn is_enabled(&self) -> bool {
        self.policy.url.is_some()
    }

    /// One pass: claims the due deliveries and sends each once, recording what happened. Does
    /// nothing without a configured URL.
    ///
    /// # Errors
    /// [`StoreError`] when the due deliveries cannot be claimed; failures to record single
    /// attempts are logged and counted as `unrecorded`.
    pub async fn dispatch_due(&self, now: OffsetDateTime) -> Result<DispatchReport, StoreError> {
        let mut report = DispatchReport::default();
        let Some(url) = &self.policy.url else { return Ok(report) };
        let claimed = self.store.claim_due(now, now + self.policy.lease, self.policy.batch).await?;
        for delivery in claimed {
            let sent = self.transport.send(url, &self.policy.secret, &delivery.event).await;
            let at = crate::clock::now();
            let (http_status, error) = match sent {
                Ok(status) if (200..300).contains(&status) => (Some(status), None),
                Ok(status) => (Some(status), Some(format!("the receiver answered HTTP {status}"))),
                Err(error) => (None, Some(error.0)),
            };
            let result = match error {
                None => AttemptResult::Delivered,
                Some(error) if delivery.attempts >= self.policy.max_attempts => AttemptResult::GaveUp { error },
                Some(error) => {
                    let wait =
                        backoff(self.policy.backoff_base, self.policy.backoff_max, delivery.attempts, rand::random());
                    AttemptResult::RetryAt { at: at + wait, error }
                }
            };
            let event = delivery.event.id;
            match self.store.record_attempt(&delivery, at, http_status, &result).await {
                Ok(true) => match &result {
                    AttemptResult::Delivered => report.delivered += 1,
                    AttemptResult::RetryAt { error, at: next } => {
                        report.retried += 1;
                        tracing::warn!(%event, attempts = delivery.attempts, error = format!("{error:#}"), next_attempt = %next, "webhook delivery failed; it will be retried");
                    }
                    AttemptResult::GaveUp { error } => {
                        report.gave_up += 1;
                        tracing::error!(%event, attempts = delivery.attempts, error = format!("{error:#}"), "webhook delivery failed for good; an admin may redeliver it");
                    }
                },
                Ok(false) => report.unrecorded += 1,
                Err(store) => {
                    report.unrecorded += 1;
                    tracing::error!(%event, error = format!("{store:#}"), "could not record a webhook attempt; it is sent again after its lease");
                }
            }
        }
        Ok(report)
    }

    /// Deliveries, newest first.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be read.
    pub async fn list(&self, filter: &DeliveryFilter) -> Result<Vec<Delivery>, StoreError> {
        self.store.list(filter).await
    }

    /// Sends an event again (soon: at the next dispatch pass), whatever its delivery's status; its
    /// attempts start over.
    ///
    /// # Errors
    /// [`RedeliverError::NotFound`] for an unknown id; `Unexpected` when the store fails.
    pub async fn redeliver(&self, event_id: Uuid) -> Result<Delivery, RedeliverError> {
        let delivery = self.store.redeliver(event_id, crate::clock::now()).await?.ok_or(RedeliverError::NotFound)?;
        tracing::info!(event = %event_id, "webhook redelivery requested");
        Ok(delivery)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    fn delivery(attempts: u32) -> Delivery {
        let at = crate::clock::now();
        Delivery {
            event: WebhookEvent {
                id: Uuid::now_v7(),
                event_type: EventType::Issued,
                created_at: at,
                entry: EventEntry {
                    entry_id: Uuid::now_v7(),
                    kind: DocumentKind::Invoice,
                    reference_code: "FAC-1".into(),
                    user_id: Uuid::now_v7(),
                    username: "ana".into(),
                    attempts: 1,
                    occurred_at: at,
                    bill: None,
                    rejection: None,
                },
            },
            status: DeliveryStatus::Pending,
            attempts,
            next_attempt_at: Some(at),
            last_attempt_at: None,
            last_http_status: None,
            last_error: None,
            delivered_at: None,
        }
    }

    fn policy(url: Option<&str>) -> WebhookPolicy {
        WebhookPolicy { url: url.map(str::to_owned), max_attempts: 3, ..WebhookPolicy::default() }
    }

    /// A pass over one claimed delivery that made `attempts` attempts, the receiver answering
    /// `answer`; returns what was recorded.
    async fn one_pass(attempts: u32, answer: Result<u16, TransportError>) -> (DispatchReport, AttemptResult) {
        let mut store = MockWebhookStore::new();
        store.expect_claim_due().times(1).returning(move |_, _, _| Ok(vec![delivery(attempts)]));
        let recorded = Arc::new(std::sync::Mutex::new(None));
        let keep = Arc::clone(&recorded);
        store.expect_record_attempt().times(1).returning(move |_, _, _, result| {
            *keep.lock().unwrap() = Some(result.clone());
            Ok(true)
        });
        let mut transport = MockWebhookTransport::new();
        transport.expect_send().times(1).returning(move |_, _, _| answer.clone());
        let service = WebhookService::new(Arc::new(store), Arc::new(transport), policy(Some("http://erp/hooks")));
        let report = service.dispatch_due(crate::clock::now()).await.expect("a pass");
        let result = recorded.lock().unwrap().take().expect("an attempt was recorded");
        (report, result)
    }

    #[tokio::test]
    async fn a_2xx_delivers_the_event() {
        let (report, result) = one_pass(1, Ok(204)).await;
        assert_eq!(result, AttemptResult::Delivered);
        assert_eq!(report.delivered, 1);
    }

    #[tokio::test]
    async fn a_failed_attempt_is_retried_after_the_backoff_until_the_attempts_run_out() {
        let before = crate::clock::now();
        let (report, result) = one_pass(1, Ok(500)).await;
        assert_eq!(report.retried, 1);
        match result {
            AttemptResult::RetryAt { at, error } => {
                assert_eq!(error, "the receiver answered HTTP 500");
                assert!(at >= before + Duration::from_millis(2_500) && at <= crate::clock::now() + 5 * SECOND);
            }
            other => panic!("not a retry: {other:?}"),
        }
        let (report, result) = one_pass(3, Err(TransportError("connection refused".into()))).await;
        assert_eq!(report.gave_up, 1);
        assert_eq!(result, AttemptResult::GaveUp { error: "connection refused".into() });
    }

    #[tokio::test]
    async fn without_a_url_nothing_is_claimed_or_sent() {
        let mut store = MockWebhookStore::new();
        store.expect_claim_due().never();
        let mut transport = MockWebhookTransport::new();
        transport.expect_send().never();
        let service = WebhookService::new(Arc::new(store), Arc::new(transport), policy(None));
        assert!(!service.is_enabled());
        assert_eq!(service.dispatch_due(crate::clock::now()).await.unwrap(), DispatchReport::default());
    }

    #[test]
    fn the_backoff_doubles_from_the_base_up_to_the_maximum() {
        let max = Duration::from_secs(60);
        // Without jitter, the fixed half; with the largest jitter, (almost) the whole step.
        assert_eq!(backoff(SECOND, max, 1, 0.0), SECOND / 2);
        assert_eq!(backoff(SECOND, max, 1, 1.0), SECOND);
        assert_eq!(backoff(SECOND, max, 2, 1.0), 2 * SECOND);
        assert_eq!(backoff(SECOND, max, 4, 1.0), 8 * SECOND);
        assert_eq!(backoff(SECOND, max, 7, 1.0), max, "64 s is above the maximum");
        assert_eq!(backoff(SECOND, max, 1_000, 1.0), max, "no overflow for absurd attempt counts");
    }

    #[test]
    fn the_jitter_stays_within_the_upper_half_of_the_step() {
        for attempts in 1..=10 {
            let full = backoff(SECOND, Duration::from_secs(3600), attempts, 1.0);
            for jitter in [0.0, 0.25, 0.5, 0.999] {
                let wait = backoff(SECOND, Duration::from_secs(3600), attempts, jitter);
                assert!(wait >= full / 2 && wait <= full, "attempt {attempts}, jitter {jitter}: {wait:?}");
            }
        }
    }

    #[test]
    fn event_types_and_statuses_round_trip_through_their_names() {
        for kind in EventType::ALL {
            assert_eq!(EventType::parse(kind.as_str()), Some(kind));
        }
        for status in DeliveryStatus::ALL {
            assert_eq!(DeliveryStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(EventType::parse("issued"), None);
    }
}
