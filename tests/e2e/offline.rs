//! Scenario 5: The providers' sandbox and the hub stop: the cashier sees the offline
//! banner and the unsynced count; they come back: the banner clears, the
//! KHQR shown meanwhile settles, and the sync queue drains to the hub.
//!
//! Here the sandbox and hub are this test's own servers (not the app's demo
//! ones), so it can stop and restart them on the same ports and state. Both
//! serve HTTPS with a certificate from a CA this test makes, which the app
//! trusts through `[tls] extra_roots` (as a shop trusts its proxy's CA): the
//! real app talks to its providers and its office over TLS only.

use crate::util::*;
use anyhow::{Context, Result};
use fantoccini::{key::Key, Locator};
use serde_json::Value;
use std::time::Duration;
use till_hub::{HubConfig, NewKey, ServerTls};
use till_test_ca::{ServerCert, TestCa};
use till_tests::{free_port, AppOptions, AppSession};

const TERMINAL: &str = "till-e2e";
const READ_TOKEN: &str = "e2e-read-token";

struct Servers {
    dir: tempfile::TempDir,
    sandbox_port: u16,
    hub_port: u16,
    /// The servers' certificate (loopback names), from `ca`.
    leaf: ServerCert,
    /// The test's own hand (the customer's bank app, the office's reader):
    /// trusts the CA, as the app does.
    http: reqwest::Client,
}

impl Servers {
    async fn sandbox(&self) -> Result<till_sandbox::SandboxHandle> {
        Ok(till_sandbox::start(till_sandbox::Config {
            listen: format!("127.0.0.1:{}", self.sandbox_port),
            state_file: Some(self.dir.path().join("sandbox.db")),
            tls: Some(till_sandbox::TlsIdentity::new(
                self.leaf.cert_pem.clone(),
                self.leaf.key_pem.clone(),
            )),
            ..till_sandbox::Config::default()
        })
        .await?)
    }

    async fn hub(&self) -> Result<till_hub::HubHandle> {
        let mut c = HubConfig::new(
            format!("127.0.0.1:{}", self.hub_port),
            self.dir
                .path()
                .join("hub.db")
                .to_string_lossy()
                .into_owned(),
        );
        c.read_tokens = vec![READ_TOKEN.into()];
        c.tls = Some(ServerTls::from_pem(
            self.leaf.cert_pem.as_bytes(),
            self.leaf.key_pem.as_bytes(),
            "test leaf",
            "test key",
        )?);
        Ok(till_hub::start(c).await?)
    }
}

async fn hub_settlements(http: &reqwest::Client, hub_url: &str) -> Result<usize> {
    let v: Value = http
        .get(format!("{hub_url}/v1/settlements?terminal={TERMINAL}"))
        .bearer_auth(READ_TOKEN)
        .send()
        .await?
        .json()
        .await?;
    Ok(v["items"].as_array().map(|a| a.len()).unwrap_or(0))
}

async fn banner(app: &AppSession) -> Result<(bool, String, String)> {
    let b = app.client.find(Locator::Id("banner")).await?;
    Ok((
        b.is_displayed().await?,
        b.text().await?,
        b.attr("data-unsynced").await?.unwrap_or_default(),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_banner_and_recovery() -> Result<()> {
    let ca = TestCa::new("till e2e CA");
    let dir = tempfile::tempdir()?;
    let roots = ca.write_cert(&dir.path().join("extra-roots.pem"));
    let servers = Servers {
        dir,
        sandbox_port: free_port(),
        hub_port: free_port(),
        leaf: ca.issue_loopback(),
        http: reqwest::Client::builder()
            .tls_certs_merge([reqwest::Certificate::from_pem(ca.cert_pem().as_bytes())?])
            .build()?,
    };
    let sandbox = servers.sandbox().await?;
    let hub = servers.hub().await?;
    assert!(
        sandbox.origin().starts_with("https://") && hub.base_url().starts_with("https://"),
        "{} {}",
        sandbox.origin(),
        hub.base_url()
    );
    let hub_key = hub
        .admin()
        .add_terminal(TERMINAL, Some("e2e"), NewKey::GenerateHmac)
        .await?
        .secret
        .context("a generated key")?
        .to_text();
    let b = sandbox.config().bkash.clone();
    let toml = format!(
        r#"
[terminal]
id = "{TERMINAL}"
[tls]
extra_roots = "{roots}"
[shop]
name = "Coffee Shop"
[khqr]
bakong_account_id = "coffee_shop@aclb"
merchant_name = "Coffee Shop"
[demo]
in_process = false
# Out of demo mode the Demo wallet exists only when asked for (and then the screens say so).
enabled = true
settle_after_ms = 300
[bkash]
base_url = "{bkash}"
[bakong]
base_url = "{bakong}"
fast_interval_ms = 300
min_request_gap_ms = 300
slow_interval_ms = 1000
[hub]
url = "{hub}"
backoff_base_ms = 300
backoff_max_ms = 1500
poll_interval_ms = 500
"#,
        bkash = sandbox.bkash_base_url(),
        bakong = sandbox.bakong_base_url(),
        hub = hub.base_url(),
        roots = roots.display(),
    );
    let env = vec![
        ("TILL_SECRET_BKASH_USERNAME".into(), b.username.clone()),
        ("TILL_SECRET_BKASH_PASSWORD".into(), b.password.clone()),
        ("TILL_SECRET_BKASH_APP_KEY".into(), b.app_key.clone()),
        ("TILL_SECRET_BKASH_APP_SECRET".into(), b.app_secret.clone()),
        ("TILL_SECRET_BAKONG_TOKEN".into(), sandbox.bakong_token()),
        ("TILL_SECRET_HUB_SECRET".into(), hub_key),
        (
            "TILL_KEYRING_SERVICE".into(),
            format!("till-e2e-{}", std::process::id()),
        ),
    ];
    let app = AppSession::start_with(
        "offline",
        AppOptions {
            env,
            till_toml: Some(toml),
        },
    )
    .await?;
    let result = within(Duration::from_secs(300), run(&app, &servers, sandbox, hub)).await;
    finish(app, "offline", result).await
}

async fn run(
    app: &AppSession,
    servers: &Servers,
    sandbox: till_sandbox::SandboxHandle,
    hub: till_hub::HubHandle,
) -> Result<()> {
    let sandbox_url = sandbox.origin().to_string();
    let hub_url = hub.base_url();
    app.switch_to_window_titled("Cashier").await?;
    let note = app.client.find(Locator::Id("demo-note")).await?;
    let note_text = note.text().await?;
    assert!(
        note.is_displayed().await? && note_text.contains("DEMO wallet"),
        "not demo mode, but the Demo wallet is on and the screen says so: {note_text:?}"
    );

    // Online: a KHQR paid, delivered to the hub.
    click(app, ".cur[data-currency='KHR']").await?;
    keys(app, "5000").await?;
    keys(app, &key(Key::F2)).await?;
    status_contains(app, "Waiting for customer", Duration::from_secs(10)).await?;
    app.switch_to_window_titled("Customer").await?;
    let first = displayed_khqr(app, None).await?;
    bank_app_pays_with(&servers.http, &sandbox_url, &first).await?;
    app.switch_to_window_titled("Cashier").await?;
    status_contains(app, "Paid", Duration::from_secs(10)).await?;
    wait_for(
        "the hub holding the first payment",
        Duration::from_secs(20),
        || async { Ok((hub_settlements(&servers.http, &hub_url).await? == 1).then_some(())) },
    )
    .await?;
    assert!(!banner(app).await?.0, "no banner while everything is up");

    // Over TLS, and every handshake the app made was accepted.
    assert_eq!(sandbox.tls_handshake_failures(), 0);

    // The hub stops: a sale still settles (the demo wallet needs no network),
    // and the banner counts what has not reached the office.
    hub.shutdown().await;
    keys(app, "9000").await?;
    keys(app, &key(Key::F3)).await?;
    status_contains(app, "Paid", Duration::from_secs(15)).await?;
    let (_, unsynced_text, _) = wait_for(
        "the unsynced count in the banner",
        Duration::from_secs(30),
        || async {
            let b = banner(app).await?;
            Ok((b.0 && b.1.contains("not yet sent to the office")).then_some(b))
        },
    )
    .await?;
    assert!(unsynced_text.contains("1 payment"), "{unsynced_text}");
    let unsynced_shot = app.screenshot("offline-unsynced-banner").await?;

    // The sandbox stops too: a KHQR shown now cannot be checked yet.
    sandbox.shutdown().await;
    keys(app, "7000").await?;
    keys(app, &key(Key::F2)).await?;
    status_contains(app, "Waiting", Duration::from_secs(10)).await?;
    app.switch_to_window_titled("Customer").await?;
    let second = displayed_khqr(app, Some(&first)).await?;
    app.switch_to_window_titled("Cashier").await?;
    let (_, offline_text, _) = wait_for("the offline banner", Duration::from_secs(30), || async {
        let b = banner(app).await?;
        Ok((b.0 && b.1.contains("offline")).then_some(b))
    })
    .await?;
    assert!(
        offline_text.contains("Bakong KHQR is offline"),
        "{offline_text}"
    );
    assert!(
        offline_text.contains("not yet sent"),
        "both problems at once: {offline_text}"
    );
    let offline_shot = app.screenshot("offline-banner").await?;

    // Back: same ports, same state. The customer pays the second code now.
    let sandbox = servers.sandbox().await?;
    let hub = servers.hub().await?;
    bank_app_pays_with(&servers.http, &sandbox_url, &second).await?;
    wait_for("the banner clearing", Duration::from_secs(60), || async {
        let b = banner(app).await?;
        Ok((!b.0 && b.2 == "0").then_some(()))
    })
    .await?;
    let status = status_contains(app, "Paid", Duration::from_secs(20)).await?;
    assert!(status.contains("៛ 7,000"), "{status}");
    let cleared_shot = app.screenshot("offline-cleared").await?;
    // Every settled payment reached the hub: the online one, the demo sale and
    // the code paid once Bakong was back.
    wait_for(
        "the hub holding all three payments",
        Duration::from_secs(30),
        || async { Ok((hub_settlements(&servers.http, &hub_url).await? == 3).then_some(())) },
    )
    .await?;
    assert_eq!(sandbox.tls_handshake_failures(), 0);
    sandbox.shutdown().await;
    hub.shutdown().await;

    println!(
        "offline: banner {offline_text:?}; unsynced {unsynced_text:?}; 3 settled, all at the hub\nscreenshots: offline {} · unsynced {} · cleared {}",
        offline_shot.display(),
        unsynced_shot.display(),
        cleared_shot.display()
    );
    Ok(())
}
