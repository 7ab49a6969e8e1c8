//! KHQR codec — API CONTRACT STUB (being implemented).
//!
//! The names and signatures below are the contract the app relies on.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Transaction currency (tag 53).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Currency {
    /// Cambodian riel, ISO 4217 numeric 116, no decimals in KHQR.
    Khr,
    /// US dollar, ISO 4217 numeric 840, at most two decimals.
    Usd,
}

/// Which merchant account template the code carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Account {
    /// Tag 29.
    Individual {
        account_information: Option<String>,
        acquiring_bank: Option<String>,
    },
    /// Tag 30.
    Merchant {
        merchant_id: String,
        acquiring_bank: String,
    },
}

/// Everything needed to generate one KHQR string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KhqrRequest {
    pub bakong_account_id: String,
    pub merchant_name: String,
    pub merchant_city: String,
    pub account: Account,
    pub currency: Currency,
    /// `None` or zero: static code. Anything else: dynamic code.
    pub amount: Option<Decimal>,
    pub merchant_category_code: Option<String>,
    pub bill_number: Option<String>,
    pub mobile_number: Option<String>,
    pub store_label: Option<String>,
    pub terminal_label: Option<String>,
    pub purpose_of_transaction: Option<String>,
    pub language_preference: Option<String>,
    pub merchant_name_alternate_language: Option<String>,
    pub merchant_city_alternate_language: Option<String>,
    pub upi_merchant_account: Option<String>,
    /// Milliseconds since the Unix epoch; required for dynamic codes.
    pub expiration_ms: Option<u64>,
}

/// A generated code: the exact string to draw and its tracking MD5.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Khqr {
    pub qr: String,
    pub md5: String,
}

#[derive(Debug, thiserror::Error)]
#[error("not implemented yet")]
pub struct Error;

pub fn encode(_req: &KhqrRequest, _clock_ms: u64) -> Result<Khqr, Error> {
    todo!()
}

pub fn render_svg(_qr: &str, _size_px: u32) -> Result<String, Error> {
    todo!()
}
