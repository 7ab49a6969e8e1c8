//! Single checks: paid (exact amounts), not paid, failed, a different amount paid.

use crate::util::*;
use rust_decimal::Decimal;
use serde_json::json;
use std::str::FromStr;
use till_bakong::CheckOutcome;

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

#[tokio::test]
async fn paid_code_reports_the_exact_transaction() {
    let sb = start().await;
    let (client, log) = sb.client();
    let code = sb.usd("2.50", "INV-1");

    assert_eq!(
        client.check_by_md5(&code.md5).await.unwrap(),
        CheckOutcome::NotFound
    );
    let hash = sb.pay_code(&code).await;
    let CheckOutcome::Paid(t) = client.check_by_md5(&code.md5).await.unwrap() else {
        panic!("expected paid")
    };
    assert_eq!(t.hash, hash);
    assert_eq!(t.amount, dec("2.5"));
    assert_eq!(t.amount.to_string(), "2.5");
    assert_eq!(t.currency, "USD");
    assert_eq!(t.to_account_id, ACCOUNT);
    assert_eq!(t.from_account_id, PAYER);
    let created = t.created_ms.unwrap();
    assert_eq!(t.acknowledged_ms.unwrap() - created, 1_333);
    assert!(t.external_ref.as_deref().unwrap().starts_with("100FT"));
    assert!(t.instruction_ref.is_some());

    assert_eq!(client.requests_made(), 2);
    let recs = log.records();
    assert_eq!(recs.len(), 2);
    assert!(recs.iter().all(|r| r.endpoint == "bakong.check_by_md5"
        && r.provider == "bakong"
        && r.status == Some(200)
        && r.error.is_none()
        && r.attempt == 1));
    assert_eq!(recs[0].request_body, Some(json!({"md5": code.md5})));
    assert_eq!(
        recs[1].response_body.as_ref().unwrap()["data"]["hash"],
        hash.as_str()
    );
}

#[tokio::test]
async fn amounts_round_trip_exactly() {
    let sb = start().await;
    let (client, _) = sb.client();
    let cases = [
        (khqr::Currency::Khr, "40000"),
        (khqr::Currency::Khr, "100"),
        (khqr::Currency::Usd, "0.1"),
        (khqr::Currency::Usd, "0.3"),
        (khqr::Currency::Usd, "0.07"),
        (khqr::Currency::Usd, "1234567.89"),
        (khqr::Currency::Usd, "19.99"),
    ];
    for (i, (cur, amount)) in cases.iter().enumerate() {
        let code = sb.code(*cur, amount, &format!("A-{i}"), 300);
        sb.pay_code(&code).await;
        let CheckOutcome::Paid(t) = client.check_by_md5(&code.md5).await.unwrap() else {
            panic!("{amount}: expected paid")
        };
        assert_eq!(t.amount, dec(amount), "{amount}");
        assert_eq!(t.amount.to_string(), dec(amount).normalize().to_string());
        assert_eq!(t.currency, cur.alpha());
    }
    // 0.1 + 0.2 is exactly 0.3 here, unlike in f64.
    let a = sb.usd("0.1", "S-1");
    let b = sb.usd("0.2", "S-2");
    sb.pay_code(&a).await;
    sb.pay_code(&b).await;
    let out = client
        .check_by_md5_list(&[a.md5.clone(), b.md5.clone()])
        .await
        .unwrap();
    let sum: Decimal = out
        .iter()
        .map(|(_, o)| match o {
            CheckOutcome::Paid(t) => t.amount,
            other => panic!("{other:?}"),
        })
        .sum();
    assert_eq!(sum, dec("0.3"));
}

#[tokio::test]
async fn failed_payment_is_failed() {
    let sb = start().await;
    let (client, _) = sb.client();
    let code = sb.usd("7", "F-1");
    sb.pay(json!({"qr": code.qr, "fromAccountId": PAYER, "fail": true}))
        .await;
    match client.check_by_md5(&code.md5).await.unwrap() {
        CheckOutcome::Failed { code, message } => {
            assert_eq!(code, 3);
            assert!(message.contains("failed"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    // In bulk too.
    let other = sb.usd("8", "F-2");
    let out = client
        .check_by_md5_list(&[code.md5.clone(), other.md5.clone()])
        .await
        .unwrap();
    assert!(matches!(out[0].1, CheckOutcome::Failed { code: 3, .. }));
    assert_eq!(out[1].1, CheckOutcome::NotFound);
}

#[tokio::test]
async fn a_different_amount_or_currency_is_reported_as_paid() {
    let sb = start().await;
    let (client, _) = sb.client();
    let code = sb.usd("8", "D-1");
    sb.pay(json!({"qr": code.qr, "fromAccountId": PAYER, "amount": "7.99"}))
        .await;
    let CheckOutcome::Paid(t) = client.check_by_md5(&code.md5).await.unwrap() else {
        panic!()
    };
    assert_eq!(t.amount, dec("7.99"));
    assert_eq!(t.currency, "USD");

    let code = sb.code(khqr::Currency::Khr, "40000", "D-2", 300);
    sb.pay(json!({"qr": code.qr, "fromAccountId": PAYER, "amount": "10", "currency": "USD"}))
        .await;
    let CheckOutcome::Paid(t) = client.check_by_md5(&code.md5).await.unwrap() else {
        panic!()
    };
    assert_eq!((t.amount, t.currency.as_str()), (dec("10"), "USD"));
}

#[tokio::test]
async fn static_code_is_an_error_not_an_outcome() {
    let sb = start().await;
    let (client, _) = sb.client();
    let stat = khqr::encode(
        &khqr::KhqrRequest::individual(ACCOUNT, "Till Demo", "Phnom Penh"),
        sb.h.clock().now_ms(),
    )
    .unwrap();
    sb.pay(json!({"qr": stat.qr, "fromAccountId": PAYER, "amount": "4000"}))
        .await;
    let err = client.check_by_md5(&stat.md5).await.unwrap_err();
    assert!(
        matches!(err, till_bakong::BakongError::Api { code: 2, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("static"), "{err}");
}
