//! Every refusal in one JSON shape: `{"error": {"code", "params", "message"}}`.
//! `code` and `params` are a [`Reason`] (`till_core::reason`), the codes the
//! till's own screens use; `message` is English for the integrator's logs
//! (match on `code`, never on `message`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use till_core::journal::JournalError;
use till_core::provider::ProviderError;
use till_core::reason::{Reason, ReasonCode};
use till_core::EngineError;

/// A refusal: the HTTP status and the reason.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub reason: Reason,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Detail<'a>,
}

#[derive(Serialize)]
struct Detail<'a> {
    #[serde(flatten)]
    reason: &'a Reason,
    message: String,
}

impl ApiError {
    pub fn new(reason: Reason) -> ApiError {
        ApiError {
            status: status_of(reason.code),
            reason,
        }
    }

    pub fn code(code: ReasonCode) -> ApiError {
        ApiError::new(Reason::new(code))
    }

    pub fn field(field: &str, why: impl std::fmt::Display) -> ApiError {
        ApiError::new(
            Reason::new(ReasonCode::InvalidField)
                .with("field", field)
                .with("why", why),
        )
    }

    /// The JSON body (also what the event stream never sends: errors are answers only).
    pub fn body(&self) -> serde_json::Value {
        serde_json::to_value(Body {
            error: Detail {
                reason: &self.reason,
                message: self.reason.to_string(),
            },
        })
        .expect("an error serialises")
    }
}

/// The status each code is answered with: 400 for input that can never
/// work, 401 for keys, 404, 409 for the charge's state, 422 for what this
/// till cannot do now, 503 when it cannot record.
fn status_of(code: ReasonCode) -> StatusCode {
    use ReasonCode::*;
    match code {
        KeyMissing | KeyInvalid | KeyRevoked => StatusCode::UNAUTHORIZED,
        NotFound => StatusCode::NOT_FOUND,
        MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        MalformedJson | InvalidField | AmountInvalid | AmountNotPositive | AmountDecimals
        | AmountTooLarge | CurrencyUnknown | WalletUnknown | ReferenceInvalid => {
            StatusCode::BAD_REQUEST
        }
        ReferenceConflict | TillBusy | NotCancellable | AlreadyApproved | AlreadyPaid
        | NotRefundable | RefundRequestWaiting | RefundRequestDecided => StatusCode::CONFLICT,
        DiskFull => StatusCode::SERVICE_UNAVAILABLE,
        Internal => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> ApiError {
        if let Some(r) = e.reason() {
            return ApiError::new(r);
        }
        match &e {
            EngineError::Money(m) => ApiError::new(m.reason("amount")),
            EngineError::NotFound(id) => {
                ApiError::new(Reason::new(ReasonCode::NotFound).with("id", id))
            }
            EngineError::Provider(ProviderError::Unsupported { provider, message }) => {
                ApiError::new(
                    Reason::new(ReasonCode::RefundsElsewhere)
                        .with("wallet", provider)
                        .with("where", message),
                )
            }
            EngineError::Journal(JournalError::Transition(t)) => {
                ApiError::new(Reason::new(ReasonCode::NotCancellable).with("state", t.from))
            }
            _ => {
                tracing::error!(error = %e, "terminal API request failed");
                ApiError::code(ReasonCode::Internal)
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body())).into_response()
    }
}
