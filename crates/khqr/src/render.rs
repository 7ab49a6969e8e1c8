//! Drawing a KHQR string as a QR symbol: SVG text or PNG bytes, in memory.
//!
//! * **Payload**: the KHQR string's UTF-8 bytes, exactly as the MD5 was
//!   computed over them (Khmer text included), in one byte-mode segment
//!   (never Kanji mode, see [`matrix`]). No ECI header is added: the SDK
//!   ecosystem's renderers do not write one and payer apps read UTF-8.
//! * **Error correction**: level **M** (~15 % recovery). Neither the KHQR
//!   documents we have nor the SDK fix a level (the SDK does not draw);
//!   M keeps the symbol small enough for a counter display while
//!   tolerating glare and scratches. See [`EC_LEVEL`].
//! * **Quiet zone**: 4 modules of white on every side ([`QUIET_ZONE`]).
//! * **Crispness**: every module is a whole number of pixels; the output is
//!   the smallest such size that is at least `size_px` wide.

use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, ImageEncoder};
use qrcode::bits::Bits;
use qrcode::types::QrError;
use qrcode::{Color, EcLevel, QrCode, Version};

use crate::error::RenderError;

/// The error-correction level used for every symbol.
pub const EC_LEVEL: EcLevel = EcLevel::M;
/// White border, in modules, on each side.
pub const QUIET_ZONE: usize = 4;
/// Largest image edge accepted, in pixels.
pub const MAX_SIZE_PX: u32 = 8192;

/// The module grid of the symbol for `qr`, quiet zone included:
/// `(edge, cells)` with `cells[y * edge + x] == true` for a dark module.
pub fn matrix(qr: &str) -> Result<(usize, Vec<bool>), RenderError> {
    let code = symbol(qr.as_bytes())?;
    let w = code.width();
    let edge = w + 2 * QUIET_ZONE;
    let mut cells = vec![false; edge * edge];
    for (i, c) in code.to_colors().into_iter().enumerate() {
        if c == Color::Dark {
            let (x, y) = (i % w, i / w);
            cells[(y + QUIET_ZONE) * edge + x + QUIET_ZONE] = true;
        }
    }
    Ok((edge, cells))
}

/// The smallest symbol holding `data` as a single **byte-mode** segment.
///
/// Automatic segmentation is avoided on purpose: it may pick Kanji mode for
/// UTF-8 byte pairs that happen to look like Shift JIS (Khmer text does),
/// and a scanner then turns them into kanji, breaking the string and its
/// CRC. Byte mode keeps the bytes as they are.
fn symbol(data: &[u8]) -> Result<QrCode, RenderError> {
    let mut last = QrError::DataTooLong;
    for v in 1..=40 {
        let mut bits = Bits::new(Version::Normal(v));
        match bits
            .push_byte_data(data)
            .and_then(|()| bits.push_terminator(EC_LEVEL))
        {
            Ok(()) => return Ok(QrCode::with_bits(bits, EC_LEVEL)?),
            Err(e) => last = e,
        }
    }
    Err(last.into())
}

/// Pixels per module so that the image is at least `size_px` wide.
fn module_px(edge: usize, size_px: u32) -> Result<u32, RenderError> {
    if size_px > MAX_SIZE_PX {
        return Err(RenderError::TooLarge {
            size_px,
            max: MAX_SIZE_PX,
        });
    }
    let edge = edge as u32;
    Ok(size_px.div_ceil(edge).max(1))
}

/// SVG with `width`/`height` in pixels (at least `size_px`, a whole number
/// of pixels per module) and a `viewBox` in module units.
///
/// The markup is self-contained (no XML prolog, no external references) so
/// it can be inlined into an HTML page. It scales cleanly: CSS `width` /
/// `height` on the `<svg>` override the attributes, and
/// `shape-rendering="crispEdges"` keeps module edges sharp. For a
/// container-filling variant use [`render_svg_fluid`].
pub fn render_svg(qr: &str, size_px: u32) -> Result<String, RenderError> {
    let (edge, cells) = matrix(qr)?;
    let px = module_px(edge, size_px)? * edge as u32;
    let size = px.to_string();
    Ok(svg(edge, &cells, &size))
}

/// Like [`render_svg`] but with `width="100%" height="100%"`: the symbol
/// fills its container (keeping its aspect ratio, centred).
pub fn render_svg_fluid(qr: &str) -> Result<String, RenderError> {
    let (edge, cells) = matrix(qr)?;
    Ok(svg(edge, &cells, "100%"))
}

fn svg(edge: usize, cells: &[bool], size: &str) -> String {
    let mut path = String::with_capacity(edge * edge);
    for y in 0..edge {
        let row = &cells[y * edge..(y + 1) * edge];
        let mut x = 0;
        while x < edge {
            if row[x] {
                let start = x;
                while x < edge && row[x] {
                    x += 1;
                }
                let run = x - start;
                path.push_str(&format!("M{start},{y}h{run}v1h-{run}z"));
            } else {
                x += 1;
            }
        }
    }
    format!(
        concat!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{size}\" height=\"{size}\" ",
            "viewBox=\"0 0 {edge} {edge}\" shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"KHQR payment code\">",
            "<rect width=\"{edge}\" height=\"{edge}\" fill=\"#ffffff\"/>",
            "<path fill=\"#000000\" d=\"{path}\"/></svg>"
        ),
        size = size,
        edge = edge,
        path = path
    )
}

/// 8-bit greyscale PNG, at least `size_px` wide, a whole number of pixels
/// per module, black on white with the quiet zone.
pub fn render_png(qr: &str, size_px: u32) -> Result<Vec<u8>, RenderError> {
    let (edge, cells) = matrix(qr)?;
    let m = module_px(edge, size_px)? as usize;
    let px = edge * m;
    let mut buf = vec![255u8; px * px];
    for y in 0..edge {
        for x in 0..edge {
            if cells[y * edge + x] {
                for dy in 0..m {
                    let row = (y * m + dy) * px + x * m;
                    buf[row..row + m].fill(0);
                }
            }
        }
    }
    let mut out = Vec::new();
    PngEncoder::new(&mut out).write_image(&buf, px as u32, px as u32, ExtendedColorType::L8)?;
    Ok(out)
}
