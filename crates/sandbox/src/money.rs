//! Money: exact decimals, plus the text a client sent.
//!
//! bKash echoes the amount text it was given (`"10"` stays `"10"`), accepts JSON
//! numbers in requests, and the v2 refund API normalises to two decimals. Bakong
//! writes amounts as JSON numbers. Floats never appear: a JSON number is read
//! from its literal text through `serde_json::value::RawValue`.

use rust_decimal::Decimal;
use serde_json::value::RawValue;
use std::str::FromStr;

/// An amount as received: its text (for echoing) and its exact value.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Amount {
    pub text: String,
    pub value: Decimal,
}

/// Why an amount was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("amount is not a number")]
    NotANumber,
    #[error("amount must be positive")]
    NotPositive,
    #[error("amount has more than {0} decimals")]
    TooPrecise(u32),
}

/// The literal text of a JSON string or number (`"250.00"` → `250.00`, `250` → `250`).
/// `None` for null, empty strings and other JSON types.
pub fn raw_text(raw: &RawValue) -> Option<String> {
    let s = raw.get().trim();
    if s.starts_with('"') {
        let inner: String = serde_json::from_str(s).ok()?;
        let inner = inner.trim().to_string();
        (!inner.is_empty()).then_some(inner)
    } else if s.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
        Some(s.to_string())
    } else {
        None
    }
}

/// Parse an amount with at most `max_scale` decimals that must be positive.
pub fn parse_positive(text: &str, max_scale: u32) -> Result<Amount, AmountError> {
    let t = text.trim();
    if t.is_empty() || t.contains(['e', 'E']) {
        return Err(AmountError::NotANumber);
    }
    let value = Decimal::from_str(t).map_err(|_| AmountError::NotANumber)?;
    if value <= Decimal::ZERO {
        return Err(AmountError::NotPositive);
    }
    if value.normalize().scale() > max_scale {
        return Err(AmountError::TooPrecise(max_scale));
    }
    Ok(Amount {
        text: t.to_string(),
        value,
    })
}

/// Two-decimal text (`1` → `1.00`), as the v2 refund API and ledger write it.
pub fn two_dp(value: Decimal) -> String {
    let mut v = value.round_dp(2);
    v.rescale(2);
    v.to_string()
}

/// A decimal as a JSON number literal. With `float_style`, integers get a
/// `.0` fraction the way Bakong's Java backend serialises doubles.
pub fn json_number(value: Decimal, float_style: bool) -> Box<RawValue> {
    let n = value.normalize();
    let mut text = n.to_string();
    if float_style && n.scale() == 0 {
        text.push_str(".0");
    }
    RawValue::from_string(text).expect("a decimal is a valid JSON number")
}

/// Epoch milliseconds as a JSON number, optionally with a `.0` fraction.
pub fn json_ms(ms: u64, float_style: bool) -> Box<RawValue> {
    let text = if float_style {
        format!("{ms}.0")
    } else {
        ms.to_string()
    };
    RawValue::from_string(text).expect("an integer is a valid JSON number")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_text_reads_strings_and_numbers() {
        let r: Box<RawValue> = serde_json::from_str("250").unwrap();
        assert_eq!(raw_text(&r).as_deref(), Some("250"));
        let r: Box<RawValue> = serde_json::from_str("\"599.00\"").unwrap();
        assert_eq!(raw_text(&r).as_deref(), Some("599.00"));
        let r: Box<RawValue> = serde_json::from_str("100.0").unwrap();
        assert_eq!(raw_text(&r).as_deref(), Some("100.0"));
        let r: Box<RawValue> = serde_json::from_str("\"\"").unwrap();
        assert_eq!(raw_text(&r), None);
    }

    #[test]
    fn amounts_validate() {
        assert_eq!(parse_positive("10", 2).unwrap().text, "10");
        assert_eq!(
            parse_positive("100.0", 2).unwrap().value,
            Decimal::new(100, 0)
        );
        assert!(matches!(
            parse_positive("1.234", 2),
            Err(AmountError::TooPrecise(2))
        ));
        assert!(matches!(
            parse_positive("0", 2),
            Err(AmountError::NotPositive)
        ));
        assert!(matches!(
            parse_positive("abc", 2),
            Err(AmountError::NotANumber)
        ));
        assert_eq!(two_dp(Decimal::new(1, 0)), "1.00");
        assert_eq!(two_dp(Decimal::new(2550, 2)), "25.50");
        assert_eq!(json_number(Decimal::new(250, 2), true).get(), "2.5");
        assert_eq!(json_number(Decimal::new(1000, 0), true).get(), "1000.0");
    }
}
