//! Signed webhooks, black-box: the service in-process in front of the real sandbox, and a real
//! HTTP receiver in the test that checks every signature with its own HMAC (the `hmac` crate, not
//! the service's code), on SQLite and on Postgres (the outbox is written by the database, in the
//! ledger's transaction).
//!
//! - a create that is issued reaches the receiver as `document.issued`, signed, with the bill;
//! - a receiver that fails twice gets the same event (same id, same body) on the third attempt,
//!   and the delivery list shows the attempts; an admin's redelivery sends it once more;
//! - a sale DIAN rejects reaches the receiver as `document.rejected` with the rule;
//! - two instances sharing Postgres send each event once (their claims skip each other's rows);
//! - a create answered 202 (the budget spent) is followed to `issued` by its `Location` and by a
//!   webhook that reaches a receiver which failed twice.

mod support_exactly_once;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use factus_infrastructure::testing::TestDatabase;
use hmac::{KeyInit as _, Mac as _};
use serde_json::Value;
use support_exactly_once::{InProcess, Upstream, invoice};

const WEBHOOK_SECRET: &str = "whsec_black_box_0123456789abcdef";

/// What the receiver got: one request each.
#[derive(Debug, Clone)]
struct Received {
    headers: HeaderMap,
    body: String,
}

#[derive(Clone, Default)]
struct Receiver {
    received: Arc<Mutex<Vec<Received>>>,
    /// How many requests still get a 500 before the receiver "recovers".
    failures_left: Arc<Mutex<u32>>,
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    receiver
        .received
        .lock()
        .unwrap()
        .push(Received { headers, body: String::from_utf8(body.to_vec()).expect("a UTF-8 body") });
    let mut failures_left = receiver.failures_left.lock().unwrap();
    if *failures_left > 0 {
        *failures_left -= 1;
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::NO_CONTENT
    }
}

impl Receiver {
    /// Listens on 127.0.0.1:0; returns the receiver and its URL.
    async fn start(failures: u32) -> (Self, String) {
        let receiver = Self { failures_left: Arc::new(Mutex::new(failures)), ..Self::default() };
        let app = axum::Router::new().route("/hooks", axum::routing::post(receive)).with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let url = format!("http://{}/hooks", listener.local_addr().expect("an address"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        (receiver, url)
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits until `count` requests arrived (at most 20 s).
    async fn wait_for(&self, count: usize) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            assert!(tokio::time::Instant::now() < deadline, "only {} of {count} webhooks arrived", received.len());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Verifies `Factus-Api-Signature: t=…,v1=…` over the raw body as a receiver would: recompute
/// HMAC-SHA256("{t}.{body}") with the shared secret, compare in constant time, and refuse a `t`
/// more than five minutes from now. Returns the event.
#[track_caller]
fn verified(received: &Received) -> Value {
    let header = received.headers.get("factus-api-signature").expect("a signature header").to_str().unwrap();
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => timestamp = Some(value.parse::<i64>().expect("a numeric timestamp")),
            Some(("v1", value)) => signatures.push(hex::decode(value).expect("a hex signature")),
            _ => {}
        }
    }
    let timestamp = timestamp.expect("t= in the header");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert!((now - timestamp).abs() <= 300, "the signature's timestamp {timestamp} is not recent ({now})");
    let mut mac = hmac::Hmac::<hmac_sha2::Sha256>::new_from_slice(WEBHOOK_SECRET.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.{}", received.body).as_bytes());
    let expected = mac.finalize().into_bytes();
    assert!(
        signatures.iter().any(|signature| signature.as_slice() == expected.as_slice()),
        "no v1 signature matches: {header}"
    );
    let event: Value = serde_json::from_str(&received.body).expect("a JSON body");
    assert_eq!(received.headers.get("factus-api-event-id").unwrap().to_str().unwrap(), event["id"].as_str().unwrap());
    event
}

fn env(upstream: &Upstream, database: &TestDatabase, url: &str) -> BTreeMap<&'static str, String> {
    let mut env = upstream.service_env(database.url());
    env.insert("WEBHOOK_URL", url.to_owned());
    env.insert("WEBHOOK_SECRET", WEBHOOK_SECRET.to_owned());
    env.insert("WEBHOOK_DISPATCH_INTERVAL_MS", "50".to_owned());
    env.insert("WEBHOOK_RETRY_BASE_MS", "200".to_owned());
    env
}

async fn deliveries(service: &InProcess) -> Vec<Value> {
    let reply = service.api.get("/webhooks/deliveries").await;
    assert_eq!(reply.status, reqwest::StatusCode::OK, "{}", reply.text);
    reply.json()["data"].as_array().expect("a list").clone()
}

/// The status of an admin's `POST /webhooks/deliveries/{event_id}/redeliver`.
async fn redeliver(service: &InProcess, event_id: &str) -> reqwest::StatusCode {
    let answer = service
        .api
        .http
        .post(service.api.url(&format!("/webhooks/deliveries/{event_id}/redeliver")))
        .bearer_auth(&service.api.token)
        .send()
        .await
        .expect("the redelivery answers");
    answer.status()
}

/// The delivery list once every delivery in it is `delivered` (the dispatcher records an attempt
/// just after the receiver answered, so the list may lag the receiver by a moment).
async fn settled_deliveries(service: &InProcess) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let listed = deliveries(service).await;
        if listed.iter().all(|delivery| delivery["status"] == "delivered") {
            return listed;
        }
        assert!(tokio::time::Instant::now() < deadline, "deliveries not recorded as delivered: {listed:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn an_issued_create_is_announced_with_a_verifiable_signature(database: TestDatabase) {
    let upstream = Upstream::start().await;
    let (receiver, url) = Receiver::start(0).await;
    let service = InProcess::start(&env(&upstream, &database, &url)).await;

    let (number, cufe) = service.api.create(&invoice("HOOK-1"), Some("hook-key-1")).await.issued();

    let received = receiver.wait_for(1).await;
    let event = verified(&received[0]);
    assert_eq!(event["type"], "document.issued");
    assert_eq!(event["data"]["state"], "issued");
    assert_eq!(event["data"]["reference_code"], "HOOK-1");
    assert_eq!(event["data"]["number"], number.as_str());
    assert_eq!(event["data"]["cufe"], cufe.as_str());
    assert_eq!(event["data"]["kind"], "invoice");
    assert_eq!(event["data"]["rejection"], Value::Null);
    assert_eq!(received[0].headers.get("factus-api-event-type").unwrap(), "document.issued");
    // Delivered once: a retry of the same create is a replay, not a new outcome.
    let replay = service.api.create(&invoice("HOOK-1"), Some("hook-key-1")).await;
    assert!(replay.replayed);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 1, "one outcome, one event");
    let listed = settled_deliveries(&service).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["event_id"], event["id"]);
    assert_eq!(listed[0]["status"], "delivered");
    assert_eq!(listed[0]["attempts"], 1);
    assert_eq!(listed[0]["last_http_status"], 204);

    service.stop().await;
    upstream.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_issued_create_is_announced_with_a_verifiable_signature_on_sqlite() {
    an_issued_create_is_announced_with_a_verifiable_signature(TestDatabase::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_issued_create_is_announced_with_a_verifiable_signature_on_postgres() {
    let Some(database) = TestDatabase::postgres_or_skip("webhooks::issued_on_postgres").await else { return };
    an_issued_create_is_announced_with_a_verifiable_signature(database).await;
}

async fn a_receiver_that_fails_twice_gets_the_event_once_it_recovers(database: TestDatabase) {
    let upstream = Upstream::start().await;
    let (receiver, url) = Receiver::start(2).await;
    let service = InProcess::start(&env(&upstream, &database, &url)).await;

    let (number, _) = service.api.create(&invoice("HOOK-2"), None).await.issued();

    let received = receiver.wait_for(3).await;
    let events: Vec<Value> = received.iter().map(verified).collect();
    assert!(events.iter().all(|event| event["id"] == events[0]["id"]), "one event id on every attempt");
    assert!(received.iter().all(|one| one.body == received[0].body), "the same body on every attempt");
    assert_eq!(events[0]["data"]["number"], number.as_str());
    let listed = settled_deliveries(&service).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["status"], "delivered");
    assert_eq!(listed[0]["attempts"], 3);
    assert_eq!(listed[0]["last_http_status"], 204);
    assert_eq!(listed[0]["last_error"], "the receiver answered HTTP 500", "the failures are on record");
    let failed_only = service.api.get("/webhooks/deliveries?status=failed").await;
    assert_eq!(failed_only.json()["data"].as_array().map(Vec::len), Some(0));

    // An admin sends it once more: same id and body, counted afresh.
    let event_id = events[0]["id"].as_str().unwrap();
    assert_eq!(redeliver(&service, event_id).await, reqwest::StatusCode::OK);
    let again = receiver.wait_for(4).await;
    assert_eq!(again[3].body, received[0].body);
    verified(&again[3]);
    let unknown = redeliver(&service, "00000000-0000-4000-8000-000000000000").await;
    assert_eq!(unknown, reqwest::StatusCode::NOT_FOUND);

    service.stop().await;
    upstream.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_receiver_that_fails_twice_gets_the_event_once_it_recovers_on_sqlite() {
    a_receiver_that_fails_twice_gets_the_event_once_it_recovers(TestDatabase::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_receiver_that_fails_twice_gets_the_event_once_it_recovers_on_postgres() {
    let Some(database) = TestDatabase::postgres_or_skip("webhooks::recovering_receiver_on_postgres").await else {
        return;
    };
    a_receiver_that_fails_twice_gets_the_event_once_it_recovers(database).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sale_dian_rejects_is_announced_as_rejected_with_its_rules() {
    let database = TestDatabase::sqlite();
    let upstream = Upstream::start().await;
    let (receiver, url) = Receiver::start(0).await;
    let service = InProcess::start(&env(&upstream, &database, &url)).await;
    // A company whose NIT 900373115 carries the wrong check digit (it is 3): DIAN's FAK24.
    let mut sale = invoice("HOOK-3");
    sale["customer"]["identification_document_id"] = serde_json::json!(6);
    sale["customer"]["identification"] = serde_json::json!("900373115");
    sale["customer"]["dv"] = serde_json::json!("4");
    sale["customer"]["company"] = serde_json::json!("Acme SAS");
    sale["customer"]["legal_organization_id"] = serde_json::json!(1);

    let refused = service.api.create(&sale, None).await;
    assert_eq!(refused.status, reqwest::StatusCode::BAD_REQUEST, "{}", refused.text);

    let event = verified(&receiver.wait_for(1).await[0]);
    assert_eq!(event["type"], "document.rejected");
    assert_eq!(event["data"]["reference_code"], "HOOK-3");
    assert_eq!(event["data"]["number"], Value::Null);
    assert_eq!(
        event["data"]["rejection"]["dian_rules"],
        serde_json::json!(["Regla: FAK24, Rechazo: No está informado el DV del NIT"])
    );

    service.stop().await;
    upstream.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_sharing_postgres_deliver_each_event_once() {
    let Some(database) = TestDatabase::postgres_or_skip("webhooks::two_instances").await else { return };
    let upstream = Upstream::start().await;
    let (receiver, url) = Receiver::start(0).await;
    let env = env(&upstream, &database, &url);
    let first = InProcess::start(&env).await;
    let second = InProcess::start(&env).await;

    for index in 0..20 {
        let service = if index % 2 == 0 { &first } else { &second };
        service.api.create(&invoice(&format!("HOOK-TWO-{index}")), None).await.issued();
    }

    receiver.wait_for(20).await;
    // Both dispatchers poll every 50 ms: time enough for a second delivery to show up.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let received = receiver.received();
    let mut ids: Vec<String> = received.iter().map(|one| verified(one)["id"].as_str().unwrap().to_owned()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 20, "one event per issued invoice");
    assert_eq!(received.len(), 20, "each claimed by one instance (FOR UPDATE SKIP LOCKED), none sent twice");

    first.stop().await;
    second.stop().await;
    upstream.shutdown().await;
}

/// A till's flow when the Factus budget is spent: the create answers 202 with a `Location`, the
/// queue worker sends it once the window frees a slot, and the till learns that it was issued
/// both by following the `Location` and by the signed webhook, which reaches it although its
/// receiver failed the first two attempts.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_create_answered_202_is_issued_as_its_location_and_a_signed_webhook_tell_a_receiver_that_failed_twice() {
    let database = TestDatabase::sqlite();
    let upstream = Upstream::start().await;
    let (receiver, url) = Receiver::start(2).await;
    let mut env = env(&upstream, &database, &url);
    // Two calls per 3 s, and a create waits 1 s for a slot before it is queued.
    env.insert("FACTUS_RATE_LIMIT", "2".to_owned());
    env.insert("FACTUS_RATE_WINDOW_SECS", "3".to_owned());
    env.insert("FACTUS_QUEUE_WAIT_SECS", "1".to_owned());
    let service = InProcess::start(&env).await;
    // The token grant and one lookup spend the window (a lookup announces nothing).
    let lookup = service.api.get("/lookups/numbering-ranges").await;
    assert_eq!(lookup.status, reqwest::StatusCode::OK, "{}", lookup.text);

    let accepted = service.api.create(&invoice("HOOK-QUEUED"), Some("hook-queued")).await;
    assert_eq!(accepted.status, reqwest::StatusCode::ACCEPTED, "{}", accepted.text);
    let queued = accepted.json()["data"].clone();
    assert_eq!(queued["state"], "queued");
    let location = accepted.location.clone().expect("a Location header");
    assert_eq!(location, format!("/api/v1/ledger/{}", queued["id"].as_str().expect("an entry id")));

    let entry = service.api.follow(&location, Duration::from_secs(30)).await;
    assert_eq!(entry["state"], "issued", "{entry}");
    let received = receiver.wait_for(3).await;
    let events: Vec<Value> = received.iter().map(verified).collect();
    assert!(events.iter().all(|event| event["id"] == events[0]["id"]), "the same event on every attempt");
    assert_eq!(events[2]["type"], "document.issued");
    assert_eq!(events[2]["data"]["reference_code"], "HOOK-QUEUED");
    assert_eq!(events[2]["data"]["number"], entry["number"]);
    let listed = settled_deliveries(&service).await;
    assert_eq!((listed.len(), listed[0]["attempts"].clone()), (1, Value::from(3)), "{listed:?}");
    assert_eq!(upstream.bills().await.len(), 1, "sent once");

    service.stop().await;
    upstream.shutdown().await;
}
