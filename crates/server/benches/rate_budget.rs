//! A lunch rush against Factus' real rate limit (docs/benchmarks.md, "Rate budget").
//!
//! Run: `cargo bench -p factus-server --bench rate_budget` (release build). The sandbox limits the
//! account to 80 calls per 60 s window, as Factus does; two instances of the service share one
//! Postgres (one instance on SQLite without a Postgres server) with `FACTUS_RATE_LIMIT=80`,
//! `FACTUS_RATE_WINDOW_SECS=60` and the default `FACTUS_QUEUE_WAIT_SECS` (10). 16 clients send 400
//! creates with distinct references within 10 s (each client one every 400 ms, without waiting for
//! the answers); a create answered 202 Accepted is followed by its `Location` until it is issued,
//! once a second, as a till would.
//!
//! Printed: the calls the sandbox received per client request, the time until the last invoice
//! was issued (the limit is 5 minutes), what the clients got (200 or 202, nothing else), the most
//! calls that arrived at the sandbox within any 60 s, and the 429s it answered. The run fails when
//! a client saw anything but 200 or 202, an entry did not end issued, a bill is missing or
//! doubled, or the sandbox saw more than 80 calls within 60 s.
//!
//! With `--cold` the rush hits instances that have just started (no Factus session yet); by
//! default they served before it (the session held) and were quiet for the last window.
//!
//! Without `--bench` (for example `cargo test --benches`) it is 32 creates against 10 calls per
//! 2 s with a 1 s queue wait, as a smoke test.

#[path = "../tests/support_exactly_once/mod.rs"]
mod support_exactly_once;

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use factus_infrastructure::testing::TestDatabase;
use factus_sandbox::SandboxConfig;
use support_exactly_once::{InProcess, Upstream, invoice, most_in_any_window};

const CLIENTS: usize = 16;

/// What one client saw of one create.
struct Answer {
    /// The create's HTTP status (0: no answer).
    status: u16,
    /// The entry's state once settled: at once for a 200, by its `Location` for a 202.
    final_state: Option<String>,
    /// When the client knew its invoice was issued (or gave up), since the rush started.
    issued_after: Duration,
}

struct Plan {
    creates: usize,
    limit: u32,
    window: Duration,
    /// All creates are sent within this.
    spread: Duration,
    /// `FACTUS_QUEUE_WAIT_SECS`.
    queue_wait: Duration,
    /// The rush hits instances that have just started (their first create asks Factus for a
    /// token) instead of instances that served before and were quiet for the last window.
    cold: bool,
}

fn main() {
    let full = std::env::args().any(|argument| argument == "--bench");
    let cold = std::env::args().any(|argument| argument == "--cold");
    let plan = if full {
        Plan {
            creates: 400,
            limit: 80,
            window: Duration::from_secs(60),
            spread: Duration::from_secs(10),
            queue_wait: Duration::from_secs(10),
            cold,
        }
    } else {
        Plan {
            creates: 40,
            limit: 10,
            window: Duration::from_secs(2),
            spread: Duration::from_secs(1),
            queue_wait: Duration::from_secs(1),
            cold,
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    runtime.block_on(rush(&plan));
}

async fn rush(plan: &Plan) {
    let upstream = Upstream::start_with(SandboxConfig {
        rate_limit: Some(plan.limit),
        rate_window: plan.window,
        ..SandboxConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let postgres = TestDatabase::postgres_or_skip("bench rate_budget").await;
    let database_url = match &postgres {
        Some(database) => database.url().to_owned(),
        None => format!("sqlite://{}", dir.path().join("factus-api.db").display()),
    };
    let mut env = upstream.service_env(&database_url);
    env.insert("FACTUS_RATE_LIMIT", plan.limit.to_string());
    env.insert("FACTUS_RATE_WINDOW_SECS", plan.window.as_secs().to_string());
    env.insert("FACTUS_QUEUE_WAIT_SECS", plan.queue_wait.as_secs().to_string());
    env.insert("FACTUS_TIMEOUT_SECS", "30".to_owned());
    let mut instances = vec![InProcess::start(&env).await];
    if postgres.is_some() {
        instances.push(InProcess::start(&env).await);
    }
    let apis: Vec<_> = instances.iter().map(|instance| instance.api.clone()).collect();
    if !plan.cold {
        // Instances that served before the rush hold their Factus session; the last window
        // before it was quiet. (Every call within the rush's windows counts: 400 creates are
        // exactly five windows of 80, so one more call, a token grant, adds a sixth.)
        for api in &apis {
            let reply = api.get("/lookups/numbering-ranges").await;
            assert_eq!(reply.status.as_u16(), 200, "warming the session: {}", reply.text);
        }
        tokio::time::sleep(plan.window).await;
    }
    upstream.reset_requests().await;

    let started = Instant::now();
    let per_client = plan.creates / CLIENTS;
    let pace = plan.spread / u32::try_from(per_client.max(1)).unwrap_or(1);
    let mut clients = Vec::new();
    for client in 0..CLIENTS {
        let api = apis[client % apis.len()].clone();
        clients.push(tokio::spawn(async move {
            let mut sent = Vec::new();
            for index in 0..per_client {
                let api = api.clone();
                let reference = format!("RUSH-{client:02}-{index:03}");
                sent.push(tokio::spawn(async move {
                    let reply = match api.try_create(&invoice(&reference), Some(&reference)).await {
                        Ok(reply) => reply,
                        Err(_) => return Answer { status: 0, final_state: None, issued_after: started.elapsed() },
                    };
                    let final_state = match (reply.status.as_u16(), &reply.location) {
                        (202, Some(location)) => {
                            // As a till would: once a second (a webhook would spare even that).
                            let entry =
                                api.follow_every(location, Duration::from_secs(330), Duration::from_secs(1)).await;
                            entry["state"].as_str().map(str::to_owned)
                        }
                        (200, _) => Some("issued".to_owned()),
                        _ => None,
                    };
                    Answer { status: reply.status.as_u16(), final_state, issued_after: started.elapsed() }
                }));
                tokio::time::sleep(pace).await;
            }
            let mut answers = Vec::new();
            for create in sent {
                answers.push(create.await.expect("a create task"));
            }
            answers
        }));
    }
    let mut answers = Vec::new();
    for client in clients {
        answers.extend(client.await.expect("a client task"));
    }
    let last_issued = answers.iter().map(|answer| answer.issued_after).max().unwrap_or_default();

    let calls = upstream.factus_calls().await;
    let mut by_route = BTreeMap::new();
    for call in &calls {
        *by_route.entry(call["route"].as_str().unwrap_or("?").to_owned()).or_insert(0_usize) += 1;
    }
    let busiest = most_in_any_window(&calls, plan.window);
    let refused = calls.iter().filter(|call| call["status"] == 429).count();
    let mut by_status = BTreeMap::new();
    let mut by_final_state = BTreeMap::new();
    for answer in &answers {
        *by_status.entry(answer.status).or_insert(0_usize) += 1;
        *by_final_state.entry(answer.final_state.clone().unwrap_or_else(|| "none".to_owned())).or_insert(0_usize) += 1;
    }
    let bills = upstream.bills().await;
    let references: HashSet<&str> = bills.iter().map(|bill| bill.reference_code.as_str()).collect();
    let sent = answers.len();
    #[allow(clippy::cast_precision_loss)]
    let calls_per_request = calls.len() as f64 / sent.max(1) as f64;
    println!(
        "rate budget ({} instance(s), {}, {}): {sent} creates from {CLIENTS} clients within {:?}, limit {} per {:?}\n  \
         client answers by status: {by_status:?}, entries by final state: {by_final_state:?}\n  upstream calls: {} ({calls_per_request:.3} per client request), \
         at most {busiest} within any {:?}, {refused} × 429\n  upstream calls by route: {by_route:?}\n  last invoice issued after {last_issued:.1?}\n  \
         sandbox bills: {} ({} references)",
        instances.len(),
        if postgres.is_some() { "one Postgres" } else { "SQLite" },
        if plan.cold { "cold: started just before the rush" } else { "warm: quiet for a window before the rush" },
        plan.spread,
        plan.limit,
        plan.window,
        calls.len(),
        plan.window,
        bills.len(),
        references.len(),
    );
    for instance in instances {
        instance.stop().await;
    }
    upstream.shutdown().await;
    if let Some(database) = postgres {
        database.drop_database().await;
    }
    let answered = by_status.get(&200).unwrap_or(&0) + by_status.get(&202).unwrap_or(&0);
    assert_eq!(answered, sent, "every client got its bill or its place in the queue");
    assert_eq!(by_final_state.get("issued"), Some(&sent), "every create ended issued");
    assert_eq!((bills.len(), references.len()), (sent, sent), "one bill per create");
    assert!(busiest <= plan.limit as usize, "{busiest} calls within {:?}", plan.window);
    assert!(last_issued <= Duration::from_secs(300), "within 5 minutes");
}
