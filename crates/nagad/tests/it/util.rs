//! Shared helpers: a real `till-sandbox` on an ephemeral loopback port, a
//! client pointed at it, an in-memory call log, and a customer who fills the
//! page in over HTTP the way a browser would.

use rust_decimal::Decimal;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use till_nagad::*;
use till_provider_http::{CallObserver, CallRecord};
use till_sandbox::{Config, FaultRule, SandboxHandle};
use url::Url;

// TEST ONLY keys (tests/data/nagad/README.md).
pub const MERCHANT_PRIVATE: &str =
    include_str!("../../../../tests/data/nagad/merchant-private.TEST-ONLY.pem");
pub const NAGAD_PUBLIC: &str =
    include_str!("../../../../tests/data/nagad/nagad-public.TEST-ONLY.pem");
pub const STRANGER_PRIVATE: &str =
    include_str!("../../../../tests/data/nagad/stranger-private.TEST-ONLY.pem");
pub const STRANGER_PUBLIC: &str =
    include_str!("../../../../tests/data/nagad/stranger-public.TEST-ONLY.pem");

pub const CALLBACK: &str = "http://127.0.0.1:9/till/nagad/callback?terminal=T1";
pub const WALLET: &str = "01711111111";
pub const OTP: &str = "123456";
pub const PIN: &str = "1234";

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
    pub client: NagadClient,
    pub log: Arc<MemLog>,
    pub browser: reqwest::Client,
}

pub fn creds(sb: &SandboxHandle) -> NagadCredentials {
    NagadCredentials {
        merchant_id: sb.config().nagad.merchant_id.clone(),
        merchant_key: MerchantPrivateKey::from_pem(MERCHANT_PRIVATE).unwrap(),
        nagad_key: NagadPublicKey::from_pem(NAGAD_PUBLIC).unwrap(),
        merchant_number: Some("01700000017".into()),
    }
}

/// Fast settings for tests: short backoff.
pub fn settings(base: &str) -> NagadSettings {
    let mut s = NagadSettings::new(Url::parse(base).unwrap());
    s.timeout = Duration::from_secs(10);
    s.client_ip = "10.0.0.7".into();
    s.retry = RetryPolicy {
        max_attempts: 3,
        base: Duration::from_millis(20),
        max_delay: Duration::from_millis(100),
    };
    s
}

pub async fn start() -> Env {
    start_with(Config::default(), |_, _| {}).await
}

/// A sandbox with `cfg`; `tweak` may change the client's settings and credentials.
pub async fn start_with(
    cfg: Config,
    tweak: impl FnOnce(&mut NagadSettings, &mut NagadCredentials),
) -> Env {
    let sb = till_sandbox::start(cfg).await.expect("sandbox starts");
    let mut s = settings(&sb.nagad_base_url());
    let mut c = creds(&sb);
    tweak(&mut s, &mut c);
    let log = Arc::new(MemLog::default());
    let client = NagadClient::new(s, c, log.clone()).expect("client");
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
    pub async fn start(&self, order: &str, amount: &str) -> Started {
        self.client
            .start(order, dec(amount), CALLBACK)
            .await
            .expect("start")
    }

    /// The customer opens the page, enters number → code → PIN, and is
    /// redirected: returns that redirect URL.
    pub async fn customer(&self, started: &Started, wallet: &str, otp: &str, pin: &str) -> Url {
        let page = &started.page_url;
        let r = self.browser.get(page).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.text().await.unwrap().contains(r#"name="wallet""#));
        let post = |form: Vec<(&str, &str)>| self.browser.post(page).form(&form).send();
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
        Url::parse(r.headers()["location"].to_str().unwrap()).unwrap()
    }

    pub async fn customer_pays(&self, started: &Started) -> Url {
        self.customer(started, WALLET, OTP, PIN).await
    }

    pub async fn customer_cancels(&self, started: &Started) -> Url {
        let r = self
            .browser
            .post(&started.page_url)
            .form(&[("step", "wallet"), ("action", "cancel")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        Url::parse(r.headers()["location"].to_str().unwrap()).unwrap()
    }

    pub fn fault(&self, rule: FaultRule) {
        self.sb.add_faults([rule]);
    }

    pub fn ledger_payment(&self, payment_ref_id: &str) -> serde_json::Value {
        self.sb.ledger()["nagad"]["payments"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["paymentRefId"] == payment_ref_id)
            .cloned()
            .unwrap_or_default()
    }
}
