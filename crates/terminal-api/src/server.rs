//! The router (built with its OpenAPI document from the same handlers, so
//! they cannot disagree), [`start`] and the running server's [`ApiHandle`].

use crate::auth::Refusals;
use crate::{charges, events};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use till_core::Engine;
use till_serve::ServerTls;
use tokio::sync::watch;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Says which charge keeps the till busy (its customer display shows it),
/// `None` when a new charge may start. The desktop app has one; a headless
/// till has none (several charges may wait at once).
pub type Busy = Arc<dyn Fn() -> Option<String> + Send + Sync>;

/// How to serve.
pub struct ApiOptions {
    pub listen: SocketAddr,
    pub tls: Option<ServerTls>,
    pub busy: Option<Busy>,
}

impl ApiOptions {
    /// From `[api]` (listen address, optional TLS files).
    pub fn from_config(api: &till_core::config::ApiSection) -> anyhow::Result<ApiOptions> {
        let listen = api.listen_addr()?;
        let tls = match (&api.tls_cert, &api.tls_key) {
            (Some(cert), Some(key)) => Some(ServerTls::from_pem_files(cert, key)?),
            _ => None,
        };
        Ok(ApiOptions {
            listen,
            tls,
            busy: None,
        })
    }
}

#[derive(Clone)]
pub struct ApiState {
    pub(crate) engine: Engine,
    pub(crate) busy: Option<Busy>,
    pub(crate) refusals: Arc<Mutex<Refusals>>,
    pub(crate) stop: watch::Receiver<bool>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Till local terminal API",
        description = "The shop's own POS starts charges on a Till terminal, follows them on a server-sent-events stream, cancels them, and asks for refunds that a manager approves on the till. Every request carries the POS's key (`till api key add --name \"POS 1\"`) as `Authorization: Bearer <key>`. Errors are `{\"error\": {\"code\", \"params\", \"message\"}}`; match on `code`.",
        version = "1"
    ),
    modifiers(&KeyScheme),
    tags(
        (name = "charges", description = "Charges asked for by this POS"),
        (name = "events", description = "What happens to them, as it happens"),
        (name = "till", description = "What the till takes")
    )
)]
struct ApiDoc;

struct KeyScheme;

impl utoipa::Modify for KeyScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "pos_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("pos_<id>.<secret>")
                    .description(Some("The POS's key, shown once when a manager pairs it"))
                    .build(),
            ),
        );
    }
}

fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(charges::create_charge))
        .routes(routes!(charges::get_charge))
        .routes(routes!(charges::cancel_charge))
        .routes(routes!(charges::request_refund))
        .routes(routes!(events::events))
        .routes(routes!(charges::wallets))
}

/// The OpenAPI 3 document of the routes [`start`] serves (also served at
/// `GET /v1/openapi.json`, and kept in `docs/terminal-api.openapi.json`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
}

/// A running API server. Call [`ApiHandle::shutdown`] to stop it.
pub struct ApiHandle {
    addr: SocketAddr,
    tls: bool,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl ApiHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://IP:PORT` (`https://` with TLS).
    pub fn base_url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// Ends the event streams, finishes open requests, waits for the server.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Binds `opts.listen` and serves the API over `engine` in the background.
pub async fn start(engine: Engine, opts: ApiOptions) -> anyhow::Result<ApiHandle> {
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .map_err(|e| anyhow::anyhow!("the terminal API cannot listen on {}: {e}", opts.listen))?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = watch::channel(false);
    let state = ApiState {
        engine,
        busy: opts.busy,
        refusals: Arc::new(Mutex::new(Refusals::default())),
        stop: stopped.clone(),
    };
    let (router, doc) = routes().split_for_parts();
    let doc = Arc::new(doc);
    let app = router
        .route(
            "/v1/openapi.json",
            axum::routing::get(move || {
                let doc = doc.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        // Unknown routes and methods answer in the one error shape too.
        .fallback(|| async {
            crate::error::ApiError::new(
                till_core::reason::Reason::new(till_core::reason::ReasonCode::NotFound)
                    .with("id", "route"),
            )
        })
        .method_not_allowed_fallback(|| async {
            crate::error::ApiError::code(till_core::reason::ReasonCode::MethodNotAllowed)
        })
        .with_state(state);
    let tls = opts.tls.is_some();
    let task = till_serve::spawn("terminal-api", listener, app, opts.tls, stopped)?;
    tracing::info!(%addr, tls, "terminal API listening");
    Ok(ApiHandle {
        addr,
        tls,
        stop,
        task,
    })
}
