//! bKash wire format: request and response bodies exactly as the API names
//! them (spec §3–§12), amounts as text. Responses are read leniently: every
//! field optional, strings or numbers accepted for text fields (field order
//! and presence vary between bKash server generations). No flow logic here.

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};

/// A text field that may arrive as a JSON string or number (`expires_in` is a
/// number; other clients have seen numbers for amounts). `null` and `""` are absent.
fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
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

// ------------------------------------------------------------------ requests

/// `POST .../token/grant` body (credentials also go in `username`/`password` headers).
#[derive(Serialize)]
pub struct GrantRequest<'a> {
    pub app_key: &'a str,
    pub app_secret: &'a str,
}

/// `POST .../token/refresh` body.
#[derive(Serialize)]
pub struct RefreshRequest<'a> {
    pub app_key: &'a str,
    pub app_secret: &'a str,
    pub refresh_token: &'a str,
}

/// `POST .../create`, mode `0011` (one-off checkout).
#[derive(Serialize, Debug, Clone)]
pub struct CreateRequest {
    pub mode: String,
    #[serde(rename = "payerReference")]
    pub payer_reference: String,
    #[serde(rename = "callbackURL")]
    pub callback_url: String,
    /// Two decimals, as text (spec §6.1).
    pub amount: String,
    pub currency: String,
    pub intent: String,
    #[serde(rename = "merchantInvoiceNumber")]
    pub merchant_invoice_number: String,
}

/// `{"paymentID": ...}` for execute and payment status.
#[derive(Serialize, Debug, Clone)]
pub struct PaymentIdRequest<'a> {
    #[serde(rename = "paymentID")]
    pub payment_id: &'a str,
}

/// `{"trxID": ...}` for search.
#[derive(Serialize, Debug, Clone)]
pub struct SearchRequest<'a> {
    #[serde(rename = "trxID")]
    pub trx_id: &'a str,
}

/// Refund v2 (`{origin}/v2/tokenized-checkout/refund/payment/transaction`), camelCase `Id`.
#[derive(Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct RefundV2Request<'a> {
    pub payment_id: &'a str,
    pub trx_id: &'a str,
    pub refund_amount: String,
    pub sku: &'a str,
    pub reason: &'a str,
}

/// Refund status v2 (`.../refund/payment/status`).
#[derive(Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct RefundStatusV2Request<'a> {
    pub payment_id: &'a str,
    pub trx_id: &'a str,
}

// ----------------------------------------------------------------- responses

/// Grant and refresh answer.
#[derive(Deserialize, Default)]
pub struct TokenResponse {
    #[serde(rename = "statusCode", default, deserialize_with = "text")]
    pub status_code: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub id_token: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub expires_in: Option<String>,
    /// May be absent on refresh: keep the old one then (spec §4).
    #[serde(default, deserialize_with = "text")]
    pub refresh_token: Option<String>,
}

/// Create answer (mode 0011).
#[derive(Deserialize, Debug, Default)]
pub struct CreateResponse {
    #[serde(rename = "paymentID", default, deserialize_with = "text")]
    pub payment_id: Option<String>,
    #[serde(rename = "bkashURL", default, deserialize_with = "text")]
    pub bkash_url: Option<String>,
    #[serde(rename = "callbackURL", default, deserialize_with = "text")]
    pub callback_url: Option<String>,
    #[serde(rename = "successCallbackURL", default, deserialize_with = "text")]
    pub success_callback_url: Option<String>,
    #[serde(rename = "failureCallbackURL", default, deserialize_with = "text")]
    pub failure_callback_url: Option<String>,
    #[serde(rename = "cancelledCallbackURL", default, deserialize_with = "text")]
    pub cancelled_callback_url: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub amount: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub currency: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub intent: Option<String>,
    #[serde(rename = "paymentCreateTime", default, deserialize_with = "text")]
    pub payment_create_time: Option<String>,
    #[serde(rename = "transactionStatus", default, deserialize_with = "text")]
    pub transaction_status: Option<String>,
    #[serde(rename = "merchantInvoiceNumber", default, deserialize_with = "text")]
    pub merchant_invoice_number: Option<String>,
}

/// Execute answer for a payment.
#[derive(Deserialize, Debug, Default)]
pub struct ExecuteResponse {
    #[serde(rename = "paymentID", default, deserialize_with = "text")]
    pub payment_id: Option<String>,
    #[serde(rename = "trxID", default, deserialize_with = "text")]
    pub trx_id: Option<String>,
    #[serde(rename = "transactionStatus", default, deserialize_with = "text")]
    pub transaction_status: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub amount: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub currency: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub intent: Option<String>,
    #[serde(rename = "paymentExecuteTime", default, deserialize_with = "text")]
    pub payment_execute_time: Option<String>,
    #[serde(rename = "merchantInvoiceNumber", default, deserialize_with = "text")]
    pub merchant_invoice_number: Option<String>,
    #[serde(rename = "customerMsisdn", default, deserialize_with = "text")]
    pub customer_msisdn: Option<String>,
    #[serde(rename = "payerAccount", default, deserialize_with = "text")]
    pub payer_account: Option<String>,
    #[serde(rename = "maxRefundableAmount", default, deserialize_with = "text")]
    pub max_refundable_amount: Option<String>,
}

/// Payment status ("query payment").
#[derive(Deserialize, Debug, Default)]
pub struct StatusResponse {
    #[serde(rename = "paymentID", default, deserialize_with = "text")]
    pub payment_id: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub mode: Option<String>,
    #[serde(rename = "paymentCreateTime", default, deserialize_with = "text")]
    pub payment_create_time: Option<String>,
    #[serde(rename = "paymentExecuteTime", default, deserialize_with = "text")]
    pub payment_execute_time: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub amount: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub currency: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub intent: Option<String>,
    /// `merchantInvoice` here, not `merchantInvoiceNumber` (spec §20.4).
    #[serde(rename = "merchantInvoice", default, deserialize_with = "text")]
    pub merchant_invoice: Option<String>,
    #[serde(rename = "trxID", default, deserialize_with = "text")]
    pub trx_id: Option<String>,
    #[serde(rename = "transactionStatus", default, deserialize_with = "text")]
    pub transaction_status: Option<String>,
    #[serde(rename = "verificationStatus", default, deserialize_with = "text")]
    pub verification_status: Option<String>,
    /// Alternative name in some doc versions.
    #[serde(rename = "userVerificationStatus", default, deserialize_with = "text")]
    pub user_verification_status: Option<String>,
    #[serde(rename = "customerMsisdn", default, deserialize_with = "text")]
    pub customer_msisdn: Option<String>,
    #[serde(rename = "payerAccount", default, deserialize_with = "text")]
    pub payer_account: Option<String>,
}

/// Search transaction answer.
#[derive(Deserialize, Debug, Default)]
pub struct SearchResponse {
    #[serde(rename = "trxID", default, deserialize_with = "text")]
    pub trx_id: Option<String>,
    #[serde(rename = "initiationTime", default, deserialize_with = "text")]
    pub initiation_time: Option<String>,
    #[serde(rename = "completedTime", default, deserialize_with = "text")]
    pub completed_time: Option<String>,
    #[serde(rename = "transactionType", default, deserialize_with = "text")]
    pub transaction_type: Option<String>,
    #[serde(rename = "customerMsisdn", default, deserialize_with = "text")]
    pub customer_msisdn: Option<String>,
    #[serde(rename = "transactionStatus", default, deserialize_with = "text")]
    pub transaction_status: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub amount: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub currency: Option<String>,
    #[serde(rename = "organizationShortCode", default, deserialize_with = "text")]
    pub organization_short_code: Option<String>,
    #[serde(rename = "maxRefundableAmount", default, deserialize_with = "text")]
    pub max_refundable_amount: Option<String>,
    #[serde(rename = "originalTrxAmount", default, deserialize_with = "text")]
    pub original_trx_amount: Option<String>,
}

/// Refund v2 answer (no `statusCode` on success).
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct RefundV2Response {
    #[serde(default, deserialize_with = "text")]
    pub original_trx_id: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub refund_trx_id: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub refund_transaction_status: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub original_trx_amount: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub refund_amount: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub currency: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub completed_time: Option<String>,
}

/// One refund in a refund-status v2 answer.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct RefundV2Item {
    #[serde(default, deserialize_with = "text")]
    pub refund_trx_id: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub refund_transaction_status: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub refund_amount: Option<String>,
    /// No offset in this one place (spec §12.2).
    #[serde(default, deserialize_with = "text")]
    pub completed_time: Option<String>,
}

/// Refund status v2 answer.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct RefundStatusV2Response {
    #[serde(default, deserialize_with = "text")]
    pub original_trx_id: Option<String>,
    #[serde(default)]
    pub refund_transactions: Option<Vec<RefundV2Item>>,
}

// ------------------------------------------------------------------- amounts

/// The amount as bKash wants it: text with exactly two decimals. Refuses
/// zero, negatives and amounts that would need rounding.
pub fn amount_text(amount: Decimal) -> Result<String, String> {
    if amount <= Decimal::ZERO {
        return Err(format!("amount must be positive, got {amount}"));
    }
    let mut a = amount.normalize();
    if a.scale() > 2 {
        return Err(format!("amount {amount} has more than 2 decimals"));
    }
    a.rescale(2);
    Ok(a.to_string())
}

/// Reads an amount exactly (`"10"`, `"250.00"`, `"1e2"` is refused). A text
/// with more digits than a `Decimal` holds is refused too, never rounded:
/// the amount must be the one bKash wrote.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts() {
        assert_eq!(amount_text(Decimal::from(10)).unwrap(), "10.00");
        assert_eq!(amount_text(Decimal::new(2505, 1)).unwrap(), "250.50");
        assert_eq!(amount_text(Decimal::new(1000, 3)).unwrap(), "1.00");
        assert!(amount_text(Decimal::new(1001, 3)).is_err());
        assert!(amount_text(Decimal::ZERO).is_err());
        assert!(amount_text(Decimal::from(-1)).is_err());
        assert_eq!(parse_amount("10"), Some(Decimal::from(10)));
        assert_eq!(parse_amount("250.00"), Some(Decimal::new(25000, 2)));
        assert_eq!(parse_amount("1e2"), None);
        assert_eq!(parse_amount(""), None);
        assert_eq!(parse_amount("abc"), None);
    }

    /// Found by `fuzz/fuzz_targets/bkash_answer.rs` (its crash input is a seed
    /// there): more digits than a `Decimal` holds were read rounded, so a
    /// payment status could report an amount bKash never wrote.
    #[test]
    fn amounts_are_never_rounded() {
        assert_eq!(
            parse_amount("1203333333333333333.3333333333333333333333331"),
            None
        );
        assert_eq!(parse_amount("100.000000000000000000000000001"), None);
        let s: StatusResponse = serde_json::from_str(
            r#"{"transactionStatus":"Completed","trxID":"X","currency":"BDT",
                "amount":"100.000000000000000000000000001"}"#,
        )
        .unwrap();
        assert!(crate::status::payment_status(s, "TR1").is_err());
        // Still exact where a Decimal holds every digit.
        assert_eq!(
            parse_amount("79228162514264337593543950335").map(|d| d.to_string()),
            Some("79228162514264337593543950335".into())
        );
        assert_eq!(
            parse_amount("0.0000000000000000000000000001").map(|d| d.to_string()),
            Some("0.0000000000000000000000000001".into())
        );
    }

    #[test]
    fn lenient_text_fields() {
        let r: TokenResponse = serde_json::from_str(
            r#"{"statusCode":"0000","id_token":"t","expires_in":3600,"refresh_token":""}"#,
        )
        .unwrap();
        assert_eq!(r.expires_in.as_deref(), Some("3600"));
        assert_eq!(r.refresh_token, None);
        let s: StatusResponse =
            serde_json::from_str(r#"{"amount": 250.5, "merchantInvoice": "I-1"}"#).unwrap();
        assert_eq!(s.amount.as_deref(), Some("250.5"));
        assert_eq!(s.merchant_invoice.as_deref(), Some("I-1"));
    }
}
