//! The day's payments as CSV (RFC 4180, UTF-8, one header row), for a
//! spreadsheet or an accountant. Amounts are exact decimal strings at the
//! currency's exponent; times are UTC (RFC 3339) and local ("YYYY-MM-DD HH:MM:SS").

use super::ReportError;
use crate::journal::days::DayPayment;
use chrono_tz::Tz;
use std::io::Write;

/// The header row, in order.
pub const COLUMNS: [&str; 19] = [
    "id",
    "invoice",
    "provider",
    "state",
    "amount",
    "currency",
    "refunded",
    "business_day",
    "booked_day",
    "created_at_utc",
    "created_at_local",
    "operator",
    // The provider's references by what they are for (bKash paymentID /
    // trxID; the KHQR's MD5 / the Bakong hash / externalRef; …).
    "provider_ref",
    "transaction_ref",
    "external_ref",
    "flag",
    "failure_reason",
    "offline",
    "payee",
];

/// Writes one row per payment (after the header). Returns the number of rows.
pub fn write_payments<W: Write>(
    w: W,
    payments: &[DayPayment],
    tz: Tz,
) -> Result<usize, ReportError> {
    let err = |e: csv::Error| ReportError::Csv(e.to_string());
    let mut out = csv::Writer::from_writer(w);
    out.write_record(COLUMNS).map_err(err)?;
    for d in payments {
        let p = &d.payment;
        let opt = |s: &Option<String>| s.clone().unwrap_or_default();
        out.write_record([
            p.id.clone(),
            p.invoice.clone(),
            p.provider.as_str().to_owned(),
            p.state.as_str().to_owned(),
            p.amount.wire(),
            p.amount.currency().code().to_owned(),
            p.refunded.wire(),
            p.business_day.to_string(),
            d.booked_day.map(|b| b.to_string()).unwrap_or_default(),
            p.created_at
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            p.created_at
                .with_timezone(&tz)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string(),
            p.operator.clone(),
            opt(&p.refs.lookup),
            opt(&p.refs.transaction),
            opt(&p.refs.external),
            opt(&p.flag),
            opt(&p.failure_reason),
            if p.offline { "1" } else { "0" }.to_owned(),
            // Empty: unknown (recorded before Till kept the payee).
            opt(&p.payee),
        ])
        .map_err(err)?;
    }
    out.flush().map_err(|e| ReportError::Csv(e.to_string()))?;
    Ok(payments.len())
}
