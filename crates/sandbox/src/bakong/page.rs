//! The simulated "bank app": a page where a payer pastes a KHQR string or
//! uploads a PNG of one (decoded with `rqrr`), picks their account and pays.

use super::flow::PayRequest;
use super::http::apply_pay;
use crate::bkash::page::esc;
use crate::state::AppState;
use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/pay/bakong/", get(show).post(submit))
        .route("/pay/bakong", get(show).post(submit))
}

#[derive(Deserialize)]
struct Q {
    link: Option<String>,
    qr: Option<String>,
}

fn page(qr: &str, from: &str, result: &str) -> Response {
    Html(format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Bank app (Bakong sandbox)</title>
<style>
body{{font-family:system-ui,sans-serif;background:#eef2f5;margin:0}}
.card{{max-width:460px;margin:24px auto;background:#fff;border-radius:8px;padding:16px;box-shadow:0 2px 8px #0002}}
h1{{color:#c8102e;font-size:1.3em}} textarea,input{{width:100%;box-sizing:border-box;margin:6px 0 12px;padding:8px;font-size:1em}}
button{{background:#c8102e;color:#fff;border:0;border-radius:4px;padding:12px;width:100%;font-size:1.1em}}
.ok{{background:#e6f6ea;padding:8px}} .bad{{background:#fdecea;padding:8px}} .tag{{color:#777;font-size:.85em}}
</style></head><body><div class="card">
<h1>Bank app — pay a KHQR</h1><p class="tag">till-sandbox · simulated Bakong payer</p>
{result}
<form method="post" action="/pay/bakong/" enctype="multipart/form-data">
<label>KHQR string</label><textarea id="qr" name="qr" rows="5">{qr}</textarea>
<label>…or a PNG of the code</label><input type="file" name="png" accept="image/png">
<label>Pay from account</label><input id="from" name="fromAccountId" value="{from}">
<label>Amount (only for a code without one)</label><input id="amount" name="amount">
<button type="submit">Pay</button></form></div></body></html>"#,
        qr = esc(qr),
        from = esc(from),
    ))
    .into_response()
}

async fn show(State(app): State<AppState>, Query(q): Query<Q>) -> Response {
    let qr = q
        .link
        .and_then(|id| app.read_world(|w| w.bakong.deeplinks.get(&id).cloned()))
        .or(q.qr)
        .unwrap_or_default();
    page(&qr, "payer_demo@abaa", "")
}

/// Decode the first QR code found in a PNG.
pub fn decode_png(bytes: &[u8]) -> Result<String, String> {
    let img = image::load_from_memory(bytes).map_err(|e| format!("not an image: {e}"))?;
    let mut prepared = rqrr::PreparedImage::prepare(img.to_luma8());
    let grids = prepared.detect_grids();
    let grid = grids.first().ok_or("no QR code found in the image")?;
    grid.decode()
        .map(|(_, content)| content)
        .map_err(|e| format!("QR code unreadable: {e}"))
}

async fn submit(State(app): State<AppState>, mut form: Multipart) -> Response {
    let mut req = PayRequest::default();
    let mut png_error = None;
    while let Ok(Some(field)) = form.next_field().await {
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "png" => {
                let bytes = field.bytes().await.unwrap_or_default();
                if !bytes.is_empty() {
                    match decode_png(&bytes) {
                        Ok(qr) => req.qr = qr,
                        Err(e) => png_error = Some(e),
                    }
                }
            }
            _ => {
                let value = field.text().await.unwrap_or_default();
                match name.as_str() {
                    "qr" if req.qr.is_empty() => req.qr = value.trim().to_string(),
                    "fromAccountId" => req.from_account_id = value.trim().to_string(),
                    "amount" if !value.trim().is_empty() => {
                        req.amount = Some(serde_json::Value::String(value.trim().into()))
                    }
                    _ => {}
                }
            }
        }
    }
    if let Some(e) = png_error.filter(|_| req.qr.is_empty()) {
        let r = format!(r#"<p class="bad" id="result">{}</p>"#, esc(&e));
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            page("", &req.from_account_id, &r),
        )
            .into_response();
    }
    match apply_pay(&app, &req) {
        Ok(p) => {
            let r = format!(
                r#"<div class="ok" id="result"><b>Paid {} {}</b> to {}<br>hash <code id="hash">{}</code><br>md5 <code id="md5">{}</code></div>"#,
                esc(&p.amount),
                esc(&p.currency),
                esc(&p.to_account_id),
                esc(&p.hash),
                esc(&p.md5)
            );
            page("", &req.from_account_id, &r)
        }
        Err(e) => {
            let r = format!(
                r#"<p class="bad" id="result" data-reason="{}">Payment refused: {}</p>"#,
                e.reason(),
                esc(&e.to_string())
            );
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                page(&req.qr, &req.from_account_id, &r),
            )
                .into_response()
        }
    }
}
