//! A hub per test on an ephemeral loopback port, over SQLite (a temp file) or
//! PostgreSQL (a fresh database on the shared throwaway server), and helpers
//! to sign and post like a terminal does.

use crate::pg::PgServer;
use chrono::{DateTime, NaiveDate};
use rust_decimal::Decimal;
use serde_json::Value;
use std::str::FromStr;
use std::sync::OnceLock;
use till_hub::{HubConfig, HubHandle, NewKey};
use till_sync_proto::{Batch, Event, Payment, References, Refund, Signer, SigningKey};

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

static PG: OnceLock<PgServer> = OnceLock::new();

fn pg() -> &'static PgServer {
    PG.get_or_init(|| PgServer::start(false))
}

pub const READ_TOKEN: &str = "test-read-token";

pub struct TestHub {
    pub hub: HubHandle,
    pub http: reqwest::Client,
    database: String,
    _dir: Option<tempfile::TempDir>,
}

pub struct Posted {
    pub status: u16,
    pub json: Value,
}

impl TestHub {
    pub async fn start(backend: Backend) -> TestHub {
        Self::start_with(backend, |_| {}).await
    }

    pub async fn start_with(backend: Backend, tweak: impl FnOnce(&mut HubConfig)) -> TestHub {
        let (database, dir) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}", dir.path().join("hub.db").display());
                (url, Some(dir))
            }
            Backend::Postgres => {
                let server = tokio::task::spawn_blocking(pg).await.unwrap();
                (server.fresh_database("hub").await, None)
            }
        };
        let mut config = HubConfig::new("127.0.0.1:0", database.clone());
        config.read_tokens = vec![READ_TOKEN.to_string()];
        tweak(&mut config);
        let hub = till_hub::start(config).await.expect("hub starts");
        TestHub {
            hub,
            http: reqwest::Client::new(),
            database,
            _dir: dir,
        }
    }

    /// A hub on an explicit database URL (e.g. PostgreSQL over TLS).
    pub async fn start_on(database: &str) -> TestHub {
        let mut config = HubConfig::new("127.0.0.1:0", database);
        config.read_tokens = vec![READ_TOKEN.to_string()];
        let hub = till_hub::start(config).await.expect("hub starts");
        TestHub {
            hub,
            http: reqwest::Client::new(),
            database: database.to_owned(),
            _dir: None,
        }
    }

    /// Stop the hub and start a new one on the same database.
    pub async fn restart(self) -> TestHub {
        self.stop_keeping_data().await.start(|_| {}).await
    }

    /// Stop the hub, keeping its database for another.
    pub async fn stop_keeping_data(self) -> StoppedHub {
        let TestHub {
            hub,
            database,
            _dir,
            ..
        } = self;
        hub.shutdown().await;
        StoppedHub { database, _dir }
    }

    /// Register a terminal with a fresh HMAC secret; returns a signer for it.
    pub async fn terminal(&self, id: &str) -> Signer {
        let added = self
            .hub
            .admin()
            .add_terminal(id, Some("test till"), NewKey::GenerateHmac)
            .await
            .unwrap();
        Signer::new(vec![added.secret.unwrap()]).unwrap()
    }

    pub async fn post_raw(&self, path: &str, headers: &[(&str, String)], body: Vec<u8>) -> Posted {
        let mut req = self
            .http
            .post(format!("{}{path}", self.hub.base_url()))
            .header("content-type", "application/json")
            .body(body);
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        let json = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("non-JSON answer {status}: {text}"));
        Posted { status, json }
    }

    /// Sign `body` as webhook `id` at `ts` and post it to the terminal's
    /// single-event endpoint.
    pub async fn post_signed(
        &self,
        terminal: &str,
        signer: &Signer,
        id: &str,
        ts: i64,
        body: Vec<u8>,
    ) -> Posted {
        let h = signer.headers(id, ts, &body);
        let headers: Vec<(&str, String)> =
            h.pairs().iter().map(|(k, v)| (*k, v.to_string())).collect();
        self.post_raw(&format!("/v1/terminals/{terminal}/events"), &headers, body)
            .await
    }

    /// Sign and post an event now.
    pub async fn send(&self, signer: &Signer, id: &str, event: &Event) -> Posted {
        self.post_signed(&event.terminal_id, signer, id, now(), event.to_json())
            .await
    }

    /// Sign and post a batch now.
    pub async fn send_batch(&self, signer: &Signer, batch: &Batch) -> Posted {
        let body = batch.to_json();
        let h = signer.headers(&batch.webhook_id().unwrap(), now(), &body);
        let headers: Vec<(&str, String)> =
            h.pairs().iter().map(|(k, v)| (*k, v.to_string())).collect();
        self.post_raw(
            &format!("/v1/terminals/{}/batch", batch.terminal_id),
            &headers,
            body,
        )
        .await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Posted {
        let mut req = self.http.get(format!("{}{path}", self.hub.base_url()));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        let json = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("non-JSON answer {status}: {text}"));
        Posted { status, json }
    }

    pub async fn read(&self, path: &str) -> Value {
        let got = self.get(path, Some(READ_TOKEN)).await;
        assert_eq!(got.status, 200, "{path}: {}", got.json);
        got.json
    }

    pub async fn count(&self, terminal: &str) -> u64 {
        self.hub.store().count_events(Some(terminal)).await.unwrap()
    }

    /// The database URL this hub runs on.
    pub fn database(&self) -> &str {
        &self.database
    }

    /// The SQLite file, when the hub runs on SQLite.
    pub fn sqlite_path(&self) -> Option<std::path::PathBuf> {
        self.database.strip_prefix("sqlite://").map(Into::into)
    }

    /// `(key_id, material)` of every row of `terminal_keys`, read straight
    /// from the database (not through the hub).
    pub async fn key_materials(&self) -> Vec<(i64, String)> {
        match self.sqlite_path() {
            Some(path) => {
                let conn = rusqlite::Connection::open(path).unwrap();
                let mut stmt = conn
                    .prepare("SELECT key_id, material FROM terminal_keys ORDER BY key_id")
                    .unwrap();
                stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                    .unwrap()
                    .map(Result::unwrap)
                    .collect()
            }
            None => {
                let client = self.pg_client().await;
                client
                    .query(
                        "SELECT key_id, material FROM terminal_keys ORDER BY key_id",
                        &[],
                    )
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| (r.get(0), r.get(1)))
                    .collect()
            }
        }
    }

    /// Overwrite a key's stored material, as an older hub (or an attacker
    /// with the database) would have written it.
    pub async fn set_material(&self, key_id: i64, material: &str) {
        match self.sqlite_path() {
            Some(path) => {
                let conn = rusqlite::Connection::open(path).unwrap();
                conn.busy_timeout(std::time::Duration::from_secs(10))
                    .unwrap();
                let n = conn
                    .execute(
                        "UPDATE terminal_keys SET material = ?2 WHERE key_id = ?1",
                        rusqlite::params![key_id, material],
                    )
                    .unwrap();
                assert_eq!(n, 1);
            }
            None => {
                let client = self.pg_client().await;
                let n = client
                    .execute(
                        "UPDATE terminal_keys SET material = $2 WHERE key_id = $1",
                        &[&key_id, &material],
                    )
                    .await
                    .unwrap();
                assert_eq!(n, 1);
            }
        }
    }

    async fn pg_client(&self) -> tokio_postgres::Client {
        let (client, conn) = tokio_postgres::connect(&self.database, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        client
    }

    pub async fn stop(self) {
        self.hub.shutdown().await;
    }
}

/// A database whose hub was stopped.
pub struct StoppedHub {
    database: String,
    _dir: Option<tempfile::TempDir>,
}

impl StoppedHub {
    /// Try to start a hub on it (configured by `tweak`).
    pub async fn try_start(
        &self,
        tweak: impl FnOnce(&mut HubConfig),
    ) -> Result<HubHandle, till_hub::Error> {
        let mut config = HubConfig::new("127.0.0.1:0", self.database.clone());
        config.read_tokens = vec![READ_TOKEN.to_string()];
        tweak(&mut config);
        till_hub::start(config).await
    }

    /// Start a hub on it (configured by `tweak`).
    pub async fn start(self, tweak: impl FnOnce(&mut HubConfig)) -> TestHub {
        let hub = self.try_start(tweak).await.expect("hub restarts");
        TestHub {
            hub,
            http: reqwest::Client::new(),
            database: self.database,
            _dir: self._dir,
        }
    }
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

pub fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

pub fn payment(id: &str, provider: &str, amount: &str, currency: &str) -> Payment {
    Payment {
        id: id.to_string(),
        provider: provider.to_string(),
        amount: dec(amount),
        currency: currency.to_string(),
        references: References {
            lookup: Some(format!("TR{id}")),
            transaction: Some(format!("BFM{id}")),
            external: None,
        },
        created_at: DateTime::parse_from_rfc3339("2026-11-22T10:14:00+06:00").unwrap(),
        settled_at: DateTime::parse_from_rfc3339("2026-11-22T10:15:00+06:00").unwrap(),
        payee: None,
        invoice: Some(format!("till-{id}")),
    }
}

pub fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
}

/// A `payment.settled` event of 12.50 BDT (or the given amount).
pub fn settled(terminal: &str, seq: u64) -> Event {
    settled_amount(terminal, seq, "bkash", "12.50", "BDT")
}

pub fn settled_amount(
    terminal: &str,
    seq: u64,
    provider: &str,
    amount: &str,
    currency: &str,
) -> Event {
    Event::payment_settled(
        terminal,
        seq,
        DateTime::parse_from_rfc3339("2026-11-22T10:15:00+06:00").unwrap(),
        day(),
        payment(&format!("p{seq}"), provider, amount, currency),
    )
}

pub fn refunded(terminal: &str, seq: u64, of: &Event, amount: &str, total: &str) -> Event {
    let p = of.payment.clone().unwrap();
    let currency = p.currency.clone();
    Event::payment_refunded(
        terminal,
        seq,
        DateTime::parse_from_rfc3339("2026-11-22T11:00:00+06:00").unwrap(),
        day(),
        p,
        Refund {
            id: format!("r{seq}"),
            amount: dec(amount),
            currency,
            provider_refund_id: Some(format!("RF{seq}")),
            refunded_at: DateTime::parse_from_rfc3339("2026-11-22T11:00:00+06:00").unwrap(),
            total_refunded: dec(total),
        },
    )
}

pub fn signer_of(keys: &[&SigningKey]) -> Signer {
    Signer::new(keys.iter().map(|k| (*k).clone()).collect()).unwrap()
}

/// Run an async test body on both storages.
#[macro_export]
macro_rules! both {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::harness::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::harness::Backend::Postgres).await;
            }
        }
    };
}
