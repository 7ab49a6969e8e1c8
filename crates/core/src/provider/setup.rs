//! Registration: the one place that names every provider. It builds each
//! provider the configuration turns on (or says why it is off) and knows
//! which setting names each one's payee. Adding a provider adds a branch
//! here, and nowhere else in the engine.

use super::bakong::BakongProvider;
use super::bkash::BkashProvider;
use super::demo::DemoProvider;
use super::nagad::NagadProvider;
use super::Registry;
use crate::clock::Clock;
use crate::config::Config;
use crate::journal::payees::PayeeSetting;
use crate::journal::Journal;
use crate::payment::ProviderKind;
use crate::secrets::{names, SharedSecrets};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A provider's client could not be built from settings that were read.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("{provider} client: {message}")]
    Client {
        provider: ProviderKind,
        message: String,
    },
}

/// What building the providers needs from the engine being opened.
pub(crate) struct SetupContext<'a> {
    pub config: &'a Config,
    pub secrets: &'a SharedSecrets,
    pub home: &'a Path,
    pub journal: &'a Arc<Mutex<Journal>>,
    pub observer: &'a till_provider_http::SharedObserver,
    pub clock: &'a Clock,
}

/// Every provider the configuration turns on; the others are in the
/// registry as off, with the reason people are shown.
pub(crate) fn build(cx: &SetupContext<'_>) -> Result<Registry, SetupError> {
    let config = cx.config;
    let mut registry = Registry::default();

    if config.bkash.enabled {
        match super::bkash::setup::client(config, cx.secrets, cx.home, cx.journal, cx.observer)? {
            Ok((client, payee)) => {
                let c = &config.bkash;
                let base = c.checkout_origin.as_ref().unwrap_or(&c.base_url);
                registry.insert(Arc::new(BkashProvider {
                    client,
                    payee,
                    callback_url: c.callback_url.clone(),
                    checkout_window: chrono::Duration::seconds(c.checkout_window_secs as i64),
                    page_origin: Some(base.origin()).filter(|o| o.is_tuple()),
                }));
            }
            Err(why) => registry.disable(ProviderKind::Bkash, why),
        }
    } else {
        registry.disable(ProviderKind::Bkash, "turned off in the configuration");
    }

    if config.bakong.enabled {
        match cx.secrets.get(names::BAKONG_TOKEN) {
            Err(e) => registry.disable(ProviderKind::Bakong, unreadable_secret(&e)),
            Ok(Some(token)) => {
                let mut settings = till_bakong::BakongSettings::new(config.bakong.base_url.clone());
                settings.timeout = config.bakong_timeout();
                settings.renew_email = config.bakong.renew_email.clone();
                settings.extra_roots = config.tls.roots.clone();
                let client = till_bakong::BakongClient::new(
                    settings,
                    token.expose().to_owned(),
                    cx.observer.clone(),
                )
                .map_err(|e| SetupError::Client {
                    provider: ProviderKind::Bakong,
                    message: e.to_string(),
                })?;
                registry.insert(Arc::new(BakongProvider {
                    client,
                    config: config.clone(),
                }));
            }
            Ok(None) => registry.disable(
                ProviderKind::Bakong,
                format!(
                    "the Bakong API token is missing: store it with `till secret set {}` or set {}",
                    names::BAKONG_TOKEN,
                    crate::secrets::env_name(names::BAKONG_TOKEN)
                ),
            ),
        }
    } else {
        registry.disable(ProviderKind::Bakong, "turned off in the configuration");
    }

    if config.nagad.enabled {
        match super::nagad::setup::client(config, cx.secrets, cx.observer)? {
            Ok(client) => {
                let c = &config.nagad;
                let base = c.checkout_origin.as_ref().unwrap_or(&c.base_url);
                registry.insert(Arc::new(NagadProvider {
                    client,
                    callback_url: c.callback_url.clone(),
                    checkout_window: chrono::Duration::seconds(c.checkout_window_secs as i64),
                    page_origin: Some(base.origin()).filter(|o| o.is_tuple()),
                    refunds: match c.refunds {
                        crate::config::NagadRefunds::Api => super::nagad::RefundRoute::Api,
                        crate::config::NagadRefunds::Portal => super::nagad::RefundRoute::Portal,
                    },
                }));
            }
            Err(why) => registry.disable(ProviderKind::Nagad, why),
        }
    } else {
        registry.disable(ProviderKind::Nagad, "turned off in the configuration");
    }

    if config.demo.enabled {
        registry.insert(Arc::new(DemoProvider {
            settle_after: Duration::from_millis(config.demo.settle_after_ms),
            clock: cx.clock.clone(),
        }));
    } else {
        registry.disable(ProviderKind::Demo, "turned off in the configuration");
    }
    Ok(registry)
}

/// The payee settings of `config` that are known without the providers'
/// secrets (a payee of a provider that is off for want of a secret is
/// still set, and a change to it is still audited).
pub(crate) fn configured_payees(config: &Config) -> Vec<PayeeSetting> {
    let mut payees = Vec::new();
    if config.nagad.enabled {
        payees.push(PayeeSetting {
            wallet: ProviderKind::Nagad.as_str().to_owned(),
            setting: "nagad.merchant_id".into(),
            payee: format!("nagad-merchant-{}", config.nagad.merchant_id.trim()),
        });
    }
    if config.bakong.enabled {
        payees.push(PayeeSetting {
            wallet: ProviderKind::Bakong.as_str().to_owned(),
            setting: "khqr.bakong_account_id".into(),
            payee: config.khqr.bakong_account_id.trim().to_owned(),
        });
    }
    payees
}

/// Why a provider is off when one of its secrets cannot be read (the error names the secret).
pub(crate) fn unreadable_secret(e: &crate::secrets::SecretError) -> String {
    format!("off until its secret can be read: {e}")
}

#[cfg(test)]
mod tests {
    use crate::clock::Clock;
    use crate::config::Config;
    use crate::engine::{Engine, EngineOptions};
    use crate::payment::ProviderKind;
    use crate::secrets::{Secret, SecretError, SecretStore};
    use std::sync::Arc;

    /// A keyring that cannot be reached (no Secret Service on the session bus).
    struct UnreachableKeyring;

    impl SecretStore for UnreachableKeyring {
        fn get(&self, name: &str) -> Result<Option<Secret>, SecretError> {
            Err(SecretError::Keyring {
                name: name.to_owned(),
                message: "Unable to autolaunch a dbus-daemon without a $DISPLAY for X11".into(),
            })
        }
        fn set(&self, name: &str, _: &Secret) -> Result<(), SecretError> {
            self.get(name).map(|_| ())
        }
        fn delete(&self, name: &str) -> Result<(), SecretError> {
            self.get(name).map(|_| ())
        }
    }

    /// Only the providers that need a secret are off, each naming the secret and the
    /// keyring's answer; the engine opens and the demo wallet takes payments.
    #[tokio::test]
    async fn an_unreachable_keyring_turns_off_only_what_needs_it() {
        let home = tempfile::tempdir().unwrap();
        let engine = Engine::open(EngineOptions {
            home: home.path().to_owned(),
            config: Config::defaults(),
            secrets: Arc::new(UnreachableKeyring),
            clock: Clock::system(),
            background: false,
        })
        .await
        .expect("the engine opens without a keyring");
        let off = engine.disabled_providers();
        let bkash = &off[&ProviderKind::Bkash];
        assert!(
            bkash.contains("bkash.username") && bkash.contains("keyring"),
            "{bkash}"
        );
        let bakong = &off[&ProviderKind::Bakong];
        assert!(
            bakong.contains("bakong.token") && bakong.contains("keyring"),
            "{bakong}"
        );
        assert!(!off.contains_key(&ProviderKind::Demo), "{off:?}");
        assert!(engine.providers().contains(&ProviderKind::Demo));
    }
}
