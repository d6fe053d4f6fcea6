//! Turning a Factus error body into the message the client reads (`docs/contract.md` §8.2 for
//! bills and lookups, §2.2 for OAuth).
//!
//! The reference's rules are kept, with one widening: real Factus nests its 422 details under
//! `data` (`{"status":"Validation error","data":{"message":…,"errors":{…}}}`, `docs/factus.md`
//! §8.1) and DIAN rule errors carry a plain string per key instead of a list; both are read too,
//! so the client sees the field errors instead of a bare "Error de validación".

use serde_json::{Map, Value};

/// Longest non-JSON error text passed on (an HTML error page would otherwise fill the `detail`).
const MAX_TEXT_CHARS: usize = 500;
/// Longest payload logged.
const MAX_PAYLOAD_CHARS: usize = 8_000;

/// The message of a failed bill or lookup call:
/// 1. a body that is not JSON → its text, or `HTTP <status>` when empty;
/// 2. non-empty `errors` object → `"field: msg1, msg2"` joined with `"; "`, after `"<message> — "`
///    when there is a message;
/// 3. non-empty `errors` list → the items' `message`s joined with `"; "`;
/// 4. else `message`, else `default`.
pub(crate) fn bill_error_message(status: u16, body: &[u8], default: &str) -> String {
    let Some(json) = parse_json(body) else {
        return text_or_status(status, body);
    };
    let Some(object) = json.as_object() else {
        return default.to_owned();
    };
    let nested = object.get("data").and_then(Value::as_object);
    let message = non_empty_str(object.get("message")).or_else(|| nested.and_then(|d| non_empty_str(d.get("message"))));
    let errors = object
        .get("errors")
        .filter(|errors| !is_empty_container(errors))
        .or_else(|| nested.and_then(|d| d.get("errors")));

    match errors {
        Some(Value::Object(fields)) if !fields.is_empty() => {
            let joined = field_errors(fields);
            match message {
                Some(message) => format!("{message} — {joined}"),
                None => joined,
            }
        }
        Some(Value::Array(items)) if !items.is_empty() => {
            let messages: Vec<&str> = items
                .iter()
                .filter_map(|item| match item {
                    Value::String(text) => Some(text.as_str()),
                    Value::Object(entry) => non_empty_str(entry.get("message")),
                    _ => None,
                })
                .filter(|text| !text.is_empty())
                .collect();
            if messages.is_empty() { message.unwrap_or(default).to_owned() } else { messages.join("; ") }
        }
        _ => message.unwrap_or(default).to_owned(),
    }
}

/// The DIAN rule texts of a 422 that rejects a stored document: the string values of `errors`
/// (top level or under `data`) that read `Regla: <rule>, Rechazo: <text>`, as Factus answers
/// when DIAN rejects a document (v1 and v2). Empty for ordinary field errors, whose values are
/// lists of messages.
pub(crate) fn dian_rules(body: &[u8]) -> Vec<String> {
    let Some(Value::Object(object)) = parse_json(body) else {
        return Vec::new();
    };
    let nested = object.get("data").and_then(Value::as_object);
    let errors = object.get("errors").or_else(|| nested.and_then(|data| data.get("errors")));
    let texts: Vec<String> = match errors {
        Some(Value::Object(fields)) => fields.values().filter_map(Value::as_str).map(str::to_owned).collect(),
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => Vec::new(),
    };
    texts.into_iter().filter(|text| text.starts_with("Regla:")).collect()
}

/// The message of a failed OAuth call: `message` || `error_description` || `error` || `default`;
/// a body that is not JSON → its text, or `HTTP <status>` when empty.
pub(crate) fn oauth_error_message(status: u16, body: &[u8], default: &str) -> String {
    let Some(json) = parse_json(body) else {
        return text_or_status(status, body);
    };
    let Some(object) = json.as_object() else {
        return default.to_owned();
    };
    ["message", "error_description", "error"]
        .iter()
        .find_map(|key| non_empty_str(object.get(*key)))
        .unwrap_or(default)
        .to_owned()
}

/// A body for a log line: its text, cut to a readable length.
pub(crate) fn body_excerpt(body: &[u8]) -> String {
    truncate(String::from_utf8_lossy(body).trim(), MAX_TEXT_CHARS)
}

/// Our own JSON payload for a log line: long enough for a whole invoice, short enough that an
/// attached PDF does not flood the log.
pub(crate) fn payload_excerpt(body: &[u8]) -> String {
    truncate(String::from_utf8_lossy(body).trim(), MAX_PAYLOAD_CHARS)
}

fn field_errors(fields: &Map<String, Value>) -> String {
    fields
        .iter()
        .map(|(field, problems)| {
            let text = match problems {
                Value::Array(list) => list.iter().map(display).collect::<Vec<_>>().join(", "),
                other => display(other),
            };
            format!("{field}: {text}")
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A JSON value as a person reads it: strings without their quotes.
fn display(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn parse_json(body: &[u8]) -> Option<Value> {
    serde_json::from_slice(body).ok()
}

fn non_empty_str(value: Option<&Value>) -> Option<&str> {
    value.and_then(Value::as_str).filter(|text| !text.is_empty())
}

fn is_empty_container(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.is_empty(),
        Value::Array(list) => list.is_empty(),
        Value::Null => true,
        _ => false,
    }
}

fn text_or_status(status: u16, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() { format!("HTTP {status}") } else { truncate(text, MAX_TEXT_CHARS) }
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT: &str = "Error al validar la factura";

    fn bill(body: &str) -> String {
        bill_error_message(422, body.as_bytes(), DEFAULT)
    }

    #[test]
    fn dian_rules_are_the_rule_texts_of_a_rejection_and_never_field_errors() {
        let rejection = r#"{"status":"Validation error","message":"El documento contiene errores de validación","data":{"message":"El documento contiene errores de validación","errors":{"FAK24":"Regla: FAK24, Rechazo: No está informado el DV del NIT"}}}"#;
        assert_eq!(dian_rules(rejection.as_bytes()), ["Regla: FAK24, Rechazo: No está informado el DV del NIT"]);
        let listed = r#"{"errors":["Regla: CAK24, Rechazo: No está informado el DV del NIT"]}"#;
        assert_eq!(dian_rules(listed.as_bytes()), ["Regla: CAK24, Rechazo: No está informado el DV del NIT"]);
        let fields = r#"{"data":{"errors":{"customer.names":["El campo nombres es obligatorio."]}}}"#;
        assert!(dian_rules(fields.as_bytes()).is_empty());
        assert!(dian_rules(b"not json").is_empty());
    }

    #[test]
    fn field_errors_follow_the_message_after_an_em_dash() {
        let body = r#"{"message":"Los datos no son válidos","errors":{"customer.names":["El campo nombres es obligatorio."],"items.0.price":["precio inválido","otro"]}}"#;
        assert_eq!(
            bill(body),
            "Los datos no son válidos — customer.names: El campo nombres es obligatorio.; items.0.price: precio inválido, otro"
        );
    }

    #[test]
    fn field_errors_without_a_message_stand_alone() {
        assert_eq!(bill(r#"{"errors":{"items":["vacío"]}}"#), "items: vacío");
    }

    #[test]
    fn factus_nested_validation_errors_are_read_from_data() {
        let body = r#"{"status":"Validation error","message":"Error de validación","data":{"message":"Error de validación","errors":{"numbering_range_id":["El campo id rango de numeración es inválido."]}}}"#;
        assert_eq!(
            bill(body),
            "Error de validación — numbering_range_id: El campo id rango de numeración es inválido."
        );
    }

    #[test]
    fn dian_rule_errors_with_a_plain_string_are_read() {
        let body = r#"{"message":"El documento contiene errores de validación","data":{"errors":{"FAK24":"Regla: FAK24, Rechazo: No está informado el DV del NIT"}}}"#;
        assert_eq!(
            bill(body),
            "El documento contiene errores de validación — FAK24: Regla: FAK24, Rechazo: No está informado el DV del NIT"
        );
    }

    #[test]
    fn conflict_lists_are_joined() {
        let body = r#"{"status":"Conflict","errors":[{"code":409,"message":"Referencia duplicada"},{"code":409,"message":"Otra"}]}"#;
        assert_eq!(bill(body), "Referencia duplicada; Otra");
    }

    #[test]
    fn a_plain_message_is_used_when_there_are_no_errors() {
        assert_eq!(
            bill(r#"{"status":"Conflict","message":"Se encontró una factura pendiente por enviar a la DIAN"}"#),
            "Se encontró una factura pendiente por enviar a la DIAN"
        );
        assert_eq!(bill(r#"{"message":"x","errors":{}}"#), "x");
    }

    #[test]
    fn json_without_a_message_falls_back_to_the_default() {
        assert_eq!(bill(r#"{"status":"Error"}"#), DEFAULT);
        assert_eq!(bill(r#"{"message":""}"#), DEFAULT);
        assert_eq!(bill("[1,2]"), DEFAULT);
    }

    #[test]
    fn a_body_that_is_not_json_is_passed_on_as_text() {
        assert_eq!(bill_error_message(502, b"Bad Gateway", DEFAULT), "Bad Gateway");
        assert_eq!(bill_error_message(502, b"  ", DEFAULT), "HTTP 502");
        assert_eq!(bill_error_message(404, b"", DEFAULT), "HTTP 404");
    }

    #[test]
    fn long_text_bodies_are_cut() {
        let page = "x".repeat(2_000);
        let message = bill_error_message(403, page.as_bytes(), DEFAULT);
        assert_eq!(message.chars().count(), MAX_TEXT_CHARS + 1);
        assert!(message.ends_with('…'));
    }

    #[test]
    fn oauth_messages_prefer_message_then_description_then_error() {
        let default = "Error de autenticación con Factus";
        let oauth = |body: &str| oauth_error_message(401, body.as_bytes(), default);
        assert_eq!(oauth(r#"{"error":"invalid_grant","error_description":"d","message":"m"}"#), "m");
        assert_eq!(oauth(r#"{"error":"invalid_grant","error_description":"d"}"#), "d");
        assert_eq!(oauth(r#"{"error":"invalid_client"}"#), "invalid_client");
        assert_eq!(oauth(r#"{"message":""}"#), default);
        assert_eq!(oauth("Unauthorized"), "Unauthorized");
        assert_eq!(oauth(""), "HTTP 401");
    }
}
