//! The invoice ledger on Postgres, and the row shape both ledger stores decode into.
//!
//! The guarantees live in the schema (`migrations/postgres/20261125000002_invoice_ledger.sql`):
//! the partial unique index `invoice_ledger_active_reference_key` allows one active entry per
//! reference whatever instance inserts it, `invoice_ledger_user_idempotency_key` one entry per key
//! of a user. A violation of either becomes the business variant of [`ClaimError`], carrying the
//! entry that won. Transitions are single `UPDATE … WHERE state = … AND attempts = …` statements:
//! compare-and-set without explicit transactions or locks. The one exception is the queue's take,
//! which holds an advisory lock for its transaction so that workers take one entry at a time.
//!
//! The adapter itself, the row shape, the column list and the response encoding live in
//! `db/ledger.rs`, shared with [`super::ledger_sqlite`]; this module says how Postgres decodes a
//! row, binds values and names a violated index.

use factus_application::StoreError;
use factus_application::ledger::LedgerEntry;
use sqlx::postgres::PgRow;
use sqlx::{FromRow, PgPool, Postgres, Row as _};

use super::ledger::{ClaimConflict, LedgerRow, ledger_row, ledger_store};
use super::postgres::{id_param, timestamp_param};

/// The unique index that keeps one active entry per reference (see the migration).
const ACTIVE_REFERENCE_INDEX: &str = "invoice_ledger_active_reference_key";

/// The unique index that keeps one entry per Idempotency-Key of a user.
const USER_KEY_INDEX: &str = "invoice_ledger_user_idempotency_key";

impl FromRow<'_, PgRow> for LedgerRow {
    fn from_row(row: &PgRow) -> sqlx::Result<Self> {
        Ok(ledger_row!(row, {
            id: row.try_get("id")?,
            user_id: row.try_get("user_id")?,
            api_key_id: row.try_get("api_key_id")?,
            error_status: row.try_get::<Option<i32>, _>("error_status")?.map(i64::from),
            attempts: i64::from(row.try_get::<i32, _>("attempts")?),
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            issued_at: row.try_get("issued_at")?,
        }))
    }
}

/// `attempts` and `error_status` are `integer` columns.
fn attempts_param(entry: &LedgerEntry) -> Result<i32, StoreError> {
    i32::try_from(entry.attempts)
        .map_err(|_| StoreError(anyhow::anyhow!("entry {} has too many attempts to store", entry.id)))
}

fn status_param(status: Option<u16>) -> Option<i32> {
    status.map(i32::from)
}

fn violates(error: &sqlx::Error, conflict: ClaimConflict) -> bool {
    let index = match conflict {
        ClaimConflict::Reference => ACTIVE_REFERENCE_INDEX,
        ClaimConflict::Key => USER_KEY_INDEX,
    };
    error.as_database_error().is_some_and(|database_error| {
        database_error.is_unique_violation() && database_error.constraint() == Some(index)
    })
}

ledger_store!(
    /// [`LedgerStore`](factus_application::ledger::LedgerStore) on Postgres.
    PgLedgerStore(PgPool, Postgres),
    true = "true",
    false = "false",
    skip_locked = " FOR UPDATE SKIP LOCKED",
    queue_lock = "SELECT pg_advisory_xact_lock(hashtextextended('factus-api invoice_ledger queue', 0))"
);
