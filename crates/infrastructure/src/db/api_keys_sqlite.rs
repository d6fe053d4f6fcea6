//! [`ApiKeyStore`](factus_application::api_keys::ApiKeyStore) on SQLite; the adapter is written
//! once in `db/api_keys.rs`.

use sqlx::sqlite::SqliteRow;
use sqlx::{FromRow, Row as _, SqlitePool};
use time::OffsetDateTime;
use uuid::fmt::Hyphenated;

use super::api_keys::{ApiKeyRow, api_key_store};
use super::sqlite::{decode_timestamp, id_param, timestamp_param};

impl FromRow<'_, SqliteRow> for ApiKeyRow {
    fn from_row(row: &SqliteRow) -> sqlx::Result<Self> {
        let decode = |column: &str, text: &str| -> sqlx::Result<OffsetDateTime> {
            decode_timestamp(text)
                .map_err(|error| sqlx::Error::ColumnDecode { index: column.to_owned(), source: error.into() })
        };
        let optional = |column: &str| -> sqlx::Result<Option<OffsetDateTime>> {
            let text: Option<String> = row.try_get(column)?;
            text.as_deref().map(|text| decode(column, text)).transpose()
        };
        let created_at: String = row.try_get("created_at")?;
        let id: Hyphenated = row.try_get("id")?;
        let user_id: Hyphenated = row.try_get("user_id")?;
        Ok(Self {
            id: id.into_uuid(),
            name: row.try_get("name")?,
            prefix: row.try_get("prefix")?,
            user_id: user_id.into_uuid(),
            username: row.try_get("username")?,
            created_at: decode("created_at", &created_at)?,
            expires_at: optional("expires_at")?,
            last_used_at: optional("last_used_at")?,
            revoked_at: optional("revoked_at")?,
        })
    }
}

api_key_store!(
    /// [`ApiKeyStore`](factus_application::api_keys::ApiKeyStore) on SQLite.
    SqliteApiKeyStore(SqlitePool),
    any_user = "$1 IS NULL"
);
