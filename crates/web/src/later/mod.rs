//! The later generation of the original service, served under `/api` beside `/api/v1`
//! (`docs/contract.md` §12): its routes, request bodies and bare JSON answers, its `X-API-Key`
//! texts and its error statuses, for clients written against it.
//!
//! Only the web layer differs: every handler here calls the same use cases as its `/api/v1`
//! counterpart (issuance and its ledger, `InvoiceService`, `LookupService`, `FactusAuthService`),
//! and its errors go through the one mapping in [`crate::error`] ([`crate::error::Later`]).
//! docs/ARCHITECTURE.md ("Two generations, one core") says why and where they differ.

pub mod codes;
pub mod company;
pub mod factus_auth;
pub mod invoice;
pub mod invoices;
pub mod lookups;
pub mod numbering_ranges;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use serde_json::Value;

use crate::error::ApiError;
use crate::routes::health::{self, HealthResponse};
use crate::state::AppState;
use crate::validation::FieldError;

/// Where the later generation lives (its `API_V1_STR` default).
pub const PREFIX: &str = "/api";

/// The later original's answer to a JSON object sent as text (`docs/contract.md` §12.3).
pub const STRING_BODY_HINT: &str = "Error de validación: Parece que se ha enviado una cadena (string) en lugar de un \
     objeto JSON válido. Si usas Postman, asegúrate de que el 'Body' esté configurado como 'raw' y el formato sea 'JSON'.";

/// Refuses a body that is a JSON object sent as text (`text/plain`, no content type, or a JSON
/// string holding one) with the later original's hint, which wins over every other error.
///
/// # Errors
/// 422 `{"detail": STRING_BODY_HINT}`.
pub fn reject_string_body(body: &Value) -> Result<(), ApiError> {
    match body {
        Value::String(text) if text.trim_start().starts_with('{') || text.contains("\\\"") => {
            Err(ApiError::detail(StatusCode::UNPROCESSABLE_ENTITY, STRING_BODY_HINT))
        }
        _ => Ok(()),
    }
}

/// Reads a body with `read`, after [`reject_string_body`]; the reader's field errors are one 422.
///
/// # Errors
/// The string-body hint, or [`ApiError::Validation`] with the reader's errors.
pub(crate) fn read_body<T>(
    body: &Value,
    read: impl FnOnce(&Value) -> Result<T, Vec<FieldError>>,
) -> Result<T, ApiError> {
    reject_string_body(body)?;
    read(body).map_err(ApiError::Validation)
}

/// Liveness under the later prefix.
#[utoipa::path(get, path = "/api/health", tag = "later", operation_id = "later_api_health",
    responses((status = 200, description = "Alive", body = HealthResponse, example = json!({"status": "ok"}))))]
pub async fn api_health() -> axum::Json<HealthResponse> {
    health::health().await
}

/// Liveness at the root, as the later original also answers it.
#[utoipa::path(get, path = "/health", tag = "later", operation_id = "later_root_health",
    responses((status = 200, description = "Alive", body = HealthResponse, example = json!({"status": "ok"}))))]
pub async fn root_health() -> axum::Json<HealthResponse> {
    health::health().await
}

/// The later generation's routes, with their full paths. The roots the later original
/// registered with a trailing slash (`/invoices/`) are served with and without it.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/factus/login", post(factus_auth::factus_login))
        .route("/api/auth/factus/refresh", post(factus_auth::factus_refresh))
        .route("/api/invoices/", post(invoices::create_invoice))
        .route("/api/invoices", post(invoices::create_invoice))
        .route("/api/invoices/{number}", get(invoices::get_invoice))
        .route("/api/invoices/{number}/pdf", get(invoices::download_pdf))
        .route("/api/invoices/{number}/xml", get(invoices::download_xml))
        .route("/api/invoices/{number}/events", get(invoices::invoice_events))
        .route("/api/invoices/{number}/send-email", post(invoices::send_email))
        .route("/api/invoices/reference/{reference_code}", delete(invoices::delete_invoice))
        .route("/api/lookups/reference-tables", get(lookups::reference_tables))
        .route("/api/lookups/municipalities", get(lookups::municipalities))
        .route("/api/lookups/taxes", get(lookups::taxes))
        .route("/api/lookups/units", get(lookups::units))
        .route("/api/lookups/countries", get(lookups::countries))
        .route("/api/lookups/acquirer", get(lookups::acquirer))
        .route("/api/company/", get(company::get_company).put(company::update_company))
        .route("/api/company", get(company::get_company).put(company::update_company))
        .route("/api/company/logo", post(company::upload_logo))
        .route("/api/numbering-ranges/", get(numbering_ranges::list_ranges).post(numbering_ranges::create_range))
        .route("/api/numbering-ranges", get(numbering_ranges::list_ranges).post(numbering_ranges::create_range))
        .route("/api/numbering-ranges/software", get(numbering_ranges::software_ranges))
        .route(
            "/api/numbering-ranges/{id}",
            get(numbering_ranges::get_range).put(numbering_ranges::update_range).delete(numbering_ranges::delete_range),
        )
        .route("/api/health", get(api_health))
        .route("/health", get(root_health))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_object_sent_as_text_gets_the_hint_and_anything_else_goes_on_to_validation() {
        for text in ["{\"email\": \"a@b.co\"}", "  {", "\"x\\\"y\""] {
            let (status, body) = reject_string_body(&json!(text)).unwrap_err().status_and_body();
            assert_eq!((status, body), (StatusCode::UNPROCESSABLE_ENTITY, json!({ "detail": STRING_BODY_HINT })));
        }
        for body in [json!("hello"), json!([1]), json!({"email": "a@b.co"}), Value::Null] {
            assert!(reject_string_body(&body).is_ok(), "{body}");
        }
    }
}
