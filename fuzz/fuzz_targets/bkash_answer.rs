//! bKash's answers, read as the client reads a success body (a JSON object
//! → the endpoint's wire shape → `till_bkash::status`) and then mapped the
//! way the terminal core decides (`till_core::provider::bkash`). Input: one
//! body, read as every answer (token, create, execute, payment status,
//! search, refund, refund status), so the fixtures in
//! `tests/data/bkash-fixtures/` are seeds as they are.
//!
//! Invariants: never panics; every amount read is exactly the text bKash
//! wrote (never rounded); only an explicit `Completed` with a trxID, an
//! amount and a known currency is paid, with those figures; a token is used
//! until a time that is not before now; a lost refund is matched only to
//! exactly one completed refund not booked yet.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::time::{Duration, SystemTime};
use till_bkash::{status, wire, BkashStatus, RefundStatus};
use till_core::money::Currency;
use till_core::provider::{bkash as glue, RefundVerdict, Verdict};
use till_fuzz::assert_exact;

/// The client's fallback id when an answer omits its own.
const ASKED: &str = "TR0011FUZZ";

fn read<T: DeserializeOwned>(v: &Value) -> Option<T> {
    serde_json::from_value(v.clone()).ok()
}

/// The text of a field as the wire types read it (string trimmed, or a number).
fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn exact(v: &Value, key: &str, parsed: Decimal) {
    let t = text(v, key).unwrap_or_else(|| panic!("{key} read without a text"));
    assert_exact(&t, parsed);
}

/// A paid verdict carries exactly the figures bKash wrote.
fn check_paid(verdict: &Verdict, amount: Option<Decimal>, currency: Option<&str>) {
    if let Verdict::Paid {
        amount: a,
        currency: c,
        refs,
        ..
    } = verdict
    {
        assert_eq!(Some(*a), amount, "paid with an amount bKash did not write");
        let written: Currency = currency
            .expect("paid without a currency")
            .trim()
            .parse()
            .expect("paid in a currency Till does not know");
        assert_eq!(*c, written);
        assert!(refs.transaction.is_some(), "paid without a trxID");
    }
}

fn token(v: &Value) {
    // As the client does: an unreadable token answer is an empty one.
    let w: wire::TokenResponse = read(v).unwrap_or_default();
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600);
    if let Some(t) = status::token(w, now, Duration::from_secs(300)) {
        assert!(!t.id_token.is_empty());
        assert!(
            t.use_until >= now,
            "a token used until before it was granted"
        );
    }
}

fn create(v: &Value) {
    let Some(w) = read::<wire::CreateResponse>(v) else {
        return;
    };
    if let Ok(c) = status::created(w) {
        exact(v, "amount", c.amount);
        assert!(!c.payment_id.is_empty());
    }
}

fn execute(v: &Value) {
    let Some(w) = read::<wire::ExecuteResponse>(v) else {
        return;
    };
    let Ok(x) = status::executed(w, ASKED) else {
        return;
    };
    exact(v, "amount", x.amount);
    let verdict = glue::executed_verdict(&x);
    if matches!(verdict, Verdict::Paid { .. } | Verdict::Unclear { .. }) {
        assert_eq!(x.transaction_status, BkashStatus::Completed);
    }
    check_paid(&verdict, Some(x.amount), Some(x.currency.as_str()));
}

fn payment_status(v: &Value) {
    let Some(w) = read::<wire::StatusResponse>(v) else {
        return;
    };
    let Ok(s) = status::payment_status(w, ASKED) else {
        return;
    };
    if let Some(a) = s.amount {
        exact(v, "amount", a);
    }
    if s.status == BkashStatus::Completed {
        let key: String = s
            .raw_status
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '_' && *c != '-')
            .collect();
        assert!(key.eq_ignore_ascii_case("completed"), "{:?}", s.raw_status);
    }
    let verdict = glue::verdict(&s);
    if matches!(verdict, Verdict::Paid { .. } | Verdict::Unclear { .. }) {
        assert_eq!(s.status, BkashStatus::Completed);
        assert!(s.trx_id.is_some());
    }
    check_paid(&verdict, s.amount, s.currency.as_deref());
}

fn search(v: &Value) {
    let Some(w) = read::<wire::SearchResponse>(v) else {
        return;
    };
    let Ok(s) = status::search(w, "TRXFUZZ") else {
        return;
    };
    for (key, amount) in [
        ("amount", s.amount),
        ("maxRefundableAmount", s.max_refundable),
        ("originalTrxAmount", s.original_trx_amount),
    ] {
        if let Some(a) = amount {
            exact(v, key, a);
        }
    }
}

fn refund(v: &Value) {
    let Some(w) = read::<wire::RefundV2Response>(v) else {
        return;
    };
    let Ok(r) = status::refunded(w, "TRXFUZZ") else {
        return;
    };
    exact(v, "refundAmount", r.amount);
    if r.status == RefundStatus::Completed {
        assert!(r.raw_status.trim().eq_ignore_ascii_case("completed"));
    }
}

fn refund_status(v: &Value) {
    let Some(w) = read::<wire::RefundStatusV2Response>(v) else {
        return;
    };
    let Ok(list) = status::refund_infos(w) else {
        return;
    };
    if let Some(items) = v["refundTransactions"].as_array() {
        for (info, item) in list.iter().zip(items) {
            exact(item, "refundAmount", info.amount);
        }
    }
    // The refund whose answer was lost: of each listed amount (and one no
    // one refunded), with nothing or the first listed refund booked before.
    let mut amounts: Vec<Decimal> = list.iter().map(|i| i.amount).collect();
    amounts.push(Decimal::new(1234, 2));
    let first: Vec<String> = list
        .iter()
        .take(1)
        .map(|i| i.refund_trx_id.clone())
        .collect();
    for amount in amounts {
        for booked in [&[][..], &first[..]] {
            if let Ok(RefundVerdict::Done { provider_refund_id }) =
                glue::match_refund(&list, amount, booked)
            {
                let candidates: Vec<_> = list
                    .iter()
                    .filter(|i| i.status == RefundStatus::Completed)
                    .filter(|i| !booked.contains(&i.refund_trx_id))
                    .collect();
                assert_eq!(candidates.len(), 1, "matched among several");
                assert_eq!(candidates[0].refund_trx_id, provider_refund_id);
                assert_eq!(candidates[0].amount.normalize(), amount.normalize());
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // The client's first step: only a JSON object is an answer.
    let Ok(v) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    if !v.is_object() {
        return;
    }
    token(&v);
    create(&v);
    execute(&v);
    payment_status(&v);
    search(&v);
    refund(&v);
    refund_status(&v);
});
