//! `GET /office/admin/terminals` and its forms (admins only): add a
//! terminal, rotate its key, retire keys, disable and enable it — the same
//! [`crate::admin::Admin`] calls as `till-hub terminal …`. A key the hub
//! generates is shown once, on the answer to the form, never again.

use crate::admin::{AddedKey, AdminError, NewKey};
use crate::office::i18n::Words;
use crate::office::sessions::{unavailable, Admin};
use crate::office::templates::{csrf_field, shell, Ctx, Nav};
use crate::sealing::SecretKeyError;
use crate::server::Hub;
use crate::store::{StoreError, TerminalInfo, TerminalStatus};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;
use std::str::FromStr;
use till_sync_proto::{SigningKey, VerifyingKey};

/// What a form asked for, as the notice after it names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Done {
    Retired,
    Disabled,
    Enabled,
}

impl Done {
    fn code(self) -> &'static str {
        match self {
            Done::Retired => "retired",
            Done::Disabled => "disabled",
            Done::Enabled => "enabled",
        }
    }
    fn parse(s: &str) -> Option<Done> {
        [Done::Retired, Done::Disabled, Done::Enabled]
            .into_iter()
            .find(|d| d.code() == s)
    }
}

/// Why a form was refused, as words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    InvalidId,
    Exists,
    UnknownTerminal,
    NoSuchKey,
    LastKey,
    BadPublicKey,
    NoSecretKey,
    UnknownAction,
}

impl Refusal {
    fn status(self) -> StatusCode {
        match self {
            Refusal::UnknownTerminal | Refusal::UnknownAction => StatusCode::NOT_FOUND,
            Refusal::Exists | Refusal::LastKey => StatusCode::CONFLICT,
            _ => StatusCode::BAD_REQUEST,
        }
    }
    fn text(self, w: &Words) -> &'static str {
        match self {
            Refusal::InvalidId => w.err_invalid_id,
            Refusal::Exists => w.err_terminal_exists,
            Refusal::UnknownTerminal => w.err_unknown_terminal,
            Refusal::NoSuchKey => w.err_no_such_key,
            Refusal::LastKey => w.err_last_key,
            Refusal::BadPublicKey => w.err_bad_public_key,
            Refusal::NoSecretKey => w.err_no_secret_key,
            Refusal::UnknownAction => w.not_found_title,
        }
    }
}

/// An admin failure: words for the form, or a storage failure for the error page.
fn refusal(e: AdminError) -> Result<Refusal, StoreError> {
    Ok(match e {
        AdminError::InvalidId(_) => Refusal::InvalidId,
        AdminError::UnknownTerminal(_) | AdminError::Store(StoreError::UnknownTerminal(_)) => {
            Refusal::UnknownTerminal
        }
        AdminError::NoSuchKey { .. } => Refusal::NoSuchKey,
        AdminError::LastKey(_) => Refusal::LastKey,
        AdminError::Store(StoreError::TerminalExists(_)) => Refusal::Exists,
        AdminError::Store(StoreError::SecretKey(
            SecretKeyError::Missing | SecretKeyError::MissingForNewSecret,
        )) => Refusal::NoSecretKey,
        AdminError::NoSuchToken(_) => Refusal::UnknownAction,
        AdminError::Store(e) => return Err(e),
    })
}

fn key_choice(w: &Words, prefix: &str) -> Markup {
    html! {
        fieldset.keychoice {
            legend { (w.key) }
            label { input type="radio" name="key" value="ed25519" checked; " " (w.key_generate) }
            label { input type="radio" name="key" value="public"; " " (w.key_public) }
            label { input type="radio" name="key" value="hmac"; " " (w.key_hmac) }
            label.sr for=(format!("{prefix}-public-key")) { (w.public_key) }
            input id=(format!("{prefix}-public-key")) name="public_key" placeholder="whpk_…"
                autocapitalize="none" spellcheck="false";
        }
    }
}

/// The rotate form's key: a choice in one line.
fn key_select(w: &Words, prefix: &str) -> Markup {
    html! {
        label.sr for=(format!("{prefix}-kind")) { (w.key) }
        select id=(format!("{prefix}-kind")) name="key" {
            option value="ed25519" selected { (w.key_generate) }
            option value="public" { (w.key_public) }
            option value="hmac" { (w.key_hmac) }
        }
        label.sr for=(format!("{prefix}-public-key")) { (w.public_key) }
        input id=(format!("{prefix}-public-key")) name="public_key" placeholder="whpk_…"
            autocapitalize="none" spellcheck="false";
    }
}

fn terminal_block(w: &Words, csrf: &str, t: &TerminalInfo) -> Markup {
    let base = format!("/office/admin/terminals/{}", t.id);
    let active: Vec<_> = t.keys.iter().filter(|k| k.status == "active").collect();
    html! {
        article.term data-terminal=(t.id) {
            h3 {
                (t.id)
                @if let Some(n) = &t.name { " · " small { (n) } }
                " "
                @match t.status {
                    TerminalStatus::Active => span.ok data-status="active" { (w.active) },
                    TerminalStatus::Disabled => span.bad data-status="disabled" { (w.disabled) },
                }
            }
            div.scroll { table.keys {
                thead { tr { th { (w.key) } th { (w.kind) } th { (w.status) } th { (w.created) } th { (w.public_key) } } }
                tbody { @for k in &t.keys {
                    tr data-key=(k.key_id) data-key-status=(k.status) {
                        td { (k.key_id) }
                        td { (k.kind) }
                        td { (if k.status == "active" { w.active } else { w.retired }) }
                        td { (k.created_at.format("%Y-%m-%d")) }
                        td { @if let Some(pk) = &k.public_key { code title=(pk) { (pk.get(..20).unwrap_or(pk)) "…" } } }
                    }
                } }
            } }
            div.actions {
                form method="post" action=(format!("{base}/rotate")) class="rotate" {
                    (csrf_field(csrf))
                    (key_select(w, &format!("rotate-{}", t.id)))
                    button type="submit" { (w.rotate) }
                }
                @if active.len() > 1 { form method="post" action=(format!("{base}/retire")) class="retire" data-confirm=(w.confirm_retire) {
                    (csrf_field(csrf))
                    label for=(format!("retire-{}", t.id)) { (w.retire_which) }
                    select id=(format!("retire-{}", t.id)) name="key_id" {
                        option value="" { (w.all_but_newest) }
                        @for k in &active { option value=(k.key_id) { (w.key) " " (k.key_id) } }
                    }
                    button type="submit" { (w.retire) }
                } }
                @match t.status {
                    TerminalStatus::Active => {
                        form method="post" action=(format!("{base}/disable")) class="disable" data-confirm=(w.confirm_disable) {
                            (csrf_field(csrf))
                            button.danger type="submit" { (w.disable) }
                        }
                    }
                    TerminalStatus::Disabled => {
                        form method="post" action=(format!("{base}/enable")) class="enable" {
                            (csrf_field(csrf))
                            button type="submit" { (w.enable) }
                        }
                    }
                }
            }
        }
    }
}

fn render(
    ctx: &Ctx<'_>,
    terminals: &[TerminalInfo],
    notice: Option<(&'static str, &'static str, String)>,
) -> Markup {
    let w = ctx.w;
    let csrf = ctx.csrf.unwrap_or_default();
    let body = html! {
        h1 { (w.admin_title) }
        @if let Some((kind, code, text)) = &notice {
            p class=(format!("notice {kind}")) role="alert" data-notice=(code) { (text) }
        }
        section {
            h2 { (w.add_terminal) }
            form.add method="post" action="/office/admin/terminals" id="add-terminal" {
                (csrf_field(csrf))
                div.field { label for="new-id" { (w.terminal_id) }
                    input id="new-id" name="id" required pattern="[A-Za-z0-9_-]{1,128}"
                        autocapitalize="none" spellcheck="false"; }
                div.field { label for="new-name" { (w.name) } input id="new-name" name="name"; }
                (key_choice(w, "new"))
                button type="submit" { (w.add) }
            }
        }
        section {
            h2 { (w.terminals) }
            @for t in terminals { (terminal_block(w, csrf, t)) }
        }
    };
    shell(ctx, Nav::Admin, w.admin_title, None, body)
}

#[derive(Deserialize, Default)]
pub struct AdminQuery {
    done: Option<String>,
    terminal: Option<String>,
}

/// `GET /office/admin/terminals`
pub async fn page(State(hub): State<Hub>, admin: Admin, Query(q): Query<AdminQuery>) -> Response {
    let signed = &admin.0;
    let terminals = match hub.store.terminals().await {
        Ok(t) => t,
        Err(e) => return unavailable(signed.lang, e),
    };
    let ctx = signed.ctx();
    let w = ctx.w;
    let notice = q.done.as_deref().and_then(Done::parse).map(|d| {
        let t = q.terminal.clone().unwrap_or_default();
        let text = match d {
            Done::Retired => w.done_retired(&t),
            Done::Disabled => w.done_disabled(&t),
            Done::Enabled => w.done_enabled(&t),
        };
        ("info", d.code(), text)
    });
    render(&ctx, &terminals, notice).into_response()
}

async fn refused(hub: &Hub, admin: &Admin, r: Refusal) -> Response {
    let signed = &admin.0;
    let terminals = match hub.store.terminals().await {
        Ok(t) => t,
        Err(e) => return unavailable(signed.lang, e),
    };
    let ctx = signed.ctx();
    let notice = ("error", "refused", r.text(ctx.w).to_owned());
    (r.status(), render(&ctx, &terminals, Some(notice))).into_response()
}

/// The key a form asks for.
fn new_key(choice: Option<&str>, public_key: Option<&str>) -> Result<NewKey, Refusal> {
    match choice.unwrap_or("ed25519") {
        "hmac" => Ok(NewKey::GenerateHmac),
        "public" => {
            let text = public_key.map(str::trim).unwrap_or_default();
            match VerifyingKey::from_str(text) {
                Ok(k) if k.is_public() => Ok(NewKey::Existing(k)),
                _ => Err(Refusal::BadPublicKey),
            }
        }
        _ => Ok(NewKey::GenerateEd25519),
    }
}

/// The answer to a form that made a key: the key, once.
fn shown_once(ctx: &Ctx<'_>, terminal: &str, added: &AddedKey, rotated: bool) -> Response {
    let w = ctx.w;
    let body = html! {
        h1 { (if rotated { w.key_rotated_title } else { w.terminal_added_title }) }
        p.notice.info data-notice=(if rotated { "rotated" } else { "added" }) {
            (w.key_added(terminal, added.key_id))
        }
        @match &added.secret {
            Some(secret) => {
                @let (setting, kind) = match secret {
                    SigningKey::Ed25519(_) => ("hub.signing_key", "ed25519"),
                    SigningKey::Hmac(_) => ("hub.secret", "hmac"),
                };
                section.secret data-kind=(kind) {
                    p { (w.shown_once(setting)) }
                    pre { code id="secret" { (secret.to_text()) } }
                    button type="button" data-copy="secret" { (w.copy) }
                    @if rotated { p.small { (w.after_rotation) } }
                }
            }
            None => { p { (w.public_key_kept) } }
        }
        p { a.button href="/office/admin/terminals" { (w.back_to_terminals) } }
    };
    shell(ctx, Nav::Admin, w.admin_title, None, body).into_response()
}

#[derive(Deserialize)]
pub struct AddForm {
    id: String,
    name: Option<String>,
    key: Option<String>,
    public_key: Option<String>,
}

/// `POST /office/admin/terminals`
pub async fn add(State(hub): State<Hub>, admin: Admin, Form(f): Form<AddForm>) -> Response {
    let key = match new_key(f.key.as_deref(), f.public_key.as_deref()) {
        Ok(k) => k,
        Err(r) => return refused(&hub, &admin, r).await,
    };
    let id = f.id.trim();
    let name = f.name.as_deref().map(str::trim).filter(|n| !n.is_empty());
    match crate::admin::Admin::new(hub.store.clone())
        .add_terminal(id, name, key)
        .await
    {
        Ok(added) => {
            tracing::info!(user = %admin.0.user.username, terminal = id, key_id = added.key_id, "office: terminal added");
            shown_once(&admin.0.ctx(), id, &added, false)
        }
        Err(e) => match refusal(e) {
            Ok(r) => refused(&hub, &admin, r).await,
            Err(e) => unavailable(admin.0.lang, e),
        },
    }
}

#[derive(Deserialize)]
pub struct ActForm {
    key: Option<String>,
    public_key: Option<String>,
    key_id: Option<String>,
}

/// `POST /office/admin/terminals/{id}/{rotate|retire|disable|enable}`
pub async fn act(
    State(hub): State<Hub>,
    admin: Admin,
    Path((id, action)): Path<(String, String)>,
    Form(f): Form<ActForm>,
) -> Response {
    let a = crate::admin::Admin::new(hub.store.clone());
    let user = admin.0.user.username.clone();
    let outcome = match action.as_str() {
        "rotate" => {
            let key = match new_key(f.key.as_deref(), f.public_key.as_deref()) {
                Ok(k) => k,
                Err(r) => return refused(&hub, &admin, r).await,
            };
            match a.rotate(&id, key).await {
                Ok(added) => {
                    tracing::info!(%user, terminal = %id, key_id = added.key_id, "office: key added");
                    return shown_once(&admin.0.ctx(), &id, &added, true);
                }
                Err(e) => Err(e),
            }
        }
        "retire" => {
            let key_id = match f.key_id.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
                None => None,
                Some(k) => match k.parse::<i64>() {
                    Ok(k) => Some(k),
                    Err(_) => return refused(&hub, &admin, Refusal::NoSuchKey).await,
                },
            };
            a.retire_key(&id, key_id).await.map(|ids| {
                tracing::info!(%user, terminal = %id, keys = ?ids, "office: keys retired");
                Done::Retired
            })
        }
        "disable" => a.disable(&id).await.map(|()| {
            tracing::info!(%user, terminal = %id, "office: terminal disabled");
            Done::Disabled
        }),
        "enable" => a.enable(&id).await.map(|()| {
            tracing::info!(%user, terminal = %id, "office: terminal enabled");
            Done::Enabled
        }),
        _ => return refused(&hub, &admin, Refusal::UnknownAction).await,
    };
    match outcome {
        Ok(done) => {
            let qs = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("done", done.code())
                .append_pair("terminal", &id)
                .finish();
            Redirect::to(&format!("/office/admin/terminals?{qs}")).into_response()
        }
        Err(e) => match refusal(e) {
            Ok(r) => refused(&hub, &admin, r).await,
            Err(e) => unavailable(admin.0.lang, e),
        },
    }
}
