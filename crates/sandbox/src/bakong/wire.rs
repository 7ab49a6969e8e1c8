//! Bakong Open API wire format: the `{responseCode, responseMessage,
//! errorCode, data}` envelope, the transaction object (amounts and dates as
//! JSON numbers), bulk items, and the error table (bakong-api.md §10).

use serde::Serialize;
use serde_json::value::RawValue;

/// The envelope every answer uses, success or business error.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope<T: Serialize> {
    pub response_code: u8,
    pub response_message: String,
    /// `null` on success.
    pub error_code: Option<u8>,
    pub data: Option<T>,
}

impl<T: Serialize> Envelope<T> {
    pub fn ok(message: &str, data: Option<T>) -> Self {
        Envelope {
            response_code: 0,
            response_message: message.into(),
            error_code: None,
            data,
        }
    }
}

/// A business error envelope (`data: null`).
pub fn error(code: u8) -> Envelope<()> {
    Envelope {
        response_code: 1,
        response_message: message(code).into(),
        error_code: Some(code),
        data: None,
    }
}

/// HTTP status that goes with an error code ([S]/[I]: 400 for missing fields,
/// 401 for auth, 200 for every business outcome).
pub fn http_status(code: u8) -> u16 {
    match code {
        5 => 400,
        6 => 401,
        _ => 200,
    }
}

/// Messages of the error table (texts vary between sources; clients must
/// branch on `errorCode`).
pub fn message(code: u8) -> &'static str {
    match code {
        1 => "Transaction could not be found. Please check and try again.",
        2 => "Sorry, the system does not support static QR code.",
        3 => "Transaction failed.",
        4 => "Error occurred on requesting deeplink from provider.",
        5 => "Missing required fields.",
        6 => "Unauthorized, not yet requested for token or code invalid",
        7 => "Email server has been down.",
        8 => "Email has been registered already.",
        9 => "Cannot connect to server. Please try again later.",
        10 => "Not registered yet",
        11 => "Account ID not found",
        12 => "Account ID is invalid.",
        _ => "Unknown error.",
    }
}

/// The 401 body, as a string (used by the fault layer too).
pub fn unauthorized_body() -> String {
    serde_json::to_string(&error(6)).expect("serialisable")
}

/// The transaction object of a check answer (§5.1).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Transaction {
    pub hash: String,
    pub from_account_id: String,
    pub to_account_id: String,
    /// `USD` or `KHR`.
    pub currency: String,
    /// A JSON number written from the exact decimal.
    pub amount: Box<RawValue>,
    pub description: String,
    pub created_date_ms: Box<RawValue>,
    pub acknowledged_date_ms: Box<RawValue>,
    pub tracking_status: Option<String>,
    pub receiver_bank: Option<String>,
    pub receiver_bank_account: Option<String>,
    pub instruction_ref: Option<String>,
    pub external_ref: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TokenData {
    pub token: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeepLinkData {
    pub short_link: String,
}

/// Bulk status values (§6).
pub fn bulk_status(code: Option<u8>) -> &'static str {
    match code {
        None => "SUCCESS",
        Some(2) => "STATIC_QR",
        Some(3) => "FAILED",
        _ => "NOT_FOUND",
    }
}
