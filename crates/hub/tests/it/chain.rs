//! L4: a terminal's audit chain head (count + hash) travels in each
//! `till.batch/2`; the hub keeps the last head per terminal and flags the
//! terminal when a new head does not extend it (fewer rows, or another hash
//! at a count it has seen). Batches of version 1 (no head) are still accepted.

use crate::both;
use crate::harness::*;
use serde_json::{json, Value};
use till_sync_proto::{new_event_id, Signer};

fn h(c: char) -> String {
    std::iter::repeat_n(c, 64).collect()
}

/// Signs and posts a `till.batch/2` of `events` with `chain` as its head.
async fn post(t: &TestHub, s: &Signer, terminal: &str, events: &[u64], chain: Value) -> Posted {
    let items: Vec<Value> = events
        .iter()
        .map(|seq| {
            json!({"id": new_event_id(),
                   "event": serde_json::from_slice::<Value>(&settled(terminal, *seq).to_json()).unwrap()})
        })
        .collect();
    let body = serde_json::to_vec(&json!({
        "schema": "till.batch/2", "terminal_id": terminal, "chain": chain, "events": items
    }))
    .unwrap();
    let id = format!("batch_{terminal}_{}", new_event_id());
    let hdrs = s.headers(&id, now(), &body);
    let headers: Vec<(&str, String)> = hdrs
        .pairs()
        .iter()
        .map(|(k, v)| (*k, v.to_string()))
        .collect();
    t.post_raw(&format!("/v1/terminals/{terminal}/batch"), &headers, body)
        .await
}

async fn listed(t: &TestHub, id: &str) -> Value {
    let list = t.read("/v1/terminals").await;
    list["terminals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("{id} not listed: {list}"))
}

async fn a_head_that_does_not_extend_the_last_one_flags_the_terminal(b: Backend) {
    let t = TestHub::start(b).await;
    let s = t.terminal("t1").await;
    let first = post(&t, &s, "t1", &[1], json!({"count": 2, "hash": h('a')})).await;
    assert_eq!(first.status, 200, "{}", first.json);
    assert_eq!(first.json["chain"]["status"], "recorded", "{}", first.json);
    // Extends: the terminal proves the head the hub holds is its prefix.
    let ext = post(
        &t,
        &s,
        "t1",
        &[2],
        json!({"count": 4, "hash": h('b'), "at": {"count": 2, "hash": h('a')}}),
    )
    .await;
    assert_eq!(ext.json["chain"]["status"], "extended", "{}", ext.json);
    assert_eq!(ext.json["chain"]["count"], 4);
    // Only the head, no events: allowed, and nothing changed.
    let same = post(&t, &s, "t1", &[], json!({"count": 4, "hash": h('b')})).await;
    assert_eq!(same.status, 200, "{}", same.json);
    assert_eq!(same.json["chain"]["status"], "unchanged", "{}", same.json);
    let l = listed(&t, "t1").await;
    assert_eq!(l["chain_broken"], false, "{l}");
    assert_eq!(l["chain"]["count"], 4, "{l}");
    assert_eq!(l["chain"]["hash"], h('b'), "{l}");

    // A rewritten row: at the count the hub holds, the terminal's hash differs.
    let bad = post(
        &t,
        &s,
        "t1",
        &[3],
        json!({"count": 5, "hash": h('c'), "at": {"count": 4, "hash": h('9')}}),
    )
    .await;
    assert_eq!(bad.status, 200, "events are still stored: {}", bad.json);
    assert_eq!(bad.json["chain"]["status"], "broken", "{}", bad.json);
    assert_eq!(t.count("t1").await, 3);
    let l = listed(&t, "t1").await;
    assert_eq!(l["chain_broken"], true, "{l}");
    let brk = &l["chain_breaks"][0];
    assert_eq!(brk["held_count"], 4, "{l}");
    assert_eq!(brk["held_hash"], h('b'), "{l}");
    assert_eq!(brk["sent_count"], 5, "{l}");
    assert!(brk["reason"].as_str().unwrap().contains("count 4"), "{l}");
    assert!(brk["detected_at"].is_string(), "{l}");

    // Fewer rows than the hub has seen.
    let s2 = t.terminal("t2").await;
    post(&t, &s2, "t2", &[1], json!({"count": 3, "hash": h('d')})).await;
    let fewer = post(&t, &s2, "t2", &[2], json!({"count": 2, "hash": h('e')})).await;
    assert_eq!(fewer.json["chain"]["status"], "broken", "{}", fewer.json);
    let l2 = listed(&t, "t2").await;
    assert_eq!(l2["chain_broken"], true, "{l2}");
    assert!(
        l2["chain_breaks"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("fewer"),
        "{l2}"
    );
    // The same count with another hash.
    let s3 = t.terminal("t3").await;
    post(&t, &s3, "t3", &[1], json!({"count": 3, "hash": h('d')})).await;
    let other = post(&t, &s3, "t3", &[], json!({"count": 3, "hash": h('f')})).await;
    assert_eq!(other.json["chain"]["status"], "broken", "{}", other.json);

    // A longer head without the proof is not taken on trust: the hub answers
    // with the count it holds, and the terminal proves it next time.
    let s4 = t.terminal("t4").await;
    post(&t, &s4, "t4", &[1], json!({"count": 3, "hash": h('1')})).await;
    let unproven = post(&t, &s4, "t4", &[2], json!({"count": 6, "hash": h('2')})).await;
    assert_eq!(
        unproven.json["chain"]["status"], "unverified",
        "{}",
        unproven.json
    );
    assert_eq!(unproven.json["chain"]["count"], 3, "{}", unproven.json);
    let proven = post(
        &t,
        &s4,
        "t4",
        &[],
        json!({"count": 6, "hash": h('2'), "at": {"count": 3, "hash": h('1')}}),
    )
    .await;
    assert_eq!(
        proven.json["chain"]["status"], "extended",
        "{}",
        proven.json
    );
    assert_eq!(listed(&t, "t4").await["chain_broken"], false);

    // An old terminal's batch (version 1, no head) is still accepted.
    let s5 = t.terminal("t5").await;
    let mut old = till_sync_proto::Batch::new("t5", [(new_event_id(), settled("t5", 1))]);
    old.schema = "till.batch/1".into();
    let got = t.send_batch(&s5, &old).await;
    assert_eq!(got.status, 200, "{}", got.json);
    assert!(
        got.json.get("chain").is_none_or(Value::is_null),
        "{}",
        got.json
    );
    t.stop().await;
}
both!(a_head_that_does_not_extend_the_last_one_flags_the_terminal);
