//! `/api/auth/factus`: a Factus token for the client, the bare AuthToken of `docs/contract.md`
//! §12.5, on the same use case as `/api/v1/auth/factus`.

use axum::Json;
use axum::extract::State;
use secrecy::SecretString;

use crate::caller::KeyCaller;
use crate::envelope::{BadRequestResponse, DetailResponse};
use crate::error::{ApiError, Later};
use crate::extract::JsonBody;
use crate::later::read_body;
use crate::routes::factus_auth::{FactusTokenResponse, read_factus_login, read_factus_refresh};
use crate::state::AppState;

/// Log in to Factus with a Factus user's e-mail and password.
#[utoipa::path(
    post, path = "/api/auth/factus/login", tag = "later", operation_id = "later_factus_login", security(("APIKeyHeader" = [])),
    request_body = crate::schemas::FactusLoginRequest,
    responses(
        (status = 200, description = "Factus' token", body = FactusTokenResponse,
            example = json!({"access_token": "eyJ0…", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "def50200…"})),
        (status = 401, description = "`Not authenticated` (no `X-API-Key`), or Factus refused the credentials with its 401", body = DetailResponse),
        (status = 422, description = "Missing fields, a bad e-mail, or the string-body hint", body = BadRequestResponse),
    )
)]
pub async fn factus_login(
    State(state): State<AppState>,
    caller: Result<KeyCaller, ApiError>,
    JsonBody(body): JsonBody,
) -> Result<Json<FactusTokenResponse>, ApiError> {
    caller?;
    let (email, password) = read_body(&body, read_factus_login)?;
    let token = state.factus_auth.login(&email, &SecretString::from(password)).await.map_err(Later)?;
    Ok(Json(token.into()))
}

/// A new Factus token for a refresh token.
#[utoipa::path(
    post, path = "/api/auth/factus/refresh", tag = "later", operation_id = "later_factus_refresh", security(("APIKeyHeader" = [])),
    request_body = crate::schemas::FactusRefreshRequest,
    responses(
        (status = 200, description = "Factus' new token", body = FactusTokenResponse),
        (status = 401, description = "`Not authenticated` (no `X-API-Key`), or Factus refused the refresh token with its 401", body = DetailResponse),
        (status = 422, description = "Missing `refresh_token`, or the string-body hint", body = BadRequestResponse),
    )
)]
pub async fn factus_refresh(
    State(state): State<AppState>,
    caller: Result<KeyCaller, ApiError>,
    JsonBody(body): JsonBody,
) -> Result<Json<FactusTokenResponse>, ApiError> {
    caller?;
    let refresh_token = read_body(&body, read_factus_refresh)?;
    let token = state.factus_auth.refresh(&SecretString::from(refresh_token)).await.map_err(Later)?;
    Ok(Json(token.into()))
}
