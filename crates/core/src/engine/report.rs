//! The manager's day: summary, reconciliation, resolutions, X- and
//! Z-reports, exports. The report types live in [`crate::report`]; this is
//! the engine's side (journal access, provider and hub calls).

use super::{Engine, EngineError};
use crate::report::summary::{self, DayRules, DaySummary};
use chrono::NaiveDate;

impl Engine {
    /// How this terminal's business day runs (zone, cutoff).
    pub(crate) fn day_rules(&self) -> DayRules {
        let c = &self.inner.config;
        DayRules {
            terminal_id: c.terminal.id.clone(),
            timezone: c.timezone().unwrap_or(chrono_tz::UTC),
            cutoff: c.cutoff().unwrap_or(chrono::NaiveTime::MIN),
        }
    }

    /// The business day it is now (the merchant's zone and cutoff).
    pub fn today(&self) -> NaiveDate {
        self.day_rules().day_of(self.now())
    }

    /// The day's numbers from the local journal alone (no network): totals
    /// per provider × currency × state, per wallet settled / refunded / net,
    /// refunds, adjustments, the per-hour chart, flagged and open payments,
    /// what has not reached the hub, and whether the day is closed.
    pub fn day_summary(&self, day: NaiveDate) -> Result<DaySummary, EngineError> {
        let (data, queue) = self.with_journal(|j| Ok((j.day_data(day)?, j.sync_queue_stats()?)))?;
        Ok(summary::summarize(
            &self.day_rules(),
            &data,
            &queue,
            self.now(),
        ))
    }
}
