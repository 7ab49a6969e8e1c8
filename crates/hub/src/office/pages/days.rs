//! `GET /office/days?day=`: one business day — which terminals closed it,
//! which Z-reports differ from what the hub holds and by how much, the
//! day's totals, and what the providers say (the "Provider evidence"
//! section, [`crate::office::evidence`]).

use super::per_currency;
use super::terminals::comparison;
use super::today::{totals_table, z_state};
use crate::days::{self, DayStatus};
use crate::office::evidence::{self, DayEvidence, EvidenceKind, EvidenceMethod};
use crate::office::i18n::Words;
use crate::office::sessions::{unavailable, Signed};
use crate::office::templates::{fmt, shell, Nav};
use crate::office::OfficeConfig;
use crate::server::Hub;
use crate::store::{StoreError, TotalsQuery, TotalsRow};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use maud::{html, Markup};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct DayQuery {
    day: Option<String>,
}

/// The "Provider evidence" section: whatever [`evidence::for_day`] found.
fn evidence_section(w: &Words, cfg: &OfficeConfig, e: &DayEvidence) -> Markup {
    html! {
        section.evidence id="provider-evidence" {
            h2 { (w.provider_evidence) }
            @if e.sources.is_empty() {
                p.empty data-evidence="none" { (w.no_evidence) }
            }
            @for s in &e.sources {
                div.source data-provider=(s.provider) {
                    h3 { (w.wallet_name(&s.provider)) " · "
                         (match s.method { EvidenceMethod::Notifications => w.evidence_notifications,
                                           EvidenceMethod::HubCheck => w.evidence_hub_check }) }
                    p.small {
                        (s.confirmed) " " (w.evidence_confirmed)
                        @if let Some(at) = s.checked_at { " · " (w.checked) " " (fmt::when(cfg, at)) }
                    }
                    @if !s.items.is_empty() {
                        div.scroll { table {
                            thead { tr { th {} th { (w.terminal) } th { (w.reference) } th.num { (w.amount) } } }
                            tbody { @for i in &s.items {
                                tr.differs {
                                    td { (match i.kind {
                                        EvidenceKind::NotConfirmed => w.evidence_not_confirmed,
                                        EvidenceKind::NoSettlement => w.evidence_no_settlement,
                                        EvidenceKind::Differs => w.evidence_differs,
                                    }) }
                                    td { (i.terminal.as_deref().unwrap_or("—")) }
                                    td { code { (i.reference.as_deref().unwrap_or("—")) } }
                                    td.num { @if let (Some(a), Some(c)) = (i.amount, &i.currency) { (fmt::money(a, c)) } }
                                }
                            } }
                        } }
                    }
                }
            }
        }
    }
}

fn held_net(rows: &[TotalsRow]) -> Markup {
    html! {
        @for (i, s) in per_currency(rows).iter().enumerate() {
            @if i > 0 { br; }
            (fmt::money(s.net, &s.currency))
        }
    }
}

/// `GET /office/days`
pub async fn page(State(hub): State<Hub>, signed: Signed, Query(q): Query<DayQuery>) -> Response {
    let cfg = &hub.config.office;
    let today = cfg.today();
    let asked = q.day.as_deref().filter(|d| !d.is_empty());
    let parsed = asked.map(till_sync_proto::read::parse_day);
    let day = match &parsed {
        Some(Ok(d)) => *d,
        _ => today,
    };
    let store = &*hub.store;
    let gathered = async {
        let mut statuses: Vec<DayStatus> = Vec::new();
        for t in store.terminals().await? {
            statuses.push(days::day_status(store, &t.id, day).await?);
        }
        let totals = store
            .totals(&TotalsQuery {
                terminal: None,
                day: Some(day),
            })
            .await?;
        let evidence = evidence::for_day(&hub, day).await?;
        Ok::<_, StoreError>((statuses, totals, evidence))
    }
    .await;
    let (statuses, totals, evidence) = match gathered {
        Ok(g) => g,
        Err(e) => return unavailable(signed.lang, e),
    };
    let ctx = signed.ctx();
    let w = ctx.w;
    let active: Vec<&DayStatus> = statuses
        .iter()
        .filter(|s| s.z_report || !s.held.is_empty())
        .collect();
    let closed = active.iter().filter(|s| s.z_report).count();
    let differ: Vec<&&DayStatus> = active
        .iter()
        .filter(|s| s.totals_match == Some(false))
        .collect();
    let nav_day = |d: Option<NaiveDate>| d.map(|d| format!("/office/days?day={d}"));
    let body = html! {
        h1 { (w.day) " " time datetime=(day) data-day=(day) { (day) } }
        form.daypick method="get" action="/office/days" {
            @if let Some(prev) = nav_day(day.pred_opt()) { a.button href=(prev) rel="prev" { "‹ " (w.previous_day) } }
            label.sr for="day" { (w.day) }
            input id="day" type="date" name="day" value=(day) max=(today);
            button type="submit" { (w.show) }
            @if day < today { @if let Some(next) = nav_day(day.succ_opt()) { a.button href=(next) rel="next" { (w.next_day) " ›" } } }
        }
        @if let Some(Err(_)) = &parsed { p.notice.error role="alert" { (w.bad_day) } }
        p.summary data-closed=(closed) data-active=(active.len()) data-differ=(differ.len()) {
            (w.day_summary(closed, active.len(), differ.len()))
        }
        section {
            h2 { (w.terminals) }
            @if active.is_empty() { p.empty { (w.no_activity) } }
            @else {
                div.scroll { table.terminals {
                    thead { tr { th { (w.terminal) } th.num { (w.hub_holds) } th { (w.z_report) } th.num { (w.difference) } } }
                    tbody {
                        @for s in &active {
                            tr data-terminal=(s.terminal) class=[(s.totals_match == Some(false)).then_some("differs")] {
                                td { a href=(format!("/office/terminals/{}", s.terminal)) { (s.terminal) } }
                                td.num { (held_net(&s.held)) }
                                td { (z_state(w, s)) }
                                td.num {
                                    @for l in days::lines(&s.reported, &s.held).iter().filter(|_| s.z_report).filter(|l| !l.matches) {
                                        span data-difference=(format!("{}/{}", l.provider, l.currency)) {
                                            (fmt::money(l.net_difference(), &l.currency))
                                        }
                                        br;
                                    }
                                }
                            }
                        }
                    }
                } }
            }
        }
        @for s in &differ {
            section.differs data-terminal=(s.terminal) {
                h2 { (w.differences_of) " " (s.terminal) }
                (comparison(w, s))
            }
        }
        @if !totals.is_empty() {
            section {
                h2 { (w.all_terminals) }
                (totals_table(w, &totals, "day"))
            }
        }
        (evidence_section(w, cfg, &evidence))
    };
    shell(&ctx, Nav::Days, w.day, None, body).into_response()
}
