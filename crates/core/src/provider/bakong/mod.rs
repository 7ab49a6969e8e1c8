//! Bakong KHQR glue: building the dynamic code from the merchant profile,
//! and mapping `till-bakong`'s answers into [`Verdict`]s.
//!
//! | module | what it is |
//! | --- | --- |
//! | here | the code, verdicts, error mapping, the [`Provider`] impl |
//! | [`poller`] | the single per-terminal poller checking every pending MD5 in bulk (this provider's background task) |
//! | [`reconcile`] | the day's codes checked in bulk at reconciliation |

pub mod poller;
mod reconcile;

use super::{
    BoxFuture, Capabilities, CustomerStep, Provider, ProviderError, ReferenceNames, RefundVerdict,
    Started, StepKind, Verdict,
};
use crate::config::{AccountKind, Config};
use crate::journal::payments::Change;
use crate::money::{Amount, Currency};
use crate::payment::{Payment, ProviderKind, ProviderRefs, Refund};
use chrono::{DateTime, TimeZone, Utc};
use std::sync::Arc;
use till_bakong::{BakongClient, BakongError, CheckOutcome};

/// The dynamic KHQR for one charge: amount, currency, bill number = our
/// invoice, creation time and expiry from the merchant profile.
pub fn build_khqr(
    config: &Config,
    amount: Amount,
    now: DateTime<Utc>,
) -> Result<khqr::Khqr, String> {
    build_khqr_with_bill(config, amount, None, now)
}

pub(crate) fn build_khqr_with_bill(
    config: &Config,
    amount: Amount,
    bill_number: Option<&str>,
    now: DateTime<Utc>,
) -> Result<khqr::Khqr, String> {
    let currency = amount
        .currency()
        .khqr()
        .ok_or_else(|| format!("KHQR cannot carry {}", amount.currency()))?;
    let p = &config.khqr;
    let account = match p.kind {
        AccountKind::Individual => khqr::Account::Individual {
            account_information: p.account_information.clone(),
            acquiring_bank: p.acquiring_bank.clone(),
        },
        AccountKind::Merchant => khqr::Account::Merchant {
            merchant_id: p.merchant_id.clone().unwrap_or_default(),
            acquiring_bank: p.acquiring_bank.clone().unwrap_or_default(),
        },
    };
    let now_ms = now.timestamp_millis().max(0) as u64;
    let request = khqr::KhqrRequest {
        bakong_account_id: p.bakong_account_id.clone(),
        merchant_name: p.merchant_name.clone(),
        merchant_city: p.merchant_city.clone(),
        account,
        currency,
        amount: Some(amount.value()),
        merchant_category_code: p.merchant_category_code.clone(),
        bill_number: Some(
            bill_number
                .map(str::to_owned)
                .unwrap_or_else(|| format!("TILL-{now_ms}")),
        ),
        mobile_number: p.mobile_number.clone(),
        store_label: p.store_label.clone(),
        terminal_label: p.terminal_label.clone(),
        purpose_of_transaction: None,
        language_preference: p.language_preference.clone(),
        merchant_name_alternate_language: p.merchant_name_alternate_language.clone(),
        merchant_city_alternate_language: p.merchant_city_alternate_language.clone(),
        upi_merchant_account: None,
        expiration_ms: Some(now_ms + p.expiry_seconds * 1000),
    };
    khqr::encode(&request, now_ms).map_err(|e| e.to_string())
}

/// What a Bakong transaction tells of a payment: its hash, and the payer's
/// bank's reference.
fn refs_of(t: &till_bakong::Transaction) -> ProviderRefs {
    ProviderRefs {
        lookup: None,
        transaction: Some(t.hash.clone()),
        external: t.external_ref.clone(),
    }
}

/// Maps one check answer for `payment`: paid with the exact amount and
/// currency → [`Verdict::Paid`]; paid otherwise → also `Paid` with the figures
/// Bakong reported (the engine compares and flags); not found → pending.
pub fn verdict(outcome: &CheckOutcome) -> Verdict {
    match outcome {
        CheckOutcome::Paid(t) => match t.currency.parse::<Currency>() {
            Ok(currency) => Verdict::Paid {
                amount: t.amount,
                currency,
                refs: refs_of(t),
                paid_at: t
                    .created_ms
                    .and_then(chrono::DateTime::<Utc>::from_timestamp_millis),
            },
            // Money moved in a currency we do not know: not a sale we can
            // settle, and not a failure either — for a manager.
            Err(_) => Verdict::Unclear {
                refs: refs_of(t),
                kind: "unreadable_payment",
                what: format!(
                    "Bakong reports {} paid in an unknown currency {:?}",
                    t.amount, t.currency
                ),
            },
        },
        CheckOutcome::NotFound => Verdict::Pending,
        CheckOutcome::Failed { code, message } => Verdict::Failed {
            code: code.to_string(),
            reason: message.clone(),
        },
    }
}

/// [`verdict`] for `payment`, also checking where the money went: a payment
/// counts only if Bakong's `toAccountId` is the account the shown code named
/// (read from the stored code, not from today's settings). Paid to another
/// account, it is not our money: flagged `account_mismatch`, never settled.
pub fn verdict_of(payment: &Payment, outcome: &CheckOutcome) -> Verdict {
    if let CheckOutcome::Paid(t) = outcome {
        let named = payment
            .customer_code
            .as_deref()
            .and_then(|k| khqr::decode(k).bakong_account_id);
        let same = named
            .as_deref()
            .is_some_and(|n| n.trim().eq_ignore_ascii_case(t.to_account_id.trim()));
        if !same {
            return Verdict::Unclear {
                refs: refs_of(t),
                kind: "account_mismatch",
                what: format!(
                    "Bakong reports {} {} paid to {}, but the code named {}",
                    t.amount,
                    t.currency,
                    t.to_account_id,
                    named.as_deref().unwrap_or("no account")
                ),
            };
        }
    }
    verdict(outcome)
}

pub fn map_error(e: BakongError) -> ProviderError {
    let provider = ProviderKind::Bakong;
    match e {
        BakongError::Unreachable { message } => ProviderError::Unreachable { provider, message },
        e @ (BakongError::Unknown { .. }
        | BakongError::RateLimited { .. }
        | BakongError::Http { .. }
        | BakongError::Protocol { .. }) => ProviderError::Unknown {
            provider,
            message: e.to_string(),
        },
        e @ (BakongError::TokenExpired | BakongError::Unauthorized { .. }) => {
            ProviderError::NotConfigured {
                provider,
                message: e.to_string(),
            }
        }
        e @ BakongError::Api { .. } if e.is_transient() => ProviderError::Unknown {
            provider,
            message: e.to_string(),
        },
        BakongError::Api { code, message } => ProviderError::Refused {
            provider,
            code: code.to_string(),
            reason: message,
        },
        BakongError::Config { message } => ProviderError::NotConfigured { provider, message },
    }
}

pub struct BakongProvider {
    pub client: BakongClient,
    pub config: Config,
}

/// What a failed test lookup asks the manager to fix.
fn connection_problem(e: &BakongError) -> crate::connect::Problem {
    use crate::connect::Problem;
    match e {
        BakongError::TokenExpired | BakongError::Unauthorized { .. } => Problem::WrongCredentials,
        // Bakong's gateway refuses addresses outside Cambodia with a bare 403.
        BakongError::Http { status: 403, .. } => Problem::Forbidden { status: 403 },
        BakongError::Http { status, .. } => Problem::Refused {
            provider_code: status.to_string(),
        },
        BakongError::Api { code, .. } => Problem::Refused {
            provider_code: code.to_string(),
        },
        BakongError::RateLimited { .. } => Problem::RateLimited,
        BakongError::Unreachable { .. } => Problem::Unreachable,
        BakongError::Unknown { .. } => Problem::Timeout,
        BakongError::Protocol { .. } => Problem::Unreadable,
        BakongError::Config { message } => Problem::NotConfigured {
            what: message.clone(),
        },
    }
}

impl Provider for BakongProvider {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Bakong
    }

    fn label(&self) -> &'static str {
        "Bakong"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            references: ReferenceNames {
                lookup: "MD5",
                transaction: "hash",
                external: Some("externalRef"),
            },
            step: StepKind::Code,
            // Bakong has no refund API (a refund is a transfer from the shop's bank app).
            refunds: false,
            partial_refunds: false,
            offline_display: true,
            completion_call: false,
            watches_its_payments: true,
            payable_after_cancel: true,
        }
    }

    fn background(self: Arc<Self>, desk: crate::engine::Desk) -> Option<super::Background> {
        Some(super::Background {
            name: "poller",
            task: Box::pin(poller::run(self, desk)),
        })
    }

    fn default_currency(&self) -> Currency {
        self.config.khqr.default_currency
    }

    fn refund_elsewhere(&self) -> &'static str {
        "Bakong has no refund API; refund a KHQR payment by a transfer from the shop's bank app"
    }

    fn reconcile<'a>(
        &'a self,
        payments: &'a [&'a Payment],
    ) -> BoxFuture<'a, Option<crate::report::reconcile::ProviderResult>> {
        Box::pin(async move { Some(reconcile::check(&self.client, payments).await) })
    }

    fn currencies(&self) -> Vec<Currency> {
        self.config.khqr.currencies.clone()
    }

    /// The account every code made now names (and the poller checks the
    /// money went to).
    fn payee(&self) -> Option<String> {
        Some(self.config.khqr.bakong_account_id.trim().to_owned())
    }

    fn payee_setting(&self) -> &'static str {
        "khqr.bakong_account_id"
    }

    fn prepare(
        &self,
        invoice: &str,
        amount: Amount,
        now: DateTime<Utc>,
    ) -> Result<Change, ProviderError> {
        let code = build_khqr_with_bill(&self.config, amount, Some(invoice), now).map_err(|e| {
            ProviderError::NotConfigured {
                provider: ProviderKind::Bakong,
                message: format!("cannot build the KHQR: {e}"),
            }
        })?;
        let expires = Utc
            .timestamp_millis_opt(
                now.timestamp_millis() + self.config.khqr.expiry_seconds as i64 * 1000,
            )
            .single()
            .unwrap_or(now);
        Ok(Change {
            refs: ProviderRefs {
                lookup: Some(code.md5),
                ..ProviderRefs::default()
            },
            customer_code: Some(code.qr),
            expires_at: Some(expires),
            ..Change::default()
        })
    }

    /// Nothing to send: the code is local. The poller takes it from here.
    fn start<'a>(&'a self, p: &'a Payment) -> BoxFuture<'a, Result<Started, ProviderError>> {
        Box::pin(async move {
            match (&p.customer_code, &p.refs.lookup, p.expires_at) {
                (Some(khqr), Some(md5), Some(expires_at)) => Ok(Started {
                    change: Change::default(),
                    step: CustomerStep::Code {
                        code: khqr.clone(),
                        reference: md5.clone(),
                        expires_at,
                    },
                }),
                _ => Err(ProviderError::NotConfigured {
                    provider: ProviderKind::Bakong,
                    message: "the payment has no KHQR".into(),
                }),
            }
        })
    }

    fn query<'a>(&'a self, p: &'a Payment) -> BoxFuture<'a, Result<Verdict, ProviderError>> {
        Box::pin(async move {
            let Some(md5) = &p.refs.lookup else {
                return Ok(Verdict::Pending);
            };
            let outcome = self.client.check_by_md5(md5).await.map_err(map_error)?;
            Ok(verdict_of(p, &outcome))
        })
    }

    fn refund<'a>(
        &'a self,
        _: &'a Payment,
        _: &'a Refund,
    ) -> BoxFuture<'a, Result<RefundVerdict, ProviderError>> {
        Box::pin(async {
            Err(ProviderError::Unsupported {
                provider: ProviderKind::Bakong,
                message: "Bakong has no refund API; refund a KHQR payment by a transfer from the shop's bank app".into(),
            })
        })
    }

    fn refund_status<'a>(
        &'a self,
        p: &'a Payment,
        r: &'a Refund,
        _booked: &'a [String],
    ) -> BoxFuture<'a, Result<RefundVerdict, ProviderError>> {
        self.refund(p, r)
    }

    fn test_connection<'a>(
        &'a self,
        http: &'a reqwest::Client,
    ) -> BoxFuture<'a, crate::connect::ConnectionReport> {
        Box::pin(crate::connect::check(
            ProviderKind::Bakong.as_str(),
            http,
            &self.client.settings().base_url,
            async {
                // The MD5 of a text no KHQR holds: Bakong looks and finds nothing.
                let md5 = khqr::md5_hex(&format!(
                    "till connection test {}",
                    chrono::Utc::now().timestamp_millis()
                ));
                match self.client.check_by_md5(&md5).await {
                    Ok(_) => Ok(crate::connect::Proof::CodeLookedUp),
                    Err(e) => Err((connection_problem(&e), e.to_string())),
                }
            },
        ))
    }
}
