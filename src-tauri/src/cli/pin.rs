//! `till pin`: choose, change or reset the manager PIN, or say how it stands. The same PIN
//! guards the manager window and the privileged commands.

use super::auth::{self, read_new_pin, read_secret, AuthError, Source};
use crate::pin::{Channel, ManagerPin, PinState, RecoveryCode};
use serde_json::json;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(clap::Subcommand, Debug)]
pub enum Action {
    /// Choose the manager PIN (first use only); shows the recovery code once.
    Set {
        /// Read the new PIN from this file descriptor (else asked twice on the terminal).
        #[arg(long, value_name = "FD")]
        pin_fd: Option<i32>,
        #[arg(long)]
        json: bool,
    },
    /// Change the PIN: the current one, then the new one.
    Change {
        /// Read the current PIN from this file descriptor.
        #[arg(long, value_name = "FD")]
        pin_fd: Option<i32>,
        /// Read the new PIN from this file descriptor (may be the same one, next line).
        #[arg(long, value_name = "FD")]
        new_pin_fd: Option<i32>,
        #[arg(long)]
        json: bool,
    },
    /// Choose a new PIN with the recovery code (a forgotten PIN, a lost or damaged PIN
    /// file); shows a new recovery code once.
    Reset {
        /// Read the recovery code from this file descriptor.
        #[arg(long, value_name = "FD")]
        recovery_fd: Option<i32>,
        /// Read the new PIN from this file descriptor (may be the same one, next line).
        #[arg(long, value_name = "FD")]
        new_pin_fd: Option<i32>,
        #[arg(long)]
        json: bool,
    },
    /// Whether a PIN is set, and any lockout in force.
    Status {
        #[arg(long)]
        json: bool,
    },
}

fn show_code(code: &RecoveryCode, json: bool, what: &str) {
    if json {
        super::output::print_json(&json!({ "done": what, "recovery_code": code.reveal() }));
    } else {
        println!("{what}.");
        println!();
        println!("Recovery code: {}", code.reveal());
        println!();
        println!("Write it down and keep it away from the till. It is shown only this once.");
        println!("It chooses a new PIN if this one is forgotten (`till pin reset`).");
    }
}

pub async fn run(a: Args, home: &std::path::Path) -> anyhow::Result<i32> {
    let pin = ManagerPin::new(home);
    match a.action {
        Action::Set { pin_fd, json } => {
            // Refused before asking when a PIN was ever set here.
            pin.may_set_first().map_err(AuthError::from)?;
            let new = read_new_pin(Source::of(pin_fd))?;
            let code = pin
                .set_first_from(&new, Channel::Cli)
                .map_err(AuthError::from)?;
            auth::audit(home, "manager@cli", "pin.set", None).await;
            show_code(&code, json, "Manager PIN set");
        }
        Action::Change {
            pin_fd,
            new_pin_fd,
            json,
        } => {
            let old = read_secret(Source::of(pin_fd), "Current manager PIN: ")?;
            let new = read_new_pin(Source::of(new_pin_fd))?;
            let result = pin.change(&old, &new, Channel::Cli);
            let (session, code) = match result {
                Ok(ok) => ok,
                Err(e) => {
                    auth::audit(home, "manager@cli", "pin.change.refused", None).await;
                    return Err(AuthError::from(e).into());
                }
            };
            auth::audit(home, session.actor(), "pin.change", None).await;
            match code {
                Some(code) => show_code(&code, json, "Manager PIN changed"),
                None if json => super::output::print_json(&json!({"done": "Manager PIN changed"})),
                None => println!("Manager PIN changed."),
            }
        }
        Action::Reset {
            recovery_fd,
            new_pin_fd,
            json,
        } => {
            let code = read_secret(Source::of(recovery_fd), "Recovery code: ")?;
            let new = read_new_pin(Source::of(new_pin_fd))?;
            let (session, next) = match pin.reset(&code, &new, Channel::Cli) {
                Ok(ok) => ok,
                Err(e) => {
                    auth::audit(home, "manager@cli", "pin.reset.refused", None).await;
                    return Err(AuthError::from(e).into());
                }
            };
            auth::audit(home, session.actor(), "pin.reset", None).await;
            show_code(
                &next,
                json,
                "Manager PIN reset; the old recovery code is spent",
            );
        }
        Action::Status { json } => {
            let s = pin.status();
            if json {
                super::output::print_json(&serde_json::to_value(&s)?);
            } else {
                match (s.state, s.damage) {
                    (PinState::NotSet, _) => println!("no manager PIN set (`till pin set`)"),
                    (PinState::Set, _) => println!("manager PIN set"),
                    (PinState::NeedsRecovery, d) => println!(
                        "the manager PIN file is {}: `till pin reset` with the recovery code",
                        d.map(|d| d.to_string()).unwrap_or_default()
                    ),
                }
                if !s.has_recovery_code && s.state == PinState::Set {
                    println!("no recovery code yet: `till pin change` makes one");
                }
                if s.locked_for_s > 0 {
                    println!(
                        "locked after wrong PINs: {} seconds to wait",
                        s.locked_for_s
                    );
                }
            }
        }
    }
    Ok(0)
}
