//! The bKash client `[bkash]` asks for: the merchant's own credentials with
//! the token store every process on the data directory shares, or the hub's
//! token (`bkash.token_from = "hub"`).

use crate::config::Config;
use crate::journal::Journal;
use crate::payment::ProviderKind;
use crate::provider::setup::SetupError;
use crate::secrets::{names, SharedSecrets};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The bKash client `[bkash]` asks for, or why bKash is off.
pub(crate) fn client(
    config: &Config,
    secrets: &SharedSecrets,
    home: &Path,
    journal: &Arc<Mutex<Journal>>,
    observer: &till_provider_http::SharedObserver,
) -> Result<Result<(till_bkash::BkashClient, String), String>, SetupError> {
    let mut settings = till_bkash::BkashSettings::new(config.bkash.base_url.clone());
    settings.timeout = config.bkash_timeout();
    settings.extra_roots = config.tls.roots.clone();
    let refused = |e: till_bkash::BkashError| SetupError::Client {
        provider: ProviderKind::Bkash,
        message: e.to_string(),
    };
    if config.bkash.token_from == crate::config::TokenFrom::Hub {
        // The shop's hub holds the credentials and lends its token to every
        // till of the merchant account (the account's two token calls an hour
        // are the whole shop's).
        let Some(hub) = &config.hub.url else {
            return Ok(Err("bkash.token_from = \"hub\" needs hub.url".into()));
        };
        let signer = match crate::sync::load_signer(&**secrets) {
            Ok(s) => s,
            Err(why) => return Ok(Err(format!("the token comes from the hub, and {why}"))),
        };
        let http = till_provider_http::client_builder(&config.tls.roots)
            .timeout(config.hub_timeout())
            .connect_timeout(config.hub_timeout().min(Duration::from_secs(10)))
            .build()
            .map_err(|e| SetupError::Client {
                provider: ProviderKind::Bkash,
                message: format!("hub HTTP client: {e}"),
            })?;
        let lender = super::lend::HubLender::new(http, hub, &config.terminal.id, signer);
        return till_bkash::BkashClient::with_token_lender(
            settings,
            Arc::new(lender),
            observer.clone(),
        )
        .map(|c| Ok((c, super::LENT_PAYEE.to_owned())))
        .map_err(refused);
    }
    let creds = match credentials(&**secrets) {
        // A keyring that cannot be reached turns off only what needs it.
        Err(e) => return Ok(Err(crate::provider::setup::unreadable_secret(&e))),
        Ok(None) => {
            return Ok(Err(format!(
                "bKash credentials are missing: store them with `till secret set {}` (and the other three), or set {}",
                names::BKASH_APP_KEY,
                crate::secrets::env_name(names::BKASH_APP_KEY)
            )))
        }
        Ok(Some(c)) => c,
    };
    // bKash limits token calls per merchant account: the token and the calls
    // of the last hour are shared with every process on this data directory
    // and outlive restarts.
    let store = Arc::new(super::token::BkashTokenStore {
        journal: journal.clone(),
        secrets: secrets.clone(),
        lock_path: home.join(super::token::LOCK_FILE),
        account: format!(
            "{} {} {}",
            config.bkash.base_url, creds.app_key, creds.username
        ),
    });
    let payee = super::merchant_fingerprint(
        config.bkash.base_url.as_str(),
        &creds.app_key,
        &creds.username,
    );
    till_bkash::BkashClient::with_token_store(settings, creds, observer.clone(), store)
        .map(|c| Ok((c, payee)))
        .map_err(refused)
}

fn credentials(
    secrets: &dyn crate::secrets::SecretStore,
) -> Result<Option<till_bkash::BkashCredentials>, crate::secrets::SecretError> {
    let get = |n| secrets.get(n);
    match (
        get(names::BKASH_USERNAME)?,
        get(names::BKASH_PASSWORD)?,
        get(names::BKASH_APP_KEY)?,
        get(names::BKASH_APP_SECRET)?,
    ) {
        (Some(u), Some(p), Some(k), Some(s)) => Ok(Some(till_bkash::BkashCredentials {
            username: u.expose().to_owned(),
            password: p.expose().to_owned(),
            app_key: k.expose().to_owned(),
            app_secret: s.expose().to_owned(),
        })),
        _ => Ok(None),
    }
}
