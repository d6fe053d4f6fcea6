//! Black-box tests of the hardening of issue 8: the REAL `factus-api` binary, started on port 0
//! in a clean environment with a fresh SQLite file (or a fresh Postgres database), driven over
//! real HTTP and raw sockets. Invoice routes run with `--simulate-factus`, the binary's own
//! in-process Factus sandbox.
//!
//! Each test reproduces one defect found by a black-box probe (the failure rows of
//! `docs/reliability.md`): it failed before the fix and passes after.

use std::path::Path;
use std::process::ExitStatus;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use factus_infrastructure::testing::TestDatabase;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use crate::support::{Reply, binary, isolated, join_all, send, valid_invoice};

mod support;

const SECRET_KEY: &str = "hardening-black-box-secret-key-0123456789abcdef";
const ADMIN_PASSWORD: &str = "hardening-admin-password";
/// How long the binary may take to start, answer or stop before the test gives up.
const PATIENCE: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------

/// A fresh working directory (so no developer `.env` is read) and the database the binary uses.
struct Workspace {
    dir: tempfile::TempDir,
    database_url: String,
    /// Keeps a Postgres database alive for the test.
    _postgres: Option<TestDatabase>,
}

impl Workspace {
    fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let database_url = format!("sqlite://{}", dir.path().join("factus-api.db").display());
        Self { dir, database_url, _postgres: None }
    }

    /// A fresh Postgres database, or `None` (the test skips loudly, or fails under `CI=true`).
    async fn postgres(test_name: &str) -> Option<Self> {
        let database = TestDatabase::postgres_or_skip(test_name).await?;
        let dir = tempfile::tempdir().expect("a temporary directory");
        Some(Self { dir, database_url: database.url().to_owned(), _postgres: Some(database) })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The binary with an empty environment apart from the database, the key and `vars`.
    fn command(&self, args: &[&str], vars: &[(&str, &str)]) -> Command {
        self.command_with_fd_limit(args, vars, None)
    }

    /// As [`Self::command`], optionally with the process' file-descriptor limit lowered (through
    /// the shell's `ulimit`, as an operator would), so a test can exhaust it with few sockets.
    fn command_with_fd_limit(&self, args: &[&str], vars: &[(&str, &str)], fd_limit: Option<u32>) -> Command {
        let mut command = match fd_limit {
            None => Command::new(binary()),
            Some(limit) => {
                let mut shell = Command::new("/bin/sh");
                shell.arg("-c").arg(format!("ulimit -n {limit} && exec \"$0\" \"$@\"")).arg(binary());
                shell
            }
        };
        isolated(&mut command, self.path())
            .args(args)
            .env("DATABASE_URL", &self.database_url)
            .env("SECRET_KEY", SECRET_KEY)
            .env("ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("BIND_ADDR", "127.0.0.1:0");
        for (name, value) in vars {
            command.env(name, value);
        }
        command
    }

    /// Runs the binary to completion (it is expected to refuse to start).
    async fn run(&self, args: &[&str], vars: &[(&str, &str)]) -> (ExitStatus, String, String) {
        let output = tokio::time::timeout(PATIENCE, self.command(args, vars).output())
            .await
            .expect("the binary finishes")
            .expect("the binary's output");
        (
            output.status,
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }
}

/// A running server, its log lines (stdout and stderr) collected as they come.
struct Server {
    _child: Child,
    /// Where its database lives, for as long as it runs.
    _workspace: Workspace,
    address: std::net::SocketAddr,
    base: String,
    http: reqwest::Client,
    logs: Arc<Mutex<Vec<String>>>,
}

impl Server {
    async fn start(workspace: Workspace, args: &[&str], vars: &[(&str, &str)]) -> Self {
        Self::start_with_fd_limit(workspace, args, vars, None).await
    }

    async fn start_with_fd_limit(
        workspace: Workspace,
        args: &[&str],
        vars: &[(&str, &str)],
        fd_limit: Option<u32>,
    ) -> Self {
        let mut child = workspace.command_with_fd_limit(args, vars, fd_limit).spawn().expect("the binary starts");
        let (address, logs) = crate::support::listening(&mut child, PATIENCE).await;
        Self {
            _child: child,
            _workspace: workspace,
            address,
            base: format!("http://{address}/api/v1"),
            http: reqwest::Client::builder().timeout(PATIENCE).build().expect("an HTTP client"),
            logs,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn logs(&self) -> String {
        self.logs.lock().unwrap().join("\n")
    }

    /// A login attempt from `address` (the server trusts 127.0.0.1 as a proxy in these tests,
    /// so `X-Forwarded-For` names the client).
    async fn login_from(&self, address: &str, username: &str, password: &str) -> Reply {
        send(
            self.http
                .post(self.url("/auth/login"))
                .header("x-forwarded-for", address)
                .form(&[("username", username), ("password", password)]),
        )
        .await
    }

    /// Logs in and returns the token, asserting success.
    async fn token(&self, username: &str, password: &str) -> String {
        crate::support::login(&self.http, &self.base, username, password).await
    }

    async fn get(&self, path: &str, token: &str) -> Reply {
        send(self.http.get(self.url(path)).bearer_auth(token)).await
    }

    async fn post(&self, path: &str, token: &str, body: &Value) -> Reply {
        send(self.http.post(self.url(path)).bearer_auth(token).json(body)).await
    }

    async fn patch(&self, path: &str, token: &str, body: &Value) -> Reply {
        send(self.http.patch(self.url(path)).bearer_auth(token).json(body)).await
    }

    /// Posts `json` as it is written, for bodies `serde_json` would not write (duplicate keys).
    async fn post_text(&self, path: &str, token: &str, json: &str) -> Reply {
        let request = self.http.post(self.url(path)).bearer_auth(token).header("content-type", "application/json");
        send(request.body(json.to_owned())).await
    }

    /// Creates a user as `admin_token`, asserting success.
    async fn create_user(&self, admin_token: &str, username: &str, password: &str, role: &str) {
        let reply = self
            .post("/users", admin_token, &json!({ "username": username, "password": password, "role": role }))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "creating {username}: {}", reply.text);
    }
}

/// Variables that make the server believe `X-Forwarded-For` from the test (127.0.0.1).
const BEHIND_TEST_PROXY: (&str, &str) = ("TRUSTED_PROXIES", "127.0.0.1");

// ---------------------------------------------------------------------------------------------
// 4. Login throttling must not lock the real user out from everywhere
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn wrong_passwords_from_one_address_do_not_lock_the_user_out_of_another() {
    let server = Server::start(Workspace::sqlite(), &[], &[BEHIND_TEST_PROXY]).await;
    let admin = server.token("admin", ADMIN_PASSWORD).await;
    server.create_user(&admin, "ana", "ana-password", "user").await;

    // An attacker at A guesses until A is throttled for ana.
    let mut throttled = false;
    for _ in 0..7 {
        let reply = server.login_from("198.51.100.1", "ana", "guess-guess").await;
        match reply.status {
            StatusCode::UNAUTHORIZED => {}
            StatusCode::TOO_MANY_REQUESTS => throttled = true,
            other => panic!("unexpected {other}: {}", reply.text),
        }
    }
    assert!(throttled, "seven wrong passwords from one address were never throttled");

    // Ana, at B, still gets in with her password (perhaps after a short delay)...
    let started = Instant::now();
    let reply = server.login_from("203.0.113.7", "ana", "ana-password").await;
    assert_eq!(reply.status, StatusCode::OK, "the real user was locked out: {}", reply.text);
    assert!(started.elapsed() < Duration::from_secs(15), "the delay is not a lockout");

    // ...while A stays throttled, even with the right password.
    let reply = server.login_from("198.51.100.1", "ana", "ana-password").await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS, "{}", reply.text);
    assert!(reply.header("retry-after").is_some());
}

#[tokio::test]
async fn parallel_guesses_from_one_address_cannot_slip_past_the_throttle() {
    let server = Server::start(Workspace::sqlite(), &[], &[BEHIND_TEST_PROXY]).await;
    let admin = server.token("admin", ADMIN_PASSWORD).await;
    server.create_user(&admin, "ana", "ana-password", "user").await;

    // Twenty guesses at once: only the allowed five may reach the password check.
    let guesses = (0..20).map(|_| server.login_from("198.51.100.1", "ana", "guess-guess"));
    let replies = join_all(guesses).await;
    let checked = replies.iter().filter(|reply| reply.status == StatusCode::UNAUTHORIZED).count();
    let refused = replies.iter().filter(|reply| reply.status == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!(checked + refused, 20, "{replies:?}");
    assert!(checked <= 5, "{checked} parallel guesses reached the password check");
}

// ---------------------------------------------------------------------------------------------
// 11. Changing the password is throttled like logging in
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn guessing_the_current_password_with_a_stolen_token_is_throttled() {
    let server = Server::start(Workspace::sqlite(), &[], &[BEHIND_TEST_PROXY]).await;
    let admin = server.token("admin", ADMIN_PASSWORD).await;
    server.create_user(&admin, "ana", "ana-password", "user").await;
    let stolen = server.token("ana", "ana-password").await;

    // Always from the same client address.
    let change_password = |current: String| {
        let body = json!({ "current_password": current, "new_password": "owned-password" });
        let request = server.http.post(server.url("/auth/password")).bearer_auth(&stolen);
        send(request.header("x-forwarded-for", "198.51.100.1").json(&body))
    };
    let mut statuses = Vec::new();
    for attempt in 0..8 {
        let reply = change_password(format!("guess-{attempt}")).await;
        statuses.push(reply.status);
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            assert!(reply.header("retry-after").is_some(), "{}", reply.text);
        }
    }
    assert_eq!(statuses[..5], [StatusCode::BAD_REQUEST; 5], "{statuses:?}");
    assert!(statuses[5..].iter().all(|status| *status == StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");

    // Even the right current password is refused while throttled: the throttle is no oracle.
    let reply = change_password("ana-password".to_owned()).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS, "{}", reply.text);
    server.token("ana", "ana-password").await;
}

// ---------------------------------------------------------------------------------------------
// 5. Tokens issued before a credential change are refused
// ---------------------------------------------------------------------------------------------

/// Starts a server with the user cache off (0 s), so what is tested is the token check itself
/// and not this instance's cache eviction.
async fn server_with_ana(role: &str) -> (Server, String, String) {
    let server = Server::start(Workspace::sqlite(), &[], &[("AUTH_USER_CACHE_SECS", "0")]).await;
    let admin = server.token("admin", ADMIN_PASSWORD).await;
    server.create_user(&admin, "ana", "ana-password", role).await;
    let ana = server.token("ana", "ana-password").await;
    assert_eq!(server.get("/auth/me", &ana).await.status, StatusCode::OK);
    (server, admin, ana)
}

/// An admin changes ana's account; the change itself must succeed.
async fn change_ana(server: &Server, admin: &str, change: Value) {
    let reply = server.patch("/users/ana", admin, &change).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
}

/// ana's `earlier` token is refused; a fresh login with `password` works.
async fn assert_only_a_fresh_login_works(server: &Server, earlier: &str, password: &str) {
    assert_refused(&server.get("/auth/me", earlier).await);
    let fresh = server.token("ana", password).await;
    assert_eq!(server.get("/auth/me", &fresh).await.status, StatusCode::OK);
}

#[track_caller]
fn assert_refused(reply: &Reply) {
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "an earlier token still works: {}", reply.text);
    assert_eq!(reply.json(), json!({ "detail": "Could not validate credentials" }));
}

#[tokio::test]
async fn a_token_issued_before_its_user_changed_the_password_is_refused() {
    let (server, _admin, ana) = server_with_ana("user").await;
    let other_session = server.token("ana", "ana-password").await;

    let reply = server
        .post("/auth/password", &ana, &json!({ "current_password": "ana-password", "new_password": "new-password" }))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);

    assert_refused(&server.get("/auth/me", &other_session).await);
    assert_only_a_fresh_login_works(&server, &ana, "new-password").await;
}

#[tokio::test]
async fn a_token_issued_before_an_admin_reset_the_password_is_refused() {
    let (server, admin, ana) = server_with_ana("user").await;

    change_ana(&server, &admin, json!({ "password": "reset-password" })).await;

    assert_only_a_fresh_login_works(&server, &ana, "reset-password").await;
}

#[tokio::test]
async fn a_token_issued_before_the_user_was_disabled_stays_refused_after_re_enabling() {
    let (server, admin, ana) = server_with_ana("user").await;

    change_ana(&server, &admin, json!({ "disabled": true })).await;
    assert_refused(&server.get("/auth/me", &ana).await);
    change_ana(&server, &admin, json!({ "disabled": false })).await;

    assert_only_a_fresh_login_works(&server, &ana, "ana-password").await;
}

#[tokio::test]
async fn a_token_issued_before_a_role_change_is_refused() {
    let (server, admin, ana) = server_with_ana("admin").await;
    assert_eq!(server.get("/users", &ana).await.status, StatusCode::OK);

    change_ana(&server, &admin, json!({ "role": "user" })).await;

    assert_refused(&server.get("/users", &ana).await);
    assert_refused(&server.get("/auth/me", &ana).await);
    let fresh = server.token("ana", "ana-password").await;
    assert_eq!(server.get("/auth/me", &fresh).await.json()["data"]["role"], "user");
}

#[tokio::test]
async fn an_update_that_changes_nothing_keeps_earlier_tokens() {
    let (server, admin, ana) = server_with_ana("user").await;
    change_ana(&server, &admin, json!({ "role": "user", "disabled": false })).await;
    assert_eq!(server.get("/auth/me", &ana).await.status, StatusCode::OK);
}

// ---------------------------------------------------------------------------------------------
// 10. Postgres: a NUL byte is bad input, not a server error
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn on_postgres_a_nul_byte_in_the_username_or_a_ledger_filter_is_refused_not_a_500() {
    let Some(workspace) =
        Workspace::postgres("on_postgres_a_nul_byte_in_the_username_or_a_ledger_filter_is_refused_not_a_500").await
    else {
        return;
    };
    let server = Server::start(workspace, &[], &[]).await;
    let admin = server.token("admin", ADMIN_PASSWORD).await;

    let reply =
        send(server.http.post(server.url("/auth/login")).form(&[("username", "ad\0min"), ("password", "x")])).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text);
    assert_eq!(reply.json(), json!({ "detail": "Incorrect username or password" }));

    for filter in ["number", "reference_code", "username", "state"] {
        let reply =
            send(server.http.get(server.url("/invoices")).bearer_auth(&admin).query(&[(filter, "SETP\0")])).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "filter {filter}: {}", reply.text);
        assert_eq!(reply.json()["detail"][0]["loc"], json!(["query", filter]), "{}", reply.text);
    }
}

// ---------------------------------------------------------------------------------------------
// 12. X-Request-Id: a safe charset and length, or a generated one
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_unsafe_request_id_is_replaced_and_never_reaches_the_log() {
    let server = Server::start(
        Workspace::sqlite(),
        &[],
        &[("RUST_LOG", "info"), ("LOG_FORMAT", "pretty"), ("ENVIRONMENT", "development")],
    )
    .await;

    // Spaces and `=` forge fields in the pretty log line; quotes and over-long values too.
    let forged = "abc status=200 username=admin forged=\"yes\"";
    let too_long = "a".repeat(129);
    for unsafe_id in [forged, too_long.as_str(), "ñandú", ""] {
        let reply = send(server.http.get(server.url("/health")).header("x-request-id", unsafe_id)).await;
        assert_eq!(reply.status, StatusCode::OK);
        let echoed = reply.header("x-request-id").expect("a request id is always returned");
        assert_ne!(echoed, unsafe_id);
        assert!(uuid::Uuid::parse_str(echoed).is_ok(), "a generated id replaces {unsafe_id:?}: {echoed}");
    }

    let safe = "client-42.retry_3";
    let reply = send(server.http.get(server.url("/health")).header("x-request-id", safe)).await;
    assert_eq!(reply.header("x-request-id"), Some(safe));

    tokio::time::sleep(Duration::from_millis(300)).await;
    let logs = server.logs();
    assert!(logs.contains(safe), "the safe id is logged:\n{logs}");
    assert!(!logs.contains("forged="), "a forged field reached the log:\n{logs}");
    assert!(!logs.contains(&too_long), "an over-long id reached the log");
}

// ---------------------------------------------------------------------------------------------
// 13. Ambiguous input: duplicate JSON keys, two Idempotency-Key headers
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_body_with_a_duplicate_key_is_a_422_naming_the_key() {
    let server = Server::start(Workspace::sqlite(), &[], &[]).await;
    let admin = server.token("admin", ADMIN_PASSWORD).await;

    let body = r#"{"username": "ana", "password": "ana-password", "role": "user", "role": "admin"}"#;
    let reply = server.post_text("/users", &admin, body).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.text);
    let error = &reply.json()["detail"][0];
    assert_eq!(error["loc"], json!(["body", "role"]), "{}", reply.text);
    assert_eq!(error["type"], "value_error.duplicate_key", "{}", reply.text);
    // Nobody was created: the list has the admin only.
    let users = server.get("/users", &admin).await.json();
    assert_eq!(users["data"].as_array().map(Vec::len), Some(1), "{users}");

    // Nested objects too: the invoice's customer.
    let body = r#"{"a": {"b": 1, "c": {"d": 1, "d": 2}}}"#;
    let reply = server.post_text("/auth/password", &admin, body).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.text);
    assert_eq!(reply.json()["detail"][0]["loc"], json!(["body", "a", "c", "d"]), "{}", reply.text);
}

#[tokio::test]
async fn two_idempotency_key_headers_are_a_422_and_nothing_is_issued() {
    let server = Server::start(Workspace::sqlite(), &["--simulate-factus"], &[]).await;
    let admin = server.token("admin", ADMIN_PASSWORD).await;

    let reply = send(
        server
            .http
            .post(server.url("/invoices"))
            .bearer_auth(&admin)
            .header("idempotency-key", "key-one")
            .header("idempotency-key", "key-two")
            .json(&valid_invoice("FAC-TWO-KEYS")),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.text);
    assert_eq!(reply.json()["detail"][0]["loc"], json!(["header", "idempotency-key"]), "{}", reply.text);
    let ledger = server.get("/invoices", &admin).await.json();
    assert_eq!(ledger["data"]["items"], json!([]), "{ledger}");
}

// ---------------------------------------------------------------------------------------------
// 16. Weak secrets
// ---------------------------------------------------------------------------------------------

const PRODUCTION: [(&str, &str); 3] =
    [("ENVIRONMENT", "production"), ("FACTUS_CLIENT_ID", "client-id"), ("FACTUS_CLIENT_SECRET", "client-secret")];

async fn refused_in_production(variable: &str, value: &str) -> String {
    let workspace = Workspace::sqlite();
    let mut vars = PRODUCTION.to_vec();
    vars.push((variable, value));
    let (status, stdout, stderr) = workspace.run(&[], &vars).await;
    assert!(!status.success(), "production started with {variable}={value:?}\n{stdout}\n{stderr}");
    assert!(!stdout.contains("listening on"), "{stdout}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains(variable), "{stderr}");
    assert!(!value.is_empty() && !lines[0].contains(value), "the secret is echoed: {stderr}");
    stderr
}

#[tokio::test]
async fn production_refuses_a_known_default_admin_password() {
    for password in ["admin123", "changeme", "password123", "Admin1234"] {
        refused_in_production("ADMIN_PASSWORD", password).await;
    }
}

#[tokio::test]
async fn production_refuses_a_low_entropy_secret_key() {
    for key in
        ["a".repeat(32), "ab".repeat(24), "0123456789".repeat(4), "changeme-changeme-changeme-changeme".to_owned()]
    {
        refused_in_production("SECRET_KEY", &key).await;
    }
}

#[tokio::test]
async fn production_starts_with_strong_secrets() {
    let mut vars = PRODUCTION.to_vec();
    vars.push(("ADMIN_PASSWORD", "Vq8#tr2!Lm9pZx"));
    let server = Server::start(Workspace::sqlite(), &[], &vars).await;
    let reply = send(server.http.get(server.url("/health"))).await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn development_warns_about_a_weak_secret_key_but_starts() {
    let server =
        Server::start(Workspace::sqlite(), &[], &[("SECRET_KEY", "secret"), ("ADMIN_PASSWORD", "admin123")]).await;
    let reply = send(server.http.get(server.url("/health"))).await;
    assert_eq!(reply.status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let logs = server.logs();
    assert!(logs.contains("SECRET_KEY") && logs.contains("weak"), "no warning about SECRET_KEY:\n{logs}");
    assert!(logs.contains("ADMIN_PASSWORD"), "no warning about ADMIN_PASSWORD:\n{logs}");
    assert!(!logs.contains("admin123"), "a secret reached the log:\n{logs}");
}

// ---------------------------------------------------------------------------------------------
// 6. Object-level access: users act only on their own documents
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_user_cannot_read_download_mail_or_delete_another_users_invoice() {
    let server = Server::start(Workspace::sqlite(), &["--simulate-factus"], &[]).await;
    let admin = server.token("admin", ADMIN_PASSWORD).await;
    server.create_user(&admin, "ana", "ana-password", "user").await;
    server.create_user(&admin, "bob", "bob-password", "user").await;
    let ana = server.token("ana", "ana-password").await;
    let bob = server.token("bob", "bob-password").await;

    let created = server.post("/invoices", &ana, &valid_invoice("FAC-ANA-1")).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    let number = created.json()["data"]["number"].as_str().expect("a number").to_owned();

    // Bob is told the document does not exist, whatever he tries (and Factus is never asked).
    let not_found = json!({ "detail": "Documento no encontrado" });
    for path in [
        format!("/invoices/{number}"),
        format!("/invoices/{number}/pdf"),
        format!("/invoices/{number}/xml"),
        format!("/invoices/{number}/events"),
    ] {
        let reply = server.get(&path, &bob).await;
        assert_eq!((reply.status, reply.json()), (StatusCode::NOT_FOUND, not_found.clone()), "GET {path}");
    }
    let reply =
        server.post(&format!("/invoices/{number}/send-email"), &bob, &json!({ "email": "bob@example.com" })).await;
    assert_eq!((reply.status, reply.json()), (StatusCode::NOT_FOUND, not_found.clone()), "send-email");
    let reply = send(server.http.delete(server.url("/invoices/reference/FAC-ANA-1")).bearer_auth(&bob)).await;
    assert_eq!((reply.status, reply.json()), (StatusCode::NOT_FOUND, not_found.clone()), "delete");

    // A number the ledger does not know: only admins reach Factus with it.
    let reply = server.get("/invoices/SETP990009999", &ana).await;
    assert_eq!((reply.status, reply.json()), (StatusCode::NOT_FOUND, not_found.clone()), "unknown to the ledger");
    let reply = server.get("/invoices/SETP990009999", &admin).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "the admin reaches Factus: {}", reply.text);

    // The owner and the admin act on it.
    for token in [&ana, &admin] {
        let reply = server.get(&format!("/invoices/{number}"), token).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        let reply = server.get(&format!("/invoices/{number}/pdf"), token).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    }
    let reply =
        server.post(&format!("/invoices/{number}/send-email"), &ana, &json!({ "email": "ana@example.com" })).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
}

// ---------------------------------------------------------------------------------------------
// 3. Header, body and idle timeouts; a connection cap that still serves health probes
// ---------------------------------------------------------------------------------------------

/// Short timeouts so the test sees them fire: 2 s for the head, 2 s for the body, 1 s idle.
const SHORT_TIMEOUTS: [(&str, &str); 3] =
    [("HTTP_HEADER_READ_TIMEOUT_SECS", "2"), ("HTTP_BODY_READ_TIMEOUT_SECS", "2"), ("HTTP_IDLE_TIMEOUT_SECS", "1")];

/// A raw connection to `server` that has sent `bytes`.
async fn socket(server: &Server, bytes: &[u8]) -> TcpStream {
    let mut socket = TcpStream::connect(server.address).await.expect("a connection");
    socket.write_all(bytes).await.expect("the bytes are sent");
    socket
}

/// Reads until the server closes the socket; returns what it sent and how long that took.
async fn until_closed(stream: &mut TcpStream) -> (String, Duration) {
    let started = Instant::now();
    let mut received = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut received)).await;
    assert!(read.is_ok(), "the server kept the socket open for 10 s: {:?}", String::from_utf8_lossy(&received));
    (String::from_utf8_lossy(&received).into_owned(), started.elapsed())
}

#[tokio::test]
async fn sockets_that_send_nothing_or_half_a_head_are_closed_after_the_header_timeout() {
    let server = Server::start(Workspace::sqlite(), &[], &SHORT_TIMEOUTS).await;

    let mut silent = socket(&server, b"").await;
    let mut half = socket(&server, b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n").await;

    let (_, waited) = until_closed(&mut silent).await;
    assert!(waited < Duration::from_secs(5), "closed only after {waited:?}");
    let (_, waited) = until_closed(&mut half).await;
    assert!(waited < Duration::from_secs(5), "closed only after {waited:?}");
}

#[tokio::test]
async fn a_stalled_body_is_answered_408_after_the_body_timeout() {
    let server = Server::start(Workspace::sqlite(), &[], &SHORT_TIMEOUTS).await;

    // The head and ten bytes of a hundred.
    let mut stalled = socket(
        &server,
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
          Content-Length: 100\r\n\r\nusername=a",
    )
    .await;
    let (response, waited) = until_closed(&mut stalled).await;
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(waited < Duration::from_secs(6), "answered only after {waited:?}");
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let server = Server::start(
        Workspace::sqlite(),
        &[],
        &[("HTTP_HEADER_READ_TIMEOUT_SECS", "20"), ("HTTP_IDLE_TIMEOUT_SECS", "1")],
    )
    .await;

    let mut idle = socket(&server, b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let (response, waited) = until_closed(&mut idle).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(waited < Duration::from_secs(5), "kept alive for {waited:?} (the idle timeout is 1 s)");
}

#[tokio::test]
async fn with_every_connection_slot_held_by_idle_sockets_health_still_answers() {
    // 128 file descriptors: without a cap, 150 idle sockets exhaust them and nothing is
    // accepted any more (as ~1,000 do with the usual limit of 1,024).
    let vars = [("HTTP_MAX_CONNECTIONS", "40"), ("HTTP_HEADER_READ_TIMEOUT_SECS", "60")];
    let server = Server::start_with_fd_limit(Workspace::sqlite(), &[], &vars, Some(128)).await;

    // Far more idle sockets than slots, each sending nothing (or half a head).
    let mut idle = Vec::new();
    for index in 0..150 {
        let bytes: &[u8] = if index % 2 == 0 { b"GET /api/v1/health HTTP/1.1\r\n" } else { b"" };
        idle.push(socket(&server, bytes).await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    for _ in 0..3 {
        let started = Instant::now();
        let reply = send(server.http.get(server.url("/health")).timeout(Duration::from_secs(5))).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        assert!(started.elapsed() < Duration::from_secs(2), "health took {:?}", started.elapsed());
    }
    drop(idle);
}

// ---------------------------------------------------------------------------------------------
// 14. Length limits on free text
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn over_long_names_item_names_and_e_mail_domains_are_a_422_that_never_reaches_factus() {
    let server = Server::start(Workspace::sqlite(), &["--simulate-factus"], &[]).await;
    let admin = server.token("admin", ADMIN_PASSWORD).await;

    let mut invoice = valid_invoice("FAC-LONG-1");
    invoice["customer"]["names"] = json!("J".repeat(300_000));
    invoice["customer"]["address"] = json!("C".repeat(1_000));
    invoice["customer"]["email"] = json!(format!("juan@{}.com", "d".repeat(5_000)));
    invoice["items"][0]["name"] = json!("P".repeat(300_000));
    let reply = server.post("/invoices", &admin, &invoice).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", &reply.text[..reply.text.len().min(500)]);
    let locs: Vec<Value> =
        reply.json()["detail"].as_array().expect("a list").iter().map(|error| error["loc"].clone()).collect();
    for loc in [
        json!(["body", "customer", "names"]),
        json!(["body", "customer", "address"]),
        json!(["body", "customer", "email"]),
        json!(["body", "items", 0, "name"]),
    ] {
        assert!(locs.contains(&loc), "{loc} not reported: {locs:?}");
    }
    let ledger = server.get("/invoices", &admin).await.json();
    assert_eq!(ledger["data"]["items"], json!([]), "{ledger}");

    // A local part of 65 characters breaks RFC 5321 too.
    let mut invoice = valid_invoice("FAC-LONG-2");
    invoice["customer"]["email"] = json!(format!("{}@example.com", "a".repeat(65)));
    let reply = server.post("/invoices", &admin, &invoice).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.text);
}
