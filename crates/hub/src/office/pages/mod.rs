//! One file per page. What several pages read the same way is here: a
//! day's events (paged through the read API's listing), the totals summed
//! per currency, a terminal's sequence state.

pub mod admin;
pub mod assets;
pub mod days;
pub mod search;
pub mod signin;
pub mod terminals;
pub mod today;

use crate::office::templates::chart::HourBar;
use crate::office::OfficeConfig;
use crate::store::{Result, SettlementQuery, Store, StoredEvent, TotalsRow};
use chrono::{DateTime, FixedOffset, NaiveDate};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use till_sync_proto::read::MAX_LIMIT;

/// Most events a page reads for one day (a shop's day is far below; past
/// this the chart says it is partial rather than make the page slow).
pub const DAY_EVENTS_CAP: usize = 50_000;

/// The payment events of a business day (all terminals, or one), in
/// arrival order, as `GET /v1/settlements` pages them.
pub async fn day_events(
    store: &dyn Store,
    day: NaiveDate,
    terminal: Option<&str>,
) -> Result<(Vec<StoredEvent>, bool)> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .settlements(&SettlementQuery {
                terminal: terminal.map(str::to_owned),
                day: Some(day),
                after,
                limit: MAX_LIMIT,
                ..SettlementQuery::default()
            })
            .await?;
        let full = page.len() == MAX_LIMIT as usize;
        after = page.last().map(|e| e.cursor);
        out.extend(page);
        if !full {
            return Ok((out, false));
        }
        if out.len() >= DAY_EVENTS_CAP {
            return Ok((out, true));
        }
    }
}

/// One currency's totals over every wallet: the read API's lines, added up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrencySum {
    pub currency: String,
    pub count: u64,
    pub settled: Decimal,
    pub refund_count: u64,
    pub refunded: Decimal,
    pub net: Decimal,
}

/// The totals' lines per currency (in currency order).
pub fn per_currency(rows: &[TotalsRow]) -> Vec<CurrencySum> {
    let mut by: BTreeMap<&str, CurrencySum> = BTreeMap::new();
    for r in rows {
        let s = by.entry(&r.currency).or_insert_with(|| CurrencySum {
            currency: r.currency.clone(),
            count: 0,
            settled: Decimal::ZERO,
            refund_count: 0,
            refunded: Decimal::ZERO,
            net: Decimal::ZERO,
        });
        s.count += r.count;
        s.settled += r.settled;
        s.refund_count += r.refund_count;
        s.refunded += r.refunded;
        s.net += r.net;
    }
    by.into_values().collect()
}

#[derive(serde::Deserialize)]
struct Occurred {
    occurred_at: DateTime<FixedOffset>,
}

/// The day's events spread over the shop's hours, per currency: each
/// settlement adds its amount to its hour, each refund takes its amount off.
pub fn per_hour(cfg: &OfficeConfig, events: &[StoredEvent]) -> BTreeMap<String, Vec<HourBar>> {
    let mut by: BTreeMap<String, BTreeMap<u32, (Decimal, u64)>> = BTreeMap::new();
    for e in events {
        let (Some(currency), Ok(o)) = (
            e.currency.as_deref(),
            serde_json::from_str::<Occurred>(e.event.get()),
        ) else {
            continue;
        };
        let signed = match e.kind.as_str() {
            "payment.settled" => e.amount.unwrap_or_default(),
            _ => -e.refund_amount.unwrap_or_default(),
        };
        let slot = by
            .entry(currency.to_owned())
            .or_default()
            .entry(cfg.hour_of(o.occurred_at))
            .or_insert((Decimal::ZERO, 0));
        slot.0 += signed;
        slot.1 += 1;
    }
    by.into_iter()
        .map(|(currency, hours)| {
            let bars = cfg
                .hours()
                .map(|h| {
                    let (net, count) = hours.get(&h).copied().unwrap_or((Decimal::ZERO, 0));
                    HourBar {
                        hour: h,
                        net,
                        count,
                    }
                })
                .collect();
            (currency, bars)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(p: &str, c: &str, settled: &str, refunded: &str) -> TotalsRow {
        TotalsRow {
            provider: p.into(),
            currency: c.into(),
            count: 1,
            settled: settled.parse().unwrap(),
            refund_count: 1,
            refunded: refunded.parse().unwrap(),
            net: Decimal::ZERO,
        }
        .finish()
    }

    #[test]
    fn currencies_add_their_wallets_lines() {
        let sums = per_currency(&[
            row("bkash", "BDT", "100.00", "10.00"),
            row("bakong", "KHR", "4000", "0"),
            row("nagad", "BDT", "50.50", "0.00"),
        ]);
        assert_eq!(sums.len(), 2);
        assert_eq!(sums[0].currency, "BDT");
        assert_eq!(sums[0].net.to_string(), "140.50");
        assert_eq!(sums[0].count, 2);
        assert_eq!(sums[1].net.to_string(), "4000");
    }
}
