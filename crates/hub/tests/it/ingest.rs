//! Ingest: signatures, timestamps, exactly-once, order, gaps, limits, batch.

use crate::both;
use crate::harness::*;
use till_sync_proto::{generate_hmac_secret, new_event_id, Batch, Signer};

async fn replay_is_a_duplicate_and_stored_once(b: Backend) {
    let t = TestHub::start(b).await;
    let s = t.terminal("shop1-till1").await;
    let e = settled("shop1-till1", 1);
    let id = new_event_id();
    let first = t.send(&s, &id, &e).await;
    assert_eq!(first.status, 200, "{}", first.json);
    assert_eq!(first.json["results"][0]["status"], "stored");
    assert_eq!(first.json["results"][0]["id"], id.as_str());
    assert_eq!(first.json["results"][0]["sequence"], 1);
    assert_eq!(first.json["highest_contiguous"], 1);
    // Same id again (a retry after a lost answer), re-signed later: 2xx duplicate.
    let again = t.send(&s, &id, &e).await;
    assert_eq!(again.status, 200, "{}", again.json);
    assert_eq!(again.json["results"][0]["status"], "duplicate");
    assert_eq!(t.count("shop1-till1").await, 1);
    // The acknowledgement can be checked by id; the body is kept verbatim.
    let stored = t.read(&format!("/v1/events/{id}")).await;
    assert_eq!(stored["sequence"], 1);
    assert_eq!(
        stored["event"],
        serde_json::from_slice::<serde_json::Value>(&e.to_json()).unwrap()
    );
    assert_eq!(stored["amount"], "12.50");
    t.stop().await;
}
both!(replay_is_a_duplicate_and_stored_once);

async fn tampered_body_and_wrong_secret_are_refused(b: Backend) {
    let t = TestHub::start(b).await;
    let s = t.terminal("t1").await;
    let body = settled("t1", 1).to_json();
    let id = new_event_id();
    let ts = now();
    let h = s.headers(&id, ts, &body);
    let tampered = String::from_utf8(body.clone())
        .unwrap()
        .replace("12.50", "92.50");
    let headers: Vec<(&str, String)> = h.pairs().iter().map(|(k, v)| (*k, v.to_string())).collect();
    let got = t
        .post_raw("/v1/terminals/t1/events", &headers, tampered.into_bytes())
        .await;
    assert_eq!(got.status, 401);
    assert_eq!(got.json["error"], "bad_signature");

    let stranger = Signer::new(vec![generate_hmac_secret()]).unwrap();
    let got = t.post_signed("t1", &stranger, &id, ts, body.clone()).await;
    assert_eq!(got.status, 401);
    assert_eq!(got.json["error"], "bad_signature");

    // Missing header.
    let got = t
        .post_raw("/v1/terminals/t1/events", &headers[..2], body.clone())
        .await;
    assert_eq!(got.status, 401);
    assert_eq!(got.json["error"], "bad_headers");
    assert!(got.json["message"]
        .as_str()
        .unwrap()
        .contains("webhook-signature"));
    assert_eq!(t.count("t1").await, 0);
    t.stop().await;
}
both!(tampered_body_and_wrong_secret_are_refused);

async fn stale_and_future_timestamps_are_refused(b: Backend) {
    let t = TestHub::start(b).await;
    let s = t.terminal("t1").await;
    let body = settled("t1", 1).to_json();
    let got = t
        .post_signed("t1", &s, &new_event_id(), now() - 6 * 60, body.clone())
        .await;
    assert_eq!(got.status, 401);
    assert_eq!(got.json["error"], "stale_timestamp");
    let got = t
        .post_signed("t1", &s, &new_event_id(), now() + 6 * 60, body.clone())
        .await;
    assert_eq!(got.status, 401);
    assert_eq!(got.json["error"], "future_timestamp");
    // Within the window both ways is fine.
    let got = t
        .post_signed("t1", &s, &new_event_id(), now() - 4 * 60, body.clone())
        .await;
    assert_eq!(got.status, 200, "{}", got.json);
    assert_eq!(t.count("t1").await, 1);
    t.stop().await;
}
both!(stale_and_future_timestamps_are_refused);

async fn concurrent_duplicates_store_one_row(b: Backend) {
    let t = std::sync::Arc::new(TestHub::start(b).await);
    let s = std::sync::Arc::new(t.terminal("t1").await);
    let id = new_event_id();
    let e = settled("t1", 1);
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let (t, s, id, e) = (t.clone(), s.clone(), id.clone(), e.clone());
        set.spawn(async move { t.send(&s, &id, &e).await });
    }
    let mut stored = 0;
    let mut duplicate = 0;
    while let Some(r) = set.join_next().await {
        let r = r.unwrap();
        assert_eq!(r.status, 200, "{}", r.json);
        match r.json["results"][0]["status"].as_str().unwrap() {
            "stored" => stored += 1,
            "duplicate" => duplicate += 1,
            other => panic!("{other}"),
        }
    }
    assert_eq!((stored, duplicate), (1, 15));
    assert_eq!(t.count("t1").await, 1);
}
both!(concurrent_duplicates_store_one_row);

async fn out_of_order_gap_detected_then_filled(b: Backend) {
    let t = TestHub::start(b).await;
    let s = t.terminal("t1").await;
    for seq in [1, 2, 5, 3, 7] {
        let got = t.send(&s, &new_event_id(), &settled("t1", seq)).await;
        assert_eq!(got.status, 200, "{}", got.json);
    }
    let gaps = t.read("/v1/terminals/t1/gaps").await;
    assert_eq!(gaps["highest_contiguous"], 3);
    assert_eq!(gaps["gaps"], serde_json::json!([[4, 4], [6, 6]]));
    assert_eq!(gaps["max_sequence"], 7);
    assert!(gaps["last_received_at"].is_string());
    let got = t.send(&s, &new_event_id(), &settled("t1", 4)).await;
    assert_eq!(got.json["highest_contiguous"], 5);
    let got = t.send(&s, &new_event_id(), &settled("t1", 6)).await;
    assert_eq!(got.json["highest_contiguous"], 7);
    let gaps = t.read("/v1/terminals/t1/gaps").await;
    assert_eq!(gaps["gaps"], serde_json::json!([]));
    assert_eq!(t.count("t1").await, 7);
    assert_eq!(
        t.get("/v1/terminals/nope/gaps", Some(READ_TOKEN))
            .await
            .status,
        404
    );
    t.stop().await;
}
both!(out_of_order_gap_detected_then_filled);

async fn same_sequence_with_another_id_is_a_conflict(b: Backend) {
    let t = TestHub::start(b).await;
    let s = t.terminal("t1").await;
    let first = new_event_id();
    assert_eq!(t.send(&s, &first, &settled("t1", 1)).await.status, 200);
    let got = t
        .send(
            &s,
            &new_event_id(),
            &settled_amount("t1", 1, "bkash", "99.00", "BDT"),
        )
        .await;
    assert_eq!(got.status, 409, "{}", got.json);
    assert_eq!(got.json["error"], "conflict");
    assert_eq!(got.json["existing_id"], first.as_str());
    // The id of terminal t1's event reused by terminal t2: conflict too.
    let s2 = t.terminal("t2").await;
    let got = t.send(&s2, &first, &settled("t2", 1)).await;
    assert_eq!(got.status, 409, "{}", got.json);
    assert_eq!(t.count("t1").await, 1);
    assert_eq!(t.count("t2").await, 0);
    t.stop().await;
}
both!(same_sequence_with_another_id_is_a_conflict);

async fn disabled_terminal_gets_410(b: Backend) {
    let t = TestHub::start(b).await;
    let s = t.terminal("t1").await;
    assert_eq!(
        t.send(&s, &new_event_id(), &settled("t1", 1)).await.status,
        200
    );
    t.hub.admin().disable("t1").await.unwrap();
    let got = t.send(&s, &new_event_id(), &settled("t1", 2)).await;
    assert_eq!(got.status, 410);
    assert_eq!(got.json["error"], "terminal_disabled");
    t.hub.admin().enable("t1").await.unwrap();
    assert_eq!(
        t.send(&s, &new_event_id(), &settled("t1", 2)).await.status,
        200
    );
    t.stop().await;
}
both!(disabled_terminal_gets_410);

async fn bad_requests_get_clear_errors(b: Backend) {
    let t = TestHub::start(b).await;
    let s = t.terminal("t1").await;
    // Unknown terminal: to a sender without its key (t1's key is not
    // ghost's), the same as a wrong signature (M7; it was 404 before).
    let got = t.send(&s, &new_event_id(), &settled("ghost", 1)).await;
    assert_eq!(got.status, 401, "{}", got.json);
    assert_eq!(got.json["error"], "bad_signature");
    // Body says another terminal.
    let got = t
        .post_signed("t1", &s, &new_event_id(), now(), settled("t2", 1).to_json())
        .await;
    assert_eq!(got.status, 400);
    assert_eq!(got.json["error"], "terminal_mismatch");
    // Not JSON.
    let got = t
        .post_signed("t1", &s, &new_event_id(), now(), b"{not json".to_vec())
        .await;
    assert_eq!(got.status, 400);
    assert_eq!(got.json["error"], "malformed_json");
    // JSON, but a float amount.
    let mut v: serde_json::Value = serde_json::from_slice(&settled("t1", 1).to_json()).unwrap();
    v["payment"]["amount"] = serde_json::json!(12.5);
    let got = t
        .post_signed("t1", &s, &new_event_id(), now(), v.to_string().into_bytes())
        .await;
    assert_eq!(got.status, 400);
    assert_eq!(got.json["error"], "schema_violation");
    assert!(
        got.json["message"].as_str().unwrap().contains("amount"),
        "{}",
        got.json
    );
    // Refund without refund object.
    let mut v: serde_json::Value = serde_json::from_slice(&settled("t1", 1).to_json()).unwrap();
    v["type"] = "payment.refunded".into();
    let got = t
        .post_signed("t1", &s, &new_event_id(), now(), v.to_string().into_bytes())
        .await;
    assert_eq!(got.status, 400);
    assert_eq!(got.json["error"], "schema_violation");
    assert_eq!(t.count("t1").await, 0);
    t.stop().await;
}
both!(bad_requests_get_clear_errors);

async fn oversized_bodies_get_413(b: Backend) {
    let t = TestHub::start_with(b, |c| {
        c.single_body_limit = 2048;
        c.batch_body_limit = 8192;
        c.max_batch_events = 10;
    })
    .await;
    let s = t.terminal("t1").await;
    let mut v: serde_json::Value = serde_json::from_slice(&settled("t1", 1).to_json()).unwrap();
    v["padding"] = "x".repeat(4000).into();
    let got = t
        .post_signed("t1", &s, &new_event_id(), now(), v.to_string().into_bytes())
        .await;
    assert_eq!(got.status, 413, "{}", got.json);
    assert_eq!(got.json["error"], "payload_too_large");
    // The same body fits the batch limit; a batch over its own limit does not.
    let big = Batch::new("t1", (1..=20).map(|i| (new_event_id(), settled("t1", i))));
    let got = t.send_batch(&s, &big).await;
    assert_eq!(got.status, 413, "{}", got.json);
    let many = Batch::new("t1", (1..=11).map(|i| (new_event_id(), settled("t1", i))));
    let small_enough = many.to_json().len() <= 8192;
    let got = t.send_batch(&s, &many).await;
    assert_eq!(got.status, 413, "{} (fits bytes: {small_enough})", got.json);
    assert_eq!(t.count("t1").await, 0);
    t.stop().await;
}
both!(oversized_bodies_get_413);

async fn batch_with_new_and_duplicate_events(b: Backend) {
    let t = TestHub::start(b).await;
    let s = t.terminal("t1").await;
    let ids: Vec<String> = (0..6).map(|_| new_event_id()).collect();
    // Events 2 and 3 arrived alone before.
    for seq in [2u64, 3] {
        let got = t
            .send(&s, &ids[seq as usize - 1], &settled("t1", seq))
            .await;
        assert_eq!(got.status, 200);
    }
    let batch = Batch::new(
        "t1",
        (1..=5).map(|seq| (ids[seq as usize - 1].clone(), settled("t1", seq))),
    );
    let got = t.send_batch(&s, &batch).await;
    assert_eq!(got.status, 200, "{}", got.json);
    let statuses: Vec<&str> = got.json["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["stored", "duplicate", "duplicate", "stored", "stored"]
    );
    assert_eq!(got.json["highest_contiguous"], 5);
    assert_eq!(t.count("t1").await, 5);
    // The whole batch replayed: all duplicates, nothing new.
    let got = t.send_batch(&s, &batch).await;
    assert!(got.json["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["status"] == "duplicate"));
    // A batch with one conflicting event stores nothing at all.
    let bad = Batch::new(
        "t1",
        [
            (ids[5].clone(), settled("t1", 6)),
            (new_event_id(), settled("t1", 5)),
        ],
    );
    let got = t.send_batch(&s, &bad).await;
    assert_eq!(got.status, 409, "{}", got.json);
    assert_eq!(t.count("t1").await, 5);
    // The stored inner event is retrievable by its own id.
    let one = t.read(&format!("/v1/events/{}", ids[0])).await;
    assert_eq!(one["sequence"], 1);
    // A batch event from another terminal.
    let mut foreign = Batch::new("t1", [(new_event_id(), settled("t1", 6))]);
    foreign.events[0].event.terminal_id = "t9".into();
    let got = t.send_batch(&s, &foreign).await;
    assert_eq!(got.status, 400);
    assert_eq!(got.json["error"], "terminal_mismatch");
    // The same event twice within one batch: stored, then duplicate.
    let x = new_event_id();
    let twice = Batch::new("t1", [(x.clone(), settled("t1", 6)), (x, settled("t1", 6))]);
    let got = t.send_batch(&s, &twice).await;
    assert_eq!(got.status, 200, "{}", got.json);
    assert_eq!(got.json["results"][0]["status"], "stored");
    assert_eq!(got.json["results"][1]["status"], "duplicate");
    assert_eq!(got.json["highest_contiguous"], 6);
    assert_eq!(t.count("t1").await, 6);
    t.stop().await;
}
both!(batch_with_new_and_duplicate_events);

async fn exactly_once_survives_a_restart(b: Backend) {
    let t = TestHub::start(b).await;
    let s = t.terminal("t1").await;
    let ids: Vec<String> = (0..3).map(|_| new_event_id()).collect();
    for (i, seq) in [1u64, 3].into_iter().enumerate() {
        assert_eq!(t.send(&s, &ids[i], &settled("t1", seq)).await.status, 200);
    }
    let t = t.restart().await;
    // Keys, progress and stored ids are all still there.
    let got = t.send(&s, &ids[0], &settled("t1", 1)).await;
    assert_eq!(got.status, 200, "{}", got.json);
    assert_eq!(got.json["results"][0]["status"], "duplicate");
    assert_eq!(got.json["highest_contiguous"], 1);
    let gaps = t.read("/v1/terminals/t1/gaps").await;
    assert_eq!(gaps["gaps"], serde_json::json!([[2, 2]]));
    let got = t.send(&s, &ids[2], &settled("t1", 2)).await;
    assert_eq!(got.json["highest_contiguous"], 3);
    assert_eq!(t.count("t1").await, 3);
    t.stop().await;
}
both!(exactly_once_survives_a_restart);

/// What a stranger can send without a terminal's key.
#[derive(Debug, Clone, Copy)]
enum Probe {
    /// No webhook headers at all.
    Unsigned,
    /// Headers, and a signature entry that is not one.
    Garbage,
    /// Signed with an HMAC secret of its own.
    OwnHmac,
    /// Signed with an ed25519 key of its own.
    OwnEd25519,
    /// Signed with its own key, ten minutes ago.
    Stale,
    /// Its own signature on the batch endpoint.
    Batch,
}

async fn probe(t: &TestHub, terminal: &str, p: Probe) -> (u16, serde_json::Value) {
    use till_sync_proto::generate_ed25519_keypair;
    let body = settled(terminal, 1).to_json();
    let id = new_event_id();
    let hmac = Signer::new(vec![generate_hmac_secret()]).unwrap();
    let signed = |signer: &Signer, ts: i64, body: &[u8]| -> Vec<(&'static str, String)> {
        let h = signer.headers(&id, ts, body);
        h.pairs().iter().map(|(k, v)| (*k, v.to_string())).collect()
    };
    let (path, headers, body) = match p {
        Probe::Unsigned => ("events", vec![], body),
        Probe::Garbage => (
            "events",
            vec![
                ("webhook-id", id.clone()),
                ("webhook-timestamp", now().to_string()),
                ("webhook-signature", "v1,AAAA".to_string()),
            ],
            body,
        ),
        Probe::OwnHmac => ("events", signed(&hmac, now(), &body), body),
        Probe::OwnEd25519 => {
            let ed = Signer::new(vec![generate_ed25519_keypair().signing]).unwrap();
            ("events", signed(&ed, now(), &body), body)
        }
        Probe::Stale => ("events", signed(&hmac, now() - 600, &body), body),
        Probe::Batch => {
            let batch = Batch::new(terminal, [(new_event_id(), settled(terminal, 1))]).to_json();
            ("batch", signed(&hmac, now(), &batch), batch)
        }
    };
    let got = t
        .post_raw(&format!("/v1/terminals/{terminal}/{path}"), &headers, body)
        .await;
    (got.status, got.json)
}

/// M7: the hub answered an unknown terminal 404 and a disabled one 410 before
/// looking at the signature, so anyone could list which terminals exist.
/// Unknown, disabled (retired) and active terminals must look the same to a
/// request that is not correctly signed; a correctly signed request from a
/// disabled terminal still gets its 410.
async fn strangers_cannot_tell_which_terminals_exist(b: Backend) {
    let t = TestHub::start(b).await;
    let active = t.terminal("shop1-till1").await;
    let retired = t.terminal("shop1-till2").await;
    t.hub.admin().disable("shop1-till2").await.unwrap();
    let targets = ["shop1-till1", "shop1-till2", "shop1-till9", "bad.id"];
    for p in [
        Probe::Unsigned,
        Probe::Garbage,
        Probe::OwnHmac,
        Probe::OwnEd25519,
        Probe::Stale,
        Probe::Batch,
    ] {
        let mut answers = Vec::new();
        for terminal in targets {
            answers.push((terminal, probe(&t, terminal, p).await));
        }
        // Figures in the message (a stale timestamp's age, counted by the hub
        // when each request arrives) may differ by a second between requests:
        // they say nothing about the terminal, so they are left out.
        let same = |a: &(u16, serde_json::Value)| {
            let digitless =
                |v: &serde_json::Value| v.to_string().replace(|c: char| c.is_ascii_digit(), "#");
            (a.0, digitless(&a.1))
        };
        let first = &answers[0].1;
        assert!(
            answers.iter().all(|(_, a)| same(a) == same(first)),
            "{p:?}: a stranger can tell the terminals apart: {answers:#?}"
        );
        assert_eq!(first.0, 401, "{p:?}: {answers:#?}");
    }
    assert_eq!(
        t.count("shop1-till1").await + t.count("shop1-till2").await,
        0
    );
    // The terminals themselves still get their real answers.
    let got = t
        .send(&retired, &new_event_id(), &settled("shop1-till2", 1))
        .await;
    assert_eq!(got.status, 410, "{}", got.json);
    assert_eq!(got.json["error"], "terminal_disabled");
    let got = t
        .send(&active, &new_event_id(), &settled("shop1-till1", 1))
        .await;
    assert_eq!(got.status, 200, "{}", got.json);
    t.stop().await;
}
both!(strangers_cannot_tell_which_terminals_exist);
