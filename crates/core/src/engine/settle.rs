//! Turning a provider's answer into a state change. Only an explicit answer
//! moves a payment; `Pending` leaves it alone. A payment is settled only with
//! the exact amount and currency we asked for; anything else is flagged.
//!
//! A sent refund the provider has no record of stays unknown (the payment
//! `refund_pending`, asked again) for [`REFUND_NOT_FOUND_WINDOW`] after it was
//! sent: a refund still on its way must not be failed, which would invite a
//! second one. Only after that window is "no record" taken as "nothing was
//! returned".

use super::{Engine, EngineError};
use crate::journal::deferred::DeferredKind;
use crate::journal::payments::Change;
use crate::payment::{Payment, Refund, RefundState};
use crate::reason::{Reason, ReasonCode};

use crate::provider::{ProviderError, RefundVerdict, Verdict};
use crate::state::PaymentState;

/// How long a sent refund the provider does not list stays unknown before it
/// is failed (one hour; providers answer a refund within their timeout, 30 s
/// or so, so a refund still not on record an hour later was never made).
pub const REFUND_NOT_FOUND_WINDOW: chrono::Duration = chrono::Duration::hours(1);

/// An amount a provider reported, as a person reads it ("৳ 100.00"); its
/// plain figures when Till cannot hold it exactly.
fn paid_display(amount: rust_decimal::Decimal, currency: crate::money::Currency) -> String {
    crate::money::Amount::from_stored(&amount.to_string(), currency)
        .map(|a| a.display())
        .unwrap_or_else(|_| format!("{amount} {currency}"))
}

impl Engine {
    /// Applies `verdict` to the payment `id` if it is still open. Returns the payment as it is now.
    pub(crate) fn apply_verdict(
        &self,
        id: &str,
        verdict: Verdict,
        detail: &str,
    ) -> Result<Payment, EngineError> {
        let now = self.now();
        let out = self.with_journal(|j| {
            let p = j.payment(id)?;
            let label = self.label_of(p.provider);
            let open = matches!(
                p.state,
                PaymentState::Created | PaymentState::AwaitingCustomer | PaymentState::Authorized
            ) || paid_before_expiry(&p, &verdict);
            if !open {
                return late_payment(j, &p, &verdict, detail, now);
            }
            let (to, change, detail) = match verdict {
                Verdict::Pending => return Ok(None),
                Verdict::Paid {
                    amount,
                    currency,
                    refs,
                    ..
                } => {
                    if p.amount.matches(amount, currency) {
                        (
                            PaymentState::Settled,
                            Change {
                                refs,
                                ..Change::default()
                            },
                            detail.to_owned(),
                        )
                    } else {
                        let what = format!("paid {amount} {currency} instead of {}", p.amount);
                        (
                            PaymentState::Flagged,
                            Change {
                                refs,
                                flag: Some(format!("amount_mismatch: {what}")),
                                failure_reason: Some(format!(
                                    "The customer {what}. A manager must check this payment."
                                )),
                                failure: Some(
                                    Reason::new(ReasonCode::AmountMismatch)
                                        .with("paid", paid_display(amount, currency))
                                        .with("asked", p.amount.display()),
                                ),
                                ..Change::default()
                            },
                            format!("{detail}: {what}"),
                        )
                    }
                }
                Verdict::Failed { code, reason } => (
                    PaymentState::Failed,
                    Change {
                        failure: Some(
                            // A code of Till's own (`interrupted`), or the
                            // provider's, read by the provider.
                            Reason::new(match ReasonCode::of_kind(&code) {
                                ReasonCode::Other => self
                                    .inner
                                    .registry
                                    .get(p.provider)
                                    .map(|pr| pr.decline_reason(&code))
                                    .unwrap_or(ReasonCode::Declined),
                                own => own,
                            })
                            .with("wallet", label),
                        ),
                        failure_code: Some(code),
                        failure_reason: Some(reason),
                        ..Change::default()
                    },
                    detail.to_owned(),
                ),
                Verdict::Cancelled => (
                    PaymentState::Cancelled,
                    Change {
                        failure_reason: Some("The customer cancelled the payment".into()),
                        failure: Some(Reason::new(ReasonCode::CancelledByCustomer)),
                        ..Change::default()
                    },
                    detail.to_owned(),
                ),
                Verdict::Unclear { refs, kind, what } => (
                    PaymentState::Flagged,
                    Change {
                        refs,
                        flag: Some(format!("{kind}: {what}")),
                        failure_reason: Some(format!(
                            "{what}. A manager must check this payment."
                        )),
                        failure: Some(Reason::new(ReasonCode::of_kind(kind)).with("wallet", label)),
                        ..Change::default()
                    },
                    format!("{detail}: {what}"),
                ),
                Verdict::Expired => (
                    PaymentState::Expired,
                    Change {
                        failure_reason: Some("The payment expired before the customer paid".into()),
                        failure: Some(Reason::new(ReasonCode::Expired)),
                        ..Change::default()
                    },
                    detail.to_owned(),
                ),
            };
            // An approved (authorized) payment never expires or is cancelled:
            // the provider saying so after our completion means it took nothing.
            let (to, change) = match (p.state, to) {
                (PaymentState::Authorized, PaymentState::Cancelled) => (PaymentState::Failed, change),
                (PaymentState::Authorized, PaymentState::Expired) => (
                    PaymentState::Failed,
                    Change {
                        failure_code: Some("expired".into()),
                        failure_reason: Some(format!(
                            "{} let the payment expire without completing it; nothing was taken from the customer",
                            label
                        )),
                        failure: Some(Reason::new(ReasonCode::Expired)),
                        ..Change::default()
                    },
                ),
                _ => (to, change),
            };
            j.transition(id, to, &change, Some(&detail), now).map(Some)
        })?;
        match out {
            Some(p) => {
                self.emit(&p);
                Ok(p)
            }
            None => Ok(self.payment(id)?),
        }
    }

    /// Gives up a payment nobody paid in time — Till's own decision, not a
    /// provider's answer — only while it is still waiting for the customer
    /// and no execute was sent. Checked and written under one journal lock,
    /// so a callback that authorized it meanwhile wins (H1).
    pub(crate) fn expire_unanswered(&self, id: &str, detail: &str) -> Result<Payment, EngineError> {
        let now = self.now();
        let out = self.with_journal(|j| {
            let p = j.payment(id)?;
            if p.state != PaymentState::AwaitingCustomer || p.completion_sent_at.is_some() {
                return Ok(None);
            }
            j.transition(
                id,
                PaymentState::Expired,
                &Change {
                    failure_reason: Some("The payment expired before the customer paid".into()),
                    failure: Some(Reason::new(ReasonCode::Expired)),
                    ..Change::default()
                },
                Some(detail),
                now,
            )
            .map(Some)
        })?;
        match out {
            Some(p) => {
                self.emit(&p);
                Ok(p)
            }
            None => Ok(self.payment(id)?),
        }
    }

    /// Asks the provider how an open payment stands and applies the answer;
    /// when the provider cannot be reached the question is queued.
    pub(crate) async fn resolve_payment(&self, p: &Payment) -> Result<(), EngineError> {
        if p.state == PaymentState::RefundPending {
            if let Some(r) = self.with_journal(|j| j.open_refund(&p.id))? {
                self.send_refund(p, &r).await?;
            }
            return Ok(());
        }
        if p.state == PaymentState::Authorized {
            return self.resolve_authorized(p).await;
        }
        let provider = self.inner.registry.get(p.provider)?.clone();
        let v = provider.query(p).await;
        self.note_health(p.provider, &v);
        match v {
            Ok(v) => {
                self.apply_verdict(&p.id, v, "provider status")?;
            }
            Err(e) if e.is_offline() => {
                self.with_journal(|j| {
                    j.defer(
                        DeferredKind::StatusCheck,
                        &p.id,
                        None,
                        &e.to_string(),
                        self.now(),
                    )
                })?;
            }
            Err(e) => tracing::warn!(payment = %p.id, error = %e, "status check refused"),
        }
        Ok(())
    }

    /// Sends a refund once, or finds out how a sent one ended. Never sends twice.
    pub(crate) async fn send_refund(
        &self,
        p: &Payment,
        r: &Refund,
    ) -> Result<(Payment, Refund), EngineError> {
        let provider = self.inner.registry.get(p.provider)?.clone();
        let now = self.now();
        let answer = match r.state {
            RefundState::Requested => {
                if !self.with_journal(|j| j.claim_refund(&r.id, now))? {
                    return self.refund_by_status(p, r).await;
                }
                let out = provider.refund(p, r).await;
                if let Err(ProviderError::Unreachable { .. }) = &out {
                    // Provably not sent: it may be sent later.
                    self.with_journal(|j| j.unclaim_refund(&r.id))?;
                }
                out
            }
            RefundState::Sent => return self.refund_by_status(p, r).await,
            RefundState::Done | RefundState::Failed => {
                return Ok((self.payment(&p.id)?, r.clone()));
            }
        };
        self.note_health(p.provider, &answer);
        self.finish_refund(p, r, answer)
    }

    async fn refund_by_status(
        &self,
        p: &Payment,
        r: &Refund,
    ) -> Result<(Payment, Refund), EngineError> {
        let provider = self.inner.registry.get(p.provider)?.clone();
        // The provider's ids of this payment's refunds already booked: none
        // of them can be the one whose answer was lost.
        let booked: Vec<String> = self
            .with_journal(|j| j.refunds_of(&p.id))?
            .into_iter()
            .filter(|x| x.id != r.id && x.state == RefundState::Done)
            .filter_map(|x| x.provider_refund_id)
            .collect();
        let answer = provider.refund_status(p, r, &booked).await;
        self.note_health(p.provider, &answer);
        let now = self.now();
        let deadline = r.sent_at.unwrap_or(r.created_at) + REFUND_NOT_FOUND_WINDOW;
        let answer = match answer {
            // No record (yet), or a status question refused: neither says the
            // refund was not made. It stays unknown for a while, asked again.
            Ok(RefundVerdict::NotFound) | Err(ProviderError::Refused { .. }) if now < deadline => {
                let why = match &answer {
                    Err(e) => format!("refund status refused: {e}"),
                    _ => "the provider has no record of this refund yet".to_owned(),
                };
                self.with_journal(|j| {
                    j.defer(DeferredKind::Refund, &p.id, Some(&r.id), &why, now)
                })?;
                return Ok((
                    self.payment(&p.id)?,
                    self.with_journal(|j| j.refund(&r.id))?,
                ));
            }
            // Still no record long after it was sent: it was never made. It
            // is not sent again blindly; a manager may refund anew.
            Ok(RefundVerdict::NotFound) => Ok(RefundVerdict::Failed {
                reason: "the provider still has no record of this refund an hour after it was sent; nothing was returned".into(),
            }),
            other => other,
        };
        self.finish_refund(p, r, answer)
    }

    fn finish_refund(
        &self,
        p: &Payment,
        r: &Refund,
        answer: Result<RefundVerdict, ProviderError>,
    ) -> Result<(Payment, Refund), EngineError> {
        let now = self.now();
        let out = match answer {
            Ok(RefundVerdict::Done { provider_refund_id }) => {
                self.with_journal(|j| j.finish_refund(&r.id, Ok(&provider_refund_id), now))?
            }
            Ok(RefundVerdict::Failed { reason }) => {
                self.with_journal(|j| j.finish_refund(&r.id, Err(&reason), now))?
            }
            Ok(RefundVerdict::NotFound) => {
                self.with_journal(|j| j.finish_refund(&r.id, Err("refused"), now))?
            }
            Ok(RefundVerdict::Unclear { reason }) => {
                // Booking a refund that may not be this one could say the
                // customer got money they did not: it stays unknown, asked
                // again, and the payment is flagged for a manager.
                let payment = self.with_journal(|j| {
                    j.defer(DeferredKind::Refund, &p.id, Some(&r.id), &reason, now)?;
                    let current = j.payment(&p.id)?;
                    if current.flag.is_some() {
                        return Ok(current);
                    }
                    j.annotate(
                        &p.id,
                        &Change {
                            flag: Some(format!("refund_unclear: {reason}")),
                            ..Change::default()
                        },
                        &format!("refund {}: {reason}", r.id),
                        now,
                    )
                })?;
                (payment, self.with_journal(|j| j.refund(&r.id))?)
            }
            Err(e) if e.is_offline() => {
                self.with_journal(|j| {
                    j.defer(
                        DeferredKind::Refund,
                        &p.id,
                        Some(&r.id),
                        &e.to_string(),
                        now,
                    )
                })?;
                (
                    self.payment(&p.id)?,
                    self.with_journal(|j| j.refund(&r.id))?,
                )
            }
            Err(e) => {
                let reason = e.to_string();
                self.with_journal(|j| j.finish_refund(&r.id, Err(&reason), now))?
            }
        };
        self.emit(&out.0);
        Ok(out)
    }
}

/// An expired payment the provider reports paid at a time before its
/// expiry: the code expired only because the payment was seen late, so it
/// settles (or is flagged for a wrong amount) as if seen in time (M3).
fn paid_before_expiry(p: &Payment, verdict: &Verdict) -> bool {
    let Verdict::Paid {
        paid_at: Some(at), ..
    } = verdict
    else {
        return false;
    };
    p.state == PaymentState::Expired && p.expires_at.is_some_and(|e| *at < e)
}

/// A provider reports money taken for a payment Till had already ended
/// (failed, cancelled, expired). Never ignored: the payment is flagged for
/// the manager, with the provider's references, in the same lock.
fn late_payment(
    j: &mut crate::journal::Journal,
    p: &Payment,
    verdict: &Verdict,
    detail: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<Payment>, crate::journal::JournalError> {
    let (paid, refs) = match verdict {
        Verdict::Paid {
            amount,
            currency,
            refs,
            ..
        } => (format!("{amount} {currency}"), refs),
        Verdict::Unclear { refs, what, .. } => (what.clone(), refs),
        _ => return Ok(None),
    };
    let kind = match p.state {
        PaymentState::Expired => "paid_after_expiry",
        PaymentState::Cancelled => "paid_after_cancel",
        PaymentState::Failed => "paid_after_failure",
        // Settled, refunds, flagged: the money is already accounted for.
        _ => return Ok(None),
    };
    if p.flag.is_some() {
        // Already told the manager.
        return Ok(None);
    }
    j.annotate(
        &p.id,
        &Change {
            refs: refs.clone(),
            flag: Some(format!("{kind}: {paid}")),
            failure: Some(Reason::new(ReasonCode::of_kind(kind)).with("paid", &paid)),
            ..Change::default()
        },
        &format!(
            "{detail}: the provider reports a payment ({paid}) after the payment was {}",
            p.state
        ),
        now,
    )
    .map(Some)
}
