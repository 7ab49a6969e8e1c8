//! The adapter's error type and the helpers the core uses to decide what an
//! error means for a payment.
//!
//! Rule of thumb (DESIGN.md invariant 1 and 4): only [`BkashError::Business`]
//! is an explicit provider answer. Everything that *may* have reached bKash
//! without a readable answer is [`BkashError::OutcomeUnknown`] and must be
//! resolved by asking (`query_payment` / `refund_status`), never by calling a
//! non-idempotent endpoint again.

use crate::codes::{self, CodeClass};
use std::time::Duration;

/// Everything a bKash call can fail with. No variant ever carries a token,
/// the app key/secret, the username or the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BkashError {
    /// An explicit provider answer: `statusCode != "0000"`, a legacy
    /// `errorCode`, or the v2 refund envelope (`externalCode`). `code` is
    /// bKash's code, `message` bKash's text.
    #[error("bKash refused: {code} {message}")]
    Business { code: String, message: String },
    /// The request provably never reached bKash (connection refused, DNS):
    /// nothing happened there; safe to defer and retry later.
    #[error("{endpoint}: bKash unreachable: {message}")]
    Unreachable { endpoint: String, message: String },
    /// The request may have been received and acted on (timeout, reset, 5xx,
    /// gateway error, garbled body on a non-idempotent call). Resolve by
    /// querying; never repeat execute/refund blindly.
    #[error("{endpoint}: outcome unknown: {message}")]
    OutcomeUnknown { endpoint: String, message: String },
    /// HTTP 429 from the gateway (after the client's retries, for idempotent calls).
    #[error("bKash rate limit (retry after {retry_after:?})")]
    RateLimited { retry_after: Option<Duration> },
    /// Bad credentials, grant refused, token calls blocked by bKash, or the
    /// client's own token-call budget ([`crate::BkashSettings::max_grants_per_hour`]) spent.
    #[error("bKash authentication failed: {message}")]
    Auth { message: String },
    /// A malformed answer to an idempotent call, after retries (or a success
    /// body missing fields we need).
    #[error("{endpoint}: malformed bKash answer: {message}")]
    Protocol { endpoint: String, message: String },
    /// Refused before any bKash logic ran (API Gateway 400/403/404, e.g.
    /// "Invalid request body", "Missing Authentication Token", "Forbidden"):
    /// definitely not processed; a configuration or client bug.
    #[error("{endpoint}: refused by the bKash gateway (HTTP {status}): {message}")]
    Rejected {
        endpoint: String,
        status: u16,
        message: String,
    },
    /// Refused locally before sending (e.g. an amount with more than 2
    /// decimals, a non-BDT currency). Nothing was sent.
    #[error("invalid request: {message}")]
    Invalid { message: String },
}

/// What a failed **non-idempotent** call (execute, refund) means for the
/// payment, as the core should act on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// bKash explicitly refused or the call never left: the operation did
    /// not happen. (For execute: the payment attempt failed, unless the
    /// error is [`Resolution::RetryLater`].)
    Failed,
    /// It may have happened (or did, for "already executed"): ask
    /// `query_payment` / `refund_status` and settle on that answer.
    AskStatus,
    /// It did not happen, but may be tried again later (unreachable,
    /// credentials/token budget, local validation is not in this group).
    RetryLater,
}

impl BkashError {
    /// bKash's code, for [`BkashError::Business`].
    pub fn code(&self) -> Option<&str> {
        match self {
            BkashError::Business { code, .. } => Some(code),
            _ => None,
        }
    }

    fn code_in(&self, set: &[&str]) -> bool {
        self.code().is_some_and(|c| set.contains(&c))
    }

    /// `2029`: duplicate (same invoice, or same payer and amount, within bKash's window).
    pub fn is_duplicate(&self) -> bool {
        self.code_in(&["2029"])
    }

    /// A repeated execute: `2117` or `2062` (spec §8.3, the sandbox's
    /// `repeat_execute_code` picks one), and `2116` for agreements. The
    /// payment may well be completed: query it.
    pub fn is_already_executed(&self) -> bool {
        self.code_in(&["2117", "2062", "2116"])
    }

    /// A time limit ran out: OTP/PIN verification (`2018`/`2019`) or the
    /// refund window (`2071`). An expired *paymentID* has no code of its own
    /// (spec §21); bKash/sandbox answer `2056`, see [`Self::is_invalid_payment_state`],
    /// and `query_payment` then shows `Expired`.
    pub fn is_expired(&self) -> bool {
        self.code_in(&["2018", "2019", "2071"])
    }

    /// `2023`: the customer's wallet (payment) or the merchant's balance (refund) is short.
    pub fn is_insufficient_balance(&self) -> bool {
        self.code_in(&["2023"])
    }

    /// `2056`/`2060`: execute before the customer finished, after a failed or
    /// cancelled hosted page, or after the paymentID expired.
    pub fn is_invalid_payment_state(&self) -> bool {
        self.code_in(&["2056", "2060"])
    }

    /// `2002`/`2033`/`2077`: bKash does not know the payment / transaction.
    pub fn is_not_found(&self) -> bool {
        self.code_in(&["2002", "2033", "2077"])
    }

    /// `2026`/`2072`: a refund larger than what is left.
    pub fn is_refund_too_large(&self) -> bool {
        self.code_in(&["2026", "2072"])
    }

    /// A transient business code (`2003`, `2020`, `2024`, `503`, `9999`).
    pub fn is_transient(&self) -> bool {
        self.code().is_some_and(codes::is_transient)
    }

    /// The class of the business code, if any.
    pub fn code_class(&self) -> Option<CodeClass> {
        self.code().map(codes::class)
    }

    /// What a failed execute/refund means (see [`Resolution`]).
    pub fn resolution(&self) -> Resolution {
        match self {
            BkashError::Business { code, .. } => match codes::class(code) {
                CodeClass::AlreadyDone | CodeClass::Transient => Resolution::AskStatus,
                _ => Resolution::Failed,
            },
            BkashError::OutcomeUnknown { .. } | BkashError::RateLimited { .. } => {
                Resolution::AskStatus
            }
            BkashError::Protocol { .. } => Resolution::AskStatus,
            BkashError::Unreachable { .. } | BkashError::Auth { .. } => Resolution::RetryLater,
            BkashError::Rejected { .. } | BkashError::Invalid { .. } => Resolution::Failed,
        }
    }

    /// A sentence for the cashier's screen (never contains secrets).
    pub fn cashier_message(&self) -> String {
        match self {
            BkashError::Business { code, .. } => codes::cashier_message(code),
            BkashError::Unreachable { .. } => {
                "Cannot reach bKash (no connection). Check the network and try again.".into()
            }
            BkashError::OutcomeUnknown { .. } => {
                "bKash did not answer in time. Checking the payment status…".into()
            }
            BkashError::RateLimited { .. } => "bKash is busy. Try again in a moment.".into(),
            BkashError::Auth { .. } => {
                "bKash refused the shop's credentials or the sign-in limit was reached. Ask the manager to check the bKash settings.".into()
            }
            BkashError::Protocol { .. } => {
                "bKash sent an answer Till could not read. Try again.".into()
            }
            BkashError::Rejected { .. } => {
                "bKash refused the request. Ask the manager to check the bKash settings.".into()
            }
            BkashError::Invalid { message } => format!("Cannot send to bKash: {message}."),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn biz(code: &str) -> BkashError {
        BkashError::Business {
            code: code.into(),
            message: "m".into(),
        }
    }

    #[test]
    fn helpers() {
        assert!(biz("2117").is_already_executed());
        assert!(biz("2062").is_already_executed());
        assert!(biz("2029").is_duplicate());
        assert!(biz("2023").is_insufficient_balance());
        assert_eq!(biz("2117").resolution(), Resolution::AskStatus);
        assert_eq!(biz("9999").resolution(), Resolution::AskStatus);
        assert_eq!(biz("2023").resolution(), Resolution::Failed);
        assert_eq!(biz("2056").resolution(), Resolution::Failed);
        assert_eq!(
            BkashError::OutcomeUnknown {
                endpoint: "bkash.execute".into(),
                message: "timed out".into()
            }
            .resolution(),
            Resolution::AskStatus
        );
        assert_eq!(
            biz("2023").cashier_message(),
            "Insufficient balance in the bKash wallet."
        );
    }
}
