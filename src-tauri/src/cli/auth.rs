//! The manager PIN on the command line: asked on the terminal without echo, or read from a
//! file descriptor a script passes (`--pin-fd 3 3<pinfile`), never from an argument or the
//! environment (both show up in `ps` and shell histories).

use crate::pin::{ManagerPin, PinError, Session};
use std::io::{IsTerminal, Read};
use std::path::Path;

/// `--pin-fd` for every command that needs the manager.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct PinArgs {
    /// Read the manager PIN from this file descriptor (one line), e.g. `--pin-fd 3 3<file`.
    /// Without it the PIN is asked on the terminal.
    #[arg(long, value_name = "FD")]
    pub pin_fd: Option<i32>,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(
        "this command needs the manager PIN: run it on a terminal to be asked for it, or give it \
         on a file descriptor with --pin-fd N (one line)"
    )]
    NoTerminal,
    #[error("file descriptor {0} is not open")]
    NotOpen(i32),
    #[error("cannot read file descriptor {fd}: {source}")]
    Read {
        fd: i32,
        #[source]
        source: std::io::Error,
    },
    #[error("file descriptor {0} gave no line")]
    Nothing(i32),
    #[error("cannot ask on the terminal: {0}")]
    Terminal(#[source] std::io::Error),
    #[error("the two PINs differ")]
    Mismatch,
    #[error(transparent)]
    Pin(#[from] PinError),
}

/// Where one secret line comes from.
#[derive(Clone, Copy, Debug)]
pub enum Source {
    Fd(i32),
    Terminal,
}

impl Source {
    pub fn of(fd: Option<i32>) -> Source {
        fd.map(Source::Fd).unwrap_or(Source::Terminal)
    }
}

/// Someone at a terminal: standard input or standard error is one (`echo value | till secret
/// set NAME` typed by a person still asks on the terminal).
fn at_a_terminal() -> bool {
    std::io::stdin().is_terminal() || std::io::stderr().is_terminal()
}

/// One line from `fd`, read a byte at a time so that several secrets can come from one
/// descriptor in turn (`--pin-fd 3 --new-pin-fd 3`). The descriptor is the caller's and is
/// not closed.
fn read_fd_line(fd: i32) -> Result<String, AuthError> {
    #[cfg(unix)]
    {
        use std::os::fd::FromRawFd;
        if fd < 0 || std::fs::metadata(format!("/dev/fd/{fd}")).is_err() {
            return Err(AuthError::NotOpen(fd));
        }
        // SAFETY: the descriptor is open (checked above) and stays the caller's:
        // `ManuallyDrop` never closes it.
        let mut file = std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(fd) });
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        loop {
            match file.read(&mut byte) {
                Ok(0) => break,
                Ok(_) if byte[0] == b'\n' => break,
                Ok(_) if line.len() < 1024 => line.push(byte[0]),
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(source) => return Err(AuthError::Read { fd, source }),
            }
        }
        let text = String::from_utf8_lossy(&line)
            .trim_end_matches('\r')
            .to_owned();
        if text.is_empty() {
            return Err(AuthError::Nothing(fd));
        }
        Ok(text)
    }
    #[cfg(not(unix))]
    {
        Err(AuthError::NotOpen(fd))
    }
}

/// One secret line: from the descriptor, or asked on the terminal without echo.
pub fn read_secret(source: Source, prompt: &str) -> Result<String, AuthError> {
    match source {
        Source::Fd(fd) => read_fd_line(fd),
        Source::Terminal if at_a_terminal() => {
            let text = rpassword::prompt_password(prompt).map_err(AuthError::Terminal)?;
            Ok(text.trim().to_owned())
        }
        Source::Terminal => Err(AuthError::NoTerminal),
    }
}

/// A new PIN: from the descriptor once, or typed twice on the terminal.
pub fn read_new_pin(source: Source) -> Result<String, AuthError> {
    let pin = read_secret(source, "New manager PIN (6 digits): ")?;
    if let Source::Terminal = source {
        let again = read_secret(source, "The same PIN again: ")?;
        if again != pin {
            return Err(AuthError::Mismatch);
        }
    }
    Ok(pin)
}

/// The manager session for one privileged command: the PIN is checked (and counted) here;
/// refused tries are audited when the journal can be opened.
pub async fn manager(home: &Path, args: &PinArgs) -> anyhow::Result<Session> {
    let pin = read_secret(Source::of(args.pin_fd), "Manager PIN: ")?;
    let result = ManagerPin::new(home).authenticate(&pin);
    if let Err(e) = &result {
        if matches!(e, PinError::Wrong(_) | PinError::Locked(_)) {
            audit(home, "manager@cli", "unlock.refused", None).await;
        }
    }
    Ok(result.map_err(AuthError::from)?)
}

/// Best effort: the audit log needs an engine, which a broken configuration cannot open;
/// the PIN's own files are not the journal's business.
pub async fn audit(home: &Path, actor: &str, action: &str, target: Option<&str>) {
    match super::open_engine(home, false).await {
        Ok(engine) => {
            if let Err(e) = engine.audit(actor, action, target, None) {
                tracing::warn!(error = %e, action, "audit log not written");
            }
            engine.shutdown().await;
        }
        Err(e) => tracing::warn!(error = %format!("{e:#}"), action, "audit log not written"),
    }
}
