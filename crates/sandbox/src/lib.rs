//! # factus-sandbox
//!
//! A stateful local double of the Factus e-invoicing API (v1 and v2), with fault injection, for
//! tests, benchmarks, demos and offline development. It depends on no other crate of the project.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use factus_sandbox::{Sandbox, SandboxConfig};
//! let sandbox = Sandbox::start(SandboxConfig::default()).await?; // 127.0.0.1:0
//! let base = sandbox.base_url(); // "http://127.0.0.1:PORT"
//! # let _ = base;
//! sandbox.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! Layout:
//! - `server` — [`Sandbox`]: accept loop serving each connection with hyper (so a fault can drop
//!   a connection after committing, and shutdown can drop hanging ones);
//! - `app` — router, request counting and fault middleware; `auth` — `/oauth/token` and the
//!   bearer check; `documents`, `reference`, `admin` — the handlers;
//! - `validate` — Laravel-style 422s (`validate::fields` reads fields, `validate` checks v1
//!   documents); `totals` — v1 tax-inclusive arithmetic; `cufe` — SHA-384
//!   keys; `render`, `pdf`, `xml` — wire shapes and downloads;
//! - `v2` — the `/v2` routes: body checks, net-price arithmetic and wire shapes over the same
//!   documents; `version` — the account's API version (403 for the other tree) and request log;
//! - `store` — in-memory state; `persist` — the optional state file; `faults` — fault rules.
//!
//! Behaviour and defaults are documented in `docs/sandbox.md`.

mod account;
mod admin;
mod app;
mod auth;
mod catalog;
mod config;
mod cufe;
mod documents;
mod faults;
mod http;
mod model;
mod pdf;
mod persist;
mod ranges;
mod reference;
mod render;
mod server;
mod store;
mod support;
mod totals;
mod v2;
mod validate;
mod version;
mod xml;

pub use config::{
    ApiVersion, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_PASSWORD, DEFAULT_PASSWORD_GRANT,
    DEFAULT_RATE_WINDOW, DEFAULT_TOKEN_TTL, DEFAULT_USERNAME, DuplicatePolicy, SandboxArgs, SandboxConfig,
};
pub use faults::{FaultKind, FaultSpec};
pub use server::Sandbox;
