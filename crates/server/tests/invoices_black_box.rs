//! Black-box tests of the Factus side of the service: the REAL application (`app::start`, a fresh
//! SQLite file, `Application::serve` on 127.0.0.1:0) in front of the REAL sandbox (`factus_sandbox`, an
//! HTTP server on 127.0.0.1:0), both in this process and driven over HTTP with reqwest.
//!
//! Two ways to reach Factus, as in docs/ARCHITECTURE.md ("Server-managed Factus session"):
//! - client-token mode: no server credentials; clients log in through `/api/v1/auth/factus/login`
//!   with the sandbox's account and send `X-Factus-Token`;
//! - server-session mode: `FACTUS_USERNAME`/`FACTUS_PASSWORD` are set and the header is optional.
//!
//! Covered: every endpoint of `docs/contract.md` §2 (plus countries, acquirer and the
//! reference tables) with its exact success envelope; one test per validation rule of the invoice
//! body (`docs/contract.md` §3; docs/ARCHITECTURE.md, "Every error at once"), each also proving the request never reached Factus; one invoice
//! breaking five business rules at once; every upstream failure mapped (Factus 422, 409, 401,
//! 404, 5xx, a hang, a refused connection, a connection dropped after commit, the circuit breaker)
//! with each endpoint's Spanish prefix; and the server-managed session renewing itself.
//!
//! The whole suite runs twice, against a sandbox whose account has only Factus API v1 and against
//! one with only v2 (the service configured to match): `v1::…` and `v2::…` are the same tests
//! (`tests/invoices_black_box/suite.rs`, included once per version). Sandbox routes are named by
//! their v1 templates in assertions; the harness translates them.

mod v1 {
    const FACTUS_API: factus_sandbox::ApiVersion = factus_sandbox::ApiVersion::V1;
    include!("invoices_black_box/suite.rs");
}

mod v2 {
    const FACTUS_API: factus_sandbox::ApiVersion = factus_sandbox::ApiVersion::V2;
    include!("invoices_black_box/suite.rs");
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
            .form(&[
                ("grant_type", "password"),
                ("client_id", DEFAULT_CLIENT_ID),
                ("client_secret", DEFAULT_CLIENT_SECRET),
                ("username", DEFAULT_USERNAME),
                ("password", DEFAULT_PASSWORD),
            ])
            .send()
            .await
            .expect("a sandbox token")
            .json()
            .await
            .expect("a JSON body");
        self.http
            .post(self.sandbox_url("/v1/bills/validate"))
            .bearer_auth(token["access_token"].as_str().expect("an access token"))
            .json(invoice)
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
