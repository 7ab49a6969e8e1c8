//! Tauri code generation. The Tauri config lives at the workspace root
//! (`../tauri.conf.json`, beside `ui/`), so run tauri-build from there.

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("src-tauri sits inside the workspace")
        .to_path_buf();
    println!(
        "cargo:rerun-if-changed={}",
        root.join("tauri.conf.json").display()
    );
    println!("cargo:rerun-if-changed={}", root.join("ui").display());
    std::env::set_current_dir(&root).expect("enter the workspace root");
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(
        tauri_build::AppManifest::new().commands(&[
            "terminal_info",
            "terminal_status",
            "charge",
            "cancel",
            "recent",
            "payment",
            "demo_pay",
            "print_receipt",
            "open_manager",
            "close_till",
            "customer_state",
            "manager_pin_state",
            "manager_set_pin",
            "manager_unlock",
            "manager_lock",
            "manager_change_pin",
            "manager_reset_pin",
            "manager_payments",
            "manager_payment",
            "manager_refund",
            "manager_recheck",
            "manager_sync",
            "manager_settings",
            "manager_save_settings",
            "manager_set_secret",
            "manager_audit_log",
            "manager_test_connection",
            "manager_print_receipt",
            "manager_test_print",
            "manager_today",
            "manager_x_report",
            "manager_resolve",
            "manager_close_day",
            "manager_z_report",
            "manager_export",
            "manager_pos",
            "manager_pos_pair",
            "manager_pos_revoke",
            "manager_pos_approve",
            "manager_pos_decline",
        ]),
    ))
    .expect("tauri-build failed");
}
