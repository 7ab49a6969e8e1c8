//! Binding and serving. The accept loop is our own (hyper's HTTP/1 connection
//! builder) so each connection carries a [`ConnControl`] through which a
//! reset fault can abort it with a TCP RST.

use crate::bakong;
use crate::bkash;
use crate::clock::Clock;
use crate::config::Config;
use crate::faults::{self, ConnControl, FaultEngine, FaultRule};
use crate::nagad;
use crate::persist::Persist;
use crate::sim;
use crate::state::{AppState, World};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use rand::SeedableRng;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt;

/// A running sandbox. Dropping it does not stop the server; call
/// [`SandboxHandle::shutdown`].
pub struct SandboxHandle {
    addr: SocketAddr,
    app: AppState,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    tls_failures: Arc<watch::Sender<u64>>,
}

impl SandboxHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` (`https://` with TLS, or the configured public URL).
    pub fn origin(&self) -> &str {
        &self.app.origin
    }

    /// What to give a bKash client as its base URL (`…/v1.2.0-beta`).
    pub fn bkash_base_url(&self) -> String {
        format!("{}/v1.2.0-beta", self.app.origin)
    }

    /// What to give a Bakong client as its base URL (paths start with `/v1/`).
    pub fn bakong_base_url(&self) -> String {
        format!("{}{}", self.app.origin, self.app.config.bakong.prefix)
    }

    /// What to give a Nagad client as its base URL
    /// (`…{prefix}/remote-payment-gateway-1.0/api/dfs`).
    pub fn nagad_base_url(&self) -> String {
        format!(
            "{}{}",
            self.app.origin,
            nagad::http::api_base(&self.app.config.nagad.prefix)
        )
    }

    /// The simulated Nagad's public key (PEM): what a merchant is given.
    pub fn nagad_public_key_pem(&self) -> &str {
        self.app.nagad_keys.nagad_public_pem()
    }

    /// The sandbox clock (advance it to expire tokens, payment IDs, KHQRs).
    pub fn clock(&self) -> &Clock {
        &self.app.clock
    }

    /// The effective configuration.
    pub fn config(&self) -> &Config {
        &self.app.config
    }

    /// A fresh Bakong bearer token.
    pub fn bakong_token(&self) -> String {
        sim::bakong_token(&self.app)
    }

    /// Add fault rules at run time.
    pub fn add_faults(&self, rules: impl IntoIterator<Item = FaultRule>) {
        self.app.faults.lock().expect("fault lock").add(rules);
    }

    /// Remove every fault rule.
    pub fn clear_faults(&self) {
        self.app.faults.lock().expect("fault lock").clear();
    }

    /// The ledger (same JSON as `GET /sim/ledger`).
    pub fn ledger(&self) -> serde_json::Value {
        sim::ledger_json(&self.app)
    }

    /// PEM of the IPN signing certificate, when IPN is configured.
    pub fn ipn_certificate_pem(&self) -> Option<String> {
        self.app.ipn.as_ref().map(|i| i.cert_pem().to_string())
    }

    /// TLS handshakes that failed (a client refused the certificate, or
    /// spoke plain HTTP to HTTPS). Such a client sent no request.
    pub fn tls_handshake_failures(&self) -> u64 {
        *self.tls_failures.borrow()
    }

    /// Waits until at least `n` TLS handshakes have failed. A client that
    /// refused the certificate may report it before the server has seen the
    /// alert, so tests wait for the server's side here instead of sleeping.
    pub async fn wait_tls_handshake_failures(&self, n: u64) {
        let mut rx = self.tls_failures.subscribe();
        let _ = rx.wait_for(|c| *c >= n).await;
    }

    /// Stop accepting, abort open connections, wait for the loop to end.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// The full router over a prepared state.
pub fn router(app: AppState) -> Router {
    Router::new()
        .merge(bkash::http::routes())
        .merge(bkash::page::routes())
        .merge(bakong::http::routes(&app.config.bakong.prefix))
        .merge(bakong::page::routes())
        .merge(nagad::http::routes(&app.config.nagad.prefix))
        .merge(nagad::page::routes())
        .merge(sim::routes())
        .fallback(fallback)
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            faults::layer,
        ))
        .layer(axum::middleware::from_fn(log_request))
        .with_state(app)
}

async fn log_request(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let resp = next.run(req).await;
    tracing::debug!(%method, path, status = resp.status().as_u16(), "request");
    resp
}

async fn fallback(
    axum::extract::State(app): axum::extract::State<AppState>,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let nagad_api = format!("{}/", nagad::http::api_base(&app.config.nagad.prefix));
    if uri.path().starts_with(&nagad_api) {
        return nagad::http::refusal(404, "NotFound");
    }
    let bakong_v1 = format!("{}/v1/", app.config.bakong.prefix);
    if uri.path().starts_with(&bakong_v1) {
        return (
            axum::http::StatusCode::NOT_FOUND,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            r#"{"responseCode":1,"responseMessage":"Not Found","errorCode":null,"data":null}"#,
        )
            .into_response();
    }
    bkash::http::missing_token(headers).await
}

/// Start a sandbox: bind, load state, serve in the background.
pub async fn start(config: Config) -> Result<SandboxHandle, crate::Error> {
    let listener =
        TcpListener::bind(&config.listen)
            .await
            .map_err(|source| crate::Error::Bind {
                addr: config.listen.clone(),
                source,
            })?;
    let addr = listener.local_addr().map_err(|source| crate::Error::Bind {
        addr: config.listen.clone(),
        source,
    })?;
    let acceptor = config.tls.as_ref().map(|t| t.acceptor()).transpose()?;
    let scheme = if acceptor.is_some() { "https" } else { "http" };
    let origin: Arc<str> = config
        .public_url
        .clone()
        .map(|u| u.trim_end_matches('/').to_string())
        .unwrap_or_else(|| format!("{scheme}://{addr}"))
        .into();

    let persist = match &config.state_file {
        Some(path) => Some(Arc::new(Persist::open(path)?)),
        None => None,
    };
    let mut world = match &persist {
        Some(p) => p.load()?.unwrap_or_else(|| World::new(config.seed)),
        None => World::new(config.seed),
    };
    if persist.is_some() {
        // Different ids after a restart, still reproducible for a given history.
        let salt = (world.bkash.payments.len()
            + world.bakong.txns.len()
            + world.nagad.payments.len()) as u64;
        world.rng = rand_chacha::ChaCha8Rng::seed_from_u64(config.seed ^ (salt << 32) ^ 0x5a17);
    }
    let ipn = bkash::ipn::Ipn::new(
        &config.bkash.ipn,
        &config.bkash.merchant_wallet,
        &origin,
        config.seed,
    )?
    .map(Arc::new);
    let nagad_keys = Arc::new(nagad::crypto::NagadKeys::from_config(&config.nagad)?);
    let app = AppState {
        faults: Arc::new(Mutex::new(FaultEngine::new(
            config.faults.clone(),
            config.seed,
        ))),
        config: Arc::new(config),
        world: Arc::new(Mutex::new(world)),
        clock: Clock::default(),
        origin,
        persist,
        ipn,
        nagad_keys,
    };
    let router = router(app.clone());
    let (stop, stop_rx) = watch::channel(false);
    let tls_failures = Arc::new(watch::Sender::new(0u64));
    let tls = acceptor.map(|a| (a, tls_failures.clone()));
    let task = tokio::spawn(accept_loop(listener, router, tls, stop_rx));
    tracing::info!(%addr, scheme, "till-sandbox listening");
    Ok(SandboxHandle {
        addr,
        app,
        stop,
        task,
        tls_failures,
    })
}

async fn accept_loop(
    listener: TcpListener,
    router: Router,
    tls: Option<(tokio_rustls::TlsAcceptor, Arc<watch::Sender<u64>>)>,
    mut stop: watch::Receiver<bool>,
) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            accepted = listener.accept() => {
                let Ok((stream, _peer)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                conns.spawn(serve_conn(stream, router.clone(), tls.clone()));
            }
        }
    }
    conns.abort_all();
    while conns.join_next().await.is_some() {}
}

async fn serve_conn(
    stream: tokio::net::TcpStream,
    router: Router,
    tls: Option<(tokio_rustls::TlsAcceptor, Arc<watch::Sender<u64>>)>,
) {
    #[cfg(unix)]
    let fd = std::os::fd::AsRawFd::as_raw_fd(&stream);
    match tls {
        None => {
            serve_io(
                stream,
                router,
                #[cfg(unix)]
                fd,
            )
            .await
        }
        // The handshake runs in the connection's own task, so a slow or
        // failing client holds up nobody else.
        Some((acceptor, failures)) => match acceptor.accept(stream).await {
            Ok(tls) => {
                serve_io(
                    tls,
                    router,
                    #[cfg(unix)]
                    fd,
                )
                .await
            }
            Err(e) => {
                failures.send_modify(|c| *c += 1);
                tracing::info!(error = %e, "TLS handshake failed");
            }
        },
    }
}

async fn serve_io<I>(io: I, router: Router, #[cfg(unix)] fd: std::os::fd::RawFd)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let ctl = Arc::new(ConnControl::default());
    let svc_ctl = ctl.clone();
    let svc = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(svc_ctl.clone());
        router.clone().oneshot(req.map(axum::body::Body::new))
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(io), svc);
    tokio::pin!(conn);
    tokio::select! {
        r = conn.as_mut() => {
            if let Err(e) = r {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        }
        _ = ctl.kill.notified() => {
            #[cfg(unix)]
            {
                // SAFETY: `conn` still owns the stream (under the TLS
                // session, if any), so `fd` is open for
                // the duration of this borrow; we only set SO_LINGER on it.
                let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
                let _ = socket2::SockRef::from(&borrowed).set_linger(Some(std::time::Duration::ZERO));
            }
            tracing::info!("resetting connection (fault)");
            // Dropping `conn` closes the socket; with linger 0 that is an RST.
        }
    }
}
