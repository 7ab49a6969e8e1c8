//! Every setting of the sandbox. Where the specs are unsure (tags `[I]`/`[?]`),
//! the behaviour is a field here with the spec's suggested default, so a test
//! can switch to the other plausible behaviour instead of us guessing once.
//!
//! A TOML file (`--faults FILE.toml`, or [`Config::from_toml`]) may carry any
//! of these sections:
//!
//! ```toml
//! seed = 42
//! [bkash]
//! repeat_execute_code = "2062"
//! token_rate_limit = true
//! token_status_code = false   # grant answers without statusCode
//! [bakong]
//! bulk_item_key = "transaction"
//! bulk_item_fields = "inline"   # or "nested" (default), "missing"
//! [nagad]
//! duplicate_order = "always"    # or "after_complete" (default), "never"
//! refund_enabled = true         # purchase/cancel ([I], off by default)
//! answer_signature = "wrong_key"
//! [[fault]]
//! endpoint = "bkash.execute"
//! kind = "hang"
//! after = true      # the execute commits, then the response never comes
//! times = 1
//! ```

use crate::faults::FaultRule;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Top-level configuration.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to bind; port 0 picks an ephemeral port.
    pub listen: String,
    /// Base URL clients and browsers reach the sandbox at (default `http://<bound addr>`).
    pub public_url: Option<String>,
    /// Seed of the RNG behind ids and fault rolls (same seed, same run).
    pub seed: u64,
    /// SQLite file; when set the world survives restarts.
    pub state_file: Option<PathBuf>,
    pub bkash: BkashConfig,
    pub bakong: BakongConfig,
    pub nagad: NagadConfig,
    /// Fault rules active from the start (TOML `[[fault]]`).
    #[serde(rename = "fault")]
    pub faults: Vec<FaultRule>,
    /// Serve HTTPS with this certificate (`--tls-cert`/`--tls-key`); plain
    /// HTTP when absent.
    #[serde(skip)]
    pub tls: Option<crate::tls::TlsIdentity>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:0".into(),
            public_url: None,
            seed: 1,
            state_file: None,
            bkash: BkashConfig::default(),
            bakong: BakongConfig::default(),
            nagad: NagadConfig::default(),
            faults: Vec::new(),
            tls: None,
        }
    }
}

impl Config {
    /// Parse a TOML document (every key optional).
    pub fn from_toml(text: &str) -> Result<Config, toml::de::Error> {
        toml::from_str(text)
    }

    /// Read and parse a TOML file.
    pub fn load(path: &Path) -> Result<Config, crate::Error> {
        let text = std::fs::read_to_string(path).map_err(|source| crate::Error::Read {
            path: path.to_owned(),
            source,
        })?;
        Config::from_toml(&text).map_err(|e| crate::Error::Config {
            path: path.to_owned(),
            message: e.to_string(),
        })
    }
}

/// What a business call answers when `X-APP-Key` does not match the token's app.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppKeyMismatch {
    /// HTTP 200 `{"statusCode":"2001","statusMessage":"Invalid App Key"}` (spec's default, [I]).
    StatusCode,
    /// API Gateway 403 `{"message":"Forbidden"}` (one library's claim).
    Gateway403,
}

/// Where a reused `merchantInvoiceNumber` within the duplicate window is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateInvoice {
    Off,
    /// `2029` from create.
    Create,
    /// The hosted page fails the payment with `2029` (redirect `status=failure`).
    Page,
}

/// bKash settings. Defaults are the spec's recommendations.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BkashConfig {
    pub username: String,
    pub password: String,
    pub app_key: String,
    pub app_secret: String,
    pub merchant_name: String,
    /// `organizationShortCode` in search results (sandbox: `50022`).
    pub short_code: String,
    /// The merchant's own wallet (IPN topic suffix).
    pub merchant_wallet: String,
    /// `expires_in` of granted tokens.
    pub token_ttl_secs: u64,
    /// The 2-grants-per-hour limit (off by default, spec §5/§18).
    pub token_rate_limit: bool,
    pub token_rate_limit_max: u32,
    pub token_rate_limit_window_secs: u64,
    pub token_block_secs: u64,
    /// Body code when blocked; `None` answers gateway HTTP 429 (code unknown, [?]).
    pub token_rate_limit_status_code: Option<String>,
    /// Grant/refresh answers carry `statusCode`/`statusMessage` (the spec's
    /// shape); `false` sends only the token fields, as some sources show
    /// (spec §1: success bodies without `statusCode`).
    pub token_status_code: bool,
    /// Refuse `Authorization: Bearer <token>` (raw token only).
    pub strict_bearer: bool,
    pub app_key_mismatch: AppKeyMismatch,
    /// A payment ID expires this long after create (24 h).
    pub payment_ttl_secs: u64,
    /// Code for executing an expired payment ([?], simulator default `2056`).
    pub expired_execute_code: String,
    /// Code for a repeated execute (`2117` or `2062`, [I]).
    pub repeat_execute_code: String,
    /// Failed/cancelled payments show `Failed`/`Cancelled` instead of staying `Initiated` ([?]).
    pub show_failed_status: bool,
    /// Window for `2029` duplicates; 0 disables both duplicate rules.
    pub duplicate_window_secs: u64,
    /// Same wallet + same amount within the window fails on the hosted page.
    pub duplicate_payer_amount: bool,
    pub duplicate_invoice: DuplicateInvoice,
    /// Append `signature=<10 chars>` to callback URLs (current servers).
    pub callback_signature: bool,
    /// Append `apiVersion=1.2.0-beta` to callback URLs (2020–2023 servers).
    pub callback_api_version: bool,
    /// Wallets that complete payments on the hosted page.
    pub wallets: Vec<String>,
    /// Any well-formed `01XXXXXXXXX` wallet pays (not only the test wallets).
    pub accept_any_wallet: bool,
    pub insufficient_balance_wallets: Vec<String>,
    pub debit_block_wallets: Vec<String>,
    /// Code for the debit-block wallet (`2037`, [I]).
    pub debit_block_code: String,
    pub otp: String,
    pub pin: String,
    /// Refunds older than this are refused with `2071` (15 or 60 days, [?]).
    pub refund_window_days: u64,
    /// Refunds per transaction through v1 (one, [I]).
    pub refund_v1_max: u32,
    /// Refunds per transaction through v2 (10 partials).
    pub refund_v2_max: u32,
    /// A v1 refund without `sku`/`reason` fails the gateway schema (400) ([S]).
    pub refund_requires_sku_reason: bool,
    /// Code for refund status when no refund exists ([S]: "invalid payment id").
    pub refund_status_none_code: String,
    /// Code for searching an unknown trxID ([?], simulator `2033`).
    pub search_not_found_code: String,
    pub ipn: IpnConfig,
}

impl Default for BkashConfig {
    fn default() -> Self {
        BkashConfig {
            username: "sandboxTillUser".into(),
            password: "sandboxTillPass".into(),
            app_key: "till-sandbox-app-key".into(),
            app_secret: "till-sandbox-app-secret".into(),
            merchant_name: "Till Sandbox Merchant".into(),
            short_code: "50022".into(),
            merchant_wallet: "01619777282".into(),
            token_ttl_secs: 3600,
            token_rate_limit: false,
            token_rate_limit_max: 2,
            token_rate_limit_window_secs: 3600,
            token_block_secs: 3600,
            token_rate_limit_status_code: None,
            token_status_code: true,
            strict_bearer: false,
            app_key_mismatch: AppKeyMismatch::StatusCode,
            payment_ttl_secs: 24 * 3600,
            expired_execute_code: "2056".into(),
            repeat_execute_code: "2117".into(),
            show_failed_status: false,
            duplicate_window_secs: 120,
            duplicate_payer_amount: true,
            duplicate_invoice: DuplicateInvoice::Page,
            callback_signature: true,
            callback_api_version: false,
            wallets: [
                "01770618575",
                "01929918378",
                "01770618576",
                "01877722345",
                "01619777282",
                "01619777283",
            ]
            .map(String::from)
            .to_vec(),
            accept_any_wallet: false,
            insufficient_balance_wallets: vec!["01823074817".into()],
            debit_block_wallets: vec!["01823074818".into()],
            debit_block_code: "2037".into(),
            otp: "123456".into(),
            pin: "12121".into(),
            refund_window_days: 15,
            refund_v1_max: 1,
            refund_v2_max: 10,
            refund_requires_sku_reason: true,
            refund_status_none_code: "2002".into(),
            search_not_found_code: "2033".into(),
            ipn: IpnConfig::default(),
        }
    }
}

/// Outgoing SNS-shaped IPN (off unless `url` is set).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IpnConfig {
    /// Where to POST notifications; `None` disables IPN.
    pub url: Option<String>,
    /// AWS account in the topic ARN.
    pub topic_account: String,
    /// `"1"` (SHA-1, bKash's samples) or `"2"` (SHA-256).
    pub signature_version: String,
    /// `SigningCertURL` to put in envelopes; default: the sandbox's own PEM route.
    pub signing_cert_url: Option<String>,
    /// Send a `SubscriptionConfirmation` before the first notification.
    pub send_subscription_confirmation: bool,
}

impl Default for IpnConfig {
    fn default() -> Self {
        IpnConfig {
            url: None,
            topic_account: "000000000000".into(),
            signature_version: "1".into(),
            signing_cert_url: None,
            send_subscription_confirmation: false,
        }
    }
}

/// What check-by-MD5 answers for the MD5 of a static KHQR ([?]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaticMd5 {
    /// errorCode 2 "static QR not supported".
    NotSupported,
    /// The most recent payment of that static code.
    Latest,
}

/// How a paid item of the bulk check answer carries its transaction. Public
/// sources disagree; a client must read the first two and must not take the
/// third for "not paid".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BulkItemFields {
    /// An object under `bulk_item_key` (the spec's shape).
    Nested,
    /// The transaction's fields on the item itself, beside `md5`/`status`.
    Inline,
    /// `status: "SUCCESS"` and no transaction fields at all.
    Missing,
}

/// Bakong settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BakongConfig {
    /// Path prefix in front of `/v1/...` (e.g. `/bakong`); empty by default.
    pub prefix: String,
    /// E-mails `renew_token` accepts.
    pub registered_emails: Vec<String>,
    /// Bearer-token lifetime (90 days in real samples).
    pub token_ttl_secs: u64,
    /// Renewing revokes the e-mail's previous tokens ([?]).
    pub renew_revokes_previous: bool,
    /// Bakong accounts that exist (QR receivers must be one of these).
    pub accounts: Vec<String>,
    /// Any well-formed `name@bank` receiver exists.
    pub accept_any_account: bool,
    /// Item limit of the two list endpoints.
    pub bulk_limit: usize,
    /// Key of the transaction object in bulk items: `data` or `transaction` ([?]).
    pub bulk_item_key: String,
    /// Where a `SUCCESS` bulk item carries its transaction fields ([?]).
    pub bulk_item_fields: BulkItemFields,
    /// Write integral amounts and epoch-ms dates with a `.0` fraction.
    pub float_style: bool,
    pub static_md5: StaticMd5,
    /// The bank app refuses a paid dynamic code a second time.
    pub refuse_repeat: bool,
    /// Transactions become visible to check calls this long after payment.
    pub visible_after_ms: u64,
    /// `acknowledgedDateMs - createdDateMs`.
    pub ack_delay_ms: u64,
}

impl Default for BakongConfig {
    fn default() -> Self {
        BakongConfig {
            prefix: String::new(),
            registered_emails: vec!["dev@till.test".into()],
            token_ttl_secs: 90 * 24 * 3600,
            renew_revokes_previous: false,
            accounts: [
                "till_demo@devb",
                "dara_kim@wing",
                "sokha_chan@aclb",
                "vanna_sok@abaa",
                "coffee_shop@aclb",
                "payer_demo@abaa",
            ]
            .map(String::from)
            .to_vec(),
            accept_any_account: false,
            bulk_limit: 50,
            bulk_item_key: "data".into(),
            bulk_item_fields: BulkItemFields::Nested,
            float_style: true,
            static_md5: StaticMd5::NotSupported,
            refuse_repeat: true,
            visible_after_ms: 0,
            ack_delay_ms: 1_333,
        }
    }
}

/// What verify writes as `amount` (captures show `"16"`, `"5"`; whether
/// Nagad echoes the text it was sent or normalises it is unknown, [?]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AmountEcho {
    /// The text complete sealed (`"10.00"`).
    AsSent,
    /// Trailing zeros dropped (`"10"`, `"10.5"`).
    Normalized,
}

/// When initialize refuses an `orderId` already used ([?]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateOrder {
    Never,
    /// Once an earlier payment of that order was completed (its page exists).
    AfterComplete,
    /// Any earlier initialize of that order.
    Always,
}

/// How the sandbox signs its sealed answers (initialize, refund).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerSignature {
    /// SHA256withRSA over the plaintext with the Nagad key (spec §3, [I]).
    Valid,
    /// No `signature` field.
    Missing,
    /// Signed with a key that is not Nagad's (a man in the middle).
    WrongKey,
}

/// Nagad settings. Defaults follow `tests/data/nagad/README.md`; every
/// point it marks `[I]`/`[?]` is a switch here.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NagadConfig {
    /// Path prefix in front of `/remote-payment-gateway-1.0/api/dfs/...`.
    pub prefix: String,
    /// The one merchant the sandbox knows.
    pub merchant_id: String,
    /// `merchantMobileNo` in verify answers.
    pub merchant_mobile: String,
    pub merchant_name: String,
    /// The merchant's public key (PEM): checks signatures, seals answers.
    /// Default: `tests/data/nagad/merchant-public.TEST-ONLY.pem`.
    pub merchant_public_key_pem: String,
    /// Nagad's private key (PEM): opens requests, signs answers. Default:
    /// `tests/data/nagad/nagad-private.TEST-ONLY.pem`.
    pub nagad_private_key_pem: String,
    /// `X-KM-Api-Version`, `X-KM-Client-Type` and `X-KM-IP-V4` are checked
    /// on initialize and complete ([I]).
    pub require_headers: bool,
    /// ... and on verify too (the official sample's verify sends none, [I]).
    pub verify_requires_headers: bool,
    pub api_version: String,
    pub client_types: Vec<String>,
    /// Also accept SHA1withRSA signatures (one guide says SHA1, [?]).
    pub accept_sha1_signatures: bool,
    /// HTTP status of `{reason, message}` refusals ([?]: 4xx).
    pub error_status: u16,
    pub answer_signature: AnswerSignature,
    /// Refuse an initialize whose `datetime` is further than this from the
    /// sandbox clock; 0 = not checked ([?]).
    pub datetime_skew_secs: u64,
    pub duplicate_order: DuplicateOrder,
    /// Refuse an initialize repeating a challenge seen before ([I]).
    pub refuse_reused_challenge: bool,
    /// Longest `orderId` accepted ([?]).
    pub order_id_max_len: usize,
    /// `orderId` must be letters and digits only (no `-`/`_`, [?]).
    pub order_id_alphanumeric_only: bool,
    /// Largest amount complete accepts; `None` = no limit ([?]).
    pub max_amount: Option<String>,
    pub amount_echo: AmountEcho,
    /// A payment not finished this long after initialize is over ([?]).
    pub payment_ttl_secs: u64,
    /// What verify says for such a payment ([?]).
    pub expired_status: String,
    /// Wallets that pay.
    pub wallets: Vec<String>,
    /// Any well-formed `01XXXXXXXXX` wallet pays.
    pub accept_any_wallet: bool,
    pub insufficient_balance_wallets: Vec<String>,
    /// Wallets whose payment exceeds their limit ("Transaction over limit").
    pub over_limit_wallets: Vec<String>,
    pub otp: String,
    pub pin: String,
    /// Final status of a payment after a wrong PIN ([?]).
    pub wrong_pin_status: String,
    /// Final status of a payment from a wallet without the balance ([?]).
    pub insufficient_balance_status: String,
    /// `purchase/cancel` (refund) exists ([I], off: refunds are then made
    /// in the merchant portal).
    pub refund_enabled: bool,
    /// Body key of the refund's sealed data ([I]: `sensitiveDataCancelRequest`;
    /// one client sends `sensitiveData`).
    pub refund_body_key: String,
    /// Write `payment_ref_id` into the callback unescaped, as the published
    /// redirects show it (`…Zjk=`); escaped by default ([?]).
    pub callback_raw_ref: bool,
}

/// The TEST ONLY keys of `tests/data/nagad/` (never use them for money).
pub mod nagad_test_keys {
    pub const MERCHANT_PRIVATE_PEM: &str =
        include_str!("../../../tests/data/nagad/merchant-private.TEST-ONLY.pem");
    pub const MERCHANT_PUBLIC_PEM: &str =
        include_str!("../../../tests/data/nagad/merchant-public.TEST-ONLY.pem");
    pub const NAGAD_PRIVATE_PEM: &str =
        include_str!("../../../tests/data/nagad/nagad-private.TEST-ONLY.pem");
    pub const NAGAD_PUBLIC_PEM: &str =
        include_str!("../../../tests/data/nagad/nagad-public.TEST-ONLY.pem");
    /// A third key that belongs to nobody (wrong-key tests).
    pub const STRANGER_PRIVATE_PEM: &str =
        include_str!("../../../tests/data/nagad/stranger-private.TEST-ONLY.pem");
}

impl Default for NagadConfig {
    fn default() -> Self {
        NagadConfig {
            prefix: "/nagad".into(),
            merchant_id: "683000000000017".into(),
            merchant_mobile: "01700000017".into(),
            merchant_name: "Till Sandbox Merchant".into(),
            merchant_public_key_pem: nagad_test_keys::MERCHANT_PUBLIC_PEM.into(),
            nagad_private_key_pem: nagad_test_keys::NAGAD_PRIVATE_PEM.into(),
            require_headers: true,
            verify_requires_headers: false,
            api_version: "v-0.2.0".into(),
            client_types: [
                "PC_WEB",
                "MOBILE_WEB",
                "MOBILE_APP",
                "WALLET_WEB_VIEW",
                "BILL_KEY",
            ]
            .map(String::from)
            .to_vec(),
            accept_sha1_signatures: false,
            error_status: 400,
            answer_signature: AnswerSignature::Valid,
            datetime_skew_secs: 0,
            duplicate_order: DuplicateOrder::AfterComplete,
            refuse_reused_challenge: true,
            order_id_max_len: 64,
            order_id_alphanumeric_only: false,
            max_amount: None,
            amount_echo: AmountEcho::AsSent,
            payment_ttl_secs: 3600,
            expired_status: "Aborted".into(),
            wallets: ["01711111111", "01722222222", "01733333333"]
                .map(String::from)
                .to_vec(),
            accept_any_wallet: false,
            insufficient_balance_wallets: vec!["01799999991".into()],
            over_limit_wallets: vec!["01799999992".into()],
            otp: "123456".into(),
            pin: "1234".into(),
            wrong_pin_status: "Aborted".into(),
            insufficient_balance_status: "Failed".into(),
            refund_enabled: false,
            refund_body_key: "sensitiveDataCancelRequest".into(),
            callback_raw_ref: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_round_trip() {
        let c = Config::from_toml(
            r#"
seed = 9
[bkash]
repeat_execute_code = "2062"
[[fault]]
endpoint = "bkash.execute"
kind = "hang"
after = true
times = 1
"#,
        )
        .unwrap();
        assert_eq!(c.seed, 9);
        assert_eq!(c.bkash.repeat_execute_code, "2062");
        assert_eq!(c.faults.len(), 1);
        assert_eq!(c.bkash.otp, "123456");
        let n = Config::from_toml(
            "[nagad]\nduplicate_order = \"always\"\nrefund_enabled = true\nanswer_signature = \"wrong_key\"\n",
        )
        .unwrap();
        assert_eq!(n.nagad.duplicate_order, DuplicateOrder::Always);
        assert!(n.nagad.refund_enabled);
        assert_eq!(n.nagad.answer_signature, AnswerSignature::WrongKey);
        assert_eq!(n.nagad.pin, "1234");
    }
}
