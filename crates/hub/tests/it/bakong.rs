//! Bakong checks from the hub, against the real sandbox: KHQR codes made
//! with `khqr`, paid (or not) through the sandbox's bank app, reported by a
//! terminal; the hub asks Bakong about each MD5 and flags what Bakong does
//! not confirm with the same amount, currency and receiving account.

use crate::both;
use crate::cli::hub_cli_env;
use crate::harness::*;
use chrono::{NaiveDate, Utc};
use serde_json::json;
use std::time::Duration;
use till_hub::evidence::bakong_check::{BakongCheckConfig, Checker};
use till_hub::evidence::{day_findings, EvidenceConfig, FindingCode};
use till_sandbox::SandboxHandle;
use till_sync_proto::{new_event_id, Event, Payment, References, Signer};

/// The sandbox's default receiving account, the shop's.
const SHOP: &str = "till_demo@devb";
const PAYER: &str = "payer_demo@abaa";

struct BakongEnv {
    hub: TestHub,
    sb: SandboxHandle,
    signer: Signer,
    cfg: BakongCheckConfig,
    day: NaiveDate,
    seq: u64,
}

fn config(sb: &SandboxHandle) -> BakongCheckConfig {
    let mut c = BakongCheckConfig::new(sb.bakong_base_url().parse().unwrap(), sb.bakong_token());
    c.accounts = vec![SHOP.into()];
    c.request_gap = Duration::from_millis(20);
    c.timeout = Duration::from_secs(5);
    // The hub's own periodic check stays out of the way of these tests.
    c.interval = Duration::from_secs(3600);
    c
}

async fn bakong_env(backend: Backend, periodic: Option<Duration>) -> BakongEnv {
    let sb = till_sandbox::start(till_sandbox::Config::default())
        .await
        .unwrap();
    let mut cfg = config(&sb);
    let hub_cfg = periodic.map(|every| BakongCheckConfig {
        interval: every,
        ..cfg.clone()
    });
    let hub = TestHub::start_with(backend, move |c| c.evidence.bakong = hub_cfg).await;
    cfg.interval = Duration::from_secs(3600);
    let signer = hub.terminal("till-k").await;
    BakongEnv {
        hub,
        sb,
        signer,
        cfg,
        day: NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(),
        seq: 0,
    }
}

impl BakongEnv {
    /// A dynamic KHQR for `account`.
    fn code(
        &self,
        account: &str,
        currency: khqr::Currency,
        amount: &str,
        bill: &str,
    ) -> khqr::Khqr {
        let now = self.sb.clock().now_ms();
        let mut req = khqr::KhqrRequest::individual(account, "Till Demo", "Phnom Penh");
        req.currency = currency;
        req.amount = Some(dec(amount));
        req.bill_number = Some(bill.into());
        req.expiration_ms = Some(now + 300_000);
        khqr::encode(&req, now).expect("valid KHQR")
    }

    /// The customer pays `code` (another amount when given); the ledger hash.
    async fn pay(&self, code: &khqr::Khqr, amount: Option<&str>) -> String {
        let mut body = json!({"qr": code.qr, "fromAccountId": PAYER});
        if let Some(a) = amount {
            body["amount"] = a.into();
        }
        let r = self
            .hub
            .http
            .post(format!("{}/sim/bakong/pay", self.sb.origin()))
            .json(&body)
            .send()
            .await
            .unwrap();
        let v: serde_json::Value = r.json().await.unwrap();
        v["hash"].as_str().expect("paid").to_string()
    }

    /// The terminal reports a KHQR settlement of `code`.
    async fn settle(
        &mut self,
        code: &khqr::Khqr,
        amount: &str,
        currency: &str,
        payee: Option<&str>,
        hash: Option<&str>,
    ) -> String {
        self.seq += 1;
        let at = Utc::now().fixed_offset();
        let event = Event::payment_settled(
            "till-k",
            self.seq,
            at,
            self.day,
            Payment {
                id: format!("k{}", self.seq),
                provider: "bakong".into(),
                invoice: None,
                amount: dec(amount),
                currency: currency.into(),
                references: References {
                    lookup: Some(code.md5.clone()),
                    transaction: hash.map(String::from),
                    external: None,
                },
                created_at: at,
                settled_at: at,
                payee: payee.map(String::from),
            },
        );
        let id = new_event_id();
        let r = self.hub.send(&self.signer, &id, &event).await;
        assert_eq!(r.status, 200, "{}", r.json);
        id
    }

    /// `till-hub --database <this hub's> ARGS` with these variables.
    async fn cli(&self, args: &[&str], vars: &[(&str, &str)]) -> (bool, String, String) {
        let db = self.hub.database().to_string();
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let vars: Vec<(&str, &str)> =
                vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            hub_cli_env(&db, &args, &vars)
        })
        .await
        .unwrap()
    }

    fn evidence(&self) -> EvidenceConfig {
        EvidenceConfig {
            ipn: None,
            bakong: Some(self.cfg.clone()),
        }
    }

    async fn stop(self) {
        self.sb.shutdown().await;
        self.hub.stop().await;
    }
}

async fn confirmed_and_flagged(backend: Backend) {
    let mut env = bakong_env(backend, None).await;
    use khqr::Currency::{Khr, Usd};
    let ok = env.code(SHOP, Usd, "2.50", "B-OK");
    let ok_hash = env.pay(&ok, None).await;
    let unpaid = env.code(SHOP, Usd, "3", "B-NF");
    let short = env.code(SHOP, Khr, "40000", "B-AMT");
    env.pay(&short, Some("30000")).await;
    let elsewhere = env.code(SHOP, Usd, "5", "B-ACC");
    let elsewhere_hash = env.pay(&elsewhere, None).await;
    // A till that makes codes for its own account and records that payee.
    let own = env.code("dara_kim@wing", Usd, "7", "B-OWN");
    let own_hash = env.pay(&own, None).await;
    let wrong_currency = env.code(SHOP, Usd, "9", "B-CUR");
    env.pay(&wrong_currency, None).await;

    let e_ok = env
        .settle(&ok, "2.50", "USD", Some(SHOP), Some(&ok_hash))
        .await;
    let e_nf = env.settle(&unpaid, "3.00", "USD", Some(SHOP), None).await;
    env.settle(&short, "40000", "KHR", Some(SHOP), None).await;
    env.settle(
        &elsewhere,
        "5",
        "USD",
        Some("sokha_chan@aclb"),
        Some(&elsewhere_hash),
    )
    .await;
    env.settle(&own, "7", "USD", Some("dara_kim@wing"), Some(&own_hash))
        .await;
    env.settle(&wrong_currency, "9", "KHR", Some(SHOP), None)
        .await;

    let store = env.hub.hub.store();
    let before = day_findings(&*store, &env.evidence(), env.day, Utc::now())
        .await
        .unwrap();
    let b = before.bakong.unwrap();
    assert_eq!((b.settlements, b.unchecked, b.confirmed), (6, 6, 0));

    let checker = Checker::new(env.cfg.clone()).unwrap();
    let report = checker.check_day(&*store, env.day).await.unwrap();
    assert_eq!(report.settlements, 6);
    assert_eq!(report.md5s, 6);
    assert_eq!(report.requests, 1, "six MD5s in one bulk request");
    assert_eq!((report.paid, report.not_found), (5, 1));
    assert_eq!(report.error, None);

    let f = day_findings(&*store, &env.evidence(), env.day, Utc::now())
        .await
        .unwrap();
    let b = f.bakong.clone().unwrap();
    assert_eq!(
        (b.settlements, b.unchecked, b.confirmed, b.flagged),
        (6, 0, 1, 5)
    );
    let got: Vec<(FindingCode, String)> = f
        .findings
        .iter()
        .map(|x| (x.code, x.reference.clone().unwrap()))
        .collect();
    let mut want = vec![
        (FindingCode::BakongNotFound, unpaid.md5.clone()),
        (FindingCode::BakongAmountDiffers, short.md5.clone()),
        (FindingCode::BakongAccountDiffers, elsewhere.md5.clone()),
        (FindingCode::BakongNotShopAccount, own.md5.clone()),
        (
            FindingCode::BakongCurrencyDiffers,
            wrong_currency.md5.clone(),
        ),
    ];
    want.sort();
    let mut sorted = got.clone();
    sorted.sort();
    assert_eq!(sorted, want, "{:#?}", f.findings);
    let amt = f
        .findings
        .iter()
        .find(|x| x.code == FindingCode::BakongAmountDiffers)
        .unwrap();
    assert_eq!(amt.held.as_ref().unwrap().amount, Some(dec("40000")));
    assert_eq!(amt.provider.as_ref().unwrap().amount, Some(dec("30000")));
    assert_eq!(
        amt.provider.as_ref().unwrap().account.as_deref(),
        Some(SHOP)
    );
    assert!(f
        .findings
        .iter()
        .all(|x| x.terminal.as_deref() == Some("till-k")));
    assert!(f
        .findings
        .iter()
        .all(|x| x.event_id.as_deref() != Some(e_ok.as_str())));
    assert!(f
        .findings
        .iter()
        .any(|x| x.event_id.as_deref() == Some(e_nf.as_str())));

    // The same, through the read API.
    let v = env.hub.read(&format!("/v1/evidence?day={}", env.day)).await;
    assert!(v["bakong"].is_null(), "this hub has no Bakong token: {v}");

    // Paid later: the next check confirms it.
    env.pay(&unpaid, None).await;
    let report = checker.check_pending(&*store, Utc::now()).await.unwrap();
    assert_eq!(
        (report.md5s, report.paid),
        (1, 1),
        "only the unanswered one"
    );
    let f = day_findings(&*store, &env.evidence(), env.day, Utc::now())
        .await
        .unwrap();
    assert_eq!(f.bakong.unwrap().confirmed, 2);
    env.stop().await;
}
both!(confirmed_and_flagged);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_than_fifty_in_batches_from_the_command_line() {
    let mut env = bakong_env(Backend::Sqlite, None).await;
    let mut paid = 0;
    for n in 0..60 {
        let code = env.code(
            SHOP,
            khqr::Currency::Usd,
            &format!("1.{n:02}"),
            &format!("L-{n}"),
        );
        if n % 4 == 0 {
            env.pay(&code, None).await;
            paid += 1;
        }
        env.settle(&code, &format!("1.{n:02}"), "USD", Some(SHOP), None)
            .await;
    }
    let day = env.day.to_string();
    let token = env.sb.bakong_token();
    let base = env.sb.bakong_base_url();
    let vars = [
        ("TILL_HUB_BAKONG_TOKEN", token.as_str()),
        ("TILL_HUB_BAKONG_BASE_URL", base.as_str()),
        ("TILL_HUB_BAKONG_ACCOUNTS", SHOP),
        ("TILL_HUB_BAKONG_REQUEST_GAP_MS", "50"),
    ];
    let (ok, out, err) = env.cli(&["evidence", "check", "--day", &day], &vars).await;
    assert!(ok, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["md5s"], 60, "{report}");
    assert_eq!(report["requests"], 2, "50 + 10: {report}");
    assert_eq!(report["paid"], paid);
    assert_eq!(report["not_found"], 60 - paid);

    let (ok, out, err) = env
        .cli(&["evidence", "show", "--day", &day], &vars[..2])
        .await;
    assert!(ok, "{err}");
    let f: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(f["bakong"]["confirmed"], paid, "{f}");
    assert_eq!(f["bakong"]["flagged"], 60 - paid);
    assert!(f["ipn"].is_null());

    // Without a token the check says what is missing.
    let (ok, _, err) = env
        .cli(&["evidence", "check", "--day", "2026-11-22"], &[])
        .await;
    assert!(!ok);
    assert!(err.contains("TILL_HUB_BAKONG_TOKEN"), "{err}");
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hub_checks_by_itself() {
    let mut env = bakong_env(Backend::Sqlite, Some(Duration::from_millis(200))).await;
    let code = env.code(SHOP, khqr::Currency::Khr, "12000", "P-1");
    env.pay(&code, None).await;
    let event = env.settle(&code, "12000", "KHR", Some(SHOP), None).await;
    let store = env.hub.hub.store();
    let mut answered = Vec::new();
    for _ in 0..100 {
        answered = store
            .bakong_checks(std::slice::from_ref(&event))
            .await
            .unwrap();
        if !answered.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(answered.len(), 1, "the periodic check answered");
    assert_eq!(answered[0].md5, code.md5);
    assert_eq!(answered[0].to_account.as_deref(), Some(SHOP));
    // The hub's own day view shows it confirmed.
    let v = env.hub.read(&format!("/v1/evidence?day={}", env.day)).await;
    assert_eq!(v["bakong"]["confirmed"], 1, "{v}");
    assert_eq!(v["findings"], json!([]));
    env.stop().await;
}
