//! One signed request to the hub and what its answer means for the records in it.

use crate::journal::sync::PendingRecord;
use std::time::Duration;
use till_sync_proto::{ChainHead, ErrorBody, ErrorCode, IngestResponse, Signer};

/// What the hub's answer (or its silence) means for the records of one request.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// 2xx: the hub holds these events (stored or duplicate).
    Delivered(IngestResponse),
    /// 413: too big. Split a batch; a single record is dead-lettered.
    TooLarge(String),
    /// 400/409 (and 401 `bad_headers`): something in this request is refused
    /// for good. Split a batch to find it; a single record is dead-lettered.
    Refused(String),
    /// 410: the hub disabled this terminal; stop delivering to it.
    Gone(String),
    /// Try again later. `counted` failures (the hub answered and refused:
    /// 401 signature/clock, 404, 500...) count towards the dead-letter limit;
    /// uncounted ones (no answer, 429, 502, 503, 504) only back off.
    Retry {
        counted: bool,
        retry_after: Option<Duration>,
        message: String,
    },
}

/// The batch envelope (`till.batch/2`) around the records' stored payloads,
/// byte for byte as they were enqueued, with the audit chain's head.
pub(crate) fn batch_body(
    terminal_id: &str,
    records: &[PendingRecord],
    chain: Option<&ChainHead>,
) -> Vec<u8> {
    let size: usize = records
        .iter()
        .map(|r| r.payload.len() + r.webhook_id.len() + 20)
        .sum();
    let mut body = Vec::with_capacity(size + 300);
    body.extend_from_slice(b"{\"schema\":\"");
    body.extend_from_slice(till_sync_proto::BATCH_SCHEMA.as_bytes());
    body.extend_from_slice(b"\",\"terminal_id\":");
    serde_json::to_writer(&mut body, terminal_id).expect("a string serialises");
    if let Some(c) = chain {
        body.extend_from_slice(b",\"chain\":");
        serde_json::to_writer(&mut body, c).expect("a head serialises");
    }
    body.extend_from_slice(b",\"events\":[");
    for (i, r) in records.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(b"{\"id\":");
        serde_json::to_writer(&mut body, &r.webhook_id).expect("a string serialises");
        body.extend_from_slice(b",\"event\":");
        body.extend_from_slice(r.payload.as_bytes());
        body.push(b'}');
    }
    body.extend_from_slice(b"]}");
    body
}

/// Posts `records` with the chain head `chain` as a batch to `…/batch`
/// (with no head, one record alone goes to `…/events`), signed now with
/// every key of `signer`. With a head, `records` may be empty.
pub(crate) async fn post(
    client: &reqwest::Client,
    base: &url::Url,
    terminal_id: &str,
    signer: &Signer,
    records: &[PendingRecord],
    chain: Option<&ChainHead>,
) -> Outcome {
    let base = base.as_str().trim_end_matches('/');
    let (url, id, body) = match (records, chain) {
        ([], Some(c)) => (
            format!("{base}/v1/terminals/{terminal_id}/batch"),
            till_sync_proto::chain_batch_id(terminal_id, c.count),
            batch_body(terminal_id, records, chain),
        ),
        ([one], None) => (
            format!("{base}/v1/terminals/{terminal_id}/events"),
            one.webhook_id.clone(),
            one.payload.clone().into_bytes(),
        ),
        _ => (
            format!("{base}/v1/terminals/{terminal_id}/batch"),
            till_sync_proto::batch_id(
                terminal_id,
                records.first().map(|r| r.sequence as u64).unwrap_or(0),
                records.last().map(|r| r.sequence as u64).unwrap_or(0),
            ),
            batch_body(terminal_id, records, chain),
        ),
    };
    // The hub checks the timestamp against its wall clock: sign with ours,
    // not the engine's (tests move that one).
    let headers = signer.headers(&id, chrono::Utc::now().timestamp(), &body);
    let mut req = client
        .post(&url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body);
    for (name, value) in headers.pairs() {
        req = req.header(name, value);
    }
    let resp = match req.send().await {
        Ok(r) => r,
        Err(e) => {
            return Outcome::Retry {
                counted: false,
                retry_after: None,
                message: format!(
                    "the hub did not answer: {}",
                    till_provider_http::TransportError::from_reqwest("hub", &e).message
                ),
            }
        }
    };
    let status = resp.status().as_u16();
    let retry_after = till_provider_http::retry_after(resp.headers());
    let bytes = match resp.bytes().await {
        Ok(b) => b,
        Err(e) => {
            return Outcome::Retry {
                counted: false,
                retry_after,
                message: format!(
                    "the hub's answer ({status}) was cut off: {}",
                    till_provider_http::TransportError::from_reqwest("hub", &e).message
                ),
            }
        }
    };
    classify(status, &bytes, retry_after)
}

/// What an HTTP answer means (see docs/webhooks.md, "Answers").
pub(crate) fn classify(status: u16, body: &[u8], retry_after: Option<Duration>) -> Outcome {
    let error: Option<ErrorBody> = serde_json::from_slice(body).ok();
    let message = match &error {
        Some(e) => format!(
            "hub answered {status} {}: {}",
            code_name(e.error),
            e.message
        ),
        None => format!(
            "hub answered {status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        ),
    };
    match status {
        200..=299 => match serde_json::from_slice::<IngestResponse>(body) {
            Ok(r) => Outcome::Delivered(r),
            Err(e) => Outcome::Retry {
                counted: true,
                retry_after,
                message: format!("hub answered {status} with a body Till cannot read: {e}"),
            },
        },
        410 => Outcome::Gone(message),
        413 => Outcome::TooLarge(message),
        400 | 409 | 422 => Outcome::Refused(message),
        401 if matches!(
            error,
            Some(ErrorBody {
                error: ErrorCode::BadHeaders,
                ..
            })
        ) =>
        {
            Outcome::Refused(message)
        }
        429 | 502 | 503 | 504 => Outcome::Retry {
            counted: false,
            retry_after,
            message,
        },
        _ => Outcome::Retry {
            counted: true,
            retry_after,
            message,
        },
    }
}

fn code_name(c: ErrorCode) -> String {
    serde_json::to_value(c)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("{c:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(seq: i64, payload: &str) -> PendingRecord {
        PendingRecord {
            sequence: seq,
            webhook_id: format!("evt_{seq}"),
            payload: payload.into(),
            attempts: 0,
            next_attempt_at: None,
        }
    }

    #[test]
    fn batch_envelope_keeps_payloads_verbatim() {
        let body = batch_body("t1", &[rec(1, r#"{"a":1}"#), rec(2, r#"{"b":"x"}"#)], None);
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"schema":"till.batch/2","terminal_id":"t1","events":[{"id":"evt_1","event":{"a":1}},{"id":"evt_2","event":{"b":"x"}}]}"#
        );
        let head = ChainHead {
            count: 2,
            hash: "a".repeat(64),
            at: None,
        };
        let body = batch_body("t1", &[], Some(&head));
        let parsed = till_sync_proto::Batch::from_slice(&body).unwrap();
        assert_eq!(parsed.chain, Some(head));
    }

    #[test]
    fn answers_are_classified() {
        let err = |code: &str| format!(r#"{{"error":"{code}","message":"m"}}"#).into_bytes();
        assert!(matches!(
            classify(410, &err("terminal_disabled"), None),
            Outcome::Gone(_)
        ));
        assert!(matches!(
            classify(413, &err("payload_too_large"), None),
            Outcome::TooLarge(_)
        ));
        assert!(matches!(
            classify(409, &err("conflict"), None),
            Outcome::Refused(_)
        ));
        assert!(matches!(
            classify(401, &err("bad_headers"), None),
            Outcome::Refused(_)
        ));
        assert!(matches!(
            classify(401, &err("bad_signature"), None),
            Outcome::Retry { counted: true, .. }
        ));
        let ra = Some(Duration::from_secs(7));
        match classify(503, &err("internal"), ra) {
            Outcome::Retry {
                counted: false,
                retry_after,
                message,
            } => {
                assert_eq!(retry_after, ra);
                assert!(message.contains("503 internal"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            classify(200, b"{\"results\":[],\"highest_contiguous\":0}", None),
            Outcome::Delivered(_)
        ));
        assert!(matches!(
            classify(200, b"ok", None),
            Outcome::Retry { counted: true, .. }
        ));
    }
}
