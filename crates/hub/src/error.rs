//! The library error, and the JSON error answers of the HTTP API.

use crate::store::StoreError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use till_sync_proto::{ErrorBody, ErrorCode};

/// What can go wrong starting or running a hub.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A JSON error answer: status and [`ErrorBody`].
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
}

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            body: ErrorBody {
                error: code,
                message: message.into(),
                existing_id: None,
            },
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, message)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::UnknownTerminal(t) => ApiError::new(
                StatusCode::NOT_FOUND,
                ErrorCode::UnknownTerminal,
                format!("terminal {t:?} is not registered"),
            ),
            StoreError::Conflict {
                reason,
                existing_id,
                ..
            } => {
                let mut err = ApiError::new(StatusCode::CONFLICT, ErrorCode::Conflict, reason);
                err.body.existing_id = existing_id;
                err
            }
            other => {
                tracing::error!(error = %other, "storage failure");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorCode::Internal,
                    "storage is unavailable; retry later",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}
