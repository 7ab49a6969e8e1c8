//! Business days: a payment belongs to the business day of its creation, in
//! the merchant's timezone, with a cutoff (a shop open past midnight closes
//! its day at e.g. 04:00, so 01:30 still belongs to yesterday).

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;

/// The business day an instant falls in.
pub fn business_day(at: DateTime<Utc>, tz: Tz, cutoff: NaiveTime) -> NaiveDate {
    let local = at.with_timezone(&tz).naive_local();
    let shifted = local - (cutoff - NaiveTime::MIN);
    shifted.date()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn cutoff_edges_in_dhaka() {
        let tz = chrono_tz::Asia::Dhaka; // UTC+6, no DST
        let cutoff = NaiveTime::from_hms_opt(4, 0, 0).unwrap();
        let at = |h, m| {
            tz.with_ymd_and_hms(2026, 11, 22, h, m, 0)
                .unwrap()
                .with_timezone(&Utc)
        };
        assert_eq!(business_day(at(23, 59), tz, cutoff), day("2026-11-22"));
        assert_eq!(business_day(at(0, 1), tz, cutoff), day("2026-11-21"));
        assert_eq!(business_day(at(3, 59), tz, cutoff), day("2026-11-21"));
        assert_eq!(business_day(at(4, 0), tz, cutoff), day("2026-11-22"));
        assert_eq!(business_day(at(4, 1), tz, cutoff), day("2026-11-22"));
        let midnight = NaiveTime::MIN;
        assert_eq!(business_day(at(0, 1), tz, midnight), day("2026-11-22"));
        assert_eq!(business_day(at(23, 59), tz, midnight), day("2026-11-22"));
    }

    #[test]
    fn dst_zone_uses_local_wall_time() {
        // Europe/London leaves DST on 2026-10-25 at 02:00 local (01:00 UTC).
        let tz = chrono_tz::Europe::London;
        let cutoff = NaiveTime::from_hms_opt(1, 30, 0).unwrap();
        // 00:45 UTC = 01:45 BST (before the change): after the 01:30 cutoff → the 25th.
        let t = Utc.with_ymd_and_hms(2026, 10, 25, 0, 45, 0).unwrap();
        assert_eq!(business_day(t, tz, cutoff), day("2026-10-25"));
        // 01:15 UTC = 01:15 GMT (after the change): before the cutoff again → the 24th.
        let t = Utc.with_ymd_and_hms(2026, 10, 25, 1, 15, 0).unwrap();
        assert_eq!(business_day(t, tz, cutoff), day("2026-10-24"));
    }
}
