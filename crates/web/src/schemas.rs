//! The request bodies as the OpenAPI document describes them.
//!
//! Bodies are read field by field (`validation::Fields`) and checked by the domain, not by serde,
//! so nothing derives their schemas from the parser. Instead each body has one description here,
//! built from the same constants the domain checks (`ReferenceCode::MAX_LEN`, the password
//! policy, …), and a test (`tests` below) holds parser and description together: every field a
//! parser reads is documented with its type and presence, every documented field is read, and
//! every documented bound is where the parser draws it (the value at the bound is accepted, the
//! one past it refused at that field).
//!
//! What a schema cannot say stays in the route's 400 description: the invoice's model-level
//! rules (a customer needs `names` or `company`, a NIT needs `dv`, credit needs a due date).

use factus_application::ledger::{IdempotencyKey, PageSize};
use factus_domain::catalog::{self, Catalog};
use factus_domain::invoice::{NoteKind, Observation, PROVIDER_DOCUMENT_IDS, ReferenceCode};
use factus_domain::user::{NewPassword, Username};
use serde_json::{Value, json};
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::schema::{
    AnyOfBuilder, ArrayBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

/// Characters a reference code may not contain: `/`, `\` and control characters.
const REFERENCE_CHAR: &str = r"[^/\\\x00-\x1F\x7F-\x9F]";

/// A reference code: not blank, at most [`ReferenceCode::MAX_LEN`] characters, no `/`, `\` or
/// control characters (it becomes a path segment of `DELETE /invoices/reference/{code}`).
#[must_use]
pub fn reference_code() -> ObjectBuilder {
    let visible = r"[^\s/\\\x00-\x1F\x7F-\x9F]";
    text()
        .min_length(Some(1))
        .max_length(Some(ReferenceCode::MAX_LEN))
        .pattern(Some(format!("^{REFERENCE_CHAR}*{visible}{REFERENCE_CHAR}*$")))
}

/// A username as the domain accepts it (it folds case and trims; the document asks for the
/// folded form).
#[must_use]
pub fn username() -> ObjectBuilder {
    text().min_length(Some(Username::MIN_LEN)).max_length(Some(Username::MAX_LEN)).pattern(Some(format!(
        "^[A-Za-z0-9._@-]{{{},{}}}$",
        Username::MIN_LEN,
        Username::MAX_LEN
    )))
}

/// A new password: the policy's length, counted in characters.
#[must_use]
pub fn new_password() -> ObjectBuilder {
    text().min_length(Some(NewPassword::MIN_LEN)).max_length(Some(NewPassword::MAX_LEN))
}

/// `Idempotency-Key`: printable ASCII, not blank.
#[must_use]
pub fn idempotency_key() -> ObjectBuilder {
    text().min_length(Some(1)).max_length(Some(IdempotencyKey::MAX_LEN)).pattern(Some("^[ -~]*[!-~][ -~]*$"))
}

/// The ledger's page size.
#[must_use]
pub fn page_size() -> ObjectBuilder {
    integer().minimum(Some(1)).maximum(Some(PageSize::MAX)).default(Some(json!(PageSize::DEFAULT.get())))
}

fn text() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn integer() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::Integer).format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
}

fn boolean() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::Boolean)
}

/// A calendar date. `format` alone is only an annotation in JSON Schema 2020-12, so the pattern
/// says it again for validators that do not check formats.
fn date() -> ObjectBuilder {
    text().format(Some(SchemaFormat::KnownFormat(KnownFormat::Date))).pattern(Some(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))
}

fn email() -> ObjectBuilder {
    text().format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
}

/// Standard, padded base64 with canonical final characters, as Factus checks it.
fn base64() -> ObjectBuilder {
    text()
        .pattern(Some(r"^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?$"))
        .content_encoding("base64")
}

/// How a decimal may be bounded.
#[derive(Debug, Clone, Copy)]
enum Bound {
    /// `> 0` (prices).
    Positive,
    /// `>= 0` (amounts, rates).
    NonNegative,
    /// `0..=100` (discount percentages).
    Percent,
}

/// The most digits before the point the document promises: large enough for any invoice, small
/// enough that totals never overflow.
const DECIMAL_INTEGER_DIGITS: usize = 13;

/// A decimal with at most two decimal places: a JSON number or a numeric string, both kept
/// exactly as written (strings are how clients keep money exact).
fn decimal(bound: Bound, description: &str) -> RefOr<Schema> {
    let digits = DECIMAL_INTEGER_DIGITS;
    let cents = r"(\.[0-9]{1,2})?";
    let pattern = match bound {
        Bound::Positive => format!(r"^(0*[1-9][0-9]{{0,{}}}{cents}|0+\.([0-9][1-9]|[1-9][0-9]?))$", digits - 1),
        Bound::NonNegative => format!(r"^[0-9]{{1,{digits}}}{cents}$"),
        Bound::Percent => format!(r"^(100(\.0{{1,2}})?|[0-9]{{1,2}}{cents})$"),
    };
    let largest = 10_f64.powi(i32::try_from(digits).unwrap_or(i32::MAX)) - 1.0;
    let number = ObjectBuilder::new().schema_type(Type::Number).multiple_of(Some(0.01));
    let number = match bound {
        Bound::Positive => number.exclusive_minimum(Some(0)).maximum(Some(largest)),
        Bound::NonNegative => number.minimum(Some(0)).maximum(Some(largest)),
        Bound::Percent => number.minimum(Some(0)).maximum(Some(100)),
    };
    AnyOfBuilder::new().item(number).item(text().pattern(Some(pattern))).description(Some(description)).into()
}

/// Adds `null` to an optional field's types: the parser reads `null` as absent.
fn nullable(schema: ObjectBuilder) -> ObjectBuilder {
    let built = schema.build();
    let types = match built.schema_type.clone() {
        SchemaType::Type(kind) => SchemaType::from_iter([kind, Type::Null]),
        SchemaType::Array(mut kinds) => {
            kinds.push(Type::Null);
            SchemaType::Array(kinds)
        }
        SchemaType::AnyValue => SchemaType::AnyValue,
    };
    let mut object = built;
    object.schema_type = types;
    ObjectBuilder::from(object)
}

fn nullable_any(schema: RefOr<Schema>) -> RefOr<Schema> {
    match schema {
        RefOr::T(Schema::AnyOf(mut any)) => {
            any.items.push(ObjectBuilder::new().schema_type(Type::Null).into());
            RefOr::T(Schema::AnyOf(any))
        }
        other => AnyOfBuilder::new().item(other).item(ObjectBuilder::new().schema_type(Type::Null)).into(),
    }
}

fn reference(name: &str) -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(name))
}

/// Whether a field must be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Presence {
    Required,
    /// May be absent or `null`.
    Optional,
    /// The id half of a catalogue pair (see [`pairs`]): may be absent, not `null` (a `null`
    /// half would count as given for the pair's rule but is read as absent).
    PairId,
    /// The code half of the pair whose id is `id`; `required` when one half must be sent.
    PairCode {
        id: &'static str,
        required: bool,
    },
}
use Presence::{Optional, PairCode, PairId, Required};

/// One documented field: `(name, schema, presence)`.
type Field = (&'static str, RefOr<Schema>, Presence);

/// A field or a catalogue pair, as [`fields!`] lists them.
trait IntoFields {
    fn into_fields(self) -> Vec<Field>;
}

impl IntoFields for Field {
    fn into_fields(self) -> Vec<Field> {
        vec![self]
    }
}

impl IntoFields for [Field; 2] {
    fn into_fields(self) -> Vec<Field> {
        self.into()
    }
}

impl IntoFields for Vec<Field> {
    fn into_fields(self) -> Vec<Field> {
        self
    }
}

/// What a line sells and at what price: the same in both generations of the invoice.
fn line_amounts() -> Vec<Field> {
    vec![
        ("code_reference", s(text()), Required),
        ("name", s(text()), Required),
        ("quantity", s(integer().minimum(Some(1))), Required),
        ("price", decimal(Bound::Positive, "Unit price, more than 0, at most 2 decimals"), Required),
        ("discount_rate", decimal(Bound::Percent, "Percent 0 to 100, at most 2 decimals (default 0)"), Optional),
        ("tax_rate", decimal(Bound::NonNegative, "Percent, at least 0, at most 2 decimals"), Required),
    ]
}

/// The optional end of a line in both generations; only the mandate's body differs.
fn line_extras(mandate: &str) -> Vec<Field> {
    vec![
        ("scheme_id", s(text()), Optional),
        ("note", s(text()), Optional),
        ("withholding_taxes", list(reference("WithholdingTaxRequest"), None), Optional),
        ("mandate", reference(mandate), Optional),
    ]
}

/// An invoice's optional details between its payment and its customer: the same in both
/// generations of the invoice.
fn invoice_details() -> Vec<Field> {
    vec![
        ("payment_due_date", s(date()), Optional),
        ("operation_type", s(text()), Optional),
        ("send_email", s(boolean()), Optional),
        ("order_reference", reference("OrderReferenceRequest"), Optional),
        ("related_documents", list(reference("RelatedDocumentRequest"), None), Optional),
        ("billing_period", reference("BillingPeriodRequest"), Optional),
        ("establishment", reference("EstablishmentRequest"), Optional),
        ("allowance_charges", list(reference("AllowanceChargeRequest"), None), Optional),
    ]
}

/// Who the buyer is and how to reach them: the same in both generations of the invoice.
fn customer_contact() -> Vec<Field> {
    vec![
        ("dv", described(text(), "Verification digit; required for a NIT"), Optional),
        ("company", s(text()), Optional),
        ("trade_name", s(text()), Optional),
        ("names", s(text()), Optional),
        ("address", s(text()), Optional),
        ("email", s(email()), Optional),
        ("phone", s(text()), Optional),
    ]
}

/// The fields of an object body, single fields and catalogue pairs alike.
macro_rules! fields {
    ($($entry:expr),* $(,)?) => {{
        let mut all: Vec<Field> = Vec::new();
        $(all.extend(IntoFields::into_fields($entry));)*
        all
    }};
}

/// An object body.
fn object(description: &str, fields: Vec<Field>, example: Option<Value>) -> RefOr<Schema> {
    let mut builder = ObjectBuilder::new().schema_type(Type::Object).description(Some(description));
    if let Some(example) = example {
        builder = builder.examples([example]);
    }
    let mut pair_rules = Vec::new();
    for (name, schema, presence) in fields {
        let schema = with_text_limit(name, schema);
        let schema = if presence == Optional { optional(schema) } else { schema };
        builder = builder.property(name, schema);
        if presence == Required {
            builder = builder.required(name);
        }
        if let PairCode { id, required } = presence {
            pair_rules.push((id, name, required));
        }
    }
    if !pair_rules.is_empty() {
        builder = builder.extensions(Some(pairs(&pair_rules)));
    }
    builder.into()
}

/// The length limit the parser applies to a free-text field by its key
/// ([`max_text_len`](crate::validation::max_text_len)), written into its schema unless the
/// field already states a tighter one, so the two can never disagree. A field with a `format`
/// (e-mail) keeps the rule of its format instead.
fn with_text_limit(name: &str, schema: RefOr<Schema>) -> RefOr<Schema> {
    match (schema, crate::validation::max_text_len(name)) {
        (RefOr::T(Schema::Object(mut object)), Some(max))
            if object.schema_type == SchemaType::new(Type::String) && object.format.is_none() =>
        {
            object.max_length = Some(object.max_length.map_or(max, |own| own.min(max)));
            RefOr::T(Schema::Object(object))
        }
        (schema, _) => schema,
    }
}

/// The rule of catalogue pairs. A catalogue field may be given as the Factus v1 id
/// (`municipality_id`) or the DIAN code (`municipality_code`); the parser also takes both when
/// they name the same entry, which a schema cannot say, so the document asks for one of them:
/// exactly one for a required pair, at most one for an optional one (`customer.municipality_*`).
/// JSON Schema keywords utoipa has no builder for travel as extensions, which serialise as is.
fn pairs(pairs: &[(&str, &str, bool)]) -> Extensions {
    let rules: Vec<Value> = pairs
        .iter()
        .map(|(id, code, required)| {
            if *required {
                json!({ "oneOf": [{ "required": [id] }, { "required": [code] }] })
            } else {
                json!({ "not": { "required": [id, code] } })
            }
        })
        .collect();
    Extensions::from_iter([("allOf", Value::Array(rules))])
}

/// A catalogue's v1 ids.
fn catalog_ids(catalog: &Catalog) -> RefOr<Schema> {
    integer()
        .enum_values(Some(catalog.entries().iter().map(factus_domain::catalog::Entry::id)))
        .description(Some(format!("A v1 id of the {} catalogue", catalog.label())))
        .into()
}

/// A catalogue's DIAN codes.
fn catalog_codes(catalog: &Catalog) -> RefOr<Schema> {
    text()
        .enum_values(Some(catalog.entries().iter().map(factus_domain::catalog::Entry::code)))
        .description(Some(format!("A DIAN code of the {} catalogue", catalog.label())))
        .into()
}

/// A provider's country: a code of the countries catalogue (the parser refuses any other).
fn country_code() -> RefOr<Schema> {
    text()
        .enum_values(Some(
            factus_domain::catalog::countries().entries().iter().map(factus_domain::catalog::Entry::code),
        ))
        .examples([json!("CO")])
        .description(Some("ISO country code of the countries catalogue, `CO` by default"))
        .into()
}

/// The catalogues request fields name, as components `<Name>Id` and `<Name>Code`.
type CatalogFn = fn() -> &'static Catalog;

const CATALOGS: [(&str, CatalogFn); 7] = [
    ("IdentificationDocument", catalog::identification_documents),
    ("LegalOrganization", catalog::legal_organizations),
    ("CustomerTribute", catalog::customer_tributes),
    ("Municipality", catalog::municipalities),
    ("UnitMeasure", catalog::unit_measures),
    ("StandardCode", catalog::standard_codes),
    ("ProductTribute", catalog::product_tributes),
];

/// A catalogue pair: its id half and its code half.
fn pair(id: &'static str, code: &'static str, catalog: &str, required: bool) -> [Field; 2] {
    [
        (id, reference(&format!("{catalog}Id")), PairId),
        (code, reference(&format!("{catalog}Code")), PairCode { id, required }),
    ]
}

/// An optional field also accepts `null`.
fn optional(schema: RefOr<Schema>) -> RefOr<Schema> {
    match schema {
        RefOr::T(Schema::Object(object)) => nullable(ObjectBuilder::from(object)).into(),
        RefOr::T(Schema::Array(mut array)) => {
            array.schema_type = SchemaType::from_iter([Type::Array, Type::Null]);
            RefOr::T(Schema::Array(array))
        }
        other => nullable_any(other),
    }
}

fn list(items: RefOr<Schema>, min_items: Option<usize>) -> RefOr<Schema> {
    ArrayBuilder::new().items(items).min_items(min_items).into()
}

fn s(builder: ObjectBuilder) -> RefOr<Schema> {
    builder.into()
}

fn described(builder: ObjectBuilder, description: &str) -> RefOr<Schema> {
    builder.description(Some(description)).into()
}

macro_rules! body_schema {
    ($(#[$meta:meta])* $name:ident => $build:expr) => {
        $(#[$meta])*
        #[derive(Debug)]
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                $build
            }
        }

        impl ToSchema for $name {}
    };
}

body_schema!(
    /// Body of `POST /invoices`.
    InvoiceRequest => object(
        "An invoice (a DIAN electronic sales invoice). Omitted fields take their defaults: \
         document `01`, payment_form `1`, payment_method_code `10`.",
        fields![
            ("numbering_range_id", described(integer(), "The numbering range; Factus' default range when omitted"), Optional),
            ("document", described(text(), "`01` factura electrónica de venta (default), `03` instrumento tipo 03"), Optional),
            ("reference_code", described(reference_code(), "The client's unique code for this invoice"), Required),
            ("observation", s(text().max_length(Some(Observation::MAX_LEN))), Optional),
            ("payment_method_code", described(text(), "DIAN payment method, `10` (cash) by default"), Optional),
            ("payment_form", described(text().enum_values(Some(["1", "2"])), "`1` cash (default), `2` credit (needs payment_due_date)"), Optional),
            invoice_details(),
            ("customer", reference("CustomerRequest"), Required),
            ("items", list(reference("ItemRequest"), Some(1)), Required),
        ],
        Some(invoice_request_example()),
    )
);

/// The documented example of `POST /invoices`: one line of 10,000 COP with 19 % VAT for a
/// natural person. Public so that the black-box suites send what the OpenAPI document shows.
#[must_use]
pub fn invoice_request_example() -> Value {
    json!({
        "numbering_range_id": 8,
        "reference_code": "FAC-1732550000",
        "observation": "Venta de mostrador",
        "payment_form": "1",
        "payment_method_code": "10",
        "customer": {
            "identification_document_id": 3, "identification": "123456789", "names": "Juan Perez",
            "address": "Calle 1 # 2-3", "email": "juan@example.com", "phone": "3001234567",
            "legal_organization_id": 2, "tribute_id": 21, "municipality_id": 980
        },
        "items": [{
            "code_reference": "P-001", "name": "Producto", "quantity": 1, "discount_rate": "0.00",
            "price": "10000.00", "tax_rate": "19.00", "unit_measure_id": 70, "standard_code_id": 1,
            "is_excluded": 0, "tribute_id": 1
        }]
    })
}

/// The fields of a credit or debit note: the invoice's customer and items, and the correction.
fn note_fields(kind: NoteKind) -> Vec<Field> {
    let concepts = kind.concepts();
    fields![
        (
            "bill_number",
            described(
                text(),
                "The number of the invoice corrected (e.g. `SETP990000123`); required with the referencing customization"
            ),
            Optional
        ),
        (
            "correction_concept_code",
            described(
                integer().minimum(Some(*concepts.start())).maximum(Some(*concepts.end())),
                match kind {
                    NoteKind::Credit =>
                        "`1` partial return, `2` annulment (credits exactly what is left of the invoice), `3` discount, `4` price adjustment, `5` early-payment discount, `6` volume discount",
                    NoteKind::Debit => "`1` interest, `2` expenses, `3` change of value, `4` other",
                }
            ),
            Required
        ),
        (
            "customization_id",
            described(
                text().enum_values(Some([kind.referencing(), kind.standalone()])),
                match kind {
                    NoteKind::Credit =>
                        "`20` references an invoice (default; needs `bill_number`), `22` without one (needs `billing_period` and `customer`)",
                    NoteKind::Debit =>
                        "`30` references an invoice (default; needs `bill_number`), `32` without one (needs `billing_period` and `customer`)",
                }
            ),
            Optional
        ),
        ("reference_code", described(reference_code(), "The client's unique code for this note"), Required),
        ("payment_method_code", described(text(), "DIAN payment method, `10` (cash) by default"), Optional),
        (
            "numbering_range_id",
            described(integer(), "The note's numbering range; Factus' single active one when omitted"),
            Optional
        ),
        ("observation", s(text().max_length(Some(Observation::MAX_LEN))), Optional),
        ("send_email", s(boolean()), Optional),
        ("billing_period", reference("BillingPeriodRequest"), Optional),
        ("customer", reference("CustomerRequest"), Optional),
        ("items", list(reference("ItemRequest"), Some(1)), Required),
    ]
}

body_schema!(
    /// Body of `POST /credit-notes`.
    CreditNoteRequest => object(
        "A credit note: a return, a discount or an annulment of an invoice. The credit notes of one \
         invoice may not add up to more than its total.",
        note_fields(NoteKind::Credit),
        Some(json!({
            "bill_number": "SETP990000123",
            "correction_concept_code": 1,
            "reference_code": "NC-1732550000",
            "observation": "Devolución de un producto",
            "items": [{
                "code_reference": "P-001", "name": "Producto", "quantity": 1, "discount_rate": "0.00",
                "price": "10000.00", "tax_rate": "19.00", "unit_measure_id": 70, "standard_code_id": 1,
                "is_excluded": 0, "tribute_id": 1
            }]
        })),
    )
);

body_schema!(
    /// Body of `POST /debit-notes`.
    DebitNoteRequest => object(
        "A debit note: a charge added to an invoice (Factus v2 accounts only).",
        note_fields(NoteKind::Debit),
        None,
    )
);

body_schema!(
    /// Body of `POST /support-documents`.
    SupportDocumentRequest => object(
        "A support document: a purchase from a provider who cannot invoice. Items carry no taxes.",
        fields![
            ("reference_code", described(reference_code(), "The client's unique code for this document"), Required),
            ("payment_method_code", described(text(), "DIAN payment method, `10` (cash) by default"), Optional),
            ("numbering_range_id", described(integer(), "The support-document range; Factus' single active one when omitted"), Optional),
            ("observation", s(text().max_length(Some(Observation::MAX_LEN))), Optional),
            ("provider", reference("ProviderRequest"), Required),
            ("items", list(reference("SupportItemRequest"), Some(1)), Required),
        ],
        None,
    )
);

body_schema!(
    /// `provider` of a support document.
    ProviderRequest => object(
        "The seller. Factus accepts only foreign ids, NIT, passport, PEP and foreign NIT (v1 ids 4 to 10); \
         a provider in Colombia (`country_code` `CO`, the default) needs a municipality.",
        fields![
            [
                ("identification_document_id", s(integer().enum_values(Some(PROVIDER_DOCUMENT_IDS))), PairId),
                (
                    "identification_document_code",
                    s(text().enum_values(Some(PROVIDER_DOCUMENT_IDS.filter_map(|id| {
                        catalog::identification_documents().by_id(id).map(factus_domain::catalog::Entry::code)
                    })))),
                    PairCode { id: "identification_document_id", required: true },
                ),
            ],
            ("identification", s(text()), Required),
            ("dv", described(text(), "Verification digit of a NIT"), Optional),
            ("trade_name", s(text()), Optional),
            ("names", s(text()), Required),
            ("address", s(text()), Optional),
            ("email", s(email()), Optional),
            ("phone", s(text()), Optional),
            ("is_resident", described(boolean(), "Resident in Colombia (default true)"), Optional),
            ("country_code", country_code(), Optional),
            pair("municipality_id", "municipality_code", "Municipality", false),
        ],
        None,
    )
);

body_schema!(
    /// A support-document line.
    SupportItemRequest => object(
        "A line of a support document: an invoice line without taxes.",
        fields![
            ("code_reference", s(text()), Required),
            ("name", s(text()), Required),
            ("quantity", s(integer().minimum(Some(1))), Required),
            ("price", decimal(Bound::Positive, "Unit price, more than 0, at most 2 decimals"), Required),
            ("discount_rate", decimal(Bound::Percent, "Percent 0 to 100, at most 2 decimals (default 0)"), Optional),
            pair("unit_measure_id", "unit_measure_code", "UnitMeasure", true),
            pair("standard_code_id", "standard_code", "StandardCode", true),
            ("withholding_taxes", list(reference("WithholdingTaxRequest"), None), Optional),
        ],
        None,
    )
);

body_schema!(
    /// `customer` of an invoice.
    CustomerRequest => object(
        "The buyer. A natural person needs `names`, a company `company`; a NIT (document 6) needs `dv`. \
         Each catalogue field is given as its v1 id (`tribute_id`) or its DIAN code (`tribute_code`).",
        fields![
            pair("identification_document_id", "identification_document_code", "IdentificationDocument", true),
            ("identification", s(text()), Required),
            customer_contact(),
            pair("municipality_id", "municipality_code", "Municipality", false),
            pair("legal_organization_id", "legal_organization_code", "LegalOrganization", true),
            pair("tribute_id", "tribute_code", "CustomerTribute", true),
        ],
        None,
    )
);

body_schema!(
    /// An invoice line.
    ItemRequest => object(
        "A line of the invoice.",
        fields![
            line_amounts(),
            pair("unit_measure_id", "unit_measure_code", "UnitMeasure", true),
            pair("standard_code_id", "standard_code", "StandardCode", true),
            ("is_excluded", described(integer().minimum(Some(0)).maximum(Some(1)), "1 when excluded from IVA"), Required),
            pair("tribute_id", "tribute_code", "ProductTribute", true),
            line_extras("MandateRequest"),
        ],
        None,
    )
);

body_schema!(
    /// A self-withholding of an item.
    WithholdingTaxRequest => object(
        "A withholding on the line (`05` ReteIVA, `06` ReteRenta).",
        fields![
            ("code", s(text()), Required),
            ("withholding_tax_rate", decimal(Bound::NonNegative, "Percent, at least 0 (the document asks for at most 2 decimals)"), Required),
        ],
        None,
    )
);

body_schema!(
    /// The mandate of an item.
    MandateRequest => object(
        "The principal of a mandate.",
        fields![
            pair("identification_document_id", "identification_document_code", "IdentificationDocument", true),
            ("identification", s(text()), Required),
        ],
        None,
    )
);

body_schema!(
    /// `order_reference` of an invoice.
    OrderReferenceRequest => object(
        "The buyer's purchase order.",
        fields![("reference_code", s(text()), Required), ("issue_date", s(date()), Optional)],
        None,
    )
);

body_schema!(
    /// One of `related_documents`.
    RelatedDocumentRequest => object(
        "A document this invoice relates to.",
        fields![("code", s(text()), Required), ("issue_date", s(date()), Required), ("number", s(text()), Required)],
        None,
    )
);

body_schema!(
    /// `billing_period` of an invoice.
    BillingPeriodRequest => object(
        "The period the invoice bills.",
        fields![
            ("start_date", s(date()), Required),
            ("start_time", s(text()), Optional),
            ("end_date", s(date()), Required),
            ("end_time", s(text()), Required),
        ],
        None,
    )
);

body_schema!(
    /// `establishment` of an invoice.
    EstablishmentRequest => object(
        "The seller's establishment.",
        fields![
            ("name", s(text()), Required),
            ("address", s(text()), Required),
            ("phone_number", s(text()), Required),
            ("email", described(text(), "Sent to Factus as written"), Required),
            pair("municipality_id", "municipality_code", "Municipality", true),
        ],
        None,
    )
);

body_schema!(
    /// One of `allowance_charges`.
    AllowanceChargeRequest => object(
        "A discount or surcharge on the whole invoice.",
        fields![
            ("concept_type", s(text()), Required),
            ("is_surcharge", s(boolean()), Required),
            ("reason", s(text()), Required),
            ("base_amount", decimal(Bound::NonNegative, "At least 0, at most 2 decimals"), Required),
            ("amount", decimal(Bound::NonNegative, "At least 0, at most 2 decimals"), Required),
        ],
        None,
    )
);

body_schema!(
    /// Body of `POST /invoices/{number}/send-email`.
    SendEmailRequest => object(
        "Where to e-mail the bill.",
        fields![
            ("email", s(email().examples([json!("cliente@example.com")])), Required),
            ("pdf_base_64_encoded", described(base64(), "A PDF (standard base64, padded) to attach instead of the one Factus generates; Factus refuses anything else"), Optional),
        ],
        None,
    )
);

body_schema!(
    /// Body of `POST /auth/factus/login`.
    FactusLoginRequest => object(
        "A Factus account.",
        fields![
            ("email", s(email().examples([json!("sandbox@factus.com.co")])), Required),
            ("password", s(text().examples([json!("sandbox2024%")])), Required),
        ],
        None,
    )
);

body_schema!(
    /// Body of `POST /auth/factus/refresh`.
    FactusRefreshRequest => object(
        "A Factus refresh token.",
        fields![("refresh_token", s(text()), Required)],
        None,
    )
);

body_schema!(
    /// Body of `POST /auth/password`.
    ChangePasswordRequest => object(
        "One's current password and the new one.",
        fields![("current_password", s(text()), Required), ("new_password", s(new_password()), Required)],
        None,
    )
);

body_schema!(
    /// Body of `POST /users`.
    CreateUserRequest => object(
        "A new user.",
        fields![
            ("username", described(username().examples([json!("ana")]), "Letters, digits, `.`, `_`, `-`, `@`; stored lower-case"), Required),
            ("password", s(new_password()), Required),
            ("role", described(text().enum_values(Some(["admin", "user"])), "`user` by default"), Optional),
        ],
        None,
    )
);

body_schema!(
    /// Body of `PATCH /users/{username}`.
    UpdateUserRequest => object(
        "What to change; absent fields stay as they are.",
        fields![
            ("disabled", s(boolean()), Optional),
            ("role", s(text().enum_values(Some(["admin", "user"]))), Optional),
            ("password", described(new_password(), "A new password (an admin's reset)"), Optional),
        ],
        None,
    )
);

/// An enum of the later generation's codes.
fn codes(values: &[&'static str], description: &str) -> RefOr<Schema> {
    text().enum_values(Some(values.iter().copied())).description(Some(description)).into()
}

/// The keys of a table of the later generation's codes.
fn later_keys<T>(table: &[(&'static str, T)]) -> Vec<&'static str> {
    table.iter().map(|(key, _)| *key).collect()
}

/// A later code field that takes a catalogue's DIAN codes and the later original's aliases.
fn later_catalog_codes(catalog: &Catalog, aliases: &[crate::later::codes::Alias], description: &str) -> RefOr<Schema> {
    let aliased: Vec<&str> = aliases.iter().map(|(alias, _)| *alias).collect();
    let mut values = aliased.clone();
    values.extend(
        catalog.entries().iter().map(factus_domain::catalog::Entry::code).filter(|code| !aliased.contains(code)),
    );
    text().enum_values(Some(values)).description(Some(description)).into()
}

body_schema!(
    /// Body of `POST /api/invoices/` (the later generation).
    LaterInvoiceRequest => object(
        "An invoice in the later generation's provider-neutral form: the range by its prefix, \
         canonical codes instead of Factus ids (see `GET /api/lookups/reference-tables`). Omitted \
         fields take their defaults: document_type `invoice`, payment_form `cash`, payment_method_code `10`.",
        fields![
            ("numbering_range_prefix", described(text(), "Prefix of an active numbering range, e.g. `SETP` (exact, case-sensitive)"), Required),
            ("document_type", codes(&later_keys(crate::later::codes::DOCUMENT_TYPES), "`invoice` (default, document 01) or `export` (02)"), Optional),
            ("reference_code", described(reference_code(), "The client's unique code for this invoice"), Required),
            ("observation", s(text().max_length(Some(Observation::MAX_LEN))), Optional),
            ("payment_method_code", described(text(), "An alias (`cash_payment`, `transfer`, …) or a DIAN payment method; `10` by default"), Optional),
            ("payment_form", codes(&["cash", "credit"], "`cash` (default) or `credit` (needs payment_due_date)"), Optional),
            invoice_details(),
            ("customer", reference("LaterCustomerRequest"), Required),
            ("items", list(reference("LaterItemRequest"), Some(1)), Required),
        ],
        Some(later_invoice_example()),
    )
);

/// The later generation's create body of its original's Postman collection: the example of
/// [`LaterInvoiceRequest`], and what the reader's tests start from.
pub(crate) fn later_invoice_example() -> Value {
    json!({
        "numbering_range_prefix": "SETP",
        "document_type": "invoice",
        "reference_code": "FAC-1732550000",
        "payment_method_code": "10",
        "payment_form": "cash",
        "customer": {
            "document_type": "CC", "identification": "123456789", "names": "Juan Perez",
            "municipality_code": "05001", "organization_type": "person", "tribute": "ZZ"
        },
        "items": [{
            "code_reference": "P-001", "name": "Producto", "quantity": 1, "price": "10000.00",
            "tax_rate": "19.00", "unit_measure_code": "94", "standard_code": "1", "tribute": "IVA"
        }]
    })
}

body_schema!(
    /// `customer` of a later-generation invoice.
    LaterCustomerRequest => object(
        "The buyer. A natural person needs `names`, a company `company`; a NIT needs `dv`.",
        fields![
            ("document_type", codes(crate::later::codes::INVOICE_DOCUMENT_TYPES, "Identity document type"), Required),
            ("identification", s(text()), Required),
            customer_contact(),
            ("municipality_code", reference("MunicipalityCode"), Optional),
            ("organization_type", codes(&later_keys(crate::later::codes::LEGAL_ORGANIZATIONS), "`company` (persona jurídica) or `person` (persona natural)"), Required),
            ("tribute", codes(&later_keys(crate::later::codes::CUSTOMER_TRIBUTES), "`IVA`, or `ZZ` no aplica (`INC` and `IVA_INC` are sent as no aplica)"), Required),
        ],
        None,
    )
);

body_schema!(
    /// A line of a later-generation invoice.
    LaterItemRequest => object(
        "A line of the invoice.",
        fields![
            line_amounts(),
            ("unit_measure_code", later_catalog_codes(catalog::unit_measures(), crate::later::codes::UNIT_ALIASES, "A DIAN unit code (`94` unidad, `KGM`, …; `70` also means unidad)"), Required),
            ("standard_code", later_catalog_codes(catalog::standard_codes(), crate::later::codes::STANDARD_CODES, "`1` estándar del contribuyente, `2` UNSPSC, `3` partida arancelaria, `4` GTIN (or their DIAN codes)"), Required),
            ("is_excluded", described(boolean(), "Excluded from IVA (default false)"), Optional),
            ("tribute", codes(&later_keys(crate::later::codes::ITEM_TRIBUTES), "`IVA`, `INC`, or `IVA_INC` (sent as IVA)"), Required),
            line_extras("LaterMandateRequest"),
        ],
        None,
    )
);

body_schema!(
    /// The mandate of a later-generation line.
    LaterMandateRequest => object(
        "The principal of a mandate.",
        fields![
            ("document_type", codes(crate::later::codes::INVOICE_DOCUMENT_TYPES, "Identity document type"), Required),
            ("identification", s(text()), Required),
        ],
        None,
    )
);

/// A numbering range's prefix: 1 to 4 letters or digits (`docs/factus.md` §5).
pub const RANGE_PREFIX_PATTERN: &str = "^[A-Za-z0-9]{1,4}$";

/// A DIAN resolution number: digits only.
pub const RESOLUTION_NUMBER_PATTERN: &str = "^[0-9]{1,30}$";

body_schema!(
    /// Body of `PUT /company`.
    CompanyUpdateRequest => object(
        "The issuing company's profile at Factus. Optional fields left out keep the value Factus has. \
         `legal_organization_code`: `1` persona jurídica, `2` persona natural; `tribute_code`: `01` IVA, `ZZ` no \
         aplica; `municipality_code`: the DANE code (`11001` Bogotá); `responsibilities`: fiscal responsibility codes.",
        fields![
            ("legal_organization_code", reference("LegalOrganizationCode"), Required),
            ("company", described(text(), "Registered name (persona jurídica)"), Optional),
            ("trade_name", s(text()), Optional),
            ("names", described(text(), "Names (persona natural)"), Optional),
            ("surnames", described(text(), "Surnames (persona natural)"), Optional),
            ("registration_code", described(text(), "Mercantile registration number"), Optional),
            ("economic_activity", described(text().pattern(Some(crate::routes::company::ECONOMIC_ACTIVITY_PATTERN)).examples([json!("6201")]), "CIIU code, four digits"), Required),
            ("phone", s(text().examples([json!("6010000000")])), Required),
            ("email", s(email().examples([json!("facturacion@example.com")])), Required),
            ("address", s(text().examples([json!("Calle 1 # 2-3")])), Required),
            ("tribute_code", reference("CustomerTributeCode"), Required),
            ("municipality_code", reference("MunicipalityCode"), Required),
            ("responsibilities", list(s(text().enum_values(Some(crate::routes::company::RESPONSIBILITIES))), Some(1)), Required),
        ],
        None,
    )
);

body_schema!(
    /// Body of the later generation's `PUT /api/company/`.
    LaterCompanyUpdateRequest => object(
        "The issuing company's profile as the later original takes it: `responsibilities` is one code, or its \
         position in the list of fiscal responsibilities (`5` is `R-99-PN`).",
        fields![
            ("legal_organization_code", reference("LegalOrganizationCode"), Required),
            ("company", s(text()), Optional),
            ("trade_name", s(text()), Optional),
            ("names", s(text()), Required),
            ("surnames", s(text()), Required),
            ("registration_code", s(text()), Optional),
            ("economic_activity", described(text().pattern(Some(crate::routes::company::ECONOMIC_ACTIVITY_PATTERN)).examples([json!("6920")]), "CIIU code, four digits"), Required),
            ("phone", s(text().examples([json!("3001234567")])), Required),
            ("email", s(email().examples([json!("facturacion@example.com")])), Required),
            ("address", s(text().examples([json!("Calle 1 # 2-3")])), Required),
            ("tribute_code", reference("CustomerTributeCode"), Required),
            ("municipality_code", reference("MunicipalityCode"), Required),
            ("responsibilities", s(text().enum_values(Some(crate::later::company::later_responsibilities()))), Required),
        ],
        None,
    )
);

body_schema!(
    /// Body of `POST /numbering-ranges`.
    CreateNumberingRangeRequest => {
        let documents: Vec<&str> = factus_application::numbering_ranges::RANGE_DOCUMENTS.iter().map(|(code, _)| *code).collect();
        let schema = object(
            "A numbering range. Invoices (`21`), support documents (`24`) and paper invoices (`30`) need the \
             `resolution_number` of a range DIAN authorised for the software (`GET /numbering-ranges/software`), \
             whose prefix it must have; notes need none.",
            fields![
                ("document", described(text().enum_values(Some(documents)).examples([json!("22")]), "Range document: `21` factura de venta, `22` nota crédito, `23` nota débito, `24` documento soporte, `25` nota de ajuste del documento soporte, `26` nómina, `27` nota de ajuste de nómina, `28` nota de eliminación de nómina, `30` factura de talonario y de papel"), Required),
                ("prefix", s(text().pattern(Some(RANGE_PREFIX_PATTERN)).examples([json!("NCX")])), Required),
                ("current", described(integer().minimum(Some(1)), "The next number to use"), Required),
                ("resolution_number", described(text().pattern(Some(RESOLUTION_NUMBER_PATTERN)).examples([json!("18764000001")]), "The DIAN resolution; required for 21, 24 and 30"), Optional),
            ],
            None,
        );
        with_resolution_rule(schema)
    }
);

body_schema!(
    /// Body of `PUT /numbering-ranges/{id}`.
    UpdateNumberingRangeRequest => object(
        "The range's next number: within the range and not below a number already used.",
        fields![("current", s(integer().minimum(Some(1))), Required)],
        None,
    )
);

/// `resolution_number` is required (and not null) when `document` is `21`, `24` or `30`.
fn with_resolution_rule(schema: RefOr<Schema>) -> RefOr<Schema> {
    let RefOr::T(Schema::Object(object)) = schema else { return schema };
    let rule = json!({
        "if": {
            "properties": { "document": { "enum": factus_application::numbering_ranges::DOCUMENTS_WITH_RESOLUTION } },
            "required": ["document"],
        },
        // Required and not null: the parser reads a null like a missing field.
        "then": { "required": ["resolution_number"], "properties": { "resolution_number": { "type": "string" } } },
    });
    ObjectBuilder::from(object).extensions(Some(Extensions::from_iter([("allOf", json!([rule]))]))).into()
}

/// Every request-body schema, for the document's components.
#[must_use]
pub fn components() -> Vec<(String, RefOr<Schema>)> {
    macro_rules! all {
        ($($name:ident),* $(,)?) => {
            vec![$((<$name as ToSchema>::name().into_owned(), <$name as PartialSchema>::schema())),*]
        };
    }
    let mut schemas = all![
        InvoiceRequest,
        CreditNoteRequest,
        DebitNoteRequest,
        SupportDocumentRequest,
        ProviderRequest,
        SupportItemRequest,
        CustomerRequest,
        ItemRequest,
        WithholdingTaxRequest,
        MandateRequest,
        OrderReferenceRequest,
        RelatedDocumentRequest,
        BillingPeriodRequest,
        EstablishmentRequest,
        AllowanceChargeRequest,
        SendEmailRequest,
        FactusLoginRequest,
        FactusRefreshRequest,
        ChangePasswordRequest,
        CreateUserRequest,
        UpdateUserRequest,
        LaterInvoiceRequest,
        LaterCustomerRequest,
        LaterItemRequest,
        LaterMandateRequest,
        CompanyUpdateRequest,
        LaterCompanyUpdateRequest,
        CreateNumberingRangeRequest,
        UpdateNumberingRangeRequest,
    ];
    for (name, catalog) in CATALOGS {
        schemas.push((format!("{name}Id"), catalog_ids(catalog())));
        schemas.push((format!("{name}Code"), catalog_codes(catalog())));
    }
    schemas
}

/// An API key's name as [`ApiKeyName`](factus_application::api_keys::ApiKeyName) accepts it: not
/// blank, no control characters.
#[must_use]
pub fn api_key_name() -> ObjectBuilder {
    visible_text(factus_application::api_keys::ApiKeyName::MAX_LEN)
}

/// Text of 1 to `max` characters, not blank, without control characters.
fn visible_text(max: usize) -> ObjectBuilder {
    let allowed = r"[^\x00-\x1F\x7F-\x9F]";
    let visible = r"[^\s\x00-\x1F\x7F-\x9F]";
    text().min_length(Some(1)).max_length(Some(max)).pattern(Some(format!("^{allowed}*{visible}{allowed}*$")))
}

/// A date (`YYYY-MM-DD`).
#[must_use]
pub fn date_param() -> ObjectBuilder {
    date()
}

/// A bill number as the ledger's `number` filter takes it: not blank, no control characters.
#[must_use]
pub fn bill_number() -> ObjectBuilder {
    visible_text(crate::routes::ledger::MAX_NUMBER_CHARS)
}

/// A ledger cursor as `next_cursor` gives it: creation time in microseconds (hex) and the entry id.
#[must_use]
pub fn ledger_cursor() -> ObjectBuilder {
    text().pattern(Some(r"^[0-9a-fA-F]{1,13}\.[0-9a-fA-F]{32}$"))
}

/// A ledger state, as `state` filters it.
#[must_use]
pub fn ledger_state() -> ObjectBuilder {
    text().enum_values(Some(["queued", "pending", "issued", "rejected", "unknown"]))
}

/// What the ledger's `customer` filter accepts: visible text of 1 to 100 characters.
#[must_use]
pub fn customer_search() -> ObjectBuilder {
    visible_text(crate::routes::ledger::MAX_CUSTOMER_CHARS)
}

/// The document kinds of the ledger.
pub fn document_kind() -> ObjectBuilder {
    text().enum_values(Some(["invoice", "credit_note", "debit_note", "support_document"]))
}

/// The states of a webhook delivery.
pub fn delivery_status() -> ObjectBuilder {
    text().enum_values(Some(["pending", "delivered", "failed"]))
}

/// The query of `GET /webhooks/deliveries`.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Only its description is used; the handler reads the raw query.
pub struct WebhookDeliveryQuery {
    /// pending, delivered or failed
    #[param(schema_with = delivery_status, required = false)]
    status: Option<String>,
    /// How many, newest first
    #[param(schema_with = page_size, required = false)]
    limit: Option<u32>,
}

/// The query of `GET /invoices` (the ledger).
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Only its description is used; the handler reads the raw query.
pub struct LedgerQuery {
    /// The document kind listed: invoice (default), credit_note, debit_note or support_document
    #[param(schema_with = document_kind, required = false)]
    kind: Option<String>,
    /// queued, pending, issued, rejected or unknown
    #[param(schema_with = ledger_state, required = false)]
    state: Option<String>,
    /// Exact reference code
    #[param(schema_with = reference_code, required = false)]
    reference_code: Option<String>,
    /// Exact Factus number, e.g. SETP990000001
    #[param(schema_with = bill_number, required = false)]
    number: Option<String>,
    /// Created at or after this date (midnight UTC; an RFC 3339 instant is also accepted)
    #[param(schema_with = date_param, required = false)]
    from: Option<String>,
    /// Created up to this date, the whole day included (or before an RFC 3339 instant)
    #[param(schema_with = date_param, required = false)]
    to: Option<String>,
    /// Only this user's entries (admins)
    #[param(schema_with = username, required = false)]
    username: Option<String>,
    /// The customer's (a support document's provider's) identification number, exactly, or a part
    /// of its name in any case
    #[param(schema_with = customer_search, required = false)]
    customer: Option<String>,
    /// next_cursor of the previous page
    #[param(schema_with = ledger_cursor, required = false)]
    cursor: Option<String>,
    /// Page size
    #[param(schema_with = page_size, required = false)]
    limit: Option<u32>,
}

/// The header of every operation that calls Factus on the client's own session (the server's
/// session stands in when it is absent); one description for the 40-odd operations that take it.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // Only its description is used; `factus::Access` reads the header.
pub struct FactusTokenHeader {
    /// Factus access token
    #[param(rename = "X-Factus-Token")]
    factus_token: Option<String>,
}

/// The headers of `POST /invoices`.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // Only its description is used; the handler reads the headers.
pub struct CreateInvoiceHeaders {
    /// Factus access token; optional when the server has its own Factus session
    #[param(rename = "X-Factus-Token")]
    factus_token: Option<String>,
    /// Any unique string (a UUID); retries with the same key and body get the first answer
    #[param(rename = "Idempotency-Key", schema_with = idempotency_key, required = false)]
    idempotency_key: Option<String>,
}

#[cfg(test)]
mod tests {
    //! Parser and document held together. For each JSON request body, from its schema alone:
    //!
    //! 1. a sample with every documented field (optional ones too) is built;
    //! 2. the fields the parser reads while reading the sample (recorded by `validation::reads`)
    //!    must be exactly the documented ones, with the same kind and presence;
    //! 3. dropping a field is refused at that field exactly when it is documented as required;
    //! 4. every documented bound is where the parser draws it: the value at the bound is
    //!    accepted, the one past it is refused at that field (the same for enums, dates and
    //!    e-mails).

    use std::collections::BTreeSet;

    use serde_json::{Map, Value, json};

    use crate::error::ApiError;
    use factus_domain::invoice::NoteKind;

    use crate::invoices::request::{parse_invoice, parse_note, parse_support_document};
    use crate::routes::{api_keys, auth, company, factus_auth, invoices, numbering_ranges, users};
    use crate::validation::{FieldError, FieldKind, LocPart, reads};

    type Parser = fn(&Value) -> Vec<FieldError>;

    fn errors_of<T>(result: Result<T, Vec<FieldError>>) -> Vec<FieldError> {
        result.err().unwrap_or_default()
    }

    fn invoice(body: &Value) -> Vec<FieldError> {
        rejections(parse_invoice(body))
    }

    /// What a body parser refused, 422 and 400 alike.
    fn rejections<T>(parsed: Result<T, ApiError>) -> Vec<FieldError> {
        match parsed {
            Ok(_) => Vec::new(),
            Err(ApiError::Validation(errors) | ApiError::BusinessRules(errors)) => errors,
            Err(other) => panic!("the parser answered {other:?}"),
        }
    }

    fn later_invoice(body: &Value) -> Vec<FieldError> {
        match crate::later::invoice::read_invoice(body) {
            Ok(_) => Vec::new(),
            Err(ApiError::Validation(errors)) => errors,
            Err(other) => panic!("read_invoice answered {other:?}"),
        }
    }

    /// Every JSON request body: its component name and its parser.
    fn bodies() -> Vec<(&'static str, Parser)> {
        vec![
            ("InvoiceRequest", invoice),
            ("LaterInvoiceRequest", later_invoice),
            ("CreditNoteRequest", |body| rejections(parse_note(NoteKind::Credit, body))),
            ("DebitNoteRequest", |body| rejections(parse_note(NoteKind::Debit, body))),
            ("SupportDocumentRequest", |body| rejections(parse_support_document(body))),
            ("SendEmailRequest", |body| errors_of(invoices::read_send_email(body))),
            ("FactusLoginRequest", |body| errors_of(factus_auth::read_factus_login(body))),
            ("FactusRefreshRequest", |body| errors_of(factus_auth::read_factus_refresh(body))),
            ("ChangePasswordRequest", |body| errors_of(auth::read_change_password(body))),
            ("CreateUserRequest", |body| errors_of(users::read_create_user(body))),
            ("UpdateUserRequest", |body| errors_of(users::read_update_user(body))),
            ("CreateApiKeyRequest", |body| errors_of(api_keys::read_create_api_key(body))),
            ("CompanyUpdateRequest", |body| errors_of(company::read_company_update(body))),
            ("LaterCompanyUpdateRequest", |body| errors_of(crate::later::company::read_later_company_update(body))),
            ("CreateNumberingRangeRequest", |body| errors_of(numbering_ranges::read_new_range(body))),
            ("UpdateNumberingRangeRequest", |body| errors_of(numbering_ranges::read_range_update(body))),
        ]
    }

    /// The components as the document has them, as JSON.
    fn components() -> Map<String, Value> {
        let document = crate::openapi::document("/api/v1", "Factus API", "test");
        let document = serde_json::to_value(document).expect("the document serialises");
        document["components"]["schemas"].as_object().expect("component schemas").clone()
    }

    /// Follows `$ref` and drops the `null` alternative of optional fields.
    fn resolve<'a>(schema: &'a Value, components: &'a Map<String, Value>) -> &'a Value {
        if let Some(reference) = schema["$ref"].as_str() {
            let name = reference.trim_start_matches("#/components/schemas/");
            return resolve(&components[name], components);
        }
        if let Some(alternatives) = schema["anyOf"].as_array() {
            let concrete: Vec<&Value> =
                alternatives.iter().filter(|alternative| alternative["type"] != "null").collect();
            if concrete.len() == 1 {
                return resolve(concrete[0], components);
            }
        }
        schema
    }

    fn types(schema: &Value) -> Vec<&str> {
        match &schema["type"] {
            Value::String(kind) => vec![kind.as_str()],
            Value::Array(kinds) => kinds.iter().filter_map(Value::as_str).filter(|kind| *kind != "null").collect(),
            _ => Vec::new(),
        }
    }

    /// The kind of field a (resolved) schema documents.
    fn kind(schema: &Value) -> FieldKind {
        if schema["anyOf"].is_array() {
            // Only decimals are a number-or-string alternative.
            return FieldKind::Decimal;
        }
        match (types(schema).first().copied(), schema["format"].as_str()) {
            (Some("string"), Some("date")) => FieldKind::Date,
            (Some("string"), Some("email")) => FieldKind::Email,
            (Some("string"), _) => FieldKind::Str,
            (Some("integer"), _) => FieldKind::Int,
            (Some("boolean"), _) => FieldKind::Bool,
            (Some("object"), _) => FieldKind::Object,
            (Some("array"), _) => FieldKind::Array,
            other => panic!("an undocumented kind of field: {other:?} in {schema}"),
        }
    }

    /// A field path with list indices as `[]`: `items[].price`.
    type Field = (String, FieldKind, bool);

    fn join(prefix: &str, name: &str) -> String {
        if prefix.is_empty() { name.to_owned() } else { format!("{prefix}.{name}") }
    }

    /// Every documented field of an object schema, nested ones included.
    fn documented(schema: &Value, prefix: &str, components: &Map<String, Value>, out: &mut BTreeSet<Field>) {
        let schema = resolve(schema, components);
        let required: Vec<&str> = schema["required"]
            .as_array()
            .map(|names| names.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for (name, property) in schema["properties"].as_object().expect("an object schema") {
            let path = join(prefix, name);
            let property = resolve(property, components);
            let kind = kind(property);
            out.insert((path.clone(), kind, required.contains(&name.as_str())));
            match kind {
                FieldKind::Object => documented(property, &path, components, out),
                // A list of objects documents their fields; a list of values, the value.
                FieldKind::Array if resolve(&property["items"], components)["properties"].is_object() => {
                    documented(&property["items"], &format!("{path}[]"), components, out);
                }
                FieldKind::Array => {
                    out.insert((format!("{path}[]"), kind_of_item(property, components), true));
                }
                _ => {}
            }
        }
    }

    fn kind_of_item(list: &Value, components: &Map<String, Value>) -> FieldKind {
        kind(resolve(&list["items"], components))
    }

    /// The catalogue pairs of an object schema: `(id, code, required)`.
    fn pairs_of(schema: &Value) -> Vec<(String, String, bool)> {
        let name = |value: &Value| value.as_str().expect("a field name").to_owned();
        let mut pairs = Vec::new();
        for rule in schema["allOf"].as_array().into_iter().flatten() {
            if let Some([id, code]) = rule["oneOf"].as_array().map(Vec::as_slice) {
                pairs.push((name(&id["required"][0]), name(&code["required"][0]), true));
            }
            if let Some([id, code]) = rule["not"]["required"].as_array().map(Vec::as_slice) {
                pairs.push((name(id), name(code), false));
            }
        }
        pairs
    }

    /// The other half of a catalogue pair, when `path` is one.
    fn pair_sibling(root: &Value, path: &str, components: &Map<String, Value>) -> Option<String> {
        let (parent, field) = path.rsplit_once('.').map_or(("", path), |(parent, field)| (parent, field));
        let parent_schema =
            if parent.is_empty() { resolve(root, components) } else { property_schema(root, parent, components) };
        pairs_of(parent_schema).into_iter().find_map(|(id, code, _)| {
            let sibling = if field == id {
                code
            } else if field == code {
                id
            } else {
                return None;
            };
            Some(join(parent, &sibling))
        })
    }

    /// A value the schema allows, built from its bounds, enums, formats and examples. Of a
    /// catalogue pair, only the id is sent.
    fn sample(schema: &Value, components: &Map<String, Value>) -> Value {
        let schema = resolve(schema, components);
        if let Some(example) = schema["examples"].get(0).filter(|_| kind(schema) != FieldKind::Object) {
            return example.clone();
        }
        if let Some(first) = schema["enum"].get(0) {
            return first.clone();
        }
        match kind(schema) {
            FieldKind::Decimal => json!("1.00"),
            FieldKind::Date => json!("2026-01-31"),
            FieldKind::Email => json!("ana@shop.co"),
            FieldKind::Str => {
                let length = schema["minLength"].as_u64().unwrap_or(1).max(4);
                json!("A".repeat(usize::try_from(length).expect("a small length")))
            }
            FieldKind::Int => schema["minimum"].clone().as_i64().map_or(json!(1), |minimum| json!(minimum)),
            FieldKind::Bool => json!(true),
            FieldKind::Array => json!([sample(&schema["items"], components)]),
            FieldKind::Object => {
                let codes: Vec<String> = pairs_of(schema).into_iter().map(|(_, code, _)| code).collect();
                let mut object = Map::new();
                for (name, property) in schema["properties"].as_object().expect("properties") {
                    if !codes.contains(name) {
                        object.insert(name.clone(), sample(property, components));
                    }
                }
                Value::Object(object)
            }
        }
    }

    /// The parser's reads as documented fields (an e-mail is read as a string first).
    fn read_fields(parse: Parser, body: &Value) -> BTreeSet<Field> {
        let reads = reads::recorded(|| {
            parse(body);
        });
        let mut fields = BTreeSet::new();
        for (loc, kind, required) in &reads {
            let mut path = String::new();
            for part in &loc.parts()[1..] {
                match part {
                    LocPart::Key(key) => path = join(&path, key),
                    LocPart::Index(_) => path.push_str("[]"),
                }
            }
            let superseded = *kind == FieldKind::Str
                && reads.iter().any(|(other, other_kind, _)| other == loc && *other_kind == FieldKind::Email);
            if !superseded {
                fields.insert((path, *kind, *required));
            }
        }
        fields
    }

    /// One body of `bodies()` with what the tests hold its parser to.
    struct DocumentedBody<'a> {
        name: &'static str,
        parse: Parser,
        schema: &'a Value,
        /// The fields its schema documents.
        fields: BTreeSet<Field>,
        /// A sample built from its schema.
        body: Value,
    }

    fn documented_bodies(components: &Map<String, Value>) -> Vec<DocumentedBody<'_>> {
        bodies()
            .into_iter()
            .map(|(name, parse)| {
                let schema = &components[name];
                let mut fields = BTreeSet::new();
                documented(schema, "", components, &mut fields);
                let body = sample(schema, components);
                DocumentedBody { name, parse, schema, fields, body }
            })
            .collect()
    }

    /// Whether the parser reports an error at `path` (`items[].price` → `body.items.0.price`).
    fn refused_at(errors: &[FieldError], path: &str) -> bool {
        let wanted = format!("body.{}", path.replace("[]", ".0"));
        errors.iter().any(|error| error.loc.to_string() == wanted)
    }

    /// The body with the value at `path` replaced (or removed when `value` is `None`).
    fn with(body: &Value, path: &str, value: Option<Value>) -> Value {
        let mut body = body.clone();
        let steps: Vec<&str> = path.split('.').collect();
        let mut target = &mut body;
        for step in &steps[..steps.len() - 1] {
            target = &mut target[step.trim_end_matches("[]")];
            if step.ends_with("[]") {
                target = &mut target[0];
            }
        }
        let last = steps[steps.len() - 1];
        if let Some(list) = last.strip_suffix("[]") {
            // The first value of a list of values.
            let items = target[list].as_array_mut().expect("a list");
            match value {
                Some(value) => items[0] = value,
                None => {
                    items.remove(0);
                }
            }
            return body;
        }
        let object = target.as_object_mut().expect("an object");
        match value {
            Some(value) => {
                object.insert(last.to_owned(), value);
            }
            None => {
                object.remove(last);
            }
        }
        body
    }

    fn property_schema<'a>(root: &'a Value, path: &str, components: &'a Map<String, Value>) -> &'a Value {
        let mut schema = resolve(root, components);
        for step in path.split('.') {
            schema = resolve(&schema["properties"][step.trim_end_matches("[]")], components);
            if step.ends_with("[]") {
                schema = resolve(&schema["items"], components);
            }
        }
        schema
    }

    #[test]
    fn every_field_a_parser_reads_is_documented_and_every_documented_field_is_read() {
        let components = components();
        for DocumentedBody { name, parse, fields: documented_fields, body, .. } in documented_bodies(&components) {
            let read = read_fields(parse, &body);
            let undocumented: Vec<_> = read.difference(&documented_fields).collect();
            let unread: Vec<_> = documented_fields.difference(&read).collect();
            assert!(
                undocumented.is_empty() && unread.is_empty(),
                "{name}: read but not documented (or not so): {undocumented:?}\n\
                 documented but not read (or not so): {unread:?}"
            );
        }
    }

    // A new JSON body is held to its parser only once it is listed in `bodies()`.
    #[test]
    fn every_json_request_body_of_the_document_is_checked_against_its_parser() {
        let document = serde_json::to_value(crate::openapi::document("/api/v1", "Factus API", "test")).unwrap();
        let checked: Vec<&str> = bodies().into_iter().map(|(name, _)| name).collect();
        for (path, item) in document["paths"].as_object().expect("paths") {
            for (method, operation) in item.as_object().expect("a path item") {
                let schema = &operation["requestBody"]["content"]["application/json"]["schema"];
                if let Some(reference) = schema["$ref"].as_str() {
                    let name = reference.trim_start_matches("#/components/schemas/");
                    assert!(checked.contains(&name), "{method} {path}: {name} is not in bodies()");
                } else {
                    assert!(schema.is_null(), "{method} {path}: an inline JSON body schema");
                }
            }
        }
    }

    #[test]
    fn a_sample_built_from_each_body_schema_is_accepted() {
        let components = components();
        for (name, parse) in bodies() {
            let body = sample(&components[name], &components);
            let errors = parse(&body);
            assert!(errors.is_empty(), "{name}: {body}\nrefused: {errors:?}");
        }
    }

    #[test]
    fn a_missing_field_is_refused_exactly_when_the_document_says_it_is_required() {
        let components = components();
        for DocumentedBody { name, parse, schema, fields, body } in documented_bodies(&components) {
            // A value of a list is not a field that can be left out.
            for (path, _, required) in fields.into_iter().filter(|(path, _, _)| !path.ends_with("[]")) {
                // Without one half of a catalogue pair, the other half is sent.
                let body = match pair_sibling(schema, &path, &components) {
                    Some(sibling) => {
                        let value = sample(property_schema(schema, &sibling, &components), &components);
                        with(&body, &sibling, Some(value))
                    }
                    None => body.clone(),
                };
                let errors = parse(&with(&body, &path, None));
                assert_eq!(refused_at(&errors, &path), required, "{name}: without {path}: {errors:?}");
            }
        }
    }

    #[test]
    fn a_catalogue_pair_is_refused_without_both_halves_exactly_when_the_document_requires_one() {
        let components = components();
        let schema = &components["InvoiceRequest"];
        let body = sample(schema, &components);
        let mut fields = BTreeSet::new();
        documented(schema, "", &components, &mut fields);
        let objects: BTreeSet<String> = fields
            .iter()
            .filter(|(_, kind, _)| *kind == FieldKind::Object || *kind == FieldKind::Array)
            .map(|(path, kind, _)| if *kind == FieldKind::Array { format!("{path}[]") } else { path.clone() })
            .collect();
        let mut pairs = 0;
        for object in objects {
            let object_schema = property_schema(schema, &object, &components);
            for (id, code, required) in pairs_of(object_schema) {
                pairs += 1;
                let (id, code) = (join(&object, &id), join(&object, &code));
                let errors = invoice(&with(&with(&body, &id, None), &code, None));
                assert_eq!(refused_at(&errors, &id), required, "without {id} and {code}: {errors:?}");
            }
        }
        assert_eq!(pairs, 9, "the invoice's catalogue pairs");
    }

    /// `(accepted, refused)` values at and past each bound the schema of one field documents.
    fn boundaries(schema: &Value) -> Vec<(String, Value, Option<Value>)> {
        let mut cases = Vec::new();
        if let Some(alternatives) = schema["anyOf"].as_array() {
            // A decimal: its bounds are on the number alternative. A decimal's `maximum` is a
            // promise of range (13 integer digits, so totals never overflow), not a refusal: the
            // parser reads any decimal it can hold.
            let number = alternatives.iter().find(|alternative| alternative["type"] == "number").expect("a number");
            if let Some(minimum) = number["minimum"].as_f64() {
                cases.push(("minimum".to_owned(), json!(minimum), Some(json!(minimum - 0.01))));
            }
            if let Some(minimum) = number["exclusiveMinimum"].as_f64() {
                cases.push(("exclusiveMinimum".to_owned(), json!(minimum + 0.01), Some(json!(minimum))));
            }
            if let Some(maximum) = number["maximum"].as_f64() {
                let past = (maximum <= 100.0).then(|| json!(maximum + 0.01));
                cases.push(("maximum".to_owned(), json!(maximum), past));
            }
            return cases;
        }
        if let Some(minimum) = schema["minimum"].as_i64() {
            cases.push(("minimum".to_owned(), json!(minimum), Some(json!(minimum - 1))));
        }
        if let Some(maximum) = schema["maximum"].as_i64() {
            cases.push(("maximum".to_owned(), json!(maximum), Some(json!(maximum + 1))));
        }
        let text = |length: u64| json!("A".repeat(usize::try_from(length).expect("a small length")));
        if let Some(minimum) = schema["minLength"].as_u64() {
            cases.push(("minLength".to_owned(), text(minimum.max(1)), minimum.checked_sub(1).map(text)));
        }
        if let Some(maximum) = schema["maxLength"].as_u64() {
            cases.push(("maxLength".to_owned(), text(maximum), Some(text(maximum + 1))));
        }
        if let Some(members) = schema["enum"].as_array() {
            for member in members {
                cases.push((format!("enum member {member}"), member.clone(), None));
            }
            cases.push(("enum".to_owned(), members[0].clone(), Some(json!("not-a-member"))));
        }
        match schema["format"].as_str() {
            Some("date") => cases.push(("date".to_owned(), json!("2024-02-29"), Some(json!("2023-02-29")))),
            Some("email") => cases.push(("email".to_owned(), json!("ana@shop.co"), Some(json!("ana")))),
            _ => {}
        }
        cases
    }

    #[test]
    fn every_documented_bound_is_where_the_parser_draws_it() {
        let components = components();
        for DocumentedBody { name, parse, schema, fields, body } in documented_bodies(&components) {
            for (path, _, _) in fields {
                let field = property_schema(schema, &path, &components);
                // Half of a catalogue pair is tried alone (the document asks for one half).
                let body = match pair_sibling(schema, &path, &components) {
                    Some(sibling) => with(&body, &sibling, None),
                    None => body.clone(),
                };
                for (bound, accepted, refused) in boundaries(field) {
                    let errors = parse(&with(&body, &path, Some(accepted.clone())));
                    assert!(!refused_at(&errors, &path), "{name}.{path} ({bound}): {accepted} refused: {errors:?}");
                    if let Some(refused) = refused {
                        let errors = parse(&with(&body, &path, Some(refused.clone())));
                        assert!(refused_at(&errors, &path), "{name}.{path} ({bound}): {refused} accepted");
                    }
                }
            }
        }
    }
}
