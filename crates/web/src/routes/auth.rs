//! Local authentication: the OAuth2 password form, the current user, changing one's password.

use axum::Json;
use axum::extract::State;
use factus_domain::user::NewPassword;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::envelope::{ApiResponse, DetailResponse, ValidationErrorResponse};
use crate::error::ApiError;
use crate::extract::{ClientAddress, CurrentUser, FormBody, JsonBody};
use crate::routes::users::UserResponse;
use crate::state::AppState;
use crate::validation::{Errors, FieldError, Fields, Loc};

/// The OAuth2 password form (`application/x-www-form-urlencoded`).
#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginForm {
    #[schema(example = "admin")]
    pub username: String,
    #[schema(example = "admin123")]
    pub password: String,
    /// Optional; when sent it must be `password`.
    #[schema(pattern = "^password$")]
    pub grant_type: Option<String>,
    pub scope: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

/// A local access token.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `bearer`.
    #[schema(example = "bearer")]
    pub token_type: &'static str,
}

/// Log in with a local username and password.
#[utoipa::path(
    post, path = "/auth/login", tag = "auth",
    request_body(content = LoginForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "A bearer token", body = TokenResponse,
            example = json!({"access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9…", "token_type": "bearer"})),
        (status = 401, description = "`Incorrect username or password`", body = DetailResponse),
        (status = 422, description = "A field is missing", body = ValidationErrorResponse),
        (status = 429, description = "Too many failed attempts; see `Retry-After`", body = DetailResponse),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    form: FormBody,
) -> Result<Json<TokenResponse>, ApiError> {
    let mut errors = Vec::new();
    if form.get("username").is_none() {
        errors.push(FieldError::missing(Loc::body().key("username")));
    }
    if form.get("password").is_none() {
        errors.push(FieldError::missing(Loc::body().key("password")));
    }
    if form.get("grant_type").is_some_and(|grant| grant != "password") {
        errors.push(FieldError::new(
            Loc::body().key("grant_type"),
            "string does not match regex \"^password$\"",
            "value_error.str.regex",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let username = form.get("username").unwrap_or_default();
    let password = form.get("password").unwrap_or_default();
    let token = state.auth.login(username, password, address).await?;
    Ok(Json(TokenResponse { access_token: token.access_token, token_type: "bearer" }))
}

/// The user the bearer token belongs to.
#[utoipa::path(
    get, path = "/auth/me", tag = "auth", security(("OAuth2PasswordBearer" = [])),
    responses(
        (status = 200, description = "The current user", body = inline(ApiResponse<UserResponse>)),
    )
)]
pub async fn me(CurrentUser(user): CurrentUser) -> Json<ApiResponse<UserResponse>> {
    Json(ApiResponse::ok("Usuario obtenido exitosamente", UserResponse::from(&user)))
}

/// Reads the body of `POST /auth/password` (documented by [`crate::schemas::ChangePasswordRequest`]).
pub(crate) fn read_change_password(body: &Value) -> Result<(String, NewPassword), Vec<FieldError>> {
    let loc = Loc::body();
    let mut errors = Errors::new();
    let (current, new_password) = match Fields::of(body, &loc, &mut errors) {
        Some(fields) => {
            (fields.required_str("current_password", &mut errors), fields.required_str("new_password", &mut errors))
        }
        None => (None, None),
    };
    let new_password = new_password.and_then(|raw| match NewPassword::parse(&raw) {
        Ok(password) => Some(password),
        Err(policy) => {
            errors.push(FieldError::rule(loc.key("new_password"), policy.to_string()));
            None
        }
    });
    match (current, new_password) {
        (Some(current), Some(new_password)) => Ok((current, new_password)),
        _ => Err(errors.into_vec()),
    }
}

/// Change one's own password.
#[utoipa::path(
    post, path = "/auth/password", tag = "auth", security(("OAuth2PasswordBearer" = [])),
    request_body = crate::schemas::ChangePasswordRequest,
    responses(
        (status = 200, description = "Changed", body = inline(ApiResponse<Option<String>>)),
        (status = 400, description = "`Current password is incorrect`", body = DetailResponse),
        (status = 422, description = "Missing fields or a password outside the policy", body = ValidationErrorResponse),
        (status = 429, description = "Too many wrong current passwords (counted with failed logins); see `Retry-After`", body = DetailResponse),
    )
)]
pub async fn change_password(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    user: Result<CurrentUser, ApiError>,
    JsonBody(body): JsonBody,
) -> Result<Json<ApiResponse<Option<()>>>, ApiError> {
    let CurrentUser(user) = user?;
    let (current, new_password) = read_change_password(&body).map_err(ApiError::Validation)?;
    state.auth.change_password(&user, &current, &new_password, address).await?;
    Ok(Json(ApiResponse::ok("Contraseña actualizada exitosamente", None)))
}
