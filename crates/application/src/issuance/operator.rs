//! What an operator does by hand to the ledger (the console): find one entry, tally the entries of
//! a period, look an `unknown` entry up at Factus now instead of waiting for the reconciler, and
//! delete at Factus a document DIAN rejected that is still stored there.
//!
//! Every method takes the viewer and reads through [`InvoiceIssuance::list`], so a user who is not
//! an admin only ever finds, counts or acts on their own entries.

use factus_domain::invoice::ReferenceCode;
use factus_domain::user::User;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{InvoiceIssuance, Reconciled};
use crate::StoreError;
use crate::clock;
use crate::factus::{FactusAccess, FactusError};
use crate::ledger::{
    DocumentKind, EntryStatus, LedgerCursor, LedgerEntry, LedgerFilter, LedgerState, PageSize, Rejection,
};

/// How many entries one tally reads at most; past it the tally says it is incomplete.
pub const TALLY_LIMIT: usize = 5_000;

/// How many entries of each kind are in each state since an instant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerTally {
    /// `(kind, state, count)`, only the non-zero ones, in [`DocumentKind::ALL`] then
    /// [`LedgerState::ALL`] order.
    pub counts: Vec<(DocumentKind, LedgerState, u64)>,
    /// More than [`TALLY_LIMIT`] entries matched: the counts cover the newest ones only.
    pub truncated: bool,
}

impl LedgerTally {
    #[must_use]
    pub fn get(&self, kind: DocumentKind, state: LedgerState) -> u64 {
        self.counts.iter().find(|(k, s, _)| *k == kind && *s == state).map_or(0, |(_, _, count)| *count)
    }

    #[must_use]
    pub fn total(&self) -> u64 {
        self.counts.iter().map(|(_, _, count)| count).sum()
    }
}

/// What [`InvoiceIssuance::look_up_now`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookUpOutcome {
    /// Factus holds the bill; the entry is now `issued`.
    Issued,
    /// Factus has no bill of the reference; the entry is now `rejected` (not issued), and the
    /// reference is free again.
    NotIssued,
    /// Factus has no bill of the reference and the entry is a queued create: it is back in the
    /// queue, which sends it again.
    Requeued,
    /// The entry changed meanwhile (the client's retry or the reconciler settled it).
    Superseded,
    /// The entry is neither `pending` nor `unknown`: there is nothing to look up.
    Settled,
    /// The ledger could not record what Factus said (logged); the reconciler tries again.
    NotRecorded,
}

/// What [`InvoiceIssuance::delete_stuck_rejection`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StuckDeletion {
    /// Deleted at Factus (or Factus no longer had it) and recorded in the ledger.
    Deleted,
    /// The entry is not a DIAN rejection still stored at Factus.
    NotStuck,
}

impl InvoiceIssuance {
    /// The viewer's entry `id` of `reference`; `None` when there is none (or it is somebody
    /// else's and the viewer is not an admin).
    ///
    /// # Errors
    /// [`StoreError`] when the ledger cannot be read.
    pub async fn find_entry(
        &self,
        viewer: &User,
        reference: &ReferenceCode,
        id: Uuid,
    ) -> Result<Option<LedgerEntry>, StoreError> {
        let mut after = None;
        loop {
            let filter = LedgerFilter {
                reference_code: Some(reference.clone()),
                after,
                limit: PageSize::new(PageSize::MAX).unwrap_or_default(),
                ..LedgerFilter::default()
            };
            let page = self.list(viewer, filter).await?;
            if let Some(entry) = page.entries.into_iter().find(|entry| entry.id == id) {
                return Ok(Some(entry));
            }
            match page.next_cursor {
                Some(cursor) => after = Some(cursor),
                None => return Ok(None),
            }
        }
    }

    /// Counts the viewer's entries (an admin's: everybody's) created at or after `since`, by kind
    /// and state, reading at most [`TALLY_LIMIT`] of them.
    ///
    /// # Errors
    /// [`StoreError`] when the ledger cannot be read.
    pub async fn tally_since(&self, viewer: &User, since: OffsetDateTime) -> Result<LedgerTally, StoreError> {
        let mut counts = std::collections::HashMap::<(DocumentKind, LedgerState), u64>::new();
        let mut after: Option<LedgerCursor> = None;
        let mut read = 0_usize;
        let truncated = loop {
            let filter = LedgerFilter {
                created_from: Some(since),
                after,
                limit: PageSize::new(PageSize::MAX).unwrap_or_default(),
                ..LedgerFilter::default()
            };
            let page = self.list(viewer, filter).await?;
            read += page.entries.len();
            for entry in &page.entries {
                *counts.entry((entry.kind, entry.state())).or_default() += 1;
            }
            match page.next_cursor {
                Some(_) if read >= TALLY_LIMIT => break true,
                Some(cursor) => after = Some(cursor),
                None => break false,
            }
        };
        let counts = DocumentKind::ALL
            .into_iter()
            .flat_map(|kind| LedgerState::ALL.into_iter().map(move |state| (kind, state)))
            .filter_map(|key| counts.get(&key).map(|count| (key.0, key.1, *count)))
            .collect();
        Ok(LedgerTally { counts, truncated })
    }

    /// Looks a `pending` or `unknown` entry (of any kind) up at Factus now, with the server's own
    /// session, and records what Factus has, as the background reconciler would (but without
    /// waiting for [`super::IssuancePolicy::stale_after`]: an operator asks on purpose, after the
    /// request that claimed the entry has ended).
    ///
    /// # Errors
    /// [`FactusError`] when Factus cannot be asked (no server session is
    /// [`FactusError::Unexpected`]); the ledger failing is [`LookUpOutcome::NotRecorded`].
    pub async fn look_up_now(&self, entry: &LedgerEntry) -> Result<LookUpOutcome, FactusError> {
        if !matches!(entry.status, EntryStatus::Pending | EntryStatus::Unknown) {
            return Ok(LookUpOutcome::Settled);
        }
        if !self.factus.has_server_session() {
            return Err(FactusError::Unexpected(anyhow::anyhow!(
                "the server has no Factus session of its own (FACTUS_USERNAME/FACTUS_PASSWORD)"
            )));
        }
        Ok(match self.reconcile_entry(entry, clock::now()).await? {
            Reconciled::Issued => LookUpOutcome::Issued,
            Reconciled::NotIssued => LookUpOutcome::NotIssued,
            Reconciled::Requeued => LookUpOutcome::Requeued,
            Reconciled::Superseded => LookUpOutcome::Superseded,
            Reconciled::Failed => LookUpOutcome::NotRecorded,
        })
    }

    /// Deletes at Factus the document of an entry DIAN rejected that Factus still stores (it
    /// blocks every new document of its kind), and records the deletion.
    ///
    /// # Errors
    /// [`FactusError`] when Factus refuses or cannot be reached (a 404 counts as deleted).
    pub async fn delete_stuck_rejection(
        &self,
        access: &FactusAccess,
        entry: &LedgerEntry,
    ) -> Result<StuckDeletion, FactusError> {
        if !matches!(entry.status, EntryStatus::Rejected(Rejection::Dian { deleted: false, .. })) {
            return Ok(StuckDeletion::NotStuck);
        }
        match self.bills.delete_by_reference(access, entry.kind, entry.reference_code.as_str()).await {
            Ok(_) | Err(FactusError::Rejected { status: 404, .. }) => {}
            Err(error) => return Err(error),
        }
        tracing::info!(reference = %entry.reference_code, entry = %entry.id, "an operator deleted a rejected document at Factus");
        super::record(self.ledger.mark_deleted_at_factus(entry).await, entry, "deleted at Factus");
        Ok(StuckDeletion::Deleted)
    }
}
