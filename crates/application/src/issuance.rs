//! Issuing documents exactly once — invoices, credit notes, debit notes and support documents
//! alike: the ledger in front of Factus' `…/validate`.
//!
//! The kind is data ([`Document::kind`]): every kind goes through the same steps, ledger, port
//! calls and errors. What differs per kind is checked before the ledger is touched
//! ([`InvoiceIssuance::issue`] runs the notes' local rules first: the referenced invoice, the
//! credited amounts, debit notes only on Factus v2).
//!
//! [`InvoiceIssuance::issue`] records every create in the ledger ([`LedgerStore`]) before Factus
//! is called, sends the invoice at most once per attempt (never retried automatically), and
//! records the outcome. A retry — same `Idempotency-Key`, or without one the same
//! `reference_code` — is answered from the ledger; an entry whose outcome is unknown is first
//! looked up at Factus (`find_bill_by_reference`) and resent only when Factus has no bill.
//! [`InvoiceIssuance::reconcile_stale`] does the same in the background for entries nobody came
//! back for, so that the reference is not blocked forever and an accepted bill is not lost.
//!
//! When the Factus budget has no slot for a create within [`IssuancePolicy::queue_wait`], the
//! entry is not given up but `queued` with the request ([`QueuedRequest`]), and the client is
//! told 202 Accepted; a create that arrives while others are queued joins the line behind them.
//! [`InvoiceIssuance::take_queued`] and [`InvoiceIssuance::send_queued`] are the worker's half:
//! oldest entry first, through the same send as a client's, and back in line when the budget is
//! still spent. Only creates on the server's own Factus session are queued: a client's token is
//! never kept, and the document must be issued on the account the client chose.
//!
//! Why marking an entry "not issued at Factus" after a lookup found nothing is safe: it happens
//! only for entries not updated for [`IssuancePolicy::stale_after`] (60 s by default), except for
//! the request's own retry, which resends the same body under the same entry. The gateway's
//! request timeout (30 s) is well below that, so by then the request that claimed the entry has
//! ended, one way or the other, and a bill Factus accepted is visible to the lookup. If Factus
//! did accept a late one anyway, the resend is refused with 409 and the 409 path looks the
//! reference up again and records that bill.

use std::sync::Arc;
use std::time::Duration;

use factus_domain::invoice::{Money, Note, NoteKind, Path, ReferenceCode, Violation};
use factus_domain::user::User;
use rust_decimal::Decimal;
use thiserror::Error;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::StoreError;
use crate::clock;
use crate::document::Document;
use crate::factus::{FactusAccess, FactusApiVersion, FactusBillGateway, FactusError, FactusStatus, IssuedBill};
use crate::ledger::{
    ClaimError, DocumentKind, EntryStatus, IdempotencyKey, LedgerCounts, LedgerCursor, LedgerEntry, LedgerFilter,
    LedgerPage, LedgerState, LedgerStore, NewLedgerEntry, PageSize, QueuedRequest, Rejection, RequestFingerprint,
};

/// How many lookups, claims and reopens one request may go through before it gives up as
/// [`IssueError::InProgress`]: enough for every legitimate path (the longest is lookup, examine,
/// release, lookup, claim, send), few enough that a pathological race ends quickly.
const MAX_STEPS: usize = 8;

/// How many stuck rejected documents one create deletes at most before it sends again.
const MAX_STUCK: u32 = 10;

/// The timings of the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IssuancePolicy {
    /// A `pending` entry untouched for this long is presumed abandoned (its instance died) and an
    /// `unknown` one is reconciled in the background. Must stay well above the gateway's request
    /// timeout (see the module docs). `LEDGER_STALE_AFTER_SECS`, default 60 s.
    pub stale_after: Duration,
    /// How long an `Idempotency-Key` is kept after its entry was created: at least 24 h (IETF
    /// draft). Keys of entries still pending or unknown are kept until they settle.
    pub key_retention: Duration,
    /// How many stale entries one reconciliation pass handles at most.
    pub reconcile_batch: u32,
    /// Whether a document DIAN rejected is deleted at Factus right away (and a stuck one of ours
    /// when Factus answers 409 "pendiente por enviar a la DIAN"), so that it never blocks the
    /// next document of its kind. `FACTUS_DELETE_REJECTED`, default true.
    pub delete_rejected: bool,
    /// How long a create that joined the queue waits for the worker to issue it before the
    /// client is answered 202 Accepted (`FACTUS_QUEUE_WAIT_SECS`, default 10 s; the same wait the
    /// gateway gives a create for a budget slot). Zero turns queueing off: a create the budget
    /// has no slot for is answered 503 with `Retry-After`, as without a queue.
    pub queue_wait: Duration,
}

impl Default for IssuancePolicy {
    fn default() -> Self {
        Self {
            stale_after: Duration::from_secs(60),
            key_retention: Duration::from_secs(24 * 60 * 60),
            reconcile_batch: 100,
            delete_rejected: true,
            queue_wait: Duration::from_secs(10),
        }
    }
}

/// One create, as the edge parsed it.
#[derive(Debug, Clone)]
pub struct IssueRequest {
    pub user: User,
    /// The API key the request was authenticated with (recorded in the ledger), if any.
    pub api_key_id: Option<Uuid>,
    pub access: FactusAccess,
    /// What to create; its kind decides the Factus family.
    pub document: Document,
    pub idempotency_key: Option<IdempotencyKey>,
    /// Of the canonical request body; equal fingerprints mean "the same body".
    pub fingerprint: RequestFingerprint,
    /// What the queue keeps to send the document later, when the budget has no slot for it now.
    /// `None`: the create is never queued. Used only with [`FactusAccess::ServerSession`].
    pub queued_request: Option<QueuedRequest>,
}

/// What a create answers: the bill, or the entry that waits in the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Issued {
    Bill(IssueOutcome),
    /// The Factus budget had no slot in time: the entry is queued (or is being sent by the queue
    /// worker) and will be issued in arrival order. 202 Accepted, with where to follow it.
    Queued(Box<LedgerEntry>),
}

impl Issued {
    /// The bill, when the create was not queued.
    #[must_use]
    pub fn into_bill(self) -> Option<IssueOutcome> {
        match self {
            Self::Bill(outcome) => Some(outcome),
            Self::Queued(_) => None,
        }
    }
}

/// A successful create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueOutcome {
    /// The bill, as Factus answered it (or, after a reconciliation, as Factus shows it: then
    /// `message` is `None`).
    pub bill: IssuedBill,
    /// `true` when this request did not send the invoice that produced the bill: the answer is an
    /// earlier request's, from the ledger or found at Factus. The edge adds
    /// `Idempotent-Replayed: true`.
    pub replayed: bool,
    /// The ledger entry holding the bill.
    pub entry_id: Uuid,
}

/// Why a create did not produce a bill.
#[derive(Debug, Error)]
pub enum IssueError {
    /// An earlier request with this key (`keyed`: the request had one) or, without a key, this
    /// reference is still being processed. 409.
    #[error("a request with this {} is still being processed", if *.keyed { "Idempotency-Key" } else { "reference_code" })]
    InProgress { keyed: bool },
    /// The key was used before with another body. 422.
    #[error("the Idempotency-Key was used with another request body")]
    KeyReusedWithDifferentBody,
    /// The reference was issued before with another body, or by another user. 400
    /// `Error al crear la factura: reference_code <rc> ya fue usado`.
    #[error("reference_code {reference} ya fue usado")]
    ReferenceAlreadyUsed { reference: ReferenceCode },
    /// A retry with the key of a request Factus refused: the same refusal again (Factus' status
    /// and message, without the prefix). The edge answers as for `Factus(Rejected)`, plus
    /// `Idempotent-Replayed: true`.
    #[error("{message}")]
    ReplayedRejection { status: u16, message: String },
    /// Factus refused the invoice because another document of its kind is stuck pending there
    /// (`message` is Factus' 409 text) and the gateway did not, or could not, delete it:
    /// `reference` is that document's reference code when the ledger or Factus' listing names
    /// it, so that an operator can act. 409.
    #[error("{message}")]
    BlockedByPending { message: String, reference: Option<String> },
    /// The document breaks a rule only the ledger or the account can tell (a note's referenced
    /// invoice unknown or not validated, more credited than the invoice is worth, an annulment
    /// that is not the whole remaining amount, a debit note on a Factus v1 account), checked
    /// before Factus is called. 400 with every rule, in the list shape of the invoice's rules.
    #[error("{}", .0.iter().map(Violation::message).collect::<Vec<_>>().join("; "))]
    Rules(Vec<Violation>),
    /// Factus refused the invoice or could not be asked; as the gateway's errors map (400 for
    /// `Rejected` and `InvalidResponse`, 503, 504). After a `Timeout` or a `request_sent`
    /// `Unavailable` the entry is `unknown` and the next attempt reconciles it first.
    #[error(transparent)]
    Factus(FactusError),
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

/// A failed create with the kind of document it was for, which names it in the client's
/// message (`Error al crear la nota crédito: …`). The edge maps this one type.
#[derive(Debug, Error)]
#[error("{error}")]
pub struct IssueFailure {
    pub kind: DocumentKind,
    pub error: IssueError,
}

impl IssueFailure {
    /// `map_err` form: `issuance.issue(request).await.map_err(IssueFailure::of(kind))`.
    pub fn of(kind: DocumentKind) -> impl FnOnce(IssueError) -> Self {
        move |error| Self { kind, error }
    }
}

/// What a debit note on a Factus v1 account is told: Factus has debit notes on v2 only.
pub const DEBIT_NOTES_NEED_V2: &str =
    "Las notas débito requieren una cuenta de Factus v2: Factus no ofrece notas débito en la API v1";

impl From<StoreError> for IssueError {
    fn from(error: StoreError) -> Self {
        Self::Unexpected(error.0)
    }
}

impl From<FactusError> for IssueError {
    fn from(error: FactusError) -> Self {
        match error {
            FactusError::Unexpected(error) => Self::Unexpected(error),
            other => Self::Factus(other),
        }
    }
}

/// What one background pass did, for logs and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReconcileReport {
    /// Stale entries Factus holds a bill for, now `issued`.
    pub issued: u32,
    /// Stale entries Factus has no bill for, now `rejected` ("not issued at Factus").
    pub not_issued: u32,
    /// Stale entries of queued creates Factus has no bill for, back in the queue.
    pub requeued: u32,
    /// Entries that changed while being reconciled (a client retry got there first).
    pub superseded: u32,
    /// Entries whose lookup or update failed; they are tried again next pass.
    pub failed: u32,
    /// Stale entries left alone because the server has no Factus session to look them up with;
    /// the next client request for them reconciles them with the client's token.
    pub skipped: u32,
}

/// What reconciling one entry did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reconciled {
    Issued,
    NotIssued,
    Requeued,
    Superseded,
    Failed,
}

/// Where [`InvoiceIssuance::issue`] goes next.
#[derive(Debug)]
enum Step {
    /// Find the entry of the key, else the active entry of the reference.
    Lookup,
    /// Decide on an existing entry, found by the request's key or by its reference.
    Examine { entry: LedgerEntry, found_by: FoundBy },
    /// No entry stands in the way: claim one.
    Claim,
    /// This request holds `entry` (pending): send the invoice.
    Send(LedgerEntry),
    /// Answered from the ledger or from Factus' lookup.
    Done(Issued),
    /// This request holds `entry` (pending) but others wait in the queue: it goes behind them.
    JoinQueue(LedgerEntry),
}

/// Who sends a document under an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sender {
    /// The client's request, which is waiting for the answer.
    Client,
    /// The queue worker: nobody waits, so a document that cannot be sent now goes back in line.
    Worker,
}

/// One send of a document under a ledger entry.
struct Attempt<'a> {
    access: &'a FactusAccess,
    document: &'a Document,
    /// Kept with the entry when it is queued; `None` when it may not be.
    queued_request: Option<&'a QueuedRequest>,
    by: Sender,
}

/// What [`InvoiceIssuance::send_queued`] did with a queued entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueuedSend {
    Issued,
    /// Factus or DIAN refused it (recorded; the webhook tells the client).
    Rejected,
    /// Not sent (the budget is still spent, or Factus could not be reached): back in line.
    Requeued,
    /// Sent, but whether Factus issued it is unknown; the reconciler looks it up.
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FoundBy {
    Key,
    Reference,
}

/// The exactly-once create and the ledger's other use cases (listing, reconciliation, counts).
pub struct InvoiceIssuance {
    ledger: Arc<dyn LedgerStore>,
    bills: Arc<dyn FactusBillGateway>,
    factus: Arc<dyn FactusStatus>,
    policy: IssuancePolicy,
}

impl InvoiceIssuance {
    pub fn new(
        ledger: Arc<dyn LedgerStore>,
        bills: Arc<dyn FactusBillGateway>,
        factus: Arc<dyn FactusStatus>,
        policy: IssuancePolicy,
    ) -> Self {
        Self { ledger, bills, factus, policy }
    }

    #[must_use]
    pub fn policy(&self) -> IssuancePolicy {
        self.policy
    }

    /// Creates the invoice at Factus exactly once for its key (per user) and its reference.
    ///
    /// - With a key already used by the user: another body → `KeyReusedWithDifferentBody`;
    ///   issued → the stored bill (`replayed`); refused by Factus → `ReplayedRejection`; still
    ///   pending → `InProgress`; unknown (or pending for longer than the policy's `stale_after`)
    ///   → looked up at Factus, and resent only when Factus has no bill.
    /// - Otherwise the active entry of the reference plays that role: issued with the same body
    ///   by the same user → the stored bill; issued otherwise → `ReferenceAlreadyUsed`; pending →
    ///   `InProgress`; unknown → looked up first.
    /// - Else a `pending` entry is claimed (the database decides races between requests and
    ///   instances) and the invoice is sent once.
    ///
    /// # Errors
    /// See [`IssueError`]; a failure to record an outcome after Factus answered is logged, not
    /// returned: the client gets what Factus said, and the reconciler repairs the entry.
    pub async fn issue(&self, request: IssueRequest) -> Result<Issued, IssueError> {
        self.check_local_rules(&request).await?;
        let mut step = Step::Lookup;
        for _ in 0..MAX_STEPS {
            step = match step {
                Step::Lookup => self.look_up(&request).await?,
                Step::Examine { entry, found_by: FoundBy::Key } => self.examine_keyed(&request, entry).await?,
                Step::Examine { entry, found_by: FoundBy::Reference } => {
                    self.examine_reference(&request, entry).await?
                }
                Step::Claim => self.claim(&request).await?,
                Step::Send(entry) => return self.send(&self.client_attempt(&request), entry).await,
                Step::JoinQueue(entry) => return self.join_queue(&request, entry).await,
                Step::Done(outcome) => return Ok(outcome),
            };
        }
        tracing::warn!(
            reference = %request.document.reference_code(),
            "ledger entry kept changing under this request; answering in progress"
        );
        Err(in_progress(&request))
    }

    /// The rules of notes that need the ledger or the account, before anything is recorded.
    async fn check_local_rules(&self, request: &IssueRequest) -> Result<(), IssueError> {
        let Document::Note(note) = &request.document else { return Ok(()) };
        if note.kind() == NoteKind::Debit && self.factus.api_version() == FactusApiVersion::V1 {
            return Err(IssueError::Rules(vec![Violation::rule(Path::root(), DEBIT_NOTES_NEED_V2)]));
        }
        self.check_credit_room(request, note, None).await
    }

    /// A note's referenced invoice must be in the ledger, the requester's (or the requester an
    /// admin), issued and validated by DIAN; a credit note may credit at most what is left of
    /// the invoice's total after the earlier credit notes (of other references: a retry of this
    /// one is not counted twice), and an annulment exactly that. `before`: count only the notes
    /// claimed before that position (the check after this request's own claim).
    async fn check_credit_room(
        &self,
        request: &IssueRequest,
        note: &Note,
        before: Option<LedgerCursor>,
    ) -> Result<(), IssueError> {
        let Some(number) = note.bill_number() else { return Ok(()) };
        let rule = |message: String| IssueError::Rules(vec![Violation::rule(Path::root().key("bill_number"), message)]);
        let filter = LedgerFilter {
            kind: Some(DocumentKind::Invoice),
            number: Some(number.to_owned()),
            limit: PageSize::new(1).unwrap_or_default(),
            ..LedgerFilter::default()
        };
        let invoice = self.ledger.list(&filter).await?.entries.pop();
        let invoice = invoice.filter(|entry| request.user.is_admin() || entry.user_id == request.user.id);
        let Some(invoice) = invoice else {
            return Err(rule(format!("La factura {number} no está registrada en este servicio")));
        };
        match &invoice.status {
            EntryStatus::Issued { bill, .. } if bill.status == "1" => {}
            EntryStatus::Issued { .. } => {
                return Err(rule(format!("La factura {number} aún no ha sido validada por la DIAN")));
            }
            _ => return Err(rule(format!("La factura {number} no está emitida"))),
        }
        if note.kind() != NoteKind::Credit {
            return Ok(());
        }
        let Some(invoice_total) = invoice.total else {
            return Err(rule(format!(
                "La factura {number} se registró sin su total; no se puede comprobar el saldo de sus notas crédito"
            )));
        };
        let credited = self.credited(number, request.document.reference_code(), before).await?;
        let remaining = invoice_total.amount() - credited;
        let total = note.total().amount();
        let root = Path::root();
        if note.is_annulment() && total != remaining {
            return Err(IssueError::Rules(vec![Violation::rule(
                root,
                format!(
                    "Una anulación (correction_concept_code 2) debe acreditar exactamente el saldo de la factura {number}: {}; la nota suma {}",
                    remaining,
                    note.total()
                ),
            )]));
        }
        if total > remaining {
            return Err(IssueError::Rules(vec![Violation::rule(
                root,
                format!(
                    "Las notas crédito de la factura {number} no pueden superar su total: quedan {} por acreditar y la nota suma {}",
                    remaining,
                    note.total()
                ),
            )]));
        }
        Ok(())
    }

    /// The sum of the credit notes on invoice `number` that are not rejected, except those of
    /// `own` (this request's reference: a retry is not counted against itself), claimed before
    /// `before` when given.
    async fn credited(
        &self,
        number: &str,
        own: &ReferenceCode,
        before: Option<LedgerCursor>,
    ) -> Result<Decimal, IssueError> {
        let mut filter = LedgerFilter {
            kind: Some(DocumentKind::CreditNote),
            referenced_number: Some(number.to_owned()),
            after: before,
            limit: PageSize::new(PageSize::MAX).unwrap_or_default(),
            ..LedgerFilter::default()
        };
        let mut credited = Decimal::ZERO;
        loop {
            let page = self.ledger.list(&filter).await?;
            for entry in &page.entries {
                if entry.state() != LedgerState::Rejected && &entry.reference_code != own {
                    credited += entry.total.map_or(Decimal::ZERO, Money::amount);
                }
            }
            match page.next_cursor {
                Some(cursor) => filter.after = Some(cursor),
                None => return Ok(credited),
            }
        }
    }

    async fn look_up(&self, request: &IssueRequest) -> Result<Step, IssueError> {
        if let Some(key) = &request.idempotency_key
            && let Some(entry) = self.ledger.find_by_key(request.user.id, key).await?
        {
            return Ok(Step::Examine { entry, found_by: FoundBy::Key });
        }
        Ok(match self.ledger.find_active_by_reference(request.document.reference_code()).await? {
            Some(entry) => Step::Examine { entry, found_by: FoundBy::Reference },
            None => Step::Claim,
        })
    }

    /// The user's entry under the request's key.
    async fn examine_keyed(&self, request: &IssueRequest, entry: LedgerEntry) -> Result<Step, IssueError> {
        if entry.fingerprint != request.fingerprint {
            return Err(IssueError::KeyReusedWithDifferentBody);
        }
        match &entry.status {
            EntryStatus::Issued { bill, .. } => Ok(Step::Done(replay(&entry, bill.clone()))),
            EntryStatus::Queued => Ok(Step::Done(Issued::Queued(Box::new(entry)))),
            EntryStatus::Pending if entry.queued_request.is_some() && !self.is_stale(&entry) => {
                Ok(Step::Done(Issued::Queued(Box::new(entry))))
            }
            EntryStatus::Rejected(Rejection::Factus { status, message }) => {
                Err(IssueError::ReplayedRejection { status: *status, message: message.clone() })
            }
            EntryStatus::Rejected(Rejection::Dian { message, .. }) => {
                Err(IssueError::ReplayedRejection { status: Rejection::DIAN_STATUS, message: message.clone() })
            }
            EntryStatus::Rejected(Rejection::NotIssued | Rejection::Deleted { .. }) => self.reopen(entry).await,
            EntryStatus::Pending if !self.is_stale(&entry) => Err(in_progress(request)),
            EntryStatus::Pending | EntryStatus::Unknown => self.resolve(request, entry, true).await,
        }
    }

    /// The active entry of the request's reference, found without (or past) the key.
    async fn examine_reference(&self, request: &IssueRequest, entry: LedgerEntry) -> Result<Step, IssueError> {
        let ours = entry.user_id == request.user.id && entry.fingerprint == request.fingerprint;
        match &entry.status {
            EntryStatus::Issued { bill, .. } if ours => Ok(Step::Done(replay(&entry, bill.clone()))),
            EntryStatus::Issued { .. } => Err(already_used(&entry)),
            EntryStatus::Queued if ours => Ok(Step::Done(Issued::Queued(Box::new(entry)))),
            EntryStatus::Pending if ours && entry.queued_request.is_some() && !self.is_stale(&entry) => {
                Ok(Step::Done(Issued::Queued(Box::new(entry))))
            }
            EntryStatus::Queued => Err(in_progress(request)),
            EntryStatus::Pending if !self.is_stale(&entry) => Err(in_progress(request)),
            EntryStatus::Pending | EntryStatus::Unknown => self.resolve(request, entry, ours).await,
            // Settled and out of the reference's way since it was read.
            EntryStatus::Rejected(_) => Ok(Step::Lookup),
        }
    }

    /// An unknown (or stale pending) entry: asks Factus whether the bill exists before anything
    /// is sent again. `ours` when the entry is this request's own earlier attempt (same user, same
    /// body), which may then be resent under the same entry.
    async fn resolve(&self, request: &IssueRequest, entry: LedgerEntry, ours: bool) -> Result<Step, IssueError> {
        let reference = request.document.reference_code();
        let found =
            self.bills.find_bill_by_reference(&request.access, request.document.kind(), reference.as_str()).await;
        match found {
            Err(error) => {
                tracing::warn!(%reference, entry = %entry.id, error = format!("{error:#}"), "could not look up an unsettled invoice at Factus");
                Err(error.into())
            }
            Ok(Some(bill)) => {
                tracing::info!(%reference, entry = %entry.id, number = %bill.number, "reconciled: Factus holds the bill");
                self.record_issued(&entry, &bill).await;
                if ours { Ok(Step::Done(replay(&entry, bill))) } else { Err(already_used(&entry)) }
            }
            Ok(None) if ours => self.reopen(entry).await,
            Ok(None) if self.is_stale(&entry) => {
                tracing::info!(%reference, entry = %entry.id, "reconciled: not issued at Factus; releasing the reference");
                self.ledger.mark_rejected(&entry, &Rejection::NotIssued, clock::now()).await?;
                Ok(Step::Lookup)
            }
            // Another request's recent attempt: leave it to its owner or to the reconciler.
            Ok(None) => Err(in_progress(request)),
        }
    }

    /// Takes an entry back to pending for a resend by this request.
    async fn reopen(&self, entry: LedgerEntry) -> Result<Step, IssueError> {
        match self.ledger.reopen(&entry, clock::now()).await {
            Ok(Some(reopened)) => Ok(Step::Send(reopened)),
            Ok(None) => Ok(Step::Lookup),
            Err(ClaimError::ReferenceActive(other)) => {
                Ok(Step::Examine { entry: *other, found_by: FoundBy::Reference })
            }
            Err(ClaimError::KeyExists(other)) => Ok(Step::Examine { entry: *other, found_by: FoundBy::Key }),
            Err(ClaimError::Unexpected(error)) => Err(error.into()),
        }
    }

    async fn claim(&self, request: &IssueRequest) -> Result<Step, IssueError> {
        let now = clock::now();
        let new = NewLedgerEntry {
            id: Uuid::now_v7(),
            kind: request.document.kind(),
            user_id: request.user.id,
            username: request.user.username.clone(),
            api_key_id: request.api_key_id,
            reference_code: request.document.reference_code().clone(),
            idempotency_key: request.idempotency_key.clone(),
            fingerprint: request.fingerprint.clone(),
            total: Some(request.document.total()),
            referenced_number: request.document.referenced_number().map(str::to_owned),
            counterparty: request.document.counterparty(),
            created_at: now,
        };
        match self.ledger.claim(&new).await {
            Ok(entry) => {
                // Two notes on one invoice claimed at the same time both passed the check
                // before the claim; counting only the notes claimed before this one lets exactly
                // the later one give way.
                if let Document::Note(note) = &request.document
                    && let Err(error) = self.check_credit_room(request, note, Some(entry.cursor())).await
                {
                    if let Err(store) = self.ledger.abandon(&entry).await {
                        tracing::error!(entry = %entry.id, error = format!("{store:#}"), "could not release the claim of a note over its invoice's total");
                    }
                    return Err(error);
                }
                if self.client_attempt(request).queued_request.is_some() && self.queue_stats().await?.depth > 0 {
                    return Ok(Step::JoinQueue(entry));
                }
                Ok(Step::Send(entry))
            }
            Err(ClaimError::KeyExists(entry)) => Ok(Step::Examine { entry: *entry, found_by: FoundBy::Key }),
            Err(ClaimError::ReferenceActive(entry)) => {
                Ok(Step::Examine { entry: *entry, found_by: FoundBy::Reference })
            }
            Err(ClaimError::Unexpected(error)) => Err(error.into()),
        }
    }

    /// The client's send: it may be queued when the request came with what the queue keeps, on
    /// the server's session, and queueing is on.
    fn client_attempt<'a>(&self, request: &'a IssueRequest) -> Attempt<'a> {
        let queueable = matches!(request.access, FactusAccess::ServerSession) && !self.policy.queue_wait.is_zero();
        Attempt {
            access: &request.access,
            document: &request.document,
            queued_request: request.queued_request.as_ref().filter(|_| queueable),
            by: Sender::Client,
        }
    }

    /// Sends the invoice once under `entry` (pending, held by this request) and records what
    /// happened.
    async fn send(&self, request: &Attempt<'_>, entry: LedgerEntry) -> Result<Issued, IssueError> {
        let reference = request.document.reference_code();
        tracing::info!(%reference, entry = %entry.id, attempt = entry.attempts, "sending the invoice to Factus");
        let mut answer = self.bills.validate_bill(request.access, request.document).await;
        // Factus refused it unprocessed because a document of ours DIAN rejected is stuck
        // pending: delete that one and send once more (under the same entry: nothing was
        // created by the refused send).
        if let Err(error) = &answer
            && error.is_pending_blocker()
            && self.policy.delete_rejected
            && self.delete_stuck(request.access, request.document.kind()).await
        {
            tracing::info!(%reference, entry = %entry.id, "deleted our stuck rejected document; sending the invoice again");
            answer = self.bills.validate_bill(request.access, request.document).await;
        }
        match answer {
            Ok(bill) => {
                tracing::info!(%reference, entry = %entry.id, number = %bill.number, status = %bill.status, "invoice issued");
                self.record_issued(&entry, &bill).await;
                Ok(Issued::Bill(IssueOutcome { bill, replayed: false, entry_id: entry.id }))
            }
            Err(FactusError::DianRejected { rules }) => self.after_dian_rejection(request, &entry, rules).await,
            Err(FactusError::Rejected { status: 409, message }) => self.after_conflict(request, entry, message).await,
            // Factus' rate limit: the invoice was not processed, so nothing is recorded as refused.
            Err(error @ FactusError::Rejected { status: 429, .. }) => self.not_sent(request, &entry, error).await,
            Err(FactusError::Rejected { status, message }) => {
                tracing::info!(%reference, entry = %entry.id, status, "Factus refused the invoice");
                let rejection = Rejection::Factus { status, message: message.clone() };
                record(self.ledger.mark_rejected(&entry, &rejection, clock::now()).await, &entry, "rejected");
                Err(IssueError::Factus(FactusError::Rejected { status, message }))
            }
            Err(
                error @ (FactusError::CircuitOpen
                | FactusError::Busy { .. }
                | FactusError::MissingCredentials
                | FactusError::Unavailable { request_sent: false, .. }),
            ) => self.not_sent(request, &entry, error).await,
            Err(error) => {
                // Timeout, connection lost after sending, 5xx, an odd 2xx body, a bug: Factus may
                // hold the bill. Never resent from here; the next attempt reconciles first.
                tracing::warn!(
                    %reference, entry = %entry.id, error = format!("{error:#}"),
                    "invoice outcome unknown: Factus may have issued it; it will be looked up before any resend"
                );
                record(self.ledger.mark_unknown(&entry, clock::now()).await, &entry, "unknown");
                Err(error.into())
            }
        }
    }

    /// This attempt certainly created nothing at Factus (it never left, or Factus turned it away
    /// unprocessed). On a first attempt the claim is released, so a retry claims the reference
    /// (and key) afresh. On a resend an earlier attempt's outcome is still unknown, so the entry
    /// goes back to `unknown` and is looked up again before anything else is sent.
    ///
    /// A document that may be queued is queued instead when the budget had no slot for it (the
    /// client's send), or whatever kept it from being sent (the worker's: nobody else would send
    /// it again).
    async fn not_sent(
        &self,
        request: &Attempt<'_>,
        entry: &LedgerEntry,
        error: FactusError,
    ) -> Result<Issued, IssueError> {
        let budget_spent = matches!(error, FactusError::Busy { .. } | FactusError::Rejected { status: 429, .. });
        if let Some(queued_request) = request.queued_request
            && (budget_spent || request.by == Sender::Worker)
        {
            return match self.ledger.mark_queued(entry, queued_request, clock::now()).await {
                Ok(true) => {
                    tracing::info!(reference = %entry.reference_code, entry = %entry.id, reason = %error, "queued until the Factus budget allows");
                    let queued = self.ledger.find(entry.id).await?.unwrap_or_else(|| entry.clone());
                    Ok(Issued::Queued(Box::new(queued)))
                }
                Ok(false) => Err(error.into()),
                Err(store) => Err(store.into()),
            };
        }
        if entry.attempts > 1 {
            record(self.ledger.mark_unknown(entry, clock::now()).await, entry, "unknown");
            return Err(error.into());
        }
        if let Err(store) = self.ledger.abandon(entry).await {
            tracing::error!(
                reference = %entry.reference_code, entry = %entry.id, error = format!("{store:#}"),
                "could not release a claim that never reached Factus; the reconciler will"
            );
        }
        Err(error.into())
    }

    /// Factus answered 409. On a resend (this entry had an earlier, ambiguous attempt) that
    /// attempt may have gone through after all: look the reference up and record that bill. On a
    /// first send the conflicting document is somebody else's (another system on the same Factus
    /// account, or a pending document blocking new ones): answering it as this request's bill
    /// would hand the client a document with other contents, so it is a rejection.
    async fn after_conflict(
        &self,
        request: &Attempt<'_>,
        entry: LedgerEntry,
        message: String,
    ) -> Result<Issued, IssueError> {
        let reference = request.document.reference_code();
        let conflict = |message: String| IssueError::Factus(FactusError::Rejected { status: 409, message });
        if entry.attempts <= 1 {
            let rejection = Rejection::Factus { status: 409, message: message.clone() };
            record(self.ledger.mark_rejected(&entry, &rejection, clock::now()).await, &entry, "rejected");
            if message.contains(FactusError::PENDING_BLOCKER_TEXT) {
                return Err(self.blocked_by_pending(request, message).await);
            }
            return Err(conflict(message));
        }
        match self.bills.find_bill_by_reference(request.access, request.document.kind(), reference.as_str()).await {
            Ok(Some(bill)) => {
                tracing::info!(%reference, entry = %entry.id, number = %bill.number, "Factus already held the bill; recorded it");
                self.record_issued(&entry, &bill).await;
                Ok(Issued::Bill(IssueOutcome { bill, replayed: true, entry_id: entry.id }))
            }
            Ok(None) => {
                let rejection = Rejection::Factus { status: 409, message: message.clone() };
                record(self.ledger.mark_rejected(&entry, &rejection, clock::now()).await, &entry, "rejected");
                if message.contains(FactusError::PENDING_BLOCKER_TEXT) {
                    return Err(self.blocked_by_pending(request, message).await);
                }
                Err(conflict(message))
            }
            Err(error) => {
                tracing::warn!(%reference, entry = %entry.id, error = format!("{error:#}"), "Factus answered 409 and the reference could not be looked up");
                record(self.ledger.mark_unknown(&entry, clock::now()).await, &entry, "unknown");
                Err(conflict(message))
            }
        }
    }

    /// DIAN rejected the invoice: Factus stored it pending, and it would refuse every next
    /// invoice until it is deleted. The rejection is recorded with its rules; with
    /// [`IssuancePolicy::delete_rejected`] the document is deleted at Factus first, so the next
    /// invoice goes through. The client gets the rule texts either way.
    async fn after_dian_rejection(
        &self,
        request: &Attempt<'_>,
        entry: &LedgerEntry,
        rules: Vec<String>,
    ) -> Result<Issued, IssueError> {
        let reference = request.document.reference_code();
        tracing::info!(%reference, entry = %entry.id, rules = %rules.join("; "), "DIAN rejected the invoice");
        let deleted = self.policy.delete_rejected
            && self.delete_at_factus(request.access, request.document.kind(), reference.as_str()).await;
        let rejection = Rejection::Dian { message: rules.join("; "), deleted };
        record(self.ledger.mark_rejected(entry, &rejection, clock::now()).await, entry, "rejected");
        Err(IssueError::Factus(FactusError::DianRejected { rules }))
    }

    /// Deletes the never-validated document of `reference` at Factus; true when it is gone (also
    /// when Factus no longer knows it).
    async fn delete_at_factus(&self, access: &FactusAccess, kind: DocumentKind, reference: &str) -> bool {
        match self.bills.delete_by_reference(access, kind, reference).await {
            Ok(_) | Err(FactusError::Rejected { status: 404, .. }) => {
                tracing::info!(%reference, "deleted the rejected document at Factus so it does not block the next one");
                true
            }
            Err(error) => {
                tracing::warn!(%reference, error = format!("{error:#}"), "could not delete the rejected document at Factus; it blocks new documents of its kind until deleted");
                false
            }
        }
    }

    /// Deletes at Factus the documents of `kind` the ledger knows DIAN rejected and that are still
    /// stored there, and records each deletion; true when at least one was deleted.
    async fn delete_stuck(&self, access: &FactusAccess, kind: DocumentKind) -> bool {
        let stuck = match self.ledger.stuck_rejections(kind, MAX_STUCK).await {
            Ok(stuck) => stuck,
            Err(error) => {
                tracing::warn!(error = format!("{error:#}"), "could not read the rejected documents stuck at Factus");
                return false;
            }
        };
        let mut any = false;
        for entry in &stuck {
            if self.delete_at_factus(access, kind, entry.reference_code.as_str()).await {
                record(self.ledger.mark_deleted_at_factus(entry).await, entry, "deleted at Factus");
                any = true;
            }
        }
        any
    }

    /// The 409 for a create Factus refused because a document of the kind is stuck pending:
    /// names the stuck document, ours (from the ledger) or not (from Factus' listing).
    async fn blocked_by_pending(&self, request: &Attempt<'_>, message: String) -> IssueError {
        let kind = request.document.kind();
        let ours = self.ledger.stuck_rejections(kind, 1).await.ok().and_then(|mut stuck| stuck.pop());
        let reference = match ours {
            Some(entry) => Some(entry.reference_code.as_str().to_owned()),
            None => match self.bills.pending_reference(request.access, kind).await {
                Ok(reference) => reference,
                Err(error) => {
                    tracing::warn!(error = format!("{error:#}"), %kind, "could not find the document that blocks new documents of its kind at Factus");
                    None
                }
            },
        };
        tracing::warn!(reference = ?reference, %kind, "Factus refuses new documents of this kind: one is stuck pending at DIAN");
        IssueError::BlockedByPending { message, reference }
    }

    async fn record_issued(&self, entry: &LedgerEntry, bill: &IssuedBill) {
        record(self.ledger.mark_issued(entry, bill, clock::now()).await, entry, "issued");
    }

    fn is_stale(&self, entry: &LedgerEntry) -> bool {
        entry.updated_at < clock::now() - self.policy.stale_after
    }

    /// One background pass: looks every `pending`/`unknown` entry not updated for
    /// [`IssuancePolicy::stale_after`] up at Factus with the server's own session, and records
    /// the bill (→ `issued`) or its absence (→ `rejected`, "not issued at Factus", which frees the
    /// reference). Without a server session nothing can be looked up: the entries are counted as
    /// skipped and wait for a client's retry. A pass stops early when the circuit to Factus is
    /// open.
    ///
    /// # Errors
    /// [`StoreError`] when the stale entries cannot be read; failures on single entries are
    /// logged and counted instead.
    pub async fn reconcile_stale(&self, now: OffsetDateTime) -> Result<ReconcileReport, StoreError> {
        let entries = self.ledger.stale_entries(now - self.policy.stale_after, self.policy.reconcile_batch).await?;
        let mut report = ReconcileReport::default();
        if entries.is_empty() {
            return Ok(report);
        }
        if !self.factus.has_server_session() {
            report.skipped = saturating_u32(entries.len());
            tracing::warn!(
                count = entries.len(),
                "stale ledger entries wait for a client retry: without FACTUS_USERNAME/FACTUS_PASSWORD they cannot be looked up"
            );
            return Ok(report);
        }
        for (done, entry) in entries.iter().enumerate() {
            match self.reconcile_entry(entry, now).await {
                Ok(Reconciled::Issued) => report.issued += 1,
                Ok(Reconciled::NotIssued) => report.not_issued += 1,
                Ok(Reconciled::Requeued) => report.requeued += 1,
                Ok(Reconciled::Superseded) => report.superseded += 1,
                Ok(Reconciled::Failed) => report.failed += 1,
                Err(FactusError::CircuitOpen) => {
                    report.failed += saturating_u32(entries.len() - done);
                    tracing::warn!("the circuit to Factus is open; reconciliation resumes next pass");
                    break;
                }
                Err(error) => {
                    report.failed += 1;
                    tracing::warn!(entry = %entry.id, reference = %entry.reference_code, error = format!("{error:#}"), "could not look up a stale invoice at Factus");
                }
            }
        }
        if report != ReconcileReport::default() {
            tracing::info!(?report, "ledger reconciliation pass");
        }
        Ok(report)
    }

    async fn reconcile_entry(&self, entry: &LedgerEntry, now: OffsetDateTime) -> Result<Reconciled, FactusError> {
        let found = self
            .bills
            .find_bill_by_reference(&FactusAccess::ServerSession, entry.kind, entry.reference_code.as_str())
            .await?;
        let (applied, outcome) = match &found {
            Some(bill) => (self.ledger.mark_issued(entry, bill, now).await, Reconciled::Issued),
            // A queued create's client was told 202 and will not send it again: back in line.
            None if let Some(request) = &entry.queued_request => {
                (self.ledger.mark_queued(entry, request, now).await, Reconciled::Requeued)
            }
            None => (self.ledger.mark_rejected(entry, &Rejection::NotIssued, now).await, Reconciled::NotIssued),
        };
        Ok(match applied {
            Ok(true) => {
                tracing::info!(entry = %entry.id, reference = %entry.reference_code, ?outcome, "reconciled a stale ledger entry");
                outcome
            }
            Ok(false) => Reconciled::Superseded,
            Err(error) => {
                tracing::error!(entry = %entry.id, reference = %entry.reference_code, error = format!("{error:#}"), "could not record a reconciliation");
                Reconciled::Failed
            }
        })
    }

    /// Records that the bill of `reference` was deleted at Factus (`DELETE
    /// /invoices/reference/{rc}`, allowed while DIAN has not validated it): its `issued` entry
    /// becomes `rejected` ([`Rejection::Deleted`]), which frees the reference, so a resend sends
    /// the invoice anew instead of replaying a bill that no longer exists. A reference without an
    /// issued entry (issued elsewhere, or already settled otherwise) is left alone. Failures are
    /// logged, not returned: the deletion at Factus has happened whatever the ledger says.
    pub async fn record_deleted(&self, reference: &str) {
        let Ok(reference) = ReferenceCode::parse(reference) else { return };
        let entry = match self.ledger.find_active_by_reference(&reference).await {
            Ok(Some(entry)) if matches!(entry.status, EntryStatus::Issued { .. }) => entry,
            Ok(_) => return,
            Err(error) => {
                tracing::error!(%reference, error = format!("{error:#}"), "bill deleted at Factus, but the ledger could not be read; its entry still says issued");
                return;
            }
        };
        match self.ledger.mark_deleted(&entry, clock::now()).await {
            Ok(true) => {
                tracing::info!(%reference, entry = %entry.id, "bill deleted at Factus; the reference is free again")
            }
            Ok(false) => {
                tracing::warn!(%reference, entry = %entry.id, "ledger entry changed meanwhile; deletion not recorded")
            }
            Err(error) => tracing::error!(
                %reference, entry = %entry.id, error = format!("{error:#}"),
                "bill deleted at Factus, but the ledger could not record it; its entry still says issued"
            ),
        }
    }

    /// Forgets the `Idempotency-Key`s of settled entries created more than
    /// [`IssuancePolicy::key_retention`] before `now`; returns how many.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be written.
    pub async fn purge_expired_keys(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        self.ledger.purge_keys(now - self.policy.key_retention).await
    }

    /// A page of the ledger, newest first. Admins see every user's entries (and may filter by
    /// user); anybody else sees only their own, whatever the filter says.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be read.
    pub async fn list(&self, viewer: &User, mut filter: LedgerFilter) -> Result<LedgerPage, StoreError> {
        if !viewer.is_admin() {
            filter.user_id = Some(viewer.id);
        }
        self.ledger.list(&filter).await
    }

    /// How many entries are in each state (metrics).
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be read.
    pub async fn counts(&self) -> Result<LedgerCounts, StoreError> {
        self.ledger.count_by_state().await
    }
}

/// Logs a transition that did not apply. The answer to the client stands either way: it is
/// what Factus said, and the reconciler settles the entry later.
fn record(applied: Result<bool, StoreError>, entry: &LedgerEntry, target: &'static str) {
    match applied {
        Ok(true) => {}
        Ok(false) => tracing::warn!(
            entry = %entry.id, reference = %entry.reference_code, target,
            "ledger entry changed meanwhile; transition not applied"
        ),
        Err(error) => tracing::error!(
            entry = %entry.id, reference = %entry.reference_code, target, error = format!("{error:#}"),
            "could not record the outcome in the ledger; the reconciler will settle it"
        ),
    }
}

fn in_progress(request: &IssueRequest) -> IssueError {
    IssueError::InProgress { keyed: request.idempotency_key.is_some() }
}

fn replay(entry: &LedgerEntry, bill: IssuedBill) -> Issued {
    Issued::Bill(IssueOutcome { bill, replayed: true, entry_id: entry.id })
}

fn already_used(entry: &LedgerEntry) -> IssueError {
    IssueError::ReferenceAlreadyUsed { reference: entry.reference_code.clone() }
}

fn saturating_u32(count: usize) -> u32 {
    u32::try_from(count).unwrap_or(u32::MAX)
}

mod operator;
mod queue;
pub use operator::{LedgerTally, LookUpOutcome, StuckDeletion, TALLY_LIMIT};

#[cfg(test)]
mod tests;
