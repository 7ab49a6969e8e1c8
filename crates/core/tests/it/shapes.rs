//! The engine against the sandbox's other answer shapes (where public
//! sources disagree): bulk items with inline or missing transaction fields,
//! token answers without `statusCode`. Each must settle exactly as the
//! spec's shape does.

use crate::util::*;
use std::time::Duration;
use till_core::{CustomerStep, PaymentState, ProviderKind};
use till_sandbox::config::BulkItemFields;

async fn khqr(r: &Rig, amount: till_core::Amount) -> (String, String) {
    let c = r
        .engine
        .charge(ProviderKind::Bakong, amount, "cashier-1")
        .await
        .unwrap();
    let CustomerStep::Code { code: khqr, .. } = c.step else {
        panic!("expected a KHQR")
    };
    (c.payment.id, khqr)
}

async fn bulk_shape_settles(fields: BulkItemFields) {
    let mut sb = sandbox_config();
    sb.bakong.bulk_item_fields = fields;
    let r = rig_with(sb, &[]).await;
    // Two codes pending, so the poller uses the bulk call.
    let (paid, qr) = khqr(&r, khr("7000")).await;
    let (waiting, _) = khqr(&r, khr("8000")).await;
    let answer = r.bakong_pay(&qr, None).await;
    let p = r
        .wait_state(&paid, PaymentState::Settled, Duration::from_secs(10))
        .await;
    assert_eq!(
        p.refs.transaction.as_deref(),
        answer["hash"].as_str(),
        "{fields:?}"
    );
    assert_eq!(
        r.engine.payment(&waiting).unwrap().state,
        PaymentState::AwaitingCustomer
    );
    let j = crate::bkash::open_journal(&r);
    assert!(j.call_count("bakong.check_by_md5_list").unwrap() >= 1);
    // Which call read the payment is the adapter's business (its own tests
    // count them); here it settles, with the right hash, as the spec's shape does.
}

#[tokio::test]
async fn bulk_items_with_inline_fields_settle() {
    bulk_shape_settles(BulkItemFields::Inline).await;
}

#[tokio::test]
async fn bulk_success_without_fields_settles_through_the_single_check() {
    bulk_shape_settles(BulkItemFields::Missing).await;
}

#[tokio::test]
async fn bkash_token_answers_without_status_code_settle() {
    let mut sb = sandbox_config();
    sb.bkash.token_status_code = false;
    let r = rig_with(sb, &[]).await;
    let c = r
        .engine
        .charge(ProviderKind::Bkash, bdt("55.00"), "cashier-1")
        .await
        .unwrap();
    let pid = c.payment.refs.lookup.clone().unwrap();
    let back = r.bkash_customer(&pid, "01770618575", "pay").await;
    let p = r.engine.callback(&back).await.unwrap();
    assert_eq!(p.state, PaymentState::Settled, "{p:?}");
}
