//! The router, [`start`] and [`HubHandle`].

use crate::admin::{token_hash, Admin};
use crate::config::HubConfig;
use crate::store::Store;
use crate::{ingest, read, Error};
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Shared state of the handlers.
#[derive(Clone)]
pub struct Hub {
    pub store: Arc<dyn Store>,
    pub config: Arc<HubConfig>,
    /// SHA-256 of the configured read tokens.
    pub token_hashes: Arc<HashSet<String>>,
    /// What a request for an unknown terminal (or one without active keys)
    /// is checked against: a random HMAC secret made at start, held nowhere
    /// else, so such requests fail exactly as a wrong signature does.
    pub decoy_keys: Arc<[till_sync_proto::VerifyingKey]>,
}

/// The hub's routes over a store.
pub fn router(hub: Hub) -> Router {
    let single = hub.config.single_body_limit;
    let batch = hub.config.batch_body_limit;
    let reads = Router::new()
        .route("/v1/settlements", get(read::settlements))
        .route("/v1/totals", get(read::totals))
        .route("/v1/terminals", get(read::terminals))
        .route("/v1/terminals/{terminal_id}/gaps", get(read::gaps))
        .route("/v1/terminals/{terminal_id}/payees", get(read::payees))
        .route("/v1/terminals/{terminal_id}/days/{day}", get(read::day))
        .route("/v1/days", get(read::days))
        .route("/v1/events/{id}", get(read::event))
        .route_layer(axum::middleware::from_fn_with_state(
            hub.clone(),
            read::require_token,
        ));
    Router::new()
        .route(
            "/v1/terminals/{terminal_id}/events",
            post(ingest::single).layer(DefaultBodyLimit::max(single)),
        )
        .route(
            "/v1/terminals/{terminal_id}/batch",
            post(ingest::batch).layer(DefaultBodyLimit::max(batch)),
        )
        .merge(reads)
        .merge(crate::lend::routes(&hub))
        .merge(crate::office::routes())
        .merge(crate::evidence::routes(&hub))
        .route("/healthz", get(read::healthz))
        .fallback(read::fallback)
        .with_state(hub)
}

/// A running hub. Call [`HubHandle::shutdown`] to stop it.
pub struct HubHandle {
    addr: SocketAddr,
    hub: Hub,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl HubHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://IP:PORT` (`https://` when serving TLS), what a terminal's
    /// sync endpoint starts with.
    pub fn base_url(&self) -> String {
        let scheme = if self.hub.config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr)
    }

    /// The storage (for checks in tests and benchmarks).
    pub fn store(&self) -> Arc<dyn Store> {
        self.hub.store.clone()
    }

    /// Terminal and token administration.
    pub fn admin(&self) -> Admin {
        Admin::new(self.hub.store.clone())
    }

    /// Stop accepting, finish open requests, wait for the server to end.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Open the database (migrating it), check that its HMAC secrets open with
/// `config.secret_key`, bind, and serve in the background.
pub async fn start(config: HubConfig) -> Result<HubHandle, Error> {
    let store = crate::store::open_with(&config.database, &config.secret_key).await?;
    start_with_store(config, store).await
}

/// Like [`start`] over an already opened store (which has its secret key:
/// `config.secret_key` is not used).
pub async fn start_with_store(
    config: HubConfig,
    store: Arc<dyn Store>,
) -> Result<HubHandle, Error> {
    // A hub that cannot open its terminals' secrets says so now, not at
    // their first request.
    store.check_secrets().await?;
    let listener = TcpListener::bind(&config.listen)
        .await
        .map_err(|source| Error::Bind {
            addr: config.listen.clone(),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| Error::Bind {
        addr: config.listen.clone(),
        source,
    })?;
    let token_hashes = config
        .read_tokens
        .iter()
        .filter(|t| !t.is_empty())
        .map(|t| token_hash(t))
        .collect();
    let hub = Hub {
        store,
        config: Arc::new(config),
        token_hashes: Arc::new(token_hashes),
        decoy_keys: Arc::new([till_sync_proto::generate_hmac_secret().verifying_key()]),
    };
    let app = router(hub.clone());
    let (stop, stopped) = watch::channel(false);
    crate::evidence::spawn(&hub, stopped.clone());
    let task = till_serve::spawn("till-hub", listener, app, hub.config.tls.clone(), stopped)
        .map_err(|source| Error::Bind {
            addr: hub.config.listen.clone(),
            source,
        })?;
    tracing::info!(%addr, tls = hub.config.tls.is_some(), "till-hub listening");
    Ok(HubHandle {
        addr,
        hub,
        stop,
        task,
    })
}
