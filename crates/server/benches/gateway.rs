//! Benchmark of the gateway (`docs/benchmarks.md`, "Gateway (invoices and lookups)"): the same
//! load through the service and straight at the sandbox, in one run, on the same machine.
//!
//! Run: `cargo bench -p factus-server --bench gateway` (release build). In one process it starts
//! the Factus sandbox and the real application (`app::run`: a fresh SQLite file, served
//! on 127.0.0.1:0, server-session mode so clients need no `X-Factus-Token`), then drives, with
//! 64 concurrent keep-alive connections for 10 s each (after a 2 s warm-up):
//!
//! | scenario | request |
//! |---|---|
//! | direct  GET  | `GET /v1/numbering-ranges` at the sandbox (sandbox bearer token) |
//! | gateway GET  | `GET /api/v1/lookups/numbering-ranges` at the service (local JWT) |
//! | direct  POST | `POST /v1/bills/validate` at the sandbox, a unique `reference_code` each |
//! | gateway POST | `POST /api/v1/invoices` at the service, a unique `reference_code` each |
//!
//! and then again with ONE connection for 3 s each (latency at rest: what the gateway adds to a
//! request when nothing queues), and prints requests/s, p50/p99 latency, the gateway's added
//! p50, the throughput ratio, and the process's peak RSS (`VmHWM`). The load generator, the sandbox and the service share this
//! process and the machine's cores, so the RSS here is NOT the gateway's alone — for that, see
//! `scripts/bench-gateway.sh`, which runs `factus-api` as its own process under `wrk`.
//!
//! The service above runs with its lookup cache off (`FACTUS_NUMBERING_RANGE_CACHE_SECS=0`), so
//! that "gateway GET" is a Factus call through the gateway. A second service on the same sandbox,
//! with the cache on (the default 30 s), then serves the same GET for the same time: the last
//! table sets the two side by side with the Factus calls each made per client request
//! (`docs/benchmarks.md`, "Lookup cache").
//!
//! `GATEWAY_BENCH_SECS` and `GATEWAY_BENCH_CONNECTIONS` override the duration and concurrency.
//! Without `--bench` (for example `cargo test --benches`) everything runs once, briefly, as a
//! smoke test.

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use factus_sandbox::{
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_PASSWORD, DEFAULT_USERNAME, Sandbox, SandboxConfig,
};
use factus_server::app::{self, BuildOptions};
use factus_server::config::Config;
use reqwest::Method;
use serde_json::{Value, json};

const SECRET_KEY: &str = "gateway-benchmark-secret-key-0123456789";
const ADMIN_PASSWORD: &str = "gateway-benchmark-admin-password";

fn main() {
    let full = std::env::args().any(|argument| argument == "--bench");
    let setting = |name: &str, full_value: u64, smoke_value: u64| {
        std::env::var(name).ok().and_then(|value| value.parse().ok()).unwrap_or(if full {
            full_value
        } else {
            smoke_value
        })
    };
    let plan = Plan {
        measure: Duration::from_secs(setting("GATEWAY_BENCH_SECS", 10, 1)),
        warm_up: if full { Duration::from_secs(2) } else { Duration::from_millis(200) },
        connections: usize::try_from(setting("GATEWAY_BENCH_CONNECTIONS", 64, 8)).expect("a connection count"),
        at_rest: if full { Duration::from_secs(3) } else { Duration::from_millis(200) },
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    runtime.block_on(run(plan));
}

#[derive(Debug, Clone, Copy)]
struct Plan {
    measure: Duration,
    warm_up: Duration,
    connections: usize,
    /// How long each one-connection run lasts.
    at_rest: Duration,
}

/// One kind of request, as the load generator sends it.
#[derive(Clone)]
struct Scenario {
    name: &'static str,
    method: Method,
    url: String,
    bearer: String,
    /// Builds the JSON body of request `n` (unique reference codes), if the request has one.
    body: Option<fn(&str, u64) -> Value>,
    /// Keeps references unique across scenarios and warm-ups.
    tag: String,
}

/// What one measured run saw.
#[derive(Debug)]
struct Stats {
    ok: u64,
    failed: u64,
    first_failure: Option<String>,
    elapsed: Duration,
    /// Latencies of the successful requests, sorted, in microseconds.
    latencies: Vec<u32>,
}

impl Stats {
    fn per_second(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile_ms(&self, percent: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let rank = ((percent / 100.0) * self.latencies.len() as f64).ceil() as usize;
        f64::from(self.latencies[rank.clamp(1, self.latencies.len()) - 1]) / 1000.0
    }
}

/// Starts the service in front of `sandbox` on a fresh SQLite file in `dir`, with the numbering
/// ranges kept `cache_secs` (0: every lookup is a Factus call); its base URL and stop handle.
async fn start_service(
    sandbox: &Sandbox,
    dir: &std::path::Path,
    cache_secs: u64,
) -> (String, tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<anyhow::Result<()>>) {
    let variables: HashMap<&str, String> = HashMap::from([
        ("DATABASE_URL", format!("sqlite://{}", dir.join("factus-api.db").display())),
        ("SECRET_KEY", SECRET_KEY.to_owned()),
        ("SHUTDOWN_GRACE_SECS", "5".to_owned()),
        ("ADMIN_PASSWORD", ADMIN_PASSWORD.to_owned()),
        ("FACTUS_BASE_URL", sandbox.base_url()),
        ("FACTUS_CLIENT_ID", DEFAULT_CLIENT_ID.to_owned()),
        ("FACTUS_CLIENT_SECRET", DEFAULT_CLIENT_SECRET.to_owned()),
        ("FACTUS_USERNAME", DEFAULT_USERNAME.to_owned()),
        ("FACTUS_PASSWORD", DEFAULT_PASSWORD.to_owned()),
        ("FACTUS_NUMBERING_RANGE_CACHE_SECS", cache_secs.to_string()),
        // What the gateway costs per request, not Factus' 80 a minute (benches/rate_budget.rs);
        // a one-second window, so that the budget's log stays as short as Factus' limit keeps it
        // (scripts/bench-gateway.sh says why).
        ("FACTUS_RATE_LIMIT", "100000000".to_owned()),
        ("FACTUS_RATE_WINDOW_SECS", "1".to_owned()),
    ]);
    let config = Config::from_lookup(|name| variables.get(name).cloned()).expect("a valid configuration");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let gateway = format!("http://{}", listener.local_addr().expect("a local address"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app::run(config, BuildOptions::default(), listener, async move {
        let _ = stopped.await;
    }));
    (gateway, stop, server)
}

async fn run(plan: Plan) {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.expect("the sandbox starts");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (gateway, stop, server) = start_service(&sandbox, dir.path(), 0).await;
    let rss_at_start = memory("VmRSS");

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(plan.connections)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client");
    let local_token = local_login(&client, &gateway).await;
    let sandbox_token = sandbox_login(&client, &sandbox.base_url()).await;

    let scenario = |name, method, url: String, bearer: &str, body| Scenario {
        name,
        method,
        url,
        bearer: bearer.to_owned(),
        body,
        tag: String::new(),
    };
    let direct_get = scenario(
        "direct  GET  /v1/numbering-ranges",
        Method::GET,
        format!("{}/v1/numbering-ranges", sandbox.base_url()),
        &sandbox_token,
        None,
    );
    let gateway_get = scenario(
        "gateway GET  /api/v1/lookups/numbering-ranges",
        Method::GET,
        format!("{gateway}/api/v1/lookups/numbering-ranges"),
        &local_token,
        None,
    );
    let direct_post = scenario(
        "direct  POST /v1/bills/validate",
        Method::POST,
        format!("{}/v1/bills/validate", sandbox.base_url()),
        &sandbox_token,
        Some(invoice),
    );
    let gateway_post = scenario(
        "gateway POST /api/v1/invoices",
        Method::POST,
        format!("{gateway}/api/v1/invoices"),
        &local_token,
        Some(invoice),
    );

    println!(
        "gateway benchmark: {} connections, {:?} per scenario after a {:?} warm-up, {} cores shared by the load \
         generator, the sandbox and the gateway (one process)",
        plan.connections,
        plan.measure,
        plan.warm_up,
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get),
    );
    let mut results = Vec::new();
    let mut at_rest = Vec::new();
    for pair in [[direct_get, gateway_get], [direct_post, gateway_post]] {
        let mut measured = Vec::new();
        let mut resting = Vec::new();
        for scenario in pair {
            // Each create scenario starts from an empty sandbox, so neither pays for the other's bills.
            if scenario.body.is_some() {
                reset_sandbox(&client, &sandbox.base_url()).await;
            }
            let mut warm = scenario.clone();
            warm.tag = format!("{}-warm", short_name(&warm));
            drive(&client, &warm, plan.warm_up, plan.connections).await;
            let mut hot = scenario.clone();
            hot.tag = short_name(&hot);
            let stats = drive(&client, &hot, plan.measure, plan.connections).await;
            print_stats(&format!("{} ({} conn)", scenario.name, plan.connections), &stats);
            measured.push(stats);
            let mut alone = scenario.clone();
            alone.tag = format!("{}-alone", short_name(&alone));
            let stats = drive(&client, &alone, plan.at_rest, 1).await;
            print_stats(&format!("{} (1 conn)", scenario.name), &stats);
            resting.push(stats);
        }
        results.push(measured);
        at_rest.push(resting);
    }

    println!();
    println!("| endpoint | direct req/s | gateway req/s | ratio | direct p50 / p99 | gateway p50 / p99 | added p50 |");
    println!("|---|---|---|---|---|---|---|");
    for (label, measured) in ["GET numbering-ranges", "POST create invoice"].iter().zip(&results) {
        let (direct, through) = (&measured[0], &measured[1]);
        println!(
            "| {label} | {:.0} | {:.0} | {:.0} % | {} |",
            direct.per_second(),
            through.per_second(),
            100.0 * through.per_second() / direct.per_second(),
            latency_columns(direct, through),
        );
    }
    println!();
    println!("| endpoint, one connection | direct p50 / p99 | gateway p50 / p99 | added p50 |");
    println!("|---|---|---|---|");
    for (label, measured) in ["GET numbering-ranges", "POST create invoice"].iter().zip(&at_rest) {
        let (direct, through) = (&measured[0], &measured[1]);
        println!("| {label} | {} |", latency_columns(direct, through));
    }
    println!();
    println!(
        "process RSS: {} at start (sandbox + service idle), peak {} (VmHWM: sandbox + service + load generator)",
        rss_at_start,
        memory("VmHWM"),
    );
    let mut failures: u64 = results.iter().chain(&at_rest).flatten().map(|stats| stats.failed).sum();

    // The same lookup through a service that keeps it, side by side with the one above.
    let cached_dir = tempfile::tempdir().expect("a temporary directory");
    let (cached_gateway, cached_stop, cached_server) = start_service(&sandbox, cached_dir.path(), 30).await;
    let cached_token = local_login(&client, &cached_gateway).await;
    let mut lookups = Vec::new();
    for (label, url, token) in [
        ("cache off", format!("{gateway}/api/v1/lookups/numbering-ranges"), &local_token),
        ("cache on (30 s)", format!("{cached_gateway}/api/v1/lookups/numbering-ranges"), &cached_token),
    ] {
        let lookup = scenario("gateway GET  /api/v1/lookups/numbering-ranges", Method::GET, url, token, None);
        let calls_before = upstream_calls(&client, &sandbox.base_url(), "GET /v1/numbering-ranges").await;
        let stats = drive(&client, &lookup, plan.measure, plan.connections).await;
        let calls = upstream_calls(&client, &sandbox.base_url(), "GET /v1/numbering-ranges").await - calls_before;
        print_stats(&format!("{} ({label})", lookup.name), &stats);
        failures += stats.failed;
        lookups.push((label, stats, calls));
    }
    println!();
    println!("| numbering-ranges lookup, {} conn | req/s | p50 / p99 | Factus calls per request |", plan.connections);
    println!("|---|---|---|---|");
    for (label, stats, calls) in &lookups {
        println!(
            "| {label} | {:.0} | {:.2} / {:.2} ms | {:.4} ({calls} for {}) |",
            stats.per_second(),
            stats.percentile_ms(50.0),
            stats.percentile_ms(99.0),
            *calls as f64 / stats.ok.max(1) as f64,
            stats.ok,
        );
    }

    let _ = cached_stop.send(());
    let _ = cached_server.await;
    let _ = stop.send(());
    let _ = server.await;
    sandbox.shutdown().await;
    assert_eq!(failures, 0, "some requests failed (see above)");
}

fn short_name(scenario: &Scenario) -> String {
    scenario.name.split_whitespace().take(2).collect::<Vec<_>>().join("-")
}

/// Runs `connections` workers, each sending one request after the other, for `duration`.
async fn drive(client: &reqwest::Client, scenario: &Scenario, duration: Duration, connections: usize) -> Stats {
    let counter = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let client = client.clone();
        let scenario = scenario.clone();
        let counter = counter.clone();
        workers.spawn(async move {
            let mut latencies = Vec::with_capacity(64 * 1024);
            let mut failed = 0_u64;
            let mut first_failure = None;
            while Instant::now() < deadline {
                let mut request = client.request(scenario.method.clone(), &scenario.url).bearer_auth(&scenario.bearer);
                if let Some(body) = scenario.body {
                    request = request.json(&body(&scenario.tag, counter.fetch_add(1, Ordering::Relaxed)));
                }
                let sent = Instant::now();
                let outcome = match request.send().await {
                    Ok(response) => {
                        let status = response.status();
                        match response.bytes().await {
                            Ok(_) if status.is_success() => Ok(()),
                            Ok(body) => Err(format!("{status}: {}", String::from_utf8_lossy(&body))),
                            Err(error) => Err(error.to_string()),
                        }
                    }
                    Err(error) => Err(error.to_string()),
                };
                match outcome {
                    Ok(()) => latencies.push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX)),
                    Err(failure) => {
                        failed += 1;
                        first_failure.get_or_insert(failure);
                    }
                }
            }
            (latencies, failed, first_failure)
        });
    }
    let mut stats = Stats { ok: 0, failed: 0, first_failure: None, elapsed: Duration::ZERO, latencies: Vec::new() };
    while let Some(joined) = workers.join_next().await {
        let (latencies, failed, first_failure) = joined.expect("a worker finished");
        stats.ok += latencies.len() as u64;
        stats.failed += failed;
        stats.latencies.extend(latencies);
        if stats.first_failure.is_none() {
            stats.first_failure = first_failure;
        }
    }
    stats.elapsed = started.elapsed();
    stats.latencies.sort_unstable();
    stats
}

fn print_stats(name: &str, stats: &Stats) {
    println!(
        "{name:<58} {:>9.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  ({} ok, {} failed in {:.1} s)",
        stats.per_second(),
        stats.percentile_ms(50.0),
        stats.percentile_ms(99.0),
        stats.ok,
        stats.failed,
        stats.elapsed.as_secs_f64(),
    );
    if let Some(failure) = &stats.first_failure {
        println!("    first failure: {failure:.300}");
    }
}

/// The invoice of the benchmark: two lines, a natural person, a unique reference.
fn invoice(tag: &str, n: u64) -> Value {
    json!({
        "numbering_range_id": 8,
        "reference_code": format!("BENCH-{tag}-{n}"),
        "payment_form": "1",
        "payment_method_code": "10",
        "customer": {
            "identification_document_id": 3, "identification": "1234567890", "names": "Cliente de prueba",
            "email": "cliente@example.com", "legal_organization_id": 2, "tribute_id": 21, "municipality_id": 169
        },
        "items": [
            {
                "code_reference": "P-1", "name": "Producto", "quantity": 2, "discount_rate": "0.00",
                "price": "100.50", "tax_rate": "19.00", "unit_measure_id": 70, "standard_code_id": 1,
                "is_excluded": 0, "tribute_id": 1
            },
            {
                "code_reference": "P-2", "name": "Servicio", "quantity": 1, "discount_rate": "10.00",
                "price": "50000.00", "tax_rate": "5.00", "unit_measure_id": 70, "standard_code_id": 1,
                "is_excluded": 0, "tribute_id": 1
            }
        ]
    })
}

/// The table's `direct p50 / p99 | gateway p50 / p99 | added p50` columns.
fn latency_columns(direct: &Stats, through: &Stats) -> String {
    format!(
        "{:.2} / {:.2} ms | {:.2} / {:.2} ms | {:+.2} ms",
        direct.percentile_ms(50.0),
        direct.percentile_ms(99.0),
        through.percentile_ms(50.0),
        through.percentile_ms(99.0),
        through.percentile_ms(50.0) - direct.percentile_ms(50.0),
    )
}

async fn local_login(client: &reqwest::Client, gateway: &str) -> String {
    support::login(client, &format!("{gateway}/api/v1"), "admin", ADMIN_PASSWORD).await
}

async fn sandbox_login(client: &reqwest::Client, sandbox: &str) -> String {
    let response = client
        .post(format!("{sandbox}/oauth/token"))
        .form(&factus_sandbox::DEFAULT_PASSWORD_GRANT)
        .send()
        .await
        .expect("a sandbox token");
    let body: Value = response.json().await.expect("a JSON body");
    body["access_token"].as_str().expect("an access token").to_owned()
}

/// Calls the sandbox has answered on `route` (`GET /__sandbox/requests`).
async fn upstream_calls(client: &reqwest::Client, sandbox: &str, route: &str) -> u64 {
    let counts: Value = client
        .get(format!("{sandbox}/__sandbox/requests"))
        .send()
        .await
        .expect("the counts")
        .json()
        .await
        .expect("JSON");
    counts[route].as_u64().unwrap_or(0)
}

async fn reset_sandbox(client: &reqwest::Client, sandbox: &str) {
    let response = client.post(format!("{sandbox}/__sandbox/reset")).send().await.expect("a sandbox reset");
    assert!(response.status().is_success(), "sandbox reset: {}", response.status());
}

/// A line of `/proc/self/status` (`VmRSS`, `VmHWM`), e.g. `23456 kB`; `n/a` off Linux.
fn memory(field: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| line.strip_prefix(field)?.strip_prefix(':').map(|v| v.trim().to_owned()))
        })
        .unwrap_or_else(|| "n/a".to_owned())
}
