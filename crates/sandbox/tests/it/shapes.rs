//! The sandbox over HTTPS, and its settings for answer shapes the public
//! sources disagree on: token answers without `statusCode`, bulk items with
//! the transaction under a key, on the item itself, or missing.

use crate::util::*;
use serde_json::{json, Value};
use std::time::Duration;
use till_sandbox::config::BulkItemFields;
use till_sandbox::Config;
use till_test_ca::TestCa;

#[tokio::test]
async fn serves_https_with_the_given_certificate() {
    let ca = TestCa::new("sandbox test CA");
    let leaf = ca.issue_loopback();
    let cfg = Config {
        tls: Some(till_sandbox::TlsIdentity::new(leaf.cert_pem, leaf.key_pem)),
        ..Default::default()
    };
    let mut sb = start_with(cfg).await;
    assert!(sb.h.origin().starts_with("https://127.0.0.1:"));
    assert!(sb.h.bkash_base_url().starts_with("https://"));
    // A client that does not know the CA is refused, and the sandbox counts it.
    assert!(sb.http.get(sb.url("/sim/ledger")).send().await.is_err());
    sb.h.wait_tls_handshake_failures(1).await;
    sb.http = reqwest::Client::builder()
        .tls_certs_merge([reqwest::Certificate::from_pem(ca.cert_pem().as_bytes()).unwrap()])
        .build()
        .unwrap();
    // The whole flow works over it: a grant, a hosted-page URL on https.
    let token = sb.grant().await;
    let (s, v) = sb
        .bk(
            "create",
            &token,
            json!({"mode":"0011","payerReference":"x","callbackURL":CALLBACK,"amount":"10","currency":"BDT","intent":"sale","merchantInvoiceNumber":"TLS-1"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert!(
        v["bkashURL"].as_str().unwrap().starts_with("https://"),
        "{v}"
    );
    assert_eq!(sb.h.tls_handshake_failures(), 1);
}

#[tokio::test]
async fn token_answers_without_status_code_when_configured() {
    let mut cfg = Config::default();
    cfg.bkash.token_status_code = false;
    let sb = start_with(cfg).await;
    let (s, v) = sb.token_call("grant", sb.app_body()).await;
    assert_eq!(s, 200, "{v}");
    assert!(
        v.get("statusCode").is_none() && v.get("statusMessage").is_none(),
        "{v}"
    );
    assert!(v["id_token"].is_string() && v["refresh_token"].is_string());
    let (s, r) = sb
        .token_call(
            "refresh",
            json!({"app_key": sb.cfg().bkash.app_key, "app_secret": sb.cfg().bkash.app_secret, "refresh_token": v["refresh_token"]}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert!(r.get("statusCode").is_none(), "{r}");
    assert!(r["id_token"].is_string());
    // The default keeps the spec's shape.
    let sb = start().await;
    assert_eq!(sb.grant_full().await["statusCode"], "0000");
}

/// One paid and one unpaid code through the bulk check on a sandbox with
/// `fields`; returns the two items (paid first).
async fn bulk_items(fields: BulkItemFields, key: &str) -> (Value, Value, String) {
    let mut cfg = Config::default();
    cfg.bakong.bulk_item_fields = fields;
    cfg.bakong.bulk_item_key = key.into();
    let sb = start_with(cfg).await;
    let token = sb.h.bakong_token();
    let paid = khqr_usd(&sb, "dara_kim@wing", "2.50", Duration::from_secs(300));
    let unpaid = khqr_usd(&sb, "dara_kim@wing", "1", Duration::from_secs(301));
    let (s, p) = sb
        .sim_pay(json!({"qr": paid.qr, "fromAccountId": "payer_demo@abaa"}))
        .await;
    assert_eq!(s, 200, "{p}");
    let (s, v) = sb
        .bakong(
            "check_transaction_by_md5_list",
            Some(&token),
            json!([paid.md5, unpaid.md5]),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let items = v["data"].as_array().unwrap().clone();
    let find = |m: &str| items.iter().find(|i| i["md5"] == m).unwrap().clone();
    (
        find(&paid.md5),
        find(&unpaid.md5),
        p["hash"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn bulk_item_shapes() {
    for key in ["data", "transaction"] {
        let (paid, unpaid, hash) = bulk_items(BulkItemFields::Nested, key).await;
        assert_eq!(paid["status"], "SUCCESS");
        assert_eq!(paid[key]["hash"], hash.as_str(), "{paid}");
        assert!(paid.get("hash").is_none());
        assert!(unpaid[key].is_null(), "{unpaid}");
    }

    let (paid, unpaid, hash) = bulk_items(BulkItemFields::Inline, "data").await;
    assert_eq!(paid["status"], "SUCCESS");
    assert_eq!(paid["hash"], hash.as_str(), "{paid}");
    assert_eq!(paid["toAccountId"], "dara_kim@wing");
    assert_eq!(paid["amount"].to_string(), "2.5");
    assert!(paid.get("data").is_none(), "{paid}");
    assert_eq!(unpaid["status"], "NOT_FOUND");
    assert!(unpaid["data"].is_null(), "{unpaid}");

    let (paid, unpaid, _) = bulk_items(BulkItemFields::Missing, "data").await;
    assert_eq!(paid["status"], "SUCCESS");
    let keys: Vec<&String> = paid.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["md5", "message", "status"], "{paid}");
    assert_eq!(unpaid["status"], "NOT_FOUND");
}

#[test]
fn shapes_are_settings_in_toml() {
    let c = Config::from_toml(
        "[bkash]\ntoken_status_code = false\n[bakong]\nbulk_item_fields = \"inline\"\n",
    )
    .unwrap();
    assert!(!c.bkash.token_status_code);
    assert_eq!(c.bakong.bulk_item_fields, BulkItemFields::Inline);
    assert_eq!(
        Config::default().bakong.bulk_item_fields,
        BulkItemFields::Nested
    );
}
