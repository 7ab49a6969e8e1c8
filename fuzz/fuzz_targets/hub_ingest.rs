//! The hub's reading of a webhook body once its signature has matched:
//! `till_hub::ingest::read_single` (`POST …/events`) and `read_batch`
//! (`POST …/batch`, `till.batch/1` and `/2`). Input: one body, read as both, for the terminal it
//! names (and for another one).
//!
//! Invariants: never panics; a refusal is a 400 or a 413, never a 5xx; what
//! is stored comes from the path's terminal, has a sequence ≥ 1 that fits a
//! signed 64-bit column, non-negative amounts of at most 4 decimals and ISO
//! currency codes, and its stored JSON reads back as the same event; an
//! event accepted alone is accepted in a batch too, as the same record.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rust_decimal::Decimal;
use serde_json::Value;
use till_hub::error::ApiError;
use till_hub::ingest::{read_batch, read_single};
use till_hub::store::NewEvent;
use till_sync_proto::Event;

/// The hub's default (`HubConfig::max_batch_events`) is larger; a small
/// limit lets the fuzzer reach the 413 too.
const MAX_EVENTS: usize = 8;

fn amount_ok(d: Decimal) -> bool {
    !d.is_sign_negative() && d.scale() <= 4
}

fn check_refusal(e: &ApiError) {
    let s = e.status.as_u16();
    assert!(s == 400 || s == 413, "refused with HTTP {s}: {:?}", e.body);
}

fn check_stored(terminal: &str, stored: &NewEvent) {
    assert_eq!(stored.terminal_id, terminal);
    assert!(stored.sequence >= 1 && stored.sequence <= i64::MAX as u64);
    assert!(till_sync_proto::valid_id(&stored.id));
    for d in [stored.amount, stored.refund_amount].into_iter().flatten() {
        assert!(amount_ok(d), "stored amount {d}");
    }
    if let Some(c) = &stored.currency {
        assert!(c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()));
    }
    let again = Event::from_slice(stored.body.as_bytes()).expect("the stored JSON reads back");
    assert_eq!(again.terminal_id, stored.terminal_id);
    assert_eq!(again.sequence, stored.sequence);
    assert_eq!(again.kind, stored.kind);
    assert_eq!(again.business_day, stored.business_day);
    assert_eq!(again.payment.as_ref().map(|p| p.amount), stored.amount);
}

fn same_record(a: &NewEvent, b: &NewEvent) {
    assert_eq!(
        (
            &a.terminal_id,
            a.sequence,
            a.kind,
            &a.payment_id,
            &a.provider
        ),
        (
            &b.terminal_id,
            b.sequence,
            b.kind,
            &b.payment_id,
            &b.provider
        )
    );
    assert_eq!((&a.currency, a.amount), (&b.currency, b.amount));
    assert_eq!(
        (&a.refund_id, a.refund_amount),
        (&b.refund_id, b.refund_amount)
    );
    assert_eq!(
        (a.business_day, a.occurred_at),
        (b.business_day, b.occurred_at)
    );
    // A batch keeps each event's JSON text; alone, the whole body is kept,
    // with whatever JSON whitespace surrounds it.
    let json_space = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r');
    assert_eq!(a.body.trim_matches(json_space), b.body);
}

fn read_as(terminal: &str, body: &[u8]) {
    match read_single(terminal, "evt_fuzz", body) {
        Ok(stored) => {
            check_stored(terminal, &stored);
            // The same event in a batch of one is the same record.
            let text = std::str::from_utf8(body).expect("stored as text");
            let batch = format!(
                r#"{{"schema":"till.batch/1","terminal_id":{},"events":[{{"id":"evt_fuzz","event":{text}}}]}}"#,
                Value::String(terminal.to_owned())
            );
            let in_batch = read_batch(terminal, batch.as_bytes(), MAX_EVENTS)
                .unwrap_or_else(|e| panic!("accepted alone, refused in a batch: {:?}", e.body));
            assert_eq!(in_batch.events.len(), 1);
            assert!(in_batch.chain.is_none(), "a till.batch/1 has no chain head");
            same_record(&stored, &in_batch.events[0]);
        }
        Err(e) => check_refusal(&e),
    }
    match read_batch(terminal, body, MAX_EVENTS) {
        Ok(batch) => {
            let v1 =
                serde_json::from_slice::<Value>(body).is_ok_and(|v| v["schema"] == "till.batch/1");
            assert!(
                !(v1 && batch.chain.is_some()),
                "a till.batch/1 with a chain head"
            );
            let events = &batch.events;
            assert!(!events.is_empty() && events.len() <= MAX_EVENTS);
            for e in events {
                check_stored(terminal, e);
            }
        }
        Err(e) => check_refusal(&e),
    }
}

fuzz_target!(|data: &[u8]| {
    // The path's terminal: the one the body names (so a body can be
    // accepted), and one it does not.
    let named = serde_json::from_slice::<Value>(data)
        .ok()
        .and_then(|v| v.get("terminal_id")?.as_str().map(str::to_owned));
    if let Some(t) = &named {
        read_as(t, data);
    }
    read_as("till-fuzz-other", data);
});
