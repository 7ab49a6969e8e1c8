//! `till-hub`: the shop's central backend. Terminals POST signed settlement
//! events (Standard Webhooks, payloads from `till-sync-proto`); the hub checks
//! the signature against that terminal's keys, stores each event exactly once
//! (keyed on its webhook id), tracks each terminal's contiguous sequence and
//! gaps, and answers reconciliation queries behind a bearer token.
//!
//! Start one in-process with [`start`] (tests, the desktop app's demo mode) or
//! from the `till-hub` binary.
//!
//! # Layout
//!
//! - [`config`]: [`HubConfig`] (listen address, database URL, body limits,
//!   timestamp tolerance, read tokens) and its defaults.
//! - [`server`]: the router, [`start`] and [`HubHandle`] (bound URL, shutdown,
//!   store and admin access).
//! - [`ingest`]: `POST /v1/terminals/{id}/events` and `…/batch`: size limit,
//!   headers, terminal lookup, signature check (an unknown or disabled
//!   terminal looks like any other to a request not signed by it), parsing,
//!   storing.
//! - [`read`]: the read API (`/v1/settlements`, `/v1/totals`,
//!   `/v1/terminals[/{id}/gaps]`, `/v1/events/{id}`) and its bearer-token check;
//!   `/healthz`.
//! - [`days`]: per terminal and business day, whether a Z-report
//!   (`day.closed`) arrived and whether its totals match the held settlements
//!   (`/v1/terminals/{id}/days/{day}`, `/v1/days`, `till-hub days`).
//! - [`admin`]: terminal registration (ed25519 by default), key rotation and
//!   retirement, disabling, read tokens (add, list, revoke): what the CLI's
//!   `terminal …` and `token …` call.
//! - [`sealing`]: HMAC secrets at rest, sealed (XChaCha20-Poly1305) with the
//!   hub's [`SecretKey`], kept outside the database (a 0600 file `till-hub
//!   init` makes, or an environment variable).
//! - [`lend`]: `POST /v1/terminals/{id}/bkash/token`: the shop's bKash token
//!   lent to authenticated terminals ([`lend::LendConfig`], off by default).
//! - [`office`]: the office dashboard under `/office/` (users, sessions,
//!   CSRF, pages), over the same read functions as the read API.
//! - [`evidence`]: evidence from the providers themselves — bKash's IPN
//!   (`POST /v1/ipn/bkash`, SNS signatures, certificates only from allowed
//!   hosts), Bakong checks of the settled KHQR MD5s, and the day's findings
//!   set beside the terminals' settlements (`GET /v1/evidence?day=`,
//!   [`evidence::day_findings`], `till-hub evidence`).
//! - [`store`]: the [`Store`](store::Store) trait and its SQLite and
//!   PostgreSQL implementations, with their migrations in `migrations/`.
//! - [`error`]: the library error and the JSON error answers.
//! - [`tls`]: the server's own TLS ([`ServerTls`], `serve --tls-cert --tls-key`),
//!   `till-serve`'s (shared with the terminal's local API); PostgreSQL's client
//!   TLS (`sslmode`) is in `store/pg_tls.rs`.
//! - `main.rs`: the command line (definition and glue only).
//!
//! # Invariants
//!
//! - Does not depend on `till-core`: it knows terminals only through the wire
//!   (`till-sync-proto`), never their journals.
//! - Stores each event once, as received (its exact text), under the
//!   terminal's webhook id; a replay is answered, never stored twice.
//! - Never believes a body before its signature has matched, and never tells
//!   an unsigned caller which terminals exist.
//! - The office dashboard shows what the read API's own functions compute
//!   and changes nothing without its session's CSRF token ([`office`]).

pub mod admin;
pub mod config;
pub mod days;
pub mod error;
pub mod evidence;
pub mod ingest;
pub mod lend;
pub mod office;
pub mod read;
pub mod sealing;
pub mod server;
pub mod store;
/// The server's TLS, shared with Till's other servers (`till-serve`).
pub use till_serve::tls;

pub use admin::{AddedKey, Admin, AdminError, NewKey};
pub use config::HubConfig;
pub use error::Error;
pub use sealing::{SecretKey, SecretKeyError, SecretKeySource};
pub use server::{start, HubHandle};
pub use store::{open as open_store, open_with as open_store_with, Store};
pub use tls::ServerTls;
