//! No credential or token ever appears in a call record or an error.

use crate::util::*;
use till_bkash::*;
use till_sandbox::{FaultKind, FaultRule};

fn assert_clean(text: &str) {
    for s in [USER, PASS, APP_KEY, APP_SECRET] {
        assert!(!text.contains(s), "{s} leaked in {text}");
    }
}

#[tokio::test]
async fn no_secret_in_records_or_errors() {
    let env = start_with(config(), |s| s.max_grants_per_hour = 5).await;
    let (c, e) = env.paid("55.55", "INV-SECRETS").await;
    env.fault(FaultRule::new("bkash.status", FaultKind::TokenExpired).times(1));
    env.client.query_payment(&c.payment_id).await.unwrap();
    env.client.search_transaction(&e.trx_id).await.unwrap();
    let mut errors = Vec::new();
    errors.push(env.client.execute_payment(&c.payment_id).await.unwrap_err());
    env.fault(FaultRule::new("bkash.status", FaultKind::Malformed));
    errors.push(env.client.query_payment(&c.payment_id).await.unwrap_err());
    env.sb.clear_faults();

    // A wrong path (refund API base misconfigured): the gateway echoes the
    // Authorization header back in its 403 message.
    let mut s = settings(&env.sb.bkash_base_url());
    s.refund_base_url = Some(url::Url::parse(&format!("{}/wrong", env.sb.origin())).unwrap());
    let wrong = BkashClient::new(s, creds(), env.log.clone()).unwrap();
    errors.push(
        wrong
            .refund_status(&c.payment_id, &e.trx_id)
            .await
            .unwrap_err(),
    );
    // Bad credentials.
    let mut bad = creds();
    bad.password = format!("{PASS}-x");
    let badc = BkashClient::new(settings(&env.sb.bkash_base_url()), bad, env.log.clone()).unwrap();
    errors.push(badc.query_payment(&c.payment_id).await.unwrap_err());

    let records = env.log.all();
    assert!(records.iter().any(|r| r.endpoint == "bkash.grant"));
    assert!(records.iter().any(|r| r.endpoint == "bkash.refresh"));
    let json = serde_json::to_string(&records).unwrap();
    assert_clean(&json);
    // Token values are masked wherever they appear as fields.
    for r in &records {
        if let Some(body) = &r.response_body {
            for k in ["id_token", "refresh_token"] {
                if let Some(v) = body.get(k) {
                    assert_eq!(v, "***", "{k} in {}", r.endpoint);
                }
            }
        }
    }
    for e in &errors {
        assert_clean(&e.to_string());
        assert_clean(&format!("{e:?}"));
        assert_clean(&e.cashier_message());
    }
    // The echoed Authorization header is scrubbed from the error text.
    let echoed = errors[2].to_string();
    assert!(
        matches!(errors[2], BkashError::Rejected { status: 403, .. }),
        "{echoed}"
    );
    assert!(echoed.contains("Authorization=***"), "{echoed}");
    let echoed_record = records
        .iter()
        .filter(|r| r.status == Some(403))
        .map(|r| serde_json::to_string(r).unwrap())
        .collect::<String>();
    assert!(
        echoed_record.contains("Authorization=***"),
        "{echoed_record}"
    );
    // Debug of the credentials and the client.
    let dbg = format!("{:?} {:?}", creds(), env.client);
    assert_clean(&dbg);
    assert_eq!(dbg.matches("***").count(), 4);
}
