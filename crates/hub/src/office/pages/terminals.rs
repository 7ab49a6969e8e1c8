//! `GET /office/terminals` (every terminal's state) and
//! `GET /office/terminals/{id}` (one: last seen, sequence gaps, the last
//! Z-report and whether its totals match, recent days).

use super::per_currency;
use super::today::{gaps_of, sync_state, totals_table, z_state};
use crate::days::{self, DayStatus};
use crate::office::i18n::Words;
use crate::office::sessions::{unavailable, Signed};
use crate::office::templates::{check, error_page, fmt, shell, Nav};
use crate::office::OfficeConfig;
use crate::server::Hub;
use crate::store::{StoreError, TerminalInfo, TerminalStatus, TotalsQuery};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};

/// Days of a terminal shown on its page (the last Z-report is looked for among them).
const RECENT_DAYS: u32 = 31;

fn status_word(w: &Words, s: TerminalStatus) -> Markup {
    match s {
        TerminalStatus::Active => html! { span.ok data-status="active" { (w.active) } },
        TerminalStatus::Disabled => html! { span.bad data-status="disabled" { (w.disabled) } },
    }
}

/// Flags a terminal's listing raises: a new payee, a broken audit chain.
fn flags(w: &Words, t: &TerminalInfo) -> Markup {
    html! {
        @if t.payee_changed { span.flag.bad data-flag="payee" title=(w.payee_changed_hint) { (w.payee_changed) } " " }
        @if t.chain_broken { span.flag.bad data-flag="chain" title=(w.chain_broken_hint) { (w.chain_broken) } }
    }
}

/// `GET /office/terminals`
pub async fn list(State(hub): State<Hub>, signed: Signed) -> Response {
    let cfg = &hub.config.office;
    let today = cfg.today();
    let gathered: Result<Vec<_>, StoreError> = async {
        let mut out = Vec::new();
        for t in hub.store.terminals().await? {
            let gaps = gaps_of(&*hub.store, &t).await?;
            let day = days::day_status(&*hub.store, &t.id, today).await?;
            out.push((t, gaps, day));
        }
        Ok(out)
    }
    .await;
    let rows = match gathered {
        Ok(r) => r,
        Err(e) => return unavailable(signed.lang, e),
    };
    let ctx = signed.ctx();
    let w = ctx.w;
    let body = html! {
        h1 { (w.terminals) }
        @if rows.is_empty() { p.empty { (w.no_terminals) } }
        @else {
            div.scroll { table.terminals {
                thead { tr {
                    th { (w.terminal) } th { (w.status) } th { (w.last_seen) } th.num { (w.events) }
                    th { (w.sequence) } th { (w.z_report_today) } th {}
                } }
                tbody {
                    @for (t, gaps, day) in &rows {
                        tr data-terminal=(t.id) {
                            td { a href=(format!("/office/terminals/{}", t.id)) { (t.id) }
                                 @if let Some(n) = &t.name { br; small { (n) } } }
                            td { (status_word(w, t.status)) }
                            td { (fmt::ago(w, cfg, t.last_received_at)) }
                            td.num { (t.events) }
                            td { (sync_state(w, t, gaps)) }
                            td { (z_state(w, day)) }
                            td { (flags(w, t)) }
                        }
                    }
                }
            } }
        }
    };
    shell(&ctx, Nav::Terminals, w.terminals, Some(60), body).into_response()
}

/// A Z-report's lines beside the hub's: count and net each side, the
/// difference.
pub fn comparison(w: &Words, s: &DayStatus) -> Markup {
    let lines = days::lines(&s.reported, &s.held);
    html! {
        div.scroll { table.compare data-terminal=(s.terminal) data-day=(s.day) {
            thead { tr {
                th { (w.wallet) } th { (w.currency) }
                th.num { (w.z_report) } th.num { (w.hub_holds) } th.num { (w.difference) } th {}
            } }
            tbody {
                @for l in &lines {
                    @let key = format!("{}/{}", l.provider, l.currency);
                    tr data-line=(key) class=[(!l.matches).then_some("differs")] {
                        td { (w.wallet_name(&l.provider)) }
                        td { (l.currency) }
                        td.num { (l.reported.count) " · " (fmt::amount(l.reported.net, Some(&format!("{key}/reported")))) }
                        td.num { (l.held.count) " · " (fmt::amount(l.held.net, Some(&format!("{key}/held")))) }
                        td.num { (fmt::amount(l.net_difference(), Some(&format!("{key}/difference")))) }
                        td { (check(w, Some(l.matches))) }
                    }
                }
            }
        } }
    }
}

fn last_z(w: &Words, cfg: &OfficeConfig, days: &[DayStatus]) -> Markup {
    let Some(z) = days.iter().find(|d| d.z_report) else {
        return html! { p.empty data-last-z="none" { (w.no_z_report) } };
    };
    html! {
        div data-last-z=(z.day) {
            p {
                a href=(format!("/office/days?day={}", z.day)) { (z.day) } " · "
                (check(w, z.totals_match)) " "
                (if z.totals_match == Some(true) { w.closed_matches } else { w.closed_differs })
            }
            dl.facts {
                @if let Some(at) = &z.closed_at {
                    dt { (w.closed_at) }
                    dd { (chrono::DateTime::parse_from_rfc3339(at)
                        .map(|t| fmt::when(cfg, t.with_timezone(&chrono::Utc)))
                        .unwrap_or_else(|_| at.clone())) }
                }
                @if let Some(by) = &z.closed_by { dt { (w.closed_by) } dd { (by) } }
                @if let Some(at) = z.received_at { dt { (w.received) } dd { (fmt::when(cfg, at)) } }
                @if let Some(sha) = &z.report_sha256 { dt { "SHA-256" } dd { code title=(sha) { (sha.get(..16).unwrap_or(sha)) "…" } } }
                @if z.z_reports > 1 { dt { (w.z_reports) } dd.bad { (z.z_reports) } }
            }
            (comparison(w, z))
        }
    }
}

/// `GET /office/terminals/{id}`
pub async fn one(State(hub): State<Hub>, signed: Signed, Path(id): Path<String>) -> Response {
    let cfg = &hub.config.office;
    let today = cfg.today();
    let store = &*hub.store;
    let gathered = async {
        let Some(t) = store.terminals().await?.into_iter().find(|t| t.id == id) else {
            return Ok(None);
        };
        let gaps = gaps_of(store, &t).await?;
        let recent = days::days(store, Some(&id), None, RECENT_DAYS).await?;
        let totals = store
            .totals(&TotalsQuery {
                terminal: Some(id.clone()),
                day: Some(today),
            })
            .await?;
        Ok::<_, StoreError>(Some((t, gaps, recent, totals)))
    }
    .await;
    let ctx = signed.ctx();
    let w = ctx.w;
    let (t, gaps, recent, totals) = match gathered {
        Ok(Some(g)) => g,
        Ok(None) => {
            return error_page(
                &ctx,
                StatusCode::NOT_FOUND,
                w.not_found_title,
                w.no_such_terminal,
            )
        }
        Err(e) => return unavailable(signed.lang, e),
    };
    let body = html! {
        h1 { (w.terminal) " " span data-terminal=(t.id) { (t.id) } }
        @if let Some(n) = &t.name { p.sub { (n) } }
        section.cards {
            div.card { h2 { (w.status) } p { (status_word(w, t.status)) } (flags(w, &t)) }
            div.card { h2 { (w.last_seen) } p { (fmt::ago(w, cfg, t.last_received_at)) } }
            div.card {
                h2 { (w.sequence) }
                p { (sync_state(w, &t, &gaps)) }
                p.small { (w.contiguous_to) " " span data-hc=(t.highest_contiguous) { (t.highest_contiguous) }
                          " · " (w.highest) " " (t.max_sequence) " · " (t.events) " " (w.events_lc) }
            }
        }
        section {
            h2 { (w.last_z_report) }
            (last_z(w, cfg, &recent))
        }
        section {
            h2 { (w.today) " · " (today) }
            @if totals.is_empty() { p.empty { (w.no_sales) } }
            @else { (totals_table(w, &totals, &t.id)) }
        }
        section {
            h2 { (w.recent_days) }
            @if recent.is_empty() { p.empty { (w.no_days) } }
            @else {
                div.scroll { table.days {
                    thead { tr { th { (w.day) } th.num { (w.net) } th { (w.z_report) } } }
                    tbody {
                        @for d in &recent {
                            tr data-day=(d.day) {
                                td { a href=(format!("/office/days?day={}", d.day)) { (d.day) } }
                                td.num {
                                    @for (i, s) in per_currency(&d.held).iter().enumerate() {
                                        @if i > 0 { br; }
                                        (fmt::money(s.net, &s.currency))
                                    }
                                }
                                td { (z_state(w, d)) }
                            }
                        }
                    }
                } }
            }
        }
    };
    shell(&ctx, Nav::Terminals, &t.id, None, body).into_response()
}
