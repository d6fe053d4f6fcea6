//! Credit notes, debit notes and support documents: create (exactly once, through the same
//! ledger as invoices), show, PDF, XML, e-mail and delete. Every handler is the kind's entry into
//! the one path shared with invoices (`routes::invoices`' `*_document` functions): the kind is
//! data. Factus e-mails no support documents, so they have no send-email route.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use factus_application::document::Document;
use factus_application::factus::DocumentFormat;
use factus_application::ledger::DocumentKind;
use factus_domain::invoice::NoteKind;
use serde_json::Value;

use crate::caller::Caller;
use crate::envelope::{ApiResponse, BadRequestResponse, DetailResponse, ValidationErrorResponse};
use crate::error::ApiError;
use crate::extract::{CurrentUser, JsonBody};
use crate::factus::{Access, MaybeAccess};
use crate::invoices::request::{parse_note, parse_support_document};
use crate::routes::invoices::{
    DownloadResponse, InvoiceResponse, StatusMessageResponse, create_document, delete_document, download_document,
    email_document, show_document,
};
use crate::state::AppState;

/// Create a credit note at Factus, exactly once (the invoices' ledger, `Idempotency-Key` and
/// reference replay).
#[utoipa::path(
    post, path = "/credit-notes", tag = "credit-notes", security(("OAuth2PasswordBearer" = [])),
    params(crate::schemas::CreateInvoiceHeaders),
    request_body = crate::schemas::CreditNoteRequest,
    responses(
        (status = 200, description = "`Nota crédito creada exitosamente` (header `Idempotent-Replayed: true` on a replay)", body = inline(ApiResponse<InvoiceResponse>)),
        (status = 202, description = "Factus allowed no more requests (its 80 a minute) within `FACTUS_QUEUE_WAIT_SECS`: the document is queued and will be sent in arrival order; `Location` is its ledger entry (`GET /ledger/{id}`), and a webhook tells the outcome. Only for creates on the server's own Factus session (no `X-Factus-Token`)", body = inline(ApiResponse<crate::routes::ledger::LedgerEntryResponse>)),
        (status = 400, description = "The note breaks a rule (a list): at least one item; `bill_number` with customization 20, `billing_period` and `customer` with 22; the referenced invoice unknown to the ledger, not the caller's or not validated; the credited amounts above the invoice's total; an annulment (concept 2) that is not exactly the remaining amount. Or Factus refused it (`Error al crear la nota crédito: …`), or the reference_code was already used", body = BadRequestResponse),
        (status = 401, description = "Not authenticated", body = DetailResponse),
        (status = 409, description = "A request with this Idempotency-Key (or reference) is still being processed, or a document of the kind is stuck pending at Factus", body = DetailResponse),
        (status = 422, description = "Malformed body, missing or mistyped fields, bounds, missing `X-Factus-Token`, Idempotency-Key reused with another body", body = ValidationErrorResponse),
    )
)]
pub async fn create_credit_note(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    MaybeAccess(access): MaybeAccess,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    create_document(&state, caller, access, &headers, &body, DocumentKind::CreditNote, |body| {
        parse_note(NoteKind::Credit, body).map(Document::Note)
    })
    .await
}

/// Show a credit note as Factus has it (Factus' document is passed through in `data`).
#[utoipa::path(
    get, path = "/credit-notes/{number}", tag = "credit-notes", security(("OAuth2PasswordBearer" = [])),
    params(("number" = String, Path, description = "Document number with prefix, e.g. NC1"),
           ("X-Factus-Token" = Option<String>, Header, description = "Factus access token")),
    responses(
        (status = 200, description = "`Nota crédito obtenida exitosamente`; `data` is Factus' `{status, message, data}`", body = inline(ApiResponse<Object>)),
        (status = 400, description = "`Error al obtener la nota crédito: …`", body = DetailResponse),
        (status = 404, description = "`Documento no encontrado`: not the user's document (admins act on any)", body = DetailResponse),
    )
)]
pub async fn get_credit_note(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Access(access): Access,
    Path(number): Path<String>,
) -> Result<Json<ApiResponse<Value>>, ApiError> {
    show_document(&state, &user, &access, DocumentKind::CreditNote, &number).await
}

/// Download the credit note's PDF (base64).
#[utoipa::path(
    get, path = "/credit-notes/{number}/pdf", tag = "credit-notes", security(("OAuth2PasswordBearer" = [])),
    params(("number" = String, Path, description = "Document number"),
           ("X-Factus-Token" = Option<String>, Header, description = "Factus access token")),
    responses(
        (status = 200, description = "`PDF obtenido exitosamente`", body = inline(ApiResponse<DownloadResponse>)),
        (status = 400, description = "`Error al descargar el PDF: …`", body = DetailResponse),
        (status = 404, description = "`Documento no encontrado`", body = DetailResponse),
    )
)]
pub async fn credit_note_pdf(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Access(access): Access,
    Path(number): Path<String>,
) -> Result<Json<ApiResponse<DownloadResponse>>, ApiError> {
    download_document(&state, &user, &access, DocumentKind::CreditNote, &number, DocumentFormat::Pdf).await
}

/// Download the credit note's XML (base64).
#[utoipa::path(
    get, path = "/credit-notes/{number}/xml", tag = "credit-notes", security(("OAuth2PasswordBearer" = [])),
    params(("number" = String, Path, description = "Document number"),
           ("X-Factus-Token" = Option<String>, Header, description = "Factus access token")),
    responses(
        (status = 200, description = "`XML obtenido exitosamente`", body = inline(ApiResponse<DownloadResponse>)),
        (status = 400, description = "`Error al descargar el XML: …`", body = DetailResponse),
        (status = 404, description = "`Documento no encontrado`", body = DetailResponse),
    )
)]
pub async fn credit_note_xml(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Access(access): Access,
    Path(number): Path<String>,
) -> Result<Json<ApiResponse<DownloadResponse>>, ApiError> {
    download_document(&state, &user, &access, DocumentKind::CreditNote, &number, DocumentFormat::Xml).await
}

/// Have Factus e-mail the credit note.
#[utoipa::path(
    post, path = "/credit-notes/{number}/send-email", tag = "credit-notes", security(("OAuth2PasswordBearer" = [])),
    params(("number" = String, Path, description = "Document number"),
           ("X-Factus-Token" = Option<String>, Header, description = "Factus access token")),
    request_body = crate::schemas::SendEmailRequest,
    responses(
        (status = 200, description = "`Correo enviado exitosamente`", body = inline(ApiResponse<StatusMessageResponse>)),
        (status = 400, description = "`Error al enviar el correo: …`", body = DetailResponse),
        (status = 404, description = "`Documento no encontrado`", body = DetailResponse),
        (status = 422, description = "Bad e-mail", body = ValidationErrorResponse),
    )
)]
pub async fn send_credit_note_email(
    State(state): State<AppState>,
    user: Result<CurrentUser, ApiError>,
    MaybeAccess(access): MaybeAccess,
    Path(number): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<ApiResponse<StatusMessageResponse>>, ApiError> {
    email_document(&state, user, access, DocumentKind::CreditNote, &number, &body).await
}

/// Delete a credit note that DIAN has not validated, by its reference code.
#[utoipa::path(
    delete, path = "/credit-notes/reference/{reference_code}", tag = "credit-notes", security(("OAuth2PasswordBearer" = [])),
    params(("reference_code" = String, Path, description = "The client's reference code"),
           ("X-Factus-Token" = Option<String>, Header, description = "Factus access token")),
    responses(
        (status = 200, description = "`Nota crédito eliminada exitosamente`", body = inline(ApiResponse<StatusMessageResponse>)),
        (status = 400, description = "`Error al eliminar la nota crédito: …`", body = DetailResponse),
        (status = 404, description = "`Documento no encontrado`", body = DetailResponse),
    )
)]
pub async fn delete_credit_note(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Access(access): Access,
    Path(reference_code): Path<String>,
) -> Result<Json<ApiResponse<StatusMessageResponse>>, ApiError> {
    delete_document(&state, &user, &access, DocumentKind::CreditNote, &reference_code).await
}

/// Create a debit note at Factus, exactly once (the invoices' ledger, `Idempotency-Key` and
/// reference replay).
#[utoipa::path(
    post, path = "/debit-notes", tag = "debit-notes", security(("OAuth2PasswordBearer" = [])),
    params(crate::schemas::CreateInvoiceHeaders),
    request_body = crate::schemas::DebitNoteRequest,
    responses(
        (status = 200, description = "`Nota débito creada exitosamente` (header `Idempotent-Replayed: true` on a replay)", body = inline(ApiResponse<InvoiceResponse>)),
        (status = 202, description = "Factus allowed no more requests (its 80 a minute) within `FACTUS_QUEUE_WAIT_SECS`: the document is queued and will be sent in arrival order; `Location` is its ledger entry (`GET /ledger/{id}`), and a webhook tells the outcome. Only for creates on the server's own Factus session (no `X-Factus-Token`)", body = inline(ApiResponse<crate::routes::ledger::LedgerEntryResponse>)),
        (status = 400, description = "The note breaks a rule (a list): at least one item; `bill_number` with customization 30, `billing_period` and `customer` with 32; the referenced invoice unknown to the ledger, not the caller's or not validated; a Factus v1 account (debit notes need v2). Or Factus refused it (`Error al crear la nota débito: …`), or the reference_code was already used", body = BadRequestResponse),
        (status = 401, description = "Not authenticated", body = DetailResponse),
        (status = 409, description = "A request with this Idempotency-Key (or reference) is still being processed, or a document of the kind is stuck pending at Factus", body = DetailResponse),
        (status = 422, description = "Malformed body, missing or mistyped fields, bounds, missing `X-Factus-Token`, Idempotency-Key reused with another body", body = ValidationErrorResponse),
    )
)]
pub async fn create_debit_note(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    MaybeAccess(access): MaybeAccess,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    create_document(&state, caller, access, &headers, &body, DocumentKind::DebitNote, |body| {
        parse_note(NoteKind::Debit, body).map(Document::Note)
    })
    .await
}

/// Show a debit note as Factus has it (Factus' document is passed through in `data`).
#[utoipa::path(
    get, path = "/debit-notes/{number}", tag = "debit-notes", security(("OAuth2PasswordBearer" = [])),
    params(("number" = String, Path, description = "Document number with prefix, e.g. ND1"),
           ("X-Factus-Token" = Option<String>, Header, description = "Factus access token")),
    responses(
        (status = 200, description = "`Nota débito obtenida exitosamente`; `data` is Factus' `{status, message, data}`", body = inline(ApiResponse<Object>)),
        (status = 400, description = "`Error al obtener la nota débito: …`", body = DetailResponse),
        (status = 404, description = "`Documento no encontrado`: not the user's document (admins act on any)", body = DetailResponse),
    )
)]
pub async fn get_debit_note(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Access(access): Access,
    Path(number): Path<String>,
) -> Result<Json<ApiResponse<Value>>, ApiError> {
    show_document(&state, &user, &access, DocumentKind::DebitNote, &number).await
}

/// Download the debit note's PDF (base64).
#[utoipa::path(
    get, path = "/debit-notes/{number}/pdf", tag = "debit-notes", security(("OAuth2PasswordBearer" = [])),
    params(("number" = String, Path, description = "Document number"),
           ("X-Factus-Token" = Option<String>, Header, description = "Factus access token")),
    responses(
        (status = 200, description = "`PDF obtenido exitosamente`", body = inline(ApiResponse<DownloadResponse>)),
        (status = 400, description = "`Error al descargar el PDF: …`", body = DetailResponse),
        (status = 404, description = "`Documento no encontrado`", body = DetailResponse),
    )
)]
pub async fn debit_note_pdf(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Access(access): Access,
    Path(number): Path<String>,
) -> Result<Json<ApiResponse<DownloadResponse>>, ApiError> {
    download_document(&state, &user, &access, DocumentKind::DebitNote, &number, DocumentFormat::Pdf).await
}

/// Download the debit note's XML (base64).
#[utoipa::path(
    get, path = "/debit-notes/{number}/xml", tag = "debit-notes", security(("OAuth2PasswordBearer" = [])),
    params(("number" = String, Path, description = "Document number"),
           ("X-Factus-Token" = Option<String>, Header, description = "Factus access token")),
    responses(
        (status = 200, description = "`XML obtenido exitosamente`", body = inline(ApiResponse<DownloadResponse>)),
        (status = 400, description = "`Error al descargar el XML: …`", body = DetailResponse),
        (status = 404, description = "`Documento no encontrado`", body = DetailResponse),
    )
)]
pub async fn debit_note_xml(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Access(access): Access,
    Path(number): Path<String>,
) -> Result<Json<ApiResponse<DownloadResponse>>, ApiError> {
    download_document(&state, &user, &access, DocumentKind::DebitNote, &number, DocumentFormat::Xml).await
}

/// Have Factus e-mail the debit note.
#[utoipa::path(
    post, path = "/debit-notes/{number}/send-email", tag = "debit-notes", security(("OAuth2PasswordBearer" = [])),
    params(("number" = String, Path, description = "Document number"),
           ("X-Factus-Token" = Option<String>, Header, description = "Factus access token")),
    request_body = crate::schemas::SendEmailRequest,
    responses(
        (status = 200, description = "`Correo enviado exitosamente`", body = inline(ApiResponse<StatusMessageResponse>)),
        (status = 400, description = "`Error al enviar el correo: …`", body = DetailResponse),
        (status = 404, description = "`Documento no encontrado`", body = DetailResponse),
        (status = 422, description = "Bad e-mail", body = ValidationErrorResponse),
    )
)]
pub async fn send_debit_note_email(
    State(state): State<AppState>,
    user: Result<CurrentUser, ApiError>,
    MaybeAccess(access): MaybeAccess,
    Path(number): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<ApiResponse<StatusMessageResponse>>, ApiError> {
    email_document(&state, user, access, DocumentKind::DebitNote, &number, &body).await
}

/// Delete a debit note that DIAN has not validated, by its reference code.
#[utoipa::path(
    delete, path = "/debit-notes/reference/{reference_code}", tag = "debit-notes", security(("OAuth2PasswordBearer" = [])),
    params(("reference_code" = String, Path, description = "The client's reference code"),
           ("X-Factus-Token" = Option<String>, Header, description = "Factus access token")),
    responses(
        (status = 200, description = "`Nota débito eliminada exitosamente`", body = inline(ApiResponse<StatusMessageResponse>)),
        (status = 400, description = "`Error al eliminar la nota débito: …`", body = DetailResponse),
        (status = 404, description = "`Documento no encontrado`", body = DetailResponse),
    )
)]
pub async fn delete_debit_note(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Access(access): Access,
    Path(reference_code): Path<String>,
) -> Result<Json<ApiResponse<StatusMessageResponse>>, ApiError> {
    delete_document(&state, &user, &access, DocumentKind::DebitNote, &reference_code).await
}

/// Create a support document at Factus, exactly once (the invoices' ledger, `Idempotency-Key` and
/// reference replay).
#[utoipa::path(
    post, path = "/support-documents", tag = "support-documents", security(("OAuth2PasswordBearer" = [])),
    params(crate::schemas::CreateInvoiceHeaders),
    request_body = crate::schemas::SupportDocumentRequest,
    responses(
        (status = 200, description = "`Documento soporte creado exitosamente` (header `Idempotent-Replayed: true` on a replay)", body = inline(ApiResponse<InvoiceResponse>)),
        (status = 202, description = "Factus allowed no more requests (its 80 a minute) within `FACTUS_QUEUE_WAIT_SECS`: the document is queued and will be sent in arrival order; `Location` is its ledger entry (`GET /ledger/{id}`), and a webhook tells the outcome. Only for creates on the server's own Factus session (no `X-Factus-Token`)", body = inline(ApiResponse<crate::routes::ledger::LedgerEntryResponse>)),
        (status = 400, description = "The document breaks a rule (a list): at least one item; a provider in Colombia needs `municipality_id`. Or Factus refused it (`Error al crear el documento soporte: …`), or the reference_code was already used", body = BadRequestResponse),
        (status = 401, description = "Not authenticated", body = DetailResponse),
        (status = 409, description = "A request with this Idempotency-Key (or reference) is still being processed, or a document of the kind is stuck pending at Factus", body = DetailResponse),
        (status = 422, description = "Malformed body, missing or mistyped fields, bounds, missing `X-Factus-Token`, Idempotency-Key reused with another body", body = ValidationErrorResponse),
    )
)]
pub async fn create_support_document(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    MaybeAccess(access): MaybeAccess,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    create_document(&state, caller, access, &headers, &body, DocumentKind::SupportDocument, |body| {
        parse_support_document(body).map(Document::SupportDocument)
    })
    .await
}

/// Show a support document as Factus has it (Factus' document is passed through in `data`).
#[utoipa::path(
    get, path = "/support-documents/{number}", tag = "support-documents", security(("OAuth2PasswordBearer" = [])),
    params(("number" = String, Path, description = "Document number with prefix, e.g. SEDS984000001"),
           ("X-Factus-Token" = Option<String>, Header, description = "Factus access token")),
    responses(
        (status = 200, description = "`Documento soporte obtenido exitosamente`; `data` is Factus' `{status, message, data}`", body = inline(ApiResponse<Object>)),
        (status = 400, description = "`Error al obtener el documento soporte: …`", body = DetailResponse),
        (status = 404, description = "`Documento no encontrado`: not the user's document (admins act on any)", body = DetailResponse),
    )
)]
pub async fn get_support_document(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Access(access): Access,
    Path(number): Path<String>,
) -> Result<Json<ApiResponse<Value>>, ApiError> {
    show_document(&state, &user, &access, DocumentKind::SupportDocument, &number).await
}

/// Download the support document's PDF (base64).
#[utoipa::path(
    get, path = "/support-documents/{number}/pdf", tag = "support-documents", security(("OAuth2PasswordBearer" = [])),
    params(("number" = String, Path, description = "Document number"),
           ("X-Factus-Token" = Option<String>, Header, description = "Factus access token")),
    responses(
        (status = 200, description = "`PDF obtenido exitosamente`", body = inline(ApiResponse<DownloadResponse>)),
        (status = 400, description = "`Error al descargar el PDF: …`", body = DetailResponse),
        (status = 404, description = "`Documento no encontrado`", body = DetailResponse),
    )
)]
pub async fn support_document_pdf(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Access(access): Access,
    Path(number): Path<String>,
) -> Result<Json<ApiResponse<DownloadResponse>>, ApiError> {
    download_document(&state, &user, &access, DocumentKind::SupportDocument, &number, DocumentFormat::Pdf).await
}

/// Download the support document's XML (base64).
#[utoipa::path(
    get, path = "/support-documents/{number}/xml", tag = "support-documents", security(("OAuth2PasswordBearer" = [])),
    params(("number" = String, Path, description = "Document number"),
           ("X-Factus-Token" = Option<String>, Header, description = "Factus access token")),
    responses(
        (status = 200, description = "`XML obtenido exitosamente`", body = inline(ApiResponse<DownloadResponse>)),
        (status = 400, description = "`Error al descargar el XML: …`", body = DetailResponse),
        (status = 404, description = "`Documento no encontrado`", body = DetailResponse),
    )
)]
pub async fn support_document_xml(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Access(access): Access,
    Path(number): Path<String>,
) -> Result<Json<ApiResponse<DownloadResponse>>, ApiError> {
    download_document(&state, &user, &access, DocumentKind::SupportDocument, &number, DocumentFormat::Xml).await
}

/// Delete a support document that DIAN has not validated, by its reference code.
#[utoipa::path(
    delete, path = "/support-documents/reference/{reference_code}", tag = "support-documents", security(("OAuth2PasswordBearer" = [])),
    params(("reference_code" = String, Path, description = "The client's reference code"),
           ("X-Factus-Token" = Option<String>, Header, description = "Factus access token")),
    responses(
        (status = 200, description = "`Documento soporte eliminado exitosamente`", body = inline(ApiResponse<StatusMessageResponse>)),
        (status = 400, description = "`Error al eliminar el documento soporte: …`", body = DetailResponse),
        (status = 404, description = "`Documento no encontrado`", body = DetailResponse),
    )
)]
pub async fn delete_support_document(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Access(access): Access,
    Path(reference_code): Path<String>,
) -> Result<Json<ApiResponse<StatusMessageResponse>>, ApiError> {
    delete_document(&state, &user, &access, DocumentKind::SupportDocument, &reference_code).await
}
