//! `till-bakong`: the Bakong Open API adapter's own place — wire types,
//! status mapping, the HTTP client and a pure poll scheduler. The terminal
//! core holds the payment flow and journal; it calls [`BakongClient`] from
//! its single per-terminal poller task, paced by [`PollSchedule`].
//!
//! Spec: `shared/spec/bakong-api.md`. Bakong has no webhooks: a KHQR payment
//! is learned by checking the MD5 of the exact string shown.
//!
//! The rule: **a code is pending unless Bakong explicitly says paid or
//! failed.** [`CheckOutcome::Paid`] means Bakong reports a payment for the
//! MD5; the core still compares account, currency and the exact amount
//! ([`Transaction::amount`] is read from the JSON number's text, never a
//! float) before settling. Errors ([`BakongError`]) never change a payment.
//!
//! # Layout
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`wire`] | JSON shapes (envelope, transaction, bulk item), exact number reading |
//! | [`status`] | answers → [`CheckOutcome`] / [`Transaction`]; the `errorCode` table as data |
//! | [`client`] | [`BakongClient`]: checks (single, bulk), token renewal, what an answer means; retries and call records are [`till_provider_http::Transport`]'s |
//! | [`schedule`] | [`PollSchedule`]: which MD5s to check in a tick and when the next tick is (pure) |
//! | [`error`] | [`BakongError`] |
//!
//! # For the terminal core
//!
//! - **Outcomes.** [`CheckOutcome::Paid`]: settle only if `to_account_id`,
//!   `currency` (`"USD"`/`"KHR"`) and `amount` (exact decimal) match the QR;
//!   otherwise flag a discrepancy. [`CheckOutcome::NotFound`]: keep pending.
//!   [`CheckOutcome::Failed`] (errorCode 3 only): final failure of that QR.
//!   A code is expired only after an *answered* check at or after its expiry
//!   ([`Plan::finished`] after the grace period, or the core's own rule).
//! - **Errors never change a payment.** [`BakongError::is_transient`]: try
//!   again later (the client already retried). [`BakongError::needs_attention`]:
//!   token expired / renewal refused / 403 (non-Cambodian IP) / bad
//!   settings — tell the manager, keep payments pending.
//! - **Bulk.** At most [`BULK_LIMIT`] (50) MD5s per request; the client
//!   splits, so a tick of 60 codes costs 2 requests. A single MD5 uses the
//!   single endpoint. A bulk endpoint answering 403/404 makes the client
//!   fall back to single calls for good ([`BakongClient::bulk_unavailable`]).
//! - **Token.** One client per terminal. On HTTP 401 / errorCode 6 the client
//!   renews once through `renew_token` (needs `renew_email`) and replays the
//!   check. It cannot persist the new token: compare
//!   [`BakongClient::token_generation`] before and after calls (or after
//!   every tick) and store [`BakongClient::token`] in the keyring when it
//!   grew. Never log the token; call records never contain it.
//! - **Polling.** One task, [`PollSchedule::plan`] with a [`PollState`]:
//!   `on_tick` when sending, `on_answered` on any answer, `on_error` on an
//!   error (it holds further ticks, honouring `Retry-After`), `forget` when
//!   a code becomes final.
//!
//! # Use
//!
//! ```no_run
//! # async fn demo() -> Result<(), till_bakong::BakongError> {
//! use std::sync::Arc;
//! use till_bakong::{BakongClient, BakongSettings, CheckOutcome};
//! let settings = BakongSettings {
//!     renew_email: Some("dev@till.test".into()),
//!     ..BakongSettings::new("https://api-bakong.nbc.gov.kh".parse().unwrap())
//! };
//! let client = BakongClient::new(settings, "eyJ…".into(), Arc::new(till_provider_http::NoCallLog))?;
//! match client.check_by_md5("ea2e8c431b371e9686035a29e332db25").await? {
//!     CheckOutcome::Paid(txn) => println!("paid {} {}", txn.amount, txn.currency),
//!     CheckOutcome::NotFound => println!("not yet"),
//!     CheckOutcome::Failed { message, .. } => println!("failed: {message}"),
//! }
//! # Ok(()) }
//! ```
//!
//! # Invariants
//!
//! - Does not depend on `till-core` or `khqr`: it checks MD5s and hashes it is
//!   given; making the code is `khqr`'s, deciding a payment the core's.
//! - Bulk checks never exceed [`BULK_LIMIT`] MD5s per request.

pub mod client;
pub mod error;
pub mod schedule;
pub mod status;
pub mod wire;

pub use client::{BakongClient, BakongSettings, BULK_LIMIT};
pub use error::BakongError;
pub use schedule::{Ms, Pending, Plan, PollSchedule, PollState};
pub use status::{BulkOutcome, CheckOutcome, ErrorClass, ErrorCode, Transaction, ERROR_CODES};
