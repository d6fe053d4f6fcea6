//! User administration, for admins only.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use factus_application::users::UserChanges;
use factus_domain::user::{NewPassword, Role, User, Username};
use serde::Serialize;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

use crate::envelope::{ApiResponse, DetailResponse};
use crate::error::ApiError;
use crate::extract::{AdminUser, JsonBody};
use crate::state::AppState;
use crate::validation::{Errors, FieldError, Fields, Loc};

/// A user as the API shows it (never the password hash).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserResponse {
    pub id: String,
    #[schema(example = "ana")]
    pub username: String,
    /// `admin` or `user`.
    #[schema(example = "user")]
    pub role: &'static str,
    pub disabled: bool,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub updated_at: String,
}

impl From<&User> for UserResponse {
    fn from(user: &User) -> Self {
        let format = |at: time::OffsetDateTime| at.format(&Rfc3339).unwrap_or_default();
        Self {
            id: user.id.to_string(),
            username: user.username.to_string(),
            role: user.role.as_str(),
            disabled: user.disabled,
            created_at: format(user.created_at),
            updated_at: format(user.updated_at),
        }
    }
}

fn parse_path_username(raw: &str) -> Result<Username, ApiError> {
    // A name that cannot exist is simply not found.
    Username::parse(raw).map_err(|_| ApiError::user_not_found())
}

fn parse_role(raw: Option<String>, loc: &Loc, errors: &mut Errors) -> Option<Role> {
    raw.and_then(|raw| match Role::parse(&raw) {
        Ok(role) => Some(role),
        Err(error) => {
            errors.push(FieldError::rule(loc.key("role"), error.to_string()));
            None
        }
    })
}

fn parse_password(raw: Option<String>, loc: &Loc, errors: &mut Errors) -> Option<NewPassword> {
    raw.and_then(|raw| match NewPassword::parse(&raw) {
        Ok(password) => Some(password),
        Err(error) => {
            errors.push(FieldError::rule(loc.key("password"), error.to_string()));
            None
        }
    })
}

/// Reads the body of `POST /users` (documented by [`crate::schemas::CreateUserRequest`]).
pub(crate) fn read_create_user(body: &Value) -> Result<(Username, NewPassword, Role), Vec<FieldError>> {
    let loc = Loc::body();
    let mut errors = Errors::new();
    let Some(fields) = Fields::of(body, &loc, &mut errors) else {
        return Err(errors.into_vec());
    };
    let username = fields.required_str("username", &mut errors).and_then(|raw| match Username::parse(&raw) {
        Ok(name) => Some(name),
        Err(error) => {
            errors.push(FieldError::rule(loc.key("username"), error.to_string()));
            None
        }
    });
    let password_raw = fields.required_str("password", &mut errors);
    let password = parse_password(password_raw, &loc, &mut errors);
    let role_raw = fields.optional_str("role", &mut errors);
    let role = parse_role(role_raw, &loc, &mut errors).unwrap_or(Role::User);
    match (username, password, errors.is_empty()) {
        (Some(username), Some(password), true) => Ok((username, password, role)),
        _ => Err(errors.into_vec()),
    }
}

/// Reads the body of `PATCH /users/{username}` (documented by [`crate::schemas::UpdateUserRequest`]).
pub(crate) fn read_update_user(body: &Value) -> Result<UserChanges, Vec<FieldError>> {
    let loc = Loc::body();
    let mut errors = Errors::new();
    let Some(fields) = Fields::of(body, &loc, &mut errors) else {
        return Err(errors.into_vec());
    };
    let disabled = fields.optional_bool("disabled", &mut errors);
    let role_raw = fields.optional_str("role", &mut errors);
    let role = parse_role(role_raw, &loc, &mut errors);
    let password_raw = fields.optional_str("password", &mut errors);
    let password = parse_password(password_raw, &loc, &mut errors);
    errors.finish(UserChanges { disabled, role, password })
}

/// List every user.
#[utoipa::path(
    get, path = "/users", tag = "users", security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "All users", body = inline(ApiResponse<Vec<UserResponse>>)),
    ),
    extensions(("x-admin-only" = json!(true)))
)]
pub async fn list_users(
    State(state): State<AppState>,
    _admin: AdminUser,
) -> Result<Json<ApiResponse<Vec<UserResponse>>>, ApiError> {
    let users = state.users.list().await?;
    Ok(Json(ApiResponse::ok("Usuarios obtenidos exitosamente", users.iter().map(UserResponse::from).collect())))
}

/// Create a user.
#[utoipa::path(
    post, path = "/users", tag = "users", security(("OAuth2PasswordBearer" = [])),
    request_body = crate::schemas::CreateUserRequest,
    responses(
        (status = 201, description = "Created", body = inline(ApiResponse<UserResponse>)),
        (status = 409, description = "`Username already exists`", body = DetailResponse),
    ),
    extensions(("x-admin-only" = json!(true)))
)]
pub async fn create_user(
    State(state): State<AppState>,
    admin: Result<AdminUser, ApiError>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<ApiResponse<UserResponse>>), ApiError> {
    admin?;
    let (username, password, role) = read_create_user(&body).map_err(ApiError::Validation)?;
    let user = state.users.create(username, &password, role).await?;
    Ok((StatusCode::CREATED, Json(ApiResponse::ok("Usuario creado exitosamente", UserResponse::from(&user)))))
}

/// Disable or enable a user, change their role, or reset their password.
#[utoipa::path(
    patch, path = "/users/{username}", tag = "users", security(("OAuth2PasswordBearer" = [])),
    params(("username" = String, Path, description = "The user to change")),
    request_body = crate::schemas::UpdateUserRequest,
    responses(
        (status = 200, description = "Updated", body = inline(ApiResponse<UserResponse>)),
        (status = 404, description = "`User not found`", body = DetailResponse),
        (status = 409, description = "The last enabled admin would be lost", body = DetailResponse),
    ),
    extensions(("x-admin-only" = json!(true)))
)]
pub async fn update_user(
    State(state): State<AppState>,
    admin: Result<AdminUser, ApiError>,
    Path(username): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<ApiResponse<UserResponse>>, ApiError> {
    admin?;
    let changes = read_update_user(&body).map_err(ApiError::Validation)?;
    let username = parse_path_username(&username)?;
    let user = state.users.update(&username, changes).await?;
    Ok(Json(ApiResponse::ok("Usuario actualizado exitosamente", UserResponse::from(&user))))
}

/// Delete a user.
#[utoipa::path(
    delete, path = "/users/{username}", tag = "users", security(("OAuth2PasswordBearer" = [])),
    params(("username" = String, Path, description = "The user to delete")),
    responses(
        (status = 200, description = "Deleted", body = inline(ApiResponse<Option<String>>)),
        (status = 404, description = "`User not found`", body = DetailResponse),
        (status = 409, description = "The last enabled admin would be lost", body = DetailResponse),
    ),
    extensions(("x-admin-only" = json!(true)))
)]
pub async fn delete_user(
    State(state): State<AppState>,
    _admin: AdminUser,
    Path(username): Path<String>,
) -> Result<Json<ApiResponse<Option<()>>>, ApiError> {
    let username = parse_path_username(&username)?;
    state.users.delete(&username).await?;
    Ok(Json(ApiResponse::ok("Usuario eliminado exitosamente", None)))
}
