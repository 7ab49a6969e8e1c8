//! The office dashboard over HTTP (no browser; `tests/dashboard` drives a
//! real one): sign-in, the lockout, sessions, CSRF, roles, the search and
//! the CSV, on SQLite and PostgreSQL. And `till-hub user …`.

use crate::both;
use crate::cli::hub_cli;
use crate::harness::{refunded, settled_amount, Backend, TestHub};
use std::collections::BTreeMap;
use std::time::Duration;
use till_hub::admin::token_hash;
use till_hub::office::model::Role;
use till_hub::office::users::Users;

const ADMIN_PW: &str = "correct horse battery";
const READER_PW: &str = "reader password 1";

/// A client that keeps cookies and follows no redirects, like a browser
/// that shows where it was sent.
struct Office {
    base: String,
    http: reqwest::Client,
    cookies: BTreeMap<String, String>,
}

struct Page {
    status: u16,
    location: Option<String>,
    set_cookies: Vec<String>,
    body: String,
}

impl Page {
    fn csrf(&self) -> String {
        let marker = r#"name="csrf" value=""#;
        let at = self.body.find(marker).expect("a form with a CSRF field") + marker.len();
        self.body[at..].split('"').next().unwrap().to_owned()
    }
}

/// A URL-encoded form body, as a browser sends it.
fn with_form(req: reqwest::RequestBuilder, form: &[(&str, &str)]) -> reqwest::RequestBuilder {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    req.header("content-type", "application/x-www-form-urlencoded")
        .body(body)
}

impl Office {
    fn new(hub: &TestHub) -> Office {
        Office {
            base: hub.hub.base_url(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let req = if self.cookies.is_empty() {
            req
        } else {
            req.header("cookie", self.cookie_header())
        };
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let location = resp
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned());
        let set_cookies: Vec<String> = resp
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        for c in &set_cookies {
            let parsed = cookie::Cookie::parse(c.clone()).unwrap();
            if parsed.max_age() == Some(cookie::time::Duration::ZERO) {
                self.cookies.remove(parsed.name());
            } else {
                self.cookies
                    .insert(parsed.name().to_owned(), parsed.value().to_owned());
            }
        }
        let body = resp.text().await.unwrap();
        Page {
            status,
            location,
            set_cookies,
            body,
        }
    }

    async fn get(&mut self, path: &str) -> Page {
        let req = self.http.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let req = self.http.post(format!("{}{path}", self.base));
        self.send(with_form(req, form)).await
    }

    async fn sign_in(&mut self, user: &str, password: &str) -> Page {
        let form = self.get("/office/signin").await;
        assert_eq!(form.status, 200, "{}", form.body);
        let csrf = form.csrf();
        self.post(
            "/office/signin",
            &[("csrf", &csrf), ("username", user), ("password", password)],
        )
        .await
    }

    fn session(&self) -> Option<&String> {
        self.cookies.get("__Host-till-office")
    }
}

async fn users(hub: &TestHub) -> Users {
    let users = Users::new(hub.hub.store());
    users
        .add("Rahim", ADMIN_PW, Role::Admin, None)
        .await
        .unwrap();
    users
        .add("karim", READER_PW, Role::Read, Some("bn"))
        .await
        .unwrap();
    users
}

async fn sign_in_lockout_and_sessions(backend: Backend) {
    let hub = TestHub::start_with(backend, |c| {
        c.office.max_failures = 3;
        c.office.lockout = chrono::Duration::seconds(4);
    })
    .await;
    let users = users(&hub).await;
    let mut o = Office::new(&hub);

    // Not signed in: sent to sign-in, and back afterwards.
    let p = o.get("/office/terminals").await;
    assert_eq!(p.status, 303);
    assert_eq!(
        p.location.as_deref(),
        Some("/office/signin?next=%2Foffice%2Fterminals")
    );

    // Wrong passwords: the same answer as an unknown name.
    let p = o.sign_in("rahim", "not the password").await;
    assert_eq!(p.status, 401, "{}", p.body);
    assert!(p.body.contains(r#"data-notice="wrong""#), "{}", p.body);
    let p = o.sign_in("nobody", "not the password").await;
    assert_eq!(p.status, 401);
    assert!(p.body.contains(r#"data-notice="wrong""#));
    assert!(o.session().is_none());
    o.sign_in("RAHIM", "still not it").await;
    // The third wrong one locks; the right password is refused while locked.
    let p = o.sign_in("rahim", "wrong again").await;
    assert_eq!(p.status, 429, "{}", p.body);
    assert!(p.body.contains(r#"data-notice="locked""#), "{}", p.body);
    let p = o.sign_in("rahim", ADMIN_PW).await;
    assert_eq!(
        p.status, 429,
        "a right password during the lockout is refused"
    );
    assert!(o.session().is_none());
    assert!(users.list().await.unwrap()[1].locked_until.is_some());
    // Time unlocks.
    tokio::time::sleep(Duration::from_millis(4100)).await;
    let p = o.sign_in("Rahim", ADMIN_PW).await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(p.location.as_deref(), Some("/office/"));
    let set = p
        .set_cookies
        .iter()
        .find(|c| c.starts_with("__Host-till-office="))
        .expect("a session cookie");
    for flag in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(flag), "{set}");
    }
    let token = o.session().unwrap().clone();
    // Only the token's hash is stored.
    let store = hub.hub.store();
    let idle = chrono::Duration::hours(1);
    let now = chrono::Utc::now();
    assert!(store
        .office_session(&token_hash(&token), now, idle)
        .await
        .unwrap()
        .is_some());
    assert!(store
        .office_session(&token, now, idle)
        .await
        .unwrap()
        .is_none());
    let me = users.list().await.unwrap();
    assert!(me[1].last_sign_in_at.is_some() && me[1].locked_until.is_none());

    let p = o.get("/office/").await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("rahim"));

    // Sign-out ends the session at the hub, not only in this browser.
    let csrf = p.csrf();
    let p = o.post("/office/signout", &[("csrf", &csrf)]).await;
    assert_eq!(p.status, 303);
    assert!(o.session().is_none());
    o.cookies.insert("__Host-till-office".into(), token.clone());
    let p = o.get("/office/").await;
    assert_eq!(p.status, 303);
    assert!(p.location.unwrap().starts_with("/office/signin?ended=1"));

    // A new password or disabling the user ends their sessions.
    o.cookies.clear();
    assert_eq!(o.sign_in("rahim", ADMIN_PW).await.status, 303);
    users
        .set_password("rahim", "a new long password")
        .await
        .unwrap();
    assert_eq!(o.get("/office/").await.status, 303);
    o.cookies.clear();
    assert_eq!(o.sign_in("rahim", ADMIN_PW).await.status, 401);
    assert_eq!(o.sign_in("rahim", "a new long password").await.status, 303);
    users.disable("rahim").await.unwrap();
    assert_eq!(o.get("/office/").await.status, 303);
    o.cookies.clear();
    let p = o.sign_in("rahim", "a new long password").await;
    assert_eq!(p.status, 403);
    assert!(p.body.contains(r#"data-notice="disabled""#));
    users.enable("rahim").await.unwrap();
    assert_eq!(o.sign_in("rahim", "a new long password").await.status, 303);
    hub.stop().await;
}
both!(sign_in_lockout_and_sessions);

async fn an_idle_session_ends(backend: Backend) {
    let hub = TestHub::start_with(backend, |c| {
        c.office.session_idle = chrono::Duration::seconds(3);
    })
    .await;
    users(&hub).await;
    let mut o = Office::new(&hub);
    assert_eq!(o.sign_in("rahim", ADMIN_PW).await.status, 303);
    assert_eq!(o.get("/office/").await.status, 200);
    tokio::time::sleep(Duration::from_millis(3200)).await;
    let p = o.get("/office/days").await;
    assert_eq!(p.status, 303);
    assert!(p.location.unwrap().starts_with("/office/signin?ended=1"));
    hub.stop().await;
}
both!(an_idle_session_ends);

async fn forms_need_their_csrf_token_and_admin_pages_an_admin(backend: Backend) {
    let hub = TestHub::start(backend).await;
    users(&hub).await;
    hub.terminal("till-01").await;
    let mut admin = Office::new(&hub);
    assert_eq!(admin.sign_in("rahim", ADMIN_PW).await.status, 303);
    let page = admin.get("/office/admin/terminals").await;
    assert_eq!(page.status, 200);
    let csrf = page.csrf();

    // No token, a wrong one, another site's: refused, nothing done.
    let disable = "/office/admin/terminals/till-01/disable";
    for form in [vec![], vec![("csrf", "forged")]] {
        let p = admin.post(disable, &form).await;
        assert_eq!(p.status, 403, "{}", p.body);
    }
    let req = admin
        .http
        .post(format!("{}{disable}", admin.base))
        .header("sec-fetch-site", "cross-site");
    let req = with_form(req, &[("csrf", csrf.as_str())]);
    assert_eq!(admin.send(req).await.status, 403);
    // The sign-in form's token is no session's token.
    let p = admin
        .post(
            "/office/signin",
            &[
                ("csrf", &csrf),
                ("username", "rahim"),
                ("password", ADMIN_PW),
            ],
        )
        .await;
    assert_eq!(p.status, 403);
    // A browser that dropped the sign-in page's cookie is told why.
    let mut cookieless = Office::new(&hub);
    let p = cookieless
        .post(
            "/office/signin",
            &[("csrf", "x"), ("username", "rahim"), ("password", ADMIN_PW)],
        )
        .await;
    assert_eq!(p.status, 403);
    assert!(p.body.contains("HTTPS"), "{}", p.body);
    let t = &hub.hub.store().terminals().await.unwrap()[0];
    assert_eq!(t.status.as_str(), "active");

    // With it: done.
    let p = admin.post(disable, &[("csrf", &csrf)]).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let t = &hub.hub.store().terminals().await.unwrap()[0];
    assert_eq!(t.status.as_str(), "disabled");
    let p = admin.get(&p.location.unwrap()).await;
    assert!(p.body.contains(r#"data-notice="disabled""#), "{}", p.body);

    // A key made here is shown once, and works.
    let p = admin
        .post(
            "/office/admin/terminals",
            &[
                ("csrf", &csrf),
                ("id", "till-02"),
                ("name", "Counter 2"),
                ("key", "ed25519"),
            ],
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    let at = p.body.find(r#"<code id="secret">"#).unwrap() + r#"<code id="secret">"#.len();
    let secret = &p.body[at..at + p.body[at..].find('<').unwrap()];
    assert!(secret.starts_with("whsk_"), "{secret}");
    let signer = till_sync_proto::Signer::new(vec![secret.parse().unwrap()]).unwrap();
    let sent = hub
        .send(
            &signer,
            "evt_office_1",
            &crate::harness::settled("till-02", 1),
        )
        .await;
    assert_eq!(sent.status, 200, "{}", sent.json);
    let p = admin.get("/office/admin/terminals").await;
    assert!(!p.body.contains(secret), "the key is never shown again");
    // Refusals are words, not errors.
    let p = admin
        .post(
            "/office/admin/terminals",
            &[("csrf", &csrf), ("id", "till-02"), ("key", "ed25519")],
        )
        .await;
    assert_eq!(p.status, 409);
    assert!(p.body.contains(r#"data-notice="refused""#));
    let p = admin
        .post(
            "/office/admin/terminals/till-02/retire",
            &[("csrf", &csrf), ("key_id", "")],
        )
        .await;
    assert_eq!(p.status, 409, "the only key cannot be retired");

    // A read-only user: no admin page, no admin form, even with a valid token.
    let mut reader = Office::new(&hub);
    assert_eq!(reader.sign_in("karim", READER_PW).await.status, 303);
    let home = reader.get("/office/").await;
    assert_eq!(home.status, 200);
    assert!(!home.body.contains("/office/admin/"), "no admin link");
    assert!(home.body.contains(r#"lang="bn""#), "karim reads Bangla");
    let p = reader.get("/office/admin/terminals").await;
    assert_eq!(p.status, 403);
    let reader_csrf = home.csrf();
    let p = reader
        .post(
            "/office/admin/terminals/till-01/enable",
            &[("csrf", &reader_csrf)],
        )
        .await;
    assert_eq!(p.status, 403);
    assert_eq!(
        hub.hub.store().terminals().await.unwrap()[0]
            .status
            .as_str(),
        "disabled"
    );
    // Their own language they may change.
    let p = reader
        .post(
            "/office/language",
            &[("csrf", &reader_csrf), ("language", "km")],
        )
        .await;
    assert_eq!(p.status, 303);
    assert!(reader.get("/office/").await.body.contains(r#"lang="km""#));
    hub.stop().await;
}
both!(forms_need_their_csrf_token_and_admin_pages_an_admin);

async fn search_and_csv(backend: Backend) {
    let hub = TestHub::start(backend).await;
    users(&hub).await;
    let signer = hub.terminal("till-01").await;
    let a = settled_amount("till-01", 1, "bkash", "12.50", "BDT");
    let b = settled_amount("till-01", 2, "bakong", "4000", "KHR");
    let r = refunded("till-01", 3, &a, "2.50", "2.50");
    for (i, e) in [&a, &b, &r].into_iter().enumerate() {
        assert_eq!(hub.send(&signer, &format!("evt_s{i}"), e).await.status, 200);
    }
    let mut o = Office::new(&hub);
    assert_eq!(o.sign_in("rahim", ADMIN_PW).await.status, 303);
    let found = |body: &str| {
        body.match_indices("data-event=\"")
            .map(|(i, m)| body[i + m.len()..].split('"').next().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    for (query, want) in [
        ("q=till-p1", vec!["evt_s0", "evt_s2"]),
        ("q=bfmp2", vec!["evt_s1"]),
        ("q=TRp1", vec!["evt_s0", "evt_s2"]),
        ("q=RF3", vec!["evt_s2"]),
        ("amount=12.5", vec!["evt_s0", "evt_s2"]),
        ("amount=2.50", vec!["evt_s2"]),
        ("amount=4,000", vec!["evt_s1"]),
        ("q=%25", vec![]),
        ("terminal=till-01&day=2026-11-22&q=p2", vec!["evt_s1"]),
    ] {
        let p = o.get(&format!("/office/search?{query}")).await;
        assert_eq!(p.status, 200, "{query}");
        assert_eq!(found(&p.body), want, "{query}");
    }
    let p = o.get("/office/search?amount=twelve").await;
    assert!(p.body.contains(r#"data-notice="bad""#));

    let p = o.get("/office/export.csv?day=2026-11-22").await;
    assert_eq!(p.status, 200);
    let mut rd = csv::Reader::from_reader(p.body.as_bytes());
    let header: Vec<String> = rd.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(header, till_hub::office::CSV_HEADER);
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert_eq!(&rows[0][col("invoice")], "till-p1");
    assert_eq!(&rows[0][col("amount")], "12.50");
    assert_eq!(&rows[1][col("currency")], "KHR");
    assert_eq!(&rows[2][col("type")], "payment.refunded");
    assert_eq!(&rows[2][col("refund_amount")], "2.50");
    assert_eq!(&rows[2][col("transaction")], "BFMp1");
    hub.stop().await;
}
both!(search_and_csv);

#[test]
fn user_commands() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("hub.db").display());
    let with_stdin = |args: &[&str], stdin: &str| {
        use std::io::Write;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_till-hub"))
            .arg("--database")
            .arg(&db)
            .args(args)
            .env_remove("TILL_HUB_DATABASE")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let add = [
        "user",
        "add",
        "Amina",
        "--role",
        "admin",
        "--password-stdin",
    ];
    let (ok, err) = with_stdin(&add, "too short\n");
    assert!(!ok);
    assert!(err.contains("at least 10 characters"), "{err}");
    let (ok, err) = with_stdin(&add, "a long enough password\n");
    assert!(ok, "{err}");
    let (ok, err) = with_stdin(&add, "a long enough password\n");
    assert!(!ok && err.contains("already exists"), "{err}");
    let (ok, err) = with_stdin(
        &["user", "add", "x", "--role", "boss", "--password-stdin"],
        "",
    );
    assert!(!ok && err.contains("read or admin"), "{err}");
    let (ok, err) = with_stdin(
        &[
            "user",
            "add",
            "y",
            "--role",
            "read",
            "--language",
            "fr",
            "--password-stdin",
        ],
        "a long enough password\n",
    );
    assert!(!ok && err.contains("en, bn or km"), "{err}");
    // Without a terminal and without --password-stdin it says how.
    let (ok, err) = with_stdin(&["user", "add", "z", "--role", "read"], "");
    assert!(!ok && err.contains("--password-stdin"), "{err}");

    let (ok, out, err) = hub_cli(&db, &["user", "list"]);
    assert!(ok, "{err}");
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["username"], "amina");
    assert_eq!(list[0]["role"], "admin");
    assert!(!out.contains("argon2"), "no hash listed: {out}");

    let (ok, _, err) = hub_cli(&db, &["user", "disable", "amina"]);
    assert!(ok, "{err}");
    let (_, out, _) = hub_cli(&db, &["user", "list"]);
    assert!(out.contains(r#""status": "disabled""#), "{out}");
    let (ok, _, err) = hub_cli(&db, &["user", "disable", "nobody"]);
    assert!(!ok && err.contains("no user is named"), "{err}");
    let (ok, _, _) = hub_cli(&db, &["user", "enable", "amina"]);
    assert!(ok);
    let (ok, err) = with_stdin(
        &["user", "passwd", "amina", "--password-stdin"],
        "another long password\n",
    );
    assert!(ok, "{err}");
    // The stored hash is Argon2id and checks the new password.
    let conn = rusqlite::Connection::open(dir.path().join("hub.db")).unwrap();
    let hash: String = conn
        .query_row(
            "SELECT password_hash FROM office_users WHERE username = 'amina'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(till_hub::office::users::verify_password(
        &hash,
        "another long password"
    ));
}

/// The day view sets the providers' own word beside the terminals': a bKash sale whose IPN
/// (from the real sandbox, signed and verified) says another amount than the terminal's
/// settlement is listed under "Provider evidence" with its trxID and the terminal's
/// amount; a hub without evidence checks says it has none.
async fn the_day_view_shows_the_providers_evidence(backend: Backend) {
    let env = crate::ipn::ipn_env(backend).await;
    let trx = env.pay("80", "INV-E").await;
    let day = env.notified(&trx).await;
    env.settle(1, &trx, "85.00", day).await;
    users(&env.hub).await;
    let mut o = Office::new(&env.hub);
    assert_eq!(o.sign_in("rahim", ADMIN_PW).await.status, 303);
    let page = o.get(&format!("/office/days?day={day}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let section = &page.body[page
        .body
        .find(r#"id="provider-evidence""#)
        .expect("a Provider evidence section")..];
    assert!(section.contains(r#"data-provider="bkash""#), "{section}");
    assert!(section.contains(&trx), "the trxID is listed: {section}");
    assert!(
        section.contains("85.00"),
        "the terminal's amount: {section}"
    );
    assert!(!section.contains(r#"data-evidence="none""#), "{section}");
    env.stop().await;

    // Without evidence settings: the section says there is none.
    let hub = TestHub::start(backend).await;
    users(&hub).await;
    let mut o = Office::new(&hub);
    assert_eq!(o.sign_in("rahim", ADMIN_PW).await.status, 303);
    let page = o.get(&format!("/office/days?day={day}")).await;
    assert!(
        page.body.contains(r#"data-evidence="none""#),
        "{}",
        page.body
    );
}
both!(the_day_view_shows_the_providers_evidence);
