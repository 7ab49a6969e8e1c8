//! Scenario 7: Nagad, the third wallet, through the same window as bKash: F4
//! opens Nagad's page (the sandbox's, in the checkout webview over the
//! customer display), the test fills number, code and PIN in it, the app
//! catches the callback inside the webview and verifies; paid on both
//! screens, the customer's in Bangla. Then a wrong PIN: declined, said so;
//! and once more for a cashier reading Bangla, said with no English word.

use crate::util::*;
use anyhow::{Context, Result};
use fantoccini::{key::Key, Locator};
use std::time::Duration;
use till_tests::AppSession;

/// Number → verification code → PIN on the sandbox's Nagad page.
async fn pay_on_page(app: &AppSession, page: &str, wallet: &str, pin: &str) -> Result<()> {
    switch_to_url(app, page, Duration::from_secs(15)).await?;
    let number = wait_for("the wallet number", Duration::from_secs(15), || async {
        Ok(app.client.find(Locator::Id("wallet")).await.ok())
    })
    .await?;
    number.send_keys(wallet).await?;
    click(app, "button[value='pay']").await?;
    let otp = wait_for("the verification code", Duration::from_secs(15), || async {
        Ok(app.client.find(Locator::Id("otp")).await.ok())
    })
    .await?;
    otp.send_keys("123456").await?;
    click(app, "button[value='pay']").await?;
    let field = wait_for("the PIN", Duration::from_secs(15), || async {
        Ok(app.client.find(Locator::Id("pin")).await.ok())
    })
    .await?;
    field.send_keys(pin).await?;
    click_and_leave(app, "button[value='pay']").await?;
    Ok(())
}

async fn charge_nagad(app: &AppSession, amount: &str) -> Result<()> {
    app.switch_to_window_titled("Cashier").await?;
    click(app, ".cur[data-currency='BDT']").await?;
    keys(app, amount).await?;
    keys(app, &key(Key::F4)).await?;
    status_contains(app, "Nagad page", Duration::from_secs(15)).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nagad_checkout_in_the_customer_webview() -> Result<()> {
    let app = AppSession::start("nagad").await?;
    let result = within(Duration::from_secs(300), run(&app)).await;
    finish(app, "nagad", result).await
}

async fn run(app: &AppSession) -> Result<()> {
    let sandbox = demo_endpoints(app).await?["sandbox_url"]
        .as_str()
        .context("sandbox_url")?
        .trim_end_matches('/')
        .to_string();
    let page = format!("{sandbox}/pay/nagad/");

    // The wallet's button is there, with its key, made from what the terminal says
    // (in taka: in riel its hint says it does not take KHR).
    app.switch_to_window_titled("Cashier").await?;
    click(app, ".cur[data-currency='BDT']").await?;
    let hint = app
        .client
        .find(Locator::Css("#charge-nagad .hint"))
        .await?
        .text()
        .await?;
    assert!(hint.starts_with("F4"), "Nagad's key: {hint}");

    // 7a. Paid on the page.
    charge_nagad(app, "520").await?;
    app.switch_to_window_titled("Customer").await?;
    customer_screen(app, "wallet", Duration::from_secs(5)).await?;
    let body = app.client.find(Locator::Css("body")).await?.text().await?;
    assert!(body.contains("৳ 520.00"), "{body}");
    assert!(body.contains("নগদ"), "the wallet's name in Bangla: {body}");
    assert!(
        body.contains("পেজে পরিশোধ"),
        "Bangla beneath English: {body}"
    );
    let behind = app.screenshot("nagad-customer-behind-page").await?;
    switch_to_url(app, &page, Duration::from_secs(15)).await?;
    let shown = app.client.find(Locator::Id("amount")).await?.text().await?;
    assert!(shown.contains("520"), "Nagad's page shows {shown}");
    let page_shot = app.screenshot("nagad-page").await?;
    pay_on_page(app, &page, "01711111111", "1234").await?;
    app.switch_to_window_titled("Cashier").await?;
    let paid = status_contains(app, "Paid", Duration::from_secs(20)).await?;
    assert!(paid.contains("৳ 520.00"), "{paid}");
    let paid_shot = app.screenshot("nagad-cashier-paid").await?;
    app.switch_to_window_titled("Customer").await?;
    customer_screen(app, "result", Duration::from_secs(5)).await?;
    assert!(text(app, "result-alt").await?.contains("পরিশোধিত"));
    let customer_paid = app.screenshot("nagad-customer-paid").await?;

    // 7b. A wrong PIN on the page: verify says failed, and the cashier is told.
    app.switch_to_window_titled("Cashier").await?;
    keys(app, &key(Key::Escape)).await?;
    charge_nagad(app, "75").await?;
    pay_on_page(app, &page, "01711111111", "9999").await?;
    app.switch_to_window_titled("Cashier").await?;
    let declined = status_contains(app, "Declined", Duration::from_secs(20)).await?;
    assert!(declined.contains("Nagad"), "says which wallet: {declined}");
    let declined_shot = app.screenshot("nagad-cashier-declined").await?;

    // 7c. The same decline for a cashier who reads Bangla: every word of it in
    // Bangla (the reason travels as a code, not as the engine's English).
    click(app, "#lang").await?;
    keys(app, &key(Key::Escape)).await?;
    click(app, ".cur[data-currency='BDT']").await?;
    keys(app, "80").await?;
    keys(app, &key(Key::F4)).await?;
    status_contains(app, "পেজে গ্রাহকের অপেক্ষা", Duration::from_secs(15)).await?;
    pay_on_page(app, &page, "01711111111", "9999").await?;
    app.switch_to_window_titled("Cashier").await?;
    let declined_bn = status_contains(app, "প্রত্যাখ্যাত", Duration::from_secs(20)).await?;
    assert!(
        declined_bn.contains("নগদ"),
        "the wallet, in Bangla: {declined_bn}"
    );
    assert!(
        !declined_bn.chars().any(|c| c.is_ascii_alphabetic()),
        "an English word in the Bangla decline: {declined_bn}"
    );
    let declined_bn_shot = app.screenshot("nagad-cashier-declined-bangla").await?;
    click(app, "#lang").await?;

    // A sound per ended payment, exactly once each: paid, then two declines.
    let heard = sounds_heard(app).await?;
    let cues: Vec<&str> = heard
        .iter()
        .map(|h| h.split(':').next().unwrap_or(""))
        .collect();
    assert_eq!(
        cues,
        ["paid", "declined", "declined"],
        "sounds played: {heard:?}"
    );
    let ids: std::collections::HashSet<&str> =
        heard.iter().filter_map(|h| h.split(':').nth(1)).collect();
    assert_eq!(ids.len(), 3, "one sound per payment: {heard:?}");

    println!(
        "Nagad: paid says {paid:?}; declined says {declined:?}; in Bangla {declined_bn:?}\nscreenshots: customer behind page {} · Nagad page {} · cashier paid {} · customer paid {} · cashier declined {} · in Bangla {}",
        behind.display(),
        page_shot.display(),
        paid_shot.display(),
        customer_paid.display(),
        declined_shot.display(),
        declined_bn_shot.display()
    );
    Ok(())
}
