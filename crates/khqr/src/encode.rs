//! The generator: [`KhqrRequest`] → KHQR string + MD5, byte for byte as
//! the official SDK 1.0.20 writes it (spec sections 2–9), minus its bugs.

use std::fmt::Write as _;

use crate::amount::format_amount;
use crate::checksum::{crc16_hex, md5_hex};
use crate::error::{codes, Field, FieldError, GenerateError, Rule};
use crate::js::utf16_len;
use crate::{Account, Currency, Khqr, KhqrRequest};

/// Default merchant category code (tag 52).
pub const DEFAULT_MCC: &str = "5999";
/// Default merchant city (tag 60) when none is given.
pub const DEFAULT_CITY: &str = "Phnom Penh";
/// Largest value a two-digit length can describe.
pub const MAX_VALUE_LEN: usize = 99;

/// Generates the KHQR string for `req`, with `clock_ms` (milliseconds since
/// the Unix epoch) as "now": it becomes the creation timestamp 99/00 of a
/// dynamic code and the reference for the expiry checks.
///
/// The rules are the SDK's, checked in its order so that the first failing
/// field in emission order decides the error; in addition this refuses
/// what the SDK would turn into a broken string (spec section 14: B1
/// exponent amounts, B3 alternate name without language, B7 templates
/// over 99 characters) and control characters in text fields.
///
/// Empty optional strings (`Some("")`) count as absent, like the SDK's
/// dropping of `""` inputs; an empty merchant city becomes `Phnom Penh`.
/// A static code (no amount, or zero) ignores `expiration_ms`, as the SDK does.
pub fn encode(req: &KhqrRequest, clock_ms: u64) -> Result<Khqr, GenerateError> {
    let mut out = String::with_capacity(256);

    // 00 payload format indicator, 01 point of initiation method.
    let amount_text = match req.amount {
        Some(a) => format_amount(a, req.currency),
        None => Ok(None),
    };
    let dynamic = !matches!(amount_text, Ok(None));
    tlv(&mut out, "00", "01");
    tlv(&mut out, "01", if dynamic { "12" } else { "11" });

    // 15 UnionPay merchant account.
    let upi = present(&req.upi_merchant_account);
    if let Some(upi) = upi {
        max_len(
            Field::UnionPayMerchantAccount,
            upi,
            99,
            codes::UPI_ACCOUNT_INFORMATION_LENGTH_INVALID,
        )?;
        no_control(Field::UnionPayMerchantAccount, upi)?;
    }

    // 29 / 30 merchant account information.
    let account = account_template(req)?;
    let upi_tlv = upi.map(|u| {
        let mut s = String::new();
        tlv(&mut s, "15", u);
        s
    });

    // 52 merchant category code.
    let mcc = present(&req.merchant_category_code).unwrap_or(DEFAULT_MCC);
    max_len(
        Field::MerchantCategoryCode,
        mcc,
        4,
        codes::MERCHANT_CODE_LENGTH_INVALID,
    )?;
    if !mcc.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FieldError::new(
            Field::MerchantCategoryCode,
            Rule::NotDigits,
            codes::INVALID_MERCHANT_CATEGORY_CODE,
        )
        .into());
    }

    // 53 currency, then the UnionPay/USD rule.
    let currency = match req.currency {
        Currency::Khr => "116",
        Currency::Usd => "840",
    };
    if upi.is_some() && req.currency == Currency::Usd {
        return Err(FieldError::new(
            Field::UnionPayMerchantAccount,
            Rule::NotAllowedWithUsd,
            codes::UPI_ACCOUNT_INFORMATION_INVALID_CURRENCY,
        )
        .into());
    }

    // 54 amount.
    let amount_text = amount_text?;

    // 59 merchant name.
    let name = req.merchant_name.as_str();
    if name.is_empty() {
        return Err(FieldError::new(
            Field::MerchantName,
            Rule::Empty,
            codes::MERCHANT_NAME_REQUIRED,
        )
        .into());
    }
    max_len(
        Field::MerchantName,
        name,
        25,
        codes::MERCHANT_NAME_LENGTH_INVALID,
    )?;
    no_control(Field::MerchantName, name)?;

    // 60 merchant city.
    let city = if req.merchant_city.is_empty() {
        DEFAULT_CITY
    } else {
        req.merchant_city.as_str()
    };
    max_len(
        Field::MerchantCity,
        city,
        15,
        codes::MERCHANT_CITY_LENGTH_INVALID,
    )?;
    no_control(Field::MerchantCity, city)?;

    // 62 additional data.
    let additional = additional_template(req)?;
    // 64 language template.
    let language = language_template(req)?;

    // 99 timestamps (dynamic only).
    let timestamps = if dynamic {
        Some(timestamp_template(req.expiration_ms, clock_ms)?)
    } else {
        None
    };

    if let Some(u) = &upi_tlv {
        out.push_str(u);
    }
    out.push_str(&account);
    tlv(&mut out, "52", mcc);
    tlv(&mut out, "53", currency);
    if let Some(a) = &amount_text {
        tlv(&mut out, "54", a);
    }
    tlv(&mut out, "58", "KH");
    tlv(&mut out, "59", name);
    tlv(&mut out, "60", city);
    if let Some(t) = additional {
        tlv(&mut out, "62", &t);
    }
    if let Some(t) = language {
        tlv(&mut out, "64", &t);
    }
    if let Some(t) = timestamps {
        tlv(&mut out, "99", &t);
    }
    out.push_str("6304");
    let crc = crc16_hex(&out);
    out.push_str(&crc);
    let md5 = md5_hex(&out);
    Ok(Khqr { qr: out, md5 })
}

/// Appends `tag LL value`, the length in UTF-16 units.
fn tlv(out: &mut String, tag: &str, value: &str) {
    let _ = write!(out, "{tag}{:02}{value}", utf16_len(value));
}

fn present(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

fn max_len(field: Field, value: &str, max: usize, code: u32) -> Result<(), FieldError> {
    let len = utf16_len(value);
    if len > max {
        Err(FieldError::new(field, Rule::TooLong { max, len }, code))
    } else {
        Ok(())
    }
}

/// Refuses U+0000–U+001F and U+007F (spec section 1.5).
pub(crate) fn no_control(field: Field, value: &str) -> Result<(), GenerateError> {
    match value.chars().enumerate().find(|(_, c)| is_control(*c)) {
        Some((index, ch)) => Err(GenerateError::ControlCharacter {
            field,
            ch: ch as u32,
            index,
        }),
        None => Ok(()),
    }
}

pub(crate) fn is_control(c: char) -> bool {
    (c as u32) < 0x20 || c as u32 == 0x7F
}

fn template(field: Field, tag: &str, content: String) -> Result<String, GenerateError> {
    let len = utf16_len(&content);
    if len > MAX_VALUE_LEN {
        return Err(GenerateError::TemplateTooLong { field, len });
    }
    let mut s = String::with_capacity(content.len() + 4);
    tlv(&mut s, tag, &content);
    Ok(s)
}

fn account_template(req: &KhqrRequest) -> Result<String, GenerateError> {
    let id = req.bakong_account_id.as_str();
    if id.is_empty() {
        return Err(FieldError::new(
            Field::BakongAccountId,
            Rule::Empty,
            codes::BAKONG_ACCOUNT_ID_REQUIRED,
        )
        .into());
    }
    max_len(
        Field::BakongAccountId,
        id,
        32,
        codes::BAKONG_ACCOUNT_ID_LENGTH_INVALID,
    )?;
    if !id.contains('@') {
        return Err(FieldError::new(
            Field::BakongAccountId,
            Rule::MissingAt,
            codes::BAKONG_ACCOUNT_ID_INVALID,
        )
        .into());
    }
    no_control(Field::BakongAccountId, id)?;
    let mut content = String::new();
    tlv(&mut content, "00", id);
    let tag = match &req.account {
        Account::Merchant {
            merchant_id,
            acquiring_bank,
        } => {
            if merchant_id.is_empty() {
                return Err(FieldError::new(
                    Field::MerchantId,
                    Rule::Empty,
                    codes::MERCHANT_ID_REQUIRED,
                )
                .into());
            }
            max_len(
                Field::MerchantId,
                merchant_id,
                32,
                codes::MERCHANT_ID_LENGTH_INVALID,
            )?;
            no_control(Field::MerchantId, merchant_id)?;
            if acquiring_bank.is_empty() {
                return Err(FieldError::new(
                    Field::AcquiringBank,
                    Rule::Empty,
                    codes::ACQUIRING_BANK_REQUIRED,
                )
                .into());
            }
            max_len(
                Field::AcquiringBank,
                acquiring_bank,
                32,
                codes::ACQUIRING_BANK_LENGTH_INVALID,
            )?;
            no_control(Field::AcquiringBank, acquiring_bank)?;
            tlv(&mut content, "01", merchant_id);
            tlv(&mut content, "02", acquiring_bank);
            "30"
        }
        Account::Individual {
            account_information,
            acquiring_bank,
        } => {
            if let Some(info) = present(account_information) {
                max_len(
                    Field::AccountInformation,
                    info,
                    32,
                    codes::ACCOUNT_INFORMATION_LENGTH_INVALID,
                )?;
                no_control(Field::AccountInformation, info)?;
                tlv(&mut content, "01", info);
            }
            if let Some(bank) = present(acquiring_bank) {
                max_len(
                    Field::AcquiringBank,
                    bank,
                    32,
                    codes::ACQUIRING_BANK_LENGTH_INVALID,
                )?;
                no_control(Field::AcquiringBank, bank)?;
                tlv(&mut content, "02", bank);
            }
            "29"
        }
    };
    template(Field::MerchantAccount, tag, content)
}

fn additional_template(req: &KhqrRequest) -> Result<Option<String>, GenerateError> {
    let subs = [
        (
            Field::BillNumber,
            "01",
            &req.bill_number,
            codes::BILL_NUMBER_LENGTH_INVALID,
        ),
        (
            Field::MobileNumber,
            "02",
            &req.mobile_number,
            codes::MOBILE_NUMBER_LENGTH_INVALID,
        ),
        (
            Field::StoreLabel,
            "03",
            &req.store_label,
            codes::STORE_LABEL_LENGTH_INVALID,
        ),
        (
            Field::TerminalLabel,
            "07",
            &req.terminal_label,
            codes::TERMINAL_LABEL_LENGTH_INVALID,
        ),
        (
            Field::PurposeOfTransaction,
            "08",
            &req.purpose_of_transaction,
            codes::PURPOSE_OF_TRANSACTION_LENGTH_INVALID,
        ),
    ];
    let mut content = String::new();
    for (field, tag, value, code) in subs {
        if let Some(v) = present(value) {
            max_len(field, v, 25, code)?;
            no_control(field, v)?;
            tlv(&mut content, tag, v);
        }
    }
    if content.is_empty() {
        return Ok(None);
    }
    let len = utf16_len(&content);
    if len > MAX_VALUE_LEN {
        return Err(GenerateError::TemplateTooLong {
            field: Field::AdditionalData,
            len,
        });
    }
    Ok(Some(content))
}

fn language_template(req: &KhqrRequest) -> Result<Option<String>, GenerateError> {
    let lang = present(&req.language_preference);
    let name = present(&req.merchant_name_alternate_language);
    let city = present(&req.merchant_city_alternate_language);
    if lang.is_some() && name.is_none() {
        return Err(FieldError::new(
            Field::LanguagePreference,
            Rule::WithoutAlternateName,
            codes::MERCHANT_NAME_ALTERNATE_LANGUAGE_REQUIRED,
        )
        .into());
    }
    let mut content = String::new();
    if let Some(name) = name {
        let lang = lang.ok_or(GenerateError::MissingLanguagePreference)?;
        max_len(
            Field::LanguagePreference,
            lang,
            2,
            codes::LANGUAGE_PREFERENCE_LENGTH_INVALID,
        )?;
        no_control(Field::LanguagePreference, lang)?;
        max_len(
            Field::MerchantNameAlternateLanguage,
            name,
            25,
            codes::MERCHANT_NAME_ALTERNATE_LANGUAGE_LENGTH_INVALID,
        )?;
        no_control(Field::MerchantNameAlternateLanguage, name)?;
        tlv(&mut content, "00", lang);
        tlv(&mut content, "01", name);
    }
    if let Some(city) = city {
        max_len(
            Field::MerchantCityAlternateLanguage,
            city,
            15,
            codes::MERCHANT_CITY_ALTERNATE_LANGUAGE_LENGTH_INVALID,
        )?;
        no_control(Field::MerchantCityAlternateLanguage, city)?;
        tlv(&mut content, "02", city);
    }
    Ok(if content.is_empty() {
        None
    } else {
        Some(content)
    })
}

fn timestamp_template(expiration_ms: Option<u64>, clock_ms: u64) -> Result<String, GenerateError> {
    let exp = match expiration_ms {
        Some(e) if e != 0 => e,
        _ => {
            return Err(FieldError::new(
                Field::ExpirationTimestamp,
                Rule::Missing,
                codes::EXPIRATION_TIMESTAMP_REQUIRED,
            )
            .into())
        }
    };
    let exp_text = exp.to_string();
    if exp_text.len() != 13 {
        return Err(FieldError::new(
            Field::ExpirationTimestamp,
            Rule::TimestampLength { found: exp_text },
            codes::EXPIRATION_TIMESTAMP_LENGTH_INVALID,
        )
        .into());
    }
    let creation = clock_ms.to_string();
    if exp < clock_ms {
        return Err(FieldError::new(
            Field::ExpirationTimestamp,
            Rule::ExpirationBeforeCreation {
                expiration: exp_text,
                creation,
            },
            codes::EXPIRATION_TIMESTAMP_IN_THE_PAST,
        )
        .into());
    }
    let mut content = String::with_capacity(34);
    tlv(&mut content, "00", &creation);
    tlv(&mut content, "01", &exp_text);
    Ok(content)
}
