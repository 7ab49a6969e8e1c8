//! The audit log (who did what, when) and the provider-call log.

use super::{parse_ts, ts, Ctx, Journal, JournalError};
use chrono::{DateTime, Utc};
use rusqlite::params;
use serde::Serialize;
use till_provider_http::CallRecord;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub detail: Option<String>,
}

impl Journal {
    pub fn audit(
        &self,
        actor: &str,
        action: &str,
        target: Option<&str>,
        detail: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), JournalError> {
        self.conn
            .prepare_cached(
                "INSERT INTO audit_log(at, actor, action, target, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut s| s.execute(params![ts(at), actor, action, target, detail]))
            .ctx("writing the audit log")?;
        Ok(())
    }

    /// Newest first.
    pub fn audit_log(&self, limit: u32) -> Result<Vec<AuditEntry>, JournalError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, at, actor, action, target, detail FROM audit_log ORDER BY id DESC LIMIT ?1",
            )
            .ctx("preparing the audit log")?;
        let rows = stmt
            .query_map([limit], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                ))
            })
            .ctx("reading the audit log")?
            .collect::<Result<Vec<_>, _>>()
            .ctx("reading the audit log")?;
        rows.into_iter()
            .map(|(id, at, actor, action, target, detail)| {
                Ok(AuditEntry {
                    id,
                    at: parse_ts(&at)?,
                    actor,
                    action,
                    target,
                    detail,
                })
            })
            .collect()
    }

    /// Stores one provider call (bodies arrive redacted from the adapter).
    pub fn record_call(&self, call: &CallRecord, at: DateTime<Utc>) -> Result<(), JournalError> {
        self.conn
            .prepare_cached(
                "INSERT INTO provider_calls(at, provider, endpoint, payment_ref, status, duration_ms, attempt, request_body, response_body, error)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    ts(at),
                    call.provider,
                    call.endpoint,
                    call.payment_ref,
                    call.status,
                    call.duration_ms as i64,
                    call.attempt,
                    call.request_body.as_ref().map(|v| v.to_string()),
                    call.response_body.as_ref().map(|v| v.to_string()),
                    call.error,
                ])
            })
            .ctx("writing the provider-call log")?;
        Ok(())
    }

    /// How many calls were logged for an endpoint (tests, diagnostics).
    pub fn call_count(&self, endpoint: &str) -> Result<i64, JournalError> {
        self.conn
            .query_row(
                "SELECT COUNT(*) FROM provider_calls WHERE endpoint = ?1",
                [endpoint],
                |r| r.get(0),
            )
            .ctx("counting provider calls")
    }
}
