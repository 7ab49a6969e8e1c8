//! Receipts and X/Z reports for 58 mm and 80 mm ESC/POS thermal printers.
//!
//! Bangla and Khmer are in no printer's built-in font, so every document is
//! drawn as one 1-bit image from the Noto fonts the UI bundles (shaped with
//! rustybuzz, a font per run of characters), printed with `GS v 0`.
//!
//! ```no_run
//! use till_receipt::{escpos, render, Document, Printer, Report, ReportLine, Width};
//!
//! let report = Report {
//!     title: "X report".into(),
//!     heading: vec!["Dhaka Tea House · T1".into()],
//!     lines: vec![ReportLine::new("bKash", "৳ 12,400.00")],
//! };
//! let bitmap = render(Document::Report(&report), Width::Mm58);
//! let bytes = escpos::encode(&bitmap);
//! Printer::network("192.168.1.50:9100".parse().unwrap()).print(&bytes)?;
//! # Ok::<(), till_receipt::PrintError>(())
//! ```
//!
//! # Layout
//!
//! * [`document`] — what is printed: [`Receipt`] (sale, refund, reprint
//!   copy), [`Report`], [`Document`].
//! * [`render`](mod@render) — layout into a [`Bitmap`] of the paper's
//!   [`Width`]: wrapping, label/value rows, banners, the reference's QR code.
//! * `text` (private) — the bundled fonts, per-run font choice, shaping,
//!   1-bit rasterising; [`Shaping`] to switch the shaper off for comparison.
//! * [`bitmap`] — [`Bitmap`] and [`Width`] (384 / 576 dots).
//! * [`escpos`] — [`escpos::encode`]: `ESC @`, `GS v 0` bands, feed, partial cut.
//! * [`printer`] — [`Printer`] (TCP 9100 or a device file), [`Status`]
//!   (`DLE EOT 4`), [`PrintError`].
//!
//! # Invariants
//!
//! * Does not depend on `till-core` (nor Tauri): the engine calls it, not the
//!   other way round.
//! * Does no translation and no formatting of dates or amounts: every word
//!   arrives in the receipt's language.
//! * Rendering is pure (no I/O, no clock); only [`printer`] touches the
//!   network or devices.
//! * A print failure is returned as a [`PrintError`], never a panic; a
//!   printer that does not answer the status query is not a failure.
//! * Paper out is checked before the first byte of a document is sent.

pub mod bitmap;
pub mod document;
pub mod escpos;
pub mod printer;
pub mod render;
mod text;

/// The bundled Noto faces (OFL, `ui/fonts/`), compiled in here once for every
/// user of them (the day reports' PDFs too).
pub mod fonts {
    pub use crate::text::{
        BENGALI_BOLD, BENGALI_REGULAR, KHMER_BOLD, KHMER_REGULAR, LATIN_BOLD, LATIN_REGULAR,
    };
}

pub use bitmap::{Bitmap, Width};
pub use document::{Document, Kind, Labels, Receipt, Report, ReportLine};
pub use printer::{PrintError, Printer, Status, Target};
pub use render::{render, render_with};
pub use text::Shaping;
