//! bKash after the hosted page: the callback (a hint, never proof), execute
//! (sent at most once: the journal records it before it leaves), and the
//! resolution of an execute whose answer was lost — by payment status.

use super::{Engine, EngineError};
use crate::journal::deferred::DeferredKind;
use crate::journal::payments::Change;
use crate::payment::{Payment, ProviderKind};
use crate::provider::{ProviderError, Verdict};
use crate::state::PaymentState;
use till_bkash::CallbackStatus;

impl Engine {
    /// Whether `url` is where this terminal's bKash checkout ends (the shell
    /// watches its webview's navigation with this).
    pub fn is_bkash_callback(&self, url: &url::Url) -> bool {
        till_bkash::is_callback(url, &self.inner.config.bkash.callback_url)
    }

    /// The hosted page sent the customer to our callback URL. `success` leads
    /// to execute; `cancel`/`failure` end the payment. Repeated or late
    /// callbacks change nothing.
    pub async fn bkash_callback(&self, url: &url::Url) -> Result<Payment, EngineError> {
        let cb = till_bkash::parse_callback(url, &self.inner.config.bkash.callback_url)
            .map_err(|e| EngineError::Refused(format!("not a bKash callback we accept: {e}")))?;
        let p = self
            .with_journal(|j| j.find(&cb.payment_id))?
            .filter(|p| p.provider == ProviderKind::Bkash)
            .ok_or_else(|| EngineError::NotFound(cb.payment_id.clone()))?;
        if p.state != PaymentState::AwaitingCustomer {
            tracing::info!(payment = %p.id, state = %p.state, "callback for a payment that is not waiting; ignored");
            return Ok(p);
        }
        let now = self.now();
        match cb.status {
            CallbackStatus::Success => {
                let p = self.with_journal(|j| {
                    j.transition(
                        &p.id,
                        PaymentState::Authorized,
                        &Change::default(),
                        Some("callback: success"),
                        now,
                    )
                })?;
                self.emit(&p);
                self.execute(&p).await
            }
            CallbackStatus::Cancel => Ok(self.apply_verdict(&p.id, Verdict::Cancelled, "callback: cancel")?),
            CallbackStatus::Failure => Ok(self.apply_verdict(
                &p.id,
                Verdict::Failed {
                    code: "callback".into(),
                    reason: "The payment did not go through on the bKash page (wrong PIN or OTP, low balance, or a limit). The customer may try again.".into(),
                },
                "callback: failure",
            )?),
        }
    }

    /// Sends execute once. If it had been sent before, resolves by status.
    async fn execute(&self, p: &Payment) -> Result<Payment, EngineError> {
        let Some(bkash) = self.inner.bkash.clone() else {
            return Err(self
                .inner
                .registry
                .get(ProviderKind::Bkash)
                .err()
                .unwrap_or(ProviderError::NotConfigured {
                    provider: ProviderKind::Bkash,
                    message: "bKash is not set up".into(),
                }))?;
        };
        let Some(pid) = p.provider_payment_id.clone() else {
            return Err(EngineError::Refused(
                "the payment has no bKash paymentID".into(),
            ));
        };
        if !self.with_journal(|j| j.claim_execute(&p.id, self.now()))? {
            Box::pin(self.resolve_authorized(p)).await?;
            return self.payment(&p.id);
        }
        let out = bkash.execute(&pid).await;
        self.note_health(ProviderKind::Bkash, &out);
        match out {
            Ok(v @ (Verdict::Paid { .. } | Verdict::Unclear { .. })) => {
                Ok(self.apply_verdict(&p.id, v, "execute")?)
            }
            Ok(_) => {
                Box::pin(self.resolve_authorized(&self.payment(&p.id)?)).await?;
                Ok(self.payment(&p.id)?)
            }
            Err(ProviderError::Refused { code, reason, .. }) => Ok(self.apply_verdict(
                &p.id,
                Verdict::Failed { code, reason },
                "execute refused",
            )?),
            Err(ProviderError::Unreachable { message, .. }) => {
                // Provably never left: execute may go later.
                self.with_journal(|j| {
                    j.unclaim_execute(&p.id, self.now())?;
                    j.defer(
                        DeferredKind::ExecuteResolution,
                        &p.id,
                        None,
                        &message,
                        self.now(),
                    )
                })?;
                Ok(self.payment(&p.id)?)
            }
            Err(e) => {
                tracing::warn!(payment = %p.id, error = %e, "execute outcome unknown; asking payment status");
                Box::pin(self.resolve_authorized(&self.payment(&p.id)?)).await?;
                Ok(self.payment(&p.id)?)
            }
        }
    }

    /// An authorized bKash payment: execute not sent yet → send it; sent →
    /// the answer is payment status, never a second execute.
    pub(crate) async fn resolve_authorized(&self, p: &Payment) -> Result<(), EngineError> {
        if p.execute_sent_at.is_none() {
            Box::pin(self.execute(p)).await?;
            return Ok(());
        }
        let provider = self.inner.registry.get(ProviderKind::Bkash)?.clone();
        let v = provider.query(p).await;
        self.note_health(ProviderKind::Bkash, &v);
        match v {
            Ok(
                v @ (Verdict::Paid { .. }
                | Verdict::Unclear { .. }
                | Verdict::Failed { .. }
                | Verdict::Expired
                | Verdict::Cancelled),
            ) => {
                self.apply_verdict(&p.id, v, "payment status after execute")?;
            }
            Ok(Verdict::Pending) => {
                // bKash has not completed it — yet: our execute may still be
                // in flight there, or bKash slow to show it. "Not completed"
                // is no proof that nothing was taken, so the payment stays
                // authorized ("still checking, do not charge again") and is
                // asked again, until bKash says how it ended or the paymentID's
                // own lifetime has long passed (it can no longer complete).
                if self.now() >= execute_resolution_deadline(p) {
                    self.apply_verdict(
                        &p.id,
                        Verdict::Failed {
                            code: "not_completed".into(),
                            reason: "bKash did not complete the payment; nothing was taken from the customer".into(),
                        },
                        "payment status still not completed after the paymentID expired",
                    )?;
                } else {
                    self.with_journal(|j| {
                        j.defer(
                            DeferredKind::ExecuteResolution,
                            &p.id,
                            None,
                            "bKash has not completed the payment yet",
                            self.now(),
                        )
                    })?;
                }
            }
            Err(e) if e.is_offline() => {
                self.with_journal(|j| {
                    j.defer(
                        DeferredKind::ExecuteResolution,
                        &p.id,
                        None,
                        &e.to_string(),
                        self.now(),
                    )
                })?;
            }
            Err(e) => {
                tracing::warn!(payment = %p.id, error = %e, "payment status refused");
                self.with_journal(|j| {
                    j.defer(
                        DeferredKind::ExecuteResolution,
                        &p.id,
                        None,
                        &e.to_string(),
                        self.now(),
                    )
                })?;
            }
        }
        Ok(())
    }
}

/// When an execute whose outcome is unknown may be taken as "never
/// completed": bKash's paymentID lifetime after create, plus an hour for its
/// status to catch up. Until then "not completed" stays unknown.
fn execute_resolution_deadline(p: &Payment) -> chrono::DateTime<chrono::Utc> {
    let lifetime = chrono::Duration::from_std(till_bkash::PAYMENT_ID_LIFETIME)
        .unwrap_or_else(|_| chrono::Duration::hours(24));
    p.created_at + lifetime + chrono::Duration::hours(1)
}
