//! What the black-box suites share (`hardening_black_box.rs`, `invoices_black_box.rs`,
//! `later_api_black_box.rs`, and through `support_exactly_once` the exactly-once and storage
//! suites): a response read whole with its assertions, sending a request, running requests
//! concurrently, the invoice the suites issue, and the real binary in an isolated environment.

// Each test crate uses a part of these helpers.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::process::Command;

/// The real `factus-api` binary of this build.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_factus-api"))
}

/// `command` run in `dir` with an empty environment (no developer `.env`, nothing inherited)
/// apart from `RUST_LOG=warn`, its output piped, killed when dropped.
pub fn isolated<'c>(command: &'c mut Command, dir: &Path) -> &'c mut Command {
    command
        .current_dir(dir)
        .env_clear()
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
}

/// A response with its body read.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|error| panic!("not JSON ({error}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// `{"detail": "<detail>"}` with `status`, nothing else.
    #[track_caller]
    pub fn detail(&self, status: StatusCode, detail: &str) {
        assert_eq!((self.status, self.json()), (status, json!({ "detail": detail })), "body: {}", self.text);
    }

    /// `{"detail": [...]}` with `status`, exactly `errors` in order.
    #[track_caller]
    pub fn errors(&self, status: StatusCode, errors: &Value) {
        assert_eq!((self.status, self.json()), (status, json!({ "detail": errors })), "body: {}", self.text);
    }
}

pub async fn send(builder: reqwest::RequestBuilder) -> Reply {
    let response = builder.send().await.expect("the service answers");
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("a readable body");
    Reply { status, headers, text }
}

/// Sends `request` and reads its JSON answer.
pub async fn json_of(request: reqwest::RequestBuilder) -> Value {
    request.send().await.expect("the service answers").json().await.expect("a JSON body")
}

/// Logs in at `{api}/auth/login` (`api` ends in `/api/v1`) and returns the bearer token,
/// asserting success.
pub async fn login(http: &reqwest::Client, api: &str, username: &str, password: &str) -> String {
    let reply =
        send(http.post(format!("{api}/auth/login")).form(&[("username", username), ("password", password)])).await;
    assert_eq!(reply.status, StatusCode::OK, "login as {username}: {}", reply.text);
    let body = reply.json();
    assert_eq!(body["token_type"], "bearer", "{}", reply.text);
    body["access_token"].as_str().expect("an access token").to_owned()
}

/// Runs futures concurrently on this task (no `futures` dependency needed).
pub async fn join_all<F: std::future::Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|context| {
        let mut pending = false;
        for (future, output) in pinned.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(context) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending { std::task::Poll::Pending } else { std::task::Poll::Ready(()) }
    })
    .await;
    outputs.into_iter().map(|output| output.expect("every future finished")).collect()
}

/// A valid invoice (one line of 10,000 COP with 19 % VAT for a natural person): the OpenAPI
/// document's example under another reference.
pub fn valid_invoice(reference: &str) -> Value {
    let mut invoice = factus_web::schemas::invoice_request_example();
    invoice["reference_code"] = json!(reference);
    invoice
}

/// The keys of a JSON object, in order.
pub fn keys_of(object: &Value) -> Vec<&str> {
    object.as_object().expect("an object").keys().map(String::as_str).collect()
}

/// The reference tables of the lookups' `tables` answer, in order (both generations).
pub const REFERENCE_TABLES: [&str; 7] = [
    "identification_document_types",
    "legal_organization_types",
    "customer_tribute_types",
    "payment_methods",
    "payment_forms",
    "product_standard_codes",
    "document_types",
];

/// A small valid PNG (1×1, transparent).
pub const SMALL_PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82";

/// A `multipart/form-data` body with one file part.
pub fn multipart_file(field: &str, file_name: &str, content_type: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "black-box-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The real application (`app::start`, then `serve`, as `app::run` does) served in-process on 127.0.0.1:0, on a fresh SQLite file,
/// with the suites' common settings under `variables` (which win); stops when dropped.
pub struct Served {
    pub base: String,
    stop: factus_server::app::ShutdownTrigger,
    _dir: tempfile::TempDir,
}

impl Served {
    /// `factus_base_url` with the sandbox's default client, a `secret_key` of the suite's own, and
    /// a circuit breaker and a budget of Factus calls that no suite here trips by accident (each
    /// has its own tests).
    pub async fn start(
        factus_base_url: String,
        secret_key: &str,
        variables: impl IntoIterator<Item = (&'static str, String)>,
    ) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut settings: std::collections::HashMap<&str, String> = std::collections::HashMap::from([
            ("DATABASE_URL", format!("sqlite://{}", dir.path().join("factus-api.db").display())),
            ("SECRET_KEY", secret_key.to_owned()),
            ("FACTUS_BASE_URL", factus_base_url),
            ("FACTUS_CLIENT_ID", factus_sandbox::DEFAULT_CLIENT_ID.to_owned()),
            ("FACTUS_CLIENT_SECRET", factus_sandbox::DEFAULT_CLIENT_SECRET.to_owned()),
            ("FACTUS_TIMEOUT_SECS", "10".to_owned()),
            ("SHUTDOWN_GRACE_SECS", "1".to_owned()),
            ("FACTUS_BREAKER_CONSECUTIVE_FAILURES", "1000".to_owned()),
            ("FACTUS_BREAKER_WINDOW", "1000".to_owned()),
            ("FACTUS_RATE_LIMIT", "1000000".to_owned()),
        ]);
        settings.extend(variables);
        let config = factus_server::config::Config::from_lookup(|name| settings.get(name).cloned())
            .expect("a valid configuration");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let base = format!("http://{}", listener.local_addr().expect("a local address"));
        let (stop, shutdown) = factus_server::app::Shutdown::new();
        let options = factus_server::app::BuildOptions::default();
        let application = factus_server::app::start(&config, options).await.expect("the application starts");
        tokio::spawn(application.serve(listener, shutdown.wait()));
        Self { base, stop, _dir: dir }
    }

    /// Logs in at `/api/v1/auth/login` and returns the bearer token, asserting success.
    pub async fn token(&self, http: &reqwest::Client, username: &str, password: &str) -> String {
        login(http, &format!("{}/api/v1", self.base), username, password).await
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.stop.trigger();
    }
}

/// Every line a child process wrote, on stdout and stderr, kept for assertions.
pub type Output = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

/// Waits at most `patience` for the service in `child` to print `listening on <address>`;
/// returns the address and everything the child writes, before and after. Both pipes are
/// drained for as long as it runs: a pipe nobody reads fills up and blocks the service on its
/// next log line.
pub async fn listening(child: &mut tokio::process::Child, patience: std::time::Duration) -> (SocketAddr, Output) {
    use tokio::io::{AsyncBufRead, AsyncBufReadExt as _, BufReader, Lines};
    fn drain(mut lines: Lines<impl AsyncBufRead + Unpin + Send + 'static>, output: Output) {
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                output.lock().expect("the output").push(line);
            }
        });
    }
    let output = Output::default();
    drain(BufReader::new(child.stderr.take().expect("a stderr pipe")).lines(), output.clone());
    let mut stdout = BufReader::new(child.stdout.take().expect("a stdout pipe")).lines();
    let address = tokio::time::timeout(patience, async {
        while let Some(line) = stdout.next_line().await.expect("stdout is readable") {
            if let Some(address) = line.strip_prefix("listening on ") {
                return address.trim().parse::<SocketAddr>().expect("a socket address");
            }
            output.lock().expect("the output").push(line);
        }
        panic!("the server exited before it listened: {:?}", output.lock().expect("the output"));
    })
    .await
    .expect("the server listens in time");
    drain(stdout, output.clone());
    (address, output)
}

/// Everything a child whose output [`listening`] kept wrote, one line a line, once the child has
/// exited: waits (at most 30 s) for both drains to reach the end of their pipe.
pub async fn all_written(output: Output) -> String {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    // Each drain holds a clone of `output` until its pipe ends.
    while std::sync::Arc::strong_count(&output) > 1 {
        assert!(tokio::time::Instant::now() < deadline, "the child's pipes did not close");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    output.lock().expect("the output").join("\n")
}
