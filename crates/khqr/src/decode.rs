//! Tolerant decoding: [`decode`] (the SDK's `BakongKHQR.decode`, field for
//! field) and [`decode_non_khqr`] (its generic EMV dump, `decodeNonKhqr`).
//!
//! Neither validates anything, neither panics, and both run in time linear
//! in the input (the SDK's infinite loops, bug B8, are cut short).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::amount::parse_amount;
use crate::js::{parse_int, JsIndex, Units};
use crate::tlv::{sdk_root, sdk_sub};
use crate::{Account, Currency};

/// The root IDs the SDK knows (its `KHQRTag` table, 30 folded into 29).
pub(crate) const KNOWN_TAGS: [&str; 14] = [
    "00", "01", "15", "29", "52", "53", "54", "58", "59", "60", "62", "64", "99", "63",
];

/// Exactly the fields of the SDK's `decode().data`, with its JSON names
/// (`bakongAccountID`, `merchantID`, `pointofInitiationMethod` …). Every
/// value is the text as written, or `None` (JSON `null`) when absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decoded {
    /// `"29"` (individual), `"30"` (merchant) or `None`.
    #[serde(rename = "merchantType")]
    pub merchant_type: Option<String>,
    #[serde(rename = "bakongAccountID")]
    pub bakong_account_id: Option<String>,
    /// 29/01 of an individual code.
    #[serde(rename = "accountInformation")]
    pub account_information: Option<String>,
    /// 30/01 of a merchant code.
    #[serde(rename = "merchantID")]
    pub merchant_id: Option<String>,
    #[serde(rename = "acquiringBank")]
    pub acquiring_bank: Option<String>,
    #[serde(rename = "billNumber")]
    pub bill_number: Option<String>,
    #[serde(rename = "mobileNumber")]
    pub mobile_number: Option<String>,
    #[serde(rename = "storeLabel")]
    pub store_label: Option<String>,
    #[serde(rename = "terminalLabel")]
    pub terminal_label: Option<String>,
    #[serde(rename = "purposeOfTransaction")]
    pub purpose_of_transaction: Option<String>,
    #[serde(rename = "languagePreference")]
    pub language_preference: Option<String>,
    #[serde(rename = "merchantNameAlternateLanguage")]
    pub merchant_name_alternate_language: Option<String>,
    #[serde(rename = "merchantCityAlternateLanguage")]
    pub merchant_city_alternate_language: Option<String>,
    #[serde(rename = "creationTimestamp")]
    pub creation_timestamp: Option<String>,
    #[serde(rename = "expirationTimestamp")]
    pub expiration_timestamp: Option<String>,
    #[serde(rename = "payloadFormatIndicator")]
    pub payload_format_indicator: Option<String>,
    /// Spelt `pointofInitiationMethod` (lower-case "of") like the SDK.
    #[serde(rename = "pointofInitiationMethod")]
    pub point_of_initiation_method: Option<String>,
    #[serde(rename = "unionPayMerchant")]
    pub union_pay_merchant: Option<String>,
    #[serde(rename = "merchantCategoryCode")]
    pub merchant_category_code: Option<String>,
    /// `"116"` or `"840"` for a real KHQR.
    #[serde(rename = "transactionCurrency")]
    pub transaction_currency: Option<String>,
    /// As written, e.g. `"2.50"`.
    #[serde(rename = "transactionAmount")]
    pub transaction_amount: Option<String>,
    #[serde(rename = "countryCode")]
    pub country_code: Option<String>,
    #[serde(rename = "merchantName")]
    pub merchant_name: Option<String>,
    #[serde(rename = "merchantCity")]
    pub merchant_city: Option<String>,
    pub crc: Option<String>,
}

impl Decoded {
    /// Tag 53 as a [`Currency`] (`None` unless exactly `116` or `840`).
    pub fn currency(&self) -> Option<Currency> {
        match self.transaction_currency.as_deref() {
            Some("116") => Some(Currency::Khr),
            Some("840") => Some(Currency::Usd),
            _ => None,
        }
    }

    /// Tag 54 read strictly (`^\d+(\.\d{1,2})?$`, whole riel for KHR);
    /// `None` when absent or not such a number (e.g. `1,000`, `1e+21`).
    pub fn amount(&self) -> Option<Decimal> {
        parse_amount(self.transaction_amount.as_deref()?, self.currency())
    }

    /// 99/01 in milliseconds since the epoch, when it is all digits.
    pub fn expiration_ms(&self) -> Option<u64> {
        digits_u64(self.expiration_timestamp.as_deref()?)
    }

    /// 99/00 in milliseconds since the epoch, when it is all digits.
    pub fn creation_ms(&self) -> Option<u64> {
        digits_u64(self.creation_timestamp.as_deref()?)
    }

    /// Point of initiation `12`.
    pub fn is_dynamic(&self) -> bool {
        self.point_of_initiation_method.as_deref() == Some("12")
    }

    /// The account template as an [`Account`] (missing parts empty).
    pub fn account(&self) -> Option<Account> {
        match self.merchant_type.as_deref()? {
            "30" => Some(Account::Merchant {
                merchant_id: self.merchant_id.clone().unwrap_or_default(),
                acquiring_bank: self.acquiring_bank.clone().unwrap_or_default(),
            }),
            _ => Some(Account::Individual {
                account_information: self.account_information.clone(),
                acquiring_bank: self.acquiring_bank.clone(),
            }),
        }
    }

    /// The SDK-shaped JSON object (all 25 keys, nulls included).
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

fn digits_u64(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Decodes any string the way the SDK's `BakongKHQR.decode` does: no CRC or
/// field validation, unknown IDs skipped, the SDK's parser quirks kept
/// (spec 12.2–12.3). Never panics; linear time.
pub fn decode(qr: &str) -> Decoded {
    let units: Vec<u16> = qr.encode_utf16().collect();
    let mut d = Decoded::default();
    let mut is_merchant = false;
    let mut values: [Option<Units<'_>>; KNOWN_TAGS.len()] = [None; KNOWN_TAGS.len()];

    for e in sdk_root(Units(&units)) {
        if e.raw_tag.eq_str("30") {
            d.merchant_type = Some("30".into());
            is_merchant = true;
        } else if e.raw_tag.eq_str("29") {
            d.merchant_type = Some("29".into());
        }
        if let Some(i) = KNOWN_TAGS.iter().position(|t| e.tag.eq_str(t)) {
            values[i] = Some(e.value);
        }
    }

    let get = |tag: &str| -> Option<Units<'_>> {
        KNOWN_TAGS
            .iter()
            .position(|t| *t == tag)
            .and_then(|i| values[i])
    };
    let text = |tag: &str| get(tag).map(|u| u.to_string_lossy());

    d.payload_format_indicator = text("00");
    d.point_of_initiation_method = text("01");
    d.union_pay_merchant = text("15");
    d.merchant_category_code = text("52");
    d.transaction_currency = text("53");
    d.transaction_amount = text("54");
    d.country_code = text("58");
    d.merchant_name = text("59");
    d.merchant_city = text("60");
    d.crc = text("63");

    if let Some(v) = get("29") {
        for (sub, val) in sdk_sub(v) {
            let val = Some(val.to_string_lossy());
            if sub.eq_str("00") {
                d.bakong_account_id = val;
            } else if sub.eq_str("01") {
                if is_merchant {
                    d.merchant_id = val;
                } else {
                    d.account_information = val;
                }
            } else if sub.eq_str("02") {
                d.acquiring_bank = val;
            }
        }
    }
    if let Some(v) = get("62") {
        for (sub, val) in sdk_sub(v) {
            let slot = if sub.eq_str("01") {
                &mut d.bill_number
            } else if sub.eq_str("02") {
                &mut d.mobile_number
            } else if sub.eq_str("03") {
                &mut d.store_label
            } else if sub.eq_str("07") {
                &mut d.terminal_label
            } else if sub.eq_str("08") {
                &mut d.purpose_of_transaction
            } else {
                continue;
            };
            *slot = Some(val.to_string_lossy());
        }
    }
    if let Some(v) = get("64") {
        for (sub, val) in sdk_sub(v) {
            let slot = if sub.eq_str("00") {
                &mut d.language_preference
            } else if sub.eq_str("01") {
                &mut d.merchant_name_alternate_language
            } else if sub.eq_str("02") {
                &mut d.merchant_city_alternate_language
            } else {
                continue;
            };
            *slot = Some(val.to_string_lossy());
        }
    }
    if let Some(v) = get("99") {
        for (sub, val) in sdk_sub(v) {
            let slot = if sub.eq_str("00") {
                &mut d.creation_timestamp
            } else if sub.eq_str("01") {
                &mut d.expiration_timestamp
            } else {
                continue;
            };
            *slot = Some(val.to_string_lossy());
        }
    }
    d
}

/// One `extractTLV` step of `decodeNonKhqr`: (tag, length, value, rest).
fn extract(s: Units<'_>) -> (Units<'_>, Option<i64>, Units<'_>, Units<'_>) {
    let tag = s.slice(JsIndex::At(0), JsIndex::At(2));
    let len = parse_int(s.slice(JsIndex::At(2), JsIndex::At(4)));
    let value = s.slice(JsIndex::At(4), JsIndex::plus(4, len));
    let rest = s.slice(JsIndex::plus(4, len), JsIndex::End);
    (tag, len, value, rest)
}

fn tlv_ok(tag: Units<'_>, len: Option<i64>, value: Units<'_>) -> bool {
    tag.is_ascii_digits() && len == Some(value.len() as i64)
}

fn two_digit(tag: Units<'_>) -> u32 {
    tag.0.iter().fold(0u32, |acc, &u| {
        acc.saturating_mul(10)
            .saturating_add(u32::from(u.wrapping_sub(b'0' as u16)))
    })
}

/// Inserts like a JavaScript object property assignment (a later value for
/// the same key replaces the earlier one).
fn put<V>(list: &mut Vec<(String, V)>, key: String, value: V) {
    match list.iter_mut().find(|(k, _)| *k == key) {
        Some(slot) => slot.1 = value,
        None => list.push((key, value)),
    }
}

/// The SDK's `decodeNonKhqr`: a generic EMV TLV dump for any scanned code
/// (spec 12.4). Root objects are read while the ID is numeric and the
/// declared length matches what is there; IDs 26–51, 62, 64 and 80–99 with
/// a value of 6+ characters are opened one level (62's sub-IDs 50–99 one
/// more), keeping the raw string when nothing parses. Returns a JSON object
/// ID → string | {sub-ID → string | {…}}.
pub fn decode_non_khqr(qr: &str) -> Value {
    let units: Vec<u16> = qr.encode_utf16().collect();
    let mut first: Vec<(String, String)> = Vec::new();
    let mut rem = Units(&units);
    loop {
        let (tag, len, value, rest) = extract(rem);
        if !tlv_ok(tag, len, value) {
            break;
        }
        put(&mut first, tag.to_string_lossy(), value.to_string_lossy());
        rem = rest;
        if rem.is_empty() {
            break;
        }
    }

    let mut out = Map::new();
    for (tag, value) in first {
        let n: u32 = tag.parse().unwrap_or(0);
        let opens = (26..=51).contains(&n) || (80..=99).contains(&n) || tag == "64" || tag == "62";
        let vunits: Vec<u16> = value.encode_utf16().collect();
        if !opens || vunits.len() < 6 {
            out.insert(tag, Value::String(value));
            continue;
        }
        // `thirdLevelData` is one object per root tag, shared by every
        // sub-ID assigned after it first gets an entry (a JS reference).
        enum Second {
            Text(String),
            Third,
        }
        let mut second: Vec<(String, Second)> = Vec::new();
        let mut third: Vec<(String, String)> = Vec::new();
        let mut rem = Units(&vunits);
        loop {
            let (sub, len, sval, rest) = extract(rem);
            if !tlv_ok(sub, len, sval) {
                break;
            }
            rem = rest;
            let sn = two_digit(sub);
            if tag == "62" && (50..=99).contains(&sn) {
                let mut r3 = sval;
                loop {
                    let (t3, l3, v3, rest3) = extract(r3);
                    if !tlv_ok(t3, l3, v3) {
                        break;
                    }
                    put(&mut third, t3.to_string_lossy(), v3.to_string_lossy());
                    r3 = rest3;
                    if r3.is_empty() {
                        break;
                    }
                }
            }
            let entry = if third.is_empty() {
                Second::Text(sval.to_string_lossy())
            } else {
                Second::Third
            };
            put(&mut second, sub.to_string_lossy(), entry);
            if rem.is_empty() {
                break;
            }
        }
        if second.is_empty() {
            out.insert(tag, Value::String(value));
        } else {
            let third_obj: Map<String, Value> = third
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect();
            let obj: Map<String, Value> = second
                .into_iter()
                .map(|(k, v)| {
                    let v = match v {
                        Second::Text(s) => Value::String(s),
                        Second::Third => Value::Object(third_obj.clone()),
                    };
                    (k, v)
                })
                .collect();
            out.insert(tag, Value::Object(obj));
        }
    }
    Value::Object(out)
}
