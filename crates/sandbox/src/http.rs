//! Response helpers: Factus' envelope and error bodies.

use axum::body::Body;
use axum::response::Response;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, StatusCode};
use serde_json::{Value, json};

use crate::model::{DocKind, Document};

/// A JSON response from a value.
pub(crate) fn json_response(status: StatusCode, value: &Value) -> Response {
    bytes_response(status, serde_json::to_vec(value).unwrap_or_default())
}

/// A JSON response from already-serialised bytes.
pub(crate) fn bytes_response(status: StatusCode, body: impl Into<Body>) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// `200 {"status":"OK","message":"Solicitud exitosa","data":…}`.
pub(crate) fn ok(data: Value) -> Response {
    json_response(StatusCode::OK, &json!({"status": "OK", "message": "Solicitud exitosa", "data": data}))
}

/// `{"status": <label>, "message": <message>}` with the given code.
pub(crate) fn status_message(code: StatusCode, label: &str, message: impl Into<String>) -> Response {
    json_response(code, &json!({"status": label, "message": message.into()}))
}

/// 404 in Factus' shape.
pub(crate) fn not_found(message: impl Into<String>) -> Response {
    status_message(StatusCode::NOT_FOUND, "Not Found", message)
}

/// 409 in Factus' shape.
pub(crate) fn conflict(message: impl Into<String>) -> Response {
    status_message(StatusCode::CONFLICT, "Conflict", message)
}

/// 422 field validation: `{"status":"Validation error","message":"Error de validación",
/// "data":{"message":…,"errors":{…}}}`.
pub(crate) fn validation_error(errors: Value) -> Response {
    json_response(
        StatusCode::UNPROCESSABLE_ENTITY,
        &json!({
            "status": "Validation error",
            "message": "Error de validación",
            "data": {"message": "Error de validación", "errors": errors},
        }),
    )
}

/// 422 DIAN rejection: rule-keyed string values.
pub(crate) fn dian_rejection(rules: Vec<(String, String)>) -> Response {
    let message = "El documento contiene errores de validación";
    let errors: serde_json::Map<String, Value> =
        rules.into_iter().map(|(rule, text)| (rule, Value::String(text))).collect();
    json_response(
        StatusCode::UNPROCESSABLE_ENTITY,
        &json!({
            "status": "Validation error",
            "message": message,
            "data": {"message": message, "errors": errors},
        }),
    )
}

/// 422 of a document DIAN rejected (stored as pending): its rules.
pub(crate) fn rejected(doc: &Document) -> Response {
    dian_rejection(doc.rejection.clone())
}

/// 409 while a pending document of the family blocks new ones (text per family).
pub(crate) fn pending_conflict(kind: DocKind) -> Response {
    conflict(kind.pending_message())
}

/// 401 as Laravel answers a missing, unknown or expired bearer token.
pub(crate) fn unauthenticated() -> Response {
    json_response(StatusCode::UNAUTHORIZED, &json!({"message": "Unauthenticated."}))
}

/// 429 as Laravel's throttle answers, with the rate-limit headers.
pub(crate) fn too_many(limit: u32, retry_after_s: u64) -> Response {
    let mut response = json_response(StatusCode::TOO_MANY_REQUESTS, &json!({"message": "Too Many Attempts."}));
    let reset = time::OffsetDateTime::now_utc().unix_timestamp() + i64::try_from(retry_after_s).unwrap_or(60);
    let headers = response.headers_mut();
    headers.insert("retry-after", HeaderValue::from(retry_after_s));
    headers.insert("x-ratelimit-limit", HeaderValue::from(limit));
    headers.insert("x-ratelimit-remaining", HeaderValue::from(0));
    headers.insert("x-ratelimit-reset", HeaderValue::from(reset));
    response
}
