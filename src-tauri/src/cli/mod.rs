//! The headless command line of the `till` binary. With a subcommand, Till
//! never opens a window: it opens the same journal and engine the desktop
//! app uses, does one thing and exits. One file per command.

mod api;
mod audit;
mod auth;
mod cancel;
mod charge;
mod connect;
mod kiosk;
mod list;
mod output;
mod pin;
mod recover;
mod refund;
mod report;
mod secret;
mod status;
mod sync;

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::sync::Arc;
use till_core::secrets::{EnvOverlay, KeyringStore, SharedSecrets};
use till_core::{Config, Engine, EngineOptions};

/// Till: a payment terminal for shop counters. Without a command it opens the app.
#[derive(Parser, Debug)]
#[command(name = "till", version, about)]
pub struct Cli {
    /// Data directory (journal, till.toml, logs). Default: $TILL_HOME, else $XDG_DATA_HOME/till, else ~/.local/share/till.
    #[arg(long, global = true, env = "TILL_HOME")]
    pub home: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Take a payment and follow it until it ends.
    Charge(charge::Args),
    /// Show one payment (by id, invoice, paymentID, trxID or MD5).
    Status(status::Args),
    /// Cancel a payment the customer has not completed.
    Cancel(cancel::Args),
    /// Refund a paid payment, in full or in part.
    Refund(refund::Args),
    /// List payments, newest first.
    List(list::Args),
    /// Resolve every payment left open (asks the providers) and wait for the answers.
    Recover(recover::Args),
    /// Store, remove or list the secrets in the OS keyring.
    Secret(secret::Args),
    /// Deliver pending settlements to the hub now and show the sync state.
    Sync(sync::Args),
    /// The day's report (X, or Z once closed), CSV and PDF exports, closing the day.
    Report(report::Args),
    /// Test the connection to the wallets or the hub: one real, harmless call each.
    Connect(connect::Args),
    /// Choose, change or reset the manager PIN (the window's too), or show how it stands.
    Pin(pin::Args),
    /// Check the hash chain of the audit log and the Z-reports (`till audit verify`).
    Audit(audit::Args),
    /// Start Till at login as a kiosk, restarted whenever it exits (`enable`, `disable`).
    Kiosk(kiosk::Args),
    /// The local terminal API for the shop's POS: `key add|list|revoke`, `requests`, `serve`.
    Api(api::Args),
}

/// Exit codes: 0 done, 1 refused/failed, 2 bad usage or configuration.
pub fn run(cli: Cli) -> i32 {
    let Some(command) = cli.command else {
        return 2;
    };
    let home = cli.home.unwrap_or_else(till_core::engine::default_home);
    let _log_guard = init_logging(&home);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("till: cannot start the async runtime: {e}");
            return 2;
        }
    };
    let result = runtime.block_on(async move {
        match command {
            Command::Secret(a) => secret::run(a, secrets(), &home).await,
            Command::Charge(a) => charge::run(a, &home).await,
            Command::Status(a) => status::run(a, &home).await,
            Command::Cancel(a) => cancel::run(a, &home).await,
            Command::Refund(a) => refund::run(a, &home).await,
            Command::List(a) => list::run(a, &home).await,
            Command::Recover(a) => recover::run(a, &home).await,
            Command::Sync(a) => sync::run(a, &home).await,
            Command::Report(a) => report::run(a, &home).await,
            Command::Pin(a) => pin::run(a, &home).await,
            Command::Connect(a) => connect::run(a, &home).await,
            Command::Audit(a) => audit::run(a, &home).await,
            Command::Kiosk(a) => kiosk::run(a, &home).await,
            Command::Api(a) => api::run(a, &home).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("till: {e:#}");
            tracing::error!(error = %format!("{e:#}"), "command failed");
            1
        }
    }
}

/// The keyring (service `$TILL_KEYRING_SERVICE`, default `till`) under the
/// `TILL_SECRET_*` environment overlay.
pub fn secrets() -> SharedSecrets {
    let service = std::env::var("TILL_KEYRING_SERVICE").unwrap_or_else(|_| "till".into());
    Arc::new(EnvOverlay::new(KeyringStore::new(service)))
}

/// Opens the engine on `home` with the configuration found there (the
/// journal of demo mode or of production: [`Config::data_dir`]).
pub async fn open_engine(home: &std::path::Path, background: bool) -> anyhow::Result<Engine> {
    let config = Config::load(home)?;
    let data = config.data_dir(home);
    std::fs::create_dir_all(&data).with_context(|| format!("cannot create {}", data.display()))?;
    let engine = Engine::open(EngineOptions {
        home: data,
        config,
        secrets: secrets(),
        clock: till_core::Clock::system(),
        background,
    })
    .await?;
    Ok(engine)
}

/// Logs go to `<home>/logs/till.log` as JSON lines (and warnings to stderr), rotated
/// by size with a bounded number of old files kept (`[storage] log_file_mb`,
/// `log_files_kept`; [`till_core::logfile`]).
pub fn init_logging(home: &std::path::Path) -> Option<()> {
    use tracing_subscriber::prelude::*;
    // A till.toml that does not load is told by the command (or the window) itself;
    // the log then rotates by the defaults rather than not at all.
    let storage = Config::load(home).map(|c| c.storage).unwrap_or_default();
    let file = till_core::logfile::LogFile::open(&home.join("logs"), &storage).ok()?;
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("TILL_LOG").unwrap_or_else(|_| "info".into());
    let file_layer = tracing_subscriber::fmt::layer()
        .json()
        .with_writer(std::sync::Mutex::new(file));
    let stderr_layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(tracing_subscriber::filter::LevelFilter::WARN);
    tracing_subscriber::registry()
        .with(filter)
        .with(file_layer)
        .with(stderr_layer)
        .try_init()
        .ok()?;
    Some(())
}

/// Parses `--amount` with the provider's default currency when none is given.
pub fn amount_for(
    engine: &Engine,
    provider: till_core::ProviderKind,
    amount: &str,
    currency: Option<&str>,
) -> anyhow::Result<till_core::Amount> {
    let currency = match currency {
        Some(c) => c.parse()?,
        None => engine
            .default_currency_of(provider)
            .unwrap_or(till_core::Currency::Bdt),
    };
    Ok(till_core::Amount::parse(amount, currency)?)
}
