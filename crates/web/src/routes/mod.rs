//! Handlers, one module per resource.

pub mod api_keys;
pub mod auth;
pub mod company;
pub mod documents;
pub mod factus_auth;
pub mod health;
pub mod invoices;
pub mod ledger;
pub mod lookups;
pub mod numbering_ranges;
pub mod users;
pub mod webhooks;
