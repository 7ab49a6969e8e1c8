use super::{auth, output};

#[derive(clap::Args, Debug)]
pub struct Args {
    pub id: String,
    #[command(flatten)]
    pub pin: auth::PinArgs,
    #[arg(long)]
    pub json: bool,
}

/// Needs the manager PIN (any payment by id, unlike the cashier's screen, which cancels the
/// one it shows); the cancel is the PIN session's.
pub async fn run(a: Args, home: &std::path::Path) -> anyhow::Result<i32> {
    let session = auth::manager(home, &a.pin).await?;
    let engine = super::open_engine(home, false).await?;
    let result = engine.cancel(&a.id, session.actor()).await;
    engine.shutdown().await;
    let p = result?;
    if a.json {
        output::print_json(&output::payment_json(&p));
    } else {
        println!("{}", output::line(&p));
    }
    Ok(0)
}
