//! Per terminal and business day: whether a Z-report (`day.closed`) arrived,
//! and whether its totals match the settlements this hub holds for that
//! terminal and day. Read API: `GET /v1/terminals/{id}/days/{day}` and
//! `GET /v1/days?terminal=&day=&limit=`; CLI: `till-hub days`.
//!
//! A `day.closed` event's `day` object carries `totals`: one line per
//! provider × currency with `count`, `settled`, `refund_count`, `refunded`
//! and `net` as exact decimal strings (the shape of `GET /v1/totals`, read
//! as its [`TotalsRow`]). They match when every line equals the hub's own
//! totals for the day, both ways.

use crate::store::{Result, Store, StoredEvent, TotalsQuery, TotalsRow};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeSet;

/// Where a terminal's business day stands at the hub.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DayStatus {
    pub terminal: String,
    pub day: NaiveDate,
    /// A `day.closed` event arrived for this terminal and day.
    pub z_report: bool,
    /// How many arrived (more than one means the terminal closed the day twice).
    pub z_reports: u64,
    pub closed_at: Option<String>,
    pub closed_by: Option<String>,
    pub report_sha256: Option<String>,
    pub received_at: Option<DateTime<Utc>>,
    /// `null` without a Z-report; else whether its totals equal the hub's.
    pub totals_match: Option<bool>,
    /// The Z-report's totals.
    pub reported: Vec<TotalsRow>,
    /// The hub's own totals from the settlements it holds.
    pub held: Vec<TotalsRow>,
    /// One sentence per provider × currency that differs.
    pub differences: Vec<String>,
}

fn same(a: Decimal, b: Decimal) -> bool {
    a.normalize() == b.normalize()
}

/// One provider × currency of a day, as the Z-report has it and as the hub
/// holds it (a side without the line counts as zero).
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub provider: String,
    pub currency: String,
    pub reported: TotalsRow,
    pub held: TotalsRow,
    /// Counts and sums equal (whatever their number of decimals).
    pub matches: bool,
}

impl Line {
    /// What the Z-report has more than the hub (negative: less), net.
    pub fn net_difference(&self) -> Decimal {
        self.reported.net - self.held.net
    }
}

/// The lines of both sides, by provider and currency: what [`compare`]
/// judges a day by, and what the office's day view shows.
pub fn lines(reported: &[TotalsRow], held: &[TotalsRow]) -> Vec<Line> {
    let keys: BTreeSet<(String, String)> = reported
        .iter()
        .chain(held.iter())
        .map(|r| (r.provider.clone(), r.currency.clone()))
        .collect();
    let side = |rows: &[TotalsRow], provider: &str, currency: &str| {
        rows.iter()
            .find(|r| r.provider == provider && r.currency == currency)
            .cloned()
            .unwrap_or_else(|| {
                TotalsRow {
                    provider: provider.to_owned(),
                    currency: currency.to_owned(),
                    count: 0,
                    settled: Decimal::ZERO,
                    refund_count: 0,
                    refunded: Decimal::ZERO,
                    net: Decimal::ZERO,
                }
                .finish()
            })
    };
    keys.into_iter()
        .map(|(provider, currency)| {
            let r = side(reported, &provider, &currency);
            let h = side(held, &provider, &currency);
            let matches = r.count == h.count
                && same(r.settled, h.settled)
                && r.refund_count == h.refund_count
                && same(r.refunded, h.refunded);
            Line {
                provider,
                currency,
                reported: r,
                held: h,
                matches,
            }
        })
        .collect()
}

/// Compares the latest Z-report of a day with the hub's totals.
pub fn compare(
    terminal: &str,
    day: NaiveDate,
    closes: &[StoredEvent],
    held: Vec<TotalsRow>,
) -> DayStatus {
    let latest = closes.last();
    let body: Option<serde_json::Value> =
        latest.and_then(|e| serde_json::from_str(e.event.get()).ok());
    let d = body.as_ref().map(|b| &b["day"]);
    let text = |k: &str| d.and_then(|d| d[k].as_str()).map(str::to_owned);
    let reported: Vec<TotalsRow> = d
        .and_then(|d| serde_json::from_value(d["totals"].clone()).ok())
        .unwrap_or_default();
    let mut differences = Vec::new();
    if latest.is_some() {
        for l in lines(&reported, &held).iter().filter(|l| !l.matches) {
            let (r, h) = (&l.reported, &l.held);
            differences.push(format!(
                "{} {}: the Z-report has {} settled ({}) and {} refunds ({}), the hub holds {} settled ({}) and {} refunds ({})",
                l.provider, l.currency, r.count, r.settled, r.refund_count, r.refunded,
                h.count, h.settled, h.refund_count, h.refunded
            ));
        }
    }
    DayStatus {
        terminal: terminal.to_owned(),
        day,
        z_report: latest.is_some(),
        z_reports: closes.len() as u64,
        closed_at: text("closed_at"),
        closed_by: text("closed_by"),
        report_sha256: text("report_sha256"),
        received_at: latest.map(|e| e.received_at),
        totals_match: latest.map(|_| differences.is_empty()),
        reported,
        held,
        differences,
    }
}

/// The status of one terminal's day.
pub async fn day_status(store: &dyn Store, terminal: &str, day: NaiveDate) -> Result<DayStatus> {
    let closes = store.day_closes(terminal, day).await?;
    let held = store
        .totals(&TotalsQuery {
            terminal: Some(terminal.to_owned()),
            day: Some(day),
        })
        .await?;
    Ok(compare(terminal, day, &closes, held))
}

/// The status of every (terminal, day) with events, newest day first.
pub async fn days(
    store: &dyn Store,
    terminal: Option<&str>,
    day: Option<NaiveDate>,
    limit: u32,
) -> Result<Vec<DayStatus>> {
    let mut out = Vec::new();
    for (t, d) in store.days(terminal, day, limit).await? {
        out.push(day_status(store, &t, d).await?);
    }
    Ok(out)
}
