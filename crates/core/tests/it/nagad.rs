//! Nagad through the engine against the sandbox's Nagad: the same hosted-page
//! flow as bKash (engine/hosted.rs) without a completion call — verify is the
//! only proof.

use crate::bkash::open_journal;
use crate::util::*;
use std::time::Duration;
use till_core::journal::outbox::EventType;
use till_core::{CustomerStep, PaymentState, ProviderKind};

const WALLET: &str = "01711111111";
const PIN: &str = "1234";

/// A Nagad charge shown to the customer: (payment id, Nagad's reference).
async fn start(r: &Rig, amount: &str) -> (String, String) {
    let c = r
        .engine
        .charge(ProviderKind::Nagad, bdt(amount), "cashier-1")
        .await
        .expect("a Nagad charge starts");
    let CustomerStep::Redirect {
        redirect_url,
        callback_url,
    } = &c.step
    else {
        panic!("expected Nagad's page: {:?}", c.step)
    };
    assert!(redirect_url.contains("/pay/nagad/"), "{redirect_url}");
    assert!(callback_url.ends_with("/nagad/callback"), "{callback_url}");
    assert_eq!(c.payment.state, PaymentState::AwaitingCustomer);
    let reference = c.payment.refs.lookup.clone().expect("paymentRefId stored");
    (c.payment.id, reference)
}

#[tokio::test]
async fn paid_on_the_page_settles_by_verify_and_reaches_the_outbox() {
    let r = rig().await;
    let (id, reference) = start(&r, "125.50").await;
    let back = r.nagad_customer(&reference, WALLET, PIN, "pay").await;
    assert!(r.engine.is_callback(&back), "{back}");
    let p = r.engine.callback(&back).await.unwrap();
    assert_eq!(p.state, PaymentState::Settled, "{p:#?}");
    assert!(
        p.refs.transaction.is_some(),
        "Nagad's issuer reference is kept"
    );
    assert_eq!(p.payee.as_deref(), Some("nagad-merchant-683000000000017"));
    // Settled once, one outbox record; a repeated callback changes nothing.
    let again = r.engine.callback(&back).await.unwrap();
    assert_eq!(again.state, PaymentState::Settled);
    assert_eq!(
        open_journal(&r)
            .outbox_count_for(&id, EventType::PaymentSettled)
            .unwrap(),
        1
    );
    let events = r.engine.events_of(&id).unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.detail.as_deref() == Some("payment status after approval")),
        "{events:#?}"
    );
}

#[tokio::test]
async fn a_wrong_pin_fails_and_a_cancel_is_asked_of_verify() {
    let r = rig().await;
    let (_, reference) = start(&r, "10.00").await;
    let back = r.nagad_customer(&reference, WALLET, "9999", "pay").await;
    let p = r.engine.callback(&back).await.unwrap();
    assert_eq!(p.state, PaymentState::Failed, "{p:#?}");
    assert!(
        p.failure_reason
            .as_deref()
            .unwrap_or_default()
            .contains("Nagad"),
        "{p:?}"
    );

    let (_, reference) = start(&r, "11.00").await;
    let back = r.nagad_customer(&reference, WALLET, PIN, "cancel").await;
    let p = r.engine.callback(&back).await.unwrap();
    assert!(
        matches!(p.state, PaymentState::Failed | PaymentState::Cancelled),
        "{p:#?}"
    );
}

/// A success redirect typed by hand, for a payment nobody paid: the callback
/// is a hint, verify says not paid, and the payment stays open (never settled).
#[tokio::test]
async fn a_forged_success_callback_settles_nothing() {
    let r = rig().await;
    let (id, reference) = start(&r, "50.00").await;
    let mut forged = r.engine.callback_url(ProviderKind::Nagad).unwrap();
    forged
        .query_pairs_mut()
        .append_pair("payment_ref_id", &reference)
        .append_pair("status", "Success")
        .append_pair("status_code", "00_0000_000");
    let p = r.engine.callback(&forged).await.unwrap();
    assert!(!p.state.is_paid(), "{p:#?}");
    assert!(p.state.is_open(), "{p:#?}");
    assert_eq!(
        open_journal(&r)
            .outbox_count_for(&id, EventType::PaymentSettled)
            .unwrap(),
        0
    );
}

/// Nagad has no refund API by default: the engine says so before writing
/// anything, and a manager records the refund made in the portal.
#[tokio::test]
async fn portal_refunds_are_recorded_not_sent() {
    let r = rig().await;
    let (id, reference) = start(&r, "200.00").await;
    let back = r.nagad_customer(&reference, WALLET, PIN, "pay").await;
    assert_eq!(
        r.engine.callback(&back).await.unwrap().state,
        PaymentState::Settled
    );
    let err = r
        .engine
        .refund(&id, None, None, "manager")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("merchant portal"), "{err}");
    assert!(r.engine.refunds_of(&id).unwrap().is_empty());
    // A refund that can go through Till is not recorded by hand.
    let err = r
        .engine
        .record_refund(&id, None, "", None, "manager")
        .unwrap_err();
    assert!(err.to_string().contains("reference"), "{err}");
    let (p, refund) = r
        .engine
        .record_refund(
            &id,
            Some(bdt("50.00")),
            "PORTAL-7731",
            Some("damaged"),
            "manager",
        )
        .unwrap();
    assert_eq!(p.state, PaymentState::PartiallyRefunded);
    assert_eq!(p.refunded, bdt("50.00"));
    assert_eq!(
        refund.provider_refund_id.as_deref(),
        Some("elsewhere:PORTAL-7731")
    );
    assert_eq!(
        open_journal(&r)
            .outbox_count_for(&id, EventType::PaymentRefunded)
            .unwrap(),
        1
    );
    // Nothing reached Nagad's refund route.
    let ledger = r.ledger().await;
    assert!(
        !ledger.to_string().contains("purchase/cancel"),
        "no refund call: {ledger}"
    );
    let audit = r.engine.audit_log(10).unwrap();
    assert!(
        audit.iter().any(|a| a.action == "payment.refund_recorded"
            && a.detail
                .as_deref()
                .unwrap_or_default()
                .contains("PORTAL-7731")),
        "{audit:#?}"
    );
    // A bKash payment refunds through its API: recording one by hand is refused.
    let c = r
        .engine
        .charge(ProviderKind::Demo, bdt("5.00"), "c")
        .await
        .unwrap();
    r.wait_state(&c.payment.id, PaymentState::Settled, Duration::from_secs(5))
        .await;
    let err = r
        .engine
        .record_refund(&c.payment.id, None, "X-1", None, "manager")
        .unwrap_err();
    assert!(err.to_string().contains("refunds through Till"), "{err}");
}

/// Reconciliation asks Nagad again for each of the day's payments.
#[tokio::test]
async fn reconciliation_verifies_the_days_nagad_payments() {
    let r = rig().await;
    let (id, reference) = start(&r, "75.00").await;
    let back = r.nagad_customer(&reference, WALLET, PIN, "pay").await;
    r.engine.callback(&back).await.unwrap();
    let rec = r.engine.reconcile(r.engine.today()).await.unwrap();
    let json = serde_json::to_value(&rec).unwrap();
    let section = json["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["provider"] == "nagad")
        .unwrap_or_else(|| panic!("a Nagad section: {json:#}"));
    assert_eq!(section["status"], "checked", "{section:#}");
    assert_eq!(section["checked"], 1, "{section:#}");
    assert_eq!(section["agreed"], 1, "{section:#}");
    let with_nagad: Vec<_> = rec
        .disagreements
        .iter()
        .filter(|d| d.provider == Some(ProviderKind::Nagad))
        .collect();
    assert!(
        with_nagad.is_empty(),
        "journal and Nagad agree on {id}: {with_nagad:#?}"
    );
}
