//! Exactly-once issuing under concurrency, faults, crashes and an unwell Factus
//! (docs/ARCHITECTURE.md, "Exactly-once issuance"; `docs/reliability.md`), black-box over real
//! HTTP: the service (in-process `app::run`, or the real `factus-api` binary) in front of the real
//! sandbox, whose fault
//! injection plays the unreliable network and Factus.
//!
//! - concurrency: 50 creates with one `Idempotency-Key`, on one instance (SQLite) and spread over
//!   two instances sharing one Postgres → one bill, every answer the stored success or 409;
//! - the fault soak (connections dropped after the bill was stored, hangs past the timeout,
//!   503s; clients retrying), with a key per invoice and with the reference code alone;
//! - SIGKILL of the binary with creates in flight, restart, background reconciliation;
//! - the circuit breaker (fail fast without calling Factus, probe, close);
//! - retries: GETs are retried, creates never are;
//! - the reconciliation lookup finds a bill among references that contain its reference.
//!
//! Every test gets its own sandbox and database. The soak's figures are printed (run with
//! `--no-capture` to see them); the 1,000-invoice soak is `benches/soak.rs`.
//!
//! The whole suite runs twice, against a sandbox whose account has only Factus API v1 and against
//! one with only v2 (the service configured to match): `v1::…` and `v2::…` are the same tests
//! (`tests/exactly_once/suite.rs`, included once per version), so the ledger, the reconciler's
//! look-up by reference, the breaker and the retries are proven on both.

mod support_exactly_once;

mod v1 {
    const FACTUS_API: factus_sandbox::ApiVersion = factus_sandbox::ApiVersion::V1;
    include!("exactly_once/suite.rs");
}

mod v2 {
    const FACTUS_API: factus_sandbox::ApiVersion = factus_sandbox::ApiVersion::V2;
    include!("exactly_once/suite.rs");
}
