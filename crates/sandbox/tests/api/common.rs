//! Shared helpers: a sandbox on port 0, a reqwest client and a logged-in token.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use factus_sandbox::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_PASSWORD_GRANT, Sandbox, SandboxConfig};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub struct TestSandbox {
    pub sandbox: Sandbox,
    pub client: reqwest::Client,
    pub base: String,
    pub token: String,
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().expect("reqwest client")
}

pub async fn spawn() -> TestSandbox {
    spawn_with(SandboxConfig::default()).await
}

pub async fn spawn_with(config: SandboxConfig) -> TestSandbox {
    let sandbox = Sandbox::start(config).await.expect("sandbox starts");
    let client = client();
    let base = sandbox.base_url();
    let (token, _) = login(&client, &base).await;
    TestSandbox { sandbox, client, base, token }
}

/// A configuration that keeps the sandbox's state in `dir/state.json`.
pub fn with_state_file(dir: &Path) -> SandboxConfig {
    SandboxConfig { state_file: Some(dir.join("state.json")), ..SandboxConfig::default() }
}

/// The base64 field `key` of an answer's `data`, decoded.
pub fn decoded(body: &Value, key: &str) -> Vec<u8> {
    STANDARD.decode(body["data"][key].as_str().unwrap_or_else(|| panic!("{key} in {body}"))).expect("base64")
}

/// The XML a download answer carries in `data.xml_base_64_encoded`, decoded.
pub fn xml_of(body: &Value) -> String {
    String::from_utf8(decoded(body, "xml_base_64_encoded")).expect("UTF-8 XML")
}

/// Asserts that a download answer's `data.file_name` starts with `prefix`.
pub fn assert_file_name(body: &Value, prefix: &str) {
    let name = body["data"]["file_name"].as_str().unwrap_or_else(|| panic!("file_name in {body}"));
    assert!(name.starts_with(prefix), "{name} does not start with {prefix}");
}

/// Asserts the envelope around every answer: its `status` word and its `message`.
pub fn assert_envelope(body: &Value, status: &str, message: &str) {
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["message"], message, "{body}");
}

/// A refresh grant of the default client.
pub fn refresh_grant(refresh_token: &str) -> [(&str, &str); 4] {
    [
        ("grant_type", "refresh_token"),
        ("client_id", DEFAULT_CLIENT_ID),
        ("client_secret", DEFAULT_CLIENT_SECRET),
        ("refresh_token", refresh_token),
    ]
}

/// Sends `request` and reads its JSON answer.
pub async fn json_of(request: reqwest::RequestBuilder) -> Value {
    request.send().await.expect("the sandbox answers").json().await.expect("a JSON body")
}

/// Password grant with the default credentials: (access, refresh).
pub async fn login(client: &reqwest::Client, base: &str) -> (String, String) {
    let response = client
        .post(format!("{base}/oauth/token"))
        .header("accept", "application/json")
        .form(&DEFAULT_PASSWORD_GRANT)
        .send()
        .await
        .expect("token request");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("token JSON");
    (
        body["access_token"].as_str().expect("access_token").to_owned(),
        body["refresh_token"].as_str().expect("refresh_token").to_owned(),
    )
}

async fn read(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let bytes = response.bytes().await.expect("body");
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|_| panic!("non-JSON body: {}", String::from_utf8_lossy(&bytes)))
    };
    (status, value)
}

impl TestSandbox {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request to `path` carrying the token, for what `get`, `post` and `delete` do not cover.
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, self.url(path)).bearer_auth(&self.token)
    }

    pub async fn put(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        read(self.request(Method::PUT, path).json(body).send().await.expect("PUT")).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        read(self.request(Method::PATCH, path).json(body).send().await.expect("PATCH")).await
    }

    /// `GET path`, which must answer 200; returns the body.
    pub async fn get_ok(&self, path: &str) -> Value {
        let (status, body) = self.get(path).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    /// `data.pagination.total` of the list at `path`, which must answer 200.
    pub async fn listed_total(&self, path: &str) -> u64 {
        self.get_ok(path).await["data"]["pagination"]["total"].as_u64().expect("a pagination total")
    }

    /// `POST path` (a bill's send-email) sends to a good address and answers 422 to a bad one.
    pub async fn assert_send_email_checks_the_address(&self, path: &str) {
        let (status, body) = self.post(path, &json!({"email": "cliente@example.com"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["message"], "Factura enviada al cliente con éxito");
        let (status, body) = self.post(path, &json!({"email": "nope"})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body["data"]["errors"]["email"].is_array(), "{body}");
    }

    /// Registers RADIAN event `code` on bill `number` through `/__sandbox`.
    pub async fn register_event(&self, number: &str, code: &str) {
        let path = format!("/__sandbox/bills/{number}/events");
        let response =
            self.client.post(self.url(&path)).json(&json!({"event_code": code})).send().await.expect("add event");
        assert_eq!(response.status(), StatusCode::CREATED);
    }

    /// Stops this sandbox and starts another on `config`, keeping the client and the token.
    pub async fn restart(self, config: SandboxConfig) -> TestSandbox {
        self.sandbox.shutdown().await;
        let sandbox = Sandbox::start(config).await.expect("sandbox restarts");
        TestSandbox { base: sandbox.base_url(), sandbox, client: self.client, token: self.token }
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let response = self.client.get(self.url(path)).bearer_auth(&self.token).send().await.expect("GET");
        read(response).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let response = self.client.post(self.url(path)).bearer_auth(&self.token).json(body).send().await.expect("POST");
        read(response).await
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        let response = self.client.delete(self.url(path)).bearer_auth(&self.token).send().await.expect("DELETE");
        read(response).await
    }

    /// `/__sandbox/*` calls carry no token.
    pub async fn admin_get(&self, path: &str) -> Value {
        let response = self.client.get(self.url(path)).send().await.expect("admin GET");
        let (status, body) = read(response).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body
    }

    pub async fn add_fault(&self, spec: Value) -> Value {
        let response = self.client.post(self.url("/__sandbox/faults")).json(&spec).send().await.expect("add fault");
        let (status, body) = read(response).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// Creates `bill(reference)` and returns the response body.
    pub async fn create_bill(&self, reference: &str) -> Value {
        self.create_bill_body(&bill(reference)).await
    }

    /// Creates a bill from `body`, asserting 201, and returns the response body.
    pub async fn create_bill_body(&self, body: &Value) -> Value {
        self.post_created("/v1/bills/validate", body).await
    }

    /// `POST path` with `body`, which must answer 201; returns the answer's body.
    pub async fn post_created(&self, path: &str, body: &Value) -> Value {
        let (status, answer) = self.post(path, body).await;
        assert_eq!(status, StatusCode::CREATED, "POST {path}: {answer}");
        answer
    }
}

/// The minimal invoice the gateway sends (docs/contract.md §3.6), one line at 100.5 incl. 19 %.
pub fn bill(reference: &str) -> Value {
    json!({
        "document": "01",
        "reference_code": reference,
        "payment_form": "1",
        "payment_method_code": "10",
        "customer": {
            "identification_document_id": 3,
            "identification": "1234567890",
            "legal_organization_id": 2,
            "tribute_id": 21,
            "names": "Juana Pérez",
            "email": "juana@example.com",
            "address": "Calle 1 # 2-3",
            "municipality_id": 169
        },
        "items": [{
            "code_reference": "P-1",
            "name": "Producto uno",
            "quantity": 2,
            "discount_rate": "0.00",
            "price": "100.5",
            "tax_rate": "19",
            "unit_measure_id": 70,
            "standard_code_id": 1,
            "is_excluded": 0,
            "tribute_id": 1
        }]
    })
}

/// A v2 bill shaped like the ones factus-js 2.x sends (its sandbox test): DIAN codes, a net
/// price of 50 000 with 20 % discount and 19 % IVA, paid on credit. 40 000 + 7 600 = 47 600.
pub fn bill_v2(reference: &str) -> Value {
    json!({
        "numbering_range_id": 8,
        "reference_code": reference,
        "payment_details": [{
            "payment_form": "2", "payment_method_code": "10", "amount": "47600.00", "due_date": "2026-12-31"
        }],
        "customer": {
            "identification_document_code": "13",
            "identification": "123456789",
            "dv": "3",
            "company": "Enigma SAS",
            "trade_name": "",
            "names": "Alan Turing",
            "address": "calle 1 # 2-68",
            "email": "alanturing@enigmasas.com",
            "phone": "1234567890",
            "legal_organization_code": "2",
            "tribute_code": "ZZ",
            "country_code": "CO",
            "municipality_code": "68679"
        },
        "items": [{
            "code_reference": "12345",
            "name": "producto de prueba",
            "quantity": "1.00",
            "discount_rate": "20.00",
            "price": "50000.00",
            "unit_measure_code": "94",
            "standard_code": "999",
            "taxes": [{"code": "01", "rate": "19.00"}]
        }]
    })
}

impl TestSandbox {
    /// Creates `bill_v2(reference)` on `/v2/bills/validate` and returns the response body.
    pub async fn create_bill_v2(&self, reference: &str) -> Value {
        self.post_created("/v2/bills/validate", &bill_v2(reference)).await
    }

    /// `PUT /__sandbox/api-version`.
    pub async fn set_api_version(&self, version: &str) {
        let response = self
            .client
            .put(self.url("/__sandbox/api-version"))
            .json(&json!({"api_version": version}))
            .send()
            .await
            .expect("set api version");
        assert_eq!(response.status(), StatusCode::OK);
    }
}
