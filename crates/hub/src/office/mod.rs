//! The office: a web dashboard served by the hub under `/office/`, for the
//! people who run the shop (every till on one screen), not for terminals.
//!
//! # Parts
//!
//! - [`model`]: users, sessions and the search's filters, as stored
//!   (`migrations/*/V5__office.sql`; the store's `office_*` methods).
//! - [`users`]: adding users, passwords (Argon2id), roles, disabling: what
//!   `till-hub user …` calls.
//! - [`sessions`]: signing in (with the lockout), the session cookie, the
//!   [`sessions::Signed`] extractor every page takes.
//! - [`csrf`]: the guard in front of every state-changing request.
//! - [`i18n`]: English, Bangla and Khmer, chosen per user or by the browser.
//! - [`evidence`]: what the providers themselves say about a day (the "Provider
//!   evidence" section of the day view).
//! - [`clock`]: which business day "today" is at the office.
//! - `pages/`: one file per page; `templates/`: the page shell, amounts, the
//!   per-hour chart; `static/`: the stylesheet, the script, the fonts.
//!
//! # Invariants
//!
//! - Every figure comes from the read API's own functions
//!   ([`crate::store::Store::totals`], [`crate::days`],
//!   [`crate::store::Store::terminals`], `progress`), never a second sum;
//!   the per-hour chart only spreads the same events over the hours.
//! - No request that changes anything is served without a CSRF token that
//!   only this browser's session (or sign-in form) can know; signed-in state
//!   lives in a `Secure; HttpOnly; SameSite=Strict` cookie whose token is
//!   stored only as its SHA-256.
//! - A read-only user reaches no admin page and no admin form.
//! - No inline script or style: the pages run under a CSP of `'self'` only.

pub mod clock;
pub mod csrf;
pub mod evidence;
pub mod i18n;
pub mod model;
mod pages;
pub mod sessions;
mod templates;
pub mod users;

pub use pages::search::CSV_HEADER;

use crate::server::Hub;
use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::NaiveTime;

/// How the office behaves: the shop's day, sessions, the lockout.
#[derive(Debug, Clone)]
pub struct OfficeConfig {
    /// The shop's time zone, for "today" and the per-hour chart (`None`:
    /// this machine's).
    pub timezone: Option<chrono_tz::Tz>,
    /// When the shop's business day starts (as the terminals'
    /// `[business_day] cutoff`).
    pub day_cutoff: NaiveTime,
    /// A session ends this long after sign-in, whatever is done with it.
    pub session_lifetime: chrono::Duration,
    /// …or after this long without a page (a session's last use is
    /// written at most once a minute, so below a minute it ends anyway).
    pub session_idle: chrono::Duration,
    /// Wrong passwords in a row that lock a user…
    pub max_failures: u32,
    /// …for this long.
    pub lockout: chrono::Duration,
}

impl Default for OfficeConfig {
    fn default() -> Self {
        OfficeConfig {
            timezone: None,
            day_cutoff: NaiveTime::MIN,
            session_lifetime: chrono::Duration::hours(12),
            session_idle: chrono::Duration::hours(2),
            max_failures: 5,
            lockout: chrono::Duration::minutes(15),
        }
    }
}

/// Where the dashboard lives.
pub const BASE: &str = "/office";

/// The office's routes (merged into the hub's router).
pub fn routes() -> Router<Hub> {
    let pages = Router::new()
        .route("/office/", get(pages::today::page))
        .route(
            "/office/signin",
            get(pages::signin::form).post(pages::signin::submit),
        )
        .route("/office/signout", post(pages::signin::sign_out))
        .route("/office/language", post(pages::signin::language))
        .route("/office/terminals", get(pages::terminals::list))
        .route("/office/terminals/{id}", get(pages::terminals::one))
        .route("/office/days", get(pages::days::page))
        .route("/office/search", get(pages::search::page))
        .route("/office/export.csv", get(pages::search::csv))
        .route(
            "/office/admin/terminals",
            get(pages::admin::page).post(pages::admin::add),
        )
        .route(
            "/office/admin/terminals/{id}/{action}",
            post(pages::admin::act),
        )
        .layer(axum::middleware::from_fn(csrf::guard))
        .route("/office/static/{name}", get(pages::assets::file))
        .route("/office/{*rest}", get(pages::assets::not_found))
        .layer(axum::middleware::from_fn(security_headers));
    Router::new()
        .route("/", get(|| async { Redirect::to("/office/") }))
        .route("/office", get(|| async { Redirect::to("/office/") }))
        .merge(pages)
}

/// The CSP and its companions on every office answer; pages are not cached
/// (they show money and may show a key once).
async fn security_headers(req: Request, next: Next) -> Response {
    let is_static = req.uri().path().starts_with("/office/static/");
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, k: header::HeaderName, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
         font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
         base-uri 'none'",
    );
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::REFERRER_POLICY, "same-origin");
    if !is_static {
        set(h, header::CACHE_CONTROL, "no-store");
    }
    resp
}
