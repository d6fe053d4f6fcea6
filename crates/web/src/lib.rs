//! The HTTP edge of factus-api: an axum router that speaks the original FastAPI service's wire
//! contract (paths, envelope, Spanish messages, FastAPI-shaped errors).
//!
//! Layout:
//! - [`router`]: routes, fallbacks and the middleware stack (request id, tracing, metrics, CORS,
//!   panics → 500).
//! - [`routes`]: thin handlers: extract, parse into domain types, call a use case, map the result.
//! - [`extract`]: body and authentication extractors whose rejections are FastAPI-shaped.
//! - [`caller`]: `X-API-Key` authentication beside the bearer token.
//! - [`later`]: the later generation of the original under `/api`, on the same use cases.
//! - [`validation`]: reads JSON bodies field by field and reports every error at once.
//! - [`error`]: [`error::ApiError`], the one place use-case errors become HTTP.
//! - [`envelope`]: the `{"success", "message", "data", "errors"}` envelope.
//! - [`console`]: the operator console at `/console` (server-rendered HTML).
//! - [`openapi`]: the OpenAPI document served at `{prefix}/openapi.json` and the Swagger UI.

// A dependency nothing uses is drift (CI also runs cargo-machete); unit-test
// builds see the dev-dependencies too, so the lint runs on the library build only.
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod caller;
pub mod console;
pub mod envelope;
pub mod error;
pub mod extract;
pub mod factus;
pub mod invoices;
pub mod later;
pub mod multipart;
pub mod openapi;
pub mod queue;
pub mod router;
pub mod routes;
pub mod schemas;
pub mod state;
pub mod validation;

pub use router::{WebConfig, router};
pub use state::AppState;
