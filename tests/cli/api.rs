//! Issue 16 §4 from the real binary: pairing a POS with `till api key add`
//! (the PIN; the key printed once and found in no file afterwards), a
//! headless `till api serve`, a refund request approved by the manager's
//! `till api requests approve` from another process, and a key revoked by
//! `till api key revoke` refused from then on.

use super::manager_pin::{demo_cli, PIN};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};
use till_tests::assert_no_secret_under;

#[test]
fn a_pos_is_paired_served_and_revoked_from_the_command_line() {
    let cli = demo_cli("api");
    cli.set_pin(PIN);
    let made = cli.as_manager(&["api", "key", "add", "--name", "Counter POS", "--json"]);
    let (id, key) = (
        made[0]["id"].as_str().unwrap().to_owned(),
        made[0]["key"].as_str().unwrap().to_owned(),
    );
    assert!(key.starts_with(&format!("{id}.")));
    let listed = cli.json_lines(&["api", "key", "list", "--json"]);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["name"], "Counter POS");
    assert!(!listed[0]
        .to_string()
        .contains(key.split_once('.').unwrap().1));
    // Without the PIN, no key is made.
    let (code, _, err) = cli.run_fd3(
        &["api", "key", "add", "--name", "X", "--pin-fd", "3"],
        &["000000"],
    );
    assert_ne!(code, 0, "{err}");

    let mut serve = cli
        .cmd(&["api", "serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(serve.stdout.take().unwrap()).lines();
    let base = loop {
        let l = lines
            .next()
            .expect("till api serve says where it listens")
            .unwrap();
        if let Some(url) = l.strip_prefix("till api listening on ") {
            break url.to_owned();
        }
    };
    let http = reqwest::blocking::Client::new();
    let post = |path: &str, key: &str, body: Value| {
        let r = http
            .post(format!("{base}{path}"))
            .bearer_auth(key)
            .json(&body)
            .send()
            .unwrap();
        (r.status().as_u16(), r.json::<Value>().unwrap())
    };
    let (s, c) = post(
        "/v1/charges",
        &key,
        json!({"amount": "5.00", "currency": "BDT", "wallet": "demo", "reference": "CLI-1"}),
    );
    assert_eq!(s, 201, "{c}");
    let charge = format!("{base}/v1/charges/{}", c["id"].as_str().unwrap());
    let get = || -> Value {
        http.get(&charge)
            .bearer_auth(&key)
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    let wait = |status: &str| {
        let start = Instant::now();
        while get()["status"] != status {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "never {status}: {}",
                get()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    wait("paid");
    let (s, r) = post(
        &format!("/v1/charges/{}/refund-requests", c["id"].as_str().unwrap()),
        &key,
        json!({}),
    );
    assert_eq!(s, 201, "{r}");
    // The manager, in another process, while `serve` holds the till's background work.
    let waiting = cli.json_lines(&["api", "requests", "--json"]);
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0]["pos_name"], "Counter POS");
    let (code, out, err) = cli.run_fd3(
        &[
            "api",
            "requests",
            "approve",
            r["id"].as_str().unwrap(),
            "--pin-fd",
            "3",
        ],
        &[PIN],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    wait("refunded");
    assert!(
        cli.json_lines(&["api", "requests", "--json"]).is_empty(),
        "none waits now"
    );
    let shown = cli.json_lines(&["status", c["id"].as_str().unwrap(), "--json"]);
    assert_eq!(shown[0]["origin"]["pos_name"], "Counter POS");
    assert_eq!(shown[0]["origin"]["reference"], "CLI-1");

    let (code, out, err) = cli.run_fd3(&["api", "key", "revoke", &id, "--pin-fd", "3"], &[PIN]);
    assert_eq!(code, 0, "{out}\n{err}");
    let (s, v) = post(
        "/v1/charges",
        &key,
        json!({"amount": "5.00", "currency": "BDT", "wallet": "demo", "reference": "CLI-2"}),
    );
    assert_eq!((s, v["error"]["code"].as_str()), (401, Some("key_revoked")));
    // SIGTERM ends the server cleanly.
    let _ = std::process::Command::new("kill")
        .arg(serve.id().to_string())
        .status();
    let status = serve.wait().unwrap();
    assert!(status.success(), "{status}");
    let audit = cli.json_lines(&["audit", "verify", "--json"]);
    assert!(audit.last().unwrap()["first_break"].is_null(), "{audit:?}");
    // The key itself is in no file Till wrote.
    assert_no_secret_under(cli.home.path(), &[key.split_once('.').unwrap().1]);
}
