// The exactly-once suite, included once per Factus API version by `tests/exactly_once.rs`
// (`FACTUS_API` is the version of the sandbox and of the service's `FACTUS_API_VERSION`).


use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use factus_infrastructure::testing::TestDatabase;
use reqwest::StatusCode;
use serde_json::{Value, json};
use crate::support_exactly_once::{
    Api, Binary, InProcess, LIST, Reply, RetryIdentity, SoakDocuments, SoakPlan, Upstream, VALIDATE, bills_by_reference, by_reference, field,
    install_soak_faults, install_soak_faults_on, invoice, run_soak, soak_problems, allow_connections, block_connections,
};
use tokio::sync::Barrier;

/// The invoices of each soak run here (the benchmark runs 1,000).
const SOAK_INVOICES: usize = 200;
const SOAK_CLIENTS: usize = 16;

/// The settings of a service on a SQLite file in `dir`, in front of `upstream`: the common ones,
/// then `settings`.
fn sqlite_env(upstream: &Upstream, dir: &Path, settings: &[(&'static str, &str)]) -> BTreeMap<&'static str, String> {
    let mut env = upstream.service_env(&format!("sqlite://{}", dir.join("factus-api.db").display()));
    env.extend(settings.iter().map(|&(name, value)| (name, value.to_owned())));
    env
}

/// A service on a SQLite file in a fresh directory (kept as long as the service runs), in front
/// of `upstream`, with `settings`.
async fn on_sqlite(upstream: &Upstream, settings: &[(&'static str, &str)]) -> (tempfile::TempDir, InProcess) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let service = InProcess::start(&sqlite_env(upstream, dir.path(), settings)).await;
    (dir, service)
}

// ---------------------------------------------------------------------------------------------
// One Idempotency-Key, many concurrent requests
// ---------------------------------------------------------------------------------------------

/// Sends `count` creates of `body` with `key` at once (released together by a barrier), spread
/// round robin over `apis`.
async fn concurrent_creates(apis: &[Api], count: usize, body: &Value, key: &str) -> Vec<Reply> {
    let barrier = Arc::new(Barrier::new(count));
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..count {
        let (api, barrier) = (apis[index % apis.len()].clone(), Arc::clone(&barrier));
        let (body, key) = (body.clone(), key.to_owned());
        tasks.spawn(async move {
            barrier.wait().await;
            api.create(&body, Some(&key)).await
        });
    }
    let mut replies = Vec::with_capacity(count);
    while let Some(reply) = tasks.join_next().await {
        replies.push(reply.expect("a client task"));
    }
    replies
}

/// One bill at the sandbox for `reference`; every reply is that bill (exactly one of them not a
/// replay) or 409 "still being processed". Returns (successes, conflicts).
async fn assert_one_bill_and_only_the_stored_success_or_409(
    upstream: &Upstream,
    replies: &[Reply],
    reference: &str,
) -> (usize, usize) {
    let bills = upstream.bills().await;
    assert_eq!(bills.len(), 1, "exactly one bill at the sandbox: {bills:?}");
    let bill = &bills[0];
    assert_eq!(bill.reference_code, reference);
    assert_eq!(upstream.count(&upstream.route(VALIDATE)).await, 1, "the invoice reached Factus once");

    let mut successes = 0;
    let mut conflicts = 0;
    let mut first_answers = 0;
    for reply in replies {
        match reply.status {
            StatusCode::OK => {
                assert_eq!(reply.issued(), (bill.number.clone(), bill.cufe.clone()), "the stored success");
                successes += 1;
                if !reply.replayed {
                    first_answers += 1;
                }
            }
            StatusCode::CONFLICT => {
                assert_eq!(reply.detail(), "A request with this Idempotency-Key is still being processed");
                conflicts += 1;
            }
            other => panic!("neither the stored success nor 409: {other} {}", reply.text),
        }
    }
    assert_eq!(first_answers, 1, "exactly one request sent the invoice; the other successes are replays");
    (successes, conflicts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_creates_with_one_idempotency_key_issue_exactly_one_bill() {
    let upstream = Upstream::start_on(FACTUS_API).await;
    // Factus takes a while, so the other 49 arrive while the first is in flight.
    upstream.fault(json!({"kind": "latency", "method": "POST", "path": upstream.route("/v1/bills/validate"), "latency_ms": 300})).await;
    let (_dir, service) = on_sqlite(&upstream, &[]).await;
    let body = invoice("ONE-KEY-0001");

    let replies = concurrent_creates(std::slice::from_ref(&service.api), 50, &body, "one-key-0001").await;

    let (successes, conflicts) =
        assert_one_bill_and_only_the_stored_success_or_409(&upstream, &replies, "ONE-KEY-0001").await;
    println!("50 concurrent creates, one key, one instance: {successes} × 200, {conflicts} × 409");
    // Once the first has finished, every retry gets the stored answer.
    let again = concurrent_creates(std::slice::from_ref(&service.api), 50, &body, "one-key-0001").await;
    assert!(again.iter().all(|reply| reply.status == StatusCode::OK && reply.replayed), "all replays");
    assert_one_bill_and_only_the_stored_success_or_409(&upstream, &[replies, again].concat(), "ONE-KEY-0001").await;
    service.stop().await;
    upstream.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_creates_with_one_key_over_two_instances_sharing_postgres_issue_exactly_one_bill() {
    let Some(database) = TestDatabase::postgres_or_skip("exactly_once::two_instances").await else { return };
    let upstream = Upstream::start_on(FACTUS_API).await;
    upstream.fault(json!({"kind": "latency", "method": "POST", "path": upstream.route("/v1/bills/validate"), "latency_ms": 300})).await;
    let env = upstream.service_env(database.url());
    let first = InProcess::start(&env).await;
    let second = InProcess::start(&env).await;
    assert_ne!(first.api.base, second.api.base, "two instances, two ports");
    let body = invoice("TWO-INSTANCES-0001");

    let apis = [first.api.clone(), second.api.clone()];
    let replies = concurrent_creates(&apis, 50, &body, "two-instances-0001").await;

    let (successes, conflicts) =
        assert_one_bill_and_only_the_stored_success_or_409(&upstream, &replies, "TWO-INSTANCES-0001").await;
    println!("50 concurrent creates, one key, two instances: {successes} × 200, {conflicts} × 409");
    let again = concurrent_creates(&apis, 50, &body, "two-instances-0001").await;
    assert!(again.iter().all(|reply| reply.status == StatusCode::OK && reply.replayed), "all replays");
    for api in &apis {
        let ledger = api.ledger().await;
        assert_eq!(ledger.len(), 1, "both instances see the one entry: {ledger:?}");
        assert_eq!(field(&ledger[0], "state").as_deref(), Some("issued"));
    }
    first.stop().await;
    second.stop().await;
    upstream.shutdown().await;
    database.drop_database().await;
}

// ---------------------------------------------------------------------------------------------
// The fault soak
// ---------------------------------------------------------------------------------------------

async fn soak(identity: RetryIdentity, prefix: &str) {
    let upstream = Upstream::start_on(FACTUS_API).await;
    // Hangs end after a second; the breaker stays closed (it is tested on its own below).
    let (_dir, service) = on_sqlite(&upstream, &[("FACTUS_TIMEOUT_SECS", "1")]).await;
    install_soak_faults(&upstream).await;
    let plan = SoakPlan {
        prefix: prefix.to_owned(),
        count: SOAK_INVOICES,
        concurrency: SOAK_CLIENTS,
        max_attempts: 10,
        identity,
        documents: SoakDocuments::Invoices,
    };

    let report = run_soak(std::slice::from_ref(&service.api), &plan).await;

    upstream.clear_faults().await;
    let bills = upstream.bills().await;
    let ledger = service.api.ledger().await;
    let requests = upstream.requests().await;
    println!("{}; sandbox: {} bills, calls {requests}", report.summary(), bills.len());
    let problems = soak_problems(&report, &bills, &ledger);
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
    // The faults did fire, so the run proves something: retries were needed, and some answers
    // were replays of bills whose first answer was lost.
    assert!(report.retries() > 0 && report.replays() > 0, "{}", report.summary());
    service.stop().await;
    upstream.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_fault_soak_retried_with_an_idempotency_key_per_invoice_issues_every_invoice_exactly_once() {
    soak(RetryIdentity::IdempotencyKey, "SOAK-KEY").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_fault_soak_retried_by_reference_code_alone_issues_every_invoice_exactly_once() {
    soak(RetryIdentity::ReferenceCode, "SOAK-REF").await;
}

/// The soak for credit notes: 50 partial credits of 100.00 each, spread over five invoices
/// issued first (10,000.00 each, tax included), so the credited totals stay under the invoice totals.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_fault_soak_of_credit_notes_issues_every_note_exactly_once() {
    let upstream = Upstream::start_on(FACTUS_API).await;
    let (_dir, service) = on_sqlite(&upstream, &[("FACTUS_TIMEOUT_SECS", "1")]).await;
    let mut invoices = Vec::new();
    for index in 0..5 {
        let reply = service.api.create(&invoice(&format!("SOAK-NC-INV-{index}")), None).await;
        invoices.push(reply.issued().0);
    }
    let documents = SoakDocuments::CreditNotesOn(invoices);
    install_soak_faults_on(&upstream, &documents).await;
    let plan = SoakPlan {
        prefix: "SOAK-NC".to_owned(),
        count: 50,
        concurrency: SOAK_CLIENTS,
        max_attempts: 10,
        identity: RetryIdentity::IdempotencyKey,
        documents,
    };

    let report = run_soak(std::slice::from_ref(&service.api), &plan).await;

    upstream.clear_faults().await;
    let notes = upstream.documents(&plan.documents).await;
    let ledger = service.api.ledger_of(&plan.documents).await;
    println!("{}; sandbox: {} credit notes, calls {}", report.summary(), notes.len(), upstream.requests().await);
    let problems = soak_problems(&report, &notes, &ledger);
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
    assert!(report.retries() > 0 && report.replays() > 0, "{}", report.summary());
    service.stop().await;
    upstream.shutdown().await;
}

/// The soak again, while the database fails for a few seconds in the middle of it: two instances
/// share one Postgres database, which stops accepting connections (every session ended) for 3 s
/// once a quarter of the invoices are issued. Creates caught by the outage are refused with 503
/// before anything is sent, or, when only the outcome could not be recorded, answered with the
/// bill and left `pending` for the reconciler; clients retry 503/504/409 as before. End state:
/// every invoice issued exactly once, nothing lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_fault_soak_survives_a_database_that_fails_for_a_few_seconds_in_the_middle() {
    const OUTAGE: Duration = Duration::from_secs(3);
    let Some(database) = TestDatabase::postgres_or_skip("exactly_once::database_outage_soak").await else { return };
    let upstream = Upstream::start_on(FACTUS_API).await;
    let mut env = upstream.service_env(database.url());
    env.insert("FACTUS_TIMEOUT_SECS", "1".to_owned());
    // Entries whose outcome could not be recorded are settled by the reconciler (and unblock the
    // clients' retries) soon after the outage.
    env.insert("LEDGER_STALE_AFTER_SECS", "3".to_owned());
    env.insert("LEDGER_RECONCILE_INTERVAL_SECS", "1".to_owned());
    let first = InProcess::start_with_reconciler(&env).await;
    let second = InProcess::start_with_reconciler(&env).await;
    install_soak_faults(&upstream).await;
    let plan = SoakPlan {
        prefix: "SOAK-DBDOWN".to_owned(),
        count: SOAK_INVOICES,
        concurrency: SOAK_CLIENTS,
        // 409s while an unrecorded entry waits to become stale come 100 ms apart.
        max_attempts: 200,
        identity: RetryIdentity::IdempotencyKey,
        documents: SoakDocuments::Invoices,
    };
    let apis = [first.api.clone(), second.api.clone()];

    let soak = {
        let (apis, plan) = (apis.clone(), plan.clone());
        tokio::spawn(async move { run_soak(&apis, &plan).await })
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while upstream.bills().await.len() < SOAK_INVOICES / 4 {
        assert!(Instant::now() < deadline, "the soak made no progress");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let bills_at_outage = upstream.bills().await.len();
    block_connections(&database).await;
    tokio::time::sleep(OUTAGE).await;
    allow_connections(&database).await;
    let report = soak.await.expect("the soak task");

    upstream.clear_faults().await;
    // The reconciler settles what the outage left pending.
    let deadline = Instant::now() + Duration::from_secs(30);
    let ledger = loop {
        let ledger = first.api.ledger().await;
        let unsettled = ledger
            .iter()
            .filter(|entry| matches!(field(entry, "state").as_deref(), Some("pending" | "unknown")))
            .count();
        if unsettled == 0 || Instant::now() > deadline {
            break ledger;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let bills = upstream.bills().await;
    let requests = upstream.requests().await;
    let database_failures: u64 = report
        .failures()
        .iter()
        .filter(|(failure, _)| failure.contains("Base de datos no disponible"))
        .map(|(_, count)| count)
        .sum();
    println!(
        "{}; database down for {OUTAGE:?} after {bills_at_outage} bills: {database_failures} answers \
         'Base de datos no disponible'; sandbox: {} bills, calls {requests}",
        report.summary(),
        bills.len()
    );
    let problems = soak_problems(&report, &bills, &ledger);
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
    assert!(database_failures > 0, "the outage was felt: {:?}", report.failures());
    first.stop().await;
    second.stop().await;
    upstream.shutdown().await;
    database.drop_database().await;
}


// ---------------------------------------------------------------------------------------------
// SIGKILL with creates in flight
// ---------------------------------------------------------------------------------------------

/// Whether the ledger has settled: nothing pending or unknown, and every sandbox bill's reference
/// issued with the sandbox's number and CUFE. `Err` says what is still missing.
async fn reconciled(
    api: &Api,
    upstream: &Upstream,
) -> Result<(Vec<Value>, Vec<crate::support_exactly_once::UpstreamBill>), String> {
    let ledger = api.ledger().await;
    let bills = upstream.bills().await;
    let unsettled: Vec<String> = ledger
        .iter()
        .filter(|entry| matches!(field(entry, "state").as_deref(), Some("pending" | "unknown")))
        .map(|entry| format!("{} {}", field(entry, "reference_code").unwrap_or_default(), entry["state"]))
        .collect();
    if !unsettled.is_empty() {
        return Err(format!("unsettled: {unsettled:?}"));
    }
    let entries = by_reference(&ledger);
    for bill in &bills {
        let issued = entries.get(&bill.reference_code).into_iter().flatten().any(|entry| {
            field(entry, "state").as_deref() == Some("issued")
                && field(entry, "number").as_deref() == Some(bill.number.as_str())
                && field(entry, "cufe").as_deref() == Some(bill.cufe.as_str())
        });
        if !issued {
            return Err(format!("{} ({}) is not issued in the ledger", bill.reference_code, bill.number));
        }
    }
    Ok((ledger, bills))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_server_killed_with_creates_in_flight_reconciles_every_stored_bill_after_restart() {
    const INVOICES: usize = 24;
    let upstream = Upstream::start_on(FACTUS_API).await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let env = sqlite_env(
        &upstream,
        dir.path(),
        &[("FACTUS_TIMEOUT_SECS", "3"), ("LEDGER_RECONCILE_INTERVAL_SECS", "1"), ("LEDGER_STALE_AFTER_SECS", "4")],
    );
    // Every create spends 1.5 s at Factus, so some are in flight at the kill; the first three
    // to reach Factus lose their answer after the bill was stored, so the ledger holds `unknown`
    // entries whose bill exists.
    upstream
        .fault(json!({"kind": "latency", "method": "POST", "path": upstream.route("/v1/bills/validate"), "latency_ms": 1500}))
        .await;
    upstream
        .fault(json!({"kind": "drop_after_commit", "method": "POST", "path": upstream.route("/v1/bills/validate"), "times": 3}))
        .await;
    let mut server = Binary::start(dir.path(), &env).await;
    let api = Api::login(&server.base).await;
    let reference = |index: usize| format!("KILL-{index:03}");
    let key = |index: usize| format!("kill-key-{index:03}");

    // A create starts every 100 ms; the server is killed once Factus stored five bills (the three
    // dropped answers and at least two answered ones) while later creates are still running.
    let started = Arc::new(AtomicUsize::new(0));
    let answered = Arc::new(AtomicUsize::new(0));
    let mut clients = tokio::task::JoinSet::new();
    for index in 0..INVOICES {
        let (api, started, answered) = (api.clone(), Arc::clone(&started), Arc::clone(&answered));
        let (body, key) = (invoice(&reference(index)), key(index));
        clients.spawn(async move {
            tokio::time::sleep(Duration::from_millis(100 * index as u64)).await;
            started.fetch_add(1, Ordering::SeqCst);
            let reply = api.try_create(&body, Some(&key)).await;
            if reply.is_ok() {
                answered.fetch_add(1, Ordering::SeqCst);
            }
            (index, reply)
        });
    }
    let give_up = Instant::now() + Duration::from_secs(20);
    let in_flight = loop {
        let in_flight = started.load(Ordering::SeqCst) - answered.load(Ordering::SeqCst);
        if upstream.bills().await.len() >= 5 && in_flight > 0 {
            break in_flight;
        }
        assert!(Instant::now() < give_up, "Factus never held five bills with creates still in flight");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    server.sigkill().await;
    let mut before_kill = HashMap::new();
    while let Some(client) = clients.join_next().await {
        let (index, reply) = client.expect("a client task");
        if let Ok(reply) = reply {
            before_kill.insert(index, reply);
        }
    }
    let issued_before_kill: HashMap<usize, (String, String)> = before_kill
        .iter()
        .filter(|(_, reply)| reply.status == StatusCode::OK)
        .map(|(index, reply)| (*index, reply.issued()))
        .collect();
    let bills_at_kill = upstream.bills().await.len();

    let server = Binary::start(dir.path(), &env).await;
    let api = Api::login(&server.base).await;
    let right_after_restart = api.ledger().await;
    let unsettled_after_restart = right_after_restart
        .iter()
        .filter(|entry| matches!(field(entry, "state").as_deref(), Some("pending" | "unknown")))
        .count();
    assert!(unsettled_after_restart > 0, "the kill left entries for the reconciler: {right_after_restart:?}");

    let deadline = Instant::now() + Duration::from_secs(30);
    let (ledger, bills) = loop {
        match reconciled(&api, &upstream).await {
            Ok(settled) => break settled,
            Err(_) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(250)).await,
            Err(missing) => panic!("not reconciled within 30 s: {missing}\n--- server output\n{}", server.output()),
        }
    };
    let upstream_refs = bills_by_reference(&bills);
    let recovered = upstream_refs
        .keys()
        .filter(|stored| !issued_before_kill.keys().any(|index| &reference(*index) == *stored))
        .count();
    assert!(recovered >= 3, "bills whose answer the client never got are issued now ({recovered})");
    for (reference, bills) in &upstream_refs {
        assert_eq!(bills.len(), 1, "{reference} has one bill at the sandbox: {bills:?}");
    }
    for (index, (number, _)) in &issued_before_kill {
        let bill = &upstream_refs[&reference(*index)][0];
        assert_eq!(&bill.number, number, "what the client was told before the kill is what Factus holds");
    }
    let states: BTreeMap<String, usize> = ledger.iter().fold(BTreeMap::new(), |mut states, entry| {
        *states.entry(field(entry, "state").unwrap_or_default()).or_insert(0) += 1;
        states
    });
    for entry in &ledger {
        if field(entry, "state").as_deref() == Some("rejected") {
            let reference = field(entry, "reference_code").unwrap_or_default();
            assert!(!upstream_refs.contains_key(&reference), "{reference} marked not issued but Factus holds it");
        }
    }
    println!(
        "kill: {in_flight} creates in flight, {} answered 200 before the kill, {bills_at_kill} bills at the kill; \
         after restart {unsettled_after_restart} entries pending/unknown, reconciled to {states:?} with {} bills \
         ({recovered} of them never answered to the client)",
        issued_before_kill.len(),
        bills.len()
    );

    // Nothing is lost and nothing doubles when the clients come back: every create retried
    // with its key ends issued, once.
    upstream.clear_faults().await;
    for index in 0..INVOICES {
        let reply = api.create(&invoice(&reference(index)), Some(&key(index))).await;
        let (number, _) = reply.issued();
        if let Some(bill) = upstream_refs.get(&reference(index)) {
            assert!(reply.replayed, "{}: a stored bill is replayed", reference(index));
            assert_eq!(number, bill[0].number);
        }
    }
    let bills = upstream.bills().await;
    assert_eq!(bills.len(), INVOICES, "one bill per invoice: {bills:?}");
    assert_eq!(bills_by_reference(&bills).len(), INVOICES, "no reference twice");
    let ledger = api.ledger().await;
    assert!(ledger.iter().all(|entry| field(entry, "state").as_deref() == Some("issued")), "{ledger:?}");
    server.terminate().await;
    upstream.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// The circuit breaker
// ---------------------------------------------------------------------------------------------

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_open_breaker_fails_fast_without_calling_factus_and_a_probe_closes_it_after_recovery() {
    let upstream = Upstream::start_on(FACTUS_API).await;
    let settings = [
        ("FACTUS_BREAKER_CONSECUTIVE_FAILURES", "3"),
        ("FACTUS_BREAKER_FAILURE_RATE_PERCENT", "50"),
        ("FACTUS_BREAKER_WINDOW", "20"),
        ("FACTUS_BREAKER_OPEN_SECS", "1"),
        // One call per request, so each request is one failure for the breaker.
        ("FACTUS_RETRY_MAX_ATTEMPTS", "1"),
    ];
    let (_dir, service) = on_sqlite(&upstream, &settings).await;
    let api = &service.api;
    let (number, _) = api.create(&invoice("BREAKER-001"), None).await.issued();
    let show = format!("/invoices/{number}");
    assert_eq!(api.circuit().await, "closed");

    // Factus answers 503 to everything.
    upstream.fault(json!({"kind": "status", "status": 503, "path": upstream.route("/v1/")})).await;
    let shows_before = upstream.count(&upstream.route("GET /v1/bills/show/{number}")).await;
    for _ in 0..3 {
        assert_eq!(api.get(&show).await.status, StatusCode::SERVICE_UNAVAILABLE);
    }
    let opened_at = Instant::now();
    assert_eq!(upstream.count(&upstream.route("GET /v1/bills/show/{number}")).await, shows_before + 3, "three real failures");
    assert_eq!(api.circuit().await, "open");

    let calls_while_open = upstream.total_requests().await;
    let mut samples = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        let reply = api.get(&show).await;
        samples.push(started.elapsed());
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(reply.detail(), "Error al obtener la factura: Factus no está disponible");
    }
    let create = api.create(&invoice("BREAKER-002"), None).await;
    assert_eq!(create.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(create.detail(), "Error al crear la factura: Factus no está disponible");
    let open_phase = opened_at.elapsed();
    assert_eq!(upstream.total_requests().await, calls_while_open, "the sandbox saw no call while open");
    let (fastest, typical, slowest) = (samples.iter().min().copied(), median(samples.clone()), samples.iter().max());
    println!("breaker open: 20 refusals, fastest {fastest:?}, median {typical:?}, slowest {slowest:?}");
    assert!(
        open_phase < Duration::from_secs(1),
        "the open phase must fit in FACTUS_BREAKER_OPEN_SECS to prove anything ({open_phase:?})"
    );
    // How fast a refusal is belongs in the benchmark (docs/benchmarks.md), not in an assertion that
    // a loaded CI machine can break: what this test proves is that no call reached Factus.

    // Factus recovers; past the open interval one probe goes through and closes the breaker.
    upstream.clear_faults().await;
    tokio::time::sleep(Duration::from_secs(1).saturating_sub(opened_at.elapsed()) + Duration::from_millis(200)).await;
    assert_eq!(api.circuit().await, "half_open");
    let probe = api.get(&show).await;
    assert_eq!(probe.status, StatusCode::OK, "the probe succeeds: {}", probe.text);
    assert_eq!(api.circuit().await, "closed");
    // The create refused while open never reached Factus, so it is simply issued now.
    let retried = api.create(&invoice("BREAKER-002"), None).await;
    retried.issued();
    assert!(!retried.replayed);
    assert_eq!(upstream.bills().await.len(), 2);
    service.stop().await;
    upstream.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Retries: reads yes, creates never
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_get_survives_a_factus_that_fails_twice_then_succeeds() {
    let upstream = Upstream::start_on(FACTUS_API).await;
    let (_dir, service) = on_sqlite(&upstream, &[]).await;
    let (number, cufe) = service.api.create(&invoice("GET-RETRY-001"), None).await.issued();
    upstream.reset_requests().await;
    upstream
        .fault(json!({"kind": "status", "status": 503, "method": "GET", "path": upstream.route("/v1/bills/show"), "times": 2}))
        .await;

    let reply = service.api.get(&format!("/invoices/{number}")).await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json()["message"], "Factura obtenida exitosamente");
    // Factus' document is passed through as it is: v1 wraps the bill in `bill`, v2 does not.
    let document = &reply.json()["data"]["data"];
    let shown = if FACTUS_API == factus_sandbox::ApiVersion::V2 { &document["cufe"] } else { &document["bill"]["cufe"] };
    assert_eq!(shown, cufe.as_str());
    assert_eq!(upstream.count(&upstream.route("GET /v1/bills/show/{number}")).await, 3, "two failures, then the success");
    service.stop().await;
    upstream.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_reaches_factus_once_even_when_factus_answers_503() {
    let upstream = Upstream::start_on(FACTUS_API).await;
    let (_dir, service) = on_sqlite(&upstream, &[]).await;
    let api = &service.api;
    upstream
        .fault(json!({"kind": "status", "status": 503, "method": "POST", "path": upstream.route("/v1/bills/validate"), "times": 1}))
        .await;
    let body = invoice("CREATE-ONCE-001");

    let reply = api.create(&body, Some("create-once-001")).await;

    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{}", reply.text);
    assert_eq!(upstream.count(&upstream.route(VALIDATE)).await, 1, "the create was not retried");
    assert!(upstream.bills().await.is_empty());
    let ledger = api.ledger().await;
    assert_eq!(field(&ledger[0], "state").as_deref(), Some("unknown"), "a 5xx is ambiguous: {ledger:?}");

    // The client's retry looks the reference up first; Factus has no bill, so it is sent again.
    let retried = api.create(&body, Some("create-once-001")).await;
    let (number, _) = retried.issued();
    assert!(!retried.replayed);
    assert_eq!(upstream.count(&upstream.route(LIST)).await, 1, "looked up before resending");
    assert_eq!(upstream.count(&upstream.route(VALIDATE)).await, 2);
    let bills = upstream.bills().await;
    assert_eq!((bills.len(), bills[0].number.as_str()), (1, number.as_str()));
    service.stop().await;
    upstream.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// The reconciliation lookup
// ---------------------------------------------------------------------------------------------

/// Factus' `filter[reference_code]` matches partially (the sandbox does as spatie's
/// `AllowedFilter::partial`) and pages by 10, newest first: `PFX-1` also matches `PFX-10` …
/// `PFX-19`. An ambiguous `PFX-1` must still be found once ten of those were issued after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bill_whose_reference_is_part_of_ten_newer_references_is_found_after_an_ambiguous_failure() {
    let upstream = Upstream::start_on(FACTUS_API).await;
    let (_dir, service) = on_sqlite(&upstream, &[]).await;
    let api = &service.api;
    upstream
        .fault(json!({"kind": "drop_after_commit", "method": "POST", "path": upstream.route("/v1/bills/validate"), "times": 1}))
        .await;
    let body = invoice("PFX-1");
    let lost = api.create(&body, Some("pfx-1")).await;
    assert_eq!(lost.status, StatusCode::SERVICE_UNAVAILABLE, "the answer was lost: {}", lost.text);
    for suffix in 0..10 {
        api.create(&invoice(&format!("PFX-1{suffix}")), None).await.issued();
    }

    let retried = api.create(&body, Some("pfx-1")).await;

    let stored: Vec<_> = upstream.bills().await.into_iter().filter(|bill| bill.reference_code == "PFX-1").collect();
    assert_eq!(stored.len(), 1, "PFX-1 was stored once: {stored:?}");
    assert_eq!(retried.status, StatusCode::OK, "the retry finds the stored bill: {}", retried.text);
    assert!(retried.replayed);
    assert_eq!(retried.issued(), (stored[0].number.clone(), stored[0].cufe.clone()));
    let entry = api.ledger().await.into_iter().find(|entry| field(entry, "reference_code").as_deref() == Some("PFX-1"));
    assert_eq!(entry.and_then(|entry| field(&entry, "state")).as_deref(), Some("issued"));
    service.stop().await;
    upstream.shutdown().await;
}

/// The same lookup in the background: an `unknown` entry nobody comes back for is reconciled
/// by the server; its bill must be recorded, not declared "not issued at Factus".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reconciler_finds_a_bill_whose_reference_is_part_of_ten_newer_references() {
    let upstream = Upstream::start_on(FACTUS_API).await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let settings = [("FACTUS_TIMEOUT_SECS", "1"), ("LEDGER_STALE_AFTER_SECS", "2"), ("LEDGER_RECONCILE_INTERVAL_SECS", "1")];
    let service = InProcess::start_with_reconciler(&sqlite_env(&upstream, dir.path(), &settings)).await;
    let api = &service.api;
    upstream
        .fault(json!({"kind": "drop_after_commit", "method": "POST", "path": upstream.route("/v1/bills/validate"), "times": 1}))
        .await;
    let lost = api.create(&invoice("BG-1"), Some("bg-1")).await;
    assert_eq!(lost.status, StatusCode::SERVICE_UNAVAILABLE, "the answer was lost: {}", lost.text);
    for suffix in 0..10 {
        api.create(&invoice(&format!("BG-1{suffix}")), None).await.issued();
    }

    let deadline = Instant::now() + Duration::from_secs(15);
    let entry = loop {
        let entry =
            api.ledger().await.into_iter().find(|entry| field(entry, "reference_code").as_deref() == Some("BG-1"));
        let entry = entry.expect("the entry of BG-1");
        if field(&entry, "state").as_deref() != Some("unknown") {
            break entry;
        }
        assert!(Instant::now() < deadline, "BG-1 was never reconciled: {entry}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    let stored: Vec<_> = upstream.bills().await.into_iter().filter(|bill| bill.reference_code == "BG-1").collect();
    assert_eq!(stored.len(), 1, "BG-1 was stored once: {stored:?}");
    assert_eq!(
        (field(&entry, "state"), field(&entry, "number")),
        (Some("issued".to_owned()), Some(stored[0].number.clone())),
        "the ledger records the bill Factus holds: {entry}"
    );
    service.stop().await;
    upstream.shutdown().await;
}
