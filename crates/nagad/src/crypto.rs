//! Nagad's sealing: RSA PKCS#1 v1.5 encryption of `sensitiveData` to the
//! other side's public key, and SHA256withRSA (PKCS#1 v1.5) signatures over
//! the same plaintext by one's own private key, both as standard base64
//! (spec §3, \[C\]).
//!
//! Keys come from PEM text as Nagad's merchant portal and the public client
//! libraries hand them around: PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1 (`BEGIN
//! RSA PRIVATE KEY`) private keys, SPKI (`BEGIN PUBLIC KEY`) or PKCS#1 (`BEGIN
//! RSA PUBLIC KEY`) public keys, and also the bare base64 body without the
//! armour lines. The label is not trusted: several published clients wrap a
//! PKCS#8 body in `BEGIN RSA PRIVATE KEY` lines, so both encodings are tried.
//!
//! Both key types print `***` in `Debug`; nothing here logs or returns key
//! material. Decryption is blinded (`rsa`'s `decrypt_blinded`).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey};
use rsa::rand_core::OsRng;
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Encrypt, RsaPrivateKey, RsaPublicKey};
use sha2::{Digest, Sha256};
use std::fmt;

/// The smallest modulus accepted (Nagad's keys are 2048-bit).
pub const MIN_KEY_BITS: usize = 2048;

/// Why a key text cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the key is neither PEM nor base64 text")]
    NotText,
    #[error("the key is not an RSA private key (PKCS#8 or PKCS#1)")]
    NotPrivateKey,
    #[error("the key is not an RSA public key (SPKI or PKCS#1)")]
    NotPublicKey,
    #[error("the key has {bits} bits; at least {MIN_KEY_BITS} are required")]
    TooShort { bits: usize },
}

/// Why sealing, opening, signing or verifying failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("not base64")]
    NotBase64,
    #[error("the plaintext is too long for one RSA block")]
    TooLong,
    #[error("cannot be decrypted with this key")]
    Undecryptable,
    #[error("the signature does not verify")]
    BadSignature,
}

/// The DER body of a PEM text (any label) or of bare base64.
fn der_of(text: &str) -> Result<Vec<u8>, KeyError> {
    let body: String = if text.contains("-----BEGIN") {
        text.lines()
            .map(str::trim)
            .skip_while(|l| !l.starts_with("-----BEGIN"))
            .skip(1)
            .take_while(|l| !l.starts_with("-----END"))
            // RFC 1421 headers (`Proc-Type: …`) are not part of the body.
            .filter(|l| !l.contains(':'))
            .collect()
    } else {
        text.split_whitespace().collect()
    };
    if body.is_empty() {
        return Err(KeyError::NotText);
    }
    STANDARD.decode(body).map_err(|_| KeyError::NotText)
}

fn check_size(bits: usize) -> Result<(), KeyError> {
    if bits < MIN_KEY_BITS {
        Err(KeyError::TooShort { bits })
    } else {
        Ok(())
    }
}

/// Hex SHA-256 of a public key's SPKI DER: names a key without showing it.
fn fingerprint_of(key: &RsaPublicKey) -> String {
    let der = key
        .to_public_key_der()
        .map(|d| d.as_bytes().to_vec())
        .unwrap_or_default();
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The merchant's private key: signs our plaintexts, opens Nagad's answers.
#[derive(Clone)]
pub struct MerchantPrivateKey {
    key: RsaPrivateKey,
    signer: SigningKey<Sha256>,
}

impl fmt::Debug for MerchantPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MerchantPrivateKey(***)")
    }
}

impl PartialEq for MerchantPrivateKey {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl MerchantPrivateKey {
    /// From PEM (PKCS#8 or PKCS#1, whatever the label says) or bare base64.
    pub fn from_pem(text: &str) -> Result<Self, KeyError> {
        let der = der_of(text)?;
        let key = RsaPrivateKey::from_pkcs8_der(&der)
            .or_else(|_| RsaPrivateKey::from_pkcs1_der(&der))
            .map_err(|_| KeyError::NotPrivateKey)?;
        check_size(key.size() * 8)?;
        Ok(MerchantPrivateKey {
            signer: SigningKey::<Sha256>::new(key.clone()),
            key,
        })
    }

    /// SHA-256 (hex) of the matching public key: what Nagad holds for this
    /// merchant. Names the key (e.g. as part of the payee) without showing it.
    pub fn public_fingerprint(&self) -> String {
        fingerprint_of(&self.key.to_public_key())
    }

    /// SHA256withRSA over `data`, base64.
    pub fn sign(&self, data: &[u8]) -> String {
        STANDARD.encode(self.signer.sign(data).to_bytes())
    }

    /// Opens a base64 PKCS#1 v1.5 ciphertext sealed to our public key.
    pub fn decrypt(&self, b64: &str) -> Result<Vec<u8>, CryptoError> {
        let compact: String = b64.split_whitespace().collect();
        let ct = STANDARD
            .decode(compact)
            .map_err(|_| CryptoError::NotBase64)?;
        self.key
            .decrypt_blinded(&mut OsRng, Pkcs1v15Encrypt, &ct)
            .map_err(|_| CryptoError::Undecryptable)
    }
}

/// Nagad's public key: seals our plaintexts, verifies Nagad's signatures.
#[derive(Clone, PartialEq)]
pub struct NagadPublicKey {
    key: RsaPublicKey,
}

impl fmt::Debug for NagadPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NagadPublicKey(***)")
    }
}

impl NagadPublicKey {
    /// From PEM (SPKI or PKCS#1) or bare base64.
    pub fn from_pem(text: &str) -> Result<Self, KeyError> {
        let der = der_of(text)?;
        let key = RsaPublicKey::from_public_key_der(&der)
            .or_else(|_| RsaPublicKey::from_pkcs1_der(&der))
            .map_err(|_| KeyError::NotPublicKey)?;
        check_size(key.size() * 8)?;
        Ok(NagadPublicKey { key })
    }

    /// SHA-256 (hex) of the key's SPKI DER.
    pub fn fingerprint(&self) -> String {
        fingerprint_of(&self.key)
    }

    /// Seals `plaintext` (at most the key size less 11 bytes: 245 for
    /// 2048 bits), base64.
    pub fn encrypt(&self, plaintext: &[u8]) -> Result<String, CryptoError> {
        if plaintext.len() + 11 > self.key.size() {
            return Err(CryptoError::TooLong);
        }
        self.key
            .encrypt(&mut OsRng, Pkcs1v15Encrypt, plaintext)
            .map(|ct| STANDARD.encode(ct))
            .map_err(|_| CryptoError::TooLong)
    }

    /// Checks a base64 SHA256withRSA signature over `data`.
    pub fn verify(&self, data: &[u8], signature_b64: &str) -> Result<(), CryptoError> {
        let compact: String = signature_b64.split_whitespace().collect();
        let bytes = STANDARD
            .decode(compact)
            .map_err(|_| CryptoError::NotBase64)?;
        let sig = Signature::try_from(bytes.as_slice()).map_err(|_| CryptoError::BadSignature)?;
        VerifyingKey::<Sha256>::new(self.key.clone())
            .verify(data, &sig)
            .map_err(|_| CryptoError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // TEST ONLY keys (tests/data/nagad/README.md).
    const MERCHANT_PRIV: &str =
        include_str!("../../../tests/data/nagad/merchant-private.TEST-ONLY.pem");
    const MERCHANT_PRIV_PKCS1: &str =
        include_str!("../../../tests/data/nagad/merchant-private-pkcs1.TEST-ONLY.pem");
    const MERCHANT_PUB: &str =
        include_str!("../../../tests/data/nagad/merchant-public.TEST-ONLY.pem");
    const NAGAD_PRIV: &str = include_str!("../../../tests/data/nagad/nagad-private.TEST-ONLY.pem");
    const NAGAD_PUB: &str = include_str!("../../../tests/data/nagad/nagad-public.TEST-ONLY.pem");
    const STRANGER_PUB: &str =
        include_str!("../../../tests/data/nagad/stranger-public.TEST-ONLY.pem");

    /// The bare base64 body of a PEM, the way Nagad's portal hands keys out.
    fn bare(pem: &str) -> String {
        pem.lines().filter(|l| !l.starts_with("-----")).collect()
    }

    #[test]
    fn seal_and_open_round_trip_both_ways() {
        let merchant = MerchantPrivateKey::from_pem(MERCHANT_PRIV).unwrap();
        let nagad_pub = NagadPublicKey::from_pem(NAGAD_PUB).unwrap();
        // The other side of the exchange, built from the same types.
        let nagad = MerchantPrivateKey::from_pem(NAGAD_PRIV).unwrap();
        let merchant_pub = NagadPublicKey::from_pem(MERCHANT_PUB).unwrap();

        let text = br#"{"merchantId":"683000000000017","datetime":"20260102030405","orderId":"T1-000001","challenge":"c"}"#;
        let sealed = nagad_pub.encrypt(text).unwrap();
        assert_eq!(nagad.decrypt(&sealed).unwrap(), text);
        // Randomised padding: two seals differ, both open.
        assert_ne!(sealed, nagad_pub.encrypt(text).unwrap());
        // Only the right private key opens it.
        assert_eq!(merchant.decrypt(&sealed), Err(CryptoError::Undecryptable));

        let sig = merchant.sign(text);
        merchant_pub.verify(text, &sig).unwrap();
        // Deterministic (PKCS#1 v1.5 signatures are).
        assert_eq!(sig, merchant.sign(text));
        // Another text, another key, or a flipped bit: refused.
        assert_eq!(
            merchant_pub.verify(b"{}", &sig),
            Err(CryptoError::BadSignature)
        );
        assert_eq!(nagad_pub.verify(text, &sig), Err(CryptoError::BadSignature));
        let mut raw = STANDARD.decode(&sig).unwrap();
        raw[10] ^= 1;
        assert_eq!(
            merchant_pub.verify(text, &STANDARD.encode(raw)),
            Err(CryptoError::BadSignature)
        );
        assert_eq!(
            merchant_pub.verify(text, "not base64!"),
            Err(CryptoError::NotBase64)
        );
    }

    #[test]
    fn keys_load_from_every_form_clients_use() {
        let a = MerchantPrivateKey::from_pem(MERCHANT_PRIV).unwrap();
        let b = MerchantPrivateKey::from_pem(MERCHANT_PRIV_PKCS1).unwrap();
        let c = MerchantPrivateKey::from_pem(&bare(MERCHANT_PRIV)).unwrap();
        // A PKCS#8 body under a PKCS#1 label (published PHP clients do this).
        let mislabelled = format!(
            "-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----",
            bare(MERCHANT_PRIV)
        );
        let d = MerchantPrivateKey::from_pem(&mislabelled).unwrap();
        assert!(a == b && b == c && c == d);
        assert_eq!(
            a.public_fingerprint(),
            NagadPublicKey::from_pem(MERCHANT_PUB)
                .unwrap()
                .fingerprint()
        );
        let p = NagadPublicKey::from_pem(&bare(NAGAD_PUB)).unwrap();
        assert_eq!(p, NagadPublicKey::from_pem(NAGAD_PUB).unwrap());
        assert_ne!(
            p.fingerprint(),
            NagadPublicKey::from_pem(STRANGER_PUB)
                .unwrap()
                .fingerprint()
        );
    }

    #[test]
    fn wrong_keys_are_refused_and_never_printed() {
        assert_eq!(
            MerchantPrivateKey::from_pem(NAGAD_PUB).unwrap_err(),
            KeyError::NotPrivateKey
        );
        assert_eq!(
            NagadPublicKey::from_pem("hello world").unwrap_err(),
            KeyError::NotText
        );
        assert_eq!(NagadPublicKey::from_pem("").unwrap_err(), KeyError::NotText);
        let k = MerchantPrivateKey::from_pem(MERCHANT_PRIV).unwrap();
        assert_eq!(format!("{k:?}"), "MerchantPrivateKey(***)");
        let p = NagadPublicKey::from_pem(NAGAD_PUB).unwrap();
        assert_eq!(format!("{p:?}"), "NagadPublicKey(***)");
    }

    #[test]
    fn plaintexts_longer_than_a_block_are_refused() {
        let p = NagadPublicKey::from_pem(NAGAD_PUB).unwrap();
        assert!(p.encrypt(&[b'a'; 245]).is_ok());
        assert_eq!(p.encrypt(&[b'a'; 246]), Err(CryptoError::TooLong));
    }
}
