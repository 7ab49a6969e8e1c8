//! Reports of a day: the X-report (summary + reconciliation + resolutions,
//! any time, nothing stored) and the Z-report (the same, stored immutably
//! when the manager closes the day, and synced to the hub as `day.closed`).

use super::reconcile::{DisagreementKind, Reconciliation};
use super::summary::DaySummary;
use crate::journal::days::ResolutionRecord;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a manager does about a disagreement.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Resolution {
    /// Ask the provider again and adopt its word where the state machine
    /// allows (an open payment settles, fails or expires; a final one does
    /// not move, and the answer is recorded).
    Recheck,
    /// Send what the hub is missing now (dead letters go back to the queue).
    Resync,
    /// Accept the disagreement as it is. A note is required.
    Acknowledge { note: String },
}

impl Resolution {
    pub fn action(&self) -> &'static str {
        match self {
            Resolution::Recheck => "recheck",
            Resolution::Resync => "resync",
            Resolution::Acknowledge { .. } => "acknowledge",
        }
    }
}

/// A recorded resolution, as reports show it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ResolutionEntry {
    pub id: i64,
    pub disagreement_id: String,
    pub action: String,
    pub note: Option<String>,
    /// What happened ("bKash says Completed, trx …: settled").
    pub outcome: Option<String>,
    pub by: String,
    pub at: DateTime<Utc>,
}

impl From<ResolutionRecord> for ResolutionEntry {
    fn from(r: ResolutionRecord) -> Self {
        ResolutionEntry {
            id: r.id,
            disagreement_id: r.disagreement_id,
            action: r.action,
            note: r.note,
            outcome: r.outcome,
            by: r.actor,
            at: r.at,
        }
    }
}

/// X (not closed) or Z (closed).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    X,
    Z,
}

/// A disagreement and where it stands.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct DisagreementStatus {
    pub id: String,
    pub kind: DisagreementKind,
    /// Acknowledged by a manager (a day closes only when every one is).
    pub acknowledged: bool,
    /// The latest resolution recorded against it.
    pub last_resolution: Option<ResolutionEntry>,
}

/// Summary + reconciliation + resolutions of one day.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Report {
    pub kind: ReportKind,
    pub day: NaiveDate,
    pub terminal_id: String,
    pub shop_name: String,
    /// The shop's name in its own script (Bangla or Khmer), when configured; printed
    /// under the English one. Absent from reports made before it existed, and left
    /// out of the JSON when not set, so their hashes are unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shop_name_local: Option<String>,
    pub summary: DaySummary,
    pub reconciliation: Reconciliation,
    /// Every resolution recorded for the day, oldest first (some may concern
    /// disagreements that are gone since: a recheck that settled a payment).
    pub resolutions: Vec<ResolutionEntry>,
    pub status: Vec<DisagreementStatus>,
    /// Ids of the disagreements not acknowledged yet.
    pub unresolved: Vec<String>,
    pub generated_at: DateTime<Utc>,
}

impl Report {
    /// The shop's name in its own script, printed beneath the English one.
    pub fn with_local_name(mut self, name: Option<&str>) -> Report {
        self.shop_name_local = name.filter(|n| !n.trim().is_empty()).map(str::to_owned);
        self
    }

    /// Puts the pieces together and works out which disagreements are still open.
    pub fn assemble(
        kind: ReportKind,
        shop_name: &str,
        summary: DaySummary,
        reconciliation: Reconciliation,
        resolutions: Vec<ResolutionEntry>,
        now: DateTime<Utc>,
    ) -> Report {
        let status: Vec<DisagreementStatus> = reconciliation
            .disagreements
            .iter()
            .map(|d| {
                let mine: Vec<&ResolutionEntry> = resolutions
                    .iter()
                    .filter(|r| r.disagreement_id == d.id)
                    .collect();
                DisagreementStatus {
                    id: d.id.clone(),
                    kind: d.kind,
                    acknowledged: mine.iter().any(|r| r.action == "acknowledge"),
                    last_resolution: mine.last().map(|r| (*r).clone()),
                }
            })
            .collect();
        Report {
            kind,
            day: summary.day,
            terminal_id: summary.terminal_id.clone(),
            shop_name: shop_name.to_owned(),
            shop_name_local: None,
            unresolved: status
                .iter()
                .filter(|s| !s.acknowledged)
                .map(|s| s.id.clone())
                .collect(),
            status,
            summary,
            reconciliation,
            resolutions,
            generated_at: now,
        }
    }

    pub fn is_closed(&self) -> bool {
        self.kind == ReportKind::Z
    }
}

/// A closed day: the report as it was when the day closed, who closed it
/// and when. Stored once; never changes.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ZReport {
    pub report: Report,
    pub closed_at: DateTime<Utc>,
    pub closed_by: String,
    /// SHA-256 (hex) of the stored report JSON; also sent in `day.closed`.
    pub sha256: String,
    /// The `day.closed` record's sequence in the sync.
    pub outbox_sequence: i64,
}

/// Hex SHA-256 of a text.
pub fn sha256_hex(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The `day` object of the `day.closed` event: who closed the day and when,
/// the report's hash, and the day's totals per provider × currency in the
/// shape of the hub's own totals (exact decimal strings).
pub fn day_closed_body(
    report: &Report,
    sha256: &str,
    closed_at: DateTime<Utc>,
    closed_by: &str,
) -> serde_json::Value {
    let totals: Vec<serde_json::Value> = report
        .summary
        .wallets
        .iter()
        .map(|w| {
            serde_json::json!({
                "provider": w.provider.as_str(),
                "currency": w.currency.code(),
                "count": w.settled_count,
                "settled": w.settled.amount,
                "refund_count": w.refund_count,
                "refunded": w.refunded.amount,
                "net": w.net.amount,
            })
        })
        .collect();
    serde_json::json!({
        "schema": "till.day/1",
        "report_sha256": sha256,
        "closed_at": closed_at,
        "closed_by": closed_by,
        "timezone": report.summary.timezone,
        "cutoff": report.summary.cutoff,
        "payment_count": report.summary.payment_count,
        "totals": totals,
        "disagreements": report.reconciliation.disagreements.len(),
        "acknowledged": report.status.iter().filter(|s| s.acknowledged).count(),
        "adjustments": report.summary.adjustments.len(),
        // The receiving accounts of the day (null: unknown).
        "payees": report.summary.payees.iter().map(|p| serde_json::json!({
            "provider": p.provider.as_str(),
            "payee": p.payee,
            "payments": p.payments,
        })).collect::<Vec<_>>(),
    })
}
