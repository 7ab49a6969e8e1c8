//! `GET /office/static/{name}`: the stylesheet, the script and the fonts,
//! compiled into the binary (the CSP allows only files of this origin, and
//! an office screen may lack Bangla or Khmer fonts: Noto Sans Bengali and
//! Khmer come from `ui/fonts/`, loaded only for those scripts).

use crate::office::i18n::Lang;
use crate::office::templates::{error_page, Ctx};
use axum::extract::Path;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

const CSS: &str = include_str!("../static/office.css");
const JS: &str = include_str!("../static/office.js");
const BENGALI: &[u8] = include_bytes!("../../../../../ui/fonts/NotoSansBengali-Regular.ttf");
const BENGALI_BOLD: &[u8] = include_bytes!("../../../../../ui/fonts/NotoSansBengali-Bold.ttf");
const KHMER: &[u8] = include_bytes!("../../../../../ui/fonts/NotoSansKhmer-Regular.ttf");
const KHMER_BOLD: &[u8] = include_bytes!("../../../../../ui/fonts/NotoSansKhmer-Bold.ttf");

/// A file by name, with its type.
fn file_of(name: &str) -> Option<(&'static str, &'static [u8])> {
    Some(match name {
        "office.css" => ("text/css; charset=utf-8", CSS.as_bytes()),
        "office.js" => ("text/javascript; charset=utf-8", JS.as_bytes()),
        "bengali.ttf" => ("font/ttf", BENGALI),
        "bengali-bold.ttf" => ("font/ttf", BENGALI_BOLD),
        "khmer.ttf" => ("font/ttf", KHMER),
        "khmer-bold.ttf" => ("font/ttf", KHMER_BOLD),
        _ => return None,
    })
}

/// `GET /office/static/{name}`
pub async fn file(Path(name): Path<String>, headers: HeaderMap) -> Response {
    match file_of(&name) {
        Some((kind, bytes)) => (
            [
                (header::CONTENT_TYPE, kind),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            bytes,
        )
            .into_response(),
        None => not_found(headers).await,
    }
}

/// Any other page under `/office/`.
pub async fn not_found(headers: HeaderMap) -> Response {
    let ctx = Ctx::anonymous(Lang::negotiate(&headers));
    error_page(
        &ctx,
        StatusCode::NOT_FOUND,
        ctx.w.not_found_title,
        ctx.w.not_found,
    )
}
