//! TLS of Till's own HTTP servers (`till-hub serve --tls-cert --tls-key`, `[api] tls_cert`):
//! a rustls server configuration from PEM files. Without it a server speaks
//! plain HTTP, for running behind a reverse proxy that terminates TLS.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why the server's certificate or key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{what} {origin}: {message}")]
    Pem {
        what: &'static str,
        origin: String,
        message: String,
    },
    #[error("certificate {cert} and key {key} do not make a TLS server: {message}")]
    Config {
        cert: String,
        key: String,
        message: String,
    },
}

/// The crypto provider of every rustls configuration Till builds by hand:
/// aws-lc-rs, the one reqwest's `rustls` feature uses, named explicitly so
/// nothing depends on a process-wide default being installed.
pub fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// A server certificate chain and key, ready to serve.
#[derive(Clone)]
pub struct ServerTls {
    config: Arc<rustls::ServerConfig>,
    /// Where they came from, for logs.
    pub origin: String,
}

impl fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerTls")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_owned(),
        source,
    })
}

impl ServerTls {
    /// `cert`: PEM certificate chain, leaf first; `key`: its PEM private key
    /// (PKCS#8, PKCS#1 or SEC1).
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<ServerTls, TlsError> {
        ServerTls::from_pem(
            &read(cert)?,
            &read(key)?,
            &cert.display().to_string(),
            &key.display().to_string(),
        )
    }

    /// Like [`ServerTls::from_pem_files`] over PEM text; the names are for messages.
    pub fn from_pem(
        cert_pem: &[u8],
        key_pem: &[u8],
        cert_name: &str,
        key_name: &str,
    ) -> Result<ServerTls, TlsError> {
        let chain = CertificateDer::pem_slice_iter(cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TlsError::Pem {
                what: "certificate",
                origin: cert_name.into(),
                message: e.to_string(),
            })?;
        if chain.is_empty() {
            return Err(TlsError::Pem {
                what: "certificate",
                origin: cert_name.into(),
                message: "no -----BEGIN CERTIFICATE----- block".into(),
            });
        }
        let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| TlsError::Pem {
            what: "key",
            origin: key_name.into(),
            message: e.to_string(),
        })?;
        let mut config = rustls::ServerConfig::builder_with_provider(crypto_provider())
            .with_safe_default_protocol_versions()
            .and_then(|b| b.with_no_client_auth().with_single_cert(chain, key))
            .map_err(|e| TlsError::Config {
                cert: cert_name.into(),
                key: key_name.into(),
                message: e.to_string(),
            })?;
        // HTTP/1.1: what terminals and shops' POS clients speak (and SSE needs no more).
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(ServerTls {
            config: Arc::new(config),
            origin: cert_name.into(),
        })
    }

    /// The rustls configuration.
    pub fn config(&self) -> Arc<rustls::ServerConfig> {
        self.config.clone()
    }
}
