//! The SQLite stores: the embedded default, one file next to the binary.
//!
//! SQLite has no timestamp or UUID type. Every table stores UUIDs as hyphenated text and
//! timestamps as UTC text in one fixed shape ([`encode_timestamp`]), so that comparing the text
//! compares the instants and the sqlite3 shell shows readable values.
//!
//! The user and failed-login adapters are written once in `db/users.rs`; this module says how
//! SQLite reads a row, binds values, names a violated constraint and probes readiness.

use anyhow::Context as _;
use factus_application::StoreError;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row as _, SqlitePool};
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};
use uuid::Uuid;
use uuid::fmt::Hyphenated;

use super::users::{login_attempt_store, user_store};
use super::{UserRow, truncate_to_micros, unexpected, user_row};

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ`: fixed width, so text order is time order; microseconds, like
/// Postgres, so both backends round-trip the same values.
const TIMESTAMP_FORMAT: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// A timestamp as SQLite stores it: converted to UTC, cut to microseconds (as Postgres does).
///
/// # Errors
/// For years outside 0000–9999, which the fixed-width text cannot hold.
pub fn encode_timestamp(at: OffsetDateTime) -> anyhow::Result<String> {
    let utc = truncate_to_micros(at.to_offset(UtcOffset::UTC));
    anyhow::ensure!((0..=9999).contains(&utc.year()), "timestamp {at} is out of range");
    utc.format(TIMESTAMP_FORMAT).with_context(|| format!("formatting timestamp {at}"))
}

/// Reads a timestamp written by [`encode_timestamp`] (or by a column default).
///
/// # Errors
/// When the text is not in that shape.
pub fn decode_timestamp(text: &str) -> anyhow::Result<OffsetDateTime> {
    PrimitiveDateTime::parse(text, TIMESTAMP_FORMAT)
        .map(PrimitiveDateTime::assume_utc)
        .with_context(|| format!("stored timestamp {text:?} is not in the expected shape"))
}

/// Encodes a timestamp for a query; a failure is the caller's bug or an absurd date, reported
/// like any other store failure.
pub(super) fn timestamp_param(at: OffsetDateTime) -> Result<String, StoreError> {
    encode_timestamp(at).map_err(StoreError)
}

user_row!(SqliteRow);

pub(super) fn id_param(id: Uuid) -> Hyphenated {
    id.hyphenated()
}

/// The timestamp of `column` (written by [`encode_timestamp`]), a text that does not decode
/// reported as sqlx reports a column it cannot decode.
fn decoded(column: &str, text: &str) -> sqlx::Result<OffsetDateTime> {
    decode_timestamp(text).map_err(|error| sqlx::Error::ColumnDecode { index: column.to_owned(), source: error.into() })
}

/// A timestamp column.
pub(super) fn timestamp(row: &SqliteRow, column: &str) -> sqlx::Result<OffsetDateTime> {
    let text: String = row.try_get(column)?;
    decoded(column, &text)
}

/// A timestamp column that may be `NULL`.
pub(super) fn optional_timestamp(row: &SqliteRow, column: &str) -> sqlx::Result<Option<OffsetDateTime>> {
    let text: Option<String> = row.try_get(column)?;
    text.as_deref().map(|text| decoded(column, text)).transpose()
}

/// A UUID column, stored as hyphenated text.
pub(super) fn uuid(row: &SqliteRow, column: &str) -> sqlx::Result<Uuid> {
    row.try_get(column).map(Hyphenated::into_uuid)
}

/// The readiness probe: the database file is still where it was opened, and a write transaction
/// can start and journal a page. Rewriting `user_version` with its own value inside a transaction
/// that is rolled back changes nothing, but makes SQLite create the rollback journal next to the
/// database and write page 1 to it: that fails when the directory was deleted, is unwritable or
/// the disk is full, exactly when real writes would.
pub(super) async fn probe(pool: &SqlitePool) -> Result<(), StoreError> {
    let attempted = "probing SQLite";
    let options = pool.connect_options();
    let filename = options.get_filename();
    // sqlx names an in-memory database `file:sqlx-in-memory-<n>` (shared cache); it has no file.
    let shown = filename.to_string_lossy();
    let in_memory = shown.is_empty() || shown.contains(":memory:") || shown.starts_with("file:sqlx-in-memory");
    if !in_memory && let Err(error) = std::fs::metadata(filename) {
        return Err(StoreError::unavailable(error, false, format!("{attempted}: {}", filename.display())));
    }
    // IMMEDIATE takes the write lock first, so a busy database makes the probe wait (busy
    // timeout) instead of failing: a deferred transaction that reads and then writes gets
    // SQLITE_BUSY at once when another writer is committing (SQLite refuses to wait there to
    // avoid a deadlock), and readiness would flap to "unreachable" under ordinary write load.
    let mut transaction = pool.begin_with("BEGIN IMMEDIATE").await.map_err(|error| unexpected(error, attempted))?;
    let version: i64 = sqlx::query_scalar("PRAGMA user_version")
        .fetch_one(&mut *transaction)
        .await
        .map_err(|error| unexpected(error, attempted))?;
    sqlx::query(sqlx::AssertSqlSafe(format!("PRAGMA user_version = {version}")))
        .execute(&mut *transaction)
        .await
        .map_err(|error| unexpected(error, attempted))?;
    transaction.rollback().await.map_err(|error| unexpected(error, attempted))
}

/// SQLite reports a unique violation as "UNIQUE constraint failed: users.username", naming the
/// column rather than the constraint.
fn violates_username_constraint(error: &sqlx::Error) -> bool {
    error.as_database_error().is_some_and(|database_error| {
        database_error.is_unique_violation() && database_error.message().contains("users.username")
    })
}

user_store!(
    /// [`UserStore`](factus_application::ports::UserStore) on SQLite.
    SqliteUserStore(SqlitePool),
    false = "0"
);

login_attempt_store!(
    /// [`LoginAttemptStore`](factus_application::ports::LoginAttemptStore) on SQLite: addresses
    /// are canonical text, and `IS` matches two missing ones.
    SqliteLoginAttemptStore(SqlitePool),
    address = "$2",
    same_address = "client_address IS $2"
);

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn timestamps_are_written_as_fixed_width_utc_text() {
        let at = datetime!(2026-11-25 08:59:01.123456789 -5);
        assert_eq!(encode_timestamp(at).unwrap(), "2026-11-25T13:59:01.123456Z");
    }

    #[test]
    fn timestamps_round_trip_to_the_microsecond() {
        let at = datetime!(2026-01-02 03:04:05.000007 UTC);
        assert_eq!(decode_timestamp(&encode_timestamp(at).unwrap()).unwrap(), at);
    }

    #[test]
    fn text_order_is_time_order() {
        let earlier = encode_timestamp(datetime!(2026-11-25 13:59:01.9 UTC)).unwrap();
        let later = encode_timestamp(datetime!(2026-11-25 13:59:02.05 UTC)).unwrap();
        assert!(earlier < later);
    }

    #[test]
    fn column_defaults_written_by_sqlite_can_be_read() {
        assert_eq!(decode_timestamp("2026-11-25T13:59:01.123000Z").unwrap(), datetime!(2026-11-25 13:59:01.123 UTC));
    }

    #[test]
    fn timestamps_in_another_shape_are_refused() {
        assert!(decode_timestamp("2026-11-25 13:59:01").is_err());
    }

    #[test]
    fn years_beyond_the_fixed_width_are_refused() {
        assert!(encode_timestamp(datetime!(-0001-01-01 0:00 UTC)).is_err());
    }
}
