//! Which business day it is at the office, and which hour of it an event
//! fell in: the shop's time zone and cutoff ([`super::OfficeConfig`]), the
//! same rule the terminals apply (`[business_day]`: a shop open past
//! midnight with cutoff 04:00 counts 01:30 in the day before).

use super::OfficeConfig;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, Timelike, Utc};

impl OfficeConfig {
    /// The shop's wall-clock time at an instant.
    pub fn local(&self, at: DateTime<Utc>) -> NaiveDateTime {
        match self.timezone {
            Some(tz) => at.with_timezone(&tz).naive_local(),
            None => at.with_timezone(&chrono::Local).naive_local(),
        }
    }

    /// The business day an instant belongs to.
    pub fn business_day(&self, at: DateTime<Utc>) -> NaiveDate {
        (self.local(at) - (self.day_cutoff - chrono::NaiveTime::MIN)).date()
    }

    /// Today's business day.
    pub fn today(&self) -> NaiveDate {
        self.business_day(Utc::now())
    }

    /// The hour (0–23, the shop's wall clock) an event happened in.
    pub fn hour_of(&self, at: DateTime<FixedOffset>) -> u32 {
        self.local(at.with_timezone(&Utc)).hour()
    }

    /// The hours of a business day in the order they pass (from the cutoff's).
    pub fn hours(&self) -> impl Iterator<Item = u32> {
        let first = self.day_cutoff.hour();
        (0..24).map(move |i| (first + i) % 24)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveTime, TimeZone};

    #[test]
    fn a_cutoff_keeps_the_small_hours_in_the_day_before() {
        let c = OfficeConfig {
            timezone: Some(chrono_tz::Asia::Dhaka),
            day_cutoff: NaiveTime::from_hms_opt(4, 0, 0).unwrap(),
            ..OfficeConfig::default()
        };
        let at = |h, m| {
            chrono_tz::Asia::Dhaka
                .with_ymd_and_hms(2026, 11, 22, h, m, 0)
                .unwrap()
                .with_timezone(&Utc)
        };
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(c.business_day(at(3, 59)), day("2026-11-21"));
        assert_eq!(c.business_day(at(4, 0)), day("2026-11-22"));
        assert_eq!(c.business_day(at(23, 59)), day("2026-11-22"));
        assert_eq!(c.hours().next(), Some(4));
        assert_eq!(c.hours().last(), Some(3));
        let t = DateTime::parse_from_rfc3339("2026-11-22T10:15:00+00:00").unwrap();
        assert_eq!(c.hour_of(t), 16);
    }
}
