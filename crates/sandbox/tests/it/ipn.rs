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

#[tokio::test]
async fn notification_signature_verifies_with_the_served_certificate() {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
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
