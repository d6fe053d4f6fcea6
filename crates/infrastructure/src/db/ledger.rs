//! What both ledger adapters share: the row shape, the stored response's encoding, paging and
//! counting. The SQL differs per backend (`ledger_postgres.rs`, `ledger_sqlite.rs`); what a row
//! means does not.

use std::borrow::Cow;

use anyhow::Context as _;
use factus_application::StoreError;
use factus_application::factus::IssuedBill;
use factus_application::ledger::{
    ClaimError, DocumentKind, EntryStatus, IdempotencyKey, LedgerCounts, LedgerEntry, LedgerFilter, LedgerPage,
    LedgerState, LedgerStore, NewLedgerEntry, Rejection, RequestFingerprint,
};
use factus_domain::invoice::ReferenceCode;
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
         factus_deleted"
    };
}
pub(super) use ledger_columns;

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
}

impl TryFrom<LedgerRow> for LedgerEntry {
    type Error = anyhow::Error;

    fn try_from(row: LedgerRow) -> Result<Self, Self::Error> {
        let id = row.id;
        let state = LedgerState::parse(&row.state).with_context(|| format!("entry {id} has state {:?}", row.state))?;
        let status = match state {
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

/// Turns rows into entries; a row that does not decode is a corrupt store, not a missing entry.
pub(super) fn decode_rows(rows: Vec<LedgerRow>) -> Result<Vec<LedgerEntry>, StoreError> {
    rows.into_iter().map(decode_row).collect()
}

pub(super) fn decode_row(row: LedgerRow) -> Result<LedgerEntry, StoreError> {
    LedgerEntry::try_from(row).map_err(|error| StoreError(error.context("reading a stored ledger entry")))
}

/// The attempt number as bound to a query.
pub(super) fn attempts_param(entry: &LedgerEntry) -> i64 {
    i64::from(entry.attempts)
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
        };
        let error = LedgerEntry::try_from(row).unwrap_err();
        assert!(format!("{error:#}").contains("state"), "{error:#}");
    }
}
