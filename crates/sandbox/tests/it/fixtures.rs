//! Every response shape in `bkash-fixtures/` (per its manifest) is matched by
//! what the sandbox returns for the same scenario: same field names, same
//! JSON types, same HTTP status. Fields the spec documents as "newer servers
//! add these" may appear in addition.

use crate::util::*;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use till_sandbox::Config;

/// Keys the sandbox may send beyond a fixture (spec §8.1/§9/§10: current servers add them).
const NEWER_SERVER_FIELDS: &[&str] = &[
    "payerType",
    "payerAccount",
    "maxRefundableAmount",
    "customerMsisdn",
];

/// Manifest entries the sandbox does not simulate, with the reason.
const NOT_SIMULATED: &[(&str, &str)] = &[
    (
        "ipn/message-coupon.json",
        "coupon payments are not simulated",
    ),
    (
        "ipn/sns-notification-coupon.json",
        "coupon payments are not simulated",
    ),
    (
        "callback/redirects.json#legacy_2023_style",
        "covered with callback_api_version in a separate sandbox below",
    ),
];

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Differences between the fixture's shape and the actual body.
fn shape_diff(path: &str, fixture: &Value, actual: &Value, out: &mut Vec<String>) {
    if type_name(fixture) != type_name(actual) {
        out.push(format!(
            "{path}: fixture {} vs sandbox {}",
            type_name(fixture),
            type_name(actual)
        ));
        return;
    }
    match (fixture, actual) {
        (Value::Object(f), Value::Object(a)) => {
            for (k, fv) in f {
                match a.get(k) {
                    Some(av) => shape_diff(&format!("{path}.{k}"), fv, av, out),
                    None => out.push(format!("{path}.{k}: missing in sandbox")),
                }
            }
            for k in a.keys() {
                if !f.contains_key(k) && !NEWER_SERVER_FIELDS.contains(&k.as_str()) {
                    out.push(format!("{path}.{k}: extra in sandbox"));
                }
            }
        }
        (Value::Array(f), Value::Array(a)) => {
            if let (Some(f0), Some(a0)) = (f.first(), a.first()) {
                shape_diff(&format!("{path}[0]"), f0, a0, out);
            }
        }
        _ => {}
    }
}

fn query_keys(url: &str) -> Vec<String> {
    query_pairs(url).into_iter().map(|(k, _)| k).collect()
}

/// Run every scenario and collect `(http status, body)` per fixture file.
async fn produce() -> BTreeMap<String, (u16, Value)> {
    let mut got: BTreeMap<String, (u16, Value)> = BTreeMap::new();
    let mut put = |file: &str, r: (u16, Value)| {
        got.insert(file.to_string(), r);
    };
    let sb = start().await;

    // token
    let grant = sb.token_call("grant", sb.app_body()).await;
    let token = grant.1["id_token"].as_str().unwrap().to_string();
    let rt = grant.1["refresh_token"].as_str().unwrap().to_string();
    put("token/grant.success.json", grant);
    let r = sb
        .http
        .post(sb.url("/v1.2.0-beta/tokenized/checkout/token/grant"))
        .header("username", "nobody")
        .header("password", "x")
        .json(&sb.app_body())
        .send()
        .await
        .unwrap();
    put(
        "token/grant.error-9999-username.json",
        (r.status().as_u16(), r.json().await.unwrap()),
    );
    let mut body = sb.app_body();
    body["refresh_token"] = rt.into();
    put(
        "token/refresh.success.json",
        sb.token_call("refresh", body).await,
    );

    // checkout 0011: create, status initiated, customer, execute, status, search
    let create = sb
        .bk("create", &token, json!({"mode": "0011", "payerReference": "01770618575", "callbackURL": CALLBACK,
            "amount": "250.00", "currency": "BDT", "intent": "sale", "merchantInvoiceNumber": "INV-20250304-0042"}))
        .await;
    let pid = create.1["paymentID"].as_str().unwrap().to_string();
    put("create/payment-0011.success.json", create.clone());
    put(
        "status/payment-0011.initiated.json",
        sb.bk("payment/status", &token, json!({"paymentID": pid}))
            .await,
    );
    put(
        "execute/error-2056-invalid-payment-state.json",
        sb.bk("execute", &token, json!({"paymentID": pid})).await,
    );
    let out = sb.customer_pays(&pid, "01770618575").await;
    let success_redirect = out["redirect"].as_str().unwrap().to_string();
    let exec = sb.bk("execute", &token, json!({"paymentID": pid})).await;
    let trx = exec.1["trxID"].as_str().unwrap().to_string();
    put("execute/payment-0011.success.json", exec);
    put(
        "execute/error-2117-already-executed.json",
        sb.bk("execute", &token, json!({"paymentID": pid})).await,
    );
    put(
        "status/payment-0011.completed.json",
        sb.bk("payment/status", &token, json!({"paymentID": pid}))
            .await,
    );
    put(
        "search/success.json",
        sb.bk("general/searchTransaction", &token, json!({"trxID": trx}))
            .await,
    );
    put(
        "search/error-2033-not-found.json",
        sb.bk(
            "general/searchTransaction",
            &token,
            json!({"trxID": "ZZZZ0ZZZZZ"}),
        )
        .await,
    );
    put(
        "execute/error-2002-invalid-payment-id.json",
        sb.bk(
            "execute",
            &token,
            json!({"paymentID": "TR0011none1741075509123"}),
        )
        .await,
    );
    put(
        "status/error-2002-invalid-payment-id.json",
        sb.bk(
            "payment/status",
            &token,
            json!({"paymentID": "TR0011none1741075509123"}),
        )
        .await,
    );

    // refunds: v1, its status, search of the refund trx, v2 x2 + status
    let refund = sb
        .bk(
            "payment/refund",
            &token,
            json!({"paymentID": pid, "amount": "100.00", "trxID": trx,
            "sku": "SKU-TSHIRT-M", "reason": "Customer returned one item"}),
        )
        .await;
    let refund_trx = refund.1["refundTrxID"].as_str().unwrap().to_string();
    put("refund-v1/refund.success.json", refund);
    put(
        "refund-v1/status.success.json",
        sb.bk(
            "payment/refund",
            &token,
            json!({"paymentID": pid, "trxID": trx}),
        )
        .await,
    );
    put(
        "search/success.refund-trx.json",
        sb.bk(
            "general/searchTransaction",
            &token,
            json!({"trxID": refund_trx}),
        )
        .await,
    );
    let v2 = "/v2/tokenized-checkout/refund/payment/transaction";
    put(
        "refund-v2/refund.success.json",
        sb.post_at(v2, &token, json!({"paymentId": pid, "trxId": trx, "refundAmount": "50", "sku": "SKU-TSHIRT-M", "reason": "Partial return"})).await,
    );
    sb.post_at(v2, &token, json!({"paymentId": pid, "trxId": trx, "refundAmount": "25.5", "sku": "SKU", "reason": "again"})).await;
    put(
        "refund-v2/status.success.json",
        sb.post_at(
            "/v2/tokenized-checkout/refund/payment/status",
            &token,
            json!({"paymentId": pid, "trxId": trx}),
        )
        .await,
    );
    put(
        "refund-v2/error-400-invalid-payment-id.json",
        sb.post_at(
            v2,
            &token,
            json!({"paymentId": "TR0011none1741075509123", "trxId": trx, "refundAmount": "1"}),
        )
        .await,
    );
    let unpaid = sb
        .create_payment(&token, "30", "INV-U", "01877722345")
        .await;
    put(
        "refund-v2/error-400-not-completed.json",
        sb.post_at(
            v2,
            &token,
            json!({"paymentId": unpaid["paymentID"], "trxId": "AAAA0AAAAA", "refundAmount": "1"}),
        )
        .await,
    );

    // refund v1 errors on a fresh payment (v1 allows one refund by default)
    let (pid2, trx2) = sb
        .paid_checkout(&token, "90", "INV-R2", "01929918378")
        .await;
    put(
        "refund-v1/error-2072-refund-amount-not-valid.json",
        sb.bk(
            "payment/refund",
            &token,
            json!({"paymentID": pid2, "trxID": trx2, "amount": "-1", "sku": "a", "reason": "b"}),
        )
        .await,
    );
    put(
        "gateway/400-invalid-request-body.json",
        sb.bk(
            "payment/refund",
            &token,
            json!({"paymentID": pid2, "trxID": trx2, "amount": "1"}),
        )
        .await,
    );

    // create errors
    put("create/error-2065-mandatory-field-missing.json",
        sb.bk("create", &token, json!({"mode": "0011", "payerReference": "01770618575", "amount": "1", "currency": "BDT", "intent": "sale", "merchantInvoiceNumber": "E"})).await);
    put("create/error-2006-invalid-amount.json",
        sb.bk("create", &token, json!({"mode": "0011", "payerReference": "01770618575", "callbackURL": CALLBACK, "amount": "1.001", "currency": "BDT", "intent": "sale", "merchantInvoiceNumber": "E"})).await);
    put("create/error-2051-invalid-agreement-id.json",
        sb.bk("create", &token, json!({"mode": "0001", "agreementID": "TokenizedMerchant00NOPE0001741075417918", "payerReference": "01929918378", "callbackURL": CALLBACK, "amount": "1", "currency": "BDT", "intent": "sale", "merchantInvoiceNumber": "E"})).await);
    let r = sb
        .http
        .post(sb.url("/v1.2.0-beta/tokenized/checkout/create"))
        .header("authorization", &token)
        .header("x-app-key", "not-our-app")
        .json(&json!({"mode": "0000", "payerReference": "01929918378", "callbackURL": CALLBACK}))
        .send()
        .await
        .unwrap();
    put(
        "create/error-2001-invalid-app-key.json",
        (r.status().as_u16(), r.json().await.unwrap()),
    );

    // agreement story: create 0000, execute too early, customer, execute, status, pay 0001, cancel
    let ac = sb
        .bk(
            "create",
            &token,
            json!({"mode": "0000", "payerReference": "01929918378", "callbackURL": CALLBACK}),
        )
        .await;
    let apid = ac.1["paymentID"].as_str().unwrap().to_string();
    put("create/agreement-0000.success.json", ac);
    put(
        "execute/error-2054-agreement-prerequisite.json",
        sb.bk("execute", &token, json!({"paymentID": apid})).await,
    );
    let agreement_redirect = sb.customer_pays(&apid, "01929918378").await["redirect"]
        .as_str()
        .unwrap()
        .to_string();
    let ae = sb.bk("execute", &token, json!({"paymentID": apid})).await;
    let aid = ae.1["agreementID"].as_str().unwrap().to_string();
    put("execute/agreement-0000.success.json", ae);
    put(
        "status/agreement-0000.completed.json",
        sb.bk("payment/status", &token, json!({"paymentID": apid}))
            .await,
    );
    let pc = sb
        .bk("create", &token, json!({"mode": "0001", "agreementID": aid, "payerReference": "01929918378", "callbackURL": CALLBACK,
            "amount": "120.00", "currency": "BDT", "intent": "sale", "merchantInvoiceNumber": "INV-20250304-0043"}))
        .await;
    let ppid = pc.1["paymentID"].as_str().unwrap().to_string();
    put("create/payment-0001.success.json", pc);
    sb.customer(&ppid, json!({"pin": "12121"})).await;
    put(
        "execute/payment-0001.success.json",
        sb.bk("execute", &token, json!({"paymentID": ppid})).await,
    );
    put(
        "status/payment-0001.completed.json",
        sb.bk("payment/status", &token, json!({"paymentID": ppid}))
            .await,
    );
    put(
        "agreement/status.completed.json",
        sb.bk("agreement/status", &token, json!({"agreementID": aid}))
            .await,
    );
    put(
        "agreement/cancel.success.json",
        sb.bk("agreement/cancel", &token, json!({"agreementID": aid}))
            .await,
    );
    put(
        "agreement/status.cancelled.json",
        sb.bk("agreement/status", &token, json!({"agreementID": aid}))
            .await,
    );
    put(
        "agreement/error-2053-already-cancelled.json",
        sb.bk("agreement/cancel", &token, json!({"agreementID": aid}))
            .await,
    );
    put(
        "agreement/error-2051-invalid-agreement-id.json",
        sb.bk("agreement/status", &token, json!({"agreementID": "nope"}))
            .await,
    );

    // scripted business errors (fault kind business_error)
    for (file, endpoint, code) in [
        (
            "execute/error-2023-insufficient-balance.json",
            "bkash.execute",
            "2023",
        ),
        (
            "execute/error-9999-system-error.json",
            "bkash.execute",
            "9999",
        ),
        ("common/error-503-maintenance.json", "bkash.status", "503"),
        (
            "execute/error-2062-already-completed.json",
            "bkash.execute",
            "2062",
        ),
    ] {
        sb.add_fault(
            json!({"endpoint": endpoint, "kind": "business_error", "code": code, "times": 1}),
        )
        .await;
        let op = if endpoint == "bkash.status" {
            "payment/status"
        } else {
            "execute"
        };
        put(file, sb.bk(op, &token, json!({"paymentID": pid})).await);
    }

    // gateway
    let r = sb
        .http
        .post(sb.url("/v1.2.0-beta/tokenized/checkout/payment/status"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    put(
        "gateway/401-unauthorized.json",
        (r.status().as_u16(), r.json().await.unwrap()),
    );
    let r = sb
        .http
        .post(sb.url("/v1.2.0-beta/v2/tokenized/checkout/create"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    put(
        "gateway/403-missing-authentication-token.json",
        (r.status().as_u16(), r.json().await.unwrap()),
    );
    put(
        "gateway/403-authorization-header-credential.json",
        sb.post_at("/v2/tokenized-checkout/payment/create", &token, json!({}))
            .await,
    );
    sb.add_fault(json!({"endpoint": "bkash.status", "kind": "hang", "hang_ms": 10, "times": 1}))
        .await;
    put(
        "gateway/504-endpoint-timeout.json",
        sb.bk("payment/status", &token, json!({"paymentID": pid}))
            .await,
    );

    // refund window
    let (pid3, trx3) = sb
        .paid_checkout(&token, "80", "INV-R3", "01619777282")
        .await;
    sb.advance(16 * 86_400).await;
    let token = sb.grant().await;
    put(
        "refund-v1/error-2071-window.json",
        sb.bk(
            "payment/refund",
            &token,
            json!({"paymentID": pid3, "trxID": trx3, "amount": "1", "sku": "a", "reason": "b"}),
        )
        .await,
    );

    // callback redirects (not bodies): compare parameter names
    let failure = {
        let c = sb
            .create_payment(&token, "11", "INV-CB1", "01770618575")
            .await;
        sb.customer(
            c["paymentID"].as_str().unwrap(),
            json!({"wallet": "01823074817", "otp": "123456", "pin": "12121"}),
        )
        .await
        .1["redirect"]
            .clone()
    };
    let cancel = {
        let c = sb
            .create_payment(&token, "12", "INV-CB2", "01770618575")
            .await;
        sb.customer(
            c["paymentID"].as_str().unwrap(),
            json!({"action": "cancel"}),
        )
        .await
        .1["redirect"]
            .clone()
    };
    let with_query = {
        let c = sb
            .bk_ok("create", &token, json!({"mode": "0011", "payerReference": "01770618575",
                "callbackURL": "https://merchant.example.com/wc-api/bkash?orderId=2606&invoiceID=INV-2606",
                "amount": "13", "currency": "BDT", "intent": "sale", "merchantInvoiceNumber": "INV-CB3"}))
            .await;
        sb.customer_pays(c["paymentID"].as_str().unwrap(), "01770618575")
            .await["redirect"]
            .clone()
    };
    put(
        "callback/redirects.json",
        (
            0,
            json!({"success": success_redirect, "failure": failure, "cancel": cancel,
                   "success_with_merchant_query": with_query, "agreement_success": agreement_redirect}),
        ),
    );
    sb.h.shutdown().await;
    got
}

/// IPN envelopes and headers, captured by a local receiver.
async fn produce_ipn() -> (Vec<(BTreeMap<String, String>, Value)>, Option<String>) {
    use axum::routing::post;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(BTreeMap<String, String>, String)>();
    let app = axum::Router::new().route(
        "/ipn",
        post(move |headers: axum::http::HeaderMap, body: String| {
            let tx = tx.clone();
            async move {
                let h = headers
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.as_str().to_string(),
                            v.to_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect();
                let _ = tx.send((h, body));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let mut cfg = Config::default();
    cfg.bkash.ipn.url = Some(format!("http://{addr}/ipn"));
    cfg.bkash.ipn.send_subscription_confirmation = true;
    let sb = start_with(cfg).await;
    let cert = sb.h.ipn_certificate_pem();
    let token = sb.grant().await;
    sb.paid_checkout(&token, "250", "INV-IPN", "01770618575")
        .await;
    let mut got = Vec::new();
    for _ in 0..2 {
        let (h, body) = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .unwrap()
            .unwrap();
        got.push((h, serde_json::from_str(&body).unwrap()));
    }
    sb.h.shutdown().await;
    server.abort();
    (got, cert)
}

#[tokio::test]
async fn every_fixture_shape_is_matched() {
    let dir = test_data_dir().join("bkash-fixtures");
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("manifest.json"))
            .expect("tests/data/bkash-fixtures is in the repository"),
    )
    .unwrap();
    let got = produce().await;
    let (ipn, cert) = produce_ipn().await;
    assert!(cert.unwrap().contains("BEGIN CERTIFICATE"));
    let sub = ipn
        .iter()
        .find(|(_, e)| e["Type"] == "SubscriptionConfirmation")
        .expect("subscription")
        .1
        .clone();
    let (note_headers, note) = ipn
        .iter()
        .find(|(_, e)| e["Type"] == "Notification")
        .expect("notification")
        .clone();
    let message: Value = serde_json::from_str(note["Message"].as_str().unwrap()).unwrap();

    let mut problems = Vec::new();
    let mut checked = 0;
    for f in manifest["files"].as_array().unwrap() {
        let file = f["file"].as_str().unwrap();
        let kind = f["kind"].as_str().unwrap();
        if kind == "request" || NOT_SIMULATED.iter().any(|(n, _)| *n == file) {
            continue;
        }
        let fixture: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(file)).unwrap()).unwrap();
        let actual = match (kind, file) {
            ("ipn", "ipn/sns-notification-payment.json") => note.clone(),
            ("ipn", "ipn/sns-subscription-confirmation.json") => sub.clone(),
            ("ipn", "ipn/message-payment.json") => message.clone(),
            ("ipn", "ipn/headers-notification.json") => {
                let want: BTreeSet<String> = fixture
                    .as_object()
                    .unwrap()
                    .keys()
                    .map(|k| k.to_ascii_lowercase())
                    .collect();
                let have: BTreeSet<String> = note_headers.keys().cloned().collect();
                for k in want.difference(&have) {
                    problems.push(format!("{file}: header {k} missing"));
                }
                assert!(note_headers["content-type"].starts_with("text/plain"));
                checked += 1;
                continue;
            }
            ("redirect", _) => {
                let actual = &got.get(file).expect("redirects produced").1;
                for (name, url) in fixture.as_object().unwrap() {
                    if name == "note"
                        || NOT_SIMULATED
                            .iter()
                            .any(|(n, _)| *n == format!("{file}#{name}"))
                    {
                        continue;
                    }
                    let mine = actual[name]
                        .as_str()
                        .unwrap_or_else(|| panic!("redirect {name} not produced"));
                    if query_keys(mine) != query_keys(url.as_str().unwrap()) {
                        problems.push(format!(
                            "{file}#{name}: {:?} vs fixture {:?}",
                            query_keys(mine),
                            query_keys(url.as_str().unwrap())
                        ));
                    }
                }
                checked += 1;
                continue;
            }
            _ => match got.get(file) {
                Some((status, body)) => {
                    let want = f["http_status"].as_u64().unwrap_or(200) as u16;
                    if *status != want {
                        problems.push(format!("{file}: HTTP {status}, fixture says {want}"));
                    }
                    body.clone()
                }
                None => {
                    problems.push(format!("{file}: no scenario produced it"));
                    continue;
                }
            },
        };
        let mut diffs = Vec::new();
        shape_diff("$", &fixture, &actual, &mut diffs);
        if !diffs.is_empty() {
            problems.push(format!(
                "{file}:\n    {}\n    sandbox: {actual}",
                diffs.join("\n    ")
            ));
        }
        checked += 1;
    }
    assert!(
        problems.is_empty(),
        "{} of {checked} fixtures differ:\n{}",
        problems.len(),
        problems.join("\n")
    );
    let expected = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] != "request" && !NOT_SIMULATED.iter().any(|(n, _)| *n == f["file"]))
        .count();
    assert_eq!(checked, expected, "every non-request fixture is checked");
    assert!(checked >= 50, "only {checked} fixtures checked");
    println!("{checked} fixture shapes matched");

    // Legacy 2023 callback style, behind its switch.
    let mut cfg = Config::default();
    cfg.bkash.callback_signature = false;
    cfg.bkash.callback_api_version = true;
    let sb = start_with(cfg).await;
    let token = sb.grant().await;
    let c = sb.create_payment(&token, "5", "L-1", "01770618575").await;
    let out = sb
        .customer_pays(c["paymentID"].as_str().unwrap(), "01770618575")
        .await;
    let fixture: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("callback/redirects.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        query_keys(out["redirect"].as_str().unwrap()),
        query_keys(fixture["legacy_2023_style"].as_str().unwrap())
    );
}

#[test]
fn shape_diff_notices_missing_extra_and_retyped_fields() {
    let mut d = Vec::new();
    shape_diff(
        "$",
        &json!({"a": "1", "b": 2, "c": [{"x": "y"}]}),
        &json!({"a": 1, "c": [{"x": "y", "z": 1}], "payerType": "Customer", "q": null}),
        &mut d,
    );
    assert_eq!(d.len(), 4, "{d:?}");
}
