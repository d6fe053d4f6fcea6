// The company and numbering-range endpoints against the real sandbox, included after `suite.rs`
// (whose harness it uses) once per Factus API version by `tests/invoices_black_box.rs`.
//
// Covered: the company profile (read, replaced by an admin, refused to other users, bad fields),
// the logo (a good image, one too large, one of the wrong type, none), the numbering ranges
// (listed with each filter, the software's DIAN ranges, one, created, moved, deleted, refused to
// other users, Factus' own refusals) and the readiness warnings about expired or used-up ranges.

use crate::support::{SMALL_PNG, multipart_file};

const ACCOUNT_USER: &str = "cajero";
const ACCOUNT_USER_PASSWORD: &str = "cajero-password-123";

/// A complete company profile.
fn account_company_update() -> Value {
    json!({
        "legal_organization_code": "1",
        "company": "COMERCIALIZADORA ANDINA S.A.S.",
        "trade_name": "ANDINA",
        "registration_code": "123456",
        "economic_activity": "4711",
        "phone": "6015550100",
        "email": "facturacion@andina.co",
        "address": "Carrera 7 # 32-16",
        "tribute_code": "01",
        "municipality_code": "05001",
        "responsibilities": ["O-13", "O-47"]
    })
}

/// A range created from the DIAN resolution `resolution` of the sandbox's software.
fn account_new_range(prefix: &str, resolution: &str, current: i64) -> Value {
    json!({ "document": "21", "prefix": prefix, "current": current, "resolution_number": resolution })
}

impl TestApp {
    async fn put(&self, path: &str, body: &Value) -> Reply {
        send(self.request(Method::PUT, path).json(body)).await
    }

    async fn upload_logo(&self, content_type: &str, body: Vec<u8>) -> Reply {
        send(self.request(Method::POST, "/company/logo").header("content-type", content_type).body(body)).await
    }

    /// Creates a range and returns it, asserting success.
    async fn create_range(&self, body: &Value) -> Value {
        let reply = send(self.request(Method::POST, "/numbering-ranges").json(body)).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        let body = reply.json();
        assert_eq!(body["message"], "Rango de numeración creado exitosamente");
        body["data"].clone()
    }

    /// A request as a user who is not an admin (with the Factus token, when the mode has one).
    async fn as_cashier(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let created = send(self.bare(Method::POST, "/users").json(&json!({
            "username": ACCOUNT_USER, "password": ACCOUNT_USER_PASSWORD, "role": "user"
        })))
        .await;
        assert!(matches!(created.status.as_u16(), 201 | 409), "{}", created.text);
        let token = crate::support::login(&self.http, &self.url(""), ACCOUNT_USER, ACCOUNT_USER_PASSWORD).await;
        let builder = self.http.request(method, self.url(path)).bearer_auth(token);
        match &self.factus_token {
            Some(token) => builder.header("x-factus-token", token),
            None => builder,
        }
    }

    /// Calls the sandbox received on routes containing `fragment`, whatever the version.
    async fn upstream_calls_to(&self, fragment: &str) -> u64 {
        let counts = self.upstream_requests().await;
        counts
            .as_object()
            .map(|routes| {
                routes.iter().filter(|(route, _)| route.contains(fragment)).filter_map(|(_, count)| count.as_u64()).sum()
            })
            .unwrap_or(0)
    }

    async fn readiness_warnings(&self) -> Vec<Value> {
        let reply = send(self.http.get(self.url("/health/ready"))).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        let body = reply.json();
        assert_eq!(body["status"], "ok", "warnings never make the instance unready: {}", reply.text);
        body["warnings"].as_array().expect("a list of warnings").clone()
    }
}

// --- company ---------------------------------------------------------------------------------

#[tokio::test]
async fn the_company_profile_is_read_from_factus() {
    let app = TestApp::start(Mode::ClientToken).await;

    let data = app.get("/company").await.ok("Empresa obtenida exitosamente");

    assert_eq!((data["nit"].as_str(), data["dv"].as_str()), (Some("900825759"), Some("7")));
    assert_eq!(data["company"], "FACTUS SANDBOX S.A.S.");
    assert_eq!(data["municipality"]["code"], "11001");
    assert_eq!(data["tribute"], json!({ "code": "01", "name": "IVA" }));
    assert_eq!(data["responsibilities"], json!([{ "code": "O-13", "name": "Gran contribuyente" }]));
}

#[tokio::test]
async fn an_admin_replaces_the_company_profile_and_factus_keeps_it() {
    let app = TestApp::start(Mode::ServerSession).await;

    let data = app.put("/company", &account_company_update()).await.ok("Empresa actualizada exitosamente");

    assert_eq!(data["company"], "COMERCIALIZADORA ANDINA S.A.S.");
    assert_eq!(data["economic_activity"], "4711");
    assert_eq!(data["municipality"]["code"], "05001");
    assert_eq!(
        data["responsibilities"],
        json!([{ "code": "O-13", "name": "Gran contribuyente" }, { "code": "O-47", "name": "Régimen simple de tributación" }])
    );
    let again = app.get("/company").await.ok("Empresa obtenida exitosamente");
    assert_eq!((again["email"].as_str(), again["address"].as_str()), (Some("facturacion@andina.co"), Some("Carrera 7 # 32-16")));
}

#[tokio::test]
async fn a_user_who_is_not_an_admin_reads_the_company_but_cannot_change_it() {
    let app = TestApp::start(Mode::ClientToken).await;

    let read = send(app.as_cashier(Method::GET, "/company").await).await;
    let update = send(app.as_cashier(Method::PUT, "/company").await.json(&account_company_update())).await;
    let (content_type, body) = multipart_file("image", "logo.png", "image/png", SMALL_PNG);
    let logo = send(app.as_cashier(Method::POST, "/company/logo").await.header("content-type", content_type).body(body)).await;

    read.ok("Empresa obtenida exitosamente");
    update.detail(StatusCode::FORBIDDEN, "Not enough permissions");
    logo.detail(StatusCode::FORBIDDEN, "Not enough permissions");
    assert_eq!(app.upstream_calls_to("PUT /v1/compan").await, 0);
    assert_eq!(app.upstream_calls_to("logo").await, 0);
}

#[tokio::test]
async fn a_company_profile_with_bad_fields_is_refused_at_each_field_before_factus_is_called() {
    let app = TestApp::start(Mode::ClientToken).await;
    let body = edited(
        account_company_update(),
        vec![
            set("/economic_activity", json!("47")),
            set("/email", json!("no-es-un-correo")),
            set("/municipality_code", json!("99999")),
            set("/responsibilities", json!(["O-13", "X-1"])),
            remove("/phone"),
        ],
    );

    let reply = app.put("/company", &body).await;

    reply.errors(
        StatusCode::UNPROCESSABLE_ENTITY,
        &json!([
            { "loc": ["body", "economic_activity"], "msg": "string does not match regex \"^[0-9]{4}$\"", "type": "value_error.str.regex" },
            { "loc": ["body", "phone"], "msg": "field required", "type": "value_error.missing" },
            { "loc": ["body", "email"], "msg": "value is not a valid email address", "type": "value_error.email" },
            { "loc": ["body", "municipality_code"], "msg": "municipality_code '99999' no existe en el catálogo de municipios", "type": "type_error.enum" },
            { "loc": ["body", "responsibilities", 1], "msg": "'X-1' no es una responsabilidad fiscal; permitidas: O-13, O-15, O-23, O-47, R-99-PN", "type": "type_error.enum" }
        ]),
    );
    assert_eq!(app.upstream_calls_to("PUT /v1/compan").await, 0);
}

#[tokio::test]
async fn an_admin_uploads_a_logo_that_factus_then_serves_and_shows_on_the_company() {
    let app = TestApp::start(Mode::ClientToken).await;
    let (content_type, body) = multipart_file("image", "andina.png", "image/png", SMALL_PNG);

    let data = app.upload_logo(&content_type, body).await.ok("Logo actualizado exitosamente");

    let url = data["url_logo"].as_str().expect("the logo's URL").to_owned();
    let served = app.http.get(&url).send().await.expect("the logo is served");
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.bytes().await.expect("the logo").as_ref(), SMALL_PNG);
    let company = app.get("/company").await.ok("Empresa obtenida exitosamente");
    assert_eq!(company["url_logo"].as_str(), Some(url.as_str()));
}

#[tokio::test]
async fn a_logo_over_two_megabytes_is_refused_with_413_before_factus_is_called() {
    let app = TestApp::start(Mode::ClientToken).await;
    let mut image = SMALL_PNG.to_vec();
    image.resize(2 * 1024 * 1024 + 1, 0);
    let (content_type, body) = multipart_file("image", "big.png", "image/png", &image);

    let reply = app.upload_logo(&content_type, body).await;

    reply.detail(StatusCode::PAYLOAD_TOO_LARGE, "La imagen pesa 2097153 bytes; el máximo es 2097152 bytes (2 MB)");
    assert_eq!(app.upstream_calls_to("logo").await, 0);
}

#[tokio::test]
async fn a_logo_that_is_not_an_image_or_names_another_type_is_refused_at_the_image_field() {
    let app = TestApp::start(Mode::ClientToken).await;
    let wrong_type = json!([{ "loc": ["body", "image"], "msg": "La imagen debe ser PNG, JPEG, GIF o WebP", "type": "value_error.image" }]);

    let (content_type, pdf) = multipart_file("image", "logo.pdf", "application/pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n");
    app.upload_logo(&content_type, pdf).await.errors(StatusCode::UNPROCESSABLE_ENTITY, &wrong_type);
    let (content_type, disguised) = multipart_file("image", "logo.png", "image/png", b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>");
    app.upload_logo(&content_type, disguised).await.errors(StatusCode::UNPROCESSABLE_ENTITY, &wrong_type);
    let (content_type, renamed) = multipart_file("image", "logo.txt", "text/plain", SMALL_PNG);
    app.upload_logo(&content_type, renamed).await.errors(StatusCode::UNPROCESSABLE_ENTITY, &wrong_type);
    let (content_type, other_field) = multipart_file("file", "logo.png", "image/png", SMALL_PNG);
    app.upload_logo(&content_type, other_field).await.errors(
        StatusCode::UNPROCESSABLE_ENTITY,
        &json!([{ "loc": ["body", "image"], "msg": "field required", "type": "value_error.missing" }]),
    );
    assert_eq!(app.upstream_calls_to("logo").await, 0);
}

// --- numbering ranges ------------------------------------------------------------------------

#[tokio::test]
async fn numbering_ranges_are_listed_with_their_codes_dates_and_expiry() {
    let app = TestApp::start(Mode::ClientToken).await;

    let data = app.get("/numbering-ranges").await.ok("Rangos de numeración obtenidos exitosamente");

    let setp = data.as_array().expect("a list").iter().find(|range| range["id"] == 8).expect("range 8").clone();
    assert_eq!(
        setp,
        json!({
            "id": 8, "document": "Factura de Venta", "document_code": "21", "prefix": "SETP",
            "from": 990000000, "to": 995000000, "current": 990000001, "resolution_number": "18760000001",
            "technical_key": "fc8eac422eba16e22ffd8c6f94b3f40a6e38162c", "is_active": true,
            "start_date": "2019-01-19", "end_date": "2030-01-19", "is_expired": false,
            "created_at": "2023-06-01T08:00:38Z", "updated_at": "2023-06-01T08:00:38Z"
        })
    );
}

#[tokio::test]
async fn numbering_ranges_are_filtered_as_factus_filters_them() {
    let app = TestApp::start(Mode::ClientToken).await;
    let ids = |data: Value| -> Vec<i64> {
        data.as_array().expect("a list").iter().map(|range| range["id"].as_i64().expect("an id")).collect()
    };
    let message = "Rangos de numeración obtenidos exitosamente";

    assert_eq!(ids(app.get("/numbering-ranges?document=22").await.ok(message)), [9]);
    assert_eq!(ids(app.get("/numbering-ranges?id=10").await.ok(message)), [10]);
    assert_eq!(ids(app.get("/numbering-ranges?resolution_number=18760000001").await.ok(message)), [8]);
    assert_eq!(
        ids(app.get("/numbering-ranges?technical_key=fc8eac422eba16e22ffd8c6f94b3f40a6e38162c").await.ok(message)),
        [8]
    );
    assert_eq!(ids(app.get("/numbering-ranges?is_active=true").await.ok(message)), [8, 9, 10]);
    assert!(ids(app.get("/numbering-ranges?is_active=false").await.ok(message)).is_empty());
    app.get("/numbering-ranges?id=ocho&is_active=maybe").await.errors(
        StatusCode::UNPROCESSABLE_ENTITY,
        &json!([
            { "loc": ["query", "id"], "msg": "value is not a valid integer", "type": "type_error.integer" },
            { "loc": ["query", "is_active"], "msg": "value could not be parsed to a boolean", "type": "type_error.bool" }
        ]),
    );
}

#[tokio::test]
async fn the_software_dian_ranges_are_listed_with_integer_limits() {
    let app = TestApp::start(Mode::ClientToken).await;

    let data = app.get("/numbering-ranges/software").await.ok("Rangos de numeración de la DIAN obtenidos exitosamente");

    let fe = data.as_array().expect("a list").iter().find(|range| range["prefix"] == "FE").expect("FE").clone();
    assert_eq!(
        fe,
        json!({
            "resolution_number": "18764000001", "prefix": "FE", "from": 1, "to": 5000,
            "start_date": "2026-01-01", "end_date": "2036-01-01",
            "technical_key": "0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c"
        })
    );
}

#[tokio::test]
async fn one_range_is_shown_and_an_unknown_one_is_not_found() {
    let app = TestApp::start(Mode::ClientToken).await;

    let data = app.get("/numbering-ranges/9").await.ok("Rango de numeración obtenido exitosamente");
    assert_eq!((data["prefix"].as_str(), data["document_code"].as_str()), (Some("NC"), Some("22")));
    assert_eq!(data["document"], "Nota Crédito");

    app.get("/numbering-ranges/999").await.detail(StatusCode::NOT_FOUND, "Rango de numeración no encontrado");
    app.get("/numbering-ranges/ocho").await.errors(
        StatusCode::UNPROCESSABLE_ENTITY,
        &json!([{ "loc": ["path", "id"], "msg": "value is not a valid integer", "type": "type_error.integer" }]),
    );
}

#[tokio::test]
async fn an_admin_loads_a_new_dian_resolution_moves_its_next_number_and_invoices_with_it() {
    let app = TestApp::start(Mode::ClientToken).await;

    let created = app.create_range(&account_new_range("FE", "18764000001", 1)).await;
    let id = created["id"].as_i64().expect("an id");
    assert_eq!((created["from"].as_i64(), created["to"].as_i64()), (Some(1), Some(5000)));
    assert_eq!((created["document_code"].as_str(), created["is_expired"].as_bool()), (Some("21"), Some(false)));

    let moved = app.put(&format!("/numbering-ranges/{id}"), &json!({ "current": 120 })).await;
    assert_eq!(moved.ok("Rango de numeración actualizado exitosamente")["current"], 120);

    let invoice = edited(valid_invoice("FAC-FE-1"), vec![set("/numbering_range_id", json!(id))]);
    assert_eq!(app.issue(&invoice).await, "FE120");
    let shown = app.get(&format!("/numbering-ranges/{id}")).await.ok("Rango de numeración obtenido exitosamente");
    assert_eq!(shown["current"], 121);
}

#[tokio::test]
async fn a_note_range_needs_no_resolution_but_an_invoice_range_does() {
    let app = TestApp::start(Mode::ClientToken).await;

    let note = app.create_range(&json!({ "document": "22", "prefix": "NCX", "current": 1 })).await;
    assert_eq!((note["document"].as_str(), note["resolution_number"].clone()), (Some("Nota Crédito"), Value::Null));

    let reply = send(app.request(Method::POST, "/numbering-ranges").json(&json!({ "document": "21", "prefix": "F", "current": 0 }))).await;
    reply.errors(
        StatusCode::UNPROCESSABLE_ENTITY,
        &json!([
            { "loc": ["body", "current"], "msg": "ensure this value is greater than or equal to 1", "type": "value_error.number.not_ge" },
            { "loc": ["body", "resolution_number"], "msg": "field required", "type": "value_error.missing" }
        ]),
    );
}

#[tokio::test]
async fn factus_refusing_a_range_answers_400_with_its_reason() {
    let app = TestApp::start(Mode::ClientToken).await;

    let unknown = send(app.request(Method::POST, "/numbering-ranges").json(&account_new_range("FE", "18769999999", 1))).await;
    let outside = app.put("/numbering-ranges/8", &json!({ "current": 1 })).await;

    unknown.detail(
        StatusCode::BAD_REQUEST,
        "Error al crear el rango de numeración: Error de validación — resolution_number: El campo número de resolución no corresponde a un rango autorizado por la DIAN.",
    );
    assert_eq!(outside.status, StatusCode::BAD_REQUEST, "{}", outside.text);
    assert!(outside.json()["detail"].as_str().expect("a detail").starts_with("Error al actualizar el rango de numeración: "));
}

#[tokio::test]
async fn a_deleted_range_is_no_longer_shown_and_deleting_it_again_is_not_found() {
    let app = TestApp::start(Mode::ClientToken).await;
    let created = app.create_range(&json!({ "document": "23", "prefix": "ND", "current": 1 })).await;
    let path = format!("/numbering-ranges/{}", created["id"]);

    let deleted = app.delete(&path).await.ok("Rango de numeración eliminado exitosamente");

    assert_eq!(deleted, json!({ "status": "OK", "message": "Rango de numeración eliminado con éxito" }));
    app.get(&path).await.detail(StatusCode::NOT_FOUND, "Rango de numeración no encontrado");
    app.delete(&path).await.detail(StatusCode::NOT_FOUND, "Rango de numeración no encontrado");
}

#[tokio::test]
async fn a_user_who_is_not_an_admin_lists_ranges_but_cannot_create_move_or_delete_them() {
    let app = TestApp::start(Mode::ClientToken).await;

    let listed = send(app.as_cashier(Method::GET, "/numbering-ranges").await).await;
    let created =
        send(app.as_cashier(Method::POST, "/numbering-ranges").await.json(&json!({ "document": "22", "prefix": "NCZ", "current": 1 })))
            .await;
    let moved = send(app.as_cashier(Method::PUT, "/numbering-ranges/8").await.json(&json!({ "current": 990000500 }))).await;
    let deleted = send(app.as_cashier(Method::DELETE, "/numbering-ranges/8").await).await;

    listed.ok("Rangos de numeración obtenidos exitosamente");
    for reply in [created, moved, deleted] {
        reply.detail(StatusCode::FORBIDDEN, "Not enough permissions");
    }
    assert_eq!(app.upstream_calls_to("POST /v1/numbering-ranges").await, 0);
    assert_eq!(app.upstream_calls_to("/v1/numbering-ranges/{id}").await, 0);
}

// --- readiness warnings ----------------------------------------------------------------------

#[tokio::test]
async fn an_expired_range_is_a_readiness_warning_naming_it_until_it_is_deleted() {
    let app = TestApp::start(Mode::ClientToken).await;
    assert!(app.readiness_warnings().await.is_empty());

    let expired = app.create_range(&account_new_range("SETT", "18760000003", 1)).await;
    let id = expired["id"].as_i64().expect("an id");

    assert_eq!(expired["is_expired"], true);
    assert_eq!(
        app.readiness_warnings().await,
        [json!({
            "code": "numbering_range_expired",
            "message": format!("El rango de numeración SETT (id {id}) venció el 2021-01-01: Factus ya no numera documentos con él"),
            "numbering_range_id": id,
            "prefix": "SETT"
        })]
    );
    app.delete(&format!("/numbering-ranges/{id}")).await.ok("Rango de numeración eliminado exitosamente");
    assert!(app.readiness_warnings().await.is_empty());
}

#[tokio::test]
async fn a_range_close_to_its_last_number_warns_below_the_configured_remaining_numbers() {
    let app = TestApp::start_with(Options::new(Mode::ClientToken).env("NUMBERING_RANGE_WARN_REMAINING", "50")).await;

    let roomy = app.create_range(&account_new_range("FE", "18764000001", 4951)).await;
    assert!(app.readiness_warnings().await.is_empty(), "50 numbers left is not fewer than 50");
    let id = roomy["id"].as_i64().expect("an id");
    app.put(&format!("/numbering-ranges/{id}"), &json!({ "current": 4952 })).await.ok("Rango de numeración actualizado exitosamente");

    let warnings = app.readiness_warnings().await;
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!((warnings[0]["code"].as_str(), warnings[0]["numbering_range_id"].as_i64()), (Some("numbering_range_running_out"), Some(id)));
    assert_eq!(
        warnings[0]["message"],
        format!("El rango de numeración FE (id {id}) tiene solo 49 números disponibles (hasta 5000)")
    );
}

#[tokio::test]
async fn a_range_used_up_behind_the_service_s_back_is_found_by_the_background_check() {
    let app = TestApp::start_with(
        Options::new(Mode::ServerSession).env("NUMBERING_RANGE_CHECK_INTERVAL_SECS", "1"),
    )
    .await;
    let last = app.create_range(&account_new_range("FE", "18764000001", 5000)).await;
    let id = last["id"].as_i64().expect("an id");

    // The last number is used by an invoice created straight at Factus.
    app.issue_upstream(&edited(valid_invoice("FAC-LAST"), vec![set("/numbering_range_id", json!(id))])).await;

    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let warnings = app.readiness_warnings().await;
        let used_up = warnings.iter().find(|warning| warning["code"] == "numbering_range_used_up");
        if let Some(warning) = used_up {
            assert_eq!(warning["numbering_range_id"], id);
            assert_eq!(warning["message"], format!("El rango de numeración FE (id {id}) agotó sus números (el último es 5000)"));
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no used-up warning: {warnings:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
