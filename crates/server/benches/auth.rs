//! Benchmarks of the authentication foundation (`docs/benchmarks.md`, "Foundation (auth)").
//!
//! Run: `cargo bench -p factus-server --bench auth` (release build). It reports
//! - with criterion: HS256 JWT verification (`JwtTokenService::verify`), and argon2id
//!   verification with the OWASP parameters through the real `Argon2Hasher` (spawn_blocking and
//!   its semaphore included);
//! - end to end, against the real application served in-process on 127.0.0.1:0 with a fresh
//!   SQLite file: `/api/v1/auth/me` throughput with concurrent clients (user cache on and off),
//!   and `/api/v1/health` latency (p50/p99) while 200 logins (200 users from 20 client
//!   addresses, all with the right password) run at once.
//!
//! The end-to-end clients run in the same process and on the same cores as the server, so the
//! throughput figures are a floor for what a separate load generator would see.
//!
//! Without `--bench` (for example `cargo test --benches`), everything runs once, briefly, as a
//! smoke test. A filter argument runs only the criterion benchmarks it matches; the end-to-end
//! part runs when there is no filter or the filter is `end_to_end`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::Criterion;
use factus_application::ports::{PasswordHasher as _, TokenService as _};
use factus_domain::user::{NewPassword, Role, Username};
use factus_infrastructure::jwt::JwtTokenService;
use factus_infrastructure::password::Argon2Hasher;
use factus_server::app;
use factus_server::config::Config;
use secrecy::SecretString;

const SECRET_KEY: &str = "benchmark-secret-key-0123456789abcdef";
const ADMIN_PASSWORD: &str = "benchmark-admin-password";
/// The password of the users of the login flood.
const FLOOD_PASSWORD: &str = "benchmark-user-password";
/// The flood comes from this many client addresses (127.0.0.2, 127.0.0.3, …), so that it looks
/// like many users rather than one address hammering: each address stays well under the
/// throttle's 20 attempts per window, which in-flight attempts count towards.
const FLOOD_ADDRESSES: usize = 20;

fn flood_username(index: usize) -> String {
    format!("user{index:03}")
}

fn main() {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let full = arguments.iter().any(|argument| argument == "--bench");
    let filters: Vec<&String> = arguments.iter().filter(|argument| !argument.starts_with('-')).collect();

    let mut criterion = Criterion::default().configure_from_args();
    token_verification(&mut criterion);
    password_verification(&mut criterion);
    criterion.final_summary();

    if filters.is_empty() || filters.iter().any(|filter| "end_to_end".contains(filter.as_str())) {
        end_to_end(if full { Effort::Full } else { Effort::Smoke });
    }
}

// ---------------------------------------------------------------------------------------------
// Micro-benchmarks
// ---------------------------------------------------------------------------------------------

fn token_verification(criterion: &mut Criterion) {
    let service = JwtTokenService::new(&SecretString::from(SECRET_KEY), "HS256", 60).expect("a token service");
    let token = service.issue("admin", 0).expect("a token").access_token;
    let forged = {
        let other = JwtTokenService::new(&SecretString::from("another-key-of-at-least-32-bytes!!"), "HS256", 60)
            .expect("a token service");
        other.issue("admin", 0).expect("a token").access_token
    };
    let mut group = criterion.benchmark_group("jwt_hs256");
    group.bench_function("verify_valid", |bencher| bencher.iter(|| service.verify(black_box(&token))));
    group.bench_function("verify_forged_signature", |bencher| {
        bencher.iter(|| service.verify(black_box(&forged)).is_err())
    });
    group.bench_function("issue", |bencher| bencher.iter(|| service.issue(black_box("admin"), 0)));
    group.finish();
}

fn password_verification(criterion: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let hasher = Argon2Hasher::new().expect("a hasher");
    let password = NewPassword::parse("correct horse battery").expect("a password");
    let hash = runtime.block_on(hasher.hash(&password)).expect("a hash");
    let mut group = criterion.benchmark_group(format!("argon2id_owasp ({})", hasher.settings()));
    group.sample_size(20).measurement_time(Duration::from_secs(8));
    group.bench_function("verify_correct", |bencher| {
        bencher.iter(|| runtime.block_on(hasher.verify(black_box("correct horse battery"), &hash)))
    });
    group.bench_function("verify_wrong", |bencher| {
        bencher.iter(|| runtime.block_on(hasher.verify(black_box("wrong horse battery"), &hash)))
    });
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// End to end
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effort {
    /// `cargo bench`: seconds-long measurements, several rounds.
    Full,
    /// Anything else: one short pass, to prove the code still runs.
    Smoke,
}

impl Effort {
    fn throughput_window(self) -> Duration {
        match self {
            Self::Full => Duration::from_secs(5),
            Self::Smoke => Duration::from_millis(300),
        }
    }

    fn logins(self) -> usize {
        match self {
            Self::Full => 200,
            Self::Smoke => 10,
        }
    }

    fn rounds(self) -> usize {
        match self {
            Self::Full => 3,
            Self::Smoke => 1,
        }
    }
}

/// The real application, served on 127.0.0.1:0 until dropped.
struct RunningApp {
    address: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _dir: tempfile::TempDir,
}

impl RunningApp {
    /// Serves a fresh application with `users` extra users for the login flood.
    async fn start(user_cache_secs: &str, users: usize) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let variables: HashMap<&str, String> = HashMap::from([
            ("DATABASE_URL", format!("sqlite://{}", dir.path().join("bench.db").display())),
            ("SECRET_KEY", SECRET_KEY.to_owned()),
            ("SHUTDOWN_GRACE_SECS", "5".to_owned()),
            ("ADMIN_PASSWORD", ADMIN_PASSWORD.to_owned()),
            ("AUTH_USER_CACHE_SECS", user_cache_secs.to_owned()),
        ]);
        let config = Config::from_lookup(|name| variables.get(name).cloned()).expect("a valid configuration");
        let application = app::start(&config, app::BuildOptions::default()).await.expect("the application starts");
        let mut creations = tokio::task::JoinSet::new();
        for index in 0..users {
            let admin = application.state.users.clone();
            creations.spawn(async move {
                let username = Username::parse(&flood_username(index)).expect("a username");
                let password = NewPassword::parse(FLOOD_PASSWORD).expect("a password");
                admin.create(username, &password, Role::User).await.expect("a flood user is created");
            });
        }
        while let Some(result) = creations.join_next().await {
            result.expect("a user creation");
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let address = listener.local_addr().expect("the bound address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(application.serve(listener, async move {
            drop(stopped.await);
        }));
        Self { address, stop: Some(stop), server: Some(server), _dir: dir }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    async fn token(&self, client: &reqwest::Client) -> String {
        support::login(client, &self.url("/api/v1"), "admin", ADMIN_PASSWORD).await
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
        if let Some(server) = self.server.take() {
            server.await.expect("the server task").expect("the server stops cleanly");
        }
    }
}

fn end_to_end(effort: Effort) {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    runtime.block_on(async {
        println!();
        println!("== end to end: the real application on 127.0.0.1:0, SQLite, in-process clients ==");
        println!(
            "   cores: {} (argon2 runs at most that many hashes at once)",
            std::thread::available_parallelism().map_or(0, std::num::NonZero::get)
        );
        println!();
        for (label, cache_secs) in [("user cache on (5 s, the default)", "5"), ("user cache off (0 s)", "0")] {
            let running = RunningApp::start(cache_secs, 0).await;
            for concurrency in [1, 16, 64] {
                let rate = throughput(&running, "/api/v1/auth/me", concurrency, effort).await;
                println!("GET /api/v1/auth/me   {label:<34} {concurrency:>3} clients: {rate:>9.0} req/s");
            }
            running.stop().await;
        }
        let running = RunningApp::start("5", effort.logins()).await;
        for concurrency in [1, 16, 64] {
            let rate = throughput(&running, "/api/v1/health", concurrency, effort).await;
            println!(
                "GET /api/v1/health    {:<34} {concurrency:>3} clients: {rate:>9.0} req/s",
                "(no auth, for comparison)"
            );
        }
        println!();

        let idle = health_latency_idle(&running, effort).await;
        println!("GET /api/v1/health latency, idle server:        {idle}");
        for round in 1..=effort.rounds() {
            let (health, logins, wall) = health_latency_under_logins(&running, effort.logins()).await;
            println!(
                "round {round}: {} concurrent logins took {:.2} s ({:.0} logins/s); login latency {logins}",
                effort.logins(),
                wall.as_secs_f64(),
                effort.logins() as f64 / wall.as_secs_f64()
            );
            println!("round {round}: GET /api/v1/health latency meanwhile: {health}");
        }
        running.stop().await;
    });
}

/// Requests per second on `path` (with the admin's token) from `concurrency` clients.
async fn throughput(running: &RunningApp, path: &str, concurrency: usize, effort: Effort) -> f64 {
    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build().expect("a client");
    let token = running.token(&client).await;
    let url = running.url(path);
    // Warm up connections and caches, then measure.
    let warm_up = Duration::from_millis(500).min(effort.throughput_window());
    hammer(&client, &url, &token, concurrency, warm_up).await;
    let started = Instant::now();
    let completed = hammer(&client, &url, &token, concurrency, effort.throughput_window()).await;
    completed as f64 / started.elapsed().as_secs_f64()
}

/// Sends requests from `concurrency` tasks for `window`; returns how many succeeded (any
/// failure aborts the benchmark).
async fn hammer(client: &reqwest::Client, url: &str, token: &str, concurrency: usize, window: Duration) -> u64 {
    let completed = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + window;
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (client, url, token, completed) = (client.clone(), url.to_owned(), token.to_owned(), completed.clone());
        workers.spawn(async move {
            while Instant::now() < deadline {
                let response = client.get(&url).bearer_auth(&token).send().await.expect("a response");
                assert!(response.status().is_success(), "{url}: {}", response.status());
                response.bytes().await.expect("a body");
                completed.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    while let Some(result) = workers.join_next().await {
        result.expect("a worker");
    }
    completed.load(Ordering::Relaxed)
}

/// Latency percentiles of a set of samples.
struct Percentiles {
    count: usize,
    p50: Duration,
    p90: Duration,
    p99: Duration,
    max: Duration,
}

impl Percentiles {
    fn of(mut samples: Vec<Duration>) -> Self {
        assert!(!samples.is_empty(), "no samples");
        samples.sort_unstable();
        let at = |quantile: f64| {
            let rank = (quantile * samples.len() as f64).ceil() as usize;
            samples[rank.clamp(1, samples.len()) - 1]
        };
        Self { count: samples.len(), p50: at(0.50), p90: at(0.90), p99: at(0.99), max: at(1.0) }
    }
}

impl std::fmt::Display for Percentiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = |duration: Duration| duration.as_secs_f64() * 1000.0;
        write!(
            f,
            "n={} p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            self.count,
            ms(self.p50),
            ms(self.p90),
            ms(self.p99),
            ms(self.max)
        )
    }
}

async fn timed_health(client: &reqwest::Client, url: &str) -> Duration {
    let started = Instant::now();
    let response = client.get(url).send().await.expect("a health response");
    assert!(response.status().is_success());
    response.bytes().await.expect("a body");
    started.elapsed()
}

/// Sequential health checks on one keep-alive connection with nothing else running.
async fn health_latency_idle(running: &RunningApp, effort: Effort) -> Percentiles {
    let client = reqwest::Client::new();
    let url = running.url("/api/v1/health");
    let count = match effort {
        Effort::Full => 2_000,
        Effort::Smoke => 50,
    };
    timed_health(&client, &url).await;
    let mut samples = Vec::with_capacity(count);
    for _ in 0..count {
        samples.push(timed_health(&client, &url).await);
    }
    Percentiles::of(samples)
}

/// How often the health probe runs while the logins do.
const PROBE_INTERVAL: Duration = Duration::from_millis(2);

/// Starts `logins` logins at once and, until they have all answered, checks health every
/// [`PROBE_INTERVAL`] on its own keep-alive connection. Returns the health and login latencies and the time the
/// logins took.
async fn health_latency_under_logins(running: &RunningApp, logins: usize) -> (Percentiles, Percentiles, Duration) {
    let login_clients: Vec<reqwest::Client> = (0..FLOOD_ADDRESSES)
        .map(|index| {
            let source = std::net::Ipv4Addr::new(127, 0, 0, u8::try_from(index + 2).expect("a small index"));
            reqwest::Client::builder()
                .local_address(std::net::IpAddr::V4(source))
                .pool_max_idle_per_host(logins)
                .build()
                .expect("a client")
        })
        .collect();
    let probe_client = reqwest::Client::new();
    let health_url = running.url("/api/v1/health");
    timed_health(&probe_client, &health_url).await;

    let done = Arc::new(tokio::sync::Notify::new());
    let prober = {
        let done = done.clone();
        tokio::spawn(async move {
            let mut samples = Vec::new();
            let finished = done.notified();
            tokio::pin!(finished);
            // A probe every 2 ms (like a load balancer's health checks, only much more often):
            // paced, so that the probe itself does not compete with the logins for the CPU.
            let mut ticks = tokio::time::interval(PROBE_INTERVAL);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    biased;
                    () = &mut finished => break,
                    _ = ticks.tick() => samples.push(timed_health(&probe_client, &health_url).await),
                }
            }
            samples
        })
    };

    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let login_url = Arc::new(running.url("/api/v1/auth/login"));
    for index in 0..logins {
        let (client, url) = (login_clients[index % FLOOD_ADDRESSES].clone(), login_url.clone());
        let username = flood_username(index);
        tasks.spawn(async move {
            let started = Instant::now();
            let response = client
                .post(url.as_str())
                .form(&[("username", username.as_str()), ("password", FLOOD_PASSWORD)])
                .send()
                .await
                .expect("a login response");
            assert!(response.status().is_success(), "login failed: {}", response.status());
            response.bytes().await.expect("a body");
            started.elapsed()
        });
    }
    let mut login_latencies = Vec::with_capacity(logins);
    while let Some(result) = tasks.join_next().await {
        login_latencies.push(result.expect("a login task"));
    }
    let wall = started.elapsed();
    done.notify_one();
    let health = prober.await.expect("the prober");
    (Percentiles::of(health), Percentiles::of(login_latencies), wall)
}
