//! v1 support documents (documento soporte): a purchase from a provider who cannot invoice. The
//! body has a `provider` instead of a `customer` and items without taxes; the document is stored
//! in its own ledger (range code `24`, prefix `SEDS`) with the provider in `customer`, and its
//! lines are excluded from IVA so the shared totals give tax 0 (as Factus' answers show).

use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use crate::catalog::{
    self, Catalog, IDENTITY_DOCUMENTS, LEGAL_ORGANIZATIONS, PAYMENT_METHODS, STANDARD_CODES, name_of,
};
use crate::model::{Contact, Customer, DocKind, Document, DocumentInput, Item, SupportFields};
use crate::ranges::{Company, RangeMeta};
use crate::render::{QR_IMAGE, errors_json, items_json, money, qr_url, timestamp, withholdings_json};
use crate::validate::{FieldReader, Head, Invalid, ItemHead, body_object, dv_or_computed, withholding_taxes};

/// Identity documents a provider may have (v1 ids 4–10: foreign ids, NIT, passport, PEP…).
const PROVIDER_DOCUMENTS: std::ops::RangeInclusive<u64> = 4..=10;
/// v1 id of the NIT.
const NIT: u64 = 6;
/// v1 id of the customer tribute `ZZ` (no aplica).
const NO_TRIBUTE: u64 = 21;

/// Validates a `POST /v1/support-documents/validate` body.
pub(crate) fn validate(body: &Value, ranges: &[RangeMeta], catalog: &Catalog) -> Result<DocumentInput, Invalid> {
    let root = body_object(body);
    let mut v = FieldReader::default();
    let Head { range_id, document, reference_code, observation } =
        Head::read(&mut v, root, ranges, DocKind::SupportDocument);
    let payment_method_code =
        v.code(root, "", "payment_method_code", false, &PAYMENT_METHODS).unwrap_or_else(|| "10".into());
    let provider = v.object(root, "", "provider", true).and_then(|o| provider(&mut v, o, catalog));
    let items = items(&mut v, root, catalog);
    match (range_id, reference_code, provider, items) {
        (Some(range_id), Some(reference_code), Some((customer, support)), Some(items)) if v.errors.is_empty() => {
            Ok(DocumentInput {
                document,
                numbering_range_id: range_id,
                reference_code,
                observation,
                payment_form: "1".into(),
                payment_due_date: None,
                payment_method_code,
                // DIAN's support-document customization: 10 resident provider, 11 not resident.
                operation_type: if support.is_resident { "10" } else { "11" }.into(),
                send_email: false,
                order_reference: None,
                related_documents: Vec::new(),
                billing_period: None,
                establishment: None,
                customer,
                items,
                allowance_charges: Vec::new(),
                credit_note: None,
                support_document: Some(support),
            })
        }
        _ => Err(Invalid::incomplete(v)),
    }
}

fn provider(v: &mut FieldReader, o: &Map<String, Value>, catalog: &Catalog) -> Option<(Customer, SupportFields)> {
    let p = "provider";
    let document_id = v.int_in(o, p, "identification_document_id", true, |id| PROVIDER_DOCUMENTS.contains(&id));
    let (identification, dv) = v.identification(o, p, document_id == Some(NIT), "provider.identification");
    let contact = Contact::read(v, o, p, true, false);
    let is_resident = match v.int(o, p, "is_resident", false) {
        None | Some(1) => true,
        Some(0) => false,
        Some(_) => {
            v.invalid("provider.is_resident");
            true
        }
    };
    let country_code = v.string(o, p, "country_code", false).unwrap_or_else(|| "CO".into());
    if !catalog.countries.iter().any(|c| c.code == country_code) {
        v.invalid("provider.country_code");
    }
    // The municipality only means something for a provider in Colombia.
    let municipality_id = if country_code == "CO" {
        v.int_in(o, p, "municipality_id", true, |id| catalog.municipality(id).is_some())
    } else {
        None
    };
    let (identification, document_id) = (identification?, document_id?);
    let dv = dv_or_computed(dv, document_id == NIT, &identification);
    let customer = Customer {
        identification_document_id: document_id,
        identification,
        dv,
        company: None,
        contact: Contact { names: Some(contact.names?), ..contact },
        legal_organization_id: if document_id == NIT { 1 } else { 2 },
        tribute_id: NO_TRIBUTE,
        municipality_id,
    };
    Some((customer, SupportFields { is_resident, country_code }))
}

fn items(v: &mut FieldReader, root: &Map<String, Value>, catalog: &Catalog) -> Option<Vec<Item>> {
    let list = v.array(root, "", "items", true)?;
    let mut out = Vec::with_capacity(list.len());
    for (p, o) in v.elements(list, "items") {
        let ItemHead { code_reference, name, quantity, discount_rate, price } = ItemHead::read(v, o, &p);
        let unit_measure_id = v.int_in(o, &p, "unit_measure_id", true, |id| catalog.unit(id).is_some());
        let standard_code_id =
            v.int_in(o, &p, "standard_code_id", true, |id| catalog::by_id(&STANDARD_CODES, id).is_some());
        let withholding_taxes = withholding_taxes(v, o, &p, "withholding_tax_rate");
        if let (Some(code_reference), Some(name), Some(quantity), Some(price), Some(unit), Some(standard)) =
            (code_reference, name, quantity, price, unit_measure_id, standard_code_id)
        {
            out.push(Item {
                code_reference,
                name,
                quantity: Decimal::from(quantity),
                discount_rate: discount_rate.unwrap_or(Decimal::ZERO),
                price,
                // No taxes on a support document: an IVA-excluded line has tax 0.
                tax_rate: Decimal::ZERO,
                unit_measure_id: unit,
                standard_code_id: standard,
                is_excluded: true,
                tribute_id: 1,
                scheme_id: None,
                note: None,
                withholding_taxes,
                mandate: None,
            });
        }
    }
    (out.len() == list.len()).then_some(out)
}

fn id_code_name(table: &[(u64, &'static str, &'static str)], id: u64) -> Value {
    catalog::by_id(table, id).map_or(Value::Null, |(id, code, name)| json!({"id": id, "code": code, "name": name}))
}

/// The `provider` block of a support document.
fn provider_json(doc: &Document, catalog: &Catalog) -> Value {
    let provider = &doc.input.customer;
    let country_code = doc.input.support_document.as_ref().map_or("CO", |s| s.country_code.as_str());
    let country = catalog
        .countries
        .iter()
        .position(|c| c.code == country_code)
        .map_or(Value::Null, |i| json!({"id": i + 1, "code": country_code, "name": catalog.countries[i].name}));
    let municipality = provider
        .municipality_id
        .and_then(|id| catalog.municipality(id).map(|m| json!({"id": id, "code": m.code, "name": m.name})))
        .unwrap_or(Value::Null);
    json!({
        "identification": provider.identification,
        "dv": provider.dv,
        "identification_document": id_code_name(&IDENTITY_DOCUMENTS, provider.identification_document_id),
        "graphic_representation_name": provider.display_name(),
        "trade_name": provider.contact.trade_name,
        "names": provider.contact.names.clone().unwrap_or_default(),
        "address": provider.contact.address,
        "email": provider.contact.email,
        "phone": provider.contact.phone,
        "is_resident": i32::from(doc.input.support_document.as_ref().is_none_or(|s| s.is_resident)),
        "legal_organization": id_code_name(&LEGAL_ORGANIZATIONS, provider.legal_organization_id),
        "tribute": {"id": NO_TRIBUTE, "code": "ZZ", "name": "No aplica"},
        "country": country,
        "municipality": municipality,
    })
}

/// `data` of a support document (create 201 and show 200).
pub(crate) fn render(doc: &Document, range: &RangeMeta, catalog: &Catalog) -> Value {
    let input = &doc.input;
    let totals = &doc.totals;
    json!({
        "company": Company::document_json(),
        "provider": provider_json(doc, catalog),
        "support_document": {
            "id": doc.id,
            "number": doc.number,
            "reference_code": doc.reference_code,
            "status": doc.status,
            "qr": qr_url(&doc.key),
            "cuds": doc.key,
            "validated": doc.validated_at.map_or(Value::Null, |at| Value::String(timestamp(at))),
            "gross_value": money(totals.gross_value),
            "taxable_amount": money(totals.taxable_amount),
            "tax_amount": money(totals.tax_amount),
            "discount_amount": money(totals.discount_amount),
            "total": money(totals.total),
            "observation": input.observation,
            "errors": errors_json(doc),
            "created_at": timestamp(doc.created_at),
            "qr_image": QR_IMAGE,
            "payment_method": {"code": input.payment_method_code,
                               "name": name_of(&PAYMENT_METHODS, &input.payment_method_code).unwrap_or_default()},
        },
        "items": items_json(doc, catalog),
        "withholding_taxes": withholdings_json(doc),
        "adjustment_notes": [],
        "numbering_range": range.document_json(),
    })
}
