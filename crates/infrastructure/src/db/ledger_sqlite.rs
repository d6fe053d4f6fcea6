//! The invoice ledger on SQLite, the embedded default.
//!
//! Same schema guarantees as on Postgres (`migrations/sqlite/20261125000002_invoice_ledger.sql`):
//! SQLite supports the two partial unique indexes and `RETURNING`, and serialises writers, so a
//! claim or a compare-and-set transition is one atomic statement here too. SQLite reports a
//! unique violation by the indexed columns, not the index name: `invoice_ledger.reference_code`
//! is the active-reference index, `invoice_ledger.idempotency_key` the per-user key index.
//! UUIDs and timestamps are text, as in every SQLite table ([`super::sqlite`]).

use async_trait::async_trait;
use factus_application::StoreError;
use factus_application::factus::IssuedBill;
use factus_application::ledger::{
    ClaimError, DocumentKind, EntryStatus, IdempotencyKey, LedgerCounts, LedgerEntry, LedgerFilter, LedgerPage,
    LedgerStore, NewLedgerEntry, Rejection,
};
use factus_domain::invoice::ReferenceCode;
use sqlx::sqlite::SqliteRow;
use sqlx::{FromRow, QueryBuilder, Row as _, Sqlite, SqlitePool};
use time::OffsetDateTime;
use uuid::Uuid;
use uuid::fmt::Hyphenated;

use super::ledger::{
    CLAIM_ROUNDS, ClaimConflict, LedgerRow, attempts_param, blocking_entry, claim_kept_changing, count_rows,
    decode_row, decode_rows, encode_response, into_page, ledger_columns, rejection_columns,
};
use super::sqlite::{decode_timestamp, encode_timestamp};
use super::unexpected;

/// How SQLite names the column of the active-reference index in a unique violation.
const ACTIVE_REFERENCE_COLUMN: &str = "invoice_ledger.reference_code";

/// How SQLite names the key column of the per-user key index in a unique violation.
const USER_KEY_COLUMN: &str = "invoice_ledger.idempotency_key";

impl FromRow<'_, SqliteRow> for LedgerRow {
    fn from_row(row: &SqliteRow) -> sqlx::Result<Self> {
        let decode = |column: &str, text: &str| {
            decode_timestamp(text)
                .map_err(|error| sqlx::Error::ColumnDecode { index: column.to_owned(), source: error.into() })
        };
        let timestamp = |column: &str| -> sqlx::Result<OffsetDateTime> {
            let text: String = row.try_get(column)?;
            decode(column, &text)
        };
        let issued_at: Option<String> = row.try_get("issued_at")?;
        let id: Hyphenated = row.try_get("id")?;
        let user_id: Hyphenated = row.try_get("user_id")?;
        let api_key_id: Option<Hyphenated> = row.try_get("api_key_id")?;
        Ok(Self {
            id: id.into_uuid(),
            user_id: user_id.into_uuid(),
            username: row.try_get("username")?,
            api_key_id: api_key_id.map(Hyphenated::into_uuid),
            reference_code: row.try_get("reference_code")?,
            idempotency_key: row.try_get("idempotency_key")?,
            request_fingerprint: row.try_get("request_fingerprint")?,
            state: row.try_get("state")?,
            response: row.try_get("response")?,
            error_status: row.try_get("error_status")?,
            error_detail: row.try_get("error_detail")?,
            attempts: row.try_get("attempts")?,
            created_at: timestamp("created_at")?,
            updated_at: timestamp("updated_at")?,
            issued_at: issued_at.as_deref().map(|text| decode("issued_at", text)).transpose()?,
            kind: row.try_get("kind")?,
            dian_rejected: row.try_get("dian_rejected")?,
            factus_deleted: row.try_get("factus_deleted")?,
        })
    }
}

fn timestamp_param(at: OffsetDateTime) -> Result<String, StoreError> {
    encode_timestamp(at).map_err(StoreError)
}

fn id_param(id: Uuid) -> Hyphenated {
    id.hyphenated()
}

fn violates(error: &sqlx::Error, column: &str) -> bool {
    error
        .as_database_error()
        .is_some_and(|database_error| database_error.is_unique_violation() && database_error.message().contains(column))
}

/// [`LedgerStore`] on SQLite.
#[derive(Debug, Clone)]
pub struct SqliteLedgerStore {
    pool: SqlitePool,
}

impl SqliteLedgerStore {
    #[must_use]
    pub fn new(pool: SqlitePool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl LedgerStore for SqliteLedgerStore {
    async fn claim(&self, entry: &NewLedgerEntry) -> Result<LedgerEntry, ClaimError> {
        let created_at = timestamp_param(entry.created_at)?;
        for _ in 0..CLAIM_ROUNDS {
            // `fetch_all`, not `fetch_one`: SQLite commits an autocommit statement when it runs
            // to completion, *after* the RETURNING row was produced. `fetch_one` stops at the
            // row and never sees a failed commit (disk full), so a claim that was rolled back
            // looked written and the invoice went to Factus without a ledger entry.
            let inserted: Result<Vec<LedgerRow>, _> = sqlx::query_as(concat!(
                "INSERT INTO invoice_ledger
                     (id, user_id, username, reference_code, idempotency_key, request_fingerprint, state,
                      attempts, created_at, updated_at, kind, api_key_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', 1, ?7, ?7, ?8, ?9)
                 RETURNING ",
                ledger_columns!()
            ))
            .bind(id_param(entry.id))
            .bind(id_param(entry.user_id))
            .bind(entry.username.as_str())
            .bind(entry.reference_code.as_str())
            .bind(entry.idempotency_key.as_ref().map(IdempotencyKey::as_str))
            .bind(entry.fingerprint.as_str())
            .bind(&created_at)
            .bind(entry.kind.as_str())
            .bind(entry.api_key_id.map(id_param))
            .fetch_all(&self.pool)
            .await;
            let conflict = match inserted {
                Ok(rows) => {
                    let row = rows.into_iter().next().ok_or_else(|| {
                        StoreError(anyhow::anyhow!("claiming reference {}: no row returned", entry.reference_code))
                    })?;
                    return Ok(decode_row(row)?);
                }
                Err(error) if violates(&error, ACTIVE_REFERENCE_COLUMN) => ClaimConflict::Reference,
                Err(error) if violates(&error, USER_KEY_COLUMN) => ClaimConflict::Key,
                Err(error) => {
                    return Err(unexpected(error, format!("claiming reference {}", entry.reference_code)).into());
                }
            };
            if let Some(blocked) = blocking_entry(self, entry, conflict).await? {
                return Err(blocked);
            }
        }
        Err(claim_kept_changing(entry))
    }

    async fn find_by_key(&self, user_id: Uuid, key: &IdempotencyKey) -> Result<Option<LedgerEntry>, StoreError> {
        let row: Option<LedgerRow> = sqlx::query_as(concat!(
            "SELECT ",
            ledger_columns!(),
            " FROM invoice_ledger WHERE user_id = ?1 AND idempotency_key = ?2"
        ))
        .bind(id_param(user_id))
        .bind(key.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(|error| unexpected(error, "looking up a ledger entry by idempotency key"))?;
        row.map(decode_row).transpose()
    }

    async fn find_active_by_reference(&self, reference: &ReferenceCode) -> Result<Option<LedgerEntry>, StoreError> {
        let row: Option<LedgerRow> = sqlx::query_as(concat!(
            "SELECT ",
            ledger_columns!(),
            " FROM invoice_ledger WHERE reference_code = ?1 AND state <> 'rejected'"
        ))
        .bind(reference.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(|error| unexpected(error, format!("looking up the active ledger entry of {reference}")))?;
        row.map(decode_row).transpose()
    }

    async fn mark_issued(
        &self,
        entry: &LedgerEntry,
        bill: &IssuedBill,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE invoice_ledger
                SET state = 'issued', factus_number = ?4, factus_prefix = ?5, factus_cufe = ?6,
                    factus_qr_url = ?7, factus_status = ?8, response = ?9, issued_at = ?10, updated_at = ?10
              WHERE id = ?1 AND state = ?2 AND attempts = ?3 AND state IN ('pending', 'unknown')",
        )
        .bind(id_param(entry.id))
        .bind(entry.state().as_str())
        .bind(attempts_param(entry))
        .bind(&bill.number)
        .bind(&bill.prefix)
        .bind(&bill.cufe)
        .bind(&bill.qr_url)
        .bind(&bill.status)
        .bind(encode_response(bill)?)
        .bind(timestamp_param(at)?)
        .execute(&self.pool)
        .await
        .map_err(|error| unexpected(error, format!("marking ledger entry {} issued", entry.id)))?;
        Ok(result.rows_affected() > 0)
    }

    async fn mark_rejected(
        &self,
        entry: &LedgerEntry,
        rejection: &Rejection,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let (status, detail, dian_rejected, factus_deleted) = rejection_columns(rejection);
        let status = status.map(i64::from);
        let result = sqlx::query(
            "UPDATE invoice_ledger
                SET state = 'rejected', error_status = ?4, error_detail = ?5, updated_at = ?6,
                    dian_rejected = ?7, factus_deleted = ?8
              WHERE id = ?1 AND state = ?2 AND attempts = ?3 AND state IN ('pending', 'unknown')",
        )
        .bind(id_param(entry.id))
        .bind(entry.state().as_str())
        .bind(attempts_param(entry))
        .bind(status)
        .bind(detail.as_ref())
        .bind(timestamp_param(at)?)
        .bind(dian_rejected)
        .bind(factus_deleted)
        .execute(&self.pool)
        .await
        .map_err(|error| unexpected(error, format!("marking ledger entry {} rejected", entry.id)))?;
        Ok(result.rows_affected() > 0)
    }

    async fn mark_deleted(&self, entry: &LedgerEntry, at: OffsetDateTime) -> Result<bool, StoreError> {
        let number = match &entry.status {
            EntryStatus::Issued { bill, .. } => bill.number.clone(),
            _ => return Ok(false),
        };
        let detail = Rejection::deleted_detail(&number);
        let result = sqlx::query(
            "UPDATE invoice_ledger
                SET state = 'rejected', error_status = NULL, error_detail = ?4, factus_number = NULL,
                    factus_prefix = NULL, factus_cufe = NULL, factus_qr_url = NULL, factus_status = NULL,
                    response = NULL, issued_at = NULL, updated_at = ?5
              WHERE id = ?1 AND state = 'issued' AND attempts = ?3 AND state = ?2",
        )
        .bind(id_param(entry.id))
        .bind(entry.state().as_str())
        .bind(attempts_param(entry))
        .bind(&detail)
        .bind(timestamp_param(at)?)
        .execute(&self.pool)
        .await
        .map_err(|error| unexpected(error, format!("marking ledger entry {} deleted", entry.id)))?;
        Ok(result.rows_affected() > 0)
    }

    async fn mark_unknown(&self, entry: &LedgerEntry, at: OffsetDateTime) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE invoice_ledger SET state = 'unknown', updated_at = ?4
              WHERE id = ?1 AND state = ?2 AND attempts = ?3 AND state = 'pending'",
        )
        .bind(id_param(entry.id))
        .bind(entry.state().as_str())
        .bind(attempts_param(entry))
        .bind(timestamp_param(at)?)
        .execute(&self.pool)
        .await
        .map_err(|error| unexpected(error, format!("marking ledger entry {} unknown", entry.id)))?;
        Ok(result.rows_affected() > 0)
    }

    async fn reopen(&self, entry: &LedgerEntry, at: OffsetDateTime) -> Result<Option<LedgerEntry>, ClaimError> {
        // `fetch_all` for the same reason as in `claim`: the commit must be seen to succeed.
        let reopened: Result<Vec<LedgerRow>, _> = sqlx::query_as(concat!(
            "UPDATE invoice_ledger
                SET state = 'pending', attempts = attempts + 1, error_status = NULL, error_detail = NULL,
                    updated_at = ?4
              WHERE id = ?1 AND state = ?2 AND attempts = ?3
                AND (state IN ('pending', 'unknown') OR (state = 'rejected' AND error_status IS NULL))
              RETURNING ",
            ledger_columns!()
        ))
        .bind(id_param(entry.id))
        .bind(entry.state().as_str())
        .bind(attempts_param(entry))
        .bind(timestamp_param(at)?)
        .fetch_all(&self.pool)
        .await;
        match reopened {
            Ok(rows) => Ok(rows.into_iter().next().map(decode_row).transpose()?),
            Err(error) if violates(&error, ACTIVE_REFERENCE_COLUMN) => {
                match self.find_active_by_reference(&entry.reference_code).await? {
                    Some(existing) => Err(ClaimError::ReferenceActive(Box::new(existing))),
                    None => Ok(None),
                }
            }
            Err(error) => Err(unexpected(error, format!("reopening ledger entry {}", entry.id)).into()),
        }
    }

    async fn mark_deleted_at_factus(&self, entry: &LedgerEntry) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE invoice_ledger SET factus_deleted = 1
              WHERE id = ?1 AND state = 'rejected' AND dian_rejected = 1 AND factus_deleted = 0",
        )
        .bind(id_param(entry.id))
        .execute(&self.pool)
        .await
        .map_err(|error| unexpected(error, format!("marking ledger entry {} deleted at Factus", entry.id)))?;
        Ok(result.rows_affected() > 0)
    }

    async fn stuck_rejections(&self, kind: DocumentKind, limit: u32) -> Result<Vec<LedgerEntry>, StoreError> {
        let rows: Vec<LedgerRow> = sqlx::query_as(concat!(
            "SELECT ",
            ledger_columns!(),
            " FROM invoice_ledger WHERE kind = ?1 AND dian_rejected = 1 AND factus_deleted = 0
              ORDER BY created_at, id LIMIT ?2"
        ))
        .bind(kind.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(|error| unexpected(error, "reading the rejected documents stuck at Factus"))?;
        decode_rows(rows)
    }

    async fn abandon(&self, entry: &LedgerEntry) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "DELETE FROM invoice_ledger WHERE id = ?1 AND state = ?2 AND attempts = ?3 AND state = 'pending'",
        )
        .bind(id_param(entry.id))
        .bind(entry.state().as_str())
        .bind(attempts_param(entry))
        .execute(&self.pool)
        .await
        .map_err(|error| unexpected(error, format!("abandoning ledger entry {}", entry.id)))?;
        Ok(result.rows_affected() > 0)
    }

    async fn stale_entries(&self, updated_before: OffsetDateTime, limit: u32) -> Result<Vec<LedgerEntry>, StoreError> {
        let rows: Vec<LedgerRow> = sqlx::query_as(concat!(
            "SELECT ",
            ledger_columns!(),
            " FROM invoice_ledger
              WHERE state IN ('pending', 'unknown') AND updated_at < ?1
              ORDER BY updated_at, id
              LIMIT ?2"
        ))
        .bind(timestamp_param(updated_before)?)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(|error| unexpected(error, "reading stale ledger entries"))?;
        decode_rows(rows)
    }

    async fn list(&self, filter: &LedgerFilter) -> Result<LedgerPage, StoreError> {
        let mut query =
            QueryBuilder::<Sqlite>::new(concat!("SELECT ", ledger_columns!(), " FROM invoice_ledger WHERE 1 = 1"));
        if let Some(kind) = filter.kind {
            query.push(" AND kind = ").push_bind(kind.as_str());
        }
        if let Some(state) = filter.state {
            query.push(" AND state = ").push_bind(state.as_str());
        }
        if let Some(reference) = &filter.reference_code {
            query.push(" AND reference_code = ").push_bind(reference.as_str());
        }
        if let Some(number) = &filter.number {
            query.push(" AND factus_number = ").push_bind(number.as_str());
        }
        if let Some(from) = filter.created_from {
            query.push(" AND created_at >= ").push_bind(timestamp_param(from)?);
        }
        if let Some(before) = filter.created_before {
            query.push(" AND created_at < ").push_bind(timestamp_param(before)?);
        }
        if let Some(user_id) = filter.user_id {
            query.push(" AND user_id = ").push_bind(id_param(user_id));
        }
        if let Some(username) = &filter.username {
            query.push(" AND username = ").push_bind(username.as_str());
        }
        if let Some(after) = filter.after {
            query
                .push(" AND (created_at, id) < (")
                .push_bind(timestamp_param(after.created_at)?)
                .push(", ")
                .push_bind(id_param(after.id))
                .push(")");
        }
        query.push(" ORDER BY created_at DESC, id DESC LIMIT ").push_bind(i64::from(filter.limit.get()) + 1);
        let rows: Vec<LedgerRow> = query
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(|error| unexpected(error, "listing the ledger"))?;
        Ok(into_page(decode_rows(rows)?, filter))
    }

    async fn count_by_state(&self) -> Result<LedgerCounts, StoreError> {
        let rows: Vec<(String, i64)> = sqlx::query_as("SELECT state, count(*) FROM invoice_ledger GROUP BY state")
            .fetch_all(&self.pool)
            .await
            .map_err(|error| unexpected(error, "counting ledger entries by state"))?;
        count_rows(rows)
    }

    async fn purge_keys(&self, created_before: OffsetDateTime) -> Result<u64, StoreError> {
        let result = sqlx::query(
            "UPDATE invoice_ledger SET idempotency_key = NULL
              WHERE idempotency_key IS NOT NULL AND state IN ('issued', 'rejected') AND created_at < ?1",
        )
        .bind(timestamp_param(created_before)?)
        .execute(&self.pool)
        .await
        .map_err(|error| unexpected(error, "purging expired idempotency keys"))?;
        Ok(result.rows_affected())
    }
}
