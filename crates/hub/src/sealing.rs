//! HMAC secrets at rest. A `whsec_` shared secret is stored only sealed
//! (XChaCha20-Poly1305, a random 24-byte nonce per secret, the terminal id as
//! associated data) under the hub's [`SecretKey`], which lives outside the
//! database: a file (`till-hub init` makes it, mode 0600) or an environment
//! variable. ed25519 public keys are not secret and are stored as they are.
//!
//! Stored form of a sealed secret (`terminal_keys.material`):
//! `sealed1:<key fingerprint, 16 hex>:<base64 of nonce ‖ ciphertext>`. The
//! fingerprint names the key that sealed it, so a wrong key is told apart
//! from damaged data.

use crate::store::StoreError;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::OnceLock;
use till_sync_proto::VerifyingKey;
use zeroize::Zeroizing;

/// Text prefix of a secret key (`thk_<base64 of 32 bytes>`).
pub const KEY_PREFIX: &str = "thk_";
const SEALED_PREFIX: &str = "sealed1:";
const AAD_PREFIX: &[u8] = b"till-hub terminal key\0";

/// Why a secret key could not be had, or did not fit the stored secrets.
#[derive(Debug, thiserror::Error)]
pub enum SecretKeyError {
    #[error(
        "the database holds HMAC secrets, stored encrypted, but the hub was given no secret \
         key to open them with"
    )]
    Missing,
    #[error(
        "an HMAC secret is stored encrypted, and the hub was given no secret key to do it with"
    )]
    MissingForNewSecret,
    #[error(
        "the hub's secret key (fingerprint {given}) is not the one the stored HMAC secrets \
         were sealed with (fingerprint {stored}): wrong key file?"
    )]
    WrongKey { given: String, stored: String },
    #[error(
        "the HMAC secret of key {key_id} does not open with the secret key {fingerprint}: \
         the stored value was changed or belongs to another terminal"
    )]
    Unsealable { key_id: i64, fingerprint: String },
    #[error("the stored HMAC secret of key {key_id} is not in a form this hub knows")]
    BadSealedForm { key_id: i64 },
    #[error(
        "{origin} does not hold a till-hub secret key (thk_ followed by the base64 of 32 bytes)"
    )]
    Malformed { origin: String },
    #[error("cannot read the secret key file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write the secret key file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The key HMAC secrets are sealed with. 32 random bytes; `Debug` shows only
/// its fingerprint.
#[derive(Clone)]
pub struct SecretKey {
    bytes: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey({})", self.fingerprint())
    }
}

impl FromStr for SecretKey {
    type Err = SecretKeyError;
    fn from_str(s: &str) -> Result<Self, SecretKeyError> {
        Self::parse(s, "the secret key text")
    }
}

impl SecretKey {
    /// A fresh key from the OS random generator.
    pub fn generate() -> Self {
        SecretKey {
            bytes: Zeroizing::new(rand::random()),
        }
    }

    /// One key per process, made on first use: for in-process hubs whose
    /// database does not outlive the process (tests on PostgreSQL, in-memory
    /// SQLite). Secrets sealed with it cannot be opened by another process.
    pub fn process_ephemeral() -> Self {
        static KEY: OnceLock<SecretKey> = OnceLock::new();
        KEY.get_or_init(SecretKey::generate).clone()
    }

    fn parse(text: &str, origin: &str) -> Result<Self, SecretKeyError> {
        let malformed = || SecretKeyError::Malformed {
            origin: origin.to_string(),
        };
        let b64 = text.trim().strip_prefix(KEY_PREFIX).ok_or_else(malformed)?;
        let raw = Zeroizing::new(B64.decode(b64).map_err(|_| malformed())?);
        let bytes: [u8; 32] = raw.as_slice().try_into().map_err(|_| malformed())?;
        Ok(SecretKey {
            bytes: Zeroizing::new(bytes),
        })
    }

    /// The key's text, `thk_…`: what the key file holds.
    pub fn to_text(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("{KEY_PREFIX}{}", B64.encode(self.bytes.as_slice())))
    }

    /// 16 hex digits naming this key (a hash of it; says nothing of the key).
    pub fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"till-hub secret key fingerprint\0");
        h.update(self.bytes.as_slice());
        h.finalize()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Read a key file (`thk_…`, surrounding whitespace ignored). Warns when
    /// others than the owner may read it.
    pub fn load(path: &Path) -> Result<Self, SecretKeyError> {
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|source| {
            SecretKeyError::Read {
                path: path.to_path_buf(),
                source,
            }
        })?);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if let Ok(meta) = std::fs::metadata(path) {
                if meta.permissions().mode() & 0o077 != 0 {
                    tracing::warn!(
                        path = %path.display(),
                        mode = %format!("{:o}", meta.permissions().mode() & 0o777),
                        "the secret key file can be read by others than its owner; chmod 600 it"
                    );
                }
            }
        }
        Self::parse(&text, &path.display().to_string())
    }

    /// Make a new key file (mode 0600; never overwrites one: an existing
    /// file is an error of kind `AlreadyExists`).
    pub fn create(path: &Path) -> Result<Self, SecretKeyError> {
        use std::io::Write;
        let key = SecretKey::generate();
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let write_err = |source| SecretKeyError::Write {
            path: path.to_path_buf(),
            source,
        };
        let mut file = opts.open(path).map_err(write_err)?;
        file.write_all(format!("{}\n", key.to_text().as_str()).as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(write_err)?;
        Ok(key)
    }

    /// [`SecretKey::load`] the file, or [`SecretKey::create`] it when there
    /// is none. Returns the key and whether it was made now.
    pub fn load_or_create(path: &Path) -> Result<(Self, bool), SecretKeyError> {
        match Self::create(path) {
            Ok(key) => Ok((key, true)),
            Err(SecretKeyError::Write { source, .. })
                if source.kind() == std::io::ErrorKind::AlreadyExists =>
            {
                Ok((Self::load(path)?, false))
            }
            Err(e) => Err(e),
        }
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(self.bytes.as_slice()))
    }

    /// Seal `plain` (a `whsec_` text) for `terminal`.
    pub(crate) fn seal(&self, terminal: &str, plain: &str) -> String {
        let nonce: [u8; 24] = rand::random();
        let aad = [AAD_PREFIX, terminal.as_bytes()].concat();
        let ct = self
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: &aad,
                },
            )
            .expect("XChaCha20-Poly1305 encryption of a short text cannot fail");
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&ct);
        format!("{SEALED_PREFIX}{}:{}", self.fingerprint(), B64.encode(blob))
    }

    /// Open a value made by [`SecretKey::seal`] for `terminal`.
    fn open(
        &self,
        key_id: i64,
        terminal: &str,
        fingerprint: &str,
        b64: &str,
    ) -> Result<Zeroizing<String>, SecretKeyError> {
        let mine = self.fingerprint();
        if fingerprint != mine {
            return Err(SecretKeyError::WrongKey {
                given: mine,
                stored: fingerprint.to_string(),
            });
        }
        let blob = B64
            .decode(b64)
            .map_err(|_| SecretKeyError::BadSealedForm { key_id })?;
        if blob.len() < 24 {
            return Err(SecretKeyError::BadSealedForm { key_id });
        }
        let (nonce, ct) = blob.split_at(24);
        let aad = [AAD_PREFIX, terminal.as_bytes()].concat();
        let plain = self
            .cipher()
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad: &aad })
            .map_err(|_| SecretKeyError::Unsealable {
                key_id,
                fingerprint: mine.clone(),
            })?;
        String::from_utf8(plain)
            .map(Zeroizing::new)
            .map_err(|_| SecretKeyError::BadSealedForm { key_id })
    }
}

/// Where an in-process hub gets its secret key ([`crate::HubConfig`]).
#[derive(Debug, Clone, Default)]
pub enum SecretKeySource {
    /// This key (what `till-hub` uses: `--secret-key-file`,
    /// `TILL_HUB_SECRET_KEY_FILE`, `TILL_HUB_SECRET_KEY`).
    Key(SecretKey),
    /// No key: an ed25519-only hub. HMAC secrets can be neither added nor
    /// used, and a database holding some is refused at open.
    None,
    /// For hubs started inside another program (tests, the desktop app's
    /// demo mode): a SQLite database file `F` keeps its key in the file
    /// `F.secret-key` beside it (made on first use, mode 0600); any other
    /// database gets [`SecretKey::process_ephemeral`].
    #[default]
    Auto,
}

impl SecretKeySource {
    /// The key for a database at `sqlite_file` (`None` for PostgreSQL and
    /// in-memory SQLite).
    pub(crate) fn resolve(
        &self,
        sqlite_file: Option<&Path>,
    ) -> Result<Option<SecretKey>, SecretKeyError> {
        Ok(match self {
            SecretKeySource::Key(k) => Some(k.clone()),
            SecretKeySource::None => None,
            SecretKeySource::Auto => Some(match sqlite_file {
                Some(db) => {
                    let mut path = db.as_os_str().to_owned();
                    path.push(".secret-key");
                    SecretKey::load_or_create(Path::new(&path))?.0
                }
                None => SecretKey::process_ephemeral(),
            }),
        })
    }
}

/// What a store writes in `terminal_keys.material` for `key`.
pub(crate) fn material_for(
    secret_key: Option<&SecretKey>,
    terminal: &str,
    key: &VerifyingKey,
) -> Result<String, SecretKeyError> {
    if key.is_public() {
        return Ok(key.to_text());
    }
    let sk = secret_key.ok_or(SecretKeyError::MissingForNewSecret)?;
    Ok(sk.seal(terminal, &key.to_text()))
}

/// A stored `material`, read back.
enum Stored<'a> {
    /// A public key, or a secret an older hub stored as it is.
    Plain(&'a str),
    /// A sealed secret.
    Sealed { fingerprint: &'a str, b64: &'a str },
}

fn classify(material: &str) -> Stored<'_> {
    match material
        .strip_prefix(SEALED_PREFIX)
        .and_then(|rest| rest.split_once(':'))
    {
        Some((fingerprint, b64)) => Stored::Sealed { fingerprint, b64 },
        None => Stored::Plain(material),
    }
}

/// The verifying key a stored `material` stands for.
pub(crate) fn key_from_material(
    secret_key: Option<&SecretKey>,
    key_id: i64,
    terminal: &str,
    material: &str,
) -> Result<VerifyingKey, StoreError> {
    let text = match classify(material) {
        Stored::Plain(t) => Zeroizing::new(t.to_string()),
        Stored::Sealed { fingerprint, b64 } => {
            let sk = secret_key.ok_or(SecretKeyError::Missing)?;
            sk.open(key_id, terminal, fingerprint, b64)?
        }
    };
    VerifyingKey::from_str(&text).map_err(|source| StoreError::BadKey { key_id, source })
}

/// One `terminal_keys` row as the open-time check reads it.
pub(crate) struct KeyRow {
    pub key_id: i64,
    pub terminal_id: String,
    pub kind: String,
    pub material: String,
}

/// The step at open: every sealed HMAC secret must open with the key (when
/// there is one: without a key they are left alone, and fail when used), and
/// those an older hub stored in plain text are returned sealed, to be
/// written back (without a key: [`SecretKeyError::Missing`]).
pub(crate) fn seal_plain(
    secret_key: Option<&SecretKey>,
    rows: &[KeyRow],
) -> Result<Vec<(i64, String)>, StoreError> {
    let mut reseal = Vec::new();
    for row in rows.iter().filter(|r| r.kind == "hmac") {
        let plain = matches!(classify(&row.material), Stored::Plain(_));
        let Some(sk) = secret_key else {
            if plain {
                return Err(SecretKeyError::Missing.into());
            }
            continue;
        };
        // Opens (or parses) it: a wrong key or a damaged value fails here.
        let key = key_from_material(Some(sk), row.key_id, &row.terminal_id, &row.material)?;
        if plain {
            reseal.push((row.key_id, material_for(Some(sk), &row.terminal_id, &key)?));
        }
    }
    Ok(reseal)
}

/// Every stored HMAC secret opens with the key (none without a key is
/// [`SecretKeyError::Missing`]): what a serving hub needs.
pub(crate) fn check_all(secret_key: Option<&SecretKey>, rows: &[KeyRow]) -> Result<(), StoreError> {
    for row in rows.iter().filter(|r| r.kind == "hmac") {
        key_from_material(secret_key, row.key_id, &row.terminal_id, &row.material)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use till_sync_proto::generate_hmac_secret;

    #[test]
    fn seal_round_trip_and_refusals() {
        let sk = SecretKey::generate();
        let secret = generate_hmac_secret().verifying_key();
        let m = material_for(Some(&sk), "t1", &secret).unwrap();
        assert!(m.starts_with("sealed1:") && !m.contains(&secret.to_text()[6..]));
        assert_eq!(key_from_material(Some(&sk), 1, "t1", &m).unwrap(), secret);
        // Sealed for another terminal: does not open.
        assert!(matches!(
            key_from_material(Some(&sk), 1, "t2", &m),
            Err(StoreError::SecretKey(SecretKeyError::Unsealable { .. }))
        ));
        // Another key: named as such.
        assert!(matches!(
            key_from_material(Some(&SecretKey::generate()), 1, "t1", &m),
            Err(StoreError::SecretKey(SecretKeyError::WrongKey { .. }))
        ));
        // No key at all.
        assert!(matches!(
            key_from_material(None, 1, "t1", &m),
            Err(StoreError::SecretKey(SecretKeyError::Missing))
        ));
        assert!(matches!(
            material_for(None, "t1", &secret),
            Err(SecretKeyError::MissingForNewSecret)
        ));
        // A flipped byte.
        let mut bad = m.clone().into_bytes();
        let last = bad.len() - 3;
        bad[last] = if bad[last] == b'A' { b'B' } else { b'A' };
        let bad = String::from_utf8(bad).unwrap();
        assert!(key_from_material(Some(&sk), 1, "t1", &bad).is_err());
        // Public keys are stored as they are and need no key.
        let pk = till_sync_proto::generate_ed25519_keypair().public;
        assert_eq!(material_for(None, "t1", &pk).unwrap(), pk.to_text());
        assert_eq!(key_from_material(None, 1, "t1", &pk.to_text()).unwrap(), pk);
    }

    #[test]
    fn key_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let made = SecretKey::create(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(SecretKey::create(&path).is_err(), "never overwritten");
        let (loaded, created) = SecretKey::load_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(loaded.fingerprint(), made.fingerprint());
        assert!(!format!("{made:?}").contains(&made.to_text()[4..]));
        std::fs::write(&path, "whsec_abc").unwrap();
        assert!(matches!(
            SecretKey::load(&path),
            Err(SecretKeyError::Malformed { .. })
        ));
        assert!(matches!(
            SecretKey::load(&dir.path().join("none")),
            Err(SecretKeyError::Read { .. })
        ));
    }
}
