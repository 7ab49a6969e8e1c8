//! Keys in their Standard Webhooks text forms.
//!
//! | text | what | signature scheme |
//! | --- | --- | --- |
//! | `whsec_<base64>` | shared HMAC secret (both sides hold it) | `v1` (HMAC-SHA256) |
//! | `whsk_<base64>` | ed25519 signing key, 32-byte seed (terminal only) | `v1a` (ed25519) |
//! | `whpk_<base64>` | ed25519 public key, 32 bytes (hub) | `v1a` |
//!
//! `Debug` never prints secret material.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use std::fmt;
use std::str::FromStr;

const HMAC_PREFIX: &str = "whsec_";
const ED_SECRET_PREFIX: &str = "whsk_";
const ED_PUBLIC_PREFIX: &str = "whpk_";

/// Why a key string was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("unknown key prefix (expected {expected})")]
    UnknownPrefix { expected: &'static str },
    #[error("key is not valid base64")]
    BadBase64,
    #[error("key has the wrong length: {0} bytes")]
    BadLength(usize),
    #[error("no keys given")]
    NoKeys,
}

/// Something that signs: the terminal side.
#[derive(Clone)]
pub enum SigningKey {
    /// `whsec_`: HMAC-SHA256 secret, produces `v1,` signatures.
    Hmac(Vec<u8>),
    /// `whsk_`: ed25519 private key, produces `v1a,` signatures.
    Ed25519(ed25519_dalek::SigningKey),
}

/// Something that verifies: the hub side.
#[derive(Clone, PartialEq, Eq)]
pub enum VerifyingKey {
    /// `whsec_`: the same HMAC secret the terminal holds.
    Hmac(Vec<u8>),
    /// `whpk_`: the terminal's ed25519 public key.
    Ed25519(ed25519_dalek::VerifyingKey),
}

fn decode(b64: &str) -> Result<Vec<u8>, KeyError> {
    B64.decode(b64.trim()).map_err(|_| KeyError::BadBase64)
}

fn hmac_bytes(raw: Vec<u8>) -> Result<Vec<u8>, KeyError> {
    // Standard Webhooks secrets are 24 to 64 bytes.
    if raw.len() < 16 || raw.len() > 128 {
        return Err(KeyError::BadLength(raw.len()));
    }
    Ok(raw)
}

impl FromStr for SigningKey {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, KeyError> {
        if let Some(b) = s.strip_prefix(HMAC_PREFIX) {
            return Ok(SigningKey::Hmac(hmac_bytes(decode(b)?)?));
        }
        if let Some(b) = s.strip_prefix(ED_SECRET_PREFIX) {
            let raw = decode(b)?;
            // A 32-byte seed, or the 64-byte seed‖public form some tools write.
            let seed: [u8; 32] = match raw.len() {
                32 | 64 => raw[..32].try_into().expect("32 bytes"),
                n => return Err(KeyError::BadLength(n)),
            };
            return Ok(SigningKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(
                &seed,
            )));
        }
        Err(KeyError::UnknownPrefix {
            expected: "whsec_ or whsk_",
        })
    }
}

impl FromStr for VerifyingKey {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, KeyError> {
        if let Some(b) = s.strip_prefix(HMAC_PREFIX) {
            return Ok(VerifyingKey::Hmac(hmac_bytes(decode(b)?)?));
        }
        if let Some(b) = s.strip_prefix(ED_PUBLIC_PREFIX) {
            let raw = decode(b)?;
            let bytes: [u8; 32] = raw
                .as_slice()
                .try_into()
                .map_err(|_| KeyError::BadLength(raw.len()))?;
            let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes)
                .map_err(|_| KeyError::BadLength(32))?;
            return Ok(VerifyingKey::Ed25519(key));
        }
        Err(KeyError::UnknownPrefix {
            expected: "whsec_ or whpk_",
        })
    }
}

impl SigningKey {
    /// The key text (`whsec_…` or `whsk_…`). Secret: handle with care.
    pub fn to_text(&self) -> String {
        match self {
            SigningKey::Hmac(k) => format!("{HMAC_PREFIX}{}", B64.encode(k)),
            SigningKey::Ed25519(k) => format!("{ED_SECRET_PREFIX}{}", B64.encode(k.to_bytes())),
        }
    }

    /// What the hub must hold to verify this key's signatures.
    pub fn verifying_key(&self) -> VerifyingKey {
        match self {
            SigningKey::Hmac(k) => VerifyingKey::Hmac(k.clone()),
            SigningKey::Ed25519(k) => VerifyingKey::Ed25519(k.verifying_key()),
        }
    }
}

impl VerifyingKey {
    /// The key text (`whsec_…` or `whpk_…`).
    pub fn to_text(&self) -> String {
        match self {
            VerifyingKey::Hmac(k) => format!("{HMAC_PREFIX}{}", B64.encode(k)),
            VerifyingKey::Ed25519(k) => format!("{ED_PUBLIC_PREFIX}{}", B64.encode(k.as_bytes())),
        }
    }

    /// `"hmac"` or `"ed25519"`.
    pub fn kind(&self) -> &'static str {
        match self {
            VerifyingKey::Hmac(_) => "hmac",
            VerifyingKey::Ed25519(_) => "ed25519",
        }
    }

    /// True for a public key (safe to show), false for a shared secret.
    pub fn is_public(&self) -> bool {
        matches!(self, VerifyingKey::Ed25519(_))
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SigningKey::Hmac(_) => f.write_str("SigningKey::Hmac(<redacted>)"),
            SigningKey::Ed25519(k) => write!(
                f,
                "SigningKey::Ed25519(public {})",
                B64.encode(k.verifying_key().as_bytes())
            ),
        }
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyingKey::Hmac(_) => f.write_str("VerifyingKey::Hmac(<redacted>)"),
            VerifyingKey::Ed25519(_) => write!(f, "VerifyingKey::Ed25519({})", self.to_text()),
        }
    }
}

/// A fresh random 32-byte HMAC secret.
pub fn generate_hmac_secret() -> SigningKey {
    let raw: [u8; 32] = rand::random();
    SigningKey::Hmac(raw.to_vec())
}

/// A fresh ed25519 key pair.
#[derive(Debug, Clone)]
pub struct Ed25519Keypair {
    /// `whsk_…`: stays on the terminal.
    pub signing: SigningKey,
    /// `whpk_…`: registered with the hub.
    pub public: VerifyingKey,
}

/// A fresh ed25519 key pair from the OS random generator.
pub fn generate_ed25519_keypair() -> Ed25519Keypair {
    let seed: [u8; 32] = rand::random();
    let signing = SigningKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&seed));
    let public = signing.verifying_key();
    Ed25519Keypair { signing, public }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_forms_round_trip() {
        let h = generate_hmac_secret();
        let t = h.to_text();
        assert!(t.starts_with("whsec_"));
        assert_eq!(SigningKey::from_str(&t).unwrap().to_text(), t);
        assert_eq!(VerifyingKey::from_str(&t).unwrap(), h.verifying_key());

        let kp = generate_ed25519_keypair();
        let sk = kp.signing.to_text();
        let pk = kp.public.to_text();
        assert!(sk.starts_with("whsk_") && pk.starts_with("whpk_"));
        assert_eq!(SigningKey::from_str(&sk).unwrap().to_text(), sk);
        assert_eq!(VerifyingKey::from_str(&pk).unwrap(), kp.public);
    }

    #[test]
    fn bad_keys_are_refused() {
        assert!(matches!(
            SigningKey::from_str("sk_abc"),
            Err(KeyError::UnknownPrefix { .. })
        ));
        assert_eq!(
            VerifyingKey::from_str("whsec_!!!"),
            Err(KeyError::BadBase64)
        );
        assert_eq!(
            VerifyingKey::from_str("whpk_AAAA"),
            Err(KeyError::BadLength(3))
        );
        // A terminal's private key is not something the hub accepts.
        assert!(VerifyingKey::from_str(&generate_ed25519_keypair().signing.to_text()).is_err());
    }

    #[test]
    fn debug_redacts_secrets() {
        let h = generate_hmac_secret();
        assert!(!format!("{h:?}").contains(&h.to_text()[6..]));
        assert!(!format!("{:?}", h.verifying_key()).contains(&h.to_text()[6..]));
    }
}
