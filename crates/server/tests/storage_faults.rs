//! The exactly-once promise when the *database* fails (issue 8, `docs/reliability.md` "When the
//! database fails"): black-box over real HTTP against the real `factus-api` binary on a real
//! SQLite file or a real Postgres database, in front of the real sandbox.
//!
//! - a full disk and an unwritable database directory: a create fails with 503 *before* anything
//!   reaches Factus (the claim is durably written first, or nothing is sent);
//! - a ledger write that fails after Factus answered leaves the entry for the look-up, so the
//!   retry adopts the bill instead of being told the reference is taken;
//! - storage errors (truncated files) fail the request, not the process (no SIGBUS);
//! - a deleted database directory makes readiness fail and writes 503;
//! - Postgres refusing connections or read-only: 503 `Base de datos no disponible` within the
//!   acquire timeout, readiness says so, and Factus-only reads keep working;
//! - a 2xx from Factus that is not a bill is an error and an `unknown` entry;
//! - deleting a pending bill frees its reference.
//!
//! The SQLite-on-tmpfs tests need root (mount, `chattr`): without it they skip loudly, and under
//! `CI=true` (CI runs as root) they fail instead.

mod support_exactly_once;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use factus_infrastructure::testing::TestDatabase;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support_exactly_once::{
    Api, Binary, LIST, Reply, Upstream, VALIDATE, allow_connections, block_connections, field, invoice, service_env,
};

const DATABASE_UNAVAILABLE: &str = "Base de datos no disponible";

// ---------------------------------------------------------------------------------------------
// Privileges and a small file system that can be filled or frozen
// ---------------------------------------------------------------------------------------------

/// Whether this process may mount file systems and set immutable flags. Without root the test
/// is skipped with a loud notice, except under `CI=true`, where a skip would hide a regression.
fn privileged(test: &str) -> bool {
    let uid =
        Command::new("id").arg("-u").output().map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned());
    if uid.is_ok_and(|uid| uid == "0") {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{test} needs root (tmpfs mount, chattr) and CI runs as root: refusing to skip under CI=true"
    );
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "\n=== SKIPPED {test}: needs root (tmpfs mount, chattr) ===\n");
    false
}

fn run(program: &str, args: &[&str]) {
    let output = Command::new(program).args(args).output().unwrap_or_else(|error| panic!("running {program}: {error}"));
    assert!(output.status.success(), "{program} {args:?} failed: {}", String::from_utf8_lossy(&output.stderr).trim());
}

/// A 1 MiB tmpfs mounted on a fresh directory, holding the service's SQLite file.
struct SmallDisk {
    dir: tempfile::TempDir,
    fill: PathBuf,
}

impl SmallDisk {
    fn mount() -> Self {
        let dir = tempfile::tempdir().expect("a mount point");
        run("mount", &["-t", "tmpfs", "-o", "size=1m", "tmpfs", &dir.path().display().to_string()]);
        let fill = dir.path().join("fill");
        Self { dir, fill }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn database_url(&self) -> String {
        sqlite_url(self.path())
    }

    /// Writes zeros until the file system is full (what `dd if=/dev/zero of=fill` does).
    fn fill_up(&self) {
        let mut file = std::fs::File::create(&self.fill).expect("the fill file");
        let block = [0_u8; 4096];
        loop {
            match file.write_all(&block) {
                Ok(()) => {}
                Err(error) if error.raw_os_error() == Some(nix::libc::ENOSPC) => break,
                Err(error) => panic!("filling the disk: {error}"),
            }
        }
        let _ = file.sync_all();
    }

    fn free_up(&self) {
        std::fs::remove_file(&self.fill).expect("the fill file is removed");
    }

    /// Makes the directory and every file in it immutable: nothing can be created, written or
    /// removed there, not even by root (a read-only remount is refused while the service holds
    /// files open for writing).
    fn freeze(&self) {
        run("chattr", &["-R", "+i", &self.path().display().to_string()]);
    }

    fn thaw(&self) {
        run("chattr", &["-R", "-i", &self.path().display().to_string()]);
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let path = self.path().display().to_string();
        let _ = Command::new("chattr").args(["-R", "-i", &path]).output();
        let _ = Command::new("umount").args(["-l", &path]).output();
    }
}

// ---------------------------------------------------------------------------------------------
// The service
// ---------------------------------------------------------------------------------------------

/// The binary in front of a fresh sandbox, on `database_url`, with the admin logged in.
async fn start(dir: &Path, database_url: &str, extra: &[(&'static str, &str)]) -> (Binary, Api, Upstream) {
    let upstream = Upstream::start().await;
    let mut env = service_env(database_url, &upstream.base_url());
    env.extend(extra.iter().map(|(name, value)| (*name, (*value).to_owned())));
    let server = Binary::start(dir, &env).await;
    let api = Api::login(&server.base).await;
    (server, api, upstream)
}

/// The binary on a SQLite file in `dir`, in front of a fresh sandbox.
async fn start_on_sqlite(dir: &Path, extra: &[(&'static str, &str)]) -> (Binary, Api, Upstream) {
    start(dir, &sqlite_url(dir), extra).await
}

async fn stop(server: Binary, upstream: Upstream) {
    server.terminate().await;
    upstream.shutdown().await;
}

/// The URL of the service's SQLite file in `dir`.
fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("factus-api.db").display())
}

async fn readiness(api: &Api) -> Reply {
    api.get("/health/ready").await
}

#[track_caller]
fn assert_database_unavailable(reply: &Reply) {
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{}", reply.text);
    assert_eq!(reply.detail(), DATABASE_UNAVAILABLE, "{}", reply.text);
}

fn entry_of(ledger: &[Value], reference: &str) -> Vec<Value> {
    ledger.iter().filter(|entry| field(entry, "reference_code").as_deref() == Some(reference)).cloned().collect()
}

fn alive(server: &mut Binary) -> bool {
    matches!(server.child.try_wait(), Ok(None))
}

// ---------------------------------------------------------------------------------------------
// 1. A failed ledger write stops the create
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_on_a_full_disk_fails_with_503_and_nothing_reaches_factus() {
    if !privileged("a_create_on_a_full_disk_fails_with_503_and_nothing_reaches_factus") {
        return;
    }
    let disk = SmallDisk::mount();
    let (server, api, upstream) = start(disk.path(), &disk.database_url(), &[]).await;
    api.create(&invoice("DISK-FULL-0"), Some("disk-full-0")).await.issued();
    upstream.reset_requests().await;

    disk.fill_up();
    let body = invoice("DISK-FULL-1");
    let reply = api.create(&body, Some("disk-full-1")).await;

    assert_database_unavailable(&reply);
    assert_eq!(upstream.count(VALIDATE).await, 0, "nothing was sent to Factus: {}", upstream.requests().await);
    assert_eq!(upstream.bills().await.len(), 1);

    // Space again: the retry issues the invoice once, and the ledger holds it.
    disk.free_up();
    let retried = api.create(&body, Some("disk-full-1")).await;
    let (number, _) = retried.issued();
    assert_eq!(upstream.count(VALIDATE).await, 1);
    let entries = entry_of(&api.ledger().await, "DISK-FULL-1");
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(
        (field(&entries[0], "state").as_deref(), field(&entries[0], "number")),
        (Some("issued"), Some(number)),
        "{entries:?}"
    );
    stop(server, upstream).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_on_an_unwritable_database_fails_with_503_and_nothing_reaches_factus() {
    if !privileged("a_create_on_an_unwritable_database_fails_with_503_and_nothing_reaches_factus") {
        return;
    }
    let disk = SmallDisk::mount();
    let (server, api, upstream) = start(disk.path(), &disk.database_url(), &[]).await;
    api.create(&invoice("FROZEN-0"), None).await.issued();
    upstream.reset_requests().await;

    disk.freeze();
    let reply = api.create(&invoice("FROZEN-1"), None).await;
    let ready = readiness(&api).await;
    disk.thaw();

    assert_database_unavailable(&reply);
    assert_eq!(upstream.count(VALIDATE).await, 0, "nothing was sent to Factus");
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE, "readiness notices: {}", ready.text);
    api.create(&invoice("FROZEN-1"), None).await.issued();
    assert_eq!(readiness(&api).await.status, StatusCode::OK);
    stop(server, upstream).await;
}

/// The claim was written; Factus issues the bill; then the disk fills before the outcome is
/// recorded. The client gets the bill (Factus issued it); the entry is not lost and not
/// misrecorded: the retry with the same key looks the reference up and adopts the bill, and
/// nothing is sent twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ledger_write_failing_after_factus_answered_is_settled_by_the_lookup_not_rejected() {
    if !privileged("a_ledger_write_failing_after_factus_answered_is_settled_by_the_lookup_not_rejected") {
        return;
    }
    let disk = SmallDisk::mount();
    let extra = [("FACTUS_TIMEOUT_SECS", "3"), ("LEDGER_STALE_AFTER_SECS", "4")];
    let (server, api, upstream) = start(disk.path(), &disk.database_url(), &extra).await;
    upstream
        .fault(json!({"kind": "latency", "method": "POST", "path": "/v1/bills/validate", "latency_ms": 1500}))
        .await;
    let body = invoice("LATE-FULL-1");

    let create = {
        let (api, body) = (api.clone(), body.clone());
        tokio::spawn(async move { api.create(&body, Some("late-full-1")).await })
    };
    // The claim is written at once; the disk fills while Factus takes its time.
    let deadline = Instant::now() + Duration::from_secs(10);
    while upstream.count(VALIDATE).await == 0 {
        assert!(Instant::now() < deadline, "the create never reached Factus");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    disk.fill_up();
    let first = create.await.expect("the client task");

    let (number, cufe) = first.issued();
    let bills = upstream.bills().await;
    assert_eq!(bills.len(), 1);
    assert_eq!(bills[0].number, number);
    let entries = entry_of(&api.ledger().await, "LATE-FULL-1");
    assert_eq!(entries.len(), 1, "the claim is kept: {entries:?}");
    let state = field(&entries[0], "state").unwrap_or_default();
    assert!(matches!(state.as_str(), "pending" | "unknown"), "the entry waits for the look-up: {entries:?}");

    // Space again; the client retries once the entry is stale: the look-up finds the bill.
    disk.free_up();
    upstream.clear_faults().await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let retried = api.create(&body, Some("late-full-1")).await;
    assert_eq!(retried.status, StatusCode::OK, "not 'Ya existe…': {}", retried.text);
    assert!(retried.replayed);
    assert_eq!(retried.issued(), (number.clone(), cufe));
    assert_eq!(upstream.count(VALIDATE).await, 1, "sent once");
    assert!(upstream.count(LIST).await >= 1, "looked up");
    let entries = entry_of(&api.ledger().await, "LATE-FULL-1");
    assert_eq!(
        (entries.len(), field(&entries[0], "state").as_deref(), field(&entries[0], "number")),
        (1, Some("issued"), Some(number)),
        "{entries:?}"
    );
    stop(server, upstream).await;
}

// ---------------------------------------------------------------------------------------------
// 8. Storage errors fail the request, not the process
// ---------------------------------------------------------------------------------------------

/// Truncating the database's files under a running service used to kill it with SIGBUS (the
/// WAL index is memory-mapped). Now the process lives and answers 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_database_files_fail_requests_with_503_and_the_process_survives() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (mut server, api, upstream) = start_on_sqlite(dir.path(), &[]).await;
    for index in 0..5 {
        api.create(&invoice(&format!("TRUNC-{index}")), None).await.issued();
    }
    upstream.reset_requests().await;

    let mut truncated = Vec::new();
    for entry in std::fs::read_dir(dir.path()).expect("the directory").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("factus-api.db") {
            let file = std::fs::OpenOptions::new().write(true).open(entry.path()).expect("the file opens");
            // The first page survives (so SQLite still sees a database), the rest is gone.
            let keep = if name == "factus-api.db" { 4096 } else { 0 };
            file.set_len(keep).expect("truncated");
            truncated.push(name);
        }
    }
    let create = api.try_create(&invoice("TRUNC-9"), None).await;
    let listing = api.http.get(api.url("/invoices")).bearer_auth(&api.token).send().await;
    let ready = api.http.get(api.url("/health/ready")).send().await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    assert!(alive(&mut server), "the process died (truncated {truncated:?}):\n{}", server.output());
    let create = create.expect("the create is answered");
    assert_database_unavailable(&create);
    assert_eq!(upstream.count(VALIDATE).await, 0, "nothing was sent to Factus");
    assert_eq!(listing.expect("the listing is answered").status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready.expect("readiness is answered").status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(api.get("/health").await.status, StatusCode::OK, "liveness still answers");
    stop(server, upstream).await;
}

// ---------------------------------------------------------------------------------------------
// 15. The database directory deleted while running
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_database_directory_makes_readiness_fail_and_writes_answer_503() {
    let home = tempfile::tempdir().expect("a temporary directory");
    let data = home.path().join("data");
    std::fs::create_dir(&data).expect("the data directory");
    let url = sqlite_url(&data);
    let (server, api, upstream) = start(home.path(), &url, &[]).await;
    api.create(&invoice("GONE-0"), None).await.issued();
    assert_eq!(readiness(&api).await.status, StatusCode::OK);
    upstream.reset_requests().await;

    std::fs::remove_dir_all(&data).expect("the data directory is deleted");
    let ready = readiness(&api).await;
    let create = api.create(&invoice("GONE-1"), None).await;

    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE, "{}", ready.text);
    assert_ne!(ready.json()["database"], "ok", "{}", ready.text);
    assert_database_unavailable(&create);
    assert_eq!(upstream.count(VALIDATE).await, 0, "nothing was sent to Factus");
    assert!(!data.exists(), "nothing was written into a new file either");
    stop(server, upstream).await;
}

// ---------------------------------------------------------------------------------------------
// 7. Postgres unreachable or read-only
// ---------------------------------------------------------------------------------------------

/// A TCP gate between the service and Postgres: open, it forwards; closed, it cuts every
/// connection and swallows new ones without a byte in answer (a network partition, or a host that
/// went away: the case where every request used to wait the whole 10 s acquire timeout).
struct Gate {
    address: std::net::SocketAddr,
    open: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Gate {
    async fn to(target: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let address = listener.local_addr().expect("the gate's address");
        let open = Arc::new(AtomicBool::new(true));
        let connections: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>> = Arc::default();
        let accept = {
            let (open, connections) = (Arc::clone(&open), Arc::clone(&connections));
            tokio::spawn(async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    let forward = open.load(Ordering::SeqCst);
                    let target = target.clone();
                    let task = tokio::spawn(async move {
                        if forward && let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await {
                            let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        } else {
                            // Accepted, never answered.
                            std::future::pending::<()>().await;
                        }
                    });
                    connections.lock().expect("connections").push(task);
                }
            })
        };
        Self { address, open, connections, accept }
    }

    fn cut_all(&self) {
        for task in self.connections.lock().expect("connections").drain(..) {
            task.abort();
        }
    }

    fn close(&self) {
        self.open.store(false, Ordering::SeqCst);
        self.cut_all();
    }

    fn reopen(&self) {
        self.open.store(true, Ordering::SeqCst);
        self.cut_all();
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut_all();
    }
}

/// What the Postgres outage tests ask while the database is away, in this order, each answer
/// with how long it took: the invoice listing, a create (`body`, `key`), readiness and a
/// Factus-only read (municipalities).
async fn during_outage(api: &Api, body: &Value, key: Option<&str>) -> [(Reply, Duration); 4] {
    [
        timed(api.get("/invoices")).await,
        timed(api.create(body, key)).await,
        timed(readiness(api)).await,
        timed(api.get("/lookups/municipalities")).await,
    ]
}

/// A request's answer and how long it took.
async fn timed<T>(request: impl std::future::Future<Output = T>) -> (T, Duration) {
    let started = Instant::now();
    let answer = request.await;
    (answer, started.elapsed())
}

/// `url` with its `host:port` replaced by `address`.
fn through(url: &str, address: std::net::SocketAddr) -> (String, String) {
    let after_at = url.find('@').map_or_else(|| url.find("://").expect("a URL") + 3, |at| at + 1);
    let end = url[after_at..].find('/').map_or(url.len(), |slash| after_at + slash);
    let target = url[after_at..end].to_owned();
    (format!("{}{address}{}", &url[..after_at], &url[end..]), target)
}

/// Postgres stops answering (the gate closes): every request that needs the database is a 503
/// after the 2 s acquire timeout, not a 500 after 10 s; readiness says so just as fast.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_that_stops_answering_is_a_503_within_the_acquire_timeout() {
    let Some(database) = TestDatabase::postgres_or_skip("storage_faults::silent_postgres").await else {
        return;
    };
    let (_, target) = through(database.url(), "127.0.0.1:1".parse().expect("an address"));
    let gate = Gate::to(target).await;
    let (url, _) = through(database.url(), gate.address);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (server, api, upstream) = start(dir.path(), &url, &[("AUTH_USER_CACHE_SECS", "60")]).await;
    api.create(&invoice("PG-SILENT-0"), None).await.issued();
    upstream.reset_requests().await;

    gate.close();
    let [(listing, listing_took), (create, create_took), (ready, ready_took), (lookup, lookup_took)] =
        during_outage(&api, &invoice("PG-SILENT-1"), None).await;
    gate.reopen();

    println!(
        "Postgres not answering: listing {listing_took:?}, create {create_took:?}, readiness {ready_took:?}, \
         municipalities (Factus only) {lookup_took:?}"
    );
    assert_database_unavailable(&listing);
    assert_database_unavailable(&create);
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE, "{}", ready.text);
    assert_eq!(ready.json()["database"], "unreachable", "{}", ready.text);
    for took in [listing_took, create_took, ready_took] {
        assert!(took < Duration::from_millis(2800), "answered within the 2 s acquire timeout: {took:?}");
    }
    assert_eq!(upstream.count(VALIDATE).await, 0, "nothing was sent to Factus");
    assert_eq!(lookup.status, StatusCode::OK, "{}", lookup.text);
    // The read takes its slot of the Factus budget from the database first; a database that does
    // not answer holds it up for the store's timeout (2 s), then the instance counts alone.
    assert!(
        lookup_took < Duration::from_millis(2800),
        "a Factus-only read waits at most the store's timeout: {lookup_took:?}"
    );
    // Reachable again: the create goes through, once.
    api.create(&invoice("PG-SILENT-1"), None).await.issued();
    assert_eq!(upstream.count(VALIDATE).await, 1);
    stop(server, upstream).await;
    database.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_postgres_answers_503_within_two_seconds_and_lookups_keep_working() {
    let Some(database) = TestDatabase::postgres_or_skip("storage_faults::unreachable_postgres").await else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    // A user cache long enough to cover the outage: the token below stays valid without the
    // database.
    let (server, api, upstream) = start(dir.path(), database.url(), &[("AUTH_USER_CACHE_SECS", "60")]).await;
    api.create(&invoice("PG-DOWN-0"), None).await.issued();
    assert_eq!(api.get("/lookups/municipalities").await.status, StatusCode::OK);
    upstream.reset_requests().await;

    block_connections(&database).await;
    let [(listing, listing_took), (create, create_took), (ready, ready_took), (lookup, lookup_took)] =
        during_outage(&api, &invoice("PG-DOWN-1"), Some("pg-down-1")).await;
    let login = api
        .http
        .post(api.url("/auth/login"))
        .form(&[("username", "admin"), ("password", support_exactly_once::ADMIN_PASSWORD)])
        .send()
        .await
        .expect("the login is answered");
    let login_status = login.status();
    allow_connections(&database).await;

    println!("--- server output\n{}", server.output());
    println!(
        "Postgres refusing connections: listing {listing_took:?}, create {create_took:?}, readiness {ready_took:?}, \
         municipalities (Factus only) {lookup_took:?}"
    );
    assert_database_unavailable(&listing);
    assert_database_unavailable(&create);
    assert_eq!(upstream.count(VALIDATE).await, 0, "nothing was sent to Factus");
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE, "{}", ready.text);
    assert_eq!(ready.json()["database"], "unreachable", "{}", ready.text);
    for took in [listing_took, create_took, ready_took] {
        assert!(took < Duration::from_millis(2500), "answered within the 2 s acquire timeout: {took:?}");
    }
    assert_eq!(lookup.status, StatusCode::OK, "a Factus-only read does not need the database: {}", lookup.text);
    assert!(lookup_took < Duration::from_millis(500), "and does not wait for it: {lookup_took:?}");
    assert_eq!(login_status, StatusCode::SERVICE_UNAVAILABLE, "a login needs the database");

    // Back up: the create goes through, once.
    api.create(&invoice("PG-DOWN-1"), Some("pg-down-1")).await.issued();
    assert_eq!(upstream.count(VALIDATE).await, 1);
    assert_eq!(readiness(&api).await.status, StatusCode::OK);
    stop(server, upstream).await;
    database.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_postgres_is_not_ready_and_creates_fail_with_503_before_factus() {
    let Some(database) = TestDatabase::postgres_or_skip("storage_faults::read_only_postgres").await else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (server, api, upstream) = start(dir.path(), database.url(), &[]).await;
    api.create(&invoice("PG-RO-0"), None).await.issued();
    upstream.reset_requests().await;

    // What a fail-over to a standby looks like to the service: every new session is read-only.
    database.on_server("ALTER DATABASE {db} SET default_transaction_read_only = on").await;
    database.on_server("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = {name}").await;
    let ready = readiness(&api).await;
    let create = api.create(&invoice("PG-RO-1"), None).await;
    let listing = api.get("/invoices").await;
    database.on_server("ALTER DATABASE {db} RESET default_transaction_read_only").await;
    database.on_server("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = {name}").await;

    println!("--- server output\n{}", server.output());
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE, "readiness notices: {}", ready.text);
    assert_eq!(ready.json()["database"], "read_only", "{}", ready.text);
    assert_database_unavailable(&create);
    assert_eq!(upstream.count(VALIDATE).await, 0, "nothing was sent to Factus");
    assert_eq!(listing.status, StatusCode::OK, "reads still work: {}", listing.text);
    api.create(&invoice("PG-RO-1"), None).await.issued();
    stop(server, upstream).await;
    database.drop_database().await;
}

// ---------------------------------------------------------------------------------------------
// 2. A 2xx from Factus that is not a bill
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2xx_from_factus_that_is_not_a_bill_is_an_error_and_the_lookup_settles_it() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (server, api, upstream) = start_on_sqlite(dir.path(), &[]).await;
    let bodies = [json!({}), json!({"data": {}}), json!({"data": {"bill": {}}}), Value::Null];
    let mut case = 0;
    for status in [200, 201] {
        for body in &bodies {
            case += 1;
            let reference = format!("NOT-A-BILL-{case}");
            upstream.reset_requests().await;
            upstream
                .fault(json!({"kind": "status", "status": status, "body": body, "method": "POST",
                              "path": "/v1/bills/validate", "times": 1}))
                .await;
            let invoice_body = invoice(&reference);

            let reply = api.create(&invoice_body, Some(&reference)).await;

            let what = format!("{status} {body}");
            assert_ne!(reply.status, StatusCode::OK, "{what} is not a bill: {}", reply.text);
            assert!(reply.status.is_client_error() || reply.status.is_server_error(), "{what}: {}", reply.text);
            assert!(reply.detail().starts_with("Error al crear la factura: "), "{what}: {}", reply.text);
            let entries = entry_of(&api.ledger().await, &reference);
            assert_eq!(field(&entries[0], "state").as_deref(), Some("unknown"), "{what}: {entries:?}");
            // The retry looks the reference up first; Factus has no bill, so it is sent again.
            let retried = api.create(&invoice_body, Some(&reference)).await;
            let (number, _) = retried.issued();
            assert!(!number.is_empty());
            assert_eq!(upstream.count(LIST).await, 1, "{what}: looked up before resending");
            assert_eq!(upstream.count(VALIDATE).await, 2, "{what}");
            let entries = entry_of(&api.ledger().await, &reference);
            assert_eq!(field(&entries[0], "state").as_deref(), Some("issued"), "{what}: {entries:?}");
        }
    }
    stop(server, upstream).await;
}

// ---------------------------------------------------------------------------------------------
// 9. Deleting a pending bill frees its reference
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_pending_bill_frees_its_reference_and_a_resend_issues_a_new_one() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (server, api, upstream) = start_on_sqlite(dir.path(), &[]).await;
    // With an Idempotency-Key and without one (the reference alone identifies the retry).
    for (reference, key) in [("DEL-KEY-1", Some("del-key-1")), ("DEL-REF-1", None)] {
        upstream.reset_requests().await;
        // Factus stores the bill without DIAN's answer (status 0): a pending bill, which may be
        // deleted.
        upstream.fault(json!({"kind": "pending", "method": "POST", "path": "/v1/bills/validate", "times": 1})).await;
        let body = invoice(reference);
        let (first, _) = api.create(&body, key).await.issued();

        let deleted = api
            .http
            .delete(api.url(&format!("/invoices/reference/{reference}")))
            .bearer_auth(&api.token)
            .send()
            .await
            .expect("the delete is answered");
        assert_eq!(deleted.status(), StatusCode::OK, "{:?}", deleted.text().await);
        let entries = entry_of(&api.ledger().await, reference);
        assert!(
            entries.iter().all(|entry| field(entry, "state").as_deref() != Some("issued")),
            "{reference} is no longer issued in the ledger: {entries:?}"
        );

        let resent = api.create(&body, key).await;

        let (second, _) = resent.issued();
        assert!(!resent.replayed, "{reference}: not a replay of the deleted bill");
        assert_ne!(second, first, "{reference}: a new bill");
        assert_eq!(upstream.count(VALIDATE).await, 2, "{reference}: sent again");
        let bills = upstream.bills().await;
        assert!(bills.iter().any(|bill| bill.number == second), "{bills:?}");
        assert!(!bills.iter().any(|bill| bill.number == first), "{bills:?}");
        let entries = entry_of(&api.ledger().await, reference);
        let issued: Vec<_> =
            entries.iter().filter(|entry| field(entry, "state").as_deref() == Some("issued")).collect();
        assert_eq!(issued.len(), 1, "{reference}: {entries:?}");
        assert_eq!(field(issued[0], "number"), Some(second), "{reference}: {entries:?}");
    }
    stop(server, upstream).await;
}
