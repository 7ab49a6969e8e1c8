//! A POS in another language: `tests/pos_client.py` (Python, `requests`, an
//! SSE reader) drives a full sale against a real till — pair → charge → the
//! customer pays on the sandbox's bKash page → `charge.paid` on the stream →
//! the receipt printed → a refund request a manager approves → `charge.refunded`
//! — plus a replayed reference, a wrong key and a revoked key. This test is
//! the till and its manager: it approves each refund request that waits.

use crate::util::*;
use std::process::Stdio;
use std::time::Duration;
use till_core::{ListFilter, PaymentState};
use tokio::io::AsyncBufReadExt;

#[tokio::test]
async fn a_python_pos_makes_a_full_sale() {
    let till = Till::start().await;
    let key = till.pair("Python POS");
    let old = till.engine.add_pos_key("Old POS", "manager@test").unwrap();
    till.engine
        .revoke_pos_key(&old.key.id, "manager@test")
        .unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/pos_client.py");
    let mut child = tokio::process::Command::new("python3")
        .arg(script)
        .env("TILL_API", till.url(""))
        .env("TILL_KEY", &key)
        .env("TILL_REVOKED", &old.token)
        .env("SANDBOX", till.sandbox.origin())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("python3 runs (scripts/setup.sh test installs it and python3-requests)");
    let mut out = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut steps = Vec::new();
    let mut approved = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let status = loop {
        // The manager, at the till: every waiting request is approved.
        for r in till.engine.refund_requests(true).unwrap() {
            till.engine
                .approve_refund_request(&r.id, "manager@test")
                .await
                .unwrap();
            approved += 1;
        }
        tokio::select! {
            line = out.next_line() => match line.unwrap() {
                Some(l) => {
                    println!("pos: {l}");
                    steps.push(serde_json::from_str::<serde_json::Value>(&l).unwrap());
                }
                None => break child.wait().await.unwrap(),
            },
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            _ = tokio::time::sleep_until(deadline) => panic!("the Python POS took over 60 s: {steps:?}"),
        }
    };
    let mut err = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut child.stderr.take().unwrap(), &mut err)
        .await
        .unwrap();
    assert!(status.success(), "the Python POS failed: {steps:?}\n{err}");
    let names: Vec<_> = steps.iter().map(|s| s["step"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "paired",
            "charged",
            "replayed",
            "paid",
            "receipt",
            "refund_requested",
            "refunded",
            "resumed",
            "refusals",
            "done"
        ]
    );
    assert_eq!(approved, 1);
    // What the till holds: one payment for the reference, from that POS, refunded; a receipt on paper.
    let all = till
        .engine
        .list(&ListFilter {
            page: 1,
            page_size: 50,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(all.len(), 1, "{all:?}");
    let p = &all[0];
    assert_eq!(p.state, PaymentState::Refunded);
    assert_eq!(p.origin.as_ref().unwrap().pos_name, "Python POS");
    assert_eq!(p.origin.as_ref().unwrap().reference, "PY-ORDER-1001");
    assert!(
        !till.printer.jobs().is_empty(),
        "the receipt reached the printer"
    );
    assert!(till.printer.jobs()[0].starts_with(&[0x1b, 0x40]), "ESC/POS");
    let audit = till.engine.audit_log(100).unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.action == "pos.key_refused"
                && a.target.as_deref() == Some(old.key.id.as_str()))
    );
    till.stop().await;
}
