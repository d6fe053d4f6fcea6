//! v1 support documents (documento soporte): provider instead of customer, items without taxes,
//! their own range (`SEDS`), ledger and pending block; show, list, PDF, XML and delete.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{TestSandbox, assert_envelope, assert_file_name, decoded, spawn, xml_of};

/// A purchase of two services at 50,000 from a resident natural person (cédula de extranjería).
pub fn support_document(reference: &str) -> Value {
    json!({
        "reference_code": reference,
        "numbering_range_id": 10,
        "payment_method_code": "10",
        "observation": "Compra a no obligado",
        "provider": {
            "identification_document_id": 5,
            "identification": "987654",
            "names": "Pedro Proveedor",
            "address": "Carrera 7 # 8-9",
            "email": "pedro@example.com",
            "phone": "3001234567",
            "is_resident": 1,
            "country_code": "CO",
            "municipality_id": 169
        },
        "items": [{
            "code_reference": "S-1",
            "name": "Servicio de mantenimiento",
            "quantity": 2,
            "discount_rate": 0,
            "price": "50000.00",
            "unit_measure_id": 70,
            "standard_code_id": 1,
            "withholding_taxes": [{"code": "06", "withholding_tax_rate": "4.00"}]
        }]
    })
}

async fn create(t: &TestSandbox, body: &Value) -> Value {
    t.post_created("/v1/support-documents/validate", body).await
}

#[tokio::test]
async fn a_support_document_is_numbered_on_seds_with_a_cuds_and_no_taxes() {
    let t = spawn().await;
    let body = create(&t, &support_document("DS-1")).await;
    assert_envelope(&body, "Created", "Documento con el código de referencia DS-1 registrado y validado con éxito");
    let document = &body["data"]["support_document"];
    assert_eq!(document["number"], "SEDS984000001");
    assert_eq!(document["reference_code"], "DS-1");
    assert_eq!(document["status"], 1);
    assert_eq!(document["cuds"].as_str().unwrap().len(), 96);
    assert_eq!(document["gross_value"], "100000.00");
    assert_eq!(document["tax_amount"], "0.00");
    assert_eq!(document["total"], "100000.00");
    assert_eq!(document["errors"], json!([]));
    assert_eq!(document["payment_method"], json!({"code": "10", "name": "Efectivo"}));
    let provider = &body["data"]["provider"];
    assert_eq!(provider["identification"], "987654");
    assert_eq!(provider["names"], "Pedro Proveedor");
    assert_eq!(provider["identification_document"]["code"], "22");
    assert_eq!(provider["country"], json!({"id": 46, "code": "CO", "name": "Colombia"}));
    assert_eq!(provider["municipality"]["code"], "11001");
    let item = &body["data"]["items"][0];
    assert_eq!(item["is_excluded"], 1);
    assert_eq!(item["tax_amount"], "0.00");
    assert_eq!(item["total"], 100000);
    assert_eq!(body["data"]["withholding_taxes"][0]["value"], "4000.00", "ReteRenta 4 % of the base");
    assert_eq!(body["data"]["adjustment_notes"], json!([]));
    assert_eq!(body["data"]["numbering_range"]["prefix"], "SEDS");

    // Its own numbering: a bill does not take a SEDS number and vice versa.
    assert_eq!(t.create_bill("B-DS").await["data"]["bill"]["number"], "SETP990000001");
    let second = create(&t, &support_document("DS-2")).await;
    assert_eq!(second["data"]["support_document"]["number"], "SEDS984000002");
    let (_, range) = t.get("/v1/numbering-ranges/10").await;
    assert_eq!(range["data"]["document"], "24");
    assert_eq!(range["data"]["current"], 984000003);
}

#[tokio::test]
async fn support_documents_can_be_shown_listed_downloaded_and_not_reused() {
    let t = spawn().await;
    let created = create(&t, &support_document("DS-3")).await;
    let cuds = created["data"]["support_document"]["cuds"].as_str().unwrap().to_owned();
    assert_eq!(t.post("/v1/support-documents/validate", &support_document("DS-3")).await.0, StatusCode::CONFLICT);

    let shown = t.get_ok("/v1/support-documents/show/SEDS984000001").await;
    assert_eq!(shown["data"], created["data"]);
    let (status, missing) = t.get("/v1/support-documents/show/SEDS1").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(missing["message"], "No se encontró el documento soporte con número SEDS1");

    let list = t.get_ok("/v1/support-documents?filter[names]=pedro").await;
    assert_eq!(list["data"]["pagination"]["total"], 1);
    assert_eq!(list["data"]["data"][0]["number"], "SEDS984000001");
    assert_eq!(list["data"]["data"][0]["identification"], "987654");
    let (_, none) = t.get("/v1/support-documents?filter[identification]=111").await;
    assert_eq!(none["data"]["data"], json!([]));

    let pdf = t.get_ok("/v1/support-documents/download-pdf/SEDS984000001").await;
    let file_name = pdf["data"]["file_name"].as_str().unwrap();
    assert!(file_name.starts_with("ds0900825759000"), "{file_name}");
    let bytes = decoded(&pdf, "pdf_base_64_encoded");
    assert!(bytes.starts_with(b"%PDF-1.") && bytes.ends_with(b"%%EOF\n"));
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("DOCUMENTO SOPORTE"));
    assert!(text.contains("SEDS984000001"));
    assert!(text.contains("Pedro Proveedor"));
    assert!(text.contains(&cuds));
    assert!(text.contains("Total: 100000.00"));

    let xml = t.get_ok("/v1/support-documents/download-xml/SEDS984000001").await;
    assert_file_name(&xml, "ds");
    let text = xml_of(&xml);
    let doc = roxmltree::Document::parse(&text).expect("well-formed XML");
    assert_eq!(doc.root_element().tag_name().name(), "Invoice");
    let first = |name: &str| doc.descendants().find(|n| n.tag_name().name() == name).unwrap();
    assert_eq!(first("InvoiceTypeCode").text(), Some("05"));
    assert_eq!(first("CustomizationID").text(), Some("10"), "resident provider");
    assert_eq!(first("UUID").attribute("schemeName"), Some("CUDS-SHA384"));
    assert_eq!(first("UUID").text(), Some(cuds.as_str()));
    assert_eq!(first("PayableAmount").text(), Some("100000.00"));
    // The provider sells: it is the supplier party; the issuing company is the customer.
    let company_id = |party: &str| {
        first(party).descendants().find(|n| n.tag_name().name() == "CompanyID").and_then(|n| n.text()).unwrap()
    };
    assert_eq!(company_id("AccountingSupplierParty"), "987654");
    assert_eq!(company_id("AccountingCustomerParty"), "900825759");

    assert_eq!(t.get("/v1/support-documents/download-pdf/SEDS9").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_pending_support_document_can_be_deleted_by_reference_and_a_validated_one_cannot() {
    let t = spawn().await;
    create(&t, &support_document("DS-4")).await;
    assert_eq!(t.delete("/v1/support-documents/reference/DS-4").await.0, StatusCode::CONFLICT);
    let (status, body) = t.delete("/v1/support-documents/reference/DS-404").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["message"], "No se encontró el documento con código de referencia DS-404");

    t.add_fault(json!({"kind": "pending", "path": "/v1/support-documents/validate", "times": 1})).await;
    let pending = create(&t, &support_document("DS-5")).await;
    assert_eq!(pending["data"]["support_document"]["status"], 0);
    let (status, body) = t.delete("/v1/support-documents/reference/DS-5").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["message"], "Documento con código de referencia DS-5 eliminado con éxito");
    assert_eq!(t.get("/v1/support-documents/show/SEDS984000002").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_provider_nit_with_a_wrong_check_digit_is_rejected_with_dsaj24b_and_blocks_support_documents() {
    let t = spawn().await;
    let mut body = support_document("DS-6");
    body["provider"]["identification_document_id"] = json!(6);
    body["provider"]["identification"] = json!("890903938");
    body["provider"]["dv"] = json!("2");
    let (status, response) = t.post("/v1/support-documents/validate", &body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(response["data"]["errors"], json!({"DSAJ24b": "Regla: DSAJ24b, Rechazo: El DV del NIT no es correcto"}));
    let (_, stuck) = t.get("/v1/support-documents?filter[status]=0").await;
    assert_eq!(stuck["data"]["data"][0]["reference_code"], "DS-6");

    let (status, response) = t.post("/v1/support-documents/validate", &support_document("DS-7")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        response,
        json!({"status": "Conflict", "message": "Se encontró un documento soporte pendiente por enviar a la DIAN"})
    );
    assert_eq!(t.create_bill("B-DS-2").await["data"]["bill"]["status"], 1, "bills are another family");
    assert_eq!(t.admin_get("/__sandbox/blockers").await["support_documents"]["reference_code"], "DS-6");

    t.delete("/v1/support-documents/reference/DS-6").await;
    body["provider"]["dv"] = json!("8");
    body["reference_code"] = json!("DS-7");
    let created = create(&t, &body).await;
    assert_eq!(created["data"]["provider"]["dv"], "8");
    assert_eq!(created["data"]["provider"]["legal_organization"]["id"], 1);
}

#[tokio::test]
async fn provider_and_item_rules_answer_422_with_laravel_paths() {
    let t = spawn().await;
    let mut body = support_document("DS-8");
    body["provider"]["identification_document_id"] = json!(3);
    body["provider"].as_object_mut().unwrap().remove("names");
    body["provider"].as_object_mut().unwrap().remove("municipality_id");
    body["items"][0].as_object_mut().unwrap().remove("price");
    body["numbering_range_id"] = json!(8);
    let (status, response) = t.post("/v1/support-documents/validate", &body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let errors = &response["data"]["errors"];
    assert_eq!(
        errors["provider.identification_document_id"],
        json!(["El campo provider.identification_document_id es inválido."])
    );
    assert_eq!(errors["provider.names"], json!(["El campo provider.names es obligatorio."]));
    assert_eq!(errors["provider.municipality_id"], json!(["El campo provider.municipality_id es obligatorio."]));
    assert_eq!(errors["items.0.price"], json!(["El campo items.0.price es obligatorio."]));
    assert_eq!(errors["numbering_range_id"], json!(["El campo id rango de numeración es inválido."]));

    let (status, response) = t.post("/v1/support-documents/validate", &json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["reference_code", "provider", "items"] {
        assert!(response["data"]["errors"].get(field).is_some(), "{field}: {response}");
    }

    // A provider abroad needs no municipality.
    let mut abroad = support_document("DS-9");
    abroad["provider"]["is_resident"] = json!(0);
    abroad["provider"]["identification_document_id"] = json!(7);
    abroad["provider"]["country_code"] = json!("US");
    abroad["provider"].as_object_mut().unwrap().remove("municipality_id");
    let created = create(&t, &abroad).await;
    assert_eq!(created["data"]["provider"]["country"]["code"], "US");
    assert_eq!(created["data"]["provider"]["municipality"], Value::Null);
    assert_eq!(created["data"]["provider"]["is_resident"], 0);
    abroad["reference_code"] = json!("DS-10");
    abroad["provider"]["country_code"] = json!("XX");
    let (status, response) = t.post("/v1/support-documents/validate", &abroad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        response["data"]["errors"]["provider.country_code"],
        json!(["El campo provider.country_code es inválido."])
    );
}
