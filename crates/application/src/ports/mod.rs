//! The traits adapters implement.

pub mod security;
pub mod users;

pub use security::{Claims, IssuedToken, PasswordHasher, TokenError, TokenService};
pub use users::{FailureWindow, InsertUserError, LoginAttemptStore, UserStore};
