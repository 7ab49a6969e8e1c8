//! Transaction amounts (tag 54): the canonical spelling our encoder writes
//! (spec section 6) and the strict reading used by [`crate::Decoded::amount`].
//!
//! Amounts are `rust_decimal::Decimal` end to end; no `f64` is involved.

use std::str::FromStr;

use rust_decimal::Decimal;

use crate::error::{codes, Field, FieldError, Rule};
use crate::Currency;

/// Longest amount text the SDK accepts.
pub const MAX_AMOUNT_LEN: usize = 13;

fn invalid(detail: impl Into<String>) -> FieldError {
    FieldError::new(
        Field::TransactionAmount,
        Rule::InvalidAmount {
            detail: detail.into(),
        },
        codes::TRANSACTION_AMOUNT_INVALID,
    )
}

/// Spells `amount` the way tag 54 carries it, or `Ok(None)` for zero (a
/// static code).
///
/// * KHR: whole riel only, digits without leading zeros (`2000`).
/// * USD: at most two decimals; with a non-zero fraction exactly two
///   decimals (`2.50`, `0.99`), otherwise integer digits only (`5`, `20`).
/// * Negative amounts and texts longer than 13 characters are refused
///   (SDK error 4), e.g. `99999999999.99`.
pub fn format_amount(amount: Decimal, currency: Currency) -> Result<Option<String>, FieldError> {
    if amount.is_zero() {
        return Ok(None);
    }
    if amount.is_sign_negative() {
        return Err(invalid(format!("{amount} is negative")));
    }
    let text = match currency {
        Currency::Khr => {
            if !amount.fract().is_zero() {
                return Err(invalid(format!("{amount} is not a whole number of riel")));
            }
            amount.trunc().normalize().to_string()
        }
        Currency::Usd => {
            let n = amount.normalize();
            if n.scale() > 2 {
                return Err(invalid(format!("{amount} has more than 2 decimals")));
            }
            if n.fract().is_zero() {
                n.trunc().to_string()
            } else {
                let mut r = n;
                r.rescale(2);
                r.to_string()
            }
        }
    };
    if text.len() > MAX_AMOUNT_LEN {
        return Err(invalid(format!("{text:?} is longer than 13 characters")));
    }
    Ok(Some(text))
}

/// Reads a tag-54 text strictly: `^\d+(\.\d{1,2})?$` for USD (or unknown
/// currency) and `^\d+$` for KHR. `None` when it does not match.
pub fn parse_amount(text: &str, currency: Option<Currency>) -> Option<Decimal> {
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (text, None),
    };
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if let Some(f) = frac {
        if currency == Some(Currency::Khr)
            || f.is_empty()
            || f.len() > 2
            || !f.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
    }
    Decimal::from_str(text).ok()
}

/// Parses a decimal literal the way a JSON number or a JavaScript numeric
/// string spells it (`12`, `2.5`, `.5`, `1e3`, optional sign, surrounding
/// whitespace), exactly. `None` when it is not such a literal or is out of
/// `Decimal`'s range.
pub fn parse_decimal_literal(s: &str) -> Option<Decimal> {
    let t = s.trim();
    let (mantissa, exp) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let (neg, body) = match mantissa.as_bytes().first() {
        Some(b'-') => (true, &mantissa[1..]),
        Some(b'+') => (false, &mantissa[1..]),
        _ => (false, mantissa),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = format!(
        "{}{}",
        if int.is_empty() { "0" } else { int },
        if frac.is_empty() {
            String::new()
        } else {
            format!(".{frac}")
        }
    );
    let mut value = Decimal::from_str(&digits).ok()?;
    if let Some(e) = exp {
        let (eneg, edigits) = match e.as_bytes().first() {
            Some(b'-') => (true, &e[1..]),
            Some(b'+') => (false, &e[1..]),
            _ => (false, e),
        };
        if edigits.is_empty() || !edigits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n: u32 = edigits.parse().ok().filter(|n| *n <= 60)?;
        let ten = Decimal::from(10u32);
        let was_zero = value.is_zero();
        for _ in 0..n {
            value = if eneg {
                value.checked_div(ten)?
            } else {
                value.checked_mul(ten)?
            };
        }
        if value.is_zero() && !was_zero {
            return None; // underflow: not representable exactly
        }
    }
    Some(if neg { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn canonical_spellings() {
        assert_eq!(
            format_amount(d("2.5"), Currency::Usd).unwrap().unwrap(),
            "2.50"
        );
        assert_eq!(
            format_amount(d("0.99"), Currency::Usd).unwrap().unwrap(),
            "0.99"
        );
        assert_eq!(
            format_amount(d("20"), Currency::Usd).unwrap().unwrap(),
            "20"
        );
        assert_eq!(
            format_amount(d("5.00"), Currency::Usd).unwrap().unwrap(),
            "5"
        );
        assert_eq!(
            format_amount(d("1.10"), Currency::Usd).unwrap().unwrap(),
            "1.10"
        );
        assert_eq!(
            format_amount(d("2000.00"), Currency::Khr).unwrap().unwrap(),
            "2000"
        );
        assert_eq!(
            format_amount(d("15000"), Currency::Khr).unwrap().unwrap(),
            "15000"
        );
        assert_eq!(
            format_amount(d("9999999999.99"), Currency::Usd)
                .unwrap()
                .unwrap(),
            "9999999999.99"
        );
        assert_eq!(format_amount(d("0"), Currency::Usd).unwrap(), None);
        assert_eq!(format_amount(d("0.00"), Currency::Khr).unwrap(), None);
    }

    #[test]
    fn refusals() {
        for (a, c) in [
            ("100.5", Currency::Khr),
            ("1.234", Currency::Usd),
            ("-5", Currency::Usd),
            ("99999999999.99", Currency::Usd),
            ("10000000000000", Currency::Khr),
        ] {
            let e = format_amount(d(a), c).unwrap_err();
            assert_eq!(e.code, 4, "{a}");
        }
    }

    #[test]
    fn strict_parse() {
        assert_eq!(parse_amount("2.50", Some(Currency::Usd)), Some(d("2.50")));
        assert_eq!(parse_amount("2.50", Some(Currency::Khr)), None);
        assert_eq!(parse_amount("1,000", None), None);
        assert_eq!(parse_amount("1e+21", None), None);
        assert_eq!(parse_amount("2.", None), None);
        assert_eq!(parse_amount("2.123", None), None);
        assert_eq!(parse_amount("010", Some(Currency::Khr)), Some(d("10")));
    }

    #[test]
    fn literals() {
        assert_eq!(parse_decimal_literal("0.99"), Some(d("0.99")));
        assert_eq!(parse_decimal_literal(" 2000.00 "), Some(d("2000.00")));
        assert_eq!(parse_decimal_literal("1e3"), Some(d("1000")));
        assert_eq!(parse_decimal_literal("25E-1"), Some(d("2.5")));
        assert_eq!(parse_decimal_literal(".5"), Some(d("0.5")));
        assert_eq!(parse_decimal_literal("-1"), Some(d("-1")));
        assert_eq!(parse_decimal_literal("abc"), None);
        assert_eq!(parse_decimal_literal("0x10"), None);
        assert_eq!(parse_decimal_literal(""), None);
        assert_eq!(parse_decimal_literal("1e999"), None);
    }
}
