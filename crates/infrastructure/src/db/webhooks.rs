//! The webhook outbox on either backend, with one set of SQL statements.
//!
//! The table (`migrations/*/20261201130001_webhook_deliveries.sql`) keeps ids as text and instants
//! as microseconds since the epoch on both backends, and sqlx accepts `$n` placeholders on SQLite
//! too, so every statement here is the same text for Postgres and SQLite; `on_pool!` (in `db/mod.rs`) runs it on
//! whichever pool the database has. Only the claim differs, by its locking clause: Postgres'
//! `FOR UPDATE SKIP LOCKED` lets instances claim side by side without taking each other's rows,
//! and SQLite (one writer at a time) needs none.
//!
//! Rows are written by the ledger's trigger, not here: an event exists exactly when its outcome
//! does.

use anyhow::Context as _;
use async_trait::async_trait;
use factus_application::StoreError;
use factus_application::ledger::DocumentKind;
use factus_application::webhooks::{
    AttemptResult, Delivery, DeliveryFilter, DeliveryStatus, EventBill, EventEntry, EventRejection, EventType,
    WebhookEvent, WebhookStore,
};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Database, unexpected};

macro_rules! delivery_columns {
    () => {
        "event_id, event_type, entry_id, kind, reference_code, user_id, username, ledger_attempts, factus_number, \
         factus_prefix, factus_cufe, factus_qr_url, factus_status, error_status, error_detail, dian_rejected, \
         occurred_us, created_us, status, attempts, next_attempt_us, last_attempt_us, last_http_status, last_error, \
         delivered_us"
    };
}

/// The claim without its locking clause; [`claim_statement`] adds Postgres'.
macro_rules! claim_prefix {
    () => {
        "UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_us = $2
          WHERE event_id IN (SELECT event_id FROM webhook_deliveries
                              WHERE status = 'pending' AND next_attempt_us <= $1
                              ORDER BY next_attempt_us, event_id LIMIT $3"
    };
}

const CLAIM_POSTGRES: &str = concat!(claim_prefix!(), " FOR UPDATE SKIP LOCKED) RETURNING ", delivery_columns!());
const CLAIM_SQLITE: &str = concat!(claim_prefix!(), ") RETURNING ", delivery_columns!());

/// A row as both backends produce it (SQLite's integers decode into these widths too).
#[derive(Debug, sqlx::FromRow)]
struct DeliveryRow {
    event_id: String,
    event_type: String,
    entry_id: String,
    kind: String,
    reference_code: String,
    user_id: String,
    username: String,
    ledger_attempts: i32,
    factus_number: Option<String>,
    factus_prefix: Option<String>,
    factus_cufe: Option<String>,
    factus_qr_url: Option<String>,
    factus_status: Option<String>,
    error_status: Option<i32>,
    error_detail: Option<String>,
    dian_rejected: bool,
    occurred_us: i64,
    created_us: i64,
    status: String,
    attempts: i32,
    next_attempt_us: Option<i64>,
    last_attempt_us: Option<i64>,
    last_http_status: Option<i32>,
    last_error: Option<String>,
    delivered_us: Option<i64>,
}

/// Microseconds since the epoch, as stored.
fn micros(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX)
}

fn instant(micros: i64) -> anyhow::Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
        .with_context(|| format!("stored instant {micros} is out of range"))
}

fn status_code(status: i32) -> anyhow::Result<u16> {
    u16::try_from(status).with_context(|| format!("stored HTTP status {status} is out of range"))
}

impl TryFrom<DeliveryRow> for Delivery {
    type Error = anyhow::Error;

    fn try_from(row: DeliveryRow) -> anyhow::Result<Self> {
        let id = Uuid::try_parse(&row.event_id).with_context(|| format!("event id {:?}", row.event_id))?;
        let event_type =
            EventType::parse(&row.event_type).with_context(|| format!("event {id} has type {:?}", row.event_type))?;
        let bill = match (row.factus_number, row.factus_prefix, row.factus_cufe, row.factus_qr_url, row.factus_status) {
            (Some(number), Some(prefix), Some(cufe), Some(qr_url), Some(status)) => {
                Some(EventBill { number, prefix, cufe, qr_url, status })
            }
            _ => None,
        };
        let rejection = match row.error_detail {
            Some(message) => Some(EventRejection {
                status: row.error_status.map(status_code).transpose()?,
                dian_rules: if row.dian_rejected {
                    message.split("; ").map(str::to_owned).collect()
                } else {
                    Vec::new()
                },
                message,
            }),
            None => None,
        };
        let entry = EventEntry {
            entry_id: Uuid::try_parse(&row.entry_id)
                .with_context(|| format!("event {id} has entry {:?}", row.entry_id))?,
            kind: DocumentKind::parse(&row.kind).with_context(|| format!("event {id} has kind {:?}", row.kind))?,
            reference_code: row.reference_code,
            user_id: Uuid::try_parse(&row.user_id).with_context(|| format!("event {id} has user {:?}", row.user_id))?,
            username: row.username,
            attempts: u32::try_from(row.ledger_attempts).unwrap_or(0),
            occurred_at: instant(row.occurred_us)?,
            bill,
            rejection,
        };
        Ok(Self {
            event: WebhookEvent { id, event_type, created_at: instant(row.created_us)?, entry },
            status: DeliveryStatus::parse(&row.status)
                .with_context(|| format!("event {id} has status {:?}", row.status))?,
            attempts: u32::try_from(row.attempts).unwrap_or(0),
            next_attempt_at: row.next_attempt_us.map(instant).transpose()?,
            last_attempt_at: row.last_attempt_us.map(instant).transpose()?,
            last_http_status: row.last_http_status.map(status_code).transpose()?,
            last_error: row.last_error,
            delivered_at: row.delivered_us.map(instant).transpose()?,
        })
    }
}

fn decode(rows: Vec<DeliveryRow>) -> Result<Vec<Delivery>, StoreError> {
    rows.into_iter()
        .map(|row| Delivery::try_from(row).map_err(|error| StoreError(error.context("reading a webhook delivery"))))
        .collect()
}

/// The longest error text kept per delivery: enough to diagnose, small enough for every row.
const MAX_ERROR_CHARS: usize = 500;

fn clip(error: &str) -> String {
    error.chars().take(MAX_ERROR_CHARS).collect()
}

/// [`WebhookStore`] on the service's database, Postgres or SQLite.
#[derive(Debug, Clone)]
pub struct SqlWebhookStore {
    database: Database,
}

impl SqlWebhookStore {
    #[must_use]
    pub fn new(database: Database) -> Self {
        Self { database }
    }
}

#[async_trait]
impl WebhookStore for SqlWebhookStore {
    async fn claim_due(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError> {
        let statement = match &self.database {
            Database::Postgres(_) => CLAIM_POSTGRES,
            Database::Sqlite(_) => CLAIM_SQLITE,
        };
        let rows: Vec<DeliveryRow> = on_pool!(&self.database, pool => sqlx::query_as(statement)
            .bind(micros(now))
            .bind(micros(lease_until))
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await)
        .map_err(|error| unexpected(error, "claiming due webhook deliveries"))?;
        let mut claimed = decode(rows)?;
        claimed.sort_by_key(|delivery| delivery.event.created_at);
        Ok(claimed)
    }

    async fn record_attempt(
        &self,
        claimed: &Delivery,
        at: OffsetDateTime,
        http_status: Option<u16>,
        result: &AttemptResult,
    ) -> Result<bool, StoreError> {
        let (status, next_attempt, error, delivered) = match result {
            AttemptResult::Delivered => (DeliveryStatus::Delivered, None, None, Some(micros(at))),
            AttemptResult::RetryAt { at: next, error } => {
                (DeliveryStatus::Pending, Some(micros(*next)), Some(clip(error)), None)
            }
            AttemptResult::GaveUp { error } => (DeliveryStatus::Failed, None, Some(clip(error)), None),
        };
        // Compare-and-set on the attempt count: a redelivery or a later claim since this one
        // owns the row now.
        let result = on_pool!(&self.database, pool => sqlx::query(
            "UPDATE webhook_deliveries
                SET status = $3, next_attempt_us = $4, last_attempt_us = $5, last_http_status = $6,
                    last_error = COALESCE($7, last_error), delivered_us = $8
              WHERE event_id = $1 AND attempts = $2 AND status = 'pending'",
        )
        .bind(claimed.event.id.to_string())
        .bind(i32::try_from(claimed.attempts).unwrap_or(i32::MAX))
        .bind(status.as_str())
        .bind(next_attempt)
        .bind(micros(at))
        .bind(http_status.map(i32::from))
        .bind(error)
        .bind(delivered)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))
        .map_err(|error| unexpected(error, format!("recording an attempt of webhook event {}", claimed.event.id)))?;
        Ok(result > 0)
    }

    async fn list(&self, filter: &DeliveryFilter) -> Result<Vec<Delivery>, StoreError> {
        let rows: Vec<DeliveryRow> = on_pool!(&self.database, pool => sqlx::query_as(concat!(
            "SELECT ",
            delivery_columns!(),
            " FROM webhook_deliveries WHERE ($1 IS NULL OR status = $1)
              ORDER BY created_us DESC, event_id DESC LIMIT $2"
        ))
        .bind(filter.status.map(DeliveryStatus::as_str))
        .bind(i64::from(filter.limit.get()))
        .fetch_all(pool)
        .await)
        .map_err(|error| unexpected(error, "listing webhook deliveries"))?;
        decode(rows)
    }

    async fn redeliver(&self, event_id: Uuid, now: OffsetDateTime) -> Result<Option<Delivery>, StoreError> {
        let rows: Vec<DeliveryRow> = on_pool!(&self.database, pool => sqlx::query_as(concat!(
            "UPDATE webhook_deliveries
                SET status = 'pending', attempts = 0, next_attempt_us = $2, delivered_us = NULL
              WHERE event_id = $1
              RETURNING ",
            delivery_columns!()
        ))
        .bind(event_id.to_string())
        .bind(micros(now))
        .fetch_all(pool)
        .await)
        .map_err(|error| unexpected(error, format!("redelivering webhook event {event_id}")))?;
        Ok(decode(rows)?.pop())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_round_trip_through_microseconds() {
        let at = time::macros::datetime!(2026-12-01 05:00:01.123456 UTC);
        assert_eq!(instant(micros(at)).unwrap(), at);
    }

    #[test]
    fn long_errors_are_clipped_on_a_character_boundary() {
        assert_eq!(clip(&"ñ".repeat(600)).chars().count(), MAX_ERROR_CHARS);
    }
}
