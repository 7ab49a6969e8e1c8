//! The read API: auth, totals exact to the poisha, paging.

use crate::both;
use crate::harness::*;
use till_sync_proto::new_event_id;

async fn read_api_needs_a_token(b: Backend) {
    let t = TestHub::start(b).await;
    for path in [
        "/v1/settlements",
        "/v1/totals",
        "/v1/terminals",
        "/v1/terminals/t1/gaps",
        "/v1/events/evt_x",
    ] {
        let none = t.get(path, None).await;
        assert_eq!(none.status, 401, "{path}");
        assert_eq!(none.json["error"], "unauthorized");
        assert_eq!(t.get(path, Some("wrong")).await.status, 401, "{path}");
    }
    // A token made by the admin API (as `till-hub token add` does).
    let token = t.hub.admin().add_token("manager").await.unwrap();
    assert_eq!(t.get("/v1/terminals", Some(&token)).await.status, 200);
    assert_eq!(t.get("/v1/terminals", Some(READ_TOKEN)).await.status, 200);
    assert_eq!(t.get("/healthz", None).await.status, 200);
    t.stop().await;
}
both!(read_api_needs_a_token);

async fn totals_are_exact_to_the_poisha(b: Backend) {
    let t = TestHub::start(b).await;
    let s1 = t.terminal("t1").await;
    let s2 = t.terminal("t2").await;
    // Ten payments of 0.10 BDT (a float sum would not be 1.00), one 12.55.
    let mut seq = 0;
    let mut first = None;
    for _ in 0..10 {
        seq += 1;
        let e = settled_amount("t1", seq, "bkash", "0.10", "BDT");
        first.get_or_insert(e.clone());
        assert_eq!(t.send(&s1, &new_event_id(), &e).await.status, 200);
    }
    seq += 1;
    let big = settled_amount("t1", seq, "bkash", "12.55", "BDT");
    assert_eq!(t.send(&s1, &new_event_id(), &big).await.status, 200);
    // Partial refunds: 0.01 then 0.02 of the 12.55 payment.
    seq += 1;
    assert_eq!(
        t.send(
            &s1,
            &new_event_id(),
            &refunded("t1", seq, &big, "0.01", "0.01")
        )
        .await
        .status,
        200
    );
    seq += 1;
    assert_eq!(
        t.send(
            &s1,
            &new_event_id(),
            &refunded("t1", seq, &big, "0.02", "0.03")
        )
        .await
        .status,
        200
    );
    // Another provider and currency on t2.
    assert_eq!(
        t.send(
            &s2,
            &new_event_id(),
            &settled_amount("t2", 1, "bakong", "40000", "KHR")
        )
        .await
        .status,
        200
    );
    assert_eq!(
        t.send(
            &s2,
            &new_event_id(),
            &settled_amount("t2", 2, "bakong", "1.05", "USD")
        )
        .await
        .status,
        200
    );
    // A duplicate must not count twice.
    let dup_id = new_event_id();
    let e3 = settled_amount("t2", 3, "bakong", "0.95", "USD");
    assert_eq!(t.send(&s2, &dup_id, &e3).await.status, 200);
    assert_eq!(
        t.send(&s2, &dup_id, &e3).await.json["results"][0]["status"],
        "duplicate"
    );

    let all = t.read("/v1/totals?day=2026-11-22").await;
    let rows = all["totals"].as_array().unwrap();
    let find = |p: &str, c: &str| {
        rows.iter()
            .find(|r| r["provider"] == p && r["currency"] == c)
            .unwrap_or_else(|| panic!("no {p}/{c} in {all}"))
            .clone()
    };
    let bdt = find("bkash", "BDT");
    assert_eq!(bdt["count"], 11);
    assert_eq!(bdt["settled"], "13.55");
    assert_eq!(bdt["refund_count"], 2);
    assert_eq!(bdt["refunded"], "0.03");
    assert_eq!(bdt["net"], "13.52");
    let khr = find("bakong", "KHR");
    assert_eq!(khr["count"], 1);
    assert_eq!(khr["settled"], "40000");
    assert_eq!(khr["net"], "40000");
    let usd = find("bakong", "USD");
    assert_eq!(usd["count"], 2);
    assert_eq!(usd["settled"], "2.00");
    assert_eq!(usd["refunded"], "0.00");
    // Per terminal and another day.
    let t2 = t.read("/v1/totals?terminal=t2").await;
    assert_eq!(t2["totals"].as_array().unwrap().len(), 2);
    let none = t.read("/v1/totals?day=2026-11-23").await;
    assert_eq!(none["totals"], serde_json::json!([]));
    assert_eq!(
        t.get("/v1/totals?day=22-11-2026", Some(READ_TOKEN))
            .await
            .status,
        400
    );

    // Settlements, paged by cursor.
    let mut seen = 0;
    let mut after = 0i64;
    loop {
        let page = t
            .read(&format!(
                "/v1/settlements?terminal=t1&limit=5&after={after}"
            ))
            .await;
        let items = page["items"].as_array().unwrap();
        seen += items.len();
        for it in items {
            assert_eq!(it["terminal_id"], "t1");
            assert!(it["event"]["schema"] == till_sync_proto::EVENT_SCHEMA);
        }
        match page["next_after"].as_i64() {
            Some(n) => after = n,
            None => break,
        }
    }
    assert_eq!(seen, 13);
    let refunds = t.read("/v1/settlements?type=payment.refunded").await;
    assert_eq!(refunds["items"].as_array().unwrap().len(), 2);
    assert_eq!(refunds["items"][0]["refund_amount"], "0.01");
    let bakong = t.read("/v1/settlements?provider=bakong").await;
    assert_eq!(bakong["items"].as_array().unwrap().len(), 3);
    t.stop().await;
}
both!(totals_are_exact_to_the_poisha);

fn day_closed(terminal: &str, seq: u64, totals: serde_json::Value) -> till_sync_proto::Event {
    till_sync_proto::Event::day_closed(
        terminal,
        seq,
        chrono::DateTime::parse_from_rfc3339("2026-11-23T04:10:00+06:00").unwrap(),
        day(),
        serde_json::json!({
            "schema": "till.day/1",
            "report_sha256": "ab12",
            "closed_at": "2026-11-22T22:10:00Z",
            "closed_by": "manager",
            "totals": totals,
        }),
    )
}

async fn z_report_arrival_and_totals_per_terminal_and_day(b: Backend) {
    let t = TestHub::start(b).await;
    let s1 = t.terminal("t1").await;
    let s2 = t.terminal("t2").await;
    let pay = settled_amount("t1", 1, "bkash", "100.00", "BDT");
    assert_eq!(t.send(&s1, &new_event_id(), &pay).await.status, 200);
    let r = refunded("t1", 2, &pay, "30.00", "30.00");
    assert_eq!(t.send(&s1, &new_event_id(), &r).await.status, 200);
    let q = settled_amount("t2", 1, "bakong", "40000", "KHR");
    assert_eq!(t.send(&s2, &new_event_id(), &q).await.status, 200);

    // No Z-report yet.
    let st = t.read("/v1/terminals/t1/days/2026-11-22").await;
    assert_eq!(st["z_report"], false);
    assert_eq!(st["totals_match"], serde_json::Value::Null);

    // t1's Z-report agrees; t2's claims more than the hub holds.
    let good = day_closed(
        "t1",
        3,
        serde_json::json!([{"provider":"bkash","currency":"BDT","count":1,"settled":"100.00",
            "refund_count":1,"refunded":"30.00","net":"70.00"}]),
    );
    assert_eq!(t.send(&s1, &new_event_id(), &good).await.status, 200);
    let bad = day_closed(
        "t2",
        2,
        serde_json::json!([{"provider":"bakong","currency":"KHR","count":2,"settled":"41000",
            "refund_count":0,"refunded":"0","net":"41000"}]),
    );
    assert_eq!(t.send(&s2, &new_event_id(), &bad).await.status, 200);

    let st = t.read("/v1/terminals/t1/days/2026-11-22").await;
    assert_eq!(st["z_report"], true, "{st}");
    assert_eq!(st["totals_match"], true, "{st}");
    assert_eq!(st["report_sha256"], "ab12");
    assert_eq!(st["closed_by"], "manager");
    let st2 = t.read("/v1/terminals/t2/days/2026-11-22").await;
    assert_eq!(st2["totals_match"], false, "{st2}");
    assert_eq!(st2["differences"].as_array().unwrap().len(), 1);
    let all = t.read("/v1/days?day=2026-11-22").await;
    assert_eq!(all["days"].as_array().unwrap().len(), 2);
    assert_eq!(
        t.get("/v1/terminals/nope/days/2026-11-22", Some(READ_TOKEN))
            .await
            .status,
        404
    );
    assert_eq!(
        t.get("/v1/terminals/t1/days/2026-11-22", None).await.status,
        401
    );
    // Read by the library call the CLI uses.
    let list = till_hub::days::days(&*t.hub.store(), Some("t1"), None, 10)
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].totals_match, Some(true));
    t.stop().await;
}
both!(z_report_arrival_and_totals_per_terminal_and_day);
