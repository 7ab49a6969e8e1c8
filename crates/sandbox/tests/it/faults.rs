//! Every fault kind, observed by a client over real HTTP.

use crate::util::*;
use serde_json::json;
use std::time::{Duration, Instant};
use till_sandbox::{Config, FaultKind, FaultRule};

#[tokio::test]
async fn status_and_rate_limit_and_business_error() {
    let sb = start().await;
    let token = sb.grant().await;
    sb.add_fault(json!({"endpoint": "bkash.status", "kind": "status", "status": 503, "times": 1}))
        .await;
    let (s, v) = sb
        .bk("payment/status", &token, json!({"paymentID": "x"}))
        .await;
    assert_eq!((s, v), (503, json!({"message": "Service Unavailable"})));
    // One-shot: the next call is normal again.
    let (s, _) = sb
        .bk("payment/status", &token, json!({"paymentID": "x"}))
        .await;
    assert_eq!(s, 200);

    sb.add_fault(
        json!({"endpoint": "bakong.*", "kind": "rate_limit", "retry_after_secs": 7, "times": 1}),
    )
    .await;
    let r = sb
        .http
        .post(format!(
            "{}/v1/check_transaction_by_md5",
            sb.h.bakong_base_url()
        ))
        .json(&json!({"md5": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "7");

    sb.add_fault(
        json!({"endpoint": "bkash.execute", "kind": "business_error", "code": "9999", "times": 1}),
    )
    .await;
    let (s, v) = sb.bk("execute", &token, json!({"paymentID": "x"})).await;
    assert_eq!(
        (s, v),
        (
            200,
            json!({"statusCode": "9999", "statusMessage": "System Error."})
        )
    );

    let bt = sb.h.bakong_token();
    sb.add_fault(json!({"endpoint": "bakong.check_transaction_by_md5", "kind": "status", "status": 500, "times": 1})).await;
    let (s, v) = sb
        .bakong("check_transaction_by_md5", Some(&bt), json!({"md5": "x"}))
        .await;
    assert_eq!((s, &v["errorCode"]), (500, &json!(9)));
    sb.add_fault(
        json!({"endpoint": "bakong.check_transaction_by_md5", "kind": "forbidden", "times": 1}),
    )
    .await;
    let (s, v) = sb
        .bakong("check_transaction_by_md5", Some(&bt), json!({"md5": "x"}))
        .await;
    assert_eq!(s, 403);
    assert!(v.as_str().unwrap().contains("<html>"), "non-JSON body");
    sb.add_fault(
        json!({"endpoint": "bakong.check_transaction_by_md5", "kind": "empty_success", "times": 1}),
    )
    .await;
    let (_, v) = sb
        .bakong("check_transaction_by_md5", Some(&bt), json!({"md5": "x"}))
        .await;
    assert_eq!(
        (v["responseCode"].clone(), v["data"].clone()),
        (json!(0), json!(null))
    );
}

#[tokio::test]
async fn hang_until_the_client_times_out() {
    let sb = start().await;
    let token = sb.grant().await;
    sb.add_fault(json!({"endpoint": "bkash.status", "kind": "hang", "times": 1}))
        .await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = client
        .post(sb.url("/v1.2.0-beta/tokenized/checkout/payment/status"))
        .header("authorization", &token)
        .header("x-app-key", &sb.cfg().bkash.app_key)
        .json(&json!({"paymentID": "x"}))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    // A short hang ends in API Gateway's 504.
    sb.add_fault(json!({"endpoint": "bkash.status", "kind": "hang", "hang_ms": 20, "times": 1}))
        .await;
    let (s, v) = sb
        .bk("payment/status", &token, json!({"paymentID": "x"}))
        .await;
    assert_eq!(
        (s, v),
        (504, json!({"message": "Endpoint request timed out"}))
    );
}

#[tokio::test]
async fn connection_reset_and_malformed_json() {
    let sb = start().await;
    let token = sb.grant().await;
    sb.add_fault(json!({"endpoint": "bkash.status", "kind": "reset", "times": 1}))
        .await;
    let err = sb
        .http
        .post(sb.url("/v1.2.0-beta/tokenized/checkout/payment/status"))
        .header("authorization", &token)
        .header("x-app-key", &sb.cfg().bkash.app_key)
        .json(&json!({"paymentID": "x"}))
        .send()
        .await
        .unwrap_err();
    assert!(!err.is_timeout() && !err.is_status(), "{err:?}");
    // The sandbox keeps serving.
    let (s, _) = sb
        .bk("payment/status", &token, json!({"paymentID": "x"}))
        .await;
    assert_eq!(s, 200);

    sb.add_fault(json!({"endpoint": "bkash.create", "kind": "malformed", "times": 1}))
        .await;
    let r = sb
        .http
        .post(sb.url("/v1.2.0-beta/tokenized/checkout/create"))
        .header("authorization", &token)
        .header("x-app-key", &sb.cfg().bkash.app_key)
        .json(&json!({"mode": "0000", "payerReference": "01770618575", "callbackURL": CALLBACK}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let text = r.text().await.unwrap();
    assert!(
        serde_json::from_str::<serde_json::Value>(&text).is_err(),
        "{text}"
    );
}

#[tokio::test]
async fn token_expired_early_until_refreshed() {
    let sb = start().await;
    let token = sb.grant().await;
    sb.add_fault(json!({"endpoint": "bkash.create", "kind": "token_expired", "times": 1}))
        .await;
    let (s, _) = sb.bk("create", &token, json!({})).await;
    assert_eq!(s, 401);
    let (s, _) = sb
        .bk("payment/status", &token, json!({"paymentID": "x"}))
        .await;
    assert_eq!(s, 401, "the token stays dead");
    let fresh = sb.grant().await;
    let (s, _) = sb
        .bk("payment/status", &fresh, json!({"paymentID": "x"}))
        .await;
    assert_eq!(s, 200);

    let bt = sb.h.bakong_token();
    sb.add_fault(json!({"endpoint": "bakong.*", "kind": "token_expired", "times": 1}))
        .await;
    let (s, v) = sb
        .bakong("check_transaction_by_md5", Some(&bt), json!({"md5": "x"}))
        .await;
    assert_eq!((s, &v["errorCode"]), (401, &json!(6)));
    let (s, _) = sb
        .bakong("check_transaction_by_md5", Some(&bt), json!({"md5": "x"}))
        .await;
    assert_eq!(s, 401);
}

#[tokio::test]
async fn fixed_and_random_latency() {
    let sb = start().await;
    let token = sb.grant().await;
    sb.add_fault(json!({"endpoint": "bkash.status", "kind": "latency", "latency_ms": 150, "jitter_ms": 50, "times": 2})).await;
    for _ in 0..2 {
        let t = Instant::now();
        let (s, _) = sb
            .bk("payment/status", &token, json!({"paymentID": "x"}))
            .await;
        assert_eq!(s, 200);
        let e = t.elapsed();
        assert!(e >= Duration::from_millis(150), "{e:?}");
    }
    let faults: serde_json::Value = sb
        .http
        .get(sb.url("/sim/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(faults["rules"], json!([]), "exhausted rules are removed");
}

/// "The next execute debits the wallet and then times out": the client must
/// learn the outcome from payment status, and a re-execute never debits twice.
#[tokio::test]
async fn execute_commits_then_times_out() {
    let sb = start().await;
    let token = sb.grant().await;
    let c = sb.create_payment(&token, "300", "T-1", "01619777283").await;
    let pid = c["paymentID"].as_str().unwrap();
    sb.customer_pays(pid, "01619777283").await;
    sb.h.add_faults([FaultRule::new("bkash.execute", FaultKind::Hang)
        .after()
        .times(1)]);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(400))
        .build()
        .unwrap();
    let err = client
        .post(sb.url("/v1.2.0-beta/tokenized/checkout/execute"))
        .header("authorization", &token)
        .header("x-app-key", &sb.cfg().bkash.app_key)
        .json(&json!({"paymentID": pid}))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout());
    let s = sb
        .bk_ok("payment/status", &token, json!({"paymentID": pid}))
        .await;
    assert_eq!(s["transactionStatus"], "Completed");
    assert!(s["trxID"].is_string());
    let again = sb.bk_ok("execute", &token, json!({"paymentID": pid})).await;
    assert_eq!(again["statusCode"], "2117");
    let ledger = sb.ledger().await;
    assert_eq!(
        ledger["bkash"]["payments"][0]["transactionStatus"],
        "Completed"
    );

    // Same with a reset after commit.
    let c = sb.create_payment(&token, "301", "T-2", "01619777283").await;
    let pid = c["paymentID"].as_str().unwrap();
    sb.customer_pays(pid, "01619777283").await;
    sb.add_fault(json!({"endpoint": "bkash.execute", "kind": "reset", "after": true, "times": 1}))
        .await;
    let (ok, _) = (
        sb.http
            .post(sb.url("/v1.2.0-beta/tokenized/checkout/execute"))
            .header("authorization", &token)
            .header("x-app-key", &sb.cfg().bkash.app_key)
            .json(&json!({"paymentID": pid}))
            .send()
            .await
            .is_ok(),
        (),
    );
    assert!(!ok);
    let s = sb
        .bk_ok("payment/status", &token, json!({"paymentID": pid}))
        .await;
    assert_eq!(s["transactionStatus"], "Completed");
}

#[tokio::test]
async fn faults_from_toml_at_start_replay_with_the_seed() {
    let toml = r#"
seed = 77
[[fault]]
endpoint = "bkash.status"
kind = "status"
status = 502
probability = 0.5
"#;
    let pattern = |cfg: Config| async move {
        let sb = start_with(cfg).await;
        let token = sb.grant().await;
        let mut seen = Vec::new();
        for _ in 0..16 {
            let (s, _) = sb
                .bk("payment/status", &token, json!({"paymentID": "x"}))
                .await;
            seen.push(s);
        }
        sb.h.shutdown().await;
        seen
    };
    let a = pattern(Config::from_toml(toml).unwrap()).await;
    let b = pattern(Config::from_toml(toml).unwrap()).await;
    assert_eq!(a, b, "same seed, same failures");
    assert!(a.contains(&502) && a.contains(&200), "{a:?}");
}

/// How many requests a `hold` rule keeps waiting at `endpoint` now.
async fn held(sb: &Sb, endpoint: &str) -> u64 {
    let v: serde_json::Value = sb
        .http
        .get(sb.url("/sim/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["held"][endpoint].as_u64().unwrap_or(0)
}

async fn wait_held(sb: &Sb, endpoint: &str) {
    for _ in 0..500 {
        if held(sb, endpoint).await > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("nothing was held at {endpoint}");
}

async fn release(sb: &Sb, endpoint: &str) -> u64 {
    let v: serde_json::Value = sb
        .http
        .post(sb.url("/sim/faults/release"))
        .json(&json!({ "endpoint": endpoint }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["released"].as_u64().unwrap()
}

#[tokio::test]
async fn hold_orders_calls_until_released() {
    let sb = std::sync::Arc::new(start().await);
    let token = sb.grant().await;
    let (pid, _) = sb
        .paid_checkout(&token, "10.00", "hold-1", "01770618575")
        .await;
    // Before handling: the request waits, then is answered normally.
    sb.add_fault(
        json!({"endpoint": "bkash.status", "kind": "hold", "times": 1, "hang_ms": 60_000}),
    )
    .await;
    let task = {
        let (sb, token, pid) = (sb.clone(), token.clone(), pid.clone());
        tokio::spawn(async move {
            sb.bk("payment/status", &token, json!({ "paymentID": pid }))
                .await
        })
    };
    wait_held(&sb, "bkash.status").await;
    assert!(!task.is_finished(), "a held request is not answered");
    assert_eq!(release(&sb, "bkash.*").await, 1);
    let (s, v) = task.await.unwrap();
    assert_eq!(
        (s, v["transactionStatus"].clone()),
        (200, json!("Completed"))
    );
    assert_eq!(held(&sb, "bkash.status").await, 0);

    // after = true: the effect is committed while the answer is held.
    sb.add_fault(json!({"endpoint": "bkash.create", "kind": "hold", "after": true, "times": 1, "hang_ms": 60_000}))
        .await;
    let task = {
        let (sb, token) = (sb.clone(), token.clone());
        tokio::spawn(async move {
            sb.create_payment(&token, "11.00", "hold-2", "01770618575")
                .await
        })
    };
    wait_held(&sb, "bkash.create").await;
    let ledger = sb.ledger().await.to_string();
    assert!(
        ledger.contains("hold-2"),
        "created while its answer waits: {ledger}"
    );
    assert!(!task.is_finished());
    assert_eq!(release(&sb, "bkash.create").await, 1);
    assert_eq!(task.await.unwrap()["merchantInvoiceNumber"], "hold-2");
    // Releasing what is not held is a no-op.
    assert_eq!(release(&sb, "*").await, 0);
}
