//! The poll scheduler: pure (no I/O, no clock), driven by the core's single
//! per-terminal poller task.
//!
//! Per code, the cadence adapts to how long it has been on screen:
//!
//! | phase | when | interval |
//! | --- | --- | --- |
//! | fast | first `fast_window` after display | `fast_interval` (1 s) |
//! | slow | until the code's expiry | `slow_interval` (3 s) |
//! | at expiry | the first tick at or after `expires_at` | one check, always |
//! | grace | `grace` after expiry (a payment made in the last second may be acknowledged late, spec §11) | `grace_interval` |
//! | finished | an answered check at or after `expires_at + grace` | none: reported in [`Plan::finished`] |
//!
//! Per terminal: a tick checks every due code together (one bulk request per
//! `bulk_limit` codes), and ticks are never closer than `min_request_gap`
//! (nor earlier than an error back-off). When a tick happens anyway, codes
//! due soon ride along if the requests it needs have room, so staggered codes
//! converge onto the same ticks instead of costing extra requests.
//!
//! The loop in the core:
//!
//! ```text
//! loop {
//!     let plan = schedule.plan(now_ms(), &pending, &state);
//!     if !plan.due.is_empty() {
//!         state.on_tick(now_ms());
//!         match client.check_by_md5_list(&plan.due).await {
//!             Ok(results) => { state.on_answered(&plan.due, now_ms()); /* apply results */ }
//!             Err(e) => state.on_error(&schedule, now_ms(), &e),
//!         }
//!     }
//!     for md5 in plan.finished { /* mark expired (never paid) */ state.forget(&md5) }
//!     sleep_until(plan.next_tick_at_ms or a new code shown);
//! }
//! ```

use crate::error::BakongError;
use std::collections::HashMap;
use std::time::Duration;
use till_provider_http::RetryPolicy;

/// Epoch (or any monotonic) milliseconds, as the core's clock gives them.
pub type Ms = i64;

/// A code on display (or recovered after a restart) that is not final yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    pub md5: String,
    /// When the code was first shown (or created).
    pub shown_at_ms: Ms,
    /// The KHQR's expiration timestamp (tag 99/01).
    pub expires_at_ms: Ms,
}

/// The poller's memory between ticks. Plain data; the core owns it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PollState {
    /// Per MD5: when Bakong last *answered* a check of it (errors do not count).
    pub last_checked: HashMap<String, Ms>,
    /// When the last tick sent its requests.
    pub last_tick_ms: Option<Ms>,
    /// No tick before this (back-off after an error or a 429).
    pub hold_until_ms: Option<Ms>,
    /// Failed ticks in a row (drives the back-off).
    pub consecutive_errors: u32,
}

impl PollState {
    /// A tick is being sent now.
    pub fn on_tick(&mut self, now_ms: Ms) {
        self.last_tick_ms = Some(now_ms);
    }

    /// Bakong answered for `md5s` (whatever the outcome).
    pub fn on_answered(&mut self, md5s: &[String], now_ms: Ms) {
        for m in md5s {
            self.last_checked.insert(m.clone(), now_ms);
        }
        self.consecutive_errors = 0;
        self.hold_until_ms = None;
    }

    /// The tick failed: hold further ticks per the schedule's back-off
    /// (honouring a 429's `Retry-After`). The codes stay due.
    pub fn on_error(&mut self, schedule: &PollSchedule, now_ms: Ms, err: &BakongError) {
        self.consecutive_errors = self.consecutive_errors.saturating_add(1);
        let wait = schedule.backoff(self.consecutive_errors, err);
        self.hold_until_ms = Some(now_ms + wait.as_millis() as Ms);
    }

    /// The code became final (paid, failed, cancelled, expired): drop its memory.
    pub fn forget(&mut self, md5: &str) {
        self.last_checked.remove(md5);
    }
}

/// What to do now.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// MD5s to check now, in one `check_by_md5_list` call (empty: no tick now).
    pub due: Vec<String>,
    /// When to plan again; `None` when nothing is left to poll.
    pub next_tick_at_ms: Option<Ms>,
    /// Codes whose polling is over: checked at expiry and through the grace
    /// period, never paid. The core may mark them expired.
    pub finished: Vec<String>,
}

impl Plan {
    /// Requests the tick costs with `bulk_limit` MD5s per request.
    pub fn requests(&self, bulk_limit: usize) -> usize {
        self.due.len().div_ceil(bulk_limit.max(1))
    }
}

/// The adaptive schedule. See the module docs for the phases.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PollSchedule {
    /// Interval right after display (customers usually pay within seconds).
    pub fast_interval: Duration,
    /// How long after display the fast interval applies.
    pub fast_window: Duration,
    /// Interval for the rest of the code's life (spec practice: 3–5 s).
    pub slow_interval: Duration,
    /// Polling continues this long after expiry (spec §11 suggests ~10 min).
    pub grace: Duration,
    /// Interval during the grace period.
    pub grace_interval: Duration,
    /// Per-terminal ceiling: ticks are at least this far apart (≈ 1 tick/s).
    pub min_request_gap: Duration,
    /// MD5s per bulk request (the client's `bulk_limit`, 50).
    pub bulk_limit: usize,
    /// Most requests one tick may cost; more due codes wait for the next tick
    /// (codes at their expiry check first, then the most overdue).
    pub max_requests_per_tick: usize,
    /// Codes due within this window join a tick that happens anyway, when
    /// the tick's requests have room.
    pub ride_along: Duration,
    /// Back-off after failed ticks (network, 5xx, malformed answers).
    pub error_backoff: RetryPolicy,
    /// Back-off after a 429 (spec §11: from 5 s, cap 60 s); a longer `Retry-After` wins.
    pub rate_limit_backoff: RetryPolicy,
    /// Hold after errors only the manager can fix (token, 403).
    pub attention_backoff: Duration,
}

impl Default for PollSchedule {
    fn default() -> Self {
        PollSchedule {
            fast_interval: Duration::from_secs(1),
            fast_window: Duration::from_secs(30),
            slow_interval: Duration::from_secs(3),
            grace: Duration::from_secs(10 * 60),
            grace_interval: Duration::from_secs(30),
            min_request_gap: Duration::from_secs(1),
            bulk_limit: crate::client::BULK_LIMIT,
            max_requests_per_tick: 2,
            ride_along: Duration::from_millis(1500),
            error_backoff: RetryPolicy {
                max_attempts: u32::MAX,
                base: Duration::from_secs(1),
                max_delay: Duration::from_secs(30),
            },
            rate_limit_backoff: RetryPolicy {
                max_attempts: u32::MAX,
                base: Duration::from_secs(5),
                max_delay: Duration::from_secs(60),
            },
            attention_backoff: Duration::from_secs(60),
        }
    }
}

fn ms(d: Duration) -> Ms {
    d.as_millis().min(Ms::MAX as u128) as Ms
}

/// Where one code stands.
enum Standing {
    Finished,
    /// Next check time; `true` when it is the check at expiry.
    Next(Ms, bool),
}

impl PollSchedule {
    /// How long to hold ticks after the `n`-th consecutive failed tick.
    /// Never shorter than `min_request_gap`.
    pub fn backoff(&self, n: u32, err: &BakongError) -> Duration {
        let d = match err {
            BakongError::RateLimited { retry_after } => {
                let floor = self.rate_limit_backoff.base;
                let jittered = self
                    .rate_limit_backoff
                    .delay(n, *retry_after)
                    .unwrap_or(floor);
                jittered.max(floor).max(retry_after.unwrap_or_default())
            }
            e if e.needs_attention() => self.attention_backoff,
            _ => self
                .error_backoff
                .delay(n, None)
                .unwrap_or(self.error_backoff.max_delay),
        };
        d.max(self.min_request_gap)
    }

    fn interval_at(&self, p: &Pending, t: Ms) -> Ms {
        if t < p.expires_at_ms {
            if t < p.shown_at_ms + ms(self.fast_window) {
                ms(self.fast_interval)
            } else {
                ms(self.slow_interval)
            }
        } else {
            ms(self.grace_interval)
        }
        .max(1)
    }

    fn standing(&self, p: &Pending, last: Option<Ms>) -> Standing {
        let grace_end = p.expires_at_ms + ms(self.grace);
        match last {
            None => {
                let first = p.shown_at_ms + ms(self.fast_interval);
                let at_expiry = first >= p.expires_at_ms;
                Standing::Next(first.min(p.expires_at_ms), at_expiry)
            }
            Some(l) if l >= grace_end => Standing::Finished,
            Some(l) if l < p.expires_at_ms => {
                let next = l + self.interval_at(p, l);
                // A check that would land less than a tick gap before expiry
                // is merged into the check at expiry.
                if next + ms(self.min_request_gap) > p.expires_at_ms {
                    Standing::Next(p.expires_at_ms, true)
                } else {
                    Standing::Next(next, false)
                }
            }
            Some(l) => Standing::Next((l + self.interval_at(p, l)).min(grace_end), false),
        }
    }

    /// Which codes to check now and when to plan next.
    pub fn plan(&self, now_ms: Ms, pending: &[Pending], state: &PollState) -> Plan {
        let bulk = self.bulk_limit.max(1);
        let capacity = bulk * self.max_requests_per_tick.max(1);
        let gap = ms(self.min_request_gap);
        let earliest = state
            .last_tick_ms
            .map(|t| t + gap)
            .into_iter()
            .chain(state.hold_until_ms)
            .max();

        let mut finished = Vec::new();
        // (md5 index, next due, at-expiry check)
        let mut live: Vec<(usize, Ms, bool)> = Vec::with_capacity(pending.len());
        for (i, p) in pending.iter().enumerate() {
            match self.standing(p, state.last_checked.get(&p.md5).copied()) {
                Standing::Finished => finished.push(p.md5.clone()),
                Standing::Next(at, expiry) => live.push((i, at, expiry)),
            }
        }
        if live.is_empty() {
            return Plan {
                due: Vec::new(),
                next_tick_at_ms: None,
                finished,
            };
        }
        let soonest = live.iter().map(|(_, at, _)| *at).min().expect("non-empty");
        let gate_open = earliest.is_none_or(|e| now_ms >= e);
        if !gate_open || soonest > now_ms {
            let next = earliest.map_or(soonest, |e| e.max(soonest));
            return Plan {
                due: Vec::new(),
                next_tick_at_ms: Some(next.max(now_ms)),
                finished,
            };
        }

        // A tick happens now: expiry checks first, then the most overdue.
        let (mut due, mut rest): (Vec<_>, Vec<_>) =
            live.into_iter().partition(|(_, at, _)| *at <= now_ms);
        due.sort_by_key(|&(i, at, expiry)| (!expiry, at, i));
        let mut overflow = due.split_off(due.len().min(capacity));
        // Riders: codes due soon, while the needed requests have room.
        let room = due.len().div_ceil(bulk) * bulk - due.len();
        rest.sort_by_key(|&(i, at, _)| (at, i));
        // (A code waiting for its check at expiry never rides earlier.)
        let (riders, later): (Vec<_>, Vec<_>) =
            rest.into_iter()
                .enumerate()
                .partition(|(k, (_, at, expiry))| {
                    *k < room && !*expiry && *at <= now_ms + ms(self.ride_along)
                });
        let later: Vec<_> = later.into_iter().map(|(_, r)| r).collect();
        due.extend(riders.into_iter().map(|(_, r)| r));

        // Next tick: as if every code in `due` is answered now.
        let mut next = Ms::MAX;
        for &(i, _, _) in &due {
            match self.standing(&pending[i], Some(now_ms)) {
                Standing::Next(at, _) => next = next.min(at),
                // Plan once more to report it finished (or retry after an error).
                Standing::Finished => next = next.min(now_ms),
            }
        }
        for (_, at, _) in later.iter().chain(overflow.iter()) {
            next = next.min(*at);
        }
        overflow.clear();
        let mut floor = now_ms + gap;
        if let Some(h) = state.hold_until_ms {
            floor = floor.max(h);
        }
        let next_tick_at_ms = (next != Ms::MAX).then(|| next.max(floor));
        Plan {
            due: due
                .into_iter()
                .map(|(i, _, _)| pending[i].md5.clone())
                .collect(),
            next_tick_at_ms,
            finished,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Ms = 1000;

    /// A tick of the simulated poller: when, and which MD5s it checked.
    type Tick = (Ms, Vec<String>);

    fn code(n: usize, shown: Ms, ttl: Ms) -> Pending {
        Pending {
            md5: format!("{n:032x}"),
            shown_at_ms: shown,
            expires_at_ms: shown + ttl,
        }
    }

    /// Fake clock: the poller sleeps to `next_tick_at_ms` (or a wake-up
    /// for a newly shown code) and every check is answered "not found".
    /// Returns the ticks `(time, due)`.
    fn run(
        s: &PollSchedule,
        codes: &[Pending],
        until: Ms,
        mut fail_at: impl FnMut(Ms) -> Option<BakongError>,
    ) -> (Vec<Tick>, PollState, Vec<String>) {
        let mut state = PollState::default();
        let mut ticks = Vec::new();
        let mut finished_all = Vec::new();
        let mut now = codes.iter().map(|c| c.shown_at_ms).min().unwrap();
        let mut done: Vec<String> = Vec::new();
        while now <= until {
            let pending: Vec<Pending> = codes
                .iter()
                .filter(|c| c.shown_at_ms <= now && !done.contains(&c.md5))
                .cloned()
                .collect();
            let plan = s.plan(now, &pending, &state);
            if !plan.due.is_empty() {
                state.on_tick(now);
                match fail_at(now) {
                    None => state.on_answered(&plan.due, now),
                    Some(e) => state.on_error(s, now, &e),
                }
                ticks.push((now, plan.due.clone()));
            }
            for f in plan.finished {
                state.forget(&f);
                done.push(f.clone());
                finished_all.push(f);
            }
            let next_show = codes
                .iter()
                .map(|c| c.shown_at_ms)
                .filter(|&t| t > now)
                .min();
            let next = match (plan.next_tick_at_ms, next_show) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => match a.or(b) {
                    Some(x) => x,
                    None => break,
                },
            };
            assert!(next >= now, "time never goes back");
            now = if next == now { now + 1 } else { next };
        }
        (ticks, state, finished_all)
    }

    fn assert_gap(s: &PollSchedule, ticks: &[Tick]) {
        for w in ticks.windows(2) {
            assert!(
                w[1].0 - w[0].0 >= ms(s.min_request_gap),
                "ticks at {} and {} are too close",
                w[0].0,
                w[1].0
            );
        }
    }

    #[test]
    fn sixty_codes_cost_two_requests_per_tick() {
        let s = PollSchedule::default();
        let codes: Vec<_> = (0..60).map(|n| code(n, 0, 120 * S)).collect();
        let (ticks, _, _) = run(&s, &codes, 60 * S, |_| None);
        assert_eq!(ticks[0].0, S, "first check one fast interval after display");
        for (_, due) in &ticks {
            assert_eq!(due.len(), 60, "every due code goes in the same tick");
            assert_eq!(due.len().div_ceil(s.bulk_limit), 2);
        }
        assert_gap(&s, &ticks);
        // 30 fast ticks (1 s), then every 3 s.
        let times: Vec<Ms> = ticks.iter().map(|t| t.0).collect();
        assert_eq!(
            &times[..30],
            &(1..=30).map(|i| i * S).collect::<Vec<_>>()[..]
        );
        assert_eq!(times[30], 33 * S);
        assert_eq!(times[31], 36 * S);
    }

    #[test]
    fn staggered_codes_share_ticks_and_respect_the_ceiling() {
        let s = PollSchedule::default();
        // 60 codes shown 700 ms apart, different lifetimes.
        let codes: Vec<_> = (0..60)
            .map(|n| code(n, n as Ms * 700, (60 + (n as Ms % 7) * 13) * S + 250))
            .collect();
        let (ticks, _, finished) = run(&s, &codes, 20 * 60 * S, |_| None);
        assert_gap(&s, &ticks);
        for (_, due) in &ticks {
            assert!(due.len().div_ceil(s.bulk_limit) <= s.max_requests_per_tick);
        }
        for c in &codes {
            let checks: Vec<Ms> = ticks
                .iter()
                .filter(|(_, d)| d.contains(&c.md5))
                .map(|(t, _)| *t)
                .collect();
            // Checked once more at (or just after) expiry.
            let at_expiry = checks.iter().find(|&&t| t >= c.expires_at_ms).unwrap();
            assert!(
                *at_expiry - c.expires_at_ms <= ms(s.min_request_gap),
                "{c:?} {at_expiry}"
            );
            // Fast right after display: a check within 2 s.
            assert!(checks[0] - c.shown_at_ms <= 2 * S, "{c:?} {checks:?}");
            // Never left alone longer than the slow interval before expiry.
            for w in checks.windows(2).filter(|w| w[1] <= c.expires_at_ms) {
                assert!(w[1] - w[0] <= ms(s.slow_interval) + S, "{c:?} {w:?}");
            }
            // Polled through the grace period, then finished.
            assert!(checks.last().unwrap() >= &(c.expires_at_ms + ms(s.grace)));
        }
        assert_eq!(finished.len(), 60);
    }

    #[test]
    fn a_code_is_checked_right_at_expiry() {
        let s = PollSchedule {
            grace: Duration::ZERO,
            ..PollSchedule::default()
        };
        // Expiry 10.5 s after display: between two fast ticks.
        // The check that would come 500 ms before expiry is merged into it.
        let codes = [code(1, 0, 10_500)];
        let (ticks, _, finished) = run(&s, &codes, 60 * S, |_| None);
        let times: Vec<Ms> = ticks.iter().map(|t| t.0).collect();
        let want: Vec<Ms> = (1..=9).map(|i| i * S).chain([10_500]).collect();
        assert_eq!(times, want, "no polling after expiry without grace");
        assert_eq!(finished, vec![codes[0].md5.clone()]);
    }

    #[test]
    fn expiry_check_survives_errors() {
        let s = PollSchedule {
            grace: Duration::ZERO,
            ..PollSchedule::default()
        };
        let codes = [code(1, 0, 5 * S)];
        // The check at expiry fails twice; the code is not finished until answered.
        let mut failures = 0;
        let (ticks, state, finished) = run(&s, &codes, 600 * S, |t| {
            (t >= 5 * S && failures < 2).then(|| {
                failures += 1;
                BakongError::Unknown {
                    message: "reset".into(),
                    timed_out: false,
                }
            })
        });
        assert_eq!(finished.len(), 1);
        let after: Vec<Ms> = ticks.iter().map(|t| t.0).filter(|&t| t >= 5 * S).collect();
        assert_eq!(after.len(), 3, "{after:?}");
        assert!(state.last_checked.is_empty());
    }

    #[test]
    fn rate_limit_holds_the_next_tick() {
        let s = PollSchedule::default();
        let codes = [code(1, 0, 300 * S)];
        let mut state = PollState::default();
        let p = s.plan(S, &codes, &state);
        assert_eq!(p.due.len(), 1);
        state.on_tick(S);
        state.on_error(
            &s,
            S,
            &BakongError::RateLimited {
                retry_after: Some(Duration::from_secs(30)),
            },
        );
        let p = s.plan(2 * S, &codes, &state);
        assert!(p.due.is_empty());
        assert_eq!(p.next_tick_at_ms, Some(31 * S));
        assert!(s.plan(30 * S, &codes, &state).due.is_empty());
        assert_eq!(s.plan(31 * S, &codes, &state).due.len(), 1);
        // Without Retry-After: at least 5 s.
        let mut st = PollState::default();
        st.on_error(&s, 0, &BakongError::RateLimited { retry_after: None });
        let h = st.hold_until_ms.unwrap();
        assert!((5 * S..=60 * S).contains(&h), "{h}");
        // Token trouble: the attention hold.
        let mut st = PollState::default();
        st.on_error(&s, 0, &BakongError::TokenExpired);
        assert_eq!(st.hold_until_ms, Some(60 * S));
    }

    #[test]
    fn overflow_waits_for_the_next_tick_expiry_first() {
        let s = PollSchedule::default();
        let mut codes: Vec<_> = (0..150).map(|n| code(n, 0, 600 * S)).collect();
        codes.push(code(999, 0, S / 2)); // at its expiry
        let state = PollState::default();
        let p = s.plan(S, &codes, &state);
        assert_eq!(p.due.len(), 100);
        assert_eq!(p.due[0], codes[150].md5);
        assert_eq!(p.next_tick_at_ms, Some(2 * S));
        assert_eq!(p.requests(50), 2);
    }

    #[test]
    fn nothing_pending_means_no_tick() {
        let s = PollSchedule::default();
        let p = s.plan(0, &[], &PollState::default());
        assert_eq!(p, Plan::default());
    }

    #[test]
    fn recovered_old_codes_are_checked_at_once() {
        let s = PollSchedule::default();
        // Shown an hour ago, expired long ago, never checked in this run.
        let codes = [code(7, 0, 60 * S)];
        let now = 3600 * S;
        let p = s.plan(now, &codes, &PollState::default());
        assert_eq!(p.due, vec![codes[0].md5.clone()]);
        let mut st = PollState::default();
        st.on_answered(&p.due, now);
        let p = s.plan(now + S, &codes, &st);
        assert_eq!(p.finished, vec![codes[0].md5.clone()]);
    }
}
