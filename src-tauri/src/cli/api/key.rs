//! `till api key add|list|revoke`: pairing the shop's POS. Adding and
//! revoking need the manager PIN (the audit row is the PIN session's); the
//! key is printed once and only its hash is kept.

use crate::cli::auth;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Pair a POS: prints its key once (give it to the POS; it is not kept).
    Add {
        /// How the cashier reads where a charge came from ("POS 1").
        #[arg(long)]
        name: String,
        #[command(flatten)]
        pin: auth::PinArgs,
        #[arg(long)]
        json: bool,
    },
    /// Every paired POS, revoked ones too.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Revoke a POS's key for good (by its id, `pos_…`).
    Revoke {
        id: String,
        #[command(flatten)]
        pin: auth::PinArgs,
    },
}

pub async fn run(a: Args, home: &std::path::Path) -> anyhow::Result<i32> {
    match a.command {
        Command::Add { name, pin, json } => {
            let session = auth::manager(home, &pin).await?;
            let engine = crate::cli::open_engine(home, false).await?;
            let made = engine.add_pos_key(&name, session.actor());
            engine.shutdown().await;
            let made = made?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({"id": made.key.id, "name": made.key.name, "key": made.token})
                );
            } else {
                println!(
                    "Paired {} ({}). Its key, shown this once:",
                    made.key.name, made.key.id
                );
                println!("{}", made.token);
                println!("Give it to the POS as `Authorization: Bearer <key>`; revoke it with `till api key revoke {}`.", made.key.id);
            }
            Ok(0)
        }
        Command::List { json } => {
            let engine = crate::cli::open_engine(home, false).await?;
            let keys = engine.pos_keys();
            engine.shutdown().await;
            let keys = keys?;
            if json {
                for k in &keys {
                    println!("{}", serde_json::to_value(k)?);
                }
            } else if keys.is_empty() {
                println!("No POS is paired. Pair one with `till api key add --name \"POS 1\"`.");
            } else {
                for k in &keys {
                    let state = match (&k.revoked_at, &k.last_used_at) {
                        (Some(at), _) => format!("revoked {}", at.format("%Y-%m-%d %H:%M")),
                        (None, Some(at)) => format!("last used {}", at.format("%Y-%m-%d %H:%M")),
                        (None, None) => "never used".into(),
                    };
                    println!("{}  …{}  {:<20} {}", k.id, k.hint, k.name, state);
                }
            }
            Ok(0)
        }
        Command::Revoke { id, pin } => {
            let session = auth::manager(home, &pin).await?;
            let engine = crate::cli::open_engine(home, false).await?;
            let k = engine.revoke_pos_key(&id, session.actor());
            engine.shutdown().await;
            let k = k?;
            println!("Revoked {} ({}): it is refused from now on.", k.name, k.id);
            Ok(0)
        }
    }
}
