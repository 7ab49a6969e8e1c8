//! The office's storage on PostgreSQL (users, sessions, the search): the
//! bodies of the `office_*` methods of [`PgStore`].

use super::{event_from_row, PgStore, EVENT_COLUMNS};
use crate::office::model::{
    NewOfficeUser, NewSession, OfficeSearch, OfficeUser, Role, SessionRow, UserStatus,
    SESSION_SEEN_GRANULARITY_SECS, USER_COLUMNS,
};
use crate::store::{Result, StoreError, StoredEvent};
use chrono::{DateTime, Utc};

/// Every session of a user (by name) ends.
const END_SESSIONS: &str =
    "DELETE FROM office_sessions WHERE user_id = (SELECT id FROM office_users WHERE username = $1)";

fn user_from_row(r: &tokio_postgres::Row, at: usize) -> Result<OfficeUser> {
    let role: String = r.try_get(at + 3)?;
    let status: String = r.try_get(at + 5)?;
    Ok(OfficeUser {
        id: r.try_get(at)?,
        username: r.try_get(at + 1)?,
        password_hash: r.try_get(at + 2)?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role:?}")))?,
        language: r.try_get(at + 4)?,
        status: UserStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("user status {status:?}")))?,
        failures: r.try_get::<_, i32>(at + 6)?.max(0) as u32,
        locked_until: r.try_get(at + 7)?,
        created_at: r.try_get(at + 8)?,
        password_changed_at: r.try_get(at + 9)?,
        last_sign_in_at: r.try_get(at + 10)?,
    })
}

pub(super) async fn add_user(store: &PgStore, u: &NewOfficeUser) -> Result<Option<i64>> {
    let client = store.client().await?;
    let row = client
        .query_opt(
            "INSERT INTO office_users (username, password_hash, role, language, created_at, \
             password_changed_at) VALUES ($1, $2, $3, $4, $5, $5) \
             ON CONFLICT (username) DO NOTHING RETURNING id",
            &[
                &u.username,
                &u.password_hash,
                &u.role.as_str(),
                &u.language,
                &u.created_at,
            ],
        )
        .await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}

pub(super) async fn user(store: &PgStore, username: &str) -> Result<Option<OfficeUser>> {
    let client = store.client().await?;
    client
        .query_opt(
            &format!("SELECT {USER_COLUMNS} FROM office_users u WHERE u.username = $1"),
            &[&username],
        )
        .await?
        .map(|r| user_from_row(&r, 0))
        .transpose()
}

pub(super) async fn users(store: &PgStore) -> Result<Vec<OfficeUser>> {
    let client = store.client().await?;
    client
        .query(
            &format!("SELECT {USER_COLUMNS} FROM office_users u ORDER BY u.username"),
            &[],
        )
        .await?
        .iter()
        .map(|r| user_from_row(r, 0))
        .collect()
}

pub(super) async fn set_status(
    store: &PgStore,
    username: &str,
    status: UserStatus,
) -> Result<bool> {
    let mut client = store.client().await?;
    let tx = client.transaction().await?;
    let n = tx
        .execute(
            "UPDATE office_users SET status = $2 WHERE username = $1",
            &[&username, &status.as_str()],
        )
        .await?;
    if status == UserStatus::Disabled {
        tx.execute(END_SESSIONS, &[&username]).await?;
    }
    tx.commit().await?;
    Ok(n == 1)
}

pub(super) async fn set_password(
    store: &PgStore,
    username: &str,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let mut client = store.client().await?;
    let tx = client.transaction().await?;
    let n = tx
        .execute(
            "UPDATE office_users SET password_hash = $2, password_changed_at = $3, \
             failures = 0, locked_until = NULL WHERE username = $1",
            &[&username, &hash, &now],
        )
        .await?;
    tx.execute(END_SESSIONS, &[&username]).await?;
    tx.commit().await?;
    Ok(n == 1)
}

pub(super) async fn set_language(
    store: &PgStore,
    user_id: i64,
    language: Option<&str>,
) -> Result<()> {
    let client = store.client().await?;
    client
        .execute(
            "UPDATE office_users SET language = $2 WHERE id = $1",
            &[&user_id, &language],
        )
        .await?;
    Ok(())
}

pub(super) async fn sign_in_failed(
    store: &PgStore,
    user_id: i64,
    now: DateTime<Utc>,
    max_failures: u32,
    lock_for: chrono::Duration,
) -> Result<Option<DateTime<Utc>>> {
    let mut client = store.client().await?;
    let tx = client.transaction().await?;
    let Some(row) = tx
        .query_opt(
            "SELECT failures, locked_until FROM office_users WHERE id = $1 FOR UPDATE",
            &[&user_id],
        )
        .await?
    else {
        return Ok(None);
    };
    let (failures, locked) = crate::office::sessions::lockout_step(
        row.try_get::<_, i32>(0)?.max(0) as u32,
        row.try_get(1)?,
        now,
        max_failures,
        lock_for,
    );
    tx.execute(
        "UPDATE office_users SET failures = $2, locked_until = $3 WHERE id = $1",
        &[&user_id, &(failures as i32), &locked],
    )
    .await?;
    tx.commit().await?;
    Ok(locked.filter(|l| *l > now))
}

pub(super) async fn open_session(store: &PgStore, s: &NewSession) -> Result<()> {
    let mut client = store.client().await?;
    let tx = client.transaction().await?;
    tx.execute(
        "UPDATE office_users SET failures = 0, locked_until = NULL, last_sign_in_at = $2 \
         WHERE id = $1",
        &[&s.user_id, &s.created_at],
    )
    .await?;
    tx.execute(
        "DELETE FROM office_sessions WHERE expires_at <= $1",
        &[&s.created_at],
    )
    .await?;
    tx.execute(
        "INSERT INTO office_sessions (token_sha256, user_id, created_at, expires_at, \
         last_seen_at) VALUES ($1, $2, $3, $4, $3)",
        &[&s.token_sha256, &s.user_id, &s.created_at, &s.expires_at],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn session(
    store: &PgStore,
    token_sha256: &str,
    now: DateTime<Utc>,
    idle: chrono::Duration,
) -> Result<Option<(SessionRow, OfficeUser)>> {
    let client = store.client().await?;
    let Some(r) = client
        .query_opt(
            &format!(
                "SELECT s.created_at, s.expires_at, s.last_seen_at, {USER_COLUMNS} \
                 FROM office_sessions s JOIN office_users u ON u.id = s.user_id \
                 WHERE s.token_sha256 = $1 AND s.expires_at > $2 AND s.last_seen_at > $3 \
                 AND u.status = 'active'"
            ),
            &[&token_sha256, &now, &(now - idle)],
        )
        .await?
    else {
        return Ok(None);
    };
    let mut row = SessionRow {
        created_at: r.try_get(0)?,
        expires_at: r.try_get(1)?,
        last_seen_at: r.try_get(2)?,
    };
    let user = user_from_row(&r, 3)?;
    if now - row.last_seen_at >= chrono::Duration::seconds(SESSION_SEEN_GRANULARITY_SECS) {
        client
            .execute(
                "UPDATE office_sessions SET last_seen_at = $2 WHERE token_sha256 = $1",
                &[&token_sha256, &now],
            )
            .await?;
        row.last_seen_at = now;
    }
    Ok(Some((row, user)))
}

pub(super) async fn close_session(store: &PgStore, token_sha256: &str) -> Result<()> {
    let client = store.client().await?;
    client
        .execute(
            "DELETE FROM office_sessions WHERE token_sha256 = $1",
            &[&token_sha256],
        )
        .await?;
    Ok(())
}

/// Every identifier of a payment event a person may have in hand, joined by
/// line feeds (a search text holds none), for one `ILIKE`.
const SEARCHABLE: &str = "concat_ws(E'\\n', \
     b #>> '{payment,id}', b #>> '{payment,invoice}', \
     b #>> '{payment,references,lookup}', b #>> '{payment,references,transaction}', \
     b #>> '{payment,references,external}', b #>> '{payment,references,payment_id}', \
     b #>> '{payment,references,trx_id}', b #>> '{payment,references,md5}', \
     b #>> '{payment,references,hash}', b #>> '{refund,id}', \
     b #>> '{refund,provider_refund_id}')";

pub(super) async fn search(store: &PgStore, q: &OfficeSearch) -> Result<Vec<StoredEvent>> {
    let client = store.client().await?;
    let rows = client
        .query(
            &format!(
                "SELECT {EVENT_COLUMNS} FROM events CROSS JOIN LATERAL \
                 (SELECT body::jsonb AS b) j \
                 WHERE row_no > $1 AND type IN ('payment.settled', 'payment.refunded') \
                 AND ($2::text IS NULL OR terminal_id = $2) \
                 AND ($3::date IS NULL OR business_day = $3) \
                 AND ($4::text IS NULL OR provider = $4) \
                 AND ($5::text IS NULL OR {SEARCHABLE} ILIKE $5) \
                 AND ($6::numeric IS NULL OR amount = $6 OR refund_amount = $6) \
                 ORDER BY row_no LIMIT $7"
            ),
            &[
                &q.after.unwrap_or(0),
                &q.terminal,
                &q.day,
                &q.provider,
                &q.like_pattern(),
                &q.amount,
                &i64::from(q.limit),
            ],
        )
        .await?;
    rows.iter().map(event_from_row).collect()
}
