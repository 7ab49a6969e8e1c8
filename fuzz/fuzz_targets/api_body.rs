//! The local terminal API's request bodies (`till_terminal_api::body`): what
//! a shop's POS sends to `POST /v1/charges` and `…/refund-requests`, read
//! field by field. Input: the body's bytes.
//!
//! Invariants: never panics; an amount that is read is more than zero, at
//! most its currency's decimals, and exactly the decimal the POS wrote (its
//! text, a JSON string or number, never rounded through a float); every
//! refusal is a code of the one error shape with a 4xx status.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::str::FromStr;
use till_core::Currency;
use till_terminal_api::body::Fields;

fn refused(e: till_terminal_api::ApiError) {
    assert!(e.status.is_client_error(), "{:?} is not a 4xx", e.status);
    assert!(e.body()["error"]["code"].is_string());
}

fuzz_target!(|data: &[u8]| {
    let fields = match Fields::read(data, &["amount", "currency", "wallet", "reference"], false) {
        Ok(f) => f,
        Err(e) => return refused(e),
    };
    for currency in Currency::ALL {
        match fields.amount("amount", currency) {
            Ok(Some(a)) => {
                assert!(a.value() > Decimal::ZERO);
                assert!(a.value().normalize().scale() <= currency.exponent());
                // What the POS wrote, as a decimal: the same value exactly.
                let raw: BTreeMap<String, Box<serde_json::value::RawValue>> =
                    serde_json::from_slice(data).expect("read once already");
                let text = raw["amount"].get();
                let text = serde_json::from_str::<String>(text).unwrap_or_else(|_| text.to_owned());
                let plain: String = text.trim().chars().filter(|c| !matches!(c, ',' | ' ')).collect();
                if let Ok(written) = Decimal::from_str(&plain) {
                    assert_eq!(a.value().normalize(), written.normalize(), "{text:?} read as {a:?}");
                }
            }
            Ok(None) => {}
            Err(e) => refused(e),
        }
    }
    for name in ["currency", "wallet", "reference"] {
        if let Err(e) = fields.text(name) {
            refused(e);
        }
    }
});
