//! The terminal over real TLS: the sandbox serves HTTPS with a certificate
//! from a CA made here, and the terminal trusts that CA through
//! `[tls] extra_roots` (as a shop would its proxy's CA). A sandbox whose CA
//! the terminal does not trust is refused: nothing is sent, nothing settles.

use crate::bkash::open_journal;
use crate::util::*;
use std::path::Path;
use std::time::Duration;
use till_core::journal::outbox::EventType;
use till_core::report::reconcile::CheckStatus;
use till_core::secrets::{names, Secret, SecretStore};
use till_core::{CustomerStep, PaymentState, ProviderKind};
use till_hub::{HubConfig, HubHandle, NewKey, ServerTls};
use till_test_ca::TestCa;

const WALLET: &str = "01770618575";

/// A sandbox serving HTTPS with a certificate of `server_ca`, and an engine
/// trusting `trusted_ca` (written to `dir/extra-roots.pem`).
pub(crate) async fn tls_rig(server_ca: &TestCa, trusted_ca: &TestCa, dir: &Path) -> Rig {
    tls_rig_with(server_ca, trusted_ca, dir, &[]).await
}

async fn tls_rig_with(
    server_ca: &TestCa,
    trusted_ca: &TestCa,
    dir: &Path,
    overrides: &[(&str, &str)],
) -> Rig {
    let leaf = server_ca.issue_loopback();
    let mut sb = sandbox_config();
    sb.tls = Some(till_sandbox::TlsIdentity::new(leaf.cert_pem, leaf.key_pem));
    let roots = trusted_ca.write_cert(&dir.join("extra-roots.pem"));
    let roots = roots.to_str().unwrap().to_owned();
    let mut pairs = vec![("TILL__TLS__EXTRA_ROOTS", roots.as_str())];
    pairs.extend_from_slice(overrides);
    let mut r = rig_with(sb, &pairs).await;
    assert!(r.sandbox.origin().starts_with("https://127.0.0.1:"));
    // The test's own hand (the customer's phone, the ledger) trusts the
    // server's CA, whatever the terminal does.
    r.http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .tls_certs_merge([reqwest::Certificate::from_pem(server_ca.cert_pem().as_bytes()).unwrap()])
        .build()
        .unwrap();
    r
}

#[tokio::test]
async fn bkash_over_https_settles_once() {
    let ca = TestCa::new("till test CA");
    let dir = tempfile::tempdir().unwrap();
    let r = tls_rig(&ca, &ca, dir.path()).await;
    assert_eq!(r.engine.config().tls.roots.len(), 1);
    let c = r
        .engine
        .charge(ProviderKind::Bkash, bdt("310.00"), "cashier-1")
        .await
        .unwrap();
    let CustomerStep::Redirect { redirect_url, .. } = &c.step else {
        panic!("expected a redirect, got {:?}", c.step)
    };
    assert!(redirect_url.starts_with("https://"), "{redirect_url}");
    let pid = c.payment.refs.lookup.clone().unwrap();
    let back = r.bkash_customer(&pid, WALLET, "pay").await;
    let p = r.engine.callback(&back).await.unwrap();
    assert_eq!(p.state, PaymentState::Settled, "{p:?}");
    assert!(p.refs.transaction.is_some());
    let j = open_journal(&r);
    assert_eq!(j.call_count("bkash.execute").unwrap(), 1);
    assert_eq!(
        j.outbox_count_for(&c.payment.id, EventType::PaymentSettled)
            .unwrap(),
        1
    );
    assert_eq!(r.sandbox.tls_handshake_failures(), 0);
}

#[tokio::test]
async fn bakong_over_https_settles_with_hash() {
    let ca = TestCa::new("till test CA");
    let dir = tempfile::tempdir().unwrap();
    let r = tls_rig(&ca, &ca, dir.path()).await;
    let c = r
        .engine
        .charge(ProviderKind::Bakong, khr("42000"), "cashier-1")
        .await
        .unwrap();
    let CustomerStep::Code { code: khqr, .. } = c.step else {
        panic!("expected a KHQR")
    };
    let paid = r.bakong_pay(&khqr, None).await;
    let p = r
        .wait_state(
            &c.payment.id,
            PaymentState::Settled,
            Duration::from_secs(10),
        )
        .await;
    assert_eq!(p.refs.transaction.as_deref(), paid["hash"].as_str());
    assert_eq!(r.sandbox.tls_handshake_failures(), 0);
}

#[tokio::test]
async fn bkash_with_an_untrusted_certificate_sends_nothing() {
    let server_ca = TestCa::new("a CA the terminal does not know");
    let trusted = TestCa::new("the terminal's CA");
    let dir = tempfile::tempdir().unwrap();
    let r = tls_rig(&server_ca, &trusted, dir.path()).await;
    let err = r
        .engine
        .charge(ProviderKind::Bkash, bdt("99.00"), "cashier-1")
        .await
        .unwrap_err()
        .to_string();
    // In words: the certificate, not "could not connect".
    let health = r.engine.health();
    let said = format!(
        "{err} / {:?}",
        health
            .get(&ProviderKind::Bkash)
            .and_then(|h| h.message.clone())
    );
    assert!(said.contains("certificate is not trusted"), "{said}");
    // The refusal happened in the TLS handshake: no HTTP request reached the
    // sandbox, so no token was granted and no payment created.
    r.sandbox.wait_tls_handshake_failures(1).await;
    let ledger = r.sandbox.ledger();
    assert_eq!(
        ledger["bkash"]["payments"]
            .as_array()
            .map(Vec::len)
            .unwrap_or(0),
        0,
        "{ledger}"
    );
    let all = r
        .engine
        .list(&till_core::ListFilter {
            page: 1,
            page_size: 50,
            ..Default::default()
        })
        .unwrap();
    assert!(
        all.iter().all(|p| p.state != PaymentState::Settled),
        "{all:?}"
    );
}

#[tokio::test]
async fn bakong_with_an_untrusted_certificate_never_settles() {
    let server_ca = TestCa::new("a CA the terminal does not know");
    let trusted = TestCa::new("the terminal's CA");
    let dir = tempfile::tempdir().unwrap();
    let r = tls_rig(&server_ca, &trusted, dir.path()).await;
    let c = r
        .engine
        .charge(ProviderKind::Bakong, khr("5000"), "cashier-1")
        .await
        .unwrap();
    let CustomerStep::Code { code: khqr, .. } = c.step else {
        panic!("expected a KHQR")
    };
    // The customer pays; the terminal cannot ask Bakong about it.
    r.bakong_pay(&khqr, None).await;
    // The poller tries (and is refused) at least twice after the payment.
    let before = r.sandbox.tls_handshake_failures();
    r.sandbox.wait_tls_handshake_failures(before + 2).await;
    let mut events = r.engine.subscribe();
    while r.engine.is_online(ProviderKind::Bakong) {
        let _ = events.recv().await;
    }
    let message = r.engine.health()[&ProviderKind::Bakong]
        .message
        .clone()
        .unwrap_or_default();
    assert!(message.contains("certificate is not trusted"), "{message}");
    let p = r.engine.payment(&c.payment.id).unwrap();
    assert_ne!(p.state, PaymentState::Settled, "{p:?}");
    assert_eq!(
        open_journal(&r)
            .outbox_count_for(&c.payment.id, EventType::PaymentSettled)
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn a_missing_extra_roots_file_is_refused_naming_the_key() {
    let err = till_core::Config::from_layers(
        till_core::config::DEFAULTS_TOML,
        None,
        [(
            "TILL__TLS__EXTRA_ROOTS".to_string(),
            "/nonexistent/till/ca.pem".to_string(),
        )]
        .into_iter(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("tls.extra_roots") && err.contains("/nonexistent/till/ca.pem"),
        "{err}"
    );
}

/// A hub serving HTTPS with a certificate of `ca`, the terminal registered;
/// returns it with the terminal's secret and a read token.
async fn https_hub(ca: &TestCa, dir: &Path) -> (HubHandle, String, String) {
    let leaf = ca.issue_loopback();
    let mut config = HubConfig::new(
        "127.0.0.1:0",
        format!("sqlite://{}", dir.join("hub.db").display()),
    );
    config.tls = Some(
        ServerTls::from_pem(
            leaf.cert_pem.as_bytes(),
            leaf.key_pem.as_bytes(),
            "hub cert",
            "hub key",
        )
        .unwrap(),
    );
    let hub = till_hub::start(config).await.unwrap();
    assert!(hub.base_url().starts_with("https://"));
    let added = hub
        .admin()
        .add_terminal("till-01", Some("tls test"), NewKey::GenerateHmac)
        .await
        .unwrap();
    let token = hub.admin().add_token("reconciliation").await.unwrap();
    (hub, added.secret.unwrap().to_text(), token)
}

/// Overrides for a hub at `url` and a business day far from its boundary.
fn hub_overrides(url: &str, cutoff: &str) -> Vec<(String, String)> {
    [
        ("TILL__HUB__URL", url),
        ("TILL__HUB__POLL_INTERVAL_MS", "50"),
        ("TILL__HUB__BACKOFF_BASE_MS", "10"),
        ("TILL__HUB__BACKOFF_MAX_MS", "100"),
        ("TILL__HUB__TIMEOUT_SECS", "3"),
        ("TILL__BUSINESS_DAY__TIMEZONE", "UTC"),
        ("TILL__BUSINESS_DAY__CUTOFF", cutoff),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn far_cutoff() -> String {
    use chrono::Timelike;
    format!("{:02}:00", (chrono::Utc::now().hour() + 12) % 24)
}

async fn wait_sync(r: &Rig, what: &str, ok: impl Fn(&till_core::SyncState) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let s = r.engine.sync_state().unwrap();
        if ok(&s) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "waiting for {what}: {s:#?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn everything_over_https_syncs_and_reconciles() {
    let ca = TestCa::new("the shop's CA");
    let dir = tempfile::tempdir().unwrap();
    let (hub, secret, token) = https_hub(&ca, dir.path()).await;
    let pairs = hub_overrides(&hub.base_url(), &far_cutoff());
    let pairs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let r = tls_rig_with(&ca, &ca, dir.path(), &pairs).await;
    r.secrets
        .set(names::HUB_SECRET, &Secret::new(secret))
        .unwrap();
    r.secrets
        .set(names::HUB_READ_TOKEN, &Secret::new(token))
        .unwrap();
    let c = r
        .engine
        .charge(ProviderKind::Bkash, bdt("120.00"), "cashier-1")
        .await
        .unwrap();
    let pid = c.payment.refs.lookup.clone().unwrap();
    let back = r.bkash_customer(&pid, WALLET, "pay").await;
    let p = r.engine.callback(&back).await.unwrap();
    assert_eq!(p.state, PaymentState::Settled, "{p:?}");
    // The settlement reaches the hub over HTTPS.
    wait_sync(&r, "one record acknowledged", |s| {
        s.queue_length == 0 && s.last_acknowledged_sequence >= Some(1)
    })
    .await;
    assert_eq!(hub.store().count_events(Some("till-01")).await.unwrap(), 1);
    // Reconciliation reads bKash and the hub over HTTPS.
    let rec = r.engine.reconcile(r.engine.today()).await.unwrap();
    for p in &rec.providers {
        assert_eq!(p.status, CheckStatus::Checked, "{p:?}");
    }
    assert_eq!(rec.hub.status, CheckStatus::Checked, "{:#?}", rec.hub);
    assert_eq!(rec.hub.totals_match, Some(true), "{:#?}", rec.hub);
    assert!(rec.hub.missing.is_empty(), "{:#?}", rec.hub);
    assert_eq!(rec.hub.acknowledged, 1);
    hub.shutdown().await;
}

#[tokio::test]
async fn a_hub_with_an_untrusted_certificate_gets_nothing() {
    let shop_ca = TestCa::new("the shop's CA");
    let hub_ca = TestCa::new("a CA the terminal does not know");
    let dir = tempfile::tempdir().unwrap();
    let (hub, secret, token) = https_hub(&hub_ca, dir.path()).await;
    let pairs = hub_overrides(&hub.base_url(), &far_cutoff());
    let mut pairs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    pairs.push(("TILL__BKASH__ENABLED", "false"));
    pairs.push(("TILL__BAKONG__ENABLED", "false"));
    pairs.push(("TILL__DEMO__SETTLE_AFTER_MS", "20"));
    let r = tls_rig_with(&shop_ca, &shop_ca, dir.path(), &pairs).await;
    r.secrets
        .set(names::HUB_SECRET, &Secret::new(secret))
        .unwrap();
    r.secrets
        .set(names::HUB_READ_TOKEN, &Secret::new(token))
        .unwrap();
    let c = r
        .engine
        .charge(ProviderKind::Demo, bdt("10.00"), "cashier-1")
        .await
        .unwrap();
    r.wait_state(&c.payment.id, PaymentState::Settled, Duration::from_secs(5))
        .await;
    wait_sync(&r, "a TLS error", |s| {
        s.last_error
            .as_deref()
            .is_some_and(|e| e.contains("certificate is not trusted"))
    })
    .await;
    let s = r.engine.sync_state().unwrap();
    assert_eq!(s.queue_length, 1, "{s:#?}");
    assert_eq!(
        s.dead_letters, 0,
        "a refused certificate is not a refused record"
    );
    assert_eq!(hub.store().count_events(Some("till-01")).await.unwrap(), 0);
    let rec = r.engine.reconcile(r.engine.today()).await.unwrap();
    assert_eq!(rec.hub.status, CheckStatus::CouldNotCheck);
    assert!(
        rec.hub
            .message
            .as_deref()
            .is_some_and(|m| m.contains("certificate is not trusted")),
        "{:#?}",
        rec.hub
    );
    hub.shutdown().await;
}
