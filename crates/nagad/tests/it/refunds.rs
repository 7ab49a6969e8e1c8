//! The optional refund ("cancel") call: made where the merchant has it,
//! refused where it does not exist.

use crate::util::*;
use till_nagad::*;
use till_sandbox::Config;

async fn paid(env: &Env, order: &str, amount: &str) -> Started {
    let started = env.start(order, amount).await;
    env.customer_pays(&started).await;
    assert!(env
        .client
        .verify(&started.payment_ref_id)
        .await
        .unwrap()
        .is_paid());
    started
}

fn refund(started: &Started, amount: &str, reference: &str) -> RefundRequest {
    RefundRequest {
        payment_ref_id: started.payment_ref_id.clone(),
        order_id: started.order_id.clone(),
        original_amount: started.amount,
        amount: dec(amount),
        original_date: wire::date_text(std::time::SystemTime::now()),
        reference: reference.into(),
        reason: "returned".into(),
    }
}

#[tokio::test]
async fn a_refund_where_the_merchant_has_it() {
    let mut cfg = Config::default();
    cfg.nagad.refund_enabled = true;
    let env = start_with(cfg, |_, _| {}).await;
    let started = paid(&env, "T1-000200", "30.00").await;
    let r = env
        .client
        .refund(&refund(&started, "10.00", "T1-000200-R1"))
        .await
        .unwrap();
    assert_eq!(r.status, RefundStatus::Done);
    assert_eq!(r.amount, Some(dec("10.00")));
    assert_eq!(r.reference, "T1-000200-R1");
    let trx = r.cancel_trx_id.clone().unwrap();
    // Verify shows it; the payment stays paid.
    let v = env.client.verify(&started.payment_ref_id).await.unwrap();
    assert_eq!(v.cancel_issuer_ref_no.as_deref(), Some(trx.as_str()));
    assert!(v.is_paid());
    assert_eq!(
        env.ledger_payment(&started.payment_ref_id)["refunded"],
        "10.00"
    );
    // More than is left: refused, never retried.
    let e = env
        .client
        .refund(&refund(&started, "20.01", "T1-000200-R2"))
        .await
        .unwrap_err();
    assert_eq!(e.reason(), Some("InvalidRefundAmount"), "{e}");
    assert_eq!(env.log.count("nagad.refund"), 2);
    // Refused locally: more than was paid.
    assert_eq!(
        env.client
            .refund(&refund(&started, "30.01", "T1-000200-R3"))
            .await,
        Err(NagadError::Invalid(Invalid::Amount))
    );
    env.sb.shutdown().await;
}

#[tokio::test]
async fn without_it_refunds_are_made_in_the_portal() {
    let env = start().await;
    let started = paid(&env, "T1-000201", "30.00").await;
    let e = env
        .client
        .refund(&refund(&started, "30.00", "R1"))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, NagadError::Refused { endpoint: Endpoint::Refund, http_status: 404, reason, .. } if reason == "NotFound"),
        "{e:?}"
    );
    assert_eq!(e.resolution(), Resolution::Failed);
    env.sb.shutdown().await;
}
