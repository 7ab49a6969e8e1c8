//! The desktop app, measured (not asserted): the real binary under Xvfb,
//! driven through tauri-driver like the end-to-end tests.
//!
//! - cold start → cashier interactive (process start to the page's ready mark);
//! - charge → QR visible on the customer display (Enter on the cashier to the
//!   first frame painted with the code), p50/p95 over 50 charges;
//! - memory (RSS) of all the app's processes (the app and its WebKit
//!   processes) after 100 payments.
//!
//! `cargo bench -p till-tests --bench app` prints the table. Without `--bench`
//! it does a smoke run (1 start, 5 charges, 10 payments) so CI keeps it working.

use anyhow::{bail, Context, Result};
use fantoccini::{key::Key, Locator};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use till_tests::{AppOptions, AppSession};

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

async fn wait<T, F, Fut>(what: &str, within: Duration, mut f: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Ok(Some(v)) = f().await {
            return Ok(v);
        }
        if Instant::now() > deadline {
            bail!("{what}: not within {within:?}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn attr(app: &AppSession, id: &str, name: &str) -> Result<Option<String>> {
    Ok(app.client.find(Locator::Id(id)).await?.attr(name).await?)
}

async fn keys(app: &AppSession, k: &str) -> Result<()> {
    app.client
        .find(Locator::Id("amount"))
        .await?
        .send_keys(k)
        .await?;
    Ok(())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// RSS (KiB) of `root` and all its descendants, and how many processes.
fn tree_rss(root: u32) -> (u64, usize) {
    let mut parent = std::collections::HashMap::new();
    let mut rss = std::collections::HashMap::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
            continue;
        };
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        };
        if let Some(pp) = field("PPid:") {
            parent.insert(pid, pp as u32);
        }
        rss.insert(pid, field("VmRSS:").unwrap_or(0));
    }
    let in_tree = |mut p: u32| loop {
        if p == root {
            return true;
        }
        match parent.get(&p) {
            Some(&pp) if pp != 0 && pp != p => p = pp,
            _ => return false,
        }
    };
    let members: Vec<u32> = rss.keys().copied().filter(|p| in_tree(*p)).collect();
    (members.iter().map(|p| rss[p]).sum(), members.len())
}

/// The app's pid: the `till` process whose TILL_HOME is this session's.
fn app_pid(app: &AppSession) -> Result<u32> {
    let want = format!("TILL_HOME={}", app.till_home.display());
    for e in std::fs::read_dir("/proc")?.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
        if exe.file_name().map(|n| n == "till").unwrap_or(false) {
            let env = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
            if env.split(|b| *b == 0).any(|kv| kv == want.as_bytes()) {
                return Ok(pid);
            }
        }
    }
    bail!("no till process with {want}")
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let full = std::env::args().any(|a| a == "--bench");
    let (starts, charges, payments) = if full { (5, 50, 100) } else { (1, 5, 10) };
    let mode = if full {
        "full"
    } else {
        "smoke (run with `cargo bench` for the full run)"
    };

    // Cold start: a fresh data directory each time (demo mode: the in-process
    // sandbox and hub start too).
    let mut cold = Vec::new();
    for i in 0..starts {
        let t0 = now_ms();
        let app =
            AppSession::start_with(&format!("bench-start-{i}"), AppOptions::default()).await?;
        let ready: u64 = wait(
            "the cashier's ready mark",
            Duration::from_secs(60),
            || async {
                let body = app.client.find(Locator::Css("body")).await?;
                Ok(body
                    .attr("data-ready-at")
                    .await?
                    .and_then(|v| v.parse().ok()))
            },
        )
        .await?;
        cold.push((ready - t0) as f64);
        app.close().await?;
    }

    // Charge → QR visible, then the 100-payment memory run, in one session.
    let app = AppSession::start_with(
        "bench-run",
        AppOptions {
            env: vec![("TILL__DEMO__SETTLE_AFTER_MS".into(), "20".into())],
            till_toml: None,
        },
    )
    .await?;
    app.switch_to_window_titled("Cashier").await?;
    let handles = app.client.windows().await?;
    let mut cashier = None;
    let mut customer = None;
    for h in handles {
        app.client.switch_to_window(h.clone()).await?;
        let t = app.client.title().await?;
        if t.contains("Cashier") {
            cashier = Some(h);
        } else if t.contains("Customer") {
            customer = Some(h);
        }
    }
    let (cashier, customer) = (
        cashier.context("cashier window")?,
        customer.context("customer window")?,
    );
    app.client.switch_to_window(cashier.clone()).await?;
    app.client
        .find(Locator::Css(".cur[data-currency='KHR']"))
        .await?
        .click()
        .await?;
    let mut visible = Vec::new();
    let mut last_md5 = String::new();
    for i in 0..charges {
        app.client.switch_to_window(cashier.clone()).await?;
        keys(&app, &format!("{}", 1000 + i * 100)).await?;
        keys(&app, &Key::F2.to_string()).await?;
        let md5 = wait("the payment's MD5", Duration::from_secs(10), || async {
            let m = attr(&app, "amount", "data-code-reference")
                .await?
                .unwrap_or_default();
            Ok((!m.is_empty() && m != last_md5).then_some(m))
        })
        .await?;
        let charged: u64 = wait("the charge mark", Duration::from_secs(10), || async {
            Ok(attr(&app, "amount", "data-charged-at")
                .await?
                .and_then(|v| v.parse().ok()))
        })
        .await?;
        app.client.switch_to_window(customer.clone()).await?;
        let shown: u64 = wait("the QR painted", Duration::from_secs(10), || async {
            let qr = app.client.find(Locator::Id("qr")).await?;
            if qr.attr("data-shown-for").await?.as_deref() != Some(md5.as_str()) {
                return Ok(None);
            }
            Ok(qr.attr("data-shown-at").await?.and_then(|v| v.parse().ok()))
        })
        .await?;
        visible.push(shown.saturating_sub(charged) as f64);
        last_md5 = md5;
        app.client.switch_to_window(cashier.clone()).await?;
        keys(&app, &Key::Escape.to_string()).await?;
        wait("the charge cancelled", Duration::from_secs(10), || async {
            let s = app.client.find(Locator::Id("status")).await?.text().await?;
            Ok(s.contains("Cancelled").then_some(()))
        })
        .await?;
    }

    let pid = app_pid(&app)?;
    let (rss_before, procs_before) = tree_rss(pid);
    let t = Instant::now();
    for i in 0..payments {
        keys(&app, &format!("{}", 10 + i)).await?;
        keys(&app, &Key::F3.to_string()).await?;
        wait("the demo payment paid", Duration::from_secs(15), || async {
            let s = app.client.find(Locator::Id("status")).await?;
            Ok((s.attr("data-payment-state").await?.as_deref() == Some("settled")).then_some(()))
        })
        .await?;
    }
    let per_payment = t.elapsed().as_secs_f64() * 1000.0 / payments as f64;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (rss_after, procs_after) = tree_rss(pid);
    app.close().await?;

    cold.sort_by(|a, b| a.partial_cmp(b).unwrap());
    visible.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!("\nTill desktop app benchmark — {mode}; debug build under Xvfb, demo mode");
    println!("| measure | value |");
    println!("| --- | --- |");
    println!(
        "| cold start → cashier interactive (n={}) | median {:.0} ms, max {:.0} ms |",
        cold.len(),
        percentile(&cold, 50.0),
        cold.last().copied().unwrap_or(f64::NAN)
    );
    println!(
        "| charge → QR visible on customer display (n={}) | p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms |",
        visible.len(),
        percentile(&visible, 50.0),
        percentile(&visible, 95.0),
        visible.last().copied().unwrap_or(f64::NAN)
    );
    println!(
        "| RSS of the app's processes before the payment run | {:.1} MiB in {} processes |",
        rss_before as f64 / 1024.0,
        procs_before
    );
    println!(
        "| RSS after {} more payments (demo wallet, keyboard-driven) | {:.1} MiB in {} processes |",
        payments,
        rss_after as f64 / 1024.0,
        procs_after
    );
    println!(
        "| keyboard-to-paid per demo payment (incl. WebDriver round trips) | {per_payment:.0} ms |"
    );
    Ok(())
}
