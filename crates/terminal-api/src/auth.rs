//! The POS's key on every request (`Authorization: Bearer pos_….<secret>`),
//! checked by the engine against the journal's hashes. A refused key is
//! audited — at most one row a minute per key and code, counting the
//! requests in between, so a flood cannot fill the audit log.

use crate::error::ApiError;
use crate::server::ApiState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use till_core::engine::PosAuthError;
use till_core::journal::pos::PosKey;

/// How often a refused key is written to the audit log at most.
const AUDIT_EVERY: Duration = Duration::from_secs(60);

/// The POS a request comes from.
pub struct Pos(pub PosKey);

/// Which key (the id it named, if any) was refused for which code.
type Refused = (Option<String>, &'static str);

/// Refusals not audited yet, per key and code: when the last row was
/// written, and how many came since.
#[derive(Default)]
pub(crate) struct Refusals {
    seen: std::collections::HashMap<Refused, (Option<Instant>, u32)>,
}

impl ApiState {
    fn note_refusal(&self, err: &PosAuthError, peer: Option<SocketAddr>, what: &str) {
        let key = match err {
            PosAuthError::Missing => None,
            PosAuthError::Invalid { key } => key.clone(),
            PosAuthError::Revoked { key } => Some(key.clone()),
        };
        let code = err.reason().code.as_str();
        let due = {
            let Ok(mut r) = self.refusals.lock() else {
                return;
            };
            let (last, missed) = r.seen.entry((key, code)).or_default();
            *missed += 1;
            if last.is_none_or(|l| l.elapsed() >= AUDIT_EVERY) {
                *last = Some(Instant::now());
                Some(std::mem::take(missed))
            } else {
                None
            }
        };
        if let Some(n) = due {
            let from = peer
                .map(|p| p.ip().to_string())
                .unwrap_or_else(|| "?".into());
            let detail = format!("{n} request(s) refused, the last {what} from {from}");
            tracing::warn!(code, %detail, "terminal API key refused");
            if let Err(e) = self.engine.audit_pos_refusal(err, &detail) {
                tracing::error!(error = %e, "cannot audit a refused key");
            }
        }
    }
}

impl FromRequestParts<ApiState> for Pos {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Pos, ApiError> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .map(|v| v.to_str().unwrap_or(""));
        let result = match header {
            None => Err(PosAuthError::Missing),
            Some(h) => match h.split_once(' ') {
                Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
                    state.engine.authenticate_pos(Some(token))
                }
                _ => Err(PosAuthError::Invalid { key: None }),
            },
        };
        result.map(Pos).map_err(|e| {
            let peer = parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0);
            state.note_refusal(&e, peer, &format!("{} {}", parts.method, parts.uri.path()));
            ApiError::new(e.reason())
        })
    }
}
