//! The queue's half of issuance: a create that joined the line waits for its turn, and the worker
//! takes the oldest queued entry and sends it through the same send as a client's request.

use std::time::Duration;

use factus_domain::user::User;
use tokio::time::{Instant, sleep};
use uuid::Uuid;

use super::{Attempt, InvoiceIssuance, IssueError, IssueOutcome, IssueRequest, Issued, QueuedSend, Sender};
use crate::StoreError;
use crate::clock;
use crate::factus::{FactusAccess, FactusError};
use crate::ledger::{EntryStatus, LedgerEntry, QueueStats, QueuedRequestReader, Rejection};

/// How often a create waiting in the line looks at its entry.
const TURN_POLL: Duration = Duration::from_millis(200);

impl InvoiceIssuance {
    /// How many entries wait in the queue, and since when.
    ///
    /// # Errors
    /// [`StoreError`] when the ledger cannot be read.
    pub async fn queue_stats(&self) -> Result<QueueStats, StoreError> {
        self.ledger.queue_stats().await
    }

    /// Puts the request's claimed entry behind the ones already queued, then waits up to
    /// [`super::IssuancePolicy::queue_wait`] for the worker to settle it: the bill or the
    /// refusal if it came in time, else the queued entry (202).
    pub(super) async fn join_queue(&self, request: &IssueRequest, entry: LedgerEntry) -> Result<Issued, IssueError> {
        let attempt = self.client_attempt(request);
        let Some(queued_request) = attempt.queued_request else { return self.send(&attempt, entry).await };
        if !self.ledger.mark_queued(&entry, queued_request, clock::now()).await? {
            return Err(super::in_progress(request));
        }
        tracing::info!(reference = %entry.reference_code, entry = %entry.id, "joined the queue behind earlier creates");
        let deadline = Instant::now() + self.policy.queue_wait;
        let mut latest = entry;
        loop {
            if let Some(found) = self.ledger.find(latest.id).await? {
                latest = found;
            }
            match &latest.status {
                EntryStatus::Issued { bill, .. } => {
                    return Ok(Issued::Bill(IssueOutcome { bill: bill.clone(), replayed: false, entry_id: latest.id }));
                }
                EntryStatus::Rejected(Rejection::Factus { status, message }) => {
                    return Err(IssueError::Factus(FactusError::Rejected {
                        status: *status,
                        message: message.clone(),
                    }));
                }
                EntryStatus::Rejected(Rejection::Dian { message, .. }) => {
                    let rules = message.split("; ").map(str::to_owned).collect();
                    return Err(IssueError::Factus(FactusError::DianRejected { rules }));
                }
                _ => {}
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(Issued::Queued(Box::new(latest)));
            }
            sleep(TURN_POLL.min(deadline - now)).await;
        }
    }

    /// The viewer's entry `id` (an admin's: anybody's); `None` when there is none or it is
    /// somebody else's, so that a user cannot tell which ids exist.
    ///
    /// # Errors
    /// [`StoreError`] when the ledger cannot be read.
    pub async fn entry(&self, viewer: &User, id: Uuid) -> Result<Option<LedgerEntry>, StoreError> {
        let entry = self.ledger.find(id).await?;
        Ok(entry.filter(|entry| viewer.is_admin() || entry.user_id == viewer.id))
    }

    /// The oldest queued entry, now `pending` and held by the caller (the worker), which must
    /// pass it to [`Self::send_queued`].
    ///
    /// # Errors
    /// [`StoreError`] when the ledger cannot be written.
    pub async fn take_queued(&self) -> Result<Option<LedgerEntry>, StoreError> {
        self.ledger.take_queued(clock::now()).await
    }

    /// Sends an entry [`Self::take_queued`] handed out, with the server's session, through the
    /// same send as a client's request. What cannot be sent now goes back in line; an ambiguous
    /// outcome is left `unknown` for the reconciler, which queues it again if Factus has no bill.
    pub async fn send_queued(&self, entry: LedgerEntry, reader: &dyn QueuedRequestReader) -> QueuedSend {
        let Some(queued_request) = entry.queued_request.clone() else {
            tracing::error!(entry = %entry.id, "a queued entry without its request cannot be sent");
            return QueuedSend::Unknown;
        };
        let document = match reader.read(entry.kind, &queued_request) {
            Ok(document) => document,
            Err(reason) => {
                tracing::error!(entry = %entry.id, reference = %entry.reference_code, %reason, "a queued request no longer reads as a document; rejecting it");
                let rejection = Rejection::Factus {
                    status: 422,
                    message: format!("La solicitud en cola no se pudo leer: {reason}"),
                };
                super::record(self.ledger.mark_rejected(&entry, &rejection, clock::now()).await, &entry, "rejected");
                return QueuedSend::Rejected;
            }
        };
        let attempt = Attempt {
            access: &FactusAccess::ServerSession,
            document: &document,
            queued_request: Some(&queued_request),
            by: Sender::Worker,
        };
        match self.send(&attempt, entry).await {
            Ok(Issued::Bill(_)) => QueuedSend::Issued,
            Ok(Issued::Queued(_)) => QueuedSend::Requeued,
            Err(
                IssueError::Factus(FactusError::Rejected { .. } | FactusError::DianRejected { .. })
                | IssueError::BlockedByPending { .. },
            ) => QueuedSend::Rejected,
            // Recorded `unknown` by the send (or not recorded at all, which the reconciler repairs).
            Err(_) => QueuedSend::Unknown,
        }
    }
}
