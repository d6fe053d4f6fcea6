//! Wire shapes of Factus v2 documents: a flat `data` (no `bill` wrapper), `is_validated`,
//! `errors` as an object keyed by DIAN rule, DIAN codes with names, `payment_details`, per-item
//! `taxes[]` and a `totals` block. Any stored document renders, whichever version created it.

use rust_decimal::Decimal;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::catalog::{
    CORRECTION_CONCEPTS, CREDIT_NOTE_CUSTOMIZATIONS, Catalog, INVOICE_DOCUMENTS, PAYMENT_FORMS, PAYMENT_METHODS,
    STANDARD_CODES, WITHHOLDINGS, by_id, name_of,
};
use crate::model::{Customer, DocKind, Document};
use crate::ranges::{Company, RangeMeta};
use crate::render::{allowance_charges_json, money, qr_url, timestamp};
use crate::v2::codes::{
    CUSTOMER_TRIBUTES, DEBIT_CONCEPTS, DEBIT_NOTE_CUSTOMIZATIONS, IDENTITY_DOCUMENTS, LEGAL_ORGANIZATIONS,
    OPERATION_TYPES, TAXES,
};
use crate::v2::model::{PartyCodes, PaymentDetail};

/// `errors`: DIAN's answers keyed by rule (`{"FAK24": "Regla: FAK24, Rechazo: …"}`), `{}` when
/// none (the sandbox sends no notifications).
fn errors(doc: &Document) -> Value {
    Value::Object(doc.rejection.iter().map(|(rule, text)| (rule.clone(), Value::String(text.clone()))).collect())
}

/// `(id, number)` of the notes issued against a bill.
type NoteList<'a> = &'a [(u64, String)];

/// A `(code, name)` table.
type CodeTable = &'static [(&'static str, &'static str)];

fn code_name(table: &[(&'static str, &'static str)], code: &str) -> Value {
    json!({"code": code, "name": name_of(table, code).unwrap_or_default()})
}

/// `YYYY-MM-DD` → `DD-MM-YYYY`, as v2 prints dates inside documents.
fn dmy(iso: &str) -> String {
    let mut parts = iso.splitn(3, '-');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(y), Some(m), Some(d)) => format!("{d}-{m}-{y}"),
        _ => iso.to_owned(),
    }
}

fn municipality(catalog: &Catalog, code: &str) -> Value {
    match catalog.municipalities.iter().find(|m| m.code == code) {
        Some(m) => json!({
            "code": m.code, "name": m.name,
            "department": {"code": m.department.code, "name": m.department.name},
        }),
        None => Value::Null,
    }
}

fn municipality_by_id(catalog: &Catalog, id: u64) -> Value {
    catalog.municipality(id).map_or(Value::Null, |m| municipality(catalog, &m.code))
}

/// The customer's DIAN codes: as sent to v2, or derived from the ids of a v1 document.
fn party_codes(doc: &Document, catalog: &Catalog) -> PartyCodes {
    if let Some(extras) = &doc.v2 {
        return extras.customer.clone();
    }
    let c = &doc.input.customer;
    PartyCodes {
        identification_document_code: crate::v2::codes::identity_code(c.identification_document_id).into(),
        legal_organization_code: c.legal_organization_id.to_string(),
        tribute_code: if c.tribute_id == 18 { "01" } else { "ZZ" }.into(),
        municipality_code: c.municipality_id.and_then(|id| catalog.municipality(id)).map(|m| m.code.clone()),
        country_code: None,
        responsibilities: vec!["R-99-PN".into()],
    }
}

fn customer_json(customer: &Customer, codes: &PartyCodes, catalog: &Catalog) -> Value {
    let country = codes.country_code.as_deref().and_then(|code| catalog.countries.iter().find(|c| c.code == code));
    json!({
        "identification_document": code_name(&IDENTITY_DOCUMENTS, &codes.identification_document_code),
        "identification": customer.identification,
        "dv": customer.dv,
        "graphic_representation_name": customer.display_name(),
        "trade_name": customer.contact.trade_name,
        "company": customer.company,
        "names": customer.contact.names.clone().unwrap_or_default(),
        "address": customer.contact.address,
        "email": customer.contact.email,
        "phone": customer.contact.phone,
        "legal_organization": code_name(&LEGAL_ORGANIZATIONS, &codes.legal_organization_code),
        "tribute": code_name(&CUSTOMER_TRIBUTES, &codes.tribute_code),
        "responsibilities": codes.responsibilities.iter()
            .map(|r| code_name(&crate::v2::codes::RESPONSIBILITIES, r)).collect::<Vec<_>>(),
        "country": country.map_or(Value::Null, |c| json!({"code": c.code, "name": c.name})),
        "municipality": codes.municipality_code.as_deref().map_or(Value::Null, |code| municipality(catalog, code)),
    })
}

fn company_json(doc: &Document, catalog: &Catalog) -> Value {
    let establishment = match &doc.input.establishment {
        Some(e) => json!({
            "name": e.name, "address": e.address, "phone_number": e.phone_number, "email": e.email,
            "municipality": municipality_by_id(catalog, e.municipality_id),
        }),
        None => json!({
            "name": Company::NAME, "address": Company::ADDRESS, "phone_number": Company::PHONE,
            "email": Company::EMAIL, "municipality": municipality_by_id(catalog, Company::MUNICIPALITY_ID),
        }),
    };
    json!({
        "url_logo": null,
        "nit": Company::NIT,
        "dv": Company::DV,
        "company": Company::NAME,
        "name": Company::NAME,
        "graphic_representation_name": Company::NAME,
        "registration_code": "0000000",
        "economic_activity": "6201",
        "phone": Company::PHONE,
        "email": Company::EMAIL,
        "address": Company::ADDRESS,
        "establishment": establishment,
    })
}

/// Payment details as sent, or the single v1 payment (form, method, due date) for the total.
fn payment_details(doc: &Document) -> Vec<PaymentDetail> {
    match &doc.v2 {
        Some(extras) => extras.payment_details.clone(),
        None => vec![PaymentDetail {
            payment_form: doc.input.payment_form.clone(),
            payment_method_code: doc.input.payment_method_code.clone(),
            reference_code: None,
            amount: doc.totals.total,
            due_date: doc.input.payment_due_date.clone(),
        }],
    }
}

fn payment_details_json(doc: &Document) -> Value {
    payment_details(doc)
        .iter()
        .map(|p| {
            json!({
                "payment_form": code_name(&PAYMENT_FORMS, &p.payment_form),
                "payment_method": code_name(&PAYMENT_METHODS, &p.payment_method_code),
                "reference_code": p.reference_code,
                "amount": money(p.amount),
                "due_date": p.due_date.as_deref().map(dmy),
            })
        })
        .collect()
}

fn tax_name(code: &str) -> &'static str {
    name_of(&TAXES, code).unwrap_or_default()
}

/// A quantity as v2 prints it: a string with two decimals.
fn quantity(value: Decimal) -> String {
    format!("{value:.2}")
}

fn items_json(doc: &Document, catalog: &Catalog) -> Value {
    doc.input
        .items
        .iter()
        .zip(&doc.totals.lines)
        .map(|(item, line)| {
            let unit = catalog.unit(item.unit_measure_id);
            let standard = by_id(&STANDARD_CODES, item.standard_code_id);
            let taxes: Vec<Value> = line
                .taxes
                .iter()
                .map(|t| {
                    json!({
                        "tribute": {"code": t.code, "name": tax_name(&t.code)},
                        "is_excluded": t.is_excluded,
                        "rates": [{"taxable_amount": money(t.taxable_amount), "tax_amount": money(t.tax_amount),
                                   "rate": money(t.rate)}],
                    })
                })
                .collect();
            let withholdings: Vec<Value> = line
                .withholdings
                .iter()
                .map(|w| {
                    json!({
                        "tribute": {"code": w.code, "name": name_of(&WITHHOLDINGS, &w.code).unwrap_or_default()},
                        "value": money(w.value),
                        "rates": [{"rate": money(w.rate), "tax_amount": money(w.value)}],
                    })
                })
                .collect();
            json!({
                "scheme_id": item.scheme_id,
                "note": item.note,
                "collection_concept": null,
                "code_reference": item.code_reference,
                "name": item.name,
                "quantity": quantity(item.quantity),
                "unit_measure": unit.map_or(Value::Null, |u| json!({"code": u.code, "name": u.name})),
                "standard_code": standard.map_or(Value::Null, |(_, code, name)| json!({"code": code, "name": name})),
                "discount_rate": money(item.discount_rate),
                "discount": money(line.discount),
                "gross_value": money(line.base),
                "taxable_amount": money(line.taxable_amount),
                "tax_amount": money(line.tax_amount),
                "price": money(item.price),
                "total": money(line.total),
                "taxes": taxes,
                "withholding_taxes": withholdings,
                "additional_properties": [],
                "mandate": item.mandate.as_ref().map(|m| json!({
                    "identification_document": code_name(
                        &IDENTITY_DOCUMENTS, crate::v2::codes::identity_code(m.identification_document_id)),
                    "identification": m.identification,
                })),
            })
        })
        .collect()
}

/// `(rate, taxable amount, tax amount)` of one rate of a tribute.
type RateSum = (Decimal, Decimal, Decimal);

/// Document tax summary: one entry per tribute, one rate entry per (tribute, rate).
fn taxes_summary(doc: &Document) -> Value {
    let mut summary: Vec<(String, bool, Vec<RateSum>)> = Vec::new();
    for t in doc.totals.lines.iter().flat_map(|l| &l.taxes) {
        let index = match summary.iter().position(|(code, _, _)| *code == t.code) {
            Some(index) => index,
            None => {
                summary.push((t.code.clone(), true, Vec::new()));
                summary.len() - 1
            }
        };
        let entry = &mut summary[index];
        entry.1 &= t.is_excluded;
        match entry.2.iter_mut().find(|(rate, _, _)| *rate == t.rate) {
            Some((_, taxable, amount)) => {
                *taxable += t.taxable_amount;
                *amount += t.tax_amount;
            }
            None => entry.2.push((t.rate, t.taxable_amount, t.tax_amount)),
        }
    }
    summary
        .into_iter()
        .map(|(code, is_excluded, rates)| {
            json!({
                "tribute": {"code": code, "name": tax_name(&code)},
                "is_excluded": is_excluded,
                "rates": rates.iter().map(|(rate, taxable, amount)| json!({
                    "taxable_amount": money(*taxable), "tax_amount": money(*amount), "rate": money(*rate),
                })).collect::<Vec<_>>(),
            })
        })
        .collect()
}

fn totals_json(doc: &Document) -> Value {
    let t = &doc.totals;
    let prepaid: Decimal =
        doc.v2.as_ref().map_or(Decimal::ZERO, |e| e.prepayment_details.iter().map(|p| p.amount).sum());
    json!({
        "prepayment_amount": money(prepaid),
        "gross_amount": money(t.gross_value),
        "taxable_amount": money(t.taxable_amount),
        "tax_amount": money(t.tax_amount),
        "discount_amount": money(t.discount_amount),
        "allowance_amount": money(t.allowance_amount),
        "surcharge_amount": money(t.surcharge_amount),
        "cash_rounding_amount": money(t.cash_rounding_amount),
        "total": money(t.total),
    })
}

/// `links.public_url`: a stable 64-hex address derived from the document key.
fn public_url(doc: &Document) -> String {
    let family = match doc.kind {
        DocKind::Bill => "bills",
        DocKind::CreditNote => "credit-notes",
        DocKind::SupportDocument => "support-documents",
        DocKind::DebitNote => "debit-notes",
    };
    format!("https://app-sandbox.factus.com.co/documents/{family}/{}", hex::encode(Sha256::digest(doc.key.as_bytes())))
}

fn note_refs(notes: &[(u64, String)]) -> Value {
    notes.iter().map(|(id, number)| json!({"id": id, "number": number})).collect()
}

/// `data` of a v2 document (create 201 and show 200).
/// `notes` are the bill's (credit notes, debit notes).
pub(crate) fn document(
    doc: &Document,
    (credit_notes, debit_notes): (NoteList<'_>, NoteList<'_>),
    range: &RangeMeta,
    catalog: &Catalog,
) -> Value {
    let input = &doc.input;
    let codes = party_codes(doc, catalog);
    let mut data = json!({
        "reference_code": doc.reference_code,
        "number": doc.number,
        "order_reference": input.order_reference.as_ref().map(|o| o.reference_code.clone()),
        "send_email": input.send_email,
        "is_validated": doc.status == 1,
        "validated_at": doc.validated_at.map(timestamp),
        "errors": errors(doc),
        "observation": input.observation,
        "created_at": timestamp(doc.created_at),
        "billing_period": input.billing_period.as_ref().map(|p| json!({
            "start_date": dmy(&p.start_date), "start_time": p.start_time,
            "end_date": dmy(&p.end_date), "end_time": p.end_time,
        })),
        "payment_details": payment_details_json(doc),
        "numbering_range": range.document_json(),
        "health": null,
        "beneficiary": null,
        "company": company_json(doc, catalog),
        "customer": customer_json(&input.customer, &codes, catalog),
        "items": items_json(doc, catalog),
        "prepayment_details": doc.v2.as_ref().map_or_else(Vec::new, |e| e.prepayment_details.iter().map(|p| json!({
            "reference_code": p.reference_code, "received_date": p.received_date,
            "amount": money(p.amount), "note": p.note, "concept_code": p.concept_code,
        })).collect()),
        "allowance_charges": allowance_charges_json(doc),
        "taxes": taxes_summary(doc),
        "withholding_taxes": doc.totals.withholdings.iter().map(|w| json!({
            "tribute": {"code": w.code, "name": name_of(&WITHHOLDINGS, &w.code).unwrap_or_default()},
            "value": money(w.value),
        })).collect::<Vec<_>>(),
        "totals": totals_json(doc),
        "related_documents": input.related_documents.iter().map(|r| json!({
            "code": r.code, "issue_date": r.issue_date, "number": r.number,
        })).collect::<Vec<_>>(),
        "links": {"qr": qr_url(&doc.key), "public_url": public_url(doc)},
    });
    let fields = match doc.kind {
        DocKind::Bill => json!({
            "document_type": code_name(&INVOICE_DOCUMENTS, &input.document),
            "operation_type": code_name(&OPERATION_TYPES, &input.operation_type),
            "has_claim": false,
            "is_negotiable_instrument": false,
            "cufe": doc.key,
            "related_notes": {"credit_notes": note_refs(credit_notes), "debit_notes": note_refs(debit_notes)},
        }),
        DocKind::SupportDocument => json!({"cuds": doc.key}),
        DocKind::CreditNote | DocKind::DebitNote => {
            let note = input.credit_note.as_ref();
            let (concepts, customizations): (CodeTable, CodeTable) = if doc.kind == DocKind::CreditNote {
                (&CORRECTION_CONCEPTS, &CREDIT_NOTE_CUSTOMIZATIONS)
            } else {
                (&DEBIT_CONCEPTS, &DEBIT_NOTE_CUSTOMIZATIONS)
            };
            json!({
                "cude": doc.key,
                "correction_concept": code_name(concepts, note.map_or("", |n| n.correction_concept_code.as_str())),
                "customization_id": code_name(customizations, note.map_or("", |n| n.customization_id.as_str())),
                "bill": doc.bill.as_ref().map(|b| json!({"number": b.number, "cufe": b.cufe})),
            })
        }
    };
    if let (Value::Object(data), Value::Object(fields)) = (&mut data, fields) {
        data.extend(fields);
        // A support document names who sold, not who bought.
        if doc.kind == DocKind::SupportDocument
            && let Some(provider) = data.remove("customer")
        {
            data.insert("provider".into(), provider);
        }
    }
    data
}

/// Item of a v2 list.
pub(crate) fn list_item(doc: &Document) -> Value {
    let customer = &doc.input.customer;
    json!({
        "api_client_name": "Factus Sandbox",
        "number": doc.number,
        "reference_code": doc.reference_code,
        "identification": customer.identification,
        "graphic_representation_name": customer.display_name(),
        "company": customer.company,
        "trade_name": customer.contact.trade_name,
        "names": customer.contact.names.clone().unwrap_or_default(),
        "email": customer.contact.email,
        "total": money(doc.totals.total),
        "errors": errors(doc),
        "send_email": doc.input.send_email,
        "has_claim": false,
        "is_negotiable_instrument": false,
        "is_validated": doc.status == 1,
        "validated_at": doc.validated_at.map(timestamp),
        "created_at": timestamp(doc.created_at),
    })
}
