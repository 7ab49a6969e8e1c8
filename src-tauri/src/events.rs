//! Engine events to the windows: payments to the cashier and manager, status
//! (providers online, sync queue) to all, and the customer display's screen
//! when the payment it shows ends.

use crate::terminal::{now_ms, Shared};
use crate::views::PaymentView;
use tauri::{AppHandle, Emitter, Manager};
use till_core::{Engine, EngineEvent};
use tokio::sync::{broadcast, watch};

/// A payment changed: `PaymentView`.
pub const PAYMENT: &str = "till://payment";
/// Providers or sync changed: `TerminalStatus`.
pub const STATUS: &str = "till://status";
/// Something the cashier should read (a refused callback): a sentence.
pub const NOTICE: &str = "till://notice";
/// Someone tried to close the cashier's window at a kiosk: ask for the manager PIN.
pub const CLOSE_REQUESTED: &str = "till://close-requested";

pub fn forward(app: AppHandle, terminal: Shared, engine: Engine, mut stop: watch::Receiver<bool>) {
    let mut rx = engine.subscribe();
    // Read when the engine is (re)opened: a settings change re-opens it.
    let mut cues = crate::sound::Cues::new(&engine.config().sound);
    tauri::async_runtime::spawn(async move {
        loop {
            let event = tokio::select! {
                _ = stop.changed() => return,
                e = rx.recv() => e,
            };
            match event {
                Ok(EngineEvent::Payment { payment }) => {
                    let view = PaymentView::of(payment.as_ref(), &engine);
                    for w in [crate::windows::CASHIER, crate::windows::MANAGER] {
                        let _ = app.emit_to(w, PAYMENT, &view);
                    }
                    on_payment(&app, &terminal, &engine, &payment);
                    if let Some(cue) = cues.take(&payment) {
                        let _ = app.emit_to(crate::windows::CASHIER, crate::sound::SOUND, &cue);
                    }
                }
                Ok(EngineEvent::ProviderHealth { .. })
                | Ok(EngineEvent::Sync { .. })
                | Ok(EngineEvent::TaskRestarted { .. }) => {
                    let _ = app.emit(STATUS, terminal.status().await);
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "window events lagged; sending the status again");
                    let _ = app.emit(STATUS, terminal.status().await);
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    });
}

/// A charge the shop's POS started (the local API) reached the customer:
/// the customer display shows it as the cashier's own charge would, and a
/// page wallet's page opens over it. The API refuses a new charge while the
/// display shows an open one, so nothing on it is pushed aside.
fn on_pos_charge(app: &AppHandle, terminal: &Shared, engine: &Engine, p: &till_core::Payment) {
    if p.origin.is_none()
        || p.state != till_core::PaymentState::AwaitingCustomer
        || terminal.displayed_payment().as_deref() == Some(p.id.as_str())
    {
        return;
    }
    let busy = terminal
        .displayed_payment()
        .and_then(|id| engine.payment(&id).ok())
        .is_some_and(|shown| shown.state.is_open());
    if busy {
        return;
    }
    match crate::display::waiting(p, engine) {
        Ok(screen) => terminal.set_display(app, screen),
        Err(e) => {
            tracing::warn!(error = %e, payment = %p.id, "a POS charge cannot be shown");
            return;
        }
    }
    if let Some(page) = &p.customer_page {
        if let Err(message) = crate::checkout::open(app, engine.clone(), p.provider, page) {
            tracing::warn!(%message, payment = %p.id, "a POS charge's wallet page did not open");
            let _ = app.emit_to(crate::windows::CASHIER, NOTICE, message);
        }
    }
}

/// The payment on the customer display ended: show the result, close the
/// wallet's page if it is still open.
pub fn on_payment(app: &AppHandle, terminal: &Shared, engine: &Engine, p: &till_core::Payment) {
    on_pos_charge(app, terminal, engine, p);
    if terminal.displayed_payment().as_deref() != Some(p.id.as_str()) {
        return;
    }
    if let Some(result) = crate::display::result(p, now_ms(), engine) {
        if let Some(w) = app.get_webview_window(crate::checkout::LABEL) {
            let _ = w.close();
        }
        terminal.set_display(app, result);
    }
}
