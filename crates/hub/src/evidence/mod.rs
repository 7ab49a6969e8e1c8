//! Evidence from the providers themselves, at the hub: what bKash and Bakong
//! say about the day's money, set beside what the terminals reported, so the
//! office has a check that does not depend on the terminals being honest.
//!
//! # Parts
//!
//! - [`bkash_ipn`]: `POST /v1/ipn/bkash`, bKash's IPN (Amazon SNS): the
//!   topic must be one of the shop's, the signing certificate is fetched
//!   only from a URL whose host matches an allowed pattern (checked before
//!   any fetch; cached), the SNS signature is checked (`till_bkash::ipn`),
//!   subscriptions are confirmed (`SubscribeURL`, same host rule), and each
//!   notification is stored once by its `MessageId`. Matched to the
//!   terminals' settlements by trxID and amount.
//! - [`bakong_check`]: where the hub holds a Bakong token, the MD5s of the
//!   settled KHQR events are bulk-checked with `till_bakong::BakongClient`
//!   (≤ 50 per request, paced by a setting), periodically and with
//!   `till-hub evidence check --day D`; Bakong's answers are stored.
//! - [`refs`]: the index of the settlement events' provider references
//!   (trxID, MD5, payee), read from each body with `till-sync-proto` behind
//!   ingest (ingest is not touched).
//! - [`records`]: what is stored.
//! - Here: [`EvidenceConfig`], [`day_findings`] / [`DayFindings`] (what the
//!   dashboard's day view shows beside the terminals' own reconciliation)
//!   and `GET /v1/evidence?day=YYYY-MM-DD` (bearer token, like the read API).
//!
//! # Invariants
//!
//! - Nothing from an IPN is stored before its signature verified with a
//!   certificate fetched from an allowed host; a message is stored at most
//!   once; a refused message stores nothing.
//! - No URL a message names is fetched unless it passed the host rule; no
//!   redirect is followed.
//! - Findings are computed, never stored: a late sync or a new answer
//!   changes them at the next read. Amounts are compared as exact decimals.

pub mod bakong_check;
pub mod bkash_ipn;
pub mod records;
pub mod refs;

use crate::error::ApiError;
use crate::server::Hub;
use crate::store::{Store, StoreError};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;

/// What the hub checks with the providers (both off by default).
#[derive(Debug, Clone, Default)]
pub struct EvidenceConfig {
    /// Receive bKash's IPN (`POST /v1/ipn/bkash`).
    pub ipn: Option<bkash_ipn::IpnConfig>,
    /// Check settled KHQR payments with Bakong.
    pub bakong: Option<bakong_check::BakongCheckConfig>,
}

/// A setting of the environment that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceConfigError {
    #[error("{var}: {reason}")]
    Invalid { var: &'static str, reason: String },
    #[error("{var} and {other} are both set; give one")]
    Twice {
        var: &'static str,
        other: &'static str,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} can be read by others (mode {mode:o}); chmod 600 it")]
    Readable { path: PathBuf, mode: u32 },
}

impl EvidenceConfig {
    /// From the environment of `till-hub serve` / `till-hub evidence`
    /// ([`bkash_ipn::IpnConfig::from_lookup`], [`bakong_check::BakongCheckConfig::from_lookup`]).
    pub fn from_env() -> Result<EvidenceConfig, EvidenceConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
    }

    /// [`Self::from_env`] over any lookup (tests).
    pub fn from_lookup(
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<EvidenceConfig, EvidenceConfigError> {
        Ok(EvidenceConfig {
            ipn: bkash_ipn::IpnConfig::from_lookup(&get)?,
            bakong: bakong_check::BakongCheckConfig::from_lookup(&get)?,
        })
    }
}

/// What a finding is about (stable codes; the dashboard words them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingCode {
    /// A bKash settlement without its IPN once the grace period is over.
    IpnMissing,
    /// An IPN without any settlement once the grace period is over: money
    /// taken without a sale (or a static QR paid at the counter).
    IpnOrphan,
    /// The IPN's amount (or currency) is not the settlement's.
    IpnAmountDiffers,
    /// The only IPN for the trxID does not say `Completed`.
    IpnNotCompleted,
    /// A signed notification whose payment notice could not be read.
    IpnUnreadable,
    /// A settlement without the provider reference evidence is matched by.
    NoReference,
    /// Two settlement events name the same provider transaction.
    ReferenceReused,
    /// Bakong does not know the KHQR's MD5.
    BakongNotFound,
    /// Bakong says the payment attempt failed.
    BakongFailed,
    /// Bakong's amount is not the settlement's.
    BakongAmountDiffers,
    /// Bakong's currency is not the settlement's.
    BakongCurrencyDiffers,
    /// Bakong's receiving account is not the one the terminal recorded.
    BakongAccountDiffers,
    /// Bakong's receiving account is none of the shop's configured accounts.
    BakongNotShopAccount,
    /// Bakong's transaction hash is not the one the terminal recorded.
    BakongHashDiffers,
}

/// Amount, currency and receiving account, as one side tells them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Facts {
    pub amount: Option<Decimal>,
    pub currency: Option<String>,
    pub account: Option<String>,
}

/// One thing the office should look at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub code: FindingCode,
    /// The provider whose word it is (as in events: `bkash`, `bakong`).
    pub provider_name: String,
    /// The terminal whose settlement it is about (`None`: no settlement).
    pub terminal: Option<String>,
    pub payment_id: Option<String>,
    /// The settlement event (webhook id).
    pub event_id: Option<String>,
    /// The provider's reference: bKash trxID, the KHQR's MD5.
    pub reference: Option<String>,
    /// What the terminal's settlement holds.
    pub held: Option<Facts>,
    /// What the provider says.
    pub provider: Option<Facts>,
    /// The IPN messages concerned.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub message_ids: Vec<String>,
    /// When the settlement happened, or the notice arrived.
    pub at: Option<DateTime<Utc>>,
    /// The provider's own words or the reason, when there are any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Finding {
    pub(crate) fn new(code: FindingCode) -> Finding {
        Finding {
            code,
            provider_name: code.provider().to_owned(),
            terminal: None,
            payment_id: None,
            event_id: None,
            reference: None,
            held: None,
            provider: None,
            message_ids: Vec::new(),
            at: None,
            detail: None,
        }
    }

    /// A finding about a settlement (terminal, payment, event and what it holds filled in).
    pub(crate) fn about(code: FindingCode, s: &records::SettlementRef) -> Finding {
        Finding {
            terminal: Some(s.terminal_id.clone()),
            payment_id: s.payment_id.clone(),
            event_id: Some(s.event_id.clone()),
            held: Some(Facts {
                amount: s.amount,
                currency: s.currency.clone(),
                account: s.payee.clone(),
            }),
            at: Some(s.settled_at),
            provider_name: s.provider.clone(),
            ..Finding::new(code)
        }
    }
}

impl FindingCode {
    /// The provider a code's check asks (a settlement's own provider wins where the
    /// finding is about one: `NoReference` and `ReferenceReused` are either's).
    pub fn provider(self) -> &'static str {
        use FindingCode::*;
        match self {
            IpnMissing | IpnOrphan | IpnAmountDiffers | IpnNotCompleted | IpnUnreadable
            | NoReference | ReferenceReused => "bkash",
            BakongNotFound
            | BakongFailed
            | BakongAmountDiffers
            | BakongCurrencyDiffers
            | BakongAccountDiffers
            | BakongNotShopAccount
            | BakongHashDiffers => "bakong",
        }
    }
}

/// The evidence of one business day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayFindings {
    pub day: NaiveDate,
    pub generated_at: DateTime<Utc>,
    /// `None`: this hub does not receive bKash IPNs.
    pub ipn: Option<bkash_ipn::IpnSummary>,
    /// `None`: this hub has no Bakong token.
    pub bakong: Option<bakong_check::BakongSummary>,
    /// Everything to look at, by terminal (none last), then code.
    pub findings: Vec<Finding>,
}

impl DayFindings {
    /// The findings about one terminal (for its line in the day view).
    pub fn of_terminal<'a>(&'a self, terminal: &'a str) -> impl Iterator<Item = &'a Finding> {
        self.findings
            .iter()
            .filter(move |f| f.terminal.as_deref() == Some(terminal))
    }
}

/// The evidence of `day` as of `now`: brings the reference index up to date,
/// then sets what the providers said beside the settlements of the day.
pub async fn day_findings(
    store: &dyn Store,
    config: &EvidenceConfig,
    day: NaiveDate,
    now: DateTime<Utc>,
) -> Result<DayFindings, StoreError> {
    refs::catch_up(store).await?;
    compute(store, config, day, now).await
}

/// [`day_findings`] without the catch-up.
async fn compute(
    store: &dyn Store,
    config: &EvidenceConfig,
    day: NaiveDate,
    now: DateTime<Utc>,
) -> Result<DayFindings, StoreError> {
    let mut findings = Vec::new();
    let ipn = match &config.ipn {
        Some(cfg) => {
            let (summary, mut f) = bkash_ipn::findings(store, cfg, day, now).await?;
            findings.append(&mut f);
            Some(summary)
        }
        None => None,
    };
    let bakong = match &config.bakong {
        Some(cfg) => {
            let (summary, mut f) = bakong_check::findings(store, cfg, day).await?;
            findings.append(&mut f);
            Some(summary)
        }
        None => None,
    };
    findings.sort_by(|a, b| {
        (a.terminal.is_none(), &a.terminal, a.code, &a.reference).cmp(&(
            b.terminal.is_none(),
            &b.terminal,
            b.code,
            &b.reference,
        ))
    });
    Ok(DayFindings {
        day,
        generated_at: now,
        ipn,
        bakong,
        findings,
    })
}

/// Shared by the evidence routes.
pub(crate) struct EvidenceState {
    catch_up: refs::SingleFlight,
}

/// `POST /v1/ipn/bkash` (when configured) and `GET /v1/evidence` (bearer token).
pub fn routes(hub: &Hub) -> Router<Hub> {
    let state = Arc::new(EvidenceState {
        catch_up: refs::SingleFlight::default(),
    });
    let reads = Router::new()
        .route("/v1/evidence", axum::routing::get(evidence))
        .route_layer(axum::middleware::from_fn_with_state(
            hub.clone(),
            crate::read::require_token,
        ));
    Router::new()
        .merge(bkash_ipn::routes(hub))
        .merge(reads)
        .layer(Extension(state))
}

/// The hub's background evidence work (the periodic Bakong check), until
/// `stop` turns true.
pub(crate) fn spawn(hub: &Hub, stop: tokio::sync::watch::Receiver<bool>) {
    if let Some(cfg) = hub.config.evidence.bakong.clone() {
        bakong_check::spawn(hub.store.clone(), cfg, stop);
    }
}

#[derive(Deserialize)]
pub struct EvidenceParams {
    day: Option<String>,
}

/// `GET /v1/evidence?day=YYYY-MM-DD`: [`DayFindings`] as JSON.
async fn evidence(
    State(hub): State<Hub>,
    Extension(state): Extension<Arc<EvidenceState>>,
    q: Result<Query<EvidenceParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(p) = q.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let day = p
        .day
        .as_deref()
        .ok_or_else(|| ApiError::bad_request("day=YYYY-MM-DD is required"))?;
    let day =
        till_sync_proto::read::parse_day(day).map_err(|e| ApiError::bad_request(e.to_string()))?;
    state.catch_up.run(&*hub.store).await?;
    let f = compute(&*hub.store, &hub.config.evidence, day, Utc::now()).await?;
    Ok(Json(f).into_response())
}

/// Two decimals are the same amount (`100` and `100.00`).
pub(crate) fn same_amount(a: Option<Decimal>, b: Option<Decimal>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.normalize() == b.normalize(),
        _ => false,
    }
}

/// A setting read from the environment: `None` when unset.
pub(crate) fn parsed<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
) -> Result<Option<T>, EvidenceConfigError>
where
    T::Err: std::fmt::Display,
{
    get(var)
        .map(|v| {
            v.trim()
                .parse::<T>()
                .map_err(|e| EvidenceConfigError::Invalid {
                    var,
                    reason: format!("{v:?}: {e}"),
                })
        })
        .transpose()
}

/// A comma-separated list (empty items dropped).
pub(crate) fn list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// A secret's file: only its owner may read it.
pub(crate) fn private_file(path: &std::path::Path) -> Result<String, EvidenceConfigError> {
    let read = |source| EvidenceConfigError::Read {
        path: path.to_owned(),
        source,
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).map_err(read)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(EvidenceConfigError::Readable {
                path: path.to_owned(),
                mode,
            });
        }
    }
    Ok(std::fs::read_to_string(path)
        .map_err(read)?
        .trim()
        .to_owned())
}
