//! Text for the PDFs in any of the shop's scripts: Latin, Bangla, Khmer, and the
//! taka and riel signs, from the Noto Sans fonts the windows use (`ui/fonts/`).
//!
//! Why shaping: Bangla and Khmer are not one glyph per character — conjuncts,
//! vowel signs placed before or around the consonant, stacked marks. `rustybuzz`
//! (HarfBuzz's shaping in Rust) turns each run of text into the font's glyphs and
//! their positions. Why subsetting: the four faces weigh 1.3 MB; a day's report uses
//! a few hundred glyphs, so each face is embedded cut down to those (`subsetter`),
//! and a report stays tens of kilobytes. Text stays extractable: every glyph is
//! mapped back to the characters it was made from (the PDF's ToUnicode map).

use std::collections::BTreeMap;

// The faces are till-receipt's (compiled in once, for receipts and PDFs alike).
use till_receipt::fonts::{
    BENGALI_BOLD, BENGALI_REGULAR as BENGALI, KHMER_BOLD, KHMER_REGULAR as KHMER, LATIN_BOLD,
    LATIN_REGULAR as LATIN,
};

/// One of the six faces, by script and weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaceId {
    Latin,
    LatinBold,
    Bengali,
    BengaliBold,
    Khmer,
    KhmerBold,
}

impl FaceId {
    pub const ALL: [FaceId; 6] = [
        FaceId::Latin,
        FaceId::LatinBold,
        FaceId::Bengali,
        FaceId::BengaliBold,
        FaceId::Khmer,
        FaceId::KhmerBold,
    ];

    pub fn data(self) -> &'static [u8] {
        match self {
            FaceId::Latin => LATIN,
            FaceId::LatinBold => LATIN_BOLD,
            FaceId::Bengali => BENGALI,
            FaceId::BengaliBold => BENGALI_BOLD,
            FaceId::Khmer => KHMER,
            FaceId::KhmerBold => KHMER_BOLD,
        }
    }

    /// The PostScript-style name the PDF gives it.
    pub fn name(self) -> &'static str {
        match self {
            FaceId::Latin => "NotoSans-Regular",
            FaceId::LatinBold => "NotoSans-Bold",
            FaceId::Bengali => "NotoSansBengali-Regular",
            FaceId::BengaliBold => "NotoSansBengali-Bold",
            FaceId::Khmer => "NotoSansKhmer-Regular",
            FaceId::KhmerBold => "NotoSansKhmer-Bold",
        }
    }

    fn of(script: Script, bold: bool) -> FaceId {
        match (script, bold) {
            (Script::Latin, false) => FaceId::Latin,
            (Script::Latin, true) => FaceId::LatinBold,
            (Script::Bengali, false) => FaceId::Bengali,
            (Script::Bengali, true) => FaceId::BengaliBold,
            (Script::Khmer, false) => FaceId::Khmer,
            (Script::Khmer, true) => FaceId::KhmerBold,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Script {
    Latin,
    Bengali,
    Khmer,
}

/// The script a character asks for; `None` for characters any run can carry
/// (spaces, joiners, the danda Bangla borrows from Devanagari).
fn script_of(c: char) -> Option<Script> {
    match c as u32 {
        0x0980..=0x09FF => Some(Script::Bengali),
        0x1780..=0x17FF | 0x19E0..=0x19FF => Some(Script::Khmer),
        0x0964 | 0x0965 | 0x200C | 0x200D => None,
        _ if c.is_whitespace() => None,
        _ => Some(Script::Latin),
    }
}

/// Splits text into runs of one script (neutral characters join the run before them).
fn runs(text: &str) -> Vec<(Script, &str)> {
    let mut out: Vec<(Script, &str)> = Vec::new();
    let mut start = 0;
    let mut current: Option<Script> = None;
    for (i, c) in text.char_indices() {
        match (script_of(c), current) {
            (Some(s), Some(cur)) if s != cur => {
                out.push((cur, &text[start..i]));
                start = i;
                current = Some(s);
            }
            (Some(s), None) => current = Some(s),
            _ => {}
        }
    }
    if start < text.len() {
        out.push((current.unwrap_or(Script::Latin), &text[start..]));
    }
    out
}

/// A glyph as shaped, in units of the font size (1.0 = one em).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placed {
    pub face: FaceId,
    /// The glyph in the original face (the subset renumbers it: [`Faces::finish`]).
    pub glyph: u16,
    /// Where the shaper moved it from the pen (marks above, below, before).
    pub x_offset: f32,
    pub y_offset: f32,
    /// How far the pen moves after it (kerning and marks included).
    pub advance: f32,
    /// Its advance in the font's own table, which a PDF reader moves by.
    pub width: f32,
}

/// The faces, parsed once per document, and what the document used of each.
pub struct Faces {
    faces: Vec<rustybuzz::Face<'static>>,
    /// Per face: glyph → the text it stands for (the first seen).
    used: BTreeMap<FaceId, BTreeMap<u16, String>>,
}

/// One face as embedded: its subset and what the PDF needs to describe it.
///
/// The page content names glyphs by their number in the whole face (the CID is the
/// original glyph id), written while the pages are laid out, before the subset
/// exists; `cid_to_gid` tells the reader where each one went in the subset.
pub struct Embedded {
    pub face: FaceId,
    /// The subset font program (TrueType outlines).
    pub program: Vec<u8>,
    /// The PDF's CIDToGIDMap stream: for each CID, the subset's glyph (big-endian u16).
    pub cid_to_gid: Vec<u8>,
    /// CID → advance width in thousandths of an em.
    pub widths: Vec<(u16, f32)>,
    /// CID → the text it stands for.
    pub unicode: Vec<(u16, String)>,
    pub ascent: f32,
    pub descent: f32,
    pub cap_height: f32,
    pub bbox: [f32; 4],
}

#[derive(Debug, thiserror::Error)]
pub enum FontError {
    #[error("the bundled font {0} could not be read")]
    Unreadable(&'static str),
    #[error("the font {face} could not be cut down to the report's glyphs: {message}")]
    Subset { face: &'static str, message: String },
}

impl Faces {
    pub fn load() -> Result<Faces, FontError> {
        let faces = FaceId::ALL
            .iter()
            .map(|f| {
                rustybuzz::Face::from_slice(f.data(), 0).ok_or(FontError::Unreadable(f.name()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Faces {
            faces,
            used: BTreeMap::new(),
        })
    }

    fn face(&self, id: FaceId) -> &rustybuzz::Face<'static> {
        &self.faces[id as usize]
    }

    /// Shapes one line of text at the origin; returns its glyphs and its width (ems).
    pub fn shape(&mut self, text: &str, bold: bool) -> (Vec<Placed>, f32) {
        let mut placed = Vec::new();
        let mut pen = 0.0f32;
        for (script, run) in runs(text) {
            let mut id = FaceId::of(script, bold);
            // A character the script's face lacks (a sign, a symbol) falls back to Latin.
            if run
                .chars()
                .any(|c| !c.is_whitespace() && self.face(id).glyph_index(c).is_none())
            {
                id = FaceId::of(Script::Latin, bold);
            }
            // The field, not `self.face()`: `self.used` is written below.
            let face = &self.faces[id as usize];
            let per_em = face.units_per_em() as f32;
            let mut buffer = rustybuzz::UnicodeBuffer::new();
            buffer.push_str(run);
            buffer.guess_segment_properties();
            let shaped = rustybuzz::shape(face, &[], buffer);
            let infos = shaped.glyph_infos();
            let positions = shaped.glyph_positions();
            // The text each glyph stands for: its cluster's characters, given to the
            // cluster's first glyph (the others stand for nothing more).
            let mut texts = Vec::with_capacity(infos.len());
            for (i, info) in infos.iter().enumerate() {
                let start = info.cluster as usize;
                let first = i == 0 || infos[i - 1].cluster != info.cluster;
                let end = infos[i..]
                    .iter()
                    .map(|g| g.cluster as usize)
                    .find(|&c| c > start)
                    .unwrap_or(run.len());
                texts.push(if first {
                    run[start..end].to_string()
                } else {
                    String::new()
                });
            }
            let used = self.used.entry(id).or_default();
            for ((info, pos), text) in infos.iter().zip(positions).zip(texts) {
                let glyph = info.glyph_id as u16;
                let entry = used.entry(glyph).or_default();
                if entry.is_empty() {
                    *entry = text;
                }
                let width = face
                    .glyph_hor_advance(rustybuzz::ttf_parser::GlyphId(glyph))
                    .unwrap_or(0);
                placed.push(Placed {
                    face: id,
                    glyph,
                    x_offset: pos.x_offset as f32 / per_em,
                    y_offset: pos.y_offset as f32 / per_em,
                    advance: pos.x_advance as f32 / per_em,
                    width: f32::from(width) / per_em,
                });
                pen += pos.x_advance as f32 / per_em;
            }
        }
        (placed, pen)
    }

    /// The faces the document used, each cut down to its glyphs.
    pub fn finish(self) -> Result<Vec<Embedded>, FontError> {
        let mut out = Vec::new();
        for (id, glyphs) in &self.used {
            let face = self.face(*id);
            let mut remapper = subsetter::GlyphRemapper::new();
            for g in glyphs.keys() {
                remapper.remap(*g);
            }
            let program =
                subsetter::subset(id.data(), 0, &remapper).map_err(|e| FontError::Subset {
                    face: id.name(),
                    message: format!("{e:?}"),
                })?;
            let per_em = face.units_per_em() as f32;
            let thousandths = |v: f32| v * 1000.0 / per_em;
            let highest = glyphs.keys().next_back().copied().unwrap_or(0);
            let mut cid_to_gid = vec![0u8; 2 * (usize::from(highest) + 1)];
            let mut widths = Vec::with_capacity(glyphs.len());
            for g in glyphs.keys() {
                let new = remapper.get(*g).unwrap_or(0);
                let at = 2 * usize::from(*g);
                cid_to_gid[at..at + 2].copy_from_slice(&new.to_be_bytes());
                let advance = face
                    .glyph_hor_advance(rustybuzz::ttf_parser::GlyphId(*g))
                    .unwrap_or(0);
                widths.push((*g, thousandths(f32::from(advance))));
            }
            let unicode = glyphs
                .iter()
                .filter(|(_, text)| !text.is_empty())
                .map(|(g, text)| (*g, text.clone()))
                .collect();
            let b = face.global_bounding_box();
            out.push(Embedded {
                face: *id,
                program,
                cid_to_gid,
                widths,
                unicode,
                ascent: thousandths(f32::from(face.ascender())),
                descent: thousandths(f32::from(face.descender())),
                cap_height: thousandths(f32::from(
                    face.capital_height().unwrap_or(face.ascender()),
                )),
                bbox: [
                    thousandths(f32::from(b.x_min)),
                    thousandths(f32::from(b.y_min)),
                    thousandths(f32::from(b.x_max)),
                    thousandths(f32::from(b.y_max)),
                ],
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faces_used(widths: &[(u16, f32)]) -> usize {
        widths
            .iter()
            .map(|(g, _)| *g)
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    }

    #[test]
    fn runs_split_by_script_and_neutrals_join_the_run_before() {
        let r = runs("Shop দোকান ৳ 1,250.00 ហាង");
        let scripts: Vec<Script> = r.iter().map(|(s, _)| *s).collect();
        assert_eq!(
            scripts,
            [Script::Latin, Script::Bengali, Script::Latin, Script::Khmer]
        );
        assert_eq!(r[1].1, "দোকান ৳ ");
        assert_eq!(
            r.iter().map(|(_, t)| *t).collect::<String>(),
            "Shop দোকান ৳ 1,250.00 ហាង"
        );
    }

    #[test]
    fn bangla_is_shaped_not_mapped_letter_by_letter() {
        let mut faces = Faces::load().unwrap();
        // ক্ষ: ka + virama + ssa, one conjunct glyph in a shaped font.
        let word = "ক্ষমা";
        let (glyphs, width) = faces.shape(word, false);
        assert!(width > 0.0);
        assert!(
            glyphs.len() < word.chars().count(),
            "{} glyphs for {} characters: not shaped",
            glyphs.len(),
            word.chars().count()
        );
        assert!(glyphs
            .iter()
            .all(|g| g.face == FaceId::Bengali && g.glyph != 0));
        // Every character is told by some glyph: the text comes back whole.
        let told: String = faces.used[&FaceId::Bengali].values().cloned().collect();
        for c in word.chars() {
            assert!(told.contains(c), "{c} lost from {told:?}");
        }
    }

    #[test]
    fn signs_and_khmer_have_glyphs_and_the_subsets_are_small() {
        let mut faces = Faces::load().unwrap();
        for (text, face) in [("৳ 1,250.50", FaceId::Bengali), ("៛ 40,000", FaceId::Khmer)] {
            let (glyphs, _) = faces.shape(text, true);
            assert!(
                glyphs.iter().all(|g| g.glyph != 0),
                "{text}: a missing glyph"
            );
            assert!(glyphs.iter().any(|g| g.face
                == FaceId::of(
                    if face == FaceId::Bengali {
                        Script::Bengali
                    } else {
                        Script::Khmer
                    },
                    true
                )));
        }
        faces.shape("Z-report 2026-12-03", false);
        let embedded = faces.finish().unwrap();
        assert!(embedded.len() >= 3);
        for e in &embedded {
            assert!(
                e.program.len() < e.face.data().len() / 4,
                "{}: {} of {} bytes",
                e.face.name(),
                e.program.len(),
                e.face.data().len()
            );
            assert_eq!(e.widths.len(), faces_used(&e.widths), "one width per glyph");
            assert!(e.cid_to_gid.chunks(2).any(|c| c != [0, 0]));
        }
    }
}
