//! Business-day reports: what a day holds (the summary), the three-way
//! reconciliation against the providers and the hub, resolutions, the day
//! close (Z-report) and the exports. The engine side (the methods the app
//! and `till report` call) is `crate::engine::report`.
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`summary`] | [`DaySummary`]: the local journal's numbers for a day (cheap, no network) |
//! | [`reconcile`] | [`Reconciliation`], [`Disagreement`]: journal vs provider vs hub |
//! | [`close`] | [`Report`] (X), [`ZReport`], [`Resolution`], the `day.closed` body |
//! | [`csv`] | the day's payments as CSV |
//! | [`pdf`] | a report as PDF |
//!
//! Every type here goes to the UI as JSON: amounts are [`Money`] (an exact
//! decimal string and a display string), never numbers.

pub mod close;
pub mod csv;
pub mod fonts;
pub mod pdf;
pub mod reconcile;
pub mod summary;

pub use close::{Report, ReportKind, Resolution, ResolutionEntry, ZReport};
pub use reconcile::{Disagreement, DisagreementKind, Reconciliation};
pub use summary::DaySummary;

use crate::money::{Amount, Currency};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// An amount for people and for machines: `amount` is the exact decimal at
/// the currency's exponent ("1250.00"), `display` what a receipt shows ("৳ 1,250.00").
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Money {
    pub amount: String,
    pub currency: Currency,
    pub display: String,
}

impl Money {
    pub fn zero(currency: Currency) -> Money {
        Amount::zero(currency).into()
    }

    /// An exact value (rescaled to the currency's exponent; may be negative).
    pub fn of(value: Decimal, currency: Currency) -> Money {
        let mut v = value;
        v.rescale(currency.exponent());
        Amount::from_stored(&v.to_string(), currency)
            .map(Money::from)
            .unwrap_or_else(|_| Money {
                amount: v.to_string(),
                currency,
                display: format!("{} {v}", currency.symbol()),
            })
    }

    /// The exact value.
    pub fn value(&self) -> Decimal {
        self.amount.parse().unwrap_or_default()
    }
}

impl From<Amount> for Money {
    fn from(a: Amount) -> Money {
        Money {
            amount: a.wire(),
            currency: a.currency(),
            display: a.display(),
        }
    }
}

/// Why a report cannot be produced or exported.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot write {path}: {message}")]
    Write { path: String, message: String },
    #[error("cannot make the PDF: {0}")]
    Pdf(String),
    #[error("cannot write the CSV: {0}")]
    Csv(String),
}
