//! One process at a time does a data directory's background work.
//!
//! The poller, the sweeper, start-up recovery and the deferred-call worker act on every open
//! payment of the journal. Two processes doing it at once (the app and `till charge`, or
//! `till recover`) would poll the same codes twice and, worse, one's recovery would mark the
//! other's in-flight bKash payment failed while its customer is still on the checkout page.
//! So an engine that runs background work holds an exclusive lock on `<home>/till.lock`
//! (`flock`, released by the kernel when the process dies, so a crash never leaves it
//! stale); a second one is refused and told who holds it. Engines without background work
//! (`till list`, `status`, `report`, …) take no lock: SQLite's WAL lets them read beside the
//! holder, and their writes are single transactions like the holder's.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The lock's file name under the data directory.
pub const LOCK_FILE: &str = "till.lock";

#[derive(Debug, thiserror::Error)]
pub enum HomeLockError {
    #[error(
        "another Till process ({holder}) is working on the data directory {}: it takes the \
         payments and watches them there; close it first, or use the commands that only read \
         (list, status, report)",
        home.display()
    )]
    Busy { home: PathBuf, holder: String },
    #[error("cannot lock {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Held while this process does the data directory's background work.
#[derive(Debug)]
pub struct HomeLock {
    _file: File,
}

impl HomeLock {
    /// Takes the lock, or says who holds it. `who` describes this process for the next one.
    pub fn acquire(home: &Path, who: &str) -> Result<HomeLock, HomeLockError> {
        let path = home.join(LOCK_FILE);
        let io = |source| HomeLockError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(home).map_err(io)?;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(HomeLockError::Busy {
                    home: home.to_owned(),
                    holder: if holder.is_empty() {
                        "unknown".into()
                    } else {
                        holder.to_owned()
                    },
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        // Who holds it, for the message the next process shows.
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        write!(file, "pid {}, {who}", std::process::id()).map_err(io)?;
        file.flush().map_err(io)?;
        Ok(HomeLock { _file: file })
    }
}

/// How this process describes itself in the lock: `till charge`, or `the Till app`.
pub fn this_process() -> String {
    let mut args = std::env::args();
    let program = args
        .next()
        .map(|p| {
            Path::new(&p)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or(p)
        })
        .unwrap_or_else(|| "till".into());
    // The first word that is neither an option nor `--home`'s value is the command.
    let mut command = None;
    let mut skip_value = false;
    for a in args {
        if std::mem::take(&mut skip_value) {
            continue;
        }
        if a == "--home" {
            skip_value = true;
        } else if !a.starts_with('-') {
            command = Some(a);
            break;
        }
    }
    match command {
        Some(c) if program == "till" => format!("`till {c}`"),
        None if program == "till" => "the Till app".into(),
        _ => format!("`{program}`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_and_told_who_holds_it() {
        let home = tempfile::tempdir().unwrap();
        let first = HomeLock::acquire(home.path(), "the Till app").unwrap();
        // flock locks belong to the open file description: a second open in this process
        // conflicts exactly as another process's would.
        match HomeLock::acquire(home.path(), "`till charge`") {
            Err(HomeLockError::Busy { holder, .. }) => {
                assert_eq!(holder, format!("pid {}, the Till app", std::process::id()))
            }
            other => panic!("expected Busy, got {other:?}"),
        }
        drop(first);
        let again = HomeLock::acquire(home.path(), "`till charge`").unwrap();
        drop(again);
    }
}
