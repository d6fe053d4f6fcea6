//! Router tests of the foundation: the real application (a fresh SQLite file, argon2id with the
//! OWASP parameters, HS256 JWTs, the bootstrapped `admin`/`admin123`) behind
//! `factus_web::router`, driven with `tower::ServiceExt::oneshot`. Every status and body of the
//! auth contract (`docs/contract.md` §1–§2.1, §4; docs/ARCHITECTURE.md), each forged-token
//! case, user administration, the FastAPI error layer, probes, metrics and docs.
//!
//! A few flows run against Postgres too (module `postgres` at the end), through
//! `factus_infrastructure::testing::TestDatabase`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use factus_application::StoreError;
use factus_application::auth::{AuthService, ThrottlePolicy};
use factus_application::ports::UserStore;
use factus_domain::user::{User, Username};
use factus_infrastructure::jwt::JwtTokenService;
use factus_infrastructure::password::Argon2Hasher;
use factus_server::app::{self, Application};
use factus_server::config::Config;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::SecretString;
use serde_json::{Value, json};
use tower::ServiceExt as _;

/// The key every test application signs with.
const SECRET_KEY: &str = "router-tests-secret-key-0123456789abcdef";
/// The development admin's password, created on first start when `ADMIN_PASSWORD` is unset.
const ADMIN_PASSWORD: &str = "admin123";
/// The address requests come from unless a test says otherwise.
const DEFAULT_PEER: &str = "192.0.2.10:40000";

// ---------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------

/// The real application and the router built from it.
struct TestApp {
    app: Application,
    config: Config,
    router: Router,
    /// Holds the SQLite file for as long as the test runs.
    _dir: Option<tempfile::TempDir>,
}

/// A response with its body read.
struct TestResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl TestResponse {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|error| panic!("the body is not JSON ({error}): {}", self.text()))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|value| value.to_str().expect("an ASCII header"))
    }

    #[track_caller]
    fn assert_status(&self, status: StatusCode) -> &Self {
        assert_eq!(self.status, status, "unexpected status; body: {}", self.text());
        self
    }

    /// `{"detail": "<detail>"}` with `status`, and nothing else in the body.
    #[track_caller]
    fn assert_detail(&self, status: StatusCode, detail: &str) -> &Self {
        self.assert_status(status);
        assert_eq!(self.json(), json!({ "detail": detail }));
        self
    }

    /// A 401 with `detail` and the `WWW-Authenticate: Bearer` challenge.
    #[track_caller]
    fn assert_unauthorized(&self, detail: &str) {
        self.assert_detail(StatusCode::UNAUTHORIZED, detail);
        assert_eq!(self.header("www-authenticate"), Some("Bearer"), "401 without the Bearer challenge");
    }

    /// A 422 whose `detail` list is exactly `errors`, in order.
    #[track_caller]
    fn assert_unprocessable(&self, errors: &Value) {
        self.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(self.json(), json!({ "detail": errors }));
    }
}

/// One entry of a FastAPI validation list.
fn entry(loc: Value, msg: &str, kind: &str) -> Value {
    json!({ "loc": loc, "msg": msg, "type": kind })
}

fn missing(loc: Value) -> Value {
    entry(loc, "field required", "value_error.missing")
}

/// A request under construction. Every request carries the peer address (`ConnectInfo`) the
/// real server would insert.
struct Call {
    builder: axum::http::request::Builder,
    body: Body,
    peer: SocketAddr,
}

fn call(method: Method, uri: &str) -> Call {
    Call {
        builder: Request::builder().method(method).uri(uri),
        body: Body::empty(),
        peer: DEFAULT_PEER.parse().expect("a socket address"),
    }
}

fn get(uri: &str) -> Call {
    call(Method::GET, uri)
}

fn post(uri: &str) -> Call {
    call(Method::POST, uri)
}

fn patch(uri: &str) -> Call {
    call(Method::PATCH, uri)
}

fn delete(uri: &str) -> Call {
    call(Method::DELETE, uri)
}

impl Call {
    fn header(mut self, name: &str, value: &str) -> Self {
        self.builder = self.builder.header(name, value);
        self
    }

    fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    fn json(self, body: &Value) -> Self {
        self.raw("application/json", body.to_string())
    }

    fn form(self, body: &str) -> Self {
        self.raw("application/x-www-form-urlencoded", body.to_owned())
    }

    fn raw(mut self, content_type: &str, body: impl Into<Body>) -> Self {
        self.builder = self.builder.header(header::CONTENT_TYPE, content_type);
        self.body = body.into();
        self
    }

    fn body(mut self, body: impl Into<Body>) -> Self {
        self.body = body.into();
        self
    }

    fn peer(mut self, peer: &str) -> Self {
        self.peer = peer.parse().expect("a socket address");
        self
    }

    fn build(self) -> Request<Body> {
        let mut request = self.builder.body(self.body).expect("a valid request");
        request.extensions_mut().insert(ConnectInfo(self.peer));
        request
    }
}

/// The configuration the tests run with: a fresh database, a fixed key, no `ADMIN_PASSWORD`
/// (so the development admin `admin`/`admin123` is created), plus `overrides`.
fn test_config(database_url: &str, overrides: &[(&str, &str)]) -> Config {
    let mut variables: HashMap<String, String> = HashMap::from([
        ("DATABASE_URL".to_owned(), database_url.to_owned()),
        ("SECRET_KEY".to_owned(), SECRET_KEY.to_owned()),
    ]);
    for (name, value) in overrides {
        variables.insert((*name).to_owned(), (*value).to_owned());
    }
    Config::from_lookup(|name| variables.get(name).cloned()).expect("a valid test configuration")
}

impl TestApp {
    /// The real application on a fresh SQLite file, with the admin bootstrapped.
    async fn spawn() -> Self {
        Self::spawn_with(&[]).await
    }

    async fn spawn_with(overrides: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let mut app = Self::start(&url, overrides).await;
        app._dir = Some(dir);
        app
    }

    /// The real application on `database_url`, with the admin bootstrapped.
    async fn start(database_url: &str, overrides: &[(&str, &str)]) -> Self {
        let config = test_config(database_url, overrides);
        let app = app::start(&config, app::BuildOptions::default()).await.expect("the application starts");
        let router = app.router();
        Self { app, config, router, _dir: None }
    }

    async fn send(&self, call: Call) -> TestResponse {
        Self::send_to(&self.router, call).await
    }

    async fn send_to(router: &Router, call: Call) -> TestResponse {
        let response = router.clone().oneshot(call.build()).await.expect("the router is infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a readable body");
        TestResponse { status, headers, body }
    }

    async fn login(&self, username: &str, password: &str) -> TestResponse {
        self.login_from(username, password, DEFAULT_PEER).await
    }

    async fn login_from(&self, username: &str, password: &str, peer: &str) -> TestResponse {
        let form = serde_urlencoded::to_string([("username", username), ("password", password)]).expect("a form");
        self.send(post("/api/v1/auth/login").form(&form).peer(peer)).await
    }

    /// Logs in and returns the access token.
    async fn token(&self, username: &str, password: &str) -> String {
        let response = self.login(username, password).await;
        response.assert_status(StatusCode::OK);
        response.json()["access_token"].as_str().expect("an access token").to_owned()
    }

    async fn admin_token(&self) -> String {
        self.token("admin", ADMIN_PASSWORD).await
    }

    async fn create_user(&self, admin_token: &str, body: &Value) -> TestResponse {
        self.send(post("/api/v1/users").bearer(admin_token).json(body)).await
    }

    /// Creates the user `body` describes, asserting the 201.
    async fn user_created(&self, admin_token: &str, body: &Value) {
        self.create_user(admin_token, body).await.assert_status(StatusCode::CREATED);
    }

    /// Creates `username` with `role` and returns a token of theirs.
    async fn user_token(&self, username: &str, role: &str) -> String {
        let admin = self.admin_token().await;
        let password = format!("{username}-password");
        self.user_created(&admin, &json!({ "username": username, "password": password, "role": role })).await;
        self.token(username, &password).await
    }

    async fn me(&self, token: &str) -> TestResponse {
        self.send(get("/api/v1/auth/me").bearer(token)).await
    }

    async fn update_user(&self, admin_token: &str, username: &str, body: &Value) -> TestResponse {
        self.send(patch(&format!("/api/v1/users/{username}")).bearer(admin_token).json(body)).await
    }
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn b64_json(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

fn decode_segment(segment: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).expect("base64url")).expect("JSON")
}

/// Signs `claims` with `key` and `algorithm`, as an attacker (or a stale deployment) would.
fn sign(algorithm: Algorithm, key: &str, claims: &Value) -> String {
    jsonwebtoken::encode(&Header::new(algorithm), claims, &EncodingKey::from_secret(key.as_bytes()))
        .expect("signing a test token")
}

/// Asserts that `/auth/me` refuses `token` exactly as the reference does.
async fn assert_token_refused(app: &TestApp, token: &str) {
    app.me(token).await.assert_unauthorized("Could not validate credentials");
}

/// Asserts that a fresh app's `/auth/me` refuses a token with `claims` signed by `algorithm` with
/// the service's own key.
async fn assert_signed_token_refused(algorithm: Algorithm, claims: &Value) {
    let app = TestApp::spawn().await;
    assert_token_refused(&app, &sign(algorithm, SECRET_KEY, claims)).await;
}

// ---------------------------------------------------------------------------------------------
// POST /api/v1/auth/login
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn bootstrapped_admin_logs_in_with_the_password_form_and_gets_exactly_a_bearer_token() {
    let app = TestApp::spawn().await;
    let response = app.login("admin", ADMIN_PASSWORD).await;
    response.assert_status(StatusCode::OK);
    assert!(response.header("content-type").is_some_and(|value| value.starts_with("application/json")));
    let body = response.json();
    let keys: Vec<&str> = body.as_object().expect("an object").keys().map(String::as_str).collect();
    assert_eq!(keys, ["access_token", "token_type"]);
    assert_eq!(body["token_type"], "bearer");
    assert!(body["access_token"].as_str().is_some_and(|token| token.split('.').count() == 3));
}

#[tokio::test]
async fn issued_token_is_hs256_with_sub_iat_and_an_exp_of_the_configured_lifetime() {
    let app = TestApp::spawn_with(&[("ACCESS_TOKEN_EXPIRE_MINUTES", "30")]).await;
    let before = now();
    let token = app.admin_token().await;
    let after = now();
    let segments: Vec<&str> = token.split('.').collect();
    assert_eq!(decode_segment(segments[0])["alg"], "HS256");
    let claims = decode_segment(segments[1]);
    assert_eq!(claims["sub"], "admin");
    let iat = claims["iat"].as_i64().expect("an iat claim");
    let exp = claims["exp"].as_i64().expect("an exp claim");
    assert!((before..=after).contains(&iat), "iat {iat} outside [{before}, {after}]");
    assert_eq!(exp - iat, 30 * 60);
}

#[tokio::test]
async fn login_accepts_an_explicit_password_grant_and_ignores_scope_and_client_fields() {
    let app = TestApp::spawn().await;
    let form = "grant_type=password&username=admin&password=admin123&scope=&client_id=x&client_secret=y";
    let response = app.send(post("/api/v1/auth/login").form(form)).await;
    response.assert_status(StatusCode::OK);
    assert_eq!(response.json()["token_type"], "bearer");
}

#[tokio::test]
async fn usernames_are_case_insensitive_at_login() {
    let app = TestApp::spawn().await;
    let token = app.token("ADMIN", ADMIN_PASSWORD).await;
    let me = app.me(&token).await;
    me.assert_status(StatusCode::OK);
    assert_eq!(me.json()["data"]["username"], "admin");
}

#[tokio::test]
async fn wrong_password_is_refused_with_the_reference_401() {
    let app = TestApp::spawn().await;
    app.login("admin", "not-the-password").await.assert_unauthorized("Incorrect username or password");
}

#[tokio::test]
async fn unknown_user_is_refused_exactly_like_a_wrong_password() {
    let app = TestApp::spawn().await;
    let unknown = app.login("nobody", ADMIN_PASSWORD).await;
    unknown.assert_unauthorized("Incorrect username or password");
    let wrong = app.login("admin", "not-the-password").await;
    assert_eq!(unknown.body, wrong.body);
}

#[tokio::test]
async fn a_username_that_cannot_exist_is_refused_like_an_unknown_one() {
    let app = TestApp::spawn().await;
    app.login("x", ADMIN_PASSWORD).await.assert_unauthorized("Incorrect username or password");
    app.login("ana maria", ADMIN_PASSWORD).await.assert_unauthorized("Incorrect username or password");
}

#[tokio::test]
async fn login_without_a_username_lists_it_as_missing() {
    let app = TestApp::spawn().await;
    let response = app.send(post("/api/v1/auth/login").form("password=admin123")).await;
    response.assert_unprocessable(&json!([missing(json!(["body", "username"]))]));
}

#[tokio::test]
async fn login_without_a_password_lists_it_as_missing() {
    let app = TestApp::spawn().await;
    let response = app.send(post("/api/v1/auth/login").form("username=admin")).await;
    response.assert_unprocessable(&json!([missing(json!(["body", "password"]))]));
}

#[tokio::test]
async fn login_with_an_empty_form_lists_both_fields_as_missing() {
    let app = TestApp::spawn().await;
    let response = app.send(post("/api/v1/auth/login").form("")).await;
    response
        .assert_unprocessable(&json!([missing(json!(["body", "username"])), missing(json!(["body", "password"])),]));
}

#[tokio::test]
async fn login_with_a_json_body_instead_of_a_form_lists_both_fields_as_missing() {
    let app = TestApp::spawn().await;
    let response =
        app.send(post("/api/v1/auth/login").json(&json!({ "username": "admin", "password": "admin123" }))).await;
    response
        .assert_unprocessable(&json!([missing(json!(["body", "username"])), missing(json!(["body", "password"])),]));
}

#[tokio::test]
async fn login_with_a_client_credentials_grant_is_refused_with_422() {
    let app = TestApp::spawn().await;
    let form = "grant_type=client_credentials&username=admin&password=admin123";
    let response = app.send(post("/api/v1/auth/login").form(form)).await;
    response.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let detail = response.json()["detail"].clone();
    let errors = detail.as_array().expect("a list");
    assert_eq!(errors.len(), 1, "{detail}");
    assert_eq!(errors[0]["loc"], json!(["body", "grant_type"]));
}

// ---------------------------------------------------------------------------------------------
// Login throttling
// ---------------------------------------------------------------------------------------------

#[track_caller]
fn assert_throttled(response: &TestResponse) {
    response.assert_detail(StatusCode::TOO_MANY_REQUESTS, "Too many failed login attempts, try again later");
    let retry_after: u64 =
        response.header("retry-after").expect("a Retry-After header").parse().expect("Retry-After in whole seconds");
    assert!((1..=15 * 60).contains(&retry_after), "Retry-After {retry_after} outside the 15 minute window");
}

#[tokio::test]
async fn after_five_failed_logins_for_a_username_the_next_attempt_is_throttled_even_with_the_right_password() {
    let app = TestApp::spawn().await;
    for _ in 0..5 {
        app.login("admin", "wrong-password").await.assert_unauthorized("Incorrect username or password");
    }
    assert_throttled(&app.login("admin", "wrong-password").await);
    assert_throttled(&app.login("admin", ADMIN_PASSWORD).await);
}

#[tokio::test]
async fn username_throttling_ignores_the_case_the_username_was_typed_in() {
    let app = TestApp::spawn().await;
    for username in ["admin", "Admin", "ADMIN", "aDmIn", "admiN"] {
        app.login(username, "wrong-password").await.assert_unauthorized("Incorrect username or password");
    }
    assert_throttled(&app.login("admin", ADMIN_PASSWORD).await);
}

/// Locking a username wherever the guesses come from lets anybody lock the real user out
/// (issue 8, item 4): failures from other addresses only delay the right password.
#[tokio::test]
async fn failures_of_a_username_from_other_addresses_delay_but_do_not_refuse_the_right_password() {
    let app = TestApp::spawn().await;
    for index in 0..7 {
        let peer = format!("198.51.100.{}:5000", index + 1);
        app.login_from("admin", "wrong-password", &peer).await.assert_unauthorized("Incorrect username or password");
    }
    let started = std::time::Instant::now();
    app.login_from("admin", ADMIN_PASSWORD, "198.51.100.99:5000").await.assert_status(StatusCode::OK);
    // Eight failures with this attempt: three over the five free ones, 250 ms doubled twice.
    assert!(started.elapsed() >= Duration::from_secs(1), "no growing delay: {:?}", started.elapsed());
}

#[tokio::test]
async fn a_successful_login_forgives_the_earlier_failures_of_that_username() {
    let app = TestApp::spawn().await;
    for _ in 0..4 {
        app.login("admin", "wrong-password").await.assert_unauthorized("Incorrect username or password");
    }
    app.login("admin", ADMIN_PASSWORD).await.assert_status(StatusCode::OK);
    for _ in 0..4 {
        app.login("admin", "wrong-password").await.assert_unauthorized("Incorrect username or password");
    }
    app.login("admin", ADMIN_PASSWORD).await.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn failures_of_one_username_do_not_throttle_another() {
    let app = TestApp::spawn().await;
    for _ in 0..5 {
        app.login("mallory", "wrong-password").await.assert_unauthorized("Incorrect username or password");
    }
    assert_throttled(&app.login("mallory", "wrong-password").await);
    app.login("admin", ADMIN_PASSWORD).await.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn twenty_failures_from_one_address_throttle_a_twenty_first_username_from_that_address_only() {
    let app = TestApp::spawn().await;
    let attacker = "203.0.113.7:5000";
    for index in 0..20 {
        app.login_from(&format!("victim{index}"), "wrong-password", attacker)
            .await
            .assert_unauthorized("Incorrect username or password");
    }
    // A username with no failures of its own, and the right password: the address is throttled.
    assert_throttled(&app.login_from("admin", ADMIN_PASSWORD, attacker).await);
    // Another client is not affected.
    app.login_from("admin", ADMIN_PASSWORD, "198.51.100.20:6000").await.assert_status(StatusCode::OK);
}

/// A throttle that checks the count before the (slow) password check and records the failure
/// after it lets every attempt that arrives at once through: an attacker sending guesses in
/// parallel would get as many as they like per window instead of five.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_failed_logins_for_one_username_from_one_address_get_no_more_than_five_password_checks() {
    let app = TestApp::spawn().await;
    let mut attempts = tokio::task::JoinSet::new();
    for _ in 0..30 {
        let router = app.router.clone();
        let peer = "198.51.100.1:7000".to_owned();
        attempts.spawn(async move {
            let call = post("/api/v1/auth/login").form("username=admin&password=wrong-guess").peer(&peer);
            TestApp::send_to(&router, call).await.status
        });
    }
    let mut refused_as_wrong = 0;
    let mut throttled = 0;
    while let Some(status) = attempts.join_next().await {
        match status.expect("an attempt") {
            StatusCode::UNAUTHORIZED => refused_as_wrong += 1,
            StatusCode::TOO_MANY_REQUESTS => throttled += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(
        refused_as_wrong <= 5,
        "{refused_as_wrong} of 30 parallel guesses had their password checked ({throttled} throttled); \
         the limit is 5 per username and address"
    );
}

// ---------------------------------------------------------------------------------------------
// GET /api/v1/auth/me and forged tokens
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn me_returns_the_current_user_in_the_envelope_without_the_password_hash() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let response = app.me(&token).await;
    response.assert_status(StatusCode::OK);
    let body = response.json();
    assert_eq!(body["success"], true);
    assert_eq!(body["message"], "Usuario obtenido exitosamente");
    assert_eq!(body["errors"], Value::Null);
    assert_eq!(body["data"]["username"], "admin");
    assert_eq!(body["data"]["role"], "admin");
    assert_eq!(body["data"]["disabled"], false);
    assert!(!response.text().contains("argon2"), "a password hash leaked: {}", response.text());
    assert!(body["data"].get("password_hash").is_none() && body["data"].get("password").is_none());
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let response = app.send(get("/api/v1/auth/me").header("authorization", &format!("bearer {token}"))).await;
    response.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn me_without_an_authorization_header_is_not_authenticated() {
    let app = TestApp::spawn().await;
    app.send(get("/api/v1/auth/me")).await.assert_unauthorized("Not authenticated");
}

#[tokio::test]
async fn me_with_basic_credentials_is_not_authenticated() {
    let app = TestApp::spawn().await;
    let basic = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("admin:admin123"));
    app.send(get("/api/v1/auth/me").header("authorization", &basic)).await.assert_unauthorized("Not authenticated");
}

#[tokio::test]
async fn me_with_an_empty_bearer_token_is_not_authenticated() {
    let app = TestApp::spawn().await;
    app.send(get("/api/v1/auth/me").header("authorization", "Bearer ")).await.assert_unauthorized("Not authenticated");
}

#[tokio::test]
async fn forged_token_signed_with_another_key_is_refused() {
    let app = TestApp::spawn().await;
    let token = sign(
        Algorithm::HS256,
        "another-key-of-at-least-thirty-two-bytes!!",
        &json!({ "sub": "admin", "exp": now() + 3600, "iat": now() }),
    );
    assert_token_refused(&app, &token).await;
}

#[tokio::test]
async fn forged_token_with_alg_none_is_refused() {
    let app = TestApp::spawn().await;
    let header = b64_json(&json!({ "alg": "none", "typ": "JWT" }));
    let claims = b64_json(&json!({ "sub": "admin", "exp": now() + 3600, "iat": now() }));
    assert_token_refused(&app, &format!("{header}.{claims}.")).await;
    // Some libraries also accept the capitalised spelling.
    let header = b64_json(&json!({ "alg": "None", "typ": "JWT" }));
    assert_token_refused(&app, &format!("{header}.{claims}.")).await;
}

#[tokio::test]
async fn forged_token_signed_with_hs512_and_the_right_key_is_refused_when_hs256_is_configured() {
    assert_signed_token_refused(Algorithm::HS512, &json!({ "sub": "admin", "exp": now() + 3600, "iat": now() })).await;
}

#[tokio::test]
async fn forged_token_claiming_hs256_but_carrying_an_hs512_signature_is_refused() {
    let app = TestApp::spawn().await;
    let real = sign(Algorithm::HS512, SECRET_KEY, &json!({ "sub": "admin", "exp": now() + 3600 }));
    let signature = real.rsplit('.').next().expect("a signature");
    let header = b64_json(&json!({ "alg": "HS256", "typ": "JWT" }));
    let claims = b64_json(&json!({ "sub": "admin", "exp": now() + 3600 }));
    assert_token_refused(&app, &format!("{header}.{claims}.{signature}")).await;
}

#[tokio::test]
async fn expired_token_is_refused() {
    // Well past the 5 s leeway.
    assert_signed_token_refused(Algorithm::HS256, &json!({ "sub": "admin", "exp": now() - 120, "iat": now() - 3720 }))
        .await;
}

#[tokio::test]
async fn token_the_service_issued_long_ago_is_refused_once_expired() {
    let app = TestApp::spawn().await;
    let issuer = JwtTokenService::new(&SecretString::from(SECRET_KEY), "HS256", 60).expect("a token service");
    let two_hours_ago = time::OffsetDateTime::now_utc() - time::Duration::hours(2);
    let issued = issuer.issue_at("admin", 0, two_hours_ago).expect("a token");
    assert_token_refused(&app, &issued.access_token).await;
}

#[tokio::test]
async fn a_fresh_token_signed_the_same_way_by_hand_is_accepted() {
    // The control for the forged cases above: the same claims, key and algorithm, not expired,
    // are accepted, so each refusal is due to the one thing that was changed.
    let app = TestApp::spawn().await;
    let token = sign(Algorithm::HS256, SECRET_KEY, &json!({ "sub": "admin", "exp": now() + 3600, "iat": now() }));
    app.me(&token).await.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn token_without_a_sub_claim_is_refused() {
    assert_signed_token_refused(Algorithm::HS256, &json!({ "exp": now() + 3600, "iat": now() })).await;
}

#[tokio::test]
async fn token_with_an_empty_sub_claim_is_refused() {
    assert_signed_token_refused(Algorithm::HS256, &json!({ "sub": "", "exp": now() + 3600 })).await;
}

#[tokio::test]
async fn token_without_an_exp_claim_is_refused() {
    assert_signed_token_refused(Algorithm::HS256, &json!({ "sub": "admin", "iat": now() })).await;
}

#[tokio::test]
async fn garbage_bearer_tokens_are_refused() {
    let app = TestApp::spawn().await;
    for garbage in ["garbage", "a.b.c", "....", "eyJhbGciOiJIUzI1NiJ9.e30.", "Bearer"] {
        assert_token_refused(&app, garbage).await;
    }
}

#[tokio::test]
async fn token_whose_payload_was_edited_to_another_user_is_refused() {
    let app = TestApp::spawn().await;
    let token = app.user_token("ana", "user").await;
    let segments: Vec<&str> = token.split('.').collect();
    let mut claims = decode_segment(segments[1]);
    claims["sub"] = json!("admin");
    let tampered = format!("{}.{}.{}", segments[0], b64_json(&claims), segments[2]);
    assert_token_refused(&app, &tampered).await;
}

#[tokio::test]
async fn token_of_a_never_existing_user_is_refused() {
    assert_signed_token_refused(Algorithm::HS256, &json!({ "sub": "ghost", "exp": now() + 3600, "iat": now() })).await;
}

#[tokio::test]
async fn token_of_a_user_that_was_then_disabled_is_refused_at_once() {
    // With the default user cache: the token is used (and its user cached) before the change.
    let app = TestApp::spawn().await;
    let token = app.user_token("ana", "user").await;
    app.me(&token).await.assert_status(StatusCode::OK);
    let admin = app.admin_token().await;
    app.update_user(&admin, "ana", &json!({ "disabled": true })).await.assert_status(StatusCode::OK);
    assert_token_refused(&app, &token).await;
}

#[tokio::test]
async fn token_of_a_user_that_was_then_deleted_is_refused_at_once() {
    let app = TestApp::spawn().await;
    let token = app.user_token("ana", "user").await;
    app.me(&token).await.assert_status(StatusCode::OK);
    let admin = app.admin_token().await;
    app.send(delete("/api/v1/users/ana").bearer(&admin)).await.assert_status(StatusCode::OK);
    assert_token_refused(&app, &token).await;
}

#[tokio::test]
async fn with_the_user_cache_off_a_user_disabled_by_another_instance_is_refused_at_once() {
    let app = TestApp::spawn_with(&[("AUTH_USER_CACHE_SECS", "0")]).await;
    let token = app.user_token("ana", "user").await;
    app.me(&token).await.assert_status(StatusCode::OK);
    // A second instance on the same database disables ana; this one never hears of it.
    let other = app::build(&app.config, app::BuildOptions::default()).await.expect("a second instance");
    let ana = Username::parse("ana").expect("a username");
    let changes = factus_application::users::UserChanges { disabled: Some(true), ..Default::default() };
    other.state.users.update(&ana, changes).await.expect("disabled by the other instance");
    assert_token_refused(&app, &token).await;
}

#[tokio::test]
async fn a_disabled_user_cannot_log_in_even_with_the_right_password() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    app.user_created(&admin, &json!({ "username": "ana", "password": "ana-password" })).await;
    app.update_user(&admin, "ana", &json!({ "disabled": true })).await.assert_status(StatusCode::OK);
    app.login("ana", "ana-password").await.assert_unauthorized("Incorrect username or password");
    app.update_user(&admin, "ana", &json!({ "disabled": false })).await.assert_status(StatusCode::OK);
    app.login("ana", "ana-password").await.assert_status(StatusCode::OK);
}

// ---------------------------------------------------------------------------------------------
// /api/v1/users (admins only)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_non_admin_gets_403_on_every_users_route() {
    let app = TestApp::spawn().await;
    let token = app.user_token("ana", "user").await;
    let calls = [
        get("/api/v1/users").bearer(&token),
        post("/api/v1/users").bearer(&token).json(&json!({ "username": "bob", "password": "bob-password" })),
        patch("/api/v1/users/admin").bearer(&token).json(&json!({ "disabled": true })),
        delete("/api/v1/users/admin").bearer(&token),
    ];
    for call in calls {
        app.send(call).await.assert_detail(StatusCode::FORBIDDEN, "Not enough permissions");
    }
    // Nothing happened to admin.
    app.admin_token().await;
}

#[tokio::test]
async fn users_routes_without_a_token_are_not_authenticated() {
    let app = TestApp::spawn().await;
    let calls = [
        get("/api/v1/users"),
        post("/api/v1/users").json(&json!({ "username": "bob", "password": "bob-password" })),
        patch("/api/v1/users/admin").json(&json!({ "disabled": true })),
        delete("/api/v1/users/admin"),
    ];
    for call in calls {
        app.send(call).await.assert_unauthorized("Not authenticated");
    }
}

#[tokio::test]
async fn creating_a_user_answers_201_with_the_envelope_and_no_password_hash() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let response = app.create_user(&admin, &json!({ "username": "Ana", "password": "ana-password" })).await;
    response.assert_status(StatusCode::CREATED);
    let body = response.json();
    let keys: Vec<&str> = body.as_object().expect("an object").keys().map(String::as_str).collect();
    assert_eq!(keys, ["success", "message", "data", "errors"]);
    assert_eq!(body["success"], true);
    assert_eq!(body["message"], "Usuario creado exitosamente");
    assert_eq!(body["errors"], Value::Null);
    let data = &body["data"];
    let mut fields: Vec<&str> = data.as_object().expect("an object").keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["created_at", "disabled", "id", "role", "updated_at", "username"]);
    assert_eq!(data["username"], "ana", "usernames are stored lower-case");
    assert_eq!(data["role"], "user", "the default role");
    assert_eq!(data["disabled"], false);
    assert!(uuid::Uuid::parse_str(data["id"].as_str().expect("an id")).is_ok());
    for stamp in ["created_at", "updated_at"] {
        let text = data[stamp].as_str().expect("a timestamp");
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|error| panic!("{stamp} {text} is not RFC 3339: {error}"));
    }
    assert!(!response.text().contains("argon2") && !response.text().contains("ana-password"));
    // The new user can log in.
    app.token("ana", "ana-password").await;
}

#[tokio::test]
async fn creating_an_admin_gives_them_user_management() {
    let app = TestApp::spawn().await;
    let token = app.user_token("root2", "admin").await;
    let response = app.send(get("/api/v1/users").bearer(&token)).await;
    response.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn listing_users_shows_every_user_ordered_by_name_in_the_envelope() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for name in ["zoe", "bob"] {
        app.user_created(&admin, &json!({ "username": name, "password": "long-enough" })).await;
    }
    let response = app.send(get("/api/v1/users").bearer(&admin)).await;
    response.assert_status(StatusCode::OK);
    let body = response.json();
    assert_eq!(body["success"], true);
    assert_eq!(body["message"], "Usuarios obtenidos exitosamente");
    assert_eq!(body["errors"], Value::Null);
    let names: Vec<&str> = body["data"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|user| user["username"].as_str().expect("a name"))
        .collect();
    assert_eq!(names, ["admin", "bob", "zoe"]);
    assert!(!response.text().contains("argon2"));
}

#[tokio::test]
async fn creating_a_duplicate_username_conflicts_whatever_its_case() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    app.user_created(&admin, &json!({ "username": "ana", "password": "ana-password" })).await;
    for name in ["ana", "ANA", "Ana"] {
        app.create_user(&admin, &json!({ "username": name, "password": "other-password" }))
            .await
            .assert_detail(StatusCode::CONFLICT, "Username already exists");
    }
    app.create_user(&admin, &json!({ "username": "ADMIN", "password": "other-password" }))
        .await
        .assert_detail(StatusCode::CONFLICT, "Username already exists");
    // The first ana's password still works.
    app.token("ana", "ana-password").await;
}

#[tokio::test]
async fn creating_a_user_with_invalid_fields_lists_every_one_of_them() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let response =
        app.create_user(&admin, &json!({ "username": "ana maria", "password": "short", "role": "root" })).await;
    response.assert_unprocessable(&json!([
        entry(
            json!(["body", "username"]),
            "username may only contain letters, digits, '.', '_', '-' and '@'",
            "value_error"
        ),
        entry(json!(["body", "password"]), "password must have at least 8 characters", "value_error"),
        entry(json!(["body", "role"]), "role must be 'admin' or 'user'", "value_error"),
    ]));
    // Nothing was created.
    let list = app.send(get("/api/v1/users").bearer(&admin)).await;
    assert_eq!(list.json()["data"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn creating_a_user_with_missing_and_mistyped_fields_lists_every_one_of_them() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    app.create_user(&admin, &json!({}))
        .await
        .assert_unprocessable(&json!([missing(json!(["body", "username"])), missing(json!(["body", "password"])),]));
    app.create_user(&admin, &json!({ "username": 5, "password": "long-enough", "role": true }))
        .await
        .assert_unprocessable(&json!([
            entry(json!(["body", "username"]), "str type expected", "type_error.str"),
            entry(json!(["body", "role"]), "str type expected", "type_error.str"),
        ]));
}

#[tokio::test]
async fn creating_a_user_with_a_body_that_is_not_an_object_is_refused_with_422() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let response = app.create_user(&admin, &json!(["ana", "ana-password"])).await;
    response.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(response.json()["detail"][0]["loc"], json!(["body"]));
}

#[tokio::test]
async fn an_admin_can_disable_and_re_enable_a_user() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    app.user_created(&admin, &json!({ "username": "ana", "password": "ana-password" })).await;
    let response = app.update_user(&admin, "ana", &json!({ "disabled": true })).await;
    response.assert_status(StatusCode::OK);
    let body = response.json();
    assert_eq!(body["success"], true);
    assert_eq!(body["message"], "Usuario actualizado exitosamente");
    assert_eq!(body["data"]["disabled"], true);
    assert_eq!(body["data"]["username"], "ana");
    let enabled = app.update_user(&admin, "ana", &json!({ "disabled": false })).await;
    assert_eq!(enabled.json()["data"]["disabled"], false);
}

#[tokio::test]
async fn an_admin_can_promote_a_user_who_then_manages_users() {
    let app = TestApp::spawn().await;
    let token = app.user_token("ana", "user").await;
    app.send(get("/api/v1/users").bearer(&token)).await.assert_status(StatusCode::FORBIDDEN);
    let admin = app.admin_token().await;
    let response = app.update_user(&admin, "ana", &json!({ "role": "admin" })).await;
    response.assert_status(StatusCode::OK);
    assert_eq!(response.json()["data"]["role"], "admin");
    // A role change ends the sessions issued before it (issue 8, item 5); a new login carries
    // the new role.
    app.send(get("/api/v1/users").bearer(&token)).await.assert_unauthorized("Could not validate credentials");
    let token = app.login("ana", "ana-password").await.json()["access_token"].as_str().expect("a token").to_owned();
    app.send(get("/api/v1/users").bearer(&token)).await.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn an_admin_password_reset_replaces_the_old_password() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    app.user_created(&admin, &json!({ "username": "ana", "password": "ana-password" })).await;
    app.update_user(&admin, "ana", &json!({ "password": "brand-new-password" })).await.assert_status(StatusCode::OK);
    app.login("ana", "ana-password").await.assert_unauthorized("Incorrect username or password");
    app.token("ana", "brand-new-password").await;
}

#[tokio::test]
async fn updating_a_user_with_invalid_fields_lists_every_one_of_them() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let response =
        app.update_user(&admin, "admin", &json!({ "disabled": "maybe", "role": "root", "password": "short" })).await;
    response.assert_unprocessable(&json!([
        entry(json!(["body", "disabled"]), "value could not be parsed to a boolean", "type_error.bool"),
        entry(json!(["body", "role"]), "role must be 'admin' or 'user'", "value_error"),
        entry(json!(["body", "password"]), "password must have at least 8 characters", "value_error"),
    ]));
}

#[tokio::test]
async fn updating_or_deleting_an_unknown_user_is_not_found() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    app.update_user(&admin, "ghost", &json!({ "disabled": true }))
        .await
        .assert_detail(StatusCode::NOT_FOUND, "User not found");
    app.send(delete("/api/v1/users/ghost").bearer(&admin)).await.assert_detail(StatusCode::NOT_FOUND, "User not found");
    // A name that cannot exist at all is simply not found too.
    app.update_user(&admin, "x", &json!({ "disabled": true }))
        .await
        .assert_detail(StatusCode::NOT_FOUND, "User not found");
}

#[tokio::test]
async fn the_last_enabled_admin_cannot_be_disabled_demoted_or_deleted() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let message = "The last enabled admin cannot be disabled, demoted or deleted";
    app.update_user(&admin, "admin", &json!({ "disabled": true })).await.assert_detail(StatusCode::CONFLICT, message);
    app.update_user(&admin, "admin", &json!({ "role": "user" })).await.assert_detail(StatusCode::CONFLICT, message);
    app.send(delete("/api/v1/users/admin").bearer(&admin)).await.assert_detail(StatusCode::CONFLICT, message);
    // Still an enabled admin.
    let me = app.me(&admin).await;
    assert_eq!(me.json()["data"]["role"], "admin");
    assert_eq!(me.json()["data"]["disabled"], false);
}

#[tokio::test]
async fn a_disabled_second_admin_does_not_count_as_an_enabled_admin() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    app.user_created(&admin, &json!({ "username": "ana", "password": "ana-password", "role": "admin" })).await;
    app.update_user(&admin, "ana", &json!({ "disabled": true })).await.assert_status(StatusCode::OK);
    app.update_user(&admin, "admin", &json!({ "role": "user" })).await.assert_status(StatusCode::CONFLICT);
}

#[tokio::test]
async fn with_a_second_enabled_admin_the_first_one_can_be_demoted() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    app.user_created(&admin, &json!({ "username": "ana", "password": "ana-password", "role": "admin" })).await;
    let response = app.update_user(&admin, "admin", &json!({ "role": "user" })).await;
    response.assert_status(StatusCode::OK);
    assert_eq!(response.json()["data"]["role"], "user");
    // Now ana is the last one.
    let ana = app.token("ana", "ana-password").await;
    app.send(delete("/api/v1/users/ana").bearer(&ana)).await.assert_status(StatusCode::CONFLICT);
}

#[tokio::test]
async fn deleting_a_user_answers_the_envelope_and_removes_them() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    app.user_created(&admin, &json!({ "username": "ana", "password": "ana-password" })).await;
    let response = app.send(delete("/api/v1/users/ANA").bearer(&admin)).await;
    response.assert_status(StatusCode::OK);
    assert_eq!(
        response.json(),
        json!({ "success": true, "message": "Usuario eliminado exitosamente", "data": null, "errors": null })
    );
    app.login("ana", "ana-password").await.assert_unauthorized("Incorrect username or password");
    app.send(delete("/api/v1/users/ana").bearer(&admin)).await.assert_detail(StatusCode::NOT_FOUND, "User not found");
    let list = app.send(get("/api/v1/users").bearer(&admin)).await;
    assert_eq!(list.json()["data"].as_array().map(Vec::len), Some(1));
}

// ---------------------------------------------------------------------------------------------
// POST /api/v1/auth/password
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn changing_ones_password_with_a_wrong_current_password_is_refused_with_400() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let body = json!({ "current_password": "not-it", "new_password": "brand-new-password" });
    app.send(post("/api/v1/auth/password").bearer(&token).json(&body))
        .await
        .assert_detail(StatusCode::BAD_REQUEST, "Current password is incorrect");
    app.token("admin", ADMIN_PASSWORD).await;
}

#[tokio::test]
async fn changing_ones_password_to_a_too_short_one_is_refused_with_422() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let body = json!({ "current_password": ADMIN_PASSWORD, "new_password": "short" });
    app.send(post("/api/v1/auth/password").bearer(&token).json(&body)).await.assert_unprocessable(&json!([entry(
        json!(["body", "new_password"]),
        "password must have at least 8 characters",
        "value_error"
    ),]));
}

#[tokio::test]
async fn changing_ones_password_without_the_fields_lists_both_as_missing() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    app.send(post("/api/v1/auth/password").bearer(&token).json(&json!({}))).await.assert_unprocessable(&json!([
        missing(json!(["body", "current_password"])),
        missing(json!(["body", "new_password"])),
    ]));
}

#[tokio::test]
async fn changing_ones_password_without_a_token_is_not_authenticated() {
    let app = TestApp::spawn().await;
    let body = json!({ "current_password": ADMIN_PASSWORD, "new_password": "brand-new-password" });
    app.send(post("/api/v1/auth/password").json(&body)).await.assert_unauthorized("Not authenticated");
}

#[tokio::test]
async fn after_changing_ones_password_the_old_one_is_refused_and_the_new_one_accepted() {
    let app = TestApp::spawn().await;
    let token = app.user_token("ana", "user").await;
    let body = json!({ "current_password": "ana-password", "new_password": "brand-new-password" });
    let response = app.send(post("/api/v1/auth/password").bearer(&token).json(&body)).await;
    response.assert_status(StatusCode::OK);
    assert_eq!(
        response.json(),
        json!({ "success": true, "message": "Contraseña actualizada exitosamente", "data": null, "errors": null })
    );
    app.login("ana", "ana-password").await.assert_unauthorized("Incorrect username or password");
    app.token("ana", "brand-new-password").await;
}

// ---------------------------------------------------------------------------------------------
// The FastAPI error layer
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn unknown_paths_are_404_not_found() {
    let app = TestApp::spawn().await;
    for path in ["/nope", "/api/v1/nope", "/api/v1/users/ana/extra", "/api/v2/health"] {
        app.send(get(path)).await.assert_detail(StatusCode::NOT_FOUND, "Not Found");
    }
}

#[tokio::test]
async fn wrong_methods_are_405_method_not_allowed() {
    let app = TestApp::spawn().await;
    let calls = [
        get("/api/v1/auth/login"),
        delete("/api/v1/health"),
        post("/api/v1/auth/me"),
        call(Method::PUT, "/api/v1/users/ana"),
        post("/metrics"),
    ];
    for call in calls {
        app.send(call).await.assert_detail(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
    }
}

#[tokio::test]
async fn malformed_json_is_a_jsondecode_422_with_the_offset_even_without_a_token() {
    let app = TestApp::spawn().await;
    let cases = [
        ("POST", "/api/v1/users", "{'username': 'ana'}", 1),
        ("POST", "/api/v1/users", r#"{"username": }"#, 13),
        ("POST", "/api/v1/auth/password", "{\n  \"a\": ,\n}", 9),
        ("PATCH", "/api/v1/users/ana", r#"{"disabled": true,}"#, 18),
    ];
    for (method, path, body, offset) in cases {
        let method = Method::from_bytes(method.as_bytes()).expect("a method");
        let response = app.send(call(method, path).raw("application/json", body)).await;
        response.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        let detail = response.json()["detail"].clone();
        assert_eq!(detail.as_array().map(Vec::len), Some(1), "{detail}");
        assert_eq!(detail[0]["loc"], json!(["body", offset]), "{path} {body:?}: {detail}");
        assert_eq!(detail[0]["type"], "value_error.jsondecode");
        assert!(detail[0]["msg"].as_str().is_some_and(|msg| msg.starts_with("JSON decode error")), "{detail}");
    }
}

#[tokio::test]
async fn malformed_json_with_a_valid_token_is_the_same_422() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let response = app.send(post("/api/v1/users").bearer(&token).raw("application/json", "{'username': 'ana'}")).await;
    response.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(response.json()["detail"][0]["loc"], json!(["body", 1]));
    assert_eq!(response.json()["detail"][0]["type"], "value_error.jsondecode");
}

#[tokio::test]
async fn an_empty_body_is_a_missing_body_422() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    for body in ["", "  \n"] {
        app.send(post("/api/v1/users").bearer(&token).raw("application/json", body))
            .await
            .assert_unprocessable(&json!([missing(json!(["body"]))]));
    }
    app.send(post("/api/v1/users").bearer(&token)).await.assert_unprocessable(&json!([missing(json!(["body"]))]));
}

#[tokio::test]
async fn a_non_json_content_type_is_refused_with_422() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let body = json!({ "username": "ana", "password": "ana-password" }).to_string();
    let response = app.send(post("/api/v1/users").bearer(&token).raw("text/plain", body)).await;
    response.assert_unprocessable(&json!([entry(json!(["body"]), "value is not a valid dict", "type_error.dict")]));
    let list = app.send(get("/api/v1/users").bearer(&token)).await;
    assert_eq!(list.json()["data"].as_array().map(Vec::len), Some(1), "nothing was created");
}

#[tokio::test]
async fn a_json_body_without_a_content_type_is_read_as_json_as_fastapi_does() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let body = json!({ "username": "ana", "password": "ana-password" }).to_string();
    app.send(post("/api/v1/users").bearer(&token).body(body)).await.assert_status(StatusCode::CREATED);
}

#[tokio::test]
async fn a_json_content_type_with_parameters_or_a_json_suffix_is_json() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let first = json!({ "username": "ana", "password": "ana-password" }).to_string();
    app.send(post("/api/v1/users").bearer(&token).raw("application/json; charset=utf-8", first))
        .await
        .assert_status(StatusCode::CREATED);
    let second = json!({ "username": "bob", "password": "bob-password" }).to_string();
    app.send(post("/api/v1/users").bearer(&token).raw("application/merge-patch+json", second))
        .await
        .assert_status(StatusCode::CREATED);
}

#[tokio::test]
async fn a_body_over_one_mebibyte_is_refused_with_413() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let padding = "x".repeat(1024 * 1024);
    let body = json!({ "username": "ana", "password": "ana-password", "padding": padding }).to_string();
    assert!(body.len() > 1024 * 1024);
    app.send(post("/api/v1/users").bearer(&token).raw("application/json", body))
        .await
        .assert_detail(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large");
}

#[tokio::test]
async fn a_body_of_exactly_one_mebibyte_is_still_read() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let overhead = json!({ "username": "ana", "password": "ana-password", "padding": "" }).to_string().len();
    let padding = "x".repeat(1024 * 1024 - overhead);
    let body = json!({ "username": "ana", "password": "ana-password", "padding": padding }).to_string();
    assert_eq!(body.len(), 1024 * 1024);
    app.send(post("/api/v1/users").bearer(&token).raw("application/json", body))
        .await
        .assert_status(StatusCode::CREATED);
}

#[tokio::test]
async fn a_login_form_over_one_mebibyte_is_refused_with_413() {
    let app = TestApp::spawn().await;
    let form = format!("username=admin&password={}", "x".repeat(1024 * 1024));
    app.send(post("/api/v1/auth/login").form(&form))
        .await
        .assert_detail(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large");
}

/// Reference §1.1: authentication (401) comes before body *field* validation (422); only a
/// body that is not valid JSON is refused before authentication. FastAPI treats an empty body
/// as "no body" and a non-JSON content type as raw bytes, so both reach the bearer check first.
#[tokio::test]
async fn a_missing_body_without_a_token_is_401_because_authentication_precedes_field_validation() {
    let app = TestApp::spawn().await;
    app.send(post("/api/v1/users")).await.assert_unauthorized("Not authenticated");
    app.send(post("/api/v1/auth/password").raw("application/json", "")).await.assert_unauthorized("Not authenticated");
}

/// See the test above: in the reference a non-JSON body is not decoded before authentication.
#[tokio::test]
async fn a_non_json_content_type_without_a_token_is_401_because_authentication_precedes_field_validation() {
    let app = TestApp::spawn().await;
    let body = json!({ "username": "ana", "password": "ana-password" }).to_string();
    app.send(post("/api/v1/users").raw("text/plain", body)).await.assert_unauthorized("Not authenticated");
}

#[tokio::test]
async fn a_request_id_is_generated_when_absent_and_echoed_when_given() {
    let app = TestApp::spawn().await;
    let generated = app.send(get("/api/v1/health")).await;
    let id = generated.header("x-request-id").expect("a generated x-request-id");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id} is not a UUID");
    let other = app.send(get("/api/v1/health")).await;
    assert_ne!(other.header("x-request-id"), Some(id), "request ids must differ");

    let echoed = app.send(get("/api/v1/health").header("x-request-id", "client-chosen-id-42")).await;
    assert_eq!(echoed.header("x-request-id"), Some("client-chosen-id-42"));
    // Errors carry it too.
    let error = app.send(get("/api/v1/auth/me").header("x-request-id", "trace-me")).await;
    assert_eq!(error.header("x-request-id"), Some("trace-me"));
    let not_found = app.send(get("/nope")).await;
    assert!(not_found.header("x-request-id").is_some());
}

/// A user store that panics, to reach the router's panic handler through a real route.
struct ExplodingUserStore;

#[async_trait]
impl UserStore for ExplodingUserStore {
    async fn insert(&self, _user: &User) -> Result<(), factus_application::ports::InsertUserError> {
        panic!("exploding store: insert with internal detail 7f3a")
    }
    async fn find_by_username(&self, _username: &Username) -> Result<Option<User>, StoreError> {
        panic!("exploding store: find_by_username with internal detail 7f3a")
    }
    async fn list(&self) -> Result<Vec<User>, StoreError> {
        panic!("exploding store: list")
    }
    async fn update(&self, _user: &User) -> Result<bool, StoreError> {
        panic!("exploding store: update")
    }
    async fn delete(&self, _username: &Username) -> Result<bool, StoreError> {
        panic!("exploding store: delete")
    }
    async fn count(&self) -> Result<u64, StoreError> {
        panic!("exploding store: count")
    }
    async fn count_enabled_admins(&self) -> Result<u64, StoreError> {
        panic!("exploding store: count_enabled_admins")
    }
    async fn ping(&self) -> Result<(), StoreError> {
        panic!("exploding store: ping")
    }
}

#[tokio::test]
async fn a_panic_in_a_handler_is_a_generic_500_that_leaks_nothing_and_keeps_the_request_id() {
    let app = TestApp::spawn().await;
    let hasher = Argon2Hasher::new().expect("a hasher");
    let tokens = JwtTokenService::new(&SecretString::from(SECRET_KEY), "HS256", 60).expect("a token service");
    let auth = AuthService::new(
        Arc::new(ExplodingUserStore),
        app.app.database.login_attempts(),
        Arc::new(hasher),
        Arc::new(tokens),
        ThrottlePolicy::default(),
        Duration::ZERO,
    );
    let mut services = (*app.app.state).clone();
    services.auth = Arc::new(auth);
    let router = factus_web::router(factus_web::AppState::new(services), &app.app.web);

    let token = sign(Algorithm::HS256, SECRET_KEY, &json!({ "sub": "admin", "exp": now() + 3600 }));
    let response =
        TestApp::send_to(&router, get("/api/v1/auth/me").bearer(&token).header("x-request-id", "panic-42")).await;
    response.assert_detail(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
    assert!(!response.text().contains("7f3a") && !response.text().contains("exploding"));
    assert_eq!(response.header("x-request-id"), Some("panic-42"));
    // The router keeps serving after the panic.
    TestApp::send_to(&router, get("/api/v1/health")).await.assert_status(StatusCode::OK);
}

// ---------------------------------------------------------------------------------------------
// Probes, metrics, OpenAPI, docs
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn health_is_exactly_status_ok_without_authentication() {
    let app = TestApp::spawn().await;
    let response = app.send(get("/api/v1/health")).await;
    response.assert_status(StatusCode::OK);
    assert_eq!(response.json(), json!({ "status": "ok" }));
}

#[tokio::test]
async fn readiness_is_200_with_the_database_up_and_503_once_it_is_gone() {
    let app = TestApp::spawn().await;
    let ready = app.send(get("/api/v1/health/ready")).await;
    ready.assert_status(StatusCode::OK);
    assert_eq!((&ready.json()["status"], &ready.json()["database"]), (&json!("ok"), &json!("ok")));

    app.app.database.close().await;
    let down = app.send(get("/api/v1/health/ready")).await;
    down.assert_status(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!((&down.json()["status"], &down.json()["database"]), (&json!("unavailable"), &json!("unreachable")));
    // Liveness does not depend on the database.
    app.send(get("/api/v1/health")).await.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn a_database_failure_during_login_is_a_503_database_unavailable() {
    // The database being gone is not a bug of the service: 503 (retry later), not a generic 500.
    let app = TestApp::spawn().await;
    app.app.database.close().await;
    let response = app.login("admin", ADMIN_PASSWORD).await;
    response.assert_detail(StatusCode::SERVICE_UNAVAILABLE, "Base de datos no disponible");
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status_in_prometheus_text() {
    let app = TestApp::spawn().await;
    app.send(get("/api/v1/health")).await.assert_status(StatusCode::OK);
    app.send(get("/api/v1/auth/me")).await.assert_status(StatusCode::UNAUTHORIZED);
    let response = app.send(get("/metrics")).await;
    response.assert_status(StatusCode::OK);
    assert!(response.header("content-type").is_some_and(|value| value.starts_with("text/plain")));
    let text = response.text();
    let counter = |route: &str, status: &str| {
        text.lines().any(|line| {
            line.starts_with("http_requests_total{")
                && line.contains(&format!("route=\"{route}\""))
                && line.contains(&format!("status=\"{status}\""))
        })
    };
    assert!(counter("/api/v1/health", "200"), "no health counter in:\n{text}");
    assert!(counter("/api/v1/auth/me", "401"), "no auth/me counter in:\n{text}");
    assert!(text.contains("http_request_duration_seconds_bucket"), "no latency histogram in:\n{text}");
}

#[tokio::test]
async fn openapi_is_3_1_with_the_password_flow_every_route_and_the_422_schema() {
    let app = TestApp::spawn().await;
    let response = app.send(get("/api/v1/openapi.json")).await;
    response.assert_status(StatusCode::OK);
    let document = response.json();
    assert!(document["openapi"].as_str().is_some_and(|version| version.starts_with("3.1")), "{}", document["openapi"]);
    let scheme = &document["components"]["securitySchemes"]["OAuth2PasswordBearer"];
    assert_eq!(scheme["type"], "oauth2");
    assert_eq!(scheme["flows"]["password"]["tokenUrl"], "/api/v1/auth/login");

    let mut operations: Vec<String> = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("a path item").keys() {
            if ["get", "post", "patch", "delete", "put"].contains(&method.as_str()) {
                operations.push(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    operations.sort();
    // The foundation's operations (later issues add more; each must be routed, checked below).
    for expected in [
        "DELETE /api/v1/users/{username}",
        "GET /api/v1/auth/me",
        "GET /api/v1/health",
        "GET /api/v1/health/ready",
        "GET /api/v1/users",
        "PATCH /api/v1/users/{username}",
        "POST /api/v1/auth/login",
        "POST /api/v1/auth/password",
        "POST /api/v1/users",
    ] {
        assert!(
            operations.iter().any(|operation| operation == expected),
            "{expected} is not documented: {operations:?}"
        );
    }
    let schemas = &document["components"]["schemas"];
    assert!(schemas["ValidationErrorResponse"]["properties"]["detail"].is_object(), "{schemas}");
    assert!(schemas["ValidationErrorItem"]["properties"]["loc"].is_object(), "{schemas}");
    let login_422 = &document["paths"]["/api/v1/auth/login"]["post"]["responses"]["422"];
    assert_eq!(
        login_422["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ValidationErrorResponse"
    );
    let login_body = &document["paths"]["/api/v1/auth/login"]["post"]["requestBody"]["content"];
    assert!(login_body["application/x-www-form-urlencoded"].is_object(), "{login_body}");

    // Every documented operation is routed (answers neither 404 nor 405).
    for operation in operations {
        let (method, path) = operation.split_once(' ').expect("method and path");
        let path: Vec<&str> =
            path.split('/').map(|segment| if segment.starts_with('{') { "someone" } else { segment }).collect();
        let path = path.join("/");
        let method = Method::from_bytes(method.as_bytes()).expect("a method");
        let response = app.send(call(method, &path)).await;
        assert!(
            ![StatusCode::NOT_FOUND, StatusCode::METHOD_NOT_ALLOWED].contains(&response.status),
            "{operation} is documented but not routed: {} {}",
            response.status,
            response.text()
        );
    }
}

/// Fetches a Swagger UI under `base` (`/docs/`) and checks it works offline.
async fn assert_offline_swagger_ui(app: &TestApp, base: &str) {
    let page = app.send(get(base)).await;
    page.assert_status(StatusCode::OK);
    assert!(page.header("content-type").is_some_and(|value| value.starts_with("text/html")));
    let html = page.text();
    assert!(html.contains("swagger-ui"), "not Swagger UI:\n{html}");
    assert!(!html.contains("http://") && !html.contains("https://"), "an absolute URL in {base}:\n{html}");

    // Every asset the page references is served from the binary.
    let mut assets: Vec<String> = Vec::new();
    for attribute in ["href=\"", "src=\""] {
        for piece in html.split(attribute).skip(1) {
            let reference = piece.split('"').next().expect("a closing quote");
            assets.push(reference.trim_start_matches("./").to_owned());
        }
    }
    assert!(assets.iter().any(|asset| asset == "swagger-initializer.js"), "{assets:?}");
    assert!(assets.iter().any(|asset| asset.ends_with(".css")), "{assets:?}");
    for asset in &assets {
        let response = app.send(get(&format!("{base}{asset}"))).await;
        assert_eq!(response.status, StatusCode::OK, "{base}{asset}");
        assert!(!response.body.is_empty(), "{base}{asset} is empty");
        let text = response.text();
        if asset == "swagger-initializer.js" {
            assert!(!text.contains("http://") && !text.contains("https://"), "an absolute URL in {base}{asset}");
        }
        if asset.ends_with(".css") {
            // Stylesheets may mention the SVG namespace inside `data:` URIs; what matters is that
            // nothing is fetched from elsewhere.
            assert!(!text.contains("@import"), "{base}{asset} imports another stylesheet");
            for piece in text.split("url(").skip(1) {
                let target = piece.trim_start_matches(['"', '\'', ' ']);
                assert!(
                    !target.starts_with("http") && !target.starts_with("//"),
                    "{base}{asset} fetches {}",
                    &target[..target.len().min(60)]
                );
            }
        }
    }
    let initializer = app.send(get(&format!("{base}swagger-initializer.js"))).await.text();
    assert!(initializer.contains(r#""validatorUrl": "none""#), "{initializer}");
    assert!(initializer.contains("/api/v1/openapi.json"), "{initializer}");
}

#[tokio::test]
async fn swagger_ui_at_docs_is_served_offline_without_the_external_validator() {
    let app = TestApp::spawn().await;
    assert_offline_swagger_ui(&app, "/docs/").await;
}

#[tokio::test]
async fn swagger_ui_at_the_api_prefix_docs_is_served_offline_without_the_external_validator() {
    let app = TestApp::spawn().await;
    assert_offline_swagger_ui(&app, "/api/v1/docs/").await;
}

#[tokio::test]
async fn the_root_redirects_temporarily_to_the_docs() {
    let app = TestApp::spawn().await;
    let response = app.send(get("/")).await;
    response.assert_status(StatusCode::TEMPORARY_REDIRECT);
    let mut location = response.header("location").expect("a Location").to_owned();
    assert_eq!(location, "/api/v1/docs", "the reference's exact Location");
    // Follow (at most one more redirect, `/docs` → `/docs/`) to the Swagger UI page.
    let mut page = app.send(get(&location)).await;
    if page.status.is_redirection() {
        location = page.header("location").expect("a Location").to_owned();
        page = app.send(get(&location)).await;
    }
    page.assert_status(StatusCode::OK);
    assert!(page.text().contains("swagger-ui"));
}

// ---------------------------------------------------------------------------------------------
// The same flows on Postgres
// ---------------------------------------------------------------------------------------------

mod postgres {
    use factus_infrastructure::testing::TestDatabase;

    use super::*;

    #[tokio::test]
    async fn on_postgres_the_admin_logs_in_reads_me_and_bad_credentials_are_refused() {
        let Some(database) = TestDatabase::postgres_or_skip("router_auth::postgres::login_and_me").await else {
            return;
        };
        let app = TestApp::start(database.url(), &[]).await;
        let token = app.admin_token().await;
        let me = app.me(&token).await;
        me.assert_status(StatusCode::OK);
        assert_eq!(me.json()["data"]["username"], "admin");
        app.login("admin", "wrong-password").await.assert_unauthorized("Incorrect username or password");
        app.login("nobody", "wrong-password").await.assert_unauthorized("Incorrect username or password");
        app.send(get("/api/v1/auth/me")).await.assert_unauthorized("Not authenticated");
        let forged = sign(
            Algorithm::HS256,
            "another-key-of-at-least-thirty-two-bytes!!",
            &json!({ "sub": "admin", "exp": now() + 60 }),
        );
        assert_token_refused(&app, &forged).await;
        app.send(get("/api/v1/health/ready")).await.assert_status(StatusCode::OK);
        app.app.database.close().await;
        database.drop_database().await;
    }

    #[tokio::test]
    async fn on_postgres_users_are_created_case_insensitively_and_disabled_users_lose_their_tokens() {
        let Some(database) = TestDatabase::postgres_or_skip("router_auth::postgres::users").await else {
            return;
        };
        let app = TestApp::start(database.url(), &[]).await;
        let token = app.user_token("ana", "user").await;
        app.me(&token).await.assert_status(StatusCode::OK);
        app.send(get("/api/v1/users").bearer(&token))
            .await
            .assert_detail(StatusCode::FORBIDDEN, "Not enough permissions");
        let admin = app.admin_token().await;
        app.create_user(&admin, &json!({ "username": "ANA", "password": "other-password" }))
            .await
            .assert_detail(StatusCode::CONFLICT, "Username already exists");
        app.update_user(&admin, "ana", &json!({ "disabled": true })).await.assert_status(StatusCode::OK);
        assert_token_refused(&app, &token).await;
        app.send(delete("/api/v1/users/ana").bearer(&admin)).await.assert_status(StatusCode::OK);
        app.login("ana", "ana-password").await.assert_unauthorized("Incorrect username or password");
        app.send(delete("/api/v1/users/admin").bearer(&admin)).await.assert_status(StatusCode::CONFLICT);
        app.app.database.close().await;
        database.drop_database().await;
    }

    #[tokio::test]
    async fn on_postgres_failed_logins_are_throttled_by_username_and_by_address() {
        let Some(database) = TestDatabase::postgres_or_skip("router_auth::postgres::throttling").await else {
            return;
        };
        let app = TestApp::start(database.url(), &[]).await;
        for _ in 0..5 {
            app.login("admin", "wrong-password").await.assert_unauthorized("Incorrect username or password");
        }
        assert_throttled(&app.login("admin", ADMIN_PASSWORD).await);
        // From another address the right password still works (after a delay).
        app.login_from("admin", ADMIN_PASSWORD, "198.51.100.78:5000").await.assert_status(StatusCode::OK);

        let attacker = "203.0.113.9:5000";
        for index in 0..20 {
            app.login_from(&format!("victim{index}"), "wrong-password", attacker)
                .await
                .assert_unauthorized("Incorrect username or password");
        }
        assert_throttled(&app.login_from("someone-new", "whatever-password", attacker).await);
        app.login_from("someone-new", "whatever-password", "198.51.100.77:5000")
            .await
            .assert_unauthorized("Incorrect username or password");
        app.app.database.close().await;
        database.drop_database().await;
    }
}

#[tokio::test]
async fn a_serving_application_forgets_failed_logins_older_than_the_throttling_window() {
    // Without the background pruning `login_failures` grows with every failed login forever.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let config = test_config(&format!("sqlite://{}", dir.path().join("t.db").display()), &[]);
    let application = app::start(&config, app::BuildOptions::default()).await.expect("the application starts");
    let attempts = application.database.login_attempts();
    let now = time::OffsetDateTime::now_utc();
    let long_ago = now - time::Duration::hours(2);
    attempts.record_failure("ana", None, long_ago).await.expect("an old failure");
    attempts.record_failure("ana", None, now).await.expect("a recent failure");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(application.serve(listener, async move {
        let _ = stopped.await;
    }));

    // The first pass runs at once; give it a moment on a busy machine. Counted from before the
    // old failure, so that both are seen until one is pruned.
    let since = long_ago - time::Duration::minutes(1);
    let mut window = attempts.failures_since("ana", None, since).await.expect("a count");
    for _ in 0..100 {
        if window.username_failures == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        window = attempts.failures_since("ana", None, since).await.expect("a count");
    }
    stop.send(()).expect("the server listens");
    server.await.expect("the server task").expect("the server stops cleanly");

    assert_eq!(window.username_failures, 1, "only the failure inside the window is kept");
}
