//! Windows: the cashier's, the customer display (on a second monitor when
//! there is one, fullscreen with `display.kiosk`), the manager's (opened on
//! demand) and a wallet's checkout page (see [`crate::checkout`]).
//!
//! The cashier's window is made from `tauri.conf.json`; the customer display and the
//! manager's are made here, each as a *related view* of the cashier's, so that WebKit
//! runs all three of our own pages in one web process. Each view has a web process of its
//! own otherwise: with two, the app measured 274–408 MiB PSS (issue 17); a web process is
//! 130–160 MiB of it. A wallet's checkout page (someone else's site) keeps a process of
//! its own.

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

/// Open the customer display beside the cashier's window (in its web process), then
/// place it. Called once, at start.
pub fn open_customer_display(app: &AppHandle, kiosk: bool) {
    let handle = app.clone();
    beside_cashier(app, CUSTOMER, move |builder| {
        let built = builder
            .title("Till — Customer display")
            .inner_size(800.0, 720.0)
            .position(1040.0, 0.0)
            .focused(false)
            .build();
        match built {
            Ok(_) => {
                tracing::info!("customer display made");
                place_customer_display(&handle, kiosk)
            }
            Err(e) => tracing::error!(error = %e, "cannot open the customer display"),
        }
    });
}

/// Open the manager window, or bring it forward. It is built on the main thread, later: a
/// failure to build it is logged there.
pub fn open_manager(app: &AppHandle) {
    if let Some(w) = app.get_webview_window(MANAGER) {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
        return;
    }
    beside_cashier(app, MANAGER, |builder| {
        let built = builder
            .title("Till — Manager")
            .inner_size(1180.0, 820.0)
            .min_inner_size(760.0, 560.0)
            .focused(true)
            .build();
        if let Err(e) = built {
            tracing::error!(error = %e, "cannot open the manager window");
        }
    });
}

type Builder<'a> = WebviewWindowBuilder<'a, tauri::Wry, AppHandle>;

/// Make window `label` (page `<label>.html`) with `finish`, related to the cashier's view so
/// that it shares its web process. The cashier's view is reached on the main thread (that is
/// where `with_webview` runs), so the window is built there too. Without a cashier window
/// (it failed to open) the window is made on its own.
fn beside_cashier(
    app: &AppHandle,
    label: &'static str,
    finish: impl FnOnce(Builder<'_>) + Send + 'static,
) {
    let page = WebviewUrl::App(format!("{label}.html").into());
    let Some(cashier) = app.get_webview_window(CASHIER) else {
        finish(WebviewWindowBuilder::new(app, label, page));
        return;
    };
    let handle = app.clone();
    let dispatched = cashier.with_webview(move |view| {
        let builder = WebviewWindowBuilder::new(&handle, label, page);
        #[cfg(target_os = "linux")]
        let builder = if own_process_per_window() {
            builder
        } else {
            builder.with_related_view(view.inner())
        };
        #[cfg(not(target_os = "linux"))]
        let _ = view;
        finish(builder);
    });
    if let Err(e) = dispatched {
        tracing::error!(error = %e, label, "cannot reach the cashier's view to open a window beside it");
    }
}

/// `TILL_WEB_PROCESS_PER_WINDOW=1`: every window in a web process of its own, as before the
/// windows were related; for the footprint benchmark's comparison (and a way out should a
/// WebKit version misbehave with shared processes).
fn own_process_per_window() -> bool {
    std::env::var("TILL_WEB_PROCESS_PER_WINDOW").is_ok_and(|v| v == "1")
}

/// WebKit's settings of the app's own choosing, before WebKit starts: [`choose_compositing`]
/// and [`choose_script_tiers`]. Call before any thread starts: they write the environment.
pub fn tune_webkit() {
    choose_compositing();
    choose_script_tiers();
}

/// JavaScriptCore without its optimizing tiers (DFG, and FTL above it): our pages run a few
/// functions per charge, which the baseline JIT runs well; the optimizing compilers paged
/// ~5 MiB more of the JavaScriptCore library into the web process over the first 100
/// payments, with no charge → QR time gained (issue 17's benchmark: p95 45 ms with them
/// off, 46 ms on). The wallets' checkout pages run under the same setting. Set
/// `JSC_useDFGJIT` yourself to choose otherwise.
fn choose_script_tiers() {
    const DFG: &str = "JSC_useDFGJIT";
    if std::env::var_os(DFG).is_none() {
        // Single-threaded here, as in `choose_compositing`.
        std::env::set_var(DFG, "false");
    }
}

/// WebKit's accelerated compositing only where a GPU can do it. Without one (no DRM render
/// node: a counter PC on its CPU's basic graphics, a VM, Xvfb) WebKit composits with
/// Mesa's software GL: the benchmark measured 370 MiB PSS for the app with it and 239 MiB
/// without (release, cashier + customer display open; issue 17), with the same screen on
/// the X display. With compositing off, GTK's own OpenGL is off too (`GDK_GL=disable`):
/// GDK probes GLX as it opens the X display (Mesa's driver, LLVM and all, loaded on the
/// main thread before the first window), and windows drawn without compositing never use
/// it. A setting the user made (either variable set at all) is left alone; WebKit reads
/// any value but `0` as "off".
fn choose_compositing() {
    const COMPOSITING: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";
    // Single-threaded here (the first thing `main` does for the app), so no other thread
    // reads the environment while it changes.
    if std::env::var_os(COMPOSITING).is_none() && !has_render_node() {
        std::env::set_var(COMPOSITING, "1");
    }
    let off = std::env::var(COMPOSITING).is_ok_and(|v| v != "0");
    if off && std::env::var_os("GDK_GL").is_none() {
        std::env::set_var("GDK_GL", "disable");
    }
}

/// Whether a GPU's DRM render node (`/dev/dri/renderD*`) is there.
fn has_render_node() -> bool {
    std::fs::read_dir("/dev/dri")
        .map(|dir| {
            dir.flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("renderD"))
        })
        .unwrap_or(false)
}
