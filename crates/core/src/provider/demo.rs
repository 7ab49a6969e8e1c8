//! The demo provider: no network, settles itself `settle_after` after the
//! payment starts. For trying Till with no credentials.

use super::{
    BoxFuture, Capabilities, CustomerStep, Provider, ProviderError, ReferenceNames, RefundVerdict,
    Started, StepKind, Verdict,
};
use crate::clock::Clock;
use crate::journal::payments::Change;
use crate::money::{Amount, Currency};
use crate::payment::{Payment, ProviderKind, ProviderRefs, Refund};
use chrono::{DateTime, Utc};

pub struct DemoProvider {
    pub settle_after: std::time::Duration,
    pub clock: Clock,
}

impl Provider for DemoProvider {
    fn label(&self) -> &'static str {
        "Demo"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            references: ReferenceNames {
                lookup: "id",
                transaction: "trxID",
                external: None,
            },
            step: StepKind::Wait,
            refunds: true,
            partial_refunds: true,
            offline_display: false,
            completion_call: false,
            watches_its_payments: false,
            payable_after_cancel: false,
        }
    }

    /// The demo wallet pays itself: there is nothing to ask.
    fn reconcile<'a>(
        &'a self,
        _payments: &'a [&'a Payment],
    ) -> BoxFuture<'a, Option<crate::report::reconcile::ProviderResult>> {
        Box::pin(async {
            Some(crate::report::reconcile::ProviderResult {
                provider: ProviderKind::Demo,
                status: crate::report::reconcile::CheckStatus::NotApplicable,
                message: Some("the demo provider pays itself; there is nothing to ask".into()),
                checks: std::collections::HashMap::new(),
            })
        })
    }

    fn kind(&self) -> ProviderKind {
        ProviderKind::Demo
    }

    fn currencies(&self) -> Vec<Currency> {
        Currency::ALL.to_vec()
    }

    /// Play money goes nowhere.
    fn payee(&self) -> Option<String> {
        Some("demo".into())
    }

    fn payee_setting(&self) -> &'static str {
        "demo.enabled"
    }

    fn prepare(&self, _: &str, _: Amount, now: DateTime<Utc>) -> Result<Change, ProviderError> {
        Ok(Change {
            expires_at: Some(
                now + chrono::Duration::from_std(self.settle_after).unwrap_or_default(),
            ),
            ..Change::default()
        })
    }

    fn start<'a>(&'a self, _: &'a Payment) -> BoxFuture<'a, Result<Started, ProviderError>> {
        Box::pin(async {
            Ok(Started {
                change: Change::default(),
                step: CustomerStep::Wait,
            })
        })
    }

    /// Paid once its time has come (`expires_at` holds the settle time).
    fn query<'a>(&'a self, p: &'a Payment) -> BoxFuture<'a, Result<Verdict, ProviderError>> {
        Box::pin(async move {
            match p.expires_at {
                Some(at) if self.clock.now() >= at => Ok(Verdict::Paid {
                    amount: p.amount.value(),
                    currency: p.amount.currency(),
                    refs: ProviderRefs {
                        transaction: Some(format!("DEMO{}", &p.id[p.id.len() - 8..])),
                        ..ProviderRefs::default()
                    },
                    paid_at: None,
                }),
                _ => Ok(Verdict::Pending),
            }
        })
    }

    fn refund<'a>(
        &'a self,
        _: &'a Payment,
        r: &'a Refund,
    ) -> BoxFuture<'a, Result<RefundVerdict, ProviderError>> {
        Box::pin(async move {
            Ok(RefundVerdict::Done {
                provider_refund_id: format!("DEMO-RF-{}", &r.id[r.id.len() - 8..]),
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
        _: &'a reqwest::Client,
    ) -> BoxFuture<'a, crate::connect::ConnectionReport> {
        // The demo wallet is this process: nothing to reach.
        Box::pin(async { crate::connect::ConnectionReport::local(ProviderKind::Demo.as_str()) })
    }
}
