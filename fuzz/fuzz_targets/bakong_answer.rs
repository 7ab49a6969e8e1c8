//! Bakong's answers as the client reads them (`Envelope` from the body →
//! `till_bakong::status::{map_single, map_bulk, map_renew}`), then the
//! terminal core's verdict (`till_core::provider::bakong::verdict`). Input:
//! one body, read as a single MD5 check, a bulk MD5 check (of the MD5s its
//! items name, and one it does not) and a token renewal.
//!
//! Invariants: never panics; paid only on `responseCode 0` (single) or a
//! `SUCCESS` item of that MD5 (bulk), with a non-empty hash, receiving
//! account and currency and exactly the amount written; failed only on
//! errorCode 3 / `FAILED`; one bulk outcome per MD5 asked, in order; a
//! renewed token is never blank.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use till_bakong::status::{map_bulk, map_renew, map_single};
use till_bakong::wire::{Envelope, WireTransaction};
use till_bakong::{BulkOutcome, CheckOutcome, Transaction};
use till_core::money::Currency;
use till_core::provider::{bakong as glue, Verdict};
use till_fuzz::assert_exact;

/// The text of a JSON number (or numeric string) as written.
fn literal(raw: &str) -> String {
    let raw = raw.trim();
    serde_json::from_str::<String>(raw).unwrap_or_else(|_| raw.to_owned())
}

fn check_transaction(t: &Transaction) {
    assert!(!t.hash.trim().is_empty() && !t.to_account_id.trim().is_empty());
    assert!(!t.currency.trim().is_empty());
}

fn check_verdict(outcome: &CheckOutcome) {
    match (glue::verdict(outcome), outcome) {
        (
            Verdict::Paid {
                amount, currency, ..
            },
            CheckOutcome::Paid(t),
        ) => {
            assert_eq!(amount, t.amount);
            assert_eq!(Ok(currency), t.currency.parse::<Currency>());
        }
        (Verdict::Paid { .. }, other) => panic!("paid from {other:?}"),
        (Verdict::Failed { .. }, o) => assert!(matches!(o, CheckOutcome::Failed { .. })),
        (Verdict::Unclear { .. }, o) => assert!(matches!(o, CheckOutcome::Paid(_))),
        (Verdict::Pending, o) => assert_eq!(*o, CheckOutcome::NotFound),
        (Verdict::Cancelled | Verdict::Expired, o) => panic!("Bakong cannot say that: {o:?}"),
    }
}

fn single(env: &Envelope) {
    let Ok(outcome) = map_single(env) else {
        return;
    };
    match &outcome {
        CheckOutcome::Paid(t) => {
            assert_eq!(env.response_code, Some(0));
            check_transaction(t);
            let raw = env.data().expect("paid without data");
            let w: WireTransaction = serde_json::from_str(raw.get()).expect("read once already");
            assert_exact(&literal(w.amount.get()), t.amount);
        }
        CheckOutcome::Failed { code, .. } => {
            assert_eq!(*code, 3);
            assert_eq!(env.error_code, Some(3));
        }
        CheckOutcome::NotFound => {}
    }
    check_verdict(&outcome);
}

fn bulk(env: &Envelope) {
    // Ask for every MD5 the items name, and for one they do not.
    let items: Vec<Value> = env
        .data()
        .and_then(|d| serde_json::from_str::<Vec<Value>>(d.get()).ok())
        .unwrap_or_default();
    let mut asked: Vec<String> = items
        .iter()
        .filter_map(|i| i.get("md5")?.as_str().map(str::to_owned))
        .collect();
    asked.push("00000000000000000000000000000000".into());
    let Ok(outcomes) = map_bulk(env, &asked) else {
        return;
    };
    assert_eq!(outcomes.len(), asked.len());
    for ((md5, outcome), want) in outcomes.iter().zip(&asked) {
        assert_eq!(md5, want, "bulk outcomes out of order");
        let BulkOutcome::Known(known) = outcome else {
            continue;
        };
        let said = |status: &str| {
            items.iter().any(|i| {
                let same = i
                    .get("md5")
                    .and_then(Value::as_str)
                    .is_some_and(|m| m.trim().eq_ignore_ascii_case(md5.trim()));
                let st = i.get("status").and_then(Value::as_str).unwrap_or("");
                same && st.trim().eq_ignore_ascii_case(status)
            })
        };
        match known {
            CheckOutcome::Paid(t) => {
                check_transaction(t);
                assert!(said("SUCCESS"), "{md5} paid without a SUCCESS item");
            }
            CheckOutcome::Failed { .. } => assert!(said("FAILED"), "{md5} failed without FAILED"),
            CheckOutcome::NotFound => {}
        }
        check_verdict(known);
    }
}

fn renew(env: &Envelope) {
    if let Ok(Some(token)) = map_renew(env) {
        assert_eq!(env.response_code, Some(0));
        assert!(!token.trim().is_empty());
    }
}

fuzz_target!(|data: &[u8]| {
    // As the client: a body that is not an envelope is no answer at all.
    let Ok(env) = serde_json::from_slice::<Envelope>(data) else {
        return;
    };
    single(&env);
    bulk(&env);
    renew(&env);
});
