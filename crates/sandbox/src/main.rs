//! `factus-sandbox --bind 127.0.0.1:9000`: runs the simulator until Ctrl-C or SIGTERM.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use factus_sandbox::{Sandbox, SandboxArgs};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("factus_sandbox=info")))
        .with_writer(std::io::stderr)
        .init();
    let config = SandboxArgs::parse().into_config();
    let sandbox = match Sandbox::start(config).await {
        Ok(sandbox) => sandbox,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "could not start the sandbox");
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout();
    // Scripts wait for this line to learn the address (port 0 allowed).
    if writeln!(stdout, "listening on {}", sandbox.addr()).and_then(|()| stdout.flush()).is_err() {
        tracing::warn!("could not write the address to stdout");
    }
    wait_for_signal().await;
    tracing::info!("stopping");
    sandbox.shutdown().await;
    ExitCode::SUCCESS
}

/// Ctrl-C, or SIGTERM on Unix.
async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
