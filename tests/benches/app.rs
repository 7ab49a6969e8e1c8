//! The desktop app, measured (not asserted): the real binary under Xvfb,
//! driven through tauri-driver like the end-to-end tests.
//!
//! - cold start → cashier interactive (the wrapper starting the app to the page's
//!   ready mark), median of 5, a fresh home each time;
//! - charge → QR visible on the customer display (Enter on the cashier to the
//!   first frame painted with the code), p50/p95 over 50 charges;
//! - memory: PSS (`/proc/PID/smaps_rollup`) of every process of the app (the app,
//!   its WebKit web and network processes) with the cashier and the customer display
//!   open, after start, after 100 and after 1,000 payments: once under WebDriver, once
//!   as a shop runs it (no WebDriver; the payments keyed on the X keyboard);
//! - the levers of issue 17 side by side (one web process for all our windows or one
//!   each; WebKit's compositing off or on), each checked on what a person sees: a capture
//!   of the X screen (`tests/x11/x11.py`), which must not be blank.
//!
//! `cargo bench -p till-tests --bench app` prints the tables; build the app in release
//! first and point `TILL_APP_BIN` at it to measure what a shop runs
//! (`cargo build --release -p till-app`, `TILL_APP_BIN=target/release/till`). Without
//! `--bench` it does a smoke run (1 start, 5 charges, 10 payments, no lever table) so CI
//! keeps it working. To look closer: `TILL_BENCH_PARTS=start,driven,typed,levers` runs only
//! the parts named; `TILL_BENCH_START_ENV="K=V …"` starts the apps of the start, driven and keyed parts with
//! that environment (a lever, a setting such as `TILL__SOUND__ENABLED=false`);
//! `TILL_BENCH_TYPED_AT=1,5,100` counts the keyed run's memory after those payments;
//! `TILL_BENCH_PAYMENTS=100,1000` sets the WebDriver run's two counts.

use anyhow::{bail, Context, Result};
use fantoccini::{key::Key, Locator};
use std::time::{Duration, Instant};
use till_tests::{AppOptions, AppSession};

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

/// One process of the app: its name (`comm`) and memory in KiB.
#[derive(Debug, Clone)]
struct Proc {
    name: String,
    pss: u64,
    rss: u64,
}

/// Every process of `root`'s tree (the app and the WebKit processes it starts, through
/// bubblewrap where WebKit sandboxes them), with PSS: shared pages counted once across the
/// tree, which RSS counts in every process that maps them.
fn census(root: u32) -> Vec<Proc> {
    let mut parent = std::collections::HashMap::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
            continue;
        };
        if let Some(pp) = field(&status, "PPid:") {
            parent.insert(pid, pp as u32);
        }
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
    let mut out = Vec::new();
    for &pid in parent.keys().filter(|p| in_tree(**p)) {
        let name = std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .unwrap_or_default()
            .trim()
            .to_owned();
        let rollup =
            std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
        let (Some(pss), Some(rss)) = (field(&rollup, "Pss:"), field(&rollup, "Rss:")) else {
            continue; // a kernel thread or a process gone meanwhile
        };
        out.push(Proc { name, pss, rss });
    }
    out.sort_by_key(|p| std::cmp::Reverse(p.pss));
    out
}

fn field(text: &str, name: &str) -> Option<u64> {
    text.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// "till 92.1 + WebKitWebProces 88.0 + …" (PSS, MiB).
fn breakdown(procs: &[Proc]) -> String {
    procs
        .iter()
        .filter(|p| p.pss >= 1024)
        .map(|p| format!("{} {:.1}", p.name, mib(p.pss)))
        .collect::<Vec<_>>()
        .join(" + ")
}

fn total_pss(procs: &[Proc]) -> u64 {
    procs.iter().map(|p| p.pss).sum()
}

/// How much the total PSS grew from `from` to `to`, in MiB.
fn growth(from: &[Proc], to: &[Proc]) -> f64 {
    mib(total_pss(to)) - mib(total_pss(from))
}

fn total_rss(procs: &[Proc]) -> u64 {
    procs.iter().map(|p| p.rss).sum()
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

/// The cashier's and the customer display's window handles, found by title.
async fn two_windows(
    app: &AppSession,
) -> Result<(fantoccini::wd::WindowHandle, fantoccini::wd::WindowHandle)> {
    // The customer display is made after the cashier's window, beside it: wait for it.
    wait("two windows", Duration::from_secs(30), || async {
        Ok((app.client.windows().await?.len() >= 2).then_some(()))
    })
    .await?;
    let mut cashier = None;
    let mut customer = None;
    for h in app.client.windows().await? {
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
    Ok((cashier, customer))
}

/// Where a cold start's time went, each mark in ms from the wrapper starting the app: the
/// app set up (its log: windows made), the engine open (its log), the cashier page's
/// navigation started, its DOM loaded, the page ready.
#[derive(Debug, Clone, Copy)]
struct StartMarks {
    set_up: f64,
    engine_open: f64,
    /// The customer display's window made (its log; on the main thread, as the cashier's
    /// page asks for its first things).
    customer: f64,
    navigation: f64,
    dom_loaded: f64,
    /// The cashier's script starts, has the terminal's status, has its wallets (User Timing
    /// marks `till:*` in `ui/js/cashier.js`).
    script: f64,
    status: f64,
    info: f64,
    ready: f64,
}

/// Cold start: the wrapper starting the app to the cashier's ready mark.
async fn cold_start(name: &str, env: &[(&str, &str)]) -> Result<(StartMarks, AppSession)> {
    let app = AppSession::start_with(
        name,
        AppOptions {
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            till_toml: None,
        },
    )
    .await?;
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
    let started = app
        .logs
        .app_started_at_ms()
        .context("the wrapper's start time")? as f64;
    // Navigation Timing: the page's own clock, from its navigation's start.
    let nav = app
        .client
        .execute(
            "const n = performance.getEntriesByType('navigation')[0];
             const m = (name) => { const e = performance.getEntriesByName(name)[0]; return e ? e.startTime : null; };
             return [performance.timeOrigin, n ? n.domContentLoadedEventEnd : 0,
                     m('till:start'), m('till:status'), m('till:info')];",
            vec![],
        )
        .await?;
    let origin = nav[0].as_f64().unwrap_or(f64::NAN);
    let dom = nav[1].as_f64().unwrap_or(f64::NAN);
    let log = till_tests::AppLog::of(&app.till_home);
    let mark = |m: &str| log.mark(m).map_or(f64::NAN, |t| t - started);
    let page = |i: usize| nav[i].as_f64().map_or(f64::NAN, |t| origin + t - started);
    let marks = StartMarks {
        set_up: mark("app set up"),
        engine_open: mark("terminal open"),
        customer: mark("customer display made"),
        navigation: origin - started,
        dom_loaded: origin + dom - started,
        script: page(2),
        status: page(3),
        info: page(4),
        ready: ready as f64 - started,
    };
    Ok((marks, app))
}

/// Settled demo payments, keyed on the cashier (F3: the demo wallet).
async fn pay(app: &AppSession, n: usize) -> Result<f64> {
    let t = Instant::now();
    let mut last = attr(app, "status", "data-payment-id")
        .await?
        .unwrap_or_default();
    for i in 0..n {
        keys(app, &format!("{}", 10 + i % 900)).await?;
        keys(app, &Key::F3.to_string()).await?;
        // This payment's "settled", not the one before's (the status shows it until the
        // next charge).
        let paid = wait("the demo payment paid", Duration::from_secs(15), || async {
            let s = app.client.find(Locator::Id("status")).await?;
            let id = s.attr("data-payment-id").await?.unwrap_or_default();
            let settled = s.attr("data-payment-state").await?.as_deref() == Some("settled");
            Ok((settled && id != last).then_some(id))
        })
        .await;
        last = match paid {
            Ok(id) => id,
            Err(e) => {
                let status = app.client.find(Locator::Id("status")).await?.text().await?;
                let amount = attr(app, "amount", "data-value").await?;
                let shot = app.screenshot("bench-pay-failed").await?;
                bail!(
                    "payment {} of {n}: {e}; the cashier says {status:?}, amount {amount:?}; {}",
                    i + 1,
                    shot.display()
                );
            }
        };
    }
    Ok(t.elapsed().as_secs_f64() * 1000.0 / n as f64)
}

/// The app started as a person starts it: no WebDriver (automation adds memory of its own:
/// every element it looks up stays referenced in the page), its own X display and home.
struct PlainApp {
    x: till_tests::Xvfb,
    _home: tempfile::TempDir,
    till_home: std::path::PathBuf,
    child: std::process::Child,
}

impl PlainApp {
    /// Started, its engine open ("terminal open" in its log).
    async fn start(env: &[(&str, &str)]) -> Result<PlainApp> {
        let x = till_tests::Xvfb::start(1920, 1080)?;
        let home = tempfile::tempdir()?;
        let till_home = home.path().join("till");
        let mut cmd = std::process::Command::new(till_tests::app_binary()?);
        cmd.env("DISPLAY", &x.display)
            .env_remove("WAYLAND_DISPLAY")
            .envs(till_tests::home_env(home.path(), &till_home))
            .env("NO_AT_BRIDGE", "1")
            .env("LIBGL_ALWAYS_SOFTWARE", "1")
            // The harness's own choice for WebDriver sessions is not the app's: let the app
            // decide unless told.
            .env_remove("WEBKIT_DISABLE_COMPOSITING_MODE")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn()?;
        let app = PlainApp {
            x,
            _home: home,
            till_home,
            child,
        };
        till_tests::AppLog::of(&app.till_home)
            .wait_for(till_tests::AppLog::ENGINE_OPEN, Duration::from_secs(60))
            .await?;
        Ok(app)
    }

    fn census(&self) -> Vec<Proc> {
        census(self.child.id())
    }

    /// Asks it to quit (SIGTERM), then makes sure it is gone.
    async fn stop(mut self) -> Result<()> {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let gone = Instant::now();
        while self.child.try_wait()?.is_none() && gone.elapsed() < Duration::from_secs(15) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        Ok(())
    }
}

/// One lever setting, started fresh as a person starts the app: PSS once both windows are
/// up and idle, and whether the X screen shows them (distinct colours in a capture of the X
/// display).
struct LeverRow {
    name: &'static str,
    procs: Vec<Proc>,
    colours: usize,
    shot: std::path::PathBuf,
}

async fn lever(name: &'static str, tag: &str, env: &[(&str, &str)]) -> Result<LeverRow> {
    let app = PlainApp::start(env).await?;
    // Both pages loaded and painted, fonts in: then count.
    tokio::time::sleep(Duration::from_secs(8)).await;
    let procs = app.census();
    let shot = till_tests::x_screenshot(&app.x.display, &format!("bench-lever-{tag}"));
    app.stop().await?;
    let (shot, colours) = shot?;
    Ok(LeverRow {
        name,
        procs,
        colours,
        shot,
    })
}

/// Memory as a shop's till runs: a plain start (no WebDriver), demo payments keyed on the X
/// keyboard (the amount's digits, then F3: the demo wallet), each waited for in the journal
/// (read-only: the app keeps writing it). PSS after start (idle 8 s, as the levers) and
/// after each checkpoint's number of payments (idle 2 s).
/// With `idle`, PSS once more that long after the last payment: a till between customers
/// (WebKit gives back part of what a burst of payments took, over a minute or two).
async fn typed_payments(
    checkpoints: &[usize],
    idle: Option<Duration>,
    extra_env: &[(&str, &str)],
) -> Result<Typed> {
    let mut env = vec![("TILL__DEMO__SETTLE_AFTER_MS", "20")];
    env.extend_from_slice(extra_env);
    let app = PlainApp::start(&env).await?;
    tokio::time::sleep(Duration::from_secs(8)).await;
    let mut out = vec![(0, app.census())];
    let mut keyboard = till_tests::XKeyboard::open(&app.x.display)?;
    let journal = rusqlite::Connection::open_with_flags(
        app.till_home.join("demo/journal.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .context("the demo journal")?;
    let settled = || -> Result<usize> {
        Ok(journal.query_row(
            "SELECT count(*) FROM payments WHERE state = 'settled'",
            [],
            |r| r.get::<_, i64>(0),
        )? as usize)
    };
    let mut done = 0;
    let began = Instant::now();
    for &upto in checkpoints {
        while done < upto {
            let amount = format!("{}", 10 + done % 900);
            let mut keys: Vec<String> = amount.chars().map(String::from).collect();
            keys.push("F3".into());
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            keyboard.press("Cashier", &keys)?;
            let want = done + 1;
            wait(
                &format!("typed payment {want} settled"),
                Duration::from_secs(15),
                || async { Ok((settled()? >= want).then_some(())) },
            )
            .await?;
            done = want;
            // `cargo bench` passes `--bench`, the full run: 1,000 payments take minutes, and
            // a run that prints nothing until its table looked hung.
            if done % 100 == 0 {
                eprintln!(
                    "[bench] keyed: {done} of {} payments settled, {:.0} s",
                    checkpoints.last().copied().unwrap_or(done),
                    began.elapsed().as_secs_f64()
                );
            }
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        out.push((done, app.census()));
    }
    let (shot, colours) = till_tests::x_screenshot(&app.x.display, "bench-typed-end")?;
    let idle = match idle {
        Some(wait) => {
            tokio::time::sleep(wait).await;
            Some((wait, app.census()))
        }
        None => None,
    };
    app.stop().await?;
    if colours <= 1 {
        bail!(
            "the X screen is blank after the typed payments: {}",
            shot.display()
        );
    }
    Ok(Typed { points: out, idle })
}

/// What the keyed run measured: PSS after each checkpoint's payments (0: after start), and
/// after the idle wait that followed the last.
#[derive(Default)]
struct Typed {
    points: Vec<(usize, Vec<Proc>)>,
    idle: Option<(Duration, Vec<Proc>)>,
}

/// What the WebDriver session measured: charge → QR times, memory at each point.
struct Driven {
    visible: Vec<f64>,
    at_start: Vec<Proc>,
    after_first: Vec<Proc>,
    after_long: Option<Vec<Proc>>,
    per_payment: f64,
    start_shot: std::path::PathBuf,
    start_colours: usize,
}

/// Charge → QR visible, then the payments, in one WebDriver session.
async fn driven(
    charges: usize,
    payments: usize,
    long_run: usize,
    extra_env: &[(&str, &str)],
) -> Result<Driven> {
    let mut env = vec![("TILL__DEMO__SETTLE_AFTER_MS".into(), "20".into())];
    env.extend(
        extra_env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    let app = AppSession::start_with(
        "bench-run",
        AppOptions {
            env,
            till_toml: None,
        },
    )
    .await?;
    let (cashier, customer) = two_windows(&app).await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let pid = app_pid(&app)?;
    let at_start = census(pid);
    let (start_shot, start_colours) = app.x_screenshot("bench-run-start")?;
    if start_colours <= 1 {
        bail!("the X screen is blank: {}", start_shot.display());
    }
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

    let per_payment = pay(&app, payments).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after_first = census(pid);
    let after_long = if long_run > payments {
        pay(&app, long_run - payments).await?;
        tokio::time::sleep(Duration::from_secs(2)).await;
        Some(census(pid))
    } else {
        None
    };
    app.close().await?;
    visible.sort_by(|a, b| a.partial_cmp(b).unwrap());
    Ok(Driven {
        visible,
        at_start,
        after_first,
        after_long,
        per_payment,
        start_shot,
        start_colours,
    })
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let full = std::env::args().any(|a| a == "--bench");
    let (starts, charges, mut payments, mut long_run) = if full {
        (5, 50, 100, 1000)
    } else {
        (1, 5, 10, 0)
    };
    if let Ok(list) = std::env::var("TILL_BENCH_PAYMENTS") {
        let mut n = list.split(',').map(|n| n.trim().parse::<usize>());
        payments = n.next().transpose()?.unwrap_or(payments);
        long_run = n.next().transpose()?.unwrap_or(0);
    }
    let mode = if full {
        "full"
    } else {
        "smoke (run with `cargo bench` for the full run)"
    };
    let build = match std::env::var("TILL_APP_BIN") {
        Ok(p) if p.contains("release") => "release build",
        Ok(_) => "build from TILL_APP_BIN",
        Err(_) => "debug build",
    };
    // `TILL_BENCH_PARTS=start,driven,typed,levers` (any of them) runs only those; all by
    // default.
    let parts = std::env::var("TILL_BENCH_PARTS").ok();
    let part = |name: &str| {
        parts
            .as_deref()
            .is_none_or(|p| p.split(',').any(|x| x.trim() == name))
    };

    // Cold start: a fresh data directory each time (demo mode: the in-process
    // sandbox and hub start too).
    let mut cold = Vec::new();
    let mut marks = Vec::new();
    let start_env_text = std::env::var("TILL_BENCH_START_ENV").unwrap_or_default();
    let start_env: Vec<(&str, &str)> = start_env_text
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .collect();
    if part("start") {
        for i in 0..starts {
            let (m, app) = cold_start(&format!("bench-start-{i}"), &start_env).await?;
            cold.push(m.ready);
            marks.push(m);
            app.close().await?;
        }
    }
    let run = if part("driven") {
        Some(driven(charges, payments, long_run, &start_env).await?)
    } else {
        None
    };
    // The same payments keyed as a person keys them, without WebDriver.
    let typed = if part("typed") {
        let checkpoints = match std::env::var("TILL_BENCH_TYPED_AT") {
            Ok(list) => list
                .split(',')
                .map(|n| n.trim().parse())
                .collect::<Result<Vec<usize>, _>>()
                .context("TILL_BENCH_TYPED_AT: payment counts, comma-separated")?,
            Err(_) if full => vec![payments, long_run],
            Err(_) => vec![payments],
        };
        let idle = full.then_some(Duration::from_secs(60));
        typed_payments(&checkpoints, idle, &start_env).await?
    } else {
        Typed::default()
    };

    // The levers, each from a fresh start (full run only), one at a time: PSS counts a
    // shared library's pages among the processes mapping it, so nothing else of ours runs.
    let mut levers = Vec::new();
    if full && part("levers") {
        // (what it is, its name, its environment)
        type Lever<'a> = (&'static str, &'a str, &'a [(&'a str, &'a str)]);
        let runs: [Lever; 4] = [
            (
                "as shipped: one web process, compositing as the app chooses (off: no GPU here)",
                "shipped",
                &[],
            ),
            (
                "one web process per window",
                "per-window",
                &[("TILL_WEB_PROCESS_PER_WINDOW", "1")],
            ),
            (
                "compositing on (software GL), one web process",
                "compositing",
                &[("WEBKIT_DISABLE_COMPOSITING_MODE", "0")],
            ),
            (
                "compositing on, one web process per window (before issue 17)",
                "before",
                &[
                    ("WEBKIT_DISABLE_COMPOSITING_MODE", "0"),
                    ("TILL_WEB_PROCESS_PER_WINDOW", "1"),
                ],
            ),
        ];
        for (name, tag, env) in runs {
            levers.push(lever(name, tag, env).await?);
        }
    }

    cold.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!("\nTill desktop app benchmark — {mode}; {build} under Xvfb 1920×1080, demo mode");
    println!("| measure | value |");
    println!("| --- | --- |");
    if !cold.is_empty() {
        println!(
            "| cold start → cashier interactive (n={}) | median {:.0} ms, max {:.0} ms (each: {}) |",
            cold.len(),
            percentile(&cold, 50.0),
            cold.last().copied().unwrap_or(f64::NAN),
            marks
                .iter()
                .map(|m| format!("{:.0}", m.ready))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let median = |f: fn(&StartMarks) -> f64| {
            let mut v: Vec<f64> = marks.iter().map(f).filter(|x| x.is_finite()).collect();
            v.sort_by(|a, b| a.partial_cmp(b).unwrap());
            percentile(&v, 50.0)
        };
        println!(
            "| cold start's marks (medians, ms after the wrapper started the app) | windows made (app set up) {:.0}; engine + demo servers open {:.0}; customer display made {:.0}; page navigation starts {:.0}; script starts {:.0}; DOM loaded {:.0}; status {:.0}; wallets {:.0}; ready {:.0} |",
            median(|m| m.set_up),
            median(|m| m.engine_open),
            median(|m| m.customer),
            median(|m| m.navigation),
            median(|m| m.script),
            median(|m| m.dom_loaded),
            median(|m| m.status),
            median(|m| m.info),
            median(|m| m.ready),
        );
    }
    let row = |when: &str, procs: &[Proc]| {
        println!(
            "| PSS {when} | **{:.1} MiB** in {} processes ({}); RSS {:.1} MiB |",
            mib(total_pss(procs)),
            procs.len(),
            breakdown(procs),
            mib(total_rss(procs))
        );
    };
    if let Some(run) = &run {
        let visible = &run.visible;
        println!(
            "| charge → QR visible on customer display (n={}) | p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms |",
            visible.len(),
            percentile(visible, 50.0),
            percentile(visible, 95.0),
            visible.last().copied().unwrap_or(f64::NAN)
        );
        row(
            "under WebDriver after start, cashier + customer display open",
            &run.at_start,
        );
        row(
            &format!("under WebDriver after {charges} charges and {payments} payments"),
            &run.after_first,
        );
        if let Some(long) = &run.after_long {
            row(&format!("under WebDriver after {long_run} payments"), long);
            println!(
                "| PSS growth under WebDriver from {payments} to {long_run} payments | {:+.1} MiB |",
                growth(&run.after_first, long)
            );
        }
        println!(
            "| keyboard-to-paid per demo payment (incl. WebDriver round trips) | {:.0} ms |",
            run.per_payment
        );
        println!(
            "| X screen after start | {} colours: {} |",
            run.start_colours,
            run.start_shot.display()
        );
    }
    // Without WebDriver: what a shop's till holds.
    for (n, procs) in &typed.points {
        row(
            &format!("keyed on the X keyboard, no WebDriver, after {n} payments"),
            procs,
        );
    }
    if let (Some((_, first)), Some((n, last))) = (typed.points.first(), typed.points.last()) {
        println!(
            "| PSS growth keyed, no WebDriver, start to {n} payments | {:+.1} MiB |",
            growth(first, last)
        );
        if let Some((wait, idle)) = &typed.idle {
            row(
                &format!("keyed, after {n} payments and {} s idle", wait.as_secs()),
                idle,
            );
            println!(
                "| PSS growth keyed, start to {n} payments and {} s idle | {:+.1} MiB |",
                wait.as_secs(),
                growth(first, idle)
            );
        }
    }
    if typed.points.len() > 2 {
        let second = &typed.points[1];
        let last = &typed.points[typed.points.len() - 1];
        println!(
            "| PSS growth keyed, {} to {} payments | {:+.1} MiB |",
            second.0,
            last.0,
            growth(&second.1, &last.1)
        );
    }
    if !levers.is_empty() {
        println!("\nLevers (each a fresh start without WebDriver, both windows open, idle 8 s)");
        println!("| lever | PSS total | processes | X screen |");
        println!("| --- | --- | --- | --- |");
        for l in &levers {
            println!(
                "| {} | {:.1} MiB | {} | {} ({} colours) |",
                l.name,
                mib(total_pss(&l.procs)),
                breakdown(&l.procs),
                if l.colours > 1 {
                    "shows the windows"
                } else {
                    "BLANK"
                },
                l.colours
            );
            println!("|  |  |  | {} |", l.shot.display());
        }
    }
    Ok(())
}
