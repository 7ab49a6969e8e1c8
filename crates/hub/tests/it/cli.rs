//! The `till-hub` binary's administration commands against a SQLite file.

use std::process::Command;

/// Run `till-hub --database DB ARGS…` in an empty working directory (so no
/// default key file is found by accident) with no `TILL_HUB_*` variables.
pub fn hub_cli(db: &str, args: &[&str]) -> (bool, String, String) {
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
    let (ok, out, err) = hub_cli(
        &db,
        &["terminal", "add", "shop1-till1", "--name", "Counter 1"],
    );
    assert!(ok, "{err}");
    assert!(out.trim().starts_with("whsec_"), "{out}");
    let (ok, _, _) = hub_cli(&db, &["terminal", "add", "shop1-till1"]);
    assert!(!ok, "adding twice must fail");
    let pk = till_sync_proto::generate_ed25519_keypair().public.to_text();
    let (ok, out, err) = hub_cli(&db, &["terminal", "add", "pp-till1", "--public-key", &pk]);
    assert!(ok, "{err}");
    assert!(out.trim().is_empty(), "no secret printed for a public key");
    let (ok, out, _) = hub_cli(&db, &["terminal", "rotate", "shop1-till1"]);
    assert!(ok && out.trim().starts_with("whsec_"));
    let (ok, _, err) = hub_cli(&db, &["terminal", "retire-key", "shop1-till1"]);
    assert!(ok, "{err}");
    let (ok, _, err) = hub_cli(&db, &["terminal", "disable", "pp-till1"]);
    assert!(ok, "{err}");
    let (ok, out, _) = hub_cli(&db, &["terminal", "list"]);
    assert!(ok);
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
