//! The `khqr` binary against the vectors: encode via stdin, decode verdicts
//! and exit codes, PNG/SVG output.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_khqr");

fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn khqr");
    {
        let mut pipe = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            pipe.write_all(s.as_bytes()).unwrap();
        }
    }
    child.wait_with_output().unwrap()
}

#[test]
fn encode_valid_vectors() {
    for v in common::load().valid {
        let clock = v.clock_ms.to_string();
        let out = run(&["encode", "--clock-ms", &clock], Some(v.inputs.get()));
        assert!(
            out.status.success(),
            "{}: {}",
            v.id,
            String::from_utf8_lossy(&out.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"qr": v.qr, "md5": v.md5}),
            "{}",
            v.id
        );
    }
}

#[test]
fn encode_refusals_exit_1_with_code() {
    for v in common::load().generation_errors {
        let clock = v.clock_ms.to_string();
        let out = run(&["encode", "--clock-ms", &clock], Some(v.inputs.get()));
        assert_eq!(out.status.code(), Some(1), "{}", v.id);
        assert!(out.stdout.is_empty(), "{}", v.id);
        let err = String::from_utf8_lossy(&out.stderr);
        let code = v.sdk_result.status.error_code.unwrap();
        assert!(err.contains(&format!("error {code}:")), "{}: {err}", v.id);
        assert!(
            err.contains(v.sdk_result.status.message.as_deref().unwrap()),
            "{}: {err}",
            v.id
        );
    }
    let out = run(&["encode"], Some("not json"));
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn encode_defaults_to_the_system_clock() {
    let out = run(
        &["encode"],
        Some(
            r#"{"kind":"individual","bakongAccountID":"a@devb","merchantName":"A","merchantCity":"","optional":{"currency":"840","amount":"1.5","expirationTimestamp":"4102444800000"}}"#,
        ),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let qr = json["qr"].as_str().unwrap();
    assert!(qr.contains("54041.50"), "{qr}");
    assert!(qr.contains("6010Phnom Penh"), "{qr}");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let created = khqr::decode(qr).creation_ms().unwrap();
    assert!(
        created.abs_diff(now) < 60_000,
        "creation {created} vs now {now}"
    );
}

#[test]
fn decode_valid_and_expired() {
    for v in common::load().valid {
        let at = v.verify_at_clock.at_ms.to_string();
        let out = run(&["decode", &v.qr, "--at-ms", &at], None);
        assert!(
            out.status.success(),
            "{}: {}",
            v.id,
            String::from_utf8_lossy(&out.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json, v.decode, "{}", v.id);
        if let Some(after) = &v.verify_after_expiry {
            let at = after.at_ms.to_string();
            let out = run(&["decode", &v.qr, "--at-ms", &at], None);
            assert_eq!(out.status.code(), Some(1), "{}", v.id);
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                err.contains("error 46") && err.contains("expired"),
                "{}: {err}",
                v.id
            );
        }
    }
}

#[test]
fn decode_invalid_exits_1() {
    for v in common::load().invalid {
        let at = v.verify_at_clock.at_ms.to_string();
        let out = run(&["decode", &v.qr, "--at-ms", &at], None);
        assert_eq!(out.status.code(), Some(1), "{}", v.id);
        assert!(out.stdout.is_empty(), "{}", v.id);
        let err = String::from_utf8_lossy(&out.stderr);
        let stage = v.verify_at_clock.stage.as_deref().unwrap();
        assert!(err.contains(&format!("stage {stage}")), "{}: {err}", v.id);
        if let Some(code) = v.verify_at_clock.error_code {
            assert!(err.contains(&format!("error {code}")), "{}: {err}", v.id);
        }
    }
}

#[test]
fn png_and_svg_files() {
    let v = &common::load().valid[5];
    let dir = std::env::temp_dir().join(format!("khqr-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let png = dir.join("c.png");
    let out = run(
        &["png", &v.qr, "-o", png.to_str().unwrap(), "--size", "256"],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let img = image::open(&png).unwrap().to_luma8();
    assert!(img.width() >= 256);
    let (w, h) = (img.width() as usize, img.height() as usize);
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
        img.get_pixel(x as u32, y as u32).0[0]
    });
    let grids = prepared.detect_grids();
    assert_eq!(grids[0].decode().unwrap().1, v.qr);

    let svg = dir.join("c.svg");
    let out = run(&["svg", &v.qr, "-o", svg.to_str().unwrap()], None);
    assert!(out.status.success());
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg") && text.contains("viewBox"));
    let _ = std::fs::remove_dir_all(&dir);
}
