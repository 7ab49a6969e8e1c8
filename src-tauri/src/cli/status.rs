use super::output;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Payment id, invoice, the provider's payment reference or transaction id, or a code's MD5.
    pub id: String,
    /// Ask the provider now if the payment is still open.
    #[arg(long)]
    pub refresh: bool,
    #[arg(long)]
    pub json: bool,
}

pub async fn run(a: Args, home: &std::path::Path) -> anyhow::Result<i32> {
    let engine = super::open_engine(home, false).await?;
    let p = if a.refresh {
        engine.refresh(&a.id).await?
    } else {
        engine.payment(&a.id)?
    };
    if a.json {
        let mut v = output::payment_json(&p);
        v["events"] = serde_json::to_value(engine.events_of(&p.id)?)?;
        v["refunds"] = serde_json::to_value(engine.refunds_of(&p.id)?)?;
        output::print_json(&v);
    } else {
        println!("{}", output::line(&p));
        for e in engine.events_of(&p.id)? {
            println!(
                "  {}  {:>18} → {:<18} {}",
                e.at.format("%Y-%m-%d %H:%M:%S%.3f"),
                e.from_state.map(|s| s.as_str()).unwrap_or("-"),
                e.to_state.as_str(),
                e.detail.unwrap_or_default()
            );
        }
    }
    engine.shutdown().await;
    Ok(0)
}
