//! Reconciliation: each of the day's Nagad payments verified again.

use crate::money::Currency;
use crate::payment::{Payment, ProviderKind};
use crate::report::reconcile::{CheckStatus, PaymentCheck, ProviderResult, ProviderView};
use std::collections::HashMap;
use till_nagad::{NagadClient, Outcome};

/// What Nagad holds for each of `payments`.
pub(super) async fn check(client: &NagadClient, payments: &[&Payment]) -> ProviderResult {
    let mut checks = HashMap::new();
    let mut failures = Vec::new();
    for p in payments {
        let view = match &p.refs.lookup {
            None => ProviderView::NotPaid {
                detail: "the payment never reached Nagad".into(),
            },
            Some(reference) => match client.verify(reference).await {
                Ok(s) => match s.outcome {
                    Outcome::Paid {
                        amount, issuer_ref, ..
                    } => ProviderView::Paid {
                        amount,
                        currency: Currency::Bdt,
                        reference: Some(issuer_ref),
                    },
                    _ => ProviderView::NotPaid {
                        detail: format!("Nagad says {}", s.raw_status),
                    },
                },
                Err(e) => {
                    failures.push(e.to_string());
                    ProviderView::Unknown {
                        error: e.to_string(),
                    }
                }
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
    let (status, message) = match failures.first() {
        None => (CheckStatus::Checked, None),
        Some(f) => (CheckStatus::CouldNotCheck, Some(f.clone())),
    };
    ProviderResult {
        provider: ProviderKind::Nagad,
        status,
        message,
        checks,
    }
}
