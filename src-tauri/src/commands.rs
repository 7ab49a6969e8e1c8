//! IPC commands. Which window may call which is decided by the capabilities in
//! `tauri.conf.json`; these functions never trust the caller beyond that.

use crate::config::{AccountKind, Config};
use crate::display::{DisplayState, KhqrScreen, EVENT};
use crate::money;
use crate::windows::CUSTOMER;
use rust_decimal::Decimal;
use serde::Serialize;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};
use tauri::{Emitter, State};

pub struct AppState {
    config: Config,
    display: Mutex<DisplayState>,
}

impl AppState {
    pub fn new(config: Config) -> Self {
        Self {
            config,
            display: Mutex::new(DisplayState::Idle),
        }
    }
}

/// An error as the cashier reads it: one sentence, what happened and what to do.
#[derive(Debug, Serialize)]
pub struct UiError {
    pub message: String,
}

impl<E: std::fmt::Display> From<E> for UiError {
    fn from(e: E) -> Self {
        UiError {
            message: e.to_string(),
        }
    }
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Build the dynamic KHQR for one charge from the merchant profile.
pub fn build_khqr(
    config: &Config,
    amount: Decimal,
    currency: khqr::Currency,
    clock_ms: u64,
) -> Result<khqr::Khqr, khqr::GenerateError> {
    let p = &config.khqr;
    let account = match p.kind {
        AccountKind::Individual => khqr::Account::Individual {
            account_information: p.account_information.clone(),
            acquiring_bank: p.acquiring_bank.clone(),
        },
        AccountKind::Merchant => khqr::Account::Merchant {
            merchant_id: p.merchant_id.clone().unwrap_or_default(),
            acquiring_bank: p.acquiring_bank.clone().unwrap_or_default(),
        },
    };
    let request = khqr::KhqrRequest {
        bakong_account_id: p.bakong_account_id.clone(),
        merchant_name: p.merchant_name.clone(),
        merchant_city: p.merchant_city.clone(),
        account,
        currency,
        amount: Some(amount),
        merchant_category_code: p.merchant_category_code.clone(),
        // The bill number is what the customer's bank app shows; unique per code.
        bill_number: Some(format!("TILL-{clock_ms}")),
        mobile_number: p.mobile_number.clone(),
        store_label: p.store_label.clone(),
        terminal_label: p.terminal_label.clone(),
        purpose_of_transaction: None,
        language_preference: p.language_preference.clone(),
        merchant_name_alternate_language: p.merchant_name_alternate_language.clone(),
        merchant_city_alternate_language: p.merchant_city_alternate_language.clone(),
        upi_merchant_account: None,
        expiration_ms: Some(clock_ms + p.expiry_seconds * 1000),
    };
    khqr::encode(&request, clock_ms)
}

#[derive(Debug, Serialize)]
pub struct TerminalInfo {
    pub shop_name: String,
    pub shop_name_km: Option<String>,
    pub shop_name_bn: Option<String>,
    pub default_currency: String,
    pub expiry_seconds: u64,
    pub config_source: String,
}

/// Cashier and customer display: who this terminal is.
#[tauri::command]
pub fn terminal_info(state: State<'_, AppState>) -> TerminalInfo {
    let c = &state.config;
    TerminalInfo {
        shop_name: c.shop.name.clone(),
        shop_name_km: c.shop.name_km.clone(),
        shop_name_bn: c.shop.name_bn.clone(),
        default_currency: c.khqr.default_currency.to_ascii_uppercase(),
        expiry_seconds: c.khqr.expiry_seconds,
        config_source: c.source.clone(),
    }
}

/// Cashier: show a KHQR for the keyed amount on the customer display.
#[tauri::command]
pub fn show_khqr(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    amount: String,
    currency: String,
) -> Result<KhqrScreen, UiError> {
    let currency = money::parse_currency(&currency)
        .ok_or_else(|| UiError::from(format!("{currency} is not a currency Bakong takes")))?;
    let amount = money::parse_amount(&amount, currency)?;
    let clock = now_ms();
    let code = build_khqr(&state.config, amount, currency, clock).map_err(|e| {
        tracing::error!(error = %e, "KHQR generation refused");
        UiError::from(format!(
            "Cannot make the QR code: {e}. Check the KHQR settings."
        ))
    })?;
    // Fills its container: the page gives it the largest square the screen allows.
    let svg = khqr::render_svg_fluid(&code.qr).map_err(|e| {
        tracing::error!(error = %e, "KHQR rendering failed");
        UiError::from("Cannot draw the QR code. Try again.")
    })?;
    let screen = KhqrScreen {
        amount_display: money::display(amount, currency),
        amount: amount.to_string(),
        currency: currency.alpha(),
        created_ms: clock,
        expires_ms: clock + state.config.khqr.expiry_seconds * 1000,
        qr: code.qr,
        md5: code.md5,
        svg,
    };
    tracing::info!(md5 = %screen.md5, amount = %screen.amount, currency = screen.currency, "KHQR shown");
    set_display(&app, &state, DisplayState::Khqr(screen.clone()));
    Ok(screen)
}

/// Cashier: back to the idle screen (Esc).
#[tauri::command]
pub fn clear_customer(app: tauri::AppHandle, state: State<'_, AppState>) {
    set_display(&app, &state, DisplayState::Idle);
}

/// Customer display: what to show right now.
#[tauri::command]
pub fn customer_state(state: State<'_, AppState>) -> DisplayState {
    state.display.lock().map(|d| d.clone()).unwrap_or_default()
}

fn set_display(app: &tauri::AppHandle, state: &AppState, next: DisplayState) {
    if let Ok(mut d) = state.display.lock() {
        *d = next.clone();
    }
    if let Err(e) = app.emit_to(CUSTOMER, EVENT, next) {
        tracing::warn!(error = %e, "customer display did not get the update");
    }
}
