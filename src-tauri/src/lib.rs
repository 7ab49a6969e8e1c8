//! Till desktop shell — definition and glue, nothing else.
//!
//! Layout:
//! - [`cli`]: the headless command line (`till charge|status|cancel|refund|list|recover|secret`).
//! - [`config`]: the terminal's configuration file (shop and KHQR merchant profile).
//! - [`money`]: keyed-amount parsing for the cashier (exact decimals, per-currency exponent).
//! - [`commands`]: the IPC commands each window may call (see the capabilities in
//!   `tauri.conf.json`: every window is allowed only its own commands).
//! - [`display`]: what the customer display shows, kept in one place so a display window
//!   that (re)loads late can ask for the current state.
//! - [`windows`]: window placement (customer display on a second monitor).

pub mod cli;
pub mod commands;
pub mod config;
pub mod display;
pub mod money;
pub mod windows;

use tauri::Manager;

/// Start the app: load the configuration, register the commands, place the windows.
pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,till_app=debug".into()),
        )
        .init();

    let config = match config::Config::load() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("till: {e:#}");
            std::process::exit(2);
        }
    };
    tracing::info!(source = %config.source, "configuration loaded");

    tauri::Builder::default()
        .manage(commands::AppState::new(config))
        .invoke_handler(tauri::generate_handler![
            commands::show_khqr,
            commands::clear_customer,
            commands::customer_state,
            commands::terminal_info,
        ])
        .setup(|app| {
            windows::place_customer_display(app.handle());
            if let Some(w) = app.get_webview_window(windows::CASHIER) {
                let _ = w.set_focus();
            }
            Ok(())
        })
        .run(tauri::generate_context!("../tauri.conf.json"))
        .expect("error while running Till");
}
