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
//! | `token` | the token cache: grant, refresh before expiry, renew once on a refusal, sliding-hour budget; lent tokens ([`TokenLender`], [`BkashClient::with_token_lender`], [`BkashClient::lend_token`]) |
//! | `client` | [`BkashClient`], [`BkashSettings`], [`BkashCredentials`]: what bKash's envelopes mean, its auth (raw `id_token` + `X-APP-Key`, renewed once under the token cache), the operations; the request loop is [`till_provider_http::Transport`]'s |
//! | [`callback`] | [`parse_callback`] / [`is_callback`] for the hosted page's browser redirect |
//! | [`error`] | [`BkashError`] and [`Resolution`] (what a failed execute/refund means) |
//! | [`ipn`] | the IPN: SNS envelope, its canonical text and signature check (RSA, SHA-1/SHA-256, the key from a PEM certificate), the inner payment notice; no I/O (fetching the certificate, and from where, is the receiver's) |
//!
//! # Retries and outcomes
//!
//! An attempt that provably never left (connection refused, DNS, TLS) is
//! sent again whatever the call; the table is about attempts that may have
//! reached bKash.
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
//! # For the core
//!
//! - **Callback**: give bKash a callback URL we own (e.g.
//!   `http://127.0.0.1:<port>/bkash/callback?terminal=T1`). In the webview's
//!   navigation hook, [`is_callback`] (same scheme/host/port/path) says "this
//!   is ours, stop the navigation", then [`parse_callback`] checks our own
//!   query parameters came back unchanged and reads `paymentID`/`status`/
//!   `signature`. `Success` = call execute; `Failure`/`Cancel` = don't. A
//!   [`CallbackError`] is not a hint at all: ask `query_payment`.
//! - **Settled** only on `execute_payment` → `Ok(Executed)` with
//!   [`BkashStatus::Completed`], or `query_payment` → [`PaymentStatus::is_completed`];
//!   in both cases compare amount and currency with what was asked.
//! - **Execute failed for sure** ([`Resolution::Failed`]): a business code
//!   other than the transient (`2003`, `2020`, `2024`, `503`, `9999`) and
//!   already-done ones (`2062`, `2068`, `2116`, `2117`, `2119`), e.g. `2056`
//!   (customer did not finish / expired), `2002`, `2023`; or `Rejected` /
//!   `Invalid` (nothing was processed).
//! - **Execute outcome unknown** ([`Resolution::AskStatus`]): `OutcomeUnknown`,
//!   `RateLimited`, `Protocol`, transient and already-done codes. Settle with
//!   `query_payment`; never execute again unless status shows the payment is
//!   still `Initiated` and verified.
//! - **Not sent** ([`Resolution::RetryLater`]): `Unreachable`, `Auth` (incl.
//!   the local token budget). Safe to try later.
//! - Refunds: the same with `refund_status` in place of `query_payment`.
//! - Status words: only `Completed` is success; `Failed`/`Cancelled`/
//!   `Declined`/`Expired` are failures; everything else (incl. unknown words)
//!   is [`BkashStatus::Pending`]. A failed or cancelled hosted page may leave
//!   the payment `Initiated` (spec §21): use the callback and the 24 h expiry.
//!
//! # TLS
//!
//! `reqwest` is built without default features (like the rest of the
//! workspace), i.e. without TLS: fine for the loopback sandbox; talking to
//! `https://tokenized.pay.bka.sh` needs a TLS feature of reqwest (e.g.
//! `rustls`) enabled somewhere in the final binary's dependency graph.
//!
//! # Invariants
//!
//! - Does not depend on `till-core` and keeps no state but the token: what a
//!   payment is, and what to do with an answer, is the core's.
//! - Never says a payment succeeded: it returns bKash's words typed
//!   ([`BkashStatus`] and the raw status kept beside), and the core's status
//!   mapping decides; anything unknown reads as pending.
//! - Execute and refund are never retried by the transport (see the table
//!   above): an unknown outcome is an error the caller resolves by status.
//! - Credentials and tokens never reach a call record or a log line.
//! - [`ipn`] does no I/O and trusts no URL: fetching the signing certificate,
//!   and from which hosts, is the receiver's (the hub's) rule.

pub mod callback;
mod client;
pub mod codes;
pub mod error;
pub mod ipn;
pub mod status;
mod token;
pub mod types;
pub mod wire;

pub use callback::{is_callback, parse_callback, Callback, CallbackError, CallbackStatus};
pub use client::{BkashClient, BkashCredentials, BkashSettings};
pub use error::{BkashError, Resolution};
pub use status::{BkashStatus, RefundStatus};
pub use till_provider_http::RetryPolicy;
pub use token::{
    token_fingerprint, GrantTest, LendFuture, LentToken, MemoryTokenStore, StoredToken,
    TokenLender, TokenRecord, TokenStore, TokenStoreError,
};
pub use types::*;
