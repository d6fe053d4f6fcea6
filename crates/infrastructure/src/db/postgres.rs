//! The Postgres stores: the deployment backend, shared by every instance. The user and
//! failed-login adapters are written once in `db/users.rs`; this module says how Postgres reads
//! a row, binds values, names a violated constraint and probes readiness.

use factus_application::StoreError;
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row as _};
use time::OffsetDateTime;
use uuid::Uuid;

use super::users::{login_attempt_store, user_store};
use super::{UserRow, truncate_to_micros, unexpected, user_row};

/// The name of the unique constraint on `users.username` (see the migration); a violation of it
/// means "username taken", any other failure is unexpected.
const USERNAME_CONSTRAINT: &str = "users_username_key";

user_row!(PgRow);

pub(super) fn id_param(id: Uuid) -> Uuid {
    id
}

/// A timestamp as bound to a query: cut to microseconds, as SQLite stores it.
pub(super) fn timestamp_param(at: OffsetDateTime) -> Result<OffsetDateTime, StoreError> {
    Ok(truncate_to_micros(at))
}

// Postgres reads UUIDs and timestamps as they are (SQLite decodes them from text).
pub(super) fn uuid(row: &PgRow, column: &str) -> sqlx::Result<Uuid> {
    row.try_get(column)
}

pub(super) fn timestamp(row: &PgRow, column: &str) -> sqlx::Result<OffsetDateTime> {
    row.try_get(column)
}

pub(super) fn optional_timestamp(row: &PgRow, column: &str) -> sqlx::Result<Option<OffsetDateTime>> {
    row.try_get(column)
}

fn violates_username_constraint(error: &sqlx::Error) -> bool {
    error.as_database_error().is_some_and(|database_error| {
        database_error.is_unique_violation() && database_error.constraint() == Some(USERNAME_CONSTRAINT)
    })
}

/// The readiness probe: the server answers *and* accepts writes. After a fail-over to a standby
/// (`pg_is_in_recovery()`), or with `default_transaction_read_only` set, every write would fail,
/// so the instance is not ready even though `SELECT 1` works.
pub(super) async fn probe(pool: &PgPool) -> Result<(), StoreError> {
    let read_only: bool =
        sqlx::query_scalar("SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on'")
            .fetch_one(pool)
            .await
            .map_err(|error| unexpected(error, "probing Postgres"))?;
    if read_only {
        return Err(StoreError::unavailable(
            std::io::Error::other("Postgres accepts no writes (a standby, or read-only transactions by default)"),
            true,
            "probing Postgres",
        ));
    }
    Ok(())
}

user_store!(
    /// [`UserStore`](factus_application::ports::UserStore) on Postgres.
    PgUserStore(PgPool),
    false = "false"
);

login_attempt_store!(
    /// [`LoginAttemptStore`](factus_application::ports::LoginAttemptStore) on Postgres.
    PgLoginAttemptStore(PgPool),
    address = "$2::inet",
    same_address = "client_address IS NOT DISTINCT FROM $2::inet"
);
