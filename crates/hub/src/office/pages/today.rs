//! `GET /office/`: today across every terminal — the net per currency and
//! per wallet (the read API's totals), the nets per hour, and each
//! terminal's state (last seen, gaps, today's Z-report).

use super::{day_events, per_currency, per_hour};
use crate::days::{day_status, DayStatus};
use crate::office::i18n::Words;
use crate::office::sessions::{unavailable, Signed};
use crate::office::templates::{chart, check, fmt, shell, Nav};
use crate::office::OfficeConfig;
use crate::server::Hub;
use crate::store::{Store, StoreError, TerminalInfo, TotalsQuery, TotalsRow};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use maud::{html, Markup};

/// The table of a day's totals, one line per wallet × currency (also the
/// day view's and a terminal's).
pub fn totals_table(w: &Words, rows: &[TotalsRow], scope: &str) -> Markup {
    html! {
        div.scroll {
            table.totals data-scope=(scope) {
                thead { tr {
                    th { (w.wallet) } th { (w.currency) } th.num { (w.payments) }
                    th.num { (w.settled) } th.num { (w.refunds) } th.num { (w.refunded) }
                    th.num { (w.net) }
                } }
                tbody {
                    @for r in rows {
                        @let key = format!("{}/{}", r.provider, r.currency);
                        tr data-row=(key) {
                            td { (w.wallet_name(&r.provider)) }
                            td { (r.currency) }
                            td.num data-total=(format!("{key}/count")) { (r.count) }
                            td.num { (fmt::amount(r.settled, Some(&format!("{key}/settled")))) }
                            td.num data-total=(format!("{key}/refund_count")) { (r.refund_count) }
                            td.num { (fmt::amount(r.refunded, Some(&format!("{key}/refunded")))) }
                            td.num.net { (fmt::amount(r.net, Some(&format!("{key}/net")))) }
                        }
                    }
                }
            }
        }
    }
}

/// A terminal's sequence state in a few words: ✓, or the missing ranges.
pub fn sync_state(w: &Words, t: &TerminalInfo, gaps: &[[u64; 2]]) -> Markup {
    html! {
        @if gaps.is_empty() && t.max_sequence == t.highest_contiguous {
            span.ok data-gaps="0" { "✓ " (w.in_sequence) }
        } @else {
            span.bad data-gaps=(gaps.len()) {
                "✗ " (w.missing) " "
                @for (i, g) in gaps.iter().enumerate() {
                    @if i > 0 { ", " }
                    span.gap data-gap=(format!("{}-{}", g[0], g[1])) {
                        @if g[0] == g[1] { (g[0]) } @else { (g[0]) "–" (g[1]) }
                    }
                }
            }
        }
    }
}

/// The Z-report state of a terminal's day: ✓ closed and matching, ✗ closed
/// and different, or still open.
pub fn z_state(w: &Words, s: &DayStatus) -> Markup {
    html! {
        @if s.z_report {
            span data-z=(if s.totals_match == Some(true) { "match" } else { "differs" }) {
                (check(w, s.totals_match)) " "
                (if s.totals_match == Some(true) { w.closed_matches } else { w.closed_differs })
            }
        } @else {
            span.none data-z="open" { (w.not_closed) }
        }
    }
}

/// Every terminal's gaps (asked only of those whose stream has a hole).
pub async fn gaps_of(store: &dyn Store, t: &TerminalInfo) -> Result<Vec<[u64; 2]>, StoreError> {
    if t.max_sequence == t.highest_contiguous {
        return Ok(Vec::new());
    }
    Ok(store
        .progress(&t.id)
        .await?
        .map(|p| p.gaps)
        .unwrap_or_default())
}

struct TerminalLine {
    info: TerminalInfo,
    gaps: Vec<[u64; 2]>,
    day: DayStatus,
}

async fn gather(
    hub: &Hub,
    day: NaiveDate,
) -> Result<
    (
        Vec<TotalsRow>,
        Vec<crate::store::StoredEvent>,
        bool,
        Vec<TerminalLine>,
    ),
    StoreError,
> {
    let store = &*hub.store;
    let totals = store
        .totals(&TotalsQuery {
            terminal: None,
            day: Some(day),
        })
        .await?;
    let (events, partial) = day_events(store, day, None).await?;
    let mut lines = Vec::new();
    for info in store.terminals().await? {
        let gaps = gaps_of(store, &info).await?;
        let day = day_status(store, &info.id, day).await?;
        lines.push(TerminalLine { info, gaps, day });
    }
    Ok((totals, events, partial, lines))
}

/// The terminals' table of the front page.
fn terminals_table(w: &Words, cfg: &OfficeConfig, lines: &[TerminalLine]) -> Markup {
    html! {
        div.scroll {
            table.terminals {
                thead { tr {
                    th { (w.terminal) } th { (w.last_seen) } th { (w.sequence) } th { (w.z_report_today) }
                } }
                tbody {
                    @for l in lines {
                        tr data-terminal=(l.info.id) class=[(l.info.status == crate::store::TerminalStatus::Disabled).then_some("disabled")] {
                            td {
                                a href=(format!("/office/terminals/{}", l.info.id)) { (l.info.id) }
                                @if let Some(n) = &l.info.name { br; small { (n) } }
                            }
                            td { (fmt::ago(w, cfg, l.info.last_received_at)) }
                            td { (sync_state(w, &l.info, &l.gaps)) }
                            td { (z_state(w, &l.day)) }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /office/`
pub async fn page(State(hub): State<Hub>, signed: Signed) -> Response {
    let cfg = &hub.config.office;
    let day = cfg.today();
    let (totals, events, partial, lines) = match gather(&hub, day).await {
        Ok(g) => g,
        Err(e) => return unavailable(signed.lang, e),
    };
    let ctx = signed.ctx();
    let w = ctx.w;
    let sums = per_currency(&totals);
    let hours = per_hour(cfg, &events);
    let body = html! {
        h1 { (w.today) " " time datetime=(day) data-day=(day) { (day) } }
        p.sub { (w.updated) " " (fmt::when(cfg, chrono::Utc::now())) }
        @if sums.is_empty() {
            p.empty { (w.no_sales) }
        }
        section.cards {
            @for s in &sums {
                div.card data-currency=(s.currency) {
                    h2 { (w.net) " · " (s.currency) }
                    p.big { (fmt::amount(s.net, Some(&format!("{}/net", s.currency)))) " " span.cur { (s.currency) } }
                    p.small {
                        (w.settled) " " (s.count) " · " (fmt::money(s.settled, &s.currency))
                        @if s.refund_count > 0 {
                            br; (w.refunded) " " (s.refund_count) " · −" (fmt::money(s.refunded, &s.currency))
                        }
                    }
                }
            }
        }
        @if !totals.is_empty() {
            section {
                h2 { (w.by_wallet) }
                (totals_table(w, &totals, "all"))
            }
            section.charts {
                h2 { (w.per_hour) }
                @if partial { p.notice.info { (w.chart_partial) } }
                div.grid {
                    @for (currency, bars) in &hours {
                        (chart::hourly(currency, &format!("{} · {}", w.per_hour, currency), bars))
                    }
                }
            }
        }
        section {
            h2 { (w.terminals) }
            @if lines.is_empty() { p.empty { (w.no_terminals) } }
            @else { (terminals_table(w, cfg, &lines)) }
        }
    };
    shell(&ctx, Nav::Today, w.today, Some(60), body).into_response()
}
