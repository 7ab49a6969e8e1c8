//! The request loop every adapter shares: one attempt is send, time, read,
//! redact and record (one [`CallRecord`] per attempt); the adapter reads the
//! answer into a [`Verdict`]; the loop retries only what may be retried and
//! renews a refused credential once.
//!
//! What may be retried: a [`Verdict::Retry`] of an [`Endpoint::idempotent`]
//! call, or of any call whose attempt provably never reached the provider
//! ([`Delivery::NotSent`]: connection refused, DNS, TLS). A call that may
//! have been received (timeout, reset, any answer) is never repeated unless
//! it is idempotent. A `Retry-After` is waited for up to
//! [`TransportSettings::max_retry_after`]; a longer one ends the call with
//! the adapter's error at once, so the caller can wait without holding it.
//!
//! The adapter keeps its wire types, its status mapping and its flows: it
//! says what an answer means ([`Verdict`]) and how it is authorised
//! ([`Auth`]); the loop owns the retry decisions, the call records and the
//! redaction.

use crate::{classify, has_key, mask, redact, retry_after, CallRecord, Delivery, ExtraRoots};
use crate::{Mask, RetryPolicy};
use crate::{SharedObserver, TransportError, SECRET_KEYS};
use serde_json::Value;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The HTTP method of an [`Endpoint`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    fn reqwest(self) -> reqwest::Method {
        match self {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Delete => reqwest::Method::DELETE,
        }
    }
}

/// One operation of a provider's API, as the loop needs to know it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// The name in call records, e.g. `bkash.execute`.
    pub name: &'static str,
    pub method: Method,
    /// Repeating it changes nothing at the provider (status, search, token
    /// grant…). Only these are retried after an attempt that may have been
    /// received.
    pub idempotent: bool,
    /// Its answers carry credentials (token calls): every value under a
    /// redaction key of a JSON answer is remembered as a secret and masked
    /// wherever it shows up later, and a body that is not JSON is recorded
    /// as its length only.
    pub secret_answers: bool,
}

impl Endpoint {
    /// A `POST` that is neither idempotent nor answered with secrets.
    pub const fn post(name: &'static str) -> Endpoint {
        Endpoint {
            name,
            method: Method::Post,
            idempotent: false,
            secret_answers: false,
        }
    }

    /// A `GET` that is neither idempotent nor answered with secrets (mark it
    /// [`Endpoint::idempotent`] when it is).
    pub const fn get(name: &'static str) -> Endpoint {
        Endpoint {
            method: Method::Get,
            ..Endpoint::post(name)
        }
    }

    /// This endpoint, safe to repeat.
    pub const fn idempotent(self) -> Endpoint {
        Endpoint {
            idempotent: true,
            ..self
        }
    }

    /// This endpoint, answering with credentials.
    pub const fn secret_answers(self) -> Endpoint {
        Endpoint {
            secret_answers: true,
            ..self
        }
    }
}

/// One call to make: an endpoint, its URL, an optional JSON body and headers.
#[derive(Clone)]
pub struct Request {
    endpoint: Endpoint,
    url: String,
    body: Option<Value>,
    recorded: Option<Value>,
    headers: Vec<(&'static str, String)>,
    payment_ref: Option<String>,
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values may be credentials; bodies are logged only redacted.
        f.debug_struct("Request")
            .field("endpoint", &self.endpoint.name)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Request {
    /// A request without a body to `url` (absolute).
    pub fn new(endpoint: Endpoint, url: impl Into<String>) -> Request {
        Request {
            endpoint,
            url: url.into(),
            body: None,
            recorded: None,
            headers: Vec::new(),
            payment_ref: None,
        }
    }

    /// Sends `body` as JSON.
    pub fn json(mut self, body: Value) -> Request {
        self.body = Some(body);
        self
    }

    /// What the call record keeps as the request body instead of the one
    /// sent (still redacted), e.g. the plain text of an encrypted body.
    pub fn recorded_as(mut self, body: Value) -> Request {
        self.recorded = Some(body);
        self
    }

    /// A header sent with every attempt. Values are never recorded; an
    /// invalid one fails the attempt before it leaves ([`Delivery::NotSent`]).
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Request {
        self.headers.push((name, value.into()));
        self
    }

    /// The payment the call is made for ([`CallRecord::payment_ref`]).
    pub fn payment_ref(mut self, payment_ref: Option<&str>) -> Request {
        self.payment_ref = payment_ref.map(str::to_owned);
        self
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    pub fn body(&self) -> Option<&Value> {
        self.body.as_ref()
    }
}

/// What one attempt gave, for the adapter to read.
#[derive(Debug)]
pub enum Reply {
    /// An HTTP answer (any status); the provider received the request.
    Answer(Answer),
    /// No (complete) answer.
    Failed(Failure),
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    /// The parsed `Retry-After` header.
    pub retry_after: Option<Duration>,
    /// The body exactly as it came (signatures, numbers read from their text).
    pub body: Vec<u8>,
    /// The body as JSON, when it is JSON.
    pub json: Option<Value>,
}

/// A request that gave no complete answer, classified.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    /// Whether the provider may have received it.
    pub delivery: Delivery,
    pub timed_out: bool,
    /// Set when the headers came and the body did not (then `delivery` is `Unknown`).
    pub status: Option<u16>,
    /// The transport error in words, without the URL and without known secrets.
    pub message: String,
}

/// What the adapter makes of one [`Reply`].
#[derive(Debug)]
pub enum Verdict<T, E> {
    /// A usable answer.
    Done(T),
    /// Final: returned as it is, never retried.
    Fail(E),
    /// Worth another try, when the loop may retry (see the module doc); `err`
    /// is the call's error once it may not or the tries are spent.
    Retry {
        err: E,
        /// How long the provider asked to wait.
        retry_after: Option<Duration>,
    },
    /// The provider refused the credential *before acting on the request*:
    /// renew it once ([`Auth::renew`]) and replay. `E` is the error when it
    /// cannot be renewed, or the renewed one is refused too
    /// ([`Auth::refused_again`]).
    Stale(E),
}

impl<T, E> Verdict<T, E> {
    /// The error, unless this is [`Verdict::Done`].
    pub fn err(&self) -> Option<&E> {
        match self {
            Verdict::Done(_) => None,
            Verdict::Fail(e) | Verdict::Retry { err: e, .. } | Verdict::Stale(e) => Some(e),
        }
    }
}

/// One attempt's [`Verdict`], with whether the provider may have received it.
#[derive(Debug)]
pub struct Tried<T, E> {
    pub verdict: Verdict<T, E>,
    /// [`Delivery::Unknown`] for every answer, [`Failure::delivery`] otherwise.
    pub delivery: Delivery,
}

/// How an adapter authorises its calls: where the credential comes from,
/// how it is attached, how it is renewed after a [`Verdict::Stale`].
pub trait Auth<E>: Sync {
    /// What one attempt is authorised with (a token, a key pair…).
    type Credential: Send + Sync;

    /// The credential for the next call (may fetch or refresh a token).
    fn credential(&self) -> impl Future<Output = Result<Self::Credential, E>> + Send;

    /// `stale` was refused: a renewed credential, or `None` when this auth
    /// cannot renew (the refusal's error is the call's then).
    fn renew(
        &self,
        stale: &Self::Credential,
    ) -> impl Future<Output = Result<Option<Self::Credential>, E>> + Send;

    /// Adds the credential to one attempt.
    fn attach(
        &self,
        credential: &Self::Credential,
        request: reqwest::RequestBuilder,
    ) -> reqwest::RequestBuilder;

    /// The call's error when the renewed credential is refused as well.
    fn refused_again(&self, refusal: E) -> E {
        refusal
    }
}

/// Calls that carry no credential (or carry it in [`Request::header`]s):
/// nothing to renew.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoAuth;

impl<E> Auth<E> for NoAuth {
    type Credential = ();

    async fn credential(&self) -> Result<(), E> {
        Ok(())
    }

    async fn renew(&self, _stale: &()) -> Result<Option<()>, E> {
        Ok(None)
    }

    fn attach(&self, _: &(), request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request
    }
}

/// How a [`Transport`] talks to one provider.
#[derive(Clone, Debug)]
pub struct TransportSettings {
    /// `bkash`, `bakong`… ([`CallRecord::provider`]).
    pub provider: &'static str,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Connect timeout; `None`: only `timeout`.
    pub connect_timeout: Option<Duration>,
    /// Tries of one call, backoff with full jitter.
    pub retry: RetryPolicy,
    /// A `Retry-After` longer than this is not waited for.
    pub max_retry_after: Duration,
    /// CA certificates trusted besides the OS store.
    pub extra_roots: ExtraRoots,
    /// JSON keys whose values are masked in records ([`SECRET_KEYS`]).
    pub redact_keys: &'static [&'static str],
    /// JSON keys of personal data (a customer's wallet number…) whose values
    /// records keep only as their [`Mask`] shows them, at any depth; none by
    /// default.
    pub masked_keys: &'static [(&'static str, Mask)],
}

impl TransportSettings {
    /// 30 s timeout, the default [`RetryPolicy`], `Retry-After` waited for up
    /// to 30 s, the OS store, [`SECRET_KEYS`], nothing partly masked.
    pub fn new(provider: &'static str) -> TransportSettings {
        TransportSettings {
            provider,
            timeout: Duration::from_secs(30),
            connect_timeout: None,
            retry: RetryPolicy::default(),
            max_retry_after: Duration::from_secs(30),
            extra_roots: ExtraRoots::none(),
            redact_keys: SECRET_KEYS,
            masked_keys: &[],
        }
    }
}

/// Why a [`Transport`] cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// reqwest's builder refused (its reason in the text: the adapters keep it as words).
    #[error("cannot build the HTTP client: {0}")]
    Client(reqwest::Error),
}

/// Strings masked in every record, error text and [`Transport::scrub`]bed text.
#[derive(Default)]
struct Secrets {
    /// Kept for the transport's life (credentials).
    pinned: Vec<String>,
    /// The latest tokens, newest last.
    recent: VecDeque<String>,
}

/// Shorter strings are not masked: they would mask ordinary text.
const MIN_SECRET_LEN: usize = 4;
/// Tokens remembered besides the pinned secrets.
const RECENT_SECRETS: usize = 12;
/// Text of a body that is not JSON kept in a record.
const MAX_TEXT_IN_RECORD: usize = 512;

/// One provider's HTTP client and request loop. Share it (it is `Sync`).
pub struct Transport {
    http: reqwest::Client,
    settings: TransportSettings,
    observer: SharedObserver,
    secrets: Mutex<Secrets>,
    requests: AtomicU64,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("provider", &self.settings.provider)
            .field("requests", &self.requests())
            .finish_non_exhaustive()
    }
}

impl Transport {
    /// A client on [`crate::client_builder`] (rustls, OS store plus extra
    /// roots) that never follows redirects: a provider's redirect is an
    /// answer for the adapter, and a body is never sent on elsewhere.
    pub fn new(settings: TransportSettings, observer: SharedObserver) -> Result<Self, BuildError> {
        let mut b = crate::client_builder(&settings.extra_roots)
            .timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none());
        if let Some(t) = settings.connect_timeout {
            b = b.connect_timeout(t);
        }
        Ok(Transport {
            http: b.build().map_err(BuildError::Client)?,
            settings,
            observer,
            secrets: Mutex::new(Secrets::default()),
            requests: AtomicU64::new(0),
        })
    }

    pub fn settings(&self) -> &TransportSettings {
        &self.settings
    }

    /// HTTP attempts sent so far (every try of every call).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Masks `secret` for the transport's life (a credential).
    pub fn pin_secret(&self, secret: &str) {
        if secret.len() >= MIN_SECRET_LEN {
            let mut s = self.secrets.lock().expect("secrets lock");
            if !s.pinned.iter().any(|x| x == secret) {
                s.pinned.push(secret.to_owned());
            }
        }
    }

    /// Masks `secret` while it is among the latest few learned (a token).
    pub fn learn_secret(&self, secret: &str) {
        if secret.len() >= MIN_SECRET_LEN {
            let mut s = self.secrets.lock().expect("secrets lock");
            if !s.pinned.iter().chain(&s.recent).any(|x| x == secret) {
                s.recent.push_back(secret.to_owned());
                if s.recent.len() > RECENT_SECRETS {
                    s.recent.pop_front();
                }
            }
        }
    }

    /// `text` with every known secret replaced by `***`.
    pub fn scrub(&self, text: &str) -> String {
        let s = self.secrets.lock().expect("secrets lock");
        let mut out = text.to_owned();
        for secret in s.pinned.iter().chain(&s.recent) {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), "***");
            }
        }
        out
    }

    /// `body` with the redaction keys' values, every known secret and the
    /// personal values ([`TransportSettings::masked_keys`]) masked.
    pub fn redacted(&self, body: &Value) -> Value {
        let body = redact(body, self.settings.redact_keys);
        self.scrub_value(mask(&body, self.settings.masked_keys))
    }

    fn scrub_value(&self, v: Value) -> Value {
        match v {
            Value::String(s) => Value::String(self.scrub(&s)),
            Value::Array(a) => Value::Array(a.into_iter().map(|x| self.scrub_value(x)).collect()),
            Value::Object(m) => Value::Object(
                m.into_iter()
                    .map(|(k, x)| (k, self.scrub_value(x)))
                    .collect(),
            ),
            other => other,
        }
    }

    /// Remembers every string under a redaction key of `v`, at any depth.
    fn learn_from(&self, v: &Value) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    let secret = has_key(self.settings.redact_keys, k);
                    match x {
                        Value::String(s) if secret => self.learn_secret(s.trim()),
                        other => self.learn_from(other),
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|x| self.learn_from(x)),
            _ => {}
        }
    }

    /// The whole call: the credential, attempts, retries (idempotent calls,
    /// or attempts that provably never left), one renewal after a
    /// [`Verdict::Stale`] (its replay is not counted as a retry), a record
    /// per attempt. `interpret` reads each [`Reply`].
    pub async fn call<A, T, E>(
        &self,
        req: &Request,
        auth: &A,
        interpret: impl Fn(&Reply) -> Verdict<T, E>,
    ) -> Result<T, E>
    where
        A: Auth<E>,
        E: fmt::Display,
    {
        let mut credential = auth.credential().await?;
        let (mut tries, mut number, mut renewed) = (0u32, 0u32, false);
        loop {
            tries += 1;
            number += 1;
            let tried = self
                .attempt(req, number, |b| auth.attach(&credential, b), &interpret)
                .await;
            match tried.verdict {
                Verdict::Done(t) => return Ok(t),
                Verdict::Fail(e) => return Err(e),
                Verdict::Retry { err, retry_after } => {
                    if !self
                        .pause(&req.endpoint, tries, retry_after, tried.delivery)
                        .await
                    {
                        return Err(err);
                    }
                }
                Verdict::Stale(e) if renewed => return Err(auth.refused_again(e)),
                Verdict::Stale(e) => {
                    tracing::info!(
                        provider = self.settings.provider,
                        endpoint = req.endpoint.name,
                        "credential refused; renewing once"
                    );
                    match auth.renew(&credential).await? {
                        Some(c) => credential = c,
                        None => return Err(e),
                    }
                    renewed = true;
                    tries -= 1;
                }
            }
        }
    }

    /// Waits before the try after `failed` (1-based) when the loop may
    /// retry: the endpoint is idempotent or the attempt provably never left,
    /// the tries are not spent and `retry_after` is not longer than
    /// [`TransportSettings::max_retry_after`]. `false`: stop.
    pub async fn pause(
        &self,
        endpoint: &Endpoint,
        failed: u32,
        retry_after: Option<Duration>,
        delivery: Delivery,
    ) -> bool {
        if !endpoint.idempotent && delivery != Delivery::NotSent {
            return false;
        }
        if retry_after.is_some_and(|ra| ra > self.settings.max_retry_after) {
            return false;
        }
        let Some(d) = self.settings.retry.delay(failed, retry_after) else {
            return false;
        };
        tracing::info!(
            provider = self.settings.provider,
            endpoint = endpoint.name,
            failed,
            delay_ms = d.as_millis() as u64,
            "retrying provider call"
        );
        tokio::time::sleep(d).await;
        true
    }

    /// One attempt, numbered `number` in its record: `attach` adds the
    /// credential, `interpret` reads the reply. Records it (redacted, with the
    /// verdict's error in words) before returning.
    pub async fn attempt<T, E: fmt::Display>(
        &self,
        req: &Request,
        number: u32,
        attach: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
        interpret: impl FnOnce(&Reply) -> Verdict<T, E>,
    ) -> Tried<T, E> {
        let ep = &req.endpoint;
        let mut b = self
            .http
            .request(ep.method.reqwest(), &req.url)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(body) = &req.body {
            b = b.json(body);
        }
        for (name, value) in &req.headers {
            b = b.header(*name, value.as_str());
        }
        let b = attach(b);
        self.requests.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let reply = self.exchange(ep, b).await;
        let duration_ms = started.elapsed().as_millis() as u64;
        if let Reply::Answer(Answer { json: Some(v), .. }) = &reply {
            if ep.secret_answers {
                // Learnt before anything below can show them.
                self.learn_from(v);
            }
        }
        let verdict = interpret(&reply);
        let error = verdict.err().map(|e| self.scrub(&e.to_string()));
        let (status, response_body, delivery) = match &reply {
            Reply::Answer(a) => (
                Some(a.status),
                Some(self.recorded_answer(ep, a)),
                Delivery::Unknown,
            ),
            Reply::Failed(f) => (f.status, None, f.delivery),
        };
        let record = CallRecord {
            provider: self.settings.provider.into(),
            endpoint: ep.name.into(),
            payment_ref: req.payment_ref.clone(),
            status,
            duration_ms,
            attempt: number,
            request_body: req
                .recorded
                .as_ref()
                .or(req.body.as_ref())
                .map(|b| self.redacted(b)),
            response_body,
            error,
        };
        match &record.error {
            None => tracing::debug!(
                provider = self.settings.provider,
                endpoint = ep.name,
                attempt = number,
                status,
                duration_ms,
                "provider call"
            ),
            Some(error) => tracing::warn!(
                provider = self.settings.provider,
                endpoint = ep.name,
                attempt = number,
                status,
                duration_ms,
                error = error.as_str(),
                "provider call gave no usable answer"
            ),
        }
        self.observer.record(record);
        Tried { verdict, delivery }
    }

    async fn exchange(&self, ep: &Endpoint, b: reqwest::RequestBuilder) -> Reply {
        let resp = match b.send().await {
            Ok(r) => r,
            Err(e) => return Reply::Failed(self.failure(ep, &e, None)),
        };
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        match resp.bytes().await {
            Ok(bytes) => Reply::Answer(Answer {
                status,
                retry_after: retry_after(&headers),
                headers,
                json: serde_json::from_slice(&bytes).ok(),
                body: bytes.to_vec(),
            }),
            Err(e) => Reply::Failed(Failure {
                // Headers came, the body did not: it was received.
                delivery: Delivery::Unknown,
                ..self.failure(ep, &e, Some(status))
            }),
        }
    }

    fn failure(&self, ep: &Endpoint, e: &reqwest::Error, status: Option<u16>) -> Failure {
        let t = TransportError::from_reqwest(ep.name, e);
        Failure {
            delivery: classify(e),
            timed_out: e.is_timeout(),
            status,
            message: self.scrub(&t.message),
        }
    }

    /// The answer body as a record keeps it: JSON redacted; other text cut
    /// short and scrubbed, or only its length for an endpoint that answers
    /// with secrets (a garbled token answer could hold part of a token).
    fn recorded_answer(&self, ep: &Endpoint, a: &Answer) -> Value {
        match &a.json {
            Some(v) => self.redacted(v),
            None if ep.secret_answers => {
                Value::String(format!("<{} bytes, not JSON>", a.body.len()))
            }
            None => {
                // Scrubbed before it is cut, so no part of a secret is left.
                let text = self.scrub(&String::from_utf8_lossy(&a.body));
                let mut cut: String = text.chars().take(MAX_TEXT_IN_RECORD).collect();
                if cut.len() < text.len() {
                    cut.push('…');
                }
                Value::String(cut)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NoCallLog;
    use serde_json::json;
    use std::sync::Arc;

    fn answer(body: &[u8]) -> Answer {
        Answer {
            status: 200,
            headers: Default::default(),
            retry_after: None,
            body: body.to_vec(),
            json: serde_json::from_slice(body).ok(),
        }
    }

    /// (Bakong's `records_never_hold_the_token`, moved here with the code.)
    #[test]
    fn records_never_hold_the_token() {
        let t = Transport::new(TransportSettings::new("bakong"), Arc::new(NoCallLog)).unwrap();
        t.learn_secret("eyJold");
        let renew = Endpoint::post("bakong.renew_token").secret_answers();
        let check = Endpoint::post("bakong.check_by_md5");
        let body = br#"{"responseCode":0,"errorCode":null,"data":{"token":"eyJnew","echo":"Bearer eyJold"}}"#;
        let s = t.recorded_answer(&renew, &answer(body)).to_string();
        assert!(!s.contains("eyJold") && !s.contains("eyJnew"), "{s}");
        let v = t.recorded_answer(&check, &answer(b"<html>eyJold</html>"));
        assert_eq!(v, json!("<html>***</html>"));
        let v = t.recorded_answer(&renew, &answer(b"{\"token\":\"eyJ"));
        assert!(!v.to_string().contains("eyJ"));
    }

    #[test]
    fn long_text_is_cut_after_it_is_scrubbed() {
        let t = Transport::new(TransportSettings::new("x"), Arc::new(NoCallLog)).unwrap();
        let secret = "s3cr3t-value";
        t.pin_secret(secret);
        let mut text = "a".repeat(MAX_TEXT_IN_RECORD - 4);
        text.push_str(secret);
        let v = t.recorded_answer(&Endpoint::get("x.y"), &answer(text.as_bytes()));
        let s = v.as_str().unwrap();
        assert!(!s.contains("s3cr"), "{s}");
        assert!(s.ends_with("***"), "{s}");
    }
}
