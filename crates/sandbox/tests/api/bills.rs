use factus_sandbox::{DuplicatePolicy, SandboxConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha384};

use crate::common::{assert_envelope, assert_file_name, bill, decoded, spawn, spawn_with, xml_of};

#[tokio::test]
async fn creating_a_bill_answers_201_with_everything_the_gateway_reads() {
    let t = spawn().await;
    let body = t.post_created("/v1/bills/validate", &bill("REF-1")).await;
    assert_envelope(&body, "Created", "Documento con el código de referencia REF-1 registrado y validado con éxito");
    let data = &body["data"];
    assert_eq!(data["bill"]["number"], "SETP990000001");
    assert_eq!(data["bill"]["reference_code"], "REF-1");
    assert_eq!(data["bill"]["status"], 1, "status is an integer");
    assert_eq!(data["numbering_range"]["prefix"], "SETP");
    let cufe = data["bill"]["cufe"].as_str().unwrap();
    assert_eq!(cufe.len(), 96);
    assert!(cufe.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    assert_eq!(
        data["bill"]["qr"],
        format!("https://catalogo-vpfe-hab.dian.gov.co/document/searchqr?documentkey={cufe}")
    );
    assert_eq!(data["bill"]["total"], "201.00");
    assert_eq!(data["bill"]["gross_value"], "168.91");
    assert_eq!(data["bill"]["tax_amount"], "32.09");
    assert_eq!(data["customer"]["names"], "Juana Pérez");
    assert_eq!(data["customer"]["municipality"]["id"], 169);
    assert_eq!(data["items"][0]["unit_measure"]["code"], "94");
    assert_eq!(data["items"][0]["total"], 201);
    assert_eq!(data["company"]["nit"], "900825759");
    assert_eq!(data["billing_period"], json!([]));
    assert!(data["bill"]["created_at"].as_str().unwrap().ends_with('M'));
}

#[tokio::test]
async fn bills_are_numbered_sequentially_and_the_range_current_advances() {
    let t = spawn().await;
    for (i, reference) in ["A", "B", "C"].iter().enumerate() {
        let body = t.create_bill(reference).await;
        assert_eq!(body["data"]["bill"]["number"], format!("SETP99000000{}", i + 1));
    }
    let (_, ranges) = t.get("/v1/numbering-ranges?filter[id]=8").await;
    assert_eq!(ranges["data"]["data"][0]["current"], 990_000_004);
}

#[tokio::test]
async fn the_worked_example_of_the_factus_docs_is_reproduced_to_the_cent() {
    // docs/factus.md §4.5. The doc's request says withholding rates 15.12 / 7.38 but its
    // response shows, and its figures use, 15.00 / 7.00; we send the rates the figures use.
    let t = spawn().await;
    let mut body = bill("DOC-EXAMPLE");
    body["items"] = json!([
        {"code_reference": "A", "name": "Item A", "quantity": 1, "discount_rate": 20,
         "price": 50000, "tax_rate": "19.00", "unit_measure_id": 70, "standard_code_id": 1,
         "is_excluded": 0, "tribute_id": 1,
         "withholding_taxes": [{"code": "06", "withholding_tax_rate": 7.00},
                               {"code": "05", "withholding_tax_rate": 15.00}]},
        {"code_reference": "B", "name": "Item B", "quantity": 1, "discount_rate": 0,
         "price": 50000, "tax_rate": "5.00", "unit_measure_id": 70, "standard_code_id": 1,
         "is_excluded": 0, "tribute_id": 1, "withholding_taxes": []}
    ]);
    body["allowance_charges"] = json!([
        {"concept_type": "03", "is_surcharge": true, "reason": "Propina", "base_amount": 90000, "amount": 9000}
    ]);
    let response = t.post_created("/v1/bills/validate", &body).await;
    let data = &response["data"];
    let a = &data["items"][0];
    assert_eq!(a["discount"], "8403.36");
    assert_eq!(a["gross_value"], "33613.45");
    assert_eq!(a["taxable_amount"], "33613.45");
    assert_eq!(a["tax_amount"], "6386.55");
    assert_eq!(a["total"], 40000);
    assert_eq!(a["withholding_taxes"][0]["value"], "2352.94");
    assert_eq!(a["withholding_taxes"][1]["value"], "957.98");
    let b = &data["items"][1];
    assert_eq!(b["gross_value"], "47619.05");
    assert_eq!(b["tax_amount"], "2380.95");
    assert_eq!(b["total"], 50000);
    let totals = &data["bill"];
    assert_eq!(totals["gross_value"], "81232.50");
    assert_eq!(totals["tax_amount"], "8767.50");
    assert_eq!(totals["surcharge_amount"], "9000.00");
    assert_eq!(totals["total"], "99000.00");
    assert_eq!(data["allowance_charges"][0]["percentage"], "10.00");
    let withholdings = &data["withholding_taxes"];
    assert_eq!(withholdings[0], json!({"tribute_code": "06", "name": "ReteRenta", "value": "2352.94"}));
    assert_eq!(withholdings[1], json!({"tribute_code": "05", "name": "ReteIVA", "value": "957.98"}));
}

#[tokio::test]
async fn the_cufe_is_the_sha384_of_the_dian_field_chain() {
    let t = spawn().await;
    let body = t.create_bill("CUFE-1").await;
    let data = &body["data"];
    let (_, xml) = t.get("/v1/bills/download-xml/SETP990000001").await;
    let xml = xml_of(&xml);
    let tag = |name: &str| {
        let open = format!("<cbc:{name}>");
        let start = xml.find(&open).unwrap() + open.len();
        xml[start..start + xml[start..].find('<').unwrap()].to_owned()
    };
    let chain = format!(
        "SETP990000001{}{}{}01{}040.00030.00{}9008257591234567890fc8eac422eba16e22ffd8c6f94b3f40a6e38162c2",
        tag("IssueDate"),
        tag("IssueTime"),
        data["bill"]["gross_value"].as_str().unwrap(),
        data["bill"]["tax_amount"].as_str().unwrap(),
        data["bill"]["total"].as_str().unwrap(),
    );
    assert_eq!(data["bill"]["cufe"], hex::encode(Sha384::digest(chain.as_bytes())));
}

#[tokio::test]
async fn show_returns_the_stored_bill_and_unknown_numbers_answer_404() {
    let t = spawn().await;
    let created = t.create_bill("SHOW-1").await;
    let body = t.get_ok("/v1/bills/show/SETP990000001").await;
    assert_envelope(&body, "OK", "Solicitud exitosa");
    assert_eq!(body["data"]["bill"], created["data"]["bill"]);
    assert_eq!(body["data"]["items"], created["data"]["items"]);

    let (status, body) = t.get("/v1/bills/show/SETP999999999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["message"].as_str().unwrap().contains("SETP999999999"));
}

#[tokio::test]
async fn list_filters_and_paginates_like_laravel() {
    let t = spawn().await;
    for i in 1..=12 {
        t.create_bill(&format!("LIST-{i:02}")).await;
    }
    let body = t.get_ok("/v1/bills").await;
    let page = &body["data"];
    assert_eq!(page["data"].as_array().unwrap().len(), 10);
    assert_eq!(page["data"][0]["number"], "SETP990000012", "newest first");
    assert_eq!(page["data"][0]["total"], "201.00");
    let pagination = &page["pagination"];
    assert_eq!(pagination["total"], 12);
    assert_eq!(pagination["per_page"], 10);
    assert_eq!(pagination["current_page"], 1);
    assert_eq!(pagination["last_page"], 2);
    assert_eq!(pagination["from"], 1);
    assert_eq!(pagination["to"], 10);
    assert_eq!(pagination["links"][0]["label"], "&laquo; Anterior");
    assert_eq!(pagination["links"][3]["label"], "Siguiente &raquo;");
    assert!(pagination["links"][3]["url"].as_str().unwrap().ends_with("/v1/bills?page=2"));

    let (_, body) = t.get("/v1/bills?page=2").await;
    assert_eq!(body["data"]["data"].as_array().unwrap().len(), 2);
    let (_, body) = t.get("/v1/bills?page=9").await;
    assert_eq!(body["data"]["data"], json!([]));

    let (_, body) = t.get("/v1/bills?filter[reference_code]=LIST-07").await;
    assert_eq!(body["data"]["data"][0]["number"], "SETP990000007");
    assert_eq!(body["data"]["pagination"]["total"], 1);
    let (_, body) = t.get("/v1/bills?filter[number]=SETP990000003").await;
    assert_eq!(body["data"]["data"][0]["reference_code"], "LIST-03");
    assert_eq!(t.listed_total("/v1/bills?filter[names]=juana%20perez&filter[prefix]=SETP").await, 12);
    assert_eq!(t.listed_total("/v1/bills?filter[identification]=999").await, 0);
    assert_eq!(t.listed_total("/v1/bills?filter[status]=0").await, 0);
    assert_eq!(t.listed_total("/v1/bills?filter[status]=1").await, 12);
}

#[tokio::test]
async fn reused_reference_code_answers_409_conflict() {
    let t = spawn().await;
    t.create_bill("DUP-1").await;
    let (status, body) = t.post("/v1/bills/validate", &bill("DUP-1")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["status"], "Conflict");
    assert!(body["message"].as_str().unwrap().contains("DUP-1"));
    let stored = t.admin_get("/__sandbox/bills").await;
    assert_eq!(stored.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn reused_reference_code_returns_the_existing_bill_when_configured() {
    let t =
        spawn_with(SandboxConfig { duplicate_reference: DuplicatePolicy::ReturnExisting, ..SandboxConfig::default() })
            .await;
    let first = t.create_bill("DUP-2").await;
    let again = t.post_created("/v1/bills/validate", &bill("DUP-2")).await;
    assert_eq!(again["data"]["bill"], first["data"]["bill"]);
    assert_eq!(t.admin_get("/__sandbox/bills").await.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn deleting_a_validated_bill_answers_409_and_an_unknown_reference_404() {
    let t = spawn().await;
    t.create_bill("DEL-1").await;
    let (status, body) = t.delete("/v1/bills/destroy/reference/DEL-1").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["status"], "Conflict");
    let (status, body) = t.delete("/v1/bills/destroy/reference/NOPE").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["message"], "No se encontró el documento con código de referencia NOPE");
}

#[tokio::test]
async fn pdf_download_is_a_real_pdf_showing_number_cufe_customer_and_totals() {
    let t = spawn().await;
    let created = t.create_bill("PDF-1").await;
    let body = t.get_ok("/v1/bills/download-pdf/SETP990000001").await;
    let file_name = body["data"]["file_name"].as_str().unwrap();
    assert!(file_name.starts_with("fv0900825759000"), "{file_name}");
    assert_eq!(file_name.len(), 2 + 10 + 3 + 2 + 8);
    let pdf = decoded(&body, "pdf_base_64_encoded");
    assert!(pdf.starts_with(b"%PDF-1."));
    assert!(pdf.ends_with(b"%%EOF\n"));
    let text = String::from_utf8_lossy(&pdf);
    assert!(text.contains("SETP990000001"));
    assert!(text.contains(created["data"]["bill"]["cufe"].as_str().unwrap()));
    assert!(text.contains("Juana P"), "customer name");
    assert!(text.contains("Total: 201.00"));
    assert_eq!(t.get("/v1/bills/download-pdf/SETP1").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn xml_download_is_a_ubl_invoice_with_the_cufe_and_totals() {
    let t = spawn().await;
    let created = t.create_bill("XML-1").await;
    let body = t.get_ok("/v1/bills/download-xml/SETP990000001").await;
    assert_file_name(&body, "fv");
    assert!(body["data"].get("pdf_base_64_encoded").is_none());
    let xml = xml_of(&body);
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "Invoice");
    assert_eq!(root.tag_name().namespace(), Some("urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"));
    let text_of =
        |name: &str| doc.descendants().find(|n| n.tag_name().name() == name).and_then(|n| n.text()).unwrap().to_owned();
    assert_eq!(text_of("UBLVersionID"), "UBL 2.1");
    assert_eq!(text_of("ID"), "SETP990000001");
    assert_eq!(text_of("UUID"), created["data"]["bill"]["cufe"].as_str().unwrap());
    assert_eq!(text_of("PayableAmount"), "201.00");
    assert_eq!(text_of("InvoicedQuantity"), "2");
}

#[tokio::test]
async fn radian_events_are_empty_until_one_is_registered() {
    let t = spawn().await;
    t.create_bill("EV-1").await;
    let body = t.get_ok("/v1/bills/SETP990000001/radian/events").await;
    assert_eq!(body["data"], json!([]));
    t.register_event("SETP990000001", "032").await;
    let (_, body) = t.get("/v1/bills/SETP990000001/radian/events").await;
    let event = &body["data"][0];
    assert_eq!(event["number"], "AP1");
    assert_eq!(event["event_code"], "032");
    assert_eq!(event["cude"].as_str().unwrap().len(), 96);
    for key in ["event_name", "effective_date", "effective_time"] {
        assert!(event[key].is_string(), "{key}");
    }
    assert_eq!(t.get("/v1/bills/SETP1/radian/events").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn send_email_confirms_and_rejects_a_bad_address() {
    let t = spawn().await;
    t.create_bill("MAIL-1").await;
    t.assert_send_email_checks_the_address("/v1/bills/send-email/SETP990000001").await;
    assert_eq!(
        t.post("/v1/bills/send-email/SETP1", &json!({"email": "cliente@example.com"})).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn unknown_routes_answer_json_404() {
    let t = spawn().await;
    let (status, body): (StatusCode, Value) = t.get("/v1/nothing-here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["message"].as_str().unwrap().contains("could not be found"));
}
