//! Black-box tests of the real `factus-api` binary: started on port 0 with a fresh SQLite file
//! in a clean environment, driven over HTTP, stopped with SIGTERM; and its command line
//! (`migrate`, `user create`, `user list`, configuration errors).

use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use crate::support::{binary, isolated};

mod support;

const SECRET_KEY: &str = "black-box-secret-key-0123456789abcdef";
const ADMIN_PASSWORD: &str = "black-box-admin-password";
/// How long the binary may take to start, answer or stop before the test gives up.
const PATIENCE: Duration = Duration::from_secs(30);

/// A fresh directory with a database file that does not exist yet. The binary runs with this
/// directory as its working directory, so no `.env` of the developer's is read.
struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    fn new() -> Self {
        Self { dir: tempfile::tempdir().expect("a temporary directory") }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn database_url(&self) -> String {
        format!("sqlite://{}", self.path().join("factus-api.db").display())
    }

    /// The binary with an empty environment apart from `vars` (and the database and key).
    fn command(&self, args: &[&str], vars: &[(&str, &str)]) -> Command {
        let mut command = Command::new(binary());
        isolated(&mut command, self.path())
            .args(args)
            .env("DATABASE_URL", self.database_url())
            .env("SECRET_KEY", SECRET_KEY);
        for (name, value) in vars {
            command.env(name, value);
        }
        command
    }

    /// Runs a command to completion, feeding `stdin`.
    async fn run(&self, args: &[&str], vars: &[(&str, &str)], stdin: &str) -> Finished {
        let mut command = self.command(args, vars);
        command.stdin(Stdio::piped());
        let mut child = command.spawn().expect("the binary starts");
        let mut input = child.stdin.take().expect("a stdin pipe");
        input.write_all(stdin.as_bytes()).await.expect("stdin is written");
        drop(input);
        let output = tokio::time::timeout(PATIENCE, child.wait_with_output())
            .await
            .expect("the command finishes")
            .expect("the command's output");
        Finished {
            status: output.status,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

struct Finished {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl std::fmt::Display for Finished {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "status {}\n--- stdout\n{}--- stderr\n{}", self.status, self.stdout, self.stderr)
    }
}

/// A running server.
struct Server {
    child: Child,
    address: std::net::SocketAddr,
    base: String,
    http: reqwest::Client,
}

impl Server {
    /// Starts `factus-api` on 127.0.0.1:0 and waits for its `listening on <addr>` line.
    async fn start(workspace: &Workspace) -> Self {
        let mut child = workspace
            .command(&[], &[("BIND_ADDR", "127.0.0.1:0"), ("ADMIN_PASSWORD", ADMIN_PASSWORD)])
            .spawn()
            .expect("the binary starts");
        let (address, _) = crate::support::listening(&mut child, PATIENCE).await;
        assert_ne!(address.port(), 0);
        Self {
            child,
            address,
            base: format!("http://{address}"),
            http: reqwest::Client::builder().timeout(PATIENCE).build().expect("an HTTP client"),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Logs in and returns the token, asserting success.
    async fn token(&self, username: &str, password: &str) -> String {
        crate::support::login(&self.http, &self.url("/api/v1"), username, password).await
    }

    fn terminate(&self) {
        let pid = i32::try_from(self.child.id().expect("the server is running")).expect("a pid");
        kill(Pid::from_raw(pid), Signal::SIGTERM).expect("SIGTERM is delivered");
    }

    async fn wait(&mut self) -> ExitStatus {
        tokio::time::timeout(PATIENCE, self.child.wait())
            .await
            .expect("the server exits in time after SIGTERM")
            .expect("the exit status")
    }
}

/// Reads an HTTP/1.1 message head (up to the blank line) from `stream`.
async fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0_u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let read = stream.read(&mut byte).await.expect("the socket is readable");
        assert!(read > 0, "the server closed the connection after {:?}", String::from_utf8_lossy(&head));
        head.push(byte[0]);
    }
    String::from_utf8(head).expect("an ASCII head")
}

#[tokio::test]
async fn the_real_binary_serves_the_admin_a_new_user_and_drains_an_in_flight_request_on_sigterm() {
    let workspace = Workspace::new();
    let mut server = Server::start(&workspace).await;

    // The bootstrapped admin logs in and creates a user, who logs in too.
    let admin = server.token("admin", ADMIN_PASSWORD).await;
    let created = server
        .http
        .post(server.url("/api/v1/users"))
        .bearer_auth(&admin)
        .json(&json!({ "username": "ana", "password": "ana-password" }))
        .send()
        .await
        .expect("the create request");
    assert_eq!(created.status(), reqwest::StatusCode::CREATED);
    let ana = server.token("ana", "ana-password").await;
    let me: Value = server
        .http
        .get(server.url("/api/v1/auth/me"))
        .bearer_auth(&ana)
        .send()
        .await
        .expect("the me request")
        .json()
        .await
        .expect("a JSON body");
    assert_eq!(me["data"]["username"], "ana");
    assert_eq!(me["data"]["role"], "user");

    // A request in flight: the head and half of the body are sent; `Expect: 100-continue` makes
    // the server say when its handler has started reading the body, so SIGTERM certainly
    // arrives while the request is being handled.
    let body = json!({ "username": "bob", "password": "bob-password" }).to_string();
    let (first_half, second_half) = body.split_at(body.len() / 2);
    let mut in_flight = TcpStream::connect(server.address).await.expect("a connection");
    let head = format!(
        "POST /api/v1/users HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {admin}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        server.address,
        body.len()
    );
    in_flight.write_all(head.as_bytes()).await.expect("the head is sent");
    let interim = tokio::time::timeout(PATIENCE, read_head(&mut in_flight)).await.expect("100 Continue in time");
    assert!(interim.starts_with("HTTP/1.1 100"), "{interim}");
    in_flight.write_all(first_half.as_bytes()).await.expect("half the body is sent");
    in_flight.flush().await.expect("flushed");

    server.terminate();
    tokio::time::sleep(Duration::from_millis(300)).await;

    // The listener is closed: a new connection is refused while the old request is in flight.
    // (Polled, because the signal is handled asynchronously.)
    let refused = tokio::time::timeout(PATIENCE, async {
        loop {
            match TcpStream::connect(server.address).await {
                Err(error) if error.kind() == std::io::ErrorKind::ConnectionRefused => break,
                Err(error) => panic!("connecting after SIGTERM failed otherwise: {error}"),
                Ok(_accepted) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    })
    .await;
    assert!(refused.is_ok(), "new connections were still accepted after SIGTERM");

    in_flight.write_all(second_half.as_bytes()).await.expect("the rest of the body is sent");
    let mut response = Vec::new();
    tokio::time::timeout(PATIENCE, in_flight.read_to_end(&mut response))
        .await
        .expect("the response in time")
        .expect("the response");
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 201"), "the in-flight request failed:\n{response}");
    assert!(response.contains("Usuario creado exitosamente"), "{response}");

    let status = server.wait().await;
    assert!(status.success(), "the server exited with {status}");

    // bob was really stored: the CLI sees him.
    let list = workspace.run(&["user", "list"], &[], "").await;
    assert!(list.status.success(), "{list}");
    assert!(list.stdout.lines().any(|line| line.starts_with("bob\tuser")), "{list}");
}

#[tokio::test]
async fn an_idle_server_exits_with_status_zero_on_sigterm() {
    let workspace = Workspace::new();
    let mut server = Server::start(&workspace).await;
    let health: Value = server
        .http
        .get(server.url("/api/v1/health"))
        .send()
        .await
        .expect("the health request")
        .json()
        .await
        .expect("a JSON body");
    assert_eq!(health, json!({ "status": "ok" }));
    server.terminate();
    let status = server.wait().await;
    assert!(status.success(), "the server exited with {status}");
}

#[tokio::test]
async fn a_non_numeric_token_lifetime_stops_the_binary_with_one_line_naming_the_variable() {
    let workspace = Workspace::new();
    let finished =
        workspace.run(&[], &[("ACCESS_TOKEN_EXPIRE_MINUTES", "abc"), ("BIND_ADDR", "127.0.0.1:0")], "").await;
    assert!(!finished.status.success(), "{finished}");
    let lines: Vec<&str> = finished.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{finished}");
    assert!(lines[0].contains("ACCESS_TOKEN_EXPIRE_MINUTES"), "{finished}");
    assert!(!finished.stdout.contains("listening on"), "{finished}");
}

#[tokio::test]
async fn production_without_a_secret_key_stops_the_binary_with_one_line_naming_the_variable() {
    let workspace = Workspace::new();
    let mut command = workspace.command(&[], &[("ENVIRONMENT", "production"), ("BIND_ADDR", "127.0.0.1:0")]);
    command.env_remove("SECRET_KEY");
    let output = tokio::time::timeout(PATIENCE, command.output()).await.expect("the binary stops").expect("output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "exited with {}; stderr:\n{stderr}", output.status);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains("SECRET_KEY"), "{stderr}");
    // Nothing secret-looking or random was generated into the message.
    assert!(!String::from_utf8_lossy(&output.stdout).contains("listening on"));
}

#[tokio::test]
async fn production_without_an_admin_password_refuses_to_start_on_an_empty_database() {
    let workspace = Workspace::new();
    let vars = [
        ("ENVIRONMENT", "production"),
        ("BIND_ADDR", "127.0.0.1:0"),
        ("FACTUS_CLIENT_ID", "client-id"),
        ("FACTUS_CLIENT_SECRET", "client-secret"),
    ];
    let finished = workspace.run(&[], &vars, "").await;
    assert!(!finished.status.success(), "{finished}");
    assert!(finished.stderr.contains("ADMIN_PASSWORD"), "{finished}");
    assert!(!finished.stdout.contains("listening on"), "{finished}");
}

#[tokio::test]
async fn migrate_applies_the_migrations_to_a_fresh_database_and_can_run_again() {
    let workspace = Workspace::new();
    let first = workspace.run(&["migrate"], &[], "").await;
    assert!(first.status.success(), "{first}");
    assert!(first.stdout.contains("migrations applied"), "{first}");
    assert!(workspace.path().join("factus-api.db").exists(), "no database file was created");
    let again = workspace.run(&["migrate"], &[], "").await;
    assert!(again.status.success(), "{again}");
}

#[tokio::test]
async fn user_create_reads_the_password_from_stdin_and_user_list_shows_the_user() {
    let workspace = Workspace::new();
    let created = workspace.run(&["user", "create", "ana", "--role", "user"], &[], "ana-password\n").await;
    assert!(created.status.success(), "{created}");
    assert!(!created.stdout.contains("ana-password") && !created.stderr.contains("ana-password"), "{created}");

    let list = workspace.run(&["user", "list"], &[], "").await;
    assert!(list.status.success(), "{list}");
    assert!(list.stdout.lines().any(|line| line == "ana\tuser\tenabled"), "{list}");

    // The password typed on stdin is the one the server accepts.
    let mut server = Server::start(&workspace).await;
    let token = server.token("ana", "ana-password").await;
    assert!(!token.is_empty());
    server.terminate();
    assert!(server.wait().await.success());
}

#[tokio::test]
async fn user_create_refuses_a_too_short_password_and_creates_nobody() {
    let workspace = Workspace::new();
    let created = workspace.run(&["user", "create", "ana", "--role", "user"], &[], "short\n").await;
    assert!(!created.status.success(), "{created}");
    assert!(created.stderr.contains("at least 8 characters"), "{created}");
    let list = workspace.run(&["user", "list"], &[], "").await;
    assert!(list.status.success(), "{list}");
    assert!(!list.stdout.contains("ana"), "{list}");
}

#[tokio::test]
async fn user_create_of_an_existing_username_fails() {
    let workspace = Workspace::new();
    let first = workspace.run(&["user", "create", "ana"], &[], "ana-password\n").await;
    assert!(first.status.success(), "{first}");
    let second = workspace.run(&["user", "create", "ANA", "--role", "admin"], &[], "other-password\n").await;
    assert!(!second.status.success(), "{second}");
}

/// The login form as Postman's "form-data" sends it: `multipart/form-data` with a boundary.
fn multipart_login(username: &str, password: &str) -> (String, String) {
    let boundary = "--------------------------postman381726354";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\n{username}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\n{password}\r\n--{boundary}--\r\n"
    );
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn login_accepts_the_form_urlencoded_and_the_multipart_form_data_encodings() {
    let workspace = Workspace::new();
    let mut server = Server::start(&workspace).await;
    let login = |content_type: String, body: String| {
        server.http.post(server.url("/api/v1/auth/login")).header("Content-Type", content_type).body(body).send()
    };

    // application/x-www-form-urlencoded, as curl -d and the seed's clients send it.
    let urlencoded =
        login("application/x-www-form-urlencoded".into(), format!("username=admin&password={ADMIN_PASSWORD}"))
            .await
            .expect("the login request");
    assert_eq!(urlencoded.status(), reqwest::StatusCode::OK);
    let token = urlencoded.json::<Value>().await.expect("JSON")["access_token"].as_str().expect("a token").to_owned();

    // multipart/form-data, as Postman's form-data sends it: the same answer, a working token.
    let (content_type, body) = multipart_login("admin", ADMIN_PASSWORD);
    let multipart = login(content_type, body).await.expect("the login request");
    assert_eq!(multipart.status(), reqwest::StatusCode::OK);
    let answer: Value = multipart.json().await.expect("JSON");
    assert_eq!(answer["token_type"], "bearer");
    let me = server.http.get(server.url("/api/v1/auth/me")).bearer_auth(answer["access_token"].as_str().unwrap());
    assert_eq!(me.send().await.expect("me").status(), reqwest::StatusCode::OK);
    assert!(!token.is_empty());

    // A wrong password in multipart is refused like in the other encoding.
    let (content_type, body) = multipart_login("admin", "wrong-password");
    let refused = login(content_type, body).await.expect("the login request");
    assert_eq!(refused.status(), reqwest::StatusCode::UNAUTHORIZED);
    assert_eq!(refused.json::<Value>().await.expect("JSON"), json!({"detail": "Incorrect username or password"}));

    // A multipart body without the password names the missing field, as for the other encoding.
    let boundary = "b0undary";
    let body =
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nadmin\r\n--{boundary}--\r\n");
    let missing = login(format!("multipart/form-data; boundary={boundary}"), body).await.expect("the request");
    assert_eq!(missing.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    let detail = missing.json::<Value>().await.expect("JSON");
    assert_eq!(detail["detail"][0]["loc"], json!(["body", "password"]), "{detail}");

    // A broken multipart body is a clear 422, not a 500.
    let broken = login(format!("multipart/form-data; boundary={boundary}"), "--b0undary\r\nno end".into())
        .await
        .expect("the request");
    assert_eq!(broken.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);

    server.terminate();
    assert!(server.wait().await.success());
}
