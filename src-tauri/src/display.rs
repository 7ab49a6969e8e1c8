//! What the customer display shows. The cashier's commands and the engine's
//! events change it; the display window only renders it. It is kept here (not
//! only sent as an event) so a display window that loads or reloads late still
//! shows the charge in progress.

use crate::views::{local_time, PaymentView};
use serde::Serialize;
use till_core::{Payment, PaymentState, ProviderKind};

pub const EVENT: &str = "display://changed";

/// How long the ✓ / ✗ screen stays before the display goes idle again.
pub const RESULT_MS: i64 = 6_000;

#[derive(Debug, Clone, Serialize, Default)]
#[serde(tag = "screen", rename_all = "snake_case")]
pub enum DisplayState {
    /// The shop's name, calm.
    #[default]
    Idle,
    /// A KHQR code waiting to be scanned.
    Khqr(KhqrScreen),
    /// The amount and the wallet while the customer is on the wallet's page
    /// (the checkout webview opens over this) or the demo wallet settles itself.
    Wallet(WalletScreen),
    /// Paid / declined / expired / cancelled, full screen, for a few seconds.
    Result(ResultScreen),
}

impl DisplayState {
    pub fn payment_id(&self) -> Option<&str> {
        match self {
            DisplayState::Idle => None,
            DisplayState::Khqr(k) => Some(&k.payment_id),
            DisplayState::Wallet(w) => Some(&w.payment_id),
            DisplayState::Result(r) => Some(&r.payment_id),
        }
    }

    /// What to show at `now_ms`: a result screen past its time is idle.
    pub fn at(&self, now_ms: i64) -> DisplayState {
        match self {
            DisplayState::Result(r) if r.until_ms <= now_ms => DisplayState::Idle,
            other => other.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct KhqrScreen {
    pub payment_id: String,
    /// The exact string drawn in the code (what the customer's bank app reads).
    pub qr: String,
    /// The provider's tracking key for this code (its MD5).
    pub md5: String,
    /// The code as SVG, scaled by the page to the largest size the screen allows.
    pub svg: String,
    /// "៛ 40,000" / "$ 12.50".
    pub amount_display: String,
    /// "40000" / "12.50": the exact amount in the code.
    pub amount: String,
    pub currency: String,
    pub expires_ms: i64,
    /// Shown while the wallet could not be reached: it will be verified later.
    pub offline: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct WalletScreen {
    pub payment_id: String,
    pub provider: ProviderKind,
    pub amount_display: String,
    /// `page` (the customer pays on the wallet's page) or `wait` (the demo).
    pub step: Option<till_core::provider::StepKind>,
    /// The customer's language beside English (`bn`, `km`).
    pub lang: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResultScreen {
    pub payment_id: String,
    pub provider: ProviderKind,
    /// The customer's language beside English (`bn`, `km`).
    pub lang: &'static str,
    /// `paid`, `failed`, `expired`, `cancelled` or `flagged`.
    pub outcome: &'static str,
    pub amount_display: String,
    pub reference: Option<String>,
    pub time: String,
    pub until_ms: i64,
}

/// The screen for a payment that is waiting for the customer.
pub fn waiting(p: &Payment, engine: &till_core::Engine) -> Result<DisplayState, String> {
    let view = PaymentView::of(p, engine);
    match (view.step, &p.customer_code, &p.refs.lookup) {
        (Some(till_core::provider::StepKind::Code), Some(qr), Some(md5)) => {
            let svg = khqr::render_svg_fluid(qr).map_err(|e| {
                tracing::error!(error = %e, "KHQR rendering failed");
                "Cannot draw the QR code. Cancel and charge again.".to_string()
            })?;
            Ok(DisplayState::Khqr(KhqrScreen {
                payment_id: p.id.clone(),
                qr: qr.clone(),
                md5: md5.clone(),
                svg,
                amount_display: view.amount_display,
                amount: p.amount.value().to_string(),
                currency: p.amount.currency().code().to_string(),
                expires_ms: view.expires_ms.unwrap_or(0),
                offline: p.offline,
            }))
        }
        _ => Ok(DisplayState::Wallet(WalletScreen {
            payment_id: p.id.clone(),
            provider: p.provider,
            amount_display: view.amount_display,
            step: view.step,
            lang: customer_language(p.amount.currency()),
        })),
    }
}

/// The screen after a payment ended, or `None` while it is still open.
pub fn result(p: &Payment, now_ms: i64, engine: &till_core::Engine) -> Option<DisplayState> {
    let tz = crate::views::shop_tz(engine);
    let outcome = match p.state {
        s if s.is_open() => return None,
        s if s.is_paid() => "paid",
        PaymentState::Expired => "expired",
        PaymentState::Cancelled => "cancelled",
        PaymentState::Flagged => "flagged",
        _ => "failed",
    };
    let view = PaymentView::new(p, tz);
    Some(DisplayState::Result(ResultScreen {
        payment_id: p.id.clone(),
        provider: p.provider,
        lang: customer_language(p.amount.currency()),
        outcome,
        amount_display: view.amount_display,
        reference: view.reference,
        time: local_time(p.updated_at, tz),
        until_ms: now_ms + RESULT_MS,
    }))
}

/// The customer's language beside English, from the money they pay in:
/// taka is Bangladesh's (Bangla), riel and dollars at a KHQR Cambodia's (Khmer).
pub fn customer_language(c: till_core::Currency) -> &'static str {
    match c {
        till_core::Currency::Bdt => "bn",
        _ => "km",
    }
}
