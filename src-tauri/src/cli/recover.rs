use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Give up waiting after this many seconds (open payments stay open).
    #[arg(long, default_value_t = 60)]
    pub wait: u64,
}

pub async fn run(a: Args, home: &std::path::Path) -> anyhow::Result<i32> {
    let engine = super::open_engine(home, true).await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(a.wait);
    let mut open;
    loop {
        open = engine.list(&till_core::ListFilter {
            page: 1,
            page_size: 500,
            ..Default::default()
        })?;
        open.retain(|p| p.state.is_open());
        if open.is_empty() || tokio::time::Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    engine.shutdown().await;
    if open.is_empty() {
        println!("every payment is final");
        Ok(0)
    } else {
        for p in &open {
            println!("still open: {}", super::output::line(p));
        }
        Ok(1)
    }
}
