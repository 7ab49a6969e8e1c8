//! A throwaway PostgreSQL server for tests and benchmarks: `initdb` into a
//! temporary directory, `postgres` on 127.0.0.1 with a free port and its
//! socket in that directory, one database per test. As root, the server runs
//! as the `postgres` user (`runuser`). The server is killed (its process
//! group) on drop, and by a watchdog when the test process exits.
//!
//! Missing PostgreSQL binaries are a failure, never a skip.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub struct PgServer {
    port: u16,
    child: Child,
    _dir: tempfile::TempDir,
    next_db: AtomicU32,
}

fn find_bin_dir() -> PathBuf {
    let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("postgres").exists().then_some((v, bin))
        })
        .collect();
    dirs.sort();
    match dirs.pop() {
        Some((_, bin)) => bin,
        None => panic!(
            "PostgreSQL server binaries (initdb, postgres) not found under \
             /usr/lib/postgresql/*/bin: run `scripts/setup.sh test` (installs the \
             Debian package `postgresql`)"
        ),
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn pg_command(bin: &Path, prog: &str, as_postgres: bool) -> Command {
    if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin.join(prog));
        c
    } else {
        Command::new(bin.join(prog))
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl PgServer {
    /// Start a server. `durable = false` turns fsync off (tests); the
    /// benchmark keeps it on to compare fairly with SQLite's synchronous=FULL.
    pub fn start(durable: bool) -> PgServer {
        PgServer::start_with(durable, None)
    }

    /// A server with `ssl=on` and `cert` as its certificate (it still takes
    /// plain connections too: `sslmode` decides).
    pub fn start_tls(cert: &till_test_ca::ServerCert) -> PgServer {
        PgServer::start_with(false, Some(cert))
    }

    fn start_with(durable: bool, tls: Option<&till_test_ca::ServerCert>) -> PgServer {
        let bin = find_bin_dir();
        let root = is_root();
        let dir = tempfile::Builder::new()
            .prefix("till-hub-pg-")
            .tempdir()
            .expect("temp dir");
        let tls_files = tls.map(|cert| {
            let files = cert.write(dir.path(), "server");
            // PostgreSQL refuses a key others can read.
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&files.key, std::fs::Permissions::from_mode(0o600))
                .expect("key permissions");
            files
        });
        if root {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(status.success(), "chown of the PostgreSQL temp dir failed");
        }
        let data = dir.path().join("data");
        let out = pg_command(&bin, "initdb", root)
            .arg("-D")
            .arg(&data)
            .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"])
            .output()
            .expect("run initdb");
        assert!(
            out.status.success(),
            "initdb failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("postgres.log")).expect("log file");
        let mut cmd = pg_command(&bin, "postgres", root);
        cmd.arg("-D")
            .arg(&data)
            .arg("-k")
            .arg(dir.path())
            .args(["-h", "127.0.0.1", "-p", &port.to_string()])
            .args(["-c", "max_connections=300", "-c", "shared_buffers=64MB"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log);
        if !durable {
            cmd.args(["-c", "fsync=off", "-c", "synchronous_commit=off"]);
        }
        if let Some(files) = &tls_files {
            cmd.args(["-c", "ssl=on"])
                .arg("-c")
                .arg(format!("ssl_cert_file={}", files.cert.display()))
                .arg("-c")
                .arg(format!("ssl_key_file={}", files.key.display()));
        }
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let child = cmd.spawn().expect("start postgres");
        // Watchdog: when this process ends (tests done, panic, ^C), kill the
        // server's process group.
        let _ = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "while kill -0 {me} 2>/dev/null; do sleep 0.5; done; \
                 /bin/kill -s INT -- -{pg} 2>/dev/null; sleep 3; \
                 /bin/kill -s KILL -- -{pg} 2>/dev/null; rm -rf '{dir}'",
                me = std::process::id(),
                pg = child.id(),
                dir = dir.path().display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let server = PgServer {
            port,
            child,
            _dir: dir,
            next_db: AtomicU32::new(0),
        };
        server.wait_ready();
        server
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                let ok = Command::new(find_bin_dir().join("pg_isready"))
                    .args([
                        "-h",
                        "127.0.0.1",
                        "-p",
                        &self.port.to_string(),
                        "-U",
                        "postgres",
                    ])
                    .stdout(Stdio::null())
                    .status()
                    .map(|s| s.success())
                    .unwrap_or(false);
                if ok {
                    return;
                }
            }
            if Instant::now() > deadline {
                let log = std::fs::read_to_string(self._dir.path().join("postgres.log"))
                    .unwrap_or_default();
                panic!("PostgreSQL did not start within 60 s; its log:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `postgres://postgres@127.0.0.1:PORT/DB`
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// Create a fresh, empty database and return its URL.
    pub async fn fresh_database(&self, prefix: &str) -> String {
        let n = self.next_db.fetch_add(1, Ordering::SeqCst);
        let name = format!("{prefix}_{}_{n}", std::process::id());
        let (client, conn) = tokio_postgres::connect(&self.url("postgres"), tokio_postgres::NoTls)
            .await
            .expect("connect to the test PostgreSQL");
        let task = tokio::spawn(conn);
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create database");
        drop(client);
        let _ = task.await;
        self.url(&name)
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let pgid = self.child.id() as i32;
        let _ = Command::new("/bin/kill")
            .args(["-s", "INT", "--", &format!("-{pgid}")])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("/bin/kill")
            .args(["-s", "KILL", "--", &format!("-{pgid}")])
            .status();
        let _ = self.child.wait();
    }
}
