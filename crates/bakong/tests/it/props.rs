//! Property tests of the parsers that read Bakong's answers: amounts are
//! exact for any decimal Bakong could write, and no input makes them panic.

use proptest::prelude::*;
use rust_decimal::Decimal;
use till_bakong::status::{map_bulk, map_single, BulkOutcome};
use till_bakong::wire::Envelope;
use till_bakong::CheckOutcome;

fn envelope_with_amount(amount: &str) -> String {
    format!(
        r#"{{"responseCode":0,"errorCode":null,"data":{{"hash":"h","fromAccountId":"a@b","toAccountId":"c@d","currency":"USD","amount":{amount},"createdDateMs":1735689660123.0}}}}"#
    )
}

proptest! {
    #[test]
    fn any_decimal_amount_is_read_exactly(mantissa in 0i64..=i64::MAX, scale in 0u32..=10, float_style in any::<bool>()) {
        let d = Decimal::new(mantissa, scale);
        let mut text = d.to_string();
        if float_style && !text.contains('.') {
            text.push_str(".0");
        }
        let env: Envelope = serde_json::from_str(&envelope_with_amount(&text)).unwrap();
        match map_single(&env).unwrap() {
            CheckOutcome::Paid(t) => prop_assert_eq!(t.amount, d),
            other => prop_assert!(false, "{:?}", other),
        }
    }

    #[test]
    fn arbitrary_json_never_panics(body in "\\PC{0,200}") {
        if let Ok(env) = serde_json::from_str::<Envelope>(&body) {
            let _ = map_single(&env);
            let _ = map_bulk(&env, &["a".repeat(32)]);
        }
    }

    #[test]
    fn mangled_answers_never_panic(cut in 0usize..400, insert in "[\\[\\]{}\",:0-9a-zA-Z.-]{0,8}") {
        let good = format!(
            r#"{{"responseCode":0,"errorCode":null,"data":[{{"md5":"{m}","status":"SUCCESS","data":{{"hash":"h","fromAccountId":"a@b","toAccountId":"c@d","currency":"KHR","amount":40000.0}}}}]}}"#,
            m = "a".repeat(32)
        );
        let at = cut.min(good.len());
        let mangled = format!("{}{}{}", &good[..at], insert, &good[at..]);
        if let Ok(env) = serde_json::from_str::<Envelope>(&mangled) {
            if let Ok(out) = map_bulk(&env, &["a".repeat(32)]) {
                prop_assert_eq!(out.len(), 1);
                // A mangled SUCCESS is asked again or read, never taken as unpaid.
                let md5 = format!(r#""md5":"{}""#, "a".repeat(32));
                if mangled.contains(r#""status":"SUCCESS""#) && mangled.contains(&md5) {
                    prop_assert!(!matches!(out[0].1, BulkOutcome::Known(CheckOutcome::NotFound)), "{:?}", out[0].1);
                }
            }
        }
    }
}
