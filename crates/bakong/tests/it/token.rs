//! Token expiry and renewal: renew once and replay; renewal failures.

use crate::util::*;
use till_bakong::{BakongError, CheckOutcome};
use till_sandbox::{FaultKind, FaultRule};

#[tokio::test]
async fn revoked_token_is_renewed_once_and_the_call_replayed() {
    let sb = start().await;
    let (client, log) = sb.client();
    let old = client.token();
    let code = sb.usd("5", "K-1");
    let hash = sb.pay_code(&code).await;
    sb.h.add_faults([
        FaultRule::new("bakong.check_transaction_by_md5", FaultKind::TokenExpired).times(1),
    ]);

    let CheckOutcome::Paid(t) = client.check_by_md5(&code.md5).await.unwrap() else {
        panic!()
    };
    assert_eq!(t.hash, hash);
    assert_ne!(client.token(), old);
    assert_eq!(client.token_generation(), 1);
    assert_eq!(client.requests_made(), 3);
    let eps: Vec<(String, Option<u16>)> = log
        .records()
        .iter()
        .map(|r| (r.endpoint.clone(), r.status))
        .collect();
    assert_eq!(
        eps,
        [
            ("bakong.check_by_md5".to_string(), Some(401)),
            ("bakong.renew_token".to_string(), Some(200)),
            ("bakong.check_by_md5".to_string(), Some(200)),
        ]
    );
    // The bulk call renews the same way.
    sb.h.add_faults([FaultRule::new(
        "bakong.check_transaction_by_md5_list",
        FaultKind::TokenExpired,
    )
    .times(1)]);
    let other = sb.usd("6", "K-2");
    let out = client
        .check_by_md5_list(&[code.md5.clone(), other.md5.clone()])
        .await
        .unwrap();
    assert!(matches!(out[0].1, CheckOutcome::Paid(_)));
    assert_eq!(client.token_generation(), 2);
}

#[tokio::test]
async fn token_past_its_lifetime_is_renewed() {
    let sb = start().await;
    let (client, _) = sb.client();
    sb.h.clock()
        .advance(std::time::Duration::from_secs(91 * 86_400));
    let code = sb.usd("5", "L-1");
    assert_eq!(
        client.check_by_md5(&code.md5).await.unwrap(),
        CheckOutcome::NotFound
    );
    assert_eq!(client.token_generation(), 1);
}

#[tokio::test]
async fn concurrent_refusals_renew_once() {
    let sb = start().await;
    let (client, _) = sb.client();
    sb.h.clock()
        .advance(std::time::Duration::from_secs(91 * 86_400));
    let code = sb.usd("5", "C-1");
    let calls = (0..4).map(|_| {
        let c = client.clone();
        let m = code.md5.clone();
        tokio::spawn(async move { c.check_by_md5(&m).await })
    });
    for h in calls {
        assert_eq!(h.await.unwrap().unwrap(), CheckOutcome::NotFound);
    }
    assert_eq!(client.token_generation(), 1);
}

#[tokio::test]
async fn renewal_failures() {
    let sb = start().await;
    let base = sb.h.bakong_base_url();
    let (client, _) = sb.client_with(settings(&base, None));
    let (client2, log) = sb.client_with(settings(&base, Some("nobody@x.test")));
    sb.h.clock()
        .advance(std::time::Duration::from_secs(91 * 86_400));
    let md5 = "0".repeat(32);

    // No e-mail: TokenExpired, one request, no renewal.
    assert_eq!(
        client.check_by_md5(&md5).await.unwrap_err(),
        BakongError::TokenExpired
    );
    assert_eq!(client.requests_made(), 1);
    assert!(client.renew_token().await.is_err());

    // Unregistered e-mail: Unauthorized with errorCode 10's meaning.
    let client = client2;
    let old = client.token();
    let err = client.check_by_md5(&md5).await.unwrap_err();
    let BakongError::Unauthorized { message } = &err else {
        panic!("{err:?}")
    };
    assert!(message.contains("not registered"), "{message}");
    assert!(err.needs_attention());
    assert_eq!(client.token(), old, "a failed renewal keeps the old token");
    assert_eq!(client.requests_made(), 2);
    assert!(matches!(
        client.renew_token().await,
        Err(BakongError::Unauthorized { .. })
    ));
    let body = serde_json::to_string(&log.records()).unwrap();
    assert!(!body.contains(&old));

    // Renewal works but the new token is refused too: Unauthorized, no loop.
    let (client, _) = sb.client_with(settings(&base, Some(EMAIL)));
    sb.h.add_faults([
        FaultRule::new("bakong.check_transaction_by_md5", FaultKind::TokenExpired).times(2),
    ]);
    let err = client.check_by_md5(&md5).await.unwrap_err();
    assert!(matches!(err, BakongError::Unauthorized { .. }), "{err:?}");
    assert_eq!(client.requests_made(), 3);
}

#[tokio::test]
async fn explicit_renewal_replaces_the_token() {
    let sb = start().await;
    let (client, log) = sb.client();
    let old = client.token();
    client.renew_token().await.unwrap();
    let new = client.token();
    assert_ne!(new, old);
    assert_eq!(new.split('.').count(), 3);
    // The sandbox issues 90-day JWTs; the client reads `exp` without verifying.
    let exp = client.token_expires_at_ms().unwrap();
    let now = sb.h.clock().now_ms() as i64;
    let ninety_days = 90 * 86_400_000;
    assert!((exp - now - ninety_days).abs() < 5_000, "{exp} vs {now}");
    let r = &log.records()[0];
    assert_eq!(r.endpoint, "bakong.renew_token");
    assert_eq!(r.response_body.as_ref().unwrap()["data"]["token"], "***");
    assert!(!serde_json::to_string(r).unwrap().contains(&new));
    assert!(!format!("{client:?}").contains(&new));
}
