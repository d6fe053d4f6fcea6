//! Account management: numbering ranges (create, move the next number, delete, the software's
//! DIAN ranges) and the company profile (update, logo upload). The body checks and the store
//! calls are version-neutral; the v1 routes are below (v2 routes reuse `new_range`,
//! `range_current`, `company_update` and `logo` with the store functions).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderValue, StatusCode};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::app::App;
use crate::http::{bytes_response, json_response, not_found, ok, status_message, validation_error};
use crate::ranges::{CompanyProfile, DIAN_RANGES, Logo, RESPONSIBILITIES, RangeMeta, range_document_name, today};
use crate::store::RangeError;
use crate::validate::{Errors, FieldReader, body_object, present};

type Shared = State<Arc<App>>;

/// Range documents that need a DIAN resolution (invoices, support documents, paper invoices).
const WITH_RESOLUTION: [&str; 3] = ["21", "24", "30"];

/// Largest logo accepted, as Laravel's `max:2048` (kilobytes).
pub(crate) const LOGO_MAX_BYTES: usize = 2048 * 1024;

/// Now as the ISO timestamps of ranges (`2023-06-01T08:00:38Z`).
pub(crate) fn now_iso() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

fn field_error(path: &str, message: impl Into<String>) -> Response {
    let mut errors = Errors::default();
    errors.add(path, message.into());
    validation_error(errors.into_json())
}

fn range_error(error: RangeError) -> Response {
    match error {
        RangeError::NotFound => not_found("No se encontró el rango de numeración"),
        RangeError::Field(path, message) => field_error(path, message),
    }
}

/// A text or integer field as a string (`"21"` or `21`).
fn text(root: &Map<String, Value>, key: &str) -> Option<String> {
    match present(root, key)? {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Checks a range-create body `{document, prefix, current, resolution_number}` (v1 and v2) and
/// builds the range: with a resolution its limits, dates and technical key come from the
/// software's DIAN range of that resolution; without one (notes, payroll) it spans 1–99999999
/// for ten years. Answers the range (id 0, given by the store) and its next number.
pub(crate) fn new_range(body: &Value) -> Result<(RangeMeta, u64), Errors> {
    let root = body_object(body);
    let mut v = FieldReader::default();
    let document = match text(root, "document") {
        None if present(root, "document").is_none() => {
            v.errors.add("document", "El campo documento es obligatorio.".into());
            None
        }
        Some(code) if range_document_name(&code).is_some() => Some(code),
        _ => {
            v.errors.add("document", "El campo documento es inválido.".into());
            None
        }
    };
    let prefix = v.string(root, "", "prefix", true);
    if let Some(prefix) = &prefix
        && (prefix.chars().count() > 4 || !prefix.chars().all(|c| c.is_ascii_alphanumeric()))
    {
        v.errors.add("prefix", "El campo prefijo debe tener hasta 4 letras o números.".into());
    }
    let current = v.int(root, "", "current", true);
    let resolution = text(root, "resolution_number").filter(|r| !r.is_empty());
    let needs_resolution = document.as_deref().is_some_and(|d| WITH_RESOLUTION.contains(&d));
    let dian = match (&resolution, needs_resolution) {
        (None, true) => {
            v.errors.add("resolution_number", "El campo número de resolución es obligatorio.".into());
            None
        }
        (Some(number), true) => {
            let found = DIAN_RANGES.iter().find(|d| d.resolution_number == number);
            match (found, &prefix) {
                (None, _) => {
                    v.errors.add(
                        "resolution_number",
                        "El campo número de resolución no corresponde a un rango autorizado por la DIAN.".into(),
                    );
                    None
                }
                (Some(d), Some(p)) if d.prefix != p.as_str() => {
                    v.errors.add("prefix", format!("El campo prefijo no corresponde a la resolución {number}."));
                    None
                }
                (found, _) => found,
            }
        }
        (_, false) => None,
    };
    if !v.errors.is_empty() {
        return Err(v.errors);
    }
    let (Some(document), Some(prefix), Some(current)) = (document, prefix, current) else {
        return Err(v.errors);
    };
    let now = now_iso();
    let today = today();
    let (from, to, start_date, end_date, technical_key) = match dian {
        Some(d) => (d.from, d.to, d.start_date.to_owned(), d.end_date.to_owned(), Some(d.technical_key.to_owned())),
        None => {
            let in_ten_years = today
                .split_once('-')
                .and_then(|(year, rest)| year.parse::<u32>().ok().map(|y| format!("{}-{rest}", y + 10)))
                .unwrap_or_else(|| today.clone());
            (1, 99_999_999, today, in_ten_years, None)
        }
    };
    if current < from || current > to {
        let mut errors = Errors::default();
        errors.add("current", format!("El campo consecutivo actual debe estar entre {from} y {to}."));
        return Err(errors);
    }
    let range = RangeMeta {
        id: 0,
        document_name: range_document_name(&document).unwrap_or_default().to_owned(),
        document_code: document,
        prefix,
        from,
        to,
        first: current,
        resolution_number: if needs_resolution { resolution } else { None },
        start_date,
        end_date,
        technical_key,
        is_active: true,
        created_at: now.clone(),
        updated_at: now,
        deleted_at: None,
    };
    Ok((range, current))
}

/// The `current` of a move-the-next-number body `{current}`.
pub(crate) fn range_current(body: &Value) -> Result<u64, Errors> {
    let empty = Map::new();
    let mut v = FieldReader::default();
    match v.int(body.as_object().unwrap_or(&empty), "", "current", true) {
        Some(current) if v.errors.is_empty() => Ok(current),
        _ => Err(v.errors),
    }
}

fn parse_json(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or(Value::Null)
}

/// `POST /v1/numbering-ranges`.
pub(crate) async fn create_range(State(app): Shared, body: Bytes) -> Response {
    let (range, current) = match new_range(&parse_json(&body)) {
        Ok(built) => built,
        Err(errors) => return validation_error(errors.into_json()),
    };
    match app.store.create_range(range, current) {
        Ok((range, current)) => json_response(
            StatusCode::CREATED,
            &json!({"status": "Created", "message": "Rango de numeración creado con éxito",
                    "data": range.show_json(current)}),
        ),
        Err(error) => range_error(error),
    }
}

/// `PATCH /v1/numbering-ranges/{id}/current` (and `PUT /v1/numbering-ranges/{id}`, the path the
/// later clients of the original service call) with `{current}`.
pub(crate) async fn update_range_current(State(app): Shared, Path(id): Path<String>, body: Bytes) -> Response {
    let Some(id) = id.parse::<u64>().ok() else {
        return range_error(RangeError::NotFound);
    };
    if app.store.live_range(id).is_none() {
        return range_error(RangeError::NotFound);
    }
    let current = match range_current(&parse_json(&body)) {
        Ok(current) => current,
        Err(errors) => return validation_error(errors.into_json()),
    };
    match app.store.set_range_current(id, current, &now_iso()) {
        Ok((range, current)) => ok(range.show_json(current)),
        Err(error) => range_error(error),
    }
}

/// `DELETE /v1/numbering-ranges/{id}`.
pub(crate) async fn delete_range(State(app): Shared, Path(id): Path<String>) -> Response {
    let deleted =
        id.parse::<u64>().map_err(|_| RangeError::NotFound).and_then(|id| app.store.delete_range(id, &now_iso()));
    match deleted {
        Ok(_) => status_message(StatusCode::OK, "OK", "Rango de numeración eliminado con éxito"),
        Err(error) => range_error(error),
    }
}

/// `GET /v1/numbering-ranges/dian` (also `/v1/dian/numbering-ranges`): the ranges DIAN
/// authorised for the software.
pub(crate) async fn dian_ranges() -> Response {
    ok(Value::Array(DIAN_RANGES.iter().map(|d| d.json()).collect()))
}

/// Checks a company-update body and applies it to `profile` (only the fields sent change). The
/// fields are the ones Factus' company form has: `company`, `trade_name`, `names`, `surnames`,
/// `registration_code`, `economic_activity`, `phone`, `email`, `address`, `tribute_code` (`01`,
/// `ZZ`), `legal_organization_code` (`1`, `2`), `municipality_code` (DANE), `responsibilities`
/// (codes such as `O-13` or their ids 1–5, one or a list).
pub(crate) fn company_update(
    body: &Value,
    catalog: &crate::catalog::Catalog,
) -> Result<impl FnOnce(&mut CompanyProfile), Errors> {
    let empty = Map::new();
    let Some(root) = body.as_object() else {
        let mut errors = Errors::default();
        errors.add("company", "El cuerpo debe ser un objeto JSON.".into());
        return Err(errors);
    };
    let root = if root.is_empty() { &empty } else { root };
    let mut v = FieldReader::default();
    let mut strings = Vec::new();
    for key in ["company", "trade_name", "names", "surnames", "registration_code", "phone", "address"] {
        if root.contains_key(key) {
            strings.push((key, v.string(root, "", key, false)));
        }
    }
    let email = v.email(root, "", "email", false);
    let economic_activity = text(root, "economic_activity");
    if economic_activity.as_deref().is_some_and(|a| a.len() != 4 || !a.bytes().all(|b| b.is_ascii_digit())) {
        v.errors.add("economic_activity", "El campo actividad económica debe ser un código CIIU de 4 dígitos.".into());
    }
    let code_in = |v: &mut FieldReader, key: &str, allowed: &[&str]| {
        let value = text(root, key);
        if value.as_deref().is_some_and(|c| !allowed.contains(&c)) {
            v.invalid(key);
            return None;
        }
        value
    };
    let tribute = code_in(&mut v, "tribute_code", &["01", "ZZ"]);
    let legal = code_in(&mut v, "legal_organization_code", &["1", "2"]);
    let municipality = text(root, "municipality_code");
    if municipality.as_deref().is_some_and(|c| !catalog.municipalities.iter().any(|m| m.code == c)) {
        v.invalid("municipality_code");
    }
    let responsibilities = match present(root, "responsibilities") {
        None => None,
        Some(value) => {
            let items: Vec<Value> = match value {
                Value::Array(list) => list.clone(),
                other => vec![other.clone()],
            };
            let codes: Option<Vec<String>> = items
                .iter()
                .map(|item| {
                    let raw = match item {
                        Value::String(s) => s.trim().to_owned(),
                        Value::Number(n) => n.to_string(),
                        _ => return None,
                    };
                    let by_id =
                        raw.parse::<usize>().ok().and_then(|i| i.checked_sub(1)).and_then(|i| RESPONSIBILITIES.get(i));
                    by_id.or_else(|| RESPONSIBILITIES.iter().find(|(c, _)| *c == raw)).map(|(c, _)| (*c).to_owned())
                })
                .collect();
            if codes.is_none() {
                v.invalid("responsibilities");
            }
            codes
        }
    };
    if !v.errors.is_empty() {
        return Err(v.errors);
    }
    let updated_at = now_iso();
    Ok(move |profile: &mut CompanyProfile| {
        for (key, value) in strings {
            let slot = match key {
                "company" => &mut profile.company,
                "trade_name" => &mut profile.trade_name,
                "names" => &mut profile.names,
                "surnames" => &mut profile.surnames,
                "registration_code" => &mut profile.registration_code,
                "phone" => {
                    profile.phone = value.unwrap_or_default();
                    continue;
                }
                _ => {
                    profile.address = value.unwrap_or_default();
                    continue;
                }
            };
            *slot = value;
        }
        set_given(&mut profile.email, email);
        set_given(&mut profile.economic_activity, economic_activity);
        set_given(&mut profile.tribute_code, tribute);
        set_given(&mut profile.legal_organization_code, legal);
        set_given(&mut profile.municipality_code, municipality);
        set_given(&mut profile.responsibilities, responsibilities);
        profile.updated_at = updated_at;
    })
}

/// A field of the profile that cannot be emptied: a value given replaces the stored one.
fn set_given<T>(slot: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *slot = value;
    }
}

/// `PUT /v1/company`.
pub(crate) async fn update_company(State(app): Shared, body: Bytes) -> Response {
    match company_update(&parse_json(&body), &app.catalog) {
        Ok(change) => ok(app.store.update_company(change).show_json(&app.catalog)),
        Err(errors) => validation_error(errors.into_json()),
    }
}

/// One file part of a `multipart/form-data` body: `(field name, content type, bytes)`.
fn multipart_file<'b>(headers: &HeaderMap, body: &'b [u8], field: &str) -> Option<(Option<String>, &'b [u8])> {
    let content_type = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    if !content_type.to_ascii_lowercase().starts_with("multipart/form-data") {
        return None;
    }
    let boundary = content_type.split(';').find_map(|p| p.trim().strip_prefix("boundary="))?.trim_matches('"');
    let delimiter = format!("--{boundary}").into_bytes();
    let mut parts = Vec::new();
    let mut rest = body;
    while let Some(start) = find(rest, &delimiter) {
        rest = &rest[start + delimiter.len()..];
        if rest.starts_with(b"--") {
            break;
        }
        let end = find(rest, &delimiter).unwrap_or(rest.len());
        parts.push(&rest[..end]);
    }
    parts.into_iter().find_map(|part| {
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let split = find(part, b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&part[..split]);
        let content = &part[split + 4..];
        let content = content.strip_suffix(b"\r\n").unwrap_or(content);
        let mut name = None;
        let mut kind = None;
        for line in head.lines() {
            let lower = line.to_ascii_lowercase();
            if lower.starts_with("content-disposition:") {
                name = line
                    .split(';')
                    .find_map(|p| p.trim().strip_prefix("name="))
                    .map(|n| n.trim_matches('"').to_owned());
            } else if let Some(value) = lower.strip_prefix("content-type:") {
                kind = Some(value.trim().to_owned());
            }
        }
        (name.as_deref() == Some(field)).then_some((kind, content))
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The image type of a file, from its first bytes.
fn image_type(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(("image/png", "png"))
    } else if bytes.starts_with(b"\xff\xd8\xff") {
        Some(("image/jpeg", "jpg"))
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some(("image/gif", "gif"))
    } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(("image/webp", "webp"))
    } else {
        None
    }
}

/// Checks a logo upload: a `multipart/form-data` body with an `image` file that is a PNG, JPEG,
/// GIF or WebP of at most 2048 KB. Answers the logo, named by its content hash.
pub(crate) fn logo(headers: &HeaderMap, body: &[u8]) -> Result<Logo, Errors> {
    let mut errors = Errors::default();
    let Some((_, bytes)) = multipart_file(headers, body, "image").filter(|(_, b)| !b.is_empty()) else {
        errors.add("image", "El campo imagen es obligatorio.".into());
        return Err(errors);
    };
    let Some((content_type, extension)) = image_type(bytes) else {
        errors.add("image", "El campo imagen debe ser una imagen (PNG, JPEG, GIF o WebP).".into());
        return Err(errors);
    };
    if bytes.len() > LOGO_MAX_BYTES {
        errors.add("image", "El campo imagen no debe ser mayor que 2048 kilobytes.".into());
        return Err(errors);
    }
    let hash = hex::encode(&Sha256::digest(bytes)[..8]);
    Ok(Logo { file: format!("logo-{hash}.{extension}"), content_type, bytes: Bytes::copy_from_slice(bytes) })
}

/// `POST /v1/company/logo` (multipart field `image`). The logo is served by the sandbox at the
/// `url_logo` answered (`url_log` too: the later clients of the original service read that key).
pub(crate) async fn upload_logo(State(app): Shared, headers: HeaderMap, body: Bytes) -> Response {
    let logo = match logo(&headers, &body) {
        Ok(logo) => logo,
        Err(errors) => return validation_error(errors.into_json()),
    };
    let host = headers.get(http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let url = format!("http://{host}/storage/logos/{}", logo.file);
    let stored = url.clone();
    app.store.update_company(move |profile| {
        profile.url_logo = Some(stored);
        profile.logo = Some(logo);
        profile.updated_at = now_iso();
    });
    ok(json!({"url_logo": url, "url_log": url}))
}

/// `GET /storage/logos/{file}`: the uploaded logo (no token, like a public storage URL).
pub(crate) async fn served_logo(State(app): Shared, Path(file): Path<String>) -> Response {
    match app.store.company().logo.filter(|l| l.file == file) {
        Some(logo) => {
            let mut response = bytes_response(StatusCode::OK, logo.bytes);
            response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(logo.content_type));
            response
        }
        None => not_found(format!("No se encontró el archivo {file}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multipart_file_part_is_found_by_its_field_name() {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("multipart/form-data; boundary=XyZ"));
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--XyZ\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\nPNGDATA\r\n--XyZ--\r\n";
        let (kind, bytes) = multipart_file(&headers, body, "image").unwrap();
        assert_eq!(kind.as_deref(), Some("image/png"));
        assert_eq!(bytes, b"PNGDATA");
        assert!(multipart_file(&headers, body, "missing").is_none());
    }

    #[test]
    fn a_range_without_resolution_spans_ten_years_and_one_with_takes_the_dian_limits() {
        let (range, current) = new_range(&json!({"document": "22", "prefix": "NCX", "current": 1})).unwrap();
        assert_eq!((range.from, range.to, current), (1, 99_999_999, 1));
        assert_eq!(range.resolution_number, None);
        let (range, _) =
            new_range(&json!({"document": 21, "prefix": "FE", "current": "1", "resolution_number": "18764000001"}))
                .unwrap();
        assert_eq!((range.from, range.to), (1, 5000));
        assert_eq!(range.document_name, "Factura de Venta");
        assert!(range.technical_key.is_some());
    }
}
