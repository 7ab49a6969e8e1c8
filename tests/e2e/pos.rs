//! Scenario 10: the shop's POS through the local API (issue 16 §4), in the real app: the
//! manager pairs "POS 1" in the POS tab (the key shown once); the POS starts a KHQR charge
//! over HTTP; the cashier's screen says it comes from POS 1 with its order, the customer
//! display shows its code, and the cashier's Esc cancels it — the POS reads `cancelled`. A
//! second, demo charge is paid; the POS asks for a refund, and the manager approves it in
//! the POS tab; the POS reads `refunded`.

use crate::util::*;
use anyhow::{Context, Result};
use fantoccini::{key::Key, Locator};
use serde_json::{json, Value};
use std::time::Duration;
use till_tests::{free_port, AppOptions, AppSession};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pos_charges_through_the_local_api() -> Result<()> {
    let port = free_port();
    let app = AppSession::start_with(
        "pos",
        AppOptions {
            env: vec![
                ("TILL__API__ENABLED".into(), "true".into()),
                ("TILL__API__LISTEN".into(), format!("127.0.0.1:{port}")),
                ("TILL__DEMO__SETTLE_AFTER_MS".into(), "300".into()),
            ],
            till_toml: None,
        },
    )
    .await?;
    let result = within(Duration::from_secs(240), run(&app, port)).await;
    finish(app, "pos", result).await
}

/// A charge's status as the POS reads it.
async fn status_of(http: &reqwest::Client, base: &str, key: &str, id: &str) -> Result<String> {
    let v: Value = http
        .get(format!("{base}/v1/charges/{id}"))
        .bearer_auth(key)
        .send()
        .await?
        .json()
        .await?;
    Ok(v["status"].as_str().unwrap_or_default().to_owned())
}

async fn run(app: &AppSession, port: u16) -> Result<()> {
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    // The manager pairs the POS: F9, a PIN on first use, the POS tab.
    app.switch_to_window_titled("Cashier").await?;
    keys(app, &key(Key::F9)).await?;
    app.switch_to_window_titled("Manager").await?;
    choose_pin(app, "246813").await?;
    click(app, ".tabs button[data-tab='pos']").await?;
    wait_for("the API on", Duration::from_secs(10), || async {
        Ok(text(app, "pos-state")
            .await?
            .contains(&port.to_string())
            .then_some(()))
    })
    .await?;
    app.client
        .find(Locator::Id("pos-name"))
        .await?
        .send_keys("POS 1")
        .await?;
    click(app, "#pos-pair").await?;
    let token = wait_for("the key, shown once", Duration::from_secs(10), || async {
        let t = text(app, "pos-token").await.unwrap_or_default();
        Ok(t.starts_with("pos_").then_some(t))
    })
    .await?;
    let keys_shot = app.screenshot("pos-manager-paired").await?;
    let keys_table = text(app, "pos-keys").await?;
    assert!(keys_table.contains("POS 1"), "{keys_table}");
    assert!(
        !keys_table.contains(token.split_once('.').context("a dot")?.1),
        "the list never shows the secret"
    );

    // The POS starts a KHQR charge; the cashier and the customer see it.
    let r = http
        .post(format!("{base}/v1/charges"))
        .bearer_auth(&token)
        .json(
            &json!({"amount": "4000", "currency": "KHR", "wallet": "bakong", "reference": "E2E-1"}),
        )
        .send()
        .await?;
    assert_eq!(r.status(), 201);
    let charge: Value = r.json().await?;
    let id = charge["id"].as_str().context("an id")?.to_owned();
    app.switch_to_window_titled("Cashier").await?;
    status_contains(app, "Waiting for customer", Duration::from_secs(10)).await?;
    let origin = wait_for("the POS named", Duration::from_secs(10), || async {
        let t = text(app, "origin").await?;
        Ok((!t.is_empty()).then_some(t))
    })
    .await?;
    assert_eq!(origin, "From POS 1 · order E2E-1");
    assert_eq!(
        text(app, "amount-digits").await?,
        "4,000",
        "the POS's amount, as if keyed"
    );
    let cashier_shot = app.screenshot("pos-cashier-waiting").await?;
    app.switch_to_window_titled("Customer").await?;
    let qr = displayed_khqr(app, None).await?;
    assert_eq!(
        Some(qr.as_str()),
        charge["customer"]["code"].as_str(),
        "the POS's charge is on the display"
    );
    // A second charge waits while the display is busy with this one.
    let busy = http
        .post(format!("{base}/v1/charges"))
        .bearer_auth(&token)
        .json(&json!({"amount": "10", "currency": "BDT", "wallet": "demo", "reference": "E2E-X"}))
        .send()
        .await?;
    assert_eq!(busy.status(), 409);
    // The cashier can still cancel it.
    app.switch_to_window_titled("Cashier").await?;
    keys(app, &key(Key::Escape)).await?;
    status_contains(app, "Cancelled", Duration::from_secs(10)).await?;
    assert_eq!(status_of(&http, &base, &token, &id).await?, "cancelled");

    // A paid demo charge, a refund request, the manager's approval in the POS tab.
    let paid: Value = http
        .post(format!("{base}/v1/charges"))
        .bearer_auth(&token)
        .json(
            &json!({"amount": "10.00", "currency": "BDT", "wallet": "demo", "reference": "E2E-2"}),
        )
        .send()
        .await?
        .json()
        .await?;
    let paid_id = paid["id"].as_str().context("an id")?.to_owned();
    wait_for("the demo charge paid", Duration::from_secs(15), || async {
        Ok((status_of(&http, &base, &token, &paid_id).await? == "paid").then_some(()))
    })
    .await?;
    let req = http
        .post(format!("{base}/v1/charges/{paid_id}/refund-requests"))
        .bearer_auth(&token)
        .json(&json!({"reason": "returned"}))
        .send()
        .await?;
    assert_eq!(req.status(), 201);
    app.switch_to_window_titled("Manager").await?;
    click(app, ".tabs button[data-tab='pos']").await?;
    wait_for("the request listed", Duration::from_secs(10), || async {
        Ok(app.client.find(Locator::Css(".pos-approve")).await.ok())
    })
    .await?;
    let request_shot = app.screenshot("pos-manager-request").await?;
    click(app, ".pos-approve").await?;
    wait_for("the refund", Duration::from_secs(15), || async {
        Ok((status_of(&http, &base, &token, &paid_id).await? == "refunded").then_some(()))
    })
    .await?;
    println!("screenshots: {keys_shot:?} {cashier_shot:?} {request_shot:?}");
    Ok(())
}
