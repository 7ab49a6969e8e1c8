//! Faults injected by the sandbox: 429 + Retry-After, malformed JSON, 5xx,
//! hangs, refused connections, empty successes, a blocked bulk endpoint —
//! and no token in any call record.

use crate::util::*;
use std::time::{Duration, Instant};
use till_bakong::{BakongError, CheckOutcome};
use till_sandbox::{FaultKind, FaultRule};

const SINGLE: &str = "bakong.check_transaction_by_md5";
const LIST: &str = "bakong.check_transaction_by_md5_list";

#[tokio::test]
async fn rate_limit_waits_for_retry_after() {
    let sb = start().await;
    let (client, log) = sb.client();
    let code = sb.usd("1", "R-1");
    sb.pay_code(&code).await;
    sb.h.add_faults([FaultRule {
        retry_after_secs: 1,
        ..FaultRule::new(SINGLE, FaultKind::RateLimit)
    }
    .times(1)]);
    let t0 = Instant::now();
    assert!(matches!(
        client.check_by_md5(&code.md5).await.unwrap(),
        CheckOutcome::Paid(_)
    ));
    assert!(t0.elapsed() >= Duration::from_secs(1), "{:?}", t0.elapsed());
    assert_eq!(client.requests_made(), 2);
    let recs = log.records();
    assert_eq!((recs[0].status, recs[0].attempt), (Some(429), 1));
    assert!(recs[0].error.as_deref().unwrap().contains("rate limit"));
    assert_eq!((recs[1].status, recs[1].attempt), (Some(200), 2));
}

#[tokio::test]
async fn a_long_retry_after_is_returned_not_slept() {
    let sb = start().await;
    let (client, _) = sb.client();
    sb.h.add_faults([FaultRule {
        retry_after_secs: 30,
        ..FaultRule::new(LIST, FaultKind::RateLimit)
    }]);
    let t0 = Instant::now();
    let err = client
        .check_by_md5_list(&["a".repeat(32), "b".repeat(32)])
        .await
        .unwrap_err();
    assert_eq!(
        err,
        BakongError::RateLimited {
            retry_after: Some(Duration::from_secs(30))
        }
    );
    assert!(t0.elapsed() < Duration::from_secs(5));
    assert_eq!(client.requests_made(), 1);
    assert!(err.is_transient());
}

#[tokio::test]
async fn malformed_json_is_retried_then_a_protocol_error() {
    let sb = start().await;
    let (client, log) = sb.client();
    let code = sb.usd("1", "M-1");
    sb.h.add_faults([FaultRule::new(SINGLE, FaultKind::Malformed).times(1)]);
    assert_eq!(
        client.check_by_md5(&code.md5).await.unwrap(),
        CheckOutcome::NotFound
    );
    assert_eq!(client.requests_made(), 2);

    sb.h.add_faults([FaultRule::new(SINGLE, FaultKind::Malformed)]);
    let err = client.check_by_md5(&code.md5).await.unwrap_err();
    assert!(matches!(err, BakongError::Protocol { .. }), "{err:?}");
    assert_eq!(client.requests_made(), 2 + 3);
    let recs = log.records();
    let attempts: Vec<u32> = recs[2..].iter().map(|r| r.attempt).collect();
    assert_eq!(attempts, [1, 2, 3]);
    assert!(recs[2].response_body.as_ref().unwrap().is_string());
}

#[tokio::test]
async fn server_errors_are_retried() {
    let sb = start().await;
    let (client, _) = sb.client();
    let code = sb.usd("1", "S-1");
    sb.h.add_faults([FaultRule::new(SINGLE, FaultKind::Status).times(2)]);
    assert_eq!(
        client.check_by_md5(&code.md5).await.unwrap(),
        CheckOutcome::NotFound
    );
    assert_eq!(client.requests_made(), 3);
    sb.h.add_faults([FaultRule {
        status: 504,
        body: Some(r#"{"message":"Endpoint request timed out"}"#.into()),
        ..FaultRule::new(SINGLE, FaultKind::Status)
    }]);
    let err = client.check_by_md5(&code.md5).await.unwrap_err();
    assert!(
        matches!(err, BakongError::Http { status: 504, .. }),
        "{err:?}"
    );
    assert!(err.is_transient());
}

#[tokio::test]
async fn sandbox_backend_error_envelope_is_api_error_9() {
    let sb = start().await;
    let (client, _) = sb.client();
    sb.h.add_faults([FaultRule::new(SINGLE, FaultKind::Status)]);
    let err = client.check_by_md5(&"c".repeat(32)).await.unwrap_err();
    assert!(matches!(err, BakongError::Api { code: 9, .. }), "{err:?}");
    assert_eq!(client.requests_made(), 3);
}

#[tokio::test]
async fn a_hanging_answer_times_out_and_is_retried() {
    let sb = start().await;
    let mut s = settings(&sb.h.bakong_base_url(), Some(EMAIL));
    s.timeout = Duration::from_millis(300);
    let (client, _) = sb.client_with(s);
    let code = sb.usd("1", "H-1");
    sb.h.add_faults([FaultRule {
        hang_ms: 2_000,
        ..FaultRule::new(SINGLE, FaultKind::Hang)
    }
    .times(1)]);
    assert_eq!(
        client.check_by_md5(&code.md5).await.unwrap(),
        CheckOutcome::NotFound
    );
    assert_eq!(client.requests_made(), 2);
    sb.h.add_faults([FaultRule {
        hang_ms: 2_000,
        ..FaultRule::new(SINGLE, FaultKind::Hang)
    }]);
    let err = client.check_by_md5(&code.md5).await.unwrap_err();
    assert!(
        matches!(
            err,
            BakongError::Unknown {
                timed_out: true,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn connection_reset_is_unknown() {
    let sb = start().await;
    let (client, _) = sb.client();
    sb.h.add_faults([FaultRule::new(SINGLE, FaultKind::Reset)]);
    let err = client.check_by_md5(&"d".repeat(32)).await.unwrap_err();
    assert!(matches!(err, BakongError::Unknown { .. }), "{err:?}");
    assert_eq!(client.requests_made(), 3);
}

#[tokio::test]
async fn connection_refused_is_unreachable() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let log = std::sync::Arc::new(Log::default());
    let client = till_bakong::BakongClient::new(
        settings(&format!("http://127.0.0.1:{port}"), Some(EMAIL)),
        "tok".into(),
        log.clone(),
    )
    .unwrap();
    let err = client.check_by_md5(&"e".repeat(32)).await.unwrap_err();
    assert!(matches!(err, BakongError::Unreachable { .. }), "{err:?}");
    assert_eq!(client.requests_made(), 3);
    assert!(log
        .records()
        .iter()
        .all(|r| r.status.is_none() && r.error.is_some()));
}

#[tokio::test]
async fn empty_success_is_pending_not_paid() {
    let sb = start().await;
    let (client, _) = sb.client();
    let code = sb.usd("1", "E-1");
    sb.pay_code(&code).await;
    // Matches the single and the list endpoint.
    sb.h.add_faults([FaultRule::new(
        "bakong.check_transaction_by_md5*",
        FaultKind::EmptySuccess,
    )]);
    assert_eq!(
        client.check_by_md5(&code.md5).await.unwrap(),
        CheckOutcome::NotFound
    );
    let other = sb.usd("2", "E-2");
    let out = client
        .check_by_md5_list(&[code.md5.clone(), other.md5.clone()])
        .await
        .unwrap();
    assert!(out.iter().all(|(_, o)| *o == CheckOutcome::NotFound));
    sb.h.clear_faults();
    assert!(matches!(
        client.check_by_md5(&code.md5).await.unwrap(),
        CheckOutcome::Paid(_)
    ));
}

#[tokio::test]
async fn forbidden_bulk_falls_back_to_single_checks() {
    let sb = start().await;
    let (client, _) = sb.client();
    let codes: Vec<_> = (0..3).map(|n| sb.usd("1", &format!("G-{n}"))).collect();
    sb.pay_code(&codes[1]).await;
    sb.h.add_faults([FaultRule::new(LIST, FaultKind::Forbidden)]);
    let md5s: Vec<String> = codes.iter().map(|c| c.md5.clone()).collect();
    let out = client.check_by_md5_list(&md5s).await.unwrap();
    assert!(matches!(out[1].1, CheckOutcome::Paid(_)));
    assert_eq!(out[0].1, CheckOutcome::NotFound);
    assert!(client.bulk_unavailable());
    assert_eq!(client.requests_made(), 1 + 3);
    // Forbidden everywhere (geo-block): a clear error for the manager.
    sb.h.add_faults([FaultRule::new(SINGLE, FaultKind::Forbidden)]);
    let err = client.check_by_md5(&md5s[0]).await.unwrap_err();
    assert!(
        matches!(err, BakongError::Http { status: 403, .. }),
        "{err:?}"
    );
    assert!(err.needs_attention());
}

#[tokio::test]
async fn no_record_or_error_holds_a_token() {
    let sb = start().await;
    let (client, log) = sb.client();
    let first = client.token();
    let code = sb.usd("1", "N-1");
    sb.pay_code(&code).await;
    sb.h.add_faults([
        FaultRule::new(SINGLE, FaultKind::TokenExpired).times(1),
        FaultRule::new("bakong.renew_token", FaultKind::Malformed).times(1),
    ]);
    assert!(matches!(
        client.check_by_md5(&code.md5).await.unwrap(),
        CheckOutcome::Paid(_)
    ));
    let second = client.token();
    sb.h.add_faults([FaultRule::new(LIST, FaultKind::TokenExpired).times(1)]);
    client
        .check_by_md5_list(&[code.md5.clone(), "f".repeat(32)])
        .await
        .unwrap();
    let third = client.token();
    let mut errors = Vec::new();
    sb.h.add_faults([FaultRule::new(SINGLE, FaultKind::Malformed)]);
    errors.push(client.check_by_md5(&code.md5).await.unwrap_err());
    sb.h.clear_faults();
    sb.h.add_faults([FaultRule::new(SINGLE, FaultKind::TokenExpired)]);
    errors.push(client.check_by_md5(&code.md5).await.unwrap_err());

    let all = serde_json::to_string(&log.records()).unwrap();
    let texts: String = errors.iter().map(|e| format!("{e} {e:?}")).collect();
    for t in [&first, &second, &third, &client.token()] {
        assert!(!t.is_empty());
        assert!(!all.contains(t.as_str()), "token in call records");
        assert!(!texts.contains(t.as_str()), "token in an error");
        // Not even the signature part.
        let sig = t.rsplit('.').next().unwrap();
        assert!(!all.contains(sig));
    }
    assert!(all.contains("bakong.renew_token"));
    assert!(log.records().len() >= 8);
}
