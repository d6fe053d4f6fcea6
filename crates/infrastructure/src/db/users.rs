//! The user and failed-login adapters, written once for both backends (`postgres.rs`,
//! `sqlite.rs`). The SQL text is the same on both (`$n` parameters, which SQLite reads too);
//! what differs is passed in (the pool type, the boolean literal, how an address is compared)
//! or found in scope where a macro is invoked: how values are bound (`id_param`,
//! `timestamp_param`), how a row is read (`optional_timestamp`, and `FromRow` for [`UserRow`] by `user_row!`),
//! the readiness `probe` and how a taken username is recognised (`violates_username_constraint`).
//!
//! [`UserRow`]: super::UserRow

use std::net::IpAddr;

/// The address as stored: an IPv4 client seen through a dual-stack socket (`::ffff:a.b.c.d`)
/// counts as the same address as `a.b.c.d`. Postgres binds it as text and casts it to `inet` in
/// SQL, which spares a sqlx feature for one column that is never read back.
pub(super) fn address_text(address: Option<IpAddr>) -> Option<String> {
    address.map(|address| address.to_canonical().to_string())
}

/// [`UserStore`](factus_application::ports::UserStore) on one backend.
macro_rules! user_store {
    ($(#[$attribute:meta])* $store:ident($pool:ty), false = $false:literal) => {
        $crate::db::pooled_store!($(#[$attribute])* $store($pool));

        const _: () = {
            use async_trait::async_trait;
            use factus_application::StoreError;
            use factus_application::ports::{InsertUserError, UserStore};
            use factus_domain::user::{User, Username};

            use $crate::db::{UserRow, corrupt, count_u64, unexpected};

            #[async_trait]
            impl UserStore for $store {
                async fn insert(&self, user: &User) -> Result<(), InsertUserError> {
                    let inserted = sqlx::query(
                        "INSERT INTO users
                             (id, username, password_hash, role, disabled, created_at, updated_at, token_version)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
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
                    let count: i64 =
                        sqlx::query_scalar(concat!("SELECT count(*) FROM users WHERE role = 'admin' AND disabled = ", $false))
                            .fetch_one(&self.pool)
                            .await
                            .map_err(|error| unexpected(error, "counting enabled admins"))?;
                    Ok(count_u64(count))
                }

                async fn ping(&self) -> Result<(), StoreError> {
                    probe(&self.pool).await
                }
            }
        };
    };
}
pub(super) use user_store;

/// [`LoginAttemptStore`](factus_application::ports::LoginAttemptStore) on one backend. `address`
/// is the address parameter as the backend compares it, `same_address` the condition "the
/// stored address is that one, or both are missing".
macro_rules! login_attempt_store {
    (
        $(#[$attribute:meta])* $store:ident($pool:ty),
        address = $address:literal,
        same_address = $same_address:literal
    ) => {
        $crate::db::pooled_store!($(#[$attribute])* $store($pool));

        const _: () = {
            use std::net::IpAddr;

            use async_trait::async_trait;
            use factus_application::StoreError;
            use factus_application::ports::{FailureWindow, LoginAttemptStore};
            use sqlx::Row as _;
            use time::OffsetDateTime;

            use $crate::db::users::address_text;
            use $crate::db::{attempted_username_key, count_u32, unexpected};

            #[async_trait]
            impl LoginAttemptStore for $store {
                async fn record_failure(
                    &self,
                    username: &str,
                    address: Option<IpAddr>,
                    at: OffsetDateTime,
                ) -> Result<(), StoreError> {
                    sqlx::query(concat!(
                        "INSERT INTO login_failures (username, client_address, attempted_at) VALUES ($1, ",
                        $address,
                        ", $3)"
                    ))
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
                    // One round trip for the three windows. A NULL address matches no row by
                    // address (0 and NULL), and pairs with the username's failures that had no
                    // address.
                    let row = sqlx::query(concat!(
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
                                  WHERE username = $1 AND ",
                        $same_address,
                        " AND attempted_at >= $3) AS by_pair,
                                (SELECT count(*) AS failures, min(attempted_at) AS oldest
                                   FROM login_failures
                                  WHERE client_address = ",
                        $address,
                        " AND attempted_at >= $3) AS by_address"
                    ))
                    .bind(attempted_username_key(username).into_owned())
                    .bind(address_text(address))
                    .bind(timestamp_param(since)?)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(|error| unexpected(error, "counting failed logins"))?;
                    let read = |error| unexpected(error, "reading the failed-login counts");
                    let count = |column: &str| row.try_get(column).map(count_u32).map_err(read);
                    let oldest = |column: &str| optional_timestamp(&row, column).map_err(read);
                    Ok(FailureWindow {
                        username_failures: count("username_failures")?,
                        username_oldest: oldest("username_oldest")?,
                        pair_failures: count("pair_failures")?,
                        pair_oldest: oldest("pair_oldest")?,
                        address_failures: count("address_failures")?,
                        address_oldest: oldest("address_oldest")?,
                    })
                }

                async fn clear_failures(&self, username: &str, address: Option<IpAddr>) -> Result<(), StoreError> {
                    sqlx::query(concat!("DELETE FROM login_failures WHERE username = $1 AND ", $same_address))
                        .bind(attempted_username_key(username).into_owned())
                        .bind(address_text(address))
                        .execute(&self.pool)
                        .await
                        .map(drop)
                        .map_err(|error| {
                            unexpected(error, "clearing failed logins of a username from an address")
                        })
                }

                async fn prune(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
                    let result = sqlx::query("DELETE FROM login_failures WHERE attempted_at < $1")
                        .bind(timestamp_param(before)?)
                        .execute(&self.pool)
                        .await
                        .map_err(|error| unexpected(error, "pruning old failed logins"))?;
                    Ok(result.rows_affected())
                }
            }
        };
    };
}
pub(super) use login_attempt_store;
