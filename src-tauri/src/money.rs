//! Amounts as the cashier keys them: exact decimals, never floats.

use khqr::Currency;
use rust_decimal::Decimal;
use std::str::FromStr;

/// Why a keyed amount cannot be charged. The messages are shown to the cashier as they are.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AmountError {
    #[error("Enter an amount first")]
    Empty,
    #[error("\"{0}\" is not an amount")]
    NotANumber(String),
    #[error("The amount must be more than zero")]
    NotPositive,
    #[error("{currency} takes at most {max} decimal places")]
    TooManyDecimals { currency: &'static str, max: u32 },
    #[error("That amount is too large")]
    TooLarge,
}

/// Decimal places a currency is keyed and charged in: KHQR carries riel as whole numbers and
/// dollars with at most two decimals (see `shared/spec/khqr.md` §6).
pub fn exponent(currency: Currency) -> u32 {
    match currency {
        Currency::Khr => 0,
        Currency::Usd => 2,
    }
}

pub fn parse_currency(s: &str) -> Option<Currency> {
    match s.trim().to_ascii_uppercase().as_str() {
        "KHR" | "116" => Some(Currency::Khr),
        "USD" | "840" => Some(Currency::Usd),
        _ => None,
    }
}

/// Parse a keyed amount ("12.5", "40,000") into an exact decimal carrying the currency's
/// exponent ("12.50").
pub fn parse_amount(text: &str, currency: Currency) -> Result<Decimal, AmountError> {
    let cleaned: String = text
        .trim()
        .chars()
        .filter(|c| *c != ',' && *c != ' ')
        .collect();
    if cleaned.is_empty() {
        return Err(AmountError::Empty);
    }
    if !cleaned.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(AmountError::NotANumber(text.trim().to_string()));
    }
    let mut value =
        Decimal::from_str(&cleaned).map_err(|_| AmountError::NotANumber(text.trim().into()))?;
    let max = exponent(currency);
    value = value.normalize();
    if value.scale() > max {
        return Err(AmountError::TooManyDecimals {
            currency: currency.alpha(),
            max,
        });
    }
    if value <= Decimal::ZERO {
        return Err(AmountError::NotPositive);
    }
    // KHQR's tag 54 holds at most 13 characters.
    if value >= Decimal::from(10_000_000_000u64) {
        return Err(AmountError::TooLarge);
    }
    value.rescale(max);
    Ok(value)
}

/// Format for people: thousands separators and the currency's decimals ("৳ 1,250.00" style).
pub fn display(value: Decimal, currency: Currency) -> String {
    let mut v = value;
    v.rescale(exponent(currency));
    let text = v.to_string();
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i.to_string(), Some(f.to_string())),
        None => (text.clone(), None),
    };
    let mut grouped = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    let symbol = match currency {
        Currency::Khr => "៛",
        Currency::Usd => "$",
    };
    match frac {
        Some(f) => format!("{symbol} {grouped}.{f}"),
        None => format!("{symbol} {grouped}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usd_gets_two_decimals() {
        assert_eq!(
            parse_amount("12.5", Currency::Usd).unwrap().to_string(),
            "12.50"
        );
        assert_eq!(
            parse_amount("7", Currency::Usd).unwrap().to_string(),
            "7.00"
        );
        assert_eq!(
            parse_amount("1.234", Currency::Usd),
            Err(AmountError::TooManyDecimals {
                currency: "USD",
                max: 2
            })
        );
    }

    #[test]
    fn riel_is_whole() {
        assert_eq!(
            parse_amount("40,000", Currency::Khr).unwrap().to_string(),
            "40000"
        );
        assert_eq!(
            parse_amount("40000.00", Currency::Khr).unwrap().to_string(),
            "40000"
        );
        assert!(matches!(
            parse_amount("100.5", Currency::Khr),
            Err(AmountError::TooManyDecimals { .. })
        ));
    }

    #[test]
    fn refuses_nonsense() {
        assert_eq!(parse_amount("", Currency::Khr), Err(AmountError::Empty));
        assert_eq!(
            parse_amount("0", Currency::Khr),
            Err(AmountError::NotPositive)
        );
        assert!(matches!(
            parse_amount("-5", Currency::Khr),
            Err(AmountError::NotANumber(_))
        ));
        assert!(matches!(
            parse_amount("1e3", Currency::Usd),
            Err(AmountError::NotANumber(_))
        ));
        assert_eq!(
            parse_amount("10000000000", Currency::Khr),
            Err(AmountError::TooLarge)
        );
    }

    #[test]
    fn displays_like_a_receipt() {
        let v = parse_amount("1250", Currency::Usd).unwrap();
        assert_eq!(display(v, Currency::Usd), "$ 1,250.00");
        let v = parse_amount("40000", Currency::Khr).unwrap();
        assert_eq!(display(v, Currency::Khr), "៛ 40,000");
        let v = parse_amount("999", Currency::Khr).unwrap();
        assert_eq!(display(v, Currency::Khr), "៛ 999");
    }
}
