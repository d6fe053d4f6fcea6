// The invoices black-box suite, included once per Factus API version by
// `tests/invoices_black_box.rs` (`FACTUS_API` is the version of the sandbox's account and of the
// service's `FACTUS_API_VERSION`).

use std::time::Duration;

use base64::Engine as _;
use factus_sandbox::{
    ApiVersion, DEFAULT_PASSWORD, DEFAULT_USERNAME, Sandbox, SandboxConfig,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{REFERENCE_TABLES, Reply, Served, join_all, keys_of, send, valid_invoice};

const SECRET_KEY: &str = "invoices-black-box-secret-key-0123456789";
/// The development admin created on first start when `ADMIN_PASSWORD` is unset.
const ADMIN_PASSWORD: &str = "admin123";
/// How long any single HTTP exchange of a test may take before the test gives up.
const PATIENCE: Duration = Duration::from_secs(30);

/// A v1 path or route template as the same Factus operation reads on the suite's version.
fn forward(v1: &str) -> String {
    if FACTUS_API != ApiVersion::V2 {
        return v1.to_owned();
    }
    let (method, path) = v1.split_once(' ').map_or((None, v1), |(method, path)| (Some(method), path));
    let v2 = match path {
        "/v1/bills/show/{number}" => "/v2/bills/{number}".to_owned(),
        "/v1/bills/show" => "/v2/bills/SETP".to_owned(),
        other => {
            let mut moved = None;
            for (verb, v2_tail) in [("download-pdf", "download-pdf"), ("download-xml", "download-xml"), ("send-email", "send-email")] {
                if let Some(rest) = other.strip_prefix(&format!("/v1/bills/{verb}/")) {
                    moved = Some(format!("/v2/bills/{rest}/{v2_tail}"));
                }
            }
            moved.unwrap_or_else(|| other.replacen("/v1", "/v2", 1))
        }
    };
    method.map_or_else(|| v2.clone(), |method| format!("{method} {v2}"))
}

/// A route template the sandbox counted, named as its v1 counterpart (the inverse of [`forward`]).
fn backward(route: &str) -> String {
    if FACTUS_API != ApiVersion::V2 {
        return route.to_owned();
    }
    let (method, path) = route.split_once(' ').map_or(("", route), |(method, path)| (method, path));
    let v1 = match path {
        "/v2/bills/{number}" => "/v1/bills/show/{number}".to_owned(),
        "/v2/bills/{number}/download-pdf" => "/v1/bills/download-pdf/{number}".to_owned(),
        "/v2/bills/{number}/download-xml" => "/v1/bills/download-xml/{number}".to_owned(),
        "/v2/bills/{number}/send-email" => "/v1/bills/send-email/{number}".to_owned(),
        other => other.replacen("/v2", "/v1", 1),
    };
    if method.is_empty() { v1 } else { format!("{method} {v1}") }
}

// ---------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------

/// Where the service gets its Factus token from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// No server credentials: clients send `X-Factus-Token`.
    ClientToken,
    /// `FACTUS_USERNAME`/`FACTUS_PASSWORD` set: the server keeps its own session.
    ServerSession,
}

/// How to start a [`TestApp`].
struct Options {
    mode: Mode,
    sandbox: SandboxConfig,
    /// Extra or overriding environment variables of the service.
    env: Vec<(&'static str, String)>,
    /// Point the gateway somewhere other than the sandbox (a closed port).
    factus_base_url: Option<String>,
}

impl Options {
    /// The sandbox's account has only the suite's Factus API version, and the service is
    /// configured with that version (`FACTUS_API_VERSION`).
    fn new(mode: Mode) -> Self {
        Self {
            mode,
            sandbox: SandboxConfig { api_version: FACTUS_API, ..SandboxConfig::default() },
            env: vec![("FACTUS_API_VERSION", FACTUS_API.as_str().to_owned())],
            factus_base_url: None,
        }
    }

    fn env(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.env.push((name, value.into()));
        self
    }
}

/// The sandbox and the service in front of it, with the admin logged in and, in client-token
/// mode, a Factus token obtained through the service.
struct TestApp {
    mode: Mode,
    base: String,
    http: reqwest::Client,
    sandbox: Sandbox,
    local_token: String,
    factus_token: Option<String>,
    _served: Served,
}

/// The success envelope of the `/api/v1` routes.
trait Envelope {
    /// The success envelope with `message`, exactly four keys; returns `data`.
    fn ok(&self, message: &str) -> Value;
}

impl Envelope for Reply {
    #[track_caller]
    fn ok(&self, message: &str) -> Value {
        assert_eq!(self.status, StatusCode::OK, "body: {}", self.text);
        let body = self.json();
        let keys: Vec<&str> = body.as_object().expect("an object").keys().map(String::as_str).collect();
        assert_eq!(keys, ["success", "message", "data", "errors"], "envelope keys: {}", self.text);
        assert_eq!(body["success"], true);
        assert_eq!(body["message"], message);
        assert_eq!(body["errors"], Value::Null);
        body["data"].clone()
    }
}

fn missing_token_error() -> Value {
    json!([{ "loc": ["header", "x-factus-token"], "msg": "field required", "type": "value_error.missing" }])
}

impl TestApp {
    async fn start(mode: Mode) -> Self {
        Self::start_with(Options::new(mode)).await
    }

    async fn start_with(options: Options) -> Self {
        let sandbox = Sandbox::start(options.sandbox).await.expect("the sandbox starts");
        let on_the_sandbox = options.factus_base_url.is_none();
        let mut variables = Vec::new();
        if options.mode == Mode::ServerSession {
            variables.push(("FACTUS_USERNAME", DEFAULT_USERNAME.to_owned()));
            variables.push(("FACTUS_PASSWORD", DEFAULT_PASSWORD.to_owned()));
        }
        // The test's own settings win.
        variables.extend(options.env);
        let factus_base_url = options.factus_base_url.unwrap_or_else(|| sandbox.base_url());
        let served = Served::start(factus_base_url, SECRET_KEY, variables).await;
        let http = reqwest::Client::builder().timeout(PATIENCE).build().expect("an HTTP client");
        let local_token = served.token(&http, "admin", ADMIN_PASSWORD).await;

        let mut app = Self {
            mode: options.mode,
            base: served.base.clone(),
            http,
            sandbox,
            local_token,
            factus_token: None,
            _served: served,
        };
        if app.mode == Mode::ClientToken && on_the_sandbox {
            let data = app.factus_login(DEFAULT_USERNAME, DEFAULT_PASSWORD).await.ok("Autenticación exitosa");
            app.factus_token = Some(data["access_token"].as_str().expect("a Factus token").to_owned());
        }
        app
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    /// A request with the local bearer token and, in client-token mode, `X-Factus-Token`.
    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let builder = self.bare(method, path);
        match &self.factus_token {
            Some(token) => builder.header("x-factus-token", token),
            None => builder,
        }
    }

    /// A request with the local bearer token only.
    fn bare(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, self.url(path)).bearer_auth(&self.local_token)
    }

    async fn get(&self, path: &str) -> Reply {
        send(self.request(Method::GET, path)).await
    }

    async fn post(&self, path: &str, body: &Value) -> Reply {
        send(self.request(Method::POST, path).json(body)).await
    }

    async fn delete(&self, path: &str) -> Reply {
        send(self.request(Method::DELETE, path)).await
    }

    async fn create(&self, invoice: &Value) -> Reply {
        self.post("/invoices", invoice).await
    }

    /// Creates `invoice` and returns the bill number, asserting success.
    async fn issue(&self, invoice: &Value) -> String {
        let data = self.create(invoice).await.ok("Factura creada exitosamente");
        data["number"].as_str().expect("a number").to_owned()
    }

    async fn factus_login(&self, email: &str, password: &str) -> Reply {
        send(self.bare(Method::POST, "/auth/factus/login").json(&json!({ "email": email, "password": password }))).await
    }

    // --- the sandbox's control endpoints -----------------------------------------------------

    fn sandbox_url(&self, path: &str) -> String {
        format!("{}{path}", self.sandbox.base_url())
    }

    async fn fault(&self, mut spec: Value) {
        if let Some(path) = spec.get("path").and_then(Value::as_str) {
            spec["path"] = json!(forward(path));
        }
        let response = self.http.post(self.sandbox_url("/__sandbox/faults")).json(&spec).send().await.expect("a fault");
        assert_eq!(response.status(), StatusCode::CREATED, "fault {spec} refused: {:?}", response.text().await);
    }

    /// Calls the sandbox received, per route template.
    ///
    /// Routes of the suite's version are named as their v1 counterparts
    /// (`GET /v2/bills/{number}` reads `GET /v1/bills/show/{number}`), so one assertion holds on
    /// both versions.
    async fn upstream_requests(&self) -> Value {
        let response = self.http.get(self.sandbox_url("/__sandbox/requests")).send().await.expect("request counts");
        let counts: Value = response.json().await.expect("a JSON body");
        match counts {
            Value::Object(map) => Value::Object(map.into_iter().map(|(route, count)| (backward(&route), count)).collect()),
            other => other,
        }
    }

    async fn upstream_count(&self, route: &str) -> u64 {
        self.upstream_requests().await[route].as_u64().unwrap_or(0)
    }

    async fn upstream_bills(&self) -> Value {
        let response = self.http.get(self.sandbox_url("/__sandbox/bills")).send().await.expect("the bills");
        response.json().await.expect("a JSON body")
    }

    /// Issues `invoice` straight at the sandbox, behind the service's back.
    async fn issue_upstream(&self, invoice: &Value) {
        assert_eq!(self.create_upstream(invoice).await, StatusCode::CREATED, "a direct create of {invoice}");
    }
}



/// A change to a JSON body at a JSON pointer.
enum Edit {
    Set(&'static str, Value),
    Remove(&'static str),
}

fn set(pointer: &'static str, value: Value) -> Edit {
    Edit::Set(pointer, value)
}

fn remove(pointer: &'static str) -> Edit {
    Edit::Remove(pointer)
}

fn edited(mut body: Value, edits: Vec<Edit>) -> Value {
    for edit in edits {
        let pointer = match &edit {
            Edit::Set(pointer, _) | Edit::Remove(pointer) => *pointer,
        };
        let (parent, key) = pointer.rsplit_once('/').expect("a JSON pointer");
        let parent = body.pointer_mut(parent).unwrap_or_else(|| panic!("no parent for {pointer}"));
        let object = parent.as_object_mut().unwrap_or_else(|| panic!("{pointer}: the parent is not an object"));
        match edit {
            Edit::Set(_, value) => {
                object.insert(key.to_owned(), value);
            }
            Edit::Remove(_) => {
                assert!(object.remove(key).is_some(), "{pointer} was not there to remove");
            }
        }
    }
    body
}

/// An endpoint of the service that calls Factus, with the prefix of its error messages.
struct Endpoint {
    method: Method,
    path: String,
    body: Option<Value>,
    prefix: Option<&'static str>,
    /// Whether the endpoint needs a Factus token (all but the Factus auth ones).
    needs_factus_token: bool,
}

impl Endpoint {
    fn expected(&self, message: &str) -> String {
        match self.prefix {
            Some(prefix) => format!("{prefix}: {message}"),
            None => message.to_owned(),
        }
    }

    fn label(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// The lookups Factus v2 has no endpoint for: on v2 they are served from the bundled catalogues.
const BUNDLED_LOOKUPS: [&str; 4] =
    ["/lookups/municipalities", "/lookups/taxes", "/lookups/units", "/lookups/countries?name=colombia"];

/// Every endpoint that calls Factus (`number` and `reference` address a bill); on v2 without the
/// [`BUNDLED_LOOKUPS`].
fn factus_endpoints(number: &str, reference: &str) -> Vec<Endpoint> {
    let mut endpoints = every_factus_endpoint(number, reference);
    if FACTUS_API == ApiVersion::V2 {
        endpoints.retain(|endpoint| !BUNDLED_LOOKUPS.contains(&endpoint.path.as_str()));
    }
    endpoints
}

fn every_factus_endpoint(number: &str, reference: &str) -> Vec<Endpoint> {
    let endpoint = |method: Method, path: String, body: Option<Value>, prefix: Option<&'static str>| Endpoint {
        needs_factus_token: !path.starts_with("/auth/"),
        method,
        path,
        body,
        prefix,
    };
    vec![
        endpoint(
            Method::POST,
            "/auth/factus/login".to_owned(),
            Some(json!({ "email": DEFAULT_USERNAME, "password": DEFAULT_PASSWORD })),
            Some("No se pudo obtener el token de Factus"),
        ),
        endpoint(
            Method::POST,
            "/auth/factus/refresh".to_owned(),
            Some(json!({ "refresh_token": "def50200abc" })),
            Some("No se pudo refrescar el token de Factus"),
        ),
        endpoint(
            Method::POST,
            "/invoices".to_owned(),
            Some(valid_invoice(reference)),
            Some("Error al crear la factura"),
        ),
        endpoint(Method::GET, format!("/invoices/{number}"), None, Some("Error al obtener la factura")),
        endpoint(Method::GET, format!("/invoices/{number}/pdf"), None, Some("Error al descargar el PDF")),
        endpoint(Method::GET, format!("/invoices/{number}/xml"), None, Some("Error al descargar el XML")),
        endpoint(
            Method::GET,
            format!("/invoices/{number}/events"),
            None,
            Some("Error al obtener eventos de la factura"),
        ),
        endpoint(
            Method::POST,
            format!("/invoices/{number}/send-email"),
            Some(json!({ "email": "cliente@example.com" })),
            Some("Error al enviar el correo"),
        ),
        endpoint(
            Method::DELETE,
            format!("/invoices/reference/{reference}"),
            None,
            Some("Error al eliminar la factura"),
        ),
        endpoint(Method::GET, "/lookups/municipalities".to_owned(), None, None),
        endpoint(Method::GET, "/lookups/taxes".to_owned(), None, None),
        endpoint(Method::GET, "/lookups/units".to_owned(), None, None),
        endpoint(Method::GET, "/lookups/numbering-ranges".to_owned(), None, None),
        endpoint(Method::GET, "/lookups/countries?name=colombia".to_owned(), None, None),
        endpoint(
            Method::GET,
            "/lookups/acquirer?identification_document_id=3&identification_number=1399991".to_owned(),
            None,
            None,
        ),
    ]
}

impl TestApp {
    async fn call(&self, endpoint: &Endpoint) -> Reply {
        let builder = if endpoint.needs_factus_token {
            self.request(endpoint.method.clone(), &endpoint.path)
        } else {
            self.bare(endpoint.method.clone(), &endpoint.path)
        };
        match &endpoint.body {
            Some(body) => send(builder.json(body)).await,
            None => send(builder).await,
        }
    }

    /// Calls every Factus endpoint (concurrently) and asserts each answers `status` with
    /// `{"detail": "<prefix>: <message>"}`; reports every mismatch at once.
    ///
    /// On v2 the catalogues Factus v2 has no endpoint for come from the bundle and keep answering
    /// 200 whatever Factus does; that is asserted too.
    async fn assert_every_endpoint_fails(&self, status: StatusCode, message: &str) {
        let endpoints = factus_endpoints("SETP990000001", "REF-FAILING");
        if FACTUS_API == ApiVersion::V2 {
            for path in BUNDLED_LOOKUPS {
                let reply = self.get(path).await;
                assert_eq!(reply.status, StatusCode::OK, "{path} from the bundle: {}", reply.text);
            }
        }
        let replies = {
            let calls = endpoints.iter().map(|endpoint| self.call(endpoint));
            join_all(calls).await
        };
        let mismatches: Vec<String> = endpoints
            .iter()
            .zip(&replies)
            .filter_map(|(endpoint, reply)| {
                let expected = json!({ "detail": endpoint.expected(message) });
                let matches = reply.status == status
                    && serde_json::from_str::<Value>(&reply.text).is_ok_and(|body| body == expected);
                (!matches).then(|| format!("{}: {} {}", endpoint.label(), reply.status, reply.text))
            })
            .collect();
        assert!(
            mismatches.is_empty(),
            "expected {status} `{message}` from every endpoint, got:\n{}",
            mismatches.join("\n")
        );
    }
}


/// A port on 127.0.0.1 where nothing listens.
async fn closed_port_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let address = listener.local_addr().expect("a local address");
    drop(listener);
    format!("http://{address}")
}

// ---------------------------------------------------------------------------------------------
// Factus auth
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn factus_login_returns_the_sandbox_token_in_the_envelope_and_it_works_as_x_factus_token() {
    let app = TestApp::start(Mode::ClientToken).await;

    let data = app.factus_login(DEFAULT_USERNAME, DEFAULT_PASSWORD).await.ok("Autenticación exitosa");

    let keys: Vec<&str> = data.as_object().expect("an object").keys().map(String::as_str).collect();
    assert_eq!(keys, ["access_token", "token_type", "expires_in", "refresh_token"]);
    assert_eq!(data["token_type"], "Bearer");
    assert_eq!(data["expires_in"], 3600);
    assert!(data["refresh_token"].as_str().is_some_and(|token| token.starts_with("def50200")), "{data}");
    let token = data["access_token"].as_str().expect("an access token");
    let reply = send(app.bare(Method::GET, "/lookups/taxes").header("x-factus-token", token)).await;
    reply.ok("Tipos de impuesto obtenidos exitosamente");
}

#[tokio::test]
async fn factus_login_with_a_wrong_password_is_a_400_with_the_sandbox_reason() {
    let app = TestApp::start(Mode::ClientToken).await;

    app.factus_login(DEFAULT_USERNAME, "wrong-password")
        .await
        .detail(StatusCode::BAD_REQUEST, "No se pudo obtener el token de Factus: The user credentials were incorrect.");
}

#[tokio::test]
async fn factus_login_with_a_bad_email_is_a_422_that_never_reaches_factus() {
    let app = TestApp::start(Mode::ServerSession).await;

    app.factus_login("not-an-email", "x").await.errors(
        StatusCode::UNPROCESSABLE_ENTITY,
        &json!([{ "loc": ["body", "email"], "msg": "value is not a valid email address", "type": "value_error.email" }]),
    );
    assert_eq!(app.upstream_requests().await, json!({}));
}

#[tokio::test]
async fn factus_login_with_the_wrong_client_secret_is_a_400_naming_the_client_failure() {
    let app =
        TestApp::start_with(Options::new(Mode::ServerSession).env("FACTUS_CLIENT_SECRET", "not-the-secret")).await;

    app.factus_login(DEFAULT_USERNAME, DEFAULT_PASSWORD)
        .await
        .detail(StatusCode::BAD_REQUEST, "No se pudo obtener el token de Factus: Client authentication failed");
}

#[tokio::test]
async fn factus_refresh_returns_a_new_token_and_the_used_refresh_token_is_then_refused() {
    let app = TestApp::start(Mode::ClientToken).await;
    let first = app.factus_login(DEFAULT_USERNAME, DEFAULT_PASSWORD).await.ok("Autenticación exitosa");
    let refresh_token = first["refresh_token"].as_str().expect("a refresh token");
    let refresh =
        |token: &str| send(app.bare(Method::POST, "/auth/factus/refresh").json(&json!({ "refresh_token": token })));

    let renewed = refresh(refresh_token).await.ok("Token refrescado exitosamente");

    assert_eq!(renewed["token_type"], "Bearer");
    assert_eq!(renewed["expires_in"], 3600);
    assert_ne!(renewed["access_token"], first["access_token"]);
    assert_ne!(renewed["refresh_token"], first["refresh_token"]);
    refresh(refresh_token)
        .await
        .detail(StatusCode::BAD_REQUEST, "No se pudo refrescar el token de Factus: The refresh token is invalid.");
}

#[tokio::test]
async fn factus_refresh_without_a_refresh_token_is_a_422() {
    let app = TestApp::start(Mode::ClientToken).await;

    send(app.bare(Method::POST, "/auth/factus/refresh").json(&json!({}))).await.errors(
        StatusCode::UNPROCESSABLE_ENTITY,
        &json!([{ "loc": ["body", "refresh_token"], "msg": "field required", "type": "value_error.missing" }]),
    );
}

// ---------------------------------------------------------------------------------------------
// Invoices: success bodies
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn creating_an_invoice_answers_the_issued_bill_with_and_without_the_trailing_slash() {
    let app = TestApp::start(Mode::ClientToken).await;

    let first = app.post("/invoices", &valid_invoice("FAC-1")).await.ok("Factura creada exitosamente");
    let second = app.post("/invoices/", &valid_invoice("FAC-2")).await.ok("Factura creada exitosamente");

    for (data, number, reference) in [(&first, "SETP990000001", "FAC-1"), (&second, "SETP990000002", "FAC-2")] {
        let keys: Vec<&str> = data.as_object().expect("an object").keys().map(String::as_str).collect();
        assert_eq!(keys, ["number", "prefix", "cufe", "qr_url", "status", "message"]);
        assert_eq!(data["number"], number);
        assert_eq!(data["prefix"], "SETP");
        let cufe = data["cufe"].as_str().expect("a CUFE");
        assert!(cufe.len() == 96 && cufe.chars().all(|c| c.is_ascii_hexdigit()), "{cufe}");
        assert_eq!(
            data["qr_url"],
            format!("https://catalogo-vpfe-hab.dian.gov.co/document/searchqr?documentkey={cufe}")
        );
        assert_eq!(data["status"], "1");
        assert_eq!(
            data["message"],
            format!("Documento con el código de referencia {reference} registrado y validado con éxito")
        );
    }
    let stored = app.upstream_bills().await;
    let references: Vec<&str> =
        stored.as_array().expect("a list").iter().filter_map(|b| b["reference_code"].as_str()).collect();
    assert_eq!(references, ["FAC-1", "FAC-2"]);
}

#[tokio::test]
async fn an_invoice_with_lax_numbers_and_an_observation_of_exactly_250_characters_is_accepted() {
    let app = TestApp::start(Mode::ServerSession).await;
    let invoice = edited(
        valid_invoice("FAC-LAX"),
        vec![
            set("/observation", json!("o".repeat(250))),
            set("/numbering_range_id", json!("8")),
            set("/items/0/quantity", json!(2.0)),
            set("/items/0/price", json!(10000)),
            set("/items/0/tax_rate", json!(19)),
            set("/customer/identification_document_id", json!("3")),
        ],
    );

    let data = app.create(&invoice).await.ok("Factura creada exitosamente");

    assert_eq!(data["number"], "SETP990000001");
}

#[tokio::test]
async fn getting_an_invoice_passes_the_whole_factus_document_through() {
    let app = TestApp::start(Mode::ClientToken).await;
    let number = app.issue(&valid_invoice("FAC-GET")).await;

    let data = app.get(&format!("/invoices/{number}")).await.ok("Factura obtenida exitosamente");

    assert_eq!(data["status"], "OK");
    assert_eq!(data["message"], "Solicitud exitosa");
    // Factus' own document, as each version writes it: v1 wraps the bill in `bill`, v2 does not.
    let bill = if FACTUS_API == ApiVersion::V2 { &data["data"] } else { &data["data"]["bill"] };
    assert_eq!(bill["number"], number.as_str());
    assert_eq!(bill["reference_code"], "FAC-GET");
    assert_eq!(data["data"]["customer"]["names"], "Juan Perez");
    assert_eq!(data["data"]["numbering_range"]["prefix"], "SETP");
}

#[tokio::test]
async fn the_pdf_and_xml_downloads_are_base64_files_named_by_factus() {
    let app = TestApp::start(Mode::ClientToken).await;
    let number = app.issue(&valid_invoice("FAC-DL")).await;

    let pdf = app.get(&format!("/invoices/{number}/pdf")).await.ok("PDF obtenido exitosamente");
    let xml = app.get(&format!("/invoices/{number}/xml")).await.ok("XML obtenido exitosamente");

    for (data, extension) in [(&pdf, "pdf"), (&xml, "xml")] {
        let keys: Vec<&str> = data.as_object().expect("an object").keys().map(String::as_str).collect();
        assert_eq!(keys, ["file_name", "file_content", "extension"]);
        assert_eq!(data["extension"], extension);
        assert!(data["file_name"].as_str().is_some_and(|name| name.starts_with("fv0900825759")), "{data}");
    }
    let decode = |data: &Value| {
        base64::engine::general_purpose::STANDARD
            .decode(data["file_content"].as_str().expect("base64"))
            .expect("base64")
    };
    assert!(decode(&pdf).starts_with(b"%PDF-1.4"));
    let xml = String::from_utf8(decode(&xml)).expect("UTF-8 XML");
    assert!(xml.starts_with("<?xml") && xml.contains("<Invoice") && xml.contains(&number), "{xml:.300}");
}

#[tokio::test]
async fn the_events_of_a_bill_are_listed_once_factus_has_them() {
    let app = TestApp::start(Mode::ClientToken).await;
    let number = app.issue(&valid_invoice("FAC-EV")).await;
    let path = format!("/invoices/{number}/events");

    let none = app.get(&path).await.ok("Eventos de factura obtenidos exitosamente");
    assert_eq!(none, json!({ "status": "OK", "message": "Solicitud exitosa", "data": [] }));

    let added = app
        .http
        .post(app.sandbox_url(&format!("/__sandbox/bills/{number}/events")))
        .json(&json!({ "event_code": "030" }))
        .send()
        .await
        .expect("an event is added");
    assert_eq!(added.status(), StatusCode::CREATED);
    let event: Value = added.json().await.expect("the event");

    let one = app.get(&path).await.ok("Eventos de factura obtenidos exitosamente");
    assert_eq!(one["status"], "OK");
    assert_eq!(one["data"], json!([event]));
    let keys: Vec<&str> = one["data"][0].as_object().expect("an event").keys().map(String::as_str).collect();
    assert_eq!(keys, ["number", "cude", "event_code", "event_name", "effective_date", "effective_time"]);
    assert_eq!(one["data"][0]["event_code"], "030");
    assert_eq!(one["data"][0]["event_name"], "Acuse de recibo de Factura Electrónica de Venta");
}

#[tokio::test]
async fn sending_a_bill_by_email_answers_factus_status_and_message() {
    let app = TestApp::start(Mode::ClientToken).await;
    let number = app.issue(&valid_invoice("FAC-MAIL")).await;
    let path = format!("/invoices/{number}/send-email");

    for body in [
        json!({ "email": "cliente@example.com" }),
        json!({ "email": "cliente@example.com", "pdf_base_64_encoded": "JVBERi0=" }),
    ] {
        let data = app.post(&path, &body).await.ok("Correo enviado exitosamente");
        assert_eq!(data, json!({ "status": "OK", "message": "Factura enviada al cliente con éxito" }));
    }
    assert_eq!(app.upstream_count("POST /v1/bills/send-email/{number}").await, 2);
}

#[tokio::test]
async fn sending_a_bill_to_a_bad_email_is_a_422_that_never_reaches_factus() {
    let app = TestApp::start(Mode::ClientToken).await;

    app.post("/invoices/SETP990000001/send-email", &json!({ "email": "nobody" })).await.errors(
        StatusCode::UNPROCESSABLE_ENTITY,
        &json!([{ "loc": ["body", "email"], "msg": "value is not a valid email address", "type": "value_error.email" }]),
    );
    assert_eq!(app.upstream_count("POST /v1/bills/send-email/{number}").await, 0);
}

#[tokio::test]
async fn a_pending_bill_is_deleted_by_its_reference_code() {
    let app = TestApp::start(Mode::ClientToken).await;
    app.fault(json!({ "kind": "pending", "method": "POST", "path": "/v1/bills/validate", "times": 1 })).await;
    let pending = app.create(&valid_invoice("FAC-DEL")).await.ok("Factura creada exitosamente");
    assert_eq!(pending["status"], "0");

    let data = app.delete("/invoices/reference/FAC-DEL").await.ok("Factura eliminada exitosamente");

    assert_eq!(
        data,
        json!({ "status": "OK", "message": "Documento con código de referencia FAC-DEL eliminado con éxito" })
    );
    assert_eq!(app.upstream_bills().await, json!([]));
}

#[tokio::test]
async fn a_validated_bill_cannot_be_deleted_and_the_factus_reason_is_given() {
    let app = TestApp::start(Mode::ClientToken).await;
    app.issue(&valid_invoice("FAC-KEEP")).await;

    app.delete("/invoices/reference/FAC-KEEP").await.detail(
        StatusCode::BAD_REQUEST,
        "Error al eliminar la factura: El documento con código de referencia FAC-KEEP ya fue validado por la DIAN y no \
         puede ser eliminado",
    );
}

// ---------------------------------------------------------------------------------------------
// Lookups: success bodies
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn municipalities_are_listed_whole_or_filtered_by_name() {
    let app = TestApp::start(Mode::ClientToken).await;

    let all = app.get("/lookups/municipalities").await.ok("Municipios obtenidos exitosamente");
    let filtered = app.get("/lookups/municipalities?name=bogot").await.ok("Municipios obtenidos exitosamente");

    let all = all.as_array().expect("a list");
    assert_eq!(all.len(), 1122);
    assert!(all.iter().all(|item| keys_of(item) == ["id", "name", "code", "department"]));
    assert_eq!(filtered, json!([{ "id": 169, "name": "Bogotá, D.c.", "code": "11001", "department": "Bogota- D.c." }]));
}

#[tokio::test]
async fn taxes_are_the_seventeen_product_tributes() {
    let app = TestApp::start(Mode::ClientToken).await;

    let data = app.get("/lookups/taxes").await.ok("Tipos de impuesto obtenidos exitosamente");

    let taxes = data.as_array().expect("a list");
    assert_eq!(taxes.len(), 17);
    assert!(taxes.iter().all(|item| keys_of(item) == ["id", "name", "code", "description"]));
    assert_eq!(taxes[0], json!({ "id": 1, "name": "IVA", "code": "01", "description": "Impuesto sobre la Ventas" }));
}

#[tokio::test]
async fn units_are_the_measurement_units_of_factus() {
    let app = TestApp::start(Mode::ClientToken).await;

    let data = app.get("/lookups/units").await.ok("Unidades obtenidas exitosamente");

    let units = data.as_array().expect("a list");
    assert_eq!(units.len(), 1093);
    assert!(units.iter().all(|item| keys_of(item) == ["id", "name", "code"]));
    assert_eq!(units[69], json!({ "id": 70, "name": "unidad", "code": "94" }));
}

#[tokio::test]
async fn numbering_ranges_are_listed_with_from_to_and_a_boolean_is_active() {
    let app = TestApp::start(Mode::ClientToken).await;
    app.issue(&valid_invoice("FAC-RANGE")).await;

    let data = app.get("/lookups/numbering-ranges").await.ok("Rangos de numeración obtenidos exitosamente");

    assert_eq!(
        data,
        json!([
            {
                "id": 8, "document": "Factura de Venta", "prefix": "SETP", "from": 990000000, "to": 995000000,
                "current": 990000002, "resolution_number": "18760000001",
                "technical_key": "fc8eac422eba16e22ffd8c6f94b3f40a6e38162c", "is_active": true
            },
            {
                "id": 9, "document": "Nota Crédito", "prefix": "NC", "from": 1, "to": 99999999, "current": 1,
                "resolution_number": null, "technical_key": null, "is_active": true
            },
            {
                "id": 10, "document": "Documento Soporte", "prefix": "SEDS", "from": 984000000, "to": 985000000,
                "current": 984000001, "resolution_number": "18760000002",
                "technical_key": "6d1e3c2b4a5f60718293a4b5c6d7e8f901a2b3c4", "is_active": true
            }
        ])
    );
}

#[tokio::test]
async fn countries_are_filtered_by_name() {
    let app = TestApp::start(Mode::ClientToken).await;

    let all = app.get("/lookups/countries").await.ok("Países obtenidos exitosamente");
    let colombia = app.get("/lookups/countries?name=colom").await.ok("Países obtenidos exitosamente");

    assert_eq!(all.as_array().expect("a list").len(), 249);
    assert_eq!(colombia, json!([{ "id": 46, "code": "CO", "name": "Colombia" }]));
}

#[tokio::test]
async fn the_acquirer_lookup_answers_what_dian_knows_of_an_identification() {
    let app = TestApp::start(Mode::ClientToken).await;

    let data = app
        .get("/lookups/acquirer?identification_document_id=3&identification_number=1399991")
        .await
        .ok("Datos del adquiriente obtenidos exitosamente");

    assert_eq!(data, json!({ "name": "Nombre Cédula de ciudadanía 1", "email": "adquiriente1@factus.com.co" }));
}

#[tokio::test]
async fn an_unknown_acquirer_is_a_400_without_prefix() {
    let app = TestApp::start(Mode::ClientToken).await;

    app.get("/lookups/acquirer?identification_document_id=3&identification_number=55")
        .await
        .detail(StatusCode::BAD_REQUEST, "No se encontró el adquirente");
}

#[tokio::test]
async fn the_acquirer_lookup_without_its_query_parameters_is_a_422_that_never_reaches_factus() {
    let app = TestApp::start(Mode::ClientToken).await;

    app.get("/lookups/acquirer?identification_document_id=cc").await.errors(
        StatusCode::UNPROCESSABLE_ENTITY,
        &json!([
            { "loc": ["query", "identification_document_id"], "msg": "value is not a valid integer", "type": "type_error.integer" },
            { "loc": ["query", "identification_number"], "msg": "field required", "type": "value_error.missing" }
        ]),
    );
    assert_eq!(app.upstream_count("GET /v1/dian/acquirer").await, 0);
}

#[tokio::test]
async fn the_reference_tables_need_no_factus_token_and_never_call_factus() {
    let app = TestApp::start(Mode::ClientToken).await;
    let before = app.upstream_requests().await;

    let data = send(app.bare(Method::GET, "/lookups/reference-tables"))
        .await
        .ok("Tablas de referencia obtenidas exitosamente");

    assert_eq!(keys_of(&data), REFERENCE_TABLES);
    assert_eq!(data["identification_document_types"].as_array().map(Vec::len), Some(11));
    assert_eq!(data["identification_document_types"][5], json!({ "id": 6, "name": "NIT" }));
    assert_eq!(
        data["customer_tribute_types"],
        json!([{ "id": 18, "code": "01", "name": "IVA" }, { "id": 21, "code": "ZZ", "name": "No aplica" }])
    );
    assert_eq!(
        data["payment_forms"],
        json!([{ "code": "1", "name": "Pago de contado" }, { "code": "2", "name": "Pago a crédito" }])
    );
    assert_eq!(app.upstream_requests().await, before);
}

// ---------------------------------------------------------------------------------------------
// The Factus token header
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn without_x_factus_token_every_factus_endpoint_answers_the_reference_422_in_client_token_mode() {
    let app = TestApp::start(Mode::ClientToken).await;
    let before = app.upstream_requests().await;

    for endpoint in factus_endpoints("SETP990000001", "FAC-NO-HEADER").iter().filter(|e| e.needs_factus_token) {
        let builder = app.bare(endpoint.method.clone(), &endpoint.path);
        let reply = match &endpoint.body {
            Some(body) => send(builder.json(body)).await,
            None => send(builder).await,
        };
        assert_eq!(
            (reply.status, reply.json()),
            (StatusCode::UNPROCESSABLE_ENTITY, json!({ "detail": missing_token_error() })),
            "{}",
            endpoint.label()
        );
    }
    assert_eq!(app.upstream_requests().await, before, "nothing reached Factus");
}

#[tokio::test]
async fn a_missing_x_factus_token_is_reported_together_with_the_body_errors() {
    let app = TestApp::start(Mode::ClientToken).await;

    send(app.bare(Method::POST, "/invoices").json(&edited(valid_invoice("FAC-X"), vec![remove("/reference_code")])))
        .await
        .errors(
            StatusCode::UNPROCESSABLE_ENTITY,
            &json!([
                { "loc": ["header", "x-factus-token"], "msg": "field required", "type": "value_error.missing" },
                { "loc": ["body", "reference_code"], "msg": "field required", "type": "value_error.missing" }
            ]),
        );
}

#[tokio::test]
async fn in_server_session_mode_every_endpoint_works_without_x_factus_token_on_one_factus_login() {
    let app = TestApp::start(Mode::ServerSession).await;

    let number = app.issue(&valid_invoice("FAC-SESSION")).await;
    app.get(&format!("/invoices/{number}")).await.ok("Factura obtenida exitosamente");
    app.get(&format!("/invoices/{number}/pdf")).await.ok("PDF obtenido exitosamente");
    app.get(&format!("/invoices/{number}/xml")).await.ok("XML obtenido exitosamente");
    app.get(&format!("/invoices/{number}/events")).await.ok("Eventos de factura obtenidos exitosamente");
    app.post(&format!("/invoices/{number}/send-email"), &json!({ "email": "cliente@example.com" }))
        .await
        .ok("Correo enviado exitosamente");
    app.get("/lookups/municipalities?name=bogot").await.ok("Municipios obtenidos exitosamente");
    app.get("/lookups/taxes").await.ok("Tipos de impuesto obtenidos exitosamente");
    app.get("/lookups/units").await.ok("Unidades obtenidas exitosamente");
    app.get("/lookups/numbering-ranges").await.ok("Rangos de numeración obtenidos exitosamente");
    app.get("/lookups/countries?name=colom").await.ok("Países obtenidos exitosamente");
    app.get("/lookups/acquirer?identification_document_id=3&identification_number=1399991")
        .await
        .ok("Datos del adquiriente obtenidos exitosamente");
    app.fault(json!({ "kind": "pending", "method": "POST", "path": "/v1/bills/validate", "times": 1 })).await;
    app.issue(&valid_invoice("FAC-SESSION-PENDING")).await;
    app.delete("/invoices/reference/FAC-SESSION-PENDING").await.ok("Factura eliminada exitosamente");

    assert_eq!(app.upstream_count("POST /oauth/token").await, 1, "one login served every call");
}

#[tokio::test]
async fn in_server_session_mode_a_client_token_still_wins_over_the_session() {
    let app = TestApp::start(Mode::ServerSession).await;

    // The numbering ranges come from Factus on both versions (taxes are bundled on v2).
    send(app.bare(Method::GET, "/lookups/numbering-ranges").header("x-factus-token", "not-a-factus-token"))
        .await
        .detail(StatusCode::BAD_REQUEST, "Unauthenticated.");
    assert_eq!(app.upstream_count("POST /oauth/token").await, 0);
}

#[tokio::test]
async fn every_invoice_and_lookup_endpoint_needs_the_local_bearer_token() {
    let app = TestApp::start(Mode::ServerSession).await;
    let mut endpoints = factus_endpoints("SETP990000001", "FAC-ANON");
    endpoints.push(Endpoint {
        method: Method::GET,
        path: "/lookups/reference-tables".to_owned(),
        body: None,
        prefix: None,
        needs_factus_token: false,
    });

    for endpoint in &endpoints {
        let builder = app.http.request(endpoint.method.clone(), app.url(&endpoint.path));
        let reply = match &endpoint.body {
            Some(body) => send(builder.json(body)).await,
            None => send(builder).await,
        };
        assert_eq!(
            (reply.status, reply.json()),
            (StatusCode::UNAUTHORIZED, json!({ "detail": "Not authenticated" })),
            "{}",
            endpoint.label()
        );
    }
    assert_eq!(app.upstream_requests().await, json!({}));
}

// ---------------------------------------------------------------------------------------------
// Validation of the invoice body: one test per rule, each never reaching Factus
// ---------------------------------------------------------------------------------------------

/// Posts `body` in server-session mode (so the sandbox sees nothing unless the body is sent on),
/// asserts the exact error list, and that Factus was never asked to validate a bill.
async fn assert_refused_locally(body: &Value, status: StatusCode, errors: &Value) {
    let app = TestApp::start(Mode::ServerSession).await;

    app.create(body).await.errors(status, errors);

    let upstream = app.upstream_requests().await;
    assert!(upstream.get("POST /v1/bills/validate").is_none(), "the invoice reached Factus: {upstream}");
    assert_eq!(upstream, json!({}), "nothing at all should reach Factus");
}

/// One `#[tokio::test]` per case: `name: [edits of the valid invoice] => STATUS [(loc, msg, type), …];`.
macro_rules! invoice_rules {
    ($($name:ident: [$($edit:expr),* $(,)?] => $status:ident [$(($loc:tt, $msg:expr, $kind:expr)),+ $(,)?];)+) => {
        $(
            #[tokio::test]
            async fn $name() {
                let body = edited(valid_invoice(stringify!($name)), vec![$($edit),*]);
                let errors = json!([$({ "loc": $loc, "msg": $msg, "type": $kind }),+]);
                assert_refused_locally(&body, StatusCode::$status, &errors).await;
            }
        )+
    };
}

invoice_rules! {
    // Required fields, by family.
    an_invoice_without_a_reference_code_is_a_422: [remove("/reference_code")] => UNPROCESSABLE_ENTITY [
        (["body", "reference_code"], "field required", "value_error.missing"),
    ];
    an_invoice_without_a_customer_is_a_422: [remove("/customer")] => UNPROCESSABLE_ENTITY [
        (["body", "customer"], "field required", "value_error.missing"),
    ];
    an_invoice_without_items_is_a_422: [remove("/items")] => UNPROCESSABLE_ENTITY [
        (["body", "items"], "field required", "value_error.missing"),
    ];
    a_customer_without_its_required_fields_is_a_422_naming_each: [
        remove("/customer/identification_document_id"),
        remove("/customer/identification"),
        remove("/customer/legal_organization_id"),
        remove("/customer/tribute_id"),
    ] => UNPROCESSABLE_ENTITY [
        (["body", "customer", "identification_document_id"], "field required", "value_error.missing"),
        (["body", "customer", "identification"], "field required", "value_error.missing"),
        (["body", "customer", "legal_organization_id"], "field required", "value_error.missing"),
        (["body", "customer", "tribute_id"], "field required", "value_error.missing"),
    ];
    an_item_without_its_required_fields_is_a_422_naming_each: [set("/items", json!([{ "discount_rate": "0.00" }]))]
        => UNPROCESSABLE_ENTITY [
        (["body", "items", 0, "code_reference"], "field required", "value_error.missing"),
        (["body", "items", 0, "name"], "field required", "value_error.missing"),
        (["body", "items", 0, "quantity"], "field required", "value_error.missing"),
        (["body", "items", 0, "price"], "field required", "value_error.missing"),
        (["body", "items", 0, "tax_rate"], "field required", "value_error.missing"),
        (["body", "items", 0, "unit_measure_id"], "field required", "value_error.missing"),
        (["body", "items", 0, "standard_code_id"], "field required", "value_error.missing"),
        (["body", "items", 0, "is_excluded"], "field required", "value_error.missing"),
        (["body", "items", 0, "tribute_id"], "field required", "value_error.missing"),
    ];
    a_billing_period_without_its_end_time_is_a_422: [
        set("/billing_period", json!({ "start_date": "2025-01-01", "end_date": "2025-01-31" })),
    ] => UNPROCESSABLE_ENTITY [
        (["body", "billing_period", "end_time"], "field required", "value_error.missing"),
    ];

    // Types.
    a_numeric_payment_form_is_not_a_string: [set("/payment_form", json!(2))] => UNPROCESSABLE_ENTITY [
        (["body", "payment_form"], "str type expected", "type_error.str"),
    ];
    a_quantity_in_words_is_not_an_integer: [set("/items/0/quantity", json!("two"))] => UNPROCESSABLE_ENTITY [
        (["body", "items", 0, "quantity"], "value is not a valid integer", "type_error.integer"),
    ];
    a_fractional_quantity_is_not_an_integer: [set("/items/0/quantity", json!(1.5))] => UNPROCESSABLE_ENTITY [
        (["body", "items", 0, "quantity"], "value is not a valid integer", "type_error.integer"),
    ];
    a_price_in_words_is_not_a_decimal: [set("/items/0/price", json!("diez mil"))] => UNPROCESSABLE_ENTITY [
        (["body", "items", 0, "price"], "value is not a valid decimal", "type_error.decimal"),
    ];
    items_that_are_not_a_list_are_a_422: [set("/items", json!({ "code_reference": "P" }))] => UNPROCESSABLE_ENTITY [
        (["body", "items"], "value is not a valid list", "type_error.list"),
    ];
    a_customer_that_is_not_an_object_is_a_422: [set("/customer", json!("Juan Perez"))] => UNPROCESSABLE_ENTITY [
        (["body", "customer"], "value is not a valid dict", "type_error.dict"),
    ];
    a_send_email_flag_that_is_not_a_boolean_is_a_422: [set("/send_email", json!("maybe"))] => UNPROCESSABLE_ENTITY [
        (["body", "send_email"], "value could not be parsed to a boolean", "type_error.bool"),
    ];
    a_payment_form_other_than_cash_or_credit_is_a_422: [set("/payment_form", json!("3"))] => UNPROCESSABLE_ENTITY [
        (["body", "payment_form"], "value is not a valid enumeration member; permitted: '1', '2'", "type_error.enum"),
    ];
    a_bad_customer_email_is_a_422: [set("/customer/email", json!("juan-at-example.com"))] => UNPROCESSABLE_ENTITY [
        (["body", "customer", "email"], "value is not a valid email address", "value_error.email"),
    ];
    a_due_date_not_in_iso_format_is_a_422: [set("/payment_due_date", json!("31/12/2025"))] => UNPROCESSABLE_ENTITY [
        (["body", "payment_due_date"], "invalid date format", "value_error.date"),
    ];
    an_impossible_due_date_is_a_422: [set("/payment_due_date", json!("2025-02-30"))] => UNPROCESSABLE_ENTITY [
        (["body", "payment_due_date"], "invalid date format", "value_error.date"),
    ];

    // Field bounds.
    a_quantity_of_zero_is_a_422: [set("/items/0/quantity", json!(0))] => UNPROCESSABLE_ENTITY [
        (["body", "items", 0, "quantity"], "ensure this value is greater than 0", "value_error.number.not_gt"),
    ];
    a_price_of_zero_is_a_422: [set("/items/0/price", json!("0.00"))] => UNPROCESSABLE_ENTITY [
        (["body", "items", 0, "price"], "ensure this value is greater than 0", "value_error.number.not_gt"),
    ];
    a_negative_discount_rate_is_a_422: [set("/items/0/discount_rate", json!(-1))] => UNPROCESSABLE_ENTITY [
        (["body", "items", 0, "discount_rate"], "ensure this value is greater than or equal to 0", "value_error.number.not_ge"),
    ];
    a_discount_rate_above_one_hundred_is_a_422: [set("/items/0/discount_rate", json!("100.01"))] => UNPROCESSABLE_ENTITY [
        (["body", "items", 0, "discount_rate"], "ensure this value is less than or equal to 100", "value_error.number.not_le"),
    ];
    a_negative_tax_rate_is_a_422: [set("/items/0/tax_rate", json!("-0.01"))] => UNPROCESSABLE_ENTITY [
        (["body", "items", 0, "tax_rate"], "ensure this value is greater than or equal to 0", "value_error.number.not_ge"),
    ];
    an_is_excluded_flag_above_one_is_a_422: [set("/items/0/is_excluded", json!(2))] => UNPROCESSABLE_ENTITY [
        (["body", "items", 0, "is_excluded"], "ensure this value is less than or equal to 1", "value_error.number.not_le"),
    ];
    a_negative_is_excluded_flag_is_a_422: [set("/items/0/is_excluded", json!(-1))] => UNPROCESSABLE_ENTITY [
        (["body", "items", 0, "is_excluded"], "ensure this value is greater than or equal to 0", "value_error.number.not_ge"),
    ];
    an_observation_of_251_characters_is_a_422: [set("/observation", json!("o".repeat(251)))] => UNPROCESSABLE_ENTITY [
        (["body", "observation"], "ensure this value has at most 250 characters", "value_error.any_str.max_length"),
    ];

    // Decimal places are a rule of one field, judged with the field checks (as the original's
    // field validators): 422.
    a_price_with_three_decimal_places_is_a_422: [set("/items/0/price", json!(100.555))] => UNPROCESSABLE_ENTITY [
        (["body", "items", 0, "price"], "price must have max 2 decimal places", "value_error"),
    ];
    a_discount_rate_with_three_decimal_places_is_a_422: [set("/items/0/discount_rate", json!("1.005"))] => UNPROCESSABLE_ENTITY [
        (["body", "items", 0, "discount_rate"], "discount_rate must have max 2 decimal places", "value_error"),
    ];
    a_tax_rate_with_three_decimal_places_is_a_422: [set("/items/0/tax_rate", json!("19.001"))] => UNPROCESSABLE_ENTITY [
        (["body", "items", 0, "tax_rate"], "tax_rate must have max 2 decimal places", "value_error"),
    ];

    // Business rules of a well-formed invoice: 400.
    a_credit_invoice_without_a_due_date_is_a_400: [set("/payment_form", json!("2"))] => BAD_REQUEST [
        (["body"], "payment_due_date es obligatorio cuando payment_form es 2 (crédito)", "value_error"),
    ];
    an_invoice_with_an_empty_item_list_is_a_400: [set("/items", json!([]))] => BAD_REQUEST [
        (["body"], "Invoice must contain at least one item", "value_error"),
    ];
    a_customer_with_neither_names_nor_company_is_a_400: [remove("/customer/names")] => BAD_REQUEST [
        (["body", "customer"], "Names is required for natural persons", "value_error"),
    ];
    a_customer_with_a_blank_company_name_is_a_400: [set("/customer/company", json!("   "))] => BAD_REQUEST [
        (["body", "customer"], "Company name cannot be empty", "value_error"),
    ];
    a_nit_customer_without_a_verification_digit_is_a_400: [
        set("/customer/identification_document_id", json!(6)),
        set("/customer/identification", json!("900123456")),
        set("/customer/company", json!("ACME S.A.S.")),
        set("/customer/legal_organization_id", json!(1)),
    ] => BAD_REQUEST [
        (["body", "customer"], "DV is required for NIT", "value_error"),
    ];

    // Several problems of one kind in one answer; business rules wait for a well-formed body.
    every_schema_problem_of_a_body_is_reported_in_one_422: [
        remove("/reference_code"),
        set("/customer/email", json!("nobody")),
        set("/items/0/quantity", json!(0)),
        set("/items/0/price", json!("abc")),
    ] => UNPROCESSABLE_ENTITY [
        (["body", "reference_code"], "field required", "value_error.missing"),
        (["body", "customer", "email"], "value is not a valid email address", "value_error.email"),
        (["body", "items", 0, "price"], "value is not a valid decimal", "type_error.decimal"),
        (["body", "items", 0, "quantity"], "ensure this value is greater than 0", "value_error.number.not_gt"),
    ];
    // The seed's first example: a missing field and a price with three decimals, in one 422.
    a_missing_identification_and_a_three_decimal_price_come_back_in_one_422: [
        remove("/customer/identification"),
        set("/items/0/price", json!(50000.125)),
    ] => UNPROCESSABLE_ENTITY [
        (["body", "customer", "identification"], "field required", "value_error.missing"),
        (["body", "items", 0, "price"], "price must have max 2 decimal places", "value_error"),
    ];
    business_rules_are_not_judged_on_a_malformed_body: [
        remove("/reference_code"),
        set("/items/0/price", json!("1.005")),
        set("/payment_form", json!("2")),
    ] => UNPROCESSABLE_ENTITY [
        (["body", "reference_code"], "field required", "value_error.missing"),
        (["body", "items", 0, "price"], "price must have max 2 decimal places", "value_error"),
    ];
}

#[tokio::test]
async fn an_invoice_breaking_three_business_rules_gets_one_400_listing_all_three() {
    let body = edited(
        valid_invoice("FAC-THREE"),
        vec![
            set("/payment_form", json!("2")),
            remove("/customer/names"),
            set("/customer/identification_document_id", json!(6)),
        ],
    );

    assert_refused_locally(
        &body,
        StatusCode::BAD_REQUEST,
        &json!([
            { "loc": ["body", "customer"], "msg": "Names is required for natural persons", "type": "value_error" },
            { "loc": ["body", "customer"], "msg": "DV is required for NIT", "type": "value_error" },
            { "loc": ["body"], "msg": "payment_due_date es obligatorio cuando payment_form es 2 (crédito)", "type": "value_error" }
        ]),
    )
    .await;
}

#[tokio::test]
async fn malformed_json_is_a_422_with_the_offset_of_the_error() {
    let app = TestApp::start(Mode::ServerSession).await;

    let reply =
        send(app.bare(Method::POST, "/invoices").header("content-type", "application/json").body("{\"a\": }")).await;

    reply.errors(
        StatusCode::UNPROCESSABLE_ENTITY,
        &json!([{ "loc": ["body", 6], "msg": "JSON decode error: expected value at line 1 column 7", "type": "value_error.jsondecode" }]),
    );
    assert_eq!(app.upstream_requests().await, json!({}));
}

// ---------------------------------------------------------------------------------------------
// Upstream failures
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn factus_field_errors_become_a_400_listing_each_field_after_the_message() {
    let app = TestApp::start(Mode::ClientToken).await;
    // Two things only Factus knows are wrong: the account has no range 999, and an exclusion from
    // IVA on an INC item.
    let invoice = edited(
        valid_invoice("FAC-422"),
        vec![
            set("/numbering_range_id", json!(999)),
            set("/items/0/tribute_id", json!(4)),
            set("/items/0/is_excluded", json!(1)),
        ],
    );

    // v2 carries the exclusion in the item's `taxes[]`, so Factus names that field.
    let excluded_field = if FACTUS_API == ApiVersion::V2 { "items.0.taxes.0.is_excluded" } else { "items.0.is_excluded" };
    app.create(&invoice).await.detail(
        StatusCode::BAD_REQUEST,
        &format!(
            "Error al crear la factura: Error de validación — numbering_range_id: El campo id rango de numeración es \
             inválido.; {excluded_field}: El impuesto excluido solo puede ser aplicado al IVA"
        ),
    );
    assert_eq!(app.upstream_bills().await, json!([]));
}

#[tokio::test]
async fn ids_missing_from_the_catalogues_are_a_422_that_never_reaches_factus() {
    let app = TestApp::start(Mode::ClientToken).await;
    let invoice = edited(
        valid_invoice("FAC-IDS"),
        vec![set("/items/0/tribute_id", json!(99)), set("/items/0/unit_measure_id", json!(999_999))],
    );

    app.create(&invoice).await.errors(
        StatusCode::UNPROCESSABLE_ENTITY,
        &json!([
            { "loc": ["body", "items", 0, "unit_measure_id"], "msg": "unit_measure_id 999999 no existe en el catálogo de unidades de medida", "type": "type_error.enum" },
            { "loc": ["body", "items", 0, "tribute_id"], "msg": "tribute_id 99 no existe en el catálogo de tributos de productos", "type": "type_error.enum" },
        ]),
    );
    assert_eq!(app.upstream_requests().await.get("POST /v1/bills/validate"), None);
}

#[tokio::test]
async fn a_factus_422_in_the_reference_shape_reads_exactly_as_the_reference_example() {
    let app = TestApp::start(Mode::ClientToken).await;
    app.fault(json!({
        "kind": "status", "method": "POST", "path": "/v1/bills/validate", "status": 422,
        "body": {
            "message": "Los datos no son válidos",
            "errors": { "customer.names": ["El campo nombres es obligatorio."], "items.0.price": ["precio inválido", "otro"] }
        }
    }))
    .await;

    app.create(&valid_invoice("FAC-422-REF")).await.detail(
        StatusCode::BAD_REQUEST,
        "Error al crear la factura: Los datos no son válidos — customer.names: El campo nombres es obligatorio.; \
         items.0.price: precio inválido, otro",
    );
}

#[tokio::test]
async fn a_reference_code_factus_already_issued_is_a_400_with_the_conflict_message() {
    // Another system (the old wrapper, Factus' web app) issued FAC-409 for another customer and
    // amount. A first send of a new invoice under that reference must be refused with Factus'
    // conflict, never answered with that other bill (the ledger only adopts a bill Factus holds
    // when its own earlier attempt of the entry may have reached Factus).
    let app = TestApp::start(Mode::ClientToken).await;
    let someone_elses = edited(
        valid_invoice("FAC-409"),
        vec![set("/customer/names", json!("Otra Persona")), set("/items/0/price", json!("55000.00"))],
    );
    app.issue_upstream(&someone_elses).await;

    app.create(&valid_invoice("FAC-409")).await.detail(
        StatusCode::BAD_REQUEST,
        "Error al crear la factura: Ya existe una factura con el código de referencia FAC-409",
    );
    assert_eq!(app.upstream_count("POST /v1/bills/validate").await, 2);
}

#[tokio::test]
async fn a_factus_409_with_a_list_of_errors_joins_their_messages() {
    let app = TestApp::start(Mode::ClientToken).await;
    app.fault(json!({
        "kind": "status", "method": "POST", "path": "/v1/bills/validate", "status": 409,
        "body": { "status": "Conflict", "errors": [{ "code": 409, "message": "Referencia duplicada" }, { "code": 409, "message": "Otra" }] }
    }))
    .await;

    app.create(&valid_invoice("FAC-409-LIST"))
        .await
        .detail(StatusCode::BAD_REQUEST, "Error al crear la factura: Referencia duplicada; Otra");
}

#[tokio::test]
async fn a_factus_401_on_a_client_token_is_a_400_with_each_endpoint_prefix() {
    let app = TestApp::start(Mode::ClientToken).await;
    app.fault(json!({ "kind": "unauthorized" })).await;

    app.assert_every_endpoint_fails(StatusCode::BAD_REQUEST, "Unauthenticated.").await;
}

#[tokio::test]
async fn an_expired_or_foreign_client_token_is_a_400_without_a_retry() {
    let app = TestApp::start(Mode::ClientToken).await;

    send(app.bare(Method::GET, "/invoices/SETP990000001").header("x-factus-token", "expired"))
        .await
        .detail(StatusCode::BAD_REQUEST, "Error al obtener la factura: Unauthenticated.");
    send(app.bare(Method::GET, "/lookups/numbering-ranges").header("x-factus-token", "expired"))
        .await
        .detail(StatusCode::BAD_REQUEST, "Unauthenticated.");
    assert_eq!(app.upstream_count("GET /v1/bills/show/{number}").await, 1);
}

#[tokio::test]
async fn an_unknown_bill_number_is_a_400_with_each_endpoint_prefix() {
    let app = TestApp::start(Mode::ClientToken).await;
    let message = "No se encontró la factura con número SETP990000404";

    app.get("/invoices/SETP990000404")
        .await
        .detail(StatusCode::BAD_REQUEST, &format!("Error al obtener la factura: {message}"));
    app.get("/invoices/SETP990000404/pdf")
        .await
        .detail(StatusCode::BAD_REQUEST, &format!("Error al descargar el PDF: {message}"));
    app.get("/invoices/SETP990000404/xml")
        .await
        .detail(StatusCode::BAD_REQUEST, &format!("Error al descargar el XML: {message}"));
    app.get("/invoices/SETP990000404/events")
        .await
        .detail(StatusCode::BAD_REQUEST, &format!("Error al obtener eventos de la factura: {message}"));
    app.post("/invoices/SETP990000404/send-email", &json!({ "email": "cliente@example.com" }))
        .await
        .detail(StatusCode::BAD_REQUEST, &format!("Error al enviar el correo: {message}"));
    app.delete("/invoices/reference/FAC-404").await.detail(
        StatusCode::BAD_REQUEST,
        "Error al eliminar la factura: No se encontró el documento con código de referencia FAC-404",
    );
}

#[tokio::test]
async fn a_factus_500_is_a_503_with_each_endpoint_prefix() {
    let app = TestApp::start(Mode::ClientToken).await;
    app.fault(json!({ "kind": "status", "status": 500 })).await;

    app.assert_every_endpoint_fails(StatusCode::SERVICE_UNAVAILABLE, "Internal Server Error").await;
}

#[tokio::test]
async fn a_factus_that_hangs_is_a_504_with_each_endpoint_prefix() {
    let app = TestApp::start_with(Options::new(Mode::ClientToken).env("FACTUS_TIMEOUT_SECS", "1")).await;
    app.fault(json!({ "kind": "hang" })).await;

    app.assert_every_endpoint_fails(StatusCode::GATEWAY_TIMEOUT, "Factus no respondió a tiempo").await;
}

#[tokio::test]
async fn a_factus_that_refuses_connections_is_a_503_with_each_endpoint_prefix() {
    let mut options = Options::new(Mode::ClientToken);
    options.factus_base_url = Some(closed_port_url().await);
    let mut app = TestApp::start_with(options).await;
    app.factus_token = Some("any-token".to_owned());

    app.assert_every_endpoint_fails(StatusCode::SERVICE_UNAVAILABLE, "All connection attempts failed").await;
}

#[tokio::test]
async fn a_connection_dropped_after_factus_stored_the_bill_is_a_503_and_the_bill_exists() {
    let app = TestApp::start(Mode::ClientToken).await;
    app.fault(json!({ "kind": "drop_after_commit", "method": "POST", "path": "/v1/bills/validate", "times": 1 })).await;

    app.create(&valid_invoice("FAC-DROP")).await.detail(
        StatusCode::SERVICE_UNAVAILABLE,
        "Error al crear la factura: Server disconnected without sending a response.",
    );

    let bills = app.upstream_bills().await;
    assert_eq!(bills.as_array().map(Vec::len), Some(1), "{bills}");
    assert_eq!(bills[0]["reference_code"], "FAC-DROP");
    assert_eq!(app.upstream_count("POST /v1/bills/validate").await, 1, "a create is never sent twice");
}

#[tokio::test]
async fn a_create_that_fails_with_a_5xx_is_never_retried() {
    let app = TestApp::start(Mode::ClientToken).await;
    app.fault(json!({ "kind": "status", "status": 503, "method": "POST", "path": "/v1/bills/validate", "times": 1 }))
        .await;

    app.create(&valid_invoice("FAC-ONCE"))
        .await
        .detail(StatusCode::SERVICE_UNAVAILABLE, "Error al crear la factura: Service Unavailable");
    assert_eq!(app.upstream_count("POST /v1/bills/validate").await, 1);
}

/// Factus' own rate limit (80 requests a minute per account) is never shown to the client: the
/// gateway waits for the window Factus names (`Retry-After`, 1 s here) and sends again.
#[tokio::test]
async fn a_factus_rate_limit_is_waited_out_and_never_shown_to_the_client() {
    let app = TestApp::start(Mode::ClientToken).await;
    app.fault(json!({ "kind": "rate_limit", "method": "GET", "path": "/v1/numbering-ranges", "times": 2 })).await;

    let started = std::time::Instant::now();
    app.get("/lookups/numbering-ranges").await.ok("Rangos de numeración obtenidos exitosamente");

    assert!(started.elapsed() >= std::time::Duration::from_secs(2), "waited {:?}", started.elapsed());
    assert_eq!(app.upstream_count("GET /v1/numbering-ranges").await, 3, "two refused, then answered");
}

/// A 429 proves Factus' throttle turned the create away before it did anything: it is sent again,
/// and issued once.
#[tokio::test]
async fn a_create_turned_away_by_the_factus_rate_limit_is_sent_again_and_issued_once() {
    let app = TestApp::start(Mode::ClientToken).await;
    app.fault(json!({ "kind": "rate_limit", "method": "POST", "path": "/v1/bills/validate", "times": 1 })).await;
    let invoice = valid_invoice("FAC-429");

    app.create(&invoice).await.ok("Factura creada exitosamente");

    assert_eq!(app.upstream_count("POST /v1/bills/validate").await, 2);
    assert_eq!(app.upstream_bills().await.as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_lookup_that_fails_once_with_a_5xx_is_retried_and_succeeds() {
    let app = TestApp::start(Mode::ClientToken).await;
    app.fault(json!({ "kind": "status", "status": 503, "method": "GET", "path": "/v1/numbering-ranges", "times": 1 }))
        .await;

    app.get("/lookups/numbering-ranges").await.ok("Rangos de numeración obtenidos exitosamente");
    assert_eq!(app.upstream_count("GET /v1/numbering-ranges").await, 2);
}

#[tokio::test]
async fn after_repeated_failures_the_circuit_opens_and_factus_is_not_called() {
    let app = TestApp::start_with(
        Options::new(Mode::ClientToken)
            .env("FACTUS_BREAKER_CONSECUTIVE_FAILURES", "2")
            .env("FACTUS_RETRY_MAX_ATTEMPTS", "1"),
    )
    .await;
    app.fault(json!({ "kind": "status", "status": 500, "method": "GET", "path": "/v1/numbering-ranges" })).await;

    for _ in 0..2 {
        app.get("/lookups/numbering-ranges").await.detail(StatusCode::SERVICE_UNAVAILABLE, "Internal Server Error");
    }
    app.get("/lookups/numbering-ranges").await.detail(StatusCode::SERVICE_UNAVAILABLE, "Factus no está disponible");
    app.get("/invoices/SETP990000001")
        .await
        .detail(StatusCode::SERVICE_UNAVAILABLE, "Error al obtener la factura: Factus no está disponible");

    assert_eq!(app.upstream_count("GET /v1/numbering-ranges").await, 2);
    assert_eq!(app.upstream_count("GET /v1/bills/show/{number}").await, 0);
}

// ---------------------------------------------------------------------------------------------
// The server-managed session
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_server_session_renews_itself_when_its_token_expires() {
    // The numbering-range cache would answer the second lookup without Factus; this test is about
    // the session, so every lookup must reach Factus.
    let mut options = Options::new(Mode::ServerSession).env("FACTUS_NUMBERING_RANGE_CACHE_SECS", "0");
    options.sandbox.token_ttl = Duration::from_secs(2);
    let app = TestApp::start_with(options).await;

    app.get("/lookups/numbering-ranges").await.ok("Rangos de numeración obtenidos exitosamente");
    assert_eq!(app.upstream_count("POST /oauth/token").await, 1);
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    app.get("/lookups/numbering-ranges").await.ok("Rangos de numeración obtenidos exitosamente");

    let upstream = app.upstream_requests().await;
    assert_eq!(upstream["POST /oauth/token"], 2, "a second token request renewed the session: {upstream}");
    assert_eq!(upstream["GET /v1/numbering-ranges"], 2, "no call was refused with the expired token: {upstream}");
}

#[tokio::test]
async fn the_server_session_renews_itself_once_after_a_factus_401_and_the_client_never_notices() {
    let app = TestApp::start(Mode::ServerSession).await;
    app.get("/lookups/taxes").await.ok("Tipos de impuesto obtenidos exitosamente");
    app.fault(json!({ "kind": "unauthorized", "method": "GET", "path": "/v1/numbering-ranges", "times": 1 })).await;

    app.get("/lookups/numbering-ranges").await.ok("Rangos de numeración obtenidos exitosamente");

    let upstream = app.upstream_requests().await;
    assert_eq!(upstream["POST /oauth/token"], 2, "{upstream}");
    assert_eq!(upstream["GET /v1/numbering-ranges"], 2, "{upstream}");
}

#[tokio::test]
async fn a_create_refused_with_401_in_server_session_mode_is_sent_again_once_with_a_fresh_token() {
    let app = TestApp::start(Mode::ServerSession).await;
    app.fault(json!({ "kind": "unauthorized", "method": "POST", "path": "/v1/bills/validate", "times": 1 })).await;

    let data = app.create(&valid_invoice("FAC-401")).await.ok("Factura creada exitosamente");

    assert_eq!(data["number"], "SETP990000001");
    assert_eq!(app.upstream_count("POST /v1/bills/validate").await, 2);
    assert_eq!(app.upstream_count("POST /oauth/token").await, 2);
}

#[tokio::test]
async fn server_credentials_factus_refuses_make_every_call_a_503_naming_the_session() {
    let app = TestApp::start_with(Options::new(Mode::ServerSession).env("FACTUS_PASSWORD", "not-the-password")).await;
    let reason = "Factus rechazó la sesión del servidor: The user credentials were incorrect.";

    app.create(&valid_invoice("FAC-BAD-SESSION"))
        .await
        .detail(StatusCode::SERVICE_UNAVAILABLE, &format!("Error al crear la factura: {reason}"));
    app.get("/lookups/numbering-ranges").await.detail(StatusCode::SERVICE_UNAVAILABLE, reason);
    assert_eq!(app.upstream_count("POST /v1/bills/validate").await, 0);
}

// ---------------------------------------------------------------------------------------------
// FACTUS_API_VERSION=auto
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn on_auto_the_readme_offline_flow_works_and_finds_the_account_version_with_at_most_one_refusal() {
    let app =
        TestApp::start_with(Options::new(Mode::ServerSession).env("FACTUS_API_VERSION", "auto")).await;

    // The README's steps: Factus login, create (with an Idempotency-Key), download the PDF.
    let factus = app
        .post("/auth/factus/login", &json!({"email": DEFAULT_USERNAME, "password": DEFAULT_PASSWORD}))
        .await
        .ok("Autenticación exitosa");
    let factus_token = factus["access_token"].as_str().expect("a Factus token").to_owned();
    let readme_invoice = json!({
        "numbering_range_id": 8, "reference_code": "FAC-README", "payment_form": "1", "payment_method_code": "10",
        "customer": {"identification_document_id": 3, "identification": "123456789", "names": "Juan Perez",
                     "legal_organization_id": 2, "tribute_id": 21, "municipality_id": 980, "email": "juan@example.com"},
        "items": [{"code_reference": "P-001", "name": "Producto", "quantity": 1, "discount_rate": "0.00",
                   "price": "10000.00", "tax_rate": "19.00", "unit_measure_id": 70, "standard_code_id": 1,
                   "is_excluded": 0, "tribute_id": 1}]
    });
    let created = send(
        app.request(Method::POST, "/invoices")
            .header("x-factus-token", &factus_token)
            .header("idempotency-key", "readme-offline-flow")
            .json(&readme_invoice),
    )
    .await
    .ok("Factura creada exitosamente");
    assert_eq!(created["number"], "SETP990000001");
    let pdf = send(app.request(Method::GET, "/invoices/SETP990000001/pdf").header("x-factus-token", &factus_token))
        .await
        .ok("PDF obtenido exitosamente");
    assert!(!pdf["file_content"].as_str().unwrap_or_default().is_empty());

    // On a v2-only account: exactly one 403 (the first call, on v1), every later call on /v2. On
    // a v1 account auto never moves.
    let log: Value = app.http.get(app.sandbox_url("/__sandbox/requests/log")).send().await.unwrap().json().await.unwrap();
    let calls: Vec<&Value> = log["requests"]
        .as_array()
        .expect("a log")
        .iter()
        .filter(|entry| entry["path"].as_str().is_some_and(|path| path.starts_with("/v")))
        .collect();
    let refused: Vec<usize> =
        calls.iter().enumerate().filter(|(_, entry)| entry["status"] == 403).map(|(index, _)| index).collect();
    let (expected_refusals, version_prefix) = match FACTUS_API {
        ApiVersion::V2 => (vec![0], "/v2/"),
        _ => (vec![], "/v1/"),
    };
    assert_eq!(refused, expected_refusals, "{log}");
    let later = calls.iter().skip(expected_refusals.len());
    assert!(later.clone().all(|entry| entry["path"].as_str().is_some_and(|path| path.starts_with(version_prefix))), "{log}");
    assert!(later.count() >= 2, "{log}");

    let ready = app.get("/health/ready").await;
    assert_eq!(ready.json()["factus_api_version"], FACTUS_API.as_str());
}

// ---------------------------------------------------------------------------------------------
// DIAN rejections never block the account (issue 11)
// ---------------------------------------------------------------------------------------------

/// The rule the sandbox (like DIAN) applies to a NIT whose check digit is wrong.
const FAK24: &str = "Regla: FAK24, Rechazo: No está informado el DV del NIT";

/// A valid invoice for a company whose NIT 900373115 carries the wrong check digit (it is 3).
fn invoice_with_wrong_nit_dv(reference: &str) -> Value {
    edited(
        valid_invoice(reference),
        vec![
            set("/customer/identification_document_id", json!(6)),
            set("/customer/identification", json!("900373115")),
            set("/customer/dv", json!("4")),
            set("/customer/company", json!("Acme SAS")),
            set("/customer/legal_organization_id", json!(1)),
        ],
    )
}

impl TestApp {
    /// The document per family that makes the sandbox refuse new creates with 409.
    async fn blockers(&self) -> Value {
        let response = self.http.get(self.sandbox_url("/__sandbox/blockers")).send().await.expect("the blockers");
        response.json().await.expect("a JSON body")
    }

    /// Sends `invoice` straight to the sandbox, behind the service's back; returns the status.
    async fn create_upstream(&self, invoice: &Value) -> StatusCode {
        let token: Value = self
            .http
            .post(self.sandbox_url("/oauth/token"))
            .form(&factus_sandbox::DEFAULT_PASSWORD_GRANT)
            .send()
            .await
            .expect("a sandbox token")
            .json()
            .await
            .expect("a JSON body");
        // On v2 the same invoice goes as the gateway would translate it.
        let body = match FACTUS_API {
            ApiVersion::V2 => factus_infrastructure::factus::payload_v2::bill_payload(
                &factus_web::invoices::request::parse_invoice(invoice).expect("a valid invoice"),
            ),
            _ => invoice.clone(),
        };
        self.http
            .post(self.sandbox_url(&forward("/v1/bills/validate")))
            .bearer_auth(token["access_token"].as_str().expect("an access token"))
            .json(&body)
            .send()
            .await
            .expect("a direct create")
            .status()
    }
}

#[tokio::test]
async fn a_sale_with_a_wrong_nit_check_digit_is_rejected_with_fak24_and_the_next_invoice_goes_through() {
    let app = TestApp::start(Mode::ClientToken).await;

    app.create(&invoice_with_wrong_nit_dv("FAC-DV"))
        .await
        .detail(StatusCode::BAD_REQUEST, &format!("Error al crear la factura: {FAK24}"));

    // Nobody deleted anything by hand: the gateway removed the stuck document itself.
    assert_eq!(app.blockers().await["bills"], Value::Null);
    assert_eq!(app.upstream_count("DELETE /v1/bills/destroy/reference/{reference_code}").await, 1);
    app.issue(&valid_invoice("FAC-NEXT")).await;

    let rejected = app.get("/invoices?state=rejected").await.ok("Facturas obtenidas exitosamente");
    let entry = &rejected["items"][0];
    assert_eq!((entry["reference_code"].as_str(), entry["kind"].as_str()), (Some("FAC-DV"), Some("invoice")));
    assert_eq!(entry["error"], format!("DIAN: {FAK24} (eliminado en Factus)"));
}

#[tokio::test]
async fn with_factus_delete_rejected_off_the_next_invoice_gets_409_naming_the_stuck_reference() {
    let app = TestApp::start_with(Options::new(Mode::ClientToken).env("FACTUS_DELETE_REJECTED", "false")).await;

    app.create(&invoice_with_wrong_nit_dv("FAC-STUCK"))
        .await
        .detail(StatusCode::BAD_REQUEST, &format!("Error al crear la factura: {FAK24}"));
    assert_eq!(app.blockers().await["bills"]["reference_code"], "FAC-STUCK");

    app.create(&valid_invoice("FAC-BLOCKED")).await.detail(
        StatusCode::CONFLICT,
        "Error al crear la factura: Se encontró una factura pendiente por enviar a la DIAN. \
         Documento pendiente en Factus: reference_code FAC-STUCK",
    );
    assert_eq!(app.upstream_count("DELETE /v1/bills/destroy/reference/{reference_code}").await, 0);
}

#[tokio::test]
async fn a_rejected_invoice_that_could_not_be_deleted_is_deleted_when_it_blocks_the_next_one() {
    let app = TestApp::start(Mode::ClientToken).await;
    // The first deletion fails, so the rejected document stays stuck at Factus.
    app.fault(json!({ "kind": "status", "status": 503, "method": "DELETE", "path": "/v1/bills/destroy", "times": 1 }))
        .await;
    app.create(&invoice_with_wrong_nit_dv("FAC-DV-2"))
        .await
        .detail(StatusCode::BAD_REQUEST, &format!("Error al crear la factura: {FAK24}"));
    assert_eq!(app.blockers().await["bills"]["reference_code"], "FAC-DV-2");

    // Factus refuses the next one with 409; the ledger knows the stuck document is ours, so the
    // gateway deletes it and sends the invoice again.
    app.issue(&valid_invoice("FAC-AFTER")).await;

    assert_eq!(app.blockers().await["bills"], Value::Null);
    assert_eq!(app.upstream_count("POST /v1/bills/validate").await, 3);
}

#[tokio::test]
async fn a_stuck_document_that_is_not_ours_is_named_in_the_409_and_left_alone() {
    let app = TestApp::start(Mode::ClientToken).await;
    // Another system on the same Factus account sends a document DIAN rejects.
    assert_eq!(app.create_upstream(&invoice_with_wrong_nit_dv("OTHER-SYSTEM")).await, StatusCode::UNPROCESSABLE_ENTITY);

    app.create(&valid_invoice("FAC-MINE")).await.detail(
        StatusCode::CONFLICT,
        "Error al crear la factura: Se encontró una factura pendiente por enviar a la DIAN. \
         Documento pendiente en Factus: reference_code OTHER-SYSTEM",
    );
    assert_eq!(app.upstream_count("DELETE /v1/bills/destroy/reference/{reference_code}").await, 0);
    assert_eq!(app.blockers().await["bills"]["reference_code"], "OTHER-SYSTEM");
}
