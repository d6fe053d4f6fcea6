//! Adapters: the technology behind the ports of `factus-application`.
//!
//! Layout:
//! - [`db`]: the Postgres and SQLite pools and the stores built on them.
//! - [`password`]: argon2id hashing, bounded and off the async workers.
//! - [`jwt`]: local access tokens.
//! - `testing` (feature `test-support`): throwaway Postgres and SQLite databases for tests.

pub mod db;
pub mod factus;
pub mod jwt;
pub mod password;

#[cfg(feature = "test-support")]
pub mod testing;
