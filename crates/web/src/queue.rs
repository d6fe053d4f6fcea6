//! What a queued create keeps, and how the queue worker reads it back: the request body as the
//! client sent it, with the generation (`/api/v1` or the later `/api`) that reads it and, for the
//! later one, the numbering range its prefix was resolved to when the request arrived. The worker
//! then runs the very parser the request ran, so the document it sends is the one the client was
//! answered 202 for.

use axum::Json;
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use factus_application::document::Document;
use factus_application::ledger::{DocumentKind, LedgerEntry, QueuedRequest, QueuedRequestReader};
use factus_domain::invoice::NoteKind;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::envelope::ApiResponse;
use crate::invoices::request::{parse_invoice, parse_note, parse_support_document};
use crate::later::invoice::read_invoice;
use crate::routes::ledger::LedgerEntryResponse;

/// Where the ledger entries are read (`GET {prefix}/ledger/{id}`): a 202's `Location`.
#[derive(Debug, Clone)]
pub struct LedgerLocation {
    /// The prefix of the `/api/v1` generation, where the ledger routes live.
    pub api_prefix: String,
}

impl LedgerLocation {
    fn of(&self, entry: &LedgerEntry) -> String {
        format!("{}/ledger/{}", self.api_prefix.trim_end_matches('/'), entry.id)
    }
}

/// The generation whose parser reads a kept body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Generation {
    ApiV1,
    Later,
}

/// The stored form; `version` lets a later release read what an earlier one queued.
#[derive(Debug, Serialize, Deserialize)]
struct Kept {
    version: u8,
    generation: Generation,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    numbering_range_id: Option<i64>,
    body: Value,
}

const VERSION: u8 = 1;

/// What the queue keeps of a create with `body`, read by `generation`'s parser.
#[must_use]
pub fn keep(generation: Generation, numbering_range_id: Option<i64>, body: &Value) -> QueuedRequest {
    let kept = Kept { version: VERSION, generation, numbering_range_id, body: body.clone() };
    QueuedRequest::new(serde_json::to_string(&kept).unwrap_or_else(|_| String::from("null")))
}

/// Reads kept requests back with the same parsers the routes use.
#[derive(Debug, Clone, Copy, Default)]
pub struct KeptRequests;

impl QueuedRequestReader for KeptRequests {
    fn read(&self, kind: DocumentKind, request: &QueuedRequest) -> Result<Document, String> {
        let kept: Kept =
            serde_json::from_str(request.as_str()).map_err(|error| format!("not a kept request: {error}"))?;
        if kept.version != VERSION {
            return Err(format!("kept by version {} of the format, this release reads {VERSION}", kept.version));
        }
        let parsed = match (kept.generation, kind) {
            (Generation::ApiV1, DocumentKind::Invoice) => parse_invoice(&kept.body).map(Document::Invoice),
            (Generation::ApiV1, DocumentKind::CreditNote) => {
                parse_note(NoteKind::Credit, &kept.body).map(Document::Note)
            }
            (Generation::ApiV1, DocumentKind::DebitNote) => parse_note(NoteKind::Debit, &kept.body).map(Document::Note),
            (Generation::ApiV1, DocumentKind::SupportDocument) => {
                parse_support_document(&kept.body).map(Document::SupportDocument)
            }
            (Generation::Later, DocumentKind::Invoice) => read_invoice(&kept.body).map(|later| {
                let invoice = later.invoice;
                Document::Invoice(match kept.numbering_range_id {
                    Some(id) => invoice.with_numbering_range_id(id),
                    None => invoice,
                })
            }),
            (Generation::Later, other) => return Err(format!("the later generation has no {other} creates")),
        };
        parsed.map_err(|error| format!("the kept body no longer passes the checks: {error:?}"))
    }
}

/// 202 Accepted for a queued create: the ledger entry, and where to follow it.
pub(crate) fn accepted(location: &LedgerLocation, entry: LedgerEntry, enveloped: bool) -> Response {
    metrics::counter!("ledger_queued_answers_total").increment(1);
    let location = HeaderValue::from_str(&location.of(&entry)).ok();
    let entry = LedgerEntryResponse::from(entry);
    let body = if enveloped {
        Json(ApiResponse::ok(QUEUED_MESSAGE, entry)).into_response()
    } else {
        Json(entry).into_response()
    };
    let mut response = (StatusCode::ACCEPTED, body).into_response();
    if let Some(location) = location {
        response.headers_mut().insert(LOCATION, location);
    }
    response
}

/// The message of a 202 in the `/api/v1` envelope.
pub const QUEUED_MESSAGE: &str =
    "Documento en cola: Factus no admite más solicitudes por ahora; se enviará en orden de llegada";
