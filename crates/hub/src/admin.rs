//! Administration: terminals, keys and read tokens. The CLI's `terminal …`
//! and `token …` commands and [`crate::HubHandle::admin`] call these.

use crate::store::{Revoked, Store, StoreError, TerminalStatus, TokenInfo};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use till_sync_proto::{
    generate_ed25519_keypair, generate_hmac_secret, valid_id, SigningKey, VerifyingKey,
};

/// Which key to register.
#[derive(Debug, Clone, Default)]
pub enum NewKey {
    /// Generate an ed25519 key pair: the hub keeps the `whpk_` public key
    /// and returns the `whsk_` private key once, for the terminal's
    /// `hub.signing_key`. The hub then holds no secret. The default.
    #[default]
    GenerateEd25519,
    /// Generate a fresh `whsec_` shared secret (returned once, to give the
    /// terminal's `hub.secret`). The hub must keep it too, sealed with its
    /// secret key.
    GenerateHmac,
    /// A key made elsewhere: normally the terminal's `whpk_` public key (its
    /// private key then never leaves the terminal).
    Existing(VerifyingKey),
}

/// A registered key.
#[derive(Debug, Clone)]
pub struct AddedKey {
    pub key_id: i64,
    /// The generated key the terminal signs with, for
    /// [`NewKey::GenerateEd25519`] (`whsk_`) and [`NewKey::GenerateHmac`]
    /// (`whsec_`): configure the terminal with it; the hub will not show it
    /// again.
    pub secret: Option<SigningKey>,
}

/// Administration failures.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("invalid terminal id {0:?}: use 1 to 128 characters of A-Z a-z 0-9 _ -")]
    InvalidId(String),
    #[error("terminal {0:?} is not registered")]
    UnknownTerminal(String),
    #[error("terminal {terminal:?} has no active key {key_id}")]
    NoSuchKey { terminal: String, key_id: i64 },
    #[error("terminal {0:?} has only one active key; rotate first")]
    LastKey(String),
    #[error("no read token has id {0}")]
    NoSuchToken(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The SHA-256 (hex) under which a read token is stored.
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Administration over a store.
#[derive(Clone)]
pub struct Admin {
    store: Arc<dyn Store>,
}

fn materialise(key: NewKey) -> (VerifyingKey, Option<SigningKey>) {
    match key {
        NewKey::GenerateEd25519 => {
            let pair = generate_ed25519_keypair();
            (pair.public, Some(pair.signing))
        }
        NewKey::GenerateHmac => {
            let secret = generate_hmac_secret();
            (secret.verifying_key(), Some(secret))
        }
        NewKey::Existing(k) => (k, None),
    }
}

impl Admin {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Admin { store }
    }

    /// Register a terminal with its first key.
    pub async fn add_terminal(
        &self,
        id: &str,
        name: Option<&str>,
        key: NewKey,
    ) -> Result<AddedKey, AdminError> {
        if !valid_id(id) {
            return Err(AdminError::InvalidId(id.to_string()));
        }
        let (verifying, secret) = materialise(key);
        let key_id = self.store.add_terminal(id, name, &verifying).await?;
        Ok(AddedKey { key_id, secret })
    }

    /// Add a key; the old ones stay valid until [`Admin::retire_key`].
    pub async fn rotate(&self, id: &str, key: NewKey) -> Result<AddedKey, AdminError> {
        let (verifying, secret) = materialise(key);
        let key_id = self
            .store
            .add_key(id, &verifying)
            .await
            .map_err(|e| match e {
                StoreError::UnknownTerminal(t) => AdminError::UnknownTerminal(t),
                e => e.into(),
            })?;
        Ok(AddedKey { key_id, secret })
    }

    /// Retire one key, or (with `None`) every active key but the newest.
    /// Returns the retired key ids.
    pub async fn retire_key(&self, id: &str, key_id: Option<i64>) -> Result<Vec<i64>, AdminError> {
        let t = self
            .store
            .terminal(id)
            .await?
            .ok_or_else(|| AdminError::UnknownTerminal(id.to_string()))?;
        let active: Vec<i64> = t
            .keys
            .iter()
            .filter(|k| k.active)
            .map(|k| k.key_id)
            .collect();
        let ids = match key_id {
            Some(k) if active.contains(&k) => vec![k],
            Some(k) => {
                return Err(AdminError::NoSuchKey {
                    terminal: id.to_string(),
                    key_id: k,
                })
            }
            None => {
                if active.len() < 2 {
                    return Err(AdminError::LastKey(id.to_string()));
                }
                active[..active.len() - 1].to_vec()
            }
        };
        self.store.retire_keys(id, &ids).await?;
        Ok(ids)
    }

    /// Refuse everything from this terminal from now on (410 Gone).
    pub async fn disable(&self, id: &str) -> Result<(), AdminError> {
        self.set_status(id, TerminalStatus::Disabled).await
    }

    /// Accept this terminal again.
    pub async fn enable(&self, id: &str) -> Result<(), AdminError> {
        self.set_status(id, TerminalStatus::Active).await
    }

    async fn set_status(&self, id: &str, status: TerminalStatus) -> Result<(), AdminError> {
        self.store
            .set_status(id, status)
            .await
            .map_err(|e| match e {
                StoreError::UnknownTerminal(t) => AdminError::UnknownTerminal(t),
                e => e.into(),
            })
    }

    /// Create a read-API bearer token; only its hash is stored.
    pub async fn add_token(&self, label: &str) -> Result<String, AdminError> {
        Ok(self.add_token_with_id(label).await?.1)
    }

    /// [`Admin::add_token`], also returning the token's id (for
    /// [`Admin::revoke_token`]).
    pub async fn add_token_with_id(&self, label: &str) -> Result<(i64, String), AdminError> {
        let raw: [u8; 24] = rand::random();
        let token = format!(
            "thr_{}",
            raw.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
        let id = self.store.add_token(&token_hash(&token), label).await?;
        Ok((id, token))
    }

    /// The stored read tokens (id, label, created, last used, revoked):
    /// never the tokens themselves.
    pub async fn tokens(&self) -> Result<Vec<TokenInfo>, AdminError> {
        Ok(self.store.tokens().await?)
    }

    /// Refuse a stored read token from the next request on (in every hub
    /// process on this database: tokens are looked up per request). Returns
    /// `Some(when)` if it had been revoked before.
    pub async fn revoke_token(&self, id: i64) -> Result<Option<DateTime<Utc>>, AdminError> {
        match self.store.revoke_token(id, Utc::now()).await? {
            Revoked::Now => Ok(None),
            Revoked::Already(at) => Ok(Some(at)),
            Revoked::NoSuchToken => Err(AdminError::NoSuchToken(id)),
        }
    }
}
