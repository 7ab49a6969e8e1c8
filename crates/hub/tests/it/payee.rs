//! H3: the hub records the payee (receiving account) of the events a
//! terminal sends and flags the terminal when it changes; events without a
//! payee (`till.event/1`, or payments made before Till recorded it) are
//! still accepted and change nothing.

use crate::both;
use crate::harness::*;
use serde_json::Value;
use till_sync_proto::new_event_id;

/// A `till.event/2` settlement of `provider` paid to `payee`.
fn v2(terminal: &str, seq: u64, provider: &str, payee: Option<&str>) -> Vec<u8> {
    let mut e: Value =
        serde_json::from_slice(&settled_amount(terminal, seq, provider, "100", "KHR").to_json())
            .unwrap();
    e["schema"] = "till.event/2".into();
    // Version 2 named the references by wallet.
    e["payment"]["references"] = serde_json::json!({"payment_id": null, "trx_id": null, "md5": format!("md5-{seq}"), "hash": null});
    if let Some(p) = payee {
        e["payment"]["payee"] = p.into();
    }
    serde_json::to_vec(&e).unwrap()
}

fn terminal<'a>(list: &'a Value, id: &str) -> &'a Value {
    list["terminals"]
        .as_array()
        .or_else(|| list.as_array())
        .unwrap()
        .iter()
        .find(|t| t["id"] == id)
        .unwrap_or_else(|| panic!("{id} not listed: {list}"))
}

async fn a_changed_payee_flags_the_terminal(b: Backend) {
    let t = TestHub::start(b).await;
    let s = t.terminal("t1").await;
    let quiet = t.terminal("t2").await;
    let mut seq = 0;
    for payee in ["rahim_store@aclb", "rahim_store@aclb"] {
        seq += 1;
        let got = t
            .post_signed(
                "t1",
                &s,
                &new_event_id(),
                now(),
                v2("t1", seq, "bakong", Some(payee)),
            )
            .await;
        assert_eq!(got.status, 200, "{}", got.json);
    }
    // A v1 event (no payee) is still accepted and is no change.
    seq += 1;
    let got = t
        .send(&s, &new_event_id(), &{
            let mut e = settled_amount("t1", seq, "bakong", "100", "KHR");
            e.schema = "till.event/1".into();
            e
        })
        .await;
    assert_eq!(got.status, 200, "{}", got.json);
    let list = t.read("/v1/terminals").await;
    let t1 = terminal(&list, "t1");
    assert_eq!(t1["payee_changed"], false, "{t1}");
    assert_eq!(t1["payees"][0]["provider"], "bakong", "{t1}");
    assert_eq!(t1["payees"][0]["payee"], "rahim_store@aclb", "{t1}");

    // The till's account is changed to someone else's.
    seq += 1;
    let got = t
        .post_signed(
            "t1",
            &s,
            &new_event_id(),
            now(),
            v2("t1", seq, "bakong", Some("mallory@abaa")),
        )
        .await;
    assert_eq!(got.status, 200, "{}", got.json);
    // bKash's payee is its own: a first sighting is no change.
    seq += 1;
    let got = t
        .post_signed(
            "t1",
            &s,
            &new_event_id(),
            now(),
            v2("t1", seq, "bkash", Some("merchant-1")),
        )
        .await;
    assert_eq!(got.status, 200, "{}", got.json);
    let got = t
        .post_signed(
            "t2",
            &quiet,
            &new_event_id(),
            now(),
            v2("t2", 1, "bakong", Some("other@aclb")),
        )
        .await;
    assert_eq!(got.status, 200, "{}", got.json);

    let list = t.read("/v1/terminals").await;
    let t1 = terminal(&list, "t1");
    assert_eq!(t1["payee_changed"], true, "{t1}");
    let changes = t1["payee_changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{t1}");
    assert_eq!(changes[0]["provider"], "bakong");
    assert_eq!(changes[0]["old"], "rahim_store@aclb");
    assert_eq!(changes[0]["new"], "mallory@abaa");
    assert_eq!(changes[0]["sequence"], seq - 1);
    assert!(changes[0]["occurred_at"].is_string() && changes[0]["detected_at"].is_string());
    assert_eq!(terminal(&list, "t2")["payee_changed"], false);
    // The terminal's own page says so too.
    let one = t.read("/v1/terminals/t1/payees").await;
    assert_eq!(one["payee_changed"], true, "{one}");
    assert_eq!(one["payee_changes"][0]["new"], "mallory@abaa", "{one}");
    t.stop().await;
}
both!(a_changed_payee_flags_the_terminal);
