//! `till report`: the day's report as readable text (or JSON), with CSV and
//! PDF exports; `--close` closes the day (Z-report). A closed day prints its
//! stored Z-report; an open one a fresh X-report, which reconciles the day
//! with the providers and the hub.

use anyhow::Context;
use chrono::NaiveDate;
use till_core::report::pdf::plain;
use till_core::report::reconcile::CheckStatus;
use till_core::report::{Report, ZReport};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The business day: YYYY-MM-DD, `today` or `yesterday` (default: today).
    #[arg(long, default_value = "today")]
    pub day: String,
    /// Write the day's payments as CSV to this file.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<std::path::PathBuf>,
    /// Write the report as PDF to this file.
    #[arg(long, value_name = "FILE")]
    pub pdf: Option<std::path::PathBuf>,
    /// Acknowledge a disagreement by its id (repeatable; needs --note).
    #[arg(long = "acknowledge", value_name = "ID")]
    pub acknowledge: Vec<String>,
    /// Why the acknowledged disagreements are accepted.
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// Close the day (refused while a disagreement is not acknowledged).
    #[arg(long)]
    pub close: bool,
    // --close and --acknowledge need the manager PIN; the Z-report names the PIN session.
    #[command(flatten)]
    pub pin: super::auth::PinArgs,
    /// Print the report as one JSON object.
    #[arg(long)]
    pub json: bool,
}

fn parse_day(text: &str, today: NaiveDate) -> anyhow::Result<NaiveDate> {
    match text.trim() {
        "today" => Ok(today),
        "yesterday" => today.pred_opt().context("there is no day before today"),
        t => NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .with_context(|| format!("--day must be YYYY-MM-DD, today or yesterday, not {t:?}")),
    }
}

pub async fn run(a: Args, home: &std::path::Path) -> anyhow::Result<i32> {
    let session = if a.close || !a.acknowledge.is_empty() {
        Some(super::auth::manager(home, &a.pin).await?)
    } else {
        None
    };
    let engine = super::open_engine(home, false).await?;
    let result = report(&engine, a, session.as_ref()).await;
    engine.shutdown().await;
    result
}

async fn report(
    engine: &till_core::Engine,
    a: Args,
    session: Option<&crate::pin::Session>,
) -> anyhow::Result<i32> {
    let day = parse_day(&a.day, engine.today())?;
    // `run` asked for the PIN whenever this report acts.
    let by = || {
        session
            .map(|s| s.actor())
            .context("closing or acknowledging needs the manager PIN")
    };
    for id in &a.acknowledge {
        let note = a
            .note
            .clone()
            .context("--acknowledge needs --note saying why")?;
        engine
            .resolve(
                day,
                id,
                till_core::report::Resolution::Acknowledge { note },
                by()?,
            )
            .await?;
    }
    if a.close {
        engine.close_day(day, by()?).await?;
        if engine.config().hub.url.is_some() {
            if let Err(e) = engine.sync_now().await {
                eprintln!("till: the day is closed; its report will reach the hub later ({e})");
            }
        }
    }
    let (z, x) = match engine.z_report(day)? {
        Some(z) => (Some(z), None),
        None => (None, Some(engine.x_report(day).await?)),
    };
    let r: &Report = z
        .as_ref()
        .map(|z| &z.report)
        .or(x.as_ref())
        .expect("one report");
    if let Some(path) = &a.csv {
        let n = engine.export_csv(day, path)?;
        eprintln!("wrote {n} payment(s) to {}", path.display());
    }
    if let Some(path) = &a.pdf {
        let bytes = match &z {
            Some(z) => till_core::report::pdf::render(z),
            None => till_core::report::pdf::render(r),
        }?;
        std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("wrote the report to {}", path.display());
    }
    if a.json {
        let v = match &z {
            Some(z) => serde_json::to_value(z)?,
            None => serde_json::to_value(r)?,
        };
        super::output::print_json(&v);
    } else {
        print!("{}", text(r, z.as_ref()));
    }
    Ok(if z.is_some() || r.unresolved.is_empty() {
        0
    } else {
        1
    })
}

fn status_word(s: &CheckStatus) -> &'static str {
    match s {
        CheckStatus::Checked => "checked",
        CheckStatus::CouldNotCheck => "could not check",
        CheckStatus::NotConfigured => "not set up",
        CheckStatus::NotApplicable => "nothing to check",
    }
}

/// The report for people.
fn text(r: &Report, z: Option<&ZReport>) -> String {
    use std::fmt::Write;
    let s = &r.summary;
    let mut o = String::new();
    let _ = match z {
        Some(z) => writeln!(
            o,
            "Z-report {} — closed by {} at {}",
            r.day,
            z.closed_by,
            z.closed_at.format("%Y-%m-%d %H:%M UTC")
        ),
        None => writeln!(o, "X-report {} — the day is not closed", r.day),
    };
    let _ = writeln!(
        o,
        "{} · terminal {} · {} · day starts {}",
        r.shop_name, r.terminal_id, s.timezone, s.cutoff
    );
    let _ = writeln!(o, "\nTotals");
    if s.totals.is_empty() {
        let _ = writeln!(o, "  no money taken");
    }
    for t in &s.totals {
        let _ = writeln!(
            o,
            "  {}  settled {} ({})  refunded {} ({})  net {}",
            t.currency,
            plain(&t.settled),
            t.settled_count,
            plain(&t.refunded),
            t.refund_count,
            plain(&t.net)
        );
    }
    for w in &s.wallets {
        let _ = writeln!(
            o,
            "    {:<7} {}  settled {}  refunded {}  net {}",
            w.provider.as_str(),
            w.currency,
            plain(&w.settled),
            plain(&w.refunded),
            plain(&w.net)
        );
    }
    let _ = writeln!(o, "\nPayments of the day: {}", s.payment_count);
    for b in &s.by_state {
        let _ = writeln!(
            o,
            "  {:<7} {:<19} {:>3}  {}",
            b.provider.as_str(),
            b.state.as_str(),
            b.count,
            plain(&b.amount)
        );
    }
    if !s.adjustments.is_empty() {
        let _ = writeln!(o, "\nAdjustments from closed days");
        for a in &s.adjustments {
            let _ = writeln!(
                o,
                "  {} of {}  {}",
                a.invoice,
                a.payment_day,
                plain(&a.amount)
            );
        }
    }
    for p in s.flagged.iter().chain(&s.open) {
        let _ = writeln!(
            o,
            "  ! {} {} {} {}{}",
            p.local_time,
            p.invoice,
            plain(&p.amount),
            p.state,
            p.flag
                .as_deref()
                .map(|f| format!(" ({f})"))
                .unwrap_or_default()
        );
    }
    let _ = writeln!(
        o,
        "\nSync: {} acknowledged, {} waiting, {} dead letters",
        s.sync.delivered, s.sync.unsynced, s.sync.dead_letters
    );
    let rec = &r.reconciliation;
    let _ = writeln!(o, "\nReconciliation");
    for p in &rec.providers {
        let _ = writeln!(
            o,
            "  {:<7} {} — {} asked, {} agree{}",
            p.provider.as_str(),
            status_word(&p.status),
            p.checked,
            p.agreed,
            p.message
                .as_deref()
                .map(|m| format!(" ({m})"))
                .unwrap_or_default()
        );
    }
    let _ = writeln!(
        o,
        "  hub     {} — totals {}{}",
        status_word(&rec.hub.status),
        match rec.hub.totals_match {
            Some(true) => "match",
            Some(false) => "differ",
            None => "not compared",
        },
        rec.hub
            .message
            .as_deref()
            .map(|m| format!(" ({m})"))
            .unwrap_or_default()
    );
    if rec.disagreements.is_empty() {
        let _ = writeln!(o, "  terminal, providers and hub agree");
    }
    for d in &rec.disagreements {
        let st = r.status.iter().find(|x| x.id == d.id);
        let mark = if st.is_some_and(|x| x.acknowledged) {
            "acknowledged"
        } else {
            "OPEN"
        };
        let _ = writeln!(o, "  [{mark}] {}", d.explanation);
        let _ = writeln!(o, "          {}", d.id);
        if let Some(res) = st.and_then(|x| x.last_resolution.as_ref()) {
            let _ = writeln!(
                o,
                "          {} by {}: {}",
                res.action,
                res.by,
                res.note.as_deref().or(res.outcome.as_deref()).unwrap_or("")
            );
        }
    }
    if let Some(z) = z {
        let _ = writeln!(o, "\nsha256 {}", z.sha256);
    } else if !r.unresolved.is_empty() {
        let _ = writeln!(
            o,
            "\n{} disagreement(s) to resolve before closing (the manager screen, or acknowledge them there).",
            r.unresolved.len()
        );
    }
    o
}
