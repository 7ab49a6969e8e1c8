//! The guard in front of every office request that changes anything
//! (anything but GET and HEAD), applied to the whole office router so no
//! form can be added without it:
//!
//! - a browser that says the request comes from another site
//!   (`Sec-Fetch-Site: cross-site`) is refused;
//! - the form's `csrf` field must equal the session's token
//!   ([`super::sessions::csrf_token`] of the session cookie), or, for the
//!   sign-in form (no session yet), the value of the sign-in cookie
//!   [`SIGNIN_COOKIE`] the form was served with (a double submit: another
//!   site can neither read nor, with the `__Host-` prefix, set it);
//! - the comparison takes the same time whatever the first wrong byte.
//!
//! `SameSite=Strict` on both cookies is a second wall, not the only one.

use super::i18n::Lang;
use super::sessions::{cookie_value, csrf_token, SESSION_COOKIE};
use super::templates::{error_page, Ctx};
use axum::body::Body;
use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use subtle::ConstantTimeEq;

/// The sign-in form's own cookie.
pub const SIGNIN_COOKIE: &str = "__Host-till-signin";

/// Largest form body the office reads.
pub const MAX_FORM_BYTES: usize = 64 * 1024;

/// The path whose forms are checked against [`SIGNIN_COOKIE`].
pub const SIGNIN_PATH: &str = "/office/signin";

fn refuse(lang: Lang) -> Response {
    let ctx = Ctx::anonymous(lang);
    error_page(
        &ctx,
        StatusCode::FORBIDDEN,
        ctx.w.csrf_title,
        ctx.w.csrf_refused,
    )
}

/// A sign-in without the sign-in page's cookie: most often a browser that
/// drops `Secure` cookies because the office is reached over plain HTTP.
fn refuse_no_cookie(lang: Lang) -> Response {
    let ctx = Ctx::anonymous(lang);
    error_page(
        &ctx,
        StatusCode::FORBIDDEN,
        ctx.w.csrf_title,
        ctx.w.csrf_no_cookie,
    )
}

/// The `csrf` field of a URL-encoded form.
fn field(body: &[u8]) -> Option<String> {
    url::form_urlencoded::parse(body)
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.into_owned())
}

/// Middleware: see the module's documentation.
pub async fn guard(req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD) {
        return next.run(req).await;
    }
    let lang = Lang::negotiate(req.headers());
    let cross_site = req
        .headers()
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"));
    if cross_site {
        tracing::warn!(path = %req.uri().path(), "office: cross-site form refused");
        return refuse(lang);
    }
    let signing_in = req.uri().path() == SIGNIN_PATH;
    let expected = if signing_in {
        cookie_value(req.headers(), SIGNIN_COOKIE)
    } else {
        cookie_value(req.headers(), SESSION_COOKIE).map(|t| csrf_token(&t))
    };
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
        return refuse(lang);
    };
    let given = field(&bytes);
    let ok = match (&expected, &given) {
        (Some(e), Some(g)) => bool::from(e.as_bytes().ct_eq(g.as_bytes())),
        _ => false,
    };
    if !ok && signing_in && expected.is_none() {
        tracing::warn!("office: a sign-in came without the sign-in page's cookie (plain HTTP?)");
        return refuse_no_cookie(lang);
    }
    if !ok {
        tracing::warn!(
            path = %parts.uri.path(),
            token_sent = given.is_some(),
            "office: form without a valid CSRF token refused"
        );
        return refuse(lang);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_field_is_found_decoded() {
        assert_eq!(field(b"a=1&csrf=ab%2Bc&b=2").as_deref(), Some("ab+c"));
        assert_eq!(field(b"a=1"), None);
    }
}
