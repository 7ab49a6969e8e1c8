//! The terminal's configuration file.
//!
//! Looked up in this order: the path in `TILL_CONFIG`; `$XDG_CONFIG_HOME/till/till.toml`
//! (or `~/.config/till/till.toml`); otherwise the built-in demo profile, so a first run needs
//! no file at all. Secrets never live here (they go to the OS keyring).

use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The demo profile: a made-up shop on the Bakong sandbox account scheme.
pub const DEMO_TOML: &str = include_str!("../demo.toml");

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub shop: Shop,
    pub khqr: KhqrProfile,
    /// Where this configuration came from, for the logs and the screen.
    #[serde(skip)]
    pub source: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Shop {
    pub name: String,
    /// The shop's name in Khmer, shown on the customer display under the English one.
    pub name_km: Option<String>,
    /// The shop's name in Bangla.
    pub name_bn: Option<String>,
}

/// The KHQR merchant profile: how this shop's Bakong account was registered.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KhqrProfile {
    /// `individual` (tag 29) or `merchant` (tag 30).
    pub kind: AccountKind,
    pub bakong_account_id: String,
    pub merchant_name: String,
    pub merchant_city: String,
    /// Required for `merchant` accounts.
    pub merchant_id: Option<String>,
    /// Required for `merchant` accounts, optional for individuals.
    pub acquiring_bank: Option<String>,
    pub account_information: Option<String>,
    pub merchant_category_code: Option<String>,
    pub store_label: Option<String>,
    pub terminal_label: Option<String>,
    pub mobile_number: Option<String>,
    /// Alternate-language name and city (tag 64), usually Khmer.
    pub language_preference: Option<String>,
    pub merchant_name_alternate_language: Option<String>,
    pub merchant_city_alternate_language: Option<String>,
    /// `KHR` or `USD`: what the cashier's keypad starts in.
    pub default_currency: String,
    /// How long a dynamic code may be scanned, in seconds.
    pub expiry_seconds: u64,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AccountKind {
    Individual,
    Merchant,
}

impl Config {
    pub fn load() -> anyhow::Result<Self> {
        if let Some(path) = std::env::var_os("TILL_CONFIG") {
            let path = PathBuf::from(path);
            return Self::from_file(&path);
        }
        if let Some(path) = default_path().filter(|p| p.exists()) {
            return Self::from_file(&path);
        }
        let mut config = Self::parse(DEMO_TOML).context("the built-in demo profile")?;
        config.source = "built-in demo profile".into();
        Ok(config)
    }

    pub fn from_file(path: &std::path::Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the configuration file {}", path.display()))?;
        let mut config = Self::parse(&text)
            .with_context(|| format!("the configuration file {} is not valid", path.display()))?;
        config.source = path.display().to_string();
        Ok(config)
    }

    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let config: Config = toml::from_str(text)?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> anyhow::Result<()> {
        if crate::money::parse_currency(&self.khqr.default_currency).is_none() {
            anyhow::bail!(
                "khqr.default_currency must be KHR or USD, not {:?}",
                self.khqr.default_currency
            );
        }
        if !(30..=86_400).contains(&self.khqr.expiry_seconds) {
            anyhow::bail!("khqr.expiry_seconds must be between 30 and 86400");
        }
        if self.khqr.kind == AccountKind::Merchant
            && (self.khqr.merchant_id.is_none() || self.khqr.acquiring_bank.is_none())
        {
            anyhow::bail!("a merchant KHQR account needs khqr.merchant_id and khqr.acquiring_bank");
        }
        // Build one code now so a bad profile fails at start, not at the first customer.
        crate::commands::build_khqr(
            self,
            rust_decimal::Decimal::ONE,
            khqr::Currency::Usd,
            crate::commands::now_ms(),
        )
        .map_err(|e| anyhow::anyhow!("the KHQR merchant profile is refused: {e}"))?;
        Ok(())
    }
}

fn default_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("till").join("till.toml"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_profile_parses() {
        let c = Config::parse(DEMO_TOML).unwrap();
        assert_eq!(c.khqr.kind, AccountKind::Individual);
        assert!(c.shop.name_km.is_some());
    }

    #[test]
    fn unknown_keys_are_refused() {
        let text = DEMO_TOML.replace("[shop]", "[shop]\nnmae = \"typo\"");
        assert!(Config::parse(&text).is_err());
    }

    #[test]
    fn merchant_needs_its_ids() {
        let text = DEMO_TOML.replace("kind = \"individual\"", "kind = \"merchant\"");
        let err = Config::parse(&text).unwrap_err().to_string();
        assert!(err.contains("merchant_id"), "{err}");
    }
}
