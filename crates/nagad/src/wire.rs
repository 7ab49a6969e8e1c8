//! Nagad wire format: request and response bodies exactly as the merchant API
//! (`v-0.2.0`) names them, the sealed plaintexts inside `sensitiveData`, the
//! header names, and amount and time text. One definition per shape; no flow
//! logic here. Spec as sourced: `tests/data/nagad/README.md`.
//!
//! Responses are read leniently: every field optional, JSON strings or
//! numbers accepted for text fields, `null` and `""` read as absent (field
//! presence varies between captures).

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};

/// `X-KM-Api-Version` value of every call (spec §2).
pub const API_VERSION: &str = "v-0.2.0";
/// ISO 4217 numeric code of BDT, as `currencyCode` (spec §4).
pub const CURRENCY_BDT: &str = "050";
/// `statusCode` Nagad sends with a successful verify (spec §6).
pub const STATUS_CODE_SUCCESS: &str = "000";

/// Header names (spec §2).
pub mod header {
    pub const API_VERSION: &str = "X-KM-Api-Version";
    pub const CLIENT_IP: &str = "X-KM-IP-V4";
    pub const CLIENT_TYPE: &str = "X-KM-Client-Type";
    /// Sent by some clients (merchant id); harmless where not required.
    pub const MERCHANT_ID: &str = "X-KM-MC-Id";
}

/// Paths below the API base (`…/remote-payment-gateway-1.0/api/dfs`).
pub mod path {
    pub fn initialize(merchant_id: &str, order_id: &str) -> String {
        format!("check-out/initialize/{merchant_id}/{order_id}")
    }
    pub fn complete(payment_ref_id: &str) -> String {
        format!("check-out/complete/{payment_ref_id}")
    }
    pub fn verify(payment_ref_id: &str) -> String {
        format!("verify/payment/{payment_ref_id}")
    }
    /// The refund ("cancel") call; its ids travel in the query (spec §8, \[I\]).
    pub const CANCEL: &str = "purchase/cancel";
}

/// A text field that may arrive as a JSON string or number. `null`, `""`
/// and other JSON types are absent.
pub(crate) fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match v {
        Some(serde_json::Value::String(s)) => {
            let s = s.trim().to_string();
            (!s.is_empty()).then_some(s)
        }
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

// ---------------------------------------------------------- sealed plaintexts

/// The plaintext sealed into initialize's `sensitiveData` and signed (spec §3).
/// Field order as every public client writes it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct InitializeSensitive {
    pub merchant_id: String,
    /// `yyyyMMddHHmmss`, Asia/Dhaka.
    pub datetime: String,
    pub order_id: String,
    /// Our random challenge.
    pub challenge: String,
}

/// What initialize's sealed answer holds (spec §3).
#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct InitializeAnswer {
    #[serde(default, deserialize_with = "text")]
    pub payment_reference_id: Option<String>,
    /// Nagad's challenge, to be sealed into complete.
    #[serde(default, deserialize_with = "text")]
    pub challenge: Option<String>,
    /// `yyyyMMddHHmmss`.
    #[serde(default, deserialize_with = "text")]
    pub accept_date_time: Option<String>,
}

/// The plaintext sealed into complete's `sensitiveData` and signed (spec §4).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CompleteSensitive {
    pub merchant_id: String,
    pub order_id: String,
    /// `"050"` (BDT).
    pub currency_code: String,
    /// Two decimals as text, e.g. `"10.00"`.
    pub amount: String,
    /// Nagad's challenge from initialize, echoed.
    pub challenge: String,
}

/// The plaintext sealed into the refund call (spec §8, \[I\]).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CancelSensitive {
    pub merchant_id: String,
    /// `yyyyMMdd` (Asia/Dhaka) of the original payment.
    pub original_request_date: String,
    pub original_amount: String,
    pub cancel_amount: String,
    /// Our reference of this refund.
    pub reference_no: String,
    pub reference_message: String,
}

/// What the refund call's sealed answer holds (spec §8, \[?\]).
#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct CancelAnswer {
    #[serde(default, deserialize_with = "text")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub code: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub original_amount: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub cancel_amount: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub cancel_trx_id: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub reference_no: Option<String>,
}

// ---------------------------------------------------------------- requests

/// `POST check-out/initialize/{merchantId}/{orderId}` body (spec §3).
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct InitializeRequest {
    /// The merchant's wallet number; optional (spec §3, \[C\]).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub account_number: Option<String>,
    /// `yyyyMMddHHmmss`, Asia/Dhaka; the same as the sealed `datetime`.
    pub date_time: String,
    pub sensitive_data: String,
    pub signature: String,
}

/// `POST check-out/complete/{paymentReferenceId}` body (spec §4).
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct CompleteRequest {
    pub sensitive_data: String,
    pub signature: String,
    #[serde(rename = "merchantCallbackURL")]
    pub merchant_callback_url: String,
    /// Free-form JSON object shown on / kept with the payment; optional.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub additional_merchant_info: Option<serde_json::Value>,
}

/// `POST purchase/cancel?paymentRefId=…&orderId=…` body (spec §8, \[I\]).
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct CancelRequest {
    pub sensitive_data_cancel_request: String,
    pub signature: String,
}

// ---------------------------------------------------------------- responses

/// A sealed answer: `{sensitiveData, signature}` (initialize, refund).
#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct SealedResponse {
    #[serde(default, deserialize_with = "text")]
    pub sensitive_data: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub signature: Option<String>,
}

/// Complete's answer (spec §4): `status` `"Success"` and the customer's page.
#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct CompleteResponse {
    #[serde(default, deserialize_with = "text")]
    pub status: Option<String>,
    #[serde(rename = "callBackUrl", default, deserialize_with = "text")]
    pub call_back_url: Option<String>,
}

/// `GET verify/payment/{paymentRefId}` answer (spec §6).
#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct VerifyResponse {
    #[serde(default, deserialize_with = "text")]
    pub merchant_id: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub order_id: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub payment_ref_id: Option<String>,
    /// As text (`"16"`, `"10.00"`); never read as a float.
    #[serde(default, deserialize_with = "text")]
    pub amount: Option<String>,
    /// Masked by Nagad (`016****5428`).
    #[serde(default, deserialize_with = "text")]
    pub client_mobile_no: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub merchant_mobile_no: Option<String>,
    /// `yyyy-MM-dd HH:mm:ss.S`, Asia/Dhaka.
    #[serde(default, deserialize_with = "text")]
    pub order_date_time: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub issuer_payment_date_time: Option<String>,
    /// Nagad's transaction id of the payment.
    #[serde(default, deserialize_with = "text")]
    pub issuer_payment_ref_no: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub status_code: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub cancel_issuer_date_time: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub cancel_issuer_ref_no: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub service_type: Option<String>,
}

/// Nagad's error body, with a 4xx (sometimes 5xx) status (spec §7).
#[derive(Deserialize, Debug, Clone, Default)]
pub struct ErrorBody {
    #[serde(default, deserialize_with = "text")]
    pub reason: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub message: Option<String>,
}

// ---------------------------------------------------------- callback query

/// Query parameter names Nagad appends to `merchantCallbackURL` (spec §5).
pub mod callback_param {
    pub const MERCHANT: &str = "merchant";
    pub const ORDER_ID: &str = "order_id";
    pub const PAYMENT_REF_ID: &str = "payment_ref_id";
    pub const STATUS: &str = "status";
    pub const STATUS_CODE: &str = "status_code";
    pub const MESSAGE: &str = "message";
    pub const PAYMENT_DT: &str = "payment_dt";
    pub const ISSUER_PAYMENT_REF: &str = "issuer_payment_ref";
    pub const ALL: &[&str] = &[
        MERCHANT,
        ORDER_ID,
        PAYMENT_REF_ID,
        STATUS,
        STATUS_CODE,
        MESSAGE,
        PAYMENT_DT,
        ISSUER_PAYMENT_REF,
    ];
}

// ------------------------------------------------------------------- amounts

/// The amount as we send it: text with exactly two decimals. Refuses zero,
/// negatives and amounts that would need rounding.
pub fn amount_text(amount: Decimal) -> Result<String, AmountError> {
    if amount <= Decimal::ZERO {
        return Err(AmountError::NotPositive);
    }
    let mut a = amount.normalize();
    if a.scale() > 2 {
        return Err(AmountError::TooPrecise);
    }
    a.rescale(2);
    Ok(a.to_string())
}

/// Why an amount cannot be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("the amount must be positive")]
    NotPositive,
    #[error("the amount has more than 2 decimals")]
    TooPrecise,
}

/// Reads an amount exactly (`"16"`, `"10.00"`). Exponents, signs other than
/// a leading `-`, and texts with more digits than a `Decimal` holds are
/// refused, never rounded: the amount must be the one Nagad wrote.
pub fn parse_amount(text: &str) -> Option<Decimal> {
    let t = text.trim();
    if t.is_empty()
        || !t
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return None;
    }
    Decimal::from_str_exact(t).ok()
}

// --------------------------------------------------------------------- times

/// Bangladesh Standard Time, UTC+6, no daylight saving since 2009.
pub fn dhaka() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(6 * 3600).expect("UTC+6 is a valid offset")
}

/// `yyyyMMddHHmmss` in Asia/Dhaka for `at` (initialize's `datetime`).
pub fn datetime_text(at: std::time::SystemTime) -> String {
    let utc: chrono::DateTime<chrono::Utc> = at.into();
    utc.with_timezone(&dhaka())
        .format("%Y%m%d%H%M%S")
        .to_string()
}

/// `yyyyMMdd` in Asia/Dhaka for `at` (the refund's `originalRequestDate`).
pub fn date_text(at: std::time::SystemTime) -> String {
    let utc: chrono::DateTime<chrono::Utc> = at.into();
    utc.with_timezone(&dhaka()).format("%Y%m%d").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn amounts_are_exact() {
        assert_eq!(amount_text(Decimal::from(10)).unwrap(), "10.00");
        assert_eq!(amount_text(Decimal::new(2505, 1)).unwrap(), "250.50");
        assert_eq!(amount_text(Decimal::new(1000, 3)).unwrap(), "1.00");
        assert_eq!(
            amount_text(Decimal::new(1001, 3)),
            Err(AmountError::TooPrecise)
        );
        assert_eq!(amount_text(Decimal::ZERO), Err(AmountError::NotPositive));
        assert_eq!(parse_amount("16"), Some(Decimal::from(16)));
        assert_eq!(parse_amount("10.00"), Some(Decimal::new(1000, 2)));
        assert_eq!(parse_amount("1e2"), None);
        assert_eq!(parse_amount("+5"), None);
        assert_eq!(parse_amount(""), None);
        assert_eq!(parse_amount("100.000000000000000000000000001"), None);
    }

    #[test]
    fn dhaka_time_is_utc_plus_six() {
        // 2021-11-23 17:48:22 UTC = 23:48:22 in Dhaka (a capture's orderDateTime).
        let at = UNIX_EPOCH + Duration::from_secs(1_637_689_702);
        assert_eq!(datetime_text(at), "20211123234822");
        assert_eq!(date_text(at), "20211123");
        // 18:30 UTC is already the next day there.
        let late = UNIX_EPOCH + Duration::from_secs(1_637_692_200);
        assert_eq!(date_text(late), "20211124");
    }

    #[test]
    fn sealed_plaintexts_have_the_published_field_names_in_order() {
        let s = InitializeSensitive {
            merchant_id: "683002007104225".into(),
            datetime: "20240202124953".into(),
            order_id: "Order20240202124953".into(),
            challenge: "abc".into(),
        };
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"merchantId":"683002007104225","datetime":"20240202124953","orderId":"Order20240202124953","challenge":"abc"}"#
        );
        let c = CompleteSensitive {
            merchant_id: "M".into(),
            order_id: "O".into(),
            currency_code: CURRENCY_BDT.into(),
            amount: "10.00".into(),
            challenge: "x".into(),
        };
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"{"merchantId":"M","orderId":"O","currencyCode":"050","amount":"10.00","challenge":"x"}"#
        );
        let r = CompleteRequest {
            sensitive_data: "s".into(),
            signature: "g".into(),
            merchant_callback_url: "http://x/cb".into(),
            additional_merchant_info: None,
        };
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"sensitiveData":"s","signature":"g","merchantCallbackURL":"http://x/cb"}"#
        );
    }

    #[test]
    fn verify_answers_are_read_leniently() {
        // The shape of a published capture (values from its README).
        let v: VerifyResponse = serde_json::from_str(
            r#"{"merchantId":"683XXXX225","orderId":"CKH060JXXXXXFRA2","paymentRefId":"MXX=",
                "amount":"16","clientMobileNo":"016****5428","merchantMobileNo":"01XXXXXXX10",
                "orderDateTime":"2021-11-23 23:48:22.0","issuerPaymentDateTime":"2021-11-23 23:50:08.0",
                "issuerPaymentRefNo":"000XXXW","additionalMerchantInfo":null,"status":"Success",
                "statusCode":"000","cancelIssuerDateTime":null,"cancelIssuerRefNo":null}"#,
        )
        .unwrap();
        assert_eq!(v.amount.as_deref(), Some("16"));
        assert_eq!(v.status.as_deref(), Some("Success"));
        assert_eq!(v.cancel_issuer_ref_no, None);
        let n: VerifyResponse = serde_json::from_str(r#"{"amount": 16.5, "status": ""}"#).unwrap();
        assert_eq!(n.amount.as_deref(), Some("16.5"));
        assert_eq!(n.status, None);
    }
}
