//! The token cache: one per client (= per terminal, since bKash's limit is per
//! merchant account). Grants on first use, refreshes `refresh_margin` before
//! expiry with the refresh token (falling back to a new grant), renews once
//! after a token-invalid answer, and never makes more token calls (grant +
//! refresh together, spec §5 `[I]`) than `max_grants_per_hour` in any sliding
//! hour: when the budget is spent it answers [`BkashError::Auth`] without
//! calling. Concurrent callers share one in-flight grant: the tokio mutex is
//! held across the HTTP call.

use crate::client::{Inner, TokenFail};
use crate::error::BkashError;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

const HOUR: Duration = Duration::from_secs(3600);

/// A granted token.
pub(crate) struct Token {
    pub id_token: String,
    pub refresh_token: Option<String>,
    /// Local instant after which we no longer use it (expiry minus margin).
    pub use_until: Instant,
}

/// The sliding-hour budget of token calls.
pub(crate) struct Budget {
    log: VecDeque<Instant>,
    max: u32,
    /// bKash answered 429 to a token call: no token call before this.
    blocked_until: Option<Instant>,
}

impl Budget {
    /// Take one token call from the budget, or refuse.
    pub fn spend(&mut self, calls: &AtomicU32) -> Result<(), BkashError> {
        let now = Instant::now();
        if let Some(until) = self.blocked_until.filter(|u| now < *u) {
            return Err(BkashError::Auth {
                message: format!(
                    "bKash blocked token calls for this merchant; next token call possible in {} min",
                    until.duration_since(now).as_secs().div_ceil(60)
                ),
            });
        }
        while self
            .log
            .front()
            .is_some_and(|t| now.duration_since(*t) >= HOUR)
        {
            self.log.pop_front();
        }
        if self.log.len() as u32 >= self.max {
            let wait = self
                .log
                .front()
                .map(|t| HOUR.saturating_sub(now.duration_since(*t)))
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

    /// No token call for `pause` (bKash blocked the merchant).
    pub fn block(&mut self, pause: Duration) {
        self.blocked_until = Some(Instant::now() + pause);
    }

    /// Give back the last call: it provably never left (connection refused).
    pub fn refund(&mut self, calls: &AtomicU32) {
        if self.log.pop_back().is_some() {
            calls.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

struct State {
    token: Option<Token>,
    budget: Budget,
}

pub(crate) struct TokenCache {
    state: tokio::sync::Mutex<State>,
    calls: AtomicU32,
}

impl TokenCache {
    pub fn new(max_per_hour: u32) -> TokenCache {
        TokenCache {
            state: tokio::sync::Mutex::new(State {
                token: None,
                budget: Budget {
                    log: VecDeque::new(),
                    max: max_per_hour,
                    blocked_until: None,
                },
            }),
            calls: AtomicU32::new(0),
        }
    }

    /// Token calls sent so far (grant + refresh attempts that left).
    pub fn calls(&self) -> u32 {
        self.calls.load(Ordering::Relaxed)
    }

    /// A usable `id_token`, granting or refreshing when needed.
    pub async fn get(&self, c: &Inner) -> Result<String, BkashError> {
        let mut st = self.state.lock().await;
        if let Some(t) = &st.token {
            if Instant::now() < t.use_until {
                return Ok(t.id_token.clone());
            }
        }
        self.renew(&mut st, c).await
    }

    /// bKash refused `stale`: renew once (unless another caller already did).
    pub async fn renew_after_reject(&self, c: &Inner, stale: &str) -> Result<String, BkashError> {
        let mut st = self.state.lock().await;
        if let Some(t) = &st.token {
            if t.id_token != stale && Instant::now() < t.use_until {
                return Ok(t.id_token.clone());
            }
        }
        self.renew(&mut st, c).await
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
        let t = c
            .token_call(None, &mut st.budget, &self.calls)
            .await
            .map_err(|f| f.err)?;
        let id = t.id_token.clone();
        st.token = Some(t);
        tracing::info!("bkash token granted");
        Ok(id)
    }
}
