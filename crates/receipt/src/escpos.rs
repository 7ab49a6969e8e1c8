//! ESC/POS bytes for a [`Bitmap`]: initialise, raster image in bands, feed, cut.

use crate::bitmap::Bitmap;

/// Rows per `GS v 0` band. Why bands: many 58 mm printers have a small receive
/// buffer and misprint (or drop) one raster command of a whole receipt; 255
/// rows also keeps `yH` zero, which some clones mishandle.
pub const BAND_ROWS: u32 = 255;

/// Lines fed after the image so the last row clears the cutter.
pub const FEED_LINES: u8 = 4;

const ESC: u8 = 0x1B;
const GS: u8 = 0x1D;

/// `ESC @`, the bitmap as `GS v 0` bands of at most [`BAND_ROWS`] rows,
/// `ESC d` [`FEED_LINES`], partial cut `GS V 1`.
pub fn encode(bitmap: &Bitmap) -> Vec<u8> {
    let bytes_per_row = bitmap.width().div_ceil(8);
    let mut out = Vec::with_capacity((bytes_per_row * bitmap.height()) as usize + 64);
    out.extend_from_slice(&[ESC, b'@']);
    let mut top = 0;
    while top < bitmap.height() {
        let rows = BAND_ROWS.min(bitmap.height() - top);
        // GS v 0 m xL xH yL yH: m = 0 (normal density); x counts bytes, y rows.
        out.extend_from_slice(&[GS, b'v', b'0', 0]);
        out.extend_from_slice(&(bytes_per_row as u16).to_le_bytes());
        out.extend_from_slice(&(rows as u16).to_le_bytes());
        for y in top..top + rows {
            for bx in 0..bytes_per_row {
                let mut byte = 0u8;
                for bit in 0..8 {
                    // Most significant bit is the leftmost dot.
                    if bitmap.get(bx * 8 + bit, y) {
                        byte |= 0x80 >> bit;
                    }
                }
                out.push(byte);
            }
        }
        top += rows;
    }
    out.extend_from_slice(&[ESC, b'd', FEED_LINES]);
    out.extend_from_slice(&[GS, b'V', 1]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_and_bit_order() {
        let mut b = Bitmap::new(16, 300);
        b.set(0, 0, true);
        b.set(9, 299, true);
        let out = encode(&b);
        assert_eq!(&out[..2], &[ESC, b'@']);
        // First band: 255 rows of 2 bytes.
        assert_eq!(&out[2..10], &[GS, b'v', b'0', 0, 2, 0, 255, 0]);
        assert_eq!(out[10], 0x80);
        let second = 10 + 2 * 255;
        assert_eq!(&out[second..second + 8], &[GS, b'v', b'0', 0, 2, 0, 45, 0]);
        let last_row = second + 8 + 2 * 44;
        assert_eq!(&out[last_row..last_row + 2], &[0x00, 0x40]);
        assert_eq!(&out[out.len() - 6..], &[ESC, b'd', FEED_LINES, GS, b'V', 1]);
    }
}
