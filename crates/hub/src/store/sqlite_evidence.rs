//! The evidence side of the SQLite store (`crate::evidence`): IPN messages,
//! subscriptions, the settlement reference index, Bakong's answers. A child
//! of `sqlite.rs`, whose `Store` methods call these.

use super::*;
use crate::evidence::records::{
    BakongCheck, CheckedOutcome, IpnMessage, SettlementRef, SubscriptionRecord,
};
use rusqlite::params_from_iter;

/// Items per `IN (…)` list.
const CHUNK: usize = 500;

use crate::evidence::records::columns::{
    CHECKS as CHECK_COLUMNS, IPN as IPN_COLUMNS, LOW_WATER, REFS as REF_COLUMNS,
};

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

fn ipn_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<[Option<String>; 14]> {
    let mut out: [Option<String>; 14] = Default::default();
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = r.get(i)?;
    }
    Ok(out)
}

fn ipn_finish(c: [Option<String>; 14]) -> Result<IpnMessage> {
    let [message_id, topic_arn, trx_id, transaction_status, amount, sale_amount, currency, invoice, paid_at, paid_on, sns_timestamp, problem, received_at, envelope] =
        c;
    let need = |v: Option<String>, what: &str| {
        v.ok_or_else(|| StoreError::Corrupt(format!("ipn_messages.{what} is NULL")))
    };
    Ok(IpnMessage {
        message_id: need(message_id, "message_id")?,
        topic_arn: need(topic_arn, "topic_arn")?,
        trx_id,
        transaction_status,
        amount: parse_dec(amount)?,
        sale_amount: parse_dec(sale_amount)?,
        currency,
        invoice,
        paid_at: paid_at.as_deref().map(parse_ts).transpose()?,
        paid_on: parse_day(&need(paid_on, "paid_on")?)?,
        sns_timestamp: need(sns_timestamp, "sns_timestamp")?,
        problem,
        received_at: parse_ts(&need(received_at, "received_at")?)?,
        envelope: need(envelope, "envelope")?,
    })
}

fn ref_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, [Option<String>; 12])> {
    let cursor: i64 = r.get(1)?;
    let mut out: [Option<String>; 12] = Default::default();
    for (slot, i) in out
        .iter_mut()
        .zip([0usize, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
    {
        *slot = r.get(i)?;
    }
    Ok((cursor, out))
}

fn ref_finish((cursor, c): (i64, [Option<String>; 12])) -> Result<SettlementRef> {
    let [event_id, terminal_id, payment_id, provider, business_day, amount, currency, lookup_ref, transaction_ref, payee, settled_at, received_at] =
        c;
    let need = |v: Option<String>, what: &str| {
        v.ok_or_else(|| StoreError::Corrupt(format!("evidence_refs.{what} is NULL")))
    };
    Ok(SettlementRef {
        event_id: need(event_id, "event_id")?,
        cursor,
        terminal_id: need(terminal_id, "terminal_id")?,
        payment_id,
        provider: need(provider, "provider")?,
        business_day: parse_day(&need(business_day, "business_day")?)?,
        amount: parse_dec(amount)?,
        currency,
        lookup_ref,
        transaction_ref,
        payee,
        settled_at: parse_ts(&need(settled_at, "settled_at")?)?,
        received_at: parse_ts(&need(received_at, "received_at")?)?,
    })
}

fn check_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<[Option<String>; 9]> {
    let mut out: [Option<String>; 9] = Default::default();
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = r.get(i)?;
    }
    Ok(out)
}

fn check_finish(c: [Option<String>; 9]) -> Result<BakongCheck> {
    let [event_id, md5, outcome, hash, amount, currency, to_account, detail, checked_at] = c;
    let need = |v: Option<String>, what: &str| {
        v.ok_or_else(|| StoreError::Corrupt(format!("bakong_checks.{what} is NULL")))
    };
    let outcome = need(outcome, "outcome")?;
    Ok(BakongCheck {
        event_id: need(event_id, "event_id")?,
        md5: need(md5, "md5")?,
        outcome: CheckedOutcome::parse(&outcome)
            .ok_or_else(|| StoreError::Corrupt(format!("bakong check outcome {outcome:?}")))?,
        hash,
        amount: parse_dec(amount)?,
        currency,
        to_account,
        detail,
        checked_at: parse_ts(&need(checked_at, "checked_at")?)?,
    })
}

pub(super) async fn put_ipn(s: &SqliteStore, m: &IpnMessage) -> Result<bool> {
    let m = m.clone();
    s.with(move |conn| {
        let n = conn.execute(
            &format!(
                "INSERT INTO ipn_messages ({IPN_COLUMNS}) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) \
                 ON CONFLICT (message_id) DO NOTHING"
            ),
            params![
                m.message_id,
                m.topic_arn,
                m.trx_id,
                m.transaction_status,
                m.amount.map(|d| d.to_string()),
                m.sale_amount.map(|d| d.to_string()),
                m.currency,
                m.invoice,
                m.paid_at.as_ref().map(ts),
                m.paid_on.to_string(),
                m.sns_timestamp,
                m.problem,
                ts(&m.received_at),
                m.envelope,
            ],
        )?;
        Ok(n == 1)
    })
    .await
}

pub(super) async fn ipns_by_trx(s: &SqliteStore, trx_ids: &[String]) -> Result<Vec<IpnMessage>> {
    let ids = trx_ids.to_vec();
    s.with(move |conn| {
        let mut out = Vec::new();
        for chunk in ids.chunks(CHUNK) {
            let mut stmt = conn.prepare(&format!(
                "SELECT {IPN_COLUMNS} FROM ipn_messages WHERE trx_id IN ({}) ORDER BY received_at",
                placeholders(chunk.len())
            ))?;
            for r in stmt.query_map(params_from_iter(chunk), ipn_row)? {
                out.push(ipn_finish(r?)?);
            }
        }
        Ok(out)
    })
    .await
}

pub(super) async fn ipns_of_day(s: &SqliteStore, day: NaiveDate) -> Result<Vec<IpnMessage>> {
    s.with(move |conn| {
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {IPN_COLUMNS} FROM ipn_messages WHERE paid_on = ?1 ORDER BY received_at"
        ))?;
        let mut out = Vec::new();
        for r in stmt.query_map([day.to_string()], ipn_row)? {
            out.push(ipn_finish(r?)?);
        }
        Ok(out)
    })
    .await
}

pub(super) async fn count_ipns(s: &SqliteStore) -> Result<u64> {
    s.with(|conn| {
        let n: i64 = conn.query_row("SELECT COUNT(*) FROM ipn_messages", [], |r| r.get(0))?;
        Ok(n as u64)
    })
    .await
}

pub(super) async fn put_ipn_subscription(s: &SqliteStore, r: &SubscriptionRecord) -> Result<()> {
    let r = r.clone();
    s.with(move |conn| {
        conn.execute(
            "INSERT INTO ipn_subscriptions (message_id, kind, topic_arn, url, status, detail, \
             received_at, envelope) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
             ON CONFLICT (message_id) DO UPDATE SET status = excluded.status, \
             detail = excluded.detail, received_at = excluded.received_at",
            params![
                r.message_id,
                r.kind,
                r.topic_arn,
                r.url,
                r.status,
                r.detail,
                ts(&r.received_at),
                r.envelope
            ],
        )?;
        Ok(())
    })
    .await
}

pub(super) async fn ipn_subscriptions(s: &SqliteStore) -> Result<Vec<SubscriptionRecord>> {
    s.with(|conn| {
        let mut stmt = conn.prepare_cached(
            "SELECT message_id, kind, topic_arn, url, status, detail, received_at, envelope \
             FROM ipn_subscriptions ORDER BY rowid",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, String>(7)?,
            ))
        })?;
        let mut out = Vec::new();
        for r in rows {
            let (message_id, kind, topic_arn, url, status, detail, received_at, envelope) = r?;
            out.push(SubscriptionRecord {
                message_id,
                kind,
                topic_arn,
                url,
                status,
                detail,
                received_at: parse_ts(&received_at)?,
                envelope,
            });
        }
        Ok(out)
    })
    .await
}

pub(super) async fn unindexed_settlements(
    s: &SqliteStore,
    after: i64,
    received_before: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<StoredEvent>> {
    s.with(move |conn| {
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE rowid > ?1 AND type = 'payment.settled' \
             AND received_at < ?2 \
             AND NOT EXISTS (SELECT 1 FROM evidence_refs r WHERE r.event_id = events.id) \
             ORDER BY rowid LIMIT ?3"
        ))?;
        let mut out = Vec::new();
        for r in stmt.query_map(params![after, ts(&received_before), limit], event_row)? {
            out.push(r?.finish()?);
        }
        Ok(out)
    })
    .await
}

pub(super) async fn index_refs(s: &SqliteStore, refs: &[SettlementRef]) -> Result<()> {
    let refs = refs.to_vec();
    s.with(move |conn| {
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO evidence_refs (event_id, event_cursor, terminal_id, payment_id, provider, \
                 business_day, amount, currency, lookup_ref, transaction_ref, payee, settled_at, \
                 received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) \
                 ON CONFLICT (event_id) DO NOTHING",
            )?;
            for r in &refs {
                insert.execute(params![
                    r.event_id,
                    r.cursor,
                    r.terminal_id,
                    r.payment_id,
                    r.provider,
                    r.business_day.to_string(),
                    r.amount.map(|d| d.to_string()),
                    r.currency,
                    r.lookup_ref,
                    r.transaction_ref,
                    r.payee,
                    ts(&r.settled_at),
                    ts(&r.received_at),
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    })
    .await
}

pub(super) async fn refs_low_water(s: &SqliteStore) -> Result<i64> {
    s.with(|conn| {
        Ok(conn
            .query_row(
                "SELECT value FROM evidence_state WHERE key = ?1",
                [LOW_WATER],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .unwrap_or(0))
    })
    .await
}

pub(super) async fn raise_refs_low_water(s: &SqliteStore, cutoff: DateTime<Utc>) -> Result<i64> {
    s.with(move |conn| {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let held: i64 = tx
            .query_row(
                "SELECT value FROM evidence_state WHERE key = ?1",
                [LOW_WATER],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(0);
        let top: Option<i64> = tx.query_row(
            "SELECT MAX(event_cursor) FROM evidence_refs WHERE event_cursor > ?1 AND received_at < ?2",
            params![held, ts(&cutoff)],
            |r| r.get(0),
        )?;
        let mark = top.map_or(held, |t| t.max(held));
        tx.execute(
            "INSERT INTO evidence_state (key, value) VALUES (?1, ?2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![LOW_WATER, mark],
        )?;
        tx.commit()?;
        Ok(mark)
    })
    .await
}

pub(super) async fn refs_by_transaction(
    s: &SqliteStore,
    provider: &str,
    refs: &[String],
) -> Result<Vec<SettlementRef>> {
    let (provider, refs) = (provider.to_string(), refs.to_vec());
    s.with(move |conn| {
        let mut out = Vec::new();
        for chunk in refs.chunks(CHUNK) {
            let mut stmt = conn.prepare(&format!(
                "SELECT {REF_COLUMNS} FROM evidence_refs r WHERE r.provider = ? \
                 AND r.transaction_ref IN ({}) ORDER BY r.event_cursor",
                placeholders(chunk.len())
            ))?;
            let args = std::iter::once(&provider).chain(chunk.iter());
            for r in stmt.query_map(params_from_iter(args), ref_row)? {
                out.push(ref_finish(r?)?);
            }
        }
        Ok(out)
    })
    .await
}

pub(super) async fn refs_of_day(
    s: &SqliteStore,
    provider: &str,
    day: NaiveDate,
) -> Result<Vec<SettlementRef>> {
    let provider = provider.to_string();
    s.with(move |conn| {
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {REF_COLUMNS} FROM evidence_refs r WHERE r.provider = ?1 \
             AND r.business_day = ?2 ORDER BY r.event_cursor"
        ))?;
        let mut out = Vec::new();
        for r in stmt.query_map(params![provider, day.to_string()], ref_row)? {
            out.push(ref_finish(r?)?);
        }
        Ok(out)
    })
    .await
}

pub(super) async fn refs_to_check(
    s: &SqliteStore,
    provider: &str,
    since: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<SettlementRef>> {
    let provider = provider.to_string();
    s.with(move |conn| {
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {REF_COLUMNS} FROM evidence_refs r \
             LEFT JOIN bakong_checks c ON c.event_id = r.event_id \
             WHERE r.provider = ?1 AND r.received_at >= ?2 \
             AND (c.event_id IS NULL OR c.outcome = 'not_found') \
             ORDER BY r.event_cursor LIMIT ?3"
        ))?;
        let mut out = Vec::new();
        for r in stmt.query_map(params![provider, ts(&since), limit], ref_row)? {
            out.push(ref_finish(r?)?);
        }
        Ok(out)
    })
    .await
}

pub(super) async fn put_bakong_checks(s: &SqliteStore, checks: &[BakongCheck]) -> Result<()> {
    let checks = checks.to_vec();
    s.with(move |conn| {
        let tx = conn.transaction()?;
        {
            let mut upsert = tx.prepare_cached(&format!(
                "INSERT INTO bakong_checks ({CHECK_COLUMNS}) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
                 ON CONFLICT (event_id) DO UPDATE SET md5 = excluded.md5, \
                 outcome = excluded.outcome, hash = excluded.hash, amount = excluded.amount, \
                 currency = excluded.currency, to_account = excluded.to_account, \
                 detail = excluded.detail, checked_at = excluded.checked_at"
            ))?;
            for c in &checks {
                upsert.execute(params![
                    c.event_id,
                    c.md5,
                    c.outcome.as_str(),
                    c.hash,
                    c.amount.map(|d| d.to_string()),
                    c.currency,
                    c.to_account,
                    c.detail,
                    ts(&c.checked_at),
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    })
    .await
}

pub(super) async fn bakong_checks(
    s: &SqliteStore,
    event_ids: &[String],
) -> Result<Vec<BakongCheck>> {
    let ids = event_ids.to_vec();
    s.with(move |conn| {
        let mut out = Vec::new();
        for chunk in ids.chunks(CHUNK) {
            let mut stmt = conn.prepare(&format!(
                "SELECT {CHECK_COLUMNS} FROM bakong_checks WHERE event_id IN ({})",
                placeholders(chunk.len())
            ))?;
            for r in stmt.query_map(params_from_iter(chunk), check_row)? {
                out.push(check_finish(r?)?);
            }
        }
        Ok(out)
    })
    .await
}
