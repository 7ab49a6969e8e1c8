//! Transport faults and garbled answers: initialize and complete are never
//! repeated and their outcome is unknown on a timeout; verify is retried.

use crate::util::*;
use std::time::Duration;
use till_nagad::*;
use till_sandbox::{Config, FaultKind, FaultRule};

fn hang(endpoint: &str) -> FaultRule {
    let mut rule = FaultRule::new(endpoint, FaultKind::Hang).after().times(1);
    rule.hang_ms = 5_000;
    rule
}

#[tokio::test]
async fn a_timeout_on_complete_is_unknown_not_failed() {
    let env = start_with(Config::default(), |s, _| {
        s.timeout = Duration::from_millis(800)
    })
    .await;
    env.fault(hang("nagad.complete"));
    let e = env
        .client
        .start("T1-000100", dec("75.00"), CALLBACK)
        .await
        .unwrap_err();
    let NagadError::OutcomeUnknown {
        endpoint: Endpoint::Complete,
        payment_ref_id: Some(pref),
        ..
    } = &e
    else {
        panic!("not an unknown complete: {e:?}");
    };
    assert!(
        matches!(
            e,
            NagadError::OutcomeUnknown {
                cause: Cause::Timeout,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.resolution(), Resolution::AskStatus);
    assert_eq!(e.payment_ref_id(), Some(pref.as_str()));
    // Sent once, never repeated.
    assert_eq!(env.log.count("nagad.complete"), 1);
    // Nagad did complete it (the fault struck after): verify says so, pending.
    assert_eq!(env.ledger_payment(pref)["status"], "Ready");
    let v = env.client.verify(pref).await.unwrap();
    assert_eq!(v.outcome, Outcome::Pending);
    assert_eq!(v.amount, Some(dec("75.00")));
    env.sb.shutdown().await;
}

#[tokio::test]
async fn a_timeout_on_initialize_is_unknown_without_a_reference() {
    let env = start_with(Config::default(), |s, _| {
        s.timeout = Duration::from_millis(800)
    })
    .await;
    env.fault(hang("nagad.initialize"));
    let e = env
        .client
        .start("T1-000101", dec("75.00"), CALLBACK)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            NagadError::OutcomeUnknown {
                endpoint: Endpoint::Initialize,
                payment_ref_id: None,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(env.log.count("nagad.initialize"), 1);
    assert_eq!(env.log.count("nagad.complete"), 0);
    env.sb.shutdown().await;
}

#[tokio::test]
async fn a_server_error_on_complete_is_not_retried() {
    let env = start().await;
    env.fault(FaultRule::new("nagad.complete", FaultKind::Status).times(1));
    let e = env
        .client
        .start("T1-000102", dec("5.00"), CALLBACK)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            NagadError::OutcomeUnknown {
                endpoint: Endpoint::Complete,
                cause: Cause::ServerError {
                    http_status: 503,
                    reason: None
                },
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(env.log.count("nagad.complete"), 1);
    env.sb.shutdown().await;
}

#[tokio::test]
async fn verify_is_retried_through_server_errors_resets_and_garbled_answers() {
    let env = start().await;
    let started = env.start("T1-000103", "10.00").await;
    env.customer_pays(&started).await;
    env.fault(FaultRule::new("nagad.verify", FaultKind::Status).times(1));
    env.fault(FaultRule::new("nagad.verify", FaultKind::Malformed).times(1));
    let v = env.client.verify(&started.payment_ref_id).await.unwrap();
    assert!(v.is_paid_with(dec("10")), "{v:?}");
    assert_eq!(env.log.count("nagad.verify"), 3);

    env.fault(FaultRule::new("nagad.verify", FaultKind::Reset).times(1));
    let v = env.client.verify(&started.payment_ref_id).await.unwrap();
    assert!(v.is_paid());
    assert_eq!(env.log.count("nagad.verify"), 5);
    let attempts: Vec<u32> = env
        .log
        .all()
        .iter()
        .filter(|r| r.endpoint == "nagad.verify")
        .map(|r| r.attempt)
        .collect();
    assert_eq!(attempts, [1, 2, 3, 1, 2]);
    env.sb.shutdown().await;
}

#[tokio::test]
async fn verify_gives_up_after_its_budget() {
    let env = start().await;
    let started = env.start("T1-000104", "10.00").await;
    env.fault(FaultRule::new("nagad.verify", FaultKind::Status));
    let e = env
        .client
        .verify(&started.payment_ref_id)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            NagadError::OutcomeUnknown {
                endpoint: Endpoint::Verify,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(env.log.count("nagad.verify"), 3);
    env.sb.clear_faults();
    // A refusal is an answer: not retried.
    env.fault(FaultRule::business("nagad.verify", "ServerBusy").times(1));
    let e = env
        .client
        .verify(&started.payment_ref_id)
        .await
        .unwrap_err();
    assert_eq!(e.reason(), Some("ServerBusy"));
    assert_eq!(env.log.count("nagad.verify"), 4);
    env.sb.shutdown().await;
}

#[tokio::test]
async fn nothing_listening_is_unreachable_and_safe_to_retry() {
    let env = start().await;
    let base = env.sb.nagad_base_url();
    env.sb.shutdown().await;
    let log = std::sync::Arc::new(MemLog::default());
    let client = NagadClient::new(
        settings(&base),
        NagadCredentials {
            merchant_id: "683000000000017".into(),
            merchant_key: MerchantPrivateKey::from_pem(MERCHANT_PRIVATE).unwrap(),
            nagad_key: NagadPublicKey::from_pem(NAGAD_PUBLIC).unwrap(),
            merchant_number: None,
        },
        log.clone(),
    )
    .unwrap();
    let e = client
        .start("T1-000105", dec("1.00"), CALLBACK)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            NagadError::Unreachable {
                endpoint: Endpoint::Initialize,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.resolution(), Resolution::RetryLater);
    let e = client.test_connection().await.unwrap_err();
    assert!(matches!(e, NagadError::Unreachable { .. }), "{e:?}");
}
