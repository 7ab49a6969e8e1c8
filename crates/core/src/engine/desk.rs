//! The desk: what a provider's own code may do with the engine, and nothing
//! more. A provider's background task ([`crate::provider::Provider::background`])
//! gets one for its own payments: it reads them, hands in its verdicts (the
//! engine's settle rules decide what they mean), reports its health and
//! waits for work. It never sees the journal, the configuration or another
//! provider's payments.

use super::{Engine, EngineError};
use crate::journal::payments::ListFilter;
use crate::payment::{Payment, ProviderKind};
use crate::provider::{ProviderError, Verdict};
use crate::state::PaymentState;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// One provider's handle on the engine (cheap to clone).
#[derive(Clone)]
pub struct Desk {
    engine: Engine,
    provider: ProviderKind,
    wake: Arc<Notify>,
}

impl Desk {
    pub(crate) fn new(engine: Engine, provider: ProviderKind, wake: Arc<Notify>) -> Desk {
        Desk {
            engine,
            provider,
            wake,
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.engine.now()
    }

    /// This provider's payments waiting for the customer.
    pub fn waiting(&self) -> Result<Vec<Payment>, EngineError> {
        Ok(self
            .engine
            .with_journal(|j| j.open_payments())?
            .into_iter()
            .filter(|p| p.provider == self.provider && p.state == PaymentState::AwaitingCustomer)
            .collect())
    }

    /// This provider's newest `limit` payments in `state`.
    pub fn in_state(&self, state: PaymentState, limit: u32) -> Result<Vec<Payment>, EngineError> {
        Ok(self.engine.with_journal(|j| {
            j.list(&ListFilter {
                provider: Some(self.provider),
                state: Some(state),
                page: 1,
                page_size: limit,
                ..Default::default()
            })
        })?)
    }

    /// Hands in what the provider said about one of its payments.
    pub fn apply_verdict(
        &self,
        id: &str,
        v: Verdict,
        detail: &str,
    ) -> Result<Payment, EngineError> {
        self.engine.apply_verdict(id, v, detail)
    }

    /// Gives up a payment nobody paid in time, if it is still waiting.
    pub fn expire_unanswered(&self, id: &str, detail: &str) -> Result<Payment, EngineError> {
        self.engine.expire_unanswered(id, detail)
    }

    /// Records what a call says about the provider's reachability.
    pub fn note_health<T>(&self, r: &Result<T, ProviderError>) {
        self.engine.note_health(self.provider, r)
    }

    /// Keeps a secret the provider renewed (its API token) for the next start.
    pub fn store_secret(
        &self,
        name: &str,
        value: &crate::secrets::Secret,
    ) -> Result<(), crate::secrets::SecretError> {
        self.engine.inner.secrets.set(name, value)
    }

    /// Counts one round of the provider's background checks and the requests
    /// it took (tests and benchmarks read them in [`Engine::poll_stats`]).
    pub fn count_round(&self, requests: u64) {
        self.engine.inner.health.count(|s| {
            s.ticks += 1;
            s.requests += requests;
            s.max_requests_in_a_tick = s.max_requests_in_a_tick.max(requests);
        });
    }

    /// Waits `d`, or less when a payment of this provider starts or the
    /// engine stops. Returns false once the engine is stopping.
    pub async fn sleep(&self, d: Duration) -> bool {
        let mut stop = self.engine.inner.background.stopping();
        if *stop.borrow() {
            return false;
        }
        tokio::select! {
            _ = tokio::time::sleep(d) => {}
            _ = self.wake.notified() => {}
            _ = stop.changed() => {}
        }
        let stopping = *stop.borrow();
        !stopping
    }
}
