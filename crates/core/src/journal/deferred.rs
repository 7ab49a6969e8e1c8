//! Calls deferred while a provider could not be reached: status checks,
//! execute resolutions and refunds a manager asked for. Only calls that are
//! safe to make later live here. The engine retries them when the provider
//! answers again.

use super::{parse_ts, ts, Ctx, Journal, JournalError};
use chrono::{DateTime, Utc};
use rusqlite::params;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeferredKind {
    /// Ask the provider how a payment ended.
    StatusCheck,
    /// bKash execute was sent and its answer lost: find out by payment status.
    ExecuteResolution,
    /// A refund to send, or whose outcome to find out.
    Refund,
}

impl DeferredKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DeferredKind::StatusCheck => "status_check",
            DeferredKind::ExecuteResolution => "execute_resolution",
            DeferredKind::Refund => "refund",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        [
            DeferredKind::StatusCheck,
            DeferredKind::ExecuteResolution,
            DeferredKind::Refund,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DeferredCall {
    pub id: i64,
    pub kind: DeferredKind,
    pub payment_id: String,
    pub refund_id: Option<String>,
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
}

impl Journal {
    /// Queues a call (once per kind and payment/refund; a second ask keeps the first).
    pub fn defer(
        &self,
        kind: DeferredKind,
        payment_id: &str,
        refund_id: Option<&str>,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<(), JournalError> {
        self.conn
            .execute(
                "INSERT INTO deferred(kind, payment_id, refund_id, created_at, next_attempt_at, last_error)
                 VALUES (?1, ?2, ?3, ?4, ?4, ?5)
                 ON CONFLICT DO UPDATE SET last_error = excluded.last_error",
                params![kind.as_str(), payment_id, refund_id, ts(at), reason],
            )
            .ctx("queueing a deferred call")?;
        Ok(())
    }

    /// Everything queued, soonest first.
    pub fn deferred(&self) -> Result<Vec<DeferredCall>, JournalError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, kind, payment_id, refund_id, attempts, next_attempt_at, last_error FROM deferred ORDER BY next_attempt_at, id",
            )
            .ctx("preparing deferred calls")?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, Option<String>>(6)?,
                ))
            })
            .ctx("reading deferred calls")?
            .collect::<Result<Vec<_>, _>>()
            .ctx("reading deferred calls")?;
        rows.into_iter()
            .map(
                |(id, kind, payment_id, refund_id, attempts, next, last_error)| {
                    Ok(DeferredCall {
                        id,
                        kind: DeferredKind::parse(&kind).ok_or_else(|| {
                            JournalError::Corrupt(format!("deferred kind {kind}"))
                        })?,
                        payment_id,
                        refund_id,
                        attempts,
                        next_attempt_at: parse_ts(&next)?,
                        last_error,
                    })
                },
            )
            .collect()
    }

    pub fn complete_deferred(&self, id: i64) -> Result<(), JournalError> {
        self.conn
            .execute("DELETE FROM deferred WHERE id = ?1", [id])
            .ctx("completing a deferred call")?;
        Ok(())
    }

    pub fn reschedule_deferred(
        &self,
        id: i64,
        next: DateTime<Utc>,
        error: &str,
    ) -> Result<(), JournalError> {
        self.conn
            .execute(
                "UPDATE deferred SET attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3 WHERE id = ?1",
                params![id, ts(next), error],
            )
            .ctx("rescheduling a deferred call")?;
        Ok(())
    }
}
