//! The shared request loop against a real HTTP server on loopback (axum on
//! 127.0.0.1:0, no mock of reqwest): what is retried and what never is, the
//! `Retry-After`, one redacted record per attempt, one renewal of a refused
//! credential and never a loop of them.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use till_provider_http::{
    Auth, CallObserver, CallRecord, Delivery, Endpoint, NoAuth, Reply, Request, RetryPolicy,
    Transport, TransportSettings, Verdict,
};

/// What the test server answers to its `n`th request (1-based).
struct Scripted {
    status: u16,
    retry_after: Option<&'static str>,
    body: String,
    delay: Duration,
}

fn answer(status: u16, body: impl Into<String>) -> Scripted {
    Scripted {
        status,
        retry_after: None,
        body: body.into(),
        delay: Duration::ZERO,
    }
}

type Script = dyn Fn(usize, &HeaderMap) -> Scripted + Send + Sync;

struct Server {
    url: String,
    hits: Arc<AtomicUsize>,
}

impl Server {
    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

async fn serve(script: impl Fn(usize, &HeaderMap) -> Scripted + Send + Sync + 'static) -> Server {
    let hits = Arc::new(AtomicUsize::new(0));
    let script: Arc<Script> = Arc::new(script);
    let counter = hits.clone();
    let app = axum::Router::new().fallback(move |headers: HeaderMap| {
        let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
        let s = script(n, &headers);
        async move {
            tokio::time::sleep(s.delay).await;
            let mut r: Response = (StatusCode::from_u16(s.status).unwrap(), s.body).into_response();
            if let Some(ra) = s.retry_after {
                r.headers_mut().insert("retry-after", ra.parse().unwrap());
            }
            r
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Server { url, hits }
}

#[derive(Default)]
struct Log(Mutex<Vec<CallRecord>>);

impl CallObserver for Log {
    fn record(&self, call: CallRecord) {
        self.0.lock().unwrap().push(call);
    }
}

impl Log {
    fn all(&self) -> Vec<CallRecord> {
        self.0.lock().unwrap().clone()
    }
    fn statuses(&self) -> Vec<(Option<u16>, u32)> {
        self.all().iter().map(|r| (r.status, r.attempt)).collect()
    }
}

/// An adapter's own error, as a typed enum.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
enum TestError {
    #[error("unreachable")]
    Unreachable,
    #[error("no answer (timed out: {0})")]
    Unknown(bool),
    #[error("HTTP {0}")]
    Status(u16),
    #[error("credential refused")]
    Refused,
    #[error("renewed credential refused too")]
    RefusedAgain,
}

/// The adapter's reading of an answer: 200 is done, 401 a stale credential,
/// 429/5xx worth another try, anything else final.
fn read(reply: &Reply) -> Verdict<Value, TestError> {
    match reply {
        Reply::Failed(f) => Verdict::Retry {
            err: match f.delivery {
                Delivery::NotSent => TestError::Unreachable,
                Delivery::Unknown => TestError::Unknown(f.timed_out),
            },
            retry_after: None,
        },
        Reply::Answer(a) => match a.status {
            200 => Verdict::Done(a.json.clone().unwrap_or(Value::Null)),
            401 => Verdict::Stale(TestError::Refused),
            429 | 500..=599 => Verdict::Retry {
                err: TestError::Status(a.status),
                retry_after: a.retry_after,
            },
            s => Verdict::Fail(TestError::Status(s)),
        },
    }
}

fn transport(log: &Arc<Log>) -> Transport {
    Transport::new(
        TransportSettings {
            timeout: Duration::from_millis(400),
            retry: RetryPolicy {
                max_attempts: 3,
                base: Duration::from_millis(10),
                max_delay: Duration::from_millis(50),
            },
            max_retry_after: Duration::from_secs(5),
            ..TransportSettings::new("test")
        },
        log.clone(),
    )
    .unwrap()
}

const STATUS: Endpoint = Endpoint::get("test.status").idempotent();
const PAY: Endpoint = Endpoint::post("test.pay");

/// An idempotent status call to `url`.
async fn status(t: &Transport, url: &str, auth: &impl Auth<TestError>) -> Result<Value, TestError> {
    t.call(&Request::new(STATUS, url), auth, read).await
}

fn pay(url: &str) -> Request {
    Request::new(PAY, format!("{url}/pay")).json(json!({"amount": "1.00"}))
}

#[tokio::test]
async fn retries_an_idempotent_call_after_503_honouring_retry_after() {
    let srv = serve(|n, _| match n {
        1 => Scripted {
            retry_after: Some("1"),
            ..answer(503, "busy")
        },
        _ => answer(200, r#"{"ok":true}"#),
    })
    .await;
    let log = Arc::new(Log::default());
    let t = transport(&log);
    let started = Instant::now();
    let v = status(&t, &srv.url, &NoAuth).await.unwrap();
    assert_eq!(v, json!({"ok": true}));
    // The backoff alone is at most 50 ms: the wait was the server's.
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(srv.hits(), 2);
    assert_eq!(log.statuses(), [(Some(503), 1), (Some(200), 2)]);
    let recs = log.all();
    assert_eq!(recs[0].error.as_deref(), Some("HTTP 503"));
    assert_eq!(recs[1].error, None);
    assert_eq!(t.requests(), 2);
}

#[tokio::test]
async fn a_retry_after_longer_than_allowed_ends_the_call_at_once() {
    let srv = serve(|_, _| Scripted {
        retry_after: Some("60"),
        ..answer(429, "slow down")
    })
    .await;
    let log = Arc::new(Log::default());
    let started = Instant::now();
    let e = status(&transport(&log), &srv.url, &NoAuth)
        .await
        .unwrap_err();
    assert_eq!(e, TestError::Status(429));
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(srv.hits(), 1);
}

#[tokio::test]
async fn never_retries_a_non_idempotent_call_after_a_timeout() {
    let srv = serve(|_, _| Scripted {
        delay: Duration::from_secs(2),
        ..answer(200, "{}")
    })
    .await;
    let log = Arc::new(Log::default());
    let t = transport(&log);
    let e = t.call(&pay(&srv.url), &NoAuth, read).await.unwrap_err();
    // It may have been received: the outcome is unknown, and it is not sent again.
    assert_eq!(e, TestError::Unknown(true));
    assert_eq!(srv.hits(), 1);
    assert_eq!(log.statuses(), [(None, 1)]);
    // The same timeout on an idempotent endpoint is tried again.
    let e = status(&t, &srv.url, &NoAuth).await.unwrap_err();
    assert_eq!(e, TestError::Unknown(true));
    assert_eq!(srv.hits(), 1 + 3);
}

#[tokio::test]
async fn never_retries_a_non_idempotent_call_after_an_answer() {
    let srv = serve(|_, _| answer(503, "busy")).await;
    let log = Arc::new(Log::default());
    let e = transport(&log)
        .call(&pay(&srv.url), &NoAuth, read)
        .await
        .unwrap_err();
    assert_eq!(e, TestError::Status(503));
    assert_eq!(srv.hits(), 1);
}

#[tokio::test]
async fn retries_a_non_idempotent_call_after_connection_refused() {
    // A port nobody listens on: bind, note it, close.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let log = Arc::new(Log::default());
    let t = transport(&log);
    let e = t
        .call(&pay(&format!("http://127.0.0.1:{port}")), &NoAuth, read)
        .await
        .unwrap_err();
    // Provably never received: safe to send again, so every try was made.
    assert_eq!(e, TestError::Unreachable);
    assert_eq!(log.statuses(), [(None, 1), (None, 2), (None, 3)]);
    assert!(log
        .all()
        .iter()
        .all(|r| r.error.as_deref() == Some("unreachable")));
    assert_eq!(t.requests(), 3);
}

#[tokio::test]
async fn records_one_call_record_per_attempt_with_redacted_bodies() {
    let srv = serve(|n, _| match n {
        1 => answer(500, "<html>boom hunter22-secret</html>"),
        _ => answer(
            200,
            r#"{"token":"tok-1","data":{"id_token":"tok-2","amount":"1.00"},"echo":"pw hunter22-secret"}"#,
        ),
    })
    .await;
    let log = Arc::new(Log::default());
    let t = transport(&log);
    t.pin_secret("hunter22-secret");
    let req = Request::new(STATUS, format!("{}/status", srv.url))
        .json(
            json!({"password": "hunter22-secret", "amount": "1.00", "note": "for hunter22-secret"}),
        )
        .header("x-api-key", "header-secret-9")
        .payment_ref(Some("P-1"));
    t.call(&req, &NoAuth, read).await.unwrap();
    let recs = log.all();
    assert_eq!(recs.len(), 2);
    for (i, r) in recs.iter().enumerate() {
        assert_eq!(
            (r.provider.as_str(), r.endpoint.as_str(), r.attempt),
            ("test", "test.status", i as u32 + 1)
        );
        assert_eq!(r.payment_ref.as_deref(), Some("P-1"));
        assert_eq!(
            r.request_body,
            Some(json!({"password": "***", "amount": "1.00", "note": "for ***"}))
        );
    }
    assert_eq!(recs[0].response_body, Some(json!("<html>boom ***</html>")));
    assert_eq!(
        recs[1].response_body,
        Some(json!({"token":"***","data":{"id_token":"***","amount":"1.00"},"echo":"pw ***"}))
    );
    let all = serde_json::to_string(&recs).unwrap();
    for secret in ["hunter22", "tok-1", "tok-2", "header-secret-9"] {
        assert!(!all.contains(secret), "{secret} in {all}");
    }
}

#[tokio::test]
async fn records_show_personal_values_only_as_their_mask_makes_them() {
    fn last_two(s: &str) -> String {
        format!("***{}", &s[s.len() - 2..])
    }
    let srv = serve(|_, _| {
        answer(
            200,
            r#"{"payer":{"Wallet":"01711428036"},"amount":"1.00","token":"t-1"}"#,
        )
    })
    .await;
    let log = Arc::new(Log::default());
    let t = Transport::new(
        TransportSettings {
            masked_keys: &[("wallet", last_two)],
            ..TransportSettings::new("test")
        },
        log.clone(),
    )
    .unwrap();
    let req = Request::new(STATUS, &srv.url).json(json!({"wallet": 1711428036_u64, "secret": "s"}));
    let v = t.call(&req, &NoAuth, read).await.unwrap();
    // The adapter reads the answer as it came; only the record is masked.
    assert_eq!(v["payer"]["Wallet"], "01711428036");
    let r = &log.all()[0];
    assert_eq!(
        r.request_body,
        Some(json!({"wallet": "***36", "secret": "***"}))
    );
    assert_eq!(
        r.response_body,
        Some(json!({"payer":{"Wallet":"***36"},"amount":"1.00","token":"***"}))
    );
}

#[tokio::test]
async fn what_a_secret_endpoint_answers_is_masked_from_then_on() {
    let srv = serve(|n, _| match n {
        1 => answer(200, r#"{"id_token":"granted-token-42","expires_in":3600}"#),
        2 => answer(200, "not json granted-token-42"),
        _ => answer(403, "Authorization=granted-token-42"),
    })
    .await;
    let log = Arc::new(Log::default());
    let t = transport(&log);
    let grant = Endpoint::post("test.grant").idempotent().secret_answers();
    let req = Request::new(grant, &srv.url);
    t.call(&req, &NoAuth, read).await.unwrap();
    t.call(&req, &NoAuth, read).await.unwrap();
    let e = status(&t, &srv.url, &NoAuth).await.unwrap_err();
    assert_eq!(e, TestError::Status(403));
    let recs = log.all();
    assert_eq!(
        recs[0].response_body,
        Some(json!({"id_token": "***", "expires_in": 3600}))
    );
    // A garbled token answer is recorded by its length only.
    assert_eq!(recs[1].response_body, Some(json!("<25 bytes, not JSON>")));
    assert_eq!(recs[2].response_body, Some(json!("Authorization=***")));
    assert_eq!(t.scrub("x granted-token-42 y"), "x *** y");
}

/// A bearer credential renewed by counting: `stale` first, then `fresh`.
#[derive(Default)]
struct Renewing {
    renewals: AtomicU32,
}

impl Auth<TestError> for Renewing {
    type Credential = String;

    async fn credential(&self) -> Result<String, TestError> {
        Ok("stale".into())
    }

    async fn renew(&self, stale: &String) -> Result<Option<String>, TestError> {
        assert_eq!(
            stale, "stale",
            "renewed only once, from the first credential"
        );
        self.renewals.fetch_add(1, Ordering::SeqCst);
        Ok(Some("fresh".into()))
    }

    fn attach(&self, c: &String, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request.header("authorization", c)
    }

    fn refused_again(&self, _: TestError) -> TestError {
        TestError::RefusedAgain
    }
}

fn authorised(h: &HeaderMap) -> bool {
    h.get("authorization").is_some_and(|v| v == "fresh")
}

#[tokio::test]
async fn renews_a_stale_credential_once_and_replays() {
    let srv = serve(|_, h| {
        if authorised(h) {
            answer(200, r#"{"paid":true}"#)
        } else {
            answer(401, r#"{"message":"Unauthorized"}"#)
        }
    })
    .await;
    let log = Arc::new(Log::default());
    let auth = Renewing::default();
    // A refusal before the provider acted is safe to replay, idempotent or not.
    let v = transport(&log)
        .call(&pay(&srv.url), &auth, read)
        .await
        .unwrap();
    assert_eq!(v, json!({"paid": true}));
    assert_eq!(auth.renewals.load(Ordering::SeqCst), 1);
    assert_eq!(srv.hits(), 2);
    assert_eq!(log.statuses(), [(Some(401), 1), (Some(200), 2)]);
    assert_eq!(log.all()[0].error.as_deref(), Some("credential refused"));
}

#[tokio::test]
async fn a_renewed_credential_refused_too_ends_the_call_not_a_loop() {
    let srv = serve(|_, _| answer(401, r#"{"message":"Unauthorized"}"#)).await;
    let log = Arc::new(Log::default());
    let auth = Renewing::default();
    let e = status(&transport(&log), &srv.url, &auth).await.unwrap_err();
    assert_eq!(e, TestError::RefusedAgain);
    assert_eq!(auth.renewals.load(Ordering::SeqCst), 1);
    assert_eq!(srv.hits(), 2);
    // Without an auth that can renew, the refusal is the answer.
    let e = status(&transport(&log), &srv.url, &NoAuth)
        .await
        .unwrap_err();
    assert_eq!(e, TestError::Refused);
    assert_eq!(srv.hits(), 3);
}

#[tokio::test]
async fn the_replay_after_a_renewal_is_not_a_retry() {
    let srv = serve(|n, h| match n {
        _ if !authorised(h) => answer(401, "{}"),
        2 | 3 => answer(503, "busy"),
        _ => answer(200, "{}"),
    })
    .await;
    let log = Arc::new(Log::default());
    let auth = Renewing::default();
    status(&transport(&log), &srv.url, &auth).await.unwrap();
    // 3 tries after the renewal, numbered on from the refused one.
    assert_eq!(
        log.statuses(),
        [
            (Some(401), 1),
            (Some(503), 2),
            (Some(503), 3),
            (Some(200), 4)
        ]
    );
    assert_eq!(auth.renewals.load(Ordering::SeqCst), 1);
}
