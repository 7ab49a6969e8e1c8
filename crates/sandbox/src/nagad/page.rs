//! The customer's page complete's `callBackUrl` opens
//! (`/pay/nagad/check-out/{paymentReferenceId}`): Nagad account number →
//! verification code → PIN, confirm or cancel. When done the browser is sent
//! (303) to the merchant's callback URL with Nagad's parameters.

use super::flow::{self, CustomerInput, PageError};
use super::http::apply_customer;
use crate::bkash::page::esc;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/pay/nagad/check-out/{*payment_ref_id}",
        get(show).post(submit),
    )
}

#[derive(Deserialize, Default)]
struct PageForm {
    #[serde(default)]
    step: String,
    #[serde(default)]
    wallet: Option<String>,
    #[serde(default)]
    otp: Option<String>,
    #[serde(default)]
    pin: Option<String>,
    #[serde(default)]
    action: Option<String>,
}

struct View<'a> {
    merchant: &'a str,
    amount: String,
    order_id: String,
    step: &'a str,
    wallet: &'a str,
    otp: &'a str,
    error: Option<String>,
    otp_hint: &'a str,
    pin_hint: &'a str,
}

fn render(v: &View) -> Response {
    let hidden = format!(
        r#"<input type="hidden" name="step" value="{}">"#,
        esc(v.step)
    );
    let (title, fields) = match v.step {
        "wallet" => (
            "Your Nagad account number",
            format!(
                r#"<input id="wallet" name="wallet" inputmode="numeric" placeholder="01XXXXXXXXX" value="{}" autofocus>"#,
                esc(v.wallet)
            ),
        ),
        "otp" => (
            "Enter the verification code sent to your number",
            format!(
                r#"<input type="hidden" name="wallet" value="{}"><input id="otp" name="otp" inputmode="numeric" placeholder="Verification code" autofocus><p class="hint">Sandbox code: {}</p>"#,
                esc(v.wallet),
                esc(v.otp_hint)
            ),
        ),
        _ => (
            "Enter your Nagad PIN",
            format!(
                r#"<input type="hidden" name="wallet" value="{}"><input type="hidden" name="otp" value="{}"><input id="pin" name="pin" type="password" inputmode="numeric" placeholder="PIN" autofocus><p class="hint">Sandbox PIN: {}</p>"#,
                esc(v.wallet),
                esc(v.otp),
                esc(v.pin_hint)
            ),
        ),
    };
    let error = v
        .error
        .as_deref()
        .map(|e| format!(r#"<p class="error" role="alert">{}</p>"#, esc(e)))
        .unwrap_or_default();
    // The form posts back to this very URL (the reference is in the path).
    let html = format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Nagad Payment (sandbox)</title>
<style>
body{{font-family:system-ui,sans-serif;background:#f4f4f4;margin:0}}
.card{{max-width:380px;margin:24px auto;background:#fff;border-radius:8px;overflow:hidden;box-shadow:0 2px 8px #0002}}
.head{{background:#ec1c24;color:#fff;padding:16px}} .head b{{font-size:1.4em}}
.body{{padding:16px}} input{{width:100%;box-sizing:border-box;font-size:1.2em;padding:10px;margin:8px 0}}
.row{{display:flex;gap:8px}} button{{flex:1;font-size:1.1em;padding:12px;border:0;border-radius:4px}}
.ok{{background:#f7941d;color:#fff}} .no{{background:#ccc}} .hint{{color:#777;font-size:.9em}} .error{{color:#c00}}
.tag{{font-size:.8em;opacity:.8}}
</style></head>
<body><div class="card">
<div class="head"><div class="tag">till-sandbox · simulated Nagad checkout</div>
<div>{merchant}</div><div>Amount: <b id="amount">৳ {amount}</b></div><div class="tag">Order {order}</div></div>
<form class="body" method="post">{hidden}
<label>{title}</label>{fields}{error}
<div class="row"><button class="no" name="action" value="cancel" formnovalidate>Cancel</button>
<button class="ok" name="action" value="pay">Confirm</button></div>
</form></div></body></html>"#,
        merchant = esc(v.merchant),
        amount = esc(&v.amount),
        order = esc(&v.order_id),
    );
    Html(html).into_response()
}

fn error_page(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>Nagad Payment (sandbox)</title></head><body><h1>Nagad</h1><p id=\"error\">{}</p></body></html>",
            esc(message)
        ),
    )
        .into_response()
}

fn page_error(e: &PageError) -> Response {
    let status = match e {
        PageError::UnknownPayment => StatusCode::NOT_FOUND,
        PageError::Expired => StatusCode::GONE,
        _ => StatusCode::CONFLICT,
    };
    error_page(status, &e.to_string())
}

/// (reference, amount text, order id) of a payment the page can show.
fn lookup(app: &AppState, raw: &str) -> Result<(String, String, String), PageError> {
    let now = app.clock.now_ms();
    app.read_world(|w| {
        let id = super::http::reference(&w.nagad, raw);
        flow::open_payment(&w.nagad, &app.config.nagad, now, &id).map(|p| {
            (
                id.clone(),
                p.amount
                    .as_ref()
                    .map(|a| a.text.clone())
                    .unwrap_or_default(),
                p.order_id.clone(),
            )
        })
    })
}

fn view<'a>(
    app: &'a AppState,
    amount: String,
    order_id: String,
    step: &'a str,
    wallet: &'a str,
    otp: &'a str,
) -> View<'a> {
    let cfg = &app.config.nagad;
    View {
        merchant: &cfg.merchant_name,
        amount,
        order_id,
        step,
        wallet,
        otp,
        error: None,
        otp_hint: &cfg.otp,
        pin_hint: &cfg.pin,
    }
}

async fn show(State(app): State<AppState>, Path(raw): Path<String>) -> Response {
    match lookup(&app, &raw) {
        Ok((_, amount, order)) => render(&view(&app, amount, order, "wallet", "", "")),
        Err(e) => page_error(&e),
    }
}

async fn submit(
    State(app): State<AppState>,
    Path(raw): Path<String>,
    Form(f): Form<PageForm>,
) -> Response {
    let (id, amount, order) = match lookup(&app, &raw) {
        Ok(v) => v,
        Err(e) => return page_error(&e),
    };
    let wallet = f.wallet.clone().unwrap_or_default();
    let otp = f.otp.clone().unwrap_or_default();
    let cancel = f.action.as_deref() == Some("cancel");
    let next = match (f.step.as_str(), cancel) {
        (_, true) => None,
        ("wallet", false) => Some("otp"),
        ("otp", false) => Some("pin"),
        _ => None,
    };
    if let Some(next) = next {
        let mut v = view(&app, amount, order, next, &wallet, &otp);
        if !flow::is_wallet(wallet.trim()) {
            v.step = "wallet";
            v.error = Some("Enter an 11-digit Nagad account number starting with 01".into());
        }
        return render(&v);
    }
    let input = CustomerInput {
        wallet: f.wallet,
        otp: f.otp,
        pin: f.pin,
        action: Some(if cancel { "cancel" } else { "pay" }.into()),
    };
    match apply_customer(&app, &id, &input) {
        Ok(outcome) => Redirect::to(&outcome.redirect).into_response(),
        Err(PageError::Invalid(msg)) => {
            let mut v = view(&app, amount, order, "wallet", &wallet, "");
            v.error = Some(msg);
            render(&v)
        }
        Err(e) => page_error(&e),
    }
}
