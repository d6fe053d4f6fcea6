//! Invoices through Factus: create (validate with DIAN), show, PDF, XML, events, e-mail, delete.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use factus_application::document::Document;
use factus_application::factus::{BillEvent, DocumentFormat, DownloadedFile, FactusAccess, IssuedBill, StatusMessage};
use factus_application::issuance::{IssueFailure, IssueRequest, Issued};
use factus_application::ledger::{DocumentKind, IdempotencyKey, RequestFingerprint};
use factus_domain::user::User;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::caller::Caller;
use crate::envelope::{ApiResponse, BadRequestResponse, DetailResponse, ValidationErrorResponse};
use crate::error::{ApiError, REPLAYED};
use crate::extract::{CurrentUser, JsonBody};
use crate::factus::{Access, MaybeAccess};
use crate::invoices::request::parse_invoice;
use crate::queue::{Generation, accepted, keep};
use crate::state::AppState;
use crate::validation::{Errors, FieldError, Fields, Loc};

/// What the client gets for an issued invoice (`docs/contract.md` §2.4).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InvoiceResponse {
    #[schema(example = "SETP990000123")]
    pub number: String,
    #[schema(example = "SETP")]
    pub prefix: String,
    /// 96 hex characters.
    pub cufe: String,
    pub qr_url: String,
    /// Factus' bill status as text: `"1"` validated by DIAN, `"0"` not yet.
    #[schema(example = "1")]
    pub status: String,
    pub message: Option<String>,
}

impl From<IssuedBill> for InvoiceResponse {
    fn from(bill: IssuedBill) -> Self {
        Self {
            number: bill.number,
            prefix: bill.prefix,
            cufe: bill.cufe,
            qr_url: bill.qr_url,
            status: bill.status,
            message: bill.message,
        }
    }
}

/// The `Idempotency-Key` header, when sent.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<IdempotencyKey>, FieldError> {
    let Some(value) = headers.get("idempotency-key") else { return Ok(None) };
    let loc = Loc::header("idempotency-key");
    // Two keys would make the request two things at once; whichever one were used, a retry
    // sending the other would issue a second invoice.
    if headers.get_all("idempotency-key").iter().nth(1).is_some() {
        return Err(FieldError::new(loc, "only one Idempotency-Key header may be sent", "value_error.duplicate"));
    }
    let text =
        value.to_str().map_err(|_| FieldError::new(loc.clone(), "value is not a valid string", "type_error.str"))?;
    IdempotencyKey::parse(text).map(Some).map_err(|error| FieldError::new(loc, error.to_string(), "value_error"))
}

/// The fingerprint of a request body: SHA-256 of its JSON with object keys sorted, so that the
/// same invoice sent with its fields in another order is recognised as the same request.
pub(crate) fn fingerprint(body: &Value) -> RequestFingerprint {
    fn canonical(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                Value::Object(keys.into_iter().map(|key| (key.clone(), canonical(&map[key]))).collect())
            }
            Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
            other => other.clone(),
        }
    }
    let digest = Sha256::digest(canonical(body).to_string().as_bytes());
    RequestFingerprint::parse(&hex::encode(digest)).expect("a SHA-256 hex digest is a valid fingerprint")
}

/// Create an invoice and validate it with DIAN through Factus, exactly once.
///
/// Every create is recorded in the ledger before Factus is called. A retry with the same
/// `Idempotency-Key` (or, without one, the same `reference_code` and body) gets the stored result
/// with `Idempotent-Replayed: true` instead of a second invoice.
#[utoipa::path(
    post, path = "/invoices", tag = "invoices", security(("OAuth2PasswordBearer" = [])),
    params(crate::schemas::CreateInvoiceHeaders),
    request_body = crate::schemas::InvoiceRequest,
    responses(
        (status = 200, description = "`Factura creada exitosamente` (header `Idempotent-Replayed: true` on a replay)", body = inline(ApiResponse<InvoiceResponse>),
            example = json!({"success": true, "message": "Factura creada exitosamente", "data": {"number": "SETP990000123", "prefix": "SETP", "cufe": "…", "qr_url": "https://catalogo-vpfe-hab.dian.gov.co/document/searchqr?documentkey=…", "status": "1", "message": "Documento con el código de referencia FAC-1 registrado y validado con éxito"}, "errors": null})),
        (status = 202, description = "Factus allowed no more requests (its 80 a minute) within `FACTUS_QUEUE_WAIT_SECS`: the document is queued and will be sent in arrival order; `Location` is its ledger entry (`GET /ledger/{id}`), and a webhook tells the outcome. Only for creates on the server's own Factus session (no `X-Factus-Token`)", body = inline(ApiResponse<crate::routes::ledger::LedgerEntryResponse>)),
        (status = 400, description = "The invoice breaks model-level rules (a list: at least one item; a customer needs `names`, or a non-blank `company`; a NIT needs `dv`; credit (`payment_form` 2) needs `payment_due_date`; decimals beyond 2 places; totals too large), Factus refused it (`Error al crear la factura: …`), or the reference_code was already used with another body", body = BadRequestResponse),
        (status = 409, description = "A request with this Idempotency-Key (or reference) is still being processed", body = DetailResponse),
        (status = 422, description = "Malformed body, missing or mistyped fields, bounds, missing `X-Factus-Token`, Idempotency-Key reused with another body", body = ValidationErrorResponse),
        (status = 503, description = "Factus unreachable, 5xx, or circuit open", body = DetailResponse),
        (status = 504, description = "Factus did not answer in time (retry: the ledger makes it safe)", body = DetailResponse),
    )
)]
pub async fn create_invoice(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    MaybeAccess(access): MaybeAccess,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    create_document(&state, caller, access, &headers, &body, DocumentKind::Invoice, |body| {
        parse_invoice(body).map(Document::Invoice)
    })
    .await
}

/// The Spanish answers of a document kind's operations.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KindTexts {
    pub created: &'static str,
    pub shown: &'static str,
    pub deleted: &'static str,
}

pub(crate) fn texts(kind: DocumentKind) -> KindTexts {
    match kind {
        DocumentKind::Invoice => KindTexts {
            created: "Factura creada exitosamente",
            shown: "Factura obtenida exitosamente",
            deleted: "Factura eliminada exitosamente",
        },
        DocumentKind::CreditNote => KindTexts {
            created: "Nota crédito creada exitosamente",
            shown: "Nota crédito obtenida exitosamente",
            deleted: "Nota crédito eliminada exitosamente",
        },
        DocumentKind::DebitNote => KindTexts {
            created: "Nota débito creada exitosamente",
            shown: "Nota débito obtenida exitosamente",
            deleted: "Nota débito eliminada exitosamente",
        },
        DocumentKind::SupportDocument => KindTexts {
            created: "Documento soporte creado exitosamente",
            shown: "Documento soporte obtenido exitosamente",
            deleted: "Documento soporte eliminado exitosamente",
        },
    }
}

/// Creates a document of any kind exactly once: the headers and the body are checked together
/// (every problem in one 422), then the one issuance runs. `parse` reads the kind's body.
pub(crate) async fn create_document(
    state: &AppState,
    caller: Result<Caller, ApiError>,
    access: Result<FactusAccess, FieldError>,
    headers: &HeaderMap,
    body: &Value,
    kind: DocumentKind,
    parse: impl FnOnce(&Value) -> Result<Document, ApiError>,
) -> Result<Response, ApiError> {
    let caller = caller?;
    let (header_errors, key) = create_header_errors(access.as_ref().err(), headers);
    let document = with_header_errors(header_errors, parse(body))?;
    let access = access.map_err(ApiError::invalid)?;
    match issue_body(state, caller, access, key, body, document).await? {
        Issued::Bill(outcome) => {
            let body = Json(ApiResponse::ok(texts(kind).created, InvoiceResponse::from(outcome.bill)));
            Ok(issued_response(outcome.replayed, body))
        }
        Issued::Queued(entry) => Ok(accepted(&state.ledger_location, *entry, true)),
    }
}

/// Issues `document`, read from the create body `body` of this generation, exactly once: the
/// one issuance behind every create route here, and behind the console's annulment, which
/// writes such a body. Its fingerprint is the body's, and the queue keeps the body for the same
/// parser to read again.
pub(crate) async fn issue_body(
    state: &AppState,
    Caller { user, api_key_id }: Caller,
    access: FactusAccess,
    idempotency_key: Option<IdempotencyKey>,
    body: &Value,
    document: Document,
) -> Result<Issued, ApiError> {
    let kind = document.kind();
    let request = IssueRequest {
        user,
        api_key_id,
        access,
        document,
        idempotency_key,
        fingerprint: fingerprint(body),
        queued_request: Some(keep(Generation::ApiV1, None, body)),
    };
    Ok(state.issuance.issue(request).await.map_err(IssueFailure::of(kind))?)
}

/// The header problems of a create (a missing `X-Factus-Token`, a bad `Idempotency-Key`), to be
/// reported with the body's, and the idempotency key when one was sent well.
pub(crate) fn create_header_errors(
    missing_access: Option<&FieldError>,
    headers: &HeaderMap,
) -> (Vec<FieldError>, Option<IdempotencyKey>) {
    let mut header_errors: Vec<FieldError> = missing_access.into_iter().cloned().collect();
    let key = idempotency_key(headers).unwrap_or_else(|error| {
        header_errors.push(error);
        None
    });
    (header_errors, key)
}

/// The parsed body, or one 422 with the header errors before the body's field errors.
pub(crate) fn with_header_errors<T>(
    mut header_errors: Vec<FieldError>,
    parsed: Result<T, ApiError>,
) -> Result<T, ApiError> {
    match (header_errors.is_empty(), parsed) {
        (true, parsed) => parsed,
        (false, Err(ApiError::Validation(errors))) => {
            header_errors.extend(errors);
            Err(ApiError::Validation(header_errors))
        }
        (false, _) => Err(ApiError::Validation(header_errors)),
    }
}

/// A create's answer, marked `Idempotent-Replayed: true` when an earlier request produced it.
pub(crate) fn issued_response(replayed: bool, body: impl IntoResponse) -> Response {
    if replayed {
        metrics::counter!("ledger_replays_total").increment(1);
        ([(REPLAYED, HeaderValue::from_static("true"))], body).into_response()
    } else {
        body.into_response()
    }
}

/// A document as Factus shows it, passed through in `data`.
pub(crate) async fn show_document(
    state: &AppState,
    user: &User,
    access: &FactusAccess,
    kind: DocumentKind,
    number: &str,
) -> Result<Json<ApiResponse<Value>>, ApiError> {
    let document = state.invoices.get_document(user, access, kind, number).await?;
    let data: Value = serde_json::from_str(document.as_str()).map_err(ApiError::internal)?;
    Ok(Json(ApiResponse::ok(texts(kind).shown, data)))
}

/// A document's PDF or XML.
pub(crate) async fn download_document(
    state: &AppState,
    user: &User,
    access: &FactusAccess,
    kind: DocumentKind,
    number: &str,
    format: DocumentFormat,
) -> Result<Json<ApiResponse<DownloadResponse>>, ApiError> {
    let file: DownloadResponse = state.invoices.download(user, access, kind, number, format).await?.into();
    let message = match format {
        DocumentFormat::Pdf => "PDF obtenido exitosamente",
        DocumentFormat::Xml => "XML obtenido exitosamente",
    };
    Ok(Json(ApiResponse::ok(message, file)))
}

/// Has Factus e-mail a document; the missing token and a bad body are answered together.
pub(crate) async fn email_document(
    state: &AppState,
    user: Result<CurrentUser, ApiError>,
    access: Result<FactusAccess, FieldError>,
    kind: DocumentKind,
    number: &str,
    body: &Value,
) -> Result<Json<ApiResponse<StatusMessageResponse>>, ApiError> {
    let CurrentUser(user) = user?;
    let (access, (email, pdf)) = crate::factus::with_body(access, read_send_email(body))?;
    let answer = state.invoices.send_email(&user, &access, kind, number, &email, pdf).await?;
    Ok(Json(ApiResponse::ok("Correo enviado exitosamente", answer.into())))
}

/// Deletes a document DIAN has not validated, and records it in the ledger.
pub(crate) async fn delete_document(
    state: &AppState,
    user: &User,
    access: &FactusAccess,
    kind: DocumentKind,
    reference_code: &str,
) -> Result<Json<ApiResponse<StatusMessageResponse>>, ApiError> {
    let answer = state.invoices.delete_by_reference(user, access, kind, reference_code).await?;
    // The document no longer exists at Factus: the ledger must stop replaying it, so that the
    // reference can be sent again. Factus' answer stands either way (the document *is*
    // deleted); a failure to record it is logged by the use case.
    state.issuance.record_deleted(reference_code).await;
    Ok(Json(ApiResponse::ok(texts(kind).deleted, answer.into())))
}

// Every kind of document (invoices here, notes and support documents in `routes::documents`) has
// the same PDF, XML, e-mail and delete-by-reference routes: the handler only hands its kind to
// the shared function above, and its `#[utoipa::path]` differs from the other kinds' only in
// literals (path, tag, texts). These macros write such a handler with its annotation from those
// literals, so that the kinds cannot drift apart. utoipa reads `path`, `summary` and the response
// descriptions as expressions, so `concat!` builds them; it would not read a `#[doc = concat!(…)]`,
// hence the explicit `summary` (the same text a doc comment would give).

/// The `{number}/pdf` and `{number}/xml` routes of one kind of document.
macro_rules! download_routes {
    (
        kind: $kind:expr, prefix: $prefix:literal, tag: $tag:literal, noun: $noun:literal,
        number: $number:literal, not_found: $not_found:literal, pdf: $pdf:ident, xml: $xml:ident $(,)?
    ) => {
        $crate::routes::invoices::download_routes!(@one $pdf, Pdf, "PDF", "pdf", $kind, $prefix, $tag, $noun, $number, $not_found);
        $crate::routes::invoices::download_routes!(@one $xml, Xml, "XML", "xml", $kind, $prefix, $tag, $noun, $number, $not_found);
    };
    (@one $name:ident, $format:ident, $label:literal, $suffix:literal, $kind:expr, $prefix:literal, $tag:literal,
        $noun:literal, $number:literal, $not_found:literal) => {
        #[doc = concat!("Download the ", $noun, "'s ", $label, " (base64).")]
        #[utoipa::path(
            get, path = concat!($prefix, "/{number}/", $suffix), tag = $tag, security(("OAuth2PasswordBearer" = [])),
            summary = concat!("Download the ", $noun, "'s ", $label, " (base64)."),
            params(("number" = String, Path, description = $number),
                   crate::schemas::FactusTokenHeader),
            responses(
                (status = 200, description = concat!("`", $label, " obtenido exitosamente`"), body = inline($crate::envelope::ApiResponse<$crate::routes::invoices::DownloadResponse>)),
                (status = 400, description = concat!("`Error al descargar el ", $label, ": …`"), body = $crate::envelope::DetailResponse),
                (status = 404, description = $not_found, body = $crate::envelope::DetailResponse),
            )
        )]
        pub async fn $name(
            ::axum::extract::State(state): ::axum::extract::State<$crate::state::AppState>,
            $crate::extract::CurrentUser(user): $crate::extract::CurrentUser,
            $crate::factus::Access(access): $crate::factus::Access,
            ::axum::extract::Path(number): ::axum::extract::Path<String>,
        ) -> Result<
            ::axum::Json<$crate::envelope::ApiResponse<$crate::routes::invoices::DownloadResponse>>,
            $crate::error::ApiError,
        > {
            $crate::routes::invoices::download_document(
                &state,
                &user,
                &access,
                $kind,
                &number,
                ::factus_application::factus::DocumentFormat::$format,
            )
            .await
        }
    };
}
pub(crate) use download_routes;

/// The `{number}/send-email` route of one kind of document.
macro_rules! email_route {
    (
        kind: $kind:expr, prefix: $prefix:literal, tag: $tag:literal, summary: $summary:expr,
        number: $number:literal, not_found: $not_found:literal, name: $name:ident $(,)?
    ) => {
        #[doc = $summary]
        #[utoipa::path(
            post, path = concat!($prefix, "/{number}/send-email"), tag = $tag, security(("OAuth2PasswordBearer" = [])),
            summary = $summary,
            params(("number" = String, Path, description = $number),
                   crate::schemas::FactusTokenHeader),
            request_body = $crate::schemas::SendEmailRequest,
            responses(
                (status = 200, description = "`Correo enviado exitosamente`", body = inline($crate::envelope::ApiResponse<$crate::routes::invoices::StatusMessageResponse>)),
                (status = 400, description = "`Error al enviar el correo: …`", body = $crate::envelope::DetailResponse),
                (status = 404, description = $not_found, body = $crate::envelope::DetailResponse),
                (status = 422, description = "Bad e-mail", body = $crate::envelope::ValidationErrorResponse),
            )
        )]
        pub async fn $name(
            ::axum::extract::State(state): ::axum::extract::State<$crate::state::AppState>,
            user: Result<$crate::extract::CurrentUser, $crate::error::ApiError>,
            $crate::factus::MaybeAccess(access): $crate::factus::MaybeAccess,
            ::axum::extract::Path(number): ::axum::extract::Path<String>,
            $crate::extract::JsonBody(body): $crate::extract::JsonBody,
        ) -> Result<
            ::axum::Json<$crate::envelope::ApiResponse<$crate::routes::invoices::StatusMessageResponse>>,
            $crate::error::ApiError,
        > {
            $crate::routes::invoices::email_document(&state, user, access, $kind, &number, &body).await
        }
    };
}
pub(crate) use email_route;

/// The `reference/{reference_code}` delete route of one kind of document; `deleted` and `failed`
/// are the kind's texts (`texts(kind)`).
macro_rules! delete_route {
    (
        kind: $kind:expr, prefix: $prefix:literal, tag: $tag:literal, noun: $noun:literal,
        deleted: $deleted:literal, failed: $failed:literal, not_found: $not_found:literal, name: $name:ident $(,)?
    ) => {
        #[doc = concat!("Delete a ", $noun, " that DIAN has not validated, by its reference code.")]
        #[utoipa::path(
            delete, path = concat!($prefix, "/reference/{reference_code}"), tag = $tag, security(("OAuth2PasswordBearer" = [])),
            summary = concat!("Delete a ", $noun, " that DIAN has not validated, by its reference code."),
            params(("reference_code" = String, Path, description = "The client's reference code"),
                   crate::schemas::FactusTokenHeader),
            responses(
                (status = 200, description = concat!("`", $deleted, "`"), body = inline($crate::envelope::ApiResponse<$crate::routes::invoices::StatusMessageResponse>)),
                (status = 400, description = concat!("`", $failed, ": …`"), body = $crate::envelope::DetailResponse),
                (status = 404, description = $not_found, body = $crate::envelope::DetailResponse),
            )
        )]
        pub async fn $name(
            ::axum::extract::State(state): ::axum::extract::State<$crate::state::AppState>,
            $crate::extract::CurrentUser(user): $crate::extract::CurrentUser,
            $crate::factus::Access(access): $crate::factus::Access,
            ::axum::extract::Path(reference_code): ::axum::extract::Path<String>,
        ) -> Result<
            ::axum::Json<$crate::envelope::ApiResponse<$crate::routes::invoices::StatusMessageResponse>>,
            $crate::error::ApiError,
        > {
            $crate::routes::invoices::delete_document(&state, &user, &access, $kind, &reference_code).await
        }
    };
}
pub(crate) use delete_route;

/// Show a bill as Factus has it (the whole Factus document is passed through in `data`).
#[utoipa::path(
    get, path = "/invoices/{number}", tag = "invoices", security(("OAuth2PasswordBearer" = [])),
    params(("number" = String, Path, description = "Bill number with prefix, e.g. SETP990000123"),
           crate::schemas::FactusTokenHeader),
    responses(
        (status = 200, description = "`Factura obtenida exitosamente`; `data` is Factus' `{status, message, data}`", body = inline(ApiResponse<Object>)),
        (status = 400, description = "`Error al obtener la factura: …`", body = DetailResponse),
    )
)]
pub async fn get_invoice(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Access(access): Access,
    Path(number): Path<String>,
) -> Result<Json<ApiResponse<Value>>, ApiError> {
    show_document(&state, &user, &access, DocumentKind::Invoice, &number).await
}

/// A downloaded file (`docs/contract.md` §2.6).
#[derive(Debug, Serialize, ToSchema)]
pub struct DownloadResponse {
    #[schema(example = "fv09008257590002400000241")]
    pub file_name: String,
    /// Base64 of the file; decode it and write it to disk.
    pub file_content: String,
    /// `pdf` or `xml`.
    pub extension: &'static str,
}

impl From<DownloadedFile> for DownloadResponse {
    fn from(file: DownloadedFile) -> Self {
        Self { file_name: file.file_name, file_content: file.content_base64, extension: file.format.extension() }
    }
}

download_routes! {
    kind: DocumentKind::Invoice, prefix: "/invoices", tag: "invoices", noun: "bill", number: "Bill number",
    not_found: "`Documento no encontrado`: not the user's bill (admins act on any)",
    pdf: download_pdf, xml: download_xml,
}

/// One RADIAN event.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventResponse {
    pub number: String,
    pub cude: String,
    #[schema(example = "030")]
    pub event_code: String,
    #[schema(example = "Acuse de recibo")]
    pub event_name: String,
    pub effective_date: String,
    pub effective_time: String,
}

impl From<BillEvent> for EventResponse {
    fn from(event: BillEvent) -> Self {
        Self {
            number: event.number,
            cude: event.cude,
            event_code: event.event_code,
            event_name: event.event_name,
            effective_date: event.effective_date,
            effective_time: event.effective_time,
        }
    }
}

/// The RADIAN events of a bill.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventsResponse {
    pub status: String,
    pub message: Option<String>,
    pub data: Vec<EventResponse>,
}

/// The bill's RADIAN events.
#[utoipa::path(
    get, path = "/invoices/{number}/events", tag = "invoices", security(("OAuth2PasswordBearer" = [])),
    params(("number" = String, Path, description = "Bill number"),
           crate::schemas::FactusTokenHeader),
    responses(
        (status = 200, description = "`Eventos de factura obtenidos exitosamente`", body = inline(ApiResponse<EventsResponse>)),
        (status = 400, description = "`Error al obtener eventos de la factura: …`", body = DetailResponse),
        (status = 404, description = "`Documento no encontrado`: not the user's bill (admins act on any)", body = DetailResponse),
    )
)]
pub async fn invoice_events(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Access(access): Access,
    Path(number): Path<String>,
) -> Result<Json<ApiResponse<EventsResponse>>, ApiError> {
    let events = state.invoices.events(&user, &access, &number).await?;
    let data = EventsResponse {
        status: events.status,
        message: events.message,
        data: events.events.into_iter().map(EventResponse::from).collect(),
    };
    Ok(Json(ApiResponse::ok("Eventos de factura obtenidos exitosamente", data)))
}

/// `{status, message}` as Factus answered.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusMessageResponse {
    pub status: String,
    pub message: String,
}

impl From<StatusMessage> for StatusMessageResponse {
    fn from(answer: StatusMessage) -> Self {
        Self { status: answer.status, message: answer.message }
    }
}

/// Reads the body of `POST /invoices/{number}/send-email` (documented by
/// [`crate::schemas::SendEmailRequest`]).
pub(crate) fn read_send_email(body: &Value) -> Result<(String, Option<String>), Vec<FieldError>> {
    let loc = Loc::body();
    let mut errors = Errors::new();
    let fields = Fields::of(body, &loc, &mut errors);
    let email = fields.and_then(|fields| fields.required_email("email", &mut errors));
    let pdf = fields.and_then(|fields| fields.optional_str("pdf_base_64_encoded", &mut errors));
    match (email, errors.is_empty()) {
        (Some(email), true) => Ok((email, pdf)),
        _ => Err(errors.into_vec()),
    }
}

email_route! {
    kind: DocumentKind::Invoice, prefix: "/invoices", tag: "invoices", summary: "Have Factus e-mail the bill to a customer.",
    number: "Bill number", not_found: "`Documento no encontrado`: not the user's bill (admins act on any)",
    name: send_email,
}

delete_route! {
    kind: DocumentKind::Invoice, prefix: "/invoices", tag: "invoices", noun: "bill",
    deleted: "Factura eliminada exitosamente", failed: "Error al eliminar la factura",
    not_found: "`Documento no encontrado`: not the user's bill (admins act on any)", name: delete_invoice,
}
