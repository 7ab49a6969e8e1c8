//! The shared client builder over real TLS (a sandbox serving HTTPS with a
//! certificate from a CA made here): trusted through `ExtraRoots`, refused
//! without it, and the refusal said in words and classified as not sent.

use till_provider_http::{client_builder, Delivery, ExtraRoots, TlsError, TransportError};
use till_test_ca::TestCa;

async fn https_sandbox(ca: &TestCa) -> till_sandbox::SandboxHandle {
    let leaf = ca.issue_loopback();
    let cfg = till_sandbox::Config {
        tls: Some(till_sandbox::TlsIdentity::new(leaf.cert_pem, leaf.key_pem)),
        ..Default::default()
    };
    till_sandbox::start(cfg).await.unwrap()
}

#[tokio::test]
async fn extra_roots_are_trusted_besides_the_os_store() {
    let ca = TestCa::new("provider-http test CA");
    let sb = https_sandbox(&ca).await;
    let dir = tempfile::tempdir().unwrap();
    let roots = ExtraRoots::from_pem_file(&ca.write_cert(&dir.path().join("ca.pem"))).unwrap();
    assert_eq!(roots.len(), 1);
    let client = client_builder(&roots).build().unwrap();
    let r = client
        .get(format!("{}/sim/ledger", sb.origin()))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    sb.shutdown().await;
}

#[tokio::test]
async fn an_unknown_ca_is_refused_in_words_and_nothing_is_sent() {
    let ca = TestCa::new("provider-http test CA");
    let sb = https_sandbox(&ca).await;
    let client = client_builder(&ExtraRoots::none()).build().unwrap();
    let err = client
        .get(format!("{}/sim/ledger", sb.origin()))
        .send()
        .await
        .unwrap_err();
    let te = TransportError::from_reqwest("test.call", &err);
    assert_eq!(te.delivery, Delivery::NotSent);
    assert!(
        te.message.contains("certificate is not trusted"),
        "{}",
        te.message
    );
    // The server saw the handshake fail (and no request).
    sb.wait_tls_handshake_failures(1).await;
    sb.shutdown().await;
}

#[test]
fn bad_extra_roots_files_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let empty = dir.join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").unwrap();
    assert!(matches!(
        ExtraRoots::from_pem_file(&empty),
        Err(TlsError::Empty { .. })
    ));
    let garbage = dir.join("garbage.pem");
    std::fs::write(
        &garbage,
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    assert!(matches!(
        ExtraRoots::from_pem_file(&garbage),
        Err(TlsError::NotACertificate { .. })
    ));
    assert!(matches!(
        ExtraRoots::from_pem_file(&dir.join("absent.pem")),
        Err(TlsError::Read { .. })
    ));
}
