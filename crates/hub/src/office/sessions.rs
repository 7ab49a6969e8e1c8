//! Signing in and staying signed in.
//!
//! - A right password opens a session: 32 random bytes, in the cookie
//!   [`SESSION_COOKIE`] (`__Host-`, `Secure`, `HttpOnly`, `SameSite=Strict`,
//!   no `Max-Age`: it goes when the browser closes). The hub keeps only its
//!   SHA-256, with an absolute end and the time it was last used
//!   ([`super::OfficeConfig`]'s lifetime and idle limit).
//! - Wrong passwords are counted per user; [`OfficeConfig::max_failures`] in
//!   a row lock the user for [`OfficeConfig::lockout`] — a right password is
//!   refused meanwhile, then the count starts afresh. An unknown name is
//!   checked against a decoy hash, so it takes as long as a wrong password.
//! - The session's CSRF token is derived from its token ([`csrf_token`]):
//!   known to the page that carries it, to no one without the cookie.

use super::i18n::Lang;
use super::model::{NewSession, OfficeUser, Role, UserStatus};
use super::templates::{error_page, Ctx};
use super::users::{decoy_hash, normalize_name, verify_password};
use super::OfficeConfig;
use crate::admin::token_hash;
use crate::server::Hub;
use crate::store::{Store, StoreError};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use cookie::{Cookie, SameSite};
use sha2::{Digest, Sha256};

/// The session cookie (the `__Host-` prefix: only this host, path `/`, secure).
pub const SESSION_COOKIE: &str = "__Host-till-office";

/// A fresh random token (URL-safe base64 of 32 bytes).
pub fn new_token() -> String {
    let raw: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// The CSRF token of a session: SHA-256 over a label and the session's
/// token (never the stored hash: that is SHA-256 of the token alone).
pub fn csrf_token(session_token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"till-office-csrf\0");
    h.update(session_token.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(h.finalize())
}

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
}

/// `Set-Cookie` for a `__Host-` cookie of this browser session
/// (`None`: remove it).
pub fn set_cookie(name: &str, value: Option<&str>) -> String {
    let mut c = Cookie::build((name.to_owned(), value.unwrap_or("").to_owned()))
        .path("/")
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Strict)
        .build();
    if value.is_none() {
        c.make_removal();
    }
    c.to_string()
}

/// The count and lock after a wrong password, given the ones held: a lock
/// that has ended is forgotten first; a lock still running is left as it is
/// (an attempt made while locked neither counts nor extends it); reaching
/// `max_failures` locks until `now + lock_for` and restarts the count.
pub fn lockout_step(
    failures: u32,
    locked_until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    max_failures: u32,
    lock_for: chrono::Duration,
) -> (u32, Option<DateTime<Utc>>) {
    match locked_until {
        Some(l) if l > now => return (failures, Some(l)),
        Some(_) => return lockout_step(0, None, now, max_failures, lock_for),
        None => {}
    }
    let failures = failures.saturating_add(1);
    if failures >= max_failures.max(1) {
        (0, Some(now + lock_for))
    } else {
        (failures, None)
    }
}

/// What a sign-in attempt came to.
#[derive(Debug)]
pub enum SignIn {
    /// Signed in: the cookie's token.
    Opened { token: String, user: OfficeUser },
    /// Wrong name or password (the page does not say which).
    Wrong,
    /// Too many wrong passwords: refused until then.
    Locked { until: DateTime<Utc> },
    /// The password was right but the user is disabled.
    Disabled,
}

async fn verify(hash: String, password: String) -> bool {
    tokio::task::spawn_blocking(move || verify_password(&hash, &password))
        .await
        .unwrap_or(false)
}

/// Check a name and password; on success store a new session.
pub async fn sign_in(
    store: &dyn Store,
    cfg: &OfficeConfig,
    name: &str,
    password: &str,
) -> Result<SignIn, StoreError> {
    let now = Utc::now();
    let user = match normalize_name(name) {
        Ok(n) => store.office_user(&n).await?,
        Err(_) => None,
    };
    let Some(user) = user else {
        verify(decoy_hash().to_owned(), password.to_owned()).await;
        return Ok(SignIn::Wrong);
    };
    if let Some(until) = user.locked_until.filter(|l| *l > now) {
        return Ok(SignIn::Locked { until });
    }
    if !verify(user.password_hash.clone(), password.to_owned()).await {
        return Ok(
            match store
                .office_sign_in_failed(user.id, now, cfg.max_failures, cfg.lockout)
                .await?
            {
                Some(until) => SignIn::Locked { until },
                None => SignIn::Wrong,
            },
        );
    }
    if user.status == UserStatus::Disabled {
        return Ok(SignIn::Disabled);
    }
    let token = new_token();
    store
        .office_open_session(&NewSession {
            token_sha256: token_hash(&token),
            user_id: user.id,
            created_at: now,
            expires_at: now + cfg.session_lifetime,
        })
        .await?;
    Ok(SignIn::Opened { token, user })
}

/// End the session a request's cookie names (if any).
pub async fn sign_out(store: &dyn Store, headers: &HeaderMap) -> Result<(), StoreError> {
    match cookie_value(headers, SESSION_COOKIE) {
        Some(token) => store.office_close_session(&token_hash(&token)).await,
        None => Ok(()),
    }
}

/// The language of an anonymous request: `?lang=`, else Accept-Language.
pub fn request_lang(parts_headers: &HeaderMap, query_lang: Option<&str>) -> Lang {
    query_lang
        .and_then(Lang::from_code)
        .unwrap_or_else(|| Lang::negotiate(parts_headers))
}

/// A signed-in user, for every page but sign-in. Without a live session a
/// page redirects to sign-in (and back afterwards).
pub struct Signed {
    pub user: OfficeUser,
    pub lang: Lang,
    /// The session's CSRF token, for the page's forms.
    pub csrf: String,
}

impl Signed {
    /// The page shell's view of this user.
    pub fn ctx(&self) -> Ctx<'_> {
        Ctx {
            lang: self.lang,
            w: self.lang.words(),
            user: Some(&self.user),
            csrf: Some(&self.csrf),
        }
    }
}

/// The path and query to come back to after signing in, if it is one of ours.
fn next_of(parts: &Parts) -> Option<String> {
    let pq = parts.uri.path_and_query()?.as_str();
    (pq.starts_with("/office/") && parts.method == axum::http::Method::GET).then(|| pq.to_owned())
}

impl FromRequestParts<Hub> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, hub: &Hub) -> Result<Self, Response> {
        let token = cookie_value(&parts.headers, SESSION_COOKIE);
        let cfg = &hub.config.office;
        let found = match &token {
            Some(t) => hub
                .store
                .office_session(&token_hash(t), Utc::now(), cfg.session_idle)
                .await
                .map_err(|e| unavailable(Lang::negotiate(&parts.headers), e))?,
            None => None,
        };
        let (Some(token), Some((_, user))) = (token.clone(), found) else {
            let mut to = String::from("/office/signin");
            let mut sep = '?';
            if token.is_some() {
                to.push_str("?ended=1");
                sep = '&';
            }
            if let Some(next) = next_of(parts) {
                to.push(sep);
                to.push_str("next=");
                to.push_str(
                    &percent_encoding::utf8_percent_encode(
                        &next,
                        percent_encoding::NON_ALPHANUMERIC,
                    )
                    .to_string(),
                );
            }
            return Err(Redirect::to(&to).into_response());
        };
        let lang = user
            .language
            .as_deref()
            .and_then(Lang::from_code)
            .unwrap_or_else(|| Lang::negotiate(&parts.headers));
        Ok(Signed {
            user,
            lang,
            csrf: csrf_token(&token),
        })
    }
}

/// A signed-in admin; anyone else gets a 403 page.
pub struct Admin(pub Signed);

impl FromRequestParts<Hub> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, hub: &Hub) -> Result<Self, Response> {
        let signed = Signed::from_request_parts(parts, hub).await?;
        if signed.user.role != Role::Admin {
            let ctx = signed.ctx();
            return Err(error_page(
                &ctx,
                StatusCode::FORBIDDEN,
                ctx.w.admins_only_title,
                ctx.w.admins_only,
            ));
        }
        Ok(Admin(signed))
    }
}

/// The page for a storage failure (logged; the viewer is told to retry).
pub fn unavailable(lang: Lang, e: StoreError) -> Response {
    tracing::error!(error = %e, "office: storage failure");
    let ctx = Ctx::anonymous(lang);
    error_page(
        &ctx,
        StatusCode::SERVICE_UNAVAILABLE,
        ctx.w.unavailable_title,
        ctx.w.unavailable,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockout_counts_locks_and_forgets() {
        let now = Utc::now();
        let lock = chrono::Duration::minutes(15);
        assert_eq!(lockout_step(0, None, now, 3, lock), (1, None));
        assert_eq!(lockout_step(1, None, now, 3, lock), (2, None));
        assert_eq!(lockout_step(2, None, now, 3, lock), (0, Some(now + lock)));
        // While locked nothing moves.
        let until = now + chrono::Duration::minutes(5);
        assert_eq!(lockout_step(0, Some(until), now, 3, lock), (0, Some(until)));
        // A lock that has ended starts the count afresh.
        let ended = now - chrono::Duration::seconds(1);
        assert_eq!(lockout_step(0, Some(ended), now, 3, lock), (1, None));
    }

    #[test]
    fn csrf_is_not_the_stored_hash() {
        let t = new_token();
        assert_eq!(t.len(), 43);
        assert_ne!(csrf_token(&t), token_hash(&t));
        assert_ne!(csrf_token(&t), csrf_token(&new_token()));
        let c = set_cookie(SESSION_COOKIE, Some(&t));
        for part in [
            "__Host-till-office=",
            "Path=/",
            "Secure",
            "HttpOnly",
            "SameSite=Strict",
        ] {
            assert!(c.contains(part), "{c}");
        }
        assert!(!c.contains("Max-Age"), "{c}");
        assert!(set_cookie(SESSION_COOKIE, None).contains("Max-Age=0"));
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            "a=1; __Host-till-office=tok".parse().unwrap(),
        );
        h.append(header::COOKIE, "b=2".parse().unwrap());
        assert_eq!(cookie_value(&h, SESSION_COOKIE).as_deref(), Some("tok"));
        assert_eq!(cookie_value(&h, "b").as_deref(), Some("2"));
        assert_eq!(cookie_value(&h, "c"), None);
    }
}
