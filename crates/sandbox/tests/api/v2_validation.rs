//! v2 body checks (Laravel-shaped 422s, like v1) and v2 arithmetic (net price plus taxes).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{TestSandbox, assert_envelope, bill_v2, spawn, xml_of};

/// Posts a v2 bill expected to fail and returns `data.errors`.
async fn rejected(t: &TestSandbox, body: &Value) -> Value {
    let (status, response) = t.post("/v2/bills/validate", body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{response}");
    assert_envelope(&response, "Validation error", "Error de validación");
    response["data"]["errors"].clone()
}

#[tokio::test]
async fn unit_measure_code_70_is_a_v1_id_and_v2_rejects_it() {
    let t = spawn().await;
    let mut body = bill_v2("UNIT-70");
    body["items"][0]["unit_measure_code"] = json!("70");
    let errors = rejected(&t, &body).await;
    assert_eq!(errors, json!({"items.0.unit_measure_code": ["El campo items.0.unit_measure_code es inválido."]}));
    assert_eq!(t.listed_total("/v2/bills").await, 0);
}

#[tokio::test]
async fn payment_details_that_do_not_add_up_to_the_total_are_rejected() {
    let t = spawn().await;
    let mut body = bill_v2("PAY-SUM");
    // factus-js' own sandbox test pays 50 000 for a bill of 47 600.
    body["payment_details"][0]["amount"] = json!("50000.00");
    let errors = rejected(&t, &body).await;
    assert_eq!(
        errors["payment_details"][0],
        "La suma de los montos de los medios de pago (50000.00) no coincide con el total del documento (47600.00)."
    );
    assert_eq!(t.listed_total("/v2/bills").await, 0);
}

#[tokio::test]
async fn payments_may_be_split_over_several_methods() {
    let t = spawn().await;
    let mut body = bill_v2("PAY-SPLIT");
    body["payment_details"] = json!([
        {"payment_form": "1", "payment_method_code": "48", "amount": "40000"},
        {"payment_form": 1, "payment_method_code": "10", "reference_code": "caja-2", "amount": 7600}
    ]);
    let response = t.post_created("/v2/bills/validate", &body).await;
    assert_eq!(response["data"]["payment_details"][1]["amount"], "7600.00");
    assert_eq!(response["data"]["payment_details"][1]["payment_method"]["name"], "Efectivo");
}

#[tokio::test]
async fn an_unknown_municipality_code_is_rejected() {
    let t = spawn().await;
    let mut body = bill_v2("MUN-X");
    body["customer"]["municipality_code"] = json!("99999");
    let errors = rejected(&t, &body).await;
    assert_eq!(errors, json!({"customer.municipality_code": ["El campo customer.municipality_code es inválido."]}));
}

#[tokio::test]
async fn v1_fields_in_a_v2_body_leave_the_v2_fields_missing_and_every_error_is_reported() {
    let t = spawn().await;
    let body = json!({
        "reference_code": "V1-SHAPED",
        "payment_form": "1",
        "customer": {"identification_document_id": 3, "identification": "1", "legal_organization_id": 2,
                     "tribute_id": 21, "names": "X", "municipality_id": 169},
        "items": [{"code_reference": "A", "name": "A", "quantity": 1, "price": "119", "tax_rate": "19",
                   "unit_measure_id": 70, "standard_code_id": 1, "is_excluded": 0, "tribute_id": 1}]
    });
    let errors = rejected(&t, &body).await;
    for path in [
        "payment_details",
        "customer.identification_document_code",
        "customer.legal_organization_code",
        "items.0.unit_measure_code",
        "items.0.standard_code",
        "items.0.taxes",
    ] {
        assert!(errors[path][0].as_str().unwrap().ends_with("es obligatorio."), "{path}: {errors}");
    }
}

#[tokio::test]
async fn malformed_v2_fields_get_their_own_messages() {
    let t = spawn().await;
    let mut body = bill_v2("BAD-FIELDS");
    body["items"][0]["quantity"] = json!("0");
    body["items"][0]["price"] = json!("10.123");
    body["items"][0]["taxes"] = json!([{"code": "99", "rate": "19"}, {"code": "04", "is_excluded": true}]);
    body["items"][0]["discount_amount"] = json!("5");
    body["customer"]["identification_document_code"] = json!("99");
    body["payment_details"][0]["due_date"] = Value::Null;
    body["cash_rounding_amount"] = json!("-500.01");
    let errors = rejected(&t, &body).await;
    assert_eq!(errors["items.0.quantity"][0], "El campo items.0.quantity debe ser mayor que 0.");
    assert_eq!(errors["items.0.price"][0], "El campo items.0.price debe tener como máximo 2 cifras decimales.");
    assert_eq!(errors["items.0.taxes.0.code"][0], "El campo items.0.taxes.0.code es inválido.");
    assert_eq!(errors["items.0.taxes.1.is_excluded"][0], "El impuesto excluido solo puede ser aplicado al IVA");
    assert_eq!(
        errors["items.0.discount_amount"][0],
        "El campo items.0.discount_amount no debe enviarse junto con discount_rate."
    );
    assert_eq!(
        errors["customer.identification_document_code"][0],
        "El campo customer.identification_document_code es inválido."
    );
    assert_eq!(errors["payment_details.0.due_date"][0], "El campo payment_details.0.due_date es obligatorio.");
    assert_eq!(errors["cash_rounding_amount"][0], "El campo cash_rounding_amount debe estar entre -500 y 500.");
}

#[tokio::test]
async fn a_natural_person_needs_names_and_a_legal_entity_a_company() {
    let t = spawn().await;
    let mut body = bill_v2("NAMES");
    body["customer"]["names"] = Value::Null;
    let errors = rejected(&t, &body).await;
    assert_eq!(errors, json!({"customer.names": ["El campo nombres es obligatorio."]}));
    body["customer"]["legal_organization_code"] = json!("1");
    body["customer"]["company"] = json!("");
    let errors = rejected(&t, &body).await;
    assert_eq!(errors, json!({"customer.company": ["El campo razón social es obligatorio."]}));
}

#[tokio::test]
async fn a_nit_with_a_wrong_check_digit_is_a_dian_rejection() {
    let t = spawn().await;
    let mut body = bill_v2("FAK24");
    body["customer"]["identification_document_code"] = json!("31");
    body["customer"]["identification"] = json!("123456789");
    body["customer"]["dv"] = json!("3");
    let (status, response) = t.post("/v2/bills/validate", &body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(response["data"]["errors"], json!({"FAK24": "Regla: FAK24, Rechazo: No está informado el DV del NIT"}));
}

#[tokio::test]
async fn totals_are_net_prices_plus_taxes_exact_to_the_cent() {
    // Worked by hand (round half away from zero at each step):
    // A: 3 × 1234.56 = 3703.68; 7.5 % off = 277.776 → 277.78; base 3425.90; IVA 19 % = 650.921 →
    //    650.92; line 4076.82; ReteIVA 15 % of 650.92 = 97.638 → 97.64; ReteRenta 2.5 % of
    //    3425.90 = 85.6475 → 85.65.
    // B: 2.5 × 999.99 = 2499.975 → 2499.98; INC 8 % = 199.9984 → 200.00; line 2699.98.
    // C: excluded, 500.00; no tax, not taxable.
    // D: 2 × 45.50 = 91.00 − discount_amount 10.00 = 81.00; IVA 5 % = 4.05; line 85.05.
    // Lines 7361.85 + surcharge 100.00 = 7461.85; cash rounding −1.85 → 7460.00 payable.
    // Gross 6506.88, taxable 6006.88 (C excluded), tax 854.97, discounts 287.78.
    let t = spawn().await;
    let mut body = bill_v2("BY-HAND");
    let item = |code: &str, quantity: &str, price: &str, taxes: Value| {
        json!({"code_reference": code, "name": code, "quantity": quantity, "price": price,
               "unit_measure_code": "94", "standard_code": "999", "taxes": taxes})
    };
    let mut a = item("A", "3", "1234.56", json!([{"code": "01", "rate": "19.00"}]));
    a["discount_rate"] = json!("7.5");
    a["withholding_taxes"] = json!([{"code": "05", "rate": "15"}, {"code": "06", "rate": "2.5"}]);
    let b = item("B", "2.5", "999.99", json!([{"code": "04", "rate": "8"}]));
    let c = item("C", "1", "500.00", json!([{"is_excluded": true}]));
    let mut d = item("D", "2", "45.50", json!([{"code": "01", "rate": "5"}]));
    d["discount_amount"] = json!("10.00");
    body["items"] = json!([a, b, c, d]);
    body["allowance_charges"] = json!([{"concept_type": "03", "is_surcharge": true, "reason": "propina", "base_amount": "1000", "amount": "100"}]);
    body["cash_rounding_amount"] = json!("-1.85");
    body["payment_details"] = json!([
        {"payment_form": "1", "payment_method_code": "10", "amount": "5000.00"},
        {"payment_form": "2", "payment_method_code": "47", "amount": "2460.00", "due_date": "2027-01-31"}
    ]);
    let response = t.post_created("/v2/bills/validate", &body).await;
    let data = &response["data"];
    let items = &data["items"];
    assert_eq!(
        (&items[0]["discount"], &items[0]["gross_value"], &items[0]["tax_amount"], &items[0]["total"]),
        (&json!("277.78"), &json!("3425.90"), &json!("650.92"), &json!("4076.82"))
    );
    assert_eq!(items[0]["withholding_taxes"][0]["value"], "97.64");
    assert_eq!(items[0]["withholding_taxes"][1]["value"], "85.65");
    assert_eq!((&items[1]["gross_value"], &items[1]["tax_amount"]), (&json!("2499.98"), &json!("200.00")));
    assert_eq!(items[2]["taxes"][0]["is_excluded"], true);
    assert_eq!((&items[2]["taxable_amount"], &items[2]["total"]), (&json!("0.00"), &json!("500.00")));
    assert_eq!((&items[3]["discount"], &items[3]["total"]), (&json!("10.00"), &json!("85.05")));
    assert_eq!(
        data["totals"],
        json!({
            "prepayment_amount": "0.00", "gross_amount": "6506.88", "taxable_amount": "6006.88",
            "tax_amount": "854.97", "discount_amount": "287.78", "allowance_amount": "0.00",
            "surcharge_amount": "100.00", "cash_rounding_amount": "-1.85", "total": "7460.00"
        })
    );
    assert_eq!(data["taxes"][0]["tribute"]["code"], "01");
    let iva_rates: Vec<&str> =
        data["taxes"][0]["rates"].as_array().unwrap().iter().map(|r| r["rate"].as_str().unwrap()).collect();
    assert_eq!(iva_rates, ["19.00", "0.00", "5.00"], "IVA at 19 %, excluded, and at 5 %");
    assert_eq!(data["withholding_taxes"][0], json!({"tribute": {"code": "05", "name": "ReteIVA"}, "value": "97.64"}));
    // The same document through v1's eyes keeps the payable total.
    let (_, v1) = t.get("/v1/bills/show/SETP990000001").await;
    assert_eq!(v1["data"]["bill"]["total"], "7460.00");
    // The UBL carries both payments, the rounding and every tax subtotal.
    let (_, xml) = t.get("/v2/bills/SETP990000001/download-xml").await;
    let text = xml_of(&xml);
    let doc = roxmltree::Document::parse(&text).expect("well-formed XML");
    let count = |name: &str| doc.descendants().filter(|n| n.tag_name().name() == name).count();
    let text_of = |name: &str| doc.descendants().find(|n| n.tag_name().name() == name).and_then(|n| n.text());
    assert_eq!(count("PaymentMeans"), 2);
    assert_eq!(text_of("PayableRoundingAmount"), Some("-1.85"));
    assert_eq!(text_of("PayableAmount"), Some("7460.00"));
    let document_taxes: Vec<_> = doc.root_element().children().filter(|n| n.tag_name().name() == "TaxTotal").collect();
    let iva_subtotals = document_taxes[0].children().filter(|n| n.tag_name().name() == "TaxSubtotal").count();
    assert_eq!(iva_subtotals, 3, "IVA of A, the excluded C and D");
}

#[tokio::test]
async fn the_cash_rounding_example_of_the_v2_docs_validates() {
    // The docs' "Redondeo en medios de pago" request: lines add up to 260564.81 and the payments
    // to 260550.00, reconciled by cash_rounding_amount −14.81.
    let t = spawn().await;
    let body = json!({
        "reference_code": "FACT-2026-0129", "document": "01", "numbering_range_id": 8, "operation_type": "10",
        "payment_details": [
            {"payment_form": 1, "payment_method_code": "48", "reference_code": "REF_PAY_1962-1", "amount": "100000"},
            {"payment_form": 1, "payment_method_code": "10", "reference_code": "REF_PAY_1962-1", "amount": "160550"}
        ],
        "cash_rounding_amount": "-14.81",
        "customer": {"identification_document_code": "13", "identification": "222222222222",
                     "names": "Consumidor Final", "address": "kra 37A 5-14", "email": "valjulsansas@gmail.com",
                     "phone": "3015763570", "legal_organization_code": "2", "tribute_code": "01"},
        "items": [
            {"code_reference": "11", "name": "BOTELLA AGUA", "quantity": "1.00", "discount_rate": "0.00",
             "price": "175925.93", "unit_measure_code": "94", "standard_code": "999",
             "taxes": [{"code": "04", "rate": "8.00"}]},
            {"code_reference": "92", "name": "Energizante", "quantity": "2.00", "discount_rate": "0.00",
             "price": "14814.81", "unit_measure_code": "94", "standard_code": "999",
             "taxes": [{"code": "04", "rate": "8.00"}]},
            {"code_reference": "693", "name": "MANZANA VERDE", "quantity": "1.00", "discount_rate": "0.00",
             "price": "32407.41", "unit_measure_code": "94", "standard_code": "999",
             "taxes": [{"code": "01", "rate": "19.00"}]}
        ]
    });
    let response = t.post_created("/v2/bills/validate", &body).await;
    assert_eq!(response["data"]["totals"]["total"], "260550.00");
    assert_eq!(response["data"]["totals"]["tax_amount"], "22601.85");

    let mut unrounded = body.clone();
    unrounded["reference_code"] = json!("NO-ROUNDING");
    unrounded["cash_rounding_amount"] = Value::Null;
    let errors = rejected(&t, &unrounded).await;
    assert!(errors["payment_details"][0].as_str().unwrap().contains("(260564.81)"), "{errors}");
}

#[tokio::test]
async fn a_v2_dian_rejection_keeps_the_bill_pending_and_blocks_the_next_v2_create_until_deleted() {
    let t = spawn().await;
    let mut rejected_bill = bill_v2("REJ-1");
    rejected_bill["customer"]["identification_document_code"] = json!("31");
    rejected_bill["customer"]["dv"] = json!("3");
    assert_eq!(t.post("/v2/bills/validate", &rejected_bill).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, pending) = t.get("/v2/bills?filter[status]=0").await;
    assert_eq!(pending["data"]["data"][0]["reference_code"], "REJ-1");
    assert_eq!(pending["data"]["data"][0]["is_validated"], false);
    let rule = json!({"FAK24": "Regla: FAK24, Rechazo: No está informado el DV del NIT"});
    assert_eq!(pending["data"]["data"][0]["errors"], rule, "v2 errors are keyed by DIAN rule");
    let (_, shown) = t.get("/v2/bills/SETP990000001").await;
    assert_eq!(shown["data"]["errors"], rule);

    let (status, body) = t.post("/v2/bills/validate", &bill_v2("NEXT-1")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["message"], "Se encontró una factura pendiente por enviar a la DIAN");
    assert_eq!(t.delete("/v2/bills/destroy/reference/REJ-1").await.0, StatusCode::OK);
    t.create_bill_v2("NEXT-1").await;
}
