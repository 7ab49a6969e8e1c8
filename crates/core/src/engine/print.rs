//! Receipts: a [`till_receipt::Receipt`] made from a payment, printed on the
//! `[printer]`, and the outcome recorded in the journal's `prints`.
//!
//! A print never blocks or undoes a payment: it is made only from a payment
//! already final in the journal, outside that payment's transaction, on a
//! blocking thread of its own; its failure is a record and an error for the
//! caller, the payment's row is never touched.
//!
//! The fixed words (labels, "Paid", "Refunded", "COPY") are English for now:
//! the receipt crate takes any language, but the engine has no reader's
//! language to choose by yet.

use super::{Engine, EngineError};
use crate::config::{Config, PrinterTarget};
use crate::journal::prints::{PrintKind, PrintRecord};
use crate::payment::Payment;
use crate::reason::{Reason, ReasonCode};
use crate::state::PaymentState;
use till_receipt::{escpos, render, Document, Kind, Labels, PrintError, Printer, Receipt, Width};

/// Why a receipt did not print.
#[derive(Debug, thiserror::Error)]
pub enum PrintFailure {
    #[error("no printer is set up (printer.enabled)")]
    Off,
    #[error("a payment that is {0} has no receipt to print")]
    NotPaid(PaymentState),
    #[error(transparent)]
    Printer(#[from] PrintError),
    #[error("the print was interrupted: {0}")]
    Interrupted(String),
}

impl PrintFailure {
    /// The code the screens put in words (`r_<code>`).
    pub fn reason(&self) -> Reason {
        match self {
            PrintFailure::Off => Reason::new(ReasonCode::PrinterOff),
            PrintFailure::NotPaid(s) => {
                Reason::new(ReasonCode::NothingToPrint).with("state", s.as_str())
            }
            PrintFailure::Printer(PrintError::PaperOut) => Reason::new(ReasonCode::PrinterPaperOut),
            PrintFailure::Printer(PrintError::NoAnswer { addr, .. }) => {
                Reason::new(ReasonCode::PrinterNoAnswer).with("addr", addr)
            }
            PrintFailure::Printer(PrintError::Device { path, .. }) => {
                Reason::new(ReasonCode::PrinterDevice).with("path", path.display())
            }
            PrintFailure::Printer(PrintError::Io(_)) | PrintFailure::Interrupted(_) => {
                Reason::new(ReasonCode::PrinterIo)
            }
        }
    }
}

/// A receipt that printed: what it was.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PrintOutcome {
    pub kind: PrintKind,
    /// Bytes sent to the printer.
    pub bytes: usize,
}

fn english_labels() -> Labels {
    Labels {
        terminal: "Terminal".into(),
        wallet: "Wallet".into(),
        invoice: "Invoice".into(),
        copy: "COPY".into(),
    }
}

/// The receipt of `p` as this shop prints it. `wallet` and `reference_label`
/// are the provider's own names (its label and `Capabilities::references`).
pub fn receipt_of(
    p: &Payment,
    config: &Config,
    wallet: &str,
    reference_label: &str,
    copy: bool,
) -> Receipt {
    let refunded = matches!(
        p.state,
        PaymentState::Refunded | PaymentState::PartiallyRefunded
    );
    let tz = config.timezone().unwrap_or(chrono_tz::UTC);
    // The local-script name under the Latin one: Bangla for taka, Khmer for
    // the currencies a Cambodian shop takes; whichever is set otherwise.
    let shop = &config.shop;
    let local = match p.amount.currency() {
        crate::money::Currency::Bdt => shop.name_bn.clone().or_else(|| shop.name_km.clone()),
        _ => shop.name_km.clone().or_else(|| shop.name_bn.clone()),
    };
    let (amount, status) = match p.state {
        PaymentState::Refunded => (p.refunded.display(), "Refunded".to_owned()),
        PaymentState::PartiallyRefunded => (
            p.refunded.display(),
            format!("Refunded (of {})", p.amount.display()),
        ),
        _ => (p.amount.display(), "Paid".to_owned()),
    };
    Receipt {
        shop_name: shop.name.clone(),
        address_line: local.unwrap_or_default(),
        terminal: config.terminal.id.clone(),
        // When it was paid (or refunded): its last change, in the shop's zone.
        when: p
            .updated_at
            .with_timezone(&tz)
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        amount,
        wallet: wallet.to_owned(),
        reference_label: reference_label.to_owned(),
        reference: p
            .refs
            .transaction
            .clone()
            .or_else(|| p.refs.lookup.clone())
            .unwrap_or_default(),
        invoice: p.invoice.clone(),
        status,
        copy,
        kind: if refunded { Kind::Refund } else { Kind::Sale },
        labels: english_labels(),
    }
}

impl Engine {
    /// The receipt of payment `key` (a copy when `copy`), as it would print.
    pub fn receipt(&self, key: &str, copy: bool) -> Result<Receipt, EngineError> {
        let p = self.payment(key)?;
        if !p.state.is_paid() {
            return Err(PrintFailure::NotPaid(p.state).into());
        }
        let label = self
            .capabilities_of(p.provider)
            .map(|c| c.references.transaction)
            .unwrap_or("Reference");
        Ok(receipt_of(
            &p,
            &self.inner.config,
            self.label_of(p.provider),
            label,
            copy,
        ))
    }

    /// Prints payment `key`'s receipt (marked COPY when `copy`) and records
    /// how it went. A failure is recorded and returned; the payment stays as
    /// it is.
    pub async fn print_receipt(&self, key: &str, copy: bool) -> Result<PrintOutcome, EngineError> {
        let receipt = self.receipt(key, copy)?;
        let id = self.payment(key)?.id;
        let kind = match (copy, receipt.kind) {
            (true, _) => PrintKind::Copy,
            (false, Kind::Refund) => PrintKind::Refund,
            (false, Kind::Sale) => PrintKind::Sale,
        };
        let width = self.printer_width();
        let bytes = escpos::encode(&render(Document::Receipt(&receipt), width));
        self.send_and_record(Some(&id), kind, bytes).await
    }

    /// A short page with the shop's name, to check the printer from Settings.
    pub async fn test_print(&self) -> Result<PrintOutcome, EngineError> {
        let c = &self.inner.config;
        let report = till_receipt::Report {
            title: "Test print".into(),
            heading: [
                Some(c.shop.name.clone()),
                c.shop.name_bn.clone(),
                c.shop.name_km.clone(),
            ]
            .into_iter()
            .flatten()
            .collect(),
            lines: vec![
                till_receipt::ReportLine::new("Terminal", c.terminal.id.clone()),
                till_receipt::ReportLine::new("Paper", format!("{} mm", c.printer.width_mm)),
                till_receipt::ReportLine::new(
                    "Time",
                    self.now()
                        .with_timezone(&c.timezone().unwrap_or(chrono_tz::UTC))
                        .format("%Y-%m-%d %H:%M")
                        .to_string(),
                ),
            ],
        };
        let bytes = escpos::encode(&render(Document::Report(&report), self.printer_width()));
        self.send_and_record(None, PrintKind::Report, bytes).await
    }

    /// Every print of a payment, oldest first.
    pub fn prints_of(&self, id: &str) -> Result<Vec<PrintRecord>, EngineError> {
        Ok(self.with_journal(|j| j.prints_of(id))?)
    }

    /// The latest print of a payment (None: never asked for).
    pub fn last_print(&self, id: &str) -> Result<Option<PrintRecord>, EngineError> {
        Ok(self.with_journal(|j| j.last_print(id))?)
    }

    /// Whether a payment's receipt has printed once (the next one is a copy).
    pub fn ever_printed(&self, id: &str) -> Result<bool, EngineError> {
        Ok(self.with_journal(|j| j.ever_printed(id))?)
    }

    fn printer_width(&self) -> Width {
        match self.inner.config.printer.width_mm {
            58 => Width::Mm58,
            _ => Width::Mm80,
        }
    }

    fn printer(&self) -> Result<Printer, PrintFailure> {
        let c = &self.inner.config.printer;
        if !c.enabled {
            return Err(PrintFailure::Off);
        }
        // The configuration was validated when loaded: a bad target here is "off".
        Ok(match c.parse_target().map_err(|_| PrintFailure::Off)? {
            PrinterTarget::Network(addr) => Printer::network(addr),
            PrinterTarget::Device(path) => Printer::device(path),
        })
    }

    async fn send_and_record(
        &self,
        payment_id: Option<&str>,
        kind: PrintKind,
        bytes: Vec<u8>,
    ) -> Result<PrintOutcome, EngineError> {
        let printer = self.printer()?;
        let len = bytes.len();
        // Blocking socket or device I/O with timeouts of seconds: off the
        // async threads, so a dead printer slows nothing else.
        let sent = tokio::task::spawn_blocking(move || printer.print(&bytes))
            .await
            .map_err(|e| PrintFailure::Interrupted(e.to_string()))
            .and_then(|r| r.map_err(PrintFailure::from));
        let failure = sent.as_ref().err().map(PrintFailure::reason);
        let now = self.now();
        // Its own small write, after the payment's transaction long committed.
        self.with_journal(|j| j.record_print(payment_id, kind, failure.as_ref(), now))?;
        match sent {
            Ok(()) => {
                tracing::info!(payment = ?payment_id, kind = kind.as_str(), bytes = len, "receipt printed");
                if let Some(id) = payment_id {
                    self.emit_print_change(id);
                }
                Ok(PrintOutcome { kind, bytes: len })
            }
            Err(e) => {
                tracing::warn!(payment = ?payment_id, kind = kind.as_str(), error = %e, "receipt not printed");
                if let Some(id) = payment_id {
                    self.emit_print_change(id);
                }
                Err(e.into())
            }
        }
    }

    /// Tells the windows the payment's print state changed (same event as a
    /// payment change: they read the payment again).
    fn emit_print_change(&self, id: &str) {
        if let Ok(p) = self.payment(id) {
            let _ = self.inner.events.send(super::EngineEvent::Payment {
                payment: Box::new(p),
            });
        }
    }

    /// Starts the sale receipt of a payment that just settled, when
    /// `[printer] auto_print` is on: once per payment (an earlier print of it,
    /// even by another engine, counts), on its own task, never awaited.
    pub(crate) fn auto_print(&self, id: &str) {
        let c = &self.inner.config.printer;
        if !(c.enabled && c.auto_print) {
            return;
        }
        match self.inner.auto_printed.lock() {
            Ok(mut started) => {
                if !started.insert(id.to_owned()) {
                    return;
                }
            }
            Err(_) => return,
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let engine = self.clone();
        let id = id.to_owned();
        rt.spawn(async move {
            match engine.with_journal(|j| j.prints_of(&id)) {
                Ok(prints) if !prints.is_empty() => return,
                Err(e) => {
                    tracing::warn!(payment = %id, error = %e, "no automatic receipt");
                    return;
                }
                Ok(_) => {}
            }
            // The failure is recorded and logged inside; nothing more to do.
            let _ = engine.print_receipt(&id, false).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::{Amount, Currency};
    use crate::payment::{ProviderKind, ProviderRefs};
    use chrono::{TimeZone, Utc};

    fn payment(state: PaymentState) -> Payment {
        let at = Utc.with_ymd_and_hms(2026, 12, 3, 7, 5, 0).unwrap();
        Payment {
            id: "p1".into(),
            provider: ProviderKind::Demo,
            amount: Amount::parse("1250.50", Currency::Bdt).unwrap(),
            state,
            invoice: "till-01-000042".into(),
            refs: ProviderRefs {
                lookup: Some("L1".into()),
                transaction: Some("TRX9".into()),
                external: None,
            },
            customer_code: None,
            customer_page: None,
            callback_url: None,
            expires_at: None,
            completion_sent_at: None,
            offline: false,
            refunded: if state == PaymentState::Refunded {
                Amount::parse("1250.50", Currency::Bdt).unwrap()
            } else {
                Amount::zero(Currency::Bdt)
            },
            flag: None,
            failure_code: None,
            failure_reason: None,
            failure: None,
            operator: "c".into(),
            business_day: at.date_naive(),
            created_at: at,
            updated_at: at,
            payee: None,
            origin: None,
        }
    }

    #[test]
    fn a_receipt_carries_the_shop_the_local_time_and_the_transaction_reference() {
        let c = Config::defaults();
        let r = receipt_of(&payment(PaymentState::Settled), &c, "Demo", "Ref", false);
        assert_eq!(r.shop_name, "Till Demo Shop");
        // Taka: the Bangla name under it.
        assert_eq!(r.address_line, "টিল ডেমো দোকান");
        // 07:05 UTC is 13:05 in Dhaka.
        assert_eq!(r.when, "2026-12-03 13:05");
        assert_eq!(r.amount, "৳ 1,250.50");
        assert_eq!(r.reference, "TRX9");
        assert_eq!(r.invoice, "till-01-000042");
        assert_eq!(
            (r.status.as_str(), r.kind, r.copy),
            ("Paid", Kind::Sale, false)
        );
        let r = receipt_of(&payment(PaymentState::Refunded), &c, "Demo", "Ref", true);
        assert_eq!(
            (r.status.as_str(), r.kind, r.copy),
            ("Refunded", Kind::Refund, true)
        );
    }

    #[test]
    fn printer_errors_become_codes_with_their_parameters() {
        let e = PrintFailure::Printer(PrintError::NoAnswer {
            addr: "127.0.0.1:9".parse().unwrap(),
            source: std::io::ErrorKind::ConnectionRefused.into(),
        });
        let r = e.reason();
        assert_eq!(r.code, ReasonCode::PrinterNoAnswer);
        assert_eq!(r.params["addr"], "127.0.0.1:9");
        assert_eq!(
            PrintFailure::Printer(PrintError::PaperOut)
                .reason()
                .code
                .as_str(),
            "printer_paper_out"
        );
        let err: EngineError = PrintFailure::Off.into();
        assert_eq!(err.reason().unwrap().code, ReasonCode::PrinterOff);
    }
}
