//! Document checks of the v1 `…/validate` bodies, the way Factus (Laravel) does them: every failing
//! field is reported, and the whole list is answered as 422. The field readers they are built
//! from live in [`fields`].

mod fields;

use rust_decimal::Decimal;
use serde_json::{Map, Value};

pub(crate) use fields::{Errors, FieldReader, body_object, is_email, nit_check_digit, present};

use crate::catalog::{
    self, CORRECTION_CONCEPTS, CREDIT_NOTE_CUSTOMIZATIONS, CUSTOMER_TRIBUTES, Catalog, IDENTITY_DOCUMENTS,
    INVOICE_DOCUMENTS, LEGAL_ORGANIZATIONS, OPERATION_TYPES, PAYMENT_FORMS, PAYMENT_METHODS, PRODUCT_TRIBUTES,
    STANDARD_CODES, SURCHARGE_CONCEPT, WITHHOLDINGS,
};
use crate::model::{
    AllowanceCharge, BillingPeriod, Contact, CreditNoteFields, Customer, DocKind, Document, DocumentInput,
    Establishment, Item, Mandate, OrderReference, RelatedDocument, WithholdingInput,
};
use crate::ranges::RangeMeta;

/// Why a document was refused before anything was stored: Laravel field validation (`errors`
/// values are arrays of messages). DIAN rejections are not refusals: see [`dian_rules`].
#[derive(Debug)]
pub(crate) enum Invalid {
    Fields(Errors),
}

impl Invalid {
    /// The refusal of a body a required part of which did not read: its field errors. Every path
    /// that yields nothing records an error; should one not, the answer is still a 422.
    pub(crate) fn incomplete(mut v: FieldReader) -> Self {
        if v.errors.is_empty() {
            v.invalid("reference_code");
        }
        Self::Fields(v.errors)
    }
}

/// The fields every `…/validate` body starts with, in both versions and for every kind: the
/// numbering range (the one named, or the only active one), the DIAN document code, the
/// reference and the observation.
pub(crate) struct Head {
    pub range_id: Option<u64>,
    pub document: String,
    pub reference_code: Option<String>,
    pub observation: Option<String>,
}

impl Head {
    pub(crate) fn read(v: &mut FieldReader, root: &Map<String, Value>, ranges: &[RangeMeta], kind: DocKind) -> Self {
        Self {
            range_id: numbering_range(v, root, ranges, kind),
            document: document_code(v, root, kind),
            reference_code: v.bounded_string(root, "", "reference_code", true, 255),
            observation: v.bounded_string(root, "", "observation", false, 250),
        }
    }
}

/// The `dv` a party was sent with; for a NIT sent without one, the check digit Factus computes.
pub(crate) fn dv_or_computed(dv: Option<String>, is_nit: bool, identification: &str) -> Option<String> {
    dv.or_else(|| is_nit.then(|| nit_check_digit(identification).map(|d| d.to_string())).flatten())
}

/// Whether a NIT's check digit is wrong (a missing `dv` was computed, so it is never wrong).
pub(crate) fn wrong_nit_dv(document_id: u64, identification: &str, dv: Option<&str>) -> bool {
    document_id == 6
        && dv.is_some_and(|dv| nit_check_digit(identification).map(|d| d.to_string()).as_deref() != Some(dv))
}

/// The DIAN rules a valid body breaks, as `(rule, "Regla: <rule>, Rechazo: <text>")`. Factus stores
/// such a document as pending and answers the rules; the rule names are DIAN's per document type
/// (`FAK24` invoice customer, `CAK24` credit-note customer, `DSAJ24b` support-document provider).
pub(crate) fn dian_rules(kind: DocKind, input: &DocumentInput, verify_dv: bool) -> Vec<(String, String)> {
    let mut rules = Vec::new();
    let customer = &input.customer;
    if verify_dv && wrong_nit_dv(customer.identification_document_id, &customer.identification, customer.dv.as_deref())
    {
        let rule = match kind {
            DocKind::Bill => rejection("FAK24", "No está informado el DV del NIT"),
            DocKind::CreditNote => rejection("CAK24", "No está informado el DV del NIT"),
            DocKind::SupportDocument => rejection("DSAJ24b", "El DV del NIT no es correcto"),
            DocKind::DebitNote => rejection("DAK24", "No está informado el DV del NIT"),
        };
        rules.push(rule);
    }
    rules
}

/// One rejection entry in DIAN's wording.
pub(crate) fn rejection(rule: &str, text: &str) -> (String, String) {
    (rule.to_owned(), format!("Regla: {rule}, Rechazo: {text}"))
}

/// What validation needs to know besides the body.
pub(crate) struct Context<'a> {
    pub kind: DocKind,
    pub ranges: &'a [RangeMeta],
    pub catalog: &'a Catalog,
    /// The bill named by a credit note's `bill_id`, with its customer, when it exists.
    pub referenced_customer: Option<&'a Customer>,
}

impl<'a> Context<'a> {
    /// A body of `kind` checked against `ranges` and `catalog`; `referenced` is the bill a note
    /// names, when it exists.
    pub(crate) fn new(
        kind: DocKind,
        ranges: &'a [RangeMeta],
        catalog: &'a Catalog,
        referenced: Option<&'a Document>,
    ) -> Self {
        Self { kind, ranges, catalog, referenced_customer: referenced.map(|bill| &bill.input.customer) }
    }
}

/// Validates a `…/validate` body of `ctx.kind`.
pub(crate) fn document(body: &Value, ctx: &Context<'_>) -> Result<DocumentInput, Invalid> {
    let root = body_object(body);
    let mut v = FieldReader::default();
    let kind = ctx.kind;

    let Head { range_id, document, reference_code, observation } = Head::read(&mut v, root, ctx.ranges, kind);
    let payment_form = match kind {
        DocKind::Bill => v.code(root, "", "payment_form", false, &PAYMENT_FORMS),
        DocKind::CreditNote | DocKind::SupportDocument | DocKind::DebitNote => None,
    }
    .unwrap_or_else(|| "1".into());
    let due_date = v.date(root, "", "payment_due_date", payment_form == "2");
    let payment_method_code =
        v.code(root, "", "payment_method_code", false, &PAYMENT_METHODS).unwrap_or_else(|| "10".into());
    let operation_type = match kind {
        DocKind::Bill => v.code(root, "", "operation_type", false, &OPERATION_TYPES),
        DocKind::CreditNote | DocKind::SupportDocument | DocKind::DebitNote => None,
    }
    .unwrap_or_else(|| "10".into());
    let send_email = v.boolean(root, "", "send_email").unwrap_or(true);

    let order_reference = order_reference(&mut v, root);

    let related_documents = related_documents(&mut v, root, kind == DocKind::Bill && document == "03");
    let credit_note = match kind {
        DocKind::CreditNote => credit_note_fields(&mut v, root, ctx),
        DocKind::Bill | DocKind::SupportDocument | DocKind::DebitNote => None,
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
                support_document: None,
            })
        }
        _ => Err(Invalid::incomplete(v)),
    }
}

/// `order_reference`: `reference_code` required once the object is sent.
pub(crate) fn order_reference(v: &mut FieldReader, root: &Map<String, Value>) -> Option<OrderReference> {
    let o = v.object(root, "", "order_reference", false)?;
    let reference_code = v.string(o, "order_reference", "reference_code", true);
    let issue_date = v.date(o, "order_reference", "issue_date", false);
    Some(OrderReference { reference_code: reference_code?, issue_date: issue_date.map(|d| d.to_string()) })
}

fn numbering_range(v: &mut FieldReader, root: &Map<String, Value>, ranges: &[RangeMeta], kind: DocKind) -> Option<u64> {
    let code = kind.range_code();
    match v.int(root, "", "numbering_range_id", false) {
        Some(id) if ranges.iter().any(|r| r.id == id && r.document_code == code && r.is_active) => Some(id),
        Some(_) => {
            v.invalid("numbering_range_id");
            None
        }
        None if present(root, "numbering_range_id").is_some() => None,
        None => {
            let mut active = ranges.iter().filter(|r| r.document_code == code && r.is_active);
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

pub(crate) fn related_documents(
    v: &mut FieldReader,
    root: &Map<String, Value>,
    required: bool,
) -> Vec<RelatedDocument> {
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

pub(crate) fn billing_period(v: &mut FieldReader, root: &Map<String, Value>, required: bool) -> Option<BillingPeriod> {
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

fn credit_note_fields(v: &mut FieldReader, root: &Map<String, Value>, ctx: &Context<'_>) -> Option<CreditNoteFields> {
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

/// The DIAN document code: a bill's `document` (`01` by default), fixed for the other kinds.
fn document_code(v: &mut FieldReader, root: &Map<String, Value>, kind: DocKind) -> String {
    match kind {
        DocKind::Bill => v.code(root, "", "document", false, &INVOICE_DOCUMENTS).unwrap_or_else(|| "01".into()),
        DocKind::CreditNote => "91".into(),
        DocKind::SupportDocument => "05".into(),
        DocKind::DebitNote => "92".into(),
    }
}

fn customer(v: &mut FieldReader, o: &Map<String, Value>, ctx: &Context<'_>) -> Option<Customer> {
    let p = "customer";
    let document_id =
        v.int_in(o, p, "identification_document_id", true, |id| catalog::by_id(&IDENTITY_DOCUMENTS, id).is_some());
    let (identification, dv) = v.identification(o, p, document_id == Some(6), "identificación");
    let company = v.string(o, p, "company", false);
    let contact = Contact::read(v, o, p, false, false);
    let legal_organization_id =
        v.int_in(o, p, "legal_organization_id", true, |id| catalog::by_id(&LEGAL_ORGANIZATIONS, id).is_some());
    let tribute_id = v.int_in(o, p, "tribute_id", true, |id| CUSTOMER_TRIBUTES.iter().any(|(t, _, _)| *t == id));
    let municipality_id = v.int_in(o, p, "municipality_id", false, |id| ctx.catalog.municipality(id).is_some());
    if company.is_none() && contact.names.is_none() {
        if legal_organization_id == Some(1) {
            v.required("customer.company");
        } else {
            v.required("customer.names");
        }
    }
    let identification = identification?;
    let document_id = document_id?;
    let dv = dv_or_computed(dv, document_id == 6, &identification);
    Some(Customer {
        identification_document_id: document_id,
        identification,
        dv,
        company,
        contact,
        legal_organization_id: legal_organization_id?,
        tribute_id: tribute_id?,
        municipality_id,
    })
}

impl Contact {
    /// Read in this order after the party's identification (and company): v1 customers, support
    /// documents' providers, v2 customers and providers.
    pub(crate) fn read(
        v: &mut FieldReader,
        o: &Map<String, Value>,
        p: &str,
        names_required: bool,
        address_required: bool,
    ) -> Self {
        Self {
            trade_name: v.string(o, p, "trade_name", false),
            names: v.string(o, p, "names", names_required),
            address: v.string(o, p, "address", address_required),
            email: v.email(o, p, "email", false),
            phone: v.string(o, p, "phone", false),
        }
    }
}

/// What every v1 item starts with, an invoice's as a support document's: its code and name, a
/// quantity of at least 1, the discount and the price.
pub(crate) struct ItemHead {
    pub code_reference: Option<String>,
    pub name: Option<String>,
    pub quantity: Option<u64>,
    pub discount_rate: Option<Decimal>,
    pub price: Option<Decimal>,
}

impl ItemHead {
    pub(crate) fn read(v: &mut FieldReader, o: &Map<String, Value>, p: &str) -> Self {
        let code_reference = v.string(o, p, "code_reference", true);
        let name = v.string(o, p, "name", true);
        let quantity = v.int(o, p, "quantity", true);
        if quantity == Some(0) {
            v.fail(&format!("{p}.quantity"), "debe ser al menos 1.");
        }
        let discount_rate = v.decimal(o, p, "discount_rate", false, Some(Decimal::ONE_HUNDRED));
        let price = v.decimal(o, p, "price", true, None);
        Self { code_reference, name, quantity, discount_rate, price }
    }
}

/// An item's `withholding_taxes` (none when absent): each a known code and a rate up to 100,
/// the rate under `rate_field` (v1 `withholding_tax_rate`, v2 `rate`).
pub(crate) fn withholding_taxes(
    v: &mut FieldReader,
    o: &Map<String, Value>,
    p: &str,
    rate_field: &str,
) -> Vec<WithholdingInput> {
    let mut out = Vec::new();
    if let Some(list) = v.array(o, p, "withholding_taxes", false) {
        for (wp, w) in v.elements(list, &format!("{p}.withholding_taxes")) {
            let code = v.code(w, &wp, "code", true, &WITHHOLDINGS);
            let rate = v.decimal(w, &wp, rate_field, true, Some(Decimal::ONE_HUNDRED));
            if let (Some(code), Some(rate)) = (code, rate) {
                out.push(WithholdingInput { code, rate });
            }
        }
    }
    out
}

fn items(v: &mut FieldReader, root: &Map<String, Value>, ctx: &Context<'_>, operation_type: &str) -> Option<Vec<Item>> {
    let list = v.array(root, "", "items", true)?;
    let hundred = Some(Decimal::ONE_HUNDRED);
    let mut out = Vec::with_capacity(list.len());
    let mut complete = true;
    for (p, o) in v.elements(list, "items") {
        let ItemHead { code_reference, name, quantity, discount_rate, price } = ItemHead::read(v, o, &p);
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
        let withholding_taxes = withholding_taxes(v, o, &p, "withholding_tax_rate");
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
                    quantity: Decimal::from(quantity),
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

pub(crate) fn allowance_charges(v: &mut FieldReader, root: &Map<String, Value>) -> Vec<AllowanceCharge> {
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
