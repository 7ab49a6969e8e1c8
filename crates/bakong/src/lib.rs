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
//! | [`client`] | [`BakongClient`]: checks (single, bulk), token renewal, retries, call records |
//! | [`schedule`] | [`PollSchedule`]: which MD5s to check in a tick and when the next tick is (pure) |
//! | [`error`] | [`BakongError`] |
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

pub mod client;
pub mod error;
pub mod schedule;
pub mod status;
pub mod wire;

pub use client::{BakongClient, BakongSettings, BULK_LIMIT};
pub use error::BakongError;
pub use schedule::{Ms, Pending, Plan, PollSchedule, PollState};
pub use status::{CheckOutcome, ErrorClass, ErrorCode, Transaction, ERROR_CODES};
