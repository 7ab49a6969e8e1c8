//! The hub's read API (`Authorization: Bearer <token>`; docs/webhooks.md,
//! "Read API"): the query parameters and the answers of the routes the
//! terminal reads, one definition for the hub's routes (which take the
//! parameters and give the answers) and the terminal (which sends the one and
//! reads the other).
//!
//! - `GET /v1/settlements` ([`SETTLEMENTS_PATH`]): [`SettlementParams`] →
//!   [`SettlementsPage`] of [`StoredEvent`]s, paged by `after` = `next_after`.
//! - `GET /v1/totals` ([`TOTALS_PATH`]): [`TotalsParams`] → [`Totals`], a
//!   [`TotalsRow`] per provider × currency (also the shape of a Z-report's
//!   totals, which the hub compares with its own).
//!
//! Days travel as text (`YYYY-MM-DD`, [`parse_day`]) in the parameters, so
//! the hub can name what it refused; sums are exact decimal strings.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The path of the settlements listing.
pub const SETTLEMENTS_PATH: &str = "/v1/settlements";

/// The path of the totals.
pub const TOTALS_PATH: &str = "/v1/totals";

/// Most items one page (`limit`) may hold.
pub const MAX_LIMIT: u32 = 1000;

/// The page size when no `limit` is given.
pub const DEFAULT_LIMIT: u32 = 100;

/// A `day` parameter that is not a `YYYY-MM-DD` date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("day must be YYYY-MM-DD, got {0:?}")]
pub struct BadDay(pub String);

/// Reads a `day` parameter (`YYYY-MM-DD`).
pub fn parse_day(text: &str) -> Result<NaiveDate, BadDay> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| BadDay(text.to_owned()))
}

/// The query of `GET /v1/settlements?terminal=&day=&provider=&type=&limit=&after=`
/// (every parameter optional; unset ones are not sent).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementParams {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub terminal: Option<String>,
    /// `YYYY-MM-DD` ([`parse_day`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub day: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// `payment.settled` or `payment.refunded` (default: both).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// 1 to [`MAX_LIMIT`] (default [`DEFAULT_LIMIT`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// The `next_after` of the previous page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<i64>,
}

/// A stored event as the read API shows it (an item of
/// [`SettlementsPage`], and the answer of `GET /v1/events/{id}`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredEvent {
    /// Paging cursor: pass as `after` to get the next page.
    pub cursor: i64,
    pub id: String,
    pub terminal_id: String,
    pub sequence: u64,
    /// The event's `type` (`payment.settled`, …).
    #[serde(rename = "type")]
    pub kind: String,
    pub business_day: NaiveDate,
    pub payment_id: Option<String>,
    pub provider: Option<String>,
    pub currency: Option<String>,
    pub amount: Option<Decimal>,
    pub refund_amount: Option<Decimal>,
    pub received_at: DateTime<Utc>,
    /// The event JSON as the terminal sent it.
    pub event: Box<serde_json::value::RawValue>,
}

/// The answer of `GET /v1/settlements`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SettlementsPage {
    /// Payment events in arrival order.
    pub items: Vec<StoredEvent>,
    /// Pass as `after` for the next page; null when this page is the last.
    pub next_after: Option<i64>,
}

/// The query of `GET /v1/totals?terminal=&day=` (both optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotalsParams {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub terminal: Option<String>,
    /// `YYYY-MM-DD` ([`parse_day`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub day: Option<String>,
}

/// One provider/currency line of the totals (exact decimals).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotalsRow {
    pub provider: String,
    pub currency: String,
    /// Settled payments.
    pub count: u64,
    pub settled: Decimal,
    pub refund_count: u64,
    pub refunded: Decimal,
    /// settled − refunded.
    pub net: Decimal,
}

impl TotalsRow {
    /// Fill `net` and give the three sums the same number of decimals.
    pub fn finish(mut self) -> Self {
        let scale = self.settled.scale().max(self.refunded.scale());
        self.settled.rescale(scale);
        self.refunded.rescale(scale);
        self.net = self.settled - self.refunded;
        self.net.rescale(scale);
        self
    }
}

/// The answer of `GET /v1/totals`: the filters it answers (null when not
/// given) and a [`TotalsRow`] per provider × currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub terminal: Option<String>,
    pub day: Option<NaiveDate>,
    pub totals: Vec<TotalsRow>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> TotalsRow {
        TotalsRow {
            provider: "bkash".into(),
            currency: "BDT".into(),
            count: 2,
            settled: "35.75".parse().unwrap(),
            refund_count: 1,
            refunded: "1.5".parse().unwrap(),
            net: Decimal::ZERO,
        }
        .finish()
    }

    #[test]
    fn totals_keep_their_wire_shape() {
        let t = Totals {
            terminal: Some("till-01".into()),
            day: NaiveDate::from_ymd_opt(2026, 11, 22),
            totals: vec![row()],
        };
        let text = serde_json::to_string(&t).unwrap();
        assert_eq!(
            text,
            r#"{"terminal":"till-01","day":"2026-11-22","totals":[{"provider":"bkash","currency":"BDT","count":2,"settled":"35.75","refund_count":1,"refunded":"1.50","net":"34.25"}]}"#
        );
        assert_eq!(serde_json::from_str::<Totals>(&text).unwrap(), t);
        let all = Totals {
            terminal: None,
            day: None,
            totals: vec![],
        };
        assert_eq!(
            serde_json::to_string(&all).unwrap(),
            r#"{"terminal":null,"day":null,"totals":[]}"#
        );
    }

    #[test]
    fn a_stored_event_reads_back_with_its_event_verbatim() {
        let text = r#"{"items":[{"cursor":7,"id":"evt_1","terminal_id":"t1","sequence":3,"type":"payment.refunded","business_day":"2026-11-22","payment_id":"p1","provider":"bkash","currency":"BDT","amount":"12.50","refund_amount":"0.50","received_at":"2026-11-22T04:15:00.123456Z","event":{"refund":{"id":"r1"},"b":[1, 2]}}],"next_after":null}"#;
        let page: SettlementsPage = serde_json::from_str(text).unwrap();
        let e = &page.items[0];
        assert_eq!((e.cursor, e.kind.as_str()), (7, "payment.refunded"));
        assert_eq!(e.event.get(), r#"{"refund":{"id":"r1"},"b":[1, 2]}"#);
        assert_eq!(page.next_after, None);
        assert_eq!(serde_json::to_string(&page).unwrap(), text);
    }

    #[test]
    fn unset_parameters_are_none() {
        let p: SettlementParams = serde_json::from_str(r#"{"type":"payment.settled"}"#).unwrap();
        assert_eq!(
            p,
            SettlementParams {
                kind: Some("payment.settled".into()),
                ..SettlementParams::default()
            }
        );
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            r#"{"type":"payment.settled"}"#
        );
        let t: TotalsParams = serde_json::from_str("{}").unwrap();
        assert_eq!(t, TotalsParams::default());
    }

    #[test]
    fn days_are_read_strictly() {
        assert_eq!(
            parse_day("2026-11-22"),
            Ok(NaiveDate::from_ymd_opt(2026, 11, 22).unwrap())
        );
        let e = parse_day("22-11-2026").unwrap_err();
        assert_eq!(e.to_string(), r#"day must be YYYY-MM-DD, got "22-11-2026""#);
    }
}
