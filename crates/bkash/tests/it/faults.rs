//! Transport faults, gateway errors and garbled bodies: what is retried, what
//! is an unknown outcome, and that the payment is then settled by status.

use crate::util::*;
use std::time::{Duration, Instant};
use till_bkash::*;
use till_sandbox::{FaultKind, FaultRule};

/// create → page → callback, ready to execute.
async fn verified(env: &Env, amount: &str, invoice: &str) -> String {
    let c = env.create(amount, invoice).await;
    let cb = parse_callback(&env.customer_pays(&c).await, &callback_base()).unwrap();
    assert_eq!(cb.status, CallbackStatus::Success);
    cb.payment_id
}

#[tokio::test]
async fn execute_that_debits_then_hangs_is_outcome_unknown_and_status_settles() {
    let env = start_with(config(), |s| s.timeout = Duration::from_millis(800)).await;
    let pid = verified(&env, "420.50", "INV-HANG").await;
    let mut rule = FaultRule::new("bkash.execute", FaultKind::Hang)
        .after()
        .times(1);
    rule.hang_ms = 5_000;
    env.fault(rule);
    let e = env.client.execute_payment(&pid).await.unwrap_err();
    assert!(matches!(e, BkashError::OutcomeUnknown { .. }), "{e}");
    assert_eq!(e.resolution(), Resolution::AskStatus);
    // Never retried by the client.
    assert_eq!(env.log.count("bkash.execute"), 1);
    // The money moved: status (not a second execute) says so.
    let q = env.client.query_payment(&pid).await.unwrap();
    assert!(q.is_completed(), "{q:?}");
    assert_eq!(q.amount, Some(dec("420.50")));
    assert_eq!(env.ledger_payment(&pid)["transactionStatus"], "Completed");
}

#[tokio::test]
async fn execute_reset_after_commit_is_outcome_unknown() {
    let env = start().await;
    let pid = verified(&env, "99.99", "INV-RESET").await;
    env.fault(
        FaultRule::new("bkash.execute", FaultKind::Reset)
            .after()
            .times(1),
    );
    let e = env.client.execute_payment(&pid).await.unwrap_err();
    assert!(matches!(e, BkashError::OutcomeUnknown { .. }), "{e}");
    assert_eq!(env.log.count("bkash.execute"), 1);
    let q = env.client.query_payment(&pid).await.unwrap();
    assert!(q.is_completed());
    // A second execute would not double-charge, but it is refused.
    let again = env.client.execute_payment(&pid).await.unwrap_err();
    assert!(again.is_already_executed());
}

#[tokio::test]
async fn execute_truncated_body_is_outcome_unknown() {
    let env = start().await;
    let pid = verified(&env, "12.00", "INV-TRUNC").await;
    env.fault(
        FaultRule::new("bkash.execute", FaultKind::Malformed)
            .after()
            .times(1),
    );
    let e = env.client.execute_payment(&pid).await.unwrap_err();
    assert!(matches!(e, BkashError::OutcomeUnknown { .. }), "{e}");
    assert_eq!(env.log.count("bkash.execute"), 1);
    assert!(env.client.query_payment(&pid).await.unwrap().is_completed());
}

#[tokio::test]
async fn execute_gateway_503_is_outcome_unknown_not_retried() {
    let env = start().await;
    let pid = verified(&env, "13.00", "INV-503").await;
    env.fault(FaultRule::new("bkash.execute", FaultKind::Status).times(1));
    let e = env.client.execute_payment(&pid).await.unwrap_err();
    assert!(matches!(e, BkashError::OutcomeUnknown { .. }), "{e}");
    assert_eq!(env.log.count("bkash.execute"), 1);
    // Nothing happened (the fault answered first); status says Initiated, so
    // the core may execute again after asking.
    let q = env.client.query_payment(&pid).await.unwrap();
    assert_eq!(q.status, BkashStatus::Initiated);
    assert!(q.is_verified());
}

#[tokio::test]
async fn execute_system_error_9999_asks_status() {
    let env = start().await;
    let pid = verified(&env, "14.00", "INV-9999").await;
    env.fault(FaultRule::business("bkash.execute", "9999").times(1));
    let e = env.client.execute_payment(&pid).await.unwrap_err();
    assert_eq!(e.code(), Some("9999"));
    assert!(e.is_transient());
    assert_eq!(e.resolution(), Resolution::AskStatus);
    assert_eq!(env.log.count("bkash.execute"), 1);
}

#[tokio::test]
async fn query_honours_retry_after_on_429() {
    let env = start().await;
    let c = env.create("15", "INV-429").await;
    let mut rule = FaultRule::new("bkash.status", FaultKind::RateLimit).times(1);
    rule.retry_after_secs = 1;
    env.fault(rule);
    let t = Instant::now();
    let q = env.client.query_payment(&c.payment_id).await.unwrap();
    assert_eq!(q.status, BkashStatus::Initiated);
    assert!(
        t.elapsed() >= Duration::from_millis(950),
        "{:?}",
        t.elapsed()
    );
    let statuses: Vec<_> = env
        .log
        .all()
        .into_iter()
        .filter(|r| r.endpoint == "bkash.status")
        .map(|r| (r.status, r.attempt))
        .collect();
    assert_eq!(statuses, vec![(Some(429), 1), (Some(200), 2)]);
}

#[tokio::test]
async fn query_gives_up_on_a_long_retry_after() {
    let env = start_with(config(), |s| s.max_retry_after = Duration::from_secs(2)).await;
    let c = env.create("16", "INV-429-LONG").await;
    let mut rule = FaultRule::new("bkash.status", FaultKind::RateLimit);
    rule.retry_after_secs = 60;
    env.fault(rule);
    let e = env.client.query_payment(&c.payment_id).await.unwrap_err();
    assert_eq!(
        e,
        BkashError::RateLimited {
            retry_after: Some(Duration::from_secs(60))
        }
    );
    assert_eq!(env.log.count("bkash.status"), 1);
}

#[tokio::test]
async fn query_retries_through_503_and_transient_codes() {
    let env = start().await;
    let c = env.create("17", "INV-FLAKY").await;
    env.fault(FaultRule::new("bkash.status", FaultKind::Status).times(1));
    env.fault(FaultRule::business("bkash.status", "503").times(1));
    // The sandbox applies one fault per request; these two fire on tries 1 and 2.
    let q = env.client.query_payment(&c.payment_id).await.unwrap();
    assert_eq!(q.status, BkashStatus::Initiated);
    assert_eq!(env.log.count("bkash.status"), 3);
}

#[tokio::test]
async fn malformed_query_is_retried_then_protocol_error() {
    let env = start().await;
    let c = env.create("18", "INV-MALFORMED").await;
    env.fault(FaultRule::new("bkash.status", FaultKind::Malformed));
    let e = env.client.query_payment(&c.payment_id).await.unwrap_err();
    assert!(matches!(e, BkashError::Protocol { .. }), "{e}");
    let attempts: Vec<u32> = env
        .log
        .all()
        .into_iter()
        .filter(|r| r.endpoint == "bkash.status")
        .map(|r| r.attempt)
        .collect();
    assert_eq!(attempts, vec![1, 2, 3]);
}

#[tokio::test]
async fn malformed_execute_is_outcome_unknown() {
    let env = start().await;
    let pid = verified(&env, "19", "INV-MALFORMED-EXEC").await;
    env.fault(FaultRule::new("bkash.execute", FaultKind::Malformed).times(1));
    let e = env.client.execute_payment(&pid).await.unwrap_err();
    assert!(matches!(e, BkashError::OutcomeUnknown { .. }), "{e}");
    assert_eq!(env.log.count("bkash.execute"), 1);
}

#[tokio::test]
async fn html_403_is_rejected_not_retried() {
    let env = start().await;
    let c = env.create("20", "INV-403").await;
    env.fault(FaultRule::new("bkash.status", FaultKind::Forbidden));
    let e = env.client.query_payment(&c.payment_id).await.unwrap_err();
    assert!(matches!(e, BkashError::Rejected { status: 403, .. }), "{e}");
    assert_eq!(env.log.count("bkash.status"), 1);
}

#[tokio::test]
async fn connection_refused_is_unreachable() {
    // A port nobody listens on: bind, note it, close.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let log = std::sync::Arc::new(MemLog::default());
    let client = BkashClient::new(
        settings(&format!("http://127.0.0.1:{port}/v1.2.0-beta")),
        creds(),
        log.clone(),
    )
    .unwrap();
    let e = client
        .query_payment("TR0011abc1700000000000")
        .await
        .unwrap_err();
    assert!(matches!(e, BkashError::Unreachable { .. }), "{e}");
    assert_eq!(e.resolution(), Resolution::RetryLater);
    let e = client
        .execute_payment("TR0011abc1700000000000")
        .await
        .unwrap_err();
    assert!(matches!(e, BkashError::Unreachable { .. }), "{e}");
    // Refused connections are not token calls: the budget is untouched.
    assert_eq!(client.token_grants(), 0);
    assert!(log
        .all()
        .iter()
        .all(|r| r.status.is_none() && r.error.is_some()));
}
