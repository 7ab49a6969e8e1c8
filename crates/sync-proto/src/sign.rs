//! Standard Webhooks signing and verification.
//!
//! The signed content is `{webhook-id}.{webhook-timestamp}.{body}` (body as the
//! exact bytes sent). `webhook-signature` holds one or more space-separated
//! `version,base64` entries: `v1` is HMAC-SHA256 with a `whsec_` secret, `v1a`
//! is ed25519. A sender signs with every configured key (key rotation); a
//! receiver accepts when any entry matches any of its keys.
//!
//! `v1` is implemented with `hmac` + `sha2` rather than the `standardwebhooks`
//! crate because we need several keys, an injectable clock and tolerance, and
//! `v1a`; the tests check our `v1` against that crate and the spec's vector.

use crate::keys::{SigningKey, VerifyingKey};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{Signer as _, Verifier as _};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// `webhook-id`
pub const HEADER_ID: &str = "webhook-id";
/// `webhook-timestamp` (Unix seconds)
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
/// `webhook-signature`
pub const HEADER_SIGNATURE: &str = "webhook-signature";
/// How far a timestamp may be from the receiver's clock, either way.
pub const DEFAULT_TOLERANCE_SECS: i64 = 5 * 60;

type HmacSha256 = Hmac<Sha256>;

fn hmac_for(secret: &[u8], id: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

fn signed_content(id: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(id.len() + 24 + body.len());
    m.extend_from_slice(id.as_bytes());
    m.push(b'.');
    m.extend_from_slice(timestamp.to_string().as_bytes());
    m.push(b'.');
    m.extend_from_slice(body);
    m
}

/// The three header values of one signed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
}

impl SignedHeaders {
    /// `(name, value)` pairs ready to add to a request.
    pub fn pairs(&self) -> [(&'static str, &str); 3] {
        [
            (HEADER_ID, &self.id),
            (HEADER_TIMESTAMP, &self.timestamp),
            (HEADER_SIGNATURE, &self.signature),
        ]
    }
}

/// Signs with every configured key (so a receiver that knows only the old or
/// only the new key during a rotation still accepts).
#[derive(Debug, Clone)]
pub struct Signer {
    keys: Vec<SigningKey>,
}

impl Signer {
    /// A signer over one or more keys.
    pub fn new(keys: Vec<SigningKey>) -> Result<Self, crate::KeyError> {
        if keys.is_empty() {
            return Err(crate::KeyError::NoKeys);
        }
        Ok(Signer { keys })
    }

    /// Parse key texts (`whsec_…`, `whsk_…`).
    pub fn from_texts<S: AsRef<str>>(texts: &[S]) -> Result<Self, crate::KeyError> {
        let keys = texts
            .iter()
            .map(|t| t.as_ref().parse())
            .collect::<Result<Vec<SigningKey>, _>>()?;
        Self::new(keys)
    }

    /// The `webhook-signature` value: one entry per key, space-separated.
    pub fn signature(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut out = Vec::with_capacity(self.keys.len());
        for key in &self.keys {
            out.push(match key {
                SigningKey::Hmac(secret) => {
                    let tag = hmac_for(secret, id, timestamp, body)
                        .finalize()
                        .into_bytes();
                    format!("v1,{}", B64.encode(tag))
                }
                SigningKey::Ed25519(k) => {
                    let sig = k.sign(&signed_content(id, timestamp, body));
                    format!("v1a,{}", B64.encode(sig.to_bytes()))
                }
            });
        }
        out.join(" ")
    }

    /// All three headers for `body` sent as message `id` at `timestamp`
    /// (Unix seconds, normally now).
    pub fn headers(&self, id: &str, timestamp: i64, body: &[u8]) -> SignedHeaders {
        SignedHeaders {
            id: id.to_string(),
            timestamp: timestamp.to_string(),
            signature: self.signature(id, timestamp, body),
        }
    }
}

/// Why a request was not accepted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    #[error("header {0} is not valid")]
    BadHeader(&'static str),
    #[error("webhook-timestamp is not an integer number of seconds")]
    BadTimestamp,
    #[error("webhook-timestamp is {age_secs} s old (tolerance {tolerance_secs} s)")]
    Stale { age_secs: i64, tolerance_secs: i64 },
    #[error("webhook-timestamp is {ahead_secs} s in the future (tolerance {tolerance_secs} s)")]
    Future {
        ahead_secs: i64,
        tolerance_secs: i64,
    },
    #[error("webhook-signature has no v1 or v1a entry")]
    NoSupportedSignature,
    #[error("no signature matches any key of this sender")]
    NoMatchingSignature,
    #[error("no verification keys configured")]
    NoKeys,
}

/// The three headers as received.
#[derive(Debug, Clone, Copy)]
pub struct WebhookHeaders<'a> {
    pub id: &'a str,
    pub timestamp: &'a str,
    pub signature: &'a str,
}

impl<'a> WebhookHeaders<'a> {
    /// Collect the headers through a lookup (`None` = absent; the lookup
    /// should return `Some("")`-free UTF-8, e.g. `HeaderValue::to_str`).
    pub fn from_lookup(
        lookup: impl Fn(&'static str) -> Option<Result<&'a str, ()>>,
    ) -> Result<Self, VerifyError> {
        let get = |name: &'static str| match lookup(name) {
            None => Err(VerifyError::MissingHeader(name)),
            Some(Err(())) => Err(VerifyError::BadHeader(name)),
            Some(Ok(v)) if v.trim().is_empty() => Err(VerifyError::MissingHeader(name)),
            Some(Ok(v)) => Ok(v.trim()),
        };
        Ok(WebhookHeaders {
            id: get(HEADER_ID)?,
            timestamp: get(HEADER_TIMESTAMP)?,
            signature: get(HEADER_SIGNATURE)?,
        })
    }
}

/// A successful verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// Index (in the verifier's key list) of the key that matched.
    pub key_index: usize,
    /// The request's timestamp.
    pub timestamp: i64,
}

/// Verifies against a sender's keys.
#[derive(Debug, Clone)]
pub struct Verifier {
    keys: Vec<VerifyingKey>,
    tolerance_secs: i64,
}

impl Verifier {
    /// A verifier over `keys`, refusing timestamps more than `tolerance_secs`
    /// away from the clock in either direction.
    pub fn new(keys: Vec<VerifyingKey>, tolerance_secs: i64) -> Self {
        Verifier {
            keys,
            tolerance_secs,
        }
    }

    /// Check headers and body at time `now` (Unix seconds). Order: headers,
    /// timestamp window, then signatures (constant-time comparison).
    pub fn verify(
        &self,
        headers: &WebhookHeaders<'_>,
        body: &[u8],
        now: i64,
    ) -> Result<Verified, VerifyError> {
        if !crate::valid_id(headers.id) {
            return Err(VerifyError::BadHeader(HEADER_ID));
        }
        let ts: i64 = headers
            .timestamp
            .parse()
            .map_err(|_| VerifyError::BadTimestamp)?;
        if now.saturating_sub(ts) > self.tolerance_secs {
            return Err(VerifyError::Stale {
                age_secs: now.saturating_sub(ts),
                tolerance_secs: self.tolerance_secs,
            });
        }
        if ts.saturating_sub(now) > self.tolerance_secs {
            return Err(VerifyError::Future {
                ahead_secs: ts.saturating_sub(now),
                tolerance_secs: self.tolerance_secs,
            });
        }
        if self.keys.is_empty() {
            return Err(VerifyError::NoKeys);
        }
        let mut v1 = Vec::new();
        let mut v1a = Vec::new();
        for entry in headers.signature.split(' ').filter(|e| !e.is_empty()) {
            let Some((version, b64)) = entry.split_once(',') else {
                continue;
            };
            let Ok(raw) = B64.decode(b64) else { continue };
            match version {
                "v1" => v1.push(raw),
                "v1a" => v1a.push(raw),
                _ => {}
            }
        }
        if v1.is_empty() && v1a.is_empty() {
            return Err(VerifyError::NoSupportedSignature);
        }
        let mut content = None;
        for (key_index, key) in self.keys.iter().enumerate() {
            let ok = match key {
                VerifyingKey::Hmac(secret) => v1.iter().any(|sig| {
                    // `verify_slice` compares in constant time.
                    hmac_for(secret, headers.id, ts, body)
                        .verify_slice(sig)
                        .is_ok()
                }),
                VerifyingKey::Ed25519(pk) => {
                    let msg = content.get_or_insert_with(|| signed_content(headers.id, ts, body));
                    v1a.iter().any(|sig| {
                        let Ok(bytes) = <[u8; 64]>::try_from(sig.as_slice()) else {
                            return false;
                        };
                        let sig = ed25519_dalek::Signature::from_bytes(&bytes);
                        pk.verify_strict(msg, &sig).is_ok() || pk.verify(msg, &sig).is_ok()
                    })
                }
            };
            if ok {
                return Ok(Verified {
                    key_index,
                    timestamp: ts,
                });
            }
        }
        Err(VerifyError::NoMatchingSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{generate_ed25519_keypair, generate_hmac_secret};
    use std::str::FromStr;

    // The Standard Webhooks reference vector (from the spec repository's
    // libraries): fixed secret, id, timestamp and payload → fixed signature.
    const VEC_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    const VEC_ID: &str = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk";
    const VEC_TS: i64 = 1649367553;
    const VEC_BODY: &[u8] = br#"{"email":"test@example.com","username":"test_user"}"#;
    const VEC_SIG: &str = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";

    fn h<'a>(id: &'a str, ts: &'a str, sig: &'a str) -> WebhookHeaders<'a> {
        WebhookHeaders {
            id,
            timestamp: ts,
            signature: sig,
        }
    }

    #[test]
    fn standard_webhooks_vector() {
        let signer = Signer::from_texts(&[VEC_SECRET]).unwrap();
        assert_eq!(signer.signature(VEC_ID, VEC_TS, VEC_BODY), VEC_SIG);
        let v = Verifier::new(vec![VerifyingKey::from_str(VEC_SECRET).unwrap()], 300);
        let ts = VEC_TS.to_string();
        assert!(v.verify(&h(VEC_ID, &ts, VEC_SIG), VEC_BODY, VEC_TS).is_ok());
    }

    #[test]
    fn agrees_with_the_standardwebhooks_crate() {
        let key = generate_hmac_secret();
        let text = key.to_text();
        let reference = standardwebhooks::Webhook::new(&text).unwrap();
        let body = br#"{"schema":"till.event/1"}"#;
        let ours = Signer::new(vec![key])
            .unwrap()
            .signature("evt_1", 1_700_000_000, body);
        let theirs = reference.sign("evt_1", 1_700_000_000, body).unwrap();
        assert_eq!(ours, theirs);
    }

    #[test]
    fn vector_refused_when_tampered_or_wrong_key() {
        let v = Verifier::new(vec![VerifyingKey::from_str(VEC_SECRET).unwrap()], 300);
        let ts = VEC_TS.to_string();
        let tampered = br#"{"email":"test@example.com","username":"test_usER"}"#;
        assert_eq!(
            v.verify(&h(VEC_ID, &ts, VEC_SIG), tampered, VEC_TS),
            Err(VerifyError::NoMatchingSignature)
        );
        assert_eq!(
            v.verify(&h("msg_other", &ts, VEC_SIG), VEC_BODY, VEC_TS),
            Err(VerifyError::NoMatchingSignature)
        );
        let other = Verifier::new(vec![generate_hmac_secret().verifying_key()], 300);
        assert_eq!(
            other.verify(&h(VEC_ID, &ts, VEC_SIG), VEC_BODY, VEC_TS),
            Err(VerifyError::NoMatchingSignature)
        );
        // A truncated signature is not a prefix match.
        assert_eq!(
            v.verify(&h(VEC_ID, &ts, "v1,tZ1I4/hDygAJgO5T"), VEC_BODY, VEC_TS),
            Err(VerifyError::NoMatchingSignature)
        );
    }

    #[test]
    fn timestamp_window() {
        let key = generate_hmac_secret();
        let v = Verifier::new(vec![key.verifying_key()], 300);
        let s = Signer::new(vec![key]).unwrap();
        let now = 1_800_000_000;
        for (ts, want) in [
            (now - 300, Ok(())),
            (now + 300, Ok(())),
            (
                now - 301,
                Err(VerifyError::Stale {
                    age_secs: 301,
                    tolerance_secs: 300,
                }),
            ),
            (
                now + 301,
                Err(VerifyError::Future {
                    ahead_secs: 301,
                    tolerance_secs: 300,
                }),
            ),
        ] {
            let hd = s.headers("evt_a", ts, b"{}");
            let got = v
                .verify(&h(&hd.id, &hd.timestamp, &hd.signature), b"{}", now)
                .map(|_| ());
            assert_eq!(got, want, "ts offset {}", ts - now);
        }
        assert_eq!(
            v.verify(&h("evt_a", "12.5", "v1,AAAA"), b"{}", now),
            Err(VerifyError::BadTimestamp)
        );
    }

    #[test]
    fn rotation_any_signature_any_key() {
        let old = generate_hmac_secret();
        let new = generate_ed25519_keypair();
        let both = Signer::new(vec![old.clone(), new.signing.clone()]).unwrap();
        let sig = both.signature("evt_r", 100, b"x");
        assert!(sig.starts_with("v1,") && sig.contains(" v1a,"));
        let now = 100;
        for keys in [
            vec![old.verifying_key()],
            vec![new.public.clone()],
            vec![old.verifying_key(), new.public.clone()],
        ] {
            let v = Verifier::new(keys, 300);
            assert!(v.verify(&h("evt_r", "100", &sig), b"x", now).is_ok());
        }
        let only_new = Signer::new(vec![new.signing.clone()]).unwrap();
        let v_old = Verifier::new(vec![old.verifying_key()], 300);
        assert_eq!(
            v_old.verify(
                &h("evt_r", "100", &only_new.signature("evt_r", 100, b"x")),
                b"x",
                now
            ),
            Err(VerifyError::NoMatchingSignature)
        );
        let v_both = Verifier::new(vec![old.verifying_key(), new.public], 300);
        let got = v_both
            .verify(
                &h("evt_r", "100", &only_new.signature("evt_r", 100, b"x")),
                b"x",
                now,
            )
            .unwrap();
        assert_eq!(got.key_index, 1);
    }

    #[test]
    fn ed25519_public_key_only() {
        let kp = generate_ed25519_keypair();
        let s = Signer::new(vec![kp.signing]).unwrap();
        let hd = s.headers("evt_e", 5, b"body");
        let v = Verifier::new(vec![kp.public], 300);
        assert!(v
            .verify(&h(&hd.id, &hd.timestamp, &hd.signature), b"body", 5)
            .is_ok());
        assert_eq!(
            v.verify(&h(&hd.id, &hd.timestamp, &hd.signature), b"bodY", 5),
            Err(VerifyError::NoMatchingSignature)
        );
        // An HMAC entry never satisfies an ed25519 key, and vice versa.
        let hmac_sig = Signer::new(vec![generate_hmac_secret()])
            .unwrap()
            .signature("evt_e", 5, b"body");
        assert_eq!(
            v.verify(&h("evt_e", "5", &hmac_sig), b"body", 5),
            Err(VerifyError::NoMatchingSignature)
        );
    }

    #[test]
    fn header_problems() {
        let lookup = |name: &'static str| match name {
            HEADER_ID => Some(Ok("evt_1")),
            HEADER_TIMESTAMP => None,
            _ => Some(Ok("v1,x")),
        };
        assert_eq!(
            WebhookHeaders::from_lookup(lookup).unwrap_err(),
            VerifyError::MissingHeader(HEADER_TIMESTAMP)
        );
        let v = Verifier::new(vec![generate_hmac_secret().verifying_key()], 300);
        assert_eq!(
            v.verify(&h("evt_1", "1", "v2,abc"), b"", 1),
            Err(VerifyError::NoSupportedSignature)
        );
        assert_eq!(
            v.verify(&h("evt.1", "1", "v1,abc"), b"", 1),
            Err(VerifyError::BadHeader(HEADER_ID))
        );
        assert_eq!(
            Verifier::new(vec![], 300).verify(&h("e", "1", "v1,AAAA"), b"", 1),
            Err(VerifyError::NoKeys)
        );
    }

    proptest::proptest! {
        #[test]
        fn sign_then_verify(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512),
                            ts in 0i64..4_000_000_000, flip in proptest::prelude::any::<proptest::sample::Index>()) {
            let key = generate_hmac_secret();
            let s = Signer::new(vec![key.clone()]).unwrap();
            let v = Verifier::new(vec![key.verifying_key()], 300);
            let sig = s.signature("evt_p", ts, &body);
            let tsx = ts.to_string();
            proptest::prop_assert!(v.verify(&h("evt_p", &tsx, &sig), &body, ts).is_ok());
            if !body.is_empty() {
                let mut bad = body.clone();
                let i = flip.index(bad.len());
                bad[i] ^= 1;
                proptest::prop_assert_eq!(v.verify(&h("evt_p", &tsx, &sig), &bad, ts), Err(VerifyError::NoMatchingSignature));
            }
        }
    }
}
