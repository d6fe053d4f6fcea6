//! Black-box tests of API keys: the real `factus-api` binary (with its in-process Factus
//! simulator), its command line, and two instances sharing one database, on SQLite and on
//! Postgres.
//!
//! One lifecycle per backend: a key created with the CLI and one created over HTTP are used on
//! every kind of endpoint (users, invoices through the simulator, lookups, the ledger), a key
//! expires, a key is revoked on one instance and refused by the other within the user cache's
//! TTL, unknown and malformed keys are refused, and a disabled user's key stops working.

mod support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use factus_infrastructure::testing::TestDatabase;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt as _;
use tokio::process::{Child, Command};

const SECRET_KEY: &str = "api-keys-black-box-secret-key-0123456789";
const ADMIN_PASSWORD: &str = "api-keys-admin-password";
const PATIENCE: Duration = Duration::from_secs(30);
/// The user cache's TTL of both instances: how long a revocation may take to reach the other.
const CACHE_SECS: u64 = 1;

fn command(database_url: &str, dir: &std::path::Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_factus-api"));
    command
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("DATABASE_URL", database_url)
        .env("SECRET_KEY", SECRET_KEY)
        .env("ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("AUTH_USER_CACHE_SECS", CACHE_SECS.to_string())
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// Runs a CLI command to completion; returns (success, stdout, stderr).
async fn cli(database_url: &str, dir: &std::path::Path, args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut child = command(database_url, dir, args).spawn().expect("the binary starts");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.as_bytes()).await.expect("stdin is written");
    drop(input);
    let output =
        tokio::time::timeout(PATIENCE, child.wait_with_output()).await.expect("the CLI finishes").expect("output");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A running instance of the binary.
struct Instance {
    _child: Child,
    api: String,
    http: reqwest::Client,
}

impl Instance {
    async fn start(database_url: &str, dir: &std::path::Path) -> Self {
        let mut child = command(database_url, dir, &["--simulate-factus", "--bind", "127.0.0.1:0"])
            .spawn()
            .expect("the binary starts");
        let (address, _) = support::listening(&mut child, PATIENCE).await;
        Self {
            _child: child,
            api: format!("http://{address}/api/v1"),
            http: reqwest::Client::builder().timeout(PATIENCE).build().expect("an HTTP client"),
        }
    }

    async fn admin_token(&self) -> String {
        support::login(&self.http, &self.api, "admin", ADMIN_PASSWORD).await
    }

    /// Sends a request with `X-API-Key: key`; returns the status and the JSON body (or null).
    async fn with_key(
        &self,
        key: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.api)).header("X-API-Key", key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the request");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn get_with_key(&self, key: &str, path: &str) -> (StatusCode, Value) {
        self.with_key(key, reqwest::Method::GET, path, None).await
    }
}

fn invoice(reference: &str) -> Value {
    json!({
        "reference_code": reference,
        "customer": {"identification_document_id": 3, "identification": "123456789", "names": "Juan Perez",
                     "legal_organization_id": 2, "tribute_id": 21},
        "items": [{"code_reference": "P-1", "name": "Producto", "quantity": 1, "price": "119.00",
                   "tax_rate": "19.00", "unit_measure_id": 70, "standard_code_id": 1, "is_excluded": 0,
                   "tribute_id": 1}]
    })
}

#[track_caller]
fn assert_refused(reply: &(StatusCode, Value)) {
    assert_eq!(reply.0, StatusCode::UNAUTHORIZED, "{}", reply.1);
    assert_eq!(reply.1, json!({"detail": "Could not validate credentials"}));
}

/// Polls `check` until it holds or `within` has passed.
async fn eventually(within: Duration, mut check: impl AsyncFnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn lifecycle(database_url: &str) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let dir = dir.path();
    let first = Instance::start(database_url, dir).await;
    let second = Instance::start(database_url, dir).await;
    let admin = first.admin_token().await;

    // A user for the machine, and its key created with the CLI: the key alone on stdout.
    let (ok, _, stderr) = cli(database_url, dir, &["user", "create", "erp"], "erp-password-123\n").await;
    assert!(ok, "{stderr}");
    let (ok, stdout, stderr) = cli(database_url, dir, &["api-key", "create", "erp-prod", "--user", "erp"], "").await;
    assert!(ok, "{stderr}");
    let erp_key = stdout.trim().to_owned();
    assert!(erp_key.starts_with("fapi_") && erp_key.len() == 69, "{stdout}");
    assert!(stderr.contains("shown only now") && !stderr.contains(&erp_key), "{stderr}");

    // An admin's key, created over HTTP by the admin (with a bearer token).
    let created = first
        .http
        .post(format!("{}/api-keys", first.api))
        .bearer_auth(&admin)
        .json(&json!({"name": "ops", "username": "admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["message"], "API key creada exitosamente");
    let admin_key = created["data"]["key"].as_str().unwrap().to_owned();
    assert_eq!(created["data"]["prefix"].as_str().unwrap(), &admin_key[..13]);
    assert_eq!(created["data"]["username"], "admin");
    assert_eq!(created["data"]["active"], true);

    // Users: the key is its user, with its user's rights, on both instances.
    for instance in [&first, &second] {
        let (status, me) = instance.get_with_key(&erp_key, "/auth/me").await;
        assert_eq!((status, &me["data"]["username"]), (StatusCode::OK, &json!("erp")), "{me}");
    }
    let (status, _) = first.get_with_key(&erp_key, "/users").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a plain user's key is not an admin");
    let (status, users) = first.get_with_key(&admin_key, "/users").await;
    assert_eq!(status, StatusCode::OK, "{users}");
    // An admin's key may manage keys, like the admin.
    let (status, listed) = first.get_with_key(&admin_key, "/api-keys?username=erp").await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let listed = listed["data"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 1);
    let erp_key_id = listed[0]["id"].as_str().unwrap().to_owned();
    assert!(listed[0].get("key").is_none(), "a listing never shows the key");
    assert_ne!(listed[0]["last_used_at"], Value::Null, "the key was used");

    // Lookups and invoices through the simulator (the server keeps its own Factus session).
    let (status, units) = first.get_with_key(&erp_key, "/lookups/units").await;
    assert_eq!(status, StatusCode::OK, "{units}");
    let (status, issued) = first.with_key(&erp_key, reqwest::Method::POST, "/invoices", Some(invoice("AK-1"))).await;
    assert_eq!(status, StatusCode::OK, "{issued}");
    let number = issued["data"]["number"].as_str().unwrap().to_owned();
    let (status, shown) = first.get_with_key(&erp_key, &format!("/invoices/{number}")).await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    // A bearer token of the same user creates an entry without a key.
    let erp_token = support::login(&first.http, &first.api, "erp", "erp-password-123").await;
    let by_token = first.http.post(format!("{}/invoices", first.api)).bearer_auth(&erp_token).json(&invoice("AK-2"));
    assert_eq!(by_token.send().await.unwrap().status(), StatusCode::OK);

    // The ledger says which key created which invoice.
    let (status, ledger) = first.get_with_key(&erp_key, "/invoices").await;
    assert_eq!(status, StatusCode::OK, "{ledger}");
    let entries = ledger["data"]["items"].as_array().or_else(|| ledger["data"].as_array()).expect("entries").clone();
    let key_of = |reference: &str| {
        entries.iter().find(|entry| entry["reference_code"] == reference).expect("an entry")["api_key_id"].clone()
    };
    assert_eq!(key_of("AK-1"), json!(erp_key_id));
    assert_eq!(key_of("AK-2"), Value::Null);

    // Unknown and malformed keys.
    let unknown = format!("fapi_{}", "0".repeat(64));
    assert_refused(&first.get_with_key(&unknown, "/auth/me").await);
    assert_refused(&first.get_with_key("not-a-key", "/auth/me").await);
    let (status, _) = first.get_with_key("", "/auth/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "an empty key is no credential at all");

    // Expiry: a key that expires in two seconds works, then is refused.
    let expires_at = (time::OffsetDateTime::now_utc() + time::Duration::seconds(2))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let (status, short) = first
        .with_key(
            &admin_key,
            reqwest::Method::POST,
            "/api-keys",
            Some(json!({"name": "short", "username": "erp", "expires_at": expires_at})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{short}");
    let short_key = short["data"]["key"].as_str().unwrap().to_owned();
    assert_eq!(first.get_with_key(&short_key, "/auth/me").await.0, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_refused(&first.get_with_key(&short_key, "/auth/me").await);
    // An expiry in the past is refused at creation.
    let (status, past) = first
        .with_key(
            &admin_key,
            reqwest::Method::POST,
            "/api-keys",
            Some(json!({"name": "x", "username": "erp", "expires_at": "2020-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{past}");
    assert_eq!(past["detail"][0]["loc"], json!(["body", "expires_at"]));

    // Revocation on the first instance: refused there at once, on the second within the TTL.
    assert_eq!(second.get_with_key(&erp_key, "/auth/me").await.0, StatusCode::OK);
    let (status, revoked) =
        first.with_key(&admin_key, reqwest::Method::DELETE, &format!("/api-keys/{erp_key_id}"), None).await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    assert_eq!(revoked["message"], "API key revocada exitosamente");
    assert_eq!(revoked["data"]["active"], false);
    assert_refused(&first.get_with_key(&erp_key, "/auth/me").await);
    let refused_elsewhere = eventually(Duration::from_secs(CACHE_SECS + 2), async || {
        second.get_with_key(&erp_key, "/auth/me").await.0 == StatusCode::UNAUTHORIZED
    })
    .await;
    assert!(refused_elsewhere, "the other instance still accepts a revoked key after the cache TTL");
    let (status, _) = first.with_key(&admin_key, reqwest::Method::DELETE, "/api-keys/not-an-id", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A disabled user's keys are refused; enabled again, they work again.
    let (ok, stdout, stderr) =
        cli(database_url, dir, &["api-key", "create", "erp-2", "--user", "erp", "--expires", "30d"], "").await;
    assert!(ok, "{stderr}");
    let second_erp_key = stdout.trim().to_owned();
    assert_eq!(first.get_with_key(&second_erp_key, "/lookups/units").await.0, StatusCode::OK);
    let disable =
        first.with_key(&admin_key, reqwest::Method::PATCH, "/users/erp", Some(json!({"disabled": true}))).await;
    assert_eq!(disable.0, StatusCode::OK, "{}", disable.1);
    assert_refused(&first.get_with_key(&second_erp_key, "/lookups/units").await);
    let refused_elsewhere = eventually(Duration::from_secs(CACHE_SECS + 2), async || {
        second.get_with_key(&second_erp_key, "/auth/me").await.0 == StatusCode::UNAUTHORIZED
    })
    .await;
    assert!(refused_elsewhere, "the other instance still accepts the key of a disabled user");

    // The CLI lists keys with their state (never the key) and revokes by prefix.
    let (ok, listing, stderr) = cli(database_url, dir, &["api-key", "list", "--user", "erp"], "").await;
    assert!(ok, "{stderr}");
    assert!(!listing.contains(&erp_key) && !listing.contains(&second_erp_key), "{listing}");
    let states: Vec<&str> = listing.lines().map(|line| line.split('\t').nth(4).unwrap()).collect();
    assert_eq!(states, ["revoked", "expired", "active"], "{listing}");
    let (ok, revoked, stderr) = cli(database_url, dir, &["api-key", "revoke", &second_erp_key[..13]], "").await;
    assert!(ok && revoked.starts_with("revoked "), "{revoked}{stderr}");
    let (ok, _, stderr) = cli(database_url, dir, &["api-key", "create", "x", "--user", "nobody"], "").await;
    assert!(!ok && stderr.contains("nobody"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite_an_api_key_works_on_every_kind_of_endpoint_until_it_expires_is_revoked_or_its_user_is_disabled() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}", dir.path().join("keys.db").display());
    // The database is migrated once before two instances start on it together.
    let (ok, _, stderr) = cli(&url, dir.path(), &["migrate"], "").await;
    assert!(ok, "{stderr}");
    lifecycle(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_an_api_key_works_on_every_kind_of_endpoint_until_it_expires_is_revoked_or_its_user_is_disabled() {
    let Some(database) = TestDatabase::postgres_or_skip("api_keys_black_box::postgres").await else { return };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (ok, _, stderr) = cli(database.url(), dir.path(), &["migrate"], "").await;
    assert!(ok, "{stderr}");
    lifecycle(database.url()).await;
    database.drop_database().await;
}
