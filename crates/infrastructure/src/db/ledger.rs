//! What both ledger adapters share: the row shape, the stored response's encoding, paging,
//! counting, and the adapter itself ([`ledger_store!`]); `ledger_postgres.rs` and
//! `ledger_sqlite.rs` hold only what differs: how a row is decoded, how values are bound and how
//! a unique violation is recognised.

use std::borrow::Cow;

use anyhow::Context as _;
use factus_application::StoreError;
use factus_application::document::Counterparty;
use factus_application::factus::IssuedBill;
use factus_application::ledger::{
    ClaimError, DocumentKind, EntryStatus, IdempotencyKey, LedgerCounts, LedgerEntry, LedgerFilter, LedgerPage,
    LedgerState, LedgerStore, NewLedgerEntry, QueuedRequest, Rejection, RequestFingerprint,
};
use factus_domain::invoice::{Money, ReferenceCode};
use factus_domain::user::Username;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// How often a claim is tried when the entry that blocked it is gone by the time it is read
/// (rejected or abandoned in between). Each round means another request settled the reference
/// meanwhile, so a few rounds are plenty.
pub(super) const CLAIM_ROUNDS: usize = 3;

/// The columns every ledger query reads, in [`LedgerRow`]'s order; a macro so that it can be
/// spliced into the `&'static str` queries with `concat!`.
macro_rules! ledger_columns {
    () => {
        "id, user_id, username, api_key_id, reference_code, idempotency_key, request_fingerprint, state, \
         response, error_status, error_detail, attempts, created_at, updated_at, issued_at, kind, dian_rejected, \
         factus_deleted, total, referenced_number, queued_request, counterparty_identification, counterparty_name"
    };
}
pub(super) use ledger_columns;

/// A [`LedgerRow`] decoded from `$row`: the columns that need the backend's own decoding given as
/// `field: value` (ids, timestamps and the integers Postgres stores narrower), every other
/// column read as it is, the same on both backends.
macro_rules! ledger_row {
    ($row:expr, { $($field:ident: $value:expr),* $(,)? }) => {
        LedgerRow {
            $($field: $value,)*
            username: $row.try_get("username")?,
            reference_code: $row.try_get("reference_code")?,
            idempotency_key: $row.try_get("idempotency_key")?,
            request_fingerprint: $row.try_get("request_fingerprint")?,
            state: $row.try_get("state")?,
            response: $row.try_get("response")?,
            error_detail: $row.try_get("error_detail")?,
            kind: $row.try_get("kind")?,
            dian_rejected: $row.try_get("dian_rejected")?,
            factus_deleted: $row.try_get("factus_deleted")?,
            total: $row.try_get("total")?,
            referenced_number: $row.try_get("referenced_number")?,
            queued_request: $row.try_get("queued_request")?,
            counterparty_identification: $row.try_get("counterparty_identification")?,
            counterparty_name: $row.try_get("counterparty_name")?,
        }
    };
}
pub(super) use ledger_row;

/// A ledger entry as stored, in the types both backends can produce (SQLite decodes its text
/// columns into these). The Factus columns besides `response` are for filtering and reading the
/// table by hand; the bill is read back from `response`, the JSON the client got.
#[derive(Debug, Clone)]
pub(super) struct LedgerRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub username: String,
    pub api_key_id: Option<Uuid>,
    pub reference_code: String,
    pub idempotency_key: Option<String>,
    pub request_fingerprint: String,
    pub state: String,
    pub response: Option<String>,
    pub error_status: Option<i64>,
    pub error_detail: Option<String>,
    pub attempts: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub issued_at: Option<OffsetDateTime>,
    pub kind: String,
    pub dian_rejected: bool,
    pub factus_deleted: bool,
    pub total: Option<String>,
    pub referenced_number: Option<String>,
    pub queued_request: Option<String>,
    pub counterparty_identification: Option<String>,
    pub counterparty_name: Option<String>,
}

impl TryFrom<LedgerRow> for LedgerEntry {
    type Error = anyhow::Error;

    fn try_from(row: LedgerRow) -> Result<Self, Self::Error> {
        let id = row.id;
        let state = LedgerState::parse(&row.state).with_context(|| format!("entry {id} has state {:?}", row.state))?;
        let status = match state {
            LedgerState::Queued => EntryStatus::Queued,
            LedgerState::Pending => EntryStatus::Pending,
            LedgerState::Unknown => EntryStatus::Unknown,
            LedgerState::Issued => {
                let response = row.response.with_context(|| format!("issued entry {id} has no response"))?;
                let issued_at = row.issued_at.with_context(|| format!("issued entry {id} has no issued_at"))?;
                EntryStatus::Issued { bill: decode_response(&response)?, issued_at }
            }
            LedgerState::Rejected if row.dian_rejected => EntryStatus::Rejected(Rejection::Dian {
                message: row.error_detail.with_context(|| format!("rejected entry {id} has no detail"))?,
                deleted: row.factus_deleted,
            }),
            LedgerState::Rejected => EntryStatus::Rejected(match row.error_status {
                None => match row.error_detail {
                    Some(detail) if detail.starts_with(Rejection::DELETED_DETAIL_PREFIX) => {
                        Rejection::Deleted { number: detail[Rejection::DELETED_DETAIL_PREFIX.len()..].to_owned() }
                    }
                    _ => Rejection::NotIssued,
                },
                Some(status) => Rejection::Factus {
                    status: u16::try_from(status).with_context(|| format!("entry {id} has error status {status}"))?,
                    message: row.error_detail.with_context(|| format!("rejected entry {id} has no detail"))?,
                },
            }),
        };
        Ok(Self {
            id,
            kind: DocumentKind::parse(&row.kind).with_context(|| format!("entry {id} has kind {:?}", row.kind))?,
            user_id: row.user_id,
            username: Username::parse(&row.username)
                .with_context(|| format!("entry {id} has an invalid username {:?}", row.username))?,
            api_key_id: row.api_key_id,
            reference_code: ReferenceCode::parse(&row.reference_code)
                .with_context(|| format!("entry {id} has an invalid reference {:?}", row.reference_code))?,
            idempotency_key: row
                .idempotency_key
                .as_deref()
                .map(IdempotencyKey::parse)
                .transpose()
                .with_context(|| format!("entry {id} has an invalid idempotency key"))?,
            fingerprint: RequestFingerprint::parse(&row.request_fingerprint)
                .with_context(|| format!("entry {id} has an invalid fingerprint"))?,
            total: row
                .total
                .as_deref()
                .map(Money::parse)
                .transpose()
                .with_context(|| format!("entry {id} has an invalid total {:?}", row.total))?,
            referenced_number: row.referenced_number,
            queued_request: row.queued_request.map(QueuedRequest::new),
            counterparty: row
                .counterparty_identification
                .map(|identification| Counterparty { identification, name: row.counterparty_name.unwrap_or_default() }),
            status,
            attempts: u32::try_from(row.attempts)
                .with_context(|| format!("entry {id} has {} attempts", row.attempts))?,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// The stored response: the `data` of the create answer (the reference's InvoiceResponse), in
/// its field order.
#[derive(Debug, Serialize, Deserialize)]
struct StoredResponse {
    number: String,
    prefix: String,
    cufe: String,
    qr_url: String,
    status: String,
    message: Option<String>,
}

/// The JSON text stored in `response` for an issued bill.
pub(super) fn encode_response(bill: &IssuedBill) -> Result<String, StoreError> {
    let stored = StoredResponse {
        number: bill.number.clone(),
        prefix: bill.prefix.clone(),
        cufe: bill.cufe.clone(),
        qr_url: bill.qr_url.clone(),
        status: bill.status.clone(),
        message: bill.message.clone(),
    };
    serde_json::to_string(&stored).context("encoding the stored response").map_err(StoreError)
}

fn decode_response(json: &str) -> anyhow::Result<IssuedBill> {
    let stored: StoredResponse = serde_json::from_str(json).context("decoding the stored response")?;
    Ok(IssuedBill {
        number: stored.number,
        prefix: stored.prefix,
        cufe: stored.cufe,
        qr_url: stored.qr_url,
        status: stored.status,
        message: stored.message,
    })
}

/// How a rejection is stored: `(error_status, error_detail, dian_rejected, factus_deleted)`.
/// [`Rejection::Deleted`] is stored like [`Rejection::NotIssued`] (no status) with the deleted
/// number in the detail, which is how it is told apart when read back.
pub(super) fn rejection_columns(rejection: &Rejection) -> (Option<u16>, Cow<'_, str>, bool, bool) {
    match rejection {
        Rejection::Factus { status, message } => (Some(*status), Cow::Borrowed(message.as_str()), false, false),
        Rejection::Dian { message, deleted } => {
            (Some(Rejection::DIAN_STATUS), Cow::Borrowed(message.as_str()), true, *deleted)
        }
        Rejection::NotIssued => (None, Cow::Borrowed(Rejection::NOT_ISSUED_DETAIL), false, false),
        Rejection::Deleted { number } => (None, Cow::Owned(Rejection::deleted_detail(number)), false, false),
    }
}

/// A `LIKE` pattern matching names that contain `text` in any case, its own `%`, `_` and `\\`
/// taken literally.
pub(super) fn contains_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for character in text.to_lowercase().chars() {
        if matches!(character, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(character);
    }
    pattern.push('%');
    pattern
}

/// Turns rows into entries; a row that does not decode is a corrupt store, not a missing entry.
pub(super) fn decode_rows(rows: Vec<LedgerRow>) -> Result<Vec<LedgerEntry>, StoreError> {
    rows.into_iter().map(decode_row).collect()
}

pub(super) fn decode_row(row: LedgerRow) -> Result<LedgerEntry, StoreError> {
    LedgerEntry::try_from(row).map_err(|error| StoreError(error.context("reading a stored ledger entry")))
}

/// Splits the page read with one row too many into the page and the cursor of the next one.
pub(super) fn into_page(mut entries: Vec<LedgerEntry>, filter: &LedgerFilter) -> LedgerPage {
    let limit = filter.limit.get() as usize;
    let next_cursor = if entries.len() > limit {
        entries.truncate(limit);
        entries.last().map(LedgerEntry::cursor)
    } else {
        None
    };
    LedgerPage { entries, next_cursor }
}

/// Which unique index refused a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ClaimConflict {
    /// The reference already has an active entry.
    Reference,
    /// The user already used the Idempotency-Key.
    Key,
}

/// The error a refused claim answers: the entry that blocks it, read back. `None` when that
/// entry is gone by now (rejected or abandoned in between), so the claim may be tried again.
///
/// # Errors
/// [`StoreError`] when the blocking entry cannot be read.
pub(super) async fn blocking_entry(
    store: &(dyn LedgerStore + '_),
    entry: &NewLedgerEntry,
    conflict: ClaimConflict,
) -> Result<Option<ClaimError>, StoreError> {
    Ok(match conflict {
        ClaimConflict::Reference => store
            .find_active_by_reference(&entry.reference_code)
            .await?
            .map(|existing| ClaimError::ReferenceActive(Box::new(existing))),
        ClaimConflict::Key => match &entry.idempotency_key {
            Some(key) => {
                store.find_by_key(entry.user_id, key).await?.map(|existing| ClaimError::KeyExists(Box::new(existing)))
            }
            None => None,
        },
    })
}

/// What a claim answers after [`CLAIM_ROUNDS`] rounds of blocking entries that vanished.
pub(super) fn claim_kept_changing(entry: &NewLedgerEntry) -> ClaimError {
    StoreError(anyhow::anyhow!("claiming reference {}: the conflicting entry kept changing", entry.reference_code))
        .into()
}

/// Sums `(state, count)` rows into the counts.
pub(super) fn count_rows(rows: Vec<(String, i64)>) -> Result<LedgerCounts, StoreError> {
    let mut counts = LedgerCounts::default();
    for (state, count) in rows {
        let state = LedgerState::parse(&state)
            .with_context(|| format!("the ledger holds entries in state {state:?}"))
            .map_err(StoreError)?;
        counts.add(state, u64::try_from(count).unwrap_or(0));
    }
    Ok(counts)
}

/// The [`LedgerStore`] adapter of one backend, written once for both (`ledger_postgres.rs`,
/// `ledger_sqlite.rs`). The SQL text is the same on both (`$n` parameters, which SQLite reads
/// too); what differs is passed in: the pool and query builder types, the boolean literals (the
/// partial index on stuck rejections is written with each backend's own, and a query uses it
/// only when it states the same condition), and, in scope where the macro is invoked, how values
/// are bound (`id_param`, `timestamp_param`, `attempts_param`, `status_param`) and how a unique
/// violation names its index (`violates`). `skip_locked` is how the queue's worker query skips
/// rows another worker is taking, and `queue_lock` the statement that makes workers take one at a
/// time (Postgres: an advisory lock held until the take commits, so that the take's own statement
/// sees what the previous taker committed); SQLite runs one writing statement at a time and needs
/// neither.
macro_rules! ledger_store {
    ($(#[$attribute:meta])* $store:ident($pool:ty, $database:ty), true = $true:literal, false = $false:literal, skip_locked = $skip_locked:literal, queue_lock = $queue_lock:literal) => {
        $crate::db::pooled_store!($(#[$attribute])* $store($pool));

        const _: () = {
            use async_trait::async_trait;
            use factus_application::StoreError;
            use factus_application::factus::IssuedBill;
            use factus_application::ledger::{
                ClaimError, DocumentKind, EntryStatus, IdempotencyKey, LedgerCounts, LedgerEntry, LedgerFilter,
                LedgerPage, LedgerStore, NewLedgerEntry, QueueStats, QueuedRequest, Rejection,
            };
            use factus_domain::invoice::ReferenceCode;
            use sqlx::QueryBuilder;
            use time::OffsetDateTime;
            use uuid::Uuid;

            use $crate::db::ledger::{
                CLAIM_ROUNDS, ClaimConflict, LedgerRow, blocking_entry, claim_kept_changing, contains_pattern, count_rows,
                decode_row, decode_rows, encode_response, into_page, ledger_columns, rejection_columns,
            };
            use $crate::db::unexpected;

            /// A compare-and-set statement on `entry`: `sql` names the entry by its id (`$1`), its
            /// state (`$2`) and its attempts (`$3`), so that it applies only to the entry as it was
            /// read; its own values follow from `$4`.
            fn versioned(
                sql: &'static str,
                entry: &LedgerEntry,
            ) -> Result<sqlx::query::Query<'static, $database, <$database as sqlx::Database>::Arguments>, StoreError>
            {
                Ok(sqlx::query(sql).bind(id_param(entry.id)).bind(entry.state().as_str()).bind(attempts_param(entry)?))
            }

            impl $store {
                /// Runs a [`versioned`] statement; whether it applied (the entry was still as read).
                async fn applied(
                    &self,
                    query: sqlx::query::Query<'static, $database, <$database as sqlx::Database>::Arguments>,
                    attempted: impl FnOnce() -> String,
                ) -> Result<bool, StoreError> {
                    let result = query.execute(&self.pool).await.map_err(|error| unexpected(error, attempted()))?;
                    Ok(result.rows_affected() > 0)
                }
            }

            #[async_trait]
            impl LedgerStore for $store {
                async fn claim(&self, entry: &NewLedgerEntry) -> Result<LedgerEntry, ClaimError> {
                    let created_at = timestamp_param(entry.created_at)?;
                    for _ in 0..CLAIM_ROUNDS {
                        // `fetch_all`, not `fetch_one`: SQLite commits an autocommit statement when
                        // it runs to completion, *after* the RETURNING row was produced.
                        // `fetch_one` stops at the row and never sees a failed commit (disk full),
                        // so a claim that was rolled back looked written and the invoice went to
                        // Factus without a ledger entry.
                        let inserted: Result<Vec<LedgerRow>, _> = sqlx::query_as(concat!(
                            "INSERT INTO invoice_ledger
                                 (id, user_id, username, reference_code, idempotency_key, request_fingerprint,
                                  state, attempts, created_at, updated_at, kind, api_key_id, total,
                                  referenced_number, counterparty_identification, counterparty_name)
                             VALUES ($1, $2, $3, $4, $5, $6, 'pending', 1, $7, $7, $8, $9, $10, $11, $12, $13)
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
                        .bind(entry.total.map(|total| total.to_string()))
                        .bind(entry.referenced_number.as_deref())
                        .bind(entry.counterparty.as_ref().map(|party| party.identification.as_str()))
                        .bind(entry.counterparty.as_ref().map(|party| party.name.as_str()))
                        .fetch_all(&self.pool)
                        .await;
                        let conflict = match inserted {
                            Ok(rows) => {
                                let row = rows.into_iter().next().ok_or_else(|| {
                                    StoreError(anyhow::anyhow!(
                                        "claiming reference {}: no row returned",
                                        entry.reference_code
                                    ))
                                })?;
                                return Ok(decode_row(row)?);
                            }
                            Err(error) if violates(&error, ClaimConflict::Reference) => ClaimConflict::Reference,
                            Err(error) if violates(&error, ClaimConflict::Key) => ClaimConflict::Key,
                            Err(error) => {
                                return Err(
                                    unexpected(error, format!("claiming reference {}", entry.reference_code)).into()
                                );
                            }
                        };
                        if let Some(blocked) = blocking_entry(self, entry, conflict).await? {
                            return Err(blocked);
                        }
                    }
                    Err(claim_kept_changing(entry))
                }

                async fn find_by_key(
                    &self,
                    user_id: Uuid,
                    key: &IdempotencyKey,
                ) -> Result<Option<LedgerEntry>, StoreError> {
                    let row: Option<LedgerRow> = sqlx::query_as(concat!(
                        "SELECT ",
                        ledger_columns!(),
                        " FROM invoice_ledger WHERE user_id = $1 AND idempotency_key = $2"
                    ))
                    .bind(id_param(user_id))
                    .bind(key.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(|error| unexpected(error, "looking up a ledger entry by idempotency key"))?;
                    row.map(decode_row).transpose()
                }

                async fn find_active_by_reference(
                    &self,
                    reference: &ReferenceCode,
                ) -> Result<Option<LedgerEntry>, StoreError> {
                    let row: Option<LedgerRow> = sqlx::query_as(concat!(
                        "SELECT ",
                        ledger_columns!(),
                        " FROM invoice_ledger WHERE reference_code = $1 AND state <> 'rejected'"
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
                    let query = versioned(
                        "UPDATE invoice_ledger
                            SET state = 'issued', factus_number = $4, factus_prefix = $5, factus_cufe = $6,
                                factus_qr_url = $7, factus_status = $8, response = $9, issued_at = $10,
                                updated_at = $10
                          WHERE id = $1 AND state = $2 AND attempts = $3 AND state IN ('pending', 'unknown')",
                        entry,
                    )?
                    .bind(&bill.number)
                    .bind(&bill.prefix)
                    .bind(&bill.cufe)
                    .bind(&bill.qr_url)
                    .bind(&bill.status)
                    .bind(encode_response(bill)?)
                    .bind(timestamp_param(at)?);
                    self.applied(query, || format!("marking ledger entry {} issued", entry.id)).await
                }

                async fn mark_rejected(
                    &self,
                    entry: &LedgerEntry,
                    rejection: &Rejection,
                    at: OffsetDateTime,
                ) -> Result<bool, StoreError> {
                    let (status, detail, dian_rejected, factus_deleted) = rejection_columns(rejection);
                    let query = versioned(
                        "UPDATE invoice_ledger
                            SET state = 'rejected', error_status = $4, error_detail = $5, updated_at = $6,
                                dian_rejected = $7, factus_deleted = $8
                          WHERE id = $1 AND state = $2 AND attempts = $3 AND state IN ('pending', 'unknown')",
                        entry,
                    )?
                    .bind(status_param(status))
                    .bind(detail.as_ref())
                    .bind(timestamp_param(at)?)
                    .bind(dian_rejected)
                    .bind(factus_deleted);
                    self.applied(query, || format!("marking ledger entry {} rejected", entry.id)).await
                }

                async fn mark_deleted(&self, entry: &LedgerEntry, at: OffsetDateTime) -> Result<bool, StoreError> {
                    let number = match &entry.status {
                        EntryStatus::Issued { bill, .. } => bill.number.clone(),
                        _ => return Ok(false),
                    };
                    let detail = Rejection::deleted_detail(&number);
                    let query = versioned(
                        "UPDATE invoice_ledger
                            SET state = 'rejected', error_status = NULL, error_detail = $4, factus_number = NULL,
                                factus_prefix = NULL, factus_cufe = NULL, factus_qr_url = NULL,
                                factus_status = NULL, response = NULL, issued_at = NULL, updated_at = $5
                          WHERE id = $1 AND state = 'issued' AND attempts = $3 AND state = $2",
                        entry,
                    )?
                    .bind(&detail)
                    .bind(timestamp_param(at)?);
                    self.applied(query, || format!("marking ledger entry {} deleted", entry.id)).await
                }

                async fn mark_unknown(&self, entry: &LedgerEntry, at: OffsetDateTime) -> Result<bool, StoreError> {
                    let query = versioned(
                        "UPDATE invoice_ledger SET state = 'unknown', updated_at = $4
                          WHERE id = $1 AND state = $2 AND attempts = $3 AND state = 'pending'",
                        entry,
                    )?
                    .bind(timestamp_param(at)?);
                    self.applied(query, || format!("marking ledger entry {} unknown", entry.id)).await
                }

                async fn reopen(
                    &self,
                    entry: &LedgerEntry,
                    at: OffsetDateTime,
                ) -> Result<Option<LedgerEntry>, ClaimError> {
                    // `fetch_all` for the same reason as in `claim`: the commit must be seen to
                    // succeed.
                    let reopened: Result<Vec<LedgerRow>, _> = sqlx::query_as(concat!(
                        "UPDATE invoice_ledger
                            SET state = 'pending', attempts = attempts + 1, error_status = NULL,
                                error_detail = NULL, updated_at = $4
                          WHERE id = $1 AND state = $2 AND attempts = $3
                            AND (state IN ('pending', 'unknown') OR (state = 'rejected' AND error_status IS NULL))
                          RETURNING ",
                        ledger_columns!()
                    ))
                    .bind(id_param(entry.id))
                    .bind(entry.state().as_str())
                    .bind(attempts_param(entry)?)
                    .bind(timestamp_param(at)?)
                    .fetch_all(&self.pool)
                    .await;
                    match reopened {
                        Ok(rows) => Ok(rows.into_iter().next().map(decode_row).transpose()?),
                        Err(error) if violates(&error, ClaimConflict::Reference) => {
                            match self.find_active_by_reference(&entry.reference_code).await? {
                                Some(existing) => Err(ClaimError::ReferenceActive(Box::new(existing))),
                                None => Ok(None),
                            }
                        }
                        Err(error) => Err(unexpected(error, format!("reopening ledger entry {}", entry.id)).into()),
                    }
                }

                async fn mark_queued(
                    &self,
                    entry: &LedgerEntry,
                    request: &QueuedRequest,
                    at: OffsetDateTime,
                ) -> Result<bool, StoreError> {
                    let query = versioned(
                        "UPDATE invoice_ledger SET state = 'queued', queued_request = $4, updated_at = $5
                          WHERE id = $1 AND state = $2 AND attempts = $3 AND state IN ('pending', 'unknown')",
                        entry,
                    )?
                    .bind(request.as_str())
                    .bind(timestamp_param(at)?);
                    self.applied(query, || format!("queueing ledger entry {}", entry.id)).await
                }

                async fn take_queued(&self, at: OffsetDateTime) -> Result<Option<LedgerEntry>, StoreError> {
                    let taking = || "taking the oldest queued ledger entry";
                    let mut transaction =
                        self.pool.begin().await.map_err(|error| unexpected(error, taking()))?;
                    if !$queue_lock.is_empty() {
                        sqlx::query($queue_lock)
                            .execute(&mut *transaction)
                            .await
                            .map_err(|error| unexpected(error, "waiting for the queue's lock"))?;
                    }
                    // Factus numbers queued creates in the order they arrived, and each after
                    // every create that arrived before it. So the head is not taken while a
                    // taken one (`pending` with its request) has not settled, whatever instance
                    // holds it, nor while a create that arrived before the head is `pending`: its
                    // client is waiting for a slot (it will be sent, or join the line ahead of
                    // the head) or sending it. One that went `unknown` holds nothing up: the
                    // reconciler settles it.
                    let rows: Vec<LedgerRow> = sqlx::query_as(concat!(
                        "UPDATE invoice_ledger SET state = 'pending', updated_at = $1
                          WHERE state = 'queued'
                            AND id = (SELECT id FROM invoice_ledger WHERE state = 'queued'
                                       ORDER BY created_at, id LIMIT 1",
                        $skip_locked,
                        ")
                            AND NOT EXISTS (
                                SELECT 1 FROM invoice_ledger AS held
                                 WHERE held.state = 'pending'
                                   AND (held.queued_request IS NOT NULL
                                        OR held.created_at < invoice_ledger.created_at
                                        OR (held.created_at = invoice_ledger.created_at AND held.id < invoice_ledger.id)))
                          RETURNING ",
                        ledger_columns!()
                    ))
                    .bind(timestamp_param(at)?)
                    .fetch_all(&mut *transaction)
                    .await
                    .map_err(|error| unexpected(error, taking()))?;
                    transaction.commit().await.map_err(|error| unexpected(error, taking()))?;
                    rows.into_iter().next().map(decode_row).transpose()
                }

                async fn find(&self, id: Uuid) -> Result<Option<LedgerEntry>, StoreError> {
                    let row: Option<LedgerRow> =
                        sqlx::query_as(concat!("SELECT ", ledger_columns!(), " FROM invoice_ledger WHERE id = $1"))
                            .bind(id_param(id))
                            .fetch_optional(&self.pool)
                            .await
                            .map_err(|error| unexpected(error, format!("reading ledger entry {id}")))?;
                    row.map(decode_row).transpose()
                }

                async fn queue_stats(&self) -> Result<QueueStats, StoreError> {
                    let (depth,): (i64,) =
                        sqlx::query_as("SELECT count(*) FROM invoice_ledger WHERE state = 'queued'")
                            .fetch_one(&self.pool)
                            .await
                            .map_err(|error| unexpected(error, "counting the queued ledger entries"))?;
                    let oldest: Option<LedgerRow> = sqlx::query_as(concat!(
                        "SELECT ",
                        ledger_columns!(),
                        " FROM invoice_ledger WHERE state = 'queued' ORDER BY created_at, id LIMIT 1"
                    ))
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(|error| unexpected(error, "reading the oldest queued ledger entry"))?;
                    Ok(QueueStats {
                        depth: u64::try_from(depth).unwrap_or(0),
                        oldest_created_at: oldest.as_ref().map(|row| row.created_at),
                        oldest_id: oldest.map(|row| row.id),
                    })
                }

                async fn mark_deleted_at_factus(&self, entry: &LedgerEntry) -> Result<bool, StoreError> {
                    let result = sqlx::query(concat!(
                        "UPDATE invoice_ledger SET factus_deleted = ",
                        $true,
                        " WHERE id = $1 AND state = 'rejected' AND dian_rejected = ",
                        $true,
                        " AND factus_deleted = ",
                        $false
                    ))
                    .bind(id_param(entry.id))
                    .execute(&self.pool)
                    .await
                    .map_err(|error| {
                        unexpected(error, format!("marking ledger entry {} deleted at Factus", entry.id))
                    })?;
                    Ok(result.rows_affected() > 0)
                }

                async fn stuck_rejections(
                    &self,
                    kind: DocumentKind,
                    limit: u32,
                ) -> Result<Vec<LedgerEntry>, StoreError> {
                    let rows: Vec<LedgerRow> = sqlx::query_as(concat!(
                        "SELECT ",
                        ledger_columns!(),
                        " FROM invoice_ledger WHERE kind = $1 AND dian_rejected = ",
                        $true,
                        " AND factus_deleted = ",
                        $false,
                        " ORDER BY created_at, id LIMIT $2"
                    ))
                    .bind(kind.as_str())
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(|error| unexpected(error, "reading the rejected documents stuck at Factus"))?;
                    decode_rows(rows)
                }

                async fn abandon(&self, entry: &LedgerEntry) -> Result<bool, StoreError> {
                    let query = versioned(
                        "DELETE FROM invoice_ledger
                          WHERE id = $1 AND state = $2 AND attempts = $3 AND state = 'pending'",
                        entry,
                    )?;
                    self.applied(query, || format!("abandoning ledger entry {}", entry.id)).await
                }

                async fn stale_entries(
                    &self,
                    updated_before: OffsetDateTime,
                    limit: u32,
                ) -> Result<Vec<LedgerEntry>, StoreError> {
                    let rows: Vec<LedgerRow> = sqlx::query_as(concat!(
                        "SELECT ",
                        ledger_columns!(),
                        " FROM invoice_ledger
                          WHERE state IN ('pending', 'unknown') AND updated_at < $1
                          ORDER BY updated_at, id
                          LIMIT $2"
                    ))
                    .bind(timestamp_param(updated_before)?)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(|error| unexpected(error, "reading stale ledger entries"))?;
                    decode_rows(rows)
                }

                async fn list(&self, filter: &LedgerFilter) -> Result<LedgerPage, StoreError> {
                    let mut query = QueryBuilder::<$database>::new(concat!(
                        "SELECT ",
                        ledger_columns!(),
                        " FROM invoice_ledger WHERE 1 = 1"
                    ));
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
                    if let Some(number) = &filter.referenced_number {
                        query.push(" AND referenced_number = ").push_bind(number.as_str());
                    }
                    if let Some(counterparty) = &filter.counterparty {
                        query
                            .push(" AND (counterparty_identification = ")
                            .push_bind(counterparty.clone())
                            .push(" OR lower(counterparty_name) LIKE ")
                            .push_bind(contains_pattern(counterparty))
                            .push(" ESCAPE '\\')");
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
                    query
                        .push(" ORDER BY created_at DESC, id DESC LIMIT ")
                        .push_bind(i64::from(filter.limit.get()) + 1);
                    let rows: Vec<LedgerRow> = query
                        .build_query_as()
                        .fetch_all(&self.pool)
                        .await
                        .map_err(|error| unexpected(error, "listing the ledger"))?;
                    Ok(into_page(decode_rows(rows)?, filter))
                }

                async fn count_by_state(&self) -> Result<LedgerCounts, StoreError> {
                    let rows: Vec<(String, i64)> =
                        sqlx::query_as("SELECT state, count(*) FROM invoice_ledger GROUP BY state")
                            .fetch_all(&self.pool)
                            .await
                            .map_err(|error| unexpected(error, "counting ledger entries by state"))?;
                    count_rows(rows)
                }

                async fn purge_keys(&self, created_before: OffsetDateTime) -> Result<u64, StoreError> {
                    let result = sqlx::query(
                        "UPDATE invoice_ledger SET idempotency_key = NULL
                          WHERE idempotency_key IS NOT NULL AND state IN ('issued', 'rejected') AND created_at < $1",
                    )
                    .bind(timestamp_param(created_before)?)
                    .execute(&self.pool)
                    .await
                    .map_err(|error| unexpected(error, "purging expired idempotency keys"))?;
                    Ok(result.rows_affected())
                }
            }
        };
    };
}
pub(super) use ledger_store;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_response_keeps_the_reference_field_order_and_round_trips() {
        let bill = IssuedBill {
            number: "SETP990000123".into(),
            prefix: "SETP".into(),
            cufe: "cufe123".into(),
            qr_url: "https://qr".into(),
            status: "1".into(),
            message: None,
        };
        let json = encode_response(&bill).unwrap();
        assert_eq!(
            json,
            r#"{"number":"SETP990000123","prefix":"SETP","cufe":"cufe123","qr_url":"https://qr","status":"1","message":null}"#
        );
        assert_eq!(decode_response(&json).unwrap(), bill);
    }

    #[test]
    fn a_row_in_an_unknown_state_is_refused() {
        let row = LedgerRow {
            id: Uuid::nil(),
            user_id: Uuid::nil(),
            username: "ana".into(),
            api_key_id: None,
            reference_code: "R1".into(),
            idempotency_key: None,
            request_fingerprint: "aa".into(),
            state: "lost".into(),
            response: None,
            error_status: None,
            error_detail: None,
            attempts: 1,
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
            issued_at: None,
            kind: "invoice".into(),
            dian_rejected: false,
            factus_deleted: false,
            total: None,
            referenced_number: None,
            queued_request: None,
            counterparty_identification: None,
            counterparty_name: None,
        };
        let error = LedgerEntry::try_from(row).unwrap_err();
        assert!(format!("{error:#}").contains("state"), "{error:#}");
    }
}
