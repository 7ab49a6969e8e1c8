//! The Bakong Open API simulator (spec: `bakong-api.md`).
//!
//! - [`wire`]: the response envelope, transaction object, error table
//! - [`flow`]: tokens, the bank app's payment of a KHQR, lookups
//! - [`http`]: the `/v1/` routes and `POST /sim/bakong/pay`
//! - [`page`]: the "bank app" page (paste or upload a KHQR)

pub mod flow;
pub mod http;
pub mod page;
pub mod wire;
