//! `parse_invoice`: every way a create-invoice body can be wrong, with the exact status kind,
//! `loc`, `msg` and `type` the client gets.

use factus_domain::invoice::{IdentificationDocumentType, Invoice, PaymentForm};
use factus_web::error::ApiError;
use factus_web::invoices::request::parse_invoice;
use serde_json::{Value, json};

/// The reference's minimal invoice body (the request behind `docs/contract.md` §3.6).
fn minimal() -> Value {
    json!({
        "reference_code": "R2",
        "customer": {
            "identification_document_id": 3,
            "identification": "1",
            "legal_organization_id": 2,
            "tribute_id": 21,
            "names": "Juan"
        },
        "items": [{
            "code_reference": "P",
            "name": "N",
            "quantity": 1,
            "price": "100.5",
            "tax_rate": "19",
            "unit_measure_id": 70,
            "standard_code_id": 1,
            "is_excluded": 0,
            "tribute_id": 1
        }]
    })
}

/// `minimal()` with the value at a JSON pointer replaced (or added to an existing object).
fn with(pointer: &str, value: Value) -> Value {
    let mut body = minimal();
    set(&mut body, pointer, value);
    body
}

fn set(body: &mut Value, pointer: &str, value: Value) {
    let (parent, key) = pointer.rsplit_once('/').expect("a pointer");
    let parent = body.pointer_mut(parent).expect("the parent exists");
    match parent {
        Value::Object(map) => {
            map.insert(key.to_owned(), value);
        }
        Value::Array(list) => list[key.parse::<usize>().expect("an index")] = value,
        _ => panic!("not a container"),
    }
}

/// `minimal()` without the field at a JSON pointer.
fn without(pointer: &str) -> Value {
    let mut body = minimal();
    let (parent, key) = pointer.rsplit_once('/').expect("a pointer");
    body.pointer_mut(parent).and_then(Value::as_object_mut).expect("an object").remove(key);
    body
}

fn entry(loc: Value, msg: &str, kind: &str) -> Value {
    json!({"loc": loc, "msg": msg, "type": kind})
}

/// The 422 `detail` list of a body.
fn unprocessable(body: &Value) -> Value {
    match parse_invoice(body) {
        Err(ApiError::Validation(errors)) => serde_json::to_value(errors).unwrap(),
        Err(other) => panic!("expected 422, got {other:?}"),
        Ok(_) => panic!("expected 422, the invoice was accepted"),
    }
}

/// The 400 `detail` list of a body.
fn bad_request(body: &Value) -> Value {
    match parse_invoice(body) {
        Err(ApiError::BusinessRules(errors)) => serde_json::to_value(errors).unwrap(),
        Err(other) => panic!("expected 400, got {other:?}"),
        Ok(_) => panic!("expected 400, the invoice was accepted"),
    }
}

/// A row of a table of bodies that each get one error: what it shows, the JSON pointer and the
/// value `minimal()` gets there, then the error's `loc`, `msg` and `type`.
type OneError = (&'static str, &'static str, Value, Value, &'static str, &'static str);

/// Each row's body gets exactly its one error in `detail` (the 422's or the 400's list).
fn assert_one_error_each(detail: fn(&Value) -> Value, rows: Vec<OneError>) {
    for (case, pointer, value, loc, msg, kind) in rows {
        assert_eq!(detail(&with(pointer, value)), json!([entry(loc, msg, kind)]), "{case}");
    }
}

fn accepted(body: &Value) -> Invoice {
    match parse_invoice(body) {
        Ok(invoice) => invoice,
        Err(error) => panic!("expected the invoice to be accepted, got {error:?}"),
    }
}

// --- well-formed bodies -------------------------------------------------------------------------

#[test]
fn the_minimal_invoice_of_the_reference_parses_with_its_defaults() {
    let invoice = accepted(&minimal());
    assert_eq!(invoice.reference_code().as_str(), "R2");
    assert_eq!(invoice.document(), "01");
    assert_eq!(invoice.payment_method_code(), "10");
    assert_eq!(invoice.payment_form(), PaymentForm::Cash);
    assert_eq!(invoice.customer().identification_document(), IdentificationDocumentType::CitizenshipCard);
    let item = &invoice.items()[0];
    assert_eq!(item.discount_rate().to_string(), "0.00");
    assert_eq!(item.price().to_string(), "100.5");
    assert_eq!(item.tax_rate().to_string(), "19");
}

#[test]
fn unknown_fields_are_ignored_and_nulls_of_optional_fields_are_absent() {
    let mut body = with("/surprise", json!({"anything": [1, 2]}));
    set(&mut body, "/observation", Value::Null);
    set(&mut body, "/customer/email", Value::Null);
    set(&mut body, "/items/0/discount_rate", Value::Null);
    let invoice = accepted(&body);
    assert_eq!(invoice.observation(), None);
    assert_eq!(invoice.customer().email(), None);
    assert_eq!(invoice.items()[0].discount_rate().to_string(), "0.00");
}

#[test]
fn integers_may_come_as_whole_floats_or_numeric_strings_and_decimals_keep_their_scale() {
    let mut body = with("/items/0/quantity", json!("2"));
    set(&mut body, "/items/0/unit_measure_id", json!(70.0));
    set(&mut body, "/items/0/price", json!(50000));
    set(&mut body, "/items/0/tax_rate", json!("19.00"));
    set(&mut body, "/items/0/discount_rate", json!(19.0));
    let invoice = accepted(&body);
    let item = &invoice.items()[0];
    assert_eq!((item.quantity().get(), item.unit_measure_id()), (2, 70));
    assert_eq!(item.price().to_string(), "50000");
    assert_eq!(item.tax_rate().to_string(), "19.00");
    assert_eq!(item.discount_rate().to_string(), "19.0");
}

#[test]
fn an_invoice_with_every_optional_block_parses() {
    let mut body = minimal();
    for (pointer, value) in [
        ("/numbering_range_id", json!(8)),
        ("/observation", json!("Entrega en portería")),
        ("/payment_form", json!("2")),
        ("/payment_due_date", json!("2026-04-30")),
        ("/operation_type", json!("10")),
        ("/send_email", json!(false)),
        ("/order_reference", json!({"reference_code": "OC-1", "issue_date": "2026-03-01"})),
        ("/related_documents", json!([{"code": "01", "issue_date": "2026-03-02", "number": "SETP1"}])),
        (
            "/billing_period",
            json!({"start_date": "2026-03-01", "start_time": "00:00:00", "end_date": "2026-03-31", "end_time": "23:59:59"}),
        ),
        (
            "/establishment",
            json!({"name": "Tienda", "address": "Cra 1", "phone_number": "300", "email": "t@x.co", "municipality_id": 980}),
        ),
        (
            "/allowance_charges",
            json!([{"concept_type": "03", "is_surcharge": true, "reason": "Propina", "base_amount": "90000", "amount": "9000"}]),
        ),
        ("/items/0/withholding_taxes", json!([{"code": "06", "withholding_tax_rate": "7.00"}])),
        ("/items/0/mandate", json!({"identification_document_id": 6, "identification": "900"})),
    ] {
        set(&mut body, pointer, value);
    }
    let invoice = accepted(&body);
    assert_eq!(invoice.payment_form(), PaymentForm::Credit);
    assert_eq!(invoice.related_documents().len(), 1);
    assert_eq!(invoice.allowance_charges()[0].amount().to_string(), "9000");
    assert_eq!(invoice.items()[0].mandate().map(|m| m.identification()), Some("900"));
}

// --- type errors (422) --------------------------------------------------------------------------

/// Each value of the wrong type, and the one type error it gets.
#[test]
fn each_mistyped_value_is_its_type_error() {
    assert_one_error_each(
        unprocessable,
        vec![
            (
                "a number where a string is expected is a str type error",
                "/payment_form",
                json!(2),
                json!(["body", "payment_form"]),
                "str type expected",
                "type_error.str",
            ),
            (
                "a word where an integer is expected is an integer type error",
                "/items/0/quantity",
                json!("two"),
                json!(["body", "items", 0, "quantity"]),
                "value is not a valid integer",
                "type_error.integer",
            ),
            (
                "a fractional quantity is not an integer",
                "/items/0/quantity",
                json!(2.5),
                json!(["body", "items", 0, "quantity"]),
                "value is not a valid integer",
                "type_error.integer",
            ),
            (
                "a word where a decimal is expected is a decimal type error",
                "/items/0/price",
                json!("cien"),
                json!(["body", "items", 0, "price"]),
                "value is not a valid decimal",
                "type_error.decimal",
            ),
            (
                "a word where a boolean is expected is a bool type error",
                "/send_email",
                json!("maybe"),
                json!(["body", "send_email"]),
                "value could not be parsed to a boolean",
                "type_error.bool",
            ),
            (
                "a date not written year month day is a date error",
                "/payment_due_date",
                json!("30/04/2026"),
                json!(["body", "payment_due_date"]),
                "invalid date format",
                "value_error.date",
            ),
            (
                "an object where the items list is expected is a list type error",
                "/items",
                json!({}),
                json!(["body", "items"]),
                "value is not a valid list",
                "type_error.list",
            ),
            (
                "a string where the customer object is expected is a dict type error",
                "/customer",
                json!("Juan"),
                json!(["body", "customer"]),
                "value is not a valid dict",
                "type_error.dict",
            ),
            (
                "a customer email that is not an address is an email error",
                "/customer/email",
                json!("juan"),
                json!(["body", "customer", "email"]),
                "value is not a valid email address",
                "value_error.email",
            ),
        ],
    );
}

#[test]
fn an_item_that_is_not_an_object_is_reported_once_at_its_index() {
    let mut body = minimal();
    let good = body["items"][0].clone();
    set(&mut body, "/items", json!(["P", good, {"quantity": 0}]));
    let detail = unprocessable(&body);
    assert_eq!(detail[0], entry(json!(["body", "items", 0]), "value is not a valid dict", "type_error.dict"));
    // The third item's problems keep their own index.
    assert!(detail.as_array().unwrap().iter().all(|e| e["loc"][2] != json!(1)), "{detail}");
    assert!(detail.as_array().unwrap().iter().any(|e| e["loc"] == json!(["body", "items", 2, "quantity"])));
}

#[test]
fn a_body_that_is_not_an_object_is_a_dict_type_error_on_the_body() {
    assert_eq!(
        unprocessable(&json!([1, 2])),
        json!([entry(json!(["body"]), "value is not a valid dict", "type_error.dict")])
    );
}

// --- missing fields (422) -----------------------------------------------------------------------

fn missing(loc: Value) -> Value {
    entry(loc, "field required", "value_error.missing")
}

#[test]
fn an_empty_body_misses_the_reference_code_the_customer_and_the_items() {
    assert_eq!(
        unprocessable(&json!({})),
        json!([
            missing(json!(["body", "reference_code"])),
            missing(json!(["body", "customer"])),
            missing(json!(["body", "items"])),
        ])
    );
}

#[test]
fn a_null_required_field_is_missing() {
    assert_eq!(
        unprocessable(&with("/reference_code", Value::Null)),
        json!([missing(json!(["body", "reference_code"]))])
    );
}

#[test]
fn an_empty_customer_misses_its_four_required_fields() {
    assert_eq!(
        unprocessable(&with("/customer", json!({}))),
        json!([
            missing(json!(["body", "customer", "identification_document_id"])),
            missing(json!(["body", "customer", "identification"])),
            missing(json!(["body", "customer", "legal_organization_id"])),
            missing(json!(["body", "customer", "tribute_id"])),
        ])
    );
}

#[test]
fn an_empty_item_misses_its_nine_required_fields() {
    let expected: Vec<Value> = [
        "code_reference",
        "name",
        "quantity",
        "price",
        "tax_rate",
        "unit_measure_id",
        "standard_code_id",
        "is_excluded",
        "tribute_id",
    ]
    .into_iter()
    .map(|field| missing(json!(["body", "items", 0, field])))
    .collect();
    assert_eq!(unprocessable(&with("/items/0", json!({}))), Value::Array(expected));
}

#[test]
fn a_single_missing_item_field_is_reported_alone() {
    assert_eq!(unprocessable(&without("/items/0/price")), json!([missing(json!(["body", "items", 0, "price"]))]));
}

#[test]
fn empty_nested_blocks_miss_their_required_fields() {
    let mut body = minimal();
    set(&mut body, "/order_reference", json!({}));
    set(&mut body, "/related_documents", json!([{}]));
    set(&mut body, "/billing_period", json!({}));
    set(&mut body, "/establishment", json!({}));
    set(&mut body, "/allowance_charges", json!([{}]));
    set(&mut body, "/items/0/withholding_taxes", json!([{}]));
    set(&mut body, "/items/0/mandate", json!({}));
    let locs = [
        json!(["body", "order_reference", "reference_code"]),
        json!(["body", "related_documents", 0, "code"]),
        json!(["body", "related_documents", 0, "issue_date"]),
        json!(["body", "related_documents", 0, "number"]),
        json!(["body", "billing_period", "start_date"]),
        json!(["body", "billing_period", "end_date"]),
        json!(["body", "billing_period", "end_time"]),
        json!(["body", "establishment", "name"]),
        json!(["body", "establishment", "address"]),
        json!(["body", "establishment", "phone_number"]),
        json!(["body", "establishment", "email"]),
        json!(["body", "establishment", "municipality_id"]),
        json!(["body", "allowance_charges", 0, "concept_type"]),
        json!(["body", "allowance_charges", 0, "is_surcharge"]),
        json!(["body", "allowance_charges", 0, "reason"]),
        json!(["body", "allowance_charges", 0, "base_amount"]),
        json!(["body", "allowance_charges", 0, "amount"]),
        json!(["body", "items", 0, "withholding_taxes", 0, "code"]),
        json!(["body", "items", 0, "withholding_taxes", 0, "withholding_tax_rate"]),
        json!(["body", "items", 0, "mandate", "identification_document_id"]),
        json!(["body", "items", 0, "mandate", "identification"]),
    ];
    assert_eq!(unprocessable(&body), Value::Array(locs.into_iter().map(missing).collect()));
}

// --- field bounds (422) -------------------------------------------------------------------------

fn bound_error(pointer: &str, value: Value) -> Value {
    let detail = unprocessable(&with(pointer, value));
    assert_eq!(detail.as_array().map(Vec::len), Some(1), "{detail}");
    detail[0].clone()
}

/// Each field bound, and the one error a value beyond it gets.
#[test]
fn a_value_beyond_a_field_bound_gets_that_bounds_one_error() {
    assert_one_error_each(
        unprocessable,
        vec![
            (
                "a quantity of zero is not greater than zero",
                "/items/0/quantity",
                json!(0),
                json!(["body", "items", 0, "quantity"]),
                "ensure this value is greater than 0",
                "value_error.number.not_gt",
            ),
            (
                "a price of zero is not greater than zero",
                "/items/0/price",
                json!(0),
                json!(["body", "items", 0, "price"]),
                "ensure this value is greater than 0",
                "value_error.number.not_gt",
            ),
            (
                "a negative discount rate is not greater than or equal to zero",
                "/items/0/discount_rate",
                json!(-5),
                json!(["body", "items", 0, "discount_rate"]),
                "ensure this value is greater than or equal to 0",
                "value_error.number.not_ge",
            ),
            (
                "a discount rate above a hundred is not less than or equal to a hundred",
                "/items/0/discount_rate",
                json!("150"),
                json!(["body", "items", 0, "discount_rate"]),
                "ensure this value is less than or equal to 100",
                "value_error.number.not_le",
            ),
            (
                "a negative tax rate is not greater than or equal to zero",
                "/items/0/tax_rate",
                json!("-19"),
                json!(["body", "items", 0, "tax_rate"]),
                "ensure this value is greater than or equal to 0",
                "value_error.number.not_ge",
            ),
            (
                "a negative withholding rate is not greater than or equal to zero",
                "/items/0/withholding_taxes",
                json!([{"code": "06", "withholding_tax_rate": -1}]),
                json!(["body", "items", 0, "withholding_taxes", 0, "withholding_tax_rate"]),
                "ensure this value is greater than or equal to 0",
                "value_error.number.not_ge",
            ),
            (
                "is excluded above one is not less than or equal to one",
                "/items/0/is_excluded",
                json!(2),
                json!(["body", "items", 0, "is_excluded"]),
                "ensure this value is less than or equal to 1",
                "value_error.number.not_le",
            ),
            (
                "is excluded below zero is not greater than or equal to zero",
                "/items/0/is_excluded",
                json!(-1),
                json!(["body", "items", 0, "is_excluded"]),
                "ensure this value is greater than or equal to 0",
                "value_error.number.not_ge",
            ),
            (
                "an observation of 251 characters is too long",
                "/observation",
                json!("a".repeat(251)),
                json!(["body", "observation"]),
                "ensure this value has at most 250 characters",
                "value_error.any_str.max_length",
            ),
            (
                "a blank reference code is too short",
                "/reference_code",
                json!("  "),
                json!(["body", "reference_code"]),
                "ensure this value has at least 1 characters",
                "value_error.any_str.min_length",
            ),
            (
                "a reference code with a slash does not match its pattern",
                "/reference_code",
                json!("FV/1"),
                json!(["body", "reference_code"]),
                "reference_code may not contain '/', '\\' or control characters",
                "value_error.str.regex",
            ),
            (
                "a payment form other than one or two is not a permitted value",
                "/payment_form",
                json!("3"),
                json!(["body", "payment_form"]),
                "value is not a valid enumeration member; permitted: '1', '2'",
                "type_error.enum",
            ),
            (
                "a negative allowance amount is not greater than or equal to zero",
                "/allowance_charges",
                json!([{"concept_type": "03", "is_surcharge": true, "reason": "r", "base_amount": 10, "amount": -1}]),
                json!(["body", "allowance_charges", 0, "amount"]),
                "ensure this value is greater than or equal to 0",
                "value_error.number.not_ge",
            ),
        ],
    );
}

#[test]
fn an_unknown_identification_document_is_not_a_permitted_value() {
    let error = bound_error("/customer/identification_document_id", json!(13));
    assert_eq!(error["loc"], json!(["body", "customer", "identification_document_id"]));
    assert_eq!(error["type"], json!("type_error.enum"));
}

// --- decimal places (422) and business rules (400) ----------------------------------------------

fn rule(loc: Value, msg: &str) -> Value {
    entry(loc, msg, "value_error")
}

/// Each amount with three decimal places, refused on its own field.
#[test]
fn each_value_with_three_decimal_places_is_refused_on_its_field() {
    assert_one_error_each(
        unprocessable,
        vec![
            (
                "a price with three decimal places is refused on the price",
                "/items/0/price",
                json!("1.005"),
                json!(["body", "items", 0, "price"]),
                "price must have max 2 decimal places",
                "value_error",
            ),
            (
                "a discount rate with three decimal places is refused on the discount rate",
                "/items/0/discount_rate",
                json!(1.001),
                json!(["body", "items", 0, "discount_rate"]),
                "discount_rate must have max 2 decimal places",
                "value_error",
            ),
            (
                "a tax rate with three decimal places is refused on the tax rate",
                "/items/0/tax_rate",
                json!("19.000"),
                json!(["body", "items", 0, "tax_rate"]),
                "tax_rate must have max 2 decimal places",
                "value_error",
            ),
            (
                "allowance amounts with three decimal places are refused on the amount",
                "/allowance_charges",
                json!([{"concept_type": "03", "is_surcharge": true, "reason": "r", "base_amount": 10, "amount": "1.005"}]),
                json!(["body", "allowance_charges", 0, "amount"]),
                "amount must have max 2 decimal places",
                "value_error",
            ),
        ],
    );
}

/// Each business rule a body breaks, refused with a 400 on the body or the customer.
#[test]
fn each_broken_business_rule_is_a_400_on_its_place() {
    assert_one_error_each(
        bad_request,
        vec![
            (
                "a credit invoice without due date is refused on the body",
                "/payment_form",
                json!("2"),
                json!(["body"]),
                "payment_due_date es obligatorio cuando payment_form es 2 (crédito)",
                "value_error",
            ),
            (
                "an invoice without items is refused on the body",
                "/items",
                json!([]),
                json!(["body"]),
                "Invoice must contain at least one item",
                "value_error",
            ),
            (
                "a blank company name is refused on the customer",
                "/customer/company",
                json!("   "),
                json!(["body", "customer"]),
                "Company name cannot be empty",
                "value_error",
            ),
            (
                "a natural person without names is refused on the customer",
                "/customer/names",
                json!(""),
                json!(["body", "customer"]),
                "Names is required for natural persons",
                "value_error",
            ),
            (
                "a nit without verification digit is refused on the customer",
                "/customer/identification_document_id",
                json!(6),
                json!(["body", "customer"]),
                "DV is required for NIT",
                "value_error",
            ),
        ],
    );
}

// --- many problems at once ----------------------------------------------------------------------

#[test]
fn the_seeds_missing_identification_and_three_decimal_price_come_back_in_one_422() {
    // The seed's first example: a field check (presence) and a field rule (decimal places) are
    // both problems of single fields, so the client reads them together, as FastAPI's field
    // validators report them.
    let mut body = without("/customer/identification");
    set(&mut body, "/items/0/price", json!(50000.125));
    assert_eq!(
        unprocessable(&body),
        json!([
            entry(json!(["body", "customer", "identification"]), "field required", "value_error.missing"),
            entry(json!(["body", "items", 0, "price"]), "price must have max 2 decimal places", "value_error"),
        ])
    );
}

#[test]
fn an_invoice_breaking_three_business_rules_gets_one_400_listing_all_three() {
    let mut body = minimal();
    set(&mut body, "/payment_form", json!("2"));
    set(&mut body, "/customer/identification_document_id", json!(6));
    set(&mut body, "/customer/names", Value::Null);
    assert_eq!(
        bad_request(&body),
        json!([
            rule(json!(["body", "customer"]), "Names is required for natural persons"),
            rule(json!(["body", "customer"]), "DV is required for NIT"),
            rule(json!(["body"]), "payment_due_date es obligatorio cuando payment_form es 2 (crédito)"),
        ])
    );
}

#[test]
fn decimal_places_are_judged_with_the_fields_and_business_rules_wait_for_them() {
    // Decimal places are a field rule (422): a body that also breaks business rules is answered
    // with the field problems only, as any body with a bad field is.
    let mut body = minimal();
    set(&mut body, "/payment_form", json!("2"));
    set(&mut body, "/customer/identification_document_id", json!(6));
    set(&mut body, "/items/0/price", json!("100.555"));
    set(&mut body, "/items/0/tax_rate", json!("19.001"));
    assert_eq!(
        unprocessable(&body),
        json!([
            rule(json!(["body", "items", 0, "price"]), "price must have max 2 decimal places"),
            rule(json!(["body", "items", 0, "tax_rate"]), "tax_rate must have max 2 decimal places"),
        ])
    );
}

#[test]
fn problems_in_several_places_get_one_422_with_shape_errors_and_bounds_together() {
    // Shape errors come first, in body order, then the field bounds, in body order.
    let mut body = minimal();
    set(&mut body, "/observation", json!("x".repeat(300)));
    set(&mut body, "/payment_form", json!(2));
    set(&mut body, "/customer/email", json!("not-an-email"));
    set(&mut body, "/items/0/quantity", json!(0));
    set(&mut body, "/items/0/tax_rate", json!("diecinueve"));
    set(&mut body, "/items/0/is_excluded", json!(5));
    let mut body_second = body["items"][0].clone();
    body_second.as_object_mut().unwrap().remove("name");
    body_second["price"] = json!(-3);
    body_second["tax_rate"] = json!("19");
    body["items"].as_array_mut().unwrap().push(body_second);
    // A business rule too: it is not judged while the body is malformed.
    set(&mut body, "/customer/names", Value::Null);

    assert_eq!(
        unprocessable(&body),
        json!([
            entry(json!(["body", "payment_form"]), "str type expected", "type_error.str"),
            entry(json!(["body", "customer", "email"]), "value is not a valid email address", "value_error.email"),
            entry(json!(["body", "items", 0, "tax_rate"]), "value is not a valid decimal", "type_error.decimal"),
            entry(json!(["body", "items", 1, "name"]), "field required", "value_error.missing"),
            entry(
                json!(["body", "observation"]),
                "ensure this value has at most 250 characters",
                "value_error.any_str.max_length"
            ),
            entry(
                json!(["body", "items", 0, "quantity"]),
                "ensure this value is greater than 0",
                "value_error.number.not_gt"
            ),
            entry(
                json!(["body", "items", 0, "is_excluded"]),
                "ensure this value is less than or equal to 1",
                "value_error.number.not_le"
            ),
            entry(
                json!(["body", "items", 1, "quantity"]),
                "ensure this value is greater than 0",
                "value_error.number.not_gt"
            ),
            entry(
                json!(["body", "items", 1, "price"]),
                "ensure this value is greater than 0",
                "value_error.number.not_gt"
            ),
            entry(
                json!(["body", "items", 1, "is_excluded"]),
                "ensure this value is less than or equal to 1",
                "value_error.number.not_le"
            ),
        ])
    );
}

#[test]
fn bounds_win_over_business_rules_on_a_well_typed_body() {
    let mut body = with("/items/0/quantity", json!(0));
    set(&mut body, "/payment_form", json!("2"));
    set(&mut body, "/items/0/price", json!("1.005"));
    // The price's decimal places are a field rule, reported with the bound; the credit rule waits.
    assert_eq!(
        unprocessable(&body),
        json!([
            entry(
                json!(["body", "items", 0, "quantity"]),
                "ensure this value is greater than 0",
                "value_error.number.not_gt"
            ),
            rule(json!(["body", "items", 0, "price"]), "price must have max 2 decimal places"),
        ])
    );
}

// Factus v2's DIAN codes in place of (or beside) the v1 ids.

/// `minimal()` with every catalogue id replaced by its DIAN code.
fn with_codes_only() -> Value {
    let mut body = minimal();
    let customer = body.pointer_mut("/customer").and_then(Value::as_object_mut).unwrap();
    for key in ["identification_document_id", "legal_organization_id", "tribute_id"] {
        customer.remove(key);
    }
    customer.insert("identification_document_code".into(), json!("13"));
    customer.insert("legal_organization_code".into(), json!("2"));
    customer.insert("tribute_code".into(), json!("ZZ"));
    customer.insert("municipality_code".into(), json!("68679"));
    let item = body.pointer_mut("/items/0").and_then(Value::as_object_mut).unwrap();
    for key in ["unit_measure_id", "standard_code_id", "tribute_id"] {
        item.remove(key);
    }
    item.insert("unit_measure_code".into(), json!("94"));
    item.insert("standard_code".into(), json!("999"));
    item.insert("tribute_code".into(), json!("01"));
    body
}

#[test]
fn an_invoice_with_dian_codes_instead_of_ids_reads_as_the_same_invoice() {
    let mut with_ids = minimal();
    set(&mut with_ids, "/customer/municipality_id", json!(980));
    let by_ids = parse_invoice(&with_ids).expect("ids are accepted");
    let by_codes = parse_invoice(&with_codes_only()).expect("codes are accepted");
    assert_eq!(by_codes, by_ids);
    assert_eq!(by_codes.customer().municipality().map(|m| m.code()), Some("68679"));
    assert_eq!(by_codes.items()[0].unit_measure_id(), 70);
}

#[test]
fn an_id_and_a_code_for_the_same_entry_are_accepted_together() {
    let mut body = minimal();
    set(&mut body, "/items/0/unit_measure_code", json!("94"));
    set(&mut body, "/customer/identification_document_code", json!("13"));
    set(&mut body, "/customer/tribute_code", json!("ZZ"));
    assert!(parse_invoice(&body).is_ok());
}

#[test]
fn an_id_and_a_code_that_disagree_are_a_422_naming_both_fields() {
    let mut body = minimal();
    set(&mut body, "/items/0/unit_measure_code", json!("KGM"));
    set(&mut body, "/customer/legal_organization_code", json!("1"));
    assert_eq!(
        unprocessable(&body),
        json!([
            entry(
                json!(["body", "customer", "legal_organization_code"]),
                "legal_organization_id 2 y legal_organization_code '1' no corresponden al mismo registro del catálogo de tipos de organización",
                "value_error"
            ),
            entry(
                json!(["body", "items", 0, "unit_measure_code"]),
                "unit_measure_id 70 y unit_measure_code 'KGM' no corresponden al mismo registro del catálogo de unidades de medida",
                "value_error"
            ),
        ])
    );
}

#[test]
fn an_unknown_code_is_a_422_naming_the_field_and_the_value() {
    let mut body = with_codes_only();
    // 70 is the v1 id of "unidad", not a DIAN code: v2 wants 94.
    set(&mut body, "/items/0/unit_measure_code", json!("70"));
    set(&mut body, "/customer/municipality_code", json!("99999"));
    assert_eq!(
        unprocessable(&body),
        json!([
            entry(
                json!(["body", "customer", "municipality_code"]),
                "municipality_code '99999' no existe en el catálogo de municipios",
                "type_error.enum"
            ),
            entry(
                json!(["body", "items", 0, "unit_measure_code"]),
                "unit_measure_code '70' no existe en el catálogo de unidades de medida",
                "type_error.enum"
            ),
        ])
    );
}

#[test]
fn an_unknown_id_is_a_422_naming_the_field_and_the_value() {
    let mut body = minimal();
    set(&mut body, "/customer/municipality_id", json!(5000));
    set(&mut body, "/customer/tribute_id", json!(1));
    set(&mut body, "/items/0/unit_measure_id", json!(1094));
    set(&mut body, "/items/0/tribute_id", json!(21));
    set(&mut body, "/items/0/standard_code_id", json!(9));
    assert_eq!(
        unprocessable(&body),
        json!([
            entry(
                json!(["body", "customer", "tribute_id"]),
                "tribute_id 1 no existe en el catálogo de tributos del cliente",
                "type_error.enum"
            ),
            entry(
                json!(["body", "customer", "municipality_id"]),
                "municipality_id 5000 no existe en el catálogo de municipios",
                "type_error.enum"
            ),
            entry(
                json!(["body", "items", 0, "unit_measure_id"]),
                "unit_measure_id 1094 no existe en el catálogo de unidades de medida",
                "type_error.enum"
            ),
            entry(
                json!(["body", "items", 0, "standard_code_id"]),
                "standard_code_id 9 no existe en el catálogo de estándares de identificación del producto",
                "type_error.enum"
            ),
            entry(
                json!(["body", "items", 0, "tribute_id"]),
                "tribute_id 21 no existe en el catálogo de tributos de productos",
                "type_error.enum"
            ),
        ])
    );
}

#[test]
fn neither_the_id_nor_the_code_is_still_the_id_missing() {
    let body = without("/items/0/unit_measure_id");
    assert_eq!(
        unprocessable(&body),
        json!([entry(json!(["body", "items", 0, "unit_measure_id"]), "field required", "value_error.missing")])
    );
}

#[test]
fn a_code_that_is_not_a_string_is_a_type_error_and_nothing_else() {
    let body = with("/items/0/unit_measure_code", json!(94));
    assert_eq!(
        unprocessable(&body),
        json!([entry(json!(["body", "items", 0, "unit_measure_code"]), "str type expected", "type_error.str")])
    );
}
