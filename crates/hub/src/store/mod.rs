//! Storage: the [`Store`] trait and its two implementations, chosen by the
//! database URL ([`open`]): [`sqlite`] (`sqlite:///path/hub.db` or a plain
//! path) and [`postgres`] (`postgres://…`). Both enforce exactly-once with a
//! primary key on the webhook id and `UNIQUE (terminal_id, sequence)`, and keep
//! each ingest request in one transaction.
//!
//! HMAC secrets are written sealed and read back opened with the store's
//! secret key ([`crate::sealing`]); at open, every stored secret is checked
//! against that key and any still in plain text (written by an older hub) is
//! sealed.

pub mod pg_tls;
pub mod postgres;
pub mod sqlite;

use crate::office::model::{
    NewOfficeUser, NewSession, OfficeSearch, OfficeUser, SessionRow, UserStatus,
};
use crate::sealing::{SecretKeyError, SecretKeySource};
use async_trait::async_trait;
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;
use till_sync_proto::{
    judge, ChainAck, ChainHead, ChainPoint, ChainStatus, Event, EventType, IngestStatus, KeyError,
    VerifyingKey,
};

/// The read API's shapes, as the store fills them (one definition, in
/// `till-sync-proto`): a stored event as listed, a line of the totals.
pub use till_sync_proto::read::{StoredEvent, TotalsRow};

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("terminal {0:?} is not registered")]
    UnknownTerminal(String),
    #[error("terminal {0:?} already exists")]
    TerminalExists(String),
    #[error("{reason}")]
    Conflict {
        id: String,
        sequence: u64,
        existing_id: Option<String>,
        reason: String,
    },
    #[error("unsupported database URL {0:?} (use sqlite:///path, a file path, or postgres://…)")]
    BadUrl(String),
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    #[error("PostgreSQL TLS: {0}")]
    Tls(String),
    #[error("PostgreSQL pool: {0}")]
    Pool(String),
    #[error("migration: {0}")]
    Migration(#[from] refinery::Error),
    #[error(transparent)]
    SecretKey(#[from] SecretKeyError),
    #[error("stored key {key_id} is not a key: {source}")]
    BadKey { key_id: i64, source: KeyError },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("storage task failed: {0}")]
    Task(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Whether a terminal may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TerminalStatus {
    Active,
    Disabled,
}

impl TerminalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TerminalStatus::Active => "active",
            TerminalStatus::Disabled => "disabled",
        }
    }
    pub(crate) fn parse(s: &str) -> Result<Self> {
        match s {
            "active" => Ok(TerminalStatus::Active),
            "disabled" => Ok(TerminalStatus::Disabled),
            other => Err(StoreError::Corrupt(format!("terminal status {other:?}"))),
        }
    }
}

/// One registered verification key of a terminal.
#[derive(Debug, Clone)]
pub struct KeyRecord {
    pub key_id: i64,
    pub key: VerifyingKey,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

/// A registered terminal with its keys.
#[derive(Debug, Clone)]
pub struct Terminal {
    pub id: String,
    pub name: Option<String>,
    pub status: TerminalStatus,
    pub keys: Vec<KeyRecord>,
}

impl Terminal {
    /// The keys signatures are checked against (retired ones excluded).
    pub fn active_keys(&self) -> Vec<VerifyingKey> {
        self.keys
            .iter()
            .filter(|k| k.active)
            .map(|k| k.key.clone())
            .collect()
    }
}

/// How far a terminal's stream has arrived.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Progress {
    /// Every sequence 1..=highest_contiguous is stored.
    pub highest_contiguous: u64,
    /// Missing ranges above it, inclusive, ascending.
    pub gaps: Vec<[u64; 2]>,
    pub max_sequence: u64,
    pub last_received_at: Option<DateTime<Utc>>,
}

/// For `GET /v1/terminals`.
#[derive(Debug, Clone, Serialize)]
pub struct TerminalInfo {
    pub id: String,
    pub name: Option<String>,
    pub status: TerminalStatus,
    pub keys: Vec<KeyInfo>,
    pub highest_contiguous: u64,
    pub max_sequence: u64,
    pub events: u64,
    pub last_received_at: Option<DateTime<Utc>>,
    /// The payee (receiving account) per provider, as the latest events name it.
    pub payees: Vec<PayeeInfo>,
    /// Flag: a provider's payee changed (see `payee_changes`).
    pub payee_changed: bool,
    /// Every change seen, oldest first.
    pub payee_changes: Vec<PayeeChangeInfo>,
    /// The last audit chain head the terminal sent (`None`: none yet, e.g.
    /// a terminal that sends `till.batch/1`).
    pub chain: Option<ChainInfo>,
    /// Flag: a head did not extend the one held (see `chain_breaks`).
    pub chain_broken: bool,
    /// Every such head, oldest first.
    pub chain_breaks: Vec<ChainBreakInfo>,
}

/// The chain head the hub holds for a terminal.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ChainInfo {
    pub count: u64,
    pub hash: String,
    pub received_at: DateTime<Utc>,
}

/// A head that did not extend the held one.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ChainBreakInfo {
    pub held_count: u64,
    pub held_hash: String,
    pub sent_count: u64,
    pub sent_hash: String,
    /// The hash the terminal gave at a count (its proof), if any.
    pub sent_at_count: Option<u64>,
    pub sent_at_hash: Option<String>,
    pub reason: String,
    pub detected_at: DateTime<Utc>,
}

/// One provider's payee of a terminal.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PayeeInfo {
    pub provider: String,
    pub payee: String,
    /// When the first event naming it happened (the terminal's clock).
    pub since: DateTime<FixedOffset>,
    /// The latest event that named it.
    pub sequence: u64,
}

/// A payee change the hub saw in a terminal's events.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PayeeChangeInfo {
    pub provider: String,
    pub old: String,
    pub new: String,
    /// The first event naming the new payee.
    pub sequence: u64,
    pub event_id: String,
    pub occurred_at: DateTime<FixedOffset>,
    /// When the hub received that event.
    pub detected_at: DateTime<Utc>,
}

/// `GET /v1/terminals/{id}/payees`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TerminalPayees {
    pub terminal: String,
    pub payees: Vec<PayeeInfo>,
    pub payee_changed: bool,
    pub payee_changes: Vec<PayeeChangeInfo>,
}

/// A key as listed (never the HMAC secret).
#[derive(Debug, Clone, Serialize)]
pub struct KeyInfo {
    pub key_id: i64,
    pub kind: &'static str,
    pub status: &'static str,
    /// The `whpk_` text for ed25519 keys; null for shared secrets.
    pub public_key: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<&KeyRecord> for KeyInfo {
    fn from(k: &KeyRecord) -> Self {
        KeyInfo {
            key_id: k.key_id,
            kind: k.key.kind(),
            status: if k.active { "active" } else { "retired" },
            public_key: k.key.is_public().then(|| k.key.to_text()),
            created_at: k.created_at,
        }
    }
}

/// A read-API token as listed: never the token, nor its hash.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TokenInfo {
    pub id: i64,
    pub label: String,
    /// `active` or `revoked`.
    pub status: &'static str,
    pub created_at: DateTime<Utc>,
    /// When a request last presented it (recorded at most once a minute).
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl TokenInfo {
    pub(crate) fn status_of(revoked: bool) -> &'static str {
        if revoked {
            "revoked"
        } else {
            "active"
        }
    }
}

/// What [`Store::revoke_token`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    /// Revoked now.
    Now,
    /// It was revoked already, at that time.
    Already(DateTime<Utc>),
    /// No token has that id.
    NoSuchToken,
}

/// How long a token's recorded last use may lag behind (one write per
/// token per this many seconds, not one per request).
pub const LAST_USED_GRANULARITY_SECS: i64 = 60;

/// An event ready to store: the parsed fields the queries need, and the raw JSON.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub id: String,
    pub terminal_id: String,
    pub sequence: u64,
    pub kind: EventType,
    pub payment_id: Option<String>,
    pub provider: Option<String>,
    pub currency: Option<String>,
    pub amount: Option<Decimal>,
    pub refund_id: Option<String>,
    pub refund_amount: Option<Decimal>,
    pub business_day: NaiveDate,
    pub occurred_at: DateTime<FixedOffset>,
    /// `till.event/2`: the account the payment went to (`None`: unknown).
    pub payee: Option<String>,
    /// The event's JSON exactly as received.
    pub body: String,
}

impl NewEvent {
    /// From a validated event, its webhook id, and its raw JSON.
    pub fn new(id: &str, event: &Event, body: String) -> Self {
        let p = event.payment.as_ref();
        let r = event.refund.as_ref();
        NewEvent {
            id: id.to_string(),
            terminal_id: event.terminal_id.clone(),
            sequence: event.sequence,
            kind: event.kind,
            payment_id: p.map(|p| p.id.clone()),
            provider: p.map(|p| p.provider.clone()),
            currency: p.map(|p| p.currency.clone()),
            amount: p.map(|p| p.amount),
            refund_id: r.map(|r| r.id.clone()),
            refund_amount: r.map(|r| r.amount),
            business_day: event.business_day,
            occurred_at: event.occurred_at,
            payee: p.and_then(|p| p.payee.clone()),
            body,
        }
    }
}

/// What one ingest request did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestOutcome {
    pub results: Vec<(String, u64, IngestStatus)>,
    pub highest_contiguous: u64,
    /// What became of the request's chain head (`None`: it had none).
    pub chain: Option<till_sync_proto::ChainAck>,
}

/// Filters of `GET /v1/settlements`.
#[derive(Debug, Clone, Default)]
pub struct SettlementQuery {
    pub terminal: Option<String>,
    pub day: Option<NaiveDate>,
    pub provider: Option<String>,
    /// Only events of this type (default: both payment types).
    pub kind: Option<EventType>,
    pub after: Option<i64>,
    pub limit: u32,
}

/// Filters of `GET /v1/totals`.
#[derive(Debug, Clone, Default)]
pub struct TotalsQuery {
    pub terminal: Option<String>,
    pub day: Option<NaiveDate>,
}

/// The storage operations the hub needs.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Register a terminal with its first key.
    async fn add_terminal(&self, id: &str, name: Option<&str>, key: &VerifyingKey) -> Result<i64>;
    /// Add a key (rotation); returns its key id.
    async fn add_key(&self, terminal: &str, key: &VerifyingKey) -> Result<i64>;
    /// Retire the given keys; returns how many changed.
    async fn retire_keys(&self, terminal: &str, key_ids: &[i64]) -> Result<usize>;
    async fn set_status(&self, terminal: &str, status: TerminalStatus) -> Result<()>;
    /// Every stored HMAC secret opens with this store's secret key (without
    /// a key, any is [`SecretKeyError::Missing`]). Opening checks less: it
    /// leaves sealed secrets alone when it has no key.
    async fn check_secrets(&self) -> Result<()>;
    async fn terminal(&self, id: &str) -> Result<Option<Terminal>>;
    async fn terminals(&self) -> Result<Vec<TerminalInfo>>;
    /// Store events of one terminal in one transaction: each id at most once;
    /// a (terminal, sequence) already held under another id, or an id already
    /// naming another event, fails the whole request with
    /// [`StoreError::Conflict`] and stores nothing. `chain`, the request's
    /// audit chain head, is judged against the head held ([`judge`]) in the
    /// same transaction: kept when it extends it, recorded as a break (and
    /// then kept) when it does not.
    async fn ingest(
        &self,
        terminal: &str,
        events: Vec<NewEvent>,
        chain: Option<ChainHead>,
        received_at: DateTime<Utc>,
    ) -> Result<IngestOutcome>;
    async fn progress(&self, terminal: &str) -> Result<Option<Progress>>;
    /// The payees a terminal's events name and the changes seen (`None`:
    /// no such terminal).
    async fn payees(&self, terminal: &str) -> Result<Option<TerminalPayees>>;
    async fn event(&self, id: &str) -> Result<Option<StoredEvent>>;
    async fn settlements(&self, q: &SettlementQuery) -> Result<Vec<StoredEvent>>;
    async fn totals(&self, q: &TotalsQuery) -> Result<Vec<TotalsRow>>;
    /// Store a read token's hash; returns its id.
    async fn add_token(&self, sha256_hex: &str, label: &str) -> Result<i64>;
    /// Whether a token with this hash exists and is not revoked; if so its
    /// last use is recorded as `now` (when the recorded one is older than
    /// [`LAST_USED_GRANULARITY_SECS`]).
    async fn use_token(&self, sha256_hex: &str, now: DateTime<Utc>) -> Result<bool>;
    /// Every stored token, oldest first.
    async fn tokens(&self) -> Result<Vec<TokenInfo>>;
    /// Refuse the token from now on (the row stays, for the listing).
    async fn revoke_token(&self, id: i64, now: DateTime<Utc>) -> Result<Revoked>;
    /// Number of stored events (all terminals, or one).
    async fn count_events(&self, terminal: Option<&str>) -> Result<u64>;
    /// The `day.closed` events of a terminal for a business day, in arrival order.
    async fn day_closes(&self, terminal: &str, day: NaiveDate) -> Result<Vec<StoredEvent>>;
    /// The (terminal, business day) pairs that have any event, newest day
    /// first, at most `limit`.
    async fn days(
        &self,
        terminal: Option<&str>,
        day: Option<NaiveDate>,
        limit: u32,
    ) -> Result<Vec<(String, NaiveDate)>>;

    // The office dashboard (`crate::office`): users, sessions, the search.
    // Bodies in `sqlite_office.rs` and `postgres_office.rs`.

    /// Add an office user; `None` when the name is taken.
    async fn office_add_user(&self, user: &NewOfficeUser) -> Result<Option<i64>>;
    /// The user of that (lower-case) name.
    async fn office_user(&self, username: &str) -> Result<Option<OfficeUser>>;
    /// Every user, by name.
    async fn office_users(&self) -> Result<Vec<OfficeUser>>;
    /// Enable or disable a user; disabling ends their sessions. `false`: no such user.
    async fn office_set_status(&self, username: &str, status: UserStatus) -> Result<bool>;
    /// A new password hash: wrong-password count and lockout cleared, every
    /// session of the user ended. `false`: no such user.
    async fn office_set_password(
        &self,
        username: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool>;
    /// The user's language (`None`: the browser's).
    async fn office_set_language(&self, user_id: i64, language: Option<&str>) -> Result<()>;
    /// Count a wrong password (a lockout that has ended first starts the
    /// count afresh); at `max_failures` the user is locked until `now +
    /// lock_for` and the count restarts. Returns the lock's end if locked now.
    async fn office_sign_in_failed(
        &self,
        user_id: i64,
        now: DateTime<Utc>,
        max_failures: u32,
        lock_for: chrono::Duration,
    ) -> Result<Option<DateTime<Utc>>>;
    /// A right password: the count cleared, the sign-in time kept, the
    /// session stored (and sessions past their end deleted).
    async fn office_open_session(&self, session: &NewSession) -> Result<()>;
    /// The session of that token hash and its user, when neither has ended:
    /// before its absolute end, seen within `idle`, the user active. Its
    /// last use becomes `now` (at most one write a minute).
    async fn office_session(
        &self,
        token_sha256: &str,
        now: DateTime<Utc>,
        idle: chrono::Duration,
    ) -> Result<Option<(SessionRow, OfficeUser)>>;
    /// Sign-out: the session is deleted.
    async fn office_close_session(&self, token_sha256: &str) -> Result<()>;
    /// Payment events matching every given filter, in arrival order.
    async fn office_search(&self, q: &OfficeSearch) -> Result<Vec<StoredEvent>>;
}

/// Open (and migrate) the store a URL names, with the secret key of
/// [`SecretKeySource::Auto`].
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    open_with(url, &SecretKeySource::Auto).await
}

/// Open (and migrate) the store a URL names, sealing and opening HMAC
/// secrets with the key `secret_key` gives. Fails with
/// [`StoreError::SecretKey`] when the database holds HMAC secrets another
/// key sealed, or plain ones (from an older hub) and there is no key to seal
/// them with; without a key, sealed secrets are left alone (see
/// [`Store::check_secrets`]).
pub async fn open_with(url: &str, secret_key: &SecretKeySource) -> Result<Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let key = secret_key.resolve(None)?;
        Ok(Arc::new(postgres::PgStore::open(url, key).await?))
    } else if let Some(path) = url.strip_prefix("sqlite://") {
        open_sqlite(path, secret_key).await
    } else if url.starts_with("sqlite:") || url.contains("://") || url.is_empty() {
        Err(StoreError::BadUrl(url.to_string()))
    } else {
        open_sqlite(url, secret_key).await
    }
}

async fn open_sqlite(path: &str, secret_key: &SecretKeySource) -> Result<Arc<dyn Store>> {
    let file = (path != ":memory:" && !path.is_empty()).then(|| Path::new(path));
    let key = secret_key.resolve(file)?;
    Ok(Arc::new(sqlite::SqliteStore::open(path, key).await?))
}

/// What a newly stored event means for its terminal's payee of `provider`,
/// given the one held (`payee`, the sequence of the latest event naming it).
/// Only a later event moves the payee: a late one (a replayed dead letter)
/// names how things were then, not a change.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PayeeStep {
    /// Nothing held yet: hold this one.
    First,
    /// The same payee, at a later sequence.
    Same,
    /// Another payee at a later sequence: a change (old payee given).
    Changed(String),
    /// An earlier event: nothing to do.
    Late,
}

pub(crate) fn payee_step(held: Option<(&str, u64)>, payee: &str, sequence: u64) -> PayeeStep {
    match held {
        None => PayeeStep::First,
        Some((_, s)) if sequence < s => PayeeStep::Late,
        Some((p, _)) if p == payee => PayeeStep::Same,
        Some((p, _)) => PayeeStep::Changed(p.to_owned()),
    }
}

/// What to do with a request's chain head given the one held: the answer,
/// the head to hold afterwards (`None`: keep the held one), and the break to
/// record.
pub(crate) fn chain_step(
    held: Option<&ChainPoint>,
    sent: &ChainHead,
) -> (ChainAck, Option<ChainPoint>, Option<String>) {
    let (status, reason) = judge(held, sent);
    let keep_sent = matches!(
        status,
        ChainStatus::Recorded | ChainStatus::Extended | ChainStatus::Broken
    );
    let now_held = if keep_sent {
        sent.point()
    } else {
        held.cloned().unwrap_or_else(|| sent.point())
    };
    (
        ChainAck {
            status,
            count: now_held.count,
            hash: now_held.hash.clone(),
        },
        keep_sent.then_some(now_held),
        reason,
    )
}

/// Gaps above `hc` given the stored sequences above it, ascending.
pub(crate) fn gaps_from(hc: u64, above: &[u64]) -> Vec<[u64; 2]> {
    let mut gaps = Vec::new();
    let mut prev = hc;
    for &s in above {
        if s > prev + 1 {
            gaps.push([prev + 1, s - 1]);
        }
        prev = prev.max(s);
    }
    gaps
}

/// The new highest contiguous sequence given the old one and the stored
/// sequences above it, ascending.
pub(crate) fn advance(hc: u64, above: &[u64]) -> u64 {
    let mut hc = hc;
    for &s in above {
        if s == hc + 1 {
            hc = s;
        } else if s > hc + 1 {
            break;
        }
    }
    hc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payee_steps() {
        assert_eq!(payee_step(None, "a", 1), PayeeStep::First);
        assert_eq!(payee_step(Some(("a", 1)), "a", 2), PayeeStep::Same);
        assert_eq!(
            payee_step(Some(("a", 1)), "b", 2),
            PayeeStep::Changed("a".into())
        );
        assert_eq!(payee_step(Some(("b", 5)), "a", 3), PayeeStep::Late);
    }

    #[test]
    fn gap_arithmetic() {
        assert_eq!(advance(0, &[1, 2, 4]), 2);
        assert_eq!(advance(0, &[2, 3]), 0);
        assert_eq!(advance(5, &[]), 5);
        assert_eq!(gaps_from(0, &[2, 3, 7]), vec![[1, 1], [4, 6]]);
        assert_eq!(gaps_from(3, &[]), Vec::<[u64; 2]>::new());
        assert_eq!(gaps_from(3, &[5]), vec![[4, 4]]);
    }

    #[tokio::test]
    async fn urls() {
        // In memory, for the desktop app's demo mode.
        let store = open("sqlite://:memory:").await.unwrap();
        let key = till_sync_proto::generate_hmac_secret().verifying_key();
        store.add_terminal("t1", None, &key).await.unwrap();
        assert_eq!(store.terminals().await.unwrap().len(), 1);
        for bad in ["mysql://x/y", "sqlite:relative.db", ""] {
            assert!(
                matches!(open(bad).await, Err(StoreError::BadUrl(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn totals_rescale() {
        let r = TotalsRow {
            provider: "bkash".into(),
            currency: "BDT".into(),
            count: 2,
            settled: "35.75".parse().unwrap(),
            refund_count: 0,
            refunded: Decimal::ZERO,
            net: Decimal::ZERO,
        }
        .finish();
        assert_eq!(r.refunded.to_string(), "0.00");
        assert_eq!(r.net.to_string(), "35.75");
    }
}
