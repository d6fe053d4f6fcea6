//! Webhooks over HTTP: the JSON body of an event, its signature, and the POST.
//!
//! The wire contract (docs/reliability.md, "Webhooks"):
//! - `POST` to `WEBHOOK_URL` with `Content-Type: application/json` and the body of
//!   [`event_body`]: `{"id", "type", "created", "data": {…the ledger entry at the outcome…}}`.
//! - `Factus-Api-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with
//!   WEBHOOK_SECRET>` (Stripe's scheme): the receiver recomputes it over the raw body, compares in
//!   constant time, and refuses a `t` too far from its clock, so a captured request cannot be
//!   replayed later. `t` is the time of the attempt; the body is the same on every attempt.
//! - `Factus-Api-Event-Id` and `Factus-Api-Event-Type` repeat the body's `id` and `type`, so a
//!   receiver can de-duplicate before parsing.

use std::time::Duration;

use async_trait::async_trait;
use factus_application::webhooks::{EventBill, EventRejection, TransportError, WebhookEvent, WebhookTransport};
use hmac::{KeyInit as _, Mac as _};
use secrecy::{ExposeSecret as _, SecretString};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The signature header.
pub const SIGNATURE_HEADER: &str = "Factus-Api-Signature";
/// The event id header (the body's `id`).
pub const EVENT_ID_HEADER: &str = "Factus-Api-Event-Id";
/// The event type header (the body's `type`).
pub const EVENT_TYPE_HEADER: &str = "Factus-Api-Event-Type";

/// How long one attempt may take; a slower receiver counts as failed and is tried again.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// The hex HMAC-SHA256 of `"{timestamp}.{body}"` under `secret`: the `v1` of the header.
#[must_use]
pub fn signature(secret: &[u8], timestamp: i64, body: &str) -> String {
    // HMAC takes keys of any length (longer ones are hashed first), so this cannot fail.
    let mut mac = hmac::Hmac::<hmac_sha2::Sha256>::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The value of [`SIGNATURE_HEADER`]: `t=<timestamp>,v1=<signature>`.
#[must_use]
pub fn signature_header(secret: &[u8], timestamp: i64, body: &str) -> String {
    format!("t={timestamp},v1={}", signature(secret, timestamp, body))
}

#[derive(Serialize)]
struct Body<'a> {
    id: String,
    #[serde(rename = "type")]
    event_type: &'static str,
    /// Unix seconds, as Stripe's `created`.
    created: i64,
    data: Data<'a>,
}

#[derive(Serialize)]
struct Data<'a> {
    entry_id: String,
    kind: &'static str,
    reference_code: &'a str,
    /// The ledger state the event reports (`issued`, `rejected`, `unknown`).
    state: &'static str,
    username: &'a str,
    attempts: u32,
    occurred_at: String,
    number: Option<&'a str>,
    prefix: Option<&'a str>,
    cufe: Option<&'a str>,
    qr_url: Option<&'a str>,
    /// Factus' status of the bill (`1`: validated by DIAN).
    status: Option<&'a str>,
    rejection: Option<Rejection<'a>>,
}

#[derive(Serialize)]
struct Rejection<'a> {
    status: Option<u16>,
    message: &'a str,
    dian_rules: &'a [String],
}

/// The JSON body of `event`: the same bytes on every attempt.
#[must_use]
pub fn event_body(event: &WebhookEvent) -> String {
    let entry = &event.entry;
    let bill = entry.bill.as_ref();
    let field = |pick: fn(&EventBill) -> &str| bill.map(pick);
    let body = Body {
        id: event.id.to_string(),
        event_type: event.event_type.as_str(),
        created: event.created_at.unix_timestamp(),
        data: Data {
            entry_id: entry.entry_id.to_string(),
            kind: entry.kind.as_str(),
            reference_code: &entry.reference_code,
            state: event.event_type.as_str().trim_start_matches("document."),
            username: &entry.username,
            attempts: entry.attempts,
            occurred_at: entry.occurred_at.format(&Rfc3339).unwrap_or_default(),
            number: field(|bill| &bill.number),
            prefix: field(|bill| &bill.prefix),
            cufe: field(|bill| &bill.cufe),
            qr_url: field(|bill| &bill.qr_url),
            status: field(|bill| &bill.status),
            rejection: entry.rejection.as_ref().map(|EventRejection { status, message, dian_rules }| Rejection {
                status: *status,
                message,
                dian_rules,
            }),
        },
    };
    // Plain strings, numbers and options: serialising cannot fail.
    serde_json::to_string(&body).expect("a webhook body serialises")
}

/// [`WebhookTransport`] with reqwest.
#[derive(Debug, Clone)]
pub struct HttpWebhookTransport {
    client: reqwest::Client,
}

impl HttpWebhookTransport {
    /// # Errors
    /// When the HTTP client cannot be built (no TLS roots).
    pub fn new() -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("factus-api-webhooks/", env!("CARGO_PKG_VERSION")))
            .timeout(DELIVERY_TIMEOUT)
            .connect_timeout(DELIVERY_TIMEOUT.min(Duration::from_secs(5)))
            // A receiver that redirects is misconfigured; following it could send the signed
            // body somewhere nobody configured.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self { client })
    }
}

#[async_trait]
impl WebhookTransport for HttpWebhookTransport {
    async fn send(&self, url: &str, secret: &SecretString, event: &WebhookEvent) -> Result<u16, TransportError> {
        let body = event_body(event);
        let timestamp = OffsetDateTime::now_utc().unix_timestamp();
        let answer = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature_header(secret.expose_secret().as_bytes(), timestamp, &body))
            .header(EVENT_ID_HEADER, event.id.to_string())
            .header(EVENT_TYPE_HEADER, event.event_type.as_str())
            .body(body)
            .send()
            .await
            .map_err(|error| TransportError(describe(&error)))?;
        Ok(answer.status().as_u16())
    }
}

/// The error's chain in one line (reqwest's top-level message alone says little).
fn describe(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() { "timed out".to_owned() } else { error.to_string() };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use factus_application::ledger::DocumentKind;
    use factus_application::webhooks::{EventEntry, EventType};
    use uuid::Uuid;

    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_the_timestamp_a_dot_and_the_body() {
        // Computed independently: python3 -c 'import hmac,hashlib;
        // print(hmac.new(b"whsec_test", b"1764567000.{\"id\":\"x\"}", hashlib.sha256).hexdigest())'
        assert_eq!(
            signature(b"whsec_test", 1_764_567_000, r#"{"id":"x"}"#),
            "1643de080d3e170142f1ddcb760956fedf951e7678214654f9a431210828ca32"
        );
    }

    #[test]
    fn the_signature_matches_rfc_4231_test_case_2() {
        // The primitive itself (hmac 0.13 over sha2 0.11), RFC 4231 §4.3: key "Jefe".
        let mut mac = hmac::Hmac::<hmac_sha2::Sha256>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn the_header_carries_the_timestamp_and_the_v1_signature() {
        let header = signature_header(b"k", 42, "{}");
        assert_eq!(header, format!("t=42,v1={}", signature(b"k", 42, "{}")));
        assert_ne!(signature(b"k", 43, "{}"), signature(b"k", 42, "{}"), "the timestamp is signed");
        assert_ne!(signature(b"other", 42, "{}"), signature(b"k", 42, "{}"), "the secret matters");
    }

    #[test]
    fn a_rejected_event_lists_the_dian_rules_and_no_bill() {
        let event = WebhookEvent {
            id: Uuid::nil(),
            event_type: EventType::Rejected,
            created_at: time::macros::datetime!(2026-12-01 05:00:00 UTC),
            entry: EventEntry {
                entry_id: Uuid::nil(),
                kind: DocumentKind::Invoice,
                reference_code: "FAC-1".into(),
                user_id: Uuid::nil(),
                username: "ana".into(),
                attempts: 1,
                occurred_at: time::macros::datetime!(2026-12-01 04:59:59.5 UTC),
                bill: None,
                rejection: Some(EventRejection {
                    status: Some(422),
                    message: "Regla: FAK24, Rechazo: x; Regla: FAD06, Rechazo: y".into(),
                    dian_rules: vec!["Regla: FAK24, Rechazo: x".into(), "Regla: FAD06, Rechazo: y".into()],
                }),
            },
        };
        let body: serde_json::Value = serde_json::from_str(&event_body(&event)).unwrap();
        assert_eq!(body["type"], "document.rejected");
        assert_eq!(body["created"], 1_796_101_200);
        assert_eq!(body["data"]["state"], "rejected");
        assert_eq!(body["data"]["number"], serde_json::Value::Null);
        assert_eq!(body["data"]["rejection"]["dian_rules"][1], "Regla: FAD06, Rechazo: y");
        assert_eq!(body["data"]["occurred_at"], "2026-12-01T04:59:59.5Z");
        assert_eq!(event_body(&event), event_body(&event), "the same bytes every time");
    }
}
