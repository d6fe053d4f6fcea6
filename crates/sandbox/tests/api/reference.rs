use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{TestSandbox, spawn};

#[tokio::test]
async fn numbering_ranges_list_the_invoice_range_8_a_credit_note_range_and_a_support_document_range() {
    let t = spawn().await;
    let body = t.get_ok("/v1/numbering-ranges").await;
    let ranges = body["data"]["data"].as_array().unwrap();
    assert_eq!(ranges.len(), 3);
    let invoice = &ranges[0];
    assert_eq!(invoice["id"], 8);
    assert_eq!(invoice["document"], "Factura de Venta");
    assert_eq!(invoice["prefix"], "SETP");
    assert_eq!(invoice["from"], 990_000_000);
    assert_eq!(invoice["to"], 995_000_000);
    assert_eq!(invoice["current"], 990_000_001);
    assert_eq!(invoice["resolution_number"], "18760000001");
    assert_eq!(invoice["is_active"], 1);
    assert_eq!(invoice["is_expired"], false);
    assert!(invoice["technical_key"].is_string());
    assert_eq!(ranges[1]["document"], "Nota Crédito");
    assert_eq!(ranges[2]["document"], "Documento Soporte");
    assert_eq!(ranges[2]["prefix"], "SEDS");
    assert_eq!(body["data"]["pagination"]["total"], 3);

    let (_, body) = t.get("/v1/numbering-ranges?filter[document]=22").await;
    assert_eq!(body["data"]["data"][0]["id"], 9);
    let body = t.get_ok("/v1/numbering-ranges/8").await;
    assert_eq!(body["data"]["document"], "21");
    assert_eq!(body["data"]["document_name"], "Factura de Venta");
    assert_eq!(t.get("/v1/numbering-ranges/77").await.0, StatusCode::NOT_FOUND);
}

/// The entries of the catalogue at `path`.
async fn catalogue(t: &TestSandbox, path: &str) -> Vec<Value> {
    t.get_ok(path).await["data"].as_array().expect("a list of entries").clone()
}

/// The catalogue at `path` has `len` entries, `entry` among them at the place its id gives.
async fn assert_catalogue(t: &TestSandbox, path: &str, len: usize, entry: Value) {
    let all = catalogue(t, path).await;
    assert_eq!(all.len(), len);
    let id = entry["id"].as_u64().expect("an id") as usize;
    assert_eq!(all[id - 1], entry);
}

#[tokio::test]
async fn the_municipality_catalogue_has_1122_entries_with_bogota_as_169() {
    let t = spawn().await;
    let body = t.get_ok("/v1/municipalities").await;
    assert_eq!(body["status"], "OK");
    let all = body["data"].as_array().unwrap();
    assert_eq!(all.len(), 1122);
    assert_eq!(all[168]["id"], 169);
    assert_eq!(all[168]["code"], "11001");
    assert!(all[168]["department"].is_string());
    let san_gil = catalogue(&t, "/v1/municipalities?name=san%20gil").await;
    assert_eq!(san_gil, [json!({"id": 980, "code": "68679", "name": "San Gil", "department": "Santander"})]);
}

#[tokio::test]
async fn the_country_catalogue_has_249_entries_with_colombia_as_46() {
    let t = spawn().await;
    assert_catalogue(&t, "/v1/countries", 249, json!({"id": 46, "code": "CO", "name": "Colombia"})).await;
    assert_eq!(catalogue(&t, "/v1/countries?name=colom").await[0]["code"], "CO");
}

#[tokio::test]
async fn the_unit_catalogue_has_1093_entries_with_unidad_as_70() {
    let t = spawn().await;
    assert_catalogue(&t, "/v1/measurement-units", 1093, json!({"id": 70, "code": "94", "name": "unidad"})).await;
    assert!(catalogue(&t, "/v1/measurement-units?name=kilogramo").await.iter().any(|u| u["id"] == 414));
}

#[tokio::test]
async fn product_tributes_list_iva_as_1_and_filter_by_name() {
    let t = spawn().await;
    let all = catalogue(&t, "/v1/tributes/products").await;
    assert_eq!(all.len(), 17);
    assert_eq!(all[0]["id"], 1);
    assert_eq!(all[0]["code"], "01");
    assert_eq!(all[0]["name"], "IVA");
    assert!(all[0]["description"].is_string());
    assert_eq!(catalogue(&t, "/v1/tributes/products?name=ReteRenta").await[0]["id"], 6);
}

#[tokio::test]
async fn the_acquirer_lookup_answers_dian_fixtures_invoiced_customers_and_404() {
    let t = spawn().await;
    let body = t.get_ok("/v1/dian/acquirer?identification_document_id=3&identification_number=1399993").await;
    assert_eq!(body["data"]["name"], "Nombre Cédula de ciudadanía 3");
    assert!(body["data"]["email"].is_string());

    t.create_bill("ACQ-1").await;
    let (_, body) = t.get("/v1/dian/acquirer?identification_document_id=3&identification_number=1234567890").await;
    assert_eq!(body["data"], json!({"name": "Juana Pérez", "email": "juana@example.com"}));

    let (status, body) = t.get("/v1/dian/acquirer?identification_document_id=3&identification_number=42").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({"message": "No se encontró el adquirente"}));
    assert_eq!(t.get("/v1/dian/acquirer").await.0, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_company_endpoint_describes_the_issuer() {
    let t = spawn().await;
    let body = t.get_ok("/v1/company").await;
    assert_eq!(body["data"]["nit"], "900825759");
    assert_eq!(body["data"]["dv"], "7");
}
