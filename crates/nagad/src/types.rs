//! The adapter's public result and request types (what the core sees).
//! Amounts are exact [`Decimal`]s; Nagad's times are kept as its raw text.

use crate::status::RefundStatus;
use rust_decimal::Decimal;

/// Masks a wallet number for logs: `01711428036` → `017*****036`.
pub fn mask_msisdn(m: &str) -> String {
    let chars: Vec<char> = m.chars().collect();
    if chars.len() <= 6 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 3..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 6))
}

/// A started payment: initialize and complete both succeeded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Started {
    /// Nagad's `paymentReferenceId`: what `verify` takes.
    pub payment_ref_id: String,
    /// `callBackUrl` of complete's answer: the customer's page.
    pub page_url: String,
    /// Our order id (the idempotency key), as sent.
    pub order_id: String,
    /// The amount sealed into complete.
    pub amount: Decimal,
    /// `acceptDateTime` of initialize's answer (`yyyyMMddHHmmss`), raw.
    pub accepted_at: Option<String>,
}

/// A refund ("cancel") to ask for, \[I\] (spec §8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundRequest {
    pub payment_ref_id: String,
    pub order_id: String,
    /// What the customer paid.
    pub original_amount: Decimal,
    /// What to give back (at most the original amount).
    pub amount: Decimal,
    /// `yyyyMMdd` (Asia/Dhaka) of the original payment; [`crate::wire::date_text`].
    pub original_date: String,
    /// Our reference of this refund (1–40 letters, digits, `-`, `_`).
    pub reference: String,
    /// Free text, at most 100 characters (longer is cut).
    pub reason: String,
}

/// What Nagad answered to a refund.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refunded {
    pub payment_ref_id: String,
    pub reference: String,
    /// Refunded only when [`RefundStatus::Done`].
    pub status: RefundStatus,
    pub raw_status: String,
    pub code: Option<String>,
    pub amount: Option<Decimal>,
    /// Nagad's id of the refund transaction, when it sends one.
    pub cancel_trx_id: Option<String>,
}

/// The harmless connection test's answer: Nagad was reached and answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionTest {
    /// The HTTP status of Nagad's answer.
    pub http_status: u16,
    /// Nagad's `reason` when it refused the made-up reference (expected).
    pub reason: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        assert_eq!(mask_msisdn("01711428036"), "017*****036");
        assert_eq!(mask_msisdn("016****5428"), "016*****428");
        assert_eq!(mask_msisdn("123"), "***");
    }
}
