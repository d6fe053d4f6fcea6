//! [`ApiKeyStore`](factus_application::api_keys::ApiKeyStore) on SQLite; the adapter is written
//! once in `db/api_keys.rs`.

use sqlx::sqlite::SqliteRow;
use sqlx::{FromRow, Row as _, SqlitePool};

use super::api_keys::{ApiKeyRow, api_key_store};
use super::sqlite::{id_param, optional_timestamp, timestamp, timestamp_param, uuid};

impl FromRow<'_, SqliteRow> for ApiKeyRow {
    fn from_row(row: &SqliteRow) -> sqlx::Result<Self> {
        Ok(Self {
            id: uuid(row, "id")?,
            name: row.try_get("name")?,
            prefix: row.try_get("prefix")?,
            user_id: uuid(row, "user_id")?,
            username: row.try_get("username")?,
            created_at: timestamp(row, "created_at")?,
            expires_at: optional_timestamp(row, "expires_at")?,
            last_used_at: optional_timestamp(row, "last_used_at")?,
            revoked_at: optional_timestamp(row, "revoked_at")?,
        })
    }
}

api_key_store!(
    /// [`ApiKeyStore`](factus_application::api_keys::ApiKeyStore) on SQLite.
    SqliteApiKeyStore(SqlitePool),
    any_user = "$1 IS NULL"
);
