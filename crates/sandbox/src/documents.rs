//! Bill and credit-note routes. Both families share the handlers below, parameterised by
//! [`DocKind`]; only paths and a few words differ. The per-kind routes of both versions are made by
//! the factories [`creating`], [`listing`], [`showing`], [`downloading`], [`by_number`],
//! [`emailing`] and [`deleting`], each a handler closed over its kind.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::response::Response;
use axum::routing::{self, MethodRouter};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, StatusCode, Uri};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::app::{App, PendingFault, RejectFault};
use crate::catalog::fold;
use crate::cufe::{self, Chain, TEST_ENVIRONMENT};
use crate::http::{
    conflict, json_response, not_found, ok, pending_conflict, rejected, status_message, validation_error,
};
use crate::model::{BillRef, DocKind, Document, DocumentInput};
use crate::ranges::{Company, SOFTWARE_PIN};
use crate::render::{self, file_name, issue_date, issue_time};
use crate::store::{CreateError, Created, DeleteError, Draft};
use crate::totals::{self, Totals};
use crate::v2::{self, model::V2Extras};
use crate::validate::{self, Context, Errors, Invalid, is_email};
use crate::{pdf, support, xml};

type Shared = State<Arc<App>>;
pub(crate) type Pending = Option<Extension<PendingFault>>;
pub(crate) type Reject = Option<Extension<RejectFault>>;

/// What the fault rules decided for a create.
#[derive(Default)]
pub(crate) struct CreateFaults {
    /// Store with status 0, as when DIAN has not answered (`pending`).
    pub pending: bool,
    /// DIAN rejects the document with this rule (`reject`).
    pub reject: Option<RejectFault>,
}

impl CreateFaults {
    pub(crate) fn from(pending: Pending, reject: Reject) -> Self {
        Self { pending: pending.is_some(), reject: reject.map(|Extension(r)| r) }
    }
}

type Params = Query<HashMap<String, String>>;
/// One path's handlers.
pub(crate) type Route = MethodRouter<Arc<App>>;

/// A create route of `kind` (`POST …/validate`): `create` (v1's or v2's) with the request's fault
/// rules. This and the factories below write each per-kind route once, for every kind and both
/// versions.
pub(crate) fn creating(kind: DocKind, create: fn(&App, DocKind, CreateFaults, &[u8]) -> Response) -> Route {
    routing::post(move |State(app): Shared, pending: Pending, reject: Reject, body: Bytes| async move {
        create(&app, kind, CreateFaults::from(pending, reject), &body)
    })
}

/// A listing route of `kind` (`GET`, paged and filtered by the query), answered by `list`.
pub(crate) fn listing(
    kind: DocKind,
    list: fn(&App, DocKind, &HashMap<String, String>, &HeaderMap, &Uri) -> Response,
) -> Route {
    routing::get(move |State(app): Shared, Query(query): Params, headers: HeaderMap, uri: Uri| async move {
        list(&app, kind, &query, &headers, &uri)
    })
}

/// The route that shows one document of `kind` by its number, in `shape`.
pub(crate) fn showing(kind: DocKind, shape: Shape) -> Route {
    routing::get(move |State(app): Shared, Path(number): Path<String>| async move { show(&app, kind, &number, shape) })
}

/// The route that downloads one document of `kind` by its number, as `format`.
pub(crate) fn downloading(kind: DocKind, format: Format) -> Route {
    routing::get(
        move |State(app): Shared, Path(number): Path<String>| async move { download(&app, kind, &number, format) },
    )
}

/// A route of one document of `kind` by its number, answered by `answer` (v2's attached document
/// and e-mail content).
pub(crate) fn by_number(kind: DocKind, answer: fn(&App, DocKind, &str) -> Response) -> Route {
    routing::get(move |State(app): Shared, Path(number): Path<String>| async move { answer(&app, kind, &number) })
}

/// The route that e-mails one document of `kind` by its number.
pub(crate) fn emailing(kind: DocKind) -> Route {
    routing::post(move |State(app): Shared, Path(number): Path<String>, body: Bytes| async move {
        send_email(&app, kind, &number, &body)
    })
}

/// The route that deletes the pending document of `kind` with a reference code.
pub(crate) fn deleting(kind: DocKind) -> Route {
    routing::delete(
        move |State(app): Shared, Path(reference): Path<String>| async move { delete(&app, kind, &reference) },
    )
}

pub(crate) async fn bill_events(State(app): Shared, Path(number): Path<String>) -> Response {
    match app.store.find(DocKind::Bill, &number) {
        Some((doc, _)) => ok(serde_json::to_value(&doc.events).unwrap_or_default()),
        None => not_found_number(DocKind::Bill, &number),
    }
}

pub(crate) fn not_found_number(kind: DocKind, number: &str) -> Response {
    not_found(format!("No se encontró {} con número {number}", kind.the_noun()))
}

/// `data` of a document as create and show answer it.
pub(crate) fn document_json(app: &App, doc: &Document, notes: &[(u64, String)], shape: Shape) -> Value {
    let Some(range) = app.range(doc.input.numbering_range_id) else {
        return Value::Null;
    };
    match (shape, doc.kind) {
        (Shape::V2, _) => {
            let debit_notes: Vec<(u64, String)> = match doc.kind {
                DocKind::Bill => app
                    .store
                    .all(DocKind::DebitNote)
                    .iter()
                    .rev()
                    .filter(|n| n.bill.as_ref().is_some_and(|b| b.id == doc.id))
                    .map(|n| (n.id, n.number.clone()))
                    .collect(),
                _ => Vec::new(),
            };
            v2::render::document(doc, (notes, &debit_notes), &range, &app.catalog)
        }
        (Shape::V1, DocKind::Bill) => render::bill(doc, notes, &range, &app.catalog),
        (Shape::V1, DocKind::CreditNote) => render::credit_note(doc, &range, &app.catalog),
        (Shape::V1, DocKind::SupportDocument) => support::render(doc, &range, &app.catalog),
        // v1 has no debit notes: they are only ever shown through v2.
        (Shape::V1, DocKind::DebitNote) => v2::render::document(doc, (notes, &[]), &range, &app.catalog),
    }
}

fn created_response(app: &App, doc: &Document, notes: &[(u64, String)], shape: Shape) -> Response {
    let message = if doc.status == 1 {
        format!("Documento con el código de referencia {} registrado y validado con éxito", doc.reference_code)
    } else {
        format!(
            "Documento con el código de referencia {} registrado; pendiente de validación por la DIAN",
            doc.reference_code
        )
    };
    json_response(
        StatusCode::CREATED,
        &json!({"status": "Created", "message": message, "data": document_json(app, doc, notes, shape)}),
    )
}

pub(crate) fn create(app: &App, kind: DocKind, faults: CreateFaults, body: &[u8]) -> Response {
    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let referenced = match kind {
        DocKind::CreditNote => value
            .get("bill_id")
            .and_then(|v| v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok())))
            .and_then(|id| app.store.bill_by_id(id)),
        DocKind::Bill | DocKind::SupportDocument | DocKind::DebitNote => None,
    };
    let ranges = app.ranges();
    let ctx = Context::new(kind, &ranges, &app.catalog, referenced.as_deref());
    let validated = match kind {
        DocKind::SupportDocument => support::validate(&value, &ranges, &app.catalog),
        DocKind::Bill | DocKind::CreditNote | DocKind::DebitNote => validate::document(&value, &ctx),
    };
    let input = match validated {
        Ok(input) => input,
        Err(invalid) => return invalid_response(invalid),
    };
    let totals = totals::compute(&input.items, &input.allowance_charges);
    issue(app, Issue { kind, input, totals, v2: None, referenced, faults }, Shape::V1)
}

/// The answer to a body that failed validation.
pub(crate) fn invalid_response(invalid: Invalid) -> Response {
    match invalid {
        Invalid::Fields(errors) => validation_error(errors.into_json()),
    }
}

/// Which version's wire shapes a response uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    V1,
    V2,
}

/// A validated create request of either version, ready to be checked against DIAN's rules,
/// numbered and stored.
pub(crate) struct Issue {
    pub kind: DocKind,
    pub input: DocumentInput,
    pub totals: Totals,
    pub v2: Option<Box<V2Extras>>,
    /// The bill a note corrects.
    pub referenced: Option<Arc<Document>>,
    pub faults: CreateFaults,
}

/// Applies DIAN's rules (a rejection is stored pending and blocks its family), numbers and stores
/// a validated document: CUFE/CUDE, reference reuse and pending rules are the same for both
/// versions. Answers in `shape`.
pub(crate) fn issue(app: &App, issue: Issue, shape: Shape) -> Response {
    let Issue { kind, input, totals, v2, referenced, faults } = issue;
    let mut rejection = validate::dian_rules(kind, &input, app.config.verify_nit_dv);
    if rejection.is_empty()
        && let Some(fault) = faults.reject
    {
        rejection.push(fault.0);
    }
    let Some(range) = app.range(input.numbering_range_id) else {
        return validation_error(range_errors("El campo id rango de numeración es inválido."));
    };
    let mut hasher = Sha256::new();
    hasher.update(serde_json::to_vec(&input).unwrap_or_default());
    hasher.update(serde_json::to_vec(&v2).unwrap_or_default());
    let fingerprint = hex::encode(hasher.finalize());
    let reference = input.reference_code.clone();
    let customer_identification = input.customer.identification.clone();
    let (gross, iva, inc, ica, total) =
        (totals.gross_value, totals.tax_of("01"), totals.tax_of("04"), totals.tax_of("03"), totals.total);
    let key_source = match kind {
        DocKind::Bill => range.technical_key.clone().unwrap_or_else(|| SOFTWARE_PIN.to_owned()),
        DocKind::CreditNote | DocKind::SupportDocument | DocKind::DebitNote => SOFTWARE_PIN.to_owned(),
    };
    let draft = Draft {
        kind,
        input,
        totals,
        fingerprint,
        bill: referenced.map(|b| BillRef {
            id: b.id,
            number: b.number.clone(),
            cufe: b.key.clone(),
            issued_at: b.created_at,
        }),
        pending: faults.pending,
        rejection,
        now: time::OffsetDateTime::now_utc(),
        v2,
    };
    let outcome = app.store.create(
        draft,
        &range,
        app.config.duplicate_reference,
        app.config.pending_blocks_new,
        |number, now| {
            cufe::compute(&Chain {
                number,
                issue_date: &issue_date(now),
                issue_time: &issue_time(now),
                gross_value: gross,
                iva,
                inc,
                ica,
                total,
                supplier_nit: Company::NIT,
                customer_identification: &customer_identification,
                key: &key_source,
                environment: TEST_ENVIRONMENT,
            })
        },
    );
    match outcome {
        Ok(Created::New(doc) | Created::Resumed(doc) | Created::Existing(doc)) => {
            let notes = match kind {
                DocKind::Bill => app.store.find(kind, &doc.number).map(|(_, notes)| notes).unwrap_or_default(),
                DocKind::CreditNote | DocKind::SupportDocument | DocKind::DebitNote => Vec::new(),
            };
            created_response(app, &doc, &notes, shape)
        }
        Err(CreateError::DuplicateReference) => {
            conflict(format!("Ya existe {} con el código de referencia {reference}", kind.a_noun()))
        }
        Ok(Created::Rejected(doc)) => rejected(&doc),
        Err(CreateError::PendingDiffers | CreateError::PendingBlocks(_)) => pending_conflict(kind),
        Err(CreateError::RangeExhausted) => {
            validation_error(range_errors("El rango de numeración no tiene números disponibles."))
        }
    }
}

fn range_errors(message: &str) -> Value {
    let mut errors = Errors::default();
    errors.add("numbering_range_id", message.to_owned());
    errors.into_json()
}

pub(crate) fn show(app: &App, kind: DocKind, number: &str, shape: Shape) -> Response {
    match app.store.find(kind, number) {
        Some((doc, notes)) => ok(document_json(app, &doc, &notes, shape)),
        None => not_found_number(kind, number),
    }
}

#[derive(Clone, Copy)]
pub(crate) enum Format {
    Pdf,
    Xml,
}

pub(crate) fn download(app: &App, kind: DocKind, number: &str, format: Format) -> Response {
    let Some((doc, _)) = app.store.find(kind, number) else {
        return not_found_number(kind, number);
    };
    let Some(range) = app.range(doc.input.numbering_range_id) else {
        return not_found_number(kind, number);
    };
    let (key, content) = match format {
        Format::Pdf => ("pdf_base_64_encoded", STANDARD.encode(pdf::document(&doc, &range))),
        Format::Xml => ("xml_base_64_encoded", STANDARD.encode(xml::document(&doc, &range, &app.catalog))),
    };
    let mut data = Map::new();
    data.insert("file_name".into(), Value::String(file_name(&doc)));
    data.insert(key.into(), Value::String(content));
    ok(Value::Object(data))
}

pub(crate) fn send_email(app: &App, kind: DocKind, number: &str, body: &[u8]) -> Response {
    if app.store.find(kind, number).is_none() {
        return not_found_number(kind, number);
    }
    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let mut errors = Errors::default();
    match value.get("email") {
        None | Some(Value::Null) => errors.add("email", "El campo correo electrónico es obligatorio.".into()),
        Some(Value::String(s)) if is_email(s) => {}
        Some(_) => errors.add("email", "El campo correo electrónico debe ser una dirección de correo válida.".into()),
    }
    if let Some(pdf) = value.get("pdf_base_64_encoded").filter(|v| !v.is_null()) {
        let valid = pdf.as_str().is_some_and(|s| STANDARD.decode(s).is_ok());
        if !valid {
            errors.add(
                "pdf_base_64_encoded",
                "El campo pdf base 64 encoded debe ser un archivo codificado en base64.".into(),
            );
        }
    }
    if !errors.is_empty() {
        return validation_error(errors.into_json());
    }
    let message = match kind {
        DocKind::Bill => "Factura enviada al cliente con éxito",
        DocKind::CreditNote => "Nota crédito enviada al cliente con éxito",
        // Factus has no e-mail route for support documents; none is routed here.
        DocKind::SupportDocument => "Documento soporte enviado con éxito",
        DocKind::DebitNote => "Nota débito enviada al cliente con éxito",
    };
    status_message(StatusCode::OK, "OK", message)
}

pub(crate) fn delete(app: &App, kind: DocKind, reference: &str) -> Response {
    match app.store.delete(kind, reference) {
        Ok(_) => status_message(
            StatusCode::OK,
            "OK",
            format!("Documento con código de referencia {reference} eliminado con éxito"),
        ),
        Err(DeleteError::NotFound) => {
            not_found(format!("No se encontró el documento con código de referencia {reference}"))
        }
        Err(DeleteError::Validated) => conflict(format!(
            "El documento con código de referencia {reference} ya fue validado por la DIAN y no puede ser eliminado"
        )),
    }
}

/// Filters of the list endpoints: partial, case- and accent-insensitive matches (spatie's
/// `AllowedFilter::partial`), except `status`, which is exact.
pub(crate) struct Filters {
    number: Option<String>,
    reference_code: Option<String>,
    identification: Option<String>,
    names: Option<String>,
    prefix: Option<String>,
    status: Option<u8>,
}

impl Filters {
    pub(crate) fn from(query: &HashMap<String, String>) -> Self {
        let text = |key: &str| query.get(&format!("filter[{key}]")).filter(|v| !v.is_empty()).map(|v| fold(v));
        Self {
            number: text("number"),
            reference_code: text("reference_code"),
            identification: text("identification"),
            names: text("names"),
            prefix: text("prefix"),
            status: query.get("filter[status]").and_then(|s| s.parse().ok()),
        }
    }

    pub(crate) fn accepts(&self, doc: &Document) -> bool {
        let has = |wanted: &Option<String>, value: &str| wanted.as_deref().is_none_or(|w| fold(value).contains(w));
        let customer = &doc.input.customer;
        let names = format!(
            "{} {} {}",
            customer.contact.names.as_deref().unwrap_or_default(),
            customer.company.as_deref().unwrap_or_default(),
            customer.contact.trade_name.as_deref().unwrap_or_default()
        );
        let prefix = doc.number.trim_end_matches(|c: char| c.is_ascii_digit());
        has(&self.number, &doc.number)
            && has(&self.reference_code, &doc.reference_code)
            && has(&self.identification, &customer.identification)
            && has(&self.names, &names)
            && has(&self.prefix, prefix)
            && self.status.is_none_or(|s| s == doc.status)
    }
}

/// Page and page size of a list request (`per_page` or `filter[per_page]`, 1–100, default 10).
pub(crate) fn paging(query: &HashMap<String, String>) -> (usize, usize) {
    let page = query.get("page").and_then(|p| p.parse::<usize>().ok()).filter(|p| *p >= 1).unwrap_or(1);
    let per_page = query
        .get("filter[per_page]")
        .or_else(|| query.get("per_page"))
        .and_then(|p| p.parse::<usize>().ok())
        .map_or(10, |p| p.clamp(1, 100));
    (page, per_page)
}

/// `http://host/path` of the request, for pagination links.
pub(crate) fn base_url(headers: &HeaderMap, uri: &Uri) -> String {
    let host = headers.get(http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    format!("http://{host}{}", uri.path())
}

pub(crate) fn list(
    app: &App,
    kind: DocKind,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    uri: &Uri,
) -> Response {
    let filters = Filters::from(query);
    let (page, per_page) = paging(query);
    let all = app.store.all(kind);
    let matching: Vec<&Arc<Document>> = all.iter().filter(|d| filters.accepts(d)).collect();
    let items: Vec<Value> = matching
        .iter()
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .map(|doc| {
            let notes = match kind {
                DocKind::Bill => app.store.find(kind, &doc.number).map(|(_, n)| n).unwrap_or_default(),
                DocKind::CreditNote | DocKind::SupportDocument | DocKind::DebitNote => Vec::new(),
            };
            render::list_item(doc, &notes)
        })
        .collect();
    ok(json!({
        "data": items,
        "pagination": render::pagination(matching.len(), per_page, page, &base_url(headers, uri)),
    }))
}
