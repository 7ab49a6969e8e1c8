//! `prints`: each receipt print asked for and how it went (migration 0011).
//! Written in a transaction of its own, after the payment is final: a print
//! record never shares a transaction with a payment's state change.

use super::{parse_ts, ts, Ctx, Journal, JournalError};
use crate::reason::Reason;
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

/// What was printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PrintKind {
    Sale,
    Refund,
    /// A reprint, marked COPY.
    Copy,
    /// A report or a test page (no payment).
    Report,
}

impl PrintKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PrintKind::Sale => "sale",
            PrintKind::Refund => "refund",
            PrintKind::Copy => "copy",
            PrintKind::Report => "report",
        }
    }

    fn parse(s: &str) -> Result<PrintKind, JournalError> {
        Ok(match s {
            "sale" => PrintKind::Sale,
            "refund" => PrintKind::Refund,
            "copy" => PrintKind::Copy,
            "report" => PrintKind::Report,
            _ => return Err(JournalError::Corrupt(format!("print kind {s:?}"))),
        })
    }
}

/// One print and its outcome: `reason` is set when it failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PrintRecord {
    pub kind: PrintKind,
    pub printed: bool,
    pub reason: Option<Reason>,
    pub at: DateTime<Utc>,
}

impl Journal {
    /// Records a print of `payment_id` (None: a report or test page).
    pub fn record_print(
        &self,
        payment_id: Option<&str>,
        kind: PrintKind,
        failure: Option<&Reason>,
        at: DateTime<Utc>,
    ) -> Result<(), JournalError> {
        let reason = failure.map(|r| serde_json::to_string(r).unwrap_or_default());
        self.conn
            .execute(
                "INSERT INTO prints (payment_id, kind, outcome, reason, at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    payment_id,
                    kind.as_str(),
                    if failure.is_some() { "failed" } else { "printed" },
                    reason,
                    ts(at)
                ],
            )
            .ctx("recording a print")?;
        Ok(())
    }

    /// Every print of a payment, oldest first.
    pub fn prints_of(&self, payment_id: &str) -> Result<Vec<PrintRecord>, JournalError> {
        let mut q = self
            .conn
            .prepare(
                "SELECT kind, outcome, reason, at FROM prints WHERE payment_id = ?1 ORDER BY id",
            )
            .ctx("reading prints")?;
        let rows = q
            .query_map(params![payment_id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .ctx("reading prints")?
            .collect::<Result<Vec<_>, _>>()
            .ctx("reading prints")?;
        rows.into_iter()
            .map(|(kind, outcome, reason, at)| {
                Ok(PrintRecord {
                    kind: PrintKind::parse(&kind)?,
                    printed: outcome == "printed",
                    // A reason this build cannot read still says "failed".
                    reason: reason.and_then(|r| serde_json::from_str(&r).ok()),
                    at: parse_ts(&at)?,
                })
            })
            .collect()
    }

    /// The latest print of a payment (None: never asked for).
    pub fn last_print(&self, payment_id: &str) -> Result<Option<PrintRecord>, JournalError> {
        Ok(self.prints_of(payment_id)?.pop())
    }

    /// Whether a payment's receipt ever printed (a print after that is a copy).
    pub fn ever_printed(&self, payment_id: &str) -> Result<bool, JournalError> {
        self.conn
            .query_row(
                "SELECT 1 FROM prints WHERE payment_id = ?1 AND outcome = 'printed' AND kind <> 'report' LIMIT 1",
                params![payment_id],
                |_| Ok(()),
            )
            .optional()
            .ctx("reading prints")
            .map(|o| o.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::payments::NewPayment;
    use crate::journal::test_context;
    use crate::money::{Amount, Currency};
    use crate::payment::ProviderKind;
    use crate::reason::ReasonCode;

    #[test]
    fn prints_are_recorded_per_payment_failed_ones_with_their_reason() {
        let mut j = Journal::open_in_memory(test_context()).unwrap();
        let at = Utc::now();
        j.create_payment::<std::convert::Infallible>(
            NewPayment {
                id: "p1".into(),
                provider: ProviderKind::Demo,
                amount: Amount::parse("10", Currency::Bdt).unwrap(),
                operator: "c".into(),
                at,
                origin: None,
            },
            |_, _| Ok(Default::default()),
        )
        .unwrap()
        .unwrap();
        assert_eq!(j.last_print("p1").unwrap(), None);
        assert!(!j.ever_printed("p1").unwrap());
        let why = Reason::new(ReasonCode::PrinterNoAnswer).with("addr", "127.0.0.1:9");
        j.record_print(Some("p1"), PrintKind::Sale, Some(&why), at)
            .unwrap();
        let last = j.last_print("p1").unwrap().unwrap();
        assert!(!last.printed);
        assert_eq!(last.reason, Some(why));
        assert!(!j.ever_printed("p1").unwrap());
        j.record_print(Some("p1"), PrintKind::Copy, None, at)
            .unwrap();
        j.record_print(None, PrintKind::Report, None, at).unwrap();
        assert!(j.ever_printed("p1").unwrap());
        let all = j.prints_of("p1").unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[1].kind, PrintKind::Copy);
        assert!(all[1].printed && all[1].reason.is_none());
    }
}
