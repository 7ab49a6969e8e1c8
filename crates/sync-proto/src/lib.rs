//! The wire format of Till's settlement sync, shared by the terminal (which
//! sends) and `till-hub` (which receives). Pure: no I/O, no async.
//!
//! # Layout
//!
//! - [`event`]: the v1 event payload (`till.event/1`): [`Event`], [`Payment`],
//!   [`Refund`], constructors and [`Event::validate`]. The JSON Schema of the
//!   same shape is `schema/event-v1.json` (exported as [`EVENT_V1_SCHEMA`]).
//!   Version 2 (`till.event/2`) adds `payment.payee`; version 3
//!   (`till.event/3`, written now) names the references by what they are for
//!   ([`References`]: lookup, transaction, external) instead of by wallet.
//!   Versions 1 and 2 are still accepted, their references read into version
//!   3's. `schema/event-v2.json` and `schema/event-v3.json` are exported as
//!   [`EVENT_V2_SCHEMA`] and [`EVENT_V3_SCHEMA`].
//! - [`batch`]: the delivery envelope (`till.batch/2`, with the terminal's
//!   audit chain head; `till.batch/1` still accepted): [`Batch`], [`BatchItem`].
//! - [`chain`]: the chain head ([`ChainHead`]) and the hub's judgement of it
//!   ([`judge`], [`ChainAck`]).
//! - [`keys`]: signing and verifying keys in their Standard Webhooks text forms
//!   (`whsec_`, `whpk_`, `whsk_`) and the key generators.
//! - [`sign`]: [`Signer`] (keys → header values) and [`Verifier`] (headers,
//!   body, clock → accept or a typed [`VerifyError`]).
//! - [`response`]: what the hub answers: [`IngestResponse`], [`ErrorBody`].
//! - [`lend`]: a terminal borrowing the hub's bKash token ([`LendRequest`],
//!   [`LentTokenAnswer`], [`LendError`]), signed like a webhook.
//! - [`read`]: the read API the terminal reads (bearer token):
//!   `GET /v1/settlements` ([`SettlementParams`] → [`SettlementsPage`] of
//!   [`StoredEvent`]s) and `GET /v1/totals` ([`TotalsParams`] → [`Totals`] of
//!   [`TotalsRow`]s), the hub's routes' own types.
//!
//! The prose description of all of this lives in `docs/webhooks.md`.
//!
//! # Invariants
//!
//! - Pure: no I/O, no async, no clock but the one passed to [`Verifier`].
//! - One definition per wire shape: the terminal and the hub both use these
//!   types, and the JSON Schemas in `schema/` are tested against them.
//! - Names nothing of a provider's wire: a payment's references are by
//!   purpose ([`References`]).

pub mod batch;
pub mod chain;
pub mod event;
pub mod keys;
pub mod lend;
pub mod read;
pub mod response;
pub mod sign;

pub use batch::{
    batch_id, chain_batch_id, Batch, BatchItem, BATCH_SCHEMA, BATCH_SCHEMAS, BATCH_SCHEMA_V1,
};
pub use chain::{judge, ChainAck, ChainHead, ChainPoint, ChainStatus};
pub use event::{
    new_event_id, valid_id, Event, EventType, Payment, References, Refund, SchemaError,
    EVENT_SCHEMA, EVENT_SCHEMAS, EVENT_SCHEMA_V1, EVENT_SCHEMA_V2,
};
pub use keys::{
    generate_ed25519_keypair, generate_hmac_secret, Ed25519Keypair, KeyError, SigningKey,
    VerifyingKey,
};
pub use lend::{
    lend_path, lend_request_id, LendError, LendErrorCode, LendRequest, LentTokenAnswer, LEND_SCHEMA,
};
pub use read::{SettlementParams, SettlementsPage, StoredEvent, Totals, TotalsParams, TotalsRow};
pub use response::{
    ErrorBody, ErrorCode, IngestResponse, IngestResult, IngestStatus, SenderAction,
};
pub use sign::{
    SignedHeaders, Signer, Verified, Verifier, VerifyError, WebhookHeaders, DEFAULT_TOLERANCE_SECS,
    HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP,
};

/// The JSON Schema (draft 2020-12) of a `till.event/1` payload.
pub const EVENT_V1_SCHEMA: &str = include_str!("../schema/event-v1.json");

/// The JSON Schema (draft 2020-12) of a `till.event/2` payload (v1 plus
/// `payment.payee`).
pub const EVENT_V2_SCHEMA: &str = include_str!("../schema/event-v2.json");

/// The JSON Schema (draft 2020-12) of a `till.event/3` payload (v2 with the
/// references named by what they are for).
pub const EVENT_V3_SCHEMA: &str = include_str!("../schema/event-v3.json");
