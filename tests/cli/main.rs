//! The headless command line of the real `till` binary against the sandbox:
//! one JSON object per line, bKash through the loopback callback, KHQR,
//! refunds, the keyring, clear errors — and afterwards neither the journal
//! nor the logs contain any configured secret.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;
use till_tests::{app_binary, assert_no_secret_under, free_port};

mod api;
mod kiosk;
mod manager_pin;
mod tls;

struct Cli {
    home: tempfile::TempDir,
    vars: Vec<(String, String)>,
    secrets: Vec<String>,
}

impl Cli {
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(app_binary().unwrap_or_else(|e| panic!("{e}")));
        c.arg("--home")
            .arg(self.home.path())
            .args(args)
            .env_remove("DISPLAY");
        for (k, v) in &self.vars {
            c.env(k, v);
        }
        c
    }

    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = self.cmd(args).output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn json_lines(&self, args: &[&str]) -> Vec<Value> {
        let (code, out, err) = self.run(args);
        assert_eq!(code, 0, "till {args:?}: {out}\n{err}");
        out.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

/// The sandbox's bKash credentials as `TILL_SECRET_*` (headless: read, never written).
fn bkash_secret_vars(bk: &till_sandbox::config::BkashConfig) -> Vec<(String, String)> {
    vec![
        ("TILL_SECRET_BKASH_USERNAME".into(), bk.username.clone()),
        ("TILL_SECRET_BKASH_PASSWORD".into(), bk.password.clone()),
        ("TILL_SECRET_BKASH_APP_KEY".into(), bk.app_key.clone()),
        ("TILL_SECRET_BKASH_APP_SECRET".into(), bk.app_secret.clone()),
    ]
}

/// The customer pays on the sandbox's checkout page that `redirect_url` opens. Returns the
/// paymentID and where the page sends the browser back to (Till's callback).
fn customer_pays_on_bkash_page(
    http: &reqwest::blocking::Client,
    origin: &str,
    redirect_url: &str,
) -> (String, String) {
    let pid = redirect_url
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
        .unwrap()
        .json()
        .unwrap();
    let back = v["redirect"].as_str().unwrap().to_owned();
    (pid, back)
}

#[test]
fn headless_payments_and_no_secret_left_behind() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sandbox = rt
        .block_on(till_sandbox::start(till_sandbox::Config::default()))
        .unwrap();
    let origin = sandbox.origin().to_owned();
    let bk = sandbox.config().bkash.clone();
    let token = sandbox.bakong_token();
    let service = format!("till-cli-test-{}", std::process::id());
    let port = free_port();
    let cli = Cli {
        home: tempfile::tempdir().unwrap(),
        vars: vec![
            ("TILL_KEYRING_SERVICE".into(), service.clone()),
            ("TILL__BKASH__BASE_URL".into(), sandbox.bkash_base_url()),
            ("TILL__BAKONG__BASE_URL".into(), sandbox.bakong_base_url()),
            (
                "TILL__BKASH__CALLBACK_URL".into(),
                format!("http://127.0.0.1:{port}/bkash/callback"),
            ),
            ("TILL__DEMO__SETTLE_AFTER_MS".into(), "300".into()),
            ("TILL_LOG".into(), "debug".into()),
        ]
        .into_iter()
        // bKash credentials from the environment (headless), the Bakong token from the keyring.
        .chain(bkash_secret_vars(&bk))
        .collect(),
        secrets: vec![
            bk.username.clone(),
            bk.password.clone(),
            bk.app_key.clone(),
            bk.app_secret.clone(),
            token.clone(),
        ],
    };

    // The manager PIN, chosen first: the keyring, refunds and closing the day need it.
    cli.set_pin(manager_pin::PIN);

    // The keyring: set from stdin (the PIN on fd 3), listed by name only.
    let mut child = cli
        .with_fd3(
            &["secret", "set", "bakong.token", "--pin-fd", "3"],
            &[manager_pin::PIN],
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{token}\n").as_bytes())
        .unwrap();
    assert!(
        child.wait().unwrap().success(),
        "the OS keyring is reachable (dbus-run-session + gnome-keyring)"
    );
    let (code, out, _) = cli.run(&["secret", "list"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("bakong.token") && out.contains("set") && !out.contains(&token),
        "{out}"
    );

    // Demo.
    let lines = cli.json_lines(&["charge", "--provider", "demo", "--amount", "5", "--json"]);
    assert_eq!(lines[0]["event"], "customer_step");
    assert_eq!(lines[0]["kind"], "wait");
    let last = lines.last().unwrap();
    assert_eq!(last["event"], "final");
    assert_eq!(last["state"], "settled");
    assert_eq!(last["amount"], "5.00");
    assert_eq!(last["currency"], "BDT");

    // Bakong KHQR: the test plays the customer's bank app.
    let mut child = cli
        .cmd(&[
            "charge",
            "--provider",
            "bakong",
            "--amount",
            "12.5",
            "--currency",
            "USD",
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let step: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(step["kind"], "khqr");
    let qr = step["khqr"].as_str().unwrap();
    assert_eq!(khqr::md5_hex(qr), step["md5"].as_str().unwrap());
    assert_eq!(khqr::decode(qr).amount().unwrap().to_string(), "12.50");
    let http = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let paid: Value = http
        .post(format!("{origin}/sim/bakong/pay"))
        .json(&json!({"qr": qr, "fromAccountId": "cli@aclb"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let rest: Vec<Value> = lines
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    assert!(child.wait().unwrap().success());
    let fin = rest.last().unwrap();
    assert_eq!(fin["state"], "settled", "{rest:?}");
    // The Bakong hash is the payment's transaction reference.
    assert_eq!(fin["references"]["transaction"], paid["hash"]);
    let khqr_id = fin["id"].as_str().unwrap().to_owned();

    // bKash headless: the checkout page redirects to Till's loopback callback.
    let mut child = cli
        .cmd(&["charge", "--provider", "bkash", "--amount", "250", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let step: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(step["kind"], "redirect");
    let (pid, back) =
        customer_pays_on_bkash_page(&http, &origin, step["redirect_url"].as_str().unwrap());
    assert!(
        back.starts_with(&format!("http://127.0.0.1:{port}/bkash/callback")),
        "{back}"
    );
    let page = http.get(&back).send().unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().unwrap().contains("Paid"));
    let rest: Vec<Value> = lines
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    assert!(child.wait().unwrap().success());
    let fin = rest.last().unwrap();
    assert_eq!(fin["state"], "settled");
    // bKash's paymentID is what Till looks the payment up by; trxID its transaction.
    assert_eq!(fin["references"]["lookup"], pid);
    let trx = fin["references"]["transaction"]
        .as_str()
        .unwrap()
        .to_owned();

    // Status by trxID; partial refund; list filters.
    let s = cli.json_lines(&["status", &trx, "--json"]);
    assert_eq!(s[0]["state"], "settled");
    assert!(s[0]["events"].as_array().unwrap().len() >= 4);
    let r = cli.as_manager(&[
        "refund", &trx, "--amount", "50", "--reason", "damaged", "--json",
    ]);
    assert_eq!(r[0]["state"], "partially_refunded");
    assert_eq!(r[0]["refunded"], "50.00");
    let (code, _, err) = cli.run_fd3(&["refund", &khqr_id, "--pin-fd", "3"], &[manager_pin::PIN]);
    assert_eq!(code, 1);
    assert!(err.contains("Bakong has no refund API"), "{err}");
    let listed = cli.json_lines(&["list", "--provider", "bkash", "--json"]);
    assert_eq!(listed.len(), 1);
    let listed = cli.json_lines(&["list", "--state", "settled", "--json"]);
    assert_eq!(listed.len(), 2, "demo + KHQR");

    // The day's report: X-report, exports, close, Z-report.
    let x = cli.json_lines(&["report", "--json"]);
    assert_eq!(x[0]["kind"], "x", "{}", x[0]);
    assert_eq!(
        x[0]["reconciliation"]["disagreements"],
        json!([]),
        "{}",
        x[0]
    );
    let bdt = x[0]["summary"]["totals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["currency"] == "BDT")
        .unwrap()
        .clone();
    assert_eq!(bdt["net"]["amount"], "205.00", "{bdt}");
    let csv_path = cli.home.path().join("day.csv");
    let pdf_path = cli.home.path().join("day.pdf");
    let (code, out, err) = cli.run(&[
        "report",
        "--day",
        "today",
        "--csv",
        csv_path.to_str().unwrap(),
        "--pdf",
        pdf_path.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("X-report") && out.contains("BDT 205.00"),
        "{out}"
    );
    let csv_text = std::fs::read_to_string(&csv_path).unwrap();
    assert_eq!(
        csv_text.lines().count(),
        4,
        "header + 3 payments:\n{csv_text}"
    );
    assert!(std::fs::read(&pdf_path).unwrap().starts_with(b"%PDF-"));
    let z = cli.as_manager(&["report", "--close", "--json"]);
    assert_eq!(z[0]["closed_by"], "manager@cli");
    assert_eq!(z[0]["report"]["kind"], "z");
    let (code, out, _) = cli.run(&["report"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("Z-report") && out.contains("closed by manager@cli"),
        "{out}"
    );
    let (code, _, err) = cli.run_fd3(&["report", "--close", "--pin-fd", "3"], &[manager_pin::PIN]);
    assert_eq!(code, 1);
    assert!(err.contains("already closed"), "{err}");
    let (code, _, err) = cli.run(&["report", "--day", "22-11-2026"]);
    assert_eq!(code, 1);
    assert!(err.contains("YYYY-MM-DD"), "{err}");

    // Clear refusals.
    let (code, _, err) = cli.run(&["charge", "--provider", "bkash", "--amount", "1.234"]);
    assert_eq!(code, 1);
    assert!(err.contains("at most 2 decimal places"), "{err}");
    let (code, _, err) = cli.run(&["status", "no-such-payment"]);
    assert_eq!(code, 1);
    assert!(err.contains("no payment matches"), "{err}");
    std::fs::write(
        cli.home.path().join("till.toml"),
        "[business_day]\ncutoff = \"25:00\"\n",
    )
    .unwrap();
    let (code, _, err) = cli.run(&["list"]);
    assert_eq!(code, 1);
    assert!(err.contains("business_day.cutoff"), "{err}");
    std::fs::remove_file(cli.home.path().join("till.toml")).unwrap();

    // Nothing secret in the journal or the logs.
    let secrets: Vec<&str> = cli.secrets.iter().map(String::as_str).collect();
    let scanned = assert_no_secret_under(cli.home.path(), &secrets);
    let names: Vec<_> = scanned.iter().map(|(n, _)| n.as_str()).collect();
    assert!(
        names.contains(&"journal.db") && names.contains(&"till.log"),
        "{scanned:?}"
    );
    assert!(
        scanned.iter().find(|(n, _)| n == "till.log").unwrap().1 > 1000,
        "logs were written"
    );
    println!("scanned for secrets: {scanned:?}");
    let _ = cli.run_fd3(
        &["secret", "delete", "bakong.token", "--pin-fd", "3"],
        &[manager_pin::PIN],
    );
    rt.block_on(sandbox.shutdown());
}

/// A machine with no Secret Service (no session bus): the keyring cannot be asked. Only the
/// providers that need a secret from it are off, each saying which secret and why; the demo
/// wallet and the read-only commands work.
#[test]
fn demo_charge_and_reports_without_a_keyring() {
    let runtime_dir = tempfile::tempdir().unwrap(); // no `bus` socket in it
    let cli = Cli {
        home: tempfile::tempdir().unwrap(),
        vars: vec![
            ("TILL_KEYRING_SERVICE".into(), "till-no-keyring-test".into()),
            ("TILL__DEMO__SETTLE_AFTER_MS".into(), "200".into()),
            (
                "XDG_RUNTIME_DIR".into(),
                runtime_dir.path().display().to_string(),
            ),
        ],
        secrets: vec![],
    };
    let no_bus = |mut c: Command| {
        c.env_remove("DBUS_SESSION_BUS_ADDRESS");
        c
    };
    let run = |args: &[&str]| {
        let out = no_bus(cli.cmd(args)).output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };

    let (code, out, err) = run(&["charge", "--provider", "demo", "--amount", "5", "--json"]);
    assert_eq!(code, 0, "a demo charge needs no keyring:\n{out}\n{err}");
    let last: Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(last["state"], "settled", "{out}");
    let id = last["id"].as_str().unwrap().to_owned();

    // bKash needs four secrets from the keyring: it is off, and says which one and why.
    let (code, _, err) = run(&["charge", "--provider", "bkash", "--amount", "5"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("bkash.username") && err.contains("keyring"),
        "names the secret and the keyring: {err}"
    );
    let (code, _, err) = run(&["charge", "--provider", "bakong", "--amount", "5"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("bakong.token") && err.contains("keyring"),
        "{err}"
    );

    let (code, out, err) = run(&["list", "--json"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 1, "{out}");
    let (code, out, err) = run(&["status", &id, "--json"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("settled"), "{out}");
    let (code, out, err) = run(&["report", "--json"]);
    assert!(code == 0 || code == 1, "report runs: {err}");
    let report: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(report["kind"], "x", "{out}");
    assert_eq!(
        report["summary"]["totals"][0]["settled"]["amount"], "5.00",
        "{out}"
    );
}

/// Two processes on one data directory: while `till charge` follows its payment, `till
/// recover` (which would resolve that payment as one a crashed run left) is refused and says
/// who holds the directory; `till list` reads beside it.
#[test]
fn a_second_process_with_background_work_is_refused() {
    let cli = Cli {
        home: tempfile::tempdir().unwrap(),
        vars: vec![
            ("TILL_KEYRING_SERVICE".into(), "till-lock-test".into()),
            // Long enough for the other commands to run while the charge waits.
            ("TILL__DEMO__SETTLE_AFTER_MS".into(), "4000".into()),
        ],
        secrets: vec![],
    };
    let mut charge = cli
        .cmd(&["charge", "--provider", "demo", "--amount", "7", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The charge has started once its first line (the customer step) is out.
    let mut out = BufReader::new(charge.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    let step: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(step["event"], "customer_step", "{first}");

    let (code, _, err) = cli.run(&["recover"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("another Till process")
            && err.contains(&format!("pid {}", charge.id()))
            && err.contains("till charge"),
        "says who holds the directory: {err}"
    );
    let (code, listed, err) = cli.run(&["list", "--json"]);
    assert_eq!(code, 0, "{err}");
    assert!(listed.contains("awaiting_customer"), "{listed}");

    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    assert!(charge.wait().unwrap().success(), "{rest}");
    assert!(rest.contains("\"settled\""), "{rest}");
    // The lock went with the process.
    let (code, _, err) = cli.run(&["recover"]);
    assert_eq!(code, 0, "{err}");
}

/// Demo mode and production never share a journal, and production has no Demo wallet unless
/// it is asked for by name: turning demo mode off starts on an empty journal (invoice 1),
/// with the demo shop refused until the shop's own profile is set.
#[test]
fn production_is_never_demo() {
    let cli = Cli {
        home: tempfile::tempdir().unwrap(),
        vars: vec![
            ("TILL_KEYRING_SERVICE".into(), "till-prod-demo-test".into()),
            ("TILL__DEMO__SETTLE_AFTER_MS".into(), "200".into()),
        ],
        secrets: vec![],
    };
    let home = cli.home.path();
    let settled = |out: &str| -> Value {
        let last: Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
        assert_eq!(last["state"], "settled", "{out}");
        last
    };
    // Demo mode (the built-in configuration): the Demo wallet pays, into <home>/demo/.
    for _ in 0..2 {
        let (code, out, err) =
            cli.run(&["charge", "--provider", "demo", "--amount", "5", "--json"]);
        assert_eq!(code, 0, "{out}\n{err}");
        settled(&out);
    }
    assert!(home.join("demo/journal.db").exists());
    assert!(
        !home.join("journal.db").exists(),
        "nothing in production's journal"
    );

    // Demo mode off, demo shop kept: refused, naming what to set.
    std::fs::write(home.join("till.toml"), "[demo]\nin_process = false\n").unwrap();
    let (code, _, err) = cli.run(&["list"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("khqr.bakong_account_id") && err.contains("demo"),
        "{err}"
    );
    let own_shop = "[demo]\nin_process = false\n[shop]\nname = \"Rahim Store\"\n\
                    [khqr]\nbakong_account_id = \"rahim_store@aclb\"\n\
                    merchant_name = \"Rahim Store\"\n";
    std::fs::write(
        home.join("till.toml"),
        own_shop.replace("[shop]\nname = \"Rahim Store\"\n", ""),
    )
    .unwrap();
    let (code, _, err) = cli.run(&["list"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("shop.name"), "{err}");

    // The shop's own profile: production, on its own empty journal, without the Demo wallet.
    std::fs::write(home.join("till.toml"), own_shop).unwrap();
    let (code, out, err) = cli.run(&["list", "--json"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.lines().count(),
        0,
        "no demo payment in production: {out}"
    );
    let (code, out, err) = cli.run(&["charge", "--provider", "demo", "--amount", "5", "--json"]);
    assert_eq!(code, 1, "the engine refuses the Demo wallet:\n{out}\n{err}");
    assert!(err.contains("demo"), "{err}");
    let (_, out, _) = cli.run(&["list", "--json"]);
    assert_eq!(
        out.lines().count(),
        0,
        "the refused charge left nothing: {out}"
    );

    // Asked for by name, the Demo wallet exists in production too, on production's journal.
    let with_demo_wallet = own_shop.replace(
        "in_process = false\n",
        "in_process = false\nenabled = true\n",
    );
    std::fs::write(home.join("till.toml"), with_demo_wallet).unwrap();
    let (code, out, err) = cli.run(&["charge", "--provider", "demo", "--amount", "5", "--json"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let paid = settled(&out);
    assert!(
        paid["invoice"].as_str().unwrap().ends_with("-000001"),
        "production's invoices start at 1: {paid}"
    );
    assert!(home.join("journal.db").exists());
}

/// bKash allows two token calls an hour per merchant account. Fifty `till charge` runs
/// (each a new process: a restart) over one hour of the sandbox's time share one token
/// through the keyring and one budget through the journal: one grant, and one refresh when
/// bKash lets the token expire.
#[test]
fn fifty_cli_charges_in_an_hour_make_at_most_two_token_calls() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut config = till_sandbox::Config::default();
    config.bkash.token_rate_limit = true; // bKash's block, were the limit passed
    let sandbox = rt.block_on(till_sandbox::start(config)).unwrap();
    let origin = sandbox.origin().to_owned();
    let bk = sandbox.config().bkash.clone();
    let port = free_port();
    let cli = Cli {
        home: tempfile::tempdir().unwrap(),
        vars: vec![
            (
                "TILL_KEYRING_SERVICE".into(),
                format!("till-token-test-{}", std::process::id()),
            ),
            ("TILL__BKASH__BASE_URL".into(), sandbox.bkash_base_url()),
            (
                "TILL__BKASH__CALLBACK_URL".into(),
                format!("http://127.0.0.1:{port}/bkash/callback"),
            ),
        ]
        .into_iter()
        .chain(bkash_secret_vars(&bk))
        .collect(),
        secrets: vec![],
    };
    let http = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let ledger = || -> Value {
        http.get(format!("{origin}/sim/ledger"))
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    for i in 0..50 {
        // A new amount each time: bKash refuses a repeat of payer and amount (2029).
        let amount = format!("{}", 20 + i);
        let mut child = cli
            .cmd(&[
                "charge",
                "--provider",
                "bkash",
                "--amount",
                &amount,
                "--json",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let step: Value = serde_json::from_str(&first).unwrap();
        let url = step["redirect_url"]
            .as_str()
            .unwrap_or_else(|| panic!("charge {i}: {first}"));
        let (_, back) = customer_pays_on_bkash_page(&http, &origin, url);
        let page = http.get(&back).send().unwrap();
        assert_eq!(page.status(), 200);
        let rest: Vec<String> = lines.map(Result::unwrap).collect();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "charge {i}: {rest:?}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            rest.last().unwrap().contains("\"settled\""),
            "charge {i}: {rest:?}"
        );
        // 50 × 75 s: an hour of the sandbox's time, and past the token's lifetime (3600 s).
        http.post(format!("{origin}/sim/clock"))
            .json(&json!({"advance_secs": 75}))
            .send()
            .unwrap();
    }
    let calls = ledger()["bkash"]["tokenCalls"].as_array().unwrap().clone();
    let kinds: Vec<&str> = calls.iter().map(|c| c["kind"].as_str().unwrap()).collect();
    println!("token calls for 50 charges over one sandbox hour: {kinds:?}");
    // Within the limit, and the expired token refreshed (by whichever run met it) rather
    // than granted anew.
    assert_eq!(kinds, ["grant", "refresh"]);
    rt.block_on(sandbox.shutdown());
}
