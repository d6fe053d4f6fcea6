//! Local users of factus-api: who may log in, and with which role.

use std::fmt;

use thiserror::Error;
use time::OffsetDateTime;
use uuid::Uuid;

/// A login name: 3 to 64 characters of `a-z`, `0-9`, `.`, `_`, `-` or `@`, stored lower-case so that
/// `Admin` and `admin` are the same user (the database enforces the same with a unique index).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Username(String);

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UsernameError {
    #[error("username must have between {min} and {max} characters")]
    Length { min: usize, max: usize },
    #[error("username may only contain letters, digits, '.', '_', '-' and '@'")]
    Characters,
}

impl Username {
    pub const MIN_LEN: usize = 3;
    pub const MAX_LEN: usize = 64;

    /// Parses a username, folding it to lower case.
    ///
    /// # Errors
    /// [`UsernameError`] when it is too short, too long, or has other characters.
    pub fn parse(raw: &str) -> Result<Self, UsernameError> {
        let folded = raw.trim().to_lowercase();
        let length = folded.chars().count();
        if !(Self::MIN_LEN..=Self::MAX_LEN).contains(&length) {
            return Err(UsernameError::Length { min: Self::MIN_LEN, max: Self::MAX_LEN });
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@');
        if !folded.chars().all(allowed) {
            return Err(UsernameError::Characters);
        }
        Ok(Self(folded))
    }
}

text_newtype!(Username);

/// What a user may do. Admins manage users; every user may issue and read invoices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Admin,
    User,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("role must be 'admin' or 'user'")]
pub struct RoleError;

impl Role {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::User => "user",
        }
    }

    /// # Errors
    /// [`RoleError`] for anything but `admin` or `user`.
    pub fn parse(raw: &str) -> Result<Self, RoleError> {
        match raw {
            "admin" => Ok(Self::Admin),
            "user" => Ok(Self::User),
            _ => Err(RoleError),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A password as typed by a person, checked against the policy before it is hashed. It never
/// appears in `Debug` output, so it cannot leak into a log line by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PasswordPolicyError {
    #[error("password must have at least {min} characters")]
    TooShort { min: usize },
    #[error("password must have at most {max} characters")]
    TooLong { max: usize },
}

impl NewPassword {
    /// NIST SP 800-63B: at least 8 characters, no composition rules; the upper bound keeps
    /// hashing cost bounded.
    pub const MIN_LEN: usize = 8;
    pub const MAX_LEN: usize = 128;

    /// # Errors
    /// [`PasswordPolicyError`] when the password is too short or too long.
    pub fn parse(raw: &str) -> Result<Self, PasswordPolicyError> {
        let length = raw.chars().count();
        if length < Self::MIN_LEN {
            return Err(PasswordPolicyError::TooShort { min: Self::MIN_LEN });
        }
        if length > Self::MAX_LEN {
            return Err(PasswordPolicyError::TooLong { max: Self::MAX_LEN });
        }
        Ok(Self(raw.to_owned()))
    }

    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(<redacted>)")
    }
}

/// An argon2id hash in PHC string format (`$argon2id$v=19$m=19456,t=2,p=1$…`).
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    #[must_use]
    pub fn from_phc(phc: String) -> Self {
        Self(phc)
    }

    #[must_use]
    pub fn as_phc(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

/// A local user as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    pub username: Username,
    pub password_hash: PasswordHash,
    pub role: Role,
    /// A disabled user cannot log in, and tokens issued before are refused.
    pub disabled: bool,
    /// Counts the changes that invalidate earlier tokens (password change or reset, disable,
    /// role change). Every token carries the version it was issued at and is refused once the
    /// user's version moved on.
    pub token_version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl User {
    #[must_use]
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_folded_to_lower_case() {
        assert_eq!(Username::parse(" Admin ").unwrap().as_str(), "admin");
    }

    #[test]
    fn usernames_shorter_than_three_characters_are_rejected() {
        assert_eq!(Username::parse("ab"), Err(UsernameError::Length { min: 3, max: 64 }));
    }

    #[test]
    fn usernames_with_spaces_inside_are_rejected() {
        assert_eq!(Username::parse("ana maria"), Err(UsernameError::Characters));
    }

    #[test]
    fn email_like_usernames_are_accepted() {
        assert!(Username::parse("ana.maria@shop.co").is_ok());
    }

    #[test]
    fn passwords_under_eight_characters_break_the_policy() {
        assert_eq!(NewPassword::parse("1234567"), Err(PasswordPolicyError::TooShort { min: 8 }));
    }

    #[test]
    fn password_debug_output_is_redacted() {
        let password = NewPassword::parse("correct horse").unwrap();
        assert!(!format!("{password:?}").contains("horse"));
    }

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in [Role::Admin, Role::User] {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
        }
        assert_eq!(Role::parse("root"), Err(RoleError));
    }
}
