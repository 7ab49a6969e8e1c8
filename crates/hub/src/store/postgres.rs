//! PostgreSQL storage (`tokio-postgres` with a `deadpool-postgres` pool; TLS
//! per the URL's `sslmode`, see [`super::pg_tls`]). Amounts are NUMERIC and
//! summed in SQL. Each ingest locks its terminal's row (`FOR UPDATE`), so one
//! terminal's requests are applied one at a time while different terminals
//! proceed in parallel.

use super::*;
use crate::sealing::{self, SecretKey};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};

mod migrations {
    refinery::embed_migrations!("migrations/postgres");
}

#[path = "postgres_office.rs"]
mod office;

/// A PostgreSQL-backed store.
pub struct PgStore {
    pool: Pool,
    /// Seals and opens HMAC secrets; `None`: an ed25519-only hub.
    secret_key: Option<SecretKey>,
}

fn pool_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Pool(e.to_string())
}

const EVENT_COLUMNS: &str = "row_no, id, terminal_id, sequence, type, business_day, payment_id, \
     provider, currency, amount, refund_amount, received_at, body";

fn event_from_row(r: &tokio_postgres::Row) -> Result<StoredEvent> {
    Ok(StoredEvent {
        cursor: r.try_get(0)?,
        id: r.try_get(1)?,
        terminal_id: r.try_get(2)?,
        sequence: r.try_get::<_, i64>(3)? as u64,
        kind: r.try_get(4)?,
        business_day: r.try_get(5)?,
        payment_id: r.try_get(6)?,
        provider: r.try_get(7)?,
        currency: r.try_get(8)?,
        amount: r.try_get(9)?,
        refund_amount: r.try_get(10)?,
        received_at: r.try_get(11)?,
        event: serde_json::value::RawValue::from_string(r.try_get(12)?)
            .map_err(|e| StoreError::Corrupt(format!("stored body: {e}")))?,
    })
}

async fn load_terminal(
    client: &tokio_postgres::Client,
    secret_key: Option<&SecretKey>,
    id: &str,
) -> Result<Option<Terminal>> {
    let Some(row) = client
        .query_opt("SELECT name, status FROM terminals WHERE id = $1", &[&id])
        .await?
    else {
        return Ok(None);
    };
    let status: String = row.try_get(1)?;
    let mut keys = Vec::new();
    for r in client
        .query(
            "SELECT key_id, material, status, created_at FROM terminal_keys \
             WHERE terminal_id = $1 ORDER BY key_id",
            &[&id],
        )
        .await?
    {
        let key_id: i64 = r.try_get(0)?;
        let material: String = r.try_get(1)?;
        let kstatus: String = r.try_get(2)?;
        keys.push(KeyRecord {
            key_id,
            key: sealing::key_from_material(secret_key, key_id, id, &material)?,
            active: kstatus == "active",
            created_at: r.try_get(3)?,
        });
    }
    Ok(Some(Terminal {
        id: id.to_string(),
        name: row.try_get(0)?,
        status: TerminalStatus::parse(&status)?,
        keys,
    }))
}

/// Holds the payee a newly stored event names and records a change
/// (see [`payee_step`]); in the ingest transaction.
async fn track_payee<C: tokio_postgres::GenericClient + Sync>(
    tx: &C,
    terminal: &str,
    e: &NewEvent,
    received_at: &DateTime<Utc>,
) -> Result<()> {
    let (Some(provider), Some(payee)) = (&e.provider, &e.payee) else {
        return Ok(());
    };
    let held = tx
        .query_opt(
            "SELECT payee, sequence FROM terminal_payees WHERE terminal_id = $1 AND provider = $2 FOR UPDATE",
            &[&terminal, provider],
        )
        .await?
        .map(|r| Ok::<_, tokio_postgres::Error>((r.try_get::<_, String>(0)?, r.try_get::<_, i64>(1)?)))
        .transpose()?;
    let step = payee_step(
        held.as_ref().map(|(p, s)| (p.as_str(), *s as u64)),
        payee,
        e.sequence,
    );
    let seq = e.sequence as i64;
    match step {
        PayeeStep::Late => {}
        PayeeStep::Same => {
            tx.execute(
                "UPDATE terminal_payees SET sequence = $3 WHERE terminal_id = $1 AND provider = $2",
                &[&terminal, provider, &seq],
            )
            .await?;
        }
        PayeeStep::First | PayeeStep::Changed(_) => {
            if let PayeeStep::Changed(old) = &step {
                tracing::warn!(terminal, provider = %provider, old = %old, new = %payee, sequence = e.sequence, "payee changed");
                tx.execute(
                    "INSERT INTO payee_changes (terminal_id, provider, old_payee, new_payee, sequence, \
                     event_id, occurred_at, detected_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    &[&terminal, provider, old, payee, &seq, &e.id, &e.occurred_at, received_at],
                )
                .await?;
            }
            tx.execute(
                "INSERT INTO terminal_payees (terminal_id, provider, payee, sequence, since) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (terminal_id, provider) DO UPDATE SET \
                 payee = excluded.payee, sequence = excluded.sequence, since = excluded.since",
                &[&terminal, provider, payee, &seq, &e.occurred_at],
            )
            .await?;
        }
    }
    Ok(())
}

async fn load_payees<C: tokio_postgres::GenericClient + Sync>(
    client: &C,
    terminal: &str,
) -> Result<(Vec<PayeeInfo>, Vec<PayeeChangeInfo>)> {
    let mut payees = Vec::new();
    for r in client
        .query(
            "SELECT provider, payee, since, sequence FROM terminal_payees WHERE terminal_id = $1 ORDER BY provider",
            &[&terminal],
        )
        .await?
    {
        payees.push(PayeeInfo {
            provider: r.try_get(0)?,
            payee: r.try_get(1)?,
            since: r.try_get::<_, DateTime<Utc>>(2)?.fixed_offset(),
            sequence: r.try_get::<_, i64>(3)? as u64,
        });
    }
    let mut changes = Vec::new();
    for r in client
        .query(
            "SELECT provider, old_payee, new_payee, sequence, event_id, occurred_at, detected_at \
             FROM payee_changes WHERE terminal_id = $1 ORDER BY id",
            &[&terminal],
        )
        .await?
    {
        changes.push(PayeeChangeInfo {
            provider: r.try_get(0)?,
            old: r.try_get(1)?,
            new: r.try_get(2)?,
            sequence: r.try_get::<_, i64>(3)? as u64,
            event_id: r.try_get(4)?,
            occurred_at: r.try_get::<_, DateTime<Utc>>(5)?.fixed_offset(),
            detected_at: r.try_get(6)?,
        });
    }
    Ok((payees, changes))
}

/// Judges a request's chain head against the held one (see [`chain_step`]).
async fn track_chain<C: tokio_postgres::GenericClient + Sync>(
    tx: &C,
    terminal: &str,
    sent: &ChainHead,
    received_at: &DateTime<Utc>,
) -> Result<ChainAck> {
    let held = match tx
        .query_opt(
            "SELECT count, hash FROM chain_heads WHERE terminal_id = $1 FOR UPDATE",
            &[&terminal],
        )
        .await?
    {
        Some(r) => Some(ChainPoint {
            count: r.try_get::<_, i64>(0)? as u64,
            hash: r.try_get(1)?,
        }),
        None => None,
    };
    let (ack, hold, reason) = chain_step(held.as_ref(), sent);
    if let (Some(reason), Some(h)) = (&reason, &held) {
        tracing::error!(terminal, reason = %reason, "audit chain broken");
        tx.execute(
            "INSERT INTO chain_breaks (terminal_id, held_count, held_hash, sent_count, sent_hash, \
             sent_at_count, sent_at_hash, reason, detected_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                &terminal,
                &(h.count as i64),
                &h.hash,
                &(sent.count as i64),
                &sent.hash,
                &sent.at.as_ref().map(|a| a.count as i64),
                &sent.at.as_ref().map(|a| a.hash.as_str()),
                reason,
                received_at,
            ],
        )
        .await?;
    }
    if let Some(p) = hold {
        tx.execute(
            "INSERT INTO chain_heads (terminal_id, count, hash, received_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (terminal_id) DO UPDATE SET count = excluded.count, hash = excluded.hash, \
             received_at = excluded.received_at",
            &[&terminal, &(p.count as i64), &p.hash, received_at],
        )
        .await?;
    }
    Ok(ack)
}

async fn load_chain<C: tokio_postgres::GenericClient + Sync>(
    client: &C,
    terminal: &str,
) -> Result<(Option<ChainInfo>, Vec<ChainBreakInfo>)> {
    let head = match client
        .query_opt(
            "SELECT count, hash, received_at FROM chain_heads WHERE terminal_id = $1",
            &[&terminal],
        )
        .await?
    {
        Some(r) => Some(ChainInfo {
            count: r.try_get::<_, i64>(0)? as u64,
            hash: r.try_get(1)?,
            received_at: r.try_get(2)?,
        }),
        None => None,
    };
    let mut breaks = Vec::new();
    for r in client
        .query(
            "SELECT held_count, held_hash, sent_count, sent_hash, sent_at_count, sent_at_hash, \
             reason, detected_at FROM chain_breaks WHERE terminal_id = $1 ORDER BY id",
            &[&terminal],
        )
        .await?
    {
        breaks.push(ChainBreakInfo {
            held_count: r.try_get::<_, i64>(0)? as u64,
            held_hash: r.try_get(1)?,
            sent_count: r.try_get::<_, i64>(2)? as u64,
            sent_hash: r.try_get(3)?,
            sent_at_count: r.try_get::<_, Option<i64>>(4)?.map(|c| c as u64),
            sent_at_hash: r.try_get(5)?,
            reason: r.try_get(6)?,
            detected_at: r.try_get(7)?,
        });
    }
    Ok((head, breaks))
}

async fn sequences_above<C: tokio_postgres::GenericClient + Sync>(
    client: &C,
    terminal: &str,
    hc: u64,
) -> Result<Vec<u64>> {
    let rows = client
        .query(
            "SELECT sequence FROM events WHERE terminal_id = $1 AND sequence > $2 \
             ORDER BY sequence",
            &[&terminal, &(hc as i64)],
        )
        .await?;
    rows.iter()
        .map(|r| Ok(r.try_get::<_, i64>(0)? as u64))
        .collect()
}

async fn key_rows<C: tokio_postgres::GenericClient + Sync>(
    client: &C,
    lock: bool,
) -> Result<Vec<sealing::KeyRow>> {
    let sql = if lock {
        "SELECT key_id, terminal_id, kind, material FROM terminal_keys ORDER BY key_id FOR UPDATE"
    } else {
        "SELECT key_id, terminal_id, kind, material FROM terminal_keys ORDER BY key_id"
    };
    client
        .query(sql, &[])
        .await?
        .iter()
        .map(|r| {
            Ok(sealing::KeyRow {
                key_id: r.try_get(0)?,
                terminal_id: r.try_get(1)?,
                kind: r.try_get(2)?,
                material: r.try_get(3)?,
            })
        })
        .collect()
}

/// Check the stored HMAC secrets against the key, and seal those an older
/// hub stored in plain text; one transaction, the keys locked.
async fn seal_plain_secrets(
    client: &mut tokio_postgres::Client,
    secret_key: Option<&SecretKey>,
) -> Result<()> {
    let tx = client.transaction().await?;
    let reseal = sealing::seal_plain(secret_key, &key_rows(&tx, true).await?)?;
    for (key_id, material) in &reseal {
        tx.execute(
            "UPDATE terminal_keys SET material = $2 WHERE key_id = $1",
            &[key_id, material],
        )
        .await?;
    }
    tx.commit().await?;
    if !reseal.is_empty() {
        tracing::info!(
            secrets = reseal.len(),
            "sealed HMAC secrets an older hub stored in plain text \
             (VACUUM FULL terminal_keys drops the old row versions from disk)"
        );
    }
    Ok(())
}

impl PgStore {
    /// Connect, bring the schema up to date, and check (and seal) the
    /// stored HMAC secrets with `secret_key`.
    pub async fn open(url: &str, secret_key: Option<SecretKey>) -> Result<Self> {
        let target = super::pg_tls::parse(url)?;
        let pg_config = target.config;
        {
            // Migrations on a dedicated connection.
            let (mut client, conn) = pg_config.connect(target.tls.clone()).await?;
            let task = tokio::spawn(async move {
                let _ = conn.await;
            });
            migrations::migrations::runner()
                .run_async(&mut client)
                .await?;
            seal_plain_secrets(&mut client, secret_key.as_ref()).await?;
            drop(client);
            let _ = task.await;
        }
        let mgr = Manager::from_config(
            pg_config,
            target.tls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(mgr).max_size(16).build().map_err(pool_err)?;
        Ok(PgStore { pool, secret_key })
    }

    async fn client(&self) -> Result<deadpool_postgres::Object> {
        self.pool.get().await.map_err(pool_err)
    }
}

#[async_trait]
impl Store for PgStore {
    async fn add_terminal(&self, id: &str, name: Option<&str>, key: &VerifyingKey) -> Result<i64> {
        let material = sealing::material_for(self.secret_key.as_ref(), id, key)?;
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let n = tx
            .execute(
                "INSERT INTO terminals (id, name, created_at) VALUES ($1, $2, now()) \
                 ON CONFLICT DO NOTHING",
                &[&id, &name],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::TerminalExists(id.to_string()));
        }
        let row = tx
            .query_one(
                "INSERT INTO terminal_keys (terminal_id, kind, material, created_at) \
                 VALUES ($1, $2, $3, now()) RETURNING key_id",
                &[&id, &key.kind(), &material],
            )
            .await?;
        tx.commit().await?;
        Ok(row.try_get(0)?)
    }

    async fn add_key(&self, terminal: &str, key: &VerifyingKey) -> Result<i64> {
        let material = sealing::material_for(self.secret_key.as_ref(), terminal, key)?;
        let client = self.client().await?;
        let row = client
            .query_opt(
                "INSERT INTO terminal_keys (terminal_id, kind, material, created_at) \
                 SELECT id, $2, $3, now() FROM terminals WHERE id = $1 RETURNING key_id",
                &[&terminal, &key.kind(), &material],
            )
            .await?
            .ok_or_else(|| StoreError::UnknownTerminal(terminal.to_string()))?;
        Ok(row.try_get(0)?)
    }

    async fn retire_keys(&self, terminal: &str, key_ids: &[i64]) -> Result<usize> {
        let client = self.client().await?;
        let n = client
            .execute(
                "UPDATE terminal_keys SET status = 'retired', retired_at = now() \
                 WHERE terminal_id = $1 AND key_id = ANY($2) AND status = 'active'",
                &[&terminal, &key_ids],
            )
            .await?;
        Ok(n as usize)
    }

    async fn set_status(&self, terminal: &str, status: TerminalStatus) -> Result<()> {
        let client = self.client().await?;
        let n = client
            .execute(
                "UPDATE terminals SET status = $2 WHERE id = $1",
                &[&terminal, &status.as_str()],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::UnknownTerminal(terminal.to_string()));
        }
        Ok(())
    }

    async fn check_secrets(&self) -> Result<()> {
        let client = self.client().await?;
        sealing::check_all(self.secret_key.as_ref(), &key_rows(&**client, false).await?)
    }

    async fn terminal(&self, id: &str) -> Result<Option<Terminal>> {
        let client = self.client().await?;
        load_terminal(&client, self.secret_key.as_ref(), id).await
    }

    async fn terminals(&self) -> Result<Vec<TerminalInfo>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT t.id, t.highest_contiguous, t.max_sequence, t.last_received_at, \
                 (SELECT COUNT(*) FROM events e WHERE e.terminal_id = t.id) \
                 FROM terminals t ORDER BY t.id",
                &[],
            )
            .await?;
        let mut out = Vec::new();
        for r in rows {
            let id: String = r.try_get(0)?;
            let t = load_terminal(&client, self.secret_key.as_ref(), &id)
                .await?
                .ok_or_else(|| StoreError::Corrupt(format!("terminal {id} vanished")))?;
            let (payees, payee_changes) = load_payees(&**client, &id).await?;
            let (chain, chain_breaks) = load_chain(&**client, &id).await?;
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
                highest_contiguous: r.try_get::<_, i64>(1)? as u64,
                max_sequence: r.try_get::<_, i64>(2)? as u64,
                last_received_at: r.try_get(3)?,
                events: r.try_get::<_, i64>(4)? as u64,
            });
        }
        Ok(out)
    }

    async fn ingest(
        &self,
        terminal: &str,
        events: Vec<NewEvent>,
        chain: Option<ChainHead>,
        received_at: DateTime<Utc>,
    ) -> Result<IngestOutcome> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let hc: i64 = tx
            .query_opt(
                "SELECT highest_contiguous FROM terminals WHERE id = $1 FOR UPDATE",
                &[&terminal],
            )
            .await?
            .ok_or_else(|| StoreError::UnknownTerminal(terminal.to_string()))?
            .try_get(0)?;
        // One multi-row INSERT for the whole request; rows that hit a unique
        // constraint (an id or a (terminal, sequence) already held, or repeated
        // within the request) are skipped and resolved one by one below.
        let seqs: Vec<i64> = events.iter().map(|e| e.sequence as i64).collect();
        let inserted: std::collections::HashSet<String> = tx
            .query(
                "INSERT INTO events (id, terminal_id, sequence, type, payment_id, provider, \
                 currency, amount, refund_id, refund_amount, business_day, occurred_at, \
                 received_at, body) \
                 SELECT u.id, $1, u.seq, u.type, u.payment_id, u.provider, u.currency, u.amount, \
                 u.refund_id, u.refund_amount, u.business_day, u.occurred_at, $2, u.body \
                 FROM UNNEST($3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[], \
                 $8::text[], $9::numeric[], $10::text[], $11::numeric[], $12::date[], \
                 $13::timestamptz[], $14::text[]) WITH ORDINALITY \
                 AS u(id, seq, type, payment_id, provider, currency, amount, refund_id, \
                 refund_amount, business_day, occurred_at, body, ord) \
                 ORDER BY u.ord \
                 ON CONFLICT DO NOTHING RETURNING id",
                &[
                    &terminal,
                    &received_at,
                    &events.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
                    &seqs,
                    &events.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
                    &events
                        .iter()
                        .map(|e| e.payment_id.as_deref())
                        .collect::<Vec<_>>(),
                    &events
                        .iter()
                        .map(|e| e.provider.as_deref())
                        .collect::<Vec<_>>(),
                    &events
                        .iter()
                        .map(|e| e.currency.as_deref())
                        .collect::<Vec<_>>(),
                    &events.iter().map(|e| e.amount).collect::<Vec<_>>(),
                    &events
                        .iter()
                        .map(|e| e.refund_id.as_deref())
                        .collect::<Vec<_>>(),
                    &events.iter().map(|e| e.refund_amount).collect::<Vec<_>>(),
                    &events.iter().map(|e| e.business_day).collect::<Vec<_>>(),
                    &events.iter().map(|e| e.occurred_at).collect::<Vec<_>>(),
                    &events.iter().map(|e| e.body.as_str()).collect::<Vec<_>>(),
                ],
            )
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<std::result::Result<_, _>>()?;
        let mut results = Vec::with_capacity(events.len());
        let mut stored_any = false;
        let mut max_seq = 0i64;
        let mut seen = std::collections::HashSet::new();
        for e in &events {
            let seq = e.sequence as i64;
            // The first occurrence of an inserted id is the stored one.
            if inserted.contains(&e.id) && seen.insert(e.id.as_str()) {
                stored_any = true;
                max_seq = max_seq.max(seq);
                results.push((e.id.clone(), e.sequence, IngestStatus::Stored));
                track_payee(&*tx, terminal, e, &received_at).await?;
                continue;
            }
            let by_id = tx
                .query_opt(
                    "SELECT terminal_id, sequence FROM events WHERE id = $1",
                    &[&e.id],
                )
                .await?;
            match by_id {
                Some(r) => {
                    let t: String = r.try_get(0)?;
                    let s: i64 = r.try_get(1)?;
                    if t == terminal && s == seq {
                        results.push((e.id.clone(), e.sequence, IngestStatus::Duplicate));
                    } else {
                        return Err(StoreError::Conflict {
                            id: e.id.clone(),
                            sequence: e.sequence,
                            existing_id: Some(e.id.clone()),
                            reason: format!(
                                "webhook id {} already names event {s} of terminal {t}",
                                e.id
                            ),
                        });
                    }
                }
                None => {
                    let existing: Option<String> = tx
                        .query_opt(
                            "SELECT id FROM events WHERE terminal_id = $1 AND sequence = $2",
                            &[&terminal, &seq],
                        )
                        .await?
                        .map(|r| r.try_get(0))
                        .transpose()?;
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
        let mut new_hc = hc as u64;
        if stored_any {
            new_hc = advance(new_hc, &sequences_above(&*tx, terminal, new_hc).await?);
        }
        tx.execute(
            "UPDATE terminals SET highest_contiguous = $2, \
             max_sequence = GREATEST(max_sequence, $3), last_received_at = $4 WHERE id = $1",
            &[&terminal, &(new_hc as i64), &max_seq, &received_at],
        )
        .await?;
        let chain = match &chain {
            Some(c) => Some(track_chain(&*tx, terminal, c, &received_at).await?),
            None => None,
        };
        tx.commit().await?;
        Ok(IngestOutcome {
            results,
            highest_contiguous: new_hc,
            chain,
        })
    }

    async fn payees(&self, terminal: &str) -> Result<Option<TerminalPayees>> {
        let client = self.client().await?;
        if client
            .query_opt("SELECT 1 FROM terminals WHERE id = $1", &[&terminal])
            .await?
            .is_none()
        {
            return Ok(None);
        }
        let (payees, payee_changes) = load_payees(&**client, terminal).await?;
        Ok(Some(TerminalPayees {
            terminal: terminal.to_owned(),
            payees,
            payee_changed: !payee_changes.is_empty(),
            payee_changes,
        }))
    }

    async fn progress(&self, terminal: &str) -> Result<Option<Progress>> {
        let client = self.client().await?;
        let Some(r) = client
            .query_opt(
                "SELECT highest_contiguous, max_sequence, last_received_at \
                 FROM terminals WHERE id = $1",
                &[&terminal],
            )
            .await?
        else {
            return Ok(None);
        };
        let hc = r.try_get::<_, i64>(0)? as u64;
        let above = sequences_above(&**client, terminal, hc).await?;
        Ok(Some(Progress {
            highest_contiguous: hc,
            gaps: gaps_from(hc, &above),
            max_sequence: r.try_get::<_, i64>(1)? as u64,
            last_received_at: r.try_get(2)?,
        }))
    }

    async fn event(&self, id: &str) -> Result<Option<StoredEvent>> {
        let client = self.client().await?;
        client
            .query_opt(
                &format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = $1"),
                &[&id],
            )
            .await?
            .as_ref()
            .map(event_from_row)
            .transpose()
    }

    async fn settlements(&self, q: &SettlementQuery) -> Result<Vec<StoredEvent>> {
        let client = self.client().await?;
        let kinds: Vec<&str> = match q.kind {
            Some(k) => vec![k.as_str()],
            None => vec![
                EventType::PaymentSettled.as_str(),
                EventType::PaymentRefunded.as_str(),
            ],
        };
        let rows = client
            .query(
                &format!(
                    "SELECT {EVENT_COLUMNS} FROM events \
                     WHERE row_no > $1 AND ($2::text IS NULL OR terminal_id = $2) \
                     AND ($3::date IS NULL OR business_day = $3) \
                     AND ($4::text IS NULL OR provider = $4) \
                     AND type = ANY($5) ORDER BY row_no LIMIT $6"
                ),
                &[
                    &q.after.unwrap_or(0),
                    &q.terminal,
                    &q.day,
                    &q.provider,
                    &kinds,
                    &i64::from(q.limit),
                ],
            )
            .await?;
        rows.iter().map(event_from_row).collect()
    }

    async fn totals(&self, q: &TotalsQuery) -> Result<Vec<TotalsRow>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT provider, currency, \
                 COUNT(*) FILTER (WHERE type = 'payment.settled'), \
                 COALESCE(SUM(amount) FILTER (WHERE type = 'payment.settled'), 0), \
                 COUNT(*) FILTER (WHERE type = 'payment.refunded'), \
                 COALESCE(SUM(refund_amount) FILTER (WHERE type = 'payment.refunded'), 0) \
                 FROM events WHERE type IN ('payment.settled', 'payment.refunded') \
                 AND ($1::text IS NULL OR terminal_id = $1) \
                 AND ($2::date IS NULL OR business_day = $2) \
                 GROUP BY provider, currency ORDER BY provider, currency",
                &[&q.terminal, &q.day],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(TotalsRow {
                    provider: r.try_get(0)?,
                    currency: r.try_get(1)?,
                    count: r.try_get::<_, i64>(2)? as u64,
                    settled: r.try_get(3)?,
                    refund_count: r.try_get::<_, i64>(4)? as u64,
                    refunded: r.try_get(5)?,
                    net: Decimal::ZERO,
                }
                .finish())
            })
            .collect()
    }

    async fn add_token(&self, sha256_hex: &str, label: &str) -> Result<i64> {
        let client = self.client().await?;
        let row = client
            .query_one(
                "INSERT INTO read_tokens (token_sha256, label, created_at) \
                 VALUES ($1, $2, now()) RETURNING id",
                &[&sha256_hex, &label],
            )
            .await?;
        Ok(row.try_get(0)?)
    }

    async fn use_token(&self, sha256_hex: &str, now: DateTime<Utc>) -> Result<bool> {
        let client = self.client().await?;
        let stale = now - chrono::Duration::seconds(LAST_USED_GRANULARITY_SECS);
        let touched = client
            .execute(
                "UPDATE read_tokens SET last_used_at = $2 WHERE token_sha256 = $1 \
                 AND revoked_at IS NULL AND (last_used_at IS NULL OR last_used_at < $3)",
                &[&sha256_hex, &now, &stale],
            )
            .await?;
        if touched > 0 {
            return Ok(true);
        }
        Ok(client
            .query_opt(
                "SELECT 1 FROM read_tokens WHERE token_sha256 = $1 AND revoked_at IS NULL",
                &[&sha256_hex],
            )
            .await?
            .is_some())
    }

    async fn tokens(&self) -> Result<Vec<TokenInfo>> {
        let client = self.client().await?;
        client
            .query(
                "SELECT id, label, created_at, last_used_at, revoked_at FROM read_tokens \
                 ORDER BY id",
                &[],
            )
            .await?
            .iter()
            .map(|r| {
                let revoked_at: Option<DateTime<Utc>> = r.try_get(4)?;
                Ok(TokenInfo {
                    id: r.try_get(0)?,
                    label: r.try_get(1)?,
                    status: TokenInfo::status_of(revoked_at.is_some()),
                    created_at: r.try_get(2)?,
                    last_used_at: r.try_get(3)?,
                    revoked_at,
                })
            })
            .collect()
    }

    async fn revoke_token(&self, id: i64, now: DateTime<Utc>) -> Result<Revoked> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let row = tx
            .query_opt(
                "SELECT revoked_at FROM read_tokens WHERE id = $1 FOR UPDATE",
                &[&id],
            )
            .await?;
        let outcome = match row {
            None => Revoked::NoSuchToken,
            Some(r) => match r.try_get::<_, Option<DateTime<Utc>>>(0)? {
                Some(at) => Revoked::Already(at),
                None => {
                    tx.execute(
                        "UPDATE read_tokens SET revoked_at = $2 WHERE id = $1",
                        &[&id, &now],
                    )
                    .await?;
                    Revoked::Now
                }
            },
        };
        tx.commit().await?;
        Ok(outcome)
    }

    async fn count_events(&self, terminal: Option<&str>) -> Result<u64> {
        let client = self.client().await?;
        let r = client
            .query_one(
                "SELECT COUNT(*) FROM events WHERE ($1::text IS NULL OR terminal_id = $1)",
                &[&terminal],
            )
            .await?;
        Ok(r.try_get::<_, i64>(0)? as u64)
    }

    async fn day_closes(&self, terminal: &str, day: NaiveDate) -> Result<Vec<StoredEvent>> {
        let client = self.client().await?;
        client
            .query(
                &format!(
                    "SELECT {EVENT_COLUMNS} FROM events WHERE terminal_id = $1 \
                     AND business_day = $2 AND type = 'day.closed' ORDER BY row_no"
                ),
                &[&terminal, &day],
            )
            .await?
            .iter()
            .map(event_from_row)
            .collect()
    }

    async fn days(
        &self,
        terminal: Option<&str>,
        day: Option<NaiveDate>,
        limit: u32,
    ) -> Result<Vec<(String, NaiveDate)>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT DISTINCT terminal_id, business_day FROM events \
                 WHERE ($1::text IS NULL OR terminal_id = $1) \
                 AND ($2::date IS NULL OR business_day = $2) \
                 ORDER BY business_day DESC, terminal_id LIMIT $3",
                &[&terminal, &day, &(limit as i64)],
            )
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
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
