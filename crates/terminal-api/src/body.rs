//! Request bodies read field by field, so each refusal names its field: a
//! body that is not a JSON object is `malformed_json`, a field that is
//! missing, of the wrong type or unknown (a typo such as `ammount`) is
//! `invalid_field`. Amounts are read from their text — a JSON string
//! ("120.50") or a JSON number (120.50) — never through a float.

use crate::error::ApiError;
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use till_core::reason::{Reason, ReasonCode};
use till_core::{Amount, Currency};

/// A JSON object's fields, each as its raw text.
pub struct Fields {
    fields: BTreeMap<String, Box<RawValue>>,
}

impl Fields {
    /// Reads `bytes` (an empty body is an empty object when `empty_ok`) and
    /// refuses a field not in `known`.
    pub fn read(bytes: &[u8], known: &[&str], empty_ok: bool) -> Result<Fields, ApiError> {
        if empty_ok && bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Fields {
                fields: BTreeMap::new(),
            });
        }
        let malformed =
            |why: String| ApiError::new(Reason::new(ReasonCode::MalformedJson).with("why", why));
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| malformed(e.to_string()))?;
        if !value.is_object() {
            return Err(malformed("the body must be a JSON object".into()));
        }
        let fields: BTreeMap<String, Box<RawValue>> =
            serde_json::from_slice(bytes).map_err(|e| malformed(e.to_string()))?;
        if let Some(unknown) = fields.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(ApiError::field(unknown, "not a field of this request"));
        }
        Ok(Fields { fields })
    }

    fn raw(&self, name: &str) -> Option<&str> {
        self.fields
            .get(name)
            .map(|r| r.get())
            .filter(|t| *t != "null")
    }

    /// A string field (`None`: absent or null).
    pub fn text(&self, name: &str) -> Result<Option<String>, ApiError> {
        self.raw(name)
            .map(|t| {
                serde_json::from_str::<String>(t).map_err(|_| ApiError::field(name, "a string"))
            })
            .transpose()
    }

    pub fn required_text(&self, name: &str) -> Result<String, ApiError> {
        self.text(name)?
            .ok_or_else(|| ApiError::field(name, "required"))
    }

    /// An amount of `currency`: decimal text or a plain JSON number, exact.
    pub fn amount(&self, name: &str, currency: Currency) -> Result<Option<Amount>, ApiError> {
        let Some(raw) = self.raw(name) else {
            return Ok(None);
        };
        let text = if raw.starts_with('"') {
            serde_json::from_str::<String>(raw).map_err(|_| ApiError::field(name, "a string"))?
        } else if raw.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
            raw.to_owned()
        } else {
            return Err(ApiError::new(
                Reason::new(ReasonCode::AmountInvalid).with("field", name),
            ));
        };
        let text = text.trim();
        if text.starts_with('-') {
            return Err(ApiError::code(ReasonCode::AmountNotPositive));
        }
        // Exponents ("1e3") are a float's spelling, not an amount's.
        if text.contains(['e', 'E']) {
            return Err(ApiError::new(
                Reason::new(ReasonCode::AmountInvalid).with("field", name),
            ));
        }
        Amount::parse(text, currency)
            .map(Some)
            .map_err(|e| ApiError::new(e.reason(name)))
    }
}
