//! The account's DIAN numbering ranges at Factus: list (Factus' filters), the software's DIAN
//! ranges, get, create, move the next number, delete. Anyone reads; admins change.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use factus_application::factus::NumberingRange;
use factus_application::numbering_ranges::{
    DOCUMENTS_WITH_RESOLUTION, DianNumberingRange, MAX_PREFIX_LEN, NewNumberingRange, NumberingRangeFilter,
    RANGE_DOCUMENTS,
};
use serde::Serialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::envelope::{ApiResponse, DetailResponse, ValidationErrorResponse};
use crate::error::ApiError;
use crate::extract::{CurrentUser, JsonBody};
use crate::factus::{Access, MaybeAccess, with_body};
use crate::routes::invoices::StatusMessageResponse;
use crate::routes::lookups::{NumberingRangeResponse, query_pairs, query_value};
use crate::state::AppState;
use crate::validation::{Errors, FieldError, Fields, Loc};

/// A numbering range with everything Factus says about it: the lookup's fields, the document
/// code, the resolution's dates and whether it has expired.
#[derive(Debug, Serialize, ToSchema)]
pub struct NumberingRangeDetailResponse {
    #[serde(flatten)]
    pub range: NumberingRangeResponse,
    /// `21` factura de venta, `22` nota crédito, … (`null` for a document Factus names otherwise).
    #[schema(example = "21")]
    pub document_code: Option<String>,
    /// `YYYY-MM-DD`.
    #[schema(example = "2019-01-19")]
    pub start_date: Option<String>,
    /// `YYYY-MM-DD`: the last day the DIAN resolution authorises.
    #[schema(example = "2030-01-19")]
    pub end_date: Option<String>,
    /// Factus' verdict that the resolution has ended.
    pub is_expired: bool,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
}

impl From<NumberingRange> for NumberingRangeDetailResponse {
    fn from(range: NumberingRange) -> Self {
        Self {
            document_code: range.document_code.clone(),
            start_date: range.start_date.clone(),
            end_date: range.end_date.clone(),
            is_expired: range.is_expired,
            created_at: range.created_at.clone(),
            updated_at: range.updated_at.clone(),
            range: range.into(),
        }
    }
}

/// A range DIAN authorised for the software.
#[derive(Debug, Serialize, ToSchema)]
pub struct DianNumberingRangeResponse {
    #[schema(example = "18764000001")]
    pub resolution_number: String,
    #[schema(example = "FE")]
    pub prefix: String,
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub technical_key: Option<String>,
}

impl From<DianNumberingRange> for DianNumberingRangeResponse {
    fn from(range: DianNumberingRange) -> Self {
        Self {
            resolution_number: range.resolution_number,
            prefix: range.prefix,
            from: range.from,
            to: range.to,
            start_date: range.start_date,
            end_date: range.end_date,
            technical_key: range.technical_key,
        }
    }
}

/// The query of `GET /numbering-ranges`: Factus' filters.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Only its description is used; the handler reads the raw query.
pub struct NumberingRangeQuery {
    /// Only the range with this id
    id: Option<i64>,
    /// A range document code (`21`) or name (`Factura de Venta`)
    document: Option<String>,
    /// The DIAN resolution number
    resolution_number: Option<String>,
    /// The range's technical key
    technical_key: Option<String>,
    /// Only active (true) or inactive (false) ranges
    is_active: Option<bool>,
}

/// Reads the filters of `GET /numbering-ranges`.
pub(crate) fn read_filter(raw: Option<&str>) -> Result<NumberingRangeFilter, ApiError> {
    let pairs = query_pairs(raw);
    let text = |key: &str| query_value(&pairs, key).map(str::trim).filter(|value| !value.is_empty()).map(str::to_owned);
    let mut errors = Vec::new();
    let id = text("id").and_then(|raw| {
        let parsed = raw.parse::<i64>().ok();
        if parsed.is_none() {
            errors.push(FieldError::new(Loc::query("id"), "value is not a valid integer", "type_error.integer"));
        }
        parsed
    });
    let is_active = text("is_active").and_then(|raw| match raw.to_ascii_lowercase().as_str() {
        "1" | "true" => Some(true),
        "0" | "false" => Some(false),
        _ => {
            errors.push(FieldError::new(
                Loc::query("is_active"),
                "value could not be parsed to a boolean",
                "type_error.bool",
            ));
            None
        }
    });
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok(NumberingRangeFilter {
        id,
        document: text("document"),
        resolution_number: text("resolution_number"),
        technical_key: text("technical_key"),
        is_active,
    })
}

/// A range id in the path: a positive integer.
pub(crate) fn range_id(raw: &str) -> Result<i64, FieldError> {
    match raw.trim().parse::<i64>() {
        Ok(id) if id >= 1 => Ok(id),
        Ok(_) => Err(FieldError::new(
            Loc::path("id"),
            "ensure this value is greater than or equal to 1",
            "value_error.number.not_ge",
        )),
        Err(_) => Err(FieldError::new(Loc::path("id"), "value is not a valid integer", "type_error.integer")),
    }
}

/// A next number: a positive integer.
fn read_current(fields: &Fields<'_>, errors: &mut Errors) -> Option<i64> {
    let current = fields.required_int("current", errors)?;
    if current < 1 {
        errors.push(FieldError::new(
            fields.loc().key("current"),
            "ensure this value is greater than or equal to 1",
            "value_error.number.not_ge",
        ));
        return None;
    }
    Some(current)
}

/// Reads the body of `POST /numbering-ranges` (documented by
/// [`crate::schemas::CreateNumberingRangeRequest`]).
pub(crate) fn read_new_range(body: &Value) -> Result<NewNumberingRange, Vec<FieldError>> {
    let loc = Loc::body();
    let mut errors = Errors::new();
    let Some(fields) = Fields::of(body, &loc, &mut errors) else {
        return Err(errors.into_vec());
    };
    let document = fields.required_str("document", &mut errors).and_then(|code| {
        if RANGE_DOCUMENTS.iter().any(|(known, _)| *known == code) {
            Some(code)
        } else {
            let permitted: Vec<&str> = RANGE_DOCUMENTS.iter().map(|(known, _)| *known).collect();
            errors.push(FieldError::new(
                loc.key("document"),
                format!("value is not a valid enumeration member; permitted: {}", permitted.join(", ")),
                "type_error.enum",
            ));
            None
        }
    });
    let prefix = fields.required_str("prefix", &mut errors).and_then(|prefix| {
        let length = prefix.chars().count();
        if (1..=MAX_PREFIX_LEN).contains(&length) && prefix.chars().all(|c| c.is_ascii_alphanumeric()) {
            Some(prefix)
        } else {
            errors.push(FieldError::new(
                loc.key("prefix"),
                format!("string does not match regex \"{}\"", crate::schemas::RANGE_PREFIX_PATTERN),
                "value_error.str.regex",
            ));
            None
        }
    });
    let current = read_current(&fields, &mut errors);
    let resolution_number = fields.optional_str("resolution_number", &mut errors).and_then(|resolution| {
        let digits = resolution.bytes().all(|byte| byte.is_ascii_digit());
        if digits && (1..=30).contains(&resolution.len()) {
            Some(resolution)
        } else {
            errors.push(FieldError::new(
                loc.key("resolution_number"),
                format!("string does not match regex \"{}\"", crate::schemas::RESOLUTION_NUMBER_PATTERN),
                "value_error.str.regex",
            ));
            None
        }
    });
    if fields.raw("resolution_number").is_none()
        && document.as_deref().is_some_and(|code| DOCUMENTS_WITH_RESOLUTION.contains(&code))
    {
        errors.push(FieldError::missing(loc.key("resolution_number")));
    }
    match (document, prefix, current, errors.is_empty()) {
        (Some(document), Some(prefix), Some(current), true) => {
            Ok(NewNumberingRange { document, prefix, current, resolution_number })
        }
        _ => Err(errors.into_vec()),
    }
}

/// Reads the body of `PUT /numbering-ranges/{id}` (documented by
/// [`crate::schemas::UpdateNumberingRangeRequest`]).
pub(crate) fn read_range_update(body: &Value) -> Result<i64, Vec<FieldError>> {
    let loc = Loc::body();
    let mut errors = Errors::new();
    let current = Fields::of(body, &loc, &mut errors).and_then(|fields| read_current(&fields, &mut errors));
    match (current, errors.is_empty()) {
        (Some(current), true) => Ok(current),
        _ => Err(errors.into_vec()),
    }
}

fn detailed(range: NumberingRange, message: &str) -> Json<ApiResponse<NumberingRangeDetailResponse>> {
    Json(ApiResponse::ok(message, range.into()))
}

/// The account's numbering ranges, filtered as Factus filters them (every page).
#[utoipa::path(
    get, path = "/numbering-ranges", tag = "numbering-ranges", security(("OAuth2PasswordBearer" = []), ("APIKeyHeader" = [])),
    params(NumberingRangeQuery, crate::schemas::FactusTokenHeader),
    responses(
        (status = 200, description = "`Rangos de numeración obtenidos exitosamente`", body = inline(ApiResponse<Vec<NumberingRangeDetailResponse>>)),
        (status = 400, description = "`Error al obtener los rangos de numeración: …` (Factus refused)", body = DetailResponse),
        (status = 422, description = "A filter of the wrong type", body = ValidationErrorResponse),
    )
)]
pub async fn list_ranges(
    State(state): State<AppState>,
    _user: CurrentUser,
    Access(access): Access,
    RawQuery(query): RawQuery,
) -> Result<Json<ApiResponse<Vec<NumberingRangeDetailResponse>>>, ApiError> {
    let filter = read_filter(query.as_deref())?;
    let ranges = state.numbering_ranges.list(&access, &filter).await?;
    Ok(Json(ApiResponse::ok(
        "Rangos de numeración obtenidos exitosamente",
        ranges.into_iter().map(Into::into).collect(),
    )))
}

/// The ranges DIAN authorised for the software: what new ranges are created from.
#[utoipa::path(
    get, path = "/numbering-ranges/software", tag = "numbering-ranges", security(("OAuth2PasswordBearer" = []), ("APIKeyHeader" = [])),
    params(crate::schemas::FactusTokenHeader),
    responses(
        (status = 200, description = "`Rangos de numeración de la DIAN obtenidos exitosamente`", body = inline(ApiResponse<Vec<DianNumberingRangeResponse>>)),
        (status = 400, description = "`Error al obtener los rangos asociados al software: …`", body = DetailResponse),
    )
)]
pub async fn software_ranges(
    State(state): State<AppState>,
    _user: CurrentUser,
    Access(access): Access,
) -> Result<Json<ApiResponse<Vec<DianNumberingRangeResponse>>>, ApiError> {
    let ranges = state.numbering_ranges.software_ranges(&access).await?;
    Ok(Json(ApiResponse::ok(
        "Rangos de numeración de la DIAN obtenidos exitosamente",
        ranges.into_iter().map(Into::into).collect(),
    )))
}

/// One numbering range.
#[utoipa::path(
    get, path = "/numbering-ranges/{id}", tag = "numbering-ranges", security(("OAuth2PasswordBearer" = []), ("APIKeyHeader" = [])),
    params(("id" = i64, Path, minimum = 1, description = "The range's id"),
           crate::schemas::FactusTokenHeader),
    responses(
        (status = 200, description = "`Rango de numeración obtenido exitosamente`", body = inline(ApiResponse<NumberingRangeDetailResponse>)),
        (status = 400, description = "`Error al obtener el rango de numeración: …`", body = DetailResponse),
        (status = 404, description = "`Rango de numeración no encontrado`", body = DetailResponse),
        (status = 422, description = "An id that is not a positive integer", body = ValidationErrorResponse),
    )
)]
pub async fn get_range(
    State(state): State<AppState>,
    _user: CurrentUser,
    Access(access): Access,
    Path(id): Path<String>,
) -> Result<Json<ApiResponse<NumberingRangeDetailResponse>>, ApiError> {
    let id = range_id(&id).map_err(ApiError::invalid)?;
    let range = state.numbering_ranges.get(&access, id).await?;
    Ok(detailed(range, "Rango de numeración obtenido exitosamente"))
}

/// Create a numbering range (admins): from a DIAN resolution of the software for invoices (`21`),
/// support documents (`24`) and paper invoices (`30`); notes need none.
#[utoipa::path(
    post, path = "/numbering-ranges", tag = "numbering-ranges", security(("OAuth2PasswordBearer" = []), ("APIKeyHeader" = [])),
    params(crate::schemas::FactusTokenHeader),
    request_body = crate::schemas::CreateNumberingRangeRequest,
    responses(
        (status = 201, description = "`Rango de numeración creado exitosamente`", body = inline(ApiResponse<NumberingRangeDetailResponse>)),
        (status = 400, description = "`Error al crear el rango de numeración: …` (Factus refused, e.g. a resolution DIAN did not authorise)", body = DetailResponse),
        (status = 422, description = "Invalid fields (`resolution_number` is required for 21, 24 and 30)", body = ValidationErrorResponse),
    ),
    extensions(("x-admin-only" = json!(true)))
)]
pub async fn create_range(
    State(state): State<AppState>,
    user: Result<CurrentUser, ApiError>,
    MaybeAccess(access): MaybeAccess,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<ApiResponse<NumberingRangeDetailResponse>>), ApiError> {
    let CurrentUser(user) = user?;
    let (access, range) = with_body(access, read_new_range(&body))?;
    let created = state.numbering_ranges.create(&user, &access, &range).await?;
    Ok((StatusCode::CREATED, detailed(created, "Rango de numeración creado exitosamente")))
}

/// Move a range's next number (admins).
#[utoipa::path(
    put, path = "/numbering-ranges/{id}", tag = "numbering-ranges", security(("OAuth2PasswordBearer" = []), ("APIKeyHeader" = [])),
    params(("id" = i64, Path, minimum = 1, description = "The range's id"),
           crate::schemas::FactusTokenHeader),
    request_body = crate::schemas::UpdateNumberingRangeRequest,
    responses(
        (status = 200, description = "`Rango de numeración actualizado exitosamente`", body = inline(ApiResponse<NumberingRangeDetailResponse>)),
        (status = 400, description = "`Error al actualizar el rango de numeración: …` (e.g. a number outside the range or already used)", body = DetailResponse),
        (status = 404, description = "`Rango de numeración no encontrado`", body = DetailResponse),
        (status = 422, description = "Invalid id or `current`", body = ValidationErrorResponse),
    ),
    extensions(("x-admin-only" = json!(true)))
)]
pub async fn update_range(
    State(state): State<AppState>,
    user: Result<CurrentUser, ApiError>,
    MaybeAccess(access): MaybeAccess,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<ApiResponse<NumberingRangeDetailResponse>>, ApiError> {
    let CurrentUser(user) = user?;
    let id = range_id(&id);
    let current = read_range_update(&body);
    let (access, (id, current)) = with_body(
        access,
        match (id, current) {
            (Ok(id), Ok(current)) => Ok((id, current)),
            (id, current) => Err(id.err().into_iter().chain(current.err().unwrap_or_default()).collect()),
        },
    )?;
    let updated = state.numbering_ranges.update_current(&user, &access, id, current).await?;
    Ok(detailed(updated, "Rango de numeración actualizado exitosamente"))
}

/// Delete a numbering range (admins).
#[utoipa::path(
    delete, path = "/numbering-ranges/{id}", tag = "numbering-ranges", security(("OAuth2PasswordBearer" = []), ("APIKeyHeader" = [])),
    params(("id" = i64, Path, minimum = 1, description = "The range's id"),
           crate::schemas::FactusTokenHeader),
    responses(
        (status = 200, description = "`Rango de numeración eliminado exitosamente`, with Factus' status line", body = inline(ApiResponse<StatusMessageResponse>)),
        (status = 400, description = "`Error al eliminar el rango de numeración: …`", body = DetailResponse),
        (status = 404, description = "`Rango de numeración no encontrado`", body = DetailResponse),
        (status = 422, description = "An id that is not a positive integer", body = ValidationErrorResponse),
    ),
    extensions(("x-admin-only" = json!(true)))
)]
pub async fn delete_range(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Access(access): Access,
    Path(id): Path<String>,
) -> Result<Json<ApiResponse<StatusMessageResponse>>, ApiError> {
    let id = range_id(&id).map_err(ApiError::invalid)?;
    let deleted = state.numbering_ranges.delete(&user, &access, id).await?;
    Ok(Json(ApiResponse::ok("Rango de numeración eliminado exitosamente", deleted.into())))
}
