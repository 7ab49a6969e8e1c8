//! Fidelity against a client no one here wrote: PyPI `pybkash` runs grant →
//! create → customer pays via `/sim/bkash/checkout` → execute → query →
//! refund → search (and the agreement flow) against an in-process sandbox.
//! Skipped with a note when python3/venv/PyPI are unavailable, unless `CI` is set.

use crate::util::*;

#[tokio::test]
async fn pybkash_completes_its_flows() {
    let sb = start().await;
    let c = &sb.cfg().bkash;
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pybkash/run.sh");
    let out = tokio::process::Command::new("bash")
        .arg(&script)
        .args([
            sb.h.origin(),
            &c.username,
            &c.password,
            &c.app_key,
            &c.app_secret,
        ])
        .output()
        .await
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    if out.status.code() == Some(3) {
        if std::env::var_os("CI").is_some() {
            panic!("pybkash fidelity test cannot run under CI: {stderr}");
        }
        println!("NOTE: pybkash fidelity test skipped (python3/venv/PyPI unavailable): {stderr}");
        return;
    }
    assert!(
        out.status.success(),
        "pybkash failed against the sandbox:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("all flows passed"));
    sb.h.shutdown().await;
}
