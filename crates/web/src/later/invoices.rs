//! `/api/invoices`: the later generation's invoice routes (`docs/contract.md` §12.6), on the
//! same use cases as `/api/v1/invoices` (issuance with its ledger, `InvoiceService`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use factus_application::document::Document;
use factus_application::issuance::{IssueRequest, Issued};
use factus_application::ledger::DocumentKind;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::caller::{Caller, KeyCaller};
use crate::envelope::{BadRequestResponse, DetailResponse};
use crate::error::{ApiError, Later};
use crate::extract::JsonBody;
use crate::factus::{Access, MaybeAccess};
use crate::later::invoice::read_invoice;
use crate::later::reject_string_body;
use crate::queue::{Generation, accepted, keep};
use crate::routes::invoices::{
    DownloadResponse, EventResponse, InvoiceResponse, StatusMessageResponse, create_header_errors, fingerprint,
    issued_response, read_send_email, with_header_errors,
};
use crate::state::AppState;
use factus_application::factus::DocumentFormat;

/// Create an invoice and validate it with DIAN through Factus, exactly once.
///
/// The range is named by `numbering_range_prefix` and resolved among the account's active
/// ranges. As on `/api/v1`, every create is recorded in the ledger first: a retry with the same
/// `Idempotency-Key` (or, without one, the same `reference_code` and body) gets the first
/// answer (`Idempotent-Replayed: true`) instead of a second invoice.
#[utoipa::path(
    post, path = "/api/invoices/", tag = "later", operation_id = "later_create_invoice", security(("APIKeyHeader" = [])),
    params(crate::schemas::CreateInvoiceHeaders),
    request_body = crate::schemas::LaterInvoiceRequest,
    responses(
        (status = 200, description = "The issued bill (also on a replay, with `Idempotent-Replayed: true`)", body = InvoiceResponse,
            example = json!({"number": "SETP990000101", "prefix": "SETP", "cufe": "…", "qr_url": "https://catalogo-vpfe-hab.dian.gov.co/document/searchqr?documentkey=…", "status": "1", "message": "Documento con el código de referencia FAC-1 registrado y validado con éxito"})),
        (status = 202, description = "Factus allowed no more requests (its 80 a minute) within `FACTUS_QUEUE_WAIT_SECS`: the document is queued and will be sent in arrival order; `Location` is its ledger entry (`GET /api/v1/ledger/{id}`, readable with the same API key), and a webhook tells the outcome. Only for creates on the server's own Factus session (no `X-Factus-Token`)", body = crate::routes::ledger::LedgerEntryResponse),
        (status = 409, description = "The reference_code belongs to another bill, a request with it (or the Idempotency-Key) is still being processed, or Factus refused with its 409", body = DetailResponse),
        (status = 422, description = "Malformed body, missing or mistyped fields, codes outside their tables, the model's rules, a missing `X-Factus-Token`, the string-body hint, or `No se encontró un rango de numeración activo con prefijo '<prefix>' en Factus`", body = BadRequestResponse),
    )
)]
pub async fn create_invoice(
    State(state): State<AppState>,
    caller: Result<KeyCaller, ApiError>,
    MaybeAccess(access): MaybeAccess,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let KeyCaller(Caller { user, api_key_id }) = caller?;
    reject_string_body(&body)?;
    let (header_errors, key) = create_header_errors(access.as_ref().err(), &headers);
    let later = with_header_errors(header_errors, read_invoice(&body))?;
    let access = access.map_err(ApiError::invalid)?;
    let prefix = later.numbering_range_prefix;
    let range = state.lookups.active_range_with_prefix(&access, &prefix).await.map_err(Later)?.ok_or_else(|| {
        ApiError::detail(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("No se encontró un rango de numeración activo con prefijo '{prefix}' en Factus"),
        )
    })?;
    let document = Document::Invoice(later.invoice.with_numbering_range_id(range.id));
    let request = IssueRequest {
        user,
        api_key_id,
        access,
        document,
        idempotency_key: key,
        fingerprint: fingerprint(&body),
        queued_request: Some(keep(Generation::Later, Some(range.id), &body)),
    };
    let outcome = match state.issuance.issue(request).await.map_err(Later)? {
        Issued::Bill(outcome) => outcome,
        Issued::Queued(entry) => return Ok(accepted(&state.ledger_location, *entry, false)),
    };
    let mut bill = InvoiceResponse::from(outcome.bill);
    if bill.prefix.is_empty() {
        bill.prefix = prefix;
    }
    Ok(issued_response(outcome.replayed, Json(bill)))
}

/// Show a bill: Factus' document (its `data`) as Factus has it.
#[utoipa::path(
    get, path = "/api/invoices/{number}", tag = "later", operation_id = "later_get_invoice", security(("APIKeyHeader" = [])),
    params(("number" = String, Path, description = "Bill number with prefix, e.g. SETP990000101"),
           crate::schemas::FactusTokenHeader),
    responses(
        (status = 200, description = "Factus' document (`bill`, `customer`, `items`, …) passed through", body = Object),
        (status = 404, description = "`Documento no encontrado` (not the caller's bill), or Factus' 404", body = DetailResponse),
    )
)]
pub async fn get_invoice(
    State(state): State<AppState>,
    KeyCaller(caller): KeyCaller,
    Access(access): Access,
    Path(number): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let document =
        state.invoices.get_document(&caller.user, &access, DocumentKind::Invoice, &number).await.map_err(Later)?;
    let mut document: Value = serde_json::from_str(document.as_str()).map_err(ApiError::internal)?;
    Ok(Json(document["data"].take()))
}

async fn download(
    state: &AppState,
    caller: &Caller,
    access: &factus_application::factus::FactusAccess,
    number: &str,
    format: DocumentFormat,
) -> Result<Json<DownloadResponse>, ApiError> {
    let file =
        state.invoices.download(&caller.user, access, DocumentKind::Invoice, number, format).await.map_err(Later)?;
    Ok(Json(file.into()))
}

// The PDF and XML routes differ only in the format's literals; one macro writes both (as
// `routes::invoices::download_routes!` does for `/api/v1`), so that they cannot drift apart.
macro_rules! later_download_route {
    ($name:ident, $format:ident, $label:literal, $suffix:literal) => {
        #[doc = concat!("Download the bill's ", $label, " (base64).")]
        #[utoipa::path(
            get, path = concat!("/api/invoices/{number}/", $suffix), tag = "later",
            operation_id = concat!("later_download_", $suffix), security(("APIKeyHeader" = [])),
            summary = concat!("Download the bill's ", $label, " (base64)."),
            params(("number" = String, Path, description = "Bill number"), crate::schemas::FactusTokenHeader),
            responses(
                (status = 200, description = concat!("The ", $label), body = DownloadResponse),
                (status = 404, description = "`Documento no encontrado`, or Factus' 404", body = DetailResponse),
            )
        )]
        pub async fn $name(
            State(state): State<AppState>,
            KeyCaller(caller): KeyCaller,
            Access(access): Access,
            Path(number): Path<String>,
        ) -> Result<Json<DownloadResponse>, ApiError> {
            download(&state, &caller, &access, &number, DocumentFormat::$format).await
        }
    };
}

later_download_route!(download_pdf, Pdf, "PDF", "pdf");
later_download_route!(download_xml, Xml, "XML", "xml");

/// The bill's RADIAN events, as a bare list.
#[utoipa::path(
    get, path = "/api/invoices/{number}/events", tag = "later", operation_id = "later_invoice_events", security(("APIKeyHeader" = [])),
    params(("number" = String, Path, description = "Bill number"),
           crate::schemas::FactusTokenHeader),
    responses(
        (status = 200, description = "The events", body = Vec<EventResponse>),
        (status = 404, description = "`Documento no encontrado`, or Factus' 404", body = DetailResponse),
    )
)]
pub async fn invoice_events(
    State(state): State<AppState>,
    KeyCaller(caller): KeyCaller,
    Access(access): Access,
    Path(number): Path<String>,
) -> Result<Json<Vec<EventResponse>>, ApiError> {
    let events = state.invoices.events(&caller.user, &access, &number).await.map_err(Later)?;
    Ok(Json(events.events.into_iter().map(EventResponse::from).collect()))
}

/// The later original's fixed answer to a sent e-mail.
#[derive(Debug, Serialize, ToSchema)]
pub struct EmailSentResponse {
    #[schema(example = "ok")]
    pub status: &'static str,
    #[schema(example = "Correo enviado correctamente")]
    pub message: &'static str,
}

/// Have Factus e-mail the bill to a customer.
#[utoipa::path(
    post, path = "/api/invoices/{number}/send-email", tag = "later", operation_id = "later_send_email", security(("APIKeyHeader" = [])),
    params(("number" = String, Path, description = "Bill number"),
           crate::schemas::FactusTokenHeader),
    request_body = crate::schemas::SendEmailRequest,
    responses(
        (status = 200, description = "Always this answer once Factus accepted", body = EmailSentResponse,
            example = json!({"status": "ok", "message": "Correo enviado correctamente"})),
        (status = 404, description = "`Documento no encontrado`, or Factus' 404", body = DetailResponse),
        (status = 422, description = "Bad e-mail, missing `X-Factus-Token`, or the string-body hint", body = BadRequestResponse),
    )
)]
pub async fn send_email(
    State(state): State<AppState>,
    caller: Result<KeyCaller, ApiError>,
    MaybeAccess(access): MaybeAccess,
    Path(number): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<EmailSentResponse>, ApiError> {
    let KeyCaller(caller) = caller?;
    reject_string_body(&body)?;
    let missing_access = access.as_ref().err().cloned().into_iter().collect();
    let (email, pdf) = with_header_errors(missing_access, read_send_email(&body).map_err(ApiError::Validation))?;
    let access = access.map_err(ApiError::invalid)?;
    state
        .invoices
        .send_email(&caller.user, &access, DocumentKind::Invoice, &number, &email, pdf)
        .await
        .map_err(Later)?;
    Ok(Json(EmailSentResponse { status: "ok", message: "Correo enviado correctamente" }))
}

/// Delete a bill that DIAN has not validated, by its reference code.
#[utoipa::path(
    delete, path = "/api/invoices/reference/{reference_code}", tag = "later", operation_id = "later_delete_invoice", security(("APIKeyHeader" = [])),
    params(("reference_code" = String, Path, description = "The client's reference code"),
           crate::schemas::FactusTokenHeader),
    responses(
        (status = 200, description = "Factus' `{status, message}`", body = StatusMessageResponse),
        (status = 404, description = "`Documento no encontrado`, or Factus' 404", body = DetailResponse),
        (status = 409, description = "Factus' 409: the bill was validated", body = DetailResponse),
    )
)]
pub async fn delete_invoice(
    State(state): State<AppState>,
    KeyCaller(caller): KeyCaller,
    Access(access): Access,
    Path(reference_code): Path<String>,
) -> Result<Json<StatusMessageResponse>, ApiError> {
    let answer = state
        .invoices
        .delete_by_reference(&caller.user, &access, DocumentKind::Invoice, &reference_code)
        .await
        .map_err(Later)?;
    // As on /api/v1: the ledger stops replaying the deleted bill, so the reference can be reused.
    state.issuance.record_deleted(&reference_code).await;
    Ok(Json(answer.into()))
}
