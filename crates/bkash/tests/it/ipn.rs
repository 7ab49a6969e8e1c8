//! The IPN the sandbox signs verifies with `till_bkash::ipn` for both
//! signature versions, with the certificate the sandbox serves; changing a
//! signed field, or another key, does not.

use crate::util::*;
use std::time::{Duration, SystemTime};
use till_bkash::ipn::{Envelope, MessageKind, SigningCertificate};

/// A receiver on loopback: every body posted to `/ipn`.
async fn receiver() -> (String, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let app = axum::Router::new().route(
        "/ipn",
        axum::routing::post(move |body: String| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(body);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/ipn"), rx)
}

async fn next(rx: &mut tokio::sync::mpsc::UnboundedReceiver<String>) -> Envelope {
    let body = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("an IPN within 10 s")
        .unwrap();
    Envelope::parse(body.as_bytes()).unwrap()
}

#[tokio::test]
async fn sandbox_notifications_verify_in_both_versions() {
    let versions = vec!["1".to_string(), "2".to_string()];
    for version in ["1", "2"] {
        let (url, mut rx) = receiver().await;
        let mut cfg = config();
        cfg.bkash.ipn.url = Some(url);
        cfg.bkash.ipn.signature_version = version.into();
        cfg.bkash.ipn.send_subscription_confirmation = true;
        let env = start_with(cfg, |_| {}).await;
        let cert =
            SigningCertificate::from_pem(env.sb.ipn_certificate_pem().unwrap().as_bytes()).unwrap();
        assert!(cert.valid_at(SystemTime::now()));
        let (_, executed) = env.paid("125.50", &format!("IPN-V{version}")).await;

        let sub = next(&mut rx).await;
        assert_eq!(
            sub.message_kind().unwrap(),
            MessageKind::SubscriptionConfirmation
        );
        sub.verify(&cert, &versions).expect("subscription verifies");
        let note = next(&mut rx).await;
        assert_eq!(note.message_kind().unwrap(), MessageKind::Notification);
        assert_eq!(note.signature_version, version);
        note.verify(&cert, &versions)
            .expect("notification verifies");
        let notice = note.notice().unwrap();
        assert_eq!(notice.trx_id, executed.trx_id);
        assert_eq!(notice.sale_total().unwrap(), dec("125.5"));
        assert_eq!(
            notice.merchant_invoice_number.as_deref(),
            Some(format!("IPN-V{version}").as_str())
        );

        // Any signed field changed: refused. The unsigned cert URL is not
        // part of the text (the receiver pins its host instead).
        let mut tampered = note.clone();
        tampered.message = tampered.message.replace("125.5", "1255");
        assert!(tampered.verify(&cert, &versions).is_err());
        let mut other_topic = note.clone();
        other_topic.topic_arn.push('x');
        assert!(other_topic.verify(&cert, &versions).is_err());
        // Only the accepted versions are checked at all.
        let only_other = vec![if version == "1" { "2" } else { "1" }.to_string()];
        assert!(note.verify(&cert, &only_other).is_err());
        env.sb.shutdown().await;
    }

    // Another sandbox seed makes another key: its certificate does not verify ours.
    let (url, mut rx) = receiver().await;
    let mut cfg = config();
    cfg.bkash.ipn.url = Some(url);
    let env = start_with(cfg.clone(), |_| {}).await;
    env.paid("10", "IPN-K").await;
    let note = next(&mut rx).await;
    cfg.seed ^= 1;
    cfg.bkash.ipn.url = Some("http://127.0.0.1:9/ipn".into());
    let other = till_sandbox::start(cfg).await.unwrap();
    let other_cert =
        SigningCertificate::from_pem(other.ipn_certificate_pem().unwrap().as_bytes()).unwrap();
    assert!(note.verify(&other_cert, &versions).is_err());
    other.shutdown().await;
    env.sb.shutdown().await;
}
