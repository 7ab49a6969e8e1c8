//! Hub configuration.

use crate::sealing::SecretKeySource;
use till_sync_proto::DEFAULT_TOLERANCE_SECS;

/// Default largest single-event body: 256 KiB.
pub const DEFAULT_SINGLE_LIMIT: usize = 256 * 1024;
/// Default largest batch body: 4 MiB.
pub const DEFAULT_BATCH_LIMIT: usize = 4 * 1024 * 1024;
/// Default most events in one batch.
pub const DEFAULT_MAX_BATCH_EVENTS: usize = 1000;

/// Everything [`crate::start`] needs.
#[derive(Debug, Clone)]
pub struct HubConfig {
    /// `host:port` to bind (`127.0.0.1:0` for an ephemeral port).
    pub listen: String,
    /// `sqlite:///path/hub.db`, a plain file path, or `postgres://…`.
    pub database: String,
    /// Largest accepted single-event body, bytes (413 above).
    pub single_body_limit: usize,
    /// Largest accepted batch body, bytes (413 above).
    pub batch_body_limit: usize,
    /// Most events one batch may carry (413 above).
    pub max_batch_events: usize,
    /// How far `webhook-timestamp` may be from the hub's clock, seconds.
    pub tolerance_secs: i64,
    /// Bearer tokens accepted by the read API besides those stored with
    /// `till-hub token add` (e.g. from `TILL_HUB_READ_TOKEN`).
    pub read_tokens: Vec<String>,
    /// Serve HTTPS with this certificate; `None` is plain HTTP (behind a
    /// reverse proxy that terminates TLS, or on loopback).
    pub tls: Option<crate::tls::ServerTls>,
    /// The key HMAC secrets are sealed with in the database. The default,
    /// [`SecretKeySource::Auto`], suits hubs started inside another program
    /// (a key file beside a SQLite database); `till-hub` always names one
    /// (`--secret-key-file`, `TILL_HUB_SECRET_KEY[_FILE]`), or none.
    pub secret_key: SecretKeySource,
    /// The shop's bKash merchant account, whose token the hub lends to its
    /// terminals (`crate::lend`); `None`: lending off.
    pub bkash: Option<crate::lend::LendConfig>,
    /// The office dashboard's day, sessions and lockout.
    pub office: crate::office::OfficeConfig,
}

impl HubConfig {
    /// Defaults for everything but where to listen and store.
    pub fn new(listen: impl Into<String>, database: impl Into<String>) -> Self {
        HubConfig {
            listen: listen.into(),
            database: database.into(),
            single_body_limit: DEFAULT_SINGLE_LIMIT,
            batch_body_limit: DEFAULT_BATCH_LIMIT,
            max_batch_events: DEFAULT_MAX_BATCH_EVENTS,
            tolerance_secs: DEFAULT_TOLERANCE_SECS,
            read_tokens: Vec::new(),
            tls: None,
            secret_key: SecretKeySource::Auto,
            bkash: None,
            office: crate::office::OfficeConfig::default(),
        }
    }
}
