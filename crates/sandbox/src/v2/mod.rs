//! Factus API v2: the `/v2/...` routes. A document is a document: v2 bodies are validated into
//! the same stored input as v1 (plus [`model::V2Extras`]), numbered, keyed and stored by the same
//! code (`documents::issue`), and read back in v2's shapes (`render`). Only the body checks
//! (`validate`), the arithmetic (`totals`, net prices plus taxes) and the wire shapes differ.

pub(crate) mod codes;
pub(crate) mod delivery;
pub(crate) mod model;
pub(crate) mod render;
pub(crate) mod totals;
pub(crate) mod validate;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, patch, post};
use http::{HeaderMap, Uri};
use serde_json::{Value, json};
use time::Date;
use time::macros::format_description;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::account::{self, LOGO_MAX_BYTES};
use crate::admin::radian_event;
use crate::app::App;
use crate::catalog::IDENTITY_DOCUMENTS;
use crate::catalog::RADIAN_EVENTS;
use crate::documents::{
    self, CreateFaults, Filters, Format, Issue, Shape, base_url, by_number, creating, deleting, downloading, emailing,
    invalid_response, listing, not_found_number, paging, showing,
};
use crate::http::{json_response, not_found, ok, validation_error};
use crate::model::{DocKind, Document};
use crate::ranges::RangeMeta;
use crate::reference;
use crate::render::COLOMBIA;
use crate::render::file_name;
use crate::validate::{Context, Errors};
use crate::validate::{FieldReader, body_object};

type Shared = State<Arc<App>>;
type Params = Query<HashMap<String, String>>;

/// The v2 routes (the caller adds the bearer check and the version gate).
pub(crate) fn router() -> Router<Arc<App>> {
    let mut router = Router::new();
    for (base, kind) in [
        ("/v2/bills", DocKind::Bill),
        ("/v2/credit-notes", DocKind::CreditNote),
        ("/v2/debit-notes", DocKind::DebitNote),
    ] {
        router = delivered_routes(kind_routes(router, base, kind), base, kind);
    }
    kind_routes(router, "/v2/support-documents", DocKind::SupportDocument)
        .route("/v2/bills/{number}/radian/events", get(documents::bill_events))
        .route("/v2/bills/{number}/radian/events/{event_type}", post(emit_event))
        .route("/v2/bills/destroy/reference/{reference_code}", deleting(DocKind::Bill))
        .route("/v2/credit-notes/reference/{reference_code}", deleting(DocKind::CreditNote))
        .route("/v2/debit-notes/reference/{reference_code}", deleting(DocKind::DebitNote))
        .route("/v2/support-documents/reference/{reference_code}", deleting(DocKind::SupportDocument))
        .route("/v2/documents/{track_id}/download-xml", get(document_xml))
        .route("/v2/numbering-ranges", get(reference::numbering_ranges).post(account::create_range))
        .route("/v2/numbering-ranges/dian", get(account::dian_ranges))
        .route("/v2/numbering-ranges/{id}", get(reference::numbering_range).delete(account::delete_range))
        .route("/v2/numbering-ranges/{id}/current", patch(account::update_range_current))
        .route("/v2/numbering-ranges/{id}/toggle-status", patch(toggle_range))
        .route("/v2/dian/acquirer", get(acquirer))
        .route("/v2/companies", get(reference::company).put(account::update_company))
        // Multipart logos up to the size the handler allows, plus the multipart framing.
        .route("/v2/companies/logo", post(account::upload_logo).layer(DefaultBodyLimit::max(4 * LOGO_MAX_BYTES)))
}

/// The routes every v2 document kind has under `base` (`/v2/bills`): create, list, show, PDF and
/// XML.
fn kind_routes(router: Router<Arc<App>>, base: &str, kind: DocKind) -> Router<Arc<App>> {
    router
        .route(&format!("{base}/validate"), creating(kind, create))
        .route(base, listing(kind, list))
        .route(&format!("{base}/{{number}}"), showing(kind, Shape::V2))
        .route(&format!("{base}/{{number}}/download-pdf"), downloading(kind, Format::Pdf))
        .route(&format!("{base}/{{number}}/download-xml"), downloading(kind, Format::Xml))
}

/// The routes of a kind delivered to a customer (invoices and notes, not support documents):
/// the attached document, the e-mail and its content.
fn delivered_routes(router: Router<Arc<App>>, base: &str, kind: DocKind) -> Router<Arc<App>> {
    router
        .route(&format!("{base}/{{number}}/download-attached-document-xml"), by_number(kind, attached))
        .route(&format!("{base}/{{number}}/send-email"), emailing(kind))
        .route(&format!("{base}/{{number}}/email-content"), by_number(kind, email_content))
}

/// `GET /v2/documents/{trackId}/download-xml`: the XML of any document by its CUFE, CUDE or CUDS.
async fn document_xml(State(app): Shared, Path(track_id): Path<String>) -> Response {
    for kind in [DocKind::Bill, DocKind::CreditNote, DocKind::DebitNote, DocKind::SupportDocument] {
        if let Some(doc) = app.store.all(kind).into_iter().find(|d| d.key == track_id) {
            return documents::download(&app, kind, &doc.number, Format::Xml);
        }
    }
    not_found(format!("No se encontró el documento con código {track_id}"))
}

/// `PATCH /v2/numbering-ranges/{id}/toggle-status`: activates or deactivates a range.
async fn toggle_range(State(app): Shared, Path(id): Path<String>) -> Response {
    match id.parse::<u64>().ok().map(|id| app.store.toggle_range(id, &account::now_iso())) {
        Some(Ok((range, current))) => json_response(
            http::StatusCode::OK,
            &json!({"status": "OK", "message": "Estado del rango de numeración actualizado con éxito",
                    "data": range.show_json(current)}),
        ),
        _ => not_found("No se encontró el rango de numeración"),
    }
}

/// A stored document and its range.
fn stored(app: &App, kind: DocKind, number: &str) -> Option<(Arc<Document>, RangeMeta)> {
    let (doc, _) = app.store.find(kind, number)?;
    let range = app.range(doc.input.numbering_range_id)?;
    Some((doc, range))
}

/// `…/download-attached-document-xml`: `data = {file_name, xml_base_64_encoded}`.
fn attached(app: &App, kind: DocKind, number: &str) -> Response {
    match stored(app, kind, number) {
        Some((doc, range)) => {
            let name = file_name(&doc);
            ok(json!({
                "file_name": format!("ad{}", name.get(2..).unwrap_or_default()),
                "xml_base_64_encoded": STANDARD.encode(delivery::attached_document(&doc, &range, &app.catalog)),
            }))
        }
        None => not_found_number(kind, number),
    }
}

/// `…/email-content`: `data = {subject, attached_document}` (a base64 ZIP of PDF and
/// `AttachedDocument`), for integrators that send the e-mail themselves.
fn email_content(app: &App, kind: DocKind, number: &str) -> Response {
    match stored(app, kind, number) {
        Some((doc, range)) => ok(json!({
            "subject": delivery::email_subject(&doc),
            "attached_document": STANDARD.encode(delivery::email_zip(&doc, &range, &app.catalog)),
        })),
        None => not_found_number(kind, number),
    }
}

/// `POST /v2/bills/{number}/radian/events/{event_type}`: registers a RADIAN event issued by the
/// person in the body and answers the bill's events. Tacit acceptance (`034`) only applies to
/// credit sales; a claim (`031`) needs `claim_concept_code`.
async fn emit_event(State(app): Shared, Path((number, event_type)): Path<(String, String)>, body: Bytes) -> Response {
    let Some((bill, _)) = app.store.find(DocKind::Bill, &number) else {
        return not_found_number(DocKind::Bill, &number);
    };
    let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let root = body_object(&value);
    let mut v = FieldReader::default();
    let event = RADIAN_EVENTS.iter().find(|(code, _)| *code == event_type).copied();
    match event {
        None => v.invalid("event_type"),
        Some(("034", _)) if bill.input.payment_form != "2" => v
            .errors
            .add("event_type", "La aceptación tácita solo aplica a facturas con forma de pago a crédito.".into()),
        Some(_) => {}
    }
    v.code(root, "", "identification_document_code", true, &codes::IDENTITY_DOCUMENTS);
    v.string(root, "", "identification", true);
    v.string(root, "", "first_name", true);
    v.string(root, "", "last_name", true);
    v.string(root, "", "job_title", false);
    v.string(root, "", "organization_department", false);
    v.code(root, "", "claim_concept_code", event_type == "031", &CLAIM_CONCEPTS);
    let Some(event) = event.filter(|_| v.errors.is_empty()) else {
        return validation_error(v.errors.into_json());
    };
    let now = time::OffsetDateTime::now_utc();
    if app.store.add_event(&number, |index| radian_event(&number, event, index, now)).is_none() {
        return not_found_number(DocKind::Bill, &number);
    }
    match app.store.find(DocKind::Bill, &number) {
        Some((bill, _)) => ok(serde_json::to_value(&bill.events).unwrap_or_default()),
        None => not_found_number(DocKind::Bill, &number),
    }
}

/// Claim concepts of a `031` event.
const CLAIM_CONCEPTS: [(&str, &str); 4] = [
    ("01", "Documento con inconsistencias"),
    ("02", "Mercancía no entregada totalmente"),
    ("03", "Mercancía no entregada parcialmente"),
    ("04", "Servicio no prestado"),
];

/// Validates a v2 body and hands it to the shared issuing path.
fn create(app: &App, kind: DocKind, faults: CreateFaults, body: &[u8]) -> Response {
    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    // Notes name the invoice they correct by number in v2.
    let referenced = match kind {
        DocKind::Bill | DocKind::SupportDocument => None,
        DocKind::CreditNote | DocKind::DebitNote => value
            .get("bill_number")
            .and_then(Value::as_str)
            .and_then(|number| app.store.find(DocKind::Bill, number))
            .map(|(bill, _)| bill),
    };
    let ranges = app.ranges();
    let ctx = Context::new(kind, &ranges, &app.catalog, referenced.as_deref());
    let accepted = match validate::document(&value, &ctx, referenced.as_ref().map(|b| b.number.as_str())) {
        Ok(accepted) => accepted,
        Err(invalid) => return invalid_response(invalid),
    };
    let mut input = accepted.input;
    if let Some(note) = input.credit_note.as_mut() {
        note.bill_id = referenced.as_ref().map(|b| b.id);
    }
    let issue = Issue { kind, input, totals: accepted.totals, v2: Some(Box::new(accepted.extras)), referenced, faults };
    documents::issue(app, issue, Shape::V2)
}

/// `filter[created_at][start_date]` / `[end_date]` (`YYYY-MM-DD`, inclusive, Colombian dates).
fn created_between(query: &HashMap<String, String>, doc: &Document) -> bool {
    let date = |key: &str| {
        query
            .get(&format!("filter[created_at][{key}]"))
            .and_then(|d| Date::parse(d, format_description!("[year]-[month]-[day]")).ok())
    };
    let created = doc.created_at.to_offset(COLOMBIA).date();
    date("start_date").is_none_or(|start| created >= start) && date("end_date").is_none_or(|end| created <= end)
}

fn list(app: &App, kind: DocKind, query: &HashMap<String, String>, headers: &HeaderMap, uri: &Uri) -> Response {
    let filters = Filters::from(query);
    let (page, per_page) = paging(query);
    let all = app.store.all(kind);
    let matching: Vec<&Arc<Document>> =
        all.iter().filter(|d| filters.accepts(d) && created_between(query, d)).collect();
    let items: Vec<Value> = matching
        .iter()
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .map(|doc| render::list_item(doc))
        .collect();
    ok(json!({
        "data": items,
        "pagination": crate::render::pagination(matching.len(), per_page, page, &base_url(headers, uri)),
    }))
}

/// `GET /v2/dian/acquirer?identification_document_code=&identification_number=`.
async fn acquirer(State(app): Shared, Query(q): Params) -> Response {
    let mut errors = Errors::default();
    let code = q.get("identification_document_code").filter(|v| !v.is_empty());
    let number = q.get("identification_number").filter(|v| !v.is_empty());
    let document = match code {
        None => {
            errors.add("identification_document_code", "El campo identification document code es obligatorio.".into());
            None
        }
        Some(code) => match codes::IDENTITY_DOCUMENTS.iter().find(|(c, _)| c == code) {
            Some((code, name)) => {
                let id = IDENTITY_DOCUMENTS.iter().find(|(_, c, _)| c == code).map_or(0, |(id, _, _)| *id);
                Some((id, *code, *name))
            }
            None => {
                errors.add("identification_document_code", "El campo identification document code es inválido.".into());
                None
            }
        },
    };
    if number.is_none() {
        errors.add("identification_number", "El campo identification number es obligatorio.".into());
    }
    match (document, number) {
        (Some(document), Some(number)) => reference::acquirer_lookup(&app, document, number),
        _ => validation_error(errors.into_json()),
    }
}
