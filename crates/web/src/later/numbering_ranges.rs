//! `/api/numbering-ranges`: the account's DIAN numbering ranges as bare JSON
//! (`docs/contract.md` §12.11), on the same use case and request readers as
//! `/api/v1/numbering-ranges`.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use factus_application::factus::NumberingRange;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::caller::KeyCaller;
use crate::envelope::{DetailResponse, ValidationErrorResponse};
use crate::error::{ApiError, Later};
use crate::extract::JsonBody;
use crate::factus::Access;
use crate::later::read_body;
use crate::routes::lookups::{query_pairs, query_value};
use crate::routes::numbering_ranges::{
    DianNumberingRangeResponse, NumberingRangeQuery, range_id, read_filter, read_new_range, read_range_update,
};
use crate::state::AppState;
use crate::validation::{FieldError, Loc};

/// A numbering range as the later original answers it.
#[derive(Debug, Serialize, ToSchema)]
pub struct LaterNumberingRangeResponse {
    #[schema(example = 8)]
    pub id: i64,
    /// The document's code, e.g. `21`.
    #[schema(example = "21")]
    pub document: String,
    #[schema(example = "Factura de Venta")]
    pub document_name: Option<String>,
    #[schema(example = "SETP")]
    pub prefix: String,
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub current: i64,
    pub resolution_number: Option<String>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub technical_key: Option<String>,
    pub is_expired: bool,
    /// `1` active, `0` not.
    #[schema(example = 1)]
    pub is_active: u8,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
}

impl From<NumberingRange> for LaterNumberingRangeResponse {
    fn from(range: NumberingRange) -> Self {
        Self {
            id: range.id,
            document: range.document_code.unwrap_or_else(|| range.document.clone()),
            document_name: Some(range.document),
            prefix: range.prefix,
            from: range.from,
            to: range.to,
            current: range.current.unwrap_or_default(),
            resolution_number: range.resolution_number,
            start_date: range.start_date,
            end_date: range.end_date,
            technical_key: range.technical_key,
            is_expired: range.is_expired,
            is_active: u8::from(range.is_active),
            created_at: range.created_at,
            updated_at: range.updated_at,
        }
    }
}

/// The later original takes `is_active` as an integer only.
fn integer_is_active(raw: Option<&str>) -> Result<(), ApiError> {
    let pairs = query_pairs(raw);
    match query_value(&pairs, "is_active").map(str::trim) {
        Some(value) if !value.is_empty() && value.parse::<i64>().is_err() => Err(ApiError::invalid(FieldError::new(
            Loc::query("is_active"),
            "value is not a valid integer",
            "type_error.integer",
        ))),
        _ => Ok(()),
    }
}

/// The account's numbering ranges, filtered by Factus.
#[utoipa::path(
    get, path = "/api/numbering-ranges/", tag = "later", operation_id = "later_list_numbering_ranges", security(("APIKeyHeader" = [])),
    params(NumberingRangeQuery, crate::schemas::FactusTokenHeader),
    responses(
        (status = 200, description = "The ranges (`[]` when none)", body = Vec<LaterNumberingRangeResponse>),
        (status = 422, description = "A filter of the wrong type", body = ValidationErrorResponse),
    )
)]
pub async fn list_ranges(
    State(state): State<AppState>,
    _caller: KeyCaller,
    Access(access): Access,
    RawQuery(query): RawQuery,
) -> Result<Json<Vec<LaterNumberingRangeResponse>>, ApiError> {
    integer_is_active(query.as_deref())?;
    let filter = read_filter(query.as_deref())?;
    let ranges = state.numbering_ranges.list(&access, &filter).await.map_err(Later)?;
    Ok(Json(ranges.into_iter().map(Into::into).collect()))
}

/// The ranges DIAN authorised for the software.
#[utoipa::path(
    get, path = "/api/numbering-ranges/software", tag = "later", operation_id = "later_software_numbering_ranges", security(("APIKeyHeader" = [])),
    params(crate::schemas::FactusTokenHeader),
    responses((status = 200, description = "The software's DIAN ranges", body = Vec<DianNumberingRangeResponse>))
)]
pub async fn software_ranges(
    State(state): State<AppState>,
    _caller: KeyCaller,
    Access(access): Access,
) -> Result<Json<Vec<DianNumberingRangeResponse>>, ApiError> {
    let ranges = state.numbering_ranges.software_ranges(&access).await.map_err(Later)?;
    Ok(Json(ranges.into_iter().map(Into::into).collect()))
}

/// One numbering range.
#[utoipa::path(
    get, path = "/api/numbering-ranges/{id}", tag = "later", operation_id = "later_get_numbering_range", security(("APIKeyHeader" = [])),
    params(("id" = i64, Path, minimum = 1, description = "The range's id"),
           crate::schemas::FactusTokenHeader),
    responses(
        (status = 200, description = "The range", body = LaterNumberingRangeResponse),
        (status = 404, description = "`Rango de numeración no encontrado` or Factus' 404", body = DetailResponse),
        (status = 422, description = "An id that is not an integer", body = ValidationErrorResponse),
    )
)]
pub async fn get_range(
    State(state): State<AppState>,
    _caller: KeyCaller,
    Access(access): Access,
    Path(id): Path<String>,
) -> Result<Json<LaterNumberingRangeResponse>, ApiError> {
    let id = range_id(&id).map_err(ApiError::invalid)?;
    Ok(Json(state.numbering_ranges.get(&access, id).await.map_err(Later)?.into()))
}

/// Create a numbering range (admins' keys).
#[utoipa::path(
    post, path = "/api/numbering-ranges/", tag = "later", operation_id = "later_create_numbering_range", security(("APIKeyHeader" = [])),
    params(crate::schemas::FactusTokenHeader),
    request_body = crate::schemas::CreateNumberingRangeRequest,
    responses(
        (status = 200, description = "The created range", body = LaterNumberingRangeResponse),
        (status = 422, description = "Invalid fields", body = ValidationErrorResponse),
    ),
    extensions(("x-admin-only" = json!(true)))
)]
pub async fn create_range(
    State(state): State<AppState>,
    KeyCaller(caller): KeyCaller,
    Access(access): Access,
    JsonBody(body): JsonBody,
) -> Result<Json<LaterNumberingRangeResponse>, ApiError> {
    let range = read_body(&body, read_new_range)?;
    Ok(Json(state.numbering_ranges.create(&caller.user, &access, &range).await.map_err(Later)?.into()))
}

/// Move a range's next number (admins' keys).
#[utoipa::path(
    put, path = "/api/numbering-ranges/{id}", tag = "later", operation_id = "later_update_numbering_range", security(("APIKeyHeader" = [])),
    params(("id" = i64, Path, minimum = 1, description = "The range's id"),
           crate::schemas::FactusTokenHeader),
    request_body = crate::schemas::UpdateNumberingRangeRequest,
    responses(
        (status = 200, description = "The updated range", body = LaterNumberingRangeResponse),
        (status = 404, description = "`Rango de numeración no encontrado` or Factus' 404", body = DetailResponse),
        (status = 422, description = "Invalid id or `current`", body = ValidationErrorResponse),
    ),
    extensions(("x-admin-only" = json!(true)))
)]
pub async fn update_range(
    State(state): State<AppState>,
    KeyCaller(caller): KeyCaller,
    Access(access): Access,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<LaterNumberingRangeResponse>, ApiError> {
    let id = range_id(&id).map_err(ApiError::invalid)?;
    let current = read_body(&body, read_range_update)?;
    Ok(Json(state.numbering_ranges.update_current(&caller.user, &access, id, current).await.map_err(Later)?.into()))
}

/// Delete a numbering range (admins' keys): `{"status": <Factus' status>}`.
#[utoipa::path(
    delete, path = "/api/numbering-ranges/{id}", tag = "later", operation_id = "later_delete_numbering_range", security(("APIKeyHeader" = [])),
    params(("id" = i64, Path, minimum = 1, description = "The range's id"),
           crate::schemas::FactusTokenHeader),
    responses(
        (status = 200, description = "Factus' status, e.g. `{\"status\": \"OK\"}`", body = Object),
        (status = 404, description = "`Rango de numeración no encontrado` or Factus' 404", body = DetailResponse),
        (status = 422, description = "An id that is not an integer", body = ValidationErrorResponse),
    ),
    extensions(("x-admin-only" = json!(true)))
)]
pub async fn delete_range(
    State(state): State<AppState>,
    KeyCaller(caller): KeyCaller,
    Access(access): Access,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = range_id(&id).map_err(ApiError::invalid)?;
    let deleted = state.numbering_ranges.delete(&caller.user, &access, id).await.map_err(Later)?;
    Ok(Json(json!({ "status": deleted.status })))
}
