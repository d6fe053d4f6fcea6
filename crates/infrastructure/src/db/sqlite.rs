//! The SQLite stores: the embedded default, one file next to the binary.
//!
//! SQLite has no timestamp or UUID type. Every table stores UUIDs as hyphenated text and
//! timestamps as UTC text in one fixed shape ([`encode_timestamp`]), so that comparing the text
//! compares the instants and the sqlite3 shell shows readable values.

use std::net::IpAddr;

use anyhow::Context as _;
use async_trait::async_trait;
use factus_application::StoreError;
use factus_application::ports::{FailureWindow, InsertUserError, LoginAttemptStore, UserStore};
use factus_domain::user::{User, Username};
use sqlx::sqlite::SqliteRow;
use sqlx::{FromRow, Row as _, SqlitePool};
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};
use uuid::Uuid;
use uuid::fmt::Hyphenated;

use super::{UserRow, attempted_username_key, corrupt, count_u32, count_u64, truncate_to_micros, unexpected};

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
fn timestamp_param(at: OffsetDateTime) -> Result<String, StoreError> {
    encode_timestamp(at).map_err(StoreError)
}

impl FromRow<'_, SqliteRow> for UserRow {
    fn from_row(row: &SqliteRow) -> sqlx::Result<Self> {
        let timestamp = |column: &str| -> sqlx::Result<OffsetDateTime> {
            let text: String = row.try_get(column)?;
            decode_timestamp(&text)
                .map_err(|error| sqlx::Error::ColumnDecode { index: column.to_owned(), source: error.into() })
        };
        let id: Hyphenated = row.try_get("id")?;
        Ok(Self {
            id: id.into_uuid(),
            username: row.try_get("username")?,
            password_hash: row.try_get("password_hash")?,
            role: row.try_get("role")?,
            disabled: row.try_get("disabled")?,
            token_version: row.try_get("token_version")?,
            created_at: timestamp("created_at")?,
            updated_at: timestamp("updated_at")?,
        })
    }
}

fn id_param(id: Uuid) -> Hyphenated {
    id.hyphenated()
}

/// [`UserStore`] on SQLite.
#[derive(Debug, Clone)]
pub struct SqliteUserStore {
    pool: SqlitePool,
}

impl SqliteUserStore {
    #[must_use]
    pub fn new(pool: SqlitePool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl UserStore for SqliteUserStore {
    async fn insert(&self, user: &User) -> Result<(), InsertUserError> {
        let inserted = sqlx::query(
            "INSERT INTO users (id, username, password_hash, role, disabled, created_at, updated_at, token_version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .bind(id_param(user.id))
        .bind(user.username.as_str())
        .bind(user.password_hash.as_phc())
        .bind(user.role.as_str())
        .bind(user.disabled)
        .bind(timestamp_param(user.created_at)?)
        .bind(timestamp_param(user.updated_at)?)
        .bind(user.token_version)
        .execute(&self.pool)
        .await;
        match inserted {
            Ok(_) => Ok(()),
            Err(error) if violates_username_constraint(&error) => {
                Err(InsertUserError::UsernameTaken(user.username.clone()))
            }
            Err(error) => Err(unexpected(error, format!("inserting user {}", user.username)).into()),
        }
    }

    async fn find_by_username(&self, username: &Username) -> Result<Option<User>, StoreError> {
        let row: Option<UserRow> = sqlx::query_as(
            "SELECT id, username, password_hash, role, disabled, token_version, created_at, updated_at
               FROM users WHERE username = ?1",
        )
        .bind(username.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(|error| unexpected(error, format!("looking up user {username}")))?;
        row.map(User::try_from).transpose().map_err(corrupt)
    }

    async fn list(&self) -> Result<Vec<User>, StoreError> {
        let rows: Vec<UserRow> = sqlx::query_as(
            "SELECT id, username, password_hash, role, disabled, token_version, created_at, updated_at
               FROM users ORDER BY username",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|error| unexpected(error, "listing users"))?;
        rows.into_iter().map(User::try_from).collect::<Result<_, _>>().map_err(corrupt)
    }

    async fn update(&self, user: &User) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE users SET password_hash = ?2, role = ?3, disabled = ?4, updated_at = ?5,
                              token_version = ?6
             WHERE id = ?1",
        )
        .bind(id_param(user.id))
        .bind(user.password_hash.as_phc())
        .bind(user.role.as_str())
        .bind(user.disabled)
        .bind(timestamp_param(user.updated_at)?)
        .bind(user.token_version)
        .execute(&self.pool)
        .await
        .map_err(|error| unexpected(error, format!("updating user {}", user.username)))?;
        Ok(result.rows_affected() > 0)
    }

    async fn delete(&self, username: &Username) -> Result<bool, StoreError> {
        let result = sqlx::query("DELETE FROM users WHERE username = ?1")
            .bind(username.as_str())
            .execute(&self.pool)
            .await
            .map_err(|error| unexpected(error, format!("deleting user {username}")))?;
        Ok(result.rows_affected() > 0)
    }

    async fn count(&self) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
            .fetch_one(&self.pool)
            .await
            .map_err(|error| unexpected(error, "counting users"))?;
        Ok(count_u64(count))
    }

    async fn count_enabled_admins(&self) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0")
            .fetch_one(&self.pool)
            .await
            .map_err(|error| unexpected(error, "counting enabled admins"))?;
        Ok(count_u64(count))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        probe(&self.pool).await
    }
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

/// [`LoginAttemptStore`] on SQLite.
#[derive(Debug, Clone)]
pub struct SqliteLoginAttemptStore {
    pool: SqlitePool,
}

impl SqliteLoginAttemptStore {
    #[must_use]
    pub fn new(pool: SqlitePool) -> Self {
        Self { pool }
    }
}

/// The address as stored: canonical text, so an IPv4 client seen through a dual-stack socket
/// (`::ffff:a.b.c.d`) counts as the same address as `a.b.c.d`.
fn address_text(address: Option<IpAddr>) -> Option<String> {
    address.map(|address| address.to_canonical().to_string())
}

#[async_trait]
impl LoginAttemptStore for SqliteLoginAttemptStore {
    async fn record_failure(
        &self,
        username: &str,
        address: Option<IpAddr>,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO login_failures (username, client_address, attempted_at)
             VALUES (?1, ?2, ?3)",
        )
        .bind(attempted_username_key(username).into_owned())
        .bind(address_text(address))
        .bind(timestamp_param(at)?)
        .execute(&self.pool)
        .await
        .map(drop)
        .map_err(|error| unexpected(error, "recording a failed login"))
    }

    async fn failures_since(
        &self,
        username: &str,
        address: Option<IpAddr>,
        since: OffsetDateTime,
    ) -> Result<FailureWindow, StoreError> {
        // One round trip for the three windows. A NULL address matches no row by address
        // (0 and NULL), and pairs with the username's failures that had no address (`IS`).
        let row = sqlx::query(
            "SELECT by_name.failures AS username_failures,
                    by_name.oldest   AS username_oldest,
                    by_pair.failures AS pair_failures,
                    by_pair.oldest   AS pair_oldest,
                    by_address.failures AS address_failures,
                    by_address.oldest   AS address_oldest
               FROM (SELECT count(*) AS failures, min(attempted_at) AS oldest
                       FROM login_failures
                      WHERE username = ?1 AND attempted_at >= ?3) AS by_name,
                    (SELECT count(*) AS failures, min(attempted_at) AS oldest
                       FROM login_failures
                      WHERE username = ?1 AND client_address IS ?2 AND attempted_at >= ?3) AS by_pair,
                    (SELECT count(*) AS failures, min(attempted_at) AS oldest
                       FROM login_failures
                      WHERE client_address = ?2 AND attempted_at >= ?3) AS by_address",
        )
        .bind(attempted_username_key(username).into_owned())
        .bind(address_text(address))
        .bind(timestamp_param(since)?)
        .fetch_one(&self.pool)
        .await
        .map_err(|error| unexpected(error, "counting failed logins"))?;
        let read = |error| unexpected(error, "reading the failed-login counts");
        let oldest = |column: &str| -> Result<Option<OffsetDateTime>, StoreError> {
            let text: Option<String> = row.try_get(column).map_err(read)?;
            text.as_deref().map(decode_timestamp).transpose().map_err(StoreError)
        };
        Ok(FailureWindow {
            username_failures: count_u32(row.try_get("username_failures").map_err(read)?),
            username_oldest: oldest("username_oldest")?,
            pair_failures: count_u32(row.try_get("pair_failures").map_err(read)?),
            pair_oldest: oldest("pair_oldest")?,
            address_failures: count_u32(row.try_get("address_failures").map_err(read)?),
            address_oldest: oldest("address_oldest")?,
        })
    }

    async fn clear_failures(&self, username: &str, address: Option<IpAddr>) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_failures WHERE username = ?1 AND client_address IS ?2")
            .bind(attempted_username_key(username).into_owned())
            .bind(address_text(address))
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(|error| unexpected(error, "clearing failed logins of a username from an address"))
    }

    async fn prune(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        let result = sqlx::query("DELETE FROM login_failures WHERE attempted_at < ?1")
            .bind(timestamp_param(before)?)
            .execute(&self.pool)
            .await
            .map_err(|error| unexpected(error, "pruning old failed logins"))?;
        Ok(result.rows_affected())
    }
}

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
