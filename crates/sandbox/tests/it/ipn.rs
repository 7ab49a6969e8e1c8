//! IPN: the notification a merchant receives verifies against the sandbox's
//! certificate the standard SNS way (SHA-1, `Key\nValue\n` pairs).

use crate::util::*;
use base64::Engine;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::signature::Verifier;
use serde_json::Value;
use std::time::Duration;
use till_sandbox::Config;
use x509_cert::der::{DecodePem, Encode};

/// A merchant's listener on loopback: every body posted to `/ipn`.
async fn receiver() -> (
    std::net::SocketAddr,
    tokio::sync::mpsc::UnboundedReceiver<String>,
    tokio::task::JoinHandle<()>,
) {
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
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, rx, server)
}

#[tokio::test]
async fn notification_signature_verifies_with_the_served_certificate() {
    let (addr, mut rx, server) = receiver().await;
    let mut cfg = Config::default();
    cfg.bkash.ipn.url = Some(format!("http://{addr}/ipn"));
    let sb = start_with(cfg).await;
    let token = sb.grant().await;
    let (_, trx) = sb
        .paid_checkout(&token, "250", "IPN-1", "01770618575")
        .await;
    let body = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .unwrap()
        .unwrap();
    let env: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(env["Type"], "Notification");
    assert_eq!(env["SignatureVersion"], "1");
    let msg: Value = serde_json::from_str(env["Message"].as_str().unwrap()).unwrap();
    assert_eq!(msg["trxID"], trx.as_str());
    assert_eq!(msg["transactionStatus"], "Completed");
    assert_eq!(msg["merchantInvoiceNumber"], "IPN-1");
    assert_eq!(msg["debitMSISDN"], "8801770618575");
    assert_eq!(msg["dateTime"].as_str().unwrap().len(), 14);

    // Fetch the PEM from SigningCertURL, take its RSA key, verify.
    let cert_url = env["SigningCertURL"].as_str().unwrap();
    let pem = sb
        .http
        .get(cert_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let cert = x509_cert::Certificate::from_pem(pem.as_bytes()).unwrap();
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .unwrap();
    let key =
        <rsa::RsaPublicKey as rsa::pkcs8::DecodePublicKey>::from_public_key_der(&spki).unwrap();
    let mut text = String::new();
    for k in ["Message", "MessageId", "Timestamp", "TopicArn", "Type"] {
        text.push_str(k);
        text.push('\n');
        text.push_str(env[k].as_str().unwrap());
        text.push('\n');
    }
    let sig = base64::engine::general_purpose::STANDARD
        .decode(env["Signature"].as_str().unwrap())
        .unwrap();
    let sig = Signature::try_from(sig.as_slice()).unwrap();
    VerifyingKey::<sha1::Sha1>::new(key.clone())
        .verify(text.as_bytes(), &sig)
        .expect("SNS signature verifies");
    // A tampered message does not.
    let tampered = text.replace("IPN-1", "IPN-2");
    assert!(VerifyingKey::<sha1::Sha1>::new(key)
        .verify(tampered.as_bytes(), &sig)
        .is_err());

    let deliveries: Value = sb
        .http
        .get(sb.url("/sim/bkash/ipn"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(deliveries["deliveries"].as_array().is_some());
    sb.h.shutdown().await;
    server.abort();
}

#[tokio::test]
async fn subscribe_url_confirms_only_an_issued_token() {
    let (addr, mut rx, server) = receiver().await;
    let mut cfg = Config::default();
    cfg.bkash.ipn.url = Some(format!("http://{addr}/ipn"));
    cfg.bkash.ipn.send_subscription_confirmation = true;
    let sb = start_with(cfg).await;
    let token = sb.grant().await;
    sb.paid_checkout(&token, "10", "SUB-1", "01770618575").await;
    let mut subscribe_url = None;
    for _ in 0..2 {
        let body = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .unwrap()
            .unwrap();
        let env: Value = serde_json::from_str(&body).unwrap();
        if env["Type"] == "SubscriptionConfirmation" {
            subscribe_url = env["SubscribeURL"].as_str().map(String::from);
        }
    }
    let url = subscribe_url.expect("a SubscriptionConfirmation");
    let forged = format!("{}Z", url);
    let r = sb.http.get(&forged).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("InvalidParameter"));
    let r = sb.http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("<SubscriptionArn>arn:aws:sns:"));
    let v: Value = sb
        .http
        .get(sb.url("/sim/bkash/ipn"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["subscription"]["tokens_issued"], 1, "{v}");
    assert_eq!(v["subscription"]["confirmations"], 1);
    assert_eq!(v["subscription"]["refused"], 1);
    sb.h.shutdown().await;
    server.abort();
}
