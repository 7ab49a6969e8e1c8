//! Nagad's words → ours. A verify answer becomes an [`Outcome`]: `Paid` only
//! on an explicit `Success` with an exact amount and Nagad's transaction id;
//! `Failed` only on a word that says so (`Aborted`, `Failed`, `Cancelled`,
//! …); anything else — including words we do not know — is `Pending`.
//! An amount that is not an exact decimal is refused ([`Problem`]), never
//! rounded.

use crate::error::Problem;
use crate::types::mask_msisdn;
use crate::wire::{self, parse_amount, VerifyResponse};
use rust_decimal::Decimal;
use std::fmt;

/// What a verify answer says about the payment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// `Success`: money moved. The core still compares `amount` with what
    /// it asked before settling.
    Paid {
        /// Exact, from the answer's text.
        amount: Decimal,
        /// `issuerPaymentRefNo`: Nagad's transaction id.
        issuer_ref: String,
        /// `issuerPaymentDateTime`, raw (`yyyy-MM-dd HH:mm:ss.S`, Dhaka).
        paid_at: Option<String>,
    },
    /// Explicitly not paid: `Aborted`, `Failed`, `Cancelled`, `UnKnownFailed`,
    /// `InvalidRequest`, `Fraud`.
    Failed {
        /// `statusCode`, when sent.
        code: Option<String>,
        /// The status word as Nagad wrote it.
        reason: String,
    },
    /// Anything else (`OrderInitiated`, `Ready`, `InProgress`, refund words,
    /// an absent or unknown status): ask again later.
    Pending,
}

/// Status words that mean "not paid, and will not be" (spec §6).
const FAILED_WORDS: &[&str] = &[
    "aborted",
    "failed",
    "cancelled",
    "canceled",
    "unknownfailed",
    "invalidrequest",
    "fraud",
];

fn key(raw: &str) -> String {
    raw.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// A verify answer, mapped.
#[derive(Clone, PartialEq, Eq)]
pub struct PaymentStatus {
    pub payment_ref_id: String,
    pub outcome: Outcome,
    /// `status` as sent (empty when absent).
    pub raw_status: String,
    pub status_code: Option<String>,
    pub order_id: Option<String>,
    pub merchant_id: Option<String>,
    /// The amount Nagad reports, exact, whatever the status.
    pub amount: Option<Decimal>,
    /// `clientMobileNo` (Nagad masks it; `Debug` masks it again).
    pub client_mobile: Option<String>,
    pub order_date_time: Option<String>,
    /// Set once a refund ("cancel") went through, \[?\].
    pub cancel_issuer_ref_no: Option<String>,
    pub cancel_issuer_date_time: Option<String>,
}

impl PaymentStatus {
    pub fn is_paid(&self) -> bool {
        matches!(self.outcome, Outcome::Paid { .. })
    }

    /// Paid, and exactly `amount` (BDT).
    pub fn is_paid_with(&self, amount: Decimal) -> bool {
        matches!(&self.outcome, Outcome::Paid { amount: a, .. } if *a == amount)
    }

    pub fn is_failed(&self) -> bool {
        matches!(self.outcome, Outcome::Failed { .. })
    }
}

impl fmt::Debug for PaymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PaymentStatus")
            .field("payment_ref_id", &self.payment_ref_id)
            .field("outcome", &self.outcome)
            .field("raw_status", &self.raw_status)
            .field("status_code", &self.status_code)
            .field("order_id", &self.order_id)
            .field("merchant_id", &self.merchant_id)
            .field("amount", &self.amount)
            .field(
                "client_mobile",
                &self.client_mobile.as_deref().map(mask_msisdn),
            )
            .field("order_date_time", &self.order_date_time)
            .field("cancel_issuer_ref_no", &self.cancel_issuer_ref_no)
            .field("cancel_issuer_date_time", &self.cancel_issuer_date_time)
            .finish()
    }
}

/// Maps a verify answer for `payment_ref_id`. Refuses an answer about
/// another payment or merchant, and any amount that is not exact.
pub fn payment_status(
    w: VerifyResponse,
    payment_ref_id: &str,
    merchant_id: &str,
) -> Result<PaymentStatus, Problem> {
    if w.payment_ref_id
        .as_deref()
        .is_some_and(|r| r != payment_ref_id)
        || w.merchant_id.as_deref().is_some_and(|m| m != merchant_id)
    {
        return Err(Problem::WrongPayment);
    }
    let amount = match &w.amount {
        None => None,
        Some(t) => Some(parse_amount(t).ok_or_else(|| Problem::AmountNotExact(t.clone()))?),
    };
    let raw_status = w.status.clone().unwrap_or_default();
    let word = key(&raw_status);
    let outcome = if word == "success" {
        let code_ok = w
            .status_code
            .as_deref()
            .is_none_or(|c| c == wire::STATUS_CODE_SUCCESS);
        match (amount, &w.issuer_payment_ref_no, code_ok) {
            (None, _, _) => return Err(Problem::Missing("amount")),
            (Some(amount), Some(issuer_ref), true) => Outcome::Paid {
                amount,
                issuer_ref: issuer_ref.clone(),
                paid_at: w.issuer_payment_date_time.clone(),
            },
            // Success without Nagad's transaction id, or with a status code
            // that contradicts it: not understood, so not paid yet.
            _ => Outcome::Pending,
        }
    } else if FAILED_WORDS.contains(&word.as_str()) {
        Outcome::Failed {
            code: w.status_code.clone(),
            reason: raw_status.clone(),
        }
    } else {
        Outcome::Pending
    };
    Ok(PaymentStatus {
        payment_ref_id: payment_ref_id.to_string(),
        outcome,
        raw_status,
        status_code: w.status_code,
        order_id: w.order_id,
        merchant_id: w.merchant_id,
        amount,
        client_mobile: w.client_mobile_no,
        order_date_time: w.order_date_time,
        cancel_issuer_ref_no: w.cancel_issuer_ref_no,
        cancel_issuer_date_time: w.cancel_issuer_date_time,
    })
}

/// What a refund ("cancel") answer says, \[?\] (spec §8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    /// `Refunded`, `PartialRefunded`, `Cancelled`, `PartialCancelled`, `Success`.
    Done,
    /// `Failed`, `Aborted`, `InvalidRequest`.
    Failed,
    /// Anything else: ask `verify` (its `cancelIssuerRefNo`).
    Pending,
}

impl RefundStatus {
    pub fn from_wire(raw: &str) -> RefundStatus {
        match key(raw).as_str() {
            "refunded" | "partialrefunded" | "cancelled" | "canceled" | "partialcancelled"
            | "success" => RefundStatus::Done,
            "failed" | "aborted" | "invalidrequest" => RefundStatus::Failed,
            _ => RefundStatus::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REF: &str = "MTEyMzIzNDg1NzUwOS42ODMwMDIwMDcxMDQyMjUuQ0tI";
    const MID: &str = "683002007104225";

    fn answer(json: &str) -> VerifyResponse {
        serde_json::from_str(json).unwrap()
    }

    fn map(json: &str) -> Result<PaymentStatus, Problem> {
        payment_status(answer(json), REF, MID)
    }

    #[test]
    fn success_with_an_exact_amount_and_a_transaction_id_is_paid() {
        let s = map(r#"{"merchantId":"683002007104225","paymentRefId":"MTEyMzIzNDg1NzUwOS42ODMwMDIwMDcxMDQyMjUuQ0tI",
            "amount":"16","clientMobileNo":"016****5428","issuerPaymentDateTime":"2021-11-23 23:50:08.0",
            "issuerPaymentRefNo":"000XXXW","status":"Success","statusCode":"000"}"#)
        .unwrap();
        assert_eq!(
            s.outcome,
            Outcome::Paid {
                amount: Decimal::from(16),
                issuer_ref: "000XXXW".into(),
                paid_at: Some("2021-11-23 23:50:08.0".into()),
            }
        );
        assert!(s.is_paid_with(Decimal::new(1600, 2)));
        assert!(!s.is_paid_with(Decimal::new(1601, 2)));
    }

    #[test]
    fn explicit_failures_fail_and_everything_else_is_pending() {
        for word in ["Aborted", "Failed", "Cancelled", "UnKnownFailed", "Fraud"] {
            let s = map(&format!(
                r#"{{"status":"{word}","statusCode":"50_0026_851","amount":"10.00"}}"#
            ))
            .unwrap();
            assert_eq!(
                s.outcome,
                Outcome::Failed {
                    code: Some("50_0026_851".into()),
                    reason: word.into()
                },
                "{word}"
            );
        }
        for word in [
            "OrderInitiated",
            "Ready",
            "InProgress",
            "OtpSent",
            "PinGiven",
            "Refunded",
            "Succeeded",
            "",
        ] {
            let s = map(&format!(r#"{{"status":"{word}","amount":"10.00"}}"#)).unwrap();
            assert_eq!(s.outcome, Outcome::Pending, "{word:?}");
        }
        assert_eq!(map("{}").unwrap().outcome, Outcome::Pending);
        // Success without Nagad's transaction id, or with a contradicting code.
        assert_eq!(
            map(r#"{"status":"Success","amount":"10.00"}"#)
                .unwrap()
                .outcome,
            Outcome::Pending
        );
        assert_eq!(
            map(r#"{"status":"Success","statusCode":"501","issuerPaymentRefNo":"X","amount":"10.00"}"#)
                .unwrap()
                .outcome,
            Outcome::Pending
        );
    }

    #[test]
    fn amounts_that_are_not_exact_are_refused() {
        assert_eq!(
            map(r#"{"status":"Success","issuerPaymentRefNo":"X","amount":"1e1"}"#),
            Err(Problem::AmountNotExact("1e1".into()))
        );
        assert_eq!(
            map(
                r#"{"status":"Success","issuerPaymentRefNo":"X","amount":"100.000000000000000000000000001"}"#
            ),
            Err(Problem::AmountNotExact(
                "100.000000000000000000000000001".into()
            ))
        );
        assert_eq!(
            map(r#"{"status":"Aborted","amount":"ten"}"#),
            Err(Problem::AmountNotExact("ten".into()))
        );
        assert_eq!(
            map(r#"{"status":"Success","issuerPaymentRefNo":"X"}"#),
            Err(Problem::Missing("amount"))
        );
    }

    #[test]
    fn answers_about_another_payment_are_refused() {
        assert_eq!(
            map(
                r#"{"paymentRefId":"OTHER","status":"Success","issuerPaymentRefNo":"X","amount":"1"}"#
            ),
            Err(Problem::WrongPayment)
        );
        assert_eq!(
            map(r#"{"merchantId":"1","status":"Success","issuerPaymentRefNo":"X","amount":"1"}"#),
            Err(Problem::WrongPayment)
        );
    }

    #[test]
    fn debug_masks_the_customer_number() {
        let s = map(r#"{"status":"Ready","clientMobileNo":"01711428036"}"#).unwrap();
        let d = format!("{s:?}");
        assert!(
            !d.contains("01711428036") && d.contains("017*****036"),
            "{d}"
        );
    }

    #[test]
    fn refund_words() {
        assert_eq!(
            RefundStatus::from_wire("PartialRefunded"),
            RefundStatus::Done
        );
        assert_eq!(RefundStatus::from_wire("Failed"), RefundStatus::Failed);
        assert_eq!(RefundStatus::from_wire("Processing"), RefundStatus::Pending);
    }
}
