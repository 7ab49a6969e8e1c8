//! The Standard Webhooks verifier (`till_sync_proto::Verifier`, HMAC `v1` and
//! ed25519 `v1a`) with the headers read as the hub reads them
//! (`WebhookHeaders::from_lookup`). Input: `webhook-id`, `webhook-timestamp`
//! and `webhook-signature` on the first three lines, the body after them.
//!
//! Invariants: never panics; what is accepted is inside the time window and
//! carries exactly the signature the matching key makes (nothing else
//! verifies); what our signer signs verifies (each key alone and both, at
//! the edges of the window) and nothing else: not a changed body, not
//! another id, not one second outside the window.
#![no_main]

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use till_sync_proto::{
    Signer, SigningKey, Verifier, VerifyError, VerifyingKey, WebhookHeaders, HEADER_ID,
    HEADER_SIGNATURE, HEADER_TIMESTAMP,
};

const TOLERANCE: i64 = 300;
/// The hub's clock for the fuzzed headers (the seeds are signed at it).
const NOW: i64 = 1_767_225_600;

struct Keys {
    signing: [SigningKey; 2],
    verifying: Vec<VerifyingKey>,
}

/// Fixed keys (an HMAC secret and an ed25519 seed), so a finding replays.
fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let hmac: SigningKey = format!("whsec_{}", B64.encode([7u8; 32]))
            .parse()
            .expect("HMAC key");
        let ed: SigningKey = format!("whsk_{}", B64.encode([9u8; 32]))
            .parse()
            .expect("ed25519 key");
        let verifying = vec![hmac.verifying_key(), ed.verifying_key()];
        Keys {
            signing: [hmac, ed],
            verifying,
        }
    })
}

fn headers<'a>(id: &'a str, ts: &'a str, sig: &'a str) -> WebhookHeaders<'a> {
    WebhookHeaders {
        id,
        timestamp: ts,
        signature: sig,
    }
}

/// The `(version, raw bytes)` entries of a signature header that decode.
fn entries(sig: &str) -> Vec<(&str, Vec<u8>)> {
    sig.split(' ')
        .filter_map(|e| e.split_once(','))
        .filter_map(|(v, b)| Some((v, B64.decode(b).ok()?)))
        .collect()
}

/// Whatever the fuzzer wrote: accepted only with the real signature.
fn check_received(h: &WebhookHeaders<'_>, body: &[u8], now: i64) {
    let k = keys();
    let verifier = Verifier::new(k.verifying.clone(), TOLERANCE);
    let Ok(ok) = verifier.verify(h, body, now) else {
        return;
    };
    assert_eq!(Ok(ok.timestamp), h.timestamp.parse::<i64>());
    assert!(
        (now - ok.timestamp).abs() <= TOLERANCE,
        "outside the window"
    );
    let want = Signer::new(vec![k.signing[ok.key_index].clone()])
        .expect("one key")
        .signature(h.id, ok.timestamp, body);
    let want = entries(&want).pop().expect("our own entry");
    assert!(
        entries(h.signature).contains(&want),
        "accepted {:?} without the signature of key {}",
        h.signature,
        ok.key_index
    );
}

/// What we sign verifies, and only as signed: HMAC through every check.
fn round_trip(id: &str, ts: i64, body: &[u8]) {
    let k = keys();
    let sent = Signer::new(vec![k.signing[0].clone()])
        .expect("a key")
        .headers(id, ts, body);
    let h = headers(&sent.id, &sent.timestamp, &sent.signature);
    let v = Verifier::new(vec![k.verifying[0].clone()], TOLERANCE);
    for now in [
        ts,
        ts.saturating_add(TOLERANCE),
        ts.saturating_sub(TOLERANCE),
    ] {
        let got = v.verify(&h, body, now).expect("our own signature refused");
        assert_eq!((got.key_index, got.timestamp), (0, ts));
    }
    if let Some(later) = ts.checked_add(TOLERANCE + 1) {
        assert!(matches!(
            v.verify(&h, body, later),
            Err(VerifyError::Stale { .. })
        ));
    }
    if let Some(earlier) = ts.checked_sub(TOLERANCE + 1) {
        assert!(matches!(
            v.verify(&h, body, earlier),
            Err(VerifyError::Future { .. })
        ));
    }
    if let Some(changed) = changed(body) {
        assert_eq!(
            v.verify(&h, &changed, ts),
            Err(VerifyError::NoMatchingSignature)
        );
    }
    let other = format!("{id}x");
    if till_sync_proto::valid_id(&other) {
        assert_eq!(
            v.verify(&headers(&other, &sent.timestamp, &sent.signature), body, ts),
            Err(VerifyError::NoMatchingSignature)
        );
    }
}

/// The same for ed25519, signed together with HMAC (a key rotation's
/// header), verified by either key order; the window is shared code, checked
/// above.
fn round_trip_ed25519(id: &str, ts: i64, body: &[u8]) {
    let k = keys();
    let sent = Signer::new(k.signing.to_vec())
        .expect("two keys")
        .headers(id, ts, body);
    let h = headers(&sent.id, &sent.timestamp, &sent.signature);
    let ed = Verifier::new(vec![k.verifying[1].clone()], TOLERANCE);
    let got = ed
        .verify(&h, body, ts)
        .expect("our ed25519 signature refused");
    assert_eq!((got.key_index, got.timestamp), (0, ts));
    let both = Verifier::new(
        vec![k.verifying[1].clone(), k.verifying[0].clone()],
        TOLERANCE,
    );
    assert_eq!(both.verify(&h, body, ts).map(|v| v.key_index), Ok(0));
    if let Some(changed) = changed(body) {
        assert_eq!(
            ed.verify(&h, &changed, ts),
            Err(VerifyError::NoMatchingSignature)
        );
    }
}

/// `body` with one bit flipped, if it has one.
fn changed(body: &[u8]) -> Option<Vec<u8>> {
    let mut changed = body.to_vec();
    let i = changed.len().checked_sub(1)? / 2;
    changed[i] ^= 1;
    Some(changed)
}

fuzz_target!(|data: &[u8]| {
    let mut lines = data.splitn(4, |&b| b == b'\n');
    let (Some(id), Some(ts), Some(sig)) = (lines.next(), lines.next(), lines.next()) else {
        return;
    };
    let body = lines.next().unwrap_or(b"");
    // As the hub's lookup (`HeaderValue::to_str`): a header that is not
    // visible ASCII is "not valid".
    let lookup = |name: &'static str| {
        let raw = match name {
            HEADER_ID => id,
            HEADER_TIMESTAMP => ts,
            HEADER_SIGNATURE => sig,
            _ => return None,
        };
        std::str::from_utf8(raw)
            .ok()
            .filter(|s| s.bytes().all(|b| b == b'\t' || (b' '..=b'~').contains(&b)))
            .map(Ok)
            .or(Some(Err(())))
    };
    let Ok(h) = WebhookHeaders::from_lookup(lookup) else {
        return;
    };
    check_received(&h, body, NOW);
    if let Ok(ts) = h.timestamp.parse::<i64>() {
        check_received(&h, body, ts);
        if till_sync_proto::valid_id(h.id) {
            round_trip(h.id, ts, body);
            // An ed25519 signature and its checks cost some 100 µs, HMAC's
            // about one: doing both for every input would spend the run in
            // curve arithmetic (not our code) rather than in the verifier's
            // parsing. One body length in eight takes ed25519 too.
            if body.len() % 8 == 0 {
                round_trip_ed25519(h.id, ts, body);
            }
        }
    }
});
