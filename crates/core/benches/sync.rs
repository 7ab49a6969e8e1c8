//! Sync catch-up benchmark: 100,000 outbox records (settled demo payments,
//! written straight into the journal in big transactions) delivered by the
//! engine's sync to an in-process `till-hub` over loopback HTTP, durably
//! stored (hub SQLite with synchronous=FULL; PostgreSQL with fsync on), on
//! each storage. Afterwards a count query at the hub checks that nothing was
//! stored twice. Prints a markdown table.
//!
//! `cargo bench -p till-core --bench sync` measures 100,000 records; without
//! `--bench` (as `cargo test --all-targets` runs it) it does a 2,000-record
//! smoke run. `TILL_SYNC_BENCH_RECORDS=N` overrides the count.

#[path = "../../hub/tests/it/pg.rs"]
#[allow(dead_code)]
mod pg;

use std::sync::Arc;
use std::time::{Duration, Instant};
use till_core::journal::{Journal, JournalContext};
use till_core::secrets::{names, Secret, SecretError, SecretStore};
use till_core::{Clock, Config, Engine, EngineOptions};
use till_hub::{HubConfig, NewKey};

/// The bench keeps its one key in memory (no keyring needed).
struct OneKey(String);

impl SecretStore for OneKey {
    fn get(&self, name: &str) -> Result<Option<Secret>, SecretError> {
        Ok((name == names::HUB_SECRET).then(|| Secret::new(self.0.clone())))
    }
    fn set(&self, _: &str, _: &Secret) -> Result<(), SecretError> {
        Ok(())
    }
    fn delete(&self, _: &str) -> Result<(), SecretError> {
        Ok(())
    }
}

struct Row {
    storage: &'static str,
    records: u64,
    batch: u32,
    elapsed: Duration,
    stored: u64,
    duplicates: i64,
    highest_contiguous: u64,
}

async fn run(storage: &'static str, database: String, records: u64, batch: u32) -> Row {
    let hub = till_hub::start(HubConfig::new("127.0.0.1:0", database.clone()))
        .await
        .expect("hub starts");
    let secret = hub
        .admin()
        .add_terminal("till-01", None, NewKey::GenerateHmac)
        .await
        .unwrap()
        .secret
        .unwrap()
        .to_text();
    let home = tempfile::tempdir().unwrap();
    let config = Config::from_layers(
        till_core::config::DEFAULTS_TOML,
        None,
        [
            ("TILL__HUB__URL".to_string(), hub.base_url()),
            ("TILL__HUB__BATCH_SIZE".to_string(), batch.to_string()),
            ("TILL__HUB__TIMEOUT_SECS".to_string(), "60".to_string()),
            ("TILL__BKASH__ENABLED".to_string(), "false".to_string()),
            ("TILL__BAKONG__ENABLED".to_string(), "false".to_string()),
        ]
        .into_iter(),
    )
    .unwrap();
    {
        let mut j = Journal::open(
            &home.path().join("journal.db"),
            JournalContext::from_config(&config).unwrap(),
        )
        .unwrap();
        j.bench_enqueue_settled(records, chrono::Utc::now())
            .unwrap();
    }
    // No background task: the measured pass is the only sender.
    let engine = Engine::open(EngineOptions {
        home: home.path().to_owned(),
        config,
        secrets: Arc::new(OneKey(secret)),
        clock: Clock::system(),
        background: false,
    })
    .await
    .unwrap();
    assert_eq!(engine.sync_state().unwrap().queue_length, records);
    let start = Instant::now();
    let state = engine.sync_now().await.unwrap();
    let elapsed = start.elapsed();
    assert_eq!(state.queue_length, 0, "{state:#?}");
    assert_eq!(state.dead_letters, 0, "{state:#?}");
    let stored = hub.store().count_events(Some("till-01")).await.unwrap();
    let duplicates = duplicates(&database).await;
    let highest_contiguous = hub
        .store()
        .progress("till-01")
        .await
        .unwrap()
        .unwrap()
        .highest_contiguous;
    engine.shutdown().await;
    hub.shutdown().await;
    Row {
        storage,
        records,
        batch,
        elapsed,
        stored,
        duplicates,
        highest_contiguous,
    }
}

/// Rows beyond one per (terminal, sequence) and per payment: 0 when each
/// record is stored exactly once.
const DUPLICATES_SQL: &str = "SELECT (SELECT COUNT(*) FROM events) - (SELECT COUNT(*) FROM (SELECT DISTINCT terminal_id, sequence FROM events) s) + (SELECT COUNT(*) FROM events) - (SELECT COUNT(*) FROM (SELECT DISTINCT payment_id FROM events) p)";

async fn duplicates(database: &str) -> i64 {
    if database.starts_with("postgres") {
        let (client, conn) = tokio_postgres::connect(database, tokio_postgres::NoTls)
            .await
            .unwrap();
        let task = tokio::spawn(conn);
        let n: i64 = client.query_one(DUPLICATES_SQL, &[]).await.unwrap().get(0);
        drop(client);
        let _ = task.await;
        n
    } else {
        let path = database.strip_prefix("sqlite://").unwrap().to_owned();
        tokio::task::spawn_blocking(move || {
            rusqlite::Connection::open(path)
                .unwrap()
                .query_row(DUPLICATES_SQL, [], |r| r.get(0))
                .unwrap()
        })
        .await
        .unwrap()
    }
}

fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    let records: u64 = std::env::var("TILL_SYNC_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if measuring { 100_000 } else { 2_000 });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut rows = Vec::new();
    rt.block_on(async {
        for batch in [500, 1000] {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}", dir.path().join("hub.db").display());
            rows.push(run("SQLite", url, records, batch).await);
        }
        let server = tokio::task::spawn_blocking(|| pg::PgServer::start(true))
            .await
            .unwrap();
        for batch in [500, 1000] {
            let url = server.fresh_database("syncbench").await;
            rows.push(run("PostgreSQL", url, records, batch).await);
        }
        drop(server);
    });
    println!();
    println!("| hub storage | records | batch | wall time | records/s | stored at hub | duplicates at hub | hub highest contiguous |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for r in &rows {
        println!(
            "| {} | {} | {} | {:.2} s | {:.0} | {} | {} | {} |",
            r.storage,
            r.records,
            r.batch,
            r.elapsed.as_secs_f64(),
            r.records as f64 / r.elapsed.as_secs_f64(),
            r.stored,
            r.duplicates,
            r.highest_contiguous
        );
    }
    for r in &rows {
        assert_eq!(
            r.stored, r.records,
            "{} stored {} of {}",
            r.storage, r.stored, r.records
        );
        assert_eq!(r.duplicates, 0, "{}: duplicates stored", r.storage);
        assert_eq!(r.highest_contiguous, r.records);
    }
}
