//! bKash through the engine against the sandbox.

use crate::util::*;
use std::time::Duration;
use till_core::journal::outbox::EventType;
use till_core::{CustomerStep, PaymentState, ProviderKind};
use till_sandbox::{FaultKind, FaultRule};

const WALLET: &str = "01770618575";

async fn start_checkout(r: &Rig, amount: &str) -> (String, String) {
    let c = match r
        .engine
        .charge(ProviderKind::Bkash, bdt(amount), "cashier-1")
        .await
    {
        Ok(c) => c,
        Err(e) => {
            let all = r
                .engine
                .list(&till_core::ListFilter {
                    page: 1,
                    page_size: 5,
                    ..Default::default()
                })
                .unwrap();
            let events = r.engine.events_of(&all[0].id).unwrap();
            panic!("charge failed: {e}\n{:#?}\n{events:#?}", all[0]);
        }
    };
    let CustomerStep::Redirect {
        redirect_url,
        callback_url,
    } = &c.step
    else {
        panic!("expected a redirect, got {:?}", c.step)
    };
    assert!(
        redirect_url.starts_with(r.sandbox.origin()),
        "{redirect_url}"
    );
    assert_eq!(callback_url, r.engine.config().bkash.callback_url.as_str());
    assert_eq!(c.payment.state, PaymentState::AwaitingCustomer);
    (c.payment.id.clone(), c.payment.refs.lookup.clone().unwrap())
}

fn fault(endpoint: &str, kind: FaultKind, after: bool) -> FaultRule {
    let mut f: FaultRule = serde_json::from_value(serde_json::json!({
        "endpoint": endpoint, "kind": kind, "times": 1, "after": after, "hang_ms": 10_000
    }))
    .unwrap();
    f.kind = kind;
    f
}

#[tokio::test]
async fn happy_path_settles_once_with_trx_id() {
    let r = rig().await;
    let (id, pid) = start_checkout(&r, "250.00").await;
    let back = r.bkash_customer(&pid, WALLET, "pay").await;
    assert!(r.engine.is_callback(&back));
    let p = r.engine.callback(&back).await.unwrap();
    assert_eq!(p.state, PaymentState::Settled, "{p:?}");
    let trx = p.refs.transaction.clone().unwrap();
    // A second redirect (browser back button) changes nothing and sends no execute.
    let again = r.engine.callback(&back).await.unwrap();
    assert_eq!(again.state, PaymentState::Settled);
    let j = till_core::journal::Journal::open(
        &r.home.path().join("journal.db"),
        till_core::journal::JournalContext::from_config(r.engine.config()).unwrap(),
    )
    .unwrap();
    assert_eq!(j.call_count("bkash.execute").unwrap(), 1);
    assert_eq!(
        j.outbox_count_for(&id, EventType::PaymentSettled).unwrap(),
        1
    );
    let ledger = r.ledger().await;
    let s = ledger.to_string();
    assert!(
        s.contains(&trx) && s.contains(&pid),
        "ledger lacks {trx}: {s}"
    );
}

#[tokio::test]
async fn execute_that_debits_then_times_out_is_settled_by_status() {
    let r = rig().await;
    let (id, pid) = start_checkout(&r, "99.00").await;
    r.sandbox
        .add_faults([fault("bkash.execute", FaultKind::Hang, true)]);
    let back = r.bkash_customer(&pid, WALLET, "pay").await;
    let p = r.engine.callback(&back).await.unwrap();
    assert_eq!(p.state, PaymentState::Settled, "{p:?}");
    assert!(p.refs.transaction.is_some());
    let events = r.engine.events_of(&id).unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.detail.as_deref() == Some("payment status after execute")),
        "{events:#?}"
    );
    let j = open_journal(&r);
    assert_eq!(
        j.call_count("bkash.execute").unwrap(),
        1,
        "never a second execute"
    );
    assert_eq!(
        j.outbox_count_for(&id, EventType::PaymentSettled).unwrap(),
        1
    );
}

#[tokio::test]
async fn execute_reset_after_commit_is_settled_by_status() {
    let r = rig().await;
    let (_, pid) = start_checkout(&r, "98.00").await;
    r.sandbox
        .add_faults([fault("bkash.execute", FaultKind::Reset, true)]);
    let back = r.bkash_customer(&pid, WALLET, "pay").await;
    let p = r.engine.callback(&back).await.unwrap();
    assert_eq!(p.state, PaymentState::Settled, "{p:?}");
    assert_eq!(open_journal(&r).call_count("bkash.execute").unwrap(), 1);
}

#[tokio::test]
async fn execute_repeated_elsewhere_answers_already_executed_and_settles_by_status() {
    let r = rig().await;
    let (_, pid) = start_checkout(&r, "97.00").await;
    let back = r.bkash_customer(&pid, WALLET, "pay").await;
    // Someone executes first (another process holding the same credentials).
    let c = &r.sandbox.config().bkash;
    let other = till_bkash::BkashClient::new(
        till_bkash::BkashSettings::new(r.sandbox.bkash_base_url().parse().unwrap()),
        till_bkash::BkashCredentials {
            username: c.username.clone(),
            password: c.password.clone(),
            app_key: c.app_key.clone(),
            app_secret: c.app_secret.clone(),
        },
        std::sync::Arc::new(till_provider_http::NoCallLog),
    )
    .unwrap();
    other.execute_payment(&pid).await.unwrap();
    let p = r.engine.callback(&back).await.unwrap();
    assert_eq!(p.state, PaymentState::Settled, "{p:?}");
    let events = r.engine.events_of(&p.id).unwrap();
    assert!(events
        .iter()
        .any(|e| e.detail.as_deref() == Some("payment status after execute")));
}

#[tokio::test]
async fn token_expiry_mid_flow_is_renewed() {
    let r = rig().await;
    let (_, pid) = start_checkout(&r, "96.00").await;
    // The token dies between create and execute.
    r.sandbox
        .add_faults([fault("bkash.execute", FaultKind::TokenExpired, false)]);
    let back = r.bkash_customer(&pid, WALLET, "pay").await;
    let p = r.engine.callback(&back).await.unwrap();
    assert_eq!(p.state, PaymentState::Settled, "{p:?}");
    let j = open_journal(&r);
    assert!(j.call_count("bkash.grant").unwrap() + j.call_count("bkash.refresh").unwrap() >= 2);
}

#[tokio::test]
async fn duplicate_payer_and_amount_fails_with_a_reason() {
    let r = rig().await;
    let (_, pid) = start_checkout(&r, "95.00").await;
    let back = r.bkash_customer(&pid, WALLET, "pay").await;
    assert_eq!(
        r.engine.callback(&back).await.unwrap().state,
        PaymentState::Settled
    );
    // Same wallet, same amount within the window: bKash fails it as 2029.
    let (id2, pid2) = start_checkout(&r, "95.00").await;
    let back = r.bkash_customer(&pid2, WALLET, "pay").await;
    assert!(back.as_str().contains("status=failure"), "{back}");
    let p = r.engine.callback(&back).await.unwrap();
    assert_eq!(p.state, PaymentState::Failed);
    assert!(p.failure_reason.unwrap().contains("did not go through"));
    assert_eq!(
        open_journal(&r)
            .outbox_count_for(&id2, EventType::PaymentSettled)
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn cancel_and_failure_wallet_end_with_clear_reasons() {
    let r = rig().await;
    let (_, pid) = start_checkout(&r, "94.00").await;
    let back = r.bkash_customer(&pid, "", "cancel").await;
    let p = r.engine.callback(&back).await.unwrap();
    assert_eq!(p.state, PaymentState::Cancelled);
    assert_eq!(
        p.failure_reason.as_deref(),
        Some("The customer cancelled the payment")
    );

    let (_, pid) = start_checkout(&r, "93.00").await;
    let back = r.bkash_customer(&pid, "01823074817", "pay").await; // insufficient balance
    let p = r.engine.callback(&back).await.unwrap();
    assert_eq!(p.state, PaymentState::Failed);

    // A tampered callback (other origin) is refused and changes nothing.
    let (id, pid) = start_checkout(&r, "92.00").await;
    let evil: url::Url =
        format!("http://evil.example/bkash/callback?paymentID={pid}&status=success")
            .parse()
            .unwrap();
    assert!(r.engine.callback(&evil).await.is_err());
    assert_eq!(
        r.engine.payment(&id).unwrap().state,
        PaymentState::AwaitingCustomer
    );
}

#[tokio::test]
async fn partial_then_remaining_refund() {
    let r = rig().await;
    let (id, pid) = start_checkout(&r, "100.00").await;
    let back = r.bkash_customer(&pid, WALLET, "pay").await;
    r.engine.callback(&back).await.unwrap();
    let (p, refund) = r
        .engine
        .refund(&id, Some(bdt("30.00")), Some("damaged"), "manager")
        .await
        .unwrap();
    assert_eq!(p.state, PaymentState::PartiallyRefunded, "{refund:?}");
    assert_eq!(p.refunded.wire(), "30.00");
    let over = r
        .engine
        .refund(&id, Some(bdt("70.01")), None, "manager")
        .await;
    assert!(over.is_err());
    let (p, _) = r.engine.refund(&id, None, None, "manager").await.unwrap();
    assert_eq!(p.state, PaymentState::Refunded);
    assert_eq!(p.refunded.wire(), "100.00");
    let j = open_journal(&r);
    assert_eq!(
        j.outbox_count_for(&id, EventType::PaymentRefunded).unwrap(),
        2
    );
    let audit = r.engine.audit_log(10).unwrap();
    assert_eq!(
        audit
            .iter()
            .filter(|a| a.action == "payment.refund")
            .count(),
        2
    );
}

#[tokio::test]
async fn crash_during_execute_is_resolved_on_restart() {
    let r = rig().await;
    let (id, pid) = start_checkout(&r, "91.00").await;
    r.sandbox
        .add_faults([fault("bkash.execute", FaultKind::Hang, true)]);
    let back = r.bkash_customer(&pid, WALLET, "pay").await;
    let engine = r.engine.clone();
    let task = tokio::spawn(async move { engine.callback(&back).await });
    // Execute is in flight (the sandbox has debited and hangs): "crash".
    tokio::time::sleep(Duration::from_millis(700)).await;
    task.abort();
    r.engine.shutdown().await;
    let p = r.engine.payment(&id).unwrap();
    assert_eq!(p.state, PaymentState::Authorized);
    assert!(p.completion_sent_at.is_some());
    let restarted = r.reopen().await;
    let p = restarted
        .wait_final(&id, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(p.state, PaymentState::Settled, "{p:?}");
    // The first execute was cut off before its answer (so it is not in the
    // call log); the restart must not have sent another.
    assert_eq!(open_journal(&r).call_count("bkash.execute").unwrap(), 0);
    let events = restarted.events_of(&id).unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.detail.as_deref() == Some("completion sent"))
            .count(),
        1
    );
    restarted.shutdown().await;
}

/// bKash's two token calls an hour are the merchant's, not the process's: a restarted
/// engine (and a second engine beside it, as `till refund` beside the app) uses the token
/// the first one stored, and the calls are counted in the journal.
#[tokio::test]
async fn restarts_reuse_the_stored_token() {
    let r = rig().await;
    let token_calls = |l: &serde_json::Value| l["bkash"]["tokenCalls"].as_array().unwrap().len();
    let (_, pid) = start_checkout(&r, "30.00").await;
    let back = r.bkash_customer(&pid, WALLET, "pay").await;
    assert_eq!(
        r.engine.callback(&back).await.unwrap().state,
        PaymentState::Settled
    );
    assert_eq!(token_calls(&r.ledger().await), 1);
    r.engine.shutdown().await;
    for round in 0..5 {
        let restarted = r.reopen().await;
        let reader = r.open_engine(false).await.unwrap();
        let c = restarted
            .charge(ProviderKind::Bkash, bdt("31.00"), "cashier-1")
            .await
            .unwrap();
        let status = reader.refresh(&c.payment.id).await.map(|p| p.state);
        assert!(status.is_ok(), "round {round}: {status:?}");
        assert_eq!(token_calls(&r.ledger().await), 1, "round {round}");
        reader.shutdown().await;
        restarted.shutdown().await;
    }
    let j = open_journal(&r);
    assert_eq!(j.call_count("bkash.grant").unwrap(), 1);
    assert_eq!(
        j.token_budget("bkash", chrono::Utc::now().timestamp_millis())
            .unwrap()
            .calls_ms
            .len(),
        1
    );
}

pub fn open_journal(r: &Rig) -> till_core::journal::Journal {
    till_core::journal::Journal::open(
        &r.home.path().join("journal.db"),
        till_core::journal::JournalContext::from_config(r.engine.config()).unwrap(),
    )
    .unwrap()
}

/// H1: the sweeper asks bKash about a checkout whose window is over; while
/// that question is out, the customer's callback authorizes the payment and
/// execute debits them. The sweeper's "not completed" answer must not expire
/// it: the execute's `Completed` settles it.
#[tokio::test]
async fn callback_during_the_sweepers_expiry_check_still_settles() {
    // A long client timeout: the held requests below must not time out.
    let r = rig_with(sandbox_config(), &[("TILL__BKASH__TIMEOUT_SECS", "60")]).await;
    let (id, pid) = start_checkout(&r, "88.00").await;
    let back = r.bkash_customer(&pid, WALLET, "pay").await;
    r.hold("bkash.status", false).await;
    r.hold("bkash.execute", false).await;
    // The checkout window ends: the sweeper's status question waits at bKash.
    r.clock.advance(Duration::from_secs(
        r.engine.config().bkash.checkout_window_secs + 1,
    ));
    r.wait_held("bkash.status").await;
    // Meanwhile the callback authorizes and sends execute (also held).
    let engine = r.engine.clone();
    let callback = tokio::spawn(async move { engine.callback(&back).await });
    r.wait_held("bkash.execute").await;
    assert_eq!(
        r.engine.payment(&id).unwrap().state,
        PaymentState::Authorized
    );
    // bKash answers the sweeper first: not executed yet ("Initiated").
    let sweeps = r.engine.poll_stats().sweeps;
    assert_eq!(r.release("bkash.status").await, 1);
    wait_for("the sweeper's pass to end", || {
        r.engine.poll_stats().sweeps > sweeps
    })
    .await;
    let p = r.engine.payment(&id).unwrap();
    assert_eq!(p.state, PaymentState::Authorized, "{p:?}");
    // Then execute's answer: the customer was debited.
    assert_eq!(r.release("bkash.execute").await, 1);
    let p = callback.await.unwrap().unwrap();
    assert_eq!(p.state, PaymentState::Settled, "{p:?}");
    assert!(p.refs.transaction.is_some());
    assert_eq!(
        open_journal(&r)
            .outbox_count_for(&id, EventType::PaymentSettled)
            .unwrap(),
        1
    );
}

/// Attempts of the payment's queued execute resolution (0 when none).
fn resolution_attempts(r: &Rig, id: &str) -> i64 {
    open_journal(r)
        .deferred()
        .unwrap()
        .into_iter()
        .find(|d| d.payment_id == id)
        .map(|d| d.attempts)
        .unwrap_or(0)
}

/// Moves the engine's clock so the queued resolution is due, and waits until
/// the deferred worker has asked bKash once more (or the payment moved).
async fn one_more_resolution(r: &Rig, id: &str) {
    let before = resolution_attempts(r, id);
    r.clock.advance(Duration::from_secs(120));
    wait_for("the deferred worker to ask bKash again", || {
        resolution_attempts(r, id) > before
            || r.engine.payment(id).unwrap().state != PaymentState::Authorized
    })
    .await;
}

/// H2: execute's answer is lost while bKash is still working on it. Status
/// says "not completed" again and again; that is no proof nothing was taken,
/// so the payment stays authorized until bKash completes it.
#[tokio::test]
async fn execute_still_in_flight_is_not_given_up_after_a_few_pending_answers() {
    let r = rig().await;
    let (id, pid) = start_checkout(&r, "87.00").await;
    // bKash sits on the execute past the client's timeout, then does it.
    r.hold("bkash.execute", false).await;
    let back = r.bkash_customer(&pid, WALLET, "pay").await;
    let p = r.engine.callback(&back).await.unwrap();
    assert_eq!(p.state, PaymentState::Authorized, "{p:?}");
    for _ in 0..5 {
        one_more_resolution(&r, &id).await;
        let p = r.engine.payment(&id).unwrap();
        assert_eq!(
            p.state,
            PaymentState::Authorized,
            "given up while execute was still in flight: {p:?}"
        );
    }
    assert!(resolution_attempts(&r, &id) >= 5);
    // bKash completes the execute: the customer is debited.
    assert_eq!(r.release("bkash.execute").await, 1);
    wait_for_async("bKash to complete the payment", || async {
        r.ledger().await.to_string().contains("\"Completed\"")
    })
    .await;
    r.clock.advance(Duration::from_secs(120));
    let p = r
        .wait_state(&id, PaymentState::Settled, Duration::from_secs(10))
        .await;
    assert!(p.refs.transaction.is_some());
    let events = r.engine.events_of(&id).unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.detail.as_deref() == Some("completion sent"))
            .count(),
        1,
        "never a second execute"
    );
}

/// H2: an execute that never reached bKash's books stays unknown until the
/// paymentID's own lifetime (24 h) has long passed; only then is it failed
/// with "nothing was taken".
#[tokio::test]
async fn execute_never_completed_fails_only_after_the_payment_id_lifetime() {
    let r = rig().await;
    let (id, pid) = start_checkout(&r, "86.00").await;
    // The execute times out at the client and is never done by bKash.
    r.sandbox
        .add_faults([fault("bkash.execute", FaultKind::Hang, false)]);
    let back = r.bkash_customer(&pid, WALLET, "pay").await;
    let p = r.engine.callback(&back).await.unwrap();
    assert_eq!(p.state, PaymentState::Authorized, "{p:?}");
    for _ in 0..4 {
        one_more_resolution(&r, &id).await;
    }
    // 23 hours on: the paymentID could still complete.
    r.clock.advance(Duration::from_secs(23 * 3600));
    one_more_resolution(&r, &id).await;
    assert_eq!(
        r.engine.payment(&id).unwrap().state,
        PaymentState::Authorized
    );
    // Past 24 h and the margin: bKash still says "not completed" — now final.
    r.clock.advance(Duration::from_secs(2 * 3600));
    one_more_resolution(&r, &id).await;
    let p = r
        .wait_state(&id, PaymentState::Failed, Duration::from_secs(10))
        .await;
    assert_eq!(p.failure_code.as_deref(), Some("not_completed"), "{p:?}");
    assert!(p
        .failure_reason
        .unwrap()
        .contains("nothing was taken from the customer"));
}

/// A second bKash client with the terminal's credentials (another program,
/// or the merchant portal, acting on the same account).
fn other_client(r: &Rig) -> till_bkash::BkashClient {
    let c = &r.sandbox.config().bkash;
    till_bkash::BkashClient::new(
        till_bkash::BkashSettings::new(r.sandbox.bkash_base_url().parse().unwrap()),
        till_bkash::BkashCredentials {
            username: c.username.clone(),
            password: c.password.clone(),
            app_key: c.app_key.clone(),
            app_secret: c.app_secret.clone(),
        },
        std::sync::Arc::new(till_provider_http::NoCallLog),
    )
    .unwrap()
}

/// A settled bKash payment of `amount`: (our id, paymentID).
async fn settled(r: &Rig, amount: &str) -> (String, String) {
    let (id, pid) = start_checkout(r, amount).await;
    let back = r.bkash_customer(&pid, WALLET, "pay").await;
    let p = r.engine.callback(&back).await.unwrap();
    assert_eq!(p.state, PaymentState::Settled, "{p:?}");
    (id, pid)
}

/// The refund's answer is lost on the way (connection reset): with `after`,
/// bKash made the refund first; without, it never saw it.
async fn refund_with_lost_answer(
    r: &Rig,
    id: &str,
    amount: &str,
    after: bool,
) -> till_core::Refund {
    r.sandbox
        .add_faults([fault("bkash.refund_v2", FaultKind::Reset, after)]);
    let (p, refund) = r
        .engine
        .refund(id, Some(bdt(amount)), Some("returned"), "manager")
        .await
        .unwrap();
    assert_eq!(p.state, PaymentState::RefundPending, "{p:?} {refund:?}");
    assert_eq!(refund.state, till_core::payment::RefundState::Sent);
    refund
}

/// H6: two partial refunds of 50; the second's request is lost before bKash
/// sees it. bKash's refund list holds only the first: it must not be booked
/// again for the second (100 refunded while the customer got 50).
#[tokio::test]
async fn lost_refund_is_not_matched_to_an_earlier_refund_of_the_same_amount() {
    let r = rig().await;
    let (id, _) = settled(&r, "100.00").await;
    let (p, first) = r
        .engine
        .refund(&id, Some(bdt("50.00")), Some("returned"), "manager")
        .await
        .unwrap();
    assert_eq!(p.state, PaymentState::PartiallyRefunded);
    let second = refund_with_lost_answer(&r, &id, "50.00", false).await;
    // Resolve it now, by refund status.
    let _ = r.engine.refresh(&id).await;
    let p = r.engine.payment(&id).unwrap();
    let second = r
        .engine
        .refunds_of(&id)
        .unwrap()
        .into_iter()
        .find(|x| x.id == second.id)
        .unwrap();
    assert_ne!(
        second.provider_refund_id, first.provider_refund_id,
        "the first refund booked twice: {second:?}"
    );
    assert_ne!(
        second.state,
        till_core::payment::RefundState::Done,
        "{second:?}"
    );
    assert_eq!(p.refunded.wire(), "50.00", "{p:?}");
    assert_eq!(
        open_journal(&r)
            .outbox_count_for(&id, EventType::PaymentRefunded)
            .unwrap(),
        1
    );
}

/// H6: the second refund of 50 was made by bKash and only its answer was
/// lost: refund status finds it by its own id, not the first one's.
#[tokio::test]
async fn lost_refund_answer_is_found_by_its_own_refund_id() {
    let r = rig().await;
    let (id, _) = settled(&r, "100.00").await;
    let (_, first) = r
        .engine
        .refund(&id, Some(bdt("50.00")), Some("returned"), "manager")
        .await
        .unwrap();
    let second = refund_with_lost_answer(&r, &id, "50.00", true).await;
    let _ = r.engine.refresh(&id).await;
    let p = r
        .wait_state(&id, PaymentState::Refunded, Duration::from_secs(10))
        .await;
    assert_eq!(p.refunded.wire(), "100.00");
    let refunds = r.engine.refunds_of(&id).unwrap();
    let second = refunds.iter().find(|x| x.id == second.id).unwrap();
    assert_eq!(second.state, till_core::payment::RefundState::Done);
    assert!(second.provider_refund_id.is_some());
    assert_ne!(second.provider_refund_id, first.provider_refund_id);
}

/// H6: a refund made elsewhere (the merchant portal) and ours lost: bKash's
/// list cannot say which is ours. It stays unknown and asks a manager.
#[tokio::test]
async fn refund_that_cannot_be_told_apart_stays_unknown_for_a_manager() {
    let r = rig().await;
    let (id, pid) = settled(&r, "100.00").await;
    let trx = r.engine.payment(&id).unwrap().refs.transaction.unwrap();
    other_client(&r)
        .refund(&till_bkash::RefundRequest {
            payment_id: pid,
            trx_id: trx,
            amount: "20".parse().unwrap(),
            sku: "portal".into(),
            reason: "portal".into(),
        })
        .await
        .unwrap();
    let ours = refund_with_lost_answer(&r, &id, "30.00", false).await;
    let _ = r.engine.refresh(&id).await;
    let p = r.engine.payment(&id).unwrap();
    let ours = r
        .engine
        .refunds_of(&id)
        .unwrap()
        .into_iter()
        .find(|x| x.id == ours.id)
        .unwrap();
    assert_eq!(
        ours.state,
        till_core::payment::RefundState::Sent,
        "{ours:?}"
    );
    assert_eq!(p.state, PaymentState::RefundPending);
    assert_eq!(p.refunded.wire(), "0.00");
    assert!(
        p.flag
            .as_deref()
            .unwrap_or("")
            .starts_with("refund_unclear"),
        "{p:?}"
    );
}

/// M5: bKash has no record of a sent refund whose answer was lost. That is
/// not "failed" at once (which invites a second refund): it stays unknown
/// for the documented window, then fails with "nothing was returned".
#[tokio::test]
async fn refund_not_found_stays_unknown_for_an_hour_then_fails() {
    let r = rig().await;
    let (id, _) = settled(&r, "60.00").await;
    let refund = refund_with_lost_answer(&r, &id, "60.00", false).await;
    let state_of = |r: &Rig| {
        r.engine
            .refunds_of(&id)
            .unwrap()
            .into_iter()
            .find(|x| x.id == refund.id)
            .unwrap()
    };
    let _ = r.engine.refresh(&id).await;
    assert_eq!(
        state_of(&r).state,
        till_core::payment::RefundState::Sent,
        "{:?}",
        state_of(&r)
    );
    assert_eq!(
        r.engine.payment(&id).unwrap().state,
        PaymentState::RefundPending
    );
    // 59 minutes on: still unknown.
    r.clock.advance(Duration::from_secs(59 * 60));
    let _ = r.engine.refresh(&id).await;
    assert_eq!(state_of(&r).state, till_core::payment::RefundState::Sent);
    // Past the hour: nothing was returned; the payment is refundable again.
    r.clock.advance(Duration::from_secs(2 * 60));
    let _ = r.engine.refresh(&id).await;
    let p = r.engine.payment(&id).unwrap();
    let done = state_of(&r);
    assert_eq!(
        done.state,
        till_core::payment::RefundState::Failed,
        "{done:?}"
    );
    assert!(done
        .failure_reason
        .unwrap()
        .contains("nothing was returned"));
    assert_eq!(p.state, PaymentState::Settled);
    assert_eq!(p.refunded.wire(), "0.00");
}
