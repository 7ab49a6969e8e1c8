//! Bulk checks: 60 codes, ⌈60/50⌉ requests, one result per code in order;
//! the scheduler's tick drives the same call.

use crate::util::*;
use std::collections::HashMap;
use till_bakong::{CheckOutcome, Pending, PollSchedule, PollState};

#[tokio::test]
async fn sixty_codes_in_two_requests() {
    let sb = start().await;
    let (client, log) = sb.client();
    let codes: Vec<khqr::Khqr> = (0..60)
        .map(|n| sb.usd(&format!("{}.{:02}", 1 + n / 10, n), &format!("B-{n}")))
        .collect();
    let mut paid: HashMap<String, String> = HashMap::new();
    for (n, c) in codes.iter().enumerate() {
        if n % 7 == 3 {
            paid.insert(c.md5.clone(), sb.pay_code(c).await);
        }
    }
    let md5s: Vec<String> = codes.iter().map(|c| c.md5.clone()).collect();

    let before = client.requests_made();
    let out = client.check_by_md5_list(&md5s).await.unwrap();
    assert_eq!(client.requests_made() - before, 60u64.div_ceil(50));
    assert_eq!(out.len(), 60);
    for ((md5, outcome), code) in out.iter().zip(&codes) {
        assert_eq!(md5, &code.md5, "input order kept");
        match (paid.get(md5), outcome) {
            (Some(hash), CheckOutcome::Paid(t)) => {
                assert_eq!(&t.hash, hash);
                assert_eq!(t.to_account_id, ACCOUNT);
            }
            (None, CheckOutcome::NotFound) => {}
            (p, o) => panic!("{md5}: paid={p:?} outcome={o:?}"),
        }
    }
    let recs = log.records();
    assert_eq!(recs.len(), 2);
    assert!(recs
        .iter()
        .all(|r| r.endpoint == "bakong.check_by_md5_list"));
    let sizes: Vec<usize> = recs
        .iter()
        .map(|r| r.request_body.as_ref().unwrap().as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [50, 10]);

    // One MD5 goes through the single endpoint; duplicates are answered per input.
    let one = client.check_by_md5_list(&md5s[..1]).await.unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(
        log.records().last().unwrap().endpoint,
        "bakong.check_by_md5"
    );
    let dup = vec![md5s[3].clone(), md5s[3].clone(), md5s[4].clone()];
    let out = client.check_by_md5_list(&dup).await.unwrap();
    assert_eq!(out.len(), 3);
    assert_eq!(out[0], out[1]);
    assert!(client.check_by_md5_list(&[]).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_scheduler_tick_costs_two_requests_for_sixty_codes() {
    let sb = start().await;
    let (client, _) = sb.client();
    let now = sb.h.clock().now_ms() as i64;
    let codes: Vec<khqr::Khqr> = (0..60).map(|n| sb.usd("3", &format!("T-{n}"))).collect();
    sb.pay_code(&codes[42]).await;
    let pending: Vec<Pending> = codes
        .iter()
        .map(|c| Pending {
            md5: c.md5.clone(),
            shown_at_ms: now,
            expires_at_ms: now + 300_000,
        })
        .collect();
    let schedule = PollSchedule::default();
    let mut state = PollState::default();
    let plan = schedule.plan(now + 1000, &pending, &state);
    assert_eq!(plan.due.len(), 60);
    state.on_tick(now + 1000);
    let before = client.requests_made();
    let out = client.check_by_md5_list(&plan.due).await.unwrap();
    assert_eq!(
        client.requests_made() - before,
        plan.requests(client.settings().bulk_limit) as u64
    );
    assert_eq!(plan.requests(50), 2);
    state.on_answered(&plan.due, now + 1000);
    let paid: Vec<&String> = out
        .iter()
        .filter(|(_, o)| matches!(o, CheckOutcome::Paid(_)))
        .map(|(m, _)| m)
        .collect();
    assert_eq!(paid, vec![&codes[42].md5]);
    assert_eq!(
        schedule.plan(now + 1500, &pending, &state).next_tick_at_ms,
        Some(now + 2000)
    );
}

/// Pays two of three codes and checks them in one bulk call on a sandbox
/// answering in `fields` shape; returns the outcomes and the endpoints called.
async fn three_codes_with(
    fields: till_sandbox::config::BulkItemFields,
    key: &str,
) -> (Vec<(String, CheckOutcome)>, Vec<String>, Vec<String>) {
    let mut cfg = till_sandbox::Config::default();
    cfg.bakong.bulk_item_fields = fields;
    cfg.bakong.bulk_item_key = key.into();
    let sb = start_with(cfg).await;
    let (client, log) = sb.client();
    let codes: Vec<khqr::Khqr> = (0..3)
        .map(|n| sb.usd(&format!("2.{n}5"), &format!("S-{n}")))
        .collect();
    let h0 = sb.pay_code(&codes[0]).await;
    let h2 = sb.pay_code(&codes[2]).await;
    let md5s: Vec<String> = codes.iter().map(|c| c.md5.clone()).collect();
    let out = client.check_by_md5_list(&md5s).await.unwrap();
    let endpoints = log.records().into_iter().map(|r| r.endpoint).collect();
    (out, endpoints, vec![h0, h2])
}

fn assert_two_paid(out: &[(String, CheckOutcome)], hashes: &[String]) {
    match (&out[0].1, &out[1].1, &out[2].1) {
        (CheckOutcome::Paid(a), CheckOutcome::NotFound, CheckOutcome::Paid(c)) => {
            assert_eq!(a.hash, hashes[0]);
            assert_eq!(c.hash, hashes[1]);
            assert_eq!(a.to_account_id, ACCOUNT);
            assert_eq!(a.amount.to_string(), "2.05");
            assert_eq!(c.amount.to_string(), "2.25");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn bulk_items_with_the_transaction_under_data_or_transaction() {
    use till_sandbox::config::BulkItemFields;
    for key in ["data", "transaction"] {
        let (out, endpoints, hashes) = three_codes_with(BulkItemFields::Nested, key).await;
        assert_two_paid(&out, &hashes);
        assert_eq!(endpoints, ["bakong.check_by_md5_list"], "{key}");
    }
}

#[tokio::test]
async fn bulk_items_with_inline_transaction_fields_are_read() {
    let (out, endpoints, hashes) =
        three_codes_with(till_sandbox::config::BulkItemFields::Inline, "data").await;
    assert_two_paid(&out, &hashes);
    // Read from the bulk answer itself: no single call needed.
    assert_eq!(endpoints, ["bakong.check_by_md5_list"]);
}

#[tokio::test]
async fn bulk_success_without_fields_is_rechecked_with_the_single_call() {
    let (out, endpoints, hashes) =
        three_codes_with(till_sandbox::config::BulkItemFields::Missing, "data").await;
    // Both paid codes are asked again one by one and come out paid, with
    // their amounts; the unpaid one is not asked again.
    assert_two_paid(&out, &hashes);
    assert_eq!(
        endpoints,
        [
            "bakong.check_by_md5_list",
            "bakong.check_by_md5",
            "bakong.check_by_md5"
        ]
    );
}
