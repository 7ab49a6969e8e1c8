//! How amounts and times read on the pages. The exact value always travels
//! beside the shown one (`data-value`), so a page can be checked against the
//! read API to the last digit.

use crate::office::i18n::Words;
use crate::office::OfficeConfig;
use chrono::{DateTime, Utc};
use maud::{html, Markup};
use rust_decimal::Decimal;

/// `1234567.5` → `1,234,567.5`: grouped in thousands, decimals as stored
/// (the currency's exponent), a minus sign for a negative net.
pub fn grouped(d: Decimal) -> String {
    let text = d.abs().to_string();
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (text.as_str(), None),
    };
    let mut out = String::with_capacity(text.len() + text.len() / 3 + 1);
    if d.is_sign_negative() && !d.is_zero() {
        out.push('−');
    }
    let digits = int.len();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (digits - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out
}

/// An amount with its exact value in `data-value` (and `data-total`, the
/// name a test or a script finds it by).
pub fn amount(d: Decimal, name: Option<&str>) -> Markup {
    html! {
        span.amount data-value=(d.to_string()) data-total=[name] { (grouped(d)) }
    }
}

/// An amount and its currency code.
pub fn money(d: Decimal, currency: &str) -> Markup {
    html! { (amount(d, None)) " " span.cur { (currency) } }
}

/// The shop's wall-clock time of an instant, to the minute.
pub fn when(cfg: &OfficeConfig, at: DateTime<Utc>) -> String {
    cfg.local(at).format("%Y-%m-%d %H:%M").to_string()
}

/// "3 min ago", "2 h ago", "4 days ago", in the viewer's words, with the
/// exact time as a tooltip.
pub fn ago(w: &Words, cfg: &OfficeConfig, at: Option<DateTime<Utc>>) -> Markup {
    let Some(at) = at else {
        return html! { span.none { (w.never) } };
    };
    let secs = (Utc::now() - at).num_seconds().max(0);
    let text = match secs {
        s if s < 60 => w.just_now.to_owned(),
        s if s < 3600 => w.minutes_ago(s / 60),
        s if s < 86_400 => w.hours_ago(s / 3600),
        s => w.days_ago(s / 86_400),
    };
    html! { time datetime=(at.to_rfc3339()) title=(when(cfg, at)) { (text) } }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping() {
        let g = |s: &str| grouped(s.parse().unwrap());
        assert_eq!(g("0.00"), "0.00");
        assert_eq!(g("999"), "999");
        assert_eq!(g("1000"), "1,000");
        assert_eq!(g("1234567.50"), "1,234,567.50");
        assert_eq!(g("-1250.00"), "−1,250.00");
        assert_eq!(g("-0.00"), "0.00");
    }
}
