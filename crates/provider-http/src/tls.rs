//! TLS for every HTTP client Till builds: reqwest on rustls, verifying with
//! the operating system's certificate store (`rustls-platform-verifier`, what
//! reqwest's `rustls` feature brings), plus optional **extra trusted roots**
//! from a PEM file (the terminal's `[tls] extra_roots`), for a shop behind a
//! TLS-inspecting proxy or a hub with a private CA, and for the tests' CA.
//!
//! Extra roots are *added* to the OS store, never a replacement: a terminal
//! that trusts its shop's CA still trusts bKash's and Bakong's public ones.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why an extra-roots file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)")]
    Empty { path: PathBuf },
    #[error("{path}: certificate {index} is not valid PEM: {message}")]
    Pem {
        path: PathBuf,
        index: usize,
        message: String,
    },
    #[error("{path}: certificate {index} cannot be a trust anchor: {message}")]
    NotACertificate {
        path: PathBuf,
        index: usize,
        message: String,
    },
}

/// Certificates trusted besides the OS store. Cheap to clone.
#[derive(Clone, Default)]
pub struct ExtraRoots {
    inner: Arc<Roots>,
}

#[derive(Default)]
struct Roots {
    ders: Vec<CertificateDer<'static>>,
    source: Option<PathBuf>,
}

impl fmt::Debug for ExtraRoots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExtraRoots")
            .field("certificates", &self.inner.ders.len())
            .field("source", &self.inner.source)
            .finish()
    }
}

impl ExtraRoots {
    /// No extra roots: the OS store alone.
    pub fn none() -> ExtraRoots {
        ExtraRoots::default()
    }

    /// Every certificate of a PEM file (one CA or a bundle). An unreadable
    /// file, one without certificates, or a certificate that does not parse
    /// is an error now, so a typo fails at start and not at the first sale.
    pub fn from_pem_file(path: &Path) -> Result<ExtraRoots, TlsError> {
        let pem = std::fs::read(path).map_err(|source| TlsError::Read {
            path: path.to_owned(),
            source,
        })?;
        ExtraRoots::from_pem(&pem, path)
    }

    /// Like [`ExtraRoots::from_pem_file`] over PEM text; `origin` names it in errors.
    pub fn from_pem(pem: &[u8], origin: &Path) -> Result<ExtraRoots, TlsError> {
        let mut ders = Vec::new();
        for (i, item) in CertificateDer::pem_slice_iter(pem).enumerate() {
            let der = item.map_err(|e| TlsError::Pem {
                path: origin.to_owned(),
                index: i + 1,
                message: e.to_string(),
            })?;
            // Parse it as a trust anchor the way the verifier will.
            rustls::RootCertStore::empty()
                .add(der.clone())
                .map_err(|e| TlsError::NotACertificate {
                    path: origin.to_owned(),
                    index: i + 1,
                    message: e.to_string(),
                })?;
            ders.push(der);
        }
        if ders.is_empty() {
            return Err(TlsError::Empty {
                path: origin.to_owned(),
            });
        }
        Ok(ExtraRoots {
            inner: Arc::new(Roots {
                ders,
                source: Some(origin.to_owned()),
            }),
        })
    }

    /// How many certificates are added.
    pub fn len(&self) -> usize {
        self.inner.ders.len()
    }

    pub fn is_empty(&self) -> bool {
        self.inner.ders.is_empty()
    }

    /// The file they came from.
    pub fn source(&self) -> Option<&Path> {
        self.inner.source.as_deref()
    }

    /// The certificates, DER (for rustls configurations built by hand).
    pub fn ders(&self) -> &[CertificateDer<'static>] {
        &self.inner.ders
    }

    /// `builder` trusting these roots besides the OS store.
    pub fn apply(&self, builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        if self.is_empty() {
            return builder;
        }
        let certs = self
            .inner
            .ders
            .iter()
            .filter_map(|d| reqwest::Certificate::from_der(d.as_ref()).ok());
        // Merge, not `tls_certs_only`: the OS store keeps working.
        builder.tls_certs_merge(certs)
    }
}

/// A reqwest client builder on rustls with the OS store plus `roots`. Every
/// client of the terminal starts here.
pub fn client_builder(roots: &ExtraRoots) -> reqwest::ClientBuilder {
    roots.apply(reqwest::Client::builder().tls_backend_rustls())
}

/// When `err`'s chain holds a TLS failure, what it means in words.
pub(crate) fn describe(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    Some(match rustls_cause(err)? {
        rustls::Error::InvalidCertificate(c) => format!(
            "TLS: the server's certificate is not trusted ({c:?}); nothing was sent. \
             If the server is right, add its CA to the system's certificate store \
             or to the terminal's extra trusted roots"
        ),
        other => format!("TLS handshake failed ({other}); nothing was sent"),
    })
}

/// The rustls error in `err`'s chain. hyper and tokio-rustls wrap it in
/// io::Errors (nested), whose `source()` skips the wrapped error: look
/// inside each of those as well.
pub(crate) fn rustls_cause<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a rustls::Error> {
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = src {
        if let Some(t) = e.downcast_ref::<rustls::Error>() {
            return Some(t);
        }
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            if let Some(t) = rustls_cause(inner) {
                return Some(t);
            }
        }
        src = e.source();
    }
    None
}
