//! The issuing company at Factus: its profile (read by anyone, replaced by admins) and its logo.

use axum::Json;
use axum::extract::State;
use factus_application::company::{CodeName, Company, CompanyMunicipality, CompanyUpdate, LogoImage};
use factus_domain::catalog::{self, Catalog};
use factus_domain::invoice::FieldProblem as _;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::envelope::{ApiResponse, DetailResponse, ValidationErrorResponse};
use crate::error::ApiError;
use crate::extract::{CurrentUser, JsonBody, MultipartBody};
use crate::factus::{Access, MaybeAccess, with_body};
use crate::state::AppState;
use crate::validation::{Errors, FieldError, FieldKind, Fields, Loc, reads};

/// A `{code, name}` entry of a Factus table.
#[derive(Debug, Serialize, ToSchema)]
pub struct CodeNameResponse {
    #[schema(example = "O-13")]
    pub code: String,
    #[schema(example = "Gran contribuyente")]
    pub name: String,
}

/// Where the company is registered.
#[derive(Debug, Serialize, ToSchema)]
pub struct CompanyMunicipalityResponse {
    #[schema(example = "11001")]
    pub code: String,
    #[schema(example = "Bogotá, D.C.")]
    pub name: String,
    pub department: Option<CodeNameResponse>,
}

/// The issuing company as Factus keeps it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CompanyResponse {
    pub url_logo: Option<String>,
    #[schema(example = "900825759")]
    pub nit: Option<String>,
    #[schema(example = "7")]
    pub dv: Option<String>,
    #[schema(example = "FACTUS SANDBOX S.A.S.")]
    pub company: Option<String>,
    pub trade_name: Option<String>,
    pub names: Option<String>,
    pub surnames: Option<String>,
    pub graphic_representation_name: Option<String>,
    pub registration_code: Option<String>,
    /// CIIU code.
    #[schema(example = "6201")]
    pub economic_activity: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    pub tribute: Option<CodeNameResponse>,
    pub legal_organization: Option<CodeNameResponse>,
    pub municipality: Option<CompanyMunicipalityResponse>,
    pub responsibilities: Vec<CodeNameResponse>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
}

/// The uploaded logo's public URL.
#[derive(Debug, Serialize, ToSchema)]
pub struct LogoResponse {
    pub url_logo: String,
}

/// `multipart/form-data` body of `POST /company/logo`.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // Only its description is used; the handler reads the multipart body.
pub struct LogoUploadRequest {
    /// A PNG, JPEG, GIF or WebP of at most 2 MB (2,097,152 bytes).
    #[schema(value_type = String, format = Binary)]
    image: Vec<u8>,
}

impl From<CodeName> for CodeNameResponse {
    fn from(entry: CodeName) -> Self {
        Self { code: entry.code, name: entry.name }
    }
}

impl From<CompanyMunicipality> for CompanyMunicipalityResponse {
    fn from(municipality: CompanyMunicipality) -> Self {
        Self { code: municipality.code, name: municipality.name, department: municipality.department.map(Into::into) }
    }
}

impl From<Company> for CompanyResponse {
    fn from(company: Company) -> Self {
        Self {
            url_logo: company.url_logo,
            nit: company.nit,
            dv: company.dv,
            company: company.company,
            trade_name: company.trade_name,
            names: company.names,
            surnames: company.surnames,
            graphic_representation_name: company.graphic_representation_name,
            registration_code: company.registration_code,
            economic_activity: company.economic_activity,
            phone: company.phone,
            email: company.email,
            address: company.address,
            tribute: company.tribute.map(Into::into),
            legal_organization: company.legal_organization.map(Into::into),
            municipality: company.municipality.map(Into::into),
            responsibilities: company.responsibilities.into_iter().map(Into::into).collect(),
            created_at: company.created_at,
            updated_at: company.updated_at,
        }
    }
}

/// Fiscal responsibilities a company may declare (`docs/factus.md` §6.12).
pub const RESPONSIBILITIES: [&str; 5] = ["O-13", "O-15", "O-23", "O-47", "R-99-PN"];

/// The pattern of a CIIU economic activity code.
pub const ECONOMIC_ACTIVITY_PATTERN: &str = "^[0-9]{4}$";

/// A required code of a bundled catalogue (`legal_organization_code`, `tribute_code`,
/// `municipality_code`).
fn catalog_code(fields: &Fields<'_>, key: &'static str, catalog: &Catalog, errors: &mut Errors) -> Option<String> {
    let code = fields.required_str(key, errors)?;
    match catalog.resolve_code(&code) {
        Ok(entry) => Some(entry.code().to_owned()),
        Err(unknown) => {
            errors.push(FieldError::new(fields.loc().key(key), unknown.message_for(key), "type_error.enum"));
            None
        }
    }
}

/// The fiscal responsibilities: a non-empty list of [`RESPONSIBILITIES`].
fn responsibilities(fields: &Fields<'_>, errors: &mut Errors) -> Option<Vec<String>> {
    const KEY: &str = "responsibilities";
    let items = fields.required_array(KEY, errors)?;
    let loc = fields.loc().key(KEY);
    if items.is_empty() {
        errors.push(FieldError::new(loc, "ensure this value has at least 1 items", "value_error.list.min_items"));
        return None;
    }
    let mut codes = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let loc = loc.index(index);
        reads::note(&loc, FieldKind::Str, true);
        match item.as_str() {
            Some(code) if RESPONSIBILITIES.contains(&code) => codes.push(code.to_owned()),
            Some(code) => errors.push(FieldError::new(
                loc,
                format!("'{code}' no es una responsabilidad fiscal; permitidas: {}", RESPONSIBILITIES.join(", ")),
                "type_error.enum",
            )),
            None => errors.push(FieldError::new(loc, "str type expected", "type_error.str")),
        }
    }
    (codes.len() == items.len()).then_some(codes)
}

/// Reads the body of `PUT /company` (documented by [`crate::schemas::CompanyUpdateRequest`]).
pub(crate) fn read_company_update(body: &Value) -> Result<CompanyUpdate, Vec<FieldError>> {
    let loc = Loc::body();
    let mut errors = Errors::new();
    let Some(fields) = Fields::of(body, &loc, &mut errors) else {
        return Err(errors.into_vec());
    };
    let legal_organization_code =
        catalog_code(&fields, "legal_organization_code", catalog::legal_organizations(), &mut errors);
    let company = fields.optional_str("company", &mut errors);
    let trade_name = fields.optional_str("trade_name", &mut errors);
    let names = fields.optional_str("names", &mut errors);
    let surnames = fields.optional_str("surnames", &mut errors);
    let registration_code = fields.optional_str("registration_code", &mut errors);
    let economic_activity = fields.required_str("economic_activity", &mut errors).and_then(|activity| {
        if activity.len() == 4 && activity.bytes().all(|byte| byte.is_ascii_digit()) {
            Some(activity)
        } else {
            errors.push(FieldError::new(
                loc.key("economic_activity"),
                format!("string does not match regex \"{ECONOMIC_ACTIVITY_PATTERN}\""),
                "value_error.str.regex",
            ));
            None
        }
    });
    let phone = fields.required_str("phone", &mut errors);
    let email = fields.required_email("email", &mut errors);
    let address = fields.required_str("address", &mut errors);
    let tribute_code = catalog_code(&fields, "tribute_code", catalog::customer_tributes(), &mut errors);
    let municipality_code = catalog_code(&fields, "municipality_code", catalog::municipalities(), &mut errors);
    let responsibilities = responsibilities(&fields, &mut errors);
    match (
        legal_organization_code,
        economic_activity,
        phone,
        email,
        address,
        tribute_code,
        municipality_code,
        responsibilities,
    ) {
        (
            Some(legal_organization_code),
            Some(economic_activity),
            Some(phone),
            Some(email),
            Some(address),
            Some(tribute_code),
            Some(municipality_code),
            Some(responsibilities),
        ) if errors.is_empty() => Ok(CompanyUpdate {
            legal_organization_code,
            company,
            trade_name,
            names,
            surnames,
            registration_code,
            economic_activity,
            phone,
            email,
            address,
            tribute_code,
            municipality_code,
            responsibilities,
        }),
        _ => Err(errors.into_vec()),
    }
}

/// Reads the `image` part of a logo upload.
pub(crate) fn read_logo(body: &MultipartBody) -> Result<LogoImage, ApiError> {
    let parts = body.parts()?;
    let image = parts
        .into_iter()
        .find(|part| part.name == "image")
        .ok_or_else(|| ApiError::invalid(FieldError::missing(Loc::body().key("image"))))?;
    Ok(LogoImage::parse(image.data.to_vec(), image.content_type.as_deref(), image.filename.as_deref())?)
}

/// The issuing company's profile at Factus.
#[utoipa::path(
    get, path = "/company", tag = "company", security(("OAuth2PasswordBearer" = []), ("APIKeyHeader" = [])),
    params(crate::schemas::FactusTokenHeader),
    responses(
        (status = 200, description = "`Empresa obtenida exitosamente`", body = inline(ApiResponse<CompanyResponse>)),
        (status = 400, description = "`Error al obtener la empresa: …` (Factus refused)", body = DetailResponse),
    )
)]
pub async fn get_company(
    State(state): State<AppState>,
    _user: CurrentUser,
    Access(access): Access,
) -> Result<Json<ApiResponse<CompanyResponse>>, ApiError> {
    let company = state.company.get(&access).await?;
    Ok(Json(ApiResponse::ok("Empresa obtenida exitosamente", company.into())))
}

/// Replace the company's profile at Factus (admins). Optional fields left out keep their value.
#[utoipa::path(
    put, path = "/company", tag = "company", security(("OAuth2PasswordBearer" = []), ("APIKeyHeader" = [])),
    params(crate::schemas::FactusTokenHeader),
    request_body = crate::schemas::CompanyUpdateRequest,
    responses(
        (status = 200, description = "`Empresa actualizada exitosamente`", body = inline(ApiResponse<CompanyResponse>)),
        (status = 400, description = "`Error al actualizar la empresa: …` (Factus refused)", body = DetailResponse),
    ),
    extensions(("x-admin-only" = json!(true)))
)]
pub async fn update_company(
    State(state): State<AppState>,
    user: Result<CurrentUser, ApiError>,
    MaybeAccess(access): MaybeAccess,
    JsonBody(body): JsonBody,
) -> Result<Json<ApiResponse<CompanyResponse>>, ApiError> {
    let CurrentUser(user) = user?;
    let (access, update) = with_body(access, read_company_update(&body))?;
    let company = state.company.update(&user, &access, &update).await?;
    Ok(Json(ApiResponse::ok("Empresa actualizada exitosamente", company.into())))
}

/// Upload the company's logo to Factus (admins): `multipart/form-data` with the file in `image`.
#[utoipa::path(
    post, path = "/company/logo", tag = "company", security(("OAuth2PasswordBearer" = []), ("APIKeyHeader" = [])),
    params(crate::schemas::FactusTokenHeader),
    request_body(content = LogoUploadRequest, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "`Logo actualizado exitosamente`", body = inline(ApiResponse<LogoResponse>)),
        (status = 400, description = "`Error al actualizar el logo de la empresa: …` (Factus refused)", body = DetailResponse),
        (status = 413, description = "The image is over 2 MB (`La imagen pesa … bytes; el máximo es 2097152 bytes (2 MB)`), or the body over 4 MB", body = DetailResponse),
        (status = 422, description = "No `image` part, or not a PNG, JPEG, GIF or WebP (`value_error.image`)", body = ValidationErrorResponse),
    ),
    extensions(("x-admin-only" = json!(true)))
)]
pub async fn upload_logo(
    State(state): State<AppState>,
    user: Result<CurrentUser, ApiError>,
    MaybeAccess(access): MaybeAccess,
    body: MultipartBody,
) -> Result<Json<ApiResponse<LogoResponse>>, ApiError> {
    let CurrentUser(user) = user?;
    let logo = read_logo(&body);
    let access = access.map_err(ApiError::invalid)?;
    let logo = logo?;
    let url_logo = state.company.upload_logo(&user, &access, &logo).await?;
    Ok(Json(ApiResponse::ok("Logo actualizado exitosamente", LogoResponse { url_logo })))
}
