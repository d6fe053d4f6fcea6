//! The Factus gateway against `factus-sandbox` simulating a v2-only account (every `/v1/...`
//! call answers 403), over real HTTP: the translated v2 body passes the sandbox's v2 validation
//! for every unit and municipality of the catalogues, the whole bill flow works on v2 with the
//! answers our clients already know, and `auto` finds v2 after one refusal.

use std::time::Duration;

use factus_application::document::Document;
use factus_application::factus::{
    DocumentFormat, FactusAccess, FactusApiVersion, FactusBillGateway, FactusLookupGateway, IssuedBill,
};
use factus_application::ledger::DocumentKind;
use factus_application::numbering_ranges::NumberingRangeFilter;
use factus_domain::catalog;
use factus_domain::invoice::{CustomerDraft, EstablishmentDraft, Invoice, InvoiceDraft, ItemDraft};
use factus_infrastructure::factus::{ApiVersionSetting, FactusGateway};
use factus_sandbox::{ApiVersion, DEFAULT_PASSWORD, DEFAULT_USERNAME, Sandbox, SandboxConfig};
use rust_decimal::Decimal;
use secrecy::SecretString;
use serde_json::Value;
use support_sandbox::{admin_json, assert_first_bill_created, assert_found_by_reference, gateway_config};

mod support_sandbox;

async fn v2_sandbox() -> Sandbox {
    Sandbox::start(SandboxConfig { api_version: ApiVersion::V2, ..SandboxConfig::default() })
        .await
        .expect("sandbox starts")
}

fn gateway(sandbox: &Sandbox, version: ApiVersionSetting) -> FactusGateway {
    // A thousand creates in a row: the configuration leaves the budget out.
    let config = gateway_config(sandbox, Duration::from_secs(20))
        .with_server_credentials(DEFAULT_USERNAME, SecretString::from(DEFAULT_PASSWORD))
        .with_api_version(version);
    FactusGateway::new(config).expect("valid config")
}

fn item(unit_measure_id: i64, price: Decimal, quantity: i64) -> ItemDraft {
    ItemDraft {
        code_reference: format!("U{unit_measure_id}"),
        name: "Producto".into(),
        quantity,
        price,
        tax_rate: Decimal::from(19),
        unit_measure_id,
        standard_code_id: 1,
        is_excluded: 0,
        tribute_id: 1,
        ..ItemDraft::default()
    }
}

fn invoice(reference: &str, municipality_id: i64, items: Vec<ItemDraft>) -> Invoice {
    Invoice::parse(InvoiceDraft {
        reference_code: reference.into(),
        establishment: Some(EstablishmentDraft {
            name: "Tienda".into(),
            address: "Calle 1".into(),
            phone_number: "3000000000".into(),
            email: "tienda@example.co".into(),
            municipality_id,
        }),
        customer: CustomerDraft {
            identification_document_id: 6,
            identification: "900123456".into(),
            dv: Some("8".into()),
            company: Some("ACME SAS".into()),
            legal_organization_id: 1,
            tribute_id: 18,
            municipality_id: Some(municipality_id),
            ..CustomerDraft::default()
        },
        items,
        ..InvoiceDraft::default()
    })
    .expect("valid invoice")
}

/// Issues `invoice(reference, 169, items)` (Bogotá) on the server session.
async fn issue(gateway: &FactusGateway, reference: &str, items: Vec<ItemDraft>) -> IssuedBill {
    let document = Document::from(invoice(reference, 169, items));
    gateway.validate_bill(&FactusAccess::ServerSession, &document).await.expect("created")
}

#[tokio::test]
async fn every_unit_and_municipality_of_the_catalogues_passes_the_sandbox_v2_validation() {
    let sandbox = v2_sandbox().await;
    let gateway = gateway(&sandbox, ApiVersionSetting::V2);
    let access = FactusAccess::ServerSession;

    // Every unit, a hundred items per invoice; prices that need a net price and rounding.
    let units: Vec<i64> = catalog::unit_measures().entries().iter().map(catalog::Entry::id).collect();
    for (chunk, ids) in units.chunks(100).enumerate() {
        let items = ids.iter().map(|id| item(*id, Decimal::new(1_000_000 + id * 7, 2), 1 + id % 5)).collect();
        let bill = gateway
            .validate_bill(&access, &Document::from(invoice(&format!("UNITS-{chunk}"), 169, items)))
            .await
            .unwrap_or_else(|error| panic!("units {:?}..: {error}", ids.first()));
        assert_eq!(bill.status, "1");
    }

    // Every municipality, as the customer's and the establishment's.
    for entry in catalog::municipalities().entries() {
        let reference = format!("MUN-{}", entry.id());
        let items = vec![item(70, Decimal::new(11_900, 2), 1)];
        gateway
            .validate_bill(&access, &Document::from(invoice(&reference, entry.id(), items)))
            .await
            .unwrap_or_else(|error| panic!("municipality {} ({}): {error}", entry.id(), entry.code()));
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_bill_flow_on_v2_answers_what_clients_get_from_v1() {
    let sandbox = v2_sandbox().await;
    let gateway = gateway(&sandbox, ApiVersionSetting::V2);
    let access = FactusAccess::ServerSession;

    let bill = issue(&gateway, "V2-FLOW-1", vec![item(70, Decimal::new(999, 2), 7)]).await;
    assert_first_bill_created(&bill, "V2-FLOW-1");

    // The total Factus v2 keeps payable is the v1 total of the same sale: 7 × 9.99.
    let shown: Value = serde_json::from_str(
        gateway.show_bill(&access, DocumentKind::Invoice, &bill.number).await.expect("shown").as_str(),
    )
    .expect("JSON text");
    assert_eq!(shown["data"]["number"], Value::String(bill.number.clone()));
    assert_eq!(shown["data"]["totals"]["total"], "69.93");

    let pdf = gateway
        .download_document(&access, DocumentKind::Invoice, &bill.number, DocumentFormat::Pdf)
        .await
        .expect("pdf");
    assert!(!pdf.content_base64.is_empty());
    assert!(gateway.events(&access, &bill.number).await.expect("events").events.is_empty());
    let sent =
        gateway.send_email(&access, DocumentKind::Invoice, &bill.number, "juan@example.com", None).await.expect("sent");
    assert!(!sent.message.is_empty());

    assert_found_by_reference(&gateway, &access, &bill, "V2-FLOW-1", "V2-NONE").await;

    // Catalogues v2 has no endpoint for come from the bundle, in the v1 shapes.
    let bogota = gateway.municipalities(&access, Some("bogota".into())).await.expect("municipalities");
    assert_eq!(bogota.iter().map(|m| (m.id, m.code.as_str())).collect::<Vec<_>>(), [(169, "11001")]);
    let units = gateway.measurement_units(&access, None).await.expect("units");
    assert_eq!(units.len(), 1093);
    assert_eq!(gateway.countries(&access, Some("colombia".into())).await.expect("countries")[0].id, 46);
    assert_eq!(gateway.product_tributes(&access, None).await.expect("tributes").len(), 17);
    assert!(!gateway.numbering_ranges(&access, &NumberingRangeFilter::default()).await.expect("ranges").is_empty());

    let log: Value = admin_json(&sandbox, "/__sandbox/requests/log").await;
    let requests = log["requests"].as_array().expect("a log");
    assert!(requests.iter().all(|entry| !entry.to_string().contains("/v1/")), "{log}");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn auto_moves_to_v2_after_one_refusal_and_stays_there() {
    let sandbox = v2_sandbox().await;
    let gateway = gateway(&sandbox, ApiVersionSetting::Auto);
    assert_eq!(gateway.api_version(), FactusApiVersion::V1);

    // The first call is a create: refused on v1 before anything is stored, repeated on v2.
    let first = issue(&gateway, "AUTO-1", vec![item(70, Decimal::from(119), 1)]).await;
    assert_eq!(first.number, "SETP990000001");
    assert_eq!(gateway.api_version(), FactusApiVersion::V2);
    let second = issue(&gateway, "AUTO-2", vec![item(70, Decimal::from(119), 1)]).await;
    assert_eq!(second.number, "SETP990000002", "one invoice per create: nothing was stored by the refused call");

    let log: Value = admin_json(&sandbox, "/__sandbox/requests/log").await;
    let refused: Vec<&Value> =
        log["requests"].as_array().expect("a log").iter().filter(|entry| entry["status"] == 403).collect();
    assert_eq!(refused.len(), 1, "{log}");
    sandbox.shutdown().await;
}
