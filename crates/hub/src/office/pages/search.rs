//! `GET /office/search`: settlements by invoice, trxID, MD5/hash (any
//! reference), amount, terminal, day, wallet; `GET /office/export.csv`: the
//! same filters as a CSV file (the `csv` crate writes it).

use crate::office::i18n::Words;
use crate::office::model::OfficeSearch;
use crate::office::sessions::{unavailable, Signed};
use crate::office::templates::{fmt, shell, Nav};
use crate::office::OfficeConfig;
use crate::server::Hub;
use crate::store::{StoreError, StoredEvent};
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, FixedOffset};
use maud::{html, Markup};
use rust_decimal::Decimal;
use serde::Deserialize;
use std::str::FromStr;

/// Results per page.
const PAGE: u32 = 100;
/// Most rows one CSV file holds.
pub const CSV_MAX_ROWS: usize = 100_000;
/// Longest search text.
const MAX_TEXT: usize = 200;

/// The search form's fields, as the query string carries them.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SearchParams {
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub amount: Option<String>,
    #[serde(default)]
    pub terminal: Option<String>,
    #[serde(default)]
    pub day: Option<String>,
    #[serde(default)]
    pub provider: Option<String>,
    #[serde(default)]
    pub after: Option<i64>,
}

/// Which field of the form is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadField {
    Text,
    Amount,
    Day,
    Terminal,
}

fn given(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl SearchParams {
    /// The store's filters; with none given, today's events.
    pub fn filters(&self, cfg: &OfficeConfig, limit: u32) -> Result<OfficeSearch, BadField> {
        let text = given(&self.q).map(str::to_owned);
        if text
            .as_deref()
            .is_some_and(|t| t.chars().count() > MAX_TEXT || t.chars().any(char::is_control))
        {
            return Err(BadField::Text);
        }
        let amount = given(&self.amount)
            .map(|a| {
                let plain: String = a.chars().filter(|c| *c != ',' && *c != ' ').collect();
                Decimal::from_str(&plain)
                    .ok()
                    .filter(|d| !d.is_sign_negative())
                    .ok_or(BadField::Amount)
            })
            .transpose()?;
        let day = given(&self.day)
            .map(|d| till_sync_proto::read::parse_day(d).map_err(|_| BadField::Day))
            .transpose()?;
        let terminal = given(&self.terminal).map(str::to_owned);
        if terminal
            .as_deref()
            .is_some_and(|t| !till_sync_proto::valid_id(t))
        {
            return Err(BadField::Terminal);
        }
        let provider = given(&self.provider).map(str::to_lowercase);
        let nothing = text.is_none()
            && amount.is_none()
            && day.is_none()
            && terminal.is_none()
            && provider.is_none();
        Ok(OfficeSearch {
            text,
            amount,
            terminal,
            day: if nothing { Some(cfg.today()) } else { day },
            provider,
            after: self.after,
            limit,
        })
    }

    /// The query string of the form's fields (without `after`).
    fn query_string(&self) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("q", &self.q),
            ("amount", &self.amount),
            ("terminal", &self.terminal),
            ("day", &self.day),
            ("provider", &self.provider),
        ] {
            if let Some(v) = given(v) {
                s.append_pair(k, v);
            }
        }
        s.finish()
    }
}

/// An event's fields as the results and the CSV show them.
struct Row {
    ev: StoredEvent,
    occurred_at: Option<DateTime<FixedOffset>>,
    invoice: Option<String>,
    lookup: Option<String>,
    transaction: Option<String>,
    external: Option<String>,
    refund_id: Option<String>,
}

impl Row {
    fn of(ev: StoredEvent) -> Row {
        let parsed: Option<till_sync_proto::Event> = serde_json::from_str(ev.event.get()).ok();
        let p = parsed.as_ref().and_then(|e| e.payment.as_ref());
        Row {
            occurred_at: parsed.as_ref().map(|e| e.occurred_at),
            invoice: p.and_then(|p| p.invoice.clone()),
            lookup: p.and_then(|p| p.references.lookup.clone()),
            transaction: p.and_then(|p| p.references.transaction.clone()),
            external: p.and_then(|p| p.references.external.clone()),
            refund_id: parsed
                .as_ref()
                .and_then(|e| e.refund.as_ref())
                .map(|r| r.id.clone()),
            ev,
        }
    }

    fn is_refund(&self) -> bool {
        self.ev.kind == till_sync_proto::EventType::PaymentRefunded.as_str()
    }
}

fn bad_field_text(w: &Words, f: BadField) -> &'static str {
    match f {
        BadField::Text => w.bad_search_text,
        BadField::Amount => w.bad_amount,
        BadField::Day => w.bad_day,
        BadField::Terminal => w.bad_terminal,
    }
}

fn form(w: &Words, p: &SearchParams, terminals: &[String]) -> Markup {
    html! {
        form.search method="get" action="/office/search" id="search" {
            div.field.wide {
                label for="q" { (w.search_text) }
                input id="q" name="q" type="search" value=[given(&p.q)] placeholder=(w.search_placeholder)
                    autocapitalize="none" spellcheck="false";
            }
            div.field {
                label for="amount" { (w.amount) }
                input id="amount" name="amount" inputmode="decimal" value=[given(&p.amount)];
            }
            div.field {
                label for="terminal" { (w.terminal) }
                select id="terminal" name="terminal" {
                    option value="" { (w.all) }
                    @for t in terminals {
                        option value=(t) selected[given(&p.terminal) == Some(t.as_str())] { (t) }
                    }
                }
            }
            div.field {
                label for="day" { (w.day) }
                input id="day" name="day" type="date" value=[given(&p.day)];
            }
            div.field.actions { button type="submit" { (w.search) } }
        }
    }
}

fn results(w: &Words, cfg: &OfficeConfig, rows: &[Row]) -> Markup {
    html! {
        div.scroll { table.results {
            thead { tr {
                th { (w.time) } th { (w.terminal) } th { (w.wallet) } th.num { (w.amount) }
                th { (w.invoice) } th { (w.references) } th { (w.day) }
            } }
            tbody {
                @for r in rows {
                    tr data-event=(r.ev.id) data-type=(r.ev.kind) class=[r.is_refund().then_some("refund")] {
                        td { @if let Some(t) = r.occurred_at { (fmt::when(cfg, t.with_timezone(&chrono::Utc))) } }
                        td { a href=(format!("/office/terminals/{}", r.ev.terminal_id)) { (r.ev.terminal_id) }
                             " " small { "#" (r.ev.sequence) } }
                        td { (w.wallet_name(r.ev.provider.as_deref().unwrap_or(""))) }
                        td.num {
                            @if r.is_refund() {
                                span.refund { (w.refund) " −" }
                                (fmt::money(r.ev.refund_amount.unwrap_or_default(), r.ev.currency.as_deref().unwrap_or("")))
                            } @else {
                                (fmt::money(r.ev.amount.unwrap_or_default(), r.ev.currency.as_deref().unwrap_or("")))
                            }
                        }
                        td { code data-invoice=[r.invoice.as_deref()] { (r.invoice.as_deref().unwrap_or("—")) } }
                        td.refs {
                            @if let Some(t) = &r.transaction { code data-ref="transaction" { (t) } br; }
                            @if let Some(l) = &r.lookup { code data-ref="lookup" { (l) } br; }
                            @if let Some(x) = &r.external { code data-ref="external" { (x) } br; }
                            small { code title=(w.payment_id) { (r.ev.payment_id.as_deref().unwrap_or("")) } }
                        }
                        td { a href=(format!("/office/days?day={}", r.ev.business_day)) { (r.ev.business_day) } }
                    }
                }
            }
        } }
    }
}

async fn terminal_ids(hub: &Hub) -> Result<Vec<String>, StoreError> {
    Ok(hub
        .store
        .terminals()
        .await?
        .into_iter()
        .map(|t| t.id)
        .collect())
}

/// `GET /office/search`
pub async fn page(
    State(hub): State<Hub>,
    signed: Signed,
    Query(p): Query<SearchParams>,
) -> Response {
    let cfg = &hub.config.office;
    let filters = p.filters(cfg, PAGE);
    let found = match &filters {
        Ok(f) => hub.store.office_search(f).await.map(Some),
        Err(_) => Ok(None),
    };
    let (found, terminals) = match (found, terminal_ids(&hub).await) {
        (Ok(f), Ok(t)) => (f, t),
        (Err(e), _) | (_, Err(e)) => return unavailable(signed.lang, e),
    };
    let ctx = signed.ctx();
    let w = ctx.w;
    let rows: Vec<Row> = found.unwrap_or_default().into_iter().map(Row::of).collect();
    let more = (rows.len() == PAGE as usize)
        .then(|| rows.last().map(|r| r.ev.cursor))
        .flatten();
    let qs = p.query_string();
    let body = html! {
        h1 { (w.search_title) }
        (form(w, &p, &terminals))
        @match &filters {
            Err(f) => { p.notice.error role="alert" data-notice="bad" { (bad_field_text(w, *f)) } }
            Ok(f) => {
                p.summary {
                    span data-results=(rows.len()) { (w.results(rows.len(), more.is_some())) }
                    @if f.day.is_some() && given(&p.day).is_none() && given(&p.q).is_none() && given(&p.amount).is_none() && given(&p.terminal).is_none() {
                        " · " (w.showing_today)
                    }
                    " · "
                    a href=(format!("/office/export.csv?{qs}")) download id="export" { (w.download_csv) }
                }
                @if rows.is_empty() { p.empty { (w.nothing_found) } }
                @else { (results(w, cfg, &rows)) }
                @if let Some(after) = more {
                    p { a.button href=(format!("/office/search?{qs}&after={after}")) rel="next" { (w.more) } }
                }
            }
        }
    };
    shell(&ctx, Nav::Search, w.search_title, None, body).into_response()
}

/// A cell a spreadsheet must not take for a formula: one starting with
/// `= + - @` or a tab/return gets a leading `'` (numbers are left alone).
fn cell(s: &str) -> std::borrow::Cow<'_, str> {
    let risky = s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && Decimal::from_str(s).is_err() {
        format!("'{s}").into()
    } else {
        s.into()
    }
}

/// The CSV's header row.
pub const CSV_HEADER: [&str; 17] = [
    "event_id",
    "terminal",
    "sequence",
    "type",
    "business_day",
    "occurred_at",
    "received_at",
    "provider",
    "currency",
    "amount",
    "refund_amount",
    "payment_id",
    "invoice",
    "lookup",
    "transaction",
    "external",
    "refund_id",
];

fn csv_bytes(rows: &[Row]) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(CSV_HEADER)?;
    for r in rows {
        let e = &r.ev;
        let dec = |d: Option<Decimal>| d.map(|d| d.to_string()).unwrap_or_default();
        let opt = |s: &Option<String>| s.clone().unwrap_or_default();
        let fields = [
            e.id.clone(),
            e.terminal_id.clone(),
            e.sequence.to_string(),
            e.kind.clone(),
            e.business_day.to_string(),
            r.occurred_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            e.received_at.to_rfc3339(),
            opt(&e.provider),
            opt(&e.currency),
            dec(e.amount),
            if r.is_refund() {
                dec(e.refund_amount)
            } else {
                String::new()
            },
            opt(&e.payment_id),
            opt(&r.invoice),
            opt(&r.lookup),
            opt(&r.transaction),
            opt(&r.external),
            opt(&r.refund_id),
        ];
        out.write_record(fields.iter().map(|f| cell(f).into_owned()))?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
}

/// `GET /office/export.csv`
pub async fn csv(
    State(hub): State<Hub>,
    signed: Signed,
    Query(p): Query<SearchParams>,
) -> Response {
    let cfg = &hub.config.office;
    let mut f = match p.filters(cfg, till_sync_proto::read::MAX_LIMIT) {
        Ok(f) => f,
        Err(bad) => {
            return (
                StatusCode::BAD_REQUEST,
                bad_field_text(signed.lang.words(), bad),
            )
                .into_response()
        }
    };
    let mut rows = Vec::new();
    loop {
        let page = match hub.store.office_search(&f).await {
            Ok(p) => p,
            Err(e) => return unavailable(signed.lang, e),
        };
        let full = page.len() == f.limit as usize;
        f.after = page.last().map(|e| e.cursor);
        rows.extend(page.into_iter().map(Row::of));
        if !full || rows.len() >= CSV_MAX_ROWS {
            break;
        }
    }
    rows.truncate(CSV_MAX_ROWS);
    let bytes = match csv_bytes(&rows) {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "office: CSV export failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let name = match f.day {
        Some(d) => format!("till-settlements-{d}.csv"),
        None => "till-settlements.csv".to_owned(),
    };
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused_numbers_are_not() {
        assert_eq!(cell("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(cell("-cmd"), "'-cmd");
        assert_eq!(cell("-12.50"), "-12.50");
        assert_eq!(cell("BFM1XYZ"), "BFM1XYZ");
    }

    #[test]
    fn forms_become_filters() {
        let cfg = OfficeConfig::default();
        let p = SearchParams {
            amount: Some(" 1,250.5 ".into()),
            ..Default::default()
        };
        let f = p.filters(&cfg, 10).unwrap();
        assert_eq!(f.amount, Some("1250.5".parse().unwrap()));
        assert_eq!(f.day, None);
        let empty = SearchParams::default().filters(&cfg, 10).unwrap();
        assert_eq!(empty.day, Some(cfg.today()));
        for (bad, field) in [
            (
                SearchParams {
                    amount: Some("12,5x".into()),
                    ..Default::default()
                },
                BadField::Amount,
            ),
            (
                SearchParams {
                    day: Some("3.12.2026".into()),
                    ..Default::default()
                },
                BadField::Day,
            ),
            (
                SearchParams {
                    q: Some("a\nb".into()),
                    ..Default::default()
                },
                BadField::Text,
            ),
            (
                SearchParams {
                    terminal: Some("no such/thing".into()),
                    ..Default::default()
                },
                BadField::Terminal,
            ),
        ] {
            assert_eq!(bad.filters(&cfg, 10).unwrap_err(), field);
        }
    }
}
