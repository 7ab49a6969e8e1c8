//! Shared helpers: start a sandbox on an ephemeral loopback port and talk to
//! it over real HTTP, the way a client would.

use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;
use till_sandbox::{Config, SandboxHandle};

pub struct Sb {
    pub h: SandboxHandle,
    pub http: reqwest::Client,
}

pub async fn start() -> Sb {
    start_with(Config::default()).await
}

pub async fn start_with(cfg: Config) -> Sb {
    let h = till_sandbox::start(cfg).await.expect("sandbox starts");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Sb { h, http }
}

/// The repository's test data (`tests/data/`, see its README): the bKash fixtures.
pub fn test_data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data")
}

pub const CALLBACK: &str = "https://merchant.example.com/bkash/callback";

impl Sb {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.h.origin(), path)
    }

    pub fn cfg(&self) -> &Config {
        self.h.config()
    }

    /// POST a token call with the configured credentials.
    pub async fn token_call(&self, which: &str, body: Value) -> (u16, Value) {
        let c = &self.cfg().bkash;
        let r = self
            .http
            .post(self.url(&format!("/v1.2.0-beta/tokenized/checkout/token/{which}")))
            .header("username", &c.username)
            .header("password", &c.password)
            .header("accept", "application/json")
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub fn app_body(&self) -> Value {
        let c = &self.cfg().bkash;
        json!({"app_key": c.app_key, "app_secret": c.app_secret})
    }

    pub async fn grant_full(&self) -> Value {
        let (s, v) = self.token_call("grant", self.app_body()).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["statusCode"], "0000", "{v}");
        v
    }

    pub async fn grant(&self) -> String {
        self.grant_full().await["id_token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// POST a business call at a full path with raw `Authorization` + `X-APP-Key`.
    pub async fn post_at(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(self.url(path))
            .header("authorization", token)
            .header("x-app-key", &self.cfg().bkash.app_key)
            .json(&body)
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

    /// POST under `/v1.2.0-beta/tokenized/checkout/`.
    pub async fn bk(&self, op: &str, token: &str, body: Value) -> (u16, Value) {
        self.post_at(
            &format!("/v1.2.0-beta/tokenized/checkout/{op}"),
            token,
            body,
        )
        .await
    }

    /// `bk` that must answer HTTP 200.
    pub async fn bk_ok(&self, op: &str, token: &str, body: Value) -> Value {
        let (s, v) = self.bk(op, token, body).await;
        assert_eq!(s, 200, "{op}: {v}");
        v
    }

    pub async fn create_payment(
        &self,
        token: &str,
        amount: &str,
        invoice: &str,
        payer: &str,
    ) -> Value {
        let v = self
            .bk_ok(
                "create",
                token,
                json!({"mode": "0011", "payerReference": payer, "callbackURL": CALLBACK,
                       "amount": amount, "currency": "BDT", "intent": "sale", "merchantInvoiceNumber": invoice}),
            )
            .await;
        assert_eq!(v["statusCode"], "0000", "{v}");
        v
    }

    /// The customer acts on the hosted page (script endpoint).
    pub async fn customer(&self, payment_id: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(self.url(&format!("/sim/bkash/checkout/{payment_id}")))
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    pub async fn customer_pays(&self, payment_id: &str, wallet: &str) -> Value {
        let (s, v) = self
            .customer(
                payment_id,
                json!({"wallet": wallet, "otp": "123456", "pin": "12121", "action": "pay"}),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        v
    }

    /// create → customer pays → execute; returns (paymentID, trxID).
    pub async fn paid_checkout(
        &self,
        token: &str,
        amount: &str,
        invoice: &str,
        wallet: &str,
    ) -> (String, String) {
        let c = self.create_payment(token, amount, invoice, wallet).await;
        let pid = c["paymentID"].as_str().unwrap().to_string();
        let out = self.customer_pays(&pid, wallet).await;
        assert_eq!(out["status"], "success", "{out}");
        let e = self
            .bk_ok("execute", token, json!({"paymentID": pid}))
            .await;
        assert_eq!(e["statusCode"], "0000", "{e}");
        assert_eq!(e["transactionStatus"], "Completed");
        (pid, e["trxID"].as_str().unwrap().to_string())
    }

    /// POST a Bakong call (`/v1/<op>`) with an optional bearer token.
    pub async fn bakong(&self, op: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        let mut req = self
            .http
            .post(format!("{}/v1/{op}", self.h.bakong_base_url()))
            .json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn sim_pay(&self, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(self.url("/sim/bakong/pay"))
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    pub async fn ledger(&self) -> Value {
        self.http
            .get(self.url("/sim/ledger"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn add_fault(&self, rule: Value) {
        let r = self
            .http
            .post(self.url("/sim/faults"))
            .json(&rule)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }

    pub async fn advance(&self, secs: u64) {
        let r = self
            .http
            .post(self.url("/sim/clock"))
            .json(&json!({"advance_secs": secs}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
}

/// A dynamic USD KHQR for `account`, expiring `ttl` after the sandbox's now.
pub fn khqr_usd(sb: &Sb, account: &str, amount: &str, ttl: Duration) -> khqr::Khqr {
    let now = sb.h.clock().now_ms();
    let mut req = khqr::KhqrRequest::individual(account, "Till Demo", "Phnom Penh");
    req.currency = khqr::Currency::Usd;
    req.amount = Some(amount.parse().unwrap());
    req.bill_number = Some("INV-1".into());
    req.expiration_ms = Some(now + ttl.as_millis() as u64);
    khqr::encode(&req, now).expect("valid KHQR")
}

/// Query parameters of a URL, in order.
pub fn query_pairs(url: &str) -> Vec<(String, String)> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}
