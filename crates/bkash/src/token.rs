//! The token cache: one per client (= per terminal, since bKash's limit is per
//! merchant account). Grants on first use, refreshes `refresh_margin` before
//! expiry with the refresh token (falling back to a new grant), renews once
//! after a token-invalid answer, and never makes more token calls (grant +
//! refresh together, spec §5 `[I]`) than `max_grants_per_hour` in any sliding
//! hour: when the budget is spent it answers [`BkashError::Auth`] without
//! calling. Concurrent callers share one in-flight grant: the tokio mutex is
//! held across the HTTP call.
//!
//! bKash's limit counts calls per merchant account, not per process: the app
//! and every `till` command on one data directory, and every restart, would
//! each grant anew. So the token, its expiry and the calls of the last hour
//! live in a [`TokenStore`] that outlives the process. Before renewing, the
//! cache takes the store's cross-process lock and reads it again: the token
//! another process renewed a moment ago is used, not renewed once more.

use crate::client::{Inner, TokenFail};
use crate::error::BkashError;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const HOUR: Duration = Duration::from_secs(3600);

/// A granted token, as kept in a [`TokenStore`].
#[derive(Clone, PartialEq, Eq)]
pub struct StoredToken {
    pub id_token: String,
    pub refresh_token: Option<String>,
    /// Wall-clock time after which it is no longer used (expiry minus margin).
    pub use_until: SystemTime,
}

impl fmt::Debug for StoredToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredToken")
            .field("id_token", &"***")
            .field("use_until", &self.use_until)
            .finish_non_exhaustive()
    }
}

/// What outlives one process: the current token and the token-call budget.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TokenRecord {
    pub token: Option<StoredToken>,
    /// Token calls (grant or refresh) that may have reached bKash, oldest first.
    pub calls: Vec<SystemTime>,
    /// bKash answered 429 to a token call: no token call before this.
    pub blocked_until: Option<SystemTime>,
}

/// A store failed; the cache goes on with what it holds in memory.
#[derive(Debug, thiserror::Error)]
#[error("bKash token store: cannot {action}")]
pub struct TokenStoreError {
    pub action: &'static str,
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

/// Where a [`TokenRecord`] lives between processes (the terminal: token in the
/// OS keyring, calls in the journal, a lock file beside them). Calls block;
/// the cache makes them off the async runtime's worker threads.
pub trait TokenStore: Send + Sync {
    /// Waits until no other process renews this merchant's token; the guard
    /// holds that until dropped.
    fn lock(&self) -> Result<Box<dyn Send>, TokenStoreError>;
    fn load(&self) -> Result<TokenRecord, TokenStoreError>;
    fn save(&self, record: &TokenRecord) -> Result<(), TokenStoreError>;
}

/// A store that lives as long as the process (the default): clients that
/// share one share their token.
#[derive(Default)]
pub struct MemoryTokenStore {
    record: Mutex<TokenRecord>,
}

impl TokenStore for MemoryTokenStore {
    fn lock(&self) -> Result<Box<dyn Send>, TokenStoreError> {
        // One process: the cache's own mutex already serialises renewals.
        Ok(Box::new(()))
    }
    fn load(&self) -> Result<TokenRecord, TokenStoreError> {
        Ok(self.record.lock().map(|r| r.clone()).unwrap_or_default())
    }
    fn save(&self, record: &TokenRecord) -> Result<(), TokenStoreError> {
        if let Ok(mut r) = self.record.lock() {
            *r = record.clone();
        }
        Ok(())
    }
}

/// Now, to the millisecond: the precision stores keep, so a call made here
/// and the same call read back from a store compare equal (and are counted
/// once when the two are merged).
fn now_ms() -> SystemTime {
    to_ms(SystemTime::now())
}

fn to_ms(t: SystemTime) -> SystemTime {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    UNIX_EPOCH + Duration::from_millis(since.as_millis() as u64)
}

fn elapsed(since: SystemTime, now: SystemTime) -> Duration {
    // A clock set back counts as no time passed (the call stays in the hour).
    now.duration_since(since).unwrap_or(Duration::ZERO)
}

/// The sliding-hour budget of token calls.
pub(crate) struct Budget {
    log: VecDeque<SystemTime>,
    max: u32,
    /// bKash answered 429 to a token call: no token call before this.
    blocked_until: Option<SystemTime>,
}

impl Budget {
    /// Take one token call from the budget, or refuse.
    pub fn spend(&mut self, calls: &AtomicU32) -> Result<(), BkashError> {
        let now = now_ms();
        if let Some(until) = self.blocked_until.filter(|u| now < *u) {
            return Err(BkashError::Auth {
                message: format!(
                    "bKash blocked token calls for this merchant; next token call possible in {} min",
                    elapsed(now, until).as_secs().div_ceil(60)
                ),
            });
        }
        self.forget_old(now);
        if self.log.len() as u32 >= self.max {
            let wait = self
                .log
                .front()
                .map(|t| HOUR.saturating_sub(elapsed(*t, now)))
                .unwrap_or(HOUR);
            return Err(BkashError::Auth {
                message: format!(
                    "token-call budget spent ({} per hour, bKash blocks the merchant beyond its limit); next token call possible in {} min",
                    self.max,
                    wait.as_secs().div_ceil(60)
                ),
            });
        }
        self.log.push_back(now);
        calls.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn forget_old(&mut self, now: SystemTime) {
        while self.log.front().is_some_and(|t| elapsed(*t, now) >= HOUR) {
            self.log.pop_front();
        }
    }

    /// No token call for `pause` (bKash blocked the merchant).
    pub fn block(&mut self, pause: Duration) {
        self.blocked_until = Some(SystemTime::now() + pause);
    }

    /// Give back the last call: it provably never left (connection refused).
    pub fn refund(&mut self, calls: &AtomicU32) {
        if self.log.pop_back().is_some() {
            calls.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Adds the calls other processes recorded (the union, by time).
    fn merge(&mut self, stored: &TokenRecord) {
        let mut all: Vec<SystemTime> = self
            .log
            .iter()
            .chain(stored.calls.iter())
            .map(|t| to_ms(*t))
            .collect();
        all.sort();
        all.dedup();
        self.log = all.into();
        self.forget_old(SystemTime::now());
        self.blocked_until = self.blocked_until.max(stored.blocked_until);
    }
}

fn usable(t: &StoredToken) -> bool {
    SystemTime::now() < t.use_until
}

struct State {
    token: Option<StoredToken>,
    budget: Budget,
}

pub(crate) struct TokenCache {
    state: tokio::sync::Mutex<State>,
    store: Arc<dyn TokenStore>,
    calls: AtomicU32,
}

impl TokenCache {
    pub fn new(max_per_hour: u32, store: Arc<dyn TokenStore>) -> TokenCache {
        TokenCache {
            state: tokio::sync::Mutex::new(State {
                token: None,
                budget: Budget {
                    log: VecDeque::new(),
                    max: max_per_hour,
                    blocked_until: None,
                },
            }),
            store,
            calls: AtomicU32::new(0),
        }
    }

    /// Token calls sent so far by this client (grant + refresh attempts that left).
    pub fn calls(&self) -> u32 {
        self.calls.load(Ordering::Relaxed)
    }

    /// A usable `id_token`: the one in memory, the one another process
    /// stored, or a refreshed or new one.
    pub async fn get(&self, c: &Inner) -> Result<String, BkashError> {
        self.current(c).await.map(|t| t.id_token)
    }

    /// [`Self::get`] with the token's use-until time (what a lender lends).
    pub async fn current(&self, c: &Inner) -> Result<StoredToken, BkashError> {
        let mut st = self.state.lock().await;
        if let Some(t) = st.token.as_ref().filter(|t| usable(t)) {
            return Ok(t.clone());
        }
        self.renew_shared(&mut st, c, Want::Usable { stale: None })
            .await?;
        st.token.clone().ok_or_else(|| BkashError::Auth {
            message: "no token after a renewal".into(),
        })
    }

    /// bKash refused `stale`: renew once (unless another caller, in this
    /// process or another, already did).
    pub async fn renew_after_reject(&self, c: &Inner, stale: &str) -> Result<String, BkashError> {
        let mut st = self.state.lock().await;
        if let Some(t) = st
            .token
            .as_ref()
            .filter(|t| t.id_token != stale && usable(t))
        {
            return Ok(t.id_token.clone());
        }
        self.renew_shared(&mut st, c, Want::Usable { stale: Some(stale) })
            .await
    }

    /// Under the store's lock: adopt what the store holds if it is newer and
    /// usable, else renew, and record the outcome (the calls made, even when
    /// the renewal failed). A store that fails is logged and bypassed: the
    /// in-memory budget still holds, and a payment never waits on a keyring.
    async fn renew_shared(
        &self,
        st: &mut State,
        c: &Inner,
        want: Want<'_>,
    ) -> Result<String, BkashError> {
        let guard = match self.blocking(|s| s.lock()).await {
            Ok(g) => Some(g),
            Err(e) => {
                tracing::warn!(error = %e, "bkash token store unavailable; renewing on this process's own");
                None
            }
        };
        let stored = match self.blocking(|s| s.load()).await {
            Ok(r) => Some(r),
            Err(e) => {
                tracing::warn!(error = %e, "bkash token store unreadable");
                None
            }
        };
        let stale = match want {
            Want::Usable { stale } => stale,
            Want::NewGrant => None,
        };
        if let Some(rec) = &stored {
            st.budget.merge(rec);
            if let (Some(t), Want::Usable { .. }) = (&rec.token, want) {
                let refused = stale == Some(t.id_token.as_str());
                if !refused && usable(t) {
                    st.token = Some(t.clone());
                    tracing::debug!("bkash token taken from the store");
                    return Ok(t.id_token.clone());
                }
                // Expired or refused, its refresh token may still serve.
                if st.token.is_none() || refused {
                    st.token = Some(t.clone());
                }
            }
        }
        let result = match want {
            Want::Usable { .. } => self.renew(st, c).await,
            Want::NewGrant => self.grant(st, c).await,
        };
        let record = TokenRecord {
            token: st.token.clone(),
            calls: st.budget.log.iter().copied().collect(),
            blocked_until: st.budget.blocked_until,
        };
        if let Err(e) = self.blocking(move |s| s.save(&record)).await {
            tracing::warn!(error = %e, "bkash token not stored; other processes will renew their own");
        }
        drop(guard);
        result
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn TokenStore) -> Result<T, TokenStoreError> + Send + 'static,
    ) -> Result<T, TokenStoreError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(&*store))
            .await
            .map_err(|e| TokenStoreError {
                action: "run",
                source: Box::new(e),
            })?
    }

    async fn renew(&self, st: &mut State, c: &Inner) -> Result<String, BkashError> {
        if let Some(rt) = st.token.as_ref().and_then(|t| t.refresh_token.clone()) {
            match c.token_call(Some(&rt), &mut st.budget, &self.calls).await {
                Ok(mut t) => {
                    if t.refresh_token.is_none() {
                        t.refresh_token = Some(rt);
                    }
                    let id = t.id_token.clone();
                    st.token = Some(t);
                    tracing::info!("bkash token refreshed");
                    return Ok(id);
                }
                // Refresh refused: fall back to a new grant (which checks the budget itself).
                Err(TokenFail { refused: true, .. }) => {
                    tracing::warn!("bkash refresh refused; granting a new token");
                    st.token = None;
                }
                Err(TokenFail { err, .. }) => return Err(err),
            }
        }
        self.grant(st, c).await
    }

    async fn grant(&self, st: &mut State, c: &Inner) -> Result<String, BkashError> {
        let t = c
            .token_call(None, &mut st.budget, &self.calls)
            .await
            .map_err(|f| f.err)?;
        let id = t.id_token.clone();
        st.token = Some(t);
        tracing::info!("bkash token granted");
        Ok(id)
    }

    /// A token grant now, whatever token is held: what proves the credentials
    /// (a stored token or a refresh would not). Counted in the budget like
    /// any token call; when only the hour's last call is left (kept for
    /// payments) nothing is sent and the wait is said. The new token replaces the held one, so the call is not lost.
    pub async fn grant_now(&self, c: &Inner) -> Result<GrantTest, BkashError> {
        let mut st = self.state.lock().await;
        if let Some(next_in) = self.budget_wait(&mut st).await {
            return Ok(GrantTest::BudgetSpent {
                next_in,
                max_per_hour: st.budget.max,
            });
        }
        self.renew_shared(&mut st, c, Want::NewGrant).await?;
        Ok(GrantTest::Granted {
            calls_this_hour: st.budget.log.len() as u32,
            max_per_hour: st.budget.max,
        })
    }

    /// How long until a test may make a token call, counting the calls other
    /// processes stored; `None` when it may now. A test never takes the
    /// hour's last call: that one is kept for payments (a token that expires
    /// must be renewable, or bKash is down for the shop until the hour ends).
    async fn budget_wait(&self, st: &mut State) -> Option<Duration> {
        if let Ok(rec) = self.blocking(|s| s.load()).await {
            st.budget.merge(&rec);
        }
        let now = now_ms();
        if let Some(until) = st.budget.blocked_until.filter(|u| now < *u) {
            return Some(elapsed(now, until));
        }
        st.budget.forget_old(now);
        let reserve = u32::from(st.budget.max >= 2);
        let used = st.budget.log.len() as u32;
        (used + reserve >= st.budget.max).then(|| {
            // The call whose leaving the hour frees one for a test.
            let k = (used + reserve - st.budget.max) as usize;
            st.budget
                .log
                .get(k)
                .map(|t| HOUR.saturating_sub(elapsed(*t, now)))
                .unwrap_or(HOUR)
        })
    }
}

/// What [`TokenCache::renew_shared`] is after.
#[derive(Clone, Copy)]
enum Want<'a> {
    /// Any usable token: the store's, a refresh, or a grant. `stale` is one
    /// bKash just refused.
    Usable { stale: Option<&'a str> },
    /// A grant, whatever is held (a connection test).
    NewGrant,
}

/// The outcome of a test grant ([`crate::BkashClient::test_grant`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GrantTest {
    /// bKash granted a token with the stored credentials.
    Granted {
        /// Token calls of the last hour, this one included.
        calls_this_hour: u32,
        max_per_hour: u32,
    },
    /// Not sent: the hour's token calls are spent but the one kept for
    /// payments (or bKash blocked them).
    BudgetSpent {
        next_in: Duration,
        max_per_hour: u32,
    },
    /// The token is lent by the shop's hub: the lender answered.
    Borrowed,
}

// ------------------------------------------------------------ lent tokens

/// A token lent by whoever holds the merchant's credentials (the shop's hub),
/// with the app key that goes with it on every business call. No refresh
/// token: only the lender renews.
#[derive(Clone, PartialEq, Eq)]
pub struct LentToken {
    pub id_token: String,
    /// bKash's `X-APP-Key` for business calls.
    pub app_key: String,
    /// Wall-clock time after which it is not used (ask the lender again).
    pub use_until: SystemTime,
}

impl fmt::Debug for LentToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LentToken")
            .field("id_token", &"***")
            .field("app_key", &"***")
            .field("use_until", &self.use_until)
            .finish()
    }
}

/// What [`TokenLender::lend`] returns.
pub type LendFuture<'a> = Pin<Box<dyn Future<Output = Result<LentToken, BkashError>> + Send + 'a>>;

/// Someone who holds the merchant's credentials and lends its current token
/// (the terminal's side: a signed request to the shop's hub). One lender for
/// every till of a merchant account keeps the whole shop within bKash's two
/// token calls an hour.
pub trait TokenLender: Send + Sync {
    /// The lender's current token. `refused` is the token bKash just refused
    /// to us: the lender renews only if its current token is that one (it
    /// may have renewed already, for another till).
    fn lend<'a>(&'a self, refused: Option<&'a str>) -> LendFuture<'a>;
}

/// How a token is named between a borrower and its lender: the first 16
/// bytes of its SHA-256, hex. Says which token was refused without sending it.
pub fn token_fingerprint(id_token: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(id_token.as_bytes())[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The borrower's cache: the lent token until its use-until time, then the
/// lender again. Concurrent callers share one request to the lender.
pub(crate) struct LentCache {
    lender: Arc<dyn TokenLender>,
    current: tokio::sync::Mutex<Option<LentToken>>,
    /// Requests to the lender (for tests and the manager's screen).
    asked: AtomicU32,
}

impl LentCache {
    pub fn new(lender: Arc<dyn TokenLender>) -> LentCache {
        LentCache {
            lender,
            current: tokio::sync::Mutex::new(None),
            asked: AtomicU32::new(0),
        }
    }

    pub fn asked(&self) -> u32 {
        self.asked.load(Ordering::Relaxed)
    }

    pub async fn get(&self) -> Result<LentToken, BkashError> {
        let mut cur = self.current.lock().await;
        if let Some(t) = cur.as_ref().filter(|t| SystemTime::now() < t.use_until) {
            return Ok(t.clone());
        }
        self.ask(&mut cur, None).await
    }

    /// bKash refused `stale`: ask the lender once (unless another caller
    /// already got a newer token).
    pub async fn renew_after_reject(&self, stale: &str) -> Result<LentToken, BkashError> {
        let mut cur = self.current.lock().await;
        if let Some(t) = cur
            .as_ref()
            .filter(|t| t.id_token != stale && SystemTime::now() < t.use_until)
        {
            return Ok(t.clone());
        }
        self.ask(&mut cur, Some(stale)).await
    }

    async fn ask(
        &self,
        cur: &mut Option<LentToken>,
        refused: Option<&str>,
    ) -> Result<LentToken, BkashError> {
        self.asked.fetch_add(1, Ordering::Relaxed);
        match self.lender.lend(refused).await {
            Ok(t) => {
                tracing::debug!(renewal = refused.is_some(), "bkash token lent");
                *cur = Some(t.clone());
                Ok(t)
            }
            Err(e) => {
                // A refused token is not offered again.
                if refused.is_some() {
                    *cur = None;
                }
                Err(e)
            }
        }
    }
}
