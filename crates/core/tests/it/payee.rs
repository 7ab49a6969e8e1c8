//! H3: the receiving account (the payee) is recorded with each payment and
//! carried by its outbox event; a payee setting changed while Till was not
//! running is audited with the old and the new value when the engine opens.

use crate::bkash::open_journal;
use crate::util::*;
use std::time::Duration;
use till_core::{Config, CustomerStep, Engine, EngineOptions, PaymentState, ProviderKind};

#[tokio::test]
async fn a_khqr_payment_records_its_account_and_the_event_carries_it() {
    let r = rig().await;
    let account = r.engine.config().khqr.bakong_account_id.clone();
    let c = r
        .engine
        .charge(ProviderKind::Bakong, khr("15000"), "cashier-1")
        .await
        .unwrap();
    let CustomerStep::Code { code: khqr, .. } = c.step else {
        panic!("expected a KHQR")
    };
    // Recorded when the payment is written, before anything is paid.
    let created = serde_json::to_value(r.engine.payment(&c.payment.id).unwrap()).unwrap();
    assert_eq!(created["payee"], account.as_str(), "{created}");
    r.bakong_pay(&khqr, None).await;
    r.wait_state(
        &c.payment.id,
        PaymentState::Settled,
        Duration::from_secs(10),
    )
    .await;
    let records = open_journal(&r).outbox_after(0, 100).unwrap();
    let settled = records
        .iter()
        .find(|o| o.payment_id == c.payment.id && o.event_type == "payment.settled")
        .expect("a settlement record");
    assert_eq!(
        settled.payload["schema"], "till.event/3",
        "{}",
        settled.payload
    );
    assert_eq!(
        settled.payload["payment"]["payee"],
        account.as_str(),
        "{}",
        settled.payload
    );
    // And it is the account the code itself names.
    assert_eq!(
        khqr::decode(&khqr).bakong_account_id.as_deref(),
        Some(account.as_str())
    );
}

/// An engine on the rig's home with `till.toml` holding `toml`.
async fn open_with_toml(r: &Rig, toml: &str) -> Engine {
    std::fs::write(r.home.path().join("till.toml"), toml).unwrap();
    let text = std::fs::read_to_string(r.home.path().join("till.toml")).unwrap();
    let config = Config::from_layers(
        till_core::config::DEFAULTS_TOML,
        Some(("till.toml", &text)),
        r.overrides.clone().into_iter(),
    )
    .unwrap();
    Engine::open(EngineOptions {
        home: r.home.path().to_owned(),
        config,
        secrets: r.secrets.clone(),
        clock: r.clock.clone(),
        background: true,
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn editing_the_account_in_till_toml_between_two_opens_audits_old_and_new() {
    let r = rig().await;
    r.engine.shutdown().await;
    let first = open_with_toml(&r, "[khqr]\nbakong_account_id = \"rahim_store@aclb\"\n").await;
    first.shutdown().await;
    drop(first);
    // Till is not running; someone edits the file.
    let second = open_with_toml(&r, "[khqr]\nbakong_account_id = \"mallory@abaa\"\n").await;
    let audit = second.audit_log(50).unwrap();
    let change = audit
        .iter()
        .find(|a| {
            a.action == "payee.change"
                && a.detail
                    .as_deref()
                    .is_some_and(|d| d.contains("mallory@abaa"))
        })
        .unwrap_or_else(|| panic!("no payee.change audited: {audit:#?}"));
    let detail = change.detail.as_deref().unwrap();
    assert!(
        detail.contains("khqr.bakong_account_id")
            && detail.contains("rahim_store@aclb → mallory@abaa"),
        "{detail}"
    );
    assert_eq!(change.target.as_deref(), Some("bakong"));
    // Opening again with the same file audits nothing more.
    second.shutdown().await;
    drop(second);
    let third = open_with_toml(&r, "[khqr]\nbakong_account_id = \"mallory@abaa\"\n").await;
    let changes = third
        .audit_log(50)
        .unwrap()
        .into_iter()
        .filter(|a| a.action == "payee.change")
        .count();
    assert_eq!(changes, 2, "demo → rahim_store, rahim_store → mallory");
}
