//! Three-way reconciliation of a business day: the local journal against
//! each provider (every payment of the day re-checked) and against the hub
//! (which settlements it holds, and its own totals for this terminal).
//!
//! The engine gathers what the providers and the hub say
//! ([`ProviderResult`], [`HubResult`]); [`build`] compares, without I/O, and
//! lists each [`Disagreement`] with a stable id (`<kind>:<reference>`), so a
//! resolution recorded against it still applies when the day is
//! reconciled again. A side that could not be asked is a "could not check"
//! section *and* a `not_checked` disagreement: a day cannot be closed on
//! an unchecked side unless a manager acknowledges it.

use super::summary::DaySummary;
use super::Money;
use crate::journal::days::DayData;
use crate::money::Currency;
use crate::payment::{Payment, ProviderKind, ProviderRefs};
use crate::state::PaymentState;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Whether one side could be checked.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// Asked, and every question was answered.
    Checked,
    /// Asked, but some or all questions got no answer (see `message`).
    CouldNotCheck,
    /// Not set up (no credentials, no hub URL, no read token): nothing asked.
    NotConfigured,
    /// Nothing to ask (the demo provider, a day without payments there).
    NotApplicable,
}

/// What a provider says about one payment.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ProviderView {
    /// The provider holds a completed payment of this amount.
    Paid {
        amount: Decimal,
        currency: Currency,
        /// trxID (bKash) or transaction hash (Bakong).
        reference: Option<String>,
    },
    /// The provider holds no completed payment (`detail`: what it said).
    NotPaid { detail: String },
    /// The question got no answer.
    Unknown { error: String },
}

/// The provider's answers for one payment.
#[derive(Clone, Debug, PartialEq)]
pub struct PaymentCheck {
    pub view: ProviderView,
    /// Sum of the completed refunds the provider holds (bKash; `None` when not asked).
    pub refunded: Option<Decimal>,
}

/// What the engine learnt from one provider.
#[derive(Clone, Debug)]
pub struct ProviderResult {
    pub provider: ProviderKind,
    pub status: CheckStatus,
    pub message: Option<String>,
    /// By our payment id.
    pub checks: HashMap<String, PaymentCheck>,
}

/// What the engine learnt from the hub.
#[derive(Clone, Debug, Default)]
pub struct HubResult {
    pub status: Option<CheckStatus>,
    pub message: Option<String>,
    /// Payment ids of the `payment.settled` events the hub holds for the day.
    pub settled: BTreeSet<String>,
    /// Refund ids of the `payment.refunded` events the hub holds for the day.
    pub refunds: BTreeSet<String>,
    /// The hub's `GET /v1/totals` for the day, a line per provider × currency.
    pub totals: Vec<till_sync_proto::TotalsRow>,
}

/// The kinds of disagreement.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum DisagreementKind {
    /// The provider holds a completed payment that Till records as failed,
    /// expired, cancelled or still open: money taken without a sale.
    PaidNotRecorded,
    /// Till records the payment as settled; the provider holds no completed payment.
    SettledNotPaid,
    /// The provider's amount or currency differs from Till's.
    AmountMismatch,
    /// The provider's completed refunds differ from Till's.
    RefundMismatch,
    /// Till does not know yet how the payment ended.
    OpenPayment,
    /// A settlement or refund booked into the day that the hub does not hold.
    HubMissing,
    /// The hub holds a settlement or refund for the day that Till does not book into it.
    HubExtra,
    /// The hub's totals for the day differ from Till's.
    HubTotalsMismatch,
    /// A side could not be asked.
    NotChecked,
}

impl DisagreementKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DisagreementKind::PaidNotRecorded => "paid_not_recorded",
            DisagreementKind::SettledNotPaid => "settled_not_paid",
            DisagreementKind::AmountMismatch => "amount_mismatch",
            DisagreementKind::RefundMismatch => "refund_mismatch",
            DisagreementKind::OpenPayment => "open_payment",
            DisagreementKind::HubMissing => "hub_missing",
            DisagreementKind::HubExtra => "hub_extra",
            DisagreementKind::HubTotalsMismatch => "hub_totals_mismatch",
            DisagreementKind::NotChecked => "not_checked",
        }
    }
}

/// What a manager can do about a disagreement (see [`super::Resolution`]).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SuggestedAction {
    /// Ask the provider again and adopt its word where the state machine allows.
    Recheck,
    /// Send what the hub is missing now (and replay dead letters).
    Resync,
    /// Refund the customer (from the payments screen, or the bank app for KHQR).
    Refund,
    /// Accept it as it is, with a note.
    Acknowledge,
}

/// One side's view in a disagreement.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SideView {
    /// A state or status in words ("settled", "expired", "paid", "not found", "held", …).
    pub state: String,
    pub amount: Option<Money>,
    pub detail: Option<String>,
}

/// The references that identify the money in question.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct References {
    pub payment_id: Option<String>,
    pub refund_id: Option<String>,
    pub invoice: Option<String>,
    /// The provider's own identifiers of the payment.
    pub provider_refs: ProviderRefs,
}

/// One disagreement.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Disagreement {
    /// Stable across reconciliations of the day: `<kind>:<reference>`.
    pub id: String,
    pub kind: DisagreementKind,
    pub provider: Option<ProviderKind>,
    pub references: References,
    pub local: Option<SideView>,
    #[serde(rename = "provider_view")]
    pub at_provider: Option<SideView>,
    pub hub: Option<SideView>,
    /// One sentence a manager understands.
    pub explanation: String,
    pub actions: Vec<SuggestedAction>,
}

/// One provider's section.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ProviderSection {
    pub provider: ProviderKind,
    pub status: CheckStatus,
    pub message: Option<String>,
    /// Payments asked about.
    pub checked: u64,
    /// Of those, answered and in agreement.
    pub agreed: u64,
    /// Payments whose question got no answer.
    pub unanswered: u64,
    /// What the provider holds as paid for the day's payments, per currency.
    pub provider_paid: Vec<CurrencyCount>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct CurrencyCount {
    pub currency: Currency,
    pub count: u64,
    pub amount: Money,
}

/// One provider × currency line of the comparison with the hub's totals.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct TotalsComparison {
    pub provider: String,
    pub currency: String,
    pub local_count: u64,
    pub local_settled: String,
    pub local_refunded: String,
    pub local_net: String,
    pub hub_count: u64,
    pub hub_settled: String,
    pub hub_refunded: String,
    pub hub_net: String,
    pub matches: bool,
}

/// The hub's section.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct HubSection {
    pub status: CheckStatus,
    pub message: Option<String>,
    /// Settlements and refunds booked into the day that the hub acknowledged (local outbox).
    pub acknowledged: u64,
    /// Not acknowledged yet (waiting in the queue or dead letters).
    pub unacknowledged: u64,
    /// Booked into the day but not held by the hub (read API), by our id.
    pub missing: Vec<String>,
    /// Held by the hub for the day but not booked into it here.
    pub extra: Vec<String>,
    pub totals: Vec<TotalsComparison>,
    /// `None` when the hub's totals could not be read.
    pub totals_match: Option<bool>,
}

/// The three-way reconciliation of one business day.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Reconciliation {
    pub day: NaiveDate,
    pub generated_at: DateTime<Utc>,
    pub providers: Vec<ProviderSection>,
    pub hub: HubSection,
    pub disagreements: Vec<Disagreement>,
}

impl Reconciliation {
    pub fn disagreement(&self, id: &str) -> Option<&Disagreement> {
        self.disagreements.iter().find(|d| d.id == id)
    }
}

fn refs(p: &Payment) -> References {
    References {
        payment_id: Some(p.id.clone()),
        refund_id: None,
        invoice: Some(p.invoice.clone()),
        provider_refs: p.refs.clone(),
    }
}

fn local_view(p: &Payment) -> SideView {
    SideView {
        state: p.state.as_str().to_owned(),
        amount: Some(p.amount.into()),
        detail: p.flag.clone().or_else(|| p.failure_reason.clone()),
    }
}

fn provider_side(v: &ProviderView) -> SideView {
    match v {
        ProviderView::Paid {
            amount,
            currency,
            reference,
        } => SideView {
            state: "paid".into(),
            amount: Some(Money::of(*amount, *currency)),
            detail: reference.clone(),
        },
        ProviderView::NotPaid { detail } => SideView {
            state: "not_paid".into(),
            amount: None,
            detail: Some(detail.clone()),
        },
        ProviderView::Unknown { error } => SideView {
            state: "unknown".into(),
            amount: None,
            detail: Some(error.clone()),
        },
    }
}

fn disagreement(
    kind: DisagreementKind,
    p: &Payment,
    view: Option<&ProviderView>,
    explanation: String,
    actions: Vec<SuggestedAction>,
) -> Disagreement {
    Disagreement {
        id: format!("{}:{}", kind.as_str(), p.id),
        kind,
        provider: Some(p.provider),
        references: refs(p),
        local: Some(local_view(p)),
        at_provider: view.map(provider_side),
        hub: None,
        explanation,
        actions,
    }
}

/// Compares one payment with its provider's answer.
fn compare_payment(p: &Payment, check: Option<&PaymentCheck>) -> Option<Disagreement> {
    use DisagreementKind::*;
    use SuggestedAction::*;
    let wallet = p.provider;
    let view = check.map(|c| &c.view);
    match view {
        Some(ProviderView::Paid {
            amount, currency, ..
        }) => {
            let paid = Money::of(*amount, *currency);
            let same_amount = p.amount.matches(*amount, *currency);
            if p.state.is_paid() {
                if !same_amount {
                    return Some(disagreement(
                        AmountMismatch,
                        p,
                        view,
                        format!(
                            "{wallet} holds {} for this payment, but Till settled {}.",
                            paid.display,
                            p.amount.display()
                        ),
                        vec![Recheck, Acknowledge],
                    ));
                }
                let local_refunded = p.refunded.value();
                if let Some(r) = check.and_then(|c| c.refunded) {
                    if r.normalize() != local_refunded.normalize() {
                        return Some(disagreement(
                            RefundMismatch,
                            p,
                            view,
                            format!(
                                "{wallet} has refunded {} of this payment, but Till recorded {} refunded.",
                                Money::of(r, *currency).display,
                                p.refunded.display()
                            ),
                            vec![Recheck, Acknowledge],
                        ));
                    }
                }
                None
            } else if p.state == PaymentState::Flagged {
                Some(disagreement(
                    AmountMismatch,
                    p,
                    view,
                    format!(
                        "The customer paid {} through {wallet} instead of {}; Till did not count it as a sale.",
                        paid.display,
                        p.amount.display()
                    ),
                    vec![Refund, Acknowledge],
                ))
            } else if p.state.is_open() {
                Some(disagreement(
                    PaidNotRecorded,
                    p,
                    view,
                    format!(
                        "{wallet} says the customer paid {}, but Till has not recorded the payment yet.",
                        paid.display
                    ),
                    vec![Recheck, Acknowledge],
                ))
            } else {
                Some(disagreement(
                    PaidNotRecorded,
                    p,
                    view,
                    format!(
                        "{wallet} took {} from the customer, but Till recorded the payment as {}: money taken without a sale.",
                        paid.display,
                        p.state
                    ),
                    vec![Refund, Acknowledge],
                ))
            }
        }
        Some(ProviderView::NotPaid { detail }) if p.state.is_paid() => Some(disagreement(
            SettledNotPaid,
            p,
            view,
            format!(
                "Till recorded {} as settled, but {wallet} holds no completed payment ({detail}).",
                p.amount.display()
            ),
            vec![Recheck, Acknowledge],
        )),
        Some(ProviderView::NotPaid { detail }) if p.state == PaymentState::Flagged => {
            Some(disagreement(
                SettledNotPaid,
                p,
                view,
                format!(
                    "Till flagged a payment with the wrong amount, but {wallet} now holds no completed payment ({detail})."
                ),
                vec![Recheck, Acknowledge],
            ))
        }
        _ if p.state.is_open() => Some(disagreement(
            OpenPayment,
            p,
            view,
            format!(
                "Till does not know yet how this {} payment ended.",
                p.amount.display()
            ),
            vec![Recheck, Acknowledge],
        )),
        _ => None,
    }
}

fn dec(m: &Money) -> Decimal {
    m.value()
}

/// Compares the journal's day with what the providers and the hub said.
pub fn build(
    data: &DayData,
    summary: &DaySummary,
    providers: &[ProviderResult],
    hub: &HubResult,
    now: DateTime<Utc>,
) -> Reconciliation {
    let mut disagreements = Vec::new();
    let mut sections = Vec::new();
    let by_provider: HashMap<ProviderKind, &ProviderResult> =
        providers.iter().map(|r| (r.provider, r)).collect();

    for kind in ProviderKind::ALL {
        let payments: Vec<&Payment> = data
            .payments
            .iter()
            .map(|d| &d.payment)
            .filter(|p| p.provider == kind)
            .collect();
        let result = by_provider.get(&kind);
        if payments.is_empty() && result.is_none() {
            continue;
        }
        let mut checked = 0;
        let mut agreed = 0;
        let mut unanswered = 0;
        let mut paid: BTreeMap<Currency, (u64, Decimal)> = BTreeMap::new();
        for p in &payments {
            let check = result.and_then(|r| r.checks.get(&p.id));
            if let Some(c) = check {
                checked += 1;
                match &c.view {
                    ProviderView::Unknown { .. } => unanswered += 1,
                    ProviderView::Paid {
                        amount, currency, ..
                    } => {
                        let e = paid.entry(*currency).or_default();
                        e.0 += 1;
                        e.1 += *amount;
                    }
                    ProviderView::NotPaid { .. } => {}
                }
            }
            match compare_payment(p, check) {
                Some(d) => disagreements.push(d),
                None => {
                    if check.is_some_and(|c| !matches!(c.view, ProviderView::Unknown { .. })) {
                        agreed += 1;
                    }
                }
            }
        }
        let (status, message) = match result {
            Some(r) => (r.status.clone(), r.message.clone()),
            None => (
                CheckStatus::NotApplicable,
                Some("no payments of this provider to check".into()),
            ),
        };
        if matches!(
            status,
            CheckStatus::CouldNotCheck | CheckStatus::NotConfigured
        ) && !payments.is_empty()
        {
            disagreements.push(Disagreement {
                id: format!("not_checked:{}", kind.as_str()),
                kind: DisagreementKind::NotChecked,
                provider: Some(kind),
                references: References::default(),
                local: None,
                at_provider: None,
                hub: None,
                explanation: format!(
                    "{} of the day's {} payments could not be checked with {kind}: {}.",
                    if unanswered > 0 {
                        unanswered
                    } else {
                        payments.len() as u64
                    },
                    payments.len(),
                    message
                        .as_deref()
                        .unwrap_or("no answer")
                        .trim_end_matches('.')
                ),
                actions: vec![SuggestedAction::Recheck, SuggestedAction::Acknowledge],
            });
        }
        sections.push(ProviderSection {
            provider: kind,
            status,
            message,
            checked,
            agreed,
            unanswered,
            provider_paid: paid
                .into_iter()
                .map(|(currency, (count, sum))| CurrencyCount {
                    currency,
                    count,
                    amount: Money::of(sum, currency),
                })
                .collect(),
        });
    }

    let hub_section = hub_section(data, summary, hub, &mut disagreements);
    disagreements.sort_by(|a, b| a.kind.cmp(&b.kind).then(a.id.cmp(&b.id)));
    Reconciliation {
        day: data.day,
        generated_at: now,
        providers: sections,
        hub: hub_section,
        disagreements,
    }
}

fn hub_section(
    data: &DayData,
    summary: &DaySummary,
    hub: &HubResult,
    disagreements: &mut Vec<Disagreement>,
) -> HubSection {
    let day = data.day;
    let acknowledged = data.outbox.delivered;
    let unacknowledged = data.outbox.pending + data.outbox.dead;
    let status = hub.status.clone().unwrap_or(CheckStatus::NotConfigured);
    let mut section = HubSection {
        status: status.clone(),
        message: hub.message.clone(),
        acknowledged,
        unacknowledged,
        missing: Vec::new(),
        extra: Vec::new(),
        totals: Vec::new(),
        totals_match: None,
    };
    // What the day books: settlements (payment ids) and finished refunds (refund ids).
    let booked_payments: BTreeMap<&str, &Payment> = data
        .payments
        .iter()
        .filter(|d| d.booked_day == Some(day))
        .map(|d| (d.payment.id.as_str(), &d.payment))
        .collect();
    let booked_refunds: BTreeMap<&str, &crate::journal::days::DayRefund> = data
        .refunds
        .iter()
        .filter(|r| r.booked_day == Some(day))
        .map(|r| (r.refund.id.as_str(), r))
        .collect();
    let ack_state = |event: &str, id: &str| -> Option<String> {
        data.outbox
            .records
            .iter()
            .find(|(t, pid, rid, _)| {
                t == event
                    && match event {
                        "payment.refunded" => rid.as_deref() == Some(id),
                        _ => pid == id,
                    }
            })
            .map(|r| r.3.clone())
    };
    let missing_view = |state: Option<String>| SideView {
        state: "missing".into(),
        amount: None,
        detail: Some(match state.as_deref() {
            Some("pending") => "waiting in the sync queue".into(),
            Some("dead") => "a dead letter in the sync queue".into(),
            Some("delivered") => "acknowledged earlier, but not held now".into(),
            _ => "never queued".into(),
        }),
    };

    if status == CheckStatus::Checked {
        for (id, p) in &booked_payments {
            if !hub.settled.contains(*id) {
                section.missing.push(id.to_string());
                let state = ack_state("payment.settled", id);
                disagreements.push(Disagreement {
                    id: format!("hub_missing:{id}"),
                    kind: DisagreementKind::HubMissing,
                    provider: Some(p.provider),
                    references: refs(p),
                    local: Some(SideView {
                        state: "settled".into(),
                        amount: Some(p.amount.into()),
                        detail: None,
                    }),
                    at_provider: None,
                    hub: Some(missing_view(state.clone())),
                    explanation: format!(
                        "The hub does not hold the settlement of {} ({}); it is {}.",
                        p.amount.display(),
                        p.invoice,
                        missing_view(state).detail.unwrap_or_default()
                    ),
                    actions: vec![SuggestedAction::Resync, SuggestedAction::Acknowledge],
                });
            }
        }
        for (id, r) in &booked_refunds {
            if !hub.refunds.contains(*id) {
                section.missing.push(id.to_string());
                let state = ack_state("payment.refunded", id);
                disagreements.push(Disagreement {
                    id: format!("hub_missing:{id}"),
                    kind: DisagreementKind::HubMissing,
                    provider: Some(r.provider),
                    references: References {
                        payment_id: Some(r.refund.payment_id.clone()),
                        refund_id: Some(r.refund.id.clone()),
                        invoice: Some(r.invoice.clone()),
                        ..References::default()
                    },
                    local: Some(SideView {
                        state: "refunded".into(),
                        amount: Some(r.refund.amount.into()),
                        detail: None,
                    }),
                    at_provider: None,
                    hub: Some(missing_view(state.clone())),
                    explanation: format!(
                        "The hub does not hold the refund of {} ({}); it is {}.",
                        r.refund.amount.display(),
                        r.invoice,
                        missing_view(state).detail.unwrap_or_default()
                    ),
                    actions: vec![SuggestedAction::Resync, SuggestedAction::Acknowledge],
                });
            }
        }
        for id in hub.settled.iter().chain(hub.refunds.iter()) {
            if booked_payments.contains_key(id.as_str()) || booked_refunds.contains_key(id.as_str())
            {
                continue;
            }
            section.extra.push(id.clone());
            disagreements.push(Disagreement {
                id: format!("hub_extra:{id}"),
                kind: DisagreementKind::HubExtra,
                provider: None,
                references: References {
                    payment_id: Some(id.clone()),
                    ..References::default()
                },
                local: Some(SideView {
                    state: "not booked into this day".into(),
                    amount: None,
                    detail: None,
                }),
                at_provider: None,
                hub: Some(SideView {
                    state: "held".into(),
                    amount: None,
                    detail: None,
                }),
                explanation: format!(
                    "The hub holds {id} for {day}, but Till does not book it into this day."
                ),
                actions: vec![SuggestedAction::Acknowledge],
            });
        }

        // Totals, provider × currency, both ways.
        let mut keys: BTreeSet<(String, String)> = BTreeSet::new();
        for w in &summary.wallets {
            keys.insert((w.provider.as_str().to_owned(), w.currency.code().to_owned()));
        }
        for h in &hub.totals {
            keys.insert((h.provider.clone(), h.currency.clone()));
        }
        let mut all_match = true;
        for (provider, currency) in keys {
            let local = summary
                .wallets
                .iter()
                .find(|w| w.provider.as_str() == provider && w.currency.code() == currency);
            let remote = hub
                .totals
                .iter()
                .find(|h| h.provider == provider && h.currency == currency);
            let zero = Decimal::ZERO;
            let (lc, ls, lr, ln) = local
                .map(|w| {
                    (
                        w.settled_count,
                        dec(&w.settled),
                        dec(&w.refunded),
                        dec(&w.net),
                    )
                })
                .unwrap_or((0, zero, zero, zero));
            let (hc, hs, hr, hn) = remote
                .map(|h| (h.count, h.settled, h.refunded, h.net))
                .unwrap_or((0, zero, zero, zero));
            let matches = lc == hc
                && ls.normalize() == hs.normalize()
                && lr.normalize() == hr.normalize()
                && ln.normalize() == hn.normalize();
            all_match &= matches;
            let c: Option<Currency> = currency.parse().ok();
            let show = |d: Decimal| match c {
                Some(c) => Money::of(d, c).display,
                None => format!("{d} {currency}"),
            };
            if !matches {
                disagreements.push(Disagreement {
                    id: format!("hub_totals_mismatch:{provider}:{currency}"),
                    kind: DisagreementKind::HubTotalsMismatch,
                    provider: provider.parse().ok(),
                    references: References::default(),
                    local: Some(SideView {
                        state: format!("{lc} settled"),
                        amount: c.map(|c| Money::of(ln, c)),
                        detail: Some(format!("settled {}, refunded {}", show(ls), show(lr))),
                    }),
                    at_provider: None,
                    hub: Some(SideView {
                        state: format!("{hc} settled"),
                        amount: c.map(|c| Money::of(hn, c)),
                        detail: Some(format!("settled {}, refunded {}", show(hs), show(hr))),
                    }),
                    explanation: format!(
                        "The hub's {provider} {currency} net for {day} is {}, Till's is {}.",
                        show(hn),
                        show(ln)
                    ),
                    actions: vec![SuggestedAction::Resync, SuggestedAction::Acknowledge],
                });
            }
            section.totals.push(TotalsComparison {
                provider,
                currency,
                local_count: lc,
                local_settled: ls.to_string(),
                local_refunded: lr.to_string(),
                local_net: ln.to_string(),
                hub_count: hc,
                hub_settled: hs.to_string(),
                hub_refunded: hr.to_string(),
                hub_net: hn.to_string(),
                matches,
            });
        }
        section.totals_match = Some(all_match);
    } else if status == CheckStatus::CouldNotCheck
        && (!booked_payments.is_empty() || !booked_refunds.is_empty())
    {
        disagreements.push(Disagreement {
            id: "not_checked:hub".into(),
            kind: DisagreementKind::NotChecked,
            provider: None,
            references: References::default(),
            local: None,
            at_provider: None,
            hub: None,
            explanation: format!(
                "The hub could not be asked about {day} ({}); {acknowledged} of {} records were acknowledged.",
                hub.message.as_deref().unwrap_or("no answer").trim_end_matches('.'),
                acknowledged + unacknowledged
            ),
            actions: vec![SuggestedAction::Resync, SuggestedAction::Acknowledge],
        });
    }
    section
}
