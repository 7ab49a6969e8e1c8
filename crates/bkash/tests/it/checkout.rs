//! The happy path and the execute edge cases.

use crate::util::*;
use till_bkash::*;
use till_sandbox::config::DuplicateInvoice;

#[tokio::test]
async fn happy_path_create_page_callback_execute_query_search() {
    let env = start().await;
    let c = env.create("1234.56", "INV-HAPPY-1").await;
    assert!(c.payment_id.starts_with("TR0011"), "{}", c.payment_id);
    assert_eq!(c.amount, dec("1234.56"));
    assert_eq!(c.currency, "BDT");
    assert_eq!(c.invoice.as_deref(), Some("INV-HAPPY-1"));
    assert!(c.created_at.as_deref().unwrap().contains(" GMT+0600"));
    for u in [
        &c.callback_urls.success,
        &c.callback_urls.failure,
        &c.callback_urls.cancel,
    ] {
        assert!(
            is_callback(&url::Url::parse(u).unwrap(), &callback_base()),
            "{u}"
        );
    }

    // Before the customer acts, the payment is Initiated and unverified.
    let before = env.client.query_payment(&c.payment_id).await.unwrap();
    assert_eq!(before.status, BkashStatus::Initiated);
    assert!(!before.is_verified());
    assert!(!before.is_completed());

    let redirect = env.customer_pays(&c).await;
    assert!(is_callback(&redirect, &callback_base()));
    let cb = parse_callback(&redirect, &callback_base()).unwrap();
    assert_eq!(cb.payment_id, c.payment_id);
    assert_eq!(cb.status, CallbackStatus::Success);
    assert_eq!(cb.signature.as_deref().map(str::len), Some(10));

    let verified = env.client.query_payment(&c.payment_id).await.unwrap();
    assert!(verified.is_verified());
    assert_eq!(verified.status, BkashStatus::Initiated);

    let e = env.client.execute_payment(&c.payment_id).await.unwrap();
    assert_eq!(e.transaction_status, BkashStatus::Completed);
    assert_eq!(e.amount, dec("1234.56"));
    assert_eq!(e.currency, "BDT");
    assert_eq!(e.trx_id.len(), 10);
    assert_eq!(e.invoice.as_deref(), Some("INV-HAPPY-1"));
    assert_eq!(e.customer_msisdn.as_deref(), Some(WALLET));
    assert!(!format!("{e:?}").contains(WALLET), "msisdn masked in Debug");

    let q = env.client.query_payment(&c.payment_id).await.unwrap();
    assert!(q.is_completed());
    assert_eq!(q.trx_id.as_deref(), Some(e.trx_id.as_str()));
    assert_eq!(q.amount, Some(dec("1234.56")));
    assert_eq!(q.currency.as_deref(), Some("BDT"));
    assert_eq!(q.invoice.as_deref(), Some("INV-HAPPY-1"));
    assert_eq!(q.raw_status, "Completed");

    let s = env.client.search_transaction(&e.trx_id).await.unwrap();
    assert_eq!(s.status, BkashStatus::Completed);
    assert_eq!(s.amount, Some(dec("1234.56")));
    assert_eq!(s.trx_id, e.trx_id);
    assert_eq!(s.max_refundable, Some(dec("1234.56")));

    // One grant for the whole flow; every call recorded under its name.
    assert_eq!(env.client.token_grants(), 1);
    assert_eq!(env.log.count("bkash.grant"), 1);
    assert_eq!(env.log.count("bkash.create"), 1);
    assert_eq!(env.log.count("bkash.execute"), 1);
    assert_eq!(env.log.count("bkash.status"), 3);
    assert_eq!(env.log.count("bkash.search"), 1);
    let exec = env
        .log
        .all()
        .into_iter()
        .find(|r| r.endpoint == "bkash.execute")
        .unwrap();
    assert_eq!(exec.payment_ref.as_deref(), Some(c.payment_id.as_str()));
    assert_eq!(exec.status, Some(200));
    assert_eq!(exec.attempt, 1);
}

#[tokio::test]
async fn execute_before_customer_and_after_cancel_is_invalid_state() {
    let env = start().await;
    let c = env.create("50", "INV-EARLY").await;
    let e = env.client.execute_payment(&c.payment_id).await.unwrap_err();
    assert!(e.is_invalid_payment_state(), "{e}");
    assert_eq!(e.resolution(), Resolution::Failed);

    let redirect = env.customer_cancels(&c).await;
    let cb = parse_callback(&redirect, &callback_base()).unwrap();
    assert_eq!(cb.status, CallbackStatus::Cancel);
    let e = env.client.execute_payment(&c.payment_id).await.unwrap_err();
    assert!(e.is_invalid_payment_state(), "{e}");
    let q = env.client.query_payment(&c.payment_id).await.unwrap();
    assert!(!q.is_completed());
}

#[tokio::test]
async fn insufficient_balance_ends_as_failure_callback() {
    let env = start().await;
    let c = env.create("75.00", "INV-POOR").await;
    let redirect = env.customer(&c, "01823074817", "123456", "12121").await;
    let cb = parse_callback(&redirect, &callback_base()).unwrap();
    assert_eq!(cb.status, CallbackStatus::Failure);
    let e = env.client.execute_payment(&c.payment_id).await.unwrap_err();
    assert!(e.is_invalid_payment_state(), "{e}");
}

#[tokio::test]
async fn repeated_execute_is_already_executed_2117() {
    let env = start().await;
    let (c, first) = env.paid("10", "INV-REPEAT").await;
    let e = env.client.execute_payment(&c.payment_id).await.unwrap_err();
    assert!(e.is_already_executed(), "{e}");
    assert_eq!(e.code(), Some("2117"));
    assert_eq!(e.resolution(), Resolution::AskStatus);
    let q = env.client.query_payment(&c.payment_id).await.unwrap();
    assert_eq!(q.trx_id, Some(first.trx_id));
}

#[tokio::test]
async fn repeated_execute_is_already_executed_2062() {
    let mut cfg = config();
    cfg.bkash.repeat_execute_code = "2062".into();
    let env = start_with(cfg, |_| {}).await;
    let (c, _) = env.paid("11", "INV-REPEAT-2").await;
    let e = env.client.execute_payment(&c.payment_id).await.unwrap_err();
    assert!(e.is_already_executed(), "{e}");
    assert_eq!(e.code(), Some("2062"));
}

#[tokio::test]
async fn duplicate_invoice_refused_at_create() {
    let mut cfg = config();
    cfg.bkash.duplicate_invoice = DuplicateInvoice::Create;
    let env = start_with(cfg, |_| {}).await;
    env.create("20", "INV-DUP").await;
    let e = env
        .client
        .create_payment(&CreatePayment::sale(dec("21"), "INV-DUP", CALLBACK, WALLET))
        .await
        .unwrap_err();
    assert!(e.is_duplicate(), "{e}");
    assert_eq!(e.code_class(), Some(codes::CodeClass::Customer));
    assert!(e.cashier_message().contains("duplicate"));
}

#[tokio::test]
async fn duplicate_invoice_refused_on_the_page_by_default() {
    let env = start().await;
    env.paid("30", "INV-DUP-PAGE").await;
    let c = env.create("31", "INV-DUP-PAGE").await;
    let redirect = env.customer_pays(&c).await;
    let cb = parse_callback(&redirect, &callback_base()).unwrap();
    assert_eq!(cb.status, CallbackStatus::Failure);
    // The redirect carries no code; execute refuses and the payment never completes.
    let e = env.client.execute_payment(&c.payment_id).await.unwrap_err();
    assert!(e.is_invalid_payment_state(), "{e}");
    assert!(!env
        .client
        .query_payment(&c.payment_id)
        .await
        .unwrap()
        .is_completed());
}

#[tokio::test]
async fn local_validation_sends_nothing() {
    let env = start().await;
    for (amount, currency) in [
        ("10.001", "BDT"),
        ("0", "BDT"),
        ("-5", "BDT"),
        ("10", "USD"),
    ] {
        let mut req = CreatePayment::sale(dec(amount), "INV-V", CALLBACK, WALLET);
        req.currency = currency.into();
        let e = env.client.create_payment(&req).await.unwrap_err();
        assert!(matches!(e, BkashError::Invalid { .. }), "{e}");
    }
    assert!(env.log.all().is_empty());
    assert_eq!(env.client.token_grants(), 0);
}

#[tokio::test]
async fn unknown_payment_and_trx_are_not_found() {
    let env = start().await;
    let e = env
        .client
        .query_payment("TR0011nope1700000000000")
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e}");
    let e = env
        .client
        .search_transaction("ZZZ00ZZZZZ")
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e}");
    // Explicit answers are not retried.
    assert_eq!(env.log.count("bkash.status"), 1);
}

#[tokio::test]
async fn unexecuted_payment_expires_after_24h() {
    let env = start_with(config(), |s| s.max_grants_per_hour = 5).await;
    let c = env.create("65", "INV-EXPIRE").await;
    env.customer_pays(&c).await;
    env.advance(25 * 3600).await;
    let q = env.client.query_payment(&c.payment_id).await.unwrap();
    assert_eq!(q.status, BkashStatus::Expired);
    assert!(q.status.is_failure());
    let e = env.client.execute_payment(&c.payment_id).await.unwrap_err();
    assert!(e.is_invalid_payment_state(), "{e}");
}
