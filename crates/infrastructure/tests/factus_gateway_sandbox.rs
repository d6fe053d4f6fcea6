//! The Factus gateway against `factus-sandbox`, a stateful Factus simulator, over real HTTP: the
//! whole invoice flow, the catalogues, and the failures the sandbox injects on demand.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine;
use factus_application::document::Document;
use factus_application::factus::{
    DocumentFormat, FactusAccess, FactusAuthGateway, FactusBillGateway, FactusError, FactusLookupGateway,
};
use factus_application::ledger::DocumentKind;
use factus_application::numbering_ranges::NumberingRangeFilter;
use factus_domain::invoice::{Invoice, InvoiceDraft};
use factus_infrastructure::factus::{FactusGateway, FactusGatewayConfig, RetryPolicy};
use factus_sandbox::{DEFAULT_PASSWORD, DEFAULT_USERNAME, Sandbox, SandboxConfig};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use support_sandbox::{admin_json, assert_first_bill_created, assert_found_by_reference, gateway_config};

mod support_sandbox;

fn config(sandbox: &Sandbox) -> FactusGatewayConfig {
    let mut config = gateway_config(sandbox, Duration::from_secs(10));
    config.retry =
        RetryPolicy { max_attempts: 3, base_delay: Duration::from_millis(10), max_delay: Duration::from_millis(50) };
    config
}

fn session_gateway(sandbox: &Sandbox) -> FactusGateway {
    let config = config(sandbox).with_server_credentials(DEFAULT_USERNAME, SecretString::from(DEFAULT_PASSWORD));
    FactusGateway::new(config).expect("valid config")
}

/// A sandbox as configured by default, and a gateway on its server session.
async fn sandbox_with_session() -> (Sandbox, FactusGateway) {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.expect("sandbox starts");
    let gateway = session_gateway(&sandbox);
    (sandbox, gateway)
}

fn invoice(reference: &str, numbering_range_id: Option<i64>) -> Invoice {
    Invoice::parse(InvoiceDraft {
        reference_code: reference.into(),
        numbering_range_id,
        ..factus_domain::testing::minimal_draft()
    })
    .expect("valid invoice")
}

async fn inject(sandbox: &Sandbox, fault: Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/__sandbox/faults", sandbox.base_url()))
        .json(&fault)
        .send()
        .await
        .expect("the admin endpoint answers");
    assert!(response.status().is_success(), "fault refused: {}", response.text().await.unwrap_or_default());
}

/// The sandbox counted, for each route of `expected`, that many requests.
async fn assert_request_counts(sandbox: &Sandbox, expected: &[(&str, u64)]) {
    let counts: HashMap<String, u64> = admin_json(sandbox, "/__sandbox/requests").await;
    for (route, count) in expected {
        assert_eq!(counts.get(*route), Some(count), "{route}: {counts:?}");
    }
}

fn decoded(base64_text: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(base64_text).expect("valid base64")
}

#[tokio::test]
async fn a_client_token_issues_shows_downloads_mails_and_finds_a_bill() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.expect("sandbox starts");
    let gateway = FactusGateway::new(config(&sandbox)).expect("valid config");
    let token = gateway.login(DEFAULT_USERNAME, &SecretString::from(DEFAULT_PASSWORD)).await.expect("login");
    let access = FactusAccess::ClientToken(token.access_token.clone());

    let bill = gateway.validate_bill(&access, &Document::from(invoice("R-FLOW-1", None))).await.expect("created");
    assert_first_bill_created(&bill, "R-FLOW-1");

    let shown: Value = serde_json::from_str(
        gateway.show_bill(&access, DocumentKind::Invoice, &bill.number).await.expect("shown").as_str(),
    )
    .expect("JSON text");
    assert_eq!(shown["status"], "OK");
    assert_eq!(shown["data"]["bill"]["number"], json!(bill.number));

    let pdf = gateway
        .download_document(&access, DocumentKind::Invoice, &bill.number, DocumentFormat::Pdf)
        .await
        .expect("pdf");
    assert!(decoded(&pdf.content_base64).starts_with(b"%PDF"));
    let xml = gateway
        .download_document(&access, DocumentKind::Invoice, &bill.number, DocumentFormat::Xml)
        .await
        .expect("xml");
    assert!(String::from_utf8(decoded(&xml.content_base64)).expect("utf-8").contains("<Invoice"));

    let events = gateway.events(&access, &bill.number).await.expect("events");
    assert!(events.events.is_empty());

    let sent =
        gateway.send_email(&access, DocumentKind::Invoice, &bill.number, "juan@example.com", None).await.expect("sent");
    assert_eq!(sent.message, "Factura enviada al cliente con éxito");

    assert_found_by_reference(&gateway, &access, &bill, "R-FLOW-1", "R-NONE").await;

    let error = gateway.delete_by_reference(&access, DocumentKind::Invoice, "R-FLOW-1").await.unwrap_err();
    assert!(matches!(&error, FactusError::Rejected { status: 409, message } if message.contains("ya fue validado")));

    let refresh = token.refresh_token.expect("the sandbox issues refresh tokens");
    let renewed = gateway.refresh(&refresh).await.expect("refreshed");
    assert_ne!(renewed.access_token.expose_secret(), token.access_token.expose_secret());

    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_server_session_reads_every_catalogue() {
    let (sandbox, gateway) = sandbox_with_session().await;
    let access = FactusAccess::ServerSession;

    let municipalities = gateway.municipalities(&access, Some("Bogot".into())).await.expect("municipalities");
    assert!(municipalities.iter().any(|m| m.id == 169 && m.code == "11001"), "{municipalities:?}");
    let ranges = gateway.numbering_ranges(&access, &NumberingRangeFilter::default()).await.expect("ranges");
    assert!(ranges.iter().any(|r| r.id == 8 && r.prefix == "SETP" && r.is_active), "{ranges:?}");
    let units = gateway.measurement_units(&access, Some("unidad".into())).await.expect("units");
    assert!(units.iter().any(|u| u.id == 70), "{units:?}");
    let taxes = gateway.product_tributes(&access, None).await.expect("taxes");
    assert!(taxes.iter().any(|t| t.id == 1 && t.code == "01"), "{taxes:?}");
    let countries = gateway.countries(&access, Some("Colombia".into())).await.expect("countries");
    assert!(countries.iter().any(|c| c.id == 46 && c.code == "CO"), "{countries:?}");
    let acquirer = gateway.acquirer(&access, 3, "1399991").await.expect("acquirer");
    assert_eq!(acquirer.name, "Nombre Cédula de ciudadanía 1");
    let unknown = gateway.acquirer(&access, 3, "42").await.unwrap_err();
    assert!(
        matches!(&unknown, FactusError::Rejected { status: 404, message } if message == "No se encontró el adquirente")
    );

    // One login served all calls.
    assert_request_counts(&sandbox, &[("POST /oauth/token", 1)]).await;
    sandbox.shutdown().await;
}

#[tokio::test]
async fn factus_refusals_reach_the_caller_with_factus_words() {
    let (sandbox, gateway) = sandbox_with_session().await;
    let access = FactusAccess::ServerSession;
    gateway.validate_bill(&access, &Document::from(invoice("R-DUP", None))).await.expect("first create");

    let duplicate = gateway.validate_bill(&access, &Document::from(invoice("R-DUP", None))).await.unwrap_err();
    let invalid = gateway.validate_bill(&access, &Document::from(invoice("R-BAD", Some(999)))).await.unwrap_err();

    assert!(
        matches!(&duplicate, FactusError::Rejected { status: 409, message } if message == "Ya existe una factura con el código de referencia R-DUP"),
        "{duplicate:?}"
    );
    assert!(
        matches!(&invalid, FactusError::Rejected { status: 422, message }
            if message == "Error de validación — numbering_range_id: El campo id rango de numeración es inválido."),
        "{invalid:?}"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn reads_ride_out_injected_server_errors() {
    let (sandbox, gateway) = sandbox_with_session().await;
    let bill = gateway
        .validate_bill(&FactusAccess::ServerSession, &Document::from(invoice("R-RETRY", None)))
        .await
        .expect("created");
    inject(&sandbox, json!({"kind": "status", "method": "GET", "path": "/v1/bills/show", "status": 503, "times": 2}))
        .await;

    let shown = gateway.show_bill(&FactusAccess::ServerSession, DocumentKind::Invoice, &bill.number).await;

    assert!(shown.is_ok(), "{shown:?}");
    assert_request_counts(&sandbox, &[("GET /v1/bills/show/{number}", 3)]).await;
    sandbox.shutdown().await;
}

#[tokio::test]
async fn an_injected_401_renews_the_server_session_and_the_call_goes_through() {
    let (sandbox, gateway) = sandbox_with_session().await;
    gateway.numbering_ranges(&FactusAccess::ServerSession, &NumberingRangeFilter::default()).await.expect("logged in");
    inject(&sandbox, json!({"kind": "unauthorized", "method": "GET", "path": "/v1/numbering-ranges", "times": 1}))
        .await;

    let ranges = gateway.numbering_ranges(&FactusAccess::ServerSession, &NumberingRangeFilter::default()).await;

    assert!(ranges.is_ok(), "{ranges:?}");
    // A login, then one refresh; the first read, the refused one and its repetition.
    assert_request_counts(&sandbox, &[("POST /oauth/token", 2), ("GET /v1/numbering-ranges", 3)]).await;
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_session_token_near_its_expiry_is_renewed_before_use() {
    let sandbox = Sandbox::start(SandboxConfig { token_ttl: Duration::from_secs(1), ..SandboxConfig::default() })
        .await
        .expect("sandbox starts");
    let gateway = session_gateway(&sandbox);
    gateway.product_tributes(&FactusAccess::ServerSession, None).await.expect("logged in");
    tokio::time::sleep(Duration::from_millis(700)).await;

    let taxes = gateway.product_tributes(&FactusAccess::ServerSession, None).await;

    assert!(taxes.is_ok(), "{taxes:?}");
    // A login and a renewal; no 401 was needed, so each read went out once.
    assert_request_counts(&sandbox, &[("POST /oauth/token", 2), ("GET /v1/tributes/products", 2)]).await;
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_create_whose_connection_drops_is_ambiguous_and_found_by_its_reference() {
    let (sandbox, gateway) = sandbox_with_session().await;
    let access = FactusAccess::ServerSession;
    gateway.numbering_ranges(&access, &NumberingRangeFilter::default()).await.expect("logged in");
    inject(&sandbox, json!({"kind": "drop_after_commit", "method": "POST", "path": "/v1/bills/validate", "times": 1}))
        .await;

    let error = gateway.validate_bill(&access, &Document::from(invoice("R-LOST", None))).await.unwrap_err();

    assert!(matches!(error, FactusError::Unavailable { request_sent: true, .. }), "{error:?}");
    assert!(error.is_ambiguous());
    // Never retried.
    assert_request_counts(&sandbox, &[("POST /v1/bills/validate", 1)]).await;
    let found = gateway
        .find_bill_by_reference(&access, DocumentKind::Invoice, "R-LOST")
        .await
        .expect("lookup")
        .expect("Factus stored it");
    assert_eq!((found.number.as_str(), found.status.as_str()), ("SETP990000001", "1"));
    sandbox.shutdown().await;
}
