//! Local access tokens: HMAC-signed JWTs with `sub`, `iat` and `exp`, as the reference issues.
//!
//! Verification trusts nothing in the token's header: only the one configured algorithm is
//! accepted, so `alg: none`, public-key algorithms (the RS256/HS256 key-confusion attack) and
//! the other HMAC sizes are all refused, whatever the header says.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use time::OffsetDateTime;

use factus_application::ports::{Claims, IssuedToken, TokenError, TokenService};

/// Seconds a token is still accepted after its `exp`. Instances behind a load balancer may
/// disagree on the time by a moment; 5 s covers that without noticeably extending a token
/// that lives for minutes.
pub const LEEWAY_SECONDS: u64 = 5;

/// The token service could not be configured.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum JwtConfigError {
    #[error("unsupported JWT algorithm {0:?}: expected HS256, HS384 or HS512")]
    UnsupportedAlgorithm(String),
    #[error("the JWT signing key is empty")]
    EmptyKey,
    #[error("the access token lifetime must be at least one minute")]
    ZeroLifetime,
}

/// What goes inside a token.
#[derive(Debug, Serialize, Deserialize)]
struct TokenClaims {
    sub: String,
    exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iat: Option<i64>,
    /// The user's token version at issue time (see `User::token_version`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ver: Option<i64>,
}

/// [`TokenService`] with HMAC-signed JWTs.
pub struct JwtTokenService {
    algorithm: Algorithm,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    lifetime: time::Duration,
}

impl std::fmt::Debug for JwtTokenService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtTokenService")
            .field("algorithm", &self.algorithm)
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl JwtTokenService {
    /// A service signing with `secret` using `algorithm` (the `ALGORITHM` setting: `HS256`,
    /// `HS384` or `HS512`), issuing tokens that live `lifetime_minutes`
    /// (`ACCESS_TOKEN_EXPIRE_MINUTES`). Whether the key is long enough for production is the
    /// configuration's call; an empty key is always refused.
    ///
    /// # Errors
    /// [`JwtConfigError`] for another algorithm, an empty key or a zero lifetime.
    pub fn new(secret: &SecretString, algorithm: &str, lifetime_minutes: u32) -> Result<Self, JwtConfigError> {
        let algorithm = match algorithm.trim() {
            "HS256" => Algorithm::HS256,
            "HS384" => Algorithm::HS384,
            "HS512" => Algorithm::HS512,
            other => return Err(JwtConfigError::UnsupportedAlgorithm(other.to_owned())),
        };
        let key = secret.expose_secret().as_bytes();
        if key.is_empty() {
            return Err(JwtConfigError::EmptyKey);
        }
        if lifetime_minutes == 0 {
            return Err(JwtConfigError::ZeroLifetime);
        }
        let mut validation = Validation::new(algorithm);
        validation.algorithms = vec![algorithm];
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECONDS;
        Ok(Self {
            algorithm,
            encoding: EncodingKey::from_secret(key),
            decoding: DecodingKey::from_secret(key),
            validation,
            lifetime: time::Duration::minutes(i64::from(lifetime_minutes)),
        })
    }

    /// Issues a token as if the time were `now`. [`TokenService::issue`] uses the clock; this
    /// exists for tests and tools that need a token from another moment (an expired one).
    ///
    /// # Errors
    /// [`TokenError::Issue`] when signing fails.
    pub fn issue_at(&self, subject: &str, token_version: i64, now: OffsetDateTime) -> Result<IssuedToken, TokenError> {
        let claims = TokenClaims {
            sub: subject.to_owned(),
            exp: (now + self.lifetime).unix_timestamp(),
            iat: Some(now.unix_timestamp()),
            ver: Some(token_version),
        };
        let access_token = jsonwebtoken::encode(&Header::new(self.algorithm), &claims, &self.encoding)
            .map_err(|error| TokenError::Issue(error.to_string()))?;
        Ok(IssuedToken { access_token, expires_in_seconds: self.lifetime.whole_seconds() })
    }
}

impl TokenService for JwtTokenService {
    fn issue(&self, subject: &str, token_version: i64) -> Result<IssuedToken, TokenError> {
        self.issue_at(subject, token_version, OffsetDateTime::now_utc())
    }

    fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let data = jsonwebtoken::decode::<TokenClaims>(token, &self.decoding, &self.validation).map_err(|error| {
            // The reason only: the token itself is a credential and never logged.
            tracing::debug!(reason = refusal_reason(error.kind()), "access token refused");
            TokenError::Invalid
        })?;
        let TokenClaims { sub, exp, iat, ver } = data.claims;
        if sub.is_empty() {
            tracing::debug!(reason = "empty subject", "access token refused");
            return Err(TokenError::Invalid);
        }
        let expires_at = OffsetDateTime::from_unix_timestamp(exp).map_err(|_| TokenError::Invalid)?;
        let issued_at = iat.and_then(|iat| OffsetDateTime::from_unix_timestamp(iat).ok());
        Ok(Claims { subject: sub, issued_at, expires_at, token_version: ver })
    }
}

/// A short, secret-free reason for the debug log, so an operator can tell expired tokens from
/// forged ones.
fn refusal_reason(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::ExpiredSignature => "expired",
        ErrorKind::ImmatureSignature => "not yet valid",
        ErrorKind::InvalidSignature => "bad signature",
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => "algorithm not allowed",
        ErrorKind::MissingRequiredClaim(_) | ErrorKind::InvalidClaimFormat(_) => "claims",
        _ => "malformed",
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    const KEY: &str = "0123456789abcdef0123456789abcdef";

    fn service(algorithm: &str) -> JwtTokenService {
        JwtTokenService::new(&SecretString::from(KEY), algorithm, 30).unwrap()
    }

    fn b64(json: &str) -> String {
        URL_SAFE_NO_PAD.encode(json)
    }

    /// Signs arbitrary claims with the test key, to build tokens the service would not issue.
    fn sign(algorithm: Algorithm, claims: &serde_json::Value) -> String {
        jsonwebtoken::encode(&Header::new(algorithm), claims, &EncodingKey::from_secret(KEY.as_bytes())).unwrap()
    }

    fn now() -> i64 {
        OffsetDateTime::now_utc().unix_timestamp()
    }

    #[test]
    fn an_issued_token_verifies_with_its_subject_and_times() {
        let tokens = service("HS256");
        let issued_at = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
        let issued = tokens.issue_at("ana", 0, issued_at).unwrap();
        assert_eq!(issued.expires_in_seconds, 30 * 60);

        let claims = tokens.verify(&issued.access_token).unwrap();
        assert_eq!(claims.subject, "ana");
        assert_eq!(claims.issued_at, Some(issued_at));
        assert_eq!(claims.expires_at, issued_at + time::Duration::minutes(30));
    }

    #[test]
    fn issued_tokens_say_hs256_in_their_header() {
        let issued = service("HS256").issue("ana", 0).unwrap();
        let header = jsonwebtoken::decode_header(&issued.access_token).unwrap();
        assert_eq!(header.alg, Algorithm::HS256);
    }

    #[test]
    fn hs512_can_be_configured() {
        let tokens = service("HS512");
        let issued = tokens.issue("ana", 0).unwrap();
        assert_eq!(jsonwebtoken::decode_header(&issued.access_token).unwrap().alg, Algorithm::HS512);
        assert_eq!(tokens.verify(&issued.access_token).unwrap().subject, "ana");
    }

    #[test]
    fn an_expired_token_is_refused() {
        let tokens = service("HS256");
        let long_ago = OffsetDateTime::now_utc() - time::Duration::minutes(31);
        let issued = tokens.issue_at("ana", 0, long_ago).unwrap();
        assert_eq!(tokens.verify(&issued.access_token), Err(TokenError::Invalid));
    }

    #[test]
    fn a_token_expired_within_the_leeway_is_still_accepted() {
        let tokens = service("HS256");
        let token = sign(Algorithm::HS256, &serde_json::json!({ "sub": "ana", "exp": now() - 2 }));
        assert!(tokens.verify(&token).is_ok());
    }

    #[test]
    fn a_token_expired_beyond_the_leeway_is_refused() {
        let tokens = service("HS256");
        let token = sign(Algorithm::HS256, &serde_json::json!({ "sub": "ana", "exp": now() - 10 }));
        assert_eq!(tokens.verify(&token), Err(TokenError::Invalid));
    }

    #[test]
    fn a_token_signed_with_another_key_is_refused() {
        let other = JwtTokenService::new(&SecretString::from("another key, also 32 bytes long!"), "HS256", 30).unwrap();
        let issued = other.issue("ana", 0).unwrap();
        assert_eq!(service("HS256").verify(&issued.access_token), Err(TokenError::Invalid));
    }

    #[test]
    fn a_token_with_a_tampered_payload_is_refused() {
        let tokens = service("HS256");
        let issued = tokens.issue("ana", 0).unwrap();
        let mut parts: Vec<String> = issued.access_token.split('.').map(str::to_owned).collect();
        parts[1] = b64(&format!(r#"{{"sub":"admin","exp":{}}}"#, now() + 600));
        assert_eq!(tokens.verify(&parts.join(".")), Err(TokenError::Invalid));
    }

    #[test]
    fn an_unsigned_alg_none_token_is_refused() {
        let header = b64(r#"{"alg":"none","typ":"JWT"}"#);
        let payload = b64(&format!(r#"{{"sub":"admin","exp":{}}}"#, now() + 600));
        for token in [format!("{header}.{payload}."), format!("{header}.{payload}")] {
            assert_eq!(service("HS256").verify(&token), Err(TokenError::Invalid), "{token}");
        }
    }

    #[test]
    fn a_token_signed_with_hs512_is_refused_when_hs256_is_configured() {
        let token = sign(Algorithm::HS512, &serde_json::json!({ "sub": "ana", "exp": now() + 600 }));
        assert!(service("HS512").verify(&token).is_ok(), "the token itself is valid");
        assert_eq!(service("HS256").verify(&token), Err(TokenError::Invalid));
    }

    #[test]
    fn a_token_claiming_rs256_is_refused() {
        // Key confusion: an RS256 header with an HMAC signature made with the shared key.
        let header = b64(r#"{"alg":"RS256","typ":"JWT"}"#);
        let payload = b64(&format!(r#"{{"sub":"admin","exp":{}}}"#, now() + 600));
        let hs256 = sign(Algorithm::HS256, &serde_json::json!({ "sub": "admin", "exp": now() + 600 }));
        let signature = hs256.rsplit('.').next().unwrap();
        let token = format!("{header}.{payload}.{signature}");
        assert_eq!(service("HS256").verify(&token), Err(TokenError::Invalid));
    }

    #[test]
    fn a_token_without_a_subject_is_refused() {
        let token = sign(Algorithm::HS256, &serde_json::json!({ "exp": now() + 600 }));
        assert_eq!(service("HS256").verify(&token), Err(TokenError::Invalid));
    }

    #[test]
    fn a_token_with_an_empty_subject_is_refused() {
        let token = sign(Algorithm::HS256, &serde_json::json!({ "sub": "", "exp": now() + 600 }));
        assert_eq!(service("HS256").verify(&token), Err(TokenError::Invalid));
    }

    #[test]
    fn a_token_without_an_expiry_is_refused() {
        let token = sign(Algorithm::HS256, &serde_json::json!({ "sub": "ana" }));
        assert_eq!(service("HS256").verify(&token), Err(TokenError::Invalid));
    }

    #[test]
    fn a_token_that_is_not_yet_valid_is_refused() {
        let claims = serde_json::json!({ "sub": "ana", "exp": now() + 600, "nbf": now() + 300 });
        assert_eq!(service("HS256").verify(&sign(Algorithm::HS256, &claims)), Err(TokenError::Invalid));
    }

    #[test]
    fn garbage_is_refused() {
        let tokens = service("HS256");
        for token in ["", "garbage", "a.b.c", "Bearer x.y.z", "....", "\u{0}"] {
            assert_eq!(tokens.verify(token), Err(TokenError::Invalid), "{token:?}");
        }
    }

    #[test]
    fn algorithms_outside_the_hmac_family_cannot_be_configured() {
        for algorithm in ["RS256", "none", "ES256", "hs256", ""] {
            assert_eq!(
                JwtTokenService::new(&SecretString::from(KEY), algorithm, 30).unwrap_err(),
                JwtConfigError::UnsupportedAlgorithm(algorithm.to_owned())
            );
        }
    }

    #[test]
    fn an_empty_key_or_a_zero_lifetime_cannot_be_configured() {
        assert_eq!(JwtTokenService::new(&SecretString::from(""), "HS256", 30).unwrap_err(), JwtConfigError::EmptyKey);
        assert_eq!(
            JwtTokenService::new(&SecretString::from(KEY), "HS256", 0).unwrap_err(),
            JwtConfigError::ZeroLifetime
        );
    }

    #[test]
    fn debug_output_does_not_show_the_key() {
        assert!(!format!("{:?}", service("HS256")).contains(KEY));
    }
}
