//! Fault injection: rules that make the sandbox misbehave on purpose.
//!
//! A rule ([`FaultSpec`]) matches requests by method and path prefix and fires with a probability,
//! optionally only for the next `times` matching calls. Rules are kept in creation order; every
//! firing `latency` rule adds its delay, and the first firing rule of any other kind decides what
//! happens to the request.

use std::time::Duration;

use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a fault does to a matching request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Waits `latency_ms` before handling the request normally.
    Latency,
    /// Answers `status` (and `body`, if given) without touching any state.
    Status,
    /// Never answers; the connection stays open until the client gives up or the sandbox stops.
    Hang,
    /// Handles the request (a bill is stored), then closes the connection without a response.
    DropAfterCommit,
    /// Answers 401 `Unauthenticated.` even with a valid token.
    Unauthorized,
    /// Answers 429 with `Retry-After`, as Factus' throttle does.
    RateLimit,
    /// Stores a created document with status 0, as when DIAN has not answered yet.
    Pending,
    /// DIAN rejects a created document: it is stored with status 0 and the rule (`rule`,
    /// `reason`; default `FAD06` "Valor del CUFE no está calculado correctamente"), answered 422,
    /// and blocks its family until deleted.
    Reject,
}

impl FaultKind {
    /// The name used on the wire (`drop_after_commit`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Latency => "latency",
            Self::Status => "status",
            Self::Hang => "hang",
            Self::DropAfterCommit => "drop_after_commit",
            Self::Unauthorized => "unauthorized",
            Self::RateLimit => "rate_limit",
            Self::Pending => "pending",
            Self::Reject => "reject",
        }
    }
}

fn one() -> f64 {
    1.0
}

/// A field that is present, even as `null`, is `Some`; only a missing one is `None`.
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// A fault rule, as posted to `POST /__sandbox/faults` or given with `--fault`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// What the fault does.
    pub kind: FaultKind,
    /// HTTP method to match (case-insensitive); `None` or `"*"` matches any.
    #[serde(default)]
    pub method: Option<String>,
    /// Path prefix to match (`/v1/bills` matches every bill route); `None` matches any path.
    #[serde(default)]
    pub path: Option<String>,
    /// Chance, from 0 to 1, that a matching request triggers the fault.
    #[serde(default = "one")]
    pub probability: f64,
    /// Fire for the next N matching calls only; `None` means for ever.
    #[serde(default)]
    pub times: Option<u64>,
    /// Status answered by a `status` fault (default 503).
    #[serde(default)]
    pub status: Option<u16>,
    /// Delay added before the request is handled (any kind; `latency` only does this).
    #[serde(default)]
    pub latency_ms: u64,
    /// `Retry-After` seconds of a `rate_limit` fault (default 1).
    #[serde(default)]
    pub retry_after_s: Option<u64>,
    /// JSON body of a `status` fault; by default `{"message": <reason phrase>}`. An explicit
    /// `null` is answered as the JSON `null` (a 2xx that is not a document), not as the default.
    #[serde(default, deserialize_with = "present")]
    pub body: Option<Value>,
    /// DIAN rule of a `reject` fault (default `FAD06`).
    #[serde(default)]
    pub rule: Option<String>,
    /// Rejection text of a `reject` fault (default `Valor del CUFE no está calculado correctamente`).
    #[serde(default)]
    pub reason: Option<String>,
}

impl FaultSpec {
    /// A rule of `kind` that matches every request, always.
    pub fn new(kind: FaultKind) -> Self {
        Self {
            kind,
            method: None,
            path: None,
            probability: 1.0,
            times: None,
            status: None,
            latency_ms: 0,
            retry_after_s: None,
            body: None,
            rule: None,
            reason: None,
        }
    }

    /// Restricts the rule to one method and a path prefix.
    pub fn on(mut self, method: &str, path: &str) -> Self {
        self.method = Some(method.to_owned());
        self.path = Some(path.to_owned());
        self
    }

    /// Checks the values that serde cannot.
    ///
    /// # Errors
    /// A message naming the offending field.
    pub fn check(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.probability) {
            return Err("probability must be between 0 and 1".into());
        }
        if let Some(status) = self.status
            && !(100..=599).contains(&status)
        {
            return Err("status must be an HTTP status code (100-599)".into());
        }
        if let Some(method) = &self.method
            && method != "*"
            && Method::from_bytes(method.to_ascii_uppercase().as_bytes()).is_err()
        {
            return Err("method is not an HTTP method".into());
        }
        if let Some(path) = &self.path
            && !path.starts_with('/')
        {
            return Err("path must start with '/'".into());
        }
        Ok(())
    }

    fn matches(&self, method: &Method, path: &str) -> bool {
        let method_ok = match self.method.as_deref() {
            None | Some("*") => true,
            Some(m) => m.eq_ignore_ascii_case(method.as_str()),
        };
        method_ok && self.path.as_deref().is_none_or(|p| path.starts_with(p))
    }

    /// Parses `--fault` values: a JSON object, or the compact form
    /// `kind[,key=value…]`, e.g. `status,status=503,path=/v1/bills/validate,probability=0.2`.
    ///
    /// # Errors
    /// A message saying what could not be read.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let spec: Self = if text.starts_with('{') {
            serde_json::from_str(text).map_err(|e| format!("invalid fault JSON: {e}"))?
        } else {
            let mut object = serde_json::Map::new();
            for (i, part) in text.split(',').map(str::trim).enumerate() {
                let (key, value) = match part.split_once('=') {
                    Some((k, v)) => (k.trim(), v.trim()),
                    None if i == 0 => ("kind", part),
                    None => return Err(format!("expected key=value, got `{part}`")),
                };
                let value = match key {
                    "probability" | "times" | "status" | "latency_ms" | "retry_after_s" => {
                        serde_json::from_str(value).map_err(|_| format!("`{key}` must be a number, got `{value}`"))?
                    }
                    "body" => serde_json::from_str(value).map_err(|_| format!("`body` must be JSON, got `{value}`"))?,
                    _ => Value::String(value.to_owned()),
                };
                object.insert(key.to_owned(), value);
            }
            serde_json::from_value(Value::Object(object)).map_err(|e| format!("invalid fault `{text}`: {e}"))?
        };
        spec.check()?;
        Ok(spec)
    }
}

/// A rule in the registry, with its bookkeeping.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ActiveFault {
    pub id: u64,
    #[serde(flatten)]
    pub spec: FaultSpec,
    /// Firings left when `times` was given.
    pub remaining: Option<u64>,
    /// How many requests this rule has affected.
    pub fired: u64,
}

/// What the matching rules decided for one request.
#[derive(Debug, Default)]
pub(crate) struct Decision {
    pub latency: Duration,
    pub action: Option<Action>,
}

/// The terminal effect of a fault, if any.
#[derive(Debug, Clone)]
pub(crate) enum Action {
    Status { status: u16, body: Option<Value> },
    Hang,
    DropAfterCommit,
    Unauthorized,
    RateLimit { retry_after_s: u64 },
    Pending,
    Reject { rule: String, reason: String },
}

/// The fault rules in force.
#[derive(Debug, Default)]
pub(crate) struct FaultRegistry {
    next_id: u64,
    rules: Vec<ActiveFault>,
}

impl FaultRegistry {
    pub fn add(&mut self, spec: FaultSpec) -> ActiveFault {
        self.next_id += 1;
        let rule = ActiveFault { id: self.next_id, remaining: spec.times, spec, fired: 0 };
        self.rules.push(rule.clone());
        rule
    }

    pub fn list(&self) -> Vec<ActiveFault> {
        self.rules.clone()
    }

    pub fn remove(&mut self, id: u64) -> bool {
        let before = self.rules.len();
        self.rules.retain(|r| r.id != id);
        before != self.rules.len()
    }

    pub fn clear(&mut self) {
        self.rules.clear();
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Rolls every matching rule for this request and consumes the ones that fire.
    pub fn decide(&mut self, method: &Method, path: &str) -> Decision {
        let mut decision = Decision::default();
        for rule in &mut self.rules {
            let terminal = rule.spec.kind != FaultKind::Latency;
            if (terminal && decision.action.is_some()) || rule.remaining == Some(0) || !rule.spec.matches(method, path)
            {
                continue;
            }
            let p = rule.spec.probability;
            if p < 1.0 && !(p > 0.0 && rand::random::<f64>() < p) {
                continue;
            }
            if let Some(left) = rule.remaining.as_mut() {
                *left -= 1;
            }
            rule.fired += 1;
            decision.latency += Duration::from_millis(rule.spec.latency_ms);
            decision.action = match rule.spec.kind {
                FaultKind::Latency => decision.action,
                FaultKind::Status => {
                    Some(Action::Status { status: rule.spec.status.unwrap_or(503), body: rule.spec.body.clone() })
                }
                FaultKind::Hang => Some(Action::Hang),
                FaultKind::DropAfterCommit => Some(Action::DropAfterCommit),
                FaultKind::Unauthorized => Some(Action::Unauthorized),
                FaultKind::RateLimit => Some(Action::RateLimit { retry_after_s: rule.spec.retry_after_s.unwrap_or(1) }),
                FaultKind::Pending => Some(Action::Pending),
                FaultKind::Reject => Some(Action::Reject {
                    rule: rule.spec.rule.clone().unwrap_or_else(|| "FAD06".into()),
                    reason: rule
                        .spec
                        .reason
                        .clone()
                        .unwrap_or_else(|| "Valor del CUFE no está calculado correctamente".into()),
                }),
            };
        }
        decision
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_explicit_null_body_is_kept_and_a_missing_one_is_the_default() {
        let null: FaultSpec = serde_json::from_str(r#"{"kind": "status", "status": 200, "body": null}"#).unwrap();
        assert_eq!(null.body, Some(Value::Null));
        let missing: FaultSpec = serde_json::from_str(r#"{"kind": "status", "status": 200}"#).unwrap();
        assert_eq!(missing.body, None);
    }

    #[test]
    fn compact_fault_syntax_reads_every_field() {
        let spec = FaultSpec::parse(
            "status,status=503,method=POST,path=/v1/bills/validate,probability=0.2,times=3,latency_ms=10",
        )
        .unwrap();
        assert_eq!(spec.kind, FaultKind::Status);
        assert_eq!(spec.status, Some(503));
        assert_eq!(spec.method.as_deref(), Some("POST"));
        assert_eq!(spec.path.as_deref(), Some("/v1/bills/validate"));
        assert_eq!(spec.probability, 0.2);
        assert_eq!(spec.times, Some(3));
        assert_eq!(spec.latency_ms, 10);
    }

    #[test]
    fn json_fault_syntax_is_accepted_and_unknown_kinds_are_not() {
        let spec = FaultSpec::parse(r#"{"kind":"drop_after_commit","times":1}"#).unwrap();
        assert_eq!(spec.kind, FaultKind::DropAfterCommit);
        assert!(FaultSpec::parse("explode").is_err());
        assert!(FaultSpec::parse("status,probability=2").is_err());
    }

    #[test]
    fn a_rule_with_times_stops_firing_after_that_many_matches() {
        let mut registry = FaultRegistry::default();
        let mut spec = FaultSpec::new(FaultKind::Unauthorized).on("GET", "/v1/bills");
        spec.times = Some(2);
        registry.add(spec);
        let fired = (0..5).filter(|_| registry.decide(&Method::GET, "/v1/bills/show/X").action.is_some()).count();
        assert_eq!(fired, 2);
        assert!(registry.decide(&Method::POST, "/v1/bills").action.is_none());
    }

    #[test]
    fn latency_rules_add_up_and_the_first_terminal_rule_wins() {
        let mut registry = FaultRegistry::default();
        let mut slow = FaultSpec::new(FaultKind::Latency);
        slow.latency_ms = 5;
        registry.add(slow.clone());
        registry.add(slow);
        registry.add(FaultSpec::new(FaultKind::Hang));
        registry.add(FaultSpec::new(FaultKind::Unauthorized));
        let decision = registry.decide(&Method::GET, "/anything");
        assert_eq!(decision.latency, Duration::from_millis(10));
        assert!(matches!(decision.action, Some(Action::Hang)));
        let rules = registry.list();
        assert_eq!(rules[3].fired, 0, "the later terminal rule must not fire");
    }

    #[test]
    fn probability_zero_never_fires() {
        let mut registry = FaultRegistry::default();
        let mut spec = FaultSpec::new(FaultKind::Status);
        spec.probability = 0.0;
        registry.add(spec);
        assert!((0..100).all(|_| registry.decide(&Method::GET, "/").action.is_none()));
    }
}
