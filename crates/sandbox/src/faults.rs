//! Fault injection: rules per endpoint, a seeded engine that decides, and the
//! axum middleware that applies the decision.
//!
//! A rule names an endpoint (`bkash.execute`, `bakong.check_transaction_by_md5`,
//! `nagad.complete`, a family `bkash.*`, or `*`), a [`FaultKind`], a probability and an optional
//! count (`times = 1` is a scripted one-shot). With `after = true` the request
//! is handled first — its effects are committed, e.g. the wallet is debited —
//! and only then is the response replaced by the fault. Rolls come from an RNG
//! seeded from the sandbox seed, so a failing run replays.

use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

/// What goes wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Nothing but the rule's latency.
    #[default]
    Latency,
    /// An HTTP error status (`status`, default 503) with a gateway-style body.
    Status,
    /// HTTP 429 with `Retry-After: retry_after_secs`.
    RateLimit,
    /// Never answer (for `hang_ms`, then a 504): the client's timeout fires first.
    Hang,
    /// Close the TCP connection with a reset, no HTTP response at all.
    Reset,
    /// HTTP 200, `application/json`, and a truncated JSON body.
    Malformed,
    /// The presented token dies now: 401 and it stays invalid (refresh/renew needed).
    TokenExpired,
    /// HTTP 403 with a non-JSON (HTML) body, as a geo-blocking gateway sends.
    Forbidden,
    /// Bakong only: `responseCode` 0 with `data: null`.
    EmptySuccess,
    /// A provider business error with `code`: bKash HTTP 200
    /// `{"statusCode","statusMessage"}` (e.g. `9999`, `503`, `2023`), Bakong
    /// the envelope with that `errorCode`, Nagad `{reason: code, message}`
    /// with its `error_status`.
    BusinessError,
    /// Hold the request until a test releases the endpoint
    /// (`POST /sim/faults/release`, [`Gates::release`]) or `hang_ms` passes,
    /// then handle it normally. With `after = true` the request is handled
    /// first and only its answer is held. Lets a test put two calls in an
    /// exact order (a race made deterministic) instead of sleeping.
    Hold,
}

fn default_probability() -> f64 {
    1.0
}
fn default_status() -> u16 {
    503
}
fn default_retry_after() -> u64 {
    5
}
fn default_hang_ms() -> u64 {
    120_000
}

/// One fault rule (TOML `[[fault]]`, or JSON for `POST /sim/faults`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// Endpoint name, `family.*`, or `*`. See [`endpoint_name`].
    pub endpoint: String,
    #[serde(default)]
    pub kind: FaultKind,
    /// Chance per matching request, 0..=1.
    #[serde(default = "default_probability")]
    pub probability: f64,
    /// How many times the rule may fire; absent = forever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
    /// Handle the request first (commit its effects), then fail the response.
    #[serde(default)]
    pub after: bool,
    /// Status for [`FaultKind::Status`].
    #[serde(default = "default_status")]
    pub status: u16,
    #[serde(default = "default_retry_after")]
    pub retry_after_secs: u64,
    #[serde(default = "default_hang_ms")]
    pub hang_ms: u64,
    /// Fixed added latency.
    #[serde(default)]
    pub latency_ms: u64,
    /// Extra random latency, uniform in `0..=jitter_ms`.
    #[serde(default)]
    pub jitter_ms: u64,
    /// Body override for [`FaultKind::Status`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Code for [`FaultKind::BusinessError`] (bKash `statusCode` or Bakong `errorCode`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl FaultRule {
    /// A rule with defaults for everything but endpoint and kind.
    pub fn new(endpoint: impl Into<String>, kind: FaultKind) -> FaultRule {
        FaultRule {
            endpoint: endpoint.into(),
            kind,
            probability: 1.0,
            times: None,
            after: false,
            status: default_status(),
            retry_after_secs: default_retry_after(),
            hang_ms: default_hang_ms(),
            latency_ms: 0,
            jitter_ms: 0,
            body: None,
            code: None,
        }
    }

    /// A business-error rule answering `code`.
    pub fn business(endpoint: impl Into<String>, code: &str) -> FaultRule {
        FaultRule {
            code: Some(code.into()),
            ..FaultRule::new(endpoint, FaultKind::BusinessError)
        }
    }

    /// Fire at most `n` times.
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    /// Apply after the handler has committed its effects.
    pub fn after(mut self) -> Self {
        self.after = true;
        self
    }

    fn matches(&self, endpoint: &str) -> bool {
        match self.endpoint.strip_suffix('*') {
            Some(prefix) => endpoint.starts_with(prefix),
            None => self.endpoint == endpoint,
        }
    }
}

/// A decision for one request.
#[derive(Debug, Default)]
pub struct Decision {
    pub delay: Duration,
    pub fault: Option<FaultRule>,
}

/// Requests held by [`FaultKind::Hold`] rules, per endpoint, until released.
#[derive(Debug, Default)]
pub struct Gates {
    state: Mutex<GateState>,
    wake: Notify,
}

#[derive(Debug, Default)]
struct GateState {
    /// Requests waiting now, per endpoint name.
    held: BTreeMap<String, usize>,
    /// Releases so far, per endpoint name: a request waits for the next one.
    releases: BTreeMap<String, u64>,
}

impl Gates {
    /// Waits until `endpoint` is released (or `max` passes).
    pub async fn hold(&self, endpoint: &str, max: Duration) {
        let start = {
            let mut s = self.state.lock().expect("gate lock");
            *s.held.entry(endpoint.to_owned()).or_default() += 1;
            s.releases.get(endpoint).copied().unwrap_or(0)
        };
        let wait = async {
            loop {
                // Registered before the check, so a release in between is not missed.
                let notified = self.wake.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                let now = {
                    let s = self.state.lock().expect("gate lock");
                    s.releases.get(endpoint).copied().unwrap_or(0)
                };
                if now > start {
                    return;
                }
                notified.await;
            }
        };
        let _ = tokio::time::timeout(max, wait).await;
        let mut s = self.state.lock().expect("gate lock");
        if let Some(n) = s.held.get_mut(endpoint) {
            *n = n.saturating_sub(1);
        }
    }

    /// Lets every request held now at endpoints matching `pattern` (a name,
    /// `family.*` or `*`) go on. Returns how many were held.
    pub fn release(&self, pattern: &str) -> usize {
        let probe = FaultRule::new(pattern, FaultKind::Hold);
        let mut s = self.state.lock().expect("gate lock");
        let names: Vec<String> = s
            .held
            .iter()
            .filter(|(name, n)| **n > 0 && probe.matches(name))
            .map(|(name, _)| name.clone())
            .collect();
        let mut count = 0;
        for name in names {
            count += s.held.get(&name).copied().unwrap_or(0);
            *s.releases.entry(name).or_default() += 1;
        }
        drop(s);
        self.wake.notify_waiters();
        count
    }

    /// How many requests are held now, per endpoint.
    pub fn held(&self) -> BTreeMap<String, usize> {
        let s = self.state.lock().expect("gate lock");
        s.held
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| (k.clone(), *n))
            .collect()
    }
}

/// Rules plus the seeded RNG that rolls them.
#[derive(Debug)]
pub struct FaultEngine {
    rules: Vec<FaultRule>,
    rng: ChaCha8Rng,
    fired: u64,
    gates: Arc<Gates>,
}

impl FaultEngine {
    pub fn new(rules: Vec<FaultRule>, seed: u64) -> FaultEngine {
        FaultEngine {
            rules,
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_fa17),
            fired: 0,
            gates: Arc::default(),
        }
    }

    /// Where [`FaultKind::Hold`] requests wait.
    pub fn gates(&self) -> Arc<Gates> {
        self.gates.clone()
    }

    pub fn rules(&self) -> &[FaultRule] {
        &self.rules
    }

    pub fn fired(&self) -> u64 {
        self.fired
    }

    pub fn add(&mut self, rules: impl IntoIterator<Item = FaultRule>) {
        self.rules.extend(rules);
    }

    pub fn clear(&mut self) {
        self.rules.clear();
    }

    /// Decide what happens to one request to `endpoint`.
    pub fn decide(&mut self, endpoint: &str) -> Decision {
        let mut decision = Decision::default();
        for rule in self.rules.iter_mut() {
            if !rule.matches(endpoint) || rule.times == Some(0) {
                continue;
            }
            let is_fault = rule.kind != FaultKind::Latency;
            if is_fault && decision.fault.is_some() {
                continue;
            }
            if rule.probability < 1.0 && self.rng.random::<f64>() >= rule.probability {
                continue;
            }
            if let Some(n) = rule.times.as_mut() {
                *n -= 1;
            }
            let jitter = if rule.jitter_ms > 0 {
                self.rng.random_range(0..=rule.jitter_ms)
            } else {
                0
            };
            decision.delay += Duration::from_millis(rule.latency_ms + jitter);
            if is_fault {
                self.fired += 1;
                decision.fault = Some(rule.clone());
            }
        }
        self.rules.retain(|r| r.times != Some(0));
        decision
    }
}

/// Per-connection control, put in every request's extensions by the server so
/// a [`FaultKind::Reset`] can tear down the TCP connection.
#[derive(Debug, Default)]
pub struct ConnControl {
    pub kill: Notify,
}

/// The stable name of the endpoint a path belongs to, `None` for routes that
/// are never faulted (`/sim/...`). Nagad's are `nagad.initialize`,
/// `nagad.complete`, `nagad.verify`, `nagad.refund` (`purchase/cancel`).
pub fn endpoint_name(path: &str, bakong_prefix: &str, nagad_prefix: &str) -> Option<String> {
    let nagad_api = format!("{}/", crate::nagad::http::api_base(nagad_prefix));
    if let Some(rest) = path.strip_prefix(&nagad_api) {
        let name = if rest.starts_with("check-out/initialize/") {
            "initialize"
        } else if rest.starts_with("check-out/complete/") {
            "complete"
        } else if rest.starts_with("verify/payment/") {
            "verify"
        } else if rest.trim_end_matches('/') == "purchase/cancel" {
            "refund"
        } else {
            "unknown"
        };
        return Some(format!("nagad.{name}"));
    }
    if let Some(rest) = path.strip_prefix("/v1.2.0-beta/tokenized/checkout/") {
        let name = match rest.trim_end_matches('/') {
            "token/grant" => "grant",
            "token/refresh" => "refresh",
            "create" => "create",
            "execute" => "execute",
            "payment/status" => "status",
            "general/searchTransaction" => "search",
            "payment/refund" => "refund",
            "agreement/status" => "agreement_status",
            "agreement/cancel" => "agreement_cancel",
            _ => "unknown",
        };
        return Some(format!("bkash.{name}"));
    }
    if let Some(rest) = path.strip_prefix("/v2/tokenized-checkout/refund/payment/") {
        let name = match rest.trim_end_matches('/') {
            "transaction" => "refund_v2",
            "status" => "refund_status_v2",
            _ => "unknown",
        };
        return Some(format!("bkash.{name}"));
    }
    if path.starts_with("/pay/bkash") {
        return Some("page.bkash".into());
    }
    if path.starts_with("/pay/bakong") {
        return Some("page.bakong".into());
    }
    if path.starts_with("/pay/nagad") {
        return Some("page.nagad".into());
    }
    if let Some(rest) = path
        .strip_prefix(bakong_prefix)
        .and_then(|p| p.strip_prefix("/v1/"))
    {
        return Some(format!("bakong.{}", rest.trim_end_matches('/')));
    }
    None
}

/// Middleware applying the fault engine's decision.
pub async fn layer(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let Some(endpoint) = endpoint_name(
        req.uri().path(),
        &app.config.bakong.prefix,
        &app.config.nagad.prefix,
    ) else {
        return next.run(req).await;
    };
    let (decision, gates) = {
        let mut f = app.faults.lock().expect("fault lock");
        (f.decide(&endpoint), f.gates())
    };
    if !decision.delay.is_zero() {
        tokio::time::sleep(decision.delay).await;
    }
    let Some(rule) = decision.fault else {
        return next.run(req).await;
    };
    tracing::info!(endpoint, kind = ?rule.kind, after = rule.after, "injecting fault");
    if rule.kind == FaultKind::Hold {
        let max = Duration::from_millis(rule.hang_ms);
        // A task of its own: like a real provider, the sandbox finishes what
        // it received even when the caller stopped waiting for the answer.
        let task = tokio::spawn(async move {
            if rule.after {
                let answer = next.run(req).await;
                gates.hold(&endpoint, max).await;
                answer
            } else {
                gates.hold(&endpoint, max).await;
                next.run(req).await
            }
        });
        return task.await.unwrap_or_else(|e| {
            json(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!(r#"{{"message":"held request failed: {e}"}}"#),
            )
        });
    }
    let bakong = endpoint.starts_with("bakong.");
    let nagad = endpoint.starts_with("nagad.");
    let conn = req.extensions().get::<Arc<ConnControl>>().cloned();
    let token = presented_token(&req);
    let committed = if rule.after {
        Some(next.run(req).await)
    } else {
        None
    };
    match rule.kind {
        FaultKind::Latency => unreachable!("latency rules never become the fault"),
        FaultKind::Hold => unreachable!("held requests are answered above"),
        FaultKind::Status => status_response(&rule, bakong),
        FaultKind::RateLimit => {
            let mut r = json(
                StatusCode::TOO_MANY_REQUESTS,
                r#"{"message":"Too Many Requests"}"#.to_string(),
            );
            r.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(rule.retry_after_secs),
            );
            r
        }
        FaultKind::Hang => {
            tokio::time::sleep(Duration::from_millis(rule.hang_ms)).await;
            json(
                StatusCode::GATEWAY_TIMEOUT,
                r#"{"message":"Endpoint request timed out"}"#.to_string(),
            )
        }
        FaultKind::Reset => {
            if let Some(conn) = conn {
                conn.kill.notify_one();
            }
            std::future::pending::<()>().await;
            unreachable!()
        }
        FaultKind::Malformed => {
            let body = match committed {
                Some(resp) => {
                    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
                        .await
                        .unwrap_or_default();
                    let cut = bytes.len() / 2;
                    String::from_utf8_lossy(&bytes[..cut]).into_owned()
                }
                None if bakong => r#"{"responseCode":0,"responseMessage":"Getting transaction succ"#.into(),
                None if nagad => r#"{"sensitiveData":"QUJD"#.into(),
                None => r#"{"statusCode":"0000","statusMessage":"Succ"#.into(),
            };
            json(StatusCode::OK, body)
        }
        FaultKind::TokenExpired => {
            if let Some(token) = token {
                app.revoke_token(&token, bakong);
            }
            if bakong {
                json(StatusCode::UNAUTHORIZED, crate::bakong::wire::unauthorized_body())
            } else {
                json(StatusCode::UNAUTHORIZED, r#"{"message":"Unauthorized"}"#.into())
            }
        }
        FaultKind::Forbidden => Response::builder()
            .status(StatusCode::FORBIDDEN)
            .header(header::CONTENT_TYPE, "text/html")
            .body(Body::from(
                "<html><head><title>403 Forbidden</title></head><body><h1>403 Forbidden</h1></body></html>",
            ))
            .expect("static response"),
        FaultKind::BusinessError => {
            let code = rule.code.clone().unwrap_or_else(|| "9999".into());
            if nagad {
                // `{reason, message}` with the configured status; `code` is the reason.
                let reason = rule.code.clone().unwrap_or_else(|| "ServerError".into());
                crate::nagad::http::refusal(app.config.nagad.error_status, &reason)
            } else if bakong {
                let c: u8 = code.parse().unwrap_or(9);
                let body = crate::bakong::wire::error(c);
                json(
                    StatusCode::from_u16(crate::bakong::wire::http_status(c)).unwrap_or(StatusCode::OK),
                    serde_json::to_string(&body).expect("serialisable"),
                )
            } else {
                let body = crate::bkash::wire::StatusError {
                    status_message: crate::bkash::codes::message(&code).into(),
                    status_code: code,
                };
                json(StatusCode::OK, serde_json::to_string(&body).expect("serialisable"))
            }
        }
        FaultKind::EmptySuccess => json(
            StatusCode::OK,
            r#"{"responseCode":0,"responseMessage":"Getting transaction successfully.","errorCode":null,"data":null}"#.into(),
        ),
    }
}

fn presented_token(req: &Request) -> Option<String> {
    let v = req
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    let v = v.strip_prefix("Bearer ").unwrap_or(v).trim();
    (!v.is_empty()).then(|| v.to_string())
}

fn status_response(rule: &FaultRule, bakong: bool) -> Response {
    let status = StatusCode::from_u16(rule.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let body = rule.body.clone().unwrap_or_else(|| {
        if bakong {
            r#"{"responseCode":1,"responseMessage":"Cannot connect to server. Please try again later.","errorCode":9,"data":null}"#.into()
        } else {
            match status.as_u16() {
                504 => r#"{"message":"Endpoint request timed out"}"#.into(),
                503 => r#"{"message":"Service Unavailable"}"#.into(),
                _ => r#"{"message":"Internal server error"}"#.into(),
            }
        }
    });
    json(status, body)
}

fn json(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            endpoint_name("/v1.2.0-beta/tokenized/checkout/execute", "", "/nagad").as_deref(),
            Some("bkash.execute")
        );
        assert_eq!(
            endpoint_name("/v2/tokenized-checkout/refund/payment/status", "", "/nagad").as_deref(),
            Some("bkash.refund_status_v2")
        );
        assert_eq!(
            endpoint_name("/v1/check_transaction_by_md5", "", "/nagad").as_deref(),
            Some("bakong.check_transaction_by_md5")
        );
        assert_eq!(endpoint_name("/sim/ledger", "", "/nagad"), None);
        let n = |p: &str| endpoint_name(p, "", "/nagad");
        assert_eq!(
            n("/nagad/remote-payment-gateway-1.0/api/dfs/check-out/initialize/683/T1-1").as_deref(),
            Some("nagad.initialize")
        );
        assert_eq!(
            n("/nagad/remote-payment-gateway-1.0/api/dfs/check-out/complete/QUJD").as_deref(),
            Some("nagad.complete")
        );
        assert_eq!(
            n("/nagad/remote-payment-gateway-1.0/api/dfs/verify/payment/QUJD").as_deref(),
            Some("nagad.verify")
        );
        assert_eq!(
            n("/nagad/remote-payment-gateway-1.0/api/dfs/purchase/cancel").as_deref(),
            Some("nagad.refund")
        );
        assert_eq!(
            n("/pay/nagad/check-out/QUJD").as_deref(),
            Some("page.nagad")
        );
    }

    #[test]
    fn one_shot_and_seeded() {
        let mut e = FaultEngine::new(vec![FaultRule::new("bkash.*", FaultKind::Hang).times(1)], 3);
        assert!(e.decide("bakong.x").fault.is_none());
        assert!(e.decide("bkash.execute").fault.is_some());
        assert!(e.decide("bkash.execute").fault.is_none());
        assert!(e.rules().is_empty());

        let roll = |seed| {
            let mut rule = FaultRule::new("*", FaultKind::Status);
            rule.probability = 0.5;
            let mut e = FaultEngine::new(vec![rule], seed);
            (0..64)
                .map(|_| e.decide("a").fault.is_some())
                .collect::<Vec<_>>()
        };
        assert_eq!(roll(5), roll(5));
        assert_ne!(roll(5), roll(6));
    }
}
