//! Credit notes, debit notes and support documents: create (exactly once, through the same
//! ledger as invoices), show, PDF, XML, e-mail and delete. Every handler is the kind's entry into
//! the one path shared with invoices (`routes::invoices`' `*_document` functions): the kind is
//! data. Factus e-mails no support documents, so they have no send-email route.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use factus_application::document::Document;
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
    InvoiceResponse, create_document, delete_route, download_routes, email_route, show_document,
};
use crate::state::AppState;

// The three kinds have the same routes, whose handlers only hand the kind to the path shared with
// invoices and whose `#[utoipa::path]` annotations differ only in literals (path, tag, texts, the
// create's body and rules). This macro writes one kind's whole set from those literals (with
// `routes::invoices`' macros for the routes invoices share), so that the kinds cannot drift apart
// and a reader sees, per kind, exactly what differs. utoipa reads `summary`, `path` and response
// descriptions as expressions (`concat!`), but not a `#[doc = concat!(…)]`: hence the explicit
// `summary`, the text a doc comment would give. `email` is optional: Factus e-mails no support
// documents.
macro_rules! document_routes {
    (
        kind: $kind:expr, prefix: $prefix:literal, tag: $tag:literal, noun: $noun:literal,
        create: $create:ident, request: $request:ident, created: $created:literal, rules: $rules:literal,
        parse: $parse:expr,
        show: $show:ident, example: $example:literal, shown: $shown:literal, show_failed: $show_failed:literal,
        pdf: $pdf:ident, xml: $xml:ident,
        $(email: $email:ident,)?
        delete: $delete:ident, deleted: $deleted:literal, delete_failed: $delete_failed:literal $(,)?
    ) => {
        #[doc = concat!("Create a ", $noun, " at Factus, exactly once (the invoices' ledger, `Idempotency-Key` and\nreference replay).")]
        #[utoipa::path(
            post, path = $prefix, tag = $tag, security(("OAuth2PasswordBearer" = [])),
            summary = concat!("Create a ", $noun, " at Factus, exactly once (the invoices' ledger, `Idempotency-Key` and\nreference replay)."),
            params(crate::schemas::CreateInvoiceHeaders),
            request_body = crate::schemas::$request,
            responses(
                (status = 200, description = concat!("`", $created, "` (header `Idempotent-Replayed: true` on a replay)"), body = inline(ApiResponse<InvoiceResponse>)),
                (status = 202, description = "Factus allowed no more requests (its 80 a minute) within `FACTUS_QUEUE_WAIT_SECS`: the document is queued and will be sent in arrival order; `Location` is its ledger entry (`GET /ledger/{id}`), and a webhook tells the outcome. Only for creates on the server's own Factus session (no `X-Factus-Token`)", body = inline(ApiResponse<crate::routes::ledger::LedgerEntryResponse>)),
                (status = 400, description = $rules, body = BadRequestResponse),
                (status = 409, description = "A request with this Idempotency-Key (or reference) is still being processed, or a document of the kind is stuck pending at Factus", body = DetailResponse),
                (status = 422, description = "Malformed body, missing or mistyped fields, bounds, missing `X-Factus-Token`, Idempotency-Key reused with another body", body = ValidationErrorResponse),
            )
        )]
        pub async fn $create(
            State(state): State<AppState>,
            caller: Result<Caller, ApiError>,
            MaybeAccess(access): MaybeAccess,
            headers: HeaderMap,
            JsonBody(body): JsonBody,
        ) -> Result<Response, ApiError> {
            create_document(&state, caller, access, &headers, &body, $kind, $parse).await
        }

        #[doc = concat!("Show a ", $noun, " as Factus has it (Factus' document is passed through in `data`).")]
        #[utoipa::path(
            get, path = concat!($prefix, "/{number}"), tag = $tag, security(("OAuth2PasswordBearer" = [])),
            summary = concat!("Show a ", $noun, " as Factus has it (Factus' document is passed through in `data`)."),
            params(("number" = String, Path, description = concat!("Document number with prefix, e.g. ", $example)),
                   crate::schemas::FactusTokenHeader),
            responses(
                (status = 200, description = concat!("`", $shown, "`; `data` is Factus' `{status, message, data}`"), body = inline(ApiResponse<Object>)),
                (status = 400, description = concat!("`", $show_failed, ": …`"), body = DetailResponse),
                (status = 404, description = "`Documento no encontrado`: not the user's document (admins act on any)", body = DetailResponse),
            )
        )]
        pub async fn $show(
            State(state): State<AppState>,
            CurrentUser(user): CurrentUser,
            Access(access): Access,
            Path(number): Path<String>,
        ) -> Result<Json<ApiResponse<Value>>, ApiError> {
            show_document(&state, &user, &access, $kind, &number).await
        }

        download_routes! {
            kind: $kind, prefix: $prefix, tag: $tag, noun: $noun, number: "Document number",
            not_found: "`Documento no encontrado`", pdf: $pdf, xml: $xml,
        }

        $(email_route! {
            kind: $kind, prefix: $prefix, tag: $tag, summary: concat!("Have Factus e-mail the ", $noun, "."),
            number: "Document number", not_found: "`Documento no encontrado`", name: $email,
        })?

        delete_route! {
            kind: $kind, prefix: $prefix, tag: $tag, noun: $noun, deleted: $deleted, failed: $delete_failed,
            not_found: "`Documento no encontrado`", name: $delete,
        }
    };
}

document_routes! {
    kind: DocumentKind::CreditNote, prefix: "/credit-notes", tag: "credit-notes", noun: "credit note",
    create: create_credit_note, request: CreditNoteRequest, created: "Nota crédito creada exitosamente",
    rules: "The note breaks a rule (a list): at least one item; `bill_number` with customization 20, `billing_period` and `customer` with 22; the referenced invoice unknown to the ledger, not the caller's or not validated; the credited amounts above the invoice's total; an annulment (concept 2) that is not exactly the remaining amount. Or Factus refused it (`Error al crear la nota crédito: …`), or the reference_code was already used",
    parse: |body| parse_note(NoteKind::Credit, body).map(Document::Note),
    show: get_credit_note, example: "NC1", shown: "Nota crédito obtenida exitosamente",
    show_failed: "Error al obtener la nota crédito",
    pdf: credit_note_pdf, xml: credit_note_xml,
    email: send_credit_note_email,
    delete: delete_credit_note, deleted: "Nota crédito eliminada exitosamente",
    delete_failed: "Error al eliminar la nota crédito",
}

document_routes! {
    kind: DocumentKind::DebitNote, prefix: "/debit-notes", tag: "debit-notes", noun: "debit note",
    create: create_debit_note, request: DebitNoteRequest, created: "Nota débito creada exitosamente",
    rules: "The note breaks a rule (a list): at least one item; `bill_number` with customization 30, `billing_period` and `customer` with 32; the referenced invoice unknown to the ledger, not the caller's or not validated; a Factus v1 account (debit notes need v2). Or Factus refused it (`Error al crear la nota débito: …`), or the reference_code was already used",
    parse: |body| parse_note(NoteKind::Debit, body).map(Document::Note),
    show: get_debit_note, example: "ND1", shown: "Nota débito obtenida exitosamente",
    show_failed: "Error al obtener la nota débito",
    pdf: debit_note_pdf, xml: debit_note_xml,
    email: send_debit_note_email,
    delete: delete_debit_note, deleted: "Nota débito eliminada exitosamente",
    delete_failed: "Error al eliminar la nota débito",
}

document_routes! {
    kind: DocumentKind::SupportDocument, prefix: "/support-documents", tag: "support-documents",
    noun: "support document",
    create: create_support_document, request: SupportDocumentRequest,
    created: "Documento soporte creado exitosamente",
    rules: "The document breaks a rule (a list): at least one item; a provider in Colombia needs `municipality_id`. Or Factus refused it (`Error al crear el documento soporte: …`), or the reference_code was already used",
    parse: |body| parse_support_document(body).map(Document::SupportDocument),
    show: get_support_document, example: "SEDS984000001", shown: "Documento soporte obtenido exitosamente",
    show_failed: "Error al obtener el documento soporte",
    pdf: support_document_pdf, xml: support_document_xml,
    delete: delete_support_document, deleted: "Documento soporte eliminado exitosamente",
    delete_failed: "Error al eliminar el documento soporte",
}
