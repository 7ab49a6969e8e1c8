//! Bakong: the bank app pays a KHQR, the terminal's lookups see it; expired,
//! tampered and foreign codes are refused; tokens expire and renew.

use crate::util::*;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn pay_then_single_and_bulk_check() {
    let sb = start().await;
    let token = sb.h.bakong_token();
    let code = khqr_usd(&sb, "dara_kim@wing", "2.50", Duration::from_secs(300));
    let other = khqr_usd(&sb, "dara_kim@wing", "1", Duration::from_secs(301));

    // Not paid yet: errorCode 1 with HTTP 200.
    let (s, v) = sb
        .bakong(
            "check_transaction_by_md5",
            Some(&token),
            json!({"md5": code.md5}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["responseCode"], 1);
    assert_eq!(v["errorCode"], 1);
    assert!(v["data"].is_null());

    let (s, paid) = sb
        .sim_pay(json!({"qr": code.qr, "fromAccountId": "payer_demo@abaa"}))
        .await;
    assert_eq!(s, 200, "{paid}");
    assert_eq!(paid["md5"], code.md5.as_str());
    let hash = paid["hash"].as_str().unwrap().to_string();
    assert_eq!(hash.len(), 64);

    let (s, v) = sb
        .bakong(
            "check_transaction_by_md5",
            Some(&token),
            json!({"md5": code.md5}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["responseCode"], 0);
    assert!(v["errorCode"].is_null() && v.as_object().unwrap().contains_key("errorCode"));
    let d = &v["data"];
    assert_eq!(d["hash"], hash.as_str());
    assert_eq!(d["toAccountId"], "dara_kim@wing");
    assert_eq!(d["fromAccountId"], "payer_demo@abaa");
    assert_eq!(d["currency"], "USD");
    assert!(d["amount"].is_number());
    assert_eq!(d["amount"].to_string(), "2.5");
    assert!(d["createdDateMs"].is_number());
    assert!(d["createdDateMs"].to_string().ends_with(".0"));

    // Bulk: paid and not paid, matched by md5.
    let (s, v) = sb
        .bakong(
            "check_transaction_by_md5_list",
            Some(&token),
            json!([code.md5, other.md5]),
        )
        .await;
    assert_eq!(s, 200);
    let items = v["data"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let find = |m: &str| items.iter().find(|i| i["md5"] == m).unwrap().clone();
    assert_eq!(find(&code.md5)["status"], "SUCCESS");
    assert_eq!(find(&code.md5)["data"]["hash"], hash.as_str());
    assert_eq!(find(&other.md5)["status"], "NOT_FOUND");
    assert!(find(&other.md5)["data"].is_null());

    // Item limit.
    let many: Vec<String> = (0..51).map(|i| format!("{i:032x}")).collect();
    let (s, v) = sb
        .bakong("check_transaction_by_md5_list", Some(&token), json!(many))
        .await;
    assert_eq!((s, &v["errorCode"]), (400, &json!(5)));
    let fifty: Vec<String> = (0..50).map(|i| format!("{i:032x}")).collect();
    let (s, _) = sb
        .bakong("check_transaction_by_md5_list", Some(&token), json!(fifty))
        .await;
    assert_eq!(s, 200);

    // Other lookups.
    let (_, v) = sb
        .bakong(
            "check_transaction_by_hash",
            Some(&token),
            json!({"hash": hash}),
        )
        .await;
    assert_eq!(v["data"]["hash"], hash.as_str());
    let (_, v) = sb
        .bakong(
            "check_transaction_by_short_hash",
            Some(&token),
            json!({"hash": &hash[..8], "amount": 2.5, "currency": "USD"}),
        )
        .await;
    assert_eq!(v["responseCode"], 0, "{v}");
    let (_, v) = sb
        .bakong(
            "check_transaction_by_short_hash",
            Some(&token),
            json!({"hash": &hash[..8], "amount": 3, "currency": "USD"}),
        )
        .await;
    assert_eq!(v["errorCode"], 1);
    let ext = d["externalRef"].as_str().unwrap();
    let (_, v) = sb
        .bakong(
            "check_transaction_by_external_ref",
            Some(&token),
            json!({"externalRef": ext}),
        )
        .await;
    assert_eq!(v["data"]["hash"], hash.as_str());
    let ir = d["instructionRef"].as_str().unwrap();
    let (_, v) = sb
        .bakong(
            "check_transaction_by_instruction_ref",
            Some(&token),
            json!({"instructionRef": ir}),
        )
        .await;
    assert_eq!(v["data"]["hash"], hash.as_str());
    let (_, v) = sb
        .bakong(
            "check_transaction_by_hash_list",
            Some(&token),
            json!([hash, "00".repeat(32)]),
        )
        .await;
    assert_eq!(v["data"][0]["status"], "SUCCESS");
    assert_eq!(v["data"][1]["status"], "NOT_FOUND");
    let (s, v) = sb
        .bakong("check_transaction_by_md5", Some(&token), json!({}))
        .await;
    assert_eq!((s, &v["errorCode"]), (400, &json!(5)));

    // Paying the same dynamic code twice is refused.
    let (s, v) = sb
        .sim_pay(json!({"qr": code.qr, "fromAccountId": "payer_demo@abaa"}))
        .await;
    assert_eq!((s, &v["reason"]), (422, &json!("already_paid")));

    let l = sb.ledger().await;
    let t = &l["bakong"]["transactions"][0];
    assert_eq!(t["md5"], code.md5.as_str());
    assert_eq!(t["amount"], "2.50");
    assert_eq!(t["state"], "SUCCESS");
}

#[tokio::test]
async fn expired_tampered_and_foreign_codes_are_refused() {
    let sb = start().await;
    let code = khqr_usd(&sb, "dara_kim@wing", "5", Duration::from_secs(60));
    // Tampered: one character of the merchant name changed, CRC now wrong.
    let tampered = code.qr.replacen("Till Demo", "Till Dema", 1);
    let (s, v) = sb
        .sim_pay(json!({"qr": tampered, "fromAccountId": "payer_demo@abaa"}))
        .await;
    assert_eq!((s, &v["reason"]), (422, &json!("invalid_qr")), "{v}");
    // Unknown receiving account.
    let foreign = khqr_usd(&sb, "nobody_here@nowhere", "5", Duration::from_secs(60));
    let (s, v) = sb
        .sim_pay(json!({"qr": foreign.qr, "fromAccountId": "payer_demo@abaa"}))
        .await;
    assert_eq!((s, &v["reason"]), (422, &json!("unknown_account")));
    // Bad payer account id.
    let (s, v) = sb
        .sim_pay(json!({"qr": code.qr, "fromAccountId": "not an account"}))
        .await;
    assert_eq!((s, &v["reason"]), (422, &json!("bad_payer")));
    // Expired: the sandbox clock passes the code's expiration.
    sb.advance(61).await;
    let (s, v) = sb
        .sim_pay(json!({"qr": code.qr, "fromAccountId": "payer_demo@abaa"}))
        .await;
    assert_eq!((s, &v["reason"]), (422, &json!("expired")), "{v}");
    assert!(sb.ledger().await["bakong"]["transactions"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn failed_payment_static_code_and_amount_override() {
    let sb = start().await;
    let token = sb.h.bakong_token();
    let code = khqr_usd(&sb, "dara_kim@wing", "7", Duration::from_secs(300));
    let (s, _) = sb
        .sim_pay(json!({"qr": code.qr, "fromAccountId": "payer_demo@abaa", "fail": true}))
        .await;
    assert_eq!(s, 200);
    let (_, v) = sb
        .bakong(
            "check_transaction_by_md5",
            Some(&token),
            json!({"md5": code.md5}),
        )
        .await;
    assert_eq!(v["errorCode"], 3);

    // Mismatching amount on purpose (for the terminal's discrepancy handling).
    let code = khqr_usd(&sb, "dara_kim@wing", "8", Duration::from_secs(300));
    sb.sim_pay(json!({"qr": code.qr, "fromAccountId": "payer_demo@abaa", "amount": "7.99"}))
        .await;
    let (_, v) = sb
        .bakong(
            "check_transaction_by_md5",
            Some(&token),
            json!({"md5": code.md5}),
        )
        .await;
    assert_eq!(v["data"]["amount"].to_string(), "7.99");

    // Static code: the payer types the amount; check by md5 says "static".
    let stat = khqr::encode(
        &khqr::KhqrRequest::individual("sokha_chan@aclb", "Sokha", "Phnom Penh"),
        sb.h.clock().now_ms(),
    )
    .unwrap();
    let (s, v) = sb
        .sim_pay(json!({"qr": stat.qr, "fromAccountId": "payer_demo@abaa"}))
        .await;
    assert_eq!((s, &v["reason"]), (422, &json!("amount_required")));
    let (s, _) = sb
        .sim_pay(json!({"qr": stat.qr, "fromAccountId": "payer_demo@abaa", "amount": "4000"}))
        .await;
    assert_eq!(s, 200);
    let (_, v) = sb
        .bakong(
            "check_transaction_by_md5",
            Some(&token),
            json!({"md5": stat.md5}),
        )
        .await;
    assert_eq!(v["errorCode"], 2);
}

#[tokio::test]
async fn tokens_expire_and_renew() {
    let sb = start().await;
    let (s, v) = sb
        .bakong("check_transaction_by_md5", None, json!({"md5": "x"}))
        .await;
    assert_eq!((s, &v["errorCode"]), (401, &json!(6)));
    let (s, v) = sb
        .bakong(
            "check_transaction_by_md5",
            Some("forged"),
            json!({"md5": "x"}),
        )
        .await;
    assert_eq!((s, &v["errorCode"]), (401, &json!(6)));
    let (s, v) = sb
        .bakong("renew_token", None, json!({"email": "nobody@x.test"}))
        .await;
    assert_eq!((s, &v["errorCode"]), (200, &json!(10)));
    let (s, v) = sb
        .bakong("renew_token", None, json!({"email": "dev@till.test"}))
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["responseMessage"], "Token has been issued");
    let token = v["data"]["token"].as_str().unwrap().to_string();
    assert_eq!(token.split('.').count(), 3);
    let (s, _) = sb
        .bakong(
            "check_transaction_by_md5",
            Some(&token),
            json!({"md5": "x"}),
        )
        .await;
    assert_eq!(s, 200);
    sb.advance(91 * 86_400).await;
    let (s, v) = sb
        .bakong(
            "check_transaction_by_md5",
            Some(&token),
            json!({"md5": "x"}),
        )
        .await;
    assert_eq!((s, &v["errorCode"]), (401, &json!(6)));
}

#[tokio::test]
async fn account_checks_and_deeplink() {
    let sb = start().await;
    let token = sb.h.bakong_token();
    let (_, v) = sb
        .bakong(
            "check_bakong_account",
            Some(&token),
            json!({"accountId": "dara_kim@wing"}),
        )
        .await;
    assert_eq!(
        (v["responseCode"].clone(), v["data"].clone()),
        (json!(0), json!(null))
    );
    let (_, v) = sb
        .bakong(
            "check_bakong_account",
            Some(&token),
            json!({"accountId": "ghost@wing"}),
        )
        .await;
    assert_eq!(v["errorCode"], 11);
    let (_, v) = sb
        .bakong(
            "check_bakong_account",
            Some(&token),
            json!({"accountId": "no-at-sign"}),
        )
        .await;
    assert_eq!(v["errorCode"], 12);
    let (_, v) = sb
        .bakong(
            "check_account_exist",
            None,
            json!({"accountId": "dara_kim@wing"}),
        )
        .await;
    assert_eq!(v["responseCode"], 0);
    let code = khqr_usd(&sb, "dara_kim@wing", "3", Duration::from_secs(300));
    let (_, v) = sb
        .bakong("generate_deeplink_by_qr", None, json!({"qr": code.qr}))
        .await;
    let link = v["data"]["shortLink"].as_str().unwrap();
    let page = sb
        .http
        .get(link)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&code.qr[..40]));
}

#[tokio::test]
async fn bank_app_page_pays_an_uploaded_png() {
    let sb = start().await;
    let code = khqr_usd(&sb, "dara_kim@wing", "1.25", Duration::from_secs(300));
    let png = khqr::render_png(&code.qr, 400).unwrap();
    let form = reqwest::multipart::Form::new()
        .part(
            "png",
            reqwest::multipart::Part::bytes(png)
                .file_name("qr.png")
                .mime_str("image/png")
                .unwrap(),
        )
        .text("qr", "")
        .text("fromAccountId", "payer_demo@abaa")
        .text("amount", "");
    let r = sb
        .http
        .post(sb.url("/pay/bakong/"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains(&code.md5), "{html}");
    // Pasting an expired string is refused on the page too.
    sb.advance(301).await;
    let form = reqwest::multipart::Form::new()
        .text("qr", code.qr.clone())
        .text("fromAccountId", "payer_demo@abaa");
    let r = sb
        .http
        .post(sb.url("/pay/bakong/"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("data-reason=\"expired\""));
}
