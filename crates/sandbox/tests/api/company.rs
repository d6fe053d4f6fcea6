//! The company profile on v1: read, update (only the fields sent), logo upload (multipart field
//! `image`, checked for type and size) served at its `url_logo`.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{TestSandbox, spawn};

const BOUNDARY: &str = "company-test-boundary";

/// A 1×1 PNG.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\xdac\xf8\x0f\x00\x01\x01\x01\x00\x18\xdd\x8d\xb4\x00\x00\x00\x00IEND\xaeB`\x82";

fn multipart(field: &str, content_type: &str, bytes: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"logo\"\r\nContent-Type: {content_type}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend(format!("\r\n--{BOUNDARY}--\r\n").into_bytes());
    body
}

async fn upload(t: &TestSandbox, body: Vec<u8>) -> (StatusCode, Value) {
    let response = t
        .request(Method::POST, "/v1/company/logo")
        .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(body)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

#[tokio::test]
async fn the_company_profile_is_updated_with_the_fields_sent_and_keeps_its_nit() {
    let t = spawn().await;
    let (_, before) = t.get("/v1/company").await;
    assert_eq!(before["data"]["municipality"]["code"], "11001");
    assert_eq!(before["data"]["responsibilities"], json!([{"code": "O-13", "name": "Gran contribuyente"}]));

    // The body the later clients of the original service send.
    let (status, body) = t
        .put(
            "/v1/company",
            &json!({
                "legal_organization_code": "2", "names": "Ana", "surnames": "Gómez", "economic_activity": "4711",
                "phone": "3105550000", "address": "Calle 10 # 20-30", "tribute_code": "ZZ",
                "municipality_code": "05001", "responsibilities": "5", "email": "ana@example.com",
                "company": null, "trade_name": "Tienda Ana", "registration_code": null
            }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let data = &body["data"];
    assert_eq!(data["nit"], "900825759");
    assert_eq!(data["dv"], "7");
    assert_eq!(data["company"], Value::Null);
    assert_eq!(data["names"], "Ana");
    assert_eq!(data["graphic_representation_name"], "Ana Gómez");
    assert_eq!(data["trade_name"], "Tienda Ana");
    assert_eq!(data["economic_activity"], "4711");
    assert_eq!(data["legal_organization"], json!({"code": "2", "name": "Persona Natural"}));
    assert_eq!(data["tribute"], json!({"code": "ZZ", "name": "No aplica"}));
    assert_eq!(data["municipality"]["code"], "05001");
    assert_eq!(data["responsibilities"], json!([{"code": "R-99-PN", "name": "No aplica - Otros"}]));
    assert_ne!(data["updated_at"], before["data"]["updated_at"]);
    let (_, after) = t.get("/v1/company").await;
    assert_eq!(after["data"], body["data"]);

    // Only what is sent changes.
    let (status, body) =
        t.put("/v1/company", &json!({"phone": "6015551234", "responsibilities": ["O-13", "O-15"]})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["phone"], "6015551234");
    assert_eq!(body["data"]["names"], "Ana");
    assert_eq!(body["data"]["responsibilities"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn invalid_company_fields_answer_422_and_change_nothing() {
    let t = spawn().await;
    let (_, before) = t.get("/v1/company").await;
    let (status, body) = t
        .put(
            "/v1/company",
            &json!({"email": "not-an-email", "tribute_code": "99", "municipality_code": "00000",
                "economic_activity": "12", "legal_organization_code": "3", "responsibilities": ["X-1"],
                "names": "Changed"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let errors = &body["data"]["errors"];
    for field in [
        "email",
        "tribute_code",
        "municipality_code",
        "economic_activity",
        "legal_organization_code",
        "responsibilities",
    ] {
        assert!(errors[field].is_array(), "{field}: {body}");
    }
    let (_, after) = t.get("/v1/company").await;
    assert_eq!(after, before);
}

#[tokio::test]
async fn a_png_logo_is_stored_and_served_at_its_url() {
    let t = spawn().await;
    let (status, body) = upload(&t, multipart("image", "image/png", PNG)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let url = body["data"]["url_logo"].as_str().unwrap().to_owned();
    assert_eq!(body["data"]["url_log"], url, "the key the later clients read");
    assert!(url.starts_with(&t.base) && url.ends_with(".png"), "{url}");
    let (_, company) = t.get("/v1/company").await;
    assert_eq!(company["data"]["url_logo"], url);

    let served = t.client.get(&url).send().await.unwrap();
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.bytes().await.unwrap().as_ref(), PNG);
}

#[tokio::test]
async fn a_logo_that_is_missing_not_an_image_or_too_large_answers_422() {
    let t = spawn().await;
    let (status, body) = upload(&t, multipart("file", "image/png", PNG)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["data"]["errors"]["image"], json!(["El campo imagen es obligatorio."]));

    let (status, body) = upload(&t, multipart("image", "image/png", b"%PDF-1.4 not an image")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body["data"]["errors"]["image"],
        json!(["El campo imagen debe ser una imagen (PNG, JPEG, GIF o WebP)."])
    );

    let mut large = PNG.to_vec();
    large.resize(2048 * 1024 + 1, 0);
    let (status, body) = upload(&t, multipart("image", "image/png", &large)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["data"]["errors"]["image"], json!(["El campo imagen no debe ser mayor que 2048 kilobytes."]));

    assert_eq!(
        t.post("/v1/company/logo", &json!({"image": "x"})).await.0,
        StatusCode::UNPROCESSABLE_ENTITY,
        "JSON is not an upload"
    );
    let (_, company) = t.get("/v1/company").await;
    assert_eq!(company["data"]["url_logo"], Value::Null);
}
