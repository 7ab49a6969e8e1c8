//! HTTPS for the sandbox: with [`crate::Config::tls`] set, every connection
//! is a TLS one (rustls) with that certificate, and the origin becomes
//! `https://…`. Tests give it a certificate from a CA they made
//! (`till-test-ca`) so the terminal is tested over real TLS; the binary takes
//! `--tls-cert FILE --tls-key FILE`.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::fmt;
use std::path::Path;
use std::sync::Arc;

/// A server certificate chain (leaf first) and its key, PEM.
#[derive(Clone)]
pub struct TlsIdentity {
    pub cert_pem: String,
    pub key_pem: String,
}

impl fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsIdentity").finish_non_exhaustive()
    }
}

impl TlsIdentity {
    pub fn new(cert_pem: impl Into<String>, key_pem: impl Into<String>) -> TlsIdentity {
        TlsIdentity {
            cert_pem: cert_pem.into(),
            key_pem: key_pem.into(),
        }
    }

    /// Reads both PEM files.
    pub fn from_files(cert: &Path, key: &Path) -> Result<TlsIdentity, crate::Error> {
        let read = |p: &Path| {
            std::fs::read_to_string(p).map_err(|source| crate::Error::Read {
                path: p.to_owned(),
                source,
            })
        };
        Ok(TlsIdentity::new(read(cert)?, read(key)?))
    }

    /// The acceptor serving this identity.
    pub(crate) fn acceptor(&self) -> Result<tokio_rustls::TlsAcceptor, crate::Error> {
        let bad = |m: String| crate::Error::Tls(m);
        let chain = CertificateDer::pem_slice_iter(self.cert_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(format!("certificate: {e}")))?;
        if chain.is_empty() {
            return Err(bad("no certificate in the PEM".into()));
        }
        let key = PrivateKeyDer::from_pem_slice(self.key_pem.as_bytes())
            .map_err(|e| bad(format!("key: {e}")))?;
        // The provider is named so nothing depends on a process default.
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(|b| b.with_no_client_auth().with_single_cert(chain, key))
            .map_err(|e| bad(e.to_string()))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
    }
}
