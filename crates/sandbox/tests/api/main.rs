//! Black-box tests: each starts a sandbox on port 0 and drives it over real HTTP with reqwest.

mod admin;
mod api_version;
mod auth;
mod bills;
mod binary;
mod common;
mod company;
mod concurrency;
mod credit_notes;
mod downloads;
mod fallback;
mod faults;
mod numbering_ranges;
mod persistence;
mod rate_limit;
mod reference;
mod rejections;
mod support_documents;
mod v2_bills;
mod v2_documents;
mod v2_validation;
mod validation;
