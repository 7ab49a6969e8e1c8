//! Shared helpers: a sandbox, a client wired to it with a recording
//! observer, KHQR codes for the sandbox's demo account, the customer's
//! bank-app payment.

use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use till_bakong::{BakongClient, BakongSettings};
use till_provider_http::{CallObserver, CallRecord, RetryPolicy};
use till_sandbox::{Config, SandboxHandle};

/// The sandbox's default receiving account.
pub const ACCOUNT: &str = "till_demo@devb";
pub const PAYER: &str = "payer_demo@abaa";
pub const EMAIL: &str = "dev@till.test";

/// Keeps every call record.
#[derive(Default)]
pub struct Log(pub Mutex<Vec<CallRecord>>);

impl CallObserver for Log {
    fn record(&self, call: CallRecord) {
        self.0.lock().unwrap().push(call);
    }
}

impl Log {
    pub fn records(&self) -> Vec<CallRecord> {
        self.0.lock().unwrap().clone()
    }
}

pub struct Sb {
    pub h: SandboxHandle,
    pub http: reqwest::Client,
}

pub async fn start() -> Sb {
    start_with(Config::default()).await
}

pub async fn start_with(cfg: Config) -> Sb {
    let h = till_sandbox::start(cfg).await.expect("sandbox starts");
    Sb {
        h,
        http: reqwest::Client::new(),
    }
}

/// Fast retries for tests: 3 tries, 10 ms base, 2 s cap.
pub fn quick_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base: Duration::from_millis(10),
        max_delay: Duration::from_secs(2),
    }
}

pub fn settings(base: &str, renew_email: Option<&str>) -> BakongSettings {
    BakongSettings {
        timeout: Duration::from_secs(5),
        retry: quick_retry(),
        renew_email: renew_email.map(String::from),
        ..BakongSettings::new(base.parse().unwrap())
    }
}

impl Sb {
    /// A client with a fresh sandbox token and renewal through `dev@till.test`.
    pub fn client(&self) -> (BakongClient, Arc<Log>) {
        self.client_with(settings(&self.h.bakong_base_url(), Some(EMAIL)))
    }

    pub fn client_with(&self, s: BakongSettings) -> (BakongClient, Arc<Log>) {
        let log = Arc::new(Log::default());
        let c = BakongClient::new(s, self.h.bakong_token(), log.clone()).unwrap();
        (c, log)
    }

    /// A dynamic KHQR for the demo account, expiring `ttl_secs` from the sandbox's now.
    pub fn code(
        &self,
        currency: khqr::Currency,
        amount: &str,
        bill: &str,
        ttl_secs: u64,
    ) -> khqr::Khqr {
        let now = self.h.clock().now_ms();
        let mut req = khqr::KhqrRequest::individual(ACCOUNT, "Till Demo", "Phnom Penh");
        req.currency = currency;
        req.amount = Some(amount.parse::<Decimal>().unwrap());
        req.bill_number = Some(bill.into());
        req.expiration_ms = Some(now + ttl_secs * 1000);
        khqr::encode(&req, now).expect("valid KHQR")
    }

    pub fn usd(&self, amount: &str, bill: &str) -> khqr::Khqr {
        self.code(khqr::Currency::Usd, amount, bill, 300)
    }

    /// The customer pays through the sandbox's bank app (`POST /sim/bakong/pay`).
    pub async fn pay(&self, body: Value) -> Value {
        let r = self
            .http
            .post(format!("{}/sim/bakong/pay", self.h.origin()))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let v: Value = r.json().await.unwrap();
        assert_eq!(status, 200, "{v}");
        v
    }

    /// Pays `code` as QR'd; returns the ledger hash.
    pub async fn pay_code(&self, code: &khqr::Khqr) -> String {
        let v = self
            .pay(json!({"qr": code.qr, "fromAccountId": PAYER}))
            .await;
        v["hash"].as_str().unwrap().to_string()
    }
}
