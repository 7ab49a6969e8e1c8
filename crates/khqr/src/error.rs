//! Error types and the SDK's error-code table.
//!
//! * [`FieldError`]: one KHQR rule broken by one field, with the SDK error
//!   code the official SDK reports for it.
//! * [`GenerateError`]: why [`crate::encode()`] refused a request.
//! * [`VerifyError`]: why [`crate::verify()`] / [`crate::verify_strict`]
//!   rejected a string, with the SDK `stage` and error code.
//! * [`RenderError`], [`DeepLinkError`].
//!
//! Codes 1–51 are the SDK's (`status.errorCode`). Codes 100 and up are this
//! crate's own, for inputs the SDK accepts but turns into a broken or
//! meaningless string (spec section 14, bugs B1/B3/B7) or that it cannot
//! even type-check.

use std::fmt;

/// One row of the SDK's error table (spec section 11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SdkErrorInfo {
    pub code: u32,
    pub constant: &'static str,
    pub message: &'static str,
}

macro_rules! sdk_table {
    ($($code:literal $name:ident $msg:literal;)*) => {
        /// The SDK's error codes as constants.
        pub mod codes {
            $(pub const $name: u32 = $code;)*
        }
        const TABLE: &[SdkErrorInfo] = &[
            $(SdkErrorInfo { code: $code, constant: stringify!($name), message: $msg },)*
        ];
    };
}

sdk_table! {
    1 BAKONG_ACCOUNT_ID_REQUIRED "Bakong Account ID cannot be null or empty";
    2 MERCHANT_NAME_REQUIRED "Merchant name cannot be null or empty";
    3 BAKONG_ACCOUNT_ID_INVALID "Bakong Account ID is invalid";
    4 TRANSACTION_AMOUNT_INVALID "Amount is invalid";
    5 MERCHANT_TYPE_REQUIRED "Merchant type cannot be null or empty";
    6 BAKONG_ACCOUNT_ID_LENGTH_INVALID "Bakong Account ID Length is Invalid";
    7 MERCHANT_NAME_LENGTH_INVALID "Merchant Name Length is invalid";
    8 KHQR_INVALID "KHQR provided is invalid";
    9 CURRENCY_TYPE_REQUIRED "Currency type cannot be null or empty";
    10 BILL_NUMBER_LENGTH_INVALID "Bill Name Length is invalid";
    11 STORE_LABEL_LENGTH_INVALID "Store Label Length is invalid";
    12 TERMINAL_LABEL_LENGTH_INVALID "Terminal Label Length is invalid";
    13 CONNECTION_TIMEOUT "Cannot reach Bakong Open API service. Please check internet connection";
    14 INVALID_DEEP_LINK_SOURCE_INFO "Source Info for Deep Link is invalid";
    15 INTERNAL_SREVER "Internal server error";
    16 PAYLOAD_FORMAT_INDICATOR_LENGTH_INVALID "Payload Format indicator Length is invalid";
    17 POINT_INITIATION_LENGTH_INVALID "Point of initiation Length is invalid";
    18 MERCHANT_CODE_LENGTH_INVALID "Merchant code Length is invalid";
    19 TRANSACTION_CURRENCY_LENGTH_INVALID "Transaction currency Length is invalid";
    20 COUNTRY_CODE_LENGTH_INVALID "Country code Length is invalid";
    21 MERCHANT_CITY_LENGTH_INVALID "Merchant city Length is invalid";
    22 CRC_LENGTH_INVALID "CRC Length is invalid";
    23 PAYLOAD_FORMAT_INDICATOR_TAG_REQUIRED "Payload format indicator tag required";
    24 CRC_TAG_REQUIRED "CRC tag required";
    25 MERCHANT_CATEGORY_TAG_REQUIRED "Merchant category tag required";
    26 COUNTRY_CODE_TAG_REQUIRED "Country Code cannot be null or empty";
    27 MERCHANT_CITY_TAG_REQUIRED "Merchant City cannot be null or empty";
    28 UNSUPPORTED_CURRENCY "Unsupported currency";
    29 INVALID_DEEP_LINK_URL "Deep Link URL is not valid";
    30 MERCHANT_ID_REQUIRED "Merchant ID cannot be null or empty";
    31 ACQUIRING_BANK_REQUIRED "Acquiring Bank cannot be null or empty";
    32 MERCHANT_ID_LENGTH_INVALID "Merchant ID Length is invalid";
    33 ACQUIRING_BANK_LENGTH_INVALID "Acquiring Bank Length is invalid";
    34 MOBILE_NUMBER_LENGTH_INVALID "Mobile Number Length is invalid";
    35 ACCOUNT_INFORMATION_LENGTH_INVALID "Account Information Length is invalid";
    36 TAG_NOT_IN_ORDER "Tag is not in order";
    37 LANGUAGE_PREFERENCE_REQUIRED "Language Preference cannot be null or empty";
    38 LANGUAGE_PREFERENCE_LENGTH_INVALID "Language Preference Length is invalid";
    39 MERCHANT_NAME_ALTERNATE_LANGUAGE_REQUIRED "Merchant Name Alternate Language cannot be null or empty";
    40 MERCHANT_NAME_ALTERNATE_LANGUAGE_LENGTH_INVALID "Merchant Name Alternate Language Length is invalid";
    41 MERCHANT_CITY_ALTERNATE_LANGUAGE_LENGTH_INVALID "Merchant City Alternate Language Length is invalid";
    42 PURPOSE_OF_TRANSACTION_LENGTH_INVALID "Purpose of Transaction Length is invalid";
    43 UPI_ACCOUNT_INFORMATION_LENGTH_INVALID "Upi Account Information Length is invalid";
    44 UPI_ACCOUNT_INFORMATION_INVALID_CURRENCY "Upi Account Information Length does not accept USD";
    45 EXPIRATION_TIMESTAMP_REQUIRED "Expiration timestamp is required for dynamic KHQR";
    46 KHQR_EXPIRED "This dynamic KHQR has expired";
    47 INVALID_DYNAMIC_KHQR "This dynamic KHQR has invalid field transaction amount";
    48 POINT_OF_INITIATION_METHOD_INVALID "Point of Initiation Method is invalid";
    49 EXPIRATION_TIMESTAMP_LENGTH_INVALID "Expiration timestamp length is invalid";
    50 EXPIRATION_TIMESTAMP_IN_THE_PAST "Expiration timestamp is in the past";
    51 INVALID_MERCHANT_CATEGORY_CODE "Invalid merchant category code";
}

/// Codes this crate adds (never produced by the SDK).
pub mod crate_codes {
    /// A template (29/30 or 62) whose content exceeds 99 characters (bug B7).
    pub const TEMPLATE_TOO_LONG: u32 = 100;
    /// A control character (U+0000–U+001F, U+007F) in a text field.
    pub const CONTROL_CHARACTER: u32 = 101;
    /// SDK-shaped JSON input of the wrong type (object, array, boolean …).
    pub const INVALID_INPUT: u32 = 102;
}

/// Looks up an SDK error code (1–51).
pub fn sdk_error(code: u32) -> Option<&'static SdkErrorInfo> {
    TABLE.iter().find(|e| e.code == code)
}

/// The SDK's literal message for an error code, if it is one of the SDK's.
pub fn sdk_message(code: u32) -> Option<&'static str> {
    sdk_error(code).map(|e| e.message)
}

/// A KHQR data object (or sub-object), in generation (emission) order.
///
/// The derived ordering is the order in which the SDK's generator validates
/// fields, which decides which error wins when several fields are wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    PayloadFormatIndicator,
    PointOfInitiationMethod,
    UnionPayMerchantAccount,
    BakongAccountId,
    AccountInformation,
    MerchantId,
    AcquiringBank,
    /// The 29 / 30 template as a whole.
    MerchantAccount,
    MerchantCategoryCode,
    TransactionCurrency,
    TransactionAmount,
    CountryCode,
    MerchantName,
    MerchantCity,
    BillNumber,
    MobileNumber,
    StoreLabel,
    TerminalLabel,
    PurposeOfTransaction,
    /// The 62 template as a whole.
    AdditionalData,
    /// The 64 template as a whole.
    LanguageTemplate,
    LanguagePreference,
    MerchantNameAlternateLanguage,
    MerchantCityAlternateLanguage,
    /// The 99 template as a whole.
    Timestamp,
    CreationTimestamp,
    ExpirationTimestamp,
    Crc,
}

impl Field {
    /// The tag path, e.g. `"59"` or `"62/01"`; `"29/30"` for the account template.
    pub fn tag(self) -> &'static str {
        use Field::*;
        match self {
            PayloadFormatIndicator => "00",
            PointOfInitiationMethod => "01",
            UnionPayMerchantAccount => "15",
            BakongAccountId => "29|30/00",
            AccountInformation => "29/01",
            MerchantId => "30/01",
            AcquiringBank => "29|30/02",
            MerchantAccount => "29/30",
            MerchantCategoryCode => "52",
            TransactionCurrency => "53",
            TransactionAmount => "54",
            CountryCode => "58",
            MerchantName => "59",
            MerchantCity => "60",
            BillNumber => "62/01",
            MobileNumber => "62/02",
            StoreLabel => "62/03",
            TerminalLabel => "62/07",
            PurposeOfTransaction => "62/08",
            AdditionalData => "62",
            LanguageTemplate => "64",
            LanguagePreference => "64/00",
            MerchantNameAlternateLanguage => "64/01",
            MerchantCityAlternateLanguage => "64/02",
            Timestamp => "99",
            CreationTimestamp => "99/00",
            ExpirationTimestamp => "99/01",
            Crc => "63",
        }
    }

    /// Human name of the field.
    pub fn name(self) -> &'static str {
        use Field::*;
        match self {
            PayloadFormatIndicator => "payload format indicator",
            PointOfInitiationMethod => "point of initiation method",
            UnionPayMerchantAccount => "UnionPay merchant account",
            BakongAccountId => "Bakong account ID",
            AccountInformation => "account information",
            MerchantId => "merchant ID",
            AcquiringBank => "acquiring bank",
            MerchantAccount => "merchant account information",
            MerchantCategoryCode => "merchant category code",
            TransactionCurrency => "transaction currency",
            TransactionAmount => "transaction amount",
            CountryCode => "country code",
            MerchantName => "merchant name",
            MerchantCity => "merchant city",
            BillNumber => "bill number",
            MobileNumber => "mobile number",
            StoreLabel => "store label",
            TerminalLabel => "terminal label",
            PurposeOfTransaction => "purpose of transaction",
            AdditionalData => "additional data",
            LanguageTemplate => "language template",
            LanguagePreference => "language preference",
            MerchantNameAlternateLanguage => "merchant name, alternate language",
            MerchantCityAlternateLanguage => "merchant city, alternate language",
            Timestamp => "timestamp template",
            CreationTimestamp => "creation timestamp",
            ExpirationTimestamp => "expiration timestamp",
            Crc => "CRC",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tag {} ({})", self.tag(), self.name())
    }
}

/// What is wrong with a field, in the SDK's terms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rule {
    #[error("missing")]
    Missing,
    #[error("must not be empty")]
    Empty,
    #[error("longer than {max} characters ({len})")]
    TooLong { max: usize, len: usize },
    #[error("must contain '@' (name@bank)")]
    MissingAt,
    #[error("must be digits only")]
    NotDigits,
    #[error("must be 116 (KHR) or 840 (USD), got {found:?}")]
    UnsupportedCurrency { found: String },
    #[error("must be 11 (static) or 12 (dynamic), got {found:?}")]
    InvalidPointOfInitiation { found: String },
    #[error("amount {detail}")]
    InvalidAmount { detail: String },
    #[error("not allowed with USD")]
    NotAllowedWithUsd,
    #[error("given without the merchant name in the alternate language (64/01)")]
    WithoutAlternateName,
    #[error("required when point of initiation is 12 (dynamic)")]
    RequiredForDynamic,
    #[error("must be 13 digits of milliseconds, got {found:?}")]
    TimestampLength { found: String },
    #[error("is not a valid date: {found:?}")]
    InvalidDate { found: String },
    #[error("expiration {expiration} is earlier than creation {creation}")]
    ExpirationBeforeCreation {
        expiration: String,
        creation: String,
    },
    #[error("expired at {expiration} (now {now})")]
    Expired { expiration: String, now: u64 },
}

/// One KHQR rule broken by one field, with the SDK error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {rule} (SDK error {code})")]
pub struct FieldError {
    pub field: Field,
    pub rule: Rule,
    /// The SDK error code (1–51).
    pub code: u32,
}

impl FieldError {
    pub(crate) fn new(field: Field, rule: Rule, code: u32) -> Self {
        FieldError { field, rule, code }
    }

    /// The SDK's literal message for [`FieldError::code`].
    pub fn sdk_message(&self) -> &'static str {
        sdk_message(self.code).unwrap_or("")
    }
}

/// Why [`crate::encode()`] refused a request.
///
/// When several fields are wrong, the error is the one the SDK reports: the
/// first failing field in emission order (spec section 7, step 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenerateError {
    /// A rule the SDK itself enforces; carries the SDK's code.
    #[error(transparent)]
    Invalid(#[from] FieldError),
    /// 64/01 without 64/00. The SDK crashes on this (bug B3); we report the
    /// SDK's own, otherwise unused, code 37.
    #[error("tag 64/00 (language preference): required when 64/01 (merchant name, alternate language) is given (SDK error 37; the SDK itself crashes here, bug B3)")]
    MissingLanguagePreference,
    /// A template longer than 99 characters, which cannot be written with a
    /// two-digit length (the SDK writes a broken three-digit length, bug B7).
    #[error("{field}: template content is {len} characters, more than 99 (khqr error 100; the SDK emits an unparseable string, bug B7)")]
    TemplateTooLong { field: Field, len: usize },
    /// A control character in a text field (spec section 1.5).
    #[error("{field}: contains control character U+{ch:04X} at position {index} (khqr error 101)")]
    ControlCharacter { field: Field, ch: u32, index: usize },
    /// An SDK-shaped JSON input of a type the SDK cannot use.
    #[error("{field}: {reason} (khqr error 102)")]
    InvalidInput { field: Field, reason: String },
}

impl GenerateError {
    /// The error code: the SDK's (1–51) or this crate's (100+), see module docs.
    pub fn code(&self) -> u32 {
        match self {
            GenerateError::Invalid(e) => e.code,
            GenerateError::MissingLanguagePreference => codes::LANGUAGE_PREFERENCE_REQUIRED,
            GenerateError::TemplateTooLong { .. } => crate_codes::TEMPLATE_TOO_LONG,
            GenerateError::ControlCharacter { .. } => crate_codes::CONTROL_CHARACTER,
            GenerateError::InvalidInput { .. } => crate_codes::INVALID_INPUT,
        }
    }

    /// The SDK error code if the SDK itself reports this case.
    pub fn sdk_code(&self) -> Option<u32> {
        match self {
            GenerateError::Invalid(e) => Some(e.code),
            _ => None,
        }
    }

    /// The SDK's literal message for [`GenerateError::code`] (empty for crate codes).
    pub fn sdk_message(&self) -> &'static str {
        sdk_message(self.code()).unwrap_or("")
    }

    /// The field at fault.
    pub fn field(&self) -> Field {
        match self {
            GenerateError::Invalid(e) => e.field,
            GenerateError::MissingLanguagePreference => Field::LanguageTemplate,
            GenerateError::TemplateTooLong { field, .. }
            | GenerateError::ControlCharacter { field, .. }
            | GenerateError::InvalidInput { field, .. } => *field,
        }
    }

    /// Position in the SDK's validation order (lower is checked first).
    pub(crate) fn position(&self) -> u32 {
        match self {
            // The UnionPay-with-USD check runs right after the currency.
            GenerateError::Invalid(FieldError {
                rule: Rule::NotAllowedWithUsd,
                ..
            }) => Field::TransactionCurrency as u32 * 2 + 1,
            other => other.field() as u32 * 2,
        }
    }
}

/// The SDK verification stage at which a string was rejected (the vectors'
/// `stage`), plus `Strict` for this crate's strict mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// No trailing `6304` + 4 hex digits.
    CrcFormat,
    /// CRC does not match.
    CrcMismatch,
    /// Fewer than 12 UTF-16 units.
    TooShort,
    /// A field rule (the SDK error code says which).
    FieldValidation,
    /// The SDK crashes internally (a JS exception); verify returns false.
    Exception,
    /// Passed the SDK's checks but fails [`crate::verify_strict`].
    Strict,
}

impl Stage {
    /// The vectors' spelling (`crc_format`, …, `strict`).
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::CrcFormat => "crc_format",
            Stage::CrcMismatch => "crc_mismatch",
            Stage::TooShort => "too_short",
            Stage::FieldValidation => "field_validation",
            Stage::Exception => "exception",
            Stage::Strict => "strict",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rule that [`crate::verify_strict`] adds on top of the SDK's (spec B9/B10).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StrictViolation {
    #[error("malformed TLV at UTF-16 offset {offset}: {detail}")]
    Malformed { offset: usize, detail: String },
    #[error("tag {tag}: out of order (after tag {after})")]
    OutOfOrder { tag: String, after: String },
    #[error("tag {tag}: appears more than once")]
    Duplicate { tag: String },
    #[error("tag {tag}: template has trailing or malformed content")]
    MalformedTemplate { tag: String },
    #[error("tag 00 (payload format indicator): must be \"01\", got {found:?}")]
    PayloadFormat { found: String },
    #[error("tag 58 (country code): must be \"KH\", got {found:?}")]
    CountryCode { found: String },
    #[error("tag 30/01 (merchant ID): required in a merchant (tag 30) account")]
    MerchantIdMissing,
    #[error("tag 30/02 (acquiring bank): required in a merchant (tag 30) account")]
    AcquiringBankMissing,
    #[error("tag 54 (transaction amount): {found:?} is not a valid {currency} amount")]
    AmountFormat {
        found: String,
        currency: &'static str,
    },
    #[error("tag 54 (transaction amount): present in a static (11) code")]
    AmountInStatic,
    #[error("tag 99/00 (creation timestamp): must be 13 digits, got {found:?}")]
    CreationTimestamp { found: String },
    #[error("tag 99/01 (expiration timestamp): {detail}")]
    Expiration { detail: String },
    #[error("tag {tag}: contains a control character")]
    ControlCharacter { tag: String },
    #[error("tag 63 (CRC): must be upper-case hex")]
    LowercaseCrc,
}

impl StrictViolation {
    /// The SDK code that names the same kind of problem, when there is one.
    pub fn code(&self) -> Option<u32> {
        match self {
            StrictViolation::OutOfOrder { .. } => Some(codes::TAG_NOT_IN_ORDER),
            StrictViolation::MerchantIdMissing => Some(codes::MERCHANT_ID_REQUIRED),
            StrictViolation::AcquiringBankMissing => Some(codes::ACQUIRING_BANK_REQUIRED),
            StrictViolation::AmountFormat { .. } | StrictViolation::AmountInStatic => {
                Some(codes::TRANSACTION_AMOUNT_INVALID)
            }
            StrictViolation::CreationTimestamp { .. } => {
                Some(codes::EXPIRATION_TIMESTAMP_LENGTH_INVALID)
            }
            _ => None,
        }
    }
}

/// Why a string failed [`crate::verify()`] or [`crate::verify_strict`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("tag 63 (CRC): the string must end with \"6304\" and 4 hex digits")]
    CrcFormat,
    #[error("tag 63 (CRC): mismatch, the string says {found}, computed {computed}")]
    CrcMismatch { found: String, computed: String },
    #[error("too short: {len} characters, a KHQR has at least 12")]
    TooShort { len: usize },
    #[error(transparent)]
    Invalid(#[from] FieldError),
    /// The SDK throws an internal JavaScript exception here (verify → false).
    #[error("{field}: {detail} (the SDK crashes here)")]
    Exception { field: Field, detail: String },
    #[error("strict: {0}")]
    Strict(#[from] StrictViolation),
}

impl VerifyError {
    /// The SDK error code (`errorCode` in the vectors); `None` for the CRC,
    /// length and exception stages. Strict violations give the closest SDK
    /// code where one exists.
    pub fn code(&self) -> Option<u32> {
        match self {
            VerifyError::Invalid(e) => Some(e.code),
            VerifyError::Strict(s) => s.code(),
            _ => None,
        }
    }

    /// The stage at which the string was rejected.
    pub fn stage(&self) -> Stage {
        match self {
            VerifyError::CrcFormat => Stage::CrcFormat,
            VerifyError::CrcMismatch { .. } => Stage::CrcMismatch,
            VerifyError::TooShort { .. } => Stage::TooShort,
            VerifyError::Invalid(_) => Stage::FieldValidation,
            VerifyError::Exception { .. } => Stage::Exception,
            VerifyError::Strict(_) => Stage::Strict,
        }
    }

    /// The vectors' `message`: the SDK message for field errors,
    /// `"CRC mismatch, computed XXXX"` for CRC mismatches, otherwise the
    /// display text.
    pub fn message(&self) -> String {
        match self {
            VerifyError::Invalid(e) => e.sdk_message().to_string(),
            VerifyError::CrcMismatch { computed, .. } => {
                format!("CRC mismatch, computed {computed}")
            }
            other => other.to_string(),
        }
    }
}

/// Why a QR image could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("the text does not fit in a QR code: {0}")]
    Data(#[from] qrcode::types::QrError),
    #[error("requested size {size_px} px is larger than the maximum {max} px")]
    TooLarge { size_px: u32, max: u32 },
    #[error("PNG encoding failed: {0}")]
    Png(#[from] image::ImageError),
}

/// Why a deep-link request could not be prepared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeepLinkError {
    #[error(
        "deep link URL {url:?}: path must be exactly /v1/generate_deeplink_by_qr (SDK error 29)"
    )]
    InvalidUrl { url: String },
    #[error("deep link QR: not a valid KHQR: {reason} (SDK error 8)")]
    InvalidQr { reason: VerifyError },
    #[error("deep link source info: {field} must not be empty (SDK error 14)")]
    InvalidSourceInfo { field: &'static str },
}

impl DeepLinkError {
    /// The SDK error code (29, 8 or 14).
    pub fn code(&self) -> u32 {
        match self {
            DeepLinkError::InvalidUrl { .. } => codes::INVALID_DEEP_LINK_URL,
            DeepLinkError::InvalidQr { .. } => codes::KHQR_INVALID,
            DeepLinkError::InvalidSourceInfo { .. } => codes::INVALID_DEEP_LINK_SOURCE_INFO,
        }
    }
}
