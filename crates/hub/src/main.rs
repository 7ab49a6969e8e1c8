//! `till-hub`: the command line. Definitions and glue only; everything it
//! does is a library function of `till_hub`.

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::str::FromStr;
use till_hub::{Admin, HubConfig, NewKey};
use till_sync_proto::VerifyingKey;

#[derive(Parser)]
#[command(
    name = "till-hub",
    version,
    about = "Till's central settlement backend"
)]
struct Cli {
    /// Database: `sqlite:///path/hub.db`, a plain path, or `postgres://user@host/db`.
    #[arg(
        long,
        global = true,
        env = "TILL_HUB_DATABASE",
        default_value = "sqlite://till-hub.db"
    )]
    database: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the webhook and read APIs.
    Serve {
        #[arg(long, env = "TILL_HUB_LISTEN", default_value = "127.0.0.1:8787")]
        listen: String,
        /// Read-API bearer token(s), comma-separated, besides stored ones.
        #[arg(
            long,
            env = "TILL_HUB_READ_TOKEN",
            value_delimiter = ',',
            hide_env_values = true
        )]
        read_token: Vec<String>,
        /// Largest single-event body, bytes.
        #[arg(long, default_value_t = till_hub::config::DEFAULT_SINGLE_LIMIT)]
        max_event_bytes: usize,
        /// Largest batch body, bytes.
        #[arg(long, default_value_t = till_hub::config::DEFAULT_BATCH_LIMIT)]
        max_batch_bytes: usize,
        /// Allowed clock difference for webhook-timestamp, seconds.
        #[arg(long, default_value_t = till_sync_proto::DEFAULT_TOLERANCE_SECS)]
        tolerance: i64,
        /// Serve HTTPS with this PEM certificate chain (leaf first). Without
        /// --tls-cert/--tls-key the hub speaks plain HTTP: put it behind a
        /// reverse proxy that terminates TLS, or keep it on loopback.
        #[arg(long, env = "TILL_HUB_TLS_CERT", requires = "tls_key")]
        tls_cert: Option<std::path::PathBuf>,
        /// The PEM private key of --tls-cert.
        #[arg(long, env = "TILL_HUB_TLS_KEY", requires = "tls_cert")]
        tls_key: Option<std::path::PathBuf>,
    },
    /// Manage terminals and their keys.
    #[command(subcommand)]
    Terminal(TerminalCmd),
    /// Manage read-API tokens.
    #[command(subcommand)]
    Token(TokenCmd),
    /// Per terminal and business day: did a Z-report arrive, do its totals match (JSON).
    Days {
        #[arg(long)]
        terminal: Option<String>,
        /// YYYY-MM-DD
        #[arg(long)]
        day: Option<chrono::NaiveDate>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
}

#[derive(Subcommand)]
enum TerminalCmd {
    /// Register a terminal. Prints a fresh whsec_ secret unless --public-key is given.
    Add {
        id: String,
        /// The terminal's ed25519 public key (whpk_…): the hub then holds no secret.
        #[arg(long)]
        public_key: Option<String>,
        #[arg(long)]
        name: Option<String>,
    },
    /// Add a key (new whsec_ secret, or --public-key). Old keys stay valid until retire-key.
    Rotate {
        id: String,
        #[arg(long)]
        public_key: Option<String>,
    },
    /// Retire a key (--key-id), or every active key but the newest.
    RetireKey {
        id: String,
        #[arg(long)]
        key_id: Option<i64>,
    },
    /// Refuse the terminal from now on (its posts get 410 Gone).
    Disable { id: String },
    /// Accept a disabled terminal again.
    Enable { id: String },
    /// List terminals, keys and sync progress (JSON).
    List,
}

#[derive(Subcommand)]
enum TokenCmd {
    /// Create a read-API token and print it (only its hash is stored).
    Add {
        #[arg(long, default_value = "cli")]
        label: String,
    },
}

fn new_key(public_key: Option<String>) -> anyhow::Result<NewKey> {
    Ok(match public_key {
        None => NewKey::GenerateHmac,
        Some(text) => NewKey::Existing(
            VerifyingKey::from_str(&text).with_context(|| format!("--public-key {text:?}"))?,
        ),
    })
}

fn print_added(id: &str, added: &till_hub::AddedKey) {
    match &added.secret {
        Some(secret) => {
            eprintln!("terminal {id}: key {} added; configure the terminal with this secret (shown once):", added.key_id);
            println!("{}", secret.to_text());
        }
        None => eprintln!("terminal {id}: key {} added", added.key_id),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve {
            listen,
            read_token,
            max_event_bytes,
            max_batch_bytes,
            tolerance,
            tls_cert,
            tls_key,
        } => {
            let mut config = HubConfig::new(listen, cli.database);
            if let (Some(cert), Some(key)) = (tls_cert, tls_key) {
                config.tls = Some(till_hub::ServerTls::from_pem_files(&cert, &key)?);
            }
            config.read_tokens = read_token;
            config.single_body_limit = max_event_bytes;
            config.batch_body_limit = max_batch_bytes;
            config.tolerance_secs = tolerance;
            let hub = till_hub::start(config).await?;
            eprintln!("till-hub listening on {}", hub.base_url());
            tokio::signal::ctrl_c().await?;
            hub.shutdown().await;
        }
        Command::Terminal(cmd) => {
            let store = till_hub::open_store(&cli.database).await?;
            let admin = Admin::new(store.clone());
            match cmd {
                TerminalCmd::Add {
                    id,
                    public_key,
                    name,
                } => {
                    let added = admin
                        .add_terminal(&id, name.as_deref(), new_key(public_key)?)
                        .await?;
                    print_added(&id, &added);
                }
                TerminalCmd::Rotate { id, public_key } => {
                    let added = admin.rotate(&id, new_key(public_key)?).await?;
                    print_added(&id, &added);
                }
                TerminalCmd::RetireKey { id, key_id } => {
                    let retired = admin.retire_key(&id, key_id).await?;
                    eprintln!("terminal {id}: retired key(s) {retired:?}");
                }
                TerminalCmd::Disable { id } => {
                    admin.disable(&id).await?;
                    eprintln!("terminal {id}: disabled");
                }
                TerminalCmd::Enable { id } => {
                    admin.enable(&id).await?;
                    eprintln!("terminal {id}: enabled");
                }
                TerminalCmd::List => {
                    let list = store.terminals().await?;
                    println!("{}", serde_json::to_string_pretty(&list)?);
                }
            }
        }
        Command::Days {
            terminal,
            day,
            limit,
        } => {
            let store = till_hub::open_store(&cli.database).await?;
            let list = till_hub::days::days(&*store, terminal.as_deref(), day, limit).await?;
            println!("{}", serde_json::to_string_pretty(&list)?);
        }
        Command::Token(TokenCmd::Add { label }) => {
            let store = till_hub::open_store(&cli.database).await?;
            let token = Admin::new(store).add_token(&label).await?;
            println!("{token}");
        }
    }
    Ok(())
}
