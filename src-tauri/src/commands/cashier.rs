//! The cashier window's commands: charge, cancel, recent payments, open the
//! manager area, and (demo only) play the customer's bank app.

use crate::display::{self, DisplayState};
use crate::terminal::{CodedError, Shared, UiError};
use crate::views::PaymentView;
use serde::Serialize;
use tauri::{AppHandle, State};
use till_core::{Amount, Currency, CustomerStep, ListFilter, ProviderKind};

#[derive(Debug, Serialize)]
pub struct Charged {
    pub payment: PaymentView,
    /// `code` (shown on the customer display), `checkout` (the wallet's page over it) or `wait` (demo).
    pub step: &'static str,
    /// What the provider will be asked about the code shown (the KHQR's MD5).
    pub code_reference: Option<String>,
}

/// Take a payment: the amount as keyed ("1250.5"), the currency, the wallet. An engine
/// refusal with a code (a full disk) reaches the window with it, to be told in the
/// cashier's language.
#[tauri::command]
pub async fn charge(
    app: AppHandle,
    terminal: State<'_, Shared>,
    provider: String,
    amount: String,
    currency: String,
) -> Result<Charged, CodedError> {
    let engine = terminal.engine().await?;
    let provider: ProviderKind = provider.parse()?;
    let currency: Currency = currency.parse()?;
    if amount.trim().is_empty() {
        return Err(UiError::from("Enter an amount first.").into());
    }
    let amount = Amount::parse(&amount, currency)?;
    if let Some(open) = terminal.displayed_payment() {
        if let Ok(p) = engine.payment(&open) {
            if p.state.is_open() {
                return Err(UiError {
                    message: format!(
                        "The customer display is still busy with {} — finish or cancel it first.",
                        p.amount.display()
                    ),
                }
                .into());
            }
        }
    }
    let charge = engine.charge(provider, amount, "cashier").await?;
    let payment = charge.payment;
    let (step, code_reference) = match &charge.step {
        CustomerStep::Code { reference, .. } => ("code", Some(reference.clone())),
        CustomerStep::Redirect { .. } => ("checkout", None),
        CustomerStep::Wait => ("wait", None),
    };
    terminal.set_display(&app, display::waiting(&payment, &engine)?);
    if let CustomerStep::Redirect { redirect_url, .. } = &charge.step {
        if let Err(message) = crate::checkout::open(&app, engine.clone(), provider, redirect_url) {
            // Nothing can be paid on a page nobody sees: give the payment up.
            let _ = engine.cancel(&payment.id, "till").await;
            terminal.set_display(&app, DisplayState::Idle);
            return Err(UiError { message }.into());
        }
    }
    // It may have ended before the display was set (its event found nothing to update).
    if let Ok(now) = engine.payment(&payment.id) {
        crate::events::on_payment(&app, &terminal, &engine, &now);
    }
    tracing::info!(payment = %payment.id, provider = %provider, amount = %payment.amount.display(), "charge started from the cashier window");
    Ok(Charged {
        payment: PaymentView::of(&payment, &engine),
        step,
        code_reference,
    })
}

/// Esc: cancel the payment on the customer display (or just clear it).
#[tauri::command]
pub async fn cancel(
    app: AppHandle,
    terminal: State<'_, Shared>,
    id: Option<String>,
) -> Result<Option<PaymentView>, CodedError> {
    let engine = terminal.engine().await?;
    let Some(id) = id.or_else(|| terminal.displayed_payment()) else {
        terminal.set_display(&app, DisplayState::Idle);
        return Ok(None);
    };
    let p = engine.payment(&id)?;
    if !p.state.is_open() {
        terminal.clear_display_of(&app, &id);
        crate::checkout::close(&app);
        return Ok(Some(PaymentView::of(&p, &engine)));
    }
    let cancelled = engine.cancel(&id, "cashier").await?;
    crate::checkout::close(&app);
    Ok(Some(PaymentView::of(&cancelled, &engine)))
}

/// Recent payments, newest first; `search` matches invoice, trxID, MD5, hash, id.
#[tauri::command]
pub async fn recent(
    terminal: State<'_, Shared>,
    search: Option<String>,
    limit: Option<u32>,
) -> Result<Vec<PaymentView>, UiError> {
    let engine = terminal.engine().await?;
    let search = search
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    let list = engine.list(&ListFilter {
        search,
        page: 1,
        page_size: limit.unwrap_or(20).clamp(1, 200),
        ..ListFilter::default()
    })?;
    Ok(list.iter().map(|p| PaymentView::of(p, &engine)).collect())
}

/// One payment, fresh from the journal.
#[tauri::command]
pub async fn payment(terminal: State<'_, Shared>, id: String) -> Result<PaymentView, UiError> {
    let engine = terminal.engine().await?;
    Ok(PaymentView::of(&engine.payment(&id)?, &engine))
}

/// Print a paid payment's receipt; once one has printed, the next is a COPY.
/// A failure comes back with its code; the payment is untouched either way.
#[tauri::command]
pub async fn print_receipt(
    terminal: State<'_, Shared>,
    id: String,
) -> Result<till_core::engine::PrintOutcome, CodedError> {
    let engine = terminal.engine().await?;
    let copy = engine.ever_printed(&engine.payment(&id)?.id)?;
    Ok(engine.print_receipt(&id, copy).await?)
}

/// Demo mode: the customer's bank app pays the KHQR on the display.
#[tauri::command]
pub async fn demo_pay(terminal: State<'_, Shared>, id: String) -> Result<(), UiError> {
    let engine = terminal.engine().await?;
    let p = engine.payment(&id)?;
    let qr = p
        .customer_code
        .ok_or_else(|| UiError::from("This payment has no QR code to pay."))?;
    terminal.demo_pay_khqr(&qr).await
}

/// Open (or bring forward) the manager window.
#[tauri::command]
pub async fn open_manager(app: AppHandle) {
    crate::windows::open_manager(&app);
}

/// Close the till at a kiosk: the manager's PIN, then the app exits with status 0, which
/// `till kiosk run` takes for "closed on purpose" (it restarts the app after any other
/// end). Each try is in the audit log. Off a kiosk the window closes without asking, and
/// this command is not called.
#[tauri::command]
pub async fn close_till(
    app: AppHandle,
    terminal: State<'_, Shared>,
    pin: String,
) -> Result<(), crate::commands::manager::PinUiError> {
    let result = terminal.pin.authenticate(&pin);
    if let Ok(engine) = terminal.engine().await {
        let (actor, action) = match &result {
            Ok(session) => (session.actor(), "kiosk.close"),
            Err(_) => ("manager", "kiosk.close.refused"),
        };
        let _ = engine.audit(actor, action, None, None);
    }
    result?;
    tracing::info!("closed by the manager at the kiosk");
    app.exit(0);
    Ok(())
}
