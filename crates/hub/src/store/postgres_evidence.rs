//! The evidence side of the PostgreSQL store (`crate::evidence`): IPN
//! messages, subscriptions, the settlement reference index, Bakong's
//! answers. A child of `postgres.rs`, whose `Store` methods call these.

use super::*;
use crate::evidence::records::{
    BakongCheck, CheckedOutcome, IpnMessage, SettlementRef, SubscriptionRecord,
};

use crate::evidence::records::columns::{
    CHECKS as CHECK_COLUMNS, IPN as IPN_COLUMNS, LOW_WATER, REFS as REF_COLUMNS,
};

fn ipn_from_row(r: &tokio_postgres::Row) -> Result<IpnMessage> {
    Ok(IpnMessage {
        message_id: r.try_get(0)?,
        topic_arn: r.try_get(1)?,
        trx_id: r.try_get(2)?,
        transaction_status: r.try_get(3)?,
        amount: r.try_get(4)?,
        sale_amount: r.try_get(5)?,
        currency: r.try_get(6)?,
        invoice: r.try_get(7)?,
        paid_at: r.try_get(8)?,
        paid_on: r.try_get(9)?,
        sns_timestamp: r.try_get(10)?,
        problem: r.try_get(11)?,
        received_at: r.try_get(12)?,
        envelope: r.try_get(13)?,
    })
}

fn ref_from_row(r: &tokio_postgres::Row) -> Result<SettlementRef> {
    Ok(SettlementRef {
        event_id: r.try_get(0)?,
        cursor: r.try_get(1)?,
        terminal_id: r.try_get(2)?,
        payment_id: r.try_get(3)?,
        provider: r.try_get(4)?,
        business_day: r.try_get(5)?,
        amount: r.try_get(6)?,
        currency: r.try_get(7)?,
        lookup_ref: r.try_get(8)?,
        transaction_ref: r.try_get(9)?,
        payee: r.try_get(10)?,
        settled_at: r.try_get(11)?,
        received_at: r.try_get(12)?,
    })
}

fn check_from_row(r: &tokio_postgres::Row) -> Result<BakongCheck> {
    let outcome: String = r.try_get(2)?;
    Ok(BakongCheck {
        event_id: r.try_get(0)?,
        md5: r.try_get(1)?,
        outcome: CheckedOutcome::parse(&outcome)
            .ok_or_else(|| StoreError::Corrupt(format!("bakong check outcome {outcome:?}")))?,
        hash: r.try_get(3)?,
        amount: r.try_get(4)?,
        currency: r.try_get(5)?,
        to_account: r.try_get(6)?,
        detail: r.try_get(7)?,
        checked_at: r.try_get(8)?,
    })
}

pub(super) async fn put_ipn(s: &PgStore, m: &IpnMessage) -> Result<bool> {
    let client = s.client().await?;
    let n = client
        .execute(
            &format!(
                "INSERT INTO ipn_messages ({IPN_COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
                 ON CONFLICT (message_id) DO NOTHING"
            ),
            &[
                &m.message_id,
                &m.topic_arn,
                &m.trx_id,
                &m.transaction_status,
                &m.amount,
                &m.sale_amount,
                &m.currency,
                &m.invoice,
                &m.paid_at,
                &m.paid_on,
                &m.sns_timestamp,
                &m.problem,
                &m.received_at,
                &m.envelope,
            ],
        )
        .await?;
    Ok(n == 1)
}

pub(super) async fn ipns_by_trx(s: &PgStore, trx_ids: &[String]) -> Result<Vec<IpnMessage>> {
    let client = s.client().await?;
    let ids = trx_ids.to_vec();
    client
        .query(
            &format!(
                "SELECT {IPN_COLUMNS} FROM ipn_messages WHERE trx_id = ANY($1) ORDER BY received_at"
            ),
            &[&ids],
        )
        .await?
        .iter()
        .map(ipn_from_row)
        .collect()
}

pub(super) async fn ipns_of_day(s: &PgStore, day: NaiveDate) -> Result<Vec<IpnMessage>> {
    let client = s.client().await?;
    client
        .query(
            &format!(
                "SELECT {IPN_COLUMNS} FROM ipn_messages WHERE paid_on = $1 ORDER BY received_at"
            ),
            &[&day],
        )
        .await?
        .iter()
        .map(ipn_from_row)
        .collect()
}

pub(super) async fn count_ipns(s: &PgStore) -> Result<u64> {
    let client = s.client().await?;
    let n: i64 = client
        .query_one("SELECT COUNT(*) FROM ipn_messages", &[])
        .await?
        .try_get(0)?;
    Ok(n as u64)
}

pub(super) async fn put_ipn_subscription(s: &PgStore, r: &SubscriptionRecord) -> Result<()> {
    let client = s.client().await?;
    client
        .execute(
            "INSERT INTO ipn_subscriptions (message_id, kind, topic_arn, url, status, detail, \
             received_at, envelope) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (message_id) DO UPDATE SET status = excluded.status, \
             detail = excluded.detail, received_at = excluded.received_at",
            &[
                &r.message_id,
                &r.kind,
                &r.topic_arn,
                &r.url,
                &r.status,
                &r.detail,
                &r.received_at,
                &r.envelope,
            ],
        )
        .await?;
    Ok(())
}

pub(super) async fn ipn_subscriptions(s: &PgStore) -> Result<Vec<SubscriptionRecord>> {
    let client = s.client().await?;
    let rows = client
        .query(
            "SELECT message_id, kind, topic_arn, url, status, detail, received_at, envelope \
             FROM ipn_subscriptions ORDER BY received_at, message_id",
            &[],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(SubscriptionRecord {
                message_id: r.try_get(0)?,
                kind: r.try_get(1)?,
                topic_arn: r.try_get(2)?,
                url: r.try_get(3)?,
                status: r.try_get(4)?,
                detail: r.try_get(5)?,
                received_at: r.try_get(6)?,
                envelope: r.try_get(7)?,
            })
        })
        .collect()
}

pub(super) async fn unindexed_settlements(
    s: &PgStore,
    after: i64,
    received_before: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<StoredEvent>> {
    let client = s.client().await?;
    client
        .query(
            &format!(
                "SELECT {EVENT_COLUMNS} FROM events e WHERE e.row_no > $1 \
                 AND e.type = 'payment.settled' AND e.received_at < $2 \
                 AND NOT EXISTS (SELECT 1 FROM evidence_refs r WHERE r.event_id = e.id) \
                 ORDER BY e.row_no LIMIT $3"
            ),
            &[&after, &received_before, &i64::from(limit)],
        )
        .await?
        .iter()
        .map(event_from_row)
        .collect()
}

pub(super) async fn index_refs(s: &PgStore, refs: &[SettlementRef]) -> Result<()> {
    // One statement per call (arrays unnested), not one round trip per row:
    // a catch-up of 55 000 settlements took 20 s row by row.
    let client = s.client().await?;
    let col = |f: fn(&SettlementRef) -> Option<String>| refs.iter().map(f).collect::<Vec<_>>();
    let event_ids: Vec<String> = refs.iter().map(|r| r.event_id.clone()).collect();
    let cursors: Vec<i64> = refs.iter().map(|r| r.cursor).collect();
    let terminals: Vec<String> = refs.iter().map(|r| r.terminal_id.clone()).collect();
    let payment_ids = col(|r| r.payment_id.clone());
    let providers: Vec<String> = refs.iter().map(|r| r.provider.clone()).collect();
    let days: Vec<NaiveDate> = refs.iter().map(|r| r.business_day).collect();
    let amounts: Vec<Option<Decimal>> = refs.iter().map(|r| r.amount).collect();
    let currencies = col(|r| r.currency.clone());
    let lookups = col(|r| r.lookup_ref.clone());
    let transactions = col(|r| r.transaction_ref.clone());
    let payees = col(|r| r.payee.clone());
    let settled: Vec<DateTime<Utc>> = refs.iter().map(|r| r.settled_at).collect();
    let received: Vec<DateTime<Utc>> = refs.iter().map(|r| r.received_at).collect();
    client
        .execute(
            "INSERT INTO evidence_refs (event_id, event_cursor, terminal_id, payment_id, provider, \
             business_day, amount, currency, lookup_ref, transaction_ref, payee, settled_at, \
             received_at) \
             SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], \
             $6::date[], $7::numeric[], $8::text[], $9::text[], $10::text[], $11::text[], \
             $12::timestamptz[], $13::timestamptz[]) \
             ON CONFLICT (event_id) DO NOTHING",
            &[
                &event_ids,
                &cursors,
                &terminals,
                &payment_ids,
                &providers,
                &days,
                &amounts,
                &currencies,
                &lookups,
                &transactions,
                &payees,
                &settled,
                &received,
            ],
        )
        .await?;
    Ok(())
}

pub(super) async fn refs_low_water(s: &PgStore) -> Result<i64> {
    let client = s.client().await?;
    Ok(client
        .query_opt(
            "SELECT value FROM evidence_state WHERE key = $1",
            &[&LOW_WATER],
        )
        .await?
        .map(|r| r.try_get::<_, i64>(0))
        .transpose()?
        .unwrap_or(0))
}

pub(super) async fn raise_refs_low_water(s: &PgStore, cutoff: DateTime<Utc>) -> Result<i64> {
    let client = s.client().await?;
    // One statement: the mark only ever rises.
    let row = client
        .query_one(
            "WITH held AS (SELECT COALESCE((SELECT value FROM evidence_state WHERE key = $1), 0) AS v), \
             top AS (SELECT COALESCE(MAX(r.event_cursor), 0) AS t FROM evidence_refs r, held \
                     WHERE r.event_cursor > held.v AND r.received_at < $2) \
             INSERT INTO evidence_state (key, value) SELECT $1, GREATEST(held.v, top.t) FROM held, top \
             ON CONFLICT (key) DO UPDATE SET value = GREATEST(evidence_state.value, excluded.value) \
             RETURNING value",
            &[&LOW_WATER, &cutoff],
        )
        .await?;
    Ok(row.try_get(0)?)
}

pub(super) async fn refs_by_transaction(
    s: &PgStore,
    provider: &str,
    refs: &[String],
) -> Result<Vec<SettlementRef>> {
    let client = s.client().await?;
    let refs = refs.to_vec();
    client
        .query(
            &format!(
                "SELECT {REF_COLUMNS} FROM evidence_refs r WHERE r.provider = $1 \
                 AND r.transaction_ref = ANY($2) ORDER BY r.event_cursor"
            ),
            &[&provider, &refs],
        )
        .await?
        .iter()
        .map(ref_from_row)
        .collect()
}

pub(super) async fn refs_of_day(
    s: &PgStore,
    provider: &str,
    day: NaiveDate,
) -> Result<Vec<SettlementRef>> {
    let client = s.client().await?;
    client
        .query(
            &format!(
                "SELECT {REF_COLUMNS} FROM evidence_refs r WHERE r.provider = $1 \
                 AND r.business_day = $2 ORDER BY r.event_cursor"
            ),
            &[&provider, &day],
        )
        .await?
        .iter()
        .map(ref_from_row)
        .collect()
}

pub(super) async fn refs_to_check(
    s: &PgStore,
    provider: &str,
    since: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<SettlementRef>> {
    let client = s.client().await?;
    client
        .query(
            &format!(
                "SELECT {REF_COLUMNS} FROM evidence_refs r \
                 LEFT JOIN bakong_checks c ON c.event_id = r.event_id \
                 WHERE r.provider = $1 AND r.received_at >= $2 \
                 AND (c.event_id IS NULL OR c.outcome = 'not_found') \
                 ORDER BY r.event_cursor LIMIT $3"
            ),
            &[&provider, &since, &i64::from(limit)],
        )
        .await?
        .iter()
        .map(ref_from_row)
        .collect()
}

pub(super) async fn put_bakong_checks(s: &PgStore, checks: &[BakongCheck]) -> Result<()> {
    let mut client = s.client().await?;
    let tx = client.transaction().await?;
    let upsert = tx
        .prepare(&format!(
            "INSERT INTO bakong_checks ({CHECK_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (event_id) DO UPDATE SET md5 = excluded.md5, \
             outcome = excluded.outcome, hash = excluded.hash, amount = excluded.amount, \
             currency = excluded.currency, to_account = excluded.to_account, \
             detail = excluded.detail, checked_at = excluded.checked_at"
        ))
        .await?;
    for c in checks {
        tx.execute(
            &upsert,
            &[
                &c.event_id,
                &c.md5,
                &c.outcome.as_str(),
                &c.hash,
                &c.amount,
                &c.currency,
                &c.to_account,
                &c.detail,
                &c.checked_at,
            ],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(super) async fn bakong_checks(s: &PgStore, event_ids: &[String]) -> Result<Vec<BakongCheck>> {
    let client = s.client().await?;
    let ids = event_ids.to_vec();
    client
        .query(
            &format!("SELECT {CHECK_COLUMNS} FROM bakong_checks WHERE event_id = ANY($1)"),
            &[&ids],
        )
        .await?
        .iter()
        .map(check_from_row)
        .collect()
}
