// Credit notes, debit notes and support documents over HTTP against the sandbox, included with
// `suite.rs` once per Factus API version (its harness: `TestApp`, `valid_invoice`, `Reply`). The
// kinds share the invoices' path (docs/ARCHITECTURE.md, "One path for every document kind"), so
// these tests hold each kind's cycle, its local rules and its exactly-once create.

/// A credit note on invoice `bill_number` for one line of `price` (tax-inclusive, 19 % IVA).
fn credit_note(reference: &str, bill_number: &str, concept: i64, price: &str) -> Value {
    json!({
        "bill_number": bill_number,
        "correction_concept_code": concept,
        "reference_code": reference,
        "payment_method_code": "10",
        "observation": "Devolución",
        "items": [{
            "code_reference": "P-001", "name": "Producto", "quantity": 1, "discount_rate": "0.00",
            "price": price, "tax_rate": "19.00", "unit_measure_id": 70, "standard_code_id": 1,
            "is_excluded": 0, "tribute_id": 1
        }]
    })
}

/// A support document for one untaxed line of 50,000 COP from a Colombian NIT.
fn support_document(reference: &str) -> Value {
    json!({
        "reference_code": reference,
        "payment_method_code": "10",
        "provider": {
            "identification_document_id": 6, "identification": "900123456", "dv": "8",
            "names": "Proveedor SAS", "address": "Calle 2 # 3-4", "email": "proveedor@example.com",
            "is_resident": true, "country_code": "CO", "municipality_id": 980
        },
        "items": [{
            "code_reference": "S-001", "name": "Servicio", "quantity": 1, "discount_rate": "0.00",
            "price": "50000.00", "unit_measure_id": 70, "standard_code_id": 1
        }]
    })
}

fn decoded(data: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(data["file_content"].as_str().expect("base64")).expect("base64")
}

impl TestApp {
    /// The credit notes the sandbox holds.
    async fn upstream_credit_notes(&self) -> Vec<Value> {
        let response = self.http.get(self.sandbox_url("/__sandbox/credit-notes")).send().await.expect("the notes");
        response.json::<Value>().await.expect("a JSON body").as_array().cloned().unwrap_or_default()
    }

    /// Creates `body` under `path` and returns the document number, asserting `message`.
    async fn issue_document(&self, path: &str, body: &Value, message: &str) -> String {
        let data = self.post(path, body).await.ok(message);
        data["number"].as_str().expect("a number").to_owned()
    }

    /// Show, PDF, XML of a document of the family at `path`, as the client gets them.
    async fn assert_readable(&self, path: &str, number: &str, shown: &str) {
        let data = self.get(&format!("{path}/{number}")).await.ok(shown);
        assert_eq!(data["status"], "OK", "{data}");
        assert!(data["data"].to_string().contains(number), "{data}");
        let pdf = self.get(&format!("{path}/{number}/pdf")).await.ok("PDF obtenido exitosamente");
        assert_eq!(pdf["extension"], "pdf");
        assert!(decoded(&pdf).starts_with(b"%PDF"), "not a PDF");
        let xml = self.get(&format!("{path}/{number}/xml")).await.ok("XML obtenido exitosamente");
        let xml = String::from_utf8(decoded(&xml)).expect("UTF-8 XML");
        assert!(xml.starts_with("<?xml") && xml.contains(number), "{xml:.300}");
    }
}

#[tokio::test]
async fn a_credit_note_is_created_shown_downloaded_and_emailed() {
    let app = TestApp::start(Mode::ClientToken).await;
    let invoice = app.issue(&valid_invoice("FAC-CN")).await;

    let created = app.post("/credit-notes", &credit_note("NC-CYCLE", &invoice, 1, "4000.00")).await;
    let data = created.ok("Nota crédito creada exitosamente");
    let number = data["number"].as_str().expect("a number").to_owned();
    assert!(number.starts_with("NC"), "{data}");
    assert_eq!(data["status"], "1");
    assert!(!data["cufe"].as_str().unwrap_or_default().is_empty(), "the note's CUDE: {data}");

    app.assert_readable("/credit-notes", &number, "Nota crédito obtenida exitosamente").await;
    let mailed = app.post(&format!("/credit-notes/{number}/send-email"), &json!({ "email": "cliente@example.com" })).await;
    assert_eq!(mailed.ok("Correo enviado exitosamente")["status"], "OK");

    let upstream = app.upstream_credit_notes().await;
    assert_eq!(upstream.len(), 1, "{upstream:?}");
    assert_eq!(upstream[0]["reference_code"], "NC-CYCLE");
}

#[tokio::test]
async fn a_pending_credit_note_is_deleted_by_its_reference_code() {
    let app = TestApp::start(Mode::ClientToken).await;
    let invoice = app.issue(&valid_invoice("FAC-CN-DEL")).await;
    app.fault(json!({ "kind": "pending", "method": "POST", "path": "/v1/credit-notes/validate", "times": 1 })).await;
    let pending = app.post("/credit-notes", &credit_note("NC-DEL", &invoice, 1, "1000.00")).await;
    assert_eq!(pending.ok("Nota crédito creada exitosamente")["status"], "0");

    let deleted = app.delete("/credit-notes/reference/NC-DEL").await.ok("Nota crédito eliminada exitosamente");

    assert_eq!(deleted["status"], "OK", "{deleted}");
    assert_eq!(app.upstream_credit_notes().await, Vec::<Value>::new());
}

#[tokio::test]
async fn partial_credit_notes_add_up_to_the_invoice_total_and_one_cent_more_is_refused() {
    let app = TestApp::start(Mode::ClientToken).await;
    let invoice = app.issue(&valid_invoice("FAC-PARTS")).await;

    for (reference, price) in [("NC-P1", "6000.00"), ("NC-P2", "4000.00")] {
        app.issue_document("/credit-notes", &credit_note(reference, &invoice, 1, price), "Nota crédito creada exitosamente")
            .await;
    }
    app.post("/credit-notes", &credit_note("NC-P3", &invoice, 1, "0.01")).await.errors(
        StatusCode::BAD_REQUEST,
        &json!([{
            "loc": ["body"],
            "msg": format!("Las notas crédito de la factura {invoice} no pueden superar su total: quedan 0.00 por acreditar y la nota suma 0.01"),
            "type": "value_error"
        }]),
    );
    assert_eq!(app.upstream_credit_notes().await.len(), 2, "the refused note never reached Factus");
}

#[tokio::test]
async fn an_annulment_credits_exactly_what_is_left_of_the_invoice() {
    let app = TestApp::start(Mode::ClientToken).await;
    let invoice = app.issue(&valid_invoice("FAC-ANUL")).await;
    app.issue_document("/credit-notes", &credit_note("NC-A1", &invoice, 1, "3000.00"), "Nota crédito creada exitosamente")
        .await;

    app.post("/credit-notes", &credit_note("NC-A2", &invoice, 2, "5000.00")).await.errors(
        StatusCode::BAD_REQUEST,
        &json!([{
            "loc": ["body"],
            "msg": format!("Una anulación (correction_concept_code 2) debe acreditar exactamente el saldo de la factura {invoice}: 7000.00; la nota suma 5000.00"),
            "type": "value_error"
        }]),
    );
    let annulled = app.post("/credit-notes", &credit_note("NC-A3", &invoice, 2, "7000.00")).await;
    annulled.ok("Nota crédito creada exitosamente");
    assert_eq!(app.upstream_credit_notes().await.len(), 2);
}

#[tokio::test]
async fn a_credit_note_on_an_invoice_the_service_did_not_issue_is_refused_before_factus() {
    let app = TestApp::start(Mode::ClientToken).await;

    app.post("/credit-notes", &credit_note("NC-GHOST", "SETP990009999", 1, "10.00")).await.errors(
        StatusCode::BAD_REQUEST,
        &json!([{
            "loc": ["body", "bill_number"],
            "msg": "La factura SETP990009999 no está registrada en este servicio",
            "type": "value_error"
        }]),
    );
    assert_eq!(app.upstream_count("POST /v1/credit-notes/validate").await, 0);
}

#[tokio::test]
async fn a_credit_note_body_is_checked_field_by_field_before_its_rules() {
    let app = TestApp::start(Mode::ClientToken).await;
    let mut body = credit_note("NC-BAD", "SETP990000001", 7, "10.00");
    body["items"][0]["price"] = json!("1.001");

    let reply = app.post("/credit-notes", &body).await;

    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.text);
    let locs: Vec<Value> = reply.json()["detail"].as_array().expect("a list").iter().map(|e| e["loc"].clone()).collect();
    assert_eq!(locs, [json!(["body", "correction_concept_code"]), json!(["body", "items", 0, "price"])]);

    let standalone = json!({
        "customization_id": "22", "correction_concept_code": 3, "reference_code": "NC-NOREF",
        "items": body["items"].clone()
    });
    let mut standalone = standalone;
    standalone["items"][0]["price"] = json!("10.00");
    app.post("/credit-notes", &standalone).await.errors(
        StatusCode::BAD_REQUEST,
        &json!([
            { "loc": ["body"], "msg": "billing_period es obligatorio cuando customization_id es 22", "type": "value_error" }
        ]),
    );
}

#[tokio::test]
async fn one_idempotency_key_sent_fifty_times_at_once_creates_one_credit_note() {
    let app = TestApp::start(Mode::ClientToken).await;
    let invoice = app.issue(&valid_invoice("FAC-CN-50")).await;
    let body = credit_note("NC-50", &invoice, 1, "100.00");

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..50 {
        tasks.spawn(send(app.request(Method::POST, "/credit-notes").header("idempotency-key", "nc-fifty").json(&body)));
    }
    let replies = tasks.join_all().await;

    let numbers: std::collections::BTreeSet<String> = replies
        .iter()
        .filter(|reply| reply.status == StatusCode::OK)
        .map(|reply| reply.json()["data"]["number"].as_str().expect("a number").to_owned())
        .collect();
    assert_eq!(numbers.len(), 1, "one note for every answer that succeeded");
    assert!(replies.iter().all(|reply| reply.status == StatusCode::OK || reply.status == StatusCode::CONFLICT));
    let last = send(app.request(Method::POST, "/credit-notes").header("idempotency-key", "nc-fifty").json(&body)).await;
    assert_eq!(last.ok("Nota crédito creada exitosamente")["number"].as_str(), numbers.iter().next().map(String::as_str));
    assert_eq!(app.upstream_credit_notes().await.len(), 1);
}

#[tokio::test]
async fn debit_notes_need_a_v2_account_and_go_through_their_cycle_on_one() {
    let app = TestApp::start(Mode::ClientToken).await;
    let invoice = app.issue(&valid_invoice("FAC-DN")).await;
    let mut body = credit_note("ND-1", &invoice, 1, "2000.00");
    body["observation"] = json!("Intereses de mora");

    if FACTUS_API == ApiVersion::V1 {
        app.post("/debit-notes", &body).await.errors(
            StatusCode::BAD_REQUEST,
            &json!([{
                "loc": ["body"],
                "msg": "Las notas débito requieren una cuenta de Factus v2: Factus no ofrece notas débito en la API v1",
                "type": "value_error"
            }]),
        );
        return;
    }
    // The sandbox's v2 account has no debit-note range until one is created.
    let range = app
        .http
        .post(app.sandbox_url("/v2/numbering-ranges"))
        .bearer_auth(app.factus_token.as_deref().expect("a Factus token"))
        .json(&json!({ "document": "23", "prefix": "ND", "current": 1 }))
        .send()
        .await
        .expect("a range");
    assert_eq!(range.status(), StatusCode::CREATED);

    let number = app.issue_document("/debit-notes", &body, "Nota débito creada exitosamente").await;
    assert!(number.starts_with("ND"), "{number}");
    app.assert_readable("/debit-notes", &number, "Nota débito obtenida exitosamente").await;
    app.post(&format!("/debit-notes/{number}/send-email"), &json!({ "email": "cliente@example.com" }))
        .await
        .ok("Correo enviado exitosamente");
    app.fault(json!({ "kind": "pending", "method": "POST", "path": "/v1/debit-notes/validate", "times": 1 })).await;
    let pending = app.post("/debit-notes", &credit_note("ND-DEL", &invoice, 4, "10.00")).await;
    assert_eq!(pending.ok("Nota débito creada exitosamente")["status"], "0");
    app.delete("/debit-notes/reference/ND-DEL").await.ok("Nota débito eliminada exitosamente");
}

#[tokio::test]
async fn a_support_document_is_created_shown_downloaded_and_a_pending_one_deleted() {
    let app = TestApp::start(Mode::ClientToken).await;

    let data = app.post("/support-documents", &support_document("DS-1")).await.ok("Documento soporte creado exitosamente");
    let number = data["number"].as_str().expect("a number").to_owned();
    assert!(number.starts_with("SEDS"), "{data}");
    app.assert_readable("/support-documents", &number, "Documento soporte obtenido exitosamente").await;

    app.fault(json!({ "kind": "pending", "method": "POST", "path": "/v1/support-documents/validate", "times": 1 }))
        .await;
    let pending = app.post("/support-documents", &support_document("DS-DEL")).await;
    assert_eq!(pending.ok("Documento soporte creado exitosamente")["status"], "0");
    app.delete("/support-documents/reference/DS-DEL").await.ok("Documento soporte eliminado exitosamente");
}

#[tokio::test]
async fn a_support_document_provider_must_have_a_document_type_factus_allows() {
    let app = TestApp::start(Mode::ClientToken).await;
    let mut body = support_document("DS-CC");
    body["provider"]["identification_document_id"] = json!(3);

    let reply = app.post("/support-documents", &body).await;

    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.text);
    let error = &reply.json()["detail"][0];
    assert_eq!(error["loc"], json!(["body", "provider", "identification_document_id"]));
    assert_eq!(error["type"], "type_error.enum");
    assert_eq!(app.upstream_count("POST /v1/support-documents/validate").await, 0);
}

#[tokio::test]
async fn the_ledger_lists_each_kind_apart() {
    let app = TestApp::start(Mode::ClientToken).await;
    let invoice = app.issue(&valid_invoice("FAC-LIST")).await;
    app.issue_document("/credit-notes", &credit_note("NC-LIST", &invoice, 1, "10.00"), "Nota crédito creada exitosamente")
        .await;

    let notes = app.get("/invoices?kind=credit_note").await;
    let notes = notes.json();
    let references: Vec<&str> =
        notes["data"]["items"].as_array().expect("entries").iter().filter_map(|e| e["reference_code"].as_str()).collect();
    assert_eq!(references, ["NC-LIST"], "{notes}");
}

#[tokio::test]
async fn a_credit_note_whose_answer_was_lost_after_factus_stored_it_is_found_not_sent_again() {
    let app = TestApp::start(Mode::ClientToken).await;
    let invoice = app.issue(&valid_invoice("FAC-CN-DROP")).await;
    app.fault(json!({ "kind": "drop_after_commit", "method": "POST", "path": "/v1/credit-notes/validate", "times": 1 }))
        .await;
    let body = credit_note("NC-DROP", &invoice, 1, "500.00");
    let create = || send(app.request(Method::POST, "/credit-notes").header("idempotency-key", "nc-drop").json(&body));

    create().await.detail(
        StatusCode::SERVICE_UNAVAILABLE,
        "Error al crear la nota crédito: Server disconnected without sending a response.",
    );
    let retried = create().await;

    let data = retried.ok("Nota crédito creada exitosamente");
    let upstream = app.upstream_credit_notes().await;
    assert_eq!(upstream.len(), 1, "{upstream:?}");
    assert_eq!(data["number"], upstream[0]["number"], "the stored note, looked up by its reference");
    assert_eq!(app.upstream_count("POST /v1/credit-notes/validate").await, 1, "a create is never sent twice");
}
