//! What the fuzz targets share: an oracle for "this decimal is exactly that
//! text". Amounts are the one thing a parser must never round (money is never
//! a float, and a provider's figure is compared to the last unit), so each
//! target that reads an amount checks the parsed value against the text it
//! came from with this independent reading of the digits, not with the
//! `rust_decimal` parser the code under test uses.

use rust_decimal::Decimal;

/// A number as sign, significant digits (no leading or trailing zeros) and
/// the power of ten of the last digit; zero is `(false, "", 0)`.
#[derive(Debug, PartialEq, Eq)]
pub struct Digits {
    pub negative: bool,
    pub digits: String,
    pub exponent: i64,
}

/// Reads `[+-]digits[.digits][(e|E)[+-]digits]`; `None` for anything else
/// (or an exponent too large for an `i64`), in which case nothing is checked.
pub fn digits_of(text: &str) -> Option<Digits> {
    let t = text.trim();
    let (negative, rest) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let (mantissa, exp) = match rest.find(['e', 'E']) {
        Some(i) => (&rest[..i], rest[i + 1..].parse::<i64>().ok()?),
        None => (rest, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let all = format!("{int}{frac}");
    let exponent = exp.checked_sub(i64::try_from(frac.len()).ok()?)?;
    Some(normalise(negative, &all, exponent))
}

fn normalise(negative: bool, digits: &str, exponent: i64) -> Digits {
    let lead = digits.trim_start_matches('0');
    let trimmed = lead.trim_end_matches('0');
    if trimmed.is_empty() {
        return Digits {
            negative: false,
            digits: String::new(),
            exponent: 0,
        };
    }
    let dropped = (lead.len() - trimmed.len()) as i64;
    Digits {
        negative,
        digits: trimmed.to_owned(),
        exponent: exponent.saturating_add(dropped),
    }
}

/// The digits of a parsed decimal.
pub fn digits_of_decimal(d: Decimal) -> Digits {
    let text = d.to_string();
    digits_of(&text).expect("a Decimal prints as digits")
}

/// Panics (a finding) when `parsed` is not exactly the number `text` writes.
/// Texts the oracle does not read are not checked.
pub fn assert_exact(text: &str, parsed: Decimal) {
    if let Some(want) = digits_of(text) {
        assert_eq!(
            digits_of_decimal(parsed),
            want,
            "{text:?} was read as {parsed}: an amount must never be rounded"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn the_oracle_reads_digits() {
        let d = |s: &str| digits_of(s).unwrap();
        assert_eq!(d("40000.0"), d("4e4"));
        assert_eq!(d("0.30"), d("3E-1"));
        assert_eq!(d("-0"), d("0.000"));
        assert_ne!(d("12.5"), d("125"));
        assert_eq!(digits_of("1e"), None);
        assert_eq!(digits_of("."), None);
        assert_exact("250.00", Decimal::from_str("250").unwrap());
    }

    #[test]
    #[should_panic(expected = "never be rounded")]
    fn a_rounded_amount_is_a_finding() {
        assert_exact("0.1", Decimal::from_str("0.10000001").unwrap());
    }
}
