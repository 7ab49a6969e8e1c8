//! How commands print: one line for people, or one JSON object per line.

use serde_json::{json, Value};
use till_core::Payment;

pub fn payment_json(p: &Payment) -> Value {
    json!({
        "id": p.id,
        "provider": p.provider,
        "amount": p.amount.wire(),
        "currency": p.amount.currency().code(),
        "state": p.state,
        "invoice": p.invoice,
        // By what each is for: lookup (bKash paymentID, the KHQR's MD5, …),
        // transaction (trxID, the Bakong hash, …), external (externalRef).
        "references": p.refs,
        "refunded": p.refunded.wire(),
        "flag": p.flag,
        "offline": p.offline,
        "failure_code": p.failure_code,
        "failure_reason": p.failure_reason,
        "business_day": p.business_day.to_string(),
        "created_at": p.created_at,
        "updated_at": p.updated_at,
        // The paired POS that asked for it (`till api`), with its order reference.
        "origin": p.origin,
    })
}

pub fn line(p: &Payment) -> String {
    let mut s = format!(
        "{}  {:<6} {:>14}  {:<18} {}",
        p.id,
        p.provider.as_str(),
        p.amount.display(),
        p.state.as_str(),
        p.invoice
    );
    if let Some(t) = p.refs.transaction.as_deref() {
        s.push_str("  ");
        s.push_str(t);
    }
    if let Some(o) = &p.origin {
        s.push_str(&format!("  from {} #{}", o.pos_name, o.reference));
    }
    if let Some(r) = &p.failure_reason {
        if !p.state.is_paid() {
            s.push_str("  — ");
            s.push_str(r);
        }
    }
    s
}

pub fn print_json(v: &Value) {
    println!("{v}");
}
