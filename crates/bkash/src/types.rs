//! The adapter's public request and result types (what the core sees).
//! Amounts are exact [`Decimal`]s; times are kept as bKash's raw text
//! (`2025-03-04T14:05:09:123 GMT+0600`, spec §2.4: not ISO 8601).

use crate::status::{BkashStatus, RefundStatus};
use rust_decimal::Decimal;
use std::fmt;

/// Masks a wallet number for logs: `01770618575` → `017*****575`.
pub fn mask_msisdn(m: &str) -> String {
    let chars: Vec<char> = m.chars().collect();
    if chars.len() <= 6 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 3..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 6))
}

/// A one-off checkout payment to create (mode `0011`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreatePayment {
    /// Positive, at most 2 decimals (sent as `"250.00"`).
    pub amount: Decimal,
    /// Only `"BDT"` is accepted by bKash; others are refused locally.
    pub currency: String,
    /// `merchantInvoiceNumber` = the core's idempotency key (max 255, no `<>&`).
    pub invoice: String,
    /// Where bKash sends the browser afterwards (the webview catches it).
    pub callback_url: String,
    /// `payerReference`: a wallet number pre-fills the hosted page.
    pub payer_reference: String,
    /// `"sale"` (or `"authorization"` for auth-and-capture merchants).
    pub intent: String,
}

impl CreatePayment {
    /// A BDT sale.
    pub fn sale(
        amount: Decimal,
        invoice: impl Into<String>,
        callback_url: impl Into<String>,
        payer_reference: impl Into<String>,
    ) -> Self {
        CreatePayment {
            amount,
            currency: "BDT".into(),
            invoice: invoice.into(),
            callback_url: callback_url.into(),
            payer_reference: payer_reference.into(),
            intent: "sale".into(),
        }
    }
}

/// The three callback URLs bKash will redirect the browser to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallbackUrls {
    pub success: String,
    pub failure: String,
    pub cancel: String,
}

/// How long a `paymentID` can be executed after create (spec §8.3, §20.10
/// [V]: single use, expires 24 h after create). Past it, a payment bKash has
/// not completed never will be.
pub const PAYMENT_ID_LIFETIME: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// A created payment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Created {
    /// `paymentID` (single use, expires 24 h after create).
    pub payment_id: String,
    /// Opaque hosted-page URL to open in the webview.
    pub bkash_url: String,
    pub callback_urls: CallbackUrls,
    /// Echoed amount (checked equal to the requested one).
    pub amount: Decimal,
    pub currency: String,
    /// Echoed `merchantInvoiceNumber`, when bKash sends it.
    pub invoice: Option<String>,
    /// `paymentCreateTime`, raw.
    pub created_at: Option<String>,
    /// Usually `Initiated`.
    pub transaction_status: Option<String>,
}

/// An executed payment. Settled only when `transaction_status` is
/// [`BkashStatus::Completed`] *and* amount/currency equal what was asked.
#[derive(Clone, PartialEq, Eq)]
pub struct Executed {
    pub payment_id: String,
    pub trx_id: String,
    pub amount: Decimal,
    pub currency: String,
    pub transaction_status: BkashStatus,
    /// The text bKash sent in `transactionStatus`.
    pub raw_status: String,
    /// Wallet that paid (masked in `Debug`).
    pub customer_msisdn: Option<String>,
    /// `paymentExecuteTime`, raw.
    pub completed_time: Option<String>,
    pub invoice: Option<String>,
    /// `maxRefundableAmount` (current servers).
    pub max_refundable: Option<Decimal>,
}

impl fmt::Debug for Executed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Executed")
            .field("payment_id", &self.payment_id)
            .field("trx_id", &self.trx_id)
            .field("amount", &self.amount)
            .field("currency", &self.currency)
            .field("transaction_status", &self.transaction_status)
            .field("raw_status", &self.raw_status)
            .field(
                "customer_msisdn",
                &self.customer_msisdn.as_deref().map(mask_msisdn),
            )
            .field("completed_time", &self.completed_time)
            .field("invoice", &self.invoice)
            .field("max_refundable", &self.max_refundable)
            .finish()
    }
}

/// Payment status ("query payment"). The provider's word for settlement
/// after an unknown execute: `status == Completed` with a `trx_id`.
#[derive(Clone, PartialEq, Eq)]
pub struct PaymentStatus {
    pub payment_id: String,
    pub status: BkashStatus,
    pub trx_id: Option<String>,
    pub amount: Option<Decimal>,
    pub currency: Option<String>,
    /// `transactionStatus` as sent (empty when absent).
    pub raw_status: String,
    /// `verificationStatus`: `Complete` once the customer finished on the
    /// hosted page, else `Incomplete` (absent on some servers).
    pub verification_status: Option<String>,
    /// `merchantInvoice` (our idempotency key).
    pub invoice: Option<String>,
    pub mode: Option<String>,
    pub intent: Option<String>,
    pub created_time: Option<String>,
    pub executed_time: Option<String>,
    /// `customerMsisdn`/`payerAccount` when the server sends one (masked in `Debug`).
    pub customer_msisdn: Option<String>,
}

impl PaymentStatus {
    /// `Completed` with a trxID: the payment is settled on bKash's side.
    pub fn is_completed(&self) -> bool {
        self.status == BkashStatus::Completed && self.trx_id.is_some()
    }

    /// The customer finished on the hosted page (execute may now succeed).
    pub fn is_verified(&self) -> bool {
        self.verification_status
            .as_deref()
            .is_some_and(|v| v.eq_ignore_ascii_case("complete"))
    }
}

impl fmt::Debug for PaymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PaymentStatus")
            .field("payment_id", &self.payment_id)
            .field("status", &self.status)
            .field("trx_id", &self.trx_id)
            .field("amount", &self.amount)
            .field("currency", &self.currency)
            .field("raw_status", &self.raw_status)
            .field("verification_status", &self.verification_status)
            .field("invoice", &self.invoice)
            .field("mode", &self.mode)
            .field("intent", &self.intent)
            .field("created_time", &self.created_time)
            .field("executed_time", &self.executed_time)
            .field(
                "customer_msisdn",
                &self.customer_msisdn.as_deref().map(mask_msisdn),
            )
            .finish()
    }
}

/// Search transaction result.
#[derive(Clone, PartialEq, Eq)]
pub struct SearchResult {
    pub trx_id: String,
    pub status: BkashStatus,
    pub raw_status: String,
    pub amount: Option<Decimal>,
    pub currency: Option<String>,
    pub transaction_type: Option<String>,
    pub initiation_time: Option<String>,
    pub completed_time: Option<String>,
    /// Masked in `Debug`.
    pub customer_msisdn: Option<String>,
    pub organization_short_code: Option<String>,
    pub max_refundable: Option<Decimal>,
    /// Present when the trxID is a refund.
    pub original_trx_amount: Option<Decimal>,
}

impl fmt::Debug for SearchResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SearchResult")
            .field("trx_id", &self.trx_id)
            .field("status", &self.status)
            .field("raw_status", &self.raw_status)
            .field("amount", &self.amount)
            .field("currency", &self.currency)
            .field("transaction_type", &self.transaction_type)
            .field("initiation_time", &self.initiation_time)
            .field("completed_time", &self.completed_time)
            .field(
                "customer_msisdn",
                &self.customer_msisdn.as_deref().map(mask_msisdn),
            )
            .field("organization_short_code", &self.organization_short_code)
            .field("max_refundable", &self.max_refundable)
            .field("original_trx_amount", &self.original_trx_amount)
            .finish()
    }
}

/// A refund to make (full or partial; bKash allows up to 10 per transaction through v2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundRequest {
    pub payment_id: String,
    pub trx_id: String,
    /// Positive, at most 2 decimals.
    pub amount: Decimal,
    /// Max 255 chars; bKash may refuse an empty one, so `"not_provided"` is sent then.
    pub sku: String,
    /// Max 255 chars; `"not_provided"` is sent when empty.
    pub reason: String,
}

/// A refund bKash answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refunded {
    pub original_trx_id: String,
    pub refund_trx_id: String,
    /// Refunded only when [`RefundStatus::Completed`].
    pub status: RefundStatus,
    pub raw_status: String,
    pub amount: Decimal,
    pub original_trx_amount: Option<Decimal>,
    pub currency: Option<String>,
    pub completed_time: Option<String>,
}

/// One refund of a transaction (refund status).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundInfo {
    pub refund_trx_id: String,
    pub status: RefundStatus,
    pub raw_status: String,
    pub amount: Decimal,
    /// Raw; no UTC offset in v2 answers (Bangladesh time implied).
    pub completed_time: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        assert_eq!(mask_msisdn("01770618575"), "017*****575");
        assert_eq!(mask_msisdn("123"), "***");
    }
}
