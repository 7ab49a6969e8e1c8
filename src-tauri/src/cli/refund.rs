use super::{auth, output};

#[derive(clap::Args, Debug)]
pub struct Args {
    pub id: String,
    /// Part of the amount; the whole remainder when absent.
    #[arg(long)]
    pub amount: Option<String>,
    #[arg(long)]
    pub reason: Option<String>,
    /// Record a refund made outside Till (the wallet's merchant portal, a bank
    /// transfer), with its reference there; for wallets Till cannot refund through.
    #[arg(long, value_name = "REFERENCE")]
    pub made_elsewhere: Option<String>,
    #[command(flatten)]
    pub pin: auth::PinArgs,
    #[arg(long)]
    pub json: bool,
}

/// Needs the manager PIN; the refund is the PIN session's (`manager@cli`).
pub async fn run(a: Args, home: &std::path::Path) -> anyhow::Result<i32> {
    let session = auth::manager(home, &a.pin).await?;
    let engine = super::open_engine(home, false).await?;
    let p = engine.payment(&a.id)?;
    let amount = a
        .amount
        .as_deref()
        .map(|t| till_core::Amount::parse(t, p.amount.currency()))
        .transpose()?;
    let result = match &a.made_elsewhere {
        Some(reference) => engine.record_refund(
            &p.id,
            amount,
            reference,
            a.reason.as_deref(),
            session.actor(),
        ),
        None => {
            engine
                .refund(&p.id, amount, a.reason.as_deref(), session.actor())
                .await
        }
    };
    engine.shutdown().await;
    let (p, r) = result?;
    if a.json {
        let mut v = output::payment_json(&p);
        v["refund"] = serde_json::to_value(&r)?;
        output::print_json(&v);
    } else {
        println!("{}", output::line(&p));
        println!(
            "  refund {} of {}: {}{}",
            r.id,
            r.amount.display(),
            r.state.as_str(),
            r.failure_reason
                .map(|f| format!(" — {f}"))
                .unwrap_or_default()
        );
    }
    Ok(match r.state {
        till_core::payment::RefundState::Failed => 1,
        _ => 0,
    })
}
