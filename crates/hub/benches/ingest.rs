//! Hub ingest benchmark: 50 simulated terminals post signed events
//! concurrently to an in-process hub over loopback HTTP, one event per request
//! and in batches of 100, on SQLite and on PostgreSQL (a throwaway server with
//! fsync on, like SQLite's synchronous=FULL). About one event in ten is sent
//! twice to exercise the duplicate path; a count query afterwards checks that
//! no duplicate was stored. Prints a markdown table.
//!
//! `cargo bench -p till-hub --bench ingest` measures; without `--bench` (as
//! `cargo test --all-targets` runs it) it does a tiny smoke run.

#[path = "../tests/it/pg.rs"]
#[allow(dead_code)]
mod pg;

use chrono::{DateTime, NaiveDate};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use till_hub::{HubConfig, HubHandle, NewKey};
use till_sync_proto::{new_event_id, Batch, Event, Payment, References, Signer};

const TERMINALS: usize = 50;

struct Scale {
    single_per_terminal: u64,
    batches_per_terminal: u64,
    batch_size: u64,
}

struct Row {
    storage: &'static str,
    mode: String,
    requests: usize,
    events_sent: u64,
    unique_events: u64,
    elapsed: Duration,
    latencies: Vec<Duration>,
    duplicates_stored: i64,
}

fn event(terminal: &str, seq: u64) -> Event {
    let at = DateTime::parse_from_rfc3339("2026-11-22T10:15:00+06:00").unwrap();
    Event::payment_settled(
        terminal,
        seq,
        at,
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(),
        Payment {
            id: format!("{terminal}-p{seq}"),
            provider: "bkash".into(),
            amount: rust_decimal::Decimal::from_str("12.50").unwrap(),
            currency: "BDT".into(),
            references: References {
                lookup: Some(format!("TR{seq:010}")),
                transaction: Some(format!("BFM{seq:08}")),
                external: None,
            },
            created_at: at,
            settled_at: at,
            payee: Some("merchant-0123456789abcdef".into()),
            invoice: None,
        },
    )
}

async fn setup(database: String) -> (HubHandle, Vec<(String, Arc<Signer>)>) {
    let hub = till_hub::start(HubConfig::new("127.0.0.1:0", database))
        .await
        .expect("hub starts");
    let mut terminals = Vec::new();
    for i in 0..TERMINALS {
        let id = format!("shop{}-till{}", i / 5, i % 5);
        let secret = hub
            .admin()
            .add_terminal(&id, None, NewKey::GenerateHmac)
            .await
            .unwrap()
            .secret
            .unwrap();
        terminals.push((id, Arc::new(Signer::new(vec![secret]).unwrap())));
    }
    (hub, terminals)
}

async fn post(
    http: &reqwest::Client,
    url: String,
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

/// Each terminal sends `n` events one per request, and re-sends every tenth.
async fn run_single(
    storage: &'static str,
    hub: &HubHandle,
    terminals: &[(String, Arc<Signer>)],
    n: u64,
) -> Row {
    let before = hub.store().count_events(None).await.unwrap();
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for (tid, signer) in terminals {
        let (tid, signer, base) = (tid.clone(), signer.clone(), hub.base_url());
        set.spawn(async move {
            let http = reqwest::Client::new();
            let url = format!("{base}/v1/terminals/{tid}/events");
            let mut lat = Vec::new();
            let mut sent = 0u64;
            for seq in 1..=n {
                let id = new_event_id();
                let body = event(&tid, seq).to_json();
                lat.push(post(&http, url.clone(), &signer, &id, body.clone()).await);
                sent += 1;
                if seq % 10 == 0 {
                    lat.push(post(&http, url.clone(), &signer, &id, body).await);
                    sent += 1;
                }
            }
            (lat, sent)
        });
    }
    let mut latencies = Vec::new();
    let mut events_sent = 0;
    while let Some(r) = set.join_next().await {
        let (lat, sent) = r.unwrap();
        latencies.extend(lat);
        events_sent += sent;
    }
    let elapsed = started.elapsed();
    let unique = n * TERMINALS as u64;
    let stored = hub.store().count_events(None).await.unwrap() - before;
    Row {
        storage,
        mode: "single event".into(),
        requests: latencies.len(),
        events_sent,
        unique_events: unique,
        elapsed,
        latencies,
        duplicates_stored: stored as i64 - unique as i64,
    }
}

/// Each terminal sends `batches` batches of `size`; every batch after the
/// first repeats the previous batch's last tenth.
async fn run_batch(
    storage: &'static str,
    hub: &HubHandle,
    terminals: &[(String, Arc<Signer>)],
    batches: u64,
    size: u64,
    first_seq: u64,
) -> Row {
    let before = hub.store().count_events(None).await.unwrap();
    let overlap = size / 10;
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for (tid, signer) in terminals {
        let (tid, signer, base) = (tid.clone(), signer.clone(), hub.base_url());
        set.spawn(async move {
            let http = reqwest::Client::new();
            let url = format!("{base}/v1/terminals/{tid}/batch");
            let mut lat = Vec::new();
            let mut sent = 0u64;
            let mut carried: Vec<(String, Event)> = Vec::new();
            let mut next = first_seq;
            for _ in 0..batches {
                let mut items = std::mem::take(&mut carried);
                while (items.len() as u64) < size {
                    items.push((new_event_id(), event(&tid, next)));
                    next += 1;
                }
                carried = items[items.len() - overlap as usize..].to_vec();
                sent += items.len() as u64;
                let batch = Batch::new(&tid, items);
                let id = batch.webhook_id().unwrap();
                lat.push(post(&http, url.clone(), &signer, &id, batch.to_json()).await);
            }
            (lat, sent, next - first_seq)
        });
    }
    let mut latencies = Vec::new();
    let mut events_sent = 0;
    let mut unique = 0;
    while let Some(r) = set.join_next().await {
        let (lat, sent, u) = r.unwrap();
        latencies.extend(lat);
        events_sent += sent;
        unique += u;
    }
    let elapsed = started.elapsed();
    let stored = hub.store().count_events(None).await.unwrap() - before;
    Row {
        storage,
        mode: format!("batch of {size}"),
        requests: latencies.len(),
        events_sent,
        unique_events: unique,
        elapsed,
        latencies,
        duplicates_stored: stored as i64 - unique as i64,
    }
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

async fn bench(storage: &'static str, database: String, scale: &Scale) -> Vec<Row> {
    let (hub, terminals) = setup(database).await;
    let single = run_single(storage, &hub, &terminals, scale.single_per_terminal).await;
    let batch = run_batch(
        storage,
        &hub,
        &terminals,
        scale.batches_per_terminal,
        scale.batch_size,
        scale.single_per_terminal + 1,
    )
    .await;
    hub.shutdown().await;
    vec![single, batch]
}

fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    let scale = if measuring {
        Scale {
            single_per_terminal: 40,
            batches_per_terminal: 5,
            batch_size: 100,
        }
    } else {
        Scale {
            single_per_terminal: 2,
            batches_per_terminal: 2,
            batch_size: 10,
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pg = pg::PgServer::start(true);
    let mut rows = Vec::new();
    rt.block_on(async {
        let sqlite = format!("sqlite://{}", dir.path().join("bench.db").display());
        rows.extend(bench("SQLite", sqlite, &scale).await);
        let url = pg.fresh_database("bench").await;
        rows.extend(bench("PostgreSQL", url, &scale).await);
    });
    drop(pg);

    println!(
        "\n{TERMINALS} concurrent terminals, in-process hub over loopback HTTP{}\n",
        if measuring { "" } else { " (smoke run)" }
    );
    println!("| storage | mode | requests | events sent (dups) | elapsed s | events/s | p50 ms | p99 ms | duplicates stored |");
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut bad = false;
    for mut r in rows {
        r.latencies.sort();
        let secs = r.elapsed.as_secs_f64();
        println!(
            "| {} | {} | {} | {} ({}) | {:.2} | {:.0} | {:.1} | {:.1} | {} |",
            r.storage,
            r.mode,
            r.requests,
            r.events_sent,
            r.events_sent - r.unique_events,
            secs,
            r.events_sent as f64 / secs,
            pct(&r.latencies, 0.50),
            pct(&r.latencies, 0.99),
            r.duplicates_stored,
        );
        bad |= r.duplicates_stored != 0;
    }
    assert!(!bad, "a duplicate was stored (or an event lost)");
}
