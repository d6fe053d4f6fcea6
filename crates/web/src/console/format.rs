//! How the console shows instants and money: Colombian time and pesos.
//!
//! Colombia keeps UTC-5 all year (America/Bogota has had no daylight saving since 1993), so a
//! fixed offset is exact and needs no time-zone database.

use rust_decimal::Decimal;
use time::macros::{format_description, offset};
use time::{Date, OffsetDateTime, Time, UtcOffset};

use super::i18n::Lang;

/// America/Bogota.
pub const COLOMBIA: UtcOffset = offset!(-5);

/// `2026-12-01 09:30` in Colombian time.
#[must_use]
pub fn colombian(at: OffsetDateTime) -> String {
    let format = format_description!("[year]-[month]-[day] [hour]:[minute]");
    at.to_offset(COLOMBIA).format(&format).unwrap_or_default()
}

/// Today's date in Colombia at `now`.
#[must_use]
pub fn colombian_date(now: OffsetDateTime) -> Date {
    now.to_offset(COLOMBIA).date()
}

/// The instant a Colombian day starts.
#[must_use]
pub fn start_of_colombian_day(date: Date) -> OffsetDateTime {
    date.with_time(Time::MIDNIGHT).assume_offset(COLOMBIA)
}

/// The instant the Colombian month of `now` started.
#[must_use]
pub fn start_of_colombian_month(now: OffsetDateTime) -> OffsetDateTime {
    let today = colombian_date(now);
    start_of_colombian_day(today.replace_day(1).unwrap_or(today))
}

/// How long something has waited, in its two largest units: `45 s`, `3 min 20 s`, `2 h 5 min`,
/// `3 d 4 h` (the same abbreviations in Spanish and English). A negative span (clocks of two
/// instances a little apart) is nothing yet.
#[must_use]
pub fn elapsed(span: time::Duration) -> String {
    let seconds = span.whole_seconds().max(0);
    let (days, hours, minutes) = (seconds / 86_400, seconds / 3_600 % 24, seconds / 60 % 60);
    match (days, hours, minutes) {
        (0, 0, 0) => format!("{seconds} s"),
        (0, 0, _) => format!("{minutes} min {} s", seconds % 60),
        (0, _, _) => format!("{hours} h {minutes} min"),
        _ => format!("{days} d {hours} h"),
    }
}

/// A `YYYY-MM-DD` date.
#[must_use]
pub fn parse_date(raw: &str) -> Option<Date> {
    Date::parse(raw.trim(), format_description!("[year]-[month]-[day]")).ok()
}

/// Pesos the Colombian way in Spanish (`$ 1.234.567,89`), with `COP` and English separators in
/// English (`COP 1,234,567.89`). Cents are shown only when there are any.
#[must_use]
pub fn cop(amount: Decimal, lang: Lang) -> String {
    let rounded = amount.round_dp(2);
    let negative = rounded.is_sign_negative() && !rounded.is_zero();
    let text = rounded.abs().to_string();
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let fraction = fraction.trim_end_matches('0');
    let (thousands, decimal, symbol) = match lang {
        Lang::Es => ('.', ',', "$ "),
        Lang::En => (',', '.', "COP "),
    };
    let mut grouped = String::new();
    for (index, digit) in whole.chars().enumerate() {
        if index > 0 && (whole.len() - index) % 3 == 0 {
            grouped.push(thousands);
        }
        grouped.push(digit);
    }
    let cents = if fraction.is_empty() { String::new() } else { format!("{decimal}{fraction:0<2}") };
    format!("{}{symbol}{grouped}{cents}", if negative { "-" } else { "" })
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;

    fn dec(text: &str) -> Decimal {
        text.parse().expect("a decimal")
    }

    #[test]
    fn instants_are_shown_in_colombian_time() {
        assert_eq!(colombian(datetime!(2026-12-01 03:15 UTC)), "2026-11-30 22:15");
        assert_eq!(colombian(datetime!(2026-07-01 12:00 UTC)), "2026-07-01 07:00");
    }

    #[test]
    fn the_colombian_day_and_month_start_at_five_in_the_morning_utc() {
        let now = datetime!(2026-12-01 03:00 UTC);
        assert_eq!(colombian_date(now), date!(2026 - 11 - 30));
        assert_eq!(start_of_colombian_day(colombian_date(now)), datetime!(2026-11-30 05:00 UTC));
        assert_eq!(start_of_colombian_month(now), datetime!(2026-11-01 05:00 UTC));
    }

    #[test]
    fn a_wait_is_told_in_its_two_largest_units() {
        assert_eq!(elapsed(time::Duration::seconds(45)), "45 s");
        assert_eq!(elapsed(time::Duration::seconds(200)), "3 min 20 s");
        assert_eq!(elapsed(time::Duration::seconds(2 * 3_600 + 5 * 60 + 9)), "2 h 5 min");
        assert_eq!(elapsed(time::Duration::seconds(3 * 86_400 + 4 * 3_600 + 1)), "3 d 4 h");
        assert_eq!(elapsed(time::Duration::seconds(-3)), "0 s");
    }

    #[test]
    fn pesos_are_grouped_in_thousands_with_cents_only_when_there_are_any() {
        assert_eq!(cop(dec("1234567.89"), Lang::Es), "$ 1.234.567,89");
        assert_eq!(cop(dec("1234567.89"), Lang::En), "COP 1,234,567.89");
        assert_eq!(cop(dec("11900.00"), Lang::Es), "$ 11.900");
        assert_eq!(cop(dec("100"), Lang::Es), "$ 100");
        assert_eq!(cop(dec("1000.5"), Lang::Es), "$ 1.000,50");
        assert_eq!(cop(dec("-2500"), Lang::En), "-COP 2,500");
        assert_eq!(cop(dec("0.004"), Lang::Es), "$ 0");
    }
}
