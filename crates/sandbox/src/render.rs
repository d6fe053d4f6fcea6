//! Wire shapes of Factus v1 documents (`docs/factus.md` §7.1–§7.3) and the Laravel
//! pagination block.

use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::catalog::{
    self, CORRECTION_CONCEPTS, CREDIT_NOTE_CUSTOMIZATIONS, CUSTOMER_TRIBUTES, Catalog, IDENTITY_DOCUMENTS,
    INVOICE_DOCUMENTS, LEGAL_ORGANIZATIONS, OPERATION_TYPES, PAYMENT_FORMS, PAYMENT_METHODS, PRODUCT_TRIBUTES,
    STANDARD_CODES, SURCHARGE_CONCEPT, name_of,
};
use crate::model::{Customer, DocKind, Document};
use crate::ranges::{Company, RangeMeta};
use crate::totals::{charge_percentage, round2};

/// Colombia's offset (no daylight saving).
pub(crate) const COLOMBIA: time::UtcOffset = match time::UtcOffset::from_hms(-5, 0, 0) {
    Ok(offset) => offset,
    Err(_) => time::UtcOffset::UTC,
};

/// A 1×1 PNG: the sandbox does not draw QR codes (the `qr` URL is the real information).
pub(crate) const QR_IMAGE: &str = "data:image/png;base64, iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

/// Money as Factus prints it: a string with two decimals.
pub(crate) fn money(value: Decimal) -> String {
    format!("{:.2}", round2(value))
}

/// A decimal as a JSON number (Factus' item `total`): an integer when whole.
///
/// Non-whole values go through `f64` only to be printed: two-decimal amounts print exactly.
fn number(value: Decimal) -> Value {
    use rust_decimal::prelude::ToPrimitive;
    if value.fract().is_zero()
        && let Some(whole) = value.to_i64()
    {
        return Value::from(whole);
    }
    value.to_f64().map_or(Value::Null, Value::from)
}

/// `DD-MM-YYYY hh:mm:ss AM/PM` in Colombian time.
pub(crate) fn timestamp(at: OffsetDateTime) -> String {
    at.to_offset(COLOMBIA)
        .format(format_description!("[day]-[month]-[year] [hour repr:12]:[minute]:[second] [period]"))
        .unwrap_or_default()
}

/// `YYYY-MM-DD` in Colombian time.
pub(crate) fn issue_date(at: OffsetDateTime) -> String {
    at.to_offset(COLOMBIA).date().to_string()
}

/// `HH:MM:SS-05:00` in Colombian time.
pub(crate) fn issue_time(at: OffsetDateTime) -> String {
    at.to_offset(COLOMBIA).format(format_description!("[hour]:[minute]:[second]-05:00")).unwrap_or_default()
}

/// The sandbox DIAN lookup URL of a CUFE.
pub(crate) fn qr_url(key: &str) -> String {
    format!("https://catalogo-vpfe-hab.dian.gov.co/document/searchqr?documentkey={key}")
}

/// DIAN file name (without extension): prefix + 10-digit NIT + `000` + year + 8-digit sequence.
pub(crate) fn file_name(doc: &Document) -> String {
    let year = doc.created_at.to_offset(COLOMBIA).year() % 100;
    format!("{}{:0>10}000{:02}{:08}", doc.kind.file_prefix(), Company::NIT, year, doc.id)
}

fn code_name(table: &[(&'static str, &'static str)], code: &str) -> Value {
    json!({"code": code, "name": name_of(table, code).unwrap_or_default()})
}

fn id_code_name(table: &[(u64, &'static str, &'static str)], id: u64) -> Value {
    match catalog::by_id(table, id) {
        Some((id, code, name)) => json!({"id": id, "code": code, "name": name}),
        None => Value::Null,
    }
}

fn municipality(catalog: &Catalog, id: u64, with_department: bool) -> Value {
    match catalog.municipality(id) {
        Some(m) if with_department => json!({
            "id": id, "code": m.code, "name": m.name,
            "department": {"id": m.department.code.parse::<u64>().unwrap_or(0),
                           "code": m.department.code, "name": m.department.name},
        }),
        Some(m) => json!({"id": id, "code": m.code, "name": m.name}),
        None => Value::Null,
    }
}

fn customer_json(customer: &Customer, catalog: &Catalog) -> Value {
    json!({
        "identification": customer.identification,
        "dv": customer.dv,
        "identification_document": id_code_name(&IDENTITY_DOCUMENTS, customer.identification_document_id),
        "graphic_representation_name": customer.display_name(),
        "trade_name": customer.contact.trade_name,
        "company": customer.company.clone().unwrap_or_default(),
        "names": customer.contact.names.clone().unwrap_or_default(),
        "address": customer.contact.address,
        "email": customer.contact.email,
        "phone": customer.contact.phone,
        "legal_organization": id_code_name(&LEGAL_ORGANIZATIONS, customer.legal_organization_id),
        "tribute": id_code_name(&CUSTOMER_TRIBUTES, customer.tribute_id),
        "municipality": customer.municipality_id.map_or(Value::Null, |id| municipality(catalog, id, false)),
    })
}

fn establishment_json(doc: &Document, catalog: &Catalog) -> Value {
    match &doc.input.establishment {
        Some(e) => json!({
            "name": e.name, "address": e.address, "phone_number": e.phone_number, "email": e.email,
            "municipality_id": municipality(catalog, e.municipality_id, true),
        }),
        None => json!({
            "name": Company::NAME, "address": Company::ADDRESS, "phone_number": Company::PHONE,
            "email": Company::EMAIL,
            "municipality_id": municipality(catalog, Company::MUNICIPALITY_ID, true),
        }),
    }
}

pub(crate) fn items_json(doc: &Document, catalog: &Catalog) -> Value {
    let items = doc
        .input
        .items
        .iter()
        .zip(&doc.totals.lines)
        .map(|(item, line)| {
            let tribute = PRODUCT_TRIBUTES
                .iter()
                .find(|t| t.id == item.tribute_id)
                .map_or(Value::Null, |t| json!({"id": t.id, "code": t.code, "name": t.name}));
            let unit = catalog
                .unit(item.unit_measure_id)
                .map_or(Value::Null, |u| json!({"id": item.unit_measure_id, "code": u.code, "name": u.name}));
            let withholdings: Vec<Value> = line
                .withholdings
                .iter()
                .map(|w| {
                    json!({
                        "tribute_code": w.code, "name": w.name, "value": money(w.value),
                        "rates": [{"code": w.code, "name": w.name, "rate": money(w.rate)}],
                    })
                })
                .collect();
            json!({
                "scheme_id": item.scheme_id,
                "note": item.note,
                "code_reference": item.code_reference,
                "name": item.name,
                "quantity": number(item.quantity),
                "discount_rate": money(item.discount_rate),
                "discount": money(line.discount),
                "gross_value": money(line.base),
                "tax_rate": money(line.tax_rate),
                "taxable_amount": money(line.taxable_amount),
                "tax_amount": money(line.tax_amount),
                "price": money(item.price),
                "is_excluded": i32::from(item.is_excluded),
                "unit_measure": unit,
                "standard_code": id_code_name(&STANDARD_CODES, item.standard_code_id),
                "tribute": tribute,
                "total": number(line.total),
                "withholding_taxes": withholdings,
                "mandate": item.mandate.as_ref().map(|m| json!({
                    "identification_document": id_code_name(&IDENTITY_DOCUMENTS, m.identification_document_id),
                    "identification": m.identification,
                })),
            })
        })
        .collect();
    Value::Array(items)
}

pub(crate) fn withholdings_json(doc: &Document) -> Value {
    doc.totals
        .withholdings
        .iter()
        .map(|w| json!({"tribute_code": w.code, "name": w.name, "value": money(w.value)}))
        .collect()
}

/// The document's allowances and charges, as both versions show them.
pub(crate) fn allowance_charges_json(doc: &Document) -> Value {
    doc.input
        .allowance_charges
        .iter()
        .map(|c| {
            json!({
                "concept_type": {"code": c.concept_type, "name": SURCHARGE_CONCEPT.1},
                "is_surcharge": c.is_surcharge,
                "reason": c.reason,
                "base_amount": money(c.base_amount),
                "percentage": money(charge_percentage(c)),
                "amount": money(c.amount),
            })
        })
        .collect()
}

fn billing_period_json(doc: &Document) -> Value {
    match &doc.input.billing_period {
        Some(p) => json!({
            "start_date": p.start_date, "start_time": p.start_time,
            "end_date": p.end_date, "end_time": p.end_time,
        }),
        // PHP serialises an empty array, not an object.
        None => json!([]),
    }
}

/// v1 `errors`: the rejection texts (`Regla: …, Rechazo: …`), `[]` when none.
pub(crate) fn errors_json(doc: &Document) -> Value {
    doc.rejection.iter().map(|(_, text)| Value::String(text.clone())).collect()
}

fn validated_at(doc: &Document) -> Value {
    doc.validated_at.map_or(Value::Null, |at| Value::String(timestamp(at)))
}

fn note_refs(notes: &[(u64, String)]) -> Value {
    notes.iter().map(|(id, number)| json!({"id": id, "number": number})).collect()
}

/// `data` of a bill (create 201 and show 200).
pub(crate) fn bill(doc: &Document, notes: &[(u64, String)], range: &RangeMeta, catalog: &Catalog) -> Value {
    let input = &doc.input;
    let totals = &doc.totals;
    json!({
        "company": Company::document_json(),
        "establishment": establishment_json(doc, catalog),
        "customer": customer_json(&input.customer, catalog),
        "numbering_range": range.document_json(),
        "billing_period": billing_period_json(doc),
        "bill": {
            "id": doc.id,
            "document": code_name(&INVOICE_DOCUMENTS, &input.document),
            "operation_type": code_name(&OPERATION_TYPES, &input.operation_type),
            "order_reference": input.order_reference.as_ref().map(|o| json!({
                "reference_code": o.reference_code, "issue_date": o.issue_date,
            })),
            "number": doc.number,
            "reference_code": doc.reference_code,
            "status": doc.status,
            "send_email": i32::from(input.send_email),
            "qr": qr_url(&doc.key),
            "cufe": doc.key,
            "validated": validated_at(doc),
            "gross_value": money(totals.gross_value),
            "taxable_amount": money(totals.taxable_amount),
            "tax_amount": money(totals.tax_amount),
            "discount_amount": money(totals.discount_amount),
            "surcharge_amount": money(totals.surcharge_amount),
            "total": money(totals.total),
            "observation": input.observation,
            "errors": errors_json(doc),
            "created_at": timestamp(doc.created_at),
            "payment_due_date": input.payment_due_date,
            "qr_image": QR_IMAGE,
            "has_claim": 0,
            "is_negotiable_instrument": 0,
            "payment_form": code_name(&PAYMENT_FORMS, &input.payment_form),
            "payment_method": code_name(&PAYMENT_METHODS, &input.payment_method_code),
        },
        "related_documents": input.related_documents.iter().map(|r| json!({
            "code": r.code, "issue_date": r.issue_date, "number": r.number,
        })).collect::<Vec<_>>(),
        "items": items_json(doc, catalog),
        "allowance_charges": allowance_charges_json(doc),
        "withholding_taxes": withholdings_json(doc),
        "credit_notes": note_refs(notes),
        "debit_notes": [],
    })
}

/// `data` of a credit note (create 201 and show 200).
pub(crate) fn credit_note(doc: &Document, range: &RangeMeta, catalog: &Catalog) -> Value {
    let input = &doc.input;
    let totals = &doc.totals;
    let fields = input.credit_note.as_ref();
    let concept = fields.map_or("", |f| f.correction_concept_code.as_str());
    let customization = fields.map_or("", |f| f.customization_id.as_str());
    json!({
        "company": Company::document_json(),
        "establishment": establishment_json(doc, catalog),
        "customer": customer_json(&input.customer, catalog),
        "numbering_range": range.document_json(),
        "billing_period": billing_period_json(doc),
        "credit_note": {
            "id": doc.id,
            "number": doc.number,
            "reference_code": doc.reference_code,
            "status": doc.status,
            "send_email": i32::from(input.send_email),
            "qr": qr_url(&doc.key),
            "cude": doc.key,
            "validated": validated_at(doc),
            "gross_value": money(totals.gross_value),
            "taxable_amount": money(totals.taxable_amount),
            "tax_amount": money(totals.tax_amount),
            "discount_amount": money(totals.discount_amount),
            "surcharge_amount": money(totals.surcharge_amount),
            "total": money(totals.total),
            "observation": input.observation,
            "errors": errors_json(doc),
            "created_at": timestamp(doc.created_at),
            "qr_image": QR_IMAGE,
            "bill_id": doc.bill.as_ref().map(|b| b.id),
            "cufe": doc.bill.as_ref().map(|b| b.cufe.clone()),
            "number_bill": doc.bill.as_ref().map(|b| b.number.clone()),
            "payment_method": {"code": input.payment_method_code,
                               "name": name_of(&PAYMENT_METHODS, &input.payment_method_code).unwrap_or_default()},
            "customization_id": code_name(&CREDIT_NOTE_CUSTOMIZATIONS, customization),
            "correction_concept": code_name(&CORRECTION_CONCEPTS, concept),
        },
        "items": items_json(doc, catalog),
        "allowance_charges": allowance_charges_json(doc),
        "withholding_taxes": withholdings_json(doc),
    })
}

/// Item of `GET /v1/bills` (§7.2), `GET /v1/credit-notes` (§7.3) or `GET /v1/support-documents`
/// (the credit-note keys; `identification` and `names` are the provider's).
pub(crate) fn list_item(doc: &Document, notes: &[(u64, String)]) -> Value {
    let customer = &doc.input.customer;
    let mut item = json!({
        "id": doc.id,
        "document": code_name(&INVOICE_DOCUMENTS, &doc.input.document),
        "number": doc.number,
        "api_client_name": "Factus Sandbox",
        "reference_code": doc.reference_code,
        "identification": customer.identification,
        "graphic_representation_name": customer.display_name(),
        "company": customer.company.clone().unwrap_or_default(),
        "trade_name": customer.contact.trade_name,
        "names": customer.contact.names.clone().unwrap_or_default(),
        "email": customer.contact.email,
        "total": money(doc.totals.total),
        "status": doc.status,
        "errors": errors_json(doc),
        "send_email": i32::from(doc.input.send_email),
        "has_claim": 0,
        "is_negotiable_instrument": 0,
        "payment_form": code_name(&PAYMENT_FORMS, &doc.input.payment_form),
        "created_at": timestamp(doc.created_at),
        "credit_notes": note_refs(notes),
        "debit_notes": [],
    });
    if doc.kind != DocKind::Bill
        && let Value::Object(map) = &mut item
    {
        for key in ["document", "has_claim", "is_negotiable_instrument", "payment_form", "credit_notes", "debit_notes"]
        {
            map.remove(key);
        }
    }
    item
}

/// Laravel's pagination block (`onEachSide = 3`), with Factus' Spanish labels.
pub(crate) fn pagination(total: usize, per_page: usize, page: usize, base_url: &str) -> Value {
    let last_page = total.div_ceil(per_page).max(1);
    let (from, to) = if total == 0 || page > last_page {
        (Value::Null, Value::Null)
    } else {
        let from = (page - 1) * per_page + 1;
        (Value::from(from), Value::from((from + per_page - 1).min(total)))
    };
    let url = |p: usize| Value::String(format!("{base_url}?page={p}"));
    let mut links = Vec::new();
    let prev = (page > 1).then(|| page - 1);
    links.push(json!({"url": prev.map_or(Value::Null, url), "label": "&laquo; Anterior",
                      "active": false, "page": prev}));
    for element in window(page, last_page) {
        match element {
            Some(p) => links.push(json!({"url": url(p), "label": p, "active": p == page, "page": p})),
            None => links.push(json!({"url": null, "label": "...", "active": false})),
        }
    }
    let next = (page < last_page).then(|| page + 1);
    links.push(json!({"url": next.map_or(Value::Null, url), "label": "Siguiente &raquo;",
                      "active": false, "page": next}));
    let mut block = Map::new();
    block.insert("total".into(), total.into());
    block.insert("per_page".into(), per_page.into());
    block.insert("current_page".into(), page.into());
    block.insert("last_page".into(), last_page.into());
    block.insert("from".into(), from);
    block.insert("to".into(), to);
    block.insert("links".into(), Value::Array(links));
    Value::Object(block)
}

/// Page numbers shown by Laravel's `UrlWindow`; `None` is a `...` separator.
fn window(page: usize, last: usize) -> Vec<Option<usize>> {
    const EACH_SIDE: usize = 3;
    let range = |a: usize, b: usize| (a..=b).map(Some).collect::<Vec<_>>();
    if last < EACH_SIDE * 2 + 8 {
        return range(1, last);
    }
    let window = EACH_SIDE + 4;
    let mut out = Vec::new();
    if page <= window {
        out.extend(range(1, window + EACH_SIDE));
        out.push(None);
        out.extend(range(last - 1, last));
    } else if page > last - window {
        out.extend(range(1, 2));
        out.push(None);
        out.extend(range(last - (window + EACH_SIDE - 1), last));
    } else {
        out.extend(range(1, 2));
        out.push(None);
        out.extend(range(page - EACH_SIDE, page + EACH_SIDE));
        out.push(None);
        out.extend(range(last - 1, last));
    }
    out
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn item_totals_are_json_numbers_and_money_is_two_decimal_strings() {
        assert_eq!(number(dec!(40000)), json!(40000));
        assert_eq!(number(dec!(40000.00)), json!(40000));
        assert_eq!(number(dec!(123.45)).to_string(), "123.45");
        assert_eq!(money(dec!(81232.5)), "81232.50");
    }

    #[test]
    fn timestamps_use_colombian_twelve_hour_time() {
        let at = time::macros::datetime!(2025-01-09 18:56:16 UTC);
        assert_eq!(timestamp(at), "09-01-2025 01:56:16 PM");
        assert_eq!(issue_time(at), "13:56:16-05:00");
        assert_eq!(issue_date(at), "2025-01-09");
    }

    #[test]
    fn pagination_window_collapses_far_pages_like_laravel() {
        assert_eq!(window(1, 3), vec![Some(1), Some(2), Some(3)]);
        let far = window(10, 50);
        assert_eq!(far[..3], [Some(1), Some(2), None]);
        assert_eq!(far[3..10], (7..=13).map(Some).collect::<Vec<_>>()[..]);
        assert_eq!(far[10..], [None, Some(49), Some(50)]);
        let block = pagination(25, 10, 3, "http://h/v1/bills");
        assert_eq!(block["last_page"], 3);
        assert_eq!(block["from"], 21);
        assert_eq!(block["to"], 25);
        assert_eq!(block["links"][0]["url"], "http://h/v1/bills?page=2");
        assert_eq!(block["links"][4]["url"], Value::Null);
    }
}
