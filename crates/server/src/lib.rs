//! The factus-api binary's library half: configuration, telemetry, CLI and wiring, so that
//! tests can build and serve the real application in-process.
//!
//! Layout:
//! - [`config`]: typed configuration from the environment.
//! - [`telemetry`]: tracing subscriber and Prometheus recorder.
//! - [`app`]: the composition root (`build`, `bootstrap_admin`, `serve`, shutdown signal).
//! - [`cli`]: `serve`, `migrate`, `user …`.

pub mod app;
pub mod cli;
pub mod config;
pub mod reconciler;
pub mod telemetry;
