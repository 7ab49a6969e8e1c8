//! `till charge`: take one payment and follow it to its end.
//!
//! A page wallet without a window: Till listens on each page wallet's
//! configured callback URL (a loopback address, `till_terminal_api::callbacks`)
//! so a kiosk browser on the same machine can finish the hosted page; the
//! redirect arrives there and the engine takes it from there (`Engine::callback`).

use super::output;
use serde_json::json;
use std::time::Duration;
use till_core::provider::StepKind;
use till_core::{CustomerStep, ProviderKind};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(long)]
    pub provider: ProviderKind,
    /// The amount as a person writes it: 12.50, 40000.
    #[arg(long)]
    pub amount: String,
    /// BDT, KHR or USD (default: the provider's).
    #[arg(long)]
    pub currency: Option<String>,
    /// One JSON object per line as the payment moves.
    #[arg(long)]
    pub json: bool,
    /// Who takes the payment (journal and audit log).
    #[arg(long, default_value = "cli")]
    pub operator: String,
    /// Stop following after this many seconds (the payment goes on in the journal).
    #[arg(long)]
    pub timeout: Option<u64>,
}

pub async fn run(a: Args, home: &std::path::Path) -> anyhow::Result<i32> {
    let engine = super::open_engine(home, true).await?;
    let amount = super::amount_for(&engine, a.provider, &a.amount, a.currency.as_deref())?;
    // A page wallet's redirect comes back to its callback URL: served here.
    let listener = if engine.capabilities_of(a.provider).map(|c| c.step) == Some(StepKind::Page) {
        if engine.callback_url(a.provider).is_none() {
            anyhow::bail!("{} has no callback URL", engine.label_of(a.provider));
        }
        till_terminal_api::callbacks::listen(&engine, &[a.provider]).await?
    } else {
        Vec::new()
    };
    let mut events = engine.subscribe();
    let charge = match engine.charge(a.provider, amount, &a.operator).await {
        Ok(c) => c,
        Err(e) => {
            engine.shutdown().await;
            return Err(e.into());
        }
    };
    let id = charge.payment.id.clone();
    if a.json {
        let mut v =
            json!({"event": "customer_step", "payment_id": id, "invoice": charge.payment.invoice});
        match &charge.step {
            CustomerStep::Code {
                code,
                reference,
                expires_at,
            } => {
                // The CLI's JSON keeps the names scripts read: the code is a
                // KHQR (the one code format Till shows), its reference the MD5.
                v["kind"] = "khqr".into();
                v["khqr"] = code.clone().into();
                v["md5"] = reference.clone().into();
                v["expires_at"] = json!(expires_at);
            }
            CustomerStep::Redirect {
                redirect_url,
                callback_url,
            } => {
                v["kind"] = "redirect".into();
                v["redirect_url"] = redirect_url.clone().into();
                v["callback_url"] = callback_url.clone().into();
            }
            CustomerStep::Wait => v["kind"] = "wait".into(),
        }
        output::print_json(&v);
    } else {
        match &charge.step {
            CustomerStep::Code {
                code,
                reference,
                expires_at,
            } => {
                println!(
                    "Show this code to the customer (reference {reference}, expires {expires_at}):\n{code}"
                )
            }
            CustomerStep::Redirect { redirect_url, .. } => println!(
                "Open the {} checkout page for the customer:\n{redirect_url}",
                engine.label_of(a.provider)
            ),
            CustomerStep::Wait => println!("Demo payment {id}: settles by itself"),
        }
    }
    // By default: until the payment's own expiry, and two minutes for its last answer.
    let limit = a.timeout.map(Duration::from_secs).unwrap_or_else(|| {
        let left = charge
            .payment
            .expires_at
            .map(|e| (e - engine.clock().now()).num_seconds().max(0) as u64)
            .unwrap_or(600);
        Duration::from_secs(left + 120)
    });
    let deadline = tokio::time::Instant::now() + limit;
    let mut last_state = charge.payment.state;
    let final_payment = loop {
        let p = engine.payment(&id)?;
        if p.state != last_state {
            last_state = p.state;
            if a.json && p.state.is_open() {
                output::print_json(&json!({"event": "state", "payment_id": id, "state": p.state}));
            }
        }
        if !p.state.is_open() {
            break p;
        }
        tokio::select! {
            r = tokio::time::timeout_at(deadline, events.recv()) => {
                match r {
                    Err(_) => break engine.payment(&id)?,
                    Ok(Ok(_)) => {}
                    Ok(Err(_)) => {}
                }
            }
            _ = tokio::signal::ctrl_c() => {
                let _ = engine.cancel(&id, &a.operator).await;
                break engine.payment(&id)?;
            }
        }
    };
    for l in listener {
        l.abort();
    }
    engine.shutdown().await;
    if a.json {
        let mut v = output::payment_json(&final_payment);
        v["event"] = "final".into();
        output::print_json(&v);
    } else {
        println!("{}", output::line(&final_payment));
    }
    Ok(if final_payment.state.is_paid() { 0 } else { 1 })
}
