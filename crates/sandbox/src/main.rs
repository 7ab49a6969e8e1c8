//! `till-sandbox --listen 127.0.0.1:PORT [--state FILE] [--seed N] [--faults FILE.toml] [--tls-cert FILE --tls-key FILE]`

use clap::Parser;
use std::path::PathBuf;
use till_sandbox::Config;

/// Local simulators of the bKash Tokenized Checkout, Bakong Open and Nagad merchant APIs.
#[derive(Parser, Debug)]
#[command(name = "till-sandbox", version, about)]
struct Args {
    /// Address to listen on (port 0 = any free port).
    #[arg(long, default_value = "127.0.0.1:7878")]
    listen: String,
    /// SQLite file to keep state across restarts (in memory when absent).
    #[arg(long)]
    state: Option<PathBuf>,
    /// Seed for ids and fault rolls (same seed, same run).
    #[arg(long)]
    seed: Option<u64>,
    /// TOML settings file: `[bkash]`, `[bakong]`, `[nagad]` switches and `[[fault]]` rules.
    #[arg(long, alias = "config")]
    faults: Option<PathBuf>,
    /// Public base URL when the sandbox sits behind a proxy.
    #[arg(long)]
    public_url: Option<String>,
    /// Serve HTTPS with this PEM certificate chain (leaf first).
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "till_sandbox=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let mut config = match &args.faults {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    config.listen = args.listen;
    if let Some(seed) = args.seed {
        config.seed = seed;
    }
    if args.state.is_some() {
        config.state_file = args.state;
    }
    if args.public_url.is_some() {
        config.public_url = args.public_url;
    }
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        config.tls = Some(till_sandbox::TlsIdentity::from_files(cert, key)?);
    }
    let sandbox = till_sandbox::start(config).await?;
    println!("till-sandbox listening on {}", sandbox.origin());
    println!("  bKash base URL:  {}", sandbox.bkash_base_url());
    println!("  Bakong base URL: {}", sandbox.bakong_base_url());
    println!("  Nagad base URL:  {}", sandbox.nagad_base_url());
    println!("  ledger:          {}/sim/ledger", sandbox.origin());
    tokio::signal::ctrl_c().await?;
    sandbox.shutdown().await;
    Ok(())
}
