//! Where the bKash token outlives the process: the token in the OS keyring
//! (it is a credential), the token-call budget in the journal (it is a
//! count, and the journal is what every process on the data directory
//! shares), and `<data>/bkash-token.lock` so that two processes never renew
//! at the same moment. One merchant account and endpoint per record: a token
//! stored for another base URL or app key (the demo's sandbox, a changed
//! account) is not used.

use crate::journal::token_calls::TokenBudget;
use crate::journal::Journal;
use crate::secrets::{names, Secret, SharedSecrets};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use till_bkash::{StoredToken, TokenRecord, TokenStore, TokenStoreError};

pub const LOCK_FILE: &str = "bkash-token.lock";
const PROVIDER: &str = "bkash";

pub struct BkashTokenStore {
    pub journal: Arc<Mutex<Journal>>,
    pub secrets: SharedSecrets,
    pub lock_path: PathBuf,
    /// Which endpoint and account the token belongs to.
    pub account: String,
}

/// The keyring entry's text.
#[derive(Serialize, Deserialize)]
struct Saved {
    account: String,
    id_token: String,
    refresh_token: Option<String>,
    use_until_ms: i64,
}

fn ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn time(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64)
}

fn failed(
    action: &'static str,
) -> impl FnOnce(Box<dyn std::error::Error + Send + Sync>) -> TokenStoreError {
    move |source| TokenStoreError { action, source }
}

impl BkashTokenStore {
    fn journal(&self) -> Result<std::sync::MutexGuard<'_, Journal>, TokenStoreError> {
        self.journal
            .lock()
            .map_err(|_| failed("lock the journal")("poisoned".into()))
    }
}

impl TokenStore for BkashTokenStore {
    fn lock(&self) -> Result<Box<dyn Send>, TokenStoreError> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&self.lock_path)
            .map_err(|e| failed("open the token lock")(Box::new(e)))?;
        // Blocks while another process renews (at most one token call's time).
        file.lock()
            .map_err(|e| failed("take the token lock")(Box::new(e)))?;
        Ok(Box::new(file))
    }

    fn load(&self) -> Result<TokenRecord, TokenStoreError> {
        let now = ms(SystemTime::now());
        let budget = self
            .journal()?
            .token_budget(PROVIDER, now)
            .map_err(|e| failed("read the token calls")(Box::new(e)))?;
        let token = match self.secrets.get(names::BKASH_TOKEN) {
            Ok(Some(s)) => match serde_json::from_str::<Saved>(s.expose()) {
                Ok(saved) if saved.account == self.account => Some(StoredToken {
                    id_token: saved.id_token,
                    refresh_token: saved.refresh_token,
                    use_until: time(saved.use_until_ms),
                }),
                Ok(_) => None, // another endpoint's or account's token
                Err(e) => {
                    tracing::warn!(error = %e, "stored bKash token unreadable; ignored");
                    None
                }
            },
            Ok(None) => None,
            // The budget still counts: only the token stays in memory.
            Err(e) => {
                tracing::warn!(error = %e, "bKash token not readable from the keyring");
                None
            }
        };
        Ok(TokenRecord {
            token,
            calls: budget.calls_ms.into_iter().map(time).collect(),
            blocked_until: budget.blocked_until_ms.map(time),
        })
    }

    fn save(&self, record: &TokenRecord) -> Result<(), TokenStoreError> {
        let now = ms(SystemTime::now());
        // The budget first: it is what keeps the merchant from being blocked.
        self.journal()?
            .set_token_budget(
                PROVIDER,
                &TokenBudget {
                    calls_ms: record.calls.iter().copied().map(ms).collect(),
                    blocked_until_ms: record.blocked_until.map(ms),
                },
                now,
            )
            .map_err(|e| failed("write the token calls")(Box::new(e)))?;
        match &record.token {
            Some(t) => {
                let saved = Saved {
                    account: self.account.clone(),
                    id_token: t.id_token.clone(),
                    refresh_token: t.refresh_token.clone(),
                    use_until_ms: ms(t.use_until),
                };
                let text = serde_json::to_string(&saved)
                    .map_err(|e| failed("encode the token")(Box::new(e)))?;
                self.secrets
                    .set(names::BKASH_TOKEN, &Secret::new(text))
                    .map_err(|e| failed("store the token in the keyring")(Box::new(e)))
            }
            None => self
                .secrets
                .delete(names::BKASH_TOKEN)
                .map_err(|e| failed("remove the token from the keyring")(Box::new(e))),
        }
    }
}
