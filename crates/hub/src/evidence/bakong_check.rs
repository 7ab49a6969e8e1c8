//! Bakong's word on the settled KHQR payments, asked by the hub itself.
//!
//! Where the hub holds a Bakong token ([`BakongCheckConfig`]), it checks the
//! MD5 of every settled KHQR event with `till_bakong::BakongClient` (the
//! terminal's client; its wire shapes are not defined again here): in
//! requests of at most [`till_bakong::BULK_LIMIT`] (50) MD5s, one request
//! every [`BakongCheckConfig::request_gap`] at most (Bakong publishes no
//! quota: a setting), and keeps each answer (`bakong_checks`). A periodic
//! task ([`spawn`]) checks what is recent and not yet answered for good;
//! `till-hub evidence check --day D` ([`Checker::check_day`]) checks a
//! whole business day again.
//!
//! [`findings`] sets each answer beside the settlement: Bakong must confirm
//! the same amount (exact decimals), currency, receiving account (the payee
//! the terminal recorded, and one of the shop's accounts when they are
//! configured — a terminal could name its own account and its own code) and
//! transaction hash.

use super::records::{BakongCheck, CheckedOutcome, SettlementRef};
use super::{same_amount, EvidenceConfigError, Facts, Finding, FindingCode};
use crate::store::{Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use till_bakong::{BakongClient, BakongError, BakongSettings, CheckOutcome, BULK_LIMIT};
use url::Url;

/// Bakong's production API.
pub const BAKONG_PRODUCTION: &str = "https://api-bakong.nbc.gov.kh";

/// The environment variables of [`BakongCheckConfig::from_lookup`].
pub const ENV_TOKEN: &str = "TILL_HUB_BAKONG_TOKEN";
pub const ENV_TOKEN_FILE: &str = "TILL_HUB_BAKONG_TOKEN_FILE";
pub const ENV_BASE_URL: &str = "TILL_HUB_BAKONG_BASE_URL";
pub const ENV_RENEW_EMAIL: &str = "TILL_HUB_BAKONG_RENEW_EMAIL";
pub const ENV_ACCOUNTS: &str = "TILL_HUB_BAKONG_ACCOUNTS";
pub const ENV_INTERVAL_SECS: &str = "TILL_HUB_BAKONG_INTERVAL_SECS";
pub const ENV_REQUEST_GAP_MS: &str = "TILL_HUB_BAKONG_REQUEST_GAP_MS";
pub const ENV_BULK_SIZE: &str = "TILL_HUB_BAKONG_BULK_SIZE";
pub const ENV_RECHECK_DAYS: &str = "TILL_HUB_BAKONG_RECHECK_DAYS";
pub const ENV_PROVIDER: &str = "TILL_HUB_BAKONG_PROVIDER";

/// Checking KHQR settlements with Bakong.
#[derive(Clone)]
pub struct BakongCheckConfig {
    /// API root (production [`BAKONG_PRODUCTION`], SIT, or the sandbox's).
    pub base_url: Url,
    /// The Bearer token of a Bakong Open API account. Never printed.
    pub token: String,
    /// Registered e-mail to renew a refused token with (the renewed token
    /// lives in memory until the hub restarts).
    pub renew_email: Option<String>,
    /// The shop's receiving accounts; empty: only the terminal's recorded
    /// payee is compared.
    pub accounts: Vec<String>,
    /// The provider name terminals give KHQR settlements.
    pub provider: String,
    /// How often the periodic check runs.
    pub interval: Duration,
    /// The least time between two check requests.
    pub request_gap: Duration,
    /// MD5s per request, 1 to 50.
    pub bulk_size: usize,
    /// The periodic check looks at settlements received this long ago at most.
    pub recheck_window: Duration,
    /// Per request.
    pub timeout: Duration,
}

impl fmt::Debug for BakongCheckConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BakongCheckConfig")
            .field("base_url", &self.base_url.as_str())
            .field("token", &"***")
            .field("accounts", &self.accounts)
            .field("provider", &self.provider)
            .field("interval", &self.interval)
            .field("request_gap", &self.request_gap)
            .field("bulk_size", &self.bulk_size)
            .finish_non_exhaustive()
    }
}

impl BakongCheckConfig {
    /// Defaults: every 15 minutes, 3 s between requests (the pace public
    /// clients poll at), 50 per request, two days back.
    pub fn new(base_url: Url, token: String) -> BakongCheckConfig {
        BakongCheckConfig {
            base_url,
            token,
            renew_email: None,
            accounts: Vec::new(),
            provider: "bakong".into(),
            interval: Duration::from_secs(15 * 60),
            request_gap: Duration::from_secs(3),
            bulk_size: BULK_LIMIT,
            recheck_window: Duration::from_secs(2 * 24 * 3600),
            timeout: Duration::from_secs(15),
        }
    }

    /// From the environment; `None` without a token.
    ///
    /// - `TILL_HUB_BAKONG_TOKEN`, or `TILL_HUB_BAKONG_TOKEN_FILE` (mode 0600);
    /// - `TILL_HUB_BAKONG_BASE_URL` (default production);
    /// - `TILL_HUB_BAKONG_RENEW_EMAIL`, `TILL_HUB_BAKONG_ACCOUNTS` (comma-separated);
    /// - `TILL_HUB_BAKONG_INTERVAL_SECS` (900), `TILL_HUB_BAKONG_REQUEST_GAP_MS`
    ///   (3000), `TILL_HUB_BAKONG_BULK_SIZE` (50), `TILL_HUB_BAKONG_RECHECK_DAYS` (2);
    /// - `TILL_HUB_BAKONG_PROVIDER` (`bakong`).
    pub fn from_lookup(
        get: &impl Fn(&str) -> Option<String>,
    ) -> Result<Option<BakongCheckConfig>, EvidenceConfigError> {
        let token = match (get(ENV_TOKEN), get(ENV_TOKEN_FILE)) {
            (None, None) => return Ok(None),
            (Some(_), Some(_)) => {
                return Err(EvidenceConfigError::Twice {
                    var: ENV_TOKEN,
                    other: ENV_TOKEN_FILE,
                })
            }
            (Some(t), None) => t.trim().to_owned(),
            (None, Some(path)) => super::private_file(std::path::Path::new(&path))?,
        };
        let base = get(ENV_BASE_URL).unwrap_or_else(|| BAKONG_PRODUCTION.to_owned());
        let base_url = Url::parse(base.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| EvidenceConfigError::Invalid {
                var: ENV_BASE_URL,
                reason: format!("{base:?} is not an http(s) URL"),
            })?;
        let mut c = BakongCheckConfig::new(base_url, token);
        c.renew_email = get(ENV_RENEW_EMAIL).map(|e| e.trim().to_owned());
        if let Some(a) = get(ENV_ACCOUNTS) {
            c.accounts = super::list(&a);
        }
        if let Some(s) = super::parsed::<u64>(get, ENV_INTERVAL_SECS)? {
            c.interval = Duration::from_secs(s.max(1));
        }
        if let Some(ms) = super::parsed::<u64>(get, ENV_REQUEST_GAP_MS)? {
            c.request_gap = Duration::from_millis(ms);
        }
        if let Some(n) = super::parsed::<usize>(get, ENV_BULK_SIZE)? {
            c.bulk_size = n;
        }
        if let Some(d) = super::parsed::<u64>(get, ENV_RECHECK_DAYS)? {
            c.recheck_window = Duration::from_secs(d * 24 * 3600);
        }
        if let Some(p) = get(ENV_PROVIDER) {
            c.provider = p.trim().to_owned();
        }
        c.check().map_err(|reason| EvidenceConfigError::Invalid {
            var: if c.token.is_empty() {
                ENV_TOKEN
            } else {
                ENV_BULK_SIZE
            },
            reason,
        })?;
        Ok(Some(c))
    }

    /// What makes the settings unusable, in words.
    pub fn check(&self) -> Result<(), String> {
        if !(1..=BULK_LIMIT).contains(&self.bulk_size) {
            return Err(format!(
                "MD5s per request must be 1 to {BULK_LIMIT}, not {}",
                self.bulk_size
            ));
        }
        if self.token.is_empty() {
            return Err("the Bakong token is empty".into());
        }
        Ok(())
    }
}

/// What one check run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    /// Settlements looked at.
    pub settlements: usize,
    /// … without an MD5 (not checked).
    pub no_reference: usize,
    /// Distinct MD5s asked about.
    pub md5s: usize,
    /// HTTP requests sent to Bakong (every attempt, renewals included).
    pub requests: u64,
    pub paid: usize,
    pub not_found: usize,
    pub failed: usize,
    /// Why the run stopped early (what was answered before is kept).
    pub error: Option<String>,
}

/// What can stop a check run.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the Bakong client cannot be built: {0}")]
    Client(BakongError),
}

/// Checks settlements with Bakong; one client (and token) per hub.
pub struct Checker {
    client: BakongClient,
    cfg: BakongCheckConfig,
}

impl Checker {
    pub fn new(cfg: BakongCheckConfig) -> Result<Checker, CheckError> {
        cfg.check().map_err(|message| {
            CheckError::Client(BakongError::Config {
                message: message.clone(),
            })
        })?;
        let settings = BakongSettings {
            timeout: cfg.timeout,
            bulk_limit: cfg.bulk_size,
            renew_email: cfg.renew_email.clone(),
            ..BakongSettings::new(cfg.base_url.clone())
        };
        let client = BakongClient::new(
            settings,
            cfg.token.clone(),
            Arc::new(till_provider_http::NoCallLog),
        )
        .map_err(CheckError::Client)?;
        Ok(Checker { client, cfg })
    }

    /// HTTP requests this checker has sent.
    pub fn requests_made(&self) -> u64 {
        self.client.requests_made()
    }

    /// Check every settlement of `provider` booked on `day`, answered or not.
    pub async fn check_day(
        &self,
        store: &dyn Store,
        day: NaiveDate,
    ) -> Result<CheckReport, CheckError> {
        super::refs::catch_up(store).await?;
        let refs = store.refs_of_day(&self.cfg.provider, day).await?;
        self.check(store, refs).await
    }

    /// Check what was received within the recheck window and is not yet
    /// answered for good (no answer, or not found).
    pub async fn check_pending(
        &self,
        store: &dyn Store,
        now: DateTime<Utc>,
    ) -> Result<CheckReport, CheckError> {
        super::refs::catch_up(store).await?;
        let window = chrono::Duration::from_std(self.cfg.recheck_window)
            .unwrap_or(chrono::Duration::days(2));
        // Bounded per run; the next run takes the rest.
        let refs = store
            .refs_to_check(&self.cfg.provider, now - window, 5000)
            .await?;
        self.check(store, refs).await
    }

    async fn check(
        &self,
        store: &dyn Store,
        refs: Vec<SettlementRef>,
    ) -> Result<CheckReport, CheckError> {
        let before = self.client.requests_made();
        let mut report = CheckReport {
            settlements: refs.len(),
            ..CheckReport::default()
        };
        // MD5 → the settlement events naming it.
        let mut by_md5: Vec<(String, Vec<String>)> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for r in &refs {
            let Some(md5) = r.lookup_ref.clone() else {
                report.no_reference += 1;
                continue;
            };
            match index.get(&md5) {
                Some(&i) => by_md5[i].1.push(r.event_id.clone()),
                None => {
                    index.insert(md5.clone(), by_md5.len());
                    by_md5.push((md5, vec![r.event_id.clone()]));
                }
            }
        }
        report.md5s = by_md5.len();
        for (n, chunk) in by_md5.chunks(self.cfg.bulk_size).enumerate() {
            if n > 0 {
                tokio::time::sleep(self.cfg.request_gap).await;
            }
            let md5s: Vec<String> = chunk.iter().map(|(m, _)| m.clone()).collect();
            let answers = match self.client.check_by_md5_list(&md5s).await {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "Bakong check stopped");
                    report.error = Some(e.to_string());
                    break;
                }
            };
            let now = Utc::now();
            let mut checks = Vec::new();
            for ((md5, outcome), (_, events)) in answers.into_iter().zip(chunk) {
                let mut c = BakongCheck {
                    event_id: String::new(),
                    md5,
                    outcome: CheckedOutcome::NotFound,
                    hash: None,
                    amount: None,
                    currency: None,
                    to_account: None,
                    detail: None,
                    checked_at: now,
                };
                match outcome {
                    CheckOutcome::Paid(t) => {
                        report.paid += 1;
                        c.outcome = CheckedOutcome::Paid;
                        c.hash = Some(t.hash);
                        c.amount = Some(t.amount);
                        c.currency = Some(t.currency);
                        c.to_account = Some(t.to_account_id);
                    }
                    CheckOutcome::NotFound => report.not_found += 1,
                    CheckOutcome::Failed { code, message } => {
                        report.failed += 1;
                        c.outcome = CheckedOutcome::Failed;
                        c.detail = Some(format!("errorCode {code}: {message}"));
                    }
                }
                for e in events {
                    checks.push(BakongCheck {
                        event_id: e.clone(),
                        ..c.clone()
                    });
                }
            }
            store.put_bakong_checks(&checks).await?;
        }
        report.requests = self.client.requests_made() - before;
        Ok(report)
    }
}

/// The periodic check, every [`BakongCheckConfig::interval`] until `stop`.
pub(crate) fn spawn(
    store: Arc<dyn Store>,
    cfg: BakongCheckConfig,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let checker = match Checker::new(cfg.clone()) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "Bakong checks off");
            return;
        }
    };
    tracing::info!(base_url = %cfg.base_url, interval = ?cfg.interval, "checking KHQR settlements with Bakong");
    tokio::spawn(async move {
        loop {
            match checker.check_pending(&*store, Utc::now()).await {
                Ok(r) if r.md5s > 0 || r.error.is_some() => {
                    tracing::info!(md5s = r.md5s, paid = r.paid, not_found = r.not_found, failed = r.failed, requests = r.requests, error = ?r.error, "Bakong check");
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "Bakong check failed"),
            }
            tokio::select! {
                _ = stop.wait_for(|s| *s) => break,
                _ = tokio::time::sleep(cfg.interval) => {}
            }
        }
    });
}

/// The Bakong side of a day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BakongSummary {
    /// The day's KHQR settlements.
    pub settlements: u64,
    /// … confirmed by Bakong: same amount, currency, account (and hash).
    pub confirmed: u64,
    /// … not checked yet.
    pub unchecked: u64,
    /// … flagged.
    pub flagged: u64,
    /// … whose payee the terminal did not record (the account was compared
    /// with the shop's accounts only, if any are configured).
    pub payee_unknown: u64,
}

/// The Bakong findings of `day`, from the answers held.
pub async fn findings(
    store: &dyn Store,
    cfg: &BakongCheckConfig,
    day: NaiveDate,
) -> Result<(BakongSummary, Vec<Finding>), StoreError> {
    let refs = store.refs_of_day(&cfg.provider, day).await?;
    let ids: Vec<String> = refs.iter().map(|r| r.event_id.clone()).collect();
    let checks: HashMap<String, BakongCheck> = store
        .bakong_checks(&ids)
        .await?
        .into_iter()
        .map(|c| (c.event_id.clone(), c))
        .collect();
    let mut summary = BakongSummary {
        settlements: refs.len() as u64,
        ..BakongSummary::default()
    };
    let mut out = Vec::new();
    for r in &refs {
        let found = judge(r, checks.get(&r.event_id), &cfg.accounts);
        match found {
            Judged::Unchecked => summary.unchecked += 1,
            Judged::Confirmed { payee_unknown } => {
                summary.confirmed += 1;
                summary.payee_unknown += u64::from(payee_unknown);
            }
            Judged::Flagged {
                findings,
                payee_unknown,
            } => {
                summary.flagged += 1;
                summary.payee_unknown += u64::from(payee_unknown);
                out.extend(findings);
            }
        }
    }
    Ok((summary, out))
}

enum Judged {
    Unchecked,
    Confirmed {
        payee_unknown: bool,
    },
    Flagged {
        findings: Vec<Finding>,
        payee_unknown: bool,
    },
}

/// One settlement against Bakong's answer.
fn judge(r: &SettlementRef, check: Option<&BakongCheck>, accounts: &[String]) -> Judged {
    let finding = |code| {
        let mut f = Finding::about(code, r);
        f.reference = r.lookup_ref.clone();
        f
    };
    if r.lookup_ref.is_none() {
        return Judged::Flagged {
            findings: vec![finding(FindingCode::NoReference)],
            payee_unknown: false,
        };
    }
    let Some(c) = check else {
        return Judged::Unchecked;
    };
    let facts = Facts {
        amount: c.amount,
        currency: c.currency.clone(),
        account: c.to_account.clone(),
    };
    let with = |code| {
        let mut f = finding(code);
        f.provider = Some(facts.clone());
        f.at = Some(c.checked_at);
        f
    };
    let mut found = Vec::new();
    let mut payee_unknown = false;
    match c.outcome {
        CheckedOutcome::NotFound => found.push(with(FindingCode::BakongNotFound)),
        CheckedOutcome::Failed => {
            let mut f = with(FindingCode::BakongFailed);
            f.detail = c.detail.clone();
            found.push(f);
        }
        CheckedOutcome::Paid => {
            if !same_amount(c.amount, r.amount) {
                found.push(with(FindingCode::BakongAmountDiffers));
            }
            let upper = |s: &Option<String>| s.as_deref().map(str::to_ascii_uppercase);
            if upper(&c.currency) != upper(&r.currency) {
                found.push(with(FindingCode::BakongCurrencyDiffers));
            }
            match &r.payee {
                Some(p) if c.to_account.as_deref() != Some(p.as_str()) => {
                    found.push(with(FindingCode::BakongAccountDiffers))
                }
                Some(_) => {}
                None => payee_unknown = true,
            }
            if !accounts.is_empty() && !c.to_account.as_ref().is_some_and(|a| accounts.contains(a))
            {
                found.push(with(FindingCode::BakongNotShopAccount));
            }
            if let (Some(held), Some(said)) = (&r.transaction_ref, &c.hash) {
                if held != said {
                    let mut f = with(FindingCode::BakongHashDiffers);
                    f.detail = Some(format!("the terminal recorded {held}, Bakong says {said}"));
                    found.push(f);
                }
            }
        }
    }
    if found.is_empty() {
        Judged::Confirmed { payee_unknown }
    } else {
        Judged::Flagged {
            findings: found,
            payee_unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn settlement() -> SettlementRef {
        SettlementRef {
            event_id: "e1".into(),
            cursor: 1,
            terminal_id: "t1".into(),
            payment_id: Some("p1".into()),
            provider: "bakong".into(),
            business_day: NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(),
            amount: Some(rust_decimal::Decimal::from_str("2.50").unwrap()),
            currency: Some("USD".into()),
            lookup_ref: Some("md5".into()),
            transaction_ref: Some("hash".into()),
            payee: Some("shop@bank".into()),
            settled_at: Utc::now(),
            received_at: Utc::now(),
        }
    }

    fn paid(amount: &str, currency: &str, account: &str, hash: &str) -> BakongCheck {
        BakongCheck {
            event_id: "e1".into(),
            md5: "md5".into(),
            outcome: CheckedOutcome::Paid,
            hash: Some(hash.into()),
            amount: Some(rust_decimal::Decimal::from_str(amount).unwrap()),
            currency: Some(currency.into()),
            to_account: Some(account.into()),
            detail: None,
            checked_at: Utc::now(),
        }
    }

    fn codes(j: Judged) -> Vec<FindingCode> {
        match j {
            Judged::Flagged { findings, .. } => findings.into_iter().map(|f| f.code).collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn an_answer_confirms_only_the_same_facts() {
        let s = settlement();
        let shop = vec!["shop@bank".to_string()];
        assert!(matches!(
            judge(&s, Some(&paid("2.5", "USD", "shop@bank", "hash")), &shop),
            Judged::Confirmed {
                payee_unknown: false
            }
        ));
        assert!(matches!(judge(&s, None, &shop), Judged::Unchecked));
        assert_eq!(
            codes(judge(
                &s,
                Some(&paid("2.51", "usd", "shop@bank", "hash")),
                &shop
            )),
            [FindingCode::BakongAmountDiffers]
        );
        assert_eq!(
            codes(judge(
                &s,
                Some(&paid("2.5", "KHR", "shop@bank", "hash")),
                &[]
            )),
            [FindingCode::BakongCurrencyDiffers]
        );
        assert_eq!(
            codes(judge(
                &s,
                Some(&paid("2.5", "USD", "thief@bank", "h2")),
                &shop
            )),
            [
                FindingCode::BakongAccountDiffers,
                FindingCode::BakongNotShopAccount,
                FindingCode::BakongHashDiffers
            ]
        );
        // The terminal named its own account and made its own code: only the
        // shop's list catches it.
        let mut own = settlement();
        own.payee = Some("thief@bank".into());
        assert_eq!(
            codes(judge(
                &own,
                Some(&paid("2.5", "USD", "thief@bank", "hash")),
                &shop
            )),
            [FindingCode::BakongNotShopAccount]
        );
        let mut old = settlement();
        old.payee = None;
        assert!(matches!(
            judge(&old, Some(&paid("2.5", "USD", "shop@bank", "hash")), &[]),
            Judged::Confirmed {
                payee_unknown: true
            }
        ));
        let mut nf = paid("2.5", "USD", "shop@bank", "hash");
        nf.outcome = CheckedOutcome::NotFound;
        assert_eq!(
            codes(judge(&s, Some(&nf), &[])),
            [FindingCode::BakongNotFound]
        );
        let mut none = settlement();
        none.lookup_ref = None;
        assert_eq!(codes(judge(&none, None, &[])), [FindingCode::NoReference]);
    }

    #[test]
    fn settings_from_the_environment() {
        let get = |pairs: Vec<(&'static str, String)>| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
        };
        assert!(BakongCheckConfig::from_lookup(&get(vec![]))
            .unwrap()
            .is_none());
        let c = BakongCheckConfig::from_lookup(&get(vec![
            (ENV_TOKEN, "tok".into()),
            (ENV_ACCOUNTS, "a@b, c@d".into()),
            (ENV_BULK_SIZE, "20".into()),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(c.base_url.as_str(), "https://api-bakong.nbc.gov.kh/");
        assert_eq!(c.accounts, ["a@b", "c@d"]);
        assert_eq!(c.bulk_size, 20);
        assert!(!format!("{c:?}").contains("tok\""));
        for bad in [
            vec![(ENV_TOKEN, "t".to_string()), (ENV_BULK_SIZE, "51".into())],
            vec![(ENV_TOKEN, "t".to_string()), (ENV_TOKEN_FILE, "/x".into())],
            vec![
                (ENV_TOKEN, "t".to_string()),
                (ENV_BASE_URL, "ftp://x".into()),
            ],
            vec![(ENV_TOKEN_FILE, "/nonexistent/token".to_string())],
        ] {
            assert!(
                BakongCheckConfig::from_lookup(&get(bad.clone())).is_err(),
                "{bad:?}"
            );
        }
        // A token file others can read is refused.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "secret-token\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let file = || vec![(ENV_TOKEN_FILE, path.display().to_string())];
        assert!(matches!(
            BakongCheckConfig::from_lookup(&get(file())),
            Err(EvidenceConfigError::Readable { .. })
        ));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let c = BakongCheckConfig::from_lookup(&get(file()))
            .unwrap()
            .unwrap();
        assert_eq!(c.token, "secret-token");
    }
}
