//! Crash test: the real `till` binary takes payments through the sandbox
//! (bKash, Bakong KHQR, demo) and is killed with SIGKILL at random instants,
//! at least 200 times, and restarted each time. At the end every payment is
//! final and agrees with the sandbox's ledger; none was settled twice; each
//! settled payment has exactly one outbox record.
//!
//! Needs `target/debug/till` (the README's test command builds it first).
//! `TILL_CRASH_KILLS` changes the number of kills; `TILL_CRASH_SEED` replays a run.

use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use till_core::journal::outbox::EventType;
use till_core::journal::{Journal, JournalContext};
use till_core::{PaymentState, ProviderKind};
use till_tests::{app_binary, assert_no_secret_under, free_port};

struct Env {
    bin: PathBuf,
    home: PathBuf,
    vars: Vec<(String, String)>,
}

impl Env {
    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        c.arg("--home").arg(&self.home).args(args);
        c.env_remove("DISPLAY").env("TILL_LOG", "info");
        for (k, v) in &self.vars {
            c.env(k, v);
        }
        c
    }
}

/// Reads the child's stdout lines on a thread.
fn lines_of(child: &mut Child) -> mpsc::Receiver<Value> {
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                if tx.send(v).is_err() {
                    break;
                }
            }
        }
    });
    rx
}

fn kill(child: &mut Child) -> bool {
    let running = matches!(child.try_wait(), Ok(None));
    if running {
        let _ = child.kill(); // SIGKILL
    }
    let _ = child.wait();
    running
}

#[test]
fn killed_at_random_instants_loses_and_doubles_nothing() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut sb_config = till_sandbox::Config::default();
    sb_config.bkash.duplicate_window_secs = 0;
    let sandbox = rt.block_on(till_sandbox::start(sb_config)).unwrap();
    let origin = sandbox.origin().to_owned();
    let home = tempfile::tempdir().unwrap();
    let callback_port = free_port();
    let bk = sandbox.config().bkash.clone();
    let env = Env {
        bin: app_binary().unwrap_or_else(|e| panic!("{e}")),
        home: home.path().to_owned(),
        vars: vec![
            ("TILL__BKASH__BASE_URL".into(), sandbox.bkash_base_url()),
            ("TILL__BAKONG__BASE_URL".into(), sandbox.bakong_base_url()),
            (
                "TILL__BKASH__CALLBACK_URL".into(),
                format!("http://127.0.0.1:{callback_port}/bkash/callback"),
            ),
            ("TILL__BKASH__CHECKOUT_WINDOW_SECS".into(), "10".into()),
            ("TILL__BKASH__TIMEOUT_SECS".into(), "5".into()),
            ("TILL__KHQR__EXPIRY_SECONDS".into(), "30".into()),
            ("TILL__DEMO__SETTLE_AFTER_MS".into(), "300".into()),
            ("TILL__BAKONG__FAST_INTERVAL_MS".into(), "300".into()),
            ("TILL__BAKONG__MIN_REQUEST_GAP_MS".into(), "300".into()),
            ("TILL__BAKONG__SLOW_INTERVAL_MS".into(), "1000".into()),
            ("TILL_SECRET_BKASH_USERNAME".into(), bk.username.clone()),
            ("TILL_SECRET_BKASH_PASSWORD".into(), bk.password.clone()),
            ("TILL_SECRET_BKASH_APP_KEY".into(), bk.app_key.clone()),
            ("TILL_SECRET_BKASH_APP_SECRET".into(), bk.app_secret.clone()),
            ("TILL_SECRET_BAKONG_TOKEN".into(), sandbox.bakong_token()),
        ],
    };
    let kills_wanted: u32 = std::env::var("TILL_CRASH_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let seed: u64 = std::env::var("TILL_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    println!("crash test: seed {seed} (TILL_CRASH_SEED={seed} replays the kill instants), {kills_wanted} kills");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let providers = [
        ProviderKind::Bakong,
        ProviderKind::Bkash,
        ProviderKind::Demo,
    ];
    let mut kills = 0u32;
    let mut iteration = 0u32;
    let started = Instant::now();
    while kills < kills_wanted {
        iteration += 1;
        let provider = providers[(iteration as usize) % 3];
        let (amount, currency) = match provider {
            ProviderKind::Bakong => (format!("{}", 1000 + iteration * 100), "KHR"),
            _ => (format!("{}.{:02}", 10 + iteration, iteration % 100), "BDT"),
        };
        // Every fifth round the process being killed is a bare restart (recovery).
        let recovering = iteration.is_multiple_of(5);
        let mut child = if recovering {
            env.command(&["recover", "--wait", "5"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        } else {
            env.command(&[
                "charge",
                "--provider",
                provider.as_str(),
                "--amount",
                &amount,
                "--currency",
                currency,
                "--json",
                "--timeout",
                "20",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
        };
        let kill_after = Duration::from_millis(rng.random_range(20..1500));
        let pay = rng.random_bool(0.8);
        let deadline = Instant::now() + kill_after;
        if !recovering {
            let rx = lines_of(&mut child);
            while Instant::now() < deadline {
                let Ok(line) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now()))
                else {
                    break;
                };
                if line["event"] != "customer_step" || !pay {
                    continue;
                }
                match line["kind"].as_str() {
                    Some("khqr") => {
                        let _ = http
                            .post(format!("{origin}/sim/bakong/pay"))
                            .json(&json!({"qr": line["khqr"], "fromAccountId": "crash@aclb"}))
                            .send();
                    }
                    Some("redirect") => {
                        let pid = line["redirect_url"]
                            .as_str()
                            .unwrap()
                            .split("paymentId=")
                            .nth(1)
                            .unwrap()
                            .split('&')
                            .next()
                            .unwrap()
                            .to_owned();
                        let v: Value = http
                            .post(format!("{origin}/sim/bkash/checkout/{pid}"))
                            .json(&json!({"wallet": "01770618575", "otp": "123456", "pin": "12121", "action": "pay"}))
                            .send()
                            .and_then(|r| r.json())
                            .unwrap_or(Value::Null);
                        if let Some(back) = v["redirect"].as_str() {
                            // The browser follows the redirect to the terminal (which may be dead).
                            let _ = http.get(back).send();
                        }
                    }
                    _ => {}
                }
            }
        } else {
            std::thread::sleep(kill_after);
        }
        if kill(&mut child) {
            kills += 1;
        }
        if iteration.is_multiple_of(25) {
            println!(
                "  {iteration} rounds, {kills} kills, {:.0?}",
                started.elapsed()
            );
        }
    }
    // Final restart, not killed: every payment must become final.
    let status = env.command(&["recover", "--wait", "90"]).status().unwrap();
    assert!(
        status.success(),
        "payments left open after the final recovery"
    );

    let ledger: Value = http
        .get(format!("{origin}/sim/ledger"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let bkash: HashMap<String, Value> = ledger["bkash"]["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["paymentID"].as_str().unwrap().to_owned(), p.clone()))
        .collect();
    let bakong: HashMap<String, Value> = ledger["bakong"]["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["md5"].as_str().unwrap().to_owned(), t.clone()))
        .collect();
    let config = till_core::Config::from_layers(
        till_core::config::DEFAULTS_TOML,
        None,
        env.vars.clone().into_iter(),
    )
    .unwrap();
    // Where the binary keeps it: demo mode (these defaults) has its own journal.
    let journal = Journal::open(
        &config.data_dir(home.path()).join("journal.db"),
        JournalContext::from_config(&config).unwrap(),
    )
    .unwrap();
    let all = journal
        .list(&till_core::ListFilter {
            page: 1,
            page_size: 500,
            ..Default::default()
        })
        .unwrap();
    let mut by_state: HashMap<PaymentState, u32> = HashMap::new();
    for p in &all {
        *by_state.entry(p.state).or_default() += 1;
        assert!(!p.state.is_open(), "still open: {p:?}");
        let settled_events = journal
            .events(&p.id)
            .unwrap()
            .iter()
            .filter(|e| e.to_state == PaymentState::Settled)
            .count();
        let outbox = journal
            .outbox_count_for(&p.id, EventType::PaymentSettled)
            .unwrap();
        if p.state == PaymentState::Settled {
            assert_eq!(settled_events, 1, "settled {settled_events} times: {p:?}");
            assert_eq!(outbox, 1, "outbox records for {}", p.id);
        } else {
            assert_eq!(outbox, 0, "outbox record for an unsettled payment {p:?}");
        }
        match p.provider {
            ProviderKind::Bkash => {
                let there = p.refs.lookup.as_ref().and_then(|id| bkash.get(id));
                let completed = there.is_some_and(|t| t["transactionStatus"] == "Completed");
                assert_eq!(
                    p.state == PaymentState::Settled,
                    completed,
                    "terminal {p:?} vs sandbox {there:?}"
                );
                if completed {
                    assert_eq!(
                        there.unwrap()["trxID"].as_str(),
                        p.refs.transaction.as_deref()
                    );
                    assert_eq!(
                        there.unwrap()["amount"].as_str(),
                        Some(p.amount.wire().as_str())
                    );
                }
            }
            ProviderKind::Bakong => {
                let there = p.refs.lookup.as_ref().and_then(|m| bakong.get(m));
                let paid_in_time = there.is_some()
                    && p.flag
                        .as_deref()
                        .is_none_or(|f| !f.starts_with("paid_after_expiry"));
                assert_eq!(
                    p.state == PaymentState::Settled,
                    paid_in_time,
                    "terminal {p:?} vs sandbox {there:?}"
                );
                if let Some(t) = there.filter(|_| p.state == PaymentState::Settled) {
                    assert_eq!(t["hash"].as_str(), p.refs.transaction.as_deref());
                }
            }
            ProviderKind::Demo => {
                assert!(
                    matches!(p.state, PaymentState::Settled | PaymentState::Cancelled),
                    "{p:?}"
                );
            }
            ProviderKind::Nagad => panic!("the crash test takes no Nagad payment: {p:?}"),
        }
    }
    // Nothing the sandbox completed is missing from the journal.
    let completed_there = bkash
        .values()
        .filter(|p| p["transactionStatus"] == "Completed")
        .count();
    let settled_here = all
        .iter()
        .filter(|p| p.provider == ProviderKind::Bkash && p.state == PaymentState::Settled)
        .count();
    assert_eq!(completed_there, settled_here, "bKash completed vs settled");
    let paid_there = bakong.len();
    let bakong_here = all
        .iter()
        .filter(|p| {
            p.provider == ProviderKind::Bakong
                && p.refs
                    .lookup
                    .as_ref()
                    .is_some_and(|m| bakong.contains_key(m))
        })
        .count();
    assert_eq!(
        paid_there, bakong_here,
        "every Bakong payment belongs to a journal payment"
    );
    println!(
        "crash test: {kills} kills over {iteration} rounds in {:.0?}; {} payments: {by_state:?}",
        started.elapsed(),
        all.len()
    );
    // After all of that, no configured secret is in the journal or the logs.
    let secrets: Vec<&str> = env
        .vars
        .iter()
        .filter(|(k, _)| k.starts_with("TILL_SECRET_"))
        .map(|(_, v)| v.as_str())
        .collect();
    let files = assert_no_secret_under(home.path(), &secrets).len();
    assert!(files >= 2, "journal and log were scanned");
    rt.block_on(sandbox.shutdown());
}
