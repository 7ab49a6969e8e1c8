//! The `till-hub` binary's administration commands against a SQLite file.

use std::process::Command;

/// Run `till-hub --database DB ARGS…` in an empty working directory (so no
/// default key file is found by accident) with no `TILL_HUB_*` variables.
pub fn hub_cli(db: &str, args: &[&str]) -> (bool, String, String) {
    hub_cli_env(db, args, &[])
}

/// [`hub_cli`] with these environment variables.
pub fn hub_cli_env(db: &str, args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let cwd = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_till-hub"))
        .arg("--database")
        .arg(db)
        .args(args)
        .current_dir(cwd.path())
        .env_remove("TILL_HUB_DATABASE")
        .env_remove("TILL_HUB_SECRET_KEY")
        .env_remove("TILL_HUB_SECRET_KEY_FILE")
        .env_remove("TILL_HUB_READ_TOKEN")
        .envs(env.iter().copied())
        .output()
        .expect("run till-hub");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn terminal_and_token_commands() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("hub.db").display());
    let key = dir.path().join("secret.key").display().to_string();
    let k = ["--secret-key-file", key.as_str()];
    let (ok, _, err) = hub_cli(&db, &[&k[..], &["init"]].concat());
    assert!(ok, "{err}");
    let (ok, out, err) = hub_cli(
        &db,
        &[
            &k[..],
            &[
                "terminal",
                "add",
                "shop1-till1",
                "--hmac",
                "--name",
                "Counter 1",
            ],
        ]
        .concat(),
    );
    assert!(ok, "{err}");
    assert!(out.trim().starts_with("whsec_"), "{out}");
    assert!(err.contains("hub.secret"), "{err}");
    let (ok, _, _) = hub_cli(&db, &["terminal", "add", "shop1-till1"]);
    assert!(!ok, "adding twice must fail");
    let pk = till_sync_proto::generate_ed25519_keypair().public.to_text();
    let (ok, out, err) = hub_cli(&db, &["terminal", "add", "pp-till1", "--public-key", &pk]);
    assert!(ok, "{err}");
    assert!(out.trim().is_empty(), "no secret printed for a public key");
    let (ok, out, _) = hub_cli(
        &db,
        &[&k[..], &["terminal", "rotate", "shop1-till1", "--hmac"]].concat(),
    );
    assert!(ok && out.trim().starts_with("whsec_"));
    let (ok, _, err) = hub_cli(
        &db,
        &[&k[..], &["terminal", "retire-key", "shop1-till1"]].concat(),
    );
    assert!(ok, "{err}");
    let (ok, _, err) = hub_cli(
        &db,
        &[&k[..], &["terminal", "disable", "pp-till1"]].concat(),
    );
    assert!(ok, "{err}");
    let (ok, out, err) = hub_cli(&db, &[&k[..], &["terminal", "list"]].concat());
    assert!(ok, "{err}");
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list[0]["id"], "pp-till1");
    assert_eq!(list[0]["status"], "disabled");
    assert_eq!(list[1]["keys"][0]["status"], "retired");
    assert_eq!(list[1]["keys"][1]["status"], "active");
    assert!(!out.contains("whsec_"), "secrets never listed");
    let (ok, out, _) = hub_cli(&db, &["token", "add", "--label", "manager"]);
    assert!(ok && out.trim().starts_with("thr_"));
    let (ok, _, err) = hub_cli(&db, &["terminal", "add", "bad.id"]);
    assert!(!ok && err.contains("invalid terminal id"), "{err}");
}

fn mode_of(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// How a short `till-hub serve` went.
#[derive(Debug)]
enum Served {
    /// It ended (success?, its stderr).
    Exited(bool, String),
    /// It was listening (then it was killed).
    Listening,
}

/// Run `till-hub serve` on an ephemeral port until it ends or says it
/// listens (20 s at most).
fn serve_briefly(db: &str, extra: &[&str]) -> Served {
    use std::io::BufRead;
    let cwd = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_till-hub"))
        .arg("--database")
        .arg(db)
        .args(extra)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(cwd.path())
        .env_remove("TILL_HUB_DATABASE")
        .env_remove("TILL_HUB_SECRET_KEY")
        .env_remove("TILL_HUB_SECRET_KEY_FILE")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut err = String::new();
    let outcome = loop {
        while let Ok(line) = rx.try_recv() {
            err.push_str(&line);
            err.push('\n');
        }
        if err.contains("till-hub listening on") {
            break Served::Listening;
        }
        if let Some(status) = child.try_wait().unwrap() {
            reader.join().unwrap();
            while let Ok(line) = rx.try_recv() {
                err.push_str(&line);
                err.push('\n');
            }
            return Served::Exited(status.success(), err);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "serve neither listened nor ended in 20 s: {err}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    child.kill().unwrap();
    child.wait().unwrap();
    outcome
}

/// `till-hub init` makes the secret key file (0600, never overwritten); an
/// HMAC terminal needs it, the database then holds the secret only sealed,
/// and a missing or wrong key is refused with a clear message, `serve`
/// included.
#[test]
fn init_makes_the_secret_key_file_and_hmac_needs_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("hub.db").display());
    let key_path = dir.path().join("keys").join("secret.key");
    std::fs::create_dir(dir.path().join("keys")).unwrap();
    let key = key_path.display().to_string();
    let k = ["--secret-key-file", key.as_str()];

    // Without a key: no HMAC terminal, and the operator is told what to do.
    let (ok, _, err) = hub_cli(&db, &["terminal", "add", "t1", "--hmac"]);
    assert!(!ok, "an HMAC secret without a secret key");
    assert!(
        err.contains("no secret key") && err.contains("--secret-key-file") && err.contains("init"),
        "{err}"
    );
    // A named key file that does not exist is an error, not "no key".
    let (ok, _, err) = hub_cli(&db, &[&k[..], &["terminal", "list"]].concat());
    assert!(!ok && err.contains("secret.key"), "{err}");

    let (ok, _, err) = hub_cli(&db, &[&k[..], &["init"]].concat());
    assert!(ok, "{err}");
    assert!(err.contains("made now"), "{err}");
    assert_eq!(mode_of(&key_path), 0o600);
    let text = std::fs::read_to_string(&key_path).unwrap();
    assert!(text.starts_with("thk_"), "{text}");
    let (ok, _, err) = hub_cli(&db, &[&k[..], &["init"]].concat());
    assert!(ok && err.contains("kept"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&key_path).unwrap(),
        text,
        "never overwritten"
    );

    let (ok, out, err) = hub_cli(
        &db,
        &[&k[..], &["terminal", "add", "t1", "--hmac"]].concat(),
    );
    assert!(ok, "{err}");
    let secret = out.trim().to_string();
    assert!(secret.starts_with("whsec_"), "{out}");
    let b64 = &secret["whsec_".len()..];
    for f in ["hub.db", "hub.db-wal"] {
        let bytes = std::fs::read(dir.path().join(f)).unwrap_or_default();
        assert!(
            !bytes.windows(b64.len()).any(|w| w == b64.as_bytes()),
            "{f} holds the secret"
        );
    }
    // The key in the environment instead of a file.
    let (ok, out, err) = hub_cli_env(
        &db,
        &["terminal", "list"],
        &[("TILL_HUB_SECRET_KEY", text.trim())],
    );
    assert!(ok, "{err}");
    assert!(out.contains("\"hmac\""), "{out}");

    // Another key: refused, by name; serve does not start.
    let wrong = dir.path().join("wrong.key");
    let (ok, _, err) = hub_cli(
        &db,
        &["--secret-key-file", &wrong.display().to_string(), "init"],
    );
    assert!(
        !ok,
        "init with another key on a database sealed with the first"
    );
    assert!(err.contains("wrong key file"), "{err}");
    let wrong = wrong.display().to_string();
    match serve_briefly(&db, &["--secret-key-file", &wrong]) {
        Served::Exited(false, err) => assert!(err.contains("wrong key file"), "{err}"),
        other => panic!("serve with the wrong key must not start: {other:?}"),
    }
    // No key at all: serve does not start either.
    match serve_briefly(&db, &[]) {
        Served::Exited(false, err) => {
            assert!(
                err.contains("no secret key") && err.contains("init"),
                "{err}"
            )
        }
        other => panic!("serve without its key must not start: {other:?}"),
    }
    // With its key it serves.
    let served = serve_briefly(&db, &k);
    assert!(matches!(served, Served::Listening), "{served:?}");
}

/// M7: `till-hub terminal add ID` made a shared HMAC secret, which the hub
/// must then hold. A new terminal gets an ed25519 key instead: the hub keeps
/// only the public half and prints the private one once, for the terminal's
/// `hub.signing_key`.
#[test]
fn new_terminals_default_to_ed25519() {
    use std::str::FromStr;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("hub.db").display());
    let (ok, out, err) = hub_cli(&db, &["terminal", "add", "shop1-till1"]);
    assert!(ok, "{err}");
    assert!(
        out.trim().starts_with("whsk_"),
        "a new terminal should get an ed25519 key, not a shared secret: {out}"
    );
    assert!(err.contains("hub.signing_key"), "{err}");
    let first = till_sync_proto::SigningKey::from_str(out.trim()).unwrap();
    let (ok, out, err) = hub_cli(&db, &["terminal", "rotate", "shop1-till1"]);
    assert!(ok, "{err}");
    assert!(out.trim().starts_with("whsk_"), "{out}");
    let second = till_sync_proto::SigningKey::from_str(out.trim()).unwrap();
    let (ok, out, _) = hub_cli(&db, &["terminal", "list"]);
    assert!(ok);
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    let keys = &list[0]["keys"];
    for (i, k) in [first, second].iter().enumerate() {
        assert_eq!(keys[i]["kind"], "ed25519", "{out}");
        assert_eq!(
            keys[i]["public_key"],
            k.verifying_key().to_text().as_str(),
            "{out}"
        );
        // The hub's database never saw the private key.
        let seed = &k.to_text()["whsk_".len()..];
        let bytes = std::fs::read(dir.path().join("hub.db")).unwrap();
        let wal = std::fs::read(dir.path().join("hub.db-wal")).unwrap_or_default();
        for b in [bytes, wal] {
            assert!(!b.windows(seed.len()).any(|w| w == seed.as_bytes()));
        }
    }
}
