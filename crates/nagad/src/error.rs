//! The adapter's error type and what a failed call means for a payment.
//!
//! Only [`NagadError::Refused`] is an explicit answer from Nagad. Anything
//! that *may* have reached Nagad without a readable answer is
//! [`NagadError::OutcomeUnknown`]: resolve it with `verify`, never by sending
//! the call again. Values are codes ([`Endpoint`], [`Problem`], [`Invalid`])
//! or Nagad's own texts; `Display` is English for logs.

use crate::crypto::KeyError;
use std::fmt;
use std::time::Duration;

/// The four calls, with their names in call records and sandbox faults.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    Initialize,
    Complete,
    Verify,
    Refund,
}

impl Endpoint {
    /// `nagad.initialize`, `nagad.complete`, `nagad.verify`, `nagad.refund`.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Initialize => "nagad.initialize",
            Endpoint::Complete => "nagad.complete",
            Endpoint::Verify => "nagad.verify",
            Endpoint::Refund => "nagad.refund",
        }
    }

    /// Calls that change nothing at Nagad when repeated (only verify).
    pub fn idempotent(self) -> bool {
        matches!(self, Endpoint::Verify)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What was wrong with an answer that came.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("HTTP {0} with a body that is not a JSON object")]
    NotJson(u16),
    #[error("HTTP {0} without Nagad's error fields")]
    UnexpectedStatus(u16),
    #[error("the answer lacks {0}")]
    Missing(&'static str),
    #[error("the sealed answer cannot be opened with the merchant key")]
    Undecryptable,
    #[error("Nagad's signature over the sealed answer does not verify")]
    BadSignature,
    #[error("the sealed answer is not the JSON it should be")]
    BadPlaintext,
    #[error("status {0:?} where Success was expected")]
    NotSuccess(String),
    #[error("the amount is not an exact decimal: {0:?}")]
    AmountNotExact(String),
    #[error("the answer names another payment or order")]
    WrongPayment,
}

/// Why a call's outcome is unknown.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Cause {
    #[error("no answer in time")]
    Timeout,
    /// The connection failed once the request may have left (reset,
    /// closed, a body cut short); the transport's own words.
    #[error("the connection failed: {0}")]
    Connection(String),
    /// HTTP 5xx, with Nagad's `reason` when it sent one.
    #[error("HTTP {http_status} (reason {reason:?})")]
    ServerError {
        http_status: u16,
        reason: Option<String>,
    },
    /// A success status with a body that is not JSON.
    #[error("HTTP {http_status} with an unreadable body")]
    Unreadable { http_status: u16 },
}

/// Refused locally before anything was sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error("the amount must be positive with at most 2 decimals")]
    Amount,
    #[error("the order id must be 1–{max} letters, digits, '-' or '_'", max = crate::client::ORDER_ID_MAX)]
    OrderId,
    #[error("the callback URL must be an absolute http(s) URL")]
    CallbackUrl,
    #[error("the payment reference is not one Nagad issues")]
    PaymentRefId,
    #[error("the merchant id must be digits")]
    MerchantId,
    #[error("the base URL must be an http(s) URL")]
    BaseUrl,
    #[error("the refund reference must be 1–40 letters, digits, '-' or '_'")]
    RefundReference,
    #[error("the plaintext does not fit one RSA block")]
    TooLong,
    #[error("the HTTP client cannot be built")]
    HttpClient,
    #[error("a key: {0}")]
    Key(KeyError),
}

/// Everything a Nagad call can fail with. No variant carries key material.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NagadError {
    /// Nagad's explicit refusal `{reason, message}` (spec §7): nothing was
    /// done. `reason` and `message` are Nagad's texts.
    #[error("{endpoint}: Nagad refused (HTTP {http_status}): {reason}: {message}")]
    Refused {
        endpoint: Endpoint,
        http_status: u16,
        reason: String,
        message: String,
    },
    /// The request provably never reached Nagad (connection refused, DNS,
    /// TLS refused): nothing happened; safe to try later. `detail` is the
    /// transport's own words, for the log.
    #[error("{endpoint}: Nagad unreachable: {detail}")]
    Unreachable { endpoint: Endpoint, detail: String },
    /// It may have been received and acted on (timeout, reset, 5xx, an
    /// unreadable answer to initialize/complete). `payment_ref_id` is known
    /// when initialize succeeded first: ask `verify` with it.
    #[error("{endpoint}: outcome unknown: {cause}")]
    OutcomeUnknown {
        endpoint: Endpoint,
        payment_ref_id: Option<String>,
        cause: Cause,
    },
    /// HTTP 429 (after the retries of an idempotent call).
    #[error("{endpoint}: Nagad rate limit (retry after {retry_after:?})")]
    RateLimited {
        endpoint: Endpoint,
        retry_after: Option<Duration>,
    },
    /// An answer came and cannot be used (after retries for verify). For
    /// initialize this means no page exists, so no money can move.
    #[error("{endpoint}: unusable Nagad answer: {problem}")]
    Protocol {
        endpoint: Endpoint,
        problem: Problem,
    },
    /// Refused locally; nothing was sent.
    #[error("invalid request: {0}")]
    Invalid(Invalid),
}

/// What a failed call means for the payment (or refund).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// It did not happen and will not: Nagad refused, or nothing usable
    /// exists (an initialize answer we cannot read gives no page).
    Failed,
    /// It may have happened: ask `verify` and settle on that answer.
    AskStatus,
    /// It did not happen; try again later (unreachable, rate limited).
    RetryLater,
}

impl NagadError {
    /// A stable code for the core and the screens.
    pub fn code(&self) -> &'static str {
        match self {
            NagadError::Refused { .. } => "refused",
            NagadError::Unreachable { .. } => "unreachable",
            NagadError::OutcomeUnknown { .. } => "outcome_unknown",
            NagadError::RateLimited { .. } => "rate_limited",
            NagadError::Protocol { .. } => "protocol",
            NagadError::Invalid(_) => "invalid",
        }
    }

    /// Nagad's `reason`, for [`NagadError::Refused`].
    pub fn reason(&self) -> Option<&str> {
        match self {
            NagadError::Refused { reason, .. } => Some(reason),
            _ => None,
        }
    }

    /// The payment reference known when the error happened (complete).
    pub fn payment_ref_id(&self) -> Option<&str> {
        match self {
            NagadError::OutcomeUnknown { payment_ref_id, .. } => payment_ref_id.as_deref(),
            _ => None,
        }
    }

    /// What the failure means for the payment or refund.
    pub fn resolution(&self) -> Resolution {
        match self {
            NagadError::Refused { .. } | NagadError::Invalid(_) => Resolution::Failed,
            NagadError::Unreachable { .. } | NagadError::RateLimited { .. } => {
                Resolution::RetryLater
            }
            NagadError::OutcomeUnknown { .. } => Resolution::AskStatus,
            NagadError::Protocol { endpoint, .. } => match endpoint {
                // No readable initialize answer: no payment reference, no page.
                Endpoint::Initialize => Resolution::Failed,
                _ => Resolution::AskStatus,
            },
        }
    }
}

impl From<Invalid> for NagadError {
    fn from(i: Invalid) -> Self {
        NagadError::Invalid(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolutions() {
        let refused = NagadError::Refused {
            endpoint: Endpoint::Complete,
            http_status: 400,
            reason: "InvalidChallenge".into(),
            message: "m".into(),
        };
        assert_eq!(refused.resolution(), Resolution::Failed);
        assert_eq!(refused.reason(), Some("InvalidChallenge"));
        let unknown = NagadError::OutcomeUnknown {
            endpoint: Endpoint::Complete,
            payment_ref_id: Some("REF".into()),
            cause: Cause::Timeout,
        };
        assert_eq!(unknown.resolution(), Resolution::AskStatus);
        assert_eq!(unknown.payment_ref_id(), Some("REF"));
        assert_eq!(unknown.code(), "outcome_unknown");
        assert_eq!(
            NagadError::Protocol {
                endpoint: Endpoint::Initialize,
                problem: Problem::BadSignature
            }
            .resolution(),
            Resolution::Failed
        );
        assert_eq!(
            NagadError::Unreachable {
                endpoint: Endpoint::Verify,
                detail: "refused".into()
            }
            .resolution(),
            Resolution::RetryLater
        );
        assert!(Endpoint::Verify.idempotent() && !Endpoint::Complete.idempotent());
    }
}
