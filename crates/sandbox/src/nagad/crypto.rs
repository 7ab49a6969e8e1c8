//! The sandbox's side of Nagad's sealing: it opens requests with *Nagad's*
//! private key, checks their SHA256withRSA signature with the *merchant's*
//! public key, seals answers to the merchant and signs them as Nagad. Its
//! own code, sharing nothing with Till's client (ARCHITECTURE: the sandbox
//! is a provider, not a mock).

use crate::config::{nagad_test_keys, AnswerSignature, NagadConfig};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey, LineEnding};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::{Pkcs1v15Encrypt, RsaPrivateKey, RsaPublicKey};

/// DER of a PEM text (any label) or bare base64.
fn der(text: &str) -> Option<Vec<u8>> {
    let body: String = if text.contains("-----BEGIN") {
        text.lines()
            .map(str::trim)
            .skip_while(|l| !l.starts_with("-----BEGIN"))
            .skip(1)
            .take_while(|l| !l.starts_with("-----END"))
            .collect()
    } else {
        text.split_whitespace().collect()
    };
    STANDARD.decode(body).ok()
}

fn private_key(pem: &str) -> Option<RsaPrivateKey> {
    let d = der(pem)?;
    RsaPrivateKey::from_pkcs8_der(&d)
        .or_else(|_| RsaPrivateKey::from_pkcs1_der(&d))
        .ok()
}

fn public_key(pem: &str) -> Option<RsaPublicKey> {
    let d = der(pem)?;
    RsaPublicKey::from_public_key_der(&d)
        .or_else(|_| RsaPublicKey::from_pkcs1_der(&d))
        .ok()
}

/// The keys the simulated Nagad holds.
pub struct NagadKeys {
    nagad: RsaPrivateKey,
    merchant: RsaPublicKey,
    /// Signs answers when [`AnswerSignature::WrongKey`] is configured.
    stranger: RsaPrivateKey,
    nagad_public_pem: String,
}

impl NagadKeys {
    /// Parses the configured keys; a key that does not parse stops the start.
    pub fn from_config(cfg: &NagadConfig) -> Result<NagadKeys, crate::Error> {
        let bad = |what: &str| crate::Error::NagadKey(format!("{what} is not a usable RSA key"));
        let nagad =
            private_key(&cfg.nagad_private_key_pem).ok_or_else(|| bad("nagad_private_key_pem"))?;
        let merchant = public_key(&cfg.merchant_public_key_pem)
            .ok_or_else(|| bad("merchant_public_key_pem"))?;
        let stranger = private_key(nagad_test_keys::STRANGER_PRIVATE_PEM)
            .ok_or_else(|| bad("the stranger test key"))?;
        let nagad_public_pem = nagad
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| crate::Error::NagadKey(e.to_string()))?;
        Ok(NagadKeys {
            nagad,
            merchant,
            stranger,
            nagad_public_pem,
        })
    }

    /// Nagad's public key (PEM), what a merchant is given.
    pub fn nagad_public_pem(&self) -> &str {
        &self.nagad_public_pem
    }

    /// Opens a merchant's `sensitiveData` with Nagad's private key.
    pub fn open(&self, sealed_b64: &str) -> Option<Vec<u8>> {
        let compact: String = sealed_b64.split_whitespace().collect();
        let ct = STANDARD.decode(compact).ok()?;
        self.nagad.decrypt(Pkcs1v15Encrypt, &ct).ok()
    }

    /// Checks the merchant's signature over the opened plaintext.
    pub fn merchant_signed(
        &self,
        plaintext: &[u8],
        signature_b64: &str,
        accept_sha1: bool,
    ) -> bool {
        let compact: String = signature_b64.split_whitespace().collect();
        let Some(sig) = STANDARD
            .decode(compact)
            .ok()
            .and_then(|b| Signature::try_from(b.as_slice()).ok())
        else {
            return false;
        };
        VerifyingKey::<sha2::Sha256>::new(self.merchant.clone())
            .verify(plaintext, &sig)
            .is_ok()
            || (accept_sha1
                && VerifyingKey::<sha1::Sha1>::new(self.merchant.clone())
                    .verify(plaintext, &sig)
                    .is_ok())
    }

    /// Seals an answer's plaintext to the merchant's public key.
    pub fn seal(&self, rng: &mut impl rand::RngCore, plaintext: &[u8]) -> String {
        let ct = self
            .merchant
            .encrypt(&mut rng_compat::Compat(rng), Pkcs1v15Encrypt, plaintext)
            .expect("answers are shorter than one RSA block");
        STANDARD.encode(ct)
    }

    /// Nagad's signature over an answer's plaintext, as configured.
    pub fn sign(&self, plaintext: &[u8], how: AnswerSignature) -> Option<String> {
        let key = match how {
            AnswerSignature::Valid => &self.nagad,
            AnswerSignature::WrongKey => &self.stranger,
            AnswerSignature::Missing => return None,
        };
        let sig = SigningKey::<sha2::Sha256>::new(key.clone()).sign(plaintext);
        Some(STANDARD.encode(sig.to_bytes()))
    }
}

/// `rsa` 0.9 takes `rand_core` 0.6 RNGs; bridge the world's rand 0.9 RNG.
mod rng_compat {
    use rand::RngCore;

    pub struct Compat<'a, R: ?Sized>(pub &'a mut R);

    impl<R: RngCore + ?Sized> rsa::rand_core::RngCore for Compat<'_, R> {
        fn next_u32(&mut self) -> u32 {
            self.0.next_u32()
        }
        fn next_u64(&mut self) -> u64 {
            self.0.next_u64()
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            self.0.fill_bytes(dest)
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
            self.0.fill_bytes(dest);
            Ok(())
        }
    }

    impl<R: RngCore + ?Sized> rsa::rand_core::CryptoRng for Compat<'_, R> {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn opens_what_the_merchant_sealed_and_seals_what_the_merchant_opens() {
        let keys = NagadKeys::from_config(&NagadConfig::default()).unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let nagad_pub = public_key(keys.nagad_public_pem()).unwrap();
        let ct = nagad_pub
            .encrypt(&mut rng_compat::Compat(&mut rng), Pkcs1v15Encrypt, b"hello")
            .unwrap();
        assert_eq!(keys.open(&STANDARD.encode(ct)).unwrap(), b"hello");
        let merchant = private_key(nagad_test_keys::MERCHANT_PRIVATE_PEM).unwrap();
        let sealed = keys.seal(&mut rng, b"answer");
        let opened = merchant
            .decrypt(Pkcs1v15Encrypt, &STANDARD.decode(sealed).unwrap())
            .unwrap();
        assert_eq!(opened, b"answer");
        let sig = SigningKey::<sha2::Sha256>::new(merchant.clone()).sign(b"x");
        assert!(keys.merchant_signed(b"x", &STANDARD.encode(sig.to_bytes()), false));
        assert!(!keys.merchant_signed(b"y", &STANDARD.encode(sig.to_bytes()), false));
        let sha1 = SigningKey::<sha1::Sha1>::new(merchant).sign(b"x");
        assert!(!keys.merchant_signed(b"x", &STANDARD.encode(sha1.to_bytes()), false));
        assert!(keys.merchant_signed(b"x", &STANDARD.encode(sha1.to_bytes()), true));
        assert!(keys.sign(b"x", AnswerSignature::Missing).is_none());
        assert_ne!(
            keys.sign(b"x", AnswerSignature::Valid),
            keys.sign(b"x", AnswerSignature::WrongKey)
        );
    }
}
