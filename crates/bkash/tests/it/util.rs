//! Shared helpers: a real `till-sandbox` on an ephemeral loopback port, a
//! client pointed at it, an in-memory call log, and a customer who drives the
//! hosted checkout page over HTTP the way a browser would.

use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use till_bkash::*;
use till_provider_http::{CallObserver, CallRecord};
use till_sandbox::{Config, FaultRule, SandboxHandle};
use url::Url;

/// Distinctive credentials, so a leak is easy to find.
pub const USER: &str = "till-user-Zq81x";
pub const PASS: &str = "till-pass-Kf02w";
pub const APP_KEY: &str = "till-appkey-Lm55c";
pub const APP_SECRET: &str = "till-appsecret-Rr73v";

pub const CALLBACK: &str = "http://127.0.0.1:9/till/bkash/callback?terminal=T1";
pub const WALLET: &str = "01770618575";

#[derive(Default)]
pub struct MemLog(pub Mutex<Vec<CallRecord>>);

impl CallObserver for MemLog {
    fn record(&self, call: CallRecord) {
        self.0.lock().unwrap().push(call);
    }
}

impl MemLog {
    pub fn all(&self) -> Vec<CallRecord> {
        self.0.lock().unwrap().clone()
    }
    pub fn count(&self, endpoint: &str) -> usize {
        self.all().iter().filter(|r| r.endpoint == endpoint).count()
    }
}

pub struct Env {
    pub sb: SandboxHandle,
    pub client: BkashClient,
    pub log: Arc<MemLog>,
    pub browser: reqwest::Client,
}

pub fn config() -> Config {
    let mut c = Config::default();
    c.bkash.username = USER.into();
    c.bkash.password = PASS.into();
    c.bkash.app_key = APP_KEY.into();
    c.bkash.app_secret = APP_SECRET.into();
    c
}

pub fn creds() -> BkashCredentials {
    BkashCredentials {
        username: USER.into(),
        password: PASS.into(),
        app_key: APP_KEY.into(),
        app_secret: APP_SECRET.into(),
    }
}

/// Fast settings for tests: short backoff, generous token budget unless a test says otherwise.
pub fn settings(base: &str) -> BkashSettings {
    let mut s = BkashSettings::new(Url::parse(base).unwrap());
    s.timeout = Duration::from_secs(10);
    s.retry = RetryPolicy {
        max_attempts: 3,
        base: Duration::from_millis(20),
        max_delay: Duration::from_millis(100),
    };
    s
}

pub async fn start() -> Env {
    start_with(config(), |_| {}).await
}

pub async fn start_with(cfg: Config, tweak: impl FnOnce(&mut BkashSettings)) -> Env {
    let sb = till_sandbox::start(cfg).await.expect("sandbox starts");
    let mut s = settings(&sb.bkash_base_url());
    tweak(&mut s);
    let log = Arc::new(MemLog::default());
    let client = BkashClient::new(s, creds(), log.clone()).expect("client");
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Env {
        sb,
        client,
        log,
        browser,
    }
}

pub fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

pub fn callback_base() -> Url {
    Url::parse(CALLBACK).unwrap()
}

impl Env {
    pub async fn create(&self, amount: &str, invoice: &str) -> Created {
        self.client
            .create_payment(&CreatePayment::sale(dec(amount), invoice, CALLBACK, WALLET))
            .await
            .expect("create")
    }

    /// The customer opens `bkashURL`, enters wallet → OTP → PIN (or closes
    /// the page), and the browser is redirected: returns that redirect URL.
    pub async fn customer(&self, created: &Created, wallet: &str, otp: &str, pin: &str) -> Url {
        let page = self.browser.get(&created.bkash_url).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains(r#"name="wallet""#), "{html}");
        let form_url = Url::parse(&created.bkash_url)
            .unwrap()
            .join("/pay/bkash/")
            .unwrap();
        let post = |fields: Vec<(&str, &str)>| {
            let mut f: Vec<(String, String)> =
                vec![("paymentId".into(), created.payment_id.clone())];
            f.extend(
                fields
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v.to_string())),
            );
            self.browser.post(form_url.clone()).form(&f).send()
        };
        let r = post(vec![
            ("step", "wallet"),
            ("wallet", wallet),
            ("action", "pay"),
        ])
        .await
        .unwrap();
        assert!(r.text().await.unwrap().contains(r#"name="otp""#));
        let r = post(vec![
            ("step", "otp"),
            ("wallet", wallet),
            ("otp", otp),
            ("action", "pay"),
        ])
        .await
        .unwrap();
        assert!(r.text().await.unwrap().contains(r#"name="pin""#));
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
        let loc = r.headers()["location"].to_str().unwrap().to_string();
        Url::parse(&loc).unwrap()
    }

    /// The customer pays with the default test wallet.
    pub async fn customer_pays(&self, created: &Created) -> Url {
        self.customer(created, WALLET, "123456", "12121").await
    }

    /// The customer closes the page.
    pub async fn customer_cancels(&self, created: &Created) -> Url {
        let form_url = Url::parse(&created.bkash_url)
            .unwrap()
            .join("/pay/bkash/")
            .unwrap();
        let r = self
            .browser
            .post(form_url)
            .form(&[
                ("paymentId", created.payment_id.as_str()),
                ("step", "wallet"),
                ("action", "cancel"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        Url::parse(r.headers()["location"].to_str().unwrap()).unwrap()
    }

    /// create → page → callback → execute; returns (created, executed).
    pub async fn paid(&self, amount: &str, invoice: &str) -> (Created, Executed) {
        let c = self.create(amount, invoice).await;
        let redirect = self.customer_pays(&c).await;
        let cb = parse_callback(&redirect, &callback_base()).unwrap();
        assert_eq!(cb.status, CallbackStatus::Success);
        let e = self.client.execute_payment(&cb.payment_id).await.unwrap();
        assert_eq!(e.transaction_status, BkashStatus::Completed);
        (c, e)
    }

    pub fn fault(&self, rule: FaultRule) {
        self.sb.add_faults([rule]);
    }

    /// Advance the sandbox clock over HTTP (`POST /sim/clock`).
    pub async fn advance(&self, secs: u64) {
        let r = self
            .browser
            .post(format!("{}/sim/clock", self.sb.origin()))
            .json(&json!({ "advance_secs": secs }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }

    pub fn ledger_payment(&self, payment_id: &str) -> Value {
        let l = self.sb.ledger();
        l["bkash"]["payments"]
            .as_array()
            .or_else(|| l["payments"].as_array())
            .into_iter()
            .flatten()
            .find(|p| p["paymentID"] == payment_id)
            .cloned()
            .unwrap_or(Value::Null)
    }
}
