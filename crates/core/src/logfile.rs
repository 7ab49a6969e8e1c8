//! Till's log file, `<home>/logs/till.log` (JSON lines written by the shell's
//! `tracing` subscriber), rotated by size with a bounded number of old files
//! kept (`[storage] log_file_mb`, `log_files_kept`).

use crate::config::StorageSection;
use file_rotate::compression::Compression;
use file_rotate::suffix::{AppendTimestamp, FileLimit};
use file_rotate::{ContentLimit, FileRotate};
use std::io::{self, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// The file's name in its directory; rotated files are `till.log.<timestamp>`
/// (`%Y%m%dT%H%M%S`, local time, so the day a file ends is in its name).
pub const FILE_NAME: &str = "till.log";

/// A writer for `till.log` in `dir`: once the file has passed `log_file_mb` it is
/// renamed `till.log.<timestamp>` and a new one begun, and only the newest
/// `log_files_kept` renamed files are kept (the `file-rotate` crate does this).
///
/// Several processes may write one log (the app, and a `till` command run beside it);
/// each appends, and each rotates by what it has seen. `file-rotate` asserts that a
/// file it renames to does not exist yet, which another process's rotation in the same
/// second can break: a panic in a log writer would reach whatever was logging (a
/// payment, holding the journal lock). So a panic in it is caught here, the writer
/// re-opened from what is on disk now, and the line written once more.
pub struct LogFile {
    inner: FileRotate<AppendTimestamp>,
    path: PathBuf,
    max_bytes: usize,
    kept: usize,
}

impl LogFile {
    pub fn open(dir: &Path, storage: &StorageSection) -> io::Result<LogFile> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(FILE_NAME);
        let max_bytes = storage.log_file_bytes().max(1);
        let kept = (storage.log_files_kept as usize).max(1);
        let inner = rotating(&path, max_bytes, kept)?;
        Ok(LogFile {
            inner,
            path,
            max_bytes,
            kept,
        })
    }

    fn reopen(&mut self) -> io::Result<()> {
        self.inner = rotating(&self.path, self.max_bytes, self.kept)?;
        Ok(())
    }
}

fn rotating(path: &Path, max_bytes: usize, kept: usize) -> io::Result<FileRotate<AppendTimestamp>> {
    catch_unwind(|| {
        FileRotate::new(
            path,
            AppendTimestamp::default(FileLimit::MaxFiles(kept)),
            // Rotated after a whole write has taken it past the limit: a JSON line is
            // never split between two files.
            ContentLimit::BytesSurpassed(max_bytes),
            Compression::None,
            None,
        )
    })
    .map_err(|_| io::Error::other(format!("cannot open the log {}", path.display())))
}

impl Write for LogFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match catch_unwind(AssertUnwindSafe(|| self.inner.write(buf))) {
            Ok(r) => r,
            Err(_) => {
                // Another process rotated under us: start again from the files as they are.
                self.reopen()?;
                catch_unwind(AssertUnwindSafe(|| self.inner.write(buf)))
                    .unwrap_or_else(|_| Err(io::Error::other("the log could not be rotated")))
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        catch_unwind(AssertUnwindSafe(|| self.inner.flush()))
            .unwrap_or_else(|_| Err(io::Error::other("the log could not be flushed")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn storage(mb: u32, kept: u32) -> StorageSection {
        StorageSection {
            log_file_mb: mb,
            log_files_kept: kept,
            ..StorageSection::default()
        }
    }

    /// (name, size) of every file in `dir`, sorted.
    fn files(dir: &Path) -> Vec<(String, u64)> {
        let mut all: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    e.metadata().unwrap().len(),
                )
            })
            .collect();
        all.sort();
        all
    }

    fn line(n: usize) -> Vec<u8> {
        let mut l = format!("{{\"n\":{n},\"pad\":\"").into_bytes();
        l.resize(4000, b'x');
        l.extend_from_slice(b"\"}\n");
        l
    }

    /// L2: the log never grows past `log_file_mb * (log_files_kept + 1)` (and a line),
    /// `till.log` holds the newest lines and the old files are named `till.log.<when>`.
    #[test]
    fn the_log_is_rotated_by_size_and_old_files_are_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = LogFile::open(dir.path(), &storage(1, 2)).unwrap();
        let n = 6 * 1024 * 1024 / 4003 + 1;
        for i in 0..n {
            log.write_all(&line(i)).unwrap();
        }
        log.flush().unwrap();
        let all = files(dir.path());
        let total: u64 = all.iter().map(|(_, s)| s).sum();
        assert!(all.len() <= 3, "more than 2 old files kept: {all:?}");
        assert!(all.len() >= 2, "never rotated: {all:?}");
        assert!(
            total <= 3 * (1 << 20) + 4003,
            "{total} bytes of logs: {all:?}"
        );
        assert!(
            all.iter()
                .all(|(name, _)| name == FILE_NAME || name.starts_with("till.log.")),
            "{all:?}"
        );
        let newest = std::fs::read_to_string(dir.path().join(FILE_NAME)).unwrap();
        assert!(
            newest
                .lines()
                .last()
                .unwrap()
                .starts_with(&format!("{{\"n\":{}", n - 1)),
            "till.log does not end with the newest line"
        );
    }

    /// Two processes (the app and a `till` command) write the same log: rotating it
    /// under each other never panics (the line would be lost, and the panic would reach
    /// whatever was logging) and the number of files stays bounded.
    #[test]
    fn two_writers_rotating_one_log_do_not_panic() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = LogFile::open(dir.path(), &storage(1, 2)).unwrap();
        let mut b = LogFile::open(dir.path(), &storage(1, 2)).unwrap();
        for i in 0..3000 {
            let w = if i % 2 == 0 { &mut a } else { &mut b };
            w.write_all(&line(i)).unwrap();
        }
        let all = files(dir.path());
        assert!(all.len() <= 1 + 2 * 2, "{all:?}");
    }
}
