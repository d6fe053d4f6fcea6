//! The operator console, driven in a real headless Chromium (Debian's `chromium` and
//! `chromium-driver`) through WebDriver, against the real `factus-api` binary with its in-process
//! Factus simulator.
//!
//! One chromedriver serves the whole binary (this file has its own harness, `harness = false`,
//! so the driver is started once and stopped at the end even when a scenario fails); every
//! scenario gets a fresh browser session (its own cookies), ports are chosen by the system, and
//! every wait is explicit (an element or a URL, with a deadline), never a sleep. The pages'
//! screenshots are written to `docs/console/`, which the README shows.
//!
//! Without chromedriver the scenarios are skipped with a loud message; under `CI=true` a skip
//! fails the run (`.ci/run` installs the packages).

mod support;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::process::{Child, Command};

const ADMIN_PASSWORD: &str = "console-admin-password";
const PATIENCE: Duration = Duration::from_secs(30);
const CHROMEDRIVER: &str = "chromedriver";

/// A webhook receiver that answers every request with the status it is told (500 until told
/// otherwise).
struct Receiver {
    url: String,
    status: Arc<AtomicU16>,
}

impl Receiver {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a local port");
        let url = format!("http://{}/hooks", listener.local_addr().expect("its address"));
        let status = Arc::new(AtomicU16::new(500));
        let answer = status.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let status = answer.load(Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buffer = [0_u8; 4096];
                    // The head, then as much body as it announces.
                    while let Ok(read) = stream.read(&mut buffer).await {
                        if read == 0 {
                            break;
                        }
                        request.extend_from_slice(&buffer[..read]);
                        let text = String::from_utf8_lossy(&request);
                        if let Some(head_end) = text.find("\r\n\r\n") {
                            let length = text[..head_end]
                                .lines()
                                .find_map(|line| {
                                    line.to_ascii_lowercase()
                                        .strip_prefix("content-length:")
                                        .map(|n| n.trim().parse::<usize>().unwrap_or(0))
                                })
                                .unwrap_or(0);
                            if request.len() >= head_end + 4 + length {
                                break;
                            }
                        }
                    }
                    let reply = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                    drop(stream.write_all(reply.as_bytes()).await);
                });
            }
        });
        Self { url, status }
    }
}

/// A running `factus-api --simulate-factus` on a SQLite file of its own.
struct Server {
    _child: Child,
    _dir: tempfile::TempDir,
    base: String,
    /// The in-process Factus simulator, for its fault injection.
    simulator: String,
    /// Where the server sends its webhooks.
    receiver: Receiver,
    http: reqwest::Client,
}

impl Server {
    async fn start() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let receiver = Receiver::start().await;
        let mut command = Command::new(support::binary());
        let mut child = support::isolated(&mut command, dir.path())
            .args(["--simulate-factus", "--bind", "127.0.0.1:0"])
            .env("DATABASE_URL", format!("sqlite://{}", dir.path().join("console.db").display()))
            .env("SECRET_KEY", "console-browser-secret-key-0123456789abcdef")
            .env("ADMIN_PASSWORD", ADMIN_PASSWORD)
            // A rejected document stays at Factus, for an operator to delete in the console.
            .env("FACTUS_DELETE_REJECTED", "false")
            // One attempt per delivery, dispatched at once: a refused one fails for good.
            .env("WEBHOOK_URL", &receiver.url)
            .env("WEBHOOK_SECRET", "console-webhook-secret")
            .env("WEBHOOK_MAX_ATTEMPTS", "1")
            .env("WEBHOOK_DISPATCH_INTERVAL_MS", "100")
            // JSON logs: the simulator's address is read from its start-up line.
            .env("RUST_LOG", "warn,factus_server::simulator=info")
            .env("LOG_FORMAT", "json")
            .spawn()
            .expect("the binary starts");
        let (address, output) = support::listening(&mut child, PATIENCE).await;
        let simulator = output
            .lock()
            .expect("the output")
            .iter()
            .find(|line| line.contains("Factus simulator started"))
            .map(|line| serde_json::from_str::<Value>(line).expect("a JSON log line"))
            .and_then(|log| log["url"].as_str().map(|url| url.trim_end_matches('/').to_owned()))
            .expect("the simulator's address was logged");
        let http = reqwest::Client::builder().timeout(PATIENCE).build().expect("an HTTP client");
        Self { _child: child, _dir: dir, base: format!("http://{address}"), simulator, receiver, http }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn token(&self, username: &str, password: &str) -> String {
        support::login(&self.http, &self.url("/api/v1"), username, password).await
    }

    /// Creates a user through the API (as admin).
    async fn create_user(&self, username: &str, password: &str) {
        let admin = self.token("admin", ADMIN_PASSWORD).await;
        let response = self
            .http
            .post(self.url("/api/v1/users"))
            .bearer_auth(admin)
            .json(&json!({"username": username, "password": password, "role": "user"}))
            .send()
            .await
            .expect("a user is created");
        assert!(response.status().is_success(), "{}", response.text().await.unwrap_or_default());
    }

    /// Sends a credit note through the API; returns the status and the body.
    async fn create_credit_note(&self, token: &str, note: &Value) -> (StatusCode, Value) {
        let response = self
            .http
            .post(self.url("/api/v1/credit-notes"))
            .bearer_auth(token)
            .json(note)
            .send()
            .await
            .expect("the credit-note request");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Switches a fault on at the simulator (`docs/sandbox.md`, "Faults").
    async fn fault(&self, rule: Value) {
        let response =
            self.http.post(format!("{}/__sandbox/faults", self.simulator)).json(&rule).send().await.expect("the fault");
        assert_eq!(response.status(), StatusCode::CREATED, "{}", response.text().await.unwrap_or_default());
    }

    /// Sends an invoice through the API as `token`'s user; returns the status and the body.
    async fn create_invoice(&self, token: &str, invoice: &Value) -> (StatusCode, Value) {
        let response = self
            .http
            .post(self.url("/api/v1/invoices"))
            .bearer_auth(token)
            .json(invoice)
            .send()
            .await
            .expect("the invoice request");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

fn invoice(reference: &str) -> Value {
    json!({
        "numbering_range_id": 8, "reference_code": reference, "payment_form": "1", "payment_method_code": "10",
        "customer": {"identification_document_id": 3, "identification": "123456789", "names": "Juan Pérez",
                     "legal_organization_id": 2, "tribute_id": 21, "municipality_id": 980,
                     "email": "juan@example.com"},
        "items": [{"code_reference": "P-001", "name": "Servicio de contabilidad", "quantity": 2,
                   "discount_rate": "0.00", "price": "1190000.00", "tax_rate": "19.00", "unit_measure_id": 70,
                   "standard_code_id": 1, "is_excluded": 0, "tribute_id": 1}]
    })
}

/// An invoice to a NIT whose check digit is wrong: DIAN rejects it (FAK24) and Factus keeps it.
fn invoice_with_wrong_nit_dv(reference: &str) -> Value {
    let mut invoice = invoice(reference);
    let customer = &mut invoice["customer"];
    customer["identification_document_id"] = json!(6);
    customer["identification"] = json!("900373115");
    customer["dv"] = json!("4");
    customer["company"] = json!("Acme SAS");
    customer["legal_organization_id"] = json!(1);
    invoice
}

/// A free local port (the system picks it; the listener is closed before the driver binds it).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("a local port").local_addr().expect("its address").port()
}

/// The one chromedriver of this test binary, stopped when dropped.
struct Driver {
    child: std::process::Child,
    url: String,
}

impl Driver {
    fn start() -> Option<Self> {
        let port = free_port();
        let child = std::process::Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < PATIENCE, "chromedriver did not listen on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(Self { child, url: format!("http://127.0.0.1:{port}") })
    }

    async fn browser(&self) -> Client {
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            json!({
                "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                         "--window-size=1280,1000", "--lang=es-CO", "--hide-scrollbars"],
                "prefs": {"intl.accept_languages": "es-CO,es"},
            }),
        );
        ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .expect("a browser session")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        drop(self.child.kill());
        drop(self.child.wait());
    }
}

/// A browser on the console, with explicit waits.
#[derive(Clone)]
struct Browser {
    client: Client,
    base: String,
}

impl Browser {
    async fn open(&self, path: &str) {
        self.client.goto(&format!("{}{path}", self.base)).await.expect("the page opens");
    }

    async fn wait(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|error| panic!("{css} did not appear: {error}"))
    }

    /// The element's text; read again when the page was replaced between finding and reading.
    async fn text(&self, css: &str) -> String {
        let started = Instant::now();
        loop {
            match self.wait(css).await.text().await {
                Ok(text) => return text,
                Err(error) => assert!(started.elapsed() < PATIENCE, "{css} has no text: {error}"),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn type_into(&self, css: &str, text: &str) {
        let field = self.wait(css).await;
        field.clear().await.expect("the field clears");
        field.send_keys(text).await.expect("typing");
    }

    async fn click(&self, css: &str) {
        self.wait(css).await.click().await.unwrap_or_else(|error| panic!("{css} cannot be clicked: {error}"));
    }

    async fn page_text(&self) -> String {
        self.text("body").await
    }

    /// Waits until the page's text contains `expected`.
    async fn wait_for_text(&self, expected: &str) {
        let started = Instant::now();
        loop {
            let text = self.page_text().await;
            if text.contains(expected) {
                return;
            }
            assert!(started.elapsed() < PATIENCE, "the page never said {expected:?}; it says:\n{text}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Opens `path` again and again until its text contains `expected` (what a background task
    /// changes shows on a later load).
    async fn open_until(&self, path: &str, expected: &str) {
        let started = Instant::now();
        loop {
            self.open(path).await;
            let text = self.page_text().await;
            if text.contains(expected) {
                return;
            }
            assert!(started.elapsed() < PATIENCE, "{path} never said {expected:?}; it says:\n{text}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn log_in(&self, username: &str, password: &str) {
        self.open("/console/login").await;
        self.type_into("#username", username).await;
        self.type_into("#password", password).await;
        self.click("#login").await;
        self.wait("form.logout").await;
    }

    /// Saves a screenshot of the page as `docs/console/{name}.png`.
    async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("a screenshot");
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/console");
        std::fs::create_dir_all(&dir).expect("docs/console exists");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("the screenshot is saved");
    }

    /// Fetches `path` inside the page (with its cookies); returns the status, content type and
    /// the first bytes as text.
    async fn fetch_head(&self, path: &str) -> (u64, String, String) {
        let script = r"
            const [path, done] = arguments;
            fetch(path, {credentials: 'same-origin'})
              .then(r => r.arrayBuffer().then(b => done([r.status, r.headers.get('content-type') || '',
                String.fromCharCode(...new Uint8Array(b.slice(0, 5)))])))
              .catch(e => done([0, '', String(e)]));";
        let answer = self.client.execute_async(script, vec![json!(path)]).await.expect("the fetch runs");
        (
            answer[0].as_u64().unwrap_or_default(),
            answer[1].as_str().unwrap_or_default().to_owned(),
            answer[2].as_str().unwrap_or_default().to_owned(),
        )
    }

    /// The link of the document whose reference is `reference`, from the documents page.
    async fn open_document(&self, reference: &str) {
        self.open(&format!("/console/documents?reference_code={reference}")).await;
        self.click("a.reference").await;
        self.wait("#ledger").await;
        assert_eq!(self.text("#reference").await, reference);
    }
}

// ---------------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------------

async fn an_admin_finds_an_invoice_created_through_the_api_opens_its_pdf_and_emails_it(
    server: Arc<Server>,
    browser: Browser,
) {
    let admin = server.token("admin", ADMIN_PASSWORD).await;
    let (status, created) = server.create_invoice(&admin, &invoice("CON-1")).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let number = created["data"]["number"].as_str().expect("a bill number").to_owned();

    browser.open("/console/login").await;
    browser.wait("#username").await;
    browser.screenshot("login").await;
    browser.log_in("admin", ADMIN_PASSWORD).await;
    browser.wait("#today").await;

    // The ledger finds it by a part of its customer's name, in any case, and shows who it is for.
    browser.open("/console/documents").await;
    browser.type_into("#customer", "juan PÉR").await;
    browser.click("form.filters button[type=submit]").await;
    browser.wait_for_text("CON-1").await;
    let customer = browser.text("td.customer").await;
    assert!(customer.contains("Juan Pérez") && customer.contains("123456789"), "{customer}");
    browser.type_into("#customer", "Nadie Así").await;
    browser.click("form.filters button[type=submit]").await;
    browser.wait_for_text("Ningún documento coincide.").await;

    // The ledger, filtered by the bill number, finds it.
    browser.open("/console/documents").await;
    browser.type_into("#number", &number).await;
    browser.click("form.filters button[type=submit]").await;
    browser.wait_for_text("CON-1").await;
    browser.screenshot("documents").await;
    browser.click("a.reference").await;
    assert_eq!(browser.text("#number").await, number);
    assert_eq!(browser.text("#customer").await, "Juan Pérez");
    browser.wait_for_text("CUFE").await;
    // 2 × 1.190.000 pesos, tax included.
    assert_eq!(browser.text("#total").await, "$ 2.380.000");
    browser.wait("iframe.pdf").await;
    browser.screenshot("document").await;

    // Its PDF opens inline, and its XML downloads.
    let pdf_path = browser.wait("#open-pdf").await.attr("href").await.expect("an href").expect("a link");
    let (status, content_type, head) = browser.fetch_head(&pdf_path).await;
    assert_eq!((status, content_type.as_str(), head.as_str()), (200, "application/pdf", "%PDF-"));
    let xml_path = browser.wait("#download-xml").await.attr("href").await.expect("an href").expect("a link");
    let (status, content_type, head) = browser.fetch_head(&xml_path).await;
    assert_eq!((status, content_type.as_str(), head.as_str()), (200, "application/xml", "<?xml"));

    // E-mail it.
    browser.type_into("#email-address", "contabilidad@example.com").await;
    browser.click("#send-email").await;
    browser.wait_for_text("Factus envió el documento por correo.").await;

    // The switch speaks English, and pesos follow.
    browser.click("a.lang").await;
    browser.wait_for_text("Look it up at DIAN").await;
    assert_eq!(browser.text("#total").await, "COP 2,380,000");
    browser.click("a.lang").await;
    browser.wait_for_text("Consultar en la DIAN").await;
}

async fn a_credit_note_shows_the_invoice_it_corrects_and_its_pdf(server: Arc<Server>, browser: Browser) {
    let admin = server.token("admin", ADMIN_PASSWORD).await;
    let (status, created) = server.create_invoice(&admin, &invoice("CON-NC-BILL")).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let bill = created["data"]["number"].as_str().expect("a bill number").to_owned();
    // The customer returns one of the two services.
    let note = json!({
        "bill_number": bill, "correction_concept_code": 1, "reference_code": "CON-NC",
        "observation": "Devolución de un servicio",
        "items": [{"code_reference": "P-001", "name": "Servicio de contabilidad", "quantity": 1,
                   "discount_rate": "0.00", "price": "1190000.00", "tax_rate": "19.00", "unit_measure_id": 70,
                   "standard_code_id": 1, "is_excluded": 0, "tribute_id": 1}]
    });
    let (status, credited) = server.create_credit_note(&admin, &note).await;
    assert_eq!(status, StatusCode::OK, "{credited}");

    browser.log_in("admin", ADMIN_PASSWORD).await;
    browser.open("/console/documents?kind=credit_note").await;
    browser.wait_for_text("CON-NC").await;
    browser.open_document("CON-NC").await;
    browser.wait_for_text("Nota crédito").await;
    // DIAN calls a note's unique code CUDE.
    browser.wait_for_text("CUDE").await;
    assert!(!browser.page_text().await.contains("CUFE"));
    assert_eq!(browser.text("#total").await, "$ 1.190.000");
    browser.wait_for_text(&bill).await;
    let pdf_path = browser.wait("#open-pdf").await.attr("href").await.expect("an href").expect("a link");
    let (status, content_type, head) = browser.fetch_head(&pdf_path).await;
    assert_eq!((status, content_type.as_str(), head.as_str()), (200, "application/pdf", "%PDF-"));
    browser.screenshot("credit-note").await;
}

async fn an_invoice_is_annulled_with_a_credit_note_from_its_page_once(server: Arc<Server>, browser: Browser) {
    let admin = server.token("admin", ADMIN_PASSWORD).await;
    let (status, created) = server.create_invoice(&admin, &invoice("CON-ANUL")).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let bill = created["data"]["number"].as_str().expect("a bill number").to_owned();

    browser.log_in("admin", ADMIN_PASSWORD).await;
    browser.open_document("CON-ANUL").await;
    browser.click("#annul").await;
    // The confirmation page shows the note before anything is issued: the invoice's lines, its
    // whole total, DIAN's concept 2.
    assert_eq!(browser.text("#note-total").await, "$ 2.380.000");
    assert_eq!(browser.text("#note-reference").await, format!("ANUL-{bill}"));
    browser.wait_for_text("Anulación de factura electrónica").await;
    browser.wait_for_text("Servicio de contabilidad").await;
    let confirmation = browser.client.current_url().await.expect("a URL").path().to_owned();
    browser.click("#confirm-annul").await;
    browser.click("#annul-confirm").await;

    // The new credit note's page, with its CUDE, correcting the invoice.
    browser.wait_for_text("Nota crédito emitida: anula por completo la factura que corrige.").await;
    assert_eq!(browser.text("#reference").await, format!("ANUL-{bill}"));
    browser.wait_for_text("CUDE").await;
    browser.wait_for_text(&bill).await;
    assert_eq!(browser.text("#total").await, "$ 2.380.000");
    browser.wait("iframe.pdf").await;
    let note_page = browser.client.current_url().await.expect("a URL").path().to_owned();
    browser.screenshot("annulment").await;

    // Submitted again (a double click, the back button), it is the same note, not a second one.
    browser.open(&confirmation).await;
    browser.click("#confirm-annul").await;
    browser.click("#annul-confirm").await;
    browser.wait_for_text("Nota crédito emitida").await;
    assert_eq!(browser.client.current_url().await.expect("a URL").path(), note_page);
    browser.open(&format!("/console/documents?kind=credit_note&reference_code=ANUL-{bill}")).await;
    browser.wait_for_text(&format!("ANUL-{bill}")).await;
    let rows = browser.client.find_all(Locator::Css("table.documents tbody tr")).await.expect("the rows");
    assert_eq!(rows.len(), 1, "one annulment");

    // An invoice already partly credited cannot be annulled for its whole value: the ledger's
    // rule says so in plain words on the invoice's page, and nothing is issued.
    let (status, created) = server.create_invoice(&admin, &invoice("CON-ANUL-PART")).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let partly = created["data"]["number"].as_str().expect("a bill number").to_owned();
    let note = json!({
        "bill_number": partly, "correction_concept_code": 1, "reference_code": "CON-ANUL-PART-NC",
        "items": [{"code_reference": "P-001", "name": "Servicio de contabilidad", "quantity": 1,
                   "discount_rate": "0.00", "price": "1190000.00", "tax_rate": "19.00", "unit_measure_id": 70,
                   "standard_code_id": 1, "is_excluded": 0, "tribute_id": 1}]
    });
    let (status, credited) = server.create_credit_note(&admin, &note).await;
    assert_eq!(status, StatusCode::OK, "{credited}");
    browser.open_document("CON-ANUL-PART").await;
    browser.click("#annul").await;
    browser.click("#confirm-annul").await;
    browser.click("#annul-confirm").await;
    browser.wait_for_text("debe acreditar exactamente el saldo de la factura").await;
    assert_eq!(browser.text("#reference").await, "CON-ANUL-PART");
}

async fn a_rejected_invoice_shows_dians_rules_and_is_deleted_at_factus(server: Arc<Server>, browser: Browser) {
    let admin = server.token("admin", ADMIN_PASSWORD).await;
    let (status, refused) = server.create_invoice(&admin, &invoice_with_wrong_nit_dv("CON-DV")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    // While it is stored at Factus, the next invoice is refused.
    let (status, blocked) = server.create_invoice(&admin, &invoice("CON-BLOCKED")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{blocked}");

    browser.log_in("admin", ADMIN_PASSWORD).await;
    browser.open("/console/documents?state=rejected").await;
    browser.wait_for_text("CON-DV").await;
    browser.open_document("CON-DV").await;
    assert!(browser.text("#rules").await.contains("FAK24"), "the rule is named");
    browser.wait_for_text("bloquea los siguientes").await;
    browser.screenshot("rejected").await;

    // Without the confirmation box the form does not go (required); ticked, the script asks once more.
    browser.click("#confirm-delete").await;
    browser.click("#delete").await;
    browser.client.accept_alert().await.expect("the confirmation dialog");
    browser.wait_for_text("El documento rechazado se eliminó en Factus.").await;
    browser.wait_for_text("El documento ya se eliminó en Factus.").await;

    // Nothing blocks the next invoice any more.
    let (status, issued) = server.create_invoice(&admin, &invoice("CON-AFTER")).await;
    assert_eq!(status, StatusCode::OK, "{issued}");
}

async fn an_invoice_whose_answer_was_lost_is_looked_up_at_factus_from_its_page(server: Arc<Server>, browser: Browser) {
    // Factus stores the bill and the connection drops before the answer: nobody knows.
    server
        .fault(json!({"kind": "drop_after_commit", "method": "POST", "path": "/v1/bills/validate", "times": 1}))
        .await;
    let admin = server.token("admin", ADMIN_PASSWORD).await;
    let (status, lost) = server.create_invoice(&admin, &invoice("CON-LOST")).await;
    assert!(status.is_server_error(), "{status} {lost}");

    browser.log_in("admin", ADMIN_PASSWORD).await;
    browser.open("/console/documents?state=unknown").await;
    browser.wait_for_text("CON-LOST").await;
    browser.open_document("CON-LOST").await;
    assert_eq!(browser.text("#state").await, "Desconocido");
    browser.screenshot("unknown").await;
    browser.click("#look-up").await;
    browser.wait_for_text("Factus tiene el documento: quedó emitido.").await;
    assert_eq!(browser.text("#state").await, "Emitido");
    assert!(browser.text("#number").await.starts_with("SETP"));
}

async fn a_failed_webhook_delivery_is_redelivered_from_the_console(server: Arc<Server>, browser: Browser) {
    let admin = server.token("admin", ADMIN_PASSWORD).await;
    let (status, created) = server.create_invoice(&admin, &invoice("CON-HOOK")).await;
    assert_eq!(status, StatusCode::OK, "{created}");

    // The receiver refuses it (500) and the one attempt is used up.
    browser.log_in("admin", ADMIN_PASSWORD).await;
    browser.open_until("/console/webhooks?status=failed", "CON-HOOK").await;
    browser.screenshot("webhooks").await;

    server.receiver.status.store(200, Ordering::SeqCst);
    let redeliver = "//tr[.//a[normalize-space()='CON-HOOK']]//button[@type='submit']";
    browser
        .client
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::XPath(redeliver))
        .await
        .expect("the redeliver button")
        .click()
        .await
        .expect("it is clicked");
    browser.wait_for_text("Entrega programada de nuevo.").await;
    browser.open_until("/console/webhooks?status=delivered", "CON-HOOK").await;
}

async fn an_admin_creates_a_user_and_an_api_key_that_works_until_it_is_revoked(server: Arc<Server>, browser: Browser) {
    browser.log_in("admin", ADMIN_PASSWORD).await;
    browser.open("/console/users").await;
    browser.type_into("#new-username", "contadora").await;
    browser.type_into("#new-password", "contadora-2026").await;
    browser.click("#create-user-button").await;
    browser.wait_for_text("Usuario creado.").await;
    browser.screenshot("users").await;

    browser.open("/console/keys").await;
    browser.type_into("#key-name", "erp-nomina").await;
    browser.click("#create-key-button").await;
    let key = browser.wait("#new-key-secret").await.prop("value").await.expect("a value").expect("the key");
    assert!(key.starts_with("fapi_"), "{key}");
    browser.screenshot("api-keys").await;
    let me = |key: String| {
        let request = server.http.get(server.url("/api/v1/auth/me")).header("X-API-Key", key);
        async move { request.send().await.expect("the request").status() }
    };
    assert_eq!(me(key.clone()).await, StatusCode::OK);

    // The key is shown once: the list only has its prefix.
    browser.open("/console/keys").await;
    assert!(!browser.page_text().await.contains(&key));
    browser.click("tr[id^=key-] button.danger").await;
    browser.wait_for_text("Clave revocada.").await;
    assert_eq!(me(key).await, StatusCode::UNAUTHORIZED);
}

async fn a_user_sees_only_their_own_documents_and_no_admin_page(server: Arc<Server>, browser: Browser) {
    server.create_user("vendedor", "vendedor-2026").await;
    let seller = server.token("vendedor", "vendedor-2026").await;
    let (status, mine) = server.create_invoice(&seller, &invoice("CON-SELLER")).await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    let admin = server.token("admin", ADMIN_PASSWORD).await;
    let (status, theirs) = server.create_invoice(&admin, &invoice("CON-ADMIN")).await;
    assert_eq!(status, StatusCode::OK, "{theirs}");

    // The admin sees everybody's documents in the overview, and the queue (empty: Factus took
    // every send)…
    browser.log_in("admin", ADMIN_PASSWORD).await;
    browser.wait("#today").await;
    assert_eq!(browser.text("#queue-depth").await, "0");
    browser.wait_for_text("Ningún documento espera cupo en Factus.").await;
    // …and the calls to Factus in the window, the two creates above among them.
    let budget = browser.text("#budget-used").await;
    let used = budget
        .strip_suffix(" de 80 llamadas en los últimos 60 s")
        .and_then(|used| used.parse::<u32>().ok())
        .unwrap_or_else(|| panic!("the budget reads as calls used of the limit in the window: {budget:?}"));
    assert!((2..=80).contains(&used), "{budget}");
    browser.screenshot("overview").await;
    // …and the admin's document page is for the seller to try.
    browser.open_document("CON-ADMIN").await;
    let admins_document = browser.client.current_url().await.expect("a URL").path().to_owned();
    browser.click("form.logout button").await;
    browser.wait("#username").await;

    browser.log_in("vendedor", "vendedor-2026").await;
    browser.open("/console/documents").await;
    browser.wait_for_text("CON-SELLER").await;
    let listed = browser.page_text().await;
    assert!(!listed.contains("CON-ADMIN") && !listed.contains("CON-1"), "{listed}");
    browser.open(&admins_document).await;
    browser.wait_for_text("Lo que busca no existe o no es suyo.").await;
    // Nor may they annul it.
    browser.open(&format!("{admins_document}/annul")).await;
    browser.wait_for_text("Lo que busca no existe o no es suyo.").await;
    browser.open("/console/users").await;
    browser.wait_for_text("Esta página es solo para administradores.").await;
}

/// The CSRF token a page's forms carry.
fn csrf_in(html: &str) -> String {
    let rest = html.split("name=\"csrf\" value=\"").nth(1).expect("a form with a token");
    rest.split('"').next().expect("the token").to_owned()
}

async fn a_form_posted_without_its_csrf_token_is_refused_and_logout_ends_the_session(
    server: Arc<Server>,
    _browser: Browser,
) {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("a client");
    // The login form itself: without the token (or its cookie) it is refused.
    let refused = http
        .post(server.url("/console/login"))
        .form(&[("username", "admin"), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .expect("the login post");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    // Behind a proxy that speaks HTTPS, the cookies are Secure.
    let behind_https =
        http.get(server.url("/console/login")).header("x-forwarded-proto", "https").send().await.expect("the page");
    let cookies: Vec<&str> =
        behind_https.headers().get_all("set-cookie").iter().filter_map(|value| value.to_str().ok()).collect();
    assert!(!cookies.is_empty() && cookies.iter().all(|cookie| cookie.ends_with("; Secure")), "{cookies:?}");

    // A real login: the form's token and its cookie.
    let page = http.get(server.url("/console/login")).send().await.expect("the login page");
    let cookie = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("console_login_csrf="))
        .and_then(|value| value.split(';').next())
        .expect("the login cookie")
        .to_owned();
    let html = page.text().await.expect("the page");
    let token = csrf_in(&html);
    let logged_in = http
        .post(server.url("/console/login"))
        .header("cookie", &cookie)
        .form(&[("username", "admin"), ("password", ADMIN_PASSWORD), ("csrf", &token)])
        .send()
        .await
        .expect("the login post");
    assert_eq!(logged_in.status(), StatusCode::SEE_OTHER);
    let session = logged_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("console_session=") && !value.starts_with("console_session=;"))
        .expect("the session cookie")
        .to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
        assert!(session.contains(attribute), "{session}");
    }
    let session = session.split(';').next().expect("name=value").to_owned();

    // With the session but without the form's token, nothing is created.
    for form in [
        vec![("name", "sin-token"), ("username", "admin")],
        vec![("name", "sin-token"), ("username", "admin"), ("csrf", "0000")],
    ] {
        let response = http
            .post(server.url("/console/keys"))
            .header("cookie", &session)
            .form(&form)
            .send()
            .await
            .expect("the post");
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
    let admin = server.token("admin", ADMIN_PASSWORD).await;
    let keys: Value = http
        .get(server.url("/api/v1/api-keys"))
        .bearer_auth(admin)
        .send()
        .await
        .expect("the keys")
        .json()
        .await
        .expect("JSON");
    assert!(!keys.to_string().contains("sin-token"), "{keys}");

    // Without a session the console sends the visitor to the login page.
    let anonymous = http.get(server.url("/console/documents")).send().await.expect("the page");
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);
    assert_eq!(anonymous.headers()["location"], "/console/login?next=%2Fconsole%2Fdocuments");

    // Logging out (a form too, with its token) ends the session: the cookie no longer opens a page.
    let page = http.get(server.url("/console")).header("cookie", &session).send().await.expect("the overview");
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("the page");
    let token = csrf_in(&html);
    let out = http
        .post(server.url("/console/logout"))
        .header("cookie", &session)
        .form(&[("csrf", &token)])
        .send()
        .await
        .expect("the logout");
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let after = http.get(server.url("/console")).header("cookie", &session).send().await.expect("the overview");
    assert_eq!(after.status(), StatusCode::SEE_OTHER);
}

// ---------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------

type Scenario = fn(Arc<Server>, Browser) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;

macro_rules! scenarios {
    ($($name:ident),* $(,)?) => {
        [$((stringify!($name), (|server, browser| Box::pin($name(server, browser))) as Scenario)),*]
    };
}

fn main() -> ExitCode {
    let filter: Option<String> = std::env::args().skip(1).find(|arg| !arg.starts_with('-'));
    let scenarios = scenarios![
        an_admin_finds_an_invoice_created_through_the_api_opens_its_pdf_and_emails_it,
        a_credit_note_shows_the_invoice_it_corrects_and_its_pdf,
        an_invoice_is_annulled_with_a_credit_note_from_its_page_once,
        a_rejected_invoice_shows_dians_rules_and_is_deleted_at_factus,
        an_invoice_whose_answer_was_lost_is_looked_up_at_factus_from_its_page,
        a_failed_webhook_delivery_is_redelivered_from_the_console,
        an_admin_creates_a_user_and_an_api_key_that_works_until_it_is_revoked,
        a_user_sees_only_their_own_documents_and_no_admin_page,
        a_form_posted_without_its_csrf_token_is_refused_and_logout_ends_the_session,
    ];
    let selected: Vec<_> = scenarios
        .into_iter()
        .filter(|(name, _)| filter.as_deref().is_none_or(|filter| name.contains(filter)))
        .collect();
    println!("\nrunning {} tests", selected.len());
    let Some(driver) = Driver::start() else {
        let message = format!("{CHROMEDRIVER} not found: install Debian's chromium and chromium-driver");
        if std::env::var("CI").is_ok_and(|ci| ci == "true") {
            eprintln!("error: {message} (a skip fails under CI=true)");
            return ExitCode::FAILURE;
        }
        eprintln!("WARNING: console browser tests SKIPPED: {message}");
        println!(
            "\ntest result: ok. 0 passed; 0 failed; {} ignored; 0 measured; 0 filtered out; finished in 0.00s\n",
            selected.len()
        );
        return ExitCode::SUCCESS;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    let started = Instant::now();
    let failed = runtime.block_on(async {
        let server = Arc::new(Server::start().await);
        let mut failed = Vec::new();
        for (name, scenario) in selected.iter().copied() {
            let client = driver.browser().await;
            let browser = Browser { client: client.clone(), base: server.base.clone() };
            let outcome = tokio::spawn(scenario(server.clone(), browser)).await;
            drop(client.close().await);
            match outcome {
                Ok(()) => println!("test {name} ... ok"),
                Err(error) => {
                    println!("test {name} ... FAILED ({error})");
                    failed.push(name);
                }
            }
        }
        failed
    });
    drop(driver);
    let passed = selected.len() - failed.len();
    if !failed.is_empty() {
        println!("\nfailures:");
        for name in &failed {
            println!("    {name}");
        }
    }
    let verdict = if failed.is_empty() { "ok" } else { "FAILED" };
    println!(
        "\ntest result: {verdict}. {passed} passed; {} failed; 0 ignored; 0 measured; 0 filtered out; finished in {:.2}s\n",
        failed.len(),
        started.elapsed().as_secs_f64()
    );
    if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
