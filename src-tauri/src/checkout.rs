//! The bKash checkout page, in its own webview over the customer display.
//!
//! It is opened at the `bkashURL` create answered, may navigate only within
//! the configured bKash origin, and its redirect to our callback URL is caught
//! here (`on_navigation`) and never loaded: the engine takes it from there
//! (execute, then status when unsure). No capability names this window, so
//! the page has no IPC at all.

use tauri::{AppHandle, Emitter, Manager, WebviewUrl, WebviewWindowBuilder};
use till_core::Engine;
use url::Url;

pub const LABEL: &str = "bkash-checkout";

/// The origins the checkout page may show: the configured checkout origin,
/// else the API's own.
fn allowed_origin(engine: &Engine) -> Option<url::Origin> {
    let c = &engine.config().bkash;
    let base = c.checkout_origin.as_ref().unwrap_or(&c.base_url);
    Some(base.origin()).filter(|o| o.is_tuple())
}

pub fn open(app: &AppHandle, engine: Engine, redirect_url: &str) -> Result<(), String> {
    let url = Url::parse(redirect_url).map_err(|_| {
        "bKash sent a checkout address Till cannot open. Cancel and charge again.".to_string()
    })?;
    let allowed = allowed_origin(&engine)
        .ok_or_else(|| "The bKash address in the settings is not valid.".to_string())?;
    if url.origin() != allowed {
        tracing::error!(url = %url.origin().ascii_serialization(), "checkout page outside the bKash origin refused");
        return Err(
            "The bKash checkout page is not on the configured bKash address; it was not opened."
                .into(),
        );
    }
    if let Some(old) = app.get_webview_window(LABEL) {
        let _ = old.destroy();
    }
    let nav_app = app.clone();
    let nav_engine = engine.clone();
    let mut builder = WebviewWindowBuilder::new(app, LABEL, WebviewUrl::External(url))
        .title("Till — bKash checkout")
        .focused(true)
        .on_navigation(move |target| {
            if nav_engine.is_bkash_callback(target) {
                let engine = nav_engine.clone();
                let app = nav_app.clone();
                let target = target.clone();
                tauri::async_runtime::spawn(async move {
                    match engine.bkash_callback(&target).await {
                        Ok(p) => {
                            tracing::info!(payment = %p.id, state = %p.state, "bKash callback handled in the webview");
                            if !p.state.is_open() {
                                if let Some(w) = app.get_webview_window(LABEL) {
                                    let _ = w.close();
                                }
                            }
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "bKash callback refused");
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
                tracing::warn!(to = %target.origin().ascii_serialization(), "checkout navigation outside bKash blocked");
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
        tracing::error!(error = %e, "cannot open the bKash checkout window");
        "Cannot open the bKash page on the customer display. Cancel and charge again.".to_string()
    })?;
    Ok(())
}

pub fn close(app: &AppHandle) {
    if let Some(w) = app.get_webview_window(LABEL) {
        let _ = w.close();
    }
}
