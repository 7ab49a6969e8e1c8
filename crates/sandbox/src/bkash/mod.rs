//! The bKash Tokenized Checkout simulator (spec: `bkash-tokenized.md`).
//!
//! - [`wire`]: request/response bodies and timestamp formats, no logic
//! - [`codes`]: status codes and published messages
//! - [`flow`]: tokens, payment/agreement state machines, refunds, search
//! - [`http`]: routes at the real paths, API Gateway behaviour
//! - [`page`]: the hosted checkout page behind `bkashURL`
//! - [`ipn`]: SNS-shaped signed notifications

pub mod codes;
pub mod flow;
pub mod http;
pub mod ipn;
pub mod page;
pub mod wire;
