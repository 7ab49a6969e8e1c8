//! `till charge`: take one payment and follow it to its end.
//!
//! bKash without a window: Till listens on the configured callback URL (a
//! loopback address) so a kiosk browser on the same machine can finish the
//! hosted page; the redirect arrives here and Till executes.

use super::output;
use serde_json::json;
use std::time::Duration;
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
    let listener = if a.provider == ProviderKind::Bkash {
        Some(callback_listener(&engine).await?)
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
            CustomerStep::Khqr {
                khqr,
                md5,
                expires_at,
            } => {
                v["kind"] = "khqr".into();
                v["khqr"] = khqr.clone().into();
                v["md5"] = md5.clone().into();
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
            CustomerStep::Khqr {
                khqr,
                md5,
                expires_at,
            } => {
                println!(
                    "Show this KHQR to the customer (MD5 {md5}, expires {expires_at}):\n{khqr}"
                )
            }
            CustomerStep::Redirect { redirect_url, .. } => {
                println!("Open the bKash checkout page for the customer:\n{redirect_url}")
            }
            CustomerStep::Wait => println!("Demo payment {id}: settles by itself"),
        }
    }
    let limit = a.timeout.map(Duration::from_secs).unwrap_or_else(|| {
        let c = engine.config();
        Duration::from_secs(c.khqr.expiry_seconds.max(c.bkash.checkout_window_secs) + 120)
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

/// Serves the callback URL on loopback and hands each redirect to the engine.
async fn callback_listener(engine: &Engine) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let url = engine.config().bkash.callback_url.clone();
    let host = url.host_str().unwrap_or("127.0.0.1").to_owned();
    let port = url.port_or_known_default().unwrap_or(80);
    let listener = tokio::net::TcpListener::bind((host.as_str(), port))
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on the bKash callback URL {url}: {e}"))?;
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
            if !engine.is_bkash_callback(&full) {
                return (axum::http::StatusCode::NOT_FOUND, page("Not found", "This is Till's bKash callback."));
            }
            match engine.bkash_callback(&full).await {
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
            tracing::error!(error = %e, "bKash callback listener stopped");
        }
    }))
}
