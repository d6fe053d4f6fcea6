//! The heart of factus-api: the invoice model, money, business rules and users.
//!
//! Everything here is plain data and pure functions: no I/O, no async, no serde, no sqlx, no axum
//! (CI checks the dependency tree). Values with invariants have private fields and constructors
//! that return a specific error, so once built they are valid and nobody checks them again.
//!
//! Layout:
//! - [`user`]: local users, usernames, roles and the password policy.
//! - [`invoice`]: the DIAN invoice as Factus v1 takes it, its rules and its totals, and its
//!   translation for Factus v2 (net prices, DIAN codes).
//! - [`catalog`]: Factus' catalogues and code tables, v1 id ↔ DIAN code.

// A dependency nothing uses is drift (CI also runs cargo-machete); unit-test
// builds see the dev-dependencies too, so the lint runs on the library build only.
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

/// The text form of checked texts (newtypes over a `String`): `as_str` and `Display`, both the
/// text exactly as held. Defined before the modules, so that every module of the crate sees it.
macro_rules! text_newtype {
    ($($newtype:ty),+ $(,)?) => {$(
        impl $newtype {
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $newtype {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    )+};
}

pub mod catalog;
pub mod invoice;
pub mod user;

#[cfg(any(test, feature = "test-support"))]
pub mod testing;
