//! Typed errors of the sandbox crate (start-up, configuration, persistence).
//! Provider-facing business errors are not Rust errors: they are wire bodies,
//! built in `bkash::codes` and `bakong::wire`.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot bind {addr}: {source}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid configuration in {path}: {message}")]
    Config { path: PathBuf, message: String },
    #[error("state database: {0}")]
    Persist(#[from] rusqlite::Error),
    #[error("state snapshot is not valid JSON: {0}")]
    Snapshot(#[from] serde_json::Error),
    #[error("IPN certificate: {0}")]
    Certificate(String),
    #[error("TLS identity: {0}")]
    Tls(String),
    #[error("Nagad key: {0}")]
    NagadKey(String),
}
