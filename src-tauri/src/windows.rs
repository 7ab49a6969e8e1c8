//! Windows: the cashier's, the customer display (on a second monitor when
//! there is one, fullscreen with `display.kiosk`), the manager's (opened on
//! demand) and a wallet's checkout page (see [`crate::checkout`]).

use tauri::{AppHandle, Manager, PhysicalPosition, WebviewUrl, WebviewWindowBuilder};

pub const CASHIER: &str = "cashier";
pub const CUSTOMER: &str = "customer";
pub const MANAGER: &str = "manager";

/// Move the customer display onto a monitor other than the cashier's and fill it; with a single
/// monitor it stays a normal window beside the cashier's (where the user last put it).
pub fn place_customer_display(app: &AppHandle, kiosk: bool) {
    let Some(customer) = app.get_webview_window(CUSTOMER) else {
        return;
    };
    let monitors = match customer.available_monitors() {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!(error = %e, "cannot list monitors; leaving the customer display where it is");
            return;
        }
    };
    let primary = customer.primary_monitor().ok().flatten();
    let second = monitors.into_iter().find(|m| match &primary {
        Some(p) => m.position() != p.position() || m.name() != p.name(),
        None => false,
    });
    if let Some(monitor) = second {
        let pos = monitor.position();
        tracing::info!(monitor = ?monitor.name(), "customer display on the second monitor");
        let _ = customer.set_position(PhysicalPosition::new(pos.x, pos.y));
        let _ = customer.set_size(*monitor.size());
    }
    if kiosk {
        let _ = customer.set_fullscreen(true);
    }
}

/// Open the manager window, or bring it forward.
pub fn open_manager(app: &AppHandle) -> Result<(), String> {
    if let Some(w) = app.get_webview_window(MANAGER) {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
        return Ok(());
    }
    WebviewWindowBuilder::new(app, MANAGER, WebviewUrl::App("manager.html".into()))
        .title("Till — Manager")
        .inner_size(1180.0, 820.0)
        .min_inner_size(760.0, 560.0)
        .focused(true)
        .build()
        .map(|_| ())
        .map_err(|e| format!("Cannot open the manager window: {e}"))
}
