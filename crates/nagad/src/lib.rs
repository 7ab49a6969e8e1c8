//! `till-nagad`: the Nagad merchant payment gateway adapter's own place
//! (API `v-0.2.0`, BDT) — wire types, RSA sealing and signatures, status
//! mapping, callback parsing and an HTTP client. The flow (journal, when to
//! verify, how to settle) lives in the core; this crate only says what Nagad
//! answered and, when it did not, whether the call may have been acted on.
//!
//! The spec as sourced, with a confidence tag on every statement, is
//! `tests/data/nagad/README.md`.
//!
//! # Layout
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`wire`] | serde shapes of requests, answers and sealed plaintexts, exactly as Nagad names them; header names; amount and Dhaka-time text |
//! | [`crypto`] | [`MerchantPrivateKey`] / [`NagadPublicKey`] from PEM (PKCS#8, PKCS#1, bare base64): RSA PKCS#1 v1.5 sealing, SHA256withRSA signatures |
//! | [`status`] | verify answer → [`PaymentStatus`] with an [`Outcome`] (`Paid` / `Failed` / `Pending`, unknown → `Pending`); refund words |
//! | [`callback`] | [`parse_callback`] / [`is_callback`] for the page's browser redirect (a hint, never proof) |
//! | [`types`] | [`Started`], [`RefundRequest`], [`Refunded`], [`ConnectionTest`], [`mask_msisdn`] |
//! | `client` | [`NagadClient`], [`NagadSettings`], [`NagadCredentials`]: what each answer means (Nagad's refusals, what may have been acted on) and the operations, sealed and signed, on `till_provider_http::Transport`'s request loop (sends, retries, call records, redaction) |
//! | [`error`] | [`NagadError`], [`Endpoint`], [`Problem`], [`Invalid`], [`Resolution`] |
//!
//! # The flow
//!
//! 1. [`NagadClient::start`]`(order_id, amount, callback_url)`: initialize
//!    (`sensitiveData` = our `{merchantId, datetime, orderId, challenge}`
//!    sealed to Nagad's key, signed with ours; the answer, sealed to our key
//!    and signed by Nagad, gives `paymentReferenceId` and Nagad's challenge),
//!    then complete (`{merchantId, orderId, currencyCode "050", amount,
//!    challenge}` the same way) → [`Started`] with the page URL.
//! 2. The customer pays on the page; the browser is sent to the callback URL
//!    ([`parse_callback`]): only a hint to verify now.
//! 3. [`NagadClient::verify`]`(payment_ref_id)`: **the only proof**.
//!    [`Outcome::Paid`] requires `Success`, an exact amount and Nagad's
//!    transaction id; the core compares the amount with what it asked.
//!
//! # Retries and outcomes
//!
//! The loop is provider-http's: verify is its only idempotent endpoint.
//! Every call's attempt that provably never left (connection refused, DNS,
//! TLS) is tried again within [`NagadSettings::retry`], and is
//! `Unreachable` when the tries are spent.
//!
//! | call | retried once Nagad may have received it | on no usable answer |
//! | --- | --- | --- |
//! | initialize (in `start`) | no | `OutcomeUnknown` (no `payment_ref_id`: no page exists, nothing can be paid); an unreadable or unsigned answer is `Protocol` → [`Resolution::Failed`] |
//! | complete (in `start`) | no | `OutcomeUnknown` **with** the `payment_ref_id`: ask verify |
//! | verify | yes, backoff + jitter, `Retry-After` | `OutcomeUnknown`, `Protocol`, `RateLimited`, `Unreachable` |
//! | refund (optional, \[I\]) | **never** | `OutcomeUnknown` → look at verify's `cancel_issuer_ref_no` |
//!
//! Every attempt goes to the [`till_provider_http::CallObserver`] as a
//! `CallRecord` named `nagad.initialize`, `nagad.complete`, `nagad.verify`,
//! `nagad.refund`, with `sensitiveData`, `signature` and `challenge` values
//! replaced by `***` and customers' numbers masked (`017*****036`, the
//! transport's `masked_keys`). Keys never leave
//! [`crypto`]: both key types print `***`.
//!
//! # Refunds
//!
//! Nagad documents no refund call publicly. [`NagadClient::refund`] follows
//! the `purchase/cancel` call that several client libraries make; a merchant
//! without it makes refunds in the Nagad merchant portal.
//!
//! # Invariants
//!
//! - Does not depend on `till-core`; keys arrive as PEM text from the caller
//!   (the core reads them from the OS keyring) and are never written anywhere.
//! - Only `verify/payment` is proof of a payment; the callback's parameters
//!   are a hint ([`parse_callback`]) and never settle one.
//! - Every request is signed and its sensitive data encrypted here, once: no
//!   caller builds Nagad's envelope.

pub mod callback;
mod client;
pub mod crypto;
pub mod error;
pub mod status;
pub mod types;
pub mod wire;

pub use callback::{
    is_callback, is_payment_ref_id, parse_callback, Callback, CallbackError, CallbackStatus,
};
pub use client::{
    NagadClient, NagadCredentials, NagadSettings, NAGAD_SECRET_KEYS, ORDER_ID_MAX, PROVIDER,
};
pub use crypto::{CryptoError, KeyError, MerchantPrivateKey, NagadPublicKey};
pub use error::{Cause, Endpoint, Invalid, NagadError, Problem, Resolution};
pub use status::{Outcome, PaymentStatus, RefundStatus};
pub use till_provider_http::RetryPolicy;
pub use types::*;
