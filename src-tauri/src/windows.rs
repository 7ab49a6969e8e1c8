//! Window placement: the customer display goes to a second monitor when there is one.

use tauri::{AppHandle, Manager, PhysicalPosition};

pub const CASHIER: &str = "cashier";
pub const CUSTOMER: &str = "customer";

/// Move the customer display onto a monitor other than the cashier's and fill it; with a single
/// monitor it stays a normal window beside the cashier's.
pub fn place_customer_display(app: &AppHandle) {
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
        if std::env::var_os("TILL_KIOSK").is_some() {
            let _ = customer.set_fullscreen(true);
        }
    }
}
