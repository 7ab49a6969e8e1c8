//! The `till-hub user …` commands, one file each; the clap definitions are
//! in `main.rs`, the work in [`till_hub::office::users`].

pub mod user_add;
pub mod user_disable;
pub mod user_list;
pub mod user_passwd;

use anyhow::{bail, Context};
use std::io::{BufRead, IsTerminal};

/// A new password: the first line of stdin with `--password-stdin`, else
/// asked twice on the terminal without echo.
pub fn new_password(username: &str, from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from stdin")?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    if !std::io::stdin().is_terminal() {
        bail!("no terminal to ask the password on: give it on stdin with --password-stdin");
    }
    let first = rpassword::prompt_password(format!("New password for {username}: "))
        .context("reading the password")?;
    let again =
        rpassword::prompt_password("The same password again: ").context("reading the password")?;
    if first != again {
        bail!("the two passwords differ; nothing was changed");
    }
    Ok(first)
}
