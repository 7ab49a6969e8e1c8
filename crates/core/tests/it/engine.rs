//! Engine-wide behaviour: demo provider, events, recovery, refusals, and
//! that no configured secret reaches the journal.

use crate::bkash::open_journal;
use crate::util::*;
use std::time::Duration;
use till_core::secrets::{names, SecretStore};
use till_core::{EngineEvent, PaymentState, ProviderKind};

#[tokio::test]
async fn demo_settles_by_itself_and_events_follow() {
    let r = rig().await;
    let mut rx = r.engine.subscribe();
    let c = r
        .engine
        .charge(ProviderKind::Demo, bdt("10.00"), "cashier-1")
        .await
        .unwrap();
    let p = r
        .wait_state(&c.payment.id, PaymentState::Settled, Duration::from_secs(5))
        .await;
    assert!(p.refs.transaction.unwrap().starts_with("DEMO"));
    let mut seen = Vec::new();
    while let Ok(Ok(ev)) = tokio::time::timeout(Duration::from_millis(50), rx.recv()).await {
        if let EngineEvent::Payment { payment } = ev {
            if payment.id == c.payment.id {
                seen.push(payment.state);
            }
        }
    }
    assert_eq!(seen.first(), Some(&PaymentState::Created));
    assert_eq!(seen.last(), Some(&PaymentState::Settled));
    assert!(seen.contains(&PaymentState::AwaitingCustomer));
}

#[tokio::test]
async fn refusals_are_clear_and_write_nothing() {
    let r = rig().await;
    let err = r
        .engine
        .charge(ProviderKind::Bkash, usd("5.00"), "c")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("does not take USD"), "{err}");
    let err = r
        .engine
        .charge(ProviderKind::Bakong, bdt("5.00"), "c")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("does not take BDT"), "{err}");
    assert!(r
        .engine
        .list(&till_core::ListFilter {
            page: 1,
            page_size: 10,
            ..Default::default()
        })
        .unwrap()
        .is_empty());
    // Cancelling a settled payment is refused.
    let c = r
        .engine
        .charge(ProviderKind::Demo, bdt("1.00"), "c")
        .await
        .unwrap();
    r.wait_state(&c.payment.id, PaymentState::Settled, Duration::from_secs(5))
        .await;
    let err = r.engine.cancel(&c.payment.id, "c").await.unwrap_err();
    assert!(err.to_string().contains("cannot be cancelled"), "{err}");
    // Bakong has no refund API: said before anything is written.
    let err = r.engine.refund("nope", None, None, "m").await.unwrap_err();
    assert!(err.to_string().contains("no payment"), "{err}");
}

#[tokio::test]
async fn demo_payment_open_at_crash_is_settled_on_restart() {
    let r = rig_with(sandbox_config(), &[("TILL__DEMO__SETTLE_AFTER_MS", "1500")]).await;
    let c = r
        .engine
        .charge(ProviderKind::Demo, bdt("3.00"), "c")
        .await
        .unwrap();
    r.engine.shutdown().await; // "killed" before it settled
    let p = r.engine.payment(&c.payment.id).unwrap();
    assert_eq!(
        p.state,
        PaymentState::AwaitingCustomer,
        "{p:#?} {:#?}",
        r.engine.events_of(&p.id)
    );
    let again = r.reopen().await;
    let p = again
        .wait_final(&c.payment.id, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(p.state, PaymentState::Settled);
    again.shutdown().await;
}

#[tokio::test]
async fn bkash_unreachable_at_create_fails_clearly_and_reports_offline() {
    let r = rig_with(
        sandbox_config(),
        &[("TILL__BKASH__BASE_URL", "http://127.0.0.1:9/v1.2.0-beta")],
    )
    .await;
    let err = r
        .engine
        .charge(ProviderKind::Bkash, bdt("5.00"), "c")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("cannot be reached"), "{err}");
    assert!(!r.engine.is_online(ProviderKind::Bkash));
    let list = r
        .engine
        .list(&till_core::ListFilter {
            page: 1,
            page_size: 10,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].state, PaymentState::Failed);
    assert!(
        list[0].invoice.starts_with("till-01-"),
        "the invoice was written first"
    );
}

#[tokio::test]
async fn no_secret_reaches_the_journal() {
    let r = rig().await;
    // Exercise every provider once, including a token renewal.
    let c = r
        .engine
        .charge(ProviderKind::Bkash, bdt("77.00"), "c")
        .await
        .unwrap();
    let pid = c.payment.refs.lookup.clone().unwrap();
    let back = r.bkash_customer(&pid, "01770618575", "pay").await;
    r.engine.callback(&back).await.unwrap();
    let k = r
        .engine
        .charge(ProviderKind::Bakong, khr("5000"), "c")
        .await
        .unwrap();
    if let till_core::CustomerStep::Code { code: khqr, .. } = &k.step {
        r.bakong_pay(khqr, None).await;
    }
    r.wait_state(
        &k.payment.id,
        PaymentState::Settled,
        Duration::from_secs(10),
    )
    .await;
    r.engine.shutdown().await;
    drop(open_journal(&r));
    let mut secrets = Vec::new();
    for n in names::ALL {
        if let Some(s) = r.secrets.get(n).unwrap() {
            secrets.push((n, s.expose().to_owned()));
        }
    }
    assert!(secrets.len() >= 5);
    let mut scanned = 0;
    for entry in std::fs::read_dir(r.home.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            scanned += bytes.len();
            for (name, value) in &secrets {
                assert!(
                    !bytes.windows(value.len()).any(|w| w == value.as_bytes()),
                    "{name} found in {}",
                    path.display()
                );
            }
        }
    }
    assert!(
        scanned > 10_000,
        "the journal was written ({scanned} bytes)"
    );
}

#[tokio::test]
async fn keyring_round_trip() {
    let store = till_core::secrets::KeyringStore::new(format!("till-test-{}", ulid::Ulid::new()));
    let s = till_core::secrets::Secret::new("whsec_test_value");
    store.set(names::HUB_SECRET, &s).unwrap();
    assert_eq!(store.get(names::HUB_SECRET).unwrap(), Some(s));
    store.delete(names::HUB_SECRET).unwrap();
    assert_eq!(store.get(names::HUB_SECRET).unwrap(), None);
    assert!(store.get("not.a.secret").is_err());
}
