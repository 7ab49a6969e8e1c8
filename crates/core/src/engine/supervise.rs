//! Supervision of the background tasks (poller, sweeper, deferred worker, sync,
//! call-log retention).
//!
//! A panic in one of them must not silently stop it for the rest of the day: a KHQR nobody
//! polls any more never settles, a sync that died never sends. So each task runs under a
//! supervisor that logs the panic, records it where the screens read it
//! ([`Engine::task_restarts`]), announces it ([`EngineEvent::TaskRestarted`]) and starts the
//! task again after a short, growing pause (so a task that panics at once does not spin).
//! A task that returns has stopped on purpose (shutdown) and is not restarted.

use super::{Engine, EngineEvent};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// A background task that panicked and was restarted.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TaskRestart {
    /// `poller`, `sweeper`, `deferred`, `sync`, `retention`.
    pub task: &'static str,
    /// How often it has been restarted since the engine opened.
    pub restarts: u32,
    /// The panic's message.
    pub last_panic: String,
    pub at: DateTime<Utc>,
}

/// The pause before restart number `n` (1-based): 1 s, 2 s, 4 s … at most 30 s.
pub(crate) fn backoff(n: u32) -> Duration {
    Duration::from_secs(1u64 << n.saturating_sub(1).min(5)).min(Duration::from_secs(30))
}

/// What a panic said, as text.
fn panic_message(e: tokio::task::JoinError) -> String {
    match e.try_into_panic() {
        Ok(p) => p
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into()),
        Err(e) => e.to_string(),
    }
}

struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Spawns the supervisor of `task`: it runs `task` until it returns, restarting it after
/// each panic. (The task's crash signal is registered before this returns, so
/// [`Engine::crash_task`] reaches a task that has not been polled yet.)
pub(crate) fn spawn_supervised<F, Fut>(
    engine: &Engine,
    name: &'static str,
    task: F,
) -> tokio::task::JoinHandle<()>
where
    F: Fn(Engine) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let crash = engine.inner.background.crash_signal(name);
    tokio::spawn(supervise(engine.clone(), name, task, crash))
}

async fn supervise<F, Fut>(engine: Engine, name: &'static str, task: F, crash: Arc<Notify>)
where
    F: Fn(Engine) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut restarts = 0u32;
    loop {
        let run = task(engine.clone());
        let crash = crash.clone();
        let handle = tokio::spawn(async move {
            tokio::select! {
                _ = run => {}
                _ = crash.notified() => panic!("{name} was made to panic (Engine::crash_task)"),
            }
        });
        // Aborting the supervisor (a shutdown that timed out) aborts the task too.
        let _abort_with_me = AbortOnDrop(handle.abort_handle());
        let error = match handle.await {
            Ok(()) => return, // stopped on purpose
            Err(e) if e.is_cancelled() => return,
            Err(e) => panic_message(e),
        };
        if engine.inner.background.is_stopping() {
            return;
        }
        restarts += 1;
        tracing::error!(task = name, restarts, panic = %error, "background task panicked; restarting it");
        let record = TaskRestart {
            task: name,
            restarts,
            last_panic: error,
            at: engine.now(),
        };
        engine.inner.background.note_restart(record.clone());
        let _ = engine
            .inner
            .events
            .send(EngineEvent::TaskRestarted { restart: record });
        let mut stop = engine.inner.background.stopping();
        tokio::select! {
            _ = tokio::time::sleep(backoff(restarts)) => {}
            _ = stop.changed() => return,
        }
    }
}

impl Engine {
    /// The background tasks that panicked and were restarted since the engine opened.
    pub fn task_restarts(&self) -> Vec<TaskRestart> {
        self.inner.background.restarts()
    }

    /// Makes a running background task panic, as a bug would: for the tests of the
    /// supervision (and for an engineer checking it on a test terminal). Returns whether a
    /// task of that name runs.
    pub fn crash_task(&self, name: &str) -> bool {
        self.inner.background.crash(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let secs: Vec<u64> = (1..=8).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 30, 30, 30]);
    }
}
