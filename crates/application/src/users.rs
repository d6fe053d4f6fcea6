//! User administration (admins only) and the first-start bootstrap of `admin`.

use std::sync::Arc;

use factus_domain::user::{NewPassword, Role, User, Username};
use thiserror::Error;
use uuid::Uuid;

use crate::StoreError;
use crate::auth::AuthService;
use crate::ports::{InsertUserError, PasswordHasher, UserStore};

#[derive(Debug, Error)]
pub enum CreateUserError {
    #[error("username {0} is already taken")]
    UsernameTaken(Username),
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

#[derive(Debug, Error)]
pub enum UpdateUserError {
    #[error("user not found")]
    NotFound,
    /// The change would leave no enabled admin, locking everybody out of user management.
    #[error("the last enabled admin cannot be disabled, demoted or deleted")]
    LastAdmin,
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

/// What an admin may change about a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub disabled: Option<bool>,
    pub role: Option<Role>,
    pub password: Option<NewPassword>,
}

/// User administration use cases.
pub struct UserAdmin {
    users: Arc<dyn UserStore>,
    hasher: Arc<dyn PasswordHasher>,
    auth: Arc<AuthService>,
}

impl UserAdmin {
    pub fn new(users: Arc<dyn UserStore>, hasher: Arc<dyn PasswordHasher>, auth: Arc<AuthService>) -> Self {
        Self { users, hasher, auth }
    }

    /// Every user, ordered by username.
    ///
    /// # Errors
    /// `Unexpected` when the store fails.
    pub async fn list(&self) -> Result<Vec<User>, StoreError> {
        self.users.list().await
    }

    /// One user by name.
    ///
    /// # Errors
    /// `Unexpected` when the store fails.
    pub async fn find(&self, username: &Username) -> Result<Option<User>, StoreError> {
        self.users.find_by_username(username).await
    }

    /// Creates a user with a hashed password.
    ///
    /// # Errors
    /// [`CreateUserError::UsernameTaken`]; `Unexpected` when the store or hasher fails.
    pub async fn create(
        &self,
        username: Username,
        password: &NewPassword,
        role: Role,
    ) -> Result<User, CreateUserError> {
        let now = crate::clock::now();
        let user = User {
            id: Uuid::now_v7(),
            username,
            password_hash: self.hasher.hash(password).await?,
            role,
            disabled: false,
            token_version: 0,
            created_at: now,
            updated_at: now,
        };
        match self.users.insert(&user).await {
            Ok(()) => {
                tracing::info!(username = %user.username, role = %user.role, "user created");
                Ok(user)
            }
            Err(InsertUserError::UsernameTaken(name)) => Err(CreateUserError::UsernameTaken(name)),
            Err(InsertUserError::Unexpected(error)) => Err(CreateUserError::Unexpected(error)),
        }
    }

    /// Applies `changes` to a user.
    ///
    /// # Errors
    /// [`UpdateUserError::NotFound`]; [`UpdateUserError::LastAdmin`] when the change would leave
    /// no enabled admin; `Unexpected` when the store or hasher fails.
    pub async fn update(&self, username: &Username, changes: UserChanges) -> Result<User, UpdateUserError> {
        let mut user = self.users.find_by_username(username).await?.ok_or(UpdateUserError::NotFound)?;
        let loses_admin =
            user.is_admin() && !user.disabled && (changes.disabled == Some(true) || changes.role == Some(Role::User));
        if loses_admin && self.users.count_enabled_admins().await? <= 1 {
            return Err(UpdateUserError::LastAdmin);
        }
        let before = user.clone();
        if let Some(disabled) = changes.disabled {
            user.disabled = disabled;
        }
        if let Some(role) = changes.role {
            user.role = role;
        }
        if let Some(password) = &changes.password {
            user.password_hash = self.hasher.hash(password).await?;
        }
        // A reset password, a disable (even if undone later) or another role ends every
        // session: tokens issued before carry the old version and are refused.
        let ends_sessions = changes.password.is_some()
            || changes.disabled.is_some_and(|disabled| disabled != before.disabled)
            || changes.role.is_some_and(|role| role != before.role);
        if ends_sessions {
            user.token_version = before.token_version + 1;
        }
        user.updated_at = crate::clock::now();
        if !self.users.update(&user).await? {
            return Err(UpdateUserError::NotFound);
        }
        if loses_admin && self.users.count_enabled_admins().await? == 0 {
            // Two admins demoted each other at once: both passed the check above. Undo ours, so
            // user management is never locked out (the other request undoes its own likewise).
            self.users.update(&before).await?;
            return Err(UpdateUserError::LastAdmin);
        }
        self.auth.evict_cached(username);
        tracing::info!(username = %user.username, role = %user.role, disabled = user.disabled, "user updated");
        Ok(user)
    }

    /// Deletes a user; their tokens stop working at once on this instance.
    ///
    /// # Errors
    /// [`UpdateUserError::NotFound`]; [`UpdateUserError::LastAdmin`]; `Unexpected`.
    pub async fn delete(&self, username: &Username) -> Result<(), UpdateUserError> {
        let user = self.users.find_by_username(username).await?.ok_or(UpdateUserError::NotFound)?;
        if user.is_admin() && !user.disabled && self.users.count_enabled_admins().await? <= 1 {
            return Err(UpdateUserError::LastAdmin);
        }
        if !self.users.delete(username).await? {
            return Err(UpdateUserError::NotFound);
        }
        if user.is_admin() && !user.disabled && self.users.count_enabled_admins().await? == 0 {
            // A concurrent demotion or deletion of the other admin passed its check at the same
            // time: put this admin back rather than leave nobody to manage users.
            self.users.insert(&user).await.map_err(|error| match error {
                InsertUserError::Unexpected(error) => UpdateUserError::Unexpected(error),
                InsertUserError::UsernameTaken(_) => UpdateUserError::LastAdmin,
            })?;
            return Err(UpdateUserError::LastAdmin);
        }
        self.auth.evict_cached(username);
        tracing::info!(username = %username, "user deleted");
        Ok(())
    }

    /// Creates the admin `admin` with `password` when no user exists yet; returns whether it did.
    ///
    /// # Errors
    /// `Unexpected` when the store or hasher fails. A concurrent bootstrap by another instance
    /// that won the race is not an error.
    pub async fn bootstrap_admin(&self, password: &NewPassword) -> Result<bool, StoreError> {
        if self.users.count().await? > 0 {
            return Ok(false);
        }
        let admin = Username::parse("admin").map_err(|error| StoreError(anyhow::anyhow!(error)))?;
        match self.create(admin, password, Role::Admin).await {
            Ok(_) => Ok(true),
            Err(CreateUserError::UsernameTaken(_)) => Ok(false),
            Err(CreateUserError::Unexpected(error)) => Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use factus_domain::user::PasswordHash;

    use super::*;
    use crate::account::test_users::admin;
    use crate::auth::ThrottlePolicy;
    use crate::ports::security::{MockPasswordHasher, MockTokenService};
    use crate::ports::users::{MockLoginAttemptStore, MockUserStore};

    /// A user store in which the admin is found by name.
    fn finding_the_admin() -> MockUserStore {
        let mut users = MockUserStore::new();
        users.expect_find_by_username().returning(|_| Ok(Some(admin())));
        users
    }

    fn service(users: MockUserStore, hasher: MockPasswordHasher) -> UserAdmin {
        let users: Arc<dyn UserStore> = Arc::new(users);
        let hasher: Arc<dyn PasswordHasher> = Arc::new(hasher);
        let auth = Arc::new(AuthService::new(
            users.clone(),
            Arc::new(MockLoginAttemptStore::new()),
            hasher.clone(),
            Arc::new(MockTokenService::new()),
            ThrottlePolicy::default(),
            Duration::ZERO,
        ));
        UserAdmin::new(users, hasher, auth)
    }

    #[tokio::test]
    async fn the_last_enabled_admin_cannot_be_disabled() {
        let mut users = finding_the_admin();
        users.expect_count_enabled_admins().returning(|| Ok(1));
        users.expect_update().never();

        let changes = UserChanges { disabled: Some(true), ..UserChanges::default() };
        let error = service(users, MockPasswordHasher::new()).update(&admin().username, changes).await.unwrap_err();

        assert!(matches!(error, UpdateUserError::LastAdmin), "{error:?}");
    }

    #[tokio::test]
    async fn an_admin_can_be_demoted_while_another_admin_remains() {
        let mut users = finding_the_admin();
        users.expect_count_enabled_admins().returning(|| Ok(2));
        users.expect_update().withf(|user| user.role == Role::User).times(1).returning(|_| Ok(true));

        let changes = UserChanges { role: Some(Role::User), ..UserChanges::default() };
        let user = service(users, MockPasswordHasher::new()).update(&admin().username, changes).await.unwrap();

        assert_eq!(user.role, Role::User);
    }

    #[tokio::test]
    async fn a_demotion_that_raced_another_and_left_no_admin_is_undone() {
        let mut users = finding_the_admin();
        let mut counts = vec![Ok(2), Ok(0)].into_iter();
        users.expect_count_enabled_admins().times(2).returning(move || counts.next().expect("two counts"));
        let mut seq = mockall::Sequence::new();
        users
            .expect_update()
            .withf(|user| user.role == Role::User)
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_| Ok(true));
        users
            .expect_update()
            .withf(|user| user.role == Role::Admin)
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_| Ok(true));

        let changes = UserChanges { role: Some(Role::User), ..UserChanges::default() };
        let error = service(users, MockPasswordHasher::new()).update(&admin().username, changes).await.unwrap_err();

        assert!(matches!(error, UpdateUserError::LastAdmin), "{error:?}");
    }

    #[tokio::test]
    async fn a_deletion_that_raced_another_and_left_no_admin_is_undone() {
        let mut users = finding_the_admin();
        let mut counts = vec![Ok(2), Ok(0)].into_iter();
        users.expect_count_enabled_admins().times(2).returning(move || counts.next().expect("two counts"));
        users.expect_delete().times(1).returning(|_| Ok(true));
        users.expect_insert().withf(|user| user.is_admin()).times(1).returning(|_| Ok(()));

        let error = service(users, MockPasswordHasher::new()).delete(&admin().username).await.unwrap_err();

        assert!(matches!(error, UpdateUserError::LastAdmin), "{error:?}");
    }

    #[tokio::test]
    async fn the_last_enabled_admin_cannot_be_deleted() {
        let mut users = finding_the_admin();
        users.expect_count_enabled_admins().returning(|| Ok(1));
        users.expect_delete().never();

        let error = service(users, MockPasswordHasher::new()).delete(&admin().username).await.unwrap_err();

        assert!(matches!(error, UpdateUserError::LastAdmin), "{error:?}");
    }

    #[tokio::test]
    async fn the_admin_is_bootstrapped_only_when_no_user_exists() {
        let mut users = MockUserStore::new();
        users.expect_count().returning(|| Ok(3));
        users.expect_insert().never();

        let created = service(users, MockPasswordHasher::new())
            .bootstrap_admin(&NewPassword::parse("admin123").unwrap())
            .await
            .unwrap();

        assert!(!created);
    }

    #[tokio::test]
    async fn a_bootstrap_that_lost_the_race_to_another_instance_is_not_an_error() {
        let mut users = MockUserStore::new();
        users.expect_count().returning(|| Ok(0));
        users.expect_insert().returning(|user| Err(InsertUserError::UsernameTaken(user.username.clone())));
        let mut hasher = MockPasswordHasher::new();
        hasher.expect_hash().returning(|_| Ok(PasswordHash::from_phc("$argon2id$y".to_owned())));

        let created = service(users, hasher).bootstrap_admin(&NewPassword::parse("admin123").unwrap()).await.unwrap();

        assert!(!created);
    }
}
