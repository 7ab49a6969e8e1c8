//! End-to-end tests of the real Till app, one binary with shared helpers
//! (`till_tests` and [`util`]).
//!
//! Each scenario starts its own Xvfb, `tauri-driver` (which runs
//! `WebKitWebDriver`) and the built app (`target/debug/till`); they take turns,
//! since the app is single-instance. They need xvfb, webkit2gtk-driver and
//! tauri-driver: the README's test command installs them.
//!
//! 1. [`khqr`]: demo mode, a KHQR paid through the sandbox.
//! 2. and 3. [`bkash`]: the checkout page in the customer display's webview.
//! 4. [`manager`]: PIN, reconciliation, a partial refund.
//! 5. [`offline`]: providers and hub stopped and back.
//! 6. [`dayclose`]: X-report, a disagreement resolved, the day closed, the Z-report as PDF.
//! 7. [`nagad`]: the third wallet through the same checkout webview, paid and declined.
//! 8. [`kiosk`]: at a kiosk, closing the window asks for the manager PIN.
//! 9. [`fast`]: a wallet that pays before the charge's answer reaches the window.
//! 10. [`pos`]: the shop's POS through the local API: paired, its charge shown and cancelled at the till, a refund approved.

mod bkash;
mod dayclose;
mod fast;
mod khqr;
mod kiosk;
mod manager;
mod nagad;
mod offline;
mod pos;
mod util;
