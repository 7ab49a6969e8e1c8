//! Issue 7 in the real window: the manager runs the X-report, resolves a
//! disagreement (a KHQR the customer paid after the cashier cancelled it:
//! money taken without a sale), closes the day and saves the Z-report as
//! PDF. The report screen and the PDF's first page (pdftoppm) are saved.

use crate::util::*;
use anyhow::{bail, Context, Result};
use fantoccini::{key::Key, Locator};
use std::time::Duration;
use till_tests::{screenshot_dir, AppOptions, AppSession};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manager_closes_the_day() -> Result<()> {
    let app = AppSession::start_with(
        "dayclose",
        AppOptions {
            env: vec![("TILL__DEMO__SETTLE_AFTER_MS".into(), "300".into())],
            till_toml: None,
        },
    )
    .await?;
    let result = within(Duration::from_secs(300), run(&app)).await;
    finish(app, "dayclose", result).await
}

async fn open_disagreements(app: &AppSession) -> Result<Vec<(String, String)>> {
    let mut v = Vec::new();
    for li in app
        .client
        .find_all(Locator::Css(
            "#disagreements li.disagreement:not(.acknowledged)",
        ))
        .await?
    {
        v.push((
            li.attr("data-id").await?.unwrap_or_default(),
            li.attr("data-kind").await?.unwrap_or_default(),
        ));
    }
    Ok(v)
}

async fn run(app: &AppSession) -> Result<()> {
    let sandbox = demo_endpoints(app).await?["sandbox_url"]
        .as_str()
        .context("sandbox_url")?
        .to_string();
    app.switch_to_window_titled("Cashier").await?;
    // A sale.
    click(app, ".cur[data-currency='BDT']").await?;
    keys(app, "800").await?;
    keys(app, &key(Key::F3)).await?;
    status_contains(app, "Paid", Duration::from_secs(15)).await?;
    // A KHQR the cashier cancels…
    click(app, ".cur[data-currency='KHR']").await?;
    keys(app, "15000").await?;
    keys(app, &key(Key::F2)).await?;
    status_contains(app, "Waiting for customer", Duration::from_secs(10)).await?;
    app.switch_to_window_titled("Customer").await?;
    let qr = displayed_khqr(app, None).await?;
    app.switch_to_window_titled("Cashier").await?;
    keys(app, &key(Key::Escape)).await?;
    status_contains(app, "Cancelled", Duration::from_secs(10)).await?;
    // …and the customer's bank pays anyway.
    bank_app_pays(&sandbox, &qr).await?;

    // Manager › Day close.
    keys(app, &key(Key::F9)).await?;
    app.switch_to_window_titled("Manager").await?;
    wait_for("the PIN screen", Duration::from_secs(15), || async {
        Ok((!text(app, "pin-title").await?.is_empty()).then_some(()))
    })
    .await?;
    choose_pin(app, "135790").await?;
    wait_for("the manager area", Duration::from_secs(10), || async {
        Ok(app
            .client
            .find(Locator::Id("totals"))
            .await?
            .is_displayed()
            .await?
            .then_some(()))
    })
    .await?;
    click(app, "[data-tab='day']").await?;
    let title = wait_for("the X-report", Duration::from_secs(30), || async {
        let t = text(app, "report-title").await.unwrap_or_default();
        Ok(t.contains("X-report").then_some(t))
    })
    .await?;
    let open = open_disagreements(app).await?;
    assert!(
        open.iter().any(|(_, k)| k == "paid_not_recorded"),
        "the X-report lists the KHQR paid after cancel: {open:?} ({title})"
    );
    let close = app.client.find(Locator::Id("close-day")).await?;
    assert!(
        close.attr("disabled").await?.is_some(),
        "a day with open disagreements cannot close"
    );
    let x_shot = app.screenshot("dayclose-x-report").await?;

    // Resolve: acknowledge each with a note (the cashier refunded the customer in cash).
    for _ in 0..10 {
        let open = open_disagreements(app).await?;
        let Some((id, _)) = open.first() else { break };
        let li = app
            .client
            .find(Locator::Css(&format!("li.disagreement[data-id='{id}']")))
            .await?;
        li.find(Locator::Css(".ack-note"))
            .await?
            .send_keys("customer refunded in cash at the counter")
            .await?;
        li.find(Locator::Css("button[data-action='acknowledge']"))
            .await?
            .click()
            .await?;
        let id = id.clone();
        wait_for(
            "the disagreement acknowledged",
            Duration::from_secs(30),
            || async {
                let li = app
                    .client
                    .find(Locator::Css(&format!("li.disagreement[data-id='{id}']")))
                    .await?;
                Ok(li
                    .attr("class")
                    .await?
                    .unwrap_or_default()
                    .contains("acknowledged")
                    .then_some(()))
            },
        )
        .await?;
    }
    if !open_disagreements(app).await?.is_empty() {
        bail!("disagreements left open after acknowledging");
    }
    let resolved_shot = app.screenshot("dayclose-resolved").await?;

    // Close: the Z-report.
    click(app, "#close-day").await?;
    let z = wait_for("the Z-report", Duration::from_secs(30), || async {
        let t = text(app, "report-title").await.unwrap_or_default();
        Ok(t.contains("Z-report").then_some(t))
    })
    .await?;
    let closed = text(app, "closed-note").await?;
    assert!(
        closed.contains("Closed by manager") && closed.contains("sha256"),
        "{closed}"
    );
    let totals = text(app, "report-totals").await?;
    assert!(totals.contains("৳ 800.00"), "{totals}");
    let z_shot = app.screenshot("dayclose-z-report").await?;

    // PDF: its text carries the totals; its first page as an image.
    click(app, "#export-pdf").await?;
    let pdf = wait_for("the PDF path", Duration::from_secs(30), || async {
        let p = text(app, "export-path").await?;
        Ok(p.ends_with(".pdf").then_some(p))
    })
    .await?;
    let out = std::process::Command::new("pdftotext")
        .args([&pdf, "-"])
        .output()
        .context("pdftotext (poppler-utils)")?;
    let pdf_text = String::from_utf8_lossy(&out.stdout);
    assert!(
        pdf_text.contains("800.00"),
        "the PDF carries the day's total: {pdf_text}"
    );
    let png_base = screenshot_dir().join("dayclose-z-report-pdf");
    let status = std::process::Command::new("pdftoppm")
        .args([
            "-png",
            "-r",
            "80",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            &pdf,
        ])
        .arg(&png_base)
        .status()
        .context("pdftoppm (poppler-utils)")?;
    assert!(status.success(), "pdftoppm failed");
    let pdf_png = png_base.with_extension("png");
    assert!(pdf_png.exists());
    click(app, "#export-csv").await?;
    let csv = wait_for("the CSV path", Duration::from_secs(30), || async {
        let p = text(app, "export-path").await?;
        Ok(p.ends_with(".csv").then_some(p))
    })
    .await?;
    let rows = std::fs::read_to_string(&csv)?.lines().count();
    assert!(rows >= 3, "header and two payments: {rows} lines");

    println!(
        "day close: {z}\nscreenshots: X-report {} · resolved {} · Z-report {} · PDF page 1 {}\nexports: {pdf} · {csv}",
        x_shot.display(),
        resolved_shot.display(),
        z_shot.display(),
        pdf_png.display()
    );
    Ok(())
}
