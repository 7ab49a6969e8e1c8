//! The engine: one async API for every front end (the desktop shell, the
//! command line, tests). It owns the journal, the providers and the
//! background tasks (each provider's own, sweeper, deferred-call worker).
//! It never names a provider: what it does for one follows from the
//! provider's declared [`crate::provider::Capabilities`].
//!
//! | module | what it does |
//! | --- | --- |
//! | (here) | opening and stopping, configuration, the journal handle, events |
//! | [`payments`] | charge, cancel, refund, status, list, waiting for an end |
//! | [`pos`] | the shop's POS (local API): keys, charges by the POS's reference, refund requests a manager decides |
//! | [`settle`] | turning a provider's verdict into a state change |
//! | [`hosted`] | page wallets: callback (routed by URL) → completion call once → resolution by status |
//! | [`desk`] | what a provider's background task may do with the engine |
//! | [`sweeper`] | start-up recovery, expiry of checkouts nobody watches, demo settlement |
//! | [`deferred`] | calls retried when an unreachable provider comes back |
//! | [`supervise`] | each background task restarted after a panic, and the panic recorded |
//! | [`background`] | the background tasks' part: stop signal, handles, wakes, restarts |
//! | [`health`] | each provider's reachability and the background counters |
//! | [`report`] | the day: totals, Z-report, reconciliation, close |
//! | [`print`] | receipts: a `Receipt` from a payment, printed and recorded after the payment is final; auto-print on settlement |
//! | [`retention`] | the provider-call log pruned at start and daily (`[storage]`) |
//!
//! The journal lock is never held across an `.await`.

mod background;
mod deferred;
mod desk;
pub use desk::Desk;
mod health;
pub use health::{Health, PollStats};
mod hosted;
mod payments;
mod pos;
pub use pos::{NewPosKey, PosAuthError, PosCharge};
mod print;
pub use crate::journal::prints::{PrintKind, PrintRecord};
pub use print::{receipt_of, PrintFailure, PrintOutcome};
mod report;
mod retention;
mod settle;
mod supervise;
pub use supervise::TaskRestart;
mod sweeper;

use crate::clock::Clock;
use crate::config::Config;
use crate::journal::{Journal, JournalContext, JournalError};
use crate::money::MoneyError;
use crate::payment::{Payment, ProviderKind};
use crate::provider::{CustomerStep, ProviderError, Registry};
use crate::secrets::SharedSecrets;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use till_provider_http::{CallObserver, CallRecord};
use tokio::sync::broadcast;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error(transparent)]
    Money(#[from] MoneyError),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Secret(#[from] crate::secrets::SecretError),
    #[error("{0}")]
    Refused(String),
    /// A step refused for a reason the screens say in their own language.
    #[error("{0}")]
    Refusal(crate::reason::Reason),
    #[error("no payment matches \"{0}\"")]
    NotFound(String),
    /// Refused before the payment started: the journal's file system has less free
    /// space than `[storage] min_free_mb`.
    #[error(
        "the disk holding the journal is full ({} MB free, Till needs {} MB to record payments safely); no payment was started: free some space on it, then charge again",
        .free_bytes >> 20,
        .min_free_bytes >> 20
    )]
    DiskFull {
        free_bytes: u64,
        min_free_bytes: u64,
    },
    #[error(transparent)]
    Busy(#[from] crate::home_lock::HomeLockError),
    #[error(transparent)]
    Setup(#[from] crate::provider::setup::SetupError),
    /// A receipt did not print (the payment is as it was).
    #[error(transparent)]
    Print(#[from] PrintFailure),
}

impl EngineError {
    /// The reason the screens say in their reader's language (`ui/js/i18n.js`,
    /// `r_<code>`), when this is a refusal that has one.
    pub fn reason(&self) -> Option<crate::reason::Reason> {
        use crate::reason::{Reason, ReasonCode};
        match self {
            EngineError::Refusal(r) => Some(r.clone()),
            // Refused before the payment, or a write the full disk refused (rolled back
            // whole): either way nothing was taken, and the cashier is told the same.
            EngineError::DiskFull { .. } | EngineError::Journal(JournalError::DiskFull { .. }) => {
                Some(Reason::new(ReasonCode::DiskFull))
            }
            EngineError::Print(f) => Some(f.reason()),
            EngineError::Provider(ProviderError::NotConfigured { provider, .. }) => {
                Some(Reason::new(ReasonCode::WalletOff).with("wallet", provider.as_str()))
            }
            _ => None,
        }
    }
}

/// What front ends hear about.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EngineEvent {
    /// A payment changed (state or fields).
    Payment { payment: Box<Payment> },
    /// A provider went offline or came back.
    ProviderHealth {
        provider: ProviderKind,
        online: bool,
        message: Option<String>,
    },
    /// The settlement sync's state changed (queue, acknowledgements, errors).
    Sync { state: crate::sync::SyncState },
    /// A background task panicked and was restarted (the manager is shown it).
    TaskRestarted { restart: supervise::TaskRestart },
}

/// A charge that has reached the customer.
#[derive(Clone, Debug, Serialize)]
pub struct Charge {
    pub payment: Payment,
    pub step: CustomerStep,
}

/// How to open an engine.
pub struct EngineOptions {
    /// Data directory: `journal.db`, `till.toml`, `logs/`.
    pub home: PathBuf,
    pub config: Config,
    pub secrets: SharedSecrets,
    pub clock: Clock,
    /// Run the poller, sweeper and deferred worker (off for one-shot commands
    /// that only read).
    pub background: bool,
}

pub(crate) struct Inner {
    pub config: Config,
    pub journal: Arc<Mutex<Journal>>,
    pub clock: Clock,
    pub registry: Registry,
    pub events: broadcast::Sender<EngineEvent>,
    /// Reachability of the providers and the background counters.
    pub health: health::HealthBoard,
    /// The background tasks: stop, wakes, supervision.
    pub background: background::Background,
    pub secrets: SharedSecrets,
    /// When this engine opened: recovery is for payments older than this.
    pub opened_at: DateTime<Utc>,
    /// Settlement sync to the hub (see [`crate::sync`]).
    pub sync: crate::sync::SyncShared,
    /// Held while this engine does the data directory's background work; let go at shutdown.
    pub home_lock: Mutex<Option<crate::home_lock::HomeLock>>,
    /// Payments whose automatic receipt this engine has started: an event
    /// seen twice prints once.
    pub auto_printed: Mutex<std::collections::HashSet<String>>,
}

/// The terminal engine. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    pub(crate) inner: Arc<Inner>,
}

/// Body keys holding customers' personal data, masked in the call log.
const PERSONAL_KEYS: &[&str] = &["customerMsisdn", "payerAccount", "fromAccountId", "wallet"];

/// Writes every provider call into the journal's call log.
struct JournalCallLog {
    journal: Arc<Mutex<Journal>>,
    clock: Clock,
}

impl CallObserver for JournalCallLog {
    fn record(&self, mut call: CallRecord) {
        let at = self.clock.now();
        // Customers' phone numbers are not ours to keep in a log.
        for body in [&mut call.request_body, &mut call.response_body]
            .into_iter()
            .flatten()
        {
            *body = till_provider_http::redact(body, PERSONAL_KEYS);
        }
        match self.journal.lock() {
            Ok(j) => {
                if let Err(e) = j.record_call(&call, at) {
                    tracing::warn!(error = %e, endpoint = %call.endpoint, "could not log a provider call");
                }
            }
            Err(_) => tracing::error!("journal lock poisoned"),
        }
    }
}

impl Engine {
    /// Opens the journal under `home`, builds the configured providers and,
    /// with `background`, starts the background tasks and resolves every
    /// payment left open by a previous run.
    pub async fn open(opts: EngineOptions) -> Result<Engine, EngineError> {
        // Background work is one process's at a time (see `home_lock`): taken before the
        // journal is touched, so a refused second process changes nothing.
        let home_lock = if opts.background {
            Some(crate::home_lock::HomeLock::acquire(
                &opts.home,
                &crate::home_lock::this_process(),
            )?)
        } else {
            None
        };
        let ctx = JournalContext::from_config(&opts.config)?;
        let journal = Journal::open(&opts.home.join("journal.db"), ctx)?;
        let journal = Arc::new(Mutex::new(journal));
        let observer: till_provider_http::SharedObserver = Arc::new(JournalCallLog {
            journal: journal.clone(),
            clock: opts.clock.clone(),
        });
        let config = opts.config;
        let registry = crate::provider::setup::build(&crate::provider::setup::SetupContext {
            config: &config,
            secrets: &opts.secrets,
            home: &opts.home,
            journal: &journal,
            observer: &observer,
            clock: &opts.clock,
        })?;

        // A payee changed while Till was not running (till.toml edited, other
        // credentials stored) is audited with its old and new value now,
        // before any payment can go to the new account unnoticed.
        {
            let mut payees = registry.payees();
            for known in crate::provider::setup::configured_payees(&config) {
                // A provider off for want of a secret: its payee is still set.
                if !payees.iter().any(|p| p.wallet == known.wallet) {
                    payees.push(known);
                }
            }
            let mut j = journal
                .lock()
                .map_err(|_| EngineError::Refused("journal lock poisoned".into()))?;
            for c in j.note_payees(&payees, "till", "found when Till started", opts.clock.now())? {
                if c.old.is_some() {
                    tracing::warn!(wallet = %c.wallet, setting = %c.setting, old = ?c.old, new = %c.new, "payee changed while Till was not running");
                }
            }
        }
        let sync = crate::sync::SyncShared::new(&config)?;
        let (events, _) = broadcast::channel(1024);
        let engine = Engine {
            inner: Arc::new(Inner {
                config,
                journal,
                clock: opts.clock.clone(),
                background: background::Background::new(registry.enabled()),
                registry,
                events,
                health: health::HealthBoard::default(),
                secrets: opts.secrets,
                opened_at: opts.clock.now(),
                sync,
                home_lock: Mutex::new(home_lock),
                auto_printed: Mutex::new(std::collections::HashSet::new()),
            }),
        };
        if opts.background {
            engine.start_background();
        }
        Ok(engine)
    }

    fn start_background(&self) {
        let tasks = &self.inner.background;
        use supervise::spawn_supervised;
        for provider in self.inner.registry.all() {
            let kind = provider.kind();
            let wake = tasks.wake_of(kind);
            let desk = Desk::new(self.clone(), kind, wake.clone());
            // A provider's own task (a poller), restarted like the others after a panic.
            if let Some(first) = provider.clone().background(desk) {
                let provider = provider.clone();
                tasks.add(spawn_supervised(self, first.name, move |engine| {
                    let desk = Desk::new(engine, kind, wake.clone());
                    let task = provider.clone().background(desk);
                    async move {
                        if let Some(b) = task {
                            b.task.await
                        }
                    }
                }));
            }
        }
        tasks.add(spawn_supervised(self, "sweeper", sweeper::run));
        tasks.add(spawn_supervised(self, "deferred", deferred::run));
        tasks.add(spawn_supervised(self, "retention", retention::run));
        if self.inner.config.hub.url.is_some() {
            tasks.add(spawn_supervised(self, "sync", crate::sync::run));
        }
    }

    /// Stops the background tasks (the journal stays consistent whenever this happens).
    pub async fn shutdown(&self) {
        for t in self.inner.background.stop() {
            let abort = t.abort_handle();
            if tokio::time::timeout(Duration::from_secs(2), t)
                .await
                .is_err()
            {
                // Every journal write is one transaction: stopping mid-call loses nothing.
                abort.abort();
            }
        }
        // The background work has stopped: another engine (the app re-opening after a
        // settings change, or a `till charge` after the app closed) may take over.
        if let Ok(mut lock) = self.inner.home_lock.lock() {
            lock.take();
        }
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The currency a charge with `kind` is in when none is named (None: it is off).
    pub fn default_currency_of(&self, kind: ProviderKind) -> Option<crate::money::Currency> {
        self.inner
            .registry
            .get(kind)
            .ok()
            .map(|p| p.default_currency())
    }

    /// What a provider on can do (None: it is off).
    pub fn capabilities_of(&self, kind: ProviderKind) -> Option<crate::provider::Capabilities> {
        self.inner.registry.get(kind).ok().map(|p| p.capabilities())
    }

    /// How people read a provider's name (`Provider::label`); its id when it is off.
    pub fn label_of(&self, kind: ProviderKind) -> &'static str {
        self.inner
            .registry
            .get(kind)
            .map(|p| p.label())
            .unwrap_or(kind.as_str())
    }

    /// Wakes every provider's background task (start-up recovery, shutdown).
    pub(crate) fn wake_providers(&self) {
        self.inner.background.wake_providers();
    }

    /// Recomputes the audit chain (audit log + Z-reports) from the journal's
    /// rows and says where it first breaks (`till audit verify`).
    pub fn verify_chain(&self) -> Result<crate::journal::chain::ChainReport, EngineError> {
        Ok(self.with_journal(|j| j.verify_chain())?)
    }

    /// Audits, as `actor`, the payee settings of `saved` (a configuration
    /// the manager just saved) that differ from what the journal last saw,
    /// with old and new value; the engine opened on it then finds nothing
    /// more to audit. Returns the changes.
    pub fn note_saved_payees(
        &self,
        actor: &str,
        saved: &Config,
    ) -> Result<Vec<crate::journal::payees::PayeeChange>, EngineError> {
        let payees = crate::provider::setup::configured_payees(saved);
        let at = self.now();
        Ok(self.with_journal(|j| j.note_payees(&payees, actor, "saved in Settings", at))?)
    }

    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// Runs `f` with the journal locked (never across an await).
    pub(crate) fn with_journal<T>(
        &self,
        f: impl FnOnce(&mut Journal) -> Result<T, JournalError>,
    ) -> Result<T, JournalError> {
        let mut j = self
            .inner
            .journal
            .lock()
            .map_err(|_| JournalError::Refused("the journal lock is poisoned".into()))?;
        f(&mut j)
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    pub(crate) fn emit(&self, p: &Payment) {
        let _ = self.inner.events.send(EngineEvent::Payment {
            payment: Box::new(p.clone()),
        });
        // Every state change passes here after its transaction committed, so
        // the receipt is started only once the payment is final; it runs on
        // its own task and nothing here waits for it.
        if p.state == crate::state::PaymentState::Settled {
            self.auto_print(&p.id);
        }
    }

    /// Live updates: every payment change and provider health change.
    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.inner.events.subscribe()
    }

    /// Providers that can take payments now.
    pub fn providers(&self) -> Vec<ProviderKind> {
        self.inner.registry.enabled()
    }

    /// Providers that cannot, and why (for the screen).
    /// The currencies a configured provider takes (none when not configured).
    pub fn currencies_of(&self, kind: ProviderKind) -> Vec<crate::money::Currency> {
        self.inner
            .registry
            .get(kind)
            .map(|p| p.currencies())
            .unwrap_or_default()
    }

    pub fn disabled_providers(&self) -> BTreeMap<ProviderKind, String> {
        self.inner.registry.disabled().clone()
    }

    /// Online/offline per provider, as last seen (absent: not contacted yet).
    pub fn health(&self) -> BTreeMap<ProviderKind, Health> {
        self.inner.health.snapshot()
    }

    pub fn is_online(&self, kind: ProviderKind) -> bool {
        self.inner.health.is_online(kind)
    }

    /// Records what a provider call says about reachability.
    pub(crate) fn note_health<T>(&self, kind: ProviderKind, r: &Result<T, ProviderError>) {
        let (online, message) = match r {
            // A provider that cannot verify payments (unreachable, silent, or
            // refusing our credentials) is offline: KHQR codes shown now are
            // unverified and fall under the offline caps.
            Err(e) if e.cannot_verify() => (false, Some(e.to_string())),
            _ => (true, None),
        };
        if self
            .inner
            .health
            .note(kind, online, message.clone(), self.now())
        {
            tracing::info!(provider = %kind, online, "provider health changed");
            let _ = self.inner.events.send(EngineEvent::ProviderHealth {
                provider: kind,
                online,
                message,
            });
            if online {
                // Whatever waited for this provider may go now.
                self.inner.background.wake_sweeper();
            }
        }
    }

    pub fn poll_stats(&self) -> PollStats {
        self.inner.health.stats()
    }

    pub fn audit_log(
        &self,
        limit: u32,
    ) -> Result<Vec<crate::journal::log::AuditEntry>, EngineError> {
        Ok(self.with_journal(|j| j.audit_log(limit))?)
    }

    /// Records who did what in the audit log (sign-ins, settings, exports).
    pub fn audit(
        &self,
        actor: &str,
        action: &str,
        target: Option<&str>,
        detail: Option<&str>,
    ) -> Result<(), EngineError> {
        let at = self.now();
        Ok(self.with_journal(|j| j.audit(actor, action, target, detail, at))?)
    }

    pub fn journal_path(&self) -> PathBuf {
        self.with_journal(|j| Ok(j.path().to_owned()))
            .unwrap_or_default()
    }
}

/// The default data directory: `$TILL_HOME`, else `$XDG_DATA_HOME/till`, else `~/.local/share/till`.
pub fn default_home() -> PathBuf {
    if let Some(h) = std::env::var_os("TILL_HOME") {
        return PathBuf::from(h);
    }
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("till")
}
