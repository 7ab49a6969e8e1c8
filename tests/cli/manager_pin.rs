//! Issue 14, H4 and M4: the manager PIN guards the command line as it guards the window.
//! Refunds, cancels, closing the day and the keyring need the PIN (asked on the terminal, or
//! read from a file descriptor by scripts); the audit names the PIN session, never a flag;
//! wrong PINs lock out across processes; a lost or damaged PIN file needs the recovery code.

use super::Cli;
use serde_json::Value;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use till_tests::app_binary;

pub(crate) const PIN: &str = "135790";

pub(crate) fn demo_cli(tag: &str) -> Cli {
    Cli {
        home: tempfile::tempdir().unwrap(),
        vars: vec![
            (
                "TILL_KEYRING_SERVICE".into(),
                format!("till-pin-test-{tag}-{}", std::process::id()),
            ),
            ("TILL__DEMO__SETTLE_AFTER_MS".into(), "200".into()),
        ],
        secrets: vec![],
    }
}

impl Cli {
    /// `till ARGS` with `lines` readable on file descriptor 3, as a script gives them:
    /// `till ARGS 3<file`.
    pub(crate) fn with_fd3(&self, args: &[&str], lines: &[&str]) -> Command {
        let mut file = tempfile::Builder::new()
            .prefix("fd3-")
            .tempfile_in(self.home.path())
            .unwrap();
        for l in lines {
            writeln!(file, "{l}").unwrap();
        }
        let (_, path) = file.keep().unwrap();
        let mut c = Command::new("sh");
        c.arg("-c")
            .arg("f=$TILL_TEST_FD3; unset TILL_TEST_FD3; exec \"$@\" 3<\"$f\"")
            .arg("sh")
            .arg(app_binary().unwrap_or_else(|e| panic!("{e}")))
            .arg("--home")
            .arg(self.home.path())
            .args(args)
            .env("TILL_TEST_FD3", &path)
            .env_remove("DISPLAY");
        for (k, v) in &self.vars {
            c.env(k, v);
        }
        c
    }

    pub(crate) fn run_fd3(&self, args: &[&str], lines: &[&str]) -> (i32, String, String) {
        let out = self.with_fd3(args, lines).output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// `till ARGS --pin-fd 3` with the manager PIN on fd 3; must succeed; its JSON lines.
    pub(crate) fn as_manager(&self, args: &[&str]) -> Vec<Value> {
        let mut all = args.to_vec();
        all.extend(["--pin-fd", "3"]);
        let (code, out, err) = self.run_fd3(&all, &[PIN]);
        assert_eq!(code, 0, "till {all:?}:\n{out}\n{err}");
        out.lines()
            .filter(|l| l.starts_with('{'))
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// `till pin set` with `pin` on fd 3: the recovery code it shows once.
    pub(crate) fn set_pin(&self, pin: &str) -> String {
        let (code, out, err) = self.run_fd3(&["pin", "set", "--pin-fd", "3", "--json"], &[pin]);
        assert_eq!(code, 0, "till pin set:\n{out}\n{err}");
        let v: Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
        let rc = v["recovery_code"].as_str().unwrap().to_owned();
        assert_recovery_code_shape(&rc);
        rc
    }

    pub(crate) fn settled_demo(&self, amount: &str) -> String {
        let lines =
            self.json_lines(&["charge", "--provider", "demo", "--amount", amount, "--json"]);
        let last = lines.last().unwrap();
        assert_eq!(last["state"], "settled", "{lines:?}");
        last["id"].as_str().unwrap().to_owned()
    }

    pub(crate) fn state_of(&self, id: &str) -> Value {
        self.json_lines(&["status", id, "--json"]).remove(0)
    }
}

fn assert_recovery_code_shape(rc: &str) {
    let groups: Vec<&str> = rc.split('-').collect();
    assert!(
        groups.len() >= 5
            && groups
                .iter()
                .all(|g| g.len() == 4 && g.bytes().all(|b| b.is_ascii_alphanumeric())),
        "a recovery code of 5+ groups of 4: {rc}"
    );
}

/// A demo payment left waiting for its customer (the charge runs on in the background);
/// the caller kills the charge.
fn open_demo_payment(cli: &Cli) -> (std::process::Child, String) {
    let mut charge = cli
        .cmd(&["charge", "--provider", "demo", "--amount", "9", "--json"])
        .env("TILL__DEMO__SETTLE_AFTER_MS", "60000")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = charge.stdout.take().unwrap();
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    while out.read(&mut b).unwrap() == 1 && b[0] != b'\n' {
        line.push(b[0]);
    }
    let step: Value = serde_json::from_slice(&line).unwrap();
    (charge, step["payment_id"].as_str().unwrap().to_owned())
}

fn refused_for_want_of_a_pin(what: &str, (code, out, err): (i32, String, String)) {
    assert_ne!(
        code, 0,
        "{what} without the manager PIN was done:\n{out}\n{err}"
    );
    assert!(
        err.contains("manager PIN") && err.contains("--pin-fd"),
        "{what}: says it needs the PIN and how to give it: {err}"
    );
}

/// H4: `till refund`, `till cancel`, `till report --close`, `till secret set|delete` and
/// `till sync --replay-dead` without the PIN are refused and change nothing; with it they
/// work, and the journal names the PIN session (`manager@cli`) as the one who acted.
#[test]
fn privileged_commands_need_the_manager_pin() {
    let cli = demo_cli("need");
    let id = cli.settled_demo("40");

    // No PIN: standard input is not a terminal and no --pin-fd.
    refused_for_want_of_a_pin(
        "till refund",
        cli.run(&["refund", &id, "--amount", "10", "--json"]),
    );
    assert_eq!(cli.state_of(&id)["refunded"], "0.00");
    refused_for_want_of_a_pin("till report --close", cli.run(&["report", "--close"]));
    assert_eq!(cli.json_lines(&["report", "--json"])[0]["kind"], "x");
    let mut child = cli
        .cmd(&["secret", "set", "bakong.token"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"not-a-real-token\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    refused_for_want_of_a_pin(
        "till secret set",
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ),
    );
    let (_, listed, _) = cli.run(&["secret", "list"]);
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with("bakong.token") && l.ends_with("not set")),
        "{listed}"
    );
    refused_for_want_of_a_pin(
        "till secret delete",
        cli.run(&["secret", "delete", "bakong.token"]),
    );
    refused_for_want_of_a_pin(
        "till sync --replay-dead",
        cli.run(&["sync", "--replay-dead"]),
    );
    let (mut charge, open) = open_demo_payment(&cli);
    refused_for_want_of_a_pin("till cancel", cli.run(&["cancel", &open]));
    assert_eq!(cli.state_of(&open)["state"], "awaiting_customer");

    // No PIN set yet: nobody can act as manager, and it says how to choose one.
    let (code, _, err) = cli.run_fd3(&["refund", &id, "--pin-fd", "3"], &[PIN]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("till pin set"), "{err}");

    // With the PIN.
    cli.set_pin(PIN);
    let (code, _, err) = cli.run_fd3(&["refund", &id, "--pin-fd", "3"], &["000000"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("Wrong PIN"), "{err}");
    let r = cli.as_manager(&["refund", &id, "--amount", "10", "--json"]);
    assert_eq!(r[0]["refunded"], "10.00");
    assert_eq!(r[0]["refund"]["requested_by"], "manager@cli");
    let c = cli.as_manager(&["cancel", &open, "--json"]);
    assert_eq!(c[0]["state"], "cancelled");
    let events = cli.state_of(&open)["events"].to_string();
    assert!(events.contains("cancelled by manager@cli"), "{events}");
    let _ = charge.kill();
    let _ = charge.wait();
    let z = cli.as_manager(&["report", "--close", "--json"]);
    assert_eq!(z[0]["closed_by"], "manager@cli");

    let mut child = cli
        .with_fd3(&["secret", "set", "bakong.token", "--pin-fd", "3"], &[PIN])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"not-a-real-token\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the OS keyring is reachable (dbus-run-session + gnome-keyring): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    cli.as_manager(&["secret", "delete", "bakong.token"]);
}

/// H4: who acted comes from the PIN session, not from a flag anyone can type.
#[test]
fn the_audit_actor_comes_from_the_pin_session() {
    let cli = demo_cli("actor");
    let id = cli.settled_demo("30");
    for args in [
        vec![
            "refund",
            id.as_str(),
            "--amount",
            "1",
            "--operator",
            "mallory",
            "--json",
        ],
        vec!["cancel", id.as_str(), "--operator", "mallory"],
        vec!["report", "--close", "--by", "mallory", "--json"],
    ] {
        let (code, out, err) = cli.run(&args);
        assert_eq!(
            code, 2,
            "till {args:?} took the actor from a flag:\n{out}\n{err}"
        );
        assert!(err.contains("unexpected argument"), "{err}");
    }
    assert_eq!(cli.state_of(&id)["refunded"], "0.00");
}

/// M4: every `till` run is a new process, and the lockout is on disk: five wrong PINs lock
/// the sixth try out, the right PIN included; `till pin status` says for how long.
#[test]
fn the_lockout_holds_across_processes() {
    let cli = demo_cli("lockout");
    cli.set_pin(PIN);
    let id = cli.settled_demo("20");
    for n in 1..=5 {
        let (code, _, err) = cli.run_fd3(&["refund", &id, "--pin-fd", "3"], &["111111"]);
        assert_eq!(code, 1, "{err}");
        if n < 5 {
            assert!(err.contains("Wrong PIN"), "try {n}: {err}");
        } else {
            assert!(err.contains("Too many wrong PINs"), "try {n}: {err}");
        }
    }
    let (code, _, err) = cli.run_fd3(&["refund", &id, "--pin-fd", "3"], &[PIN]);
    assert_eq!(code, 1, "a new process took the right PIN at once: {err}");
    assert!(err.contains("Too many wrong PINs"), "{err}");
    assert_eq!(cli.state_of(&id)["refunded"], "0.00");
    let (code, out, err) = cli.run(&["pin", "status", "--json"]);
    assert_eq!(code, 0, "{err}");
    let status: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(status["state"], "set", "{status}");
    assert!(status["locked_for_s"].as_u64().unwrap() > 0, "{status}");
}

/// H4: a deleted or damaged `manager-pin` does not let anyone choose a new PIN: `till pin
/// set` is refused, and `till pin reset` needs the recovery code shown when the PIN was
/// set. A reset shows a new recovery code; the used one is spent.
#[test]
fn a_lost_pin_file_needs_the_recovery_code() {
    let cli = demo_cli("recovery");
    let first_code = cli.set_pin(PIN);
    let (code, _, err) = cli.run_fd3(&["pin", "set", "--pin-fd", "3"], &["999999"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("already set"), "{err}");

    let pin_file = cli.home.path().join("manager-pin");
    std::fs::remove_file(&pin_file).unwrap();
    let (code, _, err) = cli.run_fd3(&["pin", "set", "--pin-fd", "3"], &["999999"]);
    assert_eq!(
        code, 1,
        "a stranger chose a new PIN after deleting the file: {err}"
    );
    assert!(err.contains("recovery code"), "{err}");
    let (_, out, _) = cli.run(&["pin", "status", "--json"]);
    assert!(out.contains("\"needs_recovery\""), "{out}");

    // A wrong code is refused (and counted as a wrong try).
    let (code, _, err) = cli.run_fd3(
        &["pin", "reset", "--recovery-fd", "3", "--new-pin-fd", "3"],
        &["ABCD-EFGH-JKMN-PQRS-TVWX", "999999"],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("recovery code"), "{err}");
    // The right one, typed loosely (lower case, spaces), sets the new PIN.
    let loose = first_code.to_lowercase().replace('-', " ");
    let (code, out, err) = cli.run_fd3(
        &[
            "pin",
            "reset",
            "--recovery-fd",
            "3",
            "--new-pin-fd",
            "3",
            "--json",
        ],
        &[&loose, "999999"],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    let v: Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    let second_code = v["recovery_code"].as_str().unwrap().to_owned();
    assert_recovery_code_shape(&second_code);
    assert_ne!(second_code, first_code);
    let id = cli.settled_demo("5");
    let (code, _, err) = cli.run_fd3(
        &["refund", &id, "--amount", "1", "--pin-fd", "3"],
        &["999999"],
    );
    assert_eq!(code, 0, "the new PIN works: {err}");

    // Damaged, not missing: still not "no PIN".
    std::fs::write(&pin_file, "$argon2id$v=19$m=19456,t=2,p=1$broken\n").unwrap();
    let (code, _, err) = cli.run_fd3(&["pin", "set", "--pin-fd", "3"], &["222222"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("recovery code"), "{err}");
    let (code, _, err) = cli.run_fd3(&["refund", &id, "--pin-fd", "3"], &["999999"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("damaged") || err.contains("missing"), "{err}");
    // The spent code no longer works; the new one does.
    let (code, _, err) = cli.run_fd3(
        &["pin", "reset", "--recovery-fd", "3", "--new-pin-fd", "3"],
        &[&first_code, "222222"],
    );
    assert_eq!(code, 1, "a spent recovery code worked again: {err}");
    let (code, out, err) = cli.run_fd3(
        &["pin", "reset", "--recovery-fd", "3", "--new-pin-fd", "3"],
        &[&second_code, "222222"],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("recovery code"), "{out}");
    let files: Vec<String> = std::fs::read_dir(cli.home.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for f in files.iter().filter(|f| f.starts_with("manager-pin")) {
        let text = std::fs::read_to_string(cli.home.path().join(f)).unwrap();
        assert!(
            !text.contains("222222") && !text.contains(&second_code),
            "{f} keeps no PIN or code in the clear: {text}"
        );
    }
}

/// On a terminal the PIN is asked for without echo (a pseudo-terminal from `script`).
#[test]
fn the_pin_prompt_on_a_terminal_does_not_echo() {
    let cli = demo_cli("tty");
    let line = format!(
        "{} --home {} pin set",
        app_binary().unwrap().display(),
        cli.home.path().display()
    );
    let mut script = Command::new("script");
    script
        .args(["-q", "-e", "-c", &line, "/dev/null"])
        .env_remove("DISPLAY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in &cli.vars {
        script.env(k, v);
    }
    let mut child = script.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<u8>();
    std::thread::spawn(move || {
        for b in std::io::BufReader::new(stdout).bytes() {
            if tx.send(b.unwrap()).is_err() {
                break;
            }
        }
    });
    let mut seen = String::new();
    let wait_for = |needle: &str, seen: &mut String| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !seen.contains(needle) {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(b) => seen.push(b as char),
                Err(_) => panic!("no {needle:?} on the terminal; it shows: {seen:?}"),
            }
        }
    };
    wait_for("PIN", &mut seen);
    std::thread::sleep(Duration::from_millis(300));
    stdin.write_all(format!("{PIN}\n").as_bytes()).unwrap();
    wait_for("again", &mut seen);
    std::thread::sleep(Duration::from_millis(300));
    stdin.write_all(format!("{PIN}\n").as_bytes()).unwrap();
    wait_for("Recovery code", &mut seen);
    let status = child.wait().unwrap();
    while let Ok(b) = rx.recv_timeout(Duration::from_millis(500)) {
        seen.push(b as char);
    }
    assert!(status.success(), "{seen}");
    assert!(!seen.contains(PIN), "the PIN was echoed: {seen:?}");
    let (_, out, _) = cli.run(&["pin", "status", "--json"]);
    assert!(out.contains("\"set\""), "{out}");
}
