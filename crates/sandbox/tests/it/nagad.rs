//! Nagad through HTTP: a merchant written here from the spec (its own RSA
//! code, not Till's client) talks to the simulator, and a browser fills in
//! the customer's page form by form.

use crate::util::*;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::signature::{SignatureEncoding, Signer};
use rsa::{Pkcs1v15Encrypt, RsaPrivateKey, RsaPublicKey};
use serde_json::{json, Value};
use till_sandbox::config::nagad_test_keys as keys;
use till_sandbox::Config;

const CALLBACK: &str = "https://merchant.example.com/nagad/callback?terminal=T1";
const WALLET: &str = "01711111111";

/// The merchant side of the exchange, from the spec.
struct Merchant {
    id: String,
    key: RsaPrivateKey,
    nagad: RsaPublicKey,
}

impl Merchant {
    fn new(sb: &Sb) -> Merchant {
        Merchant {
            id: sb.cfg().nagad.merchant_id.clone(),
            key: RsaPrivateKey::from_pkcs8_pem(keys::MERCHANT_PRIVATE_PEM).unwrap(),
            nagad: RsaPublicKey::from_public_key_pem(sb.h.nagad_public_key_pem()).unwrap(),
        }
    }

    /// A merchant holding the wrong private key (its signatures fail).
    fn stranger(sb: &Sb) -> Merchant {
        Merchant {
            key: RsaPrivateKey::from_pkcs8_pem(keys::STRANGER_PRIVATE_PEM).unwrap(),
            ..Merchant::new(sb)
        }
    }

    fn seal(&self, plain: &str) -> String {
        seal_to(&self.nagad, plain)
    }

    fn sign(&self, plain: &str) -> String {
        let sig = SigningKey::<sha2::Sha256>::new(self.key.clone()).sign(plain.as_bytes());
        STANDARD.encode(sig.to_bytes())
    }

    /// The plaintext bytes of a sealed answer (what Nagad signed).
    fn open_raw(&self, sealed: &str) -> Vec<u8> {
        let ct = STANDARD.decode(sealed).unwrap();
        self.key.decrypt(Pkcs1v15Encrypt, &ct).unwrap()
    }

    fn open(&self, sealed: &str) -> Value {
        serde_json::from_slice(&self.open_raw(sealed)).unwrap()
    }

    fn init_plain(&self, order: &str, challenge: &str) -> String {
        json!({"merchantId": self.id, "datetime": "20260102030405", "orderId": order, "challenge": challenge})
            .to_string()
    }

    fn init_body(&self, order: &str, challenge: &str) -> Value {
        let plain = self.init_plain(order, challenge);
        json!({"accountNumber": "01700000017", "dateTime": "20260102030405",
               "sensitiveData": self.seal(&plain), "signature": self.sign(&plain)})
    }

    fn complete_plain(&self, order: &str, amount: &str, challenge: &str) -> String {
        json!({"merchantId": self.id, "orderId": order, "currencyCode": "050",
               "amount": amount, "challenge": challenge})
        .to_string()
    }

    fn complete_body(&self, order: &str, amount: &str, challenge: &str) -> Value {
        let plain = self.complete_plain(order, amount, challenge);
        json!({"sensitiveData": self.seal(&plain), "signature": self.sign(&plain),
               "merchantCallbackURL": CALLBACK,
               "additionalMerchantInfo": {"terminal": "T1"}})
    }
}

/// rand 0.9's thread RNG for `rsa` 0.9, which takes `rand_core` 0.6 RNGs.
struct Rng(rand::rngs::ThreadRng);

impl rsa::rand_core::RngCore for Rng {
    fn next_u32(&mut self) -> u32 {
        rand::RngCore::next_u32(&mut self.0)
    }
    fn next_u64(&mut self) -> u64 {
        rand::RngCore::next_u64(&mut self.0)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        rand::RngCore::fill_bytes(&mut self.0, dest)
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
        rand::RngCore::fill_bytes(&mut self.0, dest);
        Ok(())
    }
}

impl rsa::rand_core::CryptoRng for Rng {}

fn seal_to(key: &RsaPublicKey, plain: &str) -> String {
    let ct = key
        .encrypt(&mut Rng(rand::rng()), Pkcs1v15Encrypt, plain.as_bytes())
        .unwrap();
    STANDARD.encode(ct)
}

fn nagad_key(sb: &Sb) -> RsaPublicKey {
    RsaPublicKey::from_public_key_pem(sb.h.nagad_public_key_pem()).unwrap()
}

/// Checks Nagad's signature over an opened answer's bytes.
fn signed_by_nagad(sb: &Sb, plain: &[u8], sig: &str) -> bool {
    use rsa::signature::Verifier;
    let sig = rsa::pkcs1v15::Signature::try_from(STANDARD.decode(sig).unwrap().as_slice()).unwrap();
    rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(nagad_key(sb))
        .verify(plain, &sig)
        .is_ok()
}

impl Sb {
    fn nagad_url(&self, path: &str) -> String {
        format!("{}/{path}", self.h.nagad_base_url())
    }

    async fn nagad_post(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = self
            .http
            .post(self.nagad_url(path))
            .header("X-KM-Api-Version", "v-0.2.0")
            .header("X-KM-IP-V4", "10.0.0.7")
            .header("X-KM-Client-Type", "PC_WEB")
            .json(body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn nagad_verify(&self, payment_ref: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!(
                "{}/verify/payment/{}",
                self.h.nagad_base_url(),
                enc(payment_ref)
            ))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    /// initialize → (paymentReferenceId, Nagad's challenge).
    async fn nagad_init(&self, m: &Merchant, order: &str) -> (String, String) {
        let challenge = format!("ch-{order}-{}", self.h.clock().now_ms());
        let (s, v) = self
            .nagad_post(
                &format!("check-out/initialize/{}/{order}", m.id),
                &m.init_body(order, &challenge),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        let raw = m.open_raw(v["sensitiveData"].as_str().unwrap());
        assert!(
            signed_by_nagad(self, &raw, v["signature"].as_str().unwrap()),
            "the answer is signed by Nagad"
        );
        let plain: Value = serde_json::from_slice(&raw).unwrap();
        assert!(
            plain["acceptDateTime"].as_str().unwrap().len() == 14,
            "{plain}"
        );
        (
            plain["paymentReferenceId"].as_str().unwrap().to_string(),
            plain["challenge"].as_str().unwrap().to_string(),
        )
    }

    /// initialize → complete → (paymentReferenceId, page URL).
    async fn nagad_start(&self, m: &Merchant, order: &str, amount: &str) -> (String, String) {
        let (pref, challenge) = self.nagad_init(m, order).await;
        let (s, v) = self
            .nagad_post(
                &format!("check-out/complete/{}", enc(&pref)),
                &m.complete_body(order, amount, &challenge),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["status"], "Success");
        (pref, v["callBackUrl"].as_str().unwrap().to_string())
    }

    /// The customer fills the page in; returns the 303's Location.
    async fn nagad_customer(&self, page: &str, wallet: &str, otp: &str, pin: &str) -> String {
        let r = self.http.get(page).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains(r#"name="wallet""#), "{html}");
        let post = |form: Vec<(&str, &str)>| self.http.post(page).form(&form).send();
        let html = post(vec![
            ("step", "wallet"),
            ("wallet", wallet),
            ("action", "pay"),
        ])
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
        assert!(html.contains(r#"name="otp""#), "{html}");
        let html = post(vec![
            ("step", "otp"),
            ("wallet", wallet),
            ("otp", otp),
            ("action", "pay"),
        ])
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
        assert!(html.contains(r#"name="pin""#), "{html}");
        let r = post(vec![
            ("step", "pin"),
            ("wallet", wallet),
            ("otp", otp),
            ("pin", pin),
            ("action", "pay"),
        ])
        .await
        .unwrap();
        assert_eq!(r.status(), 303);
        r.headers()["location"].to_str().unwrap().to_string()
    }

    fn ledger_nagad(&self, pref: &str) -> Value {
        self.h.ledger()["nagad"]["payments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["paymentRefId"] == pref)
            .cloned()
            .unwrap_or(Value::Null)
    }
}

/// A payment reference as one path segment (it is base64: `/`, `+`, `=`).
fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn q(url: &str, key: &str) -> Option<String> {
    query_pairs(url)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

#[tokio::test]
async fn paid_through_the_page_and_verified() {
    let sb = start().await;
    let m = Merchant::new(&sb);
    let (pref, page) = sb.nagad_start(&m, "T1-000001", "10.00").await;
    // The reference has the captured shape.
    let decoded = String::from_utf8(STANDARD.decode(&pref).unwrap()).unwrap();
    let parts: Vec<&str> = decoded.split('.').collect();
    assert_eq!(parts.len(), 4, "{decoded}");
    assert_eq!(
        (parts[0].len(), parts[1], parts[2], parts[3].len()),
        (13, m.id.as_str(), "T1-000001", 20)
    );
    assert!(page.contains("/pay/nagad/check-out/"), "{page}");

    // Before the customer acts: Ready, no transaction.
    let (s, v) = sb.nagad_verify(&pref).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "Ready");
    assert_eq!(v["issuerPaymentRefNo"], Value::Null);

    let html = sb
        .http
        .get(&page)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("৳ 10.00"), "{html}");
    let redirect = sb.nagad_customer(&page, WALLET, "123456", "1234").await;
    assert!(redirect.starts_with(CALLBACK), "{redirect}");
    assert_eq!(q(&redirect, "terminal").as_deref(), Some("T1"));
    assert_eq!(
        q(&redirect, "payment_ref_id").as_deref(),
        Some(pref.as_str())
    );
    assert_eq!(q(&redirect, "order_id").as_deref(), Some("T1-000001"));
    assert_eq!(q(&redirect, "merchant").as_deref(), Some(m.id.as_str()));
    assert_eq!(q(&redirect, "status").as_deref(), Some("Success"));
    assert_eq!(q(&redirect, "status_code").as_deref(), Some("00_0000_000"));
    assert_eq!(q(&redirect, "payment_dt").map(|d| d.len()), Some(14));

    let (s, v) = sb.nagad_verify(&pref).await;
    assert_eq!(s, 200);
    assert_eq!(v["status"], "Success");
    assert_eq!(v["statusCode"], "000");
    assert_eq!(v["amount"], "10.00");
    assert_eq!(v["orderId"], "T1-000001");
    assert_eq!(v["paymentRefId"], pref.as_str());
    assert_eq!(v["clientMobileNo"], "017****1111");
    assert_eq!(v["additionalMerchantInfo"], json!({"terminal": "T1"}));
    let trx = v["issuerPaymentRefNo"].as_str().unwrap();
    assert_eq!(trx.len(), 8);
    assert_eq!(q(&redirect, "issuer_payment_ref").as_deref(), Some(trx));
    let t = v["issuerPaymentDateTime"].as_str().unwrap();
    assert!(t.len() == 21 && t.as_bytes()[10] == b' ', "{t}");

    // The page is done: a second visit is refused, no second debit.
    assert_eq!(sb.http.get(&page).send().await.unwrap().status(), 409);
    let l = sb.ledger_nagad(&pref);
    assert_eq!(l["status"], "Success");
    assert_eq!(l["amount"], "10.00");
    assert_eq!(l["wallet"], WALLET);
    sb.h.shutdown().await;
}

#[tokio::test]
async fn cancel_wrong_pin_and_poor_wallets_end_unpaid() {
    let sb = start().await;
    let m = Merchant::new(&sb);

    let (pref, page) = sb.nagad_start(&m, "T1-000002", "25.50").await;
    let r = sb
        .http
        .post(&page)
        .form(&[("step", "wallet"), ("action", "cancel")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(q(&loc, "status").as_deref(), Some("Aborted"));
    assert_eq!(q(&loc, "payment_dt"), None);
    assert_eq!(sb.nagad_verify(&pref).await.1["status"], "Aborted");

    let (pref, page) = sb.nagad_start(&m, "T1-000003", "25.50").await;
    let loc = sb.nagad_customer(&page, WALLET, "123456", "9999").await;
    assert_eq!(q(&loc, "status").as_deref(), Some("Aborted"));
    let v = sb.nagad_verify(&pref).await.1;
    assert_eq!(
        (v["status"].as_str(), v["issuerPaymentRefNo"].as_str()),
        (Some("Aborted"), None)
    );

    let (pref, page) = sb.nagad_start(&m, "T1-000004", "25.50").await;
    let loc = sb
        .nagad_customer(&page, "01799999991", "123456", "1234")
        .await;
    assert_eq!(q(&loc, "status").as_deref(), Some("Failed"));
    assert_eq!(sb.nagad_verify(&pref).await.1["status"], "Failed");

    let (pref, page) = sb.nagad_start(&m, "T1-000005", "25.50").await;
    let loc = sb
        .nagad_customer(&page, "01799999992", "123456", "1234")
        .await;
    assert_eq!(q(&loc, "status_code").as_deref(), Some("50_0026_851"));
    assert_eq!(sb.ledger_nagad(&pref)["status"], "Failed");
    for p in sb.h.ledger()["nagad"]["payments"].as_array().unwrap() {
        assert_eq!(p["issuerPaymentRefNo"], Value::Null, "{p}");
    }
    sb.h.shutdown().await;
}

#[tokio::test]
async fn wrong_keys_and_merchants_are_refused_with_nagads_error_shape() {
    let sb = start().await;
    let m = Merchant::new(&sb);
    let path = format!("check-out/initialize/{}/T1-000010", m.id);

    // Sealed to a key that is not Nagad's: Nagad cannot open it.
    let plain = m.init_plain("T1-000010", "c1");
    let stranger_pub = RsaPrivateKey::from_pkcs8_pem(keys::STRANGER_PRIVATE_PEM)
        .unwrap()
        .to_public_key();
    let body = json!({"dateTime": "20260102030405", "sensitiveData": seal_to(&stranger_pub, &plain), "signature": m.sign(&plain)});
    let (s, v) = sb.nagad_post(&path, &body).await;
    assert_eq!((s, &v["reason"]), (400, &json!("DecryptionError")), "{v}");
    assert!(v["message"].as_str().is_some_and(|t| !t.is_empty()));

    // Signed with a key that is not the merchant's.
    let wrong = Merchant::stranger(&sb);
    let (s, v) = sb
        .nagad_post(&path, &wrong.init_body("T1-000010", "c2"))
        .await;
    assert_eq!(
        (s, &v["reason"]),
        (400, &json!("SignatureVerificationFailed")),
        "{v}"
    );

    // Another merchant id, in the path or inside the seal.
    let (s, v) = sb
        .nagad_post(
            "check-out/initialize/683999999999999/T1-000010",
            &m.init_body("T1-000010", "c3"),
        )
        .await;
    assert_eq!((s, &v["reason"]), (400, &json!("InvalidMerchant")));
    let other = Merchant {
        id: "683999999999999".into(),
        ..Merchant::new(&sb)
    };
    let (_, v) = sb
        .nagad_post(&path, &other.init_body("T1-000010", "c4"))
        .await;
    assert_eq!(v["reason"], "InvalidMerchant");
    // The order id inside the seal must be the one in the path.
    let (_, v) = sb.nagad_post(&path, &m.init_body("T1-000011", "c5")).await;
    assert_eq!(v["reason"], "InvalidOrderId");

    // Without the X-KM headers.
    let r = sb
        .http
        .post(sb.nagad_url(&path))
        .json(&m.init_body("T1-000010", "c6"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["reason"],
        "InvalidRequestHeader"
    );

    // Nothing of it made a payment.
    assert!(sb.h.ledger()["nagad"]["payments"]
        .as_array()
        .unwrap()
        .is_empty());
    let (s, v) = sb.nagad_verify("QUJDREVGRw==").await;
    assert_eq!((s, &v["reason"]), (400, &json!("InvalidReferenceId")));
    sb.h.shutdown().await;
}

#[tokio::test]
async fn tampered_signatures_are_refused() {
    let sb = start().await;
    let m = Merchant::new(&sb);
    let path = format!("check-out/initialize/{}/T1-000020", m.id);
    let mut body = m.init_body("T1-000020", "t1");
    let mut sig = STANDARD
        .decode(body["signature"].as_str().unwrap())
        .unwrap();
    sig[7] ^= 0x40;
    body["signature"] = json!(STANDARD.encode(&sig));
    let (s, v) = sb.nagad_post(&path, &body).await;
    assert_eq!(
        (s, &v["reason"]),
        (400, &json!("SignatureVerificationFailed"))
    );

    // A valid signature, but over another plaintext than the one sealed.
    let mut body = m.init_body("T1-000020", "t2");
    body["signature"] = json!(m.sign(&m.init_plain("T1-000020", "t-other")));
    assert_eq!(
        sb.nagad_post(&path, &body).await.1["reason"],
        "SignatureVerificationFailed"
    );

    // The same on complete: the order goes nowhere.
    let (pref, challenge) = sb.nagad_init(&m, "T1-000021").await;
    let mut body = m.complete_body("T1-000021", "10.00", &challenge);
    body["signature"] = json!(m.sign(&m.complete_plain("T1-000021", "1.00", &challenge)));
    let (s, v) = sb
        .nagad_post(&format!("check-out/complete/{}", enc(&pref)), &body)
        .await;
    assert_eq!(
        (s, &v["reason"]),
        (400, &json!("SignatureVerificationFailed"))
    );
    assert_eq!(sb.nagad_verify(&pref).await.1["status"], "OrderInitiated");
    sb.h.shutdown().await;
}

#[tokio::test]
async fn replayed_and_foreign_challenges_are_refused() {
    let sb = start().await;
    let m = Merchant::new(&sb);
    // The same initialize twice (a replay of the very bytes).
    let path = format!("check-out/initialize/{}/T1-000030", m.id);
    let body = m.init_body("T1-000030", "replay-me");
    assert_eq!(sb.nagad_post(&path, &body).await.0, 200);
    let (s, v) = sb.nagad_post(&path, &body).await;
    assert_eq!((s, &v["reason"]), (400, &json!("InvalidChallenge")));

    // Complete must echo *this* payment's challenge.
    let (a, challenge_a) = sb.nagad_init(&m, "T1-000031").await;
    let (b, challenge_b) = sb.nagad_init(&m, "T1-000032").await;
    let (s, v) = sb
        .nagad_post(
            &format!("check-out/complete/{}", enc(&a)),
            &m.complete_body("T1-000031", "10.00", &challenge_b),
        )
        .await;
    assert_eq!((s, &v["reason"]), (400, &json!("InvalidChallenge")));
    // Our own challenge is not Nagad's either.
    let (_, v) = sb
        .nagad_post(
            &format!("check-out/complete/{}", enc(&b)),
            &m.complete_body("T1-000032", "10.00", "ch-T1-000032"),
        )
        .await;
    assert_eq!(v["reason"], "InvalidChallenge");

    // The right one completes once; the replay of that complete is refused.
    let good = m.complete_body("T1-000031", "10.00", &challenge_a);
    let url = format!("check-out/complete/{}", enc(&a));
    assert_eq!(sb.nagad_post(&url, &good).await.0, 200);
    let (s, v) = sb.nagad_post(&url, &good).await;
    assert_eq!((s, &v["reason"]), (400, &json!("InvalidPaymentState")));
    // With the page opened, a new initialize of that order is a duplicate.
    let (_, v) = sb
        .nagad_post(
            &format!("check-out/initialize/{}/T1-000031", m.id),
            &m.init_body("T1-000031", "fresh"),
        )
        .await;
    assert_eq!(v["reason"], "DuplicateOrderId");
    sb.h.shutdown().await;
}

#[tokio::test]
async fn amounts_currency_and_orders_are_checked_and_the_sealed_amount_is_charged() {
    let sb = start().await;
    let m = Merchant::new(&sb);
    let (pref, challenge) = sb.nagad_init(&m, "T1-000040").await;
    let url = format!("check-out/complete/{}", enc(&pref));
    for amount in ["1.234", "abc", "0", "-5", "1e3", ""] {
        let (s, v) = sb
            .nagad_post(&url, &m.complete_body("T1-000040", amount, &challenge))
            .await;
        let want = if amount.is_empty() {
            "InvalidRequest"
        } else {
            "InvalidAmount"
        };
        assert_eq!((s, v["reason"].as_str()), (400, Some(want)), "{amount:?}");
    }
    let plain = json!({"merchantId": m.id, "orderId": "T1-000040", "currencyCode": "840",
                       "amount": "10.00", "challenge": challenge})
    .to_string();
    let body = json!({"sensitiveData": m.seal(&plain), "signature": m.sign(&plain), "merchantCallbackURL": CALLBACK});
    assert_eq!(
        sb.nagad_post(&url, &body).await.1["reason"],
        "InvalidCurrency"
    );
    let (_, v) = sb
        .nagad_post(&url, &m.complete_body("T1-000041", "10.00", &challenge))
        .await;
    assert_eq!(v["reason"], "InvalidOrderId");
    let mut bad_cb = m.complete_body("T1-000040", "10.00", &challenge);
    bad_cb["merchantCallbackURL"] = json!("not a url");
    assert_eq!(
        sb.nagad_post(&url, &bad_cb).await.1["reason"],
        "InvalidCallbackUrl"
    );
    // Still open after every refusal; now the real one, with a clear-text
    // decoy amount beside the seal: only the sealed amount counts.
    let mut body = m.complete_body("T1-000040", "42.00", &challenge);
    body["amount"] = json!("1.00");
    body["additionalMerchantInfo"] = json!({"amount": "1.00"});
    assert_eq!(sb.nagad_post(&url, &body).await.0, 200);
    let v = sb.nagad_verify(&pref).await.1;
    assert_eq!(v["amount"], "42.00");
    assert_eq!(sb.ledger_nagad(&pref)["amount"], "42.00");

    // Order ids that cannot travel in a path segment are refused.
    let (_, v) = sb
        .nagad_post(
            &format!("check-out/initialize/{}/T1%20X", m.id),
            &m.init_body("T1 X", "o1"),
        )
        .await;
    assert_eq!(v["reason"], "InvalidOrderId");
    sb.h.shutdown().await;
}

#[tokio::test]
async fn the_amount_is_echoed_as_configured_and_a_limit_applies() {
    let mut cfg = Config::default();
    cfg.nagad.amount_echo = till_sandbox::config::AmountEcho::Normalized;
    cfg.nagad.max_amount = Some("500".into());
    let sb = start_with(cfg).await;
    let m = Merchant::new(&sb);
    let (pref, page) = sb.nagad_start(&m, "T1-000050", "16.00").await;
    sb.nagad_customer(&page, WALLET, "123456", "1234").await;
    assert_eq!(sb.nagad_verify(&pref).await.1["amount"], "16");
    let (pref, challenge) = sb.nagad_init(&m, "T1-000051").await;
    let (_, v) = sb
        .nagad_post(
            &format!("check-out/complete/{}", enc(&pref)),
            &m.complete_body("T1-000051", "500.01", &challenge),
        )
        .await;
    assert_eq!(v["reason"], "AmountLimitExceeded");
    sb.h.shutdown().await;
}

#[tokio::test]
async fn an_unfinished_payment_expires_as_aborted() {
    let sb = start().await;
    let m = Merchant::new(&sb);
    let (pref, page) = sb.nagad_start(&m, "T1-000060", "10.00").await;
    sb.advance(3601).await;
    assert_eq!(sb.http.get(&page).send().await.unwrap().status(), 410);
    let v = sb.nagad_verify(&pref).await.1;
    assert_eq!(v["status"], "Aborted");
    assert_eq!(sb.ledger_nagad(&pref)["status"], "Aborted");
    sb.h.shutdown().await;
}

#[tokio::test]
async fn answers_can_be_unsigned_or_signed_by_a_stranger() {
    for (how, signed) in [("missing", None), ("wrong_key", Some(false))] {
        let cfg = Config::from_toml(&format!("[nagad]\nanswer_signature = \"{how}\"\n")).unwrap();
        let sb = start_with(cfg).await;
        let m = Merchant::new(&sb);
        let (s, v) = sb
            .nagad_post(
                &format!("check-out/initialize/{}/T1-000070", m.id),
                &m.init_body("T1-000070", "s1"),
            )
            .await;
        assert_eq!(s, 200);
        let raw = m.open_raw(v["sensitiveData"].as_str().unwrap());
        assert_eq!(
            v["signature"]
                .as_str()
                .map(|sig| signed_by_nagad(&sb, &raw, sig)),
            signed,
            "{how}"
        );
        sb.h.shutdown().await;
    }
}

#[tokio::test]
async fn refunds_exist_only_when_enabled() {
    let sb = start().await;
    let m = Merchant::new(&sb);
    let (pref, page) = sb.nagad_start(&m, "T1-000080", "30.00").await;
    sb.nagad_customer(&page, WALLET, "123456", "1234").await;
    let plain = json!({"merchantId": m.id, "originalRequestDate": "20260102", "originalAmount": "30.00",
                       "cancelAmount": "10.00", "referenceNo": "R1", "referenceMessage": "returned"})
    .to_string();
    let body = json!({"sensitiveDataCancelRequest": m.seal(&plain), "signature": m.sign(&plain)});
    let url = format!(
        "purchase/cancel?paymentRefId={}&orderId=T1-000080",
        enc(&pref)
    );
    let (s, v) = sb.nagad_post(&url, &body).await;
    assert_eq!((s, &v["reason"]), (404, &json!("NotFound")));
    sb.h.shutdown().await;

    let mut cfg = Config::default();
    cfg.nagad.refund_enabled = true;
    let sb = start_with(cfg).await;
    let (pref, page) = sb.nagad_start(&m, "T1-000080", "30.00").await;
    sb.nagad_customer(&page, WALLET, "123456", "1234").await;
    let url = format!(
        "purchase/cancel?paymentRefId={}&orderId=T1-000080",
        enc(&pref)
    );
    let (s, v) = sb.nagad_post(&url, &body).await;
    assert_eq!(s, 200, "{v}");
    let raw = m.open_raw(v["sensitiveData"].as_str().unwrap());
    assert!(signed_by_nagad(&sb, &raw, v["signature"].as_str().unwrap()));
    let a: Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(
        (a["status"].as_str(), a["cancelAmount"].as_str()),
        (Some("PartialRefunded"), Some("10.00"))
    );
    // The same reference again is the same refund, not a second one.
    let (_, v) = sb.nagad_post(&url, &body).await;
    assert_eq!(
        m.open(v["sensitiveData"].as_str().unwrap())["cancelTrxId"],
        a["cancelTrxId"]
    );
    // More than what is left is refused.
    let big =
        json!({"merchantId": m.id, "originalRequestDate": "20260102", "originalAmount": "30.00",
                     "cancelAmount": "20.01", "referenceNo": "R2", "referenceMessage": ""})
        .to_string();
    let (s, v) = sb
        .nagad_post(
            &url,
            &json!({"sensitiveDataCancelRequest": m.seal(&big), "signature": m.sign(&big)}),
        )
        .await;
    assert_eq!((s, &v["reason"]), (400, &json!("InvalidRefundAmount")));
    let l = sb.ledger_nagad(&pref);
    assert_eq!(l["refunded"], "10.00");
    let v = sb.nagad_verify(&pref).await.1;
    assert_eq!(v["cancelIssuerRefNo"], a["cancelTrxId"]);
    sb.h.shutdown().await;
}

#[tokio::test]
async fn faults_reach_nagad_endpoints() {
    let sb = start().await;
    let m = Merchant::new(&sb);
    let (pref, _) = sb.nagad_start(&m, "T1-000090", "10.00").await;
    sb.add_fault(json!({"endpoint": "nagad.verify", "kind": "business_error", "code": "ServerBusy", "times": 1}))
        .await;
    let (s, v) = sb.nagad_verify(&pref).await;
    assert_eq!((s, &v["reason"]), (400, &json!("ServerBusy")));
    assert_eq!(sb.nagad_verify(&pref).await.1["status"], "Ready");
    sb.add_fault(json!({"endpoint": "nagad.*", "kind": "status", "status": 503, "times": 1}))
        .await;
    let r = sb
        .http
        .get(sb.nagad_url(&format!("verify/payment/{}", enc(&pref))))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    // The script endpoint pays too.
    let (pref, _) = sb.nagad_start(&m, "T1-000091", "10.00").await;
    let r = sb
        .http
        .post(sb.url(&format!("/sim/nagad/checkout/{}", enc(&pref))))
        .json(&json!({"wallet": WALLET, "otp": "123456", "pin": "1234"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "Success");
    let info: Value = sb
        .http
        .get(sb.url("/sim/info"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["nagad"]["merchantId"], m.id.as_str());
    assert!(info["nagad"]["merchantPrivateKeyPem"]
        .as_str()
        .unwrap()
        .contains("PRIVATE KEY"));
    sb.h.shutdown().await;
}

#[tokio::test]
async fn nagad_payments_survive_a_restart_with_a_state_file() {
    let dir = std::env::temp_dir().join(format!("till-sandbox-nagad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("state.sqlite");
    let _ = std::fs::remove_file(&file);
    let cfg = Config {
        state_file: Some(file.clone()),
        ..Config::default()
    };
    let sb = start_with(cfg.clone()).await;
    let m = Merchant::new(&sb);
    let (pref, page) = sb.nagad_start(&m, "T1-000100", "12.00").await;
    sb.nagad_customer(&page, WALLET, "123456", "1234").await;
    // A challenge seen before the restart is still a replay after it.
    let replay = m.init_body("T1-000101", "seen-once");
    let path = format!("check-out/initialize/{}/T1-000101", m.id);
    assert_eq!(sb.nagad_post(&path, &replay).await.0, 200);
    sb.h.shutdown().await;

    let sb = start_with(cfg).await;
    let v = sb.nagad_verify(&pref).await.1;
    assert_eq!(
        (v["status"].as_str(), v["amount"].as_str()),
        (Some("Success"), Some("12.00"))
    );
    assert_eq!(
        sb.nagad_post(&path, &replay).await.1["reason"],
        "InvalidChallenge"
    );
    sb.h.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
