//! Reading the create bodies — `POST /api/v1/invoices` into a domain [`Invoice`], the credit- and
//! debit-note bodies into a [`Note`], the support-document body into a [`SupportDocument`] — the
//! same way for every kind.
//!
//! Three steps, so that the client gets every problem of its body in one answer, and the status
//! tells it what kind of problem it is (docs/ARCHITECTURE.md, "Every error at once"):
//!
//! 1. Every field is read with [`Fields`] into an [`InvoiceDraft`]: missing fields, wrong JSON
//!    types, bad dates and bad e-mails are all recorded (unknown fields are ignored, defaults of
//!    `docs/contract.md` §3.1 applied).
//! 2. If any of those shape errors exist, the answer is 422 with all of them **and** every field
//!    bound and field rule the domain already sees (quantity > 0, rates ≥ 0, at most two decimal
//!    places, …), as the original's field validators report them together. To see them, the
//!    fields that could not be read are filled with valid placeholders and the draft is checked by
//!    the domain; only its field violations are kept (business rules of the whole invoice, such as
//!    credit needs a due date, are not judged on a malformed body).
//! 3. Otherwise the domain builds the invoice: field violations → 422, else business rules → 400,
//!    both with the same FastAPI list shape.
//!
//! Catalogue fields may be given as the Factus v1 id (`municipality_id`), as the DIAN code Factus
//! v2 uses (`municipality_code`), or both, whichever version the server talks to: a code is
//! turned into its id here (an unknown code is a 422 naming the field and the value), an id and a
//! code that name different entries are a 422 naming both fields, and the domain checks that the
//! id exists.

use factus_domain::catalog::{self, Catalog, Entry};
use factus_domain::invoice::{
    AllowanceChargeDraft, BillingPeriodDraft, COLOMBIA, CustomerDraft, EstablishmentDraft, FieldProblem, Invoice,
    InvoiceDraft, ItemDraft, MandateDraft, Note, NoteDraft, NoteKind, OrderReferenceDraft, PathSegment, ProviderDraft,
    Rate, RelatedDocumentDraft, SupportDocument, SupportDocumentDraft, SupportItemDraft, Violation, ViolationKind,
    WithholdingTaxDraft,
};
use rust_decimal::Decimal;
use serde_json::Value;
use time::Date;

use crate::error::ApiError;
use crate::validation::{Errors, FieldError, FieldKind, Fields, Loc, reads};

/// Reads and checks a create-invoice body.
///
/// # Errors
/// [`ApiError::Validation`] (422) for malformed bodies (shape, types, presence, field bounds), with
/// every such problem; [`ApiError::BusinessRules`] (400) for a well-formed invoice that breaks
/// business rules, with every broken rule.
pub fn parse_invoice(body: &Value) -> Result<Invoice, ApiError> {
    parse_with(body, &mut Seed)
}

/// Reads and checks a create-invoice body written in `dialect`: the steps of the module's
/// documentation, the same for both generations of the contract.
///
/// # Errors
/// As [`parse_invoice`].
pub(crate) fn parse_with(body: &Value, dialect: &mut dyn Dialect) -> Result<Invoice, ApiError> {
    parse_body(body, |body, errors| read_invoice(body, dialect, errors), Invoice::parse)
}

/// Reads and checks a create-note body (credit or debit), as [`parse_invoice`] (in the seed's
/// dialect: v1 ids or DIAN codes).
///
/// # Errors
/// As [`parse_invoice`].
pub fn parse_note(kind: NoteKind, body: &Value) -> Result<Note, ApiError> {
    parse_body(body, read_note, |draft| Note::parse(kind, draft))
}

/// Reads and checks a create-support-document body, as [`parse_invoice`].
///
/// # Errors
/// As [`parse_invoice`].
pub fn parse_support_document(body: &Value) -> Result<SupportDocument, ApiError> {
    parse_body(body, read_support_document, SupportDocument::parse)
}

/// The steps of the module docs, for any document: `read` records the shape errors into a
/// draft, `parse` is the domain's check.
fn parse_body<D, T>(
    body: &Value,
    read: impl FnOnce(&Value, &mut Errors) -> Option<D>,
    parse: impl Fn(D) -> Result<T, Vec<Violation>>,
) -> Result<T, ApiError> {
    let mut errors = Errors::new();
    let draft = read(body, &mut errors);
    let shape_errors = errors.into_vec();
    let Some(draft) = draft else {
        return Err(ApiError::Validation(shape_errors));
    };

    if !shape_errors.is_empty() {
        let mut all = shape_errors;
        if let Err(violations) = parse(draft) {
            let bounds: Vec<FieldError> = violations
                .iter()
                .filter(|violation| !violation.is_business_rule())
                .map(field_error)
                .filter(|bound| all.iter().all(|error| error.loc != bound.loc))
                .collect();
            all.extend(bounds);
        }
        return Err(ApiError::Validation(all));
    }

    parse(draft).map_err(|violations| {
        let bounds: Vec<FieldError> =
            violations.iter().filter(|violation| !violation.is_business_rule()).map(field_error).collect();
        if bounds.is_empty() {
            ApiError::BusinessRules(violations.iter().map(field_error).collect())
        } else {
            ApiError::Validation(bounds)
        }
    })
}

/// A domain violation as a FastAPI `detail` entry, with the seed's `type` codes.
pub(crate) fn field_error(violation: &Violation) -> FieldError {
    let loc = violation.path().segments().iter().fold(Loc::body(), |loc, segment| match segment {
        PathSegment::Key(key) => loc.key(*key),
        PathSegment::Index(index) => loc.index(*index),
    });
    FieldError::new(loc, violation.message(), type_code(violation.kind()))
}

/// The seed's `type` code for a kind of domain violation, for any edge that reports one (a
/// `reference_code` path parameter, an e-mail in another body).
#[must_use]
pub fn type_code(kind: ViolationKind) -> &'static str {
    match kind {
        ViolationKind::NotGreaterThan => "value_error.number.not_gt",
        ViolationKind::NotGreaterOrEqual => "value_error.number.not_ge",
        ViolationKind::NotLessOrEqual => "value_error.number.not_le",
        ViolationKind::TooLong => "value_error.any_str.max_length",
        ViolationKind::TooShort => "value_error.any_str.min_length",
        ViolationKind::BadFormat => "value_error.str.regex",
        ViolationKind::BadEmail => "value_error.email",
        ViolationKind::NotPermitted => "type_error.enum",
        ViolationKind::TooManyDecimals | ViolationKind::BusinessRule => "value_error",
    }
}

// Placeholders for fields that could not be read. They only stand in while the domain looks for
// field bounds on a body already answered with 422, so each is a value that breaks no bound.
const PLACEHOLDER_TEXT: &str = "placeholder";
pub(crate) const PLACEHOLDER_DOCUMENT_ID: i64 = 3;
/// A NIT: an identity document a provider may have.
const PLACEHOLDER_PROVIDER_DOCUMENT_ID: i64 = 6;
pub(crate) const PLACEHOLDER_LEGAL_ORGANIZATION_ID: i64 = 2;
pub(crate) const PLACEHOLDER_CUSTOMER_TRIBUTE_ID: i64 = 21;
const PLACEHOLDER_MUNICIPALITY_ID: i64 = 169;
pub(crate) const PLACEHOLDER_UNIT_MEASURE_ID: i64 = 70;
pub(crate) const PLACEHOLDER_STANDARD_CODE_ID: i64 = 1;
pub(crate) const PLACEHOLDER_PRODUCT_TRIBUTE_ID: i64 = 1;

/// A catalogue field given as a v1 id (`id_key`), a DIAN code (`code_key`) or both: the v1 id.
///
/// `None` when neither is given (recorded as the id missing when `required`, as before codes were
/// accepted) or when what was given is wrong (recorded). An id alone is returned unchecked: the
/// domain reports an id that is not in the catalogue.
fn catalog_id(
    fields: &Fields<'_>,
    (id_key, code_key): (&'static str, &'static str),
    catalog: &Catalog,
    required: bool,
    errors: &mut Errors,
) -> Option<i64> {
    let id = fields.optional_int(id_key, errors);
    let code = fields.optional_str(code_key, errors);
    let id_given = id.is_some() || fields.raw(id_key).is_some();
    let Some(code) = code else {
        if required && !id_given && fields.raw(code_key).is_none() {
            errors.push(FieldError::missing(fields.loc().key(id_key)));
        }
        return id;
    };
    let entry = resolve_code(fields, code_key, &code, catalog, errors)?;
    match id {
        Some(id) if catalog.by_id(id).is_some_and(|named| named.code() != entry.code()) => {
            errors.push(FieldError::new(
                fields.loc().key(code_key),
                format!(
                    "{id_key} {id} y {code_key} '{code}' no corresponden al mismo registro del catálogo de {}",
                    catalog.label()
                ),
                "value_error",
            ));
            None
        }
        Some(id) => Some(id),
        None if id_given => None,
        None => Some(entry.id()),
    }
}
/// The catalogue entry of the DIAN `code` given at `code_key`; `None` (recorded, naming the field
/// and the value) when the catalogue does not hold it.
pub(crate) fn resolve_code(
    fields: &Fields<'_>,
    code_key: &'static str,
    code: &str,
    catalog: &Catalog,
    errors: &mut Errors,
) -> Option<Entry> {
    match catalog.resolve_code(code) {
        Ok(entry) => Some(entry),
        Err(unknown) => {
            errors.push(FieldError::new(
                fields.loc().key(code_key),
                unknown.message_for(code_key),
                type_code(ViolationKind::NotPermitted),
            ));
            None
        }
    }
}

const PLACEHOLDER_DATE: Date = Date::MIN;

/// Reads the body into a draft, recording every shape error; `None` only when the body is not an
/// object at all.
fn read_invoice(body: &Value, dialect: &mut dyn Dialect, errors: &mut Errors) -> Option<InvoiceDraft> {
    let loc = Loc::body();
    let fields = Fields::of(body, &loc, errors)?;

    let Header { numbering_range_id, document, reference_code, observation, payment_method_code, payment_form } =
        dialect.header(&fields, errors);
    let dialect: &dyn Dialect = dialect;
    let payment_due_date = fields.optional_date("payment_due_date", errors);
    let operation_type = fields.optional_str("operation_type", errors);
    let send_email = fields.optional_bool("send_email", errors);
    let order_reference = nested(&fields, "order_reference", false, errors, read_order_reference);
    let related_documents = list(&fields, "related_documents", false, errors, read_related_document);
    let billing_period = nested(&fields, "billing_period", false, errors, read_billing_period);
    let establishment = nested(&fields, "establishment", false, errors, read_establishment);
    let allowance_charges = list(&fields, "allowance_charges", false, errors, read_allowance_charge);
    let customer = nested(&fields, "customer", true, errors, |fields, errors| read_customer(fields, dialect, errors));
    let items = list(&fields, "items", true, errors, |fields, errors| read_item(fields, dialect, errors));

    Some(InvoiceDraft {
        numbering_range_id,
        document: document.unwrap_or_else(|| InvoiceDraft::DEFAULT_DOCUMENT.to_owned()),
        reference_code: text(reference_code),
        observation,
        payment_method_code: payment_method_code
            .unwrap_or_else(|| InvoiceDraft::DEFAULT_PAYMENT_METHOD_CODE.to_owned()),
        payment_form: payment_form.unwrap_or_else(|| InvoiceDraft::DEFAULT_PAYMENT_FORM.to_owned()),
        payment_due_date,
        operation_type,
        send_email,
        order_reference,
        related_documents,
        billing_period,
        establishment,
        allowance_charges,
        customer: customer.unwrap_or_else(|| CustomerDraft {
            identification_document_id: PLACEHOLDER_DOCUMENT_ID,
            legal_organization_id: PLACEHOLDER_LEGAL_ORGANIZATION_ID,
            tribute_id: PLACEHOLDER_CUSTOMER_TRIBUTE_ID,
            ..CustomerDraft::default()
        }),
        items: items.unwrap_or_default(),
    })
}

/// Reads a credit- or debit-note body; the invoice's customer and item readers read its parts.
fn read_note(body: &Value, errors: &mut Errors) -> Option<NoteDraft> {
    let loc = Loc::body();
    let fields = Fields::of(body, &loc, errors)?;
    Some(NoteDraft {
        bill_number: fields.optional_str("bill_number", errors),
        correction_concept_code: fields.required_int("correction_concept_code", errors).unwrap_or(1),
        customization_id: fields.optional_str("customization_id", errors),
        reference_code: text(fields.required_str("reference_code", errors)),
        payment_method_code: fields
            .optional_str("payment_method_code", errors)
            .unwrap_or_else(|| InvoiceDraft::DEFAULT_PAYMENT_METHOD_CODE.to_owned()),
        numbering_range_id: fields.optional_int("numbering_range_id", errors),
        observation: fields.optional_str("observation", errors),
        send_email: fields.optional_bool("send_email", errors),
        billing_period: nested(&fields, "billing_period", false, errors, read_billing_period),
        customer: nested(&fields, "customer", false, errors, |fields, errors| read_customer(fields, &Seed, errors)),
        items: list(&fields, "items", true, errors, |fields, errors| read_item(fields, &Seed, errors))
            .unwrap_or_default(),
    })
}

/// Reads a support-document body: a `provider` and items without taxes.
fn read_support_document(body: &Value, errors: &mut Errors) -> Option<SupportDocumentDraft> {
    let loc = Loc::body();
    let fields = Fields::of(body, &loc, errors)?;
    let reference_code = text(fields.required_str("reference_code", errors));
    let payment_method_code = fields
        .optional_str("payment_method_code", errors)
        .unwrap_or_else(|| InvoiceDraft::DEFAULT_PAYMENT_METHOD_CODE.to_owned());
    let numbering_range_id = fields.optional_int("numbering_range_id", errors);
    let observation = fields.optional_str("observation", errors);
    let provider = nested(&fields, "provider", true, errors, read_provider);
    let items = list(&fields, "items", true, errors, read_support_item);
    Some(SupportDocumentDraft {
        reference_code,
        payment_method_code,
        numbering_range_id,
        observation,
        provider: provider.unwrap_or_else(|| ProviderDraft {
            identification_document_id: PLACEHOLDER_PROVIDER_DOCUMENT_ID,
            names: PLACEHOLDER_TEXT.to_owned(),
            is_resident: true,
            country_code: COLOMBIA.to_owned(),
            municipality_id: Some(PLACEHOLDER_MUNICIPALITY_ID),
            ..ProviderDraft::default()
        }),
        items: items.unwrap_or_default(),
    })
}

fn read_provider(fields: &Fields<'_>, errors: &mut Errors) -> ProviderDraft {
    ProviderDraft {
        identification_document_id: catalog_id(
            fields,
            ("identification_document_id", "identification_document_code"),
            catalog::identification_documents(),
            true,
            errors,
        )
        .unwrap_or(PLACEHOLDER_PROVIDER_DOCUMENT_ID),
        identification: text(fields.required_str("identification", errors)),
        dv: fields.optional_str("dv", errors),
        trade_name: fields.optional_str("trade_name", errors),
        names: text(fields.required_str("names", errors)),
        address: fields.optional_str("address", errors),
        email: fields.optional_email("email", errors),
        phone: fields.optional_str("phone", errors),
        is_resident: fields.optional_bool("is_resident", errors).unwrap_or(true),
        country_code: fields.optional_str("country_code", errors).unwrap_or_else(|| COLOMBIA.to_owned()),
        municipality_id: catalog_id(
            fields,
            ("municipality_id", "municipality_code"),
            catalog::municipalities(),
            false,
            errors,
        ),
    }
}

fn read_support_item(fields: &Fields<'_>, errors: &mut Errors) -> SupportItemDraft {
    SupportItemDraft {
        code_reference: text(fields.required_str("code_reference", errors)),
        name: text(fields.required_str("name", errors)),
        quantity: fields.required_int("quantity", errors).unwrap_or(1),
        price: fields.required_decimal("price", errors).unwrap_or(Decimal::ONE),
        discount_rate: fields.optional_decimal("discount_rate", errors).unwrap_or(Rate::ZERO.percent()),
        unit_measure_id: catalog_id(
            fields,
            ("unit_measure_id", "unit_measure_code"),
            catalog::unit_measures(),
            true,
            errors,
        )
        .unwrap_or(PLACEHOLDER_UNIT_MEASURE_ID),
        standard_code_id: catalog_id(
            fields,
            ("standard_code_id", "standard_code"),
            catalog::standard_codes(),
            true,
            errors,
        )
        .unwrap_or(PLACEHOLDER_STANDARD_CODE_ID),
        withholding_taxes: list(fields, "withholding_taxes", false, errors, read_withholding_tax),
    }
}

fn read_withholding_tax(fields: &Fields<'_>, errors: &mut Errors) -> WithholdingTaxDraft {
    WithholdingTaxDraft {
        code: text(fields.required_str("code", errors)),
        withholding_tax_rate: fields.required_decimal("withholding_tax_rate", errors).unwrap_or_default(),
    }
}

/// A nested object at `key`; `None` when absent (recorded if required) or not an object (recorded).
fn nested<T>(
    fields: &Fields<'_>,
    key: &'static str,
    required: bool,
    errors: &mut Errors,
    read: impl Fn(&Fields<'_>, &mut Errors) -> T,
) -> Option<T> {
    reads::note(&fields.loc().key(key), FieldKind::Object, required);
    let Some(value) = fields.raw(key) else {
        if required {
            errors.push(FieldError::missing(fields.loc().key(key)));
        }
        return None;
    };
    let loc = fields.loc().key(key);
    let inner = Fields::of(value, &loc, errors)?;
    Some(read(&inner, errors))
}

/// A list of objects at `key`. An element that is not an object is recorded and read as an empty
/// object, so that the other elements keep their index in the domain's paths.
fn list<T>(
    fields: &Fields<'_>,
    key: &'static str,
    required: bool,
    errors: &mut Errors,
    read: impl Fn(&Fields<'_>, &mut Errors) -> T,
) -> Option<Vec<T>> {
    let values = if required { fields.required_array(key, errors) } else { fields.optional_array(key, errors) }?;
    let list_loc = fields.loc().key(key);
    let empty = Value::Object(serde_json::Map::new());
    let mut drafts = Vec::with_capacity(values.len());
    for (index, value) in values.iter().enumerate() {
        let loc = list_loc.index(index);
        if let Some(inner) = Fields::of(value, &loc, errors) {
            drafts.push(read(&inner, errors));
        } else if let Some(inner) = Fields::of(&empty, &loc, &mut Errors::new()) {
            // Its missing fields are not reported: the element itself already is.
            drafts.push(read(&inner, &mut Errors::new()));
        }
    }
    Some(drafts)
}

fn text(value: Option<String>) -> String {
    value.unwrap_or_else(|| PLACEHOLDER_TEXT.to_owned())
}

fn read_order_reference(fields: &Fields<'_>, errors: &mut Errors) -> OrderReferenceDraft {
    OrderReferenceDraft {
        reference_code: text(fields.required_str("reference_code", errors)),
        issue_date: fields.optional_date("issue_date", errors),
    }
}

fn read_related_document(fields: &Fields<'_>, errors: &mut Errors) -> RelatedDocumentDraft {
    RelatedDocumentDraft {
        code: text(fields.required_str("code", errors)),
        issue_date: fields.required_date("issue_date", errors).unwrap_or(PLACEHOLDER_DATE),
        number: text(fields.required_str("number", errors)),
    }
}

fn read_billing_period(fields: &Fields<'_>, errors: &mut Errors) -> BillingPeriodDraft {
    BillingPeriodDraft {
        start_date: fields.required_date("start_date", errors).unwrap_or(PLACEHOLDER_DATE),
        start_time: fields.optional_str("start_time", errors),
        end_date: fields.required_date("end_date", errors).unwrap_or(PLACEHOLDER_DATE),
        end_time: text(fields.required_str("end_time", errors)),
    }
}

fn read_establishment(fields: &Fields<'_>, errors: &mut Errors) -> EstablishmentDraft {
    EstablishmentDraft {
        name: text(fields.required_str("name", errors)),
        address: text(fields.required_str("address", errors)),
        phone_number: text(fields.required_str("phone_number", errors)),
        // A plain string in the reference, not an e-mail field.
        email: text(fields.required_str("email", errors)),
        municipality_id: catalog_id(
            fields,
            ("municipality_id", "municipality_code"),
            catalog::municipalities(),
            true,
            errors,
        )
        .unwrap_or(PLACEHOLDER_MUNICIPALITY_ID),
    }
}

fn read_allowance_charge(fields: &Fields<'_>, errors: &mut Errors) -> AllowanceChargeDraft {
    AllowanceChargeDraft {
        concept_type: text(fields.required_str("concept_type", errors)),
        is_surcharge: fields.required_bool("is_surcharge", errors).unwrap_or_default(),
        reason: text(fields.required_str("reason", errors)),
        base_amount: fields.required_decimal("base_amount", errors).unwrap_or_default(),
        amount: fields.required_decimal("amount", errors).unwrap_or_default(),
    }
}

fn read_customer(fields: &Fields<'_>, dialect: &dyn Dialect, errors: &mut Errors) -> CustomerDraft {
    CustomerDraft {
        identification_document_id: dialect.identification_document_id(fields, errors),
        identification: text(fields.required_str("identification", errors)),
        dv: fields.optional_str("dv", errors),
        company: fields.optional_str("company", errors),
        trade_name: fields.optional_str("trade_name", errors),
        names: fields.optional_str("names", errors),
        address: fields.optional_str("address", errors),
        email: fields.optional_email("email", errors),
        phone: fields.optional_str("phone", errors),
        municipality_id: dialect.customer_municipality_id(fields, errors),
        legal_organization_id: dialect.legal_organization_id(fields, errors),
        tribute_id: dialect.customer_tribute_id(fields, errors),
    }
}

fn read_item(fields: &Fields<'_>, dialect: &dyn Dialect, errors: &mut Errors) -> ItemDraft {
    ItemDraft {
        code_reference: text(fields.required_str("code_reference", errors)),
        name: text(fields.required_str("name", errors)),
        quantity: fields.required_int("quantity", errors).unwrap_or(1),
        price: fields.required_decimal("price", errors).unwrap_or(Decimal::ONE),
        discount_rate: fields.optional_decimal("discount_rate", errors).unwrap_or(Rate::ZERO.percent()),
        tax_rate: fields.required_decimal("tax_rate", errors).unwrap_or_default(),
        unit_measure_id: dialect.unit_measure_id(fields, errors),
        standard_code_id: dialect.standard_code_id(fields, errors),
        is_excluded: dialect.is_excluded(fields, errors),
        tribute_id: dialect.product_tribute_id(fields, errors),
        scheme_id: fields.optional_str("scheme_id", errors),
        note: fields.optional_str("note", errors),
        withholding_taxes: list(fields, "withholding_taxes", false, errors, read_withholding_tax),
        mandate: nested(fields, "mandate", false, errors, |fields, errors| MandateDraft {
            identification_document_id: dialect.identification_document_id(fields, errors),
            identification: text(fields.required_str("identification", errors)),
        }),
    }
}

/// The top-level fields where the generations differ, as read by a [`Dialect`]; `None` when
/// absent (the defaults of `docs/contract.md` §3.1 apply) or refused (recorded).
pub(crate) struct Header {
    pub numbering_range_id: Option<i64>,
    pub document: Option<String>,
    pub reference_code: Option<String>,
    pub observation: Option<String>,
    pub payment_method_code: Option<String>,
    pub payment_form: Option<String>,
}

/// How a generation of the contract writes the fields of an invoice that name a numbering range,
/// a code or a catalogue entry; everything else of the body is read alike. The seed's dialect
/// ([`Seed`], `docs/contract.md` §3) takes Factus v1 ids or DIAN codes; the later generation's
/// (`crate::later::invoice`, `docs/contract.md` §12.6) takes its own canonical codes. Each method
/// records what it refuses and answers a valid placeholder then, as the readers here do.
pub(crate) trait Dialect {
    /// The top level up to `payment_form` (read first, in the order of the seed's fields).
    fn header(&mut self, fields: &Fields<'_>, errors: &mut Errors) -> Header;
    /// A customer's or a mandate's identity document.
    fn identification_document_id(&self, fields: &Fields<'_>, errors: &mut Errors) -> i64;
    fn customer_municipality_id(&self, fields: &Fields<'_>, errors: &mut Errors) -> Option<i64>;
    fn legal_organization_id(&self, fields: &Fields<'_>, errors: &mut Errors) -> i64;
    fn customer_tribute_id(&self, fields: &Fields<'_>, errors: &mut Errors) -> i64;
    fn unit_measure_id(&self, fields: &Fields<'_>, errors: &mut Errors) -> i64;
    fn standard_code_id(&self, fields: &Fields<'_>, errors: &mut Errors) -> i64;
    /// `1` when the item is excluded from IVA, else `0`.
    fn is_excluded(&self, fields: &Fields<'_>, errors: &mut Errors) -> i64;
    fn product_tribute_id(&self, fields: &Fields<'_>, errors: &mut Errors) -> i64;
}

/// The seed's invoice (`docs/contract.md` §3): Factus v1 ids, or DIAN codes beside them.
pub(crate) struct Seed;

impl Dialect for Seed {
    fn header(&mut self, fields: &Fields<'_>, errors: &mut Errors) -> Header {
        Header {
            numbering_range_id: fields.optional_int("numbering_range_id", errors),
            document: fields.optional_str("document", errors),
            reference_code: fields.required_str("reference_code", errors),
            observation: fields.optional_str("observation", errors),
            payment_method_code: fields.optional_str("payment_method_code", errors),
            payment_form: fields.optional_str("payment_form", errors),
        }
    }

    /// `identification_document_id`, or the id of `identification_document_code`.
    fn identification_document_id(&self, fields: &Fields<'_>, errors: &mut Errors) -> i64 {
        catalog_id(
            fields,
            ("identification_document_id", "identification_document_code"),
            catalog::identification_documents(),
            true,
            errors,
        )
        .unwrap_or(PLACEHOLDER_DOCUMENT_ID)
    }

    fn customer_municipality_id(&self, fields: &Fields<'_>, errors: &mut Errors) -> Option<i64> {
        catalog_id(fields, ("municipality_id", "municipality_code"), catalog::municipalities(), false, errors)
    }

    fn legal_organization_id(&self, fields: &Fields<'_>, errors: &mut Errors) -> i64 {
        catalog_id(
            fields,
            ("legal_organization_id", "legal_organization_code"),
            catalog::legal_organizations(),
            true,
            errors,
        )
        .unwrap_or(PLACEHOLDER_LEGAL_ORGANIZATION_ID)
    }

    fn customer_tribute_id(&self, fields: &Fields<'_>, errors: &mut Errors) -> i64 {
        catalog_id(fields, ("tribute_id", "tribute_code"), catalog::customer_tributes(), true, errors)
            .unwrap_or(PLACEHOLDER_CUSTOMER_TRIBUTE_ID)
    }

    fn unit_measure_id(&self, fields: &Fields<'_>, errors: &mut Errors) -> i64 {
        catalog_id(fields, ("unit_measure_id", "unit_measure_code"), catalog::unit_measures(), true, errors)
            .unwrap_or(PLACEHOLDER_UNIT_MEASURE_ID)
    }

    fn standard_code_id(&self, fields: &Fields<'_>, errors: &mut Errors) -> i64 {
        catalog_id(fields, ("standard_code_id", "standard_code"), catalog::standard_codes(), true, errors)
            .unwrap_or(PLACEHOLDER_STANDARD_CODE_ID)
    }

    fn is_excluded(&self, fields: &Fields<'_>, errors: &mut Errors) -> i64 {
        fields.required_int("is_excluded", errors).unwrap_or_default()
    }

    fn product_tribute_id(&self, fields: &Fields<'_>, errors: &mut Errors) -> i64 {
        catalog_id(fields, ("tribute_id", "tribute_code"), catalog::product_tributes(), true, errors)
            .unwrap_or(PLACEHOLDER_PRODUCT_TRIBUTE_ID)
    }
}
