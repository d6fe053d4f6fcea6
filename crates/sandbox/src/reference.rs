//! Numbering ranges, reference tables, acquirer lookup and company.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use http::{HeaderMap, StatusCode, Uri};
use serde_json::{Value, json};

use crate::app::App;
use crate::catalog::{self, IDENTITY_DOCUMENTS, fold};
use crate::documents::{base_url, paging};
use crate::http::{bytes_response, json_response, not_found, ok, validation_error};
use crate::model::DocKind;
use crate::validate::Errors;

type Shared = State<Arc<App>>;
type Params = Query<HashMap<String, String>>;

/// `GET /v1/numbering-ranges` with `filter[id|document|resolution_number|technical_key|is_active]`.
pub(crate) async fn numbering_ranges(State(app): Shared, Query(q): Params, headers: HeaderMap, uri: Uri) -> Response {
    let wanted = |key: &str| q.get(&format!("filter[{key}]")).filter(|v| !v.is_empty());
    let ranges: Vec<Value> = app
        .store
        .ranges()
        .into_iter()
        .filter(|(r, _)| wanted("id").is_none_or(|id| id == &r.id.to_string()))
        .filter(|(r, _)| {
            wanted("document").is_none_or(|d| *d == r.document_code || fold(&r.document_name).contains(&fold(d)))
        })
        .filter(|(r, _)| wanted("resolution_number").is_none_or(|n| r.resolution_number.as_ref() == Some(n)))
        .filter(|(r, _)| wanted("technical_key").is_none_or(|k| r.technical_key.as_ref() == Some(k)))
        .filter(|(r, _)| wanted("is_active").is_none_or(|a| a == if r.is_active { "1" } else { "0" }))
        .map(|(r, current)| r.list_json(current))
        .collect();
    let (page, per_page) = paging(&q);
    let total = ranges.len();
    let items: Vec<Value> = ranges.into_iter().skip((page - 1).saturating_mul(per_page)).take(per_page).collect();
    ok(json!({
        "data": items,
        "pagination": crate::render::pagination(total, per_page, page, &base_url(&headers, &uri)),
    }))
}

/// `GET /v1/numbering-ranges/{id}`.
pub(crate) async fn numbering_range(State(app): Shared, Path(id): Path<String>) -> Response {
    match id.parse::<u64>().ok().and_then(|id| app.store.live_range(id)) {
        Some((range, current)) => ok(range.show_json(current)),
        None => not_found("No se encontró el rango de numeración"),
    }
}

/// A catalogue listed by `?name=`: without a name (or with an empty one) the whole table, as
/// rendered at start in `whole`; with one, what `filtered` finds for it.
fn by_name(q: &HashMap<String, String>, whole: &Bytes, filtered: impl FnOnce(&str) -> Value) -> Response {
    match q.get("name").map(String::as_str).filter(|n| !n.is_empty()) {
        None => bytes_response(StatusCode::OK, whole.clone()),
        Some(name) => ok(filtered(name)),
    }
}

/// `GET /v1/municipalities?name=`.
pub(crate) async fn municipalities(State(app): Shared, Query(q): Params) -> Response {
    by_name(&q, &app.cached.municipalities, |name| app.catalog.municipalities_json(Some(name)))
}

/// `GET /v1/countries?name=`.
pub(crate) async fn countries(State(app): Shared, Query(q): Params) -> Response {
    by_name(&q, &app.cached.countries, |name| app.catalog.countries_json(Some(name)))
}

/// `GET /v1/measurement-units?name=`.
pub(crate) async fn units(State(app): Shared, Query(q): Params) -> Response {
    by_name(&q, &app.cached.units, |name| app.catalog.units_json(Some(name)))
}

/// `GET /v1/tributes/products?name=`.
pub(crate) async fn tributes(State(app): Shared, Query(q): Params) -> Response {
    by_name(&q, &app.cached.tributes, |name| catalog::tributes_json(Some(name)))
}

/// `GET /v1/company`.
pub(crate) async fn company(State(app): Shared) -> Response {
    ok(app.store.company().show_json(&app.catalog))
}

/// `GET /v1/dian/acquirer?identification_document_id=&identification_number=`.
///
/// Answers DIAN's test fixtures (`<document code>9999<N>`, N = 1…10, e.g. `1399991` for a
/// cédula → `Nombre Cédula de ciudadanía 1`) and any customer already invoiced in the sandbox.
pub(crate) async fn acquirer(State(app): Shared, Query(q): Params) -> Response {
    let mut errors = Errors::default();
    let document = q.get("identification_document_id").filter(|v| !v.is_empty());
    let number = q.get("identification_number").filter(|v| !v.is_empty());
    let document = match document.map(|d| d.parse::<u64>().ok().and_then(|id| catalog::by_id(&IDENTITY_DOCUMENTS, id)))
    {
        None => {
            errors.add("identification_document_id", "El campo identification document id es obligatorio.".into());
            None
        }
        Some(None) => {
            errors.add("identification_document_id", "El campo identification document id es inválido.".into());
            None
        }
        Some(found) => found,
    };
    if number.is_none() {
        errors.add("identification_number", "El campo identification number es obligatorio.".into());
    }
    let (Some((id, code, name)), Some(number)) = (document, number) else {
        return validation_error(errors.into_json());
    };
    acquirer_lookup(&app, (id, code, name), number)
}

/// The acquirer behind a document type `(v1 id, DIAN code, name)` and number: a DIAN test fixture
/// or a customer already invoiced in the sandbox; 404 otherwise.
pub(crate) fn acquirer_lookup(app: &App, (id, code, name): (u64, &str, &str), number: &str) -> Response {
    if let Some(n) = number
        .strip_prefix(code)
        .and_then(|rest| rest.strip_prefix("9999"))
        .and_then(|n| n.parse::<u32>().ok())
        .filter(|n| (1..=10).contains(n))
    {
        return ok(json!({
            "name": format!("Nombre {name} {n}"),
            "email": format!("adquiriente{n}@factus.com.co"),
        }));
    }
    let known = app.store.all(DocKind::Bill).into_iter().find(|doc| {
        let c = &doc.input.customer;
        c.identification == *number && c.identification_document_id == id
    });
    match known {
        Some(doc) => {
            let c = &doc.input.customer;
            ok(json!({"name": c.display_name(), "email": c.contact.email}))
        }
        None => json_response(StatusCode::NOT_FOUND, &json!({"message": "No se encontró el adquirente"})),
    }
}
