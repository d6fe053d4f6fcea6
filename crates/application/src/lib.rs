//! Ports (the traits adapters implement) and the use cases that drive them.
//!
//! Depends on `factus-domain` only. Every port is `Send + Sync`, used as `Arc<dyn Port>`, and
//! documents what it returns on each failure. Mocks of the ports sit behind the `mocks` feature.
//!
//! Layout:
//! - [`ports`]: users, login throttling, password hashing, tokens.
//! - [`factus`]: the ports to Factus, [`factus::FactusError`] and the one use-case error for
//!   every Factus operation, [`factus::FactusFailure`].
//! - [`document`]: [`document::Document`], every kind of document the service creates at Factus.
//! - [`ledger`]: the ledger's port and types (one ledger for every document kind).
//! - [`auth`]: logging in, authenticating a bearer token, changing one's password.
//! - [`users`]: user administration and the first-start bootstrap of `admin`.
//! - [`factus_auth`], [`invoices`], [`lookups`]: Factus tokens, existing bills, catalogues.
//! - [`issuance`]: the exactly-once create and the ledger's reconciliation.
//! - [`documents`]: object-level access to issued documents (whose they are, from the ledger).
//! - [`health`]: the readiness check.
//! - [`api_keys`]: API keys for machine callers (created by admins, stored as SHA-256).
//! - [`webhooks`]: signed webhooks of issuance outcomes (the outbox's dispatch, listing, redelivery).
//! - [`company`], [`numbering_ranges`]: the Factus account — the company profile and logo, the
//!   DIAN numbering ranges and the watch that warns before a range stops invoicing; [`account`]
//!   holds their error and who may change them.

// A dependency nothing uses is drift (CI also runs cargo-machete); unit-test
// builds see the dev-dependencies too, so the lint runs on the library build only.
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod account;
pub mod api_keys;
pub mod auth;
pub mod clock;
pub mod company;
pub mod document;
pub mod documents;
pub mod error;
pub mod factus;
pub mod factus_auth;
pub mod health;
pub mod invoices;
pub mod issuance;
pub mod ledger;
pub mod lookups;
pub mod numbering_ranges;
pub mod ports;
mod ttl_cache;
pub mod users;
pub mod webhooks;

pub use error::{DatabaseUnavailable, StoreError, error_chain, is_database_unavailable};
