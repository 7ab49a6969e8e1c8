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
        let keys: BTreeSet<(String, String)> = reported
            .iter()
            .map(|r| (r.provider.clone(), r.currency.clone()))
            .chain(
                held.iter()
                    .map(|h| (h.provider.clone(), h.currency.clone())),
            )
            .collect();
        for (provider, currency) in keys {
            let r = reported
                .iter()
                .find(|r| r.provider == provider && r.currency == currency);
            let h = held
                .iter()
                .find(|h| h.provider == provider && h.currency == currency);
            let z = Decimal::ZERO;
            let (rc, rs, rrc, rr) = r
                .map(|r| (r.count, r.settled, r.refund_count, r.refunded))
                .unwrap_or((0, z, 0, z));
            let (hc, hs, hrc, hr) = h
                .map(|h| (h.count, h.settled, h.refund_count, h.refunded))
                .unwrap_or((0, z, 0, z));
            if rc != hc || !same(rs, hs) || rrc != hrc || !same(rr, hr) {
                differences.push(format!(
                    "{provider} {currency}: the Z-report has {rc} settled ({rs}) and {rrc} refunds ({rr}), the hub holds {hc} settled ({hs}) and {hrc} refunds ({hr})"
                ));
            }
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
