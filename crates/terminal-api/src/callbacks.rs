//! Page wallets' callback URLs served without a window: a headless till
//! (`till api serve`, `till charge`) listens on each page wallet's configured
//! callback address (loopback) so a browser on the same machine can finish
//! the wallet's page; the redirect arrives here and the engine takes it from
//! there (`Engine::callback`, which finds the provider that claims the URL).

use axum::http::{StatusCode, Uri};
use axum::response::Html;
use std::collections::BTreeSet;
use till_core::provider::StepKind;
use till_core::{Engine, ProviderKind};

/// Why a callback address cannot be served.
#[derive(Debug, thiserror::Error)]
#[error("cannot listen on the {wallet} callback URL {url}: {source}")]
pub struct CallbackError {
    pub wallet: &'static str,
    pub url: String,
    pub source: std::io::Error,
}

/// Serves the callback URL of each of `wallets` (one listener per address;
/// wallets sharing one are routed by the engine). Stop by aborting the tasks.
pub async fn listen(
    engine: &Engine,
    wallets: &[ProviderKind],
) -> Result<Vec<tokio::task::JoinHandle<()>>, CallbackError> {
    let mut bound = BTreeSet::new();
    let mut tasks = Vec::new();
    for &wallet in wallets {
        let Some(url) = engine.callback_url(wallet) else {
            continue;
        };
        let host = url.host_str().unwrap_or("127.0.0.1").to_owned();
        let port = url.port_or_known_default().unwrap_or(80);
        if !bound.insert((host.clone(), port)) {
            continue;
        }
        let listener = tokio::net::TcpListener::bind((host.as_str(), port))
            .await
            .map_err(|source| CallbackError {
                wallet: engine.label_of(wallet),
                url: url.to_string(),
                source,
            })?;
        let engine = engine.clone();
        let base = url.clone();
        let app = axum::Router::new().fallback(move |uri: Uri| {
            let engine = engine.clone();
            let base = base.clone();
            async move { answer(&engine, &base, &uri).await }
        });
        tasks.push(tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "callback listener stopped");
            }
        }));
    }
    Ok(tasks)
}

/// The page wallets that are on (those with a callback to serve).
pub fn page_wallets(engine: &Engine) -> Vec<ProviderKind> {
    engine
        .providers()
        .into_iter()
        .filter(|k| engine.capabilities_of(*k).map(|c| c.step) == Some(StepKind::Page))
        .collect()
}

async fn answer(engine: &Engine, base: &url::Url, uri: &Uri) -> (StatusCode, Html<String>) {
    let mut full = base.clone();
    full.set_path(uri.path());
    full.set_query(uri.query());
    let page = |title: &str, body: &str| {
        Html(format!(
            "<!doctype html><meta charset=utf-8><title>{title}</title><h1>{title}</h1><p>{body}</p>"
        ))
    };
    if !engine.is_callback(&full) {
        return (
            StatusCode::NOT_FOUND,
            page("Not found", "This is Till's payment callback."),
        );
    }
    match engine.callback(&full).await {
        Ok(p) if p.state.is_paid() => (
            StatusCode::OK,
            page("Paid", "Thank you. You can close this page."),
        ),
        Ok(p) => (
            StatusCode::OK,
            page(
                "Payment not completed",
                &p.failure_reason
                    .unwrap_or_else(|| format!("State: {}", p.state)),
            ),
        ),
        Err(e) => (
            StatusCode::BAD_REQUEST,
            page("Not accepted", &e.to_string()),
        ),
    }
}
