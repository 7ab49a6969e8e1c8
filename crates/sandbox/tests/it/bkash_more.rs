//! bKash tokens, gateway behaviour, agreements, refunds v1/v2.

use crate::util::*;
use serde_json::json;
use till_sandbox::Config;

#[tokio::test]
async fn token_expiry_and_refresh() {
    let sb = start().await;
    let g = sb.grant_full().await;
    assert_eq!(g["expires_in"], 3600);
    assert!(g["expires_in"].is_u64());
    assert_eq!(g["token_type"], "Bearer");
    let token = g["id_token"].as_str().unwrap();
    assert_eq!(token.split('.').count(), 3);
    let rt = g["refresh_token"].as_str().unwrap();
    assert_eq!(rt.split('.').count(), 5);

    let (s, _) = sb
        .bk("payment/status", token, json!({"paymentID": "x"}))
        .await;
    assert_eq!(s, 200);
    sb.advance(3601).await;
    let (s, v) = sb
        .bk("payment/status", token, json!({"paymentID": "x"}))
        .await;
    assert_eq!((s, v), (401, json!({"message": "Unauthorized"})));

    let mut body = sb.app_body();
    body["refresh_token"] = rt.into();
    let (s, r) = sb.token_call("refresh", body).await;
    assert_eq!(s, 200);
    assert_eq!(r["statusCode"], "0000");
    assert_eq!(r["refresh_token"], rt, "refresh token echoed unchanged");
    let fresh = r["id_token"].as_str().unwrap();
    assert_ne!(fresh, token);
    let (s, v) = sb
        .bk("payment/status", fresh, json!({"paymentID": "x"}))
        .await;
    assert_eq!((s, &v["statusCode"]), (200, &json!("2002")));

    let mut body = sb.app_body();
    body["refresh_token"] = "bogus".into();
    let (_, r) = sb.token_call("refresh", body).await;
    assert_eq!(r["statusCode"], "9999");
}

#[tokio::test]
async fn grant_credential_checks() {
    let sb = start().await;
    let r = sb
        .http
        .post(sb.url("/v1.2.0-beta/tokenized/checkout/token/grant"))
        .header("username", "nobody")
        .header("password", "x")
        .json(&sb.app_body())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        v,
        json!({"statusCode": "9999", "statusMessage": "Username does not exist"})
    );
    let (_, v) = sb
        .token_call("grant", json!({"app_key": "wrong", "app_secret": "x"}))
        .await;
    assert_eq!(v["statusCode"], "2001");
    // Extra fields real clients send are ignored.
    let mut body = sb.app_body();
    body["grant_type"] = "client_credentials".into();
    let (_, v) = sb.token_call("grant", body).await;
    assert_eq!(v["statusCode"], "0000");
}

#[tokio::test]
async fn grant_limit_switch_blocks_for_an_hour() {
    let mut cfg = Config::default();
    cfg.bkash.token_rate_limit = true;
    let sb = start_with(cfg).await;
    sb.grant().await;
    sb.grant().await;
    let (s, v) = sb.token_call("grant", sb.app_body()).await;
    assert_eq!((s, v), (429, json!({"message": "Too Many Requests"})));
    sb.advance(1800).await;
    let (s, _) = sb.token_call("grant", sb.app_body()).await;
    assert_eq!(s, 429, "still blocked");
    sb.advance(1801).await;
    sb.grant().await;
}

#[tokio::test]
async fn gateway_answers_before_bkash_logic() {
    let sb = start().await;
    let token = sb.grant().await;
    // No token.
    let r = sb
        .http
        .post(sb.url("/v1.2.0-beta/tokenized/checkout/create"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Unknown path, with and without a token.
    let r = sb
        .http
        .post(sb.url("/v1.2.0-beta/v2/tokenized/checkout/create"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["message"],
        "Missing Authentication Token"
    );
    let (s, v) = sb
        .post_at("/v1.2.0-beta/checkout/nope", &token, json!({}))
        .await;
    assert_eq!(s, 403);
    assert!(v["message"]
        .as_str()
        .unwrap()
        .starts_with("Authorization header requires 'Credential'"));
    // GET on a real path: same 403.
    let r = sb
        .http
        .get(sb.url("/v1.2.0-beta/tokenized/checkout/create"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Bearer prefix accepted (not strict), header names case-insensitive.
    let r = sb
        .http
        .post(sb.url("/v1.2.0-beta/tokenized/checkout/payment/status"))
        .header("Authorization", format!("Bearer {token}"))
        .header("X-App-Key", &sb.cfg().bkash.app_key)
        .json(&json!({"paymentID": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["statusCode"],
        "2002"
    );
    // Wrong app key: 2001 with HTTP 200.
    let r = sb
        .http
        .post(sb.url("/v1.2.0-beta/tokenized/checkout/payment/status"))
        .header("authorization", &token)
        .header("x-app-key", "other")
        .json(&json!({"paymentID": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["statusCode"],
        "2001"
    );
    // Not JSON: gateway 400.
    let r = sb
        .http
        .post(sb.url("/v1.2.0-beta/tokenized/checkout/create"))
        .header("authorization", &token)
        .header("x-app-key", &sb.cfg().bkash.app_key)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    let mut cfg = Config::default();
    cfg.bkash.strict_bearer = true;
    let strict = start_with(cfg).await;
    let t = strict.grant().await;
    let (s, _) = strict
        .bk(
            "payment/status",
            &format!("Bearer {t}"),
            json!({"paymentID": "x"}),
        )
        .await;
    assert_eq!(s, 401);
}

#[tokio::test]
async fn agreement_create_pay_with_agreement_cancel() {
    let sb = start().await;
    let token = sb.grant().await;
    let c = sb
        .bk_ok(
            "create",
            &token,
            json!({"mode": "0000", "payerReference": "01929918378", "callbackURL": CALLBACK}),
        )
        .await;
    assert_eq!(c["statusCode"], "0000");
    assert_eq!(c["agreementStatus"], "Initiated");
    let pid = c["paymentID"].as_str().unwrap();
    assert!(pid.starts_with("TR0000"));
    let early = sb.bk_ok("execute", &token, json!({"paymentID": pid})).await;
    assert_eq!(early["statusCode"], "2054");
    let out = sb.customer_pays(pid, "01929918378").await;
    assert_eq!(out["status"], "success");
    let e = sb.bk_ok("execute", &token, json!({"paymentID": pid})).await;
    assert_eq!(e["statusCode"], "0000");
    assert_eq!(e["agreementStatus"], "Completed");
    let aid = e["agreementID"].as_str().unwrap().to_string();
    assert!(aid.starts_with("TokenizedMerchant"));
    let again = sb.bk_ok("execute", &token, json!({"paymentID": pid})).await;
    assert_eq!(again["statusCode"], "2116");
    let q = sb
        .bk_ok("payment/status", &token, json!({"paymentID": pid}))
        .await;
    assert_eq!(q["mode"], "0000");
    assert_eq!(q["agreementID"], aid.as_str());

    // Pay with the agreement: PIN only.
    let p = sb
        .bk_ok("create", &token, json!({"mode": "0001", "agreementID": aid, "payerReference": "01929918378",
               "callbackURL": CALLBACK, "amount": "120.00", "currency": "BDT", "intent": "sale", "merchantInvoiceNumber": "AG-1"}))
        .await;
    assert_eq!(p["statusCode"], "0000", "{p}");
    assert_eq!(p["agreementID"], aid.as_str());
    let ppid = p["paymentID"].as_str().unwrap();
    let (s, out) = sb.customer(ppid, json!({"pin": "12121"})).await;
    assert_eq!((s, &out["status"]), (200, &json!("success")));
    let e = sb
        .bk_ok("execute", &token, json!({"paymentID": ppid}))
        .await;
    assert_eq!(e["transactionStatus"], "Completed");
    assert_eq!(e["agreementID"], aid.as_str());
    assert_eq!(e["customerMsisdn"], "01929918378");
    let st = sb
        .bk_ok("agreement/status", &token, json!({"agreementID": aid}))
        .await;
    assert_eq!(st["agreementStatus"], "Completed");

    let cancel = sb
        .bk_ok("agreement/cancel", &token, json!({"agreementID": aid}))
        .await;
    assert_eq!(cancel["statusCode"], "0000");
    assert_eq!(cancel["agreementStatus"], "Cancelled");
    let twice = sb
        .bk_ok("agreement/cancel", &token, json!({"agreementID": aid}))
        .await;
    assert_eq!(twice["statusCode"], "2053");
    let st = sb
        .bk_ok("agreement/status", &token, json!({"agreementID": aid}))
        .await;
    assert_eq!(st["agreementStatus"], "Cancelled");
    assert!(st["agreementVoidTime"].is_string());
    let pay = sb
        .bk_ok("create", &token, json!({"mode": "0001", "agreementID": aid, "payerReference": "01929918378",
               "callbackURL": CALLBACK, "amount": "5", "currency": "BDT", "intent": "sale", "merchantInvoiceNumber": "AG-2"}))
        .await;
    assert_eq!(pay["statusCode"], "2053");
    let bad = sb
        .bk_ok("agreement/status", &token, json!({"agreementID": "nope"}))
        .await;
    assert_eq!(bad["statusCode"], "2051");
    assert_eq!(
        sb.ledger().await["bkash"]["agreements"][0]["status"],
        "Cancelled"
    );
}

#[tokio::test]
async fn partial_then_full_refund_and_over_refund() {
    let sb = start().await;
    let token = sb.grant().await;
    let (pid, trx) = sb
        .paid_checkout(&token, "250.00", "R-1", "01770618575")
        .await;

    // Refund of a payment that was never executed: v2 answers HTTP 400.
    let c = sb.create_payment(&token, "30", "R-0", "01877722345").await;
    let (s, v) = sb
        .post_at(
            "/v2/tokenized-checkout/refund/payment/transaction",
            &token,
            json!({"paymentId": c["paymentID"], "trxId": "AAAA0AAAAA", "refundAmount": "1"}),
        )
        .await;
    assert_eq!((s, &v["externalCode"]), (400, &json!("2127")));

    // Partial via v2 (normalised amounts).
    let (s, v) = sb.post_at("/v2/tokenized-checkout/refund/payment/transaction", &token,
        json!({"paymentId": pid, "trxId": trx, "refundAmount": "50", "sku": "S", "reason": "partial"})).await;
    assert_eq!(s, 200, "{v}");
    assert!(v.get("statusCode").is_none());
    assert_eq!(v["refundAmount"], "50.00");
    assert_eq!(v["originalTrxAmount"], "250.00");
    assert_eq!(v["refundTransactionStatus"], "Completed");
    let first_refund = v["refundTrxId"].as_str().unwrap().to_string();
    assert_eq!(&first_refund[..5], &trx[..5]);

    // Over-refund: more than what is left.
    let (s, v) = sb
        .post_at(
            "/v2/tokenized-checkout/refund/payment/transaction",
            &token,
            json!({"paymentId": pid, "trxId": trx, "refundAmount": "200.01"}),
        )
        .await;
    assert_eq!((s, &v["externalCode"]), (400, &json!("2072")));
    // More than the original: 2026 (v1 envelope).
    let v = sb
        .bk_ok(
            "payment/refund",
            &token,
            json!({"paymentID": pid, "trxID": trx, "amount": "300", "sku": "S", "reason": "x"}),
        )
        .await;
    assert_eq!(v["statusCode"], "2026");

    // The rest through v1 (echoes the amount text).
    let v = sb.bk_ok("payment/refund", &token,
        json!({"paymentID": pid, "trxID": trx, "amount": "200.00", "sku": "S", "reason": "rest"})).await;
    assert_eq!(v["statusCode"], "0000", "{v}");
    assert_eq!(v["amount"], "200.00");
    assert_eq!(v["originalTrxID"], trx.as_str());
    let v1_refund = v["refundTrxID"].as_str().unwrap().to_string();

    // Nothing left.
    let (s, v) = sb
        .post_at(
            "/v2/tokenized-checkout/refund/payment/transaction",
            &token,
            json!({"paymentId": pid, "trxId": trx, "refundAmount": "0.01"}),
        )
        .await;
    assert_eq!((s, &v["externalCode"]), (400, &json!("2072")));

    // Refund status v1 (same path, no amount) and v2.
    let v = sb
        .bk_ok(
            "payment/refund",
            &token,
            json!({"paymentID": pid, "trxID": trx}),
        )
        .await;
    assert_eq!(v["refundTrxID"], v1_refund.as_str());
    let (s, v) = sb
        .post_at(
            "/v2/tokenized-checkout/refund/payment/status",
            &token,
            json!({"paymentId": pid, "trxId": trx}),
        )
        .await;
    assert_eq!(s, 200);
    let items = v["refundTransactions"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["refundAmount"], "50.00");
    assert!(!items[0]["completedTime"].as_str().unwrap().contains("GMT"));

    // Search finds the refund transaction.
    let v = sb
        .bk_ok(
            "general/searchTransaction",
            &token,
            json!({"trxID": first_refund}),
        )
        .await;
    assert_eq!(v["originalTrxAmount"], "250.00");
    assert_eq!(v["amount"], "50.00");
    let v = sb
        .bk_ok("general/searchTransaction", &token, json!({"trxID": trx}))
        .await;
    assert_eq!(v["maxRefundableAmount"], "0.00");

    // v1 without sku/reason fails the gateway schema.
    let (s, v) = sb
        .bk(
            "payment/refund",
            &token,
            json!({"paymentID": pid, "trxID": trx, "amount": "1"}),
        )
        .await;
    assert_eq!((s, v), (400, json!({"message": "Invalid request body"})));

    let ledger = sb.ledger().await;
    assert_eq!(ledger["bkash"]["refunds"].as_array().unwrap().len(), 2);
    let paid = ledger["bkash"]["payments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["paymentID"] == pid.as_str())
        .unwrap();
    assert_eq!(paid["refunded"], "250.00");
    assert_eq!(paid["refundable"], "0.00");
}

#[tokio::test]
async fn v1_allows_one_refund_by_default_and_a_window() {
    let sb = start().await;
    let token = sb.grant().await;
    let (pid, trx) = sb.paid_checkout(&token, "100", "W-1", "01770618575").await;
    let v = sb
        .bk_ok(
            "payment/refund",
            &token,
            json!({"paymentID": pid, "trxID": trx}),
        )
        .await;
    assert_eq!(v["statusCode"], "2002", "no refund yet");
    let v = sb
        .bk_ok(
            "payment/refund",
            &token,
            json!({"paymentID": pid, "trxID": trx, "amount": "10", "sku": "a", "reason": "b"}),
        )
        .await;
    assert_eq!(v["statusCode"], "0000");
    let v = sb
        .bk_ok(
            "payment/refund",
            &token,
            json!({"paymentID": pid, "trxID": trx, "amount": "10", "sku": "a", "reason": "b"}),
        )
        .await;
    assert_eq!(v["statusCode"], "2074");
    let v = sb.bk_ok("payment/refund", &token, json!({"paymentID": pid, "trxID": "WRONG0TRX1", "amount": "10", "sku": "a", "reason": "b"})).await;
    assert_eq!(v["statusCode"], "2077");

    let (pid, trx) = sb.paid_checkout(&token, "101", "W-2", "01770618575").await;
    sb.advance(16 * 86_400).await;
    let token = sb.grant().await;
    let v = sb
        .bk_ok(
            "payment/refund",
            &token,
            json!({"paymentID": pid, "trxID": trx, "amount": "10", "sku": "a", "reason": "b"}),
        )
        .await;
    assert_eq!(v["statusCode"], "2071");
}
