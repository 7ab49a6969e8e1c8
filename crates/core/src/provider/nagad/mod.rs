//! Nagad glue: initialize + complete → (customer on Nagad's page) → callback
//! (a hint) → verify, the only proof. Nagad has no completion call: after
//! the page, the engine's hosted-page flow (`engine/hosted.rs`) asks
//! [`Provider::query`] (verify) and nothing else. Wire types, sealing,
//! signatures and the status words live in `till-nagad`.
//!
//! | module | what it is |
//! | --- | --- |
//! | here | verdicts, error mapping, the [`Provider`] impl |
//! | [`setup`] | the client `[nagad]` and the two keys in the secrets ask for |
//! | [`reconcile`] | the day's payments verified again |

mod reconcile;
pub(crate) mod setup;

use super::{
    BoxFuture, Callback, CallbackOutcome, CallbackRefused, Capabilities, Provider, ProviderError,
    ReferenceNames, RefundVerdict, Started, StepKind, Verdict,
};
use crate::journal::payments::Change;
use crate::money::{Amount, Currency};
use crate::payment::{Payment, ProviderKind, ProviderRefs, Refund};
use chrono::{DateTime, Utc};
use till_nagad::{NagadClient, NagadError, Outcome, PaymentStatus, Resolution};

const KIND: ProviderKind = ProviderKind::Nagad;

/// How a Nagad refund is made (`nagad.refunds`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefundRoute {
    /// Through the API's cancel call (not every merchant has it).
    Api,
    /// In the Nagad merchant portal; Till records what a manager did there.
    Portal,
}

pub struct NagadProvider {
    pub client: NagadClient,
    /// Where Nagad's page sends the customer back (the shell watches for it).
    pub callback_url: url::Url,
    /// How long a customer has on the page before the payment is given up.
    pub checkout_window: chrono::Duration,
    /// The origin the page may show (`nagad.checkout_origin`, else the API's).
    pub page_origin: Option<url::Origin>,
    pub refunds: RefundRoute,
}

/// Maps an error of verify (idempotent) or of start.
pub fn map_error(e: NagadError) -> ProviderError {
    match e.resolution() {
        Resolution::Failed => ProviderError::Refused {
            provider: KIND,
            code: e.reason().unwrap_or(e.code()).to_owned(),
            reason: cashier_reason(&e),
        },
        Resolution::RetryLater => ProviderError::Unreachable {
            provider: KIND,
            message: e.to_string(),
        },
        Resolution::AskStatus => ProviderError::Unknown {
            provider: KIND,
            message: e.to_string(),
        },
    }
}

/// What the cashier is told when Nagad refused.
fn cashier_reason(e: &NagadError) -> String {
    match e {
        NagadError::Refused { reason, .. } => {
            format!("Nagad refused the payment ({reason}). Nothing was charged.")
        }
        NagadError::Invalid(i) => format!("Till cannot send this to Nagad: {i}."),
        other => format!(
            "Nagad's answer could not be used ({}). Nothing was charged.",
            other.code()
        ),
    }
}

/// A verify answer for `p` as a verdict. Only `Success` with an exact
/// amount and Nagad's transaction id is paid (the engine compares the
/// amount); an answer about another order or merchant is not ours to settle.
pub fn verdict_of(p: &Payment, s: &PaymentStatus) -> Verdict {
    if s.order_id.as_deref().is_some_and(|o| o != p.invoice) {
        return Verdict::Unclear {
            refs: ProviderRefs::default(),
            kind: "unreadable_payment",
            what: format!(
                "Nagad's answer for this payment names order {}, not {}",
                s.order_id.as_deref().unwrap_or_default(),
                p.invoice
            ),
        };
    }
    match &s.outcome {
        Outcome::Paid {
            amount,
            issuer_ref,
            paid_at,
        } => Verdict::Paid {
            amount: *amount,
            currency: Currency::Bdt,
            refs: ProviderRefs {
                transaction: Some(issuer_ref.clone()),
                ..ProviderRefs::default()
            },
            paid_at: paid_at.as_deref().and_then(dhaka_time),
        },
        Outcome::Failed { code, reason } => Verdict::Failed {
            code: code.clone().unwrap_or_else(|| reason.clone()),
            reason: format!(
                "The payment did not go through on the Nagad page ({reason}). The customer may try again."
            ),
        },
        Outcome::Pending => Verdict::Pending,
    }
}

/// Nagad's `yyyy-MM-dd HH:mm:ss[.S]` (Asia/Dhaka) as a time.
fn dhaka_time(raw: &str) -> Option<DateTime<Utc>> {
    let text = raw.split('.').next()?.trim();
    let naive = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").ok()?;
    naive
        .and_local_timezone(chrono_tz::Asia::Dhaka)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// What a failed connection test asks the manager to fix.
fn connection_problem(e: &NagadError) -> crate::connect::Problem {
    use crate::connect::Problem;
    match e {
        NagadError::Refused {
            http_status: 401 | 403,
            ..
        } => Problem::WrongCredentials,
        NagadError::Refused { reason, .. } => Problem::Refused {
            provider_code: reason.clone(),
        },
        NagadError::Unreachable { .. } => Problem::Unreachable,
        NagadError::OutcomeUnknown { .. } => Problem::Timeout,
        NagadError::RateLimited { .. } => Problem::RateLimited,
        NagadError::Protocol { .. } => Problem::Unreadable,
        NagadError::Invalid(i) => Problem::NotConfigured {
            what: i.to_string(),
        },
    }
}

impl Provider for NagadProvider {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn label(&self) -> &'static str {
        "Nagad"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            references: ReferenceNames {
                lookup: "paymentReferenceId",
                transaction: "issuerPaymentRefNo",
                external: None,
            },
            step: StepKind::Page,
            refunds: self.refunds == RefundRoute::Api,
            partial_refunds: self.refunds == RefundRoute::Api,
            offline_display: false,
            completion_call: false,
            watches_its_payments: false,
            payable_after_cancel: false,
        }
    }

    fn currencies(&self) -> Vec<Currency> {
        vec![Currency::Bdt]
    }

    /// The merchant id the payments go to (not a secret).
    fn payee(&self) -> Option<String> {
        Some(format!("nagad-merchant-{}", self.client.merchant_id()))
    }

    fn payee_setting(&self) -> &'static str {
        "nagad.merchant_id"
    }

    fn prepare(&self, _: &str, _: Amount, now: DateTime<Utc>) -> Result<Change, ProviderError> {
        Ok(super::page_prepared(
            &self.callback_url,
            self.checkout_window,
            now,
        ))
    }

    /// Initialize, then complete: the page to show. The invoice is Nagad's order id.
    fn start<'a>(&'a self, p: &'a Payment) -> BoxFuture<'a, Result<Started, ProviderError>> {
        Box::pin(async move {
            let started = self
                .client
                .start(&p.invoice, p.amount.value(), self.callback_url.as_str())
                .await
                .map_err(map_error)?;
            Ok(Started::page(
                started.payment_ref_id,
                started.page_url,
                &self.callback_url,
            ))
        })
    }

    /// Verify: the only proof.
    fn query<'a>(&'a self, p: &'a Payment) -> BoxFuture<'a, Result<Verdict, ProviderError>> {
        Box::pin(async move {
            let Some(reference) = &p.refs.lookup else {
                return Ok(Verdict::Pending);
            };
            match self.client.verify(reference).await {
                Ok(s) => Ok(verdict_of(p, &s)),
                Err(e) => Err(map_error(e)),
            }
        })
    }

    fn refund<'a>(
        &'a self,
        p: &'a Payment,
        r: &'a Refund,
    ) -> BoxFuture<'a, Result<RefundVerdict, ProviderError>> {
        Box::pin(async move {
            let Some(reference) = &p.refs.lookup else {
                return Err(ProviderError::Unsupported {
                    provider: KIND,
                    message: "the payment has no Nagad reference to refund".into(),
                });
            };
            let req = till_nagad::RefundRequest {
                payment_ref_id: reference.clone(),
                order_id: p.invoice.clone(),
                original_amount: p.amount.value(),
                amount: r.amount.value(),
                original_date: till_nagad::wire::date_text(p.created_at.into()),
                reference: r.id.clone(),
                reason: r.reason.clone().unwrap_or_else(|| "refund".into()),
            };
            match self.client.refund(&req).await {
                Ok(done) if done.status == till_nagad::RefundStatus::Done => {
                    Ok(RefundVerdict::Done {
                        provider_refund_id: done.cancel_trx_id.unwrap_or(done.reference),
                    })
                }
                Ok(other) => Err(ProviderError::Unknown {
                    provider: KIND,
                    message: format!("refund answered {}", other.raw_status),
                }),
                Err(e) => match e.resolution() {
                    Resolution::Failed => Ok(RefundVerdict::Failed {
                        reason: cashier_reason(&e),
                    }),
                    _ => Err(map_error(e)),
                },
            }
        })
    }

    /// Nagad lists no refunds by id: verify names the last cancel
    /// (`cancelIssuerRefNo`), which is this refund only if no other was booked.
    fn refund_status<'a>(
        &'a self,
        p: &'a Payment,
        _r: &'a Refund,
        booked: &'a [String],
    ) -> BoxFuture<'a, Result<RefundVerdict, ProviderError>> {
        Box::pin(async move {
            let Some(reference) = &p.refs.lookup else {
                return Ok(RefundVerdict::NotFound);
            };
            let s = self.client.verify(reference).await.map_err(map_error)?;
            match s.cancel_issuer_ref_no {
                None => Ok(RefundVerdict::NotFound),
                Some(id) if booked.contains(&id) => Ok(RefundVerdict::NotFound),
                Some(id) if booked.is_empty() => Ok(RefundVerdict::Done {
                    provider_refund_id: id,
                }),
                Some(id) => Ok(RefundVerdict::Unclear {
                    reason: format!(
                        "Nagad names refund {id}, and this payment has refunds booked before: which one it is cannot be told"
                    ),
                }),
            }
        })
    }

    fn refund_elsewhere(&self) -> &'static str {
        "Nagad refunds are made in the Nagad merchant portal; record the refund made there"
    }

    fn test_connection<'a>(
        &'a self,
        http: &'a reqwest::Client,
    ) -> BoxFuture<'a, crate::connect::ConnectionReport> {
        Box::pin(crate::connect::check(
            KIND.as_str(),
            http,
            self.client.base_url(),
            async {
                match self.client.test_connection().await {
                    Ok(_) => Ok(crate::connect::Proof::CodeLookedUp),
                    Err(e) => Err((connection_problem(&e), e.to_string())),
                }
            },
        ))
    }

    fn callback(&self, url: &url::Url) -> Option<Result<Callback, CallbackRefused>> {
        if !till_nagad::is_callback(url, &self.callback_url) {
            return None;
        }
        Some(
            till_nagad::parse_callback(url, &self.callback_url)
                .map(|cb| Callback {
                    payment_key: cb.payment_ref_id,
                    outcome: match cb.status {
                        // The page says paid: verify says whether it was.
                        till_nagad::CallbackStatus::Success => CallbackOutcome::Approved,
                        // Anything else is only a reason to ask verify now:
                        // money moves on Nagad's page without our word.
                        _ => CallbackOutcome::Check,
                    },
                })
                .map_err(|e| CallbackRefused {
                    provider: KIND,
                    reason: e.to_string(),
                }),
        )
    }

    fn callback_url(&self) -> Option<url::Url> {
        Some(self.callback_url.clone())
    }

    fn page_origin(&self) -> Option<url::Origin> {
        self.page_origin.clone()
    }

    /// The page's order lives for the checkout window; a day more for its
    /// status to settle.
    fn resolution_deadline(&self, p: &Payment) -> DateTime<Utc> {
        p.created_at + self.checkout_window + chrono::Duration::hours(24)
    }

    fn reconcile<'a>(
        &'a self,
        payments: &'a [&'a Payment],
    ) -> BoxFuture<'a, Option<crate::report::reconcile::ProviderResult>> {
        Box::pin(async move { Some(reconcile::check(&self.client, payments).await) })
    }
}
