//! `till connect [TARGET]`: the manager's Test connection from the command line. One real,
//! harmless call to each wallet or the hub (all configured ones by default), said in words:
//! what answered, how fast, what to fix. Exit code 1 when any test failed.

use till_core::connect::{ConnectTarget, ConnectionReport, Problem, Proof};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// What to test: a wallet (as `till charge --provider` names it) or hub. Default: every
    /// wallet that is on, and the hub if one is set.
    pub target: Option<String>,
    // A test may spend one of the merchant's limited token calls: the manager's.
    #[command(flatten)]
    pub pin: super::auth::PinArgs,
    /// One JSON object per test.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(a: Args, home: &std::path::Path) -> anyhow::Result<i32> {
    let session = super::auth::manager(home, &a.pin).await?;
    let engine = super::open_engine(home, false).await?;
    let targets: Vec<ConnectTarget> = match &a.target {
        Some(t) => vec![t
            .parse()
            .map_err(|e| anyhow::anyhow!("{t:?}: {e}; or hub"))?],
        None => {
            let mut all: Vec<ConnectTarget> = engine
                .providers()
                .into_iter()
                .map(ConnectTarget::Provider)
                .collect();
            if engine.config().hub.url.is_some() {
                all.push(ConnectTarget::Hub);
            }
            all
        }
    };
    let mut failed = false;
    for target in targets {
        let who = match target {
            ConnectTarget::Provider(k) => engine.label_of(k),
            ConnectTarget::Hub => "The hub",
        };
        let report = engine.test_connection(target).await;
        let _ = engine.audit(
            session.actor(),
            "connect.test",
            Some(&report.target),
            Some(if report.ok { "ok" } else { "failed" }),
        );
        failed |= !report.ok;
        if a.json {
            super::output::print_json(&serde_json::to_value(&report)?);
        } else {
            println!("{}", words(&report, who));
        }
    }
    engine.shutdown().await;
    Ok(i32::from(failed))
}

/// The report in English, as the manager's screen says it; `who` is what was tested.
pub fn words(r: &ConnectionReport, who: &str) -> String {
    let at = r
        .origin
        .as_deref()
        .map(|o| format!(" at {o}"))
        .unwrap_or_default();
    let fast = r
        .elapsed_ms
        .map(|ms| format!(" in {ms} ms"))
        .unwrap_or_default();
    let mut s = match (&r.proof, &r.problem) {
        (Some(p), _) => format!("OK  {who}{at} answered{fast}: {}", proof_words(p)),
        (None, Some(p)) => format!("FAILED  {who}{at}: {}", problem_words(p)),
        (None, None) => format!("FAILED  {who}{at}: no answer"),
    };
    if let Some(skew) = r.clock_skew_s {
        if !matches!(r.problem, Some(Problem::ClockSkew { .. })) {
            s.push_str(&format!(". Warning: {}", skew_words(skew)));
        }
    }
    if let (Some(d), false) = (&r.detail, r.ok) {
        s.push_str(&format!("\n    ({d})"));
    }
    s
}

fn proof_words(p: &Proof) -> String {
    match p {
        Proof::TokenGranted {
            calls_this_hour,
            max_per_hour,
        } => format!(
            "a token was granted with the stored credentials ({calls_this_hour} of {max_per_hour} \
             token calls this hour)"
        ),
        Proof::TokenLent => "the shop's hub lent its token".into(),
        Proof::CodeLookedUp => "it looked up a test code (none was paid, as it should be)".into(),
        Proof::SignatureAccepted => "it accepted this terminal's signature and clock".into(),
        Proof::Local => "it runs inside Till, nothing to reach".into(),
    }
}

fn skew_words(seconds: i64) -> String {
    let (n, unit) = if seconds.abs() >= 120 {
        (seconds.abs() / 60, "min")
    } else {
        (seconds.abs(), "s")
    };
    // The server's clock minus ours: positive means ours is behind.
    let side = if seconds > 0 { "behind" } else { "ahead of" };
    format!("this terminal's clock is {n} {unit} {side} the server's: set the system clock (NTP)")
}

fn problem_words(p: &Problem) -> String {
    match p {
        Problem::NotConfigured { what } => format!("not set up: set {what}"),
        Problem::WrongCredentials => {
            "the credentials were refused: check what is stored for it (`till secret set`, or \
             Settings → Connect), or the terminal's hub key"
                .into()
        }
        Problem::TokenBudgetSpent {
            next_in_min,
            max_per_hour,
        } => format!(
            "not tested: the wallet allows {max_per_hour} token calls an hour and the last one is \
             kept for payments; test again in {next_in_min} min"
        ),
        Problem::Forbidden { .. } => {
            "refused with HTTP 403: the gateway refused this client (some wallets answer only \
             connections from their own country: use a local connection)"
                .into()
        }
        Problem::ClockSkew { seconds } => skew_words(*seconds),
        Problem::UntrustedCertificate => {
            "the server's certificate is not trusted; nothing was sent. If the server is right, \
             add its CA to the system's certificate store or to tls.extra_roots"
                .into()
        }
        Problem::TlsFailed => "the TLS handshake failed; nothing was sent".into(),
        Problem::Unreachable => "cannot connect: check the address and the network".into(),
        Problem::Timeout => "no answer in time: check the network".into(),
        Problem::TerminalDisabled => "the hub has disabled this terminal".into(),
        Problem::RateLimited => "too many requests: try again in a minute".into(),
        Problem::Refused { provider_code } => format!("refused (code {provider_code})"),
        Problem::Unreadable => "answered something Till cannot read: check the address".into(),
    }
}
