//! Request validation that reports **every** problem of a body at once, FastAPI style.
//!
//! serde stops at the first error, but clients of the original service get the whole list, each
//! entry with its exact `loc` path and the seed guide's `type` codes. So request bodies are first
//! parsed into a `serde_json::Value` and then read field by field through [`Fields`], which
//! records a [`FieldError`] for each missing or mistyped field and carries on.
//!
//! Codes and messages (Pydantic v1 wording, as the seed guide documents them):
//!
//! | case | `type` | `msg` |
//! |---|---|---|
//! | missing | `value_error.missing` | `field required` |
//! | not a string | `type_error.str` | `str type expected` |
//! | not an integer | `type_error.integer` | `value is not a valid integer` |
//! | not a decimal | `type_error.decimal` | `value is not a valid decimal` |
//! | not a boolean | `type_error.bool` | `value could not be parsed to a boolean` |
//! | not a list / object | `type_error.list` / `type_error.dict` | `value is not a valid list` / `dict` |
//! | bad date | `value_error.date` | `invalid date format` |
//! | bad e-mail | `value_error.email` | `value is not a valid email address` |
//! | bounds | `value_error.number.not_gt` / `not_ge` / `not_le` | `ensure this value is greater than 0` … |
//! | too long | `value_error.any_str.max_length` | `ensure this value has at most 250 characters` |
//! | business rule | `value_error` | the rule's own message |

use std::borrow::Cow;
use std::fmt;

use factus_domain::invoice::EmailAddress;
use rust_decimal::Decimal;
use serde::Serialize;
use serde::ser::SerializeSeq;
use serde_json::{Map, Value};
use time::Date;

/// One step of a `loc` path: an object key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocPart {
    Key(Cow<'static, str>),
    Index(usize),
}

/// Where an error is, as FastAPI reports it: `["body", "items", 0, "price"]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Loc(Vec<LocPart>);

impl Loc {
    /// The request body.
    #[must_use]
    pub fn body() -> Self {
        Self(vec![LocPart::Key(Cow::Borrowed("body"))])
    }

    /// A request header (FastAPI lower-cases header names in `loc`).
    #[must_use]
    pub fn header(name: &'static str) -> Self {
        Self(vec![LocPart::Key(Cow::Borrowed("header")), LocPart::Key(Cow::Borrowed(name))])
    }

    /// A query parameter.
    #[must_use]
    pub fn query(name: &'static str) -> Self {
        Self(vec![LocPart::Key(Cow::Borrowed("query")), LocPart::Key(Cow::Borrowed(name))])
    }

    /// A path parameter.
    #[must_use]
    pub fn path(name: &'static str) -> Self {
        Self(vec![LocPart::Key(Cow::Borrowed("path")), LocPart::Key(Cow::Borrowed(name))])
    }

    #[must_use]
    pub fn key(&self, key: impl Into<Cow<'static, str>>) -> Self {
        let mut parts = self.0.clone();
        parts.push(LocPart::Key(key.into()));
        Self(parts)
    }

    #[must_use]
    pub fn index(&self, index: usize) -> Self {
        let mut parts = self.0.clone();
        parts.push(LocPart::Index(index));
        Self(parts)
    }

    #[must_use]
    pub fn parts(&self) -> &[LocPart] {
        &self.0
    }
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (position, part) in self.0.iter().enumerate() {
            if position > 0 {
                f.write_str(".")?;
            }
            match part {
                LocPart::Key(key) => f.write_str(key)?,
                LocPart::Index(index) => write!(f, "{index}")?,
            }
        }
        Ok(())
    }
}

impl Serialize for Loc {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for part in &self.0 {
            match part {
                LocPart::Key(key) => seq.serialize_element(key.as_ref())?,
                LocPart::Index(index) => seq.serialize_element(index)?,
            }
        }
        seq.end()
    }
}

/// One entry of a FastAPI `detail` list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub loc: Loc,
    pub msg: String,
    #[serde(rename = "type")]
    pub kind: Cow<'static, str>,
}

impl FieldError {
    pub fn new(loc: Loc, msg: impl Into<String>, kind: impl Into<Cow<'static, str>>) -> Self {
        Self { loc, msg: msg.into(), kind: kind.into() }
    }

    #[must_use]
    pub fn missing(loc: Loc) -> Self {
        Self::new(loc, "field required", "value_error.missing")
    }

    /// A business rule of the domain (`type` `value_error`, the rule's own message).
    pub fn rule(loc: Loc, msg: impl Into<String>) -> Self {
        Self::new(loc, msg, "value_error")
    }
}

/// Collects the errors of one request.
#[derive(Debug, Default)]
pub struct Errors(Vec<FieldError>);

impl Errors {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, error: FieldError) {
        self.0.push(error);
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    #[must_use]
    pub fn into_vec(self) -> Vec<FieldError> {
        self.0
    }

    /// `Ok(value)` when nothing was recorded, else every recorded error.
    ///
    /// # Errors
    /// The recorded errors, when there are any.
    pub fn finish<T>(self, value: T) -> Result<T, Vec<FieldError>> {
        if self.0.is_empty() { Ok(value) } else { Err(self.0) }
    }
}

/// A JSON object read field by field; every problem is recorded in an [`Errors`].
///
/// Each reader returns `Some` only for a present, well-typed value; optional readers return
/// `Ok(None)`-like `None` for absent or `null` fields without recording anything.
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a> {
    map: &'a Map<String, Value>,
    loc: &'a Loc,
}

/// How a present value failed to have the expected type.
const STR: (&str, &str) = ("str type expected", "type_error.str");
const INTEGER: (&str, &str) = ("value is not a valid integer", "type_error.integer");
const DECIMAL: (&str, &str) = ("value is not a valid decimal", "type_error.decimal");
const BOOL: (&str, &str) = ("value could not be parsed to a boolean", "type_error.bool");
const LIST: (&str, &str) = ("value is not a valid list", "type_error.list");
const DICT: (&str, &str) = ("value is not a valid dict", "type_error.dict");
const DATE: (&str, &str) = ("invalid date format", "value_error.date");

fn type_error(errors: &mut Errors, loc: Loc, (msg, kind): (&str, &'static str)) {
    errors.push(FieldError::new(loc, msg, kind));
}

/// `required_<type>` and `optional_<type>` of [`Fields`]: the field read with `as_<type>`, noted
/// as a [`FieldKind`].
macro_rules! typed_fields {
    ($($required:ident, $optional:ident: $kind:ident => $read:ident -> $type:ty;)+) => {$(
        pub fn $required(&self, key: &'static str, errors: &mut Errors) -> Option<$type> {
            self.field(key, FieldKind::$kind, true, errors, Self::$read)
        }

        pub fn $optional(&self, key: &'static str, errors: &mut Errors) -> Option<$type> {
            self.field(key, FieldKind::$kind, false, errors, Self::$read)
        }
    )+};
}

impl<'a> Fields<'a> {
    /// Reads `value` as an object located at `loc`; records `value_error.missing` for `null` (no
    /// body at all) and `type_error.dict` for anything else.
    pub fn of(value: &'a Value, loc: &'a Loc, errors: &mut Errors) -> Option<Self> {
        match value {
            Value::Object(map) => Some(Self { map, loc }),
            Value::Null => {
                errors.push(FieldError::missing(loc.clone()));
                None
            }
            _ => {
                type_error(errors, loc.clone(), DICT);
                None
            }
        }
    }

    #[must_use]
    pub fn loc(&self) -> &'a Loc {
        self.loc
    }

    /// The raw value of a key; `None` when absent or `null`.
    #[must_use]
    pub fn raw(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|value| !value.is_null())
    }

    fn required(&self, key: &'static str, errors: &mut Errors) -> Option<&'a Value> {
        let value = self.raw(key);
        if value.is_none() {
            errors.push(FieldError::missing(self.loc.key(key)));
        }
        value
    }

    /// The value of `key` read with `read`, noted as a field of `kind` ([`reads`]); an absent
    /// one is `None`, and a missing-field error when `required`.
    fn field<T>(
        &self,
        key: &'static str,
        kind: FieldKind,
        required: bool,
        errors: &mut Errors,
        read: fn(&Self, &'static str, &'a Value, &mut Errors) -> Option<T>,
    ) -> Option<T> {
        reads::note(&self.loc.key(key), kind, required);
        let value = if required { self.required(key, errors) } else { self.raw(key) };
        value.and_then(|value| read(self, key, value, errors))
    }

    /// `parsed`, or the type error `expected` at `key` when the value did not parse.
    fn or_type_error<T>(
        &self,
        key: &'static str,
        parsed: Option<T>,
        expected: (&str, &'static str),
        errors: &mut Errors,
    ) -> Option<T> {
        if parsed.is_none() {
            type_error(errors, self.loc.key(key), expected);
        }
        parsed
    }

    typed_fields! {
        required_str, optional_str: Str => as_str -> String;
        required_int, optional_int: Int => as_int -> i64;
        required_decimal, optional_decimal: Decimal => as_decimal -> Decimal;
        required_bool, optional_bool: Bool => as_bool -> bool;
        required_date, optional_date: Date => as_date -> Date;
        required_array, optional_array: Array => as_array -> &'a Vec<Value>;
    }

    fn as_str(&self, key: &'static str, value: &Value, errors: &mut Errors) -> Option<String> {
        let text = self.or_type_error(key, value.as_str(), STR, errors)?;
        if let Some(max) = max_text_len(key)
            && text.chars().count() > max
        {
            errors.push(FieldError::new(
                self.loc.key(key),
                format!("ensure this value has at most {max} characters"),
                "value_error.any_str.max_length",
            ));
            return None;
        }
        Some(text.to_owned())
    }

    /// Integers as JSON integers, whole floats (`2.0`) or numeric strings (`"2"`), as Pydantic's
    /// lax mode accepts them.
    fn as_int(&self, key: &'static str, value: &Value, errors: &mut Errors) -> Option<i64> {
        let parsed = match value {
            Value::Number(number) => number.as_i64().or_else(|| {
                number.as_f64().filter(|float| float.fract() == 0.0 && float.abs() < 9.0e15).map(|float| {
                    #[allow(clippy::cast_possible_truncation)]
                    let whole = float as i64;
                    whole
                })
            }),
            Value::String(text) => text.trim().parse::<i64>().ok(),
            _ => None,
        };
        self.or_type_error(key, parsed, INTEGER, errors)
    }

    /// Decimals from JSON numbers or numeric strings, keeping the scale the client wrote
    /// (`"19.00"` stays `19.00`, `50000` stays `50000`).
    fn as_decimal(&self, key: &'static str, value: &Value, errors: &mut Errors) -> Option<Decimal> {
        let parsed = match value {
            Value::Number(number) => parse_decimal(&number.to_string()),
            Value::String(text) => parse_decimal(text.trim()),
            _ => None,
        };
        self.or_type_error(key, parsed, DECIMAL, errors)
    }

    fn as_bool(&self, key: &'static str, value: &Value, errors: &mut Errors) -> Option<bool> {
        let parsed = match value {
            Value::Bool(flag) => Some(*flag),
            Value::Number(number) => match number.as_i64() {
                Some(0) => Some(false),
                Some(1) => Some(true),
                _ => None,
            },
            Value::String(text) => match text.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Some(true),
                "false" | "0" | "no" | "off" => Some(false),
                _ => None,
            },
            _ => None,
        };
        self.or_type_error(key, parsed, BOOL, errors)
    }

    fn as_date(&self, key: &'static str, value: &Value, errors: &mut Errors) -> Option<Date> {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        let parsed = value.as_str().and_then(|text| Date::parse(text, &format).ok());
        self.or_type_error(key, parsed, DATE, errors)
    }

    /// An e-mail address; records `value_error.email` when it is not one.
    pub fn required_email(&self, key: &'static str, errors: &mut Errors) -> Option<String> {
        reads::note(&self.loc.key(key), FieldKind::Email, true);
        let text = self.required_str(key, errors)?;
        check_email(&text, self.loc.key(key), errors)
    }

    pub fn optional_email(&self, key: &'static str, errors: &mut Errors) -> Option<String> {
        reads::note(&self.loc.key(key), FieldKind::Email, false);
        let text = self.optional_str(key, errors)?;
        check_email(&text, self.loc.key(key), errors)
    }

    pub fn optional_object(&self, key: &'static str, errors: &mut Errors) -> Option<&'a Map<String, Value>> {
        self.field(key, FieldKind::Object, false, errors, |fields, key, value, errors| {
            fields.or_type_error(key, value.as_object(), DICT, errors)
        })
    }

    fn as_array(&self, key: &'static str, value: &'a Value, errors: &mut Errors) -> Option<&'a Vec<Value>> {
        self.or_type_error(key, value.as_array(), LIST, errors)
    }
}

/// What a reader expects a field to be; recorded in tests to compare the parsers with the
/// document (`crate::schemas`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FieldKind {
    Str,
    Int,
    Decimal,
    Bool,
    Date,
    Email,
    Object,
    Array,
}

/// Records every field a parser reads, on this thread, while a test asks for it; nothing in
/// other builds.
pub mod reads {
    use super::{FieldKind, Loc};

    #[cfg(test)]
    thread_local! {
        static READS: std::cell::RefCell<Option<Vec<(Loc, FieldKind, bool)>>> = const { std::cell::RefCell::new(None) };
    }

    /// Notes that the field at `loc` was read as `kind` (`required` or optional).
    #[inline]
    pub fn note(loc: &Loc, kind: FieldKind, required: bool) {
        #[cfg(test)]
        READS.with(|reads| {
            if let Some(reads) = reads.borrow_mut().as_mut() {
                reads.push((loc.clone(), kind, required));
            }
        });
        #[cfg(not(test))]
        let _ = (loc, kind, required);
    }

    /// Notes the field at `loc` anew, forgetting how a reader it delegated to read it and its
    /// first item (a reader that takes a field in another form than the one it delegates to).
    #[inline]
    pub fn renote(loc: &Loc, kind: FieldKind, required: bool) {
        #[cfg(test)]
        READS.with(|reads| {
            if let Some(reads) = reads.borrow_mut().as_mut() {
                let item = loc.index(0);
                reads.retain(|(read, _, _)| *read != *loc && *read != item);
            }
        });
        note(loc, kind, required);
    }

    /// Runs `parse` and returns what it read.
    #[cfg(test)]
    pub fn recorded(parse: impl FnOnce()) -> Vec<(Loc, FieldKind, bool)> {
        READS.with(|reads| *reads.borrow_mut() = Some(Vec::new()));
        parse();
        READS.with(|reads| reads.borrow_mut().take()).unwrap_or_default()
    }
}

/// A decimal from text, rejecting exponents, NaN and infinities.
#[must_use]
pub fn parse_decimal(text: &str) -> Option<Decimal> {
    if text.is_empty() || text.contains(['e', 'E']) {
        return Decimal::from_scientific(text).ok().filter(|_| !text.is_empty());
    }
    text.parse::<Decimal>().ok()
}

/// The longest free text accepted per field of a document body, so that a megabyte of name is
/// refused here instead of forwarded to Factus. DIAN's UBL fields have no documented limits for
/// most of these; these are generous bounds above any real value (see docs/ARCHITECTURE.md,
/// "Length limits on free text").
#[must_use]
pub fn max_text_len(key: &str) -> Option<usize> {
    match key {
        // Names of people and companies (`names`, `company`, `trade_name`, a provider's `name`
        // or an item's `name`).
        "names" | "surnames" | "company" | "trade_name" | "name" => Some(450),
        // The company's mercantile registration number.
        "registration_code" => Some(100),
        "address" => Some(250),
        "note" => Some(250),
        "code_reference" | "code" | "scheme_id" => Some(100),
        "identification" => Some(20),
        "phone" | "phone_number" => Some(20),
        "email" => Some(EmailAddress::MAX_LEN),
        _ => None,
    }
}

/// Whether the text is an e-mail address, by the domain's rule ([`EmailAddress::parse`]), so the
/// edge and the domain never disagree about what an address is.
#[must_use]
pub fn is_email(text: &str) -> bool {
    EmailAddress::parse(text).is_ok()
}

fn check_email(text: &str, loc: Loc, errors: &mut Errors) -> Option<String> {
    if is_email(text) {
        Some(text.to_owned())
    } else {
        errors.push(FieldError::new(loc, "value is not a valid email address", "value_error.email"));
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(body: &Value) -> (Option<i64>, Option<String>, Option<Decimal>, Vec<FieldError>) {
        let loc = Loc::body();
        let mut errors = Errors::new();
        let fields = Fields::of(body, &loc, &mut errors).expect("object");
        let quantity = fields.required_int("quantity", &mut errors);
        let name = fields.required_str("name", &mut errors);
        let price = fields.required_decimal("price", &mut errors);
        (quantity, name, price, errors.into_vec())
    }

    #[test]
    fn every_problem_of_a_body_is_reported_at_once() {
        let (_, _, _, errors) = read(&json!({"quantity": "two", "price": []}));
        let kinds: Vec<_> = errors.iter().map(|e| (e.loc.to_string(), e.kind.as_ref())).collect();
        assert_eq!(
            kinds,
            [
                ("body.quantity".to_owned(), "type_error.integer"),
                ("body.name".to_owned(), "value_error.missing"),
                ("body.price".to_owned(), "type_error.decimal"),
            ]
        );
    }

    #[test]
    fn integers_accept_whole_floats_and_numeric_strings() {
        let (quantity, ..) = read(&json!({"quantity": 2.0, "name": "x", "price": 1}));
        assert_eq!(quantity, Some(2));
        let (quantity, ..) = read(&json!({"quantity": "3", "name": "x", "price": 1}));
        assert_eq!(quantity, Some(3));
    }

    // serde_json's default float parser may miss the nearest double by one unit; a whole number
    // written with `.0` then reads as fractional (or a price gains digits) unless it parses
    // exactly (the `float_roundtrip` feature).
    #[test]
    fn whole_floats_as_written_in_the_body_are_integers() {
        let body: Value = serde_json::from_str(r#"{"quantity": 2041052386734919.0, "name": "x", "price": 1}"#).unwrap();
        let (quantity, _, _, errors) = read(&body);
        assert_eq!(quantity, Some(2_041_052_386_734_919), "{errors:?}");
    }

    #[test]
    fn fractional_numbers_are_not_integers() {
        let (quantity, _, _, errors) = read(&json!({"quantity": 2.5, "name": "x", "price": 1}));
        assert_eq!(quantity, None);
        assert_eq!(errors[0].msg, "value is not a valid integer");
    }

    #[test]
    fn numbers_are_not_strings() {
        let (_, name, _, errors) = read(&json!({"quantity": 1, "name": 5, "price": 1}));
        assert_eq!(name, None);
        assert_eq!(errors[0].kind, "type_error.str");
    }

    #[test]
    fn decimals_keep_the_scale_the_client_wrote() {
        let (_, _, price, _) = read(&json!({"quantity": 1, "name": "x", "price": "19.00"}));
        assert_eq!(price.map(|p| p.to_string()), Some("19.00".to_owned()));
        let (_, _, price, _) = read(&json!({"quantity": 1, "name": "x", "price": 50000}));
        assert_eq!(price.map(|p| p.to_string()), Some("50000".to_owned()));
    }

    #[test]
    fn loc_serialises_indices_as_numbers() {
        let loc = Loc::body().key("items").index(0).key("price");
        assert_eq!(serde_json::to_value(&loc).unwrap(), json!(["body", "items", 0, "price"]));
    }

    #[test]
    fn email_check_accepts_ordinary_addresses_and_refuses_others() {
        assert!(is_email("ana@shop.co"));
        assert!(is_email("first.last+tag@mail.example.com"));
        assert!(!is_email("ana"));
        assert!(!is_email("ana@localhost"));
        assert!(!is_email("ana @shop.co"));
        assert!(!is_email("@shop.co"));
    }
}
