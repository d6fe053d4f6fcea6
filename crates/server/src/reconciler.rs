//! The invoice ledger's background reconciler.
//!
//! Every `interval` (config `LEDGER_RECONCILE_INTERVAL_SECS`, 30 s by default) one pass:
//! 1. reconciles the `pending`/`unknown` entries nobody touched for the issuance policy's
//!    `stale_after` (`LEDGER_STALE_AFTER_SECS`, 60 s) by looking their reference up at Factus
//!    ([`InvoiceIssuance::reconcile_stale`]);
//! 2. forgets `Idempotency-Key`s past their retention (24 h);
//! 3. publishes the number of entries per state.
//!
//! The first pass runs at once, so entries left behind by a crash are settled right after a
//! restart. Passes never overlap, and every step is a compare-and-set in the ledger, so several
//! instances may run their reconcilers against one database. A pass cut short by shutdown leaves
//! nothing half-done: an entry is either updated in one statement or left for the next pass.
//!
//! Metrics (Prometheus, through the `metrics` facade):
//! - `ledger_reconciliations_total{outcome}`: `issued`, `not_issued`, `superseded`, `failed`,
//!   `skipped` (no server Factus session to look entries up with);
//! - `ledger_idempotency_keys_purged_total`;
//! - `ledger_entries{state}`: gauge per state, refreshed every pass.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use factus_application::clock;
use factus_application::issuance::{InvoiceIssuance, ReconcileReport};
use factus_application::ledger::{LedgerCounts, LedgerState};
use tokio::task::JoinHandle;

use crate::background;

/// The task's name in logs (the `background` span's `task`).
pub const TASK: &str = "ledger_reconciler";

/// What one pass did; each part is `None` when that step failed (the failure is logged).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassSummary {
    pub reconciled: Option<ReconcileReport>,
    pub keys_purged: Option<u64>,
    pub counts: Option<LedgerCounts>,
}

/// Starts the reconciler on the current runtime. It runs a pass at once and then every
/// `interval`, until `shutdown` resolves; an interval below a millisecond counts as one.
pub fn spawn(
    issuance: Arc<InvoiceIssuance>,
    interval: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> JoinHandle<()> {
    tracing::info!(
        interval_secs = interval.as_secs_f64(),
        stale_after_secs = issuance.policy().stale_after.as_secs(),
        "ledger reconciler started"
    );
    background::every(TASK, interval, shutdown, move || {
        let issuance = issuance.clone();
        async move { record_metrics(&run_pass(&issuance).await) }
    })
}

/// One pass: reconcile, purge expired keys, count. A failing step is logged and does not stop
/// the others.
pub async fn run_pass(issuance: &InvoiceIssuance) -> PassSummary {
    let now = clock::now();
    let reconciled = match issuance.reconcile_stale(now).await {
        Ok(report) => Some(report),
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "ledger reconciliation failed");
            None
        }
    };
    let keys_purged = match issuance.purge_expired_keys(now).await {
        Ok(purged) => {
            if purged > 0 {
                tracing::info!(purged, "forgot expired idempotency keys");
            }
            Some(purged)
        }
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "purging expired idempotency keys failed");
            None
        }
    };
    let counts = match issuance.counts().await {
        Ok(counts) => Some(counts),
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "counting ledger entries failed");
            None
        }
    };
    PassSummary { reconciled, keys_purged, counts }
}

/// Publishes a pass to the metrics recorder.
pub fn record_metrics(summary: &PassSummary) {
    if let Some(report) = summary.reconciled {
        let outcomes = [
            ("issued", report.issued),
            ("not_issued", report.not_issued),
            ("requeued", report.requeued),
            ("superseded", report.superseded),
            ("failed", report.failed),
            ("skipped", report.skipped),
        ];
        for (outcome, count) in outcomes {
            metrics::counter!("ledger_reconciliations_total", "outcome" => outcome).increment(u64::from(count));
        }
    }
    if let Some(purged) = summary.keys_purged {
        metrics::counter!("ledger_idempotency_keys_purged_total").increment(purged);
    }
    if let Some(counts) = summary.counts {
        for state in LedgerState::ALL {
            // Counts far beyond f64's exact integers are not a realistic ledger size.
            #[allow(clippy::cast_precision_loss)]
            let value = counts.get(state) as f64;
            metrics::gauge!("ledger_entries", "state" => state.as_str()).set(value);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;
    use factus_application::document::Document;
    use factus_application::factus::{
        BillEvents, CircuitState, DocumentFormat, DownloadedFile, FactusAccess, FactusApiVersion, FactusBillGateway,
        FactusError, FactusStatus, IssuedBill, StatusMessage, UpstreamJson,
    };
    use factus_application::issuance::IssuancePolicy;
    use factus_application::ledger::{
        DocumentKind, EntryStatus, IdempotencyKey, LedgerStore, NewLedgerEntry, RequestFingerprint,
    };
    use factus_domain::invoice::ReferenceCode;
    use factus_domain::user::Username;
    use factus_infrastructure::db::Database;
    use uuid::Uuid;

    use super::*;

    /// Factus as the reconciler sees it: one bill, found by reference with the server session.
    struct OneBill {
        lookups: Mutex<Vec<String>>,
    }

    fn bill() -> IssuedBill {
        IssuedBill {
            number: "SETP990000001".into(),
            prefix: "SETP".into(),
            cufe: "cufe".into(),
            qr_url: "https://qr".into(),
            status: "1".into(),
            message: None,
        }
    }

    fn not_in_this_test() -> FactusError {
        FactusError::Unexpected(anyhow::anyhow!("the reconciler only looks bills up"))
    }

    #[async_trait]
    impl FactusBillGateway for OneBill {
        async fn validate_bill(&self, _: &FactusAccess, _: &Document) -> Result<IssuedBill, FactusError> {
            Err(not_in_this_test())
        }
        async fn show_bill(&self, _: &FactusAccess, _: DocumentKind, _: &str) -> Result<UpstreamJson, FactusError> {
            Err(not_in_this_test())
        }
        async fn download_document(
            &self,
            _: &FactusAccess,
            _: DocumentKind,
            _: &str,
            _: DocumentFormat,
        ) -> Result<DownloadedFile, FactusError> {
            Err(not_in_this_test())
        }
        async fn events(&self, _: &FactusAccess, _: &str) -> Result<BillEvents, FactusError> {
            Err(not_in_this_test())
        }
        async fn send_email(
            &self,
            _: &FactusAccess,
            _: DocumentKind,
            _: &str,
            _: &str,
            _: Option<String>,
        ) -> Result<StatusMessage, FactusError> {
            Err(not_in_this_test())
        }
        async fn delete_by_reference(
            &self,
            _: &FactusAccess,
            _: DocumentKind,
            _: &str,
        ) -> Result<StatusMessage, FactusError> {
            Err(not_in_this_test())
        }
        async fn find_bill_by_reference(
            &self,
            access: &FactusAccess,
            _: DocumentKind,
            reference_code: &str,
        ) -> Result<Option<IssuedBill>, FactusError> {
            assert!(matches!(access, FactusAccess::ServerSession));
            self.lookups.lock().expect("lookups").push(reference_code.to_owned());
            Ok((reference_code == "R-FOUND").then(bill))
        }
        async fn pending_reference(&self, _: &FactusAccess, _: DocumentKind) -> Result<Option<String>, FactusError> {
            Err(not_in_this_test())
        }
    }

    struct WithSession;

    impl FactusStatus for WithSession {
        fn has_server_session(&self) -> bool {
            true
        }
        fn circuit_state(&self) -> CircuitState {
            CircuitState::Closed
        }
        fn api_version(&self) -> FactusApiVersion {
            FactusApiVersion::V1
        }
    }

    async fn ledger() -> (Database, Arc<dyn LedgerStore>) {
        let database = Database::connect("sqlite::memory:", 1).await.expect("an in-memory database");
        database.migrate().await.expect("migrations");
        let ledger = database.ledger_store();
        (database, ledger)
    }

    /// An entry claimed ten minutes ago whose send ended ambiguously right away.
    async fn unknown_entry(ledger: &dyn LedgerStore, reference: &str, key: &str) {
        let long_ago = clock::now() - time::Duration::minutes(10);
        let entry = ledger
            .claim(&NewLedgerEntry {
                id: Uuid::now_v7(),
                kind: DocumentKind::Invoice,
                user_id: Uuid::now_v7(),
                username: Username::parse("ana").unwrap(),
                api_key_id: None,
                reference_code: ReferenceCode::parse(reference).unwrap(),
                idempotency_key: Some(IdempotencyKey::parse(key).unwrap()),
                fingerprint: RequestFingerprint::parse("abcd").unwrap(),
                total: None,
                referenced_number: None,
                counterparty: None,
                created_at: long_ago,
            })
            .await
            .expect("claimed");
        // A second later: an update that leaves `updated_at` unchanged gets the current time.
        let failed_at = long_ago + time::Duration::seconds(1);
        assert!(ledger.mark_unknown(&entry, failed_at).await.expect("marked unknown"));
    }

    fn issuance(ledger: Arc<dyn LedgerStore>, gateway: Arc<OneBill>) -> Arc<InvoiceIssuance> {
        Arc::new(InvoiceIssuance::new(ledger, gateway, Arc::new(WithSession), IssuancePolicy::default()))
    }

    #[tokio::test]
    async fn a_pass_settles_stale_entries_and_counts_the_ledger() {
        let (database, ledger) = ledger().await;
        unknown_entry(ledger.as_ref(), "R-FOUND", "k1").await;
        unknown_entry(ledger.as_ref(), "R-MISSING", "k2").await;
        let gateway = Arc::new(OneBill { lookups: Mutex::new(Vec::new()) });

        let summary = run_pass(&issuance(Arc::clone(&ledger), Arc::clone(&gateway))).await;

        let report = summary.reconciled.expect("a reconciliation");
        assert_eq!((report.issued, report.not_issued, report.failed), (1, 1, 0));
        let counts = summary.counts.expect("counts");
        assert_eq!((counts.issued, counts.rejected, counts.unknown), (1, 1, 0));
        assert_eq!(summary.keys_purged, Some(0), "keys are kept for 24 h");
        let found = ledger.find_active_by_reference(&ReferenceCode::parse("R-FOUND").unwrap()).await.unwrap();
        assert!(
            matches!(found.map(|entry| entry.status), Some(EntryStatus::Issued { bill: issued, .. }) if issued == bill())
        );
        record_metrics(&summary);
        database.close().await;
    }

    #[tokio::test]
    async fn the_reconciler_runs_at_once_and_stops_on_shutdown() {
        let (database, ledger) = ledger().await;
        unknown_entry(ledger.as_ref(), "R-FOUND", "k1").await;
        let gateway = Arc::new(OneBill { lookups: Mutex::new(Vec::new()) });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();

        let handle = spawn(issuance(Arc::clone(&ledger), Arc::clone(&gateway)), Duration::from_secs(3600), async {
            drop(stopped.await);
        });
        let reference = ReferenceCode::parse("R-FOUND").unwrap();
        let settled = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let entry = ledger.find_active_by_reference(&reference).await.unwrap().expect("the entry");
                if matches!(entry.status, EntryStatus::Issued { .. }) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        stop.send(()).expect("the reconciler listens");
        let joined = tokio::time::timeout(Duration::from_secs(5), handle).await;

        assert!(settled.is_ok(), "the first pass ran without waiting for the interval");
        assert!(matches!(joined, Ok(Ok(()))), "the reconciler stopped on shutdown");
        assert_eq!(gateway.lookups.lock().unwrap().as_slice(), ["R-FOUND"]);
        database.close().await;
    }
}
