//! Lending the bKash token to the shop's terminals:
//! `POST /v1/terminals/{terminal_id}/bkash/token`.
//!
//! bKash allows a merchant account two token calls (grant + refresh) an hour
//! and blocks it for an hour beyond that. Several tills on one merchant
//! account that each held the credentials would each grant their own; so the
//! hub can hold them instead ([`LendConfig`], from the environment, never
//! the database), keep the one token of the merchant with the same cache and
//! sliding-hour budget a terminal uses (`till_bkash::BkashClient`), and lend
//! it to its terminals.
//!
//! A request is authenticated exactly as a webhook delivery
//! (`ingest::authenticate`: Standard Webhooks headers, the terminal's active
//! keys, the timestamp window, the decoy for unknown terminals), so a
//! stranger learns nothing, neither about terminals nor about the token.
//! Then: the body must be a `till.bkash-token/1` request naming the path's
//! terminal, its `webhook-id` must be new (a captured request cannot be
//! replayed for a token), and only then is the token looked at. A claimed
//! refusal of the current token is checked with bKash before anything is
//! renewed (`BkashClient::lend_token`), so a terminal cannot spend the
//! merchant's token calls.

use crate::error::ApiError;
use crate::server::Hub;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use std::collections::HashMap;
use std::path::{Path as FsPath, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use till_bkash::{
    BkashClient, BkashCredentials, BkashError, BkashSettings, MemoryTokenStore, StoredToken,
    TokenRecord, TokenStore, TokenStoreError,
};
use till_provider_http::{CallObserver, CallRecord};
use till_sync_proto::{LendError, LendErrorCode, LendRequest, LentTokenAnswer, LEND_SCHEMA};
use url::Url;

/// Largest lend request body.
const BODY_LIMIT: usize = 4 * 1024;

/// bKash's production API.
pub const BKASH_PRODUCTION: &str = "https://tokenized.pay.bka.sh/v1.2.0-beta";
/// bKash's merchant sandbox.
pub const BKASH_SANDBOX: &str = "https://tokenized.sandbox.bka.sh/v1.2.0-beta";

/// The merchant account the hub lends tokens of.
#[derive(Debug, Clone)]
pub struct LendConfig {
    /// bKash's API base, version path included.
    pub base_url: Url,
    pub credentials: BkashCredentials,
    /// Token calls allowed per sliding hour (bKash: 2).
    pub max_token_calls_per_hour: u32,
    /// Per bKash call.
    pub timeout: Duration,
    /// Where the token and the token calls of the last hour outlive a
    /// restart (a JSON file, mode 0600, like the credentials file); `None`:
    /// in memory, so a restarted hub grants anew.
    pub state_file: Option<PathBuf>,
}

impl LendConfig {
    pub fn new(base_url: Url, credentials: BkashCredentials) -> LendConfig {
        LendConfig {
            base_url,
            credentials,
            max_token_calls_per_hour: 2,
            timeout: Duration::from_secs(30),
            state_file: None,
        }
    }

    /// From the environment of `till-hub serve`; `None` when
    /// `TILL_HUB_BKASH_ENVIRONMENT` is not set (lending off).
    ///
    /// - `TILL_HUB_BKASH_ENVIRONMENT`: `production`, `sandbox`, or `custom`
    ///   with `TILL_HUB_BKASH_BASE_URL`.
    /// - the credentials: `TILL_HUB_BKASH_CREDENTIALS_FILE`, a TOML file
    ///   (`username`, `password`, `app_key`, `app_secret`) only its owner may
    ///   read, or the four variables `TILL_HUB_BKASH_USERNAME`, `…_PASSWORD`,
    ///   `…_APP_KEY`, `…_APP_SECRET`.
    /// - `TILL_HUB_BKASH_STATE_FILE` (optional): [`LendConfig::state_file`].
    pub fn from_env() -> Result<Option<LendConfig>, LendConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    }

    /// [`Self::from_env`] over any lookup (tests).
    pub fn from_lookup(
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<LendConfig>, LendConfigError> {
        let Some(env) = get(ENV_ENVIRONMENT) else {
            return Ok(None);
        };
        let base = match env.as_str() {
            "production" => BKASH_PRODUCTION.to_owned(),
            "sandbox" => BKASH_SANDBOX.to_owned(),
            "custom" => get(ENV_BASE_URL).ok_or(LendConfigError::Missing(ENV_BASE_URL))?,
            _ => return Err(LendConfigError::Environment(env)),
        };
        let base_url = Url::parse(&base)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or(LendConfigError::BaseUrl(base))?;
        let credentials = match get(ENV_CREDENTIALS_FILE) {
            Some(path) => credentials_file(FsPath::new(&path))?,
            None => {
                let one = |k: &'static str| get(k).ok_or(LendConfigError::Missing(k));
                BkashCredentials {
                    username: one(ENV_USERNAME)?,
                    password: one(ENV_PASSWORD)?,
                    app_key: one(ENV_APP_KEY)?,
                    app_secret: one(ENV_APP_SECRET)?,
                }
            }
        };
        let mut config = LendConfig::new(base_url, credentials);
        config.state_file = get(ENV_STATE_FILE).map(PathBuf::from);
        Ok(Some(config))
    }
}

pub const ENV_ENVIRONMENT: &str = "TILL_HUB_BKASH_ENVIRONMENT";
pub const ENV_BASE_URL: &str = "TILL_HUB_BKASH_BASE_URL";
pub const ENV_CREDENTIALS_FILE: &str = "TILL_HUB_BKASH_CREDENTIALS_FILE";
pub const ENV_STATE_FILE: &str = "TILL_HUB_BKASH_STATE_FILE";
pub const ENV_USERNAME: &str = "TILL_HUB_BKASH_USERNAME";
pub const ENV_PASSWORD: &str = "TILL_HUB_BKASH_PASSWORD";
pub const ENV_APP_KEY: &str = "TILL_HUB_BKASH_APP_KEY";
pub const ENV_APP_SECRET: &str = "TILL_HUB_BKASH_APP_SECRET";

/// Why the lending configuration was refused. Never holds a credential.
#[derive(Debug, thiserror::Error)]
pub enum LendConfigError {
    #[error("{ENV_ENVIRONMENT} is {0:?}; expected production, sandbox or custom")]
    Environment(String),
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error("bKash base URL {0:?} is not an http(s) URL")]
    BaseUrl(String),
    #[error("cannot read the bKash credentials file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the bKash credentials file {path} may be read by others (mode {mode:o}); chmod 600")]
    Readable { path: PathBuf, mode: u32 },
    #[error("the bKash credentials file {path} is not TOML with username, password, app_key, app_secret")]
    Shape { path: PathBuf },
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialsFile {
    username: String,
    password: String,
    app_key: String,
    app_secret: String,
}

fn credentials_file(path: &FsPath) -> Result<BkashCredentials, LendConfigError> {
    let read = |source| LendConfigError::Read {
        path: path.to_owned(),
        source,
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).map_err(read)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(LendConfigError::Readable {
                path: path.to_owned(),
                mode,
            });
        }
    }
    let text = std::fs::read_to_string(path).map_err(read)?;
    // The parser's message could quote a value: only the shape is told.
    let f: CredentialsFile = toml::from_str(&text).map_err(|_| LendConfigError::Shape {
        path: path.to_owned(),
    })?;
    Ok(BkashCredentials {
        username: f.username,
        password: f.password,
        app_key: f.app_key,
        app_secret: f.app_secret,
    })
}

/// [`LendConfig::state_file`]: the token and the calls of the last hour in
/// one JSON file (mode 0600, replaced whole), a lock file beside it.
struct FileTokenStore {
    path: PathBuf,
}

#[derive(serde::Serialize, serde::Deserialize, Default)]
struct SavedState {
    id_token: Option<String>,
    refresh_token: Option<String>,
    use_until_ms: Option<u64>,
    calls_ms: Vec<u64>,
    blocked_until_ms: Option<u64>,
}

fn to_ms(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn from_ms(ms: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(ms)
}

fn store_error(action: &'static str) -> impl FnOnce(std::io::Error) -> TokenStoreError {
    move |e| TokenStoreError {
        action,
        source: Box::new(e),
    }
}

impl TokenStore for FileTokenStore {
    fn lock(&self) -> Result<Box<dyn Send>, TokenStoreError> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.path.with_extension("lock"))
            .map_err(store_error("open the token lock"))?;
        file.lock().map_err(store_error("take the token lock"))?;
        Ok(Box::new(file))
    }

    fn load(&self) -> Result<TokenRecord, TokenStoreError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(TokenRecord::default()),
            Err(e) => return Err(store_error("read the token state")(e)),
        };
        // An unreadable file is a fresh start (the error would quote it).
        let s: SavedState = serde_json::from_str(&text).unwrap_or_default();
        Ok(TokenRecord {
            token: match (s.id_token, s.use_until_ms) {
                (Some(id_token), Some(until)) => Some(StoredToken {
                    id_token,
                    refresh_token: s.refresh_token,
                    use_until: from_ms(until),
                }),
                _ => None,
            },
            calls: s.calls_ms.into_iter().map(from_ms).collect(),
            blocked_until: s.blocked_until_ms.map(from_ms),
        })
    }

    fn save(&self, record: &TokenRecord) -> Result<(), TokenStoreError> {
        let s = SavedState {
            id_token: record.token.as_ref().map(|t| t.id_token.clone()),
            refresh_token: record.token.as_ref().and_then(|t| t.refresh_token.clone()),
            use_until_ms: record.token.as_ref().map(|t| to_ms(t.use_until)),
            calls_ms: record.calls.iter().copied().map(to_ms).collect(),
            blocked_until_ms: record.blocked_until.map(to_ms),
        };
        let text = serde_json::to_vec(&s).map_err(|e| TokenStoreError {
            action: "encode the token state",
            source: Box::new(e),
        })?;
        let tmp = self.path.with_extension("tmp");
        let mut options = std::fs::OpenOptions::new();
        options.create(true).truncate(true).write(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        {
            use std::io::Write;
            let mut f = options
                .open(&tmp)
                .map_err(store_error("write the token state"))?;
            f.write_all(&text)
                .and_then(|_| f.sync_all())
                .map_err(store_error("write the token state"))?;
        }
        std::fs::rename(&tmp, &self.path).map_err(store_error("replace the token state"))
    }
}

/// The hub's bKash calls in its log: endpoint, status, time; bodies never
/// (the client scrubs errors of credentials and tokens).
struct TraceCalls;

impl CallObserver for TraceCalls {
    fn record(&self, call: CallRecord) {
        tracing::info!(
            endpoint = %call.endpoint,
            status = call.status,
            duration_ms = call.duration_ms,
            attempt = call.attempt,
            error = call.error.as_deref(),
            "bkash call"
        );
    }
}

/// The lending state shared by the handlers.
struct Lending {
    client: Option<BkashClient>,
    /// `(terminal, webhook-id)` of recent lend requests, with when they were
    /// seen (Unix seconds): a replay inside the timestamp window is refused.
    seen: Mutex<HashMap<(String, String), i64>>,
}

/// The lending route, to merge into the hub's router. Without
/// `config.bkash` it still authenticates, then answers `not_lending`.
pub fn routes(hub: &Hub) -> Router<Hub> {
    let client = hub.config.bkash.as_ref().and_then(|c| {
        let mut s = BkashSettings::new(c.base_url.clone());
        s.timeout = c.timeout;
        s.max_grants_per_hour = c.max_token_calls_per_hour;
        let store: Arc<dyn TokenStore> = match &c.state_file {
            Some(path) => Arc::new(FileTokenStore { path: path.clone() }),
            None => Arc::new(MemoryTokenStore::default()),
        };
        match BkashClient::with_token_store(s, c.credentials.clone(), Arc::new(TraceCalls), store) {
            Ok(client) => {
                tracing::info!(base_url = %c.base_url, "lending the bKash token to terminals");
                Some(client)
            }
            Err(e) => {
                tracing::error!(error = %e, "bKash lending off: the client cannot be built");
                None
            }
        }
    });
    let lending = Arc::new(Lending {
        client,
        seen: Mutex::new(HashMap::new()),
    });
    Router::new()
        .route("/v1/terminals/{terminal_id}/bkash/token", post(lend))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(Extension(lending))
}

fn refuse(status: StatusCode, error: LendErrorCode, message: impl Into<String>) -> Response {
    refuse_after(status, error, message, None)
}

fn refuse_after(
    status: StatusCode,
    error: LendErrorCode,
    message: impl Into<String>,
    retry_after_secs: Option<u64>,
) -> Response {
    let body = LendError {
        error,
        message: message.into(),
        retry_after_secs,
    };
    let mut r = (status, Json(body)).into_response();
    if let Some(secs) = retry_after_secs {
        if let Ok(v) = secs.to_string().parse() {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    r
}

/// `POST /v1/terminals/{terminal_id}/bkash/token`
async fn lend(
    State(hub): State<Hub>,
    Extension(lending): Extension<Arc<Lending>>,
    Path(terminal_id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(rej) => {
            return ApiError::new(
                rej.status(),
                till_sync_proto::ErrorCode::PayloadTooLarge,
                format!("a lend request is at most {BODY_LIMIT} bytes"),
            )
            .into_response()
        }
    };
    let id = match crate::ingest::authenticate(&hub, &terminal_id, &headers, &body).await {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let req: LendRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(_) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                LendErrorCode::BadRequest,
                "not a till.bkash-token/1 request",
            )
        }
    };
    if req.schema != LEND_SCHEMA || req.terminal_id != terminal_id {
        return refuse(
            StatusCode::BAD_REQUEST,
            LendErrorCode::BadRequest,
            "schema or terminal_id does not match the request",
        );
    }
    if !first_use(&lending, &terminal_id, &id, hub.config.tolerance_secs) {
        tracing::warn!(terminal = %terminal_id, webhook_id = %id, "lend request replayed");
        return refuse(
            StatusCode::CONFLICT,
            LendErrorCode::Replayed,
            "this webhook-id was used before; sign each request with a new one",
        );
    }
    let Some(client) = &lending.client else {
        return refuse(
            StatusCode::NOT_FOUND,
            LendErrorCode::NotLending,
            "this hub does not hold the shop's bKash credentials",
        );
    };
    match client.lend_token(req.refused.as_deref()).await {
        Ok(t) => {
            let use_for = t
                .use_until
                .duration_since(SystemTime::now())
                .unwrap_or(Duration::ZERO);
            tracing::info!(
                terminal = %terminal_id,
                refused = req.refused.is_some(),
                use_for_secs = use_for.as_secs(),
                "bkash token lent"
            );
            let answer = LentTokenAnswer {
                id_token: t.id_token,
                app_key: t.app_key,
                use_for_ms: use_for.as_millis() as u64,
            };
            let mut r = Json(answer).into_response();
            r.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            );
            r
        }
        Err(e) => {
            tracing::warn!(terminal = %terminal_id, error = %e, "no bkash token to lend");
            let message = e.to_string();
            match e {
                BkashError::RateLimited { retry_after } => refuse_after(
                    StatusCode::SERVICE_UNAVAILABLE,
                    LendErrorCode::BkashAuth,
                    message,
                    Some(retry_after.unwrap_or(Duration::from_secs(3600)).as_secs()),
                ),
                BkashError::Auth { .. } => refuse(
                    StatusCode::SERVICE_UNAVAILABLE,
                    LendErrorCode::BkashAuth,
                    message,
                ),
                BkashError::Unreachable { .. } => refuse(
                    StatusCode::BAD_GATEWAY,
                    LendErrorCode::BkashUnreachable,
                    message,
                ),
                _ => refuse(StatusCode::BAD_GATEWAY, LendErrorCode::BkashFailed, message),
            }
        }
    }
}

/// Records `(terminal, id)`; false if it was seen inside the window. Ids
/// older than twice the timestamp tolerance are forgotten: their timestamps
/// are refused anyway.
fn first_use(lending: &Lending, terminal: &str, id: &str, tolerance_secs: i64) -> bool {
    let now = chrono::Utc::now().timestamp();
    let mut seen = match lending.seen.lock() {
        Ok(s) => s,
        Err(p) => p.into_inner(),
    };
    seen.retain(|_, at| now - *at <= 2 * tolerance_secs.max(1));
    seen.insert((terminal.to_owned(), id.to_owned()), now)
        .is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_from_the_environment() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert!(LendConfig::from_lookup(env(&[])).unwrap().is_none());
        let c = LendConfig::from_lookup(env(&[
            (ENV_ENVIRONMENT, "production"),
            (ENV_USERNAME, "u-secret"),
            (ENV_PASSWORD, "p-secret"),
            (ENV_APP_KEY, "k-secret"),
            (ENV_APP_SECRET, "s-secret"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(c.base_url.as_str(), BKASH_PRODUCTION);
        assert!(!format!("{c:?}").contains("secret\""), "{c:?}");
        assert!(matches!(
            LendConfig::from_lookup(env(&[(ENV_ENVIRONMENT, "sandbox")])),
            Err(LendConfigError::Missing(ENV_USERNAME))
        ));
        assert!(matches!(
            LendConfig::from_lookup(env(&[(ENV_ENVIRONMENT, "custom")])),
            Err(LendConfigError::Missing(ENV_BASE_URL))
        ));
        assert!(matches!(
            LendConfig::from_lookup(env(&[(ENV_ENVIRONMENT, "live")])),
            Err(LendConfigError::Environment(_))
        ));
    }

    #[test]
    fn credentials_file_must_be_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bkash.toml");
        std::fs::write(
            &path,
            "username = \"u\"\npassword = \"p\"\napp_key = \"k\"\napp_secret = \"s\"\n",
        )
        .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(
                credentials_file(&path),
                Err(LendConfigError::Readable { .. })
            ));
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        assert_eq!(credentials_file(&path).unwrap().app_key, "k");
        std::fs::write(&path, "username = \"u-secret\"\n").unwrap();
        let e = credentials_file(&path).unwrap_err();
        assert!(!e.to_string().contains("u-secret"), "{e}");
    }

    #[test]
    fn the_state_file_keeps_token_and_calls_privately() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileTokenStore {
            path: dir.path().join("bkash-state.json"),
        };
        assert_eq!(store.load().unwrap(), TokenRecord::default());
        let now = from_ms(to_ms(SystemTime::now()));
        let record = TokenRecord {
            token: Some(StoredToken {
                id_token: "tok".into(),
                refresh_token: Some("ref".into()),
                use_until: now + Duration::from_secs(60),
            }),
            calls: vec![now],
            blocked_until: None,
        };
        let _guard = store.lock().unwrap();
        store.save(&record).unwrap();
        assert_eq!(store.load().unwrap(), record);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&store.path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_webhook_id_lends_once() {
        let l = Lending {
            client: None,
            seen: Mutex::new(HashMap::new()),
        };
        assert!(first_use(&l, "t1", "lend_a", 300));
        assert!(!first_use(&l, "t1", "lend_a", 300));
        assert!(first_use(&l, "t2", "lend_a", 300));
    }
}
