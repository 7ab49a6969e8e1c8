//! `bkash.token_from = "hub"`: the terminal holds no bKash credential and
//! borrows the merchant's token from the shop's hub
//! (`POST {hub.url}/v1/terminals/{terminal}/bkash/token`), signed exactly like
//! its webhook deliveries: the keys of `hub.secret` / `hub.signing_key`, a
//! fresh `webhook-id` per request (docs/webhooks.md, "Lending the bKash
//! token"). The hub makes every token call of the account, so all tills of
//! a shop together stay within bKash's two an hour.
//!
//! Every failure here means the business call never left: it is
//! [`BkashError::Unreachable`] (the hub, or bKash behind it, did not answer:
//! try later) or [`BkashError::Auth`] (the hub refused: keys, registration,
//! lending off, the hub's token budget spent).

use std::time::{Duration, SystemTime};
use till_bkash::{token_fingerprint, BkashError, LendFuture, LentToken, TokenLender};
use till_sync_proto::{ErrorBody, LendError, LendErrorCode, LendRequest, LentTokenAnswer, Signer};

/// The call's name in messages.
const ENDPOINT: &str = "hub.bkash_token";

pub struct HubLender {
    pub http: reqwest::Client,
    /// `{hub.url}/v1/terminals/{terminal}/bkash/token`
    pub url: String,
    pub terminal_id: String,
    pub signer: Signer,
}

impl HubLender {
    pub fn new(http: reqwest::Client, hub: &url::Url, terminal_id: &str, signer: Signer) -> Self {
        HubLender {
            http,
            url: format!(
                "{}{}",
                hub.as_str().trim_end_matches('/'),
                till_sync_proto::lend_path(terminal_id)
            ),
            terminal_id: terminal_id.to_owned(),
            signer,
        }
    }

    async fn ask(&self, refused: Option<&str>) -> Result<LentToken, BkashError> {
        let unreachable = |message: String| BkashError::Unreachable {
            endpoint: ENDPOINT.into(),
            message,
        };
        let request = LendRequest::new(&self.terminal_id, refused.map(token_fingerprint));
        let body = serde_json::to_vec(&request).map_err(|e| unreachable(e.to_string()))?;
        let id = till_sync_proto::lend_request_id();
        // The hub checks the timestamp against its wall clock.
        let headers = self
            .signer
            .headers(&id, chrono::Utc::now().timestamp(), &body);
        let mut req = self
            .http
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        for (name, value) in headers.pairs() {
            req = req.header(name, value);
        }
        let resp = req.send().await.map_err(|e| {
            unreachable(till_provider_http::TransportError::from_reqwest(ENDPOINT, &e).message)
        })?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.map_err(|e| {
            unreachable(till_provider_http::TransportError::from_reqwest(ENDPOINT, &e).message)
        })?;
        if (200..300).contains(&status) {
            let a: LentTokenAnswer = serde_json::from_slice(&bytes)
                .map_err(|_| unreachable(format!("HTTP {status}: not a lent token")))?;
            if a.id_token.trim().is_empty() || a.app_key.trim().is_empty() {
                return Err(unreachable(format!("HTTP {status}: an empty lent token")));
            }
            return Ok(LentToken {
                id_token: a.id_token,
                app_key: a.app_key,
                use_until: SystemTime::now() + Duration::from_millis(a.use_for_ms),
            });
        }
        Err(refusal(status, &bytes))
    }
}

/// What a hub's refusal means for the payment: try later, or fix a setting.
fn refusal(status: u16, body: &[u8]) -> BkashError {
    let auth = |message: String| BkashError::Auth { message };
    if let Ok(e) = serde_json::from_slice::<LendError>(body) {
        let message = format!("{ENDPOINT}: HTTP {status} {:?}: {}", e.error, e.message);
        return match e.error {
            LendErrorCode::BkashUnreachable | LendErrorCode::BkashFailed => {
                BkashError::Unreachable {
                    endpoint: ENDPOINT.into(),
                    message,
                }
            }
            LendErrorCode::NotLending
            | LendErrorCode::BadRequest
            | LendErrorCode::Replayed
            | LendErrorCode::BkashAuth => auth(message),
        };
    }
    if let Ok(e) = serde_json::from_slice::<ErrorBody>(body) {
        let message = format!("{ENDPOINT}: HTTP {status} {:?}: {}", e.error, e.message);
        return match status {
            500..=599 => BkashError::Unreachable {
                endpoint: ENDPOINT.into(),
                message,
            },
            _ => auth(message),
        };
    }
    let message = format!("{ENDPOINT}: HTTP {status}");
    match status {
        500..=599 | 429 => BkashError::Unreachable {
            endpoint: ENDPOINT.into(),
            message,
        },
        _ => auth(message),
    }
}

impl TokenLender for HubLender {
    fn lend<'a>(&'a self, refused: Option<&'a str>) -> LendFuture<'a> {
        Box::pin(self.ask(refused))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_say_try_later_or_fix_a_setting() {
        let lend = |code: &str| format!(r#"{{"error":"{code}","message":"m"}}"#).into_bytes();
        assert!(matches!(
            refusal(502, &lend("bkash_unreachable")),
            BkashError::Unreachable { .. }
        ));
        assert!(matches!(
            refusal(503, &lend("bkash_auth")),
            BkashError::Auth { .. }
        ));
        assert!(matches!(
            refusal(404, &lend("not_lending")),
            BkashError::Auth { .. }
        ));
        assert!(matches!(
            refusal(401, &lend("bad_signature")),
            BkashError::Auth { .. }
        ));
        assert!(matches!(
            refusal(503, &lend("internal")),
            BkashError::Unreachable { .. }
        ));
        assert!(matches!(
            refusal(504, b"gateway"),
            BkashError::Unreachable { .. }
        ));
    }
}
