//! The Factus gateway against a scripted Factus (wiremock): the exact requests it sends, how it
//! reads every kind of answer, and how it behaves when Factus misbehaves (retries, circuit
//! breaker, server session).

use std::io;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use factus_application::company::{CompanyUpdate, LogoImage};
use factus_application::document::Document;
use factus_application::factus::{
    CircuitState, DocumentFormat, FactusAccess, FactusAccountGateway, FactusApiVersion, FactusAuthGateway,
    FactusBillGateway, FactusError, FactusLookupGateway, FactusStatus, IssuedBill,
};
use factus_application::ledger::DocumentKind;
use factus_application::numbering_ranges::{NewNumberingRange, NumberingRangeFilter};
use factus_domain::invoice::Invoice;
use factus_infrastructure::factus::{
    ApiVersionSetting, BreakerPolicy, FactusGateway, FactusGatewayConfig, RatePolicy, RetryPolicy,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;
use wiremock::matchers::{body_string, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const USER_AGENT: &str = concat!("factus-api/", env!("CARGO_PKG_VERSION"));
const CLIENT_TOKEN: &str = "client-token";

/// The reference's "minimal, verified" payload (`docs/contract.md` §3.6), byte for byte.
const MINIMAL_PAYLOAD: &str = r#"{"document":"01","reference_code":"R2","payment_form":"1","payment_method_code":"10","customer":{"identification_document_id":3,"identification":"1","legal_organization_id":2,"tribute_id":21,"names":"Juan"},"items":[{"code_reference":"P","name":"N","quantity":1,"discount_rate":"0.00","price":"100.5","tax_rate":"19","unit_measure_id":70,"standard_code_id":1,"is_excluded":0,"tribute_id":1}]}"#;

/// What Factus answers (403) to a call on an API version the company may not use.
const VERSION_REFUSED: &str = "Version de API no disponible para esta empresa";

const PASSWORD_FORM: &str = "grant_type=password&client_id=factus-client&client_secret=factus%2Bsecret&username=sandbox%40factus.com.co&password=sandbox2024%25";

fn config(uri: &str) -> FactusGatewayConfig {
    let mut config = FactusGatewayConfig::new(uri, "factus-client", SecretString::from("factus+secret"))
        .with_request_timeout(Duration::from_secs(5));
    config.retry =
        RetryPolicy { max_attempts: 3, base_delay: Duration::from_millis(10), max_delay: Duration::from_millis(40) };
    config
}

fn gateway(server: &MockServer) -> FactusGateway {
    FactusGateway::new(config(&server.uri())).expect("valid config")
}

fn with_session(config: FactusGatewayConfig) -> FactusGatewayConfig {
    config.with_server_credentials("sandbox@factus.com.co", SecretString::from("sandbox2024%"))
}

fn client() -> FactusAccess {
    FactusAccess::ClientToken(SecretString::from(CLIENT_TOKEN))
}

fn minimal_invoice() -> Invoice {
    Invoice::parse(factus_domain::testing::minimal_draft()).expect("the reference's minimal invoice is valid")
}

fn token_json(access: &str, expires_in: i64, refresh: &str) -> Value {
    json!({"token_type": "Bearer", "expires_in": expires_in, "access_token": access, "refresh_token": refresh})
}

fn created_json() -> Value {
    json!({
        "status": "Created",
        "message": "Documento con el código de referencia R2 registrado y validado con éxito",
        "data": {
            "company": {"nit": "901724254"},
            "numbering_range": {"prefix": "SETP", "from": 990000000, "to": 995000000},
            "bill": {"id": 1, "number": "SETP990000123", "reference_code": "R2", "status": 1,
                     "qr": "https://qr", "cufe": "cufe123"}
        }
    })
}

/// The bill `created_json` describes, with the message Factus sent along with it, if any.
fn created_bill(message: Option<&str>) -> IssuedBill {
    IssuedBill {
        number: "SETP990000123".into(),
        prefix: "SETP".into(),
        cufe: "cufe123".into(),
        qr_url: "https://qr".into(),
        status: "1".into(),
        message: message.map(Into::into),
    }
}

fn shown_json() -> Value {
    json!({"status": "OK", "message": "Solicitud exitosa", "data": {"bill": {"number": "SETP1", "status": 1}}})
}

fn ok_json(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

/// Factus answers the password grant of the test credentials with `answer`, `times` times.
async fn mount_login(server: &MockServer, answer: ResponseTemplate, times: u64) {
    Mock::given(path("/oauth/token"))
        .and(body_string(PASSWORD_FORM))
        .respond_with(answer)
        .expect(times)
        .mount(server)
        .await;
}

/// Factus answers the refresh grant of `refresh_token` (form-encoded) with `answer`, `times` times.
async fn mount_refresh(server: &MockServer, refresh_token: &str, answer: ResponseTemplate, times: u64) {
    Mock::given(path("/oauth/token"))
        .and(body_string(format!(
            "grant_type=refresh_token&client_id=factus-client&client_secret=factus%2Bsecret&refresh_token={refresh_token}"
        )))
        .respond_with(answer)
        .expect(times)
        .mount(server)
        .await;
}

/// A JSON answer `{"message": …}` with `status`, the shape Factus gives its refusals in.
fn message_answer(status: u16, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({"message": message}))
}

/// Factus' rate-limit refusal, naming how many seconds to wait.
fn too_many_requests(retry_after: &str) -> ResponseTemplate {
    ResponseTemplate::new(429).insert_header("retry-after", retry_after)
}

/// A Factus that answers every request to `at` with `answer`.
async fn answering(at: &str, answer: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(path(at)).respond_with(answer).mount(&server).await;
    server
}

/// Factus answers `at` with `answer`, exactly `times` times (checked when the server drops).
async fn mount_expect(server: &MockServer, at: &str, answer: ResponseTemplate, times: u64) {
    Mock::given(path(at)).respond_with(answer).expect(times).mount(server).await;
}

/// Factus answers `at` with `failure` for the first `times` calls and with `then` after that:
/// the higher priority makes the failure win while it lasts.
async fn mount_failing_first(
    server: &MockServer,
    at: &str,
    failure: ResponseTemplate,
    times: u64,
    then: ResponseTemplate,
) {
    Mock::given(path(at)).respond_with(failure).up_to_n_times(times).with_priority(1).mount(server).await;
    Mock::given(path(at)).respond_with(then).mount(server).await;
}

/// A form POST to `at` with the headers every OAuth grant must carry.
fn form_post(at: &str) -> wiremock::MockBuilder {
    Mock::given(method("POST"))
        .and(path(at))
        .and(header("accept", "application/json"))
        .and(header("user-agent", USER_AGENT))
        .and(header("content-type", "application/x-www-form-urlencoded"))
}

/// Starts `count` concurrent calls on one shared gateway; the caller awaits the handles.
fn spawn_calls<Call, Answer>(
    gateway: &Arc<FactusGateway>,
    count: usize,
    call: impl Fn(Arc<FactusGateway>) -> Call,
) -> Vec<tokio::task::JoinHandle<Answer>>
where
    Call: std::future::Future<Output = Answer> + Send + 'static,
    Answer: Send + 'static,
{
    (0..count).map(|_| tokio::spawn(call(Arc::clone(gateway)))).collect()
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.expect("request recording is on")
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

fn rejected(error: &FactusError) -> (u16, &str) {
    match error {
        FactusError::Rejected { status, message } => (*status, message.as_str()),
        other => panic!("expected Rejected, got {other:?}"),
    }
}

// ---------------------------------------------------------------- OAuth

#[tokio::test]
async fn the_password_grant_is_the_reference_form_byte_for_byte() {
    let server = MockServer::start().await;
    form_post("/oauth/token")
        .and(body_string(PASSWORD_FORM))
        .respond_with(ok_json(json!({"token_type": "Bearer", "expires_in": 3600, "access_token": "AT"})))
        .expect(1)
        .mount(&server)
        .await;

    let token = gateway(&server)
        .login("sandbox@factus.com.co", &SecretString::from("sandbox2024%"))
        .await
        .expect("login succeeds");

    assert_eq!(token.access_token.expose_secret(), "AT");
    assert_eq!((token.token_type.as_str(), token.expires_in), ("Bearer", 3600));
    assert!(token.refresh_token.is_none());
    assert!(requests(&server).await[0].headers.get("authorization").is_none());
}

#[tokio::test]
async fn the_refresh_grant_is_the_reference_form_byte_for_byte() {
    let server = MockServer::start().await;
    form_post("/oauth/token")
        .and(body_string(
            "grant_type=refresh_token&client_id=factus-client&client_secret=factus%2Bsecret&refresh_token=def50200%2Fab%3D",
        ))
        .respond_with(ok_json(token_json("AT2", 3600, "RT2")))
        .expect(1)
        .mount(&server)
        .await;

    let token = gateway(&server).refresh(&SecretString::from("def50200/ab=")).await.expect("refresh succeeds");

    assert_eq!(token.access_token.expose_secret(), "AT2");
    assert_eq!(token.refresh_token.as_ref().map(ExposeSecret::expose_secret), Some("RT2"));
}

#[tokio::test]
async fn refused_credentials_carry_factus_oauth_message() {
    let server = MockServer::start().await;
    Mock::given(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_grant",
            "error_description": "The user credentials were incorrect.",
        })))
        .expect(1)
        .mount(&server)
        .await;

    let error = gateway(&server).login("a@b.co", &SecretString::from("wrong")).await.unwrap_err();

    assert_eq!(rejected(&error), (400, "The user credentials were incorrect."));
}

#[tokio::test]
async fn a_token_answer_without_access_token_is_invalid_with_the_reference_text() {
    let server = answering("/oauth/token", ok_json(json!({"token_type": "Bearer", "expires_in": 3600}))).await;

    let error = gateway(&server).login("a@b.co", &SecretString::from("x")).await.unwrap_err();

    assert!(matches!(&error, FactusError::InvalidResponse { message } if message == "'access_token'"), "{error:?}");
}

// ---------------------------------------------------------------- create

#[tokio::test]
async fn the_minimal_invoice_is_posted_byte_for_byte_with_the_client_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/bills/validate"))
        .and(header("accept", "application/json"))
        .and(header("user-agent", USER_AGENT))
        .and(header("authorization", "Bearer client-token"))
        .and(header("content-type", "application/json"))
        .and(body_string(MINIMAL_PAYLOAD))
        .respond_with(ResponseTemplate::new(201).set_body_json(created_json()))
        .expect(1)
        .mount(&server)
        .await;

    let bill = gateway(&server).validate_bill(&client(), &Document::from(minimal_invoice())).await.expect("created");

    assert_eq!(bill, created_bill(Some("Documento con el código de referencia R2 registrado y validado con éxito")));
}

async fn create_answered_with(response: ResponseTemplate) -> FactusError {
    let server = MockServer::start().await;
    Mock::given(path("/v1/bills/validate")).respond_with(response).expect(1).mount(&server).await;
    gateway(&server).validate_bill(&client(), &Document::from(minimal_invoice())).await.unwrap_err()
}

#[tokio::test]
async fn field_errors_are_joined_after_the_message_with_an_em_dash() {
    let error = create_answered_with(ResponseTemplate::new(422).set_body_json(json!({
        "message": "Los datos no son válidos",
        "errors": {
            "customer.names": ["El campo nombres es obligatorio."],
            "items.0.price": ["precio inválido", "otro"]
        }
    })))
    .await;

    assert_eq!(
        rejected(&error),
        (
            422,
            "Los datos no son válidos — customer.names: El campo nombres es obligatorio.; items.0.price: precio inválido, otro"
        )
    );
}

#[tokio::test]
async fn a_conflict_list_is_joined() {
    let error = create_answered_with(ResponseTemplate::new(409).set_body_json(json!({
        "status": "Conflict",
        "errors": [{"code": 409, "message": "Referencia R2 duplicada"}, {"code": 409, "message": "Factura pendiente"}]
    })))
    .await;

    assert_eq!(rejected(&error), (409, "Referencia R2 duplicada; Factura pendiente"));
}

#[tokio::test]
async fn a_plain_message_is_passed_on() {
    let error = create_answered_with(ResponseTemplate::new(409).set_body_json(json!({
        "status": "Conflict", "message": "Se encontró una factura pendiente por enviar a la DIAN"
    })))
    .await;

    assert_eq!(rejected(&error), (409, "Se encontró una factura pendiente por enviar a la DIAN"));
}

#[tokio::test]
async fn json_without_a_message_gives_the_endpoint_default() {
    let error = create_answered_with(ResponseTemplate::new(400).set_body_json(json!({"status": "Bad Request"}))).await;

    assert_eq!(rejected(&error), (400, "Error al validar la factura"));
}

#[tokio::test]
async fn a_body_that_is_not_json_is_passed_on_as_text() {
    let error = create_answered_with(ResponseTemplate::new(403).set_body_string("error code: 1010")).await;

    assert_eq!(rejected(&error), (403, "error code: 1010"));
}

#[tokio::test]
async fn an_empty_error_body_reads_as_the_http_status() {
    let error = create_answered_with(ResponseTemplate::new(404)).await;

    assert_eq!(rejected(&error), (404, "HTTP 404"));
}

#[tokio::test]
async fn a_create_answered_with_503_is_unavailable_and_never_retried() {
    let error = create_answered_with(message_answer(503, "En mantenimiento").insert_header("retry-after", "0")).await;

    assert!(
        matches!(&error, FactusError::Unavailable { message, request_sent: true } if message == "En mantenimiento"),
        "{error:?}"
    );
    assert!(error.is_ambiguous());
}

#[tokio::test]
async fn a_2xx_create_answer_that_is_not_json_is_an_invalid_response() {
    let error = create_answered_with(ResponseTemplate::new(201).set_body_string("<html>ok</html>")).await;

    assert!(matches!(error, FactusError::InvalidResponse { .. }), "{error:?}");
}

#[tokio::test]
async fn a_refused_connection_is_unavailable_without_the_request_being_sent() {
    let gateway = FactusGateway::new(config(&format!("http://127.0.0.1:{}", closed_port()))).expect("config");

    let error = gateway.validate_bill(&client(), &Document::from(minimal_invoice())).await.unwrap_err();

    assert!(
        matches!(&error, FactusError::Unavailable { message, request_sent: false } if message == "All connection attempts failed"),
        "{error:?}"
    );
    assert!(!error.is_ambiguous());
}

#[tokio::test]
async fn a_connection_dropped_after_the_request_is_unavailable_and_ambiguous() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.expect("accept");
        let mut buffer = vec![0_u8; 8192];
        let _read = socket.read(&mut buffer).await.expect("read the request");
        // Dropping the socket closes the connection without an answer.
    });
    let gateway = FactusGateway::new(config(&format!("http://{address}"))).expect("config");

    let error = gateway.validate_bill(&client(), &Document::from(minimal_invoice())).await.unwrap_err();

    server.await.expect("server task");
    assert!(matches!(error, FactusError::Unavailable { request_sent: true, .. }), "{error:?}");
    assert!(error.is_ambiguous());
}

#[tokio::test]
async fn an_answer_slower_than_the_timeout_is_a_timeout() {
    let server = answering("/v1/bills/show/SETP1", ok_json(shown_json()).set_delay(Duration::from_secs(3))).await;
    let gateway =
        FactusGateway::new(config(&server.uri()).with_request_timeout(Duration::from_millis(300))).expect("config");

    let started = Instant::now();
    let error = gateway.show_bill(&client(), DocumentKind::Invoice, "SETP1").await.unwrap_err();

    assert!(matches!(error, FactusError::Timeout), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(2), "the deadline bounds the call: {:?}", started.elapsed());
    assert_eq!(requests(&server).await.len(), 1, "no time was left to retry");
}

// ---------------------------------------------------------------- reads and other bill calls

#[tokio::test]
async fn a_shown_bill_is_passed_through_as_status_message_and_data() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/bills/show/SETP990000123"))
        .and(header("authorization", "Bearer client-token"))
        .and(header("accept", "application/json"))
        .and(header("user-agent", USER_AGENT))
        .respond_with(ok_json(json!({"data": {"bill": {"number": "SETP990000123"}}, "status": "OK"})))
        .expect(1)
        .mount(&server)
        .await;

    let shown = gateway(&server).show_bill(&client(), DocumentKind::Invoice, "SETP990000123").await.expect("shown");

    assert_eq!(shown.as_str(), r#"{"status":"OK","message":null,"data":{"bill":{"number":"SETP990000123"}}}"#);
}

#[tokio::test]
async fn a_shown_bill_without_data_is_an_invalid_response() {
    let server = answering("/v1/bills/show/SETP1", ok_json(json!({"status": "OK"}))).await;

    let error = gateway(&server).show_bill(&client(), DocumentKind::Invoice, "SETP1").await.unwrap_err();

    assert!(matches!(error, FactusError::InvalidResponse { .. }), "{error:?}");
}

#[tokio::test]
async fn downloads_read_the_file_of_their_format() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/bills/download-pdf/SETP1"))
        .and(header("authorization", "Bearer client-token"))
        .respond_with(ok_json(
            json!({"status": "OK", "data": {"file_name": "FE-SETP1", "pdf_base_64_encoded": "JVBERi0="}}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/bills/download-xml/SETP1"))
        .respond_with(ok_json(json!({"status": "OK", "data": {}})))
        .mount(&server)
        .await;
    let gateway = gateway(&server);

    let pdf =
        gateway.download_document(&client(), DocumentKind::Invoice, "SETP1", DocumentFormat::Pdf).await.expect("pdf");
    let xml =
        gateway.download_document(&client(), DocumentKind::Invoice, "SETP1", DocumentFormat::Xml).await.expect("xml");

    assert_eq!((pdf.file_name.as_str(), pdf.content_base64.as_str()), ("FE-SETP1", "JVBERi0="));
    assert_eq!((xml.file_name.as_str(), xml.content_base64.as_str()), ("SETP1.xml", ""));
    assert_eq!(xml.format, DocumentFormat::Xml);
}

#[tokio::test]
async fn a_missing_document_carries_factus_not_found_message() {
    let server = MockServer::start().await;
    mount_expect(&server, "/v1/bills/download-pdf/NOPE", message_answer(404, "Factura no encontrada"), 1).await;

    let error = gateway(&server)
        .download_document(&client(), DocumentKind::Invoice, "NOPE", DocumentFormat::Pdf)
        .await
        .unwrap_err();

    assert_eq!(rejected(&error), (404, "Factura no encontrada"));
}

#[tokio::test]
async fn events_are_read_from_the_radian_endpoint() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/bills/SETP1/radian/events"))
        .respond_with(ok_json(json!({"status": "OK", "message": "Solicitud exitosa", "data": [{
            "number": "AP68", "cude": "c1", "event_code": "030", "event_name": "Acuse de recibo",
            "effective_date": "2025-01-09", "effective_time": "13:56:16"
        }]})))
        .mount(&server)
        .await;

    let events = gateway(&server).events(&client(), "SETP1").await.expect("events");

    assert_eq!(events.status, "OK");
    assert_eq!(events.message.as_deref(), Some("Solicitud exitosa"));
    assert_eq!(events.events.len(), 1);
    assert_eq!((events.events[0].event_code.as_str(), events.events[0].effective_time.as_str()), ("030", "13:56:16"));
}

#[tokio::test]
async fn an_event_missing_a_field_is_an_invalid_response() {
    let server =
        answering("/v1/bills/SETP1/radian/events", ok_json(json!({"status": "OK", "data": [{"number": "AP68"}]})))
            .await;

    let error = gateway(&server).events(&client(), "SETP1").await.unwrap_err();

    assert!(matches!(error, FactusError::InvalidResponse { .. }), "{error:?}");
}

#[tokio::test]
async fn send_email_includes_the_pdf_only_when_there_is_one() {
    let server = MockServer::start().await;
    let answer = json!({"status": "OK", "message": "Factura enviada al cliente con éxito"});
    Mock::given(method("POST"))
        .and(path("/v1/bills/send-email/SETP1"))
        .and(header("content-type", "application/json"))
        .and(header("authorization", "Bearer client-token"))
        .and(body_string(r#"{"email":"a@example.com"}"#))
        .respond_with(ok_json(answer.clone()))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/bills/send-email/SETP1"))
        .and(body_string(r#"{"email":"a@example.com","pdf_base_64_encoded":"JVBERi0="}"#))
        .respond_with(ok_json(answer))
        .expect(1)
        .mount(&server)
        .await;
    let gateway = gateway(&server);

    let without =
        gateway.send_email(&client(), DocumentKind::Invoice, "SETP1", "a@example.com", None).await.expect("sent");
    gateway
        .send_email(&client(), DocumentKind::Invoice, "SETP1", "a@example.com", Some(String::new()))
        .await
        .expect("sent");
    gateway
        .send_email(&client(), DocumentKind::Invoice, "SETP1", "a@example.com", Some("JVBERi0=".into()))
        .await
        .expect("sent");

    assert_eq!(without.message, "Factura enviada al cliente con éxito");
}

#[tokio::test]
async fn delete_by_reference_uses_the_destroy_endpoint() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/v1/bills/destroy/reference/R2"))
        .and(header("authorization", "Bearer client-token"))
        .respond_with(ok_json(
            json!({"status": "OK", "message": "Documento con código de referencia R2 eliminado con éxito"}),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let deleted = gateway(&server).delete_by_reference(&client(), DocumentKind::Invoice, "R2").await.expect("deleted");

    assert_eq!(deleted.message, "Documento con código de referencia R2 eliminado con éxito");
}

#[tokio::test]
async fn a_status_message_without_message_is_an_invalid_response() {
    let server = answering("/v1/bills/destroy/reference/R2", ok_json(json!({"status": "OK"}))).await;

    let error = gateway(&server).delete_by_reference(&client(), DocumentKind::Invoice, "R2").await.unwrap_err();

    assert!(matches!(error, FactusError::InvalidResponse { .. }), "{error:?}");
}

#[tokio::test]
async fn a_bill_is_found_by_its_exact_reference_and_read_from_its_document() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/bills"))
        .and(query_param("filter[reference_code]", "R2"))
        .respond_with(ok_json(json!({"status": "OK", "data": {"data": [
            {"id": 2, "number": "SETP990000124", "reference_code": "R22", "status": 1},
            {"id": 1, "number": "SETP990000123", "reference_code": "R2", "status": 1}
        ], "pagination": {"total": 2}}})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/bills/show/SETP990000123"))
        .respond_with(ok_json(created_json()))
        .expect(1)
        .mount(&server)
        .await;

    let found =
        gateway(&server).find_bill_by_reference(&client(), DocumentKind::Invoice, "R2").await.expect("lookup succeeds");

    assert_eq!(found, Some(created_bill(None)));
}

#[tokio::test]
async fn a_reference_factus_does_not_hold_is_not_found() {
    let server =
        answering("/v1/bills", ok_json(json!({"status": "OK", "data": {"data": [], "pagination": {"total": 0}}})))
            .await;

    let found = gateway(&server)
        .find_bill_by_reference(&client(), DocumentKind::Invoice, "R404")
        .await
        .expect("lookup succeeds");

    assert_eq!(found, None);
}

// ---------------------------------------------------------------- lookups

#[tokio::test]
async fn municipalities_are_read_from_data_with_the_name_filter() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/municipalities"))
        .and(query_param("name", "San Gil"))
        .and(header("authorization", "Bearer client-token"))
        .respond_with(ok_json(json!({"status": "OK", "data": [
            {"id": 980, "code": "68679", "name": "San Gil", "department": "Santander", "extra": true}
        ]})))
        .expect(1)
        .mount(&server)
        .await;

    let found = gateway(&server).municipalities(&client(), Some("San Gil".into())).await.expect("lookup");

    assert_eq!(found.len(), 1);
    assert_eq!((found[0].id, found[0].department.as_str()), (980, "Santander"));
}

#[tokio::test]
async fn numbering_ranges_keep_from_and_to_and_read_is_active_from_a_page() {
    let server = answering(
        "/v1/numbering-ranges",
        ok_json(json!({"status": "OK", "data": {"data": [{
            "id": 8, "document": "Factura de Venta", "prefix": "SETP", "from": 990000000, "to": 995000000,
            "current": 990000100, "resolution_number": "18760000001", "technical_key": "fc8e", "is_active": 1,
            "is_expired": false
        }], "pagination": {"total": 1}}})),
    )
    .await;

    let ranges = gateway(&server).numbering_ranges(&client(), &NumberingRangeFilter::default()).await.expect("lookup");

    assert_eq!(ranges.len(), 1);
    let range = &ranges[0];
    assert_eq!((range.from, range.to, range.current), (Some(990_000_000), Some(995_000_000), Some(990_000_100)));
    assert!(range.is_active);
    assert_eq!(range.technical_key.as_deref(), Some("fc8e"));
}

#[tokio::test]
async fn taxes_units_and_countries_use_their_endpoints() {
    let server = answering(
        "/v1/tributes/products",
        ok_json(json!({"data": [{"id": 1, "code": "01", "name": "IVA", "description": null}]})),
    )
    .await;
    Mock::given(path("/v1/measurement-units"))
        .respond_with(ok_json(json!({"data": [{"id": 70, "code": "94", "name": "unidad"}]})))
        .mount(&server)
        .await;
    Mock::given(path("/v1/countries"))
        .and(query_param("name", "Colo"))
        .respond_with(ok_json(json!({"data": [{"id": 46, "code": "CO", "name": "Colombia"}]})))
        .mount(&server)
        .await;
    let gateway = gateway(&server);

    let taxes = gateway.product_tributes(&client(), None).await.expect("taxes");
    let units = gateway.measurement_units(&client(), None).await.expect("units");
    let countries = gateway.countries(&client(), Some("Colo".into())).await.expect("countries");

    assert_eq!((taxes[0].code.as_str(), taxes[0].description.as_deref()), ("01", None));
    assert_eq!(units[0].id, 70);
    assert_eq!(countries[0].code, "CO");
}

#[tokio::test]
async fn the_acquirer_is_asked_by_document_type_and_number() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/dian/acquirer"))
        .and(query_param("identification_document_id", "3"))
        .and(query_param("identification_number", "1399991"))
        .respond_with(ok_json(
            json!({"status": "OK", "data": {"name": "Nombre Cédula de ciudadanía 1", "email": "a@b.co"}}),
        ))
        .mount(&server)
        .await;

    let acquirer = gateway(&server).acquirer(&client(), 3, "1399991").await.expect("acquirer");

    assert_eq!(acquirer.name, "Nombre Cédula de ciudadanía 1");
}

#[tokio::test]
async fn a_lookup_answer_without_a_list_is_an_unexpected_structure() {
    let server = answering("/v1/measurement-units", ok_json(json!({"data": {"x": 1}}))).await;

    let error = gateway(&server).measurement_units(&client(), None).await.unwrap_err();

    assert!(
        matches!(&error, FactusError::InvalidResponse { message } if message == r#"Unexpected API structure: {"x":1}"#),
        "{error:?}"
    );
}

// ---------------------------------------------------------------- retries

#[tokio::test]
async fn a_read_that_fails_twice_with_503_succeeds_on_the_third_attempt() {
    let server = MockServer::start().await;
    mount_failing_first(&server, "/v1/bills/show/SETP1", ResponseTemplate::new(503), 2, ok_json(shown_json())).await;

    let shown = gateway(&server).show_bill(&client(), DocumentKind::Invoice, "SETP1").await;

    assert!(shown.is_ok(), "{shown:?}");
    assert_eq!(requests(&server).await.len(), 3);
}

#[tokio::test]
async fn a_read_gives_up_after_three_attempts() {
    let server = MockServer::start().await;
    mount_expect(&server, "/v1/municipalities", ResponseTemplate::new(502).set_body_string("Bad Gateway"), 3).await;

    let error = gateway(&server).municipalities(&client(), None).await.unwrap_err();

    assert!(
        matches!(&error, FactusError::Unavailable { message, request_sent: true } if message == "Bad Gateway"),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_429_is_retried_after_the_retry_after_it_names() {
    let server = MockServer::start().await;
    mount_failing_first(&server, "/v1/bills/show/SETP1", too_many_requests("1"), 1, ok_json(shown_json())).await;

    let started = Instant::now();
    let shown = gateway(&server).show_bill(&client(), DocumentKind::Invoice, "SETP1").await;

    assert!(shown.is_ok(), "{shown:?}");
    assert!(started.elapsed() >= Duration::from_secs(1), "waited {:?}", started.elapsed());
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn a_retry_after_beyond_the_reads_wait_answers_busy_without_calling_again() {
    let server = MockServer::start().await;
    mount_expect(&server, "/v1/bills/show/SETP1", too_many_requests("60"), 1).await;
    let mut config = config(&server.uri());
    config.rate.read_wait = Duration::from_millis(500);

    let started = Instant::now();
    let error = FactusGateway::new(config)
        .expect("valid config")
        .show_bill(&client(), DocumentKind::Invoice, "SETP1")
        .await
        .unwrap_err();

    assert!(matches!(error, FactusError::Busy { retry_after_secs } if retry_after_secs >= 59), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_create_refused_with_429_is_sent_again_once_the_window_allows() {
    let server = MockServer::start().await;
    mount_failing_first(&server, "/v1/bills/validate", too_many_requests("1"), 1, ok_json(created_json())).await;

    let started = Instant::now();
    let issued = gateway(&server).validate_bill(&client(), &Document::from(minimal_invoice())).await;

    assert!(issued.is_ok(), "{issued:?}");
    assert!(started.elapsed() >= Duration::from_secs(1), "waited {:?}", started.elapsed());
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn the_budget_never_sends_more_than_the_limit_in_a_window() {
    let server = answering("/v1/bills/show/SETP1", ok_json(shown_json())).await;
    let mut config = config(&server.uri());
    config.rate = RatePolicy::new(3, Duration::from_secs(1), Duration::from_secs(5));
    config.rate.read_wait = Duration::from_secs(5);
    let gateway = std::sync::Arc::new(FactusGateway::new(config).expect("valid config"));

    let started = Instant::now();
    let calls: Vec<_> = (0..7)
        .map(|_| {
            let gateway = gateway.clone();
            tokio::spawn(async move {
                gateway.show_bill(&client(), DocumentKind::Invoice, "SETP1").await.map(|_| Instant::now())
            })
        })
        .collect();
    let mut answered = Vec::new();
    for call in calls {
        answered.push(call.await.expect("task").expect("every call is answered") - started);
    }
    answered.sort();

    assert_eq!(requests(&server).await.len(), 7);
    // 3 at once, 3 a window later, 1 two windows later.
    assert!(answered[3] >= Duration::from_secs(1), "{answered:?}");
    assert!(answered[6] >= Duration::from_secs(2), "{answered:?}");
}

#[tokio::test]
async fn send_email_and_delete_are_not_retried() {
    let server = MockServer::start().await;
    mount_expect(&server, "/v1/bills/send-email/SETP1", ResponseTemplate::new(503), 1).await;
    mount_expect(&server, "/v1/bills/destroy/reference/R2", ResponseTemplate::new(503), 1).await;
    let gateway = gateway(&server);

    let sent = gateway.send_email(&client(), DocumentKind::Invoice, "SETP1", "a@example.com", None).await;
    let deleted = gateway.delete_by_reference(&client(), DocumentKind::Invoice, "R2").await;

    assert!(matches!(sent, Err(FactusError::Unavailable { .. })), "{sent:?}");
    assert!(matches!(deleted, Err(FactusError::Unavailable { .. })), "{deleted:?}");
}

// ---------------------------------------------------------------- circuit breaker

fn breaker_gateway(server: &MockServer) -> FactusGateway {
    let mut config = config(&server.uri());
    config.retry.max_attempts = 1;
    config.breaker = BreakerPolicy {
        consecutive_failures: 5,
        failure_rate_percent: 50,
        window: 20,
        open_for: Duration::from_millis(300),
    };
    FactusGateway::new(config).expect("config")
}

#[tokio::test]
async fn five_failures_open_the_circuit_and_then_factus_is_not_called() {
    let server = answering("/v1/bills/show/SETP1", ResponseTemplate::new(500)).await;
    let gateway = breaker_gateway(&server);

    for _ in 0..5 {
        let error = gateway.show_bill(&client(), DocumentKind::Invoice, "SETP1").await.unwrap_err();
        assert!(matches!(error, FactusError::Unavailable { .. }), "{error:?}");
    }
    assert_eq!(gateway.breaker_state(), CircuitState::Open);
    assert_eq!(gateway.circuit_state(), CircuitState::Open);

    let error = gateway.validate_bill(&client(), &Document::from(minimal_invoice())).await.unwrap_err();

    assert!(matches!(error, FactusError::CircuitOpen), "{error:?}");
    assert_eq!(error.to_string(), "Factus no está disponible");
    assert_eq!(requests(&server).await.len(), 5, "the open circuit answered without calling Factus");
}

#[tokio::test]
async fn after_the_open_interval_a_successful_probe_closes_the_circuit() {
    let server = MockServer::start().await;
    mount_failing_first(&server, "/v1/bills/show/SETP1", ResponseTemplate::new(503), 5, ok_json(shown_json())).await;
    let gateway = breaker_gateway(&server);
    for _ in 0..5 {
        let _failed = gateway.show_bill(&client(), DocumentKind::Invoice, "SETP1").await.unwrap_err();
    }
    assert!(matches!(
        gateway.show_bill(&client(), DocumentKind::Invoice, "SETP1").await,
        Err(FactusError::CircuitOpen)
    ));

    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(gateway.breaker_state(), CircuitState::HalfOpen);
    let probe = gateway.show_bill(&client(), DocumentKind::Invoice, "SETP1").await;

    assert!(probe.is_ok(), "{probe:?}");
    assert_eq!(gateway.breaker_state(), CircuitState::Closed);
    assert_eq!(requests(&server).await.len(), 6);
}

#[tokio::test]
async fn a_circuit_that_opens_between_retries_leaves_the_caller_with_factus_real_answer() {
    let server = MockServer::start().await;
    mount_expect(&server, "/v1/bills/show/SETP1", message_answer(503, "En mantenimiento"), 2).await;
    let mut config = config(&server.uri());
    config.breaker.consecutive_failures = 2;
    let gateway = FactusGateway::new(config).expect("config");

    let error = gateway.show_bill(&client(), DocumentKind::Invoice, "SETP1").await.unwrap_err();

    assert!(matches!(&error, FactusError::Unavailable { message, .. } if message == "En mantenimiento"), "{error:?}");
    assert_eq!(gateway.breaker_state(), CircuitState::Open);
}

#[tokio::test]
async fn rejections_do_not_open_the_circuit() {
    let server = answering("/v1/bills/show/NOPE", ResponseTemplate::new(404)).await;
    let gateway = breaker_gateway(&server);

    for _ in 0..10 {
        let _rejected = gateway.show_bill(&client(), DocumentKind::Invoice, "NOPE").await.unwrap_err();
    }

    assert_eq!(gateway.breaker_state(), CircuitState::Closed);
}

// ---------------------------------------------------------------- server session

#[tokio::test]
async fn without_server_credentials_the_server_session_is_missing() {
    let server = MockServer::start().await;
    let gateway = gateway(&server);

    let error = gateway.show_bill(&FactusAccess::ServerSession, DocumentKind::Invoice, "SETP1").await.unwrap_err();

    assert!(!gateway.has_server_session());
    assert!(matches!(error, FactusError::MissingCredentials), "{error:?}");
    assert!(requests(&server).await.is_empty());
}

#[tokio::test]
async fn the_server_session_logs_in_once_lazily_and_reuses_its_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(body_string(PASSWORD_FORM))
        .respond_with(ok_json(token_json("T1", 3600, "R1")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/v1/bills/show/SETP1"))
        .and(header("authorization", "Bearer T1"))
        .respond_with(ok_json(shown_json()))
        .expect(3)
        .mount(&server)
        .await;
    let gateway = FactusGateway::new(with_session(config(&server.uri()))).expect("config");
    assert!(gateway.has_server_session());
    assert!(requests(&server).await.is_empty(), "no login before the first use");

    for _ in 0..3 {
        gateway.show_bill(&FactusAccess::ServerSession, DocumentKind::Invoice, "SETP1").await.expect("shown");
    }

    server.verify().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_calls_with_an_expired_token_cause_one_refresh() {
    let server = MockServer::start().await;
    mount_login(&server, ok_json(token_json("T1", 1, "R1")), 1).await;
    mount_refresh(&server, "R1", ok_json(token_json("T2", 3600, "R2")).set_delay(Duration::from_millis(100)), 1).await;
    Mock::given(path("/v1/bills/show/SETP1"))
        .and(header("authorization", "Bearer T1"))
        .respond_with(ok_json(shown_json()))
        .mount(&server)
        .await;
    Mock::given(path("/v1/bills/show/SETP1"))
        .and(header("authorization", "Bearer T2"))
        .respond_with(ok_json(shown_json()))
        .expect(100)
        .mount(&server)
        .await;
    let mut config = with_session(config(&server.uri()));
    // More than Factus' 80 a minute: this test is about the session, not the budget.
    config.rate = RatePolicy::new(1_000, Duration::from_secs(60), Duration::from_secs(10));
    let gateway = Arc::new(FactusGateway::new(config).expect("config"));
    gateway.show_bill(&FactusAccess::ServerSession, DocumentKind::Invoice, "SETP1").await.expect("first call logs in");
    // The token lives 1 s; with a 60 s margin it is renewed at half its life.
    tokio::time::sleep(Duration::from_millis(600)).await;

    let calls = spawn_calls(&gateway, 100, |gateway| async move {
        gateway.show_bill(&FactusAccess::ServerSession, DocumentKind::Invoice, "SETP1").await
    });
    for call in calls {
        call.await.expect("task").expect("every call succeeds");
    }

    server.verify().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_401_renews_the_session_once_and_retries_each_request_once() {
    let server = MockServer::start().await;
    mount_login(&server, ok_json(token_json("T1", 3600, "R1")), 1).await;
    mount_refresh(&server, "R1", ok_json(token_json("T2", 3600, "R2")), 1).await;
    Mock::given(path("/v1/bills/validate"))
        .and(header("authorization", "Bearer T1"))
        .respond_with(message_answer(401, "Unauthenticated."))
        // Calls that start after the renewal go out with T2 straight away.
        .expect(1..=20)
        .mount(&server)
        .await;
    Mock::given(path("/v1/bills/validate"))
        .and(header("authorization", "Bearer T2"))
        .and(body_string(MINIMAL_PAYLOAD))
        .respond_with(ResponseTemplate::new(201).set_body_json(created_json()))
        .expect(20)
        .mount(&server)
        .await;
    Mock::given(path("/v1/bills/show/SETP1"))
        .and(header("authorization", "Bearer T1"))
        .respond_with(ok_json(shown_json()))
        .expect(1)
        .mount(&server)
        .await;
    let gateway = Arc::new(FactusGateway::new(with_session(config(&server.uri()))).expect("config"));
    // Log in first, so that the creates below go out with T1, which Factus now refuses.
    gateway.show_bill(&FactusAccess::ServerSession, DocumentKind::Invoice, "SETP1").await.expect("logged in");

    let calls = spawn_calls(&gateway, 20, |gateway| async move {
        gateway.validate_bill(&FactusAccess::ServerSession, &Document::from(minimal_invoice())).await
    });
    for call in calls {
        assert_eq!(call.await.expect("task").expect("created after the renewal").number, "SETP990000123");
    }

    server.verify().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn callers_waiting_for_a_failed_login_share_its_failure_instead_of_retrying_it() {
    let server = MockServer::start().await;
    mount_expect(&server, "/oauth/token", ResponseTemplate::new(500).set_delay(Duration::from_millis(200)), 1).await;
    let mut config = with_session(config(&server.uri()));
    config.retry.max_attempts = 1;
    let gateway = Arc::new(FactusGateway::new(config).expect("config"));

    let calls = spawn_calls(&gateway, 20, |gateway| async move {
        gateway.show_bill(&FactusAccess::ServerSession, DocumentKind::Invoice, "SETP1").await
    });
    for call in calls {
        let error = call.await.expect("task").unwrap_err();
        assert!(matches!(error, FactusError::Unavailable { request_sent: false, .. }), "{error:?}");
    }

    server.verify().await;
}

#[tokio::test]
async fn a_second_401_is_a_rejection() {
    let server = MockServer::start().await;
    mount_login(&server, ok_json(token_json("T1", 3600, "R1")), 1).await;
    mount_refresh(&server, "R1", ok_json(token_json("T2", 3600, "R2")), 1).await;
    mount_expect(&server, "/v1/bills/show/SETP1", message_answer(401, "Unauthenticated."), 2).await;
    let gateway = FactusGateway::new(with_session(config(&server.uri()))).expect("config");

    let error = gateway.show_bill(&FactusAccess::ServerSession, DocumentKind::Invoice, "SETP1").await.unwrap_err();

    assert_eq!(rejected(&error), (401, "Unauthenticated."));
    server.verify().await;
}

#[tokio::test]
async fn a_401_with_the_client_token_is_passed_on_without_a_retry() {
    let server = MockServer::start().await;
    mount_expect(&server, "/v1/bills/show/SETP1", message_answer(401, "Unauthenticated."), 1).await;

    let error = gateway(&server).show_bill(&client(), DocumentKind::Invoice, "SETP1").await.unwrap_err();

    assert_eq!(rejected(&error), (401, "Unauthenticated."));
}

#[tokio::test]
async fn a_refused_refresh_token_falls_back_to_a_password_login() {
    let server = MockServer::start().await;
    mount_login(&server, ok_json(token_json("T1", 1, "R1")), 2).await;
    mount_refresh(&server, "R1", ResponseTemplate::new(401).set_body_json(json!({"error": "invalid_grant"})), 1).await;
    Mock::given(path("/v1/bills/show/SETP1")).respond_with(ok_json(shown_json())).expect(2).mount(&server).await;
    let gateway = FactusGateway::new(with_session(config(&server.uri()))).expect("config");
    gateway.show_bill(&FactusAccess::ServerSession, DocumentKind::Invoice, "SETP1").await.expect("first call");
    tokio::time::sleep(Duration::from_millis(600)).await;

    gateway.show_bill(&FactusAccess::ServerSession, DocumentKind::Invoice, "SETP1").await.expect("after a new login");

    server.verify().await;
}

#[tokio::test]
async fn refused_server_credentials_make_factus_unavailable_not_the_client_request_rejected() {
    let server = answering("/oauth/token", message_answer(400, "The user credentials were incorrect.")).await;

    let gateway = FactusGateway::new(with_session(config(&server.uri()))).expect("config");
    let error =
        gateway.validate_bill(&FactusAccess::ServerSession, &Document::from(minimal_invoice())).await.unwrap_err();

    assert!(
        matches!(&error, FactusError::Unavailable { message, request_sent: false } if message.contains("The user credentials were incorrect.")),
        "{error:?}"
    );
    assert!(requests(&server).await.iter().all(|request| request.url.path() == "/oauth/token"));
}

// ---------------------------------------------------------------- logging

/// Every log line written while it is the default subscriber's writer.
#[derive(Clone, Default)]
struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl CapturedLogs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("lock")).into_owned()
    }
}

impl io::Write for CapturedLogs {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for CapturedLogs {
    type Writer = Self;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn secrets_never_reach_a_log_line_while_failures_log_the_upstream_body_and_our_payload() {
    let logs = CapturedLogs::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(logs.clone())
        .finish();
    // Global, not scoped: a scoped subscriber misses events whose call site another test's thread
    // registered first. Lines that tests running meanwhile write are captured (and checked) too.
    tracing::subscriber::set_global_default(subscriber).expect("the only test that installs a subscriber");

    let server = MockServer::start().await;
    Mock::given(path("/oauth/token"))
        .and(body_string(PASSWORD_FORM))
        .respond_with(ok_json(token_json("tok-AAA-secret", 3600, "ref-AAA-secret")))
        .mount(&server)
        .await;
    Mock::given(path("/oauth/token"))
        .and(body_string(
            "grant_type=refresh_token&client_id=factus-client&client_secret=factus%2Bsecret&refresh_token=ref-AAA-secret",
        ))
        .respond_with(ok_json(token_json("tok-BBB-secret", 3600, "ref-BBB-secret")))
        .mount(&server)
        .await;
    Mock::given(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant"})))
        .mount(&server)
        .await;
    Mock::given(path("/v1/bills/validate"))
        .and(header("authorization", "Bearer tok-AAA-secret"))
        .respond_with(message_answer(401, "Unauthenticated."))
        .mount(&server)
        .await;
    Mock::given(path("/v1/bills/validate")).respond_with(message_answer(422, "Upstream said no")).mount(&server).await;
    let gateway = FactusGateway::new(with_session(config(&server.uri()))).expect("config");

    let refused =
        gateway.validate_bill(&FactusAccess::ServerSession, &Document::from(minimal_invoice())).await.unwrap_err();
    let _login = gateway.login("someone@example.com", &SecretString::from("hunter2-password")).await.unwrap_err();
    let _client = gateway
        .validate_bill(
            &FactusAccess::ClientToken(SecretString::from("tok-CCC-secret")),
            &Document::from(minimal_invoice()),
        )
        .await;

    assert_eq!(rejected(&refused), (422, "Upstream said no"));
    let text = logs.text();
    assert!(text.contains("factus call failed"), "failures are logged: {text}");
    assert!(text.contains("Upstream said no"), "with the upstream body: {text}");
    assert!(
        text.contains(r#"\"reference_code\":\"R2\""#) || text.contains(r#""reference_code":"R2""#),
        "and our payload: {text}"
    );
    for secret in [
        "factus+secret",
        "factus%2Bsecret",
        "sandbox2024",
        "hunter2",
        "tok-AAA",
        "tok-BBB",
        "tok-CCC",
        "ref-AAA",
        "ref-BBB",
    ] {
        assert!(!text.contains(secret), "{secret} leaked into the logs: {text}");
    }
}

// ---------------------------------------------------------------------------------------------
// Factus API v2
// ---------------------------------------------------------------------------------------------

/// The minimal invoice as `POST /v2/bills/validate` takes it, byte for byte: DIAN codes, the net
/// price (100.5 with 19 % → 84.45, and 84.45 + 16.05 = 100.50), the tax as `taxes[]`, one payment
/// of the v1 total, no rounding needed.
const MINIMAL_V2_PAYLOAD: &str = r#"{"reference_code":"R2","document":"01","payment_details":[{"payment_form":"1","payment_method_code":"10","amount":"100.50"}],"cash_rounding_amount":"0.00","customer":{"identification_document_code":"13","identification":"1","names":"Juan","legal_organization_code":"2","tribute_code":"ZZ"},"items":[{"code_reference":"P","name":"N","quantity":"1.00","discount_rate":"0.00","price":"84.45","unit_measure_code":"94","standard_code":"999","taxes":[{"code":"01","rate":"19"}]}]}"#;

fn v2_created() -> Value {
    json!({
        "status": "Created",
        "message": "Documento con el código de referencia R2 registrado y validado con éxito",
        "data": {
            "number": "SETP990000007",
            "reference_code": "R2",
            "is_validated": true,
            "cufe": "c".repeat(96),
            "numbering_range": {"prefix": "SETP"},
            "links": {"qr": "https://catalogo-vpfe-hab.dian.gov.co/document/searchqr?documentkey=ccc"},
        }
    })
}

#[tokio::test]
async fn on_v2_the_invoice_is_posted_translated_and_the_answer_reads_as_on_v1() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/bills/validate"))
        .and(header("authorization", format!("Bearer {CLIENT_TOKEN}").as_str()))
        .and(header("content-type", "application/json"))
        .and(body_string(MINIMAL_V2_PAYLOAD))
        .respond_with(ResponseTemplate::new(201).set_body_json(v2_created()))
        .expect(1)
        .mount(&server)
        .await;
    let gateway = FactusGateway::new(config(&server.uri()).with_api_version(ApiVersionSetting::V2)).unwrap();

    let bill = gateway.validate_bill(&client(), &Document::from(minimal_invoice())).await.expect("created");
    assert_eq!(
        bill,
        IssuedBill {
            number: "SETP990000007".into(),
            prefix: "SETP".into(),
            cufe: "c".repeat(96),
            qr_url: "https://catalogo-vpfe-hab.dian.gov.co/document/searchqr?documentkey=ccc".into(),
            status: "1".into(),
            message: Some("Documento con el código de referencia R2 registrado y validado con éxito".into()),
        }
    );
}

#[tokio::test]
async fn auto_repeats_a_create_refused_for_its_version_once_on_the_other_and_stays_there() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/bills/validate"))
        .respond_with(message_answer(403, VERSION_REFUSED))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/bills/validate"))
        .and(body_string(MINIMAL_V2_PAYLOAD))
        .respond_with(ResponseTemplate::new(201).set_body_json(v2_created()))
        .expect(2)
        .mount(&server)
        .await;
    let gateway = gateway(&server);
    assert_eq!(gateway.api_version(), FactusApiVersion::V1);

    assert_eq!(
        gateway.validate_bill(&client(), &Document::from(minimal_invoice())).await.expect("created").number,
        "SETP990000007"
    );
    assert_eq!(gateway.api_version(), FactusApiVersion::V2);
    gateway.validate_bill(&client(), &Document::from(minimal_invoice())).await.expect("created");
}

#[tokio::test]
async fn a_configured_version_does_not_switch_and_the_refusal_reaches_the_caller() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/bills/show/SETP1"))
        .respond_with(message_answer(403, VERSION_REFUSED))
        .expect(1)
        .mount(&server)
        .await;
    let gateway = FactusGateway::new(config(&server.uri()).with_api_version(ApiVersionSetting::V1)).unwrap();

    let error = gateway.show_bill(&client(), DocumentKind::Invoice, "SETP1").await.unwrap_err();
    assert!(
        matches!(&error, FactusError::Rejected { status: 403, message } if message == VERSION_REFUSED),
        "{error:?}"
    );
    assert_eq!(gateway.api_version(), FactusApiVersion::V1);
}

// --- the company and the numbering ranges ---------------------------------------------------

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR";

fn v2_gateway(server: &MockServer) -> FactusGateway {
    FactusGateway::new(config(&server.uri()).with_api_version(ApiVersionSetting::V2)).expect("valid config")
}

fn shown_range(id: i64, current: i64) -> Value {
    json!({"status": "OK", "message": "Solicitud exitosa", "data": {
        "id": id, "document": "21", "document_name": "Factura de Venta", "prefix": "FE", "from": 1, "to": 5000,
        "current": current, "resolution_number": "18764000001", "start_date": "2026-01-01", "end_date": "2036-01-01",
        "technical_key": "0b1c", "is_expired": false, "is_active": 1
    }})
}

#[tokio::test]
async fn the_logo_goes_to_v2_as_a_multipart_image_field_with_its_type_and_name() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/companies/logo"))
        .and(header("authorization", format!("Bearer {CLIENT_TOKEN}").as_str()))
        .respond_with(ok_json(json!({"status": "OK", "data": {"url_logo": "https://factus.test/logo.png"}})))
        .expect(1)
        .mount(&server)
        .await;
    let logo = LogoImage::parse(PNG.to_vec(), Some("image/png"), Some("acme.png")).expect("a PNG");

    let url = v2_gateway(&server).upload_company_logo(&client(), &logo).await.expect("uploaded");

    assert_eq!(url, "https://factus.test/logo.png");
    let request = &server.received_requests().await.expect("recorded")[0];
    let content_type = request.headers.get("content-type").and_then(|v| v.to_str().ok()).expect("a content type");
    let boundary = content_type.strip_prefix("multipart/form-data; boundary=").expect("multipart");
    let mut expected = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"acme.png\"\r\nContent-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    expected.extend_from_slice(PNG);
    expected.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    assert_eq!(request.body, expected);
}

#[tokio::test]
async fn a_logo_answer_spelled_url_log_is_read_too_and_v1_posts_to_its_company_path() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/company/logo"))
        .respond_with(ok_json(json!({"status": "OK", "data": {"url_log": "https://factus.test/l.png"}})))
        .expect(1)
        .mount(&server)
        .await;
    let logo = LogoImage::parse(PNG.to_vec(), None, None).expect("a PNG");

    assert_eq!(
        gateway(&server).upload_company_logo(&client(), &logo).await.expect("uploaded"),
        "https://factus.test/l.png"
    );
}

#[tokio::test]
async fn the_company_is_replaced_with_a_put_of_the_fields_given() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/v2/companies"))
        .and(header("content-type", "application/json"))
        .and(body_string(
            r#"{"legal_organization_code":"2","names":"Ana","surnames":"Pérez","economic_activity":"6201","phone":"1","email":"a@b.co","address":"Calle 1","tribute_code":"ZZ","municipality_code":"11001","responsibilities":["R-99-PN"]}"#,
        ))
        .respond_with(ok_json(json!({"status": "OK", "data": {
            "nit": 900825759, "dv": "7", "names": "Ana", "economic_activity": 6201,
            "municipality": {"code": "11001", "name": "Bogotá", "department": {"code": "11", "name": "Bogotá"}},
            "responsibilities": [{"code": "R-99-PN", "name": "No aplica - Otros"}], "tribute": null
        }})))
        .expect(1)
        .mount(&server)
        .await;
    let update = CompanyUpdate {
        legal_organization_code: "2".into(),
        names: Some("Ana".into()),
        surnames: Some("Pérez".into()),
        economic_activity: "6201".into(),
        phone: "1".into(),
        email: "a@b.co".into(),
        address: "Calle 1".into(),
        tribute_code: "ZZ".into(),
        municipality_code: "11001".into(),
        responsibilities: vec!["R-99-PN".into()],
        ..CompanyUpdate::default()
    };

    let company = v2_gateway(&server).update_company(&client(), &update).await.expect("updated");

    assert_eq!((company.nit.as_deref(), company.economic_activity.as_deref()), (Some("900825759"), Some("6201")));
    assert_eq!(company.municipality.and_then(|m| m.department).map(|d| d.code).as_deref(), Some("11"));
    assert_eq!(company.responsibilities[0].code, "R-99-PN");
    assert_eq!(company.tribute, None);
}

#[tokio::test]
async fn ranges_are_listed_with_factus_filters_across_every_page() {
    let server = MockServer::start().await;
    let page = |number: u64, id: i64| {
        json!({"status": "OK", "data": {"data": [{"id": id, "document": "Nota Crédito", "prefix": "NC", "is_active": 1}],
            "pagination": {"total": 2, "per_page": 1, "current_page": number, "last_page": 2}}})
    };
    Mock::given(method("GET"))
        .and(path("/v1/numbering-ranges"))
        .and(query_param("filter[document]", "22"))
        .and(query_param("filter[is_active]", "1"))
        .and(query_param("page", "2"))
        .respond_with(ok_json(page(2, 12)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/numbering-ranges"))
        .and(query_param("filter[document]", "22"))
        .and(query_param("filter[is_active]", "1"))
        .respond_with(ok_json(page(1, 9)))
        .expect(1)
        .mount(&server)
        .await;
    let filter =
        NumberingRangeFilter { document: Some("22".into()), is_active: Some(true), ..NumberingRangeFilter::default() };

    let ranges = gateway(&server).numbering_ranges(&client(), &filter).await.expect("listed");

    let ids: Vec<i64> = ranges.iter().map(|range| range.id).collect();
    assert_eq!(ids, [9, 12]);
    assert_eq!(ranges[0].document_code.as_deref(), Some("22"));
}

#[tokio::test]
async fn a_range_is_created_moved_with_patch_current_and_deleted_on_the_documented_paths() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/numbering-ranges"))
        .and(body_string(r#"{"document":"21","prefix":"FE","current":1,"resolution_number":"18764000001"}"#))
        .respond_with(ResponseTemplate::new(201).set_body_json(shown_range(11, 1)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/v1/numbering-ranges/11/current"))
        .and(body_string(r#"{"current":120}"#))
        .respond_with(ok_json(shown_range(11, 120)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/v1/numbering-ranges/11"))
        .respond_with(ok_json(json!({"status": "OK", "message": "Rango de numeración eliminado con éxito"})))
        .expect(1)
        .mount(&server)
        .await;
    let gateway = gateway(&server);
    let new = NewNumberingRange {
        document: "21".into(),
        prefix: "FE".into(),
        current: 1,
        resolution_number: Some("18764000001".into()),
    };

    let created = gateway.create_numbering_range(&client(), &new).await.expect("created");
    let moved = gateway.update_numbering_range_current(&client(), 11, 120).await.expect("moved");
    let deleted = gateway.delete_numbering_range(&client(), 11).await.expect("deleted");

    assert_eq!(
        (created.id, created.document.as_str(), created.document_code.as_deref()),
        (11, "Factura de Venta", Some("21"))
    );
    assert_eq!((moved.current, moved.end_date.as_deref()), (Some(120), Some("2036-01-01")));
    assert_eq!(deleted.message, "Rango de numeración eliminado con éxito");
}

#[tokio::test]
async fn the_software_dian_ranges_come_from_the_documented_dian_path_with_string_limits_read_as_numbers() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/numbering-ranges/dian"))
        .respond_with(ok_json(json!({"status": "OK", "data": [{"resolution_number": "18764000001", "prefix": "FE",
            "from": "1", "to": "5000", "start_date": "2026-01-01", "end_date": "2036-01-01", "technical_key": "0b1c"}]})))
        .expect(1)
        .mount(&server)
        .await;

    let ranges = v2_gateway(&server).software_numbering_ranges(&client()).await.expect("listed");

    assert_eq!((ranges[0].from, ranges[0].to), (Some(1), Some(5000)));
}

#[tokio::test]
async fn a_range_factus_does_not_know_is_its_404() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/numbering-ranges/77"))
        .respond_with(message_answer(404, "No se encontró el rango de numeración"))
        .mount(&server)
        .await;

    let error = gateway(&server).numbering_range(&client(), 77).await.unwrap_err();

    assert!(
        matches!(error, FactusError::Rejected { status: 404, ref message } if message == "No se encontró el rango de numeración"),
        "{error:?}"
    );
}
