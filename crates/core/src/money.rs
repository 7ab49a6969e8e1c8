//! Exact money. An [`Amount`] is a `rust_decimal` value rescaled to its
//! currency's exponent (BDT 2, USD 2, KHR 0 as KHQR carries riel as whole
//! numbers, `shared/spec/khqr.md` §6). No floats anywhere.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Currencies Till charges in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "UPPERCASE")]
pub enum Currency {
    Bdt,
    Khr,
    Usd,
}

impl Currency {
    pub const ALL: [Currency; 3] = [Currency::Bdt, Currency::Khr, Currency::Usd];

    /// Decimal places the currency is keyed, stored and sent in.
    pub fn exponent(self) -> u32 {
        match self {
            Currency::Bdt | Currency::Usd => 2,
            Currency::Khr => 0,
        }
    }

    /// ISO 4217 alphabetic code.
    pub fn code(self) -> &'static str {
        match self {
            Currency::Bdt => "BDT",
            Currency::Khr => "KHR",
            Currency::Usd => "USD",
        }
    }

    /// The sign a receipt shows.
    pub fn symbol(self) -> &'static str {
        match self {
            Currency::Bdt => "৳",
            Currency::Khr => "៛",
            Currency::Usd => "$",
        }
    }

    /// KHQR's currency (tag 53), when KHQR can carry it.
    pub fn khqr(self) -> Option<khqr::Currency> {
        match self {
            Currency::Khr => Some(khqr::Currency::Khr),
            Currency::Usd => Some(khqr::Currency::Usd),
            Currency::Bdt => None,
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, MoneyError> {
        match s.trim().to_ascii_uppercase().as_str() {
            "BDT" | "050" => Ok(Currency::Bdt),
            "KHR" | "116" => Ok(Currency::Khr),
            "USD" | "840" => Ok(Currency::Usd),
            _ => Err(MoneyError::UnknownCurrency(s.trim().to_owned())),
        }
    }
}

/// Why an amount is refused. Messages are shown to people as they are.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
pub enum MoneyError {
    #[error("Enter an amount first")]
    Empty,
    #[error("\"{0}\" is not an amount")]
    NotANumber(String),
    #[error("The amount must be more than zero")]
    NotPositive,
    #[error("{currency} takes at most {max} decimal places")]
    TooManyDecimals { currency: Currency, max: u32 },
    #[error("That amount is too large")]
    TooLarge,
    #[error("unknown currency \"{0}\" (BDT, KHR or USD)")]
    UnknownCurrency(String),
    #[error("cannot combine {0} with {1}")]
    CurrencyMismatch(Currency, Currency),
}

impl MoneyError {
    /// The reason a screen or the local API says it with (`field`: which
    /// input was read).
    pub fn reason(&self, field: &str) -> crate::reason::Reason {
        use crate::reason::{Reason, ReasonCode};
        match self {
            MoneyError::Empty | MoneyError::NotANumber(_) => {
                Reason::new(ReasonCode::AmountInvalid).with("field", field)
            }
            MoneyError::NotPositive => Reason::new(ReasonCode::AmountNotPositive),
            MoneyError::TooManyDecimals { currency, max } => {
                Reason::new(ReasonCode::AmountDecimals)
                    .with("currency", currency)
                    .with("max", max)
            }
            MoneyError::TooLarge => Reason::new(ReasonCode::AmountTooLarge),
            MoneyError::UnknownCurrency(c) => {
                Reason::new(ReasonCode::CurrencyUnknown).with("currency", c)
            }
            MoneyError::CurrencyMismatch(a, b) => Reason::new(ReasonCode::InvalidField)
                .with("field", field)
                .with("why", format!("{b}, not {a}")),
        }
    }
}

/// An exact amount of one currency, always at the currency's exponent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Amount {
    value: Decimal,
    currency: Currency,
}

/// The largest amount Till accepts (KHQR's tag 54 holds at most 13 characters).
const LIMIT: u64 = 10_000_000_000;

impl Amount {
    /// An exact value; refuses more decimals than the currency has, zero and negatives.
    pub fn new(value: Decimal, currency: Currency) -> Result<Amount, MoneyError> {
        let max = currency.exponent();
        let mut v = value.normalize();
        if v.scale() > max {
            return Err(MoneyError::TooManyDecimals { currency, max });
        }
        if v <= Decimal::ZERO {
            return Err(MoneyError::NotPositive);
        }
        if v >= Decimal::from(LIMIT) {
            return Err(MoneyError::TooLarge);
        }
        v.rescale(max);
        Ok(Amount { value: v, currency })
    }

    /// Zero of a currency (totals, refund sums).
    pub fn zero(currency: Currency) -> Amount {
        let mut v = Decimal::ZERO;
        v.rescale(currency.exponent());
        Amount { value: v, currency }
    }

    /// Parses what a cashier keys ("12.5", "40,000", "40 000") or what a wire
    /// carries ("12.50"). The decimal point is `.`; a comma or space only
    /// groups thousands, so "12,50" (a decimal comma) is refused rather than
    /// read as 1250.
    pub fn parse(text: &str, currency: Currency) -> Result<Amount, MoneyError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(MoneyError::Empty);
        }
        let not_a_number = || MoneyError::NotANumber(trimmed.to_owned());
        let (int, frac) = match trimmed.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (trimmed, None),
        };
        let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if frac.is_some_and(|f| !digits(f)) {
            return Err(not_a_number());
        }
        let separators: Vec<char> = int.chars().filter(|c| matches!(c, ',' | ' ')).collect();
        let int: String = match separators.first() {
            None if digits(int) => int.to_owned(),
            None => return Err(not_a_number()),
            Some(&sep) => {
                // One kind of separator, groups of three after a first group of one to three.
                let groups: Vec<&str> = int.split(sep).collect();
                let well_grouped = groups.iter().all(|g| digits(g))
                    && (1..=3).contains(&groups[0].len())
                    && groups[1..].iter().all(|g| g.len() == 3);
                if !well_grouped {
                    return Err(not_a_number());
                }
                groups.concat()
            }
        };
        let cleaned = match frac {
            Some(f) => format!("{int}.{f}"),
            None => int,
        };
        let value = Decimal::from_str(&cleaned).map_err(|_| not_a_number())?;
        Amount::new(value, currency)
    }

    pub fn value(&self) -> Decimal {
        self.value
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    pub fn is_zero(&self) -> bool {
        self.value.is_zero()
    }

    /// Text at the currency's exponent, as stored and as bKash wants it ("12.50", "40000").
    pub fn wire(&self) -> String {
        self.value.to_string()
    }

    /// Exact equality with a provider's figure: same currency, same value (scale ignored).
    pub fn matches(&self, value: Decimal, currency: Currency) -> bool {
        self.currency == currency && self.value.normalize() == value.normalize()
    }

    pub fn checked_add(&self, other: Amount) -> Result<Amount, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch(self.currency, other.currency));
        }
        Ok(Amount {
            value: self.value + other.value,
            currency: self.currency,
        })
    }

    pub fn checked_sub(&self, other: Amount) -> Result<Amount, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch(self.currency, other.currency));
        }
        Ok(Amount {
            value: self.value - other.value,
            currency: self.currency,
        })
    }

    /// Reads a stored value back (journal rows: zero allowed).
    pub fn from_stored(text: &str, currency: Currency) -> Result<Amount, MoneyError> {
        let mut value =
            Decimal::from_str(text).map_err(|_| MoneyError::NotANumber(text.to_owned()))?;
        if value.scale() > currency.exponent() && value.normalize().scale() > currency.exponent() {
            return Err(MoneyError::TooManyDecimals {
                currency,
                max: currency.exponent(),
            });
        }
        value.rescale(currency.exponent());
        Ok(Amount { value, currency })
    }

    /// For people: the currency's sign, thousands separators, its decimals ("৳ 1,250.00").
    pub fn display(&self) -> String {
        let text = self.value.abs().to_string();
        let (int, frac) = match text.split_once('.') {
            Some((i, f)) => (i.to_owned(), Some(f.to_owned())),
            None => (text.clone(), None),
        };
        let mut grouped = String::new();
        for (i, ch) in int.chars().enumerate() {
            if i > 0 && (int.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(ch);
        }
        let sign = if self.value.is_sign_negative() && !self.value.is_zero() {
            "-"
        } else {
            ""
        };
        match frac {
            Some(f) => format!("{sign}{} {grouped}.{f}", self.currency.symbol()),
            None => format!("{sign}{} {grouped}", self.currency.symbol()),
        }
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.value, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(text: &str, c: Currency) -> Amount {
        Amount::parse(text, c).unwrap()
    }

    #[test]
    fn exponents_are_applied() {
        assert_eq!(a("12.5", Currency::Usd).wire(), "12.50");
        assert_eq!(a("7", Currency::Bdt).wire(), "7.00");
        assert_eq!(a("40,000", Currency::Khr).wire(), "40000");
        assert_eq!(a("40000.00", Currency::Khr).wire(), "40000");
        assert_eq!(
            Amount::parse("1.234", Currency::Bdt),
            Err(MoneyError::TooManyDecimals {
                currency: Currency::Bdt,
                max: 2
            })
        );
        assert!(matches!(
            Amount::parse("100.5", Currency::Khr),
            Err(MoneyError::TooManyDecimals { .. })
        ));
    }

    /// L8: a comma is a thousands separator only where one can be; "12,50"
    /// (a decimal comma) is refused, never read as 1250.
    #[test]
    fn commas_only_group_thousands() {
        for bad in [
            "12,50", "1,2", "1,2345", ",500", "500,", "1,,000", "1,000,00", "12.5,0", "12 50",
        ] {
            assert!(
                matches!(
                    Amount::parse(bad, Currency::Usd),
                    Err(MoneyError::NotANumber(_))
                ),
                "{bad}: {:?}",
                Amount::parse(bad, Currency::Usd)
            );
        }
        assert_eq!(a("1,250", Currency::Bdt).wire(), "1250.00");
        assert_eq!(a("1,234,567.50", Currency::Bdt).wire(), "1234567.50");
        assert_eq!(a("40 000", Currency::Khr).wire(), "40000");
        assert_eq!(a(" 12.50 ", Currency::Usd).wire(), "12.50");
    }

    #[test]
    fn refuses_nonsense() {
        assert_eq!(Amount::parse(" ", Currency::Khr), Err(MoneyError::Empty));
        assert_eq!(
            Amount::parse("0.00", Currency::Usd),
            Err(MoneyError::NotPositive)
        );
        for bad in ["-5", "1e3", "1.2.3", "NaN", "١٢"] {
            assert!(
                matches!(
                    Amount::parse(bad, Currency::Usd),
                    Err(MoneyError::NotANumber(_))
                ),
                "{bad}"
            );
        }
        assert_eq!(
            Amount::parse("10000000000", Currency::Khr),
            Err(MoneyError::TooLarge)
        );
    }

    #[test]
    fn matching_is_exact() {
        let x = a("12.50", Currency::Usd);
        assert!(x.matches(Decimal::from_str("12.5").unwrap(), Currency::Usd));
        assert!(!x.matches(Decimal::from_str("12.51").unwrap(), Currency::Usd));
        assert!(!x.matches(Decimal::from_str("12.50").unwrap(), Currency::Khr));
    }

    #[test]
    fn sums_stay_exact() {
        let mut total = Amount::zero(Currency::Bdt);
        for _ in 0..10 {
            total = total.checked_add(a("0.10", Currency::Bdt)).unwrap();
        }
        assert_eq!(total.wire(), "1.00");
        assert!(total.checked_add(a("1", Currency::Usd)).is_err());
        assert_eq!(
            total.checked_sub(a("0.30", Currency::Bdt)).unwrap().wire(),
            "0.70"
        );
    }

    #[test]
    fn displays_like_a_receipt() {
        assert_eq!(a("1250", Currency::Usd).display(), "$ 1,250.00");
        assert_eq!(a("40000", Currency::Khr).display(), "៛ 40,000");
        assert_eq!(a("1234567.5", Currency::Bdt).display(), "৳ 1,234,567.50");
        assert_eq!(a("999", Currency::Khr).display(), "៛ 999");
    }

    #[test]
    fn stored_values_round_trip() {
        let x = a("12.5", Currency::Usd);
        assert_eq!(Amount::from_stored(&x.wire(), Currency::Usd).unwrap(), x);
        assert_eq!(
            Amount::from_stored("0", Currency::Bdt).unwrap().wire(),
            "0.00"
        );
    }
}
