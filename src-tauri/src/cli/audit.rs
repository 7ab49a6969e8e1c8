//! `till audit verify`: recomputes the audit chain (audit log + Z-reports)
//! from the journal and names the first row that does not verify.

use super::output;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
}

#[derive(clap::Subcommand, Debug)]
pub enum What {
    /// Check the hash chain of the audit log and the Z-reports; exit 1 if it breaks.
    Verify {
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(a: Args, home: &std::path::Path) -> anyhow::Result<i32> {
    let What::Verify { json } = a.what;
    let engine = super::open_engine(home, false).await?;
    let report = engine.verify_chain()?;
    engine.shutdown().await;
    if json {
        output::print_json(&serde_json::to_value(&report)?);
    } else {
        match &report.first_break {
            None => println!(
                "audit chain intact: {} rows, head {}",
                report.count, report.head
            ),
            Some(b) => println!(
                "audit chain BROKEN at row {} of {} ({} {}): {}",
                b.index,
                report.count,
                b.table,
                if b.row.is_empty() { "-" } else { &b.row },
                b.reason
            ),
        }
    }
    Ok(if report.first_break.is_some() { 1 } else { 0 })
}
