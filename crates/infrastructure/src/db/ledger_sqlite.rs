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
use time::OffsetDateTime;
use uuid::fmt::Hyphenated;

use super::ledger::{ClaimConflict, LedgerRow, ledger_store};
use super::sqlite::{decode_timestamp, id_param, timestamp_param};

/// How SQLite names the column of the active-reference index in a unique violation.
const ACTIVE_REFERENCE_COLUMN: &str = "invoice_ledger.reference_code";

/// How SQLite names the key column of the per-user key index in a unique violation.
const USER_KEY_COLUMN: &str = "invoice_ledger.idempotency_key";

impl FromRow<'_, SqliteRow> for LedgerRow {
    fn from_row(row: &SqliteRow) -> sqlx::Result<Self> {
        let decode = |column: &str, text: &str| {
            decode_timestamp(text)
                .map_err(|error| sqlx::Error::ColumnDecode { index: column.to_owned(), source: error.into() })
        };
        let timestamp = |column: &str| -> sqlx::Result<OffsetDateTime> {
            let text: String = row.try_get(column)?;
            decode(column, &text)
        };
        let issued_at: Option<String> = row.try_get("issued_at")?;
        let id: Hyphenated = row.try_get("id")?;
        let user_id: Hyphenated = row.try_get("user_id")?;
        let api_key_id: Option<Hyphenated> = row.try_get("api_key_id")?;
        Ok(Self {
            id: id.into_uuid(),
            user_id: user_id.into_uuid(),
            username: row.try_get("username")?,
            api_key_id: api_key_id.map(Hyphenated::into_uuid),
            reference_code: row.try_get("reference_code")?,
            idempotency_key: row.try_get("idempotency_key")?,
            request_fingerprint: row.try_get("request_fingerprint")?,
            state: row.try_get("state")?,
            response: row.try_get("response")?,
            error_status: row.try_get("error_status")?,
            error_detail: row.try_get("error_detail")?,
            attempts: row.try_get("attempts")?,
            created_at: timestamp("created_at")?,
            updated_at: timestamp("updated_at")?,
            issued_at: issued_at.as_deref().map(|text| decode("issued_at", text)).transpose()?,
            kind: row.try_get("kind")?,
            dian_rejected: row.try_get("dian_rejected")?,
            factus_deleted: row.try_get("factus_deleted")?,
            total: row.try_get("total")?,
            referenced_number: row.try_get("referenced_number")?,
            queued_request: row.try_get("queued_request")?,
            counterparty_identification: row.try_get("counterparty_identification")?,
            counterparty_name: row.try_get("counterparty_name")?,
        })
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
    skip_locked = ""
);
