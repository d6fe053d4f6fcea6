//! The current time, at the precision the stores keep.

use time::OffsetDateTime;

/// Now in UTC, truncated to whole microseconds: both databases store microseconds, so a value
/// returned to a client right after a write equals the one read back later.
#[must_use]
pub fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(now.nanosecond() / 1_000 * 1_000).unwrap_or(now)
}
