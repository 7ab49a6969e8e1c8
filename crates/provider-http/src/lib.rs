//! HTTP plumbing shared by Till's provider adapters (`till-bkash`,
//! `till-bakong`, `till-nagad`): the request loop itself and what it is made of. Nothing
//! provider-specific lives here; an adapter is its wire types, its status
//! mapping and its flows on top of [`Transport::call`].
//!
//! # Layout
//!
//! | item | what it is |
//! | --- | --- |
//! | [`transport`] | the request loop of every adapter: [`Transport`] (send, time, record, redact; retry only idempotent calls or provably unsent attempts; `Retry-After`), [`Endpoint`], [`Request`], the adapter's reading of a [`Reply`] as a [`Verdict`], and [`Auth`] (attach a credential, renew it once when refused) |
//! | [`CallRecord`] / [`CallObserver`] | one row of the provider-call log; the terminal core stores them |
//! | [`redact`] / [`mask`] | replace secret-bearing JSON values, and show personal ones only partly, before a body is logged or stored |
//! | [`RetryPolicy`] | exponential backoff with full jitter, honouring `Retry-After` |
//! | [`Delivery`] / [`classify`] | was a failed request *possibly* received? decides whether a non-idempotent call's outcome is unknown |
//! | [`tls`] | rustls with the OS certificate store plus [`ExtraRoots`]; [`client_builder`] starts every client |
//! | [`probe`] | the transport half of a connection test: TLS, round trip, the server's clock ([`TransportProblem`]) |
//!
//! # Invariants
//!
//! - Knows no provider: endpoints, what is idempotent and how a credential is
//!   renewed come in from the adapter.
//! - Never retries an attempt that may have reached the provider unless the
//!   adapter says the call is idempotent.
//! - Every attempt yields exactly one redacted call record.

pub mod probe;
pub mod tls;
pub mod transport;

pub use probe::{probe, transport_problem, ProbeError, Probed, TransportProblem};

pub use tls::{client_builder, ExtraRoots, TlsError};

pub use transport::{
    Answer, Auth, BuildError, Endpoint, Failure, Method, NoAuth, Reply, Request, Transport,
    TransportSettings, Tried, Verdict,
};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// One provider HTTP attempt, as the provider-call log keeps it. Bodies are
/// already redacted ([`Transport`] makes every record).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CallRecord {
    /// `bkash`, `bakong`, ...
    pub provider: String,
    /// Logical endpoint name, e.g. `bkash.execute`, `bakong.check_by_md5_list`.
    pub endpoint: String,
    /// Payment the call was made for, when there is exactly one.
    pub payment_ref: Option<String>,
    /// HTTP status, `None` when no response came.
    pub status: Option<u16>,
    pub duration_ms: u64,
    /// 1 for the first try.
    pub attempt: u32,
    pub request_body: Option<Value>,
    pub response_body: Option<Value>,
    /// What went wrong, in words, when the attempt did not give the answer
    /// sought (transport, decoding, a refusal): the adapter's error.
    pub error: Option<String>,
}

/// Receives every call an adapter makes (success or not).
pub trait CallObserver: Send + Sync {
    fn record(&self, call: CallRecord);
}

/// An observer that drops everything (tools and tests that keep no log).
pub struct NoCallLog;

impl CallObserver for NoCallLog {
    fn record(&self, _call: CallRecord) {}
}

/// A shareable observer handle.
pub type SharedObserver = Arc<dyn CallObserver>;

/// Keys whose values never leave the adapter unmasked, matched case-insensitively.
pub const SECRET_KEYS: &[&str] = &[
    "password",
    "app_secret",
    "appsecret",
    "app_key",
    "appkey",
    "id_token",
    "refresh_token",
    "token",
    "authorization",
    "username",
    "secret",
];

/// Returns `body` with every value under a key in `keys` (case-insensitive,
/// at any depth) replaced by `"***"`.
pub fn redact(body: &Value, keys: &[&str]) -> Value {
    rewrite(body, &|k, v| {
        (has_key(keys, k) && !v.is_null()).then(|| Value::String("***".into()))
    })
}

/// How a personal value is shown in a record, e.g. a wallet number with
/// only its first and last digits left ([`TransportSettings::masked_keys`]).
pub type Mask = fn(&str) -> String;

/// Returns `body` with every string or number under a key of `keys`
/// (case-insensitive, at any depth) replaced by what that key's [`Mask`]
/// makes of its text.
pub fn mask(body: &Value, keys: &[(&str, Mask)]) -> Value {
    rewrite(body, &|k, v| {
        let (_, mask) = keys.iter().find(|(m, _)| m.eq_ignore_ascii_case(k))?;
        match v {
            Value::String(s) => Some(Value::String(mask(s))),
            Value::Number(n) => Some(Value::String(mask(&n.to_string()))),
            _ => None,
        }
    })
}

/// Whether `key` is one of `keys`, case-insensitively.
pub(crate) fn has_key(keys: &[&str], key: &str) -> bool {
    keys.iter().any(|s| s.eq_ignore_ascii_case(key))
}

/// `body` with each object member's value replaced by `replace(key, value)`
/// where that says so, walked into otherwise.
fn rewrite(body: &Value, replace: &impl Fn(&str, &Value) -> Option<Value>) -> Value {
    match body {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = replace(k, v).unwrap_or_else(|| rewrite(v, replace));
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| rewrite(v, replace)).collect()),
        other => other.clone(),
    }
}

/// Exponential backoff with full jitter: attempt `n` (1-based, the attempt
/// that just failed) waits a random time in `[0, min(max, base * 2^(n-1))]`,
/// or exactly the server's `Retry-After` when it asked for longer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total tries including the first.
    pub max_attempts: u32,
    pub base: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// No retries at all (non-idempotent calls).
    pub const NONE: RetryPolicy = RetryPolicy {
        max_attempts: 1,
        base: Duration::ZERO,
        max_delay: Duration::ZERO,
    };

    /// Delay before the try after `failed_attempt`, or `None` when the budget is spent.
    pub fn delay(&self, failed_attempt: u32, retry_after: Option<Duration>) -> Option<Duration> {
        if failed_attempt >= self.max_attempts {
            return None;
        }
        let exp = failed_attempt.saturating_sub(1).min(20);
        let ceiling = self.base.saturating_mul(1u32 << exp).min(self.max_delay);
        let jitter = if ceiling.is_zero() {
            Duration::ZERO
        } else {
            Duration::from_micros(rand::random_range(0..=ceiling.as_micros() as u64))
        };
        Some(match retry_after {
            Some(ra) if ra > jitter => ra,
            _ => jitter,
        })
    }
}

/// Parses a `Retry-After` header: delta-seconds or an HTTP date.
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let text = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(text).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// Whether the provider may have acted on a request that gave no usable answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// The request never left (DNS, refused connection, TLS): nothing happened there.
    NotSent,
    /// It may have been received and acted on (timeout, reset, 5xx, garbled body).
    Unknown,
}

/// Classifies a transport error from reqwest.
pub fn classify(err: &reqwest::Error) -> Delivery {
    if err.is_connect()
        || err.is_builder()
        || err.is_request() && !err.is_timeout() && is_connect_chain(err)
    {
        Delivery::NotSent
    } else {
        Delivery::Unknown
    }
}

fn is_connect_chain(err: &reqwest::Error) -> bool {
    let mut src: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(err);
    while let Some(e) = src {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return io.kind() == std::io::ErrorKind::ConnectionRefused;
        }
        src = e.source();
    }
    false
}

/// A transport-level failure, classified.
#[derive(Debug, thiserror::Error)]
#[error("{endpoint}: {message} ({delivery:?})")]
pub struct TransportError {
    pub endpoint: String,
    pub delivery: Delivery,
    pub message: String,
}

impl TransportError {
    pub fn from_reqwest(endpoint: &str, err: &reqwest::Error) -> Self {
        TransportError {
            endpoint: endpoint.to_owned(),
            delivery: classify(err),
            message: err.without_url_message(),
        }
    }
}

trait WithoutUrl {
    fn without_url_message(&self) -> String;
}

impl WithoutUrl for reqwest::Error {
    /// The error in words without the URL (URLs may carry tokens in query strings).
    fn without_url_message(&self) -> String {
        // A refused certificate is the commonest TLS failure: say so first.
        if let Some(tls) = tls::describe(self) {
            return tls;
        }
        let kind = if self.is_timeout() {
            "timed out"
        } else if self.is_connect() {
            "could not connect"
        } else if self.is_decode() {
            "could not decode the response"
        } else if self.is_body() {
            "body error"
        } else {
            "request failed"
        };
        let mut msg = kind.to_owned();
        let mut src = std::error::Error::source(self);
        while let Some(e) = src {
            msg.push_str(": ");
            msg.push_str(&e.to_string());
            src = e.source();
        }
        msg
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn redacts_nested_secret_keys_case_insensitively() {
        let body = json!({"app_key":"k","Password":"p","data":[{"id_token":"t","amount":"1.00"}],"refresh_token":null});
        let out = redact(&body, SECRET_KEYS);
        assert_eq!(
            out,
            json!({"app_key":"***","Password":"***","data":[{"id_token":"***","amount":"1.00"}],"refresh_token":null})
        );
    }

    #[test]
    fn masks_personal_values_keeping_the_rest() {
        fn ends(s: &str) -> String {
            format!("{}…{}", &s[..2], &s[s.len() - 2..])
        }
        let body = json!({"Wallet":"01711428036","data":[{"wallet":1711428036_u64,"amount":"1.00"}],"wallet_note":"x","other":{"wallet":null}});
        assert_eq!(
            mask(&body, &[("wallet", ends)]),
            json!({"Wallet":"01…36","data":[{"wallet":"17…36","amount":"1.00"}],"wallet_note":"x","other":{"wallet":null}})
        );
    }

    #[test]
    fn backoff_grows_stays_under_ceiling_and_honours_retry_after() {
        let p = RetryPolicy {
            max_attempts: 5,
            base: Duration::from_millis(100),
            max_delay: Duration::from_millis(350),
        };
        for _ in 0..200 {
            assert!(p.delay(1, None).unwrap() <= Duration::from_millis(100));
            assert!(p.delay(3, None).unwrap() <= Duration::from_millis(350));
        }
        assert_eq!(
            p.delay(2, Some(Duration::from_secs(7))),
            Some(Duration::from_secs(7))
        );
        assert_eq!(p.delay(5, None), None);
        assert_eq!(RetryPolicy::NONE.delay(1, None), None);
    }

    #[test]
    fn parses_retry_after_seconds_and_dates() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(reqwest::header::RETRY_AFTER, "12".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(12)));
        let later = SystemTime::now() + Duration::from_secs(120);
        h.insert(
            reqwest::header::RETRY_AFTER,
            httpdate::fmt_http_date(later).parse().unwrap(),
        );
        let d = retry_after(&h).unwrap();
        assert!(
            d > Duration::from_secs(100) && d <= Duration::from_secs(120),
            "{d:?}"
        );
    }
}
