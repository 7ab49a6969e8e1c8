//! Shared helpers for Till's end-to-end tests.
//!
//! - [`Xvfb`]: a private X server for tests that need a display (killed on drop);
//!   [`x_screenshot`] captures it as a person sees it, [`XKeyboard`] types on it (XTEST).
//! - [`TauriDriver`]: `tauri-driver` (which runs `WebKitWebDriver`) on a free loopback port.
//! - [`AppSession`]: the real Till binary started through WebDriver, with its own data and
//!   config directories, plus screenshot helpers. It starts only once no other Till holds the
//!   single-instance D-Bus name, and its teardown waits until its app is gone.
//! - [`AppLog`]: the app's own log, read for the moments it writes down (windows made,
//!   engine open) and waited on.
//! - [`ScenarioLogs`]: each scenario's driver log, app stderr, app exit status and harness
//!   notes under `target/e2e-logs/<scenario>/`, named in every failure to start.
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
        std::thread::sleep(Duration::from_millis(20));
    }
    bail!("{what} did not listen on 127.0.0.1:{port} within {deadline:?}")
}

/// Two different free loopback ports (asking twice may return the same one).
fn two_free_ports() -> (u16, u16) {
    let a = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    let b = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    let ports = (
        a.local_addr().expect("port").port(),
        b.local_addr().expect("port").port(),
    );
    drop((a, b));
    ports
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
            let lock = PathBuf::from(format!("/tmp/.X{n}-lock"));
            if lock.exists() || socket.exists() {
                // A lock naming a live server: the display is taken. A lock or socket left by
                // a server that was killed (-9 leaves both) is stale: without clearing them,
                // every run would use up display numbers until none is left.
                let owner = std::fs::read_to_string(&lock)
                    .ok()
                    .and_then(|t| t.trim().parse::<u32>().ok());
                if owner.is_some_and(pid_alive) || (owner.is_none() && lock.exists()) {
                    continue;
                }
                let _ = std::fs::remove_file(&lock);
                let _ = std::fs::remove_file(&socket);
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
    /// SIGTERM, so that Xvfb removes its lock and socket; SIGKILL only if it hangs.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(3) {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
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
    /// Starts `tauri-driver` (which starts `WebKitWebDriver`), its output and that of
    /// WebKitWebDriver going to `log`, and returns once **both** listen: tauri-driver binds
    /// its port right after spawning WebKitWebDriver, and a session request it forwards
    /// before WebKitWebDriver listens is answered by a dropped connection.
    pub fn start(display: &str, env: &[(&str, &Path)], log: &Path) -> Result<Self> {
        Self::start_with_native(display, env, log, None)
    }

    /// As [`TauriDriver::start`], with another native driver than `WebKitWebDriver` on PATH
    /// (the harness's own test uses a slow one).
    pub fn start_with_native(
        display: &str,
        env: &[(&str, &Path)],
        log: &Path,
        native_driver: Option<&Path>,
    ) -> Result<Self> {
        let driver = find_program("tauri-driver")
            .context("tauri-driver is not installed: `cargo install tauri-driver --locked`")?;
        if find_program("WebKitWebDriver").is_none() {
            bail!("WebKitWebDriver is not installed (Debian package webkit2gtk-driver)");
        }
        let (port, native_port) = two_free_ports();
        let log = std::fs::File::create(log)
            .with_context(|| format!("create the driver log {}", log.display()))?;
        let mut cmd = Command::new(driver);
        // Its own process group, so the WebKitWebDriver and app it starts die with it.
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        cmd.args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native_port.to_string(),
        ]);
        if let Some(native) = native_driver {
            cmd.arg("--native-driver").arg(native);
        }
        cmd.env("DISPLAY", display)
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
        let child = cmd.spawn().context("start tauri-driver")?;
        let mut driver = Self { child, port };
        let up = Duration::from_secs(20);
        wait_for_port(port, up, "tauri-driver", &mut driver.child)?;
        wait_for_port(native_port, up, "WebKitWebDriver", &mut driver.child)?;
        Ok(driver)
    }

    /// Whether tauri-driver is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for TauriDriver {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        std::thread::sleep(Duration::from_millis(200));
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The whole X screen of `display` as a person sees it, saved as
/// `target/e2e-screenshots/<name>-x.png`, with its number of distinct colours (1: blank).
pub fn x_screenshot(display: &str, name: &str) -> Result<(PathBuf, usize)> {
    let path = screenshot_dir().join(format!("{name}-x.png"));
    let out = x11(display, &["shot", &path.to_string_lossy()])?;
    let colours = out
        .trim()
        .rsplit("colours=")
        .next()
        .and_then(|n| n.parse().ok())
        .with_context(|| format!("x11.py shot said {out:?}"))?;
    Ok((path, colours))
}

/// The app's log (`<till home>/logs/till.log`, one JSON object a line), read for the
/// moments the app writes down: "app set up" (its windows made), "terminal open" (its
/// engine open).
pub struct AppLog {
    path: PathBuf,
}

impl AppLog {
    /// The engine (and, in demo mode, the sandbox and hub) is open.
    pub const ENGINE_OPEN: &'static str = "terminal open";

    pub fn of(till_home: &Path) -> Self {
        AppLog {
            path: till_home.join("logs/till.log"),
        }
    }

    /// When the first line with `message` was written, in ms since the Unix epoch.
    pub fn mark(&self, message: &str) -> Option<f64> {
        let text = std::fs::read_to_string(&self.path).ok()?;
        let needle = format!("\"message\":{}", serde_json::to_string(message).ok()?);
        let line = text.lines().find(|l| l.contains(&needle))?;
        let v: serde_json::Value = serde_json::from_str(line).ok()?;
        let at = chrono::DateTime::parse_from_rfc3339(v["timestamp"].as_str()?).ok()?;
        Some(at.timestamp_millis() as f64)
    }

    /// Waits until a line with `message` is in the log.
    pub async fn wait_for(&self, message: &str, within: Duration) -> Result<()> {
        let deadline = Instant::now() + within;
        while self.mark(message).is_none() {
            if Instant::now() > deadline {
                bail!(
                    "the app did not log {message:?} within {within:?} ({})",
                    self.path.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }
}

/// The X keyboard of a display, as a person at the counter uses it (XTEST through
/// `tests/x11/x11.py keys`): no WebDriver in the app, so nothing of automation's own is
/// measured with it.
pub struct XKeyboard {
    child: Child,
    input: std::process::ChildStdin,
    /// x11.py's answer lines, read on a thread of their own so that a script that never
    /// answers (an X server gone, a window that will not take focus) fails the run within
    /// [`XKeyboard::ANSWER_WITHIN`] instead of holding it until CI's limit.
    answers: std::sync::mpsc::Receiver<String>,
}

impl XKeyboard {
    pub fn open(display: &str) -> Result<Self> {
        let (python, script) = x11_script();
        let mut child = Command::new(&python)
            .arg(&script)
            .arg(display)
            .arg("keys")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("run {} {} keys", python.display(), script.display()))?;
        let input = child.stdin.take().context("x11.py's stdin")?;
        let stdout = child.stdout.take().context("x11.py's stdout")?;
        let (tx, answers) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(XKeyboard {
            child,
            input,
            answers,
        })
    }

    /// How long one line of keys may take to be typed and answered.
    pub const ANSWER_WITHIN: Duration = Duration::from_secs(10);

    /// Give the window whose title contains `title` the focus and press `keys` (X keysym
    /// names: `1`, `period`, `F3`, `Escape`) one after the other.
    pub fn press(&mut self, title: &str, keys: &[&str]) -> Result<()> {
        use std::io::Write;
        use std::sync::mpsc::RecvTimeoutError;
        writeln!(self.input, "{title}\t{}", keys.join(" ")).context("write to x11.py")?;
        self.input.flush().context("write to x11.py")?;
        match self.answers.recv_timeout(Self::ANSWER_WITHIN) {
            Ok(answer) if answer.trim() == "ok" => Ok(()),
            Ok(other) => bail!("x11.py keys: {}", other.trim()),
            Err(RecvTimeoutError::Disconnected) => bail!("x11.py keys ended"),
            Err(RecvTimeoutError::Timeout) => bail!(
                "x11.py keys did not answer within {:?} ({title:?}: {})",
                Self::ANSWER_WITHIN,
                keys.join(" ")
            ),
        }
    }
}

impl Drop for XKeyboard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Debian's Python (python3-xlib is a Debian package; another `python3` first on PATH would
/// not have it) and `tests/x11/x11.py`.
fn x11_script() -> (PathBuf, PathBuf) {
    let python = ["/usr/bin/python3"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("python3"));
    (python, workspace_root().join("tests/x11/x11.py"))
}

/// Run `tests/x11/x11.py` on `display`.
fn x11(display: &str, args: &[&str]) -> Result<String> {
    let (python, script) = x11_script();
    let out = Command::new(&python)
        .arg(&script)
        .arg(display)
        .args(args)
        .output()
        .with_context(|| format!("run {} {}", python.display(), script.display()))?;
    if !out.status.success() {
        bail!(
            "x11.py {args:?} on {display}: {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The environment of an app in its own fresh home: `HOME`, the XDG config and data
/// directories under it (no user configuration leaks in), and `TILL_HOME`.
pub fn home_env(home: &Path, till_home: &Path) -> Vec<(String, PathBuf)> {
    vec![
        ("HOME".into(), home.to_path_buf()),
        ("XDG_CONFIG_HOME".into(), home.join(".config")),
        ("XDG_DATA_HOME".into(), home.join(".local/share")),
        ("TILL_HOME".into(), till_home.to_path_buf()),
    ]
}

/// The D-Bus name `tauri-plugin-single-instance` holds for the app (its identifier +
/// `.SingleInstance`): while another process owns it, a new app hands its arguments to that
/// one and exits at once.
pub const SINGLE_INSTANCE_NAME: &str = "app.till.terminal.SingleInstance";

/// The process id owning `name` on the session bus, if any (`None` too without a bus).
pub fn dbus_name_owner_pid(name: &str) -> Option<u32> {
    let out = Command::new("dbus-send")
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.GetConnectionUnixProcessID",
            &format!("string:{name}"),
        ])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None; // NameHasNoOwner
    }
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .last()?
        .parse()
        .ok()
}

fn pid_alive(pid: u32) -> bool {
    // A zombie has exited: it holds no socket and no name.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z')),
        Err(_) => false,
    }
}

/// Per-scenario evidence, kept under `target/e2e-logs/<scenario>/`:
///
/// - `driver.log`: tauri-driver's and WebKitWebDriver's output;
/// - `app-stderr.log`: the app's own standard error; `till.log`: its log file, copied at the end;
/// - `app.pid` and `app-exit-status`: written by the wrapper the app is started through
///   (`run-app.sh`), the status only when the app ended by itself (not killed at teardown);
/// - `harness.log`: what the harness saw (ports, the single-instance name, timings).
pub struct ScenarioLogs {
    pub dir: PathBuf,
}

impl ScenarioLogs {
    fn create(scenario: &str) -> Result<Self> {
        let dir = target_dir().join("e2e-logs").join(scenario);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir })
    }

    pub fn note(&self, line: &str) {
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("harness.log"))
        {
            let _ = writeln!(f, "{} {line}", epoch_seconds_text());
        }
    }

    /// The app's pid as the wrapper wrote it.
    pub fn app_pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.dir.join("app.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// When the wrapper started the app (ms since the epoch).
    pub fn app_started_at_ms(&self) -> Option<u64> {
        std::fs::read_to_string(self.dir.join("app-started-at"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// The app's exit status, if it ended by itself.
    pub fn app_exit_status(&self) -> Option<String> {
        std::fs::read_to_string(self.dir.join("app-exit-status"))
            .ok()
            .map(|s| s.trim().to_owned())
    }

    /// The last lines of a log, for a failure message.
    fn tail(&self, file: &str, lines: usize) -> String {
        let text = std::fs::read_to_string(self.dir.join(file)).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// What a failure to start says: where the logs are, how the app ended, their tails.
    fn explain(&self) -> String {
        let exit = match (self.app_pid(), self.app_exit_status()) {
            (None, _) => "the app was never started (no app.pid)".to_owned(),
            (Some(pid), Some(status)) => format!("the app (pid {pid}) exited with status {status}"),
            (Some(pid), None) if pid_alive(pid) => format!("the app (pid {pid}) is running"),
            (Some(pid), None) => format!("the app (pid {pid}) is gone without a status"),
        };
        format!(
            "{exit}; logs in {dir}\n--- driver.log (end) ---\n{driver}\n--- app-stderr.log (end) ---\n{app}",
            dir = self.dir.display(),
            driver = self.tail("driver.log", 15),
            app = self.tail("app-stderr.log", 15),
        )
    }

    /// The script WebKitWebDriver starts instead of the app: it runs the app with its
    /// stderr in `app-stderr.log`, writes its pid, forwards the signals that end it, and
    /// records how it ended.
    fn write_wrapper(&self, app: &Path) -> Result<PathBuf> {
        let path = self.dir.join("run-app.sh");
        let script = format!(
            r#"#!/usr/bin/env bash
# Written by till_tests::ScenarioLogs: runs the app under test, keeping its evidence.
logs={logs:?}
# When the app was started (ms since the epoch), for the benchmark's cold start.
date +%s%3N > "$logs/app-started-at"
{app:?} "$@" 2>>"$logs/app-stderr.log" &
pid=$!
echo "$pid" > "$logs/app.pid"
trap 'kill -TERM "$pid" 2>/dev/null' TERM INT HUP
# `wait` also returns when a trapped signal arrives: wait until the app is really gone.
while :; do
  wait "$pid"; status=$?
  kill -0 "$pid" 2>/dev/null || break
done
wait "$pid" 2>/dev/null; again=$?
[ "$again" -ne 127 ] && status=$again
echo "$status" > "$logs/app-exit-status"
exit "$status"
"#,
            logs = self.dir,
            app = app,
        );
        std::fs::write(&path, script)?;
        let mut perms = std::fs::metadata(&path)?.permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        std::fs::set_permissions(&path, perms)?;
        Ok(path)
    }
}

/// Seconds since the epoch with milliseconds, for the harness log.
fn epoch_seconds_text() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!("{}.{:03}", d.as_secs(), d.subsec_millis())
}

/// Waits until no process owns the single-instance name; fails naming the owner.
fn wait_single_instance_free(logs: &ScenarioLogs, within: Duration) -> Result<()> {
    let start = Instant::now();
    loop {
        match dbus_name_owner_pid(SINGLE_INSTANCE_NAME) {
            None => {
                logs.note(&format!(
                    "{SINGLE_INSTANCE_NAME} free after {} ms",
                    start.elapsed().as_millis()
                ));
                return Ok(());
            }
            Some(pid) if start.elapsed() > within => bail!(
                "another Till (pid {pid}) still holds {SINGLE_INSTANCE_NAME} after {within:?}: \
                 a new app would hand over to it and exit"
            ),
            Some(pid) => {
                logs.note(&format!(
                    "{SINGLE_INSTANCE_NAME} held by pid {pid}; waiting"
                ));
                std::thread::sleep(Duration::from_millis(50));
            }
        }
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
    /// This scenario's evidence (`target/e2e-logs/<scenario>/`).
    pub logs: ScenarioLogs,
    // Dropped in this order: the driver (and the app it started; `Drop` then waits until the
    // app is gone), the X server, then the turn.
    driver: Option<TauriDriver>,
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
        let logs = ScenarioLogs::create(test_name)?;
        let home = target_dir().join("e2e-home").join(test_name);
        let _ = std::fs::remove_dir_all(&home);
        std::fs::create_dir_all(&home)?;
        let till_home = home.join("till");
        std::fs::create_dir_all(&till_home)?;
        if let Some(toml) = &options.till_toml {
            std::fs::write(till_home.join("till.toml"), toml)?;
        }
        // An app of an earlier scenario (or of another test binary) still owning the
        // single-instance name would make this one hand over and exit.
        wait_single_instance_free(&logs, Duration::from_secs(20))?;
        let wrapper = logs.write_wrapper(&app)?;
        let xvfb = Xvfb::start(1920, 1080)?;
        let mut env = home_env(&home, &till_home);
        env.extend(
            options
                .env
                .iter()
                .map(|(k, v)| (k.clone(), PathBuf::from(v))),
        );
        let env_refs: Vec<(&str, &Path)> =
            env.iter().map(|(k, v)| (k.as_str(), v.as_path())).collect();
        let t0 = Instant::now();
        let mut driver = TauriDriver::start(&xvfb.display, &env_refs, &logs.dir.join("driver.log"))
            .with_context(|| format!("start tauri-driver ({})", logs.explain()))?;
        logs.note(&format!(
            "tauri-driver and WebKitWebDriver listening after {} ms on {}",
            t0.elapsed().as_millis(),
            xvfb.display
        ));
        let caps = serde_json::json!({
            "browserName": "wry",
            "tauri:options": { "application": wrapper },
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
        let client = match tokio::time::timeout(Duration::from_secs(90), connect).await {
            Ok(Ok(client)) => client,
            Ok(Err(e)) => {
                // Give a dying app a moment to write its status before explaining.
                tokio::time::sleep(Duration::from_millis(500)).await;
                let driver_running = driver.running();
                logs.note(&format!(
                    "session refused: {e}; driver running: {driver_running}"
                ));
                bail!(
                    "open a WebDriver session on the app: {e} (tauri-driver {}): {}",
                    if driver_running { "running" } else { "gone" },
                    logs.explain()
                );
            }
            Err(_) => bail!("the app did not start within 90 s: {}", logs.explain()),
        };
        logs.note(&format!(
            "session open after {} ms; app pid {:?}",
            t0.elapsed().as_millis(),
            logs.app_pid()
        ));
        Ok(Self {
            client,
            display: xvfb.display.clone(),
            home,
            till_home,
            logs,
            driver: Some(driver),
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
            // A window closing meanwhile (a wallet's page) is skipped, not an error;
            // nor may a question to it hang the scenario (bounded, then skipped).
            let ask = Duration::from_secs(5);
            let handles = tokio::time::timeout(ask, self.client.windows()).await;
            for handle in handles.ok().and_then(|h| h.ok()).unwrap_or_default() {
                match tokio::time::timeout(ask, self.client.switch_to_window(handle)).await {
                    Ok(Ok(())) => {}
                    _ => continue,
                }
                if let Ok(Ok(t)) = tokio::time::timeout(ask, self.client.title()).await {
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

    /// Ask the window titled `title` to close as a window manager's close button does
    /// (`WM_DELETE_WINDOW` from the X server; WebDriver cannot do that).
    pub fn x_close(&self, title: &str) -> Result<()> {
        x11(&self.display, &["close", title]).map(|_| ())
    }

    /// Waits until the app has opened its engine (and, in demo mode, started the sandbox and
    /// hub), which it does while its windows load: its log's "terminal open".
    pub async fn engine_opened(&self, within: Duration) -> Result<()> {
        AppLog::of(&self.till_home)
            .wait_for(AppLog::ENGINE_OPEN, within)
            .await
    }

    /// The whole X screen as a person sees it (from the X server, not WebKit: WebDriver's
    /// screenshots looked fine where X showed blank windows), saved as
    /// `target/e2e-screenshots/<name>-x.png`; with the number of distinct colours in it
    /// (1: the screen is blank).
    pub fn x_screenshot(&self, name: &str) -> Result<(PathBuf, usize)> {
        x_screenshot(&self.display, name)
    }

    /// Ends the WebDriver session (the app closes); `Drop` then makes sure it is gone.
    pub async fn close(self) -> Result<()> {
        tokio::time::timeout(Duration::from_secs(20), self.client.clone().close())
            .await
            .map_err(|_| anyhow::anyhow!("the WebDriver session did not close within 20 s"))?
            .context("end the WebDriver session")?;
        Ok(())
    }
}

impl Drop for AppSession {
    /// Stops the driver and its process group, then waits (bounded) until the app has exited
    /// and released the single-instance name, so the next scenario's app starts clean.
    fn drop(&mut self) {
        let pid = self.logs.app_pid();
        drop(self.driver.take());
        let start = Instant::now();
        let limit = Duration::from_secs(15);
        while start.elapsed() < limit
            && (pid.is_some_and(pid_alive) || dbus_name_owner_pid(SINGLE_INSTANCE_NAME).is_some())
        {
            std::thread::sleep(Duration::from_millis(25));
        }
        let gone = !pid.is_some_and(pid_alive);
        self.logs.note(&format!(
            "teardown: app pid {pid:?} {} after {} ms; exit status {:?}",
            if gone { "gone" } else { "STILL RUNNING" },
            start.elapsed().as_millis(),
            self.logs.app_exit_status()
        ));
        let _ = std::fs::copy(
            self.till_home.join("logs/till.log"),
            self.logs.dir.join("till.log"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cause of the e2e suite's "webdriver server did not respond … (SendRequest)":
    /// tauri-driver listens right after spawning WebKitWebDriver, and a request it forwards
    /// before WebKitWebDriver listens gets a dropped connection. Here WebKitWebDriver is made
    /// to start 1.5 s late; once `TauriDriver::start` returns, the first request through
    /// tauri-driver must be answered. (Waiting only for tauri-driver's port, as the harness
    /// did, this request got an empty reply.)
    #[test]
    fn driver_start_waits_for_a_slow_native_driver() {
        let Some(webkit) = find_program("WebKitWebDriver") else {
            assert!(
                std::env::var_os("CI").is_none(),
                "WebKitWebDriver is required in CI (webkit2gtk-driver)"
            );
            return;
        };
        if find_program("tauri-driver").is_none() {
            assert!(
                std::env::var_os("CI").is_none(),
                "tauri-driver is required in CI"
            );
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let slow = dir.path().join("slow-webkitwebdriver.sh");
        std::fs::write(
            &slow,
            format!("#!/bin/sh\nsleep 1.5\nexec {webkit:?} \"$@\"\n"),
        )
        .unwrap();
        let mut perms = std::fs::metadata(&slow).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        std::fs::set_permissions(&slow, perms).unwrap();
        let log = dir.path().join("driver.log");
        let driver = TauriDriver::start_with_native(":0", &[], &log, Some(&slow)).unwrap();
        let status = reqwest::blocking::get(format!("http://127.0.0.1:{}/status", driver.port))
            .expect("the first request through tauri-driver is answered");
        assert!(status.status().is_success(), "{status:?}");
    }
}
