//! The manager's "Test connection": one real, harmless call to a provider or
//! to the hub, reported as what answered, how fast, and what to fix.
//!
//! Each test has two halves. The transport half is the same for everyone
//! ([`till_provider_http::probe`]: TLS, the round trip, the server's clock
//! from its `Date` header). The other half is the provider's own
//! ([`crate::provider::Provider::test_connection`]): bKash grants a token
//! (counted in its hourly budget: that is what proves the credentials),
//! Bakong checks an MD5 no code can have, the demo wallet has nothing to
//! reach. The hub's test is here: a signed, empty batch, which the hub must
//! refuse as empty only after it has checked the signature and the clock.
//!
//! Results are codes with parameters ([`Proof`], [`Problem`]); the screens
//! put them in words (`ui/js/i18n.js`, `conn_*`).

use crate::config::Config;
use crate::secrets::SecretStore;
use serde::Serialize;
use std::future::Future;
use std::time::{Duration, Instant};
use till_provider_http::TransportProblem;

/// A server clock further than this from ours is worth saying: bKash tokens,
/// Bakong's answers and the hub's signature window all assume agreeing clocks.
pub const CLOCK_SKEW_WARN_S: i64 = 30;

/// What a test proved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Proof {
    /// The provider granted a token with the stored credentials.
    TokenGranted {
        calls_this_hour: u32,
        max_per_hour: u32,
    },
    /// The shop's hub lent its token to this till.
    TokenLent,
    /// The provider looked up a code (one nobody can have paid) and answered.
    CodeLookedUp,
    /// The hub checked this terminal's signature and clock.
    SignatureAccepted,
    /// Nothing to reach (the demo wallet).
    Local,
}

/// What to fix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Problem {
    /// Not set up: `what` names the setting or credential.
    NotConfigured {
        what: String,
    },
    /// The server refused the credentials (or the hub key).
    WrongCredentials,
    /// Nothing sent: the provider's hourly token calls are spent.
    TokenBudgetSpent {
        next_in_min: u64,
        max_per_hour: u32,
    },
    /// HTTP 403 from a gateway: for Bakong, an address outside Cambodia.
    Forbidden {
        status: u16,
    },
    /// The server's clock and ours differ (`seconds` = theirs − ours).
    ClockSkew {
        seconds: i64,
    },
    UntrustedCertificate,
    TlsFailed,
    Unreachable,
    Timeout,
    /// The hub disabled this terminal.
    TerminalDisabled,
    /// Too many requests: try again later.
    RateLimited,
    /// Another explicit refusal, with the server's code.
    Refused {
        provider_code: String,
    },
    /// An answer Till could not read.
    Unreadable,
}

impl From<TransportProblem> for Problem {
    fn from(p: TransportProblem) -> Problem {
        match p {
            TransportProblem::UntrustedCertificate => Problem::UntrustedCertificate,
            TransportProblem::Tls => Problem::TlsFailed,
            TransportProblem::Timeout => Problem::Timeout,
            TransportProblem::Unreachable => Problem::Unreachable,
            TransportProblem::Other => Problem::Unreadable,
        }
    }
}

/// One test's outcome, as the manager's screen and `till connect` show it.
#[derive(Clone, Debug, Serialize)]
pub struct ConnectionReport {
    /// `bkash`, `bakong`, `demo` or `hub`.
    pub target: String,
    /// The server asked (scheme, host, port), when there is one.
    pub origin: Option<String>,
    pub ok: bool,
    /// The round trip of the test call itself.
    pub elapsed_ms: Option<u64>,
    pub proof: Option<Proof>,
    pub problem: Option<Problem>,
    /// Set when the server's clock is more than [`CLOCK_SKEW_WARN_S`] from ours.
    pub clock_skew_s: Option<i64>,
    /// The error as the adapter put it, for the engineer (never a secret).
    pub detail: Option<String>,
}

impl ConnectionReport {
    /// A target that cannot be tested as configured.
    pub fn not_configured(target: &str, what: impl Into<String>, detail: Option<String>) -> Self {
        ConnectionReport {
            target: target.into(),
            origin: None,
            ok: false,
            elapsed_ms: None,
            proof: None,
            problem: Some(Problem::NotConfigured { what: what.into() }),
            clock_skew_s: None,
            detail,
        }
    }

    /// A target with nothing to reach.
    pub fn local(target: &str) -> Self {
        ConnectionReport {
            target: target.into(),
            origin: None,
            ok: true,
            elapsed_ms: Some(0),
            proof: Some(Proof::Local),
            problem: None,
            clock_skew_s: None,
            detail: None,
        }
    }
}

/// The probe's HTTP client: the terminal's trust roots, a short timeout.
pub fn probe_client(config: &Config) -> reqwest::Client {
    till_provider_http::client_builder(&config.tls.roots)
        .timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(5))
        .build()
        .unwrap_or_default()
}

fn origin_of(url: &url::Url) -> String {
    url.origin().ascii_serialization()
}

/// Runs a test: the transport probe against `url`'s origin, then `call`,
/// timed. A failed probe skips the call (nothing would get through).
pub async fn check<F>(
    target: &str,
    http: &reqwest::Client,
    url: &url::Url,
    call: F,
) -> ConnectionReport
where
    F: Future<Output = Result<Proof, (Problem, String)>>,
{
    let origin = origin_of(url);
    let mut report = ConnectionReport {
        target: target.into(),
        origin: Some(origin.clone()),
        ok: false,
        elapsed_ms: None,
        proof: None,
        problem: None,
        clock_skew_s: None,
        detail: None,
    };
    match till_provider_http::probe(http, &format!("{origin}/")).await {
        Err(e) => {
            report.problem = Some(e.problem.into());
            report.detail = Some(e.message);
        }
        Ok(probed) => {
            report.clock_skew_s = probed.clock_skew_s.filter(|s| s.abs() > CLOCK_SKEW_WARN_S);
            let started = Instant::now();
            let result = call.await;
            report.elapsed_ms = Some(started.elapsed().as_millis() as u64);
            match result {
                Ok(proof) => {
                    report.ok = true;
                    report.proof = Some(proof);
                }
                Err((mut problem, detail)) => {
                    // The server said "clock": the probe measured by how much.
                    if let (Problem::ClockSkew { seconds }, Some(measured)) =
                        (&mut problem, probed.clock_skew_s)
                    {
                        *seconds = measured;
                    }
                    report.problem = Some(problem);
                    report.detail = Some(detail);
                }
            }
        }
    }
    tracing::info!(
        target: "till::connect",
        test = target,
        ok = report.ok,
        problem = ?report.problem,
        elapsed_ms = report.elapsed_ms,
        "connection test"
    );
    report
}

/// The hub's test: a signed, empty batch. The hub checks the signature and
/// the timestamp before anything else, so its answer says which of them it
/// took, and an empty batch is refused (400 `schema_violation`) without
/// storing anything.
pub async fn test_hub(config: &Config, secrets: &dyn SecretStore) -> ConnectionReport {
    let Some(base) = &config.hub.url else {
        return ConnectionReport::not_configured("hub", "hub.url", None);
    };
    let signer = match crate::sync::load_signer(secrets) {
        Ok(s) => s,
        Err(why) => {
            return ConnectionReport::not_configured(
                "hub",
                crate::secrets::names::HUB_SECRET,
                Some(why),
            )
        }
    };
    let http = probe_client(config);
    let terminal = &config.terminal.id;
    let url = format!(
        "{}/v1/terminals/{terminal}/batch",
        base.as_str().trim_end_matches('/')
    );
    let call = async {
        let body = serde_json::to_vec(&serde_json::json!({
            "schema": till_sync_proto::BATCH_SCHEMA,
            "terminal_id": terminal,
            "events": [],
        }))
        .expect("a JSON value serialises");
        let id = format!("conn-test-{}", chrono::Utc::now().timestamp_millis());
        let headers = signer.headers(&id, chrono::Utc::now().timestamp(), &body);
        let mut req = http
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        for (name, value) in headers.pairs() {
            req = req.header(name, value);
        }
        let answer = req.send().await.map_err(|e| {
            (
                till_provider_http::transport_problem(&e).into(),
                till_provider_http::TransportError::from_reqwest("hub", &e).message,
            )
        })?;
        let status = answer.status().as_u16();
        let text = answer.text().await.unwrap_or_default();
        hub_answer(status, &text)
    };
    check("hub", &http, base, call).await
}

/// What the hub's answer to an empty signed batch means.
fn hub_answer(status: u16, body: &str) -> Result<Proof, (Problem, String)> {
    use till_sync_proto::ErrorCode;
    let error: Option<till_sync_proto::ErrorBody> = serde_json::from_str(body).ok();
    let detail = format!("hub answered {status}: {}", body.trim());
    match (status, error.map(|e| e.error)) {
        // Past the signature and the clock; refused only for being empty.
        (400, Some(ErrorCode::SchemaViolation)) | (200..=299, _) => Ok(Proof::SignatureAccepted),
        (_, Some(ErrorCode::BadSignature | ErrorCode::UnknownTerminal)) => {
            Err((Problem::WrongCredentials, detail))
        }
        (_, Some(ErrorCode::StaleTimestamp | ErrorCode::FutureTimestamp)) => {
            Err((Problem::ClockSkew { seconds: 0 }, detail))
        }
        (410, _) | (_, Some(ErrorCode::TerminalDisabled)) => {
            Err((Problem::TerminalDisabled, detail))
        }
        (429, _) => Err((Problem::RateLimited, detail)),
        (403, _) => Err((Problem::Forbidden { status }, detail)),
        (_, Some(code)) => Err((
            Problem::Refused {
                provider_code: serde_json::to_value(code)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_else(|| status.to_string()),
            },
            detail,
        )),
        (_, None) => Err((Problem::Unreadable, detail)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hubs_answers_are_read() {
        let body = |code: &str| format!(r#"{{"error":"{code}","message":"m"}}"#);
        assert_eq!(
            hub_answer(400, &body("schema_violation")),
            Ok(Proof::SignatureAccepted)
        );
        assert_eq!(
            hub_answer(401, &body("bad_signature")).unwrap_err().0,
            Problem::WrongCredentials
        );
        assert!(matches!(
            hub_answer(401, &body("stale_timestamp")).unwrap_err().0,
            Problem::ClockSkew { .. }
        ));
        assert_eq!(
            hub_answer(410, &body("terminal_disabled")).unwrap_err().0,
            Problem::TerminalDisabled
        );
        assert_eq!(
            hub_answer(502, "<html>bad gateway</html>").unwrap_err().0,
            Problem::Unreadable
        );
    }
}

/// What a Test connection is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectTarget {
    Provider(crate::ProviderKind),
    Hub,
}

impl std::str::FromStr for ConnectTarget {
    type Err = crate::payment::UnknownProvider;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "hub" => Ok(ConnectTarget::Hub),
            other => other.parse().map(ConnectTarget::Provider),
        }
    }
}

impl crate::Engine {
    /// The manager's Test connection (see the module docs). Never fails: what
    /// went wrong is the report's [`Problem`].
    pub async fn test_connection(&self, target: ConnectTarget) -> ConnectionReport {
        let config = &self.inner.config;
        match target {
            ConnectTarget::Hub => test_hub(config, &*self.inner.secrets).await,
            ConnectTarget::Provider(kind) => match self.inner.registry.get(kind) {
                Ok(provider) => provider.test_connection(&probe_client(config)).await,
                // Off, or not set up: the registry's reason names what to set.
                Err(why) => {
                    let what = match why {
                        crate::provider::ProviderError::NotConfigured { message, .. } => message,
                        other => other.to_string(),
                    };
                    ConnectionReport::not_configured(kind.as_str(), what, None)
                }
            },
        }
    }
}
