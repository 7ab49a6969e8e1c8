//! `till-serve`: what Till's own HTTP servers share (the hub, the local
//! terminal API), so TLS is set up one way.
//!
//! - [`tls`]: [`ServerTls`], a rustls server configuration from PEM files
//!   (aws-lc-rs, the provider every Till rustls configuration names).
//! - [`spawn`]: an axum router served on an already bound listener, plain
//!   HTTP or TLS (axum-server does the handshakes, each in its connection's
//!   task), stopped gracefully when a watch channel turns `true`.
//!
//! # Invariants
//!
//! - No Till domain types: routers come in finished, only transport here.
//! - A listener is bound by the caller (so it knows the port, e.g. an
//!   ephemeral one in tests) before anything is served.

pub mod tls;

pub use tls::{ServerTls, TlsError};

use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// How long open connections may finish after the stop signal.
const GRACE: Duration = Duration::from_secs(10);

/// Serves `app` on `listener` in the background (over `tls` when given) until
/// `stop` turns `true`; the task ends once open requests are done (at most
/// [`GRACE`] for TLS connections). `name` is for the logs.
pub fn spawn(
    name: &'static str,
    listener: TcpListener,
    app: axum::Router,
    tls: Option<ServerTls>,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    Ok(match tls {
        None => tokio::spawn(async move {
            let shutdown = async move {
                let _ = stop.wait_for(|s| *s).await;
            };
            // With the peer's address (`ConnectInfo`), for what a server logs.
            let service = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
            if let Err(e) = axum::serve(listener, service)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::error!(error = %e, server = name, "server failed");
            }
        }),
        Some(tls) => {
            let server = axum_server::from_tcp_rustls(
                listener.into_std()?,
                axum_server::tls_rustls::RustlsConfig::from_config(tls.config()),
            )?;
            let handle = axum_server::Handle::new();
            let stopper = handle.clone();
            tokio::spawn(async move {
                let _ = stop.wait_for(|s| *s).await;
                stopper.graceful_shutdown(Some(GRACE));
            });
            tokio::spawn(async move {
                let service = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
                if let Err(e) = server.handle(handle).serve(service).await {
                    tracing::error!(error = %e, server = name, "server failed");
                }
            })
        }
    })
}
