//! TLV parsing, two ways.
//!
//! * The **SDK-compatible** parser (`sdk_root`, `sdk_sub`, crate-private) reproduces the
//!   official SDK's `cutString` loop exactly (spec 12.2): lengths through
//!   JavaScript `parseInt`, slicing in UTF-16 units, a declared length longer
//!   than the rest just shortens the value, a non-numeric length yields an
//!   empty value without consuming anything, root parsing stops when an ID
//!   equals the previous one (30 counted as 29). Unlike the SDK it is
//!   bounded: a step that consumes nothing ends the loop (the SDK spins
//!   forever there, bug B8), so every loop runs at most `len` times.
//! * The **strict** parser ([`parse_strict`]) accepts only well-formed EMV
//!   TLV: two ASCII digits of ID, two of length, and exactly that many
//!   UTF-16 units of value.

use crate::error::StrictViolation;
use crate::js::{parse_int, JsIndex, Units};

const TAG_29: [u16; 2] = [b'2' as u16, b'9' as u16];

/// One data object as the SDK's root loop sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SdkEntry<'a> {
    /// The ID exactly as written (0–2 units).
    pub raw_tag: Units<'a>,
    /// The ID with 30 folded into 29.
    pub tag: Units<'a>,
    pub value: Units<'a>,
}

/// `cutString`: (tag, value, rest).
pub(crate) fn cut(s: Units<'_>) -> (Units<'_>, Units<'_>, Units<'_>) {
    let tag = s.slice(JsIndex::At(0), JsIndex::At(2));
    let len = parse_int(s.slice(JsIndex::At(2), JsIndex::At(4)));
    let value = s.slice(JsIndex::At(4), JsIndex::plus(4, len));
    let rest = s.slice(JsIndex::plus(4, len), JsIndex::End);
    (tag, value, rest)
}

/// The SDK's root loop (shared by its `decode` and `verify`).
pub(crate) fn sdk_root(all: Units<'_>) -> Vec<SdkEntry<'_>> {
    let mut out = Vec::new();
    let mut s = all;
    let mut last: Option<Units<'_>> = None;
    while !s.is_empty() {
        let (raw_tag, value, rest) = cut(s);
        if let Some(last) = last {
            if last.0 == raw_tag.0 {
                break;
            }
        }
        let tag = if raw_tag.eq_str("30") {
            Units(&TAG_29[..])
        } else {
            raw_tag
        };
        out.push(SdkEntry {
            raw_tag,
            tag,
            value,
        });
        let progressed = rest.len() < s.len();
        s = rest;
        last = Some(tag);
        if !progressed {
            // The SDK would read the same object again: it stops on the
            // repeated ID, or (for a raw "30") never returns at all.
            break;
        }
    }
    out
}

/// The SDK's sub-tag loop for templates (29/30, 62, 64, 99): no repeated-ID
/// guard; bounded where the SDK loops forever.
pub(crate) fn sdk_sub(value: Units<'_>) -> Vec<(Units<'_>, Units<'_>)> {
    let mut out = Vec::new();
    let mut s = value;
    while !s.is_empty() {
        let (tag, v, rest) = cut(s);
        out.push((tag, v));
        if rest.len() >= s.len() {
            break; // bug B8: the SDK never leaves this loop
        }
        s = rest;
    }
    out
}

/// A well-formed data object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tlv {
    /// Two ASCII digits.
    pub tag: String,
    pub value: String,
    /// Offset of the ID, in UTF-16 units from the start of the parsed text.
    pub offset: usize,
}

/// Strict EMV TLV parse of the whole text (no trailing bytes allowed).
pub fn parse_strict(s: &str) -> Result<Vec<Tlv>, StrictViolation> {
    let units: Vec<u16> = s.encode_utf16().collect();
    let digit = |u: u16| (b'0' as u16..=b'9' as u16).contains(&u);
    let mut out = Vec::new();
    let mut i = 0;
    while i < units.len() {
        let malformed = |detail: &str| StrictViolation::Malformed {
            offset: i,
            detail: detail.to_string(),
        };
        if i + 4 > units.len() {
            return Err(malformed("truncated ID/length header"));
        }
        if !(digit(units[i]) && digit(units[i + 1])) {
            return Err(malformed("ID is not two digits"));
        }
        if !(digit(units[i + 2]) && digit(units[i + 3])) {
            return Err(malformed("length is not two digits"));
        }
        let len =
            usize::from(units[i + 2] - b'0' as u16) * 10 + usize::from(units[i + 3] - b'0' as u16);
        let start = i + 4;
        let end = start + len;
        if end > units.len() {
            return Err(malformed("declared length runs past the end"));
        }
        out.push(Tlv {
            tag: String::from_utf16_lossy(&units[i..i + 2]),
            value: String::from_utf16_lossy(&units[start..end]),
            offset: i,
        });
        i = end;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Vec<u16> {
        s.encode_utf16().collect()
    }

    #[test]
    fn root_stops_on_repeated_id() {
        let v = u("5802KH5802KH5904Name");
        let e = sdk_root(Units(&v));
        assert_eq!(e.len(), 1);
    }

    #[test]
    fn non_numeric_length_consumes_nothing() {
        let v = u("59ab");
        let e = sdk_root(Units(&v));
        assert_eq!(e.len(), 1);
        assert!(e[0].value.is_empty());
        // A raw 30 would loop forever in the SDK; we stop.
        let v = u("30xx");
        assert_eq!(sdk_root(Units(&v)).len(), 1);
        let v = u("00xx");
        assert_eq!(sdk_sub(Units(&v)).len(), 1);
    }

    #[test]
    fn thirty_folds_into_twenty_nine() {
        // The raw ID is compared with the previous *folded* ID.
        let v = u("2904abcd3004efgh");
        assert_eq!(sdk_root(Units(&v)).len(), 2, "30 after 29 is read");
        let v = u("3004efgh2904abcd");
        assert_eq!(
            sdk_root(Units(&v)).len(),
            1,
            "29 after 30 counts as a repeat"
        );
    }

    #[test]
    fn strict_parse() {
        let t = parse_strict("0002015802KH").unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[1].tag, "58");
        assert!(parse_strict("0002015803KH").is_err());
        assert!(parse_strict("00020").is_err());
        assert!(parse_strict("0a0201").is_err());
        let k = parse_strict("0109ចាន់ ដារា").unwrap();
        assert_eq!(k[0].value, "ចាន់ ដារា");
    }
}
