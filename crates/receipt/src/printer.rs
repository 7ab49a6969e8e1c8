//! Sending bytes to a printer: raw TCP (port 9100) or a device file
//! (`/dev/usb/lp0`), and its paper sensor (`DLE EOT 4`).

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// `DLE EOT 4`: transmit the paper roll sensor status (a real-time command:
/// the printer answers it even while busy).
pub const STATUS_QUERY: [u8; 3] = [0x10, 0x04, 0x04];

/// Where a printer is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Raw TCP ("JetDirect"), normally port 9100.
    Network(SocketAddr),
    /// A character device such as `/dev/usb/lp0`.
    Device(PathBuf),
}

/// What the paper sensor says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ready,
    /// Near the end of the roll: prints, but should be changed soon.
    PaperLow,
    PaperOut,
    /// No (or no well-formed) answer in time: many printers, and every
    /// printer behind a one-way print server, never answer. Not an error.
    Unknown,
}

impl Status {
    /// Reads the `DLE EOT 4` answer byte. Bits 1 and 4 are always set and
    /// bits 0 and 7 clear: anything else is not a status byte.
    pub fn from_byte(b: u8) -> Status {
        if b & 0b1001_0011 != 0b0001_0010 {
            Status::Unknown
        } else if b & 0b0110_0000 != 0 {
            Status::PaperOut
        } else if b & 0b0000_1100 != 0 {
            Status::PaperLow
        } else {
            Status::Ready
        }
    }
}

/// Why a print did not happen. Values are data (addresses, paths, the OS
/// error); [`PrintError::code`] is the stable name for a UI to translate.
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error("Printer is out of paper")]
    PaperOut,
    #[error("Printer at {addr} does not answer")]
    NoAnswer {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error("Printer device {} cannot be opened", path.display())]
    Device {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("Printer connection failed while sending")]
    Io(#[source] io::Error),
}

impl PrintError {
    /// A stable code per variant, for translated messages and logs.
    pub fn code(&self) -> &'static str {
        match self {
            PrintError::PaperOut => "printer.paper_out",
            PrintError::NoAnswer { .. } => "printer.no_answer",
            PrintError::Device { .. } => "printer.device",
            PrintError::Io(_) => "printer.io",
        }
    }
}

/// A printer and how long to wait for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Printer {
    pub target: Target,
    /// TCP connect.
    pub connect_timeout: Duration,
    /// Each write: a printer that stops taking bytes (cover open, jam) must
    /// not hang the till.
    pub write_timeout: Duration,
    /// The status answer. Short: a printer that answers does so in
    /// milliseconds, and one that never answers costs this on every print.
    pub status_timeout: Duration,
}

impl Printer {
    pub fn network(addr: SocketAddr) -> Printer {
        Printer::new(Target::Network(addr))
    }

    pub fn device(path: impl Into<PathBuf>) -> Printer {
        Printer::new(Target::Device(path.into()))
    }

    fn new(target: Target) -> Printer {
        Printer {
            target,
            connect_timeout: Duration::from_secs(3),
            write_timeout: Duration::from_secs(10),
            status_timeout: Duration::from_millis(300),
        }
    }

    /// Asks the paper sensor. [`Status::Unknown`] when the printer is reached
    /// but does not answer; an error only when it cannot be reached.
    pub fn status(&self) -> Result<Status, PrintError> {
        let mut conn = self.open()?;
        conn.status(self.status_timeout)
    }

    /// Checks the paper, then sends `bytes` (from [`crate::escpos::encode`]).
    /// Refuses with [`PrintError::PaperOut`] before sending anything, so a
    /// receipt is not half printed and then lost.
    pub fn print(&self, bytes: &[u8]) -> Result<(), PrintError> {
        let mut conn = self.open()?;
        if conn.status(self.status_timeout)? == Status::PaperOut {
            return Err(PrintError::PaperOut);
        }
        conn.write_all(bytes)
    }

    fn open(&self) -> Result<Connection, PrintError> {
        match &self.target {
            Target::Network(addr) => {
                let no_answer = |source| PrintError::NoAnswer {
                    addr: *addr,
                    source,
                };
                let stream =
                    TcpStream::connect_timeout(addr, self.connect_timeout).map_err(no_answer)?;
                stream
                    .set_write_timeout(Some(self.write_timeout))
                    .map_err(no_answer)?;
                // Receipts are one burst: no reason to wait for Nagle.
                stream.set_nodelay(true).map_err(no_answer)?;
                Ok(Connection::Tcp(stream))
            }
            Target::Device(path) => {
                use std::os::unix::fs::OpenOptionsExt;
                // Non-blocking, so reading a status that never comes returns
                // at once instead of hanging on the device.
                let file = std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .custom_flags(libc::O_NONBLOCK)
                    .open(path)
                    .map_err(|source| PrintError::Device {
                        path: path.clone(),
                        source,
                    })?;
                Ok(Connection::Device(file))
            }
        }
    }
}

enum Connection {
    Tcp(TcpStream),
    Device(std::fs::File),
}

impl Connection {
    fn status(&mut self, timeout: Duration) -> Result<Status, PrintError> {
        self.write_all(&STATUS_QUERY)?;
        let mut answer = [0u8; 1];
        let read = match self {
            Connection::Tcp(s) => {
                s.set_read_timeout(Some(timeout)).map_err(PrintError::Io)?;
                s.read(&mut answer)
            }
            Connection::Device(f) => read_until(f, &mut answer, timeout),
        };
        Ok(match read {
            Ok(1) => Status::from_byte(answer[0]),
            // EOF, timeout, would-block: the printer does not talk back.
            Ok(_) => Status::Unknown,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Status::Unknown
            }
            Err(e) => return Err(PrintError::Io(e)),
        })
    }

    fn write_all(&mut self, bytes: &[u8]) -> Result<(), PrintError> {
        let result = match self {
            Connection::Tcp(s) => s.write_all(bytes).and_then(|()| s.flush()),
            Connection::Device(f) => write_nonblocking(f, bytes),
        };
        result.map_err(PrintError::Io)
    }
}

/// Polls a non-blocking file for up to `timeout`.
fn read_until(f: &mut std::fs::File, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
    let deadline = Instant::now() + timeout;
    loop {
        match f.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            other => return other,
        }
    }
}

/// `write_all` on a non-blocking device: waits while the printer's buffer is
/// full (USB printers take a receipt in several goes).
fn write_nonblocking(f: &mut std::fs::File, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        match f.write(bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5))
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_bytes() {
        assert_eq!(Status::from_byte(0x12), Status::Ready);
        assert_eq!(Status::from_byte(0x1E), Status::PaperLow);
        assert_eq!(Status::from_byte(0x72), Status::PaperOut);
        assert_eq!(Status::from_byte(0x7E), Status::PaperOut);
        assert_eq!(Status::from_byte(0x00), Status::Unknown);
        assert_eq!(Status::from_byte(0xFF), Status::Unknown);
    }
}
