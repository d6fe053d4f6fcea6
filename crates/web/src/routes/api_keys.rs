//! API-key administration, for admins only: create (the key is shown once), list, revoke.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use factus_application::api_keys::{ApiKey, ApiKeyName, RevokeApiKeyError};
use factus_domain::user::Username;
use secrecy::ExposeSecret as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::envelope::{ApiResponse, BadRequestResponse, DetailResponse, ValidationErrorResponse};
use crate::error::ApiError;
use crate::extract::{AdminUser, JsonBody};
use crate::state::AppState;
use crate::validation::{Errors, FieldError, Fields, Loc};

/// An API key as the API shows it (never the key itself, except once in [`CreatedApiKeyResponse`]).
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyResponse {
    pub id: String,
    #[schema(example = "erp-produccion")]
    pub name: String,
    /// `fapi_` and the first 8 hex digits of the key, to recognise it.
    #[schema(example = "fapi_3f9a61c2")]
    pub prefix: String,
    /// The user the key acts as.
    #[schema(example = "erp")]
    pub username: String,
    /// Neither revoked nor expired.
    pub active: bool,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub expires_at: Option<String>,
    /// Precise to about a minute.
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

impl From<&ApiKey> for ApiKeyResponse {
    fn from(key: &ApiKey) -> Self {
        Self {
            id: key.id.to_string(),
            name: key.name.as_str().to_owned(),
            prefix: key.prefix.clone(),
            username: key.username.to_string(),
            active: key.is_active_at(OffsetDateTime::now_utc()),
            created_at: rfc3339(key.created_at),
            expires_at: key.expires_at.map(rfc3339),
            last_used_at: key.last_used_at.map(rfc3339),
            revoked_at: key.revoked_at.map(rfc3339),
        }
    }
}

/// A key just created: the stored fields and, this once, the key.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedApiKeyResponse {
    #[serde(flatten)]
    pub stored: ApiKeyResponse,
    /// Send it as `X-API-Key`. Shown only now: only its SHA-256 is kept.
    #[schema(example = "fapi_3f9a61c2…")]
    pub key: String,
}

/// Body of `POST /api-keys`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateApiKeyRequest {
    /// 1–100 characters without control characters, to tell keys apart.
    #[schema(schema_with = crate::schemas::api_key_name, example = "erp-produccion")]
    pub name: String,
    /// The user the key acts as: it may do what this user may do.
    #[schema(schema_with = crate::schemas::username, example = "erp")]
    pub username: String,
    /// RFC 3339 instant after which the key is refused; absent: never expires.
    #[schema(format = DateTime, examples("2027-12-31T23:59:59Z"))]
    pub expires_at: Option<String>,
}

/// Query of `GET /api-keys`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ApiKeyListQuery {
    /// Only this user's keys.
    pub username: Option<String>,
}

/// Reads the body of `POST /api-keys` (documented by [`CreateApiKeyRequest`]).
pub(crate) fn read_create_api_key(
    body: &Value,
) -> Result<(ApiKeyName, Username, Option<OffsetDateTime>), Vec<FieldError>> {
    let loc = Loc::body();
    let mut errors = Errors::new();
    let Some(fields) = Fields::of(body, &loc, &mut errors) else {
        return Err(errors.into_vec());
    };
    let name = fields.required_str("name", &mut errors).and_then(|raw| match ApiKeyName::parse(&raw) {
        Ok(name) => Some(name),
        Err(error) => {
            errors.push(FieldError::rule(loc.key("name"), error.to_string()));
            None
        }
    });
    let username = fields.required_str("username", &mut errors).and_then(|raw| match Username::parse(&raw) {
        Ok(name) => Some(name),
        Err(error) => {
            errors.push(FieldError::rule(loc.key("username"), error.to_string()));
            None
        }
    });
    let expires_at =
        fields.optional_str("expires_at", &mut errors).and_then(|raw| match OffsetDateTime::parse(&raw, &Rfc3339) {
            Ok(at) => Some(at),
            Err(_) => {
                errors.push(FieldError::new(
                    loc.key("expires_at"),
                    "invalid datetime format (RFC 3339 expected)",
                    "value_error.datetime",
                ));
                None
            }
        });
    match (name, username, errors.is_empty()) {
        (Some(name), Some(username), true) => Ok((name, username, expires_at)),
        _ => Err(errors.into_vec()),
    }
}

/// Create an API key for a user. The answer holds the key; it cannot be shown again.
#[utoipa::path(
    post, path = "/api-keys", tag = "api-keys", security(("OAuth2PasswordBearer" = []), ("APIKeyHeader" = [])),
    request_body = CreateApiKeyRequest,
    responses(
        (status = 201, description = "`API key creada exitosamente`", body = inline(ApiResponse<CreatedApiKeyResponse>)),
        (status = 404, description = "`User not found`", body = DetailResponse),
        (status = 400, description = "`expires_at` is not in the future (a list, like the invoice's rules)", body = BadRequestResponse),
        (status = 422, description = "Invalid fields (name, username, expires_at not RFC 3339)", body = ValidationErrorResponse),
    ),
    extensions(("x-admin-only" = json!(true)))
)]
pub async fn create_api_key(
    State(state): State<AppState>,
    admin: Result<AdminUser, ApiError>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<ApiResponse<CreatedApiKeyResponse>>), ApiError> {
    admin?;
    let (name, username, expires_at) = read_create_api_key(&body).map_err(ApiError::Validation)?;
    let created = state.api_keys.create(&username, name, expires_at).await?;
    let data = CreatedApiKeyResponse {
        stored: ApiKeyResponse::from(&created.key),
        key: created.secret.expose_secret().to_owned(),
    };
    Ok((StatusCode::CREATED, Json(ApiResponse::ok("API key creada exitosamente", data))))
}

/// List API keys (never the keys themselves), oldest first.
#[utoipa::path(
    get, path = "/api-keys", tag = "api-keys", security(("OAuth2PasswordBearer" = []), ("APIKeyHeader" = [])),
    params(ApiKeyListQuery),
    responses(
        (status = 200, description = "`API keys obtenidas exitosamente`", body = inline(ApiResponse<Vec<ApiKeyResponse>>)),
    ),
    extensions(("x-admin-only" = json!(true)))
)]
pub async fn list_api_keys(
    State(state): State<AppState>,
    _admin: AdminUser,
    Query(query): Query<ApiKeyListQuery>,
) -> Result<Json<ApiResponse<Vec<ApiKeyResponse>>>, ApiError> {
    let keys = match query.username.as_deref().map(Username::parse) {
        // A name that cannot exist has no keys.
        Some(Err(_)) => Vec::new(),
        Some(Ok(username)) => state.api_keys.list(Some(&username)).await?,
        None => state.api_keys.list(None).await?,
    };
    Ok(Json(ApiResponse::ok("API keys obtenidas exitosamente", keys.iter().map(ApiKeyResponse::from).collect())))
}

/// Revoke an API key. Every instance refuses it within `AUTH_USER_CACHE_SECS`; this one at once.
#[utoipa::path(
    delete, path = "/api-keys/{id}", tag = "api-keys", security(("OAuth2PasswordBearer" = []), ("APIKeyHeader" = [])),
    params(("id" = String, Path, description = "The key's id (from the listing)")),
    responses(
        (status = 200, description = "`API key revocada exitosamente` (also for a key revoked before)", body = inline(ApiResponse<ApiKeyResponse>)),
        (status = 404, description = "`API key not found`", body = DetailResponse),
    ),
    extensions(("x-admin-only" = json!(true)))
)]
pub async fn revoke_api_key(
    State(state): State<AppState>,
    _admin: AdminUser,
    Path(id): Path<String>,
) -> Result<Json<ApiResponse<ApiKeyResponse>>, ApiError> {
    // An id that cannot exist is simply not found.
    let id = Uuid::try_parse(&id).map_err(|_| ApiError::from(RevokeApiKeyError::NotFound))?;
    let key = state.api_keys.revoke(id).await?;
    Ok(Json(ApiResponse::ok("API key revocada exitosamente", ApiKeyResponse::from(&key))))
}
