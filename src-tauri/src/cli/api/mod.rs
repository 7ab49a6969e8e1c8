//! `till api …`: the local terminal API the shop's POS starts charges
//! through (`till-terminal-api`): pairing keys, the refund requests a
//! manager decides, serving it headless, and its OpenAPI document.
//! One file per command.

mod key;
mod openapi;
mod requests;
mod serve;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Pair a POS (`key add --name "POS 1"`: the key is shown once), list keys, revoke one.
    Key(key::Args),
    /// Refund requests from the POS: list them, approve one (the refund is made) or decline it.
    Requests(requests::Args),
    /// Serve the API without a window (a headless counter): `[api]` of till.toml.
    Serve(serve::Args),
    /// Print the API's OpenAPI 3 document (as docs/terminal-api.openapi.json).
    Openapi,
}

pub async fn run(a: Args, home: &std::path::Path) -> anyhow::Result<i32> {
    match a.command {
        Command::Key(k) => key::run(k, home).await,
        Command::Requests(r) => requests::run(r, home).await,
        Command::Serve(s) => serve::run(s, home).await,
        Command::Openapi => openapi::run(),
    }
}
