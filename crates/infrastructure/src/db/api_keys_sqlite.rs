//! [`ApiKeyStore`](factus_application::api_keys::ApiKeyStore) on SQLite; the adapter is written
//! once in `db/api_keys.rs`.

use sqlx::sqlite::SqliteRow;
use sqlx::{Row as _, SqlitePool};

use super::api_keys::{ApiKeyRow, api_key_row, api_key_store};
use super::sqlite::{id_param, optional_timestamp, timestamp, timestamp_param, uuid};

api_key_row!(SqliteRow);

api_key_store!(
    /// [`ApiKeyStore`](factus_application::api_keys::ApiKeyStore) on SQLite.
    SqliteApiKeyStore(SqlitePool),
    any_user = "$1 IS NULL"
);
