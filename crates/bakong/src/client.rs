//! The Bakong HTTP client: check by MD5 (single and bulk), token renewal,
//! retries, call records.
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
//!   which is never recorded; any string equal to it is masked as well.

use crate::error::BakongError;
use crate::status::{self, BulkOutcome, CheckOutcome};
use crate::wire::{self, path, Envelope};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use till_provider_http::{
    redact, retry_after, CallRecord, Delivery, RetryPolicy, SharedObserver, TransportError,
    SECRET_KEYS,
};

/// Item limit of the bulk endpoints (`bakong-api.md` §6, [V]).
pub const BULK_LIMIT: usize = 50;

/// Provider name in call records.
pub const PROVIDER: &str = "bakong";

/// Logical endpoint names used in [`CallRecord::endpoint`].
pub mod endpoint {
    pub const CHECK_BY_MD5: &str = "bakong.check_by_md5";
    pub const CHECK_BY_MD5_LIST: &str = "bakong.check_by_md5_list";
    pub const RENEW_TOKEN: &str = "bakong.renew_token";
}

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
    http: reqwest::Client,
    /// The bearer token and its generation (bumped on every renewal).
    token: RwLock<(String, u64)>,
    renew_lock: tokio::sync::Mutex<()>,
    observer: SharedObserver,
    requests: AtomicU64,
    /// Set once the bulk endpoint answered 403/404 (spec §6): single calls from then on.
    bulk_unavailable: AtomicBool,
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

/// What one HTTP attempt gave.
enum Attempt<T> {
    Done(Result<T, BakongError>),
    /// Worth another try; the server's `Retry-After` if any.
    Retry(BakongError, Option<Duration>),
    /// HTTP 401 / errorCode 6.
    TokenRefused,
}

/// Body text kept in a record when the answer is not JSON.
const MAX_TEXT_IN_RECORD: usize = 512;

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
        let http = till_provider_http::client_builder(&settings.extra_roots)
            .timeout(settings.timeout)
            .build()
            .map_err(|e| BakongError::Config {
                message: format!("HTTP client: {e}"),
            })?;
        Ok(BakongClient {
            inner: Arc::new(Inner {
                settings,
                http,
                token: RwLock::new((token, 0)),
                renew_lock: tokio::sync::Mutex::new(()),
                observer,
                requests: AtomicU64::new(0),
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
        self.inner.requests.load(Ordering::Relaxed)
    }

    /// The current bearer token, e.g. to persist a renewed one in the
    /// keyring. Never log it.
    pub fn token(&self) -> String {
        self.inner.token.read().expect("token lock").0.clone()
    }

    /// How many times the token has been replaced (renewals); the core can
    /// compare it before/after a call to know when to persist [`Self::token`].
    pub fn token_generation(&self) -> u64 {
        self.inner.token.read().expect("token lock").1
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
        self.protected(endpoint::CHECK_BY_MD5, path::CHECK_BY_MD5, &body, |env| {
            status::map_single(env)
        })
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
                .protected(
                    endpoint::CHECK_BY_MD5_LIST,
                    path::CHECK_BY_MD5_LIST,
                    &body,
                    |env| status::map_bulk(env, chunk),
                )
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
        self.renew_locked().await
    }

    async fn renew_locked(&self) -> Result<(), BakongError> {
        let Some(email) = self.inner.settings.renew_email.clone() else {
            return Err(BakongError::Unauthorized {
                message: "no renewal e-mail is configured".into(),
            });
        };
        let body =
            serde_json::to_value(wire::RenewRequest { email: &email }).expect("serialisable");
        let r = self
            .with_retries(
                endpoint::RENEW_TOKEN,
                path::RENEW_TOKEN,
                &body,
                false,
                status::map_renew,
            )
            .await;
        let token = match r {
            Ok(Some(Some(t))) => t,
            Ok(Some(None) | None) => {
                return Err(BakongError::Unauthorized {
                    message: "renew_token was refused as unauthorized".into(),
                })
            }
            Err(e) => return Err(e),
        };
        let mut held = self.inner.token.write().expect("token lock");
        held.0 = token;
        held.1 += 1;
        tracing::info!(generation = held.1, "Bakong token renewed");
        Ok(())
    }

    /// A call with the bearer token; on refusal renew once and replay.
    async fn protected<T>(
        &self,
        endpoint: &str,
        path: &str,
        body: &Value,
        map: impl Fn(&Envelope) -> Result<T, BakongError>,
    ) -> Result<T, BakongError> {
        let mut renewed = false;
        loop {
            let generation = self.token_generation();
            match self.with_retries(endpoint, path, body, true, &map).await? {
                Some(v) => return Ok(v),
                None if renewed => {
                    return Err(BakongError::Unauthorized {
                        message: "the renewed token was refused too".into(),
                    })
                }
                None if self.inner.settings.renew_email.is_none() => {
                    return Err(BakongError::TokenExpired)
                }
                None => {
                    let _guard = self.inner.renew_lock.lock().await;
                    // Someone else may have renewed while this call waited.
                    if self.token_generation() == generation {
                        self.renew_locked().await?;
                    }
                    renewed = true;
                }
            }
        }
    }

    /// Tries per the retry policy. `Ok(None)`: the token was refused.
    async fn with_retries<T>(
        &self,
        endpoint: &str,
        path: &str,
        body: &Value,
        authorized: bool,
        map: impl Fn(&Envelope) -> Result<T, BakongError>,
    ) -> Result<Option<T>, BakongError> {
        let policy = self.inner.settings.retry;
        let mut attempt = 1u32;
        loop {
            match self
                .send_once(endpoint, path, body, authorized, attempt, &map)
                .await
            {
                Attempt::Done(r) => return r.map(Some),
                Attempt::TokenRefused => return Ok(None),
                Attempt::Retry(err, server_wait) => {
                    if server_wait.is_some_and(|w| w > policy.max_delay) {
                        return Err(err);
                    }
                    match policy.delay(attempt, server_wait) {
                        Some(d) => {
                            tracing::debug!(endpoint, attempt, delay_ms = d.as_millis() as u64, error = %err, "retrying Bakong call");
                            tokio::time::sleep(d).await;
                            attempt += 1;
                        }
                        None => return Err(err),
                    }
                }
            }
        }
    }

    fn url(&self, path: &str) -> String {
        format!(
            "{}/{}",
            self.inner.settings.base_url.as_str().trim_end_matches('/'),
            path
        )
    }

    async fn send_once<T>(
        &self,
        endpoint: &str,
        path: &str,
        body: &Value,
        authorized: bool,
        attempt: u32,
        map: &impl Fn(&Envelope) -> Result<T, BakongError>,
    ) -> Attempt<T> {
        let token = self.token();
        let mut req = self.inner.http.post(self.url(path)).json(body);
        if authorized {
            req = req.bearer_auth(&token);
        }
        self.inner.requests.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let mut record = CallRecord {
            provider: PROVIDER.into(),
            endpoint: endpoint.into(),
            payment_ref: None,
            status: None,
            duration_ms: 0,
            attempt,
            request_body: Some(scrub(redact(body, SECRET_KEYS), &token)),
            response_body: None,
            error: None,
        };
        let outcome = match req.send().await {
            Err(e) => transport(endpoint, &e),
            Ok(resp) => {
                let status = resp.status().as_u16();
                record.status = Some(status);
                let wait = retry_after(resp.headers());
                match resp.bytes().await {
                    Err(e) => transport(endpoint, &e),
                    Ok(bytes) => {
                        record.response_body = Some(record_body(&bytes, &token, endpoint));
                        interpret(status, wait, &bytes, map)
                    }
                }
            }
        };
        record.duration_ms = started.elapsed().as_millis() as u64;
        record.error = match &outcome {
            Attempt::Done(Ok(_)) => None,
            Attempt::Done(Err(e)) | Attempt::Retry(e, _) => Some(e.to_string()),
            Attempt::TokenRefused => Some("token refused (HTTP 401 / errorCode 6)".into()),
        };
        if let Some(err) = &record.error {
            tracing::warn!(endpoint, attempt, status = record.status, error = %err, "Bakong call gave no usable answer");
        }
        self.inner.observer.record(record);
        outcome
    }
}

fn transport<T>(endpoint: &str, e: &reqwest::Error) -> Attempt<T> {
    let t = TransportError::from_reqwest(endpoint, e);
    let err = match t.delivery {
        Delivery::NotSent => BakongError::Unreachable { message: t.message },
        Delivery::Unknown => BakongError::Unknown {
            message: t.message,
            timed_out: e.is_timeout(),
        },
    };
    Attempt::Retry(err, None)
}

/// Classify one HTTP answer.
fn interpret<T>(
    status: u16,
    wait: Option<Duration>,
    bytes: &[u8],
    map: &impl Fn(&Envelope) -> Result<T, BakongError>,
) -> Attempt<T> {
    if status == 401 {
        return Attempt::TokenRefused;
    }
    if status == 429 {
        return Attempt::Retry(BakongError::RateLimited { retry_after: wait }, wait);
    }
    let envelope: Option<Envelope> = serde_json::from_slice(bytes).ok();
    if status == 403 || status == 404 {
        let message = if status == 403 {
            "forbidden (Bakong refuses requests from outside Cambodia)"
        } else {
            "not found (wrong base URL or endpoint unavailable)"
        };
        return Attempt::Done(Err(BakongError::Http {
            status,
            message: message.into(),
        }));
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
            Attempt::Retry(err, wait)
        } else {
            Attempt::Done(Err(err))
        };
    };
    if status::is_auth_refusal(&env) {
        return Attempt::TokenRefused;
    }
    if status >= 500 {
        let err = match env.error_code {
            Some(code) => BakongError::Api {
                code,
                message: status::describe(code, env.response_message.as_deref()),
            },
            None => BakongError::Http {
                status,
                message: "server error".into(),
            },
        };
        return Attempt::Retry(err, wait);
    }
    match map(&env) {
        Ok(v) => Attempt::Done(Ok(v)),
        Err(e) if e.is_transient() => Attempt::Retry(e, wait),
        Err(e) => Attempt::Done(Err(e)),
    }
}

/// The response body as it goes into a record: JSON redacted and with the
/// token masked; other text cut short (and omitted for renewals, whose
/// garbled answers could hold part of a token).
fn record_body(bytes: &[u8], token: &str, endpoint: &str) -> Value {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(v) => scrub(redact(&v, SECRET_KEYS), token),
        Err(_) if endpoint == endpoint::RENEW_TOKEN => {
            Value::String(format!("<{} bytes, not JSON>", bytes.len()))
        }
        Err(_) => {
            let text = String::from_utf8_lossy(bytes);
            let mut cut: String = text.chars().take(MAX_TEXT_IN_RECORD).collect();
            if cut.len() < text.len() {
                cut.push('…');
            }
            if !token.is_empty() {
                cut = cut.replace(token, "***");
            }
            Value::String(cut)
        }
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

/// Masks every string that contains `token`.
fn scrub(v: Value, token: &str) -> Value {
    if token.is_empty() {
        return v;
    }
    match v {
        Value::String(s) if s.contains(token) => Value::String("***".into()),
        Value::Array(items) => Value::Array(items.into_iter().map(|i| scrub(i, token)).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, scrub(v, token))).collect())
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn records_never_hold_the_token() {
        let body = br#"{"responseCode":0,"errorCode":null,"data":{"token":"eyJnew","echo":"Bearer eyJold"}}"#;
        let v = record_body(body, "eyJold", endpoint::RENEW_TOKEN);
        let s = v.to_string();
        assert!(!s.contains("eyJold") && !s.contains("eyJnew"), "{s}");
        let v = record_body(b"<html>eyJold</html>", "eyJold", endpoint::CHECK_BY_MD5);
        assert_eq!(v, json!("<html>***</html>"));
        let v = record_body(b"{\"token\":\"eyJ", "x", endpoint::RENEW_TOKEN);
        assert!(!v.to_string().contains("eyJ"));
    }

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
        assert!(matches!(
            interpret(401, None, b"", &map),
            Attempt::TokenRefused
        ));
        assert!(matches!(
            interpret(
                200,
                None,
                br#"{"responseCode":1,"errorCode":6,"data":null}"#,
                &map
            ),
            Attempt::TokenRefused
        ));
        assert!(matches!(
            interpret(429, Some(Duration::from_secs(3)), b"{}", &map),
            Attempt::Retry(BakongError::RateLimited { .. }, Some(_))
        ));
        assert!(matches!(
            interpret(200, None, br#"{"responseCode":0,"respo"#, &map),
            Attempt::Retry(BakongError::Protocol { .. }, None)
        ));
        assert!(matches!(
            interpret(403, None, b"<html>403</html>", &map),
            Attempt::Done(Err(BakongError::Http { status: 403, .. }))
        ));
        assert!(matches!(
            interpret(504, None, br#"{"message":"timeout"}"#, &map),
            Attempt::Retry(BakongError::Http { status: 504, .. }, None)
        ));
        assert!(matches!(
            interpret(
                500,
                None,
                br#"{"responseCode":1,"errorCode":9,"data":null}"#,
                &map
            ),
            Attempt::Retry(BakongError::Api { code: 9, .. }, None)
        ));
        assert!(matches!(
            interpret(
                400,
                None,
                br#"{"responseCode":1,"errorCode":5,"data":null}"#,
                &map
            ),
            Attempt::Done(Err(BakongError::Api { code: 5, .. }))
        ));
        assert!(matches!(
            interpret(
                200,
                None,
                br#"{"responseCode":1,"errorCode":1,"data":null}"#,
                &map
            ),
            Attempt::Done(Ok(CheckOutcome::NotFound))
        ));
    }
}
