//! Lending the bKash token: a terminal that holds no bKash credentials asks
//! the shop's hub for the merchant's current token with
//! `POST /v1/terminals/{terminal_id}/bkash/token`, signed exactly like its
//! webhook deliveries (Standard Webhooks headers over the body below, a fresh
//! `webhook-id` per request). bKash allows a merchant account two token calls
//! an hour; one holder of the credentials for every till keeps the shop
//! within them. See docs/webhooks.md, "Lending the bKash token".

use serde::{Deserialize, Serialize};
use std::fmt;

/// `schema` of a [`LendRequest`].
pub const LEND_SCHEMA: &str = "till.bkash-token/1";

/// The path a terminal posts its [`LendRequest`] to.
pub fn lend_path(terminal_id: &str) -> String {
    format!("/v1/terminals/{terminal_id}/bkash/token")
}

/// A fresh `webhook-id` for one lend request (never reused: the hub refuses
/// an id it has seen).
pub fn lend_request_id() -> String {
    let bytes: [u8; 16] = rand::random();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("lend_{hex}")
}

/// The body of a lend request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LendRequest {
    /// Always [`LEND_SCHEMA`].
    pub schema: String,
    /// Must equal the path's terminal.
    pub terminal_id: String,
    /// The fingerprint (first 16 bytes of SHA-256, hex) of the token bKash
    /// just refused to this terminal, if that is why it asks; the token
    /// itself never travels back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

impl LendRequest {
    pub fn new(terminal_id: &str, refused: Option<String>) -> LendRequest {
        LendRequest {
            schema: LEND_SCHEMA.into(),
            terminal_id: terminal_id.into(),
            refused,
        }
    }
}

/// The 200 answer: the token and the app key that goes with it on every
/// business call (`X-APP-Key`). `Debug` shows neither.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LentTokenAnswer {
    pub id_token: String,
    pub app_key: String,
    /// How long from now the terminal may use it (relative, so the two
    /// clocks need not agree); then it asks again.
    pub use_for_ms: u64,
}

impl fmt::Debug for LentTokenAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LentTokenAnswer")
            .field("id_token", &"***")
            .field("app_key", &"***")
            .field("use_for_ms", &self.use_for_ms)
            .finish()
    }
}

/// Why a correctly signed lend request got no token (a request that is not
/// correctly signed gets the ingest endpoints' 401 [`crate::ErrorBody`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LendErrorCode {
    /// 404: this hub holds no bKash credentials (`[bkash]` lending is off).
    NotLending,
    /// 400: the body is not a lend request (or names another terminal).
    BadRequest,
    /// 409: this `webhook-id` was used before (a replay).
    Replayed,
    /// 503: bKash refused the hub's credentials, or the hub's token-call
    /// budget is spent / bKash blocked the merchant; `retry_after_secs` says when.
    BkashAuth,
    /// 502: bKash did not answer the hub.
    BkashUnreachable,
    /// 502: anything else bKash did.
    BkashFailed,
}

/// A lend request's refusal (status as documented per [`LendErrorCode`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LendError {
    pub error: LendErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_shapes() {
        let r = LendRequest::new("till-01", None);
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"schema":"till.bkash-token/1","terminal_id":"till-01"}"#
        );
        let a = LentTokenAnswer {
            id_token: "tok-secret".into(),
            app_key: "key-secret".into(),
            use_for_ms: 5,
        };
        assert!(!format!("{a:?}").contains("secret"));
        let e: LendError =
            serde_json::from_str(r#"{"error":"bkash_auth","message":"m","retry_after_secs":60}"#)
                .unwrap();
        assert_eq!(e.error, LendErrorCode::BkashAuth);
        let id = lend_request_id();
        assert!(crate::valid_id(&id) && id.len() == 37, "{id}");
        assert_ne!(id, lend_request_id());
    }
}
