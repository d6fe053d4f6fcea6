//! Helpers shared by `tests/exactly_once.rs` and `benches/soak.rs`: the sandbox and its admin
//! endpoints, the service in-process (or reached at an address), a logged-in client, and the
//! fault soak (drive, then check the end state).
//!
//! Everything goes over real HTTP: the service is `app::run` on 127.0.0.1:0 (or
//! the real binary, which the test starts itself) and Factus is `factus_sandbox` on 127.0.0.1:0.

// Each of the test and the benchmark uses a part of these helpers.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use factus_infrastructure::testing::TestDatabase;
use factus_sandbox::{
    ApiVersion, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_PASSWORD, DEFAULT_USERNAME, Sandbox, SandboxConfig,
};
use factus_server::app::{self, BuildOptions};
use factus_server::config::Config;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::process::{Child, Command};
use tokio::sync::Semaphore;

// The binary is started and its output kept as the other binary suites do.
#[path = "../support/mod.rs"]
mod support;
use support::{Output, listening};

pub const SECRET_KEY: &str = "exactly-once-secret-key-0123456789abcdef";
pub const ADMIN_PASSWORD: &str = "exactly-once-admin-password";
/// How long one HTTP exchange of a test may take before it gives up (far above any timeout the
/// service is configured with, so the service always answers first).
pub const PATIENCE: Duration = Duration::from_secs(60);
/// The route under which the sandbox counts creates.
pub const VALIDATE: &str = "POST /v1/bills/validate";
/// The route under which the sandbox counts the reconciliation lookup.
pub const LIST: &str = "GET /v1/bills";

pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder().timeout(PATIENCE).build().expect("an HTTP client")
}

// ---------------------------------------------------------------------------------------------
// The sandbox
// ---------------------------------------------------------------------------------------------

/// A bill as `GET /__sandbox/bills` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamBill {
    pub number: String,
    pub reference_code: String,
    pub cufe: String,
    pub status: i64,
}

/// A Factus v1 path, route template or fault prefix as the same operation reads on `version`
/// (`/v1/bills/show/{number}` → `/v2/bills/{number}`), so one suite runs against either.
#[must_use]
pub fn on_version(version: ApiVersion, v1: &str) -> String {
    if version != ApiVersion::V2 {
        return v1.to_owned();
    }
    let (method, path) = match v1.split_once(' ') {
        Some((method, path)) => (Some(method), path),
        None => (None, v1),
    };
    let v2 = match path {
        "/v1/bills/show/{number}" => "/v2/bills/{number}".to_owned(),
        // As a fault prefix: every bill number starts with the sandbox's prefix.
        "/v1/bills/show" => "/v2/bills/SETP".to_owned(),
        other => other.replacen("/v1/", "/v2/", 1).replacen("/v1", "/v2", 1),
    };
    match method {
        Some(method) => format!("{method} {v2}"),
        None => v2,
    }
}

/// The Factus simulator, in this process, with its admin endpoints.
pub struct Upstream {
    sandbox: Sandbox,
    http: reqwest::Client,
    version: ApiVersion,
}

impl Upstream {
    /// A sandbox that speaks both versions (the service, on `auto`, talks v1 to it).
    pub async fn start() -> Self {
        Self::start_on(ApiVersion::Both).await
    }

    /// A sandbox whose account has only `version` (the other answers 403), for a service
    /// configured with that version (see [`Upstream::service_env`]).
    pub async fn start_on(version: ApiVersion) -> Self {
        Self::start_with(SandboxConfig { api_version: version, ..SandboxConfig::default() }).await
    }

    /// A sandbox with this configuration (a rate limit, for example).
    pub async fn start_with(config: SandboxConfig) -> Self {
        let version = config.api_version;
        let sandbox = Sandbox::start(config).await.expect("the sandbox starts");
        Self { sandbox, http: http_client(), version }
    }

    /// Every answered request, oldest first (`GET /__sandbox/requests/log`): `method`, `path`,
    /// `route`, `status`, `at_ms` (arrival, Unix milliseconds).
    pub async fn request_log(&self) -> Vec<Value> {
        let response = self.http.get(self.url("/__sandbox/requests/log")).send().await.expect("the request log");
        let log: Value = response.json().await.expect("a JSON object");
        assert_eq!(log["dropped"], 0, "the log kept every request");
        log["requests"].as_array().cloned().unwrap_or_default()
    }

    /// The calls Factus saw (the sandbox's admin routes left out), by arrival time.
    pub async fn factus_calls(&self) -> Vec<Value> {
        let mut calls: Vec<Value> = self
            .request_log()
            .await
            .into_iter()
            .filter(|call| !call["path"].as_str().unwrap_or_default().starts_with("/__sandbox"))
            .collect();
        calls.sort_by_key(|call| call["at_ms"].as_i64().unwrap_or_default());
        calls
    }

    /// The service's environment in front of this sandbox, with `FACTUS_API_VERSION` set to the
    /// sandbox's version.
    pub fn service_env(&self, database_url: &str) -> BTreeMap<&'static str, String> {
        let mut env = service_env(database_url, &self.base_url());
        if self.version != ApiVersion::Both {
            env.insert("FACTUS_API_VERSION", self.version.as_str().to_owned());
        }
        env
    }

    /// A v1 path or route as it reads on this sandbox's version (see [`on_version`]).
    pub fn route(&self, v1: &str) -> String {
        on_version(self.version, v1)
    }

    pub fn base_url(&self) -> String {
        self.sandbox.base_url()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sandbox.base_url())
    }

    /// Adds a fault rule (`POST /__sandbox/faults`).
    pub async fn fault(&self, spec: Value) {
        let response = self.http.post(self.url("/__sandbox/faults")).json(&spec).send().await.expect("a fault");
        let status = response.status();
        assert_eq!(status, StatusCode::CREATED, "fault {spec} refused: {:?}", response.text().await);
    }

    pub async fn clear_faults(&self) {
        let response = self.http.delete(self.url("/__sandbox/faults")).send().await.expect("faults cleared");
        assert!(response.status().is_success(), "clearing faults: {}", response.status());
    }

    /// Every stored bill, in creation order.
    pub async fn bills(&self) -> Vec<UpstreamBill> {
        self.documents(&SoakDocuments::Invoices).await
    }

    /// Every stored document of one family, in creation order (a credit note's CUDE as `cufe`).
    pub async fn documents(&self, documents: &SoakDocuments) -> Vec<UpstreamBill> {
        let (listing, code) = documents.sandbox_listing();
        let response = self.http.get(self.url(listing)).send().await.expect("the documents");
        let bills: Value = response.json().await.expect("a JSON list");
        bills
            .as_array()
            .expect("a JSON list of documents")
            .iter()
            .map(|bill| UpstreamBill {
                number: text(&bill["number"]),
                reference_code: text(&bill["reference_code"]),
                cufe: text(&bill[code]),
                status: bill["status"].as_i64().unwrap_or(-1),
            })
            .collect()
    }

    /// Calls received per route template (`{"POST /v1/bills/validate": 3, …}`).
    pub async fn requests(&self) -> Value {
        let response = self.http.get(self.url("/__sandbox/requests")).send().await.expect("request counts");
        response.json().await.expect("a JSON object")
    }

    pub async fn count(&self, route: &str) -> u64 {
        self.requests().await[route].as_u64().unwrap_or(0)
    }

    /// Calls received on every route together.
    pub async fn total_requests(&self) -> u64 {
        let requests = self.requests().await;
        requests.as_object().expect("an object").values().filter_map(Value::as_u64).sum()
    }

    pub async fn reset_requests(&self) {
        let response = self.http.delete(self.url("/__sandbox/requests")).send().await.expect("counters reset");
        assert!(response.status().is_success(), "resetting counters: {}", response.status());
    }

    pub async fn shutdown(self) {
        self.sandbox.shutdown().await;
    }
}

fn text(value: &Value) -> String {
    value.as_str().map(str::to_owned).unwrap_or_else(|| value.to_string())
}

// ---------------------------------------------------------------------------------------------
// The service
// ---------------------------------------------------------------------------------------------

/// The environment of a service in front of `factus_base_url`, with the server-managed Factus
/// session (the reconciler needs it), and a circuit breaker that injected faults never open:
/// the breaker has its own test. Override entries to change them.
pub fn service_env(database_url: &str, factus_base_url: &str) -> BTreeMap<&'static str, String> {
    BTreeMap::from([
        ("DATABASE_URL", database_url.to_owned()),
        ("SECRET_KEY", SECRET_KEY.to_owned()),
        ("ADMIN_PASSWORD", ADMIN_PASSWORD.to_owned()),
        ("FACTUS_BASE_URL", factus_base_url.to_owned()),
        ("FACTUS_CLIENT_ID", DEFAULT_CLIENT_ID.to_owned()),
        ("FACTUS_CLIENT_SECRET", DEFAULT_CLIENT_SECRET.to_owned()),
        ("FACTUS_USERNAME", DEFAULT_USERNAME.to_owned()),
        ("FACTUS_PASSWORD", DEFAULT_PASSWORD.to_owned()),
        ("FACTUS_TIMEOUT_SECS", "10".to_owned()),
        ("SHUTDOWN_GRACE_SECS", "1".to_owned()),
        ("FACTUS_BREAKER_CONSECUTIVE_FAILURES", "100000".to_owned()),
        ("FACTUS_BREAKER_FAILURE_RATE_PERCENT", "100".to_owned()),
        ("FACTUS_BREAKER_WINDOW", "100000".to_owned()),
        // The budget of Factus calls has its own tests (tests/rate_budget.rs); the soaks send
        // far more than Factus' 80 a minute to a sandbox that does not limit them.
        ("FACTUS_RATE_LIMIT", "1000000".to_owned()),
    ])
}

/// The real application served in-process on 127.0.0.1:0, with the admin logged in. Without
/// the background reconciler unless asked for: what settles entries then is the clients' retries.
pub struct InProcess {
    pub api: Api,
    stop: app::ShutdownTrigger,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl InProcess {
    pub async fn start(env: &BTreeMap<&'static str, String>) -> Self {
        Self::start_with(env, false).await
    }

    /// With the ledger reconciler running as the binary runs it (`LEDGER_RECONCILE_INTERVAL_SECS`,
    /// `LEDGER_STALE_AFTER_SECS`).
    pub async fn start_with_reconciler(env: &BTreeMap<&'static str, String>) -> Self {
        Self::start_with(env, true).await
    }

    async fn start_with(env: &BTreeMap<&'static str, String>, reconcile: bool) -> Self {
        let config = Config::from_lookup(|name| env.get(name).cloned()).expect("a valid configuration");
        let options = BuildOptions { without_reconciler: !reconcile, ..BuildOptions::default() };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let base = format!("http://{}", listener.local_addr().expect("a local address"));
        let (stop, shutdown) = app::Shutdown::new();
        let server = tokio::spawn(app::run(config, options, listener, shutdown.wait()));
        let api = Api::login(&base).await;
        Self { api, stop, server: Some(server) }
    }

    /// Stops serving (in-flight requests get a second to finish).
    pub async fn stop(mut self) {
        self.stop.trigger();
        if let Some(server) = self.server.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
        }
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        self.stop.trigger();
    }
}

/// An answer of the service.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub replayed: bool,
    /// The `Location` header (a 202's ledger entry).
    pub location: Option<String>,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|error| panic!("not JSON ({error}): {}", self.text))
    }

    /// `data` of a successful create: `(number, cufe)`.
    #[track_caller]
    pub fn issued(&self) -> (String, String) {
        self.issued_as("Factura creada exitosamente")
    }

    /// `data` of a successful create answered with `message`: `(number, cufe)`.
    #[track_caller]
    pub fn issued_as(&self, message: &str) -> (String, String) {
        assert_eq!(self.status, StatusCode::OK, "body: {}", self.text);
        let body = self.json();
        assert_eq!(body["message"], message, "body: {}", self.text);
        (text(&body["data"]["number"]), text(&body["data"]["cufe"]))
    }

    /// `{"detail": …}` of an error.
    pub fn detail(&self) -> String {
        text(&self.json()["detail"])
    }
}

/// A client of the service logged in as the admin.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
    pub token: String,
}

impl Api {
    pub async fn login(base: &str) -> Self {
        let http = http_client();
        let response = http
            .post(format!("{base}/api/v1/auth/login"))
            .form(&[("username", "admin"), ("password", ADMIN_PASSWORD)])
            .send()
            .await
            .expect("the local login");
        assert_eq!(response.status(), StatusCode::OK, "login: {:?}", response.text().await);
        let body: Value = response.json().await.expect("a JSON body");
        let token = body["access_token"].as_str().expect("an access token").to_owned();
        Self { base: base.to_owned(), http, token }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    /// `POST /api/v1/invoices`, with `Idempotency-Key: key` when given. `Err` when no answer
    /// came (the connection failed).
    pub async fn try_create(&self, body: &Value, key: Option<&str>) -> Result<Reply, reqwest::Error> {
        self.try_create_at("/invoices", body, key).await
    }

    /// `POST /api/v1{path}` (a create of any document kind), with `Idempotency-Key: key` when given.
    pub async fn try_create_at(&self, path: &str, body: &Value, key: Option<&str>) -> Result<Reply, reqwest::Error> {
        let mut request = self.http.post(self.url(path)).bearer_auth(&self.token).json(body);
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        read(request.send().await?).await
    }

    pub async fn create(&self, body: &Value, key: Option<&str>) -> Reply {
        self.try_create(body, key).await.expect("the service answers")
    }

    pub async fn get(&self, path: &str) -> Reply {
        read(self.http.get(self.url(path)).bearer_auth(&self.token).send().await.expect("the service answers"))
            .await
            .expect("a readable body")
    }

    /// Follows a 202's `Location` (a path on this service) until its entry is no longer `queued`
    /// or `pending` (at most `patience`); returns the entry.
    pub async fn follow(&self, location: &str, patience: Duration) -> Value {
        self.follow_every(location, patience, Duration::from_millis(100)).await
    }

    /// [`Api::follow`], asking `every` so often.
    pub async fn follow_every(&self, location: &str, patience: Duration, every: Duration) -> Value {
        let deadline = Instant::now() + patience;
        loop {
            let response = self
                .http
                .get(format!("{}{location}", self.base))
                .bearer_auth(&self.token)
                .send()
                .await
                .expect("the service answers");
            let reply = read(response).await.expect("a readable body");
            assert_eq!(reply.status, StatusCode::OK, "GET {location}: {}", reply.text);
            let entry = reply.json()["data"].clone();
            if !matches!(entry["state"].as_str(), Some("queued" | "pending")) {
                return entry;
            }
            assert!(Instant::now() < deadline, "{location} still {} after {patience:?}", entry["state"]);
            tokio::time::sleep(every).await;
        }
    }

    /// The whole ledger of invoices (`GET /api/v1/invoices`, every page).
    pub async fn ledger(&self) -> Vec<Value> {
        self.ledger_of(&SoakDocuments::Invoices).await
    }

    /// The whole ledger of one document kind (`GET /api/v1/invoices?kind=…`, every page).
    pub async fn ledger_of(&self, documents: &SoakDocuments) -> Vec<Value> {
        let mut entries = Vec::new();
        let mut cursor: Option<String> = None;
        let listing = format!("/invoices?kind={}&limit=200", documents.ledger_kind());
        loop {
            let path = match &cursor {
                Some(cursor) => format!("{listing}&cursor={cursor}"),
                None => listing.clone(),
            };
            let reply = self.get(&path).await;
            assert_eq!(reply.status, StatusCode::OK, "listing the ledger: {}", reply.text);
            let data = reply.json()["data"].clone();
            entries.extend(data["items"].as_array().expect("items").iter().cloned());
            match data["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return entries,
            }
        }
    }

    /// `GET /api/v1/health/ready` → `factus_circuit`.
    pub async fn circuit(&self) -> String {
        let reply = self.get("/health/ready").await;
        assert_eq!(reply.status, StatusCode::OK, "readiness: {}", reply.text);
        text(&reply.json()["factus_circuit"])
    }
}

async fn read(response: reqwest::Response) -> Result<Reply, reqwest::Error> {
    let status = response.status();
    let replayed = response.headers().get("idempotent-replayed").is_some_and(|value| value == "true");
    let location = response.headers().get("location").and_then(|value| value.to_str().ok()).map(str::to_owned);
    let text = response.text().await?;
    Ok(Reply { status, replayed, location, text })
}

/// A valid invoice (one line of 10,000 COP with 19 % VAT for a natural person).
pub fn invoice(reference: &str) -> Value {
    let mut invoice = factus_web::schemas::invoice_request_example();
    invoice["reference_code"] = json!(reference);
    invoice
}

/// The most calls (of [`Upstream::factus_calls`]) that arrived within any span shorter than `window`.
pub fn most_in_any_window(calls: &[Value], window: Duration) -> usize {
    let times: Vec<i64> = calls.iter().filter_map(|call| call["at_ms"].as_i64()).collect();
    let window_ms = i64::try_from(window.as_millis()).expect("a window in milliseconds");
    (0..times.len())
        .map(|start| times[start..].iter().take_while(|at| **at - times[start] < window_ms).count())
        .max()
        .unwrap_or(0)
}

/// Ledger entries by reference code.
pub fn by_reference(entries: &[Value]) -> HashMap<String, Vec<Value>> {
    let mut map: HashMap<String, Vec<Value>> = HashMap::new();
    for entry in entries {
        map.entry(text(&entry["reference_code"])).or_default().push(entry.clone());
    }
    map
}

/// Sandbox bills by reference code.
pub fn bills_by_reference(bills: &[UpstreamBill]) -> HashMap<String, Vec<UpstreamBill>> {
    let mut map: HashMap<String, Vec<UpstreamBill>> = HashMap::new();
    for bill in bills {
        map.entry(bill.reference_code.clone()).or_default().push(bill.clone());
    }
    map
}

pub fn field(entry: &Value, name: &str) -> Option<String> {
    entry.get(name).and_then(Value::as_str).map(str::to_owned)
}

// ---------------------------------------------------------------------------------------------
// A database that fails
// ---------------------------------------------------------------------------------------------

/// Ends every session of the test's database and refuses new ones: Postgres is "down" for this
/// database only (the shared server keeps running for everybody else).
pub async fn block_connections(database: &TestDatabase) {
    database.on_server("ALTER DATABASE {db} ALLOW_CONNECTIONS false").await;
    database.on_server("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = {name}").await;
}

pub async fn allow_connections(database: &TestDatabase) {
    database.on_server("ALTER DATABASE {db} ALLOW_CONNECTIONS true").await;
}

// ---------------------------------------------------------------------------------------------
// The real binary
// ---------------------------------------------------------------------------------------------

/// The real binary, started on 127.0.0.1:0 in `dir` with exactly `env`.
pub struct Binary {
    pub child: Child,
    pub base: String,
    output: Output,
}

impl Binary {
    pub async fn start(dir: &Path, env: &BTreeMap<&'static str, String>) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_factus-api"));
        command
            .current_dir(dir)
            .env_clear()
            .envs(env.iter().map(|(name, value)| (*name, value.as_str())))
            .env("BIND_ADDR", "127.0.0.1:0")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().expect("the binary starts");
        let (address, output) = listening(&mut child, Duration::from_secs(30)).await;
        Self { child, base: format!("http://{address}"), output }
    }

    pub fn pid(&self) -> Pid {
        Pid::from_raw(i32::try_from(self.child.id().expect("a running child")).expect("a pid"))
    }

    pub async fn sigkill(&mut self) {
        kill(self.pid(), Signal::SIGKILL).expect("SIGKILL delivered");
        let status = tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .expect("the process dies")
            .expect("its status");
        assert!(!status.success(), "killed, not exited: {status}");
    }

    pub async fn terminate(mut self) {
        kill(self.pid(), Signal::SIGTERM).expect("SIGTERM delivered");
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
    }

    pub fn output(&self) -> String {
        self.output.lock().expect("output").join("\n")
    }
}

// ---------------------------------------------------------------------------------------------
// The fault soak
// ---------------------------------------------------------------------------------------------

/// What makes a client's retry "the same request" to the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryIdentity {
    /// One `Idempotency-Key` per invoice, sent on every attempt.
    IdempotencyKey,
    /// No key: the invoice's `reference_code` (and body) identify the retry.
    ReferenceCode,
}

impl RetryIdentity {
    pub fn label(self) -> &'static str {
        match self {
            Self::IdempotencyKey => "Idempotency-Key per invoice",
            Self::ReferenceCode => "reference_code only",
        }
    }
}

#[derive(Debug, Clone)]
pub struct SoakPlan {
    /// Prefix of the reference codes (and keys); every reference has the same length, so none is
    /// a substring of another (the sandbox's `filter[reference_code]` is a partial match).
    pub prefix: String,
    pub count: usize,
    /// Clients sending at the same time.
    pub concurrency: usize,
    /// Attempts per invoice, the first included.
    pub max_attempts: u32,
    pub identity: RetryIdentity,
    pub documents: SoakDocuments,
}

/// The kind of document a soak creates.
#[derive(Debug, Clone)]
pub enum SoakDocuments {
    Invoices,
    /// Credit notes of 100.00 each (tax included), spread round robin over these invoice numbers.
    CreditNotesOn(Vec<String>),
}

impl SoakDocuments {
    /// The service's create path.
    pub fn create_path(&self) -> &'static str {
        match self {
            Self::Invoices => "/invoices",
            Self::CreditNotesOn(_) => "/credit-notes",
        }
    }

    /// The Factus v1 create path, where the soak's faults are scoped.
    pub fn factus_create_path(&self) -> &'static str {
        match self {
            Self::Invoices => "/v1/bills/validate",
            Self::CreditNotesOn(_) => "/v1/credit-notes/validate",
        }
    }

    pub fn created_message(&self) -> &'static str {
        match self {
            Self::Invoices => "Factura creada exitosamente",
            Self::CreditNotesOn(_) => "Nota crédito creada exitosamente",
        }
    }

    fn ledger_kind(&self) -> &'static str {
        match self {
            Self::Invoices => "invoice",
            Self::CreditNotesOn(_) => "credit_note",
        }
    }

    /// The sandbox's admin listing and the name of the document's code (CUFE or CUDE) in it.
    fn sandbox_listing(&self) -> (&'static str, &'static str) {
        match self {
            Self::Invoices => ("/__sandbox/bills", "cufe"),
            Self::CreditNotesOn(_) => ("/__sandbox/credit-notes", "cude"),
        }
    }

    /// The body of the `index`th document.
    pub fn body(&self, reference: &str, index: usize) -> Value {
        match self {
            Self::Invoices => invoice(reference),
            Self::CreditNotesOn(invoices) => {
                // The invoice's own line, returned in part.
                let mut item = invoice(reference)["items"][0].clone();
                item["price"] = json!("100.00");
                json!({
                    "bill_number": invoices[index % invoices.len()],
                    "correction_concept_code": 1,
                    "reference_code": reference,
                    "payment_method_code": "10",
                    "observation": "Devolución parcial",
                    "items": [item]
                })
            }
        }
    }
}

impl SoakPlan {
    pub fn reference(&self, index: usize) -> String {
        format!("{}-{index:05}", self.prefix)
    }

    pub fn key(&self, index: usize) -> String {
        format!("key-{}-{index:05}", self.prefix)
    }
}

/// The acceptance faults, each scoped to the create: the reconciliation lookup (`GET /v1/bills`)
/// and the token endpoint are never faulted.
pub async fn install_soak_faults(upstream: &Upstream) {
    install_soak_faults_on(upstream, &SoakDocuments::Invoices).await;
}

/// The acceptance faults, scoped to the create of `documents`.
pub async fn install_soak_faults_on(upstream: &Upstream, documents: &SoakDocuments) {
    let scoped = |spec: Value| {
        let mut spec = spec;
        spec["method"] = json!("POST");
        spec["path"] = json!(upstream.route(documents.factus_create_path()));
        spec
    };
    upstream.fault(scoped(json!({"kind": "drop_after_commit", "probability": 0.2}))).await;
    upstream.fault(scoped(json!({"kind": "hang", "probability": 0.05}))).await;
    upstream.fault(scoped(json!({"kind": "status", "status": 503, "probability": 0.05}))).await;
}

/// What happened to one invoice.
#[derive(Debug, Clone)]
pub struct InvoiceRun {
    pub reference: String,
    pub attempts: u32,
    /// The final success was a replay (`Idempotent-Replayed: true`).
    pub replayed: bool,
    /// `(number, cufe)` of the final success.
    pub issued: Option<(String, String)>,
    /// Status and reason (the `detail` without its prefix) of every failed attempt, or why no
    /// answer came.
    pub failures: Vec<String>,
    /// A non-retryable answer that ended the invoice's attempts.
    pub fatal: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SoakReport {
    pub plan: SoakPlan,
    pub duration: Duration,
    pub runs: Vec<InvoiceRun>,
}

impl SoakReport {
    pub fn attempts(&self) -> u64 {
        self.runs.iter().map(|run| u64::from(run.attempts)).sum()
    }

    /// Attempts beyond each invoice's first.
    pub fn retries(&self) -> u64 {
        self.attempts() - self.runs.len() as u64
    }

    pub fn replays(&self) -> usize {
        self.runs.iter().filter(|run| run.replayed).count()
    }

    pub fn succeeded(&self) -> usize {
        self.runs.iter().filter(|run| run.issued.is_some()).count()
    }

    pub fn max_attempts(&self) -> u32 {
        self.runs.iter().map(|run| run.attempts).max().unwrap_or(0)
    }

    /// Failed attempts by what the client saw.
    pub fn failures(&self) -> BTreeMap<String, u64> {
        let mut failures = BTreeMap::new();
        for failure in self.runs.iter().flat_map(|run| run.failures.iter()) {
            *failures.entry(failure.clone()).or_insert(0) += 1;
        }
        failures
    }

    /// How many invoices needed n attempts, for each n.
    pub fn attempts_histogram(&self) -> BTreeMap<u32, u64> {
        let mut histogram = BTreeMap::new();
        for run in &self.runs {
            *histogram.entry(run.attempts).or_insert(0) += 1;
        }
        histogram
    }

    pub fn summary(&self) -> String {
        format!(
            "soak [{}] {} invoices, {} concurrent clients: {:.2} s, {} attempts ({} retries, at most {} for one \
             invoice; invoices by attempts {:?}), failed attempts by answer {:?}, {} successes, {} of them replays",
            self.plan.identity.label(),
            self.plan.count,
            self.plan.concurrency,
            self.duration.as_secs_f64(),
            self.attempts(),
            self.retries(),
            self.max_attempts(),
            self.attempts_histogram(),
            self.failures(),
            self.succeeded(),
            self.replays(),
        )
    }
}

/// Whether a failed create is worth retrying with the same body: the outcome was unknown or
/// the first attempt is still running.
fn retryable(status: StatusCode) -> bool {
    matches!(status, StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT | StatusCode::CONFLICT)
}

/// Creates `plan.count` invoices through `apis` (round robin), `plan.concurrency` at a time,
/// each retried with the same body until it succeeds, at most `plan.max_attempts` times.
pub async fn run_soak(apis: &[Api], plan: &SoakPlan) -> SoakReport {
    let started = Instant::now();
    let permits = Arc::new(Semaphore::new(plan.concurrency));
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..plan.count {
        let api = apis[index % apis.len()].clone();
        let reference = plan.reference(index);
        let key = (plan.identity == RetryIdentity::IdempotencyKey).then(|| plan.key(index));
        let max_attempts = plan.max_attempts;
        let permits = Arc::clone(&permits);
        let documents = plan.documents.clone();
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await.expect("the semaphore stays open");
            create_until_issued(&api, &documents, index, reference, key, max_attempts).await
        });
    }
    let mut runs = Vec::with_capacity(plan.count);
    while let Some(run) = tasks.join_next().await {
        runs.push(run.expect("a client task"));
    }
    runs.sort_by(|a, b| a.reference.cmp(&b.reference));
    SoakReport { plan: plan.clone(), duration: started.elapsed(), runs }
}

async fn create_until_issued(
    api: &Api,
    documents: &SoakDocuments,
    index: usize,
    reference: String,
    key: Option<String>,
    max_attempts: u32,
) -> InvoiceRun {
    let body = documents.body(&reference, index);
    let mut run =
        InvoiceRun { reference, attempts: 0, replayed: false, issued: None, failures: Vec::new(), fatal: None };
    while run.attempts < max_attempts {
        run.attempts += 1;
        match api.try_create_at(documents.create_path(), &body, key.as_deref()).await {
            Ok(reply) if reply.status == StatusCode::OK => {
                run.replayed = reply.replayed;
                run.issued = Some(reply.issued_as(documents.created_message()));
                return run;
            }
            Ok(reply) if retryable(reply.status) => {
                let detail = reply.detail();
                let reason = detail.strip_prefix("Error al crear la factura: ").unwrap_or(&detail);
                run.failures.push(format!("{} {reason}", reply.status.as_u16()));
                if reply.status == StatusCode::CONFLICT {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                } else if reason == "Base de datos no disponible" {
                    // The database is down: a client backs off rather than spin.
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
            Ok(reply) => {
                run.fatal = Some(format!("{}: {}", reply.status, reply.text));
                return run;
            }
            Err(error) => run.failures.push(format!("no answer ({error})")),
        }
    }
    run
}

/// Checks the end state of a soak against the sandbox and the ledger; returns every problem
/// found (empty when exactly once held).
pub fn soak_problems(report: &SoakReport, bills: &[UpstreamBill], ledger: &[Value]) -> Vec<String> {
    let mut problems = Vec::new();
    let expected: Vec<String> = (0..report.plan.count).map(|index| report.plan.reference(index)).collect();

    for run in &report.runs {
        if run.issued.is_none() {
            problems.push(format!(
                "{} not issued after {} attempts ({:?}; {:?})",
                run.reference, run.attempts, run.failures, run.fatal
            ));
        }
    }

    if bills.len() != report.plan.count {
        problems.push(format!("the sandbox holds {} bills, expected {}", bills.len(), report.plan.count));
    }
    let upstream = bills_by_reference(bills);
    for (reference, bills) in &upstream {
        if bills.len() > 1 {
            let numbers: Vec<&str> = bills.iter().map(|bill| bill.number.as_str()).collect();
            problems.push(format!("{reference} has {} bills at the sandbox: {numbers:?}", bills.len()));
        }
        if !expected.contains(reference) {
            problems.push(format!("the sandbox holds a bill for an unexpected reference {reference}"));
        }
    }

    if ledger.len() != report.plan.count {
        problems.push(format!("the ledger holds {} entries, expected {}", ledger.len(), report.plan.count));
    }
    let entries = by_reference(ledger);
    let runs: HashMap<&str, &InvoiceRun> = report.runs.iter().map(|run| (run.reference.as_str(), run)).collect();
    for reference in &expected {
        let Some(bill) = upstream.get(reference).and_then(|bills| bills.first()) else {
            problems.push(format!("{reference}: no bill at the sandbox (lost)"));
            continue;
        };
        match entries.get(reference).map(Vec::as_slice) {
            None | Some([]) => problems.push(format!("{reference}: no ledger entry")),
            Some([entry]) => {
                let state = field(entry, "state").unwrap_or_default();
                if state != "issued" {
                    problems.push(format!("{reference}: ledger state {state}, expected issued"));
                }
                if field(entry, "number").as_deref() != Some(bill.number.as_str())
                    || field(entry, "cufe").as_deref() != Some(bill.cufe.as_str())
                {
                    problems.push(format!(
                        "{reference}: ledger says {:?}/{:?}, the sandbox {}/{}",
                        field(entry, "number"),
                        field(entry, "cufe"),
                        bill.number,
                        bill.cufe
                    ));
                }
            }
            Some(many) => problems.push(format!("{reference}: {} ledger entries", many.len())),
        }
        if let Some((number, cufe)) = runs.get(reference.as_str()).and_then(|run| run.issued.as_ref())
            && (number != &bill.number || cufe != &bill.cufe)
        {
            problems.push(format!(
                "{reference}: the client was answered {number}/{cufe}, the sandbox holds {}/{}",
                bill.number, bill.cufe
            ));
        }
    }
    problems
}
