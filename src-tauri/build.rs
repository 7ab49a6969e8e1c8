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
            "show_khqr",
            "clear_customer",
            "customer_state",
            "terminal_info",
        ]),
    ))
    .expect("tauri-build failed");
}
