//! Hub load test: 500 simulated terminals sync a business day's traffic
//! into an in-process hub on PostgreSQL (a throwaway server, fsync on) over
//! loopback HTTP, while readers use the read API and the evidence endpoint
//! the whole time. Bounded: a fixed number of events, loopback only.
//!
//! Each terminal (an ed25519 key, as `till-hub terminal add` makes by
//! default) sends its day — settlements over three wallets, some refunds,
//! the Z-report last — in signed batches of 1 to 20 events, as a terminal's
//! sync does after short outages; one batch in twenty is sent again (a lost
//! answer), so the duplicate path is taken under load. Meanwhile one reader
//! per route reads it again and again — `/v1/totals`, `/v1/settlements`,
//! `/v1/days`, `/v1/terminals`, a terminal's gaps and `/v1/evidence` (the
//! IPN side on, so the reference index is caught up while ingest runs) — as
//! an office dashboard would.
//!
//! The first half of the day is sent as fast as it goes (every terminal
//! back online at once), the second at a steady pace (500 events/s for the
//! whole shop together, each terminal a batch every ~10 s).
//!
//! Prints the ingest rate, the request and read latencies (p50/p95) of each
//! phase, and
//! checks afterwards: events stored = unique events sent, no duplicate, every
//! terminal contiguous, the day's totals equal to what the terminals sent.
//!
//! `cargo bench -p till-hub --bench load` measures (500 terminals × 117
//! events: 110 sales, 6 refunds, the Z-report); without `--bench` (as
//! `cargo test --all-targets` runs it) it is a small smoke run (50 terminals
//! × 10 events).

#[path = "../tests/it/pg.rs"]
#[allow(dead_code)]
mod pg;
mod support;

use chrono::{DateTime, FixedOffset, NaiveDate};
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{pct, post};
use till_hub::evidence::bkash_ipn::IpnConfig;
use till_hub::{HubConfig, HubHandle, NewKey};
use till_sync_proto::{new_event_id, Batch, Event, Payment, References, Refund, Signer};

const TOKEN: &str = "load-bench-read-token";
const PROVIDERS: [(&str, &str); 3] = [("bkash", "BDT"), ("bakong", "USD"), ("nagad", "BDT")];

struct Scale {
    terminals: usize,
    /// Settlements per terminal (refunds and the Z-report come on top).
    sales: u64,
    /// Events per second all terminals together send in the steady phase.
    steady_rate: f64,
}

/// Now, in Bangladesh time: the day is today's and every payment is recent
/// (within the IPN grace period, so the evidence is "awaiting", not a list
/// of tens of thousands of missing IPNs).
fn base() -> DateTime<FixedOffset> {
    static BASE: std::sync::OnceLock<DateTime<FixedOffset>> = std::sync::OnceLock::new();
    *BASE
        .get_or_init(|| chrono::Utc::now().with_timezone(&FixedOffset::east_opt(6 * 3600).unwrap()))
}

fn day() -> NaiveDate {
    base().date_naive()
}

/// `n` seconds after [`base`] (order within the day).
fn at(n: u64) -> DateTime<FixedOffset> {
    base() + chrono::Duration::seconds(n as i64)
}

/// One terminal's day: its events in sequence order, and its totals.
fn terminal_day(tid: &str, sales: u64, rng: &mut impl Rng) -> (Vec<(String, Event)>, Vec<Totals>) {
    let mut events = Vec::new();
    let mut totals: BTreeMap<(String, String), Totals> = BTreeMap::new();
    let mut seq = 0;
    for n in 0..sales {
        // 60 % bKash, 30 % Bakong, 10 % Nagad.
        let (provider, currency) = PROVIDERS[match n % 10 {
            0..=5 => 0,
            6..=8 => 1,
            _ => 2,
        }];
        let cents: i64 = rng.random_range(100..500_000);
        let amount = Decimal::new(cents, 2);
        seq += 1;
        let payment = Payment {
            id: format!("{tid}-{n:06}"),
            provider: provider.into(),
            invoice: Some(format!("{tid}-{n:06}")),
            amount,
            currency: currency.into(),
            references: References {
                lookup: Some(format!("L{tid}{n:06}")),
                transaction: Some(format!("T{tid}{n:06}")),
                external: None,
            },
            created_at: at(n * 4),
            settled_at: at(n * 4),
            payee: Some(format!("{provider}-merchant")),
        };
        let t = totals
            .entry((provider.into(), currency.into()))
            .or_insert_with(|| Totals::new(provider, currency));
        t.count += 1;
        t.settled += amount;
        events.push((
            new_event_id(),
            Event::payment_settled(tid, seq, at(n * 4), day(), payment.clone()),
        ));
        if n % 20 == 7 {
            seq += 1;
            let part = (amount / Decimal::from(2)).round_dp(2);
            t.refund_count += 1;
            t.refunded += part;
            events.push((
                new_event_id(),
                Event::payment_refunded(
                    tid,
                    seq,
                    at(n * 4 + 1),
                    day(),
                    payment,
                    Refund {
                        id: format!("{tid}-r{n:06}"),
                        amount: part,
                        currency: currency.into(),
                        provider_refund_id: Some(format!("R{tid}{n:06}")),
                        refunded_at: at(n * 4 + 1),
                        total_refunded: part,
                    },
                ),
            ));
        }
    }
    let totals: Vec<Totals> = totals.into_values().collect();
    seq += 1;
    let z = serde_json::json!({
        "closed_at": at(sales * 4 + 10).to_rfc3339(),
        "closed_by": "manager",
        "report_sha256": "0".repeat(64),
        "totals": totals.iter().map(Totals::json).collect::<Vec<_>>(),
    });
    events.push((
        new_event_id(),
        Event::day_closed(tid, seq, at(sales * 4 + 10), day(), z),
    ));
    (events, totals)
}

#[derive(Clone)]
struct Totals {
    provider: String,
    currency: String,
    count: u64,
    settled: Decimal,
    refund_count: u64,
    refunded: Decimal,
}

impl Totals {
    fn new(provider: &str, currency: &str) -> Totals {
        Totals {
            provider: provider.into(),
            currency: currency.into(),
            count: 0,
            settled: Decimal::ZERO,
            refund_count: 0,
            refunded: Decimal::ZERO,
        }
    }
    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "provider": self.provider, "currency": self.currency, "count": self.count,
            "settled": format!("{:.2}", self.settled), "refund_count": self.refund_count,
            "refunded": format!("{:.2}", self.refunded),
            "net": format!("{:.2}", self.settled - self.refunded),
        })
    }
}

struct Sent {
    requests: Vec<Duration>,
    events_sent: u64,
    unique: u64,
}

/// Post a batch, signed by the terminal.
async fn post_batch(http: &reqwest::Client, url: &str, signer: &Signer, batch: &Batch) -> Duration {
    post(
        http,
        url,
        signer,
        &batch.webhook_id().unwrap(),
        batch.to_json(),
    )
    .await
}

/// One terminal syncs `events` in batches of 1–20; one in twenty is re-sent.
/// `pace`: the mean time between its batches (`None`: as fast as it can,
/// like a terminal coming back after an outage).
async fn sync(
    http: reqwest::Client,
    base: String,
    tid: String,
    signer: Arc<Signer>,
    events: Vec<(String, Event)>,
    pace: Option<Duration>,
    seed: u64,
) -> Sent {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let url = format!("{base}/v1/terminals/{tid}/batch");
    let mut sent = Sent {
        requests: Vec::new(),
        events_sent: 0,
        unique: events.len() as u64,
    };
    if let Some(p) = pace {
        // Terminals do not start in step.
        tokio::time::sleep(p.mul_f64(rng.random_range(0.0..1.0))).await;
    }
    let mut rest = &events[..];
    while !rest.is_empty() {
        let n = rng.random_range(1..=20usize).min(rest.len());
        let batch = Batch::new(&tid, rest[..n].to_vec());
        rest = &rest[n..];
        let times = if rng.random_range(0..20) == 0 { 2 } else { 1 };
        for _ in 0..times {
            sent.requests
                .push(post_batch(&http, &url, &signer, &batch).await);
            sent.events_sent += n as u64;
        }
        if let (Some(p), false) = (pace, rest.is_empty()) {
            tokio::time::sleep(p.mul_f64(rng.random_range(0.5..1.5))).await;
        }
    }
    sent
}

/// A terminal's part of a phase: its id, its signer, its events.
type Part = (String, Arc<Signer>, Vec<(String, Event)>);

/// One phase of the day: every terminal sends its part.
struct PhaseResult {
    name: &'static str,
    elapsed: Duration,
    requests: Vec<Duration>,
    events_sent: u64,
    unique: u64,
}

async fn phase(
    name: &'static str,
    http: &reqwest::Client,
    base: &str,
    parts: Vec<Part>,
    pace: Option<Duration>,
    seed: u64,
) -> PhaseResult {
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for (i, (tid, signer, events)) in parts.into_iter().enumerate() {
        set.spawn(sync(
            http.clone(),
            base.to_owned(),
            tid,
            signer,
            events,
            pace,
            seed + i as u64,
        ));
    }
    let mut r = PhaseResult {
        name,
        elapsed: Duration::ZERO,
        requests: Vec::new(),
        events_sent: 0,
        unique: 0,
    };
    while let Some(s) = set.join_next().await {
        let s = s.unwrap();
        r.requests.extend(s.requests);
        r.events_sent += s.events_sent;
        r.unique += s.unique;
    }
    r.elapsed = started.elapsed();
    r.requests.sort();
    r
}

const ENDPOINTS: [&str; 6] = [
    "totals",
    "settlements",
    "days",
    "terminals",
    "gaps",
    "evidence",
];

fn read_path(kind: &str, terminal: &str) -> String {
    let d = day();
    match kind {
        "totals" => format!("/v1/totals?day={d}"),
        "settlements" => format!("/v1/settlements?day={d}&limit=100"),
        "days" => format!("/v1/days?day={d}&limit=50"),
        "terminals" => "/v1/terminals".into(),
        "gaps" => format!("/v1/terminals/{terminal}/gaps"),
        _ => format!("/v1/evidence?day={d}"),
    }
}

/// Read one route until `phase` is [`DONE`] (at least once); its latencies
/// by the phase they started in.
async fn reader(
    http: reqwest::Client,
    base: String,
    terminals: Arc<Vec<String>>,
    phase: Arc<AtomicU8>,
    kind: &'static str,
) -> (&'static str, [Vec<Duration>; 2]) {
    let mut out: [Vec<Duration>; 2] = Default::default();
    let mut i = 0;
    loop {
        let now = phase.load(Ordering::Relaxed);
        if now == DONE && !out[1].is_empty() {
            break;
        }
        let slot = if now == BURST { 0 } else { 1 };
        let path = read_path(kind, &terminals[i * 7 % terminals.len()]);
        let started = Instant::now();
        let resp = http
            .get(format!("{base}{path}"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("read");
        let status = resp.status();
        let body = resp.bytes().await.unwrap();
        assert!(status.is_success(), "{path}: {status}");
        assert!(!body.is_empty());
        out[slot].push(started.elapsed());
        i += 1;
    }
    (kind, out)
}

const BURST: u8 = 0;
const STEADY: u8 = 1;
const DONE: u8 = 2;
const _: () = assert!(STEADY == BURST + 1);

async fn setup(database: String, n: usize) -> (HubHandle, Vec<(String, Signer)>) {
    let mut config = HubConfig::new("127.0.0.1:0", database);
    config.read_tokens = vec![TOKEN.into()];
    // The IPN side on (nothing posts IPNs here): /v1/evidence then matches
    // every bKash settlement, which keeps the reference index busy.
    config.evidence.ipn = Some(IpnConfig::new(vec![
        "arn:aws:sns:ap-southeast-1:000000000000:bpt_bench".into(),
    ]));
    let hub = till_hub::start(config).await.expect("hub starts");
    let mut terminals = Vec::with_capacity(n);
    for i in 0..n {
        let id = format!("shop{:03}-till{}", i / 5, i % 5);
        let key = hub
            .admin()
            .add_terminal(&id, None, NewKey::GenerateEd25519)
            .await
            .unwrap()
            .secret
            .unwrap();
        terminals.push((id, Signer::new(vec![key]).unwrap()));
    }
    (hub, terminals)
}

fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    let scale = if measuring {
        Scale {
            terminals: 500,
            sales: 110,
            steady_rate: 500.0,
        }
    } else {
        Scale {
            terminals: 50,
            sales: 8,
            steady_rate: 2000.0,
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let pg = pg::PgServer::start(true);
    rt.block_on(async {
        let url = pg.fresh_database("load").await;
        let setup_started = Instant::now();
        let (hub, terminals) = setup(url, scale.terminals).await;
        let setup_secs = setup_started.elapsed().as_secs_f64();
        let mut rng = rand::rngs::StdRng::seed_from_u64(42);
        let mut expected: BTreeMap<(String, String), Totals> = BTreeMap::new();
        let mut first = Vec::new();
        let mut second = Vec::new();
        for (tid, signer) in terminals {
            let (mut events, totals) = terminal_day(&tid, scale.sales, &mut rng);
            for t in totals {
                let e = expected
                    .entry((t.provider.clone(), t.currency.clone()))
                    .or_insert_with(|| Totals::new(&t.provider, &t.currency));
                e.count += t.count;
                e.settled += t.settled;
                e.refund_count += t.refund_count;
                e.refunded += t.refunded;
            }
            let rest = events.split_off(events.len() / 2);
            let signer = Arc::new(signer);
            first.push((tid.clone(), signer.clone(), events));
            second.push((tid, signer, rest));
        }
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(scale.terminals + ENDPOINTS.len())
            .timeout(Duration::from_secs(300))
            .build()
            .unwrap();
        let base = hub.base_url();
        let names = Arc::new(first.iter().map(|(t, _, _)| t.clone()).collect::<Vec<_>>());
        let phase_now = Arc::new(AtomicU8::new(BURST));
        let mut readers = tokio::task::JoinSet::new();
        for kind in ENDPOINTS {
            readers.spawn(reader(
                http.clone(),
                base.clone(),
                names.clone(),
                phase_now.clone(),
                kind,
            ));
        }
        // The first half of the day as fast as it goes (every terminal back
        // online at once), the second at a steady pace.
        let burst = phase("burst: as fast as it goes", &http, &base, first, None, 1000).await;
        phase_now.store(STEADY, Ordering::Relaxed);
        let avg_batch = 10.5;
        let pace = Duration::from_secs_f64(scale.terminals as f64 * avg_batch / scale.steady_rate);
        let steady = phase(
            "steady: each terminal a batch every ~{pace}",
            &http,
            &base,
            second,
            Some(pace),
            5000,
        )
        .await;
        phase_now.store(DONE, Ordering::Relaxed);
        let mut reads: BTreeMap<&'static str, [Vec<Duration>; 2]> = BTreeMap::new();
        while let Some(r) = readers.join_next().await {
            let (k, v) = r.unwrap();
            reads.insert(k, v);
        }

        // What the hub holds.
        let store = hub.store();
        let stored = store.count_events(None).await.unwrap();
        let terminals_now = store.terminals().await.unwrap();
        let gaps = terminals_now
            .iter()
            .filter(|t| t.highest_contiguous != t.max_sequence)
            .count();
        let held = store
            .totals(&till_hub::store::TotalsQuery {
                terminal: None,
                day: Some(day()),
            })
            .await
            .unwrap();
        let totals_ok = expected.values().all(|e| {
            held.iter().any(|h| {
                h.provider == e.provider
                    && h.currency == e.currency
                    && h.count == e.count
                    && h.settled == e.settled
                    && h.refund_count == e.refund_count
                    && h.refunded == e.refunded
            })
        }) && held.len() == expected.len();
        let evidence_started = Instant::now();
        let f = till_hub::evidence::day_findings(
            &*store,
            &till_hub::evidence::EvidenceConfig {
                ipn: Some(IpnConfig::new(vec!["arn:bench".into()])),
                bakong: None,
            },
            day(),
            chrono::Utc::now(),
        )
        .await
        .unwrap();
        let evidence_secs = evidence_started.elapsed().as_secs_f64();
        let ipn = f.ipn.unwrap();
        hub.shutdown().await;

        println!(
            "\nLoad test{}: {} terminals (ed25519) syncing a day ({} events each) into PostgreSQL \
             (fsync on) over loopback HTTP, one reader per read route the whole time; 2 cores shared\n",
            if measuring { "" } else { " (smoke run)" },
            scale.terminals,
            (burst.unique + steady.unique) / scale.terminals as u64,
        );
        println!("| phase | events sent (re-sent) | unique | s | ingest events/s | batch requests | batch p50 ms | batch p95 ms |");
        println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        for r in [&burst, &steady] {
            let secs = r.elapsed.as_secs_f64();
            println!(
                "| {} | {} ({}) | {} | {:.1} | {:.0} | {} | {:.1} | {:.1} |",
                r.name.replace("{pace}", &format!("{:.1} s", pace.as_secs_f64())),
                r.events_sent,
                r.events_sent - r.unique,
                r.unique,
                secs,
                r.unique as f64 / secs,
                r.requests.len(),
                pct(&r.requests, 0.50),
                pct(&r.requests, 0.95),
            );
        }
        let unique = burst.unique + steady.unique;
        println!("\n| unique events sent | stored | duplicates stored | terminals with gaps | day's totals match |");
        println!("| ---: | ---: | ---: | ---: | :---: |");
        println!(
            "| {unique} | {stored} | {} | {gaps} | {} |",
            stored as i64 - unique as i64,
            if totals_ok { "yes" } else { "NO" },
        );
        println!("\n| read route | burst: reads | p50 ms | p95 ms | steady: reads | p50 ms | p95 ms |");
        println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        for (k, mut v) in reads {
            for x in &mut v {
                x.sort();
            }
            println!(
                "| {} | {} | {:.1} | {:.1} | {} | {:.1} | {:.1} |",
                read_path(k, "{id}"),
                v[0].len(),
                pct(&v[0], 0.50),
                pct(&v[0], 0.95),
                v[1].len(),
                pct(&v[1], 0.50),
                pct(&v[1], 0.95),
            );
        }
        println!(
            "\nsetup (register {} terminals): {setup_secs:.1} s; the day's evidence after ingest \
             ({} bKash settlements set beside the IPNs held): {evidence_secs:.2} s",
            scale.terminals, ipn.settlements
        );
        assert_eq!(stored, unique, "events stored = unique events sent");
        assert_eq!(gaps, 0, "every terminal contiguous");
        assert!(totals_ok, "the day's totals are what the terminals sent");
    });
    drop(pg);
}
