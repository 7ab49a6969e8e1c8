//! The journal: the terminal's SQLite database (bundled SQLite, WAL,
//! `synchronous=FULL`, migrations by `rusqlite_migration`).
//!
//! Every state change of a payment is one transaction that updates the
//! payment row, appends to `payment_events`, and — for `settled` and for a
//! finished refund — enqueues the outbox record ([`outbox`]). Kill the process
//! at any instant and either all of it happened or none of it did.
//!
//! | module | tables |
//! | --- | --- |
//! | [`payments`] | `payments`, `payment_events`, `refunds` |
//! | [`outbox`] | `outbox` (what the sync delivers) |
//! | [`log`] | `audit_log`, `provider_calls` |
//! | [`chain`] | the hash chain over `audit_log` and `day_closes` |
//! | [`deferred`] | `deferred` (calls waiting for a provider to come back) |
//! | [`sync`] | the sync's view of `outbox`, `sync_endpoint` |
//! | [`days`] | business days: what a day holds, booking days, `day_closes`, `resolutions` |
//! | [`prints`] | `prints` (each receipt print asked for, and how it went) |
//! | [`pos`] | `pos_keys` (paired POS, keys hashed), `refund_requests`, the API's event feed over `payment_events` |
//! | [`payees`] | the payee settings last seen (`meta`), audited when they change |

pub mod chain;
pub mod days;
pub mod deferred;
pub mod log;
pub mod outbox;
pub mod payees;
pub mod payments;
pub mod pos;
pub mod prints;
pub mod sync;
pub mod token_calls;

use chrono::{DateTime, NaiveTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use rusqlite::{Connection, OpenFlags};
use rusqlite_migration::{Migrations, M};
use std::path::{Path, PathBuf};

/// Schema migrations, oldest first. Append, never edit.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/0001_journal.sql"),
    include_str!("../../migrations/0002_invoice_counter.sql"),
    include_str!("../../migrations/0003_sync.sql"),
    include_str!("../../migrations/0004_days.sql"),
    include_str!("../../migrations/0005_token_calls.sql"),
    include_str!("../../migrations/0006_payee.sql"),
    CHAIN_MIGRATION,
    REFS_MIGRATION,
    include_str!("../../migrations/0010_failure_reason.sql"),
    include_str!("../../migrations/0011_prints.sql"),
    include_str!("../../migrations/0012_pos.sql"),
];

/// The migration that starts the audit chain (rows before it are chained
/// once, when it runs: see [`chain::seal_unchained`]).
const CHAIN_MIGRATION: &str = include_str!("../../migrations/0007_chain.sql");

/// The migration that rebuilds `payments` with provider-neutral references
/// (a rebuild: foreign keys are checked after it, see [`migrations`]).
const REFS_MIGRATION: &str = include_str!("../../migrations/0008_provider_refs.sql");

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("the journal {path} was written by a newer Till (schema {found}, this build knows up to {supported}); refusing to open it")]
    NewerSchema {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error(
        "the disk holding the journal is full; nothing was recorded for this step ({context})"
    )]
    DiskFull { context: String },
    #[error("journal error while {context}: {source}")]
    Sqlite {
        context: String,
        source: rusqlite::Error,
    },
    #[error("cannot migrate the journal: {0}")]
    Migration(String),
    #[error("no payment {0}")]
    NotFound(String),
    /// A paired POS asked again with a reference it used before: that is payment `id`.
    #[error("this POS's reference is payment {id} already")]
    OriginTaken { id: String },
    #[error(transparent)]
    Transition(#[from] crate::state::TransitionError),
    #[error("the journal holds a value it cannot read back ({0})")]
    Corrupt(String),
    #[error("{0}")]
    Refused(String),
    /// Writing this payment would take the day's unverified money (KHQR codes
    /// shown while Bakong could not verify them) above its cap.
    #[error("unverified payments would reach {after}, above the day's limit of {limit}")]
    OverUnverifiedCap {
        after: crate::money::Amount,
        limit: crate::money::Amount,
    },
}

/// Attaches what we were doing to a SQLite error, and tells a full disk apart.
pub(crate) trait Ctx<T> {
    fn ctx(self, context: &str) -> Result<T, JournalError>;
}

impl<T> Ctx<T> for Result<T, rusqlite::Error> {
    fn ctx(self, context: &str) -> Result<T, JournalError> {
        self.map_err(|source| match &source {
            rusqlite::Error::SqliteFailure(e, _) if e.code == rusqlite::ErrorCode::DiskFull => {
                JournalError::DiskFull {
                    context: context.to_owned(),
                }
            }
            _ => JournalError::Sqlite {
                context: context.to_owned(),
                source,
            },
        })
    }
}

/// Facts the journal needs to stamp rows: who this terminal is and how its
/// business day runs.
#[derive(Clone, Debug)]
pub struct JournalContext {
    pub terminal_id: String,
    pub timezone: Tz,
    pub cutoff: NaiveTime,
}

impl JournalContext {
    pub fn from_config(c: &crate::config::Config) -> Result<Self, crate::config::ConfigError> {
        Ok(JournalContext {
            terminal_id: c.terminal.id.clone(),
            timezone: c.timezone()?,
            cutoff: c.cutoff()?,
        })
    }
}

pub struct Journal {
    pub(crate) conn: Connection,
    pub(crate) ctx: JournalContext,
    path: PathBuf,
}

pub(crate) fn ts(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub(crate) fn parse_ts(s: &str) -> Result<DateTime<Utc>, JournalError> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| JournalError::Corrupt(format!("timestamp {s:?}")))
}

fn migrations() -> Migrations<'static> {
    Migrations::new(
        MIGRATIONS
            .iter()
            .map(|sql| {
                if *sql == REFS_MIGRATION {
                    // Rebuilding a parent table leaves no dangling child
                    // only if every row came across: prove it before commit.
                    M::up(sql).foreign_key_check()
                } else {
                    M::up(sql)
                }
            })
            .collect(),
    )
}

impl Journal {
    /// Opens (creating if needed) and migrates the journal at `path`.
    pub fn open(path: &Path, ctx: JournalContext) -> Result<Journal, JournalError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                JournalError::Refused(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .ctx("opening the journal")?;
        Journal::setup(conn, ctx, path.to_owned())
    }

    /// A journal in memory (unit tests, benchmarks of pure logic).
    pub fn open_in_memory(ctx: JournalContext) -> Result<Journal, JournalError> {
        let conn = Connection::open_in_memory().ctx("opening an in-memory journal")?;
        Journal::setup(conn, ctx, PathBuf::from(":memory:"))
    }

    fn setup(
        mut conn: Connection,
        ctx: JournalContext,
        path: PathBuf,
    ) -> Result<Journal, JournalError> {
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .ctx("setting the busy timeout")?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .ctx("switching to WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")
            .ctx("setting synchronous=FULL")?;
        let found: u32 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .ctx("reading the schema version")?;
        if found > SCHEMA_VERSION {
            return Err(JournalError::NewerSchema {
                path,
                found,
                supported: SCHEMA_VERSION,
            });
        }
        // Off while migrating: a migration that rebuilds a table (SQLite's
        // way to drop a UNIQUE column) would otherwise cascade or refuse on
        // the drop. It cannot change inside a transaction, hence here.
        conn.pragma_update(None, "foreign_keys", "OFF")
            .ctx("pausing foreign keys for migrations")?;
        migrations()
            .to_latest(&mut conn)
            .map_err(|e| JournalError::Migration(e.to_string()))?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .ctx("enabling foreign keys")?;
        let chain_schema = MIGRATIONS
            .iter()
            .position(|m| *m == CHAIN_MIGRATION)
            .map(|i| i as u32 + 1)
            .unwrap_or(SCHEMA_VERSION);
        if found > 0 && found < chain_schema {
            // Only this once: afterwards a row without a chain is a row
            // written past Till, which the check reports.
            let n = chain::seal_unchained(&mut conn)?;
            tracing::info!(
                rows = n,
                "chained the audit rows and Z-reports of an older journal"
            );
        }
        Ok(Journal { conn, ctx, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes free to this process on the file system holding the journal (statvfs).
    pub fn free_space(&self) -> std::io::Result<u64> {
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let st = rustix::fs::statvfs(dir)?;
        // f_bavail, not f_bfree: blocks reserved for root are not ours to count on.
        Ok(st.f_bavail.saturating_mul(st.f_frsize))
    }

    pub fn context(&self) -> &JournalContext {
        &self.ctx
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<u32, JournalError> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .ctx("reading the schema version")
    }

    /// Migrates an existing database only up to `version` (tests of upgrades).
    #[doc(hidden)]
    pub fn create_at_version(path: &Path, version: usize) -> Result<(), JournalError> {
        let mut conn = Connection::open(path).ctx("opening")?;
        migrations()
            .to_version(&mut conn, version)
            .map_err(|e| JournalError::Migration(e.to_string()))
    }
}

#[cfg(test)]
pub(crate) fn test_context() -> JournalContext {
    JournalContext {
        terminal_id: "t1".into(),
        timezone: chrono_tz::Asia::Dhaka,
        cutoff: NaiveTime::from_hms_opt(4, 0, 0).unwrap(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        migrations().validate().unwrap();
    }

    #[test]
    fn older_journal_is_migrated_and_newer_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.db");
        Journal::create_at_version(&path, 1).unwrap();
        let j = Journal::open(&path, test_context()).unwrap();
        assert_eq!(j.schema_version().unwrap(), SCHEMA_VERSION);
        let counter: String = j
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key='invoice_counter'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(counter, "0");
        drop(j);
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        drop(conn);
        let err = Journal::open(&path, test_context()).err().unwrap();
        assert!(
            matches!(err, JournalError::NewerSchema { found, .. } if found == SCHEMA_VERSION + 1)
        );
        assert!(err.to_string().contains("newer Till"), "{err}");
    }

    /// Schema 8 rebuilds `payments` with references by what they are for.
    /// A journal of schema 7 holding a payment in every state, of every kind
    /// of wallet, with its history, refunds and outbox rows, comes across
    /// whole: each reference where it belongs, nothing else changed.
    #[test]
    fn payments_of_every_state_survive_the_references_migration() {
        use crate::payment::ProviderRefs;
        use crate::state::PaymentState;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.db");
        Journal::create_at_version(&path, 7).unwrap();
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "foreign_keys", "ON").unwrap();
        // (provider, paymentID, trxID, md5, hash, khqr, redirect) as schema 7 kept them.
        type Old = (
            &'static str,
            Option<&'static str>,
            Option<&'static str>,
            Option<&'static str>,
            Option<&'static str>,
        );
        let kinds: [Old; 4] = [
            ("bkash", Some("TR0011"), Some("BFM1"), None, None),
            ("bakong", None, Some("100FT1"), Some("md5-"), Some("hash-")),
            ("nagad", Some("NG-REF-"), Some("ISSUER-"), None, None),
            ("demo", None, Some("DEMO"), None, None),
        ];
        let mut expected = Vec::new();
        for (i, state) in PaymentState::ALL.iter().enumerate() {
            for (k, (provider, pid, trx, md5, hash)) in kinds.iter().enumerate() {
                let id = format!("P{i:02}{k}");
                let unique = |v: &Option<&str>| v.map(|v| format!("{v}{i}-{k}"));
                let (pid, trx, md5, hash) = (unique(pid), unique(trx), unique(md5), unique(hash));
                let (code, page) = match *provider {
                    "bakong" => (Some(format!("000201…{id}")), None),
                    "bkash" | "nagad" => (None, Some(format!("https://pay.example/{id}"))),
                    _ => (None, None),
                };
                let sent = (*provider == "bkash").then(|| "2026-11-22T10:00:01.000Z".to_owned());
                conn.execute(
                    "INSERT INTO payments(id, provider, amount, currency, state, invoice,
                        provider_payment_id, trx_id, md5, hash, khqr, redirect_url, callback_url,
                        expires_at, execute_sent_at, offline, refunded, flag, failure_code,
                        failure_reason, operator, business_day, created_at, updated_at,
                        booked_day, payee)
                     VALUES (?1, ?2, '100.00', 'BDT', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,
                        'http://127.0.0.1:1/cb', '2026-11-22T10:05:00.000Z', ?11, ?12, ?13,
                        ?14, NULL, ?15, 'cashier', '2026-11-22', '2026-11-22T10:00:00.000Z',
                        '2026-11-22T10:00:02.000Z', '2026-11-22', 'payee-1')",
                    rusqlite::params![
                        id,
                        provider,
                        state.as_str(),
                        format!("t1-{i:02}{k}"),
                        pid,
                        trx,
                        md5,
                        hash,
                        code,
                        page,
                        sent,
                        i64::from(k == 1),
                        if state.is_paid() { "40.00" } else { "0" },
                        (*state == PaymentState::Flagged).then_some("amount_mismatch: x"),
                        (*state == PaymentState::Failed).then_some("declined"),
                    ],
                )
                .unwrap();
                conn.execute(
                    "INSERT INTO payment_events(payment_id, at, from_state, to_state, detail)
                     VALUES (?1, '2026-11-22T10:00:00.000Z', NULL, 'created', NULL),
                            (?1, '2026-11-22T10:00:02.000Z', 'created', ?2, 'moved')",
                    rusqlite::params![id, state.as_str()],
                )
                .unwrap();
                if state.is_paid() {
                    conn.execute(
                        "INSERT INTO refunds(id, payment_id, amount, currency, state, requested_by,
                            created_at, updated_at)
                         VALUES (?1, ?2, '40.00', 'BDT', 'done', 'manager',
                            '2026-11-22T11:00:00.000Z', '2026-11-22T11:00:00.000Z')",
                        rusqlite::params![format!("R{id}"), id],
                    )
                    .unwrap();
                }
                let (transaction, external) = match &hash {
                    Some(h) => (Some(h.clone()), trx.clone()),
                    None => (trx.clone(), None),
                };
                expected.push((
                    id,
                    *state,
                    ProviderRefs {
                        lookup: pid.or(md5),
                        transaction,
                        external,
                    },
                    code,
                    page,
                    sent.is_some(),
                ));
            }
        }
        drop(conn);

        let j = Journal::open(&path, test_context()).unwrap();
        assert_eq!(j.schema_version().unwrap(), SCHEMA_VERSION);
        assert_eq!(expected.len(), 44);
        for (id, state, refs, code, page, sent) in &expected {
            let p = j.payment(id).unwrap();
            assert_eq!(p.state, *state, "{id}");
            assert_eq!(&p.refs, refs, "{id}");
            assert_eq!(&p.customer_code, code, "{id}");
            assert_eq!(&p.customer_page, page, "{id}");
            assert_eq!(p.completion_sent_at.is_some(), *sent, "{id}");
            assert_eq!(p.amount.wire(), "100.00");
            assert_eq!(p.payee.as_deref(), Some("payee-1"));
            assert_eq!(
                p.offline,
                p.provider == crate::payment::ProviderKind::Bakong
            );
            assert_eq!(p.flag.is_some(), *state == PaymentState::Flagged);
            assert_eq!(j.events(id).unwrap().len(), 2, "{id}: history kept");
            // Found by every reference it has.
            for r in refs.values() {
                assert_eq!(
                    j.find(r).unwrap().map(|f| f.id).as_deref(),
                    Some(id.as_str())
                );
            }
        }
        let refunds: i64 = j
            .conn
            .query_row("SELECT COUNT(*) FROM refunds", [], |r| r.get(0))
            .unwrap();
        assert_eq!(refunds, 4 * 4, "a refund for each paid state and wallet");
        // No child row lost its payment, and the old columns are gone.
        let dangling: i64 = j
            .conn
            .query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(dangling, 0);
        let columns: Vec<String> = j
            .conn
            .prepare("SELECT name FROM pragma_table_info('payments')")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for gone in [
            "provider_payment_id",
            "trx_id",
            "md5",
            "hash",
            "khqr",
            "redirect_url",
        ] {
            assert!(
                !columns.iter().any(|c| c == gone),
                "{gone} is still a column"
            );
        }
        // Foreign keys are on again, and a lookup is unique per provider.
        let fk: i64 = j
            .conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
        let twice = j.conn.execute(
            "UPDATE payments SET provider_ref = 'TR00110-0' WHERE id = 'P010'",
            [],
        );
        assert!(twice.is_err(), "two bKash payments with one paymentID");
    }

    #[test]
    fn opens_in_wal_with_full_sync() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(&dir.path().join("j.db"), test_context()).unwrap();
        let mode: String = j
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        let sync: i64 = j
            .conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(sync, 2);
    }
}
