//! Shared helpers for Till's end-to-end tests.
//!
//! - [`Xvfb`]: a private X server for tests that need a display (killed on drop).
//! - [`TauriDriver`]: `tauri-driver` (which runs `WebKitWebDriver`) on a free loopback port.
//! - [`AppSession`]: the real Till binary started through WebDriver, with its own data and
//!   config directories, plus screenshot helpers.
//!
//! Nothing here mocks the app: the binary under test is the one `cargo build -p till-app` made.

use anyhow::{bail, Context, Result};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The workspace root (this crate lives in `tests/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the workspace")
        .to_path_buf()
}

/// Cargo's target directory for this workspace.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| {
            if p.is_absolute() {
                p
            } else {
                workspace_root().join(p)
            }
        })
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// The app binary under test: `TILL_APP_BIN`, else the debug build in the target directory.
pub fn app_binary() -> Result<PathBuf> {
    let path = match std::env::var_os("TILL_APP_BIN") {
        Some(p) => PathBuf::from(p),
        None => target_dir().join("debug").join("till"),
    };
    if !path.exists() {
        bail!(
            "the app binary {} does not exist: build it first with `cargo build -p till-app` \
             (the README's test command does this)",
            path.display()
        );
    }
    Ok(path)
}

/// Where screenshots go: `target/e2e-screenshots/`.
pub fn screenshot_dir() -> PathBuf {
    let dir = target_dir().join("e2e-screenshots");
    std::fs::create_dir_all(&dir).expect("create the screenshot directory");
    dir
}

/// A free TCP port on loopback (the OS picks it).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind an ephemeral port")
}

/// Every file under `dir` (recursively), as (file name, size), after
/// asserting that none of them contains any of `secrets` byte for byte.
pub fn assert_no_secret_under(dir: &Path, secrets: &[&str]) -> Vec<(String, usize)> {
    let mut scanned = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(dir).expect("read a data directory") {
            let p = e.expect("a directory entry").path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let bytes = std::fs::read(&p).expect("read a data file");
            for s in secrets {
                assert!(
                    !bytes.windows(s.len()).any(|w| w == s.as_bytes()),
                    "a secret is in {}",
                    p.display()
                );
            }
            let name = p
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            scanned.push((name, bytes.len()));
        }
    }
    scanned
}

fn wait_for_port(port: u16, deadline: Duration, what: &str, child: &mut Child) -> Result<()> {
    let start = Instant::now();
    while start.elapsed() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        if let Some(status) = child.try_wait()? {
            bail!("{what} exited early with {status}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("{what} did not listen on 127.0.0.1:{port} within {deadline:?}")
}

/// Find a program on PATH or in cargo's bin directory.
pub fn find_program(name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        dirs.push(PathBuf::from(home).join("bin"));
    }
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo/bin"));
    }
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

/// A private Xvfb server on the first free display number from :90 on.
pub struct Xvfb {
    child: Child,
    pub display: String,
}

impl Xvfb {
    /// Start Xvfb with one screen of the given size.
    pub fn start(width: u32, height: u32) -> Result<Self> {
        let xvfb = find_program("Xvfb").context("Xvfb is not installed (Debian package xvfb)")?;
        for n in 90..400u32 {
            let socket = PathBuf::from(format!("/tmp/.X11-unix/X{n}"));
            if socket.exists() || Path::new(&format!("/tmp/.X{n}-lock")).exists() {
                continue;
            }
            let mut child = Command::new(&xvfb)
                .args([
                    &format!(":{n}"),
                    "-screen",
                    "0",
                    &format!("{width}x{height}x24"),
                    "-nolisten",
                    "tcp",
                ])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .context("start Xvfb")?;
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(20) {
                if socket.exists() {
                    return Ok(Self {
                        child,
                        display: format!(":{n}"),
                    });
                }
                if child.try_wait()?.is_some() {
                    break; // lost a race for this display number; try the next
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        bail!("could not start Xvfb on any display from :90 to :399")
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `tauri-driver` listening on a free loopback port, with the app's environment.
pub struct TauriDriver {
    child: Child,
    pub port: u16,
}

impl TauriDriver {
    pub fn start(display: &str, env: &[(&str, &Path)]) -> Result<Self> {
        let driver = find_program("tauri-driver")
            .context("tauri-driver is not installed: `cargo install tauri-driver --locked`")?;
        if find_program("WebKitWebDriver").is_none() {
            bail!("WebKitWebDriver is not installed (Debian package webkit2gtk-driver)");
        }
        let port = free_port();
        let native_port = free_port();
        let log = std::fs::File::create(target_dir().join("e2e-tauri-driver.log"))?;
        let mut cmd = Command::new(driver);
        // Its own process group, so the WebKitWebDriver and app it starts die with it.
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        cmd.args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native_port.to_string(),
        ])
        .env("DISPLAY", display)
        .env_remove("WAYLAND_DISPLAY")
        // No accessibility bus on a bare CI machine; keep WebKit quiet about it.
        .env("NO_AT_BRIDGE", "1")
        .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
        .env("LIBGL_ALWAYS_SOFTWARE", "1")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().context("start tauri-driver")?;
        wait_for_port(port, Duration::from_secs(20), "tauri-driver", &mut child)?;
        Ok(Self { child, port })
    }
}

impl Drop for TauriDriver {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.child.id())])
            .status();
        std::thread::sleep(Duration::from_millis(200));
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The app is a single instance per desktop session: sessions take turns.
static ONE_APP_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// How to start the app.
#[derive(Default)]
pub struct AppOptions {
    /// Extra environment (`TILL__…` settings, `TILL_SECRET_…` credentials).
    pub env: Vec<(String, String)>,
    /// Written to `<till home>/till.toml` before the app starts.
    pub till_toml: Option<String>,
}

/// The real app, started through WebDriver in its own display, config and data directories.
pub struct AppSession {
    pub client: fantoccini::Client,
    /// The test's HOME.
    pub home: PathBuf,
    /// The app's data directory (`TILL_HOME`): journal, till.toml, logs, demo/.
    pub till_home: PathBuf,
    /// The X display the app runs on.
    pub display: String,
    // Dropped in this order: the driver (and the app it started), the X server, then the turn.
    _driver: TauriDriver,
    _xvfb: Xvfb,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

impl AppSession {
    /// Start the app with a fresh HOME (so no user configuration leaks in): demo mode.
    pub async fn start(test_name: &str) -> Result<Self> {
        Self::start_with(test_name, AppOptions::default()).await
    }

    /// Start the app with a fresh HOME, the given settings and environment.
    pub async fn start_with(test_name: &str, options: AppOptions) -> Result<Self> {
        let turn = ONE_APP_AT_A_TIME.lock().await;
        let app = app_binary()?;
        let home = target_dir().join("e2e-home").join(test_name);
        let _ = std::fs::remove_dir_all(&home);
        std::fs::create_dir_all(&home)?;
        let till_home = home.join("till");
        std::fs::create_dir_all(&till_home)?;
        if let Some(toml) = &options.till_toml {
            std::fs::write(till_home.join("till.toml"), toml)?;
        }
        let xvfb = Xvfb::start(1920, 1080)?;
        let xdg_config = home.join(".config");
        let xdg_data = home.join(".local/share");
        let mut env: Vec<(String, PathBuf)> = vec![
            ("HOME".into(), home.clone()),
            ("XDG_CONFIG_HOME".into(), xdg_config),
            ("XDG_DATA_HOME".into(), xdg_data),
            ("TILL_HOME".into(), till_home.clone()),
        ];
        env.extend(
            options
                .env
                .iter()
                .map(|(k, v)| (k.clone(), PathBuf::from(v))),
        );
        let env_refs: Vec<(&str, &Path)> =
            env.iter().map(|(k, v)| (k.as_str(), v.as_path())).collect();
        let driver = TauriDriver::start(&xvfb.display, &env_refs)?;
        let caps = serde_json::json!({
            "browserName": "wry",
            "tauri:options": { "application": app },
        });
        let caps = match caps {
            serde_json::Value::Object(map) => map,
            _ => unreachable!(),
        };
        let url = format!("http://127.0.0.1:{}", driver.port);
        let mut builder = fantoccini::ClientBuilder::native();
        builder.capabilities(caps);
        let connect = builder.connect(&url);
        // If the app dies at start the driver never answers: bound the wait.
        let client = tokio::time::timeout(Duration::from_secs(90), connect)
            .await
            .map_err(|_| {
                anyhow::anyhow!(
                    "the app did not start within 90 s (see target/e2e-tauri-driver.log)"
                )
            })?
            .context("open a WebDriver session on the app (see target/e2e-tauri-driver.log)")?;
        Ok(Self {
            client,
            display: xvfb.display.clone(),
            home,
            till_home,
            _driver: driver,
            _xvfb: xvfb,
            _turn: turn,
        })
    }

    /// Save a screenshot of the current window and return its path.
    ///
    /// WebKit answers a screenshot only after the page's next paint, and a page where nothing
    /// changes never paints again; so while the screenshot is taken, the body
    /// background flickers between two whites no eye can tell apart.
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf> {
        let start = "const s = document.body.style; clearInterval(window.__tillShot); \
                     window.__tillShot = setInterval(() => { s.backgroundColor = \
                     s.backgroundColor === 'rgb(255, 255, 254)' ? '#ffffff' : '#fffffe'; }, 50);";
        let stop = "clearInterval(window.__tillShot); document.body.style.backgroundColor = '';";
        tokio::time::timeout(Duration::from_secs(10), self.client.execute(start, vec![]))
            .await
            .map_err(|_| anyhow::anyhow!("the page did not answer before screenshot {name}"))??;
        let png = tokio::time::timeout(Duration::from_secs(30), self.client.screenshot())
            .await
            .map_err(|_| anyhow::anyhow!("screenshot {name} did not come back within 30 s"))?
            .context("take a screenshot");
        let _ =
            tokio::time::timeout(Duration::from_secs(10), self.client.execute(stop, vec![])).await;
        let png = png?;
        let path = screenshot_dir().join(format!("{name}.png"));
        std::fs::write(&path, png)?;
        println!("screenshot: {}", path.display());
        Ok(path)
    }

    /// Switch to the window whose document title contains `title`.
    pub async fn switch_to_window_titled(&self, title: &str) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            // A window closing meanwhile (the bKash page) is skipped, not an error.
            for handle in self.client.windows().await.unwrap_or_default() {
                if self.client.switch_to_window(handle).await.is_err() {
                    continue;
                }
                if let Ok(t) = self.client.title().await {
                    if t.contains(title) {
                        return Ok(());
                    }
                }
            }
            if Instant::now() > deadline {
                bail!("no window titled {title:?}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn close(self) -> Result<()> {
        tokio::time::timeout(Duration::from_secs(20), self.client.close())
            .await
            .map_err(|_| anyhow::anyhow!("the WebDriver session did not close within 20 s"))?
            .context("end the WebDriver session")?;
        Ok(())
    }
}
