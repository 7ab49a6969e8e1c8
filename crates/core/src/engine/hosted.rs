//! Page wallets after the hosted page: the callback (a hint, never proof,
//! routed to its provider by URL), the completion call where the provider
//! has one ([`Capabilities::completion_call`], e.g. an execute: sent at most
//! once, the journal records it before it leaves), and the resolution of an
//! approved payment — by the provider's status, never by a second completion.

use super::{Engine, EngineError};
use crate::journal::deferred::DeferredKind;
use crate::journal::payments::Change;
use crate::payment::Payment;
use crate::provider::{CallbackOutcome, Capabilities, ProviderError, Verdict};
use crate::state::PaymentState;

impl Engine {
    /// Whether `url` is where a page wallet's checkout ends (the shell
    /// watches its webview's navigation, and the CLI its listener, with this).
    pub fn is_callback(&self, url: &url::Url) -> bool {
        self.inner.registry.all().any(|p| p.callback(url).is_some())
    }

    /// Where the page of `kind` sends the customer back (None: not a page wallet, or off).
    pub fn callback_url(&self, kind: crate::ProviderKind) -> Option<url::Url> {
        self.inner.registry.get(kind).ok()?.callback_url()
    }

    /// Where the pages of the wallets on send the customer back, once each
    /// (the CLI listens there).
    pub fn callback_urls(&self) -> Vec<url::Url> {
        let mut urls: Vec<url::Url> = self
            .inner
            .registry
            .all()
            .filter_map(|p| p.callback_url())
            .collect();
        urls.sort();
        urls.dedup();
        urls
    }

    /// The origin the checkout page of `kind` may show (None: not a page wallet).
    pub fn page_origin(&self, kind: crate::ProviderKind) -> Option<url::Origin> {
        self.inner.registry.get(kind).ok()?.page_origin()
    }

    /// The page sent the customer to our callback URL. Approved leads to the
    /// completion call (or straight to the provider's status); cancelled or
    /// failed end the payment. Repeated or late callbacks change nothing.
    pub async fn callback(&self, url: &url::Url) -> Result<Payment, EngineError> {
        let Some((provider, cb)) = self
            .inner
            .registry
            .all()
            .find_map(|p| p.callback(url).map(|cb| (p.clone(), cb)))
        else {
            return Err(EngineError::Refused(
                "not a callback of any wallet this till takes".into(),
            ));
        };
        let cb = cb.map_err(|e| EngineError::Refused(format!("not a callback we accept: {e}")))?;
        let p = self
            .with_journal(|j| j.find(&cb.payment_key))?
            .filter(|p| p.provider == provider.kind())
            .ok_or_else(|| EngineError::NotFound(cb.payment_key.clone()))?;
        if p.state != PaymentState::AwaitingCustomer {
            tracing::info!(payment = %p.id, state = %p.state, "callback for a payment that is not waiting; ignored");
            return Ok(p);
        }
        let now = self.now();
        match cb.outcome {
            CallbackOutcome::Approved => {
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
                Box::pin(self.resolve_authorized(&p)).await?;
                self.payment(&p.id)
            }
            CallbackOutcome::Check => {
                let v = provider.query(&p).await;
                self.note_health(p.provider, &v);
                match v {
                    Ok(v) => Ok(self.apply_verdict(&p.id, v, "status after the page ended")?),
                    // Not known now: the payment waits, and the sweeper asks again.
                    Err(e) => {
                        tracing::warn!(payment = %p.id, error = %e, "status after the page ended not known");
                        self.payment(&p.id)
                    }
                }
            }
            CallbackOutcome::Cancelled => {
                Ok(self.apply_verdict(&p.id, Verdict::Cancelled, "callback: cancel")?)
            }
            CallbackOutcome::Failed { code, reason } => Ok(self.apply_verdict(
                &p.id,
                Verdict::Failed { code, reason },
                "callback: failure",
            )?),
        }
    }

    /// Sends the completion call once. If it had been sent before, resolves by status.
    async fn complete(&self, p: &Payment) -> Result<Payment, EngineError> {
        let provider = self.inner.registry.get(p.provider)?.clone();
        if !self.with_journal(|j| j.claim_completion(&p.id, self.now()))? {
            Box::pin(self.resolve_authorized(p)).await?;
            return self.payment(&p.id);
        }
        let out = provider.complete(p).await;
        self.note_health(p.provider, &out);
        match out {
            Ok(v @ (Verdict::Paid { .. } | Verdict::Unclear { .. })) => {
                Ok(self.apply_verdict(&p.id, v, provider.completion_name())?)
            }
            Ok(_) => {
                Box::pin(self.resolve_authorized(&self.payment(&p.id)?)).await?;
                Ok(self.payment(&p.id)?)
            }
            Err(ProviderError::Refused { code, reason, .. }) => Ok(self.apply_verdict(
                &p.id,
                Verdict::Failed { code, reason },
                &format!("{} refused", provider.completion_name()),
            )?),
            Err(ProviderError::Unreachable { message, .. }) => {
                // Provably never left: execute may go later.
                self.with_journal(|j| {
                    j.unclaim_completion(&p.id, self.now())?;
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
                tracing::warn!(payment = %p.id, error = %e, "completion outcome unknown; asking payment status");
                Box::pin(self.resolve_authorized(&self.payment(&p.id)?)).await?;
                Ok(self.payment(&p.id)?)
            }
        }
    }

    /// An approved payment: its completion call not sent yet → send it;
    /// sent (or the provider has none) → the answer is the provider's
    /// status, never a second completion.
    pub(crate) async fn resolve_authorized(&self, p: &Payment) -> Result<(), EngineError> {
        let provider = self.inner.registry.get(p.provider)?.clone();
        let caps: Capabilities = provider.capabilities();
        if caps.completion_call && p.completion_sent_at.is_none() {
            Box::pin(self.complete(p)).await?;
            return Ok(());
        }
        let v = provider.query(p).await;
        self.note_health(p.provider, &v);
        match v {
            Ok(
                v @ (Verdict::Paid { .. }
                | Verdict::Unclear { .. }
                | Verdict::Failed { .. }
                | Verdict::Expired
                | Verdict::Cancelled),
            ) => {
                let detail = if caps.completion_call {
                    format!("payment status after {}", provider.completion_name())
                } else {
                    "payment status after approval".to_owned()
                };
                self.apply_verdict(&p.id, v, &detail)?;
            }
            Ok(Verdict::Pending) => {
                // The provider has not completed it — yet: our completion may
                // still be in flight there, or its status slow to show it.
                // "Not completed" is no proof that nothing was taken, so the
                // payment stays authorized ("still checking, do not charge
                // again") and is asked again, until the provider says how it
                // ended or the payment's own lifetime has long passed (it can
                // no longer complete).
                if self.now() >= provider.resolution_deadline(p) {
                    self.apply_verdict(
                        &p.id,
                        Verdict::Failed {
                            code: "not_completed".into(),
                            reason: format!(
                                "{} did not complete the payment; nothing was taken from the customer",
                                provider.label()
                            ),
                        },
                        "payment status still not completed after the payment's lifetime",
                    )?;
                } else {
                    self.with_journal(|j| {
                        j.defer(
                            DeferredKind::ExecuteResolution,
                            &p.id,
                            None,
                            "the provider has not completed the payment yet",
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
