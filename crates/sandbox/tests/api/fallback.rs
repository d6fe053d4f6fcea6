//! Unknown routes and wrong methods answer their JSON 404/405 only after reading the request
//! body, so a client that is still uploading (a multipart logo, say) reads the answer instead of
//! failing with a broken pipe or a reset connection.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{spawn, spawn_with};

const BOUNDARY: &str = "sandbox-test-boundary";

/// A multipart body with one `image` field of `size` bytes.
fn multipart(size: usize) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"logo.png\"\r\nContent-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend(std::iter::repeat_n(0x5a, size));
    body.extend(format!("\r\n--{BOUNDARY}--\r\n").into_bytes());
    body
}

/// A plain client, like many scripts: it writes the whole request, then reads the answer. If the
/// server answers and closes without reading the body, the write fails (broken pipe, reset).
async fn upload_then_read(base: &str, method: &str, path: &str, token: Option<&str>) -> (u16, Value) {
    let body = multipart(16 * 1024 * 1024);
    let host = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\n{auth}Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body).await.expect("the server reads the body instead of closing the connection");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("the answer");
    let text = String::from_utf8_lossy(&answer);
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let json = text.split("\r\n\r\n").nth(1).and_then(|b| serde_json::from_str(b).ok()).unwrap_or(Value::Null);
    (status, json)
}

async fn send(method: reqwest::Method, url: String, token: Option<&str>) -> (StatusCode, Value) {
    let mut request = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .request(method, url)
        .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .header("accept", "application/json")
        .body(multipart(16 * 1024 * 1024));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the answer arrives instead of a broken pipe");
    let status = response.status();
    (status, response.json().await.expect("JSON answer"))
}

#[tokio::test]
async fn a_large_multipart_body_to_an_unknown_route_gets_the_json_404() {
    let t = spawn().await;
    for _ in 0..3 {
        let (status, body) = send(reqwest::Method::POST, t.url("/v1/companies/logo"), Some(&t.token)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body, json!({"message": "The route v1/companies/logo could not be found."}));
    }
    let (status, body) = upload_then_read(&t.base, "POST", "/v1/companies/logo", Some(&t.token)).await;
    assert_eq!(status, 404);
    assert_eq!(body, json!({"message": "The route v1/companies/logo could not be found."}));
}

#[tokio::test]
async fn a_large_multipart_body_with_a_wrong_method_gets_the_json_405() {
    let t = spawn().await;
    let (status, body) = send(reqwest::Method::PUT, t.url("/v1/bills"), Some(&t.token)).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body, json!({"message": "The PUT method is not supported for route v1/bills."}));
    let (status, body) = upload_then_read(&t.base, "PUT", "/v1/bills", Some(&t.token)).await;
    assert_eq!(status, 405);
    assert_eq!(body["message"], "The PUT method is not supported for route v1/bills.");
}

#[tokio::test]
async fn a_large_multipart_body_without_a_token_gets_the_401() {
    let t = spawn().await;
    let (status, body) = send(reqwest::Method::POST, t.url("/v1/bills/validate"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, json!({"message": "Unauthenticated."}));
    let (status, body) = upload_then_read(&t.base, "POST", "/v1/bills/validate", None).await;
    assert_eq!(status, 401);
    assert_eq!(body, json!({"message": "Unauthenticated."}));
}

#[tokio::test]
async fn a_large_upload_past_the_rate_limit_or_hit_by_a_fault_gets_its_answer() {
    let t = spawn_with(factus_sandbox::SandboxConfig { rate_limit: Some(1), ..Default::default() }).await;
    t.get_ok("/v1/company").await;
    let (status, body) = upload_then_read(&t.base, "POST", "/v1/company/logo", Some(&t.token)).await;
    assert_eq!(status, 429);
    assert_eq!(body, json!({"message": "Too Many Attempts."}));

    let t = spawn().await;
    t.add_fault(json!({"kind": "status", "status": 503, "path": "/v1/company/logo", "times": 1})).await;
    let (status, body) = upload_then_read(&t.base, "POST", "/v1/company/logo", Some(&t.token)).await;
    assert_eq!(status, 503);
    assert_eq!(body, json!({"message": "Service Unavailable"}));
    // A logo far over the limit is read whole and refused with the 422, not a 413.
    let (status, body) = upload_then_read(&t.base, "POST", "/v1/company/logo", Some(&t.token)).await;
    assert_eq!(status, 422);
    assert_eq!(
        body["data"]["errors"]["image"],
        json!(["El campo imagen debe ser una imagen (PNG, JPEG, GIF o WebP)."])
    );
}
