//! KHQR — Cambodia's Bakong merchant-presented QR payload: generate it,
//! read it, check it, draw it. Byte-for-byte compatible with the official
//! JavaScript SDK `bakong-khqr` 1.0.20 (see `shared/spec/khqr.md`), minus
//! its bugs. Pure: no I/O, no clock (callers pass "now" in milliseconds).
//!
//! ```
//! use khqr::{encode, verify, Account, Currency, KhqrRequest};
//! use rust_decimal::Decimal;
//!
//! let req = KhqrRequest {
//!     amount: Some(Decimal::new(250, 2)), // 2.50
//!     currency: Currency::Usd,
//!     expiration_ms: Some(1_735_690_200_000),
//!     bill_number: Some("INV-0001".into()),
//!     ..KhqrRequest::individual("dara_kim@wing", "Dara Kim", "Siem Reap")
//! };
//! let code = encode(&req, 1_735_689_600_000).unwrap();
//! assert_eq!(code.md5, "ea2e8c431b371e9686035a29e332db25");
//! let decoded = verify(&code.qr, 1_735_689_600_000).unwrap();
//! assert_eq!(decoded.amount(), Some(Decimal::new(250, 2)));
//! assert_eq!(verify(&code.qr, 1_735_690_200_001).unwrap_err().code(), Some(46));
//! ```
//!
//! # Layout
//!
//! * [`tlv`] — TLV parsing: the SDK-compatible, bounded parser (its quirks
//!   kept, its infinite loops cut) and a strict EMV parser.
//! * [`checksum`] — CRC-16/CCITT-FALSE ([`crc16`]) and the MD5 tracking key
//!   ([`md5_hex`]).
//! * [`amount`] — tag-54 amounts: canonical spelling from `Decimal`, strict reading.
//! * [`encode`](mod@encode) — [`KhqrRequest`] → [`Khqr`] (string + MD5).
//! * [`decode`](mod@decode) — [`decode()`] (the SDK's `decode`, as [`Decoded`])
//!   and [`decode_non_khqr`] (generic EMV dump).
//! * [`verify`](mod@verify) — [`verify()`] (the SDK's verdict, with stage,
//!   code and reason) and [`verify_strict`].
//! * [`render`] — SVG / PNG drawing with a quiet zone and whole-pixel modules.
//! * [`sdk`] — SDK-shaped JSON inputs ([`SdkInputs`]), as the vectors and the
//!   `khqr` command line give them.
//! * [`deeplink`] — the offline half of the SDK's deep-link call.
//! * [`error`] — error types and the SDK's error-code table.
//! * `js` (private) — exact JavaScript `parseInt` / `Number` / `slice` semantics.
//!
//! # Invariants
//!
//! - No I/O and no clock of its own (times are passed in): the same input
//!   always gives the same string, which is what the MD5 is taken of.
//! - Amounts are decimal text at the currency's exponent, never floats.
//! - Does not depend on any Till crate.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub mod amount;
pub mod checksum;
pub mod decode;
pub mod deeplink;
pub mod encode;
pub mod error;
mod js;
pub mod render;
pub mod sdk;
pub mod tlv;
pub mod verify;

pub use checksum::{crc16, md5_hex};
pub use decode::{decode, decode_non_khqr, Decoded};
pub use deeplink::{DeepLinkRequest, SourceInfo};
pub use encode::encode;
pub use error::{
    DeepLinkError, Field, FieldError, GenerateError, RenderError, Rule, Stage, StrictViolation,
    VerifyError,
};
pub use render::{render_png, render_svg, render_svg_fluid};
pub use sdk::SdkInputs;
pub use verify::{verify, verify_strict};

/// Transaction currency (tag 53).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Currency {
    /// Cambodian riel, ISO 4217 numeric 116, no decimals in KHQR.
    Khr,
    /// US dollar, ISO 4217 numeric 840, at most two decimals.
    Usd,
}

impl Currency {
    /// ISO 4217 numeric code as written in tag 53.
    pub fn numeric(self) -> &'static str {
        match self {
            Currency::Khr => "116",
            Currency::Usd => "840",
        }
    }

    /// ISO 4217 alphabetic code.
    pub fn alpha(self) -> &'static str {
        match self {
            Currency::Khr => "KHR",
            Currency::Usd => "USD",
        }
    }
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
///
/// Optional text fields treat `Some("")` as absent (as the SDK drops `""`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KhqrRequest {
    pub bakong_account_id: String,
    pub merchant_name: String,
    /// Empty: `Phnom Penh`.
    pub merchant_city: String,
    pub account: Account,
    pub currency: Currency,
    /// `None` or zero: static code. Anything else: dynamic code.
    pub amount: Option<Decimal>,
    /// `None`: `5999`.
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

impl KhqrRequest {
    /// A static KHR request for an individual account (tag 29), every
    /// optional field empty.
    pub fn individual(bakong_account_id: &str, merchant_name: &str, merchant_city: &str) -> Self {
        KhqrRequest {
            bakong_account_id: bakong_account_id.into(),
            merchant_name: merchant_name.into(),
            merchant_city: merchant_city.into(),
            account: Account::Individual {
                account_information: None,
                acquiring_bank: None,
            },
            currency: Currency::Khr,
            amount: None,
            merchant_category_code: None,
            bill_number: None,
            mobile_number: None,
            store_label: None,
            terminal_label: None,
            purpose_of_transaction: None,
            language_preference: None,
            merchant_name_alternate_language: None,
            merchant_city_alternate_language: None,
            upi_merchant_account: None,
            expiration_ms: None,
        }
    }

    /// A static KHR request for a merchant account (tag 30).
    pub fn merchant(
        bakong_account_id: &str,
        merchant_name: &str,
        merchant_city: &str,
        merchant_id: &str,
        acquiring_bank: &str,
    ) -> Self {
        KhqrRequest {
            account: Account::Merchant {
                merchant_id: merchant_id.into(),
                acquiring_bank: acquiring_bank.into(),
            },
            ..Self::individual(bakong_account_id, merchant_name, merchant_city)
        }
    }
}

/// A generated code: the exact string to draw and its tracking MD5.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Khqr {
    pub qr: String,
    pub md5: String,
}
