//! Going live over TLS: the real `till` binary, in production mode (its own shop, no demo),
//! charges bKash and Bakong at a sandbox serving HTTPS and delivers to a hub serving HTTPS,
//! both with certificates from a CA this test makes and the terminal trusts through
//! `[tls] extra_roots`. A terminal that does not trust the CA is refused in the handshake:
//! it says the certificate is not trusted, and nothing is sent, nothing settles.

use super::{bkash_secret_vars, customer_pays_on_bkash_page, Cli};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;
use till_hub::{HubConfig, NewKey, ServerTls};
use till_test_ca::TestCa;
use till_tests::free_port;

const TERMINAL: &str = "till-cli-tls";
const READ_TOKEN: &str = "cli-tls-read-token";
const SHOP_ACCOUNT: &str = "rahim_store@aclb";

/// A production profile (demo mode off) for `home`, with the sandbox's and hub's HTTPS
/// URLs, trusting `roots`.
fn production_vars(
    sandbox: &till_sandbox::SandboxHandle,
    hub_url: &str,
    roots: &std::path::Path,
    callback_port: u16,
    keyring: &str,
) -> Vec<(String, String)> {
    let pairs = [
        ("TILL_KEYRING_SERVICE", keyring.to_owned()),
        ("TILL__DEMO__IN_PROCESS", "false".to_owned()),
        ("TILL__TERMINAL__ID", TERMINAL.to_owned()),
        ("TILL__SHOP__NAME", "Rahim Store".to_owned()),
        (
            "TILL__KHQR__BAKONG_ACCOUNT_ID",
            "rahim_store@aclb".to_owned(),
        ),
        ("TILL__KHQR__MERCHANT_NAME", "Rahim Store".to_owned()),
        ("TILL__TLS__EXTRA_ROOTS", roots.display().to_string()),
        ("TILL__BKASH__BASE_URL", sandbox.bkash_base_url()),
        ("TILL__BAKONG__BASE_URL", sandbox.bakong_base_url()),
        (
            "TILL__BKASH__CALLBACK_URL",
            format!("http://127.0.0.1:{callback_port}/bkash/callback"),
        ),
        ("TILL__HUB__URL", hub_url.to_owned()),
        ("TILL_SECRET_BAKONG_TOKEN", sandbox.bakong_token()),
    ];
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .chain(bkash_secret_vars(&sandbox.config().bkash))
        .collect()
}

#[test]
fn going_live_over_https_and_an_untrusted_ca_sends_nothing() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let ca = TestCa::new("till CLI test CA");
    let leaf = ca.issue_loopback();
    let dir = tempfile::tempdir().unwrap();
    let roots = ca.write_cert(&dir.path().join("shop-ca.pem"));
    let mut sandbox_config = till_sandbox::Config {
        tls: Some(till_sandbox::TlsIdentity::new(
            leaf.cert_pem.clone(),
            leaf.key_pem.clone(),
        )),
        ..till_sandbox::Config::default()
    };
    // The shop's own Bakong account, which Bakong (and so the sandbox) must know.
    sandbox_config.bakong.accounts.push(SHOP_ACCOUNT.into());
    let sandbox = rt.block_on(till_sandbox::start(sandbox_config)).unwrap();
    let origin = sandbox.origin().to_owned();
    assert!(origin.starts_with("https://127.0.0.1:"), "{origin}");
    let mut hub_config = HubConfig::new(
        "127.0.0.1:0",
        dir.path().join("hub.db").to_string_lossy().into_owned(),
    );
    hub_config.read_tokens = vec![READ_TOKEN.into()];
    hub_config.tls = Some(
        ServerTls::from_pem(
            leaf.cert_pem.as_bytes(),
            leaf.key_pem.as_bytes(),
            "leaf",
            "key",
        )
        .unwrap(),
    );
    let hub = rt.block_on(till_hub::start(hub_config)).unwrap();
    let hub_url = hub.base_url();
    assert!(hub_url.starts_with("https://"), "{hub_url}");
    let hub_key = rt
        .block_on(
            hub.admin()
                .add_terminal(TERMINAL, Some("cli tls"), NewKey::GenerateHmac),
        )
        .unwrap()
        .secret
        .unwrap()
        .to_text();

    // The test's own hand (the customer's phone, the office) trusts the CA.
    let http = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .tls_certs_merge([reqwest::Certificate::from_pem(ca.cert_pem().as_bytes()).unwrap()])
        .build()
        .unwrap();
    let port = free_port();
    let mut vars = production_vars(
        &sandbox,
        &hub_url,
        &roots,
        port,
        &format!("till-cli-tls-{}", std::process::id()),
    );
    vars.push(("TILL_SECRET_HUB_SECRET".into(), hub_key));
    let cli = Cli {
        home: tempfile::tempdir().unwrap(),
        vars,
        secrets: vec![],
    };

    // The manager's Test connection first, over HTTPS, in words: all three answer.
    cli.set_pin(super::manager_pin::PIN);
    let (code, words, err) = cli.run_fd3(&["connect", "--pin-fd", "3"], &[super::manager_pin::PIN]);
    assert_eq!(code, 0, "{words}\n{err}");
    for who in [
        "bKash at https://",
        "Bakong at https://",
        "The hub at https://",
    ] {
        assert!(
            words
                .lines()
                .any(|l| l.starts_with("OK  ") && l.contains(who)),
            "{who}: {words}"
        );
    }
    assert!(words.contains("1 of 2 token calls this hour"), "{words}");
    // Again, bKash is not tested: the hour's last token call stays for payments.
    let (code, out, _) = cli.run_fd3(
        &["connect", "bkash", "--json", "--pin-fd", "3"],
        &[super::manager_pin::PIN],
    );
    assert_eq!(code, 1, "{out}");
    let again: Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(again["problem"]["code"], "token_budget_spent", "{again}");

    // bKash over HTTPS: the checkout page (at the sandbox's HTTPS origin) redirects to the
    // terminal's loopback callback.
    let mut child = cli
        .cmd(&["charge", "--provider", "bkash", "--amount", "310", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let step: Value = serde_json::from_str(&first).unwrap();
    let url = step["redirect_url"]
        .as_str()
        .unwrap_or_else(|| panic!("{first}"));
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let (_, back) = customer_pays_on_bkash_page(&http, &origin, url);
    assert_eq!(http.get(&back).send().unwrap().status(), 200);
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{rest:?}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bkash: Value = serde_json::from_str(rest.last().unwrap()).unwrap();
    assert_eq!(bkash["state"], "settled", "{bkash}");
    assert!(bkash["invoice"].as_str().unwrap().ends_with("-000001"));

    // Bakong over HTTPS: the test is the customer's bank app.
    let mut child = cli
        .cmd(&[
            "charge",
            "--provider",
            "bakong",
            "--amount",
            "42000",
            "--currency",
            "KHR",
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let step: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(step["kind"], "khqr", "{step}");
    let paid = http
        .post(format!("{origin}/sim/bakong/pay"))
        .json(&json!({"qr": step["khqr"], "fromAccountId": "cli@aclb"}))
        .send()
        .unwrap();
    assert!(paid.status().is_success(), "{}", paid.text().unwrap());
    let paid: Value = paid.json().unwrap();
    let rest: Vec<Value> = lines
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    assert!(child.wait().unwrap().success());
    let khqr = rest.last().unwrap();
    assert_eq!(khqr["state"], "settled", "{rest:?}");
    assert_eq!(khqr["references"]["transaction"], paid["hash"]);

    // The office over HTTPS: both settlements delivered and acknowledged.
    let sync = cli.json_lines(&["sync", "--json"]);
    assert_eq!(sync[0]["queue_length"], 0, "{}", sync[0]);
    let held: Value = http
        .get(format!("{hub_url}/v1/settlements?terminal={TERMINAL}"))
        .bearer_auth(READ_TOKEN)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let items = held["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{held}");
    assert_eq!(
        sandbox.tls_handshake_failures(),
        0,
        "every handshake accepted"
    );

    // A second terminal that trusts another CA: refused in the handshake, in words, and
    // the sandbox saw no request (no token granted, no payment created).
    let stranger = TestCa::new("a CA this shop never installed");
    let other_roots = stranger.write_cert(&dir.path().join("other-ca.pem"));
    let untrusting = Cli {
        home: tempfile::tempdir().unwrap(),
        vars: production_vars(
            &sandbox,
            &hub_url,
            &other_roots,
            free_port(),
            &format!("till-cli-tls-untrusting-{}", std::process::id()),
        ),
        secrets: vec![],
    };
    let token_calls = |v: &Value| v["bkash"]["tokenCalls"].as_array().unwrap().len();
    let payments = |v: &Value| v["bkash"]["payments"].as_array().unwrap().len();
    let ledger = || -> Value {
        http.get(format!("{origin}/sim/ledger"))
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    let before = ledger();
    let (code, out, err) =
        untrusting.run(&["charge", "--provider", "bkash", "--amount", "99", "--json"]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(err.contains("certificate is not trusted"), "{err}");
    assert!(sandbox.tls_handshake_failures() >= 1);
    let after = ledger();
    assert_eq!(token_calls(&after), token_calls(&before), "{after}");
    assert_eq!(payments(&after), payments(&before), "{after}");
    let listed = untrusting.json_lines(&["list", "--json"]);
    assert!(listed.iter().all(|p| p["state"] != "settled"), "{listed:?}");
    println!("till connect over HTTPS:\n{words}");
    println!(
        "over HTTPS: bKash {} and KHQR {} settled, 2 at the hub; untrusted CA: {}",
        bkash["invoice"],
        khqr["invoice"],
        err.lines().last().unwrap_or_default()
    );
    rt.block_on(sandbox.shutdown());
    rt.block_on(hub.shutdown());
}
