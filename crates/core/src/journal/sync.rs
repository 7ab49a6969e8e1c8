//! What the settlement sync ([`crate::sync`]) reads and writes: the pending
//! part of the `outbox` in sequence order, delivery marks, retry bookkeeping,
//! dead letters and their replay, and one `sync_endpoint` row per hub URL
//! (schema 3). Every function that changes more than one row is one
//! transaction.

use super::{parse_ts, ts, Ctx, Journal, JournalError};
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

/// A pending outbox record as the sender needs it: the payload is the exact
/// JSON text stored when the record was enqueued.
#[derive(Clone, Debug, PartialEq)]
pub struct PendingRecord {
    pub sequence: i64,
    pub webhook_id: String,
    pub payload: String,
    pub attempts: i64,
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// Counts over the outbox.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct QueueStats {
    /// Records not yet acknowledged by the hub (state `pending`).
    pub queue_length: u64,
    /// When the oldest pending record was written.
    pub oldest_unsynced_at: Option<DateTime<Utc>>,
    /// Records given up on (state `dead`), kept for replay.
    pub dead_letters: u64,
}

/// What the terminal knows about one hub URL.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct EndpointRecord {
    pub url: String,
    /// Set when the hub answered 410 Gone; delivery to it is stopped.
    pub gone_at: Option<DateTime<Utc>>,
    pub gone_reason: Option<String>,
    pub last_ack_sequence: Option<i64>,
    pub last_ack_at: Option<DateTime<Utc>>,
    pub hub_highest_contiguous: Option<i64>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
}

fn opt_ts(s: Option<String>) -> Result<Option<DateTime<Utc>>, JournalError> {
    s.as_deref().map(parse_ts).transpose()
}

fn ensure_endpoint(tx: &rusqlite::Transaction<'_>, url: &str) -> Result<(), JournalError> {
    tx.execute(
        "INSERT INTO sync_endpoint(url) VALUES (?1) ON CONFLICT(url) DO NOTHING",
        [url],
    )
    .ctx("recording the hub endpoint")?;
    Ok(())
}

impl Journal {
    /// Pending records with a sequence above `after`, in sequence order.
    pub fn sync_pending(&self, after: i64, limit: u32) -> Result<Vec<PendingRecord>, JournalError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT sequence, webhook_id, payload, attempts, next_attempt_at FROM outbox
                 WHERE state = 'pending' AND sequence > ?1 ORDER BY sequence LIMIT ?2",
            )
            .ctx("preparing the sync queue")?;
        let rows = stmt
            .query_map(params![after, limit], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, Option<String>>(4)?,
                ))
            })
            .ctx("reading the sync queue")?
            .collect::<Result<Vec<_>, _>>()
            .ctx("reading the sync queue")?;
        rows.into_iter()
            .map(|(sequence, webhook_id, payload, attempts, next)| {
                Ok(PendingRecord {
                    sequence,
                    webhook_id,
                    payload,
                    attempts,
                    next_attempt_at: opt_ts(next)?,
                })
            })
            .collect()
    }

    /// Queue length, oldest pending record, dead letters.
    pub fn sync_queue_stats(&self) -> Result<QueueStats, JournalError> {
        let (pending, oldest): (i64, Option<String>) = self
            .conn
            .query_row(
                "SELECT COUNT(*), MIN(created_at) FROM outbox WHERE state = 'pending'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .ctx("counting the sync queue")?;
        let dead: i64 = self
            .conn
            .query_row(
                "SELECT COUNT(*) FROM outbox WHERE state = 'dead'",
                [],
                |r| r.get(0),
            )
            .ctx("counting dead letters")?;
        Ok(QueueStats {
            queue_length: pending as u64,
            oldest_unsynced_at: opt_ts(oldest)?,
            dead_letters: dead as u64,
        })
    }

    /// The dead letters, oldest first (for the manager's screen).
    pub fn sync_dead_letters(
        &self,
        limit: u32,
    ) -> Result<Vec<super::outbox::OutboxRecord>, JournalError> {
        let seqs: Vec<i64> = {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT sequence FROM outbox WHERE state = 'dead' ORDER BY sequence LIMIT ?1",
                )
                .ctx("reading dead letters")?;
            let rows = stmt
                .query_map([limit], |r| r.get(0))
                .ctx("reading dead letters")?;
            rows.collect::<Result<_, _>>().ctx("reading dead letters")?
        };
        let mut out = Vec::with_capacity(seqs.len());
        for s in seqs {
            out.extend(self.outbox_after(s - 1, 1)?);
        }
        Ok(out)
    }

    /// Marks acknowledged records delivered, in one transaction. `acked` are
    /// `(sequence, webhook id)` pairs from the hub's per-event results; a pair
    /// that does not match a pending record is ignored. Returns how many rows
    /// changed.
    pub fn sync_mark_delivered(
        &mut self,
        url: &str,
        acked: &[(i64, String)],
        hub_highest_contiguous: Option<u64>,
        at: DateTime<Utc>,
    ) -> Result<usize, JournalError> {
        let tx = self.conn.transaction().ctx("starting a transaction")?;
        ensure_endpoint(&tx, url)?;
        let now = ts(at);
        let mut changed = 0;
        let mut highest = None;
        {
            let mut stmt = tx
                .prepare_cached(
                    "UPDATE outbox SET state = 'delivered', delivered_at = ?3, last_error = NULL,
                            next_attempt_at = NULL
                     WHERE sequence = ?1 AND webhook_id = ?2 AND state = 'pending'",
                )
                .ctx("preparing delivery marks")?;
            for (seq, id) in acked {
                changed += stmt
                    .execute(params![seq, id, now])
                    .ctx("marking a record delivered")?;
                highest = highest.max(Some(*seq));
            }
        }
        tx.execute(
            "UPDATE sync_endpoint SET
                last_ack_sequence = MAX(COALESCE(last_ack_sequence, 0), COALESCE(?2, 0)),
                last_ack_at = CASE WHEN ?2 IS NULL THEN last_ack_at ELSE ?3 END,
                hub_highest_contiguous = COALESCE(?4, hub_highest_contiguous),
                last_error = NULL, last_error_at = NULL
             WHERE url = ?1",
            params![url, highest, now, hub_highest_contiguous.map(|h| h as i64)],
        )
        .ctx("recording the hub's acknowledgement")?;
        tx.commit().ctx("committing delivery marks")?;
        Ok(changed)
    }

    /// A failed attempt for `sequences`: with `counted`, adds one to their
    /// attempts and dead-letters those that reach `max_attempts`; the others
    /// wait until `next_attempt_at`. One transaction. Returns the sequences
    /// dead-lettered now.
    #[allow(clippy::too_many_arguments)]
    pub fn sync_note_failure(
        &mut self,
        url: &str,
        sequences: &[i64],
        counted: bool,
        max_attempts: u32,
        error: &str,
        next_attempt_at: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<Vec<i64>, JournalError> {
        let tx = self.conn.transaction().ctx("starting a transaction")?;
        ensure_endpoint(&tx, url)?;
        let mut dead = Vec::new();
        {
            let mut bump = tx
                .prepare_cached(
                    "UPDATE outbox SET attempts = attempts + ?2, last_error = ?3, next_attempt_at = ?4
                     WHERE sequence = ?1 AND state = 'pending' RETURNING attempts",
                )
                .ctx("preparing retry marks")?;
            let mut kill = tx
                .prepare_cached(
                    "UPDATE outbox SET state = 'dead', next_attempt_at = NULL WHERE sequence = ?1",
                )
                .ctx("preparing dead letters")?;
            for &seq in sequences {
                let attempts: Option<i64> = bump
                    .query_row(
                        params![seq, counted as i64, error, ts(next_attempt_at)],
                        |r| r.get(0),
                    )
                    .optional()
                    .ctx("counting an attempt")?;
                if let Some(a) = attempts {
                    if counted && a >= max_attempts as i64 {
                        kill.execute([seq]).ctx("dead-lettering a record")?;
                        dead.push(seq);
                    }
                }
            }
        }
        tx.execute(
            "UPDATE sync_endpoint SET last_error = ?2, last_error_at = ?3 WHERE url = ?1",
            params![url, error, ts(at)],
        )
        .ctx("recording a sync error")?;
        tx.commit().ctx("committing retry marks")?;
        Ok(dead)
    }

    /// Dead-letters records the hub refused for good (one transaction).
    pub fn sync_dead_letter(
        &mut self,
        url: &str,
        sequences: &[i64],
        error: &str,
        at: DateTime<Utc>,
    ) -> Result<usize, JournalError> {
        let tx = self.conn.transaction().ctx("starting a transaction")?;
        ensure_endpoint(&tx, url)?;
        let mut n = 0;
        {
            let mut stmt = tx
                .prepare_cached(
                    "UPDATE outbox SET state = 'dead', attempts = attempts + 1, last_error = ?2,
                            next_attempt_at = NULL
                     WHERE sequence = ?1 AND state = 'pending'",
                )
                .ctx("preparing dead letters")?;
            for &seq in sequences {
                n += stmt
                    .execute(params![seq, error])
                    .ctx("dead-lettering a record")?;
            }
        }
        tx.execute(
            "UPDATE sync_endpoint SET last_error = ?2, last_error_at = ?3 WHERE url = ?1",
            params![url, error, ts(at)],
        )
        .ctx("recording a sync error")?;
        tx.commit().ctx("committing dead letters")?;
        Ok(n)
    }

    /// Moves every dead letter back to the queue (attempts reset). Returns how many.
    pub fn sync_replay_dead(&mut self) -> Result<usize, JournalError> {
        self.conn
            .execute(
                "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = NULL
                 WHERE state = 'dead'",
                [],
            )
            .ctx("replaying dead letters")
    }

    /// Lets every pending record go now (forgets their retry times).
    pub fn sync_clear_backoff(&mut self) -> Result<usize, JournalError> {
        self.conn
            .execute(
                "UPDATE outbox SET next_attempt_at = NULL
                 WHERE state = 'pending' AND next_attempt_at IS NOT NULL",
                [],
            )
            .ctx("clearing retry times")
    }

    /// What is known about a hub URL.
    pub fn sync_endpoint(&self, url: &str) -> Result<Option<EndpointRecord>, JournalError> {
        let row = self
            .conn
            .query_row(
                "SELECT url, gone_at, gone_reason, last_ack_sequence, last_ack_at,
                        hub_highest_contiguous, last_error, last_error_at
                 FROM sync_endpoint WHERE url = ?1",
                [url],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, Option<i64>>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, Option<i64>>(5)?,
                        r.get::<_, Option<String>>(6)?,
                        r.get::<_, Option<String>>(7)?,
                    ))
                },
            )
            .optional()
            .ctx("reading the hub endpoint")?;
        row.map(|(url, gone, reason, ack, ack_at, hc, err, err_at)| {
            Ok(EndpointRecord {
                url,
                gone_at: opt_ts(gone)?,
                gone_reason: reason,
                last_ack_sequence: ack,
                last_ack_at: opt_ts(ack_at)?,
                hub_highest_contiguous: hc,
                last_error: err,
                last_error_at: opt_ts(err_at)?,
            })
        })
        .transpose()
    }

    /// The hub answered 410: stop delivering to it.
    pub fn sync_set_gone(
        &mut self,
        url: &str,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<(), JournalError> {
        let tx = self.conn.transaction().ctx("starting a transaction")?;
        ensure_endpoint(&tx, url)?;
        tx.execute(
            "UPDATE sync_endpoint SET gone_at = ?2, gone_reason = ?3, last_error = ?3, last_error_at = ?2
             WHERE url = ?1",
            params![url, ts(at), reason],
        )
        .ctx("stopping delivery to a hub")?;
        tx.commit().ctx("committing")
    }

    /// Delivery to `url` may start again (`till sync`, a new configuration).
    pub fn sync_clear_gone(&mut self, url: &str) -> Result<(), JournalError> {
        self.conn
            .execute(
                "UPDATE sync_endpoint SET gone_at = NULL, gone_reason = NULL WHERE url = ?1",
                [url],
            )
            .ctx("resuming delivery to a hub")?;
        Ok(())
    }

    /// Records an endpoint-level problem that touched no record (no key configured...).
    pub fn sync_note_error(
        &mut self,
        url: &str,
        error: &str,
        at: DateTime<Utc>,
    ) -> Result<(), JournalError> {
        let tx = self.conn.transaction().ctx("starting a transaction")?;
        ensure_endpoint(&tx, url)?;
        tx.execute(
            "UPDATE sync_endpoint SET last_error = ?2, last_error_at = ?3 WHERE url = ?1",
            params![url, error, ts(at)],
        )
        .ctx("recording a sync error")?;
        tx.commit().ctx("committing")
    }

    /// Tests: puts delivered records back in the queue, as if their
    /// acknowledgements had been lost, so the hub receives them again.
    #[doc(hidden)]
    pub fn sync_forget_deliveries(&mut self) -> Result<usize, JournalError> {
        self.conn
            .execute(
                "UPDATE outbox SET state = 'pending', delivered_at = NULL WHERE state = 'delivered'",
                [],
            )
            .ctx("forgetting deliveries")
    }

    /// Benchmarks: `n` settled demo payments' outbox records written in
    /// transactions of 10,000 (the payments themselves are not written; the
    /// records carry the same `payment.settled` payload a real settlement has).
    #[doc(hidden)]
    pub fn bench_enqueue_settled(&mut self, n: u64, at: DateTime<Utc>) -> Result<(), JournalError> {
        use crate::money::{Amount, Currency};
        use crate::payment::{Payment, ProviderKind};
        use crate::state::PaymentState;
        let day = crate::business_day::business_day(at, self.ctx.timezone, self.ctx.cutoff);
        let mut left = n;
        while left > 0 {
            let chunk = left.min(10_000);
            let tx = self.conn.transaction().ctx("starting a transaction")?;
            for _ in 0..chunk {
                let id = ulid::Ulid::new().to_string();
                let p = Payment {
                    id: id.clone(),
                    provider: ProviderKind::Demo,
                    amount: Amount::parse("12.50", Currency::Bdt).expect("an amount"),
                    state: PaymentState::Settled,
                    invoice: format!("B{id}"),
                    refs: crate::payment::ProviderRefs {
                        transaction: Some(format!("DEMO{id}")),
                        ..Default::default()
                    },
                    customer_code: None,
                    customer_page: None,
                    callback_url: None,
                    expires_at: None,
                    completion_sent_at: None,
                    offline: false,
                    refunded: Amount::zero(Currency::Bdt),
                    flag: None,
                    failure_code: None,
                    failure_reason: None,
                    failure: None,
                    operator: "bench".into(),
                    business_day: day,
                    created_at: at,
                    updated_at: at,
                    payee: Some("demo".into()),
                    origin: None,
                };
                super::outbox::enqueue(
                    &tx,
                    &self.ctx,
                    super::outbox::EventType::PaymentSettled,
                    &p,
                    None,
                    at,
                )?;
            }
            tx.commit().ctx("committing benchmark records")?;
            left -= chunk;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_context;
    use super::*;

    #[test]
    fn retries_dead_letters_and_replay() {
        let mut j = Journal::open_in_memory(test_context()).unwrap();
        let now = Utc::now();
        j.bench_enqueue_settled(3, now).unwrap();
        let q = j.sync_pending(0, 10).unwrap();
        assert_eq!(
            q.iter().map(|r| r.sequence).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        let url = "http://hub";
        // Two counted failures with max 2: both records in the request die.
        assert!(j
            .sync_note_failure(url, &[1, 2], true, 2, "401", now, now)
            .unwrap()
            .is_empty());
        assert_eq!(
            j.sync_note_failure(url, &[1, 2], true, 2, "401", now, now)
                .unwrap(),
            vec![1, 2]
        );
        // An uncounted failure (hub unreachable) never kills.
        for _ in 0..5 {
            assert!(j
                .sync_note_failure(url, &[3], false, 2, "down", now, now)
                .unwrap()
                .is_empty());
        }
        let s = j.sync_queue_stats().unwrap();
        assert_eq!((s.queue_length, s.dead_letters), (1, 2));
        let head = j.sync_pending(0, 10).unwrap();
        assert_eq!(head.len(), 1);
        assert_eq!(head[0].attempts, 0);
        // Delivery marks only match the right id.
        let id3 = head[0].webhook_id.clone();
        assert_eq!(
            j.sync_mark_delivered(url, &[(3, "evt_wrong".into())], Some(0), now)
                .unwrap(),
            0
        );
        assert_eq!(
            j.sync_mark_delivered(url, &[(3, id3)], Some(0), now)
                .unwrap(),
            1
        );
        let e = j.sync_endpoint(url).unwrap().unwrap();
        assert_eq!(e.last_ack_sequence, Some(3));
        assert_eq!(e.last_error, None);
        assert_eq!(j.sync_replay_dead().unwrap(), 2);
        let s = j.sync_queue_stats().unwrap();
        assert_eq!((s.queue_length, s.dead_letters), (2, 0));
        j.sync_set_gone(url, "410", now).unwrap();
        assert!(j.sync_endpoint(url).unwrap().unwrap().gone_at.is_some());
        j.sync_clear_gone(url).unwrap();
        assert!(j.sync_endpoint(url).unwrap().unwrap().gone_at.is_none());
    }
}
