//! The audit log (who did what, when) and the provider-call log, with its
//! retention ([`Journal::prune_calls`]).

use super::{parse_ts, ts, Ctx, Journal, JournalError};
use crate::state::PaymentState;
use chrono::{DateTime, Utc};
use rusqlite::params;
use serde::Serialize;
use till_provider_http::CallRecord;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub detail: Option<String>,
}

/// Appends one audit row on `conn` (a transaction's, when the row belongs
/// to a larger change), as the next link of the audit chain
/// ([`super::chain`]). Every audit row is written here.
pub(crate) fn append_audit(
    conn: &rusqlite::Connection,
    at: DateTime<Utc>,
    actor: &str,
    action: &str,
    target: Option<&str>,
    detail: Option<&str>,
) -> Result<(), JournalError> {
    // The head is read and the row written under the write lock, so two
    // processes on one journal cannot take the same position.
    let own = conn.is_autocommit();
    let tx = if own {
        Some(
            rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)
                .ctx("starting a transaction")?,
        )
    } else {
        None
    };
    let (index, prev) = super::chain::next(conn)?;
    let at = ts(at);
    let hash = super::chain::link(
        &prev,
        &super::chain::audit_canonical(index, &at, actor, action, target, detail),
    );
    conn.prepare_cached(
        "INSERT INTO audit_log(at, actor, action, target, detail, chain_index, chain_hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .and_then(|mut s| {
        s.execute(params![
            at,
            actor,
            action,
            target,
            detail,
            index as i64,
            hash
        ])
    })
    .ctx("writing the audit log")?;
    if let Some(tx) = tx {
        tx.commit().ctx("committing the audit log")?;
    }
    Ok(())
}

impl Journal {
    pub fn audit(
        &self,
        actor: &str,
        action: &str,
        target: Option<&str>,
        detail: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), JournalError> {
        append_audit(&self.conn, at, actor, action, target, detail)
    }

    /// Newest first.
    pub fn audit_log(&self, limit: u32) -> Result<Vec<AuditEntry>, JournalError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, at, actor, action, target, detail FROM audit_log ORDER BY id DESC LIMIT ?1",
            )
            .ctx("preparing the audit log")?;
        let rows = stmt
            .query_map([limit], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                ))
            })
            .ctx("reading the audit log")?
            .collect::<Result<Vec<_>, _>>()
            .ctx("reading the audit log")?;
        rows.into_iter()
            .map(|(id, at, actor, action, target, detail)| {
                Ok(AuditEntry {
                    id,
                    at: parse_ts(&at)?,
                    actor,
                    action,
                    target,
                    detail,
                })
            })
            .collect()
    }

    /// Stores one provider call (bodies arrive redacted from the adapter).
    pub fn record_call(&self, call: &CallRecord, at: DateTime<Utc>) -> Result<(), JournalError> {
        self.conn
            .prepare_cached(
                "INSERT INTO provider_calls(at, provider, endpoint, payment_ref, status, duration_ms, attempt, request_body, response_body, error)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    ts(at),
                    call.provider,
                    call.endpoint,
                    call.payment_ref,
                    call.status,
                    call.duration_ms as i64,
                    call.attempt,
                    call.request_body.as_ref().map(|v| v.to_string()),
                    call.response_body.as_ref().map(|v| v.to_string()),
                    call.error,
                ])
            })
            .ctx("writing the provider-call log")?;
        Ok(())
    }

    /// Deletes at most `limit` provider-call records made before `before`, except
    /// those a payment may still need (see [`crate::config::StorageSection`]).
    /// Returns how many went.
    ///
    /// Kept however old: the records naming (by id, invoice, paymentID, trxID or MD5)
    /// a payment that is open, flagged for a manager, has a refund under way, or — with
    /// `require_synced` (a hub is configured) — has an outbox record the hub has not
    /// acknowledged (pending or dead); and records naming no payment (Bakong's bulk
    /// checks) whose bodies carry such a payment's MD5. Those are the evidence should
    /// the provider, the hub or a manager ask about it.
    pub fn prune_calls(
        &mut self,
        before: DateTime<Utc>,
        require_synced: bool,
        limit: u32,
    ) -> Result<usize, JournalError> {
        // From the state machine, so a new unfinished state is kept without a change here.
        let kept_states = PaymentState::ALL
            .iter()
            .filter(|s| s.is_open() || **s == PaymentState::Flagged)
            .map(|s| format!("'{}'", s.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "WITH kept AS (
                 SELECT id, invoice, provider_ref, transaction_ref, external_ref FROM payments
                 WHERE state IN ({kept_states})
                    OR id IN (SELECT payment_id FROM refunds WHERE state IN ('requested', 'sent'))
                    OR (?2 AND id IN (SELECT payment_id FROM outbox WHERE state <> 'delivered'))
             ),
             refs(r) AS (
                 SELECT id FROM kept UNION SELECT invoice FROM kept
                 UNION SELECT provider_ref FROM kept WHERE provider_ref IS NOT NULL
                 UNION SELECT transaction_ref FROM kept WHERE transaction_ref IS NOT NULL
                 UNION SELECT external_ref FROM kept WHERE external_ref IS NOT NULL
             )
             DELETE FROM provider_calls WHERE id IN (
                 SELECT c.id FROM provider_calls c
                 WHERE c.at < ?1
                   AND (c.payment_ref IS NULL OR c.payment_ref NOT IN (SELECT r FROM refs))
                   -- A call about many payments at once (Bakong's bulk check
                   -- by MD5) names no one payment: kept while its body names
                   -- the lookup reference of a payment kept.
                   AND NOT (c.payment_ref IS NULL AND EXISTS (
                       SELECT 1 FROM kept k WHERE k.provider_ref IS NOT NULL
                         AND (instr(COALESCE(c.request_body, ''), k.provider_ref) > 0
                              OR instr(COALESCE(c.response_body, ''), k.provider_ref) > 0)))
                 ORDER BY c.id LIMIT ?3
             )"
        );
        self.conn
            .prepare_cached(&sql)
            .and_then(|mut s| s.execute(params![ts(before), require_synced, limit]))
            .ctx("pruning the provider-call log")
    }

    /// How many calls were logged for an endpoint (tests, diagnostics).
    pub fn call_count(&self, endpoint: &str) -> Result<i64, JournalError> {
        self.conn
            .query_row(
                "SELECT COUNT(*) FROM provider_calls WHERE endpoint = ?1",
                [endpoint],
                |r| r.get(0),
            )
            .ctx("counting provider calls")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::payments::{Change, NewPayment};
    use crate::journal::test_context;
    use crate::money::{Amount, Currency};
    use crate::payment::{Payment, ProviderKind};
    use crate::state::PaymentState;
    use chrono::Duration;

    fn call(payment_ref: Option<&str>, request: Option<serde_json::Value>) -> CallRecord {
        CallRecord {
            provider: "bakong".into(),
            endpoint: "test.call".into(),
            payment_ref: payment_ref.map(str::to_owned),
            status: Some(200),
            duration_ms: 5,
            attempt: 1,
            request_body: request,
            response_body: None,
            error: None,
        }
    }

    /// A payment created at `at` and taken along `path`; `md5` for a KHQR.
    fn payment(
        j: &mut Journal,
        at: DateTime<Utc>,
        md5: Option<&str>,
        path: &[PaymentState],
    ) -> Payment {
        let id = ulid::Ulid::new().to_string();
        let mut p = j
            .create_payment::<std::convert::Infallible>(
                NewPayment {
                    id: id.clone(),
                    provider: ProviderKind::Bakong,
                    amount: Amount::parse("100", Currency::Khr).unwrap(),
                    operator: "cashier".into(),
                    at,
                    origin: None,
                },
                |_, _| {
                    Ok(Change {
                        refs: crate::payment::ProviderRefs {
                            lookup: md5.map(str::to_owned),
                            ..Default::default()
                        },
                        ..Change::default()
                    })
                },
            )
            .unwrap()
            .unwrap();
        for to in path {
            p = j
                .transition(&id, *to, &Change::default(), None, at)
                .unwrap();
        }
        p
    }

    fn refs(j: &Journal) -> Vec<String> {
        let mut stmt = j
            .conn
            .prepare(
                "SELECT COALESCE(payment_ref, request_body, '-') FROM provider_calls ORDER BY id",
            )
            .unwrap();
        let rows = stmt.query_map([], |r| r.get(0)).unwrap();
        rows.collect::<Result<_, _>>().unwrap()
    }

    fn prune_all(j: &mut Journal, before: DateTime<Utc>, require_synced: bool) -> usize {
        let mut all = 0;
        loop {
            let n = j.prune_calls(before, require_synced, 2).unwrap();
            assert!(n <= 2, "more than the limit in one go: {n}");
            all += n;
            if n < 2 {
                return all;
            }
        }
    }

    /// L2: old call records go, in batches of at most the limit, except those of a
    /// payment that is open, flagged, refunding, or whose settlement the hub has not
    /// acknowledged; records tied to no payment go by age unless they name the KHQR
    /// (MD5) of such a payment. Young records stay whatever their payment.
    #[test]
    fn pruning_keeps_what_unfinished_or_unsynced_payments_need() {
        use PaymentState::*;
        let mut j = Journal::open_in_memory(test_context()).unwrap();
        let now = Utc::now();
        let old = now - Duration::days(40);
        let cutoff = now - Duration::days(30);
        let open = payment(&mut j, old, Some("md5open"), &[AwaitingCustomer]);
        let flagged = payment(&mut j, old, None, &[AwaitingCustomer, Flagged]);
        let failed = payment(&mut j, old, Some("md5failed"), &[Failed]);
        let synced = payment(&mut j, old, None, &[AwaitingCustomer, Settled]);
        let unsynced = payment(
            &mut j,
            old,
            Some("md5unsynced"),
            &[AwaitingCustomer, Settled],
        );
        let refunding = payment(&mut j, old, None, &[AwaitingCustomer, Settled]);
        j.conn
            .execute(
                "UPDATE outbox SET state = 'delivered' WHERE payment_id IN (?1, ?2)",
                [&synced.id, &refunding.id],
            )
            .unwrap();
        j.begin_refund(
            &refunding.id,
            &ulid::Ulid::new().to_string(),
            refunding.amount,
            None,
            "manager",
            now,
        )
        .unwrap();
        let young = payment(&mut j, now, None, &[Failed]);
        for p in [&open, &flagged, &failed, &synced, &unsynced, &refunding] {
            j.record_call(&call(Some(&p.invoice), None), old).unwrap();
            j.record_call(&call(Some(&p.id), None), old).unwrap();
        }
        j.record_call(&call(Some(&young.invoice), None), now)
            .unwrap();
        // Bulk checks name no one payment: their bodies name the codes.
        let bulk = |md5s: &[&str]| call(None, Some(serde_json::json!(md5s)));
        j.record_call(&bulk(&["md5failed"]), old).unwrap();
        j.record_call(&bulk(&["md5failed", "md5open"]), old)
            .unwrap();
        j.record_call(&bulk(&["md5unsynced"]), old).unwrap();
        j.record_call(&call(None, None), old).unwrap(); // a token call
        j.record_call(&call(None, None), now).unwrap();

        let gone = prune_all(&mut j, cutoff, true);
        let left = refs(&j);
        let keeps = |p: &Payment| left.contains(&p.invoice) && left.contains(&p.id);
        let lost = |p: &Payment| !left.contains(&p.invoice) && !left.contains(&p.id);
        assert!(keeps(&open), "an open payment's records: {left:?}");
        assert!(keeps(&flagged), "a flagged payment's records: {left:?}");
        assert!(
            keeps(&unsynced),
            "an unsynced settlement's records: {left:?}"
        );
        assert!(keeps(&refunding), "a refunding payment's records: {left:?}");
        assert!(lost(&failed) && lost(&synced), "{left:?}");
        assert!(left.contains(&young.invoice), "a young record: {left:?}");
        assert!(
            left.contains(&r#"["md5failed","md5open"]"#.to_string()),
            "{left:?}"
        );
        assert!(left.contains(&r#"["md5unsynced"]"#.to_string()), "{left:?}");
        assert!(!left.contains(&r#"["md5failed"]"#.to_string()), "{left:?}");
        assert_eq!(left.iter().filter(|r| *r == "-").count(), 1, "{left:?}");
        assert_eq!(gone, 2 * 2 + 1 + 1, "{left:?}");

        // Without a hub to sync to, a settlement is final once settled.
        prune_all(&mut j, cutoff, false);
        let left = refs(&j);
        assert!(!left.contains(&unsynced.invoice), "{left:?}");
        assert!(
            !left.contains(&r#"["md5unsynced"]"#.to_string()),
            "{left:?}"
        );
        assert!(left.contains(&open.invoice), "{left:?}");
    }
}
