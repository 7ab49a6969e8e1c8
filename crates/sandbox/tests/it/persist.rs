//! `--state FILE`: the world survives a restart.

use crate::util::*;
use serde_json::json;
use till_sandbox::Config;

#[tokio::test]
async fn state_survives_restart() {
    let dir = std::env::temp_dir().join(format!("till-sandbox-state-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("state.sqlite");
    let _ = std::fs::remove_file(&file);
    let cfg = Config {
        state_file: Some(file.clone()),
        ..Config::default()
    };

    let sb = start_with(cfg.clone()).await;
    let token = sb.grant().await;
    let (pid, trx) = sb.paid_checkout(&token, "55", "P-1", "01770618575").await;
    sb.h.shutdown().await;

    let sb = start_with(cfg).await;
    // The old token is still valid, the payment still completed.
    let s = sb
        .bk_ok("payment/status", &token, json!({"paymentID": pid}))
        .await;
    assert_eq!(s["transactionStatus"], "Completed");
    assert_eq!(s["trxID"], trx.as_str());
    assert_eq!(
        sb.ledger().await["bkash"]["payments"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    sb.h.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
