//! Pesos and percentages, exact to the cent.
//!
//! Amounts and rates are `rust_decimal::Decimal`, never floats: an invoice is a tax document and
//! must add up to the cent. Both types keep the **scale the client wrote** (`"19.00"` stays
//! `19.00`, `50000` stays `50000`) because the reference forwards decimals to Factus as strings
//! with their original scale, and a client comparing what it sent with what was issued expects the
//! same text back.

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use thiserror::Error;

use super::violation::{FieldProblem, ViolationKind};

/// The text form of a decimal newtype: written as its decimal (with the scale it holds) and, given
/// the error of its `parse`, read back with it.
macro_rules! decimal_text {
    ($newtype:ty) => {
        impl fmt::Display for $newtype {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    };
    ($newtype:ty, $error:ty) => {
        decimal_text!($newtype);

        impl FromStr for $newtype {
            type Err = $error;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Self::parse(text)
            }
        }
    };
}

/// DIAN amounts and Factus v1 rates have at most two decimal places.
pub const MAX_DECIMAL_PLACES: u32 = 2;

/// `0` with the sign bit cleared, so `-0.00` prints as `0.00`.
fn without_negative_zero(mut value: Decimal) -> Decimal {
    if value.is_zero() {
        value.set_sign_positive(true);
    }
    value
}

/// `value` as written (`-0` as `0`), or its scale when it has more than two decimal places: the
/// rule that amounts and rates share.
fn at_most_two_places(value: Decimal) -> Result<Decimal, u32> {
    if value.scale() > MAX_DECIMAL_PLACES {
        return Err(value.scale());
    }
    Ok(without_negative_zero(value))
}

/// The plain decimal a text writes (surrounding blanks ignored), keeping its scale.
fn parse_decimal(text: &str) -> Option<Decimal> {
    Decimal::from_str_exact(text.trim()).ok()
}

/// The [`FieldProblem`] of a decimal newtype's error: its bounds' variants with their kinds, then
/// the two every such error has, `TooManyDecimals` (whose message names its field: `price must
/// have max 2 decimal places`; the others stand alone) and `NotANumber`.
macro_rules! decimal_problem {
    ($error:ty { $($bound:ident => $kind:ident),+ $(,)? }) => {
        impl FieldProblem for $error {
            fn kind(&self) -> ViolationKind {
                match self {
                    $(Self::$bound => ViolationKind::$kind,)+
                    Self::TooManyDecimals { .. } => ViolationKind::TooManyDecimals,
                    Self::NotANumber => ViolationKind::BadFormat,
                }
            }

            fn message_for(&self, field: &str) -> String {
                if matches!(self, Self::TooManyDecimals { .. }) { format!("{field} {self}") } else { self.to_string() }
            }
        }
    };
}

/// Rounds to cents, half away from zero (how Factus, a PHP service, rounds its totals; the
/// worked example of `docs/factus.md` §4.5 has no tie, so it cannot tell the strategies apart).
#[must_use]
pub(crate) fn round_to_cents(value: Decimal) -> Decimal {
    let mut rounded = value.round_dp_with_strategy(MAX_DECIMAL_PLACES, RoundingStrategy::MidpointAwayFromZero);
    rounded.rescale(MAX_DECIMAL_PLACES);
    without_negative_zero(rounded)
}

/// An amount of Colombian pesos with at most two decimal places.
///
/// The sign is free at this level (a computed difference may be negative); the places that need
/// a positive or non-negative amount build it with [`Money::positive`] or [`Money::non_negative`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Money(Decimal);

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MoneyError {
    #[error("ensure this value is greater than 0")]
    NotPositive,
    #[error("ensure this value is greater than or equal to 0")]
    Negative,
    #[error("must have max 2 decimal places")]
    TooManyDecimals { scale: u32 },
    #[error("value is not a valid decimal")]
    NotANumber,
}

decimal_problem!(MoneyError { NotPositive => NotGreaterThan, Negative => NotGreaterOrEqual });

impl Money {
    /// Zero pesos, written `0.00`.
    pub const ZERO: Self = Self(Decimal::from_parts(0, 0, 0, false, MAX_DECIMAL_PLACES));

    /// Any amount with at most two decimal places.
    ///
    /// # Errors
    /// [`MoneyError::TooManyDecimals`] when the amount is written with more than two places
    /// (`1.005`, and also `1.000`: the rule is about how it is written, as in the reference).
    pub fn new(amount: Decimal) -> Result<Self, MoneyError> {
        at_most_two_places(amount).map(Self).map_err(|scale| MoneyError::TooManyDecimals { scale })
    }

    /// An amount greater than zero (a unit price).
    ///
    /// # Errors
    /// [`MoneyError::NotPositive`] first, then [`MoneyError::TooManyDecimals`]: a bound is a
    /// schema error and is reported before the business rule on decimals, as the reference does.
    pub fn positive(amount: Decimal) -> Result<Self, MoneyError> {
        if amount <= Decimal::ZERO {
            return Err(MoneyError::NotPositive);
        }
        Self::new(amount)
    }

    /// An amount of zero or more (allowance and charge amounts).
    ///
    /// # Errors
    /// [`MoneyError::Negative`] first, then [`MoneyError::TooManyDecimals`].
    pub fn non_negative(amount: Decimal) -> Result<Self, MoneyError> {
        if amount < Decimal::ZERO {
            return Err(MoneyError::Negative);
        }
        Self::new(amount)
    }

    /// Parses the text form (`"100.5"`), keeping its scale.
    ///
    /// # Errors
    /// [`MoneyError::NotANumber`] for anything but a plain decimal, else as [`Money::new`].
    pub fn parse(text: &str) -> Result<Self, MoneyError> {
        Self::new(parse_decimal(text).ok_or(MoneyError::NotANumber)?)
    }

    /// An exact computed amount rounded to cents (scale exactly 2).
    #[must_use]
    pub(crate) fn from_rounded(amount: Decimal) -> Self {
        Self(round_to_cents(amount))
    }

    #[must_use]
    pub fn amount(self) -> Decimal {
        self.0
    }

    /// How many decimal places the amount is written with (0, 1 or 2).
    #[must_use]
    pub fn scale(self) -> u32 {
        self.0.scale()
    }

    #[must_use]
    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }
}

decimal_text!(Money, MoneyError);

/// A percentage of zero or more with at most two decimal places (`19.00` for 19 % IVA, `20` for a
/// 20 % discount), as Factus v1 takes `tax_rate` and `discount_rate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Rate(Decimal);

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RateError {
    #[error("ensure this value is greater than or equal to 0")]
    Negative,
    #[error("must have max 2 decimal places")]
    TooManyDecimals { scale: u32 },
    #[error("value is not a valid decimal")]
    NotANumber,
}

decimal_problem!(RateError { Negative => NotGreaterOrEqual });

impl Rate {
    /// The default discount, written `0.00` as the reference writes it.
    pub const ZERO: Self = Self(Decimal::from_parts(0, 0, 0, false, MAX_DECIMAL_PLACES));

    /// # Errors
    /// [`RateError::Negative`] first (a bound), then [`RateError::TooManyDecimals`] (a rule).
    pub fn new(percent: Decimal) -> Result<Self, RateError> {
        if percent < Decimal::ZERO {
            return Err(RateError::Negative);
        }
        at_most_two_places(percent).map(Self).map_err(|scale| RateError::TooManyDecimals { scale })
    }

    /// Parses the text form (`"19.00"`), keeping its scale.
    ///
    /// # Errors
    /// [`RateError::NotANumber`] for anything but a plain decimal, else as [`Rate::new`].
    pub fn parse(text: &str) -> Result<Self, RateError> {
        Self::new(parse_decimal(text).ok_or(RateError::NotANumber)?)
    }

    /// The percentage as written (`19.00`).
    #[must_use]
    pub fn percent(self) -> Decimal {
        self.0
    }

    #[must_use]
    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }
}

decimal_text!(Rate, RateError);

/// The percentage of a self-withholding (`15.00` ReteIVA, `7.00` ReteRenta): zero or more, with
/// **any** number of decimal places.
///
/// Unlike [`Rate`] there is no two-places rule: the reference accepts and forwards any scale here
/// (`docs/contract.md` §3.4), and clients of the original rely on it. The withheld amount is
/// rounded to cents anyway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WithholdingRate(Decimal);

impl WithholdingRate {
    /// # Errors
    /// [`RateError::Negative`] for a negative percentage.
    pub fn new(percent: Decimal) -> Result<Self, RateError> {
        if percent < Decimal::ZERO {
            return Err(RateError::Negative);
        }
        Ok(Self(without_negative_zero(percent)))
    }

    /// The percentage as written.
    #[must_use]
    pub fn percent(self) -> Decimal {
        self.0
    }
}

decimal_text!(WithholdingRate);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    #[test]
    fn money_keeps_the_scale_the_client_wrote() {
        assert_eq!(Money::new(dec!(50000)).unwrap().to_string(), "50000");
        assert_eq!(Money::new(dec!(100.5)).unwrap().to_string(), "100.5");
        assert_eq!(Money::new(dec!(19.00)).unwrap().to_string(), "19.00");
    }

    #[test]
    fn money_with_three_decimal_places_is_refused_even_when_they_are_zeros() {
        assert_eq!(Money::new(dec!(1.005)), Err(MoneyError::TooManyDecimals { scale: 3 }));
        assert_eq!(Money::new(dec!(1.000)), Err(MoneyError::TooManyDecimals { scale: 3 }));
    }

    #[test]
    fn a_price_must_be_greater_than_zero() {
        assert_eq!(Money::positive(dec!(0)), Err(MoneyError::NotPositive));
        assert_eq!(Money::positive(dec!(-3)), Err(MoneyError::NotPositive));
        assert!(Money::positive(dec!(0.01)).is_ok());
    }

    #[test]
    fn a_bound_is_reported_before_the_decimal_places_rule() {
        assert_eq!(Money::positive(dec!(-1.005)), Err(MoneyError::NotPositive));
        assert_eq!(Rate::new(dec!(-1.005)), Err(RateError::Negative));
    }

    #[test]
    fn a_non_negative_amount_may_be_zero_but_not_less() {
        assert!(Money::non_negative(dec!(0)).is_ok());
        assert_eq!(Money::non_negative(dec!(-0.01)), Err(MoneyError::Negative));
    }

    #[test]
    fn negative_zero_prints_as_zero() {
        assert_eq!(Rate::new(dec!(-0.00)).unwrap().to_string(), "0.00");
        assert_eq!(Money::new(dec!(-0)).unwrap().to_string(), "0");
    }

    #[test]
    fn the_decimal_places_message_names_the_field() {
        let error = Money::positive(dec!(1.005)).unwrap_err();
        assert_eq!(error.message_for("price"), "price must have max 2 decimal places");
        assert_eq!(error.kind(), ViolationKind::TooManyDecimals);
        assert_eq!(MoneyError::NotPositive.message_for("price"), "ensure this value is greater than 0");
    }

    #[test]
    fn rates_are_non_negative_with_two_places_at_most() {
        assert_eq!(Rate::new(dec!(-1)), Err(RateError::Negative));
        assert_eq!(Rate::new(dec!(19.005)), Err(RateError::TooManyDecimals { scale: 3 }));
        assert_eq!(Rate::parse("19.00").unwrap().to_string(), "19.00");
        assert_eq!(Rate::ZERO.to_string(), "0.00");
    }

    #[test]
    fn withholding_rates_accept_any_scale_but_not_a_negative_rate() {
        assert_eq!(WithholdingRate::new(dec!(7.385)).unwrap().to_string(), "7.385");
        assert_eq!(WithholdingRate::new(dec!(-1)), Err(RateError::Negative));
    }

    #[test]
    fn rounding_to_cents_goes_half_away_from_zero_and_always_has_two_places() {
        assert_eq!(round_to_cents(dec!(0.005)).to_string(), "0.01");
        assert_eq!(round_to_cents(dec!(-0.005)).to_string(), "-0.01");
        assert_eq!(round_to_cents(dec!(7)).to_string(), "7.00");
        assert_eq!(round_to_cents(dec!(-0.001)).to_string(), "0.00");
    }

    #[test]
    fn text_that_is_not_a_plain_decimal_is_not_money() {
        assert_eq!(Money::parse("abc"), Err(MoneyError::NotANumber));
        assert_eq!(Money::parse(""), Err(MoneyError::NotANumber));
    }

    proptest! {
        #[test]
        fn formatting_money_and_parsing_it_back_never_changes_the_scale(
            mantissa in -1_000_000_000_000i64..1_000_000_000_000i64,
            scale in 0u32..=2,
        ) {
            let money = Money::new(Decimal::new(mantissa, scale)).unwrap();
            let back: Money = money.to_string().parse().unwrap();
            prop_assert_eq!(back, money);
            prop_assert_eq!(back.scale(), money.scale());
            prop_assert_eq!(back.to_string(), money.to_string());
        }

        #[test]
        fn formatting_a_rate_and_parsing_it_back_never_changes_the_scale(
            mantissa in 0i64..10_000_000,
            scale in 0u32..=2,
        ) {
            let rate = Rate::new(Decimal::new(mantissa, scale)).unwrap();
            let back: Rate = rate.to_string().parse().unwrap();
            prop_assert_eq!(back.percent().scale(), rate.percent().scale());
            prop_assert_eq!(back.to_string(), rate.to_string());
        }

        #[test]
        fn money_accepts_exactly_the_amounts_written_with_two_places_at_most(
            mantissa in any::<i64>(),
            scale in 0u32..=6,
        ) {
            let amount = Decimal::new(mantissa, scale);
            prop_assert_eq!(Money::new(amount).is_ok(), scale <= 2);
        }
    }
}
