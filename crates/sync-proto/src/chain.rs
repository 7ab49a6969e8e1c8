//! The terminal's audit chain head, sent with each `till.batch/2`, and the
//! hub's answer about it.
//!
//! The terminal's audit log and Z-reports form one hash chain (row *n*
//! carries SHA-256 over row *n−1*'s hash and its own canonical content; see
//! `docs/webhooks.md`). The hub cannot recompute it — it never sees the rows
//! — so it keeps the last head a terminal sent, `(count, hash)`, and asks the
//! terminal to prove that a new head extends it: with the new head the
//! terminal sends the hash of its chain *at* the count the hub holds
//! ([`ChainHead::at`]). Same count and hash: the old head is a prefix of the
//! new one. Fewer rows, or another hash at that count: the log was rewritten.

use crate::event::SchemaError;
use serde::{Deserialize, Serialize};

/// A point of a chain: the hash after its first `count` rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainPoint {
    /// Rows in the chain up to this point (≥ 1).
    pub count: u64,
    /// Lower-case hex SHA-256, 64 characters.
    pub hash: String,
}

/// The head of the terminal's chain now, and the proof that it extends the
/// head the hub holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    /// Rows in the chain (≥ 1; a terminal with an empty chain sends no head).
    pub count: u64,
    /// The hash after the last row.
    pub hash: String,
    /// The hash at the count the hub said it holds (its last
    /// [`ChainAck::count`]); absent when the terminal knows of none, or
    /// holds fewer rows than that now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<ChainPoint>,
}

/// What the hub made of a head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChainStatus {
    /// The first head the hub has of this terminal: kept.
    Recorded,
    /// The head the hub held is a prefix of this one: this one is kept.
    Extended,
    /// The same head as held.
    Unchanged,
    /// Longer than the held head, but without the hash at the held count
    /// (or with it at another count): not taken on trust; the held head
    /// stays, and the terminal proves it next time.
    Unverified,
    /// Fewer rows than held, or another hash at a count the hub has seen:
    /// the terminal is flagged, and the hub follows the new head from now on.
    Broken,
}

/// The hub's answer about the head of a `till.batch/2`, in [`crate::IngestResponse`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainAck {
    pub status: ChainStatus,
    /// The head the hub holds after this request: what the terminal proves
    /// next time (`ChainHead::at`).
    pub count: u64,
    pub hash: String,
}

fn valid_hash(h: &str) -> bool {
    h.len() == 64
        && h.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl ChainPoint {
    fn validate(&self, field: &'static str) -> Result<(), SchemaError> {
        if self.count == 0 || self.count > i64::MAX as u64 {
            return Err(SchemaError::Invalid {
                field,
                reason: "count must be ≥ 1 (and fit in 63 bits)".into(),
            });
        }
        if !valid_hash(&self.hash) {
            return Err(SchemaError::Invalid {
                field,
                reason: "hash must be 64 lower-case hex digits".into(),
            });
        }
        Ok(())
    }
}

impl ChainHead {
    /// The head as a point (without the proof).
    pub fn point(&self) -> ChainPoint {
        ChainPoint {
            count: self.count,
            hash: self.hash.clone(),
        }
    }

    pub fn validate(&self) -> Result<(), SchemaError> {
        self.point().validate("chain")?;
        if let Some(at) = &self.at {
            at.validate("chain.at")?;
            if at.count > self.count {
                return Err(SchemaError::Invalid {
                    field: "chain.at",
                    reason: "count is beyond the head".into(),
                });
            }
        }
        Ok(())
    }
}

/// What a hub holding `held` makes of `sent`, and why when it is broken.
/// The new head to hold is `sent`'s point unless the status is
/// [`ChainStatus::Unverified`] or [`ChainStatus::Unchanged`] (then `held`).
pub fn judge(held: Option<&ChainPoint>, sent: &ChainHead) -> (ChainStatus, Option<String>) {
    let Some(held) = held else {
        return (ChainStatus::Recorded, None);
    };
    if sent.count < held.count {
        return (
            ChainStatus::Broken,
            Some(format!(
                "the terminal's chain has {} rows, fewer than the {} the hub has seen",
                sent.count, held.count
            )),
        );
    }
    if sent.count == held.count {
        return if sent.hash == held.hash {
            (ChainStatus::Unchanged, None)
        } else {
            (
                ChainStatus::Broken,
                Some(format!(
                    "another hash at count {} than the hub holds",
                    held.count
                )),
            )
        };
    }
    match &sent.at {
        Some(at) if at.count == held.count && at.hash == held.hash => (ChainStatus::Extended, None),
        Some(at) if at.count == held.count => (
            ChainStatus::Broken,
            Some(format!(
                "the terminal's hash at count {} is not the one the hub holds",
                held.count
            )),
        ),
        _ => (ChainStatus::Unverified, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(count: u64, c: char) -> ChainPoint {
        ChainPoint {
            count,
            hash: std::iter::repeat_n(c, 64).collect(),
        }
    }

    fn head(count: u64, c: char, at: Option<ChainPoint>) -> ChainHead {
        ChainHead {
            count,
            hash: p(count, c).hash,
            at,
        }
    }

    #[test]
    fn judging_heads() {
        let held = p(4, 'a');
        assert_eq!(judge(None, &head(4, 'a', None)).0, ChainStatus::Recorded);
        assert_eq!(
            judge(Some(&held), &head(4, 'a', None)).0,
            ChainStatus::Unchanged
        );
        assert_eq!(
            judge(Some(&held), &head(4, 'b', None)).0,
            ChainStatus::Broken
        );
        assert_eq!(
            judge(Some(&held), &head(3, 'a', None)).0,
            ChainStatus::Broken
        );
        assert_eq!(
            judge(Some(&held), &head(6, 'b', Some(p(4, 'a')))).0,
            ChainStatus::Extended
        );
        assert_eq!(
            judge(Some(&held), &head(6, 'b', Some(p(4, 'c')))).0,
            ChainStatus::Broken
        );
        assert_eq!(
            judge(Some(&held), &head(6, 'b', None)).0,
            ChainStatus::Unverified
        );
        assert_eq!(
            judge(Some(&held), &head(6, 'b', Some(p(2, 'a')))).0,
            ChainStatus::Unverified
        );
    }

    #[test]
    fn heads_are_checked() {
        assert!(head(2, 'a', Some(p(1, 'b'))).validate().is_ok());
        assert!(head(2, 'A', None).validate().is_err());
        assert!(head(0, 'a', None).validate().is_err());
        assert!(head(2, 'a', Some(p(3, 'b'))).validate().is_err());
    }
}
