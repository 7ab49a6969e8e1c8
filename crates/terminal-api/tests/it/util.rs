//! A till for the API's tests: the sandbox, an engine on a temporary home
//! pointed at it (secrets in memory: no keyring needed), a virtual network
//! printer, the page wallets' callbacks served as `till api serve` does,
//! and the terminal API on an ephemeral loopback port.

use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use till_core::secrets::{names, MemoryStore, Secret, SecretStore};
use till_core::{Clock, Config, Engine, EngineOptions};
use till_terminal_api::{ApiHandle, ApiOptions, Busy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A receipt printer on loopback: says "ready" to `DLE EOT 4` and keeps
/// what each connection sent after it.
pub struct Printer {
    pub addr: std::net::SocketAddr,
    jobs: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Printer {
    pub async fn start() -> Printer {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let jobs = Arc::new(Mutex::new(Vec::new()));
        let keep = jobs.clone();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = l.accept().await {
                let keep = keep.clone();
                tokio::spawn(async move {
                    let mut got = Vec::new();
                    let mut buf = vec![0u8; 16384];
                    let mut asked = false;
                    while let Ok(Ok(n)) =
                        tokio::time::timeout(Duration::from_secs(10), conn.read(&mut buf)).await
                    {
                        if n == 0 {
                            break;
                        }
                        got.extend_from_slice(&buf[..n]);
                        if !asked && got.starts_with(&[0x10, 0x04, 0x04]) {
                            asked = true;
                            got.drain(..3);
                            let _ = conn.write_all(&[0x12]).await;
                        }
                    }
                    if !got.is_empty() {
                        keep.lock().unwrap().push(got);
                    }
                });
            }
        });
        Printer { addr, jobs }
    }

    pub fn jobs(&self) -> Vec<Vec<u8>> {
        self.jobs.lock().unwrap().clone()
    }
}

pub struct Till {
    pub sandbox: till_sandbox::SandboxHandle,
    pub engine: Engine,
    pub api: Option<ApiHandle>,
    pub printer: Printer,
    /// Kept for the engine's life.
    _home: tempfile::TempDir,
    pub http: reqwest::Client,
    callbacks: Vec<tokio::task::JoinHandle<()>>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Till {
    pub async fn start() -> Till {
        Till::start_with(None, None).await
    }

    /// With `busy` (the desktop app's customer display) and `tls`.
    pub async fn start_with(busy: Option<Busy>, tls: Option<till_serve::ServerTls>) -> Till {
        let sandbox = till_sandbox::start(till_sandbox::Config::default())
            .await
            .expect("sandbox starts");
        let secrets = Arc::new(MemoryStore::default());
        let bk = &sandbox.config().bkash;
        for (n, v) in [
            (names::BKASH_USERNAME, bk.username.clone()),
            (names::BKASH_PASSWORD, bk.password.clone()),
            (names::BKASH_APP_KEY, bk.app_key.clone()),
            (names::BKASH_APP_SECRET, bk.app_secret.clone()),
            (names::BAKONG_TOKEN, sandbox.bakong_token()),
        ] {
            secrets.set(n, &Secret::new(v)).unwrap();
        }
        let printer = Printer::start().await;
        let callback = format!("http://127.0.0.1:{}/bkash/callback", free_port());
        let pairs: Vec<(String, String)> = [
            ("TILL__BKASH__BASE_URL", sandbox.bkash_base_url()),
            ("TILL__BKASH__CALLBACK_URL", callback),
            ("TILL__BKASH__TIMEOUT_SECS", "3".into()),
            ("TILL__BAKONG__BASE_URL", sandbox.bakong_base_url()),
            ("TILL__BAKONG__TIMEOUT_SECS", "3".into()),
            ("TILL__BAKONG__FAST_INTERVAL_MS", "200".into()),
            ("TILL__BAKONG__MIN_REQUEST_GAP_MS", "200".into()),
            ("TILL__NAGAD__ENABLED", "false".into()),
            ("TILL__DEMO__SETTLE_AFTER_MS", "300".into()),
            ("TILL__PRINTER__ENABLED", "true".into()),
            ("TILL__PRINTER__TARGET", format!("tcp://{}", printer.addr)),
            ("TILL__PRINTER__AUTO_PRINT", "true".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let config = Config::from_layers(till_core::config::DEFAULTS_TOML, None, pairs.into_iter())
            .expect("test config is valid");
        let home = tempfile::tempdir().unwrap();
        let engine = Engine::open(EngineOptions {
            home: home.path().to_owned(),
            config,
            secrets,
            clock: Clock::system(),
            background: true,
        })
        .await
        .expect("engine opens");
        let callbacks = till_terminal_api::callbacks::listen(
            &engine,
            &till_terminal_api::callbacks::page_wallets(&engine),
        )
        .await
        .expect("callbacks listen");
        let api = till_terminal_api::start(
            engine.clone(),
            ApiOptions {
                listen: "127.0.0.1:0".parse().unwrap(),
                tls,
                busy,
            },
        )
        .await
        .expect("the API starts");
        Till {
            sandbox,
            engine,
            api: Some(api),
            printer,
            _home: home,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            callbacks,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.api.as_ref().unwrap().base_url())
    }

    /// Pairs a POS; returns its key.
    pub fn pair(&self, name: &str) -> String {
        self.engine.add_pos_key(name, "manager@test").unwrap().token
    }

    pub async fn post(&self, key: &str, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(self.url(path))
            .bearer_auth(key)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, key: &str, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(self.url(path))
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn stop(mut self) {
        if let Some(api) = self.api.take() {
            api.shutdown().await;
        }
        for c in &self.callbacks {
            c.abort();
        }
        self.engine.shutdown().await;
    }
}

/// A server-sent-events reader over a streaming response.
pub struct Sse {
    resp: reqwest::Response,
    buf: String,
}

/// One event: its id, type and data.
#[derive(Debug, Clone)]
pub struct Ev {
    pub id: i64,
    pub kind: String,
    pub data: Value,
}

impl Sse {
    pub async fn open(till: &Till, key: &str, last_event_id: Option<i64>) -> Sse {
        let mut req = till.http.get(till.url("/v1/events")).bearer_auth(key);
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id.to_string());
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(
            resp.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        Sse {
            resp,
            buf: String::new(),
        }
    }

    /// The next event (comments skipped); `None` when the stream ended or
    /// nothing came within `within`.
    pub async fn next(&mut self, within: Duration) -> Option<Ev> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let (mut id, mut kind, mut data) = (None, String::new(), String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        id = v.trim().parse().ok();
                    } else if let Some(v) = line.strip_prefix("event:") {
                        kind = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if let Some(id) = id {
                    return Some(Ev {
                        id,
                        kind,
                        data: serde_json::from_str(&data).unwrap(),
                    });
                }
            }
            match tokio::time::timeout_at(deadline, self.resp.chunk()).await {
                Ok(Ok(Some(c))) => self.buf.push_str(&String::from_utf8_lossy(&c)),
                _ => return None,
            }
        }
    }

    /// Events until one of `kind` for charge `id` (the ones before it included).
    pub async fn until(&mut self, id: &str, kind: &str) -> Vec<Ev> {
        let mut seen = Vec::new();
        while let Some(e) = self.next(Duration::from_secs(20)).await {
            let done = e.kind == kind && e.data["charge"]["id"] == id;
            seen.push(e);
            if done {
                return seen;
            }
        }
        panic!(
            "no {kind} for {id}; saw {:?}",
            seen.iter().map(|e| &e.kind).collect::<Vec<_>>()
        );
    }
}
