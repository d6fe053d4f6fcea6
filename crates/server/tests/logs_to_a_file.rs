//! Logs written to a file (or a pipe) are plain text: colour codes are for terminals only.
//!
//! Runs the real binary with its standard output and error going to a file, as a service manager
//! or `factus-api > log` does, drives a few requests that log at info and warn, stops it with
//! SIGTERM, and reads the file.

use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The address the binary prints once it listens, read from its log file.
fn wait_for_address(log: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let printed = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(address) = printed.lines().find_map(|line| line.trim().strip_prefix("listening on ")) {
            return address.to_owned();
        }
        assert!(Instant::now() < deadline, "the binary did not listen within 30 s; it printed:\n{printed}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn the_pretty_log_written_to_a_file_has_no_ansi_escape_codes() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("factus-api.log");
    let out = File::create(&log).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_factus-api"))
        .args(["--simulate-factus", "--bind", "127.0.0.1:0"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", format!("sqlite://{}/logs.db", dir.path().display()))
        .env("SECRET_KEY", "a-signing-key-for-the-plain-log-test-0123456789")
        .env("ADMIN_PASSWORD", "admin-password-for-the-plain-log-test")
        // The human format is the one that colours; JSON never does.
        .env("LOG_FORMAT", "pretty")
        .env("RUST_LOG", "debug")
        .current_dir(dir.path())
        .stdout(Stdio::from(out.try_clone().unwrap()))
        .stderr(Stdio::from(out))
        .spawn()
        .expect("the binary starts");

    let address = wait_for_address(&log);
    let api = format!("http://{address}/api/v1");
    let http = reqwest::Client::new();
    // A failed login logs a warning with fields: levels and field names are what colour styles.
    let refused = http
        .post(format!("{api}/auth/login"))
        .form(&[("username", "admin"), ("password", "not-the-password")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap()),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait()).await.unwrap().unwrap();
    assert!(status.success(), "the binary stops cleanly on SIGTERM: {status}");

    let printed = std::fs::read_to_string(&log).unwrap();
    // The file holds real log lines (levels written out), so the absence of codes means something.
    assert!(printed.contains("INFO"), "no log lines in the file:\n{printed}");
    assert!(!printed.contains("\x1b["), "ANSI escape codes in a log file:\n{printed:?}");
}
