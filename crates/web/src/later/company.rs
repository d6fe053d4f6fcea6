//! `/api/company`: the issuing company as the later original answers it (`docs/contract.md`
//! §12.11), on the same use case and logo reader as `/api/v1/company`.

use axum::Json;
use axum::extract::State;
use factus_application::company::Company;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::caller::KeyCaller;
use crate::envelope::{DetailResponse, ValidationErrorResponse};
use crate::error::{ApiError, Later};
use crate::extract::{JsonBody, MultipartBody};
use crate::factus::Access;
use crate::later::read_body;
use crate::routes::company::{
    CodeNameResponse, CompanyMunicipalityResponse, LogoUploadRequest, RESPONSIBILITIES, read_company_update, read_logo,
};
use crate::state::AppState;
use crate::validation::{FieldError, FieldKind, Loc, reads};
use factus_application::company::CompanyUpdate;

/// What the later original's one `responsibilities` string may be: a code, or its 1-based position
/// in [`RESPONSIBILITIES`] (its Postman sample sends `"5"`, `R-99-PN`).
#[must_use]
pub fn later_responsibilities() -> Vec<String> {
    (1..=RESPONSIBILITIES.len())
        .map(|position| position.to_string())
        .chain(RESPONSIBILITIES.map(str::to_owned))
        .collect()
}

fn responsibility_code(given: &str) -> Option<&'static str> {
    RESPONSIBILITIES.iter().copied().find(|code| *code == given).or_else(|| {
        given.parse::<usize>().ok().and_then(|position| RESPONSIBILITIES.get(position.checked_sub(1)?).copied())
    })
}

/// Reads the body of `PUT /api/company/` (documented by
/// [`crate::schemas::LaterCompanyUpdateRequest`]): the `/api/v1` reader, after the later
/// original's own rules (`names` and `surnames` required, one `responsibilities` string).
pub(crate) fn read_later_company_update(body: &Value) -> Result<CompanyUpdate, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut body = body.clone();
    if let Some(fields) = body.as_object_mut() {
        for key in ["names", "surnames"] {
            if fields.get(key).is_none_or(Value::is_null) {
                errors.push(FieldError::missing(Loc::body().key(key)));
            }
        }
        match fields.get("responsibilities") {
            Some(Value::String(given)) => match responsibility_code(given) {
                Some(code) => {
                    fields.insert("responsibilities".into(), json!([code]));
                }
                None => {
                    errors.push(FieldError::new(
                        Loc::body().key("responsibilities"),
                        format!(
                            "'{given}' no es una responsabilidad fiscal; permitidas: {}",
                            later_responsibilities().join(", ")
                        ),
                        "type_error.enum",
                    ));
                    fields.insert("responsibilities".into(), json!([RESPONSIBILITIES[0]]));
                }
            },
            Some(Value::Array(_)) => {
                errors.push(FieldError::new(Loc::body().key("responsibilities"), "str type expected", "type_error.str"))
            }
            _ => {}
        }
    }
    let update = read_company_update(&body);
    for key in ["names", "surnames", "responsibilities"] {
        reads::renote(&Loc::body().key(key), FieldKind::Str, true);
    }
    match update {
        Ok(update) if errors.is_empty() => Ok(update),
        Ok(_) => Err(errors),
        Err(more) => Err(errors.into_iter().chain(more).collect()),
    }
}

/// The later original's `CompanyData`: every key present, `economic_activity` a number.
#[derive(Debug, Serialize, ToSchema)]
pub struct LaterCompanyResponse {
    pub url_logo: Option<String>,
    #[schema(example = "900825759")]
    pub nit: Option<String>,
    pub dv: Option<String>,
    pub company: Option<String>,
    pub trade_name: Option<String>,
    pub names: Option<String>,
    pub surnames: Option<String>,
    pub graphic_representation_name: Option<String>,
    pub registration_code: Option<String>,
    /// CIIU code as a number (Factus' `"6920"` → `6920`).
    #[schema(example = 6920)]
    pub economic_activity: Option<i64>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    pub tribute: Option<CodeNameResponse>,
    pub legal_organization: Option<CodeNameResponse>,
    pub municipality: Option<CompanyMunicipalityResponse>,
    pub responsibilities: Option<Vec<CodeNameResponse>>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
}

impl From<Company> for LaterCompanyResponse {
    fn from(company: Company) -> Self {
        Self {
            economic_activity: company.economic_activity.as_deref().and_then(|code| code.trim().parse().ok()),
            tribute: company.tribute.map(Into::into),
            legal_organization: company.legal_organization.map(Into::into),
            municipality: company.municipality.map(Into::into),
            responsibilities: Some(company.responsibilities.into_iter().map(Into::into).collect()),
            url_logo: company.url_logo,
            nit: company.nit,
            dv: company.dv,
            company: company.company,
            trade_name: company.trade_name,
            names: company.names,
            surnames: company.surnames,
            graphic_representation_name: company.graphic_representation_name,
            registration_code: company.registration_code,
            phone: company.phone,
            email: company.email,
            address: company.address,
            created_at: company.created_at,
            updated_at: company.updated_at,
        }
    }
}

/// The later original's logo answer (sic, `url_log`).
#[derive(Debug, Serialize, ToSchema)]
pub struct LaterLogoResponse {
    pub url_log: String,
}

/// The issuing company's profile at Factus.
#[utoipa::path(
    get, path = "/api/company/", tag = "later", operation_id = "later_get_company", security(("APIKeyHeader" = [])),
    params(crate::schemas::FactusTokenHeader),
    responses((status = 200, description = "The company", body = LaterCompanyResponse))
)]
pub async fn get_company(
    State(state): State<AppState>,
    _caller: KeyCaller,
    Access(access): Access,
) -> Result<Json<LaterCompanyResponse>, ApiError> {
    Ok(Json(state.company.get(&access).await.map_err(Later)?.into()))
}

/// Replace the company's profile at Factus (admins' keys); answers it as `CompanyData`.
#[utoipa::path(
    put, path = "/api/company/", tag = "later", operation_id = "later_update_company", security(("APIKeyHeader" = [])),
    params(crate::schemas::FactusTokenHeader),
    request_body = crate::schemas::LaterCompanyUpdateRequest,
    responses(
        (status = 200, description = "The company Factus now keeps", body = LaterCompanyResponse),
        (status = 422, description = "Invalid fields", body = ValidationErrorResponse),
    ),
    extensions(("x-admin-only" = json!(true)))
)]
pub async fn update_company(
    State(state): State<AppState>,
    KeyCaller(caller): KeyCaller,
    Access(access): Access,
    JsonBody(body): JsonBody,
) -> Result<Json<LaterCompanyResponse>, ApiError> {
    let update = read_body(&body, read_later_company_update)?;
    Ok(Json(state.company.update(&caller.user, &access, &update).await.map_err(Later)?.into()))
}

/// Upload the company's logo (admins' keys): `multipart/form-data` with the file in `image`.
#[utoipa::path(
    post, path = "/api/company/logo", tag = "later", operation_id = "later_upload_company_logo", security(("APIKeyHeader" = [])),
    params(crate::schemas::FactusTokenHeader),
    request_body(content = LogoUploadRequest, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "The logo's URL", body = LaterLogoResponse),
        (status = 413, description = "The image is over 2 MB", body = DetailResponse),
        (status = 422, description = "No `image` part, or not a PNG, JPEG, GIF or WebP", body = ValidationErrorResponse),
    ),
    extensions(("x-admin-only" = json!(true)))
)]
pub async fn upload_logo(
    State(state): State<AppState>,
    KeyCaller(caller): KeyCaller,
    Access(access): Access,
    body: MultipartBody,
) -> Result<Json<LaterLogoResponse>, ApiError> {
    let logo = read_logo(&body)?;
    let url_log = state.company.upload_logo(&caller.user, &access, &logo).await.map_err(Later)?;
    Ok(Json(LaterLogoResponse { url_log }))
}
