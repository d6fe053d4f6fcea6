//! Adapters: the technology behind the ports of `factus-application`.
//!
//! Layout:
//! - [`db`]: the Postgres and SQLite pools and the stores built on them.
//! - [`password`]: argon2id hashing, bounded and off the async workers.
//! - [`jwt`]: local access tokens.
//! - [`webhooks`]: the webhook body, its HMAC signature and the HTTP POST.
//! - `testing` (feature `test-support`): throwaway Postgres and SQLite databases for tests.

// A dependency nothing uses is drift (CI also runs cargo-machete); unit-test
// builds see the dev-dependencies too, so the lint runs on the library build only.
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod db;
pub mod factus;
pub mod jwt;
pub mod password;
pub mod webhooks;

#[cfg(feature = "test-support")]
pub mod testing;
