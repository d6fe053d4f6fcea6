//! Field readers: the Laravel rules every request body is read with. Each failing field is
//! reported under its dot path (`items.0.tribute_id`) with Factus' Spanish message.
//!
//! Integer fields accept JSON integers, whole numbers and digit strings; decimal fields accept
//! numbers and numeric strings with at most two decimals; empty strings count as missing.

use std::borrow::Cow;
use std::str::FromStr;
use std::sync::LazyLock;

use rust_decimal::Decimal;
use serde_json::{Map, Value};
use time::Date;
use time::macros::format_description;

/// Field errors keyed by dot path, in the order found.
#[derive(Debug, Default)]
pub(crate) struct Errors(Map<String, Value>);

impl Errors {
    pub fn add(&mut self, path: &str, message: String) {
        match self.0.get_mut(path) {
            Some(Value::Array(list)) => list.push(Value::String(message)),
            _ => {
                self.0.insert(path.to_owned(), Value::Array(vec![Value::String(message)]));
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_json(self) -> Value {
        Value::Object(self.0)
    }
}

/// Spanish attribute names Factus uses in messages; other fields are named by their path.
pub(crate) fn attribute(path: &str) -> Cow<'_, str> {
    Cow::Borrowed(match path {
        "numbering_range_id" => "id rango de numeración",
        "reference_code" => "código de referencia",
        "observation" => "observación",
        "payment_due_date" => "fecha de vencimiento",
        "customer" => "cliente",
        "customer.names" => "nombres",
        "customer.company" => "razón social",
        "customer.identification" => "identificación",
        "customer.email" => "correo electrónico",
        "billing_period" => "periodo de facturación",
        "billing_period.start_date" => "fecha de inicio",
        "billing_period.end_date" => "fecha de fin",
        "bill_id" => "bill id",
        "correction_concept_code" => "código de concepto de corrección",
        "prefix" => "prefijo",
        "current" => "consecutivo actual",
        other => other,
    })
}

pub(crate) fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() { key.to_owned() } else { format!("{prefix}.{key}") }
}

/// A body's top-level object; a body that is not an object reads as an empty one, so that every
/// required field is reported missing.
pub(crate) fn body_object(body: &Value) -> &Map<String, Value> {
    static EMPTY: LazyLock<Map<String, Value>> = LazyLock::new(Map::new);
    body.as_object().unwrap_or(&EMPTY)
}

/// A field's value, treating `null` and `""` as absent (Laravel's `ConvertEmptyStringsToNull`).
pub(crate) fn present<'v>(obj: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    match obj.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(v) => Some(v),
    }
}

pub(crate) fn decimal_of(value: &Value) -> Option<Decimal> {
    let text = match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_owned(),
        _ => return None,
    };
    Decimal::from_str(&text).or_else(|_| Decimal::from_scientific(&text)).ok()
}

/// Reads fields out of a JSON object, recording a Laravel-style error for each one that is
/// missing or malformed; every reader answers `None` when it recorded an error.
#[derive(Debug, Default)]
pub(crate) struct FieldReader {
    pub errors: Errors,
}

impl FieldReader {
    pub fn required(&mut self, path: &str) {
        self.errors.add(path, format!("El campo {} es obligatorio.", attribute(path)));
    }

    pub fn invalid(&mut self, path: &str) {
        self.errors.add(path, format!("El campo {} es inválido.", attribute(path)));
    }

    pub fn fail(&mut self, path: &str, rule: &str) {
        self.errors.add(path, format!("El campo {} {rule}", attribute(path)));
    }

    /// The field's value; a missing required one is recorded as such.
    fn value<'v>(&mut self, obj: &'v Map<String, Value>, path: &str, key: &str, required: bool) -> Option<&'v Value> {
        let value = present(obj, key);
        if value.is_none() && required {
            self.required(path);
        }
        value
    }

    /// A NIT's identification is digits only (its check digit goes in `dv`); `name` is how the
    /// message names the field.
    pub fn nit_digits(&mut self, path: &str, name: &str, identification: Option<&str>) {
        if identification.is_some_and(|id| !id.bytes().all(|b| b.is_ascii_digit())) {
            self.errors
                .add(path, format!("El campo {name} solo debe contener números (un NIT se envía sin DV ni guiones)."));
        }
    }

    /// `dv`, the NIT's check digit: one digit, as a number or a string.
    pub fn check_digit(&mut self, obj: &Map<String, Value>, prefix: &str) -> Option<String> {
        match present(obj, "dv")? {
            Value::Number(n) if n.as_u64().is_some_and(|d| d < 10) => Some(n.to_string()),
            Value::String(s) if s.len() == 1 && s.bytes().all(|b| b.is_ascii_digit()) => Some(s.clone()),
            _ => {
                self.invalid(&join(prefix, "dv"));
                None
            }
        }
    }

    /// A party's `identification` (required, at most 20 characters; digits only when `nit`, the
    /// message naming the field `nit_name`) and its `dv`.
    pub fn identification(
        &mut self,
        obj: &Map<String, Value>,
        prefix: &str,
        nit: bool,
        nit_name: &str,
    ) -> (Option<String>, Option<String>) {
        let identification = self.bounded_string(obj, prefix, "identification", true, 20);
        if nit {
            self.nit_digits(&join(prefix, "identification"), nit_name, identification.as_deref());
        }
        (identification, self.check_digit(obj, prefix))
    }

    /// A number with at most two decimals.
    fn two_decimals(&mut self, path: &str, value: &Value) -> Option<Decimal> {
        let Some(number) = decimal_of(value) else {
            self.fail(path, "debe ser un número.");
            return None;
        };
        if number.scale() > 2 {
            self.fail(path, "debe tener como máximo 2 cifras decimales.");
            return None;
        }
        Some(number)
    }

    pub fn string(&mut self, obj: &Map<String, Value>, prefix: &str, key: &str, required: bool) -> Option<String> {
        let path = join(prefix, key);
        match self.value(obj, &path, key, required)? {
            Value::String(s) => Some(s.clone()),
            _ => {
                self.fail(&path, "debe ser una cadena de caracteres.");
                None
            }
        }
    }

    pub fn bounded_string(
        &mut self,
        obj: &Map<String, Value>,
        prefix: &str,
        key: &str,
        required: bool,
        max: usize,
    ) -> Option<String> {
        let value = self.string(obj, prefix, key, required)?;
        if value.chars().count() > max {
            self.fail(&join(prefix, key), &format!("no debe contener más de {max} caracteres."));
            return None;
        }
        Some(value)
    }

    pub fn int(&mut self, obj: &Map<String, Value>, prefix: &str, key: &str, required: bool) -> Option<u64> {
        let path = join(prefix, key);
        let value = self.value(obj, &path, key, required)?;
        let parsed = match value {
            Value::Number(n) => n.as_u64().or_else(|| {
                decimal_of(value)
                    .filter(|d| d.fract().is_zero() && !d.is_sign_negative())
                    .and_then(|d| d.trunc().to_string().parse().ok())
            }),
            Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s.parse().ok(),
            _ => None,
        };
        if parsed.is_none() {
            self.fail(&path, "debe ser un número entero.");
        }
        parsed
    }

    /// An integer that must name an entry of a table.
    pub fn int_in(
        &mut self,
        obj: &Map<String, Value>,
        prefix: &str,
        key: &str,
        required: bool,
        valid: impl Fn(u64) -> bool,
    ) -> Option<u64> {
        let value = self.int(obj, prefix, key, required)?;
        if valid(value) {
            Some(value)
        } else {
            self.invalid(&join(prefix, key));
            None
        }
    }

    pub fn decimal(
        &mut self,
        obj: &Map<String, Value>,
        prefix: &str,
        key: &str,
        required: bool,
        max: Option<Decimal>,
    ) -> Option<Decimal> {
        let path = join(prefix, key);
        let value = self.value(obj, &path, key, required)?;
        let number = self.two_decimals(&path, value)?;
        if number.is_sign_negative() && !number.is_zero() {
            self.fail(&path, "debe ser al menos 0.");
            return None;
        }
        if let Some(max) = max
            && number > max
        {
            self.fail(&path, &format!("no debe ser mayor que {max}."));
            return None;
        }
        Some(number)
    }

    /// A decimal that may be negative, with at most two decimals and `|value| ≤ limit`.
    pub fn signed_decimal(
        &mut self,
        obj: &Map<String, Value>,
        prefix: &str,
        key: &str,
        limit: Decimal,
    ) -> Option<Decimal> {
        let path = join(prefix, key);
        let value = present(obj, key)?;
        let number = self.two_decimals(&path, value)?;
        if number.abs() > limit {
            self.fail(&path, &format!("debe estar entre -{limit} y {limit}."));
            return None;
        }
        Some(number)
    }

    /// A code given as a string or an integer that must be in `table`.
    pub fn code(
        &mut self,
        obj: &Map<String, Value>,
        prefix: &str,
        key: &str,
        required: bool,
        table: &[(&'static str, &'static str)],
    ) -> Option<String> {
        let path = join(prefix, key);
        let text = match self.value(obj, &path, key, required)? {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => {
                self.invalid(&path);
                return None;
            }
        };
        if table.iter().any(|(code, _)| *code == text) {
            Some(text)
        } else {
            self.invalid(&path);
            None
        }
    }

    pub fn boolean(&mut self, obj: &Map<String, Value>, prefix: &str, key: &str) -> Option<bool> {
        let value = present(obj, key)?;
        let parsed = match value {
            Value::Bool(b) => Some(*b),
            Value::Number(n) => match n.as_u64() {
                Some(0) => Some(false),
                Some(1) => Some(true),
                _ => None,
            },
            Value::String(s) => match s.as_str() {
                "0" | "false" => Some(false),
                "1" | "true" => Some(true),
                _ => None,
            },
            _ => None,
        };
        if parsed.is_none() {
            self.fail(&join(prefix, key), "debe ser verdadero o falso.");
        }
        parsed
    }

    pub fn date(&mut self, obj: &Map<String, Value>, prefix: &str, key: &str, required: bool) -> Option<Date> {
        let text = self.string(obj, prefix, key, required)?;
        let parsed = Date::parse(&text, format_description!("[year]-[month]-[day]")).ok();
        if parsed.is_none() {
            self.fail(&join(prefix, key), "debe coincidir con el formato Y-m-d.");
        }
        parsed
    }

    pub fn time(&mut self, obj: &Map<String, Value>, prefix: &str, key: &str) -> Option<String> {
        let text = self.string(obj, prefix, key, false)?;
        let ok = time::Time::parse(&text, format_description!("[hour]:[minute]:[second]")).is_ok();
        if ok {
            Some(text)
        } else {
            self.fail(&join(prefix, key), "debe coincidir con el formato H:i:s.");
            None
        }
    }

    pub fn email(&mut self, obj: &Map<String, Value>, prefix: &str, key: &str, required: bool) -> Option<String> {
        let text = self.string(obj, prefix, key, required)?;
        if is_email(&text) {
            Some(text)
        } else {
            self.fail(&join(prefix, key), "debe ser una dirección de correo válida.");
            None
        }
    }

    pub fn object<'v>(
        &mut self,
        obj: &'v Map<String, Value>,
        prefix: &str,
        key: &str,
        required: bool,
    ) -> Option<&'v Map<String, Value>> {
        let path = join(prefix, key);
        match self.value(obj, &path, key, required)? {
            Value::Object(map) => Some(map),
            _ => {
                self.fail(&path, "debe ser un conjunto.");
                None
            }
        }
    }

    pub fn array<'v>(
        &mut self,
        obj: &'v Map<String, Value>,
        prefix: &str,
        key: &str,
        required: bool,
    ) -> Option<&'v Vec<Value>> {
        let path = join(prefix, key);
        match self.value(obj, &path, key, required)? {
            Value::Array(list) if list.is_empty() => {
                if required {
                    self.required(&path);
                }
                None
            }
            Value::Array(list) => Some(list),
            _ => {
                self.fail(&path, "debe ser un conjunto.");
                None
            }
        }
    }

    /// Each element of an array must be an object.
    pub fn elements<'v>(&mut self, list: &'v [Value], path: &str) -> Vec<(String, &'v Map<String, Value>)> {
        let mut out = Vec::with_capacity(list.len());
        for (i, value) in list.iter().enumerate() {
            let element = format!("{path}.{i}");
            match value {
                Value::Object(map) => out.push((element, map)),
                _ => self.fail(&element, "debe ser un conjunto."),
            }
        }
        out
    }
}

/// A plausible e-mail address: one `@`, a dotted domain, no spaces.
pub(crate) fn is_email(text: &str) -> bool {
    let mut parts = text.split('@');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(local), Some(domain), None) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !text.chars().any(char::is_whitespace)
        }
        _ => false,
    }
}

/// DIAN check digit of a NIT (modulo 11 with the official weights).
pub(crate) fn nit_check_digit(nit: &str) -> Option<u32> {
    const WEIGHTS: [u32; 15] = [3, 7, 13, 17, 19, 23, 29, 37, 41, 43, 47, 53, 59, 67, 71];
    if nit.is_empty() || nit.len() > WEIGHTS.len() {
        return None;
    }
    let mut sum = 0;
    for (digit, weight) in nit.chars().rev().zip(WEIGHTS) {
        sum += digit.to_digit(10)? * weight;
    }
    let rest = sum % 11;
    Some(if rest > 1 { 11 - rest } else { rest })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nit_check_digits_match_dian_examples() {
        // Bancolombia 890.903.938-8, Ecopetrol 899.999.068-1, Davivienda 860.034.313-7.
        assert_eq!(nit_check_digit("890903938"), Some(8));
        assert_eq!(nit_check_digit("899999068"), Some(1));
        assert_eq!(nit_check_digit("860034313"), Some(7));
        assert_eq!(nit_check_digit("90082575A"), None);
    }

    #[test]
    fn email_check_accepts_ordinary_addresses_only() {
        assert!(is_email("cliente@example.com"));
        assert!(!is_email("cliente.example.com"));
        assert!(!is_email("a@b"));
        assert!(!is_email("a b@c.co"));
    }
}
