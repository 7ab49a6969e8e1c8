//! `till-hub`: the command line. Definitions and glue only; everything it
//! does is a library function of `till_hub`.

mod cli;

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use till_hub::store::StoreError;
use till_hub::{
    Admin, AdminError, HubConfig, NewKey, SecretKey, SecretKeyError, SecretKeySource, Store,
};
use till_sync_proto::{SigningKey, VerifyingKey};

/// Where the secret key file is looked for when none is named.
const DEFAULT_SECRET_KEY_FILE: &str = "till-hub-secret.key";
/// The secret key itself (`thk_…`), for deployments that hand secrets over
/// in the environment. Read from the environment only, never an argument.
const SECRET_KEY_ENV: &str = "TILL_HUB_SECRET_KEY";

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
    /// The file holding the hub's secret key (thk_…), which seals the HMAC
    /// secrets stored in the database; keep it out of the database's
    /// backups. Default: ./till-hub-secret.key, when it exists. `init` makes
    /// it. (Or give the key itself in TILL_HUB_SECRET_KEY.)
    #[arg(long, global = true, env = "TILL_HUB_SECRET_KEY_FILE")]
    secret_key_file: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create or migrate the database, and make the secret key file (mode
    /// 0600) unless there is one.
    Init,
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
        /// The shop's time zone for the office dashboard's "today" and its
        /// hours (IANA name, e.g. Asia/Dhaka); default: this machine's.
        #[arg(long, env = "TILL_HUB_OFFICE_TIMEZONE")]
        office_timezone: Option<chrono_tz::Tz>,
        /// When the shop's business day starts (HH:MM), as the terminals'
        /// [business_day] cutoff.
        #[arg(long, env = "TILL_HUB_OFFICE_DAY_CUTOFF", default_value = "00:00", value_parser = parse_cutoff)]
        office_day_cutoff: chrono::NaiveTime,
    },
    /// Manage terminals and their keys.
    #[command(subcommand)]
    Terminal(TerminalCmd),
    /// Manage read-API tokens.
    #[command(subcommand)]
    Token(TokenCmd),
    /// Manage the office dashboard's users (/office/ on the hub).
    #[command(subcommand)]
    User(UserCmd),
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
    /// Register a terminal. By default with a fresh ed25519 key: the hub
    /// keeps its public half and prints the private whsk_ key once, for the
    /// terminal's `hub.signing_key`.
    Add {
        id: String,
        /// The terminal's own ed25519 public key (whpk_…): its private key
        /// then never leaves the terminal.
        #[arg(long, conflicts_with = "hmac")]
        public_key: Option<String>,
        /// A shared HMAC secret (whsec_…) instead, printed once for the
        /// terminal's `hub.secret`; the hub keeps it sealed with its secret key.
        #[arg(long)]
        hmac: bool,
        #[arg(long)]
        name: Option<String>,
    },
    /// Add a key (a fresh ed25519 key, --public-key, or --hmac). Old keys stay
    /// valid until retire-key.
    Rotate {
        id: String,
        #[arg(long, conflicts_with = "hmac")]
        public_key: Option<String>,
        #[arg(long)]
        hmac: bool,
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
    /// List the stored tokens: id, label, created, last used, revoked (JSON;
    /// never the tokens). Tokens given to `serve` by --read-token or
    /// TILL_HUB_READ_TOKEN are not stored and not listed.
    List,
    /// Refuse a stored token from the next request on.
    Revoke { id: i64 },
}

#[derive(Subcommand)]
enum UserCmd {
    /// Add an office user; asks for the password (or reads it from stdin).
    Add {
        name: String,
        /// `read` (every page, no changes) or `admin` (also terminals and keys).
        #[arg(long, value_parser = parse_role)]
        role: till_hub::office::model::Role,
        /// The office's language for them: en, bn or km (default: the browser's).
        #[arg(long)]
        language: Option<String>,
        /// Read the password from the first line of stdin instead of asking.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the office users (JSON; never their password hashes).
    List,
    /// Refuse the user's sign-ins from now on and end their sessions.
    Disable { name: String },
    /// Let a disabled user sign in again.
    Enable { name: String },
    /// Set a new password (lifts a lockout, ends the user's sessions).
    Passwd {
        name: String,
        #[arg(long)]
        password_stdin: bool,
    },
}

fn parse_role(s: &str) -> Result<till_hub::office::model::Role, String> {
    till_hub::office::model::Role::parse(s).ok_or_else(|| format!("{s:?}: use read or admin"))
}

fn parse_cutoff(s: &str) -> Result<chrono::NaiveTime, String> {
    chrono::NaiveTime::parse_from_str(s, "%H:%M").map_err(|_| format!("{s:?}: use HH:MM"))
}

fn new_key(public_key: Option<String>, hmac: bool) -> anyhow::Result<NewKey> {
    Ok(match (public_key, hmac) {
        (Some(text), _) => NewKey::Existing(
            VerifyingKey::from_str(&text).with_context(|| format!("--public-key {text:?}"))?,
        ),
        (None, true) => NewKey::GenerateHmac,
        (None, false) => NewKey::GenerateEd25519,
    })
}

fn print_added(id: &str, added: &till_hub::AddedKey) {
    let key_id = added.key_id;
    match &added.secret {
        Some(secret @ SigningKey::Ed25519(_)) => {
            eprintln!(
                "terminal {id}: ed25519 key {key_id} added; the hub keeps only its public key. \
                 Give the terminal this signing key (shown once) as its secret \
                 hub.signing_key (`till secret set hub.signing_key`, or Settings):"
            );
            println!("{}", secret.to_text());
        }
        Some(secret @ SigningKey::Hmac(_)) => {
            eprintln!(
                "terminal {id}: HMAC key {key_id} added, kept sealed with the hub's secret key. \
                 Give the terminal this secret (shown once) as its secret hub.secret \
                 (`till secret set hub.secret`, or Settings):"
            );
            println!("{}", secret.to_text());
        }
        None => eprintln!("terminal {id}: key {key_id} added"),
    }
}

/// Where this run's secret key comes from: `TILL_HUB_SECRET_KEY`, the named
/// file, or the default file when it exists. `create`: make the file when
/// there is none (`init`).
fn secret_key_source(
    file: Option<&Path>,
    create: bool,
) -> anyhow::Result<(SecretKeySource, String)> {
    if let Some(text) = std::env::var_os(SECRET_KEY_ENV) {
        if file.is_some() {
            anyhow::bail!(
                "the secret key is given twice: {SECRET_KEY_ENV} and --secret-key-file \
                 (TILL_HUB_SECRET_KEY_FILE); give one"
            );
        }
        let text = text.into_string().map_err(|_| SecretKeyError::Malformed {
            origin: SECRET_KEY_ENV.to_string(),
        })?;
        let key = text
            .trim()
            .parse::<SecretKey>()
            .map_err(|_| SecretKeyError::Malformed {
                origin: SECRET_KEY_ENV.to_string(),
            })?;
        let origin = format!("{SECRET_KEY_ENV} (fingerprint {})", key.fingerprint());
        return Ok((SecretKeySource::Key(key), origin));
    }
    let (path, named) = match file {
        Some(p) => (p.to_path_buf(), true),
        None => (PathBuf::from(DEFAULT_SECRET_KEY_FILE), false),
    };
    if create {
        let (key, made) = SecretKey::load_or_create(&path)?;
        let origin = format!(
            "{} ({}, fingerprint {})",
            path.display(),
            if made { "made now, mode 0600" } else { "kept" },
            key.fingerprint()
        );
        return Ok((SecretKeySource::Key(key), origin));
    }
    if named || path.exists() {
        let key = SecretKey::load(&path)?;
        let origin = format!("{} (fingerprint {})", path.display(), key.fingerprint());
        return Ok((SecretKeySource::Key(key), origin));
    }
    Ok((
        SecretKeySource::None,
        format!("none ({DEFAULT_SECRET_KEY_FILE} does not exist)"),
    ))
}

/// What to tell the operator along with a secret key error.
fn key_hint(e: &anyhow::Error) -> Option<&'static str> {
    fn of_store(e: &StoreError) -> Option<&SecretKeyError> {
        match e {
            StoreError::SecretKey(k) => Some(k),
            _ => None,
        }
    }
    let key_err = e.chain().find_map(|c| {
        if let Some(k) = c.downcast_ref::<SecretKeyError>() {
            return Some(k);
        }
        if let Some(s) = c.downcast_ref::<StoreError>() {
            return of_store(s);
        }
        match (
            c.downcast_ref::<till_hub::Error>(),
            c.downcast_ref::<AdminError>(),
        ) {
            (Some(till_hub::Error::Store(s)), _) | (_, Some(AdminError::Store(s))) => of_store(s),
            _ => None,
        }
    })?;
    Some(match key_err {
        SecretKeyError::Missing | SecretKeyError::MissingForNewSecret => {
            "give the hub its secret key: --secret-key-file FILE (or TILL_HUB_SECRET_KEY_FILE, \
             or the key in TILL_HUB_SECRET_KEY; default ./till-hub-secret.key). A new hub makes \
             one with `till-hub init`. ed25519 terminals (the default) need none."
        }
        SecretKeyError::WrongKey { .. } | SecretKeyError::Unsealable { .. } => {
            "use the key file this database's secrets were sealed with; without it the HMAC \
             terminals must be given new keys (`terminal rotate ID`, then `retire-key`)"
        }
        _ => return None,
    })
}

async fn open_store(cli_db: &str, source: &SecretKeySource) -> anyhow::Result<Arc<dyn Store>> {
    Ok(till_hub::open_store_with(cli_db, source).await?)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e:#}");
            if let Some(hint) = key_hint(&e) {
                eprintln!("Hint: {hint}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let init = matches!(cli.command, Command::Init);
    let (secret_key, key_origin) = secret_key_source(cli.secret_key_file.as_deref(), init)?;
    match cli.command {
        Command::Init => {
            eprintln!("secret key: {key_origin}");
            open_store(&cli.database, &secret_key).await?;
            eprintln!(
                "database {} ready. Keep the secret key file out of the database's backups: \
                 without it the hub cannot use its HMAC secrets.",
                cli.database
            );
        }
        Command::Serve {
            listen,
            read_token,
            max_event_bytes,
            max_batch_bytes,
            tolerance,
            tls_cert,
            tls_key,
            office_timezone,
            office_day_cutoff,
        } => {
            let mut config = HubConfig::new(listen, cli.database);
            config.office.timezone = office_timezone;
            config.office.day_cutoff = office_day_cutoff;
            config.secret_key = secret_key;
            tracing::info!(secret_key = %key_origin, "secret key");
            if let (Some(cert), Some(key)) = (tls_cert, tls_key) {
                config.tls = Some(till_hub::ServerTls::from_pem_files(&cert, &key)?);
            }
            config.read_tokens = read_token;
            config.single_body_limit = max_event_bytes;
            config.batch_body_limit = max_batch_bytes;
            config.tolerance_secs = tolerance;
            config.bkash = till_hub::lend::LendConfig::from_env()?;
            let hub = till_hub::start(config).await?;
            eprintln!("till-hub listening on {}", hub.base_url());
            tokio::signal::ctrl_c().await?;
            hub.shutdown().await;
        }
        Command::Terminal(cmd) => {
            let store = open_store(&cli.database, &secret_key).await?;
            let admin = Admin::new(store.clone());
            match cmd {
                TerminalCmd::Add {
                    id,
                    public_key,
                    hmac,
                    name,
                } => {
                    let added = admin
                        .add_terminal(&id, name.as_deref(), new_key(public_key, hmac)?)
                        .await?;
                    print_added(&id, &added);
                }
                TerminalCmd::Rotate {
                    id,
                    public_key,
                    hmac,
                } => {
                    let added = admin.rotate(&id, new_key(public_key, hmac)?).await?;
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
            let store = open_store(&cli.database, &secret_key).await?;
            let list = till_hub::days::days(&*store, terminal.as_deref(), day, limit).await?;
            println!("{}", serde_json::to_string_pretty(&list)?);
        }
        Command::User(cmd) => {
            let users =
                till_hub::office::users::Users::new(open_store(&cli.database, &secret_key).await?);
            match cmd {
                UserCmd::Add {
                    name,
                    role,
                    language,
                    password_stdin,
                } => {
                    cli::user_add::run(&users, &name, role, language.as_deref(), password_stdin)
                        .await?
                }
                UserCmd::List => cli::user_list::run(&users).await?,
                UserCmd::Disable { name } => cli::user_disable::run(&users, &name, false).await?,
                UserCmd::Enable { name } => cli::user_disable::run(&users, &name, true).await?,
                UserCmd::Passwd {
                    name,
                    password_stdin,
                } => cli::user_passwd::run(&users, &name, password_stdin).await?,
            }
        }
        Command::Token(cmd) => {
            let admin = Admin::new(open_store(&cli.database, &secret_key).await?);
            match cmd {
                TokenCmd::Add { label } => {
                    let (id, token) = admin.add_token_with_id(&label).await?;
                    eprintln!("read token {id} ({label}) made; shown once:");
                    println!("{token}");
                }
                TokenCmd::List => {
                    println!("{}", serde_json::to_string_pretty(&admin.tokens().await?)?);
                }
                TokenCmd::Revoke { id } => match admin.revoke_token(id).await? {
                    None => eprintln!("read token {id}: revoked"),
                    Some(at) => eprintln!("read token {id}: already revoked at {at}"),
                },
            }
        }
    }
    Ok(())
}
