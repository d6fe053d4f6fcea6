//! Factus' reference catalogues, and the static reference tables.

use axum::Json;
use axum::extract::{RawQuery, State};
use factus_application::factus::{Acquirer, Country, MeasurementUnit, Municipality, NumberingRange, ProductTribute};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::envelope::{ApiResponse, DetailResponse, ValidationErrorResponse};
use crate::error::ApiError;
use crate::extract::CurrentUser;
use crate::factus::Access;
use crate::state::AppState;
use crate::validation::{FieldError, Loc};

pub(crate) fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.and_then(|raw| serde_urlencoded::from_str::<Vec<(String, String)>>(raw).ok()).unwrap_or_default()
}

pub(crate) fn query_value<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs.iter().find(|(name, _)| name == key).map(|(_, value)| value.as_str())
}

/// `value` of query parameter `key`, noted in `errors` as missing when there is none.
fn noted_missing<'a>(value: Option<&'a str>, key: &'static str, errors: &mut Vec<FieldError>) -> Option<&'a str> {
    if value.is_none() {
        errors.push(FieldError::missing(Loc::query(key)));
    }
    value
}

/// A required query parameter; its absence is noted in `errors`.
pub(crate) fn required_query<'a>(
    pairs: &'a [(String, String)],
    key: &'static str,
    errors: &mut Vec<FieldError>,
) -> Option<&'a str> {
    noted_missing(query_value(pairs, key), key, errors)
}

/// The acquirer's `identification_number` (both generations): required and not blank, trimmed;
/// a missing or blank one is noted in `errors`.
pub(crate) fn identification_number<'a>(
    pairs: &'a [(String, String)],
    errors: &mut Vec<FieldError>,
) -> Option<&'a str> {
    let number = query_value(pairs, "identification_number").map(str::trim).filter(|number| !number.is_empty());
    noted_missing(number, "identification_number", errors)
}

/// A municipality (`/lookups/municipalities`).
#[derive(Debug, Serialize, ToSchema)]
pub struct MunicipalityResponse {
    #[schema(example = 169)]
    pub id: i64,
    #[schema(example = "Bogotá, D.C.")]
    pub name: String,
    #[schema(example = "11001")]
    pub code: String,
    pub department: String,
}

/// A product tribute (`/lookups/taxes`).
#[derive(Debug, Serialize, ToSchema)]
pub struct TaxResponse {
    #[schema(example = 1)]
    pub id: i64,
    #[schema(example = "IVA")]
    pub name: String,
    #[schema(example = "01")]
    pub code: String,
    pub description: Option<String>,
}

/// A measurement unit (`/lookups/units`).
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitResponse {
    #[schema(example = 70)]
    pub id: i64,
    #[schema(example = "unidad")]
    pub name: String,
    #[schema(example = "94")]
    pub code: String,
}

/// A numbering range (`/lookups/numbering-ranges`).
#[derive(Debug, Serialize, ToSchema)]
pub struct NumberingRangeResponse {
    #[schema(example = 8)]
    pub id: i64,
    #[schema(example = "Factura de Venta")]
    pub document: String,
    #[schema(example = "SETP")]
    pub prefix: String,
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub current: Option<i64>,
    pub resolution_number: Option<String>,
    pub technical_key: Option<String>,
    pub is_active: bool,
}

/// A country (`/lookups/countries`).
#[derive(Debug, Serialize, ToSchema)]
pub struct CountryResponse {
    #[schema(example = 46)]
    pub id: i64,
    #[schema(example = "CO")]
    pub code: String,
    #[schema(example = "Colombia")]
    pub name: String,
}

/// What DIAN knows of an acquirer (`/lookups/acquirer`).
#[derive(Debug, Serialize, ToSchema)]
pub struct AcquirerResponse {
    pub name: String,
    pub email: String,
}

impl From<Municipality> for MunicipalityResponse {
    fn from(m: Municipality) -> Self {
        Self { id: m.id, name: m.name, code: m.code, department: m.department }
    }
}
impl From<ProductTribute> for TaxResponse {
    fn from(t: ProductTribute) -> Self {
        Self { id: t.id, name: t.name, code: t.code, description: t.description }
    }
}
impl From<MeasurementUnit> for UnitResponse {
    fn from(u: MeasurementUnit) -> Self {
        Self { id: u.id, name: u.name, code: u.code }
    }
}
impl From<NumberingRange> for NumberingRangeResponse {
    fn from(r: NumberingRange) -> Self {
        Self {
            id: r.id,
            document: r.document,
            prefix: r.prefix,
            from: r.from,
            to: r.to,
            current: r.current,
            resolution_number: r.resolution_number,
            technical_key: r.technical_key,
            is_active: r.is_active,
        }
    }
}
impl From<Country> for CountryResponse {
    fn from(c: Country) -> Self {
        Self { id: c.id, code: c.code, name: c.name }
    }
}
impl From<Acquirer> for AcquirerResponse {
    fn from(a: Acquirer) -> Self {
        Self { name: a.name, email: a.email }
    }
}

fn listed<T, R: From<T>>(items: Vec<T>, message: &str) -> Json<ApiResponse<Vec<R>>> {
    Json(ApiResponse::ok(message, items.into_iter().map(R::from).collect()))
}

/// Municipalities (optionally `?name=` to filter).
#[utoipa::path(
    get, path = "/lookups/municipalities", tag = "lookups", security(("OAuth2PasswordBearer" = [])),
    params(("name" = Option<String>, Query, description = "Part of the name"),
           crate::schemas::FactusTokenHeader),
    responses(
        (status = 200, description = "`Municipios obtenidos exitosamente`", body = inline(ApiResponse<Vec<MunicipalityResponse>>)),
        (status = 400, description = "Factus refused the request", body = DetailResponse),
    )
)]
pub async fn municipalities(
    State(state): State<AppState>,
    _user: CurrentUser,
    Access(access): Access,
    RawQuery(query): RawQuery,
) -> Result<Json<ApiResponse<Vec<MunicipalityResponse>>>, ApiError> {
    let pairs = query_pairs(query.as_deref());
    let items = state.lookups.municipalities(&access, query_value(&pairs, "name")).await?;
    Ok(listed(items, "Municipios obtenidos exitosamente"))
}

/// Product tributes.
#[utoipa::path(
    get, path = "/lookups/taxes", tag = "lookups", security(("OAuth2PasswordBearer" = [])),
    params(crate::schemas::FactusTokenHeader),
    responses((status = 200, description = "`Tipos de impuesto obtenidos exitosamente`", body = inline(ApiResponse<Vec<TaxResponse>>)))
)]
pub async fn taxes(
    State(state): State<AppState>,
    _user: CurrentUser,
    Access(access): Access,
) -> Result<Json<ApiResponse<Vec<TaxResponse>>>, ApiError> {
    let items = state.lookups.taxes(&access).await?;
    Ok(listed(items, "Tipos de impuesto obtenidos exitosamente"))
}

/// Measurement units.
#[utoipa::path(
    get, path = "/lookups/units", tag = "lookups", security(("OAuth2PasswordBearer" = [])),
    params(crate::schemas::FactusTokenHeader),
    responses((status = 200, description = "`Unidades obtenidas exitosamente`", body = inline(ApiResponse<Vec<UnitResponse>>)))
)]
pub async fn units(
    State(state): State<AppState>,
    _user: CurrentUser,
    Access(access): Access,
) -> Result<Json<ApiResponse<Vec<UnitResponse>>>, ApiError> {
    let items = state.lookups.units(&access).await?;
    Ok(listed(items, "Unidades obtenidas exitosamente"))
}

/// The account's numbering ranges.
#[utoipa::path(
    get, path = "/lookups/numbering-ranges", tag = "lookups", security(("OAuth2PasswordBearer" = [])),
    params(crate::schemas::FactusTokenHeader),
    responses((status = 200, description = "`Rangos de numeración obtenidos exitosamente`", body = inline(ApiResponse<Vec<NumberingRangeResponse>>),
        example = json!({"success": true, "message": "Rangos de numeración obtenidos exitosamente", "data": [{"id": 8, "document": "Factura de Venta", "prefix": "SETP", "from": 990000000, "to": 995000000, "current": 990000100, "resolution_number": "18760000001", "technical_key": "fc8e…", "is_active": true}], "errors": null})))
)]
pub async fn numbering_ranges(
    State(state): State<AppState>,
    _user: CurrentUser,
    Access(access): Access,
) -> Result<Json<ApiResponse<Vec<NumberingRangeResponse>>>, ApiError> {
    let items = state.lookups.numbering_ranges(&access).await?;
    Ok(listed(items, "Rangos de numeración obtenidos exitosamente"))
}

/// Countries (optionally `?name=`).
#[utoipa::path(
    get, path = "/lookups/countries", tag = "lookups", security(("OAuth2PasswordBearer" = [])),
    params(("name" = Option<String>, Query, description = "Part of the name"),
           crate::schemas::FactusTokenHeader),
    responses((status = 200, description = "`Países obtenidos exitosamente`", body = inline(ApiResponse<Vec<CountryResponse>>)))
)]
pub async fn countries(
    State(state): State<AppState>,
    _user: CurrentUser,
    Access(access): Access,
    RawQuery(query): RawQuery,
) -> Result<Json<ApiResponse<Vec<CountryResponse>>>, ApiError> {
    let pairs = query_pairs(query.as_deref());
    let items = state.lookups.countries(&access, query_value(&pairs, "name")).await?;
    Ok(listed(items, "Países obtenidos exitosamente"))
}

/// The name and e-mail DIAN has for an identification.
#[utoipa::path(
    get, path = "/lookups/acquirer", tag = "lookups", security(("OAuth2PasswordBearer" = [])),
    params(("identification_document_id" = i64, Query, minimum = 1, maximum = 11,
                description = "The identification document: 3 cédula, 6 NIT, … (see /lookups/reference-tables)"),
           ("identification_number" = String, Query, min_length = 1, pattern = r"\S",
                description = "The identification (not blank)"),
           crate::schemas::FactusTokenHeader),
    responses(
        (status = 200, description = "`Datos del adquiriente obtenidos exitosamente`", body = inline(ApiResponse<AcquirerResponse>)),
        (status = 400, description = "Not found or refused", body = DetailResponse),
        (status = 422, description = "Missing or mistyped query parameters", body = ValidationErrorResponse),
    )
)]
pub async fn acquirer(
    State(state): State<AppState>,
    _user: CurrentUser,
    Access(access): Access,
    RawQuery(query): RawQuery,
) -> Result<Json<ApiResponse<AcquirerResponse>>, ApiError> {
    let pairs = query_pairs(query.as_deref());
    let mut errors = Vec::new();
    let document_id = required_query(&pairs, "identification_document_id", &mut errors).and_then(|raw| {
        let parsed = raw.trim().parse::<i64>().ok();
        if parsed.is_none() {
            errors.push(FieldError::new(
                Loc::query("identification_document_id"),
                "value is not a valid integer",
                "type_error.integer",
            ));
        }
        parsed
    });
    let number = identification_number(&pairs, &mut errors);
    let (Some(document_id), Some(number), true) = (document_id, number, errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    let acquirer = state.lookups.acquirer(&access, document_id, number).await?;
    Ok(Json(ApiResponse::ok("Datos del adquiriente obtenidos exitosamente", acquirer.into())))
}

/// The DIAN code tables a client needs to fill an invoice (static; no Factus call).
#[utoipa::path(
    get, path = "/lookups/reference-tables", tag = "lookups", security(("OAuth2PasswordBearer" = [])),
    responses((status = 200, description = "`Tablas de referencia obtenidas exitosamente`", body = inline(ApiResponse<Object>)))
)]
pub async fn reference_tables(_user: CurrentUser) -> Json<ApiResponse<Value>> {
    Json(ApiResponse::ok("Tablas de referencia obtenidas exitosamente", reference_tables_data()))
}

fn entries(pairs: &[(&str, &str)], key: &str) -> Value {
    Value::Array(pairs.iter().map(|(code, name)| json!({ key: code, "name": name })).collect())
}

fn reference_tables_data() -> Value {
    let documents = [
        (1, "Registro civil"),
        (2, "Tarjeta de identidad"),
        (3, "Cédula de ciudadanía"),
        (4, "Tarjeta de extranjería"),
        (5, "Cédula de extranjería"),
        (6, "NIT"),
        (7, "Pasaporte"),
        (8, "Documento de identificación extranjero"),
        (9, "PEP"),
        (10, "NIT otro país"),
        (11, "NUIP"),
    ];
    json!({
        "identification_document_types":
            documents.iter().map(|(id, name)| json!({"id": id, "name": name})).collect::<Vec<_>>(),
        "legal_organization_types": [{"id": 1, "name": "Persona Jurídica"}, {"id": 2, "name": "Persona Natural"}],
        "customer_tribute_types": [{"id": 18, "code": "01", "name": "IVA"}, {"id": 21, "code": "ZZ", "name": "No aplica"}],
        "payment_methods": entries(&[
            ("10", "Efectivo"), ("42", "Consignación"), ("20", "Cheque"), ("47", "Transferencia"),
            ("71", "Bonos"), ("72", "Vales"), ("1", "Medio de pago no definido"), ("49", "Tarjeta Débito"),
            ("48", "Tarjeta Crédito"), ("ZZZ", "Otro"),
        ], "code"),
        "payment_forms": entries(&[("1", "Pago de contado"), ("2", "Pago a crédito")], "code"),
        "product_standard_codes": [
            {"id": 1, "name": "Estándar de adopción del contribuyente"}, {"id": 2, "name": "UNSPSC"},
            {"id": 3, "name": "Partida Arancelaria"}, {"id": 4, "name": "GTIN"}
        ],
        "document_types": entries(&[
            ("01", "Factura electrónica de venta"), ("03", "Instrumento electrónico de transmisión - tipo 03"),
        ], "code"),
    })
}
