//! The `till-sandbox` binary: flags, TOML settings, serving.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[tokio::test]
async fn binary_serves_with_a_toml_file() {
    let dir = std::env::temp_dir().join(format!("till-sandbox-bin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let toml = dir.join("sandbox.toml");
    std::fs::write(
        &toml,
        "[bkash]\nusername = \"binUser\"\n[[fault]]\nendpoint = \"bakong.renew_token\"\nkind = \"status\"\nstatus = 502\ntimes = 1\n",
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_till-sandbox"))
        .args(["--listen", "127.0.0.1:0", "--seed", "5", "--faults"])
        .arg(&toml)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let origin = first.trim().rsplit(' ').next().unwrap().to_string();
    assert!(origin.starts_with("http://127.0.0.1:"), "{first}");
    let http = reqwest::Client::new();
    let info: serde_json::Value = http
        .get(format!("{origin}/sim/info"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["bkash"]["username"], "binUser");
    let r = http
        .post(format!("{origin}/v1/renew_token"))
        .json(&serde_json::json!({"email": "dev@till.test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    let r = http
        .post(format!("{origin}/v1/renew_token"))
        .json(&serde_json::json!({"email": "dev@till.test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    child.kill().unwrap();
    child.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
