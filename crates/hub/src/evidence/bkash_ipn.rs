//! `POST /v1/ipn/bkash`: bKash's Instant Payment Notification, delivered by
//! Amazon SNS (spec §16), and what it says beside the terminals' bKash
//! settlements.
//!
//! A message is taken in this order, each step before the next is tried:
//!
//! 1. the body (≤ 64 KiB) is an SNS envelope of a known `Type` (400);
//! 2. its `TopicArn` is one of the shop's topics (403): any AWS account can
//!    publish validly signed SNS messages, so the signature alone proves
//!    nothing about bKash;
//! 3. its `SignatureVersion` is accepted (400);
//! 4. its `SigningCertURL` is `https` (plain `http` only when allowed, for
//!    loopback tests), names no credentials, ends in `.pem` and its host
//!    matches an allowed pattern — default SNS's own,
//!    `sns.<region>.amazonaws.com(.cn)` (400, and nothing is fetched);
//! 5. the certificate is fetched (no redirects, 10 s, ≤ 64 KiB; cached per
//!    URL, a failure for a minute) (502 when it cannot be);
//! 6. the certificate is valid now and the signature verifies (401);
//! 7. then: a `Notification` is stored once by its `MessageId` (a replay is
//!    answered `duplicate`); a `SubscriptionConfirmation` is confirmed by a
//!    GET of its `SubscribeURL` under the same host rule; an
//!    `UnsubscribeConfirmation` is recorded (and logged: no more IPNs).
//!
//! A signed notification whose inner notice cannot be read is stored all the
//! same (it is bKash's word) with its problem, and shown as a finding.
//!
//! Unsure points of the spec are settings ([`IpnConfig`]): the accepted
//! signature versions (bKash's samples know only `"1"`, SNS also signs
//! `"2"`), the host patterns, the grace period before a missing or orphan
//! IPN is flagged, the provider name terminals give bKash.

use super::records::{IpnMessage, SettlementRef, SubscriptionRecord};
use super::{same_amount, EvidenceConfigError, Facts, Finding, FindingCode};
use crate::error::ApiError;
use crate::server::Hub;
use crate::store::{Store, StoreError};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use regex::Regex;
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use till_bkash::ipn::{
    bangladesh_time, Envelope, IpnError, MessageKind, SigningCertificate, MESSAGE_TYPE_HEADER,
};
use till_sync_proto::ErrorCode;
use url::Url;

/// SNS's signing-certificate hosts (spec §16.3, as bKash's samples check them).
pub const SNS_HOST_PATTERN: &str = r"sns\.[a-zA-Z0-9\-]{3,}\.amazonaws\.com(\.cn)?";

/// Largest IPN body.
pub const BODY_LIMIT: usize = 64 * 1024;
/// Largest certificate body.
const CERT_LIMIT: usize = 64 * 1024;
/// Certificates kept.
const CACHE_SIZE: usize = 64;
/// How long a fetched certificate is used before it is fetched again (SNS
/// names a new URL when it rotates its key).
const CACHE_TTL: Duration = Duration::from_secs(24 * 3600);
/// How long a URL that failed is not asked again.
const FAILURE_TTL: Duration = Duration::from_secs(60);

/// The environment variables of [`IpnConfig::from_lookup`].
pub const ENV_TOPIC_ARNS: &str = "TILL_HUB_IPN_TOPIC_ARNS";
pub const ENV_HOSTS: &str = "TILL_HUB_IPN_CERT_HOSTS";
pub const ENV_ALLOW_HTTP: &str = "TILL_HUB_IPN_ALLOW_HTTP";
pub const ENV_SIGNATURE_VERSIONS: &str = "TILL_HUB_IPN_SIGNATURE_VERSIONS";
pub const ENV_GRACE_SECS: &str = "TILL_HUB_IPN_GRACE_SECS";
pub const ENV_PROVIDER: &str = "TILL_HUB_IPN_PROVIDER";

/// Receiving bKash's IPN.
#[derive(Debug, Clone)]
pub struct IpnConfig {
    /// The shop's SNS topics (`arn:aws:sns:ap-southeast-1:<account>:bpt_<wallet>`,
    /// the shape is single-source): messages of any other topic are refused.
    pub topic_arns: Vec<String>,
    /// Regular expressions a certificate's (and a `SubscribeURL`'s) host must
    /// match in full. Default: [`SNS_HOST_PATTERN`].
    pub hosts: Vec<String>,
    /// Accept `http://` URLs too (loopback tests only).
    pub allow_http: bool,
    /// The `SignatureVersion`s accepted: `"1"` (SHA-1) and `"2"` (SHA-256).
    pub signature_versions: Vec<String>,
    /// How long after a settlement its IPN may come, and after an IPN its
    /// settlement (a terminal syncs when it can), before either is flagged.
    pub grace: Duration,
    /// The provider name terminals give bKash settlements.
    pub provider: String,
    /// Per fetch (certificate, subscription confirmation).
    pub fetch_timeout: Duration,
}

impl IpnConfig {
    /// Defaults for the given topics.
    pub fn new(topic_arns: Vec<String>) -> IpnConfig {
        IpnConfig {
            topic_arns,
            hosts: vec![SNS_HOST_PATTERN.to_owned()],
            allow_http: false,
            signature_versions: vec!["1".into(), "2".into()],
            grace: Duration::from_secs(30 * 60),
            provider: "bkash".into(),
            fetch_timeout: Duration::from_secs(10),
        }
    }

    /// From the environment; `None` when [`ENV_TOPIC_ARNS`] is not set.
    ///
    /// - `TILL_HUB_IPN_TOPIC_ARNS`: the shop's topics, comma-separated (turns IPN on);
    /// - `TILL_HUB_IPN_CERT_HOSTS`: host patterns, space-separated (default SNS's);
    /// - `TILL_HUB_IPN_ALLOW_HTTP`: `true` to accept `http://` URLs (tests);
    /// - `TILL_HUB_IPN_SIGNATURE_VERSIONS`: default `1,2`;
    /// - `TILL_HUB_IPN_GRACE_SECS`: default 1800;
    /// - `TILL_HUB_IPN_PROVIDER`: default `bkash`.
    pub fn from_lookup(
        get: &impl Fn(&str) -> Option<String>,
    ) -> Result<Option<IpnConfig>, EvidenceConfigError> {
        let Some(topics) = get(ENV_TOPIC_ARNS) else {
            return Ok(None);
        };
        let mut c = IpnConfig::new(super::list(&topics));
        if let Some(h) = get(ENV_HOSTS) {
            c.hosts = h.split_whitespace().map(String::from).collect();
        }
        if let Some(v) = super::parsed::<bool>(get, ENV_ALLOW_HTTP)? {
            c.allow_http = v;
        }
        if let Some(v) = get(ENV_SIGNATURE_VERSIONS) {
            c.signature_versions = super::list(&v);
        }
        if let Some(s) = super::parsed::<u64>(get, ENV_GRACE_SECS)? {
            c.grace = Duration::from_secs(s);
        }
        if let Some(p) = get(ENV_PROVIDER) {
            c.provider = p.trim().to_owned();
        }
        c.check().map_err(|reason| EvidenceConfigError::Invalid {
            var: ENV_TOPIC_ARNS,
            reason,
        })?;
        Ok(Some(c))
    }

    /// What makes the settings unusable, in words.
    pub fn check(&self) -> Result<(), String> {
        if self.topic_arns.is_empty() {
            return Err("at least one topic ARN is needed".into());
        }
        if self.hosts.is_empty() {
            return Err("at least one certificate host pattern is needed".into());
        }
        for h in &self.hosts {
            Regex::new(&anchored(h)).map_err(|e| format!("host pattern {h:?}: {e}"))?;
        }
        if let Some(v) = self
            .signature_versions
            .iter()
            .find(|v| !matches!(v.as_str(), "1" | "2"))
        {
            return Err(format!("signature version {v:?} (known: 1, 2)"));
        }
        Ok(())
    }
}

fn anchored(pattern: &str) -> String {
    format!("^(?:{pattern})$")
}

/// Why a URL a message names is not fetched.
fn url_allowed(hosts: &[Regex], allow_http: bool, text: &str, pem: bool) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| format!("not a URL ({e})"))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_http => {}
        s => return Err(format!("scheme {s:?} is not allowed")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("a URL with credentials is not allowed".into());
    }
    let host = url.host_str().unwrap_or_default();
    if !hosts.iter().any(|h| h.is_match(host)) {
        return Err(format!("host {host:?} matches no allowed pattern"));
    }
    if pem && !url.path().ends_with(".pem") {
        return Err("the certificate's path does not end in .pem".into());
    }
    Ok(url)
}

enum Cached {
    Good {
        cert: Arc<SigningCertificate>,
        fetched: Instant,
    },
    Failed {
        at: Instant,
        reason: String,
    },
}

/// The receiver's state: settings, the fetching client, the certificates.
pub(crate) struct Receiver {
    cfg: IpnConfig,
    hosts: Vec<Regex>,
    http: reqwest::Client,
    certs: Mutex<HashMap<String, Cached>>,
}

impl Receiver {
    fn new(cfg: IpnConfig) -> Result<Receiver, String> {
        cfg.check()?;
        let hosts = cfg
            .hosts
            .iter()
            .map(|h| Regex::new(&anchored(h)).map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()?;
        // Never follow a redirect: its target would escape the host rule.
        let http = till_provider_http::client_builder(&till_provider_http::ExtraRoots::none())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(cfg.fetch_timeout)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Receiver {
            cfg,
            hosts,
            http,
            certs: Mutex::new(HashMap::new()),
        })
    }

    fn allowed(&self, text: &str, pem: bool) -> Result<Url, String> {
        url_allowed(&self.hosts, self.cfg.allow_http, text, pem)
    }

    /// The certificate at `url` (already allowed), from the cache or fetched.
    async fn certificate(&self, url: &Url) -> Result<Arc<SigningCertificate>, String> {
        let key = url.as_str().to_owned();
        {
            let cache = self.certs.lock().expect("cert cache");
            match cache.get(&key) {
                Some(Cached::Good { cert, fetched }) if fetched.elapsed() < CACHE_TTL => {
                    return Ok(cert.clone())
                }
                Some(Cached::Failed { at, reason }) if at.elapsed() < FAILURE_TTL => {
                    return Err(reason.clone())
                }
                _ => {}
            }
        }
        let got = self.fetch(url).await;
        let mut cache = self.certs.lock().expect("cert cache");
        if cache.len() >= CACHE_SIZE {
            // Bounded: forget the oldest entry.
            let oldest = cache
                .iter()
                .min_by_key(|(_, c)| match c {
                    Cached::Good { fetched, .. } => *fetched,
                    Cached::Failed { at, .. } => *at,
                })
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                cache.remove(&k);
            }
        }
        match got {
            Ok(cert) => {
                let cert = Arc::new(cert);
                cache.insert(
                    key,
                    Cached::Good {
                        cert: cert.clone(),
                        fetched: Instant::now(),
                    },
                );
                Ok(cert)
            }
            Err(reason) => {
                cache.insert(
                    key,
                    Cached::Failed {
                        at: Instant::now(),
                        reason: reason.clone(),
                    },
                );
                Err(reason)
            }
        }
    }

    async fn fetch(&self, url: &Url) -> Result<SigningCertificate, String> {
        tracing::info!(url = %url, "fetching an SNS signing certificate");
        let body = self.get_limited(url, CERT_LIMIT).await?;
        SigningCertificate::from_pem(&body).map_err(|e| e.to_string())
    }

    /// GET `url`; a 2xx answer's body, at most `limit` bytes.
    async fn get_limited(&self, url: &Url, limit: usize) -> Result<Vec<u8>, String> {
        let mut resp = self
            .http
            .get(url.clone())
            .send()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        if !resp.status().is_success() {
            return Err(format!("GET {url}: HTTP {}", resp.status()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| format!("GET {url}: {e}"))? {
            if body.len() + chunk.len() > limit {
                return Err(format!("GET {url}: more than {limit} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// `POST /v1/ipn/bkash`, when IPN is configured (and its settings usable).
pub(crate) fn routes(hub: &Hub) -> Router<Hub> {
    let Some(cfg) = hub.config.evidence.ipn.clone() else {
        return Router::new();
    };
    let receiver = match Receiver::new(cfg) {
        Ok(r) => Arc::new(r),
        Err(e) => {
            tracing::error!(error = %e, "bKash IPN off: its settings cannot be used");
            return Router::new();
        }
    };
    tracing::info!(topics = ?receiver.cfg.topic_arns, "receiving bKash IPN at /v1/ipn/bkash");
    Router::new()
        .route("/v1/ipn/bkash", post(receive))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(Extension(receiver))
}

fn refuse(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Response {
    let message = message.into();
    tracing::warn!(status = status.as_u16(), %message, "bKash IPN refused");
    ApiError::new(status, code, message).into_response()
}

fn answer(status: &str) -> Response {
    Json(json!({ "status": status })).into_response()
}

/// `POST /v1/ipn/bkash`
async fn receive(
    State(hub): State<Hub>,
    Extension(rx): Extension<Arc<Receiver>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(e) => {
            return refuse(
                e.status(),
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ErrorCode::PayloadTooLarge
                } else {
                    ErrorCode::BadRequest
                },
                e.body_text(),
            )
        }
    };
    let received_at = Utc::now();
    let env = match Envelope::parse(&body) {
        Ok(e) => e,
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                ErrorCode::MalformedJson,
                e.to_string(),
            )
        }
    };
    let kind = match env.message_kind() {
        Ok(k) => k,
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                ErrorCode::SchemaViolation,
                e.to_string(),
            )
        }
    };
    if let Some(h) = headers.get(MESSAGE_TYPE_HEADER) {
        if h.to_str().ok() != Some(kind.as_str()) {
            return refuse(
                StatusCode::BAD_REQUEST,
                ErrorCode::SchemaViolation,
                format!("{MESSAGE_TYPE_HEADER} does not say {}", kind.as_str()),
            );
        }
    }
    if !rx.cfg.topic_arns.contains(&env.topic_arn) {
        return refuse(
            StatusCode::FORBIDDEN,
            ErrorCode::BadRequest,
            format!("topic {:?} is not this shop's", env.topic_arn),
        );
    }
    if !rx.cfg.signature_versions.contains(&env.signature_version) {
        return refuse(
            StatusCode::BAD_REQUEST,
            ErrorCode::SchemaViolation,
            IpnError::SignatureVersion(env.signature_version.clone()).to_string(),
        );
    }
    let cert_url = match rx.allowed(&env.signing_cert_url, true) {
        Ok(u) => u,
        Err(why) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadRequest,
                format!("SigningCertURL refused, not fetched: {why}"),
            )
        }
    };
    let cert = match rx.certificate(&cert_url).await {
        Ok(c) => c,
        Err(why) => {
            return refuse(
                StatusCode::BAD_GATEWAY,
                ErrorCode::Internal,
                format!("the signing certificate cannot be had: {why}"),
            )
        }
    };
    if !cert.valid_at(SystemTime::now()) {
        return refuse(
            StatusCode::UNAUTHORIZED,
            ErrorCode::BadSignature,
            "the signing certificate is not valid now",
        );
    }
    if let Err(e) = env.verify(&cert, &rx.cfg.signature_versions) {
        return refuse(
            StatusCode::UNAUTHORIZED,
            ErrorCode::BadSignature,
            e.to_string(),
        );
    }
    let envelope = String::from_utf8_lossy(&body).into_owned();
    let stored = match kind {
        MessageKind::Notification => notification(&*hub.store, &env, envelope, received_at).await,
        MessageKind::SubscriptionConfirmation => {
            return subscribe(&*hub.store, &rx, &env, envelope, received_at).await
        }
        MessageKind::UnsubscribeConfirmation => {
            tracing::warn!(topic = %env.topic_arn, "bKash IPN: the subscription was cancelled; no more notifications will come");
            hub.store
                .put_ipn_subscription(&SubscriptionRecord {
                    message_id: env.message_id.clone(),
                    kind: kind.as_str().into(),
                    topic_arn: env.topic_arn.clone(),
                    url: env.subscribe_url.clone().unwrap_or_default(),
                    status: "unsubscribed".into(),
                    detail: None,
                    received_at,
                    envelope,
                })
                .await
                .map(|()| "recorded")
        }
    };
    match stored {
        Ok(status) => answer(status),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// Store a verified notification once; `stored` or `duplicate`.
async fn notification(
    store: &dyn Store,
    env: &Envelope,
    envelope: String,
    received_at: DateTime<Utc>,
) -> Result<&'static str, StoreError> {
    let bd = bangladesh_time();
    let mut m = IpnMessage {
        message_id: env.message_id.clone(),
        topic_arn: env.topic_arn.clone(),
        trx_id: None,
        transaction_status: None,
        amount: None,
        sale_amount: None,
        currency: None,
        invoice: None,
        paid_at: None,
        paid_on: received_at.with_timezone(&bd).date_naive(),
        sns_timestamp: env.timestamp.clone(),
        problem: None,
        received_at,
        envelope,
    };
    match env.notice() {
        Ok(n) => {
            let paid_at = n.paid_at().expect("checked by parse");
            m.trx_id = Some(n.trx_id.clone());
            m.transaction_status = Some(n.transaction_status.clone());
            m.amount = n.amount().ok();
            m.sale_amount = n.sale_amount().ok().flatten();
            m.currency = Some(n.currency.clone());
            m.invoice = n.merchant_invoice_number.clone();
            m.paid_on = paid_at.date_naive();
            m.paid_at = Some(paid_at.with_timezone(&Utc));
        }
        Err(e) => {
            tracing::warn!(message_id = %env.message_id, error = %e, "bKash IPN: a signed notification whose notice cannot be read; kept");
            m.problem = Some(e.to_string());
        }
    }
    Ok(if store.put_ipn(&m).await? {
        tracing::info!(message_id = %m.message_id, trx_id = ?m.trx_id, "bKash IPN stored");
        "stored"
    } else {
        "duplicate"
    })
}

/// Confirm a verified subscription: GET its `SubscribeURL` (host rule first).
async fn subscribe(
    store: &dyn Store,
    rx: &Receiver,
    env: &Envelope,
    envelope: String,
    received_at: DateTime<Utc>,
) -> Response {
    let url_text = env.subscribe_url.clone().unwrap_or_default();
    let mut record = SubscriptionRecord {
        message_id: env.message_id.clone(),
        kind: MessageKind::SubscriptionConfirmation.as_str().into(),
        topic_arn: env.topic_arn.clone(),
        url: url_text.clone(),
        status: String::new(),
        detail: None,
        received_at,
        envelope,
    };
    let outcome = match rx.allowed(&url_text, false) {
        Err(why) => Err((
            StatusCode::BAD_REQUEST,
            "refused",
            format!("SubscribeURL refused, not fetched: {why}"),
        )),
        Ok(url) => match rx.get_limited(&url, BODY_LIMIT).await {
            Ok(_) => Ok(()),
            Err(why) => Err((StatusCode::BAD_GATEWAY, "failed", why)),
        },
    };
    match &outcome {
        Ok(()) => record.status = "confirmed".into(),
        Err((_, status, why)) => {
            record.status = (*status).into();
            record.detail = Some(why.clone());
        }
    }
    if let Err(e) = store.put_ipn_subscription(&record).await {
        return ApiError::from(e).into_response();
    }
    match outcome {
        Ok(()) => {
            tracing::info!(topic = %env.topic_arn, "bKash IPN subscription confirmed");
            answer("confirmed")
        }
        Err((status, _, why)) => refuse(
            status,
            if status == StatusCode::BAD_GATEWAY {
                ErrorCode::Internal
            } else {
                ErrorCode::BadRequest
            },
            why,
        ),
    }
}

/// The IPN side of a day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IpnSummary {
    /// The day's bKash settlements.
    pub settlements: u64,
    /// … with their IPN, same amount and currency.
    pub matched: u64,
    /// … within the grace period, no IPN yet.
    pub awaiting_ipn: u64,
    /// … flagged (missing, amount differs, not completed, no reference, reused).
    pub flagged: u64,
    /// Distinct trxIDs notified under this Bangladesh date.
    pub notices: u64,
    /// … claimed by no settlement, past the grace period.
    pub orphans: u64,
    /// … claimed by no settlement yet, within the grace period.
    pub awaiting_settlement: u64,
    /// Signed notifications whose notice could not be read.
    pub unreadable: u64,
}

fn ipn_facts(m: &IpnMessage) -> Facts {
    Facts {
        amount: m.sale_total(),
        currency: m.currency.clone(),
        account: None,
    }
}

fn is_completed(m: &IpnMessage) -> bool {
    m.transaction_status.as_deref() == Some("Completed")
}

/// The IPN findings of `day` as of `now`.
pub async fn findings(
    store: &dyn Store,
    cfg: &IpnConfig,
    day: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(IpnSummary, Vec<Finding>), StoreError> {
    let grace = chrono::Duration::from_std(cfg.grace).unwrap_or(chrono::Duration::MAX);
    let mut summary = IpnSummary::default();
    let mut out = Vec::new();

    let settlements = store.refs_of_day(&cfg.provider, day).await?;
    summary.settlements = settlements.len() as u64;
    let trxs: Vec<String> = settlements
        .iter()
        .filter_map(|s| s.transaction_ref.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut by_trx: HashMap<String, Vec<IpnMessage>> = HashMap::new();
    for m in store.ipns_by_trx(&trxs).await? {
        if let Some(t) = m.trx_id.clone() {
            by_trx.entry(t).or_default().push(m);
        }
    }
    let mut claimed: HashMap<&str, &SettlementRef> = HashMap::new();
    for s in &settlements {
        let Some(trx) = s.transaction_ref.as_deref() else {
            out.push(Finding::about(FindingCode::NoReference, s));
            summary.flagged += 1;
            continue;
        };
        if let Some(first) = claimed.get(trx) {
            let mut f = Finding::about(FindingCode::ReferenceReused, s);
            f.reference = Some(trx.to_owned());
            f.detail = Some(format!("also claimed by event {}", first.event_id));
            out.push(f);
            summary.flagged += 1;
            continue;
        }
        claimed.insert(trx, s);
        let msgs = by_trx.get(trx).map(Vec::as_slice).unwrap_or_default();
        let mut f = Finding::about(FindingCode::IpnMissing, s);
        f.reference = Some(trx.to_owned());
        f.message_ids = msgs.iter().map(|m| m.message_id.clone()).collect();
        match msgs.iter().find(|m| is_completed(m)) {
            None if msgs.is_empty() => {
                if now - s.settled_at < grace {
                    summary.awaiting_ipn += 1;
                    continue;
                }
            }
            None => {
                f.code = FindingCode::IpnNotCompleted;
                f.provider = Some(ipn_facts(&msgs[0]));
                f.detail = msgs[0].transaction_status.clone();
            }
            Some(m) => {
                let currency_ok = m.currency.as_deref().map(str::to_ascii_uppercase)
                    == s.currency.as_deref().map(str::to_ascii_uppercase);
                if same_amount(m.sale_total(), s.amount) && currency_ok {
                    summary.matched += 1;
                    continue;
                }
                f.code = FindingCode::IpnAmountDiffers;
                f.provider = Some(ipn_facts(m));
            }
        }
        summary.flagged += 1;
        out.push(f);
    }

    // The day's notices no settlement of the day claims.
    let mut unclaimed: BTreeMap<String, Vec<IpnMessage>> = BTreeMap::new();
    let mut notified: HashSet<String> = HashSet::new();
    for m in store.ipns_of_day(day).await? {
        let Some(trx) = m.trx_id.clone() else {
            summary.unreadable += 1;
            let mut f = Finding::new(FindingCode::IpnUnreadable);
            f.message_ids = vec![m.message_id.clone()];
            f.at = Some(m.received_at);
            f.detail = m.problem.clone();
            out.push(f);
            continue;
        };
        notified.insert(trx.clone());
        if !claimed.contains_key(trx.as_str()) {
            unclaimed.entry(trx).or_default().push(m);
        }
    }
    summary.notices = notified.len() as u64;
    let candidates: Vec<String> = unclaimed.keys().cloned().collect();
    // Claimed by a settlement booked on another day: listed there.
    for s in store
        .refs_by_transaction(&cfg.provider, &candidates)
        .await?
    {
        if let Some(t) = &s.transaction_ref {
            unclaimed.remove(t);
        }
    }
    for (trx, msgs) in unclaimed {
        let first = &msgs[0];
        if now - first.received_at < grace {
            summary.awaiting_settlement += 1;
            continue;
        }
        summary.orphans += 1;
        let mut f = Finding::new(FindingCode::IpnOrphan);
        f.reference = Some(trx);
        f.provider = Some(ipn_facts(first));
        f.message_ids = msgs.iter().map(|m| m.message_id.clone()).collect();
        f.at = first.paid_at.or(Some(first.received_at));
        f.detail = first.invoice.clone().map(|i| format!("invoice {i}"));
        out.push(f);
    }
    Ok((summary, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_before_any_fetch() {
        let sns = vec![Regex::new(&anchored(SNS_HOST_PATTERN)).unwrap()];
        let ok = "https://sns.ap-southeast-1.amazonaws.com/SimpleNotificationService-1.pem";
        assert!(url_allowed(&sns, false, ok, true).is_ok());
        assert!(url_allowed(
            &sns,
            false,
            "https://sns.cn-north-1.amazonaws.com.cn/a.pem",
            true
        )
        .is_ok());
        for bad in [
            "http://sns.ap-southeast-1.amazonaws.com/a.pem",
            "https://sns.ap-southeast-1.amazonaws.com.evil.test/a.pem",
            "https://evil.test/sns.ap-southeast-1.amazonaws.com/a.pem",
            "https://xsns.ap-southeast-1.amazonaws.com/a.pem",
            "https://sns.ap.amazonaws.com/a.pem",
            "https://user:pw@sns.ap-southeast-1.amazonaws.com/a.pem",
            "https://sns.ap-southeast-1.amazonaws.com/a.pem.txt",
            "file:///etc/passwd",
            "not a url",
        ] {
            assert!(url_allowed(&sns, false, bad, true).is_err(), "{bad}");
        }
        // A subscription URL needs no .pem.
        assert!(url_allowed(
            &sns,
            false,
            "https://sns.ap-southeast-1.amazonaws.com/?Action=ConfirmSubscription",
            false
        )
        .is_ok());
        // Loopback tests: http only when allowed.
        let lo = vec![Regex::new(&anchored(r"127\.0\.0\.1")).unwrap()];
        assert!(url_allowed(&lo, true, "http://127.0.0.1:4000/x.pem", true).is_ok());
        assert!(url_allowed(&lo, false, "http://127.0.0.1:4000/x.pem", true).is_err());
        assert!(url_allowed(&lo, true, "http://localhost:4000/x.pem", true).is_err());
    }

    #[test]
    fn settings_from_the_environment() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert!(IpnConfig::from_lookup(&env(&[])).unwrap().is_none());
        let c = IpnConfig::from_lookup(&env(&[
            (ENV_TOPIC_ARNS, "arn:a, arn:b"),
            (ENV_GRACE_SECS, "60"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(c.topic_arns, ["arn:a", "arn:b"]);
        assert_eq!(c.hosts, [SNS_HOST_PATTERN]);
        assert_eq!(c.grace, Duration::from_secs(60));
        assert!(!c.allow_http);
        for bad in [
            &[(ENV_TOPIC_ARNS, "arn:a"), (ENV_HOSTS, "(")][..],
            &[(ENV_TOPIC_ARNS, "arn:a"), (ENV_SIGNATURE_VERSIONS, "3")][..],
            &[(ENV_TOPIC_ARNS, " , ")][..],
            &[(ENV_TOPIC_ARNS, "arn:a"), (ENV_GRACE_SECS, "soon")][..],
        ] {
            let owned: Vec<(String, String)> = bad
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let get = |k: &str| owned.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            assert!(IpnConfig::from_lookup(&get).is_err(), "{bad:?}");
        }
    }
}
