//! The factus-api binary's library half: configuration, telemetry, CLI and wiring, so that
//! tests can build and serve the real application in-process.
//!
//! Layout:
//! - [`config`]: typed configuration from the environment.
//! - [`telemetry`]: tracing subscriber and Prometheus recorder.
//! - [`app`]: the composition root and the one start-up path (`start`, `Application::serve`,
//!   `run`), shutdown signal.
//! - [`http`]: the HTTP accept loop with header, body and idle timeouts and a connection cap.
//! - [`background`]: the background tasks a serving instance runs, started in one place.
//! - [`reconciler`]: the ledger reconciler's pass.
//! - [`simulator`]: the Factus simulator of `--simulate-factus` (the default `simulator` feature).
//! - [`cli`]: `serve`, `migrate`, `user …`.

// A dependency nothing uses is drift (CI also runs cargo-machete); unit-test
// builds see the dev-dependencies too, so the lint runs on the library build only.
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

// The binary's own dependencies (`main.rs`: the allocator and `.env`), not the library's.
use {dotenvy as _, mimalloc as _};

pub mod app;
pub mod background;
pub mod cli;
pub mod config;
pub mod http;
pub mod reconciler;
pub mod simulator;
pub mod telemetry;
