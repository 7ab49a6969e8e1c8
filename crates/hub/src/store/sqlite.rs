//! SQLite storage (bundled SQLite through `rusqlite`): one connection in WAL
//! mode with `synchronous=FULL`, used from `spawn_blocking` under a mutex (the
//! single writer SQLite allows anyway). Amounts are TEXT, summed in Rust.

use super::*;
use crate::sealing::{self, SecretKey};
use chrono::SecondsFormat;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use std::str::FromStr;
use std::sync::Mutex;

mod migrations {
    refinery::embed_migrations!("migrations/sqlite");
}

#[path = "sqlite_office.rs"]
mod office;

/// A SQLite-backed store.
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    /// Seals and opens HMAC secrets; `None`: an ed25519-only hub.
    secret_key: Option<SecretKey>,
}

fn ts(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_ts(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("timestamp {s:?}: {e}")))
}

fn parse_dec(s: Option<String>) -> Result<Option<Decimal>> {
    s.map(|s| Decimal::from_str(&s).map_err(|e| StoreError::Corrupt(format!("amount {s:?}: {e}"))))
        .transpose()
}

fn parse_day(s: &str) -> Result<NaiveDate> {
    NaiveDate::from_str(s).map_err(|e| StoreError::Corrupt(format!("day {s:?}: {e}")))
}

const EVENT_COLUMNS: &str = "rowid, id, terminal_id, sequence, type, business_day, payment_id, \
     provider, currency, amount, refund_amount, received_at, body";

fn event_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RawEventRow> {
    Ok(RawEventRow {
        cursor: row.get(0)?,
        id: row.get(1)?,
        terminal_id: row.get(2)?,
        sequence: row.get(3)?,
        kind: row.get(4)?,
        business_day: row.get(5)?,
        payment_id: row.get(6)?,
        provider: row.get(7)?,
        currency: row.get(8)?,
        amount: row.get(9)?,
        refund_amount: row.get(10)?,
        received_at: row.get(11)?,
        body: row.get(12)?,
    })
}

struct RawEventRow {
    cursor: i64,
    id: String,
    terminal_id: String,
    sequence: i64,
    kind: String,
    business_day: String,
    payment_id: Option<String>,
    provider: Option<String>,
    currency: Option<String>,
    amount: Option<String>,
    refund_amount: Option<String>,
    received_at: String,
    body: String,
}

impl RawEventRow {
    fn finish(self) -> Result<StoredEvent> {
        Ok(StoredEvent {
            cursor: self.cursor,
            id: self.id,
            terminal_id: self.terminal_id,
            sequence: self.sequence as u64,
            kind: self.kind,
            business_day: parse_day(&self.business_day)?,
            payment_id: self.payment_id,
            provider: self.provider,
            currency: self.currency,
            amount: parse_dec(self.amount)?,
            refund_amount: parse_dec(self.refund_amount)?,
            received_at: parse_ts(&self.received_at)?,
            event: serde_json::value::RawValue::from_string(self.body)
                .map_err(|e| StoreError::Corrupt(format!("stored body: {e}")))?,
        })
    }
}

fn load_terminal(
    conn: &Connection,
    secret_key: Option<&SecretKey>,
    id: &str,
) -> Result<Option<Terminal>> {
    let row = conn
        .query_row(
            "SELECT name, status FROM terminals WHERE id = ?1",
            [id],
            |r| Ok((r.get::<_, Option<String>>(0)?, r.get::<_, String>(1)?)),
        )
        .optional()?;
    let Some((name, status)) = row else {
        return Ok(None);
    };
    let mut stmt = conn.prepare_cached(
        "SELECT key_id, material, status, created_at FROM terminal_keys \
         WHERE terminal_id = ?1 ORDER BY key_id",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
        ))
    })?;
    let mut keys = Vec::new();
    for row in rows {
        let (key_id, material, status, created_at) = row?;
        keys.push(KeyRecord {
            key_id,
            key: sealing::key_from_material(secret_key, key_id, id, &material)?,
            active: status == "active",
            created_at: parse_ts(&created_at)?,
        });
    }
    Ok(Some(Terminal {
        id: id.to_string(),
        name,
        status: TerminalStatus::parse(&status)?,
        keys,
    }))
}

fn sequences_above(conn: &Connection, terminal: &str, hc: u64) -> Result<Vec<u64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT sequence FROM events WHERE terminal_id = ?1 AND sequence > ?2 ORDER BY sequence",
    )?;
    let rows = stmt.query_map(params![terminal, hc as i64], |r| r.get::<_, i64>(0))?;
    let mut out = Vec::new();
    for r in rows {
        out.push(r? as u64);
    }
    Ok(out)
}

fn ingest_tx(
    conn: &mut Connection,
    terminal: &str,
    events: &[NewEvent],
    chain: Option<&ChainHead>,
    received_at: &DateTime<Utc>,
) -> Result<IngestOutcome> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let hc: i64 = tx
        .query_row(
            "SELECT highest_contiguous FROM terminals WHERE id = ?1",
            [terminal],
            |r| r.get(0),
        )
        .optional()?
        .ok_or_else(|| StoreError::UnknownTerminal(terminal.to_string()))?;
    let received = ts(received_at);
    let mut results = Vec::with_capacity(events.len());
    let mut stored_any = false;
    let mut max_seq = 0u64;
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO events (id, terminal_id, sequence, type, payment_id, provider, currency, \
             amount, refund_id, refund_amount, business_day, occurred_at, received_at, body) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) \
             ON CONFLICT DO NOTHING",
        )?;
        for e in events {
            let n = insert.execute(params![
                e.id,
                terminal,
                e.sequence as i64,
                e.kind.as_str(),
                e.payment_id,
                e.provider,
                e.currency,
                e.amount.map(|d| d.to_string()),
                e.refund_id,
                e.refund_amount.map(|d| d.to_string()),
                e.business_day.to_string(),
                e.occurred_at.to_rfc3339(),
                received,
                e.body,
            ])?;
            if n == 1 {
                stored_any = true;
                max_seq = max_seq.max(e.sequence);
                results.push((e.id.clone(), e.sequence, IngestStatus::Stored));
                track_payee(&tx, terminal, e, &received)?;
                continue;
            }
            let by_id: Option<(String, i64)> = tx
                .query_row(
                    "SELECT terminal_id, sequence FROM events WHERE id = ?1",
                    [&e.id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            match by_id {
                Some((t, s)) if t == terminal && s as u64 == e.sequence => {
                    results.push((e.id.clone(), e.sequence, IngestStatus::Duplicate));
                }
                Some((t, s)) => {
                    return Err(StoreError::Conflict {
                        id: e.id.clone(),
                        sequence: e.sequence,
                        existing_id: Some(e.id.clone()),
                        reason: format!(
                            "webhook id {} already names event {s} of terminal {t}",
                            e.id
                        ),
                    })
                }
                None => {
                    let existing: Option<String> = tx
                        .query_row(
                            "SELECT id FROM events WHERE terminal_id = ?1 AND sequence = ?2",
                            params![terminal, e.sequence as i64],
                            |r| r.get(0),
                        )
                        .optional()?;
                    return Err(StoreError::Conflict {
                        id: e.id.clone(),
                        sequence: e.sequence,
                        reason: format!(
                            "sequence {} of terminal {terminal} is already stored under id {}",
                            e.sequence,
                            existing.as_deref().unwrap_or("?")
                        ),
                        existing_id: existing,
                    });
                }
            }
        }
    }
    let mut new_hc = hc as u64;
    if stored_any {
        new_hc = advance(new_hc, &sequences_above(&tx, terminal, new_hc)?);
    }
    tx.execute(
        "UPDATE terminals SET highest_contiguous = ?2, max_sequence = MAX(max_sequence, ?3), \
         last_received_at = ?4 WHERE id = ?1",
        params![terminal, new_hc as i64, max_seq as i64, received],
    )?;
    let chain = match chain {
        Some(c) => Some(track_chain(&tx, terminal, c, &received)?),
        None => None,
    };
    tx.commit()?;
    Ok(IngestOutcome {
        results,
        highest_contiguous: new_hc,
        chain,
    })
}

/// Judges a request's chain head against the held one (see [`chain_step`]).
fn track_chain(
    tx: &Connection,
    terminal: &str,
    sent: &ChainHead,
    received: &str,
) -> Result<ChainAck> {
    let held: Option<ChainPoint> = tx
        .query_row(
            "SELECT count, hash FROM chain_heads WHERE terminal_id = ?1",
            [terminal],
            |r| {
                Ok(ChainPoint {
                    count: r.get::<_, i64>(0)? as u64,
                    hash: r.get(1)?,
                })
            },
        )
        .optional()?;
    let (ack, hold, reason) = chain_step(held.as_ref(), sent);
    if let (Some(reason), Some(h)) = (&reason, &held) {
        tracing::error!(terminal, reason = %reason, "audit chain broken");
        tx.execute(
            "INSERT INTO chain_breaks (terminal_id, held_count, held_hash, sent_count, sent_hash, \
             sent_at_count, sent_at_hash, reason, detected_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                terminal,
                h.count as i64,
                h.hash,
                sent.count as i64,
                sent.hash,
                sent.at.as_ref().map(|a| a.count as i64),
                sent.at.as_ref().map(|a| a.hash.as_str()),
                reason,
                received
            ],
        )?;
    }
    if let Some(p) = hold {
        tx.execute(
            "INSERT INTO chain_heads (terminal_id, count, hash, received_at) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (terminal_id) DO UPDATE SET count = excluded.count, hash = excluded.hash, \
             received_at = excluded.received_at",
            params![terminal, p.count as i64, p.hash, received],
        )?;
    }
    Ok(ack)
}

fn load_chain(
    conn: &Connection,
    terminal: &str,
) -> Result<(Option<ChainInfo>, Vec<ChainBreakInfo>)> {
    let head: Option<(i64, String, String)> = conn
        .query_row(
            "SELECT count, hash, received_at FROM chain_heads WHERE terminal_id = ?1",
            [terminal],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let head = match head {
        Some((count, hash, at)) => Some(ChainInfo {
            count: count as u64,
            hash,
            received_at: parse_ts(&at)?,
        }),
        None => None,
    };
    let mut stmt = conn.prepare_cached(
        "SELECT held_count, held_hash, sent_count, sent_hash, sent_at_count, sent_at_hash, reason, \
         detected_at FROM chain_breaks WHERE terminal_id = ?1 ORDER BY id",
    )?;
    type Row = (
        i64,
        String,
        i64,
        String,
        Option<i64>,
        Option<String>,
        String,
        String,
    );
    let rows: Vec<Row> = stmt
        .query_map([terminal], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let breaks = rows
        .into_iter()
        .map(|(hc, hh, sc, sh, ac, ah, reason, at)| {
            Ok(ChainBreakInfo {
                held_count: hc as u64,
                held_hash: hh,
                sent_count: sc as u64,
                sent_hash: sh,
                sent_at_count: ac.map(|c| c as u64),
                sent_at_hash: ah,
                reason,
                detected_at: parse_ts(&at)?,
            })
        })
        .collect::<Result<_>>()?;
    Ok((head, breaks))
}

/// Holds the payee a newly stored event names and records a change
/// (see [`payee_step`]); in the ingest transaction.
fn track_payee(tx: &Connection, terminal: &str, e: &NewEvent, received: &str) -> Result<()> {
    let (Some(provider), Some(payee)) = (&e.provider, &e.payee) else {
        return Ok(());
    };
    let held: Option<(String, i64)> = tx
        .query_row(
            "SELECT payee, sequence FROM terminal_payees WHERE terminal_id = ?1 AND provider = ?2",
            params![terminal, provider],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let step = payee_step(
        held.as_ref().map(|(p, s)| (p.as_str(), *s as u64)),
        payee,
        e.sequence,
    );
    let at = e.occurred_at.to_rfc3339();
    match step {
        PayeeStep::Late => {}
        PayeeStep::Same => {
            tx.execute(
                "UPDATE terminal_payees SET sequence = ?3 WHERE terminal_id = ?1 AND provider = ?2",
                params![terminal, provider, e.sequence as i64],
            )?;
        }
        PayeeStep::First | PayeeStep::Changed(_) => {
            if let PayeeStep::Changed(old) = &step {
                tracing::warn!(terminal, provider = %provider, old = %old, new = %payee, sequence = e.sequence, "payee changed");
                tx.execute(
                    "INSERT INTO payee_changes (terminal_id, provider, old_payee, new_payee, sequence, \
                     event_id, occurred_at, detected_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![terminal, provider, old, payee, e.sequence as i64, e.id, at, received],
                )?;
            }
            tx.execute(
                "INSERT INTO terminal_payees (terminal_id, provider, payee, sequence, since) \
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (terminal_id, provider) DO UPDATE SET \
                 payee = excluded.payee, sequence = excluded.sequence, since = excluded.since",
                params![terminal, provider, payee, e.sequence as i64, at],
            )?;
        }
    }
    Ok(())
}

fn parse_fixed(s: &str) -> Result<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(s).map_err(|_| StoreError::Corrupt(format!("timestamp {s:?}")))
}

fn load_payees(
    conn: &Connection,
    terminal: &str,
) -> Result<(Vec<PayeeInfo>, Vec<PayeeChangeInfo>)> {
    let mut stmt = conn.prepare_cached(
        "SELECT provider, payee, since, sequence FROM terminal_payees WHERE terminal_id = ?1 ORDER BY provider",
    )?;
    let held: Vec<(String, String, String, i64)> = stmt
        .query_map([terminal], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut stmt = conn.prepare_cached(
        "SELECT provider, old_payee, new_payee, sequence, event_id, occurred_at, detected_at \
         FROM payee_changes WHERE terminal_id = ?1 ORDER BY id",
    )?;
    type Row = (String, String, String, i64, String, String, String);
    let changes: Vec<Row> = stmt
        .query_map([terminal], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let payees = held
        .into_iter()
        .map(|(provider, payee, since, seq)| {
            Ok(PayeeInfo {
                provider,
                payee,
                since: parse_fixed(&since)?,
                sequence: seq as u64,
            })
        })
        .collect::<Result<_>>()?;
    let changes = changes
        .into_iter()
        .map(|(provider, old, new, seq, event_id, occurred, detected)| {
            Ok(PayeeChangeInfo {
                provider,
                old,
                new,
                sequence: seq as u64,
                event_id,
                occurred_at: parse_fixed(&occurred)?,
                detected_at: parse_ts(&detected)?,
            })
        })
        .collect::<Result<_>>()?;
    Ok((payees, changes))
}

fn key_rows(conn: &Connection) -> Result<Vec<sealing::KeyRow>> {
    let mut stmt = conn
        .prepare("SELECT key_id, terminal_id, kind, material FROM terminal_keys ORDER BY key_id")?;
    let rows = stmt.query_map([], |r| {
        Ok(sealing::KeyRow {
            key_id: r.get(0)?,
            terminal_id: r.get(1)?,
            kind: r.get(2)?,
            material: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Check the stored HMAC secrets against the key, and seal those an older
/// hub stored in plain text; one transaction.
fn seal_plain_secrets(conn: &mut Connection, secret_key: Option<&SecretKey>) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let reseal = sealing::seal_plain(secret_key, &key_rows(&tx)?)?;
    for (key_id, material) in &reseal {
        tx.execute(
            "UPDATE terminal_keys SET material = ?2 WHERE key_id = ?1",
            params![key_id, material],
        )?;
    }
    tx.commit()?;
    if !reseal.is_empty() {
        // The plain texts may linger in the WAL and in free pages: write the
        // WAL back, rebuild the file without them, empty the WAL.
        conn.execute_batch(
            "PRAGMA wal_checkpoint(TRUNCATE); VACUUM; PRAGMA wal_checkpoint(TRUNCATE);",
        )?;
        tracing::info!(
            secrets = reseal.len(),
            "sealed HMAC secrets an older hub stored in plain text"
        );
    }
    Ok(())
}

impl SqliteStore {
    /// Open or create the database file, bring its schema up to date, and
    /// check (and seal) the stored HMAC secrets with `secret_key`.
    pub async fn open(path: &str, secret_key: Option<SecretKey>) -> Result<Self> {
        let path = path.to_string();
        let key = secret_key.clone();
        let conn = tokio::task::spawn_blocking(move || -> Result<Connection> {
            let mut conn = Connection::open(&path)?;
            conn.busy_timeout(std::time::Duration::from_secs(10))?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "FULL")?;
            conn.pragma_update(None, "foreign_keys", "ON")?;
            // Deleted rows (an overwritten plain secret) are zeroed, not left
            // in free pages.
            conn.pragma_update(None, "secure_delete", "ON")?;
            migrations::migrations::runner().run(&mut conn)?;
            seal_plain_secrets(&mut conn, key.as_ref())?;
            Ok(conn)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))??;
        Ok(SqliteStore {
            conn: Arc::new(Mutex::new(conn)),
            secret_key,
        })
    }

    async fn with<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn add_terminal(&self, id: &str, name: Option<&str>, key: &VerifyingKey) -> Result<i64> {
        let material = sealing::material_for(self.secret_key.as_ref(), id, key)?;
        let (id, name, kind) = (id.to_string(), name.map(str::to_string), key.kind());
        self.with(move |conn| {
            let tx = conn.transaction()?;
            let now = ts(&Utc::now());
            let n = tx.execute(
                "INSERT INTO terminals (id, name, created_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT DO NOTHING",
                params![id, name, now],
            )?;
            if n == 0 {
                return Err(StoreError::TerminalExists(id));
            }
            tx.execute(
                "INSERT INTO terminal_keys (terminal_id, kind, material, created_at) \
                 VALUES (?1, ?2, ?3, ?4)",
                params![id, kind, material, now],
            )?;
            let key_id = tx.last_insert_rowid();
            tx.commit()?;
            Ok(key_id)
        })
        .await
    }

    async fn add_key(&self, terminal: &str, key: &VerifyingKey) -> Result<i64> {
        let material = sealing::material_for(self.secret_key.as_ref(), terminal, key)?;
        let (terminal, kind) = (terminal.to_string(), key.kind());
        self.with(move |conn| {
            let tx = conn.transaction()?;
            let exists: Option<i64> = tx
                .query_row("SELECT 1 FROM terminals WHERE id = ?1", [&terminal], |r| {
                    r.get(0)
                })
                .optional()?;
            if exists.is_none() {
                return Err(StoreError::UnknownTerminal(terminal));
            }
            tx.execute(
                "INSERT INTO terminal_keys (terminal_id, kind, material, created_at) \
                 VALUES (?1, ?2, ?3, ?4)",
                params![terminal, kind, material, ts(&Utc::now())],
            )?;
            let key_id = tx.last_insert_rowid();
            tx.commit()?;
            Ok(key_id)
        })
        .await
    }

    async fn retire_keys(&self, terminal: &str, key_ids: &[i64]) -> Result<usize> {
        let (terminal, key_ids) = (terminal.to_string(), key_ids.to_vec());
        self.with(move |conn| {
            let tx = conn.transaction()?;
            let now = ts(&Utc::now());
            let mut n = 0;
            for k in key_ids {
                n += tx.execute(
                    "UPDATE terminal_keys SET status = 'retired', retired_at = ?3 \
                     WHERE terminal_id = ?1 AND key_id = ?2 AND status = 'active'",
                    params![terminal, k, now],
                )?;
            }
            tx.commit()?;
            Ok(n)
        })
        .await
    }

    async fn set_status(&self, terminal: &str, status: TerminalStatus) -> Result<()> {
        let terminal = terminal.to_string();
        self.with(move |conn| {
            let n = conn.execute(
                "UPDATE terminals SET status = ?2 WHERE id = ?1",
                params![terminal, status.as_str()],
            )?;
            if n == 0 {
                return Err(StoreError::UnknownTerminal(terminal));
            }
            Ok(())
        })
        .await
    }

    async fn check_secrets(&self) -> Result<()> {
        let key = self.secret_key.clone();
        self.with(move |conn| sealing::check_all(key.as_ref(), &key_rows(conn)?))
            .await
    }

    async fn terminal(&self, id: &str) -> Result<Option<Terminal>> {
        let id = id.to_string();
        let key = self.secret_key.clone();
        self.with(move |conn| load_terminal(conn, key.as_ref(), &id))
            .await
    }

    async fn terminals(&self) -> Result<Vec<TerminalInfo>> {
        let key = self.secret_key.clone();
        self.with(move |conn| {
            let ids: Vec<(String, i64, i64, Option<String>, i64)> = {
                let mut stmt = conn.prepare(
                    "SELECT t.id, t.highest_contiguous, t.max_sequence, t.last_received_at, \
                     (SELECT COUNT(*) FROM events e WHERE e.terminal_id = t.id) \
                     FROM terminals t ORDER BY t.id",
                )?;
                let rows = stmt.query_map([], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            let mut out = Vec::new();
            for (id, hc, max, last, count) in ids {
                let t = load_terminal(conn, key.as_ref(), &id)?
                    .ok_or_else(|| StoreError::Corrupt(format!("terminal {id} vanished")))?;
                let (payees, payee_changes) = load_payees(conn, &id)?;
                let (chain, chain_breaks) = load_chain(conn, &id)?;
                out.push(TerminalInfo {
                    chain,
                    chain_broken: !chain_breaks.is_empty(),
                    chain_breaks,
                    payees,
                    payee_changed: !payee_changes.is_empty(),
                    payee_changes,
                    id,
                    name: t.name,
                    status: t.status,
                    keys: t.keys.iter().map(KeyInfo::from).collect(),
                    highest_contiguous: hc as u64,
                    max_sequence: max as u64,
                    events: count as u64,
                    last_received_at: last.as_deref().map(parse_ts).transpose()?,
                });
            }
            Ok(out)
        })
        .await
    }

    async fn ingest(
        &self,
        terminal: &str,
        events: Vec<NewEvent>,
        chain: Option<ChainHead>,
        received_at: DateTime<Utc>,
    ) -> Result<IngestOutcome> {
        let terminal = terminal.to_string();
        self.with(move |conn| ingest_tx(conn, &terminal, &events, chain.as_ref(), &received_at))
            .await
    }

    async fn payees(&self, terminal: &str) -> Result<Option<TerminalPayees>> {
        let terminal = terminal.to_string();
        self.with(move |conn| {
            let known: Option<i64> = conn
                .query_row("SELECT 1 FROM terminals WHERE id = ?1", [&terminal], |r| {
                    r.get(0)
                })
                .optional()?;
            if known.is_none() {
                return Ok(None);
            }
            let (payees, payee_changes) = load_payees(conn, &terminal)?;
            Ok(Some(TerminalPayees {
                terminal,
                payees,
                payee_changed: !payee_changes.is_empty(),
                payee_changes,
            }))
        })
        .await
    }

    async fn progress(&self, terminal: &str) -> Result<Option<Progress>> {
        let terminal = terminal.to_string();
        self.with(move |conn| {
            let row: Option<(i64, i64, Option<String>)> = conn
                .query_row(
                    "SELECT highest_contiguous, max_sequence, last_received_at \
                     FROM terminals WHERE id = ?1",
                    [&terminal],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let Some((hc, max, last)) = row else {
                return Ok(None);
            };
            let above = sequences_above(conn, &terminal, hc as u64)?;
            Ok(Some(Progress {
                highest_contiguous: hc as u64,
                gaps: gaps_from(hc as u64, &above),
                max_sequence: max as u64,
                last_received_at: last.as_deref().map(parse_ts).transpose()?,
            }))
        })
        .await
    }

    async fn event(&self, id: &str) -> Result<Option<StoredEvent>> {
        let id = id.to_string();
        self.with(move |conn| {
            conn.query_row(
                &format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = ?1"),
                [&id],
                event_row,
            )
            .optional()?
            .map(RawEventRow::finish)
            .transpose()
        })
        .await
    }

    async fn settlements(&self, q: &SettlementQuery) -> Result<Vec<StoredEvent>> {
        let q = q.clone();
        self.with(move |conn| {
            let kinds: Vec<&str> = match q.kind {
                Some(k) => vec![k.as_str()],
                None => vec![
                    EventType::PaymentSettled.as_str(),
                    EventType::PaymentRefunded.as_str(),
                ],
            };
            let sql = format!(
                "SELECT {EVENT_COLUMNS} FROM events \
                 WHERE rowid > ?1 AND (?2 IS NULL OR terminal_id = ?2) \
                 AND (?3 IS NULL OR business_day = ?3) AND (?4 IS NULL OR provider = ?4) \
                 AND type IN (?5, ?6) ORDER BY rowid LIMIT ?7"
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(
                params![
                    q.after.unwrap_or(0),
                    q.terminal,
                    q.day.map(|d| d.to_string()),
                    q.provider,
                    kinds[0],
                    kinds[kinds.len() - 1],
                    q.limit,
                ],
                event_row,
            )?;
            let mut out = Vec::new();
            for r in rows {
                out.push(r?.finish()?);
            }
            Ok(out)
        })
        .await
    }

    async fn totals(&self, q: &TotalsQuery) -> Result<Vec<TotalsRow>> {
        let q = q.clone();
        self.with(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT provider, currency, type, amount, refund_amount FROM events \
                 WHERE type IN ('payment.settled', 'payment.refunded') \
                 AND (?1 IS NULL OR terminal_id = ?1) AND (?2 IS NULL OR business_day = ?2) \
                 ORDER BY provider, currency",
            )?;
            let rows = stmt.query_map(params![q.terminal, q.day.map(|d| d.to_string())], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                ))
            })?;
            let mut acc: std::collections::BTreeMap<(String, String), TotalsRow> =
                Default::default();
            for r in rows {
                let (provider, currency, kind, amount, refund) = r?;
                let row = acc
                    .entry((provider.clone(), currency.clone()))
                    .or_insert_with(|| TotalsRow {
                        provider,
                        currency,
                        count: 0,
                        settled: Decimal::ZERO,
                        refund_count: 0,
                        refunded: Decimal::ZERO,
                        net: Decimal::ZERO,
                    });
                if kind == EventType::PaymentSettled.as_str() {
                    row.count += 1;
                    row.settled += parse_dec(amount)?.unwrap_or_default();
                } else {
                    row.refund_count += 1;
                    row.refunded += parse_dec(refund)?.unwrap_or_default();
                }
            }
            Ok(acc.into_values().map(TotalsRow::finish).collect())
        })
        .await
    }

    async fn add_token(&self, sha256_hex: &str, label: &str) -> Result<i64> {
        let (h, l) = (sha256_hex.to_string(), label.to_string());
        self.with(move |conn| {
            conn.execute(
                "INSERT INTO read_tokens (token_sha256, label, created_at) VALUES (?1, ?2, ?3)",
                params![h, l, ts(&Utc::now())],
            )?;
            Ok(conn.last_insert_rowid())
        })
        .await
    }

    async fn use_token(&self, sha256_hex: &str, now: DateTime<Utc>) -> Result<bool> {
        let h = sha256_hex.to_string();
        let stale = now - chrono::Duration::seconds(LAST_USED_GRANULARITY_SECS);
        self.with(move |conn| {
            let touched = conn.execute(
                "UPDATE read_tokens SET last_used_at = ?2 WHERE token_sha256 = ?1 \
                 AND revoked_at IS NULL AND (last_used_at IS NULL OR last_used_at < ?3)",
                params![h, ts(&now), ts(&stale)],
            )?;
            if touched > 0 {
                return Ok(true);
            }
            Ok(conn
                .query_row(
                    "SELECT 1 FROM read_tokens WHERE token_sha256 = ?1 AND revoked_at IS NULL",
                    [&h],
                    |r| r.get::<_, i64>(0),
                )
                .optional()?
                .is_some())
        })
        .await
    }

    async fn tokens(&self) -> Result<Vec<TokenInfo>> {
        self.with(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, label, created_at, last_used_at, revoked_at FROM read_tokens \
                 ORDER BY id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                ))
            })?;
            let mut out = Vec::new();
            for r in rows {
                let (id, label, created, used, revoked) = r?;
                let revoked_at = revoked.as_deref().map(parse_ts).transpose()?;
                out.push(TokenInfo {
                    id,
                    label,
                    status: TokenInfo::status_of(revoked_at.is_some()),
                    created_at: parse_ts(&created)?,
                    last_used_at: used.as_deref().map(parse_ts).transpose()?,
                    revoked_at,
                });
            }
            Ok(out)
        })
        .await
    }

    async fn revoke_token(&self, id: i64, now: DateTime<Utc>) -> Result<Revoked> {
        self.with(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let row: Option<Option<String>> = tx
                .query_row(
                    "SELECT revoked_at FROM read_tokens WHERE id = ?1",
                    [id],
                    |r| r.get(0),
                )
                .optional()?;
            let outcome = match row {
                None => Revoked::NoSuchToken,
                Some(Some(at)) => Revoked::Already(parse_ts(&at)?),
                Some(None) => {
                    tx.execute(
                        "UPDATE read_tokens SET revoked_at = ?2 WHERE id = ?1",
                        params![id, ts(&now)],
                    )?;
                    Revoked::Now
                }
            };
            tx.commit()?;
            Ok(outcome)
        })
        .await
    }

    async fn count_events(&self, terminal: Option<&str>) -> Result<u64> {
        let t = terminal.map(str::to_string);
        self.with(move |conn| {
            let n: i64 = conn.query_row(
                "SELECT COUNT(*) FROM events WHERE (?1 IS NULL OR terminal_id = ?1)",
                params![t],
                |r| r.get(0),
            )?;
            Ok(n as u64)
        })
        .await
    }

    async fn day_closes(&self, terminal: &str, day: NaiveDate) -> Result<Vec<StoredEvent>> {
        let (terminal, day) = (terminal.to_string(), day.to_string());
        self.with(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM events WHERE terminal_id = ?1 AND business_day = ?2 \
                 AND type = 'day.closed' ORDER BY rowid"
            ))?;
            let rows = stmt.query_map(params![terminal, day], event_row)?;
            let mut out = Vec::new();
            for r in rows {
                out.push(r?.finish()?);
            }
            Ok(out)
        })
        .await
    }

    async fn days(
        &self,
        terminal: Option<&str>,
        day: Option<NaiveDate>,
        limit: u32,
    ) -> Result<Vec<(String, NaiveDate)>> {
        let (terminal, day) = (terminal.map(str::to_string), day.map(|d| d.to_string()));
        self.with(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT DISTINCT terminal_id, business_day FROM events \
                 WHERE (?1 IS NULL OR terminal_id = ?1) AND (?2 IS NULL OR business_day = ?2) \
                 ORDER BY business_day DESC, terminal_id LIMIT ?3",
            )?;
            let rows = stmt.query_map(params![terminal, day, limit], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?;
            let mut out = Vec::new();
            for r in rows {
                let (t, d) = r?;
                out.push((t, parse_day(&d)?));
            }
            Ok(out)
        })
        .await
    }

    async fn office_add_user(&self, user: &NewOfficeUser) -> Result<Option<i64>> {
        office::add_user(self, user).await
    }

    async fn office_user(&self, username: &str) -> Result<Option<OfficeUser>> {
        office::user(self, username).await
    }

    async fn office_users(&self) -> Result<Vec<OfficeUser>> {
        office::users(self).await
    }

    async fn office_set_status(&self, username: &str, status: UserStatus) -> Result<bool> {
        office::set_status(self, username, status).await
    }

    async fn office_set_password(
        &self,
        username: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        office::set_password(self, username, password_hash, now).await
    }

    async fn office_set_language(&self, user_id: i64, language: Option<&str>) -> Result<()> {
        office::set_language(self, user_id, language).await
    }

    async fn office_sign_in_failed(
        &self,
        user_id: i64,
        now: DateTime<Utc>,
        max_failures: u32,
        lock_for: chrono::Duration,
    ) -> Result<Option<DateTime<Utc>>> {
        office::sign_in_failed(self, user_id, now, max_failures, lock_for).await
    }

    async fn office_open_session(&self, session: &NewSession) -> Result<()> {
        office::open_session(self, session).await
    }

    async fn office_session(
        &self,
        token_sha256: &str,
        now: DateTime<Utc>,
        idle: chrono::Duration,
    ) -> Result<Option<(SessionRow, OfficeUser)>> {
        office::session(self, token_sha256, now, idle).await
    }

    async fn office_close_session(&self, token_sha256: &str) -> Result<()> {
        office::close_session(self, token_sha256).await
    }

    async fn office_search(&self, q: &OfficeSearch) -> Result<Vec<StoredEvent>> {
        office::search(self, q).await
    }
}
