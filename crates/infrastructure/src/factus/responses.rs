//! Reading Factus' 2xx bodies into the application's types, with the reference's defaults.
//!
//! Factus is loose with types (integers as strings, 0/1 for booleans, numbers where a text is
//! documented), so every field is read leniently; what cannot be read at all is
//! [`FactusError::InvalidResponse`], which the edge answers like the reference: 400 with the
//! endpoint's prefix.

use factus_application::company::{CodeName, Company, CompanyMunicipality};
use factus_application::factus::{
    Acquirer, BillEvent, BillEvents, Country, DocumentFormat, DownloadedFile, FactusApiVersion, FactusError,
    FactusToken, IssuedBill, MeasurementUnit, Municipality, NumberingRange, ProductTribute, StatusMessage,
    UpstreamJson,
};
use factus_application::ledger::DocumentKind;
use factus_application::numbering_ranges::{DianNumberingRange, range_document_code, range_document_name};
use secrecy::SecretString;
use serde_json::{Map, Value, json};

/// How much of an unexpected value an error message quotes.
const MAX_QUOTED_CHARS: usize = 200;

/// The OAuth answer. A missing field reads as the reference's Python `KeyError` text
/// (`'access_token'`), which is what its clients saw after the prefix.
pub(crate) fn token(body: &[u8]) -> Result<FactusToken, FactusError> {
    let object = object(body)?;
    let required = |key: &str| text(object.get(key)).ok_or_else(|| invalid(format!("'{key}'")));
    let access_token = required("access_token")?;
    let token_type = required("token_type")?;
    let expires_in = int(object.get("expires_in")).ok_or_else(|| invalid("'expires_in'".to_owned()))?;
    Ok(FactusToken {
        access_token: SecretString::from(access_token),
        token_type,
        expires_in,
        refresh_token: text(object.get("refresh_token")).map(SecretString::from),
    })
}

/// `POST /v{1,2}/bills/validate` (`docs/contract.md` §2.4): the bill's number, prefix, CUFE, QR
/// address and status, and the top-level `message`; missing parts default to `""`, status to
/// `"1"`, message to `"Success"`.
pub(crate) fn issued_bill(
    body: &[u8],
    version: FactusApiVersion,
    kind: DocumentKind,
) -> Result<IssuedBill, FactusError> {
    let document = object(body)?;
    let mut bill = bill_of(&document, version, kind)?;
    bill.message = Some(text(document.get("message")).unwrap_or_else(|| "Success".to_owned()));
    Ok(bill)
}

/// The document part of a create or show answer, without a message.
///
/// v1: `data.bill.{number,cufe,qr,status}` and `data.numbering_range.prefix`; the other kinds
/// have their own wrapper (`credit_note`, `debit_note`, `support_document`) and key (`cude` for
/// notes, `cuds` for support documents; a v1 credit note's `cufe` is its invoice's), read into
/// the same fields. v2 has no wrapper: `data.{number,cufe}`, `data.links.qr`,
/// `data.numbering_range.prefix`, and
/// `data.is_validated` (a boolean) in place of the 1/0 `status`, read back as `"1"`/`"0"` so
/// clients see the same answer on both versions.
///
/// A document is identified by its number: a 2xx without it (v1 `{}`, `{"data":{}}`,
/// `{"data":{"bill":{}}}`; v2 `{"data":{}}`) is not a bill but [`FactusError::InvalidResponse`],
/// never a bill with an empty number. Every document kind read through here inherits the rule;
/// the issuance records such an answer as `unknown` and looks the reference up before anything
/// is sent again (`docs/reliability.md`).
pub(crate) fn bill_of(
    document: &Map<String, Value>,
    version: FactusApiVersion,
    kind: DocumentKind,
) -> Result<IssuedBill, FactusError> {
    let (wrapper, key) = match kind {
        DocumentKind::Invoice => ("bill", "cufe"),
        DocumentKind::CreditNote => ("credit_note", "cude"),
        DocumentKind::DebitNote => ("debit_note", "cude"),
        DocumentKind::SupportDocument => ("support_document", "cuds"),
    };
    let data = optional_object(document.get("data"), "data")?;
    let part = |key: &str| data.and_then(|data| data.get(key)).and_then(Value::as_object);
    let field = |part: Option<&Map<String, Value>>, key: &str| part.and_then(|part| text(part.get(key)));
    let range = part("numbering_range");
    let number_of = |part: Option<&Map<String, Value>>, at: &str| {
        field(part, "number").filter(|number| !number.trim().is_empty()).ok_or_else(|| {
            invalid(format!("Respuesta inesperada de Factus: la respuesta no contiene la factura ('{at}')"))
        })
    };
    Ok(match version {
        FactusApiVersion::V1 => {
            let bill = part(wrapper);
            IssuedBill {
                number: number_of(bill, &format!("data.{wrapper}.number"))?,
                prefix: field(range, "prefix").unwrap_or_default(),
                cufe: field(bill, key).unwrap_or_default(),
                qr_url: field(bill, "qr").unwrap_or_default(),
                status: field(bill, "status").unwrap_or_else(|| "1".to_owned()),
                message: None,
            }
        }
        FactusApiVersion::V2 => IssuedBill {
            number: number_of(data, "data.number")?,
            prefix: field(range, "prefix").unwrap_or_default(),
            cufe: field(data, key).unwrap_or_default(),
            qr_url: field(part("links"), "qr").unwrap_or_default(),
            status: match data.and_then(|data| flag(data.get("is_validated"))) {
                Some(false) => "0".to_owned(),
                Some(true) | None => "1".to_owned(),
            },
            message: None,
        },
    })
}

/// Factus' internal id of a v1 bill, `data.bill.id` of its show answer.
pub(crate) fn v1_bill_id(document: &Map<String, Value>) -> Result<i64, FactusError> {
    let id = document.get("data").and_then(|data| data.get("bill")).and_then(|bill| int(bill.get("id")));
    id.ok_or_else(|| invalid("Respuesta inesperada de Factus: la factura no trae 'data.bill.id'".to_owned()))
}

/// `GET /v1/bills/show/{number}` (`docs/contract.md` §2.5): `{status: string, message: string|null,
/// data: object}` required, passed on as JSON text in that key order.
pub(crate) fn shown_bill(body: &[u8]) -> Result<UpstreamJson, FactusError> {
    let document = object(body)?;
    let status = document
        .get("status")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("Respuesta inesperada de Factus: 'status' debe ser un texto".to_owned()))?;
    let message = match document.get("message") {
        None | Some(Value::Null) => Value::Null,
        Some(Value::String(message)) => Value::String(message.clone()),
        Some(_) => return Err(invalid("Respuesta inesperada de Factus: 'message' debe ser un texto".to_owned())),
    };
    let data = document
        .get("data")
        .filter(|data| data.is_object())
        .ok_or_else(|| invalid("Respuesta inesperada de Factus: 'data' debe ser un objeto".to_owned()))?;
    let passed_on = json!({ "status": status, "message": message, "data": data });
    Ok(UpstreamJson::new(passed_on.to_string()))
}

/// `GET /v1/bills/download-{pdf,xml}/{number}` (`docs/contract.md` §2.6): `data.file_name` (default
/// `"<number>.<ext>"`) and `data.{pdf,xml}_base_64_encoded` (default `""`).
pub(crate) fn downloaded(body: &[u8], number: &str, format: DocumentFormat) -> Result<DownloadedFile, FactusError> {
    let document = object(body)?;
    let data = optional_object(document.get("data"), "data")?;
    let field = |key: &str| data.and_then(|data| text(data.get(key)));
    let content_key = match format {
        DocumentFormat::Pdf => "pdf_base_64_encoded",
        DocumentFormat::Xml => "xml_base_64_encoded",
    };
    Ok(DownloadedFile {
        file_name: field("file_name").unwrap_or_else(|| format!("{number}.{}", format.extension())),
        content_base64: field(content_key).unwrap_or_default(),
        format,
    })
}

/// `GET /v1/bills/{number}/radian/events` (`docs/contract.md` §2.7): `status`, `message`, and `data` a
/// list of events with six required texts each.
pub(crate) fn events(body: &[u8]) -> Result<BillEvents, FactusError> {
    let document = object(body)?;
    let status = text(document.get("status")).ok_or_else(|| missing("status"))?;
    let list = document
        .get("data")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("Respuesta inesperada de Factus: 'data' debe ser una lista".to_owned()))?;
    let events = list
        .iter()
        .enumerate()
        .map(|(index, event)| {
            let field = |key: &str| text(event.get(key)).ok_or_else(|| missing_in(index, key));
            Ok(BillEvent {
                number: field("number")?,
                cude: field("cude")?,
                event_code: field("event_code")?,
                event_name: field("event_name")?,
                effective_date: field("effective_date")?,
                effective_time: field("effective_time")?,
            })
        })
        .collect::<Result<_, FactusError>>()?;
    Ok(BillEvents { status, message: text(document.get("message")), events })
}

/// Factus' `{status, message}` (send e-mail, delete), both required.
pub(crate) fn status_message(body: &[u8]) -> Result<StatusMessage, FactusError> {
    let document = object(body)?;
    Ok(StatusMessage {
        status: text(document.get("status")).ok_or_else(|| missing("status"))?,
        message: text(document.get("message")).ok_or_else(|| missing("message"))?,
    })
}

/// A catalogue list: `data`, or `data.data` when Factus paginates (`docs/contract.md` §2.10).
pub(crate) fn list(body: &[u8]) -> Result<Vec<Value>, FactusError> {
    let document = object(body)?;
    let data = document.get("data").unwrap_or(&Value::Null);
    let list = match data {
        Value::Array(items) => Some(items),
        Value::Object(page) => page.get("data").and_then(Value::as_array),
        _ => None,
    };
    list.cloned().ok_or_else(|| invalid(format!("Unexpected API structure: {}", quote(data))))
}

pub(crate) fn municipality(index: usize, item: &Value) -> Result<Municipality, FactusError> {
    // Some Factus answers expand `department` into `{id, code, name}`; the reference's model is
    // its name.
    let department = match item.get("department") {
        Some(Value::Object(department)) => text(department.get("name")),
        other => text(other),
    };
    Ok(Municipality {
        id: required_int(index, item, "id")?,
        name: required_text(index, item, "name")?,
        code: required_text(index, item, "code")?,
        department: department.ok_or_else(|| missing_in(index, "department"))?,
    })
}

pub(crate) fn product_tribute(index: usize, item: &Value) -> Result<ProductTribute, FactusError> {
    Ok(ProductTribute {
        id: required_int(index, item, "id")?,
        name: required_text(index, item, "name")?,
        code: required_text(index, item, "code")?,
        description: text(item.get("description")),
    })
}

pub(crate) fn measurement_unit(index: usize, item: &Value) -> Result<MeasurementUnit, FactusError> {
    Ok(MeasurementUnit {
        id: required_int(index, item, "id")?,
        name: required_text(index, item, "name")?,
        code: required_text(index, item, "code")?,
    })
}

pub(crate) fn numbering_range(index: usize, item: &Value) -> Result<NumberingRange, FactusError> {
    // Lists name the document (`Factura de Venta`); show, create and update give its code (`21`)
    // and `document_name`. Both are kept, whichever came.
    let sent = required_text(index, item, "document")?;
    let (document, document_code) = match (range_document_name(&sent), text(item.get("document_name"))) {
        (_, Some(name)) => (name, Some(sent)),
        (Some(name), None) => (name.to_owned(), Some(sent)),
        (None, None) => (sent.clone(), range_document_code(&sent).map(str::to_owned)),
    };
    Ok(NumberingRange {
        id: required_int(index, item, "id")?,
        document,
        document_code,
        prefix: required_text(index, item, "prefix")?,
        from: int(item.get("from")),
        to: int(item.get("to")),
        current: int(item.get("current")),
        resolution_number: text(item.get("resolution_number")),
        start_date: text(item.get("start_date")),
        end_date: text(item.get("end_date")),
        technical_key: text(item.get("technical_key")),
        is_expired: flag(item.get("is_expired")).unwrap_or(false),
        is_active: flag(item.get("is_active")).ok_or_else(|| missing_in(index, "is_active"))?,
        created_at: text(item.get("created_at")),
        updated_at: text(item.get("updated_at")),
    })
}

/// One range answered alone (show, create, update): `data` is the range.
pub(crate) fn single_range(body: &[u8]) -> Result<NumberingRange, FactusError> {
    let document = object(body)?;
    let data = document.get("data").filter(|data| data.is_object()).ok_or_else(|| missing("data"))?;
    numbering_range(0, data)
}

/// An item of `GET /v1/numbering-ranges/dian` (`from`/`to` come as strings).
pub(crate) fn dian_range(index: usize, item: &Value) -> Result<DianNumberingRange, FactusError> {
    Ok(DianNumberingRange {
        resolution_number: required_text(index, item, "resolution_number")?,
        prefix: required_text(index, item, "prefix")?,
        from: int(item.get("from")),
        to: int(item.get("to")),
        start_date: text(item.get("start_date")),
        end_date: text(item.get("end_date")),
        technical_key: text(item.get("technical_key")),
    })
}

fn code_name(value: Option<&Value>) -> Option<CodeName> {
    let object = value?.as_object()?;
    Some(CodeName { code: text(object.get("code"))?, name: text(object.get("name")).unwrap_or_default() })
}

/// `GET`/`PUT /v1/company` (`/v2/companies`): `data` is the profile (`docs/factus.md` §7.9).
pub(crate) fn company(body: &[u8]) -> Result<Company, FactusError> {
    let document = object(body)?;
    let data = optional_object(document.get("data"), "data")?.ok_or_else(|| missing("data"))?;
    let field = |key: &str| text(data.get(key));
    let municipality = data.get("municipality").and_then(Value::as_object).and_then(|municipality| {
        Some(CompanyMunicipality {
            code: text(municipality.get("code"))?,
            name: text(municipality.get("name")).unwrap_or_default(),
            department: code_name(municipality.get("department")),
        })
    });
    let responsibilities = match data.get("responsibilities") {
        Some(Value::Array(items)) => items.iter().filter_map(|item| code_name(Some(item))).collect(),
        _ => Vec::new(),
    };
    Ok(Company {
        url_logo: field("url_logo"),
        nit: field("nit"),
        dv: field("dv"),
        company: field("company"),
        trade_name: field("trade_name"),
        names: field("names"),
        surnames: field("surnames"),
        graphic_representation_name: field("graphic_representation_name"),
        registration_code: field("registration_code"),
        economic_activity: field("economic_activity"),
        phone: field("phone"),
        email: field("email"),
        address: field("address"),
        tribute: code_name(data.get("tribute")),
        legal_organization: code_name(data.get("legal_organization")),
        municipality,
        responsibilities,
        created_at: field("created_at"),
        updated_at: field("updated_at"),
    })
}

/// `POST /v1/company/logo`: the logo's URL, `data.url_logo` (some answers spell it `url_log`).
pub(crate) fn logo_url(body: &[u8]) -> Result<String, FactusError> {
    let document = object(body)?;
    let data = optional_object(document.get("data"), "data")?.ok_or_else(|| missing("data"))?;
    text(data.get("url_logo")).or_else(|| text(data.get("url_log"))).ok_or_else(|| missing("url_logo"))
}

pub(crate) fn country(index: usize, item: &Value) -> Result<Country, FactusError> {
    Ok(Country {
        id: required_int(index, item, "id")?,
        code: required_text(index, item, "code")?,
        name: required_text(index, item, "name")?,
    })
}

/// `GET /v1/dian/acquirer`: `data.{name,email}`; DIAN may know no e-mail (`""`).
pub(crate) fn acquirer(body: &[u8]) -> Result<Acquirer, FactusError> {
    let document = object(body)?;
    let data = optional_object(document.get("data"), "data")?.ok_or_else(|| missing("data"))?;
    Ok(Acquirer {
        name: text(data.get("name")).ok_or_else(|| missing("name"))?,
        email: text(data.get("email")).unwrap_or_default(),
    })
}

/// The number of the bill listed under exactly `reference_code` (Factus' filter may match more
/// loosely), or `None`.
/// `data.pagination.last_page` of a Laravel list, when present.
pub(crate) fn last_page(body: &[u8]) -> Option<u64> {
    let document: Value = serde_json::from_slice(body).ok()?;
    document.get("data")?.get("pagination")?.get("last_page")?.as_u64()
}

pub(crate) fn listed_bill_number(items: &[Value], reference_code: &str) -> Option<String> {
    items
        .iter()
        .find(|item| text(item.get("reference_code")).as_deref() == Some(reference_code))
        .map(|item| text(item.get("number")).unwrap_or_default())
}

fn object(body: &[u8]) -> Result<Map<String, Value>, FactusError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(other) => Err(invalid(format!("Unexpected API structure: {}", quote(&other)))),
        Err(error) => Err(invalid(format!("Respuesta de Factus no es JSON válido: {error}"))),
    }
}

/// A part that may be missing or null, but must be an object when present.
fn optional_object<'a>(value: Option<&'a Value>, name: &str) -> Result<Option<&'a Map<String, Value>>, FactusError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(object)) => Ok(Some(object)),
        // PHP renders an empty associative array as `[]`.
        Some(Value::Array(items)) if items.is_empty() => Ok(None),
        Some(_) => Err(invalid(format!("Respuesta inesperada de Factus: '{name}' debe ser un objeto"))),
    }
}

/// A text, also from a number or a boolean; `None` for null or missing.
fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// An integer, also from a whole float or a numeric string.
fn int(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Number(number) => number.as_i64().or_else(|| {
            number.as_f64().filter(|float| float.fract() == 0.0 && float.abs() < 9.0e15).map(|float| float as i64)
        }),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// A boolean, also from Factus' 0/1.
fn flag(value: Option<&Value>) -> Option<bool> {
    match value? {
        Value::Bool(flag) => Some(*flag),
        Value::Number(number) => match number.as_i64() {
            Some(0) => Some(false),
            Some(1) => Some(true),
            _ => None,
        },
        Value::String(text) => match text.trim() {
            "1" | "true" => Some(true),
            "0" | "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn required_text(index: usize, item: &Value, key: &str) -> Result<String, FactusError> {
    text(item.get(key)).ok_or_else(|| missing_in(index, key))
}

fn required_int(index: usize, item: &Value, key: &str) -> Result<i64, FactusError> {
    int(item.get(key)).ok_or_else(|| missing_in(index, key))
}

fn invalid(message: String) -> FactusError {
    FactusError::InvalidResponse { message }
}

fn missing(key: &str) -> FactusError {
    invalid(format!("Respuesta inesperada de Factus: falta '{key}'"))
}

fn missing_in(index: usize, key: &str) -> FactusError {
    invalid(format!("Respuesta inesperada de Factus: el elemento {index} no tiene '{key}' válido"))
}

fn quote(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(MAX_QUOTED_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn a_token_without_refresh_token_has_none() {
        let token = token(br#"{"access_token":"AT","token_type":"Bearer","expires_in":3600}"#).expect("token");
        assert_eq!(token.access_token.expose_secret(), "AT");
        assert!(token.refresh_token.is_none());
    }

    #[test]
    fn a_token_answer_missing_a_field_names_it_like_the_reference() {
        let error = token(br#"{"token_type":"Bearer","expires_in":3600}"#).unwrap_err();
        assert!(matches!(&error, FactusError::InvalidResponse { message } if message == "'access_token'"), "{error:?}");
        let error = token(br#"{"access_token":"AT","token_type":"Bearer"}"#).unwrap_err();
        assert!(matches!(&error, FactusError::InvalidResponse { message } if message == "'expires_in'"), "{error:?}");
    }

    #[test]
    fn an_issued_bill_is_mapped_with_the_reference_defaults() {
        let bill = issued_bill(
            br#"{"status":"Created","data":{"bill":{"number":"SETP1","status":1}}}"#,
            FactusApiVersion::V1,
            DocumentKind::Invoice,
        )
        .expect("bill");
        assert_eq!(
            bill,
            IssuedBill {
                number: "SETP1".into(),
                prefix: String::new(),
                cufe: String::new(),
                qr_url: String::new(),
                status: "1".into(),
                message: Some("Success".into()),
            }
        );
        let bill = issued_bill(
            br#"{"data":{"bill":{"number":"SETP2","status":0}}}"#,
            FactusApiVersion::V1,
            DocumentKind::Invoice,
        )
        .expect("bill");
        assert_eq!(bill.status, "0");
    }

    #[test]
    fn a_2xx_body_without_a_bill_number_is_not_a_bill() {
        let bodies =
            ["{}", r#"{"data":{}}"#, r#"{"data":{"bill":{}}}"#, r#"{"data":{"bill":{"number":""}}}"#, "null", "[]"];
        for body in bodies {
            let error = issued_bill(body.as_bytes(), FactusApiVersion::V1, DocumentKind::Invoice).unwrap_err();
            assert!(matches!(error, FactusError::InvalidResponse { .. }), "v1 {body}: {error:?}");
        }
        // v2 has no `bill` wrapper: the number is `data.number`.
        for body in
            ["{}", r#"{"data":{}}"#, r#"{"data":{"number":""}}"#, r#"{"data":{"bill":{"number":"SETP1"}}}"#, "null"]
        {
            let error = issued_bill(body.as_bytes(), FactusApiVersion::V2, DocumentKind::Invoice).unwrap_err();
            assert!(matches!(error, FactusError::InvalidResponse { .. }), "v2 {body}: {error:?}");
        }
    }

    #[test]
    fn a_shown_bill_keeps_status_message_and_data_in_that_order() {
        let shown = shown_bill(br#"{"data":{"bill":{"id":1}},"status":"OK","extra":1}"#).expect("shown");
        assert_eq!(shown.as_str(), r#"{"status":"OK","message":null,"data":{"bill":{"id":1}}}"#);
    }

    #[test]
    fn a_shown_bill_without_a_string_status_or_an_object_data_is_invalid() {
        for body in [r#"{"status":1,"data":{}}"#, r#"{"status":"OK"}"#, r#"{"status":"OK","data":[]}"#, "[]"] {
            assert!(matches!(shown_bill(body.as_bytes()), Err(FactusError::InvalidResponse { .. })), "{body}");
        }
    }

    #[test]
    fn downloads_default_the_file_name_and_content() {
        let file = downloaded(br#"{"status":"OK"}"#, "SETP1", DocumentFormat::Xml).expect("file");
        assert_eq!((file.file_name.as_str(), file.content_base64.as_str()), ("SETP1.xml", ""));
        let file = downloaded(
            br#"{"data":{"file_name":"fv1","pdf_base_64_encoded":"JVBERi0="}}"#,
            "SETP1",
            DocumentFormat::Pdf,
        )
        .expect("file");
        assert_eq!((file.file_name.as_str(), file.content_base64.as_str()), ("fv1", "JVBERi0="));
    }

    #[test]
    fn lists_are_read_from_data_or_from_the_page_inside_it() {
        assert_eq!(list(br#"{"data":[1,2]}"#).expect("list").len(), 2);
        assert_eq!(list(br#"{"data":{"data":[1],"pagination":{}}}"#).expect("list").len(), 1);
        let error = list(br#"{"data":{"x":1}}"#).unwrap_err();
        assert!(
            matches!(&error, FactusError::InvalidResponse { message } if message == r#"Unexpected API structure: {"x":1}"#),
            "{error:?}"
        );
    }

    #[test]
    fn numbering_ranges_read_factus_integers_and_flags_leniently() {
        let item = json!({"id": "8", "document": "Factura de Venta", "prefix": "SETP", "from": 990000000,
            "to": "995000000", "current": null, "resolution_number": 18760000001_i64, "is_active": 1});
        let range = numbering_range(0, &item).expect("range");
        assert_eq!(range.id, 8);
        assert_eq!(range.to, Some(995_000_000));
        assert_eq!(range.current, None);
        assert_eq!(range.resolution_number.as_deref(), Some("18760000001"));
        assert!(range.is_active);
        assert_eq!((range.document.as_str(), range.document_code.as_deref()), ("Factura de Venta", Some("21")));

        let shown = json!({"id": 11, "document": "21", "document_name": "Factura de Venta", "prefix": "SETT",
            "end_date": "2021-01-01", "is_expired": true, "is_active": 1});
        let range = numbering_range(0, &shown).expect("range");
        assert_eq!((range.document.as_str(), range.document_code.as_deref()), ("Factura de Venta", Some("21")));
        assert!(range.is_expired);
        assert_eq!(range.end_date.as_deref(), Some("2021-01-01"));

        let error = numbering_range(3, &json!({"id": 1, "document": "x", "prefix": "P"})).unwrap_err();
        assert!(
            matches!(&error, FactusError::InvalidResponse { message } if message.contains("elemento 3") && message.contains("is_active"))
        );
    }

    #[test]
    fn a_listed_bill_must_match_the_reference_exactly() {
        let items = vec![
            json!({"reference_code": "R10", "number": "SETP2"}),
            json!({"reference_code": "R1", "number": "SETP1"}),
        ];
        assert_eq!(listed_bill_number(&items, "R1").as_deref(), Some("SETP1"));
        assert_eq!(listed_bill_number(&items, "R"), None);
    }
}
