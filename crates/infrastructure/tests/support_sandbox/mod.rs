//! What the gateway's suites against `factus-sandbox` share (`factus_gateway_sandbox.rs` on a v1
//! account, `factus_gateway_sandbox_v2.rs` on a v2-only one): the gateway's configuration for the
//! sandbox, the sandbox's admin answers, and the checks of a created bill and of finding it again.

use std::time::Duration;

use factus_application::factus::{FactusAccess, FactusBillGateway, IssuedBill};
use factus_application::ledger::DocumentKind;
use factus_infrastructure::factus::{FactusGateway, FactusGatewayConfig, RatePolicy};
use factus_sandbox::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Sandbox};
use secrecy::SecretString;
use serde::de::DeserializeOwned;

/// The gateway's configuration for the sandbox's default client, with `timeout` per request and
/// no call budget to speak of (the budget has its own tests: `factus_gateway.rs`,
/// `budget_store_contract.rs`).
pub fn gateway_config(sandbox: &Sandbox, timeout: Duration) -> FactusGatewayConfig {
    let mut config =
        FactusGatewayConfig::new(sandbox.base_url(), DEFAULT_CLIENT_ID, SecretString::from(DEFAULT_CLIENT_SECRET))
            .with_request_timeout(timeout);
    config.rate = RatePolicy::new(1_000_000, Duration::from_secs(60), Duration::from_secs(10));
    config
}

/// The JSON answer of the sandbox's admin endpoint `path` (`/__sandbox/...`).
pub async fn admin_json<T: DeserializeOwned>(sandbox: &Sandbox, path: &str) -> T {
    let response = reqwest::Client::new()
        .get(format!("{}{path}", sandbox.base_url()))
        .send()
        .await
        .expect("the admin endpoint answers");
    response.json().await.expect("JSON")
}

/// `bill` is the first invoice of the sandbox's range, validated, with a CUFE its QR link
/// ends with, and the message Factus gives for `reference`.
pub fn assert_first_bill_created(bill: &IssuedBill, reference: &str) {
    assert_eq!((bill.number.as_str(), bill.prefix.as_str(), bill.status.as_str()), ("SETP990000001", "SETP", "1"));
    assert_eq!(bill.cufe.len(), 96);
    assert!(bill.qr_url.ends_with(&bill.cufe), "{}", bill.qr_url);
    let message = format!("Documento con el código de referencia {reference} registrado y validado con éxito");
    assert_eq!(bill.message.as_deref(), Some(message.as_str()));
}

/// Looking `bill` up by `reference` finds it, and looking up `unknown` finds nothing.
pub async fn assert_found_by_reference(
    gateway: &FactusGateway,
    access: &FactusAccess,
    bill: &IssuedBill,
    reference: &str,
    unknown: &str,
) {
    let found =
        gateway.find_bill_by_reference(access, DocumentKind::Invoice, reference).await.expect("lookup").expect("found");
    assert_eq!((&found.number, &found.cufe, &found.status), (&bill.number, &bill.cufe, &bill.status));
    assert_eq!(gateway.find_bill_by_reference(access, DocumentKind::Invoice, unknown).await.expect("lookup"), None);
}
