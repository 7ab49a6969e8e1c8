//! L2: the provider-call log is pruned by `[storage] call_log_days`, at start and
//! daily, but never of what an unfinished or unsynced payment may still need.

use crate::util::*;
use chrono::{TimeZone, Utc};
use till_core::{CustomerStep, Engine, Payment, PaymentState, ProviderKind};
use till_provider_http::CallRecord;

const WALLET: &str = "01770618575";

/// A bKash checkout the customer has not completed yet.
async fn bkash_open(r: &Rig, amount: &str) -> Payment {
    let c = r
        .engine
        .charge(ProviderKind::Bkash, bdt(amount), "cashier-1")
        .await
        .unwrap();
    assert!(matches!(c.step, CustomerStep::Redirect { .. }), "{c:?}");
    c.payment
}

/// A bKash payment the customer completed.
async fn bkash_settled(r: &Rig, amount: &str) -> Payment {
    let open = bkash_open(r, amount).await;
    let back = r
        .bkash_customer(open.refs.lookup.as_deref().unwrap(), WALLET, "pay")
        .await;
    let p = r.engine.callback(&back).await.unwrap();
    assert_eq!(p.state, PaymentState::Settled, "{p:?}");
    p
}

fn db(r: &Rig) -> rusqlite::Connection {
    rusqlite::Connection::open(r.home.path().join("journal.db")).unwrap()
}

/// Call records that name the payment (bKash: the invoice at create, the paymentID
/// after) and date from before 2021 (the aged ones: recovery at start adds new ones).
fn calls_of(r: &Rig, p: &Payment) -> i64 {
    db(r)
        .query_row(
            "SELECT COUNT(*) FROM provider_calls WHERE payment_ref IN (?1, ?2) AND at < '2021'",
            rusqlite::params![p.invoice, p.refs.lookup],
            |row| row.get(0),
        )
        .unwrap()
}

/// Old call records tied to no payment (Bakong's bulk checks, bKash's token calls).
fn unlinked_calls(r: &Rig) -> i64 {
    db(r)
        .query_row(
            "SELECT COUNT(*) FROM provider_calls WHERE payment_ref IS NULL AND at < '2021'",
            [],
            |row| row.get(0),
        )
        .unwrap()
}

/// Every call record so far dates from long ago, and one more tied to no payment
/// (as Bakong's bulk checks are) is added, as old.
fn age_the_call_log(r: &Rig) {
    let long_ago = Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap();
    db(r)
        .execute(
            "UPDATE provider_calls SET at = ?1",
            [long_ago.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)],
        )
        .unwrap();
    crate::bkash::open_journal(r)
        .record_call(
            &CallRecord {
                provider: "bakong".into(),
                endpoint: "bakong.check_by_md5_list".into(),
                payment_ref: None,
                status: Some(200),
                duration_ms: 12,
                attempt: 1,
                request_body: None,
                response_body: None,
                error: None,
            },
            long_ago,
        )
        .unwrap();
}

/// Reopens the engine (pruning runs at start) and waits for its first pruning pass.
async fn reopen_and_prune(r: &Rig) -> Engine {
    r.engine.shutdown().await;
    let engine = r.reopen().await;
    let e = engine.clone();
    wait_for("the first pruning pass", move || e.poll_stats().prunes >= 1).await;
    engine
}

/// Old records of a finished payment go; an open payment's stay however old they are;
/// an old record tied to no payment goes when no unfinished payment is older than it.
/// The payments themselves are not touched.
#[tokio::test]
async fn old_call_records_are_pruned_at_start_but_not_an_open_payments() {
    let r = rig_with(sandbox_config(), &[("TILL__STORAGE__CALL_LOG_DAYS", "30")]).await;
    let done = bkash_settled(&r, "120.00").await;
    let open = bkash_open(&r, "75.00").await;
    age_the_call_log(&r);
    assert!(calls_of(&r, &done) >= 2, "create and execute at least");
    assert!(calls_of(&r, &open) >= 1, "its create at least");
    let open_calls = calls_of(&r, &open);
    assert!(unlinked_calls(&r) >= 1);

    let engine = reopen_and_prune(&r).await;
    assert_eq!(
        calls_of(&r, &done),
        0,
        "the settled payment's old records stay"
    );
    assert_eq!(
        calls_of(&r, &open),
        open_calls,
        "an open payment's records were pruned"
    );
    assert_eq!(unlinked_calls(&r), 0, "an old unlinked record stays");
    // Pruning is of the call log only.
    assert_eq!(engine.payment(&done.id).unwrap(), done);
    assert!(engine.payment(&open.id).unwrap().state.is_open());
    assert!(!engine.events_of(&done.id).unwrap().is_empty());
    engine.shutdown().await;
}

/// With a hub configured, a settlement the hub has not acknowledged keeps its records
/// (they are the evidence should the hub and the till disagree), however old.
#[tokio::test]
async fn call_records_of_a_settlement_not_yet_at_the_hub_are_kept() {
    // Nothing listens on the discard port: the settlement stays in the outbox.
    let r = rig_with(
        sandbox_config(),
        &[
            ("TILL__HUB__URL", "http://127.0.0.1:9"),
            ("TILL__STORAGE__CALL_LOG_DAYS", "30"),
        ],
    )
    .await;
    let unsynced = bkash_settled(&r, "210.00").await;
    age_the_call_log(&r);
    let calls = calls_of(&r, &unsynced);
    assert!(calls >= 2, "create and execute at least: {calls}");

    let engine = reopen_and_prune(&r).await;
    assert_eq!(
        calls_of(&r, &unsynced),
        calls,
        "records of an unsynced settlement were pruned"
    );
    // The pass did run: the old record tied to no payment, older than every
    // payment still waiting, is gone.
    assert_eq!(unlinked_calls(&r), 0);
    engine.shutdown().await;
}
