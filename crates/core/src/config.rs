//! Configuration: `<home>/till.toml` over the built-in defaults
//! (`defaults.toml`, a demo shop on the local sandbox), then environment
//! overrides `TILL__<SECTION>__<KEY>=value`. An invalid value is refused with a
//! message naming the key. Secrets are never configuration: see [`crate::secrets`].
//!
//! Provider endpoints come from presets: `bkash.environment` (`sandbox`,
//! `production`, `custom`) and `bakong.environment` (`sit`, `production`,
//! `custom`). A preset sets the base URL (and bKash's checkout origin);
//! `custom` uses the explicit `base_url`, which is what the built-in demo
//! configuration does. A preset together with an explicit `base_url` (or
//! `checkout_origin`) that differs from the preset's is refused: which of the
//! two was meant cannot be guessed, and guessing wrong sends real money to a
//! test system or test traffic to production.
//!
//! Every URL Till calls must be `https://` unless its host is loopback (the
//! local sandbox, a hub on the same machine); `[tls] extra_roots` names a PEM
//! file of CA certificates trusted besides the operating system's store.

use crate::money::{Amount, Currency};
use chrono::NaiveTime;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;
use till_provider_http::ExtraRoots;

/// The built-in configuration text.
pub const DEFAULTS_TOML: &str = include_str!("../defaults.toml");

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{origin} is not valid TOML: {message}")]
    Syntax { origin: String, message: String },
    #[error("invalid value for `{key}`: {message}")]
    Invalid { key: String, message: String },
}

fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_owned(),
        message: message.into(),
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub terminal: TerminalSection,
    pub shop: Shop,
    pub business_day: BusinessDaySection,
    pub khqr: KhqrProfile,
    pub bkash: BkashSection,
    pub bakong: BakongSection,
    pub nagad: NagadSection,
    pub demo: DemoSection,
    /// The desktop app's customer display.
    #[serde(default)]
    pub display: DisplaySection,
    /// The cashier's sounds when a payment ends.
    pub sound: SoundSection,
    pub offline: OfflineSection,
    /// Settlement sync to the shop's hub (`till-hub`).
    pub hub: HubSection,
    /// Certificates trusted by every client the terminal builds.
    #[serde(default)]
    pub tls: TlsSection,
    /// Retention of call records and logs, and the free space a payment needs.
    #[serde(default)]
    pub storage: StorageSection,
    /// The receipt printer (off unless configured).
    #[serde(default)]
    pub printer: PrinterSection,
    /// The local terminal API for the shop's POS (`till-terminal-api`, off unless enabled).
    #[serde(default)]
    pub api: ApiSection,
    /// Where the configuration came from (for logs and screens).
    #[serde(skip)]
    pub source: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TerminalSection {
    /// This terminal's id at the hub; also the prefix of invoice numbers.
    pub id: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Shop {
    pub name: String,
    pub name_km: Option<String>,
    pub name_bn: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessDaySection {
    /// IANA zone name, e.g. `Asia/Dhaka`, `Asia/Phnom_Penh`.
    pub timezone: String,
    /// Local time at which one business day ends and the next begins (`HH:MM`).
    pub cutoff: String,
}

/// How this shop's Bakong account was registered (what goes into its KHQR).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KhqrProfile {
    pub kind: AccountKind,
    pub bakong_account_id: String,
    pub merchant_name: String,
    pub merchant_city: String,
    pub merchant_id: Option<String>,
    pub acquiring_bank: Option<String>,
    pub account_information: Option<String>,
    pub merchant_category_code: Option<String>,
    pub store_label: Option<String>,
    pub terminal_label: Option<String>,
    pub mobile_number: Option<String>,
    pub language_preference: Option<String>,
    pub merchant_name_alternate_language: Option<String>,
    pub merchant_city_alternate_language: Option<String>,
    /// What the keypad starts in.
    pub default_currency: Currency,
    /// Currencies offered for KHQR (KHR and/or USD).
    pub currencies: Vec<Currency>,
    /// How long a dynamic code may be scanned.
    pub expiry_seconds: u64,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AccountKind {
    Individual,
    Merchant,
}

/// Which bKash system `[bkash]` talks to.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum BkashEnvironment {
    /// bKash's merchant sandbox (test credentials from bKash, no real money).
    Sandbox,
    /// Live bKash.
    Production,
    /// `base_url` (and `checkout_origin`) as written; the demo's local sandbox.
    #[default]
    Custom,
}

impl BkashEnvironment {
    /// `(API base URL, checkout page origin)` of a preset; `None` for custom.
    pub fn preset(self) -> Option<(&'static str, &'static str)> {
        match self {
            BkashEnvironment::Sandbox => Some((
                "https://tokenized.sandbox.bka.sh/v1.2.0-beta",
                "https://sandbox.payment.bkash.com",
            )),
            BkashEnvironment::Production => Some((
                "https://tokenized.pay.bka.sh/v1.2.0-beta",
                "https://payment.bkash.com",
            )),
            BkashEnvironment::Custom => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            BkashEnvironment::Sandbox => "sandbox",
            BkashEnvironment::Production => "production",
            BkashEnvironment::Custom => "custom",
        }
    }
}

/// Which Nagad system `[nagad]` talks to.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum NagadEnvironment {
    /// Nagad's merchant sandbox (test merchant and keys from Nagad).
    Sandbox,
    /// Live Nagad.
    Production,
    /// `base_url` (and `checkout_origin`) as written; the demo's local sandbox.
    #[default]
    Custom,
}

impl NagadEnvironment {
    /// The API base URL of a preset; `None` for custom.
    pub fn preset(self) -> Option<&'static str> {
        match self {
            NagadEnvironment::Sandbox => {
                Some("http://sandbox.mynagad.com:10080/remote-payment-gateway-1.0/api/dfs")
            }
            NagadEnvironment::Production => Some("https://api.mynagad.com/api/dfs"),
            NagadEnvironment::Custom => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            NagadEnvironment::Sandbox => "sandbox",
            NagadEnvironment::Production => "production",
            NagadEnvironment::Custom => "custom",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NagadSection {
    pub enabled: bool,
    #[serde(default)]
    pub environment: NagadEnvironment,
    /// After loading: the preset's URL, unless `environment = "custom"`.
    pub base_url: url::Url,
    pub timeout_secs: u64,
    /// Nagad's merchant id for the shop (digits; not a secret).
    pub merchant_id: String,
    pub callback_url: url::Url,
    /// How long the customer has on the page before Till gives the payment up.
    pub checkout_window_secs: u64,
    /// Origin of the customer page (the webview may not leave it). Absent: the origin of `base_url`.
    #[serde(default)]
    pub checkout_origin: Option<url::Url>,
    /// How refunds are made: `portal` (in the Nagad merchant portal, recorded
    /// in Till by a manager) or `api` (Nagad's cancel call, which not every
    /// merchant has).
    #[serde(default)]
    pub refunds: NagadRefunds,
}

/// `nagad.refunds`.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum NagadRefunds {
    Api,
    #[default]
    Portal,
}

/// Which Bakong system `[bakong]` talks to.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum BakongEnvironment {
    /// NBC's system integration test environment.
    Sit,
    /// Live Bakong.
    Production,
    /// `base_url` as written; the demo's local sandbox.
    #[default]
    Custom,
}

impl BakongEnvironment {
    /// The API base URL of a preset; `None` for custom.
    pub fn preset(self) -> Option<&'static str> {
        match self {
            BakongEnvironment::Sit => Some("https://sit-api-bakong.nbc.gov.kh"),
            BakongEnvironment::Production => Some("https://api-bakong.nbc.gov.kh"),
            BakongEnvironment::Custom => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            BakongEnvironment::Sit => "sit",
            BakongEnvironment::Production => "production",
            BakongEnvironment::Custom => "custom",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BkashSection {
    pub enabled: bool,
    /// A preset for `base_url` and `checkout_origin`, or `custom`.
    #[serde(default)]
    pub environment: BkashEnvironment,
    /// After loading: the preset's URL, unless `environment = "custom"`.
    pub base_url: url::Url,
    pub timeout_secs: u64,
    pub callback_url: url::Url,
    /// How long the customer has on the hosted page before Till gives the payment up.
    pub checkout_window_secs: u64,
    /// Origin of the hosted checkout page (the desktop app's webview may not
    /// leave it). Absent: the origin of `base_url`.
    #[serde(default)]
    pub checkout_origin: Option<url::Url>,
    /// Where the bKash token comes from: this terminal's own credentials
    /// (`self`), or the shop's hub, which holds them and lends its token to
    /// every till of the merchant account (`hub`; needs `hub.url` and the
    /// hub key). See [`TokenFrom`].
    #[serde(default)]
    pub token_from: TokenFrom,
}

/// `bkash.token_from`: who makes the merchant's token calls.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
pub enum TokenFrom {
    /// The terminal grants and refreshes with its own credentials (secrets
    /// `bkash.username`, `…password`, `…app_key`, `…app_secret`).
    #[default]
    #[serde(rename = "self")]
    Own,
    /// The shop's hub lends its token (`POST {hub.url}/v1/terminals/{id}/bkash/token`,
    /// signed with the hub key); the terminal holds no bKash credential. For
    /// several tills on one merchant account: bKash allows the account two
    /// token calls an hour in all.
    #[serde(rename = "hub")]
    Hub,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BakongSection {
    pub enabled: bool,
    /// A preset for `base_url`, or `custom`.
    #[serde(default)]
    pub environment: BakongEnvironment,
    /// After loading: the preset's URL, unless `environment = "custom"`.
    pub base_url: url::Url,
    pub timeout_secs: u64,
    pub fast_interval_ms: u64,
    pub slow_interval_ms: u64,
    pub fast_window_secs: u64,
    pub min_request_gap_ms: u64,
    /// E-mail registered with Bakong, for renewing the API token.
    #[serde(default)]
    pub renew_email: Option<String>,
}

/// `[tls]`: trust for every HTTPS client of the terminal (bKash, Bakong, hub
/// sync, hub reads). The operating system's certificate store is always used.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSection {
    /// Absolute path of a PEM file with CA certificates trusted besides the
    /// OS store (a shop's TLS-inspecting proxy, a hub with a private CA).
    #[serde(default)]
    pub extra_roots: Option<PathBuf>,
    /// The certificates of `extra_roots`, read when the configuration is loaded.
    #[serde(skip)]
    pub roots: ExtraRoots,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DisplaySection {
    /// Fullscreen on its monitor, no window frame to touch.
    #[serde(default)]
    pub kiosk: bool,
}

/// `[sound]`: a short sound on the cashier's PC when a payment ends (paid; declined,
/// expired or flagged), so the cashier hears it while serving the next customer.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SoundSection {
    pub enabled: bool,
    /// 0 (silent) to 100.
    pub volume: u8,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DemoSection {
    /// The self-settling Demo wallet. Unless set explicitly it follows
    /// `in_process`: a terminal out of demo mode has no Demo wallet, so no
    /// sale can be "paid" with play money by accident.
    #[serde(default)]
    pub enabled: bool,
    pub settle_after_ms: u64,
    /// Demo mode. The desktop app starts `till-sandbox` and `till-hub` in its
    /// own process on loopback and points bKash, Bakong and the sync at them;
    /// the app and the CLI keep demo payments in their own journal under
    /// `<home>/demo/` ([`Config::data_dir`]). On until a shop configures real
    /// providers.
    #[serde(default = "yes")]
    pub in_process: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OfflineSection {
    pub max_unverified_per_payment: BTreeMap<Currency, rust_decimal::Decimal>,
    pub max_unverified_per_day: BTreeMap<Currency, rust_decimal::Decimal>,
}

/// `[storage]`: how long call records and logs are kept, and how much free space the
/// journal's file system must have before a payment starts (see `defaults.toml`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageSection {
    /// Provider-call records older than this are pruned (those of payments not final or
    /// not yet synced excepted); 0 keeps them all.
    pub call_log_days: u32,
    /// `till.log` is rotated once it has passed this many MB (2^20 bytes).
    pub log_file_mb: u32,
    /// Rotated log files kept; older ones are deleted.
    pub log_files_kept: u32,
    /// Below this many MB free on the journal's file system a charge is refused before
    /// anything is written; 0 turns the check off.
    pub min_free_mb: u64,
}

impl Default for StorageSection {
    fn default() -> Self {
        StorageSection {
            call_log_days: 30,
            log_file_mb: 10,
            log_files_kept: 10,
            min_free_mb: 64,
        }
    }
}

impl StorageSection {
    /// How old a call record may get (`None`: kept forever).
    pub fn call_log_age(&self) -> Option<chrono::Duration> {
        (self.call_log_days > 0).then(|| chrono::Duration::days(self.call_log_days.into()))
    }

    pub fn min_free_bytes(&self) -> u64 {
        self.min_free_mb.saturating_mul(1 << 20)
    }

    pub fn log_file_bytes(&self) -> usize {
        (self.log_file_mb as usize).saturating_mul(1 << 20)
    }
}

/// `[printer]`: the receipt printer (`till-receipt`), see `defaults.toml`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrinterSection {
    pub enabled: bool,
    /// `tcp://192.168.1.50:9100` (raw TCP, port 9100 when none is named) or a
    /// device file such as `/dev/usb/lp0`.
    pub target: String,
    /// Paper width: 58 or 80.
    pub width_mm: u32,
    /// Print the sale receipt when a payment settles (never waited for by it).
    pub auto_print: bool,
}

impl Default for PrinterSection {
    fn default() -> Self {
        PrinterSection {
            enabled: false,
            target: String::new(),
            width_mm: 80,
            auto_print: false,
        }
    }
}

/// `[api]`: the local terminal API the shop's own POS starts charges through
/// (`till-terminal-api`), see `defaults.toml`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiSection {
    pub enabled: bool,
    /// `IP:port`; loopback unless the POS is another machine on the shop's network.
    pub listen: String,
    /// PEM certificate chain and key: the API speaks HTTPS with them.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// A LAN address without TLS sends the POS's key in clear: refused unless this is true.
    pub plain_http_on_lan: bool,
}

impl Default for ApiSection {
    fn default() -> Self {
        ApiSection {
            enabled: false,
            listen: "127.0.0.1:8417".into(),
            tls_cert: None,
            tls_key: None,
            plain_http_on_lan: false,
        }
    }
}

impl ApiSection {
    /// The address to bind; `Err` names what is wrong with `[api]`.
    pub fn listen_addr(&self) -> Result<std::net::SocketAddr, ConfigError> {
        let addr: std::net::SocketAddr = self.listen.trim().parse().map_err(|_| {
            invalid(
                "api.listen",
                "<IP address>:<port>, e.g. 127.0.0.1:8417 or 192.168.1.20:8417",
            )
        })?;
        match (&self.tls_cert, &self.tls_key) {
            (Some(_), None) => return Err(invalid("api.tls_key", "needed with api.tls_cert")),
            (None, Some(_)) => return Err(invalid("api.tls_cert", "needed with api.tls_key")),
            (None, None) if !addr.ip().is_loopback() && !self.plain_http_on_lan => {
                return Err(invalid(
                    "api.listen",
                    "a LAN address needs api.tls_cert and api.tls_key (or api.plain_http_on_lan = true): the POS's key would cross the network in clear",
                ))
            }
            _ => {}
        }
        Ok(addr)
    }
}

/// Where `[printer] target` points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrinterTarget {
    Network(std::net::SocketAddr),
    Device(PathBuf),
}

impl PrinterSection {
    /// The target read from its text; `Err` names what is wrong with it.
    pub fn parse_target(&self) -> Result<PrinterTarget, ConfigError> {
        let t = self.target.trim();
        if let Some(rest) = t.strip_prefix("tcp://") {
            let rest = rest.trim_end_matches('/');
            // A printer on the shop's network has an address, not a name:
            // resolving names would put DNS on the path of every receipt.
            let has_port = (rest.contains(':') && !rest.starts_with('[')) || rest.contains("]:");
            let with_port = if has_port {
                rest.to_owned()
            } else {
                format!("{rest}:9100")
            };
            return with_port.parse().map(PrinterTarget::Network).map_err(|_| {
                invalid(
                    "printer.target",
                    "tcp://<IP address>[:port], e.g. tcp://192.168.1.50:9100",
                )
            });
        }
        let path = Path::new(t);
        if path.is_absolute() {
            return Ok(PrinterTarget::Device(path.to_owned()));
        }
        Err(invalid(
            "printer.target",
            "tcp://<IP address>:9100 or a device file such as /dev/usb/lp0",
        ))
    }
}

/// Settlement sync: where and how the outbox is delivered (see [`crate::sync`]).
/// The signing keys are secrets (`hub.secret`, `hub.signing_key`), not configuration.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HubSection {
    /// The hub's base URL (`https://hub.example`); absent means sync is off.
    #[serde(default)]
    pub url: Option<url::Url>,
    /// Per request.
    pub timeout_secs: u64,
    /// Most records in one batch request (the hub takes up to 1000).
    pub batch_size: u32,
    /// Refused attempts of a record before it becomes a dead letter. Attempts
    /// that reached no hub (unreachable, 429/502/503/504) are not counted.
    pub max_attempts: u32,
    /// Backoff: the n-th consecutive failure waits a random time up to
    /// `min(backoff_max_ms, backoff_base_ms * 2^(n-1))`, or the hub's Retry-After.
    pub backoff_base_ms: u64,
    pub backoff_max_ms: u64,
    /// How often the queue is looked at when nothing wakes the sender.
    pub poll_interval_ms: u64,
}

impl Config {
    /// The built-in defaults alone.
    pub fn defaults() -> Config {
        let mut c = Config::from_layers(DEFAULTS_TOML, None, std::iter::empty())
            .expect("the built-in defaults are valid");
        c.source = "built-in defaults".into();
        c
    }

    /// `<home>/till.toml` over the defaults, then `TILL__*` environment overrides.
    pub fn load(home: &Path) -> Result<Config, ConfigError> {
        Config::load_with(home, std::iter::empty())
    }

    /// Like [`Config::load`], with `extra` `TILL__…` pairs applied after the
    /// environment (the desktop app's demo mode points the providers at its
    /// in-process sandbox this way).
    pub fn load_with(
        home: &Path,
        extra: impl Iterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let path = home.join("till.toml");
        let file = match std::fs::read_to_string(&path) {
            Ok(text) => Some((path.display().to_string(), text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => return Err(ConfigError::Read { path, source }),
        };
        let source = file
            .as_ref()
            .map(|(p, _)| p.clone())
            .unwrap_or_else(|| "built-in defaults".into());
        let mut c = Config::from_layers(
            DEFAULTS_TOML,
            file.as_ref().map(|(p, t)| (p.as_str(), t.as_str())),
            std::env::vars().chain(extra),
        )?;
        c.source = source;
        Ok(c)
    }

    /// Merges the layers and validates. `env` yields `(name, value)` pairs; only
    /// names starting `TILL__` are used.
    pub fn from_layers(
        defaults: &str,
        file: Option<(&str, &str)>,
        env: impl Iterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut base: toml::Table = toml::from_str(defaults).map_err(|e| ConfigError::Syntax {
            origin: "built-in defaults".into(),
            message: e.to_string(),
        })?;
        // Keys written by the file or the environment (not the defaults), so
        // a preset can tell an explicit base_url from the built-in one.
        let mut explicit = BTreeSet::new();
        if let Some((origin, text)) = file {
            let over: toml::Table = toml::from_str(text).map_err(|e| ConfigError::Syntax {
                origin: origin.into(),
                message: e.message().to_owned(),
            })?;
            leaf_keys(&over, "", &mut explicit);
            merge(&mut base, over);
        }
        for (name, value) in env {
            let Some(rest) = name.strip_prefix("TILL__") else {
                continue;
            };
            let path: Vec<String> = rest.split("__").map(|s| s.to_ascii_lowercase()).collect();
            set_path(&mut base, &path, &value)?;
            explicit.insert(path.join("."));
        }
        // serde's "unknown variant" message does not say which key; these do.
        for (section, allowed) in [
            ("bkash", &["sandbox", "production", "custom"]),
            ("bakong", &["sit", "production", "custom"]),
            ("nagad", &["sandbox", "production", "custom"]),
        ] {
            if let Some(v) = base
                .get(section)
                .and_then(|t| t.get("environment"))
                .filter(|v| !v.as_str().is_some_and(|s| allowed.contains(&s)))
            {
                return Err(invalid(
                    &format!("{section}.environment"),
                    format!("{v} is not one of {}", allowed.join(", ")),
                ));
            }
        }
        let mut config: Config =
            toml::Value::Table(base)
                .try_into()
                .map_err(|e: toml::de::Error| {
                    let msg = e.message().to_owned();
                    // serde names the offending field in the message; pass it on.
                    invalid(&field_in(&msg), msg)
                })?;
        config.apply_presets(&explicit)?;
        if !explicit.contains("demo.enabled") {
            config.demo.enabled = config.demo.in_process;
        }
        config.validate()?;
        config.tls.roots = match &config.tls.extra_roots {
            None => ExtraRoots::none(),
            Some(path) => ExtraRoots::from_pem_file(path)
                .map_err(|e| invalid("tls.extra_roots", e.to_string()))?,
        };
        Ok(config)
    }

    /// Replaces `base_url` / `checkout_origin` by the presets' values; an
    /// explicit value that differs from its preset is refused (see the module
    /// documentation).
    fn apply_presets(&mut self, explicit: &BTreeSet<String>) -> Result<(), ConfigError> {
        fn conflict(key: &str, env_key: &str, env: &str, preset: &str) -> ConfigError {
            invalid(
                key,
                format!(
                    "{env_key} = \"{env}\" means {preset}; remove {key} or set \
                     {env_key} = \"custom\" to use your own"
                ),
            )
        }
        fn url(s: &str) -> url::Url {
            url::Url::parse(s).expect("preset URLs are valid")
        }
        let same = |a: &url::Url, b: &url::Url| {
            a.as_str().trim_end_matches('/') == b.as_str().trim_end_matches('/')
        };
        let env = self.bkash.environment;
        if let Some((base, origin)) = env.preset() {
            let (base, origin) = (url(base), url(origin));
            if explicit.contains("bkash.base_url") && !same(&self.bkash.base_url, &base) {
                return Err(conflict(
                    "bkash.base_url",
                    "bkash.environment",
                    env.name(),
                    base.as_str(),
                ));
            }
            if let Some(o) = &self.bkash.checkout_origin {
                if !same(o, &origin) {
                    return Err(conflict(
                        "bkash.checkout_origin",
                        "bkash.environment",
                        env.name(),
                        origin.as_str(),
                    ));
                }
            }
            self.bkash.base_url = base;
            self.bkash.checkout_origin = Some(origin);
        }
        let env = self.bakong.environment;
        if let Some(base) = env.preset() {
            let base = url(base);
            if explicit.contains("bakong.base_url") && !same(&self.bakong.base_url, &base) {
                return Err(conflict(
                    "bakong.base_url",
                    "bakong.environment",
                    env.name(),
                    base.as_str(),
                ));
            }
            self.bakong.base_url = base;
        }
        let env = self.nagad.environment;
        if let Some(base) = env.preset() {
            let base = url(base);
            if explicit.contains("nagad.base_url") && !same(&self.nagad.base_url, &base) {
                return Err(conflict(
                    "nagad.base_url",
                    "nagad.environment",
                    env.name(),
                    base.as_str(),
                ));
            }
            self.nagad.base_url = base;
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let id = &self.terminal.id;
        if id.is_empty()
            || id.len() > 12
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(invalid(
                "terminal.id",
                "1 to 12 letters, digits, '-' or '_' (it prefixes invoice numbers)",
            ));
        }
        self.timezone()?;
        self.cutoff()?;
        if self.shop.name.trim().is_empty() {
            return Err(invalid("shop.name", "must not be empty"));
        }
        if !(30..=86_400).contains(&self.khqr.expiry_seconds) {
            return Err(invalid("khqr.expiry_seconds", "between 30 and 86400"));
        }
        if self.khqr.currencies.is_empty() {
            return Err(invalid("khqr.currencies", "name at least one of KHR, USD"));
        }
        for c in self
            .khqr
            .currencies
            .iter()
            .chain([&self.khqr.default_currency])
        {
            if c.khqr().is_none() {
                return Err(invalid(
                    "khqr.currencies",
                    format!("KHQR carries KHR or USD, not {c}"),
                ));
            }
        }
        if self.khqr.kind == AccountKind::Merchant
            && (self.khqr.merchant_id.is_none() || self.khqr.acquiring_bank.is_none())
        {
            return Err(invalid(
                "khqr.merchant_id",
                "a merchant account needs khqr.merchant_id and khqr.acquiring_bank",
            ));
        }
        for (key, secs) in [
            ("bkash.timeout_secs", self.bkash.timeout_secs),
            ("nagad.timeout_secs", self.nagad.timeout_secs),
            ("bakong.timeout_secs", self.bakong.timeout_secs),
        ] {
            if !(1..=300).contains(&secs) {
                return Err(invalid(key, "between 1 and 300 seconds"));
            }
        }
        if !(5..=86_400).contains(&self.bkash.checkout_window_secs) {
            return Err(invalid("bkash.checkout_window_secs", "between 5 and 86400"));
        }
        if !(5..=86_400).contains(&self.nagad.checkout_window_secs) {
            return Err(invalid("nagad.checkout_window_secs", "between 5 and 86400"));
        }
        if self.nagad.enabled
            && (self.nagad.merchant_id.is_empty()
                || !self.nagad.merchant_id.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(invalid(
                "nagad.merchant_id",
                "the digits Nagad gave the shop",
            ));
        }
        if self.bkash.enabled && self.bkash.token_from == TokenFrom::Hub && self.hub.url.is_none() {
            return Err(invalid(
                "bkash.token_from",
                "\"hub\" borrows the token from the shop's hub: set hub.url too (or \"self\")",
            ));
        }
        if self.bakong.min_request_gap_ms < 100 {
            return Err(invalid("bakong.min_request_gap_ms", "at least 100"));
        }
        if self.bakong.fast_interval_ms < self.bakong.min_request_gap_ms
            || self.bakong.slow_interval_ms < self.bakong.fast_interval_ms
        {
            return Err(invalid(
                "bakong.slow_interval_ms",
                "min_request_gap_ms <= fast_interval_ms <= slow_interval_ms",
            ));
        }
        for (key, map) in [
            (
                "offline.max_unverified_per_payment",
                &self.offline.max_unverified_per_payment,
            ),
            (
                "offline.max_unverified_per_day",
                &self.offline.max_unverified_per_day,
            ),
        ] {
            for (c, v) in map {
                if v.is_sign_negative() || v.normalize().scale() > c.exponent() {
                    return Err(invalid(
                        &format!("{key}.{c}"),
                        format!(
                            "a non-negative {c} amount with at most {} decimals",
                            c.exponent()
                        ),
                    ));
                }
            }
        }
        if let Some(u) = &self.hub.url {
            if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
                return Err(invalid(
                    "hub.url",
                    "an http(s) URL such as https://hub.example",
                ));
            }
        }
        for (key, url) in [
            ("bkash.base_url", Some(&self.bkash.base_url)),
            ("bkash.checkout_origin", self.bkash.checkout_origin.as_ref()),
            // Nagad's own test system is served over plain http only; its
            // sensitive fields travel RSA-sealed, and no real money is there.
            (
                "nagad.base_url",
                Some(&self.nagad.base_url)
                    .filter(|_| self.nagad.environment != NagadEnvironment::Sandbox),
            ),
            ("nagad.checkout_origin", self.nagad.checkout_origin.as_ref()),
            ("bakong.base_url", Some(&self.bakong.base_url)),
            ("hub.url", self.hub.url.as_ref()),
        ] {
            if let Some(u) = url {
                require_tls(key, u)?;
            }
        }
        if let Some(p) = &self.tls.extra_roots {
            if !p.is_absolute() {
                return Err(invalid(
                    "tls.extra_roots",
                    format!(
                        "an absolute path to a PEM file, not {:?}",
                        p.display().to_string()
                    ),
                ));
            }
        }
        if !(1..=300).contains(&self.hub.timeout_secs) {
            return Err(invalid("hub.timeout_secs", "between 1 and 300 seconds"));
        }
        if !(1..=1000).contains(&self.hub.batch_size) {
            return Err(invalid("hub.batch_size", "between 1 and 1000"));
        }
        if !(1..=1000).contains(&self.hub.max_attempts) {
            return Err(invalid("hub.max_attempts", "between 1 and 1000"));
        }
        if self.hub.backoff_base_ms == 0 {
            return Err(invalid("hub.backoff_base_ms", "at least 1"));
        }
        if self.hub.backoff_max_ms < self.hub.backoff_base_ms {
            return Err(invalid(
                "hub.backoff_max_ms",
                "at least hub.backoff_base_ms",
            ));
        }
        if !(10..=3_600_000).contains(&self.hub.poll_interval_ms) {
            return Err(invalid("hub.poll_interval_ms", "between 10 and 3600000"));
        }
        if !matches!(self.printer.width_mm, 58 | 80) {
            return Err(invalid("printer.width_mm", "58 or 80"));
        }
        if self.api.enabled {
            self.api.listen_addr()?;
        }
        // An empty target is allowed while the printer is off, so a shop can
        // turn it on and off without retyping the address.
        if self.printer.enabled || !self.printer.target.trim().is_empty() {
            self.printer.parse_target()?;
        }
        // A log file must hold a few lines, and a handful of files is plenty to read
        // back a day: more would only let logs eat the disk the journal needs.
        if !(1..=1024).contains(&self.storage.log_file_mb) {
            return Err(invalid("storage.log_file_mb", "between 1 and 1024"));
        }
        if !(1..=100).contains(&self.storage.log_files_kept) {
            return Err(invalid("storage.log_files_kept", "between 1 and 100"));
        }
        if self.sound.volume > 100 {
            return Err(invalid("sound.volume", "between 0 and 100"));
        }
        if !self.demo.in_process {
            self.refuse_the_demo_profile()?;
        }
        // Build one code now so a bad profile fails at start, not at the first customer.
        let one = Amount::parse("1", Currency::Usd).expect("1 USD");
        crate::provider::bakong::build_khqr(self, one, chrono::Utc::now()).map_err(|e| {
            invalid(
                "khqr",
                format!("the merchant profile cannot make a KHQR: {e}"),
            )
        })?;
        Ok(())
    }

    /// Out of demo mode the built-in demo shop is a mistake, not a choice:
    /// its KHQR would send real customers' money to the demo account, and its
    /// name would be on every screen.
    fn refuse_the_demo_profile(&self) -> Result<(), ConfigError> {
        let builtin: toml::Table = toml::from_str(DEFAULTS_TOML).expect("the defaults parse");
        let builtin = |section: &str, key: &str| -> String {
            builtin[section][key]
                .as_str()
                .expect("a string in the defaults")
                .to_owned()
        };
        if self.bakong.enabled
            && self.khqr.bakong_account_id == builtin("khqr", "bakong_account_id")
        {
            return Err(invalid(
                "khqr.bakong_account_id",
                format!(
                    "{} is the built-in demo account; out of demo mode (demo.in_process = false) \
                     set your shop's Bakong account id, khqr.merchant_name and \
                     khqr.merchant_city, or turn KHQR off with bakong.enabled = false",
                    self.khqr.bakong_account_id
                ),
            ));
        }
        if self.shop.name == builtin("shop", "name") {
            return Err(invalid(
                "shop.name",
                format!(
                    "{:?} is the built-in demo shop; out of demo mode (demo.in_process = false) \
                     set your shop's name",
                    self.shop.name
                ),
            ));
        }
        Ok(())
    }

    /// Where this configuration's journal lives: `<home>/demo/` in demo mode
    /// (beside the demo sandbox's and hub's own state), `<home>` otherwise.
    /// Turning demo mode off therefore starts production on an empty journal:
    /// invoice and outbox sequence numbers from 1, no sandbox payments.
    pub fn data_dir(&self, home: &Path) -> PathBuf {
        if self.demo.in_process {
            home.join("demo")
        } else {
            home.to_owned()
        }
    }

    pub fn timezone(&self) -> Result<chrono_tz::Tz, ConfigError> {
        self.business_day
            .timezone
            .parse()
            .map_err(|_| invalid("business_day.timezone", "an IANA zone such as Asia/Dhaka"))
    }

    pub fn cutoff(&self) -> Result<NaiveTime, ConfigError> {
        NaiveTime::parse_from_str(&self.business_day.cutoff, "%H:%M")
            .map_err(|_| invalid("business_day.cutoff", "a local time HH:MM such as 04:00"))
    }

    pub fn nagad_timeout(&self) -> Duration {
        Duration::from_secs(self.nagad.timeout_secs)
    }

    pub fn bkash_timeout(&self) -> Duration {
        Duration::from_secs(self.bkash.timeout_secs)
    }

    pub fn bakong_timeout(&self) -> Duration {
        Duration::from_secs(self.bakong.timeout_secs)
    }

    pub fn hub_timeout(&self) -> Duration {
        Duration::from_secs(self.hub.timeout_secs)
    }
}

/// `https://` to anywhere, or `http://` to this machine only: payment and
/// settlement traffic never crosses a network in the clear.
fn require_tls(key: &str, u: &url::Url) -> Result<(), ConfigError> {
    match u.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(u) => Ok(()),
        "http" => Err(invalid(
            key,
            format!(
                "{u} is plain http to another machine; use https:// (http:// is \
                 allowed only to loopback: localhost, 127.0.0.1, ::1)"
            ),
        )),
        other => Err(invalid(key, format!("an https:// URL, not {other}:"))),
    }
}

fn is_loopback(u: &url::Url) -> bool {
    match u.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        // Only the name itself: whether `*.localhost` resolves to loopback
        // depends on the resolver.
        Some(url::Host::Domain(d)) => d.trim_end_matches('.').eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Dotted paths of every non-table value under `t` (`bkash.base_url`, ...).
fn leaf_keys(t: &toml::Table, prefix: &str, out: &mut BTreeSet<String>) {
    for (k, v) in t {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(inner) => leaf_keys(inner, &key, out),
            _ => {
                out.insert(key);
            }
        }
    }
}

fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

/// Sets `a.b.c = value`, keeping the existing value's type (a string for a
/// string, an integer for an integer...).
fn set_path(table: &mut toml::Table, path: &[String], value: &str) -> Result<(), ConfigError> {
    let key = path.join(".");
    let (last, parents) = path
        .split_last()
        .ok_or_else(|| invalid("TILL__", "empty override name"))?;
    let mut t = table;
    for p in parents {
        t = match t
            .entry(p.clone())
            .or_insert_with(|| toml::Value::Table(Default::default()))
        {
            toml::Value::Table(inner) => inner,
            _ => return Err(invalid(&key, "not a section")),
        };
    }
    // Flags whose absence means something (so the defaults cannot name them).
    const FLAGS_WITHOUT_DEFAULT: &[&str] = &["demo.enabled"];
    let flag = toml::Value::Boolean(false);
    let current = t.get(last).or(FLAGS_WITHOUT_DEFAULT
        .contains(&key.as_str())
        .then_some(&flag));
    let parsed = match current {
        Some(toml::Value::String(_)) | None => toml::Value::String(value.to_owned()),
        Some(toml::Value::Integer(_)) => toml::Value::Integer(
            value
                .trim()
                .parse()
                .map_err(|_| invalid(&key, format!("\"{value}\" is not a whole number")))?,
        ),
        Some(toml::Value::Boolean(_)) => toml::Value::Boolean(match value.trim() {
            "true" | "1" | "yes" => true,
            "false" | "0" | "no" => false,
            _ => return Err(invalid(&key, format!("\"{value}\" is not true/false"))),
        }),
        Some(_) => {
            let doc = format!("v = {value}");
            let parsed: toml::Table = toml::from_str(&doc)
                .map_err(|e| invalid(&key, format!("not a TOML value: {}", e.message())))?;
            parsed["v"].clone()
        }
    };
    t.insert(last.clone(), parsed);
    Ok(())
}

/// Pulls the field name out of serde's "unknown field `x`" / "missing field `x`" messages.
fn field_in(message: &str) -> String {
    message
        .split('`')
        .nth(1)
        .map(str::to_owned)
        .unwrap_or_else(|| "configuration".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Iterator<Item = (String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn defaults_are_valid_and_point_at_the_sandbox() {
        let c = Config::defaults();
        assert_eq!(
            c.bkash.base_url.as_str(),
            "http://127.0.0.1:7878/v1.2.0-beta"
        );
        assert_eq!(c.timezone().unwrap(), chrono_tz::Asia::Dhaka);
        assert_eq!(c.khqr.default_currency, Currency::Khr);
    }

    #[test]
    fn the_api_is_off_on_loopback_and_needs_tls_on_the_lan() {
        let with = |pairs: &[(&str, &str)]| Config::from_layers(DEFAULTS_TOML, None, env(pairs));
        let c = with(&[]).unwrap();
        assert!(!c.api.enabled);
        assert!(c.api.listen_addr().unwrap().ip().is_loopback());
        let on = with(&[("TILL__API__ENABLED", "true")]).unwrap();
        assert_eq!(on.api.listen_addr().unwrap().port(), 8417);
        let lan = [
            ("TILL__API__ENABLED", "true"),
            ("TILL__API__LISTEN", "192.168.1.20:8417"),
        ];
        for (pairs, key) in [
            (&lan[..], "api.listen"),
            (
                &[
                    ("TILL__API__ENABLED", "true"),
                    ("TILL__API__LISTEN", "till.local:80"),
                ][..],
                "api.listen",
            ),
            (
                &[
                    ("TILL__API__ENABLED", "true"),
                    ("TILL__API__TLS_CERT", "/c.pem"),
                ][..],
                "api.tls_key",
            ),
        ] {
            match with(pairs) {
                Err(ConfigError::Invalid { key: k, .. }) => assert_eq!(k, key, "{pairs:?}"),
                other => panic!("{pairs:?} accepted: {other:?}"),
            }
        }
        // Said outright: a LAN address in clear, or with TLS.
        let plain = [lan[0], lan[1], ("TILL__API__PLAIN_HTTP_ON_LAN", "true")];
        assert!(with(&plain).is_ok());
        let tls = [
            lan[0],
            lan[1],
            ("TILL__API__TLS_CERT", "/c.pem"),
            ("TILL__API__TLS_KEY", "/k.pem"),
        ];
        assert!(with(&tls).is_ok());
    }

    #[test]
    fn printer_targets_and_widths() {
        let with = |pairs: &[(&str, &str)]| Config::from_layers(DEFAULTS_TOML, None, env(pairs));
        let c = with(&[]).unwrap();
        assert!(!c.printer.enabled && !c.printer.auto_print);
        assert_eq!(c.printer.width_mm, 80);
        let c = with(&[
            ("TILL__PRINTER__ENABLED", "true"),
            ("TILL__PRINTER__TARGET", "tcp://192.168.1.50"),
        ])
        .unwrap();
        assert_eq!(
            c.printer.parse_target().unwrap(),
            PrinterTarget::Network("192.168.1.50:9100".parse().unwrap())
        );
        let c = with(&[
            ("TILL__PRINTER__ENABLED", "true"),
            ("TILL__PRINTER__TARGET", "/dev/usb/lp0"),
        ])
        .unwrap();
        assert_eq!(
            c.printer.parse_target().unwrap(),
            PrinterTarget::Device("/dev/usb/lp0".into())
        );
        for (pairs, key) in [
            (&[("TILL__PRINTER__WIDTH_MM", "70")][..], "printer.width_mm"),
            (&[("TILL__PRINTER__ENABLED", "true")][..], "printer.target"),
            (
                &[("TILL__PRINTER__TARGET", "tcp://printer.local:9100")][..],
                "printer.target",
            ),
            (&[("TILL__PRINTER__TARGET", "lp0")][..], "printer.target"),
        ] {
            match with(pairs) {
                Err(ConfigError::Invalid { key: k, .. }) => assert_eq!(k, key, "{pairs:?}"),
                other => panic!("{pairs:?} accepted: {other:?}"),
            }
        }
    }

    #[test]
    fn file_then_environment_override() {
        let file = "[terminal]\nid = \"shop2\"\n[bakong]\ntimeout_secs = 20\n";
        let c = Config::from_layers(
            DEFAULTS_TOML,
            Some(("till.toml", file)),
            env(&[
                ("TILL__BAKONG__TIMEOUT_SECS", "25"),
                ("TILL__BKASH__ENABLED", "false"),
                ("TILL__BUSINESS_DAY__TIMEZONE", "Asia/Phnom_Penh"),
                ("UNRELATED", "x"),
            ]),
        )
        .unwrap();
        assert_eq!(c.terminal.id, "shop2");
        assert_eq!(c.bakong.timeout_secs, 25);
        assert!(!c.bkash.enabled);
        assert_eq!(c.timezone().unwrap(), chrono_tz::Asia::Phnom_Penh);
    }

    #[test]
    fn invalid_values_name_their_key() {
        let cases: &[(&str, &str)] = &[
            ("[business_day]\ncutoff = \"25:00\"", "business_day.cutoff"),
            (
                "[business_day]\ntimezone = \"Mars/Base\"",
                "business_day.timezone",
            ),
            (
                "[terminal]\nid = \"a very long terminal id\"",
                "terminal.id",
            ),
            ("[khqr]\ncurrencies = [\"BDT\"]", "khqr.currencies"),
            ("[bkash]\ntimeout_secs = 0", "bkash.timeout_secs"),
            ("[hub]\nurl = \"ftp://hub\"", "hub.url"),
            ("[hub]\nbatch_size = 5000", "hub.batch_size"),
            ("[hub]\nbackoff_max_ms = 1", "hub.backoff_max_ms"),
            ("[storage]\nlog_file_mb = 0", "storage.log_file_mb"),
            ("[storage]\nlog_files_kept = 0", "storage.log_files_kept"),
            ("[sound]\nvolume = 101", "sound.volume"),
            ("[bkash]\nbase_ulr = \"http://x\"", "base_ulr"),
            ("[bkash]\ntoken_from = \"hub\"", "bkash.token_from"),
            ("[bkash]\ntoken_from = \"shop\"", "expected `self` or `hub`"),
            (
                "[offline.max_unverified_per_payment]\nUSD = \"1.234\"",
                "offline.max_unverified_per_payment.USD",
            ),
        ];
        for (file, key) in cases {
            let err = Config::from_layers(DEFAULTS_TOML, Some(("till.toml", file)), env(&[]))
                .unwrap_err()
                .to_string();
            assert!(err.contains(key), "{file}: {err}");
        }
        let err = Config::from_layers(
            DEFAULTS_TOML,
            None,
            env(&[("TILL__BAKONG__TIMEOUT_SECS", "soon")]),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("bakong.timeout_secs"), "{err}");
    }

    fn load(file: &str, pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_layers(DEFAULTS_TOML, Some(("till.toml", file)), env(pairs))
    }

    const OWN_SHOP: &str = "[shop]\nname = \"Rahim Store\"\n\
                            [khqr]\nbakong_account_id = \"rahim_store@aclb\"\n";

    #[test]
    fn the_demo_wallet_follows_demo_mode_unless_named() {
        assert!(Config::defaults().demo.enabled, "demo mode has it");
        let off = format!("{OWN_SHOP}[demo]\nin_process = false\n");
        assert!(
            !load(&off, &[]).unwrap().demo.enabled,
            "production has none"
        );
        let kept = format!("{off}enabled = true\n");
        assert!(load(&kept, &[]).unwrap().demo.enabled, "unless asked for");
        assert!(
            load(&off, &[("TILL__DEMO__ENABLED", "true")])
                .unwrap()
                .demo
                .enabled
        );
        let dropped = load("[demo]\nenabled = false\n", &[]).unwrap();
        assert!(dropped.demo.in_process && !dropped.demo.enabled);
    }

    #[test]
    fn out_of_demo_mode_the_demo_shop_is_refused() {
        let err = load("[demo]\nin_process = false\n", &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("khqr.bakong_account_id") && err.contains("till_demo@devb"),
            "{err}"
        );
        // A bKash-only shop needs no KHQR account, but still its own name.
        let err = load(
            "[demo]\nin_process = false\n[bakong]\nenabled = false\n",
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("shop.name"), "{err}");
        let own = load(&format!("{OWN_SHOP}[demo]\nin_process = false\n"), &[]).unwrap();
        assert_eq!(own.shop.name, "Rahim Store");
        // Demo mode itself is the demo shop.
        assert!(load("", &[]).is_ok());
    }

    #[test]
    fn demo_mode_keeps_its_own_journal() {
        let home = Path::new("/srv/till");
        assert_eq!(Config::defaults().data_dir(home), home.join("demo"));
        let own = load(&format!("{OWN_SHOP}[demo]\nin_process = false\n"), &[]).unwrap();
        assert_eq!(own.data_dir(home), home);
    }

    #[test]
    fn the_built_in_configuration_is_custom_on_loopback() {
        let c = Config::defaults();
        assert_eq!(c.bkash.environment, BkashEnvironment::Custom);
        assert_eq!(c.bakong.environment, BakongEnvironment::Custom);
        assert_eq!(c.bakong.base_url.as_str(), "http://127.0.0.1:7878/");
        assert_eq!(c.bkash.checkout_origin, None);
        assert!(c.tls.extra_roots.is_none() && c.tls.roots.is_empty());
    }

    #[test]
    fn bkash_presets_set_base_url_and_checkout_origin() {
        for (env_name, base, origin) in [
            (
                "sandbox",
                "https://tokenized.sandbox.bka.sh/v1.2.0-beta",
                "https://sandbox.payment.bkash.com/",
            ),
            (
                "production",
                "https://tokenized.pay.bka.sh/v1.2.0-beta",
                "https://payment.bkash.com/",
            ),
        ] {
            let c = load(&format!("[bkash]\nenvironment = \"{env_name}\""), &[]).unwrap();
            assert_eq!(c.bkash.base_url.as_str(), base, "{env_name}");
            assert_eq!(
                c.bkash.checkout_origin.as_ref().map(url::Url::as_str),
                Some(origin),
                "{env_name}"
            );
        }
        // From the environment as well.
        let c = Config::from_layers(
            DEFAULTS_TOML,
            None,
            env(&[("TILL__BKASH__ENVIRONMENT", "production")]),
        )
        .unwrap();
        assert_eq!(
            c.bkash.base_url.as_str(),
            "https://tokenized.pay.bka.sh/v1.2.0-beta"
        );
    }

    #[test]
    fn bakong_presets_set_base_url() {
        for (env_name, base) in [
            ("sit", "https://sit-api-bakong.nbc.gov.kh/"),
            ("production", "https://api-bakong.nbc.gov.kh/"),
        ] {
            let c = load(&format!("[bakong]\nenvironment = \"{env_name}\""), &[]).unwrap();
            assert_eq!(c.bakong.base_url.as_str(), base, "{env_name}");
        }
        let err = load("[bakong]\nenvironment = \"sandbox\"", &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("bakong.environment") && err.contains("sit, production, custom"),
            "{err}"
        );
    }

    #[test]
    fn custom_uses_the_explicit_base_url() {
        let c = load(
            "[bkash]\nenvironment = \"custom\"\nbase_url = \"https://bkash.proxy.example/v1.2.0-beta\"\ncheckout_origin = \"https://pay.proxy.example\"\n[bakong]\nbase_url = \"https://bakong.proxy.example/\"",
            &[],
        )
        .unwrap();
        assert_eq!(
            c.bkash.base_url.as_str(),
            "https://bkash.proxy.example/v1.2.0-beta"
        );
        assert_eq!(
            c.bkash.checkout_origin.unwrap().as_str(),
            "https://pay.proxy.example/"
        );
        assert_eq!(c.bakong.base_url.as_str(), "https://bakong.proxy.example/");
    }

    #[test]
    fn a_preset_with_a_different_explicit_url_is_refused() {
        // (till.toml, environment overrides, the key the error must name)
        type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
        let cases: &[Case] = &[
            (
                "[bkash]\nenvironment = \"production\"\nbase_url = \"https://tokenized.sandbox.bka.sh/v1.2.0-beta\"",
                &[],
                "bkash.base_url",
            ),
            (
                "[bkash]\nenvironment = \"sandbox\"\ncheckout_origin = \"https://payment.bkash.com\"",
                &[],
                "bkash.checkout_origin",
            ),
            (
                "[bakong]\nenvironment = \"production\"",
                &[("TILL__BAKONG__BASE_URL", "https://sit-api-bakong.nbc.gov.kh")],
                "bakong.base_url",
            ),
            // The demo's override of a preset is a conflict too.
            (
                "[bkash]\nenvironment = \"sandbox\"",
                &[("TILL__BKASH__BASE_URL", "http://127.0.0.1:9/v1.2.0-beta")],
                "bkash.base_url",
            ),
        ];
        for (file, pairs, key) in cases {
            let err = load(file, pairs).unwrap_err().to_string();
            assert!(
                err.contains(key) && err.contains("environment") && err.contains("custom"),
                "{file}: {err}"
            );
        }
    }

    #[test]
    fn a_preset_with_the_same_explicit_url_is_accepted() {
        let c = load(
            "[bkash]\nenvironment = \"production\"\nbase_url = \"https://tokenized.pay.bka.sh/v1.2.0-beta/\"\ncheckout_origin = \"https://payment.bkash.com\"\n[bakong]\nenvironment = \"sit\"\nbase_url = \"https://sit-api-bakong.nbc.gov.kh\"",
            &[],
        )
        .unwrap();
        assert_eq!(
            c.bkash.base_url.as_str(),
            "https://tokenized.pay.bka.sh/v1.2.0-beta"
        );
        assert_eq!(c.bakong.environment, BakongEnvironment::Sit);
    }

    #[test]
    fn plain_http_is_refused_unless_to_loopback() {
        for (file, key) in [
            (
                "[bkash]\nbase_url = \"http://tokenized.pay.bka.sh/v1.2.0-beta\"",
                "bkash.base_url",
            ),
            (
                "[bkash]\ncheckout_origin = \"http://payment.bkash.com\"",
                "bkash.checkout_origin",
            ),
            (
                "[bakong]\nbase_url = \"http://api-bakong.nbc.gov.kh\"",
                "bakong.base_url",
            ),
            ("[hub]\nurl = \"http://hub.shop.example\"", "hub.url"),
            ("[hub]\nurl = \"http://192.168.1.20:8787\"", "hub.url"),
            // Names that merely look local are not loopback.
            ("[hub]\nurl = \"http://localhost.example\"", "hub.url"),
            ("[hub]\nurl = \"http://hub.localhost\"", "hub.url"),
        ] {
            let err = load(file, &[]).unwrap_err().to_string();
            assert!(
                err.contains(key) && err.contains("https://"),
                "{file}: {err}"
            );
        }
        for url in [
            "http://127.0.0.1:8787",
            "http://127.9.9.9:8787",
            "http://localhost:8787",
            "http://[::1]:8787",
            "https://hub.shop.example",
            "https://192.168.1.20:8787",
        ] {
            let c = load(&format!("[hub]\nurl = \"{url}\""), &[])
                .unwrap_or_else(|e| panic!("{url}: {e}"));
            assert!(c.hub.url.is_some());
        }
    }

    #[test]
    fn extra_roots_must_be_an_absolute_pem_file() {
        let err = load("[tls]\nextra_roots = \"ca.pem\"", &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("tls.extra_roots") && err.contains("absolute"),
            "{err}"
        );
        let dir = std::env::temp_dir().join(format!("till-config-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let junk = dir.join("junk.pem");
        std::fs::write(&junk, "no certificate here").unwrap();
        let err = load(
            &format!("[tls]\nextra_roots = {:?}", junk.display().to_string()),
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("tls.extra_roots") && err.contains("no PEM certificate"),
            "{err}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
