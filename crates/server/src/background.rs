//! The background tasks of a serving instance (the ledger reconciler, the webhook dispatcher,
//! pruning of failed logins), all started in one place ([`spawn_all`]) by the one
//! start-up path ([`crate::app::Application::serve`]); a new task is added here, once.
//!
//! Every task is a loop of passes ([`every`]): the first pass runs at once ([`every_after`]: after a
//! delay), the next ones every interval, passes never overlap, and shutdown stops the loop between
//! (or in the middle of) two passes. Each pass runs in a `background` span naming its task, so its logs say where they come
//! from (docs/logging.md).
//!
//! Tasks: the ledger reconciler, the webhook dispatcher, pruning failed logins, and (with a server
//! Factus session) the queue worker that sends queued creates and the numbering-range check that
//! feeds the warnings of `/health/ready`.

use std::future::Future;
use std::time::Duration;

use factus_application::clock;
use factus_application::factus::FactusAccess;
use factus_application::issuance::{InvoiceIssuance, QueuedSend};
use factus_application::webhooks::DispatchReport;
use factus_web::AppState;
use factus_web::queue::KeptRequests;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;
use tracing::Instrument;

use crate::app::Shutdown;
use crate::reconciler;

/// The shortest interval accepted; a zero interval would spin.
const MIN_INTERVAL: Duration = Duration::from_millis(1);

/// How often failed logins that fell out of the throttling window are forgotten.
pub const LOGIN_FAILURE_PRUNE_INTERVAL: Duration = Duration::from_secs(10 * 60);

/// What the background tasks need from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct BackgroundSettings {
    /// Run the ledger reconciler (`false` only in tests of what clients' own retries settle).
    pub reconcile: bool,
    /// `LEDGER_RECONCILE_INTERVAL_SECS`.
    pub reconcile_interval: Duration,
    /// `WEBHOOK_DISPATCH_INTERVAL_MS`: how often due webhook deliveries are sent.
    pub webhook_interval: Duration,
    /// `NUMBERING_RANGE_CHECK_INTERVAL_SECS`.
    pub numbering_range_check_interval: Duration,
}

/// The webhook dispatcher's name in logs.
pub const WEBHOOK_TASK: &str = "webhook_dispatcher";

/// The queue worker's name in logs.
pub const QUEUE_TASK: &str = "queue_worker";

/// How often the queue worker looks for queued creates when it found none. Every instance
/// looks; one that finds the queue empty costs one indexed query.
pub const QUEUE_POLL_INTERVAL: Duration = Duration::from_millis(500);

/// The running tasks, to wait for after shutdown.
#[derive(Debug)]
pub struct Tasks(Vec<(&'static str, JoinHandle<()>)>);

impl Tasks {
    /// Waits for every task to stop; one that panicked is logged.
    pub async fn join(self) {
        for (task, handle) in self.0 {
            if let Err(error) = handle.await {
                tracing::error!(task, error = format!("{error:#}"), "a background task ended abnormally");
            }
        }
    }
}

/// Starts every background task of a serving instance; they stop when `shutdown` fires.
#[must_use]
pub fn spawn_all(state: &AppState, settings: BackgroundSettings, shutdown: &Shutdown) -> Tasks {
    let mut tasks = Vec::new();
    if settings.reconcile {
        let issuance = state.issuance.clone();
        tasks.push((
            reconciler::TASK,
            reconciler::spawn(issuance, settings.reconcile_interval, shutdown.clone().wait()),
        ));
    }
    if state.webhooks.is_enabled() {
        let webhooks = state.webhooks.clone();
        tasks.push((
            WEBHOOK_TASK,
            every(WEBHOOK_TASK, settings.webhook_interval, shutdown.clone().wait(), move || {
                let webhooks = webhooks.clone();
                async move {
                    match webhooks.dispatch_due(clock::now()).await {
                        Ok(report) => record_webhook_metrics(report),
                        Err(error) => {
                            tracing::error!(error = format!("{error:#}"), "claiming due webhook deliveries failed")
                        }
                    }
                }
            }),
        ));
    }
    let auth = state.auth.clone();
    tasks.push((
        "login_failure_pruning",
        every("login_failure_pruning", LOGIN_FAILURE_PRUNE_INTERVAL, shutdown.clone().wait(), move || {
            let auth = auth.clone();
            async move {
                match auth.prune_login_failures(clock::now()).await {
                    Ok(0) => {}
                    Ok(pruned) => tracing::info!(pruned, "forgot failed logins older than the throttling window"),
                    Err(error) => tracing::error!(error = format!("{error:#}"), "pruning failed logins failed"),
                }
            }
        }),
    ));
    // Queued creates are sent with the server's own session (a client's token is never kept), so
    // only an instance that has one sends them; any such instance does, oldest first.
    if state.factus_status.has_server_session() {
        let issuance = state.issuance.clone();
        tasks.push((
            QUEUE_TASK,
            every(QUEUE_TASK, QUEUE_POLL_INTERVAL, shutdown.clone().wait(), move || {
                let issuance = issuance.clone();
                async move { drain_queue(&issuance).await }
            }),
        ));
    }
    // Without its own Factus session the server can only learn the ranges from its clients'
    // calls (every numbering-range answer updates the watch). The first read waits one interval:
    // a starting instance calls Factus only for its clients, and restarts in a loop cannot spend
    // the account's request quota.
    if state.factus_status.has_server_session() {
        let ranges = state.numbering_ranges.clone();
        let issuance = state.issuance.clone();
        let interval = settings.numbering_range_check_interval;
        tasks.push((
            "numbering_range_check",
            every_after("numbering_range_check", interval, interval, shutdown.clone().wait(), move || {
                let ranges = ranges.clone();
                let issuance = issuance.clone();
                async move {
                    // Creates waiting in the queue need every call of the Factus budget; this
                    // check can wait for the next interval (a read would take the slot of a
                    // create: 400 creates are exactly five windows of 80, and one more call
                    // pushes the last of them into a sixth).
                    if issuance.queue_stats().await.is_ok_and(|stats| stats.depth > 0) {
                        tracing::debug!("numbering-range check skipped: creates are queued for the Factus budget");
                        return;
                    }
                    match ranges.refresh(&FactusAccess::ServerSession).await {
                        Ok(active) => {
                            let warnings = ranges.watch().warnings();
                            for warning in &warnings {
                                tracing::warn!(
                                    range_id = warning.range_id,
                                    problem = warning.problem.as_str(),
                                    "{}",
                                    warning.message
                                );
                            }
                            tracing::debug!(active, warnings = warnings.len(), "numbering ranges checked");
                        }
                        Err(error) => {
                            tracing::warn!(
                                error = format!("{error:#}"),
                                "could not read the numbering ranges from Factus"
                            )
                        }
                    }
                }
            }),
        ));
    }
    Tasks(tasks)
}

/// Sends queued creates oldest first until the queue is empty, the line is held (the ledger
/// hands out one queued create at a time, and none before an earlier create still in flight)
/// or the budget sends one back; each
/// send waits for the budget with the ticket of when its create arrived, so it goes before
/// creates that arrived later, on whatever instance.
async fn drain_queue(issuance: &InvoiceIssuance) {
    loop {
        let entry = match issuance.take_queued().await {
            Ok(Some(entry)) => entry,
            Ok(None) => break,
            Err(error) => {
                tracing::error!(error = format!("{error:#}"), "could not take a queued create from the ledger");
                break;
            }
        };
        let (id, arrived) = (entry.id, entry.created_at);
        let sent = factus_infrastructure::factus::arrived_at(arrived, issuance.send_queued(entry, &KeptRequests)).await;
        metrics::counter!("ledger_queue_sends_total", "outcome" => queued_send_outcome(sent)).increment(1);
        tracing::info!(entry = %id, outcome = queued_send_outcome(sent), "sent a queued create");
        if sent == QueuedSend::Requeued {
            break;
        }
    }
    record_queue_metrics(issuance).await;
}

fn queued_send_outcome(sent: QueuedSend) -> &'static str {
    match sent {
        QueuedSend::Issued => "issued",
        QueuedSend::Rejected => "rejected",
        QueuedSend::Requeued => "requeued",
        QueuedSend::Unknown => "unknown",
    }
}

/// `ledger_queue_depth` and `ledger_queue_oldest_age_seconds` (0 when empty).
async fn record_queue_metrics(issuance: &InvoiceIssuance) {
    match issuance.queue_stats().await {
        Ok(stats) => {
            #[allow(clippy::cast_precision_loss)] // a queue beyond 2^53 entries is not realistic
            metrics::gauge!("ledger_queue_depth").set(stats.depth as f64);
            let age = stats.oldest_created_at.map_or(0.0, |oldest| (clock::now() - oldest).as_seconds_f64().max(0.0));
            metrics::gauge!("ledger_queue_oldest_age_seconds").set(age);
        }
        Err(error) => tracing::warn!(error = format!("{error:#}"), "could not read the queue's length"),
    }
}

/// `webhook_deliveries_total{outcome}`: `delivered`, `retried`, `gave_up`, `unrecorded`.
fn record_webhook_metrics(report: DispatchReport) {
    let outcomes = [
        ("delivered", report.delivered),
        ("retried", report.retried),
        ("gave_up", report.gave_up),
        ("unrecorded", report.unrecorded),
    ];
    for (outcome, count) in outcomes {
        if count > 0 {
            metrics::counter!("webhook_deliveries_total", "outcome" => outcome).increment(u64::from(count));
        }
    }
}

/// Runs `pass` at once and then every `interval` (at least a millisecond) until `shutdown`
/// resolves, each pass in a `background` span with `task`.
pub fn every<P, F>(
    task: &'static str,
    interval: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
    pass: P,
) -> JoinHandle<()>
where
    P: FnMut() -> F + Send + 'static,
    F: Future<Output = ()> + Send,
{
    every_after(task, Duration::ZERO, interval, shutdown, pass)
}

/// [`every`], with the first pass `delay` after the start instead of at once.
pub fn every_after<P, F>(
    task: &'static str,
    delay: Duration,
    interval: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
    mut pass: P,
) -> JoinHandle<()>
where
    P: FnMut() -> F + Send + 'static,
    F: Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut shutdown = std::pin::pin!(shutdown);
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + delay, interval.max(MIN_INTERVAL));
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                _ = ticker.tick() => {}
            }
            let span = tracing::info_span!("background", task);
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                () = pass().instrument(span) => {}
            }
        }
        tracing::info!(task, "background task stopped");
    })
}
