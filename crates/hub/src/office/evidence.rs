//! What the providers themselves say about a business day, beside what the
//! terminals say: the "Provider evidence" section of the day view
//! (`pages/days.rs`). Plain data, filled by [`for_day`]; the page renders
//! whatever is here and says so when nothing is.
//!
//! [`for_day`] reads [`crate::evidence::day_findings`] (bKash IPNs received at the
//! hub and matched by trxID and amount; the hub's Bakong bulk check of the day's
//! KHQR MD5s): one [`EvidenceSource`] per check this hub runs, its findings as
//! [`EvidenceItem`]s. A check that is off has no source (the page says so).

use crate::evidence::{DayFindings, FindingCode};
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

/// The evidence the hub holds for a day: what [`crate::evidence::day_findings`] finds now.
pub async fn for_day(hub: &Hub, day: NaiveDate) -> Result<DayEvidence, StoreError> {
    let f =
        crate::evidence::day_findings(&*hub.store, &hub.config.evidence, day, Utc::now()).await?;
    Ok(of_findings(&f))
}

fn of_findings(f: &DayFindings) -> DayEvidence {
    let items = |provider: &str| -> Vec<EvidenceItem> {
        f.findings
            .iter()
            .filter(|x| x.provider_name == provider)
            .map(|x| {
                let facts = x.held.as_ref().or(x.provider.as_ref());
                EvidenceItem {
                    kind: kind_of(x.code),
                    terminal: x.terminal.clone(),
                    reference: x.reference.clone(),
                    amount: facts.and_then(|f| f.amount),
                    currency: facts.and_then(|f| f.currency.clone()),
                    at: x.at,
                }
            })
            .collect()
    };
    let mut sources = Vec::new();
    if let Some(ipn) = &f.ipn {
        sources.push(EvidenceSource {
            provider: "bkash".into(),
            method: EvidenceMethod::Notifications,
            checked_at: Some(f.generated_at),
            confirmed: ipn.matched,
            items: items("bkash"),
        });
    }
    if let Some(bakong) = &f.bakong {
        sources.push(EvidenceSource {
            provider: "bakong".into(),
            method: EvidenceMethod::HubCheck,
            checked_at: Some(f.generated_at),
            confirmed: bakong.confirmed,
            items: items("bakong"),
        });
    }
    DayEvidence { sources }
}

/// How the office words a finding: not confirmed, no sale, or differs.
fn kind_of(code: FindingCode) -> EvidenceKind {
    use FindingCode::*;
    match code {
        IpnMissing | IpnNotCompleted | BakongNotFound | BakongFailed => EvidenceKind::NotConfirmed,
        IpnOrphan => EvidenceKind::NoSettlement,
        IpnAmountDiffers
        | IpnUnreadable
        | NoReference
        | ReferenceReused
        | BakongAmountDiffers
        | BakongCurrencyDiffers
        | BakongAccountDiffers
        | BakongNotShopAccount
        | BakongHashDiffers => EvidenceKind::Differs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{Facts, Finding};

    #[test]
    fn findings_go_to_their_provider_with_the_terminal_side_amount() {
        let mut missing = Finding::new(FindingCode::IpnMissing);
        missing.terminal = Some("till-01".into());
        missing.held = Some(Facts {
            amount: Some(Decimal::new(1250, 2)),
            currency: Some("BDT".into()),
            account: None,
        });
        let mut orphan = Finding::new(FindingCode::IpnOrphan);
        orphan.provider = Some(Facts {
            amount: Some(Decimal::new(500, 0)),
            currency: Some("BDT".into()),
            account: None,
        });
        let mut reused = Finding::new(FindingCode::ReferenceReused);
        reused.provider_name = "bakong".into(); // a KHQR settlement's own provider wins
        let f = DayFindings {
            day: NaiveDate::from_ymd_opt(2026, 12, 3).unwrap(),
            generated_at: Utc::now(),
            ipn: Some(Default::default()),
            bakong: None,
            findings: vec![missing, orphan, reused],
        };
        let e = of_findings(&f);
        assert_eq!(e.sources.len(), 1, "Bakong checks off: no Bakong source");
        let bkash = &e.sources[0];
        assert_eq!(bkash.method, EvidenceMethod::Notifications);
        let kinds: Vec<_> = bkash.items.iter().map(|i| i.kind).collect();
        assert_eq!(
            kinds,
            [EvidenceKind::NotConfirmed, EvidenceKind::NoSettlement]
        );
        assert_eq!(bkash.items[0].amount, Some(Decimal::new(1250, 2)));
        assert_eq!(bkash.items[1].amount, Some(Decimal::new(500, 0)));
    }
}
