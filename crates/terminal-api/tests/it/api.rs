//! The API against a real till (sandbox wallets, journal, printer): bad
//! input and keys, one payment per reference, the stream, cancelling from
//! either side, refund requests, the busy till, TLS.

use crate::util::*;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use till_core::{ListFilter, PaymentState};

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("(no code)")
}

#[tokio::test]
async fn bad_input_and_bad_keys_get_one_error_shape() {
    let till = Till::start().await;
    let key = till.pair("POS 1");
    let cases: Vec<(Value, u16, &str)> = vec![
        (
            json!({"amount": "-5", "currency": "BDT", "wallet": "demo", "reference": "A"}),
            400,
            "amount_not_positive",
        ),
        (
            json!({"amount": -5, "currency": "BDT", "wallet": "demo", "reference": "A"}),
            400,
            "amount_not_positive",
        ),
        (
            json!({"amount": "0", "currency": "BDT", "wallet": "demo", "reference": "A"}),
            400,
            "amount_not_positive",
        ),
        (
            json!({"amount": "10.005", "currency": "BDT", "wallet": "demo", "reference": "A"}),
            400,
            "amount_decimals",
        ),
        (
            json!({"amount": "4000.5", "currency": "KHR", "wallet": "bakong", "reference": "A"}),
            400,
            "amount_decimals",
        ),
        (
            json!({"amount": "ten", "currency": "BDT", "wallet": "demo", "reference": "A"}),
            400,
            "amount_invalid",
        ),
        (
            json!({"amount": true, "currency": "BDT", "wallet": "demo", "reference": "A"}),
            400,
            "amount_invalid",
        ),
        (
            json!({"amount": "99999999999", "currency": "BDT", "wallet": "demo", "reference": "A"}),
            400,
            "amount_too_large",
        ),
        (
            json!({"amount": "10", "currency": "EUR", "wallet": "demo", "reference": "A"}),
            400,
            "currency_unknown",
        ),
        (
            json!({"amount": "10", "currency": "BDT", "wallet": "paypal", "reference": "A"}),
            400,
            "wallet_unknown",
        ),
        (
            json!({"amount": "10", "currency": "BDT", "wallet": "demo"}),
            400,
            "invalid_field",
        ),
        (
            json!({"amount": "10", "currency": "BDT", "wallet": "demo", "reference": ""}),
            400,
            "reference_invalid",
        ),
        (
            json!({"amount": "10", "currency": "BDT", "wallet": "demo", "reference": "x".repeat(65)}),
            400,
            "reference_invalid",
        ),
        (
            json!({"ammount": "10", "currency": "BDT", "wallet": "demo", "reference": "A"}),
            400,
            "invalid_field",
        ),
        (
            json!({"amount": "10", "currency": 5, "wallet": "demo", "reference": "A"}),
            400,
            "invalid_field",
        ),
        (json!([1, 2]), 400, "malformed_json"),
        // BDT is taken by bKash and the demo wallet: which one must be said.
        (
            json!({"amount": "10", "currency": "BDT", "reference": "A"}),
            422,
            "wallet_needed",
        ),
        // Bakong takes KHR and USD only.
        (
            json!({"amount": "10", "currency": "BDT", "wallet": "bakong", "reference": "A"}),
            422,
            "currency_not_taken",
        ),
        // Nagad is off on this till.
        (
            json!({"amount": "10", "currency": "BDT", "wallet": "nagad", "reference": "A"}),
            422,
            "wallet_off",
        ),
    ];
    for (body, status, want) in &cases {
        let (got, v) = till.post(&key, "/v1/charges", body.clone()).await;
        assert_eq!((got, code(&v)), (*status, *want), "{body} → {v}");
        // One shape: code, params (maybe empty), an English message.
        assert!(v["error"]["message"].is_string(), "{v}");
    }
    let (_, v) = till
        .post(
            &key,
            "/v1/charges",
            json!({"amount": "10.005", "currency": "BDT", "wallet": "demo", "reference": "A"}),
        )
        .await;
    assert_eq!(v["error"]["params"], json!({"currency": "BDT", "max": "2"}));
    // Not JSON at all.
    let r = till
        .http
        .post(till.url("/v1/charges"))
        .bearer_auth(&key)
        .body("{\"amount\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(code(&r.json().await.unwrap()), "malformed_json");
    // An exponent is a float's spelling, not an amount's.
    let r = till
        .http
        .post(till.url("/v1/charges"))
        .bearer_auth(&key)
        .body(r#"{"amount": 1e3, "currency": "BDT", "wallet": "demo", "reference": "A"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(code(&r.json().await.unwrap()), "amount_invalid");
    // Nothing of the above reached the journal.
    assert!(till
        .engine
        .list(&ListFilter {
            page: 1,
            page_size: 50,
            ..Default::default()
        })
        .unwrap()
        .is_empty());

    // Keys: none, not Bearer, unknown, a wrong secret, revoked.
    let body = json!({"amount": "10", "currency": "BDT", "wallet": "demo", "reference": "K"});
    let r = till
        .http
        .post(till.url("/v1/charges"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(code(&r.json().await.unwrap()), "key_missing");
    let r = till
        .http
        .get(till.url("/v1/wallets"))
        .header("Authorization", format!("Basic {key}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let (id, _) = key.split_once('.').unwrap();
    let wrong = format!("{id}.{}", "0".repeat(64));
    for k in ["pos_nothing.abc", "garbage", wrong.as_str()] {
        let (s, v) = till.post(k, "/v1/charges", body.clone()).await;
        assert_eq!((s, code(&v)), (401, "key_invalid"), "{k}");
    }
    for _ in 0..4 {
        till.post(&wrong, "/v1/charges", body.clone()).await;
    }
    let second = till.pair("POS 2");
    let (s, _) = till.get(&second, "/v1/wallets").await;
    assert_eq!(s, 200);
    let second_id = second.split_once('.').unwrap().0;
    till.engine
        .revoke_pos_key(second_id, "manager@test")
        .unwrap();
    let (s, v) = till.post(&second, "/v1/charges", body.clone()).await;
    assert_eq!((s, code(&v)), (401, "key_revoked"));
    assert_eq!(v["error"]["params"]["key"], second_id);
    // The first key is untouched by all this.
    let (s, v) = till.post(&key, "/v1/charges", body.clone()).await;
    assert_eq!(s, 201, "{v}");

    // The audit log: pairing, revoking, and the refusals — the wrong secret
    // of a real key 5 times in a row is one row (throttled), naming the key.
    let audit = till.engine.audit_log(100).unwrap();
    let rows = |action: &str| {
        audit
            .iter()
            .filter(|a| a.action == action)
            .collect::<Vec<_>>()
    };
    assert_eq!(rows("pos.key_created").len(), 2);
    assert_eq!(rows("pos.key_revoked").len(), 1);
    let refused = rows("pos.key_refused");
    let on_key: Vec<_> = refused
        .iter()
        .filter(|a| a.target.as_deref() == Some(id))
        .collect();
    assert_eq!(on_key.len(), 1, "{refused:?}");
    assert!(
        on_key[0]
            .detail
            .as_deref()
            .unwrap()
            .starts_with("key_invalid: 1 request"),
        "{:?}",
        on_key[0]
    );
    assert!(refused
        .iter()
        .any(|a| a.detail.as_deref().unwrap().starts_with("key_revoked")));
    assert!(refused
        .iter()
        .any(|a| a.detail.as_deref().unwrap().starts_with("key_missing")));

    // Unknown ids and routes: 404 in the same shape; another POS's charge is unknown to this one.
    let (s, v) = till.get(&key, "/v1/charges/01NOPE").await;
    assert_eq!((s, code(&v)), (404, "not_found"));
    let third = till.pair("POS 3");
    let (_, mine) = till
        .post(
            &key,
            "/v1/charges",
            json!({"amount": "3", "currency": "BDT", "wallet": "demo", "reference": "M"}),
        )
        .await;
    let (s, _) = till
        .get(
            &third,
            &format!("/v1/charges/{}", mine["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(s, 404);
    let (s, v) = till.get(&key, "/v2/nothing").await;
    assert_eq!((s, code(&v)), (404, "not_found"));
    let (s, v) = till.get(&key, "/v1/charges").await;
    assert_eq!((s, code(&v)), (405, "method_not_allowed"));
    till.stop().await;
}

#[tokio::test]
async fn one_reference_is_one_payment_even_when_asked_at_once() {
    let till = Till::start().await;
    let key = till.pair("POS 1");
    let body =
        json!({"amount": "25.00", "currency": "BDT", "wallet": "demo", "reference": "ORDER-7"});
    let asks = (0..8).map(|_| till.post(&key, "/v1/charges", body.clone()));
    let answers = futures_util::future::join_all(asks).await;
    let ids: std::collections::BTreeSet<_> = answers
        .iter()
        .map(|(_, v)| v["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 1, "{answers:?}");
    let created = answers.iter().filter(|(s, _)| *s == 201).count();
    let replayed = answers
        .iter()
        .filter(|(s, v)| *s == 200 && v["replayed"] == true)
        .count();
    assert_eq!((created, replayed), (1, 7), "{answers:?}");
    let all = till
        .engine
        .list(&ListFilter {
            page: 1,
            page_size: 50,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(all.len(), 1);
    // The payment records where it came from: the cashier's screen says so.
    let origin = all[0].origin.clone().unwrap();
    assert_eq!(
        (origin.pos_name.as_str(), origin.reference.as_str()),
        ("POS 1", "ORDER-7")
    );
    // The same reference for another amount, or another wallet: refused, nothing new.
    for other in [
        json!({"amount": "26.00", "currency": "BDT", "wallet": "demo", "reference": "ORDER-7"}),
        json!({"amount": "25.00", "currency": "BDT", "wallet": "bkash", "reference": "ORDER-7"}),
    ] {
        let (s, v) = till.post(&key, "/v1/charges", other).await;
        assert_eq!((s, code(&v)), (409, "reference_conflict"), "{v}");
        assert_eq!(v["error"]["params"]["charge"], all[0].id.as_str());
    }
    // A JSON number reads as the same amount ("25.00" = 25.0 = 25).
    let (s, v) = till
        .post(
            &key,
            "/v1/charges",
            json!({"amount": 25.0, "currency": "BDT", "wallet": "demo", "reference": "ORDER-7"}),
        )
        .await;
    assert_eq!((s, v["id"].as_str()), (200, Some(all[0].id.as_str())));
    // References are each POS's own: another POS's ORDER-7 is another sale.
    let other = till.pair("POS 2");
    let (s, v) = till.post(&other, "/v1/charges", body.clone()).await;
    assert_eq!(s, 201);
    assert_ne!(v["id"].as_str(), Some(all[0].id.as_str()));
    till.stop().await;
}

#[tokio::test]
async fn the_stream_resumes_and_either_side_may_cancel() {
    let till = Till::start().await;
    let key = till.pair("POS 1");
    let mut sse = Sse::open(&till, &key, None).await;
    let (s, c) = till
        .post(
            &key,
            "/v1/charges",
            json!({"amount": "4000", "currency": "KHR", "wallet": "bakong", "reference": "T-1"}),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    assert_eq!(c["status"], "awaiting_customer");
    assert_eq!(c["customer"]["step"], "code");
    assert!(c["customer"]["code"]
        .as_str()
        .unwrap()
        .starts_with("000201"));
    let id = c["id"].as_str().unwrap().to_owned();
    let first = sse.until(&id, "charge.awaiting_customer").await;
    assert_eq!(first[0].kind, "charge.created");
    // The cashier cancels the POS's charge at the till (Esc).
    till.engine.cancel(&id, "cashier").await.unwrap();
    let e = sse.until(&id, "charge.cancelled").await.pop().unwrap();
    assert_eq!(e.data["charge"]["failure"]["code"], "cancelled_at_till");
    assert_eq!(e.data["charge"]["pos"]["name"], "POS 1");
    // A stream resumed after the first event hears the rest again, in order.
    let mut again = Sse::open(&till, &key, Some(first[0].id)).await;
    let replay = again.until(&id, "charge.cancelled").await;
    let kinds: Vec<_> = replay.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["charge.awaiting_customer", "charge.cancelled"]);
    assert!(replay.windows(2).all(|w| w[0].id < w[1].id));

    // The POS cancels its own charge; twice is refused.
    let (_, c) = till
        .post(
            &key,
            "/v1/charges",
            json!({"amount": "5000", "currency": "KHR", "wallet": "bakong", "reference": "T-2"}),
        )
        .await;
    assert_eq!(c["status"], "awaiting_customer", "{c}");
    let path = format!("/v1/charges/{}/cancel", c["id"].as_str().unwrap());
    let (s, v) = till.post(&key, &path, json!({})).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("cancelled")), "{v}");
    let (s, v) = till.post(&key, &path, json!({})).await;
    assert_eq!((s, code(&v)), (409, "not_cancellable"));
    // Another POS's stream hears none of it.
    let other = till.pair("POS 2");
    let mut theirs = Sse::open(&till, &other, Some(0)).await;
    assert!(theirs.next(Duration::from_millis(1500)).await.is_none());
    // A revoked key's stream ends.
    till.engine
        .revoke_pos_key(key.split_once('.').unwrap().0, "manager@test")
        .unwrap();
    while let Some(e) = sse.next(Duration::from_secs(5)).await {
        assert_ne!(e.kind, "", "events until the end");
    }
    till.stop().await;
}

#[tokio::test]
async fn refunds_are_requests_a_manager_decides() {
    let till = Till::start().await;
    let key = till.pair("POS 1");
    let mut sse = Sse::open(&till, &key, None).await;
    let (_, c) = till
        .post(
            &key,
            "/v1/charges",
            json!({"amount": "80.00", "currency": "BDT", "wallet": "demo", "reference": "R-1"}),
        )
        .await;
    let id = c["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/charges/{id}/refund-requests");
    // Not paid yet: nothing to refund.
    let (s, v) = till.post(&key, &path, json!({})).await;
    assert_eq!((s, code(&v)), (409, "not_refundable"), "{v}");
    let paid = sse.until(&id, "charge.paid").await.pop().unwrap();
    assert_eq!(paid.data["charge"]["paid"], true);
    let (s, v) = till.post(&key, &path, json!({"amount": "90.00"})).await;
    assert_eq!((s, code(&v)), (422, "refund_over"));
    let (s, r) = till
        .post(
            &key,
            &path,
            json!({"amount": "30.00", "reason": "one item back"}),
        )
        .await;
    assert_eq!((s, r["status"].as_str()), (201, Some("pending")), "{r}");
    let (s, v) = till.post(&key, &path, json!({"amount": "10.00"})).await;
    assert_eq!((s, code(&v)), (409, "refund_request_waiting"));
    sse.until(&id, "refund_request.created").await;
    // The API refunded nothing: the payment is as it was.
    assert_eq!(
        till.engine.payment(&id).unwrap().state,
        PaymentState::Settled
    );
    // The manager declines it…
    let req = r["id"].as_str().unwrap();
    till.engine
        .decline_refund_request(req, "manager@test", Some("no receipt"))
        .unwrap();
    let e = sse
        .until(&id, "refund_request.declined")
        .await
        .pop()
        .unwrap();
    assert_eq!(e.data["charge"]["refund_requests"][0]["status"], "declined");
    assert!(
        till.engine
            .approve_refund_request(req, "manager@test")
            .await
            .is_err(),
        "decided once"
    );
    // …and approves the next one: the refund happens, the stream tells it.
    let (_, r) = till.post(&key, &path, json!({})).await;
    let (p, refund) = till
        .engine
        .approve_refund_request(r["id"].as_str().unwrap(), "manager@test")
        .await
        .unwrap();
    assert_eq!(refund.amount.wire(), "80.00");
    let seen = sse.until(&id, "charge.refunded").await;
    let kinds: Vec<_> = seen.iter().map(|e| e.kind.as_str()).collect();
    assert!(
        kinds.starts_with(&[
            "refund_request.created",
            "refund_request.approved",
            "charge.refund_pending"
        ]),
        "{kinds:?}"
    );
    assert_eq!(p.id, id);
    let (_, c) = till.get(&key, &format!("/v1/charges/{id}")).await;
    assert_eq!(
        (c["status"].as_str(), c["refunded"].as_str()),
        (Some("refunded"), Some("80.00"))
    );
    let audit = till.engine.audit_log(50).unwrap();
    for action in [
        "refund_request.created",
        "refund_request.declined",
        "refund_request.approved",
    ] {
        assert!(audit.iter().any(|a| a.action == action), "{action} audited");
    }
    till.stop().await;
}

#[tokio::test]
async fn a_busy_till_refuses_new_charges_but_answers_replays_and_tls_works() {
    let busy_with = Arc::new(std::sync::Mutex::new(None::<String>));
    let flag = busy_with.clone();
    let busy: till_terminal_api::Busy = Arc::new(move || flag.lock().unwrap().clone());
    let ca = till_test_ca::TestCa::new("Till API test CA");
    let cert = ca.issue_loopback();
    let tls = till_serve::ServerTls::from_pem(
        cert.cert_pem.as_bytes(),
        cert.key_pem.as_bytes(),
        "cert",
        "key",
    )
    .unwrap();
    let mut till = Till::start_with(Some(busy), Some(tls)).await;
    assert!(till.url("/").starts_with("https://"));
    till.http = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca.cert_pem().as_bytes()).unwrap()])
        .build()
        .unwrap();
    let key = till.pair("POS 1");
    let body = json!({"amount": "12.00", "currency": "BDT", "wallet": "demo", "reference": "B-1"});
    let (s, first) = till.post(&key, "/v1/charges", body.clone()).await;
    assert_eq!(s, 201);
    *busy_with.lock().unwrap() = Some(first["id"].as_str().unwrap().to_owned());
    let (s, v) = till
        .post(
            &key,
            "/v1/charges",
            json!({"amount": "1", "currency": "BDT", "wallet": "demo", "reference": "B-2"}),
        )
        .await;
    assert_eq!((s, code(&v)), (409, "till_busy"));
    let (s, _) = till.post(&key, "/v1/charges", body).await;
    assert_eq!(s, 200, "a replay is answered while busy");
    // Plain HTTP to the TLS port gets no answer.
    let plain = format!("http://{}/v1/wallets", till.api.as_ref().unwrap().addr());
    let answered = reqwest::Client::new()
        .get(plain)
        .send()
        .await
        .is_ok_and(|r| r.status().is_success());
    assert!(!answered, "plain HTTP was served on the TLS port");
    till.stop().await;
}

#[tokio::test]
async fn the_openapi_document_is_what_is_served() {
    let doc = serde_json::to_value(till_terminal_api::openapi()).unwrap();
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/terminal-api.openapi.json"
    );
    let text = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    if std::env::var_os("TILL_WRITE_OPENAPI").is_some() {
        std::fs::write(file, &text).unwrap();
    }
    let kept = std::fs::read_to_string(file)
        .expect("docs/terminal-api.openapi.json (TILL_WRITE_OPENAPI=1 writes it)");
    assert_eq!(
        kept, text,
        "docs/terminal-api.openapi.json is out of date: run with TILL_WRITE_OPENAPI=1"
    );
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let till = Till::start().await;
    let served: Value = till
        .http
        .get(till.url("/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(served, doc);
    // Every documented operation is served and asks for the key (no 404, no 405).
    let mut n = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let url = till.url(&path.replace("{id}", "X"));
            let req = match method.as_str() {
                "get" => till.http.get(url),
                "post" => till.http.post(url),
                m => panic!("{m} {path}"),
            };
            let r = req.send().await.unwrap();
            assert_eq!(r.status(), 401, "{method} {path}");
            assert_eq!(code(&r.json().await.unwrap()), "key_missing");
            n += 1;
        }
    }
    assert_eq!(n, 6);
    till.stop().await;
}
