//! Benchmarks of the terminal core (a table, not a timed test):
//!
//! 1. durable state transitions per second and their latency (journal on
//!    disk: WAL, `synchronous=FULL`);
//! 2. Bakong detection latency: the customer pays in the sandbox → the
//!    engine's `settled` event, under the default poll schedule, and the
//!    Bakong requests that cost per payment.
//!
//! `cargo bench -p till-core --bench engine` (`TILL_BENCH_PAYMENTS` sets the
//! number of KHQR payments, default 30).

use chrono::Utc;
use std::sync::Arc;
use std::time::{Duration, Instant};
use till_core::journal::payments::{Change, NewPayment};
use till_core::journal::{Journal, JournalContext};
use till_core::secrets::{names, EnvOverlay, KeyringStore, Secret, SecretStore};
use till_core::{
    Amount, Clock, Config, Currency, Engine, EngineEvent, EngineOptions, PaymentState, ProviderKind,
};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn transitions(n: usize) -> Vec<(String, String)> {
    let dir = tempfile::tempdir().unwrap();
    let ctx = JournalContext::from_config(&Config::defaults()).unwrap();
    let mut j = Journal::open(&dir.path().join("journal.db"), ctx).unwrap();
    let mut lat = Vec::with_capacity(n * 3);
    let start = Instant::now();
    for i in 0..n {
        let t = Instant::now();
        let p = j
            .create_payment::<std::convert::Infallible>(
                NewPayment {
                    id: ulid::Ulid::new().to_string(),
                    provider: ProviderKind::Demo,
                    amount: Amount::parse(&format!("{}.25", i + 1), Currency::Bdt).unwrap(),
                    operator: "bench".into(),
                    at: Utc::now(),
                    origin: None,
                },
                |_, _| Ok(Change::default()),
            )
            .unwrap()
            .unwrap();
        lat.push(t.elapsed());
        for to in [PaymentState::AwaitingCustomer, PaymentState::Settled] {
            let t = Instant::now();
            j.transition(&p.id, to, &Change::default(), None, Utc::now())
                .unwrap();
            lat.push(t.elapsed());
        }
    }
    let wall = start.elapsed();
    lat.sort();
    let count = lat.len();
    vec![
        (
            "durable transitions (create + 2 state changes, each one fsynced transaction)".into(),
            count.to_string(),
        ),
        ("wall time".into(), format!("{:.2} s", wall.as_secs_f64())),
        (
            "transitions per second".into(),
            format!("{:.0}", count as f64 / wall.as_secs_f64()),
        ),
        (
            "latency p50".into(),
            format!("{:.2} ms", percentile(&lat, 0.50).as_secs_f64() * 1e3),
        ),
        (
            "latency p99".into(),
            format!("{:.2} ms", percentile(&lat, 0.99).as_secs_f64() * 1e3),
        ),
        (
            "latency max".into(),
            format!("{:.2} ms", lat.last().unwrap().as_secs_f64() * 1e3),
        ),
    ]
}

async fn detection(payments: usize) -> Vec<(String, String)> {
    let sandbox = till_sandbox::start(till_sandbox::Config::default())
        .await
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let service = format!("till-bench-{}", ulid::Ulid::new());
    let store = KeyringStore::new(service.clone());
    let token = sandbox.bakong_token();
    // Headless runs may take secrets from the environment; the keyring is tried first here.
    let secrets: Arc<dyn SecretStore> = match store
        .set(names::BAKONG_TOKEN, &Secret::new(token.clone()))
    {
        Ok(()) => Arc::new(KeyringStore::new(service.clone())),
        Err(_) => {
            // SAFETY: single-threaded set-up before any engine task runs.
            unsafe { std::env::set_var(till_core::secrets::env_name(names::BAKONG_TOKEN), &token) };
            Arc::new(EnvOverlay::new(KeyringStore::new(service.clone())))
        }
    };
    let config = Config::from_layers(
        till_core::config::DEFAULTS_TOML,
        None,
        [
            (
                "TILL__BAKONG__BASE_URL".to_string(),
                sandbox.bakong_base_url(),
            ),
            ("TILL__BKASH__ENABLED".to_string(), "false".to_string()),
        ]
        .into_iter(),
    )
    .unwrap();
    let schedule = format!(
        "fast {} ms for {} s, then {} ms; ≥ {} ms between requests",
        config.bakong.fast_interval_ms,
        config.bakong.fast_window_secs,
        config.bakong.slow_interval_ms,
        config.bakong.min_request_gap_ms
    );
    let engine = Engine::open(EngineOptions {
        home: home.path().to_owned(),
        config,
        secrets,
        clock: Clock::system(),
        background: true,
    })
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let mut rx = engine.subscribe();
    let mut latencies = Vec::new();
    let mut waits = Vec::new();
    let started = Instant::now();
    // Customers pay between 2 and 12 s after the code is shown, a few codes at a time.
    let mut pending = Vec::new();
    for i in 0..payments {
        let c = engine
            .charge(
                ProviderKind::Bakong,
                Amount::parse(&format!("{}", 4000 + i * 100), Currency::Khr).unwrap(),
                "bench",
            )
            .await
            .unwrap();
        let till_core::CustomerStep::Code { code: khqr, .. } = c.step else {
            unreachable!()
        };
        let delay = Duration::from_millis(2000 + (i as u64 * 7919) % 10_000);
        pending.push((c.payment.id.clone(), khqr, Instant::now() + delay));
        waits.push(delay);
        if i % 5 == 4 {
            tokio::time::sleep(Duration::from_millis(700)).await;
        }
    }
    pending.sort_by_key(|(_, _, at)| *at);
    let mut paid_at = std::collections::HashMap::new();
    let mut next = 0;
    while latencies.len() < payments {
        let until_next = pending
            .get(next)
            .map(|(_, _, at)| at.saturating_duration_since(Instant::now()));
        tokio::select! {
            _ = tokio::time::sleep(until_next.unwrap_or(Duration::from_secs(3600))), if until_next.is_some() => {
                let (id, qr, _) = &pending[next];
                let r = http
                    .post(format!("{}/sim/bakong/pay", sandbox.origin()))
                    .json(&serde_json::json!({"qr": qr, "fromAccountId": "bench@aclb"}))
                    .send()
                    .await
                    .unwrap();
                assert!(r.status().is_success());
                paid_at.insert(id.clone(), Instant::now());
                next += 1;
            }
            ev = rx.recv() => {
                if let Ok(EngineEvent::Payment { payment }) = ev {
                    if payment.state == PaymentState::Settled {
                        if let Some(at) = paid_at.get(&payment.id) {
                            latencies.push(at.elapsed());
                        }
                    }
                }
            }
        }
        if started.elapsed() > Duration::from_secs(180) {
            break;
        }
    }
    let stats = engine.poll_stats();
    engine.shutdown().await;
    let _ = store.delete(names::BAKONG_TOKEN);
    latencies.sort();
    vec![
        (
            "KHQR payments (paid 2–12 s after display)".into(),
            format!("{} of {payments} detected", latencies.len()),
        ),
        ("poll schedule".into(), schedule),
        (
            "detection latency p50 (pay → settled event)".into(),
            format!("{:.0} ms", percentile(&latencies, 0.5).as_secs_f64() * 1e3),
        ),
        (
            "detection latency p95".into(),
            format!("{:.0} ms", percentile(&latencies, 0.95).as_secs_f64() * 1e3),
        ),
        (
            "detection latency max".into(),
            format!(
                "{:.0} ms",
                latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3
            ),
        ),
        (
            "poll ticks / Bakong requests".into(),
            format!("{} / {}", stats.ticks, stats.requests),
        ),
        (
            "Bakong requests per payment".into(),
            format!("{:.2}", stats.requests as f64 / payments as f64),
        ),
        (
            "most requests in one tick".into(),
            stats.max_requests_in_a_tick.to_string(),
        ),
    ]
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` does not: then a quick smoke run.
    let full = std::env::args().any(|a| a == "--bench");
    let payments = std::env::var("TILL_BENCH_PAYMENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if full { 30 } else { 3 });
    let mut rows = transitions(if full { 2000 } else { 50 });
    let rt = tokio::runtime::Runtime::new().unwrap();
    rows.extend(rt.block_on(detection(payments)));
    println!("\n| measure | value |\n| --- | --- |");
    for (k, v) in rows {
        println!("| {k} | {v} |");
    }
}
