//! The page shell (head, navigation, the user's corner, the language
//! buttons) and what every page shows the same way: amounts, times, ✓/✗.
//! maud escapes every value it is given; nothing here writes a `style`
//! attribute or an inline script (the CSP allows neither).

pub mod chart;
pub mod fmt;

use super::i18n::{Lang, Words};
use super::model::{OfficeUser, Role};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};

/// Which part of the navigation a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Today,
    Terminals,
    Days,
    Search,
    Admin,
    None,
}

/// What the shell needs to know about the viewer.
pub struct Ctx<'a> {
    pub lang: Lang,
    pub w: &'static Words,
    /// Signed in as (None: the sign-in page and anonymous errors).
    pub user: Option<&'a OfficeUser>,
    /// The session's CSRF token, for the forms of the shell.
    pub csrf: Option<&'a str>,
}

impl<'a> Ctx<'a> {
    pub fn anonymous(lang: Lang) -> Self {
        Ctx {
            lang,
            w: lang.words(),
            user: None,
            csrf: None,
        }
    }
}

/// The hidden field every state-changing form carries.
pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

/// A whole page.
pub fn shell(ctx: &Ctx<'_>, nav: Nav, title: &str, refresh: Option<u32>, body: Markup) -> Markup {
    let w = ctx.w;
    let link = |target: Nav, href: &str, label: &str| {
        html! {
            a href=(href) class=[(target == nav).then_some("active")]
                aria-current=[(target == nav).then_some("page")] { (label) }
        }
    };
    html! {
        (DOCTYPE)
        html lang=(ctx.lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @if let Some(s) = refresh { meta http-equiv="refresh" content=(s); }
                title { (title) " · " (w.app_name) }
                link rel="stylesheet" href="/office/static/office.css";
                script src="/office/static/office.js" defer {}
            }
            body class=(format!("lang-{}", ctx.lang.code())) {
                header.top {
                    a.brand href="/office/" { (w.app_name) }
                    @if let Some(user) = ctx.user {
                        nav.main {
                            (link(Nav::Today, "/office/", w.nav_today))
                            (link(Nav::Terminals, "/office/terminals", w.nav_terminals))
                            (link(Nav::Days, "/office/days", w.nav_days))
                            (link(Nav::Search, "/office/search", w.nav_search))
                            @if user.role == Role::Admin {
                                (link(Nav::Admin, "/office/admin/terminals", w.nav_admin))
                            }
                        }
                        div.me {
                            span.who title=(w.role(user.role)) { (user.username) }
                            @if let Some(csrf) = ctx.csrf {
                                form method="post" action="/office/signout" {
                                    (csrf_field(csrf))
                                    button.link type="submit" id="sign-out" { (w.sign_out) }
                                }
                            }
                        }
                    }
                }
                main { (body) }
                footer {
                    (language_buttons(ctx))
                }
            }
        }
    }
}

/// English / বাংলা / ខ្មែរ: a form for a signed-in user (saved with them),
/// plain links on the sign-in page.
fn language_buttons(ctx: &Ctx<'_>) -> Markup {
    html! {
        @match (ctx.user, ctx.csrf) {
            (Some(_), Some(csrf)) => {
                form.lang method="post" action="/office/language" {
                    (csrf_field(csrf))
                    @for l in Lang::ALL {
                        button type="submit" name="language" value=(l.code())
                            lang=(l.code()) disabled[l == ctx.lang] { (l.name()) }
                    }
                }
            }
            _ => {
                nav.lang {
                    @for l in Lang::ALL {
                        a href=(format!("/office/signin?lang={}", l.code())) lang=(l.code())
                            class=[(l == ctx.lang).then_some("active")] { (l.name()) }
                    }
                }
            }
        }
    }
}

/// A ✓ or ✗ (or — when there is nothing to compare), with words for screen readers.
pub fn check(w: &Words, ok: Option<bool>) -> Markup {
    match ok {
        Some(true) => {
            html! { span.ok title=(w.matches) data-check="ok" { "✓" span.sr { (w.matches) } } }
        }
        Some(false) => {
            html! { span.bad title=(w.differs) data-check="bad" { "✗" span.sr { (w.differs) } } }
        }
        None => html! { span.none data-check="none" { "—" } },
    }
}

/// An error page (also for anonymous visitors).
pub fn error_page(ctx: &Ctx<'_>, status: StatusCode, title: &str, message: &str) -> Response {
    let body = html! {
        section.error data-status=(status.as_u16()) {
            h1 { (title) }
            p { (message) }
            p { a href="/office/" { (ctx.w.back_to_today) } }
        }
    };
    (status, shell(ctx, Nav::None, title, None, body)).into_response()
}
