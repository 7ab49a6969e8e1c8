//! The deferred-call worker: retries queued calls (status checks, execute
//! resolutions, refunds) with backoff; a call leaves the queue when its
//! payment or refund has an answer.

use super::Engine;
use crate::journal::deferred::{DeferredCall, DeferredKind};
use crate::payment::RefundState;
use std::time::Duration;
use till_provider_http::RetryPolicy;

const TICK: Duration = Duration::from_millis(500);
const BACKOFF: RetryPolicy = RetryPolicy {
    max_attempts: u32::MAX,
    base: Duration::from_secs(2),
    max_delay: Duration::from_secs(60),
};

pub(crate) async fn run(engine: Engine) {
    let mut stop = engine.inner.background.stopping();
    loop {
        if *stop.borrow() {
            return;
        }
        if let Err(e) = pass(&engine).await {
            tracing::warn!(error = %e, "deferred-call pass failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(TICK) => {}
            _ = engine.inner.background.sweeper_woken() => {}
            _ = stop.changed() => return,
        }
    }
}

/// Runs every due call once.
pub(crate) async fn pass(engine: &Engine) -> Result<(), super::EngineError> {
    let now = engine.now();
    let due: Vec<DeferredCall> = engine
        .with_journal(|j| j.deferred())?
        .into_iter()
        .filter(|d| d.next_attempt_at <= now)
        .collect();
    for call in due {
        let result = one(engine, &call).await;
        let still_open = match call.kind {
            DeferredKind::Refund => match &call.refund_id {
                Some(r) => engine
                    .with_journal(|j| j.refund(r))
                    .map(|r| matches!(r.state, RefundState::Requested | RefundState::Sent))
                    .unwrap_or(false),
                None => false,
            },
            _ => engine
                .payment(&call.payment_id)
                .map(|p| p.state.is_open())
                .unwrap_or(false),
        };
        if still_open {
            let attempt = (call.attempts + 1).min(u32::MAX as i64) as u32;
            let wait = BACKOFF
                .delay(attempt, None)
                .unwrap_or(BACKOFF.max_delay)
                .max(Duration::from_millis(500));
            let next = engine.now() + chrono::Duration::from_std(wait).unwrap_or_default();
            let err = match &result {
                Err(e) => e.to_string(),
                Ok(()) => "no answer yet".into(),
            };
            engine.with_journal(|j| j.reschedule_deferred(call.id, next, &err))?;
        } else {
            engine.with_journal(|j| j.complete_deferred(call.id))?;
        }
    }
    Ok(())
}

async fn one(engine: &Engine, call: &DeferredCall) -> Result<(), super::EngineError> {
    let p = engine.payment(&call.payment_id)?;
    match call.kind {
        DeferredKind::StatusCheck | DeferredKind::ExecuteResolution => {
            if p.state.is_open() {
                engine.resolve_payment(&p).await?;
            }
        }
        DeferredKind::Refund => {
            if let Some(rid) = &call.refund_id {
                let r = engine.with_journal(|j| j.refund(rid))?;
                if matches!(r.state, RefundState::Requested | RefundState::Sent) {
                    engine.send_refund(&p, &r).await?;
                }
            }
        }
    }
    Ok(())
}
