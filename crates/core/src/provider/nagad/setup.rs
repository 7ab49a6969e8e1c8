//! The Nagad client `[nagad]` asks for: the merchant id from the
//! configuration, the merchant's private key and Nagad's public key from the
//! secrets (PEM text pasted in Settings or `till secret set`, never a file).

use crate::config::Config;
use crate::payment::ProviderKind;
use crate::provider::setup::SetupError;
use crate::secrets::{names, SharedSecrets};

/// The client, or why Nagad is off.
pub(crate) fn client(
    config: &Config,
    secrets: &SharedSecrets,
    observer: &till_provider_http::SharedObserver,
) -> Result<Result<till_nagad::NagadClient, String>, SetupError> {
    let get = |name| secrets.get(name);
    let (merchant_pem, nagad_pem) = match (get(names::NAGAD_MERCHANT_KEY), get(names::NAGAD_PUBLIC_KEY)) {
        (Err(e), _) | (_, Err(e)) => return Ok(Err(crate::provider::setup::unreadable_secret(&e))),
        (Ok(Some(m)), Ok(Some(n))) => (m, n),
        _ => {
            return Ok(Err(format!(
                "the Nagad keys are missing: store them with `till secret set {}` and `till secret set {}` (PEM), or set {}",
                names::NAGAD_MERCHANT_KEY,
                names::NAGAD_PUBLIC_KEY,
                crate::secrets::env_name(names::NAGAD_MERCHANT_KEY)
            )))
        }
    };
    // A key that does not read is said once, naming the secret; nothing is logged of it.
    let merchant_key = match till_nagad::MerchantPrivateKey::from_pem(merchant_pem.expose()) {
        Ok(k) => k,
        Err(e) => {
            return Ok(Err(format!(
                "{} is not a private key Till can use: {e}",
                names::NAGAD_MERCHANT_KEY
            )))
        }
    };
    let nagad_key = match till_nagad::NagadPublicKey::from_pem(nagad_pem.expose()) {
        Ok(k) => k,
        Err(e) => {
            return Ok(Err(format!(
                "{} is not a public key Till can use: {e}",
                names::NAGAD_PUBLIC_KEY
            )))
        }
    };
    let mut settings = till_nagad::NagadSettings::new(config.nagad.base_url.clone());
    settings.timeout = config.nagad_timeout();
    settings.extra_roots = config.tls.roots.clone();
    till_nagad::NagadClient::new(
        settings,
        till_nagad::NagadCredentials {
            merchant_id: config.nagad.merchant_id.clone(),
            merchant_key,
            nagad_key,
            merchant_number: None,
        },
        observer.clone(),
    )
    .map(Ok)
    .map_err(|e| SetupError::Client {
        provider: ProviderKind::Nagad,
        message: e.to_string(),
    })
}
