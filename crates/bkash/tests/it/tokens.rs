//! The token cache: refresh on expiry, replay after a provable 401, the
//! sliding-hour budget, one shared grant for concurrent callers.

use crate::util::*;
use till_bkash::*;
use till_sandbox::{FaultKind, FaultRule};

#[tokio::test]
async fn token_expired_mid_flow_refreshes_transparently_for_query() {
    let env = start_with(config(), |s| s.max_grants_per_hour = 5).await;
    let c = env.create("40", "INV-TOKEN").await;
    assert_eq!(env.client.token_grants(), 1);

    env.fault(FaultRule::new("bkash.status", FaultKind::TokenExpired).times(1));
    let q = env.client.query_payment(&c.payment_id).await.unwrap();
    assert_eq!(q.status, BkashStatus::Initiated);
    assert_eq!(env.client.token_grants(), 2);
    assert_eq!(env.log.count("bkash.refresh"), 1);

    // The sandbox clock passes the token's ttl: 401, refresh, replay.
    env.advance(3_700).await;
    let q = env.client.query_payment(&c.payment_id).await.unwrap();
    assert_eq!(q.payment_id, c.payment_id);
    assert_eq!(env.client.token_grants(), 3);
    assert_eq!(env.log.count("bkash.grant"), 1);
    assert_eq!(env.log.count("bkash.refresh"), 2);
    let statuses: Vec<_> = env
        .log
        .all()
        .into_iter()
        .filter(|r| r.endpoint == "bkash.status")
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, vec![Some(401), Some(200), Some(401), Some(200)]);
}

#[tokio::test]
async fn execute_replays_after_a_gateway_401_which_proves_nothing_ran() {
    let env = start().await;
    let c = env.create("41", "INV-TOKEN-EXEC").await;
    let cb = parse_callback(&env.customer_pays(&c).await, &callback_base()).unwrap();
    env.fault(FaultRule::new("bkash.execute", FaultKind::TokenExpired).times(1));
    let e = env.client.execute_payment(&cb.payment_id).await.unwrap();
    assert_eq!(e.transaction_status, BkashStatus::Completed);
    assert_eq!(e.amount, dec("41"));
    assert_eq!(env.log.count("bkash.execute"), 2);
    assert_eq!(env.client.token_grants(), 2);
}

#[tokio::test]
async fn client_never_trips_the_sandbox_token_rate_limit() {
    let mut cfg = config();
    cfg.bkash.token_rate_limit = true;
    let env = start_with(cfg, |_| {}).await;
    let c = env.create("42", "INV-MANY").await;
    for _ in 0..200 {
        env.client.query_payment(&c.payment_id).await.unwrap();
    }
    // Concurrent callers share one token as well.
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let client = env.client.clone();
        let pid = c.payment_id.clone();
        tasks.push(tokio::spawn(
            async move { client.query_payment(&pid).await },
        ));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(env.client.token_grants(), 1);
    assert_eq!(env.log.count("bkash.grant"), 1);
}

#[tokio::test]
async fn concurrent_first_calls_share_one_grant() {
    let env = start().await;
    let mut tasks = Vec::new();
    for i in 0..16 {
        let client = env.client.clone();
        tasks.push(tokio::spawn(async move {
            client
                .create_payment(&CreatePayment::sale(
                    dec(&format!("{}.00", 100 + i)),
                    format!("INV-CONC-{i}"),
                    CALLBACK,
                    WALLET,
                ))
                .await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(env.client.token_grants(), 1);
}

#[tokio::test]
async fn over_budget_returns_auth_without_calling() {
    let mut cfg = config();
    cfg.bkash.token_rate_limit = true; // the sandbox would block a third call
    let env = start_with(cfg, |s| s.max_grants_per_hour = 2).await;
    let c = env.create("43", "INV-BUDGET").await; // grant (1)
    env.fault(FaultRule::new("bkash.status", FaultKind::TokenExpired).times(1));
    env.client.query_payment(&c.payment_id).await.unwrap(); // refresh (2)
    env.fault(FaultRule::new("bkash.status", FaultKind::TokenExpired).times(1));
    let e = env.client.query_payment(&c.payment_id).await.unwrap_err();
    assert!(matches!(e, BkashError::Auth { .. }), "{e}");
    assert!(e.to_string().contains("budget"), "{e}");
    assert_eq!(e.resolution(), Resolution::RetryLater);
    assert_eq!(env.client.token_grants(), 2);
    assert_eq!(
        env.log.count("bkash.grant") + env.log.count("bkash.refresh"),
        2
    );
}

#[tokio::test]
async fn wrong_credentials_are_auth_errors_and_not_retried() {
    let env = start().await;
    let mut bad = creds();
    bad.password = "not-the-password".into();
    let log = std::sync::Arc::new(MemLog::default());
    let client = BkashClient::new(settings(&env.sb.bkash_base_url()), bad, log.clone()).unwrap();
    let e = client
        .query_payment("TR0011x1700000000000")
        .await
        .unwrap_err();
    assert!(matches!(e, BkashError::Auth { .. }), "{e}");
    assert!(e.to_string().contains("9999"), "{e}");
    assert_eq!(log.count("bkash.grant"), 1);

    let mut bad = creds();
    bad.app_secret = "wrong-secret".into();
    let client = BkashClient::new(settings(&env.sb.bkash_base_url()), bad, log.clone()).unwrap();
    let e = client
        .query_payment("TR0011x1700000000000")
        .await
        .unwrap_err();
    assert!(matches!(e, BkashError::Auth { .. }), "{e}");
    assert!(e.to_string().contains("2001"), "{e}");
}

#[tokio::test]
async fn strict_bearer_sandbox_accepts_the_raw_token() {
    let mut cfg = config();
    cfg.bkash.strict_bearer = true;
    let env = start_with(cfg, |_| {}).await;
    let (c, e) = env.paid("44", "INV-STRICT").await;
    assert_eq!(e.payment_id, c.payment_id);
}

#[tokio::test]
async fn token_is_refreshed_before_expiry_by_margin() {
    // A 2 s token ttl and a 1 s margin: after 1.2 s the client refreshes
    // proactively (no 401 on the way).
    let mut cfg = config();
    cfg.bkash.token_ttl_secs = 2;
    let env = start_with(cfg, |s| {
        s.refresh_margin = std::time::Duration::from_secs(1);
        s.max_grants_per_hour = 5;
    })
    .await;
    let c = env.create("45", "INV-MARGIN").await;
    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    env.client.query_payment(&c.payment_id).await.unwrap();
    assert_eq!(env.log.count("bkash.refresh"), 1);
    assert!(env.log.all().iter().all(|r| r.status != Some(401)));
}

#[tokio::test]
async fn a_429_on_token_calls_pauses_them_locally() {
    let mut cfg = config();
    cfg.bkash.token_rate_limit = true;
    cfg.bkash.token_rate_limit_max = 1; // the sandbox blocks the second token call
    let env = start_with(cfg, |s| s.max_grants_per_hour = 5).await;
    let c = env.create("46", "INV-BLOCKED").await; // grant (1)
    env.fault(FaultRule::new("bkash.status", FaultKind::TokenExpired).times(1));
    let e = env.client.query_payment(&c.payment_id).await.unwrap_err();
    assert!(matches!(e, BkashError::Auth { .. }), "{e}");
    assert!(e.to_string().contains("429"), "{e}");
    // The refused refresh is not followed by a grant, nor retried.
    assert_eq!(env.log.count("bkash.refresh"), 1);
    assert_eq!(env.log.count("bkash.grant"), 1);
    // Later calls do not knock again while blocked.
    let e = env.client.query_payment(&c.payment_id).await.unwrap_err();
    assert!(e.to_string().contains("blocked"), "{e}");
    assert_eq!(env.client.token_grants(), 2);
}

#[tokio::test]
async fn concurrent_401s_renew_once() {
    let env = start_with(config(), |s| s.max_grants_per_hour = 5).await;
    let c = env.create("47", "INV-CONC-401").await;
    // Every cached token is now dead on the sandbox's clock.
    env.advance(3_700).await;
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let client = env.client.clone();
        let pid = c.payment_id.clone();
        tasks.push(tokio::spawn(
            async move { client.query_payment(&pid).await },
        ));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(env.client.token_grants(), 2);
    assert_eq!(env.log.count("bkash.refresh"), 1);
}

#[tokio::test]
async fn invalid_refresh_token_falls_back_to_one_grant() {
    // A refresh the sandbox does not know (a restarted sandbox forgets its
    // refresh tokens only with no state file; emulate with a business error).
    let env = start_with(config(), |s| s.max_grants_per_hour = 5).await;
    let c = env.create("48", "INV-REFRESH-BAD").await;
    env.fault(FaultRule::business("bkash.refresh", "9999").times(1));
    env.fault(FaultRule::new("bkash.status", FaultKind::TokenExpired).times(1));
    env.client.query_payment(&c.payment_id).await.unwrap();
    assert_eq!(env.log.count("bkash.refresh"), 1);
    assert_eq!(env.log.count("bkash.grant"), 2);
    assert_eq!(env.client.token_grants(), 3);
}

#[tokio::test]
async fn grant_request_is_recorded_redacted() {
    let env = start().await;
    env.create("49", "INV-REDACT").await;
    let grant = env
        .log
        .all()
        .into_iter()
        .find(|r| r.endpoint == "bkash.grant")
        .unwrap();
    let req = grant.request_body.unwrap();
    assert_eq!(req["app_key"], "***");
    assert_eq!(req["app_secret"], "***");
    let resp = grant.response_body.unwrap();
    assert_eq!(resp["id_token"], "***");
    assert_eq!(resp["refresh_token"], "***");
    assert_eq!(resp["expires_in"], 3600);
    assert_eq!(resp["statusCode"], "0000");
}

#[tokio::test]
async fn token_answers_without_status_code_are_accepted() {
    // Some servers answer grant and refresh with the token fields only.
    let mut cfg = config();
    cfg.bkash.token_status_code = false;
    let env = start_with(cfg, |s| s.max_grants_per_hour = 5).await;
    let c = env.create("46", "INV-NOSTATUS").await;
    assert_eq!(env.log.count("bkash.grant"), 1);
    let grant = env
        .log
        .all()
        .into_iter()
        .find(|r| r.endpoint == "bkash.grant")
        .unwrap();
    let body = grant.response_body.unwrap();
    assert!(body.get("statusCode").is_none(), "{body}");
    assert!(grant.error.is_none(), "{:?}", grant.error);
    // The token expires: a refresh of the same shape is accepted as well.
    env.advance(3_700).await;
    let q = env.client.query_payment(&c.payment_id).await.unwrap();
    assert_eq!(q.payment_id, c.payment_id);
    assert_eq!(env.log.count("bkash.refresh"), 1);
    assert_eq!(env.log.count("bkash.grant"), 1);
}

#[tokio::test]
async fn a_business_answer_without_status_code_is_still_not_success() {
    // Only token calls may omit statusCode: a status answer without one is
    // not read as a result (a token field in it changes nothing).
    let env = start().await;
    let c = env.create("47", "INV-NOSTATUS-2").await;
    let mut rule = FaultRule::new("bkash.status", FaultKind::Status).times(5);
    rule.status = 200;
    rule.body = Some(r#"{"paymentID":"x","transactionStatus":"Completed","id_token":"t"}"#.into());
    env.fault(rule);
    let err = env.client.query_payment(&c.payment_id).await.unwrap_err();
    assert!(err.to_string().contains("without statusCode"), "{err}");
}

/// Two processes on one store, as the app and `till charge` on one data
/// directory: a file lock and a file, like the terminal's store.
struct FileStore {
    dir: std::path::PathBuf,
    saves: std::sync::atomic::AtomicU32,
}

impl FileStore {
    fn new(dir: &std::path::Path) -> std::sync::Arc<FileStore> {
        std::sync::Arc::new(FileStore {
            dir: dir.to_owned(),
            saves: Default::default(),
        })
    }
}

fn ms(t: std::time::SystemTime) -> u64 {
    t.duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64
}

fn at(ms: u64) -> std::time::SystemTime {
    std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms)
}

impl TokenStore for FileStore {
    fn lock(&self) -> Result<Box<dyn Send>, TokenStoreError> {
        let f = std::fs::File::create(self.dir.join("lock")).unwrap();
        f.lock().unwrap();
        Ok(Box::new(f))
    }
    fn load(&self) -> Result<TokenRecord, TokenStoreError> {
        let Ok(text) = std::fs::read_to_string(self.dir.join("record.json")) else {
            return Ok(TokenRecord::default());
        };
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        Ok(TokenRecord {
            token: v["id"].as_str().map(|id| StoredToken {
                id_token: id.to_owned(),
                refresh_token: v["refresh"].as_str().map(str::to_owned),
                use_until: at(v["until"].as_u64().unwrap()),
            }),
            calls: v["calls"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| at(c.as_u64().unwrap()))
                .collect(),
            blocked_until: v["blocked"].as_u64().map(at),
        })
    }
    fn save(&self, r: &TokenRecord) -> Result<(), TokenStoreError> {
        self.saves
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let v = serde_json::json!({
            "id": r.token.as_ref().map(|t| t.id_token.clone()),
            "refresh": r.token.as_ref().and_then(|t| t.refresh_token.clone()),
            "until": r.token.as_ref().map(|t| ms(t.use_until)),
            "calls": r.calls.iter().map(|c| ms(*c)).collect::<Vec<_>>(),
            "blocked": r.blocked_until.map(ms),
        });
        std::fs::write(self.dir.join("record.json"), v.to_string()).unwrap();
        Ok(())
    }
}

fn create_request(amount: &str, invoice: &str) -> CreatePayment {
    CreatePayment::sale(dec(amount), invoice, CALLBACK, WALLET)
}

fn client_on(
    env: &Env,
    store: std::sync::Arc<FileStore>,
    max: u32,
) -> (BkashClient, std::sync::Arc<MemLog>) {
    let mut s = settings(&env.sb.bkash_base_url());
    s.max_grants_per_hour = max;
    let log = std::sync::Arc::new(MemLog::default());
    let c = BkashClient::with_token_store(s, creds(), log.clone(), store).unwrap();
    (c, log)
}

#[tokio::test]
async fn clients_on_one_store_share_one_token_across_restarts() {
    let mut cfg = config();
    cfg.bkash.token_rate_limit = true;
    let env = start_with(cfg, |_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::new(dir.path());
    // The app and the CLI at once, then ten restarts of the CLI.
    let (app, app_log) = client_on(&env, store.clone(), 2);
    let (cli, cli_log) = client_on(&env, store.clone(), 2);
    let (r1, r2) = (
        create_request("10", "INV-S1"),
        create_request("11", "INV-S2"),
    );
    let (a, b) = tokio::join!(app.create_payment(&r1), cli.create_payment(&r2));
    a.unwrap();
    b.unwrap();
    for i in 0..10 {
        let (restarted, log) = client_on(&env, store.clone(), 2);
        restarted
            .create_payment(&create_request("12", &format!("INV-R{i}")))
            .await
            .unwrap();
        assert_eq!(
            log.count("bkash.grant") + log.count("bkash.refresh"),
            0,
            "restart {i} used the stored token"
        );
    }
    assert_eq!(
        app_log.count("bkash.grant") + cli_log.count("bkash.grant"),
        1
    );

    // The token expires at bKash: the first to notice refreshes, the others use its refresh.
    env.advance(3_700).await;
    let (later, log) = client_on(&env, store.clone(), 2);
    later
        .create_payment(&create_request("13", "INV-L1"))
        .await
        .unwrap();
    assert_eq!(log.count("bkash.refresh"), 1, "a refresh, not a new grant");
    // Which of the two first clients granted is a race (both wait on the store's lock), so
    // count the app's calls from here on: none.
    let app_calls = || app_log.count("bkash.refresh") + app_log.count("bkash.grant");
    let before = app_calls();
    app.create_payment(&create_request("14", "INV-L2"))
        .await
        .unwrap();
    assert_eq!(
        app_calls(),
        before,
        "the app took the refreshed token from the store"
    );
    let total: usize = [&app_log, &cli_log, &log]
        .iter()
        .map(|l| l.count("bkash.grant") + l.count("bkash.refresh"))
        .sum();
    assert_eq!(
        total, 2,
        "two token calls in all, within bKash's hourly limit"
    );
}

#[tokio::test]
async fn the_budget_is_shared_too() {
    let env = start().await;
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::new(dir.path());
    // Each client alone would allow one call; together they have one.
    let (first, _) = client_on(&env, store.clone(), 1);
    first
        .create_payment(&create_request("10", "INV-B1"))
        .await
        .unwrap();
    env.fault(FaultRule::new("bkash.create", FaultKind::TokenExpired).times(1));
    let (second, log) = client_on(&env, store.clone(), 1);
    let err = second
        .create_payment(&create_request("11", "INV-B2"))
        .await
        .unwrap_err();
    assert!(matches!(err, BkashError::Auth { .. }), "{err:?}");
    assert_eq!(
        log.count("bkash.grant") + log.count("bkash.refresh"),
        0,
        "{err}"
    );
}

#[tokio::test]
async fn a_stored_call_is_counted_once() {
    // The store keeps milliseconds; the call this client made and the same
    // call read back from the store are one call, not two.
    let env = start().await;
    let dir = tempfile::tempdir().unwrap();
    let (client, log) = client_on(&env, FileStore::new(dir.path()), 2);
    client
        .create_payment(&create_request("10", "INV-C1"))
        .await
        .unwrap();
    env.fault(FaultRule::new("bkash.create", FaultKind::TokenExpired).times(1));
    client
        .create_payment(&create_request("11", "INV-C2"))
        .await
        .expect("the second of two allowed token calls");
    assert_eq!(log.count("bkash.grant"), 1);
    assert_eq!(log.count("bkash.refresh"), 1);
}

/// The manager's Test connection grants anew (a held token proves nothing about the
/// credentials), counted in the budget, and never takes the hour's last token call: that
/// one stays for payments.
#[tokio::test]
async fn a_test_grant_proves_the_credentials_and_keeps_a_call_for_payments() {
    let mut cfg = config();
    cfg.bkash.token_rate_limit = true;
    let env = start_with(cfg, |s| s.max_grants_per_hour = 2).await;
    assert_eq!(
        env.client.test_grant().await.unwrap(),
        GrantTest::Granted {
            calls_this_hour: 1,
            max_per_hour: 2
        }
    );
    assert_eq!(env.log.count("bkash.grant"), 1);
    // The test's token serves payments: no second call.
    env.create("44", "INV-AFTER-TEST").await;
    assert_eq!(env.log.count("bkash.grant"), 1);
    // A second test would leave payments no token call this hour: not sent, the wait said.
    let GrantTest::BudgetSpent {
        next_in,
        max_per_hour,
    } = env.client.test_grant().await.unwrap()
    else {
        panic!("a second test in the hour must not be sent")
    };
    assert_eq!(max_per_hour, 2);
    assert!(
        next_in > std::time::Duration::from_secs(58 * 60),
        "{next_in:?}"
    );
    assert_eq!(
        env.log.count("bkash.grant") + env.log.count("bkash.refresh"),
        1
    );

    // Wrong credentials: refused by bKash, as an authentication error.
    let mut bad = creds();
    bad.app_secret = "wrong-secret".into();
    let log = std::sync::Arc::new(MemLog::default());
    let client = BkashClient::new(settings(&env.sb.bkash_base_url()), bad, log.clone()).unwrap();
    let e = client.test_grant().await.unwrap_err();
    assert!(matches!(e, BkashError::Auth { .. }), "{e}");
    assert_eq!(log.count("bkash.grant"), 1);
}
