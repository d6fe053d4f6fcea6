//! [`ApiKeyStore`](factus_application::api_keys::ApiKeyStore) on Postgres; the adapter is
//! written once in `db/api_keys.rs`.

use sqlx::postgres::PgRow;
use sqlx::{FromRow, PgPool, Row as _};

use super::api_keys::{ApiKeyRow, api_key_store};
use super::postgres::{id_param, timestamp_param};

impl FromRow<'_, PgRow> for ApiKeyRow {
    fn from_row(row: &PgRow) -> sqlx::Result<Self> {
        Ok(Self {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            prefix: row.try_get("prefix")?,
            user_id: row.try_get("user_id")?,
            username: row.try_get("username")?,
            created_at: row.try_get("created_at")?,
            expires_at: row.try_get("expires_at")?,
            last_used_at: row.try_get("last_used_at")?,
            revoked_at: row.try_get("revoked_at")?,
        })
    }
}

api_key_store!(
    /// [`ApiKeyStore`](factus_application::api_keys::ApiKeyStore) on Postgres.
    PgApiKeyStore(PgPool),
    any_user = "$1::uuid IS NULL"
);
