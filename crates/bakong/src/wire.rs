//! JSON shapes of the Bakong Open API (`bakong-api.md` §2, §5, §6), as the
//! terminal reads them.
//!
//! Every answer is the envelope `{responseCode, responseMessage, errorCode,
//! data}`; keys are matched by name and unknown keys are ignored. Amounts and
//! dates are JSON numbers: they are kept as their literal text
//! ([`RawValue`]) and converted with [`decimal_from_json`], never through
//! `f64`, so `0.3`, `2.5` and `40000.0` stay exactly what was written.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The response envelope. `data` stays raw until the caller knows which
/// shape to expect (transaction object, bulk array, token object, `null`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    /// 0 = success, 1 = failure.
    pub response_code: Option<i64>,
    #[serde(default)]
    pub response_message: Option<String>,
    /// `null` on success, a code of the §10 table otherwise.
    #[serde(default)]
    pub error_code: Option<i64>,
    /// `None` only when the key is absent; `data: null` is kept as the raw
    /// text `null`, because the two mean different things (§6: "nothing
    /// found" versus a broken answer).
    #[serde(default, deserialize_with = "raw_even_if_null")]
    pub data: Option<Box<RawValue>>,
}

fn raw_even_if_null<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Box<RawValue>>, D::Error> {
    Box::<RawValue>::deserialize(d).map(Some)
}

impl Envelope {
    /// `data`, unless absent or JSON `null`.
    pub fn data(&self) -> Option<&RawValue> {
        self.data.as_deref().filter(|d| d.get().trim() != "null")
    }

    /// Whether the answer has a `data` key at all (`null` included).
    pub fn has_data_key(&self) -> bool {
        self.data.is_some()
    }
}

/// The transaction object of a check answer (§5.1). Only the fields the
/// terminal relies on are required; the newer nullable ones are optional.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireTransaction {
    pub hash: String,
    pub from_account_id: String,
    pub to_account_id: String,
    pub currency: String,
    /// A JSON number (a numeric string is tolerated), read from its text.
    pub amount: Box<RawValue>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub created_date_ms: Option<Box<RawValue>>,
    #[serde(default)]
    pub acknowledged_date_ms: Option<Box<RawValue>>,
    #[serde(default)]
    pub tracking_status: Option<String>,
    #[serde(default)]
    pub receiver_bank: Option<String>,
    #[serde(default)]
    pub receiver_bank_account: Option<String>,
    #[serde(default)]
    pub instruction_ref: Option<String>,
    #[serde(default)]
    pub external_ref: Option<String>,
}

/// One element of the bulk answer's `data` array (§6). The transaction
/// object sits under `data` or `transaction` depending on the source
/// (open question Q2), or its fields sit on the item itself; all three are
/// accepted.
#[derive(Debug, Deserialize)]
pub struct WireBulkItem {
    pub md5: String,
    /// `SUCCESS`, `NOT_FOUND`, `FAILED`, `STATIC_QR`, `SERVICE_FAILED`, ...
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub data: Option<Box<RawValue>>,
    #[serde(default)]
    pub transaction: Option<Box<RawValue>>,
    /// Present when the transaction's fields are on the item itself.
    #[serde(default)]
    pub hash: Option<Box<RawValue>>,
}

impl WireBulkItem {
    /// The transaction object, under whichever key carries a non-null value.
    pub fn transaction(&self) -> Option<&RawValue> {
        [self.data.as_deref(), self.transaction.as_deref()]
            .into_iter()
            .flatten()
            .find(|v| v.get().trim() != "null")
    }

    /// Whether the item itself carries the transaction (a `hash` beside `md5`).
    pub fn is_inline_transaction(&self) -> bool {
        self.hash
            .as_deref()
            .is_some_and(|h| h.get().trim() != "null")
    }
}

/// `data` of a `renew_token` answer.
#[derive(Deserialize)]
pub struct WireToken {
    pub token: String,
}

/// Body of `check_transaction_by_md5`.
#[derive(Debug, Serialize)]
pub struct Md5Request<'a> {
    pub md5: &'a str,
}

/// Body of `renew_token`.
#[derive(Debug, Serialize)]
pub struct RenewRequest<'a> {
    pub email: &'a str,
}

/// Endpoint paths, relative to the base URL.
pub mod path {
    pub const CHECK_BY_MD5: &str = "v1/check_transaction_by_md5";
    pub const CHECK_BY_MD5_LIST: &str = "v1/check_transaction_by_md5_list";
    pub const RENEW_TOKEN: &str = "v1/renew_token";
}

/// Why a JSON value is not a usable decimal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a decimal number")]
pub struct NotADecimal(pub String);

/// The exact decimal written in a JSON number (or numeric string): `2.5`,
/// `40000.0`, `0.30000000000000004`, `1.5e3`. Parsed from the literal text;
/// no float is involved at any point, and a number a `Decimal` cannot hold
/// exactly (too many digits, too large or too small) is refused, never rounded.
pub fn decimal_from_json(raw: &RawValue) -> Result<Decimal, NotADecimal> {
    let text = raw.get().trim();
    let literal = if text.starts_with('"') {
        serde_json::from_str::<String>(text).map_err(|_| NotADecimal(text.to_string()))?
    } else {
        text.to_string()
    };
    let literal = literal.trim();
    let ok_chars = !literal.is_empty()
        && literal
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'));
    if !ok_chars {
        return Err(NotADecimal(literal.to_string()));
    }
    // `from_str` and `from_scientific` round what does not fit; `from_str_exact`
    // refuses it, so an exponent is first written out as plain digits.
    without_exponent(literal)
        .and_then(|plain| Decimal::from_str_exact(&plain).ok())
        .ok_or_else(|| NotADecimal(literal.to_string()))
}

/// `literal` with its exponent written out (`1.5e3` → `1500`, `25e-1` →
/// `2.5`); `None` when that is not a number or could not fit a `Decimal`
/// (which holds 29 digits and 28 decimals), so no huge string is ever built.
fn without_exponent(literal: &str) -> Option<String> {
    let Some(at) = literal.find(['e', 'E']) else {
        return Some(literal.to_owned());
    };
    let exponent: i64 = literal[at + 1..].parse().ok()?;
    let mantissa = &literal[..at];
    let (sign, unsigned) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa.strip_prefix('+').unwrap_or(mantissa)),
    };
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    // The value is digits × 10^shift.
    let joined = format!("{int}{frac}");
    let digits = joined.trim_start_matches('0');
    if digits.is_empty() {
        return Some("0".into());
    }
    let shift = exponent.checked_sub(i64::try_from(frac.len()).ok()?)?;
    let len = i64::try_from(digits.len()).ok()?;
    if shift >= 0 {
        // More than 29 digits before the point never fit.
        if len + shift > 29 {
            return None;
        }
        return Some(format!("{sign}{digits}{}", "0".repeat(shift as usize)));
    }
    let decimals = -shift;
    if decimals > 28 {
        return None;
    }
    Some(if decimals >= len {
        format!("{sign}0.{}{digits}", "0".repeat((decimals - len) as usize))
    } else {
        let point = (len - decimals) as usize;
        format!("{sign}{}.{}", &digits[..point], &digits[point..])
    })
}

/// Epoch milliseconds from a JSON number that may carry a fraction
/// (`1735689660123.0`); the fraction is dropped. `None` for `null`.
pub fn ms_from_json(raw: Option<&RawValue>) -> Result<Option<i64>, NotADecimal> {
    let Some(raw) = raw.filter(|r| r.get().trim() != "null") else {
        return Ok(None);
    };
    let d = decimal_from_json(raw)?;
    use rust_decimal::prelude::ToPrimitive;
    d.trunc()
        .to_i64()
        .map(Some)
        .ok_or_else(|| NotADecimal(raw.get().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn raw(s: &str) -> Box<RawValue> {
        RawValue::from_string(s.to_string()).unwrap()
    }

    #[test]
    fn decimals_are_exact() {
        let cases = [
            ("2.5", "2.5"),
            ("40000", "40000"),
            ("40000.0", "40000.0"),
            ("0.1", "0.1"),
            ("0.30000000000000004", "0.30000000000000004"),
            ("12345678901234567.89", "12345678901234567.89"),
            ("\"7.99\"", "7.99"),
            ("1.5e3", "1500"),
        ];
        for (json, want) in cases {
            let d = decimal_from_json(&raw(json)).unwrap();
            assert_eq!(d, Decimal::from_str(want).unwrap(), "{json}");
        }
        assert_eq!(
            decimal_from_json(&raw("40000.0")).unwrap().to_string(),
            "40000.0"
        );
        for bad in ["null", "true", "\"\"", "\"abc\"", "{}", "[1]"] {
            assert!(decimal_from_json(&raw(bad)).is_err(), "{bad}");
        }
    }

    /// Found by `fuzz/fuzz_targets/bakong_answer.rs` (its crash input is a seed
    /// there): more digits than a `Decimal` holds were read rounded, in plain
    /// and in exponent form, so a check could report a paid amount Bakong
    /// never wrote. Such a number is refused (a protocol error: asked again).
    #[test]
    fn amounts_are_never_rounded() {
        for bad in [
            "80002.3333333333333333333333333333333333333333333333330",
            "40000.00000000000000000000000001",
            "4.000000000000000000000000000001e4",
            "1e-40",
            "1e40",
        ] {
            assert!(decimal_from_json(&raw(bad)).is_err(), "{bad}");
        }
        for (json, want) in [
            ("1.5e3", "1500"),
            ("25e-1", "2.5"),
            ("4.0E+4", "40000"),
            ("-2e0", "-2"),
            ("0e999", "0"),
            (
                "0.0000000000000000000000000001",
                "0.0000000000000000000000000001",
            ),
        ] {
            let d = decimal_from_json(&raw(json)).unwrap();
            assert_eq!(d, Decimal::from_str(want).unwrap(), "{json}");
        }
    }

    #[test]
    fn dates_with_fractions() {
        assert_eq!(
            ms_from_json(Some(&raw("1735689660123.0"))).unwrap(),
            Some(1_735_689_660_123)
        );
        assert_eq!(
            ms_from_json(Some(&raw("1735689660123"))).unwrap(),
            Some(1_735_689_660_123)
        );
        assert_eq!(ms_from_json(Some(&raw("null"))).unwrap(), None);
        assert_eq!(ms_from_json(None).unwrap(), None);
        assert!(ms_from_json(Some(&raw("\"soon\""))).is_err());
    }

    #[test]
    fn envelope_parses_in_any_key_order_with_extras() {
        let env: Envelope = serde_json::from_str(
            r#"{"data":{"x":1},"errorCode":null,"extra":[1,2],"responseMessage":"ok","responseCode":0}"#,
        )
        .unwrap();
        assert_eq!(env.response_code, Some(0));
        assert!(env.data().is_some());
        let env: Envelope =
            serde_json::from_str(r#"{"responseCode":0,"errorCode":null,"data":null}"#).unwrap();
        assert!(env.data().is_none());
    }

    #[test]
    fn bulk_item_accepts_either_key() {
        let a: WireBulkItem =
            serde_json::from_str(r#"{"md5":"a","status":"SUCCESS","data":{"hash":"h"}}"#).unwrap();
        let b: WireBulkItem = serde_json::from_str(
            r#"{"md5":"b","status":"SUCCESS","data":null,"transaction":{"hash":"h"}}"#,
        )
        .unwrap();
        assert!(a.transaction().is_some());
        assert!(b.transaction().is_some());
    }
}
