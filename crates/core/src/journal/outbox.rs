//! The outbox: one record per settlement and per finished refund, written in
//! the same transaction as the state change, numbered by a per-terminal
//! contiguous sequence. The sync delivers them to the hub in sequence order.
//! The payload is `till.event/2` (docs/webhooks.md).

use super::{parse_ts, ts, Ctx, Journal, JournalContext, JournalError};
use crate::payment::{Payment, Refund};
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Transaction};
use serde::Serialize;
use serde_json::Value;

/// What an outbox record is: the event's `type`, stored in
/// `outbox.event_type` as its wire name ([`EventType::as_str`]:
/// `payment.settled`, `payment.refunded`, `day.closed`; for `day.closed`,
/// `outbox.payment_id` holds the day, YYYY-MM-DD).
pub use till_sync_proto::EventType;

/// One outbox row.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OutboxRecord {
    pub sequence: i64,
    pub webhook_id: String,
    pub event_type: String,
    pub payment_id: String,
    pub refund_id: Option<String>,
    pub payload: Value,
    pub created_at: DateTime<Utc>,
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
}

pub(crate) fn enqueue(
    tx: &Transaction<'_>,
    ctx: &JournalContext,
    kind: EventType,
    payment: &Payment,
    refund: Option<&Refund>,
    at: DateTime<Utc>,
) -> Result<i64, JournalError> {
    let sequence: i64 = tx
        .query_row(
            "SELECT COALESCE(MAX(sequence), 0) + 1 FROM outbox",
            [],
            |r| r.get(0),
        )
        .ctx("numbering an outbox record")?;
    let webhook_id = format!("evt_{}", ulid::Ulid::new());
    let settled_at: Option<String> = tx
        .query_row(
            "SELECT at FROM payment_events WHERE payment_id = ?1 AND to_state = 'settled' ORDER BY seq LIMIT 1",
            [&payment.id],
            |r| r.get(0),
        )
        .optional()
        .ctx("reading the settlement time")?;
    let settled_at = settled_at
        .as_deref()
        .map(parse_ts)
        .transpose()?
        .unwrap_or(at);
    // The day the money is booked into: the payment's own day unless it was
    // closed before this settlement or refund (then the next open day).
    let booked: Option<String> = match refund {
        Some(r) => tx
            .query_row(
                "SELECT booked_day FROM refunds WHERE id = ?1",
                [&r.id],
                |r| r.get(0),
            )
            .optional()
            .ctx("reading the refund's booking day")?
            .flatten(),
        None => tx
            .query_row(
                "SELECT booked_day FROM payments WHERE id = ?1",
                [&payment.id],
                |r| r.get(0),
            )
            .optional()
            .ctx("reading the payment's booking day")?
            .flatten(),
    };
    let day = match booked {
        Some(d) => d
            .parse()
            .map_err(|_| JournalError::Corrupt(format!("booked day {d:?}")))?,
        None => payment.business_day,
    };
    let payload = serde_json::to_value(wire_event(
        ctx, kind, sequence, payment, refund, settled_at, day, at,
    ))
    .map_err(|e| JournalError::Corrupt(format!("outbox payload: {e}")))?;
    tx.execute(
        "INSERT INTO outbox(sequence, webhook_id, event_type, payment_id, refund_id, payload, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            sequence,
            webhook_id,
            kind.as_str(),
            payment.id,
            refund.map(|r| r.id.as_str()),
            payload.to_string(),
            ts(at)
        ],
    )
    .ctx("writing an outbox record")?;
    Ok(sequence)
}

/// The `till.event/2` payload, built from `till-sync-proto`'s types (the
/// shape `schema/event-v1.json` describes).
#[allow(clippy::too_many_arguments)]
fn wire_event(
    ctx: &JournalContext,
    kind: EventType,
    sequence: i64,
    payment: &Payment,
    refund: Option<&Refund>,
    settled_at: DateTime<Utc>,
    day: chrono::NaiveDate,
    at: DateTime<Utc>,
) -> till_sync_proto::Event {
    let local = |t: DateTime<Utc>| t.with_timezone(&ctx.timezone).fixed_offset();
    let wire_payment = till_sync_proto::Payment {
        id: payment.id.clone(),
        provider: payment.provider.as_str().to_owned(),
        amount: payment.amount.value(),
        currency: payment.amount.currency().code().to_owned(),
        references: till_sync_proto::References {
            lookup: payment.refs.lookup.clone(),
            transaction: payment.refs.transaction.clone(),
            external: payment.refs.external.clone(),
        },
        created_at: local(payment.created_at),
        settled_at: local(settled_at),
        payee: payment.payee.clone(),
        invoice: Some(payment.invoice.clone()),
    };
    let sequence = sequence as u64;
    match (kind, refund) {
        (EventType::PaymentRefunded, Some(r)) => till_sync_proto::Event::payment_refunded(
            &ctx.terminal_id,
            sequence,
            local(at),
            day,
            wire_payment,
            till_sync_proto::Refund {
                id: r.id.clone(),
                amount: r.amount.value(),
                currency: r.amount.currency().code().to_owned(),
                provider_refund_id: r.provider_refund_id.clone(),
                refunded_at: local(r.updated_at),
                total_refunded: payment.refunded.value(),
            },
        ),
        _ => till_sync_proto::Event::payment_settled(
            &ctx.terminal_id,
            sequence,
            local(at),
            day,
            wire_payment,
        ),
    }
}

/// Enqueues the `day.closed` record of `day` (its `day` object is `body`);
/// `outbox.payment_id` holds the day, so a day is closed at most once.
pub(crate) fn enqueue_day_closed(
    tx: &Transaction<'_>,
    ctx: &JournalContext,
    day: chrono::NaiveDate,
    body: Value,
    at: DateTime<Utc>,
) -> Result<i64, JournalError> {
    let sequence: i64 = tx
        .query_row(
            "SELECT COALESCE(MAX(sequence), 0) + 1 FROM outbox",
            [],
            |r| r.get(0),
        )
        .ctx("numbering an outbox record")?;
    let webhook_id = format!("evt_{}", ulid::Ulid::new());
    let event = till_sync_proto::Event::day_closed(
        &ctx.terminal_id,
        sequence as u64,
        at.with_timezone(&ctx.timezone).fixed_offset(),
        day,
        body,
    );
    let payload = serde_json::to_string(&event)
        .map_err(|e| JournalError::Corrupt(format!("outbox payload: {e}")))?;
    tx.execute(
        "INSERT INTO outbox(sequence, webhook_id, event_type, payment_id, refund_id, payload, created_at)
         VALUES (?1, ?2, ?3, ?4, NULL, ?5, ?6)",
        params![
            sequence,
            webhook_id,
            EventType::DayClosed.as_str(),
            day.to_string(),
            payload,
            ts(at)
        ],
    )
    .ctx("writing the day.closed outbox record")?;
    Ok(sequence)
}

impl Journal {
    /// Outbox records in sequence order, from `after` (exclusive).
    pub fn outbox_after(&self, after: i64, limit: u32) -> Result<Vec<OutboxRecord>, JournalError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT sequence, webhook_id, event_type, payment_id, refund_id, payload, created_at, state, attempts, last_error
                 FROM outbox WHERE sequence > ?1 ORDER BY sequence LIMIT ?2",
            )
            .ctx("preparing the outbox")?;
        let rows = stmt
            .query_map(params![after, limit], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, String>(7)?,
                    r.get::<_, i64>(8)?,
                    r.get::<_, Option<String>>(9)?,
                ))
            })
            .ctx("reading the outbox")?
            .collect::<Result<Vec<_>, _>>()
            .ctx("reading the outbox")?;
        rows.into_iter()
            .map(
                |(
                    sequence,
                    webhook_id,
                    event_type,
                    payment_id,
                    refund_id,
                    payload,
                    created,
                    state,
                    attempts,
                    last_error,
                )| {
                    Ok(OutboxRecord {
                        sequence,
                        webhook_id,
                        event_type,
                        payment_id,
                        refund_id,
                        payload: serde_json::from_str(&payload)
                            .map_err(|_| JournalError::Corrupt("outbox payload".into()))?,
                        created_at: parse_ts(&created)?,
                        state,
                        attempts,
                        last_error,
                    })
                },
            )
            .collect()
    }

    /// How many outbox records a payment has, by type (the crash test's check).
    pub fn outbox_count_for(&self, payment_id: &str, kind: EventType) -> Result<i64, JournalError> {
        self.conn
            .query_row(
                "SELECT COUNT(*) FROM outbox WHERE payment_id = ?1 AND event_type = ?2",
                params![payment_id, kind.as_str()],
                |r| r.get(0),
            )
            .ctx("counting outbox records")
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_context;
    use super::*;

    /// Outbox rows an older Till wrote (with its own copy of the event type,
    /// the same wire names) read back unchanged after the upgrade, and a
    /// record written now carries the same text.
    #[test]
    fn rows_written_with_the_old_text_read_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.db");
        Journal::create_at_version(&path, 1).unwrap();
        let old = [
            (1, "payment.settled", "p1", None),
            (2, "payment.refunded", "p1", Some("r1")),
            (3, "day.closed", "2026-11-22", None),
        ];
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            for (seq, kind, payment, refund) in old {
                conn.execute(
                    "INSERT INTO outbox(sequence, webhook_id, event_type, payment_id, refund_id, payload, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, '2026-11-22T04:15:00.000Z')",
                    params![
                        seq,
                        format!("evt_{seq}"),
                        kind,
                        payment,
                        refund,
                        format!(r#"{{"type":"{kind}"}}"#)
                    ],
                )
                .unwrap();
            }
        }
        let mut j = Journal::open(&path, test_context()).unwrap();
        let rows = j.outbox_after(0, 10).unwrap();
        let kinds: Vec<Option<EventType>> = rows
            .iter()
            .map(|r| EventType::parse(&r.event_type))
            .collect();
        assert_eq!(
            kinds,
            [
                Some(EventType::PaymentSettled),
                Some(EventType::PaymentRefunded),
                Some(EventType::DayClosed)
            ]
        );
        for (r, (seq, kind, payment, refund)) in rows.iter().zip(old) {
            assert_eq!(
                (r.sequence, r.event_type.as_str(), r.payment_id.as_str()),
                (seq, kind, payment)
            );
            assert_eq!(r.refund_id.as_deref(), refund);
            assert_eq!(r.payload["type"], kind);
        }
        assert_eq!(
            j.outbox_count_for("p1", EventType::PaymentSettled).unwrap(),
            1
        );
        assert_eq!(
            j.outbox_count_for("p1", EventType::PaymentRefunded)
                .unwrap(),
            1
        );
        assert_eq!(
            j.outbox_count_for("2026-11-22", EventType::DayClosed)
                .unwrap(),
            1
        );
        // The sender reads them as pending, payloads verbatim.
        let pending = j.sync_pending(0, 10).unwrap();
        assert_eq!(pending.len(), 3);
        assert_eq!(pending[1].payload, r#"{"type":"payment.refunded"}"#);

        // A record written now: the same text in `event_type` and `type`.
        j.bench_enqueue_settled(1, Utc::now()).unwrap();
        let new = j.outbox_after(3, 10).unwrap();
        assert_eq!(new[0].event_type, "payment.settled");
        assert_eq!(new[0].payload["type"], "payment.settled");
    }
}
