//! The running terminal behind the windows: the core engine (plus, in demo
//! mode, the in-process sandbox and hub), the customer display's state and
//! the manager PIN. Settings changes re-open it in place.

use crate::demo::Demo;
use crate::display::{self, DisplayState};
use crate::pin::ManagerPin;
use crate::views::TerminalStatus;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tauri::{AppHandle, Emitter};
use till_core::secrets::{SessionOverlay, SharedSecrets};
use till_core::{Config, Engine, EngineError, EngineOptions};
use tokio::sync::{watch, RwLock};

struct Running {
    engine: Result<Engine, String>,
    demo: Option<Demo>,
    /// The local terminal API, while `[api] enabled` (its error is logged and shown in status).
    api: Option<till_terminal_api::ApiHandle>,
    /// Stops this engine's event forwarder.
    forwarder: Option<watch::Sender<bool>>,
}

impl Running {
    /// Before the engine is open (nobody reads it then: the opener holds the lock).
    fn opening() -> Running {
        Running {
            engine: Err("Till is still starting.".into()),
            demo: None,
            api: None,
            forwarder: None,
        }
    }

    fn stop_forwarding(&mut self) {
        if let Some(stop) = self.forwarder.take() {
            let _ = stop.send(true);
        }
    }

    /// Stops the event forwarder, the engine and the demo servers.
    async fn stop(&mut self) {
        self.stop_forwarding();
        // The POS stops being served before the engine it asks goes away.
        if let Some(api) = self.api.take() {
            api.shutdown().await;
        }
        if let Ok(e) = &self.engine {
            e.shutdown().await;
        }
        if let Some(d) = self.demo.take() {
            d.shutdown().await;
        }
    }
}

pub struct Terminal {
    pub home: PathBuf,
    pub pin: ManagerPin,
    /// Shared with its opener, which holds it while the engine opens.
    running: Arc<RwLock<Running>>,
    /// Shared with the API's busy check (a POS's charge waits for a free display).
    display: Arc<Mutex<DisplayState>>,
    /// `display.kiosk` of the engine last opened, read where no await is possible (a
    /// window's close request).
    kiosk: AtomicBool,
}

pub type Shared = Arc<Terminal>;

/// An error as a person reads it: one sentence, what happened and what to do.
#[derive(Debug, serde::Serialize)]
pub struct UiError {
    pub message: String,
}

impl<E: std::fmt::Display> From<E> for UiError {
    fn from(e: E) -> Self {
        UiError {
            message: e.to_string(),
        }
    }
}

/// A [`UiError`] with the reason the window says in its own language (`code` and
/// `params`, `r_<code>` in `ui/js/i18n.js`), for the engine's refusals that have
/// one ([`EngineError::reason`]); `message` is the English for the log.
#[derive(Debug, serde::Serialize)]
pub struct CodedError {
    pub message: String,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub reason: Option<till_core::reason::Reason>,
}

impl<E: std::fmt::Display + 'static> From<E> for CodedError {
    fn from(e: E) -> Self {
        let reason = (&e as &dyn std::any::Any)
            .downcast_ref::<EngineError>()
            .and_then(EngineError::reason);
        CodedError {
            message: e.to_string(),
            reason,
        }
    }
}

impl From<UiError> for CodedError {
    fn from(e: UiError) -> Self {
        CodedError {
            message: e.message,
            reason: None,
        }
    }
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Terminal {
    /// The terminal at once, its engine on `home` (and the demo servers, when configured)
    /// opened in the background, its events then forwarded to `app`'s windows. The opener
    /// holds the engine's write lock from the first moment, so whatever asks for the engine
    /// meanwhile waits until it is open; the windows load in parallel (opening it on the
    /// main thread held their pages back: issue 17's cold start).
    pub fn open_in_background(home: PathBuf, app: &AppHandle) -> Shared {
        let display = Arc::new(Mutex::new(DisplayState::Idle));
        let running = Arc::new(RwLock::new(Running::opening()));
        // The windows are placed before the engine is open: `display.kiosk` from the file
        // (demo mode does not change it); the engine's own config sets it again.
        let kiosk = Config::load(&home).is_ok_and(|c| c.display.kiosk);
        let terminal = Arc::new(Terminal {
            pin: ManagerPin::new(&home),
            home,
            running: running.clone(),
            display,
            kiosk: AtomicBool::new(kiosk),
        });
        let (t, app) = (terminal.clone(), app.clone());
        let started = std::time::Instant::now();
        let (home, shown) = (t.home.clone(), t.display.clone());
        let (t_attach, app_attach) = (t.clone(), app.clone());
        fill_in_background(
            running,
            async move { start(&home, &shown).await },
            // Attached before the lock is let go: no charge can start unforwarded.
            move |opened| t_attach.attach_to(opened, &app_attach),
            async move {
                tracing::info!(ms = started.elapsed().as_millis() as u64, "terminal open");
                let status = t.status().await;
                let _ = app.emit(crate::events::STATUS, status);
            },
        );
        terminal
    }

    /// The engine, or why there is none.
    pub async fn engine(&self) -> Result<Engine, UiError> {
        self.running
            .read()
            .await
            .engine
            .clone()
            .map_err(|message| UiError { message })
    }

    pub async fn demo_info(&self) -> Option<crate::demo::DemoInfo> {
        self.running
            .read()
            .await
            .demo
            .as_ref()
            .map(|d| d.info.clone())
    }

    /// Demo only: pay this KHQR from the sandbox's bank app.
    pub async fn demo_pay_khqr(&self, qr: &str) -> Result<(), UiError> {
        let running = self.running.read().await;
        let demo = running.demo.as_ref().ok_or_else(|| UiError {
            message: "Only in demo mode: here the customer pays from their own banking app.".into(),
        })?;
        demo.pay_khqr(qr).await.map_err(|e| UiError {
            message: format!("{e:#}"),
        })
    }

    pub async fn status(&self) -> TerminalStatus {
        let running = self.running.read().await;
        let demo = running.demo.as_ref().map(|d| d.info.clone());
        match &running.engine {
            Ok(e) => TerminalStatus::build(
                &e.providers(),
                &e.disabled_providers(),
                &e.health(),
                e.sync_state().ok(),
                demo,
            ),
            Err(msg) => {
                let mut s = TerminalStatus::build(
                    &[],
                    &Default::default(),
                    &Default::default(),
                    None,
                    demo,
                );
                s.error = Some(msg.clone());
                s
            }
        }
    }

    /// Starts forwarding the current engine's events to the windows.
    pub async fn attach(self: &Arc<Self>, app: &AppHandle) {
        let mut running = self.running.write().await;
        self.attach_to(&mut running, app);
    }

    fn attach_to(self: &Arc<Self>, running: &mut Running, app: &AppHandle) {
        running.stop_forwarding();
        let kiosk = running
            .engine
            .as_ref()
            .is_ok_and(|e| e.config().display.kiosk);
        self.kiosk.store(kiosk, Ordering::Relaxed);
        if let Ok(engine) = &running.engine {
            let (tx, rx) = watch::channel(false);
            crate::events::forward(app.clone(), self.clone(), engine.clone(), rx);
            running.forwarder = Some(tx);
        }
    }

    /// Shuts everything down and opens it again (after a settings change).
    pub async fn reload(self: &Arc<Self>, app: &AppHandle) {
        {
            let mut running = self.running.write().await;
            running.stop().await;
            *running = start(&self.home, &self.display).await;
        }
        self.attach(app).await;
        let status = self.status().await;
        let _ = app.emit(crate::events::STATUS, status);
    }

    /// Whether this till runs as a kiosk (`display.kiosk`).
    pub fn kiosk(&self) -> bool {
        self.kiosk.load(Ordering::Relaxed)
    }

    pub async fn shutdown(&self) {
        self.running.write().await.stop().await;
    }

    // ------------------------------------------------------------ display

    pub fn display(&self) -> DisplayState {
        self.display
            .lock()
            .map(|d| d.at(now_ms()))
            .unwrap_or_default()
    }

    pub fn set_display(&self, app: &AppHandle, next: DisplayState) {
        if let Ok(mut d) = self.display.lock() {
            *d = next.clone();
        }
        if let Err(e) = app.emit_to(crate::windows::CUSTOMER, display::EVENT, next) {
            tracing::warn!(error = %e, "customer display did not get the update");
        }
    }

    /// Back to idle, but only if the display still shows `payment_id`.
    pub fn clear_display_of(&self, app: &AppHandle, payment_id: &str) {
        let showing = self
            .display
            .lock()
            .map(|d| d.payment_id() == Some(payment_id))
            .unwrap_or(false);
        if showing {
            self.set_display(app, DisplayState::Idle);
        }
    }

    pub fn displayed_payment(&self) -> Option<String> {
        self.display
            .lock()
            .ok()
            .and_then(|d| d.payment_id().map(str::to_owned))
    }
}

/// Takes `slot`'s write lock now, before returning, then in the background puts what `open`
/// makes in it, runs `attach` on it with the lock still held, lets the lock go and runs
/// `after`. Whoever reads `slot` once this returns waits for the opened value: never the
/// placeholder it held before.
fn fill_in_background<T, O, A, F>(slot: Arc<RwLock<T>>, open: O, attach: A, after: F)
where
    T: Send + Sync + 'static,
    O: std::future::Future<Output = T> + Send + 'static,
    A: FnOnce(&mut T) + Send + 'static,
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let mut held = slot
        .try_write_owned()
        .expect("nobody else holds a lock made a moment ago");
    tauri::async_runtime::spawn(async move {
        *held = open.await;
        attach(&mut held);
        drop(held);
        after.await;
    });
}

/// The keyring (with the `TILL_SECRET_*` overlay) the app writes to.
pub fn keyring() -> SharedSecrets {
    crate::cli::secrets()
}

async fn start(home: &std::path::Path, display: &Arc<Mutex<DisplayState>>) -> Running {
    match try_start(home).await {
        Ok((engine, demo)) => Running {
            api: serve_api(&engine, display).await,
            engine: Ok(engine),
            demo,
            forwarder: None,
        },
        Err(e) => {
            let message = format!("Till cannot start: {e:#}");
            tracing::error!(error = %message, "engine did not open");
            Running {
                engine: Err(message),
                demo: None,
                api: None,
                forwarder: None,
            }
        }
    }
}

/// Serves the local terminal API when `[api] enabled`. A new POS charge waits
/// while the customer display shows an open payment (the till has one
/// display); a failure to listen leaves the till working without it.
async fn serve_api(
    engine: &Engine,
    display: &Arc<Mutex<DisplayState>>,
) -> Option<till_terminal_api::ApiHandle> {
    let api = &engine.config().api;
    if !api.enabled {
        return None;
    }
    let mut opts = match till_terminal_api::ApiOptions::from_config(api) {
        Ok(o) => o,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "the terminal API is not served");
            return None;
        }
    };
    let (shown, looked_up) = (display.clone(), engine.clone());
    opts.busy = Some(Arc::new(move || {
        let id = shown.lock().ok()?.at(now_ms()).payment_id()?.to_owned();
        looked_up
            .payment(&id)
            .ok()
            .filter(|p| p.state.is_open())
            .map(|p| p.id)
    }));
    match till_terminal_api::start(engine.clone(), opts).await {
        Ok(h) => Some(h),
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "the terminal API is not served");
            None
        }
    }
}

async fn try_start(home: &std::path::Path) -> anyhow::Result<(Engine, Option<Demo>)> {
    std::fs::create_dir_all(home)?;
    let base = Config::load(home)?;
    let (config, secrets, demo) = if base.demo.in_process {
        let demo = Demo::start(home, &base.terminal.id).await?;
        let config = Config::load_with(home, demo.overrides.clone().into_iter())?;
        let secrets: SharedSecrets = Arc::new(SessionOverlay::new(keyring(), demo.secrets.clone()));
        (config, secrets, Some(demo))
    } else {
        (base, keyring(), None)
    };
    // Demo payments stay in the demo's own journal (`<home>/demo/`).
    let data = config.data_dir(home);
    std::fs::create_dir_all(&data)?;
    let engine = Engine::open(EngineOptions {
        home: data,
        config,
        secrets,
        clock: till_core::Clock::system(),
        background: true,
    })
    .await;
    match engine {
        Ok(e) => Ok((e, demo)),
        Err(err) => {
            if let Some(d) = demo {
                d.shutdown().await;
            }
            Err(err.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 17: the engine opens while the windows load. A window's first question comes
    /// at once; it must wait for the engine (and its event forwarder), not find the
    /// placeholder "still starting".
    #[tokio::test]
    async fn a_reader_waits_for_what_opens_in_the_background() {
        let slot = Arc::new(RwLock::new("placeholder".to_string()));
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        fill_in_background(
            slot.clone(),
            async {
                tokio::time::sleep(std::time::Duration::from_millis(150)).await;
                "opened".to_string()
            },
            |v: &mut String| v.push_str(", attached"),
            async move {
                let _ = done_tx.send(());
            },
        );
        // Held from the moment the call returns (a lock taken inside the task would be free
        // here until the task first ran).
        assert!(slot.try_read().is_err(), "the lock is not held yet");
        assert_eq!(*slot.read().await, "opened, attached");
        done_rx.await.expect("`after` ran");
    }

    /// L2: a full disk reaches the window with its code (shown as `e_disk_full` in the
    /// cashier's language), whether the check before the payment refused it or SQLite did;
    /// other errors carry their sentence only.
    #[test]
    fn a_full_disk_reaches_the_window_with_its_code() {
        let refused: CodedError = EngineError::DiskFull {
            free_bytes: 1 << 20,
            min_free_bytes: 64 << 20,
        }
        .into();
        let rolled_back: CodedError =
            EngineError::Journal(till_core::journal::JournalError::DiskFull {
                context: "committing a new payment".into(),
            })
            .into();
        for e in [&refused, &rolled_back] {
            let json = serde_json::to_value(e).unwrap();
            assert_eq!(json["code"], "disk_full", "{json}");
            assert!(json["message"].as_str().unwrap().contains("disk"), "{json}");
        }
        let other: CodedError = EngineError::NotFound("x".into()).into();
        assert!(serde_json::to_value(&other).unwrap().get("code").is_none());
        let plain: CodedError = UiError::from("Enter an amount first.").into();
        assert_eq!(plain.message, "Enter an amount first.");
        assert!(plain.reason.is_none());
        // A refusal's parameters travel beside its code, for the window to fill in.
        let cancel: CodedError = EngineError::Refusal(
            till_core::reason::Reason::new(till_core::reason::ReasonCode::NotCancellable)
                .with("state", "settled"),
        )
        .into();
        let json = serde_json::to_value(&cancel).unwrap();
        assert_eq!(json["code"], "not_cancellable", "{json}");
        assert_eq!(json["params"]["state"], "settled", "{json}");
    }
}
