//! The Bakong HTTP client: check by MD5 (single and bulk), token renewal.
//! The request loop is `till_provider_http::Transport`'s; this file is
//! Bakong's reading of an answer ([`interpret`]) and its token.
//!
//! - Checks are idempotent: transport failures, 5xx, 429 and unreadable
//!   answers are retried per [`BakongSettings::retry`] (backoff with full
//!   jitter, a longer `Retry-After` honoured). A `Retry-After` longer than the
//!   policy's `max_delay` is not slept through: the call returns
//!   [`BakongError::RateLimited`] at once so the poller can wait without
//!   holding the call.
//! - A refused token (HTTP 401 or errorCode 6) is renewed once through
//!   `renew_token` when [`BakongSettings::renew_email`] is set, then the call
//!   is replayed. Concurrent refusals renew once (a generation counter).
//! - Every HTTP attempt is reported to the observer as a [`CallRecord`] with
//!   redacted bodies. The token is sent only in the `Authorization` header,
//!   which is never recorded; any string holding it is masked as well.
//!
//! [`CallRecord`]: till_provider_http::CallRecord

use crate::error::BakongError;
use crate::status::{self, BulkOutcome, CheckOutcome};
use crate::wire::{self, path, Envelope};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use till_provider_http::{
    Auth, Delivery, Endpoint, NoAuth, Reply, Request, RetryPolicy, SharedObserver, Transport,
    TransportSettings, Verdict,
};

/// Item limit of the bulk endpoints (`bakong-api.md` §6, [V]).
pub const BULK_LIMIT: usize = 50;

/// Provider name in call records.
pub const PROVIDER: &str = "bakong";

/// Logical endpoint names used in [`CallRecord::endpoint`](till_provider_http::CallRecord::endpoint).
pub mod endpoint {
    pub const CHECK_BY_MD5: &str = "bakong.check_by_md5";
    pub const CHECK_BY_MD5_LIST: &str = "bakong.check_by_md5_list";
    pub const RENEW_TOKEN: &str = "bakong.renew_token";
}

/// Checks and renewal are all safe to repeat.
const CHECK: Endpoint = Endpoint::post(endpoint::CHECK_BY_MD5).idempotent();
const CHECK_LIST: Endpoint = Endpoint::post(endpoint::CHECK_BY_MD5_LIST).idempotent();
const RENEW: Endpoint = Endpoint::post(endpoint::RENEW_TOKEN)
    .idempotent()
    .secret_answers();

/// How to reach Bakong.
#[derive(Clone, Debug)]
pub struct BakongSettings {
    /// API root; paths `/v1/...` are appended (a path prefix is kept).
    /// Production `https://api-bakong.nbc.gov.kh`, SIT
    /// `https://sit-api-bakong.nbc.gov.kh`, or the sandbox's `bakong_base_url()`.
    pub base_url: url::Url,
    /// Per-request timeout (clients use 12–45 s; default 15 s).
    pub timeout: Duration,
    /// Retry budget of one call (checks and renewal; both are safe to repeat).
    pub retry: RetryPolicy,
    /// Item limit per bulk request; [`BULK_LIMIT`] (50) per the spec.
    pub bulk_limit: usize,
    /// Registered e-mail for `renew_token` (≤ 30 chars). `None`: an expired
    /// token surfaces as [`BakongError::TokenExpired`].
    pub renew_email: Option<String>,
    /// CA certificates trusted besides the OS store (`[tls] extra_roots`).
    pub extra_roots: till_provider_http::ExtraRoots,
}

impl BakongSettings {
    /// Defaults: 15 s timeout, 3 tries (200 ms … 5 s), bulk limit 50, no renewal.
    pub fn new(base_url: url::Url) -> Self {
        BakongSettings {
            base_url,
            timeout: Duration::from_secs(15),
            retry: RetryPolicy::default(),
            bulk_limit: BULK_LIMIT,
            renew_email: None,
            extra_roots: till_provider_http::ExtraRoots::none(),
        }
    }
}

/// Bakong Open API client. Cheap to clone (an `Arc` inside); one per
/// terminal, so the token and its renewal are shared.
#[derive(Clone)]
pub struct BakongClient {
    inner: Arc<Inner>,
}

struct Inner {
    settings: BakongSettings,
    http: Transport,
    /// The bearer token and its generation (bumped on every renewal).
    token: RwLock<Held>,
    renew_lock: tokio::sync::Mutex<()>,
    /// Set once the bulk endpoint answered 403/404 (spec §6): single calls from then on.
    bulk_unavailable: AtomicBool,
}

/// The token a call is made with, and its generation.
#[derive(Clone)]
struct Held {
    token: String,
    generation: u64,
}

impl fmt::Debug for BakongClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BakongClient")
            .field("base_url", &self.inner.settings.base_url.as_str())
            .field("token", &"***")
            .field("requests_made", &self.requests_made())
            .finish()
    }
}

impl BakongClient {
    /// A client holding `token`. Fails only on unusable settings.
    pub fn new(
        settings: BakongSettings,
        token: String,
        observer: SharedObserver,
    ) -> Result<Self, BakongError> {
        if !matches!(settings.base_url.scheme(), "http" | "https") {
            return Err(BakongError::Config {
                message: format!(
                    "base URL scheme {:?} is not http(s)",
                    settings.base_url.scheme()
                ),
            });
        }
        if settings.bulk_limit == 0 {
            return Err(BakongError::Config {
                message: "bulk_limit must be at least 1".into(),
            });
        }
        let http = Transport::new(
            TransportSettings {
                timeout: settings.timeout,
                retry: settings.retry,
                // A longer wait is the poller's, not the call's.
                max_retry_after: settings.retry.max_delay,
                extra_roots: settings.extra_roots.clone(),
                ..TransportSettings::new(PROVIDER)
            },
            observer,
        )
        .map_err(|e| BakongError::Config {
            message: e.to_string(),
        })?;
        http.learn_secret(&token);
        Ok(BakongClient {
            inner: Arc::new(Inner {
                settings,
                http,
                token: RwLock::new(Held {
                    token,
                    generation: 0,
                }),
                renew_lock: tokio::sync::Mutex::new(()),
                bulk_unavailable: AtomicBool::new(false),
            }),
        })
    }

    /// The settings the client was built with.
    pub fn settings(&self) -> &BakongSettings {
        &self.inner.settings
    }

    /// HTTP requests sent so far (every attempt, renewals included).
    pub fn requests_made(&self) -> u64 {
        self.inner.http.requests()
    }

    /// The current bearer token, e.g. to persist a renewed one in the
    /// keyring. Never log it.
    pub fn token(&self) -> String {
        self.inner.held().token
    }

    /// How many times the token has been replaced (renewals); the core can
    /// compare it before/after a call to know when to persist [`Self::token`].
    pub fn token_generation(&self) -> u64 {
        self.inner.held().generation
    }

    /// The held token's `exp` claim in epoch milliseconds, read from the JWT
    /// payload without verifying it (`bakong-api.md` §3: tokens live ~90
    /// days), so the core can warn the manager or renew ahead of time.
    /// `None` when the token is not a readable JWT.
    pub fn token_expires_at_ms(&self) -> Option<i64> {
        jwt_exp_ms(&self.token())
    }

    /// Whether the bulk endpoint has been found unavailable (403/404) and
    /// lists are being checked one MD5 per request.
    pub fn bulk_unavailable(&self) -> bool {
        self.inner.bulk_unavailable.load(Ordering::Relaxed)
    }

    /// `POST /v1/check_transaction_by_md5`: what Bakong says about one KHQR.
    pub async fn check_by_md5(&self, md5: &str) -> Result<CheckOutcome, BakongError> {
        let body = serde_json::to_value(wire::Md5Request { md5 }).expect("serialisable");
        self.inner
            .checked(CHECK, path::CHECK_BY_MD5, body, status::map_single)
            .await
    }

    /// `POST /v1/check_transaction_by_md5_list`, split into requests of at
    /// most `bulk_limit` MD5s. One result per input MD5, in input order; an
    /// MD5 missing from the answer is [`CheckOutcome::NotFound`]. A single
    /// MD5 (or a bulk endpoint that answered 403/404) uses the single call.
    /// Any failing request fails the whole call (checks are repeatable).
    pub async fn check_by_md5_list(
        &self,
        md5s: &[String],
    ) -> Result<Vec<(String, CheckOutcome)>, BakongError> {
        let mut unique: Vec<String> = Vec::with_capacity(md5s.len());
        for m in md5s {
            if !unique.contains(m) {
                unique.push(m.clone());
            }
        }
        let mut results: HashMap<String, CheckOutcome> = HashMap::with_capacity(unique.len());
        for chunk in unique.chunks(self.inner.settings.bulk_limit) {
            for (md5, outcome) in self.check_chunk(chunk).await? {
                results.insert(md5, outcome);
            }
        }
        Ok(md5s
            .iter()
            .map(|m| {
                let o = results.get(m).cloned().unwrap_or(CheckOutcome::NotFound);
                (m.clone(), o)
            })
            .collect())
    }

    async fn check_chunk(
        &self,
        chunk: &[String],
    ) -> Result<Vec<(String, CheckOutcome)>, BakongError> {
        if chunk.len() > 1 && !self.bulk_unavailable() {
            let body = Value::from(chunk.to_vec());
            let r = self
                .inner
                .checked(CHECK_LIST, path::CHECK_BY_MD5_LIST, body, |env| {
                    status::map_bulk(env, chunk)
                })
                .await;
            match r {
                Err(BakongError::Http { status, .. }) if status == 403 || status == 404 => {
                    tracing::warn!(
                        status,
                        "Bakong bulk check unavailable; checking one MD5 per request"
                    );
                }
                Err(e) => return Err(e),
                Ok(items) => {
                    let mut out = Vec::with_capacity(items.len());
                    for (md5, item) in items {
                        let outcome = match item {
                            BulkOutcome::Known(o) => o,
                            // "Paid" without the facts: the single call has them.
                            BulkOutcome::Recheck { .. } => match self.check_by_md5(&md5).await {
                                Ok(o) => o,
                                Err(e) => {
                                    // Pending, never unpaid: the next tick asks again.
                                    tracing::warn!(md5, error = %e, "single re-check failed; pending");
                                    CheckOutcome::NotFound
                                }
                            },
                        };
                        out.push((md5, outcome));
                    }
                    return Ok(out);
                }
            }
        }
        let mut out = Vec::with_capacity(chunk.len());
        for md5 in chunk {
            let o = self.check_by_md5(md5).await?;
            out.push((md5.clone(), o));
        }
        // Singles worked where the bulk call did not: stop trying bulk.
        if chunk.len() > 1 {
            self.inner.bulk_unavailable.store(true, Ordering::Relaxed);
        }
        Ok(out)
    }

    /// `POST /v1/renew_token` with the configured e-mail; replaces the held
    /// token. Errors: [`BakongError::Unauthorized`] when no e-mail is
    /// configured or Bakong refuses it (errorCode 10), transport errors as usual.
    pub async fn renew_token(&self) -> Result<(), BakongError> {
        let _guard = self.inner.renew_lock.lock().await;
        self.inner.renew_locked().await
    }
}

impl Inner {
    fn held(&self) -> Held {
        self.token.read().expect("token lock").clone()
    }

    fn url(&self, path: &str) -> String {
        format!(
            "{}/{}",
            self.settings.base_url.as_str().trim_end_matches('/'),
            path
        )
    }

    /// A check with the bearer token: retried, renewed once on a refusal.
    async fn checked<T>(
        &self,
        ep: Endpoint,
        path: &str,
        body: Value,
        map: impl Fn(&Envelope) -> Result<T, BakongError> + Sync,
    ) -> Result<T, BakongError> {
        let req = Request::new(ep, self.url(path)).json(body);
        self.http.call(&req, self, |r| read(r, &map)).await
    }

    async fn renew_locked(&self) -> Result<(), BakongError> {
        let Some(email) = self.settings.renew_email.as_deref() else {
            return Err(BakongError::Unauthorized {
                message: "no renewal e-mail is configured".into(),
            });
        };
        let body = serde_json::to_value(wire::RenewRequest { email }).expect("serialisable");
        let req = Request::new(RENEW, self.url(path::RENEW_TOKEN)).json(body);
        let Some(token) = self
            .http
            .call(&req, &NoAuth, |r| read(r, &status::map_renew))
            .await?
        else {
            return Err(BakongError::Unauthorized {
                message: "renew_token was refused as unauthorized".into(),
            });
        };
        self.http.learn_secret(&token);
        let mut held = self.token.write().expect("token lock");
        held.token = token;
        held.generation += 1;
        tracing::info!(generation = held.generation, "Bakong token renewed");
        Ok(())
    }
}

impl Auth<BakongError> for Inner {
    type Credential = Held;

    async fn credential(&self) -> Result<Held, BakongError> {
        Ok(self.held())
    }

    async fn renew(&self, stale: &Held) -> Result<Option<Held>, BakongError> {
        if self.settings.renew_email.is_none() {
            return Err(BakongError::TokenExpired);
        }
        let _guard = self.renew_lock.lock().await;
        // Someone else may have renewed while this call waited.
        if self.held().generation == stale.generation {
            self.renew_locked().await?;
        }
        Ok(Some(self.held()))
    }

    fn attach(&self, held: &Held, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request.bearer_auth(&held.token)
    }

    fn refused_again(&self, _refusal: BakongError) -> BakongError {
        BakongError::Unauthorized {
            message: "the renewed token was refused too".into(),
        }
    }
}

/// What one attempt means: a transport failure is worth another try (the
/// loop decides whether it gets one), an answer is [`interpret`]ed.
fn read<T>(
    reply: &Reply,
    map: &impl Fn(&Envelope) -> Result<T, BakongError>,
) -> Verdict<T, BakongError> {
    match reply {
        Reply::Answer(a) => interpret(a.status, a.retry_after, &a.body, map),
        Reply::Failed(f) => Verdict::Retry {
            err: match f.delivery {
                Delivery::NotSent => BakongError::Unreachable {
                    message: f.message.clone(),
                },
                Delivery::Unknown => BakongError::Unknown {
                    message: f.message.clone(),
                    timed_out: f.timed_out,
                },
            },
            retry_after: None,
        },
    }
}

/// Classify one HTTP answer.
fn interpret<T>(
    status: u16,
    wait: Option<Duration>,
    bytes: &[u8],
    map: &impl Fn(&Envelope) -> Result<T, BakongError>,
) -> Verdict<T, BakongError> {
    let retry = |err| Verdict::Retry {
        err,
        retry_after: wait,
    };
    let refused = || {
        Verdict::Stale(BakongError::Unauthorized {
            message: "token refused (HTTP 401 / errorCode 6)".into(),
        })
    };
    if status == 401 {
        return refused();
    }
    if status == 429 {
        return retry(BakongError::RateLimited { retry_after: wait });
    }
    let envelope: Option<Envelope> = serde_json::from_slice(bytes).ok();
    if status == 403 || status == 404 {
        let message = if status == 403 {
            "forbidden (Bakong refuses requests from outside Cambodia)"
        } else {
            "not found (wrong base URL or endpoint unavailable)"
        };
        return Verdict::Fail(BakongError::Http {
            status,
            message: message.into(),
        });
    }
    let Some(env) = envelope else {
        let err = if status >= 500 {
            BakongError::Http {
                status,
                message: "server error".into(),
            }
        } else {
            BakongError::Protocol {
                message: format!("HTTP {status} with a body that is not a Bakong envelope"),
            }
        };
        return if status >= 500 || (200..300).contains(&status) {
            retry(err)
        } else {
            Verdict::Fail(err)
        };
    };
    if status::is_auth_refusal(&env) {
        return refused();
    }
    if status >= 500 {
        return retry(match env.error_code {
            Some(code) => BakongError::Api {
                code,
                message: status::describe(code, env.response_message.as_deref()),
            },
            None => BakongError::Http {
                status,
                message: "server error".into(),
            },
        });
    }
    match map(&env) {
        Ok(v) => Verdict::Done(v),
        Err(e) if e.is_transient() => retry(e),
        Err(e) => Verdict::Fail(e),
    }
}

/// `exp` (seconds) of a JWT's payload, as epoch milliseconds.
fn jwt_exp_ms(token: &str) -> Option<i64> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64url_decode(payload)?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    v.get("exp")?.as_i64()?.checked_mul(1000)
}

/// Unpadded (or padded) base64url, as JWT segments are written.
fn base64url_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        } as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_jwt_expiry() {
        // {"alg":"HS256","typ":"JWT"} . {"data":{"id":"ab12"},"iat":1700000000,"exp":1707776000}
        let t = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJkYXRhIjp7ImlkIjoiYWIxMiJ9LCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwNzc3NjAwMH0.sig";
        assert_eq!(jwt_exp_ms(t), Some(1_707_776_000_000));
        assert_eq!(jwt_exp_ms("not-a-jwt"), None);
        assert_eq!(jwt_exp_ms("a.!!!.c"), None);
        assert_eq!(base64url_decode("aGk").unwrap(), b"hi");
        assert_eq!(base64url_decode("aGk=").unwrap(), b"hi");
    }

    #[test]
    fn classification() {
        let map = |e: &Envelope| status::map_single(e);
        assert!(matches!(interpret(401, None, b"", &map), Verdict::Stale(_)));
        assert!(matches!(
            interpret(
                200,
                None,
                br#"{"responseCode":1,"errorCode":6,"data":null}"#,
                &map
            ),
            Verdict::Stale(_)
        ));
        assert!(matches!(
            interpret(429, Some(Duration::from_secs(3)), b"{}", &map),
            Verdict::Retry {
                err: BakongError::RateLimited { .. },
                retry_after: Some(_)
            }
        ));
        assert!(matches!(
            interpret(200, None, br#"{"responseCode":0,"respo"#, &map),
            Verdict::Retry {
                err: BakongError::Protocol { .. },
                retry_after: None
            }
        ));
        assert!(matches!(
            interpret(403, None, b"<html>403</html>", &map),
            Verdict::Fail(BakongError::Http { status: 403, .. })
        ));
        assert!(matches!(
            interpret(504, None, br#"{"message":"timeout"}"#, &map),
            Verdict::Retry {
                err: BakongError::Http { status: 504, .. },
                retry_after: None
            }
        ));
        assert!(matches!(
            interpret(
                500,
                None,
                br#"{"responseCode":1,"errorCode":9,"data":null}"#,
                &map
            ),
            Verdict::Retry {
                err: BakongError::Api { code: 9, .. },
                retry_after: None
            }
        ));
        assert!(matches!(
            interpret(
                400,
                None,
                br#"{"responseCode":1,"errorCode":5,"data":null}"#,
                &map
            ),
            Verdict::Fail(BakongError::Api { code: 5, .. })
        ));
        assert!(matches!(
            interpret(
                200,
                None,
                br#"{"responseCode":1,"errorCode":1,"data":null}"#,
                &map
            ),
            Verdict::Done(CheckOutcome::NotFound)
        ));
    }
}
