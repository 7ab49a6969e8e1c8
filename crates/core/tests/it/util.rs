//! Shared helpers: a sandbox, an engine on a temporary home pointed at it,
//! and the customer's side of each wallet.

use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use till_core::secrets::{names, KeyringStore, Secret, SecretStore};
use till_core::{Amount, Clock, Config, Currency, Engine, EngineOptions, Payment, PaymentState};

pub struct Rig {
    pub sandbox: till_sandbox::SandboxHandle,
    pub engine: Engine,
    pub home: tempfile::TempDir,
    pub secrets: Arc<KeyringStore>,
    pub clock: Clock,
    pub http: reqwest::Client,
    pub overrides: Vec<(String, String)>,
}

pub fn sandbox_config() -> till_sandbox::Config {
    till_sandbox::Config::default()
}

/// Sandbox + engine. `overrides` are `TILL__...` style pairs applied to the config.
pub async fn rig_with(sb: till_sandbox::Config, overrides: &[(&str, &str)]) -> Rig {
    rig_in(sb, overrides, tempfile::tempdir().unwrap()).await
}

/// [`rig_with`] on a given home (a directory on a small file system, say).
pub async fn rig_in(
    sb: till_sandbox::Config,
    overrides: &[(&str, &str)],
    home: tempfile::TempDir,
) -> Rig {
    let sandbox = till_sandbox::start(sb).await.expect("sandbox starts");
    let service = format!("till-test-{}", ulid::Ulid::new());
    let secrets = Arc::new(KeyringStore::new(service));
    let c = &sandbox.config().bkash;
    for (n, v) in [
        (names::BKASH_USERNAME, c.username.clone()),
        (names::BKASH_PASSWORD, c.password.clone()),
        (names::BKASH_APP_KEY, c.app_key.clone()),
        (names::BKASH_APP_SECRET, c.app_secret.clone()),
        (names::BAKONG_TOKEN, sandbox.bakong_token()),
        (
            names::NAGAD_MERCHANT_KEY,
            till_sandbox::config::nagad_test_keys::MERCHANT_PRIVATE_PEM.to_owned(),
        ),
        (
            names::NAGAD_PUBLIC_KEY,
            sandbox.nagad_public_key_pem().to_owned(),
        ),
    ] {
        secrets
            .set(n, &Secret::new(v))
            .expect("the OS keyring is reachable (run under dbus-run-session with gnome-keyring)");
    }
    let mut pairs: Vec<(String, String)> = vec![
        ("TILL__BKASH__BASE_URL".into(), sandbox.bkash_base_url()),
        ("TILL__BAKONG__BASE_URL".into(), sandbox.bakong_base_url()),
        ("TILL__NAGAD__BASE_URL".into(), sandbox.nagad_base_url()),
        (
            "TILL__NAGAD__MERCHANT_ID".into(),
            sandbox.config().nagad.merchant_id.clone(),
        ),
        ("TILL__NAGAD__TIMEOUT_SECS".into(), "3".into()),
        ("TILL__DEMO__SETTLE_AFTER_MS".into(), "200".into()),
        ("TILL__BKASH__TIMEOUT_SECS".into(), "3".into()),
        ("TILL__BAKONG__TIMEOUT_SECS".into(), "3".into()),
        ("TILL__BAKONG__FAST_INTERVAL_MS".into(), "200".into()),
        ("TILL__BAKONG__MIN_REQUEST_GAP_MS".into(), "200".into()),
        ("TILL__BAKONG__SLOW_INTERVAL_MS".into(), "500".into()),
    ];
    pairs.extend(
        overrides
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    let config = Config::from_layers(
        till_core::config::DEFAULTS_TOML,
        None,
        pairs.clone().into_iter(),
    )
    .expect("test config is valid");
    let clock = Clock::system();
    let engine = Engine::open(EngineOptions {
        home: home.path().to_owned(),
        config,
        secrets: secrets.clone(),
        clock: clock.clone(),
        background: true,
    })
    .await
    .expect("engine opens");
    Rig {
        sandbox,
        engine,
        home,
        secrets,
        clock,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        overrides: pairs,
    }
}

pub async fn rig() -> Rig {
    rig_with(sandbox_config(), &[]).await
}

impl Rig {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.sandbox.origin(), path)
    }

    /// A second engine on the same home (a restart after a crash).
    pub async fn reopen(&self) -> Engine {
        self.open_engine(true).await.unwrap()
    }

    /// Another engine on this rig's home and configuration, with or without background work.
    pub async fn open_engine(&self, background: bool) -> Result<Engine, till_core::EngineError> {
        self.open_engine_with(background, &[]).await
    }

    /// [`Rig::open_engine`] with `extra` overrides on top of the rig's own.
    pub async fn open_engine_with(
        &self,
        background: bool,
        extra: &[(&str, &str)],
    ) -> Result<Engine, till_core::EngineError> {
        let pairs = self
            .overrides
            .clone()
            .into_iter()
            .chain(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let config = Config::from_layers(till_core::config::DEFAULTS_TOML, None, pairs).unwrap();
        Engine::open(EngineOptions {
            home: self.home.path().to_owned(),
            config,
            secrets: self.secrets.clone(),
            clock: self.clock.clone(),
            background,
        })
        .await
    }

    /// The customer completes the bKash hosted page; returns the redirect URL.
    pub async fn bkash_customer(&self, payment_id: &str, wallet: &str, action: &str) -> url::Url {
        let r = self
            .http
            .post(self.url(&format!("/sim/bkash/checkout/{payment_id}")))
            .json(&json!({"wallet": wallet, "otp": "123456", "pin": "12121", "action": action}))
            .send()
            .await
            .unwrap();
        let v: Value = r.json().await.unwrap();
        v["redirect"].as_str().expect("a redirect").parse().unwrap()
    }

    /// The customer on Nagad's page (number → code → PIN, or `cancel`): the redirect it ends with.
    pub async fn nagad_customer(
        &self,
        payment_ref_id: &str,
        wallet: &str,
        pin: &str,
        action: &str,
    ) -> url::Url {
        let r = self
            .http
            .post(self.url(&format!("/sim/nagad/checkout/{payment_ref_id}")))
            .json(&json!({"wallet": wallet, "otp": "123456", "pin": pin, "action": action}))
            .send()
            .await
            .unwrap();
        let v: Value = r.json().await.unwrap();
        v["redirect"].as_str().expect("a redirect").parse().unwrap()
    }

    /// The customer's bank app pays a KHQR (optionally a different amount).
    pub async fn bakong_pay(&self, khqr: &str, amount: Option<&str>) -> Value {
        let mut body = json!({"qr": khqr, "fromAccountId": "customer@aclb"});
        if let Some(a) = amount {
            body["amount"] = json!(a.parse::<f64>().unwrap());
        }
        let r = self
            .http
            .post(self.url("/sim/bakong/pay"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let v: Value = r.json().await.unwrap();
        assert!(status.is_success(), "pay refused: {v}");
        v
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

    /// The next request to `endpoint` waits at the sandbox until [`Rig::release`]
    /// (with `after`, it is handled first and only its answer waits).
    pub async fn hold(&self, endpoint: &str, after: bool) {
        let r = self
            .http
            .post(self.url("/sim/faults"))
            .json(&json!({"endpoint": endpoint, "kind": "hold", "after": after, "times": 1, "hang_ms": 120_000}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    }

    /// Waits until a request is held at `endpoint`.
    pub async fn wait_held(&self, endpoint: &str) {
        let url = self.url("/sim/faults");
        let http = self.http.clone();
        let endpoint = endpoint.to_owned();
        wait_for_async(&format!("a request held at {endpoint}"), || {
            let (http, url, endpoint) = (http.clone(), url.clone(), endpoint.clone());
            async move {
                let v: Value = http.get(url).send().await.unwrap().json().await.unwrap();
                v["held"][endpoint.as_str()].as_u64().unwrap_or(0) > 0
            }
        })
        .await;
    }

    /// Lets the requests held at `endpoint` go on; returns how many there were.
    pub async fn release(&self, endpoint: &str) -> u64 {
        let v: Value = self
            .http
            .post(self.url("/sim/faults/release"))
            .json(&json!({ "endpoint": endpoint }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["released"].as_u64().unwrap()
    }

    pub async fn wait_state(&self, id: &str, want: PaymentState, within: Duration) -> Payment {
        let p = self.engine.wait_final(id, within).await.unwrap();
        assert_eq!(p.state, want, "payment ended as {p:?}");
        p
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        for n in names::ALL.iter().chain(names::STATE) {
            let _ = self.secrets.delete(n);
        }
    }
}

pub fn bdt(s: &str) -> Amount {
    Amount::parse(s, Currency::Bdt).unwrap()
}

pub fn usd(s: &str) -> Amount {
    Amount::parse(s, Currency::Usd).unwrap()
}

pub fn khr(s: &str) -> Amount {
    Amount::parse(s, Currency::Khr).unwrap()
}

/// Waits until `cond` holds (checked every 10 ms; a test that waits in vain
/// fails after 20 s). A wait for a condition, never a sleep standing in for one.
pub async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..2000 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("waited in vain for {what}");
}

/// [`wait_for`] with an async condition.
pub async fn wait_for_async<F, Fut>(what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..2000 {
        if cond().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("waited in vain for {what}");
}
