//! Factus tokens for clients that hold their own Factus account (`/auth/factus/*`).

use axum::Json;
use axum::extract::State;
use factus_application::factus::FactusToken;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::envelope::{ApiResponse, DetailResponse, ValidationErrorResponse};
use crate::error::ApiError;
use crate::extract::{CurrentUser, JsonBody};
use crate::state::AppState;
use crate::validation::{Errors, FieldError, Fields, Loc};

/// A Factus token, as Factus issued it.
#[derive(Debug, Serialize, ToSchema)]
pub struct FactusTokenResponse {
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: String,
    #[schema(example = 3600)]
    pub expires_in: i64,
    pub refresh_token: Option<String>,
}

impl From<FactusToken> for FactusTokenResponse {
    fn from(token: FactusToken) -> Self {
        Self {
            access_token: token.access_token.expose_secret().to_owned(),
            token_type: token.token_type,
            expires_in: token.expires_in,
            refresh_token: token.refresh_token.map(|token| token.expose_secret().to_owned()),
        }
    }
}

/// Reads the body of `POST /auth/factus/login` (documented by [`crate::schemas::FactusLoginRequest`]).
pub(crate) fn read_factus_login(body: &Value) -> Result<(String, String), Vec<FieldError>> {
    let loc = Loc::body();
    let mut errors = Errors::new();
    let fields = Fields::of(body, &loc, &mut errors);
    let email = fields.and_then(|fields| fields.required_email("email", &mut errors));
    let password = fields.and_then(|fields| fields.required_str("password", &mut errors));
    match (email, password, errors.is_empty()) {
        (Some(email), Some(password), true) => Ok((email, password)),
        _ => Err(errors.into_vec()),
    }
}

/// Reads the body of `POST /auth/factus/refresh` (documented by [`crate::schemas::FactusRefreshRequest`]).
pub(crate) fn read_factus_refresh(body: &Value) -> Result<String, Vec<FieldError>> {
    let loc = Loc::body();
    let mut errors = Errors::new();
    let refresh_token =
        Fields::of(body, &loc, &mut errors).and_then(|fields| fields.required_str("refresh_token", &mut errors));
    match (refresh_token, errors.is_empty()) {
        (Some(refresh_token), true) => Ok(refresh_token),
        _ => Err(errors.into_vec()),
    }
}

/// Exchange a Factus e-mail and password for a Factus token (send it back in `X-Factus-Token`).
#[utoipa::path(
    post, path = "/auth/factus/login", tag = "auth", security(("OAuth2PasswordBearer" = [])),
    request_body = crate::schemas::FactusLoginRequest,
    responses(
        (status = 200, description = "`Autenticación exitosa`", body = inline(ApiResponse<FactusTokenResponse>),
            example = json!({"success": true, "message": "Autenticación exitosa", "data": {"access_token": "eyJ0…", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "def50200…"}, "errors": null})),
        (status = 400, description = "`No se pudo obtener el token de Factus: …`", body = DetailResponse),
        (status = 422, description = "Missing fields or a bad e-mail", body = ValidationErrorResponse),
        (status = 503, description = "Factus unreachable", body = DetailResponse),
        (status = 504, description = "Factus did not answer in time", body = DetailResponse),
    )
)]
pub async fn factus_login(
    State(state): State<AppState>,
    user: Result<CurrentUser, ApiError>,
    JsonBody(body): JsonBody,
) -> Result<Json<ApiResponse<FactusTokenResponse>>, ApiError> {
    user?;
    let (email, password) = read_factus_login(&body).map_err(ApiError::Validation)?;
    let token = state.factus_auth.login(&email, &SecretString::from(password)).await?;
    Ok(Json(ApiResponse::ok("Autenticación exitosa", token.into())))
}

/// Exchange a Factus refresh token for a new Factus token.
#[utoipa::path(
    post, path = "/auth/factus/refresh", tag = "auth", security(("OAuth2PasswordBearer" = [])),
    request_body = crate::schemas::FactusRefreshRequest,
    responses(
        (status = 200, description = "`Token refrescado exitosamente`", body = inline(ApiResponse<FactusTokenResponse>)),
        (status = 400, description = "`No se pudo refrescar el token de Factus: …`", body = DetailResponse),
        (status = 422, description = "Missing `refresh_token`", body = ValidationErrorResponse),
    )
)]
pub async fn factus_refresh(
    State(state): State<AppState>,
    user: Result<CurrentUser, ApiError>,
    JsonBody(body): JsonBody,
) -> Result<Json<ApiResponse<FactusTokenResponse>>, ApiError> {
    user?;
    let refresh_token = read_factus_refresh(&body).map_err(ApiError::Validation)?;
    let token = state.factus_auth.refresh(&SecretString::from(refresh_token)).await?;
    Ok(Json(ApiResponse::ok("Token refrescado exitosamente", token.into())))
}
