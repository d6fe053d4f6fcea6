//! Ports (the traits adapters implement) and the use cases that drive them.
//!
//! Depends on `factus-domain` only. Every port is `Send + Sync`, used as `Arc<dyn Port>`, and
//! documents what it returns on each failure. Mocks of the ports sit behind the `mocks` feature.
//!
//! Layout:
//! - [`ports`]: users, login throttling, password hashing, tokens (and, later, Factus and the ledger).
//! - [`auth`]: logging in, authenticating a bearer token, changing one's password.
//! - [`users`]: user administration and the first-start bootstrap of `admin`.

pub mod auth;
pub mod clock;
pub mod error;
pub mod factus;
pub mod factus_auth;
pub mod health;
pub mod invoices;
pub mod issuance;
pub mod ledger;
pub mod lookups;
pub mod ports;
pub mod users;

pub use error::StoreError;
