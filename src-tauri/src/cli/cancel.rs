use super::output;

#[derive(clap::Args, Debug)]
pub struct Args {
    pub id: String,
    /// Who cancels (audit log).
    #[arg(long, default_value = "cli")]
    pub operator: String,
    #[arg(long)]
    pub json: bool,
}

pub async fn run(a: Args, home: &std::path::Path) -> anyhow::Result<i32> {
    let engine = super::open_engine(home, false).await?;
    let result = engine.cancel(&a.id, &a.operator).await;
    engine.shutdown().await;
    let p = result?;
    if a.json {
        output::print_json(&output::payment_json(&p));
    } else {
        println!("{}", output::line(&p));
    }
    Ok(0)
}
