//! A report as a PDF (A4, `pdf-writer`), for printing and filing.
//!
//! Text is set in the Noto Sans faces the windows use, shaped and embedded as
//! subsets ([`super::fonts`]), so the taka and riel signs, Bangla and Khmer
//! print as they read on screen, and stay extractable as text (`pdftotext`).

use super::close::{Report, ReportKind, ZReport};
use super::fonts::{FaceId, Faces};
use super::reconcile::CheckStatus;
use super::{Money, ReportError};
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Name, Pdf, Rect, Ref, Str, TextStr};

/// What can be printed: an X-report or a Z-report.
pub enum Printable<'a> {
    X(&'a Report),
    Z(&'a ZReport),
}

impl<'a> From<&'a Report> for Printable<'a> {
    fn from(r: &'a Report) -> Self {
        Printable::X(r)
    }
}

impl<'a> From<&'a ZReport> for Printable<'a> {
    fn from(z: &'a ZReport) -> Self {
        Printable::Z(z)
    }
}

const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 48.0;
/// The resource name of a face on every page.
fn font_resource(face: FaceId) -> Name<'static> {
    Name(match face {
        FaceId::Latin => b"F1",
        FaceId::LatinBold => b"F2",
        FaceId::Bengali => b"F3",
        FaceId::BengaliBold => b"F4",
        FaceId::Khmer => b"F5",
        FaceId::KhmerBold => b"F6",
    })
}

/// An amount with its currency code in place of the sign (for plain-text output
/// that may reach a terminal without the fonts; the PDF prints the sign).
pub fn plain(m: &Money) -> String {
    m.display.replace(m.currency.symbol(), m.currency.code())
}

/// An amount as the PDF prints it: with the currency's sign, as on screen.
fn money(m: &Money) -> String {
    m.display.clone()
}

struct Writer {
    pages: Vec<Content>,
    y: f32,
    faces: Faces,
}

impl Writer {
    fn new() -> Result<Writer, ReportError> {
        let mut w = Writer {
            pages: Vec::new(),
            y: 0.0,
            faces: Faces::load().map_err(|e| ReportError::Pdf(e.to_string()))?,
        };
        w.new_page();
        Ok(w)
    }

    fn new_page(&mut self) {
        self.pages.push(Content::new());
        self.y = PAGE_H - MARGIN;
    }

    fn room(&mut self, needed: f32) {
        if self.y - needed < MARGIN {
            self.new_page();
        }
    }

    fn text_at(&mut self, x: f32, size: f32, bold: bool, text: &str) {
        let y = self.y;
        let (glyphs, _) = self.faces.shape(text, bold);
        let c = self.pages.last_mut().expect("a page");
        // The line's text as it was written, for readers that extract it: glyphs of
        // Bangla and Khmer are in visual order (a vowel sign before its consonant),
        // so the glyph-by-glyph map alone reads back shuffled (`pdftotext` put the
        // last letter of "রহিম স্টোর" on a line of its own).
        c.begin_marked_content_with_properties(Name(b"Span"))
            .properties()
            .actual_text(TextStr(text));
        c.begin_text();
        c.set_text_matrix([1.0, 0.0, 0.0, 1.0, x, y]);
        // One run of glyphs per face and height, in the order the shaper gave them,
        // so readers (and `pdftotext`) see words; a glyph's CID is its number in the
        // whole face (fonts::Embedded). The reader moves by each glyph's own width:
        // the adjustments bring it to where the shaper put the glyph and the next one.
        let mut i = 0;
        let mut face = None;
        let mut rise = 0.0;
        while i < glyphs.len() {
            let g0 = glyphs[i];
            if face != Some(g0.face) {
                c.set_font(font_resource(g0.face), size);
                face = Some(g0.face);
            }
            if g0.y_offset != rise {
                rise = g0.y_offset;
                c.set_rise(rise * size);
            }
            let mut shown = c.show_positioned();
            let mut items = shown.items();
            while i < glyphs.len() && glyphs[i].face == g0.face && glyphs[i].y_offset == rise {
                let g = glyphs[i];
                // A positive adjustment moves left, in thousandths of the font size.
                if g.x_offset != 0.0 {
                    items.adjust(-g.x_offset * 1000.0);
                }
                items.show(Str(&g.glyph.to_be_bytes()));
                let correction = g.advance - g.x_offset - g.width;
                if correction.abs() > 1e-4 {
                    items.adjust(-correction * 1000.0);
                }
                i += 1;
            }
        }
        c.end_text();
        c.end_marked_content();
    }

    /// One line of cells at the given x offsets (from the left margin).
    fn row(&mut self, size: f32, bold: bool, cells: &[(f32, &str)]) {
        self.room(size + 4.0);
        for (x, t) in cells {
            self.text_at(MARGIN + x, size, bold, t);
        }
        self.y -= size + 4.0;
    }

    fn line(&mut self, size: f32, bold: bool, text: &str) {
        // Wrap long text at about 95 characters of 10 pt.
        let width = ((PAGE_W - 2.0 * MARGIN) / (size * 0.5)) as usize;
        let mut current = String::new();
        for word in text.split(' ') {
            if !current.is_empty() && current.len() + word.len() + 1 > width {
                self.row(size, bold, &[(0.0, &current)]);
                current = format!("  {word}");
            } else {
                if !current.is_empty() {
                    current.push(' ');
                }
                current.push_str(word);
            }
        }
        self.row(size, bold, &[(0.0, &current)]);
    }

    fn heading(&mut self, text: &str) {
        self.room(40.0);
        self.y -= 8.0;
        self.row(13.0, true, &[(0.0, text)]);
        let y = self.y + 12.0;
        let c = self.pages.last_mut().expect("a page");
        c.set_line_width(0.5);
        c.move_to(MARGIN, y);
        c.line_to(PAGE_W - MARGIN, y);
        c.stroke();
        self.y -= 2.0;
    }

    fn finish(self, title: &str) -> Result<Vec<u8>, ReportError> {
        let embedded = self
            .faces
            .finish()
            .map_err(|e| ReportError::Pdf(e.to_string()))?;
        let mut pdf = Pdf::new();
        let catalog = Ref::new(1);
        let tree = Ref::new(2);
        let info = Ref::new(3);
        // Six objects per face: Type0 font, CID font, descriptor, program, ToUnicode, CIDToGIDMap.
        let font_ref = |i: usize, part: i32| Ref::new(4 + 6 * i as i32 + part);
        let mut next = 4 + 6 * embedded.len() as i32;
        let mut ids = Vec::new();
        for _ in &self.pages {
            ids.push((Ref::new(next), Ref::new(next + 1)));
            next += 2;
        }
        pdf.catalog(catalog).pages(tree);
        pdf.pages(tree)
            .kids(ids.iter().map(|(p, _)| *p))
            .count(ids.len() as i32);
        for (content, (page_id, content_id)) in self.pages.into_iter().zip(&ids) {
            let mut page = pdf.page(*page_id);
            page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H));
            page.parent(tree);
            page.contents(*content_id);
            let mut res = page.resources();
            let mut fonts = res.fonts();
            for (i, e) in embedded.iter().enumerate() {
                fonts.pair(font_resource(e.face), font_ref(i, 0));
            }
            drop(fonts);
            drop(res);
            drop(page);
            pdf.stream(*content_id, &content.finish());
        }
        let identity = SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"Identity"),
            supplement: 0,
        };
        for (i, e) in embedded.iter().enumerate() {
            // A subset's name carries a six-letter tag (PDF 9.6.4); one per face here.
            let name = format!("TILL{}{}+{}", (b'A' + i as u8) as char, 'A', e.face.name());
            let name = Name(name.as_bytes());
            pdf.type0_font(font_ref(i, 0))
                .base_font(name)
                .encoding_predefined(Name(b"Identity-H"))
                .descendant_font(font_ref(i, 1))
                .to_unicode(font_ref(i, 4));
            let mut cid = pdf.cid_font(font_ref(i, 1));
            cid.subtype(CidFontType::Type2)
                .base_font(name)
                .system_info(identity)
                .font_descriptor(font_ref(i, 2))
                .default_width(0.0)
                .cid_to_gid_map_stream(font_ref(i, 5));
            let mut widths = cid.widths();
            for (glyph, w) in &e.widths {
                widths.consecutive(*glyph, [*w]);
            }
            drop(widths);
            drop(cid);
            pdf.font_descriptor(font_ref(i, 2))
                .name(name)
                .flags(FontFlags::NON_SYMBOLIC)
                .bbox(Rect::new(e.bbox[0], e.bbox[1], e.bbox[2], e.bbox[3]))
                .italic_angle(0.0)
                .ascent(e.ascent)
                .descent(e.descent)
                .cap_height(e.cap_height)
                .stem_v(80.0)
                .font_file2(font_ref(i, 3));
            pdf.stream(font_ref(i, 3), &e.program)
                .pair(Name(b"Length1"), e.program.len() as i32);
            let mut cmap = UnicodeCmap::<u16>::new(Name(b"Till-UCS"), identity);
            for (glyph, text) in &e.unicode {
                cmap.pair_with_multiple(*glyph, text.chars());
            }
            pdf.cmap(font_ref(i, 4), &cmap.finish());
            pdf.stream(font_ref(i, 5), &e.cid_to_gid);
        }
        pdf.document_info(info)
            .title(TextStr(title))
            .creator(TextStr("Till"));
        Ok(pdf.finish())
    }
}

fn status_word(s: &CheckStatus) -> &'static str {
    match s {
        CheckStatus::Checked => "checked",
        CheckStatus::CouldNotCheck => "COULD NOT CHECK",
        CheckStatus::NotConfigured => "not set up",
        CheckStatus::NotApplicable => "nothing to check",
    }
}

/// Renders an X- or Z-report.
pub fn render<'a>(what: impl Into<Printable<'a>>) -> Result<Vec<u8>, ReportError> {
    let what = what.into();
    let (r, closed) = match what {
        Printable::X(r) => (r, None),
        Printable::Z(z) => (&z.report, Some(z)),
    };
    let s = &r.summary;
    let mut w = Writer::new()?;
    let title = match (r.kind, closed) {
        (ReportKind::Z, _) | (_, Some(_)) => format!("Z-report {} — day closed", r.day),
        _ => format!("X-report {} — day not closed", r.day),
    };
    w.row(18.0, true, &[(0.0, &title)]);
    w.line(
        10.0,
        false,
        &format!("{} — terminal {}", r.shop_name, r.terminal_id),
    );
    if let Some(local) = r.shop_name_local.as_deref() {
        w.line(12.0, true, local);
    }
    w.line(
        10.0,
        false,
        &format!(
            "Business day {} ({}, day starts at {}): {} to {} UTC",
            r.day,
            s.timezone,
            s.cutoff,
            s.starts_at.format("%Y-%m-%d %H:%M"),
            s.ends_at.format("%Y-%m-%d %H:%M"),
        ),
    );
    if let Some(z) = closed {
        w.line(
            10.0,
            true,
            &format!(
                "Closed by {} at {} UTC",
                z.closed_by,
                z.closed_at.format("%Y-%m-%d %H:%M:%S")
            ),
        );
    }
    w.line(
        10.0,
        false,
        &format!(
            "Printed from data of {} UTC",
            r.generated_at.format("%Y-%m-%d %H:%M:%S")
        ),
    );

    w.heading("Totals");
    w.row(
        10.0,
        true,
        &[
            (0.0, "Currency"),
            (90.0, "Settled"),
            (250.0, "Refunded"),
            (400.0, "Net"),
        ],
    );
    if s.totals.is_empty() {
        w.line(10.0, false, "No money was taken on this day.");
    }
    for t in &s.totals {
        w.row(
            10.0,
            false,
            &[
                (0.0, t.currency.code()),
                (
                    90.0,
                    &format!("{} ({})", money(&t.settled), t.settled_count),
                ),
                (
                    250.0,
                    &format!("{} ({})", money(&t.refunded), t.refund_count),
                ),
                (400.0, &money(&t.net)),
            ],
        );
    }

    w.heading("By wallet");
    w.row(
        10.0,
        true,
        &[
            (0.0, "Wallet"),
            (90.0, "Settled"),
            (250.0, "Refunded"),
            (400.0, "Net"),
        ],
    );
    for t in &s.wallets {
        w.row(
            10.0,
            false,
            &[
                (0.0, t.provider.as_str()),
                (
                    90.0,
                    &format!("{} ({})", money(&t.settled), t.settled_count),
                ),
                (
                    250.0,
                    &format!("{} ({})", money(&t.refunded), t.refund_count),
                ),
                (400.0, &money(&t.net)),
            ],
        );
    }

    if !s.payees.is_empty() {
        w.heading("Paid to (receiving accounts)");
        w.row(
            10.0,
            true,
            &[(0.0, "Wallet"), (90.0, "Account"), (400.0, "Payments")],
        );
        for p in &s.payees {
            w.row(
                10.0,
                false,
                &[
                    (0.0, p.provider.as_str()),
                    (90.0, p.payee.as_deref().unwrap_or("unknown")),
                    (400.0, &p.payments.to_string()),
                ],
            );
        }
    }

    w.heading(&format!("Payments of the day ({})", s.payment_count));
    w.row(
        10.0,
        true,
        &[
            (0.0, "Wallet"),
            (90.0, "State"),
            (250.0, "Count"),
            (320.0, "Amount"),
        ],
    );
    for t in &s.by_state {
        w.row(
            10.0,
            false,
            &[
                (0.0, t.provider.as_str()),
                (90.0, t.state.as_str()),
                (250.0, &t.count.to_string()),
                (320.0, &money(&t.amount)),
            ],
        );
    }

    if !s.refunds.is_empty() {
        w.heading("Refunds");
        for f in &s.refunds {
            w.line(
                10.0,
                false,
                &format!(
                    "{} {} {} {} by {}{}{}",
                    f.invoice,
                    f.provider,
                    money(&f.amount),
                    serde_json::to_value(f.state)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    f.requested_by,
                    f.reason
                        .as_deref()
                        .map(|x| format!(" ({x})"))
                        .unwrap_or_default(),
                    f.booked_day
                        .filter(|_| f.adjustment)
                        .map(|b| format!(" - booked into {b}"))
                        .unwrap_or_default(),
                ),
            );
        }
    }
    if !s.adjustments.is_empty() {
        w.heading("Adjustments from closed days");
        for a in &s.adjustments {
            w.line(
                10.0,
                false,
                &format!(
                    "{} {} of {} ({}): {}",
                    a.invoice,
                    match a.kind {
                        super::summary::AdjustmentKind::Settlement => "settlement",
                        super::summary::AdjustmentKind::Refund => "refund",
                    },
                    a.payment_day,
                    a.provider,
                    money(&a.amount)
                ),
            );
        }
    }
    if !s.flagged.is_empty() || !s.open.is_empty() {
        w.heading("Flagged and open payments");
        for p in s.flagged.iter().chain(&s.open) {
            w.line(
                10.0,
                false,
                &format!(
                    "{} {} {} {} {}{}",
                    p.local_time,
                    p.invoice,
                    p.provider,
                    money(&p.amount),
                    p.state,
                    p.flag
                        .as_deref()
                        .map(|f| format!(" - {f}"))
                        .unwrap_or_default()
                ),
            );
        }
    }

    w.heading("Sync to the office");
    w.line(
        10.0,
        false,
        &format!(
            "{} records of the day acknowledged by the hub, {} waiting, {} dead letters.",
            s.sync.delivered, s.sync.unsynced, s.sync.dead_letters
        ),
    );

    let rec = &r.reconciliation;
    w.heading("Reconciliation");
    for p in &rec.providers {
        w.line(
            10.0,
            false,
            &format!(
                "{}: {} - {} payments asked, {} agree, {} unanswered{}",
                p.provider,
                status_word(&p.status),
                p.checked,
                p.agreed,
                p.unanswered,
                p.message
                    .as_deref()
                    .map(|m| format!(" ({m})"))
                    .unwrap_or_default()
            ),
        );
    }
    w.line(
        10.0,
        false,
        &format!(
            "hub: {} - {} acknowledged, {} missing, totals {}{}",
            status_word(&rec.hub.status),
            rec.hub.acknowledged,
            rec.hub.missing.len(),
            match rec.hub.totals_match {
                Some(true) => "match",
                Some(false) => "DIFFER",
                None => "not compared",
            },
            rec.hub
                .message
                .as_deref()
                .map(|m| format!(" ({m})"))
                .unwrap_or_default()
        ),
    );
    if rec.disagreements.is_empty() {
        w.line(10.0, true, "Terminal, providers and hub agree.");
    } else {
        w.line(
            10.0,
            true,
            &format!("{} disagreements:", rec.disagreements.len()),
        );
    }
    for d in &rec.disagreements {
        let st = r.status.iter().find(|s| s.id == d.id);
        let how = match st.and_then(|s| s.last_resolution.as_ref()) {
            Some(res) => format!(
                " [{} by {}{}]",
                res.action,
                res.by,
                res.note
                    .as_deref()
                    .or(res.outcome.as_deref())
                    .map(|n| format!(": {n}"))
                    .unwrap_or_default()
            ),
            None => " [not resolved]".into(),
        };
        w.line(10.0, false, &format!("- {}{how}", d.explanation));
        w.line(8.0, false, &format!("    {}", d.id));
    }
    if !r.resolutions.is_empty() {
        w.heading("Resolutions");
        for res in &r.resolutions {
            w.line(
                9.0,
                false,
                &format!(
                    "{} {} {} {}{}{}",
                    res.at.format("%Y-%m-%d %H:%M"),
                    res.by,
                    res.action,
                    res.disagreement_id,
                    res.note
                        .as_deref()
                        .map(|n| format!(" - {n}"))
                        .unwrap_or_default(),
                    res.outcome
                        .as_deref()
                        .map(|n| format!(" - {n}"))
                        .unwrap_or_default()
                ),
            );
        }
    }
    if let Some(z) = closed {
        w.y -= 10.0;
        w.line(8.0, false, &format!("Report SHA-256 {}", z.sha256));
    }
    w.finish(&title)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_has_codes_and_the_pdf_has_signs() {
        let m = Money::from(crate::money::Amount::parse("1250", crate::Currency::Bdt).unwrap());
        assert_eq!(plain(&m), "BDT 1,250.00");
        assert_eq!(money(&m), "৳ 1,250.00");
    }
}
