//! Deep links (`BakongKHQR.generateDeepLink`, spec section 13), offline part.
//!
//! A deep link is a short `https://bakong.page.link/…` URL that only Bakong's
//! server can mint: the SDK POSTs the QR to `/v1/generate_deeplink_by_qr`
//! and returns the `shortLink` from the answer. This crate does no I/O, so
//! it cannot produce the link itself; [`DeepLinkRequest::new`] performs
//! every check the SDK makes *before* its network call (URL path → error
//! 29, QR validity → error 8, source info → error 14) and builds the
//! request body, for the app's HTTP client to send. A counter terminal does
//! not need deep links (the customer scans the screen).

use serde::Serialize;

use crate::error::DeepLinkError;
use crate::verify::verify;

/// The only path the SDK accepts.
pub const DEEPLINK_PATH: &str = "/v1/generate_deeplink_by_qr";
/// Production endpoint.
pub const PRODUCTION_URL: &str = "https://api-bakong.nbc.gov.kh/v1/generate_deeplink_by_qr";

/// The SDK's `SourceInfo`: the calling app, shown by the bank app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceInfo {
    pub app_icon_url: String,
    pub app_name: String,
    pub app_deep_link_callback: String,
}

/// JSON body of the deep-link call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeepLinkBody {
    pub qr: String,
    #[serde(rename = "sourceInfo", skip_serializing_if = "Option::is_none")]
    pub source_info: Option<SourceInfo>,
}

/// A validated, ready-to-send deep-link request: `POST url`,
/// `Content-Type: application/json`, no `Authorization`, body [`Self::body_json`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeepLinkRequest {
    pub url: String,
    pub body: DeepLinkBody,
}

impl DeepLinkRequest {
    /// Checks `url`, `qr` (with [`verify`] at `at_ms`) and `source_info` in
    /// the SDK's order. Unlike the SDK (bug B4) the source info, when given,
    /// is included in the body; the API accepts it.
    pub fn new(
        url: &str,
        qr: &str,
        source_info: Option<SourceInfo>,
        at_ms: u64,
    ) -> Result<Self, DeepLinkError> {
        if url_path(url) != Some(DEEPLINK_PATH) {
            return Err(DeepLinkError::InvalidUrl {
                url: url.to_string(),
            });
        }
        verify(qr, at_ms).map_err(|reason| DeepLinkError::InvalidQr { reason })?;
        if let Some(s) = &source_info {
            for (name, value) in [
                ("appIconUrl", &s.app_icon_url),
                ("appName", &s.app_name),
                ("appDeepLinkCallback", &s.app_deep_link_callback),
            ] {
                if value.is_empty() {
                    return Err(DeepLinkError::InvalidSourceInfo { field: name });
                }
            }
        }
        Ok(DeepLinkRequest {
            url: url.to_string(),
            body: DeepLinkBody {
                qr: qr.to_string(),
                source_info,
            },
        })
    }

    /// The body as JSON text.
    pub fn body_json(&self) -> String {
        serde_json::to_string(&self.body).unwrap_or_default()
    }
}

/// The path of an absolute `scheme://host/path?query#fragment` URL, or
/// `None` when it is not one.
fn url_path(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    let mut chars = scheme.chars();
    if !chars.next()?.is_ascii_alphabetic()
        || !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        return None;
    }
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    let rest = &rest[..end];
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if host.is_empty() || host.chars().any(char::is_whitespace) {
        return None;
    }
    Some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    const QR: &str = "00020101021129190015sokha_chan@aclb5204599953031165802KH5910Sokha Chan6010Phnom Penh6304F4AE";

    #[test]
    fn url_rules() {
        assert_eq!(url_path(PRODUCTION_URL), Some(DEEPLINK_PATH));
        assert_eq!(
            url_path("https://sit-api-bakong.nbc.gov.kh/v1/generate_deeplink_by_qr?x=1"),
            Some(DEEPLINK_PATH)
        );
        assert_eq!(url_path("not a url"), None);
        let e = DeepLinkRequest::new("https://api-bakong.nbc.gov.kh/v1/other", QR, None, 0)
            .unwrap_err();
        assert_eq!(e.code(), 29);
    }

    #[test]
    fn qr_and_source_rules() {
        let bad = QR.replace("F4AE", "F4AF");
        assert_eq!(
            DeepLinkRequest::new(PRODUCTION_URL, &bad, None, 0)
                .unwrap_err()
                .code(),
            8
        );
        let src = SourceInfo {
            app_icon_url: "https://shop.example/icon.png".into(),
            app_name: String::new(),
            app_deep_link_callback: "https://shop.example/paid".into(),
        };
        assert_eq!(
            DeepLinkRequest::new(PRODUCTION_URL, QR, Some(src.clone()), 0)
                .unwrap_err()
                .code(),
            14
        );
        let ok = DeepLinkRequest::new(PRODUCTION_URL, QR, None, 0).unwrap();
        assert_eq!(ok.body_json(), format!("{{\"qr\":\"{QR}\"}}"));
        let full = SourceInfo {
            app_name: "Till".into(),
            ..src
        };
        let ok = DeepLinkRequest::new(PRODUCTION_URL, QR, Some(full), 0).unwrap();
        assert!(ok.body_json().contains("\"sourceInfo\":{\"appIconUrl\""));
    }
}
