//! Settlement sync against a real in-process `till-hub` (SQLite) over
//! loopback HTTP: demo payments settle and refund by themselves, the engine's
//! sync task delivers the outbox, and the hub's own store is the witness.

use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use till_core::journal::{Journal, JournalContext};
use till_core::secrets::{names, KeyringStore, Secret, SecretStore};
use till_core::{Clock, Config, Engine, EngineEvent, EngineOptions, Payment, PaymentState};
use till_core::{ProviderKind, SyncState};
use till_hub::store::{SettlementQuery, StoredEvent};
use till_hub::{HubConfig, HubHandle, NewKey};
use till_sync_proto::{generate_ed25519_keypair, generate_hmac_secret, Signer, SigningKey};

const TERMINAL: &str = "till-01";

/// Which key the hub registers for the terminal.
enum Key {
    Hmac,
    Ed25519,
}

struct HubRig {
    hub: Option<HubHandle>,
    hub_config: HubConfig,
    engine: Engine,
    home: tempfile::TempDir,
    _hub_dir: tempfile::TempDir,
    secrets: Arc<KeyringStore>,
    /// The key text the terminal should hold (`whsec_…` or `whsk_…`).
    key: String,
}

async fn start_hub(config: &HubConfig) -> HubHandle {
    till_hub::start(config.clone()).await.expect("hub starts")
}

impl HubRig {
    /// A hub with the terminal registered, and an engine pointed at it. The
    /// terminal's key is *not* installed yet (so records queue up) unless
    /// `install` is set.
    async fn start(
        key: Key,
        install: bool,
        tweak: impl FnOnce(&mut HubConfig),
        overrides: &[(&str, &str)],
    ) -> HubRig {
        let hub_dir = tempfile::tempdir().unwrap();
        let mut hub_config = HubConfig::new(
            "127.0.0.1:0",
            format!("sqlite://{}", hub_dir.path().join("hub.db").display()),
        );
        tweak(&mut hub_config);
        let hub = start_hub(&hub_config).await;
        // Later restarts reuse the same port.
        hub_config.listen = hub.addr().to_string();
        let (new_key, key_text) = match key {
            Key::Hmac => (NewKey::GenerateHmac, None),
            Key::Ed25519 => {
                let kp = generate_ed25519_keypair();
                (NewKey::Existing(kp.public), Some(kp.signing.to_text()))
            }
        };
        let added = hub
            .admin()
            .add_terminal(TERMINAL, Some("sync test"), new_key)
            .await
            .unwrap();
        let key = key_text.unwrap_or_else(|| added.secret.unwrap().to_text());
        let home = tempfile::tempdir().unwrap();
        let service = format!("till-test-{}", ulid::Ulid::new());
        let secrets = Arc::new(KeyringStore::new(service));
        let url = hub.base_url();
        let mut pairs: Vec<(String, String)> = [
            ("TILL__HUB__URL", url.as_str()),
            ("TILL__HUB__BACKOFF_BASE_MS", "10"),
            ("TILL__HUB__BACKOFF_MAX_MS", "60"),
            ("TILL__HUB__MAX_ATTEMPTS", "3"),
            ("TILL__HUB__POLL_INTERVAL_MS", "50"),
            ("TILL__HUB__TIMEOUT_SECS", "3"),
            ("TILL__DEMO__SETTLE_AFTER_MS", "20"),
            ("TILL__BKASH__ENABLED", "false"),
            ("TILL__BAKONG__ENABLED", "false"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        pairs.extend(
            overrides
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
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
        let rig = HubRig {
            hub: Some(hub),
            hub_config,
            engine,
            home,
            _hub_dir: hub_dir,
            secrets,
            key,
        };
        if install {
            rig.install(&rig.key.clone());
        }
        rig
    }

    fn hub(&self) -> &HubHandle {
        self.hub.as_ref().expect("the hub is running")
    }

    /// Puts `text` in the secret its prefix belongs to (the other is cleared).
    fn install(&self, text: &str) {
        let (name, other) = if text.starts_with("whsk_") {
            (names::HUB_SIGNING_KEY, names::HUB_SECRET)
        } else {
            (names::HUB_SECRET, names::HUB_SIGNING_KEY)
        };
        self.secrets
            .set(name, &Secret::new(text))
            .expect("the OS keyring is reachable (run under dbus-run-session with gnome-keyring)");
        self.secrets.delete(other).unwrap();
    }

    /// A second connection to the engine's journal.
    fn journal(&self) -> Journal {
        Journal::open(
            &self.home.path().join("journal.db"),
            JournalContext::from_config(self.engine.config()).unwrap(),
        )
        .unwrap()
    }

    /// A demo payment, settled.
    async fn pay(&self, amount: &str) -> Payment {
        let c = self
            .engine
            .charge(
                ProviderKind::Demo,
                till_core::Amount::parse(amount, till_core::Currency::Bdt).unwrap(),
                "cashier",
            )
            .await
            .unwrap();
        let p = self
            .engine
            .wait_final(&c.payment.id, Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(p.state, PaymentState::Settled, "{p:?}");
        p
    }

    async fn wait_sync(
        &self,
        what: &str,
        within: Duration,
        ok: impl Fn(&SyncState) -> bool,
    ) -> SyncState {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let s = self.engine.sync_state().unwrap();
            if ok(&s) {
                return s;
            }
            if tokio::time::Instant::now() > deadline {
                panic!("timed out waiting for {what}; sync state: {s:#?}");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits until the queue is empty and `n` records are acknowledged.
    async fn synced(&self, n: u64) -> SyncState {
        self.wait_sync(
            &format!("{n} records acknowledged"),
            Duration::from_secs(10),
            |s| s.queue_length == 0 && s.last_acknowledged_sequence >= Some(n),
        )
        .await
    }

    /// What the hub stored, in arrival order.
    async fn hub_events(&self) -> Vec<StoredEvent> {
        self.hub()
            .store()
            .settlements(&SettlementQuery {
                terminal: Some(TERMINAL.into()),
                limit: 1000,
                ..Default::default()
            })
            .await
            .unwrap()
    }

    async fn hub_sequences(&self) -> Vec<u64> {
        self.hub_events().await.iter().map(|e| e.sequence).collect()
    }

    async fn hub_count(&self) -> u64 {
        self.hub()
            .store()
            .count_events(Some(TERMINAL))
            .await
            .unwrap()
    }

    async fn hub_progress(&self) -> till_hub::store::Progress {
        self.hub()
            .store()
            .progress(TERMINAL)
            .await
            .unwrap()
            .unwrap()
    }

    async fn stop_hub(&mut self) {
        self.hub.take().unwrap().shutdown().await;
    }

    async fn restart_hub(&mut self) {
        self.hub = Some(start_hub(&self.hub_config).await);
    }
}

impl Drop for HubRig {
    fn drop(&mut self) {
        for n in names::ALL {
            let _ = self.secrets.delete(n);
        }
    }
}

fn schema_validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(till_sync_proto::EVENT_V3_SCHEMA).unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settlements_and_refunds_reach_the_hub_once_and_in_order() {
    let r = HubRig::start(Key::Hmac, true, |_| {}, &[]).await;
    let mut events = r.engine.subscribe();
    let a = r.pay("10.00").await;
    let b = r.pay("25.50").await;
    let (_, refund) = r
        .engine
        .refund(
            &a.id,
            Some(till_core::Amount::parse("4.00", till_core::Currency::Bdt).unwrap()),
            Some("partial"),
            "manager",
        )
        .await
        .unwrap();
    assert_eq!(refund.state, till_core::payment::RefundState::Done);
    r.engine.refund(&b.id, None, None, "manager").await.unwrap();
    let c = r.pay("1.25").await;
    let s = r.synced(5).await;
    assert_eq!(s.dead_letters, 0);
    assert_eq!(s.hub_highest_contiguous, Some(5));
    assert!(s.last_acknowledged_at.is_some());
    assert!(!s.endpoint_gone);

    let stored = r.hub_events().await;
    assert_eq!(
        stored.iter().map(|e| e.sequence).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5],
        "arrival order at the hub is sequence order"
    );
    assert_eq!(r.hub_count().await, 5);
    let kinds: Vec<&str> = stored.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "payment.settled",
            "payment.settled",
            "payment.refunded",
            "payment.refunded",
            "payment.settled"
        ]
    );
    let payments: Vec<_> = stored
        .iter()
        .map(|e| e.payment_id.clone().unwrap())
        .collect();
    assert_eq!(
        payments,
        [&a.id, &b.id, &a.id, &b.id, &c.id].map(|s| s.to_string())
    );

    // Every record went under its stable outbox webhook id, and every
    // payload the terminal wrote is a valid till.event/3 per the JSON Schema.
    let journal = r.journal();
    let outbox = journal.outbox_after(0, 100).unwrap();
    assert_eq!(outbox.len(), 5);
    let v = schema_validator();
    for (rec, ev) in outbox.iter().zip(&stored) {
        assert_eq!(rec.webhook_id, ev.id);
        assert_eq!(rec.state, "delivered");
        let errors: Vec<String> = v.iter_errors(&rec.payload).map(|e| e.to_string()).collect();
        assert!(
            errors.is_empty(),
            "seq {}: {errors:?}\n{}",
            rec.sequence,
            rec.payload
        );
        let body: Value = serde_json::from_str(ev.event.get()).unwrap();
        assert_eq!(body, rec.payload, "the hub keeps the payload as sent");
    }
    assert_eq!(outbox[2].payload["refund"]["amount"], "4.00");
    assert_eq!(outbox[2].payload["refund"]["total_refunded"], "4.00");
    assert_eq!(outbox[3].payload["refund"]["total_refunded"], "25.50");

    // The state changes were announced.
    let mut saw_sync = false;
    while let Ok(ev) = events.try_recv() {
        if let EngineEvent::Sync { state } = ev {
            saw_sync = true;
            assert!(state.enabled);
        }
    }
    assert!(saw_sync, "no EngineEvent::Sync");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hub_down_then_up_catches_up_in_order_without_dead_letters() {
    let mut r = HubRig::start(Key::Hmac, true, |_| {}, &[]).await;
    r.pay("1.00").await;
    r.synced(1).await;
    r.stop_hub().await;
    for i in 0..4 {
        r.pay(&format!("{}.00", i + 2)).await;
    }
    r.wait_sync("a delivery failure", Duration::from_secs(5), |s| {
        s.last_error
            .as_deref()
            .is_some_and(|e| e.contains("did not answer"))
    })
    .await;
    // Well past max_attempts (3) × backoff_max (60 ms): an unreachable hub
    // does not use up the records' attempts.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let s = r.engine.sync_state().unwrap();
    assert_eq!((s.queue_length, s.dead_letters), (4, 0), "{s:#?}");
    assert!(s.oldest_unsynced_at.is_some());
    r.restart_hub().await;
    let s = r.synced(5).await;
    assert_eq!(s.dead_letters, 0);
    assert_eq!(s.last_error, None);
    assert_eq!(r.hub_sequences().await, vec![1, 2, 3, 4, 5]);
    assert_eq!(r.hub_progress().await.highest_contiguous, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_received_twice_is_stored_once() {
    let r = HubRig::start(Key::Hmac, false, |_| {}, &[]).await;
    for i in 0..3 {
        r.pay(&format!("{}.00", i + 1)).await;
    }
    // No key yet: the three records wait, then go as one batch.
    r.install(&r.key);
    let s = r.engine.sync_now().await.unwrap();
    assert_eq!(
        (s.queue_length, s.last_acknowledged_sequence),
        (0, Some(3)),
        "{s:#?}"
    );
    let first: Vec<String> = r.hub_events().await.into_iter().map(|e| e.id).collect();
    // The acknowledgement is "lost": the terminal sends the same batch again.
    assert_eq!(r.journal().sync_forget_deliveries().unwrap(), 3);
    assert_eq!(r.engine.sync_state().unwrap().queue_length, 3);
    let s = r.engine.sync_now().await.unwrap();
    assert_eq!((s.queue_length, s.dead_letters), (0, 0), "{s:#?}");
    assert_eq!(r.hub_count().await, 3);
    let again: Vec<String> = r.hub_events().await.into_iter().map(|e| e.id).collect();
    assert_eq!(first, again);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_terminal_stops_delivery_until_till_sync() {
    let r = HubRig::start(Key::Hmac, true, |_| {}, &[]).await;
    r.pay("1.00").await;
    r.synced(1).await;
    r.hub().admin().disable(TERMINAL).await.unwrap();
    r.pay("2.00").await;
    let s = r
        .wait_sync("410", Duration::from_secs(5), |s| s.endpoint_gone)
        .await;
    assert_eq!(s.queue_length, 1);
    assert!(s.last_error.as_deref().unwrap().contains("410"), "{s:#?}");
    // Stopped: a new record is not sent (no further request is made).
    r.hub().admin().enable(TERMINAL).await.unwrap();
    r.pay("3.00").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let s = r.engine.sync_state().unwrap();
    assert!(s.endpoint_gone);
    assert_eq!(s.queue_length, 2);
    assert_eq!(r.hub_count().await, 1);
    // `till sync` tries again and resumes.
    let s = r.engine.sync_now().await.unwrap();
    assert!(!s.endpoint_gone, "{s:#?}");
    assert_eq!(s.queue_length, 0);
    assert_eq!(r.hub_sequences().await, vec![1, 2, 3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_over_the_hub_limit_are_split() {
    // One event is ~600 bytes: a batch of 6 is refused, halves of 3 are too,
    // and the records end up going alone, in order.
    let r = HubRig::start(Key::Hmac, false, |c| c.batch_body_limit = 1200, &[]).await;
    for i in 0..6 {
        r.pay(&format!("{}.00", i + 1)).await;
    }
    r.install(&r.key);
    let s = r.engine.sync_now().await.unwrap();
    assert_eq!((s.queue_length, s.dead_letters), (0, 0), "{s:#?}");
    assert_eq!(r.hub_sequences().await, vec![1, 2, 3, 4, 5, 6]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_over_the_hub_limit_is_a_dead_letter() {
    let r = HubRig::start(
        Key::Hmac,
        true,
        |c| {
            c.single_body_limit = 100;
            c.batch_body_limit = 100;
        },
        &[],
    )
    .await;
    r.pay("1.00").await;
    let s = r
        .wait_sync("a dead letter", Duration::from_secs(5), |s| {
            s.dead_letters == 1
        })
        .await;
    assert_eq!(s.queue_length, 0);
    assert!(s.last_error.as_deref().unwrap().contains("413"), "{s:#?}");
    let dead = r.journal().sync_dead_letters(10).unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].state, "dead");
    assert!(dead[0]
        .last_error
        .as_deref()
        .unwrap()
        .contains("payload_too_large"));
    assert_eq!(r.hub_count().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_secret_is_retried_then_dead_lettered_and_replay_delivers() {
    let r = HubRig::start(Key::Hmac, false, |_| {}, &[]).await;
    r.install(&generate_hmac_secret().to_text());
    r.pay("1.00").await;
    r.pay("2.00").await;
    let s = r
        .wait_sync("dead letters", Duration::from_secs(10), |s| {
            s.dead_letters == 2
        })
        .await;
    assert_eq!(s.queue_length, 0);
    assert!(
        s.last_error
            .as_deref()
            .unwrap()
            .contains("401 bad_signature"),
        "{s:#?}"
    );
    let dead = r.journal().sync_dead_letters(10).unwrap();
    assert!(dead.iter().all(|d| d.attempts == 3), "{dead:?}");
    assert_eq!(r.hub_count().await, 0);
    // Fixed: the right key, then replay.
    r.install(&r.key);
    assert_eq!(r.engine.replay_dead().unwrap(), 2);
    let s = r.synced(2).await;
    assert_eq!(s.dead_letters, 0);
    assert_eq!(r.hub_sequences().await, vec![1, 2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_rotation_with_two_secrets_side_by_side() {
    let r = HubRig::start(Key::Hmac, true, |_| {}, &[]).await;
    let old = r.key.clone();
    r.pay("1.00").await;
    r.synced(1).await;
    // The hub adds a new key; the terminal holds old and new.
    let new = r
        .hub()
        .admin()
        .rotate(TERMINAL, NewKey::GenerateHmac)
        .await
        .unwrap()
        .secret
        .unwrap()
        .to_text();
    r.install(&format!("{old} {new}"));
    r.pay("2.00").await;
    r.synced(2).await;
    // The hub retires the old key: both signatures are sent, the new one matches.
    r.hub().admin().retire_key(TERMINAL, None).await.unwrap();
    r.pay("3.00").await;
    r.synced(3).await;
    // A terminal still on the old key alone is refused.
    r.install(&old);
    r.pay("4.00").await;
    let s = r
        .wait_sync("a 401", Duration::from_secs(5), |s| {
            s.last_error.as_deref().is_some_and(|e| e.contains("401"))
        })
        .await;
    assert!(s.queue_length + s.dead_letters == 1, "{s:#?}");
    assert_eq!(r.hub_sequences().await, vec![1, 2, 3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ed25519_only_hub_holds_just_the_public_key() {
    let r = HubRig::start(Key::Ed25519, true, |_| {}, &[]).await;
    assert!(r.key.starts_with("whsk_"));
    assert!(r.secrets.get(names::HUB_SECRET).unwrap().is_none());
    r.pay("1.00").await;
    r.pay("2.00").await;
    r.synced(2).await;
    assert_eq!(r.hub_sequences().await, vec![1, 2]);
    let keys = r
        .hub()
        .store()
        .terminal(TERMINAL)
        .await
        .unwrap()
        .unwrap()
        .keys;
    assert!(keys.iter().all(|k| k.key.is_public()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_letter_is_a_gap_at_the_hub_until_replayed() {
    let r = HubRig::start(Key::Hmac, false, |_| {}, &[]).await;
    r.install(&generate_hmac_secret().to_text());
    r.pay("1.00").await;
    r.wait_sync("a dead letter", Duration::from_secs(10), |s| {
        s.dead_letters == 1
    })
    .await;
    // Later records keep flowing once the key is right.
    r.install(&r.key);
    r.pay("2.00").await;
    r.pay("3.00").await;
    let s = r.synced(3).await;
    assert_eq!(s.dead_letters, 1);
    assert_eq!(s.hub_highest_contiguous, Some(0));
    let p = r.hub_progress().await;
    assert_eq!(
        (p.highest_contiguous, p.gaps.clone(), p.max_sequence),
        (0, vec![[1, 1]], 3)
    );
    assert_eq!(r.engine.replay_dead().unwrap(), 1);
    let s = r
        .wait_sync("the gap filled", Duration::from_secs(5), |s| {
            s.dead_letters == 0 && s.queue_length == 0 && s.hub_highest_contiguous == Some(3)
        })
        .await;
    assert_eq!(s.last_acknowledged_sequence, Some(3));
    let p = r.hub_progress().await;
    assert_eq!((p.highest_contiguous, p.gaps.len()), (3, 0));
    assert_eq!(r.hub_sequences().await, vec![2, 3, 1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflict_in_a_batch_does_not_block_the_rest() {
    let r = HubRig::start(Key::Hmac, false, |_| {}, &[]).await;
    let payments = [
        r.pay("1.00").await,
        r.pay("2.00").await,
        r.pay("3.00").await,
    ];
    // Someone else already stored sequence 2 under another id.
    let outbox = r.journal().outbox_after(0, 10).unwrap();
    let mut impostor: till_sync_proto::Event =
        serde_json::from_value(outbox[1].payload.clone()).unwrap();
    impostor.payment.as_mut().unwrap().id = "someone-else".into();
    let body = impostor.to_json();
    let signer = Signer::new(vec![r.key.parse::<SigningKey>().unwrap()]).unwrap();
    let h = signer.headers("evt_impostor", chrono::Utc::now().timestamp(), &body);
    let mut req = reqwest::Client::new()
        .post(format!(
            "{}/v1/terminals/{TERMINAL}/events",
            r.hub().base_url()
        ))
        .header("content-type", "application/json")
        .body(body);
    for (k, v) in h.pairs() {
        req = req.header(k, v);
    }
    assert_eq!(req.send().await.unwrap().status(), 200);

    r.install(&r.key);
    let s = r.engine.sync_now().await.unwrap();
    assert_eq!((s.queue_length, s.dead_letters), (0, 1), "{s:#?}");
    let dead = r.journal().sync_dead_letters(10).unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].sequence, 2);
    assert_eq!(dead[0].payment_id, payments[1].id);
    assert!(dead[0]
        .last_error
        .as_deref()
        .unwrap()
        .contains("409 conflict"));
    let stored = r.hub_events().await;
    let ids: Vec<(u64, String)> = stored.iter().map(|e| (e.sequence, e.id.clone())).collect();
    assert_eq!(
        ids,
        vec![
            (2, "evt_impostor".to_string()),
            (1, outbox[0].webhook_id.clone()),
            (3, outbox[2].webhook_id.clone())
        ]
    );
}

/// The hub's listing of this rig's terminal, as the read API shows it.
async fn hub_terminal(rig: &HubRig) -> Value {
    let list = rig.hub().store().terminals().await.unwrap();
    let t = list.iter().find(|t| t.id == TERMINAL).expect("listed");
    serde_json::to_value(t).unwrap()
}

/// L4: the audit log is hash-chained. A row rewritten in the SQLite file
/// (raw SQL, past the append-only trigger) is found by the local check, which
/// names the row; and the next sync's chain head no longer extends the one
/// the hub holds, so the hub flags the terminal.
#[tokio::test]
async fn rewriting_an_audit_row_is_detected_locally_and_by_the_hub() {
    let rig = HubRig::start(Key::Ed25519, true, |_| {}, &[]).await;
    rig.engine
        .audit(
            "manager",
            "refund.approve",
            Some("p-1"),
            Some("refund 50.00 approved"),
        )
        .unwrap();
    rig.engine
        .audit("manager", "settings.save", None, Some("shop.name"))
        .unwrap();
    rig.pay("10.00").await;
    rig.synced(1).await;
    let local = rig.engine.verify_chain().unwrap();
    assert!(local.first_break.is_none(), "{local:?}");
    assert!(local.count >= 2, "{local:?}");
    // The head went to the hub with the batch.
    let mut listed = Value::Null;
    for _ in 0..500 {
        listed = hub_terminal(&rig).await;
        if listed["chain"]["count"] == local.count {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(listed["chain"]["count"], local.count, "{listed}");
    assert_eq!(listed["chain"]["hash"], local.head, "{listed}");
    assert_eq!(listed["chain_broken"], false, "{listed}");

    // Someone with the file rewrites what was approved.
    let raw = rusqlite::Connection::open(rig.home.path().join("journal.db")).unwrap();
    raw.execute_batch(
        "DROP TRIGGER audit_log_no_update;
         UPDATE audit_log SET detail = 'refund 5.00 approved' WHERE action = 'refund.approve';",
    )
    .unwrap();
    let row: i64 = raw
        .query_row(
            "SELECT id FROM audit_log WHERE action = 'refund.approve'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    drop(raw);
    let after = rig.engine.verify_chain().unwrap();
    let brk = after.first_break.clone().expect("the rewrite is found");
    assert_eq!(brk.table, "audit_log", "{brk:?}");
    assert_eq!(brk.row, row.to_string(), "{brk:?}");

    // The next sync tells the hub.
    rig.pay("11.00").await;
    rig.synced(2).await;
    let mut listed = Value::Null;
    for _ in 0..500 {
        listed = hub_terminal(&rig).await;
        if listed["chain_broken"] == true {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(listed["chain_broken"], true, "{listed}");
    assert!(listed["chain_breaks"][0]["reason"].is_string(), "{listed}");
}
