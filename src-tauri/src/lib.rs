//! Till desktop shell — definition and glue, nothing else. The payment logic
//! is `till-core`'s; this crate puts it in windows.
//!
//! Layout:
//! - [`cli`]: the headless command line (`till charge|status|…`), no window.
//! - [`terminal`]: the running engine (plus the demo's in-process sandbox and
//!   hub), the customer display's state and the manager PIN; re-opened in place
//!   when settings change.
//! - [`demo`]: demo mode, `till-sandbox` + `till-hub` on loopback.
//! - [`commands`]: the IPC commands, one file per window (`cashier`,
//!   `customer`, `manager`); the capabilities in `tauri.conf.json` give each
//!   window only its own.
//! - [`events`]: engine events to the windows.
//! - [`display`]: what the customer display shows.
//! - [`checkout`]: a page wallet's webview and its callback, caught in-app.
//! - [`views`]: payments and status as the pages receive them.
//! - [`pin`]: the manager PIN (Argon2id) of the window and the command line: the lockout
//!   on disk, sessions with an absolute limit, the recovery code.
//! - [`settings`]: the settings screen's keys of `till.toml`.
//! - [`sound`]: which payment outcome calls for which sound, once each.
//! - [`windows`]: window placement, the manager window.
//!
//! # Invariants
//!
//! - Definition and glue: windows, commands, the CLI, demo mode. Payment logic
//!   is `till-core`'s; nothing here reads a provider's wire format or names a
//!   provider outside configuration (`settings.rs`) and demo mode (`demo.rs`).
//! - Secrets go from Settings to the OS keyring and are never sent back to a
//!   window.
//! - A window shows what the engine says: no state is decided in the UI.

pub mod checkout;
pub mod cli;
pub mod commands;
pub mod demo;
pub mod display;
pub mod events;
pub mod pin;
pub mod settings;
pub mod sound;
pub mod terminal;
pub mod views;
pub mod windows;

use std::path::PathBuf;
use tauri::{Emitter, Manager};

/// Start the app on `home` (default: `$TILL_HOME` or `~/.local/share/till`).
pub fn run(home: Option<PathBuf>) {
    let home = home.unwrap_or_else(till_core::engine::default_home);
    let _log = cli::init_logging(&home);
    let started = std::time::Instant::now();

    tauri::Builder::default()
        // First, so a second launch only brings the running one forward.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            if let Some(w) = app.get_webview_window(windows::CASHIER) {
                let _ = w.unminimize();
                let _ = w.set_focus();
            }
        }))
        .plugin(
            tauri_plugin_window_state::Builder::default()
                .with_denylist(&[checkout::LABEL])
                .build(),
        )
        .invoke_handler(tauri::generate_handler![
            commands::terminal_info,
            commands::terminal_status,
            commands::cashier::charge,
            commands::cashier::cancel,
            commands::cashier::recent,
            commands::cashier::payment,
            commands::cashier::demo_pay,
            commands::cashier::print_receipt,
            commands::cashier::open_manager,
            commands::cashier::close_till,
            commands::customer::customer_state,
            commands::manager::manager_pin_state,
            commands::manager::manager_set_pin,
            commands::manager::manager_unlock,
            commands::manager::manager_lock,
            commands::manager::manager_change_pin,
            commands::manager::manager_reset_pin,
            commands::manager::manager_payments,
            commands::manager::manager_payment,
            commands::manager::manager_refund,
            commands::manager::manager_recheck,
            commands::manager::manager_sync,
            commands::manager::manager_settings,
            commands::manager::manager_save_settings,
            commands::manager::manager_set_secret,
            commands::manager::manager_audit_log,
            commands::manager::manager_test_connection,
            commands::manager::manager_print_receipt,
            commands::manager::manager_test_print,
            commands::manager::manager_today,
            commands::manager::manager_x_report,
            commands::manager::manager_resolve,
            commands::manager::manager_close_day,
            commands::manager::manager_z_report,
            commands::manager::manager_export,
            commands::pos::manager_pos,
            commands::pos::manager_pos_pair,
            commands::pos::manager_pos_revoke,
            commands::pos::manager_pos_approve,
            commands::pos::manager_pos_decline,
        ])
        .setup(move |app| {
            // Not waited for here: the main thread serves the pages their files, so
            // the windows load while the engine opens.
            let terminal = terminal::Terminal::open_in_background(home, app.handle());
            app.manage(terminal.clone());
            windows::open_customer_display(app.handle(), terminal.kiosk());
            if let Some(w) = app.get_webview_window(windows::CASHIER) {
                let _ = w.set_focus();
            }
            tracing::info!(ms = started.elapsed().as_millis() as u64, "app set up");
            Ok(())
        })
        .on_window_event(|window, event| {
            // At a kiosk the counter's windows do not close by accident: closing the
            // cashier's asks for the manager PIN (`commands::cashier::close_till`), the
            // customer display's is refused.
            if let tauri::WindowEvent::CloseRequested { api, .. } = event {
                let label = window.label();
                let kiosk = window
                    .try_state::<terminal::Shared>()
                    .is_some_and(|t| t.kiosk());
                if kiosk && (label == windows::CASHIER || label == windows::CUSTOMER) {
                    api.prevent_close();
                    if label == windows::CASHIER {
                        let _ = window.emit_to(windows::CASHIER, events::CLOSE_REQUESTED, ());
                    }
                }
            }
            if let tauri::WindowEvent::Destroyed = event {
                if window.label() == windows::MANAGER {
                    if let Some(t) = window.try_state::<terminal::Shared>() {
                        t.pin.lock();
                    }
                }
            }
        })
        .build(tauri::generate_context!("../tauri.conf.json"))
        .expect("error while building Till")
        .run(|app, event| {
            if let tauri::RunEvent::Exit = event {
                if let Some(t) = app.try_state::<terminal::Shared>() {
                    tauri::async_runtime::block_on(t.shutdown());
                }
            }
        });
}
