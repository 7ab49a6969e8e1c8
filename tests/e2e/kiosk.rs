//! Scenario 8: a kiosk's windows do not close by accident. With `display.kiosk` on, a
//! close request from the X server (what a window manager's close button sends) leaves
//! both windows open; the cashier's asks for the manager PIN; a wrong PIN is refused in
//! words and the app keeps running; the right one closes the app with status 0, which
//! `till kiosk run` takes for "closed on purpose". Both tries are in the audit log.

use crate::util::*;
use anyhow::{bail, Context, Result};
use fantoccini::{key::Key, Locator};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;
use till_tests::{AppOptions, AppSession};

const PIN: &str = "246802";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kiosk_close_asks_for_the_manager_pin() -> Result<()> {
    let app = AppSession::start_with(
        "kiosk",
        AppOptions {
            env: vec![("TILL__DISPLAY__KIOSK".into(), "true".into())],
            till_toml: None,
        },
    )
    .await?;
    match within(Duration::from_secs(180), run(&app)).await {
        // The app is gone by design: nothing left to close through WebDriver.
        Ok(()) => Ok(()),
        Err(e) => finish(app, "kiosk", Err(e)).await,
    }
}

/// `till --home H ARGS…` with `stdin`, as a manager at the terminal would type it.
fn till(app: &AppSession, args: &[&str], stdin: &str) -> Result<String> {
    let mut child = Command::new(till_tests::app_binary()?)
        .arg("--home")
        .arg(&app.till_home)
        .args(args)
        .env("HOME", &app.home)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    child
        .stdin
        .take()
        .context("stdin")?
        .write_all(stdin.as_bytes())?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!(
            "till {args:?}: {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

async fn dialog_open(app: &AppSession) -> Result<bool> {
    Ok(app
        .client
        .find(Locator::Id("close-dialog"))
        .await?
        .attr("open")
        .await?
        .is_some())
}

async fn run(app: &AppSession) -> Result<()> {
    till(app, &["pin", "set", "--pin-fd", "0"], &format!("{PIN}\n"))?;
    app.switch_to_window_titled("Cashier").await?;
    wait_for("the cashier ready", Duration::from_secs(30), || async {
        let body = app.client.find(Locator::Css("body")).await?;
        Ok(body.attr("data-ready-at").await?)
    })
    .await?;
    // The customer display is made just after the cashier's window.
    wait_for("the customer display", Duration::from_secs(20), || async {
        Ok((app.client.windows().await?.len() == 2).then_some(()))
    })
    .await?;
    assert!(!dialog_open(app).await?, "no dialog before any close");

    // The customer display shares the cashier's web process, not its permissions: a
    // cashier's command from the customer display's page is refused.
    app.switch_to_window_titled("Customer display").await?;
    let answer = app
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             window.__TAURI__.core.invoke('charge', { provider: 'demo', amount: '5', currency: 'BDT' })
               .then(() => done('ALLOWED'), (e) => done(String(e && e.message || e)));",
            vec![],
        )
        .await?;
    let answer = answer.as_str().unwrap_or_default().to_owned();
    assert!(
        answer != "ALLOWED" && answer.contains("not allowed"),
        "the customer display may not charge: {answer:?}"
    );
    app.switch_to_window_titled("Cashier").await?;

    // The customer display's close button does nothing at a kiosk.
    app.x_close("Customer display")?;
    // The cashier's asks for the PIN instead of closing.
    app.x_close("Cashier")?;
    wait_for("the PIN dialog", Duration::from_secs(10), || async {
        Ok(dialog_open(app).await?.then_some(()))
    })
    .await?;
    assert_eq!(
        app.client.windows().await?.len(),
        2,
        "both windows stay open"
    );
    let (shot, colours) = app.x_screenshot("kiosk-close-dialog")?;
    assert!(colours > 1, "the X screen is blank: {}", shot.display());
    println!("kiosk: the close dialog as X shows it: {}", shot.display());

    // Keys typed into the dialog are not the amount's.
    let pin_box = app.client.find(Locator::Id("close-pin")).await?;
    pin_box.send_keys("111111").await?;
    pin_box.send_keys(&key(Key::Enter)).await?;
    let refused = wait_for("the refusal", Duration::from_secs(10), || async {
        let t = text(app, "close-error").await?;
        Ok((!t.is_empty()).then_some(t))
    })
    .await?;
    assert!(refused.contains("Wrong PIN"), "refusal says {refused:?}");
    assert_eq!(
        attr(app, "amount", "data-value").await?.as_deref(),
        Some(""),
        "the PIN's digits did not reach the amount"
    );
    assert!(dialog_open(app).await?, "still asking after a wrong PIN");
    assert!(app.logs.app_exit_status().is_none(), "the app still runs");

    // Keep open: Escape dismisses it, and the till goes on.
    pin_box.send_keys(&key(Key::Escape)).await?;
    wait_for("the dialog gone", Duration::from_secs(5), || async {
        Ok((!dialog_open(app).await?).then_some(()))
    })
    .await?;

    // Ask again, and close with the manager's PIN.
    app.x_close("Cashier")?;
    wait_for("the PIN dialog again", Duration::from_secs(10), || async {
        Ok(dialog_open(app).await?.then_some(()))
    })
    .await?;
    let pin_box = app.client.find(Locator::Id("close-pin")).await?;
    pin_box.send_keys(PIN).await?;
    // The app exits while this click's answer is on its way: it need not come back.
    let _ = tokio::time::timeout(
        Duration::from_secs(5),
        app.client
            .execute("document.getElementById('close-confirm').click();", vec![]),
    )
    .await;
    let status = wait_for("the app's exit", Duration::from_secs(20), || async {
        Ok(app.logs.app_exit_status())
    })
    .await?;
    assert_eq!(status, "0", "closed on purpose exits with status 0");

    // The journal, read as the app left it (demo mode's defaults, as the app ran).
    let config = till_core::Config::from_layers(
        till_core::config::DEFAULTS_TOML,
        None,
        std::iter::empty::<(String, String)>(),
    )?;
    let journal = till_core::journal::Journal::open(
        &config.data_dir(&app.till_home).join("journal.db"),
        till_core::journal::JournalContext::from_config(&config)?,
    )?;
    let actions: Vec<String> = journal
        .audit_log(50)?
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(
        actions.iter().any(|a| a == "kiosk.close.refused")
            && actions.iter().any(|a| a == "kiosk.close"),
        "both tries are audited: {actions:?}"
    );
    Ok(())
}
