//! Reconciliation: the day's KHQR codes checked with Bakong in bulk (by MD5).

use crate::payment::{Payment, ProviderKind};
use crate::report::reconcile::{CheckStatus, PaymentCheck, ProviderResult, ProviderView};
use std::collections::HashMap;
use till_bakong::BakongClient;

/// What Bakong holds for each of `payments`.
pub(super) async fn check(client: &BakongClient, payments: &[&Payment]) -> ProviderResult {
    let md5s: Vec<String> = payments
        .iter()
        .filter_map(|p| p.refs.lookup.clone())
        .collect();
    let mut checks = HashMap::new();
    let answer = client.check_by_md5_list(&md5s).await;
    let (status, message) = match answer {
        Ok(list) => {
            let by_md5: HashMap<String, till_bakong::CheckOutcome> = list.into_iter().collect();
            for p in payments {
                let view = match p.refs.lookup.as_ref().and_then(|m| by_md5.get(m)) {
                    Some(till_bakong::CheckOutcome::Paid(t)) => match t.currency.parse() {
                        Ok(currency) => ProviderView::Paid {
                            amount: t.amount,
                            currency,
                            reference: Some(t.hash.clone()),
                        },
                        Err(_) => ProviderView::NotPaid {
                            detail: format!("paid in an unknown currency {:?}", t.currency),
                        },
                    },
                    Some(till_bakong::CheckOutcome::Failed { message, .. }) => {
                        ProviderView::NotPaid {
                            detail: format!("Bakong says the payment failed: {message}"),
                        }
                    }
                    Some(till_bakong::CheckOutcome::NotFound) => ProviderView::NotPaid {
                        detail: "Bakong holds no payment for this code".into(),
                    },
                    None => ProviderView::NotPaid {
                        detail: "no KHQR was made for this payment".into(),
                    },
                };
                checks.insert(
                    p.id.clone(),
                    PaymentCheck {
                        view,
                        refunded: None,
                    },
                );
            }
            (CheckStatus::Checked, None)
        }
        Err(e) => {
            let e = super::map_error(e);
            for p in payments {
                checks.insert(
                    p.id.clone(),
                    PaymentCheck {
                        view: ProviderView::Unknown {
                            error: e.to_string(),
                        },
                        refunded: None,
                    },
                );
            }
            (CheckStatus::CouldNotCheck, Some(e.to_string()))
        }
    };
    ProviderResult {
        provider: ProviderKind::Bakong,
        status,
        message,
        checks,
    }
}
