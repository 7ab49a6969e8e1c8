//! Till's log file, `<home>/logs/till.log` (JSON lines written by the shell's
//! `tracing` subscriber), rotated by size with a bounded number of old files
//! kept (`[storage] log_file_mb`, `log_files_kept`).

use crate::config::StorageSection;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The file's name in its directory; rotated files are `till.log.<timestamp>`.
pub const FILE_NAME: &str = "till.log";

/// A writer for `till.log` in `dir`.
pub struct LogFile {
    file: File,
    _path: PathBuf,
}

impl LogFile {
    pub fn open(dir: &Path, storage: &StorageSection) -> io::Result<LogFile> {
        let _ = storage;
        std::fs::create_dir_all(dir)?;
        let path = dir.join(FILE_NAME);
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        Ok(LogFile { file, _path: path })
    }
}

impl Write for LogFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
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
