//! Passwords, tokens and the signing key never reach a log line, even at `debug`.
//!
//! Runs the real binary with the in-process Factus simulator, exercises every flow that handles
//! a secret (local login, a failed login, a password change, user creation, Factus login and
//! refresh, an invoice with the server's own Factus session, an API key created, used and a wrong
//! one refused), stops it, and searches everything it printed.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::process::Command;

use crate::support::{all_written, binary, isolated, json_of, listening, login, send};

mod support;

const SECRET_KEY: &str = "a-signing-key-that-must-never-be-logged-0123456789";
const ADMIN_PASSWORD: &str = "admin-password-never-logged";
const NEW_PASSWORD: &str = "changed-password-never-logged";
const USER_PASSWORD: &str = "user-password-never-logged";
const WRONG_PASSWORD: &str = "wrong-password-never-logged";

fn minimal_invoice(reference: &str) -> Value {
    json!({
        "reference_code": reference,
        "customer": {"identification_document_id": 3, "identification": "123", "names": "Ana",
                     "legal_organization_id": 2, "tribute_id": 21},
        "items": [{"code_reference": "P", "name": "N", "quantity": 1, "price": "119.00", "tax_rate": "19.00",
                   "unit_measure_id": 70, "standard_code_id": 1, "is_excluded": 0, "tribute_id": 1}]
    })
}

#[tokio::test]
async fn no_password_token_or_signing_key_appears_in_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(binary());
    let mut child = isolated(&mut command, dir.path())
        .args(["--simulate-factus", "--bind", "127.0.0.1:0"])
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", format!("sqlite://{}/logs.db", dir.path().display()))
        .env("SECRET_KEY", SECRET_KEY)
        .env("ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("RUST_LOG", "debug")
        .env("LOG_FORMAT", "json")
        .spawn()
        .expect("the binary starts");

    let (address, output) = listening(&mut child, Duration::from_secs(30)).await;
    let api = format!("http://{address}/api/v1");
    let http = reqwest::Client::new();

    let wrong = http.post(format!("{api}/auth/login")).form(&[("username", "admin"), ("password", WRONG_PASSWORD)]);
    assert_eq!(wrong.send().await.unwrap().status(), 401);
    let admin_token = login(&http, &api, "admin", ADMIN_PASSWORD).await;

    // A JSON body posted to `path` with a bearer token.
    let post = |path: &str, token: &str, body: &Value| http.post(format!("{api}{path}")).bearer_auth(token).json(body);
    let ana = json!({"username": "ana", "password": USER_PASSWORD});
    assert_eq!(send(post("/users", &admin_token, &ana)).await.status, 201);
    let ana_token = login(&http, &api, "ana", USER_PASSWORD).await;
    let change = json!({"current_password": USER_PASSWORD, "new_password": NEW_PASSWORD});
    assert_eq!(send(post("/auth/password", &ana_token, &change)).await.status, 200);

    let credentials = json!({"email": factus_sandbox::DEFAULT_USERNAME, "password": factus_sandbox::DEFAULT_PASSWORD});
    let factus = json_of(post("/auth/factus/login", &admin_token, &credentials)).await;
    let factus_token = factus["data"]["access_token"].as_str().unwrap().to_owned();
    let refresh_token = factus["data"]["refresh_token"].as_str().unwrap().to_owned();
    let refreshed = json_of(post("/auth/factus/refresh", &admin_token, &json!({"refresh_token": refresh_token}))).await;
    let refreshed_token = refreshed["data"]["access_token"].as_str().unwrap().to_owned();
    let issued =
        send(post("/invoices", &admin_token, &minimal_invoice("LOGS-1")).header("X-Factus-Token", &refreshed_token))
            .await;
    assert_eq!(issued.status, 200);
    let with_server_session = send(post("/invoices", &admin_token, &minimal_invoice("LOGS-2"))).await;
    assert_eq!(with_server_session.status, 200);

    // An API key: created (the answer holds it), used for an invoice and a lookup, and a wrong
    // one refused; neither the key nor its secret part may be logged.
    let created = json_of(post("/api-keys", &admin_token, &json!({"name": "logs", "username": "ana"}))).await;
    let api_key = created["data"]["key"].as_str().expect("a created key").to_owned();
    let with_key =
        http.post(format!("{api}/invoices")).header("X-API-Key", &api_key).json(&minimal_invoice("LOGS-3")).send();
    assert_eq!(with_key.await.unwrap().status(), 200);
    let units = http.get(format!("{api}/lookups/units")).header("X-API-Key", &api_key).send().await.unwrap();
    assert_eq!(units.status(), 200);
    let wrong_key = format!("fapi_{}", "e".repeat(64));
    let refused = http.get(format!("{api}/auth/me")).header("X-API-Key", &wrong_key).send().await.unwrap();
    assert_eq!(refused.status(), 401);

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(child.id().unwrap()).unwrap()),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait()).await.unwrap().unwrap();
    assert!(status.success(), "the binary stops cleanly: {status}");
    let printed = all_written(output).await;

    assert!(printed.contains("request finished"), "debug logs were captured");
    let secrets = [
        ("SECRET_KEY", SECRET_KEY.to_owned()),
        ("admin password", ADMIN_PASSWORD.to_owned()),
        ("user password", USER_PASSWORD.to_owned()),
        ("new password", NEW_PASSWORD.to_owned()),
        ("wrong password", WRONG_PASSWORD.to_owned()),
        ("Factus password", factus_sandbox::DEFAULT_PASSWORD.to_owned()),
        ("Factus client secret", factus_sandbox::DEFAULT_CLIENT_SECRET.to_owned()),
        ("local token", admin_token.clone()),
        ("local token signature", admin_token.rsplit('.').next().unwrap().to_owned()),
        ("Factus access token", factus_token),
        ("Factus refresh token", refresh_token),
        ("refreshed Factus token", refreshed_token),
        // The visible prefix may be logged; what follows it may not.
        ("API key", api_key.clone()),
        ("API key secret part", api_key[13..].to_owned()),
        ("refused API key", wrong_key),
    ];
    for (what, secret) in secrets {
        assert!(!printed.contains(&secret), "the {what} appears in the logs");
    }
}
