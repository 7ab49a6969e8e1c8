//! Business days in the journal (schema 4): what a day holds, the day a
//! settlement or refund is booked into, closed days (`day_closes`) and the
//! resolutions of a reconciliation (`resolutions`). Both tables are
//! append-only (triggers).
//!
//! A payment belongs to the business day of its creation
//! (`payments.business_day`, fixed when it is written). Its settlement and
//! each finished refund are *booked* into that day, unless the day is closed
//! by then: the money is then an adjustment of the next open day. The
//! booking day is written in the same transaction as the state change.

use super::payments::{raw, RawPayment, COLUMNS};
use super::{outbox, parse_ts, ts, Ctx, Journal, JournalError};
use crate::money::{Amount, Currency};
use crate::payment::{Payment, ProviderKind, Refund, RefundState};
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::Serialize;

/// A payment as a day sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct DayPayment {
    pub payment: Payment,
    /// The day its settlement is booked into (`None` until it is settled).
    pub booked_day: Option<NaiveDate>,
}

/// A refund as a day sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct DayRefund {
    pub refund: Refund,
    /// The day it is booked into (`None` until it is done).
    pub booked_day: Option<NaiveDate>,
    /// The refunded payment's own day.
    pub payment_day: NaiveDate,
    pub provider: ProviderKind,
    pub invoice: String,
}

/// Outbox records of a day's bookings, by state.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DayOutbox {
    pub pending: u64,
    pub dead: u64,
    pub delivered: u64,
    /// `(event type, payment id, refund id, state)` of each record.
    #[serde(skip)]
    pub records: Vec<(String, String, Option<String>, String)>,
}

/// Everything the journal holds about one business day.
#[derive(Clone, Debug, PartialEq)]
pub struct DayData {
    pub day: NaiveDate,
    /// Payments created on the day, and payments of other days whose
    /// settlement is booked into it (adjustments).
    pub payments: Vec<DayPayment>,
    /// Refunds of the day's payments, and refunds booked into the day.
    pub refunds: Vec<DayRefund>,
    pub outbox: DayOutbox,
    pub closed: Option<ClosedDay>,
}

/// A closed day as stored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClosedDay {
    pub day: NaiveDate,
    pub closed_at: DateTime<Utc>,
    pub closed_by: String,
    /// The Z-report JSON, exactly as stored.
    pub report: String,
    pub report_sha256: String,
    pub outbox_sequence: i64,
}

/// One recorded resolution of a disagreement.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ResolutionRecord {
    pub id: i64,
    pub day: NaiveDate,
    pub disagreement_id: String,
    pub action: String,
    pub note: Option<String>,
    pub outcome: Option<String>,
    pub actor: String,
    pub at: DateTime<Utc>,
}

fn parse_day(s: &str) -> Result<NaiveDate, JournalError> {
    s.parse()
        .map_err(|_| JournalError::Corrupt(format!("business day {s:?}")))
}

/// The day money belonging to `natural` is booked into: `natural` itself,
/// or the first day after it that is not closed.
pub(crate) fn booking_day(
    conn: &Connection,
    natural: NaiveDate,
) -> Result<NaiveDate, JournalError> {
    let mut stmt = conn
        .prepare_cached("SELECT day FROM day_closes WHERE day >= ?1 ORDER BY day")
        .ctx("reading closed days")?;
    let closed = stmt
        .query_map([natural.to_string()], |r| r.get::<_, String>(0))
        .ctx("reading closed days")?
        .collect::<Result<Vec<_>, _>>()
        .ctx("reading closed days")?;
    let mut day = natural;
    for c in closed {
        let c = parse_day(&c)?;
        if c == day {
            day = day
                .succ_opt()
                .ok_or_else(|| JournalError::Corrupt("day out of range".into()))?;
        } else if c > day {
            break;
        }
    }
    Ok(day)
}

fn closed_day(conn: &Connection, day: NaiveDate) -> Result<Option<ClosedDay>, JournalError> {
    conn.query_row(
        "SELECT day, closed_at, closed_by, report, report_sha256, outbox_sequence FROM day_closes WHERE day = ?1",
        [day.to_string()],
        closed_row,
    )
    .optional()
    .ctx("reading a closed day")?
    .map(finish_closed)
    .transpose()
}

type ClosedRow = (String, String, String, String, String, i64);

fn closed_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ClosedRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

fn finish_closed((day, at, by, report, sha, seq): ClosedRow) -> Result<ClosedDay, JournalError> {
    Ok(ClosedDay {
        day: parse_day(&day)?,
        closed_at: parse_ts(&at)?,
        closed_by: by,
        report,
        report_sha256: sha,
        outbox_sequence: seq,
    })
}

fn day_payments(conn: &Connection, day: NaiveDate) -> Result<Vec<DayPayment>, JournalError> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS}, booked_day FROM payments WHERE business_day = ?1 OR booked_day = ?1
             ORDER BY created_at, id"
        ))
        .ctx("preparing the day's payments")?;
    let rows = stmt
        .query_map([day.to_string()], |r| {
            Ok((
                raw(r)?,
                r.get::<_, Option<String>>(super::payments::COLUMN_COUNT)?,
            ))
        })
        .ctx("reading the day's payments")?
        .collect::<Result<Vec<(RawPayment, Option<String>)>, _>>()
        .ctx("reading the day's payments")?;
    rows.into_iter()
        .map(|(p, booked)| {
            Ok(DayPayment {
                payment: p.into_payment()?,
                booked_day: booked.as_deref().map(parse_day).transpose()?,
            })
        })
        .collect()
}

fn day_refunds(conn: &Connection, day: NaiveDate) -> Result<Vec<DayRefund>, JournalError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT r.id, r.payment_id, r.amount, r.currency, r.state, r.reason, r.requested_by,
                    r.provider_refund_id, r.failure_reason, r.sent_at, r.created_at, r.updated_at,
                    r.booked_day, p.business_day, p.provider, p.invoice
             FROM refunds r JOIN payments p ON p.id = r.payment_id
             WHERE r.booked_day = ?1 OR p.business_day = ?1
             ORDER BY r.created_at, r.id",
        )
        .ctx("preparing the day's refunds")?;
    let rows = stmt
        .query_map([day.to_string()], |r| {
            let mut v: Vec<Option<String>> = Vec::with_capacity(16);
            for i in 0..16 {
                v.push(r.get(i)?);
            }
            Ok(v)
        })
        .ctx("reading the day's refunds")?
        .collect::<Result<Vec<_>, _>>()
        .ctx("reading the day's refunds")?;
    let corrupt = || JournalError::Corrupt("refund".into());
    rows.into_iter()
        .map(|v| {
            let req = |i: usize| v[i].clone().ok_or_else(corrupt);
            let currency: Currency = req(3)?.parse().map_err(|_| corrupt())?;
            Ok(DayRefund {
                refund: Refund {
                    id: req(0)?,
                    payment_id: req(1)?,
                    amount: Amount::from_stored(&req(2)?, currency).map_err(|_| corrupt())?,
                    state: RefundState::parse(&req(4)?).ok_or_else(corrupt)?,
                    reason: v[5].clone(),
                    requested_by: req(6)?,
                    provider_refund_id: v[7].clone(),
                    failure_reason: v[8].clone(),
                    sent_at: v[9].as_deref().map(parse_ts).transpose()?,
                    created_at: parse_ts(&req(10)?)?,
                    updated_at: parse_ts(&req(11)?)?,
                },
                booked_day: v[12].as_deref().map(parse_day).transpose()?,
                payment_day: parse_day(&req(13)?)?,
                provider: req(14)?.parse().map_err(|_| corrupt())?,
                invoice: req(15)?,
            })
        })
        .collect()
}

fn day_outbox(conn: &Connection, day: NaiveDate) -> Result<DayOutbox, JournalError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT o.event_type, o.payment_id, o.refund_id, o.state FROM outbox o
             LEFT JOIN payments p ON o.event_type = 'payment.settled' AND p.id = o.payment_id
             LEFT JOIN refunds r ON o.event_type = 'payment.refunded' AND r.id = o.refund_id
             WHERE COALESCE(r.booked_day, p.booked_day) = ?1
             ORDER BY o.sequence",
        )
        .ctx("preparing the day's outbox")?;
    let records = stmt
        .query_map([day.to_string()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, String>(3)?))
        })
        .ctx("reading the day's outbox")?
        .collect::<Result<Vec<(String, String, Option<String>, String)>, _>>()
        .ctx("reading the day's outbox")?;
    let count = |s: &str| records.iter().filter(|r| r.3 == s).count() as u64;
    Ok(DayOutbox {
        pending: count("pending"),
        dead: count("dead"),
        delivered: count("delivered"),
        records,
    })
}

fn day_data(conn: &Connection, day: NaiveDate) -> Result<DayData, JournalError> {
    Ok(DayData {
        day,
        payments: day_payments(conn, day)?,
        refunds: day_refunds(conn, day)?,
        outbox: day_outbox(conn, day)?,
        closed: closed_day(conn, day)?,
    })
}

/// What [`Journal::close_day`] stores: the report text and the `day` object
/// of the `day.closed` event.
pub struct ClosingReport {
    pub report: String,
    pub report_sha256: String,
    pub event_day: serde_json::Value,
}

impl Journal {
    /// Everything about one business day, read in one snapshot.
    pub fn day_data(&self, day: NaiveDate) -> Result<DayData, JournalError> {
        let tx = self
            .conn
            .unchecked_transaction()
            .ctx("starting a read transaction")?;
        let out = day_data(&tx, day)?;
        tx.finish().ctx("ending a read transaction")?;
        Ok(out)
    }

    /// The day a settlement of a payment from `natural` would be booked into now.
    pub fn booking_day(&self, natural: NaiveDate) -> Result<NaiveDate, JournalError> {
        booking_day(&self.conn, natural)
    }

    pub fn closed_day(&self, day: NaiveDate) -> Result<Option<ClosedDay>, JournalError> {
        closed_day(&self.conn, day)
    }

    /// Every closed day, oldest first.
    pub fn closed_days(&self) -> Result<Vec<ClosedDay>, JournalError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT day, closed_at, closed_by, report, report_sha256, outbox_sequence FROM day_closes ORDER BY day",
            )
            .ctx("preparing closed days")?;
        let rows = stmt
            .query_map([], closed_row)
            .ctx("reading closed days")?
            .collect::<Result<Vec<_>, _>>()
            .ctx("reading closed days")?;
        rows.into_iter().map(finish_closed).collect()
    }

    /// Closes `day`: in one (immediate) transaction, reads the day, lets
    /// `make` build the report from what it read, stores it in `day_closes`
    /// and enqueues the `day.closed` outbox record. Refuses a day already closed.
    pub fn close_day<E: From<JournalError>>(
        &mut self,
        day: NaiveDate,
        closed_by: &str,
        at: DateTime<Utc>,
        make: impl FnOnce(&DayData) -> Result<ClosingReport, E>,
    ) -> Result<ClosedDay, E> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx("starting a transaction")?;
        let data = day_data(&tx, day)?;
        if let Some(c) = data.closed {
            return Err(JournalError::Refused(format!(
                "{day} was already closed by {} at {}",
                c.closed_by,
                c.closed_at.to_rfc3339()
            ))
            .into());
        }
        let report = make(&data)?;
        let seq = outbox::enqueue_day_closed(&tx, &self.ctx, day, report.event_day, at)?;
        // The Z-report is a link of the audit chain (journal/chain.rs).
        let (index, prev) = super::chain::next(&tx)?;
        let closed_at = ts(at);
        let hash = super::chain::link(
            &prev,
            &super::chain::z_canonical(
                index,
                &day.to_string(),
                &closed_at,
                closed_by,
                &report.report_sha256,
                seq,
            ),
        );
        tx.execute(
            "INSERT INTO day_closes(day, closed_at, closed_by, report, report_sha256, outbox_sequence, chain_index, chain_hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                day.to_string(),
                closed_at,
                closed_by,
                report.report,
                report.report_sha256,
                seq,
                index as i64,
                hash
            ],
        )
        .ctx("storing the closed day")?;
        super::log::append_audit(
            &tx,
            at,
            closed_by,
            "day.close",
            Some(&day.to_string()),
            Some(&format!("Z-report sha256 {}", report.report_sha256)),
        )?;
        let closed = closed_day(&tx, day)?
            .ok_or_else(|| JournalError::Corrupt("closed day vanished".into()))?;
        tx.commit().ctx("committing the day close")?;
        Ok(closed)
    }

    /// Records how a disagreement was dealt with (append-only).
    #[allow(clippy::too_many_arguments)]
    pub fn add_resolution(
        &mut self,
        day: NaiveDate,
        disagreement_id: &str,
        action: &str,
        note: Option<&str>,
        outcome: Option<&str>,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<ResolutionRecord, JournalError> {
        let tx = self.conn.transaction().ctx("starting a transaction")?;
        tx.execute(
            "INSERT INTO resolutions(day, disagreement_id, action, note, outcome, actor, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                day.to_string(),
                disagreement_id,
                action,
                note,
                outcome,
                actor,
                ts(at)
            ],
        )
        .ctx("recording a resolution")?;
        let id = tx.last_insert_rowid();
        super::log::append_audit(
            &tx,
            at,
            actor,
            &format!("day.resolve.{action}"),
            Some(disagreement_id),
            note.or(outcome),
        )?;
        tx.commit().ctx("committing a resolution")?;
        Ok(ResolutionRecord {
            id,
            day,
            disagreement_id: disagreement_id.to_owned(),
            action: action.to_owned(),
            note: note.map(str::to_owned),
            outcome: outcome.map(str::to_owned),
            actor: actor.to_owned(),
            at,
        })
    }

    /// The resolutions recorded for a day, oldest first.
    pub fn resolutions(&self, day: NaiveDate) -> Result<Vec<ResolutionRecord>, JournalError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, disagreement_id, action, note, outcome, actor, at FROM resolutions
                 WHERE day = ?1 ORDER BY id",
            )
            .ctx("preparing resolutions")?;
        let rows = stmt
            .query_map([day.to_string()], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                ))
            })
            .ctx("reading resolutions")?
            .collect::<Result<Vec<_>, _>>()
            .ctx("reading resolutions")?;
        rows.into_iter()
            .map(|(id, did, action, note, outcome, actor, at)| {
                Ok(ResolutionRecord {
                    id,
                    day,
                    disagreement_id: did,
                    action,
                    note,
                    outcome,
                    actor,
                    at: parse_ts(&at)?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::payments::{Change, NewPayment};
    use crate::journal::test_context;
    use crate::state::PaymentState;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn close(j: &mut Journal, day: &str) -> Result<ClosedDay, JournalError> {
        j.close_day(d(day), "mgr", Utc::now(), |_| {
            Ok::<_, JournalError>(ClosingReport {
                report: "{}".into(),
                report_sha256: "x".into(),
                event_day: serde_json::json!({"x": 1}),
            })
        })
    }

    #[test]
    fn booking_skips_closed_days() {
        let mut j = Journal::open_in_memory(test_context()).unwrap();
        assert_eq!(j.booking_day(d("2026-03-01")).unwrap(), d("2026-03-01"));
        close(&mut j, "2026-03-01").unwrap();
        close(&mut j, "2026-03-02").unwrap();
        close(&mut j, "2026-03-04").unwrap();
        assert_eq!(j.booking_day(d("2026-03-01")).unwrap(), d("2026-03-03"));
        assert_eq!(j.booking_day(d("2026-03-04")).unwrap(), d("2026-03-05"));
        assert_eq!(j.booking_day(d("2026-02-28")).unwrap(), d("2026-02-28"));
        // A day closes once, and a closed day cannot be edited or removed.
        assert!(close(&mut j, "2026-03-01")
            .unwrap_err()
            .to_string()
            .contains("already closed"));
        assert!(j
            .conn
            .execute("UPDATE day_closes SET report = 'x'", [])
            .is_err());
        assert!(j.conn.execute("DELETE FROM day_closes", []).is_err());
        let n: i64 = j
            .conn
            .query_row(
                "SELECT COUNT(*) FROM outbox WHERE event_type = 'day.closed'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 3);
    }

    #[test]
    fn settlement_of_a_closed_day_is_booked_into_the_next_open_one() {
        let mut j = Journal::open_in_memory(test_context()).unwrap();
        let at = Utc::now();
        let p = j
            .create_payment::<std::convert::Infallible>(
                NewPayment {
                    id: "p1".into(),
                    provider: ProviderKind::Demo,
                    amount: Amount::parse("10", Currency::Bdt).unwrap(),
                    operator: "c".into(),
                    at,
                    origin: None,
                },
                |_, _| Ok(Change::default()),
            )
            .unwrap()
            .unwrap();
        let day = p.business_day;
        j.transition(
            "p1",
            PaymentState::AwaitingCustomer,
            &Change::default(),
            None,
            at,
        )
        .unwrap();
        close(&mut j, &day.to_string()).unwrap();
        j.transition("p1", PaymentState::Settled, &Change::default(), None, at)
            .unwrap();
        let next = day.succ_opt().unwrap();
        let data = j.day_data(next).unwrap();
        assert_eq!(data.payments.len(), 1);
        assert_eq!(data.payments[0].booked_day, Some(next));
        let payload: String = j
            .conn
            .query_row(
                "SELECT payload FROM outbox WHERE event_type = 'payment.settled'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&payload).unwrap();
        assert_eq!(v["business_day"], next.to_string());
        assert_eq!(data.outbox.pending, 1);
        // Resolutions are append-only.
        j.add_resolution(day, "x:1", "acknowledge", Some("ok"), None, "mgr", at)
            .unwrap();
        assert_eq!(j.resolutions(day).unwrap().len(), 1);
        assert!(j.conn.execute("DELETE FROM resolutions", []).is_err());
    }
}
