//! Demo mode: `till-sandbox` (bKash, Bakong and Nagad as they speak on the wire) and
//! `till-hub` run inside the app on loopback, and the engine is pointed at them
//! with the sandbox's own credentials, held in memory only. Nothing leaves the
//! machine and no real money moves; every screen says so.
//!
//! Both keep their state under `<home>/demo/`, so payments left open by a crash
//! are still resolvable when the app comes back (on new ports).

use anyhow::Context;
use serde::Serialize;
use std::path::Path;
use till_core::secrets::{names, Secret};
use till_hub::admin::NewKey;

/// Where the demo's servers are, for the manager screen and for anyone who
/// wants to play the customer from a browser.
#[derive(Debug, Clone, Serialize)]
pub struct DemoInfo {
    /// The sandbox's index page (customer pages, ledger).
    pub sandbox_url: String,
    /// The bank app that pays a KHQR (paste the code's text).
    pub bank_app_url: String,
    pub hub_url: String,
}

pub struct Demo {
    sandbox: till_sandbox::SandboxHandle,
    hub: till_hub::HubHandle,
    pub info: DemoInfo,
    /// `TILL__…` pairs that point the engine at the servers above.
    pub overrides: Vec<(String, String)>,
    /// Secrets this process answers itself (never written anywhere).
    pub secrets: Vec<(String, Option<Secret>)>,
}

impl Demo {
    /// Starts both servers on ephemeral loopback ports.
    pub async fn start(home: &Path, terminal_id: &str) -> anyhow::Result<Demo> {
        let dir = home.join("demo");
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let sandbox = till_sandbox::start(till_sandbox::Config {
            state_file: Some(dir.join("sandbox.db")),
            ..till_sandbox::Config::default()
        })
        .await
        .context("the demo sandbox did not start")?;

        let read_token = format!("demo-{:032x}", rand::random::<u128>());
        let mut hub_config = till_hub::HubConfig::new(
            "127.0.0.1:0",
            dir.join("hub.db").to_string_lossy().into_owned(),
        );
        hub_config.read_tokens = vec![read_token.clone()];
        let hub = till_hub::start(hub_config)
            .await
            .context("the demo hub did not start")?;
        // A fresh signing key every run, held only in memory: register the
        // terminal the first time, otherwise rotate and retire the old keys.
        let admin = hub.admin();
        let added = match admin
            .add_terminal(terminal_id, Some("demo terminal"), NewKey::GenerateEd25519)
            .await
        {
            Ok(k) => k,
            Err(_) => {
                let k = admin
                    .rotate(terminal_id, NewKey::GenerateEd25519)
                    .await
                    .context("the demo hub refused a new key")?;
                admin.retire_key(terminal_id, None).await.ok();
                k
            }
        };
        let hub_signing_key = added.secret.context("the demo hub gave no key")?.to_text();

        let b = &sandbox.config().bkash;
        let secrets = vec![
            (
                names::BKASH_USERNAME.to_string(),
                Some(Secret::new(&b.username)),
            ),
            (
                names::BKASH_PASSWORD.to_string(),
                Some(Secret::new(&b.password)),
            ),
            (
                names::BKASH_APP_KEY.to_string(),
                Some(Secret::new(&b.app_key)),
            ),
            (
                names::BKASH_APP_SECRET.to_string(),
                Some(Secret::new(&b.app_secret)),
            ),
            (
                names::BAKONG_TOKEN.to_string(),
                Some(Secret::new(sandbox.bakong_token())),
            ),
            // The sandbox's TEST ONLY merchant key: the demo merchant's, never a shop's.
            (
                names::NAGAD_MERCHANT_KEY.to_string(),
                Some(Secret::new(
                    till_sandbox::config::nagad_test_keys::MERCHANT_PRIVATE_PEM,
                )),
            ),
            (
                names::NAGAD_PUBLIC_KEY.to_string(),
                Some(Secret::new(sandbox.nagad_public_key_pem())),
            ),
            // ed25519: the demo hub holds only the public key.
            (names::HUB_SECRET.to_string(), None),
            (
                names::HUB_SIGNING_KEY.to_string(),
                Some(Secret::new(hub_signing_key)),
            ),
            (
                names::HUB_READ_TOKEN.to_string(),
                Some(Secret::new(read_token)),
            ),
        ];
        let overrides = vec![
            // The demo's own endpoints, whatever preset till.toml names.
            ("TILL__BKASH__ENVIRONMENT".into(), "custom".into()),
            ("TILL__BAKONG__ENVIRONMENT".into(), "custom".into()),
            ("TILL__BKASH__BASE_URL".into(), sandbox.bkash_base_url()),
            ("TILL__BAKONG__BASE_URL".into(), sandbox.bakong_base_url()),
            ("TILL__HUB__URL".into(), hub.base_url()),
            ("TILL__BKASH__ENABLED".into(), "true".into()),
            ("TILL__BAKONG__ENABLED".into(), "true".into()),
            ("TILL__NAGAD__ENVIRONMENT".into(), "custom".into()),
            ("TILL__NAGAD__BASE_URL".into(), sandbox.nagad_base_url()),
            (
                "TILL__NAGAD__MERCHANT_ID".into(),
                sandbox.config().nagad.merchant_id.clone(),
            ),
            ("TILL__NAGAD__ENABLED".into(), "true".into()),
        ];
        let info = DemoInfo {
            sandbox_url: format!("{}/", sandbox.origin()),
            bank_app_url: format!("{}/pay/bakong/", sandbox.origin()),
            hub_url: hub.base_url(),
        };
        // For a person (or a test) playing the customer from outside the app.
        let endpoints = serde_json::to_vec_pretty(&info)?;
        std::fs::write(dir.join("endpoints.json"), endpoints)
            .with_context(|| format!("cannot write {}", dir.join("endpoints.json").display()))?;
        tracing::info!(sandbox = %info.sandbox_url, hub = %info.hub_url, "demo mode: sandbox and hub running in-process");
        Ok(Demo {
            sandbox,
            hub,
            info,
            overrides,
            secrets,
        })
    }

    /// The customer's bank app pays this KHQR (demo only: the cashier can
    /// play the customer when there is no second phone at hand).
    pub async fn pay_khqr(&self, qr: &str) -> anyhow::Result<()> {
        let url = format!("{}/sim/bakong/pay", self.sandbox.origin());
        let r = reqwest::Client::new()
            .post(url)
            .json(&serde_json::json!({"qr": qr, "fromAccountId": "demo.customer@aclb"}))
            .send()
            .await
            .context("the demo bank app is not answering")?;
        if !r.status().is_success() {
            let body = r.text().await.unwrap_or_default();
            anyhow::bail!("the demo bank app refused to pay: {body}");
        }
        Ok(())
    }

    pub async fn shutdown(self) {
        self.hub.shutdown().await;
        self.sandbox.shutdown().await;
    }
}
