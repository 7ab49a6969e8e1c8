//! A throwaway certificate authority for tests: [`TestCa::new`] makes a CA
//! (ECDSA P-256, made fresh each time, never written anywhere but where the
//! test asks), [`TestCa::issue`] a server certificate it signs.
//!
//! Tests give a server the leaf ([`ServerCert`]) and a client the CA's PEM
//! (for Till: the `[tls] extra_roots` file). A second `TestCa` is a CA nobody
//! trusts, for the refusal tests.
//!
//! ```
//! let ca = till_test_ca::TestCa::new("till test CA");
//! let leaf = ca.issue(&["127.0.0.1", "localhost"]);
//! assert!(ca.cert_pem().contains("BEGIN CERTIFICATE"));
//! assert!(leaf.key_pem.contains("PRIVATE KEY"));
//! ```
//!
//! # Invariants
//!
//! - For tests only: never a dependency of a shipped binary's normal build.

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use std::path::{Path, PathBuf};

/// A CA that signs server certificates.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A server certificate and its key, PEM.
#[derive(Clone, Debug)]
pub struct ServerCert {
    /// The leaf certificate (the CA is not included: clients must know it).
    pub cert_pem: String,
    /// PKCS#8 private key.
    pub key_pem: String,
}

/// Paths of a [`ServerCert`] written to disk (see [`ServerCert::write`]).
#[derive(Clone, Debug)]
pub struct CertFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TestCa {
    /// A fresh CA with `name` as its common name.
    pub fn new(name: &str) -> TestCa {
        let key = KeyPair::generate().expect("generate the CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.distinguished_name.push(DnType::CommonName, name);
        params
            .distinguished_name
            .push(DnType::OrganizationName, "Till tests (throwaway)");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let issuer = CertifiedIssuer::self_signed(params, key).expect("self-sign the CA");
        TestCa { issuer }
    }

    /// The CA certificate, PEM: what a client adds to its trusted roots.
    pub fn cert_pem(&self) -> String {
        self.issuer.pem()
    }

    /// Writes the CA certificate to `path` and returns the path.
    pub fn write_cert(&self, path: &Path) -> PathBuf {
        std::fs::write(path, self.cert_pem()).expect("write the CA certificate");
        path.to_owned()
    }

    /// A server certificate for `names` (IP addresses become IP SANs, the
    /// rest DNS names).
    pub fn issue(&self, names: &[&str]) -> ServerCert {
        let key = KeyPair::generate().expect("generate the server key");
        let sans: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(sans).expect("server certificate parameters");
        params.distinguished_name.push(
            DnType::CommonName,
            names.first().copied().unwrap_or("server"),
        );
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("sign the server certificate");
        ServerCert {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }

    /// A certificate for loopback: `127.0.0.1`, `::1` and `localhost`.
    pub fn issue_loopback(&self) -> ServerCert {
        self.issue(&["127.0.0.1", "::1", "localhost"])
    }
}

impl ServerCert {
    /// Writes `<stem>.crt` and `<stem>.key` into `dir`.
    pub fn write(&self, dir: &Path, stem: &str) -> CertFiles {
        let files = CertFiles {
            cert: dir.join(format!("{stem}.crt")),
            key: dir.join(format!("{stem}.key")),
        };
        std::fs::write(&files.cert, &self.cert_pem).expect("write the server certificate");
        std::fs::write(&files.key, &self.key_pem).expect("write the server key");
        files
    }
}
