//! What the company and numbering-range use cases ([`crate::company`],
//! [`crate::numbering_ranges`]) share: their one error type and the rule of who may change the
//! Factus account.
//!
//! Reading the company and the ranges is open to every user: invoicing needs the range ids. Changing
//! them changes every document issued afterwards (the issuer printed on them, the numbers DIAN
//! accepts), so it is for admins, whatever way the caller authenticated (a bearer token or an API
//! key acts as its user).

use factus_domain::user::User;
use thiserror::Error;

use crate::factus::FactusFailure;

/// How a company or numbering-range use case failed.
#[derive(Debug, Error)]
pub enum AccountError {
    /// A user who is not an admin asked to change the company or a numbering range.
    #[error("Not enough permissions")]
    NotAdmin,
    /// Factus knows no numbering range with this id (or it was deleted).
    #[error("Rango de numeración no encontrado")]
    RangeNotFound { id: i64 },
    /// Factus refused or failed the call.
    #[error(transparent)]
    Factus(#[from] FactusFailure),
}

/// Only admins change the Factus account.
///
/// # Errors
/// [`AccountError::NotAdmin`] for anybody else.
pub(crate) fn require_admin(actor: &User) -> Result<(), AccountError> {
    if actor.is_admin() { Ok(()) } else { Err(AccountError::NotAdmin) }
}

/// Users for the unit tests of the account use cases.
#[cfg(test)]
pub(crate) mod test_users {
    use factus_domain::user::{PasswordHash, Role, User, Username};

    fn person(name: &str, role: Role) -> User {
        let now = crate::clock::now();
        User {
            id: uuid::Uuid::now_v7(),
            username: Username::parse(name).expect("a name"),
            password_hash: PasswordHash::from_phc("$argon2id$x".to_owned()),
            role,
            disabled: false,
            token_version: 0,
            created_at: now,
            updated_at: now,
        }
    }

    pub(crate) fn admin() -> User {
        person("admin", Role::Admin)
    }

    pub(crate) fn user() -> User {
        person("ana", Role::User)
    }
}
