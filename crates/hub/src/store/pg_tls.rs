//! TLS to PostgreSQL, honouring libpq's `sslmode` and `sslrootcert` in the
//! database URL, over rustls (`tokio-postgres-rustls`).
//!
//! | `sslmode` | TLS | server certificate |
//! | --- | --- | --- |
//! | `disable` | never | — |
//! | `prefer` (absent) | if the server offers it | not checked |
//! | `require` | always | not checked; with `sslrootcert=FILE` as `verify-ca` |
//! | `verify-ca` | always | chain to a trusted CA |
//! | `verify-full` | always | chain to a trusted CA and the host name |
//!
//! These are libpq's meanings, so a URL means what it means to `psql`: only
//! `verify-ca`/`verify-full` (or `require` with a root file) authenticate the
//! server, and `verify-full` is the one to use across a network. Trusted CAs
//! are the OS store plus `sslrootcert=FILE` (PEM); `sslrootcert=system` is
//! the OS store alone and, as in libpq, implies `verify-full` when no mode is
//! given. tokio-postgres itself knows only disable/prefer/require and no
//! `sslrootcert`, so both are taken out of the URL here and applied through
//! the rustls configuration.

use super::StoreError;
use percent_encoding::percent_decode_str;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use std::str::FromStr;
use std::sync::Arc;
use tokio_postgres_rustls::MakeRustlsConnect;

/// libpq's `sslmode` values Till supports (`allow` is not: tokio-postgres
/// cannot fall back from plain to TLS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// What the server's certificate is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Encrypted, not authenticated (libpq's prefer/require).
    Nothing,
    /// Chain to a trusted CA, any host name.
    Chain,
    /// Chain and host name.
    Full,
}

/// A database URL taken apart: what tokio-postgres gets, and the TLS to use.
pub struct PgTarget {
    pub config: tokio_postgres::Config,
    pub mode: SslMode,
    pub check: Check,
    pub tls: MakeRustlsConnect,
}

fn tls_err(m: impl Into<String>) -> StoreError {
    StoreError::Tls(m.into())
}

/// Parses a `postgres://` URL with libpq's TLS parameters.
pub fn parse(url: &str) -> Result<PgTarget, StoreError> {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let mut mode: Option<SslMode> = None;
    let mut root: Option<String> = None;
    let mut rest: Vec<&str> = Vec::new();
    for param in query.into_iter().flat_map(|q| q.split('&')) {
        let (k, v) = param.split_once('=').unwrap_or((param, ""));
        let key = percent_decode_str(k).decode_utf8_lossy();
        let value = percent_decode_str(v).decode_utf8_lossy().into_owned();
        match key.as_ref() {
            "sslmode" => {
                mode = Some(match value.as_str() {
                    "disable" => SslMode::Disable,
                    "prefer" => SslMode::Prefer,
                    "require" => SslMode::Require,
                    "verify-ca" => SslMode::VerifyCa,
                    "verify-full" => SslMode::VerifyFull,
                    other => {
                        return Err(tls_err(format!(
                            "sslmode={other} is not supported (use disable, prefer, require, \
                             verify-ca or verify-full)"
                        )))
                    }
                })
            }
            "sslrootcert" => root = Some(value),
            _ => rest.push(param),
        }
    }
    let plain = if rest.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    let mut config = tokio_postgres::Config::from_str(&plain)?;
    let system_only = root.as_deref() == Some("system");
    let mode = mode.unwrap_or(if system_only {
        SslMode::VerifyFull
    } else {
        SslMode::Prefer
    });
    let extra: Vec<CertificateDer<'static>> = match root.as_deref() {
        None | Some("system") => Vec::new(),
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|e| tls_err(format!("sslrootcert={path}: {e}")))?;
            if certs.is_empty() {
                return Err(tls_err(format!(
                    "sslrootcert={path} holds no PEM certificate"
                )));
            }
            certs
        }
    };
    let check = match mode {
        SslMode::Disable | SslMode::Prefer => Check::Nothing,
        SslMode::Require if extra.is_empty() => Check::Nothing,
        SslMode::Require | SslMode::VerifyCa => Check::Chain,
        SslMode::VerifyFull => Check::Full,
    };
    config.ssl_mode(match mode {
        SslMode::Disable => tokio_postgres::config::SslMode::Disable,
        SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
        _ => tokio_postgres::config::SslMode::Require,
    });
    let provider = crate::tls::crypto_provider();
    let verifier: Arc<dyn ServerCertVerifier> = match check {
        Check::Nothing => Arc::new(Unverified(provider.clone())),
        Check::Chain | Check::Full => {
            let full =
                rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider.clone())
                    .map_err(|e| tls_err(format!("trusted roots: {e}")))?;
            if check == Check::Full {
                Arc::new(full)
            } else {
                Arc::new(AnyName(Arc::new(full)))
            }
        }
    };
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_err(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(PgTarget {
        config,
        mode,
        check,
        tls: MakeRustlsConnect::new(client),
    })
}

/// libpq's `prefer`/`require`: the channel is encrypted and the handshake
/// signatures are checked, but the certificate is not (anyone on the path
/// can present one). Chosen by the URL, never by default for verify modes.
#[derive(Debug)]
struct Unverified(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the full check, except that a certificate for another host
/// name is accepted. webpki checks the name only after the chain, so a
/// name error means the chain was good.
#[derive(Debug)]
struct AnyName(Arc<dyn ServerCertVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(url: &str) -> PgTarget {
        parse(url).unwrap_or_else(|e| panic!("{url}: {e}"))
    }

    #[test]
    fn modes_follow_libpq() {
        let t = target("postgres://u@db.example/hub");
        assert_eq!((t.mode, t.check), (SslMode::Prefer, Check::Nothing));
        assert_eq!(
            t.config.get_ssl_mode(),
            tokio_postgres::config::SslMode::Prefer
        );
        let t = target("postgres://u@db.example/hub?sslmode=disable");
        assert_eq!(
            t.config.get_ssl_mode(),
            tokio_postgres::config::SslMode::Disable
        );
        let t = target("postgres://u@db.example/hub?sslmode=require");
        assert_eq!((t.mode, t.check), (SslMode::Require, Check::Nothing));
        let t = target("postgres://u@db.example/hub?sslmode=verify-ca");
        assert_eq!(t.check, Check::Chain);
        assert_eq!(
            t.config.get_ssl_mode(),
            tokio_postgres::config::SslMode::Require
        );
        let t = target("postgres://u@db.example/hub?application_name=till&sslmode=verify-full");
        assert_eq!(t.check, Check::Full);
        assert_eq!(t.config.get_application_name(), Some("till"));
        let t = target("postgres://u@db.example/hub?sslrootcert=system");
        assert_eq!((t.mode, t.check), (SslMode::VerifyFull, Check::Full));
    }

    #[test]
    fn a_root_file_makes_require_check_the_chain() {
        let dir = tempfile::tempdir().unwrap();
        let ca = till_test_ca::TestCa::new("pg test CA");
        let path = ca.write_cert(&dir.path().join("root.crt"));
        let url = format!(
            "postgres://u@db.example/hub?sslmode=require&sslrootcert={}",
            path.display()
        );
        assert_eq!(target(&url).check, Check::Chain);
    }

    #[test]
    fn bad_parameters_are_refused_with_their_name() {
        for (url, want) in [
            ("postgres://u@h/d?sslmode=allow", "sslmode=allow"),
            ("postgres://u@h/d?sslmode=sometimes", "sslmode=sometimes"),
            (
                "postgres://u@h/d?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
                "sslrootcert=/nonexistent/ca.pem",
            ),
        ] {
            let err = parse(url).err().expect(url).to_string();
            assert!(err.contains(want), "{url}: {err}");
        }
    }
}
