//! Refunds through the v2 API: full, partial, over-refund, status, faults.

use crate::util::*;
use till_bkash::*;
use till_sandbox::{FaultKind, FaultRule};

fn refund_req(c: &Created, e: &Executed, amount: &str) -> RefundRequest {
    RefundRequest {
        payment_id: c.payment_id.clone(),
        trx_id: e.trx_id.clone(),
        amount: dec(amount),
        sku: "SKU-1".into(),
        reason: "customer returned item".into(),
    }
}

#[tokio::test]
async fn full_refund() {
    let env = start().await;
    let (c, e) = env.paid("250", "INV-FULL").await;
    assert!(env
        .client
        .refund_status(&c.payment_id, &e.trx_id)
        .await
        .unwrap()
        .is_empty());
    let r = env.client.refund(&refund_req(&c, &e, "250")).await.unwrap();
    assert_eq!(r.status, RefundStatus::Completed);
    assert_eq!(r.amount, dec("250.00"));
    assert_eq!(r.original_trx_id, e.trx_id);
    assert_eq!(r.original_trx_amount, Some(dec("250")));
    assert_ne!(r.refund_trx_id, e.trx_id);
    let list = env
        .client
        .refund_status(&c.payment_id, &e.trx_id)
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].refund_trx_id, r.refund_trx_id);
    assert_eq!(list[0].status, RefundStatus::Completed);
    // The refund transaction is searchable too.
    let s = env
        .client
        .search_transaction(&r.refund_trx_id)
        .await
        .unwrap();
    assert_eq!(s.amount, Some(dec("250")));
    assert_eq!(s.original_trx_amount, Some(dec("250")));
    // Nothing left: another refund is refused.
    let err = env
        .client
        .refund(&refund_req(&c, &e, "0.01"))
        .await
        .unwrap_err();
    assert!(err.is_refund_too_large(), "{err}");
}

#[tokio::test]
async fn two_partials_then_over_refund_refused() {
    let env = start().await;
    let (c, e) = env.paid("1000.00", "INV-PARTIAL").await;
    let r1 = env.client.refund(&refund_req(&c, &e, "300")).await.unwrap();
    let r2 = env
        .client
        .refund(&refund_req(&c, &e, "200.50"))
        .await
        .unwrap();
    assert_eq!(r1.amount, dec("300"));
    assert_eq!(r2.amount, dec("200.50"));
    assert_ne!(r1.refund_trx_id, r2.refund_trx_id);
    // 499.50 left; 499.51 is refused with bKash's code.
    let err = env
        .client
        .refund(&refund_req(&c, &e, "499.51"))
        .await
        .unwrap_err();
    match &err {
        BkashError::Business { code, .. } => assert_eq!(code, "2072"),
        other => panic!("{other}"),
    }
    assert!(err.is_refund_too_large());
    assert_eq!(err.resolution(), Resolution::Failed);
    assert!(err.cashier_message().contains("refund amount"));
    // More than the original is 2026.
    let err = env
        .client
        .refund(&refund_req(&c, &e, "1000.01"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("2026"));

    let list = env
        .client
        .refund_status(&c.payment_id, &e.trx_id)
        .await
        .unwrap();
    let total: rust_decimal::Decimal = list.iter().map(|r| r.amount).sum();
    assert_eq!(list.len(), 2);
    assert_eq!(total, dec("500.50"));
    let s = env.client.search_transaction(&e.trx_id).await.unwrap();
    assert_eq!(s.max_refundable, Some(dec("499.50")));
}

#[tokio::test]
async fn refund_of_unexecuted_payment_refused() {
    let env = start().await;
    let c = env.create("60", "INV-NOREFUND").await;
    let err = env
        .client
        .refund(&RefundRequest {
            payment_id: c.payment_id.clone(),
            trx_id: "AAA00AAAAA".into(),
            amount: dec("10"),
            sku: String::new(),
            reason: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("2127"), "{err}");
}

#[tokio::test]
async fn refund_timeout_after_commit_is_unknown_and_status_resolves_it() {
    let env = start_with(config(), |s| {
        s.timeout = std::time::Duration::from_millis(800)
    })
    .await;
    let (c, e) = env.paid("80", "INV-REFUND-HANG").await;
    let mut rule = FaultRule::new("bkash.refund_v2", FaultKind::Hang)
        .after()
        .times(1);
    rule.hang_ms = 5_000;
    env.fault(rule);
    let err = env
        .client
        .refund(&refund_req(&c, &e, "30"))
        .await
        .unwrap_err();
    assert!(matches!(err, BkashError::OutcomeUnknown { .. }), "{err}");
    assert_eq!(err.resolution(), Resolution::AskStatus);
    assert_eq!(env.log.count("bkash.refund_v2"), 1);
    let list = env
        .client
        .refund_status(&c.payment_id, &e.trx_id)
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].amount, dec("30"));
}

#[tokio::test]
async fn refund_amount_with_three_decimals_is_refused_locally() {
    let env = start().await;
    let (c, e) = env.paid("90", "INV-REFUND-DP").await;
    let n = env.log.all().len();
    let err = env
        .client
        .refund(&refund_req(&c, &e, "1.005"))
        .await
        .unwrap_err();
    assert!(matches!(err, BkashError::Invalid { .. }), "{err}");
    assert_eq!(env.log.all().len(), n);
}
