//! `till kiosk enable|disable|run`: start Till at login as a kiosk.
//!
//! `enable` sets `[display] kiosk = true` in `<home>/till.toml` (the customer
//! display fullscreen) and writes the XDG autostart entry
//! `$XDG_CONFIG_HOME/autostart/till.desktop` (else `~/.config/autostart/`),
//! which the desktop session runs at login: `till --home HOME kiosk run`.
//! `run` is the supervisor: it starts the app and starts it again whenever it
//! ends by accident; a close the manager confirmed with the PIN (the app's exit
//! status 0: at a kiosk the cashier's window asks for it) ends the loop (a small loop in Till itself rather than a `systemd --user` unit:
//! the app needs the graphical session's environment, which an autostart
//! entry has and a user unit may not). `disable` removes the entry and sets
//! `kiosk = false`.

use crate::settings::{self, Change};
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(clap::Subcommand, Debug)]
pub enum Action {
    /// Start Till at login, customer display fullscreen, restarted whenever it exits.
    Enable,
    /// Stop starting Till at login (`[display] kiosk = false`).
    Disable,
    /// Run the app and start it again whenever it ends by accident (what the autostart
    /// entry runs); a close confirmed with the manager PIN ends it.
    Run,
}

/// The autostart entry: `$XDG_CONFIG_HOME/autostart/till.desktop`, else `~/.config/…`.
pub fn autostart_file() -> anyhow::Result<PathBuf> {
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".config")))
        .context("neither XDG_CONFIG_HOME nor HOME is set")?;
    Ok(config.join("autostart").join("till.desktop"))
}

pub async fn run(a: Args, home: &Path) -> anyhow::Result<i32> {
    match a.action {
        Action::Enable => {
            set_kiosk(home, true)?;
            let file = autostart_file()?;
            let exe = std::env::current_exe().context("cannot find the till binary")?;
            let entry = format!(
                "[Desktop Entry]\nType=Application\nName=Till (kiosk)\n\
                 Comment=Till at login, restarted whenever it exits (till kiosk disable)\n\
                 Exec={} --home {} kiosk run\nIcon=till\nTerminal=false\n\
                 X-GNOME-Autostart-enabled=true\n",
                exec_arg(&exe),
                exec_arg(home)
            );
            write_file(&file, &entry)?;
            println!("kiosk enabled: {} starts Till at login", file.display());
        }
        Action::Disable => {
            let file = autostart_file()?;
            match std::fs::remove_file(&file) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot remove {}", file.display()))
                }
            }
            set_kiosk(home, false)?;
            println!("kiosk disabled: {} removed", file.display());
        }
        Action::Run => supervise(home)?,
    }
    Ok(0)
}

fn set_kiosk(home: &Path, on: bool) -> anyhow::Result<()> {
    std::fs::create_dir_all(home).with_context(|| format!("cannot create {}", home.display()))?;
    settings::save(
        home,
        &[Change {
            key: "display.kiosk".into(),
            value: on.to_string(),
        }],
    )?;
    Ok(())
}

/// Starts the app, and again whenever it ends by accident: after a second when it had
/// run a while, after up to 30 s when it keeps exiting at once (a broken
/// configuration must not spin the CPU). Returns when the app exits with status 0 (closed
/// by the manager, or handed over to a till already running).
fn supervise(home: &Path) -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("cannot find the till binary")?;
    let mut pause = Duration::from_secs(1);
    loop {
        let started = Instant::now();
        let status = std::process::Command::new(&exe)
            .arg("--home")
            .arg(home)
            .status()
            .with_context(|| format!("cannot start {}", exe.display()))?;
        // Status 0 is a close the manager confirmed with the PIN (`close_till`): the
        // kiosk stops. A crash, a kill or any other status is an accident: start again.
        if status.success() {
            tracing::info!("the app was closed by the manager: the kiosk stops");
            return Ok(());
        }
        pause = if started.elapsed() > Duration::from_secs(30) {
            Duration::from_secs(1)
        } else {
            (pause * 2).min(Duration::from_secs(30))
        };
        tracing::warn!(%status, pause_s = pause.as_secs(), "the app exited: starting it again");
        std::thread::sleep(pause);
    }
}

fn write_file(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// One argument of a desktop entry's `Exec=`: double-quoted, with `"`, `` ` ``,
/// `$` and `\` backslash-escaped (the spec's quoting), `%` doubled (not a field
/// code), then every `\` doubled (the escaping of string values in the file).
fn exec_arg(path: &Path) -> String {
    let mut quoted = String::from("\"");
    for c in path.to_string_lossy().chars() {
        match c {
            '"' | '`' | '$' | '\\' => quoted.push('\\'),
            '%' => quoted.push('%'),
            _ => {}
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted.replace('\\', "\\\\")
}

#[cfg(test)]
mod tests {
    use super::exec_arg;
    use std::path::Path;

    #[test]
    fn exec_arguments_are_quoted_as_the_desktop_entry_spec_says() {
        assert_eq!(exec_arg(Path::new("/usr/bin/till")), "\"/usr/bin/till\"");
        assert_eq!(
            exec_arg(Path::new("/home/a b/$x\"")),
            "\"/home/a b/\\\\$x\\\\\"\""
        );
        assert_eq!(exec_arg(Path::new("/srv/100%")), "\"/srv/100%%\"");
    }
}
