//! v2 bills: create, show, list, downloads, e-mail, events and delete, in v2's shapes.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{assert_envelope, assert_file_name, bill_v2, decoded, spawn, xml_of};

#[tokio::test]
async fn a_factus_js_style_v2_bill_validates_with_v2_shapes() {
    let t = spawn().await;
    let body = t.post_created("/v2/bills/validate", &bill_v2("JS-1")).await;
    assert_envelope(&body, "Created", "Documento con el código de referencia JS-1 registrado y validado con éxito");
    let data = &body["data"];
    assert!(data.get("bill").is_none(), "v2 data is flat");
    assert_eq!(data["number"], "SETP990000001");
    assert_eq!(data["reference_code"], "JS-1");
    assert_eq!(data["is_validated"], true);
    assert!(data["validated_at"].as_str().unwrap().ends_with('M'));
    assert_eq!(data["errors"], json!({}), "errors is an object keyed by DIAN rule");
    assert_eq!(data["send_email"], true);
    assert_eq!(data["document_type"], json!({"code": "01", "name": "Factura electrónica de Venta"}));
    assert_eq!(data["operation_type"]["code"], "10");
    let cufe = data["cufe"].as_str().unwrap();
    assert_eq!(cufe.len(), 96);
    assert_eq!(
        data["links"]["qr"],
        format!("https://catalogo-vpfe-hab.dian.gov.co/document/searchqr?documentkey={cufe}")
    );
    assert!(
        data["links"]["public_url"].as_str().unwrap().starts_with("https://app-sandbox.factus.com.co/documents/bills/")
    );
    assert_eq!(
        data["payment_details"],
        json!([{
            "payment_form": {"code": "2", "name": "Pago a crédito"},
            "payment_method": {"code": "10", "name": "Efectivo"},
            "reference_code": null, "amount": "47600.00", "due_date": "31-12-2026"
        }])
    );
    let customer = &data["customer"];
    assert_eq!(customer["identification_document"], json!({"code": "13", "name": "Cédula de ciudadanía"}));
    assert_eq!(customer["legal_organization"]["code"], "2");
    assert_eq!(customer["tribute"], json!({"code": "ZZ", "name": "No aplica"}));
    assert_eq!(customer["country"], json!({"code": "CO", "name": "Colombia"}));
    assert_eq!(customer["municipality"]["code"], "68679");
    assert_eq!(customer["municipality"]["department"]["name"], "Santander");
    let item = &data["items"][0];
    assert_eq!(item["quantity"], "1.00");
    assert_eq!(item["unit_measure"], json!({"code": "94", "name": "unidad"}));
    assert_eq!(item["standard_code"]["code"], "999");
    assert_eq!(item["price"], "50000.00", "the net price as sent");
    assert_eq!(item["discount"], "10000.00");
    assert_eq!(item["gross_value"], "40000.00");
    assert_eq!(
        item["taxes"],
        json!([{"tribute": {"code": "01", "name": "IVA"}, "is_excluded": false,
                "rates": [{"taxable_amount": "40000.00", "tax_amount": "7600.00", "rate": "19.00"}]}])
    );
    assert_eq!(item["total"], "47600.00");
    assert_eq!(data["totals"]["gross_amount"], "40000.00");
    assert_eq!(data["totals"]["tax_amount"], "7600.00");
    assert_eq!(data["totals"]["total"], "47600.00");
    assert_eq!(data["company"]["establishment"]["municipality"]["code"], "11001");
    assert_eq!(data["related_notes"], json!({"credit_notes": [], "debit_notes": []}));
}

#[tokio::test]
async fn a_v2_bill_shows_as_it_was_created() {
    let t = spawn().await;
    let created = t.create_bill_v2("SHOW-1").await;
    let shown = t.get_ok("/v2/bills/SETP990000001").await;
    assert_eq!(shown["status"], "OK");
    assert_eq!(shown["data"], created["data"]);
    let (status, missing) = t.get("/v2/bills/SETP990009999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(missing["message"], "No se encontró la factura con número SETP990009999");
}

#[tokio::test]
async fn a_v2_bill_also_reads_through_v1_with_its_ids() {
    let t = spawn().await;
    t.create_bill_v2("CROSS-1").await;
    let v1 = t.get_ok("/v1/bills/show/SETP990000001").await;
    assert_eq!(v1["data"]["bill"]["total"], "47600.00");
    assert_eq!(v1["data"]["customer"]["municipality"]["id"], 980, "68679 San Gil is v1 municipality 980");
    assert_eq!(v1["data"]["items"][0]["unit_measure"]["id"], 70, "unit 94 is v1 unit 70");
}

#[tokio::test]
async fn the_v2_list_filters_like_v1_and_by_creation_date() {
    let t = spawn().await;
    for reference in ["LIST-A", "LIST-B", "OTHER-C"] {
        t.create_bill_v2(reference).await;
    }
    let all = t.get_ok("/v2/bills?filter[per_page]=2").await;
    assert_eq!(all["data"]["pagination"]["total"], 3);
    assert_eq!(all["data"]["pagination"]["per_page"], 2);
    let first = &all["data"]["data"][0];
    assert_eq!(first["number"], "SETP990000003", "newest first");
    assert_eq!(first["is_validated"], true);
    assert_eq!(first["errors"], json!({}));
    assert_eq!(first["total"], "47600.00");
    assert_eq!(first["identification"], "123456789");

    assert_eq!(t.listed_total("/v2/bills?filter[reference_code]=list").await, 2);
    assert_eq!(t.listed_total("/v2/bills?filter[status]=0").await, 0);
    assert_eq!(t.listed_total("/v2/bills?filter[created_at][start_date]=2999-01-01").await, 0);
    assert_eq!(
        t.listed_total("/v2/bills?filter[created_at][start_date]=2000-01-01&filter[created_at][end_date]=2999-12-31")
            .await,
        3
    );
}

#[tokio::test]
async fn v2_downloads_carry_a_pdf_and_the_ubl_invoice() {
    let t = spawn().await;
    t.create_bill_v2("DL-1").await;
    let pdf = t.get_ok("/v2/bills/SETP990000001/download-pdf").await;
    let bytes = decoded(&pdf, "pdf_base_64_encoded");
    assert!(bytes.starts_with(b"%PDF"));
    let xml = t.get_ok("/v2/bills/SETP990000001/download-xml").await;
    let text = xml_of(&xml);
    assert!(text.contains("<cbc:PayableAmount currencyID=\"COP\">47600.00</cbc:PayableAmount>"), "{text}");
    assert_eq!(t.get("/v2/bills/SETP990000009/download-pdf").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn v2_send_email_validates_the_address() {
    let t = spawn().await;
    t.create_bill_v2("MAIL-1").await;
    t.assert_send_email_checks_the_address("/v2/bills/SETP990000001/send-email").await;
}

#[tokio::test]
async fn v2_events_list_what_was_registered_on_the_bill() {
    let t = spawn().await;
    t.create_bill_v2("EV-1").await;
    let (_, empty) = t.get("/v2/bills/SETP990000001/radian/events").await;
    assert_eq!(empty["data"], json!([]));
    t.register_event("SETP990000001", "030").await;
    let events = t.get_ok("/v2/bills/SETP990000001/radian/events").await;
    assert_eq!(events["data"][0]["event_code"], "030");
}

#[tokio::test]
async fn a_pending_v2_bill_can_be_deleted_by_reference_and_a_validated_one_cannot() {
    let t = spawn().await;
    t.add_fault(json!({"kind": "pending", "times": 1, "path": "/v2/bills/validate"})).await;
    let pending = t.create_bill_v2("DEL-1").await;
    assert_eq!(pending["data"]["is_validated"], false);
    assert_eq!(pending["data"]["validated_at"], Value::Null);
    t.create_bill_v2("DEL-2").await;
    let (status, body) = t.delete("/v2/bills/destroy/reference/DEL-1").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(t.delete("/v2/bills/destroy/reference/DEL-2").await.0, StatusCode::CONFLICT);
    assert_eq!(t.delete("/v2/bills/destroy/reference/NOPE").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn resending_a_pending_v2_bill_with_the_same_data_validates_it_without_a_new_number() {
    let t = spawn().await;
    t.add_fault(json!({"kind": "pending", "times": 1, "path": "/v2/bills/validate"})).await;
    t.create_bill_v2("RETRY-1").await;
    let again = t.create_bill_v2("RETRY-1").await;
    assert_eq!(again["data"]["number"], "SETP990000001");
    assert_eq!(again["data"]["is_validated"], true);
    assert_eq!(
        t.post("/v2/bills/validate", &bill_v2("RETRY-1")).await.0,
        StatusCode::CONFLICT,
        "a validated reference is not reused"
    );
}

#[tokio::test]
async fn the_attached_document_wraps_the_invoice_with_dians_validation() {
    let t = spawn().await;
    let created = t.create_bill_v2("AD-1").await;
    let body = t.get_ok("/v2/bills/SETP990000001/download-attached-document-xml").await;
    assert_file_name(&body, "ad");
    let text = xml_of(&body);
    let xml = roxmltree::Document::parse(&text).expect("well-formed XML");
    let root = xml.root_element();
    assert_eq!(root.tag_name().name(), "AttachedDocument");
    let text_of = |name: &str| root.descendants().find(|n| n.tag_name().name() == name).and_then(|n| n.text());
    assert_eq!(text_of("ParentDocumentID"), Some("SETP990000001"));
    assert_eq!(text_of("UUID"), created["data"]["cufe"].as_str());
    assert_eq!(text_of("ValidationResultCode"), Some("02"));
    let inner = text_of("Description").expect("the invoice inside");
    assert!(
        roxmltree::Document::parse(inner)
            .expect("inner XML")
            .root_element()
            .has_tag_name(("urn:oasis:names:specification:ubl:schema:xsd:Invoice-2", "Invoice"))
    );
    assert_eq!(t.get("/v2/bills/SETP990000009/download-attached-document-xml").await.0, StatusCode::NOT_FOUND);
}

/// `(name, data)` of each entry of a stored (uncompressed) ZIP, read from its local headers.
fn zip_entries(archive: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut entries = Vec::new();
    let mut at = 0;
    while archive[at..].starts_with(b"PK\x03\x04") {
        let u16_at = |i: usize| usize::from(u16::from_le_bytes([archive[i], archive[i + 1]]));
        let size = u32::from_le_bytes(archive[at + 18..at + 22].try_into().unwrap()) as usize;
        let (name_len, extra_len) = (u16_at(at + 26), u16_at(at + 28));
        let name_start = at + 30;
        let data_start = name_start + name_len + extra_len;
        let name = String::from_utf8(archive[name_start..name_start + name_len].to_vec()).unwrap();
        entries.push((name, archive[data_start..data_start + size].to_vec()));
        at = data_start + size;
    }
    entries
}

#[tokio::test]
async fn the_email_content_has_dians_subject_and_a_zip_of_pdf_and_attached_document() {
    let t = spawn().await;
    t.create_bill_v2("EMAIL-1").await;
    let body = t.get_ok("/v2/bills/SETP990000001/email-content").await;
    assert_eq!(body["data"]["subject"], "900825759;FACTUS SANDBOX S.A.S.;SETP990000001;01;FACTUS SANDBOX S.A.S.");
    let archive = decoded(&body, "attached_document");
    let entries = zip_entries(&archive);
    assert_eq!(entries.len(), 2);
    assert!(entries[0].0.starts_with("fv") && entries[0].0.ends_with(".pdf"));
    assert!(entries[0].1.starts_with(b"%PDF"));
    assert!(entries[1].0.starts_with("ad") && entries[1].0.ends_with(".xml"));
    assert!(String::from_utf8_lossy(&entries[1].1).contains("<AttachedDocument"));
}

fn person(extra: Value) -> Value {
    let mut body = json!({"identification_document_code": "13", "identification": "12345667", "dv": "",
                          "first_name": "Pepito", "last_name": "Perez", "job_title": "Contador"});
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    body
}

#[tokio::test]
async fn radian_events_are_emitted_on_a_bill_and_tacit_acceptance_needs_a_credit_sale() {
    let t = spawn().await;
    t.create_bill_v2("RAD-CREDIT").await;
    let (status, body) = t.post("/v2/bills/SETP990000001/radian/events/034", &person(json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"][0]["event_code"], "034");
    assert_eq!(body["data"][0]["number"], "AP1");
    let (status, body) = t.post("/v2/bills/SETP990000001/radian/events/031", &person(json!({}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["data"]["errors"]["claim_concept_code"].is_array(), "a claim needs its concept");
    let (status, body) =
        t.post("/v2/bills/SETP990000001/radian/events/031", &person(json!({"claim_concept_code": "02"}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"].as_array().unwrap().len(), 2);
    assert_eq!(
        t.post("/v2/bills/SETP990000001/radian/events/099", &person(json!({}))).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(t.post("/v2/bills/SETP990009999/radian/events/030", &person(json!({}))).await.0, StatusCode::NOT_FOUND);

    let mut cash = bill_v2("RAD-CASH");
    cash["payment_details"] = json!([{"payment_form": "1", "payment_method_code": "10", "amount": "47600.00"}]);
    t.post_created("/v2/bills/validate", &cash).await;
    let (status, body) = t.post("/v2/bills/SETP990000002/radian/events/034", &person(json!({}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body["data"]["errors"]["event_type"][0],
        "La aceptación tácita solo aplica a facturas con forma de pago a crédito."
    );
    let (_, events) = t.get("/v2/bills/SETP990000001/radian/events").await;
    assert_eq!(events["data"][1]["event_code"], "031");
}

#[tokio::test]
async fn any_document_xml_is_found_by_its_track_id() {
    let t = spawn().await;
    let created = t.create_bill_v2("TRACK-1").await;
    let cufe = created["data"]["cufe"].as_str().unwrap();
    let body = t.get_ok(&format!("/v2/documents/{cufe}/download-xml")).await;
    assert_file_name(&body, "fv");
    assert!(body["data"]["xml_base_64_encoded"].is_string());
    assert_eq!(t.get("/v2/documents/abc/download-xml").await.0, StatusCode::NOT_FOUND);
}
