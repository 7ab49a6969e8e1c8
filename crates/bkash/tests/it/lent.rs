//! Lent tokens: tills without credentials borrow the token of one client
//! that holds them (the shop's hub), so the whole shop stays within bKash's
//! two token calls an hour.

use crate::util::*;
use std::sync::Arc;
use till_bkash::*;
use till_sandbox::{FaultKind, FaultRule};

/// A lender in the same process: the lending client itself.
struct Direct(BkashClient);

impl TokenLender for Direct {
    fn lend<'a>(&'a self, refused: Option<&'a str>) -> LendFuture<'a> {
        Box::pin(async move {
            let fp = refused.map(token_fingerprint);
            self.0.lend_token(fp.as_deref()).await
        })
    }
}

fn borrower(env: &Env, lender: Arc<Direct>) -> (BkashClient, Arc<MemLog>) {
    let log = Arc::new(MemLog::default());
    let c = BkashClient::with_token_lender(settings(&env.sb.bkash_base_url()), lender, log.clone())
        .unwrap();
    (c, log)
}

fn token_calls(env: &Env) -> usize {
    env.sb.ledger()["bkash"]["tokenCalls"]
        .as_array()
        .unwrap()
        .len()
}

#[tokio::test]
async fn three_borrowers_share_the_lenders_grant_and_one_refresh() {
    let mut cfg = config();
    cfg.bkash.token_rate_limit = true;
    let env = start_with(cfg, |_| {}).await;
    let lender = Arc::new(Direct(env.client.clone()));
    let tills: Vec<_> = (0..3).map(|_| borrower(&env, lender.clone())).collect();
    let mut pids = Vec::new();
    for (i, (c, _)) in tills.iter().enumerate() {
        let created = c
            .create_payment(&CreatePayment::sale(
                dec(&format!("{}.00", 50 + i)),
                format!("INV-LENT-{i}"),
                CALLBACK,
                WALLET,
            ))
            .await
            .unwrap();
        pids.push(created.payment_id);
    }
    assert_eq!(token_calls(&env), 1);
    // Past the token's lifetime (sandbox clock): every till is refused once.
    env.advance(3_700).await;
    for (i, (c, _)) in tills.iter().enumerate() {
        let q = c.query_payment(&pids[i]).await.unwrap();
        assert_eq!(q.payment_id, pids[i]);
    }
    assert_eq!(
        token_calls(&env),
        2,
        "{}",
        env.sb.ledger()["bkash"]["tokenCalls"]
    );
    assert_eq!(env.client.token_grants(), 2);
    for (c, log) in &tills {
        assert_eq!(c.token_grants(), 0);
        assert_eq!(log.count("bkash.grant") + log.count("bkash.refresh"), 0);
        // No token or app key in a borrower's records.
        for r in log.all() {
            let text = format!("{:?} {:?} {:?}", r.request_body, r.response_body, r.error);
            assert!(!text.contains(APP_KEY), "{text}");
        }
    }
}

#[tokio::test]
async fn a_refusal_the_lender_cannot_confirm_renews_nothing() {
    let env = start().await;
    let t = env.client.lend_token(None).await.unwrap();
    assert_eq!(env.client.token_grants(), 1);
    assert_eq!(t.app_key, APP_KEY);
    // A till says bKash refused the current token; bKash takes it from the lender.
    let again = env
        .client
        .lend_token(Some(&token_fingerprint(&t.id_token)))
        .await
        .unwrap();
    assert_eq!(again.id_token, t.id_token);
    assert_eq!(env.client.token_grants(), 1);
    // An older token's refusal is answered with the current one, no call.
    let other = env.client.lend_token(Some("00ff")).await.unwrap();
    assert_eq!(other.id_token, t.id_token);
    assert_eq!(env.client.token_grants(), 1);
    // When bKash does refuse it, the lender renews once.
    env.fault(FaultRule::new("bkash.status", FaultKind::TokenExpired).times(1));
    let renewed = env
        .client
        .lend_token(Some(&token_fingerprint(&t.id_token)))
        .await
        .unwrap();
    assert_ne!(renewed.id_token, t.id_token);
    assert_eq!(env.client.token_grants(), 2);
    assert!(!format!("{renewed:?}").contains(&renewed.id_token));
}

#[tokio::test]
async fn a_borrower_cannot_lend() {
    let env = start().await;
    let (c, _) = borrower(&env, Arc::new(Direct(env.client.clone())));
    assert!(matches!(
        c.lend_token(None).await,
        Err(BkashError::Invalid { .. })
    ));
}
