//! The Postgres stores: the deployment backend, shared by every instance.

use std::net::IpAddr;

use async_trait::async_trait;
use factus_application::StoreError;
use factus_application::ports::{FailureWindow, InsertUserError, LoginAttemptStore, UserStore};
use factus_domain::user::{User, Username};
use sqlx::postgres::PgRow;
use sqlx::{FromRow, PgPool, Row as _};
use time::OffsetDateTime;

use super::{UserRow, attempted_username_key, corrupt, count_u32, count_u64, truncate_to_micros, unexpected};

/// The name of the unique constraint on `users.username` (see the migration); a violation of it
/// means "username taken", any other failure is unexpected.
const USERNAME_CONSTRAINT: &str = "users_username_key";

impl FromRow<'_, PgRow> for UserRow {
    fn from_row(row: &PgRow) -> sqlx::Result<Self> {
        Ok(Self {
            id: row.try_get("id")?,
            username: row.try_get("username")?,
            password_hash: row.try_get("password_hash")?,
            role: row.try_get("role")?,
            disabled: row.try_get("disabled")?,
            token_version: row.try_get("token_version")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

/// [`UserStore`] on Postgres.
#[derive(Debug, Clone)]
pub struct PgUserStore {
    pool: PgPool,
}

impl PgUserStore {
    #[must_use]
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl UserStore for PgUserStore {
    async fn insert(&self, user: &User) -> Result<(), InsertUserError> {
        let inserted = sqlx::query(
            "INSERT INTO users (id, username, password_hash, role, disabled, created_at, updated_at, token_version)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(user.id)
        .bind(user.username.as_str())
        .bind(user.password_hash.as_phc())
        .bind(user.role.as_str())
        .bind(user.disabled)
        .bind(truncate_to_micros(user.created_at))
        .bind(truncate_to_micros(user.updated_at))
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
               FROM users WHERE username = $1",
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
            "UPDATE users SET password_hash = $2, role = $3, disabled = $4, updated_at = $5,
                              token_version = $6
             WHERE id = $1",
        )
        .bind(user.id)
        .bind(user.password_hash.as_phc())
        .bind(user.role.as_str())
        .bind(user.disabled)
        .bind(truncate_to_micros(user.updated_at))
        .bind(user.token_version)
        .execute(&self.pool)
        .await
        .map_err(|error| unexpected(error, format!("updating user {}", user.username)))?;
        Ok(result.rows_affected() > 0)
    }

    async fn delete(&self, username: &Username) -> Result<bool, StoreError> {
        let result = sqlx::query("DELETE FROM users WHERE username = $1")
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
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE role = 'admin' AND NOT disabled")
            .fetch_one(&self.pool)
            .await
            .map_err(|error| unexpected(error, "counting enabled admins"))?;
        Ok(count_u64(count))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        probe(&self.pool).await
    }
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

/// [`LoginAttemptStore`] on Postgres.
#[derive(Debug, Clone)]
pub struct PgLoginAttemptStore {
    pool: PgPool,
}

impl PgLoginAttemptStore {
    #[must_use]
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

/// The address as stored: an IPv4 client seen through a dual-stack socket (`::ffff:a.b.c.d`)
/// counts as the same address as `a.b.c.d`. Bound as text and cast to `inet` in SQL, which
/// spares a sqlx feature for one column that is never read back.
fn address_text(address: Option<IpAddr>) -> Option<String> {
    address.map(|address| address.to_canonical().to_string())
}

#[async_trait]
impl LoginAttemptStore for PgLoginAttemptStore {
    async fn record_failure(
        &self,
        username: &str,
        address: Option<IpAddr>,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO login_failures (username, client_address, attempted_at)
             VALUES ($1, $2::inet, $3)",
        )
        .bind(attempted_username_key(username).into_owned())
        .bind(address_text(address))
        .bind(truncate_to_micros(at))
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
        // (0 and NULL), and pairs with the username's failures that had no address.
        let row = sqlx::query(
            "SELECT by_name.failures AS username_failures,
                    by_name.oldest   AS username_oldest,
                    by_pair.failures AS pair_failures,
                    by_pair.oldest   AS pair_oldest,
                    by_address.failures AS address_failures,
                    by_address.oldest   AS address_oldest
               FROM (SELECT count(*) AS failures, min(attempted_at) AS oldest
                       FROM login_failures
                      WHERE username = $1 AND attempted_at >= $3) AS by_name,
                    (SELECT count(*) AS failures, min(attempted_at) AS oldest
                       FROM login_failures
                      WHERE username = $1 AND client_address IS NOT DISTINCT FROM $2::inet
                        AND attempted_at >= $3) AS by_pair,
                    (SELECT count(*) AS failures, min(attempted_at) AS oldest
                       FROM login_failures
                      WHERE client_address = $2::inet AND attempted_at >= $3) AS by_address",
        )
        .bind(attempted_username_key(username).into_owned())
        .bind(address_text(address))
        .bind(truncate_to_micros(since))
        .fetch_one(&self.pool)
        .await
        .map_err(|error| unexpected(error, "counting failed logins"))?;
        let read = |error| unexpected(error, "reading the failed-login counts");
        Ok(FailureWindow {
            username_failures: count_u32(row.try_get("username_failures").map_err(read)?),
            username_oldest: row.try_get("username_oldest").map_err(read)?,
            pair_failures: count_u32(row.try_get("pair_failures").map_err(read)?),
            pair_oldest: row.try_get("pair_oldest").map_err(read)?,
            address_failures: count_u32(row.try_get("address_failures").map_err(read)?),
            address_oldest: row.try_get("address_oldest").map_err(read)?,
        })
    }

    async fn clear_failures(&self, username: &str, address: Option<IpAddr>) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_failures WHERE username = $1 AND client_address IS NOT DISTINCT FROM $2::inet")
            .bind(attempted_username_key(username).into_owned())
            .bind(address_text(address))
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(|error| unexpected(error, "clearing failed logins of a username from an address"))
    }

    async fn prune(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        let result = sqlx::query("DELETE FROM login_failures WHERE attempted_at < $1")
            .bind(truncate_to_micros(before))
            .execute(&self.pool)
            .await
            .map_err(|error| unexpected(error, "pruning old failed logins"))?;
        Ok(result.rows_affected())
    }
}
