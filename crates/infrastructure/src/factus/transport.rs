//! One HTTP exchange with Factus, made resilient: the shared client, the request's deadline,
//! retries of idempotent calls, the circuit breaker, and the metrics.
//!
//! It answers with whatever status Factus gave (after retries); deciding what a 4xx or 5xx means
//! for the caller is left to the gateway, which knows the endpoint and the session.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use factus_application::error_chain;
use factus_application::factus::{CircuitState, FactusError};
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};

use super::FactusConfigError;
use super::breaker::CircuitBreaker;
use super::budget::{self, Budget, CallClass};
use super::config::{FactusGatewayConfig, RatePolicy, RetryPolicy};
use super::retry;

/// The text of a connection failure: httpx's, which the reference shows to its clients.
pub(crate) const CONNECTION_FAILED: &str = "All connection attempts failed";
/// The text of a connection lost after the request was sent (httpx's wording too).
pub(crate) const CONNECTION_LOST: &str = "Server disconnected without sending a response.";

/// A Factus endpoint as the transport sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Endpoint {
    /// The `endpoint` label of the metrics, e.g. `bills_validate`.
    pub(crate) name: &'static str,
    /// Whether a failed attempt may be repeated: only for calls that change nothing at Factus.
    pub(crate) idempotent: bool,
}

/// The metrics name of the token grants (`oauth.rs`).
pub(crate) const TOKEN_ENDPOINT: &str = "oauth_token";

impl Endpoint {
    /// Which share of the budget the call draws from: writes go first, and so do token grants,
    /// which every other call of the session waits for.
    pub(crate) fn class(self) -> CallClass {
        if self.idempotent && self.name != TOKEN_ENDPOINT { CallClass::Read } else { CallClass::Create }
    }
}

/// A request body, encoded once and resent as-is on retries.
pub(crate) enum Body {
    Empty,
    Json(Vec<u8>),
    /// An `application/x-www-form-urlencoded` body; it holds the client secret and passwords.
    Form(SecretString),
    /// A `multipart/form-data` body (the company logo) and its boundary.
    Multipart {
        boundary: String,
        bytes: Vec<u8>,
    },
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("Empty"),
            Self::Json(bytes) => write!(f, "Json({} bytes)", bytes.len()),
            Self::Form(_) => f.write_str("Form(<redacted>)"),
            Self::Multipart { bytes, .. } => write!(f, "Multipart({} bytes)", bytes.len()),
        }
    }
}

/// What to send.
#[derive(Debug)]
pub(crate) struct Request<'a> {
    pub(crate) endpoint: Endpoint,
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) bearer: Option<&'a SecretString>,
    pub(crate) body: &'a Body,
}

/// Factus' answer, whatever its status.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) body: Vec<u8>,
}

#[derive(Debug)]
pub(crate) struct Transport {
    client: reqwest::Client,
    base: Url,
    request_timeout: Duration,
    retry: RetryPolicy,
    breaker: CircuitBreaker,
    budget: Budget,
    rate: RatePolicy,
}

/// How many times one call is sent again after Factus' 429 before the caller gets `Busy`: each
/// time the budget first waits for the window Factus named, so this only ends a loop with a
/// Factus whose count never agrees with ours.
const MAX_RATE_LIMITED: u32 = 5;

impl Transport {
    pub(crate) fn new(config: &FactusGatewayConfig) -> Result<Self, FactusConfigError> {
        let base = Url::parse(config.base_url.trim())
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https") && !url.cannot_be_a_base())
            .ok_or_else(|| FactusConfigError::BaseUrl(config.base_url.clone()))?;
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let client = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .default_headers(headers)
            .connect_timeout(config.connect_timeout.min(config.request_timeout))
            .timeout(config.request_timeout)
            // Factus answers what it answers; following a redirect could carry our bearer token
            // somewhere else, and Laravel only redirects when `Accept` is missing.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(FactusConfigError::Client)?;
        // Factus counts per account: the server session's user, else (clients' own tokens, whose
        // user the gateway does not know) everything sent with our OAuth client.
        let account = config.server_credentials.as_ref().map_or_else(
            || format!("client:{}", config.client_id),
            |credentials| format!("user:{}", credentials.username),
        );
        let budget = match &config.budget_store {
            Some(store) => Budget::new(account, config.rate.budget, Arc::clone(store)),
            None => Budget::local(account, config.rate.budget),
        };
        Ok(Self {
            client,
            base,
            request_timeout: config.request_timeout,
            retry: config.retry,
            breaker: CircuitBreaker::new(config.breaker),
            budget,
            rate: config.rate,
        })
    }

    pub(crate) fn breaker(&self) -> &CircuitBreaker {
        &self.breaker
    }

    pub(crate) fn budget(&self) -> &Budget {
        &self.budget
    }

    /// `base` + the path segments (each percent-encoded as one segment, so a number or reference
    /// code can never reach another path) + the query.
    ///
    /// # Errors
    /// `Rejected` (400) for an empty, `.` or `..` segment, which a URL cannot carry as one
    /// segment: it would silently address another Factus resource.
    pub(crate) fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Result<Url, FactusError> {
        if let Some(bad) = segments.iter().find(|segment| matches!(**segment, "" | "." | "..")) {
            return Err(FactusError::Rejected { status: 400, message: format!("Identificador inválido: \"{bad}\"") });
        }
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    /// Sends the request within the call's deadline: after taking a slot of the budget, through
    /// the breaker, retrying idempotent calls after connection errors and 5xx (honouring
    /// `Retry-After`) while the deadline allows. Factus' 429 is never returned: the call waits
    /// for the window and goes again (any call: the throttle refuses before the endpoint acts).
    /// Any other HTTP status comes back as a [`Reply`].
    ///
    /// # Errors
    /// `Busy` when the budget had no slot within the class's wait, `CircuitOpen`, both without
    /// sending anything; `Timeout`; `Unavailable` when no answer came; `Unexpected` when the
    /// request could not even be built.
    pub(crate) async fn send(&self, request: &Request<'_>) -> Result<Reply, FactusError> {
        let class = request.endpoint.class();
        let ticket = budget::ticket();
        let budget_wait = match class {
            CallClass::Create => self.rate.create_wait,
            CallClass::Read => self.rate.read_wait,
        };
        let max_attempts = if request.endpoint.idempotent { self.retry.max_attempts.max(1) } else { 1 };
        let endpoint = request.endpoint.name;
        let mut attempt = 1;
        let mut rate_limited = 0;
        // The call's deadline runs from its first slot: waiting for the budget is not Factus
        // being slow.
        let mut deadline = None;
        // The outcome of the attempt before a retry: what the caller gets if the retry cannot
        // happen after all (the breaker opened meanwhile), rather than a misleading error.
        let mut previous = None;
        loop {
            if self.breaker.state() == CircuitState::Open {
                count(endpoint, "circuit_open");
                return previous.unwrap_or(Err(FactusError::CircuitOpen)).map(into_reply);
            }
            let slot = match self.budget.take(class, ticket, Instant::now() + budget_wait).await {
                Ok(slot) => slot,
                Err(spent) => {
                    count(endpoint, "budget_spent");
                    let busy = FactusError::Busy { retry_after_secs: spent.retry_after.as_secs().max(1) };
                    return previous.unwrap_or(Err(busy)).map(into_reply);
                }
            };
            let deadline = *deadline.get_or_insert_with(|| Instant::now() + self.request_timeout);
            let Some(permit) = self.breaker.acquire() else {
                self.budget.answered(slot, None, None).await;
                count(endpoint, "circuit_open");
                return previous.unwrap_or(Err(FactusError::CircuitOpen)).map(into_reply);
            };
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                drop(permit);
                self.budget.answered(slot, None, None).await;
                count(endpoint, "timeout");
                return previous.unwrap_or(Err(FactusError::Timeout)).map(into_reply);
            }

            let outcome = self.attempt(request, remaining).await;
            let headers = outcome.as_ref().ok().map(|(_, headers, _)| headers);
            let limited = outcome.as_ref().ok().filter(|(status, _, _)| *status == StatusCode::TOO_MANY_REQUESTS);
            let factus_wait = limited.map(|(_, headers, _)| {
                retry::retry_after(headers).unwrap_or(self.rate.budget.window).max(Duration::from_millis(100))
            });
            self.budget.answered(slot, headers, factus_wait).await;
            if let Some(wait) = factus_wait {
                // Factus' throttle refuses before the endpoint runs (docs/factus.md §8.5): the call
                // did nothing, even a create, and goes again once the window Factus named is over.
                // The budget now holds no slot until then, so the wait happens there.
                drop(permit);
                count(endpoint, "rate_limited");
                rate_limited += 1;
                tracing::info!(
                    endpoint,
                    wait_ms = wait.as_millis(),
                    "factus: rate limited; sending again when the window allows"
                );
                if rate_limited > MAX_RATE_LIMITED {
                    let busy = FactusError::Busy { retry_after_secs: wait.as_secs().max(1) };
                    return Err(busy);
                }
                continue;
            }
            let (transient, wait_hint) = match &outcome {
                Ok((status, headers, _)) if status.is_server_error() => {
                    permit.failure();
                    count(endpoint, "server_error");
                    (true, retry::retry_after(headers))
                }
                Ok((status, _, _)) => {
                    permit.success();
                    count(endpoint, if status.is_success() { "success" } else { "rejected" });
                    (false, None)
                }
                Err(FactusError::Timeout) => {
                    permit.failure();
                    count(endpoint, "timeout");
                    (true, None)
                }
                Err(FactusError::Unavailable { .. }) => {
                    permit.failure();
                    count(endpoint, "unavailable");
                    (true, None)
                }
                Err(_) => {
                    drop(permit);
                    count(endpoint, "error");
                    (false, None)
                }
            };

            if !transient || attempt >= max_attempts {
                return outcome.map(into_reply);
            }
            let wait = wait_hint.unwrap_or_else(|| retry::backoff(&self.retry, attempt));
            if Instant::now() + wait >= deadline {
                tracing::debug!(endpoint, attempt, wait_ms = wait.as_millis(), "factus: no time left to retry");
                return outcome.map(into_reply);
            }
            tracing::debug!(
                endpoint,
                attempt,
                wait_ms = wait.as_millis(),
                status = outcome.as_ref().ok().map(|(status, _, _)| status.as_u16()),
                "factus: retrying an idempotent call"
            );
            metrics::counter!("factus_upstream_retries_total", "endpoint" => endpoint).increment(1);
            previous = Some(outcome);
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    async fn attempt(&self, request: &Request<'_>, timeout: Duration) -> Result<Answer, FactusError> {
        let mut builder = self.client.request(request.method.clone(), request.url.clone()).timeout(timeout);
        if let Some(token) = request.bearer {
            builder = builder.bearer_auth(token.expose_secret());
        }
        builder = match request.body {
            Body::Empty => builder,
            Body::Json(bytes) => builder.header(CONTENT_TYPE, "application/json").body(bytes.clone()),
            Body::Form(form) => {
                builder.header(CONTENT_TYPE, "application/x-www-form-urlencoded").body(form.expose_secret().to_owned())
            }
            Body::Multipart { boundary, bytes } => {
                builder.header(CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}")).body(bytes.clone())
            }
        };
        let response = builder.send().await.map_err(|error| transport_error(request, &error))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(|error| transport_error(request, &error))?;
        Ok((status, headers, body.to_vec()))
    }
}

type Answer = (StatusCode, HeaderMap, Vec<u8>);

fn into_reply((status, _, body): Answer) -> Reply {
    Reply { status, body }
}

/// What a reqwest failure means for the caller. The error's text names the URL (never a token:
/// those travel in headers and bodies only).
fn transport_error(request: &Request<'_>, error: &reqwest::Error) -> FactusError {
    let endpoint = request.endpoint.name;
    if error.is_builder() {
        return FactusError::Unexpected(anyhow::anyhow!("building the Factus request failed: {error}"));
    }
    if error.is_connect() {
        tracing::debug!(endpoint, error = error_chain(error), "factus: connection failed");
        return FactusError::Unavailable { message: CONNECTION_FAILED.to_owned(), request_sent: false };
    }
    if error.is_timeout() {
        tracing::debug!(endpoint, error = error_chain(error), "factus: no answer before the deadline");
        return FactusError::Timeout;
    }
    tracing::debug!(endpoint, error = error_chain(error), "factus: connection lost");
    FactusError::Unavailable { message: CONNECTION_LOST.to_owned(), request_sent: true }
}

fn count(endpoint: &'static str, outcome: &'static str) {
    metrics::counter!("factus_upstream_requests_total", "endpoint" => endpoint, "outcome" => outcome).increment(1);
}

/// `application/x-www-form-urlencoded` encoding of `pairs`, as browsers and httpx do it: ASCII
/// letters, digits and `*-._` kept, space as `+`, every other byte as `%XX`.
pub(crate) fn form_encode(pairs: &[(&str, &str)]) -> String {
    fn push_encoded(out: &mut String, text: &str) {
        for byte in text.bytes() {
            match byte {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => out.push(char::from(byte)),
                b' ' => out.push('+'),
                other => out.push_str(&format!("%{other:02X}")),
            }
        }
    }
    let mut out = String::new();
    for (index, (key, value)) in pairs.iter().enumerate() {
        if index > 0 {
            out.push('&');
        }
        push_encoded(&mut out, key);
        out.push('=');
        push_encoded(&mut out, value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding_matches_what_httpx_sends() {
        assert_eq!(
            form_encode(&[("username", "sandbox@factus.com.co"), ("password", "sandbox2024%"), ("x", "a b/ñ~")]),
            "username=sandbox%40factus.com.co&password=sandbox2024%25&x=a+b%2F%C3%B1%7E"
        );
    }

    #[test]
    fn path_segments_are_encoded_one_by_one_under_the_base_path() {
        let config = FactusGatewayConfig::new("https://factus.test/api/", "id", SecretString::from("s"));
        let transport = Transport::new(&config).expect("valid config");

        let url = transport.url(&["v1", "bills", "show", "../x?y"], &[("filter[reference_code]", "R 1")]).expect("url");

        assert_eq!(url.as_str(), "https://factus.test/api/v1/bills/show/..%2Fx%3Fy?filter%5Breference_code%5D=R+1");
    }

    #[test]
    fn dot_segments_are_refused_instead_of_addressing_another_resource() {
        let config = FactusGatewayConfig::new("https://factus.test", "id", SecretString::from("s"));
        let transport = Transport::new(&config).expect("valid config");

        for bad in ["..", ".", ""] {
            let error = transport.url(&["v1", "bills", "show", bad], &[]).unwrap_err();
            assert!(matches!(error, FactusError::Rejected { status: 400, .. }), "{bad}: {error:?}");
        }
    }

    #[test]
    fn a_base_url_that_is_not_http_is_refused() {
        for base in ["not a url", "ftp://factus.test", "mailto:a@b.co"] {
            let config = FactusGatewayConfig::new(base, "id", SecretString::from("s"));
            assert!(matches!(Transport::new(&config), Err(FactusConfigError::BaseUrl(_))), "{base}");
        }
    }

    #[test]
    fn a_form_body_is_redacted_in_debug_output() {
        let body = Body::Form(SecretString::from("client_secret=abc"));
        assert_eq!(format!("{body:?}"), "Form(<redacted>)");
    }
}
