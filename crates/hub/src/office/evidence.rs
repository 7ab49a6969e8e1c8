//! What the providers themselves say about a business day, beside what the
//! terminals say: the "Provider evidence" section of the day view
//! (`pages/days.rs`). Plain data, filled by [`for_day`]; the page renders
//! whatever is here and says so when nothing is.
//!
//! TODO(lead): fill [`for_day`] from the provider checks of issue 18 §2
//! (bKash IPNs received at the hub and matched by trxID and amount; the
//! hub's Bakong bulk check of the day's KHQR MD5s) once that branch is
//! merged: one [`EvidenceSource`] per check, its unmatched items as
//! [`EvidenceItem`]s. Nothing else in the office needs to change.

use crate::server::Hub;
use crate::store::StoreError;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

/// Every provider check of one day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayEvidence {
    pub sources: Vec<EvidenceSource>,
}

/// One provider's check of the day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceSource {
    /// The provider (as in events: `bkash`, `bakong`, …).
    pub provider: String,
    /// How the hub knows (shown as the section's subtitle).
    pub method: EvidenceMethod,
    /// When the check last ran (`None`: not yet).
    pub checked_at: Option<DateTime<Utc>>,
    /// Settlements the provider confirmed (same reference and amount).
    pub confirmed: u64,
    /// What did not match, in any direction.
    pub items: Vec<EvidenceItem>,
}

/// Where a provider's word comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvidenceMethod {
    /// Notifications the provider pushed to the hub (bKash IPN).
    Notifications,
    /// The hub asked the provider (Bakong's bulk check).
    HubCheck,
}

/// One thing the provider and the terminals disagree on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceItem {
    pub kind: EvidenceKind,
    /// The terminal of the settlement, when there is one.
    pub terminal: Option<String>,
    /// The provider's reference (trxID, MD5, …).
    pub reference: Option<String>,
    pub amount: Option<Decimal>,
    pub currency: Option<String>,
    pub at: Option<DateTime<Utc>>,
}

/// How a settlement and the provider's record disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvidenceKind {
    /// A terminal's settlement the provider has not confirmed (yet).
    NotConfirmed,
    /// Money the provider took with no settlement at any terminal.
    NoSettlement,
    /// Both exist but the amount, currency or receiving account differ.
    Differs,
}

/// The evidence the hub holds for a day (nothing yet: see the module's TODO).
pub async fn for_day(_hub: &Hub, _day: NaiveDate) -> Result<DayEvidence, StoreError> {
    Ok(DayEvidence::default())
}
