//! Checks of the v2 `…/validate` bodies: DIAN codes instead of v1 ids, net item prices with
//! per-item `taxes[]`, and `payment_details[]` that must add up to the total. Errors come back in
//! the same Laravel shape as v1's (`validate::fields`); DIAN's rules (a wrong NIT check digit) are
//! applied afterwards by the shared issuing path, as for v1.
//!
//! A valid body becomes the shared [`DocumentInput`] (codes turned into the v1 ids they stand
//! for, so PDFs, XML, filters and v1 views work on any document) plus [`V2Extras`].

use rust_decimal::Decimal;
use serde_json::{Map, Value};

use crate::catalog::{
    CORRECTION_CONCEPTS, CREDIT_NOTE_CUSTOMIZATIONS, PAYMENT_FORMS, PAYMENT_METHODS, PRODUCT_TRIBUTES, STANDARD_CODES,
};
use crate::model::{
    Contact, CreditNoteFields, Customer, DocKind, DocumentInput, Establishment, Item, Mandate, SupportFields,
};
use crate::totals::Totals;
use crate::v2::codes::{
    CUSTOMER_TRIBUTES, DEBIT_CONCEPTS, DEBIT_NOTE_CUSTOMIZATIONS, IDENTITY_DOCUMENTS, LEGAL_ORGANIZATIONS,
    OPERATION_TYPES, PROVIDER_DOCUMENTS, RESPONSIBILITIES, TAXES, identity_id,
};
use crate::v2::model::{Currency, PartyCodes, PaymentDetail, Prepayment, V2Extras};
use crate::v2::totals::{self, ItemV2, TaxInput};
use crate::validate::{
    Context, Errors, FieldReader, Head, Invalid, allowance_charges, billing_period, body_object, dv_or_computed,
    order_reference, present, related_documents, withholding_taxes,
};

/// A `(code, name)` table.
type CodeTable = &'static [(&'static str, &'static str)];

/// Largest `cash_rounding_amount` Factus accepts, either sign.
const MAX_CASH_ROUNDING: Decimal = Decimal::from_parts(500, 0, 0, false, 0);

/// A v2 body that passed every check, with its totals.
#[derive(Debug)]
pub(crate) struct Accepted {
    pub input: DocumentInput,
    pub extras: V2Extras,
    pub totals: Totals,
}

/// Validates a v2 `…/validate` body of `ctx.kind`, computes its totals and checks the payments.
pub(crate) fn document(body: &Value, ctx: &Context<'_>, bill_number: Option<&str>) -> Result<Accepted, Invalid> {
    let root = body_object(body);
    let mut v = FieldReader::default();
    let kind = ctx.kind;

    let Head { range_id, document, reference_code, observation } = Head::read(&mut v, root, ctx.ranges, kind);
    let created_time = v.time(root, "", "created_time");
    let operation_type = match kind {
        DocKind::Bill => v.code(root, "", "operation_type", false, &OPERATION_TYPES),
        _ => None,
    }
    .unwrap_or_else(|| "10".into());
    let send_email = v.boolean(root, "", "send_email").unwrap_or(true);
    let currency = currency(&mut v, root);
    let payment_details = payment_details(&mut v, root);
    let cash_rounding = v.signed_decimal(root, "", "cash_rounding_amount", MAX_CASH_ROUNDING).unwrap_or_default();
    let prepayment_details = prepayment_details(&mut v, root);
    let order_reference = order_reference(&mut v, root);
    let related_documents = related_documents(&mut v, root, kind == DocKind::Bill && document == "03");
    let note = note_fields(&mut v, root, ctx, bill_number);
    let period_required = note.as_ref().is_some_and(|c| c.customization_id == "22" || c.customization_id == "32");
    let billing_period = billing_period(&mut v, root, period_required);
    let establishment = establishment(&mut v, root, ctx);

    let referenced = ctx.referenced_customer;
    let customer = if kind == DocKind::SupportDocument {
        v.object(root, "", "provider", true).and_then(|o| party(&mut v, o, ctx, Party::Provider))
    } else {
        let customer_required = kind == DocKind::Bill || referenced.is_none();
        match v.object(root, "", "customer", customer_required) {
            Some(o) => customer(&mut v, o, ctx),
            None => referenced.map(|c| (c.clone(), codes_of(c, ctx))),
        }
    };
    let mut items = items(&mut v, root, ctx, &operation_type, kind != DocKind::SupportDocument);
    if kind == DocKind::SupportDocument {
        // The provider cannot invoice, so it charges no tax: every line is excluded (tax 0), as
        // v1 support documents and Factus' examples (payments = net value) show.
        for item in items.iter_mut().flatten() {
            item.taxes = vec![TaxInput { code: "01".into(), rate: Decimal::ZERO, is_excluded: true }];
            item.item.is_excluded = true;
            item.item.tax_rate = Decimal::ZERO;
        }
    }
    let allowance_charges = allowance_charges(&mut v, root);
    let note_ok = matches!(kind, DocKind::Bill | DocKind::SupportDocument) || note.is_some();

    let (Some(range_id), Some(reference_code), Some((customer, codes)), Some(items), Some(payments), true) =
        (range_id, reference_code, customer, items, payment_details, note_ok)
    else {
        return Err(Invalid::incomplete(v));
    };
    if !v.errors.is_empty() {
        return Err(Invalid::Fields(v.errors));
    }
    let totals = totals::compute(&items, &allowance_charges, cash_rounding);
    check_payments(&payments, &totals)?;
    let first_credit = payments.iter().find(|p| p.payment_form == "2");
    let support_document = (kind == DocKind::SupportDocument).then(|| {
        let country_code = codes.country_code.clone().unwrap_or_else(|| "CO".into());
        SupportFields { is_resident: country_code == "CO", country_code }
    });
    // DIAN's support-document customization: 10 resident provider, 11 not resident.
    let operation_type = match &support_document {
        Some(support) => if support.is_resident { "10" } else { "11" }.into(),
        None => operation_type,
    };
    let input = DocumentInput {
        document,
        numbering_range_id: range_id,
        reference_code,
        observation,
        payment_form: if first_credit.is_some() { "2" } else { "1" }.into(),
        payment_due_date: first_credit.and_then(|p| p.due_date.clone()),
        payment_method_code: payments.first().map_or_else(|| "10".into(), |p| p.payment_method_code.clone()),
        operation_type,
        send_email,
        order_reference,
        related_documents,
        billing_period,
        establishment,
        customer,
        items: items.into_iter().map(|i| i.item).collect(),
        allowance_charges,
        credit_note: note,
        support_document,
    };
    let extras = V2Extras {
        payment_details: payments,
        prepayment_details,
        currency,
        created_time,
        customer: codes,
        bill_number: bill_number.map(str::to_owned),
    };
    Ok(Accepted { input, extras, totals })
}

/// `payment_details` must add up to the total, cash rounding included.
fn check_payments(payments: &[PaymentDetail], totals: &Totals) -> Result<(), Invalid> {
    let paid: Decimal = payments.iter().map(|p| p.amount).sum();
    if paid == totals.total {
        return Ok(());
    }
    let mut errors = Errors::default();
    errors.add(
        "payment_details",
        format!(
            "La suma de los montos de los medios de pago ({}) no coincide con el total del documento ({}).",
            money(paid),
            money(totals.total)
        ),
    );
    Err(Invalid::Fields(errors))
}

fn money(value: Decimal) -> String {
    format!("{value:.2}")
}

fn currency(v: &mut FieldReader, root: &Map<String, Value>) -> Option<Currency> {
    let o = v.object(root, "", "currency", false)?;
    let kind = v.string(o, "currency", "type", true);
    let rate = v.decimal(o, "currency", "exchange_rate", true, None);
    if kind.as_deref() == Some("COP") {
        v.errors.add("currency.type", "El campo currency.type debe ser una moneda distinta a COP.".into());
        return None;
    }
    Some(Currency { kind: kind?, exchange_rate: rate? })
}

fn payment_details(v: &mut FieldReader, root: &Map<String, Value>) -> Option<Vec<PaymentDetail>> {
    let list = v.array(root, "", "payment_details", true)?;
    let mut out = Vec::with_capacity(list.len());
    for (p, o) in v.elements(list, "payment_details") {
        let form = v.code(o, &p, "payment_form", true, &PAYMENT_FORMS);
        let method = v.code(o, &p, "payment_method_code", true, &PAYMENT_METHODS);
        let reference_code = v.string(o, &p, "reference_code", false);
        let amount = v.decimal(o, &p, "amount", true, None);
        let due_date = v.date(o, &p, "due_date", form.as_deref() == Some("2"));
        if let (Some(payment_form), Some(payment_method_code), Some(amount)) = (form, method, amount) {
            out.push(PaymentDetail {
                payment_form,
                payment_method_code,
                reference_code,
                amount,
                due_date: due_date.map(|d| d.to_string()),
            });
        }
    }
    (out.len() == list.len()).then_some(out)
}

fn prepayment_details(v: &mut FieldReader, root: &Map<String, Value>) -> Vec<Prepayment> {
    let Some(list) = v.array(root, "", "prepayment_details", false) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (p, o) in v.elements(list, "prepayment_details") {
        let reference_code = v.string(o, &p, "reference_code", true);
        let received_date = v.date(o, &p, "received_date", true);
        let amount = v.decimal(o, &p, "amount", true, None);
        let note = v.bounded_string(o, &p, "note", false, 5000);
        let concept_code = v.string(o, &p, "concept_code", false);
        if let (Some(reference_code), Some(received_date), Some(amount)) = (reference_code, received_date, amount) {
            out.push(Prepayment {
                reference_code,
                received_date: received_date.to_string(),
                amount,
                note,
                concept_code,
            });
        }
    }
    out
}

/// A municipality's v1 id (1-based catalogue position) from its DANE code.
fn municipality_id(ctx: &Context<'_>, code: &str) -> Option<u64> {
    ctx.catalog.municipalities.iter().position(|m| m.code == code).and_then(|i| u64::try_from(i + 1).ok())
}

/// A unit's v1 id from its DIAN code (the first entry when a code repeats).
fn unit_id(ctx: &Context<'_>, code: &str) -> Option<u64> {
    ctx.catalog.units.iter().position(|u| u.code == code).and_then(|i| u64::try_from(i + 1).ok())
}

/// A code that must name an entry of a catalogue, looked up by `find`.
fn catalogue_code(
    v: &mut FieldReader,
    o: &Map<String, Value>,
    prefix: &str,
    key: &str,
    required: bool,
    find: impl Fn(&str) -> Option<u64>,
) -> Option<(String, u64)> {
    let code = text(v, o, prefix, key, required)?;
    match find(&code) {
        Some(id) => Some((code, id)),
        None => {
            v.invalid(&join(prefix, key));
            None
        }
    }
}

/// A string field that may also come as a JSON integer (examples send `"scheme_id": 1`, DANE
/// codes as numbers): the integer is read as its digits.
fn text(v: &mut FieldReader, o: &Map<String, Value>, prefix: &str, key: &str, required: bool) -> Option<String> {
    let path = join(prefix, key);
    match present(o, key) {
        None => {
            if required {
                v.required(&path);
            }
            None
        }
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) if n.is_u64() => Some(n.to_string()),
        Some(_) => {
            v.fail(&path, "debe ser una cadena de caracteres.");
            None
        }
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() { key.to_owned() } else { format!("{prefix}.{key}") }
}

fn establishment(v: &mut FieldReader, root: &Map<String, Value>, ctx: &Context<'_>) -> Option<Establishment> {
    let o = v.object(root, "", "establishment", false)?;
    let p = "establishment";
    let name = v.string(o, p, "name", true);
    let address = v.string(o, p, "address", true);
    let phone_number = v.string(o, p, "phone_number", true);
    let email = v.email(o, p, "email", true);
    let municipality = catalogue_code(v, o, p, "municipality_code", true, |c| municipality_id(ctx, c));
    Some(Establishment {
        name: name?,
        address: address?,
        phone_number: phone_number?,
        email: email?,
        municipality_id: municipality?.1,
    })
}

/// Credit- and debit-note fields; `None` for bills or when they fail.
fn note_fields(
    v: &mut FieldReader,
    root: &Map<String, Value>,
    ctx: &Context<'_>,
    bill_number: Option<&str>,
) -> Option<CreditNoteFields> {
    let (concepts, customizations, with_reference): (CodeTable, CodeTable, &str) = match ctx.kind {
        DocKind::CreditNote => (&CORRECTION_CONCEPTS, &CREDIT_NOTE_CUSTOMIZATIONS, "20"),
        DocKind::DebitNote => (&DEBIT_CONCEPTS, &DEBIT_NOTE_CUSTOMIZATIONS, "30"),
        DocKind::Bill | DocKind::SupportDocument => return None,
    };
    let concept = v.code(root, "", "correction_concept_code", true, concepts);
    let customization =
        v.code(root, "", "customization_id", false, customizations).unwrap_or_else(|| with_reference.to_owned());
    let number = v.string(root, "", "bill_number", customization == with_reference);
    if number.is_some() && (ctx.referenced_customer.is_none() || bill_number.is_none()) {
        v.invalid("bill_number");
        return None;
    }
    Some(CreditNoteFields {
        correction_concept_code: concept?,
        customization_id: customization,
        // Filled with the referenced bill's id by the caller.
        bill_id: None,
    })
}

/// The codes of a customer known only by v1 ids (a note defaulting to its bill's customer).
fn codes_of(customer: &Customer, ctx: &Context<'_>) -> PartyCodes {
    PartyCodes {
        identification_document_code: crate::v2::codes::identity_code(customer.identification_document_id).into(),
        legal_organization_code: customer.legal_organization_id.to_string(),
        tribute_code: if customer.tribute_id == 18 { "01" } else { "ZZ" }.into(),
        municipality_code: customer.municipality_id.and_then(|id| ctx.catalog.municipality(id)).map(|m| m.code.clone()),
        country_code: None,
        responsibilities: vec!["R-99-PN".into()],
    }
}

/// Who a document names: the customer of a bill or note, or the provider of a support document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Party {
    Customer,
    /// A provider needs `names`, `address` and `country_code`, has one of the foreign or NIT
    /// identity documents, and no `company`.
    Provider,
}

fn customer(v: &mut FieldReader, o: &Map<String, Value>, ctx: &Context<'_>) -> Option<(Customer, PartyCodes)> {
    party(v, o, ctx, Party::Customer)
}

fn party(
    v: &mut FieldReader,
    o: &Map<String, Value>,
    ctx: &Context<'_>,
    party: Party,
) -> Option<(Customer, PartyCodes)> {
    let provider = party == Party::Provider;
    let p = if provider { "provider" } else { "customer" };
    let document = v.code(o, p, "identification_document_code", true, &IDENTITY_DOCUMENTS);
    let document = match document {
        Some(code) if provider && !PROVIDER_DOCUMENTS.contains(&code.as_str()) => {
            v.invalid("provider.identification_document_code");
            None
        }
        other => other,
    };
    let (identification, dv) = v.identification(o, p, document.as_deref() == Some("31"), "identificación");
    let company = if provider { None } else { v.string(o, p, "company", false) };
    let contact = Contact::read(v, o, p, provider, provider);
    let legal = if provider {
        v.code(o, p, "legal_organization_code", false, &LEGAL_ORGANIZATIONS).or_else(|| Some("2".into()))
    } else {
        v.code(o, p, "legal_organization_code", true, &LEGAL_ORGANIZATIONS)
    };
    let tribute = v.code(o, p, "tribute_code", false, &CUSTOMER_TRIBUTES).unwrap_or_else(|| "ZZ".into());
    let responsibilities = responsibilities(v, o, p);
    let country = match v.string(o, p, "country_code", provider) {
        Some(code) if ctx.catalog.countries.iter().any(|c| c.code == code) => Some(code),
        Some(_) => {
            v.invalid(&format!("{p}.country_code"));
            None
        }
        None => None,
    };
    let municipality = catalogue_code(v, o, p, "municipality_code", false, |c| municipality_id(ctx, c));
    match legal.as_deref() {
        _ if provider => {}
        Some("1") if company.is_none() => v.required("customer.company"),
        Some("2") if contact.names.is_none() => v.required("customer.names"),
        _ => {}
    }
    if provider && country.is_none() {
        return None;
    }
    let (identification, document, legal) = (identification?, document?, legal?);
    let dv = dv_or_computed(dv, document == "31", &identification);
    let customer = Customer {
        identification_document_id: identity_id(&document),
        identification,
        dv,
        company,
        contact,
        legal_organization_id: legal.parse().unwrap_or(2),
        tribute_id: if tribute == "01" { 18 } else { 21 },
        municipality_id: municipality.as_ref().map(|(_, id)| *id),
    };
    let codes = PartyCodes {
        identification_document_code: document,
        legal_organization_code: legal,
        tribute_code: tribute,
        municipality_code: municipality.map(|(code, _)| code),
        country_code: country,
        responsibilities: responsibilities?,
    };
    Some((customer, codes))
}

/// `<party>.responsibilities`: fiscal responsibility codes, `["R-99-PN"]` when absent.
fn responsibilities(v: &mut FieldReader, o: &Map<String, Value>, p: &str) -> Option<Vec<String>> {
    let Some(list) = v.array(o, p, "responsibilities", false) else {
        return Some(vec!["R-99-PN".into()]);
    };
    let mut out = Vec::with_capacity(list.len());
    for (i, value) in list.iter().enumerate() {
        match value.as_str() {
            Some(code) if RESPONSIBILITIES.iter().any(|(c, _)| *c == code) => out.push(code.to_owned()),
            _ => v.invalid(&format!("{p}.responsibilities.{i}")),
        }
    }
    (out.len() == list.len()).then_some(out)
}

fn items(
    v: &mut FieldReader,
    root: &Map<String, Value>,
    ctx: &Context<'_>,
    operation_type: &str,
    taxes_required: bool,
) -> Option<Vec<ItemV2>> {
    let list = v.array(root, "", "items", true)?;
    let hundred = Some(Decimal::ONE_HUNDRED);
    let mut out = Vec::with_capacity(list.len());
    for (p, o) in v.elements(list, "items") {
        let code_reference = v.string(o, &p, "code_reference", true);
        let name = v.string(o, &p, "name", true);
        let quantity = v.decimal(o, &p, "quantity", true, None);
        if quantity.is_some_and(|q| q.is_zero()) {
            v.fail(&format!("{p}.quantity"), "debe ser mayor que 0.");
        }
        let discount_rate = v.decimal(o, &p, "discount_rate", false, hundred);
        let discount_amount = v.decimal(o, &p, "discount_amount", false, None);
        if discount_rate.is_some_and(|r| !r.is_zero()) && discount_amount.is_some_and(|a| !a.is_zero()) {
            v.fail(&format!("{p}.discount_amount"), "no debe enviarse junto con discount_rate.");
        }
        let price = v.decimal(o, &p, "price", true, None);
        let unit = catalogue_code(v, o, &p, "unit_measure_code", true, |c| unit_id(ctx, c));
        let standard = catalogue_code(v, o, &p, "standard_code", true, |c| {
            STANDARD_CODES.iter().find(|(_, code, _)| *code == c).map(|(id, _, _)| *id)
        });
        let taxes = item_taxes(v, o, &p, taxes_required);
        let withholding_taxes = withholding_taxes(v, o, &p, "rate");
        let scheme_id = text(v, o, &p, "scheme_id", operation_type == "11");
        if scheme_id.as_deref().is_some_and(|s| s != "0" && s != "1") {
            v.invalid(&format!("{p}.scheme_id"));
        }
        let note = v.string(o, &p, "note", false);
        let mandate = match v.object(o, &p, "mandate", scheme_id.as_deref() == Some("1")) {
            Some(m) => {
                let mp = format!("{p}.mandate");
                let document = v.code(m, &mp, "identification_document_code", true, &IDENTITY_DOCUMENTS);
                let identification = v.string(m, &mp, "identification", true);
                document
                    .zip(identification)
                    .map(|(d, i)| Mandate { identification_document_id: identity_id(&d), identification: i })
            }
            None => None,
        };
        let (
            Some(code_reference),
            Some(name),
            Some(quantity),
            Some(price),
            Some((_, unit_measure_id)),
            Some((_, standard_code_id)),
            Some(taxes),
        ) = (code_reference, name, quantity, price, unit, standard, taxes)
        else {
            continue;
        };
        let first = taxes.iter().find(|t| !t.is_excluded);
        let item = ItemV2 {
            item: Item {
                code_reference,
                name,
                quantity,
                discount_rate: discount_rate.unwrap_or_default(),
                price,
                tax_rate: first.map_or(Decimal::ZERO, |t| t.rate),
                unit_measure_id,
                standard_code_id,
                is_excluded: first.is_none(),
                tribute_id: tribute_id(first.map_or("01", |t| t.code.as_str())),
                scheme_id,
                note,
                withholding_taxes,
                mandate,
            },
            taxes,
            discount_amount: discount_amount.filter(|a| !a.is_zero()),
        };
        let (gross, discount) = totals::line_base(&item);
        if discount > gross {
            v.fail(&format!("{p}.discount_amount"), "no debe ser mayor que el valor bruto del ítem.");
            continue;
        }
        out.push(item);
    }
    (out.len() == list.len()).then_some(out)
}

/// The v1 product-tribute id of a v2 tax code (0 for `35`, which v1 does not know).
fn tribute_id(code: &str) -> u64 {
    PRODUCT_TRIBUTES.iter().find(|t| t.code == code).map_or(0, |t| t.id)
}

/// `items.*.taxes`: `code` and `rate` are required unless the tax is excluded (then it is IVA).
fn item_taxes(v: &mut FieldReader, o: &Map<String, Value>, p: &str, required: bool) -> Option<Vec<TaxInput>> {
    let Some(list) = v.array(o, p, "taxes", required) else {
        return (!required).then(Vec::new);
    };
    let mut out = Vec::with_capacity(list.len());
    for (tp, t) in v.elements(list, &format!("{p}.taxes")) {
        let is_excluded = v.boolean(t, &tp, "is_excluded").unwrap_or(false);
        let code = v.code(t, &tp, "code", !is_excluded, &TAXES);
        let rate = v.decimal(t, &tp, "rate", !is_excluded, Some(Decimal::ONE_HUNDRED));
        if is_excluded && code.as_deref().is_some_and(|c| c != "01") {
            v.errors.add(&format!("{tp}.is_excluded"), "El impuesto excluido solo puede ser aplicado al IVA".into());
            continue;
        }
        match (is_excluded, code, rate) {
            (true, code, _) => {
                out.push(TaxInput { code: code.unwrap_or_else(|| "01".into()), rate: Decimal::ZERO, is_excluded })
            }
            (false, Some(code), Some(rate)) => out.push(TaxInput { code, rate, is_excluded }),
            _ => {}
        }
    }
    (out.len() == list.len()).then_some(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::catalog::Catalog;
    use crate::ranges::default_ranges;

    fn body(unit: &str, municipality: &str) -> Value {
        json!({
            "reference_code": "R",
            "payment_details": [{"payment_form": "1", "payment_method_code": "10", "amount": "119.00"}],
            "customer": {"identification_document_code": "13", "identification": "1", "names": "N",
                         "legal_organization_code": "2", "municipality_code": municipality},
            "items": [{"code_reference": "A", "name": "A", "quantity": "1", "price": "100",
                       "unit_measure_code": unit, "standard_code": "999",
                       "taxes": [{"code": "01", "rate": "19"}]}]
        })
    }

    #[test]
    fn every_unit_and_municipality_code_of_the_catalogues_is_accepted() {
        // The gateway translates v1 ids to these codes; none of them may be refused.
        let catalog = Catalog::load();
        let ranges = default_ranges();
        let ctx = Context { kind: DocKind::Bill, ranges: &ranges, catalog: &catalog, referenced_customer: None };
        for unit in &catalog.units {
            let accepted = document(&body(&unit.code, "11001"), &ctx, None);
            assert!(accepted.is_ok(), "unit {}: {:?}", unit.code, accepted.err());
        }
        for municipality in &catalog.municipalities {
            let accepted = document(&body("94", &municipality.code), &ctx, None);
            let input = accepted.unwrap_or_else(|e| panic!("municipality {}: {e:?}", municipality.code)).input;
            let id = input.customer.municipality_id.expect("an id");
            assert_eq!(catalog.municipality(id).map(|m| m.code.as_str()), Some(municipality.code.as_str()));
        }
    }
}
