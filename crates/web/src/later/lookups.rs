//! `/api/lookups`: Factus' catalogues as bare lists, the acquirer by document type code, and
//! the reference tables with the later generation's canonical codes (`docs/contract.md` §12.8),
//! on the same use case as `/api/v1/lookups`.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use factus_domain::catalog::{self, Catalog};
use serde::Serialize;
use utoipa::ToSchema;

use crate::caller::KeyCaller;
use crate::envelope::{BadRequestResponse, DetailResponse};
use crate::error::{ApiError, Later};
use crate::factus::Access;
use crate::later::codes::{self, Alias};
use crate::routes::lookups::{
    AcquirerResponse, CountryResponse, MunicipalityResponse, TaxResponse, UnitResponse, identification_number,
    query_pairs, query_value, required_query,
};
use crate::state::AppState;

fn listed<T, R: From<T>>(items: Vec<T>) -> Json<Vec<R>> {
    Json(items.into_iter().map(R::from).collect())
}

/// Municipalities (the later original takes no filter).
#[utoipa::path(
    get, path = "/api/lookups/municipalities", tag = "later", operation_id = "later_municipalities", security(("APIKeyHeader" = [])),
    params(crate::schemas::FactusTokenHeader),
    responses((status = 200, description = "Every municipality", body = Vec<MunicipalityResponse>))
)]
pub async fn municipalities(
    State(state): State<AppState>,
    _caller: KeyCaller,
    Access(access): Access,
) -> Result<Json<Vec<MunicipalityResponse>>, ApiError> {
    Ok(listed(state.lookups.municipalities(&access, None).await.map_err(Later)?))
}

/// Product tributes.
#[utoipa::path(
    get, path = "/api/lookups/taxes", tag = "later", operation_id = "later_taxes", security(("APIKeyHeader" = [])),
    params(crate::schemas::FactusTokenHeader),
    responses((status = 200, description = "The product tributes", body = Vec<TaxResponse>))
)]
pub async fn taxes(
    State(state): State<AppState>,
    _caller: KeyCaller,
    Access(access): Access,
) -> Result<Json<Vec<TaxResponse>>, ApiError> {
    Ok(listed(state.lookups.taxes(&access).await.map_err(Later)?))
}

/// Measurement units.
#[utoipa::path(
    get, path = "/api/lookups/units", tag = "later", operation_id = "later_units", security(("APIKeyHeader" = [])),
    params(crate::schemas::FactusTokenHeader),
    responses((status = 200, description = "The units", body = Vec<UnitResponse>))
)]
pub async fn units(
    State(state): State<AppState>,
    _caller: KeyCaller,
    Access(access): Access,
) -> Result<Json<Vec<UnitResponse>>, ApiError> {
    Ok(listed(state.lookups.units(&access).await.map_err(Later)?))
}

/// Countries (optionally `?name=`).
#[utoipa::path(
    get, path = "/api/lookups/countries", tag = "later", operation_id = "later_countries", security(("APIKeyHeader" = [])),
    params(("name" = Option<String>, Query, description = "Part of the name"),
           crate::schemas::FactusTokenHeader),
    responses((status = 200, description = "The countries", body = Vec<CountryResponse>))
)]
pub async fn countries(
    State(state): State<AppState>,
    _caller: KeyCaller,
    Access(access): Access,
    RawQuery(query): RawQuery,
) -> Result<Json<Vec<CountryResponse>>, ApiError> {
    let pairs = query_pairs(query.as_deref());
    Ok(listed(state.lookups.countries(&access, query_value(&pairs, "name")).await.map_err(Later)?))
}

/// The Factus v1 id of an acquirer's document type: a later code (`CC`), or an integer used as
/// it is, as the later original does (`docs/contract.md` §12.8).
fn acquirer_document_id(value: &str) -> Result<i64, ApiError> {
    codes::identification_document_id(value).or_else(|| value.parse::<i64>().ok()).ok_or_else(|| {
        let accepted: Vec<&str> = codes::IDENTIFICATION_DOCUMENTS.iter().map(|(code, _)| *code).collect();
        ApiError::detail(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("Tipo de documento inválido: '{value}'. Valores aceptados: {}", accepted.join(", ")),
        )
    })
}

/// The name and e-mail DIAN has for an identification.
#[utoipa::path(
    get, path = "/api/lookups/acquirer", tag = "later", operation_id = "later_acquirer", security(("APIKeyHeader" = [])),
    params(("identification_document_type" = String, Query,
                description = "A document type code (`CC`, `NIT`, … see /api/lookups/reference-tables) or a Factus id",
                pattern = "^(RC|TI|CC|TE|CE|NIT|PASAPORTE|DIE|PEP|NIT_EXTRANJERO|NUIP|[1-9]|1[01])$"),
           ("identification_number" = String, Query, min_length = 1, pattern = r"\S", description = "The identification (not blank)"),
           crate::schemas::FactusTokenHeader),
    responses(
        (status = 200, description = "What DIAN knows", body = AcquirerResponse),
        (status = 404, description = "Factus' 404: DIAN knows no such acquirer", body = DetailResponse),
        (status = 422, description = "Missing query parameters, or `Tipo de documento inválido: '<v>'. Valores aceptados: …`", body = BadRequestResponse),
    )
)]
pub async fn acquirer(
    State(state): State<AppState>,
    _caller: KeyCaller,
    Access(access): Access,
    RawQuery(query): RawQuery,
) -> Result<Json<AcquirerResponse>, ApiError> {
    let pairs = query_pairs(query.as_deref());
    let mut missing = Vec::new();
    let document_type = required_query(&pairs, "identification_document_type", &mut missing);
    let number = identification_number(&pairs, &mut missing);
    let (Some(document_type), Some(number)) = (document_type, number) else {
        return Err(ApiError::Validation(missing));
    };
    let document_id = acquirer_document_id(document_type)?;
    let acquirer = state.lookups.acquirer(&access, document_id, number).await.map_err(Later)?;
    Ok(Json(acquirer.into()))
}

/// One row of a reference table.
#[derive(Debug, Serialize, ToSchema)]
pub struct CodeName {
    #[schema(example = "CC")]
    pub code: String,
    #[schema(example = "Cédula de ciudadanía")]
    pub name: String,
}

/// One row of `product_standard_codes`.
#[derive(Debug, Serialize, ToSchema)]
pub struct IdName {
    #[schema(example = 1)]
    pub id: i64,
    #[schema(example = "Estándar de adopción del contribuyente")]
    pub name: String,
}

/// The codes a later client fills an invoice with (`docs/contract.md` §12.8).
#[derive(Debug, Serialize, ToSchema)]
pub struct ReferenceTables {
    pub identification_document_types: Vec<CodeName>,
    pub legal_organization_types: Vec<CodeName>,
    pub customer_tribute_types: Vec<CodeName>,
    pub payment_methods: Vec<CodeName>,
    pub payment_forms: Vec<CodeName>,
    pub product_standard_codes: Vec<IdName>,
    pub document_types: Vec<CodeName>,
}

/// The later codes of `table` (those in `listed`, when given) named as their catalogue entries.
fn catalogue_rows(table: &[Alias], catalog: &'static Catalog, listed: Option<&[&str]>) -> Vec<CodeName> {
    table
        .iter()
        .filter(|(code, _)| listed.is_none_or(|listed| listed.contains(code)))
        .filter_map(|(code, _)| {
            codes::entry(table, catalog, code)
                .map(|entry| CodeName { code: (*code).to_owned(), name: entry.name().to_owned() })
        })
        .collect()
}

fn rows(table: &[(&str, &str, &str)]) -> Vec<CodeName> {
    table.iter().map(|(code, _, name)| CodeName { code: (*code).to_owned(), name: (*name).to_owned() }).collect()
}

/// The reference tables: the names come from the domain catalogues the codes are translated
/// through, so what a client reads here is what its invoice will mean.
#[must_use]
pub fn reference_tables_data() -> ReferenceTables {
    ReferenceTables {
        identification_document_types: catalogue_rows(
            codes::IDENTIFICATION_DOCUMENTS,
            catalog::identification_documents(),
            None,
        ),
        legal_organization_types: catalogue_rows(codes::LEGAL_ORGANIZATIONS, catalog::legal_organizations(), None),
        customer_tribute_types: catalogue_rows(
            codes::CUSTOMER_TRIBUTES,
            catalog::customer_tributes(),
            Some(codes::LISTED_CUSTOMER_TRIBUTES),
        ),
        payment_methods: rows(codes::PAYMENT_METHODS),
        payment_forms: rows(codes::PAYMENT_FORMS),
        product_standard_codes: codes::STANDARD_CODES
            .iter()
            .filter_map(|(code, _)| codes::entry(codes::STANDARD_CODES, catalog::standard_codes(), code))
            .map(|entry| IdName { id: entry.id(), name: entry.name().to_owned() })
            .collect(),
        document_types: codes::LISTED_DOCUMENT_TYPES
            .iter()
            .map(|(code, name)| CodeName { code: (*code).to_owned(), name: (*name).to_owned() })
            .collect(),
    }
}

/// The code tables a client needs to fill an invoice (static; no Factus token, no Factus call).
#[utoipa::path(
    get, path = "/api/lookups/reference-tables", tag = "later", operation_id = "later_reference_tables", security(("APIKeyHeader" = [])),
    responses((status = 200, description = "Seven tables of `{code, name}` (`{id, name}` for product standard codes)", body = ReferenceTables))
)]
pub async fn reference_tables(_caller: KeyCaller) -> Json<ReferenceTables> {
    Json(reference_tables_data())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_reference_tables_are_those_of_the_later_original() {
        let tables = json!(reference_tables_data());
        let codes = |table: &str| -> Vec<String> {
            tables[table].as_array().unwrap().iter().map(|row| row["code"].as_str().unwrap().to_owned()).collect()
        };
        assert_eq!(
            codes("identification_document_types"),
            ["RC", "TI", "CC", "TE", "CE", "NIT", "PASAPORTE", "DIE", "PEP", "NIT_EXTRANJERO", "NUIP"]
        );
        assert_eq!(tables["identification_document_types"][2], json!({"code": "CC", "name": "Cédula de ciudadanía"}));
        assert_eq!(
            tables["identification_document_types"][9],
            json!({"code": "NIT_EXTRANJERO", "name": "NIT otro país"})
        );
        assert_eq!(
            tables["legal_organization_types"],
            json!([{"code": "company", "name": "Persona Jurídica"}, {"code": "person", "name": "Persona Natural"}])
        );
        assert_eq!(
            tables["customer_tribute_types"],
            json!([{"code": "IVA", "name": "IVA"}, {"code": "ZZ", "name": "No aplica"}])
        );
        assert_eq!(
            codes("payment_methods"),
            ["cash_payment", "transfer", "check", "debit_card", "credit_card", "cash_savings", "other"]
        );
        assert_eq!(tables["payment_methods"][1]["name"], "Consignación / Transferencia");
        assert_eq!(tables["payment_forms"][1], json!({"code": "credit", "name": "Pago a crédito"}));
        assert_eq!(
            tables["product_standard_codes"][0],
            json!({"id": 1, "name": "Estándar de adopción del contribuyente"})
        );
        assert_eq!(tables["product_standard_codes"][3], json!({"id": 4, "name": "GTIN"}));
        assert_eq!(codes("document_types"), ["01", "03"]);
        let keys: Vec<&String> = tables.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 7);
    }

    #[test]
    fn an_acquirer_document_type_is_a_code_or_an_id_and_nothing_else() {
        assert_eq!(acquirer_document_id("NIT").unwrap(), 6);
        assert_eq!(acquirer_document_id("13").unwrap(), 13);
        let (status, body) = acquirer_document_id("cc").unwrap_err().status_and_body();
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            body,
            json!({"detail": "Tipo de documento inválido: 'cc'. Valores aceptados: RC, TI, CC, TE, CE, NIT, PASAPORTE, DIE, PEP, NIT_EXTRANJERO, NUIP"})
        );
    }
}
