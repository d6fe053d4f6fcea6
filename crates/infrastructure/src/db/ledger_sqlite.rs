//! The invoice ledger on SQLite, the embedded default.
//!
//! Same schema guarantees as on Postgres (`migrations/sqlite/20261125000002_invoice_ledger.sql`):
//! SQLite supports the two partial unique indexes and `RETURNING`, and serialises writers, so a
//! claim or a compare-and-set transition is one atomic statement here too. SQLite reports a
//! unique violation by the indexed columns, not the index name: `invoice_ledger.reference_code`
//! is the active-reference index, `invoice_ledger.idempotency_key` the per-user key index.
//! UUIDs and timestamps are text, as in every SQLite table ([`super::sqlite`]), booleans 0/1.
//!
//! The adapter itself is written once in `db/ledger.rs`; this module says how SQLite decodes a
//! row, binds values and names a violated index.

use factus_application::StoreError;
use factus_application::ledger::LedgerEntry;
use sqlx::sqlite::SqliteRow;
use sqlx::{FromRow, Row as _, Sqlite, SqlitePool};
use uuid::fmt::Hyphenated;

use super::ledger::{ClaimConflict, LedgerRow, ledger_row, ledger_store};
use super::sqlite::{id_param, optional_timestamp, timestamp, timestamp_param, uuid};

/// How SQLite names the column of the active-reference index in a unique violation.
const ACTIVE_REFERENCE_COLUMN: &str = "invoice_ledger.reference_code";

/// How SQLite names the key column of the per-user key index in a unique violation.
const USER_KEY_COLUMN: &str = "invoice_ledger.idempotency_key";

impl FromRow<'_, SqliteRow> for LedgerRow {
    fn from_row(row: &SqliteRow) -> sqlx::Result<Self> {
        let api_key_id: Option<Hyphenated> = row.try_get("api_key_id")?;
        Ok(ledger_row!(row, {
            id: uuid(row, "id")?,
            user_id: uuid(row, "user_id")?,
            api_key_id: api_key_id.map(Hyphenated::into_uuid),
            error_status: row.try_get("error_status")?,
            attempts: row.try_get("attempts")?,
            created_at: timestamp(row, "created_at")?,
            updated_at: timestamp(row, "updated_at")?,
            issued_at: optional_timestamp(row, "issued_at")?,
        }))
    }
}

fn attempts_param(entry: &LedgerEntry) -> Result<i64, StoreError> {
    Ok(i64::from(entry.attempts))
}

fn status_param(status: Option<u16>) -> Option<i64> {
    status.map(i64::from)
}

fn violates(error: &sqlx::Error, conflict: ClaimConflict) -> bool {
    let column = match conflict {
        ClaimConflict::Reference => ACTIVE_REFERENCE_COLUMN,
        ClaimConflict::Key => USER_KEY_COLUMN,
    };
    error
        .as_database_error()
        .is_some_and(|database_error| database_error.is_unique_violation() && database_error.message().contains(column))
}

ledger_store!(
    /// [`LedgerStore`](factus_application::ledger::LedgerStore) on SQLite.
    SqliteLedgerStore(SqlitePool, Sqlite),
    true = "1",
    false = "0",
    skip_locked = "",
    queue_lock = ""
);
