//! Request validation the way Factus (Laravel) does it: every failing field is reported under its
//! dot path (`items.0.tribute_id`) with Spanish messages, and the whole list is answered as 422.
//!
//! Integer fields accept JSON integers, whole numbers and digit strings; decimal fields accept
//! numbers and numeric strings with at most two decimals; empty strings count as missing.

use std::borrow::Cow;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::{Map, Value};
use time::Date;
use time::macros::format_description;

use crate::catalog::{
    self, CORRECTION_CONCEPTS, CREDIT_NOTE_CUSTOMIZATIONS, CUSTOMER_TRIBUTES, Catalog, IDENTITY_DOCUMENTS,
    INVOICE_DOCUMENTS, LEGAL_ORGANIZATIONS, OPERATION_TYPES, PAYMENT_FORMS, PAYMENT_METHODS, PRODUCT_TRIBUTES,
    STANDARD_CODES, SURCHARGE_CONCEPT, WITHHOLDINGS,
};
use crate::model::{
    AllowanceCharge, BillingPeriod, CreditNoteFields, Customer, DocKind, DocumentInput, Establishment, Item, Mandate,
    OrderReference, RelatedDocument, WithholdingInput,
};
use crate::ranges::RangeMeta;

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

/// Why a document was refused.
#[derive(Debug)]
pub(crate) enum Invalid {
    /// Laravel field validation (`errors` values are arrays of messages).
    Fields(Errors),
    /// A DIAN rule rejection (`errors` values are `Regla: …, Rechazo: …` strings).
    Dian(Vec<(String, String)>),
}

/// What validation needs to know besides the body.
pub(crate) struct Context<'a> {
    pub kind: DocKind,
    pub ranges: &'a [RangeMeta],
    pub catalog: &'a Catalog,
    pub verify_dv: bool,
    /// The bill named by a credit note's `bill_id`, with its customer, when it exists.
    pub referenced_customer: Option<&'a Customer>,
}

/// Spanish attribute names Factus uses in messages; other fields are named by their path.
fn attribute(path: &str) -> Cow<'_, str> {
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
        other => other,
    })
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() { key.to_owned() } else { format!("{prefix}.{key}") }
}

/// A field's value, treating `null` and `""` as absent (Laravel's `ConvertEmptyStringsToNull`).
fn present<'v>(obj: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    match obj.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(v) => Some(v),
    }
}

fn decimal_of(value: &Value) -> Option<Decimal> {
    let text = match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_owned(),
        _ => return None,
    };
    Decimal::from_str(&text).or_else(|_| Decimal::from_scientific(&text)).ok()
}

#[derive(Default)]
struct V {
    errors: Errors,
}

impl V {
    fn required(&mut self, path: &str) {
        self.errors.add(path, format!("El campo {} es obligatorio.", attribute(path)));
    }

    fn invalid(&mut self, path: &str) {
        self.errors.add(path, format!("El campo {} es inválido.", attribute(path)));
    }

    fn fail(&mut self, path: &str, rule: &str) {
        self.errors.add(path, format!("El campo {} {rule}", attribute(path)));
    }

    fn string(&mut self, obj: &Map<String, Value>, prefix: &str, key: &str, required: bool) -> Option<String> {
        let path = join(prefix, key);
        match present(obj, key) {
            None => {
                if required {
                    self.required(&path);
                }
                None
            }
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                self.fail(&path, "debe ser una cadena de caracteres.");
                None
            }
        }
    }

    fn bounded_string(
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

    fn int(&mut self, obj: &Map<String, Value>, prefix: &str, key: &str, required: bool) -> Option<u64> {
        let path = join(prefix, key);
        let value = match present(obj, key) {
            None => {
                if required {
                    self.required(&path);
                }
                return None;
            }
            Some(v) => v,
        };
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
    fn int_in(
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

    fn decimal(
        &mut self,
        obj: &Map<String, Value>,
        prefix: &str,
        key: &str,
        required: bool,
        max: Option<Decimal>,
    ) -> Option<Decimal> {
        let path = join(prefix, key);
        let value = match present(obj, key) {
            None => {
                if required {
                    self.required(&path);
                }
                return None;
            }
            Some(v) => v,
        };
        let Some(number) = decimal_of(value) else {
            self.fail(&path, "debe ser un número.");
            return None;
        };
        if number.scale() > 2 {
            self.fail(&path, "debe tener como máximo 2 cifras decimales.");
            return None;
        }
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

    /// A code given as a string or an integer that must be in `table`.
    fn code(
        &mut self,
        obj: &Map<String, Value>,
        prefix: &str,
        key: &str,
        required: bool,
        table: &[(&'static str, &'static str)],
    ) -> Option<String> {
        let path = join(prefix, key);
        let text = match present(obj, key) {
            None => {
                if required {
                    self.required(&path);
                }
                return None;
            }
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            Some(_) => {
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

    fn boolean(&mut self, obj: &Map<String, Value>, prefix: &str, key: &str) -> Option<bool> {
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

    fn date(&mut self, obj: &Map<String, Value>, prefix: &str, key: &str, required: bool) -> Option<Date> {
        let text = self.string(obj, prefix, key, required)?;
        let parsed = Date::parse(&text, format_description!("[year]-[month]-[day]")).ok();
        if parsed.is_none() {
            self.fail(&join(prefix, key), "debe coincidir con el formato Y-m-d.");
        }
        parsed
    }

    fn time(&mut self, obj: &Map<String, Value>, prefix: &str, key: &str) -> Option<String> {
        let text = self.string(obj, prefix, key, false)?;
        let ok = time::Time::parse(&text, format_description!("[hour]:[minute]:[second]")).is_ok();
        if ok {
            Some(text)
        } else {
            self.fail(&join(prefix, key), "debe coincidir con el formato H:i:s.");
            None
        }
    }

    fn email(&mut self, obj: &Map<String, Value>, prefix: &str, key: &str, required: bool) -> Option<String> {
        let text = self.string(obj, prefix, key, required)?;
        if is_email(&text) {
            Some(text)
        } else {
            self.fail(&join(prefix, key), "debe ser una dirección de correo válida.");
            None
        }
    }

    fn object<'v>(
        &mut self,
        obj: &'v Map<String, Value>,
        prefix: &str,
        key: &str,
        required: bool,
    ) -> Option<&'v Map<String, Value>> {
        let path = join(prefix, key);
        match present(obj, key) {
            None => {
                if required {
                    self.required(&path);
                }
                None
            }
            Some(Value::Object(map)) => Some(map),
            Some(_) => {
                self.fail(&path, "debe ser un conjunto.");
                None
            }
        }
    }

    fn array<'v>(
        &mut self,
        obj: &'v Map<String, Value>,
        prefix: &str,
        key: &str,
        required: bool,
    ) -> Option<&'v Vec<Value>> {
        let path = join(prefix, key);
        match present(obj, key) {
            None => {
                if required {
                    self.required(&path);
                }
                None
            }
            Some(Value::Array(list)) if list.is_empty() => {
                if required {
                    self.required(&path);
                }
                None
            }
            Some(Value::Array(list)) => Some(list),
            Some(_) => {
                self.fail(&path, "debe ser un conjunto.");
                None
            }
        }
    }

    /// Each element of an array must be an object.
    fn elements<'v>(&mut self, list: &'v [Value], path: &str) -> Vec<(String, &'v Map<String, Value>)> {
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

/// Validates a `…/validate` body of `ctx.kind`.
pub(crate) fn document(body: &Value, ctx: &Context<'_>) -> Result<DocumentInput, Invalid> {
    let empty = Map::new();
    let root = body.as_object().unwrap_or(&empty);
    let mut v = V::default();
    let kind = ctx.kind;

    let range_id = numbering_range(&mut v, root, ctx);
    let document = match kind {
        DocKind::Bill => v.code(root, "", "document", false, &INVOICE_DOCUMENTS).unwrap_or_else(|| "01".into()),
        DocKind::CreditNote => "91".into(),
    };
    let reference_code = v.bounded_string(root, "", "reference_code", true, 255);
    let observation = v.bounded_string(root, "", "observation", false, 250);
    let payment_form = match kind {
        DocKind::Bill => v.code(root, "", "payment_form", false, &PAYMENT_FORMS),
        DocKind::CreditNote => None,
    }
    .unwrap_or_else(|| "1".into());
    let due_date = v.date(root, "", "payment_due_date", payment_form == "2");
    let payment_method_code =
        v.code(root, "", "payment_method_code", false, &PAYMENT_METHODS).unwrap_or_else(|| "10".into());
    let operation_type = match kind {
        DocKind::Bill => v.code(root, "", "operation_type", false, &OPERATION_TYPES),
        DocKind::CreditNote => None,
    }
    .unwrap_or_else(|| "10".into());
    let send_email = v.boolean(root, "", "send_email").unwrap_or(true);

    let order_reference = v.object(root, "", "order_reference", false).and_then(|o| {
        let reference_code = v.string(o, "order_reference", "reference_code", true);
        let issue_date = v.date(o, "order_reference", "issue_date", false);
        Some(OrderReference { reference_code: reference_code?, issue_date: issue_date.map(|d| d.to_string()) })
    });

    let related_documents = related_documents(&mut v, root, kind == DocKind::Bill && document == "03");
    let credit_note = match kind {
        DocKind::CreditNote => credit_note_fields(&mut v, root, ctx),
        DocKind::Bill => None,
    };
    let period_required = credit_note.as_ref().is_some_and(|c| c.customization_id == "22");
    let billing_period = billing_period(&mut v, root, period_required);
    let establishment = v.object(root, "", "establishment", false).and_then(|o| {
        let p = "establishment";
        let name = v.string(o, p, "name", true);
        let address = v.string(o, p, "address", true);
        let phone_number = v.string(o, p, "phone_number", true);
        let email = v.email(o, p, "email", true);
        let municipality_id = v.int_in(o, p, "municipality_id", true, |id| ctx.catalog.municipality(id).is_some());
        Some(Establishment {
            name: name?,
            address: address?,
            phone_number: phone_number?,
            email: email?,
            municipality_id: municipality_id?,
        })
    });

    let customer_required = kind == DocKind::Bill || ctx.referenced_customer.is_none();
    let customer = match v.object(root, "", "customer", customer_required) {
        Some(o) => customer(&mut v, o, ctx),
        None => ctx.referenced_customer.cloned(),
    };
    let items = items(&mut v, root, ctx, &operation_type);
    let allowance_charges = allowance_charges(&mut v, root);

    let credit_ok = kind == DocKind::Bill || credit_note.is_some();
    match (range_id, reference_code, customer, items, credit_ok) {
        (Some(range_id), Some(reference_code), Some(customer), Some(items), true) if v.errors.is_empty() => {
            if ctx.verify_dv
                && customer.identification_document_id == 6
                && let Some(dv) = &customer.dv
                && nit_check_digit(&customer.identification).map(|d| d.to_string()).as_ref() != Some(dv)
            {
                return Err(Invalid::Dian(vec![(
                    "FAK24".into(),
                    "Regla: FAK24, Rechazo: No está informado el DV del NIT".into(),
                )]));
            }
            Ok(DocumentInput {
                document,
                numbering_range_id: range_id,
                reference_code,
                observation,
                payment_form,
                payment_due_date: due_date.map(|d| d.to_string()),
                payment_method_code,
                operation_type,
                send_email,
                order_reference,
                related_documents,
                billing_period,
                establishment,
                customer,
                items,
                allowance_charges,
                credit_note,
            })
        }
        _ => {
            if v.errors.is_empty() {
                // Every path that yields `None` records an error; keep the answer a 422 anyway.
                v.invalid("reference_code");
            }
            Err(Invalid::Fields(v.errors))
        }
    }
}

fn numbering_range(v: &mut V, root: &Map<String, Value>, ctx: &Context<'_>) -> Option<u64> {
    let code = ctx.kind.range_code();
    match v.int(root, "", "numbering_range_id", false) {
        Some(id) => {
            let ok = ctx.ranges.iter().any(|r| r.id == id && r.document_code == code && r.is_active);
            if ok {
                Some(id)
            } else {
                v.invalid("numbering_range_id");
                None
            }
        }
        None if present(root, "numbering_range_id").is_some() => None,
        None => {
            let mut active = ctx.ranges.iter().filter(|r| r.document_code == code && r.is_active);
            match (active.next(), active.next()) {
                (Some(only), None) => Some(only.id),
                _ => {
                    v.required("numbering_range_id");
                    None
                }
            }
        }
    }
}

fn related_documents(v: &mut V, root: &Map<String, Value>, required: bool) -> Vec<RelatedDocument> {
    let Some(list) = v.array(root, "", "related_documents", required) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (path, o) in v.elements(list, "related_documents") {
        let code = v.string(o, &path, "code", true);
        let issue_date = v.date(o, &path, "issue_date", true);
        let number = v.string(o, &path, "number", true);
        if let (Some(code), Some(issue_date), Some(number)) = (code, issue_date, number) {
            out.push(RelatedDocument { code, issue_date: issue_date.to_string(), number });
        }
    }
    out
}

fn billing_period(v: &mut V, root: &Map<String, Value>, required: bool) -> Option<BillingPeriod> {
    let o = v.object(root, "", "billing_period", required)?;
    let p = "billing_period";
    let start = v.date(o, p, "start_date", true);
    let start_time = v.time(o, p, "start_time");
    let end = v.date(o, p, "end_date", true);
    let end_time = v.time(o, p, "end_time");
    let (start, end) = (start?, end?);
    if end <= start {
        v.errors.add(
            "billing_period.end_date",
            "El campo fecha de fin debe ser una fecha posterior a fecha de inicio.".into(),
        );
        return None;
    }
    Some(BillingPeriod { start_date: start.to_string(), start_time, end_date: end.to_string(), end_time })
}

fn credit_note_fields(v: &mut V, root: &Map<String, Value>, ctx: &Context<'_>) -> Option<CreditNoteFields> {
    let concept = v.code(root, "", "correction_concept_code", true, &CORRECTION_CONCEPTS);
    let customization = v.code(root, "", "customization_id", true, &CREDIT_NOTE_CUSTOMIZATIONS);
    let references_bill = customization.as_deref() == Some("20");
    let bill_id = v.int(root, "", "bill_id", references_bill);
    if bill_id.is_some() && ctx.referenced_customer.is_none() {
        v.invalid("bill_id");
        return None;
    }
    Some(CreditNoteFields { correction_concept_code: concept?, customization_id: customization?, bill_id })
}

fn customer(v: &mut V, o: &Map<String, Value>, ctx: &Context<'_>) -> Option<Customer> {
    let p = "customer";
    let document_id =
        v.int_in(o, p, "identification_document_id", true, |id| catalog::by_id(&IDENTITY_DOCUMENTS, id).is_some());
    let identification = v.bounded_string(o, p, "identification", true, 20);
    if document_id == Some(6)
        && let Some(id) = &identification
        && !id.bytes().all(|b| b.is_ascii_digit())
    {
        v.errors.add(
            "customer.identification",
            "El campo identificación solo debe contener números (un NIT se envía sin DV ni guiones).".into(),
        );
    }
    let dv = match present(o, "dv") {
        None => None,
        Some(Value::Number(n)) if n.as_u64().is_some_and(|d| d < 10) => Some(n.to_string()),
        Some(Value::String(s)) if s.len() == 1 && s.bytes().all(|b| b.is_ascii_digit()) => Some(s.clone()),
        Some(_) => {
            v.invalid("customer.dv");
            None
        }
    };
    let company = v.string(o, p, "company", false);
    let trade_name = v.string(o, p, "trade_name", false);
    let names = v.string(o, p, "names", false);
    let address = v.string(o, p, "address", false);
    let email = v.email(o, p, "email", false);
    let phone = v.string(o, p, "phone", false);
    let legal_organization_id =
        v.int_in(o, p, "legal_organization_id", true, |id| catalog::by_id(&LEGAL_ORGANIZATIONS, id).is_some());
    let tribute_id = v.int_in(o, p, "tribute_id", true, |id| CUSTOMER_TRIBUTES.iter().any(|(t, _, _)| *t == id));
    let municipality_id = v.int_in(o, p, "municipality_id", false, |id| ctx.catalog.municipality(id).is_some());
    if company.is_none() && names.is_none() {
        if legal_organization_id == Some(1) {
            v.required("customer.company");
        } else {
            v.required("customer.names");
        }
    }
    let identification = identification?;
    let document_id = document_id?;
    // Factus computes the DV of a NIT when it is not sent.
    let dv =
        dv.or_else(|| (document_id == 6).then(|| nit_check_digit(&identification).map(|d| d.to_string())).flatten());
    Some(Customer {
        identification_document_id: document_id,
        identification,
        dv,
        company,
        trade_name,
        names,
        address,
        email,
        phone,
        legal_organization_id: legal_organization_id?,
        tribute_id: tribute_id?,
        municipality_id,
    })
}

fn items(v: &mut V, root: &Map<String, Value>, ctx: &Context<'_>, operation_type: &str) -> Option<Vec<Item>> {
    let list = v.array(root, "", "items", true)?;
    let hundred = Some(Decimal::ONE_HUNDRED);
    let mut out = Vec::with_capacity(list.len());
    let mut complete = true;
    for (p, o) in v.elements(list, "items") {
        let code_reference = v.string(o, &p, "code_reference", true);
        let name = v.string(o, &p, "name", true);
        let quantity = v.int(o, &p, "quantity", true);
        if quantity == Some(0) {
            v.fail(&format!("{p}.quantity"), "debe ser al menos 1.");
        }
        let discount_rate = v.decimal(o, &p, "discount_rate", false, hundred);
        let price = v.decimal(o, &p, "price", true, None);
        let tax_rate = v.decimal(o, &p, "tax_rate", true, hundred);
        let unit_measure_id = v.int_in(o, &p, "unit_measure_id", true, |id| ctx.catalog.unit(id).is_some());
        let standard_code_id =
            v.int_in(o, &p, "standard_code_id", true, |id| catalog::by_id(&STANDARD_CODES, id).is_some());
        let is_excluded = match v.int(o, &p, "is_excluded", true) {
            Some(0) => Some(false),
            Some(1) => Some(true),
            Some(_) => {
                v.invalid(&format!("{p}.is_excluded"));
                None
            }
            None => None,
        };
        let tribute_id = v.int_in(o, &p, "tribute_id", true, |id| PRODUCT_TRIBUTES.iter().any(|t| t.id == id));
        if is_excluded == Some(true) && tribute_id.is_some_and(|t| t != 1) {
            v.errors.add(&format!("{p}.is_excluded"), "El impuesto excluido solo puede ser aplicado al IVA".into());
        }
        let scheme_id = v.string(o, &p, "scheme_id", operation_type == "11");
        if scheme_id.as_deref().is_some_and(|s| s != "0" && s != "1") {
            v.invalid(&format!("{p}.scheme_id"));
        }
        let note = v.string(o, &p, "note", false);
        let mandate = match v.object(o, &p, "mandate", scheme_id.as_deref() == Some("1")) {
            Some(m) => {
                let mp = format!("{p}.mandate");
                let document = v.int_in(m, &mp, "identification_document_id", true, |id| {
                    catalog::by_id(&IDENTITY_DOCUMENTS, id).is_some()
                });
                let identification = v.string(m, &mp, "identification", true);
                document.zip(identification).map(|(d, i)| Mandate { identification_document_id: d, identification: i })
            }
            None => None,
        };
        let mut withholding_taxes = Vec::new();
        if let Some(list) = v.array(o, &p, "withholding_taxes", false) {
            for (wp, w) in v.elements(list, &format!("{p}.withholding_taxes")) {
                let code = v.code(w, &wp, "code", true, &WITHHOLDINGS);
                let rate = v.decimal(w, &wp, "withholding_tax_rate", true, hundred);
                if let (Some(code), Some(rate)) = (code, rate) {
                    withholding_taxes.push(WithholdingInput { code, rate });
                }
            }
        }
        match (
            code_reference,
            name,
            quantity,
            price,
            tax_rate,
            unit_measure_id,
            standard_code_id,
            is_excluded,
            tribute_id,
        ) {
            (
                Some(code_reference),
                Some(name),
                Some(quantity),
                Some(price),
                Some(tax_rate),
                Some(unit),
                Some(standard),
                Some(is_excluded),
                Some(tribute_id),
            ) => {
                out.push(Item {
                    code_reference,
                    name,
                    quantity,
                    discount_rate: discount_rate.unwrap_or(Decimal::ZERO),
                    price,
                    tax_rate,
                    unit_measure_id: unit,
                    standard_code_id: standard,
                    is_excluded,
                    tribute_id,
                    scheme_id,
                    note,
                    withholding_taxes,
                    mandate,
                });
            }
            _ => complete = false,
        }
    }
    (complete && out.len() == list.len()).then_some(out)
}

fn allowance_charges(v: &mut V, root: &Map<String, Value>) -> Vec<AllowanceCharge> {
    let Some(list) = v.array(root, "", "allowance_charges", false) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (p, o) in v.elements(list, "allowance_charges") {
        let concept = v.code(o, &p, "concept_type", true, &[SURCHARGE_CONCEPT]);
        let is_surcharge = v.boolean(o, &p, "is_surcharge");
        if present(o, "is_surcharge").is_none() {
            v.required(&format!("{p}.is_surcharge"));
        }
        let reason = v.string(o, &p, "reason", true);
        let base_amount = v.decimal(o, &p, "base_amount", true, None);
        let amount = v.decimal(o, &p, "amount", true, None);
        if let (Some(concept_type), Some(is_surcharge), Some(reason), Some(base_amount), Some(amount)) =
            (concept, is_surcharge, reason, base_amount, amount)
        {
            out.push(AllowanceCharge { concept_type, is_surcharge, reason, base_amount, amount });
        }
    }
    out
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
