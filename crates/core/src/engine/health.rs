//! What the status screens read: each provider's reachability as last seen,
//! and the counters of the background checks. This part owns both; the rest
//! of the engine reports to it ([`HealthBoard::note`], [`HealthBoard::count`])
//! and reads copies, never its locks.

use crate::payment::ProviderKind;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Online/offline of one provider, as last seen.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Health {
    pub online: bool,
    pub since: DateTime<Utc>,
    pub message: Option<String>,
}

/// Counters of the providers' background checks and the sweeper (tests and benchmarks).
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct PollStats {
    pub ticks: u64,
    pub requests: u64,
    pub max_requests_in_a_tick: u64,
    /// Sweeper passes finished (a test waits for one instead of sleeping).
    pub sweeps: u64,
    /// Pruning passes of the provider-call log finished (at start, then daily).
    pub prunes: u64,
}

#[derive(Default)]
pub(crate) struct HealthBoard {
    by_provider: Mutex<BTreeMap<ProviderKind, Health>>,
    stats: Mutex<PollStats>,
}

impl HealthBoard {
    /// Every provider contacted so far (absent: not contacted yet).
    pub fn snapshot(&self) -> BTreeMap<ProviderKind, Health> {
        self.by_provider.lock().expect("health lock").clone()
    }

    /// Not contacted yet counts as online: nothing says otherwise.
    pub fn is_online(&self, kind: ProviderKind) -> bool {
        self.by_provider
            .lock()
            .expect("health lock")
            .get(&kind)
            .is_none_or(|h| h.online)
    }

    /// Records what a call said about `kind`'s reachability. True when front
    /// ends should hear of it: a change, or a first sight of it offline.
    pub fn note(
        &self,
        kind: ProviderKind,
        online: bool,
        message: Option<String>,
        at: DateTime<Utc>,
    ) -> bool {
        let mut h = self.by_provider.lock().expect("health lock");
        let prev = h.get(&kind).map(|x| x.online);
        if prev == Some(online) {
            return false;
        }
        h.insert(
            kind,
            Health {
                online,
                since: at,
                message,
            },
        );
        prev.is_some() || !online
    }

    pub fn stats(&self) -> PollStats {
        *self.stats.lock().expect("stats lock")
    }

    pub fn count(&self, f: impl FnOnce(&mut PollStats)) {
        f(&mut self.stats.lock().expect("stats lock"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_changes_and_a_first_offline_are_news() {
        let b = HealthBoard::default();
        let at = Utc::now();
        assert!(b.is_online(ProviderKind::Bkash), "unknown counts as online");
        assert!(
            !b.note(ProviderKind::Bkash, true, None, at),
            "first seen online"
        );
        assert!(!b.note(ProviderKind::Bkash, true, None, at));
        assert!(b.note(ProviderKind::Bkash, false, Some("timeout".into()), at));
        assert!(!b.is_online(ProviderKind::Bkash));
        assert!(
            b.note(ProviderKind::Bakong, false, None, at),
            "first seen offline"
        );
        assert!(b.note(ProviderKind::Bkash, true, None, at), "back");
        assert_eq!(b.snapshot().len(), 2);
        b.count(|s| s.sweeps += 2);
        assert_eq!(b.stats().sweeps, 2);
    }
}
