//! The `till-hub` binary's administration commands against a SQLite file.

use std::process::Command;

fn hub(db: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_till-hub"))
        .arg("--database")
        .arg(db)
        .args(args)
        .env_remove("TILL_HUB_DATABASE")
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
    let (ok, out, err) = hub(
        &db,
        &["terminal", "add", "shop1-till1", "--name", "Counter 1"],
    );
    assert!(ok, "{err}");
    assert!(out.trim().starts_with("whsec_"), "{out}");
    let (ok, _, _) = hub(&db, &["terminal", "add", "shop1-till1"]);
    assert!(!ok, "adding twice must fail");
    let pk = till_sync_proto::generate_ed25519_keypair().public.to_text();
    let (ok, out, err) = hub(&db, &["terminal", "add", "pp-till1", "--public-key", &pk]);
    assert!(ok, "{err}");
    assert!(out.trim().is_empty(), "no secret printed for a public key");
    let (ok, out, _) = hub(&db, &["terminal", "rotate", "shop1-till1"]);
    assert!(ok && out.trim().starts_with("whsec_"));
    let (ok, _, err) = hub(&db, &["terminal", "retire-key", "shop1-till1"]);
    assert!(ok, "{err}");
    let (ok, _, err) = hub(&db, &["terminal", "disable", "pp-till1"]);
    assert!(ok, "{err}");
    let (ok, out, _) = hub(&db, &["terminal", "list"]);
    assert!(ok);
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list[0]["id"], "pp-till1");
    assert_eq!(list[0]["status"], "disabled");
    assert_eq!(list[1]["keys"][0]["status"], "retired");
    assert_eq!(list[1]["keys"][1]["status"], "active");
    assert!(!out.contains("whsec_"), "secrets never listed");
    let (ok, out, _) = hub(&db, &["token", "add", "--label", "manager"]);
    assert!(ok && out.trim().starts_with("thr_"));
    let (ok, _, err) = hub(&db, &["terminal", "add", "bad.id"]);
    assert!(!ok && err.contains("invalid terminal id"), "{err}");
}
