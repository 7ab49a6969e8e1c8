//! The Nagad merchant payment gateway simulator (API `v-0.2.0`; spec as
//! sourced: `tests/data/nagad/README.md`).
//!
//! - [`wire`]: answer bodies, sealed plaintexts, the error body, time formats
//! - [`crypto`]: Nagad's keys: opening requests, checking the merchant's
//!   signatures, sealing and signing answers
//! - [`codes`]: refusal reasons and status codes (mostly our own, \[I\])
//! - [`flow`]: the payment state machine, every check of a sealed request,
//!   page outcomes, refunds
//! - [`http`]: the API routes under the prefix and `POST /sim/nagad/checkout/{ref}`
//! - [`page`]: the customer's page behind `callBackUrl`

pub mod codes;
pub mod crypto;
pub mod flow;
pub mod http;
pub mod page;
pub mod wire;
