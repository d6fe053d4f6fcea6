//! Black-box tests of the Factus side of the service: the REAL application (`app::start`, a fresh
//! SQLite file, `Application::serve` on 127.0.0.1:0) in front of the REAL sandbox (`factus_sandbox`, an
//! HTTP server on 127.0.0.1:0), both in this process and driven over HTTP with reqwest.
//!
//! Two ways to reach Factus, as in docs/ARCHITECTURE.md ("Server-managed Factus session"):
//! - client-token mode: no server credentials; clients log in through `/api/v1/auth/factus/login`
//!   with the sandbox's account and send `X-Factus-Token`;
//! - server-session mode: `FACTUS_USERNAME`/`FACTUS_PASSWORD` are set and the header is optional.
//!
//! Covered: every endpoint of `docs/contract.md` §2 (plus countries, acquirer and the
//! reference tables) with its exact success envelope; one test per validation rule of the invoice
//! body (`docs/contract.md` §3; docs/ARCHITECTURE.md, "Every error at once"), each also proving the request never reached Factus; one invoice
//! breaking five business rules at once; every upstream failure mapped (Factus 422, 409, 401,
//! 404, 5xx, a hang, a refused connection, a connection dropped after commit, the circuit breaker)
//! with each endpoint's Spanish prefix; and the server-managed session renewing itself.
//!
//! `invoices_black_box/documents.rs` holds the other kinds (credit notes, debit notes, support
//! documents): each one's cycle, its local rules and its exactly-once create.
//! The company and numbering-range endpoints (`tests/invoices_black_box/account.rs`, on the same
//! harness): the profile, the logo upload, range management and the readiness warnings.
//!
//! The whole suite runs twice, against a sandbox whose account has only Factus API v1 and against
//! one with only v2 (the service configured to match): `v1::…` and `v2::…` are the same tests
//! (`tests/invoices_black_box/suite.rs`, included once per version). Sandbox routes are named by
//! their v1 templates in assertions; the harness translates them.

mod support;

mod v1 {
    const FACTUS_API: factus_sandbox::ApiVersion = factus_sandbox::ApiVersion::V1;
    include!("invoices_black_box/suite.rs");
    include!("invoices_black_box/documents.rs");
    include!("invoices_black_box/account.rs");
}

mod v2 {
    const FACTUS_API: factus_sandbox::ApiVersion = factus_sandbox::ApiVersion::V2;
    include!("invoices_black_box/suite.rs");
    include!("invoices_black_box/documents.rs");
    include!("invoices_black_box/account.rs");
}
