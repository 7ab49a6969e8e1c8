//! Scenario 9: a wallet that answers before the window does. The demo wallet is set to
//! pay at once, and the charge's own answer (which says "paying") reaches the cashier's
//! page 300 ms late — the page's `fetch` (Tauri's IPC transport) is wrapped to hold it,
//! as a loaded counter PC did:
//! the payment is settled, and its event delivered, before the page hears of the charge.
//! Each sale must read "Paid" on the cashier's screen. A page that let the older answer win
//! showed "Demo wallet is paying…" for a payment long settled (the benchmark met it at
//! payment 24 of 900 in release), and a cashier reading that may take the money twice.

use crate::util::*;
use anyhow::{bail, Result};
use fantoccini::{key::Key, Locator};
use std::time::Duration;
use till_tests::{AppOptions, AppSession};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_settled_before_the_charge_answers_shows_paid() -> Result<()> {
    let app = AppSession::start_with(
        "fast-wallet",
        AppOptions {
            env: vec![("TILL__DEMO__SETTLE_AFTER_MS".into(), "0".into())],
            till_toml: None,
        },
    )
    .await?;
    let result = within(Duration::from_secs(180), run(&app)).await;
    finish(app, "fast-wallet", result).await
}

async fn run(app: &AppSession) -> Result<()> {
    app.switch_to_window_titled("Cashier").await?;
    let wrapped = app
        .client
        .execute(
            "const fetch = window.fetch.bind(window);
             const late = (input, init) => {
               const answer = fetch(input, init);
               const url = String((input && input.url) || input);
               if (!/\\/charge(\\?|$)/.test(url)) return answer;
               return answer.then((r) => new Promise((ok) => setTimeout(() => ok(r), 300)));
             };
             window.fetch = late;
             return window.fetch === late;",
            vec![],
        )
        .await?;
    assert_eq!(
        wrapped,
        serde_json::Value::Bool(true),
        "the page's fetch is wrapped"
    );
    let mut last = String::new();
    for i in 0..5 {
        keys(app, &format!("{}", 11 + i)).await?;
        keys(app, &key(Key::F3)).await?;
        let seen = wait_for("the sale's own result", Duration::from_secs(10), || async {
            let s = app.client.find(Locator::Id("status")).await?;
            let id = s.attr("data-payment-id").await?.unwrap_or_default();
            Ok((!id.is_empty() && id != last).then_some(id))
        })
        .await?;
        // Whatever the window shows first, within 5 s it must say what the journal says.
        let shown = wait_for(
            "Paid on the cashier's screen",
            Duration::from_secs(5),
            || async {
                let s = app.client.find(Locator::Id("status")).await?;
                let state = s.attr("data-payment-state").await?;
                Ok((state.as_deref() == Some("settled")).then_some(()))
            },
        )
        .await;
        if let Err(e) = shown {
            let said = text(app, "status").await.unwrap_or_default();
            bail!("sale {} ({seen}): {e}; the cashier reads {said:?}", i + 1);
        }
        last = seen;
    }
    Ok(())
}
