//! What the hub answers.

use serde::{Deserialize, Serialize};

/// What became of one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IngestStatus {
    /// Newly stored.
    Stored,
    /// Already stored earlier under the same id; nothing changed.
    Duplicate,
}

/// One event's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestResult {
    pub id: String,
    pub sequence: u64,
    pub status: IngestStatus,
}

/// The 200 answer to a single event or a batch: every event in the request,
/// in order, and the terminal's highest contiguous sequence after it.
/// Both `stored` and `duplicate` mean the hub holds the event: mark it sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestResponse {
    pub results: Vec<IngestResult>,
    pub highest_contiguous: u64,
    /// For a `till.batch/2` with a chain head: what the hub made of it, and
    /// the head it holds now (absent otherwise, and from older hubs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain: Option<crate::chain::ChainAck>,
}

/// Machine-readable error codes of the hub's JSON errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 404: the terminal is not registered (read API). The ingest endpoints
    /// answer an unregistered terminal with [`ErrorCode::BadSignature`], as
    /// any request not signed by the terminal, so strangers cannot tell which
    /// terminals exist.
    UnknownTerminal,
    /// 410: the terminal is disabled; stop sending to this hub. Told only to
    /// a correctly signed request.
    TerminalDisabled,
    /// 401: a webhook header is missing or malformed.
    BadHeaders,
    /// 401: webhook-timestamp too old.
    StaleTimestamp,
    /// 401: webhook-timestamp too far in the future.
    FutureTimestamp,
    /// 401: no signature matched any of the terminal's keys.
    BadSignature,
    /// 413: body over the limit.
    PayloadTooLarge,
    /// 400: not JSON, or wrong types.
    MalformedJson,
    /// 400: JSON but not a valid v1 event/batch.
    SchemaViolation,
    /// 400: body's terminal_id differs from the path's.
    TerminalMismatch,
    /// 409: same (terminal, sequence) already stored under another id, or the
    /// id already names a different event. Nothing from the request was stored.
    Conflict,
    /// 401: read API without a valid bearer token.
    Unauthorized,
    /// 404
    NotFound,
    /// 400: bad query parameters.
    BadRequest,
    /// 500/503
    Internal,
}

/// Every non-2xx answer of the hub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorCode,
    pub message: String,
    /// For `conflict`: the id of the event already stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub existing_id: Option<String>,
}

/// What a sender should do with an event the hub refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SenderAction {
    /// Transient: keep it queued, retry with backoff (re-signed, same id).
    Retry,
    /// Split the batch, or send the event alone.
    Split,
    /// Permanent for this event: move it to the dead letters and alert.
    DeadLetter,
    /// This hub refuses the terminal: stop sending to this endpoint.
    StopEndpoint,
}

impl ErrorCode {
    /// The sender's reaction to this error (see docs/webhooks.md).
    pub fn sender_action(self) -> SenderAction {
        match self {
            ErrorCode::StaleTimestamp
            | ErrorCode::FutureTimestamp
            | ErrorCode::BadSignature
            | ErrorCode::UnknownTerminal
            | ErrorCode::Unauthorized
            | ErrorCode::NotFound
            | ErrorCode::Internal => SenderAction::Retry,
            ErrorCode::PayloadTooLarge => SenderAction::Split,
            ErrorCode::MalformedJson
            | ErrorCode::SchemaViolation
            | ErrorCode::TerminalMismatch
            | ErrorCode::BadHeaders
            | ErrorCode::Conflict
            | ErrorCode::BadRequest => SenderAction::DeadLetter,
            ErrorCode::TerminalDisabled => SenderAction::StopEndpoint,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names() {
        let r: IngestResponse = serde_json::from_str(
            r#"{"results":[{"id":"evt_1","sequence":3,"status":"duplicate"}],"highest_contiguous":3}"#,
        )
        .unwrap();
        assert_eq!(r.results[0].status, IngestStatus::Duplicate);
        let e: ErrorBody =
            serde_json::from_str(r#"{"error":"terminal_disabled","message":"x"}"#).unwrap();
        assert_eq!(e.error.sender_action(), SenderAction::StopEndpoint);
        assert_eq!(
            serde_json::to_string(&ErrorCode::StaleTimestamp).unwrap(),
            "\"stale_timestamp\""
        );
    }
}
