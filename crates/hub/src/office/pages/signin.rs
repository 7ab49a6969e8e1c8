//! Sign-in, sign-out, and the language a user reads the office in.

use crate::office::csrf::SIGNIN_COOKIE;
use crate::office::i18n::Lang;
use crate::office::sessions::{
    self, cookie_value, new_token, request_lang, set_cookie, unavailable, SignIn, Signed,
    SESSION_COOKIE,
};
use crate::office::templates::{csrf_field, fmt, shell, Ctx, Nav};
use crate::server::Hub;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::Utc;
use maud::html;
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct FormQuery {
    next: Option<String>,
    lang: Option<String>,
    ended: Option<String>,
    signed_out: Option<String>,
}

/// Where to go after signing in: one of our pages, else today.
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n) if n.starts_with("/office/") && !n.contains('\\') => n,
        _ => "/office/",
    }
}

/// A note above the form: (kind for the stylesheet, code for tests, text).
struct Notice {
    kind: &'static str,
    code: &'static str,
    text: String,
}

fn render(
    lang: Lang,
    token: &str,
    next: Option<&str>,
    username: Option<&str>,
    notice: Option<Notice>,
) -> maud::Markup {
    let ctx = Ctx::anonymous(lang);
    let w = ctx.w;
    let body = html! {
        section.signin {
            h1 { (w.sign_in_title) }
            @if let Some(n) = &notice {
                p class=(format!("notice {}", n.kind)) role="alert" data-notice=(n.code) { (n.text) }
            }
            form method="post" action="/office/signin" id="signin" {
                (csrf_field(token))
                @if let Some(next) = next { input type="hidden" name="next" value=(next); }
                input type="hidden" name="lang" value=(lang.code());
                label for="username" { (w.username) }
                input id="username" name="username" autocomplete="username" required
                    autocapitalize="none" spellcheck="false" value=[username] autofocus;
                label for="password" { (w.password) }
                input id="password" type="password" name="password" autocomplete="current-password" required;
                button type="submit" { (w.sign_in) }
            }
        }
    };
    shell(&ctx, Nav::None, w.sign_in_title, None, body)
}

/// The form's cookie: the one the browser has, else a new one.
fn form_token(headers: &HeaderMap) -> (String, Option<String>) {
    match cookie_value(headers, SIGNIN_COOKIE) {
        Some(t) => (t, None),
        None => {
            let t = new_token();
            let c = set_cookie(SIGNIN_COOKIE, Some(&t));
            (t, Some(c))
        }
    }
}

/// `GET /office/signin`
pub async fn form(
    signed: Result<Signed, Response>,
    headers: HeaderMap,
    Query(q): Query<FormQuery>,
) -> Response {
    if signed.is_ok() {
        return Redirect::to(safe_next(q.next.as_deref())).into_response();
    }
    let lang = request_lang(&headers, q.lang.as_deref());
    let w = lang.words();
    let notice = if q.ended.is_some() {
        Some(Notice {
            kind: "info",
            code: "ended",
            text: w.session_ended.to_owned(),
        })
    } else if q.signed_out.is_some() {
        Some(Notice {
            kind: "info",
            code: "signed_out",
            text: w.signed_out.to_owned(),
        })
    } else {
        None
    };
    let (token, cookie) = form_token(&headers);
    let markup = render(lang, &token, q.next.as_deref(), None, notice);
    let mut resp = markup.into_response();
    if let Some(c) = cookie {
        resp.headers_mut()
            .append(header::SET_COOKIE, c.parse().expect("cookie text"));
    }
    resp
}

#[derive(Deserialize)]
pub struct SignInForm {
    csrf: String,
    username: String,
    password: String,
    next: Option<String>,
    lang: Option<String>,
}

/// `POST /office/signin`
pub async fn submit(
    State(hub): State<Hub>,
    headers: HeaderMap,
    Form(f): Form<SignInForm>,
) -> Response {
    let lang = request_lang(&headers, f.lang.as_deref());
    let w = lang.words();
    let cfg = &hub.config.office;
    let outcome = match sessions::sign_in(&*hub.store, cfg, &f.username, &f.password).await {
        Ok(o) => o,
        Err(e) => return unavailable(lang, e),
    };
    let (status, notice) = match outcome {
        SignIn::Opened { token, user } => {
            tracing::info!(user = %user.username, "office: signed in");
            let mut resp = Redirect::to(safe_next(f.next.as_deref())).into_response();
            resp.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(SESSION_COOKIE, Some(&token))
                    .parse()
                    .expect("cookie text"),
            );
            return resp;
        }
        SignIn::Wrong => (
            StatusCode::UNAUTHORIZED,
            Notice {
                kind: "error",
                code: "wrong",
                text: w.wrong_password.to_owned(),
            },
        ),
        SignIn::Locked { until } => {
            let minutes = ((until - Utc::now()).num_seconds().max(0) + 59) / 60;
            tracing::warn!(user = %f.username.trim(), %until, "office: sign-in locked");
            (
                StatusCode::TOO_MANY_REQUESTS,
                Notice {
                    kind: "error",
                    code: "locked",
                    text: w.locked(&fmt::when(cfg, until), minutes.max(1)),
                },
            )
        }
        SignIn::Disabled => (
            StatusCode::FORBIDDEN,
            Notice {
                kind: "error",
                code: "disabled",
                text: w.user_disabled.to_owned(),
            },
        ),
    };
    (
        status,
        render(
            lang,
            &f.csrf,
            f.next.as_deref(),
            Some(f.username.trim()),
            Some(notice),
        ),
    )
        .into_response()
}

/// `POST /office/signout`
pub async fn sign_out(State(hub): State<Hub>, headers: HeaderMap) -> Response {
    if let Err(e) = sessions::sign_out(&*hub.store, &headers).await {
        return unavailable(Lang::negotiate(&headers), e);
    }
    let mut resp = Redirect::to("/office/signin?signed_out=1").into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, None)
            .parse()
            .expect("cookie text"),
    );
    resp
}

#[derive(Deserialize)]
pub struct LanguageForm {
    language: String,
}

/// `POST /office/language`: kept with the user; back to the page it was sent from.
pub async fn language(
    State(hub): State<Hub>,
    signed: Signed,
    headers: HeaderMap,
    Form(f): Form<LanguageForm>,
) -> Response {
    let Some(lang) = Lang::from_code(&f.language) else {
        return (StatusCode::BAD_REQUEST, "unknown language").into_response();
    };
    if let Err(e) = hub
        .store
        .office_set_language(signed.user.id, Some(lang.code()))
        .await
    {
        return unavailable(lang, e);
    }
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| url::Url::parse(r).ok())
        .map(|u| match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        });
    Redirect::to(safe_next(back.as_deref())).into_response()
}
