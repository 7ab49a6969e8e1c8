//! Read tokens made, listed and revoked with the `till-hub` binary while a
//! hub serves on the same database.

use crate::both;
use crate::cli::hub_cli;
use crate::harness::*;

async fn cli(db: &str, args: &[&str]) -> (bool, String, String) {
    let (db, args): (String, Vec<String>) =
        (db.to_string(), args.iter().map(|a| a.to_string()).collect());
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        hub_cli(&db, &args)
    })
    .await
    .unwrap()
}

fn listed(out: &str) -> Vec<serde_json::Value> {
    serde_json::from_str::<serde_json::Value>(out)
        .unwrap_or_else(|e| panic!("token list is not JSON ({e}): {out}"))
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("token list is not a JSON array: {out}"))
}

/// M7: a read token, once made, could be neither seen nor taken back.
/// `till-hub token list` shows id, label, created and last used (never the
/// token); `till-hub token revoke ID` refuses it from the next request on,
/// in the hub that is running.
async fn read_tokens_can_be_listed_and_revoked(b: Backend) {
    let t = TestHub::start(b).await;
    let db = t.database().to_string();
    let (ok, out, err) = cli(&db, &["token", "add", "--label", "ops laptop"]).await;
    assert!(ok, "{err}");
    let token = out.trim().to_string();
    let (ok, out, err) = cli(&db, &["token", "add", "--label", "dashboard"]).await;
    assert!(ok, "{err}");
    let other = out.trim().to_string();
    assert_eq!(t.get("/v1/terminals", Some(&token)).await.status, 200);

    let (ok, out, err) = cli(&db, &["token", "list"]).await;
    assert!(ok, "token list: {err}");
    assert!(
        !out.contains(&token) && !out.contains(&till_hub::admin::token_hash(&token)),
        "the token (or its hash) is listed: {out}"
    );
    let list = listed(&out);
    assert_eq!(list.len(), 2, "{out}");
    let ops = list.iter().find(|r| r["label"] == "ops laptop").unwrap();
    let dash = list.iter().find(|r| r["label"] == "dashboard").unwrap();
    assert!(ops["id"].is_i64(), "{out}");
    assert!(ops["created_at"].is_string(), "{out}");
    assert!(ops["last_used_at"].is_string(), "used once: {out}");
    assert!(dash["last_used_at"].is_null(), "never used: {out}");
    assert_eq!(ops["status"], "active");

    let id = ops["id"].to_string();
    let (ok, _, err) = cli(&db, &["token", "revoke", &id]).await;
    assert!(ok, "token revoke: {err}");
    // Refused at once by the hub that is running, without a restart.
    let got = t.get("/v1/terminals", Some(&token)).await;
    assert_eq!(got.status, 401, "{}", got.json);
    assert_eq!(got.json["error"], "unauthorized");
    assert_eq!(t.get("/v1/terminals", Some(&other)).await.status, 200);
    let (_, out, _) = cli(&db, &["token", "list"]).await;
    let list = listed(&out);
    let ops = list.iter().find(|r| r["label"] == "ops laptop").unwrap();
    assert_eq!(ops["status"], "revoked", "{out}");
    assert!(ops["revoked_at"].is_string(), "{out}");
    // Still refused after a restart.
    let t = t.restart().await;
    assert_eq!(t.get("/v1/terminals", Some(&token)).await.status, 401);
    // An id that names no token is an error, not a silent success.
    let (ok, _, err) = cli(&db, &["token", "revoke", "99999"]).await;
    assert!(!ok && err.contains("99999"), "{err}");
    t.stop().await;
}
both!(read_tokens_can_be_listed_and_revoked);
