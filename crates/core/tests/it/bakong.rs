//! Bakong KHQR through the engine against the sandbox.

use crate::bkash::open_journal;
use crate::util::*;
use std::time::Duration;
use till_core::journal::outbox::EventType;
use till_core::{CustomerStep, PaymentState, ProviderKind};
use till_sandbox::FaultRule;

async fn show(r: &Rig, amount: till_core::Amount) -> (String, String, String) {
    let c = r
        .engine
        .charge(ProviderKind::Bakong, amount, "cashier-1")
        .await
        .unwrap();
    let CustomerStep::Code {
        code: khqr,
        reference: md5,
        ..
    } = c.step
    else {
        panic!("expected a KHQR")
    };
    // The MD5 is in the journal before the code is shown.
    assert_eq!(
        r.engine
            .payment(&c.payment.id)
            .unwrap()
            .refs
            .lookup
            .as_deref(),
        Some(md5.as_str())
    );
    let d = khqr::decode(&khqr);
    assert_eq!(d.amount(), Some(amount.value()));
    (c.payment.id, khqr, md5)
}

#[tokio::test]
async fn paid_code_settles_with_hash() {
    let r = rig().await;
    let (id, qr, _) = show(&r, khr("40000")).await;
    let paid = r.bakong_pay(&qr, None).await;
    let p = r
        .wait_state(&id, PaymentState::Settled, Duration::from_secs(10))
        .await;
    assert_eq!(p.refs.transaction.as_deref(), paid["hash"].as_str());
    assert_eq!(
        open_journal(&r)
            .outbox_count_for(&id, EventType::PaymentSettled)
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn wrong_amount_is_flagged_not_settled() {
    let r = rig().await;
    let (id, qr, _) = show(&r, usd("12.50")).await;
    r.bakong_pay(&qr, Some("12.00")).await;
    let p = r
        .wait_state(&id, PaymentState::Flagged, Duration::from_secs(10))
        .await;
    assert!(
        p.flag.as_deref().unwrap().starts_with("amount_mismatch"),
        "{p:?}"
    );
    assert_eq!(
        open_journal(&r)
            .outbox_count_for(&id, EventType::PaymentSettled)
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn unpaid_code_expires_at_its_expiry() {
    let r = rig().await;
    let (id, _, _) = show(&r, khr("1000")).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        r.engine.payment(&id).unwrap().state,
        PaymentState::AwaitingCustomer
    );
    r.clock.advance(Duration::from_secs(
        r.engine.config().khqr.expiry_seconds + 1,
    ));
    let p = r
        .wait_state(&id, PaymentState::Expired, Duration::from_secs(10))
        .await;
    assert!(p.failure_reason.unwrap().contains("expired"));
}

#[tokio::test]
async fn sixty_pending_codes_cost_at_most_two_requests_a_tick() {
    let r = rig().await;
    let mut codes = Vec::new();
    for i in 0..60 {
        codes.push(show(&r, khr(&(1000 + i * 100).to_string())).await);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    for (_, qr, _) in codes.iter().step_by(7) {
        r.bakong_pay(qr, None).await;
    }
    for (id, _, _) in codes.iter().step_by(7) {
        r.wait_state(id, PaymentState::Settled, Duration::from_secs(15))
            .await;
    }
    let stats = r.engine.poll_stats();
    assert!(stats.ticks >= 3, "{stats:?}");
    assert!(stats.max_requests_in_a_tick <= 2, "{stats:?}");
    // Everything unpaid is still waiting.
    let waiting = codes
        .iter()
        .filter(|(id, _, _)| r.engine.payment(id).unwrap().state == PaymentState::AwaitingCustomer)
        .count();
    assert_eq!(waiting, 60 - codes.iter().step_by(7).count());
}

#[tokio::test]
async fn offline_code_awaits_verification_under_caps_and_settles_when_back() {
    let r = rig_with(
        sandbox_config(),
        &[
            (
                "TILL__OFFLINE__MAX_UNVERIFIED_PER_PAYMENT",
                "{ USD = \"20.00\", KHR = \"80000\" }",
            ),
            (
                "TILL__OFFLINE__MAX_UNVERIFIED_PER_DAY",
                "{ USD = \"30.00\", KHR = \"100000\" }",
            ),
        ],
    )
    .await;
    // Bakong goes away: every call answers 503.
    let rule: FaultRule = serde_json::from_value(
        serde_json::json!({"endpoint": "bakong.*", "kind": "status", "status": 503}),
    )
    .unwrap();
    r.sandbox.add_faults([rule]);
    let (first, _, _) = show(&r, khr("100")).await;
    // Wait until the poller has noticed.
    for _ in 0..100 {
        if !r.engine.is_online(ProviderKind::Bakong) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!r.engine.is_online(ProviderKind::Bakong));
    let (id, qr, _) = show(&r, usd("15.00")).await;
    assert!(
        r.engine.payment(&id).unwrap().offline,
        "shown while offline"
    );
    let over = r
        .engine
        .charge(ProviderKind::Bakong, usd("25.00"), "c")
        .await;
    assert!(over.unwrap_err().to_string().contains("limit"));
    let day_cap = r
        .engine
        .charge(ProviderKind::Bakong, usd("16.00"), "c")
        .await;
    assert!(day_cap.unwrap_err().to_string().contains("day"));
    // The customer pays while we are offline; Bakong comes back.
    r.bakong_pay(&qr, None).await;
    r.sandbox.clear_faults();
    r.wait_state(&id, PaymentState::Settled, Duration::from_secs(20))
        .await;
    assert!(r.engine.is_online(ProviderKind::Bakong));
    assert_eq!(
        r.engine.payment(&first).unwrap().state,
        PaymentState::AwaitingCustomer
    );
}

/// L1 (Bakong side): money paid in a currency Till does not know is neither
/// settled nor failed: it is flagged for a manager.
#[tokio::test]
async fn unknown_currency_is_flagged_not_failed() {
    let r = rig().await;
    let (id, qr, _) = show(&r, usd("5.00")).await;
    let resp = r
        .http
        .post(r.url("/sim/bakong/pay"))
        .json(&serde_json::json!({"qr": qr, "fromAccountId": "customer@aclb", "currency": "EUR"}))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.text().await.unwrap());
    let p = r
        .wait_state(&id, PaymentState::Flagged, Duration::from_secs(10))
        .await;
    assert!(
        p.flag.as_deref().unwrap().starts_with("unreadable_payment"),
        "{p:?}"
    );
    assert!(p.refs.transaction.is_some());
    assert_eq!(
        open_journal(&r)
            .outbox_count_for(&id, EventType::PaymentSettled)
            .unwrap(),
        0
    );
}

/// M3: the customer pays a second before the code expires; Bakong shows the
/// payment only later. The check at expiry finds nothing and the code
/// expires — but the payment's own time is before the expiry, so when it is
/// seen it settles normally (not "paid after expiry").
#[tokio::test]
async fn paid_before_expiry_but_seen_after_it_settles() {
    let mut sb = sandbox_config();
    // Bakong shows a transaction to checks a minute after it is made.
    sb.bakong.visible_after_ms = 60_000;
    let r = rig_with(sb, &[]).await;
    let (id, qr, _) = show(&r, khr("7000")).await;
    r.bakong_pay(&qr, None).await;
    // The code's expiry passes; the check then finds nothing yet.
    r.clock.advance(Duration::from_secs(
        r.engine.config().khqr.expiry_seconds + 1,
    ));
    r.wait_state(&id, PaymentState::Expired, Duration::from_secs(10))
        .await;
    // Bakong now shows it; the poller looks again within the grace period
    // (a new charge wakes it once the code's next check is due).
    r.sandbox.clock().advance(Duration::from_secs(61));
    r.clock.advance(Duration::from_secs(31));
    show(&r, khr("100")).await;
    wait_for("the late payment to be seen", || {
        let p = r.engine.payment(&id).unwrap();
        p.state != PaymentState::Expired || p.flag.is_some()
    })
    .await;
    let p = r.engine.payment(&id).unwrap();
    assert_eq!(p.state, PaymentState::Settled, "{p:?}");
    assert!(p.flag.is_none(), "{p:?}");
    assert!(p.refs.transaction.is_some());
    assert_eq!(
        open_journal(&r)
            .outbox_count_for(&id, EventType::PaymentSettled)
            .unwrap(),
        1
    );
}

/// M1: the cashier cancels a KHQR but the customer's phone still has it and
/// they pay. The poller goes on watching the cancelled code while it is
/// valid, and flags `paid_after_cancel` at once — an event the cashier's
/// screen hears.
#[tokio::test]
async fn cancelled_code_paid_anyway_is_flagged_at_once() {
    let r = rig().await;
    let (id, qr, _) = show(&r, khr("9000")).await;
    let p = r.engine.cancel(&id, "cashier-1").await.unwrap();
    assert_eq!(p.state, PaymentState::Cancelled);
    let mut events = r.engine.subscribe();
    r.bakong_pay(&qr, None).await;
    let flagged = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            if let Ok(till_core::EngineEvent::Payment { payment }) = events.recv().await {
                if payment.id == id && payment.flag.is_some() {
                    return payment;
                }
            }
        }
    })
    .await
    .expect("the cashier hears of the payment while the code is still valid");
    assert_eq!(flagged.state, PaymentState::Cancelled);
    assert_eq!(flagged.flag.as_deref(), Some("paid_after_cancel: 9000 KHR"));
    assert!(flagged.refs.transaction.is_some());
    assert_eq!(
        open_journal(&r)
            .outbox_count_for(&id, EventType::PaymentSettled)
            .unwrap(),
        0
    );
}

/// A rig whose Bakong answers every call with `rule`, and tight offline caps.
async fn offline_rig(rule: serde_json::Value) -> Rig {
    let r = rig_with(
        sandbox_config(),
        &[
            (
                "TILL__OFFLINE__MAX_UNVERIFIED_PER_PAYMENT",
                "{ USD = \"20.00\", KHR = \"80000\" }",
            ),
            (
                "TILL__OFFLINE__MAX_UNVERIFIED_PER_DAY",
                "{ USD = \"30.00\", KHR = \"100000\" }",
            ),
        ],
    )
    .await;
    r.sandbox
        .add_faults([serde_json::from_value::<FaultRule>(rule).unwrap()]);
    // A code makes the poller ask; wait until it has seen Bakong fail.
    show(&r, khr("100")).await;
    wait_for("the poller to see Bakong fail", || {
        !r.engine.is_online(ProviderKind::Bakong)
    })
    .await;
    r
}

/// M2: cancelling an unverified code does not free its share of the day's
/// cap: the customer's phone may still pay it.
#[tokio::test]
async fn cancelled_offline_code_still_counts_against_the_days_cap() {
    let r =
        offline_rig(serde_json::json!({"endpoint": "bakong.*", "kind": "status", "status": 503}))
            .await;
    let (id, _, _) = show(&r, usd("15.00")).await;
    assert!(r.engine.payment(&id).unwrap().offline);
    r.engine.cancel(&id, "cashier-1").await.unwrap();
    let err = r
        .engine
        .charge(ProviderKind::Bakong, usd("16.00"), "c")
        .await
        .expect_err("15 + 16 is above the day's 30 even with the 15 cancelled");
    assert!(err.to_string().contains("day"), "{err}");
    // Under the cap is still fine.
    show(&r, usd("15.00")).await;
}

/// M2: Bakong refusing our token cannot verify payments either: that is
/// offline, and the caps apply.
#[tokio::test]
async fn refused_bakong_token_counts_as_offline() {
    let r = offline_rig(serde_json::json!({"endpoint": "bakong.*", "kind": "token_expired"})).await;
    let err = r
        .engine
        .charge(ProviderKind::Bakong, usd("25.00"), "c")
        .await
        .expect_err("above the per-payment cap while Bakong cannot verify");
    assert!(err.to_string().contains("limit"), "{err}");
    let (id, _, _) = show(&r, usd("10.00")).await;
    assert!(r.engine.payment(&id).unwrap().offline);
}

/// H3 (first part): Bakong reports the code paid, but to another account
/// than the one the code named. Not our money: flagged, never settled.
#[tokio::test]
async fn payment_to_another_account_is_flagged_not_settled() {
    let r = rig().await;
    let (id, qr, _) = show(&r, khr("12000")).await;
    let resp = r
        .http
        .post(r.url("/sim/bakong/pay"))
        .json(&serde_json::json!({
            "qr": qr, "fromAccountId": "customer@aclb", "toAccountId": "someone_else@abaa"
        }))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.text().await.unwrap());
    let p = r
        .wait_state(&id, PaymentState::Flagged, Duration::from_secs(10))
        .await;
    let flag = p.flag.clone().unwrap();
    assert!(flag.starts_with("account_mismatch"), "{p:?}");
    assert!(
        flag.contains("someone_else@abaa") && flag.contains("till_demo@devb"),
        "{flag}"
    );
    assert_eq!(
        open_journal(&r)
            .outbox_count_for(&id, EventType::PaymentSettled)
            .unwrap(),
        0
    );
}
