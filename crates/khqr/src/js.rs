//! Small, exact re-implementations of the JavaScript primitives whose quirks
//! the official SDK's behaviour depends on: `String.prototype.slice` over
//! UTF-16 code units, `parseInt`, `Number(string)` and `Number#toString()`.
//!
//! Everything here is pure and total (no panics on any input).

/// A string viewed as JavaScript sees it: a sequence of UTF-16 code units.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Units<'a>(pub(crate) &'a [u16]);

impl<'a> Units<'a> {
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `s.slice(start, end)` with JavaScript's index rules; `None` stands for
    /// `NaN` (treated as 0) and `end = None` for "absent" is expressed by
    /// passing `JsIndex::End`.
    pub(crate) fn slice(&self, start: JsIndex, end: JsIndex) -> Units<'a> {
        let len = self.0.len() as i64;
        let from = start.resolve(len);
        let to = end.resolve(len);
        if from >= to {
            Units(&self.0[0..0])
        } else {
            Units(&self.0[from as usize..to as usize])
        }
    }

    pub(crate) fn to_string_lossy(self) -> String {
        String::from_utf16_lossy(self.0)
    }

    pub(crate) fn eq_str(&self, s: &str) -> bool {
        self.0.iter().copied().eq(s.encode_utf16())
    }

    pub(crate) fn is_ascii_digits(&self) -> bool {
        !self.0.is_empty()
            && self
                .0
                .iter()
                .all(|&u| (b'0' as u16..=b'9' as u16).contains(&u))
    }
}

/// A `slice` argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JsIndex {
    /// A finite integer (negative counts from the end).
    At(i64),
    /// `NaN`, which `slice` treats as 0.
    NaN,
    /// The argument was left out (`end` defaults to the length).
    End,
}

impl JsIndex {
    fn resolve(self, len: i64) -> i64 {
        match self {
            JsIndex::End => len,
            JsIndex::NaN => 0,
            JsIndex::At(i) if i < 0 => (len + i).max(0),
            JsIndex::At(i) => i.min(len),
        }
    }

    /// `a + b` where `b` may be `NaN`.
    pub(crate) fn plus(a: i64, b: Option<i64>) -> JsIndex {
        match b {
            Some(b) => JsIndex::At(a + b),
            None => JsIndex::NaN,
        }
    }
}

/// The characters `String.prototype.trim` / `parseInt` / `Number()` skip:
/// ECMAScript WhiteSpace and LineTerminator.
pub(crate) fn is_js_whitespace(u: u16) -> bool {
    matches!(
        u,
        0x0009 | 0x000A | 0x000B | 0x000C | 0x000D | 0x0020 | 0x00A0 | 0x1680 | 0x2000
            ..=0x200A | 0x2028 | 0x2029 | 0x202F | 0x205F | 0x3000 | 0xFEFF
    )
}

/// `parseInt(s)` (no radix) for the short strings the SDK feeds it.
/// `None` is `NaN`. Values that would not fit an `i64` saturate, which is
/// harmless here because the SDK only ever parses two characters.
pub(crate) fn parse_int(s: Units<'_>) -> Option<i64> {
    let mut i = 0;
    let u = s.0;
    while i < u.len() && is_js_whitespace(u[i]) {
        i += 1;
    }
    let mut negative = false;
    if i < u.len() && (u[i] == b'-' as u16 || u[i] == b'+' as u16) {
        negative = u[i] == b'-' as u16;
        i += 1;
    }
    let mut radix = 10;
    if i + 1 < u.len()
        && u[i] == b'0' as u16
        && (u[i + 1] == b'x' as u16 || u[i + 1] == b'X' as u16)
    {
        radix = 16;
        i += 2;
    }
    let mut value: i64 = 0;
    let mut any = false;
    while i < u.len() {
        let d = match char::from_u32(u32::from(u[i])).and_then(|c| c.to_digit(radix)) {
            Some(d) => d,
            None => break,
        };
        value = value
            .saturating_mul(i64::from(radix))
            .saturating_add(i64::from(d));
        any = true;
        i += 1;
    }
    if !any {
        return None;
    }
    Some(if negative { -value } else { value })
}

/// `Number(s)` for a string (ECMAScript StringToNumber). Returns `NaN` for
/// anything that is not a numeric literal.
pub(crate) fn string_to_number(s: &str) -> f64 {
    let t = s.trim_matches(|c: char| (c as u32) <= 0xFFFF && is_js_whitespace(c as u32 as u16));
    if t.is_empty() {
        return 0.0;
    }
    match t {
        "Infinity" | "+Infinity" => return f64::INFINITY,
        "-Infinity" => return f64::NEG_INFINITY,
        _ => {}
    }
    let b = t.as_bytes();
    if b.len() > 2 && b[0] == b'0' {
        let radix = match b[1] {
            b'x' | b'X' => 16,
            b'o' | b'O' => 8,
            b'b' | b'B' => 2,
            _ => 0,
        };
        if radix != 0 {
            let mut v = 0f64;
            for &c in &b[2..] {
                match (c as char).to_digit(radix) {
                    Some(d) => v = v * f64::from(radix) + f64::from(d),
                    None => return f64::NAN,
                }
            }
            return v;
        }
    }
    if is_decimal_literal(b) {
        t.parse::<f64>().unwrap_or(f64::NAN)
    } else {
        f64::NAN
    }
}

/// `[+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?`
fn is_decimal_literal(b: &[u8]) -> bool {
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let f = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = i - f;
    }
    if int_digits == 0 && frac_digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let e = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == e {
            return false;
        }
    }
    i == b.len()
}

/// `Number#toString()` (radix 10): the shortest round-trip digits laid out
/// by ECMAScript's Number::toString rules.
pub(crate) fn number_to_string(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x == 0.0 {
        return "0".into();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if x < 0.0 {
        return format!("-{}", number_to_string(-x));
    }
    // Rust's `{:e}` prints the shortest digits that round-trip.
    let sci = format!("{x:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let k = digits.len() as i64;
    let n = exp + 1;
    if k <= n && n <= 21 {
        let mut s = digits;
        s.extend(std::iter::repeat_n('0', (n - k) as usize));
        s
    } else if 0 < n && n <= 21 {
        format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
    } else if -6 < n && n <= 0 {
        format!("0.{}{}", "0".repeat((-n) as usize), digits)
    } else {
        let sign = if n - 1 < 0 { '-' } else { '+' };
        let e = (n - 1).abs();
        if k == 1 {
            format!("{digits}e{sign}{e}")
        } else {
            format!("{}.{}e{sign}{e}", &digits[..1], &digits[1..])
        }
    }
}

/// JavaScript truthiness of a number.
pub(crate) fn number_truthy(x: f64) -> bool {
    !(x.is_nan() || x == 0.0)
}

/// Whether `new Date(x).getTime()` is a valid time (ECMAScript TimeClip).
pub(crate) fn is_valid_time(x: f64) -> bool {
    x.is_finite() && x.abs() <= 8.64e15
}

/// UTF-16 length of a Rust string (JavaScript's `String.length`).
pub(crate) fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Vec<u16> {
        s.encode_utf16().collect()
    }

    #[test]
    fn parse_int_matches_js() {
        let cases: &[(&str, Option<i64>)] = &[
            ("12", Some(12)),
            ("1a", Some(1)),
            (" 5", Some(5)),
            ("+5", Some(5)),
            ("-5", Some(-5)),
            ("0x", None),
            ("ab", None),
            ("", None),
            ("-", None),
            ("\u{a0}7", Some(7)),
            ("09", Some(9)),
        ];
        for (s, want) in cases {
            assert_eq!(parse_int(Units(&u(s))), *want, "parseInt({s:?})");
        }
    }

    #[test]
    fn slice_matches_js() {
        let v = u("abcdef");
        let s = Units(&v);
        assert_eq!(s.slice(JsIndex::At(4), JsIndex::NaN).to_string_lossy(), "");
        assert_eq!(
            s.slice(JsIndex::NaN, JsIndex::End).to_string_lossy(),
            "abcdef"
        );
        assert_eq!(
            s.slice(JsIndex::At(-2), JsIndex::End).to_string_lossy(),
            "ef"
        );
        assert_eq!(
            s.slice(JsIndex::At(1), JsIndex::At(-2)).to_string_lossy(),
            "bcd"
        );
        assert_eq!(
            s.slice(JsIndex::At(4), JsIndex::At(40)).to_string_lossy(),
            "ef"
        );
    }

    #[test]
    fn number_to_string_matches_js() {
        let cases: &[(f64, &str)] = &[
            (1735690200000.0, "1735690200000"),
            (2.5, "2.5"),
            (0.99, "0.99"),
            (1e21, "1e+21"),
            (1.2345678e21, "1.2345678e+21"),
            (1e-7, "1e-7"),
            (0.000001, "0.000001"),
            (123e-20, "1.23e-18"),
            (100.0, "100"),
            (-5.0, "-5"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
        ];
        for (x, want) in cases {
            assert_eq!(number_to_string(*x), *want);
        }
    }

    #[test]
    fn string_to_number_matches_js() {
        assert_eq!(string_to_number(""), 0.0);
        assert_eq!(string_to_number("  12 "), 12.0);
        assert_eq!(string_to_number("0x1F"), 31.0);
        assert_eq!(string_to_number("1e3"), 1000.0);
        assert_eq!(string_to_number(".5"), 0.5);
        assert_eq!(string_to_number("5."), 5.0);
        assert!(string_to_number("1,000").is_nan());
        assert!(string_to_number("inf").is_nan());
        assert!(string_to_number("-0x5").is_nan());
        assert_eq!(string_to_number("-Infinity"), f64::NEG_INFINITY);
    }
}
