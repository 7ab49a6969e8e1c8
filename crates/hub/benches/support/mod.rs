//! What the hub's benchmarks share: posting a signed body the way a
//! terminal does, and percentiles.

use std::time::{Duration, Instant};
use till_sync_proto::Signer;

/// Sign `body` as webhook `id` now, post it to `url`, and return how long
/// the answer took (a non-2xx answer fails the benchmark).
pub async fn post(
    http: &reqwest::Client,
    url: &str,
    signer: &Signer,
    id: &str,
    body: Vec<u8>,
) -> Duration {
    let h = signer.headers(id, chrono::Utc::now().timestamp(), &body);
    let started = Instant::now();
    let mut req = http
        .post(url)
        .header("content-type", "application/json")
        .body(body);
    for (k, v) in h.pairs() {
        req = req.header(k, v);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    let text = resp.text().await.unwrap();
    assert!(status.is_success(), "{status}: {text}");
    started.elapsed()
}

/// The `p` percentile (0–1) of sorted durations, in milliseconds.
pub fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}
