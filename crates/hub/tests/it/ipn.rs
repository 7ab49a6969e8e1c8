//! bKash IPN at the hub, end to end: the real sandbox makes bKash payments
//! and emits its signed SNS notifications to a real hub, which confirms the
//! subscription, verifies each message with the certificate it fetches from
//! the (allowed) loopback origin, stores it once and sets it beside the
//! terminals' settlements.

use crate::both;
use crate::harness::*;
use chrono::{NaiveDate, Utc};
use serde_json::Value;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use till_bkash::{BkashClient, BkashCredentials, BkashSettings, CreatePayment};
use till_hub::evidence::bkash_ipn::IpnConfig;
use till_hub::evidence::{day_findings, EvidenceConfig, FindingCode};
use till_sandbox::SandboxHandle;
use till_sync_proto::{new_event_id, Event, Payment, References, Signer};

const WALLET: &str = "01770618575";
const GRACE: Duration = Duration::from_secs(600);

pub struct IpnEnv {
    pub hub: TestHub,
    pub sb: SandboxHandle,
    pub bkash: BkashClient,
    pub signer: Signer,
    pub evidence: EvidenceConfig,
}

fn topic_of(cfg: &till_sandbox::Config) -> String {
    format!(
        "arn:aws:sns:ap-southeast-1:{}:bpt_{}",
        cfg.bkash.ipn.topic_account, cfg.bkash.merchant_wallet
    )
}

/// A hub receiving IPN from loopback (http allowed for the test), and a
/// sandbox emitting to it.
pub async fn ipn_env(backend: Backend) -> IpnEnv {
    let mut sb_cfg = till_sandbox::Config::default();
    let mut ipn = IpnConfig::new(vec![topic_of(&sb_cfg)]);
    ipn.hosts = vec![r"127\.0\.0\.1".into()];
    ipn.allow_http = true;
    ipn.grace = GRACE;
    let evidence = EvidenceConfig {
        ipn: Some(ipn),
        bakong: None,
    };
    let ev = evidence.clone();
    let hub = TestHub::start_with(backend, move |c| c.evidence = ev).await;
    sb_cfg.bkash.ipn.url = Some(format!("{}/v1/ipn/bkash", hub.hub.base_url()));
    sb_cfg.bkash.ipn.send_subscription_confirmation = true;
    let sb = till_sandbox::start(sb_cfg.clone()).await.unwrap();
    let mut s = BkashSettings::new(sb.bkash_base_url().parse().unwrap());
    s.timeout = Duration::from_secs(10);
    let bkash = BkashClient::new(
        s,
        BkashCredentials {
            username: sb_cfg.bkash.username.clone(),
            password: sb_cfg.bkash.password.clone(),
            app_key: sb_cfg.bkash.app_key.clone(),
            app_secret: sb_cfg.bkash.app_secret.clone(),
        },
        Arc::new(till_provider_http::NoCallLog),
    )
    .unwrap();
    let signer = hub.terminal("till-1").await;
    IpnEnv {
        hub,
        sb,
        bkash,
        signer,
        evidence,
    }
}

impl IpnEnv {
    /// create → the customer pays → execute; returns the trxID.
    pub async fn pay(&self, amount: &str, invoice: &str) -> String {
        let created = self
            .bkash
            .create_payment(&CreatePayment::sale(
                dec(amount),
                invoice,
                "http://127.0.0.1:9/callback",
                WALLET,
            ))
            .await
            .unwrap();
        let r = self
            .hub
            .http
            .post(format!(
                "{}/sim/bkash/checkout/{}",
                self.sb.origin(),
                created.payment_id
            ))
            .json(&serde_json::json!({"wallet": WALLET, "otp": "123456", "pin": "12121", "action": "pay"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        self.bkash
            .execute_payment(&created.payment_id)
            .await
            .unwrap()
            .trx_id
    }

    /// Wait until the hub holds an IPN for `trx`; its Bangladesh date.
    pub async fn notified(&self, trx: &str) -> NaiveDate {
        let store = self.hub.hub.store();
        for _ in 0..200 {
            if let Some(m) = store.ipns_by_trx(&[trx.to_string()]).await.unwrap().first() {
                return m.paid_on;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "no IPN for {trx} at the hub; sandbox: {}",
            self.sim_ipn().await
        );
    }

    pub async fn sim_ipn(&self) -> Value {
        self.hub
            .http
            .get(format!("{}/sim/bkash/ipn", self.sb.origin()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// The notification envelope of `trx`, as the sandbox sent it (it logs
    /// a delivery once the hub has answered: waited for).
    pub async fn delivered(&self, trx: &str) -> Value {
        for _ in 0..200 {
            let v = self.sim_ipn().await;
            let found = v["deliveries"].as_array().unwrap().iter().find(|d| {
                d["kind"] == "Notification" && d["trx_id"] == trx && d["http_status"] == 200
            });
            if let Some(d) = found {
                return d["envelope"].clone();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the sandbox logged no delivery of {trx}");
    }

    /// The terminal reports a bKash settlement.
    pub async fn settle(&self, seq: u64, trx: &str, amount: &str, day: NaiveDate) -> String {
        let at = Utc::now().fixed_offset();
        let event = Event::payment_settled(
            "till-1",
            seq,
            at,
            day,
            Payment {
                id: format!("p{seq}"),
                provider: "bkash".into(),
                invoice: None,
                amount: dec(amount),
                currency: "BDT".into(),
                references: References {
                    lookup: Some(format!("PAY{seq}")),
                    transaction: Some(trx.into()),
                    external: None,
                },
                created_at: at,
                settled_at: at,
                payee: Some("merchant-fp".into()),
            },
        );
        let id = new_event_id();
        let r = self.hub.send(&self.signer, &id, &event).await;
        assert_eq!(r.status, 200, "{}", r.json);
        id
    }

    /// POST a body to the IPN endpoint as SNS does.
    pub async fn post_ipn(&self, body: &str, kind: Option<&str>) -> (u16, Value) {
        let mut req = self
            .hub
            .http
            .post(format!("{}/v1/ipn/bkash", self.hub.hub.base_url()))
            .header("content-type", "text/plain; charset=UTF-8")
            .body(body.to_string());
        if let Some(k) = kind {
            req = req.header("x-amz-sns-message-type", k);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn count_ipns(&self) -> u64 {
        self.hub.hub.store().count_ipns().await.unwrap()
    }

    pub async fn stop(self) {
        self.sb.shutdown().await;
        self.hub.stop().await;
    }
}

fn codes(f: &till_hub::evidence::DayFindings) -> Vec<(FindingCode, Option<String>)> {
    f.findings
        .iter()
        .map(|f| (f.code, f.reference.clone()))
        .collect()
}

async fn matched_missing_and_orphan(backend: Backend) {
    let env = ipn_env(backend).await;
    let a = env.pay("125.50", "INV-A").await;
    let day = env.notified(&a).await;
    let b = env.pay("80", "INV-B").await;
    let c = env.pay("40", "INV-C").await;
    env.notified(&b).await;
    env.notified(&c).await;

    // The hub confirmed the subscription through its SubscribeURL (the
    // sandbox sends it beside the first notification, not before).
    let store = env.hub.hub.store();
    for _ in 0..200 {
        if !store.ipn_subscriptions().await.unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let sim = env.sim_ipn().await;
    assert_eq!(sim["subscription"]["confirmations"], 1, "{sim}");
    assert_eq!(sim["subscription"]["refused"], 0);
    let subs = env.hub.hub.store().ipn_subscriptions().await.unwrap();
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0].status, "confirmed");
    assert_eq!(env.count_ipns().await, 3);

    // A: same amount (the IPN says "125.5"). B: the terminal says 85.
    // D: a settlement bKash never notified. C: paid, no sale.
    env.settle(1, &a, "125.50", day).await;
    env.settle(2, &b, "85.00", day).await;
    env.settle(3, "NOIPN00001", "60.00", day).await;

    // Within the grace period: D and C are awaited, not flagged.
    let path = format!("/v1/evidence?day={day}");
    assert_eq!(env.hub.get(&path, None).await.status, 401);
    assert_eq!(
        env.hub.get("/v1/evidence", Some(READ_TOKEN)).await.status,
        400
    );
    let now = env.hub.read(&path).await;
    let ipn = &now["ipn"];
    assert_eq!(ipn["settlements"], 3, "{now}");
    assert_eq!(ipn["matched"], 1);
    assert_eq!(ipn["awaiting_ipn"], 1);
    assert_eq!(ipn["flagged"], 1);
    assert_eq!(ipn["notices"], 3);
    assert_eq!(ipn["awaiting_settlement"], 1);
    assert_eq!(ipn["orphans"], 0);
    assert!(now["bakong"].is_null());
    let f = &now["findings"].as_array().unwrap()[0];
    assert_eq!(f["code"], "ipn_amount_differs");
    assert_eq!(f["terminal"], "till-1");
    assert_eq!(f["reference"], b.as_str());
    assert_eq!(f["held"]["amount"], "85.00");
    assert_eq!(f["provider"]["amount"], "80");

    // Past the grace period: D is missing, C an orphan.
    let later =
        Utc::now() + chrono::Duration::from_std(GRACE).unwrap() + chrono::Duration::minutes(1);
    let f = day_findings(&*store, &env.evidence, day, later)
        .await
        .unwrap();
    let ipn = f.ipn.clone().unwrap();
    assert_eq!((ipn.matched, ipn.awaiting_ipn, ipn.orphans), (1, 0, 1));
    assert_eq!(
        codes(&f),
        [
            (FindingCode::IpnMissing, Some("NOIPN00001".into())),
            (FindingCode::IpnAmountDiffers, Some(b.clone())),
            (FindingCode::IpnOrphan, Some(c.clone())),
        ]
    );
    let orphan = &f.findings[2];
    assert_eq!(orphan.terminal, None);
    assert_eq!(orphan.provider.as_ref().unwrap().amount, Some(dec("40")));
    assert_eq!(orphan.message_ids.len(), 1);
    assert_eq!(orphan.detail.as_deref(), Some("invoice INV-C"));
    assert_eq!(f.of_terminal("till-1").count(), 2);

    // C's sale arrives late, booked on the next day: no longer an orphan of
    // this day, and matched on that one.
    let next = day.succ_opt().unwrap();
    env.settle(4, &c, "40", next).await;
    let f = day_findings(&*store, &env.evidence, day, later)
        .await
        .unwrap();
    assert_eq!(f.ipn.as_ref().unwrap().orphans, 0);
    assert_eq!(f.findings.len(), 2);
    let n = day_findings(&*store, &env.evidence, next, later)
        .await
        .unwrap();
    assert_eq!(n.ipn.as_ref().unwrap().matched, 1);
    assert!(n.findings.is_empty(), "{:?}", n.findings);
    env.stop().await;
}
both!(matched_missing_and_orphan);

async fn tampered_and_replayed_messages(backend: Backend) {
    let env = ipn_env(backend).await;
    let trx = env.pay("250", "INV-T").await;
    env.notified(&trx).await;
    assert_eq!(env.count_ipns().await, 1);
    let genuine = env.delivered(&trx).await;
    let text = genuine.to_string();

    // Replayed: answered, stored once.
    for _ in 0..2 {
        let (status, v) = env.post_ipn(&text, Some("Notification")).await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["status"], "duplicate");
    }
    assert_eq!(env.count_ipns().await, 1);

    // Tampered: the amount, or a new MessageId on the old signature.
    let mut t = genuine.clone();
    t["Message"] = t["Message"].as_str().unwrap().replace("250", "2500").into();
    let (status, v) = env.post_ipn(&t.to_string(), Some("Notification")).await;
    assert_eq!(status, 401, "{v}");
    assert_eq!(v["error"], "bad_signature");
    let mut t = genuine.clone();
    t["MessageId"] = "00000000-0000-0000-0000-000000000000".into();
    assert_eq!(env.post_ipn(&t.to_string(), None).await.0, 401);
    let mut t = genuine.clone();
    t["Signature"] = "AAAA".into();
    assert_eq!(env.post_ipn(&t.to_string(), None).await.0, 401);

    // Malformed or not ours: 400/403/413.
    assert_eq!(env.post_ipn("not json", None).await.0, 400);
    assert_eq!(env.post_ipn("{}", None).await.0, 400);
    let mut t = genuine.clone();
    t["Type"] = "Telegram".into();
    assert_eq!(env.post_ipn(&t.to_string(), None).await.0, 400);
    assert_eq!(
        env.post_ipn(&text, Some("SubscriptionConfirmation"))
            .await
            .0,
        400,
        "the header must say the body's type"
    );
    let mut t = genuine.clone();
    t["TopicArn"] = "arn:aws:sns:ap-southeast-1:999999999999:bpt_01000000000".into();
    assert_eq!(env.post_ipn(&t.to_string(), None).await.0, 403);
    let mut t = genuine.clone();
    t["SignatureVersion"] = "3".into();
    assert_eq!(env.post_ipn(&t.to_string(), None).await.0, 400);
    let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(70 * 1024));
    assert_eq!(env.post_ipn(&big, None).await.0, 413);

    // Nothing of it was stored; the genuine message still reads as before.
    assert_eq!(env.count_ipns().await, 1);
    let held = env
        .hub
        .hub
        .store()
        .ipns_by_trx(std::slice::from_ref(&trx))
        .await
        .unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].amount, Some(dec("250")));
    assert_eq!(held[0].envelope, text);
    env.stop().await;
}
both!(tampered_and_replayed_messages);

/// A loopback server counting requests, serving `pem` at any path.
async fn counting_server(pem: String) -> (u16, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let app = axum::Router::new().fallback(move || {
        let h = h.clone();
        let pem = pem.clone();
        async move {
            h.fetch_add(1, Ordering::SeqCst);
            pem
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (port, hits)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_only_from_allowed_hosts() {
    let env = ipn_env(Backend::Sqlite).await;
    let trx = env.pay("99", "INV-H").await;
    env.notified(&trx).await;
    let genuine = env.delivered(&trx).await;
    // The cert URL is not signed: a sender can point it anywhere. The
    // MessageId is the stored one, so a message that passed would be
    // answered `duplicate` (200).
    let with_cert_url = |url: String| {
        let mut e = genuine.clone();
        e["SigningCertURL"] = url.into();
        e.to_string()
    };

    // The sandbox's own (right) certificate, served on a host the rule
    // does not allow: refused before any request.
    let right = env.sb.ipn_certificate_pem().unwrap();
    let (port, hits) = counting_server(right).await;
    for url in [
        format!("http://localhost:{port}/cert.pem"),
        format!("http://127.0.0.2:{port}/cert.pem"),
        format!("http://127.0.0.1.nip.test:{port}/cert.pem"),
        format!("http://127.0.0.1:{port}/cert.txt"),
        format!("ftp://127.0.0.1:{port}/cert.pem"),
        format!("http://me:pw@127.0.0.1:{port}/cert.pem"),
    ] {
        let (status, v) = env.post_ipn(&with_cert_url(url.clone()), None).await;
        assert_eq!(status, 400, "{url}: {v}");
        assert!(
            v["message"].as_str().unwrap().contains("not fetched"),
            "{v}"
        );
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0, "nothing was fetched");

    // An allowed host serving another key's certificate: fetched once
    // (then cached), the signature fails, nothing stored.
    let mut other_cfg = till_sandbox::Config::default();
    other_cfg.seed ^= 7;
    other_cfg.bkash.ipn.url = Some("http://127.0.0.1:9/unused".into());
    let other = till_sandbox::start(other_cfg).await.unwrap();
    let (port, hits) = counting_server(other.ipn_certificate_pem().unwrap()).await;
    other.shutdown().await;
    for _ in 0..2 {
        let body = with_cert_url(format!("http://127.0.0.1:{port}/other.pem"));
        assert_eq!(env.post_ipn(&body, None).await.0, 401);
    }
    assert_eq!(hits.load(Ordering::SeqCst), 1, "fetched once, then cached");

    // An allowed host that does not answer: 502 (SNS will retry), nothing stored.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = closed.local_addr().unwrap().port();
    drop(closed);
    let body = with_cert_url(format!("http://127.0.0.1:{dead}/cert.pem"));
    assert_eq!(env.post_ipn(&body, None).await.0, 502);

    assert_eq!(env.count_ipns().await, 1);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_settings_there_is_no_endpoint() {
    let hub = TestHub::start(Backend::Sqlite).await;
    let (status, _) = {
        let r = hub
            .http
            .post(format!("{}/v1/ipn/bkash", hub.hub.base_url()))
            .body("{}")
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    };
    assert_eq!(status, 404);
    let v = hub.read("/v1/evidence?day=2026-11-22").await;
    assert!(v["ipn"].is_null() && v["bakong"].is_null(), "{v}");
    assert_eq!(v["findings"], serde_json::json!([]));
    hub.stop().await;
}
