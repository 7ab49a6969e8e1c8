//! Real terminals for the dashboard: `till_core::Engine`s on temporary
//! homes, taking Demo-wallet payments (they settle by themselves), their
//! own sync task delivering the outbox to the hub, and closing their day
//! with a Z-report — no event is made by hand.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use till_core::secrets::{names, Secret, SecretError, SecretStore};
use till_core::{Amount, Clock, Config, Currency, Engine, EngineOptions, Payment, PaymentState};
use till_core::{ProviderKind, SyncState};

/// The terminal's secrets in memory (no OS keyring needed).
#[derive(Default)]
pub struct Secrets(Mutex<HashMap<String, String>>);

impl SecretStore for Secrets {
    fn get(&self, name: &str) -> Result<Option<Secret>, SecretError> {
        Ok(self
            .0
            .lock()
            .unwrap()
            .get(name)
            .map(|v| Secret::new(v.clone())))
    }
    fn set(&self, name: &str, value: &Secret) -> Result<(), SecretError> {
        self.0
            .lock()
            .unwrap()
            .insert(name.to_owned(), value.expose().to_owned());
        Ok(())
    }
    fn delete(&self, name: &str) -> Result<(), SecretError> {
        self.0.lock().unwrap().remove(name);
        Ok(())
    }
}

pub struct Till {
    pub id: String,
    pub engine: Engine,
    pub secrets: Arc<Secrets>,
    _home: tempfile::TempDir,
}

impl Till {
    /// An engine named `id` syncing to `hub_url`, signing with `key` (a
    /// `whsk_…` text), reading the hub with `read_token`.
    pub async fn start(id: &str, hub_url: &str, key: &str, read_token: &str) -> Till {
        let home = tempfile::tempdir().unwrap();
        let secrets = Arc::new(Secrets::default());
        secrets
            .set(names::HUB_SIGNING_KEY, &Secret::new(key))
            .unwrap();
        secrets
            .set(names::HUB_READ_TOKEN, &Secret::new(read_token))
            .unwrap();
        let pairs: Vec<(String, String)> = [
            ("TILL__TERMINAL__ID", id),
            ("TILL__HUB__URL", hub_url),
            ("TILL__HUB__BACKOFF_BASE_MS", "10"),
            ("TILL__HUB__BACKOFF_MAX_MS", "60"),
            ("TILL__HUB__MAX_ATTEMPTS", "3"),
            ("TILL__HUB__POLL_INTERVAL_MS", "50"),
            ("TILL__HUB__TIMEOUT_SECS", "3"),
            ("TILL__DEMO__SETTLE_AFTER_MS", "20"),
            ("TILL__BKASH__ENABLED", "false"),
            ("TILL__BAKONG__ENABLED", "false"),
            ("TILL__NAGAD__ENABLED", "false"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let config = Config::from_layers(till_core::config::DEFAULTS_TOML, None, pairs.into_iter())
            .expect("test config is valid");
        let engine = Engine::open(EngineOptions {
            home: home.path().to_owned(),
            config,
            secrets: secrets.clone(),
            clock: Clock::system(),
            background: true,
        })
        .await
        .expect("engine opens");
        Till {
            id: id.to_owned(),
            engine,
            secrets,
            _home: home,
        }
    }

    /// Sign with this key from now on.
    pub fn use_key(&self, key: &str) {
        self.secrets
            .set(names::HUB_SIGNING_KEY, &Secret::new(key))
            .unwrap();
    }

    /// A Demo-wallet payment, settled.
    pub async fn pay(&self, amount: &str, currency: Currency) -> Payment {
        let c = self
            .engine
            .charge(
                ProviderKind::Demo,
                Amount::parse(amount, currency).unwrap(),
                "cashier-1",
            )
            .await
            .unwrap();
        let p = self
            .engine
            .wait_final(&c.payment.id, Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(p.state, PaymentState::Settled, "{p:?}");
        p
    }

    pub async fn refund(&self, p: &Payment, amount: &str) {
        let a = Amount::parse(amount, p.amount.currency()).unwrap();
        self.engine
            .refund(
                &p.id,
                Some(a),
                Some("customer changed their mind"),
                "manager",
            )
            .await
            .unwrap();
    }

    /// Waits until `ok` holds for the sync state (at most 15 s).
    pub async fn wait_sync(&self, what: &str, ok: impl Fn(&SyncState) -> bool) -> SyncState {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let s = self.engine.sync_state().unwrap();
            if ok(&s) {
                return s;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{}: timed out waiting for {what}; sync state: {s:#?}",
                self.id
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Every record delivered (dead letters aside).
    pub async fn synced(&self) -> SyncState {
        self.wait_sync("the queue to empty", |s| s.queue_length == 0)
            .await
    }

    /// Reconcile today, acknowledge whatever disagrees (as a manager
    /// would, with a note), close the day; the Z-report goes to the hub.
    pub async fn close_today(&self) -> chrono::NaiveDate {
        let day = self.engine.today();
        let rec = self.engine.reconcile(day).await.unwrap();
        for d in &rec.disagreements {
            self.engine
                .resolve(
                    day,
                    &d.id,
                    till_core::report::Resolution::Acknowledge {
                        note: "seen at the office".into(),
                    },
                    "manager",
                )
                .await
                .unwrap();
        }
        self.engine.close_day(day, "manager").await.unwrap();
        self.synced().await;
        day
    }
}
