//! The whole payment against the sandbox: start → the customer's page →
//! callback (a hint) → verify (the proof); and every way it is refused.

use crate::util::*;
use till_nagad::*;
use till_sandbox::Config;

#[tokio::test]
async fn start_page_callback_verify_is_paid_with_the_exact_amount() {
    let env = start().await;
    let started = env.start("T1-000001", "250.50").await;
    assert_eq!(started.order_id, "T1-000001");
    assert_eq!(started.amount, dec("250.50"));
    assert!(is_payment_ref_id(&started.payment_ref_id));
    assert_eq!(started.accepted_at.as_deref().map(str::len), Some(14));

    // Not paid before the customer acts.
    let before = env.client.verify(&started.payment_ref_id).await.unwrap();
    assert_eq!(before.outcome, Outcome::Pending);
    assert_eq!(before.raw_status, "Ready");

    let redirect = env.customer_pays(&started).await;
    assert!(is_callback(&redirect, &callback_base()));
    let cb = parse_callback(&redirect, &callback_base()).unwrap();
    assert_eq!(cb.status, CallbackStatus::Success);
    assert_eq!(cb.payment_ref_id, started.payment_ref_id);
    assert_eq!(cb.order_id.as_deref(), Some("T1-000001"));

    // The hint says success; verify is the proof.
    let v = env.client.verify(&cb.payment_ref_id).await.unwrap();
    let Outcome::Paid {
        amount,
        issuer_ref,
        paid_at,
    } = &v.outcome
    else {
        panic!("not paid: {v:?}");
    };
    assert_eq!(*amount, dec("250.50"));
    assert_eq!(amount.to_string(), "250.50");
    assert!(v.is_paid_with(dec("250.5")));
    assert!(!v.is_paid_with(dec("250.51")));
    assert_eq!(Some(issuer_ref.as_str()), cb.issuer_payment_ref.as_deref());
    assert!(paid_at.is_some());
    assert_eq!(v.order_id.as_deref(), Some("T1-000001"));
    assert_eq!(v.client_mobile.as_deref(), Some("017****1111"));
    assert_eq!(
        env.ledger_payment(&started.payment_ref_id)["status"],
        "Success"
    );

    // One call each, named, with nothing secret in the log.
    assert_eq!(env.log.count("nagad.initialize"), 1);
    assert_eq!(env.log.count("nagad.complete"), 1);
    assert_eq!(env.log.count("nagad.verify"), 2);
    let all = serde_json::to_string(&env.log.all()).unwrap();
    for secret in ["MII", "PRIVATE KEY", "\"challenge\":\""] {
        assert!(!all.contains(secret), "{secret} in the call log");
    }
    let init = &env.log.all()[0];
    let body = init.request_body.as_ref().unwrap();
    assert_eq!(body["sensitiveData"], "***");
    assert_eq!(body["signature"], "***");
    assert_eq!(body["accountNumber"], "01700000017");
    assert_eq!(init.response_body.as_ref().unwrap()["sensitiveData"], "***");
    assert_eq!(init.provider, "nagad");
    env.sb.shutdown().await;
}

#[tokio::test]
async fn a_cancelled_page_is_aborted_and_failed() {
    let env = start().await;
    let started = env.start("T1-000002", "99.00").await;
    let cb = parse_callback(&env.customer_cancels(&started).await, &callback_base()).unwrap();
    assert_eq!(cb.status, CallbackStatus::Aborted);
    let v = env.client.verify(&started.payment_ref_id).await.unwrap();
    assert!(
        matches!(&v.outcome, Outcome::Failed { reason, .. } if reason == "Aborted"),
        "{v:?}"
    );
    assert!(!v.is_paid());
    env.sb.shutdown().await;
}

#[tokio::test]
async fn a_wrong_pin_and_an_empty_wallet_fail() {
    let env = start().await;
    let started = env.start("T1-000003", "10.00").await;
    let cb = parse_callback(
        &env.customer(&started, WALLET, OTP, "0000").await,
        &callback_base(),
    )
    .unwrap();
    assert_eq!(cb.status, CallbackStatus::Aborted);
    let v = env.client.verify(&started.payment_ref_id).await.unwrap();
    assert!(v.is_failed(), "{v:?}");

    let started = env.start("T1-000004", "10.00").await;
    let cb = parse_callback(
        &env.customer(&started, "01799999991", OTP, PIN).await,
        &callback_base(),
    )
    .unwrap();
    assert_eq!(cb.status, CallbackStatus::Failed);
    let v = env.client.verify(&started.payment_ref_id).await.unwrap();
    assert!(
        matches!(&v.outcome, Outcome::Failed { reason, code: Some(_) } if reason == "Failed"),
        "{v:?}"
    );
    env.sb.shutdown().await;
}

#[tokio::test]
async fn a_forged_success_callback_is_not_a_payment() {
    let env = start().await;
    let started = env.start("T1-000005", "10.00").await;
    // Someone types the success redirect before paying.
    let forged = url::Url::parse(&format!(
        "{CALLBACK}&payment_ref_id={}&status=Success&status_code=00_0000_000",
        url::form_urlencoded::byte_serialize(started.payment_ref_id.as_bytes()).collect::<String>()
    ))
    .unwrap();
    let cb = parse_callback(&forged, &callback_base()).unwrap();
    assert_eq!(cb.status, CallbackStatus::Success);
    let v = env.client.verify(&cb.payment_ref_id).await.unwrap();
    assert_eq!(v.outcome, Outcome::Pending);
    env.sb.shutdown().await;
}

#[tokio::test]
async fn a_wrong_nagad_key_or_merchant_key_is_refused_before_anything_starts() {
    let env = start_with(Config::default(), |_, c| {
        c.nagad_key = NagadPublicKey::from_pem(STRANGER_PUBLIC).unwrap();
    })
    .await;
    let e = env
        .client
        .start("T1-000010", dec("10.00"), CALLBACK)
        .await
        .unwrap_err();
    assert_eq!(e.reason(), Some("DecryptionError"), "{e}");
    assert!(matches!(
        e,
        NagadError::Refused {
            endpoint: Endpoint::Initialize,
            http_status: 400,
            ..
        }
    ));
    assert_eq!(e.resolution(), Resolution::Failed);
    assert_eq!(env.log.count("nagad.complete"), 0);
    env.sb.shutdown().await;

    let env = start_with(Config::default(), |_, c| {
        c.merchant_key = MerchantPrivateKey::from_pem(STRANGER_PRIVATE).unwrap();
    })
    .await;
    let e = env
        .client
        .start("T1-000010", dec("10.00"), CALLBACK)
        .await
        .unwrap_err();
    assert_eq!(e.reason(), Some("SignatureVerificationFailed"), "{e}");
    assert!(env.sb.ledger()["nagad"]["payments"]
        .as_array()
        .unwrap()
        .is_empty());
    env.sb.shutdown().await;
}

#[tokio::test]
async fn an_answer_not_signed_by_nagad_is_refused() {
    let cfg = Config::from_toml("[nagad]\nanswer_signature = \"wrong_key\"\n").unwrap();
    let env = start_with(cfg, |_, _| {}).await;
    let e = env
        .client
        .start("T1-000011", dec("10.00"), CALLBACK)
        .await
        .unwrap_err();
    assert_eq!(
        e,
        NagadError::Protocol {
            endpoint: Endpoint::Initialize,
            problem: Problem::BadSignature
        }
    );
    // No payment reference, no page: nothing can be paid.
    assert_eq!(e.resolution(), Resolution::Failed);
    assert_eq!(env.log.count("nagad.complete"), 0);
    env.sb.shutdown().await;

    let cfg = Config::from_toml("[nagad]\nanswer_signature = \"missing\"\n").unwrap();
    let env = start_with(cfg.clone(), |_, _| {}).await;
    let e = env
        .client
        .start("T1-000012", dec("10.00"), CALLBACK)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            NagadError::Protocol {
                problem: Problem::Missing("signature"),
                ..
            }
        ),
        "{e}"
    );
    env.sb.shutdown().await;
    // Only with the check turned off does an unsigned answer pass.
    let env = start_with(cfg, |s, _| s.verify_signatures = false).await;
    env.start("T1-000012", "10.00").await;
    env.sb.shutdown().await;
}

#[tokio::test]
async fn an_order_with_an_open_page_cannot_start_again() {
    let env = start().await;
    env.start("T1-000020", "10.00").await;
    let e = env
        .client
        .start("T1-000020", dec("10.00"), CALLBACK)
        .await
        .unwrap_err();
    assert_eq!(e.reason(), Some("DuplicateOrderId"), "{e}");
    env.sb.shutdown().await;
}

#[tokio::test]
async fn an_unknown_reference_is_refused_and_the_connection_test_reaches_nagad() {
    let env = start().await;
    let e = env.client.verify("QUJDREVG").await.unwrap_err();
    assert_eq!(e.reason(), Some("InvalidReferenceId"));
    assert_eq!(env.log.count("nagad.verify"), 1, "a refusal is not retried");
    let t = env.client.test_connection().await.unwrap();
    assert_eq!(t.http_status, 400);
    assert_eq!(t.reason.as_deref(), Some("InvalidReferenceId"));
    env.sb.shutdown().await;
}
