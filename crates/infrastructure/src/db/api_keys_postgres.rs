//! [`ApiKeyStore`](factus_application::api_keys::ApiKeyStore) on Postgres; the adapter is
//! written once in `db/api_keys.rs`.

use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row as _};

use super::api_keys::{ApiKeyRow, api_key_row, api_key_store};
use super::postgres::{id_param, optional_timestamp, timestamp, timestamp_param, uuid};

api_key_row!(PgRow);

api_key_store!(
    /// [`ApiKeyStore`](factus_application::api_keys::ApiKeyStore) on Postgres.
    PgApiKeyStore(PgPool),
    any_user = "$1::uuid IS NULL"
);
