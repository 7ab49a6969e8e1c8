//! Verification: [`verify`] is the SDK's `BakongKHQR.verify` (spec 12.1)
//! with the reason attached; [`verify_strict`] adds the rules the SDK
//! skips (spec 14, B9/B10).

use crate::amount::parse_amount;
use crate::checksum::crc16_hex;
use crate::decode::{decode, Decoded, KNOWN_TAGS};
use crate::encode::is_control;
use crate::error::{codes, Field, FieldError, Rule, StrictViolation, VerifyError};
use crate::js::{
    is_valid_time, number_to_string, number_truthy, parse_int, string_to_number, utf16_len, Units,
};
use crate::tlv::{parse_strict, sdk_root, sdk_sub, Tlv};
use crate::Currency;

/// Minimum length of a KHQR string (UTF-16 units).
pub const MIN_LEN: usize = 12;

/// Verifies `qr` exactly as the official SDK does, at clock `at_ms`
/// (milliseconds since the epoch, the SDK's `Date.now()`), and decodes it.
///
/// The steps and their order are the SDK's (spec 12.1): CRC format, CRC
/// value, minimum length, root parse, dynamic-code rules (47, 45), the
/// mandatory IDs (23, 5, 25, 9, 26, 2, 27, 24), then each recognised ID in
/// the order it appears. The error carries the SDK stage and code.
pub fn verify(qr: &str, at_ms: u64) -> Result<Decoded, VerifyError> {
    sdk_verify(qr, at_ms)?;
    Ok(decode(qr))
}

/// [`verify`], then the rules the SDK does not check (spec 14, B9/B10):
/// well-formed TLV throughout (no over-long/short declared lengths, no
/// trailing garbage, templates included); IDs in emission order without
/// repeats; 00 = `01`; 58 = `KH`; 30 carries 01 and 02; 54 only in a
/// dynamic code and numeric for its currency (`^\d+$` KHR, `^\d+(\.\d{1,2})?$`
/// USD); 99/00 of 13 digits; 99/01 (when present) of 13 digits, not before
/// 99/00 and not expired even in a static code; no control characters;
/// upper-case CRC.
pub fn verify_strict(qr: &str, at_ms: u64) -> Result<Decoded, VerifyError> {
    let decoded = verify(qr, at_ms)?;
    strict_checks(qr, at_ms, &decoded)?;
    Ok(decoded)
}

fn err(field: Field, rule: Rule, code: u32) -> VerifyError {
    VerifyError::Invalid(FieldError::new(field, rule, code))
}

fn sdk_verify(qr: &str, at_ms: u64) -> Result<(), VerifyError> {
    // 1. /6304[A-Fa-f0-9]{4}$/
    let b = qr.as_bytes();
    let n = b.len();
    if n < 8 || &b[n - 8..n - 4] != b"6304" || !b[n - 4..].iter().all(u8::is_ascii_hexdigit) {
        return Err(VerifyError::CrcFormat);
    }
    // 2. CRC over everything before the 4 hex digits.
    let computed = crc16_hex(&qr[..n - 4]);
    let found = &qr[n - 4..];
    if computed != found.to_ascii_uppercase() {
        return Err(VerifyError::CrcMismatch {
            found: found.to_string(),
            computed,
        });
    }
    // 3. Length in UTF-16 units.
    let len = utf16_len(qr);
    if len < MIN_LEN {
        return Err(VerifyError::TooShort { len });
    }
    // 4. Root parse; keep recognised IDs in order of appearance.
    let units: Vec<u16> = qr.encode_utf16().collect();
    let tags: Vec<(&'static str, Units<'_>)> = sdk_root(Units(&units))
        .into_iter()
        .filter_map(|e| {
            KNOWN_TAGS
                .iter()
                .find(|t| e.tag.eq_str(t))
                .map(|t| (*t, e.value))
        })
        .collect();
    let has = |t: &str| tags.iter().any(|(tag, _)| *tag == t);

    if tags.iter().any(|(t, v)| *t == "01" && v.eq_str("12")) {
        if !has("54") {
            return Err(err(
                Field::TransactionAmount,
                Rule::RequiredForDynamic,
                codes::INVALID_DYNAMIC_KHQR,
            ));
        }
        if !has("99") {
            return Err(err(
                Field::Timestamp,
                Rule::RequiredForDynamic,
                codes::EXPIRATION_TIMESTAMP_REQUIRED,
            ));
        }
    }
    if has("54") && !has("99") {
        return Err(err(
            Field::Timestamp,
            Rule::RequiredForDynamic,
            codes::EXPIRATION_TIMESTAMP_REQUIRED,
        ));
    }
    const REQUIRED: [(&str, Field, u32); 8] = [
        (
            "00",
            Field::PayloadFormatIndicator,
            codes::PAYLOAD_FORMAT_INDICATOR_TAG_REQUIRED,
        ),
        ("29", Field::MerchantAccount, codes::MERCHANT_TYPE_REQUIRED),
        (
            "52",
            Field::MerchantCategoryCode,
            codes::MERCHANT_CATEGORY_TAG_REQUIRED,
        ),
        (
            "53",
            Field::TransactionCurrency,
            codes::CURRENCY_TYPE_REQUIRED,
        ),
        ("58", Field::CountryCode, codes::COUNTRY_CODE_TAG_REQUIRED),
        ("59", Field::MerchantName, codes::MERCHANT_NAME_REQUIRED),
        ("60", Field::MerchantCity, codes::MERCHANT_CITY_TAG_REQUIRED),
        ("63", Field::Crc, codes::CRC_TAG_REQUIRED),
    ];
    for (tag, field, code) in REQUIRED {
        if !has(tag) {
            return Err(err(field, Rule::Missing, code));
        }
    }

    // 5. Each recognised ID in order of appearance.
    let mut poi: Option<Units<'_>> = None;
    for (tag, value) in &tags {
        let value = *value;
        match *tag {
            "00" => simple(
                Field::PayloadFormatIndicator,
                value,
                Some(codes::PAYLOAD_FORMAT_INDICATOR_TAG_REQUIRED),
                2,
                codes::PAYLOAD_FORMAT_INDICATOR_LENGTH_INVALID,
            )?,
            "01" => {
                poi = Some(value);
                if value.len() > 2 {
                    return Err(err(
                        Field::PointOfInitiationMethod,
                        Rule::TooLong {
                            max: 2,
                            len: value.len(),
                        },
                        codes::POINT_INITIATION_LENGTH_INVALID,
                    ));
                }
                if !(value.eq_str("11") || value.eq_str("12")) {
                    return Err(err(
                        Field::PointOfInitiationMethod,
                        Rule::InvalidPointOfInitiation {
                            found: value.to_string_lossy(),
                        },
                        codes::POINT_OF_INITIATION_METHOD_INVALID,
                    ));
                }
            }
            "15" => simple(
                Field::UnionPayMerchantAccount,
                value,
                None,
                99,
                codes::UPI_ACCOUNT_INFORMATION_LENGTH_INVALID,
            )?,
            "29" => check_account(value)?,
            "52" => {
                simple(
                    Field::MerchantCategoryCode,
                    value,
                    Some(codes::MERCHANT_CATEGORY_TAG_REQUIRED),
                    4,
                    codes::MERCHANT_CODE_LENGTH_INVALID,
                )?;
                if !value.is_ascii_digits() {
                    return Err(err(
                        Field::MerchantCategoryCode,
                        Rule::NotDigits,
                        codes::INVALID_MERCHANT_CATEGORY_CODE,
                    ));
                }
            }
            "53" => {
                simple(
                    Field::TransactionCurrency,
                    value,
                    Some(codes::CURRENCY_TYPE_REQUIRED),
                    3,
                    codes::TRANSACTION_CURRENCY_LENGTH_INVALID,
                )?;
                if !matches!(parse_int(value), Some(116) | Some(840)) {
                    return Err(err(
                        Field::TransactionCurrency,
                        Rule::UnsupportedCurrency {
                            found: value.to_string_lossy(),
                        },
                        codes::UNSUPPORTED_CURRENCY,
                    ));
                }
            }
            "54" => {
                let text = value.to_string_lossy();
                let detail = if value.is_empty() {
                    Some("is empty".to_string())
                } else if value.len() > 13 {
                    Some(format!("{text:?} is longer than 13 characters"))
                } else if text.contains('-') {
                    Some(format!("{text:?} contains '-'"))
                } else {
                    None
                };
                if let Some(detail) = detail {
                    return Err(err(
                        Field::TransactionAmount,
                        Rule::InvalidAmount { detail },
                        codes::TRANSACTION_AMOUNT_INVALID,
                    ));
                }
            }
            "58" => simple(
                Field::CountryCode,
                value,
                Some(codes::COUNTRY_CODE_TAG_REQUIRED),
                3,
                codes::COUNTRY_CODE_LENGTH_INVALID,
            )?,
            "59" => simple(
                Field::MerchantName,
                value,
                Some(codes::MERCHANT_NAME_REQUIRED),
                25,
                codes::MERCHANT_NAME_LENGTH_INVALID,
            )?,
            "60" => simple(
                Field::MerchantCity,
                value,
                Some(codes::MERCHANT_CITY_TAG_REQUIRED),
                15,
                codes::MERCHANT_CITY_LENGTH_INVALID,
            )?,
            "62" => check_additional(value)?,
            "63" => simple(
                Field::Crc,
                value,
                Some(codes::CRC_TAG_REQUIRED),
                4,
                codes::CRC_LENGTH_INVALID,
            )?,
            "64" => check_language(value)?,
            // Timestamps are only checked when a POI of 12 came earlier.
            "99" if poi.is_some_and(|p| p.eq_str("12")) => check_timestamps(value, at_ms)?,
            _ => {}
        }
    }
    Ok(())
}

/// "empty → `empty_code`, longer than `max` → `len_code`".
fn simple(
    field: Field,
    value: Units<'_>,
    empty_code: Option<u32>,
    max: usize,
    len_code: u32,
) -> Result<(), VerifyError> {
    if let Some(code) = empty_code {
        if value.is_empty() {
            return Err(err(field, Rule::Empty, code));
        }
    }
    if value.len() > max {
        return Err(err(
            field,
            Rule::TooLong {
                max,
                len: value.len(),
            },
            len_code,
        ));
    }
    Ok(())
}

/// The sub-tags of a template the SDK recognises, as JavaScript sees them:
/// `None` when no sub-tag was recognised (the SDK then passes the raw
/// string, whose properties are all `undefined`), otherwise one slot per
/// recognised sub-ID (`None` = `null`, last occurrence wins).
fn subs<'a, const N: usize>(value: Units<'a>, ids: [&str; N]) -> Option<[Option<Units<'a>>; N]> {
    let mut slots = [None; N];
    let mut any = false;
    for (sub, v) in sdk_sub(value) {
        if let Some(i) = ids.iter().position(|id| sub.eq_str(id)) {
            slots[i] = Some(v);
            any = true;
        }
    }
    any.then_some(slots)
}

fn check_account(value: Units<'_>) -> Result<(), VerifyError> {
    // The verifier never knows the code is a merchant one: 30 goes through
    // the individual path, so 30/01 is checked as account information.
    let [id, info, bank] = subs(value, ["00", "01", "02"]).unwrap_or([None; 3]);
    let id = match id {
        Some(id) if !id.is_empty() => id,
        _ => {
            return Err(err(
                Field::BakongAccountId,
                Rule::Missing,
                codes::BAKONG_ACCOUNT_ID_REQUIRED,
            ))
        }
    };
    if id.len() > 32 {
        return Err(err(
            Field::BakongAccountId,
            Rule::TooLong {
                max: 32,
                len: id.len(),
            },
            codes::BAKONG_ACCOUNT_ID_LENGTH_INVALID,
        ));
    }
    if !id.0.contains(&(b'@' as u16)) {
        return Err(err(
            Field::BakongAccountId,
            Rule::MissingAt,
            codes::BAKONG_ACCOUNT_ID_INVALID,
        ));
    }
    if let Some(info) = info {
        if info.len() > 32 {
            return Err(err(
                Field::AccountInformation,
                Rule::TooLong {
                    max: 32,
                    len: info.len(),
                },
                codes::ACCOUNT_INFORMATION_LENGTH_INVALID,
            ));
        }
    }
    if let Some(bank) = bank {
        simple(
            Field::AcquiringBank,
            bank,
            Some(codes::ACQUIRING_BANK_REQUIRED),
            32,
            codes::ACQUIRING_BANK_LENGTH_INVALID,
        )?;
    }
    Ok(())
}

fn check_additional(value: Units<'_>) -> Result<(), VerifyError> {
    let Some(slots) = subs(value, ["01", "02", "03", "07", "08"]) else {
        return Ok(());
    };
    let rules = [
        (Field::BillNumber, codes::BILL_NUMBER_LENGTH_INVALID),
        (Field::MobileNumber, codes::MOBILE_NUMBER_LENGTH_INVALID),
        (Field::StoreLabel, codes::STORE_LABEL_LENGTH_INVALID),
        (Field::TerminalLabel, codes::TERMINAL_LABEL_LENGTH_INVALID),
        (
            Field::PurposeOfTransaction,
            codes::PURPOSE_OF_TRANSACTION_LENGTH_INVALID,
        ),
    ];
    for (slot, (field, code)) in slots.into_iter().zip(rules) {
        if let Some(v) = slot {
            simple(field, v, Some(code), 25, code)?;
        }
    }
    Ok(())
}

fn check_language(value: Units<'_>) -> Result<(), VerifyError> {
    let Some([lang, name, city]) = subs(value, ["00", "01", "02"]) else {
        return Ok(());
    };
    let truthy = |u: Option<Units<'_>>| u.is_some_and(|u| !u.is_empty());
    if truthy(lang) && !truthy(name) {
        return Err(err(
            Field::LanguagePreference,
            Rule::WithoutAlternateName,
            codes::MERCHANT_NAME_ALTERNATE_LANGUAGE_REQUIRED,
        ));
    }
    if let Some(name) = name {
        let Some(lang) = lang else {
            return Err(VerifyError::Exception {
                field: Field::LanguagePreference,
                detail: "64/01 without 64/00: TypeError: Cannot read properties of null (reading 'length')".into(),
            });
        };
        simple(
            Field::LanguagePreference,
            lang,
            Some(codes::LANGUAGE_PREFERENCE_LENGTH_INVALID),
            2,
            codes::LANGUAGE_PREFERENCE_LENGTH_INVALID,
        )?;
        simple(
            Field::MerchantNameAlternateLanguage,
            name,
            Some(codes::MERCHANT_NAME_ALTERNATE_LANGUAGE_LENGTH_INVALID),
            25,
            codes::MERCHANT_NAME_ALTERNATE_LANGUAGE_LENGTH_INVALID,
        )?;
    }
    if let Some(city) = city {
        simple(
            Field::MerchantCityAlternateLanguage,
            city,
            Some(codes::MERCHANT_CITY_ALTERNATE_LANGUAGE_LENGTH_INVALID),
            15,
            codes::MERCHANT_CITY_ALTERNATE_LANGUAGE_LENGTH_INVALID,
        )?;
    }
    Ok(())
}

/// The SDK's `TimeStamp` checks for a dynamic code (`Number()` semantics).
fn check_timestamps(value: Units<'_>, at_ms: u64) -> Result<(), VerifyError> {
    let required = || {
        err(
            Field::ExpirationTimestamp,
            Rule::Missing,
            codes::EXPIRATION_TIMESTAMP_REQUIRED,
        )
    };
    if value.is_empty() {
        return Err(required());
    }
    let Some([creation, expiration]) = subs(value, ["00", "01"]) else {
        return Err(required()); // raw string: both timestamps undefined → NaN
    };
    // A missing sub-tag is `null`, and Number(null) is 0.
    let num = |u: Option<Units<'_>>| u.map_or(0.0, |u| string_to_number(&u.to_string_lossy()));
    let creation_n = num(creation);
    let exp = num(expiration);
    if !number_truthy(exp) {
        return Err(required());
    }
    let exp_text = number_to_string(exp);
    if utf16_len(&exp_text) != 13 {
        return Err(err(
            Field::ExpirationTimestamp,
            Rule::TimestampLength { found: exp_text },
            codes::EXPIRATION_TIMESTAMP_LENGTH_INVALID,
        ));
    }
    if !is_valid_time(exp) {
        return Err(err(
            Field::ExpirationTimestamp,
            Rule::InvalidDate { found: exp_text },
            codes::INVALID_DYNAMIC_KHQR,
        ));
    }
    if exp < creation_n {
        return Err(err(
            Field::ExpirationTimestamp,
            Rule::ExpirationBeforeCreation {
                expiration: exp_text,
                creation: number_to_string(creation_n),
            },
            codes::EXPIRATION_TIMESTAMP_IN_THE_PAST,
        ));
    }
    if exp < at_ms as f64 {
        return Err(err(
            Field::ExpirationTimestamp,
            Rule::Expired {
                expiration: exp_text,
                now: at_ms,
            },
            codes::KHQR_EXPIRED,
        ));
    }
    Ok(())
}

/// Emission rank of a root ID for the order check (99 and 63 come last).
fn rank(tag: &str) -> u32 {
    match tag {
        "99" => 1000,
        "63" => 1001,
        t => t.parse().unwrap_or(0),
    }
}

fn strict_template(tag: &str, value: &str) -> Result<Vec<Tlv>, VerifyError> {
    let subs = parse_strict(value).map_err(|_| StrictViolation::MalformedTemplate {
        tag: tag.to_string(),
    })?;
    for (i, s) in subs.iter().enumerate() {
        if subs[..i].iter().any(|p| p.tag == s.tag) {
            return Err(StrictViolation::Duplicate {
                tag: format!("{tag}/{}", s.tag),
            }
            .into());
        }
    }
    Ok(subs)
}

fn sub_value<'a>(subs: &'a [Tlv], id: &str) -> Option<&'a str> {
    subs.iter().find(|s| s.tag == id).map(|s| s.value.as_str())
}

fn is_13_digits(s: &str) -> bool {
    s.len() == 13 && s.bytes().all(|b| b.is_ascii_digit())
}

fn strict_checks(qr: &str, at_ms: u64, decoded: &Decoded) -> Result<(), VerifyError> {
    let root = parse_strict(qr)?;
    // Order and uniqueness (29 and 30 count as one slot).
    let mut prev: Option<&Tlv> = None;
    for (i, t) in root.iter().enumerate() {
        let slot = |tag: &str| {
            if tag == "30" {
                "29".to_string()
            } else {
                tag.to_string()
            }
        };
        if root[..i].iter().any(|p| slot(&p.tag) == slot(&t.tag)) {
            return Err(StrictViolation::Duplicate { tag: t.tag.clone() }.into());
        }
        if let Some(p) = prev {
            if rank(&t.tag) < rank(&p.tag) {
                return Err(StrictViolation::OutOfOrder {
                    tag: t.tag.clone(),
                    after: p.tag.clone(),
                }
                .into());
            }
        }
        prev = Some(t);
    }
    let get = |tag: &str| root.iter().find(|t| t.tag == tag).map(|t| t.value.as_str());

    if let Some(t) = root.iter().find(|t| t.value.chars().any(is_control)) {
        return Err(StrictViolation::ControlCharacter { tag: t.tag.clone() }.into());
    }
    if get("00") != Some("01") {
        return Err(StrictViolation::PayloadFormat {
            found: get("00").unwrap_or_default().to_string(),
        }
        .into());
    }
    if get("58") != Some("KH") {
        return Err(StrictViolation::CountryCode {
            found: get("58").unwrap_or_default().to_string(),
        }
        .into());
    }
    for tag in ["29", "30", "62", "64", "99"] {
        if let Some(v) = get(tag) {
            let subs = strict_template(tag, v)?;
            if let Some(s) = subs.iter().find(|s| s.value.chars().any(is_control)) {
                return Err(StrictViolation::ControlCharacter {
                    tag: format!("{tag}/{}", s.tag),
                }
                .into());
            }
            if tag == "30" {
                if sub_value(&subs, "01").is_none_or(str::is_empty) {
                    return Err(StrictViolation::MerchantIdMissing.into());
                }
                if sub_value(&subs, "02").is_none_or(str::is_empty) {
                    return Err(StrictViolation::AcquiringBankMissing.into());
                }
            }
            if tag == "99" {
                let creation = sub_value(&subs, "00").unwrap_or_default();
                if !is_13_digits(creation) {
                    return Err(StrictViolation::CreationTimestamp {
                        found: creation.to_string(),
                    }
                    .into());
                }
                if let Some(exp) = sub_value(&subs, "01") {
                    if !is_13_digits(exp) {
                        return Err(StrictViolation::Expiration {
                            detail: format!("must be 13 digits, got {exp:?}"),
                        }
                        .into());
                    }
                    // Both are 13 digits, so text order is numeric order.
                    if exp < creation {
                        return Err(StrictViolation::Expiration {
                            detail: format!("{exp} is earlier than creation {creation}"),
                        }
                        .into());
                    }
                    if exp.parse::<u64>().unwrap_or(0) < at_ms {
                        return Err(StrictViolation::Expiration {
                            detail: format!("expired at {exp} (now {at_ms})"),
                        }
                        .into());
                    }
                }
            }
        }
    }
    if let Some(amount) = get("54") {
        if get("01") != Some("12") {
            return Err(StrictViolation::AmountInStatic.into());
        }
        let currency = decoded.currency();
        let valid = parse_amount(amount, currency).is_some_and(|a| !a.is_zero());
        if !valid {
            return Err(StrictViolation::AmountFormat {
                found: amount.to_string(),
                currency: match currency {
                    Some(Currency::Khr) => "KHR",
                    _ => "USD",
                },
            }
            .into());
        }
    }
    if qr[qr.len() - 4..].bytes().any(|b| b.is_ascii_lowercase()) {
        return Err(StrictViolation::LowercaseCrc.into());
    }
    Ok(())
}
