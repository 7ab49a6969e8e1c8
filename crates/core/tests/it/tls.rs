//! The terminal over real TLS: the sandbox serves HTTPS with a certificate
//! from a CA made here, and the terminal trusts that CA through
//! `[tls] extra_roots` (as a shop would its proxy's CA). A sandbox whose CA
//! the terminal does not trust is refused: nothing is sent, nothing settles.

use crate::bkash::open_journal;
use crate::util::*;
use std::path::Path;
use std::time::Duration;
use till_core::journal::outbox::EventType;
use till_core::{CustomerStep, PaymentState, ProviderKind};
use till_test_ca::TestCa;

const WALLET: &str = "01770618575";

/// A sandbox serving HTTPS with a certificate of `server_ca`, and an engine
/// trusting `trusted_ca` (written to `dir/extra-roots.pem`).
async fn tls_rig(server_ca: &TestCa, trusted_ca: &TestCa, dir: &Path) -> Rig {
    let leaf = server_ca.issue_loopback();
    let mut sb = sandbox_config();
    sb.tls = Some(till_sandbox::TlsIdentity::new(leaf.cert_pem, leaf.key_pem));
    let roots = trusted_ca.write_cert(&dir.join("extra-roots.pem"));
    let roots = roots.to_str().unwrap().to_owned();
    let mut r = rig_with(sb, &[("TILL__TLS__EXTRA_ROOTS", roots.as_str())]).await;
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
    let pid = c.payment.provider_payment_id.clone().unwrap();
    let back = r.bkash_customer(&pid, WALLET, "pay").await;
    let p = r.engine.bkash_callback(&back).await.unwrap();
    assert_eq!(p.state, PaymentState::Settled, "{p:?}");
    assert!(p.trx_id.is_some());
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
    let CustomerStep::Khqr { khqr, .. } = c.step else {
        panic!("expected a KHQR")
    };
    let paid = r.bakong_pay(&khqr, None).await;
    let p = r
        .wait_state(&c.payment.id, PaymentState::Settled, Duration::from_secs(10))
        .await;
    assert_eq!(p.hash.as_deref(), paid["hash"].as_str());
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
        health.get(&ProviderKind::Bkash).and_then(|h| h.message.clone())
    );
    assert!(said.contains("certificate is not trusted"), "{said}");
    // The refusal happened in the TLS handshake: no HTTP request reached the
    // sandbox, so no token was granted and no payment created.
    r.sandbox.wait_tls_handshake_failures(1).await;
    let ledger = r.sandbox.ledger();
    assert_eq!(
        ledger["bkash"]["payments"].as_array().map(Vec::len).unwrap_or(0),
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
    assert!(all.iter().all(|p| p.state != PaymentState::Settled), "{all:?}");
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
    let CustomerStep::Khqr { khqr, .. } = c.step else {
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
    assert!(
        message.contains("certificate is not trusted"),
        "{message}"
    );
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
