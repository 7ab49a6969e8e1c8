//! A 1-bit image as the printer sees it: rows of dots, `true` is ink.

/// Paper width of a thermal printer, in dots of its 203 dpi head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Width {
    /// 58 mm paper: 384 printable dots.
    Mm58,
    /// 80 mm paper: 576 printable dots.
    Mm80,
}

impl Width {
    /// Printable dots across; a multiple of 8, as `GS v 0` counts bytes.
    pub fn dots(self) -> u32 {
        match self {
            Width::Mm58 => 384,
            Width::Mm80 => 576,
        }
    }
}

/// A 1-bit bitmap, one `bool` per dot (`true` = black). Kept unpacked: it is
/// small (576 × ~1500 dots) and drawing into it is simpler; `escpos` packs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitmap {
    width: u32,
    height: u32,
    dots: Vec<bool>,
}

impl Bitmap {
    /// A white bitmap.
    pub fn new(width: u32, height: u32) -> Self {
        Bitmap {
            width,
            height,
            dots: vec![false; (width * height) as usize],
        }
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    /// Whether the dot at (x, y) is black; outside the bitmap is white.
    pub fn get(&self, x: u32, y: u32) -> bool {
        x < self.width && y < self.height && self.dots[(y * self.width + x) as usize]
    }

    /// Sets one dot; outside the bitmap is ignored (glyphs may overhang a margin).
    pub fn set(&mut self, x: i64, y: i64, ink: bool) {
        if x >= 0 && y >= 0 && (x as u64) < self.width as u64 && (y as u64) < self.height as u64 {
            self.dots[(y as u32 * self.width + x as u32) as usize] = ink;
        }
    }

    /// Fills a rectangle (clipped) with ink or white.
    pub fn fill(&mut self, x: i64, y: i64, w: u32, h: u32, ink: bool) {
        for yy in y..y + h as i64 {
            for xx in x..x + w as i64 {
                self.set(xx, yy, ink);
            }
        }
    }

    /// Flips every dot of a rectangle: white text on a black band.
    pub fn invert(&mut self, x: u32, y: u32, w: u32, h: u32) {
        for yy in y..(y + h).min(self.height) {
            for xx in x..(x + w).min(self.width) {
                let i = (yy * self.width + xx) as usize;
                self.dots[i] = !self.dots[i];
            }
        }
    }

    /// Makes the bitmap `height` rows tall: cut, or grown with white rows
    /// (layout does not know the height until it is done).
    pub fn set_height(&mut self, height: u32) {
        self.height = height;
        self.dots.resize((self.width * height) as usize, false);
    }

    /// Number of black dots in rows `ys` (tests and checks: "is there ink here?").
    pub fn ink_in_rows(&self, ys: std::ops::Range<u32>) -> usize {
        ys.filter(|&y| y < self.height)
            .map(|y| (0..self.width).filter(|&x| self.get(x, y)).count())
            .sum()
    }
}
