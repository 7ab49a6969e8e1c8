//! bKash wire format: request bodies (read leniently, as real clients send
//! them), response bodies (exact field names and JSON types), timestamps.
//! No flow logic lives here.

use crate::money::raw_text;
use chrono::{DateTime, FixedOffset, Utc};
use serde::Serialize;
use serde_json::value::RawValue;
use std::collections::HashMap;

/// A JSON object body with every value kept as its raw text, so amounts sent
/// as numbers are read from their literal (never through `f64`).
pub type RawBody = HashMap<String, Box<RawValue>>;

/// Parse a request body; `None` means "not a JSON object" (gateway 400).
pub fn parse_body(bytes: &[u8]) -> Option<RawBody> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Some(RawBody::new());
    }
    serde_json::from_slice(bytes).ok()
}

/// A field as text: strings trimmed, numbers as written; empty strings and
/// nulls count as absent (clients send `"agreementID": ""`).
pub fn field(body: &RawBody, key: &str) -> Option<String> {
    body.get(key).and_then(|v| raw_text(v))
}

fn bd_offset() -> FixedOffset {
    FixedOffset::east_opt(6 * 3600).expect("valid offset")
}

fn bd(ms: u64) -> DateTime<FixedOffset> {
    DateTime::<Utc>::from_timestamp_millis(ms as i64)
        .unwrap_or_default()
        .with_timezone(&bd_offset())
}

/// `2025-03-04T14:05:09:123 GMT+0600` — colon before the milliseconds.
pub fn time(ms: u64) -> String {
    bd(ms).format("%Y-%m-%dT%H:%M:%S:%3f GMT+0600").to_string()
}

/// Same with milliseconds `000` (search results).
pub fn time_whole_seconds(ms: u64) -> String {
    time(ms - ms % 1000)
}

/// Refund-v2 item time: no offset at all, milliseconds `000`.
pub fn time_no_offset(ms: u64) -> String {
    bd(ms - ms % 1000)
        .format("%Y-%m-%dT%H:%M:%S:%3f")
        .to_string()
}

/// IPN `dateTime`: `yyyyMMddHHmmss`, Bangladesh time.
pub fn ipn_time(ms: u64) -> String {
    bd(ms).format("%Y%m%d%H%M%S").to_string()
}

/// SNS envelope `Timestamp`: ISO 8601 UTC with milliseconds and `Z`.
pub fn sns_time(ms: u64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms as i64)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// Shape 1 error: HTTP 200 `{"statusCode","statusMessage"}`.
#[derive(Debug, Clone, Serialize)]
pub struct StatusError {
    #[serde(rename = "statusCode")]
    pub status_code: String,
    #[serde(rename = "statusMessage")]
    pub status_message: String,
}

/// v2 refund error: HTTP 400.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct V2Error {
    pub internal_code: String,
    pub external_code: String,
    pub error_message_en: String,
    pub error_message_bn: Option<String>,
}

/// API Gateway body `{"message": ...}`.
#[derive(Debug, Clone, Serialize)]
pub struct GatewayError {
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    /// Absent when `token_status_code = false` (some servers answer so).
    #[serde(rename = "statusCode", skip_serializing_if = "Option::is_none")]
    pub status_code: Option<String>,
    #[serde(rename = "statusMessage", skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    pub id_token: String,
    pub token_type: String,
    /// A JSON number, unlike everything else.
    pub expires_in: u64,
    pub refresh_token: String,
}

/// Create answer for all three modes (fields absent where a mode has none).
#[derive(Debug, Clone, Serialize)]
pub struct CreateResponse {
    #[serde(rename = "statusCode")]
    pub status_code: String,
    #[serde(rename = "statusMessage")]
    pub status_message: String,
    #[serde(rename = "paymentID")]
    pub payment_id: String,
    #[serde(rename = "bkashURL")]
    pub bkash_url: String,
    #[serde(rename = "callbackURL")]
    pub callback_url: String,
    #[serde(rename = "successCallbackURL")]
    pub success_callback_url: String,
    #[serde(rename = "failureCallbackURL")]
    pub failure_callback_url: String,
    #[serde(rename = "cancelledCallbackURL")]
    pub cancelled_callback_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(rename = "agreementID", skip_serializing_if = "Option::is_none")]
    pub agreement_id: Option<String>,
    #[serde(rename = "paymentCreateTime", skip_serializing_if = "Option::is_none")]
    pub payment_create_time: Option<String>,
    #[serde(rename = "transactionStatus", skip_serializing_if = "Option::is_none")]
    pub transaction_status: Option<String>,
    #[serde(
        rename = "merchantInvoiceNumber",
        skip_serializing_if = "Option::is_none"
    )]
    pub merchant_invoice_number: Option<String>,
    #[serde(rename = "payerReference", skip_serializing_if = "Option::is_none")]
    pub payer_reference: Option<String>,
    #[serde(rename = "agreementStatus", skip_serializing_if = "Option::is_none")]
    pub agreement_status: Option<String>,
    #[serde(
        rename = "agreementCreateTime",
        skip_serializing_if = "Option::is_none"
    )]
    pub agreement_create_time: Option<String>,
}

/// Execute answer for a payment (modes 0011 and 0001).
#[derive(Debug, Clone, Serialize)]
pub struct ExecutePaymentResponse {
    #[serde(rename = "statusCode")]
    pub status_code: String,
    #[serde(rename = "statusMessage")]
    pub status_message: String,
    #[serde(rename = "paymentID")]
    pub payment_id: String,
    #[serde(rename = "agreementID", skip_serializing_if = "Option::is_none")]
    pub agreement_id: Option<String>,
    #[serde(rename = "trxID")]
    pub trx_id: String,
    #[serde(rename = "transactionStatus")]
    pub transaction_status: String,
    pub amount: String,
    pub currency: String,
    pub intent: String,
    #[serde(rename = "paymentExecuteTime")]
    pub payment_execute_time: String,
    #[serde(rename = "merchantInvoiceNumber")]
    pub merchant_invoice_number: String,
    #[serde(rename = "payerType")]
    pub payer_type: String,
    #[serde(rename = "payerReference")]
    pub payer_reference: String,
    #[serde(rename = "customerMsisdn")]
    pub customer_msisdn: String,
    #[serde(rename = "payerAccount")]
    pub payer_account: String,
    #[serde(rename = "maxRefundableAmount")]
    pub max_refundable_amount: String,
}

/// Execute answer for an agreement (mode 0000).
#[derive(Debug, Clone, Serialize)]
pub struct ExecuteAgreementResponse {
    #[serde(rename = "statusCode")]
    pub status_code: String,
    #[serde(rename = "statusMessage")]
    pub status_message: String,
    #[serde(rename = "paymentID")]
    pub payment_id: String,
    #[serde(rename = "agreementID")]
    pub agreement_id: String,
    #[serde(rename = "payerReference")]
    pub payer_reference: String,
    #[serde(rename = "agreementExecuteTime")]
    pub agreement_execute_time: String,
    #[serde(rename = "agreementStatus")]
    pub agreement_status: String,
    #[serde(rename = "customerMsisdn")]
    pub customer_msisdn: String,
}

/// Payment status ("query payment"), payment and agreement views.
#[derive(Debug, Clone, Serialize, Default)]
pub struct StatusResponse {
    #[serde(rename = "statusCode")]
    pub status_code: String,
    #[serde(rename = "statusMessage")]
    pub status_message: String,
    #[serde(rename = "paymentID")]
    pub payment_id: String,
    pub mode: String,
    #[serde(rename = "paymentCreateTime", skip_serializing_if = "Option::is_none")]
    pub payment_create_time: Option<String>,
    #[serde(rename = "paymentExecuteTime", skip_serializing_if = "Option::is_none")]
    pub payment_execute_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
    #[serde(rename = "merchantInvoice", skip_serializing_if = "Option::is_none")]
    pub merchant_invoice: Option<String>,
    #[serde(rename = "trxID", skip_serializing_if = "Option::is_none")]
    pub trx_id: Option<String>,
    #[serde(rename = "transactionStatus", skip_serializing_if = "Option::is_none")]
    pub transaction_status: Option<String>,
    #[serde(rename = "verificationStatus")]
    pub verification_status: String,
    #[serde(rename = "payerReference")]
    pub payer_reference: String,
    #[serde(rename = "payerAccount", skip_serializing_if = "Option::is_none")]
    pub payer_account: Option<String>,
    #[serde(rename = "payerType", skip_serializing_if = "Option::is_none")]
    pub payer_type: Option<String>,
    #[serde(rename = "agreementID", skip_serializing_if = "Option::is_none")]
    pub agreement_id: Option<String>,
    #[serde(rename = "agreementStatus", skip_serializing_if = "Option::is_none")]
    pub agreement_status: Option<String>,
    #[serde(
        rename = "agreementCreateTime",
        skip_serializing_if = "Option::is_none"
    )]
    pub agreement_create_time: Option<String>,
    #[serde(
        rename = "agreementExecuteTime",
        skip_serializing_if = "Option::is_none"
    )]
    pub agreement_execute_time: Option<String>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct SearchResponse {
    #[serde(rename = "trxID")]
    pub trx_id: String,
    #[serde(rename = "initiationTime")]
    pub initiation_time: String,
    #[serde(rename = "completedTime")]
    pub completed_time: String,
    #[serde(rename = "transactionType")]
    pub transaction_type: String,
    #[serde(rename = "customerMsisdn")]
    pub customer_msisdn: String,
    #[serde(rename = "payerAccount")]
    pub payer_account: String,
    #[serde(rename = "payerType", skip_serializing_if = "Option::is_none")]
    pub payer_type: Option<String>,
    #[serde(rename = "transactionStatus")]
    pub transaction_status: String,
    pub amount: String,
    pub currency: String,
    #[serde(rename = "organizationShortCode")]
    pub organization_short_code: String,
    #[serde(rename = "serviceFee", skip_serializing_if = "Option::is_none")]
    pub service_fee: Option<String>,
    #[serde(rename = "creditedAmount", skip_serializing_if = "Option::is_none")]
    pub credited_amount: Option<String>,
    #[serde(
        rename = "maxRefundableAmount",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_refundable_amount: Option<String>,
    #[serde(rename = "originalTrxAmount", skip_serializing_if = "Option::is_none")]
    pub original_trx_amount: Option<String>,
    #[serde(rename = "statusCode")]
    pub status_code: String,
    #[serde(rename = "statusMessage")]
    pub status_message: String,
}

/// Refund v1 and refund status v1.
#[derive(Debug, Clone, Serialize)]
pub struct RefundV1Response {
    #[serde(rename = "statusCode")]
    pub status_code: String,
    #[serde(rename = "statusMessage")]
    pub status_message: String,
    #[serde(rename = "originalTrxID")]
    pub original_trx_id: String,
    #[serde(rename = "refundTrxID")]
    pub refund_trx_id: String,
    #[serde(rename = "transactionStatus")]
    pub transaction_status: String,
    pub amount: String,
    pub currency: String,
    pub charge: String,
    #[serde(rename = "completedTime")]
    pub completed_time: String,
}

/// Refund v2: no `statusCode` on success.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundV2Response {
    pub original_trx_id: String,
    pub refund_trx_id: String,
    pub refund_transaction_status: String,
    pub original_trx_amount: String,
    pub refund_amount: String,
    pub currency: String,
    pub completed_time: String,
    pub sku: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundV2Item {
    pub refund_trx_id: String,
    pub refund_transaction_status: String,
    pub refund_amount: String,
    /// No offset in this one place.
    pub completed_time: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundStatusV2Response {
    pub original_trx_id: String,
    pub original_trx_amount: String,
    pub original_trx_completed_time: String,
    pub refund_transactions: Vec<RefundV2Item>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AgreementStatusResponse {
    #[serde(rename = "statusCode")]
    pub status_code: String,
    #[serde(rename = "statusMessage")]
    pub status_message: String,
    #[serde(rename = "agreementID")]
    pub agreement_id: String,
    #[serde(rename = "paymentID")]
    pub payment_id: String,
    #[serde(rename = "agreementStatus")]
    pub agreement_status: String,
    #[serde(rename = "agreementCreateTime")]
    pub agreement_create_time: String,
    #[serde(rename = "agreementExecuteTime")]
    pub agreement_execute_time: String,
    #[serde(rename = "agreementVoidTime", skip_serializing_if = "Option::is_none")]
    pub agreement_void_time: Option<String>,
    #[serde(rename = "payerReference")]
    pub payer_reference: String,
    #[serde(rename = "customerMsisdn")]
    pub customer_msisdn: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AgreementCancelResponse {
    #[serde(rename = "statusCode")]
    pub status_code: String,
    #[serde(rename = "statusMessage")]
    pub status_message: String,
    #[serde(rename = "paymentID")]
    pub payment_id: String,
    #[serde(rename = "agreementID")]
    pub agreement_id: String,
    #[serde(rename = "payerReference")]
    pub payer_reference: String,
    #[serde(rename = "agreementVoidTime")]
    pub agreement_void_time: String,
    #[serde(rename = "agreementStatus")]
    pub agreement_status: String,
}

/// Inner `Message` of a payment IPN (serialised to a JSON string in the envelope).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IpnMessage {
    pub date_time: String,
    #[serde(rename = "debitMSISDN")]
    pub debit_msisdn: String,
    pub credit_organization_name: String,
    pub credit_short_code: String,
    #[serde(rename = "trxID")]
    pub trx_id: String,
    pub transaction_status: String,
    pub transaction_type: String,
    pub amount: String,
    pub currency: String,
    pub transaction_reference: String,
    pub merchant_invoice_number: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_formats() {
        // 2025-03-04T08:05:09.123Z
        let ms = 1741075509123;
        assert_eq!(time(ms), "2025-03-04T14:05:09:123 GMT+0600");
        assert_eq!(time_whole_seconds(ms), "2025-03-04T14:05:09:000 GMT+0600");
        assert_eq!(time_no_offset(ms), "2025-03-04T14:05:09:000");
        assert_eq!(ipn_time(ms), "20250304140509");
        assert_eq!(sns_time(ms), "2025-03-04T08:05:09.123Z");
    }

    #[test]
    fn lenient_fields() {
        let b = parse_body(br#"{"amount": 250, "agreementID": "", "mode": "0011"}"#).unwrap();
        assert_eq!(field(&b, "amount").as_deref(), Some("250"));
        assert_eq!(field(&b, "agreementID"), None);
        assert!(parse_body(b"[1]").is_none());
        assert!(parse_body(b"").unwrap().is_empty());
    }
}
