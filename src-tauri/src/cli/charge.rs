//! `till charge`: take one payment and follow it to its end.
//!
//! A page wallet without a window: Till listens on each page wallet's
//! configured callback URL (a loopback address) so a kiosk browser on the
//! same machine can finish the hosted page; the redirect arrives here and
//! the engine takes it from there (`Engine::callback`).

use super::output;
use serde_json::json;
use std::time::Duration;
use till_core::provider::StepKind;
use till_core::{CustomerStep, Engine, ProviderKind};

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
    let listener = if engine.capabilities_of(a.provider).map(|c| c.step) == Some(StepKind::Page) {
        Some(callback_listener(&engine, a.provider).await?)
    } else {
        None
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
    if let Some(l) = listener {
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

/// Serves the provider's callback URL on loopback and hands each redirect to the engine.
async fn callback_listener(
    engine: &Engine,
    provider: ProviderKind,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let label = engine.label_of(provider);
    let url = engine
        .callback_url(provider)
        .ok_or_else(|| anyhow::anyhow!("{label} has no callback URL"))?;
    let host = url.host_str().unwrap_or("127.0.0.1").to_owned();
    let port = url.port_or_known_default().unwrap_or(80);
    let listener = tokio::net::TcpListener::bind((host.as_str(), port))
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on the {label} callback URL {url}: {e}"))?;
    let engine = engine.clone();
    let base = url.clone();
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let engine = engine.clone();
        let base = base.clone();
        async move {
            let mut full = base.clone();
            full.set_path(uri.path());
            full.set_query(uri.query());
            let page = |title: &str, body: &str| {
                axum::response::Html(format!(
                    "<!doctype html><meta charset=utf-8><title>{title}</title><h1>{title}</h1><p>{body}</p>"
                ))
            };
            if !engine.is_callback(&full) {
                return (axum::http::StatusCode::NOT_FOUND, page("Not found", "This is Till's payment callback."));
            }
            match engine.callback(&full).await {
                Ok(p) if p.state.is_paid() => (axum::http::StatusCode::OK, page("Paid", "Thank you. You can close this page.")),
                Ok(p) => (
                    axum::http::StatusCode::OK,
                    page("Payment not completed", &p.failure_reason.unwrap_or_else(|| format!("State: {}", p.state))),
                ),
                Err(e) => (axum::http::StatusCode::BAD_REQUEST, page("Not accepted", &e.to_string())),
            }
        }
    });
    Ok(tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "callback listener stopped");
        }
    }))
}
