use std::io::Read;
use till_core::secrets::{names, Secret, SharedSecrets};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(clap::Subcommand, Debug)]
pub enum Action {
    /// Store a secret; the value is read from standard input (never an argument).
    Set { name: String },
    /// Remove a secret from the keyring.
    Delete { name: String },
    /// Which secrets are set (names only, never values).
    List,
}

pub fn run(a: Args, store: SharedSecrets) -> anyhow::Result<i32> {
    match a.action {
        Action::Set { name } => {
            let mut value = String::new();
            std::io::stdin().read_to_string(&mut value)?;
            let value = value.trim_end_matches(['\r', '\n']);
            if value.is_empty() {
                anyhow::bail!("no value on standard input");
            }
            store.set(&name, &Secret::new(value))?;
            println!("{name} stored in the OS keyring");
        }
        Action::Delete { name } => {
            store.delete(&name)?;
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
