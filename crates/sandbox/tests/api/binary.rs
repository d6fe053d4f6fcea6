use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::common::client;

/// Starts the binary (without faults from the environment) and reads the address it prints
/// first: the child and its base URL.
async fn start(mut command: Command) -> (Child, String) {
    let mut child = command
        .env_remove("FACTUS_SANDBOX_FAULTS")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let stdout = child.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    })
    .await
    .unwrap()
    .unwrap();
    let addr = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("unexpected first line: {line:?}"));
    (child, format!("http://{addr}"))
}

#[tokio::test]
async fn the_binary_prints_its_address_serves_and_stops_on_sigterm() {
    let mut command = Command::new(env!("CARGO_BIN_EXE_factus-sandbox"));
    command.args(["--bind", "127.0.0.1:0", "--token-ttl", "2"]);
    let (mut child, base) = start(command).await;
    let health = client().get(format!("{base}/__sandbox/health")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let token = client()
        .post(format!("{base}/oauth/token"))
        .form(&factus_sandbox::DEFAULT_PASSWORD_GRANT)
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = token.json().await.unwrap();
    assert_eq!(body["expires_in"], 2, "flags reach the configuration");

    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill runs");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(exit) = child.try_wait().unwrap() {
            assert!(exit.success(), "{exit:?}");
            break;
        }
        assert!(Instant::now() < deadline, "the binary did not stop on SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_binary_takes_its_api_version_from_the_environment() {
    let mut command = Command::new(env!("CARGO_BIN_EXE_factus-sandbox"));
    command.args(["--bind", "127.0.0.1:0"]).env("FACTUS_SANDBOX_API_VERSION", "v2");
    let (mut child, base) = start(command).await;
    let (token, _) = crate::common::login(&client(), &base).await;
    let v1 = client().get(format!("{base}/v1/bills")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(v1.status(), StatusCode::FORBIDDEN);
    let v2 = client().get(format!("{base}/v2/bills")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(v2.status(), StatusCode::OK);
    let version: serde_json::Value =
        client().get(format!("{base}/__sandbox/api-version")).send().await.unwrap().json().await.unwrap();
    assert_eq!(version["api_version"], "v2");
    child.kill().expect("kill");
    child.wait().expect("wait");
}
