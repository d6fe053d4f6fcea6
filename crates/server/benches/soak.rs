//! The fault soak at full size (`docs/reliability.md`, "Measured").
//!
//! Run: `cargo bench -p factus-server --bench soak` (release build). Each run creates 1,000
//! invoices with distinct references through the real application, served in-process on
//! 127.0.0.1:0, in front of the in-process sandbox, while the sandbox
//! - drops 20 % of the creates' connections after storing the bill (`drop_after_commit`),
//! - hangs 5 % past the service's 1 s Factus timeout (`hang`),
//! - answers 503 to 5 % (`status`),
//!
//! all scoped to `POST /v1/bills/validate` (the lookup and the token endpoint are never faulted).
//! 16 clients retry each failed create with the same body, up to 10 attempts. Four runs: with an
//! `Idempotency-Key` per invoice and with the reference code alone, on one instance with SQLite
//! and on two instances sharing one Postgres (skipped, loudly, without a Postgres server).
//!
//! Printed per run: duration, attempts, retries, replays, failures seen by the clients, and the
//! end state (sandbox bills, ledger entries by state, calls the sandbox received). The run fails
//! when exactly-once did not hold: a bill missing or doubled, an entry not `issued` with the
//! sandbox's number and CUFE.
//!
//! Without `--bench` (for example `cargo test --benches`) every run is 50 invoices, as a smoke
//! test.

#[path = "../tests/support_exactly_once/mod.rs"]
mod support_exactly_once;

use std::collections::BTreeMap;

use factus_infrastructure::testing::TestDatabase;
use support_exactly_once::{
    Api, InProcess, LIST, RetryIdentity, SoakDocuments, SoakPlan, Upstream, VALIDATE, field, install_soak_faults,
    run_soak, service_env, soak_problems,
};

const CLIENTS: usize = 16;
const MAX_ATTEMPTS: u32 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    /// One instance on a SQLite file.
    Sqlite,
    /// Two instances sharing one Postgres database; the clients alternate between them.
    PostgresTwoInstances,
}

impl Backend {
    fn label(self) -> &'static str {
        match self {
            Self::Sqlite => "1 instance, SQLite",
            Self::PostgresTwoInstances => "2 instances, one Postgres",
        }
    }
}

fn main() {
    let full = std::env::args().any(|argument| argument == "--bench");
    let count = if full { 1000 } else { 50 };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    runtime.block_on(async {
        let mut problems = Vec::new();
        for backend in [Backend::Sqlite, Backend::PostgresTwoInstances] {
            for identity in [RetryIdentity::IdempotencyKey, RetryIdentity::ReferenceCode] {
                problems.extend(soak(backend, identity, count).await);
            }
        }
        assert!(problems.is_empty(), "exactly-once did not hold:\n{}", problems.join("\n"));
    });
}

async fn soak(backend: Backend, identity: RetryIdentity, count: usize) -> Vec<String> {
    let upstream = Upstream::start().await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let postgres = match backend {
        Backend::Sqlite => None,
        Backend::PostgresTwoInstances => match TestDatabase::postgres_or_skip("bench soak").await {
            Some(database) => Some(database),
            None => return Vec::new(),
        },
    };
    let database_url = match &postgres {
        Some(database) => database.url().to_owned(),
        None => format!("sqlite://{}", dir.path().join("factus-api.db").display()),
    };
    let mut env = service_env(&database_url, &upstream.base_url());
    env.insert("FACTUS_TIMEOUT_SECS", "1".to_owned());
    let mut instances = vec![InProcess::start(&env).await];
    if backend == Backend::PostgresTwoInstances {
        instances.push(InProcess::start(&env).await);
    }
    let apis: Vec<Api> = instances.iter().map(|instance| instance.api.clone()).collect();
    install_soak_faults(&upstream).await;
    let plan = SoakPlan {
        prefix: format!(
            "{}-{}",
            if backend == Backend::Sqlite { "SQ" } else { "PG" },
            if identity == RetryIdentity::IdempotencyKey { "KEY" } else { "REF" }
        ),
        count,
        concurrency: CLIENTS,
        max_attempts: MAX_ATTEMPTS,
        identity,
        documents: SoakDocuments::Invoices,
    };

    let report = run_soak(&apis, &plan).await;

    upstream.clear_faults().await;
    let bills = upstream.bills().await;
    let ledger = apis[0].ledger().await;
    let mut states: BTreeMap<String, usize> = BTreeMap::new();
    for entry in &ledger {
        *states.entry(field(entry, "state").unwrap_or_default()).or_insert(0) += 1;
    }
    let problems = soak_problems(&report, &bills, &ledger);
    println!("\n== soak: {} ==", backend.label());
    println!("{}", report.summary());
    #[allow(clippy::cast_precision_loss)]
    let rate = report.plan.count as f64 / report.duration.as_secs_f64();
    println!(
        "   {rate:.0} invoices/s; end state: {} sandbox bills, ledger {states:?}; the sandbox received {} creates and \
         {} reference lookups; {}",
        bills.len(),
        upstream.count(VALIDATE).await,
        upstream.count(LIST).await,
        if problems.is_empty() { "exactly once: OK".to_owned() } else { format!("{} PROBLEMS", problems.len()) },
    );
    for instance in instances {
        instance.stop().await;
    }
    upstream.shutdown().await;
    if let Some(database) = postgres {
        database.drop_database().await;
    }
    problems.into_iter().map(|problem| format!("[{} / {}] {problem}", backend.label(), identity.label())).collect()
}
