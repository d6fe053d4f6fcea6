//! In-memory state behind short critical sections: documents and numbering counters under one
//! mutex (numbers are taken and the document inserted in the same section, so concurrent creates
//! get consecutive numbers), tokens under a read-write lock, counters and faults under their own.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::config::DuplicatePolicy;
use crate::faults::FaultRegistry;
use crate::model::{BillRef, DocKind, Document, DocumentInput, RadianEvent};
use crate::ranges::{CompanyProfile, RangeMeta};
use crate::totals::Totals;
use crate::v2::model::V2Extras;
use crate::version::RequestLog;

/// Locks a mutex, recovering the data if a previous holder panicked (the data is always left
/// consistent: every section completes its writes before anything can panic).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Credit notes issued against a bill: (note id, note number).
pub(crate) type NoteRefs = Vec<(u64, String)>;

/// Documents of one family with their indexes.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    pub docs: BTreeMap<u64, Arc<Document>>,
    by_number: HashMap<String, u64>,
    by_reference: HashMap<String, u64>,
    /// Documents with status 0 (rejected ones included).
    pending: usize,
    /// Documents DIAN rejected (status 0 with rejection rules).
    rejected: usize,
    next_id: u64,
}

impl Ledger {
    fn count(&mut self, doc: &Document, delta: isize) {
        if doc.status == 0 {
            self.pending = self.pending.saturating_add_signed(delta);
        }
        if doc.is_rejected() {
            self.rejected = self.rejected.saturating_add_signed(delta);
        }
    }

    fn insert(&mut self, doc: Arc<Document>) {
        if let Some(old) = self.docs.get(&doc.id).cloned() {
            self.count(&old, -1);
        }
        self.count(&doc, 1);
        self.by_number.insert(doc.number.clone(), doc.id);
        self.by_reference.insert(doc.reference_code.clone(), doc.id);
        self.next_id = self.next_id.max(doc.id);
        self.docs.insert(doc.id, doc);
    }

    fn remove(&mut self, id: u64) -> Option<Arc<Document>> {
        let doc = self.docs.remove(&id)?;
        self.by_number.remove(&doc.number);
        self.by_reference.remove(&doc.reference_code);
        self.count(&doc, -1);
        Some(doc)
    }

    /// The oldest document that stops new creates: a rejected one always, any pending one when
    /// `pending_blocks_new`. Scans only when the counters say one exists.
    pub fn blocker(&self, pending_blocks_new: bool) -> Option<&Arc<Document>> {
        if self.rejected > 0 {
            return self.docs.values().find(|d| d.is_rejected());
        }
        if pending_blocks_new && self.pending > 0 {
            return self.docs.values().find(|d| d.status == 0);
        }
        None
    }

    pub fn by_number(&self, number: &str) -> Option<&Arc<Document>> {
        self.by_number.get(number).and_then(|id| self.docs.get(id))
    }

    pub fn by_reference(&self, reference: &str) -> Option<&Arc<Document>> {
        self.by_reference.get(reference).and_then(|id| self.docs.get(id))
    }

    pub fn by_id(&self, id: u64) -> Option<&Arc<Document>> {
        self.docs.get(&id)
    }
}

/// Documents, the numbering ranges and the `current` counter of each range.
#[derive(Debug, Default)]
pub(crate) struct Documents {
    /// Every range by id, deleted ones included (their documents still render).
    pub ranges: BTreeMap<u64, RangeMeta>,
    /// Highest number issued on each range, by range id.
    highest: BTreeMap<u64, u64>,
    pub bills: Ledger,
    pub credit_notes: Ledger,
    pub support_documents: Ledger,
    pub debit_notes: Ledger,
    /// Next number of each range, by range id.
    pub currents: BTreeMap<u64, u64>,
    /// Credit notes issued against each bill id: (note id, note number).
    pub notes_by_bill: HashMap<u64, NoteRefs>,
}

impl Documents {
    pub fn ledger(&self, kind: DocKind) -> &Ledger {
        match kind {
            DocKind::Bill => &self.bills,
            DocKind::CreditNote => &self.credit_notes,
            DocKind::SupportDocument => &self.support_documents,
            DocKind::DebitNote => &self.debit_notes,
        }
    }

    fn ledger_mut(&mut self, kind: DocKind) -> &mut Ledger {
        match kind {
            DocKind::Bill => &mut self.bills,
            DocKind::CreditNote => &mut self.credit_notes,
            DocKind::SupportDocument => &mut self.support_documents,
            DocKind::DebitNote => &mut self.debit_notes,
        }
    }

    fn with_ranges(ranges: Vec<RangeMeta>) -> Self {
        Self {
            currents: ranges.iter().map(|r| (r.id, r.first)).collect(),
            ranges: ranges.into_iter().map(|r| (r.id, r)).collect(),
            ..Self::default()
        }
    }

    fn live(&self, id: u64) -> Option<(RangeMeta, u64)> {
        let range = self.ranges.get(&id).filter(|r| r.deleted_at.is_none())?;
        Some((range.clone(), self.currents.get(&id).copied().unwrap_or(range.first)))
    }

    fn add(&mut self, doc: Arc<Document>) {
        let highest = self.highest.entry(doc.input.numbering_range_id).or_insert(0);
        *highest = (*highest).max(doc.sequence);
        // Credit notes only: debit notes are found by scanning their own ledger.
        if let Some(bill) = doc.bill.as_ref().filter(|_| doc.kind == DocKind::CreditNote) {
            let notes = self.notes_by_bill.entry(bill.id).or_default();
            if !notes.iter().any(|(id, _)| *id == doc.id) {
                notes.push((doc.id, doc.number.clone()));
            }
        }
        self.ledger_mut(doc.kind).insert(doc);
    }
}

/// A create request that passed validation.
pub(crate) struct Draft {
    pub kind: DocKind,
    pub input: DocumentInput,
    pub totals: Totals,
    pub fingerprint: String,
    pub bill: Option<BillRef>,
    /// Store with status 0 (the `pending` fault).
    pub pending: bool,
    /// DIAN rules that reject the document (empty: none). A rejected document is stored with
    /// status 0 and blocks its family.
    pub rejection: Vec<(String, String)>,
    pub now: OffsetDateTime,
    /// The v2-only part of a v2 body.
    pub v2: Option<Box<V2Extras>>,
}

/// What a create did.
#[derive(Debug)]
pub(crate) enum Created {
    /// A new document was numbered and stored.
    New(Arc<Document>),
    /// The reference named a pending document sent again with the same data: it is now validated
    /// (or still pending when the `pending` fault fired again).
    Resumed(Arc<Document>),
    /// The reference named a validated document and the policy is `ReturnExisting`.
    Existing(Arc<Document>),
    /// DIAN rejected the document (a new one, or the same data sent again for a rejected one):
    /// it is stored with status 0 and its rules, and blocks its family until deleted.
    Rejected(Arc<Document>),
}

/// Why a create was refused after validation.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CreateError {
    #[error("reference already used by a validated document")]
    DuplicateReference,
    #[error("reference names a pending document sent with different data")]
    PendingDiffers,
    #[error("another document of the family is pending")]
    PendingBlocks(Arc<Document>),
    #[error("numbering range exhausted")]
    RangeExhausted,
}

/// Why a delete was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DeleteError {
    #[error("no document with that reference")]
    NotFound,
    #[error("the document is validated")]
    Validated,
}

/// Why a range change was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RangeError {
    #[error("no such numbering range")]
    NotFound,
    /// A field error in Laravel's shape: `(path, message)`.
    #[error("{1}")]
    Field(&'static str, String),
}

/// An issued access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AccessToken {
    /// Unix time (ms) after which the token is refused.
    pub expires_at_ms: i128,
    /// The OAuth user (account) it was issued to: the rate limit counts per account.
    #[serde(default)]
    pub user: String,
}

/// An issued refresh token and the access token it replaces.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RefreshToken {
    pub access_token: String,
    #[serde(default)]
    pub user: String,
}

/// A fixed window of the rate limiter.
#[derive(Debug)]
struct Window {
    started: Instant,
    count: u32,
}

/// Outcome of a rate-limit check.
#[derive(Debug)]
pub(crate) enum RateCheck {
    Allowed { remaining: u32, reset_in: Duration },
    Limited { reset_in: Duration },
}

/// Everything the sandbox holds.
#[derive(Debug)]
pub(crate) struct Store {
    pub docs: Mutex<Documents>,
    pub company: RwLock<CompanyProfile>,
    pub access_tokens: RwLock<HashMap<String, AccessToken>>,
    pub refresh_tokens: Mutex<HashMap<String, RefreshToken>>,
    pub faults: Mutex<FaultRegistry>,
    /// Cheap check that skips the fault lock while no rule exists.
    pub faults_present: AtomicBool,
    pub requests: Mutex<HashMap<String, u64>>,
    /// Every answered request with its status, newest last.
    pub request_log: Mutex<RequestLog>,
    windows: Mutex<HashMap<String, Window>>,
    /// Set by every change worth saving to the state file.
    pub dirty: AtomicBool,
}

impl Store {
    pub fn new(ranges: Vec<RangeMeta>) -> Self {
        Self {
            docs: Mutex::new(Documents::with_ranges(ranges)),
            company: RwLock::new(CompanyProfile::default()),
            access_tokens: RwLock::new(HashMap::new()),
            refresh_tokens: Mutex::new(HashMap::new()),
            faults: Mutex::new(FaultRegistry::default()),
            faults_present: AtomicBool::new(false),
            requests: Mutex::new(HashMap::new()),
            request_log: Mutex::new(RequestLog::default()),
            windows: Mutex::new(HashMap::new()),
            dirty: AtomicBool::new(false),
        }
    }

    fn touch(&self) {
        self.dirty.store(true, Ordering::Relaxed);
    }

    /// Numbers and stores a document, or resolves its reference against a stored one.
    ///
    /// `key_for` derives the CUFE/CUDE from the number and creation time.
    pub fn create(
        &self,
        draft: Draft,
        range: &RangeMeta,
        policy: DuplicatePolicy,
        pending_blocks_new: bool,
        key_for: impl FnOnce(&str, OffsetDateTime) -> String,
    ) -> Result<Created, CreateError> {
        let mut docs = lock(&self.docs);
        let ledger = docs.ledger(draft.kind);
        if let Some(existing) = ledger.by_reference(&draft.input.reference_code) {
            if existing.status == 1 {
                return match policy {
                    DuplicatePolicy::Conflict => Err(CreateError::DuplicateReference),
                    DuplicatePolicy::ReturnExisting => Ok(Created::Existing(Arc::clone(existing))),
                };
            }
            if existing.fingerprint != draft.fingerprint {
                return Err(CreateError::PendingDiffers);
            }
            // The same data again: DIAN looks at it again. A rejection stands (the data did not
            // change); a document DIAN had not answered is validated now.
            if existing.is_rejected() {
                return Ok(Created::Rejected(Arc::clone(existing)));
            }
            if !draft.rejection.is_empty() {
                let mut rejected = Document::clone(existing);
                rejected.rejection = draft.rejection;
                let rejected = Arc::new(rejected);
                docs.add(Arc::clone(&rejected));
                drop(docs);
                self.touch();
                return Ok(Created::Rejected(rejected));
            }
            if draft.pending {
                return Ok(Created::Resumed(Arc::clone(existing)));
            }
            let mut validated = Document::clone(existing);
            validated.status = 1;
            validated.validated_at = Some(draft.now);
            let validated = Arc::new(validated);
            docs.add(Arc::clone(&validated));
            drop(docs);
            self.touch();
            return Ok(Created::Resumed(validated));
        }
        if let Some(blocker) = ledger.blocker(pending_blocks_new) {
            return Err(CreateError::PendingBlocks(Arc::clone(blocker)));
        }
        let id = ledger.next_id + 1;
        let sequence = docs.currents.get(&range.id).copied().unwrap_or(range.first);
        if sequence > range.to {
            return Err(CreateError::RangeExhausted);
        }
        docs.currents.insert(range.id, sequence + 1);
        let number = format!("{}{}", range.prefix, sequence);
        let key = key_for(&number, draft.now);
        let rejected = !draft.rejection.is_empty();
        let status = u8::from(!draft.pending && !rejected);
        let doc = Arc::new(Document {
            id,
            kind: draft.kind,
            number,
            sequence,
            reference_code: draft.input.reference_code.clone(),
            status,
            created_at: draft.now,
            validated_at: (status == 1).then_some(draft.now),
            key,
            fingerprint: draft.fingerprint,
            input: draft.input,
            totals: draft.totals,
            bill: draft.bill,
            events: Vec::new(),
            rejection: draft.rejection,
            v2: draft.v2,
        });
        docs.add(Arc::clone(&doc));
        drop(docs);
        self.touch();
        Ok(if rejected { Created::Rejected(doc) } else { Created::New(doc) })
    }

    /// Deletes a pending document by reference.
    pub fn delete(&self, kind: DocKind, reference: &str) -> Result<Arc<Document>, DeleteError> {
        let mut docs = lock(&self.docs);
        let id = match docs.ledger(kind).by_reference(reference) {
            None => return Err(DeleteError::NotFound),
            Some(doc) if doc.status == 1 => return Err(DeleteError::Validated),
            Some(doc) => doc.id,
        };
        let removed = docs.ledger_mut(kind).remove(id).ok_or(DeleteError::NotFound)?;
        if let Some(bill) = &removed.bill
            && let Some(notes) = docs.notes_by_bill.get_mut(&bill.id)
        {
            notes.retain(|(note, _)| *note != removed.id);
        }
        drop(docs);
        self.touch();
        Ok(removed)
    }

    /// The document that makes new creates of `kind` answer 409 (any API version): a DIAN-rejected
    /// one always, any pending one when `pending_blocks_new`; `None` when creates may go ahead.
    /// Deleting it by reference ([`Store::delete`]) unblocks the family.
    pub fn blocker(&self, kind: DocKind, pending_blocks_new: bool) -> Option<Arc<Document>> {
        lock(&self.docs).ledger(kind).blocker(pending_blocks_new).cloned()
    }

    /// A document by number, with the credit notes issued against it.
    pub fn find(&self, kind: DocKind, number: &str) -> Option<(Arc<Document>, NoteRefs)> {
        let docs = lock(&self.docs);
        let doc = Arc::clone(docs.ledger(kind).by_number(number)?);
        let notes = docs.notes_by_bill.get(&doc.id).cloned().unwrap_or_default();
        Some((doc, notes))
    }

    /// A bill by id (credit notes reference bills by id).
    pub fn bill_by_id(&self, id: u64) -> Option<Arc<Document>> {
        lock(&self.docs).bills.by_id(id).cloned()
    }

    /// All documents of a family, newest first.
    pub fn all(&self, kind: DocKind) -> Vec<Arc<Document>> {
        lock(&self.docs).ledger(kind).docs.values().rev().cloned().collect()
    }

    /// Adds a RADIAN event to a bill; `None` when the number is unknown.
    pub fn add_event(&self, number: &str, make: impl FnOnce(usize) -> RadianEvent) -> Option<RadianEvent> {
        let mut docs = lock(&self.docs);
        let existing = docs.bills.by_number(number)?;
        let mut updated = Document::clone(existing);
        let event = make(updated.events.len());
        updated.events.push(event.clone());
        docs.add(Arc::new(updated));
        drop(docs);
        self.touch();
        Some(event)
    }

    /// A range by id, deleted ones included (to render the documents it numbered).
    pub fn range(&self, id: u64) -> Option<RangeMeta> {
        lock(&self.docs).ranges.get(&id).cloned()
    }

    /// The ranges that are not deleted, by id, with their next number (any API version).
    pub fn ranges(&self) -> Vec<(RangeMeta, u64)> {
        let docs = lock(&self.docs);
        docs.ranges.keys().filter_map(|id| docs.live(*id)).collect()
    }

    /// A range that is not deleted, with its next number.
    pub fn live_range(&self, id: u64) -> Option<(RangeMeta, u64)> {
        lock(&self.docs).live(id)
    }

    /// Adds a range (`id` is assigned: one above the highest so far) whose next number is `current`.
    /// A prefix already in use by a live range of the same document is refused.
    pub fn create_range(&self, mut range: RangeMeta, current: u64) -> Result<(RangeMeta, u64), RangeError> {
        let mut docs = lock(&self.docs);
        let taken = docs
            .ranges
            .values()
            .any(|r| r.deleted_at.is_none() && r.document_code == range.document_code && r.prefix == range.prefix);
        if taken {
            return Err(RangeError::Field("prefix", "El campo prefijo ya ha sido registrado.".into()));
        }
        range.id = docs.ranges.keys().max().copied().unwrap_or(0) + 1;
        range.first = current;
        docs.currents.insert(range.id, current);
        docs.ranges.insert(range.id, range.clone());
        drop(docs);
        self.touch();
        Ok((range, current))
    }

    /// Moves a live range's next number. It stays within the range and above every number already
    /// issued from it (numbers are never reused).
    pub fn set_range_current(&self, id: u64, current: u64, now: &str) -> Result<(RangeMeta, u64), RangeError> {
        let mut docs = lock(&self.docs);
        let (range, _) = docs.live(id).ok_or(RangeError::NotFound)?;
        if current < range.from || current > range.to {
            return Err(RangeError::Field(
                "current",
                format!("El campo consecutivo actual debe estar entre {} y {}.", range.from, range.to),
            ));
        }
        if let Some(highest) = docs.highest.get(&id).copied().filter(|h| current <= *h) {
            return Err(RangeError::Field(
                "current",
                format!("El campo consecutivo actual debe ser mayor que {highest}, el último número emitido."),
            ));
        }
        docs.currents.insert(id, current);
        let updated = docs.ranges.get_mut(&id).map(|r| {
            r.updated_at = now.to_owned();
            r.clone()
        });
        drop(docs);
        self.touch();
        updated.map(|r| (r, current)).ok_or(RangeError::NotFound)
    }

    /// Switches a live range between active and inactive (v2's `toggle-status`); an inactive range
    /// stays listed but numbers nothing.
    pub fn toggle_range(&self, id: u64, now: &str) -> Result<(RangeMeta, u64), RangeError> {
        let mut docs = lock(&self.docs);
        let range = docs.ranges.get_mut(&id).filter(|r| r.deleted_at.is_none()).ok_or(RangeError::NotFound)?;
        range.is_active = !range.is_active;
        range.updated_at = now.to_owned();
        let toggled = docs.live(id).ok_or(RangeError::NotFound);
        drop(docs);
        self.touch();
        toggled
    }

    /// Deletes a live range: it is no longer listed, shown or usable; its documents keep it.
    pub fn delete_range(&self, id: u64, now: &str) -> Result<RangeMeta, RangeError> {
        let mut docs = lock(&self.docs);
        let range = docs.ranges.get_mut(&id).filter(|r| r.deleted_at.is_none()).ok_or(RangeError::NotFound)?;
        range.deleted_at = Some(now.to_owned());
        range.is_active = false;
        let deleted = range.clone();
        drop(docs);
        self.touch();
        Ok(deleted)
    }

    /// The company profile.
    pub fn company(&self) -> CompanyProfile {
        self.company.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Changes the company profile and returns the new one.
    pub fn update_company(&self, change: impl FnOnce(&mut CompanyProfile)) -> CompanyProfile {
        let mut company = self.company.write().unwrap_or_else(PoisonError::into_inner);
        change(&mut company);
        let updated = company.clone();
        drop(company);
        self.touch();
        updated
    }

    /// Forgets every document, puts the given ranges back and restarts them, and restores the
    /// company profile.
    pub fn reset_documents(&self, ranges: Vec<RangeMeta>) {
        *lock(&self.docs) = Documents::with_ranges(ranges);
        *self.company.write().unwrap_or_else(PoisonError::into_inner) = CompanyProfile::default();
        self.touch();
    }

    /// Replaces the documents (loading the state file); `ranges` replace the defaults when saved.
    pub fn restore(&self, documents: Vec<Document>, currents: BTreeMap<u64, u64>, ranges: Option<Vec<RangeMeta>>) {
        let mut docs = lock(&self.docs);
        if let Some(ranges) = ranges {
            docs.ranges = ranges.into_iter().map(|r| (r.id, r)).collect();
        }
        for (range, next) in currents {
            docs.currents.insert(range, next);
        }
        for doc in documents {
            docs.add(Arc::new(doc));
        }
    }

    /// Counts a request under its route key (`POST /v1/bills/validate`).
    pub fn count_request(&self, route: String) {
        *lock(&self.requests).entry(route).or_insert(0) += 1;
    }

    /// Registers a token pair issued to `user`.
    pub fn issue_tokens(&self, access: String, refresh: String, expires_at_ms: i128, user: &str) {
        let mut tokens = self.access_tokens.write().unwrap_or_else(PoisonError::into_inner);
        if tokens.len() > 10_000 {
            let now = now_ms();
            tokens.retain(|_, t| t.expires_at_ms > now);
        }
        tokens.insert(access.clone(), AccessToken { expires_at_ms, user: user.to_owned() });
        drop(tokens);
        lock(&self.refresh_tokens).insert(refresh, RefreshToken { access_token: access, user: user.to_owned() });
        self.touch();
    }

    /// The account (OAuth user) of an access token that exists and has not expired.
    pub fn token_account(&self, access: &str) -> Option<String> {
        let tokens = self.access_tokens.read().unwrap_or_else(PoisonError::into_inner);
        tokens.get(access).filter(|t| t.expires_at_ms > now_ms()).map(|t| t.user.clone())
    }

    /// Consumes a refresh token, revoking the access token it was issued with (as Passport does).
    pub fn take_refresh(&self, refresh: &str) -> Option<RefreshToken> {
        let taken = lock(&self.refresh_tokens).remove(refresh)?;
        self.access_tokens.write().unwrap_or_else(PoisonError::into_inner).remove(&taken.access_token);
        self.touch();
        Some(taken)
    }

    /// Counts a request against an account's fixed window of length `length` (Laravel's throttle:
    /// the window starts with the first request and the count restarts when it ends).
    pub fn rate_check(&self, account: &str, limit: u32, length: Duration) -> RateCheck {
        let now = Instant::now();
        let mut windows = lock(&self.windows);
        if windows.len() > 10_000 {
            windows.retain(|_, w| now.duration_since(w.started) < length);
        }
        let window = windows.entry(account.to_owned()).or_insert(Window { started: now, count: 0 });
        if now.duration_since(window.started) >= length {
            *window = Window { started: now, count: 0 };
        }
        let reset_in = length.saturating_sub(now.duration_since(window.started));
        if window.count >= limit {
            return RateCheck::Limited { reset_in };
        }
        window.count += 1;
        RateCheck::Allowed { remaining: limit - window.count, reset_in }
    }
}

/// Unix time in milliseconds.
pub(crate) fn now_ms() -> i128 {
    OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000
}
