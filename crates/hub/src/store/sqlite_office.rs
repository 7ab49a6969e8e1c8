//! The office's storage on SQLite (users, sessions, the search): the bodies
//! of the `office_*` methods of [`SqliteStore`]. Times are the same RFC 3339
//! UTC text as elsewhere in this database, so they compare as text.

use super::{event_row, RawEventRow, SqliteStore};
use super::{parse_ts, ts, EVENT_COLUMNS};
use crate::office::model::{
    NewOfficeUser, NewSession, OfficeSearch, OfficeUser, Role, SessionRow, UserStatus,
    SESSION_SEEN_GRANULARITY_SECS, USER_COLUMNS,
};
use crate::store::{Result, StoreError, StoredEvent};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

/// Every session of a user (by name) ends.
const END_SESSIONS: &str =
    "DELETE FROM office_sessions WHERE user_id = (SELECT id FROM office_users WHERE username = ?1)";

type RawUser = (
    i64,
    String,
    String,
    String,
    Option<String>,
    String,
    i64,
    Option<String>,
    String,
    String,
    Option<String>,
);

fn raw_user(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<RawUser> {
    Ok((
        r.get(at)?,
        r.get(at + 1)?,
        r.get(at + 2)?,
        r.get(at + 3)?,
        r.get(at + 4)?,
        r.get(at + 5)?,
        r.get(at + 6)?,
        r.get(at + 7)?,
        r.get(at + 8)?,
        r.get(at + 9)?,
        r.get(at + 10)?,
    ))
}

fn finish_user(u: RawUser) -> Result<OfficeUser> {
    let (id, username, hash, role, language, status, failures, locked, created, changed, last) = u;
    Ok(OfficeUser {
        id,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role:?}")))?,
        status: UserStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("user status {status:?}")))?,
        username,
        password_hash: hash,
        language,
        failures: failures.max(0) as u32,
        locked_until: locked.as_deref().map(parse_ts).transpose()?,
        created_at: parse_ts(&created)?,
        password_changed_at: parse_ts(&changed)?,
        last_sign_in_at: last.as_deref().map(parse_ts).transpose()?,
    })
}

fn user_by_name(conn: &Connection, username: &str) -> Result<Option<OfficeUser>> {
    conn.query_row(
        &format!("SELECT {USER_COLUMNS} FROM office_users u WHERE u.username = ?1"),
        [username],
        |r| raw_user(r, 0),
    )
    .optional()?
    .map(finish_user)
    .transpose()
}

pub(super) async fn add_user(store: &SqliteStore, u: &NewOfficeUser) -> Result<Option<i64>> {
    let u = u.clone();
    store
        .with(move |conn| {
            let at = ts(&u.created_at);
            let n = conn.execute(
                "INSERT INTO office_users (username, password_hash, role, language, created_at, \
                 password_changed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT DO NOTHING",
                params![u.username, u.password_hash, u.role.as_str(), u.language, at],
            )?;
            Ok((n == 1).then(|| conn.last_insert_rowid()))
        })
        .await
}

pub(super) async fn user(store: &SqliteStore, username: &str) -> Result<Option<OfficeUser>> {
    let username = username.to_owned();
    store.with(move |conn| user_by_name(conn, &username)).await
}

pub(super) async fn users(store: &SqliteStore) -> Result<Vec<OfficeUser>> {
    store
        .with(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {USER_COLUMNS} FROM office_users u ORDER BY u.username"
            ))?;
            let rows = stmt.query_map([], |r| raw_user(r, 0))?;
            let mut out = Vec::new();
            for r in rows {
                out.push(finish_user(r?)?);
            }
            Ok(out)
        })
        .await
}

pub(super) async fn set_status(
    store: &SqliteStore,
    username: &str,
    status: UserStatus,
) -> Result<bool> {
    let username = username.to_owned();
    store
        .with(move |conn| {
            let tx = conn.transaction()?;
            let n = tx.execute(
                "UPDATE office_users SET status = ?2 WHERE username = ?1",
                params![username, status.as_str()],
            )?;
            if status == UserStatus::Disabled {
                tx.execute(END_SESSIONS, [&username])?;
            }
            tx.commit()?;
            Ok(n == 1)
        })
        .await
}

pub(super) async fn set_password(
    store: &SqliteStore,
    username: &str,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let (username, hash) = (username.to_owned(), hash.to_owned());
    store
        .with(move |conn| {
            let tx = conn.transaction()?;
            let n = tx.execute(
                "UPDATE office_users SET password_hash = ?2, password_changed_at = ?3, \
                 failures = 0, locked_until = NULL WHERE username = ?1",
                params![username, hash, ts(&now)],
            )?;
            tx.execute(END_SESSIONS, [&username])?;
            tx.commit()?;
            Ok(n == 1)
        })
        .await
}

pub(super) async fn set_language(
    store: &SqliteStore,
    user_id: i64,
    language: Option<&str>,
) -> Result<()> {
    let language = language.map(str::to_owned);
    store
        .with(move |conn| {
            conn.execute(
                "UPDATE office_users SET language = ?2 WHERE id = ?1",
                params![user_id, language],
            )?;
            Ok(())
        })
        .await
}

pub(super) async fn sign_in_failed(
    store: &SqliteStore,
    user_id: i64,
    now: DateTime<Utc>,
    max_failures: u32,
    lock_for: chrono::Duration,
) -> Result<Option<DateTime<Utc>>> {
    store
        .with(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let row: Option<(i64, Option<String>)> = tx
                .query_row(
                    "SELECT failures, locked_until FROM office_users WHERE id = ?1",
                    [user_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let Some((failures, locked)) = row else {
                return Ok(None);
            };
            let locked = locked.as_deref().map(parse_ts).transpose()?;
            let (failures, locked) = crate::office::sessions::lockout_step(
                failures.max(0) as u32,
                locked,
                now,
                max_failures,
                lock_for,
            );
            tx.execute(
                "UPDATE office_users SET failures = ?2, locked_until = ?3 WHERE id = ?1",
                params![user_id, failures, locked.as_ref().map(ts)],
            )?;
            tx.commit()?;
            Ok(locked.filter(|l| *l > now))
        })
        .await
}

pub(super) async fn open_session(store: &SqliteStore, s: &NewSession) -> Result<()> {
    let s = s.clone();
    store
        .with(move |conn| {
            let tx = conn.transaction()?;
            let now = ts(&s.created_at);
            tx.execute(
                "UPDATE office_users SET failures = 0, locked_until = NULL, \
                 last_sign_in_at = ?2 WHERE id = ?1",
                params![s.user_id, now],
            )?;
            tx.execute("DELETE FROM office_sessions WHERE expires_at <= ?1", [&now])?;
            tx.execute(
                "INSERT INTO office_sessions (token_sha256, user_id, created_at, expires_at, \
                 last_seen_at) VALUES (?1, ?2, ?3, ?4, ?3)",
                params![s.token_sha256, s.user_id, now, ts(&s.expires_at)],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
}

pub(super) async fn session(
    store: &SqliteStore,
    token_sha256: &str,
    now: DateTime<Utc>,
    idle: chrono::Duration,
) -> Result<Option<(SessionRow, OfficeUser)>> {
    let h = token_sha256.to_owned();
    store
        .with(move |conn| {
            let found = conn
                .query_row(
                    &format!(
                        "SELECT s.created_at, s.expires_at, s.last_seen_at, {USER_COLUMNS} \
                         FROM office_sessions s JOIN office_users u ON u.id = s.user_id \
                         WHERE s.token_sha256 = ?1 AND s.expires_at > ?2 \
                         AND s.last_seen_at > ?3 AND u.status = 'active'"
                    ),
                    params![h, ts(&now), ts(&(now - idle))],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            raw_user(r, 3)?,
                        ))
                    },
                )
                .optional()?;
            let Some((created, expires, seen, user)) = found else {
                return Ok(None);
            };
            let mut row = SessionRow {
                created_at: parse_ts(&created)?,
                expires_at: parse_ts(&expires)?,
                last_seen_at: parse_ts(&seen)?,
            };
            if now - row.last_seen_at >= chrono::Duration::seconds(SESSION_SEEN_GRANULARITY_SECS) {
                conn.execute(
                    "UPDATE office_sessions SET last_seen_at = ?2 WHERE token_sha256 = ?1",
                    params![h, ts(&now)],
                )?;
                row.last_seen_at = now;
            }
            Ok(Some((row, finish_user(user)?)))
        })
        .await
}

pub(super) async fn close_session(store: &SqliteStore, token_sha256: &str) -> Result<()> {
    let h = token_sha256.to_owned();
    store
        .with(move |conn| {
            conn.execute("DELETE FROM office_sessions WHERE token_sha256 = ?1", [&h])?;
            Ok(())
        })
        .await
}

/// Every identifier of a payment event a person may have in hand, joined by
/// line feeds (a search text holds none), for one `LIKE`.
const SEARCHABLE: &str = "coalesce(json_extract(body, '$.payment.id'), '') || char(10) || \
     coalesce(json_extract(body, '$.payment.invoice'), '') || char(10) || \
     coalesce(json_extract(body, '$.payment.references.lookup'), '') || char(10) || \
     coalesce(json_extract(body, '$.payment.references.transaction'), '') || char(10) || \
     coalesce(json_extract(body, '$.payment.references.external'), '') || char(10) || \
     coalesce(json_extract(body, '$.payment.references.payment_id'), '') || char(10) || \
     coalesce(json_extract(body, '$.payment.references.trx_id'), '') || char(10) || \
     coalesce(json_extract(body, '$.payment.references.md5'), '') || char(10) || \
     coalesce(json_extract(body, '$.payment.references.hash'), '') || char(10) || \
     coalesce(json_extract(body, '$.refund.id'), '') || char(10) || \
     coalesce(json_extract(body, '$.refund.provider_refund_id'), '')";

pub(super) async fn search(store: &SqliteStore, q: &OfficeSearch) -> Result<Vec<StoredEvent>> {
    let q = q.clone();
    store
        .with(move |conn| {
            let amounts = q.amount_texts();
            let a = |i: usize| amounts.as_ref().map(|a| a[i].clone());
            let sql = format!(
                "SELECT {EVENT_COLUMNS} FROM events \
                 WHERE rowid > ?1 AND type IN ('payment.settled', 'payment.refunded') \
                 AND (?2 IS NULL OR terminal_id = ?2) AND (?3 IS NULL OR business_day = ?3) \
                 AND (?4 IS NULL OR provider = ?4) \
                 AND (?5 IS NULL OR ({SEARCHABLE}) LIKE ?5 ESCAPE '\\') \
                 AND (?6 IS NULL OR amount IN (?6, ?7, ?8, ?9, ?10) \
                      OR refund_amount IN (?6, ?7, ?8, ?9, ?10)) \
                 ORDER BY rowid LIMIT ?11"
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(
                params![
                    q.after.unwrap_or(0),
                    q.terminal,
                    q.day.map(|d| d.to_string()),
                    q.provider,
                    q.like_pattern(),
                    a(0),
                    a(1),
                    a(2),
                    a(3),
                    a(4),
                    q.limit,
                ],
                event_row,
            )?;
            let mut out = Vec::new();
            for r in rows {
                out.push(RawEventRow::finish(r?)?);
            }
            Ok(out)
        })
        .await
}
