//! SDK-shaped JSON inputs: the exact arguments of the official SDK's
//! `new IndividualInfo(bakongAccountID, merchantName, merchantCity, optional)` /
//! `new MerchantInfo(…, merchantID, acquiringBank, optional)`, as the test
//! vectors' `inputs` and the `khqr encode` command read them.
//!
//! ```json
//! {"kind":"individual","bakongAccountID":"dara_kim@wing","merchantName":"Dara Kim",
//!  "merchantCity":"Siem Reap","optional":{"currency":840,"amount":2.5,
//!  "billNumber":"INV-0001","expirationTimestamp":1735690200000}}
//! ```
//!
//! The SDK's input rules are applied (spec section 7, step 1): optional
//! entries that are `null`, `""`, `false` or numerically `0` are dropped
//! (`currency: 0` → KHR, `merchantCategoryCode: 0` → 5999, `amount: 0` →
//! static); an empty city becomes `Phnom Penh`; currency is `116`/`840` as a
//! number or string; numbers given for text fields are written as
//! JavaScript would print them. JSON numbers are read from their **exact
//! text** (no `f64`), so an amount of `0.99` stays `0.99`.
//!
//! Errors are reported like the SDK: the first failing field in emission
//! order, whether it failed while reading the JSON (e.g. an amount of
//! `"abc"`) or while encoding.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::de::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use crate::amount::parse_decimal_literal;
use crate::error::{codes, Field, FieldError, GenerateError, Rule};
use crate::js::{is_valid_time, number_to_string, number_truthy, string_to_number};
use crate::{Account, Currency, Khqr, KhqrRequest};

/// A JSON value seen the way the SDK (JavaScript) sees its arguments,
/// numbers kept as their literal text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum JsValue {
    /// Key absent.
    #[default]
    Undefined,
    Null,
    Bool(bool),
    /// A JSON number, as written.
    Number(String),
    String(String),
    /// An object or array, as raw JSON.
    Other(String),
}

impl<'de> Deserialize<'de> for JsValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        let text = raw.get().trim();
        Ok(match text.as_bytes().first() {
            Some(b'n') => JsValue::Null,
            Some(b't') => JsValue::Bool(true),
            Some(b'f') => JsValue::Bool(false),
            Some(b'"') => {
                JsValue::String(serde_json::from_str(text).map_err(serde::de::Error::custom)?)
            }
            Some(b'{') | Some(b'[') => JsValue::Other(text.to_string()),
            _ => JsValue::Number(text.to_string()),
        })
    }
}

impl JsValue {
    /// JavaScript `Number(v)`.
    pub fn to_number(&self) -> f64 {
        match self {
            JsValue::Undefined | JsValue::Other(_) => f64::NAN,
            JsValue::Null => 0.0,
            JsValue::Bool(b) => f64::from(u8::from(*b)),
            JsValue::Number(n) | JsValue::String(n) => string_to_number(n),
        }
    }

    /// The SDK's `removeEmptyElement`: `v == null || v == ""` (loosely).
    pub fn is_dropped(&self) -> bool {
        match self {
            JsValue::Undefined | JsValue::Null | JsValue::Bool(false) => true,
            JsValue::String(s) => s.is_empty(),
            JsValue::Number(n) => string_to_number(n) == 0.0,
            JsValue::Bool(true) => false,
            JsValue::Other(raw) => raw.trim_start_matches('[').trim_start().starts_with(']'),
        }
    }

    /// JavaScript truthiness.
    pub fn is_truthy(&self) -> bool {
        match self {
            JsValue::Undefined | JsValue::Null => false,
            JsValue::Bool(b) => *b,
            JsValue::String(s) => !s.is_empty(),
            JsValue::Number(n) => number_truthy(string_to_number(n)),
            JsValue::Other(_) => true,
        }
    }

    /// JavaScript `String(v)` for scalars; `None` for objects/arrays.
    pub fn to_js_string(&self) -> Option<String> {
        match self {
            JsValue::Undefined => Some("undefined".into()),
            JsValue::Null => Some("null".into()),
            JsValue::Bool(b) => Some(b.to_string()),
            JsValue::Number(n) => Some(number_to_string(string_to_number(n))),
            JsValue::String(s) => Some(s.clone()),
            JsValue::Other(_) => None,
        }
    }
}

/// `individual` (tag 29) or `merchant` (tag 30).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SdkKind {
    Individual,
    Merchant,
}

/// One SDK generation call's arguments (a vector's `inputs`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct SdkInputs {
    pub kind: SdkKind,
    #[serde(rename = "bakongAccountID", default)]
    pub bakong_account_id: JsValue,
    #[serde(rename = "merchantName", default)]
    pub merchant_name: JsValue,
    #[serde(rename = "merchantCity", default)]
    pub merchant_city: JsValue,
    /// Merchant only (positional in `MerchantInfo`).
    #[serde(rename = "merchantID", default)]
    pub merchant_id: JsValue,
    /// Merchant only (positional in `MerchantInfo`); individuals pass it in `optional`.
    #[serde(rename = "acquiringBank", default)]
    pub acquiring_bank: JsValue,
    /// The `optional` object, by SDK key name. Unknown keys are ignored.
    #[serde(default)]
    pub optional: Option<BTreeMap<String, JsValue>>,
}

/// Keeps the earliest (in SDK order) of the conversion errors.
struct Deferred(Option<GenerateError>);

impl Deferred {
    fn push(&mut self, e: GenerateError) {
        if self.0.as_ref().is_none_or(|d| e.position() < d.position()) {
            self.0 = Some(e);
        }
    }
}

fn bad_type(field: Field, v: &JsValue) -> GenerateError {
    GenerateError::InvalidInput {
        field,
        reason: format!(
            "expected a string or number, got {}",
            match v {
                JsValue::Other(raw) => raw.as_str(),
                _ => "another type",
            }
        ),
    }
}

impl SdkInputs {
    /// Parses the JSON text of one inputs object. (Reads numbers from their
    /// text, so it needs the text: use this rather than `serde_json::from_value`.)
    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }

    fn opt(&self, key: &str) -> Option<&JsValue> {
        self.optional
            .as_ref()
            .and_then(|o| o.get(key))
            .filter(|v| !v.is_dropped())
    }

    /// A positional text argument: null/undefined → "" (the encoder then
    /// reports it as required).
    fn positional(&self, v: &JsValue, field: Field, placeholder: &str, d: &mut Deferred) -> String {
        match v {
            JsValue::Undefined | JsValue::Null => String::new(),
            JsValue::Other(_) => {
                d.push(bad_type(field, v));
                placeholder.to_string()
            }
            other => other.to_js_string().unwrap_or_default(),
        }
    }

    fn text(&self, key: &str, field: Field, d: &mut Deferred) -> Option<String> {
        let v = self.opt(key)?;
        match v.to_js_string() {
            Some(s) => Some(s),
            None => {
                d.push(bad_type(field, v));
                None
            }
        }
    }

    /// Maps the inputs to a typed request, reading at clock `clock_ms`
    /// (needed to rank expiration errors exactly like the SDK). Returns the
    /// SDK's error for inputs that cannot even be represented (currency other
    /// than 116/840, non-numeric amount, unusable expiration timestamp …).
    pub fn to_request(&self, clock_ms: u64) -> Result<KhqrRequest, GenerateError> {
        let (req, deferred) = self.convert(clock_ms);
        match deferred {
            Some(e) => Err(e),
            None => Ok(req),
        }
    }

    /// Generates exactly what the SDK generates for these inputs (canonical
    /// amount spelling, spec section 6), or the error the SDK reports first.
    pub fn encode(&self, clock_ms: u64) -> Result<Khqr, GenerateError> {
        let (req, deferred) = self.convert(clock_ms);
        match (crate::encode(&req, clock_ms), deferred) {
            (Ok(k), None) => Ok(k),
            (Err(e), None) => Err(e),
            (Ok(_), Some(d)) => Err(d),
            (Err(e), Some(d)) => Err(if e.position() < d.position() { e } else { d }),
        }
    }

    fn convert(&self, clock_ms: u64) -> (KhqrRequest, Option<GenerateError>) {
        let mut d = Deferred(None);
        let bakong_account_id = self.positional(
            &self.bakong_account_id,
            Field::BakongAccountId,
            "placeholder@khqr",
            &mut d,
        );
        let merchant_name = self.positional(
            &self.merchant_name,
            Field::MerchantName,
            "placeholder",
            &mut d,
        );
        // `String(merchantCity || "Phnom Penh")`: any falsy city → default.
        let merchant_city = if self.merchant_city.is_truthy() {
            self.positional(&self.merchant_city, Field::MerchantCity, "", &mut d)
        } else {
            String::new()
        };

        let account = match self.kind {
            SdkKind::Merchant => Account::Merchant {
                merchant_id: self.positional(
                    &self.merchant_id,
                    Field::MerchantId,
                    "placeholder",
                    &mut d,
                ),
                acquiring_bank: self.positional(
                    &self.acquiring_bank,
                    Field::AcquiringBank,
                    "placeholder",
                    &mut d,
                ),
            },
            SdkKind::Individual => Account::Individual {
                account_information: self.text(
                    "accountInformation",
                    Field::AccountInformation,
                    &mut d,
                ),
                acquiring_bank: self.text("acquiringBank", Field::AcquiringBank, &mut d),
            },
        };

        let currency = self.currency(&mut d);
        let amount = self.amount(&mut d);
        let dynamic = match &amount {
            Ok(a) => a.is_some_and(|a| !a.is_zero()),
            Err(()) => true,
        };
        let expiration_ms = if dynamic {
            self.expiration(clock_ms, &mut d)
        } else {
            None
        };

        let req = KhqrRequest {
            bakong_account_id,
            merchant_name,
            merchant_city,
            account,
            currency,
            amount: amount.unwrap_or(Some(Decimal::ONE)),
            merchant_category_code: self.text(
                "merchantCategoryCode",
                Field::MerchantCategoryCode,
                &mut d,
            ),
            bill_number: self.text("billNumber", Field::BillNumber, &mut d),
            mobile_number: self.text("mobileNumber", Field::MobileNumber, &mut d),
            store_label: self.text("storeLabel", Field::StoreLabel, &mut d),
            terminal_label: self.text("terminalLabel", Field::TerminalLabel, &mut d),
            purpose_of_transaction: self.text(
                "purposeOfTransaction",
                Field::PurposeOfTransaction,
                &mut d,
            ),
            language_preference: self.text("languagePreference", Field::LanguagePreference, &mut d),
            merchant_name_alternate_language: self.text(
                "merchantNameAlternateLanguage",
                Field::MerchantNameAlternateLanguage,
                &mut d,
            ),
            merchant_city_alternate_language: self.text(
                "merchantCityAlternateLanguage",
                Field::MerchantCityAlternateLanguage,
                &mut d,
            ),
            upi_merchant_account: self.text(
                "upiMerchantAccount",
                Field::UnionPayMerchantAccount,
                &mut d,
            ),
            expiration_ms,
        };
        (req, d.0)
    }

    fn currency(&self, d: &mut Deferred) -> Currency {
        let Some(v) = self.opt("currency") else {
            return Currency::Khr;
        };
        let unsupported = |found: String| {
            GenerateError::from(FieldError::new(
                Field::TransactionCurrency,
                Rule::UnsupportedCurrency { found },
                codes::UNSUPPORTED_CURRENCY,
            ))
        };
        match v {
            JsValue::String(s) => {
                let len = crate::js::utf16_len(s);
                if len > 3 {
                    d.push(
                        FieldError::new(
                            Field::TransactionCurrency,
                            Rule::TooLong { max: 3, len },
                            codes::TRANSACTION_CURRENCY_LENGTH_INVALID,
                        )
                        .into(),
                    );
                    return Currency::Khr;
                }
                match s.as_str() {
                    "116" => Currency::Khr,
                    "840" => Currency::Usd,
                    _ => {
                        d.push(unsupported(s.clone()));
                        Currency::Khr
                    }
                }
            }
            JsValue::Number(_) | JsValue::Bool(_) => {
                let x = v.to_number();
                if x == 116.0 {
                    Currency::Khr
                } else if x == 840.0 {
                    Currency::Usd
                } else {
                    d.push(unsupported(v.to_js_string().unwrap_or_default()));
                    Currency::Khr
                }
            }
            _ => {
                d.push(bad_type(Field::TransactionCurrency, v));
                Currency::Khr
            }
        }
    }

    /// `Ok(None)`: static. `Err(())`: error recorded, treat as dynamic.
    fn amount(&self, d: &mut Deferred) -> Result<Option<Decimal>, ()> {
        let Some(v) = self.opt("amount") else {
            return Ok(None);
        };
        let invalid = |detail: String| {
            GenerateError::from(FieldError::new(
                Field::TransactionAmount,
                Rule::InvalidAmount { detail },
                codes::TRANSACTION_AMOUNT_INVALID,
            ))
        };
        let literal = match v {
            JsValue::Number(n) => n,
            JsValue::String(s) => {
                // `amount == 0` with a string compares numerically: "0.00" is static.
                if string_to_number(s) == 0.0 {
                    return Ok(None);
                }
                s
            }
            _ => {
                d.push(bad_type(Field::TransactionAmount, v));
                return Err(());
            }
        };
        match parse_decimal_literal(literal) {
            Some(a) => Ok(Some(a)),
            None => {
                d.push(invalid(format!("{literal:?} is not a decimal number")));
                Err(())
            }
        }
    }

    /// The SDK's `TimeStamp` checks on `expirationTimestamp` (`Number()`
    /// semantics), for a dynamic code.
    fn expiration(&self, clock_ms: u64, d: &mut Deferred) -> Option<u64> {
        let v = self.opt("expirationTimestamp")?;
        let field_err = |rule: Rule, code: u32| {
            GenerateError::from(FieldError::new(Field::ExpirationTimestamp, rule, code))
        };
        if matches!(v, JsValue::Other(_)) {
            d.push(bad_type(Field::ExpirationTimestamp, v));
            return None;
        }
        let x = v.to_number();
        if !number_truthy(x) {
            d.push(field_err(
                Rule::Missing,
                codes::EXPIRATION_TIMESTAMP_REQUIRED,
            ));
            return None;
        }
        let text = number_to_string(x);
        if text.len() != 13 {
            d.push(field_err(
                Rule::TimestampLength { found: text },
                codes::EXPIRATION_TIMESTAMP_LENGTH_INVALID,
            ));
            return None;
        }
        if !is_valid_time(x) {
            d.push(field_err(
                Rule::InvalidDate { found: text },
                codes::INVALID_DYNAMIC_KHQR,
            ));
            return None;
        }
        if x < clock_ms as f64 {
            d.push(field_err(
                Rule::ExpirationBeforeCreation {
                    expiration: text,
                    creation: clock_ms.to_string(),
                },
                codes::EXPIRATION_TIMESTAMP_IN_THE_PAST,
            ));
            return None;
        }
        if x.fract() != 0.0 || x < 0.0 {
            // 13 characters but not 13 digits (e.g. "12345678901.5"): the
            // SDK would write it as is; we refuse it as not 13 digits.
            d.push(field_err(
                Rule::TimestampLength { found: text },
                codes::EXPIRATION_TIMESTAMP_LENGTH_INVALID,
            ));
            return None;
        }
        Some(x as u64)
    }
}
