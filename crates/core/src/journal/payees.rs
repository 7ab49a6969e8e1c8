//! Which accounts this terminal's wallets pay to, as the journal last saw
//! them (`meta` key `payees`, JSON wallet → payee), and the audit of every
//! change: a payee setting changed in the manager's Settings, or in
//! `till.toml` (or the credentials) while Till was not running, is written to
//! the audit log with its old and new value, never only the setting's name.

use super::log::append_audit;
use super::{Ctx, Journal, JournalError};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, TransactionBehavior};
use serde::Serialize;
use std::collections::BTreeMap;

/// One wallet's payee as the configuration names it now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PayeeSetting {
    /// The wallet (`ProviderKind` name).
    pub wallet: String,
    /// Where it is set (`khqr.bakong_account_id`), for people reading the audit.
    pub setting: String,
    pub payee: String,
}

/// A difference found and audited.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PayeeChange {
    pub wallet: String,
    pub setting: String,
    /// `None`: the journal had seen no payee for this wallet before.
    pub old: Option<String>,
    pub new: String,
}

const META_KEY: &str = "payees";

impl Journal {
    /// The payees the journal last saw, wallet → payee.
    pub fn remembered_payees(&self) -> Result<BTreeMap<String, String>, JournalError> {
        read(&self.conn)
    }

    /// Compares `now` with the payees the journal last saw, audits each
    /// difference as `actor` (`payee.change`, detail `setting: old → new
    /// (why)`; a wallet's first payee is `payee.recorded`) and remembers
    /// `now`, in one transaction, so two processes opening at once audit a
    /// change once. Wallets missing from `now` (turned off) keep what was seen.
    pub fn note_payees(
        &mut self,
        now: &[PayeeSetting],
        actor: &str,
        why: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<PayeeChange>, JournalError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx("starting a transaction")?;
        let mut seen = read(&tx)?;
        let mut changes = Vec::new();
        for s in now {
            let old = seen.get(&s.wallet).cloned();
            if old.as_deref() == Some(s.payee.as_str()) {
                continue;
            }
            let (action, detail) = match &old {
                Some(o) => (
                    "payee.change",
                    format!("{}: {o} → {} ({why})", s.setting, s.payee),
                ),
                None => ("payee.recorded", format!("{}: {}", s.setting, s.payee)),
            };
            append_audit(&tx, at, actor, action, Some(&s.wallet), Some(&detail))?;
            seen.insert(s.wallet.clone(), s.payee.clone());
            changes.push(PayeeChange {
                wallet: s.wallet.clone(),
                setting: s.setting.clone(),
                old,
                new: s.payee.clone(),
            });
        }
        if !changes.is_empty() {
            let json = serde_json::to_string(&seen)
                .map_err(|e| JournalError::Corrupt(format!("payees: {e}")))?;
            tx.execute(
                "INSERT INTO meta(key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [META_KEY, &json],
            )
            .ctx("remembering the payees")?;
        }
        tx.commit().ctx("committing the payees")?;
        Ok(changes)
    }
}

fn read(conn: &rusqlite::Connection) -> Result<BTreeMap<String, String>, JournalError> {
    let text: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [META_KEY], |r| {
            r.get(0)
        })
        .optional()
        .ctx("reading the remembered payees")?;
    match text {
        None => Ok(BTreeMap::new()),
        Some(t) => serde_json::from_str(&t)
            .map_err(|_| JournalError::Corrupt("the remembered payees".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::test_context;

    fn s(payee: &str) -> PayeeSetting {
        PayeeSetting {
            wallet: "bakong".into(),
            setting: "khqr.bakong_account_id".into(),
            payee: payee.into(),
        }
    }

    #[test]
    fn a_change_is_audited_once_with_old_and_new() {
        let mut j = Journal::open_in_memory(test_context()).unwrap();
        let at = Utc::now();
        assert_eq!(
            j.note_payees(&[s("a@x")], "till", "start", at)
                .unwrap()
                .len(),
            1
        );
        assert!(j
            .note_payees(&[s("a@x")], "till", "start", at)
            .unwrap()
            .is_empty());
        let c = j
            .note_payees(&[s("b@y")], "manager", "Settings", at)
            .unwrap();
        assert_eq!(c[0].old.as_deref(), Some("a@x"));
        // A wallet turned off keeps its last payee.
        assert!(j.note_payees(&[], "till", "start", at).unwrap().is_empty());
        assert_eq!(j.remembered_payees().unwrap()["bakong"], "b@y");
        let log = j.audit_log(10).unwrap();
        assert_eq!(log[0].action, "payee.change");
        assert_eq!(log[0].actor, "manager");
        assert_eq!(
            log[0].detail.as_deref(),
            Some("khqr.bakong_account_id: a@x → b@y (Settings)")
        );
        assert_eq!(log[1].action, "payee.recorded");
    }
}
