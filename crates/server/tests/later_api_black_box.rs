//! Black-box tests of the later generation's routes under `/api` (`docs/contract.md` §12),
//! written from its contract: the REAL application (`app::start`, a fresh SQLite file,
//! `Application::serve` on 127.0.0.1:0) in front of the REAL sandbox (`factus_sandbox`, over
//! HTTP), driven with reqwest the way a client of the later original drives it: an `X-API-Key`
//! (created by an admin through `/api/v1/api-keys`), its Postman collection's request bodies,
//! bare JSON answers, its texts for a missing or a wrong key, Factus' own status on a refusal,
//! and its hint for an object sent as text.
//!
//! The suite runs against a sandbox account with only Factus API v1 and against one with only v2
//! (`v1::…` and `v2::…`, the same tests from `later_api_black_box/suite.rs`): the later clients
//! change nothing whichever version the account has.

mod support;

mod v1 {
    const FACTUS_API: factus_sandbox::ApiVersion = factus_sandbox::ApiVersion::V1;
    include!("later_api_black_box/suite.rs");
}

mod v2 {
    const FACTUS_API: factus_sandbox::ApiVersion = factus_sandbox::ApiVersion::V2;
    include!("later_api_black_box/suite.rs");
}
