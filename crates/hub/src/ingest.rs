//! The webhook endpoints: `POST /v1/terminals/{terminal_id}/events` (one
//! event) and `POST /v1/terminals/{terminal_id}/batch` (a `till.batch/2`
//! envelope with the terminal's audit chain head, or a `till.batch/1`).
//!
//! Order of checks: body size (413), headers, timestamp window and signature
//! (401), terminal enabled (410), JSON (400), schema (400), terminal in body =
//! path (400), then one storage transaction (200, or 409 on a sequence/id
//! conflict with nothing stored).
//!
//! Nothing before the signature check depends on whether the path's terminal
//! exists: an unknown terminal is checked against a decoy key no one holds
//! (and so is a terminal without active keys), a disabled one against its
//! keys, so a request not signed by the terminal gets the same 401 for an
//! unknown, a disabled and an active terminal. Only a correctly signed
//! request learns that its terminal is disabled (410).

use crate::error::ApiError;
use crate::server::Hub;
use crate::store::{NewEvent, Terminal, TerminalStatus};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;
use serde_json::value::RawValue;
use till_sync_proto::{
    Batch, BatchItem, ChainHead, ErrorCode, Event, IngestResponse, IngestResult, SchemaError,
    Verifier, VerifyError, WebhookHeaders, BATCH_SCHEMA, BATCH_SCHEMAS, BATCH_SCHEMA_V1,
};

fn body_or_413(body: Result<Bytes, BytesRejection>, limit: usize) -> Result<Bytes, ApiError> {
    body.map_err(|rej| {
        if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::PayloadTooLarge,
                format!("body larger than {limit} bytes"),
            )
        } else {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::MalformedJson,
                format!("cannot read body: {rej}"),
            )
        }
    })
}

fn verify_error(e: VerifyError) -> ApiError {
    let code = match e {
        VerifyError::Stale { .. } => ErrorCode::StaleTimestamp,
        VerifyError::Future { .. } => ErrorCode::FutureTimestamp,
        VerifyError::MissingHeader(_) | VerifyError::BadHeader(_) | VerifyError::BadTimestamp => {
            ErrorCode::BadHeaders
        }
        VerifyError::NoSupportedSignature
        | VerifyError::NoMatchingSignature
        | VerifyError::NoKeys => ErrorCode::BadSignature,
    };
    ApiError::new(StatusCode::UNAUTHORIZED, code, e.to_string())
}

fn schema_error(e: SchemaError) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        ErrorCode::SchemaViolation,
        e.to_string(),
    )
}

fn check_json_syntax(body: &[u8]) -> Result<(), ApiError> {
    serde_json::from_slice::<serde::de::IgnoredAny>(body)
        .map(|_| ())
        .map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::MalformedJson,
                format!("not JSON: {e}"),
            )
        })
}

fn mismatch(path: &str, body: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        ErrorCode::TerminalMismatch,
        format!("body is from terminal {body:?} but was posted to {path:?}"),
    )
}

/// Headers, signature, then the terminal's status. Returns the verified
/// webhook id. Every refusal before the signature has matched is the same
/// for an unknown, a disabled and an active terminal (see the module docs).
pub(crate) async fn authenticate(
    hub: &Hub,
    terminal_id: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<String, ApiError> {
    let hdrs =
        WebhookHeaders::from_lookup(|name| headers.get(name).map(|v| v.to_str().map_err(|_| ())))
            .map_err(verify_error)?;
    let terminal = if till_sync_proto::valid_id(terminal_id) {
        hub.store.terminal(terminal_id).await?
    } else {
        None
    };
    let keys = terminal
        .as_ref()
        .map(Terminal::active_keys)
        .filter(|k| !k.is_empty())
        .unwrap_or_else(|| hub.decoy_keys.to_vec());
    let verifier = Verifier::new(keys, hub.config.tolerance_secs);
    let verified = verifier.verify(&hdrs, body, chrono::Utc::now().timestamp());
    let terminal = match (verified, terminal) {
        (Ok(_), Some(t)) => t,
        (Err(e), t) => {
            tracing::warn!(
                terminal = terminal_id,
                registered = t.is_some(),
                error = %e,
                "refused webhook"
            );
            return Err(verify_error(e));
        }
        // The decoy matched: cannot happen (no one holds it); refuse alike.
        (Ok(_), None) => return Err(verify_error(VerifyError::NoMatchingSignature)),
    };
    if terminal.status == TerminalStatus::Disabled {
        return Err(ApiError::new(
            StatusCode::GONE,
            ErrorCode::TerminalDisabled,
            format!("terminal {terminal_id:?} is disabled on this hub; stop sending"),
        ));
    }
    Ok(hdrs.id.to_string())
}

fn respond(outcome: crate::store::IngestOutcome) -> Json<IngestResponse> {
    Json(IngestResponse {
        results: outcome
            .results
            .into_iter()
            .map(|(id, sequence, status)| IngestResult {
                id,
                sequence,
                status,
            })
            .collect(),
        highest_contiguous: outcome.highest_contiguous,
        chain: outcome.chain,
    })
}

/// `POST /v1/terminals/{terminal_id}/events`
pub async fn single(
    State(hub): State<Hub>,
    Path(terminal_id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<IngestResponse>, ApiError> {
    let body = body_or_413(body, hub.config.single_body_limit)?;
    let id = authenticate(&hub, &terminal_id, &headers, &body).await?;
    let event = read_single(&terminal_id, &id, &body)?;
    let sequence = event.sequence;
    let outcome = hub
        .store
        .ingest(&terminal_id, vec![event], None, chrono::Utc::now())
        .await?;
    tracing::debug!(terminal = %terminal_id, id, sequence, "event");
    Ok(respond(outcome))
}

/// The body of `…/events` as the hub reads it once the signature of webhook
/// `id` has matched: JSON, the event's schema, the terminal in the body = the
/// path's. A function of its own, with no store and no clock, so that the
/// fuzz target (`fuzz/fuzz_targets/hub_ingest.rs`) reads bodies exactly as
/// the endpoint does.
pub fn read_single(terminal_id: &str, id: &str, body: &[u8]) -> Result<NewEvent, ApiError> {
    check_json_syntax(body)?;
    let event = Event::from_slice(body).map_err(schema_error)?;
    if event.terminal_id != terminal_id {
        return Err(mismatch(terminal_id, &event.terminal_id));
    }
    let text = String::from_utf8(body.to_vec())
        .map_err(|_| schema_error(SchemaError::Json("not UTF-8".into())))?;
    Ok(NewEvent::new(id, &event, text))
}

#[derive(Deserialize)]
struct RawBatch<'a> {
    schema: String,
    terminal_id: String,
    /// `till.batch/2`: the terminal's audit chain head.
    #[serde(default)]
    chain: Option<ChainHead>,
    #[serde(borrow)]
    events: Vec<RawItem<'a>>,
}

#[derive(Deserialize)]
struct RawItem<'a> {
    id: String,
    #[serde(borrow)]
    event: &'a RawValue,
}

/// `POST /v1/terminals/{terminal_id}/batch`
pub async fn batch(
    State(hub): State<Hub>,
    Path(terminal_id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<IngestResponse>, ApiError> {
    let body = body_or_413(body, hub.config.batch_body_limit)?;
    authenticate(&hub, &terminal_id, &headers, &body).await?;
    let batch = read_batch(&terminal_id, &body, hub.config.max_batch_events)?;
    let outcome = hub
        .store
        .ingest(&terminal_id, batch.events, batch.chain, chrono::Utc::now())
        .await?;
    Ok(respond(outcome))
}

/// A batch body as read: its events to store and the audit chain head it
/// carried (`till.batch/2`).
#[derive(Debug)]
pub struct ReadBatch {
    pub events: Vec<NewEvent>,
    pub chain: Option<ChainHead>,
}

/// The body of `…/batch` as the hub reads it once its signature has matched:
/// JSON, a `till.batch/1` or `/2` envelope, at most `max_events` events, each
/// event valid and from the path's terminal, each stored with its own JSON
/// text as received. Pure, like [`read_single`], for the same reason (the
/// fuzz target).
pub fn read_batch(
    terminal_id: &str,
    body: &[u8],
    max_events: usize,
) -> Result<ReadBatch, ApiError> {
    check_json_syntax(body)?;
    let raw: RawBatch<'_> =
        serde_json::from_slice(body).map_err(|e| schema_error(SchemaError::Json(e.to_string())))?;
    if !BATCH_SCHEMAS.contains(&raw.schema.as_str()) {
        return Err(schema_error(SchemaError::WrongSchema {
            found: raw.schema,
            expected: BATCH_SCHEMA,
        }));
    }
    if raw.terminal_id != terminal_id {
        return Err(mismatch(terminal_id, &raw.terminal_id));
    }
    if raw.events.len() > max_events {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            format!(
                "{} events in one batch; at most {}",
                raw.events.len(),
                max_events
            ),
        ));
    }
    let mut items = Vec::with_capacity(raw.events.len());
    for item in &raw.events {
        let event = Event::from_slice(item.event.get().as_bytes()).map_err(|e| {
            let mut err = schema_error(e);
            err.body.message = format!("event {}: {}", item.id, err.body.message);
            err
        })?;
        items.push(BatchItem {
            id: item.id.clone(),
            event,
        });
    }
    // A version 1 batch has no head, whatever else it carries.
    let chain = if raw.schema == BATCH_SCHEMA_V1 {
        None
    } else {
        raw.chain.clone()
    };
    let checked = Batch {
        schema: raw.schema.clone(),
        terminal_id: raw.terminal_id.clone(),
        chain,
        events: items,
    };
    if let Err(e) = checked.validate() {
        if let SchemaError::Invalid {
            field: "events[].event.terminal_id",
            ..
        } = e
        {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::TerminalMismatch,
                e.to_string(),
            ));
        }
        return Err(schema_error(e));
    }
    let events = checked
        .events
        .iter()
        .zip(&raw.events)
        .map(|(item, raw)| NewEvent::new(&item.id, &item.event, raw.event.get().to_string()))
        .collect();
    Ok(ReadBatch {
        events,
        chain: checked.chain,
    })
}
