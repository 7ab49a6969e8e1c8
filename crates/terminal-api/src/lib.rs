//! `till-terminal-api`: the local terminal API through which the shop's own
//! POS (its point-of-sale software) starts charges on this till — the
//! server-driven integration of Stripe Terminal or Adyen's local Terminal
//! API, over HTTP (plain on loopback, TLS on the shop's network).
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`server`] | [`start`], [`ApiHandle`], the router and its OpenAPI document ([`openapi`]) from the same handlers |
//! | [`auth`] | the POS's bearer key on every request; refused keys audited (throttled) |
//! | [`charges`] | `POST /v1/charges` (idempotent on the POS's reference), `GET /v1/charges/{id}`, `…/cancel`, `…/refund-requests`, `GET /v1/wallets` |
//! | [`events`] | `GET /v1/events`: server-sent events from the journal's history, resumable (`Last-Event-ID`) |
//! | [`body`] | request bodies read field by field; amounts from their text |
//! | [`views`] | what the POS reads (charge, refund request, event) and the schemas of core's types |
//! | [`error`] | one error shape: a `till_core::reason::Reason` (code + params) and an English `message` |
//! | [`callbacks`] | page wallets' callback URLs served without a window (`till api serve`, `till charge`) |
//!
//! # Invariants
//!
//! - Depends on `till-core`, never on Tauri: the desktop shell starts it when
//!   `[api] enabled`, `till api serve` runs it headless; both over one `Engine`.
//! - Names no wallet: every step is the engine's, and what a wallet does
//!   follows from its declared capabilities.
//! - A POS sees and touches only its own charges (another's is `not_found`).
//! - The same reference never makes a second payment: the journal's unique
//!   (POS, reference) index stands behind the engine's check.
//! - The API never refunds: it files a request that a manager decides on the
//!   till (CLI or the manager's window), with the PIN.
//! - Money is read from JSON text, never through a float.

pub mod auth;
pub mod body;
pub mod callbacks;
pub mod charges;
pub mod error;
pub mod events;
pub mod server;
pub mod views;

pub use error::ApiError;
pub use server::{openapi, start, ApiHandle, ApiOptions, Busy};
