//! Layout: a [`Document`] drawn top to bottom into a [`Bitmap`] of the paper's width.

use crate::bitmap::{Bitmap, Width};
use crate::document::{Document, Kind, Receipt, Report};
use crate::text::{self, Fonts, Shaping, Style};

/// Text sizes in dots (203 dpi: 24 dots ≈ 3 mm, the printers' own font B-ish).
const BODY: f32 = 24.0;
const SMALL: f32 = 20.0;
const TITLE: f32 = 32.0;
const AMOUNT: f32 = 44.0;
/// Left and right margin: heads print to the edge, paper guides wander ~1 mm.
const MARGIN: u32 = 8;

/// Draws `document` for paper of `width`, shaped (what a printer should get).
pub fn render(document: Document<'_>, width: Width) -> Bitmap {
    render_with(document, width, Shaping::Full)
}

/// [`render`] with the shaping chosen ([`Shaping::None`] to compare).
pub fn render_with(document: Document<'_>, width: Width, shaping: Shaping) -> Bitmap {
    let mut canvas = Canvas::new(width, shaping);
    match document {
        Document::Receipt(r) => receipt(&mut canvas, r),
        Document::Report(r) => report(&mut canvas, r),
    }
    canvas.finish()
}

fn receipt(c: &mut Canvas, r: &Receipt) {
    c.text(&r.shop_name, TITLE, Style::Bold, Align::Center);
    c.text(&r.address_line, SMALL, Style::Regular, Align::Center);
    if r.copy {
        c.gap(6);
        c.banner(&r.labels.copy, BODY);
    }
    c.rule();
    c.text(&r.when, SMALL, Style::Regular, Align::Left);
    c.row(&r.labels.terminal, &r.terminal, SMALL);
    c.rule();
    c.text(&r.amount, AMOUNT, Style::Bold, Align::Center);
    match r.kind {
        Kind::Sale => c.text(&r.status, TITLE, Style::Bold, Align::Center),
        Kind::Refund => c.banner(&r.status, TITLE),
    }
    c.rule();
    c.row(&r.labels.wallet, &r.wallet, BODY);
    c.row(&r.reference_label, &r.reference, BODY);
    c.row(&r.labels.invoice, &r.invoice, BODY);
    c.gap(10);
    c.qr(&r.reference);
    if r.copy {
        c.gap(6);
        c.banner(&r.labels.copy, BODY);
    }
}

fn report(c: &mut Canvas, r: &Report) {
    c.text(&r.title, TITLE, Style::Bold, Align::Center);
    for line in &r.heading {
        c.text(line, SMALL, Style::Regular, Align::Center);
    }
    c.rule();
    for line in &r.lines {
        if line.label.is_empty() && line.value.is_empty() {
            c.rule();
        } else {
            c.row(&line.label, &line.value, BODY);
        }
    }
    c.rule();
}

#[derive(Clone, Copy)]
enum Align {
    Left,
    Center,
    Right,
}

struct Canvas {
    bitmap: Bitmap,
    fonts: Fonts,
    shaping: Shaping,
    /// Next free row.
    y: u32,
}

impl Canvas {
    fn new(width: Width, shaping: Shaping) -> Self {
        Canvas {
            bitmap: Bitmap::new(width.dots(), 0),
            fonts: Fonts::load(),
            shaping,
            y: MARGIN,
        }
    }

    fn inner(&self) -> f32 {
        (self.bitmap.width() - 2 * MARGIN) as f32
    }

    /// Makes sure rows up to `y` exist.
    fn reserve(&mut self, y: u32) {
        if y > self.bitmap.height() {
            self.bitmap.set_height(y + 256);
        }
    }

    fn gap(&mut self, rows: u32) {
        self.y += rows;
    }

    /// One shaped line at the current row; returns the rows it took.
    fn line(&mut self, line: &text::Line, align: Align) -> u32 {
        let ascent = line.ascent.ceil() as u32;
        let height = ascent + line.descent.ceil() as u32;
        self.reserve(self.y + height);
        let x = MARGIN as f32
            + match align {
                Align::Left => 0.0,
                Align::Center => ((self.inner() - line.width) / 2.0).max(0.0),
                Align::Right => (self.inner() - line.width).max(0.0),
            };
        text::draw(
            &self.fonts,
            &mut self.bitmap,
            line,
            x.round(),
            (self.y + ascent) as f32,
        );
        self.y += height;
        height
    }

    /// `s` wrapped to the paper's width.
    fn text(&mut self, s: &str, size: f32, style: Style, align: Align) {
        for piece in self.wrap(s, size, style, self.inner()) {
            let line = text::shape(&self.fonts, &piece, size, style, self.shaping);
            self.line(&line, align);
        }
    }

    /// Label on the left, value on the right; when both do not fit on one
    /// line, the label, then the value wrapped and right-aligned below it.
    fn row(&mut self, label: &str, value: &str, size: f32) {
        let l = text::shape(&self.fonts, label, size, Style::Regular, self.shaping);
        let v = text::shape(&self.fonts, value, size, Style::Bold, self.shaping);
        if l.width + v.width + size <= self.inner() {
            // One baseline for both halves, below the taller font's ascent
            // (Bangla's is higher than Latin's).
            let (ascent, descent) = (
                l.ascent.max(v.ascent).ceil() as u32,
                l.descent.max(v.descent).ceil() as u32,
            );
            self.reserve(self.y + ascent + descent);
            let baseline = (self.y + ascent) as f32;
            text::draw(&self.fonts, &mut self.bitmap, &l, MARGIN as f32, baseline);
            let x = (MARGIN as f32 + self.inner() - v.width).round();
            text::draw(&self.fonts, &mut self.bitmap, &v, x, baseline);
            self.y += ascent + descent;
        } else {
            self.line(&l, Align::Left);
            self.text(value, size, Style::Bold, Align::Right);
        }
    }

    /// Greedy wrapping at spaces (and zero-width spaces, Khmer's word
    /// breaks); a word wider than the line is cut between characters (long
    /// references such as a 64-digit Bakong hash).
    fn wrap(&self, s: &str, size: f32, style: Style, max: f32) -> Vec<String> {
        let fits = |t: &str| text::shape(&self.fonts, t, size, style, self.shaping).width <= max;
        let mut lines = Vec::new();
        let mut current = String::new();
        for word in s.split_inclusive([' ', '\u{200B}']) {
            let candidate = format!("{current}{word}");
            if fits(candidate.trim_end()) {
                current = candidate;
                continue;
            }
            if !current.is_empty() {
                lines.push(current.trim_end().to_string());
                current.clear();
            }
            if fits(word.trim_end()) {
                current = word.to_string();
                continue;
            }
            for ch in word.chars() {
                let candidate = format!("{current}{ch}");
                if !current.is_empty() && !fits(candidate.trim_end()) {
                    lines.push(std::mem::take(&mut current));
                    current.push(ch);
                } else {
                    current = candidate;
                }
            }
        }
        if !current.trim_end().is_empty() || lines.is_empty() {
            lines.push(current.trim_end().to_string());
        }
        lines
    }

    /// A dashed rule across the paper, with space around it.
    fn rule(&mut self) {
        self.gap(8);
        self.reserve(self.y + 2);
        let mut x = MARGIN;
        while x < self.bitmap.width() - MARGIN {
            self.bitmap.fill(x as i64, self.y as i64, 6, 2, true);
            x += 10;
        }
        self.y += 2 + 8;
    }

    /// White text on a black band across the paper.
    fn banner(&mut self, s: &str, size: f32) {
        let top = self.y;
        self.gap(4);
        self.text(s, size, Style::Bold, Align::Center);
        self.gap(4);
        self.reserve(self.y);
        let w = self.bitmap.width();
        self.bitmap.invert(0, top, w, self.y - top);
    }

    /// A QR code of `data`, centred, about half the paper wide, with the
    /// four-module quiet zone scanners need. Nothing when `data` is empty or
    /// too long for a QR code.
    fn qr(&mut self, data: &str) {
        if data.is_empty() {
            return;
        }
        let Ok(code) = qrcode::QrCode::with_error_correction_level(data, qrcode::EcLevel::M) else {
            return;
        };
        let modules = code.width() as u32;
        let quiet = 4;
        // Whole dots per module: scaled QR codes with uneven modules scan badly.
        let scale = ((self.bitmap.width() / 2) / (modules + 2 * quiet)).clamp(2, 8);
        let side = (modules + 2 * quiet) * scale;
        self.reserve(self.y + side);
        let left = (self.bitmap.width() - side) / 2 + quiet * scale;
        let top = self.y + quiet * scale;
        let colors = code.to_colors();
        for my in 0..modules {
            for mx in 0..modules {
                if colors[(my * modules + mx) as usize] == qrcode::Color::Dark {
                    self.bitmap.fill(
                        (left + mx * scale) as i64,
                        (top + my * scale) as i64,
                        scale,
                        scale,
                        true,
                    );
                }
            }
        }
        self.y += side;
    }

    fn finish(mut self) -> Bitmap {
        self.bitmap.set_height(self.y + MARGIN);
        self.bitmap
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::ReportLine;

    #[test]
    fn wrapping_keeps_every_character_and_fits_the_paper() {
        let canvas = Canvas::new(Width::Mm58, Shaping::Full);
        let hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        let text = format!("Bakong hash {hash} ধানমন্ডি রোড ৫");
        let lines = canvas.wrap(&text, BODY, Style::Bold, canvas.inner());
        assert!(lines.len() >= 3, "{lines:?}");
        for line in &lines {
            let width = text::shape(&canvas.fonts, line, BODY, Style::Bold, Shaping::Full).width;
            assert!(width <= canvas.inner(), "{line:?} is {width} dots wide");
        }
        let joined: String = lines
            .concat()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let original: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        assert_eq!(joined, original);
    }

    #[test]
    fn paper_width_is_kept_and_taller_for_more_lines() {
        let short = Report {
            title: "X".into(),
            heading: vec![],
            lines: vec![ReportLine::new("a", "1")],
        };
        let long = Report {
            lines: vec![ReportLine::new("a", "1"); 10],
            ..short.clone()
        };
        for width in [Width::Mm58, Width::Mm80] {
            let a = render(Document::Report(&short), width);
            let b = render(Document::Report(&long), width);
            assert_eq!((a.width(), b.width()), (width.dots(), width.dots()));
            assert!(b.height() > a.height());
        }
    }
}
