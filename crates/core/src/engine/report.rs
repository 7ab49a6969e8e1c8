//! The manager's day: summary, reconciliation, resolutions, X- and
//! Z-reports, exports. The report types live in [`crate::report`]; this is
//! the engine's side (journal access, provider and hub calls).

use super::{Engine, EngineError};
use crate::journal::days::{ClosedDay, ClosingReport, DayData, DayPayment};
use crate::journal::JournalError;
use crate::payment::{Payment, ProviderKind};
use crate::provider::Verdict;
use crate::report::close::{day_closed_body, sha256_hex};
use crate::report::reconcile::{self, CheckStatus, HubResult, ProviderResult};
use crate::report::summary::{self, ClosedInfo, DayRules, DaySummary};
use crate::report::{
    Reconciliation, Report, ReportError, ReportKind, Resolution, ResolutionEntry, ZReport,
};
use crate::sync::{HubReadError, HubReader};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;
use till_sync_proto::EventType;

/// A closed day in the list of closed days.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct ClosedDayInfo {
    pub day: NaiveDate,
    pub closed_at: chrono::DateTime<chrono::Utc>,
    pub closed_by: String,
    pub sha256: String,
}

/// Disagreement kinds that name one payment (`<kind>:<payment id>`).
const PAYMENT_KINDS: &[&str] = &[
    "paid_not_recorded",
    "settled_not_paid",
    "amount_mismatch",
    "refund_mismatch",
    "open_payment",
];
const OTHER_KINDS: &[&str] = &[
    "hub_missing",
    "hub_extra",
    "hub_totals_mismatch",
    "not_checked",
];

fn refused(msg: impl Into<String>) -> EngineError {
    EngineError::Refused(msg.into())
}

fn report_error(e: ReportError) -> EngineError {
    EngineError::Refused(e.to_string())
}

impl Engine {
    /// How this terminal's business day runs (zone, cutoff).
    pub(crate) fn day_rules(&self) -> DayRules {
        let c = &self.inner.config;
        DayRules {
            terminal_id: c.terminal.id.clone(),
            timezone: c.timezone().unwrap_or(chrono_tz::UTC),
            cutoff: c.cutoff().unwrap_or(chrono::NaiveTime::MIN),
        }
    }

    /// The business day it is now (the merchant's zone and cutoff).
    pub fn today(&self) -> NaiveDate {
        self.day_rules().day_of(self.now())
    }

    /// The day's numbers from the local journal alone (no network): totals
    /// per provider × currency × state, per wallet settled / refunded / net,
    /// refunds, adjustments, the per-hour chart, flagged and open payments,
    /// what has not reached the hub, and whether the day is closed.
    pub fn day_summary(&self, day: NaiveDate) -> Result<DaySummary, EngineError> {
        let (data, queue) = self.with_journal(|j| Ok((j.day_data(day)?, j.sync_queue_stats()?)))?;
        Ok(summary::summarize(
            &self.day_rules(),
            &data,
            &queue,
            self.now(),
        ))
    }

    /// The payments of a day (created on it, or booked into it), oldest first.
    pub fn day_payments(&self, day: NaiveDate) -> Result<Vec<DayPayment>, EngineError> {
        Ok(self.with_journal(|j| j.day_data(day))?.payments)
    }

    // ------------------------------------------------------- reconciliation

    /// The three-way reconciliation of a day: every payment of the day
    /// re-checked with its provider ([`crate::provider::Provider::reconcile`]),
    /// and the day's settlements
    /// and totals compared with the hub's. A provider or hub that cannot be
    /// asked is a "could not check" section, not an error.
    pub async fn reconcile(&self, day: NaiveDate) -> Result<Reconciliation, EngineError> {
        let (data, queue) = self.with_journal(|j| Ok((j.day_data(day)?, j.sync_queue_stats()?)))?;
        let summary = summary::summarize(&self.day_rules(), &data, &queue, self.now());
        let mut results = Vec::new();
        // Each provider with payments on the day checks them its own way; one
        // that is not set up now is a "could not check" section.
        let mut kinds: Vec<ProviderKind> =
            data.payments.iter().map(|d| d.payment.provider).collect();
        kinds.sort();
        kinds.dedup();
        for kind in kinds {
            let payments = payments_of(&data, kind);
            match self.inner.registry.get(kind) {
                Ok(provider) => {
                    if let Some(r) = provider.reconcile(&payments).await {
                        results.push(r);
                    }
                }
                Err(_) => results.push(self.not_configured(kind)),
            }
        }
        let hub = self.check_hub(day).await;
        Ok(reconcile::build(
            &data,
            &summary,
            &results,
            &hub,
            self.now(),
        ))
    }

    /// The section of a provider that has payments on the day but is not set up now.
    fn not_configured(&self, provider: ProviderKind) -> ProviderResult {
        ProviderResult {
            provider,
            status: CheckStatus::NotConfigured,
            message: self.inner.registry.disabled().get(&provider).cloned(),
            checks: HashMap::new(),
        }
    }

    async fn check_hub(&self, day: NaiveDate) -> HubResult {
        let failed = |e: HubReadError| HubResult {
            status: Some(if e.not_configured() {
                CheckStatus::NotConfigured
            } else {
                CheckStatus::CouldNotCheck
            }),
            message: Some(e.to_string()),
            ..HubResult::default()
        };
        let hub = match HubReader::new(&self.inner.config, &*self.inner.secrets) {
            Ok(h) => h,
            Err(e) => return failed(e),
        };
        let terminal = &self.inner.config.terminal.id;
        let items = match hub.day_settlements(terminal, day).await {
            Ok(items) => items,
            Err(e) => return failed(e),
        };
        let mut out = HubResult {
            status: Some(CheckStatus::Checked),
            ..HubResult::default()
        };
        for item in items {
            match EventType::parse(&item.kind) {
                Some(EventType::PaymentSettled) => {
                    if let Some(p) = item.payment_id {
                        out.settled.insert(p);
                    }
                }
                Some(EventType::PaymentRefunded) => {
                    let event: serde_json::Value =
                        serde_json::from_str(item.event.get()).unwrap_or_default();
                    if let Some(r) = event["refund"]["id"].as_str() {
                        out.refunds.insert(r.to_owned());
                    }
                }
                _ => {}
            }
        }
        match hub.day_totals(terminal, day).await {
            Ok(t) => out.totals = t.totals,
            Err(e) => return failed(e),
        }
        out
    }

    // ---------------------------------------------------------- resolutions

    /// Deals with one disagreement of a day's reconciliation and records it
    /// (append-only; every report shows it):
    /// - [`Resolution::Recheck`] asks the provider again; an open payment
    ///   takes its word through the normal state machine, a final one does
    ///   not move and the answer is recorded;
    /// - [`Resolution::Resync`] sends what waits for the hub now (dead letters included);
    /// - [`Resolution::Acknowledge`] accepts it as it is, with a note.
    pub async fn resolve(
        &self,
        day: NaiveDate,
        disagreement_id: &str,
        resolution: Resolution,
        by: &str,
    ) -> Result<ResolutionEntry, EngineError> {
        if let Some(c) = self.with_journal(|j| j.closed_day(day))? {
            return Err(refused(format!(
                "{day} was closed by {} and cannot change; a correction now is booked into today",
                c.closed_by
            )));
        }
        let (kind, reference) = disagreement_id
            .split_once(':')
            .filter(|(k, r)| {
                !r.is_empty() && (PAYMENT_KINDS.contains(k) || OTHER_KINDS.contains(k))
            })
            .ok_or_else(|| {
                refused(format!(
                    "\"{disagreement_id}\" is not a disagreement of a reconciliation"
                ))
            })?;
        let payment = if PAYMENT_KINDS.contains(&kind) {
            let p = self.payment(reference)?;
            let booked = self.with_journal(|j| j.day_data(day))?;
            if !booked.payments.iter().any(|d| d.payment.id == p.id) {
                return Err(refused(format!(
                    "payment {} does not belong to {day}",
                    p.invoice
                )));
            }
            Some(p)
        } else {
            None
        };
        let (note, outcome) = match &resolution {
            Resolution::Acknowledge { note } => {
                if note.trim().is_empty() {
                    return Err(refused(
                        "write a short note saying why this disagreement is accepted",
                    ));
                }
                (Some(note.trim().to_owned()), None)
            }
            Resolution::Resync => {
                if self.inner.config.hub.url.is_none() {
                    return Err(refused(
                        "sync is off: set hub.url in till.toml (or TILL__HUB__URL)",
                    ));
                }
                let replayed = self.replay_dead()?;
                let state = self.sync_now().await?;
                (
                    None,
                    Some(format!(
                        "sent to the hub ({replayed} dead letters replayed); {} records still waiting, {} dead letters",
                        state.queue_length, state.dead_letters
                    )),
                )
            }
            Resolution::Recheck => match &payment {
                Some(p) => (None, Some(self.recheck(p).await?)),
                None if kind == "not_checked" => {
                    (None, Some("asked again at the next reconciliation".into()))
                }
                None => {
                    let state = self.sync_now().await?;
                    (
                        None,
                        Some(format!(
                            "sent to the hub; {} records still waiting",
                            state.queue_length
                        )),
                    )
                }
            },
        };
        let now = self.now();
        let rec = self.with_journal(|j| {
            j.add_resolution(
                day,
                disagreement_id,
                resolution.action(),
                note.as_deref(),
                outcome.as_deref(),
                by,
                now,
            )
        })?;
        Ok(rec.into())
    }

    /// Asks a payment's provider again; returns what happened, in words.
    async fn recheck(&self, p: &Payment) -> Result<String, EngineError> {
        let before = p.state;
        if before.is_open() {
            let after = self.refresh(&p.id).await?;
            return Ok(if after.state == before {
                format!(
                    "{} was asked again; the payment is still {before}",
                    p.provider
                )
            } else {
                format!(
                    "{} was asked again; the payment went from {before} to {}",
                    p.provider, after.state
                )
            });
        }
        let provider = self.inner.registry.get(p.provider)?.clone();
        let v = provider.query(p).await;
        self.note_health(p.provider, &v);
        Ok(match v {
            Ok(Verdict::Paid {
                amount, currency, ..
            }) => {
                let paid = crate::report::Money::of(amount, currency).display;
                if before.is_paid() && p.amount.matches(amount, currency) {
                    format!("{} confirms {paid}; the payment stays {before}", p.provider)
                } else {
                    format!(
                        "{} says {paid} was paid; a {before} payment cannot change here: refund the customer or acknowledge",
                        p.provider
                    )
                }
            }
            Ok(Verdict::Pending) => format!(
                "{} holds no completed payment; the payment stays {before}",
                p.provider
            ),
            Ok(other) => format!(
                "{} says {:?}; the payment stays {before}",
                p.provider, other
            )
            .to_lowercase(),
            Err(e) => format!("{} could not be asked: {e}", p.provider),
        })
    }

    // -------------------------------------------------------------- reports

    fn resolutions_of(&self, day: NaiveDate) -> Result<Vec<ResolutionEntry>, EngineError> {
        Ok(self
            .with_journal(|j| j.resolutions(day))?
            .into_iter()
            .map(ResolutionEntry::from)
            .collect())
    }

    /// The shop's name in its own script: Bangla, else Khmer (a shop has one).
    fn local_shop_name(&self) -> Option<&str> {
        let shop = &self.inner.config.shop;
        shop.name_bn.as_deref().or(shop.name_km.as_deref())
    }

    /// The X-report: summary + reconciliation + resolutions, nothing stored.
    pub async fn x_report(&self, day: NaiveDate) -> Result<Report, EngineError> {
        let reconciliation = self.reconcile(day).await?;
        let summary = self.day_summary(day)?;
        let resolutions = self.resolutions_of(day)?;
        Ok(Report::assemble(
            ReportKind::X,
            &self.inner.config.shop.name,
            summary,
            reconciliation,
            resolutions,
            self.now(),
        )
        .with_local_name(self.local_shop_name()))
    }

    /// Closes a day: reconciles it, refuses while a disagreement is not
    /// acknowledged, then stores the Z-report immutably and enqueues the
    /// signed `day.closed` record for the hub, in one transaction. From then
    /// on money of the day's payments (a late refund) is booked into the next
    /// open day as an adjustment.
    pub async fn close_day(&self, day: NaiveDate, closed_by: &str) -> Result<ZReport, EngineError> {
        if closed_by.trim().is_empty() {
            return Err(refused("say who closes the day"));
        }
        let today = self.today();
        if day > today {
            return Err(refused(format!(
                "{day} has not begun yet (today is {today})"
            )));
        }
        if let Some(c) = self.with_journal(|j| j.closed_day(day))? {
            return Err(refused(format!(
                "{day} was already closed by {} at {}",
                c.closed_by,
                c.closed_at.format("%Y-%m-%d %H:%M UTC")
            )));
        }
        let reconciliation = self.reconcile(day).await?;
        let resolutions = self.resolutions_of(day)?;
        let now = self.now();
        let summary = self.day_summary(day)?;
        let check = Report::assemble(
            ReportKind::X,
            "",
            summary,
            reconciliation.clone(),
            resolutions.clone(),
            now,
        );
        if !check.unresolved.is_empty() {
            let list: Vec<String> = check
                .reconciliation
                .disagreements
                .iter()
                .filter(|d| check.unresolved.contains(&d.id))
                .map(|d| d.explanation.clone())
                .collect();
            return Err(refused(format!(
                "{} disagreement{} must be rechecked, resynced or acknowledged before {day} can close: {}",
                list.len(),
                if list.len() == 1 { "" } else { "s" },
                list.join(" ")
            )));
        }
        let rules = self.day_rules();
        let shop = self.inner.config.shop.name.clone();
        let local = self.local_shop_name().map(str::to_owned);
        let queue = self.with_journal(|j| j.sync_queue_stats())?;
        let by = closed_by.trim().to_owned();
        let mut stored: Option<Report> = None;
        let closed: ClosedDay = self.with_journal(|j| {
            j.close_day(day, &by, now, |data| {
                let mut summary = summary::summarize(&rules, data, &queue, now);
                summary.closed = Some(ClosedInfo {
                    closed_at: now,
                    closed_by: by.clone(),
                });
                let report = Report::assemble(
                    ReportKind::Z,
                    &shop,
                    summary,
                    reconciliation,
                    resolutions,
                    now,
                )
                .with_local_name(local.as_deref());
                let text = serde_json::to_string(&report)
                    .map_err(|e| JournalError::Corrupt(format!("Z-report: {e}")))?;
                let sha = sha256_hex(&text);
                let body = day_closed_body(&report, &sha, now, &by);
                stored = Some(report);
                Ok::<_, JournalError>(ClosingReport {
                    report: text,
                    report_sha256: sha,
                    event_day: body,
                })
            })
        })?;
        self.wake_sync();
        let report =
            stored.ok_or_else(|| refused("the day was closed but its report is missing"))?;
        Ok(ZReport {
            report,
            closed_at: closed.closed_at,
            closed_by: closed.closed_by,
            sha256: closed.report_sha256,
            outbox_sequence: closed.outbox_sequence,
        })
    }

    /// The stored Z-report of a closed day (checked against its hash), or
    /// `None` if the day is not closed.
    pub fn z_report(&self, day: NaiveDate) -> Result<Option<ZReport>, EngineError> {
        let Some(c) = self.with_journal(|j| j.closed_day(day))? else {
            return Ok(None);
        };
        if sha256_hex(&c.report) != c.report_sha256 {
            return Err(JournalError::Corrupt(format!(
                "the stored Z-report of {day} does not match its hash"
            ))
            .into());
        }
        let report: Report = serde_json::from_str(&c.report)
            .map_err(|e| JournalError::Corrupt(format!("the stored Z-report of {day}: {e}")))?;
        Ok(Some(ZReport {
            report,
            closed_at: c.closed_at,
            closed_by: c.closed_by,
            sha256: c.report_sha256,
            outbox_sequence: c.outbox_sequence,
        }))
    }

    /// Every closed day, oldest first.
    pub fn closed_days(&self) -> Result<Vec<ClosedDayInfo>, EngineError> {
        Ok(self
            .with_journal(|j| j.closed_days())?
            .into_iter()
            .map(|c| ClosedDayInfo {
                day: c.day,
                closed_at: c.closed_at,
                closed_by: c.closed_by,
                sha256: c.report_sha256,
            })
            .collect())
    }

    // -------------------------------------------------------------- exports

    /// Writes the day's payments as CSV to `path`. Returns the number of rows.
    pub fn export_csv(&self, day: NaiveDate, path: &Path) -> Result<usize, EngineError> {
        let payments = self.day_payments(day)?;
        let file = std::fs::File::create(path).map_err(|e| {
            report_error(ReportError::Write {
                path: path.display().to_string(),
                message: e.to_string(),
            })
        })?;
        crate::report::csv::write_payments(
            std::io::BufWriter::new(file),
            &payments,
            self.day_rules().timezone,
        )
        .map_err(report_error)
    }

    /// Writes the day's report as PDF to `path`: the Z-report if the day is
    /// closed, else a fresh X-report (which reconciles, so it asks the
    /// providers and the hub).
    pub async fn export_pdf(&self, day: NaiveDate, path: &Path) -> Result<(), EngineError> {
        let bytes = match self.z_report(day)? {
            Some(z) => crate::report::pdf::render(&z),
            None => crate::report::pdf::render(&self.x_report(day).await?),
        }
        .map_err(report_error)?;
        std::fs::write(path, bytes).map_err(|e| {
            report_error(ReportError::Write {
                path: path.display().to_string(),
                message: e.to_string(),
            })
        })
    }
}

/// The day's payments of one provider.
fn payments_of(data: &DayData, provider: ProviderKind) -> Vec<&Payment> {
    data.payments
        .iter()
        .map(|d| &d.payment)
        .filter(|p| p.provider == provider)
        .collect()
}
