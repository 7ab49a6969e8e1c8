//! What the customer display shows. The cashier's commands change it; the display window
//! renders it. It is kept here (not only sent as an event) so a display window that loads or
//! reloads late still shows the charge in progress.

use serde::Serialize;

pub const EVENT: &str = "display://changed";

#[derive(Debug, Clone, Serialize, Default)]
#[serde(tag = "screen", rename_all = "snake_case")]
pub enum DisplayState {
    /// The shop's name, calm.
    #[default]
    Idle,
    /// A KHQR code waiting to be scanned.
    Khqr(KhqrScreen),
}

#[derive(Debug, Clone, Serialize)]
pub struct KhqrScreen {
    /// The exact string drawn in the code (what the customer's bank app reads).
    pub qr: String,
    /// Bakong's tracking key for this code.
    pub md5: String,
    /// The code as SVG, scaled by the page to the largest size the screen allows.
    pub svg: String,
    /// "៛ 40,000" / "$ 12.50".
    pub amount_display: String,
    /// "40000" / "12.50": the exact amount in the code.
    pub amount: String,
    pub currency: &'static str,
    pub created_ms: u64,
    pub expires_ms: u64,
}
