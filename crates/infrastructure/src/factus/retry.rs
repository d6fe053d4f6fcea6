//! How long to wait before retrying an idempotent Factus call.

use std::time::Duration;

use rand::Rng;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;

use super::config::RetryPolicy;

/// The wait before retry number `retry` (1 for the first retry): exponential from
/// `policy.base_delay`, capped at `policy.max_delay`, drawn at random between half of it and all
/// of it ("equal jitter": never hammering at once, never waiting much longer than planned).
pub(crate) fn backoff(policy: &RetryPolicy, retry: u32) -> Duration {
    let exponent = retry.saturating_sub(1).min(16);
    let planned = policy.base_delay.saturating_mul(1 << exponent).min(policy.max_delay);
    let half = planned / 2;
    let jitter_nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
    half + Duration::from_nanos(rand::rng().random_range(0..=jitter_nanos))
}

/// The `Retry-After` of a 429 or 503: delay-seconds or an HTTP date. `None` when absent or
/// unreadable.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = OffsetDateTime::parse(value, &Rfc2822).ok()?;
    let wait = at - OffsetDateTime::now_utc();
    Some(wait.try_into().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_str(value).expect("header value"));
        headers
    }

    #[test]
    fn backoff_doubles_within_its_jitter_and_stops_at_the_cap() {
        let policy = RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(300),
        };
        for _ in 0..50 {
            let first = backoff(&policy, 1);
            assert!((Duration::from_millis(50)..=Duration::from_millis(100)).contains(&first), "{first:?}");
            let second = backoff(&policy, 2);
            assert!((Duration::from_millis(100)..=Duration::from_millis(200)).contains(&second), "{second:?}");
            let capped = backoff(&policy, 9);
            assert!((Duration::from_millis(150)..=Duration::from_millis(300)).contains(&capped), "{capped:?}");
        }
    }

    #[test]
    fn retry_after_in_seconds_is_read() {
        assert_eq!(retry_after(&headers("1")), Some(Duration::from_secs(1)));
        assert_eq!(retry_after(&headers(" 30 ")), Some(Duration::from_secs(30)));
    }

    #[test]
    fn retry_after_as_an_http_date_is_the_time_until_then() {
        let soon = OffsetDateTime::now_utc() + time::Duration::seconds(5);
        let wait = retry_after(&headers(&soon.format(&Rfc2822).expect("format"))).expect("a date is read");
        assert!(wait <= Duration::from_secs(5) && wait >= Duration::from_secs(3), "{wait:?}");

        let past = retry_after(&headers("Sun, 06 Nov 1994 08:49:37 GMT"));
        assert_eq!(past, Some(Duration::ZERO));
    }

    #[test]
    fn a_missing_or_unreadable_retry_after_is_none() {
        assert_eq!(retry_after(&HeaderMap::new()), None);
        assert_eq!(retry_after(&headers("soon")), None);
    }
}
