//! What both API-key adapters share: the row shape and the columns read.

use anyhow::Context as _;
use factus_application::api_keys::{ApiKey, ApiKeyName};
use factus_domain::user::Username;
use time::OffsetDateTime;
use uuid::Uuid;

/// The columns every key query reads (keys `k` joined with their user `u`).
macro_rules! api_key_columns {
    () => {
        "k.id, k.name, k.prefix, k.user_id, u.username, k.created_at, k.expires_at, k.last_used_at, k.revoked_at"
    };
}
pub(super) use api_key_columns;

/// A key as stored, in the types both backends can produce.
#[derive(Debug, Clone)]
pub(super) struct ApiKeyRow {
    pub id: Uuid,
    pub name: String,
    pub prefix: String,
    pub user_id: Uuid,
    pub username: String,
    pub created_at: OffsetDateTime,
    pub expires_at: Option<OffsetDateTime>,
    pub last_used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

/// `FromRow` for [`ApiKeyRow`] on the backend whose row is `$backend`: the ids and the
/// timestamps through that backend's `uuid`, `timestamp` and `optional_timestamp` (in scope
/// where this is written), every other column read as it is.
macro_rules! api_key_row {
    ($backend:ty) => {
        impl sqlx::FromRow<'_, $backend> for ApiKeyRow {
            fn from_row(row: &$backend) -> sqlx::Result<Self> {
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
    };
}
pub(super) use api_key_row;

impl TryFrom<ApiKeyRow> for ApiKey {
    type Error = anyhow::Error;

    fn try_from(row: ApiKeyRow) -> Result<Self, Self::Error> {
        let id = row.id;
        Ok(Self {
            id,
            name: ApiKeyName::parse(&row.name).with_context(|| format!("API key {id} has an invalid name"))?,
            prefix: row.prefix,
            user_id: row.user_id,
            username: Username::parse(&row.username)
                .with_context(|| format!("API key {id} belongs to an invalid username {:?}", row.username))?,
            created_at: row.created_at,
            expires_at: row.expires_at,
            last_used_at: row.last_used_at,
            revoked_at: row.revoked_at,
        })
    }
}

/// [`ApiKeyStore`](factus_application::api_keys::ApiKeyStore) on one backend, written once for
/// both (`api_keys_postgres.rs`, `api_keys_sqlite.rs`): the SQL is the same text (`$n`
/// parameters, which SQLite reads too), `any_user` is the condition "no user was asked for" as
/// the backend types its parameter, and `id_param` and `timestamp_param` in scope where the macro
/// is invoked say how values are bound.
macro_rules! api_key_store {
    ($(#[$attribute:meta])* $store:ident($pool:ty), any_user = $any_user:literal) => {
        $crate::db::pooled_store!($(#[$attribute])* $store($pool));

        impl $store {
            async fn one(
                &self,
                id: uuid::Uuid,
            ) -> Result<Option<factus_application::api_keys::ApiKey>, factus_application::StoreError> {
                let row: Option<$crate::db::api_keys::ApiKeyRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::db::api_keys::api_key_columns!(),
                    " FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.id = $1"
                ))
                .bind(id_param(id))
                .fetch_optional(&self.pool)
                .await
                .map_err(|error| $crate::db::unexpected(error, format!("reading API key {id}")))?;
                row.map(factus_application::api_keys::ApiKey::try_from)
                    .transpose()
                    .map_err(factus_application::StoreError)
            }
        }

        const _: () = {
            use async_trait::async_trait;
            use factus_application::StoreError;
            use factus_application::api_keys::{ApiKey, ApiKeyDigest, ApiKeyStore, NewApiKey};
            use time::OffsetDateTime;
            use uuid::Uuid;

            use $crate::db::api_keys::{ApiKeyRow, api_key_columns};
            use $crate::db::unexpected;

            #[async_trait]
            impl ApiKeyStore for $store {
                async fn insert(&self, key: &NewApiKey) -> Result<ApiKey, StoreError> {
                    sqlx::query(
                        "INSERT INTO api_keys (id, user_id, name, prefix, key_digest, created_at, expires_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(id_param(key.id))
                    .bind(id_param(key.user_id))
                    .bind(key.name.as_str())
                    .bind(&key.prefix)
                    .bind(key.digest.as_str())
                    .bind(timestamp_param(key.created_at)?)
                    .bind(key.expires_at.map(timestamp_param).transpose()?)
                    .execute(&self.pool)
                    .await
                    .map_err(|error| unexpected(error, format!("inserting API key {}", key.prefix)))?;
                    self.one(key.id)
                        .await?
                        .ok_or_else(|| StoreError(anyhow::anyhow!("API key {} vanished after insert", key.id)))
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
                        " FROM api_keys k JOIN users u ON u.id = k.user_id WHERE ",
                        $any_user,
                        " OR k.user_id = $1 ORDER BY k.created_at, k.id"
                    ))
                    .bind(user_id.map(id_param))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(|error| unexpected(error, "listing API keys"))?;
                    rows.into_iter().map(ApiKey::try_from).collect::<Result<_, _>>().map_err(StoreError)
                }

                async fn revoke(&self, id: Uuid, at: OffsetDateTime) -> Result<bool, StoreError> {
                    let done =
                        sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                            .bind(id_param(id))
                            .bind(timestamp_param(at)?)
                            .execute(&self.pool)
                            .await
                            .map_err(|error| unexpected(error, format!("revoking API key {id}")))?;
                    Ok(done.rows_affected() > 0)
                }

                async fn touch(&self, id: Uuid, at: OffsetDateTime) -> Result<(), StoreError> {
                    // SQLite's fixed-width UTC text compares as the instants do.
                    sqlx::query(
                        "UPDATE api_keys SET last_used_at = $2
                         WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)",
                    )
                    .bind(id_param(id))
                    .bind(timestamp_param(at)?)
                    .execute(&self.pool)
                    .await
                    .map(drop)
                    .map_err(|error| unexpected(error, format!("recording the use of API key {id}")))
                }
            }
        };
    };
}
pub(super) use api_key_store;
