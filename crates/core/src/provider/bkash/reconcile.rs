//! Reconciliation: each of the day's bKash payments asked again (payment
//! status by paymentID, else search by trxID), and the refunds bKash holds
//! for each paid one.

use crate::money::Currency;
use crate::payment::{Payment, ProviderKind};
use crate::report::reconcile::{CheckStatus, PaymentCheck, ProviderResult, ProviderView};
use rust_decimal::Decimal;
use std::collections::HashMap;
use till_bkash::BkashClient;

/// What bKash holds for each of `payments`.
pub(super) async fn check(client: &BkashClient, payments: &[&Payment]) -> ProviderResult {
    let mut checks = HashMap::new();
    let mut failures = Vec::new();
    for p in payments {
        let view = match (&p.refs.lookup, &p.refs.transaction) {
            (None, None) => ProviderView::NotPaid {
                detail: "the payment never reached bKash".into(),
            },
            (pid, trx) => {
                let by_status = match pid {
                    Some(pid) => Some(client.query_payment(pid).await),
                    None => None,
                };
                match by_status {
                    Some(Ok(s)) if s.is_completed() => ProviderView::Paid {
                        amount: s.amount.unwrap_or_default(),
                        currency: bkash_currency(s.currency.as_deref()),
                        reference: s.trx_id.clone(),
                    },
                    Some(Ok(s)) => ProviderView::NotPaid {
                        detail: format!("bKash says {}", s.raw_status),
                    },
                    Some(Err(e)) if !e.is_not_found() => ProviderView::Unknown {
                        error: e.to_string(),
                    },
                    // No paymentID, or bKash does not know it: search by trxID.
                    _ => match trx {
                        Some(trx) => match client.search_transaction(trx).await {
                            Ok(s) if s.status == till_bkash::BkashStatus::Completed => {
                                ProviderView::Paid {
                                    amount: s.amount.unwrap_or_default(),
                                    currency: bkash_currency(s.currency.as_deref()),
                                    reference: Some(s.trx_id.clone()),
                                }
                            }
                            Ok(s) => ProviderView::NotPaid {
                                detail: format!("bKash says {}", s.raw_status),
                            },
                            Err(e) if e.is_not_found() => ProviderView::NotPaid {
                                detail: "bKash has no such transaction".into(),
                            },
                            Err(e) => ProviderView::Unknown {
                                error: e.to_string(),
                            },
                        },
                        None => ProviderView::NotPaid {
                            detail: "bKash has no such payment".into(),
                        },
                    },
                }
            }
        };
        // Refunds: what bKash holds for a paid transaction.
        let refunded = match (&view, &p.refs.lookup, &p.refs.transaction) {
            (ProviderView::Paid { .. }, Some(pid), Some(trx)) => {
                match client.refund_status(pid, trx).await {
                    Ok(list) => Some(
                        list.iter()
                            .filter(|r| r.status == till_bkash::RefundStatus::Completed)
                            .map(|r| r.amount)
                            .sum::<Decimal>(),
                    ),
                    Err(e) if e.is_not_found() => Some(Decimal::ZERO),
                    Err(_) => None,
                }
            }
            _ => None,
        };
        if let ProviderView::Unknown { error } = &view {
            failures.push(error.clone());
        }
        checks.insert(p.id.clone(), PaymentCheck { view, refunded });
    }
    let (status, message) = if failures.is_empty() {
        (CheckStatus::Checked, None)
    } else {
        (
            CheckStatus::CouldNotCheck,
            Some(failures.first().cloned().unwrap_or_default()),
        )
    };
    ProviderResult {
        provider: ProviderKind::Bkash,
        status,
        message,
        checks,
    }
}

/// The currency a bKash answer names (bKash only takes taka; absent means BDT).
fn bkash_currency(code: Option<&str>) -> Currency {
    code.and_then(|c| c.parse().ok()).unwrap_or(Currency::Bdt)
}
