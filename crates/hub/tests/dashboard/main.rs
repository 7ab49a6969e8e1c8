//! The office dashboard in a real browser (headless Chromium over
//! WebDriver) against a real hub on an ephemeral port, fed by real
//! terminals: two `till_core::Engine`s take Demo-wallet payments, sync them
//! with their own sync task and close their day. One of them signs its
//! first record with a key the hub does not know, so it becomes a dead
//! letter: the hub shows the gap, and that terminal's Z-report (which counts
//! the payment) differs from what the hub holds.
//!
//! Users are made with the `till-hub user add` binary. Screenshots of every
//! page go to `target/test-output/dashboard/` (their paths are printed).

mod browser;
mod terminal;

use browser::{Driver, Page};
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::str::FromStr;
use std::time::{Duration, Instant};
use terminal::Till;
use till_core::Currency;
use till_hub::{HubConfig, NewKey};

const READ_TOKEN: &str = "dashboard-test-read-token";
const ADMIN_PW: &str = "correct horse battery";
const READER_PW: &str = "reader password 1";
const VICTIM_PW: &str = "victim password 1";
const LOCKOUT_SECS: i64 = 10;

/// `till-hub --database DB user add NAME …`, the password on stdin.
fn add_user(db: &str, name: &str, password: &str, extra: &[&str]) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_till-hub"))
        .args(["--database", db, "user", "add", name, "--password-stdin"])
        .args(extra)
        .env_remove("TILL_HUB_DATABASE")
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn dec(v: &Value) -> Decimal {
    Decimal::from_str(v.as_str().unwrap_or_else(|| panic!("a decimal: {v}"))).unwrap()
}

/// `[data-total]` → `data-value` (or the text, for counts) of the page.
async fn totals_on_page(p: &Page<'_>) -> BTreeMap<String, String> {
    let v = p
        .js(
            "return Array.from(document.querySelectorAll('[data-total]'))
               .map(e => [e.dataset.total, e.dataset.value ?? e.textContent.trim()]);",
        )
        .await;
    v.as_array()
        .unwrap()
        .iter()
        .map(|pair| {
            (
                pair[0].as_str().unwrap().to_owned(),
                pair[1].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn sign_in(p: &Page<'_>, user: &str, password: &str) {
    p.goto("/office/signin").await;
    fill_sign_in(p, user, password).await;
}

async fn fill_sign_in(p: &Page<'_>, user: &str, password: &str) {
    p.type_into("#username", user).await;
    p.type_into("#password", password).await;
    p.click("#signin button[type=submit]").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_office_in_a_real_browser() {
    let t0 = Instant::now();
    // --- A hub, its users, two real terminals and their day.
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("hub.db").display());
    let mut config = HubConfig::new("127.0.0.1:0", db.clone());
    config.read_tokens = vec![READ_TOKEN.into()];
    // The terminals' business day (their defaults: Asia/Dhaka, 04:00).
    config.office.timezone = Some(chrono_tz::Asia::Dhaka);
    config.office.day_cutoff = chrono::NaiveTime::from_hms_opt(4, 0, 0).unwrap();
    config.office.max_failures = 3;
    // Long enough that a loaded machine cannot reach the right password's
    // attempt after it has passed; the end of the test waits out the rest.
    config.office.lockout = chrono::Duration::seconds(LOCKOUT_SECS);
    let hub = till_hub::start(config).await.unwrap();
    let base = hub.base_url();
    add_user(&db, "rahim", ADMIN_PW, &["--role", "admin"]);
    add_user(
        &db,
        "karim",
        READER_PW,
        &["--role", "read", "--language", "bn"],
    );
    add_user(&db, "nasrin", VICTIM_PW, &["--role", "read"]);

    let key = |added: till_hub::AddedKey| added.secret.unwrap().to_text();
    let k1 = key(hub
        .admin()
        .add_terminal("till-01", Some("Counter 1"), NewKey::GenerateEd25519)
        .await
        .unwrap());
    let k2 = key(hub
        .admin()
        .add_terminal("till-02", Some("Counter 2"), NewKey::GenerateEd25519)
        .await
        .unwrap());
    let unknown_key = till_sync_proto::generate_ed25519_keypair()
        .signing
        .to_text();
    let (one, two) = tokio::join!(
        Till::start("till-01", &base, &k1, READ_TOKEN),
        Till::start("till-02", &base, &unknown_key, READ_TOKEN)
    );
    let (_, _, big, _, _) = tokio::join!(
        async {
            // till-02's first payment is signed with a key the hub refuses:
            // a dead letter, so a gap at sequence 1.
            two.pay("1.00", Currency::Bdt).await;
            two.wait_sync("a dead letter", |s| s.dead_letters == 1)
                .await;
            two.use_key(&k2);
        },
        one.pay("10.00", Currency::Bdt),
        one.pay("25.50", Currency::Bdt),
        one.pay("7.25", Currency::Bdt),
        one.pay("4000", Currency::Khr),
    );
    one.refund(&big, "5.00").await;
    two.pay("2.00", Currency::Bdt).await;
    two.pay("3.00", Currency::Bdt).await;
    one.synced().await;
    two.synced().await;
    let day = one.close_today().await;
    assert_eq!(two.close_today().await, day);
    let prepared = t0.elapsed();

    // What the read API says, to hold the pages to.
    let http = reqwest::Client::new();
    let read = |path: String| {
        let http = http.clone();
        let url = format!("{base}{path}");
        async move {
            let r = http.get(url).bearer_auth(READ_TOKEN).send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.json::<Value>().await.unwrap()
        }
    };
    let totals = read(format!("/v1/totals?day={day}")).await;
    let settlements = read(format!("/v1/settlements?day={day}&limit=1000")).await;
    let events = settlements["items"].as_array().unwrap().clone();
    assert_eq!(
        events.len(),
        7,
        "4 + 3 settlements and a refund, less the dead letter"
    );

    // --- The browser.
    let driver = Driver::start();
    let client = driver.session(1280, 1100).await;
    let p = Page {
        c: &client,
        base: base.clone(),
    };
    let mut shots = Vec::new();

    // Not signed in: the sign-in page, which comes back afterwards.
    p.goto("/office/terminals").await;
    p.wait("#signin").await;
    assert!(p.path().await.starts_with("/office/signin?next="));
    shots.push(p.shot("01-sign-in").await);

    // A wrong password.
    sign_in(&p, "rahim", "not my password").await;
    p.wait(r#"[data-notice="wrong"]"#).await;
    shots.push(p.shot("02-wrong-password").await);

    // The lockout: three wrong passwords; then even the right one waits.
    for _ in 0..3 {
        sign_in(&p, "nasrin", "guessing again").await;
    }
    p.wait(r#"[data-notice="locked"]"#).await;
    let locked_at = Instant::now();
    sign_in(&p, "nasrin", VICTIM_PW).await;
    let notice = p.text(r#"[data-notice="locked"]"#).await;
    assert!(notice.contains("Too many wrong passwords"), "{notice}");
    shots.push(p.shot("03-locked").await);
    // The wait is spent on the admin's pages; nasrin comes back at the end.

    // --- Signed in as the admin: back to where they were going.
    p.goto("/office/terminals").await;
    fill_sign_in(&p, "rahim", ADMIN_PW).await;
    p.wait("table.terminals").await;
    assert_eq!(p.path().await, "/office/terminals");
    let cookies = client.get_all_cookies().await.unwrap();
    let session = cookies
        .iter()
        .find(|c| c.name() == "__Host-till-office")
        .expect("a session cookie");
    assert_eq!(session.http_only(), Some(true));
    assert_eq!(session.secure(), Some(true));
    assert_eq!(
        format!("{:?}", session.same_site()),
        "Some(Strict)",
        "{session:?}"
    );
    // The stylesheet and the script load under the CSP (no inline style or script anywhere).
    let bg = p
        .js("return getComputedStyle(document.body).backgroundColor")
        .await;
    assert_eq!(bg, "rgb(244, 246, 250)");
    assert_eq!(
        p.js("return document.querySelectorAll('[style], script:not([src])').length")
            .await,
        0
    );

    // The gap shows, on the list and on the terminal's page; so do the Z-reports.
    for (terminal, what, attr, want) in [
        ("till-02", "[data-gaps]", "data-gaps", "1"),
        ("till-02", ".gap", "data-gap", "1-1"),
        ("till-01", "[data-gaps]", "data-gaps", "0"),
        ("till-01", "[data-z]", "data-z", "match"),
        ("till-02", "[data-z]", "data-z", "differs"),
    ] {
        let css = format!(r#"tr[data-terminal="{terminal}"] {what}"#);
        assert_eq!(p.attr(&css, attr).await, want, "{css}");
    }
    shots.push(p.shot("04-terminals").await);

    // --- Today: every figure equals the read API's.
    p.click(r#"nav.main a[href="/office/"]"#).await;
    p.wait("section.cards").await;
    assert_eq!(p.attr("h1 [data-day]", "data-day").await, day.to_string());
    let shown = totals_on_page(&p).await;
    let rows = totals["totals"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{totals}");
    let mut per_currency: BTreeMap<String, Decimal> = BTreeMap::new();
    for r in rows {
        let key = format!(
            "{}/{}",
            r["provider"].as_str().unwrap(),
            r["currency"].as_str().unwrap()
        );
        for field in ["settled", "refunded", "net"] {
            assert_eq!(
                shown[&format!("{key}/{field}")],
                r[field].as_str().unwrap(),
                "{key} {field}"
            );
        }
        for field in ["count", "refund_count"] {
            assert_eq!(
                shown[&format!("{key}/{field}")],
                r[field].to_string(),
                "{key} {field}"
            );
        }
        *per_currency
            .entry(r["currency"].as_str().unwrap().to_owned())
            .or_default() += dec(&r["net"]);
    }
    for (currency, net) in &per_currency {
        assert_eq!(
            Decimal::from_str(&shown[&format!("{currency}/net")]).unwrap(),
            *net,
            "{currency}"
        );
    }
    assert_eq!(per_currency["BDT"], Decimal::from_str("42.75").unwrap());
    // The chart spreads the same events over the hours: its bars add up to the net.
    let bars = p
        .js(
            "return Array.from(document.querySelectorAll('figure.chart')).map(f =>
               [f.dataset.currency, Array.from(f.querySelectorAll('rect.bar')).map(r => r.dataset.value)]);",
        )
        .await;
    for chart in bars.as_array().unwrap() {
        let currency = chart[0].as_str().unwrap();
        let bars = chart[1].as_array().unwrap();
        assert_eq!(bars.len(), 24);
        let sum: Decimal = bars.iter().map(dec).sum();
        assert_eq!(sum, per_currency[currency], "chart of {currency}");
    }
    shots.push(p.shot("05-today").await);

    // --- A terminal: the last Z-report and how far it is from the hub.
    p.goto("/office/terminals/till-02").await;
    assert_eq!(
        p.attr("[data-last-z]", "data-last-z").await,
        day.to_string()
    );
    assert_eq!(
        p.attr("[data-last-z] > p [data-check]", "data-check").await,
        "bad"
    );
    let diff = totals_on_page(&p).await;
    assert_eq!(diff["demo/BDT/reported"], "6.00");
    assert_eq!(diff["demo/BDT/held"], "5.00");
    assert_eq!(diff["demo/BDT/difference"], "1.00");
    assert_eq!(p.attr(".gap", "data-gap").await, "1-1");
    shots.push(p.shot("06-terminal-till-02").await);
    p.goto("/office/terminals/till-01").await;
    assert_eq!(
        p.attr("[data-last-z] > p [data-check]", "data-check").await,
        "ok"
    );
    shots.push(p.shot("07-terminal-till-01").await);

    // --- The day: who closed, who differs and by how much; the evidence section.
    p.click(r#"nav.main a[href="/office/days"]"#).await;
    let summary = p.wait("p.summary").await;
    for (attr, want) in [
        ("data-closed", "2"),
        ("data-active", "2"),
        ("data-differ", "1"),
    ] {
        assert_eq!(
            summary.attr(attr).await.unwrap().as_deref(),
            Some(want),
            "{attr}"
        );
    }
    assert_eq!(
        p.text(r#"tr[data-terminal="till-02"] [data-difference="demo/BDT"] .amount"#)
            .await,
        "1.00"
    );
    assert!(p
        .all(r#"tr[data-terminal="till-01"] [data-difference]"#)
        .await
        .is_empty());
    p.wait("#provider-evidence").await;
    shots.push(p.shot("08-day").await);

    // --- Search: by invoice, by the wallet's transaction id, by amount.
    let by_payment = |id: &str| {
        let mut ids: Vec<String> = events
            .iter()
            .filter(|e| e["payment_id"] == id)
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };
    let results = |p: &Page<'_>| {
        let c = p.c.clone();
        async move {
            let v = c
                .execute(
                    "return Array.from(document.querySelectorAll('tr[data-event]')).map(r => r.dataset.event);",
                    vec![],
                )
                .await
                .unwrap();
            let mut ids: Vec<String> = v
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap().to_owned())
                .collect();
            ids.sort();
            ids
        }
    };
    let big_event = events
        .iter()
        .find(|e| e["payment_id"] == big.id.as_str())
        .unwrap();
    let trx = big_event["event"]["payment"]["references"]["transaction"]
        .as_str()
        .unwrap()
        .to_owned();
    p.click(r#"nav.main a[href="/office/search"]"#).await;
    for (field, text) in [
        ("#q", big.invoice.as_str()),
        ("#q", trx.as_str()),
        ("#amount", "25.5"),
    ] {
        p.goto("/office/search").await;
        p.type_into(field, text).await;
        p.click("#search button[type=submit]").await;
        p.wait("[data-results]").await;
        assert_eq!(results(&p).await, by_payment(&big.id), "{field} {text}");
    }
    p.goto("/office/search").await;
    p.type_into("#q", &big.invoice).await;
    p.click("#search button[type=submit]").await;
    p.wait("tr[data-event]").await;
    shots.push(p.shot("09-search").await);

    // --- The CSV (fetched by the page itself, with its session) parses and
    // holds what the read API holds.
    p.goto("/office/search").await;
    let href = p.attr("#export", "href").await;
    let csv_text = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch(arguments[0]).then(r => r.text()).then(done, e => done('ERROR ' + e));",
            vec![Value::String(href)],
        )
        .await
        .unwrap();
    let csv_text = csv_text.as_str().unwrap();
    let mut rd = csv::Reader::from_reader(csv_text.as_bytes());
    let header: Vec<String> = rd.headers().unwrap().iter().map(str::to_owned).collect();
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let records: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), events.len(), "{csv_text}");
    for (r, e) in records.iter().zip(&events) {
        assert_eq!(&r[col("event_id")], e["id"].as_str().unwrap());
        assert_eq!(&r[col("amount")], e["amount"].as_str().unwrap());
        assert_eq!(&r[col("terminal")], e["terminal_id"].as_str().unwrap());
    }
    let csv_net: Decimal = records
        .iter()
        .filter(|r| &r[col("currency")] == "BDT")
        .map(|r| match &r[col("type")] {
            "payment.settled" => Decimal::from_str(&r[col("amount")]).unwrap(),
            _ => -Decimal::from_str(&r[col("refund_amount")]).unwrap(),
        })
        .sum();
    assert_eq!(csv_net, per_currency["BDT"]);

    // --- Terminals and keys.
    p.click(r#"nav.main a[href="/office/admin/terminals"]"#)
        .await;
    p.wait("#add-terminal").await;
    shots.push(p.shot("10-admin").await);
    p.type_into("#new-id", "till-03").await;
    p.type_into("#new-name", "Counter 3").await;
    p.click("#add-terminal button[type=submit]").await;
    let secret = p.text("#secret").await;
    assert!(secret.starts_with("whsk_"), "{secret}");
    shots.push(p.shot("11-key-shown-once").await);
    p.click("a.button").await;
    // Rotate: a second key; retire the first (the page asks first, through
    // its script: the CSP let it run).
    p.click(r#"article[data-terminal="till-03"] form.rotate button"#)
        .await;
    p.wait("#secret").await;
    p.goto("/office/admin/terminals").await;
    p.click(r#"article[data-terminal="till-03"] form.retire button"#)
        .await;
    let question = client.get_alert_text().await.unwrap();
    assert!(question.starts_with("Retire this key?"), "{question}");
    client.accept_alert().await.unwrap();
    p.wait(r#"[data-notice="retired"]"#).await;
    p.click(r#"article[data-terminal="till-03"] form.disable button"#)
        .await;
    client.accept_alert().await.unwrap();
    p.wait(r#"[data-notice="disabled"]"#).await;
    let t3 = hub
        .store()
        .terminals()
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.id == "till-03")
        .unwrap();
    assert_eq!(t3.status.as_str(), "disabled");
    let active: Vec<_> = t3.keys.iter().filter(|k| k.status == "active").collect();
    assert_eq!((t3.keys.len(), active.len()), (2, 1));

    // A form whose CSRF token was taken out is refused, and changes nothing.
    p.js(r#"document.querySelector('article[data-terminal="till-03"] form.enable input[name=csrf]').remove(); return 0;"#)
        .await;
    p.click(r#"article[data-terminal="till-03"] form.enable button"#)
        .await;
    assert_eq!(p.attr("section.error", "data-status").await, "403");
    shots.push(p.shot("12-csrf-refused").await);
    // Nor does the session cookie alone do it (another program holding it).
    let stolen = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{base}/office/admin/terminals/till-03/enable"))
        .header("cookie", format!("__Host-till-office={}", session.value()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("csrf=")
        .send()
        .await
        .unwrap();
    assert_eq!(stolen.status(), 403);
    let still = hub.store().terminals().await.unwrap();
    assert_eq!(
        still
            .iter()
            .find(|t| t.id == "till-03")
            .unwrap()
            .status
            .as_str(),
        "disabled"
    );

    // --- Sign out; the read-only user (Bangla) cannot reach admin pages.
    p.goto("/office/").await;
    p.click("#sign-out").await;
    p.wait(r#"[data-notice="signed_out"]"#).await;
    sign_in(&p, "karim", READER_PW).await;
    p.wait("section.cards").await;
    assert_eq!(p.js("return document.documentElement.lang").await, "bn");
    assert!(p.all(r#"a[href^="/office/admin"]"#).await.is_empty());
    shots.push(p.shot("13-today-bangla").await);
    p.goto("/office/admin/terminals").await;
    assert_eq!(p.attr("section.error", "data-status").await, "403");
    shots.push(p.shot("14-read-only-refused").await);

    // --- A phone: nothing wider than the screen (tables scroll in their box); Khmer.
    client.set_window_size(390, 844).await.unwrap();
    p.goto("/office/").await;
    p.click(r#"form.lang button[value="km"]"#).await;
    p.wait(r#"html[lang="km"]"#).await;
    let (scroll, inner) = (
        p.js("return document.documentElement.scrollWidth").await,
        p.js("return window.innerWidth").await,
    );
    assert!(
        scroll.as_u64().unwrap() <= inner.as_u64().unwrap(),
        "the page is {scroll} px wide on a {inner} px screen"
    );
    shots.push(p.shot("15-phone-khmer").await);
    p.goto("/office/days").await;
    p.wait("p.summary").await;
    shots.push(p.shot("16-phone-day").await);

    // --- The locked user, once the lockout has passed.
    client.set_window_size(1280, 1100).await.unwrap();
    p.click("#sign-out").await;
    p.wait("#signin").await;
    let lockout = Duration::from_secs(LOCKOUT_SECS as u64);
    if let Some(left) = lockout.checked_sub(locked_at.elapsed()) {
        tokio::time::sleep(left + Duration::from_millis(200)).await;
    }
    sign_in(&p, "nasrin", VICTIM_PW).await;
    p.wait("section.cards").await;

    client.close().await.unwrap();
    drop(driver);
    println!(
        "dashboard: {} screenshots in {}; terminals ready after {:.1} s, whole test {:.1} s",
        shots.len(),
        browser::shots_dir().display(),
        prepared.as_secs_f64(),
        t0.elapsed().as_secs_f64()
    );
    hub.shutdown().await;
}
