//! Logging (tracing) and metrics (Prometheus) for the process. The conventions are in
//! docs/logging.md.

use std::io::IsTerminal;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::LogFormat;

/// `RUST_LOG` when it is set; otherwise info for our crates and warnings for chatty dependencies.
const DEFAULT_FILTER: &str = "info,sqlx=warn,hyper=warn,reqwest=warn,tower_http=warn";

/// Installs the global subscriber. Safe to call more than once (later calls do nothing), which
/// keeps in-process tests simple.
///
/// The human format is coloured only when standard output is a terminal: escape codes in a file,
/// a pipe or a journal are noise that breaks `grep` and log shippers.
pub fn init_tracing(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let registry = tracing_subscriber::registry().with(filter);
    let result = match format {
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init(),
        LogFormat::Pretty => registry
            .with(tracing_subscriber::fmt::layer().with_target(false).with_ansi(std::io::stdout().is_terminal()))
            .try_init(),
    };
    drop(result);
}

/// Seconds; covers a cache hit (sub-millisecond) to a slow Factus call (tens of seconds).
const LATENCY_BUCKETS: &[f64] =
    &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

/// Installs the global Prometheus recorder once per process and returns its handle.
///
/// # Panics
/// Never in practice: the bucket list is a constant that the builder accepts.
pub fn init_metrics() -> PrometheusHandle {
    static HANDLE: std::sync::OnceLock<PrometheusHandle> = std::sync::OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), LATENCY_BUCKETS)
                .expect("latency buckets are not empty")
                .build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (a test harness); then ours only renders
            // what it records itself, which is acceptable for tests.
            drop(metrics::set_global_recorder(recorder));
            handle
        })
        .clone()
}
