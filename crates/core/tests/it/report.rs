//! Business-day reports against the real sandbox and a real in-process hub:
//! a day with a settled, a failed, a refunded, an expired and a wrong-amount
//! payment plus one the customer paid after the terminal gave it up; the
//! three-way reconciliation, resolutions, the day close, the Z-report's
//! immutability, a late refund booked into the next day, CSV and PDF.

use crate::util::*;
use chrono::Timelike;
use serde_json::Value;
use std::time::Duration;
use till_core::report::{DisagreementKind, Resolution};
use till_core::secrets::{names, Secret, SecretStore};
use till_core::{CustomerStep, PaymentState, ProviderKind};
use till_hub::{HubConfig, HubHandle, NewKey};

const WALLET: &str = "01770618575";
const BROKE_WALLET: &str = "01823074817"; // insufficient balance in the sandbox

struct DayRig {
    r: Rig,
    hub: HubHandle,
    _hub_dir: tempfile::TempDir,
    token: String,
}

async fn day_rig() -> DayRig {
    let hub_dir = tempfile::tempdir().unwrap();
    let hub = till_hub::start(HubConfig::new(
        "127.0.0.1:0",
        format!("sqlite://{}", hub_dir.path().join("hub.db").display()),
    ))
    .await
    .unwrap();
    let added = hub
        .admin()
        .add_terminal("till-01", Some("report test"), NewKey::GenerateHmac)
        .await
        .unwrap();
    let token = hub.admin().add_token("reconciliation").await.unwrap();
    // A business day whose boundary is about 12 hours away, so the test never straddles it.
    let cutoff = format!("{:02}:00", (chrono::Utc::now().hour() + 12) % 24);
    let url = hub.base_url();
    let r = rig_with(
        sandbox_config(),
        &[
            ("TILL__HUB__URL", url.as_str()),
            ("TILL__HUB__POLL_INTERVAL_MS", "50"),
            ("TILL__HUB__BACKOFF_BASE_MS", "10"),
            ("TILL__HUB__BACKOFF_MAX_MS", "100"),
            ("TILL__BUSINESS_DAY__TIMEZONE", "UTC"),
            ("TILL__BUSINESS_DAY__CUTOFF", cutoff.as_str()),
            ("TILL__SHOP__NAME_BN", "রহিম স্টোর"),
        ],
    )
    .await;
    r.secrets
        .set(
            names::HUB_SECRET,
            &Secret::new(added.secret.unwrap().to_text()),
        )
        .unwrap();
    r.secrets
        .set(names::HUB_READ_TOKEN, &Secret::new(token.clone()))
        .unwrap();
    DayRig {
        r,
        hub,
        _hub_dir: hub_dir,
        token,
    }
}

async fn bkash_checkout(r: &Rig, amount: &str, wallet: &str) -> till_core::Payment {
    let c = r
        .engine
        .charge(ProviderKind::Bkash, bdt(amount), "cashier-1")
        .await
        .unwrap();
    let pid = c.payment.refs.lookup.clone().unwrap();
    let back = r.bkash_customer(&pid, wallet, "pay").await;
    r.engine.callback(&back).await.unwrap()
}

async fn khqr(r: &Rig, amount: till_core::Amount) -> (String, String) {
    let c = r
        .engine
        .charge(ProviderKind::Bakong, amount, "cashier-1")
        .await
        .unwrap();
    let CustomerStep::Code { code: khqr, .. } = c.step else {
        panic!("expected a KHQR")
    };
    (c.payment.id, khqr)
}

async fn synced(r: &Rig, n: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let s = r.engine.sync_state().unwrap();
        if s.queue_length == 0 && s.last_acknowledged_sequence >= Some(n) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "sync did not reach {n}: {s:#?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

impl DayRig {
    async fn hub_day(&self, day: chrono::NaiveDate) -> Value {
        self.r
            .http
            .get(format!(
                "{}/v1/terminals/till-01/days/{day}",
                self.hub.base_url().trim_end_matches('/')
            ))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn a_day_reconciles_closes_and_stays_closed() {
    let d = day_rig().await;
    let r = &d.r;
    let day = r.engine.today();

    // bKash: one refunded (partly), one failed.
    let refunded = bkash_checkout(r, "100.00", WALLET).await;
    assert_eq!(refunded.state, PaymentState::Settled);
    r.engine
        .refund(&refunded.id, Some(bdt("30.00")), Some("damaged"), "manager")
        .await
        .unwrap();
    let failed = bkash_checkout(r, "93.00", BROKE_WALLET).await;
    assert_eq!(failed.state, PaymentState::Failed);

    // KHQR: settled; wrong amount; cancelled at the till, then paid anyway.
    let (settled, qr) = khqr(r, khr("40000")).await;
    r.bakong_pay(&qr, None).await;
    r.wait_state(&settled, PaymentState::Settled, Duration::from_secs(10))
        .await;
    let (wrong, qr) = khqr(r, usd("12.50")).await;
    r.bakong_pay(&qr, Some("12.00")).await;
    r.wait_state(&wrong, PaymentState::Flagged, Duration::from_secs(10))
        .await;
    let (lost, lost_qr) = khqr(r, khr("5000")).await;
    r.engine.cancel(&lost, "cashier-1").await.unwrap();
    r.bakong_pay(&lost_qr, None).await; // the customer's app still had the code
                                        // Seen at once, not only at reconciliation (issue 14, M1).
    wait_for("the cancelled code's payment to be flagged", || {
        r.engine.payment(&lost).unwrap().flag.is_some()
    })
    .await;

    // KHQR nobody pays: expires.
    let (expired, _) = khqr(r, khr("1000")).await;
    r.clock.advance(Duration::from_secs(
        r.engine.config().khqr.expiry_seconds + 1,
    ));
    r.wait_state(&expired, PaymentState::Expired, Duration::from_secs(10))
        .await;

    // Two settlements and a refund reach the hub.
    synced(r, 3).await;

    let summary = r.engine.day_summary(day).unwrap();
    assert_eq!(summary.payment_count, 6);
    let bdt_total = summary
        .totals
        .iter()
        .find(|t| t.currency == till_core::Currency::Bdt)
        .unwrap();
    assert_eq!(
        (
            bdt_total.settled.amount.as_str(),
            bdt_total.refunded.amount.as_str(),
            bdt_total.net.amount.as_str()
        ),
        ("100.00", "30.00", "70.00")
    );
    // The wrong amount, and the cancelled code paid anyway (`paid_after_cancel`).
    assert_eq!(summary.flagged.len(), 2, "{:#?}", summary.flagged);
    assert_eq!(
        r.engine.payment(&lost).unwrap().flag.as_deref(),
        Some("paid_after_cancel: 5000 KHR")
    );
    assert_eq!(summary.sync.unsynced, 0);

    // Exactly two disagreements: the wrong amount and the lost payment.
    let rec = r.engine.reconcile(day).await.unwrap();
    let mut found: Vec<(DisagreementKind, String)> = rec
        .disagreements
        .iter()
        .map(|x| (x.kind, x.references.payment_id.clone().unwrap_or_default()))
        .collect();
    found.sort();
    let mut want = vec![
        (DisagreementKind::PaidNotRecorded, lost.clone()),
        (DisagreementKind::AmountMismatch, wrong.clone()),
    ];
    want.sort();
    assert_eq!(found, want, "{:#?}", rec.disagreements);
    for p in &rec.providers {
        assert_eq!(
            p.status,
            till_core::report::reconcile::CheckStatus::Checked,
            "{p:?}"
        );
    }
    assert_eq!(rec.hub.totals_match, Some(true), "{:#?}", rec.hub);
    assert!(rec.hub.missing.is_empty());
    assert_eq!(rec.hub.acknowledged, 3);
    let lost_d = rec
        .disagreement(&format!("paid_not_recorded:{lost}"))
        .unwrap();
    assert!(
        lost_d.explanation.contains("money taken without a sale"),
        "{}",
        lost_d.explanation
    );
    let json = serde_json::to_value(&rec).unwrap();
    assert!(json["disagreements"][0]["kind"].is_string());

    // Closing is refused while they stand.
    let err = r.engine.close_day(day, "manager").await.unwrap_err();
    assert!(err.to_string().contains("2 disagreements"), "{err}");

    // Recheck: Bakong still says paid; a cancelled payment does not move.
    let lost_id = format!("paid_not_recorded:{lost}");
    let rc = r
        .engine
        .resolve(day, &lost_id, Resolution::Recheck, "manager")
        .await
        .unwrap();
    assert!(
        rc.outcome.as_deref().unwrap().contains("cannot change"),
        "{rc:?}"
    );
    assert_eq!(
        r.engine.payment(&lost).unwrap().state,
        PaymentState::Cancelled
    );
    let empty = r
        .engine
        .resolve(
            day,
            &lost_id,
            Resolution::Acknowledge { note: " ".into() },
            "manager",
        )
        .await;
    assert!(empty.is_err(), "a note is required");
    r.engine
        .resolve(
            day,
            &lost_id,
            Resolution::Acknowledge {
                note: "returned by bank transfer".into(),
            },
            "manager",
        )
        .await
        .unwrap();
    let x = r.engine.x_report(day).await.unwrap();
    assert_eq!(x.unresolved, vec![format!("amount_mismatch:{wrong}")]);
    r.engine
        .resolve(
            day,
            &format!("amount_mismatch:{wrong}"),
            Resolution::Acknowledge {
                note: "customer short by 0.50, accepted".into(),
            },
            "manager",
        )
        .await
        .unwrap();

    // Close.
    let z = r.engine.close_day(day, "manager").await.unwrap();
    assert_eq!(z.closed_by, "manager");
    assert!(z.report.unresolved.is_empty());
    assert_eq!(z.report.resolutions.len(), 3);
    assert!(z.report.summary.closed.is_some());
    synced(r, 4).await; // the day.closed record
    let hub_day = d.hub_day(day).await;
    assert_eq!(hub_day["z_report"], true, "{hub_day}");
    assert_eq!(hub_day["totals_match"], true, "{hub_day}");
    assert_eq!(hub_day["report_sha256"], z.sha256.as_str());

    // A closed day cannot be altered: not by SQL, not by the engine.
    let db = rusqlite::Connection::open(r.home.path().join("journal.db")).unwrap();
    let upd = db.execute("UPDATE day_closes SET report = '{}'", []);
    assert!(upd.unwrap_err().to_string().contains("cannot be changed"));
    assert!(db.execute("DELETE FROM day_closes", []).is_err());
    assert!(r.engine.close_day(day, "someone").await.is_err());
    assert!(r
        .engine
        .resolve(
            day,
            &lost_id,
            Resolution::Acknowledge { note: "x".into() },
            "manager"
        )
        .await
        .is_err());

    // A late refund is an adjustment of the next day; the Z-report does not move.
    r.engine
        .refund(&refunded.id, None, Some("late"), "manager")
        .await
        .unwrap();
    let again = r.engine.z_report(day).unwrap().unwrap();
    assert_eq!(again.sha256, z.sha256);
    assert_eq!(again.report, z.report);
    let next = day.succ_opt().unwrap();
    let n = r.engine.day_summary(next).unwrap();
    assert_eq!(n.adjustments.len(), 1, "{n:#?}");
    assert_eq!(n.adjustments[0].amount.amount, "-70.00");
    assert_eq!(n.adjustments[0].payment_day, day);
    synced(r, 5).await;
    let hub_day = d.hub_day(day).await;
    assert_eq!(hub_day["totals_match"], true, "{hub_day}");
    assert_eq!(r.engine.closed_days().unwrap().len(), 1);

    // CSV round-trips through a CSV parser.
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("day.csv");
    assert_eq!(r.engine.export_csv(day, &csv_path).unwrap(), 6);
    let mut rd = csv::Reader::from_path(&csv_path).unwrap();
    let headers = rd.headers().unwrap().clone();
    assert_eq!(&headers[0], "id");
    let rows: Vec<csv::StringRecord> = rd.records().map(|x| x.unwrap()).collect();
    assert_eq!(rows.len(), 6);
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let row = rows.iter().find(|x| x[col("id")] == *wrong).unwrap();
    assert_eq!(&row[col("amount")], "12.50");
    assert_eq!(&row[col("currency")], "USD");
    assert_eq!(&row[col("state")], "flagged");
    assert!(row[col("flag")].starts_with("amount_mismatch"));
    let row = rows.iter().find(|x| x[col("id")] == *refunded.id).unwrap();
    assert_eq!(&row[col("refunded")], "100.00");

    // The PDF opens and its text holds the totals.
    let pdf_path = dir.path().join("z.pdf");
    r.engine.export_pdf(day, &pdf_path).await.unwrap();
    let out = std::process::Command::new("pdftotext")
        .args([pdf_path.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext is installed (poppler-utils)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    // Amounts with their signs, and the shop's name in Bangla: the fonts are embedded
    // and every glyph maps back to its text.
    for needle in [
        "Z-report",
        "closed",
        "৳ 100.00",
        "৳ 30.00",
        "৳ 70.00",
        "៛ 40,000",
        "রহিম স্টোর",
        "returned by bank transfer",
        &z.sha256,
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
    // Every font is embedded (a reader without Noto prints the same), as a subset.
    let fonts = std::process::Command::new("pdffonts")
        .arg(&pdf_path)
        .output()
        .expect("pdffonts is installed (poppler-utils)");
    let fonts = String::from_utf8_lossy(&fonts.stdout);
    let rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert!(
        rows.iter().any(|l| l.contains("NotoSansBengali"))
            && rows.iter().any(|l| l.contains("NotoSansKhmer")),
        "{fonts}"
    );
    for row in &rows {
        let cols: Vec<&str> = row.split_whitespace().collect();
        // name type… encoding emb sub uni object ID: emb, sub, uni all "yes".
        let n = cols.len();
        assert!(
            n >= 7 && cols[n - 5..n - 2] == ["yes", "yes", "yes"],
            "{row}\n{fonts}"
        );
    }
    let size = std::fs::metadata(&pdf_path).unwrap().len();
    assert!(
        size < 150_000,
        "the report is {size} bytes: fonts not subset?"
    );
}

#[tokio::test]
async fn unreachable_provider_is_a_section_not_an_error() {
    let d = day_rig().await;
    let r = &d.r;
    let day = r.engine.today();
    let (id, qr) = khqr(r, khr("2000")).await;
    r.bakong_pay(&qr, None).await;
    r.wait_state(&id, PaymentState::Settled, Duration::from_secs(10))
        .await;
    synced(r, 1).await;
    r.sandbox
        .add_faults([serde_json::from_value(serde_json::json!({
            "endpoint": "bakong.*", "kind": "status", "status": 503
        }))
        .unwrap()]);
    let rec = r.engine.reconcile(day).await.unwrap();
    let bakong = rec
        .providers
        .iter()
        .find(|p| p.provider == ProviderKind::Bakong)
        .unwrap();
    assert_eq!(
        bakong.status,
        till_core::report::reconcile::CheckStatus::CouldNotCheck
    );
    assert_eq!(rec.disagreements.len(), 1, "{:#?}", rec.disagreements);
    assert_eq!(rec.disagreements[0].id, "not_checked:bakong");
    // The hub side still compares.
    assert_eq!(rec.hub.totals_match, Some(true));
    // Closing needs the unchecked side acknowledged.
    assert!(r.engine.close_day(day, "manager").await.is_err());
    r.engine
        .resolve(
            day,
            "not_checked:bakong",
            Resolution::Acknowledge {
                note: "Bakong down at closing".into(),
            },
            "manager",
        )
        .await
        .unwrap();
    let z = r.engine.close_day(day, "manager").await.unwrap();
    assert_eq!(z.report.reconciliation.disagreements.len(), 1);
}
