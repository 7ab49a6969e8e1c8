//! What a payment is, as the journal keeps it and front ends see it.

use crate::money::Amount;
use crate::state::PaymentState;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Which wallet provider a payment goes through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    Bkash,
    Bakong,
    Demo,
    Nagad,
}

impl ProviderKind {
    /// Every provider, in the order of the cashier's wallet buttons (F1, F2, …:
    /// a new provider goes last, so no cashier's keys move).
    pub const ALL: [ProviderKind; 4] = [
        ProviderKind::Bkash,
        ProviderKind::Bakong,
        ProviderKind::Demo,
        ProviderKind::Nagad,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Bkash => "bkash",
            ProviderKind::Bakong => "bakong",
            ProviderKind::Demo => "demo",
            ProviderKind::Nagad => "nagad",
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown provider \"{0}\" (bkash, bakong, nagad or demo)")]
pub struct UnknownProvider(pub String);

impl FromStr for ProviderKind {
    type Err = UnknownProvider;
    fn from_str(s: &str) -> Result<Self, UnknownProvider> {
        match s.trim().to_ascii_lowercase().as_str() {
            "bkash" => Ok(ProviderKind::Bkash),
            "bakong" | "khqr" => Ok(ProviderKind::Bakong),
            "demo" => Ok(ProviderKind::Demo),
            "nagad" => Ok(ProviderKind::Nagad),
            other => Err(UnknownProvider(other.to_owned())),
        }
    }
}

/// A provider's identifiers of a payment, by what each is for. Each provider
/// names them its own way ([`crate::provider::Capabilities::references`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderRefs {
    /// What the provider answers status by: bKash `paymentID`, Nagad
    /// `paymentReferenceId`, the KHQR's MD5. Unique per provider.
    pub lookup: Option<String>,
    /// The provider's id of the money moved, the one on a receipt: bKash
    /// `trxID`, Nagad `issuerPaymentRefNo`, the Bakong hash.
    pub transaction: Option<String>,
    /// A reference given outside the provider (Bakong `externalRef`: the
    /// payer's bank's).
    pub external: Option<String>,
}

impl ProviderRefs {
    /// Every reference that is set, in the order lookup, transaction, external.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        [&self.lookup, &self.transaction, &self.external]
            .into_iter()
            .filter_map(|r| r.as_deref())
    }
}

/// One payment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Payment {
    pub id: String,
    pub provider: ProviderKind,
    pub amount: Amount,
    pub state: PaymentState,
    /// Our idempotency key: bKash `merchantInvoiceNumber`, KHQR bill number.
    pub invoice: String,
    /// The provider's own identifiers of this payment.
    pub refs: ProviderRefs,
    /// The code the customer scans (a KHQR string), for a wallet that shows one.
    pub customer_code: Option<String>,
    /// The page the customer pays on, for a wallet that opens one.
    pub customer_page: Option<String>,
    pub callback_url: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    /// When the provider's completion call (bKash execute) was sent; once
    /// set, it is never sent again.
    pub completion_sent_at: Option<DateTime<Utc>>,
    /// Shown while the provider could not be reached ("awaiting verification").
    pub offline: bool,
    pub refunded: Amount,
    pub flag: Option<String>,
    pub failure_code: Option<String>,
    /// What the provider said when it failed, in its words (for a manager).
    pub failure_reason: Option<String>,
    /// Why it ended so, as a code and parameters the screens translate
    /// (`None`: it did not fail, or it ended before Till kept this).
    #[serde(default)]
    pub failure: Option<crate::reason::Reason>,
    pub operator: String,
    pub business_day: NaiveDate,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The account the money goes to, recorded when the payment was created
    /// (Bakong: the account id the code names; bKash: a fingerprint of the
    /// merchant credentials). `None`: unknown (made before Till recorded it).
    #[serde(default)]
    pub payee: Option<String>,
    /// The paired POS that asked for this payment through the local API, and
    /// its order reference (`None`: keyed at the till).
    #[serde(default)]
    pub origin: Option<Origin>,
}

/// A payment's POS: which paired key asked for it, by what name the cashier
/// knows that POS, and the POS's own reference for the sale (its idempotency
/// key: one payment per POS and reference).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    pub pos_id: String,
    pub pos_name: String,
    pub reference: String,
}

impl Payment {
    /// What may still be refunded.
    pub fn refundable(&self) -> Amount {
        if !self.state.is_paid() {
            return Amount::zero(self.amount.currency());
        }
        self.amount
            .checked_sub(self.refunded)
            .unwrap_or_else(|_| Amount::zero(self.amount.currency()))
    }
}

/// One row of a payment's history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PaymentEvent {
    pub seq: i64,
    pub payment_id: String,
    pub at: DateTime<Utc>,
    pub from_state: Option<PaymentState>,
    pub to_state: PaymentState,
    pub detail: Option<String>,
    /// What a row that kept the state was, when the local API tells it
    /// (`refund_request.created`, …); `None` for every other row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// A refund of (part of) a payment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Refund {
    pub id: String,
    pub payment_id: String,
    pub amount: Amount,
    pub state: RefundState,
    pub reason: Option<String>,
    pub requested_by: String,
    pub provider_refund_id: Option<String>,
    pub failure_reason: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundState {
    /// Written, not sent (or deferred while the provider is unreachable).
    Requested,
    /// Sent; outcome not known yet (resolved by refund status, never sent twice).
    Sent,
    Done,
    Failed,
}

impl RefundState {
    pub fn as_str(self) -> &'static str {
        match self {
            RefundState::Requested => "requested",
            RefundState::Sent => "sent",
            RefundState::Done => "done",
            RefundState::Failed => "failed",
        }
    }
    pub fn parse(s: &str) -> Option<RefundState> {
        [
            RefundState::Requested,
            RefundState::Sent,
            RefundState::Done,
            RefundState::Failed,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}
