//! Scenario 1: KHQR in demo mode: key an amount, choose KHQR; the customer display
//! shows a QR whose decoded string has that amount; the sandbox's bank app
//! pays it; the cashier says "Paid" within 2 s.

use crate::util::*;
use anyhow::{bail, Context, Result};
use fantoccini::{key::Key, Locator};
use rust_decimal::Decimal;
use std::str::FromStr;
use std::time::{Duration, Instant};
use till_tests::{AppOptions, AppSession};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn khqr_payment_in_demo_mode() -> Result<()> {
    let app = AppSession::start_with(
        "khqr",
        AppOptions {
            // Demo mode (no till.toml), polling Bakong a little faster than the default.
            env: vec![
                ("TILL__BAKONG__FAST_INTERVAL_MS".into(), "400".into()),
                ("TILL__BAKONG__MIN_REQUEST_GAP_MS".into(), "400".into()),
            ],
            till_toml: None,
        },
    )
    .await?;
    let result = within(Duration::from_secs(240), run(&app)).await;
    finish(app, "khqr", result).await
}

async fn run(app: &AppSession) -> Result<()> {
    app.switch_to_window_titled("Cashier").await?;
    // Demo mode says so.
    wait_for("the demo pill", Duration::from_secs(20), || async {
        let pill = app.client.find(Locator::Id("demo-note")).await?;
        Ok(pill.is_displayed().await?.then_some(()))
    })
    .await?;
    let pill = text(app, "demo-note").await?;
    assert!(pill.contains("DEMO"), "demo pill says {pill:?}");
    let sandbox = demo_endpoints(app).await?["sandbox_url"]
        .as_str()
        .context("sandbox_url")?
        .to_string();

    // Keyboard: an empty charge is refused with words, not a code.
    keys(app, &key(Key::Enter)).await?;
    status_contains(app, "Enter an amount", Duration::from_secs(5)).await?;

    // USD, 12.5, Enter (KHQR is the wallet that takes dollars).
    click(app, ".cur[data-currency='USD']").await?;
    keys(app, "12.5").await?;
    assert_eq!(
        attr(app, "amount", "data-value").await?.as_deref(),
        Some("12.5")
    );
    assert_eq!(text(app, "amount-digits").await?, "12.5");
    let before = now_ms();
    keys(app, &key(Key::Enter)).await?;
    status_contains(app, "Waiting for customer", Duration::from_secs(10)).await?;
    let md5_on_cashier = attr(app, "amount", "data-code-reference")
        .await?
        .context("cashier keeps the MD5")?;
    let cashier_shot = app.screenshot("khqr-cashier-waiting").await?;

    app.switch_to_window_titled("Customer").await?;
    let qr = displayed_khqr(app, None).await?;
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
    // Drawn big: at least 300 px on a 1080-line screen; amount and Khmer shown.
    let svg = app.client.find(Locator::Css("#qr svg")).await?;
    let (_, _, w, h) = svg.rectangle().await?;
    assert!(w >= 300.0 && h >= 300.0, "QR drawn at {w}x{h}");
    let body = app.client.find(Locator::Css("body")).await?.text().await?;
    assert!(
        body.contains("$ 12.50"),
        "customer display shows the amount: {body:?}"
    );
    assert!(
        body.contains("ស្កេន"),
        "customer display has Khmer text: {body:?}"
    );

    // The customer pays; the cashier says so within 2 s.
    app.switch_to_window_titled("Cashier").await?;
    bank_app_pays(&sandbox, &qr).await?;
    let paid_at = Instant::now();
    let status = status_contains(app, "Paid", Duration::from_secs(10)).await?;
    let took = paid_at.elapsed();
    assert!(
        took <= Duration::from_secs(2),
        "cashier showed paid after {took:?}"
    );
    assert!(status.contains("$ 12.50"), "{status}");
    let paid_shot = app.screenshot("khqr-cashier-paid").await?;
    app.switch_to_window_titled("Customer").await?;
    customer_screen(app, "result", Duration::from_secs(5)).await?;
    let result = text(app, "result-en").await?;
    assert!(result.contains("Paid"), "{result}");
    let result_alt = text(app, "result-alt").await?;
    assert!(result_alt.contains("បានបង់"), "Khmer beneath: {result_alt}");
    let customer_paid_shot = app.screenshot("khqr-customer-paid").await?;
    // Then idle again, with the shop's name.
    customer_screen(app, "idle", Duration::from_secs(15)).await?;
    let idle_shot = app.screenshot("customer-idle").await?;

    // Touch: riel 40,000 on the keypad; the display follows; Esc cancels it.
    app.switch_to_window_titled("Cashier").await?;
    click(app, ".cur[data-currency='KHR']").await?;
    for k in ["4", "0", "0", "0", "0"] {
        click(app, &format!(".keypad button[data-key='{k}']")).await?;
    }
    assert_eq!(text(app, "amount-digits").await?, "40,000");
    click(app, "#charge-bakong").await?;
    status_contains(app, "Waiting for customer", Duration::from_secs(10)).await?;
    app.switch_to_window_titled("Customer").await?;
    let riel = displayed_khqr(app, Some(&qr)).await?;
    let decoded = khqr::verify(&riel, now_ms()).map_err(|e| anyhow::anyhow!("{e}"))?;
    assert_eq!(decoded.transaction_amount.as_deref(), Some("40000"));
    assert_eq!(decoded.currency(), Some(khqr::Currency::Khr));
    let riel_shot = app.screenshot("khqr-customer-riel").await?;
    app.switch_to_window_titled("Cashier").await?;
    keys(app, &key(Key::Escape)).await?;
    status_contains(app, "Cancelled", Duration::from_secs(10)).await?;
    app.switch_to_window_titled("Customer").await?;
    customer_screen(app, "result", Duration::from_secs(5)).await?;
    assert_eq!(
        attr(app, "result", "data-outcome").await?.as_deref(),
        Some("cancelled")
    );

    // The recent list holds both, newest first (read a moment after a payment changes).
    app.switch_to_window_titled("Cashier").await?;
    let listed = wait_for(
        "both in the recent list",
        Duration::from_secs(5),
        || async {
            let recent = text(app, "recent-list").await?;
            Ok((recent.contains("៛ 40,000") && recent.contains("$ 12.50")).then_some(()))
        },
    )
    .await;
    if let Err(e) = listed {
        bail!("{e}: {}", text(app, "recent-list").await?);
    }

    // One sound for the paid code, none for the cashier's own cancel.
    let heard = sounds_heard(app).await?;
    assert_eq!(heard.len(), 1, "sounds played: {heard:?}");
    assert!(heard[0].starts_with("paid:"), "sounds played: {heard:?}");

    // Bangla for the cashier, and back.
    click(app, "#lang").await?;
    keys(app, "5").await?;
    status_contains(app, "প্রস্তুত", Duration::from_secs(5)).await?;
    let bangla_shot = app.screenshot("cashier-bangla").await?;
    click(app, "#lang").await?;
    status_contains(app, "Ready", Duration::from_secs(5)).await?;

    // A second launch does not open a second terminal: it hands over and exits.
    let started = Instant::now();
    let mut second = std::process::Command::new(till_tests::app_binary()?)
        .env("DISPLAY", &app.display)
        .envs(till_tests::home_env(&app.home, &app.till_home))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let exit = loop {
        if let Some(status) = second.try_wait()? {
            break status;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = second.kill();
            anyhow::bail!("a second launch was still running after 30 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    println!(
        "second launch exited with {exit} after {:?}",
        started.elapsed()
    );
    app.switch_to_window_titled("Cashier").await?;
    assert!(
        text(app, "status").await?.contains("Ready"),
        "the first instance is still there"
    );

    println!(
        "screenshots: cashier waiting {} · customer KHQR {} · cashier paid {} · customer paid {} · customer idle {} · customer riel {} · cashier in Bangla {}",
        cashier_shot.display(),
        customer_shot.display(),
        paid_shot.display(),
        customer_paid_shot.display(),
        idle_shot.display(),
        riel_shot.display(),
        bangla_shot.display()
    );
    Ok(())
}
