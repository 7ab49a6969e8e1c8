//! Scenario 2: bKash: the customer display's webview loads the sandbox checkout page;
//! the test fills wallet, OTP and PIN in it; the app catches the callback
//! inside the webview, executes and shows paid.
//! Scenario 3: The customer closes the page, and a wallet without balance: each ends
//! with its own clear message.

use crate::util::*;
use anyhow::{Context, Result};
use fantoccini::{key::Key, Locator};
use std::time::Duration;
use till_tests::AppSession;

/// Fill the sandbox checkout page step by step: wallet, OTP, PIN.
async fn checkout(app: &AppSession, sandbox: &str, wallet: &str, close: bool) -> Result<()> {
    switch_to_url(app, sandbox, Duration::from_secs(15)).await?;
    let input = wait_for("the wallet field", Duration::from_secs(15), || async {
        Ok(app.client.find(Locator::Id("wallet")).await.ok())
    })
    .await?;
    if close {
        click_and_leave(app, "button[value='cancel']").await?;
        return Ok(());
    }
    input.send_keys(wallet).await?;
    click(app, "button[value='pay']").await?;
    let otp = wait_for("the OTP field", Duration::from_secs(15), || async {
        Ok(app.client.find(Locator::Id("otp")).await.ok())
    })
    .await?;
    otp.send_keys("123456").await?;
    click(app, "button[value='pay']").await?;
    let pin = wait_for("the PIN field", Duration::from_secs(15), || async {
        Ok(app.client.find(Locator::Id("pin")).await.ok())
    })
    .await?;
    pin.send_keys("12121").await?;
    click_and_leave(app, "button[value='pay']").await?;
    Ok(())
}

async fn charge_bkash(app: &AppSession, amount: &str) -> Result<()> {
    app.switch_to_window_titled("Cashier").await?;
    click(app, ".cur[data-currency='BDT']").await?;
    keys(app, amount).await?;
    keys(app, &key(Key::F1)).await?;
    status_contains(app, "bKash page", Duration::from_secs(15)).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bkash_checkout_in_the_customer_webview() -> Result<()> {
    let app = AppSession::start("bkash").await?;
    let result = within(Duration::from_secs(300), run(&app)).await;
    finish(app, "bkash", result).await
}

async fn run(app: &AppSession) -> Result<()> {
    {
        let sandbox = demo_endpoints(app).await?["sandbox_url"]
            .as_str()
            .context("sandbox_url")?
            .trim_end_matches('/')
            .to_string();

        // 2. A payment through the page.
        charge_bkash(app, "1250.5").await?;
        app.switch_to_window_titled("Customer").await?;
        customer_screen(app, "wallet", Duration::from_secs(5)).await?;
        let wallet_shot = app.screenshot("bkash-customer-behind-page").await?;
        let body = app.client.find(Locator::Css("body")).await?.text().await?;
        assert!(body.contains("৳ 1,250.50"), "{body}");
        assert!(body.contains("বিকাশ"), "Bangla beneath English: {body}");

        switch_to_url(app, &sandbox, Duration::from_secs(15)).await?;
        let page_amount = app.client.find(Locator::Id("amount")).await?.text().await?;
        assert!(
            page_amount.contains("1250.50"),
            "checkout page shows {page_amount}"
        );
        // The page has no IPC: the app's commands are not reachable from it.
        let ipc = app
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 const i = window.__TAURI_INTERNALS__;
                 if (!i || !i.invoke) { done('no ipc'); return; }
                 i.invoke('terminal_info').then(() => done('ALLOWED'), (e) => done('denied: ' + e));",
                vec![],
            )
            .await?;
        let ipc = ipc.as_str().unwrap_or_default().to_string();
        assert!(
            !ipc.contains("ALLOWED"),
            "the checkout page reached the app: {ipc}"
        );
        let page_shot = app.screenshot("bkash-checkout-page").await?;
        checkout(app, &sandbox, "01770618575", false).await?;

        app.switch_to_window_titled("Cashier").await?;
        let status = status_contains(app, "Paid", Duration::from_secs(20)).await?;
        assert!(
            status.contains("৳ 1,250.50") && status.contains("trx"),
            "{status}"
        );
        let paid_shot = app.screenshot("bkash-cashier-paid").await?;
        app.switch_to_window_titled("Customer").await?;
        customer_screen(app, "result", Duration::from_secs(5)).await?;
        assert!(text(app, "result-alt").await?.contains("পরিশোধিত"));
        let customer_paid = app.screenshot("bkash-customer-paid").await?;
        // The page is gone (closed once the callback was caught).
        let urls = {
            let mut v = Vec::new();
            for h in app.client.windows().await? {
                if app.client.switch_to_window(h).await.is_ok() {
                    if let Ok(u) = app.client.current_url().await {
                        v.push(u.to_string());
                    }
                }
            }
            v
        };
        assert!(
            !urls.iter().any(|u| u.starts_with(&sandbox)),
            "checkout still open: {urls:?}"
        );

        // 3a. The customer closes the page.
        charge_bkash(app, "310").await?;
        checkout(app, &sandbox, "", true).await?;
        app.switch_to_window_titled("Cashier").await?;
        let cancelled = status_contains(app, "Cancelled", Duration::from_secs(20)).await?;
        let cancel_shot = app.screenshot("bkash-cashier-cancelled").await?;

        // 3b. A wallet without enough balance.
        keys(app, &key(Key::Escape)).await?;
        charge_bkash(app, "420").await?;
        checkout(app, &sandbox, "01823074817", false).await?;
        app.switch_to_window_titled("Cashier").await?;
        let declined = status_contains(app, "Declined", Duration::from_secs(20)).await?;
        assert!(
            declined.contains("try again"),
            "says what to do next: {declined}"
        );
        assert_ne!(declined, cancelled);
        let declined_shot = app.screenshot("bkash-cashier-declined").await?;
        app.switch_to_window_titled("Customer").await?;
        customer_screen(app, "result", Duration::from_secs(5)).await?;
        assert_eq!(
            attr(app, "result", "data-outcome").await?.as_deref(),
            Some("failed")
        );
        let customer_declined = app.screenshot("bkash-customer-declined").await?;

        println!(
            "bKash: declined says {declined:?}; cancelled says {cancelled:?}\nscreenshots: customer behind page {} · checkout page {} · cashier paid {} · customer paid {} · cashier cancelled {} · cashier declined {} · customer declined {}",
            wallet_shot.display(),
            page_shot.display(),
            paid_shot.display(),
            customer_paid.display(),
            cancel_shot.display(),
            declined_shot.display(),
            customer_declined.display()
        );
        Ok(())
    }
}
