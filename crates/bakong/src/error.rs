//! Errors of the Bakong client. None of them is a payment outcome: whatever
//! the error, the payment stays pending (`bakong-api.md` §3, §11, §12). The
//! bearer token never appears in any message.

use std::time::Duration;

/// A call that gave no usable answer about the payment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BakongError {
    /// The request never left (connection refused, DNS, bad URL): Bakong saw nothing.
    #[error("Bakong unreachable: {message}")]
    Unreachable { message: String },
    /// The request may have reached Bakong but no usable answer came back
    /// (timeout, connection reset, body cut short). Checks are safe to repeat.
    #[error("no answer from Bakong{}: {message}", if *timed_out { " (timed out)" } else { "" })]
    Unknown { message: String, timed_out: bool },
    /// HTTP 429. `retry_after` is the server's `Retry-After` when it sent one.
    #[error("Bakong rate limit reached{}", retry_after.map(|d| format!(", retry after {} s", d.as_secs_f64())).unwrap_or_default())]
    RateLimited { retry_after: Option<Duration> },
    /// The token was refused (HTTP 401 / errorCode 6) and no renewal e-mail is configured.
    #[error("Bakong token expired or invalid, and no renewal e-mail is configured")]
    TokenExpired,
    /// Renewing the token failed, or the renewed token was refused too.
    #[error("Bakong authorization failed: {message}")]
    Unauthorized { message: String },
    /// A business error envelope (`errorCode`, table in [`crate::status`]).
    #[error("Bakong error {code}: {message}")]
    Api { code: i64, message: String },
    /// An HTTP error status without a business answer: 5xx from the gateway,
    /// 403 (Bakong refuses non-Cambodian IPs), 404.
    #[error("Bakong HTTP {status}: {message}")]
    Http { status: u16, message: String },
    /// The client cannot be built from its settings (bad base URL, zero bulk limit).
    #[error("Bakong client configuration: {message}")]
    Config { message: String },
    /// The answer could not be read (not JSON, missing fields, an amount that is not a number).
    #[error("malformed Bakong answer: {message}")]
    Protocol { message: String },
}

impl BakongError {
    /// Worth trying the same idempotent call again (after a delay).
    pub fn is_transient(&self) -> bool {
        match self {
            BakongError::Unreachable { .. }
            | BakongError::Unknown { .. }
            | BakongError::RateLimited { .. }
            | BakongError::Protocol { .. } => true,
            BakongError::Http { status, .. } => *status >= 500,
            BakongError::Api { code, .. } => crate::status::error_code(*code)
                .map(|c| c.class == crate::status::ErrorClass::Transient)
                .unwrap_or(false),
            BakongError::TokenExpired
            | BakongError::Unauthorized { .. }
            | BakongError::Config { .. } => false,
        }
    }

    /// The manager must act (token, credentials, network location) before
    /// polling can succeed again.
    pub fn needs_attention(&self) -> bool {
        matches!(
            self,
            BakongError::TokenExpired
                | BakongError::Unauthorized { .. }
                | BakongError::Config { .. }
                | BakongError::Http { status: 403, .. }
        )
    }
}
