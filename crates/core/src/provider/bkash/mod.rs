//! bKash Tokenized Checkout glue: create → (customer on the hosted page) →
//! callback → execute, with execute's unknown outcomes resolved by payment
//! status and never by a second execute (the engine's hosted-page flow,
//! `engine/hosted.rs`, drives it through [`Provider::callback`] and
//! [`Provider::complete`]). Wire types, codes and the token cache live in
//! `till-bkash`.
//!
//! | module | what it is |
//! | --- | --- |
//! | here | verdicts, error mapping, refund matching, the [`Provider`] impl |
//! | [`setup`] | the client `[bkash]` asks for: own credentials and token store, or the hub's token |
//! | [`token`] | the token store shared by every process on the data directory |
//! | [`lend`] | borrowing the hub's token |
//! | [`reconcile`] | the day's payments and refunds asked again |

pub mod lend;
mod reconcile;
pub(crate) mod setup;
pub mod token;

use super::{
    BoxFuture, Callback, CallbackOutcome, CallbackRefused, Capabilities, Provider, ProviderError,
    ReferenceNames, RefundVerdict, Started, StepKind, Verdict,
};
use crate::journal::payments::Change;
use crate::money::{Amount, Currency};
use crate::payment::{Payment, ProviderKind, ProviderRefs, Refund};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use till_bkash::{
    BkashClient, BkashError, BkashStatus, CreatePayment, Executed, PaymentStatus, RefundInfo,
    RefundRequest, RefundStatus, Resolution,
};

const KIND: ProviderKind = ProviderKind::Bkash;

pub struct BkashProvider {
    pub client: BkashClient,
    /// Where the hosted page sends the customer back (the shell watches for it).
    pub callback_url: url::Url,
    /// How long a customer has on the hosted page before the payment is given up.
    pub checkout_window: chrono::Duration,
    /// Which merchant account the payments go to ([`merchant_fingerprint`]).
    pub payee: String,
    /// The origin the hosted page may show (`bkash.checkout_origin`, else the API's).
    pub page_origin: Option<url::Origin>,
}

/// bKash names no receiving account in its answers: the money goes to the
/// merchant whose credentials made the payment. Those are secrets, and a
/// merchant username is a phone number (a plain hash of it is easily
/// reversed), so the payee is the first 16 hex digits of SHA-256 over the
/// environment, the app key (a long random credential) and the username:
/// it changes when the merchant does and reveals none of them.
pub fn merchant_fingerprint(base_url: &str, app_key: &str, username: &str) -> String {
    let hex = crate::report::close::sha256_hex(&format!("{base_url} {app_key} {username}"));
    format!("merchant-{}", &hex[..16])
}

/// The payee of a till that borrows the hub's token: the hub's merchant
/// account, whichever it is (the hub holds its credentials).
pub const LENT_PAYEE: &str = "merchant-of-hub";

/// Maps an error of an idempotent call (create, query, refund status).
pub fn map_error(e: BkashError) -> ProviderError {
    match e {
        BkashError::Business { ref code, .. } => ProviderError::Refused {
            provider: KIND,
            code: code.clone(),
            reason: e.cashier_message(),
        },
        BkashError::Unreachable { message, .. } => ProviderError::Unreachable {
            provider: KIND,
            message,
        },
        e @ (BkashError::OutcomeUnknown { .. }
        | BkashError::RateLimited { .. }
        | BkashError::Protocol { .. }) => ProviderError::Unknown {
            provider: KIND,
            message: e.to_string(),
        },
        BkashError::Auth { message } => ProviderError::NotConfigured {
            provider: KIND,
            message,
        },
        e @ (BkashError::Rejected { .. } | BkashError::Invalid { .. }) => ProviderError::Refused {
            provider: KIND,
            code: "rejected".into(),
            reason: e.cashier_message(),
        },
    }
}

/// Maps an error of a non-idempotent call (execute, refund) by what it means
/// for the operation: did not happen / may have happened / try later.
fn map_once_error(e: BkashError) -> ProviderError {
    match e.resolution() {
        Resolution::Failed => ProviderError::Refused {
            provider: KIND,
            code: e.code().unwrap_or("rejected").to_owned(),
            reason: e.cashier_message(),
        },
        Resolution::AskStatus => ProviderError::Unknown {
            provider: KIND,
            message: e.to_string(),
        },
        Resolution::RetryLater => ProviderError::Unreachable {
            provider: KIND,
            message: e.to_string(),
        },
    }
}

/// A payment status as a verdict. Only `Completed` with a trxID is paid.
pub fn verdict(s: &PaymentStatus) -> Verdict {
    match s.status {
        BkashStatus::Completed if s.trx_id.is_some() => {
            paid(s.amount, s.currency.as_deref(), s.trx_id.clone())
        }
        BkashStatus::Failed | BkashStatus::Declined => Verdict::Failed {
            code: s.raw_status.clone(),
            reason: "bKash declined the payment".into(),
        },
        BkashStatus::Cancelled => Verdict::Cancelled,
        BkashStatus::Expired => Verdict::Expired,
        _ => Verdict::Pending,
    }
}

/// An execute answer as a verdict. Only `Completed` is paid; an answer that
/// is not "Completed" decides nothing: the engine asks status.
pub fn executed_verdict(x: &Executed) -> Verdict {
    if x.transaction_status != BkashStatus::Completed {
        return Verdict::Pending;
    }
    paid(Some(x.amount), Some(&x.currency), Some(x.trx_id.clone()))
}

/// A completed bKash payment. Its amount and currency are what bKash wrote,
/// never a default: a missing or unknown currency is not BDT, so the
/// payment cannot settle a sale and goes to a manager.
fn paid(amount: Option<Decimal>, currency: Option<&str>, trx_id: Option<String>) -> Verdict {
    let known = currency
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .and_then(|c| c.parse::<Currency>().ok());
    match (amount, known) {
        (Some(amount), Some(currency)) => Verdict::Paid {
            amount,
            currency,
            refs: ProviderRefs {
                transaction: trx_id,
                ..ProviderRefs::default()
            },
            paid_at: None,
        },
        _ => Verdict::Unclear {
            refs: ProviderRefs {
                transaction: trx_id,
                ..ProviderRefs::default()
            },
            kind: "unreadable_payment",
            what: format!(
                "bKash reports the payment completed with amount {} and currency {}",
                amount.map_or_else(|| "(none)".to_owned(), |a| a.to_string()),
                currency.map_or_else(|| "(none)".to_owned(), |c| format!("{c:?}")),
            ),
        },
    }
}

/// Which of the refunds bKash lists for a transaction is the one whose
/// answer was lost. Refund status v2 names each refund only by its
/// `refundTrxId` (spec §12.2: no sku, no reference of ours), so ours is told
/// apart by identifiers alone: every refund already booked is set aside by its
/// id, and what is left must be exactly one completed refund of our amount.
/// Never picked by amount among several: two refunds of 50, the second lost,
/// must not book the first one twice. Anything else stays unknown.
pub fn match_refund(
    list: &[RefundInfo],
    amount: Decimal,
    booked: &[String],
) -> Result<RefundVerdict, ProviderError> {
    let fresh: Vec<&RefundInfo> = list
        .iter()
        .filter(|i| !booked.iter().any(|b| b == &i.refund_trx_id))
        .collect();
    let completed: Vec<&&RefundInfo> = fresh
        .iter()
        .filter(|i| i.status == RefundStatus::Completed)
        .collect();
    match completed.as_slice() {
        [one] if one.amount.normalize() == amount.normalize() => Ok(RefundVerdict::Done {
            provider_refund_id: one.refund_trx_id.clone(),
        }),
        [] if fresh.iter().any(|i| i.status == RefundStatus::Pending) => {
            Err(ProviderError::Unknown {
                provider: KIND,
                message: "bKash lists a refund it has not finished".into(),
            })
        }
        [] => Ok(RefundVerdict::NotFound),
        several => Ok(RefundVerdict::Unclear {
            reason: format!(
                "bKash lists refunds Till has not booked ({}) and none is surely this refund of {amount}",
                several
                    .iter()
                    .map(|i| format!("{} of {}", i.refund_trx_id, i.amount))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}

impl BkashProvider {
    /// Executes after the customer approved. The caller has recorded that
    /// execute is being sent; whatever happens, it is never sent again.
    pub async fn execute(&self, payment_id: &str) -> Result<Verdict, ProviderError> {
        match self.client.execute_payment(payment_id).await {
            Ok(x) => Ok(executed_verdict(&x)),
            Err(e) if e.is_already_executed() => Err(ProviderError::Unknown {
                provider: KIND,
                message: e.to_string(),
            }),
            Err(e) => Err(map_once_error(e)),
        }
    }
}

/// What a failed test grant asks the manager to fix.
fn connection_problem(e: &BkashError) -> crate::connect::Problem {
    use crate::connect::Problem;
    match e {
        // The budget was checked first: a refused grant is the credentials.
        BkashError::Auth { .. } => Problem::WrongCredentials,
        BkashError::Business { code, .. } => Problem::Refused {
            provider_code: code.clone(),
        },
        BkashError::Rejected { status: 403, .. } => Problem::Forbidden { status: 403 },
        BkashError::Rejected { status, .. } => Problem::Refused {
            provider_code: status.to_string(),
        },
        BkashError::RateLimited { .. } => Problem::RateLimited,
        BkashError::Unreachable { .. } => Problem::Unreachable,
        BkashError::OutcomeUnknown { .. } => Problem::Timeout,
        BkashError::Protocol { .. } => Problem::Unreadable,
        BkashError::Invalid { message } => Problem::NotConfigured {
            what: message.clone(),
        },
    }
}

impl Provider for BkashProvider {
    /// bKash's customer-side codes (spec §15) as Till's reasons.
    fn decline_reason(&self, code: &str) -> crate::reason::ReasonCode {
        use crate::reason::ReasonCode::*;
        match code.trim() {
            "2023" => InsufficientBalance,
            "2010" | "2011" | "2014" | "2016" | "2043" => WrongPin,
            "2015" | "2017" => PinLocked,
            "2018" | "2019" => TimedOut,
            "2013" | "2059" => LimitExceeded,
            _ => Declined,
        }
    }

    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn label(&self) -> &'static str {
        "bKash"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            references: ReferenceNames {
                lookup: "paymentID",
                transaction: "trxID",
                external: None,
            },
            step: StepKind::Page,
            refunds: true,
            partial_refunds: true,
            offline_display: false,
            completion_call: true,
            watches_its_payments: false,
            payable_after_cancel: false,
        }
    }

    fn callback(&self, url: &url::Url) -> Option<Result<Callback, CallbackRefused>> {
        if !till_bkash::is_callback(url, &self.callback_url) {
            return None;
        }
        Some(
            till_bkash::parse_callback(url, &self.callback_url)
                .map(|cb| Callback {
                    payment_key: cb.payment_id,
                    outcome: match cb.status {
                        till_bkash::CallbackStatus::Success => CallbackOutcome::Approved,
                        till_bkash::CallbackStatus::Cancel => CallbackOutcome::Cancelled,
                        till_bkash::CallbackStatus::Failure => CallbackOutcome::Failed {
                            code: "callback".into(),
                            reason: "The payment did not go through on the bKash page (wrong PIN or OTP, low balance, or a limit). The customer may try again.".into(),
                        },
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

    fn completion_name(&self) -> &'static str {
        "execute"
    }

    /// Execute (the payment's `paymentID`).
    fn complete<'a>(&'a self, p: &'a Payment) -> BoxFuture<'a, Result<Verdict, ProviderError>> {
        Box::pin(async move {
            let Some(pid) = &p.refs.lookup else {
                return Err(ProviderError::Unsupported {
                    provider: KIND,
                    message: "the payment has no bKash paymentID".into(),
                });
            };
            self.execute(pid).await
        })
    }

    /// bKash's paymentID lifetime after create, plus an hour for its status
    /// to catch up. Until then "not completed" stays unknown.
    fn resolution_deadline(&self, p: &Payment) -> DateTime<Utc> {
        let lifetime = chrono::Duration::from_std(till_bkash::PAYMENT_ID_LIFETIME)
            .unwrap_or_else(|_| chrono::Duration::hours(24));
        p.created_at + lifetime + chrono::Duration::hours(1)
    }

    fn reconcile<'a>(
        &'a self,
        payments: &'a [&'a Payment],
    ) -> BoxFuture<'a, Option<crate::report::reconcile::ProviderResult>> {
        Box::pin(async move { Some(reconcile::check(&self.client, payments).await) })
    }

    fn currencies(&self) -> Vec<Currency> {
        vec![Currency::Bdt]
    }

    fn payee(&self) -> Option<String> {
        Some(self.payee.clone())
    }

    fn payee_setting(&self) -> &'static str {
        "bkash credentials (fingerprint)"
    }

    fn prepare(&self, _: &str, _: Amount, now: DateTime<Utc>) -> Result<Change, ProviderError> {
        Ok(super::page_prepared(
            &self.callback_url,
            self.checkout_window,
            now,
        ))
    }

    fn start<'a>(&'a self, p: &'a Payment) -> BoxFuture<'a, Result<Started, ProviderError>> {
        Box::pin(async move {
            let req = CreatePayment::sale(
                p.amount.value(),
                p.invoice.clone(),
                self.callback_url.to_string(),
                p.invoice.clone(),
            );
            let created = self.client.create_payment(&req).await.map_err(map_error)?;
            Ok(Started::page(
                created.payment_id,
                created.bkash_url,
                &self.callback_url,
            ))
        })
    }

    fn query<'a>(&'a self, p: &'a Payment) -> BoxFuture<'a, Result<Verdict, ProviderError>> {
        Box::pin(async move {
            let Some(pid) = &p.refs.lookup else {
                return Ok(Verdict::Pending);
            };
            match self.client.query_payment(pid).await {
                Ok(s) => Ok(verdict(&s)),
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
            let (Some(pid), Some(trx)) = (&p.refs.lookup, &p.refs.transaction) else {
                return Err(ProviderError::Unsupported {
                    provider: KIND,
                    message: "the payment has no bKash transaction to refund".into(),
                });
            };
            let req = RefundRequest {
                payment_id: pid.clone(),
                trx_id: trx.clone(),
                amount: r.amount.value(),
                sku: p.invoice.clone(),
                reason: r.reason.clone().unwrap_or_else(|| "refund".into()),
            };
            match self.client.refund(&req).await {
                Ok(done) if done.status == RefundStatus::Completed => Ok(RefundVerdict::Done {
                    provider_refund_id: done.refund_trx_id,
                }),
                Ok(_) => Err(ProviderError::Unknown {
                    provider: KIND,
                    message: "refund answered without completion".into(),
                }),
                Err(e) => match map_once_error(e) {
                    ProviderError::Refused { reason, .. } => Ok(RefundVerdict::Failed { reason }),
                    other => Err(other),
                },
            }
        })
    }

    fn refund_status<'a>(
        &'a self,
        p: &'a Payment,
        r: &'a Refund,
        booked: &'a [String],
    ) -> BoxFuture<'a, Result<RefundVerdict, ProviderError>> {
        Box::pin(async move {
            let (Some(pid), Some(trx)) = (&p.refs.lookup, &p.refs.transaction) else {
                return Ok(RefundVerdict::NotFound);
            };
            match self.client.refund_status(pid, trx).await {
                Ok(list) => match_refund(&list, r.amount.value(), booked),
                Err(e) if e.is_not_found() => Ok(RefundVerdict::NotFound),
                Err(e) => Err(map_error(e)),
            }
        })
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
                use crate::connect::{Problem, Proof};
                match self.client.test_grant().await {
                    Ok(till_bkash::GrantTest::Granted {
                        calls_this_hour,
                        max_per_hour,
                    }) => Ok(Proof::TokenGranted {
                        calls_this_hour,
                        max_per_hour,
                    }),
                    Ok(till_bkash::GrantTest::Borrowed) => Ok(Proof::TokenLent),
                    Ok(till_bkash::GrantTest::BudgetSpent {
                        next_in,
                        max_per_hour,
                    }) => Err((
                        Problem::TokenBudgetSpent {
                            next_in_min: next_in.as_secs().div_ceil(60),
                            max_per_hour,
                        },
                        "no token call sent".into(),
                    )),
                    Err(e) => Err((connection_problem(&e), e.to_string())),
                }
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(id: &str, amount: &str, status: RefundStatus) -> RefundInfo {
        RefundInfo {
            refund_trx_id: id.into(),
            status,
            raw_status: String::new(),
            amount: amount.parse().unwrap(),
            completed_time: None,
        }
    }

    fn done(id: &str) -> RefundVerdict {
        RefundVerdict::Done {
            provider_refund_id: id.into(),
        }
    }

    fn status(currency: Option<&str>) -> PaymentStatus {
        PaymentStatus {
            payment_id: "TR1".into(),
            status: BkashStatus::Completed,
            trx_id: Some("TRX1".into()),
            amount: Some("10.00".parse().unwrap()),
            currency: currency.map(str::to_owned),
            raw_status: "Completed".into(),
            verification_status: None,
            invoice: None,
            mode: None,
            intent: None,
            created_time: None,
            executed_time: None,
            customer_msisdn: None,
        }
    }

    fn executed(currency: &str) -> Executed {
        Executed {
            payment_id: "TR1".into(),
            trx_id: "TRX1".into(),
            amount: "10.00".parse().unwrap(),
            currency: currency.into(),
            transaction_status: BkashStatus::Completed,
            raw_status: "Completed".into(),
            customer_msisdn: None,
            completed_time: None,
            invoice: None,
            max_refundable: None,
        }
    }

    /// L1: a currency bKash did not send, or one Till does not know, is
    /// never read as BDT: such an answer cannot settle a BDT sale.
    #[test]
    fn a_missing_or_unknown_currency_is_not_bdt() {
        let bdt_paid = |v: &Verdict| {
            matches!(
                v,
                Verdict::Paid {
                    currency: Currency::Bdt,
                    ..
                }
            )
        };
        assert!(bdt_paid(&verdict(&status(Some("BDT")))));
        assert!(bdt_paid(&executed_verdict(&executed("BDT"))));
        for c in [None, Some(""), Some("XYZ"), Some("INR")] {
            let v = verdict(&status(c));
            assert!(!bdt_paid(&v), "status with currency {c:?}: {v:?}");
            assert!(
                !matches!(v, Verdict::Pending | Verdict::Failed { .. }),
                "money moved: {v:?}"
            );
        }
        for c in ["", "XYZ"] {
            let v = executed_verdict(&executed(c));
            assert!(!bdt_paid(&v), "execute with currency {c:?}: {v:?}");
            assert!(
                !matches!(v, Verdict::Pending | Verdict::Failed { .. }),
                "money moved: {v:?}"
            );
        }
    }

    #[test]
    fn a_lost_refund_is_matched_by_ids_never_by_amount() {
        let fifty: Decimal = "50".parse().unwrap();
        let rf1 = info("RF1", "50.00", RefundStatus::Completed);
        let rf2 = info("RF2", "50.00", RefundStatus::Completed);
        let booked = ["RF1".to_string()];
        // The second refund of 50 never reached bKash: the first is not it.
        assert_eq!(
            match_refund(std::slice::from_ref(&rf1), fifty, &booked).unwrap(),
            RefundVerdict::NotFound
        );
        // It did: the one not booked yet is ours.
        assert_eq!(
            match_refund(&[rf1.clone(), rf2.clone()], fifty, &booked).unwrap(),
            done("RF2")
        );
        // Two not booked (one made elsewhere): which one is ours is unknown.
        assert!(matches!(
            match_refund(&[rf1.clone(), rf2.clone()], fifty, &[]).unwrap(),
            RefundVerdict::Unclear { .. }
        ));
        // One not booked, of another amount: not ours for sure.
        let other = info("RFX", "20.00", RefundStatus::Completed);
        assert!(matches!(
            match_refund(&[rf1.clone(), other], fifty, &booked).unwrap(),
            RefundVerdict::Unclear { .. }
        ));
        // Still being processed: unknown.
        let pending = info("RF3", "50.00", RefundStatus::Pending);
        assert!(match_refund(&[rf1, pending], fifty, &booked).is_err());
    }
}
