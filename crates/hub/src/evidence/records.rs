//! What the evidence side stores (the [`Store`](crate::store::Store)'s
//! evidence methods take and give these): IPN messages, subscription
//! messages, the settlement reference index, Bakong's answers.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

/// One bKash IPN notification, as stored (once per SNS `MessageId`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IpnMessage {
    pub message_id: String,
    pub topic_arn: String,
    /// `None`: the signed message's notice could not be read ([`Self::problem`]).
    pub trx_id: Option<String>,
    pub transaction_status: Option<String>,
    pub amount: Option<Decimal>,
    /// Coupon payments only: the sale's amount.
    pub sale_amount: Option<Decimal>,
    pub currency: Option<String>,
    pub invoice: Option<String>,
    /// The notice's `dateTime` (Bangladesh time).
    pub paid_at: Option<DateTime<Utc>>,
    /// The Bangladesh date of `paid_at` (of receipt when unreadable): the
    /// day the message is listed under when no settlement claims it.
    pub paid_on: NaiveDate,
    /// SNS's `Timestamp`, as sent.
    pub sns_timestamp: String,
    /// Why the notice could not be read.
    pub problem: Option<String>,
    pub received_at: DateTime<Utc>,
    /// The body exactly as posted.
    #[serde(skip)]
    pub envelope: String,
}

impl IpnMessage {
    /// The amount the merchant's record of the sale holds: `saleAmount` for a
    /// coupon payment, else `amount`.
    pub fn sale_total(&self) -> Option<Decimal> {
        self.sale_amount.or(self.amount)
    }
}

/// What the hub did with a subscription message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubscriptionRecord {
    pub message_id: String,
    /// `SubscriptionConfirmation` or `UnsubscribeConfirmation`.
    pub kind: String,
    pub topic_arn: String,
    /// The `SubscribeURL`.
    pub url: String,
    /// `confirmed`, `refused` (URL not allowed), `failed` (the GET failed),
    /// `unsubscribed`.
    pub status: String,
    pub detail: Option<String>,
    pub received_at: DateTime<Utc>,
    #[serde(skip)]
    pub envelope: String,
}

/// A `payment.settled` event's references, as the index holds them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettlementRef {
    pub event_id: String,
    /// The event's cursor (arrival order).
    pub cursor: i64,
    pub terminal_id: String,
    pub payment_id: Option<String>,
    pub provider: String,
    pub business_day: NaiveDate,
    pub amount: Option<Decimal>,
    pub currency: Option<String>,
    /// bKash `paymentID`, the KHQR's MD5, …
    pub lookup_ref: Option<String>,
    /// bKash `trxID`, the Bakong hash, …
    pub transaction_ref: Option<String>,
    /// The receiving account the terminal recorded.
    pub payee: Option<String>,
    /// When the terminal says the provider settled it (received time for an
    /// unreadable body).
    pub settled_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
}

/// What Bakong said about an MD5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckedOutcome {
    /// A payment exists for the MD5 (its facts beside).
    Paid,
    NotFound,
    /// Bakong says the payment attempt failed.
    Failed,
}

impl CheckedOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckedOutcome::Paid => "paid",
            CheckedOutcome::NotFound => "not_found",
            CheckedOutcome::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "paid" => Some(CheckedOutcome::Paid),
            "not_found" => Some(CheckedOutcome::NotFound),
            "failed" => Some(CheckedOutcome::Failed),
            _ => None,
        }
    }
}

/// The latest Bakong answer about one settled KHQR event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BakongCheck {
    pub event_id: String,
    pub md5: String,
    pub outcome: CheckedOutcome,
    /// The ledger hash (paid only).
    pub hash: Option<String>,
    pub amount: Option<Decimal>,
    pub currency: Option<String>,
    /// `toAccountId`.
    pub to_account: Option<String>,
    /// Bakong's message for a failed attempt.
    pub detail: Option<String>,
    pub checked_at: DateTime<Utc>,
}

/// The column lists both stores read and write these with (one place).
pub(crate) mod columns {
    pub const LOW_WATER: &str = "refs_low_water";

    pub const IPN: &str = "message_id, topic_arn, trx_id, transaction_status, amount, \
         sale_amount, currency, invoice, paid_at, paid_on, sns_timestamp, problem, received_at, \
         envelope";

    /// Of `evidence_refs` as `r`.
    pub const REFS: &str = "r.event_id, r.event_cursor, r.terminal_id, r.payment_id, r.provider, \
         r.business_day, r.amount, r.currency, r.lookup_ref, r.transaction_ref, r.payee, \
         r.settled_at, r.received_at";

    pub const CHECKS: &str =
        "event_id, md5, outcome, hash, amount, currency, to_account, detail, checked_at";
}
