//! bKash's IPN as the hub receives it (`POST /v1/ipn/bkash`): the SNS
//! envelope (`till_bkash::ipn::Envelope`), its canonical text, the signature
//! check with a certificate, and the inner payment notice.
//! Input: the posted body.
//!
//! Invariants: never panics; the canonical text is `Key\nValue\n` pairs of
//! the message type's keys in SNS's order, each value the envelope's own;
//! nothing verifies with a key that signed nothing (the test certificate);
//! a readable notice has a trxID, exact amounts (the sale total is
//! `saleAmount` or else `amount`, to the digit) and a Bangladesh-time date.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use till_bkash::ipn::{Envelope, MessageKind, SigningCertificate};

fn cert() -> &'static SigningCertificate {
    static CERT: OnceLock<SigningCertificate> = OnceLock::new();
    CERT.get_or_init(|| {
        SigningCertificate::from_pem(include_bytes!(
            "../../crates/bkash/tests/data/ipn-test-cert.pem"
        ))
        .expect("the test certificate")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(env) = Envelope::parse(data) else {
        return;
    };
    if let Ok(text) = env.string_to_sign() {
        let kind = env.message_kind().expect("signed text needs a known type");
        let keys: &[&str] = match kind {
            MessageKind::Notification => &["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"],
            _ => &["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"],
        };
        let mut rebuilt = String::new();
        for k in keys {
            let v = match *k {
                "Message" => Some(env.message.as_str()),
                "MessageId" => Some(env.message_id.as_str()),
                "Subject" => env.subject.as_deref(),
                "Timestamp" => Some(env.timestamp.as_str()),
                "TopicArn" => Some(env.topic_arn.as_str()),
                "Type" => Some(env.kind.as_str()),
                "SubscribeURL" => env.subscribe_url.as_deref(),
                "Token" => env.token.as_deref(),
                _ => unreachable!(),
            };
            if let Some(v) = v {
                rebuilt.push_str(k);
                rebuilt.push('\n');
                rebuilt.push_str(v);
                rebuilt.push('\n');
            }
        }
        assert_eq!(text, rebuilt);
        let all = ["1".to_string(), "2".to_string()];
        assert!(env.verify(cert(), &all).is_err(), "verified with a key that signed nothing");
    }
    if let Ok(n) = env.notice() {
        assert!(!n.trx_id.trim().is_empty());
        let amount = n.amount().expect("checked by parse");
        let total = n.sale_total().expect("checked by parse");
        match n.sale_amount().expect("checked by parse") {
            Some(s) => assert_eq!(total, s),
            None => assert_eq!(total, amount),
        }
        // Exact: every digit kept, none invented ("028.50" is 28.50, never 28.5).
        assert_eq!(amount.to_string(), canonical(&n.amount));
        let at = n.paid_at().expect("checked by parse");
        assert_eq!(at.offset().local_minus_utc(), 6 * 3600);
    }
});

/// The amount's text as a decimal prints it: no sign '+', no leading zeros (one before the
/// point), the fraction as written.
fn canonical(text: &str) -> String {
    let raw = text.trim();
    let (sign, raw) = match raw.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", raw.strip_prefix('+').unwrap_or(raw)),
    };
    let (int, frac) = match raw.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (raw, None),
    };
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    match frac {
        Some(f) => format!("{sign}{int}.{f}"),
        None => format!("{sign}{int}"),
    }
}
