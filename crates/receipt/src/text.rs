//! Text to dots: the bundled Noto fonts, a font per run of characters, shaping
//! (rustybuzz) and outlines rasterised 1-bit (ab_glyph).
//!
//! Why shaping: Bangla conjuncts and pre-base vowel signs (ক্ষ, কি) and Khmer
//! subscript consonants (ខ្មែរ) are only right after OpenType GSUB/GPOS; a glyph
//! per character prints something unreadable.

use ab_glyph::{point, Font as _, FontRef, Glyph, GlyphId, PxScale};

use crate::bitmap::Bitmap;

// Why include_bytes!: a receipt must print on a terminal with no fonts
// installed, and these are the fonts the UI already ships (OFL, ui/fonts/).
pub const LATIN_REGULAR: &[u8] = include_bytes!("../../../ui/fonts/NotoSans-Regular.ttf");
pub const LATIN_BOLD: &[u8] = include_bytes!("../../../ui/fonts/NotoSans-Bold.ttf");
pub const BENGALI_REGULAR: &[u8] = include_bytes!("../../../ui/fonts/NotoSansBengali-Regular.ttf");
pub const BENGALI_BOLD: &[u8] = include_bytes!("../../../ui/fonts/NotoSansBengali-Bold.ttf");
pub const KHMER_REGULAR: &[u8] = include_bytes!("../../../ui/fonts/NotoSansKhmer-Regular.ttf");
pub const KHMER_BOLD: &[u8] = include_bytes!("../../../ui/fonts/NotoSansKhmer-Bold.ttf");

/// Whether text goes through the OpenType shaper. [`Shaping::None`] (one glyph
/// per character, default advances) exists to show what shaping changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Shaping {
    #[default]
    Full,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    Regular,
    Bold,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Latin,
    Bengali,
    Khmer,
}

const FAMILIES: [Family; 3] = [Family::Latin, Family::Bengali, Family::Khmer];

struct Face {
    shaper: rustybuzz::Face<'static>,
    outline: FontRef<'static>,
    units_per_em: f32,
}

impl Face {
    fn load(data: &'static [u8]) -> Face {
        // The fonts are compiled in and parsed in every test: a failure here is
        // a broken build, not a runtime condition.
        let shaper = rustybuzz::Face::from_slice(data, 0).expect("bundled font parses");
        let outline = FontRef::try_from_slice(data).expect("bundled font parses");
        let units_per_em = shaper.units_per_em() as f32;
        Face {
            shaper,
            outline,
            units_per_em,
        }
    }

    fn has(&self, c: char) -> bool {
        self.shaper.glyph_index(c).is_some()
    }
}

/// The six bundled faces, parsed (cheap: tables are read in place).
pub(crate) struct Fonts {
    faces: Vec<Face>,
}

impl Fonts {
    pub(crate) fn load() -> Fonts {
        let faces = [
            LATIN_REGULAR,
            LATIN_BOLD,
            BENGALI_REGULAR,
            BENGALI_BOLD,
            KHMER_REGULAR,
            KHMER_BOLD,
        ]
        .into_iter()
        .map(Face::load)
        .collect();
        Fonts { faces }
    }

    fn index(family: Family, style: Style) -> usize {
        let f = match family {
            Family::Latin => 0,
            Family::Bengali => 2,
            Family::Khmer => 4,
        };
        f + usize::from(style == Style::Bold)
    }

    fn face(&self, family: Family, style: Style) -> &Face {
        &self.faces[Self::index(family, style)]
    }
}

/// The script's own font, for characters that belong to one.
fn script_family(c: char) -> Option<Family> {
    match c as u32 {
        0x0980..=0x09FF => Some(Family::Bengali),
        0x1780..=0x17FF | 0x19E0..=0x19FF => Some(Family::Khmer),
        _ => None,
    }
}

/// Characters that must stay in the run of the character before them: marks
/// and joiners shape with their base, or the cluster breaks apart.
fn sticks_to_previous(c: char) -> bool {
    matches!(c as u32, 0x200C | 0x200D | 0xFE00..=0xFE0F | 0x0300..=0x036F)
}

/// Splits `text` into runs that one font can shape: a script's characters go
/// to its font; common ones (digits, spaces, signs) stay in the current run
/// when its font has them, else the first font that does.
fn runs(fonts: &Fonts, text: &str, style: Style) -> Vec<(Family, std::ops::Range<usize>)> {
    let mut out: Vec<(Family, std::ops::Range<usize>)> = Vec::new();
    for (i, c) in text.char_indices() {
        let end = i + c.len_utf8();
        let current = out.last().map(|(f, _)| *f);
        let family = match (script_family(c), current) {
            (Some(f), _) => f,
            (None, Some(f)) if sticks_to_previous(c) || fonts.face(f, style).has(c) => f,
            _ => FAMILIES
                .into_iter()
                .find(|&f| fonts.face(f, style).has(c))
                .unwrap_or(Family::Latin),
        };
        match out.last_mut() {
            Some((f, range)) if *f == family => range.end = end,
            _ => out.push((family, i..end)),
        }
    }
    out
}

struct Placed {
    face: usize,
    glyph: u16,
    /// Pen position of the glyph's origin, pixels from the line's start.
    x: f32,
    /// Upwards offset from the baseline, pixels.
    y: f32,
}

/// One line of text, shaped and measured, ready to draw.
pub(crate) struct Line {
    glyphs: Vec<Placed>,
    pub(crate) width: f32,
    pub(crate) ascent: f32,
    pub(crate) descent: f32,
    size: f32,
}

pub(crate) fn shape(fonts: &Fonts, text: &str, size: f32, style: Style, shaping: Shaping) -> Line {
    let mut glyphs = Vec::new();
    let mut pen = 0.0f32;
    let (mut ascent, mut descent) = (0.0f32, 0.0f32);
    for (family, range) in runs(fonts, text, style) {
        let index = Fonts::index(family, style);
        let face = &fonts.faces[index];
        let scale = size / face.units_per_em;
        ascent = ascent.max(face.shaper.ascender() as f32 * scale);
        descent = descent.max(-(face.shaper.descender() as f32) * scale);
        let run = &text[range];
        match shaping {
            Shaping::Full => {
                let mut buffer = rustybuzz::UnicodeBuffer::new();
                buffer.push_str(run);
                buffer.guess_segment_properties();
                let shaped = rustybuzz::shape(&face.shaper, &[], buffer);
                for (info, pos) in shaped.glyph_infos().iter().zip(shaped.glyph_positions()) {
                    glyphs.push(Placed {
                        face: index,
                        glyph: info.glyph_id as u16,
                        x: pen + pos.x_offset as f32 * scale,
                        y: pos.y_offset as f32 * scale,
                    });
                    pen += pos.x_advance as f32 * scale;
                }
            }
            Shaping::None => {
                for c in run.chars() {
                    let id = face.shaper.glyph_index(c).unwrap_or_default();
                    glyphs.push(Placed {
                        face: index,
                        glyph: id.0,
                        x: pen,
                        y: 0.0,
                    });
                    pen += face.shaper.glyph_hor_advance(id).unwrap_or(0) as f32 * scale;
                }
            }
        }
    }
    Line {
        glyphs,
        width: pen,
        ascent,
        descent,
        size,
    }
}

/// Draws `line` with its origin at `x`, baseline at `baseline`. A dot is ink
/// when the outline covers at least half of it: thermal heads print no grey.
pub(crate) fn draw(fonts: &Fonts, bitmap: &mut Bitmap, line: &Line, x: f32, baseline: f32) {
    for g in &line.glyphs {
        let face = &fonts.faces[g.face];
        // ab_glyph's PxScale is the font's ascent-to-descent height in pixels;
        // this makes one em `size` pixels, as the shaper's positions assume.
        let px = line.size / face.units_per_em * face.outline.height_unscaled();
        let glyph = Glyph {
            id: GlyphId(g.glyph),
            scale: PxScale::from(px),
            position: point(x + g.x, baseline - g.y),
        };
        if let Some(outlined) = face.outline.outline_glyph(glyph) {
            let bounds = outlined.px_bounds();
            outlined.draw(|dx, dy, coverage| {
                if coverage >= 0.5 {
                    bitmap.set(
                        bounds.min.x as i64 + dx as i64,
                        bounds.min.y as i64 + dy as i64,
                        true,
                    );
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_follow_scripts_and_keep_common_characters_in_place() {
        let fonts = Fonts::load();
        let r = runs(&fonts, "৳ 1,250.50 bKash ៛ 40", Style::Regular);
        let families: Vec<Family> = r.iter().map(|(f, _)| *f).collect();
        // The taka sign opens a Bengali run; its digits and space stay there
        // (Noto Sans Bengali has them), Latin letters switch, the riel sign
        // is Khmer, and Noto Sans Khmer has no Latin digits: back to Latin.
        assert_eq!(
            families,
            vec![Family::Bengali, Family::Latin, Family::Khmer, Family::Latin]
        );
        let texts: Vec<&str> = r
            .iter()
            .map(|(_, range)| &"৳ 1,250.50 bKash ៛ 40"[range.clone()])
            .collect();
        assert_eq!(texts, vec!["৳ 1,250.50 ", "bKash ", "៛ ", "40"]);
    }

    #[test]
    fn shaping_changes_bangla_glyphs() {
        let fonts = Fonts::load();
        let shaped = shape(&fonts, "ক্ষমা", 24.0, Style::Regular, Shaping::Full);
        let plain = shape(&fonts, "ক্ষমা", 24.0, Style::Regular, Shaping::None);
        // ক + ্ + ষ form one conjunct glyph: fewer glyphs than characters.
        assert!(
            shaped.glyphs.len() < plain.glyphs.len(),
            "{} vs {}",
            shaped.glyphs.len(),
            plain.glyphs.len()
        );
    }
}
