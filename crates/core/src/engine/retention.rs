//! Retention of the provider-call log (`[storage] call_log_days`): a pruning pass at
//! start, then daily, under the supervisor like every background task. What is kept
//! however old is [`crate::journal::Journal::prune_calls`]'s to say; logs are rotated
//! where they are written ([`crate::logfile`]).

use super::{Engine, EngineError};
use std::time::Duration;

/// How often the call log is pruned after the pass at start.
const EVERY: Duration = Duration::from_secs(24 * 60 * 60);
/// Records deleted per transaction: the journal lock is let go between batches, so a
/// charge never waits behind a long prune (a first pass may find months of records).
const BATCH: u32 = 1000;

pub(crate) async fn run(engine: Engine) {
    let mut stop = engine.inner.background.stopping();
    loop {
        if *stop.borrow() {
            return;
        }
        match engine.prune_call_log().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "pruned the provider-call log"),
            Err(e) => tracing::warn!(error = %e, "pruning the provider-call log failed"),
        }
        engine.inner.health.count(|s| s.prunes += 1);
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = stop.changed() => return,
        }
    }
}

impl Engine {
    /// Deletes the provider-call records `[storage] call_log_days` lets go; returns how
    /// many. Runs at start and daily by itself; here for tools and tests.
    pub async fn prune_call_log(&self) -> Result<usize, EngineError> {
        let Some(age) = self.inner.config.storage.call_log_age() else {
            return Ok(0);
        };
        let before = self.now() - age;
        // Without a hub nothing is ever acknowledged: a settlement is final once settled.
        let require_synced = self.inner.config.hub.url.is_some();
        let mut total = 0;
        loop {
            let n = self.with_journal(|j| j.prune_calls(before, require_synced, BATCH))?;
            total += n;
            if n < BATCH as usize {
                return Ok(total);
            }
            tokio::task::yield_now().await;
        }
    }
}
