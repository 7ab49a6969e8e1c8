//! The token-call budget of providers that limit token calls per merchant
//! account (see migration 0005). Times are Unix milliseconds.

use super::{Ctx, Journal, JournalError};
use rusqlite::{params, OptionalExtension};

/// The calls and block a provider's budget holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TokenBudget {
    /// Calls within the last hour, oldest first.
    pub calls_ms: Vec<i64>,
    pub blocked_until_ms: Option<i64>,
}

const HOUR_MS: i64 = 3_600_000;

impl Journal {
    /// The calls of the hour before `now_ms`, and any block still running.
    pub fn token_budget(&self, provider: &str, now_ms: i64) -> Result<TokenBudget, JournalError> {
        let mut q = self
            .conn
            .prepare(
                "SELECT at_ms FROM token_calls WHERE provider = ?1 AND at_ms > ?2 ORDER BY at_ms",
            )
            .ctx("reading token calls")?;
        let calls_ms = q
            .query_map(params![provider, now_ms - HOUR_MS], |r| r.get(0))
            .ctx("reading token calls")?
            .collect::<Result<Vec<i64>, _>>()
            .ctx("reading token calls")?;
        let blocked_until_ms = self
            .conn
            .query_row(
                "SELECT until_ms FROM token_blocks WHERE provider = ?1 AND until_ms > ?2",
                params![provider, now_ms],
                |r| r.get(0),
            )
            .optional()
            .ctx("reading a token block")?;
        Ok(TokenBudget {
            calls_ms,
            blocked_until_ms,
        })
    }

    /// Replaces the provider's budget by `budget` (the caller merged what it
    /// read under the token lock), dropping calls older than an hour.
    pub fn set_token_budget(
        &mut self,
        provider: &str,
        budget: &TokenBudget,
        now_ms: i64,
    ) -> Result<(), JournalError> {
        let tx = self.conn.transaction().ctx("writing token calls")?;
        tx.execute("DELETE FROM token_calls WHERE provider = ?1", [provider])
            .ctx("writing token calls")?;
        for at in budget.calls_ms.iter().filter(|t| **t > now_ms - HOUR_MS) {
            tx.execute(
                "INSERT INTO token_calls(provider, at_ms) VALUES (?1, ?2)",
                params![provider, at],
            )
            .ctx("writing token calls")?;
        }
        match budget.blocked_until_ms {
            Some(until) => tx.execute(
                "INSERT INTO token_blocks(provider, until_ms) VALUES (?1, ?2)
                 ON CONFLICT(provider) DO UPDATE SET until_ms = max(until_ms, excluded.until_ms)",
                params![provider, until],
            ),
            None => tx.execute(
                "DELETE FROM token_blocks WHERE provider = ?1 AND until_ms <= ?2",
                params![provider, now_ms],
            ),
        }
        .ctx("writing a token block")?;
        tx.commit().ctx("writing token calls")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_keeps_one_hour_and_the_longest_block() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(
            &dir.path().join("journal.db"),
            super::super::JournalContext::from_config(&crate::Config::defaults()).unwrap(),
        )
        .unwrap();
        let now = 10 * HOUR_MS;
        assert_eq!(
            j.token_budget("bkash", now).unwrap(),
            TokenBudget::default()
        );
        let b = TokenBudget {
            calls_ms: vec![now - 2 * HOUR_MS, now - 600_000, now - 1000],
            blocked_until_ms: Some(now + 5000),
        };
        j.set_token_budget("bkash", &b, now).unwrap();
        let read = j.token_budget("bkash", now).unwrap();
        assert_eq!(read.calls_ms, vec![now - 600_000, now - 1000]);
        assert_eq!(read.blocked_until_ms, Some(now + 5000));
        // A shorter block never shortens a running one; another provider is apart.
        j.set_token_budget(
            "bkash",
            &TokenBudget {
                calls_ms: vec![],
                blocked_until_ms: Some(now + 1),
            },
            now,
        )
        .unwrap();
        assert_eq!(
            j.token_budget("bkash", now).unwrap().blocked_until_ms,
            Some(now + 5000)
        );
        assert_eq!(
            j.token_budget("other", now).unwrap(),
            TokenBudget::default()
        );
        assert_eq!(
            j.token_budget("bkash", now + 6000)
                .unwrap()
                .blocked_until_ms,
            None
        );
    }
}
