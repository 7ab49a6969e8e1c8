use super::auth;
use std::io::Read;
use till_core::secrets::{names, Secret, SharedSecrets};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(clap::Subcommand, Debug)]
pub enum Action {
    /// Store a secret; the value is read from standard input (never an argument). Needs the
    /// manager PIN.
    Set {
        name: String,
        #[command(flatten)]
        pin: auth::PinArgs,
    },
    /// Remove a secret from the keyring. Needs the manager PIN.
    Delete {
        name: String,
        #[command(flatten)]
        pin: auth::PinArgs,
    },
    /// Which secrets are set (names only, never values).
    List,
}

pub async fn run(a: Args, store: SharedSecrets, home: &std::path::Path) -> anyhow::Result<i32> {
    match a.action {
        Action::Set { name, pin } => {
            // The PIN first (on the terminal or its descriptor), then the value on stdin.
            let session = auth::manager(home, &pin).await?;
            let mut value = String::new();
            std::io::stdin().read_to_string(&mut value)?;
            let value = value.trim_end_matches(['\r', '\n']);
            if value.is_empty() {
                anyhow::bail!("no value on standard input");
            }
            store.set(&name, &Secret::new(value))?;
            auth::audit(home, session.actor(), "secret.set", Some(&name)).await;
            println!("{name} stored in the OS keyring");
        }
        Action::Delete { name, pin } => {
            let session = auth::manager(home, &pin).await?;
            store.delete(&name)?;
            auth::audit(home, session.actor(), "secret.delete", Some(&name)).await;
            println!("{name} removed");
        }
        Action::List => {
            for n in names::ALL {
                let state = match store.get(n) {
                    Ok(Some(_)) => "set",
                    Ok(None) => "not set",
                    Err(_) => "keyring unavailable",
                };
                println!("{n:<20} {state}");
            }
        }
    }
    Ok(0)
}
