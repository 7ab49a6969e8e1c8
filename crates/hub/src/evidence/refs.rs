//! The index of the settlement events' provider references
//! (`evidence_refs`): for every `payment.settled` event, its lookup and
//! transaction references, payee, amount and business day, read from the
//! stored body with `till-sync-proto` (so every schema version's names are
//! read by purpose, in one place). Evidence is matched through it: an IPN's
//! trxID to the settlement that claims it, whatever day it was booked on.
//!
//! Filled behind ingest, by [`catch_up`] (before findings are computed and
//! before each periodic check), never by the ingest transaction itself.
//!
//! The low-water mark: every settlement at or below it is indexed, so a
//! catch-up scans only above it. PostgreSQL hands out cursors (`row_no`) at
//! insert and transactions commit in any order, so an event with a lower
//! cursor can become visible after a higher one was indexed; the mark is
//! therefore raised only to the highest cursor indexed among events received
//! more than [`SETTLE_MARGIN`] ago (no ingest transaction stays open that
//! long), and everything above it is scanned again (cheaply: an anti-join
//! on the primary key).

use super::records::SettlementRef;
use crate::store::{Store, StoreError, StoredEvent};
use chrono::{DateTime, Utc};
use std::time::Instant;
use till_sync_proto::Event;

/// How long an event may take from its `received_at` to its commit, at most.
pub const SETTLE_MARGIN: chrono::Duration = chrono::Duration::minutes(5);

/// Settlements indexed per round trip.
const PAGE: u32 = 1000;

/// The index row of a stored settlement event. A body that does not read
/// (it was validated at ingest, so only a damaged database) still gets a row,
/// from the columns, so it is not scanned again and again.
pub fn reference_of(e: &StoredEvent) -> SettlementRef {
    let parsed = Event::from_slice(e.event.get().as_bytes()).ok();
    let payment = parsed.as_ref().and_then(|ev| ev.payment.as_ref());
    SettlementRef {
        event_id: e.id.clone(),
        cursor: e.cursor,
        terminal_id: e.terminal_id.clone(),
        payment_id: e.payment_id.clone(),
        provider: e.provider.clone().unwrap_or_default(),
        business_day: e.business_day,
        amount: e.amount,
        currency: e.currency.clone(),
        lookup_ref: payment.and_then(|p| p.references.lookup.clone()),
        transaction_ref: payment.and_then(|p| p.references.transaction.clone()),
        payee: payment.and_then(|p| p.payee.clone()),
        settled_at: payment
            .map(|p| p.settled_at.with_timezone(&Utc))
            .unwrap_or(e.received_at),
        received_at: e.received_at,
    }
}

/// Index every settlement not yet indexed; returns how many were added.
pub async fn catch_up(store: &dyn Store) -> Result<usize, StoreError> {
    catch_up_at(store, Utc::now()).await
}

async fn catch_up_at(store: &dyn Store, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let mut after = store.refs_low_water().await?;
    let mut added = 0;
    loop {
        // Only what had arrived when the catch-up began: under a steady
        // ingest it would otherwise chase the newest events without end.
        let page = store.unindexed_settlements(after, now, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.cursor;
        let refs: Vec<SettlementRef> = page.iter().map(reference_of).collect();
        store.index_refs(&refs).await?;
        added += refs.len();
        if page.len() < PAGE as usize {
            break;
        }
    }
    store.raise_refs_low_water(now - SETTLE_MARGIN).await?;
    Ok(added)
}

/// One catch-up at a time per hub; a caller that arrives while one runs
/// waits for it, and skips its own when a run *started* after it arrived
/// (that run saw everything committed before the caller came).
#[derive(Default)]
pub(crate) struct SingleFlight {
    last_started: tokio::sync::Mutex<Option<Instant>>,
}

impl SingleFlight {
    pub(crate) async fn run(&self, store: &dyn Store) -> Result<(), StoreError> {
        let arrived = Instant::now();
        let mut last = self.last_started.lock().await;
        if last.is_some_and(|t| t > arrived) {
            return Ok(());
        }
        *last = Some(Instant::now());
        catch_up(store).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use std::str::FromStr;
    use till_sync_proto::{Payment, References};

    fn stored(cursor: i64, event: &Event) -> StoredEvent {
        StoredEvent {
            cursor,
            id: format!("ev{cursor}"),
            terminal_id: event.terminal_id.clone(),
            sequence: event.sequence,
            kind: event.kind.as_str().into(),
            business_day: event.business_day,
            payment_id: event.payment.as_ref().map(|p| p.id.clone()),
            provider: event.payment.as_ref().map(|p| p.provider.clone()),
            currency: event.payment.as_ref().map(|p| p.currency.clone()),
            amount: event.payment.as_ref().map(|p| p.amount),
            refund_amount: None,
            received_at: Utc::now(),
            event: serde_json::value::RawValue::from_string(
                String::from_utf8(event.to_json()).unwrap(),
            )
            .unwrap(),
        }
    }

    #[test]
    fn references_are_read_by_purpose_in_every_version() {
        let at = DateTime::parse_from_rfc3339("2026-11-22T10:15:00+06:00").unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let event = Event::payment_settled(
            "t1",
            1,
            at,
            day,
            Payment {
                id: "p1".into(),
                provider: "bkash".into(),
                invoice: None,
                amount: rust_decimal::Decimal::from_str("12.50").unwrap(),
                currency: "BDT".into(),
                references: References {
                    lookup: Some("TR1".into()),
                    transaction: Some("BFM1".into()),
                    external: None,
                },
                created_at: at,
                settled_at: at,
                payee: Some("acct".into()),
            },
        );
        let r = reference_of(&stored(7, &event));
        assert_eq!(r.transaction_ref.as_deref(), Some("BFM1"));
        assert_eq!(r.lookup_ref.as_deref(), Some("TR1"));
        assert_eq!(r.payee.as_deref(), Some("acct"));
        assert_eq!(r.cursor, 7);
        assert_eq!(r.settled_at, at.with_timezone(&Utc));

        // A version 2 body names the trxID `trx_id`: read as the transaction.
        let mut v2: serde_json::Value = serde_json::from_slice(&event.to_json()).unwrap();
        v2["schema"] = "till.event/2".into();
        v2["payment"]["references"] = serde_json::json!({"payment_id": "TR1", "trx_id": "BFM1"});
        let mut s = stored(8, &event);
        s.event = serde_json::value::RawValue::from_string(v2.to_string()).unwrap();
        let r = reference_of(&s);
        assert_eq!(r.transaction_ref.as_deref(), Some("BFM1"));
        assert_eq!(r.lookup_ref.as_deref(), Some("TR1"));

        // An unreadable body still gets a row, from the columns.
        s.event = serde_json::value::RawValue::from_string("{}".into()).unwrap();
        let r = reference_of(&s);
        assert_eq!(r.transaction_ref, None);
        assert_eq!(r.provider, "bkash");
        assert_eq!(r.settled_at, s.received_at);
    }
}
