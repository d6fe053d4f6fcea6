//! scratch
use std::collections::HashMap;
use std::time::Duration;

use factus_sandbox::{Sandbox, SandboxConfig};
use factus_server::app::{self, BuildOptions};
use factus_server::config::Config;
use serde_json::{Value, json};

const SECRET_KEY: &str = "invoices-black-box-secret-key-0123456789";

async fn start(session: bool) -> (Sandbox, String, reqwest::Client, String, tempfile::TempDir) {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut vars: HashMap<String, String> = HashMap::from([
        ("DATABASE_URL".into(), format!("sqlite://{}", dir.path().join("t.db").display())),
        ("SECRET_KEY".into(), SECRET_KEY.into()),
        ("FACTUS_BASE_URL".into(), sandbox.base_url()),
        ("FACTUS_CLIENT_ID".into(), factus_sandbox::DEFAULT_CLIENT_ID.into()),
        ("FACTUS_CLIENT_SECRET".into(), factus_sandbox::DEFAULT_CLIENT_SECRET.into()),
    ]);
    if session {
        vars.insert("FACTUS_USERNAME".into(), factus_sandbox::DEFAULT_USERNAME.into());
        vars.insert("FACTUS_PASSWORD".into(), factus_sandbox::DEFAULT_PASSWORD.into());
    }
    let config = Config::from_lookup(|n| vars.get(n).cloned()).unwrap();
    let application = app::build(&config, BuildOptions::default()).await.unwrap();
    app::bootstrap_admin(&config, &application.state.users).await.unwrap();
    let router = factus_web::router(application.state.clone(), &application.web);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(app::serve(listener, router, std::future::pending(), Duration::from_secs(1)));
    let http = reqwest::Client::new();
    let login: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .form(&[("username", "admin"), ("password", "admin123")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().unwrap().to_owned();
    (sandbox, base, http, token, dir)
}

async fn show(http: &reqwest::Client, req: reqwest::RequestBuilder, label: &str) -> Value {
    let _ = http;
    let r = req.send().await.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    let cut: String = text.chars().take(1500).collect();
    println!("=== {label}: {status}\n{cut}\n");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

fn invoice(rc: &str) -> Value {
    json!({
        "numbering_range_id": 8, "reference_code": rc, "observation": "obs", "payment_form": "1", "payment_method_code": "10",
        "customer": {"identification_document_id": 3, "identification": "123456789", "names": "Juan Perez", "address": "Calle 1",
            "email": "juan@example.com", "phone": "3001234567", "legal_organization_id": 2, "tribute_id": 21, "municipality_id": 980},
        "items": [{"code_reference": "P-001", "name": "Producto", "quantity": 1, "discount_rate": "0.00", "price": "10000.00",
            "tax_rate": "19.00", "unit_measure_id": 70, "standard_code_id": 1, "is_excluded": 0, "tribute_id": 1}]
    })
}

#[tokio::test]
async fn explore() {
    let (sandbox, base, http, token, _dir) = start(false).await;
    let u = |p: &str| format!("{base}/api/v1{p}");
    let login = show(
        &http,
        http.post(u("/auth/factus/login"))
            .bearer_auth(&token)
            .json(&json!({"email": factus_sandbox::DEFAULT_USERNAME, "password": factus_sandbox::DEFAULT_PASSWORD})),
        "factus login",
    )
    .await;
    let ft = login["data"]["access_token"].as_str().unwrap().to_owned();
    let rt = login["data"]["refresh_token"].as_str().unwrap().to_owned();
    show(
        &http,
        http.post(u("/auth/factus/login"))
            .bearer_auth(&token)
            .json(&json!({"email": factus_sandbox::DEFAULT_USERNAME, "password": "bad"})),
        "factus login bad",
    )
    .await;
    show(
        &http,
        http.post(u("/auth/factus/refresh")).bearer_auth(&token).json(&json!({"refresh_token": rt})),
        "refresh",
    )
    .await;
    show(
        &http,
        http.post(u("/auth/factus/refresh")).bearer_auth(&token).json(&json!({"refresh_token": rt})),
        "refresh again",
    )
    .await;
    let login = show(
        &http,
        http.post(u("/auth/factus/login"))
            .bearer_auth(&token)
            .json(&json!({"email": factus_sandbox::DEFAULT_USERNAME, "password": factus_sandbox::DEFAULT_PASSWORD})),
        "factus login",
    )
    .await;
    let ft2 = login["data"]["access_token"].as_str().unwrap().to_owned();
    let _ = ft;
    let ft = ft2;
    let created = show(
        &http,
        http.post(u("/invoices")).bearer_auth(&token).header("x-factus-token", &ft).json(&invoice("R-1")),
        "create",
    )
    .await;
    let number = created["data"]["number"].as_str().unwrap().to_owned();
    show(
        &http,
        http.post(u("/invoices/")).bearer_auth(&token).header("x-factus-token", &ft).json(&invoice("R-1")),
        "create dup",
    )
    .await;
    let mut bad = invoice("R-2");
    bad["items"][0]["tribute_id"] = json!(99);
    bad["items"][0]["unit_measure_id"] = json!(999999);
    show(&http, http.post(u("/invoices/")).bearer_auth(&token).header("x-factus-token", &ft).json(&bad), "create 422")
        .await;
    show(&http, http.get(u(&format!("/invoices/{number}"))).bearer_auth(&token).header("x-factus-token", &ft), "get")
        .await;
    show(
        &http,
        http.get(u(&format!("/invoices/{number}/pdf"))).bearer_auth(&token).header("x-factus-token", &ft),
        "pdf",
    )
    .await;
    show(
        &http,
        http.get(u(&format!("/invoices/{number}/xml"))).bearer_auth(&token).header("x-factus-token", &ft),
        "xml",
    )
    .await;
    show(
        &http,
        http.post(format!("{}/__sandbox/bills/{number}/events", sandbox.base_url()))
            .json(&json!({"event_code": "030"})),
        "add event",
    )
    .await;
    show(
        &http,
        http.get(u(&format!("/invoices/{number}/events"))).bearer_auth(&token).header("x-factus-token", &ft),
        "events",
    )
    .await;
    show(
        &http,
        http.post(u(&format!("/invoices/{number}/send-email")))
            .bearer_auth(&token)
            .header("x-factus-token", &ft)
            .json(&json!({"email": "a@b.co"})),
        "email",
    )
    .await;
    show(
        &http,
        http.delete(u("/invoices/reference/R-1")).bearer_auth(&token).header("x-factus-token", &ft),
        "delete validated",
    )
    .await;
    show(
        &http,
        http.delete(u("/invoices/reference/NOPE")).bearer_auth(&token).header("x-factus-token", &ft),
        "delete unknown",
    )
    .await;
    show(&http, http.get(u("/invoices/SETP1")).bearer_auth(&token).header("x-factus-token", &ft), "get unknown").await;
    show(&http, http.get(u("/invoices/SETP1/pdf")).bearer_auth(&token).header("x-factus-token", &ft), "pdf unknown")
        .await;
    show(
        &http,
        http.get(u("/invoices/SETP1/events")).bearer_auth(&token).header("x-factus-token", &ft),
        "events unknown",
    )
    .await;
    show(
        &http,
        http.post(u("/invoices/SETP1/send-email"))
            .bearer_auth(&token)
            .header("x-factus-token", &ft)
            .json(&json!({"email": "a@b.co"})),
        "email unknown",
    )
    .await;
    for p in [
        "/lookups/numbering-ranges",
        "/lookups/taxes",
        "/lookups/countries?name=colom",
        "/lookups/municipalities?name=bogot",
        "/lookups/units?name=unidad",
        "/lookups/acquirer?identification_document_id=3&identification_number=1399991",
        "/lookups/acquirer?identification_document_id=3&identification_number=55",
        "/lookups/acquirer",
        "/lookups/reference-tables",
    ] {
        show(&http, http.get(u(p)).bearer_auth(&token).header("x-factus-token", &ft), p).await;
    }
    let r: Value = http
        .get(u("/lookups/municipalities"))
        .bearer_auth(&token)
        .header("x-factus-token", &ft)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    println!("municipalities {}", r["data"].as_array().unwrap().len());
    let r: Value = http
        .get(u("/lookups/units"))
        .bearer_auth(&token)
        .header("x-factus-token", &ft)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    println!("units {} {}", r["data"].as_array().unwrap().len(), r["data"][69]);
    show(&http, http.get(u("/lookups/taxes")).bearer_auth(&token).header("x-factus-token", "bogus"), "taxes bogus")
        .await;
    show(&http, http.get(u("/lookups/taxes")).bearer_auth(&token), "taxes no header").await;
    show(&http, http.post(u("/invoices")).bearer_auth(&token).json(&json!({"items": []})), "create no header").await;
    show(
        &http,
        http.post(u("/invoices")).bearer_auth(&token).header("content-type", "application/json").body("{x"),
        "bad json",
    )
    .await;
    show(&http, http.get(format!("{}/__sandbox/requests", sandbox.base_url())), "requests").await;
}
