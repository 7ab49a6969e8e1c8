//! The hub over real TLS: HTTPS ingest with a certificate from a CA made
//! here (`serve --tls-cert --tls-key`, in-process and as the binary), and
//! PostgreSQL over TLS per `sslmode` against a throwaway server with
//! `ssl=on`.

use crate::both;
use crate::harness::*;
use crate::pg::PgServer;
use std::io::BufRead;
use till_hub::ServerTls;
use till_sync_proto::new_event_id;
use till_test_ca::TestCa;

fn client_trusting(ca: &TestCa) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_certs_merge([reqwest::Certificate::from_pem(ca.cert_pem().as_bytes()).unwrap()])
        .build()
        .unwrap()
}

async fn https_ingest_stores_once(b: Backend) {
    let ca = TestCa::new("hub test CA");
    let leaf = ca.issue_loopback();
    let tls = ServerTls::from_pem(
        leaf.cert_pem.as_bytes(),
        leaf.key_pem.as_bytes(),
        "test cert",
        "test key",
    )
    .unwrap();
    let mut t = TestHub::start_with(b, |c| c.tls = Some(tls)).await;
    assert!(t.hub.base_url().starts_with("https://127.0.0.1:"));
    t.http = client_trusting(&ca);
    let s = t.terminal("tls-till1").await;
    let id = new_event_id();
    let got = t.send(&s, &id, &settled("tls-till1", 1)).await;
    assert_eq!(got.status, 200, "{}", got.json);
    assert_eq!(got.json["results"][0]["status"], "stored");
    assert_eq!(t.count("tls-till1").await, 1);

    // A client that does not trust the hub's CA sends nothing.
    let stranger = reqwest::Client::new();
    let err = stranger
        .post(format!(
            "{}/v1/terminals/tls-till1/events",
            t.hub.base_url()
        ))
        .body(settled("tls-till1", 2).to_json())
        .send()
        .await
        .unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    // Plain HTTP to the HTTPS port gets no answer either.
    let plain = t.hub.base_url().replace("https://", "http://");
    assert!(reqwest::Client::new()
        .get(format!("{plain}/healthz"))
        .send()
        .await
        .map(|r| !r.status().is_success())
        .unwrap_or(true));
    assert_eq!(t.count("tls-till1").await, 1);
    t.stop().await;
}
both!(https_ingest_stores_once);

#[test]
fn bad_certificate_files_are_refused_with_their_name() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("hub test CA");
    let files = ca.issue_loopback().write(dir.path(), "hub");
    // Key and certificate swapped.
    let err = ServerTls::from_pem_files(&files.key, &files.cert).unwrap_err();
    assert!(err.to_string().contains("hub.key"), "{err}");
    let err = ServerTls::from_pem_files(&dir.path().join("absent.crt"), &files.key).unwrap_err();
    assert!(err.to_string().contains("absent.crt"), "{err}");
    // A key that is not the certificate's.
    let other = ca.issue_loopback().write(dir.path(), "other");
    assert!(ServerTls::from_pem_files(&files.cert, &other.key).is_err());
}

#[tokio::test]
async fn the_binary_serves_https_with_tls_cert_and_tls_key() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("hub test CA");
    let files = ca.issue_loopback().write(dir.path(), "hub");
    let db = format!("sqlite://{}", dir.path().join("hub.db").display());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_till-hub"))
        .args(["--database", &db, "serve", "--listen", "127.0.0.1:0"])
        .arg("--tls-cert")
        .arg(&files.cert)
        .arg("--tls-key")
        .arg(&files.key)
        .env_remove("TILL_HUB_DATABASE")
        .env("RUST_LOG", "warn")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run till-hub serve");
    let stderr = child.stderr.take().unwrap();
    let url = tokio::task::spawn_blocking(move || {
        for line in std::io::BufReader::new(stderr).lines() {
            let line = line.unwrap();
            if let Some(u) = line.strip_prefix("till-hub listening on ") {
                return Some(u.trim().to_owned());
            }
        }
        None
    })
    .await
    .unwrap();
    let answer = match &url {
        Some(u) => client_trusting(&ca)
            .get(format!("{u}/healthz"))
            .send()
            .await
            .map(|r| r.status().as_u16()),
        None => Ok(0),
    };
    let _ = child.kill();
    let _ = child.wait();
    let url = url.expect("the hub says where it listens");
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    assert_eq!(answer.unwrap(), 200);
}

/// PostgreSQL with `ssl=on`, its certificate for `db.example` only (so the
/// host name check can be told from the chain check).
fn tls_pg(ca: &TestCa) -> PgServer {
    PgServer::start_tls(&ca.issue(&["db.example"]))
}

async fn uses_tls(url: &str) -> Result<bool, String> {
    let target = till_hub::store::pg_tls::parse(url).map_err(|e| e.to_string())?;
    let (client, conn) = target
        .config
        .connect(target.tls)
        .await
        .map_err(|e| format!("{e}: {:?}", std::error::Error::source(&e)))?;
    let task = tokio::spawn(conn);
    let row = client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .map_err(|e| e.to_string())?;
    drop(client);
    let _ = task.await;
    Ok(row.get(0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_tls_follows_sslmode() {
    let ca = TestCa::new("pg test CA");
    let stranger = TestCa::new("a CA nobody trusts");
    let dir = tempfile::tempdir().unwrap();
    let root = ca.write_cert(&dir.path().join("root.crt"));
    let wrong = stranger.write_cert(&dir.path().join("wrong.crt"));
    let server = tokio::task::spawn_blocking(move || tls_pg(&ca))
        .await
        .unwrap();
    let port = server.port();
    let by_ip = |q: &str| format!("postgres://postgres@127.0.0.1:{port}/postgres?{q}");
    let by_name =
        |q: &str| format!("postgres://postgres@db.example:{port}/postgres?hostaddr=127.0.0.1&{q}");
    let root = root.display();
    let wrong = wrong.display();

    assert_eq!(uses_tls(&by_ip("sslmode=disable")).await, Ok(false));
    // libpq's prefer and require encrypt without checking the certificate.
    assert_eq!(uses_tls(&by_ip("sslmode=prefer")).await, Ok(true));
    assert_eq!(uses_tls(&by_ip("sslmode=require")).await, Ok(true));
    // verify-full: trusted chain and the right name.
    assert_eq!(
        uses_tls(&by_name(&format!("sslmode=verify-full&sslrootcert={root}"))).await,
        Ok(true)
    );
    let err = uses_tls(&by_ip(&format!("sslmode=verify-full&sslrootcert={root}")))
        .await
        .unwrap_err();
    assert!(err.contains("NotValidForName"), "{err}");
    // verify-ca: the chain only; and require with a root file means verify-ca.
    assert_eq!(
        uses_tls(&by_ip(&format!("sslmode=verify-ca&sslrootcert={root}"))).await,
        Ok(true)
    );
    assert_eq!(
        uses_tls(&by_ip(&format!("sslmode=require&sslrootcert={wrong}")))
            .await
            .map_err(|e| e.contains("UnknownIssuer")),
        Err(true)
    );
    for mode in ["verify-ca", "verify-full"] {
        let err = uses_tls(&by_name(&format!("sslmode={mode}&sslrootcert={wrong}")))
            .await
            .unwrap_err();
        assert!(err.contains("UnknownIssuer"), "{mode}: {err}");
    }

    // The hub itself on that URL: migrations and the pool over verify-full.
    let url = by_name(&format!("sslmode=verify-full&sslrootcert={root}"));
    let t = TestHub::start_on(&url).await;
    let s = t.terminal("pg-tls-till").await;
    let got = t
        .send(&s, &new_event_id(), &settled("pg-tls-till", 1))
        .await;
    assert_eq!(got.status, 200, "{}", got.json);
    assert_eq!(t.count("pg-tls-till").await, 1);
    t.stop().await;
    assert!(till_hub::open_store(&by_name(&format!(
        "sslmode=verify-full&sslrootcert={wrong}"
    )))
    .await
    .is_err());
    drop(server);
}
