//! Texts of the invoice that have rules: the reference code, e-mail addresses, the observation.

use thiserror::Error;

use super::violation::{FieldProblem, ViolationKind};

/// The integrator's own key for an invoice (`reference_code`): Factus refuses a second invoice
/// with the same one, and the wrapper deletes pending invoices by it.
///
/// Because it travels in a URL path (`/v1/bills/destroy/reference/{reference_code}`) it may not
/// contain `/` or `\` (a proxy could read either as a path separator) nor control characters, and
/// it is bounded so that it fits a log line and an index. It is kept exactly as written: it is the
/// client's key, and Factus compares it byte for byte. These are schema checks of one field
/// (422), like a Pydantic `constr`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReferenceCode(String);

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReferenceCodeError {
    #[error("ensure this value has at least 1 characters")]
    Blank,
    #[error("ensure this value has at most {max} characters")]
    TooLong { max: usize },
    #[error("reference_code may not contain '/', '\\' or control characters")]
    ForbiddenCharacter,
}

impl FieldProblem for ReferenceCodeError {
    fn kind(&self) -> ViolationKind {
        match self {
            Self::Blank => ViolationKind::TooShort,
            Self::TooLong { .. } => ViolationKind::TooLong,
            Self::ForbiddenCharacter => ViolationKind::BadFormat,
        }
    }
}

impl ReferenceCode {
    pub const MAX_LEN: usize = 100;

    /// # Errors
    /// [`ReferenceCodeError`] when it is blank, longer than [`Self::MAX_LEN`] characters, or holds
    /// a `/`, a `\` or a control character.
    pub fn parse(raw: &str) -> Result<Self, ReferenceCodeError> {
        if raw.trim().is_empty() {
            return Err(ReferenceCodeError::Blank);
        }
        if raw.chars().count() > Self::MAX_LEN {
            return Err(ReferenceCodeError::TooLong { max: Self::MAX_LEN });
        }
        if raw.chars().any(|c| c == '/' || c == '\\' || c.is_control()) {
            return Err(ReferenceCodeError::ForbiddenCharacter);
        }
        Ok(Self(raw.to_owned()))
    }
}

/// An e-mail address, checked the way python-email-validator checks syntax (without DNS): one
/// `@`, a sensible local part, and a dotted domain whose last label is alphabetic.
///
/// The check lives here, not in the web layer, so that every address the service holds (the
/// customer's, a send-email request's) obeys the same rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress(String);

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("value is not a valid email address")]
pub struct EmailAddressError;

impl FieldProblem for EmailAddressError {
    fn kind(&self) -> ViolationKind {
        ViolationKind::BadEmail
    }
}

impl EmailAddress {
    /// The longest address (RFC 5321's 256-character path less the angle brackets).
    pub const MAX_LEN: usize = 254;

    /// # Errors
    /// [`EmailAddressError`] when the text is not an e-mail address.
    pub fn parse(text: &str) -> Result<Self, EmailAddressError> {
        let Some((local, domain)) = text.rsplit_once('@') else {
            return Err(EmailAddressError);
        };
        // RFC 5321: a path holds at most 254 characters of address, a domain at most 255 and a
        // label 63 (the local part's 64 is checked below).
        if text.len() > Self::MAX_LEN || domain.len() > 255 || domain.split('.').any(|label| label.len() > 63) {
            return Err(EmailAddressError);
        }
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local.chars().all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|label| {
                !label.is_empty()
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            })
            && labels.last().is_some_and(|tld| tld.chars().all(char::is_alphabetic));
        if local_ok && domain_ok { Ok(Self(text.to_owned())) } else { Err(EmailAddressError) }
    }
}

/// The free-text note of an invoice (`observation`), at most 250 characters as DIAN allows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Observation(String);

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("ensure this value has at most {max} characters")]
pub struct ObservationError {
    pub max: usize,
}

impl FieldProblem for ObservationError {
    fn kind(&self) -> ViolationKind {
        ViolationKind::TooLong
    }
}

impl Observation {
    pub const MAX_LEN: usize = 250;

    /// # Errors
    /// [`ObservationError`] when longer than 250 characters (Unicode scalar values, as Python
    /// counts them).
    pub fn parse(text: &str) -> Result<Self, ObservationError> {
        if text.chars().count() > Self::MAX_LEN {
            return Err(ObservationError { max: Self::MAX_LEN });
        }
        Ok(Self(text.to_owned()))
    }
}

text_newtype!(ReferenceCode, EmailAddress, Observation);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_code_is_kept_exactly_as_written() {
        assert_eq!(ReferenceCode::parse("R-2024_1").unwrap().as_str(), "R-2024_1");
        assert_eq!(ReferenceCode::parse("FV 001").unwrap().to_string(), "FV 001");
    }

    #[test]
    fn a_blank_reference_code_is_refused() {
        assert_eq!(ReferenceCode::parse(""), Err(ReferenceCodeError::Blank));
        assert_eq!(ReferenceCode::parse("   "), Err(ReferenceCodeError::Blank));
    }

    #[test]
    fn a_reference_code_that_would_break_a_url_path_is_refused() {
        assert_eq!(ReferenceCode::parse("a/b"), Err(ReferenceCodeError::ForbiddenCharacter));
        assert_eq!(ReferenceCode::parse("a\\b"), Err(ReferenceCodeError::ForbiddenCharacter));
        assert_eq!(ReferenceCode::parse("a\nb"), Err(ReferenceCodeError::ForbiddenCharacter));
    }

    #[test]
    fn a_reference_code_may_have_a_hundred_characters_but_not_more() {
        assert!(ReferenceCode::parse(&"x".repeat(100)).is_ok());
        let error = ReferenceCode::parse(&"x".repeat(101)).unwrap_err();
        assert_eq!(error.to_string(), "ensure this value has at most 100 characters");
        assert_eq!(error.kind(), ViolationKind::TooLong);
    }

    #[test]
    fn ordinary_email_addresses_are_accepted() {
        assert!(EmailAddress::parse("ana@shop.co").is_ok());
        assert!(EmailAddress::parse("first.last+tag@mail.example.com").is_ok());
        assert_eq!(EmailAddress::parse("ana@shop.co").unwrap().as_str(), "ana@shop.co");
    }

    #[test]
    fn text_that_is_not_an_email_address_is_refused() {
        for bad in ["ana", "ana@localhost", "ana @shop.co", "@shop.co", "ana@shop.c0", "a..b@shop.co", ""] {
            assert_eq!(EmailAddress::parse(bad), Err(EmailAddressError), "{bad}");
        }
    }

    #[test]
    fn an_observation_counts_characters_not_bytes() {
        assert!(Observation::parse(&"ñ".repeat(250)).is_ok());
        let error = Observation::parse(&"a".repeat(251)).unwrap_err();
        assert_eq!(error.to_string(), "ensure this value has at most 250 characters");
    }
}
