//! Provider-shaped identifiers, drawn from the sandbox's seeded RNG so a run
//! with the same `--seed` and the same requests produces the same ids.
//! Shapes follow bkash-tokenized.md §2.5 and bakong-api.md §3/§5.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::Rng;

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const HASH_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!()*-._";

fn pick(rng: &mut impl Rng, set: &[u8], n: usize) -> String {
    (0..n)
        .map(|_| set[rng.random_range(0..set.len())] as char)
        .collect()
}

/// `TR` + mode + 5 alphanumerics + 13-digit epoch ms, e.g. `TR0011Qm7Xc1741075509123`.
pub fn payment_id(rng: &mut impl Rng, mode: &str, now_ms: u64) -> String {
    format!("TR{mode}{}{now_ms:013}", pick(rng, ALNUM, 5))
}

/// 10 uppercase alphanumerics whose 5th character is `0`, e.g. `CC460QZ7KA`.
pub fn trx_id(rng: &mut impl Rng) -> String {
    format!(
        "{}0{}",
        pick(rng, UPPER_ALNUM, 4),
        pick(rng, UPPER_ALNUM, 5)
    )
}

/// A refund transaction id sharing the original's first five characters.
pub fn refund_trx_id(rng: &mut impl Rng, original: &str) -> String {
    let prefix: String = original.chars().take(5).collect();
    format!("{prefix}{}", pick(rng, UPPER_ALNUM, 10 - prefix.len()))
}

/// `TokenizedMerchant` + 2 digits + 7 alphanumerics + 13-digit epoch ms.
pub fn agreement_id(rng: &mut impl Rng, now_ms: u64) -> String {
    format!(
        "TokenizedMerchant{:02}{}{now_ms:013}",
        rng.random_range(1..100),
        pick(rng, UPPER_ALNUM, 7)
    )
}

/// The 10-character opaque callback `signature`.
pub fn signature(rng: &mut impl Rng) -> String {
    pick(rng, ALNUM, 10)
}

/// The opaque `hash` of a `bkashURL`: random characters ending in epoch ms.
pub fn page_hash(rng: &mut impl Rng, now_ms: u64) -> String {
    format!("{}{}", pick(rng, HASH_CHARS, 80), now_ms + 1)
}

/// A Cognito-looking RS256 JWT (about 1 KB). The signature is random bytes:
/// the sandbox recognises its tokens by lookup, not by verification.
pub fn id_token(rng: &mut impl Rng, username: &str, iat_s: u64, exp_s: u64) -> String {
    let header = r#"{"kid":"SANDBOX-KEY-ID-not-a-real-key","alg":"RS256"}"#;
    let payload = serde_json::json!({
        "sub": uuid(rng),
        "aud": pick(rng, b"abcdefghijklmnopqrstuvwxyz0123456789", 26),
        "event_id": uuid(rng),
        "token_use": "id",
        "auth_time": iat_s,
        "iss": "https://cognito-idp.ap-southeast-1.amazonaws.com/ap-southeast-1_SANDBOX",
        "cognito:username": username,
        "exp": exp_s,
        "iat": iat_s,
    });
    let sig: Vec<u8> = (0..256).map(|_| rng.random()).collect();
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload.to_string()),
        URL_SAFE_NO_PAD.encode(sig)
    )
}

/// A 5-part JWE-looking refresh token (about 1.7 KB).
pub fn refresh_token(rng: &mut impl Rng) -> String {
    let header = r#"{"cty":"JWT","enc":"A256GCM","alg":"RSA-OAEP"}"#;
    let mut part = |n: usize| -> String {
        let bytes: Vec<u8> = (0..n).map(|_| rng.random()).collect();
        URL_SAFE_NO_PAD.encode(bytes)
    };
    let (key, iv, body, tag) = (part(256), part(12), part(1000), part(16));
    format!("{}.{key}.{iv}.{body}.{tag}", URL_SAFE_NO_PAD.encode(header))
}

/// Lowercase hex of `n` random bytes.
pub fn hex(rng: &mut impl Rng, n: usize) -> String {
    (0..n)
        .map(|_| format!("{:02x}", rng.random::<u8>()))
        .collect()
}

/// A random UUID-shaped string (SNS message ids, Cognito subjects).
pub fn uuid(rng: &mut impl Rng) -> String {
    let h = hex(rng, 16);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Digits only, e.g. Bakong external references.
pub fn digits(rng: &mut impl Rng, n: usize) -> String {
    pick(rng, b"0123456789", n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn shapes() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let p = payment_id(&mut rng, "0011", 1741075509123);
        assert!(p.starts_with("TR0011") && p.ends_with("1741075509123") && p.len() == 24);
        let t = trx_id(&mut rng);
        assert_eq!(t.len(), 10);
        assert_eq!(&t[4..5], "0");
        let r = refund_trx_id(&mut rng, &t);
        assert_eq!(&r[..5], &t[..5]);
        let a = agreement_id(&mut rng, 1741075417918);
        assert!(a.starts_with("TokenizedMerchant") && a.len() == 17 + 2 + 7 + 13);
        let tok = id_token(&mut rng, "u", 1, 3601);
        assert_eq!(tok.split('.').count(), 3);
        assert!(tok.len() > 700);
        let rt = refresh_token(&mut rng);
        assert_eq!(rt.split('.').count(), 5);
        assert!(rt.len() > 1500);
    }
}
