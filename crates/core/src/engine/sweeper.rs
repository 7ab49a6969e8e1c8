//! The sweeper: resolves payments left open by a previous run (on start),
//! gives up bKash checkouts the customer never finished, and lets the demo
//! provider settle. Bakong codes are the poller's.

use super::Engine;
use crate::journal::payments::Change;
use crate::payment::{Payment, ProviderKind};
use crate::provider::Verdict;
use crate::state::PaymentState;
use std::time::Duration;

const TICK: Duration = Duration::from_millis(250);

pub(crate) async fn run(engine: Engine) {
    let mut stop = engine.inner.stop.subscribe();
    if let Err(e) = recover(&engine).await {
        tracing::error!(error = %e, "recovery of open payments failed");
    }
    loop {
        tokio::select! {
            _ = tokio::time::sleep(TICK) => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
        if let Err(e) = sweep(&engine).await {
            tracing::warn!(error = %e, "sweep failed");
        }
        engine.inner.stats.lock().expect("stats lock").sweeps += 1;
    }
}

/// Start-up: every payment a previous run left open is resolved by asking its provider.
pub async fn recover(engine: &Engine) -> Result<(), super::EngineError> {
    // Only what a previous run left: payments this run starts are its own.
    let open: Vec<Payment> = engine
        .with_journal(|j| j.open_payments())?
        .into_iter()
        .filter(|p| p.created_at.timestamp_millis() < engine.inner.opened_at.timestamp_millis())
        .collect();
    if !open.is_empty() {
        tracing::info!(
            count = open.len(),
            "resolving payments left open by the last run"
        );
    }
    for p in open {
        let r = match (p.provider, p.state) {
            // Interrupted between writing the payment and hearing back from
            // bKash: no paymentID, so no customer could have paid on it.
            (ProviderKind::Bkash, PaymentState::Created) => engine
                .apply_verdict(
                    &p.id,
                    Verdict::Failed {
                        code: "interrupted".into(),
                        reason: "Till stopped before bKash answered; nothing was charged".into(),
                    },
                    "recovery",
                )
                .map(|_| ()),
            // KHQR/demo codes are local: show-able codes go on being watched.
            (ProviderKind::Bakong | ProviderKind::Demo, PaymentState::Created) => engine
                .with_journal(|j| {
                    j.transition(
                        &p.id,
                        PaymentState::AwaitingCustomer,
                        &Change::default(),
                        Some("recovery"),
                        engine.now(),
                    )
                })
                .map(|p| engine.emit(&p))
                .map_err(Into::into),
            (ProviderKind::Bakong, _) => Ok(()),
            _ => engine.resolve_payment(&p).await,
        };
        if let Err(e) = r {
            tracing::warn!(payment = %p.id, error = %e, "could not resolve at start");
        }
    }
    engine.inner.poll_wake.notify_one();
    Ok(())
}

async fn sweep(engine: &Engine) -> Result<(), super::EngineError> {
    let now = engine.now();
    let open: Vec<Payment> = engine
        .with_journal(|j| j.open_payments())?
        .into_iter()
        .filter(|p| p.state == PaymentState::AwaitingCustomer)
        .filter(|p| matches!(p.provider, ProviderKind::Demo | ProviderKind::Bkash))
        .filter(|p| p.expires_at.is_some_and(|e| e <= now))
        .collect();
    for p in open {
        match p.provider {
            ProviderKind::Demo => {
                engine.resolve_payment(&p).await?;
            }
            ProviderKind::Bkash => {
                // The checkout window is over. Ask bKash once: completed
                // (cannot be without our execute, but ask) or give it up.
                // The answer can take the client's whole timeout, and the
                // customer's callback may authorize the payment meanwhile:
                // giving up is only ever done on a payment still waiting
                // with no execute sent, checked at the moment of writing.
                let provider = engine.inner.registry.get(ProviderKind::Bkash)?.clone();
                let v = provider.query(&p).await;
                engine.note_health(ProviderKind::Bkash, &v);
                match v {
                    Ok(Verdict::Pending) => {
                        engine.expire_unanswered(&p.id, "checkout window over")?;
                    }
                    Ok(v) => {
                        engine.apply_verdict(&p.id, v, "checkout window over")?;
                    }
                    Err(e) if e.is_offline() => {}
                    Err(_) => {
                        engine.expire_unanswered(&p.id, "checkout window over")?;
                    }
                }
            }
            ProviderKind::Bakong => {}
        }
    }
    Ok(())
}
