//! The audit chain: every audit row and every Z-report (`day_closes`) is a
//! link of one hash chain, so a journal rewritten after the fact — a row
//! changed, removed or slipped in with raw SQL, past the append-only
//! triggers — no longer verifies, here ([`Journal::verify_chain`], `till
//! audit verify`) and at the hub, which holds the last head it was sent.
//!
//! # Canonical form
//!
//! Row *n* (1-based, `chain_index`, one counter over both tables) carries
//! `chain_hash` = lower-case hex of
//!
//! ```text
//! SHA-256( hash of row n−1  ||  "\n"  ||  canonical content of row n )
//! ```
//!
//! where the hash of row 0 is 64 `0`s (ASCII hex, as stored), and the
//! canonical content is the compact JSON array (serde_json: no spaces,
//! strings escaped as JSON does, `null` for an absent value) of the row's
//! kind, its index and its columns as stored (times are the stored RFC 3339
//! text):
//!
//! - audit row: `["audit",n,at,actor,action,target,detail]`
//! - Z-report: `["z-report",n,day,closed_at,closed_by,report_sha256,outbox_sequence]`,
//!   and the report text itself must still hash to `report_sha256`.
//!
//! The index is inside the hash, so rows cannot be swapped; the kind, so a
//! row cannot move between tables. Rows written before schema 7 are chained
//! once, in time order, by the build that migrates (SQL cannot hash).

use super::{Ctx, Journal, JournalError};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The hash "before" the first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The link of a row after `prev` with canonical content `canonical`.
pub fn link(prev: &str, canonical: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(b"\n");
    h.update(canonical);
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Canonical content of an audit row.
pub fn audit_canonical(
    index: u64,
    at: &str,
    actor: &str,
    action: &str,
    target: Option<&str>,
    detail: Option<&str>,
) -> Vec<u8> {
    serde_json::to_vec(&("audit", index, at, actor, action, target, detail))
        .expect("strings serialise")
}

/// Canonical content of a Z-report row.
pub fn z_canonical(
    index: u64,
    day: &str,
    closed_at: &str,
    closed_by: &str,
    report_sha256: &str,
    outbox_sequence: i64,
) -> Vec<u8> {
    serde_json::to_vec(&(
        "z-report",
        index,
        day,
        closed_at,
        closed_by,
        report_sha256,
        outbox_sequence,
    ))
    .expect("strings serialise")
}

/// The index and the previous hash the next row takes (from the stored head).
pub(crate) fn next(conn: &Connection) -> Result<(u64, String), JournalError> {
    let head: Option<(i64, String)> = conn
        .query_row(
            "SELECT chain_index, chain_hash FROM (
                 SELECT chain_index, chain_hash FROM audit_log WHERE chain_index IS NOT NULL
                 UNION ALL
                 SELECT chain_index, chain_hash FROM day_closes WHERE chain_index IS NOT NULL)
             ORDER BY chain_index DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .ctx("reading the audit chain's head")?;
    Ok(match head {
        Some((i, h)) => (i as u64 + 1, h),
        None => (1, GENESIS.to_owned()),
    })
}

/// Where the chain first fails to verify.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChainBreak {
    /// The chain position that does not verify (for a row outside the
    /// chain: the position it would have had at the end).
    pub index: u64,
    /// `audit_log` or `day_closes`.
    pub table: String,
    /// The row's key (`audit_log.id`, `day_closes.day`); empty for a
    /// position no row holds.
    pub row: String,
    pub reason: String,
}

/// The local chain, recomputed from the rows' content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    /// Rows in the chain.
    pub count: u64,
    /// The head recomputed from the content (what the hub is sent).
    pub head: String,
    /// The head as stored in the last row (equal to `head` when intact).
    pub stored_head: String,
    /// The first row that does not verify; `None`: intact.
    pub first_break: Option<ChainBreak>,
}

/// The recomputed chain: the report and the hash after each row.
pub(crate) struct Walk {
    pub report: ChainReport,
    /// `hashes[n-1]`: the recomputed hash after row n.
    pub hashes: Vec<String>,
}

struct Link {
    index: Option<i64>,
    stored: Option<String>,
    table: &'static str,
    row: String,
    /// For sealing rows without a chain: their time.
    at: String,
    content: Content,
}

enum Content {
    Audit {
        at: String,
        actor: String,
        action: String,
        target: Option<String>,
        detail: Option<String>,
    },
    Z {
        day: String,
        closed_at: String,
        closed_by: String,
        report: String,
        report_sha256: String,
        outbox_sequence: i64,
    },
}

impl Content {
    fn canonical(&self, index: u64) -> Vec<u8> {
        match self {
            Content::Audit {
                at,
                actor,
                action,
                target,
                detail,
            } => audit_canonical(
                index,
                at,
                actor,
                action,
                target.as_deref(),
                detail.as_deref(),
            ),
            Content::Z {
                day,
                closed_at,
                closed_by,
                report_sha256,
                outbox_sequence,
                ..
            } => z_canonical(
                index,
                day,
                closed_at,
                closed_by,
                report_sha256,
                *outbox_sequence,
            ),
        }
    }
}

fn links(conn: &Connection) -> Result<Vec<Link>, JournalError> {
    let mut out = Vec::new();
    let mut stmt = conn
        .prepare(
            "SELECT id, at, actor, action, target, detail, chain_index, chain_hash FROM audit_log",
        )
        .ctx("reading the audit log")?;
    let rows = stmt
        .query_map([], |r| {
            Ok(Link {
                row: r.get::<_, i64>(0)?.to_string(),
                at: r.get(1)?,
                content: Content::Audit {
                    at: r.get(1)?,
                    actor: r.get(2)?,
                    action: r.get(3)?,
                    target: r.get(4)?,
                    detail: r.get(5)?,
                },
                index: r.get(6)?,
                stored: r.get(7)?,
                table: "audit_log",
            })
        })
        .ctx("reading the audit log")?;
    for r in rows {
        out.push(r.ctx("reading the audit log")?);
    }
    let mut stmt = conn
        .prepare(
            "SELECT day, closed_at, closed_by, report, report_sha256, outbox_sequence, chain_index, chain_hash FROM day_closes",
        )
        .ctx("reading closed days")?;
    let rows = stmt
        .query_map([], |r| {
            Ok(Link {
                row: r.get(0)?,
                at: r.get(1)?,
                content: Content::Z {
                    day: r.get(0)?,
                    closed_at: r.get(1)?,
                    closed_by: r.get(2)?,
                    report: r.get(3)?,
                    report_sha256: r.get(4)?,
                    outbox_sequence: r.get(5)?,
                },
                index: r.get(6)?,
                stored: r.get(7)?,
                table: "day_closes",
            })
        })
        .ctx("reading closed days")?;
    for r in rows {
        out.push(r.ctx("reading closed days")?);
    }
    Ok(out)
}

/// Recomputes the whole chain from the rows' content.
pub(crate) fn walk(conn: &Connection) -> Result<Walk, JournalError> {
    let all = links(conn)?;
    let (mut chained, unchained): (Vec<Link>, Vec<Link>) =
        all.into_iter().partition(|l| l.index.is_some());
    chained.sort_by_key(|l| l.index);
    let mut prev = GENESIS.to_owned();
    let mut hashes = Vec::with_capacity(chained.len());
    let mut first_break = None;
    let mut note = |b: ChainBreak| {
        if first_break.is_none() {
            first_break = Some(b);
        }
    };
    for (k, l) in chained.iter().enumerate() {
        let expected = k as u64 + 1;
        let index = l.index.unwrap_or_default() as u64;
        if index != expected {
            note(ChainBreak {
                index: expected,
                table: l.table.to_owned(),
                row: l.row.clone(),
                reason: if index < expected {
                    format!("position {index} is held by two rows")
                } else {
                    format!(
                        "no row holds position {expected} (removed?); the next row is at {index}"
                    )
                },
            });
        }
        let h = link(&prev, &l.content.canonical(index));
        if l.stored.as_deref() != Some(h.as_str()) {
            note(ChainBreak {
                index,
                table: l.table.to_owned(),
                row: l.row.clone(),
                reason: "its content does not match its hash (changed after it was written)".into(),
            });
        }
        if let Content::Z {
            report,
            report_sha256,
            ..
        } = &l.content
        {
            if crate::report::close::sha256_hex(report) != *report_sha256 {
                note(ChainBreak {
                    index,
                    table: l.table.to_owned(),
                    row: l.row.clone(),
                    reason: "the Z-report text does not match its SHA-256".into(),
                });
            }
        }
        hashes.push(h.clone());
        prev = h;
    }
    for l in &unchained {
        note(ChainBreak {
            index: chained.len() as u64 + 1,
            table: l.table.to_owned(),
            row: l.row.clone(),
            reason: "the row is not in the chain (written past Till?)".into(),
        });
    }
    let stored_head = chained
        .last()
        .and_then(|l| l.stored.clone())
        .unwrap_or_else(|| GENESIS.to_owned());
    Ok(Walk {
        report: ChainReport {
            count: chained.len() as u64,
            head: prev,
            stored_head,
            first_break,
        },
        hashes,
    })
}

/// Chains the rows an older build wrote (no chain yet), oldest first; run
/// once, by the build that migrates the journal to the chain's schema.
pub(crate) fn seal_unchained(conn: &mut Connection) -> Result<u64, JournalError> {
    let tx = conn.transaction().ctx("starting a transaction")?;
    let mut rows: Vec<Link> = links(&tx)?
        .into_iter()
        .filter(|l| l.index.is_none())
        .collect();
    // Time order; an audit row before the Z-report of the same instant
    // (the close writes both), then by key.
    rows.sort_by(|a, b| {
        (
            a.at.as_str(),
            a.table == "day_closes",
            a.row.parse::<i64>().ok(),
            a.row.as_str(),
        )
            .cmp(&(
                b.at.as_str(),
                b.table == "day_closes",
                b.row.parse::<i64>().ok(),
                b.row.as_str(),
            ))
    });
    let (mut index, mut prev) = next(&tx)?;
    for l in &rows {
        let h = link(&prev, &l.content.canonical(index));
        let sql = match l.table {
            "audit_log" => "UPDATE audit_log SET chain_index = ?1, chain_hash = ?2 WHERE id = ?3",
            _ => "UPDATE day_closes SET chain_index = ?1, chain_hash = ?2 WHERE day = ?3",
        };
        tx.execute(sql, params![index as i64, h, l.row])
            .ctx("chaining an older row")?;
        prev = h;
        index += 1;
    }
    tx.commit().ctx("committing the chain")?;
    Ok(rows.len() as u64)
}

impl Journal {
    /// Recomputes the audit chain from the rows and says where it first
    /// breaks (`till audit verify`).
    pub fn verify_chain(&self) -> Result<ChainReport, JournalError> {
        Ok(walk(&self.conn)?.report)
    }

    /// The head to send the hub, with the recomputed hash at `hub_count`
    /// (the count the hub said it holds) as proof that its head is a prefix
    /// of ours. `None` while the chain is empty.
    pub fn chain_head(
        &self,
        hub_count: Option<u64>,
    ) -> Result<Option<till_sync_proto::ChainHead>, JournalError> {
        let w = walk(&self.conn)?;
        if w.report.count == 0 {
            return Ok(None);
        }
        let at = hub_count
            .filter(|m| *m >= 1 && *m <= w.report.count)
            .map(|m| till_sync_proto::ChainPoint {
                count: m,
                hash: w.hashes[m as usize - 1].clone(),
            });
        Ok(Some(till_sync_proto::ChainHead {
            count: w.report.count,
            hash: w.report.head,
            at,
        }))
    }
}

impl Journal {
    /// What the hub at `url` last said it holds of the chain.
    pub fn sync_hub_chain(
        &self,
        url: &str,
    ) -> Result<Option<till_sync_proto::ChainPoint>, JournalError> {
        let row: Option<(Option<i64>, Option<String>)> = self
            .conn
            .query_row(
                "SELECT hub_chain_count, hub_chain_hash FROM sync_endpoint WHERE url = ?1",
                [url],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .ctx("reading the hub's chain head")?;
        Ok(match row {
            Some((Some(count), Some(hash))) => Some(till_sync_proto::ChainPoint {
                count: count as u64,
                hash,
            }),
            _ => None,
        })
    }

    /// Remembers the head the hub at `url` holds (from its answer).
    pub fn sync_note_chain(
        &self,
        url: &str,
        held: &till_sync_proto::ChainPoint,
    ) -> Result<(), JournalError> {
        self.conn
            .execute(
                "INSERT INTO sync_endpoint(url, hub_chain_count, hub_chain_hash) VALUES (?1, ?2, ?3)
                 ON CONFLICT(url) DO UPDATE SET hub_chain_count = excluded.hub_chain_count,
                     hub_chain_hash = excluded.hub_chain_hash",
                params![url, held.count as i64, held.hash],
            )
            .ctx("recording the hub's chain head")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::test_context;
    use chrono::Utc;

    #[test]
    fn the_canonical_form_is_fixed() {
        // A change here breaks every stored chain: it is the documented form.
        assert_eq!(
            String::from_utf8(audit_canonical(
                3,
                "2026-11-22T04:00:00.000Z",
                "manager",
                "x",
                None,
                Some("a \"b\"")
            ))
            .unwrap(),
            r#"["audit",3,"2026-11-22T04:00:00.000Z","manager","x",null,"a \"b\""]"#
        );
        assert_eq!(
            link(GENESIS, b"x"),
            "0152f4f98e11e409b35bfa9b5e18c329427b7f29deedbc071733db222ce38158"
        );
    }

    #[test]
    fn rows_chain_and_a_rewrite_is_found() {
        let j = Journal::open_in_memory(test_context()).unwrap();
        for i in 0..3 {
            j.audit("m", "a", None, Some(&format!("d{i}")), Utc::now())
                .unwrap();
        }
        let r = j.verify_chain().unwrap();
        assert_eq!((r.count, r.first_break.clone()), (3, None));
        assert_eq!(r.head, r.stored_head);
        let head = j.chain_head(Some(2)).unwrap().unwrap();
        assert_eq!(head.count, 3);
        assert_eq!(head.at.unwrap().count, 2);
        j.conn
            .execute_batch(
                "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET detail = 'x' WHERE id = 2;",
            )
            .unwrap();
        let r = j.verify_chain().unwrap();
        let b = r.first_break.unwrap();
        assert_eq!(
            (b.index, b.table.as_str(), b.row.as_str()),
            (2, "audit_log", "2")
        );
        assert_ne!(r.head, r.stored_head);
        // A removed row is a gap.
        j.conn
            .execute_batch("DROP TRIGGER audit_log_no_delete; UPDATE audit_log SET detail = 'd1' WHERE id = 2; DELETE FROM audit_log WHERE id = 1;")
            .unwrap();
        let b = j.verify_chain().unwrap().first_break.unwrap();
        assert_eq!(b.index, 1, "{b:?}");
    }
}
