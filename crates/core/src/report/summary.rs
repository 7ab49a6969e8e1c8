//! The summary of one business day from the local journal alone: cheap, no
//! network. Built by [`summarize`] from what [`crate::journal::Journal::day_data`] read.
//!
//! What counts where:
//! - `by_state`: every payment *created* on the day, by provider × currency × its state now.
//! - `wallets` / `totals`: money *booked* into the day: settlements (the
//!   payment's amount) and finished refunds, so `net = settled − refunded`.
//!   Money of a payment from a day that was already closed is booked into
//!   the next open day and also listed under `adjustments`.
//! - `hourly`: the day's own settled payments by the local hour they were created.

use super::Money;
use crate::journal::days::DayData;
use crate::journal::sync::QueueStats;
use crate::money::{Amount, Currency};
use crate::payment::{Payment, ProviderKind, RefundState};
use crate::state::PaymentState;
use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How the shop's business day runs.
#[derive(Clone, Debug)]
pub struct DayRules {
    pub terminal_id: String,
    pub timezone: Tz,
    pub cutoff: NaiveTime,
}

impl DayRules {
    /// The instant the business day `day` starts (its cutoff, local time).
    /// In a DST gap the first valid instant after it.
    pub fn start_of(&self, day: NaiveDate) -> DateTime<Utc> {
        let mut local = day.and_time(self.cutoff);
        for _ in 0..4 {
            if let Some(t) = self.timezone.from_local_datetime(&local).earliest() {
                return t.with_timezone(&Utc);
            }
            local += chrono::Duration::minutes(30);
        }
        Utc.from_utc_datetime(&day.and_time(self.cutoff))
    }

    /// The business day an instant belongs to.
    pub fn day_of(&self, at: DateTime<Utc>) -> NaiveDate {
        crate::business_day::business_day(at, self.timezone, self.cutoff)
    }

    fn local_hm(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.timezone).format("%H:%M").to_string()
    }
}

/// Count and sum of payments in one provider × currency × state.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct StateTotal {
    pub provider: ProviderKind,
    pub currency: Currency,
    pub state: PaymentState,
    pub count: u64,
    pub amount: Money,
}

/// Money booked into the day for one wallet and currency.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct WalletTotal {
    pub provider: ProviderKind,
    pub currency: Currency,
    pub settled_count: u64,
    pub settled: Money,
    pub refund_count: u64,
    pub refunded: Money,
    /// settled − refunded.
    pub net: Money,
}

/// Money booked into the day in one currency, all wallets.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct CurrencyTotal {
    pub currency: Currency,
    pub settled_count: u64,
    pub settled: Money,
    pub refund_count: u64,
    pub refunded: Money,
    pub net: Money,
}

/// One payment in a list (flagged, open).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct PaymentLine {
    pub id: String,
    pub invoice: String,
    pub provider: ProviderKind,
    pub amount: Money,
    pub state: PaymentState,
    /// Why a manager must look (`amount_mismatch: …`, `paid_after_expiry: …`).
    pub flag: Option<String>,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Local time of creation, "HH:MM".
    pub local_time: String,
}

/// A refund of one of the day's payments, or booked into the day.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct RefundLine {
    pub refund_id: String,
    pub payment_id: String,
    pub invoice: String,
    pub provider: ProviderKind,
    pub amount: Money,
    pub state: RefundState,
    pub reason: Option<String>,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    /// The day it counts in (`None` until done).
    pub booked_day: Option<NaiveDate>,
    /// Whether it is booked into another day than its payment's.
    pub adjustment: bool,
}

/// Money of an earlier (closed) day's payment booked into this day.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum AdjustmentKind {
    Settlement,
    Refund,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Adjustment {
    pub kind: AdjustmentKind,
    pub payment_id: String,
    pub refund_id: Option<String>,
    pub invoice: String,
    pub provider: ProviderKind,
    /// The (closed) day the payment belongs to.
    pub payment_day: NaiveDate,
    /// Positive for a settlement, negative for a refund.
    pub amount: Money,
    pub at: DateTime<Utc>,
}

/// One hour of the day's chart.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct HourBucket {
    /// Local clock hour 0–23.
    pub hour: u32,
    pub count: u64,
    pub amount: Money,
}

/// The per-hour chart of one currency (24 buckets, by clock hour).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Hourly {
    pub currency: Currency,
    pub hours: Vec<HourBucket>,
}

/// How much of the day has reached the hub.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct DaySync {
    /// The day's settlement/refund records not yet acknowledged by the hub.
    pub unsynced: u64,
    /// The day's records given up on (kept, replayable).
    pub dead_letters: u64,
    /// The day's records the hub acknowledged.
    pub delivered: u64,
    /// The whole queue (all days).
    pub queue_length: u64,
    pub queue_dead_letters: u64,
}

/// One account the day's money went to (the Z-report lists them per wallet,
/// so a payee changed during the day shows as two lines).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct PayeeLine {
    pub provider: ProviderKind,
    /// `None`: unknown (payments recorded before Till kept the payee).
    pub payee: Option<String>,
    /// The day's payments to it (created on the day, or booked into it).
    pub payments: u64,
    /// Of those, the ones whose money is booked into this day.
    pub settled_count: u64,
}

/// When and by whom a day was closed.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ClosedInfo {
    pub closed_at: DateTime<Utc>,
    pub closed_by: String,
}

/// The local journal's numbers for one business day.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct DaySummary {
    pub day: NaiveDate,
    pub terminal_id: String,
    pub timezone: String,
    /// "HH:MM": the local time the business day starts and ends.
    pub cutoff: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Set when the day is closed (its Z-report is the record then).
    pub closed: Option<ClosedInfo>,
    /// Payments created on the day.
    pub payment_count: u64,
    pub by_state: Vec<StateTotal>,
    pub wallets: Vec<WalletTotal>,
    /// The receiving accounts of the day, per wallet (absent from Z-reports
    /// stored before Till recorded payees).
    #[serde(default)]
    pub payees: Vec<PayeeLine>,
    pub totals: Vec<CurrencyTotal>,
    pub refunds: Vec<RefundLine>,
    pub adjustments: Vec<Adjustment>,
    pub hourly: Vec<Hourly>,
    /// Wrong amounts, payments after expiry: a manager must look.
    pub flagged: Vec<PaymentLine>,
    /// Payments whose outcome is not known yet.
    pub open: Vec<PaymentLine>,
    pub sync: DaySync,
    pub generated_at: DateTime<Utc>,
}

fn line(rules: &DayRules, p: &Payment) -> PaymentLine {
    PaymentLine {
        id: p.id.clone(),
        invoice: p.invoice.clone(),
        provider: p.provider,
        amount: p.amount.into(),
        state: p.state,
        flag: p.flag.clone(),
        reason: p.failure_reason.clone(),
        created_at: p.created_at,
        local_time: rules.local_hm(p.created_at),
    }
}

#[derive(Default)]
struct Acc {
    settled_count: u64,
    settled: Option<Amount>,
    refund_count: u64,
    refunded: Option<Amount>,
}

fn add(slot: &mut Option<Amount>, a: Amount) {
    *slot = Some(match slot {
        Some(s) => s.checked_add(a).unwrap_or(*s),
        None => a,
    });
}

fn money(slot: Option<Amount>, c: Currency) -> Money {
    slot.unwrap_or_else(|| Amount::zero(c)).into()
}

fn net(acc: &Acc, c: Currency) -> Money {
    let s = acc.settled.unwrap_or_else(|| Amount::zero(c));
    let r = acc.refunded.unwrap_or_else(|| Amount::zero(c));
    s.checked_sub(r)
        .map(Money::from)
        .unwrap_or_else(|_| Money::zero(c))
}

/// The summary of `data.day`.
pub fn summarize(
    rules: &DayRules,
    data: &DayData,
    queue: &QueueStats,
    now: DateTime<Utc>,
) -> DaySummary {
    let day = data.day;
    let own: Vec<&Payment> = data
        .payments
        .iter()
        .map(|d| &d.payment)
        .filter(|p| p.business_day == day)
        .collect();

    let mut by_state: BTreeMap<(ProviderKind, Currency, PaymentState), (u64, Option<Amount>)> =
        BTreeMap::new();
    for p in &own {
        let e = by_state
            .entry((p.provider, p.amount.currency(), p.state))
            .or_default();
        e.0 += 1;
        add(&mut e.1, p.amount);
    }

    let mut wallets: BTreeMap<(ProviderKind, Currency), Acc> = BTreeMap::new();
    let mut adjustments = Vec::new();
    let mut hours: BTreeMap<Currency, Vec<(u64, Option<Amount>)>> = BTreeMap::new();
    for d in &data.payments {
        let p = &d.payment;
        if d.booked_day != Some(day) {
            continue;
        }
        let acc = wallets
            .entry((p.provider, p.amount.currency()))
            .or_default();
        acc.settled_count += 1;
        add(&mut acc.settled, p.amount);
        if p.business_day != day {
            adjustments.push(Adjustment {
                kind: AdjustmentKind::Settlement,
                payment_id: p.id.clone(),
                refund_id: None,
                invoice: p.invoice.clone(),
                provider: p.provider,
                payment_day: p.business_day,
                amount: p.amount.into(),
                at: p.updated_at,
            });
        } else {
            let h = p.created_at.with_timezone(&rules.timezone).hour() as usize;
            let slots = hours
                .entry(p.amount.currency())
                .or_insert_with(|| vec![(0, None); 24]);
            slots[h].0 += 1;
            add(&mut slots[h].1, p.amount);
        }
    }

    let mut refunds = Vec::new();
    for r in &data.refunds {
        let booked_here = r.booked_day == Some(day);
        let own_payment = r.payment_day == day;
        if !booked_here && !own_payment {
            continue;
        }
        let adjustment = r.booked_day.is_some_and(|b| b != r.payment_day);
        // A refund of this day's payment booked into a later day is shown,
        // but counts there.
        if booked_here {
            let acc = wallets
                .entry((r.provider, r.refund.amount.currency()))
                .or_default();
            acc.refund_count += 1;
            add(&mut acc.refunded, r.refund.amount);
            if adjustment {
                let c = r.refund.amount.currency();
                adjustments.push(Adjustment {
                    kind: AdjustmentKind::Refund,
                    payment_id: r.refund.payment_id.clone(),
                    refund_id: Some(r.refund.id.clone()),
                    invoice: r.invoice.clone(),
                    provider: r.provider,
                    payment_day: r.payment_day,
                    amount: Amount::zero(c)
                        .checked_sub(r.refund.amount)
                        .map(Money::from)
                        .unwrap_or_else(|_| Money::zero(c)),
                    at: r.refund.updated_at,
                });
            }
        }
        refunds.push(RefundLine {
            refund_id: r.refund.id.clone(),
            payment_id: r.refund.payment_id.clone(),
            invoice: r.invoice.clone(),
            provider: r.provider,
            amount: r.refund.amount.into(),
            state: r.refund.state,
            reason: r.refund.reason.clone(),
            requested_by: r.refund.requested_by.clone(),
            requested_at: r.refund.created_at,
            booked_day: r.booked_day,
            adjustment,
        });
    }

    let mut payees: BTreeMap<(ProviderKind, Option<String>), (u64, u64)> = BTreeMap::new();
    for d in &data.payments {
        let p = &d.payment;
        let booked = d.booked_day == Some(day);
        if p.business_day != day && !booked {
            continue;
        }
        let e = payees.entry((p.provider, p.payee.clone())).or_default();
        e.0 += 1;
        e.1 += u64::from(booked);
    }

    let mut totals: BTreeMap<Currency, Acc> = BTreeMap::new();
    for ((_, c), acc) in &wallets {
        let t = totals.entry(*c).or_default();
        t.settled_count += acc.settled_count;
        t.refund_count += acc.refund_count;
        if let Some(s) = acc.settled {
            add(&mut t.settled, s);
        }
        if let Some(r) = acc.refunded {
            add(&mut t.refunded, r);
        }
    }

    DaySummary {
        day,
        terminal_id: rules.terminal_id.clone(),
        timezone: rules.timezone.name().to_owned(),
        cutoff: rules.cutoff.format("%H:%M").to_string(),
        starts_at: rules.start_of(day),
        ends_at: rules.start_of(day.succ_opt().unwrap_or(day)),
        closed: data.closed.as_ref().map(|c| ClosedInfo {
            closed_at: c.closed_at,
            closed_by: c.closed_by.clone(),
        }),
        payment_count: own.len() as u64,
        by_state: by_state
            .into_iter()
            .map(|((provider, currency, state), (count, sum))| StateTotal {
                provider,
                currency,
                state,
                count,
                amount: money(sum, currency),
            })
            .collect(),
        wallets: wallets
            .iter()
            .map(|((provider, currency), acc)| WalletTotal {
                provider: *provider,
                currency: *currency,
                settled_count: acc.settled_count,
                settled: money(acc.settled, *currency),
                refund_count: acc.refund_count,
                refunded: money(acc.refunded, *currency),
                net: net(acc, *currency),
            })
            .collect(),
        payees: payees
            .into_iter()
            .map(|((provider, payee), (payments, settled_count))| PayeeLine {
                provider,
                payee,
                payments,
                settled_count,
            })
            .collect(),
        totals: totals
            .iter()
            .map(|(currency, acc)| CurrencyTotal {
                currency: *currency,
                settled_count: acc.settled_count,
                settled: money(acc.settled, *currency),
                refund_count: acc.refund_count,
                refunded: money(acc.refunded, *currency),
                net: net(acc, *currency),
            })
            .collect(),
        refunds,
        adjustments,
        hourly: hours
            .into_iter()
            .map(|(currency, slots)| Hourly {
                currency,
                hours: slots
                    .into_iter()
                    .enumerate()
                    .map(|(h, (count, sum))| HourBucket {
                        hour: h as u32,
                        count,
                        amount: money(sum, currency),
                    })
                    .collect(),
            })
            .collect(),
        flagged: own
            .iter()
            .filter(|p| p.state == PaymentState::Flagged || p.flag.is_some())
            .map(|p| line(rules, p))
            .collect(),
        open: own
            .iter()
            .filter(|p| p.state.is_open())
            .map(|p| line(rules, p))
            .collect(),
        sync: DaySync {
            unsynced: data.outbox.pending,
            dead_letters: data.outbox.dead,
            delivered: data.outbox.delivered,
            queue_length: queue.queue_length,
            queue_dead_letters: queue.dead_letters,
        },
        generated_at: now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(tz: Tz, cutoff: &str) -> DayRules {
        DayRules {
            terminal_id: "t1".into(),
            timezone: tz,
            cutoff: NaiveTime::parse_from_str(cutoff, "%H:%M").unwrap(),
        }
    }

    #[test]
    fn day_windows_follow_the_cutoff_and_dst() {
        let r = rules(chrono_tz::Asia::Dhaka, "04:00");
        let d: NaiveDate = "2026-11-22".parse().unwrap();
        assert_eq!(r.start_of(d).to_rfc3339(), "2026-11-21T22:00:00+00:00");
        // London springs forward on 2026-03-29 at 01:00 → 02:00: a 01:30
        // cutoff does not exist that day; the day starts at 02:00 BST.
        let r = rules(chrono_tz::Europe::London, "01:30");
        let d: NaiveDate = "2026-03-29".parse().unwrap();
        assert_eq!(r.start_of(d).to_rfc3339(), "2026-03-29T01:00:00+00:00");
        let next = r.start_of(d.succ_opt().unwrap());
        assert_eq!(next.to_rfc3339(), "2026-03-30T00:30:00+00:00");
        // That business day is 23.5 hours long.
        assert_eq!((next - r.start_of(d)).num_minutes(), 23 * 60 + 30);
    }
}

#[cfg(test)]
mod journal_tests {
    use super::*;
    use crate::journal::payments::{Change, NewPayment};
    use crate::journal::{test_context, Journal};

    fn pay(j: &mut Journal, id: &str, amount: &str, c: Currency, at: DateTime<Utc>) -> Payment {
        j.create_payment::<std::convert::Infallible>(
            NewPayment {
                id: id.into(),
                provider: ProviderKind::Demo,
                amount: Amount::parse(amount, c).unwrap(),
                operator: "c".into(),
                at,
                origin: None,
            },
            |_, _| Ok(Change::default()),
        )
        .unwrap()
        .unwrap()
    }

    fn to(j: &mut Journal, id: &str, s: PaymentState, at: DateTime<Utc>) {
        j.transition(id, s, &Change::default(), None, at).unwrap();
    }

    #[test]
    fn totals_refunds_adjustments_and_hours() {
        let ctx = test_context(); // Dhaka, 04:00
        let rules = DayRules {
            terminal_id: ctx.terminal_id.clone(),
            timezone: ctx.timezone,
            cutoff: ctx.cutoff,
        };
        let mut j = Journal::open_in_memory(ctx).unwrap();
        let day: NaiveDate = "2026-11-22".parse().unwrap();
        // 10:15 and 10:40 Dhaka = 04:15 / 04:40 UTC; 01:30 Dhaka next night still belongs to the 22nd.
        let t = |h, m| Utc.with_ymd_and_hms(2026, 11, 22, h, m, 0).unwrap();
        pay(&mut j, "a", "100.00", Currency::Bdt, t(4, 15));
        pay(&mut j, "b", "40.50", Currency::Bdt, t(4, 40));
        pay(&mut j, "c", "5.00", Currency::Usd, t(19, 30));
        pay(&mut j, "f", "9.00", Currency::Bdt, t(5, 0));
        for id in ["a", "b", "c", "f"] {
            to(&mut j, id, PaymentState::AwaitingCustomer, t(6, 0));
        }
        for id in ["a", "b", "c"] {
            to(&mut j, id, PaymentState::Settled, t(6, 0));
        }
        to(&mut j, "f", PaymentState::Failed, t(6, 0));
        pay(&mut j, "open", "1.00", Currency::Bdt, t(7, 0));
        let amt = |s| Amount::parse(s, Currency::Bdt).unwrap();
        j.begin_refund("b", "r1", amt("10.50"), Some("broken"), "mgr", t(8, 0))
            .unwrap();
        j.finish_refund("r1", Ok("RF1"), t(8, 0)).unwrap();

        let queue = j.sync_queue_stats().unwrap();
        let s = summarize(&rules, &j.day_data(day).unwrap(), &queue, t(9, 0));
        assert_eq!(s.payment_count, 5);
        let bdt = s
            .totals
            .iter()
            .find(|x| x.currency == Currency::Bdt)
            .unwrap();
        assert_eq!(bdt.settled.amount, "140.50");
        assert_eq!(bdt.refunded.amount, "10.50");
        assert_eq!(bdt.net.amount, "130.00");
        assert_eq!(bdt.net.display, "৳ 130.00");
        assert_eq!(bdt.settled_count, 2);
        let usd = s
            .totals
            .iter()
            .find(|x| x.currency == Currency::Usd)
            .unwrap();
        assert_eq!(usd.net.amount, "5.00");
        // 19:30 UTC is 01:30 in Dhaka: hour 1 of the chart, same business day.
        let usd_hours = &s
            .hourly
            .iter()
            .find(|h| h.currency == Currency::Usd)
            .unwrap()
            .hours;
        assert_eq!(usd_hours[1].count, 1);
        let bdt_hours = &s
            .hourly
            .iter()
            .find(|h| h.currency == Currency::Bdt)
            .unwrap()
            .hours;
        assert_eq!(bdt_hours[10].count, 2);
        assert_eq!(bdt_hours[10].amount.amount, "140.50");
        assert_eq!(s.open.len(), 1);
        assert_eq!(s.refunds.len(), 1);
        assert_eq!(s.sync.unsynced, 4, "three settlements and one refund");
        let failed = s
            .by_state
            .iter()
            .find(|x| x.state == PaymentState::Failed)
            .unwrap();
        assert_eq!((failed.count, failed.amount.amount.as_str()), (1, "9.00"));

        // Close the day; a late refund is an adjustment of the 23rd.
        j.close_day(day, "mgr", t(21, 0), |_| {
            Ok::<_, crate::journal::JournalError>(crate::journal::days::ClosingReport {
                report: "{}".into(),
                report_sha256: "-".into(),
                event_day: serde_json::json!({"x": 1}),
            })
        })
        .unwrap();
        j.begin_refund("a", "r2", amt("25.00"), None, "mgr", t(23, 0))
            .unwrap();
        j.finish_refund("r2", Ok("RF2"), t(23, 0)).unwrap();
        let after = summarize(&rules, &j.day_data(day).unwrap(), &queue, t(23, 5));
        let bdt_after = after
            .totals
            .iter()
            .find(|x| x.currency == Currency::Bdt)
            .unwrap();
        assert_eq!(
            bdt_after.refunded.amount, "10.50",
            "the closed day does not move"
        );
        let next = day.succ_opt().unwrap();
        let n = summarize(&rules, &j.day_data(next).unwrap(), &queue, t(23, 5));
        assert_eq!(n.adjustments.len(), 1);
        assert_eq!(n.adjustments[0].amount.amount, "-25.00");
        assert_eq!(n.adjustments[0].payment_day, day);
        let nb = n
            .totals
            .iter()
            .find(|x| x.currency == Currency::Bdt)
            .unwrap();
        assert_eq!(nb.net.amount, "-25.00");
        assert_eq!(nb.net.display, "-৳ 25.00");
    }

    fn ctx(tz: Tz, cutoff: &str) -> crate::journal::JournalContext {
        crate::journal::JournalContext {
            terminal_id: "t1".into(),
            timezone: tz,
            cutoff: NaiveTime::parse_from_str(cutoff, "%H:%M").unwrap(),
        }
    }

    fn rules_of(c: &crate::journal::JournalContext) -> DayRules {
        DayRules {
            terminal_id: c.terminal_id.clone(),
            timezone: c.timezone,
            cutoff: c.cutoff,
        }
    }

    fn count(j: &Journal, c: &crate::journal::JournalContext, day: &str) -> u64 {
        let q = j.sync_queue_stats().unwrap();
        summarize(
            &rules_of(c),
            &j.day_data(day.parse().unwrap()).unwrap(),
            &q,
            Utc::now(),
        )
        .payment_count
    }

    #[test]
    fn cutoff_and_midnight_edges_land_in_the_right_summary() {
        // Dhaka (UTC+6), cutoff 04:00. Local times of the night of 22 → 23 November.
        let c = ctx(chrono_tz::Asia::Dhaka, "04:00");
        let mut j = Journal::open_in_memory(c.clone()).unwrap();
        let local = |d: u32, h: u32, m: u32| {
            c.timezone
                .with_ymd_and_hms(2026, 11, d, h, m, 0)
                .unwrap()
                .with_timezone(&Utc)
        };
        pay(&mut j, "a", "1", Currency::Bdt, local(22, 3, 59)); // cutoff − 1 min: the 21st
        pay(&mut j, "b", "1", Currency::Bdt, local(22, 4, 0)); // the cutoff: the 22nd
        pay(&mut j, "c", "1", Currency::Bdt, local(22, 4, 1)); // cutoff + 1 min
        pay(&mut j, "d", "1", Currency::Bdt, local(22, 23, 59)); // 23:59: the 22nd
        pay(&mut j, "e", "1", Currency::Bdt, local(23, 0, 1)); // 00:01 next date: still the 22nd
        pay(&mut j, "f", "1", Currency::Bdt, local(23, 4, 1)); // the 23rd
        assert_eq!(count(&j, &c, "2026-11-21"), 1);
        assert_eq!(count(&j, &c, "2026-11-22"), 4);
        assert_eq!(count(&j, &c, "2026-11-23"), 1);
        // Changing the cutoff later moves nothing already written: the day is stored.
        let c0 = ctx(chrono_tz::Asia::Dhaka, "00:00");
        j.ctx = c0.clone();
        pay(&mut j, "g", "1", Currency::Bdt, local(23, 0, 2)); // now the 23rd
        assert_eq!(count(&j, &c0, "2026-11-22"), 4);
        assert_eq!(count(&j, &c0, "2026-11-23"), 2);
    }

    #[test]
    fn dst_zone_days_and_hours() {
        // London leaves DST on 2026-10-25 at 02:00 BST (01:00 UTC); cutoff 01:30.
        let c = ctx(chrono_tz::Europe::London, "01:30");
        let mut j = Journal::open_in_memory(c.clone()).unwrap();
        let utc = |d: u32, h: u32, m: u32| Utc.with_ymd_and_hms(2026, 10, d, h, m, 0).unwrap();
        pay(&mut j, "a", "1", Currency::Usd, utc(25, 0, 29)); // 01:29 BST: the 24th
        pay(&mut j, "b", "1", Currency::Usd, utc(25, 0, 31)); // 01:31 BST: the 25th
        pay(&mut j, "c", "1", Currency::Usd, utc(25, 1, 15)); // 01:15 GMT (again): the 24th
        pay(&mut j, "d", "1", Currency::Usd, utc(25, 1, 31)); // 01:31 GMT: the 25th
        assert_eq!(count(&j, &c, "2026-10-24"), 2);
        assert_eq!(count(&j, &c, "2026-10-25"), 2);
        for id in ["b", "d"] {
            to(&mut j, id, PaymentState::AwaitingCustomer, utc(25, 2, 0));
            to(&mut j, id, PaymentState::Settled, utc(25, 2, 0));
        }
        let q = j.sync_queue_stats().unwrap();
        let s = summarize(
            &rules_of(&c),
            &j.day_data("2026-10-25".parse().unwrap()).unwrap(),
            &q,
            Utc::now(),
        );
        // Both were created at 01:31 local, before and after the clocks went back.
        assert_eq!(s.hourly[0].hours[1].count, 2);
        // The 25th starts at 01:30 BST (00:30 UTC) and lasts 25 hours.
        assert_eq!(s.starts_at, utc(25, 0, 30));
        assert_eq!(s.ends_at, utc(26, 1, 30));
    }
}
