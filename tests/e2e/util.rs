//! Helpers shared by the end-to-end scenarios: waiting on the page, keys,
//! windows, the demo's endpoints, and a bounded run that leaves screenshots
//! when something goes wrong.

use anyhow::{bail, Context, Result};
use fantoccini::{key::Key, Locator};
use serde_json::Value;
use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use till_tests::AppSession;

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// A scenario that must finish within `limit` (a WebDriver call that never
/// answers must fail the test, not hang CI).
pub async fn within(limit: Duration, scenario: impl Future<Output = Result<()>>) -> Result<()> {
    match tokio::time::timeout(limit, scenario).await {
        Ok(r) => r,
        Err(_) => Err(anyhow::anyhow!(
            "the scenario did not finish within {limit:?}"
        )),
    }
}

/// Ends a session: on failure, screenshots of every window first.
pub async fn finish(app: AppSession, name: &str, result: Result<()>) -> Result<()> {
    if result.is_err() {
        let evidence = async {
            if let Ok(handles) = app.client.windows().await {
                for (i, h) in handles.into_iter().enumerate() {
                    if app.client.switch_to_window(h).await.is_ok() {
                        let _ = app.screenshot(&format!("failure-{name}-{i}")).await;
                    }
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(60), evidence).await;
        let logs = app.logs.dir.clone();
        let exit = app.logs.app_exit_status();
        return result.with_context(|| match exit {
            Some(status) => format!(
                "scenario {name}: the app exited with status {status}; logs in {}",
                logs.display()
            ),
            None => format!("scenario {name}; logs in {}", logs.display()),
        });
    }
    app.close().await?;
    result
}

/// Polls `check` until it returns `Some`, or fails naming `what`.
pub async fn wait_for<T, F, Fut>(what: &str, within: Duration, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>>>,
{
    let deadline = Instant::now() + within;
    let mut last_err = None;
    loop {
        match check().await {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => {}
            Err(e) => last_err = Some(e),
        }
        if Instant::now() > deadline {
            match last_err {
                Some(e) => bail!("{what}: not within {within:?} (last error: {e:#})"),
                None => bail!("{what}: not within {within:?}"),
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn text(app: &AppSession, id: &str) -> Result<String> {
    Ok(app.client.find(Locator::Id(id)).await?.text().await?)
}

pub async fn attr(app: &AppSession, id: &str, name: &str) -> Result<Option<String>> {
    Ok(app.client.find(Locator::Id(id)).await?.attr(name).await?)
}

/// The sounds the cashier's window played, in order, as `cue:payment` (the window
/// writes each one down in `body[data-sounds]`; tests check the events, not the ear).
/// Call it with the cashier's window current.
pub async fn sounds_heard(app: &AppSession) -> Result<Vec<String>> {
    let list = app
        .client
        .find(Locator::Css("body"))
        .await?
        .attr("data-sounds")
        .await?
        .unwrap_or_default();
    Ok(list.split_whitespace().map(str::to_string).collect())
}

pub async fn click(app: &AppSession, css: &str) -> Result<()> {
    app.client
        .find(Locator::Css(css))
        .await
        .with_context(|| format!("find {css}"))?
        .click()
        .await
        .with_context(|| format!("click {css}"))?;
    Ok(())
}

/// Clicks `css` on a page the app is about to close (a wallet's page, whose last
/// button leads to the callback, after which the shell closes the webview).
///
/// Why not `click`: WebDriver's element click waits for the navigation it starts to
/// finish, and when the window is destroyed meanwhile WebKitWebDriver may never answer
/// (a bKash decline hung the scenario for its whole 300 s, the window closed under the
/// click). The click is dispatched by the page itself, after the script has returned.
pub async fn click_and_leave(app: &AppSession, css: &str) -> Result<()> {
    app.client
        .find(Locator::Css(css))
        .await
        .with_context(|| format!("find {css}"))?;
    app.client
        .execute(
            "const css = arguments[0]; setTimeout(() => document.querySelector(css).click(), 0);",
            vec![serde_json::json!(css)],
        )
        .await
        .with_context(|| format!("click {css}"))?;
    Ok(())
}

/// Clicks `css`, finding it afresh until it works (lists re-render on events).
pub async fn click_fresh(app: &AppSession, css: &str) -> Result<()> {
    wait_for(
        &format!("a click on {css}"),
        Duration::from_secs(10),
        || async {
            let e = app.client.find(Locator::Css(css)).await?;
            e.click().await?;
            Ok(Some(()))
        },
    )
    .await
}

/// Types a PIN on the manager's PIN pad and presses OK.
pub async fn pin(app: &AppSession, digits: &str) -> Result<()> {
    for d in digits.chars() {
        click(app, &format!("[data-pin='{d}']")).await?;
    }
    click(app, "#pin-ok").await
}

/// First use of the manager window: chooses `digits` as the PIN (typed twice), reads the
/// recovery code it then shows once, and confirms it was written down. Returns the code.
pub async fn choose_pin(app: &AppSession, digits: &str) -> Result<String> {
    pin(app, digits).await?;
    wait_for("the confirm step", Duration::from_secs(5), || async {
        Ok(text(app, "pin-title")
            .await?
            .contains("again")
            .then_some(()))
    })
    .await?;
    pin(app, digits).await?;
    let code = wait_for("the recovery code", Duration::from_secs(15), || async {
        let c = text(app, "recovery-code").await.unwrap_or_default();
        Ok((c.len() >= 24).then_some(c))
    })
    .await?;
    click(app, "#recovery-done").await?;
    Ok(code)
}

/// Types into the cashier's amount (which holds the keyboard focus).
pub async fn keys(app: &AppSession, keys: &str) -> Result<()> {
    app.client
        .find(Locator::Id("amount"))
        .await?
        .send_keys(keys)
        .await?;
    Ok(())
}

pub fn key(k: Key) -> String {
    k.to_string()
}

/// Waits until the cashier's status line contains `want`; returns it.
pub async fn status_contains(app: &AppSession, want: &str, within: Duration) -> Result<String> {
    let last = std::sync::Mutex::new(String::new());
    let r = wait_for(
        &format!("cashier status saying {want:?}"),
        within,
        || async {
            let s = text(app, "status").await?;
            *last.lock().unwrap() = s.clone();
            Ok(s.contains(want).then_some(s))
        },
    )
    .await;
    r.with_context(|| format!("the status line said {:?}", last.lock().unwrap()))
}

/// Switches to the window whose URL starts with `prefix`.
pub async fn switch_to_url(app: &AppSession, prefix: &str, within: Duration) -> Result<()> {
    wait_for(&format!("a window at {prefix}"), within, || async {
        for handle in app.client.windows().await? {
            if app.client.switch_to_window(handle).await.is_err() {
                continue;
            }
            if let Ok(url) = app.client.current_url().await {
                if url.as_str().starts_with(prefix) {
                    return Ok(Some(()));
                }
            }
        }
        Ok(None)
    })
    .await
}

/// The in-process sandbox and hub of demo mode, as the app wrote them down. They start
/// while the windows load: once the engine is open the file of this run is there.
pub async fn demo_endpoints(app: &AppSession) -> Result<Value> {
    app.engine_opened(Duration::from_secs(30)).await?;
    let path = app.till_home.join("demo").join("endpoints.json");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("demo mode wrote no {}", path.display()))?;
    Ok(serde_json::from_str(&text)?)
}

/// The customer's bank app pays a KHQR at the sandbox.
pub async fn bank_app_pays(sandbox: &str, qr: &str) -> Result<()> {
    bank_app_pays_with(&reqwest::Client::new(), sandbox, qr).await
}

/// [`bank_app_pays`] with the test's own client (one that trusts a test CA).
pub async fn bank_app_pays_with(http: &reqwest::Client, sandbox: &str, qr: &str) -> Result<()> {
    let r = http
        .post(format!("{}/sim/bakong/pay", sandbox.trim_end_matches('/')))
        .json(&serde_json::json!({"qr": qr, "fromAccountId": "e2e.customer@aclb"}))
        .send()
        .await?;
    if !r.status().is_success() {
        bail!("the sandbox refused to pay: {}", r.text().await?);
    }
    Ok(())
}

/// The customer display's current KHQR string (waits for one different from `not`).
pub async fn displayed_khqr(app: &AppSession, not: Option<&str>) -> Result<String> {
    wait_for(
        "a KHQR on the customer display",
        Duration::from_secs(15),
        || async {
            let v = attr(app, "qr", "data-khqr").await?.unwrap_or_default();
            Ok((!v.is_empty() && Some(v.as_str()) != not).then_some(v))
        },
    )
    .await
}

/// Waits until the customer display shows `screen` (`idle`, `khqr`, `wallet`, `result`).
pub async fn customer_screen(app: &AppSession, screen: &str, within: Duration) -> Result<()> {
    wait_for(&format!("customer display on {screen}"), within, || async {
        let body = app.client.find(Locator::Css("body")).await?;
        Ok((body.attr("data-screen").await?.as_deref() == Some(screen)).then_some(()))
    })
    .await
}
