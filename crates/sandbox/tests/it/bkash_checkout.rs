//! bKash checkout: success, cancel, failure wallets, wrong OTP/PIN, hosted
//! page over HTML, execute state machine, duplicates, search.

use crate::util::*;
use serde_json::json;

#[tokio::test]
async fn checkout_success_end_to_end() {
    let sb = start().await;
    let token = sb.grant().await;
    let c = sb
        .create_payment(&token, "250.00", "INV-1", "01770618575")
        .await;
    let pid = c["paymentID"].as_str().unwrap();
    assert!(pid.starts_with("TR0011"));
    assert_eq!(c["amount"], "250.00");
    assert_eq!(c["transactionStatus"], "Initiated");
    let bkash_url = c["bkashURL"].as_str().unwrap();
    assert!(
        bkash_url.contains(&format!("paymentId={pid}")),
        "{bkash_url}"
    );
    assert_eq!(
        c["successCallbackURL"]
            .as_str()
            .unwrap()
            .split("&signature=")
            .next()
            .unwrap(),
        format!("{CALLBACK}?paymentID={pid}&status=success")
    );

    // Before the customer acts: verification incomplete, execute refused.
    let s = sb
        .bk_ok("payment/status", &token, json!({"paymentID": pid}))
        .await;
    assert_eq!(s["verificationStatus"], "Incomplete");
    let e = sb.bk_ok("execute", &token, json!({"paymentID": pid})).await;
    assert_eq!(e["statusCode"], "2056");

    let out = sb.customer_pays(pid, "01770618575").await;
    assert_eq!(out["status"], "success");
    let q = query_pairs(out["redirect"].as_str().unwrap());
    assert_eq!(q[0], ("paymentID".into(), pid.into()));
    assert_eq!(q[1], ("status".into(), "success".into()));
    assert_eq!(q[2].0, "signature");
    assert_eq!(q[2].1.len(), 10);

    let e = sb.bk_ok("execute", &token, json!({"paymentID": pid})).await;
    assert_eq!(e["statusCode"], "0000");
    assert_eq!(e["transactionStatus"], "Completed");
    assert_eq!(e["amount"], "250.00");
    assert_eq!(e["customerMsisdn"], "01770618575");
    let trx = e["trxID"].as_str().unwrap();
    assert_eq!(trx.len(), 10);
    let time = e["paymentExecuteTime"].as_str().unwrap();
    assert!(
        time.ends_with(" GMT+0600") && time.as_bytes()[19] == b':',
        "{time}"
    );

    // Repeat execute: 2117, never a second debit.
    let again = sb.bk_ok("execute", &token, json!({"paymentID": pid})).await;
    assert_eq!(again["statusCode"], "2117");

    let s = sb
        .bk_ok("payment/status", &token, json!({"paymentID": pid}))
        .await;
    assert_eq!(s["transactionStatus"], "Completed");
    assert_eq!(s["verificationStatus"], "Complete");
    assert_eq!(s["merchantInvoice"], "INV-1");
    assert_eq!(s["trxID"], trx);

    let found = sb
        .bk_ok("general/searchTransaction", &token, json!({"trxID": trx}))
        .await;
    assert_eq!(found["statusCode"], "0000");
    assert_eq!(found["amount"], "250.00");
    assert_eq!(found["organizationShortCode"], "50022");
    assert_eq!(found["transactionType"], "bKash Tokenized Checkout via API");
    let missing = sb
        .bk_ok(
            "general/searchTransaction",
            &token,
            json!({"trxID": "ZZZZ0ZZZZZ"}),
        )
        .await;
    assert_eq!(missing["statusCode"], "2033");

    let ledger = sb.ledger().await;
    let p = &ledger["bkash"]["payments"][0];
    assert_eq!(p["transactionStatus"], "Completed");
    assert_eq!(p["amount"], "250.00");
    assert_eq!(p["wallet"], "01770618575");
    sb.h.shutdown().await;
}

#[tokio::test]
async fn amount_numbers_are_accepted_and_echoed_as_strings() {
    let sb = start().await;
    let token = sb.grant().await;
    let v = sb
        .bk_ok(
            "create",
            &token,
            json!({"mode": "0011", "payerReference": "01929918378", "callbackURL": CALLBACK,
                   "amount": 10, "currency": "BDT", "intent": "sale", "merchantInvoiceNumber": "N-1", "agreementID": ""}),
        )
        .await;
    assert_eq!(v["statusCode"], "0000", "{v}");
    assert_eq!(v["amount"], "10");
    for (amount, code) in [("0", "2006"), ("1.234", "2006"), ("abc", "2006")] {
        let v = sb
            .bk_ok("create", &token, json!({"mode": "0011", "payerReference": "01929918378", "callbackURL": CALLBACK,
                   "amount": amount, "currency": "BDT", "intent": "sale", "merchantInvoiceNumber": "N-2"}))
            .await;
        assert_eq!(v["statusCode"], code, "{amount}");
    }
    let v = sb
        .bk_ok(
            "create",
            &token,
            json!({"mode": "0011", "payerReference": "01929918378", "callbackURL": CALLBACK,
               "amount": "5", "currency": "USD", "intent": "sale", "merchantInvoiceNumber": "N-3"}),
        )
        .await;
    assert_eq!(v["statusCode"], "2007");
    let v = sb
        .bk_ok(
            "create",
            &token,
            json!({"mode": "0011", "payerReference": "01929918378", "amount": "5",
               "currency": "BDT", "intent": "sale", "merchantInvoiceNumber": "N-3"}),
        )
        .await;
    assert_eq!(v["statusCode"], "2065");
    assert_eq!(v["statusMessage"], "Mendatory field missing");
}

#[tokio::test]
async fn cancel_redirects_with_status_cancel_and_execute_refuses() {
    let sb = start().await;
    let token = sb.grant().await;
    let c = sb
        .create_payment(&token, "99", "INV-C", "01770618575")
        .await;
    let pid = c["paymentID"].as_str().unwrap();
    let (s, out) = sb.customer(pid, json!({"action": "cancel"})).await;
    assert_eq!(s, 200);
    assert_eq!(out["status"], "cancel");
    assert_eq!(
        out["redirect"].as_str().unwrap(),
        c["cancelledCallbackURL"].as_str().unwrap()
    );
    let e = sb.bk_ok("execute", &token, json!({"paymentID": pid})).await;
    assert_eq!(e["statusCode"], "2056");
    // The page cannot be used twice.
    let (s, _) = sb.customer(pid, json!({"action": "cancel"})).await;
    assert_eq!(s, 409);
}

#[tokio::test]
async fn failure_wallets_and_wrong_credentials_fail_on_the_page() {
    let sb = start().await;
    let token = sb.grant().await;
    let cases = [
        (
            json!({"wallet": "01823074817", "otp": "123456", "pin": "12121"}),
            "2023",
        ),
        (
            json!({"wallet": "01823074818", "otp": "123456", "pin": "12121"}),
            "2037",
        ),
        (
            json!({"wallet": "01770618575", "otp": "000000", "pin": "12121"}),
            "2010",
        ),
        (
            json!({"wallet": "01770618575", "otp": "123456", "pin": "99999"}),
            "2014",
        ),
        (
            json!({"wallet": "01711111111", "otp": "123456", "pin": "12121"}),
            "2057",
        ),
    ];
    for (i, (input, code)) in cases.into_iter().enumerate() {
        let c = sb
            .create_payment(
                &token,
                &format!("{}", 10 + i),
                &format!("F-{i}"),
                "01770618575",
            )
            .await;
        let pid = c["paymentID"].as_str().unwrap();
        let (s, out) = sb.customer(pid, input).await;
        assert_eq!(s, 200, "{out}");
        assert_eq!(out["status"], "failure", "{out}");
        assert_eq!(out["code"], code, "{out}");
        assert_eq!(
            out["redirect"].as_str().unwrap(),
            c["failureCallbackURL"].as_str().unwrap()
        );
        let e = sb.bk_ok("execute", &token, json!({"paymentID": pid})).await;
        assert_eq!(e["statusCode"], "2056", "execute after failure");
        let s = sb
            .bk_ok("payment/status", &token, json!({"paymentID": pid}))
            .await;
        assert_eq!(s["transactionStatus"], "Initiated");
    }
    // A malformed wallet number is not an outcome: the page asks again.
    let c = sb.create_payment(&token, "77", "F-X", "01770618575").await;
    let (s, _) = sb
        .customer(c["paymentID"].as_str().unwrap(), json!({"wallet": "123"}))
        .await;
    assert_eq!(s, 422);
    let ledger = sb.ledger().await;
    let failed = ledger["bkash"]["payments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["customer"]["state"] == "failed")
        .count();
    assert_eq!(failed, 5);
}

#[tokio::test]
async fn same_payer_same_amount_within_window_is_duplicate_2029() {
    let sb = start().await;
    let token = sb.grant().await;
    sb.paid_checkout(&token, "120", "D-1", "01929918378").await;
    let c = sb.create_payment(&token, "120", "D-2", "01929918378").await;
    let out = sb
        .customer_pays(c["paymentID"].as_str().unwrap(), "01929918378")
        .await;
    assert_eq!(out["status"], "failure");
    assert_eq!(out["code"], "2029");
    // After the window the same payment goes through.
    sb.advance(121).await;
    let token = sb.grant().await;
    sb.paid_checkout(&token, "120", "D-3", "01929918378").await;
    // A reused invoice number within the window fails too.
    let c = sb.create_payment(&token, "121", "D-3", "01770618575").await;
    let out = sb
        .customer_pays(c["paymentID"].as_str().unwrap(), "01770618575")
        .await;
    assert_eq!(out["code"], "2029");
}

#[tokio::test]
async fn payment_ids_expire_after_24h() {
    let sb = start().await;
    let token = sb.grant().await;
    let c = sb.create_payment(&token, "50", "E-1", "01770618575").await;
    let pid = c["paymentID"].as_str().unwrap().to_string();
    sb.customer_pays(&pid, "01770618575").await;
    sb.advance(24 * 3600 + 1).await;
    let token = sb.grant().await;
    let e = sb.bk_ok("execute", &token, json!({"paymentID": pid})).await;
    assert_eq!(e["statusCode"], "2056");
    let s = sb
        .bk_ok("payment/status", &token, json!({"paymentID": pid}))
        .await;
    assert_eq!(s["transactionStatus"], "Expired");
    let e = sb
        .bk_ok(
            "execute",
            &token,
            json!({"paymentID": "TR0011nope1700000000000"}),
        )
        .await;
    assert_eq!(e["statusCode"], "2002");
}

#[tokio::test]
async fn hosted_html_page_walks_wallet_otp_pin_and_redirects() {
    let sb = start().await;
    let token = sb.grant().await;
    let c = sb
        .create_payment(&token, "42.50", "H-1", "01770618576")
        .await;
    let pid = c["paymentID"].as_str().unwrap();
    let page = sb
        .http
        .get(c["bkashURL"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("42.50") && html.contains("name=\"wallet\"") && html.contains("01770618576")
    );
    let post = |form: Vec<(&'static str, String)>| {
        let http = sb.http.clone();
        let url = sb.url("/pay/bkash/");
        async move { http.post(url).form(&form).send().await.unwrap() }
    };
    let r = post(vec![
        ("paymentId", pid.into()),
        ("step", "wallet".into()),
        ("wallet", "01770618576".into()),
        ("action", "pay".into()),
    ])
    .await;
    assert!(r.text().await.unwrap().contains("name=\"otp\""));
    let r = post(vec![
        ("paymentId", pid.into()),
        ("step", "otp".into()),
        ("wallet", "01770618576".into()),
        ("otp", "123456".into()),
        ("action", "pay".into()),
    ])
    .await;
    assert!(r.text().await.unwrap().contains("name=\"pin\""));
    let r = post(vec![
        ("paymentId", pid.into()),
        ("step", "pin".into()),
        ("wallet", "01770618576".into()),
        ("otp", "123456".into()),
        ("pin", "12121".into()),
        ("action", "pay".into()),
    ])
    .await;
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap();
    assert_eq!(location, c["successCallbackURL"].as_str().unwrap());
    let e = sb.bk_ok("execute", &token, json!({"paymentID": pid})).await;
    assert_eq!(e["transactionStatus"], "Completed");

    // Close on the first screen: status=cancel.
    let c = sb.create_payment(&token, "43", "H-2", "01770618576").await;
    let r = post(vec![
        ("paymentId", c["paymentID"].as_str().unwrap().into()),
        ("step", "wallet".into()),
        ("wallet", "".into()),
        ("action", "cancel".into()),
    ])
    .await;
    assert_eq!(r.status(), 303);
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .contains("status=cancel"));
}

#[tokio::test]
async fn callback_keeps_merchant_query_string() {
    let sb = start().await;
    let token = sb.grant().await;
    let v = sb
        .bk_ok("create", &token, json!({"mode": "0011", "payerReference": "01770618575",
               "callbackURL": "https://shop.example/wc-api/bkash?orderId=2606&invoiceID=INV-2606",
               "amount": "12", "currency": "BDT", "intent": "sale", "merchantInvoiceNumber": "Q-1"}))
        .await;
    let pid = v["paymentID"].as_str().unwrap();
    let out = sb.customer_pays(pid, "01770618575").await;
    let q = query_pairs(out["redirect"].as_str().unwrap());
    let keys: Vec<&str> = q.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        ["orderId", "invoiceID", "paymentID", "status", "signature"]
    );
}
