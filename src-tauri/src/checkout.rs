//! A page wallet's checkout page, in its own webview over the customer display.
//!
//! It is opened at the page address the provider's start answered, may
//! navigate only within that provider's page origin
//! (`Provider::page_origin`), and its redirect to any wallet's callback URL
//! is caught here (`on_navigation`) and never loaded: the engine takes it
//! from there (`Engine::callback`: completion, then status when unsure). No
//! capability names this window, so the page has no IPC at all.

use tauri::{AppHandle, Emitter, Manager, WebviewUrl, WebviewWindowBuilder};
use till_core::{Engine, ProviderKind};
use url::Url;

pub const LABEL: &str = "wallet-checkout";

pub fn open(
    app: &AppHandle,
    engine: Engine,
    provider: ProviderKind,
    redirect_url: &str,
) -> Result<(), String> {
    let label = engine.label_of(provider);
    let url = Url::parse(redirect_url).map_err(|_| {
        format!("{label} sent a checkout address Till cannot open. Cancel and charge again.")
    })?;
    let allowed = engine
        .page_origin(provider)
        .filter(|o| o.is_tuple())
        .ok_or_else(|| format!("The {label} address in the settings is not valid."))?;
    if url.origin() != allowed {
        tracing::error!(url = %url.origin().ascii_serialization(), %provider, "checkout page outside the wallet's origin refused");
        return Err(format!(
            "The {label} checkout page is not on the configured {label} address; it was not opened."
        ));
    }
    if let Some(old) = app.get_webview_window(LABEL) {
        let _ = old.destroy();
    }
    let nav_app = app.clone();
    let nav_engine = engine.clone();
    let mut builder = WebviewWindowBuilder::new(app, LABEL, WebviewUrl::External(url))
        .title(format!("Till — {label} checkout"))
        .focused(true)
        .on_navigation(move |target| {
            if nav_engine.is_callback(target) {
                let engine = nav_engine.clone();
                let app = nav_app.clone();
                let target = target.clone();
                tauri::async_runtime::spawn(async move {
                    match engine.callback(&target).await {
                        Ok(p) => {
                            tracing::info!(payment = %p.id, state = %p.state, "callback handled in the webview");
                            if !p.state.is_open() {
                                if let Some(w) = app.get_webview_window(LABEL) {
                                    let _ = w.close();
                                }
                            }
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "callback refused");
                            let _ = app.emit_to(
                                crate::windows::CASHIER,
                                crate::events::NOTICE,
                                e.to_string(),
                            );
                        }
                    }
                });
                return false;
            }
            let ok = target.origin() == allowed;
            if !ok {
                tracing::warn!(to = %target.origin().ascii_serialization(), "checkout navigation outside the wallet's origin blocked");
            }
            ok
        });
    // Cover the customer display exactly (its monitor, its size).
    if let Some(customer) = app.get_webview_window(crate::windows::CUSTOMER) {
        let scale = customer.scale_factor().unwrap_or(1.0);
        if let (Ok(pos), Ok(size)) = (customer.outer_position(), customer.inner_size()) {
            let pos = pos.to_logical::<f64>(scale);
            let size = size.to_logical::<f64>(scale);
            builder = builder
                .position(pos.x, pos.y)
                .inner_size(size.width, size.height);
        }
        if customer.is_fullscreen().unwrap_or(false) {
            builder = builder.fullscreen(true);
        }
    }
    builder.build().map_err(|e| {
        tracing::error!(error = %e, "cannot open the checkout window");
        format!("Cannot open the {label} page on the customer display. Cancel and charge again.")
    })?;
    Ok(())
}

pub fn close(app: &AppHandle) {
    if let Some(w) = app.get_webview_window(LABEL) {
        let _ = w.close();
    }
}
