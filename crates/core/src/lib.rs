//! `till-core`: the terminal engine. It knows nothing of Tauri; the desktop
//! shell, the command line and the tests all drive it through [`Engine`].
//!
//! # Layout
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`money`] | exact amounts with their currency's exponent, parsing and display |
//! | [`state`] | the payment state machine (the transition table) |
//! | [`payment`] | `Payment`, `Refund`, `PaymentEvent`, `ProviderKind` |
//! | [`journal`] | SQLite journal: payments + events + refunds, outbox, audit and call logs, deferred calls; migrations |
//! | [`provider`] | the `Provider` trait, the registry, and the bKash / Bakong / demo glue |
//! | [`engine`] | charge, cancel, refund, status, list, events; poller, sweeper, deferred worker |
//! | [`config`] | `till.toml` over built-in defaults, `TILL__*` overrides, validation naming the key |
//! | [`report`] | business-day summary, three-way reconciliation, day close (Z-report), CSV and PDF |
//! | [`connect`] | the manager's Test connection: transport probe + one harmless call per provider and the hub |
//! | [`sync`] | delivery of the outbox to the hub: signed webhooks, batches, backoff, dead letters |
//! | [`logfile`] | `till.log`, rotated by size, old files bounded (`[storage]`) |
//! | [`home_lock`] | one process at a time does a data directory's background work (`till.lock`) |
//! | [`secrets`] | the secret-store trait, the OS keyring, environment overlay |
//! | [`business_day`] | which business day an instant belongs to |
//! | [`clock`] | the engine's clock (tests move it) |
//!
//! # Invariants
//!
//! - A payment is settled only on the provider's explicit answer with our
//!   exact amount and currency.
//! - Every state change is one SQLite transaction (payment row + event +
//!   outbox record for settlements and refunds).
//! - The idempotency key (invoice) is written before any network call;
//!   execute and refunds are sent at most once; unknown outcomes are
//!   resolved by asking.
//! - No secret reaches the journal, a config file or a log line.
//! - Only the process holding `<home>/till.lock` runs pollers, sweeper and recovery.

pub mod business_day;
pub mod clock;
pub mod config;
pub mod connect;
pub mod engine;
pub mod home_lock;
pub mod journal;
pub mod logfile;
pub mod money;
pub mod payment;
pub mod provider;
pub mod reason;
pub mod report;
pub mod secrets;
pub mod state;
pub mod sync;

pub use clock::Clock;
pub use config::Config;
pub use engine::{Charge, Engine, EngineError, EngineEvent, EngineOptions};
pub use journal::payments::ListFilter;
pub use money::{Amount, Currency};
pub use payment::{Payment, ProviderKind, Refund};
pub use provider::CustomerStep;
pub use state::PaymentState;
pub use sync::SyncState;
