//! Mapping of bKash's status words to ours, and of wire bodies to the public
//! result types. Like a Hyperswitch connector's status mapping: anything not
//! recognised is [`BkashStatus::Pending`] (unknown, ask again), never success
//! or failure.

use crate::token::StoredToken;
use crate::types::*;
use crate::wire::{self, parse_amount};
use rust_decimal::Decimal;
use std::time::{Duration, SystemTime};

/// `transactionStatus` of a payment (spec §14).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BkashStatus {
    /// Money moved (execute / capture done). The only success.
    Completed,
    /// Created; not executed (the customer may or may not have finished the page).
    Initiated,
    /// Anything unrecognised, `InProgress`, or absent: unknown, ask again.
    Pending,
    /// Intent `authorization`: funds held, capture needed.
    Authorized,
    /// `Pending Authorized`.
    PendingAuthorized,
    /// Explicitly failed.
    Failed,
    /// Cancelled (customer closed the page, or void).
    Cancelled,
    /// Declined by bKash.
    Declined,
    /// The paymentID expired (24 h) without execute.
    Expired,
}

impl BkashStatus {
    /// Maps `transactionStatus` text (case- and space-insensitive).
    pub fn from_wire(raw: &str) -> BkashStatus {
        let key: String = raw
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '_' && *c != '-')
            .collect::<String>()
            .to_ascii_lowercase();
        match key.as_str() {
            "completed" => BkashStatus::Completed,
            "initiated" => BkashStatus::Initiated,
            "authorized" => BkashStatus::Authorized,
            "pendingauthorized" => BkashStatus::PendingAuthorized,
            "failed" => BkashStatus::Failed,
            "cancelled" | "canceled" => BkashStatus::Cancelled,
            "declined" => BkashStatus::Declined,
            "expired" => BkashStatus::Expired,
            _ => BkashStatus::Pending,
        }
    }

    /// No further change is expected (Completed, Failed, Cancelled, Declined, Expired).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            BkashStatus::Completed
                | BkashStatus::Failed
                | BkashStatus::Cancelled
                | BkashStatus::Declined
                | BkashStatus::Expired
        )
    }

    /// Definitely not paid (Failed, Cancelled, Declined, Expired).
    pub fn is_failure(self) -> bool {
        self.is_final() && self != BkashStatus::Completed
    }
}

/// Status of one refund (`transactionStatus` v1 / `refundTransactionStatus` v2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    /// Refunded.
    Completed,
    /// Explicitly failed.
    Failed,
    /// Anything else: unknown, ask again.
    Pending,
}

impl RefundStatus {
    pub fn from_wire(raw: &str) -> RefundStatus {
        match raw.trim().to_ascii_lowercase().as_str() {
            "completed" => RefundStatus::Completed,
            "failed" | "declined" | "cancelled" => RefundStatus::Failed,
            _ => RefundStatus::Pending,
        }
    }
}

/// Why a success body could not be mapped (becomes a protocol / unknown-outcome error).
pub type MapError = String;

fn need(v: Option<String>, name: &str) -> Result<String, MapError> {
    v.ok_or_else(|| format!("missing {name}"))
}

fn amount(v: Option<String>, name: &str) -> Result<Decimal, MapError> {
    let t = need(v, name)?;
    parse_amount(&t).ok_or_else(|| format!("{name} is not an amount: {t:?}"))
}

fn opt_amount(v: Option<String>, name: &str) -> Result<Option<Decimal>, MapError> {
    match v {
        None => Ok(None),
        Some(t) => parse_amount(&t)
            .map(Some)
            .ok_or_else(|| format!("{name} is not an amount: {t:?}")),
    }
}

/// A grant or refresh answer as the token to keep: used until its
/// `expires_in` (an hour when absent, unreadable, or too far ahead for the
/// clock to reach) less `refresh_margin`
/// (at most half the lifetime). `None` without an `id_token`. Apart from the
/// client's request engine so that the fuzz target
/// (`fuzz/fuzz_targets/bkash_answer.rs`) reads token answers as it does.
pub fn token(
    w: wire::TokenResponse,
    now: SystemTime,
    refresh_margin: Duration,
) -> Option<StoredToken> {
    let id_token = w.id_token?;
    let ttl = w
        .expires_in
        .and_then(|e| e.parse::<u64>().ok())
        .map(Duration::from_secs)
        .filter(|ttl| now.checked_add(*ttl).is_some())
        .unwrap_or(Duration::from_secs(3600));
    let margin = refresh_margin.min(ttl / 2);
    Some(StoredToken {
        id_token,
        refresh_token: w.refresh_token,
        use_until: now + ttl - margin,
    })
}

pub fn created(w: wire::CreateResponse) -> Result<Created, MapError> {
    Ok(Created {
        payment_id: need(w.payment_id, "paymentID")?,
        bkash_url: need(w.bkash_url, "bkashURL")?,
        callback_urls: CallbackUrls {
            success: need(w.success_callback_url, "successCallbackURL")?,
            failure: need(w.failure_callback_url, "failureCallbackURL")?,
            cancel: need(w.cancelled_callback_url, "cancelledCallbackURL")?,
        },
        amount: amount(w.amount, "amount")?,
        currency: need(w.currency, "currency")?,
        invoice: w.merchant_invoice_number,
        created_at: w.payment_create_time,
        transaction_status: w.transaction_status,
    })
}

pub fn executed(w: wire::ExecuteResponse, payment_id: &str) -> Result<Executed, MapError> {
    let raw_status = need(w.transaction_status, "transactionStatus")?;
    Ok(Executed {
        payment_id: w.payment_id.unwrap_or_else(|| payment_id.to_string()),
        trx_id: need(w.trx_id, "trxID")?,
        amount: amount(w.amount, "amount")?,
        currency: need(w.currency, "currency")?,
        transaction_status: BkashStatus::from_wire(&raw_status),
        raw_status,
        customer_msisdn: w.customer_msisdn.or(w.payer_account),
        completed_time: w.payment_execute_time,
        invoice: w.merchant_invoice_number,
        max_refundable: opt_amount(w.max_refundable_amount, "maxRefundableAmount")?,
    })
}

pub fn payment_status(
    w: wire::StatusResponse,
    payment_id: &str,
) -> Result<PaymentStatus, MapError> {
    let raw_status = w.transaction_status.unwrap_or_default();
    Ok(PaymentStatus {
        payment_id: w.payment_id.unwrap_or_else(|| payment_id.to_string()),
        status: BkashStatus::from_wire(&raw_status),
        raw_status,
        trx_id: w.trx_id,
        amount: opt_amount(w.amount, "amount")?,
        currency: w.currency,
        verification_status: w.verification_status.or(w.user_verification_status),
        invoice: w.merchant_invoice,
        mode: w.mode,
        intent: w.intent,
        created_time: w.payment_create_time,
        executed_time: w.payment_execute_time,
        customer_msisdn: w.customer_msisdn.or(w.payer_account),
    })
}

pub fn search(w: wire::SearchResponse, trx_id: &str) -> Result<SearchResult, MapError> {
    let raw_status = w.transaction_status.unwrap_or_default();
    Ok(SearchResult {
        trx_id: w.trx_id.unwrap_or_else(|| trx_id.to_string()),
        status: BkashStatus::from_wire(&raw_status),
        raw_status,
        amount: opt_amount(w.amount, "amount")?,
        currency: w.currency,
        transaction_type: w.transaction_type,
        initiation_time: w.initiation_time,
        completed_time: w.completed_time,
        customer_msisdn: w.customer_msisdn,
        organization_short_code: w.organization_short_code,
        max_refundable: opt_amount(w.max_refundable_amount, "maxRefundableAmount")?,
        original_trx_amount: opt_amount(w.original_trx_amount, "originalTrxAmount")?,
    })
}

pub fn refunded(w: wire::RefundV2Response, trx_id: &str) -> Result<Refunded, MapError> {
    let raw_status = need(w.refund_transaction_status, "refundTransactionStatus")?;
    Ok(Refunded {
        original_trx_id: w.original_trx_id.unwrap_or_else(|| trx_id.to_string()),
        refund_trx_id: need(w.refund_trx_id, "refundTrxId")?,
        status: RefundStatus::from_wire(&raw_status),
        raw_status,
        amount: amount(w.refund_amount, "refundAmount")?,
        original_trx_amount: opt_amount(w.original_trx_amount, "originalTrxAmount")?,
        currency: w.currency,
        completed_time: w.completed_time,
    })
}

pub fn refund_infos(w: wire::RefundStatusV2Response) -> Result<Vec<RefundInfo>, MapError> {
    w.refund_transactions
        .unwrap_or_default()
        .into_iter()
        .map(|i| {
            let raw_status = i.refund_transaction_status.unwrap_or_default();
            Ok(RefundInfo {
                refund_trx_id: need(i.refund_trx_id, "refundTrxId")?,
                status: RefundStatus::from_wire(&raw_status),
                raw_status,
                amount: amount(i.refund_amount, "refundAmount")?,
                completed_time: i.completed_time,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_pending() {
        assert_eq!(BkashStatus::from_wire("Completed"), BkashStatus::Completed);
        assert_eq!(BkashStatus::from_wire("completed"), BkashStatus::Completed);
        assert_eq!(
            BkashStatus::from_wire("Pending Authorized"),
            BkashStatus::PendingAuthorized
        );
        assert_eq!(BkashStatus::from_wire("InProgress"), BkashStatus::Pending);
        assert_eq!(BkashStatus::from_wire(""), BkashStatus::Pending);
        assert_eq!(BkashStatus::from_wire("Succeeded?"), BkashStatus::Pending);
        assert!(BkashStatus::Expired.is_failure());
        assert!(!BkashStatus::Initiated.is_final());
        assert_eq!(RefundStatus::from_wire("weird"), RefundStatus::Pending);
    }

    /// Seen while writing `fuzz/fuzz_targets/bkash_answer.rs` (its input is a
    /// seed there): an `expires_in` past the clock's range made
    /// `now + lifetime` panic inside the token call.
    #[test]
    fn an_endless_token_lifetime_is_unreadable_not_a_panic() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600);
        let w: wire::TokenResponse = serde_json::from_str(
            r#"{"statusCode":"0000","id_token":"t","expires_in":"18446744073709551615"}"#,
        )
        .unwrap();
        let t = token(w, now, Duration::from_secs(300)).unwrap();
        // Read as an absent expires_in: an hour, less the margin.
        assert_eq!(t.use_until, now + Duration::from_secs(3300));
    }

    #[test]
    fn fixtures_map() {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/data/bkash-fixtures"
        );
        let read = |p: &str| {
            std::fs::read_to_string(format!("{dir}/{p}"))
                .unwrap_or_else(|e| panic!("tests/data/bkash-fixtures/{p}: {e}"))
        };
        let e = executed(
            serde_json::from_str(&read("execute/payment-0011.success.json")).unwrap(),
            "x",
        )
        .unwrap();
        assert_eq!(e.transaction_status, BkashStatus::Completed);
        assert_eq!(e.trx_id, "CC460QZ7KA");
        let s = payment_status(
            serde_json::from_str(&read("status/payment-0011.completed.json")).unwrap(),
            "x",
        )
        .unwrap();
        assert!(s.is_completed());
        let c = created(serde_json::from_str(&read("create/payment-0011.success.json")).unwrap())
            .unwrap();
        assert!(c.callback_urls.success.contains("status=success"));
        let r = refunded(
            serde_json::from_str(&read("refund-v2/refund.success.json")).unwrap(),
            "x",
        )
        .unwrap();
        assert_eq!(r.status, RefundStatus::Completed);
    }
}
