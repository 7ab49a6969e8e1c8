//! End-to-end tests of the real Till window, one binary with shared helpers (`till_tests`).
//!
//! Each test starts its own Xvfb, `tauri-driver` and the built app (`target/debug/till`), so
//! they need: xvfb, webkit2gtk-driver, tauri-driver. The README's test command installs them.

mod khqr_slice;
