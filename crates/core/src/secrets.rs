//! Secrets: provider credentials, the Bakong token, the hub signing key.
//!
//! They live in the OS keyring ([`KeyringStore`], Secret Service on Linux).
//! For headless runs, environment variables `TILL_SECRET_<NAME>` (e.g.
//! `TILL_SECRET_BKASH_APP_KEY`) may supply them; those are read, never
//! persisted ([`EnvOverlay`]). No secret is ever written to SQLite, a config
//! file or a log line; [`Secret`] prints as `***`.

use std::fmt;
use std::sync::Arc;

/// Names of the secrets Till uses.
pub mod names {
    pub const BKASH_USERNAME: &str = "bkash.username";
    pub const BKASH_PASSWORD: &str = "bkash.password";
    pub const BKASH_APP_KEY: &str = "bkash.app_key";
    pub const BKASH_APP_SECRET: &str = "bkash.app_secret";
    pub const BAKONG_TOKEN: &str = "bakong.token";
    /// The merchant's RSA private key (PEM) that signs what Till sends Nagad.
    pub const NAGAD_MERCHANT_KEY: &str = "nagad.merchant_key";
    /// Nagad's RSA public key (PEM) that seals what Till sends and checks Nagad's answers.
    pub const NAGAD_PUBLIC_KEY: &str = "nagad.public_key";
    pub const HUB_SECRET: &str = "hub.secret";
    pub const HUB_SIGNING_KEY: &str = "hub.signing_key";
    /// A read token of the hub's read API (reconciliation compares with the hub's totals).
    pub const HUB_READ_TOKEN: &str = "hub.read_token";
    pub const ALL: &[&str] = &[
        BKASH_USERNAME,
        BKASH_PASSWORD,
        BKASH_APP_KEY,
        BKASH_APP_SECRET,
        BAKONG_TOKEN,
        NAGAD_MERCHANT_KEY,
        NAGAD_PUBLIC_KEY,
        HUB_SECRET,
        HUB_SIGNING_KEY,
        HUB_READ_TOKEN,
    ];
    /// The current bKash token (JSON, with its expiry), shared by every
    /// process on the installation; written by Till, never by a person.
    pub const BKASH_TOKEN: &str = "bkash.token";
    /// Secrets that are PEM text (several lines): Settings offers a text area.
    pub const PEM: &[&str] = &[NAGAD_MERCHANT_KEY, NAGAD_PUBLIC_KEY];
    /// What Till keeps in the keyring itself (not in [`ALL`]: nobody sets these).
    pub const STATE: &[&str] = &[BKASH_TOKEN];
}

/// A secret value. `Debug`/`Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }
    /// The value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the OS keyring refused `{name}`: {message}")]
    Keyring { name: String, message: String },
    #[error("`{0}` is not a secret Till knows")]
    UnknownName(String),
    #[error("`{0}` comes from the environment and cannot be changed here")]
    FromEnvironment(String),
}

/// Where secrets are kept.
pub trait SecretStore: Send + Sync {
    fn get(&self, name: &str) -> Result<Option<Secret>, SecretError>;
    fn set(&self, name: &str, value: &Secret) -> Result<(), SecretError>;
    fn delete(&self, name: &str) -> Result<(), SecretError>;
}

pub type SharedSecrets = Arc<dyn SecretStore>;

fn check_name(name: &str) -> Result<(), SecretError> {
    if names::ALL.contains(&name) || names::STATE.contains(&name) {
        Ok(())
    } else {
        Err(SecretError::UnknownName(name.to_owned()))
    }
}

/// The OS keyring (Secret Service on Linux). Entries are keyed by service
/// (`till` by default, one per installation) and the secret's name.
pub struct KeyringStore {
    service: String,
}

impl KeyringStore {
    pub fn new(service: impl Into<String>) -> KeyringStore {
        KeyringStore {
            service: service.into(),
        }
    }

    fn entry(&self, name: &str) -> Result<keyring::Entry, SecretError> {
        keyring::Entry::new(&self.service, name).map_err(|e| SecretError::Keyring {
            name: name.to_owned(),
            message: e.to_string(),
        })
    }
}

impl SecretStore for KeyringStore {
    fn get(&self, name: &str) -> Result<Option<Secret>, SecretError> {
        check_name(name)?;
        match self.entry(name)?.get_password() {
            Ok(v) => Ok(Some(Secret(v))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(SecretError::Keyring {
                name: name.to_owned(),
                message: e.to_string(),
            }),
        }
    }

    fn set(&self, name: &str, value: &Secret) -> Result<(), SecretError> {
        check_name(name)?;
        self.entry(name)?
            .set_password(value.expose())
            .map_err(|e| SecretError::Keyring {
                name: name.to_owned(),
                message: e.to_string(),
            })
    }

    fn delete(&self, name: &str) -> Result<(), SecretError> {
        check_name(name)?;
        match self.entry(name)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(SecretError::Keyring {
                name: name.to_owned(),
                message: e.to_string(),
            }),
        }
    }
}

/// Environment variable that supplies a secret: `bkash.app_key` → `TILL_SECRET_BKASH_APP_KEY`.
pub fn env_name(name: &str) -> String {
    format!(
        "TILL_SECRET_{}",
        name.replace('.', "_").to_ascii_uppercase()
    )
}

/// Environment values first (read only), then the inner store.
pub struct EnvOverlay<S> {
    inner: S,
}

impl<S: SecretStore> EnvOverlay<S> {
    pub fn new(inner: S) -> Self {
        EnvOverlay { inner }
    }
}

impl<S: SecretStore> SecretStore for EnvOverlay<S> {
    fn get(&self, name: &str) -> Result<Option<Secret>, SecretError> {
        check_name(name)?;
        match std::env::var(env_name(name)) {
            Ok(v) if !v.is_empty() => Ok(Some(Secret(v))),
            _ => self.inner.get(name),
        }
    }

    fn set(&self, name: &str, value: &Secret) -> Result<(), SecretError> {
        if std::env::var_os(env_name(name)).is_some() {
            return Err(SecretError::FromEnvironment(name.to_owned()));
        }
        self.inner.set(name, value)
    }

    fn delete(&self, name: &str) -> Result<(), SecretError> {
        self.inner.delete(name)
    }
}

/// Values this process holds for itself (the demo sandbox's credentials and
/// the demo hub's key), read-only and never persisted, over the inner store.
///
/// A name given `None` answers "not set" without asking the inner store.
pub struct SessionOverlay {
    values: std::collections::HashMap<String, Option<Secret>>,
    inner: SharedSecrets,
}

impl SessionOverlay {
    pub fn new(
        inner: SharedSecrets,
        values: impl IntoIterator<Item = (String, Option<Secret>)>,
    ) -> Self {
        SessionOverlay {
            values: values.into_iter().collect(),
            inner,
        }
    }
}

impl SecretStore for SessionOverlay {
    fn get(&self, name: &str) -> Result<Option<Secret>, SecretError> {
        check_name(name)?;
        match self.values.get(name) {
            Some(v) => Ok(v.clone()),
            None => self.inner.get(name),
        }
    }

    fn set(&self, name: &str, value: &Secret) -> Result<(), SecretError> {
        if self.values.contains_key(name) {
            // A renewed demo token: keep using what the demo gave us.
            return Ok(());
        }
        self.inner.set(name, value)
    }

    fn delete(&self, name: &str) -> Result<(), SecretError> {
        self.inner.delete(name)
    }
}

/// Secrets in this process's memory only, never persisted: tests (here and
/// in other crates' test rigs, which then need no keyring).
#[derive(Default)]
pub struct MemoryStore(std::sync::Mutex<std::collections::HashMap<String, String>>);

impl SecretStore for MemoryStore {
    fn get(&self, name: &str) -> Result<Option<Secret>, SecretError> {
        check_name(name)?;
        Ok(self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(name)
            .cloned()
            .map(Secret))
    }
    fn set(&self, name: &str, value: &Secret) -> Result<(), SecretError> {
        check_name(name)?;
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(name.into(), value.expose().into());
        Ok(())
    }
    fn delete(&self, name: &str) -> Result<(), SecretError> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(name);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "*** Secret(***)");
    }

    #[test]
    fn session_overlay_shadows_and_never_writes_through() {
        let inner: SharedSecrets = Arc::new(MemoryStore::default());
        inner
            .set(names::BKASH_APP_KEY, &Secret::new("real"))
            .unwrap();
        let store = SessionOverlay::new(
            inner.clone(),
            [
                (names::BKASH_APP_KEY.to_string(), Some(Secret::new("demo"))),
                (names::HUB_SIGNING_KEY.to_string(), None),
            ],
        );
        inner
            .set(names::HUB_SIGNING_KEY, &Secret::new("hidden"))
            .unwrap();
        assert_eq!(store.get(names::HUB_SIGNING_KEY).unwrap(), None);
        assert_eq!(
            store.get(names::BKASH_APP_KEY).unwrap().unwrap().expose(),
            "demo"
        );
        store.set(names::BKASH_APP_KEY, &Secret::new("x")).unwrap();
        assert_eq!(
            inner.get(names::BKASH_APP_KEY).unwrap().unwrap().expose(),
            "real"
        );
        store.set(names::HUB_SECRET, &Secret::new("h")).unwrap();
        assert_eq!(inner.get(names::HUB_SECRET).unwrap().unwrap().expose(), "h");
    }

    #[test]
    fn env_overlay_reads_env_first_and_refuses_to_overwrite_it() {
        let var = env_name(names::HUB_SECRET);
        assert_eq!(var, "TILL_SECRET_HUB_SECRET");
        let store = EnvOverlay::new(MemoryStore::default());
        store
            .set(names::HUB_SECRET, &Secret::new("from-store"))
            .unwrap();
        assert_eq!(
            store.get(names::HUB_SECRET).unwrap().unwrap().expose(),
            "from-store"
        );
        // SAFETY: this unit test is the only reader/writer of this variable.
        unsafe { std::env::set_var(&var, "from-env") };
        assert_eq!(
            store.get(names::HUB_SECRET).unwrap().unwrap().expose(),
            "from-env"
        );
        assert!(matches!(
            store.set(names::HUB_SECRET, &Secret::new("x")),
            Err(SecretError::FromEnvironment(_))
        ));
        unsafe { std::env::remove_var(&var) };
        assert!(matches!(
            store.get("nope"),
            Err(SecretError::UnknownName(_))
        ));
    }
}
