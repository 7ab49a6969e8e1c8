//! The manager window's commands. Each one but the PIN pad's asks for an
//! unlocked session first ([`crate::pin::ManagerPin::require`]), and what it
//! does is audited as that session's actor.

use crate::pin::{PinError, PinState, Session};
use crate::settings::{self, Change, Setting};
use crate::terminal::{keyring, CodedError, Shared, UiError};
use crate::views::{shop_tz, PaymentView, RefundView};
use chrono::NaiveDate;
use serde::Serialize;
use tauri::{AppHandle, State};
use till_core::connect::{ConnectTarget, ConnectionReport};
use till_core::journal::log::AuditEntry;
use till_core::report::{Report, Resolution, ResolutionEntry, ZReport};
use till_core::secrets::{env_name, names, Secret};
use till_core::{Amount, ListFilter, PaymentState, ProviderKind};

pub(crate) fn require(terminal: &Shared) -> Result<Session, UiError> {
    terminal.pin.require().map_err(UiError::from)
}

/// A PIN pad error as the window shows it: `code` picks the string in `ui/js/i18n.js`
/// (`e_<code>`), with the tries left or seconds to wait; `message` is the English fallback.
#[derive(Debug, Serialize)]
pub struct PinUiError {
    pub message: String,
    pub code: &'static str,
    pub left: Option<u32>,
    pub seconds: Option<u64>,
}

impl From<PinError> for PinUiError {
    fn from(e: PinError) -> Self {
        let (left, seconds) = match &e {
            PinError::Wrong(n) | PinError::WrongRecoveryCode(n) => (Some(*n), None),
            PinError::Locked(s) => (None, Some(*s)),
            _ => (None, None),
        };
        PinUiError {
            message: e.to_string(),
            code: e.code(),
            left,
            seconds,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct PinScreen {
    pub state: PinState,
    /// `missing` or `damaged` when the PIN file cannot be used.
    pub damage: Option<crate::pin::Damage>,
    pub unlocked: bool,
    /// The PIN is shorter than six digits: the screen asks for a new one first.
    pub must_change: bool,
    pub locked_for_s: u64,
}

#[tauri::command]
pub fn manager_pin_state(terminal: State<'_, Shared>) -> PinScreen {
    let s = terminal.pin.status();
    let (unlocked, must_change) = terminal.pin.window_state();
    PinScreen {
        state: s.state,
        damage: s.damage,
        unlocked,
        must_change,
        locked_for_s: s.locked_for_s,
    }
}

/// What a PIN pad action gives back: a recovery code to show once, and whether the PIN
/// must be changed before the manager area opens.
#[derive(Debug, Serialize, Default)]
pub struct PinOutcome {
    pub recovery_code: Option<String>,
    pub must_change: bool,
}

async fn audit(terminal: &Shared, actor: &str, action: &str) {
    if let Ok(e) = terminal.engine().await {
        let _ = e.audit(actor, action, None, None);
    }
}

/// First run: choose the PIN. Shows the recovery code once.
#[tauri::command]
pub async fn manager_set_pin(
    terminal: State<'_, Shared>,
    pin: String,
) -> Result<PinOutcome, PinUiError> {
    let code = terminal.pin.set_first(&pin)?;
    audit(&terminal, "manager", "pin.set").await;
    Ok(PinOutcome {
        recovery_code: Some(code.reveal().to_owned()),
        must_change: false,
    })
}

#[tauri::command]
pub async fn manager_unlock(
    terminal: State<'_, Shared>,
    pin: String,
) -> Result<PinOutcome, PinUiError> {
    let result = terminal.pin.unlock(&pin);
    let action = if result.is_ok() {
        "unlock"
    } else {
        "unlock.refused"
    };
    audit(&terminal, "manager", action).await;
    let unlocked = result?;
    Ok(PinOutcome {
        recovery_code: unlocked.recovery_code.map(|c| c.reveal().to_owned()),
        must_change: unlocked.must_change,
    })
}

#[tauri::command]
pub fn manager_lock(terminal: State<'_, Shared>) {
    terminal.pin.lock();
}

/// Change the PIN: needs an open session (one that must change its PIN included) and the
/// current PIN.
#[tauri::command]
pub async fn manager_change_pin(
    terminal: State<'_, Shared>,
    old: String,
    new: String,
) -> Result<PinOutcome, PinUiError> {
    terminal.pin.require_for_change()?;
    let result = terminal.pin.change(&old, &new, crate::pin::Channel::Window);
    let (session, code) = match result {
        Ok(ok) => ok,
        Err(e) => {
            audit(&terminal, "manager", "pin.change.refused").await;
            return Err(e.into());
        }
    };
    audit(&terminal, session.actor(), "pin.change").await;
    Ok(PinOutcome {
        recovery_code: code.map(|c| c.reveal().to_owned()),
        must_change: false,
    })
}

/// A forgotten PIN, or a lost or damaged PIN file: the recovery code chooses a new PIN and
/// opens the manager area; a new recovery code is shown once.
#[tauri::command]
pub async fn manager_reset_pin(
    terminal: State<'_, Shared>,
    code: String,
    pin: String,
) -> Result<PinOutcome, PinUiError> {
    match terminal.pin.reset(&code, &pin, crate::pin::Channel::Window) {
        Ok((session, next)) => {
            audit(&terminal, session.actor(), "pin.reset").await;
            Ok(PinOutcome {
                recovery_code: Some(next.reveal().to_owned()),
                must_change: false,
            })
        }
        Err(e) => {
            audit(&terminal, "manager", "pin.reset.refused").await;
            Err(e.into())
        }
    }
}

/// Payments of a business day (default today), filtered.
#[tauri::command]
pub async fn manager_payments(
    terminal: State<'_, Shared>,
    day: Option<String>,
    provider: Option<String>,
    state: Option<String>,
    search: Option<String>,
    page: Option<u32>,
) -> Result<Vec<PaymentView>, UiError> {
    require(&terminal)?;
    let engine = terminal.engine().await?;
    let day = match day.filter(|d| !d.is_empty()) {
        Some(d) => Some(parse_date(&d)?),
        None => None,
    };
    let provider: Option<ProviderKind> = match provider.filter(|p| !p.is_empty()) {
        Some(p) => Some(p.parse()?),
        None => None,
    };
    let state: Option<PaymentState> = match state.filter(|s| !s.is_empty()) {
        Some(s) => Some(
            serde_json::from_value(serde_json::Value::String(s.clone()))
                .map_err(|_| UiError::from(format!("{s} is not a payment state")))?,
        ),
        None => None,
    };
    let list = engine.list(&ListFilter {
        day,
        provider,
        state,
        search: search.filter(|s| !s.trim().is_empty()),
        page: page.unwrap_or(1),
        page_size: 200,
    })?;
    Ok(list.iter().map(|p| PaymentView::of(p, &engine)).collect())
}

#[derive(Debug, Serialize)]
pub struct PaymentDetail {
    pub payment: PaymentView,
    pub refunds: Vec<RefundView>,
}

#[tauri::command]
pub async fn manager_payment(
    terminal: State<'_, Shared>,
    id: String,
) -> Result<PaymentDetail, UiError> {
    require(&terminal)?;
    let engine = terminal.engine().await?;
    let p = engine.payment(&id)?;
    let refunds = engine.refunds_of(&p.id)?;
    Ok(PaymentDetail {
        payment: PaymentView::of(&p, &engine),
        refunds: refunds
            .iter()
            .map(|r| RefundView::new(r, shop_tz(&engine)))
            .collect(),
    })
}

/// Refund a payment in full (no amount) or in part; with `elsewhere`, record
/// a refund made outside Till (a wallet with no refund API) under that reference.
#[tauri::command]
pub async fn manager_refund(
    terminal: State<'_, Shared>,
    id: String,
    amount: Option<String>,
    reason: Option<String>,
    elsewhere: Option<String>,
) -> Result<PaymentDetail, crate::terminal::CodedError> {
    let session = require(&terminal)?;
    let engine = terminal.engine().await?;
    let p = engine.payment(&id)?;
    let amount = match amount.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        Some(a) => Some(Amount::parse(a, p.amount.currency())?),
        None => None,
    };
    let reason = reason.filter(|r| !r.trim().is_empty());
    let (paid, _refund) = match elsewhere.filter(|e| !e.trim().is_empty()) {
        Some(reference) => engine.record_refund(
            &p.id,
            amount,
            &reference,
            reason.as_deref(),
            session.actor(),
        )?,
        None => {
            engine
                .refund(&p.id, amount, reason.as_deref(), session.actor())
                .await?
        }
    };
    let refunds = engine.refunds_of(&paid.id)?;
    Ok(PaymentDetail {
        payment: PaymentView::of(&paid, &engine),
        refunds: refunds
            .iter()
            .map(|r| RefundView::new(r, shop_tz(&engine)))
            .collect(),
    })
}

/// Ask the provider again about one payment.
#[tauri::command]
pub async fn manager_recheck(
    terminal: State<'_, Shared>,
    id: String,
) -> Result<PaymentView, UiError> {
    let session = require(&terminal)?;
    let engine = terminal.engine().await?;
    let p = engine.refresh(&id).await?;
    let _ = engine.audit(
        session.actor(),
        "payment.recheck",
        Some(&p.id),
        Some(p.state.as_str()),
    );
    Ok(PaymentView::of(&p, &engine))
}

/// Deliver to the hub now; with `replay_dead`, give dead letters another go first.
#[tauri::command]
pub async fn manager_sync(
    terminal: State<'_, Shared>,
    replay_dead: bool,
) -> Result<till_core::SyncState, UiError> {
    let session = require(&terminal)?;
    let engine = terminal.engine().await?;
    if replay_dead {
        let n = engine.replay_dead()?;
        let _ = engine.audit(
            session.actor(),
            "sync.replay_dead",
            None,
            Some(&format!("{n} records")),
        );
    }
    Ok(engine.sync_now().await?)
}

#[derive(Debug, Serialize)]
pub struct SecretState {
    pub name: &'static str,
    /// PEM text over several lines (a key): typed into a text area.
    pub multiline: bool,
    /// "stored in keyring", "from the environment", "demo (in memory)" or "not set".
    pub state: String,
}

#[derive(Debug, Serialize)]
pub struct SettingsView {
    pub settings: Vec<Setting>,
    pub secrets: Vec<SecretState>,
    pub demo: Option<crate::demo::DemoInfo>,
    pub home: String,
}

#[tauri::command]
pub async fn manager_settings(terminal: State<'_, Shared>) -> Result<SettingsView, UiError> {
    require(&terminal)?;
    let demo = terminal.demo_info().await;
    // What till.toml (and the environment) say, not the demo's in-process
    // overrides: that is what a change here edits.
    let settings = settings::current(&till_core::Config::load(&terminal.home)?);
    let store = keyring();
    let secrets = names::ALL
        .iter()
        .map(|n| {
            let state = if std::env::var_os(env_name(n)).is_some() {
                "from the environment".to_string()
            } else {
                match store.get(n) {
                    Ok(Some(_)) => "stored in keyring".to_string(),
                    Ok(None) if demo.is_some() => "demo (in memory)".to_string(),
                    Ok(None) => "not set".to_string(),
                    Err(e) => format!("keyring unavailable: {e}"),
                }
            };
            SecretState {
                name: n,
                multiline: names::PEM.contains(n),
                state,
            }
        })
        .collect();
    Ok(SettingsView {
        settings,
        secrets,
        demo,
        home: terminal.home.display().to_string(),
    })
}

/// Write settings to till.toml (validated first) and re-open the terminal.
#[tauri::command]
pub async fn manager_save_settings(
    app: AppHandle,
    terminal: State<'_, Shared>,
    changes: Vec<Change>,
) -> Result<Vec<String>, UiError> {
    let session = require(&terminal)?;
    let changed = settings::save(&terminal.home, &changes)?;
    if let Ok(e) = terminal.engine().await {
        let _ = e.audit(
            session.actor(),
            "settings.save",
            None,
            Some(&changed.join(", ")),
        );
        // A payee setting (where customers' money goes) is audited with its
        // old and new value, as the manager's; the engine re-opened below
        // then finds nothing left to audit.
        if let Ok(saved) = till_core::Config::load(&terminal.home) {
            if let Err(err) = e.note_saved_payees(session.actor(), &saved) {
                tracing::error!(error = %err, "could not audit the payee settings");
            }
        }
    }
    if !changed.is_empty() {
        terminal.reload(&app).await;
    }
    Ok(changed)
}

/// Store a credential in the OS keyring (empty removes it). Never read back.
#[tauri::command]
pub async fn manager_set_secret(
    app: AppHandle,
    terminal: State<'_, Shared>,
    name: String,
    value: String,
) -> Result<(), UiError> {
    let session = require(&terminal)?;
    let Some(name) = names::ALL.iter().find(|n| **n == name) else {
        return Err(UiError::from(format!(
            "{name} is not a credential Till uses"
        )));
    };
    let store = keyring();
    let value = value.trim();
    if value.is_empty() {
        store.delete(name)?;
    } else {
        store.set(name, &Secret::new(value))?;
    }
    if let Ok(e) = terminal.engine().await {
        let action = if value.is_empty() {
            "secret.delete"
        } else {
            "secret.set"
        };
        let _ = e.audit(session.actor(), action, Some(name), None);
    }
    terminal.reload(&app).await;
    Ok(())
}

/// The Connect section's Test connection: one real, harmless call to a wallet or the hub
/// (see `till_core::connect`), answered as codes the window puts in words.
#[tauri::command]
pub async fn manager_test_connection(
    terminal: State<'_, Shared>,
    target: String,
) -> Result<ConnectionReport, UiError> {
    let session = require(&terminal)?;
    let target: ConnectTarget = target
        .parse()
        .map_err(|_| UiError::from(format!("{target} is not something Till connects to")))?;
    let engine = terminal.engine().await?;
    let report = engine.test_connection(target).await;
    let _ = engine.audit(
        session.actor(),
        "connect.test",
        Some(&report.target),
        Some(if report.ok { "ok" } else { "failed" }),
    );
    Ok(report)
}

/// Reprint a payment's receipt, marked COPY.
#[tauri::command]
pub async fn manager_print_receipt(
    terminal: State<'_, Shared>,
    id: String,
) -> Result<till_core::engine::PrintOutcome, CodedError> {
    let session = require(&terminal)?;
    let engine = terminal.engine().await?;
    let out = engine.print_receipt(&id, true).await;
    let _ = engine.audit(
        session.actor(),
        "receipt.reprint",
        Some(&id),
        Some(if out.is_ok() { "printed" } else { "failed" }),
    );
    Ok(out?)
}

/// Settings' Test print: a short page on the configured printer; a failure
/// comes back with its code (paper out, no answer at an address…).
#[tauri::command]
pub async fn manager_test_print(
    terminal: State<'_, Shared>,
) -> Result<till_core::engine::PrintOutcome, CodedError> {
    require(&terminal)?;
    Ok(terminal.engine().await?.test_print().await?)
}

#[tauri::command]
pub async fn manager_audit_log(
    terminal: State<'_, Shared>,
    limit: Option<u32>,
) -> Result<Vec<AuditEntry>, UiError> {
    require(&terminal)?;
    Ok(terminal.engine().await?.audit_log(limit.unwrap_or(200))?)
}

// ------------------------------------------------------------------ the day

fn parse_date(d: &str) -> Result<NaiveDate, UiError> {
    d.parse()
        .map_err(|_| UiError::from(format!("{d} is not a date (YYYY-MM-DD)")))
}

/// The day asked for, or today's business day.
fn parse_day(engine: &till_core::Engine, day: Option<String>) -> Result<NaiveDate, UiError> {
    match day.map(|d| d.trim().to_owned()).filter(|d| !d.is_empty()) {
        Some(d) => parse_date(&d),
        None => Ok(engine.today()),
    }
}

/// Today's (or a day's) numbers from the journal: totals, chart, refunds,
/// flagged and open payments, what has not reached the hub.
#[tauri::command]
pub async fn manager_today(
    terminal: State<'_, Shared>,
    day: Option<String>,
) -> Result<serde_json::Value, UiError> {
    require(&terminal)?;
    let engine = terminal.engine().await?;
    let day = parse_day(&engine, day)?;
    let mut today = serde_json::to_value(engine.day_summary(day)?)?;
    // A background task that panicked and was restarted goes first in "Needs attention".
    today["task_restarts"] = serde_json::to_value(engine.task_restarts())?;
    Ok(today)
}

/// The X-report: the day checked against the providers and the hub, not closed.
#[tauri::command]
pub async fn manager_x_report(
    terminal: State<'_, Shared>,
    day: Option<String>,
) -> Result<Report, UiError> {
    let session = require(&terminal)?;
    let engine = terminal.engine().await?;
    let day = parse_day(&engine, day)?;
    let report = engine.x_report(day).await?;
    let _ = engine.audit(
        session.actor(),
        "report.x",
        Some(&day.to_string()),
        Some(&format!(
            "{} disagreements",
            report.reconciliation.disagreements.len()
        )),
    );
    Ok(report)
}

/// Resolve one disagreement: `recheck`, `resync` or `acknowledge` (with a note).
#[tauri::command]
pub async fn manager_resolve(
    terminal: State<'_, Shared>,
    day: String,
    id: String,
    action: String,
    note: Option<String>,
) -> Result<ResolutionEntry, UiError> {
    let session = require(&terminal)?;
    let engine = terminal.engine().await?;
    let day = parse_day(&engine, Some(day))?;
    let resolution = match action.as_str() {
        "recheck" => Resolution::Recheck,
        "resync" => Resolution::Resync,
        "acknowledge" => Resolution::Acknowledge {
            note: note.unwrap_or_default(),
        },
        other => {
            return Err(UiError::from(format!(
                "{other} is not a way to resolve this"
            )))
        }
    };
    Ok(engine
        .resolve(day, &id, resolution, session.actor())
        .await?)
}

/// Close the day: the Z-report is stored for good and sent to the hub.
#[tauri::command]
pub async fn manager_close_day(
    terminal: State<'_, Shared>,
    day: String,
) -> Result<ZReport, UiError> {
    let session = require(&terminal)?;
    let engine = terminal.engine().await?;
    let day = parse_day(&engine, Some(day))?;
    Ok(engine.close_day(day, session.actor()).await?)
}

/// The stored Z-report of a closed day, if it is closed.
#[tauri::command]
pub async fn manager_z_report(
    terminal: State<'_, Shared>,
    day: Option<String>,
) -> Result<Option<ZReport>, UiError> {
    require(&terminal)?;
    let engine = terminal.engine().await?;
    let day = parse_day(&engine, day)?;
    Ok(engine.z_report(day)?)
}

/// Save the day's payments as CSV, or its report (Z if closed, else X) as
/// PDF, under `<home>/reports/`; returns the file's path.
#[tauri::command]
pub async fn manager_export(
    terminal: State<'_, Shared>,
    day: String,
    format: String,
) -> Result<String, UiError> {
    let session = require(&terminal)?;
    let engine = terminal.engine().await?;
    let day = parse_day(&engine, Some(day))?;
    let dir = terminal.home.join("reports");
    std::fs::create_dir_all(&dir)
        .map_err(|e| UiError::from(format!("Cannot create {}: {e}", dir.display())))?;
    let id = &engine.config().terminal.id;
    let path = match format.as_str() {
        "csv" => {
            let path = dir.join(format!("{id}-{day}-payments.csv"));
            engine.export_csv(day, &path)?;
            path
        }
        "pdf" => {
            let kind = if engine.z_report(day)?.is_some() {
                "z"
            } else {
                "x"
            };
            let path = dir.join(format!("{id}-{day}-{kind}-report.pdf"));
            engine.export_pdf(day, &path).await?;
            path
        }
        other => {
            return Err(UiError::from(format!(
                "{other} is not an export format (csv, pdf)"
            )))
        }
    };
    let shown = path.display().to_string();
    let _ = engine.audit(
        session.actor(),
        "report.export",
        Some(&day.to_string()),
        Some(&shown),
    );
    Ok(shown)
}
