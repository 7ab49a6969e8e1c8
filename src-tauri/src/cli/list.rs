use super::output;
use till_core::ListFilter;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Business day, YYYY-MM-DD.
    #[arg(long)]
    pub day: Option<chrono::NaiveDate>,
    #[arg(long)]
    pub provider: Option<till_core::ProviderKind>,
    #[arg(long)]
    pub state: Option<till_core::PaymentState>,
    /// Invoice, id, trxID, paymentID, MD5 or hash (prefix).
    #[arg(long)]
    pub search: Option<String>,
    #[arg(long, default_value_t = 1)]
    pub page: u32,
    #[arg(long, default_value_t = 50)]
    pub page_size: u32,
    #[arg(long)]
    pub json: bool,
}

pub async fn run(a: Args, home: &std::path::Path) -> anyhow::Result<i32> {
    let engine = super::open_engine(home, false).await?;
    let list = engine.list(&ListFilter {
        day: a.day,
        provider: a.provider,
        state: a.state,
        search: a.search,
        page: a.page,
        page_size: a.page_size,
    })?;
    for p in &list {
        if a.json {
            output::print_json(&output::payment_json(p));
        } else {
            println!("{}", output::line(p));
        }
    }
    if !a.json && list.is_empty() {
        println!("no payments");
    }
    engine.shutdown().await;
    Ok(0)
}
