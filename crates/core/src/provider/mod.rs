//! Providers: the flow glue between the engine and each provider's own crate
//! (`till-bkash`, `till-bakong`), which hold the wire types and status mapping.
//!
//! [`Provider`] is what every provider offers the engine; flows that only one
//! provider has (bKash execute after the callback, Bakong's bulk MD5 poller)
//! live beside it in [`bkash`] and [`bakong`]. The rule from Hyperswitch: the
//! default answer is [`Verdict::Pending`]; only an explicit provider answer
//! makes a payment paid or failed.

pub mod bakong;
pub mod bkash;
pub mod bkash_lend;
pub mod bkash_token;
pub mod demo;

use crate::journal::payments::Change;
use crate::money::{Amount, Currency};
use crate::payment::{Payment, ProviderKind, Refund};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What the customer does next.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CustomerStep {
    /// Show this KHQR; it expires at `expires_at`.
    Khqr {
        khqr: String,
        md5: String,
        expires_at: DateTime<Utc>,
    },
    /// Open the bKash checkout page; the page ends by navigating to `callback_url`.
    Redirect {
        redirect_url: String,
        callback_url: String,
    },
    /// Nothing to show (demo): the payment settles by itself.
    Wait,
}

/// A provider's explicit answer about one payment.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// No decision (the default for anything not understood).
    Pending,
    Paid {
        amount: Decimal,
        currency: Currency,
        trx_id: Option<String>,
        hash: Option<String>,
        /// When the provider says the money moved, if it says (a KHQR paid
        /// before its expiry settles however late it is seen).
        paid_at: Option<DateTime<Utc>>,
    },
    Failed {
        code: String,
        reason: String,
    },
    Cancelled,
    Expired,
    /// The provider says money moved, in terms Till cannot read (no currency,
    /// one it does not know, no amount): flagged for a manager, never
    /// settled and never taken for a failure.
    Unclear {
        trx_id: Option<String>,
        hash: Option<String>,
        /// The flag's kind (`unreadable_payment`, `account_mismatch`).
        kind: &'static str,
        what: String,
    },
}

/// A provider's answer to a refund.
#[derive(Clone, Debug, PartialEq)]
pub enum RefundVerdict {
    Done {
        provider_refund_id: String,
    },
    Failed {
        reason: String,
    },
    /// The provider has no record of it (safe to send).
    NotFound,
    /// The provider lists refunds Till cannot tell apart from this one: it
    /// stays unknown and a manager must decide.
    Unclear {
        reason: String,
    },
}

/// Why a provider call gave no decision.
#[derive(Debug, thiserror::Error, Clone)]
pub enum ProviderError {
    /// Provably not received: safe to send again later.
    #[error("{provider} cannot be reached: {message}")]
    Unreachable {
        provider: ProviderKind,
        message: String,
    },
    /// May have been received and acted on: resolve by asking, never by repeating.
    #[error("{provider} did not answer in time: {message}")]
    Unknown {
        provider: ProviderKind,
        message: String,
    },
    /// The provider answered and refused.
    #[error("{reason}")]
    Refused {
        provider: ProviderKind,
        code: String,
        reason: String,
    },
    #[error("{provider} is not set up: {message}")]
    NotConfigured {
        provider: ProviderKind,
        message: String,
    },
    #[error("{provider} cannot do that: {message}")]
    Unsupported {
        provider: ProviderKind,
        message: String,
    },
}

impl ProviderError {
    /// Whether the provider is unreachable or silent (the engine reports it offline).
    pub fn is_offline(&self) -> bool {
        matches!(
            self,
            ProviderError::Unreachable { .. } | ProviderError::Unknown { .. }
        )
    }

    /// Whether the provider cannot verify payments now: offline, or refusing
    /// our credentials (an expired or revoked token). Health shows it as
    /// offline; unlike [`Self::is_offline`] it says nothing about whether a
    /// call may be repeated.
    pub fn cannot_verify(&self) -> bool {
        self.is_offline() || matches!(self, ProviderError::NotConfigured { .. })
    }
}

/// What [`Provider::start`] produced.
#[derive(Clone, Debug)]
pub struct Started {
    pub change: Change,
    pub step: CustomerStep,
}

/// What every provider offers the engine.
pub trait Provider: Send + Sync {
    fn kind(&self) -> ProviderKind;

    /// Currencies this provider charges in.
    fn currencies(&self) -> Vec<Currency>;

    /// The account a payment started now is paid to, as it may be shown,
    /// stored and synced (never a secret): recorded with each payment and
    /// compared at every start with the one the journal last saw.
    fn payee(&self) -> Option<String>;

    /// The setting that names [`Provider::payee`] (for the audit log).
    fn payee_setting(&self) -> &'static str;

    /// Fields computed locally before the payment is written (KHQR: the code
    /// and its MD5, so the MD5 is stored before the code is shown).
    fn prepare(
        &self,
        invoice: &str,
        amount: Amount,
        now: DateTime<Utc>,
    ) -> Result<Change, ProviderError>;

    /// Hands the payment (already written, state `created`) to the provider.
    fn start<'a>(&'a self, payment: &'a Payment) -> BoxFuture<'a, Result<Started, ProviderError>>;

    /// How the payment stands at the provider.
    fn query<'a>(&'a self, payment: &'a Payment) -> BoxFuture<'a, Result<Verdict, ProviderError>>;

    /// Sends a refund (non-idempotent: the engine sends each refund at most once).
    fn refund<'a>(
        &'a self,
        payment: &'a Payment,
        refund: &'a Refund,
    ) -> BoxFuture<'a, Result<RefundVerdict, ProviderError>>;

    /// Finds out how a sent refund ended. `booked` holds the provider's ids of
    /// this payment's refunds already booked, so an earlier refund is never
    /// taken for this one.
    fn refund_status<'a>(
        &'a self,
        payment: &'a Payment,
        refund: &'a Refund,
        booked: &'a [String],
    ) -> BoxFuture<'a, Result<RefundVerdict, ProviderError>>;

    /// The manager's Test connection: one real, harmless call, through
    /// [`crate::connect::check`] with `http` for its transport probe.
    fn test_connection<'a>(
        &'a self,
        http: &'a reqwest::Client,
    ) -> BoxFuture<'a, crate::connect::ConnectionReport>;
}

/// The configured providers.
#[derive(Clone, Default)]
pub struct Registry {
    providers: BTreeMap<ProviderKind, Arc<dyn Provider>>,
    /// Why a provider is off (no credentials, disabled): shown to people.
    disabled: BTreeMap<ProviderKind, String>,
}

impl Registry {
    pub fn insert(&mut self, p: Arc<dyn Provider>) {
        self.disabled.remove(&p.kind());
        self.providers.insert(p.kind(), p);
    }

    pub fn disable(&mut self, kind: ProviderKind, why: impl Into<String>) {
        self.providers.remove(&kind);
        self.disabled.insert(kind, why.into());
    }

    pub fn get(&self, kind: ProviderKind) -> Result<&Arc<dyn Provider>, ProviderError> {
        self.providers
            .get(&kind)
            .ok_or_else(|| ProviderError::NotConfigured {
                provider: kind,
                message: self
                    .disabled
                    .get(&kind)
                    .cloned()
                    .unwrap_or_else(|| "turned off in the configuration".into()),
            })
    }

    pub fn enabled(&self) -> Vec<ProviderKind> {
        self.providers.keys().copied().collect()
    }

    pub fn disabled(&self) -> &BTreeMap<ProviderKind, String> {
        &self.disabled
    }

    /// The payee of every provider on, as the journal remembers them.
    pub fn payees(&self) -> Vec<crate::journal::payees::PayeeSetting> {
        self.providers
            .iter()
            .filter_map(|(kind, p)| {
                p.payee().map(|payee| crate::journal::payees::PayeeSetting {
                    wallet: kind.as_str().to_owned(),
                    setting: p.payee_setting().to_owned(),
                    payee,
                })
            })
            .collect()
    }
}
