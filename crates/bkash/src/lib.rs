//! `till-bkash`: the bKash Tokenized Checkout adapter's own place — wire
//! types, status and error-code mapping, the token cache and an HTTP client.
//! The flow logic (journal, when to execute, how to settle) lives in the core;
//! this crate only says what bKash answered, and when it did not answer,
//! whether the call may have been acted on.
//!
//! Like a Hyperswitch connector: the default status is pending/unknown; only
//! an explicit provider answer means success or failure.
//!
//! # Layout
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`wire`] | serde shapes of requests and responses, exactly as bKash names them; amount text |
//! | [`codes`] | the error-code table of spec §15 as data, with a cashier-readable sentence per code |
//! | [`status`] | mapping of `transactionStatus` to [`BkashStatus`] (unknown → `Pending`) and of wire bodies to results |
//! | [`types`] | public request/result types ([`CreatePayment`], [`Created`], [`Executed`], [`PaymentStatus`], ...) |
//! | `token` | the token cache: grant, refresh before expiry, renew once on a refusal, sliding-hour budget |
//! | `client` | [`BkashClient`], [`BkashSettings`], [`BkashCredentials`]: the request engine and operations |
//! | [`callback`] | [`parse_callback`] / [`is_callback`] for the hosted page's browser redirect |
//! | [`error`] | [`BkashError`] and [`Resolution`] (what a failed execute/refund means) |
//!
//! # Retries and outcomes
//!
//! | call | retried | on no usable answer |
//! | --- | --- | --- |
//! | grant / refresh | yes (not on 429: bKash blocks for an hour) | `Auth` / `Unreachable` / `OutcomeUnknown` |
//! | create | no | `OutcomeUnknown` (create again with the same invoice) |
//! | execute | **never** | `OutcomeUnknown` → settle with `query_payment` |
//! | query / search / refund_status | yes, backoff + jitter, `Retry-After` | `Protocol`, `OutcomeUnknown`, `RateLimited`, `Unreachable` |
//! | refund (v2) | **never** | `OutcomeUnknown` → resolve with `refund_status` |
//!
//! Every HTTP exchange goes to the [`till_provider_http::CallObserver`] as a
//! `CallRecord` named `bkash.grant`, `bkash.refresh`, `bkash.create`,
//! `bkash.execute`, `bkash.status`, `bkash.search`, `bkash.refund_v2`,
//! `bkash.refund_status_v2`, with bodies redacted; no credential or token
//! ever appears in a record, a log line or an error.
//!
//! # TLS
//!
//! `reqwest` is built without default features (like the rest of the
//! workspace), i.e. without TLS: fine for the loopback sandbox; talking to
//! `https://tokenized.pay.bka.sh` needs a TLS feature of reqwest (e.g.
//! `rustls`) enabled somewhere in the final binary's dependency graph.

pub mod callback;
mod client;
pub mod codes;
pub mod error;
pub mod status;
mod token;
pub mod types;
pub mod wire;

pub use callback::{is_callback, parse_callback, Callback, CallbackError, CallbackStatus};
pub use client::{BkashClient, BkashCredentials, BkashSettings};
pub use error::{BkashError, Resolution};
pub use status::{BkashStatus, RefundStatus};
pub use till_provider_http::RetryPolicy;
pub use types::*;
