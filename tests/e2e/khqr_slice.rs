//! The first slice: the cashier keys an amount, the customer display shows its KHQR.

use anyhow::{bail, Context, Result};
use fantoccini::{key::Key, Locator};
use rust_decimal::Decimal;
use std::str::FromStr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use till_tests::AppSession;

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// Wait until the customer display carries a KHQR string (or `None` for idle) and return it.
async fn displayed_khqr(app: &AppSession, want_code: bool) -> Result<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let qr = app.client.find(Locator::Id("qr")).await?;
        let value = qr.attr("data-khqr").await?.unwrap_or_default();
        if want_code != value.is_empty() {
            return Ok(value);
        }
        if Instant::now() > deadline {
            bail!(
                "customer display never {}",
                if want_code {
                    "showed a KHQR"
                } else {
                    "went idle"
                }
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn status_text(app: &AppSession) -> Result<String> {
    Ok(app.client.find(Locator::Id("status")).await?.text().await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cashier_amount_appears_as_khqr_on_customer_display() -> Result<()> {
    let app = AppSession::start("khqr_slice").await?;
    // A WebDriver call that never answers must fail the test, not hang CI.
    let result = match tokio::time::timeout(Duration::from_secs(240), run(&app)).await {
        Ok(r) => r,
        Err(_) => Err(anyhow::anyhow!(
            "the end-to-end scenario did not finish within 240 s"
        )),
    };
    if result.is_err() {
        // Leave evidence of what the screens looked like when it went wrong (bounded: the
        // driver may be the thing that is stuck).
        let evidence = async {
            let _ = app.switch_to_window_titled("Cashier").await;
            let _ = app.screenshot("failure-cashier").await;
            let _ = app.switch_to_window_titled("Customer").await;
            let _ = app.screenshot("failure-customer").await;
        };
        let _ = tokio::time::timeout(Duration::from_secs(60), evidence).await;
        return result;
    }
    app.close().await?;
    result
}

async fn run(app: &AppSession) -> Result<()> {
    app.switch_to_window_titled("Cashier").await?;

    // Keyboard: an empty charge is refused with words, not a code.
    let amount = app.client.find(Locator::Id("amount")).await?;
    amount.send_keys(&(Key::Enter).to_string()).await?;
    let status = status_text(app).await?;
    assert!(status.contains("Enter an amount"), "status was {status:?}");

    // Keyboard: USD with Ctrl+2, type 12.5, Enter.
    app.client
        .find(Locator::Css(".cur[data-currency='USD']"))
        .await?
        .click()
        .await?;
    let amount = app.client.find(Locator::Id("amount")).await?;
    amount.send_keys("12.5").await?;
    assert_eq!(amount.attr("data-value").await?.as_deref(), Some("12.5"));
    let shown_digits = app
        .client
        .find(Locator::Id("amount-digits"))
        .await?
        .text()
        .await?;
    assert_eq!(shown_digits, "12.5");
    let before = now_ms();
    amount.send_keys(&(Key::Enter).to_string()).await?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !status_text(app).await?.contains("Waiting for customer") {
        if Instant::now() > deadline {
            bail!(
                "cashier status never said it was waiting: {:?}",
                status_text(app).await?
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let md5_on_cashier = amount
        .attr("data-md5")
        .await?
        .context("cashier keeps the MD5")?;
    let cashier_shot = app.screenshot("khqr-cashier").await?;

    app.switch_to_window_titled("Customer").await?;
    let qr = displayed_khqr(app, true).await?;
    let customer_shot = app.screenshot("khqr-customer").await?;

    // The string on the display is a valid KHQR for exactly the keyed amount.
    let decoded = khqr::verify(&qr, now_ms())
        .map_err(|e| anyhow::anyhow!("displayed KHQR does not verify: {e}"))?;
    assert_eq!(decoded.transaction_amount.as_deref(), Some("12.50"));
    assert_eq!(decoded.amount(), Some(Decimal::from_str("12.50")?));
    assert_eq!(decoded.currency(), Some(khqr::Currency::Usd));
    assert_eq!(
        decoded.point_of_initiation_method.as_deref(),
        Some("12"),
        "a charge is a dynamic code"
    );
    let created: u64 = decoded
        .creation_timestamp
        .as_deref()
        .context("creation timestamp")?
        .parse()?;
    assert!(
        created >= before.saturating_sub(1000) && created <= now_ms(),
        "created {created}, before {before}"
    );
    assert_eq!(
        khqr::md5_hex(&qr),
        md5_on_cashier,
        "the cashier tracks the MD5 of exactly what is drawn"
    );
    let qr_el = app.client.find(Locator::Id("qr")).await?;
    assert_eq!(
        qr_el.attr("data-md5").await?.as_deref(),
        Some(md5_on_cashier.as_str())
    );
    // The code is drawn, and drawn big: at least 300 px on a 1080-line screen.
    let svg = app.client.find(Locator::Css("#qr svg")).await?;
    let (_, _, w, h) = svg.rectangle().await?;
    assert!(w >= 300.0 && h >= 300.0, "QR drawn at {w}x{h}");
    let text = app.client.find(Locator::Css("body")).await?.text().await?;
    assert!(
        text.contains("$ 12.50"),
        "customer display shows the amount: {text:?}"
    );
    assert!(
        text.contains("ស្កេន"),
        "customer display has Khmer text: {text:?}"
    );

    // Touch: switch to riel and key 40,000 on the keypad; the display follows.
    app.switch_to_window_titled("Cashier").await?;
    app.client
        .find(Locator::Id("cancel"))
        .await?
        .click()
        .await?;
    app.switch_to_window_titled("Customer").await?;
    displayed_khqr(app, false).await?;
    let idle_shot = app.screenshot("idle-customer").await?;
    app.switch_to_window_titled("Cashier").await?;
    app.client
        .find(Locator::Css(".cur[data-currency='KHR']"))
        .await?
        .click()
        .await?;
    for k in ["4", "0", "0", "0", "0"] {
        app.client
            .find(Locator::Css(&format!(".keypad button[data-key='{k}']")))
            .await?
            .click()
            .await?;
    }
    let digits = app
        .client
        .find(Locator::Id("amount-digits"))
        .await?
        .text()
        .await?;
    assert_eq!(digits, "40,000");
    app.client
        .find(Locator::Id("charge-khqr"))
        .await?
        .click()
        .await?;
    app.switch_to_window_titled("Customer").await?;
    let deadline = Instant::now() + Duration::from_secs(10);
    let riel = loop {
        let qr = displayed_khqr(app, true).await?;
        if khqr::decode(&qr).currency() == Some(khqr::Currency::Khr) {
            break qr;
        }
        if Instant::now() > deadline {
            bail!("customer display never switched to the riel code");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let decoded = khqr::verify(&riel, now_ms()).map_err(|e| anyhow::anyhow!("{e}"))?;
    assert_eq!(decoded.transaction_amount.as_deref(), Some("40000"));
    let riel_shot = app.screenshot("khqr-customer-riel").await?;

    // Esc on the cashier clears the customer display.
    app.switch_to_window_titled("Cashier").await?;
    let amount = app.client.find(Locator::Id("amount")).await?;
    amount.send_keys(&(Key::Escape).to_string()).await?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !status_text(app).await?.contains("Cancelled") {
        if Instant::now() > deadline {
            bail!("Esc did not cancel: {:?}", status_text(app).await?);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        amount.attr("data-value").await?.as_deref(),
        Some(""),
        "Esc clears the keyed amount"
    );
    app.switch_to_window_titled("Customer").await?;
    displayed_khqr(app, false).await?;

    println!(
        "screenshots: cashier {} · customer {} · customer (riel) {} · customer (idle) {}",
        cashier_shot.display(),
        customer_shot.display(),
        riel_shot.display(),
        idle_shot.display()
    );
    Ok(())
}
