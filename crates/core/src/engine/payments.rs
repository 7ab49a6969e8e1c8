//! The payments part of the engine: charge, cancel, refund, and reading
//! payments back. Each step writes the journal before any network call and
//! turns a provider's answer into a state change only through [`super::settle`].

use super::{Charge, Engine, EngineError};
use crate::journal::payments::{Change, ListFilter, NewPayment};
use crate::journal::JournalError;
use crate::money::Amount;
use crate::payment::{Payment, ProviderKind, Refund};
use crate::provider::ProviderError;
use crate::reason::{Reason, ReasonCode};
use crate::state::PaymentState;
use chrono::{DateTime, Utc};
use std::time::Duration;
use tokio::sync::broadcast;

impl Engine {
    /// Starts a payment: written to the journal (with its idempotency key)
    /// before any network call, then handed to the provider.
    pub async fn charge(
        &self,
        provider: ProviderKind,
        amount: Amount,
        operator: &str,
    ) -> Result<Charge, EngineError> {
        self.charge_from(provider, amount, operator, None).await
    }

    /// [`Engine::charge`] for a paired POS (`origin`: its key id and its
    /// reference). A reference the POS used before is refused before
    /// anything is written (`JournalError::OriginTaken`).
    pub(crate) async fn charge_from(
        &self,
        provider: ProviderKind,
        amount: Amount,
        operator: &str,
        origin: Option<(String, String)>,
    ) -> Result<Charge, EngineError> {
        let p = self.inner.registry.get(provider)?.clone();
        if !p.currencies().contains(&amount.currency()) {
            return Err(EngineError::Refusal(
                Reason::new(ReasonCode::CurrencyNotTaken)
                    .with("wallet", p.label())
                    .with("currency", amount.currency().code())
                    .with(
                        "takes",
                        p.currencies()
                            .iter()
                            .map(|c| c.code())
                            .collect::<Vec<_>>()
                            .join(", "),
                    ),
            ));
        }
        self.check_free_space()?;
        let now = self.now();
        let caps = p.capabilities();
        let offline = caps.offline_display && !self.is_online(provider);
        let cap = if offline {
            Some(self.unverified_caps(p.label(), amount, now)?)
        } else {
            None
        };
        let id = ulid::Ulid::new().to_string();
        let created = self
            .with_journal(|j| {
                // The day's cap is checked in the transaction that writes the
                // payment: two charges at once cannot both slip under it.
                j.create_payment_capped(
                    NewPayment {
                        id: id.clone(),
                        provider,
                        amount,
                        operator: operator.to_owned(),
                        at: now,
                        origin,
                    },
                    cap,
                    |invoice, _| {
                        let mut c = p.prepare(invoice, amount, now)?;
                        c.offline = Some(offline);
                        // Where this payment's money goes, as it is now: a later
                        // change of settings does not rewrite it.
                        c.payee = p.payee();
                        Ok::<_, ProviderError>(c)
                    },
                )
            })
            .map_err(|e| match e {
                JournalError::OverUnverifiedCap { after, limit } => EngineError::Refusal(
                    Reason::new(ReasonCode::OverUnverifiedDay)
                        .with("wallet", p.label())
                        .with("after", after.display())
                        .with("limit", limit.display()),
                ),
                e => e.into(),
            })??;
        self.emit(&created);
        let started = p.start(&created).await;
        if caps.step == crate::provider::StepKind::Page {
            // A code or demo start is local: it says nothing about reachability.
            self.note_health(provider, &started);
        }
        match started {
            Ok(s) => {
                let payment = self.with_journal(|j| {
                    j.transition(
                        &created.id,
                        PaymentState::AwaitingCustomer,
                        &s.change,
                        None,
                        self.now(),
                    )
                })?;
                self.emit(&payment);
                self.inner.background.wake_provider(provider);
                Ok(Charge {
                    payment,
                    step: s.step,
                })
            }
            Err(e) => {
                // Create gave no payment to show the customer: nothing can be
                // paid on it, so it ends here.
                let reason = match &e {
                    ProviderError::Unknown { .. } => {
                        format!("{provider} did not answer; nothing was charged. Try again.")
                    }
                    other => other.to_string(),
                };
                let code = match &e {
                    ProviderError::Refused { code, .. } => code.clone(),
                    _ => "start".into(),
                };
                let why = match &e {
                    ProviderError::Refused { code, .. } => p.decline_reason(code),
                    ProviderError::Unknown { .. } | ProviderError::Unreachable { .. } => {
                        ReasonCode::NoAnswer
                    }
                    _ => ReasonCode::Declined,
                };
                let failed = self.with_journal(|j| {
                    j.transition(
                        &created.id,
                        PaymentState::Failed,
                        &Change {
                            failure_code: Some(code),
                            failure_reason: Some(reason.clone()),
                            failure: Some(Reason::new(why).with("wallet", p.label())),
                            ..Change::default()
                        },
                        Some(&e.to_string()),
                        self.now(),
                    )
                })?;
                self.emit(&failed);
                Err(EngineError::Provider(e))
            }
        }
    }

    /// Refuses a payment while the journal's file system has less free space than
    /// `[storage] min_free_mb`: a payment whose record cannot be written must never reach
    /// the customer. Checked each time, so freeing space is enough (no restart).
    fn check_free_space(&self) -> Result<(), EngineError> {
        let min = self.inner.config.storage.min_free_bytes();
        if min == 0 {
            return Ok(());
        }
        match self.with_journal(|j| Ok(j.free_space()))? {
            Ok(free) if free < min => {
                tracing::warn!(free, min, "charge refused: the journal's disk is full");
                Err(EngineError::DiskFull {
                    free_bytes: free,
                    min_free_bytes: min,
                })
            }
            Ok(_) => Ok(()),
            // Not knowing is no reason to refuse a sale: a write the disk cannot take is
            // still rolled back whole and told as disk_full.
            Err(e) => {
                tracing::warn!(error = %e, "cannot tell the journal's free space");
                Ok(())
            }
        }
    }

    /// The offline caps for a code shown while its provider cannot verify it: the
    /// per-payment cap is checked here, the day's is returned for the journal
    /// to check as it writes the payment.
    fn unverified_caps(
        &self,
        label: &str,
        amount: Amount,
        now: DateTime<Utc>,
    ) -> Result<crate::journal::payments::UnverifiedCap, EngineError> {
        let c = amount.currency();
        let per_payment = self.inner.config.offline.max_unverified_per_payment.get(&c);
        let per_day = self.inner.config.offline.max_unverified_per_day.get(&c);
        let zero = rust_decimal::Decimal::ZERO;
        if amount.value() > *per_payment.unwrap_or(&zero) {
            return Err(EngineError::Refusal(
                Reason::new(ReasonCode::OverUnverifiedPayment)
                    .with("wallet", label)
                    .with("amount", amount.display())
                    .with(
                        "limit",
                        Amount::from_stored(&per_payment.unwrap_or(&zero).to_string(), c)?
                            .display(),
                    ),
            ));
        }
        let tz = self.inner.config.timezone()?;
        let cutoff = self.inner.config.cutoff()?;
        Ok(crate::journal::payments::UnverifiedCap {
            day: crate::business_day::business_day(now, tz, cutoff),
            limit: Amount::from_stored(&per_day.unwrap_or(&zero).to_string(), c)?,
        })
    }

    /// Cancels a payment the customer has not completed.
    pub async fn cancel(&self, key: &str, actor: &str) -> Result<Payment, EngineError> {
        let p = self.payment(key)?;
        match p.state {
            PaymentState::Created | PaymentState::AwaitingCustomer => {}
            PaymentState::Authorized => {
                return Err(EngineError::Refusal(Reason::new(
                    ReasonCode::AlreadyApproved,
                )))
            }
            s => {
                return Err(EngineError::Refusal(
                    Reason::new(ReasonCode::NotCancellable).with("state", s),
                ))
            }
        }
        // A code cannot be taken back from the customer's phone: look once
        // more before cancelling, so a payment made this second is not lost.
        if let Ok(provider) = self.inner.registry.get(p.provider) {
            if provider.capabilities().payable_after_cancel {
                let v = provider.query(&p).await;
                self.note_health(p.provider, &v);
                if let Ok(v @ crate::provider::Verdict::Paid { .. }) = v {
                    let settled = self.apply_verdict(&p.id, v, "checked before cancelling")?;
                    return Err(EngineError::Refusal(
                        Reason::new(ReasonCode::AlreadyPaid).with("state", settled.state),
                    ));
                }
            }
        }
        let out = self.with_journal(|j| {
            let out = j.transition(
                &p.id,
                PaymentState::Cancelled,
                &Change {
                    failure_reason: Some("Cancelled at the till".into()),
                    failure: Some(Reason::new(ReasonCode::CancelledAtTill)),
                    ..Change::default()
                },
                Some(&format!("cancelled by {actor}")),
                self.now(),
            )?;
            j.audit(actor, "payment.cancel", Some(&p.id), None, self.now())?;
            Ok(out)
        })?;
        self.emit(&out);
        Ok(out)
    }

    /// Refunds all (`amount` = None) or part of a paid payment.
    pub async fn refund(
        &self,
        key: &str,
        amount: Option<Amount>,
        reason: Option<&str>,
        actor: &str,
    ) -> Result<(Payment, Refund), EngineError> {
        let p = self.payment(key)?;
        let provider = self.inner.registry.get(p.provider)?.clone();
        // Said before anything is written: what the provider cannot do.
        let caps = provider.capabilities();
        if !caps.refunds {
            return Err(ProviderError::Unsupported {
                provider: p.provider,
                message: provider.refund_elsewhere().into(),
            }
            .into());
        }
        let amount = amount.unwrap_or_else(|| p.refundable());
        if !caps.partial_refunds && amount != p.refundable() {
            return Err(ProviderError::Unsupported {
                provider: p.provider,
                message: format!("{} refunds only the whole payment", provider.label()),
            }
            .into());
        }
        let refund_id = ulid::Ulid::new().to_string();
        let (p, r) = self.with_journal(|j| {
            let out = j.begin_refund(&p.id, &refund_id, amount, reason, actor, self.now())?;
            j.audit(
                actor,
                "payment.refund",
                Some(&p.id),
                Some(&format!(
                    "{} ({})",
                    amount,
                    reason.unwrap_or("no reason given")
                )),
                self.now(),
            )?;
            Ok(out)
        })?;
        self.emit(&p);
        self.send_refund(&p, &r).await
    }

    /// Books a refund a manager made outside Till, for a wallet with no
    /// refund API (`Capabilities::refunds` false: the wallet's merchant
    /// portal, a bank transfer): with its `reference` there, audited,
    /// synced like any refund. Nothing is sent to the provider.
    pub fn record_refund(
        &self,
        key: &str,
        amount: Option<Amount>,
        reference: &str,
        reason: Option<&str>,
        actor: &str,
    ) -> Result<(Payment, Refund), EngineError> {
        let reference = reference.trim();
        if reference.is_empty() || reference.chars().count() > 64 {
            return Err(EngineError::Refusal(Reason::new(
                ReasonCode::RefundReference,
            )));
        }
        let p = self.payment(key)?;
        if self.capabilities_of(p.provider).is_some_and(|c| c.refunds) {
            return Err(EngineError::Refusal(
                Reason::new(ReasonCode::RefundsThroughTill)
                    .with("wallet", self.label_of(p.provider)),
            ));
        }
        let amount = amount.unwrap_or_else(|| p.refundable());
        let refund_id = ulid::Ulid::new().to_string();
        let provider_ref = format!("elsewhere:{reference}");
        let now = self.now();
        let (p, r) = self.with_journal(|j| {
            let out = j.record_refund_made_elsewhere(
                &p.id,
                &refund_id,
                amount,
                reason,
                actor,
                &provider_ref,
                now,
            )?;
            j.audit(
                actor,
                "payment.refund_recorded",
                Some(&p.id),
                Some(&format!(
                    "{} made outside Till, reference {reference} ({})",
                    amount,
                    reason.unwrap_or("no reason given")
                )),
                now,
            )?;
            Ok(out)
        })?;
        self.emit(&p);
        Ok((p, r))
    }

    /// The payment for an id, invoice, paymentID, MD5 or trxID.
    pub fn payment(&self, key: &str) -> Result<Payment, EngineError> {
        self.with_journal(|j| j.find(key))?
            .ok_or_else(|| EngineError::NotFound(key.to_owned()))
    }

    pub fn events_of(&self, id: &str) -> Result<Vec<crate::payment::PaymentEvent>, EngineError> {
        Ok(self.with_journal(|j| j.events(id))?)
    }

    pub fn refunds_of(&self, id: &str) -> Result<Vec<Refund>, EngineError> {
        Ok(self.with_journal(|j| j.refunds_of(id))?)
    }

    pub fn list(&self, filter: &ListFilter) -> Result<Vec<Payment>, EngineError> {
        Ok(self.with_journal(|j| j.list(filter))?)
    }

    /// Asks the provider about an open payment now (the cashier's "check again").
    pub async fn refresh(&self, key: &str) -> Result<Payment, EngineError> {
        let p = self.payment(key)?;
        if !p.state.is_open() {
            return Ok(p);
        }
        self.resolve_payment(&p).await?;
        self.payment(&p.id)
    }

    /// Waits until the payment is in a state that is not open, or `timeout` passes.
    pub async fn wait_final(&self, id: &str, timeout: Duration) -> Result<Payment, EngineError> {
        let mut rx = self.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let p = self.payment(id)?;
            if !p.state.is_open() {
                return Ok(p);
            }
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Err(_) => return self.payment(id),
                Ok(Err(broadcast::error::RecvError::Closed)) => return self.payment(id),
                Ok(_) => {}
            }
        }
    }
}
