//! The invoice ledger: the port that records every create before Factus is called, and its types.
//!
//! An entry is claimed `pending` before the invoice is sent, then settles:
//!
//! ```text
//!                   budget spent ┌────────┐ worker takes it
//!                   ┌──────────▶ │ queued │ ────────────┐
//!                   │            └────────┘ ◀───────────┤ (lookup found nothing, or the budget
//!                   │                                   │  is still spent: back in line)
//!            claim  │              Factus answered      ▼        ┌────────┐
//!  (none) ─────────▶ pending ─────────────────────────────────▶ │ issued │ (final)
//!                     │  ▲  │ Factus refused (4xx)              └────────┘
//!                     │  │  └──────────────────────────────────▶ rejected
//!    ambiguous failure│  │ reopen (lookup found nothing)             │
//!                     ▼  │                                           │ reopen (only when no
//!                   unknown ─── lookup found nothing ──▶ rejected ◀──┘  error status: "not
//!                     │          (background)            (not issued)    issued at Factus")
//!                     └── lookup found the bill ───────▶ issued
//! ```
//!
//! A pending entry whose request certainly never reached Factus is deleted again
//! ([`LedgerStore::abandon`]), unless the create may wait: then it is `queued` with what is needed
//! to send it later ([`QueuedRequest`]) and a background worker sends it when the Factus budget
//! allows, oldest first ([`LedgerStore::take_queued`]). The database guarantees what must hold whatever instance writes:
//! one active (`queued`, `pending`, `issued`, `unknown`) entry per `reference_code`, one entry per
//! Idempotency-Key of a user; every transition is a compare-and-set on the state and the attempt
//! number the caller read ([`LedgerEntry::attempts`]), so a decision taken on a stale reading of
//! the row cannot apply.
//!
//! The use case that drives the port is [`crate::issuance`].

use std::fmt;

use async_trait::async_trait;
use factus_domain::invoice::{Money, ReferenceCode};
use factus_domain::user::Username;
use thiserror::Error;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::StoreError;
use crate::document::Counterparty;
use crate::factus::IssuedBill;

/// The client's `Idempotency-Key`: 1 to [`IdempotencyKey::MAX_LEN`] printable ASCII characters
/// (space to `~`), not all blank. Keys are scoped per user and compared exactly.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IdempotencyKeyError {
    #[error("Idempotency-Key must not be empty")]
    Empty,
    #[error("Idempotency-Key must have at most {max} characters")]
    TooLong { max: usize },
    #[error("Idempotency-Key must be printable ASCII")]
    NotPrintableAscii,
}

impl IdempotencyKey {
    pub const MAX_LEN: usize = 255;

    /// # Errors
    /// [`IdempotencyKeyError`] when the key is empty or blank, longer than [`Self::MAX_LEN`], or
    /// holds a character outside printable ASCII.
    pub fn parse(raw: &str) -> Result<Self, IdempotencyKeyError> {
        if raw.trim().is_empty() {
            return Err(IdempotencyKeyError::Empty);
        }
        if !raw.bytes().all(|byte| (b' '..=b'~').contains(&byte)) {
            return Err(IdempotencyKeyError::NotPrintableAscii);
        }
        if raw.len() > Self::MAX_LEN {
            return Err(IdempotencyKeyError::TooLong { max: Self::MAX_LEN });
        }
        Ok(Self(raw.to_owned()))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdempotencyKey({:?})", self.0)
    }
}

/// A digest of the canonical request, computed by the web layer (for example SHA-256 of the
/// parsed body re-serialised), as lower-case hex of 1 to [`RequestFingerprint::MAX_LEN`] digits.
/// Opaque here: two requests are "the same body" exactly when their fingerprints are equal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestFingerprint(String);

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("a request fingerprint is 1 to {max} hexadecimal digits", max = RequestFingerprint::MAX_LEN)]
pub struct RequestFingerprintError;

impl RequestFingerprint {
    pub const MAX_LEN: usize = 128;

    /// Accepts hex digits in either case and keeps them lower-case.
    ///
    /// # Errors
    /// [`RequestFingerprintError`] when `hex` is empty, too long or not hexadecimal.
    pub fn parse(hex: &str) -> Result<Self, RequestFingerprintError> {
        if hex.is_empty() || hex.len() > Self::MAX_LEN || !hex.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            return Err(RequestFingerprintError);
        }
        Ok(Self(hex.to_ascii_lowercase()))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where an entry stands, without its data: for filters and counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LedgerState {
    /// Claimed and waiting for the Factus budget; the queue worker sends it.
    Queued,
    /// Claimed; the invoice is being sent (or the instance sending it died).
    Pending,
    /// Factus holds the bill; the entry carries it.
    Issued,
    /// Factus refused the invoice, or reconciliation found it was never issued.
    Rejected,
    /// The send failed ambiguously: Factus may hold the bill. Reconciled before any resend.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("state must be one of queued, pending, issued, rejected, unknown")]
pub struct LedgerStateError;

impl LedgerState {
    pub const ALL: [Self; 5] = [Self::Queued, Self::Pending, Self::Issued, Self::Rejected, Self::Unknown];

    /// The name as stored and as the API shows it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Pending => "pending",
            Self::Issued => "issued",
            Self::Rejected => "rejected",
            Self::Unknown => "unknown",
        }
    }

    /// # Errors
    /// [`LedgerStateError`] for anything but the five names (lower case).
    pub fn parse(raw: &str) -> Result<Self, LedgerStateError> {
        Self::ALL.into_iter().find(|state| state.as_str() == raw).ok_or(LedgerStateError)
    }
}

impl fmt::Display for LedgerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which Factus document an entry is. One ledger holds every kind; the kind is data (stored in
/// the `kind` column), so the exactly-once machinery is the same for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentKind {
    Invoice,
    CreditNote,
    DebitNote,
    SupportDocument,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("kind must be one of invoice, credit_note, debit_note, support_document")]
pub struct DocumentKindError;

impl DocumentKind {
    pub const ALL: [Self; 4] = [Self::Invoice, Self::CreditNote, Self::DebitNote, Self::SupportDocument];

    /// The name as stored and as the API shows it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invoice => "invoice",
            Self::CreditNote => "credit_note",
            Self::DebitNote => "debit_note",
            Self::SupportDocument => "support_document",
        }
    }

    /// The document with its article, as the Spanish messages name it (`la factura`, `la nota
    /// crédito`, `la nota débito`, `el documento soporte`).
    #[must_use]
    pub fn noun(self) -> &'static str {
        match self {
            Self::Invoice => "la factura",
            Self::CreditNote => "la nota crédito",
            Self::DebitNote => "la nota débito",
            Self::SupportDocument => "el documento soporte",
        }
    }

    /// # Errors
    /// [`DocumentKindError`] for anything but the four names (lower case).
    pub fn parse(raw: &str) -> Result<Self, DocumentKindError> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == raw).ok_or(DocumentKindError)
    }
}

impl fmt::Display for DocumentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an entry is rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// Factus refused the invoice with this HTTP status and message (its reason, without the
    /// reference's prefix). Final: a retry with the same Idempotency-Key gets it again.
    Factus { status: u16, message: String },
    /// Factus stored the document and DIAN rejected it: `message` holds the rule texts
    /// (`Regla: FAK24, Rechazo: …`). Factus keeps such a document pending and refuses every new
    /// document of its kind with 409 until it is deleted; `deleted` records that the gateway has
    /// deleted it at Factus. Final for the entry, like [`Rejection::Factus`].
    Dian { message: String, deleted: bool },
    /// Reconciliation found no bill at Factus for an entry whose outcome was unknown: the attempt
    /// issued nothing, the reference is free again, and a retry with the same key may resend.
    NotIssued,
    /// The bill was issued (pending at DIAN) and then deleted at Factus through
    /// `DELETE /invoices/reference/{rc}`: it no longer exists, the reference is free again, and a
    /// resend (with the same key or without one) sends the invoice anew instead of replaying the
    /// deleted bill. Stored like [`Rejection::NotIssued`] (no status) with the deleted number in
    /// the detail.
    Deleted { number: String },
}

impl Rejection {
    /// The detail stored for [`Rejection::NotIssued`].
    pub const NOT_ISSUED_DETAIL: &'static str = "not issued at Factus";

    /// The HTTP status Factus answered a DIAN rejection with (its Laravel validation shape).
    pub const DIAN_STATUS: u16 = 422;

    /// The start of the detail stored for [`Rejection::Deleted`], followed by the number.
    pub const DELETED_DETAIL_PREFIX: &'static str = "deleted at Factus: ";

    /// The detail stored (and shown) for [`Rejection::Deleted`] of bill `number`.
    #[must_use]
    pub fn deleted_detail(number: &str) -> String {
        format!("{}{number}", Self::DELETED_DETAIL_PREFIX)
    }

    /// Whether a resend under the same entry is allowed: the service, not Factus nor DIAN,
    /// decided that no bill exists (never for a refusal by Factus or a DIAN rejection).
    #[must_use]
    pub fn allows_resend(&self) -> bool {
        matches!(self, Self::NotIssued | Self::Deleted { .. })
    }
}

/// An entry's state together with the data that state carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryStatus {
    Queued,
    Pending,
    Issued { bill: IssuedBill, issued_at: OffsetDateTime },
    Rejected(Rejection),
    Unknown,
}

impl EntryStatus {
    #[must_use]
    pub fn state(&self) -> LedgerState {
        match self {
            Self::Queued => LedgerState::Queued,
            Self::Pending => LedgerState::Pending,
            Self::Issued { .. } => LedgerState::Issued,
            Self::Rejected(_) => LedgerState::Rejected,
            Self::Unknown => LedgerState::Unknown,
        }
    }
}

/// A ledger entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    pub id: Uuid,
    pub kind: DocumentKind,
    /// The user who created the invoice, and their name at the time.
    pub user_id: Uuid,
    pub username: Username,
    /// The API key the user's request came with; `None` for a request with a bearer token.
    pub api_key_id: Option<Uuid>,
    pub reference_code: ReferenceCode,
    /// `None` when the request had no key, or once the key outlived its retention.
    pub idempotency_key: Option<IdempotencyKey>,
    pub fingerprint: RequestFingerprint,
    /// What the document is worth ([`crate::document::Document::total`]); `None` for entries
    /// recorded before totals were kept.
    pub total: Option<Money>,
    /// The number of the invoice a note corrects.
    pub referenced_number: Option<String>,
    /// What the queue worker sends: set when the entry was queued, kept until it settles.
    pub queued_request: Option<QueuedRequest>,
    /// Who the document is for; `None` for entries recorded before it was kept, and for notes
    /// that leave the customer to their invoice.
    pub counterparty: Option<Counterparty>,
    pub status: EntryStatus,
    /// Sends to Factus under this entry: 1, plus one per [`LedgerStore::reopen`]. Also the
    /// version every transition checks.
    pub attempts: u32,
    pub created_at: OffsetDateTime,
    /// Last change; how the reconciler tells a stale entry.
    pub updated_at: OffsetDateTime,
}

impl LedgerEntry {
    #[must_use]
    pub fn state(&self) -> LedgerState {
        self.status.state()
    }

    /// The position of this entry in the listing, to continue after it.
    #[must_use]
    pub fn cursor(&self) -> LedgerCursor {
        LedgerCursor { created_at: self.created_at, id: self.id }
    }
}

/// What a queued entry keeps to be sent later without its client: the request as the edge
/// received it, in a form only the edge reads back ([`QueuedRequestReader`]). Opaque here.
#[derive(Clone, PartialEq, Eq)]
pub struct QueuedRequest(String);

impl QueuedRequest {
    #[must_use]
    pub fn new(text: String) -> Self {
        Self(text)
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for QueuedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A whole invoice is noise in a log line; its length tells enough.
        write!(f, "QueuedRequest({} bytes)", self.0.len())
    }
}

/// Reads a [`QueuedRequest`] back into the document it was made from. The edge that wrote it
/// implements it; the queue worker uses it.
pub trait QueuedRequestReader: Send + Sync {
    /// # Errors
    /// A text for the log and the entry's rejection when the stored request no longer reads as
    /// a document of `kind` (written by an incompatible version).
    fn read(&self, kind: DocumentKind, request: &QueuedRequest) -> Result<crate::document::Document, String>;
}

/// How long the queue is: for metrics, readiness and the console's overview.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueStats {
    pub depth: u64,
    /// When the oldest queued entry arrived.
    pub oldest_created_at: Option<OffsetDateTime>,
    /// The oldest queued entry (the next the worker sends), so that an operator can open it.
    pub oldest_id: Option<Uuid>,
}

/// What [`LedgerStore::claim`] inserts: a `pending` entry with one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLedgerEntry {
    pub id: Uuid,
    pub kind: DocumentKind,
    pub user_id: Uuid,
    pub username: Username,
    /// The API key that authenticated the request, if any.
    pub api_key_id: Option<Uuid>,
    pub reference_code: ReferenceCode,
    pub idempotency_key: Option<IdempotencyKey>,
    pub fingerprint: RequestFingerprint,
    pub total: Option<Money>,
    pub referenced_number: Option<String>,
    pub counterparty: Option<Counterparty>,
    /// Also the first `updated_at`.
    pub created_at: OffsetDateTime,
}

/// Why an entry could not be claimed (or reopened).
#[derive(Debug, Error)]
pub enum ClaimError {
    /// Another entry for the reference is active (pending, issued or unknown); here it is.
    #[error("reference {} already has an active ledger entry", .0.reference_code)]
    ReferenceActive(Box<LedgerEntry>),
    /// The user already has an entry under this Idempotency-Key; here it is.
    #[error("the idempotency key already has a ledger entry")]
    KeyExists(Box<LedgerEntry>),
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

/// A position in the listing: entries strictly older than it (by `created_at`, then `id`) come
/// next. Clients see it as an opaque token ([`LedgerCursor::encode`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LedgerCursor {
    pub created_at: OffsetDateTime,
    pub id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid cursor")]
pub struct LedgerCursorError;

impl LedgerCursor {
    /// The token a client passes back: microseconds since the epoch in hex, a dot, the id's 32
    /// hex digits. Clients must not build or parse it.
    #[must_use]
    pub fn encode(&self) -> String {
        let micros = self.created_at.unix_timestamp_nanos() / 1_000;
        format!("{micros:x}.{}", self.id.simple())
    }

    /// # Errors
    /// [`LedgerCursorError`] for anything [`LedgerCursor::encode`] did not produce.
    pub fn parse(token: &str) -> Result<Self, LedgerCursorError> {
        let (micros, id) = token.split_once('.').ok_or(LedgerCursorError)?;
        if micros.is_empty() || micros.len() > 16 || !micros.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            return Err(LedgerCursorError);
        }
        if id.len() != 32 || !id.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            return Err(LedgerCursorError);
        }
        let micros = i128::from_str_radix(micros, 16).map_err(|_| LedgerCursorError)?;
        let created_at = OffsetDateTime::from_unix_timestamp_nanos(micros * 1_000).map_err(|_| LedgerCursorError)?;
        let id = Uuid::try_parse(id).map_err(|_| LedgerCursorError)?;
        Ok(Self { created_at, id })
    }
}

/// How many entries a page holds: 1 to [`PageSize::MAX`], [`PageSize::DEFAULT`] when unasked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSize(u32);

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PageSizeError {
    #[error("ensure this value is greater than or equal to 1")]
    TooSmall,
    #[error("ensure this value is less than or equal to {max}")]
    TooLarge { max: u32 },
}

impl PageSize {
    pub const DEFAULT: Self = Self(50);
    pub const MAX: u32 = 200;

    /// # Errors
    /// [`PageSizeError`] outside 1..=[`Self::MAX`].
    pub fn new(size: u32) -> Result<Self, PageSizeError> {
        match size {
            0 => Err(PageSizeError::TooSmall),
            size if size > Self::MAX => Err(PageSizeError::TooLarge { max: Self::MAX }),
            size => Ok(Self(size)),
        }
    }

    #[must_use]
    pub fn get(self) -> u32 {
        self.0
    }
}

impl Default for PageSize {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// What to list; every filter is optional and they combine with AND. Entries come newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerFilter {
    /// Entries of one document kind; `GET /api/v1/invoices` always asks for invoices.
    pub kind: Option<DocumentKind>,
    pub state: Option<LedgerState>,
    /// Entries of this reference code, in any state.
    pub reference_code: Option<ReferenceCode>,
    /// Entries whose Factus number (e.g. `SETP990000001`) is exactly this.
    pub number: Option<String>,
    /// Notes that correct the invoice of this number.
    pub referenced_number: Option<String>,
    /// Documents for this customer (or provider): its identification number exactly, or a part
    /// of its name in any case.
    pub counterparty: Option<String>,
    /// Created at or after this instant.
    pub created_from: Option<OffsetDateTime>,
    /// Created strictly before this instant.
    pub created_before: Option<OffsetDateTime>,
    /// Entries of one user, by id. [`crate::issuance::InvoiceIssuance::list`] sets it for users who
    /// are not admins.
    pub user_id: Option<Uuid>,
    /// Entries of one user, by the name stored with them.
    pub username: Option<Username>,
    /// Continue after this position (the previous page's [`LedgerPage::next_cursor`]).
    pub after: Option<LedgerCursor>,
    pub limit: PageSize,
}

/// One page of the listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerPage {
    pub entries: Vec<LedgerEntry>,
    /// Where the next page starts; `None` on the last page.
    pub next_cursor: Option<LedgerCursor>,
}

/// How many entries are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LedgerCounts {
    pub queued: u64,
    pub pending: u64,
    pub issued: u64,
    pub rejected: u64,
    pub unknown: u64,
}

impl LedgerCounts {
    #[must_use]
    pub fn get(&self, state: LedgerState) -> u64 {
        match state {
            LedgerState::Queued => self.queued,
            LedgerState::Pending => self.pending,
            LedgerState::Issued => self.issued,
            LedgerState::Rejected => self.rejected,
            LedgerState::Unknown => self.unknown,
        }
    }

    /// Adds `count` to `state` (for adapters summing grouped rows).
    pub fn add(&mut self, state: LedgerState, count: u64) {
        let slot = match state {
            LedgerState::Queued => &mut self.queued,
            LedgerState::Pending => &mut self.pending,
            LedgerState::Issued => &mut self.issued,
            LedgerState::Rejected => &mut self.rejected,
            LedgerState::Unknown => &mut self.unknown,
        };
        *slot = slot.saturating_add(count);
    }
}

/// Where ledger entries live. Implemented for Postgres and SQLite; both pass one contract suite.
///
/// Transitions take the entry as the caller read it and apply only if the stored row still has
/// that state and that attempt number (compare-and-set); they return whether they applied.
/// Timestamps come from the caller (`at`), truncated by the store to microseconds.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait LedgerStore: Send + Sync {
    /// Inserts a `pending` entry with one attempt. The database decides races between instances.
    ///
    /// # Errors
    /// [`ClaimError::ReferenceActive`] with the blocking entry when the reference already has an
    /// active one; [`ClaimError::KeyExists`] with the existing entry when the user already used
    /// the key; `Unexpected` otherwise.
    async fn claim(&self, entry: &NewLedgerEntry) -> Result<LedgerEntry, ClaimError>;

    /// The user's entry under `key`, in any state.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be read.
    async fn find_by_key(&self, user_id: Uuid, key: &IdempotencyKey) -> Result<Option<LedgerEntry>, StoreError>;

    /// The active (queued, pending, issued or unknown) entry of the reference; there is at most one.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be read.
    async fn find_active_by_reference(&self, reference: &ReferenceCode) -> Result<Option<LedgerEntry>, StoreError>;

    /// `pending`/`unknown` → `issued` with Factus' bill; stores the bill's fields and the JSON the
    /// client gets, sets `issued_at` and `updated_at` to `at`.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be written.
    async fn mark_issued(&self, entry: &LedgerEntry, bill: &IssuedBill, at: OffsetDateTime)
    -> Result<bool, StoreError>;

    /// `pending`/`unknown` → `rejected`, recording why.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be written.
    async fn mark_rejected(
        &self,
        entry: &LedgerEntry,
        rejection: &Rejection,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// `issued` → `rejected` with [`Rejection::Deleted`] after the bill was deleted at Factus:
    /// clears the bill's fields (the number stays in the detail), frees the reference. Returns
    /// whether it applied.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be written.
    async fn mark_deleted(&self, entry: &LedgerEntry, at: OffsetDateTime) -> Result<bool, StoreError>;

    /// `pending` → `unknown` after an ambiguous failure.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be written.
    async fn mark_unknown(&self, entry: &LedgerEntry, at: OffsetDateTime) -> Result<bool, StoreError>;

    /// `pending`/`unknown` → `queued` with what is needed to send it later: the budget had no slot
    /// for it, or a worker's send found nothing at Factus and it goes back in line. Keeps its
    /// place (`created_at`) and its attempts. Returns whether it applied.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be written.
    async fn mark_queued(
        &self,
        entry: &LedgerEntry,
        request: &QueuedRequest,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// The oldest `queued` entry (by `created_at`, then `id`), now `pending` and held by the
    /// caller; `None` when the queue is empty, while an entry taken earlier (by any worker, on
    /// any instance) is still `pending`, and while a create that arrived before the oldest is
    /// still `pending` (its client waits for a slot or is sending it): Factus receives and
    /// numbers queued creates in the order they arrived, each after every create that arrived
    /// before it. An entry that went `unknown` holds nothing up; the reconciler settles it.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be written.
    async fn take_queued(&self, at: OffsetDateTime) -> Result<Option<LedgerEntry>, StoreError>;

    /// The entry `id`, in any state.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be read.
    async fn find(&self, id: Uuid) -> Result<Option<LedgerEntry>, StoreError>;

    /// How many entries are queued, and since when the oldest waits.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be read.
    async fn queue_stats(&self) -> Result<QueueStats, StoreError>;

    /// Records that the document of a [`Rejection::Dian`] entry was deleted at Factus (its
    /// `deleted` becomes true). Returns whether the entry was such an entry still marked stuck.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be written.
    async fn mark_deleted_at_factus(&self, entry: &LedgerEntry) -> Result<bool, StoreError>;

    /// The entries of `kind` rejected by DIAN whose document is still stored at Factus (not
    /// deleted), oldest first, at most `limit`: what blocks new documents of that kind.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be read.
    async fn stuck_rejections(&self, kind: DocumentKind, limit: u32) -> Result<Vec<LedgerEntry>, StoreError>;

    /// Back to `pending` for a resend, once reconciliation found no bill at Factus: from
    /// `unknown`, from a stale `pending`, or from `rejected` with [`Rejection::NotIssued`] or
    /// [`Rejection::Deleted`] (never
    /// from a rejection by Factus, nor from `issued`). Counts one more attempt and clears the
    /// error. Returns the reopened entry, `None` when the row changed meanwhile.
    ///
    /// # Errors
    /// [`ClaimError::ReferenceActive`] when reopening a rejected entry meets another active entry
    /// of the reference; `Unexpected` otherwise (never `KeyExists`).
    async fn reopen(&self, entry: &LedgerEntry, at: OffsetDateTime) -> Result<Option<LedgerEntry>, ClaimError>;

    /// Deletes a `pending` entry whose request certainly never reached Factus (circuit open,
    /// connection refused), so that a retry can claim the reference and key again.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be written.
    async fn abandon(&self, entry: &LedgerEntry) -> Result<bool, StoreError>;

    /// `pending` and `unknown` entries not updated since before `updated_before`, oldest first, at
    /// most `limit` of them: the reconciler's work.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be read.
    async fn stale_entries(&self, updated_before: OffsetDateTime, limit: u32) -> Result<Vec<LedgerEntry>, StoreError>;

    /// A page of entries matching `filter`, newest first (by `created_at`, then `id`).
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be read.
    async fn list(&self, filter: &LedgerFilter) -> Result<LedgerPage, StoreError>;

    /// How many entries are in each state.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be read.
    async fn count_by_state(&self) -> Result<LedgerCounts, StoreError>;

    /// Forgets the Idempotency-Keys of settled (`issued`, `rejected`) entries created before
    /// `created_before`; the entries themselves are kept (they record tax documents). Keys of
    /// `pending` and `unknown` entries are kept until those settle. Returns how many were cleared.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be written.
    async fn purge_keys(&self, created_before: OffsetDateTime) -> Result<u64, StoreError>;
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn idempotency_keys_are_printable_ascii_of_at_most_255_characters() {
        assert_eq!(IdempotencyKey::parse("8e03978e-40d5-43e8").unwrap().as_str(), "8e03978e-40d5-43e8");
        assert!(IdempotencyKey::parse(&"k".repeat(255)).is_ok());
        assert_eq!(IdempotencyKey::parse(&"k".repeat(256)), Err(IdempotencyKeyError::TooLong { max: 255 }));
        assert_eq!(IdempotencyKey::parse(""), Err(IdempotencyKeyError::Empty));
        assert_eq!(IdempotencyKey::parse("   "), Err(IdempotencyKeyError::Empty));
        assert_eq!(IdempotencyKey::parse("clave-ñ"), Err(IdempotencyKeyError::NotPrintableAscii));
        assert_eq!(IdempotencyKey::parse("a\tb"), Err(IdempotencyKeyError::NotPrintableAscii));
    }

    #[test]
    fn fingerprints_are_hex_and_kept_lower_case() {
        assert_eq!(RequestFingerprint::parse("ABCdef0123").unwrap().as_str(), "abcdef0123");
        assert!(RequestFingerprint::parse("").is_err());
        assert!(RequestFingerprint::parse("xyz").is_err());
        assert!(RequestFingerprint::parse(&"a".repeat(129)).is_err());
    }

    #[test]
    fn states_round_trip_through_their_names() {
        for state in LedgerState::ALL {
            assert_eq!(LedgerState::parse(state.as_str()), Ok(state));
        }
        assert_eq!(LedgerState::parse("Issued"), Err(LedgerStateError));
    }

    #[test]
    fn cursors_round_trip_through_their_token() {
        let cursor = LedgerCursor {
            created_at: datetime!(2026-11-25 13:59:01.123456 UTC),
            id: Uuid::parse_str("0193c5a4-8d3e-7b21-9f00-123456789abc").unwrap(),
        };
        let token = cursor.encode();
        assert_eq!(LedgerCursor::parse(&token), Ok(cursor));
    }

    #[test]
    fn tokens_that_were_not_encoded_by_a_cursor_are_refused() {
        for token in
            ["", ".", "zz.0193c5a48d3e7b219f00123456789abc", "1f.short", "1f", "1f.0193c5a4-8d3e-7b21-9f00-1234"]
        {
            assert_eq!(LedgerCursor::parse(token), Err(LedgerCursorError), "{token:?}");
        }
    }

    #[test]
    fn page_sizes_are_between_one_and_the_maximum() {
        assert_eq!(PageSize::new(1).unwrap().get(), 1);
        assert_eq!(PageSize::new(200).unwrap().get(), 200);
        assert_eq!(PageSize::new(0), Err(PageSizeError::TooSmall));
        assert_eq!(PageSize::new(201), Err(PageSizeError::TooLarge { max: 200 }));
        assert_eq!(PageSize::default().get(), 50);
    }

    #[test]
    fn counts_add_up_per_state() {
        let mut counts = LedgerCounts::default();
        counts.add(LedgerState::Issued, 2);
        counts.add(LedgerState::Issued, 3);
        counts.add(LedgerState::Unknown, 1);
        assert_eq!(counts.get(LedgerState::Issued), 5);
        assert_eq!(counts.get(LedgerState::Unknown), 1);
        assert_eq!(counts.get(LedgerState::Pending), 0);
    }
}
