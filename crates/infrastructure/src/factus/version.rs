//! Which Factus API version calls go to (`FACTUS_API_VERSION`), and the switch of `auto`.
//!
//! Factus enables one version per company account and answers every call to the other with
//! 403 `{"message": "Version de API no disponible para esta empresa"}`, refusing it before it does
//! anything (nothing is stored, so even a create may be repeated). With `auto` the gateway starts
//! on v1; the first call refused that way switches every later call to the other version (logged
//! once, published as the gauge `factus_api_version`, 1 or 2) and is repeated once there.

use std::sync::atomic::{AtomicU8, Ordering};

use factus_application::factus::FactusApiVersion;
use serde_json::Value;

/// `FACTUS_API_VERSION`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiVersionSetting {
    /// Always v1.
    V1,
    /// Always v2.
    V2,
    /// Start on v1 and move to v2 (or back) the first time Factus refuses the version.
    Auto,
}

impl ApiVersionSetting {
    /// Parses `v1`, `v2` or `auto` (any case).
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "v1" => Some(Self::V1),
            "v2" => Some(Self::V2),
            "auto" => Some(Self::Auto),
            _ => None,
        }
    }
}

/// Factus' message when the account does not have the version called.
pub(crate) const VERSION_REFUSED: &str = "Version de API no disponible para esta empresa";

const VERSION_GAUGE: &str = "factus_api_version";

/// The version in use, shared by every call of the gateway.
#[derive(Debug)]
pub(crate) struct VersionSwitch {
    current: AtomicU8,
    auto: bool,
}

fn encode(version: FactusApiVersion) -> u8 {
    match version {
        FactusApiVersion::V1 => 1,
        FactusApiVersion::V2 => 2,
    }
}

fn decode(value: u8) -> FactusApiVersion {
    if value == 2 { FactusApiVersion::V2 } else { FactusApiVersion::V1 }
}

impl VersionSwitch {
    pub(crate) fn new(setting: ApiVersionSetting) -> Self {
        let (start, auto) = match setting {
            ApiVersionSetting::V1 => (FactusApiVersion::V1, false),
            ApiVersionSetting::V2 => (FactusApiVersion::V2, false),
            ApiVersionSetting::Auto => (FactusApiVersion::V1, true),
        };
        metrics::gauge!(VERSION_GAUGE).set(f64::from(encode(start)));
        Self { current: AtomicU8::new(encode(start)), auto }
    }

    pub(crate) fn current(&self) -> FactusApiVersion {
        decode(self.current.load(Ordering::Acquire))
    }

    /// After Factus refused `used` for the account: the version to repeat the call with, or `None`
    /// when the version is fixed by configuration. Only the first refusal switches (and logs);
    /// calls that raced it are simply repeated on the version it switched to.
    pub(crate) fn after_refusal(&self, used: FactusApiVersion) -> Option<FactusApiVersion> {
        if !self.auto {
            return None;
        }
        let other = used.other();
        if self.current.compare_exchange(encode(used), encode(other), Ordering::AcqRel, Ordering::Acquire).is_ok() {
            metrics::gauge!(VERSION_GAUGE).set(f64::from(encode(other)));
            tracing::warn!(
                refused = used.as_str(),
                now = other.as_str(),
                "Factus does not enable API {} for this account; every call now goes to {}",
                used.as_str(),
                other.as_str()
            );
        }
        Some(other)
    }
}

/// Whether a reply is Factus refusing the API version (403 with its message).
pub(crate) fn is_version_refusal(status: u16, body: &[u8]) -> bool {
    status == 403
        && serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|body| body.get("message").and_then(Value::as_str).map(|message| message == VERSION_REFUSED))
            .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_starts_on_v1_and_the_first_refusal_switches_for_good() {
        let switch = VersionSwitch::new(ApiVersionSetting::Auto);
        assert_eq!(switch.current(), FactusApiVersion::V1);
        assert_eq!(switch.after_refusal(FactusApiVersion::V1), Some(FactusApiVersion::V2));
        assert_eq!(switch.current(), FactusApiVersion::V2);
        // A call that was still on v1 when the switch happened is repeated on v2 too.
        assert_eq!(switch.after_refusal(FactusApiVersion::V1), Some(FactusApiVersion::V2));
        assert_eq!(switch.current(), FactusApiVersion::V2);
    }

    #[test]
    fn a_configured_version_never_switches() {
        let switch = VersionSwitch::new(ApiVersionSetting::V2);
        assert_eq!(switch.after_refusal(FactusApiVersion::V2), None);
        assert_eq!(switch.current(), FactusApiVersion::V2);
    }

    #[test]
    fn only_the_403_with_factus_version_message_is_a_version_refusal() {
        let body = br#"{"message": "Version de API no disponible para esta empresa"}"#;
        assert!(is_version_refusal(403, body));
        assert!(!is_version_refusal(401, body));
        assert!(!is_version_refusal(403, br#"{"message": "Forbidden"}"#));
        assert!(!is_version_refusal(403, b"error code: 1010"));
    }

    #[test]
    fn the_setting_reads_v1_v2_and_auto() {
        assert_eq!(ApiVersionSetting::parse("V2"), Some(ApiVersionSetting::V2));
        assert_eq!(ApiVersionSetting::parse("auto"), Some(ApiVersionSetting::Auto));
        assert_eq!(ApiVersionSetting::parse("v3"), None);
    }
}
