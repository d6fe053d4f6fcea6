//! [`ApiKeyStore`] on Postgres.

use async_trait::async_trait;
use factus_application::StoreError;
use factus_application::api_keys::{ApiKey, ApiKeyDigest, ApiKeyStore, NewApiKey};
use sqlx::postgres::PgRow;
use sqlx::{FromRow, PgPool, Row as _};
use time::OffsetDateTime;
use uuid::Uuid;

use super::api_keys::{ApiKeyRow, api_key_columns};
use super::{truncate_to_micros, unexpected};

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

/// [`ApiKeyStore`] on Postgres.
#[derive(Debug, Clone)]
pub struct PgApiKeyStore {
    pool: PgPool,
}

impl PgApiKeyStore {
    #[must_use]
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    async fn one(&self, id: Uuid) -> Result<Option<ApiKey>, StoreError> {
        let row: Option<ApiKeyRow> = sqlx::query_as(concat!(
            "SELECT ",
            api_key_columns!(),
            " FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(|error| unexpected(error, format!("reading API key {id}")))?;
        row.map(ApiKey::try_from).transpose().map_err(StoreError)
    }
}

#[async_trait]
impl ApiKeyStore for PgApiKeyStore {
    async fn insert(&self, key: &NewApiKey) -> Result<ApiKey, StoreError> {
        sqlx::query(
            "INSERT INTO api_keys (id, user_id, name, prefix, key_digest, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(key.id)
        .bind(key.user_id)
        .bind(key.name.as_str())
        .bind(&key.prefix)
        .bind(key.digest.as_str())
        .bind(truncate_to_micros(key.created_at))
        .bind(key.expires_at.map(truncate_to_micros))
        .execute(&self.pool)
        .await
        .map_err(|error| unexpected(error, format!("inserting API key {}", key.prefix)))?;
        self.one(key.id).await?.ok_or_else(|| StoreError(anyhow::anyhow!("API key {} vanished after insert", key.id)))
    }

    async fn find_by_digest(&self, digest: &ApiKeyDigest) -> Result<Option<ApiKey>, StoreError> {
        let row: Option<ApiKeyRow> = sqlx::query_as(concat!(
            "SELECT ",
            api_key_columns!(),
            " FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.key_digest = $1"
        ))
        .bind(digest.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(|error| unexpected(error, "looking up an API key"))?;
        row.map(ApiKey::try_from).transpose().map_err(StoreError)
    }

    async fn find(&self, id: Uuid) -> Result<Option<ApiKey>, StoreError> {
        self.one(id).await
    }

    async fn list(&self, user_id: Option<Uuid>) -> Result<Vec<ApiKey>, StoreError> {
        let rows: Vec<ApiKeyRow> = sqlx::query_as(concat!(
            "SELECT ",
            api_key_columns!(),
            " FROM api_keys k JOIN users u ON u.id = k.user_id
             WHERE $1::uuid IS NULL OR k.user_id = $1
             ORDER BY k.created_at, k.id"
        ))
        .bind(user_id)
        .fetch_all(&self.pool)
        .await
        .map_err(|error| unexpected(error, "listing API keys"))?;
        rows.into_iter().map(ApiKey::try_from).collect::<Result<_, _>>().map_err(StoreError)
    }

    async fn revoke(&self, id: Uuid, at: OffsetDateTime) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .bind(truncate_to_micros(at))
            .execute(&self.pool)
            .await
            .map_err(|error| unexpected(error, format!("revoking API key {id}")))?;
        Ok(done.rows_affected() > 0)
    }

    async fn touch(&self, id: Uuid, at: OffsetDateTime) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE api_keys SET last_used_at = $2
             WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)",
        )
        .bind(id)
        .bind(truncate_to_micros(at))
        .execute(&self.pool)
        .await
        .map(drop)
        .map_err(|error| unexpected(error, format!("recording the use of API key {id}")))
    }
}
