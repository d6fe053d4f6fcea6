// The `/api` black-box suite, included once per Factus API version by
// `tests/later_api_black_box.rs` (`FACTUS_API` is the version of the sandbox's account and of
// the service's `FACTUS_API_VERSION`).

use std::time::Duration;

use factus_sandbox::{
    DEFAULT_PASSWORD, DEFAULT_USERNAME, Sandbox, SandboxConfig,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{REFERENCE_TABLES, Reply, SMALL_PNG, Served, keys_of, multipart_file, send, valid_invoice};

const SECRET_KEY: &str = "later-api-black-box-secret-key-0123456789";
/// The development admin created on first start when `ADMIN_PASSWORD` is unset.
const ADMIN_PASSWORD: &str = "admin123";
const PATIENCE: Duration = Duration::from_secs(30);
/// The later original's 403 for a key it does not accept.
const WRONG_KEY: &str = "API Key inválida o ausente.";
const STRING_BODY_HINT: &str = "Error de validación: Parece que se ha enviado una cadena (string) en lugar de un objeto JSON válido. Si usas Postman, asegúrate de que el 'Body' esté configurado como 'raw' y el formato sea 'JSON'.";

/// The sandbox and the service in front of it, with an admin's bearer token (to manage keys),
/// an API key of the admin, and a Factus token obtained through `/api/auth/factus/login`.
struct TestApp {
    base: String,
    http: reqwest::Client,
    sandbox: Sandbox,
    bearer: String,
    key: String,
    factus_token: String,
    _served: Served,
}

/// The bare answers of the `/api` routes.
trait Bare {
    /// A 200 with a bare JSON body (no envelope); returns it.
    fn ok(&self) -> Value;
}

impl Bare for Reply {
    #[track_caller]
    fn ok(&self) -> Value {
        assert_eq!(self.status, StatusCode::OK, "body: {}", self.text);
        let body = self.json();
        assert!(body.get("success").is_none() && body.get("data").is_none(), "an envelope: {}", self.text);
        body
    }
}

impl TestApp {
    async fn start() -> Self {
        Self::start_with(Vec::new()).await
    }

    async fn start_with(env: Vec<(&'static str, String)>) -> Self {
        let sandbox = Sandbox::start(SandboxConfig { api_version: FACTUS_API, ..SandboxConfig::default() })
            .await
            .expect("the sandbox starts");
        let mut variables = vec![
            ("FACTUS_API_VERSION", FACTUS_API.as_str().to_owned()),
            ("AUTH_USER_CACHE_SECS", "0".to_owned()),
        ];
        variables.extend(env);
        let served = Served::start(sandbox.base_url(), SECRET_KEY, variables).await;
        let http = reqwest::Client::builder()
            .timeout(PATIENCE)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client");
        let bearer = served.token(&http, "admin", ADMIN_PASSWORD).await;
        let mut app = Self {
            base: served.base.clone(),
            http,
            sandbox,
            bearer,
            key: String::new(),
            factus_token: String::new(),
            _served: served,
        };
        app.key = app.create_key("later-client", "admin").await;
        let token = app.factus_login(DEFAULT_USERNAME, DEFAULT_PASSWORD).await.ok();
        app.factus_token = token["access_token"].as_str().expect("a Factus token").to_owned();
        app
    }

    /// An API key for `username`, created by the admin over `/api/v1/api-keys`.
    async fn create_key(&self, name: &str, username: &str) -> String {
        let created = send(
            self.http
                .post(format!("{}/api/v1/api-keys", self.base))
                .bearer_auth(&self.bearer)
                .json(&json!({ "name": name, "username": username })),
        )
        .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        created.json()["data"]["key"].as_str().expect("the key").to_owned()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request with nothing of ours.
    fn anonymous(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, self.url(path))
    }

    /// A request with the API key only.
    fn keyed(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.anonymous(method, path).header("X-API-Key", &self.key)
    }

    /// A request with the API key and `X-Factus-Token`, as the later clients send them.
    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.keyed(method, path).header("X-Factus-Token", &self.factus_token)
    }

    async fn get(&self, path: &str) -> Reply {
        send(self.request(Method::GET, path)).await
    }

    async fn post(&self, path: &str, body: &Value) -> Reply {
        send(self.request(Method::POST, path).json(body)).await
    }

    async fn factus_login(&self, email: &str, password: &str) -> Reply {
        send(self.keyed(Method::POST, "/api/auth/factus/login").json(&json!({ "email": email, "password": password })))
            .await
    }

    /// Creates `invoice` through `/api/invoices/` and returns the answer, asserting success.
    async fn issue(&self, invoice: &Value) -> Value {
        self.post("/api/invoices/", invoice).await.ok()
    }

    async fn fault(&self, spec: Value) {
        let response = self
            .http
            .post(format!("{}/__sandbox/faults", self.sandbox.base_url()))
            .json(&spec)
            .send()
            .await
            .expect("a fault");
        assert_eq!(response.status(), StatusCode::CREATED, "fault {spec} refused: {:?}", response.text().await);
    }

    /// Calls the sandbox received, per route template.
    async fn upstream_requests(&self) -> Value {
        let response =
            self.http.get(format!("{}/__sandbox/requests", self.sandbox.base_url())).send().await.expect("counts");
        response.json().await.expect("a JSON body")
    }
}

/// The create body of the later original's Postman collection.
fn postman_invoice(reference: &str) -> Value {
    json!({
        "numbering_range_prefix": "SETP",
        "document_type": "invoice",
        "reference_code": reference,
        "observation": "Venta de mostrador",
        "payment_method_code": "10",
        "payment_form": "cash",
        "customer": {
            "document_type": "CC", "identification": "123456789", "names": "Juan Perez",
            "address": "Calle 1 # 2-3", "email": "juan@example.com", "phone": "3001234567",
            "municipality_code": "05001", "organization_type": "person", "tribute": "ZZ"
        },
        "items": [{
            "code_reference": "P-001", "name": "Producto", "quantity": 1, "discount_rate": "0.00",
            "price": "10000.00", "tax_rate": "19.00", "unit_measure_code": "94", "standard_code": "1",
            "is_excluded": false, "tribute": "IVA"
        }]
    })
}

/// The same sale in the seed's body, as a `/api/v1` client sends it.
fn seed_invoice(reference: &str) -> Value {
    let mut invoice = valid_invoice(reference);
    invoice["customer"]["municipality_id"] = json!(80);
    invoice
}

/// Every route of the later generation that needs a key, with a body the later clients send.
fn keyed_routes() -> Vec<(Method, &'static str, Option<Value>)> {
    vec![
        (Method::POST, "/api/auth/factus/login", Some(json!({ "email": DEFAULT_USERNAME, "password": DEFAULT_PASSWORD }))),
        (Method::POST, "/api/auth/factus/refresh", Some(json!({ "refresh_token": "x" }))),
        (Method::POST, "/api/invoices/", Some(postman_invoice("FAC-NOKEY"))),
        (Method::POST, "/api/invoices", Some(postman_invoice("FAC-NOKEY"))),
        (Method::GET, "/api/invoices/SETP990000001", None),
        (Method::GET, "/api/invoices/SETP990000001/pdf", None),
        (Method::GET, "/api/invoices/SETP990000001/xml", None),
        (Method::GET, "/api/invoices/SETP990000001/events", None),
        (Method::POST, "/api/invoices/SETP990000001/send-email", Some(json!({ "email": "cliente@example.com" }))),
        (Method::DELETE, "/api/invoices/reference/FAC-1", None),
        (Method::GET, "/api/lookups/reference-tables", None),
        (Method::GET, "/api/lookups/municipalities", None),
        (Method::GET, "/api/lookups/taxes", None),
        (Method::GET, "/api/lookups/units", None),
        (Method::GET, "/api/lookups/countries?name=colombia", None),
        (Method::GET, "/api/lookups/acquirer?identification_document_type=CC&identification_number=1399991", None),
    ]
}

// ---------------------------------------------------------------------------------------------
// Health and authentication
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn health_answers_ok_at_the_root_and_under_api_without_a_key() {
    let app = TestApp::start().await;

    for path in ["/health", "/api/health"] {
        assert_eq!(send(app.anonymous(Method::GET, path)).await.ok(), json!({ "status": "ok" }), "{path}");
    }
}

#[tokio::test]
async fn without_a_key_every_route_answers_not_authenticated_with_the_api_key_challenge_and_factus_is_not_called() {
    let app = TestApp::start().await;
    let before = app.upstream_requests().await;

    for (method, path, body) in keyed_routes() {
        let mut request = app.anonymous(method.clone(), path).header("X-Factus-Token", &app.factus_token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let reply = send(request).await;
        reply.detail(StatusCode::UNAUTHORIZED, "Not authenticated");
        assert_eq!(reply.header("www-authenticate"), Some("APIKey"), "{method} {path}");
    }
    // An empty key is no key; a bearer token does not stand in for it under /api.
    send(app.anonymous(Method::GET, "/api/lookups/reference-tables").header("X-API-Key", ""))
        .await
        .detail(StatusCode::UNAUTHORIZED, "Not authenticated");
    send(app.anonymous(Method::GET, "/api/lookups/reference-tables").bearer_auth(&app.bearer))
        .await
        .detail(StatusCode::UNAUTHORIZED, "Not authenticated");
    assert_eq!(app.upstream_requests().await, before);
}

#[tokio::test]
async fn a_wrong_a_revoked_or_a_disabled_users_key_answers_the_later_403() {
    let app = TestApp::start().await;
    let wrong = format!("fapi_{}", "0".repeat(64));

    for (method, path, body) in keyed_routes() {
        let mut request = app.anonymous(method.clone(), path).header("X-API-Key", &wrong);
        if let Some(body) = body {
            request = request.json(&body);
        }
        send(request).await.detail(StatusCode::FORBIDDEN, WRONG_KEY);
    }
    send(app.anonymous(Method::GET, "/api/lookups/reference-tables").header("X-API-Key", "not-a-key"))
        .await
        .detail(StatusCode::FORBIDDEN, WRONG_KEY);

    // Revoked: refused at once (the user cache is off in this suite).
    let listed = send(app.http.get(app.url("/api/v1/api-keys")).bearer_auth(&app.bearer)).await.json();
    let id = listed["data"].as_array().expect("keys")[0]["id"].as_str().expect("an id").to_owned();
    let revoked =
        send(app.http.delete(app.url(&format!("/api/v1/api-keys/{id}"))).bearer_auth(&app.bearer)).await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text);
    send(app.keyed(Method::GET, "/api/lookups/reference-tables")).await.detail(StatusCode::FORBIDDEN, WRONG_KEY);

    // The key of a user who is then disabled.
    let user = send(
        app.http
            .post(app.url("/api/v1/users"))
            .bearer_auth(&app.bearer)
            .json(&json!({ "username": "erp", "password": "erp-password-123", "role": "user" })),
    )
    .await;
    assert_eq!(user.status, StatusCode::CREATED, "{}", user.text);
    let erp_key = app.create_key("erp", "erp").await;
    let tables = || app.anonymous(Method::GET, "/api/lookups/reference-tables").header("X-API-Key", &erp_key);
    send(tables()).await.ok();
    let disabled = send(
        app.http.patch(app.url("/api/v1/users/erp")).bearer_auth(&app.bearer).json(&json!({ "disabled": true })),
    )
    .await;
    assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.text);
    send(tables()).await.detail(StatusCode::FORBIDDEN, WRONG_KEY);
}

#[tokio::test]
async fn malformed_json_is_refused_before_the_key_is_looked_at() {
    let app = TestApp::start().await;

    let reply = send(
        app.anonymous(Method::POST, "/api/invoices/").header("content-type", "application/json").body("{bad json"),
    )
    .await;

    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.text);
    assert_eq!(reply.json()["detail"][0]["type"], "value_error.jsondecode");
}

// ---------------------------------------------------------------------------------------------
// Factus auth
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn factus_login_and_refresh_answer_the_bare_token() {
    let app = TestApp::start().await;

    let token = app.factus_login(DEFAULT_USERNAME, DEFAULT_PASSWORD).await.ok();
    assert_eq!(keys_of(&token), ["access_token", "token_type", "expires_in", "refresh_token"]);
    assert_eq!(token["token_type"], "Bearer");
    let refreshed = send(
        app.keyed(Method::POST, "/api/auth/factus/refresh").json(&json!({ "refresh_token": token["refresh_token"] })),
    )
    .await
    .ok();
    assert_eq!(keys_of(&refreshed), ["access_token", "token_type", "expires_in", "refresh_token"]);
    assert_ne!(refreshed["access_token"], token["access_token"]);
}

#[tokio::test]
async fn a_factus_login_refused_by_factus_keeps_its_status_and_message_without_a_prefix() {
    let app = TestApp::start().await;

    // Factus' OAuth server answers a wrong password with its 400 `invalid_grant`.
    app.factus_login(DEFAULT_USERNAME, "wrong-password")
        .await
        .detail(StatusCode::BAD_REQUEST, "The user credentials were incorrect.");
}

// ---------------------------------------------------------------------------------------------
// Invoices
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_postman_invoice_is_issued_and_every_invoice_route_answers_bare_json() {
    let app = TestApp::start().await;

    let bill = app.issue(&postman_invoice("FAC-LATER-1")).await;
    assert_eq!(keys_of(&bill), ["number", "prefix", "cufe", "qr_url", "status", "message"]);
    assert_eq!((&bill["prefix"], &bill["status"]), (&json!("SETP"), &json!("1")));
    let number = bill["number"].as_str().expect("a number");
    assert!(number.starts_with("SETP"), "{number}");

    let document = app.get(&format!("/api/invoices/{number}")).await.ok();
    assert!(document.is_object() && document.to_string().contains(number), "{document}");
    for (format, extension) in [("pdf", "pdf"), ("xml", "xml")] {
        let file = app.get(&format!("/api/invoices/{number}/{format}")).await.ok();
        assert_eq!(keys_of(&file), ["file_name", "file_content", "extension"]);
        assert_eq!(file["extension"], extension);
        assert!(!file["file_content"].as_str().expect("base64").is_empty());
    }
    let events = app.get(&format!("/api/invoices/{number}/events")).await.ok();
    assert!(events.is_array(), "{events}");
    let sent = app.post(&format!("/api/invoices/{number}/send-email"), &json!({ "email": "cliente@example.com" })).await;
    assert_eq!(sent.ok(), json!({ "status": "ok", "message": "Correo enviado correctamente" }));
}

#[tokio::test]
async fn the_invoice_reaches_factus_as_the_same_sale_a_v1_client_sends_with_ids() {
    let app = TestApp::start().await;

    let later = app.issue(&postman_invoice("FAC-SAME-LATER")).await;
    let v1 = send(
        app.http
            .post(app.url("/api/v1/invoices"))
            .bearer_auth(&app.bearer)
            .header("X-Factus-Token", &app.factus_token)
            .json(&seed_invoice("FAC-SAME-V1")),
    )
    .await
    .json();
    let v1_number = v1["data"]["number"].as_str().expect("a v1 number");

    let later_document = app.get(&format!("/api/invoices/{}", later["number"].as_str().unwrap())).await.ok();
    let v1_document = app.get(&format!("/api/invoices/{v1_number}")).await.ok();
    for part in ["customer", "items"] {
        assert!(!later_document[part].is_null(), "{part} in {later_document}");
        assert_eq!(later_document[part], v1_document[part], "{part}");
    }
}

#[tokio::test]
async fn the_trailing_slash_is_optional_and_a_retry_gets_the_first_bill_again() {
    let app = TestApp::start().await;
    let invoice = postman_invoice("FAC-LATER-RETRY");

    let first = app.post("/api/invoices", &invoice).await;
    let first_bill = first.ok();
    let again = app.post("/api/invoices/", &invoice).await;

    assert_eq!(again.ok(), first_bill);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    let mut other = invoice.clone();
    other["items"][0]["quantity"] = json!(2);
    app.post("/api/invoices/", &other).await.detail(StatusCode::CONFLICT, "reference_code FAC-LATER-RETRY ya fue usado");
}

#[tokio::test]
async fn the_ledger_records_the_key_that_created_a_later_invoice() {
    let app = TestApp::start().await;
    app.issue(&postman_invoice("FAC-LATER-KEY")).await;

    let keys = send(app.http.get(app.url("/api/v1/api-keys")).bearer_auth(&app.bearer)).await.json();
    let key_id = &keys["data"][0]["id"];
    let ledger = send(app.http.get(app.url("/api/v1/invoices?reference_code=FAC-LATER-KEY")).bearer_auth(&app.bearer))
        .await
        .json();

    let entry = &ledger["data"]["items"][0];
    assert_eq!((&entry["state"], &entry["api_key_id"]), (&json!("issued"), key_id), "{ledger}");
}

#[tokio::test]
async fn an_unknown_prefix_is_the_later_422_and_nothing_is_created() {
    let app = TestApp::start().await;
    let mut invoice = postman_invoice("FAC-NO-RANGE");
    invoice["numbering_range_prefix"] = json!("setp");

    app.post("/api/invoices/", &invoice).await.detail(
        StatusCode::UNPROCESSABLE_ENTITY,
        "No se encontró un rango de numeración activo con prefijo 'setp' en Factus",
    );
    let bills = app.http.get(format!("{}/__sandbox/bills", app.sandbox.base_url())).send().await.unwrap();
    assert!(!bills.text().await.unwrap().contains("FAC-NO-RANGE"));
}

#[tokio::test]
async fn every_problem_of_the_body_is_one_422_in_the_later_names_and_factus_is_not_called() {
    let app = TestApp::start().await;
    let before = app.upstream_requests().await;
    let mut invoice = postman_invoice("FAC-BAD");
    invoice.as_object_mut().unwrap().remove("numbering_range_prefix");
    invoice["payment_form"] = json!("2");
    invoice["customer"]["document_type"] = json!("cc");
    invoice["customer"]["municipality_code"] = json!("5001");
    invoice["items"][0]["unit_measure_code"] = json!("UNIDAD");
    invoice["items"][0]["tribute"] = json!("ZZ");
    invoice["items"][0]["price"] = json!("1.005");

    let reply = app.post("/api/invoices/", &invoice).await;
    let enumeration = |loc: Value, permitted: &str| {
        json!({ "loc": loc, "msg": format!("value is not a valid enumeration member; permitted: {permitted}"), "type": "type_error.enum" })
    };
    reply.errors(
        StatusCode::UNPROCESSABLE_ENTITY,
        &json!([
            { "loc": ["body", "numbering_range_prefix"], "msg": "field required", "type": "value_error.missing" },
            enumeration(json!(["body", "payment_form"]), "'cash', 'credit'"),
            enumeration(json!(["body", "customer", "document_type"]), "'CC', 'NIT', 'CE', 'TI', 'PASAPORTE', 'RC', 'TE', 'NIT_EXTRANJERO', 'NUIP'"),
            { "loc": ["body", "customer", "municipality_code"], "msg": "municipality_code '5001' no existe en el catálogo de municipios", "type": "type_error.enum" },
            { "loc": ["body", "items", 0, "unit_measure_code"], "msg": "unit_measure_code 'UNIDAD' no existe en el catálogo de unidades de medida", "type": "type_error.enum" },
            { "loc": ["body", "items", 0, "tribute"], "msg": "tribute 'ZZ' no existe en el catálogo de tributos de productos", "type": "type_error.enum" },
            { "loc": ["body", "items", 0, "price"], "msg": "price must have max 2 decimal places", "type": "value_error" },
        ]),
    );
    assert_eq!(app.upstream_requests().await, before);
}

#[tokio::test]
async fn the_models_rules_are_422_in_the_later_words() {
    let app = TestApp::start().await;
    let mut invoice = postman_invoice("FAC-RULES");
    invoice["payment_form"] = json!("credit");
    invoice["customer"]["document_type"] = json!("NIT");
    invoice["customer"].as_object_mut().unwrap().remove("names");

    app.post("/api/invoices/", &invoice).await.errors(
        StatusCode::UNPROCESSABLE_ENTITY,
        &json!([
            { "loc": ["body", "customer"], "msg": "Names is required for natural persons", "type": "value_error" },
            { "loc": ["body", "customer"], "msg": "DV is required for NIT", "type": "value_error" },
            { "loc": ["body"], "msg": "payment_due_date es obligatorio cuando payment_form es 'credit'", "type": "value_error" },
        ]),
    );
}

#[tokio::test]
async fn an_object_sent_as_text_gets_the_postman_hint_even_without_a_factus_token() {
    let app = TestApp::start().await;
    let text = postman_invoice("FAC-TEXT").to_string();

    for (path, body) in [
        ("/api/invoices/", text.clone()),
        ("/api/invoices/SETP990000001/send-email", r#"{"email": "cliente@example.com"}"#.to_owned()),
        ("/api/auth/factus/login", r#"{"email": "a@b.co", "password": "x"}"#.to_owned()),
    ] {
        send(app.keyed(Method::POST, path).header("content-type", "text/plain").body(body))
            .await
            .detail(StatusCode::UNPROCESSABLE_ENTITY, STRING_BODY_HINT);
    }
    // A JSON string that holds the object.
    send(app.keyed(Method::POST, "/api/invoices/").json(&json!(text)))
        .await
        .detail(StatusCode::UNPROCESSABLE_ENTITY, STRING_BODY_HINT);
}

#[tokio::test]
async fn without_x_factus_token_the_factus_routes_answer_the_missing_header_and_the_tables_do_not_need_it() {
    let app = TestApp::start().await;
    let missing = json!([{ "loc": ["header", "x-factus-token"], "msg": "field required", "type": "value_error.missing" }]);

    send(app.keyed(Method::GET, "/api/invoices/SETP990000001")).await.errors(StatusCode::UNPROCESSABLE_ENTITY, &missing);
    send(app.keyed(Method::GET, "/api/lookups/units")).await.errors(StatusCode::UNPROCESSABLE_ENTITY, &missing);
    send(app.keyed(Method::GET, "/api/lookups/reference-tables")).await.ok();
}

#[tokio::test]
async fn a_pending_invoice_is_deleted_by_reference_with_factus_status_and_message() {
    let app = TestApp::start().await;
    let path = if FACTUS_API == factus_sandbox::ApiVersion::V2 { "/v2/bills/validate" } else { "/v1/bills/validate" };
    app.fault(json!({ "kind": "pending", "method": "POST", "path": path, "times": 1 })).await;
    let pending = app.issue(&postman_invoice("FAC-LATER-DEL")).await;
    assert_eq!(pending["status"], "0");

    let deleted = send(app.request(Method::DELETE, "/api/invoices/reference/FAC-LATER-DEL")).await.ok();

    assert_eq!(keys_of(&deleted), ["status", "message"]);
    assert!(deleted["message"].as_str().unwrap().contains("FAC-LATER-DEL"), "{deleted}");
}

#[tokio::test]
async fn factus_refusals_keep_their_status_and_message_and_its_failures_are_502() {
    let app = TestApp::start().await;

    let unknown = app.get("/api/invoices/SETP990000404").await;
    unknown.detail(StatusCode::NOT_FOUND, "No se encontró la factura con número SETP990000404");
    send(app.request(Method::DELETE, "/api/invoices/reference/FAC-404"))
        .await
        .detail(StatusCode::NOT_FOUND, "No se encontró el documento con código de referencia FAC-404");
    send(app.keyed(Method::GET, "/api/lookups/acquirer?identification_document_type=CC&identification_number=1").header("X-Factus-Token", "expired"))
        .await
        .detail(StatusCode::UNAUTHORIZED, "Unauthenticated.");

    app.fault(json!({ "kind": "status", "status": 500 })).await;
    app.get("/api/invoices/SETP990000001").await.detail(StatusCode::BAD_GATEWAY, "Internal Server Error");
}

// ---------------------------------------------------------------------------------------------
// Lookups
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_catalogues_are_bare_lists_of_the_later_shapes() {
    let app = TestApp::start().await;

    for (path, keys) in [
        ("/api/lookups/municipalities", vec!["id", "name", "code", "department"]),
        ("/api/lookups/taxes", vec!["id", "name", "code", "description"]),
        ("/api/lookups/units", vec!["id", "name", "code"]),
        ("/api/lookups/countries?name=colombia", vec!["id", "code", "name"]),
    ] {
        let list = app.get(path).await.ok();
        let first = list.as_array().and_then(|items| items.first()).unwrap_or_else(|| panic!("{path}: {list}"));
        assert_eq!(keys_of(first), keys, "{path}");
    }
}

#[tokio::test]
async fn the_acquirer_is_looked_up_by_document_type_code_or_id() {
    let app = TestApp::start().await;
    let expected = json!({ "name": "Nombre Cédula de ciudadanía 1", "email": "adquiriente1@factus.com.co" });

    for kind in ["CC", "3"] {
        let path = format!("/api/lookups/acquirer?identification_document_type={kind}&identification_number=1399991");
        assert_eq!(app.get(&path).await.ok(), expected, "{kind}");
    }
    app.get("/api/lookups/acquirer?identification_document_type=cc&identification_number=1399991").await.detail(
        StatusCode::UNPROCESSABLE_ENTITY,
        "Tipo de documento inválido: 'cc'. Valores aceptados: RC, TI, CC, TE, CE, NIT, PASAPORTE, DIE, PEP, NIT_EXTRANJERO, NUIP",
    );
    app.get("/api/lookups/acquirer?identification_document_type=CC&identification_number=55")
        .await
        .detail(StatusCode::NOT_FOUND, "No se encontró el adquirente");
    app.get("/api/lookups/acquirer").await.errors(
        StatusCode::UNPROCESSABLE_ENTITY,
        &json!([
            { "loc": ["query", "identification_document_type"], "msg": "field required", "type": "value_error.missing" },
            { "loc": ["query", "identification_number"], "msg": "field required", "type": "value_error.missing" },
        ]),
    );
}

#[tokio::test]
async fn the_reference_tables_carry_the_canonical_codes_and_never_call_factus() {
    let app = TestApp::start().await;
    let before = app.upstream_requests().await;

    let tables = send(app.keyed(Method::GET, "/api/lookups/reference-tables")).await.ok();

    assert_eq!(keys_of(&tables), REFERENCE_TABLES);
    assert_eq!(tables["identification_document_types"][2], json!({ "code": "CC", "name": "Cédula de ciudadanía" }));
    assert_eq!(tables["customer_tribute_types"], json!([{ "code": "IVA", "name": "IVA" }, { "code": "ZZ", "name": "No aplica" }]));
    assert_eq!(tables["payment_forms"], json!([{ "code": "cash", "name": "Pago de contado" }, { "code": "credit", "name": "Pago a crédito" }]));
    assert_eq!(tables["product_standard_codes"][1], json!({ "id": 2, "name": "UNSPSC" }));
    assert_eq!(app.upstream_requests().await, before);
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_the_fastapi_404_and_405() {
    let app = TestApp::start().await;

    send(app.keyed(Method::GET, "/api/nothing")).await.detail(StatusCode::NOT_FOUND, "Not Found");
    send(app.keyed(Method::GET, "/api/invoices/reference/FAC-1"))
        .await
        .detail(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
}

/// The keys of the later original's `NumberingRange`, in its order.
const NUMBERING_RANGE_KEYS: [&str; 15] = [
    "id", "document", "document_name", "prefix", "from", "to", "current", "resolution_number", "start_date",
    "end_date", "technical_key", "is_expired", "is_active", "created_at", "updated_at",
];

fn ids_of(list: &Value) -> Vec<i64> {
    list.as_array().expect("a bare list").iter().map(|range| range["id"].as_i64().expect("an id")).collect()
}

#[tokio::test]
async fn numbering_ranges_are_bare_lists_filtered_as_factus_filters_them() {
    let app = TestApp::start().await;

    let all = app.get("/api/numbering-ranges/").await.ok();
    let first = &all[0];
    assert_eq!(keys_of(first), NUMBERING_RANGE_KEYS);
    assert_eq!((first["document"].as_str(), first["document_name"].as_str()), (Some("21"), Some("Factura de Venta")));
    assert_eq!(first["is_active"], 1);
    assert_eq!(ids_of(&app.get("/api/numbering-ranges?document=22").await.ok()), [9]);
    assert_eq!(ids_of(&app.get("/api/numbering-ranges/?id=10").await.ok()), [10]);
    assert_eq!(ids_of(&app.get("/api/numbering-ranges/?resolution_number=18760000001").await.ok()), [8]);
    assert_eq!(ids_of(&app.get("/api/numbering-ranges/?is_active=1").await.ok()), [8, 9, 10]);
    assert_eq!(app.get("/api/numbering-ranges/?is_active=0").await.ok(), json!([]));
    let refused = app.get("/api/numbering-ranges/?is_active=true").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.text);
    assert_eq!(refused.json()["detail"][0]["loc"], json!(["query", "is_active"]));
}

#[tokio::test]
async fn the_softwares_dian_ranges_and_one_range_answer_bare_json() {
    let app = TestApp::start().await;

    let software = app.get("/api/numbering-ranges/software").await.ok();
    assert_eq!(
        keys_of(&software[0]),
        ["resolution_number", "prefix", "from", "to", "start_date", "end_date", "technical_key"]
    );
    let range = app.get("/api/numbering-ranges/9").await.ok();
    assert_eq!((range["id"].as_i64(), range["document"].as_str()), (Some(9), Some("22")));
    let missing = app.get("/api/numbering-ranges/999").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.text);
    let not_an_int = app.get("/api/numbering-ranges/ocho").await;
    assert_eq!(not_an_int.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", not_an_int.text);
    assert_eq!(not_an_int.json()["detail"][0]["loc"], json!(["path", "id"]));
}

#[tokio::test]
async fn a_key_creates_moves_and_deletes_a_range_and_the_lookup_shows_each_change_at_once() {
    let app = TestApp::start().await;
    let lookup_current = |id: i64| {
        let app = &app;
        async move {
            let listed = send(app.http.get(app.url("/api/v1/lookups/numbering-ranges")).bearer_auth(&app.bearer).header("X-Factus-Token", &app.factus_token)).await;
            assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
            listed.json()["data"].as_array().expect("a list").iter().find(|range| range["id"] == id).map(|range| range["current"].clone())
        }
    };
    let before = lookup_current(8).await;
    assert!(before.is_some());

    let created = app
        .post("/api/numbering-ranges/", &json!({ "document": "21", "prefix": "FE", "current": 1, "resolution_number": "18764000001" }))
        .await
        .ok();
    assert_eq!(keys_of(&created), NUMBERING_RANGE_KEYS);
    let id = created["id"].as_i64().expect("an id");
    assert_eq!(lookup_current(id).await, Some(json!(1)));

    let moved = send(app.request(Method::PUT, &format!("/api/numbering-ranges/{id}")).json(&json!({ "current": 120 }))).await.ok();
    assert_eq!(moved["current"], 120);
    assert_eq!(lookup_current(id).await, Some(json!(120)));

    let deleted = send(app.request(Method::DELETE, &format!("/api/numbering-ranges/{id}"))).await.ok();
    assert_eq!(deleted, json!({ "status": "OK" }));
    assert_eq!(lookup_current(id).await, None);
    let again = send(app.request(Method::DELETE, &format!("/api/numbering-ranges/{id}"))).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "{}", again.text);
}

#[tokio::test]
async fn factus_refusing_a_new_range_keeps_its_status_and_message() {
    let app = TestApp::start().await;

    let refused = app
        .post("/api/numbering-ranges/", &json!({ "document": "21", "prefix": "FE", "current": 1, "resolution_number": "18769999999" }))
        .await;

    assert!(refused.status.is_client_error() && refused.status != StatusCode::BAD_REQUEST, "{} {}", refused.status, refused.text);
    let detail = refused.json()["detail"].as_str().expect("a detail").to_owned();
    assert!(!detail.starts_with("Error al crear"), "{detail}");
}

#[tokio::test]
async fn the_company_is_the_later_company_data_and_its_logo_answers_url_log() {
    let app = TestApp::start().await;

    let company = app.get("/api/company/").await.ok();
    assert_eq!(
        keys_of(&company),
        [
            "url_logo", "nit", "dv", "company", "trade_name", "names", "surnames", "graphic_representation_name",
            "registration_code", "economic_activity", "phone", "email", "address", "tribute", "legal_organization",
            "municipality", "responsibilities", "created_at", "updated_at",
        ]
    );
    assert!(company["economic_activity"].is_i64() || company["economic_activity"].is_null(), "{company}");
    assert_eq!(app.get("/api/company").await.ok(), company);

    let (content_type, body) = multipart_file("image", "logo.png", "image/png", SMALL_PNG);
    let logo = send(app.request(Method::POST, "/api/company/logo").header("content-type", content_type).body(body))
        .await
        .ok();
    assert_eq!(keys_of(&logo), ["url_log"]);
    assert!(logo["url_log"].as_str().is_some_and(|url| url.starts_with("http")), "{logo}");
    let (content_type, body) = multipart_file("file", "logo.png", "image/png", SMALL_PNG);
    let missing = send(app.request(Method::POST, "/api/company/logo").header("content-type", content_type).body(body)).await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", missing.text);
    assert_eq!(missing.json()["detail"][0]["loc"], json!(["body", "image"]));
}

/// The company body of the later original's Postman collection.
fn postman_company() -> Value {
    json!({
        "legal_organization_code": "2",
        "company": null,
        "trade_name": null,
        "names": "Pedro",
        "surnames": "Pérez",
        "registration_code": null,
        "economic_activity": "6920",
        "phone": "3001234567",
        "email": "facturacion@example.com",
        "address": "Calle 1 # 2-3",
        "tribute_code": "ZZ",
        "municipality_code": "68872",
        "responsibilities": "5"
    })
}

#[tokio::test]
async fn the_postman_company_body_replaces_the_profile_and_its_own_rules_are_422() {
    let app = TestApp::start().await;

    let updated = send(app.request(Method::PUT, "/api/company/").json(&postman_company())).await.ok();
    assert_eq!((updated["names"].as_str(), updated["economic_activity"].as_i64()), (Some("Pedro"), Some(6920)));
    assert_eq!(app.get("/api/company/").await.ok(), updated);
    let codes: Vec<&str> = updated["responsibilities"]
        .as_array()
        .expect("responsibilities")
        .iter()
        .filter_map(|entry| entry["code"].as_str())
        .collect();
    assert_eq!(codes, ["R-99-PN"]);

    let mut wrong = postman_company();
    wrong["economic_activity"] = json!(6920);
    wrong["responsibilities"] = json!("9");
    wrong.as_object_mut().expect("an object").remove("surnames");
    let refused = send(app.request(Method::PUT, "/api/company").json(&wrong)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.text);
    let mut locs: Vec<Value> = refused.json()["detail"].as_array().expect("errors").iter().map(|error| error["loc"].clone()).collect();
    locs.sort_by_key(ToString::to_string);
    assert_eq!(
        locs,
        [json!(["body", "economic_activity"]), json!(["body", "responsibilities"]), json!(["body", "surnames"])]
    );
}
