//! The per-hour chart: one SVG per currency, drawn on the server (no
//! script, no style attribute: geometry in attributes, colours in the
//! stylesheet). Bar heights are worked out in `Decimal` too; each bar
//! carries its exact net in `data-value` and a `<title>` tooltip.

use super::fmt::grouped;
use maud::{html, Markup};
use rust_decimal::Decimal;

const WIDTH: i64 = 480;
const HEIGHT: i64 = 120;
const LABELS: i64 = 18;
const SLOT: i64 = WIDTH / 24;

/// One hour's net, in the order the hours pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HourBar {
    pub hour: u32,
    pub net: Decimal,
    pub count: u64,
}

/// The chart of one currency's nets per hour.
pub fn hourly(currency: &str, label: &str, bars: &[HourBar]) -> Markup {
    let max = bars
        .iter()
        .map(|b| b.net.abs())
        .max()
        .unwrap_or(Decimal::ZERO);
    let any_negative = bars
        .iter()
        .any(|b| b.net.is_sign_negative() && !b.net.is_zero());
    // With refunds outweighing sales in some hour, the baseline sits in the middle.
    let baseline = if any_negative { HEIGHT / 2 } else { HEIGHT };
    let room = Decimal::from(baseline);
    let px = |v: Decimal| -> i64 {
        if max.is_zero() {
            return 0;
        }
        let h = (v.abs() * room / max).round();
        i64::try_from(h).unwrap_or(0).max(i64::from(!v.is_zero()))
    };
    html! {
        figure.chart data-currency=(currency) {
            svg viewBox=(format!("0 0 {WIDTH} {}", HEIGHT + LABELS)) role="img" aria-label=(label)
                xmlns="http://www.w3.org/2000/svg" {
                line.base x1="0" x2=(WIDTH) y1=(baseline) y2=(baseline) {}
                @for (i, b) in bars.iter().enumerate() {
                    @let h = px(b.net);
                    @let x = i as i64 * SLOT + 2;
                    @let y = if b.net.is_sign_negative() { baseline } else { baseline - h };
                    rect class=(if b.net.is_sign_negative() { "bar neg" } else { "bar" })
                        x=(x) y=(y) width=(SLOT - 4) height=(h)
                        data-hour=(b.hour) data-value=(b.net.to_string()) data-count=(b.count) {
                        title { (format!("{:02}:00 · {} {currency} · {}", b.hour, grouped(b.net), b.count)) }
                    }
                    @if i % 3 == 0 {
                        text.tick x=(x) y=(HEIGHT + LABELS - 4) { (format!("{:02}", b.hour)) }
                    }
                }
            }
            figcaption { (label) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_and_keep_exact_values() {
        let bars: Vec<HourBar> = (0..24)
            .map(|h| HourBar {
                hour: h,
                net: match h {
                    10 => "100.00".parse().unwrap(),
                    11 => "25.00".parse().unwrap(),
                    12 => "0.01".parse().unwrap(),
                    _ => Decimal::ZERO,
                },
                count: u64::from(h == 10),
            })
            .collect();
        let svg = hourly("BDT", "BDT", &bars).into_string();
        assert!(
            svg.contains(r#"data-hour="10" data-value="100.00""#),
            "{svg}"
        );
        assert!(svg.contains(r#"height="120" data-hour="10""#), "{svg}");
        assert!(svg.contains(r#"height="30" data-hour="11""#), "{svg}");
        // A cent still shows.
        assert!(svg.contains(r#"height="1" data-hour="12""#), "{svg}");
        assert!(!svg.contains("style"), "{svg}");
    }
}
