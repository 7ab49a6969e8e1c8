//! The engine: one async API for every front end (the desktop shell, the
//! command line, tests). It owns the journal, the providers and the
//! background tasks (each provider's own, sweeper, deferred-call worker).
//! It never names a provider: what it does for one follows from the
//! provider's declared [`crate::provider::Capabilities`].
//!
//! | module | what it does |
//! | --- | --- |
//! | [`charge`](self::Engine::charge) (here) | charge, cancel, refund, status, list, subscribe |
//! | [`settle`] | turning a provider's verdict into a state change |
//! | [`hosted`] | page wallets: callback (routed by URL) → completion call once → resolution by status |
//! | [`desk`] | what a provider's background task may do with the engine |
//! | [`sweeper`] | start-up recovery, expiry of checkouts nobody watches, demo settlement |
//! | [`deferred`] | calls retried when an unreachable provider comes back |
//! | [`supervise`] | each background task restarted after a panic, and the panic recorded |
//! | [`retention`] | the provider-call log pruned at start and daily (`[storage]`) |
//!
//! The journal lock is never held across an `.await`.

mod deferred;
mod desk;
pub use desk::Desk;
mod hosted;
mod report;
mod retention;
mod settle;
mod supervise;
pub use supervise::TaskRestart;
mod sweeper;

use crate::clock::Clock;
use crate::config::Config;
use crate::journal::payments::{Change, ListFilter, NewPayment};
use crate::journal::{Journal, JournalContext, JournalError};
use crate::money::{Amount, MoneyError};
use crate::payment::{Payment, ProviderKind, Refund};
use crate::provider::{CustomerStep, ProviderError, Registry};
use crate::secrets::SharedSecrets;
use crate::state::PaymentState;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use till_provider_http::{CallObserver, CallRecord};
use tokio::sync::{broadcast, watch, Notify};
use tokio::task::JoinHandle;

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
}

impl EngineError {
    /// A stable code for the screens (`ui/js/i18n.js` has `e_<code>`), when this is an
    /// error the cashier is told in their own language.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            // Refused before the payment, or a write the full disk refused (rolled back
            // whole): either way nothing was taken, and the cashier is told the same.
            EngineError::DiskFull { .. } | EngineError::Journal(JournalError::DiskFull { .. }) => {
                Some("disk_full")
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

/// Online/offline of one provider, as last seen.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Health {
    pub online: bool,
    pub since: DateTime<Utc>,
    pub message: Option<String>,
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
    /// Per provider, what wakes its background task (a payment of it started).
    pub wakes: BTreeMap<ProviderKind, Arc<Notify>>,
    pub events: broadcast::Sender<EngineEvent>,
    pub health: Mutex<BTreeMap<ProviderKind, Health>>,
    pub sweep_wake: Notify,
    pub stop: watch::Sender<bool>,
    pub tasks: Mutex<Vec<JoinHandle<()>>>,
    pub stats: Mutex<PollStats>,
    pub secrets: SharedSecrets,
    /// When this engine opened: recovery is for payments older than this.
    pub opened_at: DateTime<Utc>,
    /// Settlement sync to the hub (see [`crate::sync`]).
    pub sync: crate::sync::SyncShared,
    /// Held while this engine does the data directory's background work; let go at shutdown.
    pub home_lock: Mutex<Option<crate::home_lock::HomeLock>>,
    /// Background tasks restarted after a panic, by task (see [`supervise`]).
    pub task_restarts: Mutex<BTreeMap<&'static str, supervise::TaskRestart>>,
    /// Per task, the signal that makes it panic on purpose ([`Engine::crash_task`]).
    pub crash_requests: Mutex<BTreeMap<&'static str, Arc<Notify>>>,
}

/// Counters of the providers' background checks and the sweeper (tests and benchmarks).
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct PollStats {
    pub ticks: u64,
    pub requests: u64,
    pub max_requests_in_a_tick: u64,
    /// Sweeper passes finished (a test waits for one instead of sleeping).
    pub sweeps: u64,
    /// Pruning passes of the provider-call log finished (at start, then daily).
    pub prunes: u64,
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
        let (stop, _) = watch::channel(false);
        let engine = Engine {
            inner: Arc::new(Inner {
                config,
                journal,
                clock: opts.clock.clone(),
                wakes: registry
                    .enabled()
                    .into_iter()
                    .map(|k| (k, Arc::new(Notify::new())))
                    .collect(),
                registry,
                events,
                health: Mutex::new(BTreeMap::new()),
                sweep_wake: Notify::new(),
                stop,
                tasks: Mutex::new(Vec::new()),
                stats: Mutex::new(PollStats::default()),
                secrets: opts.secrets,
                opened_at: opts.clock.now(),
                sync,
                home_lock: Mutex::new(home_lock),
                task_restarts: Mutex::new(BTreeMap::new()),
                crash_requests: Mutex::new(BTreeMap::new()),
            }),
        };
        if opts.background {
            engine.start_background();
        }
        Ok(engine)
    }

    fn start_background(&self) {
        let mut tasks = self.inner.tasks.lock().expect("tasks lock");
        use supervise::spawn_supervised;
        for provider in self.inner.registry.all() {
            let kind = provider.kind();
            let wake = self.inner.wakes.get(&kind).cloned().unwrap_or_default();
            let desk = Desk::new(self.clone(), kind, wake.clone());
            // A provider's own task (a poller), restarted like the others after a panic.
            if let Some(first) = provider.clone().background(desk) {
                let provider = provider.clone();
                tasks.push(spawn_supervised(self, first.name, move |engine| {
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
        tasks.push(spawn_supervised(self, "sweeper", sweeper::run));
        tasks.push(spawn_supervised(self, "deferred", deferred::run));
        tasks.push(spawn_supervised(self, "retention", retention::run));
        if self.inner.config.hub.url.is_some() {
            tasks.push(spawn_supervised(self, "sync", crate::sync::run));
        }
    }

    /// Stops the background tasks (the journal stays consistent whenever this happens).
    pub async fn shutdown(&self) {
        self.inner.stop.send_replace(true);
        self.wake_providers();
        self.inner.sweep_wake.notify_one();
        let tasks: Vec<_> = std::mem::take(&mut *self.inner.tasks.lock().expect("tasks lock"));
        for t in tasks {
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
        for w in self.inner.wakes.values() {
            w.notify_one();
        }
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
        self.inner.health.lock().expect("health lock").clone()
    }

    pub fn is_online(&self, kind: ProviderKind) -> bool {
        self.health().get(&kind).map(|h| h.online).unwrap_or(true)
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
        let changed = {
            let mut h = self.inner.health.lock().expect("health lock");
            let prev = h.get(&kind).map(|x| x.online);
            if prev != Some(online) {
                h.insert(
                    kind,
                    Health {
                        online,
                        since: self.now(),
                        message: message.clone(),
                    },
                );
                prev.is_some() || !online
            } else {
                false
            }
        };
        if changed {
            tracing::info!(provider = %kind, online, "provider health changed");
            let _ = self.inner.events.send(EngineEvent::ProviderHealth {
                provider: kind,
                online,
                message,
            });
            if online {
                // Whatever waited for this provider may go now.
                self.inner.sweep_wake.notify_one();
            }
        }
    }

    pub fn poll_stats(&self) -> PollStats {
        *self.inner.stats.lock().expect("stats lock")
    }

    // ---------------------------------------------------------------- charge

    /// Starts a payment: written to the journal (with its idempotency key)
    /// before any network call, then handed to the provider.
    pub async fn charge(
        &self,
        provider: ProviderKind,
        amount: Amount,
        operator: &str,
    ) -> Result<Charge, EngineError> {
        let p = self.inner.registry.get(provider)?.clone();
        if !p.currencies().contains(&amount.currency()) {
            return Err(EngineError::Refused(format!(
                "{provider} does not take {}; it takes {}",
                amount.currency(),
                p.currencies()
                    .iter()
                    .map(|c| c.code())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        self.check_free_space()?;
        let now = self.now();
        let caps = p.capabilities();
        let offline = caps.offline_display && !self.is_online(provider);
        let cap = if offline {
            Some(self.unverified_caps(p.label(), amount, now)?)
        } else {
            None
        };
        let id = ulid::Ulid::new().to_string();
        let created = self.with_journal(|j| {
            // The day's cap is checked in the transaction that writes the
            // payment: two charges at once cannot both slip under it.
            j.create_payment_capped(
                NewPayment {
                    id: id.clone(),
                    provider,
                    amount,
                    operator: operator.to_owned(),
                    at: now,
                },
                cap,
                |invoice, _| {
                    let mut c = p.prepare(invoice, amount, now)?;
                    c.offline = Some(offline);
                    // Where this payment's money goes, as it is now: a later
                    // change of settings does not rewrite it.
                    c.payee = p.payee();
                    Ok::<_, ProviderError>(c)
                },
            )
        })
        .map_err(|e| match e {
            JournalError::OverUnverifiedCap { after, .. } => EngineError::Refused(format!(
                "{} cannot be reached, and today's unverified payments would reach {}, above the day's limit",
                p.label(),
                after.display()
            )),
            e => e.into(),
        })??;
        self.emit(&created);
        let started = p.start(&created).await;
        if caps.step == crate::provider::StepKind::Page {
            // A code or demo start is local: it says nothing about reachability.
            self.note_health(provider, &started);
        }
        match started {
            Ok(s) => {
                let payment = self.with_journal(|j| {
                    j.transition(
                        &created.id,
                        PaymentState::AwaitingCustomer,
                        &s.change,
                        None,
                        self.now(),
                    )
                })?;
                self.emit(&payment);
                if let Some(wake) = self.inner.wakes.get(&provider) {
                    wake.notify_one();
                }
                Ok(Charge {
                    payment,
                    step: s.step,
                })
            }
            Err(e) => {
                // Create gave no payment to show the customer: nothing can be
                // paid on it, so it ends here.
                let reason = match &e {
                    ProviderError::Unknown { .. } => {
                        format!("{provider} did not answer; nothing was charged. Try again.")
                    }
                    other => other.to_string(),
                };
                let code = match &e {
                    ProviderError::Refused { code, .. } => code.clone(),
                    _ => "start".into(),
                };
                let failed = self.with_journal(|j| {
                    j.transition(
                        &created.id,
                        PaymentState::Failed,
                        &Change {
                            failure_code: Some(code),
                            failure_reason: Some(reason.clone()),
                            ..Change::default()
                        },
                        Some(&e.to_string()),
                        self.now(),
                    )
                })?;
                self.emit(&failed);
                Err(EngineError::Provider(e))
            }
        }
    }

    /// Refuses a payment while the journal's file system has less free space than
    /// `[storage] min_free_mb`: a payment whose record cannot be written must never reach
    /// the customer. Checked each time, so freeing space is enough (no restart).
    fn check_free_space(&self) -> Result<(), EngineError> {
        let min = self.inner.config.storage.min_free_bytes();
        if min == 0 {
            return Ok(());
        }
        match self.with_journal(|j| Ok(j.free_space()))? {
            Ok(free) if free < min => {
                tracing::warn!(free, min, "charge refused: the journal's disk is full");
                Err(EngineError::DiskFull {
                    free_bytes: free,
                    min_free_bytes: min,
                })
            }
            Ok(_) => Ok(()),
            // Not knowing is no reason to refuse a sale: a write the disk cannot take is
            // still rolled back whole and told as disk_full.
            Err(e) => {
                tracing::warn!(error = %e, "cannot tell the journal's free space");
                Ok(())
            }
        }
    }

    /// The offline caps for a code shown while its provider cannot verify it: the
    /// per-payment cap is checked here, the day's is returned for the journal
    /// to check as it writes the payment.
    fn unverified_caps(
        &self,
        label: &str,
        amount: Amount,
        now: DateTime<Utc>,
    ) -> Result<crate::journal::payments::UnverifiedCap, EngineError> {
        let c = amount.currency();
        let per_payment = self.inner.config.offline.max_unverified_per_payment.get(&c);
        let per_day = self.inner.config.offline.max_unverified_per_day.get(&c);
        let zero = rust_decimal::Decimal::ZERO;
        if amount.value() > *per_payment.unwrap_or(&zero) {
            return Err(EngineError::Refused(format!(
                "{label} cannot be reached, and {} is above the {} limit for a payment that cannot be verified now",
                amount.display(),
                Amount::from_stored(&per_payment.unwrap_or(&zero).to_string(), c)?.display()
            )));
        }
        let tz = self.inner.config.timezone()?;
        let cutoff = self.inner.config.cutoff()?;
        Ok(crate::journal::payments::UnverifiedCap {
            day: crate::business_day::business_day(now, tz, cutoff),
            limit: Amount::from_stored(&per_day.unwrap_or(&zero).to_string(), c)?,
        })
    }

    /// Cancels a payment the customer has not completed.
    pub async fn cancel(&self, key: &str, actor: &str) -> Result<Payment, EngineError> {
        let p = self.payment(key)?;
        match p.state {
            PaymentState::Created | PaymentState::AwaitingCustomer => {}
            PaymentState::Authorized => {
                return Err(EngineError::Refused(
                    "the customer already approved; Till is completing the payment and it cannot be cancelled now".into(),
                ))
            }
            s => {
                return Err(EngineError::Refused(format!(
                    "the payment is {s} and cannot be cancelled"
                )))
            }
        }
        // A code cannot be taken back from the customer's phone: look once
        // more before cancelling, so a payment made this second is not lost.
        if let Ok(provider) = self.inner.registry.get(p.provider) {
            if provider.capabilities().payable_after_cancel {
                let v = provider.query(&p).await;
                self.note_health(p.provider, &v);
                if let Ok(v @ crate::provider::Verdict::Paid { .. }) = v {
                    let settled = self.apply_verdict(&p.id, v, "checked before cancelling")?;
                    return Err(EngineError::Refused(format!(
                        "the customer has already paid; the payment is {}",
                        settled.state
                    )));
                }
            }
        }
        let out = self.with_journal(|j| {
            let out = j.transition(
                &p.id,
                PaymentState::Cancelled,
                &Change {
                    failure_reason: Some("Cancelled at the till".into()),
                    ..Change::default()
                },
                Some(&format!("cancelled by {actor}")),
                self.now(),
            )?;
            j.audit(actor, "payment.cancel", Some(&p.id), None, self.now())?;
            Ok(out)
        })?;
        self.emit(&out);
        Ok(out)
    }

    /// Refunds all (`amount` = None) or part of a paid payment.
    pub async fn refund(
        &self,
        key: &str,
        amount: Option<Amount>,
        reason: Option<&str>,
        actor: &str,
    ) -> Result<(Payment, Refund), EngineError> {
        let p = self.payment(key)?;
        let provider = self.inner.registry.get(p.provider)?.clone();
        // Said before anything is written: what the provider cannot do.
        let caps = provider.capabilities();
        if !caps.refunds {
            return Err(ProviderError::Unsupported {
                provider: p.provider,
                message: provider.refund_elsewhere().into(),
            }
            .into());
        }
        let amount = amount.unwrap_or_else(|| p.refundable());
        if !caps.partial_refunds && amount != p.refundable() {
            return Err(ProviderError::Unsupported {
                provider: p.provider,
                message: format!("{} refunds only the whole payment", provider.label()),
            }
            .into());
        }
        let refund_id = ulid::Ulid::new().to_string();
        let (p, r) = self.with_journal(|j| {
            let out = j.begin_refund(&p.id, &refund_id, amount, reason, actor, self.now())?;
            j.audit(
                actor,
                "payment.refund",
                Some(&p.id),
                Some(&format!(
                    "{} ({})",
                    amount,
                    reason.unwrap_or("no reason given")
                )),
                self.now(),
            )?;
            Ok(out)
        })?;
        self.emit(&p);
        self.send_refund(&p, &r).await
    }

    /// Books a refund a manager made outside Till, for a wallet with no
    /// refund API (`Capabilities::refunds` false: the wallet's merchant
    /// portal, a bank transfer): with its `reference` there, audited,
    /// synced like any refund. Nothing is sent to the provider.
    pub fn record_refund(
        &self,
        key: &str,
        amount: Option<Amount>,
        reference: &str,
        reason: Option<&str>,
        actor: &str,
    ) -> Result<(Payment, Refund), EngineError> {
        let reference = reference.trim();
        if reference.is_empty() || reference.chars().count() > 64 {
            return Err(EngineError::Refused(
                "give the refund's reference where it was made (1 to 64 characters)".into(),
            ));
        }
        let p = self.payment(key)?;
        if self.capabilities_of(p.provider).is_some_and(|c| c.refunds) {
            return Err(EngineError::Refused(format!(
                "{} refunds through Till; refund the payment instead of recording one",
                self.label_of(p.provider)
            )));
        }
        let amount = amount.unwrap_or_else(|| p.refundable());
        let refund_id = ulid::Ulid::new().to_string();
        let provider_ref = format!("elsewhere:{reference}");
        let now = self.now();
        let (p, r) = self.with_journal(|j| {
            let out = j.record_refund_made_elsewhere(
                &p.id,
                &refund_id,
                amount,
                reason,
                actor,
                &provider_ref,
                now,
            )?;
            j.audit(
                actor,
                "payment.refund_recorded",
                Some(&p.id),
                Some(&format!(
                    "{} made outside Till, reference {reference} ({})",
                    amount,
                    reason.unwrap_or("no reason given")
                )),
                now,
            )?;
            Ok(out)
        })?;
        self.emit(&p);
        Ok((p, r))
    }

    /// The payment for an id, invoice, paymentID, MD5 or trxID.
    pub fn payment(&self, key: &str) -> Result<Payment, EngineError> {
        self.with_journal(|j| j.find(key))?
            .ok_or_else(|| EngineError::NotFound(key.to_owned()))
    }

    pub fn events_of(&self, id: &str) -> Result<Vec<crate::payment::PaymentEvent>, EngineError> {
        Ok(self.with_journal(|j| j.events(id))?)
    }

    pub fn refunds_of(&self, id: &str) -> Result<Vec<Refund>, EngineError> {
        Ok(self.with_journal(|j| j.refunds_of(id))?)
    }

    pub fn list(&self, filter: &ListFilter) -> Result<Vec<Payment>, EngineError> {
        Ok(self.with_journal(|j| j.list(filter))?)
    }

    /// Asks the provider about an open payment now (the cashier's "check again").
    pub async fn refresh(&self, key: &str) -> Result<Payment, EngineError> {
        let p = self.payment(key)?;
        if !p.state.is_open() {
            return Ok(p);
        }
        self.resolve_payment(&p).await?;
        self.payment(&p.id)
    }

    /// Waits until the payment is in a state that is not open, or `timeout` passes.
    pub async fn wait_final(&self, id: &str, timeout: Duration) -> Result<Payment, EngineError> {
        let mut rx = self.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let p = self.payment(id)?;
            if !p.state.is_open() {
                return Ok(p);
            }
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Err(_) => return self.payment(id),
                Ok(Err(broadcast::error::RecvError::Closed)) => return self.payment(id),
                Ok(_) => {}
            }
        }
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
