//! Providers: the glue between the engine and each provider's own crate
//! (`till-bkash`, `till-bakong`), which hold the wire types and status mapping.
//!
//! [`Provider`] is everything the engine knows of a provider: what it can do
//! ([`Capabilities`], declared, never probed), how a payment starts, how it
//! stands, refunds, its callback ([`Provider::callback`], routed by URL), its
//! completion call, its own background task ([`Provider::background`], given a
//! [`crate::engine::Desk`]) and its reconciliation check. The engine never
//! branches on a provider's name; each provider lives in its own module here
//! and [`setup`] is the one place that names them all (registration). The
//! rule from Hyperswitch: the default answer is [`Verdict::Pending`]; only an
//! explicit provider answer makes a payment paid or failed.
//!
//! | module | what it is |
//! | --- | --- |
//! | [`setup`] | registration: builds each configured provider, the payee settings |
//! | [`bkash`] | bKash Tokenized Checkout: hosted page, execute, token store and lending, reconciliation |
//! | [`bakong`] | Bakong KHQR: the code, the bulk MD5 poller, reconciliation |
//! | [`nagad`] | Nagad: initialize + complete, its page, verify as the only proof, reconciliation |
//! | [`demo`] | the demo wallet: pays itself |

pub mod bakong;
pub mod bkash;
pub mod demo;
pub mod nagad;
pub mod setup;

use crate::journal::payments::Change;
use crate::money::{Amount, Currency};
use crate::payment::{Payment, ProviderKind, ProviderRefs, Refund};
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
    /// Show this code on the customer display (a KHQR); it expires at
    /// `expires_at`. `reference` is how the provider is asked about it (its MD5).
    Code {
        code: String,
        reference: String,
        expires_at: DateTime<Utc>,
    },
    /// Open the provider's page for the customer; the page ends by
    /// navigating to `callback_url` (caught by the shell, handed to
    /// [`crate::Engine::callback`]).
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
        /// The references the answer carries (its transaction id, …).
        refs: ProviderRefs,
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
        refs: ProviderRefs,
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

/// How the customer pays with a provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// A code made on the till and shown on the customer display
    /// ([`CustomerStep::Code`]): starting says nothing of the network, and a
    /// code left by a crash can still be shown and watched.
    Code,
    /// The provider's own page ([`CustomerStep::Redirect`]), made by a call
    /// to the provider: a payment left `created` by a crash never reached it.
    Page,
    /// Nothing to show ([`CustomerStep::Wait`]).
    Wait,
}

/// What a provider can do, declared by it (the engine never probes by trying).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Capabilities {
    pub step: StepKind,
    /// Refunds are sent through the provider's API.
    pub refunds: bool,
    /// A refund may be less than what is left to refund.
    pub partial_refunds: bool,
    /// A code may be shown while the provider cannot be reached (the offline
    /// caps apply; the payment is verified when it comes back).
    pub offline_display: bool,
    /// After the customer approves on the page, one completion call must be
    /// sent ([`Provider::complete`], bKash's execute): at most once, its
    /// unknown outcome resolved by [`Provider::query`]. Without it the
    /// provider's status after the callback is the only proof.
    pub completion_call: bool,
    /// The provider's [`Provider::background`] task watches its open
    /// payments; the sweeper leaves them alone.
    pub watches_its_payments: bool,
    /// A code given up (cancelled, failed, expired) stays payable on the
    /// customer's phone: look once more before cancelling.
    pub payable_after_cancel: bool,
    /// What the provider calls each of a payment's references, as its
    /// merchants read them on statements and in its portal.
    pub references: ReferenceNames,
}

/// A provider's own names for [`ProviderRefs`]' fields (`None`: the provider
/// has no such reference).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ReferenceNames {
    pub lookup: &'static str,
    pub transaction: &'static str,
    pub external: Option<&'static str>,
}

impl ReferenceNames {
    /// Each reference of `refs` that is set, with its name, in the order
    /// transaction, lookup, external (the one a customer quotes first).
    pub fn label<'a>(&self, refs: &'a ProviderRefs) -> Vec<(&'static str, &'a str)> {
        [
            (Some(self.transaction), &refs.transaction),
            (Some(self.lookup), &refs.lookup),
            (self.external, &refs.external),
        ]
        .into_iter()
        .filter_map(|(name, value)| Some((name?, value.as_deref()?)))
        .collect()
    }
}

/// What a callback URL says: a hint, never proof.
#[derive(Clone, Debug, PartialEq)]
pub struct Callback {
    /// How to find the payment ([`crate::Engine::payment`]'s key: the
    /// provider's payment reference or our invoice).
    pub payment_key: String,
    pub outcome: CallbackOutcome,
}

#[derive(Clone, Debug, PartialEq)]
pub enum CallbackOutcome {
    /// The customer approved on the page: completion, then the provider's status.
    Approved,
    /// The page ended without saying anything Till takes on its word (a
    /// wallet whose money moves on its own page): ask the provider now.
    Check,
    Cancelled,
    Failed {
        code: String,
        reason: String,
    },
}

/// A callback URL of a provider that Till refuses (tampered, malformed).
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
#[error("{provider} callback refused: {reason}")]
pub struct CallbackRefused {
    pub provider: ProviderKind,
    pub reason: String,
}

/// A provider's own background task.
pub struct Background {
    /// The task's name in restart records (`poller`).
    pub name: &'static str,
    pub task: BoxFuture<'static, ()>,
}

/// What [`Provider::start`] produced.
#[derive(Clone, Debug)]
pub struct Started {
    pub change: Change,
    pub step: CustomerStep,
}

/// What every page wallet writes before its start: where its page sends the
/// customer back, and when the checkout window ends.
pub(crate) fn page_prepared(
    callback_url: &url::Url,
    checkout_window: chrono::Duration,
    now: DateTime<Utc>,
) -> Change {
    Change {
        callback_url: Some(callback_url.to_string()),
        expires_at: Some(now + checkout_window),
        ..Change::default()
    }
}

impl Started {
    /// A page wallet's start: the provider's `reference` for the payment (what
    /// it is asked by) and the page the customer opens, which ends at `callback_url`.
    pub(crate) fn page(reference: String, page_url: String, callback_url: &url::Url) -> Started {
        Started {
            change: Change {
                refs: ProviderRefs {
                    lookup: Some(reference),
                    ..ProviderRefs::default()
                },
                customer_page: Some(page_url.clone()),
                ..Change::default()
            },
            step: CustomerStep::Redirect {
                redirect_url: page_url,
                callback_url: callback_url.to_string(),
            },
        }
    }
}

/// What every provider offers the engine.
pub trait Provider: Send + Sync {
    fn kind(&self) -> ProviderKind;

    /// The provider's name as people read it ("bKash", "Bakong").
    fn label(&self) -> &'static str;

    fn capabilities(&self) -> Capabilities;

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

    /// Whether `url` is where this provider's page sends the customer back:
    /// `None` when it is not this provider's callback at all, otherwise what
    /// it says or why it is refused. Only page wallets have one.
    fn callback(&self, _url: &url::Url) -> Option<Result<Callback, CallbackRefused>> {
        None
    }

    /// Where this provider's page sends the customer back (the CLI listens
    /// there). Only page wallets have one.
    fn callback_url(&self) -> Option<url::Url> {
        None
    }

    /// The currency a charge is in when none is named.
    fn default_currency(&self) -> Currency {
        self.currencies().first().copied().unwrap_or(Currency::Bdt)
    }

    /// The origin the provider's page may show (the checkout webview refuses
    /// every other). Only page wallets have one.
    fn page_origin(&self) -> Option<url::Origin> {
        None
    }

    /// The completion call after the customer approved
    /// ([`Capabilities::completion_call`]). The engine has recorded that it is
    /// being sent; whatever happens it is never sent again.
    fn complete<'a>(
        &'a self,
        _payment: &'a Payment,
    ) -> BoxFuture<'a, Result<Verdict, ProviderError>> {
        let provider = self.kind();
        Box::pin(async move {
            Err(ProviderError::Unsupported {
                provider,
                message: "has no completion call".into(),
            })
        })
    }

    /// What the provider calls its completion call, in the payment's history
    /// (`execute`).
    fn completion_name(&self) -> &'static str {
        "completion"
    }

    /// Until when an approved payment whose outcome is unknown stays
    /// "still checking": past it, the provider's "not completed" is taken
    /// for "never completed" (the provider's own payment lifetime, and time
    /// for its status to catch up).
    fn resolution_deadline(&self, payment: &Payment) -> DateTime<Utc> {
        payment.created_at + chrono::Duration::hours(25)
    }

    /// The provider's own background task, if it has one (Bakong's bulk
    /// poller), run supervised by the engine while it does background work
    /// (called again for each restart after a panic).
    fn background(self: Arc<Self>, _desk: crate::engine::Desk) -> Option<Background> {
        None
    }

    /// What a refusal code of this provider (bKash `2023`) means for the
    /// customer, as one of Till's reasons; anything not mapped is a plain
    /// decline. The provider's own words stay in `failure_reason`.
    fn decline_reason(&self, code: &str) -> crate::reason::ReasonCode {
        let _ = code;
        crate::reason::ReasonCode::Declined
    }

    /// How a refund is made when [`Capabilities::refunds`] is false (told to
    /// the manager, nothing is written).
    fn refund_elsewhere(&self) -> &'static str {
        "this wallet has no refund API; refund the customer another way"
    }

    /// Reconciliation: what the provider holds for the day's `payments`
    /// (all of them this provider's). `None`: nothing to ask (the demo).
    fn reconcile<'a>(
        &'a self,
        _payments: &'a [&'a Payment],
    ) -> BoxFuture<'a, Option<crate::report::reconcile::ProviderResult>> {
        Box::pin(async { None })
    }
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

    /// Every provider on.
    pub fn all(&self) -> impl Iterator<Item = &Arc<dyn Provider>> {
        self.providers.values()
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
