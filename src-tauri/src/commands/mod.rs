//! IPC commands, one file per window. Which window may call which is decided
//! by the capabilities in `tauri.conf.json` (and the command list in
//! `build.rs`); these functions never trust the caller beyond that, and the
//! manager's commands also ask for an unlocked PIN session.

pub mod cashier;
pub mod customer;
pub mod manager;
pub mod pos;

use crate::terminal::{Shared, UiError};
use serde::Serialize;
use tauri::State;
use till_core::ProviderKind;

/// One wallet button of the cashier's screen.
#[derive(Debug, Serialize)]
pub struct WalletInfo {
    pub provider: ProviderKind,
    pub currencies: Vec<String>,
    /// Its function key ("F1"): fixed per wallet, whichever others are on.
    pub key: String,
    /// How the customer pays (`code`, `page`, `wait`); None while it is off.
    pub step: Option<till_core::provider::StepKind>,
    /// A code may be shown while the wallet cannot be reached (checked later).
    pub offline_display: bool,
    /// Off (no credentials, turned off): the button is shown disabled.
    pub configured: bool,
}

#[derive(Debug, Serialize)]
pub struct TerminalInfo {
    pub terminal_id: String,
    pub shop_name: String,
    pub shop_name_km: Option<String>,
    pub shop_name_bn: Option<String>,
    /// The currency the keypad starts in.
    pub default_currency: String,
    pub wallets: Vec<WalletInfo>,
    pub timezone: String,
    /// The screens say DEMO: demo mode, or the Demo wallet kept on outside it.
    pub demo: bool,
    /// Demo mode: sandbox and hub run inside the app.
    pub demo_servers: bool,
}

/// Every window: who this terminal is and which wallets it takes.
#[tauri::command]
pub async fn terminal_info(terminal: State<'_, Shared>) -> Result<TerminalInfo, UiError> {
    let engine = terminal.engine().await?;
    let c = engine.config();
    let on = engine.providers();
    let off = engine.disabled_providers();
    let wallets = ProviderKind::ALL
        .iter()
        .enumerate()
        // The Demo wallet exists only when it is on: no button to hit by mistake.
        .filter(|(_, k)| on.contains(k) || (off.contains_key(k) && **k != ProviderKind::Demo))
        .map(|(i, &k)| {
            let caps = engine.capabilities_of(k);
            WalletInfo {
                provider: k,
                currencies: engine
                    .currencies_of(k)
                    .iter()
                    .map(|c| c.code().to_string())
                    .collect(),
                key: format!("F{}", i + 1),
                step: caps.map(|c| c.step),
                offline_display: caps.is_some_and(|c| c.offline_display),
                configured: caps.is_some(),
            }
        })
        .collect();
    // The wallets' own default when they agree (all of them taka, say),
    // else the configured one.
    let mut defaults: Vec<_> = engine
        .providers()
        .into_iter()
        .filter(|k| {
            engine.capabilities_of(*k).map(|c| c.step) != Some(till_core::provider::StepKind::Wait)
        })
        .filter_map(|k| engine.default_currency_of(k))
        .collect();
    defaults.sort_by_key(|c| c.code());
    defaults.dedup();
    let default_currency = match defaults.as_slice() {
        [one] => one.code().to_string(),
        _ => c.khqr.default_currency.code().to_string(),
    };
    let demo_servers = terminal.demo_info().await.is_some();
    Ok(TerminalInfo {
        terminal_id: c.terminal.id.clone(),
        shop_name: c.shop.name.clone(),
        shop_name_km: c.shop.name_km.clone(),
        shop_name_bn: c.shop.name_bn.clone(),
        default_currency,
        wallets,
        timezone: c.business_day.timezone.clone(),
        demo: demo_servers || engine.providers().contains(&ProviderKind::Demo),
        demo_servers,
    })
}

/// Cashier and manager: providers online, sync queue, demo servers.
#[tauri::command]
pub async fn terminal_status(
    terminal: State<'_, Shared>,
) -> Result<crate::views::TerminalStatus, UiError> {
    Ok(terminal.status().await)
}
