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
