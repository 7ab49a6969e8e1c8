//! What the windows are sent: payments and terminal status with their display
//! strings already made, so the pages only place text. Amounts stay exact
//! decimal strings; nothing here is a float.

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use till_core::engine::Health;
use till_core::{Payment, PaymentState, ProviderKind, Refund, SyncState};

/// A payment as the cashier and manager see it.
#[derive(Debug, Clone, Serialize)]
pub struct PaymentView {
    pub id: String,
    pub provider: ProviderKind,
    pub state: PaymentState,
    /// Exact amount, e.g. "1250.00".
    pub amount: String,
    pub currency: String,
    /// "৳ 1,250.00".
    pub amount_display: String,
    pub refunded_display: String,
    /// Exact amount that may still be refunded ("0.00" when none).
    pub refundable: String,
    pub refundable_display: String,
    pub invoice: String,
    /// The provider's transaction id as a customer quotes it (a long one,
    /// such as a ledger hash, cut to its first 10 characters).
    pub reference: Option<String>,
    /// Every provider reference that is set, by the provider's own names
    /// (empty until [`PaymentView::of`] knows the provider).
    pub references: Vec<ReferenceView>,
    pub failure_reason: Option<String>,
    /// Why it ended so, for the window to say (`r_<code>`).
    pub failure: Option<till_core::reason::Reason>,
    pub flag: Option<String>,
    pub offline: bool,
    pub expires_ms: Option<i64>,
    pub created_ms: i64,
    /// "14:03": when it was created, in the shop's timezone.
    pub time: String,
    pub business_day: String,
    pub operator: String,
    /// How the customer pays with its wallet (`code`, `page`, `wait`), when the wallet is on.
    pub step: Option<till_core::provider::StepKind>,
    /// Till can send refunds for this wallet; otherwise a manager records one made elsewhere.
    pub refunds_by_api: bool,
    /// The latest receipt print: printed, failed (with why), or None (never asked).
    pub print: Option<till_core::engine::PrintRecord>,
    /// The paired POS that asked for it (the local API) and its order reference.
    pub origin: Option<till_core::payment::Origin>,
}

/// One provider reference: "trxID" "BFM1XYZ", "MD5" "d41d…".
#[derive(Debug, Clone, Serialize)]
pub struct ReferenceView {
    pub name: &'static str,
    pub value: String,
}

/// Longer than this, a transaction id is a hash no one reads out whole.
const QUOTABLE: usize = 16;

impl PaymentView {
    /// The view with times in the engine's (the shop's) timezone.
    pub fn of(p: &Payment, engine: &till_core::Engine) -> Self {
        let mut v = PaymentView::new(p, shop_tz(engine));
        let caps = engine.capabilities_of(p.provider);
        v.step = caps.map(|c| c.step);
        v.refunds_by_api = caps.is_some_and(|c| c.refunds);
        v.print = engine.last_print(&p.id).ok().flatten();
        if let Some(c) = caps {
            v.references = c
                .references
                .label(&p.refs)
                .into_iter()
                .map(|(name, value)| ReferenceView {
                    name,
                    value: value.to_owned(),
                })
                .collect();
        }
        v
    }

    pub fn new(p: &Payment, tz: chrono_tz::Tz) -> Self {
        let refundable = p.refundable();
        PaymentView {
            id: p.id.clone(),
            provider: p.provider,
            state: p.state,
            amount: p.amount.value().to_string(),
            currency: p.amount.currency().code().to_string(),
            amount_display: p.amount.display(),
            refunded_display: p.refunded.display(),
            refundable: refundable.value().to_string(),
            refundable_display: refundable.display(),
            invoice: p.invoice.clone(),
            reference: p.refs.transaction.as_ref().map(|t| {
                if t.chars().count() > QUOTABLE {
                    t.chars().take(10).collect()
                } else {
                    t.clone()
                }
            }),
            references: Vec::new(),
            failure_reason: p.failure_reason.clone(),
            failure: p.failure.clone(),
            flag: p.flag.clone(),
            offline: p.offline,
            expires_ms: p.expires_at.map(|t| t.timestamp_millis()),
            created_ms: p.created_at.timestamp_millis(),
            time: local_time(p.created_at, tz),
            business_day: p.business_day.to_string(),
            operator: p.operator.clone(),
            step: None,
            refunds_by_api: false,
            print: None,
            origin: p.origin.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RefundView {
    pub time: String,
    pub id: String,
    pub payment_id: String,
    pub amount_display: String,
    pub state: String,
    pub reason: Option<String>,
    pub failure_reason: Option<String>,
    pub requested_by: String,
    pub created_ms: i64,
}

impl RefundView {
    pub fn new(r: &Refund, tz: chrono_tz::Tz) -> Self {
        RefundView {
            time: local_time(r.created_at, tz),
            id: r.id.clone(),
            payment_id: r.payment_id.clone(),
            amount_display: r.amount.display(),
            state: serde_json::to_value(r.state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            reason: r.reason.clone(),
            failure_reason: r.failure_reason.clone(),
            requested_by: r.requested_by.clone(),
            created_ms: r.created_at.timestamp_millis(),
        }
    }
}

/// One provider's reachability.
#[derive(Debug, Clone, Serialize)]
pub struct ProviderStatus {
    pub provider: ProviderKind,
    /// Configured and usable on this terminal.
    pub enabled: bool,
    /// Why it is not usable ("no credentials in the keyring", ...).
    pub disabled_reason: Option<String>,
    pub online: bool,
    pub message: Option<String>,
}

/// Everything the banner and the wallet buttons need.
#[derive(Debug, Clone, Serialize)]
pub struct TerminalStatus {
    pub providers: Vec<ProviderStatus>,
    pub sync: Option<SyncState>,
    /// Set when the engine could not start: the one thing to fix.
    pub error: Option<String>,
    pub demo: Option<crate::demo::DemoInfo>,
}

impl TerminalStatus {
    pub fn build(
        providers: &[ProviderKind],
        disabled: &BTreeMap<ProviderKind, String>,
        health: &BTreeMap<ProviderKind, Health>,
        sync: Option<SyncState>,
        demo: Option<crate::demo::DemoInfo>,
    ) -> Self {
        let providers = ProviderKind::ALL
            .iter()
            .map(|k| {
                let h = health.get(k);
                ProviderStatus {
                    provider: *k,
                    enabled: providers.contains(k),
                    disabled_reason: disabled.get(k).cloned(),
                    online: h.map(|h| h.online).unwrap_or(true),
                    message: h.and_then(|h| h.message.clone()),
                }
            })
            .collect();
        TerminalStatus {
            providers,
            sync,
            error: None,
            demo,
        }
    }
}

/// The shop's timezone (validated when the configuration loaded).
pub fn shop_tz(engine: &till_core::Engine) -> chrono_tz::Tz {
    engine.config().timezone().unwrap_or(chrono_tz::UTC)
}

/// "14:03" in the shop's timezone.
pub fn local_time(at: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    at.with_timezone(&tz).format("%H:%M").to_string()
}
