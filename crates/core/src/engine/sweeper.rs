//! The sweeper: resolves payments left open by a previous run (on start),
//! gives up checkouts the customer never finished and lets the demo
//! provider settle. Payments a provider's own background task watches
//! ([`crate::provider::Capabilities::watches_its_payments`]) are left to it.

use super::Engine;
use crate::journal::payments::Change;
use crate::payment::Payment;
use crate::provider::{Capabilities, StepKind, Verdict};
use crate::state::PaymentState;
use std::time::Duration;

const TICK: Duration = Duration::from_millis(250);

pub(crate) async fn run(engine: Engine) {
    let mut stop = engine.inner.background.stopping();
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
        engine.inner.health.count(|s| s.sweeps += 1);
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
        let Some(caps) = engine.capabilities_of(p.provider) else {
            // Off now: asked when it is back (the payment stays open).
            continue;
        };
        let r = match (caps.step, p.state) {
            // Interrupted between writing the payment and hearing back from
            // the provider that makes the page: no page, so no customer
            // could have paid on it.
            (StepKind::Page, PaymentState::Created) => engine
                .apply_verdict(
                    &p.id,
                    Verdict::Failed {
                        code: "interrupted".into(),
                        reason: format!(
                            "Till stopped before {} answered; nothing was charged",
                            engine.label_of(p.provider)
                        ),
                    },
                    "recovery",
                )
                .map(|_| ()),
            // Codes made on the till (and the demo): they go on being watched.
            (StepKind::Code | StepKind::Wait, PaymentState::Created) => engine
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
            _ if caps.watches_its_payments => Ok(()),
            _ => engine.resolve_payment(&p).await,
        };
        if let Err(e) = r {
            tracing::warn!(payment = %p.id, error = %e, "could not resolve at start");
        }
    }
    engine.wake_providers();
    Ok(())
}

async fn sweep(engine: &Engine) -> Result<(), super::EngineError> {
    let now = engine.now();
    let open: Vec<(Payment, Capabilities)> = engine
        .with_journal(|j| j.open_payments())?
        .into_iter()
        .filter(|p| p.state == PaymentState::AwaitingCustomer)
        .filter(|p| p.expires_at.is_some_and(|e| e <= now))
        .filter_map(|p| Some((p.clone(), engine.capabilities_of(p.provider)?)))
        .filter(|(_, caps)| !caps.watches_its_payments)
        .collect();
    for (p, caps) in open {
        if caps.step == StepKind::Wait {
            // The demo wallet: its time has come, it pays.
            engine.resolve_payment(&p).await?;
            continue;
        }
        // The checkout window is over. Ask the provider once: completed
        // (cannot be without our approval's completion, but ask) or give it
        // up. The answer can take the client's whole timeout, and the
        // customer's callback may authorize the payment meanwhile: giving up
        // is only ever done on a payment still waiting with no completion
        // sent, checked at the moment of writing.
        let provider = engine.inner.registry.get(p.provider)?.clone();
        let v = provider.query(&p).await;
        engine.note_health(p.provider, &v);
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
    Ok(())
}
