//! The manager's Test connection against the real sandbox and a real hub: each answer
//! says what answered and what to fix, and a test never does harm (no payment, no event
//! stored, no more than the token call it says it made).

use crate::util::*;
use serde_json::json;
use till_core::connect::{ConnectTarget, Problem, Proof};
use till_core::secrets::{names, Secret, SecretStore};
use till_core::ProviderKind;
use till_hub::{HubConfig, NewKey};
use till_test_ca::TestCa;

const BKASH: ConnectTarget = ConnectTarget::Provider(ProviderKind::Bkash);
const BAKONG: ConnectTarget = ConnectTarget::Provider(ProviderKind::Bakong);

async fn token_calls(r: &Rig) -> usize {
    r.ledger().await["bkash"]["tokenCalls"]
        .as_array()
        .map(Vec::len)
        .unwrap_or(0)
}

#[tokio::test]
async fn each_wallet_answers_and_says_how() {
    let r = rig().await;
    let bkash = r.engine.test_connection(BKASH).await;
    assert!(bkash.ok, "{bkash:?}");
    assert_eq!(bkash.origin.as_deref(), Some(r.sandbox.origin()));
    assert!(bkash.elapsed_ms.is_some());
    assert!(
        matches!(
            bkash.proof,
            Some(Proof::TokenGranted {
                calls_this_hour: 1,
                ..
            })
        ),
        "{bkash:?}"
    );
    assert_eq!(token_calls(&r).await, 1);

    // A second test would take the hour's last token call, which payments need: not sent.
    let again = r.engine.test_connection(BKASH).await;
    assert!(!again.ok);
    assert!(
        matches!(again.problem, Some(Problem::TokenBudgetSpent { next_in_min, .. }) if next_in_min >= 59),
        "{again:?}"
    );
    assert_eq!(token_calls(&r).await, 1);

    let bakong = r.engine.test_connection(BAKONG).await;
    assert_eq!(bakong.proof, Some(Proof::CodeLookedUp), "{bakong:?}");
    let demo = r
        .engine
        .test_connection(ConnectTarget::Provider(ProviderKind::Demo))
        .await;
    assert_eq!(demo.proof, Some(Proof::Local));
    let hub = r.engine.test_connection(ConnectTarget::Hub).await;
    assert_eq!(
        hub.problem,
        Some(Problem::NotConfigured {
            what: "hub.url".into()
        })
    );

    // Bakong's gateway refuses addresses outside Cambodia with a bare 403 page.
    let set = r
        .http
        .post(r.url("/sim/faults"))
        .json(&json!({"endpoint": "bakong.check_transaction_by_md5", "kind": "forbidden", "times": 1}))
        .send()
        .await
        .unwrap();
    assert!(set.status().is_success());
    let refused = r.engine.test_connection(BAKONG).await;
    assert_eq!(
        refused.problem,
        Some(Problem::Forbidden { status: 403 }),
        "{refused:?}"
    );
    // Nothing a test did is a payment.
    let ledger = r.ledger().await;
    assert_eq!(
        ledger["bkash"]["payments"]
            .as_array()
            .map(Vec::len)
            .unwrap_or(0),
        0
    );
}

#[tokio::test]
async fn wrong_credentials_and_an_untrusted_certificate_are_said() {
    let r = rig().await;
    r.secrets
        .set(names::BKASH_APP_SECRET, &Secret::new("not-the-secret"))
        .unwrap();
    r.secrets
        .set(names::BAKONG_TOKEN, &Secret::new("not-a-bakong-token"))
        .unwrap();
    let engine = r.open_engine(false).await.unwrap();
    let bkash = engine.test_connection(BKASH).await;
    assert_eq!(bkash.problem, Some(Problem::WrongCredentials), "{bkash:?}");
    assert!(
        bkash.detail.as_deref().unwrap_or("").contains("2001"),
        "{bkash:?}"
    );
    let bakong = engine.test_connection(BAKONG).await;
    assert_eq!(
        bakong.problem,
        Some(Problem::WrongCredentials),
        "{bakong:?}"
    );
    engine.shutdown().await;

    // A server whose CA the terminal does not trust: refused in the handshake.
    let server_ca = TestCa::new("a CA the terminal does not know");
    let trusted = TestCa::new("the terminal's CA");
    let dir = tempfile::tempdir().unwrap();
    let t = crate::tls::tls_rig(&server_ca, &trusted, dir.path()).await;
    for target in [BKASH, BAKONG] {
        let report = t.engine.test_connection(target).await;
        assert_eq!(
            report.problem,
            Some(Problem::UntrustedCertificate),
            "{report:?}"
        );
        assert!(report.elapsed_ms.is_none(), "the test call was not made");
    }
    // The sandbox counts a refused handshake once its side of it ends.
    t.sandbox.wait_tls_handshake_failures(2).await;
    assert_eq!(token_calls(&t).await, 0, "no request reached the server");
}

#[tokio::test]
async fn the_hub_checks_the_signature_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let hub = till_hub::start(HubConfig::new(
        "127.0.0.1:0",
        format!("sqlite://{}", dir.path().join("hub.db").display()),
    ))
    .await
    .unwrap();
    let key = hub
        .admin()
        .add_terminal("till-conn", Some("connection test"), NewKey::GenerateHmac)
        .await
        .unwrap()
        .secret
        .unwrap()
        .to_text();
    let url = hub.base_url();
    let r = rig_with(
        sandbox_config(),
        &[
            ("TILL__HUB__URL", url.as_str()),
            ("TILL__TERMINAL__ID", "till-conn"),
        ],
    )
    .await;
    r.secrets
        .set(names::HUB_SECRET, &Secret::new(&key))
        .unwrap();
    let ok = r.engine.test_connection(ConnectTarget::Hub).await;
    assert_eq!(ok.proof, Some(Proof::SignatureAccepted), "{ok:?}");
    assert_eq!(ok.origin.as_deref(), Some(url.as_str()));
    assert!(
        hub.store()
            .settlements(&till_hub::store::SettlementQuery {
                limit: 1000,
                ..Default::default()
            })
            .await
            .unwrap()
            .is_empty(),
        "a test stores nothing"
    );

    // Another terminal's key: refused as the wrong credentials.
    let other = hub
        .admin()
        .add_terminal("till-other", None, NewKey::GenerateHmac)
        .await
        .unwrap()
        .secret
        .unwrap()
        .to_text();
    r.secrets
        .set(names::HUB_SECRET, &Secret::new(&other))
        .unwrap();
    let wrong = r.engine.test_connection(ConnectTarget::Hub).await;
    assert_eq!(wrong.problem, Some(Problem::WrongCredentials), "{wrong:?}");

    r.secrets
        .set(names::HUB_SECRET, &Secret::new(&key))
        .unwrap();
    hub.admin().disable("till-conn").await.unwrap();
    let gone = r.engine.test_connection(ConnectTarget::Hub).await;
    assert_eq!(gone.problem, Some(Problem::TerminalDisabled), "{gone:?}");
    hub.shutdown().await;
}
