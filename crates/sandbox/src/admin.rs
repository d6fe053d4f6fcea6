//! `/__sandbox/*`: control and inspection endpoints for tests and benchmarks (no token needed;
//! `admin_endpoints: false` / `--disable-admin` removes them).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{delete, get, post};
use http::StatusCode;
use serde_json::{Value, json};

use crate::app::App;
use crate::catalog::RADIAN_EVENTS;
use crate::faults::FaultSpec;
use crate::http::{json_response, not_found};
use crate::model::{DocKind, RadianEvent};
use crate::render::{COLOMBIA, issue_date};
use crate::store::lock;
use crate::version;

type Shared = State<Arc<App>>;

pub(crate) fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/__sandbox/health", get(health))
        .route("/__sandbox/faults", post(add_fault).get(list_faults).delete(clear_faults))
        .route("/__sandbox/faults/{id}", delete(remove_fault))
        .route("/__sandbox/bills", get(bills))
        .route("/__sandbox/bills/{number}/events", post(add_event))
        .route("/__sandbox/credit-notes", get(credit_notes))
        .route("/__sandbox/support-documents", get(support_documents))
        .route("/__sandbox/debit-notes", get(debit_notes))
        .route("/__sandbox/blockers", get(blockers))
        .route("/__sandbox/requests", get(requests).delete(clear_requests))
        .route("/__sandbox/requests/log", get(request_log))
        .route("/__sandbox/api-version", get(version::show).put(version::change).post(version::change))
        .route("/__sandbox/reset", post(reset))
}

fn unprocessable(message: impl Into<String>) -> Response {
    json_response(StatusCode::UNPROCESSABLE_ENTITY, &json!({"message": message.into()}))
}

async fn health() -> Response {
    json_response(StatusCode::OK, &json!({"status": "ok"}))
}

async fn add_fault(State(app): Shared, body: Bytes) -> Response {
    let spec: FaultSpec = match serde_json::from_slice(&body) {
        Ok(spec) => spec,
        Err(e) => return unprocessable(format!("invalid fault: {e}")),
    };
    if let Err(e) = spec.check() {
        return unprocessable(e);
    }
    let mut faults = lock(&app.store.faults);
    let rule = faults.add(spec);
    app.store.faults_present.store(true, Ordering::Relaxed);
    drop(faults);
    json_response(StatusCode::CREATED, &serde_json::to_value(rule).unwrap_or_default())
}

async fn list_faults(State(app): Shared) -> Response {
    let rules = lock(&app.store.faults).list();
    json_response(StatusCode::OK, &serde_json::to_value(rules).unwrap_or_default())
}

async fn clear_faults(State(app): Shared) -> Response {
    let mut faults = lock(&app.store.faults);
    let cleared = faults.list().len();
    faults.clear();
    app.store.faults_present.store(false, Ordering::Relaxed);
    drop(faults);
    json_response(StatusCode::OK, &json!({"cleared": cleared}))
}

async fn remove_fault(State(app): Shared, Path(id): Path<u64>) -> Response {
    let mut faults = lock(&app.store.faults);
    let removed = faults.remove(id);
    app.store.faults_present.store(!faults.is_empty(), Ordering::Relaxed);
    drop(faults);
    if removed {
        json_response(StatusCode::OK, &json!({"deleted": id}))
    } else {
        not_found(format!("No fault with id {id}"))
    }
}

/// The documents of a family, newest first, with the key DIAN gives that family (`cufe` of a
/// bill, `cude` of a note, `cuds` of a support document) and, for notes, the bill they amend.
fn documents(app: &App, kind: DocKind, key: &str) -> Response {
    let mut docs = app.store.all(kind);
    docs.reverse();
    let list: Vec<Value> = docs
        .iter()
        .map(|d| {
            let mut document = json!({"id": d.id, "number": d.number, "reference_code": d.reference_code,
                                      key: d.key, "status": d.status});
            if matches!(kind, DocKind::CreditNote | DocKind::DebitNote) {
                document["bill_id"] = json!(d.bill.as_ref().map(|b| b.id));
            }
            document
        })
        .collect();
    json_response(StatusCode::OK, &Value::Array(list))
}

async fn bills(State(app): Shared) -> Response {
    documents(&app, DocKind::Bill, "cufe")
}

async fn credit_notes(State(app): Shared) -> Response {
    documents(&app, DocKind::CreditNote, "cude")
}

async fn debit_notes(State(app): Shared) -> Response {
    documents(&app, DocKind::DebitNote, "cude")
}

async fn support_documents(State(app): Shared) -> Response {
    documents(&app, DocKind::SupportDocument, "cuds")
}

/// Per family, the document that makes new creates answer 409 (`null` when none).
async fn blockers(State(app): Shared) -> Response {
    let mut out = serde_json::Map::new();
    let families = [
        ("bills", DocKind::Bill),
        ("credit_notes", DocKind::CreditNote),
        ("support_documents", DocKind::SupportDocument),
        ("debit_notes", DocKind::DebitNote),
    ];
    for (name, kind) in families {
        let blocker = app.store.blocker(kind, app.config.pending_blocks_new).map(|d| {
            json!({"id": d.id, "number": d.number, "reference_code": d.reference_code,
                   "rejection": d.rejection.iter().map(|(rule, text)| json!({"rule": rule, "text": text}))
                       .collect::<Vec<_>>()})
        });
        out.insert(name.into(), blocker.unwrap_or(Value::Null));
    }
    json_response(StatusCode::OK, &Value::Object(out))
}

async fn requests(State(app): Shared) -> Response {
    let counts = lock(&app.store.requests).clone();
    let mut sorted: Vec<(String, u64)> = counts.into_iter().collect();
    sorted.sort();
    let map: serde_json::Map<String, Value> = sorted.into_iter().map(|(k, v)| (k, v.into())).collect();
    json_response(StatusCode::OK, &Value::Object(map))
}

/// Every answered request, oldest first, with its status (for counting 403s and the like).
async fn request_log(State(app): Shared) -> Response {
    let log = lock(&app.store.request_log).to_json();
    json_response(StatusCode::OK, &log)
}

async fn clear_requests(State(app): Shared) -> Response {
    lock(&app.store.requests).clear();
    lock(&app.store.request_log).clear();
    json_response(StatusCode::OK, &json!({"cleared": true}))
}

/// Forgets documents, request counts and log, and faults, and puts the default ranges and company
/// profile back (tokens and the API version stay).
async fn reset(State(app): Shared) -> Response {
    app.store.reset_documents(crate::ranges::default_ranges());
    lock(&app.store.requests).clear();
    lock(&app.store.request_log).clear();
    lock(&app.store.faults).clear();
    app.store.faults_present.store(false, Ordering::Relaxed);
    json_response(StatusCode::OK, &json!({"reset": true}))
}

/// Registers a RADIAN event on a bill: body `{"event_code": "030"}` (030–034).
async fn add_event(State(app): Shared, Path(number): Path<String>, body: Bytes) -> Response {
    let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let code = value.get("event_code").and_then(Value::as_str).unwrap_or("030");
    let Some((code, name)) = RADIAN_EVENTS.iter().find(|(c, _)| *c == code).copied() else {
        return unprocessable("event_code must be one of 030, 031, 032, 033, 034");
    };
    let now = time::OffsetDateTime::now_utc();
    let event = app.store.add_event(&number, |index| radian_event(&number, (code, name), index, now));
    match event {
        Some(event) => json_response(StatusCode::CREATED, &serde_json::to_value(event).unwrap_or_default()),
        None => not_found(format!("No se encontró la factura con número {number}")),
    }
}

/// The `index`-th RADIAN event `(code, name)` of a bill, registered `now` (number `AP<n>`, a CUDE).
pub(crate) fn radian_event(
    bill_number: &str,
    (code, name): (&str, &str),
    index: usize,
    now: time::OffsetDateTime,
) -> RadianEvent {
    let cude_seed = format!("{bill_number}{code}{index}{}", now.unix_timestamp_nanos());
    RadianEvent {
        number: format!("AP{}", index + 1),
        cude: hex::encode(<sha2::Sha384 as sha2::Digest>::digest(cude_seed.as_bytes())),
        event_code: code.to_owned(),
        event_name: name.to_owned(),
        effective_date: issue_date(now),
        effective_time: now
            .to_offset(COLOMBIA)
            .time()
            .format(time::macros::format_description!("[hour]:[minute]:[second]"))
            .unwrap_or_default(),
    }
}
