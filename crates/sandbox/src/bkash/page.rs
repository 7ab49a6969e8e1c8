//! The hosted checkout page a `bkashURL` opens: wallet number → OTP → PIN, or
//! close. Mode `0001` (pay with agreement) asks for the PIN only. When done,
//! the browser is sent (303) to the merchant's callback URL, the way bKash's
//! page redirects it.

use super::flow::{CustomerInput, PageError};
use super::http::apply_customer;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/pay/bkash/", get(show).post(submit))
        .route("/pay/bkash", get(show).post(submit))
}

/// HTML-escape text for element content and attribute values.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[derive(Deserialize)]
struct PageQuery {
    #[serde(rename = "paymentId")]
    payment_id: Option<String>,
    #[serde(rename = "paymentID")]
    payment_id_upper: Option<String>,
}

#[derive(Deserialize, Default)]
struct PageForm {
    #[serde(rename = "paymentId")]
    payment_id: String,
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
    payment_id: &'a str,
    amount: String,
    merchant: &'a str,
    step: &'a str,
    wallet: &'a str,
    otp: &'a str,
    error: Option<String>,
    otp_hint: &'a str,
    pin_hint: &'a str,
}

fn render(v: &View) -> Response {
    let hidden = format!(
        r#"<input type="hidden" name="paymentId" value="{}"><input type="hidden" name="step" value="{}">"#,
        esc(v.payment_id),
        esc(v.step)
    );
    let (title, fields) = match v.step {
        "wallet" => (
            "Your bKash Account number",
            format!(
                r#"<input id="wallet" name="wallet" inputmode="numeric" placeholder="e.g 01XXXXXXXXX" value="{}" autofocus>"#,
                esc(v.wallet)
            ),
        ),
        "otp" => (
            "Enter verification code sent to your number",
            format!(
                r#"<input type="hidden" name="wallet" value="{}"><input id="otp" name="otp" inputmode="numeric" placeholder="bKash Verification Code" autofocus><p class="hint">Sandbox code: {}</p>"#,
                esc(v.wallet),
                esc(v.otp_hint)
            ),
        ),
        _ => (
            "Enter PIN of your bKash Account number",
            format!(
                r#"<input type="hidden" name="wallet" value="{}"><input type="hidden" name="otp" value="{}"><input id="pin" name="pin" type="password" inputmode="numeric" placeholder="Enter PIN" autofocus><p class="hint">Sandbox PIN: {}</p>"#,
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
    let html = format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>bKash Payment (sandbox)</title>
<style>
body{{font-family:system-ui,sans-serif;background:#f4f4f4;margin:0}}
.card{{max-width:380px;margin:24px auto;background:#fff;border-radius:8px;overflow:hidden;box-shadow:0 2px 8px #0002}}
.head{{background:#e2136e;color:#fff;padding:16px}} .head b{{font-size:1.4em}}
.body{{padding:16px}} input{{width:100%;box-sizing:border-box;font-size:1.2em;padding:10px;margin:8px 0}}
.row{{display:flex;gap:8px}} button{{flex:1;font-size:1.1em;padding:12px;border:0;border-radius:4px}}
.ok{{background:#e2136e;color:#fff}} .no{{background:#ccc}} .hint{{color:#777;font-size:.9em}} .error{{color:#c00}}
.tag{{font-size:.8em;opacity:.8}}
</style></head>
<body><div class="card">
<div class="head"><div class="tag">till-sandbox · simulated bKash checkout</div>
<div>{merchant}</div><div>Invoice amount: <b id="amount">৳ {amount}</b></div><div class="tag">{pid}</div></div>
<form class="body" method="post" action="/pay/bkash/">{hidden}
<label>{title}</label>{fields}{error}
<div class="row"><button class="no" name="action" value="cancel" formnovalidate>Close</button>
<button class="ok" name="action" value="pay">Confirm</button></div>
</form></div></body></html>"#,
        merchant = esc(v.merchant),
        amount = esc(&v.amount),
        pid = esc(v.payment_id),
    );
    Html(html).into_response()
}

fn error_page(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>bKash Payment (sandbox)</title></head><body><h1>bKash</h1><p id=\"error\">{}</p></body></html>",
            esc(message)
        ),
    )
        .into_response()
}

struct PaymentView {
    mode: String,
    amount: String,
    payer_reference: String,
}

fn lookup(app: &AppState, payment_id: &str) -> Option<PaymentView> {
    app.read_world(|w| {
        w.bkash.payments.get(payment_id).map(|p| PaymentView {
            mode: p.mode.clone(),
            amount: p
                .amount
                .as_ref()
                .map(|a| a.text.clone())
                .unwrap_or_else(|| "0".into()),
            payer_reference: p.payer_reference.clone(),
        })
    })
}

fn view<'a>(
    app: &'a AppState,
    payment_id: &'a str,
    p: &PaymentView,
    step: &'a str,
    wallet: &'a str,
    otp: &'a str,
) -> View<'a> {
    View {
        payment_id,
        amount: p.amount.clone(),
        merchant: &app.config.bkash.merchant_name,
        step,
        wallet,
        otp,
        error: None,
        otp_hint: &app.config.bkash.otp,
        pin_hint: &app.config.bkash.pin,
    }
}

async fn show(State(app): State<AppState>, Query(q): Query<PageQuery>) -> Response {
    let Some(payment_id) = q.payment_id.or(q.payment_id_upper) else {
        return error_page(StatusCode::BAD_REQUEST, "Invalid payment link");
    };
    let Some(p) = lookup(&app, &payment_id) else {
        return error_page(StatusCode::NOT_FOUND, "Invalid Payment ID");
    };
    let prefill = if p.payer_reference.len() == 11 && p.payer_reference.starts_with("01") {
        p.payer_reference.clone()
    } else {
        String::new()
    };
    let step = if p.mode == "0001" { "pin" } else { "wallet" };
    render(&view(&app, &payment_id, &p, step, &prefill, ""))
}

async fn submit(State(app): State<AppState>, Form(f): Form<PageForm>) -> Response {
    let Some(p) = lookup(&app, &f.payment_id) else {
        return error_page(StatusCode::NOT_FOUND, "Invalid Payment ID");
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
        let wallet_ok = wallet.len() == 11
            && wallet.starts_with("01")
            && wallet.bytes().all(|b| b.is_ascii_digit());
        let mut v = view(&app, &f.payment_id, &p, next, &wallet, &otp);
        if !wallet_ok {
            v.step = "wallet";
            v.error = Some("Please enter a valid 11-digit bKash account number".into());
        }
        return render(&v);
    }
    let input = CustomerInput {
        wallet: f.wallet,
        otp: f.otp,
        pin: f.pin,
        action: Some(if cancel { "cancel" } else { "pay" }.into()),
    };
    match apply_customer(&app, &f.payment_id, &input) {
        Ok(outcome) => Redirect::to(&outcome.redirect).into_response(),
        Err(PageError::Invalid(msg)) => {
            let mut v = view(&app, &f.payment_id, &p, "wallet", &wallet, "");
            v.error = Some(msg);
            render(&v)
        }
        Err(e) => error_page(StatusCode::CONFLICT, &e.to_string()),
    }
}
