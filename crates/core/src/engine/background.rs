//! The engine's background tasks as one part: the stop signal, the tasks'
//! handles, what wakes them (a provider's task when one of its payments
//! starts; the sweeper and deferred worker when a provider comes back), and
//! the supervision records ([`super::supervise`]). Tasks ask it whether to
//! stop and wait on it; only [`Background::stop`] ends them.

use super::supervise::TaskRestart;
use crate::payment::ProviderKind;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

pub(crate) struct Background {
    stop: watch::Sender<bool>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    /// Per provider, what wakes its own task.
    wakes: BTreeMap<ProviderKind, Arc<Notify>>,
    /// Wakes the sweeper and the deferred-call worker.
    sweep_wake: Notify,
    /// Tasks restarted after a panic, by task.
    restarts: Mutex<BTreeMap<&'static str, TaskRestart>>,
    /// Per task, the signal that makes it panic on purpose.
    crash_requests: Mutex<BTreeMap<&'static str, Arc<Notify>>>,
}

impl Background {
    pub fn new(providers: impl IntoIterator<Item = ProviderKind>) -> Background {
        Background {
            stop: watch::channel(false).0,
            tasks: Mutex::new(Vec::new()),
            wakes: providers
                .into_iter()
                .map(|k| (k, Arc::new(Notify::new())))
                .collect(),
            sweep_wake: Notify::new(),
            restarts: Mutex::new(BTreeMap::new()),
            crash_requests: Mutex::new(BTreeMap::new()),
        }
    }

    /// Changes once, when the engine stops.
    pub fn stopping(&self) -> watch::Receiver<bool> {
        self.stop.subscribe()
    }

    pub fn is_stopping(&self) -> bool {
        *self.stop.borrow()
    }

    pub fn add(&self, task: JoinHandle<()>) {
        self.tasks.lock().expect("tasks lock").push(task);
    }

    /// Signals every task to stop and hands back their handles to wait on.
    pub fn stop(&self) -> Vec<JoinHandle<()>> {
        self.stop.send_replace(true);
        self.wake_providers();
        self.sweep_wake.notify_one();
        std::mem::take(&mut *self.tasks.lock().expect("tasks lock"))
    }

    pub fn wake_of(&self, kind: ProviderKind) -> Arc<Notify> {
        self.wakes.get(&kind).cloned().unwrap_or_default()
    }

    pub fn wake_provider(&self, kind: ProviderKind) {
        if let Some(w) = self.wakes.get(&kind) {
            w.notify_one();
        }
    }

    pub fn wake_providers(&self) {
        for w in self.wakes.values() {
            w.notify_one();
        }
    }

    pub fn wake_sweeper(&self) {
        self.sweep_wake.notify_one();
    }

    pub async fn sweeper_woken(&self) {
        self.sweep_wake.notified().await
    }

    pub fn note_restart(&self, record: TaskRestart) {
        if let Ok(mut all) = self.restarts.lock() {
            all.insert(record.task, record);
        }
    }

    pub fn restarts(&self) -> Vec<TaskRestart> {
        self.restarts
            .lock()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }

    /// The signal that makes task `name` panic, made when it is spawned.
    pub fn crash_signal(&self, name: &'static str) -> Arc<Notify> {
        let crash = Arc::new(Notify::new());
        self.crash_requests
            .lock()
            .expect("crash requests lock")
            .insert(name, crash.clone());
        crash
    }

    /// Makes task `name` panic; false when no task of that name runs.
    pub fn crash(&self, name: &str) -> bool {
        match self
            .crash_requests
            .lock()
            .expect("crash requests lock")
            .get(name)
        {
            Some(n) => {
                n.notify_one();
                true
            }
            None => false,
        }
    }
}
