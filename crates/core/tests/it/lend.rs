//! `bkash.token_from = "hub"`: several tills on one bKash merchant account,
//! none holding a bKash credential, borrow the token of the shop's hub
//! (real sandbox, real hub, three engines on three homes, all on loopback).
//! bKash allows the account two token calls an hour; the sandbox enforces it.

use crate::util::*;
use serde_json::{json, Value};
use std::sync::Arc;
use till_core::secrets::{names, KeyringStore, Secret, SecretStore};
use till_core::{Clock, Config, CustomerStep, Engine, EngineOptions, PaymentState, ProviderKind};
use till_hub::lend::LendConfig;
use till_hub::{HubConfig, HubHandle, NewKey};
use till_sync_proto::{generate_ed25519_keypair, LendRequest, Signer, SigningKey};

const WALLET: &str = "01770618575";

struct Till {
    engine: Engine,
    secrets: Arc<KeyringStore>,
    _home: tempfile::TempDir,
}

impl Drop for Till {
    fn drop(&mut self) {
        for n in names::ALL.iter().chain(names::STATE) {
            let _ = self.secrets.delete(n);
        }
    }
}

struct Shop {
    sandbox: till_sandbox::SandboxHandle,
    hub: HubHandle,
    hub_config: HubConfig,
    _hub_dir: tempfile::TempDir,
    http: reqwest::Client,
}

/// A sandbox that blocks a merchant past two token calls an hour, and a hub
/// that holds the merchant's credentials (`lending`) or not.
async fn shop(lending: bool) -> Shop {
    shop_with(lending, |_| {}).await
}

async fn shop_with(lending: bool, tweak: impl FnOnce(&mut LendConfig)) -> Shop {
    let mut sb = sandbox_config();
    sb.bkash.token_rate_limit = true;
    let sandbox = till_sandbox::start(sb).await.expect("sandbox starts");
    let hub_dir = tempfile::tempdir().unwrap();
    let mut config = HubConfig::new(
        "127.0.0.1:0",
        format!("sqlite://{}", hub_dir.path().join("hub.db").display()),
    );
    if lending {
        let c = &sandbox.config().bkash;
        let mut lend = LendConfig::new(
            sandbox.bkash_base_url().parse().unwrap(),
            till_bkash::BkashCredentials {
                username: c.username.clone(),
                password: c.password.clone(),
                app_key: c.app_key.clone(),
                app_secret: c.app_secret.clone(),
            },
        );
        tweak(&mut lend);
        config.bkash = Some(lend);
    }
    let hub = till_hub::start(config.clone()).await.expect("hub starts");
    Shop {
        sandbox,
        hub,
        hub_config: config,
        _hub_dir: hub_dir,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    }
}

impl Shop {
    /// Registers `id` at the hub (ed25519); returns the terminal's `whsk_` key.
    async fn register(&self, id: &str) -> String {
        let kp = generate_ed25519_keypair();
        self.hub
            .admin()
            .add_terminal(id, Some("lend test"), NewKey::Existing(kp.public))
            .await
            .unwrap();
        kp.signing.to_text().to_string()
    }

    /// A till with `token_from = "hub"`: only its hub key in the keyring.
    async fn till(&self, id: &str) -> Till {
        let key = self.register(id).await;
        let home = tempfile::tempdir().unwrap();
        let secrets = Arc::new(KeyringStore::new(format!(
            "till-test-{}",
            ulid::Ulid::new()
        )));
        secrets
            .set(names::HUB_SIGNING_KEY, &Secret::new(key))
            .expect("the OS keyring is reachable (run under dbus-run-session with gnome-keyring)");
        let hub_url = self.hub.base_url();
        let pairs = [
            ("TILL__TERMINAL__ID", id),
            ("TILL__BKASH__BASE_URL", &self.sandbox.bkash_base_url()),
            ("TILL__BKASH__TOKEN_FROM", "hub"),
            ("TILL__BKASH__TIMEOUT_SECS", "5"),
            ("TILL__BAKONG__ENABLED", "false"),
            ("TILL__HUB__URL", &hub_url),
            ("TILL__HUB__TIMEOUT_SECS", "5"),
            ("TILL__HUB__POLL_INTERVAL_MS", "50"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let config = Config::from_layers(till_core::config::DEFAULTS_TOML, None, pairs.into_iter())
            .expect("test config is valid");
        let engine = Engine::open(EngineOptions {
            home: home.path().to_owned(),
            config,
            secrets: secrets.clone(),
            clock: Clock::system(),
            background: true,
        })
        .await
        .expect("engine opens");
        Till {
            engine,
            secrets,
            _home: home,
        }
    }

    async fn ledger(&self) -> Value {
        let url = format!("{}/sim/ledger", self.sandbox.origin());
        self.http
            .get(url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn token_calls(&self) -> Vec<Value> {
        self.ledger().await["bkash"]["tokenCalls"]
            .as_array()
            .unwrap()
            .clone()
    }

    async fn advance(&self, secs: u64) {
        let r = self
            .http
            .post(format!("{}/sim/clock", self.sandbox.origin()))
            .json(&json!({ "advance_secs": secs }))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }

    /// One bKash sale on `till`, paid by the customer, settled.
    async fn sale(&self, till: &Till, amount: &str) {
        let c = till
            .engine
            .charge(ProviderKind::Bkash, bdt(amount), "cashier-1")
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "charge {amount} on {}: {e}",
                    till.engine.config().terminal.id
                )
            });
        assert!(
            matches!(c.step, CustomerStep::Redirect { .. }),
            "{:?}",
            c.step
        );
        let pid = c.payment.refs.lookup.clone().unwrap();
        let r = self
            .http
            .post(format!(
                "{}/sim/bkash/checkout/{pid}",
                self.sandbox.origin()
            ))
            .json(&json!({"wallet": WALLET, "otp": "123456", "pin": "12121", "action": "pay"}))
            .send()
            .await
            .unwrap();
        let v: Value = r.json().await.unwrap();
        let back: url::Url = v["redirect"].as_str().expect("a redirect").parse().unwrap();
        let p = till.engine.callback(&back).await.unwrap();
        assert_eq!(p.state, PaymentState::Settled, "{p:?}");
    }

    /// Posts a lend request for `terminal` signed with `signer` (or unsigned).
    async fn lend(&self, terminal: &str, signer: Option<&Signer>, id: &str) -> (u16, String) {
        let body = serde_json::to_vec(&LendRequest::new(terminal, None)).unwrap();
        let mut req = self
            .http
            .post(format!(
                "{}{}",
                self.hub.base_url(),
                till_sync_proto::lend_path(terminal)
            ))
            .header("content-type", "application/json")
            .body(body.clone());
        if let Some(s) = signer {
            for (n, v) in s.headers(id, chrono::Utc::now().timestamp(), &body).pairs() {
                req = req.header(n, v);
            }
        }
        let r = req.send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }
}

fn signer(key: &str) -> Signer {
    Signer::new(vec![key.parse::<SigningKey>().unwrap()]).unwrap()
}

/// Three tills, one merchant account: two sales each, the sandbox clock
/// moved past the token's lifetime in between. The merchant's token calls
/// in all: one grant, one refresh.
#[tokio::test]
async fn three_tills_on_one_merchant_make_two_token_calls_between_them() {
    let shop = shop(true).await;
    let tills = [
        shop.till("shop1-t1").await,
        shop.till("shop1-t2").await,
        shop.till("shop1-t3").await,
    ];
    for (i, t) in tills.iter().enumerate() {
        shop.sale(t, &format!("{}.00", 101 + i)).await;
    }
    assert_eq!(
        shop.token_calls().await.len(),
        1,
        "one grant for the first sales"
    );
    // bKash's token (3600 s) dies on the sandbox's clock; the tills' copies are refused.
    shop.advance(3_700).await;
    for (i, t) in tills.iter().enumerate() {
        shop.sale(t, &format!("{}.00", 201 + i)).await;
    }
    // A third round, on the refreshed token.
    for (i, t) in tills.iter().enumerate() {
        shop.sale(t, &format!("{}.00", 301 + i)).await;
    }
    let calls = shop.token_calls().await;
    let kinds: Vec<&str> = calls.iter().filter_map(|c| c["kind"].as_str()).collect();
    eprintln!("token calls of the shop (3 tills, 9 sales, token expired once): {calls:?}");
    assert!(calls.len() <= 2, "{calls:?}");
    assert_eq!(calls.len(), 2, "a grant and a refresh: {calls:?}");
    assert_eq!(kinds, ["grant", "refresh"]);
    for t in &tills {
        let j = till_core::journal::Journal::open(
            &t._home.path().join("journal.db"),
            till_core::journal::JournalContext::from_config(t.engine.config()).unwrap(),
        )
        .unwrap();
        assert_eq!(
            j.call_count("bkash.grant").unwrap() + j.call_count("bkash.refresh").unwrap(),
            0
        );
        assert_eq!(j.call_count("bkash.execute").unwrap(), 3);
        // No bKash credential and no token in the till's keyring.
        for n in [
            names::BKASH_APP_KEY,
            names::BKASH_USERNAME,
            names::BKASH_TOKEN,
        ] {
            assert!(t.secrets.get(n).unwrap().is_none(), "{n}");
        }
    }
    // The same key signs the settlements: all nine reach the hub.
    let hub = shop.hub.store();
    wait_for_async("nine settlements at the hub", || {
        let hub = hub.clone();
        async move { hub.count_events(None).await.unwrap() == 9 }
    })
    .await;
    for t in tills {
        t.engine.shutdown().await;
    }
}

/// A lend request not signed by the terminal gets the ingest endpoints' 401
/// and nothing about the token; the hub makes no token call for it. A
/// correctly signed one gets the token once per webhook-id.
#[tokio::test]
async fn unsigned_or_wrongly_signed_lend_requests_learn_nothing() {
    let shop = shop(true).await;
    let key = shop.register("shop1-t1").await;
    let stranger = signer(&generate_ed25519_keypair().signing.to_text());
    let mut answers = Vec::new();
    answers.push(shop.lend("shop1-t1", None, "lend_x1").await);
    answers.push(shop.lend("shop1-t1", Some(&stranger), "lend_x2").await);
    answers.push(shop.lend("no-such-till", Some(&stranger), "lend_x3").await);
    for (status, body) in &answers {
        assert_eq!(*status, 401, "{body}");
        assert!(
            !body.contains("id_token") && !body.contains("app_key"),
            "{body}"
        );
    }
    // A stranger cannot tell the registered till from an unknown one.
    assert_eq!(answers[1].1, answers[2].1);
    assert!(
        shop.token_calls().await.is_empty(),
        "no token call for a stranger"
    );

    let own = signer(&key);
    let (status, body) = shop.lend("shop1-t1", Some(&own), "lend_ok1").await;
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert!(v["id_token"].as_str().is_some_and(|t| !t.is_empty()), "{v}");
    assert_eq!(v["app_key"], shop.sandbox.config().bkash.app_key);
    assert!(v["use_for_ms"].as_u64().unwrap() > 3_000_000, "{v}");
    // The same signed request again (a replay) is refused.
    let (status, body) = shop.lend("shop1-t1", Some(&own), "lend_ok1").await;
    assert_eq!(status, 409, "{body}");
    assert!(!body.contains("id_token"), "{body}");
    // Signed for another terminal's path: refused like a stranger.
    shop.register("shop1-t2").await;
    let (status, _) = shop.lend("shop1-t2", Some(&own), "lend_ok2").await;
    assert_eq!(status, 401);
    assert_eq!(shop.token_calls().await.len(), 1);
}

/// A hub without bKash credentials tells its own terminals so (after
/// checking the signature), and their bKash is unavailable, not failed.
#[tokio::test]
async fn a_hub_that_does_not_lend_says_so_to_its_terminals_only() {
    let shop = shop(false).await;
    let (status, _) = shop.lend("shop1-t1", None, "lend_n1").await;
    assert_eq!(status, 401);
    let till = shop.till("shop1-t1").await;
    let e = till
        .engine
        .charge(ProviderKind::Bkash, bdt("55.00"), "cashier-1")
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("not_lending") || text.contains("NotLending"),
        "{text}"
    );
    assert!(shop.token_calls().await.is_empty());
    till.engine.shutdown().await;
}

/// With `TILL_HUB_BKASH_STATE_FILE` the hub's token and token calls outlive
/// a restart: a till that first asks the restarted hub gets the token it had.
#[tokio::test]
async fn a_restarted_hub_lends_the_token_it_had() {
    let state = tempfile::tempdir().unwrap();
    let file = state.path().join("bkash-state.json");
    let mut shop = shop_with(true, |c| c.state_file = Some(file.clone())).await;
    let first = shop.till("shop1-t1").await;
    shop.sale(&first, "71.00").await;
    assert_eq!(shop.token_calls().await.len(), 1);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("calls_ms"), "{text}");
    first.engine.shutdown().await;
    // The hub restarts (a new process on the same database and state file);
    // a till that never borrowed asks it.
    let restarted = till_hub::start(shop.hub_config.clone())
        .await
        .expect("hub restarts");
    std::mem::replace(&mut shop.hub, restarted).shutdown().await;
    let second = shop.till("shop1-t2").await;
    shop.sale(&second, "72.00").await;
    assert_eq!(
        shop.token_calls().await.len(),
        1,
        "the restarted hub granted anew"
    );
    second.engine.shutdown().await;
}
