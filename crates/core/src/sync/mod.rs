//! Settlement sync, terminal side: delivers the outbox to the shop's hub as
//! signed Standard Webhooks (docs/webhooks.md).
//!
//! | module | what it does |
//! | --- | --- |
//! | here | the background task, one delivery pass, [`SyncState`], `Engine::sync_*` |
//! | [`sender`] | one signed request (single event or `till.batch/2`) and what its answer means |
//! | [`schedule`] | backoff with jitter over consecutive failures, honouring `Retry-After` |
//! | [`reader`] | [`HubReader`]: reading the hub's read API (bearer token), the one place the terminal asks the hub what it holds |
//!
//! The journal side is [`crate::journal::sync`].
//!
//! # Delivery
//!
//! The task runs when `hub.url` is configured. It takes pending records in
//! sequence order and sends them as one `till.batch/2` (up to
//! `hub.batch_size`) to `…/batch`, with the head of the audit chain
//! ([`crate::journal::chain`]) and the hash at the count the hub last said it
//! holds; while a batch is on the wire the next one is read from the journal.
//! With nothing queued, a changed head is sent alone. (A journal without a
//! chain yet sends one record alone to `…/events`.) Only one request is in flight at a time, so
//! the hub receives records in sequence order. Every request is signed with
//! every configured key: each whitespace-separated key in the secrets
//! `hub.secret` (`whsec_…` → `v1`) and `hub.signing_key` (`whsk_…` → `v1a`);
//! during a rotation a secret holds the old and the new key side by side.
//!
//! A record is delivered when the hub's 2xx answer lists its id (`stored` or
//! `duplicate`); the delivery marks of one answer are one transaction. A
//! crash between the hub's commit and ours only means the hub sees the
//! records again and answers `duplicate`.
//!
//! # Failures, ordering and dead letters
//!
//! - **No answer, 429, 502, 503, 504**: the hub is unavailable. The whole
//!   queue waits (backoff with jitter, at least `Retry-After`) and the
//!   attempt is *not* counted: a terminal that is offline for a day loses
//!   nothing and dead-letters nothing; it catches up in order afterwards.
//! - **401 (signature, clock), 404, 500, other answers**: the hub answered and
//!   refused. The whole queue waits as above, and the attempt counts for the
//!   records in the request. A record whose attempts reach `hub.max_attempts`
//!   becomes a **dead letter**.
//! - **400, 409, 401 `bad_headers`** (refused for good) and **413** (too
//!   large): a batch is split in halves, sent in order, until the refused
//!   record is alone; a single refused record becomes a dead letter at once,
//!   and the records around it are delivered. After a 413 the batch size
//!   stays halved for the rest of the process.
//! - **410**: the hub disabled this terminal. Delivery to that URL stops
//!   (`endpoint_gone`) until `till sync` ([`Engine::sync_now`]) or a different
//!   `hub.url`.
//!
//! Dead letters stay in the journal (state `dead`), are counted in
//! [`SyncState::dead_letters`], and go back to the queue with
//! [`Engine::replay_dead`]; nothing is ever dropped. **Ordering choice**:
//! records after a dead letter keep flowing, so one poisoned record cannot
//! stop a shop's sync. The hub therefore sees a gap at the dead letter's
//! sequence (its `highest_contiguous` stops below it, `GET …/gaps` lists it)
//! until the dead letter is replayed and delivered; the hub stores by id and
//! sequence, so late arrival is safe. Within the live queue, order is strict:
//! a waiting head record holds back everything after it.

pub mod reader;
pub mod schedule;
pub mod sender;

pub use reader::{HubReadError, HubReader};

use crate::engine::{Engine, EngineError, EngineEvent};
use crate::journal::sync::PendingRecord;
use crate::secrets::{names, SecretStore};
use crate::state::PaymentState;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::VecDeque;
use std::str::FromStr;
use std::time::Duration;
use till_sync_proto::{
    ChainAck, ChainHead, ChainPoint, ChainStatus, IngestStatus, Signer, SigningKey,
};
use tokio::sync::{broadcast, Notify};

use schedule::Backoff;
use sender::Outcome;

/// Where the sync stands (the manager's "sync" panel, `till sync`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SyncState {
    /// A hub URL is configured.
    pub enabled: bool,
    pub url: Option<String>,
    /// Records waiting for the hub.
    pub queue_length: u64,
    /// When the oldest waiting record was written.
    pub oldest_unsynced_at: Option<DateTime<Utc>>,
    /// Highest sequence the hub acknowledged.
    pub last_acknowledged_sequence: Option<u64>,
    pub last_acknowledged_at: Option<DateTime<Utc>>,
    /// The hub's own "every sequence up to here is stored", as last reported.
    pub hub_highest_contiguous: Option<u64>,
    /// Records given up on: kept, replayable with `Engine::replay_dead`.
    pub dead_letters: u64,
    /// The hub answered 410: delivery is stopped until `till sync` or a new URL.
    pub endpoint_gone: bool,
    pub last_error: Option<String>,
    /// When the head of the queue will be tried again (while backing off).
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// The sync's share of the engine.
pub(crate) struct SyncShared {
    client: reqwest::Client,
    wake: Notify,
    run: tokio::sync::Mutex<Runtime>,
    last_emitted: std::sync::Mutex<Option<SyncState>>,
}

struct Runtime {
    /// Consecutive failed requests (spaces retries).
    streak: u32,
    /// Batch size in force (halved after a 413).
    batch: u32,
    /// The queue waits until then (after a failed request).
    hold_until: Option<DateTime<Utc>>,
    /// The last audit chain head sent (answered or not): a head alone is
    /// sent only when it differs, so an older hub is not asked again and again.
    chain_sent: Option<(u64, String)>,
}

impl SyncShared {
    pub(crate) fn new(config: &crate::Config) -> Result<SyncShared, EngineError> {
        let client = till_provider_http::client_builder(&config.tls.roots)
            .timeout(config.hub_timeout())
            .connect_timeout(config.hub_timeout().min(Duration::from_secs(10)))
            .build()
            .map_err(|e| EngineError::Refused(format!("hub HTTP client: {e}")))?;
        Ok(SyncShared {
            client,
            wake: Notify::new(),
            run: tokio::sync::Mutex::new(Runtime {
                streak: 0,
                batch: config.hub.batch_size,
                hold_until: None,
                chain_sent: None,
            }),
            last_emitted: std::sync::Mutex::new(None),
        })
    }
}

/// How a delivery pass ended.
#[derive(Debug, PartialEq)]
enum PassEnd {
    /// Nothing (more) to send.
    Idle,
    /// Backing off until then.
    WaitUntil(DateTime<Utc>),
    /// Cannot send: no key, endpoint gone, sync off.
    Blocked,
}

fn no_key_message() -> String {
    format!(
        "no hub key: store one with `till secret set {}` (whsec_…) or `till secret set {}` (whsk_…)",
        names::HUB_SECRET,
        names::HUB_SIGNING_KEY
    )
}

/// Every key in `hub.secret` and `hub.signing_key` (whitespace-separated).
pub(crate) fn load_signer(secrets: &dyn SecretStore) -> Result<Signer, String> {
    let mut keys = Vec::new();
    for name in [names::HUB_SECRET, names::HUB_SIGNING_KEY] {
        let value = secrets
            .get(name)
            .map_err(|e| format!("cannot read the hub key: {e}"))?;
        if let Some(v) = value {
            for text in v.expose().split_whitespace() {
                // Never the key itself in the message.
                keys.push(SigningKey::from_str(text).map_err(|e| {
                    format!("the secret `{name}` holds a key Till cannot use: {e}")
                })?);
            }
        }
    }
    Signer::new(keys).map_err(|_| no_key_message())
}

impl Engine {
    /// Where the sync stands.
    pub fn sync_state(&self) -> Result<SyncState, EngineError> {
        let url = self.inner.config.hub.url.as_ref().map(|u| u.to_string());
        let (stats, endpoint, head) = self.with_journal(|j| {
            Ok((
                j.sync_queue_stats()?,
                match &url {
                    Some(u) => j.sync_endpoint(u)?,
                    None => None,
                },
                j.sync_pending(0, 1)?,
            ))
        })?;
        let ep = endpoint.unwrap_or_default();
        Ok(SyncState {
            enabled: url.is_some(),
            url,
            queue_length: stats.queue_length,
            oldest_unsynced_at: stats.oldest_unsynced_at,
            last_acknowledged_sequence: ep.last_ack_sequence.filter(|s| *s > 0).map(|s| s as u64),
            last_acknowledged_at: ep.last_ack_at,
            hub_highest_contiguous: ep.hub_highest_contiguous.map(|s| s as u64),
            dead_letters: stats.dead_letters,
            endpoint_gone: ep.gone_at.is_some(),
            last_error: ep.last_error,
            next_attempt_at: head.first().and_then(|r| r.next_attempt_at),
        })
    }

    /// Delivers what is pending now, ignoring any backoff and a previous 410,
    /// and returns the state afterwards. Stops at the first failure that is
    /// not a single record's own (the state says which).
    pub async fn sync_now(&self) -> Result<SyncState, EngineError> {
        if self.inner.config.hub.url.is_none() {
            return Err(EngineError::Refused(
                "sync is off: set hub.url in till.toml (or TILL__HUB__URL)".into(),
            ));
        }
        pass(self, true).await?;
        let state = self.sync_state()?;
        self.emit_sync(&state);
        Ok(state)
    }

    /// Moves every dead letter back to the queue (attempts reset) and wakes
    /// the sender. Returns how many records moved.
    pub fn replay_dead(&self) -> Result<u64, EngineError> {
        let n = self.with_journal(|j| j.sync_replay_dead())?;
        if n > 0 {
            self.audit_replay(n);
            self.inner.sync.wake.notify_one();
            if let Ok(s) = self.sync_state() {
                self.emit_sync(&s);
            }
        }
        Ok(n as u64)
    }

    /// Wakes the sender (a record was enqueued outside a payment change).
    pub(crate) fn wake_sync(&self) {
        self.inner.sync.wake.notify_one();
    }

    fn audit_replay(&self, n: usize) {
        let now = self.now();
        if let Err(e) = self.with_journal(|j| {
            j.audit(
                "manager",
                "sync.replay_dead",
                None,
                Some(&format!("{n} records")),
                now,
            )
        }) {
            tracing::warn!(error = %e, "could not audit a dead-letter replay");
        }
    }

    /// Sends `EngineEvent::Sync` when the state differs from the last one sent.
    fn emit_sync(&self, state: &SyncState) {
        let mut last = self
            .inner
            .sync
            .last_emitted
            .lock()
            .expect("sync state lock");
        if last.as_ref() != Some(state) {
            *last = Some(state.clone());
            let _ = self.inner.events.send(EngineEvent::Sync {
                state: state.clone(),
            });
        }
    }

    fn emit_sync_now(&self) {
        match self.sync_state() {
            Ok(s) => self.emit_sync(&s),
            Err(e) => tracing::warn!(error = %e, "cannot read the sync state"),
        }
    }
}

/// The background task: a pass whenever something may be sendable.
pub(crate) async fn run(engine: Engine) {
    let mut stop = engine.inner.background.stopping();
    let mut events = engine.subscribe();
    let poll = Duration::from_millis(engine.inner.config.hub.poll_interval_ms);
    loop {
        if *stop.borrow() {
            break;
        }
        let end = match pass(&engine, false).await {
            Ok(end) => end,
            Err(e) => {
                tracing::warn!(error = %e, "sync pass failed");
                PassEnd::Blocked
            }
        };
        let wait = match end {
            PassEnd::WaitUntil(t) => (t - engine.now()).to_std().unwrap_or_default().min(poll),
            PassEnd::Idle | PassEnd::Blocked => poll,
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = engine.inner.sync.wake.notified() => {}
            _ = stop.changed() => {}
            _ = new_record(&mut events) => {}
        }
    }
}

/// Resolves when a payment reaches a state that enqueues an outbox record.
async fn new_record(events: &mut broadcast::Receiver<EngineEvent>) {
    loop {
        match events.recv().await {
            Ok(EngineEvent::Payment { payment })
                if matches!(
                    payment.state,
                    PaymentState::Settled
                        | PaymentState::Refunded
                        | PaymentState::PartiallyRefunded
                ) =>
            {
                return
            }
            Ok(_) => {}
            Err(broadcast::error::RecvError::Lagged(_)) => return,
            Err(broadcast::error::RecvError::Closed) => std::future::pending::<()>().await,
        }
    }
}

/// The head of the local audit chain, recomputed from the rows, with the
/// hash at the count the hub said it holds.
fn chain_head(engine: &Engine, url: &str) -> Result<Option<ChainHead>, EngineError> {
    Ok(engine.with_journal(|j| {
        let held = j.sync_hub_chain(url)?;
        j.chain_head(held.map(|h| h.count))
    })?)
}

/// Remembers what the hub holds of the chain now; says so loudly when the
/// hub found that the chain was rewritten.
fn note_chain_ack(engine: &Engine, url: &str, ack: Option<&ChainAck>) -> Result<(), EngineError> {
    let Some(ack) = ack else {
        return Ok(());
    };
    if ack.status == ChainStatus::Broken {
        tracing::error!(
            count = ack.count,
            "the hub says this terminal's audit chain does not extend the head it held: the journal was rewritten"
        );
    }
    engine.with_journal(|j| {
        j.sync_note_chain(
            url,
            &ChainPoint {
                count: ack.count,
                hash: ack.hash.clone(),
            },
        )
    })?;
    Ok(())
}

/// With nothing queued, sends the chain head alone when it changed since it
/// was last sent (an audit row was written, or the chain was rewritten), so
/// the hub learns of it without waiting for the next sale.
async fn send_chain_alone(
    engine: &Engine,
    rt: &mut Runtime,
    base: &url::Url,
    url: &str,
    terminal: &str,
    signer: &Signer,
) -> Result<(), EngineError> {
    let Some(head) = chain_head(engine, url)? else {
        return Ok(());
    };
    let key = (head.count, head.hash.clone());
    if rt.chain_sent.as_ref() == Some(&key) {
        return Ok(());
    }
    rt.chain_sent = Some(key);
    match sender::post(
        &engine.inner.sync.client,
        base,
        terminal,
        signer,
        &[],
        Some(&head),
    )
    .await
    {
        Outcome::Delivered(resp) => note_chain_ack(engine, url, resp.chain.as_ref()),
        other => {
            tracing::debug!(outcome = ?other, "the hub did not take the chain head; it goes with the next batch");
            Ok(())
        }
    }
}

fn read_pending(
    engine: &Engine,
    after: i64,
    limit: u32,
) -> Result<Vec<PendingRecord>, EngineError> {
    Ok(engine.with_journal(|j| j.sync_pending(after, limit))?)
}

/// One delivery pass: sends from the head of the queue until it is empty or
/// a failure makes the queue wait. `force` ignores backoff and a 410.
async fn pass(engine: &Engine, force: bool) -> Result<PassEnd, EngineError> {
    let Some(base) = engine.inner.config.hub.url.clone() else {
        return Ok(PassEnd::Blocked);
    };
    let url = base.to_string();
    let shared = &engine.inner.sync;
    let mut rt = shared.run.lock().await;
    let config = &engine.inner.config.hub;
    let terminal = engine.inner.config.terminal.id.clone();
    let endpoint = engine.with_journal(|j| j.sync_endpoint(&url))?;
    if endpoint.as_ref().is_some_and(|e| e.gone_at.is_some()) {
        if !force {
            return Ok(PassEnd::Blocked);
        }
        engine.with_journal(|j| j.sync_clear_gone(&url))?;
    }
    let signer = match load_signer(&*engine.inner.secrets) {
        Ok(s) => s,
        Err(msg) => {
            let now = engine.now();
            engine.with_journal(|j| j.sync_note_error(&url, &msg, now))?;
            engine.emit_sync_now();
            return Ok(PassEnd::Blocked);
        }
    };
    if force {
        engine.with_journal(|j| j.sync_clear_backoff())?;
        rt.streak = 0;
        rt.hold_until = None;
    } else if let Some(at) = rt.hold_until {
        if at > engine.now() {
            return Ok(PassEnd::WaitUntil(at));
        }
    }
    let backoff = Backoff::new(
        Duration::from_millis(config.backoff_base_ms),
        Duration::from_millis(config.backoff_max_ms),
    );
    let mut prefetched: Option<Vec<PendingRecord>> = None;
    loop {
        let head = match prefetched.take() {
            Some(h) => h,
            None => read_pending(engine, 0, rt.batch)?,
        };
        let Some(first) = head.first() else {
            send_chain_alone(engine, &mut rt, &base, &url, &terminal, &signer).await?;
            engine.emit_sync_now();
            return Ok(PassEnd::Idle);
        };
        if let Some(at) = first.next_attempt_at {
            if at > engine.now() && !force {
                return Ok(PassEnd::WaitUntil(at));
            }
        }
        let last_seq = head.last().map(|r| r.sequence).unwrap_or(0);
        let mut work: VecDeque<Vec<PendingRecord>> = VecDeque::from([head]);
        let mut first_request = true;
        while let Some(part) = work.pop_front() {
            // The audit chain's head travels with every batch (L4), with the
            // proof that the head the hub holds is a prefix of it.
            let chain = chain_head(engine, &url)?;
            let chain_ref = chain.as_ref();
            let outcome = if first_request {
                first_request = false;
                // Read the next chunk while this one is on the wire.
                let journal = engine.inner.journal.clone();
                let limit = rt.batch;
                let prefetch = tokio::task::spawn_blocking(move || {
                    journal
                        .lock()
                        .map_err(|_| "journal lock poisoned".to_string())?
                        .sync_pending(last_seq, limit)
                        .map_err(|e| e.to_string())
                });
                let (outcome, next) = tokio::join!(
                    sender::post(&shared.client, &base, &terminal, &signer, &part, chain_ref),
                    prefetch
                );
                prefetched = next.ok().and_then(|r| r.ok());
                outcome
            } else {
                sender::post(&shared.client, &base, &terminal, &signer, &part, chain_ref).await
            };
            let now = engine.now();
            let seqs: Vec<i64> = part.iter().map(|r| r.sequence).collect();
            match outcome {
                Outcome::Delivered(resp) => {
                    rt.streak = 0;
                    rt.hold_until = None;
                    if let Some(c) = &chain {
                        rt.chain_sent = Some((c.count, c.hash.clone()));
                    }
                    note_chain_ack(engine, &url, resp.chain.as_ref())?;
                    let acked: Vec<(i64, String)> = resp
                        .results
                        .iter()
                        .filter(|r| {
                            matches!(r.status, IngestStatus::Stored | IngestStatus::Duplicate)
                        })
                        .map(|r| (r.sequence as i64, r.id.clone()))
                        .collect();
                    let hc = Some(resp.highest_contiguous);
                    let marked =
                        engine.with_journal(|j| j.sync_mark_delivered(&url, &acked, hc, now))?;
                    if marked < part.len() {
                        // The hub left some out: treat them as refused once.
                        let missing: Vec<i64> = part
                            .iter()
                            .filter(|r| {
                                !acked
                                    .iter()
                                    .any(|(s, id)| *s == r.sequence && *id == r.webhook_id)
                            })
                            .map(|r| r.sequence)
                            .collect();
                        let msg = "the hub's answer did not acknowledge every record sent";
                        rt.streak += 1;
                        let next = now
                            + chrono::Duration::from_std(backoff.delay(rt.streak, None))
                                .unwrap_or_default();
                        engine.with_journal(|j| {
                            j.sync_note_failure(
                                &url,
                                &missing,
                                true,
                                config.max_attempts,
                                msg,
                                next,
                                now,
                            )
                        })?;
                        rt.hold_until = Some(next);
                        engine.emit_sync_now();
                        return Ok(PassEnd::WaitUntil(next));
                    }
                }
                Outcome::TooLarge(_) | Outcome::Refused(_) if part.len() > 1 => {
                    if matches!(outcome, Outcome::TooLarge(_)) {
                        rt.batch = (part.len() as u32 / 2).max(1);
                        tracing::info!(
                            batch = rt.batch,
                            "hub refused a batch as too large; smaller batches from now on"
                        );
                    }
                    // Halves, in order, until the refused record is alone.
                    let mut left = part;
                    let right = left.split_off(left.len() / 2);
                    work.push_front(right);
                    work.push_front(left);
                    prefetched = None;
                }
                Outcome::TooLarge(msg) | Outcome::Refused(msg) => {
                    tracing::warn!(sequence = seqs[0], error = %msg, "hub refused a record; dead letter");
                    engine.with_journal(|j| j.sync_dead_letter(&url, &seqs, &msg, now))?;
                }
                Outcome::Gone(msg) => {
                    tracing::warn!(error = %msg, "hub disabled this terminal; delivery stopped");
                    engine.with_journal(|j| j.sync_set_gone(&url, &msg, now))?;
                    engine.emit_sync_now();
                    return Ok(PassEnd::Blocked);
                }
                Outcome::Retry {
                    counted,
                    retry_after,
                    message,
                } => {
                    rt.streak = rt.streak.saturating_add(1);
                    let delay = backoff.delay(rt.streak, retry_after);
                    let next = now + chrono::Duration::from_std(delay).unwrap_or_default();
                    tracing::info!(error = %message, counted, delay_ms = delay.as_millis() as u64, "hub delivery failed; will retry");
                    let dead = engine.with_journal(|j| {
                        j.sync_note_failure(
                            &url,
                            &seqs,
                            counted,
                            config.max_attempts,
                            &message,
                            next,
                            now,
                        )
                    })?;
                    if !dead.is_empty() {
                        tracing::warn!(
                            count = dead.len(),
                            "records reached hub.max_attempts; dead letters"
                        );
                    }
                    // The whole queue waits, also when every record of this
                    // request just became a dead letter (the rest goes on
                    // after the backoff).
                    rt.hold_until = Some(next);
                    engine.emit_sync_now();
                    return Ok(PassEnd::WaitUntil(next));
                }
            }
        }
        engine.emit_sync_now();
    }
}
